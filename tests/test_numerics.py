"""Numerical health: HiGHS logs no warnings on the bundled example and a benchmark-shaped
portfolio, the cost scaling that achieves it is exact, and every plan's verification reports
the largest violation of each invariant family."""

from __future__ import annotations

import itertools

import highspy
import numpy as np
import pytest

import realloc.optimizer.highs as highs
from benchmarks.synthetic import synthetic_portfolio
from realloc.inputs import load_portfolio
from realloc.inputs.examples import example_path
from realloc.optimizer import CONSTRAINT_FAMILIES, plan_portfolio
from tests.helpers import tiny


@pytest.fixture
def highs_logs(tmp_path, monkeypatch):
    """Every HiGHS solve writes its full log to a file in tmp_path (output is off by default)."""
    counter = itertools.count()
    original = highspy.Highs.passModel

    def pass_model(self, *args, **kwargs):
        status = original(self, *args, **kwargs)
        self.setOptionValue("output_flag", True)
        self.setOptionValue("log_to_console", False)
        self.setOptionValue("log_file", str(tmp_path / f"phase_{next(counter):02d}.log"))
        return status

    monkeypatch.setattr(highspy.Highs, "passModel", pass_model)
    return tmp_path


@pytest.mark.parametrize("which", ["example", "synthetic 5x36x5"])
def test_highs_reports_no_warnings(which, highs_logs):
    p = load_portfolio(example_path()) if which == "example" else synthetic_portfolio(5, 36, 5)
    r = plan_portfolio(p)
    assert r.status == "optimal"
    logs = sorted(highs_logs.glob("phase_*.log"))
    assert len(logs) >= 3  # value (or MIP + fixed LP), keep BTC, baseline
    for log in logs:
        text = log.read_text()
        assert "Coefficient ranges" in text, log.name  # the log is the real one
        warnings = [line for line in text.splitlines() if "WARNING" in line.upper()]
        assert warnings == [], f"{log.name}: {warnings}"


def test_cost_scaling_is_a_power_of_two_and_drops_only_dust():
    rng = np.random.default_rng(7)
    for top in (1e-6, 3e-3, 1.0, 17.5, 4e5):
        cost = rng.uniform(-top, top, 200)
        cost[:3] = [top, top * 1e-9, 0.0]
        scaled, scale = highs.scaled_costs(cost)
        assert np.log2(scale) == int(np.log2(scale))  # exact in floating point
        assert highs.COST_TARGET / 2 < np.max(np.abs(scaled)) <= highs.COST_TARGET
        kept = np.abs(cost * scale) >= highs.HIGHS_SMALL
        assert np.array_equal(scaled[kept], cost[kept] * scale)
        assert scaled[1] == 0.0 and not kept[1]  # 1e-9 of the largest is dust
    assert highs.scaled_costs(np.zeros(4))[1] == 1.0


def test_cost_scaling_leaves_the_plan_and_its_duals_unchanged(monkeypatch):
    p = tiny(contracts__0__rate_usd_per_kw_month=120, treasury__min_cash_usd=9.9e8)
    scaled = plan_portfolio(p)
    monkeypatch.setattr(highs, "scaled_costs", lambda c: (np.array(c, dtype=float), 1.0))
    raw = plan_portfolio(p)
    assert scaled.value_usd == pytest.approx(raw.value_usd, rel=1e-12)
    a, b = scaled.tables.shadow_prices, raw.tables.shadow_prices
    assert list(a["family"]) == list(b["family"])
    assert np.allclose(a["shadow_price_usd"], b["shadow_price_usd"], rtol=1e-9, atol=1e-6)


def test_verification_reports_the_largest_violation_of_each_family():
    r = plan_portfolio(tiny())
    families = [c.family for c in r.verification.checks]
    assert len(families) == len(set(families))
    # every constraint family of the model is checked (some under a combined name)
    covered = {
        "build_cumulative": "builds_ready_in_horizon",
        "conversion_limit": "conversion_limit",
        "fleet_balance": "fleet_limit",
        "fleet_limit": "fleet_limit",
        "site_power": "site_power",
        "hosting_capacity": "hosting_capacity",
        "contract_size": "contract_size",
        "min_commitment": "contract_size",
        "btc_balance": "btc_balance",
        "cash_balance": "cash_balance",
        "cvar_shortfall": "cvar",  # stochastic plans only: tests/test_stochastic.py
        "prepaid_within_host": "prepaid_capacity",
        "prepaid_capacity": "prepaid_capacity",
        "grid_kept": "grid_kept",  # grid sales: tests/test_grid_sale.py
        "build_blocks": "build_blocks",  # halls in blocks: tests/test_blocks.py
    }
    financing = {  # plans with a financing section only: tests/test_verify_financing.py
        "btc_loan_balance": "btc_loan",
        "loan_to_value": "btc_loan",
        "note_issue": "note",
        "project_loan_balance": "project_loan",
        "loan_to_cost": "project_loan",
        "debt_service_coverage": "project_loan",
        "equity_programme": "equity",
    }
    assert set(covered) | set(financing) == set(CONSTRAINT_FAMILIES)
    assert set(financing.values()).isdisjoint(families)
    deterministic = set(covered.values()) - {"cvar"}
    assert deterministic | {"btc_floor_and_depth", "cash_floor", "value"} <= set(families)
    for record in r.verification.as_records():
        assert record["max_violation"] >= 0 and record["tolerance"] > 0
        assert record["ok"] == (record["max_violation"] <= record["tolerance"])
