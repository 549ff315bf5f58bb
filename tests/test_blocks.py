"""Halls in blocks (sites[].conversion.block_it_mw): the IT MW started in a month is a whole
number of blocks; relaxation first, the MILP when rounding down falls short; the gap reported."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from realloc.models import Portfolio
from realloc.optimizer import plan_portfolio
from realloc.optimizer.build import build_model
from realloc.optimizer.index import Scenario, build_index
from realloc.optimizer.matrix import to_matrix
from realloc.optimizer.solve import solve_plan
from realloc.optimizer.solvers import SolverOptions, make_backend
from realloc.optimizer.verify import verify

RATE = 200  # $/kW-month: $200,000 per IT MW-month, $2.4M per IT MW over 12 months


def site(name: str, max_it_mw: float, block: float | None, capex: float = 1e6) -> dict:
    return dict(
        name=name,
        grid_mw=200,
        power_price_usd_per_mwh=50,
        conversion=dict(
            max_it_mw=max_it_mw,
            capex_usd_per_it_mw=capex,
            lead_months=0,
            ai_pue=1.0,
            block_it_mw=block,
        ),
    )


def portfolio(sites: list[dict], max_it_mw: float = 100, **extra: Any) -> Portfolio:
    """Conversion sites without rigs, one 12-month contract at $200/kW-month, no discounting,
    no terminal value, power passed through."""
    return Portfolio.model_validate(
        dict(
            name="blocks",
            start_month="2026-01",
            months=12,
            discount_rate_per_year=0.0,
            terminal_value=False,
            sites=sites,
            contracts=[
                dict(
                    name="K",
                    rate_usd_per_kw_month=RATE,
                    start_month="2026-01",
                    term_months=12,
                    max_it_mw=max_it_mw,
                    eligible_sites=[s["name"] for s in sites],
                )
            ],
            market=dict(btc_price_usd=100_000, hashprice_usd_per_ph_day=50),
            treasury=dict(btc=0, cash_usd=1e9),
            **extra,
        )
    )


def test_blocks_of_25_under_60_convert_50():
    # 60 MW may be converted, in blocks of 25: 2 blocks = 50 MW (3 would be 75 > 60).
    # Each MW hosted earns 12 × $200,000 = $2.4M and costs $1M: $1.4M net → 50 × 1.4 = $70M.
    r = plan_portfolio(portfolio([site("A", 60, 25)]))
    assert r.verification.ok
    assert r.tables.conversions["it_mw"].sum() == pytest.approx(50.0)
    assert r.value_usd == pytest.approx(70e6, abs=1e-3)
    assert r.mip_gap is not None and r.mip_gap <= 1e-4
    # relaxed (--relax): fractional blocks, 2.4 blocks = 60 MW → 60 × 1.4 = $84M
    relaxed = plan_portfolio(portfolio([site("A", 60, 25)]), relax=True)
    assert relaxed.tables.conversions["it_mw"].sum() == pytest.approx(60.0)
    assert relaxed.value_usd == pytest.approx(84e6, abs=1e-3)


def test_rounding_down_falls_short_and_the_milp_finds_the_plan():
    # A: 60 MW in 25 MW blocks at $1M/MW (net $1.4M/MW); B: 30 MW in one 30 MW block at
    # $1.5M/MW (net $0.9M/MW); the tenant takes 80 MW.
    # Relaxation: A 60 (2.4 blocks) + B 20 (2/3 block) = 84 + 18 = $102M (the bound).
    # Rounded to nearest: A 2 blocks, B 1 = 50 + 30 MW = 70 + 27 = $97M;
    # rounded down: A 50, B 0 = $70M (dropping B's only block loses $27M).
    # The better, $97M, is (102 − 97)/97 = 5.2 % from the bound: the MILP is solved and proves it
    # (A 25 + B 30 = 35 + 27 = $62M; A 50 alone $70M).
    p = portfolio([site("A", 60, 25), site("B", 30, 30, capex=1.5e6)], max_it_mw=80)
    m = build_model(build_index(p))
    run = solve_plan(m, to_matrix(m), make_backend("highs"))
    phases = run.plan.phases
    names = [s.phase for s in phases]
    assert names[:4] == [
        "value_relaxation",
        "value_fixed_integers",
        "value_fixed_integers",
        "value",
    ]
    assert -phases[0].objective * 1e6 == pytest.approx(102e6, abs=1e-3)
    assert -phases[1].objective * 1e6 == pytest.approx(97e6, abs=1e-3)
    assert -phases[2].objective * 1e6 == pytest.approx(70e6, abs=1e-3)
    assert -phases[3].objective * 1e6 == pytest.approx(97e6, abs=1e-3)
    r = plan_portfolio(p)
    assert r.verification.ok
    built = r.tables.conversions.groupby("site")["it_mw"].sum().to_dict()
    assert built == pytest.approx({"A": 50.0, "B": 30.0})
    assert r.value_usd == pytest.approx(97e6, abs=1e-3)
    assert 0.0 <= r.mip_gap <= 1e-4


def test_a_rounded_plan_within_the_gap_skips_the_milp():
    # with --mip-gap 0.06 the nearest rounding ($97M; (102 − 97)/97 = 5.2 % gap) is accepted
    # without branch and bound, and its gap is the one reported
    p = portfolio([site("A", 60, 25), site("B", 30, 30, capex=1.5e6)], max_it_mw=80)
    r = plan_portfolio(p, options=SolverOptions(mip_rel_gap=0.06))
    assert r.value_usd == pytest.approx(97e6, abs=1e-3)
    assert r.mip_gap == pytest.approx((102 - 97) / 97, rel=1e-6)


def test_block_larger_than_the_room_builds_nothing():
    # a 70 MW block under a 60 MW limit: no whole block fits, so nothing is converted
    r = plan_portfolio(portfolio([site("A", 60, 70)]))
    assert r.verification.ok
    assert r.tables.conversions.empty
    assert r.value_usd == pytest.approx(0.0, abs=1e-6)


def test_relaxed_blocks_are_continuous_builds():
    # with --relax a block count is continuous, so build = 25 · n allows any MW: the same
    # value as a site without blocks
    a = plan_portfolio(portfolio([site("A", 60, 25)]), relax=True)
    b = plan_portfolio(portfolio([site("A", 60, None)]), relax=True)
    assert a.value_usd == pytest.approx(b.value_usd, rel=1e-9)


def test_stochastic_plan_builds_whole_blocks():
    # two market paths; the builds are first stage: one set of whole blocks for both paths
    p = portfolio([site("A", 60, 25), site("B", 30, 30, capex=1.5e6)], max_it_mw=80)
    paths = [
        Scenario("low", 0.5, p.market.model_copy(update={"btc_price_usd": 60_000.0})),
        Scenario("high", 0.5, p.market.model_copy(update={"btc_price_usd": 140_000.0})),
    ]
    r = plan_portfolio(p, scenarios=paths)
    assert r.verification.ok
    mw = r.tables.conversions.groupby("site")["it_mw"].sum().to_dict()
    assert mw == pytest.approx({"A": 50.0, "B": 30.0})
    blocks = {"A": 25, "B": 30}
    for row in r.tables.conversions.itertuples():
        n = row.it_mw / blocks[row.site]
        assert n == pytest.approx(round(n))


def test_verification_catches_a_partial_block():
    p = portfolio([site("A", 60, 25)])
    r = plan_portfolio(p)
    t = r.tables
    conv = t.conversions.copy()
    conv.loc[0, "it_mw"] -= 1e-3  # 49.999 MW is not a whole number of 25 MW blocks
    v = verify(p, t.plan, t.treasury, conv, t.contracts, t.rig_sales, t.funding_gap, r.value_usd)
    checks = {c.family: c for c in v.checks}
    assert not checks["build_blocks"].ok
    assert checks["build_blocks"].max_violation == pytest.approx(1e-3, rel=1e-6)


def test_blocks_are_integer_columns():
    m = build_model(build_index(portfolio([site("A", 60, 25)])))
    mf = to_matrix(m)
    cols = m.blocks[m.blocks >= 0]
    assert len(cols) == 12 and mf.integer[cols].all()
    assert np.all(mf.integer[m.build[m.build >= 0]] == 0)
    relaxed = build_model(build_index(portfolio([site("A", 60, 25)])), relax=True)
    assert not to_matrix(relaxed).integer.any()


def test_summary_names_blocks_the_gap_and_a_block_too_big(tmp_path):
    import json

    from realloc.reports.plan_files import write_plan

    r = plan_portfolio(portfolio([site("A", 60, 70), site("B", 60, 25)]))
    write_plan(r, tmp_path / "out")
    md = (tmp_path / "out" / "summary.md").read_text()
    assert "Halls are built in blocks" in md and "gap to the LP bound" in md
    assert "a block (70 IT MW) is larger than the room left to convert (60 MW" in md
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["solver"]["mip_gap"] is not None
    # no rigs and no hold cost: the grid not used by the halls (2 × 200 MW less B's 50 MW of
    # halls, at AI PUE 1) is idle: (400 − 50) MW × 12 months = 4,200 MW-months, costing $0
    assert summary["idle_grid_mw_months"] == pytest.approx(4200.0)
    assert summary["idle_grid_cost_usd"] == 0.0


def test_cbc_finds_the_same_blocks():
    # the two-site case above on CBC: A 50 + B 30 MW, $97M
    p = portfolio([site("A", 60, 25), site("B", 30, 30, capex=1.5e6)], max_it_mw=80)
    r = plan_portfolio(p, solver="cbc")
    assert r.verification.ok
    assert r.value_usd == pytest.approx(97e6, abs=1e-2)
    built = r.tables.conversions.groupby("site")["it_mw"].sum().to_dict()
    assert built == pytest.approx({"A": 50.0, "B": 30.0})
