"""What one solve is, whatever the solver: a phase, its rows, its solution, the user's limits.

A plan is solved in *phases* (value, value with integers fixed, keep BTC, baseline, elastic
funding). Each phase minimizes ``cost``·x over the model's rows (:class:`MatrixForm`), with its
own column bounds, optional overrides of the row bounds, and optional extra rows that exist for
that phase only. :func:`phase_rows` is the one place where those rows are put together; every
backend (HiGHS, CBC) and the integer rounding read the phase's rows from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

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
    of iterations instead of re-running the simplex method from a slack basis."""


@dataclass
class Solution:
    """What a phase returns; ``status`` is optimal | time_limit | infeasible | unbounded | error
    (or time_limit_no_solution)."""

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


@dataclass
class PhaseRows:
    """Every row of a phase in CSR form: the model's rows (with the phase's bound overrides)
    followed by its extra rows. Row ``i`` is ``lo[i] ≤ Σ data[k]·x[indices[k]] ≤ hi[i]`` over
    ``k`` in ``indptr[i]:indptr[i+1]``; the first ``MatrixForm.n_rows`` rows are the model's, so
    duals of the model's rows are the first ``n_rows`` entries of a row-dual vector."""

    indptr: np.ndarray  # int64, n_rows + 1
    indices: np.ndarray  # int32 column of each nonzero
    data: np.ndarray  # float coefficient of each nonzero
    lo: np.ndarray
    hi: np.ndarray

    @property
    def n_rows(self) -> int:
        return len(self.lo)

    def row_of_nonzero(self) -> np.ndarray:
        """The row index of every nonzero (the COO row array)."""
        return np.repeat(np.arange(self.n_rows, dtype=np.int64), np.diff(self.indptr))


def phase_rows(mf: MatrixForm, phase: Phase) -> PhaseRows:
    """The phase's full rows: the model's, bounded by the phase's overrides where it has them,
    then ``phase.extra_rows`` appended in order."""
    lo = mf.row_lo if phase.row_lo is None else phase.row_lo
    hi = mf.row_hi if phase.row_hi is None else phase.row_hi
    extra = phase.extra_rows
    ends = mf.indptr[-1] + np.cumsum([len(r.cols) for r in extra], dtype=np.int64)
    return PhaseRows(
        indptr=np.concatenate([mf.indptr, ends]).astype(np.int64),
        indices=np.concatenate([mf.indices, *(r.cols for r in extra)]).astype(np.int32),
        data=np.concatenate([mf.data, *(r.coefs for r in extra)]).astype(float),
        lo=np.concatenate([lo, [r.lo for r in extra]]).astype(float),
        hi=np.concatenate([hi, [r.hi for r in extra]]).astype(float),
    )
