"""Hostile values: numbers the command line or an input file must refuse (exit 2, a message that
names the option or field and the fix), and exit codes that must not claim success.

Issue 12, items 8–10. Every case here was accepted (or crashed with exit 1) before its fix.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from realloc.cli import main
from tests.helpers import tiny

SOLVER_OPTIONS_CASES = [
    ("--mip-gap", "-1", "out of range"),
    ("--mip-gap", "nan", "not a finite number"),
    ("--mip-gap", "inf", "not a finite number"),
    ("--mip-gap", "2", "out of range"),
    ("--time-limit", "-5", "out of range"),
    ("--time-limit", "0", "out of range"),
    ("--time-limit", "nan", "not a finite number"),
    ("--time-limit", "inf", "not a finite number"),
    ("--time-limit", "１０", "ASCII"),
]


def _portfolio(tmp_path: Path, **overrides) -> Path:
    path = tmp_path / "p.yaml"
    data = tiny(**overrides).model_dump(mode="json")
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _run(args: list[str]):
    return CliRunner().invoke(main, args)


def _refused(res, *fragments: str) -> None:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    for fragment in fragments:
        assert fragment in res.output, res.output


@pytest.mark.parametrize(("option", "value", "fragment"), SOLVER_OPTIONS_CASES)
def test_plan_refuses_a_bad_solver_option(tmp_path: Path, option, value, fragment) -> None:
    res = _run(["plan", str(_portfolio(tmp_path)), "--out", str(tmp_path / "o"), option, value])
    _refused(res, option, fragment)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("option", "value", "fragment"), SOLVER_OPTIONS_CASES[:5])
def test_sweep_and_breakeven_refuse_a_bad_solver_option(
    tmp_path: Path, option, value, fragment
) -> None:
    p = _portfolio(tmp_path)
    grid = tmp_path / "g.yaml"
    grid.write_text("variants:\n  base: {}\n", encoding="utf-8")
    _refused(_run(["sweep", str(p), str(grid), "--out", str(tmp_path / "s"), option, value]))
    _refused(_run(["breakeven", str(p), "--param", "grid_mw", "--site", "A", option, value]))


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--stochastic", "--paths", "0"], "--paths"),
        (["--stochastic", "--paths", "10001"], "--paths"),
        (["--stochastic", "--paths", "٣"], "ASCII"),
        (["--stochastic", "--paths", "1" * 5000], "--paths"),
        (["--stochastic", "--cvar-alpha", "nan"], "--cvar-alpha"),
        (["--stochastic", "--cvar-alpha", "1"], "--cvar-alpha"),
        (["--stochastic", "--risk-weight", "nan"], "--risk-weight"),
        (["--stochastic", "--risk-weight", "-0.1"], "--risk-weight"),
        (["--stochastic", "--frontier", "0,nan"], "--frontier"),
        (["--stochastic", "--frontier", "0,inf"], "--frontier"),
        (["--stochastic", "--frontier", ","], "--frontier"),
    ],
)
def test_plan_refuses_a_bad_stochastic_option(tmp_path: Path, args, fragment) -> None:
    res = _run(["plan", str(_portfolio(tmp_path)), "--out", str(tmp_path / "o"), *args])
    _refused(res, fragment)


@pytest.mark.parametrize(
    "args",
    [
        ["--workers", "0"],
        ["--workers", "100000"],
        ["--workers", "nan"],
    ],
)
def test_sweep_refuses_a_bad_worker_count(tmp_path: Path, args) -> None:
    grid = tmp_path / "g.yaml"
    grid.write_text("variants:\n  base: {}\n", encoding="utf-8")
    res = _run(["sweep", str(_portfolio(tmp_path)), str(grid), "--out", str(tmp_path / "s"), *args])
    _refused(res, "--workers")


@pytest.mark.parametrize(
    "args",
    [
        ["--lo", "nan"],
        ["--hi", "inf"],
        ["--tol", "nan"],
        ["--tol", "0"],
        ["--threshold", "-1"],
        ["--threshold", "nan"],
    ],
)
def test_breakeven_refuses_a_bad_number(tmp_path: Path, args) -> None:
    p = _portfolio(tmp_path)
    res = _run(["breakeven", str(p), "--param", "grid_mw", "--site", "A", *args])
    _refused(res, args[0])


@pytest.mark.parametrize(
    "args",
    [
        ["--risk-weight", "0.3"],
        ["--cvar-alpha", "0.9"],
        ["--paths", "10"],
        ["--frontier", "0,1"],
        ["--frontier", "none"],
    ],
)
def test_stochastic_only_options_need_stochastic(tmp_path: Path, args) -> None:
    res = _run(["plan", str(_portfolio(tmp_path)), "--out", str(tmp_path / "o"), *args])
    _refused(res, args[0], "--stochastic")
    assert not (tmp_path / "o").exists()


def test_paths_and_forecast_are_refused_with_a_scenario_file(tmp_path: Path) -> None:
    scenarios = tmp_path / "s.yaml"
    scenarios.write_text(
        "scenarios:\n  - {name: a, probability: 1, market: {btc_price_usd: 70000, "
        "hashprice_usd_per_ph_day: 35}}\n",
        encoding="utf-8",
    )
    p = str(_portfolio(tmp_path))
    out = str(tmp_path / "o")
    res = _run(["plan", p, "--scenarios", str(scenarios), "--paths", "5", "--out", out])
    _refused(res, "--paths", "--scenarios")
    res = _run(["plan", p, "--scenarios", str(scenarios), "--forecast", p, "--out", out])
    _refused(res, "--forecast", "--scenarios")


def test_time_limit_before_any_plan_exits_4(tmp_path: Path) -> None:
    """No plan is not success: the time limit striking before the solver finds any plan exits
    4 (README exit codes), with the diagnosis on stderr and in summary.md."""
    out = tmp_path / "o"
    res = _run(["plan", "--out", str(out), "--time-limit", "1e-9"])  # the bundled example
    assert res.exit_code == 4, res.output
    assert "time limit" in res.output
    assert json.loads((out / "summary.json").read_text())["status"] == "time_limit"


def test_time_limit_before_any_stochastic_plan_exits_4(tmp_path: Path) -> None:
    scenarios = tmp_path / "s.yaml"
    scenarios.write_text(
        "scenarios:\n"
        "  - {name: a, probability: 0.5, market: {btc_price_usd: 70000, "
        "hashprice_usd_per_ph_day: 35}}\n"
        "  - {name: b, probability: 0.5, market: {btc_price_usd: 50000, "
        "hashprice_usd_per_ph_day: 25}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "o"
    args = ["plan", str(_portfolio(tmp_path)), "--scenarios", str(scenarios), "--out", str(out)]
    res = _run([*args, "--time-limit", "1e-9"])
    assert res.exit_code == 4, res.output
    assert _run(args).exit_code == 0


def test_a_relaxed_plan_says_so_at_the_top_of_summary_md(tmp_path: Path) -> None:
    p = _portfolio(tmp_path, contracts__0__min_it_mw=20)
    out = tmp_path / "o"
    assert _run(["plan", str(p), "--out", str(out), "--relax"]).exit_code == 0
    head = (out / "summary.md").read_text().split("## ")[0]
    assert "Relaxed plan (--relax)" in head
    assert json.loads((out / "summary.json").read_text())["solver"]["relaxed_min_commitments"]
    plain = tmp_path / "plain"
    assert _run(["plan", str(p), "--out", str(plain)]).exit_code == 0
    assert "Relaxed" not in (plain / "summary.md").read_text()


# ---- input files: numbers and months as written ----------------------------------------------


def _validate_text(tmp_path: Path, text: str):
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    return _run(["validate", str(path)])


def _tiny_yaml(**overrides) -> str:
    return yaml.safe_dump(tiny(**overrides).model_dump(mode="json"), sort_keys=False)


@pytest.mark.parametrize(
    "month",
    ["２０２６-01", "٢٠٢٦-01", "2026-０１", "२०२६-01", "𝟐𝟎𝟐𝟔-01"],
)
def test_months_in_non_ascii_digits_are_refused(tmp_path: Path, month: str) -> None:
    text = _tiny_yaml().replace("start_month: 2026-01", f"start_month: '{month}'", 1)
    assert month in text
    _refused(_validate_text(tmp_path, text), "start_month", "YYYY-MM")


def test_series_text_in_non_ascii_digits_is_refused(tmp_path: Path) -> None:
    text = _tiny_yaml().replace(
        "hashprice_usd_per_ph_day: 35.0", "hashprice_usd_per_ph_day: '３５'"
    )
    assert "'３５'" in text
    _refused(_validate_text(tmp_path, text), "hashprice_usd_per_ph_day", "expected a number")


@pytest.mark.parametrize(
    ("written", "fragment"),
    [("1:30", "'1:30'"), ("0x1F", "'0x1F'"), ("0b11", "'0b11'"), ("1:30:00", "'1:30:00'")],
)
def test_yaml_11_number_forms_are_text_not_numbers(tmp_path: Path, written, fragment) -> None:
    """YAML 1.1 reads 1:30 as 90 (base 60) and 0x1F as 31; realloc reads numbers as decimal
    only, so these stay text and validation refuses them at their line."""
    text = _tiny_yaml().replace("lead_months: 0", f"lead_months: {written}", 1)
    _refused(_validate_text(tmp_path, text), "lead_months", fragment, "line ")


def test_a_leading_zero_is_decimal_not_octal(tmp_path: Path) -> None:
    text = _tiny_yaml().replace("months: 12", "months: 012", 1)
    res = _validate_text(tmp_path, text)
    assert res.exit_code == 0, res.output
    assert "12 months" in res.output  # YAML 1.1 would read 012 as 10


def test_sexagesimal_stays_text_in_forecast_and_variant_files(tmp_path: Path) -> None:
    from realloc.inputs.examples import example_dir

    spec = (example_dir() / "forecast_base.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "spec.yaml"
    bad.write_text(spec.replace("months: 60", "months: 1:00", 1), encoding="utf-8")
    _refused(_run(["forecast", str(bad), "--out", str(tmp_path / "f")]), "months", "'1:00'")
    p = _portfolio(tmp_path)
    grid = tmp_path / "g.yaml"
    grid.write_text("variants:\n  slow:\n    sites[A].conversion.lead_months: 1:30\n")
    res = _run(["sweep", str(p), str(grid), "--out", str(tmp_path / "s"), "--workers", "1"])
    assert res.exit_code == 3, res.output  # the one variant is invalid: nothing to plan
    import pandas as pd

    row = pd.read_parquet(tmp_path / "s" / "variants.parquet").iloc[0]
    assert row["status"] == "invalid" and "'1:30'" in row["reason"]


@pytest.mark.parametrize("field", ["months", "sites[0].conversion.lead_months"])
def test_an_integer_of_thousands_of_digits_is_refused(tmp_path: Path, field: str) -> None:
    key = field.rsplit(".", 1)[-1]
    old = {"months": "months: 12", "lead_months": "lead_months: 0"}[key]
    text = _tiny_yaml().replace(old, f"{key}: {'1' * 5000}", 1)
    res = _validate_text(tmp_path, text)
    _refused(res, "5,000 digits", "line ")
    assert "1" * 200 not in res.output  # the number is not echoed whole


def test_a_quoted_integer_of_thousands_of_digits_is_refused(tmp_path: Path) -> None:
    text = _tiny_yaml().replace("months: 12", f"months: '{'9' * 5000}'", 1)
    _refused(_validate_text(tmp_path, text), "months")


def test_a_forecast_spec_of_thousands_of_digits_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"start_month: 2026-03\nmonths: {'1' * 5000}\n", encoding="utf-8")
    _refused(_run(["forecast", str(spec), "--out", str(tmp_path / "f")]), "5,000 digits")


# ---- series length and contracts that cannot be served -----------------------------------------


@pytest.mark.parametrize(
    "field", ["market.hashprice_usd_per_ph_day", "sites.0.power_price_usd_per_mwh"]
)
def test_an_inline_series_longer_than_the_horizon_is_refused(tmp_path: Path, field: str) -> None:
    data = tiny().model_dump(mode="json")
    node = data
    *parents, last = field.split(".")
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    node[last] = [40.0] * 13  # the horizon has 12 months
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    res = _run(["validate", str(path)])
    _refused(res, last, "13 values", "12 months", "line ")


def test_a_scenario_file_series_longer_than_the_horizon_is_refused(tmp_path: Path) -> None:
    scenarios = tmp_path / "s.yaml"
    scenarios.write_text(
        "scenarios:\n  - {name: a, probability: 1, market: {btc_price_usd: 70000, "
        f"hashprice_usd_per_ph_day: {[35.0] * 13}}}}}\n",
        encoding="utf-8",
    )
    res = _run(["plan", str(_portfolio(tmp_path)), "--scenarios", str(scenarios), "--out", "o"])
    _refused(res, "has 13 months", "plans 12")


def test_a_contract_only_eligible_where_nothing_can_convert_is_declined_and_said(
    tmp_path: Path,
) -> None:
    """The stated rule (README input rules): valid input, declined, and every command says so
    naming the contract and the sites (validate and plan on stderr, summary.md)."""
    data = tiny().model_dump(mode="json")
    data["sites"][0]["conversion"] = None
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    res = _run(["validate", str(path)])
    assert res.exit_code == 0, res.output
    assert "contract 'H' is eligible only at 'A' (no conversion section)" in res.output
    data["sites"][0]["conversion"] = tiny().sites[0].conversion.model_dump(mode="json")
    data["sites"][0]["conversion"]["max_it_mw"] = 0
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    out = tmp_path / "o"
    res = _run(["plan", str(path), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "contract 'H' is eligible only at 'A' (max_it_mw 0)" in res.output
    assert "declined" in res.output
    summary_md = (out / "summary.md").read_text()  # names and fields escaped for Markdown
    assert "contract 'H' is eligible only at 'A' (max\\_it\\_mw 0)" in summary_md
    assert "H" not in (out / "contracts.csv").read_text().split("\n", 1)[1]  # declined


def test_a_contract_with_one_convertible_site_among_others_is_fine(tmp_path: Path) -> None:
    data = tiny().model_dump(mode="json")
    data["sites"].append(
        {
            "name": "B",
            "grid_mw": 10,
            "power_price_usd_per_mwh": 40,
            "fleets": [{"name": "S9", "power_mw": 10, "efficiency_j_per_th": 90}],
        }
    )
    data["contracts"][0]["eligible_sites"] = ["B", "A"]
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    res = _run(["validate", str(path)])
    assert res.exit_code == 0 and "note:" not in res.output, res.output


# ---- crashes after the work was done -----------------------------------------------------------


def test_forecast_longer_than_the_portfolios_power_prices(tmp_path: Path) -> None:
    """A forecast past the end of the portfolio's monthly power prices holds the last month's
    price (and before the start, the first's), and says so."""
    import pandas as pd

    from realloc.inputs.examples import example_dir

    spec = yaml.safe_load((example_dir() / "forecast_base.yaml").read_text(encoding="utf-8"))
    spec.update(start_month="2026-01", months=72, paths=3)  # the example runs 2026-03 + 60
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    out = tmp_path / "f"
    res = _run(["forecast", str(path), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "2 month(s) before" in res.output and "10 month(s) after" in res.output
    table = pd.read_csv(out / "breakeven.csv")
    pecos = table[table["group"] == "Pecos S21"].set_index("month")["power_price_usd_per_mwh"]
    own = pd.read_csv(example_dir() / "gigawatt_miner_market.csv").set_index("month")
    own = own["pecos_power_usd_per_mwh"]
    assert pecos["2026-01"] == pecos["2026-02"] == own.iloc[0]
    assert pecos["2026-03"] == own["2026-03"] and pecos["2030-07"] == own["2030-07"]
    assert (pecos.loc["2031-02":] == own.iloc[-1]).all() and len(pecos) == 72


def test_a_sweep_variant_renaming_the_portfolio_is_stored(tmp_path: Path) -> None:
    import pandas as pd

    grid = tmp_path / "g.yaml"
    grid.write_text("variants:\n  renamed:\n    name: Other name\n  base: {}\n")
    out = tmp_path / "s"
    res = _run(["sweep", str(_portfolio(tmp_path)), str(grid), "--out", str(out), "--workers", "1"])
    assert res.exit_code == 0, res.output
    frame = pd.read_parquet(out / "variants.parquet")
    assert list(frame["name"]) == ["renamed", "base"]
    assert frame["name:set"].iloc[0] == "Other name"
    assert list(frame["status"]) == ["optimal", "optimal"]
    assert _run(["compare", str(out)]).exit_code == 0


def test_no_portfolio_field_collides_with_a_variant_table_column() -> None:
    from realloc.inputs.overrides import Override
    from realloc.models import Portfolio
    from realloc.reports.sweep_store import META_COLUMNS, RESULT_COLUMNS, TAIL_COLUMNS

    own = set(META_COLUMNS + RESULT_COLUMNS + TAIL_COLUMNS)
    for field in Portfolio.model_fields:
        assert Override(field, "set", 1).column not in own, field


@pytest.mark.parametrize("selector", ["²", "１", "٣"])
def test_a_month_selector_in_non_ascii_digits_is_refused(tmp_path: Path, selector: str) -> None:
    """'²'.isdigit() is True but int('²') fails: the sweep ended in an internal error."""
    grid = tmp_path / "g.yaml"
    grid.write_text(f"variants:\n  x:\n    market.btc_price_usd[{selector}]: 5\n", encoding="utf-8")
    p = _portfolio(tmp_path, market__btc_price_usd=[70000.0] * 12)
    res = _run(["sweep", str(p), str(grid), "--out", str(tmp_path / "s"), "--workers", "1"])
    _refused(res, f"[{selector}] must be a month number")


@pytest.mark.parametrize(("cell", "text"), [("B2", "７００００"), ("A2", "２０２６-01")])
def test_excel_cells_in_non_ascii_digits_are_refused(tmp_path: Path, cell, text) -> None:
    import openpyxl

    from realloc.inputs.excel_writer import write_excel

    path = tmp_path / "p.xlsx"
    write_excel(tiny(), path)
    wb = openpyxl.load_workbook(path)
    wb["market"][cell] = text
    wb.save(path)
    _refused(_run(["validate", str(path)]), "market", repr(text))
