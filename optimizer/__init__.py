"""The reallocation LP: build (``build``), solve (``solve``, ``solvers``), extract, verify.

Public entry point: :func:`plan_portfolio`, returning a :class:`PlanResult`.
"""

from realloc.optimizer.build import CONSTRAINT_FAMILIES, OBJECTIVE_TERMS
from realloc.optimizer.extract import PlanTables
from realloc.optimizer.index import Scenario
from realloc.optimizer.pipeline import PlanResult, PlanVerificationError, plan_portfolio
from realloc.optimizer.solvers import SolverOptions
from realloc.optimizer.stochastic import StochasticAnalysis, analyse

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
