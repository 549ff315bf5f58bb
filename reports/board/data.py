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
    "baseline_cashflows",
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


class NotARunFolder(ValueError):
    """The folder given is not the output of ``realloc plan`` (no summary.json)."""


@dataclass
class Run:
    """The files of one run folder, parsed (tables missing from the folder are empty).

    ``tables`` is what the page shows: with several scenarios, only the first scenario's rows,
    without the ``scenario`` column. ``all_tables`` is every row as written (the workbook's
    sheets, so their totals equal the CSVs').
    """

    path: Path
    summary: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    all_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    scenarios: list[str] = field(default_factory=list)

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
        raise NotARunFolder(f"{summary_path} not found: is {run_dir} a `realloc plan` folder?")
    run = Run(run_dir, json.loads(summary_path.read_text(encoding="utf-8")))
    facts_path = run_dir / "run.json"  # volatile facts (timings, versions, time) live apart
    if facts_path.is_file():
        facts = json.loads(facts_path.read_text(encoding="utf-8"))
        run.summary.setdefault("seconds", facts.get("seconds") or {})
        run.summary.setdefault("created_utc", facts.get("created_utc"))
        solver = run.summary.setdefault("solver", {})
        solver.setdefault("version", (facts.get("solver") or {}).get("version"))
    for name in RUN_TABLES:
        path = run_dir / f"{name}.csv"
        if path.is_file():
            frame = _read_csv(path)
            run.all_tables[name] = frame
            run.tables[name] = _first_scenario(frame, run)
    if len(run.scenarios) > 1:
        run.notes.append(
            f"This plan covers {len(run.scenarios)} scenarios; charts and monthly tables show "
            f"the first, {run.scenarios[0]!r}. Values in the summary are summary.json's, for "
            "the plan as a whole; the workbook has every scenario's rows."
        )
    return run


def _first_scenario(frame: pd.DataFrame, run: Run) -> pd.DataFrame:
    """The rows of the run's first scenario, without the ``scenario`` column."""
    if "scenario" not in frame.columns or frame.empty:
        return frame
    names = list(dict.fromkeys(frame["scenario"]))
    if len(names) > len(run.scenarios):
        run.scenarios = names
    first = run.scenarios[0] if run.scenarios[0] in names else names[0]
    return frame[frame["scenario"] == first].drop(columns="scenario").reset_index(drop=True)
