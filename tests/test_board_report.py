"""Board report (reports/board.py): built from a run folder's files only, HTML and Excel."""

from __future__ import annotations

import ast
import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from inputs import load_portfolio
from inputs.examples import example_path
from optimizer import plan_portfolio
from realloc.cli import main
from reports.board import build_report, load_run, payback_month
from reports.plan_files import write_plan
from reports.summary_md import money
from tests.test_cli import tiny_portfolio

XSS = "<script>alert(1)</script>"
FORMULA = "=cmd|' /C calc'!A0"
RENAMED_SITE = "Dalton GA"  # converts and hosts in the example plan
RENAMED_CONTRACT = "Tessellate Cloud (tenant-funded, 12 yr)"  # signed by the example plan


def hostile_example():
    """The bundled example with a site named like a script tag and a contract like a formula."""
    p = load_portfolio(example_path())

    def site_name(name: str) -> str:
        return XSS if name == RENAMED_SITE else name

    sites = [s.model_copy(update={"name": XSS}) if s.name == RENAMED_SITE else s for s in p.sites]
    contracts = []
    for c in p.contracts:
        update: dict = {"eligible_sites": [site_name(s) for s in c.eligible_sites]}
        if c.signed_it_mw is not None:
            update["signed_it_mw"] = {site_name(s): mw for s, mw in c.signed_it_mw.items()}
        if c.name == RENAMED_CONTRACT:
            update["name"] = FORMULA
        contracts.append(c.model_copy(update=update))
    return p.model_copy(update={"sites": sites, "contracts": contracts})


@pytest.fixture(scope="module")
def example_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    root = tmp_path_factory.mktemp("board")
    run_dir = write_plan(plan_portfolio(hostile_example()), root / "run")
    return run_dir, build_report(run_dir, root / "report")


def test_example_report_builds(example_report) -> None:
    run_dir, files = example_report
    assert set(files) == {"html", "xlsx"}
    assert files["html"].name == "report.html" and files["xlsx"].name == "report.xlsx"
    assert all(p.is_file() and p.stat().st_size > 0 for p in files.values())
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "optimal"
    text = files["html"].read_text(encoding="utf-8")
    # the headline figures, formatted as summary.md formats them
    assert money(summary["value_usd"]) in text
    assert money(summary["uplift_usd"]) in text
    assert f"{summary['btc_sold_total']:,.2f} BTC" in text
    assert money(summary["usd_raised_total"]) in text
    # sections in the order the board reads them
    ids = ["summary", "capacity", "conversions", "treasury", "bridge", "appendix"]
    positions = [text.index('<section class="first" id="summary">')] + [
        text.index(f'<section id="{i}">') for i in ids[1:]
    ]
    assert positions == sorted(positions)
    assert summary["inputs_sha256"] in text
    assert text.count("data:image/png;base64,") == 5  # capacity ×2, gantt, treasury, bridge
    assert "Unfunded" not in text


def test_html_is_self_contained_and_escapes_user_text(example_report) -> None:
    _, files = example_report
    text = files["html"].read_text(encoding="utf-8")
    assert "<script" not in text.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;script&gt;" in text.split('id="summary"')[1].split("</section>")[0]
    # no network fetches: no external URLs in src/href, no @import
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "@import" not in text and "<link" not in text
    assert "@media print" in text and "page-break-before" in text


def test_xlsx_tables_typed_and_totals_match(example_report) -> None:
    run_dir, files = example_report
    wb = openpyxl.load_workbook(files["xlsx"])
    for name in ("summary", "plan", "conversions", "contracts", "treasury", "shadow_prices"):
        assert name in wb.sheetnames, name
    assert "cashflows" in wb.sheetnames
    treasury = wb["treasury"]
    assert treasury.freeze_panes == "A2"
    header = [c.value for c in treasury[1]]
    col = header.index("btc_sold")
    sold = [row[col] for row in treasury.iter_rows(min_row=2, values_only=True)]
    assert all(isinstance(v, int | float) for v in sold)
    expected = pd.read_csv(run_dir / "treasury.csv")["btc_sold"].sum()
    assert sum(sold) == pytest.approx(expected, rel=1e-12, abs=1e-9)
    assert treasury.column_dimensions["A"].width >= 8


def test_xlsx_formula_like_text_stays_text(example_report) -> None:
    _, files = example_report
    wb = openpyxl.load_workbook(files["xlsx"])
    ws = wb["contracts"]
    cells = [c for row in ws.iter_rows(min_row=2) for c in row if c.value == FORMULA]
    assert cells, "the formula-like contract name is in the contracts sheet"
    assert all(c.data_type == "s" for c in cells)
    with zipfile.ZipFile(files["xlsx"]) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert not any("<f>" in z.read(n).decode() or "<f " in z.read(n).decode() for n in sheets)


def test_unfunded_run_shows_funding_gap(tmp_path: Path) -> None:
    path = tmp_path / "broke.yaml"
    data = tiny_portfolio(btc=0, cash_usd=0, min_cash_usd=1e9)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    run_dir = tmp_path / "run"
    result = CliRunner().invoke(main, ["plan", str(path), "--out", str(run_dir)])
    assert result.exit_code == 3, result.output
    files = build_report(run_dir, tmp_path / "report")
    text = files["html"].read_text(encoding="utf-8")
    gap = pd.read_csv(run_dir / "funding_gap.csv")
    first = gap.loc[gap["gap_usd"] > 0.5, "month"].iloc[0]
    box = text.split('<div class="gap"', 1)[1].split("</div>", 1)[0]
    assert money(gap["gap_usd"].sum()) in box and first in box
    # the box comes first, before the title
    assert text.index('<div class="gap"') < text.index("<h1>")
    wb = openpyxl.load_workbook(files["xlsx"])
    assert "funding_gap" in wb.sheetnames


def test_formats_and_payback(example_report, tmp_path: Path) -> None:
    run_dir, _ = example_report
    files = build_report(run_dir, tmp_path / "only_html", formats=("html",))
    assert set(files) == {"html"} and not (tmp_path / "only_html" / "report.xlsx").exists()
    with pytest.raises(ValueError, match="pdf"):
        build_report(run_dir, tmp_path / "x", formats=("pdf",))
    # payback needs the status quo's monthly cash flows, which cashflows.csv does not carry
    assert payback_month(load_run(run_dir)) is None
    copy = tmp_path / "with_baseline"
    copy.mkdir()
    for f in run_dir.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    cf = pd.read_csv(copy / "cashflows.csv")
    terms = [c for c in cf.columns if c.endswith("_usd") and c != "funding_gap_usd"]
    for t in terms:
        cf[f"baseline_{t}"] = cf[t]
    # the plan earns 100 M less than the status quo in its first two months, 50 M more after
    delta = pd.Series(50e6, index=cf.index)
    delta.iloc[:2] = -100e6
    cf["baseline_mining_revenue_usd"] = cf["mining_revenue_usd"] - delta
    net = (delta * cf["discount_factor"]).cumsum()
    expected = cf["month"][net > 0].iloc[0]
    assert expected == cf["month"].iloc[6]  # -200 M, then +50 M a month, discounted
    cf.to_csv(copy / "cashflows.csv", index=False)
    assert payback_month(load_run(copy)) == expected
    assert expected in build_report(copy, copy / "r", ("html",))["html"].read_text()


def test_board_reads_files_not_optimizer() -> None:
    package = Path(__file__).resolve().parents[1] / "reports" / "board"
    sources = sorted(package.glob("*.py"))
    assert {p.stem for p in sources} >= {"data", "charts", "html", "xlsx", "build"}
    modules = set()
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                modules.add(node.module or "")
    assert not {m for m in modules if m.split(".")[0] in {"optimizer", "models", "inputs"}}
    assert "matplotlib.pyplot" not in modules
