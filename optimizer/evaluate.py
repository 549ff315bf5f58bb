"""A plan's first-stage decisions run on market paths it was not fitted to.

Each path is its own one-path model: the plan's first stage (optimizer/stages.py) fixed, the
recourse (mining, BTC sales, cash) re-optimized for that path alone, and the status quo solved
on the same path. A path on which the fixed plan cannot be funded gets the least funding gap
(the elastic phase of optimizer/solve.py): its value is charged that outside money at face
value and the money is its shortfall. An :class:`EvaluationTask` is a batch of paths for the
sweep executors (optimizer/sweep.py); each worker keeps one warm HiGHS backend
(``HighsBackend(reuse=True)``), so consecutive paths change a kept model in place.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from realloc.models import Portfolio
from realloc.optimizer.build import build_model
from realloc.optimizer.extract import scenario_values
from realloc.optimizer.index import USD_PER_MUSD, Scenario, build_index
from realloc.optimizer.matrix import to_matrix
from realloc.optimizer.solve import baseline_bounds, solve_outcome
from realloc.optimizer.solvers import SolverOptions, make_backend
from realloc.optimizer.stages import fixed_first_stage
from realloc.optimizer.sweep import SweepSettings, VariantOutcome, _worker_backend
from realloc.optimizer.written import U_MW

PATH_COLUMNS = [
    "path",
    "status",
    "value_usd",
    "baseline_value_usd",
    "shortfall_usd",
    "reason",
]
"""evaluation.csv's columns (``status``: optimal, unfunded, or why the path has no value)."""


def fixed_bounds(mf, fixed: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
    """Bounds holding each first-stage column at the plan's written value: integers exactly,
    continuous columns within the precision the table was written to (±U_MW), inside their
    own bounds."""
    lb, ub = mf.lb.copy(), mf.ub.copy()
    cols = np.fromiter(fixed, dtype=int, count=len(fixed))
    vals = np.fromiter(fixed.values(), dtype=float, count=len(fixed))
    ints = mf.integer[cols]
    lo = np.where(ints, np.round(vals), vals - U_MW)
    hi = np.where(ints, np.round(vals), vals + U_MW)
    lb[cols] = np.minimum(np.maximum(mf.lb[cols], lo), mf.ub[cols])
    ub[cols] = np.maximum(np.minimum(mf.ub[cols], hi), lb[cols])
    return lb, ub


def _solved(backend, mf, m, lb, ub, integer):
    """The outcome with these bounds; when a warm-started (kept) model finds no solution, once
    more from scratch: a kept HiGHS model restarted from another path's basis has been seen to
    call infeasible a path that a cold solve finds unfunded (2 of 2,000 paths)."""
    out = solve_outcome(backend, mf, m, lb, ub, integer, keep_btc=False, duals=False)
    if out.x is None and getattr(backend, "reuse", False):
        cold = make_backend(backend.name, backend.options)
        out = solve_outcome(cold, mf, m, lb, ub, integer, keep_btc=False, duals=False)
    return out


def evaluate_path(
    portfolio: Portfolio, tables: dict[str, pd.DataFrame], scenario, backend, relax: bool = False
) -> dict:
    """One row of evaluation.csv: the fixed plan and the status quo on ``scenario``'s market."""
    m = build_model(build_index(portfolio, [Scenario(scenario.name, 1.0, scenario.market)]), relax)
    mf = to_matrix(m)
    lb, ub = fixed_bounds(mf, fixed_first_stage(m, tables))
    if hasattr(backend, "new_plan"):
        backend.new_plan()
    out = _solved(backend, mf, m, lb, ub, mf.integer)
    row = {"path": scenario.name, "status": out.status, "value_usd": np.nan,
           "baseline_value_usd": np.nan, "shortfall_usd": 0.0, "reason": ""}  # fmt: skip
    if out.x is not None:
        shortfall = float(out.x[m.gap].sum()) * USD_PER_MUSD
        row["value_usd"] = float(scenario_values(m, out.x)[0]) - shortfall
        row["shortfall_usd"] = shortfall
    else:
        row["reason"] = f"the fixed plan is {out.status} on this path"
    blb, bub = baseline_bounds(m, mf.lb, mf.ub)
    base = _solved(backend, mf, m, blb, bub, np.zeros_like(mf.integer))
    if base.x is not None:
        row["baseline_value_usd"] = float(scenario_values(m, base.x)[0])
    return row


@dataclass(frozen=True)
class EvaluationTask:
    """A batch of paths for one worker (the executors of optimizer/sweep.py run ``solve``)."""

    key: str
    portfolio: Portfolio
    tables: dict
    """The plan's first-stage tables (optimizer/stages.first_stage_tables), as DataFrames."""
    scenarios: list
    settings: SweepSettings

    def solve(self) -> VariantOutcome:
        """Every path of the batch; a path that raises is a row with status ``error``."""
        started = time.perf_counter()
        s = self.settings
        backend = _worker_backend(s) or make_backend(
            s.solver, SolverOptions(time_limit_s=s.time_limit_s, mip_rel_gap=s.mip_rel_gap)
        )
        rows = []
        for sc in self.scenarios:
            try:
                rows.append(evaluate_path(self.portfolio, self.tables, sc, backend, s.relax))
            except Exception as e:  # recorded per path: the evaluation refuses to summarize
                rows.append({"path": sc.name, "status": "error", "value_usd": np.nan,
                             "baseline_value_usd": np.nan, "shortfall_usd": np.nan,
                             "reason": f"{type(e).__name__}: {e}"})  # fmt: skip
        row = {"status": "evaluated", "seconds": time.perf_counter() - started}
        return VariantOutcome(self.key, row, {"evaluation": pd.DataFrame(rows)})
