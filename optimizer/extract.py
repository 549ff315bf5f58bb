"""Turn a solution vector into the tidy tables users read and script against.

Tables are plain pandas frames in USD, MW and BTC (the $M scaling stays inside the model).
With several scenarios, per-scenario tables carry a ``scenario`` column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from realloc.models import month_label
from realloc.optimizer.build import OBJECTIVE_TERMS, Model, cash_flow_pairs
from realloc.optimizer.financing import FINANCING_TERMS
from realloc.optimizer.funding import funding_table
from realloc.optimizer.funding_summary import funding_keys
from realloc.optimizer.grid_extract import grid_sold_rows, grid_table, sold_cumulative
from realloc.optimizer.index import USD_PER_MUSD, ModelIndex
from realloc.optimizer.solve import Outcome
from realloc.optimizer.value_terms import AFTER_HORIZON_TERM_NAMES
from realloc.optimizer.written import BTC, EPS, MW, USD


@dataclass
class PlanTables:
    """The extracted plan: every output table plus the value by objective term."""

    plan: pd.DataFrame
    treasury: pd.DataFrame
    conversions: pd.DataFrame
    contracts: pd.DataFrame
    rig_sales: pd.DataFrame
    cashflows: pd.DataFrame
    value_terms_usd: dict[str, float]
    funding_gap: pd.DataFrame
    shadow_prices: pd.DataFrame = field(default_factory=pd.DataFrame)
    grid: pd.DataFrame = field(default_factory=pd.DataFrame)
    """grid.csv: grid kept and sold by site and month (empty without hold costs or sales)."""
    funding: pd.DataFrame | None = None
    """Sources of cash by month (funding.csv); None without a ``financing`` section."""
    funding_summary: dict = field(default_factory=dict)
    """summary.json's funding keys (optimizer/funding_summary.py); empty without financing."""


def _clean(v: float, digits: int = 9) -> float:
    """Round solver noise away: |v| < 1e-7 to zero, then to ``digits`` decimals (MW to the watt,
    USD to the cent, BTC to the satoshi), so files are stable and free of specks."""
    return 0.0 if abs(v) < EPS else round(float(v), digits) + 0.0


def reported_terms(m: Model) -> tuple[str, ...]:
    """The objective terms a plan reports: the financing terms only when financing is given."""
    if m.fin is None:
        return tuple(n for n in OBJECTIVE_TERMS if n not in FINANCING_TERMS)
    return OBJECTIVE_TERMS


def value_terms(m: Model, x: np.ndarray) -> dict[str, float]:
    """Expected value of each objective term in USD (the value bridge reads this dict)."""
    prob = m.index.probability
    return {
        name: _clean(
            sum(p * tv.value(x) for p, tv in zip(prob, m.terms[name], strict=True)) * USD_PER_MUSD,
            USD,
        )
        for name in reported_terms(m)
    }


def scenario_values(m: Model, x: np.ndarray) -> np.ndarray:
    """Value of the plan in each scenario, USD."""
    W = len(m.index.scenarios)
    return np.array(
        [
            sum(m.terms[name][w].value(x) for name in OBJECTIVE_TERMS) * USD_PER_MUSD
            for w in range(W)
        ]
    )


def _clean_array(values: np.ndarray, digits: int) -> np.ndarray:
    """``_clean`` of every element (Python's correctly rounded ``round``, as the scalar one)."""
    out = np.array([round(v, digits) for v in np.asarray(values, dtype=float).tolist()])
    out[np.abs(values) < EPS] = 0.0
    return out + 0.0


def _plan_table(m: Model, x: np.ndarray) -> pd.DataFrame:
    """Power use per scenario, site and month: one row per fleet group mining, per contract
    hosted (when above 1e-7 MW), constructing and ready-but-idle IT (conversion sites), and
    unused grid. Built as arrays per kind of row, then put in (scenario, site, month, kind)
    order; the figures are the same sums as a loop over every site and month would make."""
    states = _site_states(m, x)
    sold = sold_cumulative(m, x)  # grid released so far: neither drawn nor unused
    parts = [
        _mining_rows(m.index, states.mining),
        *_hosting_rows(m.index, states.host_mw),
        *_conversion_rows(m.index, states),
        *grid_sold_rows(m.index, sold),
        _unused_rows(m.index, states.used + sold[None]),
    ]
    return _plan_frame(m.index, parts)


@dataclass
class _SiteStates:
    """IT MW ready, constructing and hosted per [site, month]; MW hosted per eligible pair; grid
    MW mining per [scenario, group, month] and drawn per [scenario, site, month]."""

    ready: np.ndarray
    constructing: np.ndarray
    hosted: np.ndarray
    host_mw: np.ndarray
    mining: np.ndarray
    used: np.ndarray
    conv: np.ndarray  # [S] bool: sites with a conversion section


def _site_states(m: Model, x: np.ndarray) -> _SiteStates:
    ix = m.index
    W, S, T = len(ix.scenarios), len(ix.sites), ix.n_months
    mu, eta = ix.mining_pue, ix.ai_pue
    started = np.where(m.cum_build >= 0, x[np.maximum(m.cum_build, 0)], 0.0)  # [S, T]
    lead = ix.lead_months.astype(int)
    before = np.arange(T)[None, :] - lead[:, None]  # [S, T] month whose starts are ready now
    ready_built = np.where(
        before >= 0, np.take_along_axis(started, np.maximum(before, 0), axis=1), 0.0
    )
    ready = ix.existing_it_mw[:, None] + ready_built
    constructing = started - ready_built
    host_mw = x[m.host] if len(ix.pairs) else np.zeros(0)
    hosted = np.zeros((S, T))
    for i, (s, k) in enumerate(ix.pairs):  # in pair order, as the per-site sum
        hosted[s] += np.where(ix.contract_active[k], host_mw[i], 0.0)
    conv = np.zeros(S, dtype=bool)
    conv[ix.conv_sites] = True
    mining = mu[ix.group_site][None, :, None] * x[m.mine]  # [W, G, T] MW of grid
    used = np.zeros((W, S, T))
    for g in range(len(ix.groups)):  # in group order, as the per-site sum
        used[:, ix.group_site[g], :] += mining[:, g, :]
    used += np.where(conv[:, None], eta[:, None] * (constructing + ready), 0.0)[None]
    return _SiteStates(ready, constructing, hosted, host_mw, mining, used, conv)


# Each kind of plan.csv row as a tuple of columns (scalars broadcast):
# (scenario, site, month, kind, order within kind, use, detail, power_mw, it_mw)


def _mining_rows(ix: ModelIndex, mining: np.ndarray) -> tuple:
    """One row per scenario, fleet group and month (kind 0, groups in site order)."""
    W, T = len(ix.scenarios), ix.n_months
    g_order = np.zeros(len(ix.groups), dtype=int)
    for s in range(len(ix.sites)):
        g_order[ix.group_site == s] = np.arange(int((ix.group_site == s).sum()))
    w_, g_, t_ = np.meshgrid(np.arange(W), np.arange(len(ix.groups)), np.arange(T), indexing="ij")
    return (
        w_.ravel(),
        ix.group_site[g_.ravel()],
        t_.ravel(),
        0,
        g_order[g_.ravel()],
        "mining",
        np.asarray(ix.groups, dtype=object)[g_.ravel()],
        mining.ravel(),
        np.zeros(mining.size),
    )


def _hosting_rows(ix: ModelIndex, host_mw: np.ndarray) -> list[tuple]:
    """Per scenario, one row per pair and month its contract is active and hosts over 1e-7 MW
    (kind 1)."""
    if not len(ix.pairs):
        return []
    site_of = np.array([s for s, _ in ix.pairs])
    contract_of = np.array([k for _, k in ix.pairs])
    shown = ix.contract_active[contract_of] & (host_mw[:, None] > EPS)  # [P, T]
    i_, t_ = np.nonzero(shown)
    return [
        (
            np.full(len(i_), w),
            site_of[i_],
            t_,
            1,
            i_,
            "hosting",
            np.asarray(ix.contracts, dtype=object)[contract_of[i_]],
            ix.ai_pue[site_of[i_]] * host_mw[i_],
            host_mw[i_],
        )
        for w in range(len(ix.scenarios))
    ]


def _conversion_rows(ix: ModelIndex, states: _SiteStates) -> list[tuple]:
    """Constructing (kind 2) and ready-but-idle IT (kind 3) per scenario, conversion site and
    month."""
    s_c = np.flatnonzero(states.conv)
    w_, s_, t_ = np.meshgrid(
        np.arange(len(ix.scenarios)), s_c, np.arange(ix.n_months), indexing="ij"
    )
    w_, s_, t_ = w_.ravel(), s_.ravel(), t_.ravel()
    eta = ix.ai_pue
    return [
        (w_, s_, t_, kind, np.zeros(len(w_), dtype=int), use, "", eta[s_] * it, it)
        for kind, use, it in (
            (2, "constructing", states.constructing[s_, t_]),
            (3, "ready_idle", (states.ready - states.hosted)[s_, t_]),
        )
    ]


def _unused_rows(ix: ModelIndex, used: np.ndarray) -> tuple:
    """Grid MW left unused per scenario, site and month (kind 4)."""
    W, S, T = len(ix.scenarios), len(ix.sites), ix.n_months
    w_, s_, t_ = np.meshgrid(np.arange(W), np.arange(S), np.arange(T), indexing="ij")
    w_, s_, t_ = w_.ravel(), s_.ravel(), t_.ravel()
    unused = ix.grid_mw[s_] - used[w_, s_, t_]
    return (w_, s_, t_, 4, np.zeros(len(w_), dtype=int), "unused", "", unused, 0.0 * unused)


def _plan_frame(ix: ModelIndex, parts: list[tuple]) -> pd.DataFrame:
    """The rows of every kind in (scenario, site, month, kind, order within kind) order."""

    def cat(j: int, dtype=None) -> np.ndarray:
        return np.concatenate(
            [np.broadcast_to(np.asarray(p[j], dtype=dtype), (len(p[0]),)) for p in parts]
        )

    w, s, t = cat(0, int), cat(1, int), cat(2, int)
    order = np.lexsort((cat(4, int), cat(3, int), t, s, w))
    columns = {
        "month": np.asarray(ix.months, dtype=object)[t[order]],
        "site": np.asarray(ix.sites, dtype=object)[s[order]],
    }
    if len(ix.scenarios) > 1:
        columns["scenario"] = np.asarray([sc.name for sc in ix.scenarios], dtype=object)[w[order]]
    columns["use"] = cat(5, object)[order]
    columns["detail"] = cat(6, object)[order]
    columns["power_mw"] = _clean_array(cat(7, float)[order], MW)
    columns["it_mw"] = _clean_array(cat(8, float)[order], MW)
    return pd.DataFrame(columns)


def _treasury_table(m: Model, x: np.ndarray) -> pd.DataFrame:
    ix = m.index
    btc = ix.btc_per_mw_month()
    phi = ix.portfolio.treasury.sale_cost_bps / 1e4
    W = len(ix.scenarios)
    rows = []
    for w in range(W):
        for t, month in enumerate(ix.months):
            mined = sum(btc[w, g, t] * x[m.mine[w, g, t]] for g in range(len(ix.groups)))
            sold = x[m.sold[w, t]]
            price = ix.btc_price_usd[w, t]
            rows.append(
                ({"scenario": ix.scenarios[w].name} if W > 1 else {})
                | {
                    "month": month,
                    "btc_price_usd": _clean(price, USD),
                    "btc_mined": _clean(mined, BTC),
                    "btc_sold": _clean(sold, BTC),
                    "usd_raised": _clean((1 - phi) * price * sold, USD),
                    "btc_held": _clean(x[m.held[w, t]], BTC),
                    "cash_usd": _clean(x[m.cash[w, t]] * USD_PER_MUSD, USD),
                }
            )
    return pd.DataFrame(rows)


def _conversions_table(m: Model, x: np.ndarray) -> pd.DataFrame:
    ix = m.index
    rows = []
    for s in ix.conv_sites:
        lead = int(ix.lead_months[s])
        for t in range(ix.n_months):
            col = m.build[s, t]
            if col < 0 or x[col] <= EPS:
                continue
            rows.append(
                {
                    "site": ix.sites[s],
                    "start_month": ix.months[t],
                    "ready_month": ix.months[t + lead],
                    "it_mw": _clean(x[col], MW),
                    "capex_usd": _clean(x[col] * ix.capex_usd_per_it_mw[s], USD),
                }
            )
    return pd.DataFrame(rows, columns=["site", "start_month", "ready_month", "it_mw", "capex_usd"])


def _contracts_table(m: Model, x: np.ndarray) -> pd.DataFrame:
    """One row per contract and site served: MW, term, rent in the horizon; ``kind``;
    ``usd_per_kw_month`` the first-year rate (a cloud contract's equivalent in an average
    30.4375-day month); ``prepaid_it_mw`` the MW a new build provides (those earn the tenant's
    capex prepayment)."""
    ix = m.index
    rows = []
    for i, (s, k) in enumerate(ix.pairs):
        mw = x[m.host[i]]
        if mw <= EPS:
            continue
        revenue = (
            float((ix.contract_rate_usd_per_kw_month[k] * ix.contract_active[k]).sum()) * 1000 * mw
        )
        start = max(0, int(ix.contract_start[k]))
        new = m.site_coefs.host_new.get(i)
        contract = ix.portfolio.contracts[k]
        rows.append(
            {
                "contract": ix.contracts[k],
                "site": ix.sites[s],
                "it_mw": _clean(mw, MW),
                "start_month": month_label(ix.portfolio.start_month, int(ix.contract_start[k])),
                "end_month": month_label(ix.portfolio.start_month, int(ix.contract_end[k]) - 1),
                "signed": bool(ix.contract_signed[k]),
                "first_month_in_horizon": ix.months[start] if start < ix.n_months else "",
                "revenue_usd": _clean(revenue, USD),
                "kind": contract.kind,
                "usd_per_kw_month": _clean(contract.equivalent_rate_usd_per_kw_month, USD),
                "prepaid_it_mw": 0.0 if new is None else _clean(x[new], MW),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "contract",
            "site",
            "it_mw",
            "start_month",
            "end_month",
            "signed",
            "first_month_in_horizon",
            "revenue_usd",
            "kind",
            "usd_per_kw_month",
            "prepaid_it_mw",
        ],
    )


def _rig_sales_table(m: Model, x: np.ndarray) -> pd.DataFrame:
    ix = m.index
    rows = []
    for g, name in enumerate(ix.groups):
        for t, month in enumerate(ix.months):
            mw = x[m.rigs_sold[g, t]]
            if mw <= EPS:
                continue
            th = mw * 1e6 / ix.group_efficiency_j_per_th[g]
            rows.append(
                {
                    "month": month,
                    "site": ix.sites[ix.group_site[g]],
                    "fleet_group": name,
                    "mw_sold": _clean(mw, MW),
                    "th_sold": _clean(th, 3),
                    "proceeds_usd": _clean(th * ix.resale_usd_per_th[g, t], USD),
                }
            )
    return pd.DataFrame(
        rows, columns=["month", "site", "fleet_group", "mw_sold", "th_sold", "proceeds_usd"]
    )


def _cashflow_table(m: Model, x: np.ndarray) -> pd.DataFrame:
    """Undiscounted flows by term and month (the monthly side of the value bridge)."""
    ix = m.index
    revenue = ix.mining_revenue_usd_per_mw_month()
    phi = ix.portfolio.treasury.sale_cost_bps / 1e4
    W = len(ix.scenarios)
    rows = []
    for w in range(W):
        for t, month in enumerate(ix.months):
            flows = cash_flow_pairs(m, t, w)
            row = ({"scenario": ix.scenarios[w].name} if W > 1 else {}) | {
                "month": month,
                "discount_factor": round(float(ix.discount[t]), 12),
            }
            for name in reported_terms(m):
                if name in (*AFTER_HORIZON_TERM_NAMES, *VALUE_ONLY):  # not monthly cash
                    continue
                if name == "mining_revenue_usd":
                    val = sum(revenue[w, g, t] * x[m.mine[w, g, t]] for g in range(len(ix.groups)))
                elif name == "btc_sale_cost_usd":
                    val = -phi * ix.btc_price_usd[w, t] * x[m.sold[w, t]]
                else:
                    val = sum(c * x[j] for j, c in flows[name].items()) * USD_PER_MUSD
                row[name] = _clean(val, USD)
            row["funding_gap_usd"] = _clean(x[m.gap[w, t]] * USD_PER_MUSD, USD)
            rows.append(row)
    return pd.DataFrame(rows)


VALUE_ONLY = ("note_option_cost_usd", "equity_dilution_usd", "financing_terminal_interest_usd")
"""Financing terms that are value, not cash (no column in cashflows.csv)."""


def cashflow_table(m: Model, x: np.ndarray) -> pd.DataFrame:
    """Monthly undiscounted flows by term of any solution on ``m`` (the status quo's too, so the
    board report can find the month the plan pays back against it)."""
    return _cashflow_table(m, x)


SHADOW_PRICE_COLUMNS = ["family", "site", "month", "shadow_price_usd", "meaning"]


def shadow_price_table(m: Model, ix: ModelIndex, outcome: Outcome) -> pd.DataFrame:
    """Value of relaxing each binding limit, in USD, from the LP duals of the value phase.

    Duals are read in the minimization convention (∂ min-objective / ∂ bound) and turned into
    ∂ value / ∂ bound: one sign flip and $M → $.
    """
    sol = outcome.duals_from
    if sol is None or sol.row_dual is None:
        return pd.DataFrame(columns=SHADOW_PRICE_COLUMNS)
    rows = _limit_prices(m, ix, -sol.row_dual * USD_PER_MUSD)
    rows += _floor_prices(m, ix, -sol.col_dual * USD_PER_MUSD)
    return pd.DataFrame(rows, columns=SHADOW_PRICE_COLUMNS)


def _price(family: str, where: str, month: str, usd: float, meaning: str) -> dict:
    """One row of shadow_prices.csv."""
    return {
        "family": family,
        "site": where,
        "month": month,
        "shadow_price_usd": _clean(usd, 6),
        "meaning": meaning,
    }


def _limit_prices(m: Model, ix: ModelIndex, dv: np.ndarray) -> list[dict]:
    """Grid and conversion limits per site, contract sizes per contract, from the row duals
    (``dv``: ∂V/∂rhs in USD per unit of each row)."""
    by_family: dict[str, dict[tuple, float]] = {}
    for i, fam in enumerate(m.row_family):
        by_family.setdefault(fam, {})[m.row_key[i]] = dv[i]
    grid_by_site = np.zeros(len(ix.sites))  # site_power rows keyed (s, t, ω), summed per s
    for key, v in by_family.get("site_power", {}).items():
        grid_by_site[key[0]] += v
    rows = []
    for s, site in enumerate(ix.sites):
        meaning = "value of 1 more MW of grid at the site in every month"
        rows.append(_price("site_power", site, "all", grid_by_site[s], meaning))
        if s in ix.conv_sites:
            conv = by_family.get("conversion_limit", {}).get((s,), 0.0)
            meaning = "value of 1 more MW of IT the site may convert"
            rows.append(_price("conversion_limit", site, "all", conv, meaning))
    for k, name in enumerate(ix.contracts):
        v = by_family.get("contract_size", {}).get((k,))
        if v is not None:
            meaning = "value of 1 more MW the tenant would take"
            rows.append(_price("contract_size", name, "all", v, meaning))
    return rows


def _floor_prices(m: Model, ix: ModelIndex, dvc: np.ndarray) -> list[dict]:
    """Cash floor by month and in all, BTC floor in all: the floors are the cash and held
    columns' lower bounds, so their reduced costs (``dvc``, USD) price them."""
    rows = []
    W = len(ix.scenarios)
    for t, month in enumerate(ix.months):
        floor = sum(dvc[m.cash[w, t]] for w in range(W)) / USD_PER_MUSD  # $M per $M
        meaning = "change in value if the cash floor at this month end were $1 higher"
        rows.append(_price("cash_floor", "", month, floor, meaning))
    total_floor = sum(dvc[m.cash.ravel()]) / USD_PER_MUSD
    meaning = "change in value if the cash floor were $1 higher in every month"
    rows.append(_price("cash_floor", "", "all", total_floor, meaning))
    btc_floor = sum(dvc[m.held.ravel()])
    meaning = "change in value if the BTC floor were 1 BTC higher in every month"
    rows.append(_price("btc_floor", "", "all", btc_floor, meaning))
    return rows


def extract(m: Model, outcome: Outcome) -> PlanTables:
    """All tables for a solved outcome."""
    x = outcome.x
    cash = _cashflow_table(m, x)
    keys = ["scenario", "month"] if "scenario" in cash.columns else ["month"]
    gap = cash[[*keys, "funding_gap_usd"]].rename(columns={"funding_gap_usd": "gap_usd"})
    terms = value_terms(m, x)
    funding = funding_table(m, x)
    duals = outcome.duals_from.col_dual if outcome.duals_from is not None else None
    return PlanTables(
        plan=_plan_table(m, x),
        treasury=_treasury_table(m, x),
        conversions=_conversions_table(m, x),
        contracts=_contracts_table(m, x),
        rig_sales=_rig_sales_table(m, x),
        cashflows=cash,
        value_terms_usd=terms,
        funding_gap=gap,
        shadow_prices=shadow_price_table(m, m.index, outcome),
        grid=grid_table(m, x),
        funding=funding,
        funding_summary={} if funding is None else funding_keys(m, funding, terms, duals),
    )
