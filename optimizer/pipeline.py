"""From a validated portfolio to a verified plan: index → build → solve → extract → verify."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from realloc.models import Portfolio
from realloc.models.scenarios import RiskSpec
from realloc.optimizer import site_terms
from realloc.optimizer.build import build_model
from realloc.optimizer.diagnose import funding_gap_text, no_plan_text, structural_problems
from realloc.optimizer.extract import (
    PlanTables,
    cashflow_table,
    extract,
    scenario_values,
    value_terms,
)
from realloc.optimizer.index import Scenario, build_index
from realloc.optimizer.matrix import to_matrix
from realloc.optimizer.risk import ValueDistribution, distribution
from realloc.optimizer.solve import solve_plan
from realloc.optimizer.solvers import SolverOptions, make_backend
from realloc.optimizer.verify import (
    ABS,
    REL,
    Check,
    Verification,
    check_cvar,
    relative_tolerance,
    verify,
)
from realloc.optimizer.verify_financing import notes_spread_usd
from realloc.optimizer.written import U_USD


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
    risk: RiskSpec | None = None
    """The CVaR level and weight the plan was optimized with (stochastic plans)."""
    scenario_values: pd.DataFrame | None = None
    """Per scenario: probability, plan value, status-quo value (several scenarios only)."""
    distribution: ValueDistribution | None = None
    """Expected value, CVaR and percentiles of the plan's value across scenarios."""
    objective_usd: float | None = None
    """The optimized objective: (1 − λ)·E[V] + λ·CVaR; equals ``value_usd`` when λ = 0."""
    flexibility: list[dict] = field(default_factory=list)
    """Per site with a curtailment credit or firm-load charge: the flexibility value the plan
    gives up against the status quo (optimizer/site_terms.py ``flexibility_by_site``)."""
    without_rent_after_horizon: dict | None = None
    """The decisions if rent after the horizon were ignored (optimizer/without_rent.py), when
    that re-solve was run."""

    @property
    def funding(self) -> pd.DataFrame | None:
        """``tables.funding``: sources of cash by month (None without financing or a plan)."""
        return None if self.tables is None else self.tables.funding

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
    risk: RiskSpec | None = None,
    objective_without: frozenset[str] = frozenset(),
) -> PlanResult:
    """Plan ``portfolio``: solve plan and baseline, extract tables, verify every invariant.

    With several ``scenarios`` the plan is two-stage: conversions, contracts and rig sales are
    shared, mining, BTC sales and cash follow each scenario; ``value_usd`` is the expected
    value. ``risk`` weighs CVaR into the objective.

    ``backend``: a solver backend to use instead of ``make_backend(solver, options)`` (a sweep
    passes one that keeps and warm-starts its models across plans, see optimizer/highs.py).

    ``objective_without``: value terms the objective ignores (optimizer/without_rent.py).
    """
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    index = build_index(portfolio, scenarios)
    model = build_model(index, relax=relax, risk=risk, objective_without=objective_without)
    seconds["build"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    mf = to_matrix(model)
    seconds["to_matrix"] = time.perf_counter() - t0
    if backend is None:
        backend = make_backend(solver, options)
    run = solve_plan(model, mf, backend)
    seconds.update(run.seconds)
    result = _solved(portfolio, model, mf, run, relax, risk, seconds)
    if run.plan.x is None:
        if not result.diagnosis:
            limit = getattr(getattr(backend, "options", None), "time_limit_s", None)
            result.diagnosis = no_plan_text(run.plan.status, limit)
        return result
    t0 = time.perf_counter()
    tables = extract(model, run.plan)
    seconds["extract"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    values = scenario_values(model, run.plan.x)
    alpha = risk.cvar_alpha if risk else 0.95
    result.distribution = distribution(values, index.probability, alpha)
    check = _verification(portfolio, model, run.plan.x, tables, result.distribution, solver, relax)
    seconds["verify"] = time.perf_counter() - t0
    result.tables = tables
    result.verification = check
    result.flexibility = site_terms.flexibility_by_site(model, run.plan.x, run.baseline.x)
    if len(index.scenarios) > 1:
        result.scenario_values = _scenario_value_table(model, values, run.baseline.x)
    if run.plan.status == "unfunded":
        result.diagnosis = funding_gap_text(
            tables.funding_gap,
            tables.treasury,
            portfolio,
            tables.cashflows,
            tables.funding,  # None without financing
            tables.conversions,
        )
    _raise_unless_verified(check)
    return result


def _raise_unless_verified(check) -> None:
    """A plan that fails its own verification is an error, never written as a plan."""
    if not check.ok:
        worst = "; ".join(
            f"{c.family} off by {c.max_violation:.6g} {c.unit}" for c in check.failures()
        )
        raise PlanVerificationError(f"the solved plan fails verification: {worst}")


def _solved(portfolio, model, mf, run, relax: bool, risk, seconds: dict) -> PlanResult:
    """The result of the solve phases, before any plan tables: statuses, values, the status
    quo's terms and flows, the model's size and the portfolio's structural problems."""
    base_terms: dict[str, float] = {}
    if run.baseline.x is not None:
        base_terms = value_terms(model, run.baseline.x)
    result = PlanResult(
        portfolio=portfolio,
        status=run.plan.status,
        value_usd=_expected_usd(model, run.plan.x),
        baseline_status=run.baseline.status,
        baseline_value_usd=_expected_usd(model, run.baseline.x),
        tables=None,
        baseline_value_terms_usd=base_terms,
        verification=None,
        solver=run.solver,
        solver_version=run.solver_version,
        relaxed=relax,
        model_size={
            "columns": mf.n_cols,
            "rows": mf.n_rows,
            "nonzeros": mf.n_nonzeros,
            "integer_columns": int(mf.integer.sum()),
            "scenarios": len(model.index.scenarios),
        },
        seconds=seconds,
        diagnosis=structural_problems(portfolio),
        mip_gap=next((p.mip_gap for p in run.plan.phases if p.mip_gap is not None), None),
        risk=risk,
        objective_usd=None if run.plan.value_musd is None else run.plan.value_musd * 1e6,
    )
    if run.baseline.x is not None:
        result.baseline_cashflows = cashflow_table(model, run.baseline.x)
    return result


def _verification(
    portfolio, model, x, tables: PlanTables, dist: ValueDistribution, solver: str, relax: bool
) -> Verification:
    """Every scenario's tables verified (``verify_plan``), and the LP's CVaR against the
    scenario values' when the plan was optimized with a CVaR weight."""
    rel = relative_tolerance(solver)
    check = verify_plan(portfolio, model, x, tables, relaxed=relax, rel=rel)
    if model.risk is not None and model.risk.risk_weight > 0:
        check = Verification(
            [*check.checks, check_cvar(model, x, dist, rel)], check.recomputed_value_usd
        )
    return check


def _scenario_value_table(model, values: np.ndarray, baseline_x) -> pd.DataFrame:
    """Per scenario: probability, the plan's value and the status quo's (when it solved)."""
    index = model.index
    base = scenario_values(model, baseline_x) if baseline_x is not None else None
    return pd.DataFrame(
        {
            "scenario": [sc.name for sc in index.scenarios],
            "probability": index.probability,
            "value_usd": np.round(values, 2),
            "baseline_value_usd": np.round(base, 2) if base is not None else np.nan,
        }
    )


def _expected_usd(model, x) -> float | None:
    """Σ_ω π_ω V_ω of a solution (the plan's value; its objective too when λ = 0)."""
    if x is None:
        return None
    return float(model.index.probability @ scenario_values(model, x))


def _scenario_rows(frame: pd.DataFrame, name: str, several: bool) -> pd.DataFrame:
    if several and "scenario" in frame.columns:
        return frame[frame["scenario"] == name].drop(columns="scenario")
    return frame


def verify_plan(
    portfolio: Portfolio,
    model,
    x,
    tables: PlanTables,
    relaxed: bool = False,
    rel: float = REL,
) -> Verification:
    """Verify every scenario's tables against the value the model gives that scenario.

    The result keeps, per family, the worst scenario's check (its ``where`` names the
    scenario when there are several).
    """
    scenarios = model.index.scenarios
    several = len(scenarios) > 1
    values = scenario_values(model, x)
    worst: dict[str, Check] = {}
    recomputed = 0.0
    for w, sc in enumerate(scenarios):
        v = verify(
            portfolio,
            _scenario_rows(tables.plan, sc.name, several),
            _scenario_rows(tables.treasury, sc.name, several),
            tables.conversions,
            tables.contracts,
            tables.rig_sales,
            _scenario_rows(tables.funding_gap, sc.name, several),
            float(values[w]),
            market=sc.market,
            relaxed=relaxed,
            rel=rel,
            cashflows=_scenario_rows(tables.cashflows, sc.name, several),
            grid=tables.grid,
            funding=None
            if tables.funding is None
            else tables.funding[tables.funding["scenario"] == sc.name],
        )
        recomputed += float(model.index.probability[w]) * v.recomputed_value_usd
        for c in v.checks:
            if several and c.where:
                c = Check(c.family, c.max_violation, c.tolerance, c.unit, f"{sc.name}: {c.where}")
            if c.family not in worst or c.max_violation > worst[c.family].max_violation:
                worst[c.family] = c
    spread, where = notes_spread_usd(tables.funding, portfolio.financing)
    if spread > 0.0 and "note" in worst:  # notes are first stage: one issue on every path
        tol = ABS["USD"] + 2 * U_USD
        if spread / tol > worst["note"].max_violation / worst["note"].tolerance:
            worst["note"] = Check("note", spread, tol, "USD", where)
    return Verification(list(worst.values()), recomputed)
