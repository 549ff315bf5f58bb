"""Explain in business terms why a plan cannot be funded or cannot exist at all.

Structural causes (a signed contract no hall can be ready for, a BTC floor above the stack,
existing halls that need more grid than the site has) are found by arithmetic before any
solve; funding shortfalls come from the elastic re-solve's month-by-month gap.
"""

from __future__ import annotations

import pandas as pd

from models import Portfolio, month_index


def structural_problems(p: Portfolio) -> list[str]:
    """Reasons no plan can exist whatever is sold or built, each with what would fix it."""
    problems: list[str] = []
    tr = p.treasury
    if tr.btc < tr.min_btc:
        problems.append(
            f"The BTC floor (treasury.min_btc = {tr.min_btc:,.2f} BTC) is above the starting "
            f"stack ({tr.btc:,.2f} BTC): lower min_btc or raise treasury.btc."
        )
    for s in p.sites:
        c = s.conversion
        if c and c.ai_pue * c.existing_it_mw > s.grid_mw + 1e-9:
            problems.append(
                f"Site {s.name}: existing AI halls ({c.existing_it_mw:,.1f} IT MW × PUE "
                f"{c.ai_pue}) "
                f"need {c.ai_pue * c.existing_it_mw:,.1f} MW but grid_mw is {s.grid_mw:,.1f}."
            )
    for s in p.sites:
        c = s.conversion
        signed = [(k, k.signed_it_mw.get(s.name, 0.0)) for k in p.contracts if k.signed]
        signed = [(k, mw) for k, mw in signed if mw > 0]
        if not c or not signed:
            continue
        for t in range(p.months):
            active = [
                (k, mw)
                for k, mw in signed
                if 0 <= t - month_index(p.start_month, k.start_month) < k.term_months
            ]
            need = sum(mw for _, mw in active)
            # the most IT that can be ready at the site in month t
            reachable = c.max_it_mw if t >= c.lead_months else c.existing_it_mw
            if need > reachable + 1e-9:
                names = ", ".join(k.name for k, _ in active)
                problems.append(
                    f"Site {s.name}: signed contract(s) {names} need {need:,.1f} IT MW in month "
                    f"{t} of the plan, but at most {reachable:,.1f} MW can be ready there by then "
                    f"(existing {c.existing_it_mw:,.1f} MW, max {c.max_it_mw:,.1f} MW, lead time "
                    f"{c.lead_months} months): raise existing_it_mw or max_it_mw, "
                    "or move the start."
                )
                break
    return problems


def funding_gap_text(gap: pd.DataFrame, treasury: pd.DataFrame, p: Portfolio) -> list[str]:
    """Plain-words summary of a month-by-month funding gap and what would close it."""
    gap = gap[gap["gap_usd"] > 0.5]
    if gap.empty:
        return []
    total = float(gap["gap_usd"].sum())
    first = gap.iloc[0]["month"]
    worst = gap.loc[gap["gap_usd"].idxmax()]
    price0 = float(treasury["btc_price_usd"].iloc[0])
    phi = p.treasury.sale_cost_bps / 1e4
    lines = [
        f"The plan cannot be funded: even selling every BTC the floor and market depth allow, "
        f"cash falls below the ${p.treasury.min_cash_usd:,.0f} floor in {len(gap)} month(s), "
        f"first in {first}; the largest shortfall is ${worst['gap_usd']:,.0f} in {worst['month']}.",
        f"Closing it takes ${total:,.0f} of extra cash by {first} (starting cash, a credit line "
        f"or equity), or a lower cash floor by that amount.",
    ]
    if price0 > 0:
        btc = total / ((1 - phi) * price0)
        lines.append(
            f"In BTC, about {btc:,.1f} more BTC at the first month's price, if the monthly sale "
            f"limit ({p.treasury.max_btc_sold_per_month:,.0f} BTC) and the BTC floor "
            f"({p.treasury.min_btc:,.0f} BTC) allow selling it in time."
        )
    return lines
