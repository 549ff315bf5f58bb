"""Financing inputs: hostile values exit 2 naming the file and field; the Excel template and the
sweep/breakeven paths reach every source."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from realloc.inputs.excel_loader import load_excel
from realloc.inputs.excel_writer import write_excel
from realloc.inputs.overrides import overridden, parse_override
from tests.helpers import run_cli, tiny, tiny_financing


def _yaml(tmp_path: Path, fin: dict) -> Path:
    data = tiny().model_dump(mode="json")
    data["financing"] = fin
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _with(kind: str, **change) -> dict:
    fin = tiny_financing()
    if kind == "equity":
        fin["equity"].update(change)
    else:
        fin[kind][0].update(change)
    return fin


HOSTILE = [
    (_with("btc_loans", rate_per_year=float("nan")), "rate_per_year"),
    (_with("btc_loans", max_usd=float("inf")), "max_usd"),
    (_with("btc_loans", max_usd=-5), "max_usd"),
    (_with("btc_loans", max_ltv_share=1.5), "max_ltv_share"),
    (_with("btc_loans", fee_share="a lot"), "fee_share"),
    (_with("btc_loans", maturity_month="2025-12"), "maturity_month"),
    (_with("btc_loans", first_month="2030-01", maturity_month="2031-01"), "first_month"),
    (_with("btc_loans", first_month="2026-13"), "first_month"),
    (_with("notes", min_usd=5e7), "min_usd"),
    (_with("notes", last_month="2026-01"), "last_month"),
    (_with("notes", first_month="2025-06"), "first_month"),
    (_with("notes", term_months=0), "term_months"),
    (_with("project_loans", site="Nowhere"), "site"),
    (_with("project_loans", max_loan_to_cost_share=0), "max_loan_to_cost_share"),
    (_with("project_loans", min_dscr=-1), "min_dscr"),
    (_with("equity", max_usd_total=True), "max_usd_total"),
    (_with("equity", colour="red"), "colour"),
    (_with("notes", name="L"), "name"),
    (_with("btc_loans", name="ATM equity"), "name"),
    (_with("project_loans", name="BTC sold from the stack"), "name"),
]


@pytest.mark.parametrize(("fin", "field"), HOSTILE)
def test_hostile_financing_exits_2_naming_file_and_field(fin, field, tmp_path):
    path = _yaml(tmp_path, fin)
    code, out = run_cli("plan", path, "--out", tmp_path / "out")
    assert code == 2, out
    assert "p.yaml" in out and field in out, out


def test_project_loan_at_a_site_without_conversion_is_refused(tmp_path):
    data = tiny().model_dump(mode="json")
    data["sites"].append(
        dict(
            name="B",
            grid_mw=10,
            power_price_usd_per_mwh=40,
            fleets=[dict(name="S21", power_mw=5, efficiency_j_per_th=17.5)],
        )
    )
    data["financing"] = _with("project_loans", site="B")
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    code, out = run_cli("plan", path, "--out", tmp_path / "out")
    assert code == 2 and "no conversion section" in out, out


def test_excel_template_round_trips_the_financing_section(tmp_path):
    p = tiny(financing=tiny_financing())
    write_excel(p, tmp_path / "p.xlsx")
    assert load_excel(tmp_path / "p.xlsx").financing == p.financing
    bare = tiny()
    write_excel(bare, tmp_path / "bare.xlsx")
    assert load_excel(tmp_path / "bare.xlsx").financing is None


def test_sweep_paths_reach_each_source_by_name():
    p = tiny(financing=tiny_financing())
    q = overridden(
        p,
        [
            parse_override("financing.btc_loans[L].rate_per_year", 0.03),
            parse_override("financing.notes[N].coupon_per_year", 0.01),
            parse_override("financing.project_loans[P].max_loan_to_cost_share", 0.5),
            parse_override("financing.equity.fee_share", 0.05),
        ],
    )
    fin = q.financing
    assert fin.btc_loans[0].rate_per_year == 0.03
    assert fin.notes[0].coupon_per_year == 0.01
    assert fin.project_loans[0].max_loan_to_cost_share == 0.5
    assert fin.equity.fee_share == 0.05
    with pytest.raises(ValueError, match="BTC-backed loan"):
        overridden(p, [parse_override("financing.btc_loans[Galaxy].rate_per_year", 0.03)])
