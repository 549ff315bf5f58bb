"""Verification of the financing sources from funding.csv, treasury.csv, conversions.csv and
contracts.csv alone (docs/model.md, "Verification"): every balance, interest, fee, LTV,
loan-to-cost, covenant and cap recomputed, and the flows handed to the cash and value checks.

``rederive_financing`` reads funding.csv into arrays by source and month, recomputes interest
and fees from the balances and draws (not from the written interest), and records them in the
ledger (cash and value), the principal (cash only) and the value-only costs. The checks then
compare; each names the builder function whose rows it re-derives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from realloc.models import month_index
from realloc.models.financing import EQUITY_SOURCE
from realloc.optimizer.financing import project_tail_interest
from realloc.optimizer.written import U_USD

COLUMNS = ("drawn_usd", "repaid_usd", "balance_usd", "interest_usd", "fees_usd", "pledged_btc")


@dataclass
class Written:
    """funding.csv as [T] arrays per source name and column (zeros for a source not written)."""

    T: int
    by_source: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    def get(self, source: str, column: str) -> np.ndarray:
        return self.by_source.get(source, {}).get(column, np.zeros(self.T))


def read_funding(funding: pd.DataFrame, pos: dict[str, int], T: int) -> Written:
    """Sum funding.csv's rows by source and month (rows of unknown months are ignored)."""
    out = Written(T)
    if funding is None or funding.empty:
        return out
    t = funding["month"].map(pos).to_numpy(dtype=float, na_value=np.nan)
    ok = ~np.isnan(t)
    for source, idx in funding[ok].groupby("source", sort=False).groups.items():
        rows = funding.loc[idx]
        tt = rows["month"].map(pos).to_numpy(dtype=int)
        arrays = {}
        for col in COLUMNS:
            total = np.zeros(T)
            np.add.at(total, tt, pd.to_numeric(rows[col]).fillna(0.0).to_numpy(dtype=float))
            arrays[col] = total
        out.by_source[source] = arrays
    return out


def _prev(a: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], a[:-1]])


@dataclass
class FinancingFlows:
    """What the cash and value checks add for financing: principal (cash only), interest and
    fees (cash and value), and the value-only costs, each with magnitude and read error."""

    principal: np.ndarray
    principal_err: np.ndarray
    cost: np.ndarray  # interest + fees, value-signed (≤ 0)
    cost_err: np.ndarray
    value_only: np.ndarray  # [value, magnitude, read error], discounted


def rederive_financing(c, funding: pd.DataFrame | None) -> FinancingFlows:
    """Every financing flow by month, recomputed from funding.csv (see the module docstring)."""
    T, fin = c.T, c.p.financing
    zeros = np.zeros(T)
    flows = FinancingFlows(zeros.copy(), zeros.copy(), zeros.copy(), zeros.copy(), np.zeros(3))
    if fin is None:
        return flows
    w = read_funding(funding, c.pos, T)
    c.funding = w
    for loan in fin.btc_loans:
        _btc_loan_flows(c, w, loan, flows)
    for note in fin.notes:
        _note_flows(c, w, note, flows)
    for loan in fin.project_loans:
        bal = w.get(loan.name, "balance_usd")
        monthly = loan.rate_per_year / 12
        _debt(flows, w, loan.name, monthly * _prev(bal), loan.fee_share, monthly)
        coefs = project_tail_interest(loan, T, c.p.discount_rate_per_year)
        draws = w.get(loan.name, "drawn_usd")
        flows.value_only += [
            float(coefs @ draws),
            float(np.abs(coefs) @ np.abs(draws)),
            float(np.abs(coefs).sum()) * U_USD,
        ]
    if fin.equity is not None:
        _equity_flows(c, w, fin.equity, flows)
    return flows


def _btc_loan_flows(c, w: Written, loan, flows: FinancingFlows) -> None:
    """A facility's principal, interest (months a+1 … maturity) and fees, and the interest on
    the balance at the horizon held until maturity."""
    T = c.T
    a = month_index(c.p.start_month, loan.first_month)
    mat = month_index(c.p.start_month, loan.maturity_month)
    bal = w.get(loan.name, "balance_usd")
    due = (np.arange(T) > a) & (np.arange(T) <= mat)
    monthly = loan.rate_per_year / 12
    _debt(flows, w, loan.name, np.where(due, monthly * _prev(bal), 0.0), loan.fee_share, monthly)
    if mat >= T:
        unit = monthly * _tail(c, T, mat)
        flows.value_only += [-unit * bal[-1], unit * abs(bal[-1]), unit * U_USD]


def _note_flows(c, w: Written, note, flows: FinancingFlows) -> None:
    """A note's principal, coupon and fee; its option cost at issue and the coupons after the
    horizon up to its bullet (value only)."""
    T = c.T
    issued = w.get(note.name, "drawn_usd")
    bal = w.get(note.name, "balance_usd")
    monthly = note.coupon_per_year / 12
    _debt(flows, w, note.name, monthly * _prev(bal), note.fee_share, monthly)
    option = c.disc * note.option_cost_share * issued
    tail = np.array([_tail(c, max(T, t + 1), t + note.term_months) for t in range(T)])
    coupon = monthly * tail * issued
    flows.value_only += [
        -float(option.sum() + coupon.sum()),
        float(np.abs(option).sum() + np.abs(coupon).sum()),
        float((c.disc * note.option_cost_share + monthly * tail).sum()) * U_USD,
    ]


def _equity_flows(c, w: Written, equity, flows: FinancingFlows) -> None:
    """Equity raised (cash), its fee (cash and value) and its dilution (value only)."""
    issued = w.get(EQUITY_SOURCE, "drawn_usd")
    flows.principal += issued
    flows.principal_err += U_USD
    flows.cost -= equity.fee_share * issued
    flows.cost_err += equity.fee_share * U_USD
    share = equity.dilution_cost_share
    flows.value_only += [
        -share * float(c.disc @ issued),
        share * float(c.disc @ np.abs(issued)),
        share * float(c.disc.sum()) * U_USD,
    ]


def _debt(flows: FinancingFlows, w: Written, name: str, interest, fee_share, monthly_rate):
    """A debt source's principal (drawn − repaid), interest (recomputed) and fees into
    ``flows``."""
    drawn, repaid = w.get(name, "drawn_usd"), w.get(name, "repaid_usd")
    flows.principal += drawn - repaid
    flows.principal_err += 2 * U_USD
    flows.cost -= interest + fee_share * drawn
    flows.cost_err += (monthly_rate + fee_share) * U_USD


def _tail(c, a: int, b: int) -> float:
    """Σ_{u=a}^{b} δ_u over months past the horizon."""
    u = np.arange(max(a, c.T), b + 1)
    return float(((1 + c.p.discount_rate_per_year) ** (-(u + 1) / 12)).sum())


def notes_spread_usd(funding: pd.DataFrame | None, financing) -> tuple[float, str]:
    """Largest difference, over notes and months, between the paths' issues and repayments of
    a note (first stage: the same on every path), $, and where it is; (0, "") when there is
    one path or no note."""
    if funding is None or financing is None or funding["scenario"].nunique() < 2:
        return 0.0, ""
    worst, where = 0.0, ""
    for note in financing.notes:
        rows = funding[funding["source"] == note.name]
        for col in ("drawn_usd", "repaid_usd"):
            by_month = rows.groupby("month")[col]
            spread = (by_month.max() - by_month.min()).fillna(0.0)
            if len(spread) and float(spread.max()) > worst:
                worst, where = float(spread.max()), f"{note.name} {spread.idxmax()}"
    return worst, where
