"""The financing constraint families (docs/model.md): one ``add_<family>`` each, with its math.

Columns come from ``optimizer/financing.py``; every family adds nothing without a
``financing`` section. Money in $M, BTC in BTC.
"""

from __future__ import annotations

import pulp

from realloc.optimizer.financing import _put
from realloc.optimizer.index import USD_PER_MUSD
from realloc.optimizer.model import Model

EQ, LE, GE = pulp.LpConstraintEQ, pulp.LpConstraintLE, pulp.LpConstraintGE


def _scenarios(m: Model) -> range:
    return range(len(m.index.scenarios))


def add_btc_loan_balance(m: Model) -> None:
    """owed[f,t,ω] = owed[f,t−1,ω] + draw[f,t,ω] − repay[f,t,ω] (owed[f,a_f−1] = 0); owed ≤ F_f
    and owed = 0 from the maturity month are its bounds, draws only in a_f … maturity−1."""
    if m.fin is None:
        return
    for f, c in enumerate(m.fin.loans):
        for w in _scenarios(m):
            for t in range(c.first, m.index.n_months):
                pairs: dict[int, float] = {}
                _put(pairs, c.owed[w, t], 1.0)
                _put(pairs, c.draw[w, t], -1.0)
                _put(pairs, c.repay[w, t], 1.0)
                if t > c.first:
                    _put(pairs, c.owed[w, t - 1], -1.0)
                m.row("btc_loan_balance", (f, t, w), pairs, EQ, 0.0)


def add_loan_to_value(m: Model) -> None:
    """owed[f,t,ω] ≤ λ_f · price[t,ω] · pledge[f,t,ω] (price in $M per BTC) while a balance may
    be owed, and Σ_f pledge[f,t,ω] ≤ held[t,ω]: the margin call, path by path."""
    if m.fin is None:
        return
    ix = m.index
    fin = ix.portfolio.financing
    for w in _scenarios(m):
        for t in range(ix.n_months):
            pledged: dict[int, float] = {}
            for f, (loan, c) in enumerate(zip(fin.btc_loans, m.fin.loans, strict=True)):
                if c.pledge[w, t] < 0:
                    continue
                price = float(ix.btc_price_usd[w, t]) / USD_PER_MUSD
                pairs = {int(c.owed[w, t]): 1.0, int(c.pledge[w, t]): -loan.max_ltv_share * price}
                m.row("loan_to_value", (f, t, w), pairs, LE, 0.0)
                _put(pledged, c.pledge[w, t], 1.0)
            if pledged:
                pledged[int(m.held[w, t])] = -1.0
                m.row("loan_to_value", ("pledged", t, w), pledged, LE, 0.0)


def add_note_issue(m: Model) -> None:
    """Σ_t chosen[n,t] ≤ 1 (issued once, first stage), m_n · chosen[n,t] ≤ issue[n,t] ≤
    M_n · chosen[n,t] (chosen binary unless ``--relax``)."""
    if m.fin is None:
        return
    fin = m.index.portfolio.financing
    for n, (note, c) in enumerate(zip(fin.notes, m.fin.notes, strict=True)):
        if not len(c.months):
            continue
        m.row("note_issue", (n, "once"), {int(y): 1.0 for y in c.chosen}, LE, 1.0)
        for t, x, y in zip(c.months.tolist(), c.issue.tolist(), c.chosen.tolist(), strict=True):
            m.row("note_issue", (n, t, "max"), {x: 1.0, y: -note.max_usd / USD_PER_MUSD}, LE, 0.0)
            if note.min_usd > 0:
                pairs = {x: 1.0, y: -note.min_usd / USD_PER_MUSD}
                m.row("note_issue", (n, t, "min"), pairs, GE, 0.0)


def add_project_loan_balance(m: Model) -> None:
    """drawn[p,t] = drawn[p,t−1] + draw[p,t]; repay[p,t] = repay[p,t−1] + (draw[p,t−g−1] −
    draw[p,t−g−N−1])/N (each draw repaid in N equal parts in months τ+g+1 … τ+g+N); owed[p,t] =
    owed[p,t−1] + draw[p,t] − repay[p,t]."""
    if m.fin is None:
        return
    fin = m.index.portfolio.financing
    for p, (loan, c) in enumerate(zip(fin.project_loans, m.fin.projects, strict=True)):
        g, n = loan.grace_months, loan.term_months
        for w in _scenarios(m):
            for t in range(m.index.n_months):
                drawn = {int(c.drawn[w, t]): 1.0, int(c.draw[w, t]): -1.0}
                repay = {int(c.repay[w, t]): 1.0}
                owed = {int(c.owed[w, t]): 1.0, int(c.draw[w, t]): -1.0, int(c.repay[w, t]): 1.0}
                if t > 0:
                    _put(drawn, c.drawn[w, t - 1], -1.0)
                    _put(repay, c.repay[w, t - 1], -1.0)
                    _put(owed, c.owed[w, t - 1], -1.0)
                if t - g - 1 >= 0:
                    _put(repay, c.draw[w, t - g - 1], -1.0 / n)
                if t - g - n - 1 >= 0:
                    _put(repay, c.draw[w, t - g - n - 1], 1.0 / n)
                m.row("project_loan_balance", (p, "drawn", t, w), drawn, EQ, 0.0)
                m.row("project_loan_balance", (p, "repay", t, w), repay, EQ, 0.0)
                m.row("project_loan_balance", (p, "owed", t, w), owed, EQ, 0.0)


def add_loan_to_cost(m: Model) -> None:
    """drawn[p,t,ω] ≤ ltc_p · Σ_{τ≤t} capex[s_p,τ]: cumulative draws within the loan-to-cost
    share of the conversion capex paid at the loan's site so far (``capex_usd`` of the site,
    as ``cash_flow_pairs`` defines it)."""
    if m.fin is None:
        return
    fin = m.index.portfolio.financing
    for p, (loan, c) in enumerate(zip(fin.project_loans, m.fin.projects, strict=True)):
        site_cols = {int(j) for j in m.cum_build[c.site] if j >= 0}
        for w in _scenarios(m):
            paid: dict[int, float] = {}  # Σ_{τ≤t} capex, $M (positive), as cum_build pairs
            for t in range(m.index.n_months):
                for col, coef in m.cash_flows(t, w)["capex_usd"].items():
                    if col in site_cols:
                        _put(paid, col, -coef)
                pairs = {j: -loan.max_loan_to_cost_share * v for j, v in paid.items() if v}
                pairs[int(c.drawn[w, t])] = 1.0
                m.row("loan_to_cost", (p, t, w), pairs, LE, 0.0)


def add_debt_service_coverage(m: Model) -> None:
    """NOI[s_p,t,ω] ≥ dscr_p · (r_p/12 · owed[p,t−1,ω] + repay[p,t,ω]) − B_t · (1 − used[p,ω])
    for t ≥ g_p + 1 (loans with ``min_dscr``): NOI is the site's hosting rent − AI opex − AI
    power and firm-load charges not passed through; ``used[p,ω]`` (binary) is 1 when the loan
    draws on the path (Σ_t draw[p,t,ω] ≤ D_p · used[p,ω], D_p = ltc × the site's largest
    capex), so a loan never drawn imposes no covenant; B_t is the largest loss the site's
    hosting can make in month t."""
    if m.fin is None:
        return
    fin = m.index.portfolio.financing
    ix = m.index
    for p, (loan, c) in enumerate(zip(fin.project_loans, m.fin.projects, strict=True)):
        if loan.min_dscr is None:
            continue
        hosts = {int(m.host[i]) for i, (s, _) in enumerate(ix.pairs) if s == c.site}
        conv = ix.portfolio.sites[c.site].conversion
        most_mw = conv.max_it_mw if conv is not None else 0.0
        top = loan.max_loan_to_cost_share * most_mw * (conv.capex_usd_per_it_mw if conv else 0.0)
        for w in _scenarios(m):
            draws = {int(col): 1.0 for col in c.draw[w] if col >= 0}
            draws[int(c.used[w])] = -top / USD_PER_MUSD
            m.row("debt_service_coverage", (p, "used", w), draws, LE, 0.0)
            for t in range(loan.grace_months + 1, ix.n_months):
                pairs = site_noi_pairs(m, t, w, hosts)
                loss = sum(-v * min(m.col_ub[k], most_mw) for k, v in pairs.items() if v < 0)
                _put(pairs, c.repay[w, t], -loan.min_dscr)
                _put(pairs, c.owed[w, t - 1], -loan.min_dscr * loan.rate_per_year / 12)
                _put(pairs, c.used[w], -loss)
                m.row("debt_service_coverage", (p, t, w), pairs, GE, -loss)


NOI_TERMS = ("ai_revenue_usd", "ai_opex_usd", "ai_power_usd", "firm_load_charge_usd")
"""The cash-flow terms of a site's hosting NOI (GPU capex and residual are capital, not NOI)."""


def site_noi_pairs(m: Model, t: int, w: int, hosts: set[int]) -> dict[int, float]:
    """Month t's hosting net operating income at the site whose host columns are ``hosts``
    ($M per MW): rent − AI opex − AI power and firm-load charges not passed through."""
    flows = m.cash_flows(t, w)
    pairs: dict[int, float] = {}
    for name in NOI_TERMS:
        for col, coef in flows[name].items():
            if col in hosts:
                _put(pairs, col, coef)
    return pairs


def add_equity_programme(m: Model) -> None:
    """Σ_t issue[t,ω] ≤ programme size (the monthly cap is the columns' bound)."""
    if m.fin is None or m.fin.equity is None:
        return
    total = m.index.portfolio.financing.equity.max_usd_total / USD_PER_MUSD
    for w in _scenarios(m):
        pairs = {int(col): 1.0 for col in m.fin.equity[w]}
        m.row("equity_programme", (w,), pairs, LE, total)
