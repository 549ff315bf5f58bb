"""Read a run folder (the files ``realloc plan --out DIR`` writes) into a :class:`Run`.

Those files are the contract (README "Outputs"), so nothing here runs the optimizer: the one
piece of it read is optimizer/statistics.py, where "expected over the market paths" is defined.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from realloc.inputs.files import cut
from realloc.optimizer.statistics import expected_over_paths, path_probabilities
from realloc.reports.safe_text import read_csv_text

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
    "funding",
)
"""The CSV files of a run folder the report reads (all optional: failed runs have none;
funding.csv only plans whose portfolio offers financing)."""

STOCHASTIC_TABLES = ("scenario_values", "frontier")
"""A stochastic plan's extra tables, read whole: value per market path, the efficient frontier."""

SWEEP_MARKERS = ("variants.parquet", "scenarios.parquet", "sweep.json")
"""Files that mark a ``realloc sweep`` results folder (reports/sweep_store.py; scenarios.parquet
is what stores written before the variant rename hold)."""

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
    "kind",
    "fleet_group",
    "family",
    "meaning",
    "unit",
    "where",
    "source",
}
"""Columns read as text whatever they hold (a site called ``NA`` or ``1`` stays a name)."""

BOOL_COLUMNS = {"signed", "ok"}

UNDATED = dt.datetime(1980, 1, 1)
"""The date the report's files carry when the run folder does not say when the plan was made
(the earliest a zip entry can hold): a fixed date, never the clock, so rebuilding a report
gives the same bytes."""


class NotARunFolder(ValueError):
    """The folder given is not the output of ``realloc plan`` (no summary.json)."""


class SweepFolder(NotARunFolder):
    """The folder given holds a sweep's results: ``realloc compare`` reports on those.

    The board report covers one plan; a sweep's variant table and its tornado and heatmap
    charts come from ``realloc compare`` (reports/compare.py), so the report points there
    rather than building a second, differently drawn comparison.
    """

    def __init__(self, folder: Path) -> None:
        super().__init__(
            f"{folder} holds a sweep's results (variants.parquet), not one plan: the board "
            f"report covers one plan. Run `realloc compare {folder}` for the sweep's variant "
            "table and its tornado and heatmap charts, or `realloc plan PORTFOLIO --report` "
            "for the board report of one variant"
        )


@dataclass
class Run:
    """The files of one run folder, parsed (tables missing from the folder are empty).

    ``tables`` is what the page shows, one row per month (and site, use, ...): for a stochastic
    plan (``scenario_values.csv`` gives each market path's probability) the probability-weighted
    expected value over the paths, like summary.json's totals; with several scenarios and no
    probabilities, the first scenario's rows. Either way without the ``scenario`` column.
    ``all_tables`` is every row as written (the workbook's sheets, so their totals equal the
    CSVs'; the treasury fan chart). ``inputs`` is inputs.json (None for older run folders).
    """

    path: Path
    summary: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    all_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    scenarios: list[str] = field(default_factory=list)
    probabilities: dict[str, float] = field(default_factory=dict)
    inputs: dict | None = None
    evaluation: dict | None = None
    """evaluation.json of ``realloc report --evaluation`` (reports/board/evaluation_section.py)."""
    evaluation_png: bytes | None = None

    def table(self, name: str) -> pd.DataFrame:
        return self.tables.get(name, pd.DataFrame())

    @property
    def status(self) -> str:
        return str(self.summary.get("status", "unknown"))

    @property
    def name(self) -> str:
        return str(self.summary.get("portfolio", self.path.name))

    @property
    def created(self) -> dt.datetime | None:
        """When the plan was made (run.json's ``created_utc``, naive UTC), or None when the
        folder does not say. The report states this time and stamps its files with it, never
        the time it was built: the same plan folder gives byte-identical reports."""
        text = self.summary.get("created_utc")
        try:
            return dt.datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            return None

    @property
    def stochastic(self) -> dict | None:
        """summary.json's ``stochastic`` block (value distribution, VSS, EVPI, frontier), or
        None for a single-market plan."""
        block = self.summary.get("stochastic")
        return block if isinstance(block, dict) else None

    @property
    def expected(self) -> bool:
        """Whether the page's monthly tables are expected values over market paths."""
        return bool(self.probabilities)


def _read_csv(path: Path) -> pd.DataFrame:
    """A table of the run folder: names as the user wrote them (the quote realloc puts in front
    of formula-like text, reports/safe_text.py, removed), numbers and booleans typed."""
    frame = read_csv_text(path)
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


def _table(path: Path) -> pd.DataFrame:
    """:func:`_read_csv`, or :class:`NotARunFolder` when the file no longer parses."""
    try:
        return _read_csv(path)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise NotARunFolder(_changed(path, f"{type(e).__name__}: {cut(e, 80)}")) from None


def _regular(path: Path) -> bool:
    """A regular file itself, not a symbolic link: a run folder holds only files realloc
    wrote, so a link (to /etc/passwd, /dev/zero) or a FIFO in it is never read."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _json_object(path: Path) -> dict:
    """A JSON object file of the run folder, or :class:`NotARunFolder` saying it was changed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as e:  # JSONDecodeError, UnicodeDecodeError
        raise NotARunFolder(_changed(path, f"{type(e).__name__}: {cut(e, 80)}")) from None
    if not isinstance(data, dict):
        raise NotARunFolder(_changed(path, f"holds a {type(data).__name__}, not an object"))
    return data


def _changed(path: Path, why: str) -> str:
    return f"{path} is not as `realloc plan` wrote it ({why}); rerun realloc plan for this folder"


def load_run(run_dir: Path | str) -> Run:
    """Read ``summary.json`` and the CSV tables of a run folder.

    A folder whose files were edited or replaced so that they no longer parse as realloc wrote
    them (a JSON list, binary, a CSV with an unterminated quote, a symlink) is
    :class:`NotARunFolder` (exit 2 naming the file), never an internal error.
    """
    run_dir = Path(run_dir)
    summary_path = run_dir / "summary.json"
    if not _regular(summary_path):
        if any((run_dir / marker).is_file() for marker in SWEEP_MARKERS):
            raise SweepFolder(run_dir)
        if summary_path.exists():
            raise NotARunFolder(_changed(summary_path, "not a regular file"))
        raise NotARunFolder(f"{summary_path} not found: is {run_dir} a `realloc plan` folder?")
    run = Run(run_dir, _json_object(summary_path))
    for key, kind in (("solver", dict), ("seconds", dict)):
        if not isinstance(run.summary.get(key, kind()), kind):
            raise NotARunFolder(_changed(summary_path, f"its {key} is not a {kind.__name__}"))
    facts_path = run_dir / "run.json"  # volatile facts (timings, versions, time) live apart
    if _regular(facts_path):
        facts = _json_object(facts_path)
        run.summary.setdefault("seconds", facts.get("seconds") or {})
        run.summary.setdefault("created_utc", facts.get("created_utc"))
        solver = run.summary.setdefault("solver", {})
        solver.setdefault("version", (facts.get("solver") or {}).get("version"))
    inputs_path = run_dir / "inputs.json"
    if _regular(inputs_path):
        run.inputs = _json_object(inputs_path)
    for name in STOCHASTIC_TABLES:
        path = run_dir / f"{name}.csv"
        if _regular(path):
            run.tables[name] = run.all_tables[name] = _table(path)
    run.probabilities = _path_probabilities(run.table("scenario_values"))
    for name in RUN_TABLES:
        path = run_dir / f"{name}.csv"
        if _regular(path):
            frame = _table(path)
            run.all_tables[name] = frame
            run.tables[name] = _page_rows(frame, run)
    if run.expected:
        n = len(run.probabilities)
        run.notes.append(
            f"Optimized over {n} market paths: values, charts and monthly tables are expected "
            "values over the paths, weighted by probability (the workbook has every path's rows)."
        )
    elif len(run.scenarios) > 1:
        run.notes.append(
            f"This plan covers {len(run.scenarios)} scenarios; charts and monthly tables show "
            f"the first, {run.scenarios[0]!r}. Values in the summary are summary.json's, for "
            "the plan as a whole; the workbook has every scenario's rows."
        )
    return run


def _path_probabilities(values: pd.DataFrame) -> dict[str, float]:
    """Each market path's probability from scenario_values.csv ({} when there is none, or when
    the file's probabilities are not numbers summing to 1)."""
    if values.empty or not {"scenario", "probability"} <= set(values.columns):
        return {}
    probs = pd.to_numeric(values["probability"], errors="coerce")
    if probs.isna().any() or abs(float(probs.sum()) - 1.0) > 1e-6:
        return {}
    return path_probabilities(values.assign(probability=probs))


def _page_rows(frame: pd.DataFrame, run: Run) -> pd.DataFrame:
    """The rows the page shows: expected values over the paths when their probabilities are
    known and match the table's scenarios, else the first scenario's rows."""
    if "scenario" not in frame.columns or frame.empty:
        return frame
    if run.probabilities and set(frame["scenario"]) == set(run.probabilities):
        return expected_over_paths(frame, run.probabilities)
    return _first_scenario(frame, run)


def _first_scenario(frame: pd.DataFrame, run: Run) -> pd.DataFrame:
    """The rows of the run's first scenario, without the ``scenario`` column."""
    if "scenario" not in frame.columns or frame.empty:
        return frame
    names = list(dict.fromkeys(frame["scenario"]))
    if len(names) > len(run.scenarios):
        run.scenarios = names
    first = run.scenarios[0] if run.scenarios[0] in names else names[0]
    return frame[frame["scenario"] == first].drop(columns="scenario").reset_index(drop=True)
