"""Which offered source of financing would close a funding gap most cheaply (issue 14).

When a plan cannot be funded and its portfolio offers financing (``financing:`` — BTC-backed
facilities, notes, project loans, ATM equity), the funding-gap diagnosis (optimizer/diagnose.py)
ranks the offered sources that still have room in the gap months by their all-in annual cost
and says how much more from which would close the gap. The financing section is read
duck-typed (fields as in issue 14's YAML), so this works on the portfolio model or any object
with those fields; the plan's funding table (``funding.csv``), when given, tells what each
source already raised.

Conventions (what "room" and "all-in cost" mean here; the sizes are approximate, since with
more cash the optimizer may re-time its sales and draws):

- A source is considered in the first gap month in which it is offered (a facility from its
  ``first_month`` to before its ``maturity_month``; a note inside its issue window and only if
  not yet issued; a project loan and equity in every month); a source offered in no month up to
  the last gap month is not a fix.
- Room in that month: a facility ``min(max_usd − balance, max_ltv_share × price × (BTC held −
  BTC pledged to other facilities) − balance)``; a note its ``max_usd`` (at least ``min_usd``
  is raised); a project loan ``max_loan_to_cost_share × capex spent at its site so far − drawn
  so far`` (capex spent evenly over each conversion's build months); equity ``min(monthly cap
  − issued that month, programme size − issued so far)``.
  Room below $0.50 + 1e-5 × the limit is none (solver noise at a limit in $M).
- The input to raise is named only when raising it by the rest of the gap stays within the
  source's other limit (a facility's LTV, the equity programme's size).
- Fees are paid in cash on the amount raised, in the month: closing a gap of $G from a source
  with fee share f takes G / (1 − f) (interest from the next month on is left out).
- All-in annual cost (a share per year), as summary.json's ``funding_choices`` defines it
  (:func:`all_in_cost_per_year`): the rate or coupon plus the one-off costs spread over the
  source's life — a facility's fee over its first month to maturity, a note's fee and option
  cost over its term, a project loan's fee over a draw's average life (grace + (term + 1) / 2
  months), equity's fee and dilution cost over the horizon (equity is never repaid).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from realloc.models import month_index
from realloc.models.financing import EQUITY_SOURCE
from realloc.optimizer.funding_summary import all_in_cost_per_year

ROOM_USD = 0.5
"""Room below half a dollar is none (tables are in cents)."""
ROOM_SHARE = 1e-5
"""Room below this share of the limit is none too: the solver leaves a source a few dollars
short of a $M-scale limit it has reached (money is in $M inside the model)."""


def _room(limit: float, used: float) -> float:
    """``limit − used``, with solver noise (``ROOM_USD`` + ``ROOM_SHARE`` × limit) as 0."""
    room = float(limit) - float(used)
    return room if room > ROOM_USD + ROOM_SHARE * abs(float(limit)) else 0.0


@dataclass(frozen=True)
class FundingOption:
    """One offered source, where it stands in the first gap month it is offered in."""

    source: str
    kind: str  # btc_loan | note | project_loan | equity
    cost_per_year: float  # all-in annual cost, a share of the amount
    month: str  # the month its room is measured in
    room_usd: float
    limit: str  # what caps the room, in words after "is": "at its monthly cap"
    min_usd: float = 0.0  # the least that may be raised (a note's all-or-nothing minimum)
    cap_field: str | None = None  # the input whose rise by $X adds $X of room, when there is one
    fee_share: float = (
        0.0  # paid in cash on the amount raised, in the month: $1 raised nets 1 − fee
    )
    headroom_usd: float = float("inf")  # room raising cap_field can add before another limit

    def gross(self, net_usd: float) -> float:
        """What must be raised for ``net_usd`` of cash after the fee."""
        return net_usd / (1.0 - self.fee_share) if self.fee_share < 1 else float("inf")


@dataclass(frozen=True)
class GapMonths:
    """The described path's months, BTC price and holdings, and where the gap is."""

    months: Sequence[str]
    in_gap: np.ndarray  # indices of the months with a gap
    price: np.ndarray  # USD per BTC by month
    held: np.ndarray  # BTC held at month end

    @property
    def years(self) -> float:
        """The horizon in years."""
        return len(self.months) / 12


def _rows(funding: pd.DataFrame | None, source: str | None) -> pd.DataFrame:
    """The funding rows of one source, by month (empty without a table)."""
    if funding is None or funding.empty:
        return pd.DataFrame(columns=["month", "drawn_usd", "balance_usd", "pledged_btc"])
    return funding[funding["source"] == source]


def _at(rows: pd.DataFrame, month: str, column: str, upto: bool = False) -> float:
    """A source's ``column`` in ``month`` (summed up to and including it when ``upto``)."""
    if rows.empty or column not in rows.columns:
        return 0.0
    chosen = rows["month"] <= month if upto else rows["month"] == month
    return float(rows.loc[chosen, column].sum())


def _first_offered(
    gm: GapMonths, first: str | None, last: str | None, before: str | None = None
) -> int | None:
    """The first gap month in which a source is offered (from ``first`` to ``last``, and
    before ``before``; None: open), else the latest month before the gaps in which it is (cash
    raised earlier is carried forward); None when it is offered in no month up to the last gap
    month."""
    end = int(gm.in_gap[-1])
    gaps = set(gm.in_gap.tolist())
    inside = [
        t
        for t, m in enumerate(gm.months[: end + 1])
        if (first is None or m >= first)
        and (last is None or m <= last)
        and (before is None or m < before)
    ]
    in_gap = [t for t in inside if t in gaps]
    return in_gap[0] if in_gap else (inside[-1] if inside else None)


def _facility(loan, gm: GapMonths, funding: pd.DataFrame | None) -> FundingOption | None:
    maturity = getattr(loan, "maturity_month", None)
    t = _first_offered(gm, getattr(loan, "first_month", None), None, maturity)
    if t is None:
        return None
    month, rows = gm.months[t], _rows(funding, loan.name)
    owed = _at(rows, month, "balance_usd")
    others = (
        _rows(funding, None)
        if funding is None or funding.empty
        else funding[(funding["kind"] == "btc_loan") & (funding["source"] != loan.name)]
    )
    free_btc = max(float(gm.held[t]) - _at(others, month, "pledged_btc"), 0.0)
    by_size = _room(loan.max_usd, owed)
    by_ltv = _room(float(loan.max_ltv_share) * float(gm.price[t]) * free_btc, owed)
    cost = all_in_cost_per_year("btc_loan", loan, gm.years)
    room = min(by_size, by_ltv)
    if by_size <= by_ltv:
        field = f"financing.btc_loans[{loan.name}].max_usd"
        return FundingOption(
            loan.name,
            "btc_loan",
            cost,
            month,
            room,
            "at its size",
            0.0,
            field,
            headroom_usd=by_ltv - by_size,
        )
    return FundingOption(loan.name, "btc_loan", cost, month, room, "at its loan-to-value limit")


def _note(note, gm: GapMonths, funding: pd.DataFrame | None) -> FundingOption | None:
    t = _first_offered(gm, getattr(note, "first_month", None), getattr(note, "last_month", None))
    if t is None:
        return None
    issued = _at(_rows(funding, note.name), gm.months[-1], "drawn_usd", upto=True) > ROOM_USD
    cost = all_in_cost_per_year("note", note, gm.years)
    minimum = float(getattr(note, "min_usd", 0.0) or 0.0)
    if issued:  # notes are issued once
        return FundingOption(note.name, "note", cost, gm.months[t], 0.0, "issued already")
    field = f"financing.notes[{note.name}].max_usd"
    room = float(note.max_usd)
    return FundingOption(note.name, "note", cost, gm.months[t], room, "at its size", minimum, field)


def capex_spent_usd(conversions: pd.DataFrame | None, site: str, month: str) -> float:
    """Capex spent at ``site`` up to and including ``month``: each conversion's capex evenly
    over the months from its start to before its ready month (the model's C/L per month)."""
    if conversions is None or conversions.empty:
        return 0.0
    spent = 0.0
    for r in conversions[conversions["site"] == site].itertuples():
        lead = max(month_index(r.start_month, r.ready_month), 1)
        done = min(max(month_index(r.start_month, month) + 1, 0), lead)
        spent += float(r.capex_usd) * done / lead
    return spent


def _project_loan(loan, gm, funding, conversions) -> FundingOption | None:
    t = _first_offered(gm, None, None)
    if t is None:
        return None
    month = gm.months[t]
    drawn = _at(_rows(funding, loan.name), month, "drawn_usd", upto=True)
    room = _room(
        loan.max_loan_to_cost_share * capex_spent_usd(conversions, loan.site, month), drawn
    )
    cost = all_in_cost_per_year("project_loan", loan, gm.years)
    limit = "at its loan-to-cost limit (capex spent so far)"
    return FundingOption(loan.name, "project_loan", cost, month, room, limit)


"""The equity programme's source name in the funding table."""


def _equity(equity, gm: GapMonths, funding: pd.DataFrame | None) -> FundingOption | None:
    t = _first_offered(gm, None, None)
    if t is None:
        return None
    month, rows = gm.months[t], _rows(funding, EQUITY_SOURCE)
    monthly = _room(equity.max_usd_per_month, _at(rows, month, "drawn_usd"))
    total = _room(equity.max_usd_total, _at(rows, month, "drawn_usd", upto=True))
    cost = all_in_cost_per_year("equity", equity, gm.years)
    room = min(monthly, total)
    if monthly <= total:
        field, limit = "financing.equity.max_usd_per_month", "at its monthly cap"
        return FundingOption(
            EQUITY_SOURCE,
            "equity",
            cost,
            month,
            room,
            limit,
            0.0,
            field,
            headroom_usd=total - monthly,
        )
    field, limit = "financing.equity.max_usd_total", "at the programme size"
    return FundingOption(EQUITY_SOURCE, "equity", cost, month, room, limit, 0.0, field)


def funding_options(
    financing,
    gm: GapMonths,
    funding: pd.DataFrame | None = None,
    conversions: pd.DataFrame | None = None,
) -> list[FundingOption]:
    """Every offered source that is offered by the last gap month, cheapest first (ties in
    the order offered)."""
    pairs = [(x, _facility(x, gm, funding)) for x in getattr(financing, "btc_loans", None) or []]
    pairs += [(x, _note(x, gm, funding)) for x in getattr(financing, "notes", None) or []]
    pairs += [
        (x, _project_loan(x, gm, funding, conversions))
        for x in getattr(financing, "project_loans", None) or []
    ]
    equity = getattr(financing, "equity", None)
    if equity is not None:
        pairs.append((equity, _equity(equity, gm, funding)))
    options = [
        replace(o, fee_share=float(getattr(x, "fee_share", 0.0) or 0.0))
        for x, o in pairs
        if o is not None
    ]
    return sorted(options, key=lambda o: o.cost_per_year)


def closing_text(options: Sequence[FundingOption], gap_usd: float, money) -> list[str]:
    """The diagnosis lines: the cheapest mix of offered sources with room that would close a
    gap of ``gap_usd`` (greedy by all-in cost), or why none can and which input to raise.
    ``money`` formats USD."""
    with_room = [o for o in options if o.room_usd > ROOM_USD]
    if not options:
        return ["Financing: no offered source is available in or before the gap months."]
    if not with_room:
        stuck = "; ".join(
            f"{o.source} (about {o.cost_per_year:.1%}/yr all-in) is {o.limit} in {o.month}"
            for o in options
        )
        more = _raise_cap(options, gap_usd, money)
        return [f"Financing: no offered source has room left: {stuck}.{more}"]
    parts, left = [], gap_usd
    for o in with_room:
        if left <= ROOM_USD:
            break
        take = min(max(o.gross(left), o.min_usd), o.room_usd)
        if take < o.min_usd - ROOM_USD:
            continue  # its minimum exceeds its room: it cannot be issued
        parts.append(
            f"{money(take)} more from {o.source} (room {money(o.room_usd)} in {o.month}) at "
            f"about {o.cost_per_year:.1%}/yr all-in"
        )
        left -= take * (1.0 - o.fee_share)
    if not parts:
        return ["Financing: no offered source with room can be raised (each minimum exceeds it)."]
    if left <= ROOM_USD:
        return ["Financing: raising " + ", then ".join(parts) + " would close it."]
    return [
        "Financing: raising " + ", then ".join(parts) + f" would close all but {money(left)} "
        f"of it; the offered sources have no more room.{_raise_cap(options, left, money)}"
    ]


def _raise_cap(options: Sequence[FundingOption], usd: float, money) -> str:
    """ " Raising <input> by $X …": the cheapest source held back by a size that the user sets
    and whose other limits leave room for the $X ('' when none is)."""
    capped = [o for o in options if o.cap_field is not None and o.gross(usd) <= o.headroom_usd]
    if not capped:
        return ""
    o = capped[0]
    return (
        f" Raising {o.cap_field} by {money(o.gross(usd))} would close it (about "
        f"{o.cost_per_year:.1%}/yr all-in, the cheapest source held back by its size)."
    )
