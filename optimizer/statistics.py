"""A plan's headline figures, each defined once: summary.json, summary.md, a sweep's rows (and so
``realloc compare``) and the board report all read them here.

**What every figure means.** A plan made over several market paths (``realloc plan
--stochastic``: scenarios with probabilities) shares its decisions (conversions, contracts, rig
sales) across the paths, while mining, BTC sales and cash follow each path, so the treasury and
funding-gap tables have one set of rows per path (a ``scenario`` column). Every headline figure
drawn from those per-path rows is its **expected value over the market paths, probability-
weighted**: the per-month rows are weighted first (:func:`expected_over_paths`), then summed or
searched. For a deterministic plan there is one path and the figure is that path's. Figures
drawn from the shared decisions need no weighting. The plan's value is already expected over
the paths (the LP's objective); its distribution over them — CVaR, P5/P50/P95 (lower
quantiles) — is optimizer/risk.py's, exported here too (the pipeline checks the LP's CVaR rows
against it there).

Names differ by file, meanings do not: summary.json's ``btc_sold_total`` is a sweep row's
``btc_sold``, ``it_mw_converted_total`` its ``it_mw_total`` (see :meth:`Headline.sweep_row_fields`);
a row's ``min_cash_usd`` is :func:`lowest_cash_usd`, while summary.json's ``min_cash_usd`` is
the cash floor the portfolio sets (an input, not a figure of the plan).

The functions take the plan's tables as DataFrames — in memory (``PlanTables``) or read back from
a run folder's CSV files — and each market path's probability, so nothing here needs a solver:
the sweep's worker processes (optimizer/sweep.py) and reports/ both import this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from realloc.optimizer.risk import ValueDistribution, cvar_usd, distribution, weighted_quantile
from realloc.optimizer.value_terms import (
    AFTER_HORIZON_TERM_NAMES,
    AFTER_HORIZON_TERMS,
    ALWAYS_SPLIT,
    INSIDE_HORIZON,
)

if TYPE_CHECKING:  # type only: the sweep and the reports pass a plan in, nothing is solved here
    from realloc.optimizer.pipeline import PlanResult

__all__ = [
    "AFTER_HORIZON_TERMS",
    "AFTER_HORIZON_TERM_NAMES",
    "DECISION_MW_TOLERANCE",
    "GAP_TOLERANCE_USD",
    "INSIDE_HORIZON",
    "PAYBACK_TOLERANCE_USD",
    "Headline",
    "Payback",
    "ValueDistribution",
    "btc_held_at_end",
    "btc_sales_by_quarter",
    "btc_sold_total",
    "cvar_usd",
    "decision_changes",
    "distribution",
    "expected_over_paths",
    "first_conversion_month",
    "first_funding_gap_month",
    "first_stage_decisions",
    "funding_gap_total_usd",
    "headline",
    "it_mw_converted_by_site",
    "it_mw_converted_total",
    "lowest_cash_usd",
    "path_probabilities",
    "paths_ahead",
    "payback",
    "quarter",
    "uplift_usd",
    "usd_raised_total",
    "value_split",
    "value_split_fields",
    "weighted_quantile",
]

Probabilities = Mapping[str, float]
"""Each market path's probability by path name; empty for a deterministic plan."""

GAP_TOLERANCE_USD = 0.5
"""A month's funding gap counts only above half a dollar (flows are rounded to cents)."""

PAYBACK_TOLERANCE_USD = 1.0
"""Cumulative differences within a dollar of zero count as zero (flows are rounded to cents)."""


# --------------------------------------------------------------------------- market paths


def path_probabilities(scenario_values: pd.DataFrame | None) -> dict[str, float]:
    """Each market path's probability from a plan's scenario values (``scenario_values.csv``:
    columns ``scenario`` and ``probability``); {} for a deterministic plan, which has none."""
    if scenario_values is None or scenario_values.empty:
        return {}
    names = scenario_values["scenario"].astype(str)
    return dict(zip(names, scenario_values["probability"].astype(float), strict=True))


def expected_over_paths(frame: pd.DataFrame, probabilities: Probabilities) -> pd.DataFrame:
    """The per-month rows of ``frame`` as expected values over the market paths: the
    probability-weighted sum over paths of every numeric column, per key (its text columns:
    month, site, ...), in first-seen key order, without the ``scenario`` column. The frame
    itself when it has no ``scenario`` column (a deterministic plan: its one path).

    A row missing from a path counts as zero there (as for flows that did not happen).
    """
    if "scenario" not in frame.columns:
        return frame
    if not probabilities:
        raise ValueError("per-path rows need each market path's probability")
    weight = frame["scenario"].map(probabilities).to_numpy(dtype=float)
    rest = frame.drop(columns="scenario")
    numeric = [
        c
        for c in rest.columns
        if pd.api.types.is_numeric_dtype(rest[c]) and not pd.api.types.is_bool_dtype(rest[c])
    ]
    keys = [c for c in rest.columns if c not in numeric]
    weighted = rest[numeric].mul(weight, axis=0)
    weighted[keys] = rest[keys]
    out = weighted.groupby(keys, sort=False, as_index=False, dropna=False)[numeric].sum()
    return out[list(rest.columns)]


# --------------------------------------------------------------------------- value


def uplift_usd(value_usd: float | None, baseline_value_usd: float | None) -> float | None:
    """Plan value less the status quo's (both discounted, both expected over the market paths);
    None when either is missing (no plan, or no status-quo plan)."""
    if value_usd is None or baseline_value_usd is None:
        return None
    return value_usd - baseline_value_usd


def paths_ahead(scenario_values: pd.DataFrame) -> tuple[int, int] | None:
    """(market paths on which the plan is worth more than the status quo, paths compared), from
    the per-path values; None without them (a deterministic plan)."""
    if scenario_values.empty or not {"value_usd", "baseline_value_usd"} <= set(
        scenario_values.columns
    ):
        return None
    both = scenario_values.dropna(subset=["value_usd", "baseline_value_usd"])
    return int((both["value_usd"] > both["baseline_value_usd"]).sum()), len(both)


# --------------------------------------------------------------------------- value by when

# The bucket names live in optimizer/value_terms.py: the plan's tables (extract.py) need them
# too, and that module imports nothing.


def value_split(terms: Mapping[str, float] | None) -> dict[str, float] | None:
    """A plan's value (its ``value_terms_usd``, expected over the market paths) split by when
    it is earned: ``inside_horizon_usd`` (every term not after the horizon), then each bucket of
    :data:`AFTER_HORIZON_TERMS`; the parts add up to the sum of the terms. None without terms
    (no plan)."""
    if not terms:
        return None
    after = AFTER_HORIZON_TERM_NAMES
    split = {INSIDE_HORIZON: sum(v for k, v in terms.items() if k not in after)}
    for bucket, names in AFTER_HORIZON_TERMS.items():
        if bucket in ALWAYS_SPLIT or any(n in terms for n in names):
            split[bucket] = sum(terms.get(n, 0.0) for n in names)
    return {k: round(float(v), 2) for k, v in split.items()}


def value_split_fields(
    terms: Mapping[str, float] | None, baseline_terms: Mapping[str, float] | None
) -> dict[str, dict[str, float] | None]:
    """summary.json's split of the plan's value, the status quo's and the uplift (plan − status
    quo, bucket by bucket; None when either is missing)."""
    plan, base = value_split(terms), value_split(baseline_terms)
    uplift = None
    if plan is not None and base is not None:
        uplift = {k: round(plan[k] - base[k], 2) for k in plan}
    return {
        "value_split_usd": plan,
        "baseline_value_split_usd": base,
        "uplift_split_usd": uplift,
    }


# --------------------------------------------------------------------------- decisions


def it_mw_converted_total(conversions: pd.DataFrame) -> float:
    """IT MW converted to AI hosting over all sites (a decision: the same on every path)."""
    return float(conversions["it_mw"].sum()) if not conversions.empty else 0.0


def it_mw_converted_by_site(conversions: pd.DataFrame, sites: Iterable[str]) -> dict[str, float]:
    """IT MW converted at each of ``sites`` (0 where nothing converts), in the order given."""
    converted = dict.fromkeys(sites, 0.0)
    if not conversions.empty:
        for site, mw in conversions.groupby("site")["it_mw"].sum().items():
            converted[site] = float(mw)
    return converted


def first_conversion_month(conversions: pd.DataFrame) -> str | None:
    """The month the first conversion starts building; None when nothing converts."""
    return str(conversions["start_month"].min()) if not conversions.empty else None


DECISION_MW_TOLERANCE = 0.1
"""Two plans' first-stage decisions differ where their MW differ by more than this (a tenth of
a MW: alternative optima of an LP may move specks)."""


def first_stage_decisions(
    conversions: pd.DataFrame, contracts: pd.DataFrame, rig_sales: pd.DataFrame, sites
) -> dict[str, dict[str, float]]:
    """The decisions a plan makes once for every market path, in MW: IT MW converted per site
    (every site of ``sites``), IT MW per contract taken, MW of rigs sold per fleet group."""
    taken = contracts.groupby("contract", sort=False)["it_mw"].sum() if len(contracts) else {}
    sold = rig_sales.groupby("fleet_group", sort=False)["mw_sold"].sum() if len(rig_sales) else {}
    return {
        "it_mw_converted_by_site": it_mw_converted_by_site(conversions, sites),
        "contract_it_mw": {str(k): float(v) for k, v in dict(taken).items()},
        "rigs_sold_mw": {str(k): float(v) for k, v in dict(sold).items()},
    }


def decision_changes(
    a: Mapping[str, Mapping[str, float]], b: Mapping[str, Mapping[str, float]]
) -> list[dict]:
    """Where two plans' :func:`first_stage_decisions` differ by more than
    :data:`DECISION_MW_TOLERANCE`: one record per (kind, name) with ``a_mw`` and ``b_mw``
    (0 where a plan has none), in ``a``'s order, then ``b``'s."""
    out = []
    for kind in ("it_mw_converted_by_site", "contract_it_mw", "rigs_sold_mw"):
        da, db = a.get(kind, {}), b.get(kind, {})
        for name in dict.fromkeys([*da, *db]):
            mw_a, mw_b = float(da.get(name, 0.0)), float(db.get(name, 0.0))
            if abs(mw_a - mw_b) > DECISION_MW_TOLERANCE:
                out.append({"kind": kind, "name": name, "a_mw": mw_a, "b_mw": mw_b})
    return out


# --------------------------------------------------------------------------- treasury


def btc_sold_total(treasury: pd.DataFrame, probabilities: Probabilities) -> float:
    """BTC sold over the horizon, expected over the market paths."""
    return float(expected_over_paths(treasury, probabilities)["btc_sold"].sum())


def usd_raised_total(treasury: pd.DataFrame, probabilities: Probabilities) -> float:
    """USD raised by BTC sales over the horizon, net of sale costs, expected over the paths."""
    return float(expected_over_paths(treasury, probabilities)["usd_raised"].sum())


def lowest_cash_usd(treasury: pd.DataFrame, probabilities: Probabilities) -> float:
    """The lowest month-end cash balance of the expected treasury: each month's cash is first
    weighted over the paths, then the lowest month taken (not the expected lowest, nor the
    cash floor, which is the input ``treasury.min_cash_usd``)."""
    return float(expected_over_paths(treasury, probabilities)["cash_usd"].min())


def btc_held_at_end(treasury: pd.DataFrame, probabilities: Probabilities) -> float:
    """BTC held at the end of the horizon, expected over the market paths."""
    return float(expected_over_paths(treasury, probabilities)["btc_held"].iloc[-1])


def quarter(month: str) -> str:
    """The calendar quarter of a ``YYYY-MM`` month: ``2026-04`` → ``2026-Q2``."""
    y, m = month.split("-")
    return f"{y}-Q{(int(m) - 1) // 3 + 1}"


SOLD_BTC_TOLERANCE = 1e-6
"""A month sells BTC when it sells more than this (a satoshi is 1e-8: solver noise is below)."""


def btc_sales_by_quarter(treasury: pd.DataFrame, probabilities: Probabilities) -> pd.DataFrame:
    """BTC sold and USD raised (net) per calendar quarter, expected over the market paths:
    columns ``quarter``, ``months`` (a tuple of the months that sell, in order), ``btc_sold``,
    ``usd_raised``; one row per quarter that sells, in calendar order."""
    tre = expected_over_paths(treasury, probabilities)
    sold = tre[tre["btc_sold"] > SOLD_BTC_TOLERANCE]
    if sold.empty:
        return pd.DataFrame(columns=["quarter", "months", "btc_sold", "usd_raised"])
    return (
        sold.assign(quarter=sold["month"].map(quarter))
        .groupby("quarter", as_index=False, sort=True)
        .agg(
            months=("month", tuple),
            btc_sold=("btc_sold", "sum"),
            usd_raised=("usd_raised", "sum"),
        )
    )


def funding_gap_total_usd(funding_gap: pd.DataFrame, probabilities: Probabilities) -> float:
    """Outside cash the plan needs over the horizon (0 for a funded plan), expected over the
    market paths."""
    return float(expected_over_paths(funding_gap, probabilities)["gap_usd"].sum())


def first_funding_gap_month(funding_gap: pd.DataFrame, probabilities: Probabilities) -> str | None:
    """The first month whose expected funding gap exceeds :data:`GAP_TOLERANCE_USD`; None when
    there is none."""
    gap = expected_over_paths(funding_gap, probabilities)
    positive = gap[gap["gap_usd"] > GAP_TOLERANCE_USD] if not gap.empty else gap
    return str(positive["month"].iloc[0]) if not positive.empty else None


# --------------------------------------------------------------------------- payback


@dataclass(frozen=True)
class Payback:
    """When the plan's cumulative cash, month by month, catches up with the status quo's.

    ``cumulative_usd`` is the running sum of (plan − status quo) monthly flows, every objective
    term undiscounted except the end-of-horizon ones (terminal value, fleet salvage), which are
    not cash in any month. ``month`` is the first month from which that sum is non-negative to
    the end of the horizon, after having been negative; None when it never catches up (or was
    never behind: ``never_behind``). ``trough_usd`` / ``trough_month``: the deepest point.
    """

    month: str | None
    never_behind: bool
    trough_usd: float
    trough_month: str | None
    months: tuple[str, ...]
    cumulative_usd: tuple[float, ...]


def payback(
    plan_flows: pd.DataFrame, baseline_flows: pd.DataFrame, terms: Sequence[str]
) -> Payback | None:
    """The plan's cash payback against the status quo (:class:`Payback`) from the monthly flows
    of both (cashflows, expected over the paths), summing the objective ``terms`` present in
    both; None when either table or every term is missing."""
    if plan_flows.empty or baseline_flows.empty:
        return None
    if "month" not in plan_flows.columns or "month" not in baseline_flows.columns:
        return None
    terms = [t for t in terms if t in plan_flows.columns and t in baseline_flows.columns]
    if not terms:
        return None
    merged = plan_flows[["month", *terms]].merge(
        baseline_flows[["month", *terms]],
        on="month",
        how="inner",
        suffixes=("", "_base"),
        sort=False,
    )
    if merged.empty:
        return None
    delta = sum(merged[t] - merged[f"{t}_base"] for t in terms)
    cumulative = delta.cumsum().to_numpy(dtype=float)
    months = tuple(str(m) for m in merged["month"])
    behind = np.flatnonzero(cumulative < -PAYBACK_TOLERANCE_USD)
    trough = int(np.argmin(cumulative))
    month = None  # never behind, or still behind in the last month
    if behind.size and behind[-1] + 1 < len(months):
        month = months[behind[-1] + 1]
    return Payback(
        month=month,
        never_behind=behind.size == 0,
        trough_usd=float(min(cumulative[trough], 0.0)),
        trough_month=months[trough] if behind.size else None,
        months=months,
        cumulative_usd=tuple(float(v) for v in cumulative),
    )


# --------------------------------------------------------------------------- one plan at once


@dataclass(frozen=True)
class Headline:
    """A plan's headline figures, each computed by the function of the same name above (None
    where the plan has no tables: it was not solved). summary.json and a sweep's row carry them
    under their own public names (a row's: :meth:`sweep_row_fields`)."""

    value_usd: float | None
    baseline_value_usd: float | None
    uplift_usd: float | None
    it_mw_converted_by_site: dict[str, float | None]
    # drawn from the plan's tables, so None without them (not 0: "converts nothing")
    it_mw_converted_total: float | None = None
    first_conversion_month: str | None = None
    btc_sold_total: float | None = None
    usd_raised_total: float | None = None
    lowest_cash_usd: float | None = None
    funding_gap_total_usd: float | None = None

    def sweep_row_fields(self) -> dict:
        """The figures a sweep's row carries, by its column (scenarios.parquet)."""
        row = {
            "value_usd": self.value_usd,
            "baseline_value_usd": self.baseline_value_usd,
            "uplift_usd": self.uplift_usd,
            "it_mw_total": self.it_mw_converted_total,
        }
        row |= {f"it_mw_{s}": mw for s, mw in self.it_mw_converted_by_site.items()}
        return row | {
            "btc_sold": self.btc_sold_total,
            "usd_raised": self.usd_raised_total,
            "min_cash_usd": self.lowest_cash_usd,
            "funding_gap_usd": self.funding_gap_total_usd,
            "first_conversion_month": self.first_conversion_month,
        }


def headline(result: PlanResult) -> Headline:
    """Every headline figure of a plan, expected over its market paths; a plan that was not
    solved (no tables) has its value figures as far as they exist and None for the others."""
    sites = [s.name for s in result.portfolio.sites]
    value, base = result.value_usd, result.baseline_value_usd
    t = result.tables
    if t is None:
        return Headline(value, base, uplift_usd(value, base), dict.fromkeys(sites))
    prob = path_probabilities(result.scenario_values)
    return Headline(
        value_usd=value,
        baseline_value_usd=base,
        uplift_usd=uplift_usd(value, base),
        it_mw_converted_total=it_mw_converted_total(t.conversions),
        first_conversion_month=first_conversion_month(t.conversions),
        btc_sold_total=btc_sold_total(t.treasury, prob),
        usd_raised_total=usd_raised_total(t.treasury, prob),
        lowest_cash_usd=lowest_cash_usd(t.treasury, prob),
        funding_gap_total_usd=funding_gap_total_usd(t.funding_gap, prob),
        it_mw_converted_by_site=it_mw_converted_by_site(t.conversions, sites),
    )
