"""Cloud contracts (issue 15): revenue by the GPU-hour, GPU capex and residual, the contract's own
AI opex, power not passed through unless stated; known answers by hand, hostile inputs, the
Excel template and sweep paths."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from realloc.inputs.excel_loader import load_excel
from realloc.inputs.excel_writer import write_excel
from realloc.inputs.overrides import overridden, parse_override
from realloc.models import Contract
from realloc.optimizer import plan_portfolio
from tests.helpers import run_cli, tiny

CLOUD = dict(
    name="C",
    kind="cloud",
    usd_per_gpu_hour=2.0,
    gpus_per_it_mw=1000,
    utilization_share=0.8,
    gpu_capex_usd_per_it_mw=0.0,
    start_month="2026-04",
    term_months=1,
    max_it_mw=1,
    eligible_sites=["A"],
)


def cloud_tiny(contract: dict | None = None, **overrides):
    """tiny() with its contract replaced by a cloud one, hosted in a 1 MW existing hall (no
    build needed): ``overrides`` as tiny's."""
    base = dict(
        contracts=[{**CLOUD, **(contract or {})}],
        sites__0__conversion__existing_it_mw=1,
    )
    return tiny(**base, **overrides)


def test_cloud_revenue_in_a_30_day_month_is_1_152_000_per_it_mw():
    # $2/GPU-hour × 1,000 GPUs/MW × 0.8 × 24 h × 30 days (April) = $1,152,000 per IT MW
    r = plan_portfolio(cloud_tiny(start_month="2026-04", months=1))
    assert r.verification.ok
    cash = r.tables.cashflows.iloc[0]
    assert r.tables.contracts["it_mw"].sum() == pytest.approx(1.0)
    assert cash["ai_revenue_usd"] == pytest.approx(1_152_000, abs=0.01)
    # power is the operator's: 1 MW × PUE 1 × $40/MWh × 720 h = $28,800
    assert cash["ai_power_usd"] == pytest.approx(-28_800, abs=0.01)
    row = r.tables.contracts.iloc[0]
    assert row["kind"] == "cloud"
    # equivalent $/kW-month in an average month: 2 × 1000 × 0.8 × 24 × 30.4375 / 1000 = 1,168.8
    assert row["usd_per_kw_month"] == pytest.approx(1168.8, abs=0.005)


def test_cloud_revenue_follows_days_and_escalates_at_the_anniversary():
    # 2026-01 start, 13 months, 10 % escalator: month 12 is January 2027 (31 days), second year
    # 2 × 1000 × 0.8 × 24 × 31 × 1.1 = 1,309,440; month 1 is February 2026: × 28 days = 1,075,200
    p = cloud_tiny(
        dict(start_month="2026-01", term_months=24, escalator_per_year=0.1),
        start_month="2026-01",
        months=13,
    )
    cash = plan_portfolio(p).tables.cashflows.set_index("month")["ai_revenue_usd"]
    assert cash["2027-01"] == pytest.approx(1_309_440, abs=0.01)
    assert cash["2026-02"] == pytest.approx(1_075_200, abs=0.01)


def test_gpu_capex_in_the_start_month_and_residual_in_the_last_month_of_the_term():
    # contract March–May 2026 (start month 2, term 3): GPU capex $29M × 1 MW in March,
    # residual 50 % × $29M = $14.5M in May; horizon Jan–Jun
    p = cloud_tiny(
        dict(
            start_month="2026-03",
            term_months=3,
            gpu_capex_usd_per_it_mw=29e6,
            gpu_residual_share=0.5,
            usd_per_gpu_hour=15.0,  # ≈ $8.9M a month per MW: worth its GPUs
        ),
        start_month="2026-01",
        months=6,
    )
    r = plan_portfolio(p)
    assert r.verification.ok
    assert r.tables.contracts["it_mw"].sum() == pytest.approx(1.0)
    cash = r.tables.cashflows.set_index("month")
    assert cash.loc["2026-03", "gpu_capex_usd"] == pytest.approx(-29e6, abs=0.01)
    assert cash["gpu_capex_usd"].sum() == pytest.approx(-29e6, abs=0.01)
    assert cash.loc["2026-05", "gpu_residual_usd"] == pytest.approx(14.5e6, abs=0.01)
    assert cash["gpu_residual_usd"].sum() == pytest.approx(14.5e6, abs=0.01)


def test_residual_and_revenue_after_the_horizon_are_terminal_value():
    # horizon Jan–Mar 2026, contract Jan–May (5 months), no discounting: after the horizon
    # April (30 days) and May (31): revenue 38,400/day less power 1 MW × $40 × 24 = 960/day:
    # 37,440 × 61 = 2,283,840; residual 10 % × $29M = 2,900,000 in May: TV = 5,183,840
    # signed at 1 MW so the MW are fixed (the GPUs would not pay back over 5 months)
    p = cloud_tiny(
        dict(
            start_month="2026-01",
            term_months=5,
            gpu_capex_usd_per_it_mw=29e6,
            gpu_residual_share=0.1,
            signed_it_mw={"A": 1.0},
        ),
        start_month="2026-01",
        months=3,
        terminal_value=True,
    )
    r = plan_portfolio(p)
    assert r.verification.ok
    assert r.tables.value_terms_usd["terminal_value_usd"] == pytest.approx(5_183_840, abs=0.01)
    assert r.tables.value_terms_usd["gpu_residual_usd"] == 0.0
    assert r.tables.value_terms_usd["gpu_capex_usd"] == pytest.approx(-29e6, abs=0.01)


def test_gpus_of_a_contract_signed_before_the_horizon_are_sunk():
    # signed, live since 2025-10: its GPU capex was paid in 2025-10, before the plan starts
    p = cloud_tiny(
        dict(
            start_month="2025-10",
            term_months=12,
            gpu_capex_usd_per_it_mw=29e6,
            signed_it_mw={"A": 1.0},
        ),
        start_month="2026-01",
        months=3,
    )
    r = plan_portfolio(p)
    assert r.verification.ok
    assert r.tables.value_terms_usd["gpu_capex_usd"] == 0.0


def test_cloud_opex_replaces_the_site_ai_opex_and_power_defaults_to_the_operator():
    # site AI opex $10/kW-month, the cloud contract's own $25: 1 MW × 1000 × 25 = $25,000
    p = cloud_tiny(
        dict(ai_opex_usd_per_kw_month=25.0),
        start_month="2026-04",
        months=1,
        sites__0__conversion__ai_opex_usd_per_kw_month=10.0,
    )
    assert p.contracts[0].power_pass_through is False
    cash = plan_portfolio(p).tables.cashflows.iloc[0]
    assert cash["ai_opex_usd"] == pytest.approx(-25_000, abs=0.01)
    passed = cloud_tiny(dict(power_pass_through=True), start_month="2026-04", months=1)
    assert passed.contracts[0].power_pass_through is True
    assert plan_portfolio(passed).tables.cashflows.iloc[0]["ai_power_usd"] == 0.0
    # colocation keeps its default: the tenant pays the power
    assert tiny().contracts[0].power_pass_through is True


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (dict(rate_usd_per_kw_month=150), "rate_usd_per_kw_month"),
        (dict(usd_per_gpu_hour=None), "usd_per_gpu_hour"),
        (dict(gpus_per_it_mw=None), "gpus_per_it_mw"),
        (dict(utilization_share=1.5), "utilization_share"),
        (dict(utilization_share=".nan"), "utilization_share"),
        (dict(gpu_capex_usd_per_it_mw=-1), "gpu_capex_usd_per_it_mw"),
        (dict(gpu_residual_share=2), "gpu_residual_share"),
        (dict(usd_per_gpu_hour="two"), "usd_per_gpu_hour"),
        (dict(usd_per_gpu_hour=900, gpus_per_it_mw=15000), "usd_per_gpu_hour"),
        (dict(kind="gpu"), "kind"),
    ],
)
def test_hostile_cloud_fields_exit_2_naming_the_field(tmp_path: Path, change, field):
    data = tiny().model_dump(mode="json")
    data["contracts"] = [{**CLOUD, **change}]
    path = tmp_path / "p.yaml"
    text = yaml.safe_dump(data, sort_keys=False).replace("'.nan'", ".nan")
    path.write_text(text, encoding="utf-8")
    code, out = run_cli("validate", path)
    assert code == 2, out
    assert "p.yaml" in out and field in out, out


@pytest.mark.parametrize(
    "field", ["usd_per_gpu_hour", "gpu_residual_share", "ai_opex_usd_per_kw_month"]
)
def test_cloud_field_on_a_colocation_contract_exits_2(tmp_path: Path, field):
    data = tiny().model_dump(mode="json")
    data["contracts"][0][field] = 0.5
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    code, out = run_cli("validate", path)
    assert code == 2 and field in out and "cloud" in out, out


def test_colocation_without_a_rate_exits_2(tmp_path: Path):
    data = tiny().model_dump(mode="json")
    del data["contracts"][0]["rate_usd_per_kw_month"]
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    code, out = run_cli("validate", path)
    assert code == 2 and "rate_usd_per_kw_month" in out, out


def test_excel_round_trip_keeps_cloud_and_site_fields(tmp_path: Path):
    p = cloud_tiny(
        dict(gpu_residual_share=0.2, ai_opex_usd_per_kw_month=30.0, escalator_per_year=0.02),
        sites__0__curtailment_credit_usd_per_mw_month=8000,
        sites__0__curtailment_enrolled_share=0.6,
        sites__0__firm_load_charge_usd_per_kw_month=5.6,
    )
    p = p.model_copy(update={"contracts": [*p.contracts, tiny().contracts[0]]})
    p = type(p).model_validate(p.model_dump())
    back = load_excel(write_excel(p, tmp_path / "p.xlsx"))
    # the market comes back month by month (the template's market sheet); all else is equal
    assert back == p.model_copy(update={"market": back.market})
    assert back.sites == p.sites and back.contracts == p.contracts
    assert back.contracts[0].power_pass_through is False


def test_sweep_paths_reach_cloud_and_site_fields():
    p = cloud_tiny(sites__0__curtailment_credit_usd_per_mw_month=1000)
    changes = {
        "contracts[C].usd_per_gpu_hour": {"scale": 1.5},
        "contracts[C].gpu_residual_share": 0.25,
        "sites[A].curtailment_credit_usd_per_mw_month": {"add": 500},
        "sites[A].curtailment_enrolled_share": 0.5,
        "sites[A].firm_load_charge_usd_per_kw_month": 4,
    }
    out = overridden(p, [parse_override(path, raw) for path, raw in changes.items()])
    assert out.contracts[0].usd_per_gpu_hour == pytest.approx(3.0)
    assert out.contracts[0].gpu_residual_share == 0.25
    site = out.sites[0]
    assert (site.curtailment_credit_usd_per_mw_month, site.curtailment_enrolled_share) == (
        1500,
        0.5,
    )
    assert site.firm_load_charge_usd_per_kw_month == 4


def test_equivalent_rate_of_a_colocation_contract_is_its_rate():
    c = tiny().contracts[0]
    assert isinstance(c, Contract)
    assert c.equivalent_rate_usd_per_kw_month == 150


def test_excel_cloud_field_on_a_colocation_row_names_sheet_row_and_column(tmp_path: Path):
    import openpyxl

    path = write_excel(tiny(), tmp_path / "p.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["contracts"]
    header = [c.value for c in ws[1]]
    ws.cell(row=2, column=header.index("utilization_share") + 1, value=0.8)
    wb.save(path)
    code, out = run_cli("validate", path)
    assert code == 2, out
    assert "contracts" in out and "utilization_share" in out and "cloud" in out, out


def test_a_wildcard_scale_of_rates_leaves_cloud_contracts_alone():
    # contracts[*].rate_usd_per_kw_month × 0.8: the colocation rate 150 → 120; the cloud
    # contract has no rate and keeps none (a named cloud contract's rate is still an error)
    from realloc.inputs.overrides import OverrideError

    data = cloud_tiny().model_dump()
    data["contracts"].append(tiny().model_dump()["contracts"][0])
    p = type(cloud_tiny()).model_validate(data)
    out = overridden(p, [parse_override("contracts[*].rate_usd_per_kw_month", {"scale": 0.8})])
    assert out.contracts[0].rate_usd_per_kw_month is None
    assert out.contracts[1].rate_usd_per_kw_month == pytest.approx(120.0)
    with pytest.raises(OverrideError, match="set a value instead"):
        overridden(p, [parse_override("contracts[C].rate_usd_per_kw_month", {"scale": 0.8})])


def test_summary_names_a_declined_cloud_offers_equivalent_rate(tmp_path: Path):
    # $1,000M of GPUs per MW for one month of ~$1.15M of revenue: declined; summary.md still
    # shows its equivalent 2 × 1000 × 0.8 × 24 × 30.4375 / 1000 = $1,168.80/kW-month
    from realloc.reports.plan_files import write_plan

    r = plan_portfolio(cloud_tiny(dict(gpu_capex_usd_per_it_mw=1e9), start_month="2026-04"))
    assert r.tables.contracts.empty
    summary = (write_plan(r, tmp_path / "run") / "summary.md").read_text(encoding="utf-8")
    assert "Declined: C (cloud: equivalent $1,168.80/kW-month before GPU capex)." in summary
