"""From a validated portfolio to a verified plan: index → build → solve → extract → verify."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pandas as pd

from models import Portfolio
from optimizer.build import build_model
from optimizer.diagnose import funding_gap_text, no_plan_text, structural_problems
from optimizer.extract import PlanTables, cashflow_table, extract, scenario_values, value_terms
from optimizer.index import Scenario, build_index
from optimizer.matrix import to_matrix
from optimizer.solve import solve_plan
from optimizer.solvers import SolverOptions, make_backend
from optimizer.verify import Verification, verify


@dataclass
class PlanResult:
    """Everything a report needs about one planning run (the public result type)."""

    portfolio: Portfolio
    status: str  # optimal | unfunded | infeasible | time_limit
    value_usd: float | None
    baseline_status: str
    baseline_value_usd: float | None
    tables: PlanTables | None
    baseline_value_terms_usd: dict[str, float]
    verification: Verification | None
    solver: str
    solver_version: str
    relaxed: bool
    model_size: dict[str, int]
    seconds: dict[str, float]
    diagnosis: list[str] = field(default_factory=list)
    mip_gap: float | None = None
    baseline_cashflows: pd.DataFrame | None = None
    """The status quo's monthly flows by term (as ``tables.cashflows``), when it solved."""

    @property
    def uplift_usd(self) -> float | None:
        if self.value_usd is None or self.baseline_value_usd is None:
            return None
        return self.value_usd - self.baseline_value_usd


class PlanVerificationError(RuntimeError):
    """The solved plan broke an invariant: a bug, never a user error; nothing is written."""


def plan_portfolio(
    portfolio: Portfolio,
    solver: str = "highs",
    relax: bool = False,
    options: SolverOptions | None = None,
    scenarios: list[Scenario] | None = None,
    backend=None,
) -> PlanResult:
    """Plan ``portfolio``: solve plan and baseline, extract tables, verify every invariant.

    ``backend``: a solver backend to use instead of ``make_backend(solver, options)`` (a sweep
    passes one that keeps and warm-starts its models across plans, see optimizer/warm.py).
    """
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    index = build_index(portfolio, scenarios)
    model = build_model(index, relax=relax)
    seconds["build"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    mf = to_matrix(model)
    seconds["to_matrix"] = time.perf_counter() - t0
    if backend is None:
        backend = make_backend(solver, options)
    run = solve_plan(model, mf, backend)
    seconds.update(run.seconds)
    size = {
        "columns": mf.n_cols,
        "rows": mf.n_rows,
        "nonzeros": mf.n_nonzeros,
        "integer_columns": int(mf.integer.sum()),
        "scenarios": len(index.scenarios),
    }
    diagnosis = structural_problems(portfolio)
    base_terms: dict[str, float] = {}
    if run.baseline.x is not None:
        base_terms = value_terms(model, run.baseline.x)
    result = PlanResult(
        portfolio=portfolio,
        status=run.plan.status,
        value_usd=None if run.plan.value_musd is None else run.plan.value_musd * 1e6,
        baseline_status=run.baseline.status,
        baseline_value_usd=None
        if run.baseline.value_musd is None
        else run.baseline.value_musd * 1e6,
        tables=None,
        baseline_value_terms_usd=base_terms,
        verification=None,
        solver=run.solver,
        solver_version=run.solver_version,
        relaxed=relax,
        model_size=size,
        seconds=seconds,
        diagnosis=diagnosis,
        mip_gap=next((p.mip_gap for p in run.plan.phases if p.mip_gap is not None), None),
    )
    if run.baseline.x is not None:
        result.baseline_cashflows = cashflow_table(model, run.baseline.x)
    if run.plan.x is None:
        if not diagnosis:
            limit = getattr(getattr(backend, "options", None), "time_limit_s", None)
            result.diagnosis = no_plan_text(run.plan.status, limit)
        return result
    t0 = time.perf_counter()
    tables = extract(model, run.plan)
    seconds["extract"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    check = verify_plan(portfolio, model, run.plan.x, tables, relaxed=relax)
    seconds["verify"] = time.perf_counter() - t0
    result.tables = tables
    result.verification = check
    if run.plan.status == "unfunded":
        result.diagnosis = funding_gap_text(
            tables.funding_gap, tables.treasury, portfolio, tables.cashflows
        )
    if not check.ok:
        worst = "; ".join(
            f"{c.family} off by {c.max_violation:.6g} {c.unit}" for c in check.failures()
        )
        raise PlanVerificationError(f"the solved plan fails verification: {worst}")
    return result


def _first_scenario(frame: pd.DataFrame) -> pd.DataFrame:
    if "scenario" in frame.columns:
        first = frame["scenario"].iloc[0]
        return frame[frame["scenario"] == first].drop(columns="scenario")
    return frame


def verify_plan(
    portfolio: Portfolio, model, x, tables: PlanTables, relaxed: bool = False
) -> Verification:
    """Verify the first scenario's tables against the value the model gives that scenario."""
    return verify(
        portfolio,
        _first_scenario(tables.plan),
        _first_scenario(tables.treasury),
        tables.conversions,
        tables.contracts,
        tables.rig_sales,
        _first_scenario(tables.funding_gap),
        float(scenario_values(model, x)[0]),
        market=model.index.scenarios[0].market,
        relaxed=relaxed,
    )
