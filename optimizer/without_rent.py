"""The plan's decisions if the rent after the horizon were ignored (site-economics.md, 5).

A plan's uplift may rest on contracted rent after the horizon (terminal value). To show how
much the decisions lean on it, the same portfolio is planned again with the objective
ignoring the after-horizon rent terms (``statistics.AFTER_HORIZON_TERMS
["rent_after_horizon_usd"]``: their objective coefficients set to zero, every row unchanged),
and the first-stage decisions of the two plans (IT MW converted per site, MW per contract
taken, MW of rigs sold per fleet group) are compared.

The re-solve is the pipeline's own ``plan_portfolio`` with ``objective_without``: it is
verified like any plan, and its value is reported in full (the after-horizon rent that its
decisions earn is counted), so ``value_usd`` says what ignoring the rent would cost. It runs
for deterministic plans only (a plan over market paths would need a second full two-stage
solve, and its CVaR rows would need the same switch), and only when the rent term can be
non-zero: terminal value on, and a contract running past the horizon. It changes no figure of
the plan itself; summary.json gains ``decisions_without_rent_after_horizon``.
"""

from __future__ import annotations

from realloc.models import Portfolio
from realloc.models.base import month_index, month_label
from realloc.optimizer.pipeline import PlanResult, plan_portfolio
from realloc.optimizer.solvers import SolverOptions
from realloc.optimizer.statistics import (
    AFTER_HORIZON_TERMS,
    decision_changes,
    first_stage_decisions,
)

RENT_TERMS = frozenset(AFTER_HORIZON_TERMS["rent_after_horizon_usd"])
"""The value terms the what-if ignores: contracted rent after the horizon."""


def rent_after_horizon_possible(portfolio: Portfolio) -> bool:
    """True when some contract's rent could be counted after the horizon: terminal value is
    on and a contract ends after the last month (otherwise the what-if is the plan itself)."""
    if not portfolio.terminal_value:
        return False
    return any(
        month_index(portfolio.start_month, c.start_month) + c.term_months > portfolio.months
        for c in portfolio.contracts
    )


def decisions(result: PlanResult) -> dict[str, dict[str, float]]:
    """A solved plan's first-stage decisions (statistics.first_stage_decisions)."""
    t = result.tables
    sites = [s.name for s in result.portfolio.sites]
    return first_stage_decisions(t.conversions, t.contracts, t.rig_sales, sites)


def without_rent_after_horizon(
    result: PlanResult,
    solver: str = "highs",
    relax: bool = False,
    options: SolverOptions | None = None,
) -> dict | None:
    """The comparison for summary.json, or None when it does not apply (no optimal plan, a
    plan over several market paths, or no rent that could fall after the horizon).

    Keys: ``ignored_terms``, ``horizon_end_month`` (the last month planned), ``status`` of
    the re-solve; with a plan, ``value_usd`` (its full value, rent after
    the horizon counted), ``decisions`` (its first-stage decisions), ``changes`` (where they
    differ from the plan's: kind, name, ``plan_mw``, ``without_rent_mw``) and ``changed``.
    """
    if result.tables is None or result.status != "optimal" or result.scenario_values is not None:
        return None
    if not rent_after_horizon_possible(result.portfolio):
        return None
    other = plan_portfolio(
        result.portfolio, solver=solver, relax=relax, options=options, objective_without=RENT_TERMS
    )
    p = result.portfolio
    out: dict = {
        "ignored_terms": sorted(RENT_TERMS),
        "horizon_end_month": month_label(p.start_month, p.months - 1),
        "status": other.status,
    }
    if other.tables is None or other.status != "optimal":
        return out
    mine, theirs = decisions(result), decisions(other)
    changes = [
        {"kind": c["kind"], "name": c["name"], "plan_mw": c["a_mw"], "without_rent_mw": c["b_mw"]}
        for c in decision_changes(mine, theirs)
    ]
    return out | {
        "value_usd": other.value_usd,
        "decisions": theirs,
        "changed": bool(changes),
        "changes": changes,
    }
