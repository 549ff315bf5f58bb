"""Solve a built model in phases: value, lexicographic BTC, baseline, and elastic funding.

1. **value**: maximize expected value (a MILP when minimum commitments are live).
2. With integers, fix them and re-solve the LP, so that shadow prices exist.
3. **keep_btc**: with value held within a tiny tolerance of the optimum, minimize BTC sold
   (weighted a hair heavier in earlier months, so ties sell as late as possible).
4. **baseline**: the status quo (no new builds, contracts or rig sales) on the same arrays.
When the value phase is infeasible, **elastic** opens a funding-gap column in every month's cash
balance, minimizes the total gap, then maximizes value with the gap capped at that minimum.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from realloc.optimizer.build import Model
from realloc.optimizer.grid_terms import grid_baseline_bounds
from realloc.optimizer.integers import solve_with_integers
from realloc.optimizer.matrix import MatrixForm
from realloc.optimizer.phase import ExtraRow, Phase, Solution

VALUE_TOLERANCE = 1e-9
"""Relative slack on the optimal value allowed to the lexicographic BTC phase ..."""
VALUE_TOLERANCE_MUSD = 1e-7
"""... and at least this much, in $M ($0.10): the solver's feasibility tolerance."""
LATE_SALE_WEIGHT = 1e-6
"""How much heavier a BTC sold in month 0 weighs than one sold in the last month."""


@dataclass
class Outcome:
    """The solution of one question (the plan or the baseline) after all its phases."""

    status: str  # optimal | unfunded | infeasible | time_limit
    x: np.ndarray | None
    value_musd: float | None
    duals_from: Solution | None = None
    gap_total_musd: float = 0.0
    phases: list[Solution] = field(default_factory=list)
    basis: object | None = None
    """The value LP's optimal basis (HiGHS), to restart a neighbouring problem from."""


GAP_TIMING_WEIGHT = 1e-3
"""How much heavier a dollar of funding gap weighs in month 0 than in the last month."""
GAP_TIE_WEIGHT = 1e-5
"""Value ($M) given up per $M of funding gap while valuing an unfunded plan: the gap cap has a
numerical slack (1e-7 relative + $0.10), and without a weight any gap up to the cap is optimal
(which one depends on the simplex path); with it the minimal gap is taken, at a cost in value of
at most a millionth of a dollar."""
DUAL_ZERO = 1e-9
"""Reduced costs and duals (in $M) below this are treated as zero when fixing the optimal face."""


def _late_weights(T: int, weight: float = LATE_SALE_WEIGHT) -> np.ndarray:
    """1 in the last month, 1 + ``weight`` in month 0: ties go to the latest month."""
    return 1.0 + weight * (T - 1 - np.arange(T)) / max(1, T - 1)


def optimal_face(mf: MatrixForm, sol: Solution, lb: np.ndarray, ub: np.ndarray):
    """Bounds that keep a later phase on the LP's set of optimal solutions.

    By complementary slackness, every optimal solution keeps a column with a non-zero reduced
    cost at its bound and a row with a non-zero dual at its bound; pinning them leaves the
    lexicographic phase free only where value is indifferent, so it cannot trade away value
    within a tolerance and leave specks of decisions behind.
    """
    row_lo, row_hi = mf.row_lo.copy(), mf.row_hi.copy()
    if sol.col_dual is None or sol.row_dual is None:
        return lb, ub, None, None
    lb, ub = lb.copy(), ub.copy()
    x = sol.x
    at_low = sol.col_dual > DUAL_ZERO
    at_high = sol.col_dual < -DUAL_ZERO
    ub[at_low] = np.maximum(lb[at_low], np.minimum(ub[at_low], x[at_low]))
    lb[at_high] = np.minimum(ub[at_high], np.maximum(lb[at_high], x[at_high]))
    activity = mf.row_activity(x)
    tight = np.abs(sol.row_dual) > DUAL_ZERO
    row_lo[tight] = np.where(
        np.isfinite(mf.row_lo[tight]),
        np.minimum(mf.row_lo[tight], activity[tight]),
        activity[tight],
    )
    row_hi[tight] = np.where(
        np.isfinite(mf.row_hi[tight]),
        np.maximum(mf.row_hi[tight], activity[tight]),
        activity[tight],
    )
    row_lo[tight] = row_hi[tight] = np.clip(activity[tight], row_lo[tight], row_hi[tight])
    return lb, ub, row_lo, row_hi


def _value_phase(mf: MatrixForm, lb, ub, integer, extra=None, name="value") -> Phase:
    return Phase(name, -mf.value, lb, ub, integer, list(extra or []))


def _mip_rel_gap(backend) -> float:
    return float(getattr(getattr(backend, "options", None), "mip_rel_gap", 1e-4))


def _solve(
    backend, mf: MatrixForm, phase: Phase, phases: list[Solution], duals: bool = True
) -> tuple[Solution, Solution | None]:
    """Solve one phase; with integers, as optimizer/integers.py does (relaxation, rounding,
    MILP only when needed). Returns the solution and the LP with duals it came from (the same
    solution without integers; None when there is no such LP)."""
    if phase.integer.any():
        sol, lp, solves = solve_with_integers(backend, mf, phase, _mip_rel_gap(backend), duals)
        phases.extend(solves)
        return sol, lp
    sol = backend.solve(mf, phase)
    phases.append(sol)
    return sol, sol


def _solve_elastic(
    backend, mf: MatrixForm, m: Model, lb, ub, integer, phases: list[Solution]
) -> tuple[Solution | None, float, list[ExtraRow]]:
    """Minimize the funding gap, then return the gap cap row to keep while valuing the plan."""
    gap_cols = m.gap.ravel()
    ub = ub.copy()
    ub[gap_cols] = np.inf
    cost = np.zeros(mf.n_cols)
    # inject just in time: a dollar of gap weighs a hair more the earlier it comes
    cost[m.gap] = _late_weights(m.gap.shape[1], GAP_TIMING_WEIGHT)[None, :]
    sol, _ = _solve(backend, mf, Phase("elastic_gap", cost, lb, ub, integer), phases, duals=False)
    if not sol.has_solution:
        return None, 0.0, []
    gap_total = float(sol.x[gap_cols].sum())
    cap = ExtraRow(gap_cols, np.ones(len(gap_cols)), -np.inf, gap_total * (1 + 1e-7) + 1e-7)
    return sol, gap_total, [cap]


@dataclass
class _Valued:
    """The value phase's outcome: its solution, the LP with duals it came from, the rows and
    bounds later phases keep (the elastic gap cap, the opened gap columns)."""

    status: str  # optimal | unfunded | time_limit
    sol: Solution
    lp_sol: Solution
    ub: np.ndarray
    extra: list[ExtraRow] = field(default_factory=list)
    gap_total: float = 0.0


def _value_or_unfunded(
    backend, mf: MatrixForm, m: Model, lb, ub, integer, first: Phase, duals: bool, phases
) -> _Valued | Outcome:
    """Maximize value; when that is infeasible, find the least funding gap and maximize value
    with the gap capped there (an unfunded plan). An :class:`Outcome` when there is no plan."""
    sol, lp_sol = _solve(backend, mf, first, phases, duals)
    extra: list[ExtraRow] = []
    gap_total = 0.0
    status = "optimal"
    if sol.status in ("infeasible", "unbounded", "error", "time_limit_no_solution"):
        if sol.status != "infeasible":
            no_plan = "time_limit" if "time" in sol.status else "infeasible"
            return Outcome(no_plan, None, None, phases=phases)
        esol, gap_total, extra = _solve_elastic(backend, mf, m, lb, ub, integer, phases)
        if esol is None:
            return Outcome("infeasible", None, None, phases=phases)
        ub = ub.copy()
        ub[m.gap.ravel()] = np.inf
        unfunded = _value_phase(mf, lb, ub, integer, extra, "value_unfunded")
        unfunded.cost = unfunded.cost.copy()
        unfunded.cost[m.gap.ravel()] += GAP_TIE_WEIGHT
        sol, lp_sol = _solve(backend, mf, unfunded, phases, duals)
        if not sol.has_solution:
            return Outcome("infeasible", None, None, phases=phases)
        status = "unfunded"
    if sol.status == "time_limit":
        status = "time_limit"
    if lp_sol is None or not lp_sol.has_solution:
        lp_sol = sol
    return _Valued(status, sol, lp_sol, ub, extra, gap_total)


def _fix_integers(x: np.ndarray, lb, ub, integer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bounds that keep the integers where the value phase put them, and no integers left."""
    if not integer.any():
        return lb, ub, integer
    fixed_lb, fixed_ub = lb.copy(), ub.copy()
    rounded = np.round(x[integer])
    fixed_lb[integer] = rounded
    fixed_ub[integer] = rounded
    return fixed_lb, fixed_ub, np.zeros_like(integer)


def _keep_btc_phase(mf: MatrixForm, m: Model, v: _Valued, lb, ub, integer) -> Phase:
    """The lexicographic phase: on the value LP's optimal face, with value held within a
    tolerance of the optimum, minimize BTC sold (earlier months a hair heavier) and show an
    unfunded plan's gap as late as it can come."""
    value = float(mf.value @ v.lp_sol.x)
    lb, ub, row_lo, row_hi = optimal_face(mf, v.lp_sol, lb, ub)
    tol = max(VALUE_TOLERANCE_MUSD, VALUE_TOLERANCE * abs(value))
    floor = ExtraRow(np.flatnonzero(mf.value), mf.value[mf.value != 0], value - tol, np.inf)
    weights = _late_weights(m.sold.shape[1])
    cost = np.zeros(mf.n_cols)
    for w, prob in enumerate(m.index.probability):
        cost[m.sold[w]] = prob * weights
    # an unfunded plan's gap (total already capped) is shown as late as it can come
    cost[m.gap] = _late_weights(m.gap.shape[1], GAP_TIMING_WEIGHT)[None, :] - 1.0
    extra = [*v.extra, floor]
    return Phase("keep_btc", cost, lb, ub, integer, extra, row_lo, row_hi, basis=v.lp_sol.basis)


def solve_outcome(
    backend,
    mf: MatrixForm,
    m: Model,
    lb: np.ndarray,
    ub: np.ndarray,
    integer: np.ndarray,
    keep_btc: bool,
    start: np.ndarray | None = None,
    duals: bool = True,
    basis=None,
) -> Outcome:
    """Run the phases for one question with the given bounds (``start``: a solution of a
    neighbouring problem to warm-start a MILP from; ``basis``: an LP basis of a neighbouring
    problem on the same columns, ``Outcome.basis``, to restart the value LP from;
    ``duals=False``: when a MILP had to be solved, skip the fixed-integer LP that gives duals,
    as only the solution and its value are wanted)."""
    phases: list[Solution] = []
    first = _value_phase(mf, lb, ub, integer)
    first.start = start
    first.basis = basis
    v = _value_or_unfunded(backend, mf, m, lb, ub, integer, first, duals or keep_btc, phases)
    if isinstance(v, Outcome):
        return v
    lb, ub, integer = _fix_integers(v.sol.x, lb, v.ub, integer)
    x = v.lp_sol.x
    if keep_btc:
        lex = backend.solve(mf, _keep_btc_phase(mf, m, v, lb, ub, integer))
        phases.append(lex)
        if lex.has_solution:
            x = lex.x
    gap_cols = m.gap.ravel()
    gap_total = float(x[gap_cols].sum()) if v.status == "unfunded" else v.gap_total
    value = float(mf.value @ x)
    return Outcome(v.status, x, value, v.lp_sol, gap_total, phases, v.lp_sol.basis)


def baseline_bounds(m: Model, lb: np.ndarray, ub: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of the status quo: no new builds, no new contracts, no rig sales, no notes (it
    may still draw BTC-backed loans and issue equity, as it may sell BTC)."""
    ub = ub.copy()
    lb = lb.copy()
    ix = m.index
    ub[m.build[m.build >= 0]] = 0.0
    ub[m.cum_build[m.cum_build >= 0]] = 0.0
    for i in range(len(ix.pairs)):
        if np.isnan(ix.pair_signed_mw[i]):
            ub[m.host[i]] = 0.0
    for col in m.commit.values():
        ub[col] = 0.0
        lb[col] = 0.0
    ub[m.rigs_sold.ravel()] = 0.0
    grid_baseline_bounds(m, lb, ub)  # no grid sold, no blocks built
    for note in m.fin.notes if m.fin is not None else []:  # issuing a note is a plan decision
        ub[note.issue] = ub[note.chosen] = lb[note.chosen] = 0.0
    return lb, ub


@dataclass
class PlanRun:
    """Everything solved for one portfolio: the plan, the baseline, and how long each took."""

    model: Model
    matrix: MatrixForm
    plan: Outcome
    baseline: Outcome
    solver: str
    solver_version: str
    seconds: dict[str, float]


def solve_plan(m: Model, mf: MatrixForm, backend, with_baseline: bool = True) -> PlanRun:
    """Solve the plan (value, then keep BTC) and the status-quo baseline."""
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    plan = solve_outcome(backend, mf, m, mf.lb, mf.ub, mf.integer, keep_btc=True)
    seconds["solve_plan"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if with_baseline:
        lb, ub = baseline_bounds(m, mf.lb, mf.ub)
        baseline = solve_outcome(backend, mf, m, lb, ub, np.zeros_like(mf.integer), keep_btc=False)
    else:
        baseline = Outcome("skipped", None, None)
    seconds["solve_baseline"] = time.perf_counter() - t0
    return PlanRun(m, mf, plan, baseline, backend.name, backend.version(), seconds)
