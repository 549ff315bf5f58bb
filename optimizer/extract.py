"""Turn a solution vector into the tidy tables users read and script against.

Tables are plain pandas frames in USD, MW and BTC (the $M scaling stays inside the model).
With several scenarios, per-scenario tables carry a ``scenario`` column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models import month_label
from optimizer.build import OBJECTIVE_TERMS, Model, cash_flow_pairs
from optimizer.index import USD_PER_MUSD, ModelIndex
from optimizer.solve import Outcome

EPS = 1e-7


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


def _clean(v: float, digits: int = 9) -> float:
    """Round solver noise away: |v| < 1e-7 to zero, then to ``digits`` decimals (MW to the watt,
    USD to the cent, BTC to the satoshi), so files are stable and free of specks."""
    return 0.0 if abs(v) < EPS else round(float(v), digits) + 0.0


MW, USD, BTC = 6, 2, 8


def value_terms(m: Model, x: np.ndarray) -> dict[str, float]:
    """Expected value of each objective term in USD (the value bridge reads this dict)."""
    prob = m.index.probability
    return {
        name: _clean(
            sum(p * tv.value(x) for p, tv in zip(prob, m.terms[name], strict=True)) * USD_PER_MUSD,
            USD,
        )
        for name in OBJECTIVE_TERMS
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


def _plan_table(m: Model, x: np.ndarray) -> pd.DataFrame:
    ix = m.index
    rows = []
    W = len(ix.scenarios)
    for w in range(W):
        for s, site in enumerate(ix.sites):
            mu, eta = ix.mining_pue[s], ix.ai_pue[s]
            groups = np.flatnonzero(ix.group_site == s)
            site_pairs = [i for i, (ps, _) in enumerate(ix.pairs) if ps == s]
            lead = int(ix.lead_months[s])
            for t, month in enumerate(ix.months):
                used = 0.0
                base = {"month": month, "site": site} | (
                    {"scenario": ix.scenarios[w].name} if W > 1 else {}
                )
                for g in groups:
                    mw = x[m.mine[w, g, t]]
                    used += mu * mw
                    rows.append(
                        base
                        | {
                            "use": "mining",
                            "detail": ix.groups[g],
                            "power_mw": _clean(mu * mw, MW),
                            "it_mw": 0.0,
                        }
                    )
                started = x[m.cum(s, t)] if m.cum(s, t) >= 0 else 0.0
                ready_built = x[m.cum(s, t - lead)] if m.cum(s, t - lead) >= 0 else 0.0
                ready = ix.existing_it_mw[s] + ready_built
                constructing = started - ready_built
                hosted = 0.0
                for i in site_pairs:
                    k = ix.pairs[i][1]
                    if ix.contract_active[k, t]:
                        mw = x[m.host[i]]
                        hosted += mw
                        if mw > EPS:
                            rows.append(
                                base
                                | {
                                    "use": "hosting",
                                    "detail": ix.contracts[k],
                                    "power_mw": _clean(eta * mw, MW),
                                    "it_mw": _clean(mw, MW),
                                }
                            )
                if s in ix.conv_sites:
                    idle = ready - hosted
                    rows.append(
                        base
                        | {
                            "use": "constructing",
                            "detail": "",
                            "power_mw": _clean(eta * constructing, MW),
                            "it_mw": _clean(constructing, MW),
                        }
                    )
                    rows.append(
                        base
                        | {
                            "use": "ready_idle",
                            "detail": "",
                            "power_mw": _clean(eta * idle, MW),
                            "it_mw": _clean(idle, MW),
                        }
                    )
                    used += eta * (constructing + ready)
                rows.append(
                    base
                    | {
                        "use": "unused",
                        "detail": "",
                        "power_mw": _clean(ix.grid_mw[s] - used, MW),
                        "it_mw": 0.0,
                    }
                )
    return pd.DataFrame(rows)


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
            for name in OBJECTIVE_TERMS:
                if name in ("terminal_value_usd", "fleet_salvage_usd"):
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


def cashflow_table(m: Model, x: np.ndarray) -> pd.DataFrame:
    """Monthly undiscounted flows by term of any solution on ``m`` (the status quo's too, so the
    board report can find the month the plan pays back against it)."""
    return _cashflow_table(m, x)


def shadow_price_table(m: Model, ix: ModelIndex, outcome: Outcome) -> pd.DataFrame:
    """Value of relaxing each binding limit, in USD, from the LP duals of the value phase.

    Duals are read in the minimization convention (∂ min-objective / ∂ bound) and turned into
    ∂ value / ∂ bound: one sign flip and $M → $.
    """
    sol = outcome.duals_from
    cols = ["family", "site", "month", "shadow_price_usd", "meaning"]
    if sol is None or sol.row_dual is None:
        return pd.DataFrame(columns=cols)
    dv = -sol.row_dual * USD_PER_MUSD  # ∂V/∂rhs in USD per unit of the row
    dvc = -sol.col_dual * USD_PER_MUSD
    by_family: dict[str, dict[tuple, float]] = {}
    for i, fam in enumerate(m.row_family):
        by_family.setdefault(fam, {})[m.row_key[i]] = dv[i]
    grid_by_site = np.zeros(len(ix.sites))  # site_power rows keyed (s, t, ω), summed per s
    for key, v in by_family.get("site_power", {}).items():
        grid_by_site[key[0]] += v
    rows = []
    for s, site in enumerate(ix.sites):
        grid = grid_by_site[s]
        rows.append(
            {
                "family": "site_power",
                "site": site,
                "month": "all",
                "shadow_price_usd": _clean(grid, 6),
                "meaning": "value of 1 more MW of grid at the site in every month",
            }
        )
        if s in ix.conv_sites:
            conv = by_family.get("conversion_limit", {}).get((s,), 0.0)
            rows.append(
                {
                    "family": "conversion_limit",
                    "site": site,
                    "month": "all",
                    "shadow_price_usd": _clean(conv, 6),
                    "meaning": "value of 1 more MW of IT the site may convert",
                }
            )
    for k, name in enumerate(ix.contracts):
        v = by_family.get("contract_size", {}).get((k,))
        if v is not None:
            rows.append(
                {
                    "family": "contract_size",
                    "site": name,
                    "month": "all",
                    "shadow_price_usd": _clean(v, 6),
                    "meaning": "value of 1 more MW the tenant would take",
                }
            )
    W = len(ix.scenarios)
    for t, month in enumerate(ix.months):
        # the floor is the cash column's lower bound: its reduced cost prices it ($M per $M)
        floor = sum(dvc[m.cash[w, t]] for w in range(W)) / USD_PER_MUSD
        rows.append(
            {
                "family": "cash_floor",
                "site": "",
                "month": month,
                "shadow_price_usd": _clean(floor, 6),
                "meaning": "change in value if the cash floor at this month end were $1 higher",
            }
        )
    total_floor = sum(dvc[m.cash.ravel()]) / USD_PER_MUSD
    rows.append(
        {
            "family": "cash_floor",
            "site": "",
            "month": "all",
            "shadow_price_usd": _clean(total_floor, 6),
            "meaning": "change in value if the cash floor were $1 higher in every month",
        }
    )
    btc_floor = sum(dvc[m.held.ravel()])
    rows.append(
        {
            "family": "btc_floor",
            "site": "",
            "month": "all",
            "shadow_price_usd": _clean(btc_floor, 6),
            "meaning": "change in value if the BTC floor were 1 BTC higher in every month",
        }
    )
    return pd.DataFrame(rows, columns=cols)


def extract(m: Model, outcome: Outcome) -> PlanTables:
    """All tables for a solved outcome."""
    x = outcome.x
    cash = _cashflow_table(m, x)
    keys = ["scenario", "month"] if "scenario" in cash.columns else ["month"]
    gap = cash[[*keys, "funding_gap_usd"]].rename(columns={"funding_gap_usd": "gap_usd"})
    return PlanTables(
        plan=_plan_table(m, x),
        treasury=_treasury_table(m, x),
        conversions=_conversions_table(m, x),
        contracts=_contracts_table(m, x),
        rig_sales=_rig_sales_table(m, x),
        cashflows=cash,
        value_terms_usd=value_terms(m, x),
        funding_gap=gap,
        shadow_prices=shadow_price_table(m, m.index, outcome),
    )
