"""Grid hold cost and grid sale (sites[].grid_hold_cost_usd_per_mw_month, grid_sale_usd_per_mw,
grid_sale_first_month): known answers by hand, the conventions of docs/model.md, verification
from grid.csv, and absent fields leaving every figure unchanged."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from benchmarks.scales import random_portfolio
from realloc.inputs import load_portfolio
from realloc.inputs.examples import example_path
from realloc.models import Portfolio
from realloc.optimizer import plan_portfolio
from realloc.optimizer.verify import verify
from tests.helpers import tiny


def bare_site(months: int = 12, **site: Any) -> Portfolio:
    """One 10 MW site with nothing on it (no rigs, no conversion), no discounting."""
    return Portfolio.model_validate(
        dict(
            name="grid only",
            start_month="2026-01",
            months=months,
            discount_rate_per_year=0.0,
            sites=[dict(name="A", grid_mw=10, power_price_usd_per_mwh=50, **site)],
            market=dict(btc_price_usd=100_000, hashprice_usd_per_ph_day=50),
            treasury=dict(btc=0, cash_usd=0),
        )
    )


def test_sell_everything_in_month_zero():
    # 10 MW, hold $1,000/MW-month, sale $50,000/MW, 12 months, discount 0, nothing else.
    # Keep: 10 MW × $1,000 × 12 = $120,000 of hold cost → status quo −$120,000.
    # Sell all in month 0: +10 × $50,000 = $500,000 and no hold cost from month 0 on
    # (the hold cost stops on what was sold from the month of the sale) → $500,000.
    # Selling later only adds hold cost: month 0 is the unique optimum.
    p = bare_site(grid_hold_cost_usd_per_mw_month=1000, grid_sale_usd_per_mw=50_000)
    r = plan_portfolio(p)
    assert r.status == "optimal"
    assert r.value_usd == pytest.approx(500_000, abs=1e-6)
    assert r.baseline_value_usd == pytest.approx(-120_000, abs=1e-6)
    assert r.uplift_usd == pytest.approx(620_000, abs=1e-6)
    g = r.tables.grid
    assert g["sold_mw"].tolist() == [10.0] + [0.0] * 11
    assert g["kept_mw"].tolist() == [0.0] * 12
    assert g["sale_usd"].sum() == pytest.approx(500_000)
    assert r.tables.value_terms_usd["grid_sale_usd"] == pytest.approx(500_000)
    assert r.baseline_value_terms_usd["grid_hold_cost_usd"] == pytest.approx(-120_000)
    # the sale is cash: $0 at the start + $500,000 in January
    assert r.tables.treasury["cash_usd"].iloc[0] == pytest.approx(500_000)
    sold_rows = r.tables.plan[r.tables.plan["use"] == "grid_sold"]
    assert sold_rows["power_mw"].tolist() == [10.0] * 12


def test_sale_worth_less_than_holding_is_not_taken():
    # hold $1,000/MW-month × 12 months = $12,000 per MW kept; a sale at $10,000/MW is worth
    # $10,000 + $12,000 saved = $22,000 > 0, so it is still taken (holding earns nothing);
    # at a negative margin it never is: with no hold cost and a $0 price, value is 0 either way.
    p = bare_site(grid_hold_cost_usd_per_mw_month=1000, grid_sale_usd_per_mw=10_000)
    r = plan_portfolio(p)
    assert r.value_usd == pytest.approx(10 * 10_000, abs=1e-6)
    p0 = bare_site(grid_sale_usd_per_mw=0.0)
    assert plan_portfolio(p0).value_usd == pytest.approx(0.0, abs=1e-6)


def test_first_sale_month_holds_until_then():
    # sale allowed from 2026-04 (month 3): hold Jan–Mar = 10 × $1,000 × 3 = $30,000 first,
    # then sell all 10 MW in April for $500,000 → $470,000.
    p = bare_site(
        grid_hold_cost_usd_per_mw_month=1000,
        grid_sale_usd_per_mw=50_000,
        grid_sale_first_month="2026-04",
    )
    r = plan_portfolio(p)
    assert r.value_usd == pytest.approx(470_000, abs=1e-6)
    assert r.tables.grid["sold_mw"].tolist() == [0.0] * 3 + [10.0] + [0.0] * 8


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        ("2025-06", 500_000),  # before the horizon: from month 0, as the default
        ("2027-01", -120_000),  # after its end: no sale inside the horizon; hold all year
    ],
)
def test_first_sale_month_outside_the_horizon(first, expected):
    p = bare_site(
        grid_hold_cost_usd_per_mw_month=1000,
        grid_sale_usd_per_mw=50_000,
        grid_sale_first_month=first,
    )
    assert plan_portfolio(p).value_usd == pytest.approx(expected, abs=1e-6)


def test_sold_grid_no_longer_powers_mining():
    # tiny(): 100 MW of rigs on 100 MW of grid earn $206.67/MW-day (tests/helpers); hosting H
    # earns 12 × $150,000 − $1M capex = $800,000 per MW over the year. A sale at $1M/MW beats
    # both, but with no hold cost and no discounting the price is the same in any month: the
    # grid mines for 11 months (31+28+…+30 = 334 days × $206.67 × 100 MW) and all 100 MW are
    # sold in December, when nothing runs any more.
    p = tiny(sites__0__grid_sale_usd_per_mw=1e6)
    r = plan_portfolio(p)
    assert r.verification.ok
    g = r.tables.grid
    assert g["sold_mw"].tolist() == [0.0] * 11 + [100.0]
    assert r.value_usd == pytest.approx(100e6 + 334 * (1000 / 30 * 35 - 24 * 40) * 100, abs=1e-3)
    plan = r.tables.plan
    december = plan[(plan["month"] == "2026-12") & (plan["use"] == "mining")]
    assert december["power_mw"].abs().max() == pytest.approx(0.0, abs=1e-6)


def test_existing_halls_keep_their_grid():
    # existing 20 IT MW at AI PUE 1.0 draw 20 MW: at most 100 − 20 = 80 MW can be sold.
    p = tiny(
        sites__0__grid_sale_usd_per_mw=1e6,
        sites__0__conversion__existing_it_mw=20.0,
    )
    r = plan_portfolio(p)
    assert r.verification.ok
    assert r.tables.grid["sold_mw"].sum() == pytest.approx(80.0)


def test_stochastic_sale_is_first_stage():
    from realloc.optimizer.index import Scenario

    p = tiny(sites__0__grid_sale_usd_per_mw=60_000, sites__0__grid_hold_cost_usd_per_mw_month=500)
    low = p.market.model_copy(update={"hashprice_usd_per_ph_day": 20.0})
    high = p.market.model_copy(update={"hashprice_usd_per_ph_day": 60.0})
    r = plan_portfolio(p, scenarios=[Scenario("low", 0.5, low), Scenario("high", 0.5, high)])
    assert r.verification.ok
    assert "scenario" not in r.tables.grid.columns  # one sale decision for every path


def _verify_with(r, p, grid=None, plan=None):
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
        grid=t.grid if grid is None else grid,
    )
    return {c.family: c for c in v.checks}


def test_verification_catches_small_breaks():
    p = bare_site(grid_hold_cost_usd_per_mw_month=1000, grid_sale_usd_per_mw=50_000)
    r = plan_portfolio(p)
    assert all(c.ok for c in _verify_with(r, p).values())
    g = r.tables.grid.copy()
    g.loc[0, "sold_mw"] -= 1e-3  # 0.001 MW less sold: plan.csv, cash and value disagree
    checks = _verify_with(r, p, grid=g)
    assert not checks["grid_kept"].ok
    assert not checks["cash_balance"].ok
    g = r.tables.grid.copy()
    g.loc[5, "kept_mw"] += 1e-3  # kept MW not the grid less the MW sold
    assert not _verify_with(r, p, grid=g)["grid_kept"].ok
    g = r.tables.grid.copy()
    g.loc[0, "sale_usd"] += 10.0  # proceeds not price × MW
    assert not _verify_with(r, p, grid=g)["grid_kept"].ok
    plan = r.tables.plan.copy()
    at = (plan["use"] == "grid_sold") & (plan["month"] == "2026-03")
    plan.loc[at, "power_mw"] -= 1e-3
    assert not _verify_with(r, p, plan=plan)["grid_kept"].ok


def test_verification_catches_use_of_sold_grid():
    # tiny() with a sale: sell 10 MW in January, but plan.csv keeps mining on them
    p = tiny(sites__0__grid_sale_usd_per_mw=0.0)
    r = plan_portfolio(p)
    g = r.tables.grid.copy()
    g.loc[0, ["sold_mw", "kept_mw"]] = [10.0, 90.0]
    checks = _verify_with(r, p, grid=g)
    assert not checks["grid_kept"].ok  # plan.csv shows no grid sold


def test_hold_cost_is_cash_and_value_in_the_status_quo():
    # tiny(), hold $2,000/MW-month on 100 MW, no sale: −$200,000 a month in plan and
    # status quo alike, 12 months → −$2.4M on each value; uplift unchanged.
    base = plan_portfolio(tiny())
    held = plan_portfolio(tiny(sites__0__grid_hold_cost_usd_per_mw_month=2000))
    assert held.value_usd == pytest.approx(base.value_usd - 2.4e6, abs=1e-3)
    assert held.baseline_value_usd == pytest.approx(base.baseline_value_usd - 2.4e6, abs=1e-3)
    assert held.tables.grid["hold_cost_usd"].sum() == pytest.approx(-2.4e6)


def _figures(r) -> list[float]:
    t = r.tables
    return [
        r.value_usd,
        r.baseline_value_usd,
        *t.value_terms_usd.values(),
        *t.plan["power_mw"],
        *t.treasury["cash_usd"],
        *t.treasury["btc_sold"],
        *t.conversions["it_mw"],
        *t.contracts["it_mw"],
    ]


def _absent(p: Portfolio) -> Portfolio:
    """``p`` without any grid or block field (the bundled example carries some)."""
    data = p.model_dump(exclude_defaults=False)
    for s in data["sites"]:
        s["grid_hold_cost_usd_per_mw_month"] = 0.0
        s["grid_sale_usd_per_mw"] = None
        s["grid_sale_first_month"] = None
        if s["conversion"]:
            s["conversion"]["block_it_mw"] = None
    return Portfolio.model_validate(data)


def _neutral(p: Portfolio) -> Portfolio:
    """Every site given a $0 hold cost and a sale option that opens after the horizon: the
    documented conventions make these the absent fields' model."""
    data = p.model_dump()
    for s in data["sites"]:
        s["grid_hold_cost_usd_per_mw_month"] = 0.0
        s["grid_sale_usd_per_mw"] = 1e6
        s["grid_sale_first_month"] = "2099-01"
    return Portfolio.model_validate(data)


@pytest.mark.parametrize("which", ["example", 3, 11, 17])
def test_absent_fields_change_nothing(which):
    p = _absent(load_portfolio(example_path()) if which == "example" else random_portfolio(which))
    r, n = plan_portfolio(p), plan_portfolio(_neutral(p))
    assert r.tables.grid.empty and n.tables.grid.empty
    a, b = np.array(_figures(r)), np.array(_figures(n))
    assert a.shape == b.shape
    assert np.allclose(a, b, rtol=1e-9, atol=1e-9)
    assert r.value_usd == n.value_usd


def _with_grid(p: Portfolio, seed: int) -> Portfolio:
    """``p`` with a hold cost, a sale price from a random month and (at conversion sites)
    blocks of a third of the room left, all drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    data = p.model_dump()
    for s in data["sites"]:
        s["grid_hold_cost_usd_per_mw_month"] = float(rng.uniform(0, 5000))
        s["grid_sale_usd_per_mw"] = float(rng.uniform(0, 2e6))
        s["grid_sale_first_month"] = f"2026-{int(rng.integers(1, 13)):02d}"
        conv = s["conversion"]
        if conv and conv["max_it_mw"] > conv["existing_it_mw"]:
            conv["block_it_mw"] = (conv["max_it_mw"] - conv["existing_it_mw"]) / 3
    return Portfolio.model_validate(data)


@pytest.mark.parametrize("seed", [3, 5, 11, 17, 23])
def test_random_portfolios_with_grid_fields_verify(seed):
    # invariants: the plan verifies from its tables (grid.csv included), the status quo sells
    # no grid, and the plan is worth at least the status quo (selling nothing is allowed)
    p = _with_grid(random_portfolio(seed), seed)
    r = plan_portfolio(p)
    assert r.verification.ok
    if r.status == "optimal" and r.baseline_status == "optimal":
        assert r.value_usd >= r.baseline_value_usd - 1.0
        assert r.baseline_value_terms_usd["grid_sale_usd"] == 0.0
    kept = r.tables.grid["kept_mw"].to_numpy()
    assert (kept >= -1e-6).all()


def test_idle_grid_is_named_in_the_summary(tmp_path):
    import json

    from realloc.reports.plan_files import write_plan

    # 10 MW held all year (the sale opens after the horizon), nothing runs on it:
    # 10 MW × 12 months = 120 MW-months idle, × $1,000 = $120,000 of hold cost
    p = bare_site(
        grid_hold_cost_usd_per_mw_month=1000,
        grid_sale_usd_per_mw=50_000,
        grid_sale_first_month="2030-01",
    )
    write_plan(plan_portfolio(p), tmp_path / "out")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["idle_grid_mw_months"] == pytest.approx(120.0)
    assert summary["idle_grid_cost_usd"] == pytest.approx(120_000.0)
    md = (tmp_path / "out" / "summary.md").read_text()
    assert "Idle grid" in md and "120.0 MW-months" in md
    assert (tmp_path / "out" / "grid.csv").exists()


def test_verification_without_grid_csv_reads_plan_csv():
    # a caller that reads only the original tables (no grid.csv) still verifies: the MW sold
    # come from plan.csv's grid_sold rows (10 MW released from January: 10 MW sold then)
    p = bare_site(grid_hold_cost_usd_per_mw_month=1000, grid_sale_usd_per_mw=50_000)
    r = plan_portfolio(p)
    t = r.tables
    v = verify(
        p, t.plan, t.treasury, t.conversions, t.contracts, t.rig_sales, t.funding_gap, r.value_usd
    )
    assert v.ok
    assert v.recomputed_value_usd == pytest.approx(500_000, abs=1e-3)
