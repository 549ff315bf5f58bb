"""The funding sources beside BTC sales as columns, rows and flows (docs/model.md, "Financing").

One ``add_<family>`` per constraint family; ``optimizer/build.py`` calls the hooks here from
``add_variables`` (the columns), ``cash_flow_pairs`` (interest and fees: cash and value),
``add_cash_balance`` (principal: cash only) and ``collect_value_terms`` (option cost, dilution
and the interest owed after the horizon: value only). Without a ``financing`` section nothing
here adds a column, a row or a coefficient.

Money is in $M (columns of draws, repayments and balances are $M); month t's interest is
rate/12 × the balance at the end of month t−1; draws and repayments count in their month.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pulp

from realloc.models import month_index
from realloc.optimizer.index import USD_PER_MUSD
from realloc.optimizer.model import Model

FINANCING_TERMS = (
    "financing_interest_usd",
    "financing_fees_usd",
    "note_option_cost_usd",
    "equity_dilution_usd",
    "financing_terminal_interest_usd",
)
"""Value terms of the financing sources (all ≤ 0); only reported when financing is given."""


@dataclass
class LoanCols:
    """A BTC-backed facility's columns, [W, T] (−1 where a column does not exist)."""

    first: int  # first month a draw may be made
    maturity: int  # month index of the maturity (may lie past the horizon)
    draw: np.ndarray
    repay: np.ndarray
    owed: np.ndarray
    pledge: np.ndarray


@dataclass
class NoteCols:
    """A note's first-stage columns: per window month, the issue ($M) and its binary."""

    months: np.ndarray  # window months inside the horizon
    issue: np.ndarray
    chosen: np.ndarray


@dataclass
class ProjectCols:
    """A project loan's columns, [W, T]: draws, scheduled repayment, balance, cumulative draws."""

    site: int
    draw: np.ndarray
    repay: np.ndarray
    owed: np.ndarray
    drawn: np.ndarray
    used: np.ndarray | None = None  # [W] binary: the loan draws on the path (with min_dscr)


@dataclass
class FinancingCols:
    """Every financing column of a model (``Model.fin``)."""

    loans: list[LoanCols] = field(default_factory=list)
    notes: list[NoteCols] = field(default_factory=list)
    projects: list[ProjectCols] = field(default_factory=list)
    equity: np.ndarray | None = None  # [W, T] $M issued


def _grid(m: Model, name: str, months, up=None) -> np.ndarray:
    """[W, T] columns ``name_{t}_{ω}`` for ``months`` (−1 elsewhere)."""
    W, T = len(m.index.scenarios), m.index.n_months
    cols = np.full((W, T), -1, dtype=int)
    for w in range(W):
        for t in months:
            cols[w, t] = m.var(f"{name}_{t}_{w}", 0.0, up)
    return cols


def _used(m: Model, p: int) -> np.ndarray:
    """[W] binaries ``project_used_{p}_{ω}``: project loan p draws on path ω (its covenant
    applies only then; continuous with ``--relax``)."""
    cat = pulp.LpContinuous if m.relax else pulp.LpInteger
    return np.array(
        [m.var(f"project_used_{p}_{w}", 0, 1, cat) for w in range(len(m.index.scenarios))],
        dtype=int,
    )


def add_financing_variables(m: Model) -> None:
    """Create the financing columns (nothing without a ``financing`` section)."""
    fin = m.index.portfolio.financing
    if fin is None:
        return
    ix = m.index
    T, start = ix.n_months, ix.portfolio.start_month
    cols = FinancingCols()
    for f, loan in enumerate(fin.btc_loans):
        a, mat = month_index(start, loan.first_month), month_index(start, loan.maturity_month)
        live = range(a, min(mat, T))
        cols.loans.append(
            LoanCols(
                a,
                mat,
                _grid(m, f"loan_draw_{f}", live),
                _grid(m, f"loan_repay_{f}", range(a, min(mat + 1, T))),
                _grid(m, f"loan_owed_{f}", range(a, T), loan.max_usd / USD_PER_MUSD),
                _grid(m, f"loan_pledge_{f}", live),
            )
        )
        for t in range(max(a, mat), T):  # repaid in full from the maturity month on
            for w in range(len(ix.scenarios)):
                m.col_ub[int(cols.loans[-1].owed[w, t])] = 0.0
    for n, note in enumerate(fin.notes):
        a = month_index(start, note.first_month)
        months = np.arange(a, min(month_index(start, note.last_month) + 1, T))
        cat = pulp.LpContinuous if m.relax else pulp.LpInteger
        issue = np.array([m.var(f"note_issue_{n}_{t}") for t in months], dtype=int)
        chosen = np.array([m.var(f"note_chosen_{n}_{t}", 0, 1, cat) for t in months], dtype=int)
        cols.notes.append(NoteCols(months, issue, chosen))
    site_pos = {name: s for s, name in enumerate(ix.sites)}
    for p, loan in enumerate(fin.project_loans):
        every = range(T)
        cols.projects.append(
            ProjectCols(
                site_pos[loan.site],
                _grid(m, f"project_draw_{p}", every),
                _grid(m, f"project_repay_{p}", every),
                _grid(m, f"project_owed_{p}", every),
                _grid(m, f"project_drawn_{p}", every),
                None if loan.min_dscr is None else _used(m, p),
            )
        )
    if fin.equity is not None:
        cols.equity = _grid(m, "equity_issue", range(T), fin.equity.max_usd_per_month / 1e6)
    m.fin = cols


def _put(pairs: dict[int, float], col, coef: float) -> None:
    col = int(col)
    if col >= 0 and coef != 0.0:
        pairs[col] = pairs.get(col, 0.0) + coef


def financing_cash_terms(m: Model, t: int, w: int, terms: dict[str, dict[int, float]]) -> None:
    """Month t's interest and fees ($M per unit of each column, signed as value) into
    ``terms`` (they are cash and value alike)."""
    if m.fin is None:
        return
    fin = m.index.portfolio.financing
    interest, fees = terms["financing_interest_usd"], terms["financing_fees_usd"]
    for loan, c in zip(fin.btc_loans, m.fin.loans, strict=True):
        _put(fees, c.draw[w, t], -loan.fee_share)
        if t > c.first and t <= c.maturity:
            _put(interest, c.owed[w, t - 1], -loan.rate_per_year / 12)
    for note, c in zip(fin.notes, m.fin.notes, strict=True):
        for tau, col in zip(c.months.tolist(), c.issue.tolist(), strict=True):
            if tau == t:
                _put(fees, col, -note.fee_share)
            if tau < t <= tau + note.term_months:
                _put(interest, col, -note.coupon_per_year / 12)
    for loan, c in zip(fin.project_loans, m.fin.projects, strict=True):
        _put(fees, c.draw[w, t], -loan.fee_share)
        if t > 0:
            _put(interest, c.owed[w, t - 1], -loan.rate_per_year / 12)
    if m.fin.equity is not None:
        _put(fees, m.fin.equity[w, t], -fin.equity.fee_share)


def financing_principal_pairs(m: Model, t: int, w: int) -> dict[int, float]:
    """Month t's principal moved into cash ($M per unit): draws and issues in, repayments out.
    Cash only: principal never enters value."""
    pairs: dict[int, float] = {}
    if m.fin is None:
        return pairs
    fin = m.index.portfolio.financing
    for c in m.fin.loans:
        _put(pairs, c.draw[w, t], 1.0)
        _put(pairs, c.repay[w, t], -1.0)
    for note, c in zip(fin.notes, m.fin.notes, strict=True):
        for tau, col in zip(c.months.tolist(), c.issue.tolist(), strict=True):
            if tau == t:
                _put(pairs, col, 1.0)
            if tau + note.term_months == t:
                _put(pairs, col, -1.0)
    for c in m.fin.projects:
        _put(pairs, c.draw[w, t], 1.0)
        _put(pairs, c.repay[w, t], -1.0)
    if m.fin.equity is not None:
        _put(pairs, m.fin.equity[w, t], 1.0)
    return pairs


def remaining_share(tau, s, grace: int, term: int):
    """Share of a project-loan draw made in month ``tau`` still owed at the end of month ``s``:
    it is repaid in ``term`` equal parts in months tau+grace+1 … tau+grace+term."""
    paid = np.clip(np.asarray(s) - np.asarray(tau) - grace, 0, term)
    return np.where(np.asarray(s) >= np.asarray(tau), 1.0 - paid / term, 0.0)


def financing_value_only(m: Model, w: int, acc: dict[str, dict[int, float]]) -> None:
    """Scenario w's value-only terms ($M, discounted): the conversion option's cost and the
    dilution at issue, and the interest still owed after the horizon up to maturity."""
    if m.fin is None:
        return
    ix, fin = m.index, m.index.portfolio.financing
    T, d = ix.n_months, ix.discount
    tail = _tail_discount(ix.portfolio.discount_rate_per_year, T)
    for note, c in zip(fin.notes, m.fin.notes, strict=True):
        for tau, col in zip(c.months.tolist(), c.issue.tolist(), strict=True):
            _put(acc["note_option_cost_usd"], col, -float(d[tau]) * note.option_cost_share)
            last = tau + note.term_months  # the last coupon month
            _put(
                acc["financing_terminal_interest_usd"],
                col,
                -note.coupon_per_year / 12 * tail(max(T, tau + 1), last),
            )
    if m.fin.equity is not None:
        for t in range(T):
            _put(
                acc["equity_dilution_usd"],
                m.fin.equity[w, t],
                -float(d[t]) * fin.equity.dilution_cost_share,
            )
    for loan, c in zip(fin.btc_loans, m.fin.loans, strict=True):
        if c.maturity >= T:  # the balance at the horizon is held until it is repaid
            coef = -loan.rate_per_year / 12 * tail(T, c.maturity)
            _put(acc["financing_terminal_interest_usd"], c.owed[w, T - 1], coef)
    for loan, c in zip(fin.project_loans, m.fin.projects, strict=True):
        coefs = project_tail_interest(loan, T, ix.portfolio.discount_rate_per_year)
        for tau in range(T):
            _put(acc["financing_terminal_interest_usd"], c.draw[w, tau], coefs[tau])


def _tail_discount(rate: float, T: int):
    """Σ_{u=a}^{b} δ_u for months past the horizon (δ_u = (1+r)^(−(u+1)/12)), 0 when b < a."""

    def total(a: int, b: int) -> float:
        u = np.arange(max(a, T), b + 1)
        return float(((1 + rate) ** (-(u + 1) / 12)).sum())

    return total


def project_tail_interest(loan, T: int, rate: float) -> np.ndarray:
    """Per draw month τ < T: value (signed, discounted) of the interest a $ drawn then pays
    after the horizon, on the schedule's remaining balance: −Σ_{u≥T} δ_u · r/12 · rem(τ, u−1)."""
    last = T + loan.grace_months + loan.term_months
    u = np.arange(T, last + 1)
    disc = (1 + rate) ** (-(u + 1) / 12)
    rem = remaining_share(
        np.arange(T)[:, None], u[None, :] - 1, loan.grace_months, loan.term_months
    )
    return -loan.rate_per_year / 12 * (rem * disc[None, :]).sum(axis=1)
