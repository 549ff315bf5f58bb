"""Market forecast: block height, subsidy, fees, network hash rate, BTC price and hashprice.

A :class:`ForecastSpec` describes the market month by month; :func:`generate` turns it into a
long table with one row per (scenario, month). With ``paths > 1`` the scenarios are seeded joint
Monte Carlo paths of equal probability (BTC price follows a GBM, the hash rate may respond to the
hashprice those prices produce, fees may carry noise); the same spec and seed give the same table.

Conventions (all month arithmetic counts from ``start_month``, month ``t = 0, 1, …``):

- **Block height** of a month is the height at the month's *midpoint* (the first day at 00:00 UTC
  plus half the month's days), projected from a known (height, date) at a fixed pace in blocks
  per day. The month's subsidy is the subsidy at that height, so the halving shows as one step in
  the first month whose midpoint lies past the halving block (the month before it keeps the old
  subsidy for the few days after the halving; the error is at most half a month of subsidy).
- **Month 0** of every stochastic series is its start value; randomness enters from month 1.
- **Hashprice** = (subsidy + fees per block) × 144 × BTC price / (hash rate in PH/s), $ per PH/s
  per day; 1 EH/s = 1000 PH/s. 144 is the expected blocks per day at 600 s spacing, the pace
  difficulty retargets to.
- **Hashcost** = J/TH × $/MWh × 24 / 1000 × PUE, $ per PH/s per day (15 J/TH at $40/MWh = 14.4).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from realloc.models.base import Frozen, Month, Series, month_index, month_label
from realloc.models.portfolio import Market, Portfolio

HALVING_INTERVAL_BLOCKS = 210_000
"""Blocks between subsidy halvings (consensus ``nSubsidyHalvingInterval``)."""
BLOCKS_PER_DAY = 144
"""Expected blocks per day at the 600 s target spacing."""
INITIAL_SUBSIDY_SATS = 5_000_000_000
"""Block subsidy before the first halving: 50 BTC in satoshis."""
SATS_PER_BTC = 100_000_000
PERCENTILES = (5, 25, 50, 75, 95)
"""The percentiles :func:`percentiles` reports."""
COLUMNS = [
    "scenario",
    "month",
    "block_height",
    "subsidy_btc",
    "fees_btc",
    "hashrate_eh",
    "btc_price_usd",
    "hashprice_usd_per_ph_day",
]
"""The columns of the frame :func:`generate` returns, in order."""


# --------------------------------------------------------------------------------------------
# Specs
# --------------------------------------------------------------------------------------------


def _exactly_one(**given: object) -> None:
    named = [k for k, v in given.items() if v is not None]
    if len(named) != 1:
        found = f"; got {' and '.join(named)}" if named else ""
        raise ValueError(f"give exactly one of {' or '.join(given)}{found}")


def _needs(field: str, value: object, needed: str, needed_value: object) -> None:
    if value is not None and needed_value is None:
        raise ValueError(f"{field} needs {needed}")


def _at_most_one(**given: object) -> None:
    if all(v is not None for v in given.values()):
        raise ValueError(f"give at most one of {' or '.join(given)}; got both")


class BlockSpec(Frozen):
    """Where the chain is at a known date, and how fast it grows."""

    start_height: int = Field(ge=0, le=50_000_000)
    """Block height at ``start_date`` (00:00 UTC)."""
    start_date: date
    """Date of ``start_height``, YYYY-MM-DD."""
    blocks_per_day: float = Field(default=BLOCKS_PER_DAY, gt=0, le=1_000)
    """Pace of the chain, blocks per day (144 at 600 s spacing; higher while hash rate grows
    faster than difficulty retargets)."""


class HashrateResponse(Frozen):
    """Hash rate that follows the mining margin with a lag.

    From month 1 on, ``H_t = H_{t−1} × (1 + g_t)`` with
    ``g_t = clip(base + elasticity × (hashprice_{t−lag} / breakeven − 1), min, max)``;
    months before month 0 use month 0's hashprice.
    """

    base_growth_per_month: float = Field(default=0.0, ge=-0.5, le=0.5)
    """Monthly growth when hashprice sits exactly at the breakeven, share per month."""
    elasticity_per_month: float = Field(ge=0, le=10)
    """Extra monthly growth per unit of relative margin (0.05: 20% above breakeven → +1%/month)."""
    lag_months: int = Field(default=3, ge=1, le=36)
    """Months between a hashprice and the hash rate it brings (or takes) online."""
    breakeven_usd_per_ph_day: float = Field(gt=0, le=10_000)
    """Hashprice at which the marginal fleet just covers its costs, $ per PH/s per day."""
    min_growth_per_month: float = Field(default=-0.10, ge=-0.9, le=0)
    """Floor on monthly growth, share per month."""
    max_growth_per_month: float = Field(default=0.10, ge=0, le=1)
    """Cap on monthly growth, share per month."""


class HashrateSpec(Frozen):
    """Network hash rate: a start level with a growth rule, or one value per month."""

    start_eh_per_s: float | None = Field(default=None, gt=0, le=1e7)
    """Hash rate in the first month, EH/s. Flat unless a growth rule is given."""
    growth_per_year: float | None = Field(default=None, gt=-1, le=10)
    """Annual growth, compounded monthly: ``H_t = start × (1 + g)^(t/12)``."""
    response: HashrateResponse | None = None
    """Growth that follows the hashprice margin (joint with the price paths)."""
    monthly_eh_per_s: list[float] | None = Field(default=None, min_length=1)
    """Hash rate for each month, EH/s (instead of ``start_eh_per_s``)."""

    @model_validator(mode="after")
    def _one_rule(self) -> HashrateSpec:
        _exactly_one(start_eh_per_s=self.start_eh_per_s, monthly_eh_per_s=self.monthly_eh_per_s)
        _needs("growth_per_year", self.growth_per_year, "start_eh_per_s", self.start_eh_per_s)
        _needs("response", self.response, "start_eh_per_s", self.start_eh_per_s)
        _at_most_one(growth_per_year=self.growth_per_year, response=self.response)
        _check_positive("monthly_eh_per_s", self.monthly_eh_per_s)
        return self


class FeesSpec(Frozen):
    """Transaction fees per block."""

    btc_per_block: float | None = Field(default=None, ge=0, le=1_000)
    """Fees per block in the first month, BTC. Flat unless ``growth_per_year`` is given."""
    growth_per_year: float | None = Field(default=None, gt=-1, le=10)
    """Annual growth of fees per block, compounded monthly."""
    monthly_btc_per_block: list[float] | None = Field(default=None, min_length=1)
    """Fees per block for each month, BTC (instead of ``btc_per_block``)."""
    noise_sd: float = Field(default=0.0, ge=0, le=3)
    """Monthly lognormal noise on fees (σ of the log; mean-preserving, independent months)."""

    @model_validator(mode="after")
    def _one_rule(self) -> FeesSpec:
        _exactly_one(
            btc_per_block=self.btc_per_block, monthly_btc_per_block=self.monthly_btc_per_block
        )
        _needs("growth_per_year", self.growth_per_year, "btc_per_block", self.btc_per_block)
        for i, v in enumerate(self.monthly_btc_per_block or []):
            if not 0 <= v <= 1_000:
                raise ValueError(f"monthly_btc_per_block value {i} is {v}; expected 0–1,000")
        return self


class GbmSpec(Frozen):
    """Geometric Brownian motion: ``P_t = P_0 exp((μ − σ²/2) t/12 + σ W_{t/12})``."""

    drift_per_year: float = Field(ge=-2, le=2)
    """μ: continuously compounded growth of the *mean* price per year (median grows μ − σ²/2)."""
    volatility_per_year: float = Field(ge=0, le=5)
    """σ: annualised volatility of log returns (BTC ≈ 0.5–0.8)."""


class PriceSpec(Frozen):
    """BTC price: flat, growing, one value per month, or Monte Carlo GBM."""

    start_usd: float | None = Field(default=None, gt=0, le=1e8)
    """BTC price in the first month, $. Flat unless a growth rule is given."""
    growth_per_year: float | None = Field(default=None, gt=-1, le=10)
    """Annual growth, compounded monthly: ``P_t = start × (1 + g)^(t/12)``."""
    gbm: GbmSpec | None = None
    """Random price paths (one per scenario) from ``start_usd``."""
    monthly_usd: list[float] | None = Field(default=None, min_length=1)
    """BTC price for each month, $ (instead of ``start_usd``)."""

    @model_validator(mode="after")
    def _one_rule(self) -> PriceSpec:
        _exactly_one(start_usd=self.start_usd, monthly_usd=self.monthly_usd)
        _needs("growth_per_year", self.growth_per_year, "start_usd", self.start_usd)
        _needs("gbm", self.gbm, "start_usd", self.start_usd)
        _at_most_one(growth_per_year=self.growth_per_year, gbm=self.gbm)
        _check_positive("monthly_usd", self.monthly_usd)
        return self


class CurvePoint(Frozen):
    """One point of a hashprice forward curve; YAML may also write it as ``[YYYY-MM, value]``."""

    month: Month
    """Month of the quote, YYYY-MM."""
    usd_per_ph_day: float = Field(gt=0, le=100_000)
    """Hashprice for that month, $ per PH/s per day."""

    @model_validator(mode="before")
    @classmethod
    def _from_pair(cls, data: object) -> object:
        if isinstance(data, list | tuple) and len(data) == 2:
            return {"month": data[0], "usd_per_ph_day": data[1]}
        return data


class ForecastSpec(Frozen):
    """Everything :func:`generate` needs: horizon, the market's parts, and the Monte Carlo setup.

    Hashprice comes either from block/hashrate/fees/price (the protocol formula) or from a
    ``forward_curve``; with a curve, ``hashrate`` must be left out and, when ``block`` and
    ``fees`` are given, the hash rate column is the one the curve implies.
    """

    start_month: Month
    """First forecast month, YYYY-MM."""
    months: int = Field(ge=1, le=600)
    """Number of monthly periods."""
    block: BlockSpec | None = None
    """Chain height and pace (required unless a forward curve is given)."""
    hashrate: HashrateSpec | None = None
    """Network hash rate (required unless a forward curve is given)."""
    fees: FeesSpec | None = None
    """Fees per block (required unless a forward curve is given)."""
    price: PriceSpec
    """BTC price."""
    forward_curve: list[CurvePoint] | None = Field(default=None, min_length=1)
    """Hashprice quotes, linearly interpolated month by month and flat beyond the ends."""
    paths: int = Field(default=1, ge=1, le=10_000)
    """Number of scenarios (Monte Carlo paths), each with probability 1/paths."""
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    """Seed of every random draw; the same spec and seed give the same forecast."""

    @model_validator(mode="after")
    def _cross_checks(self) -> ForecastSpec:
        last = month_label(self.start_month, self.months - 1)
        if int(self.start_month.split("-")[0]) < 1:  # block heights are counted in dates
            raise ValueError(f"start_month {self.start_month} is before year 1; give a real month")
        if int(last.split("-")[0]) > 9999:
            raise ValueError(
                f"the forecast runs {self.start_month} to {last}, past 9999-12, the last month "
                "a date can name; start earlier or give fewer months"
            )
        if self.forward_curve is None:
            missing = [k for k in ("block", "hashrate", "fees") if getattr(self, k) is None]
            if missing:
                raise ValueError(
                    f"{', '.join(missing)} must be given to compute hashprice; give "
                    "them or a forward_curve"
                )
        else:
            if self.hashrate is not None:
                raise ValueError(
                    "give either hashrate or forward_curve, not both (with a curve "
                    "the hash rate is implied by the hashprice)"
                )
            months = [p.month for p in self.forward_curve]
            for a, b in pairwise(months):
                if month_index(a, b) <= 0:
                    raise ValueError(f"forward_curve months must increase; {b} follows {a}")
        for field, values in (
            ("hashrate.monthly_eh_per_s", self.hashrate and self.hashrate.monthly_eh_per_s),
            ("fees.monthly_btc_per_block", self.fees and self.fees.monthly_btc_per_block),
            ("price.monthly_usd", self.price.monthly_usd),
        ):
            if values is not None and len(values) < self.months:
                raise ValueError(
                    f"{field} has {len(values)} values but the forecast has "
                    f"{self.months} months; give one value per month"
                )
        if self.paths * self.months > 2_000_000:
            raise ValueError(
                f"paths × months = {self.paths * self.months:,} rows; keep it under 2,000,000"
            )
        return self


def _check_positive(field: str, values: list[float] | None) -> None:
    for i, v in enumerate(values or []):
        if not 0 < v < 1e12:
            raise ValueError(f"{field} value {i} is {v}; expected above 0 and below 1e12")


# --------------------------------------------------------------------------------------------
# Protocol arithmetic
# --------------------------------------------------------------------------------------------


def subsidy_btc(height: int | np.ndarray) -> float | np.ndarray:
    """Block subsidy at ``height``, BTC: 50 BTC (in satoshis) >> halvings, 0 after 64 halvings.

    Works on scalars and numpy arrays (elementwise), matching consensus ``GetBlockSubsidy``.
    """
    h = np.asarray(height)
    if np.any(h < 0):
        raise ValueError("block height must not be negative")
    halvings = h.astype(np.int64) // HALVING_INTERVAL_BLOCKS
    shift = np.minimum(halvings, 63)
    sats = np.where(halvings >= 64, 0, np.right_shift(np.int64(INITIAL_SUBSIDY_SATS), shift))
    btc = sats / SATS_PER_BTC
    return float(btc) if btc.ndim == 0 else btc


def block_heights(
    start_height: int,
    start_date: date,
    start_month: str,
    months: int,
    blocks_per_day: float = BLOCKS_PER_DAY,
) -> np.ndarray:
    """Block height at the midpoint of each month from ``start_month`` (int array, ≥ 0).

    The midpoint is the month's first day at 00:00 UTC plus half its days (16 March 12:00,
    15 February 00:00); heights grow by ``blocks_per_day`` from ``start_height`` at
    ``start_date`` 00:00 UTC, rounded down.
    """
    days = np.empty(months)
    for t in range(months):
        y, m = (int(p) for p in month_label(start_month, t).split("-"))
        days[t] = (date(y, m, 1) - start_date).days + calendar.monthrange(y, m)[1] / 2
    return np.maximum(start_height + np.floor(blocks_per_day * days), 0).astype(np.int64)


def hashrate_from_difficulty_eh_per_s(difficulty: float | np.ndarray) -> float | np.ndarray:
    """Network hash rate implied by difficulty: ``D × 2^32 / 600`` H/s, in EH/s."""
    return difficulty * 2**32 / 600 / 1e18


def hashprice_usd_per_ph_day(
    subsidy_btc: float | np.ndarray,
    fees_btc: float | np.ndarray,
    btc_price_usd: float | np.ndarray,
    hashrate_eh_per_s: float | np.ndarray,
) -> float | np.ndarray:
    """(subsidy + fees per block) × 144 × price / (hash rate in PH/s), $ per PH/s per day."""
    return (subsidy_btc + fees_btc) * BLOCKS_PER_DAY * btc_price_usd / (hashrate_eh_per_s * 1000)


def interpolate_curve(points: Sequence[CurvePoint], start_month: str, months: int) -> np.ndarray:
    """Forward-curve hashprice per month: linear between quotes (by month index), flat beyond."""
    x = [month_index(start_month, p.month) for p in points]
    y = [p.usd_per_ph_day for p in points]
    return np.interp(np.arange(months), x, y)


# --------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------


def _growth_path(start: float, growth_per_year: float | None, months: int) -> np.ndarray:
    return start * (1 + (growth_per_year or 0.0)) ** (np.arange(months) / 12)


def _price_paths(spec: PriceSpec, months: int, paths: int, rng: np.random.Generator) -> np.ndarray:
    if spec.monthly_usd is not None:
        return np.tile(np.asarray(spec.monthly_usd[:months], float), (paths, 1))
    assert spec.start_usd is not None
    if spec.gbm is None:
        return np.tile(_growth_path(spec.start_usd, spec.growth_per_year, months), (paths, 1))
    mu, sigma, dt = spec.gbm.drift_per_year, spec.gbm.volatility_per_year, 1 / 12
    shocks = rng.standard_normal((paths, months - 1))
    steps = (mu - sigma**2 / 2) * dt + sigma * np.sqrt(dt) * shocks
    log_path = np.concatenate([np.zeros((paths, 1)), np.cumsum(steps, axis=1)], axis=1)
    return spec.start_usd * np.exp(log_path)


def _fee_paths(spec: FeesSpec, months: int, paths: int, rng: np.random.Generator) -> np.ndarray:
    if spec.monthly_btc_per_block is not None:
        base = np.asarray(spec.monthly_btc_per_block[:months], float)
    else:
        assert spec.btc_per_block is not None
        base = _growth_path(spec.btc_per_block, spec.growth_per_year, months)
    fees = np.tile(base, (paths, 1))
    if spec.noise_sd > 0 and months > 1:
        s = spec.noise_sd
        fees[:, 1:] *= np.exp(s * rng.standard_normal((paths, months - 1)) - s**2 / 2)
    return fees


def _hashrate_paths(spec: HashrateSpec, revenue_usd_per_day: np.ndarray) -> np.ndarray:
    """Hash rate (EH/s) per path and month; ``revenue_usd_per_day`` = (subsidy+fees)×144×price."""
    paths, months = revenue_usd_per_day.shape
    if spec.monthly_eh_per_s is not None:
        return np.tile(np.asarray(spec.monthly_eh_per_s[:months], float), (paths, 1))
    assert spec.start_eh_per_s is not None
    if spec.response is None:
        return np.tile(_growth_path(spec.start_eh_per_s, spec.growth_per_year, months), (paths, 1))
    r = spec.response
    hashrate = np.empty((paths, months))
    hashrate[:, 0] = spec.start_eh_per_s
    for t in range(1, months):
        k = max(t - r.lag_months, 0)
        hashprice = revenue_usd_per_day[:, k] / (hashrate[:, k] * 1000)
        growth = r.base_growth_per_month + r.elasticity_per_month * (
            hashprice / r.breakeven_usd_per_ph_day - 1
        )
        growth = np.clip(growth, r.min_growth_per_month, r.max_growth_per_month)
        hashrate[:, t] = hashrate[:, t - 1] * (1 + growth)
    return hashrate


def generate(spec: ForecastSpec) -> pd.DataFrame:
    """One row per (scenario, month) with the columns in :data:`COLUMNS`.

    Scenarios are numbered 0..paths−1 and equally likely. Price and fee noise come from
    independent streams spawned from ``spec.seed``, so turning fee noise on leaves the price
    paths unchanged.
    """
    n, months = spec.paths, spec.months
    price_rng, fee_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(spec.seed).spawn(2)
    )
    price = _price_paths(spec.price, months, n, price_rng)
    nan = np.full((n, months), np.nan)
    if spec.block is not None:
        b = spec.block
        one_path = block_heights(
            b.start_height, b.start_date, spec.start_month, months, b.blocks_per_day
        )
        height = pd.array(np.tile(one_path, n), dtype="Int64")
        subsidy = np.tile(subsidy_btc(one_path), (n, 1))
    else:
        height = pd.array([pd.NA] * (n * months), dtype="Int64")
        subsidy = nan
    fees = _fee_paths(spec.fees, months, n, fee_rng) if spec.fees is not None else nan
    revenue = (subsidy + fees) * BLOCKS_PER_DAY * price  # $ per day to the whole network
    if spec.forward_curve is None:
        assert spec.hashrate is not None
        hashrate = _hashrate_paths(spec.hashrate, revenue)
        hashprice = revenue / (hashrate * 1000)
    else:
        hashprice = np.tile(interpolate_curve(spec.forward_curve, spec.start_month, months), (n, 1))
        hashrate = revenue / hashprice / 1000
    labels = [month_label(spec.start_month, t) for t in range(months)]
    return pd.DataFrame(
        {
            "scenario": np.repeat(np.arange(n), months),
            "month": np.tile(labels, n),
            "block_height": height,
            "subsidy_btc": subsidy.ravel(),
            "fees_btc": fees.ravel(),
            "hashrate_eh": hashrate.ravel(),
            "btc_price_usd": price.ravel(),
            "hashprice_usd_per_ph_day": hashprice.ravel(),
        }
    )


def percentiles(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per-month P5/P25/P50/P75/P95 of ``column`` across scenarios: columns month, p5 … p95."""
    table = (
        frame.groupby("month", sort=False)[column]
        .quantile([q / 100 for q in PERCENTILES])
        .unstack()
    )
    table.columns = [f"p{q}" for q in PERCENTILES]
    return table.reset_index()


def halving_months(frame: pd.DataFrame) -> list[str]:
    """Months whose subsidy is lower than the month before (the halving months)."""
    path = frame[frame["scenario"] == frame["scenario"].iloc[0]]
    drop = path["subsidy_btc"].diff() < 0
    return path.loc[drop, "month"].tolist()


def markets(frame: pd.DataFrame) -> list[tuple[float, Market]]:
    """Each scenario as (probability, :class:`~models.portfolio.Market`), probability 1/N."""
    groups = list(frame.groupby("scenario", sort=True))
    return [
        (
            1 / len(groups),
            Market(
                btc_price_usd=g["btc_price_usd"].tolist(),
                hashprice_usd_per_ph_day=g["hashprice_usd_per_ph_day"].tolist(),
            ),
        )
        for _, g in groups
    ]


# --------------------------------------------------------------------------------------------
# Breakeven
# --------------------------------------------------------------------------------------------


def hashcost_usd_per_ph_day(
    efficiency_j_per_th: float | np.ndarray,
    power_price_usd_per_mwh: float | np.ndarray,
    pue: float | np.ndarray = 1.0,
) -> float | np.ndarray:
    """Power cost of 1 PH/s for a day: J/TH × $/MWh × 24 / 1000 × PUE, $ per PH/s per day."""
    return efficiency_j_per_th * power_price_usd_per_mwh * 24 / 1000 * pue


def breakeven_power_price_usd_per_mwh(
    efficiency_j_per_th: float | np.ndarray,
    hashprice_usd_per_ph_day: float | np.ndarray,
    pue: float | np.ndarray = 1.0,
) -> float | np.ndarray:
    """Power price at which hashcost equals hashprice, $/MWh (the inverse of the hashcost)."""
    return hashprice_usd_per_ph_day * 1000 / (24 * efficiency_j_per_th * pue)


class BreakevenGroup(Frozen):
    """A fleet group as the breakeven table sees it."""

    name: str = Field(min_length=1)
    """Group name."""
    efficiency_j_per_th: float = Field(gt=1, le=500)
    """Energy per terahash, J/TH."""
    power_price_usd_per_mwh: Series
    """Power price at the group's site, $/MWh: one number or one value per month."""
    pue: float = Field(default=1.0, ge=1, le=3)
    """Grid MW per MW of ASIC wall power at the site."""


def fleet_groups(
    portfolio: Portfolio, start_month: str | None = None, months: int | None = None
) -> list[BreakevenGroup]:
    """Every fleet group of a portfolio with its site's power price and mining PUE.

    With ``start_month`` and ``months`` (a forecast's), a monthly power price is laid on those
    calendar months: the forecast need not start or end with the portfolio, and a breakeven
    table needs a price in every month, so a month before the portfolio's first takes its
    first price and a month after its last takes its last (:func:`unpriced_months` counts
    them, so the caller can say so).
    """
    return [
        BreakevenGroup(
            name=g.name,
            efficiency_j_per_th=g.efficiency_j_per_th,
            power_price_usd_per_mwh=_on_months(
                s.power_price_usd_per_mwh, portfolio.start_month, start_month, months
            ),
            pue=s.mining_pue,
        )
        for s in portfolio.sites
        for g in s.fleets
    ]


def _on_months(
    series: float | list[float], own_start: str, start_month: str | None, months: int | None
) -> float | list[float]:
    if not isinstance(series, list) or start_month is None or months is None:
        return series
    offset = month_index(own_start, start_month)
    return [series[min(max(offset + t, 0), len(series) - 1)] for t in range(months)]


def unpriced_months(portfolio: Portfolio, start_month: str, months: int) -> tuple[int, int]:
    """Months of a forecast (``start_month``, ``months``) before and after the portfolio's
    monthly power prices; (0, 0) when every fleet's site has one price for all months."""
    if not any(isinstance(s.power_price_usd_per_mwh, list) for s in portfolio.sites if s.fleets):
        return 0, 0
    offset = month_index(portfolio.start_month, start_month)
    before = min(max(-offset, 0), months)
    after = min(max(offset + months - portfolio.months, 0), months)
    return before, after


@dataclass(frozen=True)
class GroupBreakeven:
    """Breakeven figures of one fleet group along one hashprice path (arrays: one per month)."""

    name: str
    hashcost_usd_per_ph_day: np.ndarray
    breakeven_power_price_usd_per_mwh: np.ndarray
    margin_usd_per_ph_day: np.ndarray
    first_negative_month: str | None
    """First month whose hashprice is below the hashcost, or None if the margin stays ≥ 0."""


def group_breakeven(
    groups: Sequence[BreakevenGroup], hashprice_usd_per_ph_day: Sequence[float], start_month: str
) -> list[GroupBreakeven]:
    """Per group: hashcost, breakeven power price and margin for each month of a hashprice path."""
    hashprice = np.asarray(hashprice_usd_per_ph_day, float)
    months = len(hashprice)
    out = []
    for g in groups:
        power = _monthly(g.power_price_usd_per_mwh, months, g.name)
        cost = hashcost_usd_per_ph_day(g.efficiency_j_per_th, power, g.pue)
        margin = hashprice - cost
        negative = np.flatnonzero(margin < 0)
        first = month_label(start_month, int(negative[0])) if negative.size else None
        out.append(
            GroupBreakeven(
                name=g.name,
                hashcost_usd_per_ph_day=cost,
                margin_usd_per_ph_day=margin,
                breakeven_power_price_usd_per_mwh=breakeven_power_price_usd_per_mwh(
                    g.efficiency_j_per_th, hashprice, g.pue
                ),
                first_negative_month=first,
            )
        )
    return out


def breakeven_frame(frame: pd.DataFrame, groups: Sequence[BreakevenGroup]) -> pd.DataFrame:
    """Long table per (group, month) along the median (P50) hashprice path.

    ``share_of_paths_negative`` is the share of scenarios whose hashprice is below the group's
    hashcost that month; ``first_negative_month`` refers to the median path.
    """
    median = percentiles(frame, "hashprice_usd_per_ph_day")
    months = median["month"].tolist()
    by_path = frame.pivot(index="scenario", columns="month", values="hashprice_usd_per_ph_day")[
        months
    ].to_numpy()
    rows = []
    for g, b in zip(groups, group_breakeven(groups, median["p50"], months[0]), strict=True):
        rows.append(
            pd.DataFrame(
                {
                    "group": g.name,
                    "month": months,
                    "efficiency_j_per_th": g.efficiency_j_per_th,
                    "power_price_usd_per_mwh": _monthly(
                        g.power_price_usd_per_mwh, len(months), g.name
                    ),
                    "pue": g.pue,
                    "hashprice_p50_usd_per_ph_day": median["p50"],
                    "hashcost_usd_per_ph_day": b.hashcost_usd_per_ph_day,
                    "margin_usd_per_ph_day": b.margin_usd_per_ph_day,
                    "breakeven_power_price_usd_per_mwh": b.breakeven_power_price_usd_per_mwh,
                    "share_of_paths_negative": (by_path < b.hashcost_usd_per_ph_day).mean(axis=0),
                    "first_negative_month": b.first_negative_month,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def _monthly(series: float | list[float], months: int, name: str) -> np.ndarray:
    if isinstance(series, list):
        if len(series) < months:
            raise ValueError(f"{name}: power price has {len(series)} values for {months} months")
        return np.asarray(series[:months], float)
    return np.full(months, float(series))
