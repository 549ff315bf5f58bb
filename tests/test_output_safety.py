"""Outputs that can hurt (issue 12): names written where a spreadsheet or a Markdown viewer
would act on them, and board reports that differ when rebuilt from the same plan.

Rules (reports/safe_text.py, README "Outputs"): a CSV text cell starting with ``= + - @``, tab,
CR, ``＝＋－＠`` or ``'`` gets a ``'`` in front, numbers never; realloc's own readers remove it;
workbooks hold text as string cells; names in Markdown are escaped and on one line; report.html,
report.xlsx (and report.pdf) are dated by run.json, so rebuilding gives the same bytes.
"""

from __future__ import annotations

import csv
import re
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from realloc.cli import main
from realloc.inputs import load_portfolio
from realloc.inputs.excel_writer import write_excel
from realloc.models import Portfolio
from realloc.optimizer import plan_portfolio
from realloc.reports.board import build_report, load_run, pdf_engine
from realloc.reports.board.xlsx import render_xlsx
from realloc.reports.compare import write_comparison
from realloc.reports.forecast_report import write_forecast
from realloc.reports.plan_files import write_plan
from realloc.reports.safe_text import (
    FORMULA_START,
    csv_text,
    csv_text_back,
    md_text,
    read_csv_text,
    write_csv,
)
from tests.helpers import tiny

SITE = "<img src=x onerror=alert(1)>"
FLEETS = ["@SUM(1+1)*cmd|' /C calc'!A0", '＝HYPERLINK("http://x") | `tick`']
TAKEN = "=cmd|' /C calc'!A0"  # the contract the plan signs
DECLINED = "'-2+3 <script>alert(1)</script> **bold** [x](javascript:alert(1))"
NAME = "| pipes | in tables # <b>bold</b> &amp; _under_ ~strike~ " + "x" * 120
HOSTILE = [SITE, *FLEETS, TAKEN, DECLINED, NAME]
PACKAGES = ("reports", "realloc", "inputs", "optimizer", "models", "benchmarks")
ROOT = Path(__file__).resolve().parent.parent


def hostile_portfolio() -> Portfolio:
    """tiny() (converts and hosts its one contract) with every name made hostile: a site like
    an HTML tag, two fleet groups and the signed contract like formulas, a declined contract
    with a quote, script, emphasis and a link, a portfolio name with pipes and markup."""
    d = tiny(name=NAME).model_dump(mode="json")
    site = d["sites"][0]
    fleet = site["fleets"][0]
    site["name"] = SITE
    site["fleets"] = [dict(fleet, name=FLEETS[0], power_mw=50), dict(fleet, name=FLEETS[1])]
    site["fleets"][1]["power_mw"] = 50
    d["contracts"][0].update(name=TAKEN, eligible_sites=[SITE])
    d["contracts"].append(dict(d["contracts"][0], name=DECLINED, rate_usd_per_kw_month=1))
    return Portfolio.model_validate(d)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_plan(plan_portfolio(hostile_portfolio()), tmp_path_factory.mktemp("h") / "run")


def csv_cells(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as f:
        return [cell for row in csv.reader(f) for cell in row]


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def assert_no_formula_cells(folder: Path) -> int:
    """Every cell of every CSV in ``folder`` is a number or text no spreadsheet evaluates."""
    count = 0
    for path in sorted(folder.glob("*.csv")):
        for cell in csv_cells(path):
            assert is_number(cell) or not cell.startswith(FORMULA_START), (path.name, cell)
        count += 1
    return count


# --------------------------------------------------------------------------- CSV cells


@pytest.mark.parametrize("start", [*FORMULA_START, "'"])
def test_csv_text_quotes_formula_starts_and_undoes_exactly(start: str) -> None:
    text = start + "cmd|' /C calc'!A0"
    written = ("'" + text).replace("\r", "\n")  # a bare CR would end the row: written as LF
    assert csv_text(text) == written
    assert csv_text_back(written) == text.replace("\r", "\n")
    for plain in ("Dalton GA", "2026-01", "", "a=b", " =x", "北海道"):
        assert csv_text(plain) == plain and csv_text_back(plain) == plain


def test_numbers_stay_numbers_and_text_round_trips(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "name": [*HOSTILE, "-5", "+1", "'", "''x", "", None],
            "usd": [-1.5, -2e9, 0.0, 3.0, -0.25, 1.0, 2.0, 3.0, -4.0, 5.0, -6.0, 7.5],
            "n": range(-6, 6),
            "ok": [True, False] * 6,
        }
    )
    path = tmp_path / "t.csv"
    write_csv(frame, path)
    rows = list(csv.reader(path.open(newline="", encoding="utf-8")))
    assert [r[1] for r in rows[1:]] == [repr(v) for v in frame["usd"]]  # -1.5, not '-1.5
    assert [r[2] for r in rows[1:]] == [str(v) for v in frame["n"]]
    assert rows[1 + HOSTILE.index(TAKEN)][0] == "'" + TAKEN
    assert rows[1 + len(HOSTILE)][0] == "'-5"  # text that looks like a number is still text
    back = read_csv_text(path)
    assert list(back["name"]) == [*frame["name"][:-1], ""]
    assert pd.read_csv(path)["usd"].tolist() == frame["usd"].tolist()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00")), min_size=1
    )
)
def test_any_text_round_trips_through_realloc_csv(tmp_path_factory, texts: list[str]) -> None:
    """Whatever the text, the CSV keeps one row per row, no cell starts a formula, and
    realloc's reader gives the text back (a carriage return comes back as a line feed)."""
    path = tmp_path_factory.mktemp("rt") / "t.csv"
    write_csv(pd.DataFrame({"name": texts, "value": range(len(texts))}), path)
    back = read_csv_text(path)
    assert list(back["name"]) == [t.replace("\r\n", "\n").replace("\r", "\n") for t in texts]
    assert list(back["value"]) == [str(i) for i in range(len(texts))]
    for cell in csv_cells(path)[2::2]:
        assert not cell.startswith(FORMULA_START)


def test_plan_csvs_hold_no_formula_and_the_report_reads_the_names_back(hostile_run) -> None:
    assert assert_no_formula_cells(hostile_run) >= 8
    contracts = csv_cells(hostile_run / "contracts.csv")
    assert "'" + TAKEN in contracts and TAKEN not in contracts
    assert "'" + FLEETS[0] in csv_cells(hostile_run / "plan.csv")
    assert "'" + FLEETS[1] in csv_cells(hostile_run / "plan.csv")
    flows = csv_cells(hostile_run / "cashflows.csv")
    assert any(c.startswith("-") and is_number(c) for c in flows), "negative numbers unquoted"
    # realloc's own reader (realloc report RUN_DIR) gets the original names
    run = load_run(hostile_run)
    assert list(run.tables["contracts"]["contract"]) == [TAKEN]
    assert set(run.tables["plan"]["detail"]) >= {*FLEETS, TAKEN}
    assert set(run.tables["plan"]["site"]) == {SITE}
    assert pd.api.types.is_float_dtype(run.tables["cashflows"]["capex_usd"])


def test_every_csv_writer_goes_through_write_csv() -> None:
    """No module writes a CSV but reports/safe_text.py: a new writer cannot skip the rule."""
    offenders = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "safe_text.py":
                continue
            text = path.read_text(encoding="utf-8")
            if re.search(r"\.to_csv\(|csv\.writer\(|csv\.DictWriter\(", text):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_forecast_breakeven_csv_quotes_fleet_names(tmp_path: Path) -> None:
    from realloc.models.forecast import BreakevenGroup

    months = pd.period_range("2026-01", periods=3, freq="M").astype(str)
    frame = pd.DataFrame(
        {
            "scenario": [0] * 3,
            "month": months,
            "block_height": [1, 2, 3],
            "subsidy_btc": [3.125] * 3,
            "fees_btc": [0.1] * 3,
            "hashrate_eh": [800.0] * 3,
            "btc_price_usd": [-1.0, 70000.0, 70000.0],
            "hashprice_usd_per_ph_day": [40.0] * 3,
        }
    )
    groups = [BreakevenGroup(name=TAKEN, efficiency_j_per_th=17.5, power_price_usd_per_mwh=45)]
    files = write_forecast(frame, tmp_path, groups)
    assert assert_no_formula_cells(tmp_path) == 3
    assert "'" + TAKEN in csv_cells(files["breakeven.csv"])
    assert "-1.0" in csv_cells(files["forecast.csv"])


# --------------------------------------------------------------------------- workbooks


def test_report_workbook_keeps_hostile_names_as_text(hostile_run, tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    render_xlsx(load_run(hostile_run), path)
    wb = openpyxl.load_workbook(path)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    values = {c.value for c in cells if isinstance(c.value, str)}
    assert {SITE, *FLEETS, TAKEN} <= values  # the names, without the CSV's quote
    assert not any(v.startswith("'") and v[1:] in HOSTILE for v in values)


def test_excel_template_stores_formula_like_names_as_text(tmp_path: Path) -> None:
    p = hostile_portfolio()
    d = p.model_dump(mode="json")
    d["sites"][0]["name"] = "-Site @home"
    d["contracts"][0]["eligible_sites"] = ["-Site @home"]
    d["contracts"][1]["eligible_sites"] = ["-Site @home"]
    d["contracts"][1]["name"] = "+Offered"
    p = Portfolio.model_validate(d)
    path = write_excel(p, tmp_path / "p.xlsx")
    wb = openpyxl.load_workbook(path)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    names = {c.value for c in cells if c.data_type == "s"}
    assert {TAKEN, "+Offered", "-Site @home", *FLEETS} <= names  # exactly, no padding
    back = load_portfolio(path)
    assert [c.name for c in back.contracts] == [TAKEN, "+Offered"]
    assert [g.name for g in back.sites[0].fleets] == FLEETS


# --------------------------------------------------------------------------- Markdown


@pytest.mark.parametrize(
    "name",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "| pipes | in tables |",
        "`code` and ``more``",
        "line\nbreak\r\nand\ttab\u2028sep",
        "**bold** _it_ ~~gone~~ [x](javascript:alert(1)) ![i](http://x/i.png)",
        "&lt;script&gt; &amp; # heading",
        "Zürich Nord ⚡ 北海道 " + "long " * 60,
    ],
)
def test_md_text_is_one_line_with_markup_escaped(name: str) -> None:
    out = md_text(name)
    assert "\n" not in out and "\r" not in out and "\u2028" not in out
    for ch in "<>|`*_[]&#~":
        # every significant character is preceded by an odd number of backslashes
        for m in re.finditer(re.escape(ch), out):
            run = len(out[: m.start()]) - len(out[: m.start()].rstrip("\\"))
            assert run % 2 == 1, (ch, out)
    unescaped = re.sub(r"\\(.)", r"\1", out)
    assert unescaped == re.sub(r"[\x00-\x1f\x7f\u2028\u2029]", " ", name)


def unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)(?:\\\\)*\|", line))


def test_summary_md_escapes_every_name(hostile_run) -> None:
    text = (hostile_run / "summary.md").read_text(encoding="utf-8")
    assert not re.search(r"(?<!\\)<", text), "no raw tag or autolink from a name"
    assert not re.search(r"(?<!\\)`", text) and not re.search(r"(?<!\\)\[", text)
    assert text.splitlines()[0] == f"# {md_text(NAME)}: reallocation plan"
    assert md_text(SITE) in text and md_text(TAKEN) in text and md_text(DECLINED) in text
    table = None
    for line in text.splitlines():  # every table row has its header's number of cells
        if line.startswith("|"):
            table = unescaped_pipes(line) if table is None else table
            assert unescaped_pipes(line) == table, line
        else:
            table = None


def test_comparison_md_and_csv_of_a_hostile_sweep(tmp_path: Path) -> None:
    portfolio = tmp_path / "p.yaml"
    portfolio.write_text(yaml.safe_dump(hostile_portfolio().model_dump(mode="json")))
    variants = tmp_path / "s.yaml"
    rate = f"contracts[{TAKEN}].rate_usd_per_kw_month"
    named = {TAKEN: {}, "<script>alert(1)</script> | x": {rate: 1}}
    variants.write_text(yaml.safe_dump({"variants": named}, sort_keys=False))
    out = tmp_path / "sweep"
    args = ["sweep", str(portfolio), str(variants), "--out", str(out), "--workers", "1"]
    result = CliRunner().invoke(main, [*args, "--no-progress"])
    assert result.exit_code == 0, result.output
    stored = pd.read_parquet(out / "variants.parquet")
    assert list(stored["name"]) == [TAKEN, "<script>alert(1)</script> | x"]  # raw in parquet
    files = write_comparison(out)
    assert assert_no_formula_cells(out) == 1
    table = read_csv_text(files["csv"])
    assert list(table["name"]) == list(stored["name"])  # and back through realloc's reader
    md = files["md"].read_text(encoding="utf-8")
    assert not re.search(r"(?<!\\)<", md)
    assert md.splitlines()[0] == f"# Sweep comparison: {md_text(NAME)}"
    assert f"{md_text(TAKEN)} rate_usd_per_kw_month" in md  # the parameter's column
    assert f"IT MW {md_text(SITE)}" in md


# --------------------------------------------------------------------------- reproducible


def build_twice(run_dir: Path, tmp_path: Path, formats: tuple[str, ...]) -> list[dict]:
    first = build_report(run_dir, tmp_path / "r1", formats)
    time.sleep(1.1)  # past the next second: a clock in a file would now differ
    second = build_report(run_dir, tmp_path / "r2", formats)
    return [first, second]


def test_report_rebuilt_from_one_folder_is_byte_identical(hostile_run, tmp_path: Path) -> None:
    formats = ("html", "xlsx", "pdf") if pdf_engine() is not None else ("html", "xlsx")
    first, second = build_twice(hostile_run, tmp_path, formats)
    for fmt in formats:
        assert first[fmt].read_bytes() == second[fmt].read_bytes(), fmt
    made = load_run(hostile_run).created
    assert made is not None
    page = first["html"].read_text(encoding="utf-8")
    assert f"plan made {made:%Y-%m-%d %H:%M} UTC" in page  # it still says when
    assert "<script" not in page and "<img src=x" not in page  # names escaped as HTML
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    with zipfile.ZipFile(first["xlsx"]) as z:
        stamp = made.replace(second=made.second // 2 * 2)  # zip dates count in 2 s steps
        assert {i.date_time for i in z.infolist()} == {tuple(stamp.timetuple()[:6])}
    props = openpyxl.load_workbook(first["xlsx"]).properties
    assert props.created == made and props.modified == made
    if "pdf" in formats:
        assert f"D:{made:%Y%m%d%H%M%S}".encode() in first["pdf"].read_bytes()


def test_report_of_a_folder_without_run_json_is_reproducible_too(
    hostile_run, tmp_path: Path
) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    for f in hostile_run.iterdir():
        if f.name != "run.json":
            (bare / f.name).write_bytes(f.read_bytes())
    first, second = build_twice(bare, tmp_path, ("html", "xlsx"))
    for fmt in ("html", "xlsx"):
        assert first[fmt].read_bytes() == second[fmt].read_bytes(), fmt
