"""verify() catches broken funding tables, family by family (as tests/test_verify.py does for the
other tables).

The plan: tiny() with one source of each kind (tests/helpers.py ``tiny_financing``), a 3-month
lead, rent from April, 1,000 BTC of which 900 must be kept and a 5 % sale cost: it draws the
BTC-backed loan L and the project loan P and sells some BTC. Each test breaks one figure of a
copy of funding.csv and expects the named check to fail by that much.
"""

from __future__ import annotations

import pandas as pd
import pytest

from realloc.optimizer import plan_portfolio
from realloc.optimizer.verify import verify
from tests.helpers import tiny, tiny_financing


@pytest.fixture(scope="module")
def planned():
    p = tiny(
        treasury=dict(btc=1000, cash_usd=0, sale_cost_bps=500, min_btc=900),
        discount_rate_per_year=0.1,
        terminal_value=True,
        financing=tiny_financing(),
        sites__0__conversion__lead_months=3,
        contracts__0__start_month="2026-04",
    )
    r = plan_portfolio(p)
    assert r.verification.ok
    f = r.tables.funding
    assert f.loc[f["source"] == "L", "drawn_usd"].sum() > 1e6
    assert f.loc[f["source"] == "P", "drawn_usd"].sum() > 1e6
    return p, r


def check(planned, funding: pd.DataFrame | None = None) -> dict[str, float]:
    p, r = planned
    t = r.tables
    v = verify(
        p,
        t.plan,
        t.treasury,
        t.conversions,
        t.contracts,
        t.rig_sales,
        t.funding_gap,
        r.value_usd,
        funding=t.funding if funding is None else funding,
    )
    return {c.family: c.max_violation for c in v.checks}


def changed(planned, source: str, month: str, column: str, delta: float) -> pd.DataFrame:
    f = planned[1].tables.funding.copy()
    at = (f["source"] == source) & (f["month"] == month)
    assert at.sum() == 1
    f.loc[at, column] += delta
    return f


def first_month(planned, source: str, column: str) -> str:
    f = planned[1].tables.funding
    rows = f[(f["source"] == source) & (f[column] > 0)]
    return str(rows["month"].iloc[0])


def test_the_untouched_funding_table_passes(planned):
    got = check(planned)
    for family in ("btc_loan", "note", "project_loan", "equity", "funding_sources"):
        assert got[family] < 1.0, family


def test_a_balance_that_does_not_follow_draws_and_repayments(planned):
    # $100,000 more owed on L at one month end than draws less repayments give
    month = first_month(planned, "L", "balance_usd")
    got = check(planned, changed(planned, "L", month, "balance_usd", 1e5))
    assert got["btc_loan"] == pytest.approx(1e5, rel=1e-6)


def test_interest_not_on_the_previous_balance(planned):
    month = first_month(planned, "L", "interest_usd")
    got = check(planned, changed(planned, "L", month, "interest_usd", 50.0))
    assert got["btc_loan"] == pytest.approx(50.0, abs=0.01)


def test_too_little_btc_pledged_breaks_the_loan_to_value(planned):
    # L's balance over λ · price · pledged by half the pledge's worth at 50 % LTV
    f = planned[1].tables.funding
    month = first_month(planned, "L", "balance_usd")
    row = f[(f["source"] == "L") & (f["month"] == month)].iloc[0]
    cut = row["pledged_btc"] - row["balance_usd"] / (0.5 * 70000)  # the spare pledge
    got = check(planned, changed(planned, "L", month, "pledged_btc", -(cut + 10.0)))
    assert got["btc_loan"] == pytest.approx(0.5 * 70000 * 10.0, rel=1e-6)


def test_a_draw_after_maturity_or_before_the_first_month(planned):
    # L may draw from 2026-01; a draw written past its balance breaks the recursion too
    got = check(planned, changed(planned, "L", "2026-12", "drawn_usd", 1e4))
    assert got["btc_loan"] >= 1e4 - 1


def test_a_note_issued_twice_or_below_its_minimum(planned):
    # N (minimum $20M) written as issued $5M in March: below the minimum by $15M
    f = changed(planned, "N", "2026-03", "drawn_usd", 5e6)
    f.loc[(f["source"] == "N") & (f["month"] >= "2026-03"), "balance_usd"] += 5e6
    got = check(planned, f)
    assert got["note"] == pytest.approx(15e6, rel=1e-6)


def test_project_loan_draws_beyond_85_percent_of_the_capex_paid(planned):
    # one more $1M drawn in P's first month than loan-to-cost allows (it draws the cap)
    month = first_month(planned, "P", "drawn_usd")
    f = changed(planned, "P", month, "drawn_usd", 1e6)
    f.loc[(f["source"] == "P") & (f["month"] >= month), "balance_usd"] += 1e6
    got = check(planned, f)
    assert got["project_loan"] >= 1e6 / 5 - 1  # the repayment schedule is off by 1/N of it


def test_project_loan_repayment_off_its_schedule(planned):
    month = first_month(planned, "P", "repaid_usd")
    f = changed(planned, "P", month, "repaid_usd", 2e3)
    f.loc[(f["source"] == "P") & (f["month"] >= month), "balance_usd"] -= 2e3
    got = check(planned, f)
    assert got["project_loan"] == pytest.approx(2e3, abs=0.01)


def test_equity_above_its_monthly_cap(planned):
    # $6M issued in one month against a $5M monthly cap
    got = check(planned, changed(planned, "ATM equity", "2026-05", "drawn_usd", 6e6))
    assert got["equity"] >= 1e6 - 1


def test_btc_sale_rows_must_match_the_treasury(planned):
    got = check(planned, changed(planned, "BTC sold from the stack", "2026-01", "drawn_usd", 700))
    assert got["funding_sources"] == pytest.approx(700, abs=0.01)


def test_a_draw_not_in_the_cash_balance(planned):
    # $1,000 more drawn on P (and owed) than the cash in treasury.csv received: less its 1 %
    # fee, $990 more cash than the month's balance shows
    month = first_month(planned, "P", "drawn_usd")
    f = changed(planned, "P", month, "drawn_usd", 1e3)
    f.loc[(f["source"] == "P") & (f["month"] >= month), "balance_usd"] += 1e3
    got = check(planned, f)
    assert got["cash_balance"] == pytest.approx(990.0, abs=0.01)


def test_a_note_issued_differently_on_two_paths(planned):
    # notes are first stage: a stochastic plan's funding.csv must show one issue on every path
    # (verify_plan reports the largest difference under the note check)
    from realloc.optimizer.verify_financing import notes_spread_usd

    p, r = planned
    f = r.tables.funding
    two = pd.concat([f, f.assign(scenario="other")], ignore_index=True)
    assert notes_spread_usd(two, p.financing) == (0.0, "")
    at = (two["scenario"] == "other") & (two["source"] == "N") & (two["month"] == "2026-03")
    two.loc[at, "drawn_usd"] += 2e6
    assert notes_spread_usd(two, p.financing) == (2e6, "N 2026-03")
