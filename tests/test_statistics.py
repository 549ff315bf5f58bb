"""The headline figures (optimizer/statistics.py) on tables made by hand, the arithmetic written
out; and summary.json and a sweep's row of the same plan holding the same figures."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from realloc.models import Market
from realloc.optimizer import Scenario, plan_portfolio
from realloc.optimizer import statistics as st
from realloc.optimizer.sweep import SweepSettings, SweepTask, _summary_row, solve_variant, task_key
from realloc.reports.plan_files import summary_dict
from tests.helpers import tiny

PROB = {"bear": 0.25, "bull": 0.75}


def two_path_treasury() -> pd.DataFrame:
    """Three months on two paths, probabilities 0.25 (bear) and 0.75 (bull)."""
    return pd.DataFrame(
        {
            "scenario": ["bear"] * 3 + ["bull"] * 3,
            "month": ["2026-01", "2026-02", "2026-03"] * 2,
            "btc_sold": [10.0, 20.0, 0.0, 0.0, 4.0, 0.0],
            "usd_raised": [500.0, 900.0, 0.0, 0.0, 400.0, 0.0],
            "btc_held": [90.0, 70.0, 70.0, 100.0, 96.0, 96.0],
            "cash_usd": [100.0, 40.0, 80.0, 200.0, 60.0, 20.0],
        }
    )


def test_treasury_figures_are_expected_over_the_paths():
    t = two_path_treasury()
    # each month weighted first: 0.25 × bear + 0.75 × bull
    assert st.btc_sold_total(t, PROB) == pytest.approx(0.25 * 30 + 0.75 * 4)  # 10.5
    assert st.usd_raised_total(t, PROB) == pytest.approx(0.25 * 1400 + 0.75 * 400)  # 650
    assert st.btc_held_at_end(t, PROB) == pytest.approx(0.25 * 70 + 0.75 * 96)  # 89.5
    # expected cash by month: 175, 55, 35 -> the lowest month is March (35), not the
    # expected lowest (0.25 × 40 + 0.75 × 20 = 25) nor the first path's lowest (40)
    assert st.lowest_cash_usd(t, PROB) == pytest.approx(0.25 * 80 + 0.75 * 20)
    expected = st.expected_over_paths(t, PROB)
    assert list(expected.columns) == [c for c in t.columns if c != "scenario"]
    assert expected["month"].tolist() == ["2026-01", "2026-02", "2026-03"]
    assert expected["cash_usd"].tolist() == pytest.approx([175.0, 55.0, 35.0])


def test_btc_sales_by_quarter_are_expected_over_the_paths():
    t = two_path_treasury().assign(month=["2026-03", "2026-04", "2026-05"] * 2)
    by_q = st.btc_sales_by_quarter(t, PROB)
    assert by_q["quarter"].tolist() == ["2026-Q1", "2026-Q2"]
    assert by_q["months"].tolist() == [("2026-03",), ("2026-04",)]  # May sells on no path
    assert by_q["btc_sold"].tolist() == pytest.approx([0.25 * 10, 0.25 * 20 + 0.75 * 4])
    assert by_q["usd_raised"].tolist() == pytest.approx([0.25 * 500, 0.25 * 900 + 0.75 * 400])
    assert st.btc_sales_by_quarter(t.assign(btc_sold=0.0), PROB).empty
    assert [st.quarter(m) for m in ("2026-01", "2026-06", "2026-10")] == [
        "2026-Q1",
        "2026-Q2",
        "2026-Q4",
    ]


def test_a_deterministic_plan_is_its_one_path():
    one = two_path_treasury().query("scenario == 'bull'").drop(columns="scenario")
    assert st.expected_over_paths(one, {}) is one
    assert st.btc_sold_total(one, {}) == 4.0
    assert st.lowest_cash_usd(one, {}) == 20.0


def test_per_path_rows_without_probabilities_are_refused():
    with pytest.raises(ValueError, match="probability"):
        st.btc_sold_total(two_path_treasury(), {})


def test_funding_gap_missing_on_a_path_counts_as_zero_there():
    gap = pd.DataFrame(
        {
            "scenario": ["bear", "bear", "bull"],
            "month": ["2026-01", "2026-02", "2026-02"],
            "gap_usd": [1.0, 100.0, 8.0],
        }
    )
    assert st.funding_gap_total_usd(gap, PROB) == pytest.approx(0.25 * 101 + 0.75 * 8)  # 31.25
    # January: 0.25 × $1 = $0.25, under the half-dollar tolerance; February: $31
    assert st.first_funding_gap_month(gap, PROB) == "2026-02"
    assert st.first_funding_gap_month(gap.iloc[:0], PROB) is None


def test_probabilities_come_from_the_scenario_values():
    values = pd.DataFrame({"scenario": ["bear", "bull"], "probability": [0.25, 0.75]})
    assert st.path_probabilities(values) == PROB
    assert st.path_probabilities(None) == {}


def test_conversion_figures_are_decisions_shared_by_every_path():
    conv = pd.DataFrame(
        {
            "site": ["B", "A", "B"],
            "start_month": ["2026-04", "2026-06", "2026-02"],
            "it_mw": [10.0, 5.5, 2.0],
        }
    )
    assert st.it_mw_converted_total(conv) == 17.5
    assert st.it_mw_converted_by_site(conv, ["A", "B", "C"]) == {"A": 5.5, "B": 12.0, "C": 0.0}
    assert st.first_conversion_month(conv) == "2026-02"
    none = conv.iloc[:0]
    assert st.it_mw_converted_total(none) == 0.0
    assert st.first_conversion_month(none) is None


def test_uplift_and_paths_ahead():
    assert st.uplift_usd(150.0, 100.0) == 50.0
    assert st.uplift_usd(150.0, None) is None and st.uplift_usd(None, 1.0) is None
    values = pd.DataFrame(
        {
            "scenario": ["bear", "bull", "flat"],
            "probability": [0.25, 0.5, 0.25],
            "value_usd": [90.0, 200.0, 100.0],
            "baseline_value_usd": [100.0, 150.0, None],
        }
    )
    assert st.paths_ahead(values) == (1, 2)  # bull only; flat has no status-quo value
    assert st.paths_ahead(pd.DataFrame()) is None


def test_value_distribution_of_two_paths():
    values, prob = [100.0, 300.0], [0.25, 0.75]
    d = st.distribution(values, prob, alpha=0.9)
    assert d.expected_usd == pytest.approx(0.25 * 100 + 0.75 * 300)  # 250
    assert d.cvar_usd == 100.0  # the worst 10% lies wholly in the 0.25 bear path
    assert st.cvar_usd(values, prob, 0.5) == pytest.approx((0.25 * 100 + 0.25 * 300) / 0.5)
    assert (d.p5_usd, d.p50_usd, d.p95_usd) == (100.0, 300.0, 300.0)  # lower quantiles
    assert st.weighted_quantile(values, prob, 0.25) == 100.0


def test_payback_month_from_cumulative_flows():
    months = ["2026-01", "2026-02", "2026-03", "2026-04"]
    plan = pd.DataFrame({"month": months, "a": [-100.0, 30.0, 50.0, 40.0], "b": [0.0] * 4})
    base = pd.DataFrame({"month": months, "a": [0.0] * 4, "b": [0.0, 0.0, 0.0, 10.0]})
    # cumulative plan − status quo: −100, −70, −20, +10 -> back ahead from April
    p = st.payback(plan, base, ["a", "b", "not_a_column"])
    assert p.month == "2026-04" and not p.never_behind
    assert (p.trough_usd, p.trough_month) == (-100.0, "2026-01")
    assert p.cumulative_usd == pytest.approx((-100.0, -70.0, -20.0, 10.0))
    short = st.payback(plan.iloc[:3], base, ["a"])
    assert short.month is None and not short.never_behind  # still behind in March
    assert st.payback(plan, base.iloc[:0], ["a"]) is None


def test_a_plan_without_tables_has_no_table_figures():
    """Not 0 MW converted (which reads as "converts nothing"): summary.json, the sweep's row
    and the board report say n/a for every figure of a plan that was not made."""
    result = SimpleNamespace(
        portfolio=tiny(), value_usd=None, baseline_value_usd=5.0, tables=None, scenario_values=None
    )
    h = st.headline(result)
    assert h.uplift_usd is None and h.baseline_value_usd == 5.0
    assert h.it_mw_converted_total is None and h.btc_sold_total is None
    assert h.sweep_row_fields()["it_mw_A"] is None


def test_an_unmade_plans_summary_has_no_converted_mw():
    # a signed contract no hall can be ready for (tests/test_diagnosis.py)
    late = tiny(sites__0__conversion__lead_months=4, contracts__0__signed_it_mw={"A": 50})
    result = plan_portfolio(late)
    assert result.status == "infeasible"
    summary = summary_dict(result)
    assert summary["it_mw_converted_total"] is None and summary["btc_sold_total"] is None


SUMMARY_TO_ROW = {
    "value_usd": "value_usd",
    "baseline_value_usd": "baseline_value_usd",
    "uplift_usd": "uplift_usd",
    "btc_sold_total": "btc_sold",
    "usd_raised_total": "usd_raised",
    "it_mw_converted_total": "it_mw_total",
    "funding_gap_total_usd": "funding_gap_usd",
}
"""summary.json's key of each headline figure and the sweep row's column for it."""


def _btc_funded(**overrides):
    """The tiny portfolio with no cash: its conversion is paid for by selling BTC."""
    return tiny(treasury__btc=2000, treasury__cash_usd=0, **overrides)


def test_summary_json_and_the_sweep_row_of_a_plan_agree():
    portfolio = _btc_funded()
    settings = SweepSettings(reuse=False)
    row = solve_variant(SweepTask(task_key(portfolio, settings), portfolio, settings)).row
    result = plan_portfolio(portfolio)
    summary = summary_dict(result)
    assert summary["btc_sold_total"] > 0 and summary["it_mw_converted_total"] > 0
    for key, column in SUMMARY_TO_ROW.items():
        assert row[column] == pytest.approx(summary[key], rel=1e-9, abs=1e-9), key
    assert row["min_cash_usd"] == st.lowest_cash_usd(result.tables.treasury, {})


def test_a_stochastic_plans_row_is_expected_over_its_paths_as_summary_json():
    """Formerly a row read the first path's treasury while summary.json weighted them all."""
    portfolio = _btc_funded()
    scenarios = [
        Scenario("bear", 0.25, Market(btc_price_usd=40_000, hashprice_usd_per_ph_day=35)),
        Scenario("bull", 0.75, Market(btc_price_usd=90_000, hashprice_usd_per_ph_day=35)),
    ]
    result = plan_portfolio(portfolio, scenarios=scenarios)
    summary = summary_dict(result)
    row = _summary_row(result, 0.0, 0.0, 0)
    for key, column in SUMMARY_TO_ROW.items():
        assert row[column] == summary[key], key
    tre = result.tables.treasury
    sold = tre.groupby("scenario")["btc_sold"].sum()
    assert sold["bear"] != pytest.approx(sold["bull"])  # the paths do sell differently
    assert row["btc_sold"] == pytest.approx(0.25 * sold["bear"] + 0.75 * sold["bull"])
    cash = tre.pivot(index="month", columns="scenario", values="cash_usd")
    assert row["min_cash_usd"] == pytest.approx((0.25 * cash["bear"] + 0.75 * cash["bull"]).min())
