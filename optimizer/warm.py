"""A HiGHS backend that keeps its solver models between plans and warm-starts them.

A sweep solves the same portfolio hundreds of times with different numbers (hashprice, rates,
capex). Each plan is solved in phases (value, value with integers fixed, keep BTC, baseline);
the phase of one scenario has the same rows, columns and sparsity as that phase of the previous
scenario, only some costs, bounds and coefficients differ. :class:`WarmHighsBackend` keeps one
``highspy.Highs`` per phase (keyed by name and integrality) and, when the structure matches,
changes only what differs (``changeColsCost``, ``changeColsBounds``, ``changeRowsBounds``,
``changeCoeff``) instead of passing a new model. HiGHS keeps the previous optimal basis, so an
LP phase restarts from it with the simplex method (a few hundred iterations instead of
thousands); a MIP phase is offered the previous solution as its first incumbent. When the
structure changes (another horizon, a contract more or less, a coefficient that became zero),
the phase is passed afresh: the answer never depends on what was solved before, only the time.

Call :meth:`WarmHighsBackend.new_plan` before each plan: a phase is matched with the same phase
of the previous plan by name, integrality and how many times that name has come up in the plan
(the baseline's value phase is not the plan's).

One instance is meant for one thread: a sweep worker keeps one for its whole life.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import highspy
import numpy as np

from realloc.optimizer import solvers
from realloc.optimizer.matrix import MatrixForm
from realloc.optimizer.solvers import (
    HighsBackend,
    Phase,
    Solution,
    SolverOptions,
    _highs_status,
    clean_bounds,
    new_highs,
    run_interruptibly,
    scaled_costs,
)

MAX_SLOTS = 16
"""Most kept models (a plan has at most ~7 phases)."""


@dataclass
class _Arrays:
    """The full problem of one phase as HiGHS gets it: the model's rows plus the phase's extra
    rows, costs scaled and bounds cleaned exactly as :class:`HighsBackend` does."""

    cost: np.ndarray
    scale: float
    lb: np.ndarray
    ub: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    integer: np.ndarray

    @property
    def n_rows(self) -> int:
        return len(self.lo)

    def same_structure(self, other: _Arrays) -> bool:
        return (
            len(self.cost) == len(other.cost)
            and self.n_rows == other.n_rows
            and np.array_equal(self.indptr, other.indptr)
            and np.array_equal(self.indices, other.indices)
            and np.array_equal(self.integer, other.integer)
        )


def _phase_arrays(mf: MatrixForm, phase: Phase) -> _Arrays:
    lo = mf.row_lo if phase.row_lo is None else phase.row_lo
    hi = mf.row_hi if phase.row_hi is None else phase.row_hi
    indptr, indices, data = mf.indptr, mf.indices, mf.data
    if phase.extra_rows:
        ends = indptr[-1] + np.cumsum([len(r.cols) for r in phase.extra_rows])
        indptr = np.concatenate([indptr, ends]).astype(np.int64)
        indices = np.concatenate([indices, *(r.cols.astype(np.int32) for r in phase.extra_rows)])
        data = np.concatenate([data, *(np.asarray(r.coefs, float) for r in phase.extra_rows)])
        lo = np.concatenate([lo, [r.lo for r in phase.extra_rows]])
        hi = np.concatenate([hi, [r.hi for r in phase.extra_rows]])
    cost, scale = scaled_costs(np.asarray(phase.cost, float))
    return _Arrays(
        cost,
        scale,
        np.asarray(phase.lb, float),
        np.asarray(phase.ub, float),
        clean_bounds(lo),
        clean_bounds(hi),
        np.asarray(indptr, np.int64),
        np.asarray(indices, np.int32),
        np.asarray(data, float),
        np.asarray(phase.integer, bool),
    )


_SOLUTION_FIELDS = {f.name for f in dataclasses.fields(Solution)}
LP_SCALE_STRATEGY = getattr(solvers, "LP_SCALE_STRATEGY", None)
"""HighsBackend's simplex scaling for LP phases, when solvers.py sets one (kept in step)."""


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Indices where two arrays differ (infinities compare equal to themselves)."""
    return np.flatnonzero(~((a == b) | (np.isnan(a) & np.isnan(b))))


@dataclass
class _Slot:
    """One persistent solver: its HiGHS object, the arrays it holds and its last solution."""

    highs: highspy.Highs
    arrays: _Arrays
    row_of_nz: np.ndarray  # row index of every nonzero (for changeCoeff)
    last_x: np.ndarray | None = None


@dataclass
class WarmStats:
    """How often a phase reused its solver (``reused``) or was passed afresh (``fresh``)."""

    reused: int = 0
    fresh: int = 0
    changed_coefficients: int = 0


class WarmHighsBackend(HighsBackend):
    """:class:`HighsBackend` that reuses and warm-starts one HiGHS model per phase."""

    name = "highs"

    def __init__(self, options: SolverOptions | None = None):
        super().__init__(options or SolverOptions())
        self._slots: dict[tuple[str, bool, int], _Slot] = {}
        self._seen: dict[tuple[str, bool], int] = {}
        self.stats = WarmStats()

    def new_plan(self) -> None:
        """Mark the start of a plan, so its phases meet the same phases of the previous plan."""
        self._seen.clear()

    def reset(self) -> None:
        """Forget every kept model (the next solve of each phase starts cold)."""
        self._slots.clear()
        self._seen.clear()

    def _new_highs(self) -> highspy.Highs:
        h = new_highs()
        h.setOptionValue("mip_rel_gap", self.options.mip_rel_gap)
        return h

    def _pass(self, key: tuple[str, bool, int], a: _Arrays) -> _Slot:
        lp = highspy.HighsLp()
        lp.num_col_ = len(a.cost)
        lp.num_row_ = a.n_rows
        lp.col_cost_ = a.cost
        lp.col_lower_ = a.lb
        lp.col_upper_ = a.ub
        lp.row_lower_ = a.lo
        lp.row_upper_ = a.hi
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = a.indptr
        lp.a_matrix_.index_ = a.indices
        lp.a_matrix_.value_ = a.data
        if a.integer.any():
            lp.integrality_ = [
                highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                for i in a.integer
            ]
        h = self._new_highs()
        if not a.integer.any() and LP_SCALE_STRATEGY is not None:
            h.setOptionValue("simplex_scale_strategy", LP_SCALE_STRATEGY)  # as HighsBackend
        h.passModel(lp)
        rows = np.repeat(np.arange(a.n_rows, dtype=np.int64), np.diff(a.indptr))
        slot = _Slot(h, a, rows)
        self._slots[key] = slot
        self.stats.fresh += 1
        return slot

    def _update(self, slot: _Slot, a: _Arrays) -> None:
        """Change the kept model into ``a`` (same structure) in place."""
        h, old = slot.highs, slot.arrays
        idx = _changed(old.cost, a.cost)
        if len(idx):
            h.changeColsCost(len(idx), idx.astype(np.int32), a.cost[idx])
        idx = np.union1d(_changed(old.lb, a.lb), _changed(old.ub, a.ub))
        if len(idx):
            h.changeColsBounds(len(idx), idx.astype(np.int32), a.lb[idx], a.ub[idx])
        idx = np.union1d(_changed(old.lo, a.lo), _changed(old.hi, a.hi))
        if len(idx):
            h.changeRowsBounds(len(idx), idx.astype(np.int32), a.lo[idx], a.hi[idx])
        nz = _changed(old.data, a.data)
        for k in nz.tolist():
            h.changeCoeff(int(slot.row_of_nz[k]), int(a.indices[k]), float(a.data[k]))
        self.stats.changed_coefficients += len(nz)
        slot.arrays = a
        self.stats.reused += 1

    def solve(self, mf: MatrixForm, phase: Phase) -> Solution:
        started = time.perf_counter()
        a = _phase_arrays(mf, phase)
        is_mip = bool(a.integer.any())
        occurrence = self._seen.get((phase.name, is_mip), 0)
        self._seen[(phase.name, is_mip)] = occurrence + 1
        key = (phase.name, is_mip, occurrence)
        if len(self._slots) >= MAX_SLOTS and key not in self._slots:
            self._slots.pop(next(iter(self._slots)))  # new_plan() never called: stay bounded
        slot = self._slots.get(key)
        warm = slot is not None and slot.arrays.same_structure(a)
        if warm:
            self._update(slot, a)
        else:
            slot = self._pass(key, a)
        h = slot.highs
        # a time limit counts from this run, not from the object's creation
        h.setOptionValue("time_limit", float(self.options.time_limit_s or np.inf))
        if warm and not is_mip:
            h.setOptionValue("solver", "simplex")  # restart from the kept basis
        else:
            h.setOptionValue("solver", phase.method or "choose")
        # a warm LP restarts from its kept basis; a cold LP from the caller's basis when the
        # phase carries one; otherwise the caller's start, or for a MIP the previous
        # scenario's solution, is offered (HiGHS ignores an infeasible one)
        start = None
        if not warm and not is_mip:
            given = getattr(phase, "basis", None)  # Phase.basis, when solvers.py has it
            fitted = None
            if given is not None and not phase.method:
                fitted = solvers.with_basic_rows(given, len(a.cost), a.n_rows)
            if fitted is not None:
                h.setBasis(fitted)
            else:
                start = phase.start
        elif is_mip:
            start = phase.start if phase.start is not None else (slot.last_x if warm else None)
        if start is not None:
            cols = np.arange(len(a.cost), dtype=np.int32)
            h.setSolution(len(cols), cols, np.asarray(start, float))
        try:
            run_interruptibly(h)
        except BaseException:
            self._slots.pop(key, None)  # interrupted: never reuse a half-run model
            raise
        status = _highs_status(h.getModelStatus())
        info = h.getInfo()
        has_primal = info.primal_solution_status == 2  # kSolutionStatusFeasible
        x = row_dual = col_dual = None
        objective = None
        if has_primal and status in ("optimal", "time_limit"):
            sol = h.getSolution()
            x = np.asarray(sol.col_value)
            objective = float(info.objective_function_value) / a.scale
            if not is_mip and sol.dual_valid:
                row_dual = np.asarray(sol.row_dual)[: mf.n_rows] / a.scale
                col_dual = np.asarray(sol.col_dual) / a.scale
        elif status == "time_limit":
            status = "time_limit_no_solution"
        if status != "optimal":
            # keep nothing from a run that did not finish cleanly: the next one starts cold
            self._slots.pop(key, None)
        else:
            slot.last_x = x
        gap = float(info.mip_gap) if is_mip and x is not None else None
        extra = {}
        if "basis" in _SOLUTION_FIELDS and x is not None and not is_mip:
            extra["basis"] = h.getBasis()  # for a later phase's Phase.basis
        return Solution(
            phase.name,
            status,
            x,
            objective,
            row_dual,
            col_dual,
            time.perf_counter() - started,
            h.modelStatusToString(h.getModelStatus()),
            gap,
            **extra,
        )
