"""Two-stage stochastic plans with CVaR: hand-solvable bust/boom cases, and properties.

The bust/boom case is ``tests/helpers.tiny`` (one 100 MW site, 30 J/TH rigs, $40/MWh, 12 months
of 2026 = 365 days, 50 MW convertible for $1M/MW, no discounting) with two equally likely
hashprice paths. Per MW-year of mining:

- boom, $60/PH/day: 1000/30 · 60 − 24 · 40 = $1,040 per MW-day → $379,600;
- bust, $10/PH/day: 333.33 − 960 < 0 → the rigs stop (mining is second-stage) → $0;
- mean path, $35/PH/day: $206.67 per MW-day → $75,433.33.

Hosting at $95/kW-month is worth 95 · 12,000 − 1,000,000 = $140,000 per MW in every scenario.
"""

from __future__ import annotations

import numpy as np
import pytest

from realloc.models import Market
from realloc.models.scenarios import RiskSpec
from realloc.optimizer import Scenario, plan_portfolio
from realloc.optimizer.risk import cvar_usd
from realloc.optimizer.stochastic import analyse
from tests.helpers import MARGIN_USD_PER_MW_YEAR, tiny

BOOM_USD_PER_MW_YEAR = (1000 / 30 * 60 - 24 * 40) * 365  # 379,600
HOSTING_USD_PER_MW = 95 * 12_000 - 1_000_000  # 140,000


def bust_boom(p_boom: float = 0.5) -> list[Scenario]:
    return [
        Scenario("boom", p_boom, Market(btc_price_usd=70_000, hashprice_usd_per_ph_day=60)),
        Scenario("bust", 1 - p_boom, Market(btc_price_usd=70_000, hashprice_usd_per_ph_day=10)),
    ]


def converted(result) -> float:
    return float(result.tables.conversions["it_mw"].sum())


def test_one_scenario_equals_the_deterministic_plan():
    p = tiny()
    det = plan_portfolio(p)
    one = plan_portfolio(p, scenarios=[Scenario("only", 1.0, p.market)], risk=RiskSpec())
    assert one.value_usd == pytest.approx(det.value_usd, rel=1e-9)
    assert converted(one) == pytest.approx(converted(det))
    # one scenario: CVaR, P5 and expected value are all that scenario's value
    assert one.distribution.cvar_usd == pytest.approx(det.value_usd, rel=1e-9)


def test_identical_scenarios_equal_the_deterministic_plan():
    p = tiny(contracts__0__rate_usd_per_kw_month=95)
    det = plan_portfolio(p)
    same = [Scenario(f"copy-{i}", 0.25, p.market) for i in range(4)]
    sto = plan_portfolio(p, scenarios=same, risk=RiskSpec(risk_weight=0.5))
    assert sto.value_usd == pytest.approx(det.value_usd, rel=1e-9)
    assert converted(sto) == pytest.approx(converted(det))
    assert sto.scenario_values["value_usd"].to_numpy() == pytest.approx(det.value_usd, rel=1e-9)
    # every scenario's plan and treasury tables are written and verified
    assert sto.tables.treasury["scenario"].nunique() == 4
    assert sto.verification.ok


def test_stochastic_plan_keeps_mining_where_the_mean_path_plan_converts():
    p = tiny(contracts__0__rate_usd_per_kw_month=95)
    # mean path: hosting $140,000 > mining $75,433 per MW → convert all 50 MW
    mean = plan_portfolio(
        p.model_copy(update={"market": Market(btc_price_usd=70_000, hashprice_usd_per_ph_day=35)})
    )
    assert converted(mean) == pytest.approx(50.0)
    assert HOSTING_USD_PER_MW > MARGIN_USD_PER_MW_YEAR
    # over the paths: mining is worth 0.5 · 379,600 + 0.5 · 0 = $189,800 > $140,000 → keep it
    a = analyse(p, bust_boom(), RiskSpec(cvar_alpha=0.5), frontier_weights=(0.0, 1.0))
    assert converted(a.plan) == pytest.approx(0.0, abs=1e-6)
    rp = 100 * 0.5 * BOOM_USD_PER_MW_YEAR  # 18,980,000
    assert a.plan.value_usd == pytest.approx(rp, rel=1e-9)
    assert a.rp_usd == pytest.approx(rp, rel=1e-9)
    # EEV: the mean plan's 50 MW host (7.0M) and 50 MW mine only in the boom (0.5 · 18.98M)
    eev = 50 * HOSTING_USD_PER_MW + 0.5 * 50 * BOOM_USD_PER_MW_YEAR  # 16,490,000
    assert a.eev_usd == pytest.approx(eev, rel=1e-9)
    assert a.vss_usd == pytest.approx(50 * (0.5 * BOOM_USD_PER_MW_YEAR - HOSTING_USD_PER_MW))
    # wait and see: boom mines all 100 MW (37.96M); bust converts 50 MW (7.0M)
    ws = 0.5 * 100 * BOOM_USD_PER_MW_YEAR + 0.5 * 50 * HOSTING_USD_PER_MW
    assert a.ws_usd == pytest.approx(ws, rel=1e-9)
    assert a.evpi_usd == pytest.approx(0.5 * 50 * HOSTING_USD_PER_MW, rel=1e-9)  # 3.5M


@pytest.mark.parametrize(("risk_weight", "hedges"), [(0.25, False), (0.30, True), (1.0, True)])
def test_cvar_weight_hedges_where_the_arithmetic_says(risk_weight: float, hedges: bool):
    # α = 0.5: the tail is the bust path, so CVaR = V_bust. Converting 50 MW moves
    # (E, CVaR) from (18.98M, 0) to (16.49M, 7.0M); it pays once
    # λ · 7.0M > (1 − λ) · 2.49M, i.e. λ > 2.49 / 9.49 = 0.2624.
    threshold = 2.49 / 9.49
    assert (risk_weight > threshold) == hedges
    p = tiny(contracts__0__rate_usd_per_kw_month=95)
    r = plan_portfolio(
        p, scenarios=bust_boom(), risk=RiskSpec(cvar_alpha=0.5, risk_weight=risk_weight)
    )
    assert converted(r) == pytest.approx(50.0 if hedges else 0.0, abs=1e-6)
    bust = r.scenario_values.set_index("scenario").loc["bust", "value_usd"]
    assert r.distribution.cvar_usd == pytest.approx(bust, rel=1e-9)
    assert bust == pytest.approx(50 * HOSTING_USD_PER_MW if hedges else 0.0, abs=1e-3)
    assert any(c.family == "cvar" and c.ok for c in r.verification.checks)


def test_cvar_of_discrete_values_splits_the_straddling_scenario():
    # values 0, 10, 20 with probabilities 0.2, 0.3, 0.5; α = 0.6 → tail 0.4:
    # 0.2 of value 0 and 0.2 of value 10 → (0 + 2) / 0.4 = 5
    assert cvar_usd(np.array([20.0, 0.0, 10.0]), np.array([0.5, 0.2, 0.3]), 0.6) == pytest.approx(
        5.0
    )


@pytest.mark.parametrize("seed", range(4))
def test_vss_evpi_nonnegative_and_cvar_weight_never_worsens_cvar(seed: int):
    rng = np.random.default_rng(seed)
    n = 3
    prob = rng.dirichlet(np.ones(n))
    prob = prob / prob.sum()
    scenarios = [
        Scenario(
            f"s{i}",
            float(prob[i]),
            Market(
                btc_price_usd=rng.uniform(40_000, 120_000, 12).round(0).tolist(),
                hashprice_usd_per_ph_day=rng.uniform(5, 70, 12).round(2).tolist(),
            ),
        )
        for i in range(n)
    ]
    p = tiny(
        contracts__0__rate_usd_per_kw_month=float(rng.uniform(80, 110)),
        sites__0__conversion__lead_months=int(rng.integers(0, 3)),
        treasury__cash_usd=float(rng.uniform(2e7, 1e8)),
    )
    a = analyse(p, scenarios, RiskSpec(cvar_alpha=0.7), frontier_weights=(0.0, 1.0))
    tol = 1e-6 * abs(a.rp_usd) + 1.0
    assert a.vss_usd >= -tol
    assert a.evpi_usd >= -tol
    f = a.frontier.set_index("risk_weight")
    assert f.loc[1.0, "cvar_usd"] >= f.loc[0.0, "cvar_usd"] - tol
    assert f.loc[0.0, "expected_value_usd"] >= f.loc[1.0, "expected_value_usd"] - tol


def test_mean_path_plan_that_runs_out_of_cash_gives_a_vss_lower_bound():
    # Cash $45M. The mean-path plan converts 50 MW in month 0: capex $50M against rent
    # 50 · 95 · 1000 = $4.75M and mean-path mining 50 · 206.67 · 31 = $320,333: funded with
    # $70,333 to spare. On the bust path its 50 MW of rigs stop, so month 0 is short by
    # 50M − 45M − 4.75M = $250,000 there: no finite EEV, so no VSS.
    p = tiny(contracts__0__rate_usd_per_kw_month=95, treasury__cash_usd=45e6)
    a = analyse(p, bust_boom(), RiskSpec(cvar_alpha=0.5), frontier_weights=(0.0,))
    assert a.eev_usd is None and a.vss_usd is None
    assert any("runs out of cash in 1 of 2 scenarios (bust" in n for n in a.notes)
    # with the $250,000 supplied on the bust path (probability 0.5) and charged at face value:
    eev_outside = 50 * HOSTING_USD_PER_MW + 0.5 * 50 * BOOM_USD_PER_MW_YEAR - 0.5 * 250_000
    # to $1: the elastic phase caps the total gap with $0.10 of slack (optimizer/solve.py)
    assert a.eev_outside_money_usd == pytest.approx(eev_outside, abs=1.0)
    rp = 100 * 0.5 * BOOM_USD_PER_MW_YEAR  # the stochastic plan builds nothing: no capex
    assert a.vss_lower_bound_usd == pytest.approx(rp - eev_outside, abs=1.0)
