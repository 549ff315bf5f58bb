"""Sample-average-approximation statistics: confidence intervals of a plan's value on fresh
paths, and the Mak–Morton–Wood bounds on the optimality gap (docs/model.md, "Out-of-sample
evaluation and the optimality gap").

All values are USD, higher is better (the plan maximizes value). Pure arithmetic on arrays:
nothing here solves anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Z_975 = 1.959963984540054
"""Standard normal quantile at 0.975 (two-sided 95 % intervals)."""
Z_95 = 1.6448536269514722
"""Standard normal quantile at 0.95 (one-sided 95 % bounds)."""
_T_95 = (6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812, 1.796, 1.782,
         1.771, 1.761, 1.753, 1.746, 1.740, 1.734, 1.729, 1.725, 1.721, 1.717, 1.714, 1.711,
         1.708, 1.706, 1.703, 1.701, 1.699, 1.697)  # fmt: skip
_T_975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
          2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
          2.060, 2.056, 2.052, 2.048, 2.045, 2.042)  # fmt: skip
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 20_240_601
"""The CVaR interval's bootstrap: resamples and its fixed seed (same values, same interval)."""


def t_quantile(q: float, df: int) -> float:
    """Student's t quantile at 0.95 or 0.975 with ``df`` degrees of freedom (tabled to 30, the
    Cornish–Fisher expansion beyond, within 1e-3 of the exact value)."""
    table, z = {0.95: (_T_95, Z_95), 0.975: (_T_975, Z_975)}[q]
    if df < 1:
        return math.inf
    if df <= len(table):
        return table[df - 1]
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


@dataclass(frozen=True)
class MeanEstimate:
    """A sample mean, its standard error s/√n and a 95 % interval."""

    mean_usd: float
    std_error_usd: float
    ci95_usd: tuple[float, float]
    n: int


def mean_ci95(values, use_t: bool = False) -> MeanEstimate:
    """Mean ± q·s/√n, s the sample standard deviation (n − 1); q = 1.96 (normal approximation)
    or, with ``use_t``, Student's t at 0.975 with n − 1 degrees of freedom. One value: the
    interval is unknown (±inf)."""
    v = np.asarray(values, dtype=float)
    n = len(v)
    mean = float(v.mean())
    if n < 2:
        return MeanEstimate(mean, math.inf, (-math.inf, math.inf), n)
    se = float(v.std(ddof=1)) / math.sqrt(n)
    q = t_quantile(0.975, n - 1) if use_t else Z_975
    return MeanEstimate(mean, se, (mean - q * se, mean + q * se), n)


def cvar_equal(values: np.ndarray, alpha: float) -> np.ndarray:
    """CVaR_α of equally likely values along the last axis: the mean of the worst 1 − α,
    splitting the value that straddles the cut (optimizer/risk.py's definition)."""
    v = np.sort(np.asarray(values, dtype=float), axis=-1)
    n = v.shape[-1]
    tail = 1.0 - alpha
    weights = np.clip(tail - np.arange(n) / n, 0.0, 1.0 / n)
    return (v * weights).sum(axis=-1) / tail


def cvar_ci95(
    values, alpha: float, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED
):
    """(CVaR_α, [lo, hi]): a percentile bootstrap of ``resamples`` resamples drawn with a fixed
    ``seed`` (the 2.5th and 97.5th percentiles of the resampled CVaRs)."""
    v = np.asarray(values, dtype=float)
    point = float(cvar_equal(v, alpha))
    if len(v) < 2:
        return point, (-math.inf, math.inf)
    rng = np.random.default_rng(seed)
    lo, hi = 0, len(v)
    draws = np.empty(resamples)
    for start in range(0, resamples, 100):  # 100 resamples at a time: memory stays small
        idx = rng.integers(lo, hi, size=(min(100, resamples - start), len(v)))
        draws[start : start + len(idx)] = cvar_equal(v[idx], alpha)
    q = np.percentile(draws, [2.5, 97.5])
    return point, (float(q[0]), float(q[1]))


@dataclass(frozen=True)
class GapBounds:
    """Mak, Morton & Wood (1999) bounds for a maximization, all USD.

    ``upper``: the mean of K independent N-path optimal values, which over-estimates the true
    optimum in expectation (E[v_N] ≥ v*); ``lower``: the chosen plan's value on M fresh paths
    (an unbiased estimate of a feasible plan's value, so ≤ v*). The gap estimate G is their
    difference, E[G] ≥ v* − v(x̂); ``gap_bound_usd`` bounds the true gap from above with 95 %
    confidence: max(G, 0) + t_{K−1,0.95}·√(s_U²/K + s_L²/M) (the two samples independent, so
    the variances add; t with K − 1 degrees of freedom is conservative for the sum).
    """

    upper: MeanEstimate
    lower: MeanEstimate
    gap_usd: float
    gap_bound_usd: float


def mmw_bounds(optimal_values, fresh_values) -> GapBounds:
    """The gap bounds from K replications' optimal values and the plan's values on fresh paths."""
    upper = mean_ci95(optimal_values, use_t=True)
    lower = mean_ci95(fresh_values)
    gap = upper.mean_usd - lower.mean_usd
    se = math.hypot(upper.std_error_usd, lower.std_error_usd)
    bound = max(gap, 0.0) + t_quantile(0.95, upper.n - 1) * se
    return GapBounds(upper, lower, gap, bound)
