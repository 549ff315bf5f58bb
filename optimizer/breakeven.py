"""Breakeven finding: the value of one parameter where a site's conversion decision flips.

The decision is "the plan converts more than ``threshold_mw`` of IT MW at the site". Bisection
needs the decision to differ at the two ends of the bracket; it then halves the bracket until it
is narrower than the tolerance, solving one plan per step (with a warm-started backend, since
consecutive plans differ only in one number). When the decision changes more than once inside
the bracket, bisection finds one of the flips, not necessarily the first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from realloc.models import Portfolio
from realloc.optimizer.pipeline import PlanResult, plan_portfolio
from realloc.optimizer.solvers import HighsBackend, SolverOptions


@dataclass
class Probe:
    """One plan solved during the search."""

    value: float
    converted_mw: float
    status: str
    value_usd: float | None

    def converts(self, threshold_mw: float) -> bool:
        return self.converted_mw > threshold_mw


PROBE_COLUMNS = ["param", "mode", "value", "converted_it_mw", "converts", "status", "value_usd"]
"""Columns of :meth:`Breakeven.probe_frame` (and of ``realloc breakeven --out``)."""


@dataclass
class Breakeven:
    """The final bracket: the decision at ``lo`` differs from the decision at ``hi``."""

    site: str
    lo: float
    hi: float
    converts_at_lo: bool
    converts_at_hi: bool
    tolerance: float
    threshold_mw: float
    probes: list[Probe] = field(default_factory=list)
    seconds: float = 0.0
    param: str = ""  # the field path bisected (set by realloc.batch.breakeven)
    mode: str = ""  # "scale" (a multiplier of the field) or "set" (its value)

    @property
    def estimate(self) -> float:
        """Midpoint of the final bracket."""
        return (self.lo + self.hi) / 2

    def probe_frame(self) -> pd.DataFrame:
        """Every plan solved during the search, one row each, in the order solved."""
        return pd.DataFrame(
            [
                {
                    "param": self.param,
                    "mode": self.mode,
                    "value": p.value,
                    "converted_it_mw": p.converted_mw,
                    "converts": p.converts(self.threshold_mw),
                    "status": p.status,
                    "value_usd": p.value_usd,
                }
                for p in self.probes
            ],
            columns=[
                "param",
                "mode",
                "value",
                "converted_it_mw",
                "converts",
                "status",
                "value_usd",
            ],
        )


class NoFlip(ValueError):
    """The decision is the same at both ends of the bracket: there is nothing to bisect."""

    def __init__(self, lo: Probe, hi: Probe, site: str, threshold_mw: float):
        self.lo, self.hi = lo, hi
        both = "converts" if lo.converts(threshold_mw) else "does not convert"
        super().__init__(
            f"{site} {both} at both ends of the bracket ({lo.value:g}: {lo.converted_mw:,.2f} "
            f"IT MW; {hi.value:g}: {hi.converted_mw:,.2f} IT MW); widen --lo/--hi"
        )


class ProbeFailed(RuntimeError):
    """A plan in the search had no solution, so the decision there is unknown."""


def converted_it_mw(result: PlanResult, site: str) -> float:
    """IT MW the plan starts converting at ``site`` over the horizon."""
    conv = result.tables.conversions
    return float(conv.loc[conv["site"] == site, "it_mw"].sum()) if len(conv) else 0.0


def _check_bracket(lo: float, hi: float, tolerance: float) -> None:
    """Refuse a bracket or tolerance the bisection cannot work with, before any plan is
    solved."""
    if not lo < hi:
        raise ValueError(f"the bracket needs lo < hi, got lo={lo:g}, hi={hi:g}")
    if not tolerance > 0:
        raise ValueError(f"the tolerance must be above zero, got {tolerance:g}")


def _bisect(
    probe: Callable[[float], Probe],
    lo: float,
    hi: float,
    tolerance: float,
    threshold_mw: float,
    site: str,
) -> tuple[float, float, bool]:
    """The bisection itself, apart from how a point is probed: check that the decision
    differs at the bracket's ends (else NoFlip), then halve the bracket until it is no wider
    than ``tolerance``. Returns the final bracket and whether ``site`` converts at its low end.
    """
    p_lo, p_hi = probe(lo), probe(hi)
    at_lo = p_lo.converts(threshold_mw)
    if at_lo == p_hi.converts(threshold_mw):
        raise NoFlip(p_lo, p_hi, site, threshold_mw)
    while hi - lo > tolerance:
        mid = (lo + hi) / 2
        if probe(mid).converts(threshold_mw) == at_lo:
            lo = mid
        else:
            hi = mid
    return lo, hi, at_lo


def find_breakeven(
    portfolio_at: Callable[[float], Portfolio],
    site: str,
    lo: float,
    hi: float,
    tolerance: float,
    threshold_mw: float = 0.1,
    solver: str = "highs",
    relax: bool = False,
    options: SolverOptions | None = None,
    reuse: bool = True,
    on_probe: Callable[[Probe], None] | None = None,
) -> Breakeven:
    """Bisect ``[lo, hi]`` to where ``site`` starts or stops converting, to ``tolerance``."""
    _check_bracket(lo, hi, tolerance)
    started = time.perf_counter()
    options = options or SolverOptions()
    backend = HighsBackend(options, reuse=True) if reuse and solver == "highs" else None
    probes: list[Probe] = []

    def probe(v: float) -> Probe:
        if backend is not None:
            backend.new_plan()
        r = plan_portfolio(
            portfolio_at(v), solver=solver, relax=relax, options=options, backend=backend
        )
        if r.tables is None:
            raise ProbeFailed(
                f"the plan at {v:g} is {r.status}, so the decision there is unknown: "
                + " ".join(r.diagnosis)
            )
        p = Probe(v, converted_it_mw(r, site), r.status, r.value_usd)
        probes.append(p)
        if on_probe is not None:
            on_probe(p)
        return p

    lo, hi, at_lo = _bisect(probe, lo, hi, tolerance, threshold_mw, site)
    return Breakeven(
        site,
        lo,
        hi,
        at_lo,
        not at_lo,
        tolerance,
        threshold_mw,
        probes,
        time.perf_counter() - started,
    )
