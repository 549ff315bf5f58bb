"""`realloc diff PLAN_A PLAN_B`: two plan folders side by side (issue 13, item 5).

Every figure of the diff is checked against arithmetic on the two summary.json files (B − A is
the difference of the summaries' values), the differing input is listed as a variant path,
identical plans read "no differences", a folder that is not a plan exits 2, and names reach the
CSV files and the page without being acted on.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import realloc
from realloc.cli import main
from realloc.reports.atomic import DIFF_FILES, MARKER
from realloc.reports.plan_diff_md import NO_DIFFERENCES
from realloc.reports.safe_text import read_csv_text
from tests.helpers import tiny

NASTY = "=cmd|' /C calc'!A0 <b>x</b>"
"""A contract name a spreadsheet would run and a Markdown viewer would render."""

SCENARIOS = {
    "scenarios": [
        {
            "name": "bust",
            "probability": 0.4,
            "market": {"btc_price_usd": 60_000, "hashprice_usd_per_ph_day": 25},
        },
        {
            "name": "boom",
            "probability": 0.6,
            "market": {"btc_price_usd": 80_000, "hashprice_usd_per_ph_day": 45},
        },
    ]
}


def _plan(folder: Path, name: str, *extra: str, **changes) -> Path:
    """Plan ``tiny(**changes)`` with the CLI into ``folder/name``; the plan folder."""
    portfolio = folder / f"{name}.yaml"
    data = tiny(**changes).model_dump(mode="json")
    portfolio.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    out = folder / name
    result = CliRunner().invoke(main, ["plan", str(portfolio), "--out", str(out), *extra])
    assert result.exit_code in (0, 3), result.output
    return out


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> dict[str, Path]:
    """Plan folders of tiny variants: the base, hashprice 70 instead of 35, the contract at
    $60/kW-month instead of $150 (not worth converting), a second run of the base, an unfunded
    plan, a stochastic plan over two market paths, an infeasible plan (a signed contract no
    hall can be ready for) and a contract with a hostile name."""
    root = tmp_path_factory.mktemp("plans")
    (root / "s.yaml").write_text(yaml.safe_dump(SCENARIOS), encoding="utf-8")
    return {
        "base": _plan(root, "base"),
        "again": _plan(root, "again"),
        "hashprice70": _plan(root, "hashprice70", market__hashprice_usd_per_ph_day=70),
        "rate60": _plan(root, "rate60", contracts__0__rate_usd_per_kw_month=60),
        "broke": _plan(root, "broke", treasury__cash_usd=0, treasury__min_cash_usd=1e9),
        "risky": _plan(root, "risky", "--scenarios", str(root / "s.yaml"), "--frontier", "none"),
        "late": _plan(
            root, "late", sites__0__conversion__lead_months=4, contracts__0__signed_it_mw={"A": 50}
        ),
        "nasty150": _plan(root, "nasty150", contracts__0__name=NASTY),
        "nasty60": _plan(
            root, "nasty60", contracts__0__name=NASTY, contracts__0__rate_usd_per_kw_month=60
        ),
    }


def _diff(a: Path, b: Path, *extra: str):
    return CliRunner().invoke(main, ["diff", str(a), str(b), *extra])


def _summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def _numbers(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    return frame.assign(**{c: pd.to_numeric(frame[c].replace("", None)) for c in columns})


def test_headline_and_value_bridge_are_b_minus_a_of_the_summaries(plans, tmp_path) -> None:
    out = tmp_path / "d"
    result = _diff(plans["base"], plans["hashprice70"], "--out", str(out))
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == DIFF_FILES | {MARKER}
    a, b = _summary(plans["base"]), _summary(plans["hashprice70"])
    head = read_csv_text(out / "diff_headline.csv").set_index("figure")
    keys = ["value_usd", "baseline_value_usd", "uplift_usd", "btc_sold_total"]
    keys += ["usd_raised_total", "it_mw_converted_total", "min_cash_usd"]
    for key in keys:
        row = head.loc[key]
        assert float(row["a"]) == pytest.approx(a[key], rel=1e-12, abs=1e-9), key
        assert float(row["b"]) == pytest.approx(b[key], rel=1e-12, abs=1e-9), key
        assert float(row["b_minus_a"]) == pytest.approx(b[key] - a[key], abs=1e-6), key
    assert b["value_usd"] > a["value_usd"]  # mining pays twice as much per PH
    bridge = _numbers(read_csv_text(out / "diff_value_bridge.csv"), "a_usd", "b_usd")
    bridge = bridge.set_index("term")
    for term, va in a["value_terms_usd"].items():
        vb = b["value_terms_usd"][term]
        assert bridge.loc[term, "a_usd"] == pytest.approx(va, abs=1e-6)
        assert float(bridge.loc[term, "b_minus_a_usd"]) == pytest.approx(vb - va, abs=1e-6)
    value_row = bridge.loc["value_usd"]
    assert float(value_row["b_minus_a_usd"]) == pytest.approx(b["value_usd"] - a["value_usd"])
    page = (out / "diff.md").read_text(encoding="utf-8")
    assert result.output.endswith(page)  # the page is printed, after the "wrote" line
    assert "## Value bridge" in page and "Mining revenue" in page


def test_the_differing_input_is_listed_as_a_variant_path(plans, tmp_path) -> None:
    result = _diff(plans["base"], plans["hashprice70"], "--out", str(tmp_path / "d"))
    assert "market.hashprice\\_usd\\_per\\_ph\\_day: 35 → 70" in result.output
    inputs = read_csv_text(tmp_path / "d" / "diff_inputs.csv")
    assert inputs.to_dict("records") == [
        {"path": "market.hashprice_usd_per_ph_day", "month": "", "a": "35.0", "b": "70.0",
         "b_minus_a": "35.0"},
    ]  # fmt: skip
    # the path is the what-if language: applying it to A's portfolio gives B's inputs
    changed = realloc.api.Portfolio.model_validate(tiny().model_dump()).with_changes(
        {row["path"]: float(row["b"]) for row in inputs.to_dict("records")}
    )
    assert changed.model_dump(mode="json") == json.loads(
        (plans["hashprice70"] / "inputs.json").read_text(encoding="utf-8")
    )


def test_decisions_of_a_contract_not_worth_converting_for(plans, tmp_path) -> None:
    result = _diff(plans["base"], plans["rate60"], "--out", str(tmp_path / "d"))
    assert result.exit_code == 0, result.output
    rows = read_csv_text(tmp_path / "d" / "diff_decisions.csv")
    by_kind = {r["kind"]: r for r in rows.to_dict("records")}
    conversion, contract = by_kind["conversion"], by_kind["contract"]
    assert (conversion["a"], conversion["b"]) == ("convert", "none")
    assert float(conversion["a_mw"]) == pytest.approx(50.0)
    assert float(conversion["b_minus_a_mw"]) == pytest.approx(-50.0)
    assert (contract["name"], contract["a"], contract["b"]) == ("H", "taken", "declined")
    assert set(rows["changed"]) == {"True"}
    assert "contracts\\[H\\].rate\\_usd\\_per\\_kw\\_month: 150 → 60" in result.output
    assert "taken → declined" in result.output


def test_identical_plans_give_no_differences(plans, tmp_path) -> None:
    for other in ("base", "again"):  # the same folder, and a second run of the same portfolio
        result = _diff(plans["base"], plans[other], "--out", str(tmp_path / other))
        assert result.exit_code == 0, result.output
        assert NO_DIFFERENCES in result.output
        assert "## Headline" not in result.output
        assert read_csv_text(tmp_path / other / "diff_inputs.csv").empty
    assert realloc.diff(plans["base"], plans["again"]).identical


def test_btc_sold_and_funding_of_an_unfunded_plan(plans, tmp_path) -> None:
    result = _diff(plans["base"], plans["broke"], "--out", str(tmp_path / "d"))
    assert result.exit_code == 0, result.output
    b = _summary(plans["broke"])
    assert b["status"] == "unfunded" and b["funding_gap_total_usd"] > 0
    head = read_csv_text(tmp_path / "d" / "diff_headline.csv").set_index("figure")
    assert (head.loc["status", "a"], head.loc["status", "b"]) == ("optimal", "unfunded")
    gap = float(head.loc["funding_gap_total_usd", "b"])
    assert gap == pytest.approx(b["funding_gap_total_usd"])
    first = pd.read_csv(plans["broke"] / "funding_gap.csv").query("gap_usd > 0.5")["month"].iloc[0]
    assert f"unfunded: {realloc.reports.summary_md.money(gap)} must come from outside, " \
        f"first in {first}" in result.output  # fmt: skip
    sold = read_csv_text(tmp_path / "d" / "diff_btc_sold.csv").set_index("period")
    treasury = pd.read_csv(plans["broke"] / "treasury.csv")
    years = sold[sold.index.str.len() == 4]
    assert _numbers(years, "b_btc_sold")["b_btc_sold"].sum() == pytest.approx(
        treasury["btc_sold"].sum(), abs=1e-6
    )


def test_an_infeasible_plan_has_no_figures_and_no_decisions(plans, tmp_path) -> None:
    result = _diff(plans["base"], plans["late"], "--out", str(tmp_path / "d"))
    assert result.exit_code == 0, result.output
    assert _summary(plans["late"])["status"] == "infeasible"
    head = read_csv_text(tmp_path / "d" / "diff_headline.csv").set_index("figure")
    assert head.loc["value_usd", "b"] == "" and head.loc["value_usd", "b_minus_a"] == ""
    decisions = read_csv_text(tmp_path / "d" / "diff_decisions.csv")
    assert set(decisions["b"]) == {"no plan"}
    assert "convert → no plan" in result.output and "Traceback" not in result.output


def test_a_stochastic_plan_is_compared_by_its_expected_figures(plans, tmp_path) -> None:
    result = _diff(plans["base"], plans["risky"], "--out", str(tmp_path / "d"))
    assert result.exit_code == 0, result.output
    b = _summary(plans["risky"])
    head = read_csv_text(tmp_path / "d" / "diff_headline.csv").set_index("figure")
    assert float(head.loc["value_usd", "b"]) == pytest.approx(b["stochastic"]["expected_value_usd"])
    assert float(head.loc["btc_sold_total", "b"]) == pytest.approx(b["btc_sold_total"])
    assert float(head.loc["stochastic.cvar_usd", "b"]) == pytest.approx(b["stochastic"]["cvar_usd"])
    assert "stochastic plan over 2 market paths" in result.output
    both = _diff(plans["risky"], plans["risky"])
    assert both.exit_code == 0 and NO_DIFFERENCES in both.output


@pytest.mark.parametrize("what", ["empty folder", "a file", "a portfolio folder", "missing"])
def test_a_folder_that_is_not_a_plan_exits_2(plans, tmp_path, what) -> None:
    other = tmp_path / "other"
    if what == "empty folder":
        other.mkdir()
    elif what == "a file":
        other.write_text("not a plan\n")
    elif what == "a portfolio folder":
        other.mkdir()
        (other / "summary.json").write_text("{not json")
    for a, b in ((plans["base"], other), (other, plans["base"])):
        result = _diff(a, b, "--out", str(tmp_path / "d"))
        assert result.exit_code == 2, result.output
        assert "error:" in result.output and str(other) in result.output
        assert "Traceback" not in result.output
    assert not (tmp_path / "d").exists()


def test_csv_cells_and_markdown_names_are_safe(plans, tmp_path) -> None:
    out = tmp_path / "d"
    result = _diff(plans["nasty150"], plans["nasty60"], "--out", str(out))
    assert result.exit_code == 0, result.output
    raw = (out / "diff_decisions.csv").read_text(encoding="utf-8")
    assert "\n" + "contract,'=cmd" in raw  # quoted for spreadsheets
    names = read_csv_text(out / "diff_decisions.csv")["name"]
    assert NASTY in set(names)  # and read back as typed
    for path in out.glob("*.csv"):  # as a spreadsheet sees them: no cell starts a formula
        cells = pd.read_csv(path, dtype=str, keep_default_na=False).to_numpy().ravel()
        for cell in cells:
            number = cell.startswith("-") and pd.notna(pd.to_numeric(cell, errors="coerce"))
            assert number or not cell.startswith(("=", "+", "-", "@")), (path.name, cell)
    page = (out / "diff.md").read_text(encoding="utf-8")
    assert "<b>" not in page and "\\<b\\>x\\</b\\>" in page
    assert "| " + "=cmd\\|" in page  # the pipe cannot end the table cell


def test_out_replaces_only_an_earlier_diff(plans, tmp_path) -> None:
    out = tmp_path / "d"
    assert _diff(plans["base"], plans["hashprice70"], "--out", str(out)).exit_code == 0
    assert json.loads((out / MARKER).read_text())["kind"] == "diff"
    again = _diff(plans["base"], plans["rate60"], "--out", str(out))
    assert again.exit_code == 0, again.output  # a later diff replaces an earlier one
    assert "rate\\_usd\\_per\\_kw\\_month" in (out / "diff.md").read_text(encoding="utf-8")
    (out / "notes.txt").write_text("mine")
    for target in (out, plans["base"], plans["base"] / "diff"):
        refused = _diff(plans["base"], plans["rate60"], "--out", str(target))
        assert refused.exit_code == 2, refused.output
    assert (out / "notes.txt").read_text() == "mine"
    assert not (plans["base"] / "diff").exists()


def test_library_diff_of_plan_objects_equals_the_folders_diff(plans) -> None:
    base = realloc.plan(tiny())
    bear = realloc.plan(tiny(market__hashprice_usd_per_ph_day=70))
    made = realloc.diff(base, bear)
    folders = realloc.diff(plans["base"], plans["hashprice70"])
    for name, frame in made.tables.items():
        pd.testing.assert_frame_equal(frame, folders.tables[name], check_exact=False, obj=name)
    assert made.markdown().split("\n", 4)[4] == folders.markdown().split("\n", 4)[4]
