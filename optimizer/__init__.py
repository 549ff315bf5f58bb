"""The reallocation LP: build (``build``), solve (``solve``, ``solvers``), extract, verify.

Public entry point: :func:`plan_portfolio`, returning a :class:`PlanResult`.
"""

from optimizer.build import CONSTRAINT_FAMILIES, OBJECTIVE_TERMS
from optimizer.extract import PlanTables
from optimizer.index import Scenario
from optimizer.pipeline import PlanResult, PlanVerificationError, plan_portfolio
from optimizer.solvers import SolverOptions
from optimizer.stochastic import StochasticAnalysis, analyse

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
