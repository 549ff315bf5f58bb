"""Read a run folder (the files ``realloc plan --out DIR`` writes) into a :class:`Run`.

Those files are the contract (README "Outputs"), so nothing here imports the optimizer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

RUN_TABLES = (
    "plan",
    "treasury",
    "conversions",
    "contracts",
    "rig_sales",
    "cashflows",
    "shadow_prices",
    "verification",
    "funding_gap",
)
"""The CSV files of a run folder the report reads (all optional: failed runs have none)."""

TEXT_COLUMNS = {
    "scenario",
    "month",
    "site",
    "use",
    "detail",
    "contract",
    "start_month",
    "end_month",
    "ready_month",
    "first_month_in_horizon",
    "fleet_group",
    "family",
    "meaning",
    "unit",
    "where",
}
"""Columns read as text whatever they hold (a site called ``NA`` or ``1`` stays a name)."""

BOOL_COLUMNS = {"signed", "ok"}

# --------------------------------------------------------------------------- reading a run


@dataclass
class Run:
    """The files of one run folder, parsed (tables missing from the folder are empty)."""

    path: Path
    summary: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def table(self, name: str) -> pd.DataFrame:
        return self.tables.get(name, pd.DataFrame())

    @property
    def status(self) -> str:
        return str(self.summary.get("status", "unknown"))

    @property
    def name(self) -> str:
        return str(self.summary.get("portfolio", self.path.name))


def _read_csv(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in frame.columns:
        if col in TEXT_COLUMNS:
            continue
        if col in BOOL_COLUMNS:
            frame[col] = frame[col].str.strip().str.lower().isin({"true", "1", "1.0"})
            continue
        numbers = pd.to_numeric(frame[col].replace("", np.nan), errors="coerce")
        if numbers.notna().sum() == (frame[col] != "").sum():
            frame[col] = numbers
    return frame


def load_run(run_dir: Path | str) -> Run:
    """Read ``summary.json`` and the CSV tables of a run folder."""
    run_dir = Path(run_dir)
    summary_path = run_dir / "summary.json"
    if not summary_path.is_file():
        raise FileNotFoundError(f"{summary_path} not found: is {run_dir} a `realloc plan` folder?")
    run = Run(run_dir, json.loads(summary_path.read_text(encoding="utf-8")))
    for name in RUN_TABLES:
        path = run_dir / f"{name}.csv"
        if path.is_file():
            run.tables[name] = _read_csv(path)
    for name in ("plan", "treasury", "funding_gap", "cashflows"):
        frame = run.tables.get(name)
        if frame is not None and "scenario" in frame.columns and frame["scenario"].nunique() > 1:
            first = frame["scenario"].iloc[0]
            run.tables[name] = frame[frame["scenario"] == first].reset_index(drop=True)
            note = f"Charts show scenario {first!r}, the first of {frame['scenario'].nunique()}."
            if note not in run.notes:
                run.notes.append(note)
    return run
