"""The distribution of a plan's value over scenarios: expected value, percentiles and CVaR.

Computed from the per-scenario values alone (not from the LP's η and u columns), so it also
checks the CVaR rows: at an optimum with a CVaR weight the two must agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def cvar_usd(values: np.ndarray, probability: np.ndarray, alpha: float) -> float:
    """CVaR_α of value (higher is better): the probability-weighted mean of the worst
    1 − α of outcomes, splitting the scenario that straddles the cut.

    Equals max_η η − E[(η − V)⁺]/(1 − α) (Rockafellar–Uryasev), which is what the LP maximizes.
    """
    values = np.asarray(values, dtype=float)
    probability = np.asarray(probability, dtype=float)
    order = np.argsort(values, kind="stable")
    tail = 1.0 - alpha
    taken = 0.0
    total = 0.0
    for i in order:
        w = min(probability[i], tail - taken)
        if w <= 0:
            break
        total += w * values[i]
        taken += w
    return total / tail


def weighted_quantile(values: np.ndarray, probability: np.ndarray, q: float) -> float:
    """The smallest value whose cumulative probability reaches ``q`` (a lower quantile)."""
    values = np.asarray(values, dtype=float)
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(np.asarray(probability, dtype=float)[order])
    i = int(np.searchsorted(cum, q - 1e-12))
    return float(values[order[min(i, len(order) - 1)]])


@dataclass(frozen=True)
class ValueDistribution:
    """Summary of a plan's value across scenarios, USD."""

    expected_usd: float
    cvar_usd: float
    cvar_alpha: float
    p5_usd: float
    p50_usd: float
    p95_usd: float
    worst_usd: float
    best_usd: float

    def as_dict(self) -> dict[str, float]:
        return {
            "expected_value_usd": self.expected_usd,
            "cvar_usd": self.cvar_usd,
            "cvar_alpha": self.cvar_alpha,
            "p5_value_usd": self.p5_usd,
            "p50_value_usd": self.p50_usd,
            "p95_value_usd": self.p95_usd,
            "worst_value_usd": self.worst_usd,
            "best_value_usd": self.best_usd,
        }


def distribution(values: np.ndarray, probability: np.ndarray, alpha: float) -> ValueDistribution:
    """Expected value, CVaR_α and percentiles of per-scenario ``values``."""
    values = np.asarray(values, dtype=float)
    probability = np.asarray(probability, dtype=float)
    return ValueDistribution(
        expected_usd=float(probability @ values),
        cvar_usd=cvar_usd(values, probability, alpha),
        cvar_alpha=alpha,
        p5_usd=weighted_quantile(values, probability, 0.05),
        p50_usd=weighted_quantile(values, probability, 0.50),
        p95_usd=weighted_quantile(values, probability, 0.95),
        worst_usd=float(values.min()),
        best_usd=float(values.max()),
    )
