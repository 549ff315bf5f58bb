"""Solver backends: HiGHS through highspy's API (default) and CBC through PuLP.

Both solve a *phase*: minimize cost·x over the model's rows plus optional extra rows, with the
phase's bounds. Every backend returns duals in one convention: the change of the minimized
objective per unit increase of a row's bound (or a column's active bound).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import highspy
import numpy as np
import pulp

from realloc.optimizer.matrix import MatrixForm


@dataclass
class ExtraRow:
    """A row added for one phase only (the lexicographic value floor, the elastic gap cap)."""

    cols: np.ndarray
    coefs: np.ndarray
    lo: float
    hi: float


@dataclass
class Phase:
    """One solve: minimize ``cost``·x within ``lb``/``ub`` and the model's (and extra) rows."""

    name: str
    cost: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    integer: np.ndarray
    extra_rows: list[ExtraRow] = field(default_factory=list)
    row_lo: np.ndarray | None = None  # overrides of the model's row bounds for this phase
    row_hi: np.ndarray | None = None
    method: str | None = None  # HiGHS "solver" option (e.g. "ipm"); None: HiGHS's choice
    start: np.ndarray | None = None  # a primal solution to warm-start from (HiGHS only)
    basis: object | None = None
    """An optimal basis of an LP phase with the same columns (``Solution.basis``) to restart the
    simplex method from (HiGHS only; rows beyond the basis's are made basic). Used when only
    costs or bounds changed: the relaxation's basis re-solves the fixed-integer LP in a handful
    of iterations instead of ~30,000 at 50×120×50."""


@dataclass
class Solution:
    """What a phase returns; ``status`` is optimal | time_limit | infeasible | unbounded | error."""

    phase: str
    status: str
    x: np.ndarray | None
    objective: float | None
    row_dual: np.ndarray | None
    col_dual: np.ndarray | None
    seconds: float
    detail: str = ""
    mip_gap: float | None = None
    basis: object | None = None  # the optimal basis of an LP phase (HiGHS), for Phase.basis

    @property
    def has_solution(self) -> bool:
        return self.x is not None


@dataclass
class SolverOptions:
    """Limits a user can set; time-limited results are reported as such, never as optimal."""

    time_limit_s: float | None = None
    mip_rel_gap: float = 1e-4


def _highs_status(status: highspy.HighsModelStatus) -> str:
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


COST_TARGET = 2.0**13
"""Each phase's costs are scaled by a power of two (exact in floating point) so that the largest
is near 8,192: far inside HiGHS's comfortable range [1e-4, 1e6] for costs."""
HIGHS_SMALL = 1e-4
"""HiGHS warns about costs below this; after scaling they are 8 orders of magnitude below the
largest cost, under the simplex method's resolution, and are passed as zero."""
BOUND_NOISE = 1e-9
"""Row bounds closer to zero than this (activities of rows that are truly 0, pinned by the
lexicographic phase) are passed as zero."""


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


LP_SCALE_STRATEGY = 4
"""HiGHS ``simplex_scale_strategy`` for LP phases: 4 (scale each row and column by a power of two
so its largest entry is near 1) instead of the default equilibration. Measured on the value LP:
50×120×50 4.8 s vs 13.5 s (37k vs 48k iterations), 200×120×100 60 s vs >300 s, the 50-path
stochastic example 12.6 s vs 14.9 s; the same optimal objective to 9 digits on every instance.
MIP solves keep HiGHS's defaults (its root LP is not affected by this option)."""


def with_basic_rows(basis, n_cols: int, n_rows: int):
    """``basis`` (a ``highspy.HighsBasis``) extended with basic rows up to ``n_rows`` (None when
    it does not fit: other columns, or more rows than the phase has)."""
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
    kept in a reference cycle by its interrupt callback, so Python frees it only at its next
    cyclic garbage collection: at 50×120×50 each phase's ~50 MB stayed until then, and peak
    memory reached 420 MB instead of 230 MB."""
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


class HighsBackend:
    """HiGHS in process: the model is passed as arrays with ``passModel``."""

    name = "highs"

    def __init__(self, options: SolverOptions):
        self.options = options

    @staticmethod
    def version() -> str:
        h = new_highs()
        return f"HiGHS {h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"

    def solve(self, mf: MatrixForm, phase: Phase) -> Solution:
        started = time.perf_counter()
        indptr, indices, data = mf.indptr, mf.indices, mf.data
        lo = mf.row_lo if phase.row_lo is None else phase.row_lo
        hi = mf.row_hi if phase.row_hi is None else phase.row_hi
        if phase.extra_rows:
            indptr = list(indptr)
            indices, data = [indices], [data]
            lo, hi = [lo], [hi]
            for r in phase.extra_rows:
                indices.append(r.cols.astype(np.int32))
                data.append(r.coefs)
                indptr.append(indptr[-1] + len(r.cols))
                lo.append(np.array([r.lo]))
                hi.append(np.array([r.hi]))
            indptr = np.asarray(indptr, dtype=np.int64)
            indices, data = np.concatenate(indices), np.concatenate(data)
            lo, hi = np.concatenate(lo), np.concatenate(hi)
        lp = highspy.HighsLp()
        lp.num_col_ = mf.n_cols
        lp.num_row_ = len(lo)
        cost, scale = scaled_costs(phase.cost)  # no HiGHS warnings about tiny/huge costs
        lp.col_cost_ = cost
        lp.col_lower_ = phase.lb
        lp.col_upper_ = phase.ub
        lp.row_lower_ = clean_bounds(lo)
        lp.row_upper_ = clean_bounds(hi)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = indptr
        lp.a_matrix_.index_ = indices
        lp.a_matrix_.value_ = data
        is_mip = bool(phase.integer.any())
        if is_mip:
            lp.integrality_ = [
                highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                for i in phase.integer
            ]
        h = new_highs()
        h.setOptionValue("mip_rel_gap", self.options.mip_rel_gap)
        if self.options.time_limit_s:
            h.setOptionValue("time_limit", float(self.options.time_limit_s))
        if phase.method:
            h.setOptionValue("solver", phase.method)
        if not is_mip:
            h.setOptionValue("simplex_scale_strategy", LP_SCALE_STRATEGY)
        h.passModel(lp)
        basis = None
        if phase.basis is not None and not is_mip and not phase.method:
            basis = with_basic_rows(phase.basis, mf.n_cols, len(lo))
        if basis is not None:
            h.setBasis(basis)
        elif phase.start is not None:
            start = highspy.HighsSolution()
            start.col_value = phase.start.tolist()
            start.value_valid = True
            h.setSolution(start)
        run_interruptibly(h)
        status = _highs_status(h.getModelStatus())
        info = h.getInfo()
        has_primal = info.primal_solution_status == 2  # kSolutionStatusFeasible
        x = row_dual = col_dual = basis = None
        objective = None
        if has_primal and status in ("optimal", "time_limit"):
            sol = h.getSolution()
            x = np.asarray(sol.col_value)
            objective = float(h.getInfo().objective_function_value) / scale
            if not is_mip and sol.dual_valid:
                row_dual = np.asarray(sol.row_dual)[: mf.n_rows] / scale
                col_dual = np.asarray(sol.col_dual) / scale
            if not is_mip and status == "optimal":
                basis = h.getBasis()
                basis = basis if basis.valid else None
        elif status == "time_limit":
            status = "time_limit_no_solution"
        gap = float(info.mip_gap) if is_mip and x is not None else None
        detail = h.modelStatusToString(h.getModelStatus())
        release(h)
        return Solution(
            phase.name,
            status,
            x,
            objective,
            row_dual,
            col_dual,
            time.perf_counter() - started,
            detail,
            gap,
            basis,
        )


class CbcBackend:
    """CBC through PuLP's bundled binary (writes an MPS file per solve; slower, no MIP duals)."""

    name = "cbc"

    def __init__(self, options: SolverOptions):
        self.options = options

    @staticmethod
    def version() -> str:
        return f"CBC (PuLP {pulp.__version__} bundled)"

    def solve(self, mf: MatrixForm, phase: Phase) -> Solution:
        started = time.perf_counter()
        prob = pulp.LpProblem(phase.name, pulp.LpMinimize)
        cols = [
            prob.add_variable(
                f"x{j}",
                None if np.isinf(phase.lb[j]) else float(phase.lb[j]),
                None if np.isinf(phase.ub[j]) else float(phase.ub[j]),
                pulp.LpInteger if phase.integer[j] else pulp.LpContinuous,
            )
            for j in range(mf.n_cols)
        ]
        prob.setObjective(
            pulp.LpAffineExpression(
                [(cols[j], float(c)) for j, c in enumerate(phase.cost) if c != 0.0]
            )
        )
        rows = []
        row_lo = mf.row_lo if phase.row_lo is None else phase.row_lo
        row_hi = mf.row_hi if phase.row_hi is None else phase.row_hi
        all_rows = [
            (
                mf.indices[mf.indptr[i] : mf.indptr[i + 1]],
                mf.data[mf.indptr[i] : mf.indptr[i + 1]],
                row_lo[i],
                row_hi[i],
            )
            for i in range(mf.n_rows)
        ]
        all_rows += [(r.cols, r.coefs, r.lo, r.hi) for r in phase.extra_rows]
        for i, (idx, val, lo, hi) in enumerate(all_rows):
            expr = pulp.LpAffineExpression(
                [(cols[j], float(v)) for j, v in zip(idx, val, strict=True)]
            )
            if lo == hi:
                con = pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"r{i}", float(lo))
            elif np.isinf(lo):
                con = pulp.LpConstraint(expr, pulp.LpConstraintLE, f"r{i}", float(hi))
            else:
                con = pulp.LpConstraint(expr, pulp.LpConstraintGE, f"r{i}", float(lo))
            prob.addConstraint(con)
            rows.append(con)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            solver = pulp.PULP_CBC_CMD(
                msg=False, timeLimit=self.options.time_limit_s, gapRel=self.options.mip_rel_gap
            )
            code = prob.solve(solver)
        sol_status = prob.sol_status
        if code == pulp.LpStatusOptimal and sol_status == pulp.LpSolutionOptimal:
            status = "optimal"
        elif code == pulp.LpStatusOptimal:
            status = "time_limit"
        elif code == pulp.LpStatusInfeasible:
            status = "infeasible"
        elif code == pulp.LpStatusUnbounded:
            status = "unbounded"
        else:
            status = "time_limit_no_solution" if self.options.time_limit_s else "error"
        x = row_dual = col_dual = None
        objective = None
        if status in ("optimal", "time_limit"):
            x = np.array([v.varValue or 0.0 for v in cols])
            objective = float(phase.cost @ x)
            if not phase.integer.any():
                row_dual = np.array([c.pi or 0.0 for c in rows[: mf.n_rows]])
                col_dual = np.array([v.dj or 0.0 for v in cols])
        return Solution(
            phase.name,
            status,
            x,
            objective,
            row_dual,
            col_dual,
            time.perf_counter() - started,
            pulp.LpStatus[code],
        )


def make_backend(name: str, options: SolverOptions | None = None):
    """The backend called ``name`` (``highs`` or ``cbc``)."""
    options = options or SolverOptions()
    if name == "highs":
        return HighsBackend(options)
    if name == "cbc":
        return CbcBackend(options)
    raise ValueError(f"unknown solver {name!r}; choose highs or cbc")
