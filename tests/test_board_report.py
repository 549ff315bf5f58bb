"""Board report (reports/board/): built from a run folder's files only; HTML, Excel and PDF.

The PDF and browser tests need Debian's ``chromium`` and ``poppler-utils`` (installed by
``.ci/install-pdf-tools``, which ``.ci/run`` calls); without them they skip and say so.
"""

from __future__ import annotations

import ast
import hashlib
import html as htmllib
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from matplotlib import image as mpimage

from realloc.cli import main
from realloc.inputs import load_portfolio
from realloc.inputs.examples import example_path
from realloc.optimizer import plan_portfolio
from realloc.reports.board import Run, build_report, load_run, payback, payback_month, pdf_engine
from realloc.reports.board.figures import btc_by_quarter, treasury_fan
from realloc.reports.board.html import render_html
from realloc.reports.board.inputs_appendix import number
from realloc.reports.board.pdf import chromium_command
from realloc.reports.board.risk_section import musd, planning_value_sentences
from realloc.reports.plan_files import write_plan
from realloc.reports.summary_md import money
from tests.test_cli import tiny_portfolio, write
from tests.test_stochastic_cli import SCENARIOS

XSS = "<script>alert(1)</script>"
FORMULA = "=cmd|' /C calc'!A0"
RENAMED_SITE = "Dalton GA"  # converts and hosts in the example plan
RENAMED_CONTRACT = "Tessellate Cloud (tenant-funded, 12 yr)"  # signed by the example plan
SECTIONS = ["summary", "decisions", "capacity", "conversions", "treasury", "bridge"]
SECTIONS += ["inputs", "inputs-sites", "method", "checks"]
RISK_SECTIONS = [*SECTIONS[:6], "risk", *SECTIONS[6:]]
FUNDED_SECTIONS = [*SECTIONS[:5], "funding", *SECTIONS[5:]]
"""The bundled example offers financing: its report adds "Funding the plan" after treasury."""
"""A stochastic plan's report adds "Risk across market paths" after the value bridge."""

CHROMIUM = pdf_engine()
POPPLER = all(shutil.which(t) for t in ("pdftotext", "pdfinfo", "pdfimages"))
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium: run `bash .ci/install-pdf-tools` (Debian `chromium`)"
)
needs_pdf_tools = pytest.mark.skipif(
    CHROMIUM is None or not POPPLER,
    reason="no Chromium or poppler-utils: run `bash .ci/install-pdf-tools`",
)


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
    formats = ("html", "xlsx", "pdf") if CHROMIUM is not None else ("html", "xlsx")
    return run_dir, build_report(run_dir, root / "report", formats)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-site plan whose report builds in a fraction of the example's time (CLI tests)."""
    root = tmp_path_factory.mktemp("tiny")
    path = root / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_portfolio(), sort_keys=False), encoding="utf-8")
    res = CliRunner().invoke(main, ["plan", str(path), "--out", str(root / "run")])
    assert res.exit_code == 0, res.output
    return root / "run"


@pytest.fixture(scope="module")
def stochastic_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """The tiny portfolio over two market paths (bust 40 %, boom 60 %) with a rent high enough
    that it converts, frontier at λ = 0 and 1: its run folder and report in every format this
    machine can write (a few seconds: 12 months, one site)."""
    root = tmp_path_factory.mktemp("stochastic")
    data = tiny_portfolio()
    data["contracts"][0]["rate_usd_per_kw_month"] = 250.0
    portfolio, scenarios = write(root / "p.yaml", data), write(root / "s.yaml", SCENARIOS)
    args = ["plan", str(portfolio), "--scenarios", str(scenarios), "--frontier", "0,1"]
    res = CliRunner().invoke(main, [*args, "--out", str(root / "run")])
    assert res.exit_code == 0, res.output
    formats = ("html", "xlsx", "pdf") if CHROMIUM is not None and POPPLER else ("html", "xlsx")
    return root / "run", build_report(root / "run", root / "report", formats)


# --------------------------------------------------------------------------- helpers


def visible_text(page: str) -> str:
    """The text of an HTML fragment as a reader sees it: tags dropped, entities decoded,
    whitespace collapsed (the browser and PDF tests check the rendered text the same way)."""
    text = re.sub(r"<(style|title)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def section_html(page: str, section_id: str) -> str:
    return page.split(f'id="{section_id}">', 1)[1].split("</section>", 1)[0]


def section_ids(page: str) -> list[str]:
    return re.findall(r'<section(?: class="first")? id="([^"]+)">', page)


def pdf_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))


def pdf_text(pdf: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    cmd = ["pdftotext", *pages, str(pdf), "-"]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def pdf_image_count(pdf: Path) -> int:
    listing = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]  # two header lines
    return sum(1 for line in listing if line.split()[2] == "image")  # not soft masks


def assert_one_page_per_section(pdf: Path, headings: list[str]) -> None:
    """Page i of ``pdf`` begins with heading i and its footer says "Page i of N"."""
    assert pdf_pages(pdf) == len(headings)
    for page, heading in enumerate(headings, start=1):
        text = pdf_text(pdf, page)
        assert " ".join(text.split()).startswith(heading), (page, heading, text[:200])
        assert f"Page {page} of {len(headings)}" in text  # the running footer


def section_headings(page: str) -> list[str]:
    """Each section's first heading (h1 for the summary, else h2), as text, in order."""
    out = []
    for body in page.split("<section")[1:]:
        m = re.search(r"<h([12])>(.*?)</h\1>", body, re.S)
        out.append(htmllib.unescape(re.sub(r"<[^>]+>", "", m.group(2))))
    return out


INSTRUMENT = """<script>
window.addEventListener('load', function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) {
    if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++;
    else console.error('broken image: ' + imgs[i].alt);
  }
  var pre = document.createElement('pre');
  pre.id = 'rendered-text';
  pre.setAttribute('data-images', ok);
  pre.textContent = document.body.innerText;
  document.body.appendChild(pre);
});
</script>"""
"""Test-only probe added to a copy of the page: counts decoded images and records the text as
rendered (``innerText``), then ``--dump-dom`` returns both."""


def load_in_chromium(page: Path, work: Path, screenshot: Path | None = None) -> dict:
    """Load ``page`` in headless Chromium; return its console lines, DOM and screenshot."""
    args = ["--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000"]
    args += ["--window-size=1200,1600", "--hide-scrollbars"]
    if screenshot is not None:
        args.append(f"--screenshot={screenshot}")
    cmd = chromium_command(CHROMIUM, work / "profile", *args, "--dump-dom", page.as_uri())
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return {"console": console, "dom": done.stdout}


def rendered(page: Path, work: Path) -> tuple[str, int, list[str]]:
    """Text as rendered, number of images decoded, and console lines of ``page``."""
    probe = work / f"probe-{page.name}"
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", INSTRUMENT + "</body>"))
    out = load_in_chromium(probe, work)
    m = re.search(r'<pre id="rendered-text" data-images="(\d+)">(.*?)</pre>', out["dom"], re.S)
    assert m, "the probe did not run"
    return htmllib.unescape(m.group(2)), int(m.group(1)), out["console"]


# --------------------------------------------------------------------------- HTML and XLSX


def test_example_report_builds(example_report) -> None:
    run_dir, files = example_report
    assert set(files) >= {"html", "xlsx"}
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
    positions = [text.index('<section class="first" id="summary">')] + [
        text.index(f'<section id="{i}">') for i in FUNDED_SECTIONS[1:]
    ]
    assert positions == sorted(positions)
    assert summary["inputs_sha256"] in text
    # capacity ×2, gantt, treasury, bridge, payback, and (the example offers financing) the
    # funding sources by quarter and the facilities' LTV
    assert text.count("data:image/png;base64,") == 8
    assert "Unfunded" not in text
    assert f"against its {money(summary['min_cash_usd'])} floor" in text
    assert section_ids(text) == FUNDED_SECTIONS  # no risk section for a single-market plan


def test_html_is_self_contained_and_escapes_user_text(example_report) -> None:
    _, files = example_report
    text = files["html"].read_text(encoding="utf-8")
    assert "<script" not in text.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;script&gt;" in text.split('id="summary"')[1].split("</section>")[0]
    # no network fetches: no external URLs in src/href, no @import
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "@import" not in text and "<link" not in text
    assert "@media print" in text and "break-before: page" in text
    # report.html leaves the paper to the reader's printer; only the PDF fixes it
    assert "size: A4" not in text and "size: letter" not in text


def test_xlsx_sheets_typed_and_totals_equal_the_csvs(example_report) -> None:
    run_dir, files = example_report
    wb = openpyxl.load_workbook(files["xlsx"])
    for name in ("summary", "plan", "conversions", "contracts", "treasury", "shadow_prices"):
        assert name in wb.sheetnames, name
    checked = 0
    for name in ("plan", "treasury", "conversions", "contracts", "rig_sales", "cashflows"):
        ws = wb[name]
        assert ws.freeze_panes == "A2"
        assert ws.column_dimensions["A"].width >= 8
        header = [c.value for c in ws[1]]
        csv = pd.read_csv(run_dir / f"{name}.csv")
        assert header == list(csv.columns)
        rows = list(ws.iter_rows(min_row=2, values_only=True))
        assert len(rows) == len(csv)
        for j, col in enumerate(header):
            if not pd.api.types.is_float_dtype(csv[col]) or not col.endswith(("_usd", "_mw")):
                continue
            values = [r[j] for r in rows]
            assert all(isinstance(v, int | float) for v in values), (name, col)
            assert sum(values) == pytest.approx(csv[col].sum(), rel=1e-12, abs=1e-6), (name, col)
            checked += 1
    assert checked >= 15
    sold = pd.read_csv(run_dir / "treasury.csv")["btc_sold"].sum()
    ws = wb["treasury"]
    col = [c.value for c in ws[1]].index("btc_sold")
    assert sum(r[col] for r in ws.iter_rows(min_row=2, values_only=True)) == pytest.approx(sold)


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


# --------------------------------------------------------------------------- payback


def write_flows(folder: Path, plan_musd: list[list[float]], base_musd: list[list[float]]) -> Path:
    """A minimal run folder: two value terms per month for the plan and the status quo ($M),
    plus a funding-gap column and a terminal-value term that payback must ignore."""
    folder.mkdir(parents=True, exist_ok=True)
    terms = ["mining_revenue_usd", "capex_usd", "terminal_value_usd"]
    summary = {"portfolio": "Flows", "status": "optimal", "value_terms_order": terms}
    (folder / "summary.json").write_text(json.dumps(summary))
    months = [f"2026-{m:02d}" for m in range(1, len(plan_musd) + 1)]
    for name, flows in (("cashflows", plan_musd), ("baseline_cashflows", base_musd)):
        frame = pd.DataFrame(
            {
                "month": months,
                "discount_factor": 1.0,
                "mining_revenue_usd": [a * 1e6 for a, _ in flows],
                "capex_usd": [b * 1e6 for _, b in flows],
                "funding_gap_usd": 1e12 if name == "cashflows" else 0.0,
            }
        )
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


@pytest.mark.parametrize(
    ("delta_musd", "expected"),
    [
        # -100, -200, -150, -100, -50, 0, +50, +100: non-negative for good from month 6
        ([-100, -100, 50, 50, 50, 50, 50, 50], "2026-06"),
        # +30, -20, -10, +10, +20, +15, +35: ahead at first, behind, then ahead from month 4
        ([30, -50, 10, 20, 10, -5, 20], "2026-04"),
        # -10, +10, -20, +20: ahead in month 2 but behind again in month 3, so month 4
        ([-10, 20, -30, 40], "2026-04"),
        # -10, -5: still behind at the end
        ([-10, 5], None),
    ],
)
def test_payback_month_is_when_cumulative_cash_turns_and_stays_non_negative(
    tmp_path: Path, delta_musd: list[float], expected: str | None
) -> None:
    # the delta is split over two terms: revenue up by 2×delta, capex down by delta
    base = [[10.0, -3.0] for _ in delta_musd]
    plan = [[10.0 + 2 * d, -3.0 - d] for d in delta_musd]
    run = load_run(write_flows(tmp_path / "run", plan, base))
    assert payback_month(run) == expected
    p = payback(run)
    assert p.cumulative_usd == pytest.approx(np.cumsum(delta_musd) * 1e6)
    assert p.trough_usd == pytest.approx(min(np.cumsum(delta_musd).min(), 0) * 1e6)
    assert not p.never_behind


def test_payback_never_behind_and_missing_baseline(tmp_path: Path) -> None:
    run = load_run(write_flows(tmp_path / "ahead", [[10, 0], [12, 0]], [[10, 0], [10, 0]]))
    p = payback(run)
    assert p.never_behind and p.month is None and p.trough_month is None
    (tmp_path / "ahead" / "baseline_cashflows.csv").unlink()
    assert payback(load_run(tmp_path / "ahead")) is None


def test_example_payback_matches_the_csvs(example_report) -> None:
    run_dir, files = example_report
    plan = pd.read_csv(run_dir / "cashflows.csv")
    base = pd.read_csv(run_dir / "baseline_cashflows.csv")
    terms = [c for c in plan.columns if c.endswith("_usd") and c != "funding_gap_usd"]
    cumulative = (plan[terms].sum(axis=1) - base[terms].sum(axis=1)).cumsum().to_numpy()
    behind = np.flatnonzero(cumulative < -1.0)
    assert behind.size, "the example's plan spends more than the status quo at first"
    if behind[-1] + 1 == len(cumulative):
        # the example with its financing offers converts more than it earns back in 60
        # months (principal is financing, not a cash flow of the value bridge)
        assert payback_month(load_run(run_dir)) is None
        return
    expected = plan["month"].iloc[behind[-1] + 1]
    assert payback_month(load_run(run_dir)) == expected
    text = files["html"].read_text(encoding="utf-8")
    assert f"pays back in {expected}" in text
    wb = openpyxl.load_workbook(files["xlsx"])
    items = {r[0]: r[1] for r in wb["summary"].iter_rows(min_row=2, values_only=True)}
    assert items["payback_month"] == expected


# --------------------------------------------------------------------------- other runs


def test_unfunded_run_shows_funding_gap(tmp_path: Path) -> None:
    path = tmp_path / "broke.yaml"
    data = tiny_portfolio(btc=0, cash_usd=0, min_cash_usd=1e9)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    run_dir = tmp_path / "run"
    result = CliRunner().invoke(main, ["plan", str(path), "--out", str(run_dir)])
    assert result.exit_code == 3, result.output
    formats = ("html", "xlsx", "pdf") if CHROMIUM is not None and POPPLER else ("html", "xlsx")
    files = build_report(run_dir, tmp_path / "report", formats, paper="letter")
    text = files["html"].read_text(encoding="utf-8")
    gap = pd.read_csv(run_dir / "funding_gap.csv")
    total, first = gap["gap_usd"].sum(), gap.loc[gap["gap_usd"] > 0.5, "month"].iloc[0]
    box = text.split('<div class="gap"', 1)[1].split("</div>", 1)[0]
    assert money(total) in box and first in box
    # the box comes first, before the title, and the gap is the first tile, in red
    assert text.index('<div class="gap"') < text.index("<h1>")
    tile = text.split('<div class="tile bad">', 1)[1].split("</div></div>", 1)[0]
    assert "Funding gap" in tile and money(total) in tile
    wb = openpyxl.load_workbook(files["xlsx"])
    assert "funding_gap" in wb.sheetnames
    if "pdf" in files:  # Letter paper; the gap leads page 1 of the PDF too
        assert pdf_pages(files["pdf"]) == len(section_headings(text))
        first_page = pdf_text(files["pdf"], 1)
        assert first_page.lstrip().startswith("Unfunded")
        assert money(total) in first_page


def test_scenario_column_shows_the_first_scenario(example_report, tmp_path: Path) -> None:
    """Stochastic runs add a ``scenario`` column to the monthly tables: the page shows the
    first scenario (and says so), the workbook keeps every scenario's rows."""
    run_dir, _ = example_report
    copy = tmp_path / "two"
    shutil.copytree(run_dir, copy)
    for name in ("plan", "treasury", "cashflows", "baseline_cashflows"):
        frame = pd.read_csv(copy / f"{name}.csv", dtype={"month": str})
        high = frame.copy()
        for col in [c for c in frame.columns if c.endswith("_usd")]:
            high[col] = frame[col] * 2  # a different scenario, so mixing would show
        both = pd.concat([frame.assign(scenario="base"), high.assign(scenario="high")])
        both[["scenario", *frame.columns]].to_csv(copy / f"{name}.csv", index=False)
    run = load_run(copy)
    assert run.scenarios == ["base", "high"]
    assert "scenario" not in run.table("plan").columns
    assert len(run.table("plan")) == len(pd.read_csv(run_dir / "plan.csv"))
    assert payback_month(run) == payback_month(load_run(run_dir))
    text = render_html(run, pngs={})  # the charts read the same first-scenario tables
    assert "covers 2 scenarios" in text and "&#x27;base&#x27;" in text
    files = build_report(copy, copy / "report", ("xlsx",))
    ws = openpyxl.load_workbook(files["xlsx"])["treasury"]
    header = [c.value for c in ws[1]]
    assert header[0] == "scenario"
    col = header.index("btc_price_usd")
    total = sum(r[col] for r in ws.iter_rows(min_row=2, values_only=True))
    assert total == pytest.approx(pd.read_csv(copy / "treasury.csv")["btc_price_usd"].sum())


# --------------------------------------------------------------------------- stochastic plans


def test_stochastic_report_shows_risk_across_paths(stochastic_report) -> None:
    run_dir, files = stochastic_report
    summary = json.loads((run_dir / "summary.json").read_text())
    block = summary["stochastic"]
    page = files["html"].read_text(encoding="utf-8")
    assert section_ids(page) == RISK_SECTIONS
    first = visible_text(section_html(page, "summary"))
    assert "Values are expected values over 2 market paths" in first
    assert money(block["cvar_usd"]) in first and money(summary["value_usd"]) in first
    risk_html = section_html(page, "risk")
    risk = visible_text(risk_html)
    for key in (
        "expected_value_usd",
        "cvar_usd",
        "p5_value_usd",
        "p50_value_usd",
        "p95_value_usd",
        "worst_value_usd",
        "best_value_usd",
        "evpi_usd",
        "ws_usd",
        "eev_outside_money_usd",
    ):
        assert money(block[key]) in risk, key
    # this case's average-path plan runs out of cash in the bust: VSS has no finite value,
    # the page says so in words and prints the note
    assert block["vss_usd"] is None and block["notes"]
    assert "no finite value" in risk and "cannot be carried out on every path" in risk
    assert all(f"Note: {n}" in risk for n in block["notes"])
    values = pd.read_csv(run_dir / "scenario_values.csv")
    ahead = int((values["value_usd"] > values["baseline_value_usd"]).sum())
    assert f"Paths on which the plan beats the status quo {ahead} of 2" in risk
    frontier = pd.read_csv(run_dir / "frontier.csv")
    for r in frontier.itertuples():
        assert musd(r.expected_value_usd) in risk and musd(r.cvar_usd) in risk
    assert 'alt="Plan and status-quo value on each market path"' in risk_html
    assert 'alt="Efficient frontier: expected value against CVaR"' in risk_html
    # the treasury chart is the fan over the paths
    assert "range from P5 to P95 of the paths" in visible_text(section_html(page, "treasury"))
    assert "<script" not in page.lower()


def test_stochastic_tables_are_expected_values_and_the_fan_spans_the_paths(
    stochastic_report,
) -> None:
    run_dir, files = stochastic_report
    summary = json.loads((run_dir / "summary.json").read_text())
    run = load_run(run_dir)
    assert run.probabilities == {"bust": 0.4, "boom": 0.6}
    tre = pd.read_csv(run_dir / "treasury.csv")
    sold = tre.groupby("scenario")["btc_sold"].sum()
    # expected BTC sold = 0.4 × bust + 0.6 × boom, as in summary.json
    expected = 0.4 * sold["bust"] + 0.6 * sold["boom"]
    assert expected > 0
    assert run.table("treasury")["btc_sold"].sum() == pytest.approx(expected, rel=1e-12)
    assert summary["btc_sold_total"] == pytest.approx(expected, rel=1e-9)
    assert btc_by_quarter(run)["btc_sold"].sum() == pytest.approx(expected, rel=1e-12)
    # two paths with probabilities 0.4 and 0.6: the lower one alone already reaches 5 %, so
    # P5 is the lower path's cash; 95 % needs both, so P95 is the higher path's
    fan = treasury_fan(run).set_index("month")
    cash = tre.pivot(index="month", columns="scenario", values="cash_usd")
    assert list(fan.index) == list(cash.index)
    assert fan["cash_usd_p5"].to_numpy() == pytest.approx(cash.min(axis=1).to_numpy())
    assert fan["cash_usd_p95"].to_numpy() == pytest.approx(cash.max(axis=1).to_numpy())
    assert (cash.max(axis=1) - cash.min(axis=1)).max() > 1.0  # the paths do differ
    decisions = visible_text(section_html(files["html"].read_text(), "decisions"))
    assert "BTC expected" in decisions


def test_stochastic_workbook_has_scenario_values_frontier_and_inputs(stochastic_report) -> None:
    run_dir, files = stochastic_report
    block = json.loads((run_dir / "summary.json").read_text())["stochastic"]
    wb = openpyxl.load_workbook(files["xlsx"])
    for name in ("scenario_values", "frontier", "inputs"):
        assert name in wb.sheetnames, name
        assert wb[name].freeze_panes == "A2"
    for name in ("scenario_values", "frontier"):
        csv = pd.read_csv(run_dir / f"{name}.csv")
        rows = list(wb[name].iter_rows(values_only=True))
        assert list(rows[0]) == list(csv.columns)
        col = "value_usd" if name == "scenario_values" else "expected_value_usd"
        j = rows[0].index(col)
        assert [r[j] for r in rows[1:]] == pytest.approx(list(csv[col]), rel=1e-12)
    items = {r[0]: r[1] for r in wb["summary"].iter_rows(min_row=2, values_only=True)}
    assert items["market_paths"] == 2
    for key in ("expected_value_usd", "cvar_usd", "p95_value_usd", "evpi_usd"):
        assert items[key] == pytest.approx(block[key], rel=1e-12), key
    assert "vss_usd" not in items  # no finite value; the note says why
    assert items["note"] == block["notes"][0]
    inputs = list(wb["inputs"].iter_rows(values_only=True))
    rate = [r for r in inputs if r[0] == "contract" and r[2] == "rate_usd_per_kw_month"]
    assert rate == [("contract", "Tenant", "rate_usd_per_kw_month", None, 250)]


@needs_pdf_tools
def test_stochastic_pdf_one_page_per_section_with_the_risk_numbers(stochastic_report) -> None:
    run_dir, files = stochastic_report
    block = json.loads((run_dir / "summary.json").read_text())["stochastic"]
    headings = section_headings(files["html"].read_text(encoding="utf-8"))
    assert len(headings) == len(RISK_SECTIONS) == 11
    assert_one_page_per_section(files["pdf"], headings)
    risk = " ".join(pdf_text(files["pdf"], RISK_SECTIONS.index("risk") + 1).split())
    assert risk.startswith("Risk across market paths")
    for key in ("expected_value_usd", "cvar_usd", "p5_value_usd", "p95_value_usd", "evpi_usd"):
        assert money(block[key]) in risk, key
    assert "expected values over 2 market paths" in " ".join(pdf_text(files["pdf"], 1).split())


def test_vss_and_evpi_in_plain_words(tmp_path: Path) -> None:
    run = Run(tmp_path, {"status": "optimal"})
    words = planning_value_sentences(
        run, {"expected_value_usd": 5e8, "vss_usd": 2.49e6, "evpi_usd": 3.5e6}
    )
    assert "worth $2.5M more in expected value than planning for the average path" in words[0]
    assert "would be worth at most $3.5M" in words[1]
    same = planning_value_sentences(run, {"expected_value_usd": 5e8, "vss_usd": 0.0})
    assert "would have done as well" in same[0]
    unsafe = {"vss_usd": None, "evpi_usd": None, "eev_outside_money_usd": 9e6}
    behind = planning_value_sentences(run, unsafe | {"vss_lower_bound_usd": 1e6})
    assert "cannot be carried out on every path" in behind[0]
    assert "worth $9.0M, $1.0M less than this plan" in behind[0]
    assert "EVPI) is not available" in behind[1]
    ahead = planning_value_sentences(run, unsafe | {"vss_lower_bound_usd": -7.7e6})
    assert "$7.7M more than this plan, but only with outside money this plan does not" in ahead[0]
    assert planning_value_sentences(run, {"expected_value_usd": 1.0}) == []


# --------------------------------------------------------------------------- input appendix


def test_input_appendix_lists_every_input(example_report) -> None:
    run_dir, files = example_report
    inputs = json.loads((run_dir / "inputs.json").read_text())
    page = files["html"].read_text(encoding="utf-8")
    first = visible_text(section_html(page, "inputs"))
    sites = visible_text(section_html(page, "inputs-sites"))
    assert "&lt;script&gt;" in section_html(page, "inputs-sites")  # the renamed site, as text
    for site in inputs["sites"]:
        assert site["name"] in sites
        assert number(site["grid_mw"]) in sites
        for group in site["fleets"]:
            assert group["name"] in sites
    prices = inputs["sites"][0]["power_price_usd_per_mwh"]  # Pecos: a 60-month series
    assert f"{number(prices[0])} → {number(prices[-1])}" in sites
    assert f"({number(min(prices))}–{number(max(prices))}), 60 months" in sites
    for contract in inputs["contracts"]:
        assert contract["name"] in first
        # a cloud contract (issue 15) states a GPU-hour price instead of a rate
        price = contract["rate_usd_per_kw_month"] or contract["usd_per_gpu_hour"]
        assert number(price) in first
    assert FORMULA in first
    t = inputs["treasury"]
    assert f"Cash floor, $ {number(t['min_cash_usd'])}" in first
    assert f"BTC at start {number(t['btc'])}" in first
    assert f"Discount rate per year {inputs['discount_rate_per_year'] * 100:g}%" in first
    btc = inputs["market"]["btc_price_usd"]
    assert f"BTC price, $ 60 {number(btc[0])} {number(btc[-1])}" in first
    # the workbook's inputs sheet: every month of every series, typed numbers, text kept text
    ws = openpyxl.load_workbook(files["xlsx"])["inputs"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    market = [r for r in rows if r[0] == "market" and r[2] == "btc_price_usd"]
    assert [r[4] for r in market] == btc and market[0][3] == inputs["start_month"]
    rates = {r[1]: r[4] for r in rows if r[2] == "rate_usd_per_kw_month"}
    # a cloud contract's rate is not set: the sheet says "—" (issue 15)
    assert rates == {c["name"]: c["rate_usd_per_kw_month"] or "—" for c in inputs["contracts"]}
    names = [c for row in ws.iter_rows(min_row=2) for c in row if c.value == FORMULA]
    assert names and all(c.data_type == "s" for c in names)


def test_inputs_json_reloads_to_the_same_inputs(tiny_run: Path, tmp_path: Path) -> None:
    """inputs.json holds every input: read back (JSON is YAML) it is the portfolio whose hash
    summary.json records."""
    copy = tmp_path / "inputs.yaml"
    shutil.copy(tiny_run / "inputs.json", copy)
    reloaded = load_portfolio(copy).model_dump_json(round_trip=True).encode()
    summary = json.loads((tiny_run / "summary.json").read_text())
    assert hashlib.sha256(reloaded).hexdigest() == summary["inputs_sha256"]


def test_run_folder_without_inputs_json_says_so(tiny_run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "old"
    shutil.copytree(tiny_run, copy)
    (copy / "inputs.json").unlink()
    page = render_html(load_run(copy), pngs={})
    text = visible_text(section_html(page, "inputs"))
    summary = json.loads((copy / "summary.json").read_text())
    assert "has no inputs.json" in text and summary["inputs_sha256"] in text
    assert "inputs-sites" not in section_ids(page)


# --------------------------------------------------------------------------- PDF and browser


@needs_pdf_tools
def test_pdf_one_page_per_section_with_the_summary_numbers(example_report) -> None:
    """How the page count is known: the print stylesheet starts every <section> on a new page
    and sizes charts and tables so that each section of a portfolio the size of the example
    fits on one page. So pages == sections (11), and page i begins with section i's heading;
    an overflowing section would push every later heading one page down and fail."""
    run_dir, files = example_report
    summary = json.loads((run_dir / "summary.json").read_text())
    page = files["html"].read_text(encoding="utf-8")
    headings = section_headings(page)
    assert len(headings) == len(FUNDED_SECTIONS) == 11
    assert_one_page_per_section(files["pdf"], headings)
    first = pdf_text(files["pdf"], 1)
    for figure in (
        money(summary["uplift_usd"]),
        money(summary["value_usd"]),
        money(summary["baseline_value_usd"]),
        f"{summary['btc_sold_total']:,.0f} BTC",
        f"{summary['it_mw_converted_total']:,.1f} MW",
        payback_month(load_run(run_dir)) or "not within the horizon",  # financed: no payback
    ):
        assert figure in first, figure
    assert XSS in first  # the hostile site name prints as text
    assert pdf_image_count(files["pdf"]) == page.count("<img ") == 8  # 6, and the funding charts
    info = subprocess.run(["pdfinfo", str(files["pdf"])], capture_output=True, text=True).stdout
    assert "(A4)" in info


@needs_chromium
def test_browser_renders_without_console_errors(example_report, tmp_path: Path) -> None:
    run_dir, files = example_report
    summary = json.loads((run_dir / "summary.json").read_text())
    shot = tmp_path / "report.png"
    loaded = load_in_chromium(files["html"], tmp_path, screenshot=shot)
    assert loaded["console"] == []
    # the parsed DOM has no script element: the hostile site name stayed text
    assert "<script" not in loaded["dom"].lower()
    text, images, console = rendered(files["html"], tmp_path)
    assert console == []
    # 6, and the example's funding sources by quarter and facilities' LTV
    assert images == files["html"].read_text(encoding="utf-8").count("<img ") == 8
    for figure in (
        money(summary["uplift_usd"]),
        money(summary["usd_raised_total"]),
        f"{summary['btc_sold_total']:,.2f} BTC",
        payback_month(load_run(run_dir)) or "not within the horizon",  # financed: no payback
        XSS,
    ):
        assert figure in text, figure
    pixels = mpimage.imread(shot)
    assert pixels.shape[:2] == (1600, 1200)
    assert pixels[..., :3].std() > 0.05  # not a blank page


@needs_chromium
def test_console_check_catches_a_broken_page(tmp_path: Path) -> None:
    """The browser test could fail: a script error and a missing image are both reported."""
    page = tmp_path / "broken.html"
    page.write_text(
        '<html><body><p>x</p><img alt="gone" src="missing.png">'
        "<script>undefinedFunction();</script></body></html>"
    )
    _, images, console = rendered(page, tmp_path)
    assert images == 0
    assert any("undefinedFunction" in line for line in console)
    assert any("broken image: gone" in line for line in console)


# --------------------------------------------------------------------------- CLI


@needs_chromium
def test_report_command_writes_pdf(tiny_run: Path, tmp_path: Path) -> None:
    run_dir = tiny_run
    out = tmp_path / "letter"
    res = CliRunner().invoke(
        main, ["report", str(run_dir), "--format", "pdf", "--paper", "letter", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert (out / "report.pdf").read_bytes()[:5] == b"%PDF-"
    if POPPLER:
        info = subprocess.run(["pdfinfo", str(out / "report.pdf")], capture_output=True, text=True)
        assert "(letter)" in info.stdout
    assert (out / "report.html").is_file() and not (out / "report.xlsx").exists()


def test_report_without_chromium_warns_and_writes_html_and_xlsx(
    tiny_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = tiny_run
    monkeypatch.setenv("REALLOC_CHROMIUM", str(tmp_path / "no-such-chromium"))
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["report", str(run_dir), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "warning: PDF not written" in res.output and "chromium" in res.output
    assert (out / "report.html").is_file() and (out / "report.xlsx").is_file()
    assert not (out / "report.pdf").exists()
    # asked for the PDF alone: its source, the HTML, is written instead
    res = CliRunner().invoke(main, ["report", str(run_dir), "--format", "pdf", "--out", str(out)])
    assert res.exit_code == 0 and "warning: PDF not written" in res.output
    # plan --report says so too, and writes the rest
    tiny = str(tiny_run.parent / "tiny.yaml")
    res = CliRunner().invoke(main, ["plan", tiny, "--report", "--out", str(tmp_path / "plan")])
    assert res.exit_code == 0 and "warning: PDF not written" in res.output
    assert (tmp_path / "plan" / "report.xlsx").is_file()
    assert not (tmp_path / "plan" / "report.pdf").exists()


def test_report_on_a_folder_without_a_plan_is_bad_input(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert res.exit_code == 2
    assert "summary.json not found" in res.output and "Traceback" not in res.output


def test_report_on_a_sweep_folder_points_to_compare(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    pd.DataFrame({"id": ["s1"], "status": ["optimal"]}).to_parquet(sweep / "variants.parquet")
    res = CliRunner().invoke(main, ["report", str(sweep)])
    assert res.exit_code == 2, res.output
    assert "holds a sweep's results" in res.output
    assert f"realloc compare {sweep}" in res.output
    assert "Traceback" not in res.output and not (sweep / "report.html").exists()


def test_board_reads_files_not_optimizer() -> None:
    package = Path(__file__).resolve().parents[1] / "reports" / "board"
    sources = sorted(package.glob("*.py"))
    assert {p.stem for p in sources} >= {"data", "charts", "html", "xlsx", "pdf", "build"}
    modules = set()
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                modules.add(node.module or "")
    assert not {m for m in modules if m.split(".")[0] in {"optimizer", "models", "inputs"}}
    assert "matplotlib.pyplot" not in modules
