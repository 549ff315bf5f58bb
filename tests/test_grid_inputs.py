"""The grid and block fields everywhere inputs come in: YAML, the Excel template (round trip),
sweep override paths; hostile values exit 2 naming the file, row and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from realloc.cli import main
from realloc.inputs import load_portfolio
from realloc.inputs.excel_writer import write_excel
from realloc.inputs.overrides import overridden, parse_override
from tests.helpers import tiny

GRID = dict(
    sites__0__grid_hold_cost_usd_per_mw_month=1500.0,
    sites__0__grid_sale_usd_per_mw=250_000.0,
    sites__0__grid_sale_first_month="2026-06",
    sites__0__conversion__block_it_mw=25.0,
)


def _yaml(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_yaml_and_excel_round_trip(tmp_path: Path):
    p = tiny(**GRID)
    from_yaml = load_portfolio(_yaml(tmp_path, p.model_dump(mode="json")))
    assert from_yaml == p
    from_excel = load_portfolio(write_excel(p, tmp_path / "p.xlsx"))
    # (the writer spells a one-number market series as one value per month)
    assert from_excel.sites == p.sites
    assert from_excel.sites[0].conversion.block_it_mw == 25.0
    assert from_excel.sites[0].grid_sale_first_month == "2026-06"
    # absent fields stay absent through Excel
    assert load_portfolio(write_excel(tiny(), tmp_path / "q.xlsx")).sites == tiny().sites


def test_sweep_paths_reach_the_fields_by_name():
    p = tiny(**GRID)
    out = overridden(
        p,
        [
            parse_override("sites[A].grid_sale_usd_per_mw", {"scale": 2}),
            parse_override("sites[A].grid_hold_cost_usd_per_mw_month", {"add": 500}),
            parse_override("sites[A].conversion.block_it_mw", 10),
        ],
    )
    site = out.sites[0]
    assert site.grid_sale_usd_per_mw == 500_000.0
    assert site.grid_hold_cost_usd_per_mw_month == 2000.0
    assert site.conversion.block_it_mw == 10.0
    # set on a portfolio without them
    fresh = overridden(tiny(), [parse_override("sites[*].grid_sale_usd_per_mw", 1e5)])
    assert fresh.sites[0].grid_sale_usd_per_mw == 1e5


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("grid_hold_cost_usd_per_mw_month", -1.0, "grid_hold_cost_usd_per_mw_month"),
        ("grid_hold_cost_usd_per_mw_month", ".nan", "grid_hold_cost_usd_per_mw_month"),
        ("grid_sale_usd_per_mw", -5.0, "grid_sale_usd_per_mw"),
        ("grid_sale_usd_per_mw", ".inf", "grid_sale_usd_per_mw"),
        ("grid_sale_usd_per_mw", "lots", "grid_sale_usd_per_mw"),
        ("grid_sale_first_month", "2026-13", "grid_sale_first_month"),
        ("block_it_mw", 0.0, "block_it_mw"),
        ("block_it_mw", -25.0, "block_it_mw"),
        ("block_it_mw", ".nan", "block_it_mw"),
    ],
)
def test_hostile_values_exit_2_naming_the_field(tmp_path: Path, field, value, fragment):
    data = tiny(sites__0__grid_sale_usd_per_mw=1e5).model_dump(mode="json")
    target = data["sites"][0]["conversion"] if field == "block_it_mw" else data["sites"][0]
    target[field] = value
    text = yaml.safe_dump(data, sort_keys=False)
    text = text.replace("'.nan'", ".nan").replace("'.inf'", ".inf")
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    res = CliRunner().invoke(main, ["plan", str(path), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert fragment in res.output and "p.yaml" in res.output
    assert "line" in res.output  # the YAML line of the field


def test_first_sale_month_without_a_price_is_refused(tmp_path: Path):
    data = tiny().model_dump(mode="json")
    data["sites"][0]["grid_sale_first_month"] = "2026-03"
    out = str(tmp_path / "o")
    res = CliRunner().invoke(main, ["plan", str(_yaml(tmp_path, data)), "--out", out])
    assert res.exit_code == 2
    assert "grid_sale_first_month" in res.output and "grid_sale_usd_per_mw" in res.output


def test_excel_refuses_a_bad_block_naming_the_cell(tmp_path: Path):
    import openpyxl

    path = write_excel(tiny(**GRID), tmp_path / "p.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["conversions"]
    header = [c.value for c in ws[1]]
    ws.cell(row=2, column=header.index("block_it_mw") + 1, value=-3)
    wb.save(path)
    res = CliRunner().invoke(main, ["plan", str(path), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    assert "conversions" in res.output and "block_it_mw" in res.output
    assert "row 2" in res.output or "2" in res.output


def test_a_site_with_only_a_grid_sale_is_valid(tmp_path: Path):
    data = tiny().model_dump(mode="json")
    data["sites"].append(
        dict(name="Land", grid_mw=30, power_price_usd_per_mwh=40, grid_sale_usd_per_mw=1e5)
    )
    p = load_portfolio(_yaml(tmp_path, data))
    assert p.sites[1].grid_sale_usd_per_mw == 1e5
