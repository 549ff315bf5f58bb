"""Mining's flexibility (issue 15): curtailment credits on running mining MW, firm-load charges
on AI halls' grid draw; known answers by hand and the breakeven credit that flips a conversion."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from realloc.optimizer import plan_portfolio
from tests.helpers import MARGIN_USD_PER_MW_YEAR, run_cli, tiny


def test_credit_is_paid_on_the_enrolled_share_of_running_mining_mw():
    # no contract: 100 MW mine all year; $1,000/MW-month × 0.5 enrolled × 100 MW = $50,000 a
    # month, cash (not BTC): 12 × 50,000 = $600,000 over the year
    p = tiny(
        contracts=[],
        sites__0__curtailment_credit_usd_per_mw_month=1000,
        sites__0__curtailment_enrolled_share=0.5,
    )
    r = plan_portfolio(p)
    assert r.verification.ok
    cash = r.tables.cashflows["curtailment_credit_usd"]
    assert cash.to_numpy() == pytest.approx([50_000.0] * 12, abs=0.01)
    assert r.tables.value_terms_usd["curtailment_credit_usd"] == pytest.approx(600_000, abs=0.01)
    # it reaches cash: month 0's cash rises by it (nothing else is cash here: mining revenue is
    # BTC, and the power cost 100 MW × $40 × 744 h = $2,976,000 is paid in cash)
    first = r.tables.treasury.iloc[0]
    sold = first["usd_raised"]
    assert first["cash_usd"] == pytest.approx(1e9 + 50_000 - 2_976_000 + sold, abs=0.01)


# Breakeven credit: converting one MW (PUE 1 both ways, lead 0) earns rent $150/kW-month ×
# 1000 × 12 = $1,800,000, costs $1,000,000 of capex and gives up one MW of mining: its margin
# (MARGIN_USD_PER_MW_YEAR = $75,433.33 in 2026) and its credit c × 12. Converting pays while
# 1,800,000 − 1,000,000 − 75,433.33 − 12 c > 0, i.e. below c* = 724,566.67 / 12 = $60,380.56.
BREAKEVEN_CREDIT = (1_800_000 - 1_000_000 - MARGIN_USD_PER_MW_YEAR) / 12


def _converted_mw(credit: float) -> float:
    p = tiny(sites__0__curtailment_credit_usd_per_mw_month=credit)
    r = plan_portfolio(p)
    assert r.verification.ok
    return float(r.tables.contracts["it_mw"].sum())


def test_credit_flips_the_site_from_converting_to_mining_at_the_hand_breakeven():
    assert BREAKEVEN_CREDIT == pytest.approx(60_380.56, abs=0.01)
    assert _converted_mw(BREAKEVEN_CREDIT - 10) == pytest.approx(50.0)
    assert _converted_mw(BREAKEVEN_CREDIT + 10) == pytest.approx(0.0, abs=1e-6)


def test_half_enrolled_doubles_the_breakeven_credit():
    # only half of the running MW earn the credit: c* doubles
    def converted(credit: float) -> float:
        p = tiny(
            sites__0__curtailment_credit_usd_per_mw_month=credit,
            sites__0__curtailment_enrolled_share=0.5,
        )
        return float(plan_portfolio(p).tables.contracts["it_mw"].sum())

    assert converted(2 * BREAKEVEN_CREDIT - 20) == pytest.approx(50.0)
    assert converted(2 * BREAKEVEN_CREDIT + 20) == pytest.approx(0.0, abs=1e-6)


def test_firm_load_charge_is_the_operators_only_without_pass_through():
    # 50 IT MW hosted at AI PUE 1.2: 1000 × 1.2 × $5.60/kW-month × 50 MW = $336,000 a month
    def charged(pass_through: bool):
        p = tiny(
            sites__0__firm_load_charge_usd_per_kw_month=5.6,
            sites__0__conversion__ai_pue=1.2,
            contracts__0__power_pass_through=pass_through,
        )
        r = plan_portfolio(p)
        assert r.verification.ok
        assert r.tables.contracts["it_mw"].sum() == pytest.approx(50.0)
        return r.tables.cashflows["firm_load_charge_usd"].to_numpy()

    assert charged(False) == pytest.approx([-336_000.0] * 12, abs=0.01)
    assert charged(True) == pytest.approx([0.0] * 12, abs=0.01)


def test_firm_load_charge_after_the_horizon_is_netted_from_terminal_value():
    # contract Jan 2026–Dec 2027 (24 months), horizon 12 months, no discounting, 50 MW: after
    # the horizon 12 months of rent 150 × 1000 × 50 = 7.5M, less power (PUE 1, $40/MWh, 2027's
    # 8,760 h × 50 MW = 17.52M over the year) and the firm charge 1000 × 1 × 2 × 50 × 12 = 1.2M
    p = tiny(
        terminal_value=True,
        contracts__0__term_months=24,
        contracts__0__power_pass_through=False,
        sites__0__firm_load_charge_usd_per_kw_month=2.0,
    )
    r = plan_portfolio(p)
    assert r.verification.ok
    assert r.tables.contracts["it_mw"].sum() == pytest.approx(50.0)
    tv = 12 * 7_500_000 - 50 * 40 * 8760 - 1_200_000
    assert r.tables.value_terms_usd["terminal_value_usd"] == pytest.approx(tv, abs=0.01)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("curtailment_credit_usd_per_mw_month", -1),
        ("curtailment_credit_usd_per_mw_month", ".nan"),
        ("curtailment_enrolled_share", 1.5),
        ("curtailment_enrolled_share", -0.1),
        ("firm_load_charge_usd_per_kw_month", ".inf"),
        ("firm_load_charge_usd_per_kw_month", "lots"),
    ],
)
def test_hostile_site_fields_exit_2_naming_the_field(tmp_path: Path, field, value):
    data = tiny().model_dump(mode="json")
    data["sites"][0][field] = value
    text = yaml.safe_dump(data, sort_keys=False)
    text = text.replace("'.nan'", ".nan").replace("'.inf'", ".inf")
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    code, out = run_cli("validate", path)
    assert code == 2, out
    assert "p.yaml" in out and field in out, out


def test_reports_show_flexibility_given_up_and_the_cloud_equivalent_rate(tmp_path: Path):
    # the 1 MW existing hall holds 1 MW of grid, so the status quo mines 99 MW and earns
    # 99 × 12 × $1,000 = $1,188,000 of credits; the plan converts 50 MW more and mines 49 MW:
    # 49 × 12 × 1,000 = $588,000; with no firm-load charge the conversion gives up $600,000
    from realloc.reports.board import build_report
    from realloc.reports.plan_files import write_plan

    cloud = dict(
        name="GPU C",
        kind="cloud",
        usd_per_gpu_hour=2.0,
        gpus_per_it_mw=1000,
        utilization_share=0.8,
        gpu_capex_usd_per_it_mw=0.0,
        start_month="2026-01",
        term_months=12,
        max_it_mw=1,
        eligible_sites=["A"],
    )
    p = tiny(
        sites__0__curtailment_credit_usd_per_mw_month=1000,
        sites__0__conversion__existing_it_mw=1,
        sites__0__conversion__max_it_mw=51,
    )
    p = type(p).model_validate(
        {**p.model_dump(), "contracts": [*p.model_dump()["contracts"], cloud]}
    )
    r = plan_portfolio(p)
    assert r.verification.ok
    assert r.tables.contracts["it_mw"].sum() == pytest.approx(51.0)
    (row,) = r.flexibility
    assert row["credit_status_quo_usd"] == pytest.approx(1_188_000, abs=0.01)
    assert row["credit_plan_usd"] == pytest.approx(588_000, abs=0.01)
    assert row["given_up_usd"] == pytest.approx(600_000, abs=0.01)
    run = write_plan(r, tmp_path / "run")
    summary = (run / "summary.md").read_text(encoding="utf-8")
    assert "## Flexibility given up" in summary and "$600,000" in summary
    assert "usd_per_kw_month" in summary and "1,168.80" in summary  # 2×1000×0.8×24×30.4375/1000
    html = build_report(run, tmp_path / "report", ("html",))["html"].read_text(encoding="utf-8")
    assert "Flexibility given up" in html and "$600,000" in html
    assert "equivalent" in html


def test_reports_without_the_new_inputs_say_nothing_of_them(tmp_path: Path):
    from realloc.reports.plan_files import write_plan

    r = plan_portfolio(tiny())
    assert r.flexibility == []
    run = write_plan(r, tmp_path / "run")
    summary = (run / "summary.md").read_text(encoding="utf-8")
    assert "Flexibility" not in summary and "usd_per_kw_month" not in summary
    assert "Curtailment" not in summary and "GPU" not in summary


def test_find_breakeven_brackets_the_hand_breakeven_credit():
    # bisection on the credit ($0–$120,000/MW-month, to $5) lands on c* = $60,380.56
    from realloc.optimizer.breakeven import find_breakeven

    b = find_breakeven(
        lambda c: tiny(sites__0__curtailment_credit_usd_per_mw_month=c), "A", 0.0, 120_000.0, 5.0
    )
    assert b.converts_at_lo and not b.converts_at_hi
    assert b.lo <= BREAKEVEN_CREDIT <= b.hi
    assert b.hi - b.lo <= 5.0
