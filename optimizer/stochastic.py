"""A stochastic plan and what it is worth: efficient frontier, VSS and EVPI.

Definitions (Birge & Louveaux, *Introduction to Stochastic Programming*, ch. 4), all with the
expected-value objective (λ = 0) and the same scenarios:

- **RP** (recourse problem): the stochastic plan's expected value.
- **EEV**: the plan optimized for the mean path (first-stage decisions: builds, contracts, rig
  sales), then run in every scenario with only mining, BTC sales and cash free; its expected
  value. **VSS = RP − EEV ≥ 0**: what planning over the paths, not their mean, is worth.
- **WS** (wait and see): the expected value of planning each scenario with perfect foresight.
  **EVPI = WS − RP ≥ 0**: what knowing the path in advance would be worth.

The frontier re-solves the same rows with other CVaR weights λ (only the objective changes),
each warm-started from the previous λ's solution.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from realloc.models import Market, Portfolio
from realloc.models.scenarios import RiskSpec
from realloc.optimizer.build import Model, build_model, objective_coefficients
from realloc.optimizer.extract import scenario_values
from realloc.optimizer.index import ModelIndex, Scenario, build_index
from realloc.optimizer.matrix import to_matrix
from realloc.optimizer.pipeline import PlanResult, plan_portfolio
from realloc.optimizer.risk import distribution
from realloc.optimizer.solve import Outcome, solve_outcome
from realloc.optimizer.solvers import SolverOptions, make_backend
from realloc.optimizer.statistics import it_mw_converted_total

DEFAULT_FRONTIER_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
"""CVaR weights λ of the efficient frontier (the plan's own λ is added)."""

Progress = Callable[[str], None]


@dataclass
class StochasticAnalysis:
    """The stochastic plan, its frontier, and the value of the stochastic solution."""

    plan: PlanResult
    frontier: pd.DataFrame
    """Per λ: expected value, CVaR, P5 and IT MW converted (columns named with units)."""
    rp_usd: float | None
    eev_usd: float | None
    ws_usd: float | None
    notes: list[str] = field(default_factory=list)
    eev_outside_money_usd: float | None = None
    """When the mean-path plan runs out of cash on some paths: its expected value with the
    shortfall covered by outside money, that money charged at face value (an upper bound of
    what the plan is worth, so RP minus it is a lower bound of VSS)."""
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def vss_usd(self) -> float | None:
        return None if self.rp_usd is None or self.eev_usd is None else self.rp_usd - self.eev_usd

    @property
    def vss_lower_bound_usd(self) -> float | None:
        """RP − EEV with the mean-path plan's shortfall charged at face value (VSS ≥ this)."""
        if self.vss_usd is not None:
            return self.vss_usd
        if self.rp_usd is None or self.eev_outside_money_usd is None:
            return None
        return self.rp_usd - self.eev_outside_money_usd

    @property
    def evpi_usd(self) -> float | None:
        return None if self.ws_usd is None or self.rp_usd is None else self.ws_usd - self.rp_usd

    def summary(self) -> dict:
        """The ``stochastic`` block of summary.json."""
        d = self.plan.distribution
        risk = self.plan.risk or RiskSpec()
        return {
            "scenarios": len(self.plan.scenario_values)
            if self.plan.scenario_values is not None
            else 1,
            "cvar_alpha": risk.cvar_alpha,
            "risk_weight": risk.risk_weight,
            **(d.as_dict() if d is not None else {}),
            "rp_usd": self.rp_usd,
            "eev_usd": self.eev_usd,
            "ws_usd": self.ws_usd,
            "vss_usd": self.vss_usd,
            "eev_outside_money_usd": self.eev_outside_money_usd,
            "vss_lower_bound_usd": self.vss_lower_bound_usd,
            "evpi_usd": self.evpi_usd,
            "notes": self.notes,
        }


def mean_market(index: ModelIndex) -> Market:
    """The probability-weighted mean path of the index's scenario markets."""
    return Market(
        btc_price_usd=(index.probability @ index.btc_price_usd).tolist(),
        hashprice_usd_per_ph_day=(index.probability @ index.hashprice_usd_per_ph_day).tolist(),
    )


def first_stage_columns(m: Model) -> np.ndarray:
    """Columns shared by every scenario (the declared list: optimizer/stages.py)."""
    from realloc.optimizer.stages import first_stage_columns as declared

    return declared(m)


def _solve_value(backend, mf, m: Model, lb=None, ub=None, start=None, basis=None) -> Outcome:
    return solve_outcome(
        backend,
        mf,
        m,
        mf.lb if lb is None else lb,
        mf.ub if ub is None else ub,
        mf.integer,
        keep_btc=False,
        start=start,
        duals=False,
        basis=basis,
    )


def _converted_mw(m: Model, x: np.ndarray) -> float:
    cols = m.build[m.build >= 0]
    return float(x[cols].sum()) if len(cols) else 0.0


def analyse(
    portfolio: Portfolio,
    scenarios: list[Scenario],
    risk: RiskSpec,
    solver: str = "highs",
    relax: bool = False,
    options: SolverOptions | None = None,
    frontier_weights: tuple[float, ...] = DEFAULT_FRONTIER_WEIGHTS,
    progress: Progress | None = None,
) -> StochasticAnalysis:
    """Plan over ``scenarios`` with ``risk``, then trace the frontier and compute VSS and EVPI."""
    say = progress or (lambda _msg: None)
    seconds: dict[str, float] = {}
    notes: list[str] = []
    t0 = time.perf_counter()
    say(f"stochastic plan over {len(scenarios)} scenarios (λ = {risk.risk_weight})")
    plan = plan_portfolio(
        portfolio, solver=solver, relax=relax, options=options, scenarios=scenarios, risk=risk
    )
    seconds["plan"] = time.perf_counter() - t0
    if plan.tables is None:
        notes.append(f"the stochastic plan is {plan.status}: no frontier, VSS or EVPI")
        return StochasticAnalysis(
            plan, pd.DataFrame(), None, None, None, notes=notes, seconds=seconds
        )

    backend = make_backend(solver, options)
    t0 = time.perf_counter()
    index = build_index(portfolio, scenarios)
    m = build_model(index, relax=relax, risk=risk)
    mf = to_matrix(m)
    weights = sorted({*frontier_weights, risk.risk_weight})
    rows, rp_usd = _frontier(plan, m, mf, backend, weights, notes, say)
    seconds["frontier"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    say("mean-path plan, run in every scenario (EEV)")
    eev_usd, eev_outside = _eev(portfolio, m, mf, backend, relax, notes)
    seconds["eev"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    ws_usd = _wait_and_see(portfolio, scenarios, backend, relax, notes, say)
    seconds["wait_and_see"] = time.perf_counter() - t0
    return StochasticAnalysis(
        plan,
        pd.DataFrame(rows),
        rp_usd,
        eev_usd,
        ws_usd,
        notes=notes,
        seconds=seconds,
        eev_outside_money_usd=eev_outside,
    )


def _frontier(
    plan: PlanResult, m: Model, mf, backend, weights: list[float], notes: list[str], say: Progress
) -> tuple[list[dict], float | None]:
    """One row per CVaR weight λ (the plan itself at its own λ, each other λ re-solved on the
    same rows), and RP: the expected value of the λ = 0 plan when it is optimal."""
    risk, probability = m.risk, m.index.probability
    rows = []
    rp_usd = None
    start = basis = None
    for i, lam in enumerate(weights):
        if lam == risk.risk_weight:  # the plan itself is this point
            status, d = plan.status, plan.distribution
            mw = it_mw_converted_total(plan.tables.conversions)
        else:
            say(f"frontier λ = {lam:g} ({i + 1}/{len(weights)})")
            value = objective_coefficients(m, lam)
            # the previous λ's LP basis is optimal but for the costs: the simplex restarts from
            # it rather than from scratch
            out = _solve_value(backend, replace(mf, value=value), m, start=start, basis=basis)
            if out.x is None:
                notes.append(f"frontier point λ = {lam:g}: {out.status}")
                continue
            start, basis = out.x, out.basis
            status, mw = out.status, _converted_mw(m, out.x)
            d = distribution(scenario_values(m, out.x), probability, risk.cvar_alpha)
        rows.append(
            {
                "risk_weight": lam,
                "status": status,
                "expected_value_usd": round(d.expected_usd, 2),
                "cvar_usd": round(d.cvar_usd, 2),
                "p5_value_usd": round(d.p5_usd, 2),
                "worst_value_usd": round(d.worst_usd, 2),
                "it_mw_converted": round(mw, 6),
            }
        )
        if lam == 0.0 and status == "optimal":
            rp_usd = d.expected_usd
    return rows, rp_usd


def _eev(portfolio, m: Model, mf, backend, relax: bool, notes: list[str]):
    """Expected value of the mean-path plan's first-stage decisions over the scenarios, and
    (when it runs out of cash on some path) that value net of the outside money it needs."""
    mean = Scenario("mean", 1.0, mean_market(m.index))
    dm = build_model(build_index(portfolio, [mean]), relax=relax)
    dmf = to_matrix(dm)
    det = _solve_value(backend, dmf, dm)
    if det.x is None:
        notes.append(f"the mean-path plan is {det.status}: no EEV or VSS")
        return None, None
    mine, theirs = first_stage_columns(m), first_stage_columns(dm)
    if [mf.col_names[j] for j in mine] != [dmf.col_names[j] for j in theirs]:
        raise RuntimeError("first-stage columns differ between the mean and stochastic models")
    lb, ub = mf.lb.copy(), mf.ub.copy()
    fixed = det.x[theirs]
    lb[mine] = np.maximum(mf.lb[mine], np.minimum(fixed, mf.ub[mine]))
    ub[mine] = lb[mine]
    expected = replace(mf, value=objective_coefficients(m, 0.0))
    out = _solve_value(backend, expected, m, lb, ub)
    if out.x is None:
        notes.append(f"the mean-path plan run in every scenario is {out.status}: no EEV or VSS")
        return None, None
    value = float(m.index.probability @ scenario_values(m, out.x))
    if out.status == "unfunded":
        gap = out.x[m.gap].sum(axis=1) * 1e6
        short = [sc.name for sc, g in zip(m.index.scenarios, gap, strict=True) if g > 0.5]
        notes.append(
            f"the mean-path plan runs out of cash in {len(short)} of {len(gap)} scenarios "
            f"({', '.join(short[:5])}{' …' if len(short) > 5 else ''}; up to "
            f"${gap.max():,.0f} of outside money): it cannot be carried out there, so VSS "
            "has no finite value — planning for the mean path is not safe"
        )
        return None, value - float(m.index.probability @ gap)
    return value, None


def _wait_and_see(portfolio, scenarios, backend, relax: bool, notes: list[str], say: Progress):
    """Σ_ω π_ω · (value of the plan made knowing scenario ω in advance)."""
    total = 0.0
    for i, sc in enumerate(scenarios):
        if i % 10 == 0:
            say(
                f"perfect-foresight plans (EVPI) {i + 1}-{min(i + 10, len(scenarios))} of "
                f"{len(scenarios)}"
            )
        dm = build_model(build_index(portfolio, [Scenario(sc.name, 1.0, sc.market)]), relax=relax)
        out = _solve_value(backend, to_matrix(dm), dm)
        if out.status != "optimal" or out.x is None:
            notes.append(f"the perfect-foresight plan for {sc.name} is {out.status}: no EVPI")
            return None
        total += sc.probability * float(scenario_values(dm, out.x)[0])
    return total
