"""Explain in business terms why a plan cannot be funded or cannot exist at all.

Every message names the month, the limit that binds (cash floor, BTC floor, market depth, a
signed contract) and by how much, and what would close it.

- **Structural causes** (a signed contract no hall can be ready for or no grid can power, a BTC
  floor no stack and no mining can reach, existing halls that need more grid than the site has)
  are found by arithmetic before any solve: no amount of cash fixes them.
- **Funding shortfalls** come from the elastic re-solve, which injects the least outside cash
  (a "funding gap") month by month. Its BTC sales and holdings show which limit stopped the
  treasury from raising more: the BTC floor (everything above it sold) or the market depth
  (the monthly sale limit reached). The fixes are sized from the gap: adding the gap as cash
  or lowering the cash floor by it closes it exactly (the same plan then holds); the BTC-floor
  and sale-limit figures convert the gap at the month's price net of the sale cost, and are
  approximate because the optimizer may then time its sales differently.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass

import numpy as np
import pandas as pd

from realloc.models import Portfolio, month_index, month_label
from realloc.optimizer.funding_options import GapMonths, closing_text, funding_options

GAP_USD = 0.005
"""Funding gaps below half a cent in a month are rounding, not shortfalls (tables are in cents:
a plan reported unfunded always gets its explanation, however small the gap)."""


def _money(usd: float) -> str:
    return f"${usd:,.0f}" if abs(usd) >= 1000 else f"${usd:,.2f}"


def _series_at(v: float | list[float], t: int) -> float:
    return float(v[t]) if isinstance(v, list) else float(v)


def _most_btc_mined_in_month0(p: Portfolio) -> float:
    """An upper bound on the BTC the fleet can mine in the first month (every rig hashing at
    its availability, grid limits ignored): what can lift the stack to the BTC floor."""
    y, m = (int(x) for x in p.start_month.split("-"))
    days = calendar.monthrange(y, m)[1]
    hashprice = _series_at(p.market.hashprice_usd_per_ph_day, 0)
    price = _series_at(p.market.btc_price_usd, 0)
    usd = sum(
        s.availability_share * g.power_mw * 1000 / g.efficiency_j_per_th * hashprice * days
        for s in p.sites
        for g in s.fleets
    )
    return usd * (1 - p.pool_fee_share) / price


def _signed_need(p: Portfolio, site: str) -> list[tuple[int, float, list[str]]]:
    """(month, IT MW, contract names) of the signed load at ``site`` in each planned month."""
    signed = [
        (k, (k.signed_it_mw or {}).get(site, 0.0))
        for k in p.contracts
        if k.signed and (k.signed_it_mw or {}).get(site, 0.0) > 0
    ]
    out = []
    for t in range(p.months):
        active = [
            (k, mw)
            for k, mw in signed
            if 0 <= t - month_index(p.start_month, k.start_month) < k.term_months
        ]
        if active:
            out.append((t, sum(mw for _, mw in active), [k.name for k, _ in active]))
    return out


def structural_problems(p: Portfolio) -> list[str]:
    """Reasons no plan can exist whatever is sold or built, each with what would fix it."""
    problems: list[str] = []
    tr = p.treasury
    reach = tr.btc + _most_btc_mined_in_month0(p)
    if reach < tr.min_btc - 1e-9:
        problems.append(
            f"BTC floor: treasury.min_btc is {tr.min_btc:,.2f} BTC at every month end, but the "
            f"stack is {tr.btc:,.2f} BTC and mining can add at most "
            f"{reach - tr.btc:,.2f} BTC in {p.start_month}, leaving it "
            f"{tr.min_btc - reach:,.2f} BTC short: lower min_btc to at most {reach:,.2f} BTC "
            f"(or to the {tr.btc:,.2f} BTC held), or raise treasury.btc."
        )
    for s in p.sites:
        c = s.conversion
        if c and c.ai_pue * c.existing_it_mw > s.grid_mw + 1e-9:
            problems.append(
                f"Site {s.name}: the existing AI halls ({c.existing_it_mw:,.1f} IT MW × PUE "
                f"{c.ai_pue:g} = {c.ai_pue * c.existing_it_mw:,.1f} MW) need more than grid_mw "
                f"({s.grid_mw:,.1f} MW): lower existing_it_mw to at most "
                f"{s.grid_mw / c.ai_pue:,.1f} MW or raise grid_mw."
            )
    for s in p.sites:
        c = s.conversion
        need = _signed_need(p, s.name)
        if not c or not need:
            continue
        for t, mw, names in need:
            # the most IT that can be ready at the site in month t
            reachable = c.max_it_mw if t >= c.lead_months else c.existing_it_mw
            if mw > reachable + 1e-9:
                label = month_label(p.start_month, t)
                if mw <= c.max_it_mw + 1e-9:
                    ready = month_label(p.start_month, c.lead_months)
                    fix = (
                        f"move the start to {ready} or later (a build started in "
                        f"{p.start_month} is ready after {c.lead_months} months), or raise "
                        f"existing_it_mw to {mw:,.1f} MW"
                    )
                else:
                    fix = f"raise max_it_mw to at least {mw:,.1f} MW or sign fewer MW there"
                problems.append(
                    f"Signed contract(s) {', '.join(names)} cannot be served at {s.name}: they "
                    f"need {mw:,.1f} IT MW in {label}, but at most {reachable:,.1f} MW can be "
                    f"ready there by then (existing {c.existing_it_mw:,.1f} MW, max "
                    f"{c.max_it_mw:,.1f} MW, lead time {c.lead_months} months), "
                    f"{mw - reachable:,.1f} MW short: {fix}."
                )
                break
        t, mw, names = max(need, key=lambda n: n[1])
        if c.ai_pue * mw > s.grid_mw + 1e-9:
            problems.append(
                f"Signed contract(s) {', '.join(names)} cannot be powered at {s.name}: "
                f"{mw:,.1f} IT MW in {month_label(p.start_month, t)} × AI PUE {c.ai_pue:g} = "
                f"{c.ai_pue * mw:,.1f} MW, {c.ai_pue * mw - s.grid_mw:,.1f} MW more than its "
                f"grid_mw ({s.grid_mw:,.1f} MW): sign at most {s.grid_mw / c.ai_pue:,.1f} IT MW "
                "there, or raise grid_mw."
            )
    return problems


def no_plan_text(status: str, time_limit_s: float | None = None) -> list[str]:
    """Why there is no plan when no structural problem explains it."""
    if status == "time_limit":
        limit = f" of {time_limit_s:g} s" if time_limit_s else ""
        return [
            f"The solver stopped at its time limit{limit} before finding any plan: raise "
            "--time-limit (or leave it unset), or relax all-or-nothing minimums with --relax."
        ]
    return [
        "The solver found no plan even with outside cash allowed in every month, and no "
        "single input explains it; please report this portfolio (realloc validate passes it)."
    ]


def _worst_scenario(gap: pd.DataFrame) -> tuple[pd.DataFrame, str | None, int]:
    """The rows of the scenario with the largest total gap (all rows when there is one)."""
    if "scenario" not in gap.columns:
        return gap, None, 1
    totals = gap.groupby("scenario", sort=False)["gap_usd"].sum()
    short = int((totals > GAP_USD).sum())
    name = str(totals.idxmax())
    return gap[gap["scenario"] == name].drop(columns="scenario"), name, short


def _only(frame: pd.DataFrame | None, scenario: str | None) -> pd.DataFrame | None:
    if frame is None or scenario is None or "scenario" not in frame.columns:
        return frame
    return frame[frame["scenario"] == scenario].drop(columns="scenario")


OUTFLOW_WORDS = {
    "capex_usd": "conversion capex",
    "mining_power_usd": "mining power",
    "mining_opex_usd": "mining opex",
    "ai_power_usd": "power for gross-lease tenants",
    "ai_opex_usd": "hosting opex",
}


def funding_gap_text(
    gap: pd.DataFrame,
    treasury: pd.DataFrame,
    p: Portfolio,
    cashflows: pd.DataFrame | None = None,
    funding: pd.DataFrame | None = None,
    conversions: pd.DataFrame | None = None,
) -> list[str]:
    """Plain-words account of a month-by-month funding gap: when, how much, which limit
    stopped the treasury from raising the cash, what forces the spending, and what closes it.

    ``gap`` and ``treasury`` are the plan's tables (a ``scenario`` column is allowed: the
    scenario with the largest gap is described); ``cashflows`` adds the largest outflows. When
    the portfolio offers financing, the cheapest offered sources with room that would close the
    gap are named (optimizer/funding_options.py), from what the plan's ``funding`` table has
    raised and the capex its ``conversions`` spend.
    """
    gap, scenario, short = _worst_scenario(gap)
    treasury = _only(treasury, scenario)
    cashflows = _only(cashflows, scenario)
    months = list(treasury["month"])
    g = gap.set_index("month")["gap_usd"].reindex(months).fillna(0.0).to_numpy()
    in_gap = np.flatnonzero(g > GAP_USD)
    if in_gap.size == 0:
        return []
    tr = p.treasury
    sf = _Shortfall(
        months=months,
        gap=g,
        in_gap=in_gap,
        price=treasury["btc_price_usd"].to_numpy(dtype=float),
        sold=treasury["btc_sold"].to_numpy(dtype=float),
        held=treasury["btc_held"].to_numpy(dtype=float),
        tol=1e-6 * max(1.0, tr.btc, tr.max_btc_sold_per_month),
    )
    where = f" in scenario {scenario!r} ({short} scenario(s) are short)" if scenario else ""
    worst = int(np.argmax(g))
    lines = [
        f"The plan cannot be funded{where}: cash falls below the cash floor "
        f"(treasury.min_cash_usd = {_money(tr.min_cash_usd)}) in {in_gap.size} month(s), first "
        f"in {months[sf.first]}; the largest shortfall is {_money(g[worst])} in {months[worst]}, "
        f"{_money(sf.total)} in all."
    ]
    limits, floor_binds, at_depth = _sale_limits(sf, tr)
    lines += limits
    lines += _spending(sf, p, cashflows)
    fixes = _fixes(sf, tr, floor_binds, at_depth)
    lines.append("Any one of these closes it: " + "; or ".join(fixes) + ".")
    if getattr(p, "financing", None) is not None:  # issue 14: the cheapest source that closes it
        gm = GapMonths(sf.months, sf.in_gap, sf.price, sf.held)
        options = funding_options(p.financing, gm, _only(funding, scenario), conversions)
        lines += closing_text(options, sf.total, _money)
    return lines


@dataclass(frozen=True)
class _Shortfall:
    """The described scenario's gap and BTC treasury by month."""

    months: list[str]
    gap: np.ndarray  # USD missing by month
    in_gap: np.ndarray  # months with a gap above GAP_USD
    price: np.ndarray
    sold: np.ndarray
    held: np.ndarray
    tol: float  # BTC within which a floor or the sale limit counts as reached

    @property
    def first(self) -> int:
        return int(self.in_gap[0])

    @property
    def last(self) -> int:
        return int(self.in_gap[-1])

    @property
    def total(self) -> float:
        return float(self.gap.sum())


def _sale_limits(sf: _Shortfall, tr) -> tuple[list[str], bool, np.ndarray]:
    """Which limit stopped the BTC sales: the lines saying so, whether the BTC floor binds at
    the last month short, and the months up to it that sell at the market-depth limit."""
    months, last, held = sf.months, sf.last, sf.held
    lines = []
    at_floor = np.flatnonzero(held[: last + 1] <= tr.min_btc + sf.tol)
    at_depth = np.flatnonzero(sf.sold[: last + 1] >= tr.max_btc_sold_per_month - sf.tol)
    floor_binds = at_floor.size > 0 and held[last] <= tr.min_btc + sf.tol
    if floor_binds:
        since = months[int(at_floor[0])]
        if tr.min_btc > 0:
            lines.append(
                f"BTC floor: every BTC above treasury.min_btc ({tr.min_btc:,.2f} BTC) is sold by "
                f"{since}; the floor keeps the rest from being sold."
            )
        else:
            lines.append(f"The BTC stack is sold out by {since}: there is no BTC left to sell.")
    if at_depth.size:
        shown = ", ".join(months[int(t)] for t in at_depth[:6])
        more = f" and {at_depth.size - 6} more" if at_depth.size > 6 else ""
        lines.append(
            f"Market depth: the sale limit (treasury.max_btc_sold_per_month = "
            f"{tr.max_btc_sold_per_month:,.2f} BTC) is reached in {at_depth.size} month(s) up "
            f"to {months[last]} ({shown}{more})."
        )
    if not floor_binds and not at_depth.size:
        lines.append("Neither the BTC floor nor the sale limit binds: no BTC is left to sell.")
    return lines, floor_binds, at_depth


def _spending(sf: _Shortfall, p: Portfolio, cashflows: pd.DataFrame | None) -> list[str]:
    """What forces the spending: the largest outflows up to the last month short, and the
    builds signed contracts need."""
    months, last = sf.months, sf.last
    lines = []
    if cashflows is not None:
        window = cashflows[cashflows["month"].isin(months[: last + 1])]
        out = {
            words: -float(window[col].clip(upper=0).sum())
            for col, words in OUTFLOW_WORDS.items()
            if col in window.columns
        }
        speck = max(1.0, 0.01 * max(out.values(), default=0.0))  # solver dust, not spending
        top = [(w, v) for w, v in sorted(out.items(), key=lambda kv: -kv[1]) if v >= speck][:3]
        if top:
            listed = ", ".join(f"{w} {_money(v)}" for w, v in top)
            lines.append(f"Cash out from {months[0]} to {months[last]}: {listed}.")
    for s in p.sites:
        c = s.conversion
        need = _signed_need(p, s.name)
        if c and need:
            t, mw, names = max(need, key=lambda n: n[1])
            build = mw - c.existing_it_mw
            if build > 1e-9:
                lines.append(
                    f"Signed contract(s) {', '.join(names)} need {build:,.1f} IT MW built at "
                    f"{s.name} (about {_money(build * c.capex_usd_per_it_mw)} of capex) by "
                    f"{month_label(p.start_month, t)}; moving their start later spreads it out."
                )
    return lines


def _fixes(sf: _Shortfall, tr, floor_binds: bool, at_depth: np.ndarray) -> list[str]:
    """What closes the gap, each fix enough on its own: more cash, a lower cash or BTC floor,
    or a higher sale limit (the last two sized at the gap's BTC at each month's price)."""
    months, total, last = sf.months, sf.total, sf.last
    fixes = [f"add {_money(total)} of cash by {months[sf.first]} (starting cash, a credit line "
             "or equity)"]  # fmt: skip
    if tr.min_cash_usd > 0:
        if total <= tr.min_cash_usd:
            fixes.append(
                f"lower treasury.min_cash_usd by {_money(total)} "
                f"(to {_money(tr.min_cash_usd - total)})"
            )
        else:
            fixes.append(
                f"a zero cash floor alone is not enough ({_money(total - tr.min_cash_usd)} "
                "would still be missing)"
            )
    phi = tr.sale_cost_bps / 1e4
    g = sf.gap
    need_btc = g / ((1 - phi) * sf.price) if phi < 1 else np.full_like(g, np.inf)
    extra_btc = float(need_btc.sum())
    if floor_binds and tr.min_btc > 0 and np.isfinite(extra_btc):
        if extra_btc <= tr.min_btc:
            fixes.append(
                f"lower treasury.min_btc by about {extra_btc:,.1f} BTC "
                f"(to {tr.min_btc - extra_btc:,.1f} BTC), selling them as the gap arises"
            )
        else:
            fixes.append(
                f"a zero BTC floor alone is not enough (about {extra_btc - tr.min_btc:,.1f} BTC "
                "more would be needed)"
            )
    if at_depth.size and not floor_binds and np.isfinite(extra_btc):
        limit = float(np.max(sf.sold[sf.in_gap] + need_btc[sf.in_gap]))
        fixes.append(
            f"raise treasury.max_btc_sold_per_month to about {limit:,.1f} BTC "
            f"(the stack holds {sf.held[last] - tr.min_btc:,.1f} BTC above the floor in "
            f"{months[last]})"
        )
    return fixes
