"""summary.json's funding keys: amounts raised per source, the cost of financing, the cost of
the HODL floor, the LTV headroom of each facility and why each source was or was not used
(docs/model.md, "Financing": the definitions)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from realloc.models import month_index
from realloc.models.financing import EQUITY_SOURCE
from realloc.optimizer.financing import FINANCING_TERMS
from realloc.optimizer.index import USD_PER_MUSD

USED_USD = 1.0
"""A source that raised less than $1 (probability-weighted) counts as unused."""


def _weighted(frame: pd.DataFrame, probability: dict[str, float], column: str) -> pd.Series:
    weights = frame["scenario"].map(probability)
    return (frame[column] * weights).groupby(frame["source"], sort=False).sum()


def funding_sources(funding: pd.DataFrame, probability: dict[str, float]) -> dict[str, float]:
    """{source: total drawn, issued or raised over the horizon, probability-weighted}, $."""
    raised = _weighted(funding, probability, "drawn_usd")
    return {k: round(float(v), 2) for k, v in raised.items()}


def financing_cost(value_terms_usd: dict[str, float]) -> float:
    """Present value of every financing cost, BTC sale cost included, $ (≥ 0)."""
    names = (*FINANCING_TERMS, "btc_sale_cost_usd")
    return round(-sum(value_terms_usd.get(n, 0.0) for n in names), 2) + 0.0


def hodl_cost(m, col_dual: np.ndarray | None) -> float | None:
    """$ per BTC-year the BTC floor costs: −Σ_{t,ω} (reduced cost of held[t,ω] in value, $ per
    BTC) — the plan value lost if the floor were 1 BTC higher in every month of every path —
    over the horizon in years. None without duals (a MILP without its fixed LP), without a
    floor, or when the floor does not bind."""
    if col_dual is None or m.index.portfolio.treasury.min_btc <= 0:
        return None
    lost = float((col_dual[m.held.ravel()]).sum()) * USD_PER_MUSD  # −dvalue = +dual (min form)
    if abs(lost) < 1e-6:
        return None
    return round(lost / (m.index.n_months / 12), 2)


def ltv_headroom(funding: pd.DataFrame, financing) -> list[dict]:
    """Per facility that owes anything: the month (and path) with the least headroom (the
    highest LTV), the BTC price then and the price at which the balance would reach the
    facility's max LTV on the BTC pledged: breach = balance / (λ · pledged)."""
    lam = {loan.name: loan.max_ltv_share for loan in financing.btc_loans}
    rows = funding[(funding["kind"] == "btc_loan") & funding["ltv_share"].notna()]
    out = []
    for name, part in rows.groupby("source", sort=False):
        r = part.iloc[int(np.argmax(part["ltv_share"].to_numpy()))]
        out.append(
            {
                "facility": name,
                "month": r["month"],
                "scenario": r["scenario"],
                "plan_btc_price_usd": round(
                    float(r["balance_usd"] / (r["ltv_share"] * r["pledged_btc"])), 2
                ),
                "breach_btc_price_usd": round(
                    float(r["balance_usd"] / (lam[name] * r["pledged_btc"])), 2
                ),
            }
        )
    return out


def all_in_cost_per_year(kind: str, src, horizon_years: float) -> float:
    """Interest per year plus one-off costs spread over the source's life in years: a facility
    from first month to maturity, a note over its term, a project loan over a draw's average
    life (grace + (term+1)/2 months), equity and BTC sales over the horizon."""
    if kind == "btc_loan":
        years = month_index(src.first_month, src.maturity_month) / 12
        return src.rate_per_year + src.fee_share / years
    if kind == "note":
        return src.coupon_per_year + (src.fee_share + src.option_cost_share) * 12 / src.term_months
    if kind == "project_loan":
        life = (src.grace_months + (src.term_months + 1) / 2) / 12
        return src.rate_per_year + src.fee_share / life
    if kind == "equity":
        return (src.fee_share + src.dilution_cost_share) / horizon_years
    return src.sale_cost_bps / 1e4 / horizon_years


def _offered(m) -> list[tuple[str, str, object, np.ndarray]]:
    """(source, kind, its inputs, the columns that raise money) of every offered source."""
    fin, cols = m.index.portfolio.financing, m.fin
    out = [(f.name, "btc_loan", f, c.draw) for f, c in zip(fin.btc_loans, cols.loans, strict=True)]
    out += [(n.name, "note", n, c.issue) for n, c in zip(fin.notes, cols.notes, strict=True)]
    out += [
        (p.name, "project_loan", p, c.draw)
        for p, c in zip(fin.project_loans, cols.projects, strict=True)
    ]
    if cols.equity is not None:
        out.append((EQUITY_SOURCE, "equity", fin.equity, cols.equity))
    out.append(("BTC sales", "btc_sale", m.index.portfolio.treasury, m.sold))
    return out


def funding_choices(m, sources: dict[str, float], col_dual: np.ndarray | None) -> list[dict]:
    """Per offered source (and BTC sales): the amount used, its all-in cost per year and why
    it was or was not used. An unused source's reason quotes its best reduced cost in the
    value LP: the value one more $ raised from it would add (≤ 0 when it is not worth it)."""
    years = m.index.n_months / 12
    entries = []
    for name, kind, src, _ in _offered(m):
        used = sum(
            v
            for k, v in sources.items()
            if k == name or (kind == "btc_sale" and k.startswith("BTC sold from"))
        )
        cost = all_in_cost_per_year(kind, src, years)
        entries.append(
            {
                "source": name,
                "kind": kind,
                "used_usd": round(float(used), 2),
                "all_in_cost_per_year": round(float(cost), 6),
            }
        )
    cheapest = min(
        (e["all_in_cost_per_year"] for e in entries if e["used_usd"] >= USED_USD), default=None
    )
    for e, (_, kind, _, cols) in zip(entries, _offered(m), strict=True):
        e["reason"] = _reason(e, kind, cols, col_dual, cheapest)
    return entries


def _reason(e: dict, kind: str, cols, col_dual, cheapest) -> str:
    """Why a source was (not) used, in one sentence."""
    if e["used_usd"] >= USED_USD:
        return (
            f"used: ${e['used_usd']:,.0f} raised at {e['all_in_cost_per_year']:.2%} a year all-in"
        )
    live = np.asarray(cols).ravel()
    live = live[live >= 0]
    against = "" if cheapest is None else f" (cheapest used source: {cheapest:.2%} a year)"
    if kind == "btc_sale":
        return "not used: no BTC sold"
    if col_dual is None or not len(live):
        return f"not used: dearer than the sources used{against}"
    # reduced cost in value per $ raised (min-form dual → value: one sign flip; $M per $M)
    best = float(-col_dual[live].min())
    if abs(best) < 5e-5:  # prints as ±0.0000: say it in words
        return (
            "not used: at the margin it would neither add nor cost value (the plan is as good "
            f"without it){against}"
        )
    return f"not used: each $ raised would change value by ${best:+.4f} at the margin{against}"


def funding_keys(m, funding: pd.DataFrame, value_terms_usd: dict, col_dual) -> dict:
    """summary.json's funding keys (docs/model.md, "Financing")."""
    probability = {
        sc.name: float(p) for sc, p in zip(m.index.scenarios, m.index.probability, strict=True)
    }
    sources = funding_sources(funding, probability)
    return {
        "funding_sources_usd": sources,
        "financing_cost_usd": financing_cost(value_terms_usd),
        "hodl_cost_usd_per_btc_year": hodl_cost(m, col_dual),
        "ltv_headroom": ltv_headroom(funding, m.index.portfolio.financing),
        "funding_choices": funding_choices(m, sources, col_dual),
    }
