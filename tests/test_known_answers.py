"""Known-answer cases: each expected number is derived by hand in the test from the inputs.

Portfolio: tests/helpers.py ``tiny`` — one 100 MW site, 100 MW of 30 J/TH rigs, margin
$206.67 per MW-day at hashprice $35 and power $40/MWh, no discounting, no pool fee.
"""

from __future__ import annotations

import pytest

from realloc.optimizer import plan_portfolio
from tests.helpers import MARGIN_USD_PER_MW_DAY, MARGIN_USD_PER_MW_YEAR, tiny


def hosted_mw(result) -> float:
    return float(result.tables.contracts["it_mw"].sum())


def test_conversion_wins_at_a_high_rate():
    # Converting 1 MW at $150/kW-month earns 150 × 1000 × 12 = $1.8M of rent for $1M of capex,
    # and gives up one MW of mining ($75,433/yr): +$724,567 per MW, so convert all 50 MW.
    r = plan_portfolio(tiny())
    assert r.status == "optimal"
    assert hosted_mw(r) == pytest.approx(50.0)
    assert float(r.tables.conversions["it_mw"].sum()) == pytest.approx(50.0)
    # value: 50 MW mining all year + 50 MW hosting; the other 50 MW of rigs stand idle
    expected = 50 * MARGIN_USD_PER_MW_YEAR + 50 * (150 * 1000 * 12 - 1e6)
    assert r.value_usd == pytest.approx(expected, rel=1e-8)
    # status quo: 100 MW mining all year
    assert r.baseline_value_usd == pytest.approx(100 * MARGIN_USD_PER_MW_YEAR, rel=1e-8)


def test_conversion_loses_at_a_low_rate():
    # At $80/kW-month: 80 × 1000 × 12 = $0.96M of rent < $1M capex + $75,433 of lost margin.
    r = plan_portfolio(tiny(contracts__0__rate_usd_per_kw_month=80))
    assert hosted_mw(r) == pytest.approx(0.0, abs=1e-9)
    assert r.tables.conversions.empty
    assert r.uplift_usd == pytest.approx(0.0, abs=1e-3)


def test_breakeven_rate_is_where_hand_arithmetic_puts_it():
    # rent × 12,000 = capex 1e6 + margin 75,433.33  →  breakeven $89.53/kW-month
    breakeven = (1e6 + MARGIN_USD_PER_MW_YEAR) / 12_000
    above = plan_portfolio(tiny(contracts__0__rate_usd_per_kw_month=breakeven + 0.05))
    below = plan_portfolio(tiny(contracts__0__rate_usd_per_kw_month=breakeven - 0.05))
    assert hosted_mw(above) == pytest.approx(50.0)
    assert hosted_mw(below) == pytest.approx(0.0, abs=1e-9)


def test_lead_time_delays_revenue_by_exactly_lead_months():
    # Lead 4 months, contract starting 2026-05 (month 4): the halls are constructing in months
    # 0–3 (grid reserved, no rent), capex $50M is paid in 4 equal parts, rent starts in month 4.
    r = plan_portfolio(
        tiny(
            sites__0__conversion__lead_months=4,
            contracts__0__start_month="2026-05",
            contracts__0__term_months=8,
        )
    )
    plan, cash = r.tables.plan, r.tables.cashflows
    hosting = plan[plan["use"] == "hosting"].groupby("month")["it_mw"].sum()
    assert list(hosting.index) == [f"2026-{m:02d}" for m in range(5, 13)]
    assert hosting.to_numpy() == pytest.approx(50.0)
    constructing = plan[plan["use"] == "constructing"].set_index("month")["it_mw"]
    assert constructing.loc[
        ["2026-01", "2026-02", "2026-03", "2026-04"]
    ].to_numpy() == pytest.approx(50.0)
    assert cash["ai_revenue_usd"].iloc[:4].to_numpy() == pytest.approx(0.0)
    assert cash["ai_revenue_usd"].iloc[4] == pytest.approx(50 * 1000 * 150)
    assert cash["capex_usd"].iloc[:4].to_numpy() == pytest.approx(-50e6 / 4)
    assert cash["capex_usd"].iloc[4:].to_numpy() == pytest.approx(0.0)


def test_contract_starting_before_readiness_cannot_be_served():
    # Lead 4 months but rent from month 2: no hall can be ready, whatever the rate.
    r = plan_portfolio(
        tiny(
            sites__0__conversion__lead_months=4,
            contracts__0__start_month="2026-03",
            contracts__0__rate_usd_per_kw_month=1000,
        )
    )
    assert hosted_mw(r) == pytest.approx(0.0, abs=1e-9)


def test_capex_is_funded_by_selling_btc_in_the_highest_price_month_before_the_need():
    # No rigs, no cash: the $10M of capex for 10 MW (lead 1, rent from month 2) is paid in the
    # build month (0 or 1). BTC is worth $80k in month 0 and $50k in month 1, so the fewest BTC
    # are sold by selling in month 0: 10,000,000 / 80,000 = 125 BTC.
    prices = [80_000, 50_000] + [90_000] * 10
    r = plan_portfolio(
        tiny(
            sites__0__fleets=[],
            sites__0__conversion__max_it_mw=10,
            sites__0__conversion__lead_months=1,
            contracts__0__start_month="2026-03",
            contracts__0__term_months=10,
            market__btc_price_usd=prices,
            treasury={"btc": 1000, "cash_usd": 0},
        )
    )
    tre = r.tables.treasury
    assert hosted_mw(r) == pytest.approx(10.0)
    assert tre["btc_sold"].sum() == pytest.approx(125.0, rel=1e-6)
    assert tre["btc_sold"].iloc[0] == pytest.approx(125.0, rel=1e-6)
    assert tre["btc_held"].iloc[-1] == pytest.approx(875.0, rel=1e-6)


def test_sale_costs_raise_the_btc_needed():
    # Same need at a flat $80k with a 50 bp sale cost: 10e6 / (80,000 × 0.995) = 125.628 BTC.
    r = plan_portfolio(
        tiny(
            sites__0__fleets=[],
            sites__0__conversion__max_it_mw=10,
            sites__0__conversion__lead_months=1,
            contracts__0__start_month="2026-03",
            contracts__0__term_months=10,
            market__btc_price_usd=80_000,
            treasury={"btc": 1000, "cash_usd": 0, "sale_cost_bps": 50},
        )
    )
    assert r.tables.treasury["btc_sold"].sum() == pytest.approx(10e6 / (80_000 * 0.995), rel=1e-6)


def test_flat_price_sells_just_in_time():
    # A flat price makes every schedule sell the same 125 BTC; ties go to the latest month, so
    # BTC is sold in the month the capex is paid and not before.
    r = plan_portfolio(
        tiny(
            sites__0__fleets=[],
            sites__0__conversion__max_it_mw=10,
            sites__0__conversion__lead_months=1,
            contracts__0__start_month="2026-03",
            contracts__0__term_months=10,
            market__btc_price_usd=80_000,
            treasury={"btc": 1000, "cash_usd": 0},
        )
    )
    tre, cash = r.tables.treasury, r.tables.cashflows
    sale_months = set(tre.loc[tre["btc_sold"] > 1e-9, "month"])
    capex_months = set(cash.loc[cash["capex_usd"] < -1.0, "month"])
    assert sale_months == capex_months
    assert tre["btc_sold"].sum() == pytest.approx(125.0, rel=1e-6)


def test_rigs_sold_when_resale_beats_remaining_margin():
    # 1 MW of 30 J/TH rigs is 1e6/30 = 33,333 TH. At $5/TH decaying 50 %/yr, selling in month 0
    # brings $166,667; keeping them a year brings 12 months of margin ($75,433) plus the
    # end-of-horizon resale (half: $83,333) = $158,767 < $166,667: sell everything at once.
    r = plan_portfolio(
        tiny(
            contracts=[],
            terminal_value=True,
            sites__0__fleets__0__resale_usd_per_th=5.0,
            sites__0__fleets__0__resale_decay_per_year=0.5,
        )
    )
    sales = r.tables.rig_sales
    assert sales["mw_sold"].sum() == pytest.approx(100.0)
    assert set(sales["month"]) == {"2026-01"}
    assert sales["proceeds_usd"].sum() == pytest.approx(100 * 1e6 / 30 * 5.0)


def test_rigs_kept_when_margin_beats_resale():
    # At $0.50/TH: selling now brings $16,667 per MW; keeping brings $75,433 + $8,333.
    r = plan_portfolio(
        tiny(
            contracts=[],
            terminal_value=True,
            sites__0__fleets__0__resale_usd_per_th=0.5,
            sites__0__fleets__0__resale_decay_per_year=0.5,
        )
    )
    assert r.tables.rig_sales.empty
    salvage = 100 * 1e6 / 30 * 0.5 * 0.5  # resale one year on, at half the price
    assert r.value_usd == pytest.approx(100 * MARGIN_USD_PER_MW_YEAR + salvage, rel=1e-8)


def test_minimum_commitment_declined_when_it_cannot_be_met():
    # The tenant wants at least 60 MW, the site can convert 50: decline, whatever the rate.
    r = plan_portfolio(tiny(contracts__0__min_it_mw=60, contracts__0__max_it_mw=100))
    assert hosted_mw(r) == pytest.approx(0.0, abs=1e-9)
    assert r.model_size["integer_columns"] == 1
    # --relax drops the all-or-nothing rule: 50 MW are taken
    relaxed = plan_portfolio(
        tiny(contracts__0__min_it_mw=60, contracts__0__max_it_mw=100), relax=True
    )
    assert hosted_mw(relaxed) == pytest.approx(50.0)


def test_minimum_commitment_met_is_served_at_least_at_minimum():
    r = plan_portfolio(tiny(contracts__0__min_it_mw=40))
    assert hosted_mw(r) == pytest.approx(50.0)


def test_btc_mined_matches_hand_arithmetic():
    # 100 MW at 30 J/TH = 3,333.3 PH/s; January: 31 days × $35 / $70,000 × 98 % (pool fee 2 %)
    r = plan_portfolio(tiny(contracts=[], pool_fee_share=0.02))
    mined = r.tables.treasury["btc_mined"].iloc[0]
    assert mined == pytest.approx(100 * 1000 / 30 * 31 * 35 / 70_000 * 0.98, rel=1e-8)


def test_shadow_prices_match_hand_arithmetic():
    # At $150/kW-month the conversion limit binds: one more convertible MW adds
    # 1.8M rent − 1M capex − 75,433 of margin it displaces = $724,566.67.
    # One more MW of grid in every month lets one idle MW of rigs mine all year: $75,433.33.
    r = plan_portfolio(tiny(contracts__0__max_it_mw=100))  # only the conversion limit binds
    sp = r.tables.shadow_prices.set_index(["family", "site", "month"])["shadow_price_usd"]
    assert sp[("conversion_limit", "A", "all")] == pytest.approx(
        150 * 1000 * 12 - 1e6 - MARGIN_USD_PER_MW_YEAR, rel=1e-6
    )
    assert sp[("site_power", "A", "all")] == pytest.approx(MARGIN_USD_PER_MW_YEAR, rel=1e-6)
    assert sp[("cash_floor", "", "all")] == pytest.approx(0.0, abs=1e-9)


def test_cbc_agrees_with_highs_on_value_and_duals():
    a = plan_portfolio(tiny(), solver="highs")
    b = plan_portfolio(tiny(), solver="cbc")
    assert b.value_usd == pytest.approx(a.value_usd, rel=1e-7)
    pa = a.tables.shadow_prices.set_index(["family", "site", "month"])["shadow_price_usd"]
    pb = b.tables.shadow_prices.set_index(["family", "site", "month"])["shadow_price_usd"]
    for key in [("conversion_limit", "A", "all"), ("site_power", "A", "all")]:
        assert pb[key] == pytest.approx(pa[key], rel=1e-6)


def test_cash_floor_shadow_price_when_it_binds():
    # No rigs, cash $11M with a $1M floor and no BTC. Lead 0: capex ($1M/MW) and the first
    # month's rent ($150k/MW) both land in month 0, so each MW needs $850k of cash:
    # 10,000,000 / 850,000 = 11.7647 MW. A $1 higher floor removes 1/850,000 MW, each worth
    # 12 × 150k − 1M = $800k: −800,000 / 850,000 = −$0.941 of value per dollar of floor.
    r = plan_portfolio(
        tiny(
            sites__0__fleets=[],
            sites__0__conversion__max_it_mw=50,
            treasury={"btc": 0, "cash_usd": 11e6, "min_cash_usd": 1e6},
        )
    )
    assert hosted_mw(r) == pytest.approx(10e6 / 850e3)
    sp = r.tables.shadow_prices.set_index(["family", "site", "month"])["shadow_price_usd"]
    assert sp[("cash_floor", "", "all")] == pytest.approx(-800e3 / 850e3, rel=1e-6)


def test_unfunded_plan_reports_month_by_month_gap():
    # A signed 10 MW contract from month 2 at a site with no halls forces a $10M build
    # (lead 2: $5M in months 0 and 1). Cash $1M, 20 BTC worth $50k in month 0 and $40k after.
    # Best: sell all 20 BTC in month 0 ($1M). Month 0 gap: 5 − 1 − 1 = $3M; month 1: $5M.
    r = plan_portfolio(
        tiny(
            sites__0__fleets=[],
            sites__0__conversion__max_it_mw=10,
            sites__0__conversion__lead_months=2,
            contracts__0__start_month="2026-03",
            contracts__0__term_months=10,
            contracts__0__signed_it_mw={"A": 10},
            market__btc_price_usd=[50_000] + [40_000] * 11,
            treasury={"btc": 20, "cash_usd": 1e6},
        )
    )
    assert r.status == "unfunded"
    gap = r.tables.funding_gap.set_index("month")["gap_usd"]
    assert gap["2026-01"] == pytest.approx(3e6, rel=1e-6)
    assert gap["2026-02"] == pytest.approx(5e6, rel=1e-6)
    assert gap.iloc[2:].to_numpy() == pytest.approx(0.0, abs=1e-3)
    assert r.tables.treasury["btc_sold"].iloc[0] == pytest.approx(20.0)
    assert r.tables.funding_gap["gap_usd"].sum() == pytest.approx(8e6, rel=1e-6)
    assert any("first in 2026-01" in line for line in r.diagnosis)


def test_structurally_infeasible_plan_is_diagnosed():
    # The BTC floor is above the stack: nothing sold or built can fix that.
    r = plan_portfolio(tiny(treasury={"btc": 10, "cash_usd": 1e9, "min_btc": 100}))
    assert r.status == "infeasible"
    assert r.tables is None
    assert any("min_btc" in line for line in r.diagnosis)


def test_margin_constant_is_right():
    # guard the helper's arithmetic: (1000/30) PH × $35 − 24 h × $40 = 1166.67 − 960
    assert MARGIN_USD_PER_MW_DAY == pytest.approx(206.6666667)


def _prepaying(signed: bool, share: float = 0.5):
    """tiny() with a 3-month lead and a 20 MW contract from 2026-07 to 2026-12 whose tenant
    prepays ``share`` of the capex: signed at A for 20 MW, or offered for up to 20 MW."""
    return tiny(
        sites__0__conversion__lead_months=3,
        contracts__0__start_month="2026-07",
        contracts__0__term_months=6,
        contracts__0__max_it_mw=20,
        contracts__0__tenant_capex_share=share,
        contracts__0__signed_it_mw={"A": 20} if signed else None,
    )


def test_signed_contract_earns_its_tenant_prepayment_like_an_offered_one():
    # 20 MW built from April (month 3, lead 3) to be ready for July: capex 20 × $1M = $20M in
    # April–June; the tenant prepays 0.5 × $1M × 20 MW = $10M evenly over the 3 lead months
    # before July ($3,333,333.33 in each of April, May, June), signed or offered alike.
    # Rent 150 × 1000 × 20 MW × 6 months = $18M. Mining: 100 MW Jan–Mar (90 days), 80 MW
    # Apr–Dec (275 days; the 20 MW under construction or hosted reserve their grid).
    expected = MARGIN_USD_PER_MW_DAY * (100 * 90 + 80 * 275) + (18e6 + 10e6 - 20e6)
    signed, offered = plan_portfolio(_prepaying(True)), plan_portfolio(_prepaying(False))
    for r in (signed, offered):
        assert r.status == "optimal" and r.verification.ok
        assert hosted_mw(r) == pytest.approx(20.0)
        assert r.tables.value_terms_usd["tenant_capex_usd"] == pytest.approx(10e6, abs=0.01)
        cash = r.tables.cashflows.set_index("month")["tenant_capex_usd"]
        assert cash[["2026-04", "2026-05", "2026-06"]].tolist() == pytest.approx([10e6 / 3] * 3)
        assert cash.drop(["2026-04", "2026-05", "2026-06"]).abs().max() == 0.0
        assert r.value_usd == pytest.approx(expected, rel=1e-9)
    # the same signed contract without a prepayment is worth exactly the $10M less
    unpaid = plan_portfolio(_prepaying(True, share=0.0))
    assert signed.value_usd - unpaid.value_usd == pytest.approx(10e6, rel=1e-9)


def test_signed_contract_started_before_the_horizon_prepaid_before_it():
    # Live since 2025-10 with a 3-month lead: its prepayment arrived in 2025-07..09, before the
    # plan starts, so none of it is in the plan (the cash is already in the treasury).
    r = plan_portfolio(
        tiny(
            sites__0__conversion__existing_it_mw=20,
            contracts__0__start_month="2025-10",
            contracts__0__max_it_mw=20,
            contracts__0__tenant_capex_share=0.5,
            contracts__0__signed_it_mw={"A": 20},
        )
    )
    assert r.verification.ok
    assert r.tables.value_terms_usd["tenant_capex_usd"] == 0.0
