"""The built model in matrix form (CSR rows, bounds, costs), as the builder recorded it.

Every solve phase (plan, lexicographic BTC, baseline, elastic) is a variation of these arrays:
different costs, bounds or one extra row. HiGHS is handed them in memory (highspy's
``passModel``); the CBC backend builds a PuLP problem from them (optimizer/solvers.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pulp

from realloc.optimizer.build import Model


@dataclass(frozen=True)
class MatrixForm:
    """min/max-agnostic matrix data: rows lo ≤ A·x ≤ hi, bounds lb ≤ x ≤ ub, value coefficients."""

    value: np.ndarray  # [n] value coefficients ($M, expected over scenarios)
    lb: np.ndarray
    ub: np.ndarray
    integer: np.ndarray  # [n] bool
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    row_lo: np.ndarray
    row_hi: np.ndarray
    row_names: list[str]
    col_names: list[str]

    @property
    def n_cols(self) -> int:
        return len(self.value)

    @property
    def n_rows(self) -> int:
        return len(self.row_lo)

    @property
    def n_nonzeros(self) -> int:
        return len(self.data)

    def row_activity(self, x: np.ndarray) -> np.ndarray:
        """A·x for a solution x."""
        counts = np.diff(self.indptr)
        products = self.data * x[self.indices]
        out = np.zeros(self.n_rows)
        nonempty = counts > 0
        out[nonempty] = np.add.reduceat(products, self.indptr[:-1][nonempty])
        return out


def _row_bounds(sense: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ge_or_eq = (sense == pulp.LpConstraintGE) | (sense == pulp.LpConstraintEQ)
    le_or_eq = (sense == pulp.LpConstraintLE) | (sense == pulp.LpConstraintEQ)
    return np.where(ge_or_eq, rhs, -np.inf), np.where(le_or_eq, rhs, np.inf)


def to_matrix(m: Model) -> MatrixForm:
    """The arrays of ``m`` as recorded by the builder (columns and rows in creation order)."""
    lo, hi = _row_bounds(np.asarray(m.row_sense, dtype=int), np.asarray(m.row_rhs, dtype=float))
    indptr = np.asarray(m.row_start, dtype=np.int64)
    indices = np.asarray(m.row_cols, dtype=np.int32)
    data = np.asarray(m.row_coefs, dtype=float)
    zero = data == 0.0
    if zero.any():  # coefficients that cancelled out are not entries
        rows = np.repeat(np.arange(len(lo)), np.diff(indptr))
        kept = np.bincount(rows[~zero], minlength=len(lo))
        indptr = np.concatenate([[0], np.cumsum(kept)]).astype(np.int64)
        indices, data = indices[~zero], data[~zero]
    return MatrixForm(
        value=np.asarray(m.objective, dtype=float),
        lb=np.asarray(m.col_lb, dtype=float),
        ub=np.asarray(m.col_ub, dtype=float),
        integer=np.asarray(m.col_integer, dtype=bool),
        indptr=indptr,
        indices=indices,
        data=data,
        row_lo=lo,
        row_hi=hi,
        row_names=list(m.row_names),
        col_names=list(m.col_names),
    )


def from_pulp(prob: pulp.LpProblem, columns: list[pulp.LpVariable]) -> MatrixForm:
    """Read a PuLP problem into arrays (columns in the order given; each has ``.index``).

    ``to_matrix`` does not go through PuLP; this reads ``Model.prob`` back so tests can check
    that the PuLP problem and the arrays the solvers get are the same model.
    """
    n = len(columns)
    value = np.zeros(n)
    for var, coef in prob.objective.items():
        value[var.index] = coef
    lb = np.array([-np.inf if v.lowBound is None else v.lowBound for v in columns], dtype=float)
    ub = np.array([np.inf if v.upBound is None else v.upBound for v in columns], dtype=float)
    integer = np.array([v.cat == pulp.LpInteger for v in columns], dtype=bool)
    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    sense: list[int] = []
    rhs: list[float] = []
    names: list[str] = []
    for con in prob.constraints():
        for var, coef in con.items():
            indices.append(var.index)
            data.append(coef)
        indptr.append(len(indices))
        sense.append(con.sense)
        rhs.append(-con.constant)
        names.append(con.name)
    lo, hi = _row_bounds(np.asarray(sense, dtype=int), np.asarray(rhs, dtype=float))
    return MatrixForm(
        value=value,
        lb=lb,
        ub=ub,
        integer=integer,
        indptr=np.asarray(indptr, dtype=np.int64),
        indices=np.asarray(indices, dtype=np.int32),
        data=np.asarray(data, dtype=float),
        row_lo=lo,
        row_hi=hi,
        row_names=names,
        col_names=[v.name for v in columns],
    )
