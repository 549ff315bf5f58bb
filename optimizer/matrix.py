"""The built PuLP model in matrix form (CSR rows, bounds, costs), read once after building.

Every solve phase (plan, lexicographic BTC, baseline, elastic) is a variation of these arrays:
different costs, bounds or one extra row. Solvers receive arrays through their APIs, not files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pulp

from optimizer.build import Model


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


def to_matrix(m: Model) -> MatrixForm:
    """Read the PuLP problem of ``m`` into arrays (columns in creation order)."""
    n = len(m.columns)
    value = np.zeros(n)
    for var, coef in m.prob.objective.items():
        value[var.index] = coef
    lb = np.array([-np.inf if v.lowBound is None else v.lowBound for v in m.columns], dtype=float)
    ub = np.array([np.inf if v.upBound is None else v.upBound for v in m.columns], dtype=float)
    integer = np.array([v.cat == pulp.LpInteger for v in m.columns], dtype=bool)
    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    lo: list[float] = []
    hi: list[float] = []
    names: list[str] = []
    for con in m.prob.constraints():
        name = con.name
        for var, coef in con.items():
            indices.append(var.index)
            data.append(coef)
        indptr.append(len(indices))
        bound = -con.constant
        lo.append(bound if con.sense in (pulp.LpConstraintGE, pulp.LpConstraintEQ) else -np.inf)
        hi.append(bound if con.sense in (pulp.LpConstraintLE, pulp.LpConstraintEQ) else np.inf)
        names.append(name)
    return MatrixForm(
        value=value,
        lb=lb,
        ub=ub,
        integer=integer,
        indptr=np.asarray(indptr, dtype=np.int64),
        indices=np.asarray(indices, dtype=np.int32),
        data=np.asarray(data, dtype=float),
        row_lo=np.asarray(lo),
        row_hi=np.asarray(hi),
        row_names=names,
        col_names=[v.name for v in m.columns],
    )
