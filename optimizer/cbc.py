"""The CBC backend: a phase written as a PuLP problem and solved by PuLP's bundled CBC binary.

This is the independent second solver (``--solver cbc``): another code path and another
algorithm on the very same phase rows (:func:`phase_rows`), for checking HiGHS's answers. PuLP
writes an MPS file per solve, so it is slower, and CBC gives no duals for a MIP.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pulp

from realloc.optimizer.matrix import MatrixForm
from realloc.optimizer.phase import Phase, PhaseRows, Solution, SolverOptions, phase_rows


def _pulp_columns(prob: pulp.LpProblem, phase: Phase) -> list[pulp.LpVariable]:
    """One PuLP variable ``x<j>`` per column, with the phase's bounds and integrality."""
    return [
        prob.add_variable(
            f"x{j}",
            None if np.isinf(lb) else float(lb),
            None if np.isinf(ub) else float(ub),
            pulp.LpInteger if integer else pulp.LpContinuous,
        )
        for j, (lb, ub, integer) in enumerate(zip(phase.lb, phase.ub, phase.integer, strict=True))
    ]


def _pulp_rows(prob: pulp.LpProblem, cols: list, rows: PhaseRows) -> list[pulp.LpConstraint]:
    """One PuLP constraint ``r<i>`` per phase row (ranged rows keep their finite lower bound,
    as realloc's rows are one-sided or equalities)."""
    out = []
    for i in range(rows.n_rows):
        span = slice(rows.indptr[i], rows.indptr[i + 1])
        expr = pulp.LpAffineExpression(
            [(cols[j], float(v)) for j, v in zip(rows.indices[span], rows.data[span], strict=True)]
        )
        lo, hi = rows.lo[i], rows.hi[i]
        if lo == hi:
            con = pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"r{i}", float(lo))
        elif np.isinf(lo):
            con = pulp.LpConstraint(expr, pulp.LpConstraintLE, f"r{i}", float(hi))
        else:
            con = pulp.LpConstraint(expr, pulp.LpConstraintGE, f"r{i}", float(lo))
        prob.addConstraint(con)
        out.append(con)
    return out


def _status(code: int, sol_status: int, time_limited: bool) -> str:
    """PuLP's status and solution status in :class:`Solution`'s words."""
    if code == pulp.LpStatusOptimal and sol_status == pulp.LpSolutionOptimal:
        return "optimal"
    if code == pulp.LpStatusOptimal:
        return "time_limit"
    if code == pulp.LpStatusInfeasible:
        return "infeasible"
    if code == pulp.LpStatusUnbounded:
        return "unbounded"
    return "time_limit_no_solution" if time_limited else "error"


class CbcBackend:
    """CBC through PuLP's bundled binary (writes an MPS file per solve; slower, no MIP duals)."""

    name = "cbc"

    def __init__(self, options: SolverOptions | None = None):
        self.options = options or SolverOptions()

    @staticmethod
    def version() -> str:
        return f"CBC (PuLP {pulp.__version__} bundled)"

    def solve(self, mf: MatrixForm, phase: Phase) -> Solution:
        started = time.perf_counter()
        prob = pulp.LpProblem(phase.name, pulp.LpMinimize)
        cols = _pulp_columns(prob, phase)
        prob.setObjective(
            pulp.LpAffineExpression(
                [(cols[j], float(c)) for j, c in enumerate(phase.cost) if c != 0.0]
            )
        )
        rows = _pulp_rows(prob, cols, phase_rows(mf, phase))
        code = self._run(prob)
        status = _status(code, prob.sol_status, bool(self.options.time_limit_s))
        x = row_dual = col_dual = objective = None
        if status in ("optimal", "time_limit"):
            x = np.array([v.varValue or 0.0 for v in cols])
            objective = float(phase.cost @ x)
            if not phase.integer.any():
                row_dual = np.array([c.pi or 0.0 for c in rows[: mf.n_rows]])
                col_dual = np.array([v.dj or 0.0 for v in cols])
        seconds = time.perf_counter() - started
        detail = pulp.LpStatus[code]
        return Solution(phase.name, status, x, objective, row_dual, col_dual, seconds, detail)

    def _run(self, prob: pulp.LpProblem) -> int:
        """Solve with CBC, silent, under the user's limits; PuLP's status code."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            solver = pulp.PULP_CBC_CMD(
                msg=False, timeLimit=self.options.time_limit_s, gapRel=self.options.mip_rel_gap
            )
            return prob.solve(solver)
