"""The ``realloc`` command line: exit codes, clean error messages, files written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from realloc.cli import main
from realloc.inputs import load_portfolio
from realloc.inputs.examples import example_path
from realloc.inputs.excel_writer import write_excel

PLAN_FILES = [
    "summary.json",
    "plan.csv",
    "treasury.csv",
    "conversions.csv",
    "contracts.csv",
    "shadow_prices.csv",
    "summary.md",
]


def tiny_portfolio(**treasury) -> dict:
    """One site, one fleet, one offered contract, 12 months: solves in well under a second."""
    return {
        "name": "Tiny miner",
        "start_month": "2026-03",
        "months": 12,
        "sites": [
            {
                "name": "Solo",
                "grid_mw": 20,
                "power_price_usd_per_mwh": 45,
                "fleets": [{"name": "Solo S21", "power_mw": 18, "efficiency_j_per_th": 17.5}],
                "conversion": {
                    "max_it_mw": 10,
                    "capex_usd_per_it_mw": 9_000_000,
                    "lead_months": 3,
                },
            }
        ],
        "contracts": [
            {
                "name": "Tenant",
                "rate_usd_per_kw_month": 150,
                "start_month": "2026-09",
                "term_months": 60,
                "max_it_mw": 10,
                "eligible_sites": ["Solo"],
            }
        ],
        "market": {"btc_price_usd": 67_000, "hashprice_usd_per_ph_day": 35},
        "treasury": {"btc": 100, "cash_usd": 20_000_000, **treasury},
    }


def write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_validate_example(runner: CliRunner) -> None:
    result = runner.invoke(main, ["validate", str(example_path())])
    assert result.exit_code == 0, result.output
    assert "ok (Northwind Digital" in result.output
    assert "5 sites" in result.output and "60 months from 2026-03" in result.output


def test_validate_excel(runner: CliRunner, tmp_path: Path) -> None:
    path = write_excel(load_portfolio(example_path()), tmp_path / "northwind.xlsx")
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "ok (Northwind Digital" in result.output


def test_validate_bad_file(runner: CliRunner, tmp_path: Path) -> None:
    data = tiny_portfolio()
    data["sites"][0]["grid_mw"] = -20
    path = write(tmp_path / "broken_portfolio.yaml", data)
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert "error:" in result.output
    assert "broken_portfolio.yaml" in result.output
    assert "sites[Solo].grid_mw" in result.output and "greater than 0" in result.output
    assert "Traceback" not in result.output


def test_validate_bad_excel_cell(runner: CliRunner, tmp_path: Path) -> None:
    import openpyxl

    path = write_excel(load_portfolio(example_path()), tmp_path / "northwind.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["sites"]["B2"] = "=300"
    wb.save(path)
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert "error:" in result.output and "northwind.xlsx" in result.output
    assert "sheet 'sites', row 2, column grid_mw" in result.output
    assert "Traceback" not in result.output


def test_validate_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["validate", str(tmp_path / "nowhere.yaml")])
    assert result.exit_code == 2
    assert "error:" in result.output and "nowhere.yaml" in result.output
    assert "Traceback" not in result.output


def test_unknown_extension(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "portfolio.txt"
    path.write_text("name: x\n", encoding="utf-8")
    for command in ("validate", "plan"):
        result = runner.invoke(main, [command, str(path)])
        assert result.exit_code == 2, (command, result.output)
        assert "error:" in result.output and "unknown file type '.txt'" in result.output
        assert "Traceback" not in result.output


def test_example_writes_files_that_validate(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "my_portfolio"
    result = runner.invoke(main, ["example", str(folder)])
    assert result.exit_code == 0, result.output
    assert (folder / "gigawatt_miner.yaml").is_file()
    assert (folder / "gigawatt_miner_market.csv").is_file()
    result = runner.invoke(main, ["validate", str(folder / "gigawatt_miner.yaml")])
    assert result.exit_code == 0, result.output
    assert load_portfolio(folder / "gigawatt_miner.yaml") == load_portfolio(example_path())


def test_plan_tiny_portfolio(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path / "tiny.yaml", tiny_portfolio())
    out = tmp_path / "out"
    result = runner.invoke(main, ["plan", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in PLAN_FILES:
        assert (out / name).is_file(), name
    assert not (out / "funding_gap.csv").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["portfolio"] == "Tiny miner"
    assert summary["status"] == "optimal"
    assert "Traceback" not in result.output


def test_plan_unfunded_exits_3_with_diagnosis(runner: CliRunner, tmp_path: Path) -> None:
    data = tiny_portfolio(btc=0, cash_usd=0, min_cash_usd=1e9)
    path = write(tmp_path / "broke.yaml", data)
    out = tmp_path / "out"
    result = runner.invoke(main, ["plan", str(path), "--out", str(out)])
    assert result.exit_code == 3, result.output
    assert (out / "funding_gap.csv").is_file()
    gap = (out / "funding_gap.csv").read_text().splitlines()
    assert gap[0] == "month,gap_usd" and len(gap) > 1
    assert "cannot be funded" in (out / "summary.md").read_text()
    assert "cannot be funded" in result.output
    assert "Traceback" not in result.output


def _commands() -> list[list[str]]:
    return [[], *([name] for name in sorted(main.commands))]


@pytest.mark.parametrize("command", _commands(), ids=lambda c: " ".join(c) or "realloc")
def test_help_has_example(runner: CliRunner, command: list[str]) -> None:
    result = runner.invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output


def test_plan_report_and_report_command(tmp_path: Path) -> None:
    from realloc.cli import main as cli

    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["plan", "--report", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "report.html").exists() and (out / "report.xlsx").exists()
    again = tmp_path / "again"
    res = CliRunner().invoke(cli, ["report", str(out), "--format", "html", "--out", str(again)])
    assert res.exit_code == 0, res.output
    assert (again / "report.html").exists() and not (again / "report.xlsx").exists()
    res = CliRunner().invoke(cli, ["report", str(out), "--format", "html,docx"])
    assert res.exit_code == 2 and "docx" in res.output
