"""Known answers of the financing sources (issue 14), each worked by hand in its comments.

The portfolios are tiny: one site whose only costs are a conversion (or an opening cash hole)
and whose only income is rent, no discounting, no terminal value, so the value is rent − capex
− sale cost − financing costs and every figure can be computed on paper.
"""

from __future__ import annotations

from typing import Any

import pytest

from realloc.models import Portfolio
from realloc.optimizer import plan_portfolio
from tests.helpers import _set

M = 1e6


def hole(**overrides: Any) -> Portfolio:
    """No mining (a 0 MW fleet), no contract: a $30M cash hole at the start (cash −$30M, floor
    $0) to be filled in month 0; 1,000 BTC at $70,000; selling costs 500 bps."""
    data: dict[str, Any] = dict(
        name="hole",
        start_month="2026-01",
        months=12,
        discount_rate_per_year=0.0,
        pool_fee_share=0.0,
        terminal_value=False,
        sites=[
            dict(
                name="A",
                grid_mw=10,
                power_price_usd_per_mwh=40,
                fleets=[dict(name="none", power_mw=0, efficiency_j_per_th=30)],
            )
        ],
        market=dict(btc_price_usd=70000, hashprice_usd_per_ph_day=35),
        treasury=dict(btc=1000, cash_usd=-30 * M, sale_cost_bps=500),
    )
    for dotted, value in overrides.items():
        _set(data, dotted.split("__"), value)
    return Portfolio.model_validate(data)


def convert(**overrides: Any) -> Portfolio:
    """No mining; a 50 MW conversion at $1M per IT MW and a 12-month contract at $150/kW-month
    for 50 MW from month 0 (lead 0: the $50M is paid in month 0, rent is $7.5M a month);
    1,000 BTC at $70,000, no cash, selling costs 100 bps."""
    data: dict[str, Any] = dict(
        name="convert",
        start_month="2026-01",
        months=12,
        discount_rate_per_year=0.0,
        pool_fee_share=0.0,
        terminal_value=False,
        sites=[
            dict(
                name="A",
                grid_mw=100,
                power_price_usd_per_mwh=40,
                conversion=dict(max_it_mw=50, capex_usd_per_it_mw=M, lead_months=0, ai_pue=1.0),
            )
        ],
        contracts=[
            dict(
                name="H",
                rate_usd_per_kw_month=150,
                start_month="2026-01",
                term_months=12,
                max_it_mw=50,
                eligible_sites=["A"],
            )
        ],
        market=dict(btc_price_usd=70000, hashprice_usd_per_ph_day=35),
        treasury=dict(btc=1000, cash_usd=0, sale_cost_bps=100),
    )
    for dotted, value in overrides.items():
        _set(data, dotted.split("__"), value)
    return Portfolio.model_validate(data)


def loan(rate: float, **kw: Any) -> dict:
    return dict(
        name="L",
        max_usd=100 * M,
        rate_per_year=rate,
        max_ltv_share=0.5,
        first_month="2026-01",
        maturity_month="2028-01",
        **kw,
    )


def rows(r, source: str):
    f = r.tables.funding
    return f[f["source"] == source].reset_index(drop=True)


def test_free_loan_replaces_btc_sales_that_carry_a_sale_cost():
    # Without a loan: month 0 pays $50M capex and gets $7.5M rent, so $42.5M must be raised by
    # selling BTC at 1 % cost: gross 42.5/0.99 = $42.929M, sale cost $0.429293M. Value =
    # 12 × 7.5 − 50 − 0.429293 = $39.570707M. A 0 %, fee-free loan (2,000 BTC at 50 % LTV cover
    # up to $70M) raises the $42.5M at no cost: value $40M exactly, no BTC sold.
    alone = plan_portfolio(convert(treasury__btc=2000))
    assert alone.value_usd == pytest.approx(40 * M - 42.5 * M * 0.01 / 0.99, abs=1e-3)
    r = plan_portfolio(convert(treasury__btc=2000, financing=dict(btc_loans=[loan(0.0)])))
    assert r.verification.ok
    assert r.value_usd == pytest.approx(40 * M, abs=1e-3)
    assert r.tables.treasury["btc_sold"].sum() == pytest.approx(0.0, abs=1e-9)
    assert rows(r, "L")["drawn_usd"][0] == pytest.approx(42.5 * M, abs=0.01)
    assert r.tables.funding_summary["financing_cost_usd"] == pytest.approx(0.0, abs=0.01)


def test_free_loan_is_capped_by_its_loan_to_value():
    # With 1,000 BTC the loan may lend 0.5 × 70,000 × (1,000 − s) after selling s BTC, and the
    # month-0 need is 69,300 s + 35M − 35,000 s = 42.5M: s = 7.5M / 34,300 = 218.6589 BTC, sale
    # cost 700 s = $153,061.22.
    r = plan_portfolio(convert(financing=dict(btc_loans=[loan(0.0)])))
    s = 7.5 * M / 34300
    assert r.tables.treasury["btc_sold"].sum() == pytest.approx(s, abs=1e-6)
    assert r.value_usd == pytest.approx(40 * M - 700 * s, abs=0.01)


def floor_case(rate: float) -> Portfolio:
    """``convert`` with free BTC sales, 2,000 BTC of which 1,700 must be kept, and a loan."""
    return convert(
        treasury__btc=2000,
        treasury__sale_cost_bps=0,
        treasury__min_btc=1700,
        financing=dict(btc_loans=[loan(rate)]),
    )


def test_dear_loan_is_unused_until_min_btc_binds_then_value_lost_is_the_interest():
    # Selling is free, so any loan is dearer: without a floor it is unused and value is $40M.
    p = floor_case(0.24)
    r = plan_portfolio(
        p.model_copy(update={"treasury": p.treasury.model_copy(update={"min_btc": 0})})
    )
    assert r.value_usd == pytest.approx(40 * M, abs=1e-3)
    assert rows(r, "L")["drawn_usd"].sum() == pytest.approx(0.0, abs=0.01)
    # With 1,700 BTC kept only 300 may be sold (300 × 70,000 = $21M in month 0); the loan lends
    # the other $21.5M. The rent ($7.5M a month) pays 2 % interest on the previous balance and
    # repays the rest at once:
    #   month 1: interest 0.43,      repay 7.07,      owed 14.43
    #   month 2: interest 0.2886,    repay 7.2114,    owed 7.2186
    #   month 3: interest 0.144372,  repay 7.2186,    owed 0
    # interest paid = $0.862972M = the value lost: 40 − 0.862972 = $39.137028M.
    r = plan_portfolio(p)
    assert r.verification.ok
    f = rows(r, "L")
    interest = [0.43, 0.2886, 0.144372]
    assert list(f["interest_usd"][1:4]) == pytest.approx([v * M for v in interest], abs=0.01)
    assert f["interest_usd"].sum() == pytest.approx(0.862972 * M, abs=0.05)
    assert 40 * M - r.value_usd == pytest.approx(0.862972 * M, abs=0.05)
    assert r.tables.value_terms_usd["financing_interest_usd"] == pytest.approx(
        -0.862972 * M, abs=0.05
    )
    # One more BTC kept in every month is $70,000 more borrowed in month 0 and repaid in month
    # 3: interest 1,400 + 1,428 + 1,456.56 = $4,284.56 over the one-year horizon.
    hodl = r.tables.funding_summary["hodl_cost_usd_per_btc_year"]
    assert hodl == pytest.approx(4284.56, abs=0.01)


def test_repayment_falls_as_early_as_cash_allows_without_discounting():
    # the schedule of the case above: each month's rent less interest goes to repayment
    r = plan_portfolio(floor_case(0.24))
    f = rows(r, "L")
    repaid = [0.0, 7.07, 7.2114, 7.2186]
    assert list(f["repaid_usd"][:4]) == pytest.approx([v * M for v in repaid], abs=0.01)
    assert f["balance_usd"][3:].abs().max() == pytest.approx(0.0, abs=0.01)


def test_price_drop_forces_the_repayment_the_ltv_arithmetic_gives():
    # A free loan (0 %, no fee, LTV 50 %) fills the $30M hole: 30 ≤ 0.5 × 70,000 × 1,000 = 35.
    # From month 6 BTC trades at $40,000: owed ≤ 0.5 × 40,000 × held. Selling y BTC at $70,000
    # before the drop repays 0.95 × 70,000 y = 66,500 y and lowers the collateral by y:
    #   30M − 66,500 y ≤ 20,000 (1,000 − y)  ⇔  y ≥ 10M / 46,500 = 215.0538 BTC
    # (selling after the drop repays 38,000 per BTC for 18,000 of headroom, dearer per $ of
    # sale cost, so the plan sells before). Owed from month 6: 30M − 66,500 y = $15,698,924.73
    # = 0.5 × 40,000 × (1,000 − y): the LTV binds at exactly 50 %.
    price = [70000.0] * 6 + [40000.0] * 6
    r = plan_portfolio(hole(market__btc_price_usd=price, financing=dict(btc_loans=[loan(0.0)])))
    assert r.verification.ok
    y = 10 * M / 46500
    assert r.tables.treasury["btc_sold"].sum() == pytest.approx(y, abs=1e-6)
    f = rows(r, "L")
    assert f["balance_usd"][6] == pytest.approx(30 * M - 66500 * y, abs=0.01)
    assert f["ltv_share"][6] == pytest.approx(0.5, abs=1e-9)
    assert r.value_usd == pytest.approx(-0.05 * 70000 * y, abs=0.01)
    (head,) = r.tables.funding_summary["ltv_headroom"]
    assert head["breach_btc_price_usd"] == pytest.approx(40000, abs=0.01)


def note(fee: float, **kw: Any) -> dict:
    return dict(
        name="N",
        max_usd=100 * M,
        min_usd=40 * M,
        first_month="2026-01",
        last_month="2026-03",
        coupon_per_year=0.0,
        fee_share=fee,
        term_months=60,
        **kw,
    )


def test_note_with_a_minimum_is_issued_at_the_minimum_when_cheaper_than_selling():
    # Selling to fill the $30M hole costs 30/0.95 × 0.05 = $1.578947M. A note must be ≥ $40M:
    # at a 1 % fee it costs $0.4M (its bullet is after the horizon; principal is not value), so
    # it is issued at exactly $40M in one month; $39.6M arrives, no BTC is sold.
    r = plan_portfolio(hole(financing=dict(notes=[note(0.01)])))
    assert r.verification.ok
    f = rows(r, "N")
    assert f["drawn_usd"].sum() == pytest.approx(40 * M, abs=0.01)
    assert (f["drawn_usd"] > 0).sum() == 1
    assert r.value_usd == pytest.approx(-0.4 * M, abs=0.01)
    # the status quo issues no notes: it sells
    assert r.baseline_value_usd == pytest.approx(-30 / 0.95 * 0.05 * M, abs=0.01)


def test_note_with_a_minimum_is_declined_when_the_minimum_costs_more_than_selling():
    # At a 5 % fee the minimum costs 40 × 0.05 = $2M > $1.578947M of sale cost: declined.
    r = plan_portfolio(hole(financing=dict(notes=[note(0.05)])))
    assert rows(r, "N")["drawn_usd"].sum() == pytest.approx(0.0, abs=0.01)
    assert r.value_usd == pytest.approx(-30 / 0.95 * 0.05 * M, abs=0.01)


def test_relaxed_note_minimum_issues_only_what_is_needed():
    # --relax relaxes the binaries as contract minimums are: at a 1 % fee, X × 0.99 = 30M, so
    # X = $30.3030M and the value is −0.01 X = −$0.303030M.
    r = plan_portfolio(hole(financing=dict(notes=[note(0.01)])), relax=True)
    assert r.verification.ok
    assert rows(r, "N")["drawn_usd"].sum() == pytest.approx(30 * M / 0.99, abs=0.01)
    assert r.value_usd == pytest.approx(-0.3 * M / 0.99, abs=0.01)


def test_loan_to_cost_caps_a_project_loan_at_85_percent_of_the_capex_spent():
    # Lead 3 months: the $50M is paid $16.667M a month in months 0–2, rent from month 3. A free
    # project loan (0 %, no fee, grace 24: nothing repaid in the horizon) may lend 85 % of the
    # capex paid so far: $14.1667M a month, $42.5M in all; the other 15 % ($7.5M) comes from
    # BTC sales at 1 %: 7.5/0.99 gross, sale cost $75,757.58.
    p = convert(
        sites__0__conversion__lead_months=3,
        contracts__0__start_month="2026-04",
        contracts__0__term_months=9,
        financing=dict(
            project_loans=[
                dict(
                    name="P",
                    site="A",
                    max_loan_to_cost_share=0.85,
                    rate_per_year=0.0,
                    grace_months=24,
                    term_months=120,
                )
            ]
        ),
    )
    r = plan_portfolio(p)
    assert r.verification.ok
    f = rows(r, "P")
    assert list(f["drawn_usd"][:3]) == pytest.approx([0.85 * 50 * M / 3] * 3, abs=0.01)
    assert f["drawn_usd"].sum() == pytest.approx(42.5 * M, abs=0.01)
    assert r.value_usd == pytest.approx(9 * 7.5 * M - 50 * M - 7.5 * M * 0.01 / 0.99, abs=0.01)


def test_equity_cost_is_fee_plus_dilution_times_the_amount():
    # No BTC to sell: the $30M hole is filled by the ATM at a 3 % fee: X × 0.97 = 30M,
    # X = $30.927835M; its cost is (0.03 + 0.20) × X = $7.113402M (fee $0.927835M in cash,
    # dilution $6.185567M in value only).
    eq = dict(max_usd_per_month=50 * M, max_usd_total=100 * M, fee_share=0.03)
    p = hole(treasury__btc=0, financing=dict(equity=dict(eq, dilution_cost_share=0.2)))
    r = plan_portfolio(p)
    assert r.verification.ok
    x = 30 * M / 0.97
    terms = r.tables.value_terms_usd
    assert terms["financing_fees_usd"] == pytest.approx(-0.03 * x, abs=0.01)
    assert terms["equity_dilution_usd"] == pytest.approx(-0.2 * x, abs=0.01)
    assert r.value_usd == pytest.approx(-0.23 * x, abs=0.01)
    assert r.tables.funding_summary["funding_sources_usd"]["ATM equity"] == pytest.approx(
        x, abs=0.01
    )


def test_debt_service_coverage_caps_a_project_loan_below_its_loan_to_cost():
    # A free project loan (0 %, no fee, no grace) may lend 100 % of the $50M month-0 capex, but
    # each draw D is repaid D/5 a month in months 1–5 and the covenant asks the site's hosting
    # NOI ($7.5M rent a month, no opex) ≥ 1.25 × D/5: D ≤ 7.5 × 5 / 1.25 = $30M. The other
    # 42.5 − 30 = $12.5M of the month-0 need comes from BTC sales at 1 %: sale cost 12.5/0.99 ×
    # 0.01 = $126,262.63.
    p = convert(
        financing=dict(
            project_loans=[
                dict(
                    name="P",
                    site="A",
                    max_loan_to_cost_share=1.0,
                    rate_per_year=0.0,
                    grace_months=0,
                    term_months=5,
                    min_dscr=1.25,
                )
            ]
        )
    )
    r = plan_portfolio(p)
    assert r.verification.ok
    f = rows(r, "P")
    # (free draws later in the year, repaid after month 5, are worth nothing and cost nothing:
    # only month 0's draw is determined)
    assert f["drawn_usd"][0] == pytest.approx(30 * M, abs=0.01)
    assert list(f["repaid_usd"][1:6]) == pytest.approx([6 * M] * 5, abs=0.01)
    assert r.value_usd == pytest.approx(40 * M - 12.5 * M * 0.01 / 0.99, abs=0.01)


def test_debt_service_coverage_counts_the_firm_load_charge_the_operator_pays():
    # As above, but the operator pays the contract's power (free here: $0/MWh) and so the
    # site's firm-load charge: $30/kW-month × 1,000 × η 1.0 × 50 MW = $1.5M a month. Hosting NOI
    # is 7.5 − 1.5 = $6M a month, so D ≤ 6 × 5 / 1.25 = $24M. Month 0 needs 50 − 7.5 + 1.5 =
    # $44M: the other $20M comes from BTC sales at 1 %: sale cost 20/0.99 × 0.01.
    # Value: rent 12 × 7.5 − capex 50 − firm 12 × 1.5 = $22M, less the sale cost.
    loan = dict(
        name="P",
        site="A",
        max_loan_to_cost_share=1.0,
        rate_per_year=0.0,
        grace_months=0,
        term_months=5,
        min_dscr=1.25,
    )
    p = convert(
        financing=dict(project_loans=[loan]),
        sites__0__power_price_usd_per_mwh=0.0,
        sites__0__firm_load_charge_usd_per_kw_month=30.0,
        contracts__0__power_pass_through=False,
    )
    r = plan_portfolio(p)
    assert r.verification.ok, r.verification.failures()
    f = rows(r, "P")
    assert f["drawn_usd"][0] == pytest.approx(24 * M, abs=0.01)
    assert r.value_usd == pytest.approx(22 * M - 20 * M * 0.01 / 0.99, abs=0.01)
