"""Which decisions are made once for every market path (the *first stage*) and where a plan
folder writes them: the one declared list the stochastic model, its EEV and ``realloc
evaluate`` read.

A first-stage family names the model columns it holds and, when the decision is written to a
plan table, how to read the columns' values back from that table (``read``); a family without
``read`` is a state the others determine through equality rows (cumulative builds, fleets) and
is left free when a plan's decisions are fixed. A new family (say a financing helper's notes)
is added by name with :func:`register_first_stage`; ``realloc evaluate`` then fixes it too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from realloc.optimizer.build import Model
from realloc.optimizer.written import EPS

Reader = Callable[[Model, pd.DataFrame], dict[int, float]]


@dataclass(frozen=True)
class StageFamily:
    """One family of first-stage columns."""

    name: str
    """Its name (``conversions``, ``contracts``, ...)."""
    columns: Callable[[Model], np.ndarray]
    """The model's columns of the family."""
    table: str | None = None
    """The plan table (file name without ``.csv``) its values are read back from."""
    read: Reader | None = None
    """Column -> value from that table (columns absent from the table are 0)."""


def _lookup(names: list[str], what: str, table: str) -> dict[str, int]:
    found = {n: i for i, n in enumerate(names)}

    def at(name: object) -> int:
        if str(name) not in found:
            raise KeyError(f"{table}.csv names {what} {name!r}, which the portfolio does not have")
        return found[str(name)]

    return at


def _read_builds(m: Model, frame: pd.DataFrame) -> dict[int, float]:
    ix = m.index
    site, month = (
        _lookup(ix.sites, "site", "conversions"),
        _lookup(ix.months, "month", "conversions"),
    )
    values = {int(c): 0.0 for c in m.build[m.build >= 0]}
    for r in frame.itertuples(index=False):
        col = int(m.build[site(r.site), month(r.start_month)])
        if col < 0:
            raise KeyError(f"conversions.csv starts a build at {r.site} in {r.start_month}, "
                           "which the model cannot")  # fmt: skip
        values[col] += float(r.it_mw)
    return values


def _read_hosting(m: Model, frame: pd.DataFrame) -> dict[int, float]:
    ix = m.index
    pair = {(ix.sites[s], ix.contracts[k]): int(m.host[i]) for i, (s, k) in enumerate(ix.pairs)}
    values = {int(c): 0.0 for c in m.host}
    for r in frame.itertuples(index=False):
        key = (str(r.site), str(r.contract))
        if key not in pair:
            raise KeyError(
                f"contracts.csv hosts {r.contract!r} at {r.site!r}, not a pair of the portfolio"
            )
        values[pair[key]] += float(r.it_mw)
    return values


def _read_commitments(m: Model, frame: pd.DataFrame) -> dict[int, float]:
    """A contract with a minimum is committed (1) exactly when the plan hosts any of it."""
    ix = m.index
    hosted = frame.groupby(frame["contract"].astype(str))["it_mw"].sum() if len(frame) else {}
    return {
        int(col): float(float(hosted.get(ix.contracts[k], 0.0)) > EPS)
        for k, col in m.commit.items()
    }


def _read_rig_sales(m: Model, frame: pd.DataFrame) -> dict[int, float]:
    ix = m.index
    group = _lookup(ix.groups, "fleet group", "rig_sales")
    month = _lookup(ix.months, "month", "rig_sales")
    values = {int(c): 0.0 for c in m.rigs_sold.ravel()}
    for r in frame.itertuples(index=False):
        values[int(m.rigs_sold[group(r.fleet_group), month(r.month)])] += float(r.mw_sold)
    return values


def _read_grid_sales(m: Model, frame: pd.DataFrame) -> dict[int, float]:
    """grid.csv's ``sold_mw`` by site and month (absent: nothing sold)."""
    ix = m.index
    values = {int(c): 0.0 for c in m.grid_sold[m.grid_sold >= 0]} if m.grid_sold is not None else {}
    site = _lookup(ix.sites, "site", "grid")
    month = _lookup(ix.months, "month", "grid")
    for r in frame.itertuples(index=False):
        col = int(m.grid_sold[site(r.site), month(r.month)]) if m.grid_sold is not None else -1
        if col < 0:
            if float(r.sold_mw) > EPS:
                raise KeyError(
                    f"grid.csv sells grid at {r.site} in {r.month}, which the model cannot"
                )
            continue
        values[col] += float(r.sold_mw)
    return values


def _read_notes(m: Model, frame: pd.DataFrame) -> dict[int, float]:
    """funding.csv's note issues (the same on every path: the first scenario's rows), in $M, and
    each window month's choice (1 where the note was issued)."""
    values: dict[int, float] = {}
    if m.fin is None:
        return values
    fin = m.index.portfolio.financing
    rows = frame[frame["kind"] == "note"] if len(frame) else frame
    if "scenario" in rows.columns and len(rows):
        rows = rows[rows["scenario"] == rows["scenario"].iloc[0]]
    for note, cols in zip(fin.notes, m.fin.notes, strict=True):
        mine = rows[rows["source"] == note.name] if len(rows) else rows
        issued = dict(zip(mine["month"].astype(str), mine["drawn_usd"].astype(float), strict=True))
        for t, issue, chosen in zip(cols.months, cols.issue, cols.chosen, strict=True):
            usd = issued.get(m.index.months[int(t)], 0.0)
            values[int(issue)] = usd / 1e6
            values[int(chosen)] = float(usd > 1.0)
    return values


def _grid_columns(m: Model, which: str) -> np.ndarray:
    cols = getattr(m, which)
    return np.zeros(0, dtype=int) if cols is None else cols[cols >= 0]


def _note_columns(m: Model) -> np.ndarray:
    if m.fin is None or not m.fin.notes:
        return np.zeros(0, dtype=int)
    return np.concatenate([np.concatenate([c.issue, c.chosen]) for c in m.fin.notes])


FIRST_STAGE: list[StageFamily] = [
    StageFamily("conversions", lambda m: m.build[m.build >= 0], "conversions", _read_builds),
    StageFamily("cumulative_builds", lambda m: np.unique(m.cum_build[m.cum_build >= 0])),
    StageFamily("contracts", lambda m: m.host, "contracts", _read_hosting),
    StageFamily(
        "commitments",
        lambda m: np.array(list(m.commit.values()), dtype=int),
        "contracts",
        _read_commitments,
    ),
    StageFamily("rig_sales", lambda m: m.rigs_sold.ravel(), "rig_sales", _read_rig_sales),
    StageFamily("fleets", lambda m: m.fleet.ravel()),
    StageFamily("grid_sales", lambda m: _grid_columns(m, "grid_sold"), "grid", _read_grid_sales),
    StageFamily("grid_kept", lambda m: _grid_columns(m, "grid_kept")),
    StageFamily("hall_blocks", lambda m: _grid_columns(m, "blocks")),
    StageFamily("notes", _note_columns, "funding", _read_notes),
]
"""The first stage, in column order of :func:`first_stage_columns`."""


def register_first_stage(family: StageFamily) -> None:
    """Add (or replace, by name) a first-stage family."""
    FIRST_STAGE[:] = [f for f in FIRST_STAGE if f.name != family.name] + [family]


def first_stage_columns(m: Model) -> np.ndarray:
    """Columns shared by every scenario: builds, hosting, commitments, rig sales, fleets."""
    parts = [np.asarray(f.columns(m), dtype=int).ravel() for f in FIRST_STAGE]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=int)


def first_stage_tables() -> list[str]:
    """The plan tables the first stage is read back from."""
    return sorted({f.table for f in FIRST_STAGE if f.table is not None})


def fixed_first_stage(m: Model, tables: dict[str, pd.DataFrame]) -> dict[int, float]:
    """Column -> value of every first-stage decision a plan wrote in ``tables`` (KeyError
    naming the table and row when a row names what ``m`` does not have)."""
    values: dict[int, float] = {}
    for f in FIRST_STAGE:
        if f.read is not None and len(f.columns(m)):
            if f.table not in tables:
                raise KeyError(f"{f.table}.csv is missing: the plan's {f.name} cannot be read")
            values.update(f.read(m, tables[f.table]))
    return values
