"""Check a plan's invariants from its output tables and the portfolio alone.

Deliberately independent of the builder: it re-derives readiness from ``conversions``, fleets
from ``rig_sales``, BTC mined from ``plan`` and the market, every cash flow from first
principles, and the value from those flows, so a builder bug shows up as a violation here.
A plan that fails is not written.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models import Market, Portfolio, month_index, month_label


@dataclass(frozen=True)
class Check:
    """One invariant family: the largest violation found and the allowed tolerance."""

    family: str
    max_violation: float
    tolerance: float
    unit: str
    where: str = ""

    @property
    def ok(self) -> bool:
        return self.max_violation <= self.tolerance


@dataclass(frozen=True)
class Verification:
    checks: list[Check]
    recomputed_value_usd: float

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def as_records(self) -> list[dict]:
        return [
            {
                "family": c.family,
                "max_violation": c.max_violation,
                "tolerance": c.tolerance,
                "unit": c.unit,
                "ok": c.ok,
                "where": c.where,
            }
            for c in self.checks
        ]


def _series(v: float | list[float], T: int) -> np.ndarray:
    return np.asarray(v[:T], dtype=float) if isinstance(v, list) else np.full(T, float(v))


USES = ("hosting", "ready_idle", "constructing")


def _by_site_month(plan: pd.DataFrame, site_of: dict[str, int], T: int) -> dict:
    """Sums of ``it_mw`` and ``power_mw`` of plan.csv per [site, month] for each use in USES,
    and of everything but "unused" (``drawn``); rows of unknown sites or months are ignored."""
    sites = plan["site"].map(site_of).to_numpy(dtype=float, na_value=np.nan)
    t = plan["t"].to_numpy(dtype=float, na_value=np.nan)
    known = ~np.isnan(sites) & ~np.isnan(t)
    use = plan["use"].to_numpy(dtype=object)
    out = {}
    masks = {u: known & (use == u) for u in USES} | {"drawn": known & (use != "unused")}
    for name, mask in masks.items():
        out[name] = {}
        for col in ("it_mw", "power_mw"):
            total = np.zeros((len(site_of), T))
            np.add.at(
                total,
                (sites[mask].astype(int), t[mask].astype(int)),
                plan[col].to_numpy(dtype=float)[mask],
            )
            out[name][col] = total
    return out


def _sum_by(frame: pd.DataFrame, keys: list[str], key_of: dict, T: int, col: str) -> dict:
    """{key_of[row keys]: [T] sums of ``col`` by month} (rows of unknown keys ignored)."""
    out: dict = {}
    if frame.empty:
        return out
    for key, rows in frame.groupby(keys, sort=False):
        if key not in key_of:
            continue
        t = rows["t"].to_numpy(dtype=float, na_value=np.nan)
        ok = ~np.isnan(t)
        total = np.zeros(T)
        np.add.at(total, t[ok].astype(int), rows[col].to_numpy(dtype=float)[ok])
        out[key_of[key]] = total
    return out


def _split(frame: pd.DataFrame, column: str) -> dict[str, pd.DataFrame]:
    """The rows of ``frame`` by value of ``column`` (in their original order)."""
    if frame.empty or column not in frame.columns:
        return {}
    return {key: rows for key, rows in frame.groupby(column, sort=False)}


def _worst(values: pd.Series | np.ndarray, labels: list[str] | None = None) -> tuple[float, str]:
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return 0.0, ""
    i = int(np.argmax(arr))
    return max(0.0, float(arr[i])), (labels[i] if labels is not None and arr[i] > 0 else "")


def verify(
    p: Portfolio,
    plan: pd.DataFrame,
    treasury: pd.DataFrame,
    conversions: pd.DataFrame,
    contracts: pd.DataFrame,
    rig_sales: pd.DataFrame,
    funding_gap: pd.DataFrame,
    value_usd: float,
    market: Market | None = None,
    relaxed: bool = False,
) -> Verification:
    """Recompute every invariant of one scenario's plan; see the module docstring."""
    market = market or p.market
    T = p.months
    months = [month_label(p.start_month, t) for t in range(T)]
    pos = {m: t for t, m in enumerate(months)}
    days = np.array([calendar.monthrange(*map(int, m.split("-")))[1] for m in months], float)
    hours = 24 * days
    disc = (1 + p.discount_rate_per_year) ** (-(np.arange(T) + 1) / 12)
    price = _series(market.btc_price_usd, T)
    hashprice = _series(market.hashprice_usd_per_ph_day, T)
    tr = p.treasury
    phi = tr.sale_cost_bps / 1e4
    checks: list[Check] = []
    flows = {
        k: np.zeros(T)
        for k in (
            "mining_revenue_usd",
            "mining_power_usd",
            "mining_opex_usd",
            "rig_proceeds_usd",
            "ai_revenue_usd",
            "ai_power_usd",
            "ai_opex_usd",
            "capex_usd",
            "tenant_capex_usd",
        )
    }
    plan = plan.assign(t=plan["month"].map(pos))
    mined = np.zeros(T)
    power_excess, fleet_excess, ready_excess, idle_mismatch = [], [], [], []
    tv_usd = 0.0
    last_ready = 0.0

    # builds: ready inside the horizon, within the conversion limit
    built_by_site: dict[str, float] = {}
    for r in conversions.itertuples():
        if r.ready_month not in pos:
            last_ready = max(last_ready, r.it_mw)
        built_by_site[r.site] = built_by_site.get(r.site, 0.0) + r.it_mw
    checks.append(Check("builds_ready_in_horizon", last_ready, 1e-5, "MW"))
    conv_excess = [
        built_by_site.get(s.name, 0.0) + s.conversion.existing_it_mw - s.conversion.max_it_mw
        for s in p.sites
        if s.conversion
    ]
    v, w = _worst(conv_excess, [s.name for s in p.sites if s.conversion])
    checks.append(Check("conversion_limit", v, 1e-5, "MW", w))

    contract_by_name = {c.name: c for c in p.contracts}
    # each table read once into arrays by site (or fleet group) and month, not filtered per
    # site and group: O(rows) instead of O(sites × rows)
    site_of = {s.name: i for i, s in enumerate(p.sites)}
    by_use = _by_site_month(plan, site_of, T)
    group_of = {
        (s.name, g.name): (i, j) for i, s in enumerate(p.sites) for j, g in enumerate(s.fleets)
    }
    mining = plan[plan["use"] == "mining"]
    run_power = _sum_by(mining, ["site", "detail"], group_of, T, "power_mw")
    conversions_at = _split(conversions, "site")
    contracts_at = _split(contracts, "site")
    sales_of = _split(rig_sales, "fleet_group")
    for si, site in enumerate(p.sites):
        conv = site.conversion
        price_mwh = _series(site.power_price_usd_per_mwh, T)
        # readiness from conversions.csv
        ready = np.full(T, conv.existing_it_mw if conv else 0.0)
        constructing = np.zeros(T)
        for r in conversions_at.get(site.name, conversions.iloc[:0]).itertuples():
            a, b = pos[r.start_month], pos.get(r.ready_month, T)
            constructing[a:b] += r.it_mw
            ready[b:] += r.it_mw
            lead = conv.lead_months
            pay_months = [a] if lead == 0 else list(range(a, a + lead))
            for t in pay_months:
                if t < T:
                    flows["capex_usd"][t] -= r.capex_usd / len(pay_months)
        # hosting from plan.csv, checked against contracts.csv and readiness
        hosted = by_use["hosting"]["it_mw"][si]
        ready_excess.append((hosted - ready).max(initial=0.0))
        if conv:
            idle = by_use["ready_idle"]["it_mw"][si]
            cons = by_use["constructing"]["it_mw"][si]
            idle_mismatch.append(np.abs(idle - (ready - hosted)).max(initial=0.0))
            idle_mismatch.append(np.abs(cons - constructing).max(initial=0.0))
        for r in contracts_at.get(site.name, contracts.iloc[:0]).itertuples():
            c = contract_by_name[r.contract]
            a = month_index(p.start_month, c.start_month)
            for t in range(max(0, a), min(T, a + c.term_months)):
                rate = c.rate_usd_per_kw_month * (1 + c.escalator_per_year) ** ((t - a) // 12)
                flows["ai_revenue_usd"][t] += 1000 * rate * r.it_mw
                flows["ai_opex_usd"][t] -= 1000 * conv.ai_opex_usd_per_kw_month * r.it_mw
                if not c.power_pass_through:
                    flows["ai_power_usd"][t] -= conv.ai_pue * price_mwh[t] * hours[t] * r.it_mw
            if c.tenant_capex_share > 0:  # signed or offered alike
                lead = conv.lead_months
                pay = [a] if lead == 0 else list(range(a - lead, a))
                for t in pay:
                    if 0 <= t < T:
                        flows["tenant_capex_usd"][t] += (
                            c.tenant_capex_share * conv.capex_usd_per_it_mw * r.it_mw / max(1, lead)
                        )
            if p.terminal_value:
                for t in range(max(T, a), a + c.term_months):
                    lab = month_label(p.start_month, t)
                    h = 24 * calendar.monthrange(*map(int, lab.split("-")))[1]
                    rate = c.rate_usd_per_kw_month * (1 + c.escalator_per_year) ** ((t - a) // 12)
                    net = 1000 * rate - 1000 * conv.ai_opex_usd_per_kw_month
                    if not c.power_pass_through:
                        net -= conv.ai_pue * price_mwh[T - 1] * h
                    tv_usd += (1 + p.discount_rate_per_year) ** (-(t + 1) / 12) * net * r.it_mw
        # grid: everything but "unused" within the interconnect
        drawn = by_use["drawn"]["power_mw"][si]
        power_excess.append((drawn - site.grid_mw).max(initial=0.0))
        # fleet running within fleet owned; mining economics
        for gj, g in enumerate(site.fleets):
            sales = sales_of.get(g.name, rig_sales.iloc[:0])
            sold_mw = np.zeros(T)
            for r in sales.itertuples():
                t = pos[r.month]
                sold_mw[t] += r.mw_sold
                resale = g.resale_usd_per_th * (1 - g.resale_decay_per_year) ** (t / 12)
                flows["rig_proceeds_usd"][t] += resale * r.mw_sold * 1e6 / g.efficiency_j_per_th
            owned = g.power_mw - np.cumsum(sold_mw)
            fleet_excess.append(max(0.0, -owned.min(initial=0.0)))
            run_mw = run_power.get((si, gj), np.zeros(T)) / site.mining_pue
            fleet_excess.append((run_mw - site.availability_share * owned).max(initial=0.0))
            ph = run_mw * 1000 / g.efficiency_j_per_th
            revenue = ph * days * hashprice * (1 - p.pool_fee_share)
            flows["mining_revenue_usd"] += revenue
            mined += revenue / price
            flows["mining_power_usd"] -= site.mining_pue * run_mw * price_mwh * hours
            flows["mining_opex_usd"] -= site.mining_opex_usd_per_mw_month * owned
            if p.terminal_value:
                salvage = g.resale_usd_per_th * (1 - g.resale_decay_per_year) ** (T / 12)
                tv_usd += disc[-1] * owned[-1] * 1e6 / g.efficiency_j_per_th * salvage

    checks.append(Check("site_power", max(power_excess, default=0.0), 1e-5, "MW"))
    checks.append(Check("hosting_capacity", max(ready_excess, default=0.0), 1e-5, "MW"))
    checks.append(Check("plan_states_consistent", max(idle_mismatch, default=0.0), 1e-5, "MW"))
    checks.append(Check("fleet_limit", max(fleet_excess, default=0.0), 1e-5, "MW"))

    # contracts: size, minimum commitment, signed MW, eligibility
    size_err = []
    for c in p.contracts:
        rows = contracts[contracts["contract"] == c.name]
        total = float(rows["it_mw"].sum())
        size_err.append(total - c.max_it_mw)
        if c.min_it_mw > 0 and not relaxed and not c.signed and total > 1e-6:
            size_err.append(c.min_it_mw - total)
        if c.signed:
            for site, mw in c.signed_it_mw.items():
                got = float(rows.loc[rows["site"] == site, "it_mw"].sum())
                size_err.append(abs(got - mw))
        size_err.append(float((~rows["site"].isin(c.eligible_sites)).sum()))
    checks.append(Check("contract_size", max(size_err, default=0.0), 1e-5, "MW"))

    # BTC conserved
    tre = treasury.set_index("month").reindex(months)
    held_prev = np.concatenate([[tr.btc], tre["btc_held"].to_numpy()[:-1]])
    btc_err = np.abs(tre["btc_held"].to_numpy() - (held_prev + mined - tre["btc_sold"].to_numpy()))
    mined_err = np.abs(tre["btc_mined"].to_numpy() - mined)
    btc_scale = max(1.0, tr.btc, float(mined.sum()), float(tre["btc_sold"].sum()))
    checks.append(
        Check(
            "btc_balance",
            float(max(btc_err.max(), mined_err.max())),
            1e-5 * btc_scale,
            "BTC",
        )
    )
    floor_err = max(
        float((tr.min_btc - tre["btc_held"]).max()),
        float((tre["btc_sold"] - tr.max_btc_sold_per_month).max()),
        0.0,
    )
    checks.append(Check("btc_floor_and_depth", floor_err, 1e-5 * btc_scale, "BTC"))

    # cash conserved and above its floor
    sold = tre["btc_sold"].to_numpy()
    gap = funding_gap.set_index("month")["gap_usd"].reindex(months).fillna(0).to_numpy()
    operating = sum(v for k, v in flows.items() if k != "mining_revenue_usd")
    sales_usd = (1 - phi) * price * sold
    cash = tr.cash_usd + np.cumsum(operating + sales_usd + gap)
    scale = max(1e6, abs(tr.cash_usd), float(np.abs(flows["capex_usd"]).sum()))
    cash_err = np.abs(cash - tre["cash_usd"].to_numpy()).max(initial=0.0)
    checks.append(Check("cash_balance", float(cash_err), 1e-6 * scale, "USD"))
    below = float((tr.min_cash_usd - tre["cash_usd"]).max())
    checks.append(Check("cash_floor", max(0.0, below), 1e-6 * scale, "USD"))

    value = float(sum(disc @ f for f in flows.values()) - disc @ (phi * price * sold) + tv_usd)
    checks.append(Check("value", abs(value - value_usd), 1e-5 * max(1e6, abs(value)), "USD"))
    return Verification(checks, value)
