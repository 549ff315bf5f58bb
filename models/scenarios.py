"""Market scenarios and the risk preference of a stochastic (two-stage) plan.

A stochastic plan decides conversions, contracts and rig sales once, for every scenario, and
lets mining, BTC sales and cash follow each scenario's prices. The board's taste for downside
protection is the CVaR weight: 0 maximizes expected value, 1 maximizes the average value of
the worst ``1 − alpha`` share of scenarios.
"""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from realloc.models.base import FieldError, Frozen, Name
from realloc.models.portfolio import Market

PROBABILITY_TOLERANCE = 1e-6
"""How far the scenario probabilities may sum from 1 (rounding in hand-typed files)."""


class MarketScenario(Frozen):
    """One market path and how likely it is."""

    name: Name
    """Scenario name, shown in tables (e.g. ``bust``, ``path-007``)."""
    probability: float = Field(gt=0, le=1)
    """Probability of this path; the scenarios' probabilities sum to 1."""
    market: Market
    """BTC price and hashprice, month by month, on this path."""


class MarketScenarioSet(Frozen):
    """Scenarios a stochastic plan is optimized over."""

    scenarios: list[MarketScenario] = Field(min_length=1)
    """The market paths; names unique, probabilities summing to 1."""

    @model_validator(mode="after")
    def _check(self) -> MarketScenarioSet:
        seen: set[str] = set()
        for i, s in enumerate(self.scenarios):
            if s.name in seen:
                raise FieldError(
                    ("scenarios", i, "name"), f"scenario {s.name!r} is named twice; rename one"
                )
            seen.add(s.name)
        total = math.fsum(s.probability for s in self.scenarios)
        if abs(total - 1.0) > PROBABILITY_TOLERANCE:
            raise FieldError(
                ("scenarios",),
                f"probabilities sum to {total:.6g}, not 1; scale them so they add up to 1",
            )
        return self


class RiskSpec(Frozen):
    """How a stochastic plan trades expected value for downside protection."""

    cvar_alpha: float = Field(default=0.95, gt=0, lt=1)
    """CVaR level α: CVaR is the mean value of the worst 1 − α share of scenarios."""
    risk_weight: float = Field(default=0.0, ge=0, le=1)
    """λ in (1 − λ)·E[V] + λ·CVaR_α(V): 0 for expected value only, 1 for CVaR only."""
