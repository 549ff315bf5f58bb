"""Solver backends: HiGHS through highspy's API (default) and CBC through PuLP.

Both solve a *phase* (optimizer/phase.py): minimize cost·x over the model's rows plus the
phase's extra rows, with the phase's bounds, and return duals in one convention: the change of
the minimized objective per unit increase of a row's bound (or a column's active bound). The
HiGHS backend is in optimizer/highs.py (with model reuse and warm starts as an option), the CBC
backend in optimizer/cbc.py; this module picks one by name and is where callers import from.
"""

from __future__ import annotations

from realloc.optimizer.cbc import CbcBackend
from realloc.optimizer.highs import HighsBackend
from realloc.optimizer.phase import (
    ExtraRow,
    Phase,
    PhaseRows,
    Solution,
    SolverOptions,
    phase_rows,
)

__all__ = [
    "CbcBackend",
    "ExtraRow",
    "HighsBackend",
    "Phase",
    "PhaseRows",
    "Solution",
    "SolverOptions",
    "make_backend",
    "phase_rows",
]


def make_backend(name: str, options: SolverOptions | None = None, reuse: bool = False):
    """The backend called ``name`` (``highs`` or ``cbc``). ``reuse``: keep HiGHS's models between
    plans and warm-start them (a sweep's or a bisection's many similar plans); CBC, which runs as
    a separate program per solve, has nothing to keep and ignores it."""
    options = options or SolverOptions()
    if name == "highs":
        return HighsBackend(options, reuse=reuse)
    if name == "cbc":
        return CbcBackend(options)
    raise ValueError(f"unknown solver {name!r}; choose highs or cbc")
