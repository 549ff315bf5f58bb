"""The reallocation LP: build (``build``), solve (``solve``, ``solvers``), extract, verify.

Public entry point: :func:`plan_portfolio`, returning a :class:`PlanResult`.

The names below load on first use (PEP 562): the reports read a plan's headline figures from
``realloc.optimizer.statistics`` (numpy and pandas only), and importing that submodule runs this
file, which must not load the model builder and the solvers for them.
"""

from importlib import import_module
from typing import TYPE_CHECKING

_HOMES = {
    "CONSTRAINT_FAMILIES": "build",
    "OBJECTIVE_TERMS": "build",
    "PlanTables": "extract",
    "Scenario": "index",
    "PlanResult": "pipeline",
    "PlanVerificationError": "pipeline",
    "plan_portfolio": "pipeline",
    "SolverOptions": "solvers",
    "StochasticAnalysis": "stochastic",
    "analyse": "stochastic",
}
"""Each public name and the submodule that defines it."""

__all__ = [
    "CONSTRAINT_FAMILIES",
    "OBJECTIVE_TERMS",
    "PlanResult",
    "PlanTables",
    "PlanVerificationError",
    "Scenario",
    "SolverOptions",
    "StochasticAnalysis",
    "analyse",
    "plan_portfolio",
]


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


if TYPE_CHECKING:
    from realloc.optimizer.build import CONSTRAINT_FAMILIES, OBJECTIVE_TERMS
    from realloc.optimizer.extract import PlanTables
    from realloc.optimizer.index import Scenario
    from realloc.optimizer.pipeline import PlanResult, PlanVerificationError, plan_portfolio
    from realloc.optimizer.solvers import SolverOptions
    from realloc.optimizer.stochastic import StochasticAnalysis, analyse
