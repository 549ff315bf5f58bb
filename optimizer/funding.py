"""The funding table (funding.csv): every source of cash by month and scenario.

One row per source and month (and scenario): each BTC-backed facility, note, project loan, the
equity programme, BTC sold from production and from the stack, and each contract's tenant
prepayment. Money in $, rounded as the other tables (optimizer/written.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from realloc.models.financing import EQUITY_SOURCE
from realloc.optimizer.index import USD_PER_MUSD
from realloc.optimizer.written import BTC, EPS, USD

FUNDING_COLUMNS = [
    "month",
    "scenario",
    "source",
    "kind",
    "drawn_usd",
    "repaid_usd",
    "balance_usd",
    "interest_usd",
    "fees_usd",
    "pledged_btc",
    "ltv_share",
]


def _val(x: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Values of ``cols`` (0 where a column does not exist, −1)."""
    cols = np.asarray(cols)
    return np.where(cols >= 0, x[np.maximum(cols, 0)], 0.0)


def _round(values, digits: int) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    out = np.array([round(a, digits) for a in v.ravel().tolist()]).reshape(v.shape)
    out[np.abs(v) < EPS] = 0.0
    return out + 0.0


def _prev(a: np.ndarray) -> np.ndarray:
    """[W, T] → the value at the end of the previous month (0 before month 0)."""
    return np.concatenate([np.zeros((a.shape[0], 1)), a[:, :-1]], axis=1)


def _loan_parts(m, x: np.ndarray) -> list[dict]:
    """Per BTC-backed facility: [W, T] arrays of draws, repayments, balance, interest, fees
    ($) and the BTC pledged (the stack shared pro rata to each facility's required collateral,
    owed / (λ · price)), so the LTV figure is the plan's widest margin."""
    ix, fin = m.index, m.index.portfolio.financing
    T = ix.n_months
    held = _val(x, m.held)
    need = []
    parts = []
    for loan, c in zip(fin.btc_loans, m.fin.loans, strict=True):
        owed = _val(x, c.owed) * USD_PER_MUSD
        months = np.arange(T)[None, :]
        due = (months > c.first) & (months <= c.maturity)
        parts.append(
            {
                "source": loan.name,
                "kind": "btc_loan",
                "drawn": _val(x, c.draw) * USD_PER_MUSD,
                "repaid": _val(x, c.repay) * USD_PER_MUSD,
                "balance": owed,
                "interest": np.where(due, loan.rate_per_year / 12 * _prev(owed), 0.0),
                "fees": loan.fee_share * _val(x, c.draw) * USD_PER_MUSD,
            }
        )
        need.append(np.maximum(owed, 0.0) / (loan.max_ltv_share * ix.btc_price_usd))
    total = sum(need)
    for part, n in zip(parts, need, strict=True):
        share = np.divide(n, total, out=np.zeros_like(n), where=total > 0)
        part["pledged"] = np.minimum(held * share, held)
    return parts


def _note_parts(m, x: np.ndarray) -> list[dict]:
    """Per note (first stage, the same on every path): issue, bullet, balance, coupon, fee."""
    ix, fin = m.index, m.index.portfolio.financing
    W, T = len(ix.scenarios), ix.n_months
    parts = []
    for note, c in zip(fin.notes, m.fin.notes, strict=True):
        issued = np.zeros(T + note.term_months + 1)
        issued[c.months] = x[c.issue] * USD_PER_MUSD
        repaid = np.concatenate([np.zeros(note.term_months), issued])[:T]
        balance = np.cumsum(issued[:T] - repaid)
        parts.append(
            {
                "source": note.name,
                "kind": "note",
                "drawn": np.tile(issued[:T], (W, 1)),
                "repaid": np.tile(repaid, (W, 1)),
                "balance": np.tile(balance, (W, 1)),
                "interest": np.tile(note.coupon_per_year / 12 * _prev(balance[None])[0], (W, 1)),
                "fees": np.tile(note.fee_share * issued[:T], (W, 1)),
            }
        )
    return parts


def _project_parts(m, x: np.ndarray) -> list[dict]:
    """Per project loan: draws, scheduled repayments, balance, interest, fees."""
    fin = m.index.portfolio.financing
    parts = []
    for loan, c in zip(fin.project_loans, m.fin.projects, strict=True):
        draw = _val(x, c.draw) * USD_PER_MUSD
        owed = _val(x, c.owed) * USD_PER_MUSD
        parts.append(
            {
                "source": loan.name,
                "kind": "project_loan",
                "drawn": draw,
                "repaid": _val(x, c.repay) * USD_PER_MUSD,
                "balance": owed,
                "interest": loan.rate_per_year / 12 * _prev(owed),
                "fees": loan.fee_share * draw,
            }
        )
    return parts


def _equity_parts(m, x: np.ndarray) -> list[dict]:
    if m.fin.equity is None:
        return []
    issued = _val(x, m.fin.equity) * USD_PER_MUSD
    share = m.index.portfolio.financing.equity.fee_share
    return [{"source": EQUITY_SOURCE, "kind": "equity", "drawn": issued, "fees": share * issued}]


def _sale_parts(m, x: np.ndarray) -> list[dict]:
    """BTC sold from the month's production first, the rest from the stack: net proceeds as
    drawn, the sale cost as fees."""
    ix = m.index
    phi = ix.portfolio.treasury.sale_cost_bps / 1e4
    mined = np.einsum("wgt,wgt->wt", ix.btc_per_mw_month(), _val(x, m.mine))
    sold = _val(x, m.sold)
    production = np.minimum(sold, np.maximum(mined, 0.0))
    out = []
    for name, btc in (("production", production), ("the stack", sold - production)):
        usd = ix.btc_price_usd * btc
        out.append(
            {
                "source": f"BTC sold from {name}",
                "kind": "btc_sale",
                "drawn": (1 - phi) * usd,
                "fees": phi * usd,
            }
        )
    return out


def _prepay_parts(m, x: np.ndarray) -> list[dict]:
    """Each contract's tenant capex prepayment by month (the ``tenant_capex_usd`` flows)."""
    ix = m.index
    W, T = len(ix.scenarios), ix.n_months
    by_contract: dict[int, np.ndarray] = {}
    col_contract = {int(m.host[i]): k for i, (_, k) in enumerate(ix.pairs)}
    if m.site_coefs is not None:  # the prepayment is paid on host_new (new-build MW)
        col_contract.update({int(c): ix.pairs[i][1] for i, c in m.site_coefs.host_new.items()})
    for w in range(W):
        for t in range(T):
            for col, coef in m.cash_flows(t, w)["tenant_capex_usd"].items():
                k = col_contract[col]
                by_contract.setdefault(k, np.zeros((W, T)))[w, t] += coef * x[col] * USD_PER_MUSD
    return [
        {"source": f"Tenant prepayment: {ix.contracts[k]}", "kind": "tenant_prepayment", "drawn": v}
        for k, v in sorted(by_contract.items())
    ]


def funding_table(m, x: np.ndarray) -> pd.DataFrame | None:
    """funding.csv's rows (None without a ``financing`` section)."""
    if m.fin is None:
        return None
    ix = m.index
    W, T = len(ix.scenarios), ix.n_months
    parts = [
        *_loan_parts(m, x),
        *_note_parts(m, x),
        *_project_parts(m, x),
        *_equity_parts(m, x),
        *_sale_parts(m, x),
        *_prepay_parts(m, x),
    ]
    zeros = np.zeros((W, T))
    frames = []
    for part in parts:
        get = {k: np.broadcast_to(part.get(k, zeros), (W, T)) for k in FUNDING_KEYS}
        balance = _round(get["balance"], USD)
        pledged = _round(get["pledged"], BTC)
        with np.errstate(divide="ignore", invalid="ignore"):
            ltv = np.where(
                (balance > 0) & (pledged > 0), balance / (ix.btc_price_usd * pledged), np.nan
            )
        if part["kind"] != "btc_loan":
            ltv = np.full((W, T), np.nan)
        frame = {
            "month": np.tile(np.asarray(ix.months, dtype=object), W),
            "scenario": np.repeat(np.asarray([s.name for s in ix.scenarios], dtype=object), T),
            "source": part["source"],
            "kind": part["kind"],
        }
        for key in ("drawn", "repaid"):
            frame[f"{key}_usd"] = _round(get[key], USD).ravel()
        frame["balance_usd"] = balance.ravel()
        frame["interest_usd"] = _round(get["interest"], USD).ravel()
        frame["fees_usd"] = _round(get["fees"], USD).ravel()
        frame["pledged_btc"] = pledged.ravel()
        frame["ltv_share"] = ltv.ravel()
        frames.append(pd.DataFrame(frame))
    out = pd.concat(frames, ignore_index=True)
    order = np.lexsort(
        (
            np.tile(np.arange(T), len(frames) * W),
            out["scenario"].map({s.name: w for w, s in enumerate(ix.scenarios)}).to_numpy(),
        )
    )
    return out.iloc[order].reset_index(drop=True)[FUNDING_COLUMNS]


FUNDING_KEYS = ("drawn", "repaid", "balance", "interest", "fees", "pledged")
