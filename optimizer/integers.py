"""Solve a phase with integer columns: LP relaxation first, a MILP only when rounding falls short.

realloc's integers are the all-or-nothing commitments of contracts with a minimum size. Their LP
relaxation is nearly always tight (on every ladder size and the 50-path stochastic example the
relaxed optimum equals the MILP optimum), and a commitment can usually be rounded to 0 or 1
without moving any continuous column. So a phase with integers is solved as:

1. the **relaxation** (integers continuous), which also bounds the MILP's optimum;
2. its integers **rounded** so that every row still holds with the continuous columns unchanged;
3. the **fixed-integer LP** (integers fixed at the rounded values), restarted from the
   relaxation's basis: a handful of simplex iterations; it is a MILP-feasible solution with
   duals, accepted when its objective is within ``mip_rel_gap`` of the relaxation's bound,
   the same guarantee HiGHS's branch and bound gives;
4. otherwise the **MILP**, offered the fixed-integer solution as its first incumbent, then its
   integers fixed and the LP re-solved from the relaxation's basis for duals.

Why: branch and bound, and then a fixed-integer LP solved from scratch for the duals, each cost
several times the relaxation; when the relaxation is tight, one relaxation and a restart from its
basis give the same guarantee and the duals for a fraction of that.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from realloc.optimizer.matrix import MatrixForm
from realloc.optimizer.phase import Phase, Solution, phase_rows

INTEGRALITY_TOLERANCE = 1e-6
"""A relaxed integer column this close to an integer counts as integral (HiGHS's default)."""
ROUNDING_TOLERANCE = 1e-6
"""Row slack (relative to the row's largest term, at least 1) allowed to a rounded point."""
ABS_GAP = 1e-7
"""Absolute objective gap always accepted ($M: ten cents), for objectives near zero."""


def round_integers(mf: MatrixForm, phase: Phase, x: np.ndarray) -> np.ndarray | None:
    """Values for the phase's integer columns, near ``x``, that keep every row feasible with
    the continuous columns at ``x``; None when no such rounding is found.

    Each integer column starts at its nearest integer; a column that leaves a row it appears in
    violated tries its other neighbour (floor or ceiling) and keeps whichever violates less.
    Then every row is checked.
    """
    cols = np.flatnonzero(phase.integer)
    all_rows = phase_rows(mf, phase)
    indices, data, lo, hi = all_rows.indices, all_rows.data, all_rows.lo, all_rows.hi
    rows_of_nz = all_rows.row_of_nonzero()
    terms = data * x[indices]
    scale = np.maximum(1.0, np.abs(np.bincount(rows_of_nz, np.abs(terms), len(lo))))
    tol = ROUNDING_TOLERANCE * scale
    value = np.clip(np.round(x[cols]), phase.lb[cols], phase.ub[cols])
    activity = np.bincount(rows_of_nz, terms, len(lo))
    step = np.zeros(mf.n_cols)
    step[cols] = value - x[cols]
    moved = np.isin(indices, cols)
    activity += np.bincount(rows_of_nz[moved], data[moved] * step[indices[moved]], len(lo))

    def violation(act: np.ndarray, rows: np.ndarray) -> float:
        return float(
            np.maximum(0.0, lo[rows] - act[rows] - tol[rows]).sum()
            + np.maximum(0.0, act[rows] - hi[rows] - tol[rows]).sum()
        )

    for n, j in enumerate(cols.tolist()):
        nz = np.flatnonzero(indices == j)
        rows, coefs = rows_of_nz[nz], data[nz]
        here = violation(activity, rows)
        if here == 0.0 or abs(x[j] - value[n]) <= INTEGRALITY_TOLERANCE:
            continue
        other = np.floor(x[j]) if value[n] > x[j] else np.ceil(x[j])
        if not phase.lb[j] <= other <= phase.ub[j]:
            continue
        trial = activity.copy()
        np.add.at(trial, rows, coefs * (other - value[n]))
        if violation(trial, rows) < here:
            activity, value[n] = trial, other
    if violation(activity, np.arange(len(lo))) > 0.0:
        return None
    return value


def block_roundings(mf: MatrixForm, phase: Phase, x: np.ndarray) -> list[np.ndarray]:
    """Candidate values for the phase's integer columns when ``round_integers`` finds none and
    the phase builds halls in blocks (``blocks_*`` columns: blocks started by each month,
    optimizer/grid_terms.py): the block counts rounded to nearest, then rounded down (every
    other integer to its nearest). A block count moves the builds with it, so no row can be
    kept with the continuous columns unchanged; the fixed-integer LP decides whether a
    candidate is feasible (rounded down is whenever a smaller conversion is) and which is
    better, and the gap to the relaxation's bound whether the MILP is still needed."""
    cols = np.flatnonzero(phase.integer)
    is_block = np.array([mf.col_names[j].startswith("blocks_") for j in cols], dtype=bool)
    if not is_block.any():
        return []
    nearest = np.round(x[cols])
    down = nearest.copy()
    down[is_block] = np.floor(x[cols][is_block] + INTEGRALITY_TOLERANCE)
    out = [np.clip(v, phase.lb[cols], phase.ub[cols]) for v in (nearest, down)]
    return out[:1] if np.array_equal(out[0], out[1]) else out


def relative_gap(objective: float, bound: float) -> float:
    """(objective − bound) / |objective| of a minimization (0 when within ABS_GAP)."""
    diff = objective - bound
    if diff <= ABS_GAP:
        return 0.0
    return diff / max(abs(objective), 1e-12)


def fixed(phase: Phase, cols: np.ndarray, values: np.ndarray, name: str, basis) -> Phase:
    """The phase as an LP with the integer columns ``cols`` fixed at ``values``."""
    lb, ub = phase.lb.copy(), phase.ub.copy()
    lb[cols] = values
    ub[cols] = values
    return replace(
        phase,
        name=name,
        lb=lb,
        ub=ub,
        integer=np.zeros_like(phase.integer),
        start=None,
        basis=basis,
        method=None,
    )


def solve_with_integers(
    backend, mf: MatrixForm, phase: Phase, mip_rel_gap: float, duals: bool = True
) -> tuple[Solution, Solution | None, list[Solution]]:
    """Solve ``phase`` (integer columns in ``phase.integer``) as the module docstring says.

    Returns the integer-feasible solution (its ``mip_gap`` set), the fixed-integer LP with duals
    (None when there is none; it *is* the first when rounding succeeded) and every solve made.
    ``duals=False`` skips step 4's fixed-integer LP. ``phase.start`` is offered to the MILP
    when rounding found no incumbent; ``phase.basis`` restarts the relaxation.
    """
    solves: list[Solution] = []
    relaxed = backend.solve(
        mf,
        replace(
            phase, name=f"{phase.name}_relaxation", integer=np.zeros_like(phase.integer), start=None
        ),
    )
    solves.append(relaxed)
    if relaxed.status != "optimal":
        # an infeasible relaxation proves the MILP infeasible (unbounded: unbounded or
        # infeasible, reported alike); a relaxation stopped by the time limit has no plan
        if relaxed.status == "time_limit":
            relaxed = replace(relaxed, status="time_limit_no_solution", x=None)
        return relaxed, None, solves
    cols = np.flatnonzero(phase.integer)
    bound = relaxed.objective
    values = round_integers(mf, phase, relaxed.x)
    candidates = [values] if values is not None else block_roundings(mf, phase, relaxed.x)
    first: Solution | None = None
    tried: Solution | None = None  # the last candidate (an incumbent even when not optimal)
    for vals in candidates:
        sol = backend.solve(
            mf, fixed(phase, cols, vals, f"{phase.name}_fixed_integers", relaxed.basis)
        )
        solves.append(sol)
        tried = sol
        if sol.status == "optimal" and (first is None or sol.objective < first.objective):
            first, at = sol, len(solves) - 1
    if first is not None:
        gap = relative_gap(first.objective, bound)
        if gap <= mip_rel_gap:
            first = solves[at] = replace(first, mip_gap=gap)
            return first, first, solves
    best = first or tried
    incumbent = best.x if best is not None and best.has_solution else phase.start
    mip = backend.solve(mf, replace(phase, start=incumbent, basis=None))
    solves.append(mip)
    if not mip.has_solution or not duals:
        return mip, None, solves
    values = np.round(mip.x[cols])
    lp = backend.solve(
        mf, fixed(phase, cols, values, f"{phase.name}_fixed_integers", relaxed.basis)
    )
    solves.append(lp)
    return mip, (lp if lp.has_solution else None), solves
