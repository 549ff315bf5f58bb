"""The HiGHS backend: a phase is handed to HiGHS in memory as arrays (``passModel``).

:class:`HighsBackend` solves one phase at a time. With ``reuse=True`` it also keeps one HiGHS
model per phase between plans, for a sweep or a bisection that solves the same portfolio many
times with different numbers: the phase of one plan then has the same rows, columns and sparsity
as that phase of the previous plan, and only some costs, bounds and coefficients differ. Changing
just those in the kept model (``changeColsCost``, ``changeColsBounds``, ``changeRowsBounds``,
``changeCoeff``) keeps HiGHS's optimal basis, so an LP phase restarts from it with the simplex
method instead of from scratch, and a MIP phase is offered the previous solution as its first
incumbent. When the structure differs (another horizon, a contract more or less, a coefficient
that became zero) the phase is passed afresh: the answer never depends on what was solved
before, only the time it takes.

Every phase, kept or fresh, goes through the same steps: the same scaled costs and cleaned
bounds (:func:`highs_problem`), the same options, the same reading of status, solution, duals
and basis. Duals follow one convention for every backend: the change of the minimized objective
per unit increase of a row's bound (or a column's active bound).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np

from realloc.optimizer.matrix import MatrixForm
from realloc.optimizer.phase import Phase, PhaseRows, Solution, SolverOptions, phase_rows

COST_TARGET = 2.0**13
"""Each phase's costs are scaled by a power of two (exact in floating point) so that the largest
is near 8,192: far inside HiGHS's comfortable range [1e-4, 1e6] for costs."""
HIGHS_SMALL = 1e-4
"""HiGHS warns about costs below this; after scaling they are 8 orders of magnitude below the
largest cost, under the simplex method's resolution, and are passed as zero."""
BOUND_NOISE = 1e-9
"""Row bounds closer to zero than this (activities of rows that are truly 0, pinned by the
lexicographic phase) are passed as zero."""
LP_SCALE_STRATEGY = 4
"""HiGHS ``simplex_scale_strategy`` for LP phases: 4 (scale each row and column by a power of two
so its largest entry is near 1) instead of the default equilibration. realloc's rows mix $M, MW
and BTC with coefficients many orders of magnitude apart; power-of-two scaling is exact and takes
the simplex method to the same optimum in fewer iterations. MIP solves keep HiGHS's defaults
(its root LP is not affected by this option)."""
MAX_KEPT_MODELS = 16
"""Most models a reusing backend keeps (a plan has at most ~7 phases); the oldest goes first."""


def cost_scale(cost: np.ndarray) -> float:
    """The power of two that brings the largest |cost| into (COST_TARGET/2, COST_TARGET]."""
    top = float(np.max(np.abs(cost), initial=0.0))
    if top == 0.0 or not np.isfinite(top):
        return 1.0
    return 2.0 ** np.floor(np.log2(COST_TARGET / top))


def scaled_costs(cost: np.ndarray) -> tuple[np.ndarray, float]:
    """The costs HiGHS is given (scaled, dust zeroed) and the scale to divide results by."""
    scale = cost_scale(cost)
    scaled = cost * scale
    scaled[np.abs(scaled) < HIGHS_SMALL] = 0.0
    return scaled, scale


def clean_bounds(bounds: np.ndarray) -> np.ndarray:
    """Row bounds with floating-point dust (|b| < BOUND_NOISE) set to exactly zero."""
    out = np.array(bounds, dtype=float)
    out[np.abs(out) < BOUND_NOISE] = 0.0
    return out


@dataclass
class HighsProblem:
    """A phase exactly as HiGHS gets it: costs scaled (divide results by ``scale``), row bounds
    cleaned, the model's rows followed by the phase's extra rows."""

    cost: np.ndarray
    scale: float
    lb: np.ndarray
    ub: np.ndarray
    rows: PhaseRows
    integer: np.ndarray

    @property
    def n_cols(self) -> int:
        return len(self.cost)

    @property
    def is_mip(self) -> bool:
        return bool(self.integer.any())

    def same_structure(self, other: HighsProblem) -> bool:
        """Same columns, rows, sparsity and integrality: ``other`` can be reached by changing
        only costs, bounds and the values of existing coefficients."""
        return (
            self.n_cols == other.n_cols
            and self.rows.n_rows == other.rows.n_rows
            and np.array_equal(self.rows.indptr, other.rows.indptr)
            and np.array_equal(self.rows.indices, other.rows.indices)
            and np.array_equal(self.integer, other.integer)
        )


def highs_problem(mf: MatrixForm, phase: Phase) -> HighsProblem:
    """The phase's costs scaled (no HiGHS warnings about tiny or huge costs), its rows from
    :func:`phase_rows` with floating-point dust in their bounds set to zero."""
    rows = phase_rows(mf, phase)
    rows.lo, rows.hi = clean_bounds(rows.lo), clean_bounds(rows.hi)
    cost, scale = scaled_costs(np.asarray(phase.cost, float))
    lb, ub = np.asarray(phase.lb, float), np.asarray(phase.ub, float)
    return HighsProblem(cost, scale, lb, ub, rows, np.asarray(phase.integer, bool))


def to_highs_lp(p: HighsProblem) -> highspy.HighsLp:
    """The problem as a ``highspy.HighsLp`` (row-wise matrix, integrality only for a MIP)."""
    lp = highspy.HighsLp()
    lp.num_col_ = p.n_cols
    lp.num_row_ = p.rows.n_rows
    lp.col_cost_ = p.cost
    lp.col_lower_ = p.lb
    lp.col_upper_ = p.ub
    lp.row_lower_ = p.rows.lo
    lp.row_upper_ = p.rows.hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = p.rows.indptr
    lp.a_matrix_.index_ = p.rows.indices
    lp.a_matrix_.value_ = p.rows.data
    if p.is_mip:
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
            for i in p.integer
        ]
    return lp


def highs_status(status: highspy.HighsModelStatus) -> str:
    """HiGHS's model status in :class:`Solution`'s words."""
    S = highspy.HighsModelStatus
    if status == S.kOptimal:
        return "optimal"
    if status in (S.kInfeasible, S.kUnboundedOrInfeasible):
        return "infeasible"
    if status == S.kUnbounded:
        return "unbounded"
    if status in (S.kTimeLimit, S.kIterationLimit, S.kInterrupt, S.kSolutionLimit):
        return "time_limit"
    return "error"


def with_basic_rows(basis, n_cols: int, n_rows: int):
    """``basis`` (a ``highspy.HighsBasis``) extended with basic rows up to ``n_rows`` (None when
    it does not fit: other columns, or more rows than the phase has). A phase with extra rows
    can restart from the basis of one without them: each new row's slack enters the basis."""
    extra = n_rows - len(basis.row_status)
    if len(basis.col_status) != n_cols or extra < 0:
        return None
    if extra == 0:
        return basis
    out = highspy.HighsBasis()
    out.col_status = list(basis.col_status)
    out.row_status = list(basis.row_status) + [highspy.HighsBasisStatus.kBasic] * extra
    out.valid = True
    return out


class QuietHighs(highspy.Highs):
    """``highspy.Highs`` that prints nothing, from its construction on.

    From highspy 1.16 the constructor logs HiGHS's banner (``Running HiGHS …``) on stdout while
    it enables the callbacks, before a caller can set ``output_flag``; a plan's stdout and every
    sweep worker's would carry it. Turning the flag off first thing in ``enableCallbacks`` (the
    step that logs) silences it with every highspy version: older ones never log there.
    """

    def enableCallbacks(self):
        self.setOptionValue("output_flag", False)
        return super().enableCallbacks()


def new_highs() -> QuietHighs:
    """A silent HiGHS instance (``output_flag`` off before anything can log)."""
    h = QuietHighs()
    h.setOptionValue("output_flag", False)  # also when the constructor did not enable callbacks
    return h


def release(h: highspy.Highs) -> None:
    """Free a finished solver's model, factorization and solution now. The ``Highs`` object is
    kept in a reference cycle by its interrupt callback, so Python would free it only at its
    next cyclic garbage collection, and every phase's model and factorization of a large
    portfolio would stay in memory until then."""
    h.clearCallbacks()
    h.clear()


def run_interruptibly(h: highspy.Highs) -> None:
    """``h.run()`` in HiGHS's worker thread while this thread waits, so that Ctrl-C or SIGTERM
    (which the CLI turns into an exception) is handled within ~50 ms rather than when the
    phase ends: HiGHS is asked to stop at its next check, then the exception goes on."""
    h.HandleUserInterrupt = True
    h.startSolve()
    try:
        while not h.wait(0.05)[0]:
            pass
    except BaseException:
        h.cancelSolve()
        while not h.wait(0.05)[0]:
            pass
        raise


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Indices where two arrays differ (infinities compare equal to themselves, NaN to NaN)."""
    return np.flatnonzero(~((a == b) | (np.isnan(a) & np.isnan(b))))


@dataclass
class KeptModel:
    """A HiGHS model kept between plans: the problem it holds and its last optimal solution."""

    highs: highspy.Highs
    problem: HighsProblem
    row_of_nonzero: np.ndarray  # row index of every nonzero, for changeCoeff
    last_x: np.ndarray | None = None


@dataclass
class ReuseStats:
    """How often a phase reused a kept model (``reused``) or was passed afresh (``fresh``)."""

    reused: int = 0
    fresh: int = 0
    changed_coefficients: int = 0


def change_in_place(kept: KeptModel, new: HighsProblem) -> int:
    """Turn the kept model into ``new`` (same structure) by changing only what differs; returns
    how many coefficients changed. HiGHS keeps its basis through these changes."""
    h, old = kept.highs, kept.problem
    idx = _changed(old.cost, new.cost)
    if len(idx):
        h.changeColsCost(len(idx), idx.astype(np.int32), new.cost[idx])
    idx = np.union1d(_changed(old.lb, new.lb), _changed(old.ub, new.ub))
    if len(idx):
        h.changeColsBounds(len(idx), idx.astype(np.int32), new.lb[idx], new.ub[idx])
    idx = np.union1d(_changed(old.rows.lo, new.rows.lo), _changed(old.rows.hi, new.rows.hi))
    if len(idx):
        h.changeRowsBounds(len(idx), idx.astype(np.int32), new.rows.lo[idx], new.rows.hi[idx])
    nz = _changed(old.rows.data, new.rows.data)
    for k in nz.tolist():
        h.changeCoeff(int(kept.row_of_nonzero[k]), int(new.rows.indices[k]), new.rows.data[k])
    kept.problem = new
    return len(nz)


class HighsBackend:
    """HiGHS in process. ``reuse=True`` keeps one model per phase between plans and warm-starts
    it (see the module docstring); call :meth:`new_plan` before each plan so that a phase meets
    the same phase of the previous plan. A reusing instance is meant for one thread: a sweep
    worker keeps one for its whole life."""

    name = "highs"

    def __init__(self, options: SolverOptions | None = None, reuse: bool = False):
        self.options = options or SolverOptions()
        self.reuse = reuse
        self.lp_method: str | None = None
        """HiGHS's ``solver`` option for LP phases that start cold (no basis to restart from,
        no method of their own): ``ipm``, ``pdlp``, ``simplex``; None lets HiGHS choose."""
        self.stats = ReuseStats()
        self._kept: dict[tuple[str, bool, int], KeptModel] = {}
        self._seen: dict[tuple[str, bool], int] = {}

    @staticmethod
    def version() -> str:
        h = new_highs()
        return f"HiGHS {h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"

    def new_plan(self) -> None:
        """Mark the start of a plan. A phase is matched with the same phase of the previous plan
        by name, integrality and how many times that name has come up in the plan (the
        baseline's value phase is not the plan's)."""
        self._seen.clear()

    @property
    def kept_models(self) -> int:
        """How many HiGHS models this backend holds between solves (0 without reuse)."""
        return len(self._kept)

    def reset(self) -> None:
        """Forget every kept model (the next solve of each phase starts cold)."""
        for kept in self._kept.values():
            release(kept.highs)
        self._kept.clear()
        self._seen.clear()

    def solve(self, mf: MatrixForm, phase: Phase) -> Solution:
        """Solve one phase: with reuse, in the model kept for the same phase of the previous
        plan when the structure matches, else in a fresh model."""
        started = time.perf_counter()
        problem = highs_problem(mf, phase)
        key = self._key(phase.name, problem.is_mip)
        kept = self._kept.get(key)
        warm = kept is not None and kept.problem.same_structure(problem)
        if warm:
            self.stats.changed_coefficients += change_in_place(kept, problem)
            self.stats.reused += 1
            h = kept.highs
        else:
            h = self._fresh_model(problem)
            kept = self._keep(key, h, problem) if self.reuse else None
        self._set_run_options(h, phase, problem, warm and not problem.is_mip)
        self._offer_start(h, phase, problem, warm, kept)
        try:
            run_interruptibly(h)
        except BaseException:
            self._drop(key, h)  # interrupted: never reuse a half-run model
            raise
        solution = _read_solution(h, phase.name, problem, mf.n_rows, started)
        if kept is not None and solution.status == "optimal":
            kept.last_x = solution.x  # a MIP of the next plan is offered it
        else:
            # freed now: not kept (reuse off), or a run that did not finish cleanly
            self._drop(key, h)
        return solution

    def _key(self, name: str, is_mip: bool) -> tuple[str, bool, int] | None:
        """The phase's place in the plan: its name, integrality and how often it came up
        (None when models are not kept)."""
        if not self.reuse:
            return None
        occurrence = self._seen.get((name, is_mip), 0)
        self._seen[(name, is_mip)] = occurrence + 1
        return (name, is_mip, occurrence)

    def _fresh_model(self, problem: HighsProblem) -> highspy.Highs:
        """A new silent HiGHS holding ``problem``, with the options that stay for its life."""
        h = new_highs()
        h.setOptionValue("mip_rel_gap", self.options.mip_rel_gap)
        if not problem.is_mip:
            h.setOptionValue("simplex_scale_strategy", LP_SCALE_STRATEGY)
        h.passModel(to_highs_lp(problem))
        self.stats.fresh += 1
        return h

    def _keep(self, key, h: highspy.Highs, problem: HighsProblem) -> KeptModel:
        """Keep ``h`` under ``key`` (replacing an older model there), the oldest going first
        when :meth:`new_plan` is never called and keys keep coming."""
        self._drop(key, None)
        if len(self._kept) >= MAX_KEPT_MODELS:
            oldest = next(iter(self._kept))
            self._drop(oldest, None)
        kept = KeptModel(h, problem, problem.rows.row_of_nonzero())
        self._kept[key] = kept
        return kept

    def _drop(self, key, h: highspy.Highs | None) -> None:
        """Forget the model kept under ``key`` and free it (and ``h``, which is not kept)."""
        kept = self._kept.pop(key, None)
        if kept is not None:
            release(kept.highs)
        if h is not None and (kept is None or kept.highs is not h):
            release(h)

    def _set_run_options(
        self, h: highspy.Highs, phase: Phase, problem: HighsProblem, from_kept_basis: bool
    ) -> None:
        """Options of this run: the time limit counts from this run (a kept model's clock does
        not carry over), and an LP restarted from a kept basis uses the simplex method, the one
        method that can start from a basis."""
        h.setOptionValue("time_limit", float(self.options.time_limit_s or np.inf))
        if from_kept_basis:
            h.setOptionValue("solver", "simplex")
        else:
            cold_lp = phase.basis is None and not problem.is_mip
            h.setOptionValue("solver", phase.method or (cold_lp and self.lp_method) or "choose")

    @staticmethod
    def _offer_start(h, phase: Phase, problem: HighsProblem, warm: bool, kept) -> None:
        """What the run starts from. A kept LP restarts from the basis HiGHS kept; a fresh LP
        from the caller's basis (``Phase.basis``) when it fits and no method is forced; failing
        that, the caller's start, or for a kept MIP the previous plan's solution, is offered as
        a first solution (HiGHS ignores an infeasible one)."""
        if warm and not problem.is_mip:
            return
        if not problem.is_mip and phase.basis is not None and not phase.method:
            basis = with_basic_rows(phase.basis, problem.n_cols, problem.rows.n_rows)
            if basis is not None:
                h.setBasis(basis)
                return
        start = phase.start
        if start is None and warm:
            start = kept.last_x
        if start is not None:
            offered = highspy.HighsSolution()
            offered.col_value = np.asarray(start, float).tolist()
            offered.value_valid = True
            h.setSolution(offered)


def _read_solution(
    h: highspy.Highs, name: str, problem: HighsProblem, n_model_rows: int, started: float
) -> Solution:
    """The run's outcome in :class:`Solution`'s terms, costs unscaled: duals of the model's rows
    only (not the phase's extra rows) and, for an optimal LP, its basis for a later phase."""
    status = highs_status(h.getModelStatus())
    info = h.getInfo()
    has_primal = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = row_dual = col_dual = basis = objective = None
    if has_primal and status in ("optimal", "time_limit"):
        sol = h.getSolution()
        x = np.asarray(sol.col_value)
        objective = float(info.objective_function_value) / problem.scale
        if not problem.is_mip and sol.dual_valid:
            row_dual = np.asarray(sol.row_dual)[:n_model_rows] / problem.scale
            col_dual = np.asarray(sol.col_dual) / problem.scale
        if not problem.is_mip and status == "optimal":
            basis = h.getBasis()
            basis = basis if basis.valid else None
    elif status == "time_limit":
        status = "time_limit_no_solution"
    gap = float(info.mip_gap) if problem.is_mip and x is not None else None
    detail = h.modelStatusToString(h.getModelStatus())
    seconds = time.perf_counter() - started
    return Solution(name, status, x, objective, row_dual, col_dual, seconds, detail, gap, basis)
