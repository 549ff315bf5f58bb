"""Infeasible and unfunded plans are explained in business terms: the month, the binding limit
(cash floor, BTC floor, market depth, a signed contract), by how much, and a fix. Each fix the
diagnosis proposes is applied and re-planned here, so the advice is checked, not just worded.

The tiny portfolio (tests/helpers.py) mines 100 MW at 30 J/TH: January 2026 has 31 days, so the
fleet mines 1000/30 PH/s × $35 × 31 = $3,616,667 = 51.67 BTC at $70,000 and burns
100 MW × 744 h × $40 = $2,976,000 of power.
"""

from __future__ import annotations

import re

import pytest

from realloc.optimizer import SolverOptions, plan_portfolio
from tests.helpers import tiny

SIGNED = {"contracts__0__signed_it_mw": {"A": 50}}  # 50 MW × $1M/MW capex, all in 2026-01


def _number(text: str, pattern: str) -> float:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in {text}"
    return float(match.group(1).replace(",", ""))


def _text(result) -> str:
    return " ".join(result.diagnosis)


def test_cash_floor_shortfall_names_month_amount_and_fix():
    overrides = dict(treasury__cash_usd=0, treasury__btc=0, treasury__min_cash_usd=5e6)
    r = plan_portfolio(tiny(**overrides))
    assert r.status == "unfunded"
    text = _text(r)
    # January: floor $5M + power $2,976,000 − all mined BTC sold 51.67 × $70,000 = $4,359,333
    gap = _number(text, r"largest shortfall is \$([\d,]+) in 2026-01")
    assert gap == pytest.approx(5e6 + 2_976_000 - 1000 / 30 * 35 * 31 * 100, abs=2)
    assert "cash floor (treasury.min_cash_usd = $5,000,000)" in text
    assert "The BTC stack is sold out by 2026-01" in text
    assert "mining power $2,976,000" in text
    # both fixes are exact: the same plan then holds
    add = _number(text, r"add \$([\d,]+) of cash by 2026-01")
    assert add == pytest.approx(gap, abs=1)
    lower = _number(text, r"lower treasury.min_cash_usd by \$([\d,]+)")
    fixed = plan_portfolio(tiny(**(overrides | {"treasury__cash_usd": add + 1})))
    assert fixed.status == "optimal"
    fixed = plan_portfolio(tiny(**(overrides | {"treasury__min_cash_usd": 5e6 - lower - 1})))
    assert fixed.status == "optimal"


def test_btc_floor_binding_is_named_with_the_btc_it_would_take():
    overrides = dict(treasury__cash_usd=0, treasury__btc=1000, treasury__min_btc=900, **SIGNED)
    r = plan_portfolio(tiny(**overrides))
    assert r.status == "unfunded"
    text = _text(r)
    assert "BTC floor: every BTC above treasury.min_btc (900.00 BTC) is sold by 2026-01" in text
    assert "Signed contract(s) H need 50.0 IT MW built at A (about $50,000,000 of capex)" in text
    assert "Market depth" not in text
    gap = _number(text, r"\$([\d,]+) in all")
    lower = _number(text, r"lower treasury.min_btc by about ([\d,.]+) BTC")
    # the gap converted at January's $70,000 (no sale cost)
    assert lower == pytest.approx(gap / 70_000, abs=0.05)
    fixed = plan_portfolio(tiny(**(overrides | {"treasury__min_btc": 900 - lower * 1.001})))
    assert fixed.status == "optimal"


def test_market_depth_binding_is_named_with_the_limit_that_closes_it():
    overrides = dict(
        treasury__cash_usd=0, treasury__btc=1000, treasury__max_btc_sold_per_month=100, **SIGNED
    )
    r = plan_portfolio(tiny(**overrides))
    assert r.status == "unfunded"
    text = _text(r)
    assert "Market depth: the sale limit (treasury.max_btc_sold_per_month = 100.00 BTC)" in text
    assert "reached in 1 month(s) up to 2026-01" in text
    assert "BTC floor" not in text
    gap = _number(text, r"\$([\d,]+) in all")
    limit = _number(text, r"raise treasury.max_btc_sold_per_month to about ([\d,.]+) BTC")
    assert limit == pytest.approx(100 + gap / 70_000, abs=0.05)
    more = overrides | {"treasury__max_btc_sold_per_month": limit * 1.001}
    assert plan_portfolio(tiny(**more)).status == "optimal"


def test_signed_contract_that_no_hall_can_be_ready_for():
    r = plan_portfolio(tiny(sites__0__conversion__lead_months=4, **SIGNED))
    assert r.status == "infeasible"
    text = _text(r)
    assert "Signed contract(s) H cannot be served at A" in text
    assert "need 50.0 IT MW in 2026-01, but at most 0.0 MW can be ready" in text
    assert "50.0 MW short" in text and "move the start to 2026-05 or later" in text
    moved = tiny(sites__0__conversion__lead_months=4, contracts__0__start_month="2026-05", **SIGNED)
    assert plan_portfolio(moved).status == "optimal"


def test_signed_contract_that_the_grid_cannot_power():
    r = plan_portfolio(tiny(sites__0__conversion__ai_pue=2.5, **SIGNED))
    assert r.status == "infeasible"
    text = _text(r)
    # 50 IT MW × 2.5 = 125 MW on a 100 MW interconnect; 100 / 2.5 = 40 MW fits
    assert "50.0 IT MW in 2026-01 × AI PUE 2.5 = 125.0 MW, 25.0 MW more than its grid_mw" in text
    assert "sign at most 40.0 IT MW there" in text
    smaller = tiny(sites__0__conversion__ai_pue=2.5, contracts__0__signed_it_mw={"A": 40})
    assert plan_portfolio(smaller).status == "optimal"


def test_btc_floor_above_anything_the_stack_and_mining_can_reach():
    r = plan_portfolio(tiny(treasury__btc=0, treasury__min_btc=1000))
    assert r.status == "infeasible"
    text = _text(r)
    assert "mining can add at most 51.67 BTC in 2026-01" in text
    assert "948.33 BTC short" in text
    reach = _number(text, r"lower min_btc to at most ([\d,.]+) BTC")
    assert plan_portfolio(tiny(treasury__btc=0, treasury__min_btc=reach - 0.01)).status in (
        "optimal",
        "unfunded",
    )


def test_a_reachable_btc_floor_is_not_reported():
    # 20 BTC short of the floor at the start, but January's mining (51.67 BTC) covers it
    r = plan_portfolio(tiny(treasury__btc=80, treasury__min_btc=100))
    assert r.status == "optimal" and r.diagnosis == []


def test_time_limit_without_a_plan_says_so():
    r = plan_portfolio(tiny(contracts__0__min_it_mw=10), options=SolverOptions(time_limit_s=1e-9))
    if r.status == "optimal":
        pytest.skip("HiGHS solved the tiny MIP before checking its time limit")
    assert r.status == "time_limit"
    assert "time limit of 1e-09 s" in _text(r) and "--time-limit" in _text(r)


def test_diagnosis_reaches_the_cli_and_summary(tmp_path):
    import json

    import yaml
    from click.testing import CliRunner

    from realloc.cli import main

    path = tmp_path / "late.yaml"
    data = tiny(sites__0__conversion__lead_months=4, **SIGNED).model_dump(mode="json")
    path.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(main, ["plan", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 3, result.output
    assert "move the start to 2026-05 or later" in result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["status"] == "infeasible"
    assert any("cannot be served at A" in d for d in summary["diagnosis"])
    assert "cannot be served at A" in (tmp_path / "out" / "summary.md").read_text()
