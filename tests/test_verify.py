"""verify() catches broken plan tables, family by family.

tiny()'s plan (tests/helpers.py): site A (100 MW of grid) converts 50 MW in January and hosts
contract H on it all year and mines with the other 50 MW, so every month plan.csv says mining
50 MW, hosting 50 MW, constructing 0, ready_idle 0, unused 0. It sells 50 MW of its 100 MW of
rigs in some month (at a resale price of 0 the month is a tie; the tests read it from
rig_sales). Each test breaks one figure of a copy of the tables and expects the named check to
fail by exactly that much.
"""

from __future__ import annotations

import pandas as pd
import pytest

from realloc.optimizer import plan_portfolio
from realloc.optimizer.verify import verify
from tests.helpers import tiny


@pytest.fixture(scope="module")
def planned():
    p = tiny()
    r = plan_portfolio(p)
    assert r.verification.ok
    return p, r


def check(planned, plan: pd.DataFrame | None = None) -> dict[str, float]:
    p, r = planned
    t = r.tables
    v = verify(
        p,
        t.plan if plan is None else plan,
        t.treasury,
        t.conversions,
        t.contracts,
        t.rig_sales,
        t.funding_gap,
        r.value_usd,
    )
    return {c.family: c.max_violation for c in v.checks}


def changed(planned, month: str, use: str, column: str, delta: float) -> pd.DataFrame:
    plan = planned[1].tables.plan.copy()
    at = (plan["month"] == month) & (plan["use"] == use)
    assert at.sum() == 1
    plan.loc[at, column] += delta
    return plan


def test_the_untouched_plan_passes(planned):
    got = check(planned)
    for family in ("site_power", "hosting_capacity", "plan_states_consistent", "fleet_limit"):
        assert got[family] == 0.0


def test_more_mining_than_the_grid_or_the_fleet_allows(planned):
    # 60 MW more mining in June: 50 + 60 + 50 hosted = 160 MW drawn on a 100 MW grid, and
    # 110 MW run on the rigs still owned then (100 MW less those sold by June)
    sales = planned[1].tables.rig_sales
    assert planned[1].tables.plan.query("use == 'unused'")["power_mw"].abs().max() < 1e-9
    owned = 100.0 - sales.loc[sales["month"] <= "2026-06", "mw_sold"].sum()
    got = check(planned, changed(planned, "2026-06", "mining", "power_mw", 60.0))
    assert got["site_power"] == pytest.approx(60.0)
    assert got["fleet_limit"] == pytest.approx(110.0 - owned)


def test_hosting_more_than_is_ready(planned):
    # 3 MW more hosted in March than the 50 MW ready: capacity and the idle row disagree by 3
    got = check(planned, changed(planned, "2026-03", "hosting", "it_mw", 3.0))
    assert got["hosting_capacity"] == pytest.approx(3.0)
    assert got["plan_states_consistent"] == pytest.approx(3.0)


def test_constructing_and_idle_rows_must_match_the_conversions(planned):
    got = check(planned, changed(planned, "2026-09", "constructing", "it_mw", 2.5))
    assert got["plan_states_consistent"] == pytest.approx(2.5)
    got = check(planned, changed(planned, "2026-10", "ready_idle", "it_mw", -1.5))
    assert got["plan_states_consistent"] == pytest.approx(1.5)


def test_rows_of_unknown_sites_are_not_counted(planned):
    plan = planned[1].tables.plan
    stray = plan.iloc[:1].assign(site="Nowhere", power_mw=500.0)
    assert check(planned, pd.concat([plan, stray], ignore_index=True)) == check(planned)


def check_tables(planned, **tables) -> dict:
    """{family: Check} of verify() on the plan's tables with some replaced (``value_usd`` too)."""
    p, r = planned
    t = r.tables
    args = {
        name: tables.get(name, getattr(t, name))
        for name in ("plan", "treasury", "conversions", "contracts", "rig_sales", "funding_gap")
    }
    v = verify(p, **args, value_usd=tables.get("value_usd", r.value_usd))
    return {c.family: c for c in v.checks}


def bumped(frame: pd.DataFrame, column: str, delta: float, row: int = 0) -> pd.DataFrame:
    out = frame.copy()
    out.loc[out.index[row], column] += delta
    return out


@pytest.mark.parametrize(
    ("table", "column", "delta", "family"),
    [
        # $1,000 more cash at the end of June than June's flows give (and July then starts
        # $1,000 high): both rows are off by $1,000 (tolerance ~$200: 1e-7 of the $1B of cash
        # entering each row)
        ("treasury", "cash_usd", 1000.0, "cash_balance"),
        # 0.001 BTC more held in March than mined minus sold
        ("treasury", "btc_held", 0.001, "btc_balance"),
        ("treasury", "btc_mined", 0.01, "btc_balance"),
        # half a MW more hosted than contract H's 50 MW
        ("contracts", "it_mw", 0.5, "contract_size"),
        # one MW more converted than the 50 MW limit
        ("conversions", "it_mw", 1.0, "conversion_limit"),
    ],
)
def test_each_balance_and_limit_catches_a_small_break(planned, table, column, delta, family):
    frame = getattr(planned[1].tables, table)
    row = 5 if table == "treasury" else 0
    got = check_tables(planned, **{table: bumped(frame, column, delta, row)})[family]
    assert got.max_violation == pytest.approx(abs(delta), rel=1e-6)
    assert not got.ok and got.tolerance < abs(delta) / 4


def test_floors_and_value_catch_a_small_break(planned):
    r = planned[1]
    tre = r.tables.treasury
    below = tre.assign(cash_usd=tre["cash_usd"].where(tre["month"] != "2026-12", -10.0))
    got = check_tables(planned, treasury=below)["cash_floor"]
    assert got.max_violation == pytest.approx(10.0) and not got.ok
    got = check_tables(planned, value_usd=r.value_usd + 500.0)["value"]
    assert got.max_violation == pytest.approx(500.0, rel=1e-6) and not got.ok
    # tolerances follow the rows' size: $1 + 1e-7 of the ~$250M of flows behind tiny's value
    assert got.tolerance < 30.0


def test_a_large_portfolio_still_catches_a_thousand_dollars():
    # the benchmark ladder's small size (5 sites of 50–300 MW, 36 months, 5 contracts): $1,000
    # more cash in one month is still caught, though its flows run to tens of $M a month
    from benchmarks.synthetic import synthetic_portfolio

    p = synthetic_portfolio(5, 36, 5)
    r = plan_portfolio(p)
    tre = bumped(r.tables.treasury, "cash_usd", 1000.0, row=20)
    got = check_tables((p, r), treasury=tre)["cash_balance"]
    assert got.max_violation == pytest.approx(1000.0, rel=1e-3) and not got.ok


def test_a_minimum_is_breached_by_a_served_contract_not_by_noise():
    # H with a 10 MW minimum: tiny's plan serves it at 50 MW. Cut to a speck of solver noise
    # (1e-6 MW, within the size row's tolerance) it counts as declined; cut to 1 MW it is
    # served below its minimum by 9 MW.
    p = tiny(contracts__0__min_it_mw=10)
    r = plan_portfolio(p)
    for mw, breach in ((1e-6, 0.0), (1.0, 9.0)):
        contracts = r.tables.contracts.assign(it_mw=mw)
        got = check_tables((p, r), contracts=contracts)["contract_size"]
        assert got.max_violation == pytest.approx(breach) and got.ok == (breach == 0.0)


def test_tolerances_follow_the_documented_rule(planned):
    # docs/model.md: ABS_unit + 1e-7 · Σ|terms of the row| + Σ |coefficient| · read error, the
    # read error being 5e-7 MW, $0.005 or 1e-7 BTC. On tiny's plan (no violation anywhere, so
    # each check reports its first row):
    got = check_tables(planned)
    # conversion limit: E + built − X with E = 0, built = 50, X = 50 → 1e-7 · (50 + 50); and
    # one possible build row in each of the 12 months, each read to 5e-7 MW
    assert got["conversion_limit"].tolerance == pytest.approx(1e-6 + 1e-7 * 100 + 12 * 5e-7)
    # cash floor in January: K_min = 0, cash read to the cent
    assert got["cash_floor"].tolerance == pytest.approx(1.0 + 0.005)
    # BTC floor in January: B_min = 0, BTC held read to 1e-7 BTC (noise below it written as 0)
    assert got["btc_floor_and_depth"].tolerance == pytest.approx(1e-6 + 1e-7)


@pytest.fixture(scope="module")
def site_planned():
    """tiny() with issue 15's site terms: a tenant prepaying half the capex (all 50 MW are built
    in the plan), curtailment credits on the mining MW, a firm-load charge (power not passed
    through), and a cloud contract on a 1 MW existing hall with GPU capex and a residual."""
    cloud = dict(
        name="C",
        kind="cloud",
        usd_per_gpu_hour=15.0,
        gpus_per_it_mw=1000,
        utilization_share=0.8,
        gpu_capex_usd_per_it_mw=20e6,
        gpu_residual_share=0.5,
        start_month="2026-03",
        term_months=6,
        max_it_mw=1,
        eligible_sites=["A"],
    )
    p = tiny(
        contracts__0__tenant_capex_share=0.5,
        contracts__0__power_pass_through=False,
        sites__0__curtailment_credit_usd_per_mw_month=3000,
        sites__0__curtailment_enrolled_share=0.8,
        sites__0__firm_load_charge_usd_per_kw_month=4.0,
        sites__0__conversion__existing_it_mw=1,
        sites__0__conversion__max_it_mw=51,
    )
    p = type(p).model_validate(
        {**p.model_dump(), "contracts": [*p.model_dump()["contracts"], cloud]}
    )
    r = plan_portfolio(p)
    assert r.verification.ok
    con = r.tables.contracts.set_index("contract")
    assert con.loc["H", "prepaid_it_mw"] == pytest.approx(50.0)
    assert con.loc["C", "it_mw"] == pytest.approx(1.0)
    return p, r


def site_checks(planned, **tables) -> dict:
    p, r = planned
    t = r.tables
    args = {
        name: tables.get(name, getattr(t, name))
        for name in ("plan", "treasury", "conversions", "contracts", "rig_sales", "funding_gap")
    }
    v = verify(p, **args, value_usd=r.value_usd, cashflows=tables.get("cashflows", t.cashflows))
    return {c.family: c for c in v.checks}


def test_site_terms_pass_untouched(site_planned):
    got = site_checks(site_planned)
    assert all(c.ok for c in got.values()), [c for c in got.values() if not c.ok]


@pytest.mark.parametrize(
    ("column", "row", "delta"),
    [
        ("curtailment_credit_usd", 3, 100.0),
        ("firm_load_charge_usd", 4, -100.0),
        ("gpu_capex_usd", 2, 100.0),  # March: the cloud contract's start month
        ("gpu_residual_usd", 7, -100.0),  # August: its last month
    ],
)
def test_site_terms_catch_a_100_dollar_break_in_cashflows(site_planned, column, row, delta):
    cash = site_planned[1].tables.cashflows
    assert cash[column].iloc[row] != 0.0
    got = site_checks(site_planned, cashflows=bumped(cash, column, delta, row))["site_terms"]
    assert got.max_violation == pytest.approx(100.0, rel=1e-6)
    assert not got.ok and got.tolerance < 25


def test_prepaid_capacity_catches_prepaid_mw_beyond_the_hosted_or_the_new_build(site_planned):
    con = site_planned[1].tables.contracts
    h = int((con["contract"] == "H").to_numpy().nonzero()[0][0])
    # 0.5 MW more prepaid than hosted on H's row (and than the 50 MW built)
    got = site_checks(site_planned, contracts=bumped(con, "prepaid_it_mw", 0.5, h))
    assert got["prepaid_capacity"].max_violation == pytest.approx(0.5, rel=1e-6)
    assert not got["prepaid_capacity"].ok
    # the cloud contract claiming its 1 MW (an existing hall) as new build: H's 50 + 1 > 50 built
    c = int((con["contract"] == "C").to_numpy().nonzero()[0][0])
    got = site_checks(site_planned, contracts=bumped(con, "prepaid_it_mw", 1.0, c))
    assert got["prepaid_capacity"].max_violation == pytest.approx(1.0, rel=1e-6)


def test_cash_balance_catches_a_cloud_contract_revenue_figure_off(site_planned):
    # 0.001 MW more of the cloud contract in contracts.csv: its revenue (~$8.8M per MW-month),
    # GPU capex and power move with it, so the cash rows no longer add up
    con = site_planned[1].tables.contracts
    c = int((con["contract"] == "C").to_numpy().nonzero()[0][0])
    got = site_checks(site_planned, contracts=bumped(con, "it_mw", 0.001, c))
    assert not got["cash_balance"].ok
    assert not got["value"].ok


def test_grid_kept_catches_a_small_break():
    # tests/test_grid_sale.py: 10 MW sold in January at $50,000/MW, hold $1,000/MW-month.
    # 0.001 MW less sold in grid.csv: plan.csv still says 10 MW released, so the grid_kept
    # check is off by 0.001 MW (and cash by $50)
    from realloc.optimizer.verify import verify
    from tests.test_grid_sale import bare_site

    p = bare_site(grid_hold_cost_usd_per_mw_month=1000, grid_sale_usd_per_mw=50_000)
    r = plan_portfolio(p)
    t = r.tables
    grid = t.grid.copy()
    grid.loc[0, "sold_mw"] -= 1e-3
    v = verify(
        p,
        t.plan,
        t.treasury,
        t.conversions,
        t.contracts,
        t.rig_sales,
        t.funding_gap,
        r.value_usd,
        grid=grid,
    )
    got = {c.family: c for c in v.checks}
    assert not got["grid_kept"].ok
    assert got["grid_kept"].max_violation == pytest.approx(1e-3, rel=1e-6)


def test_build_blocks_catches_a_small_break():
    # tiny() with 25 MW blocks builds 50 MW (2 blocks); 50.001 MW is not whole blocks
    p = tiny(sites__0__conversion__block_it_mw=25)
    r = plan_portfolio(p)
    conv = r.tables.conversions.assign(it_mw=r.tables.conversions["it_mw"] + 1e-3)
    got = check_tables((p, r), conversions=conv)["build_blocks"]
    assert got.max_violation == pytest.approx(1e-3, rel=1e-6) and not got.ok
