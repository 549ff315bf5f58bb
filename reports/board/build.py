"""Build the board report of a run folder: the entry point behind ``realloc report``."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Sequence
from pathlib import Path

from realloc.reports.atomic import replace_file
from realloc.reports.board.charts import charts
from realloc.reports.board.data import UNDATED, load_run
from realloc.reports.board.funding_charts import funding_charts
from realloc.reports.board.html import render_html
from realloc.reports.board.pdf import (
    PAPER_SIZES,
    PdfEngineMissing,
    pdf_engine,
    print_pdf,
    stamp_pdf_dates,
)
from realloc.reports.board.xlsx import render_xlsx

REPORT_FORMATS = ("html", "xlsx", "pdf")
"""Formats :func:`build_report` can write: ``report.html``, ``report.xlsx``, ``report.pdf``."""

DEFAULT_PAPER = "a4"


def choose_formats(wanted: Sequence[str] | None) -> tuple[tuple[str, ...], str | None]:
    """The formats to write for a request, and a warning when the PDF cannot be printed here.

    ``wanted`` None means every format this machine can write. A PDF asked for without Chromium
    is dropped (with the warning) and the HTML written instead: it is the PDF's source and
    prints from any browser.
    """
    formats = tuple(dict.fromkeys(wanted)) if wanted is not None else REPORT_FORMATS
    if "pdf" not in formats or pdf_engine() is not None:
        return formats, None
    kept = tuple(f for f in formats if f != "pdf")
    if "html" not in kept:
        kept = ("html", *kept)
    return kept, f"PDF not written: {PdfEngineMissing()}; report.html prints from any browser"


def _print_stamped(source: Path, pdf: Path, engine: Path, created: dt.datetime) -> None:
    """Print the page to ``pdf``, dated when the plan was made (not when it was printed)."""
    print_pdf(source, pdf, engine)
    stamp_pdf_dates(pdf, created)


def build_report(
    run_dir: Path | str,
    out: Path | str,
    formats: Sequence[str] = ("html", "xlsx"),
    paper: str = DEFAULT_PAPER,
    evaluation: Path | str | None = None,
) -> dict[str, Path]:
    """Build the board report of the run in ``run_dir`` into the folder ``out``.

    Writes ``report.html`` (self-contained: inline CSS and PNG charts, print-ready),
    ``report.xlsx`` (one sheet per table) and ``report.pdf`` (that page printed on ``paper``,
    ``a4`` or ``letter``, by headless Chromium; asking for it writes ``report.html`` too, its
    source). Returns the paths written, by format. Raises :class:`PdfEngineMissing` before
    writing anything when the PDF is asked for and no Chromium is installed. ``evaluation``:
    a ``realloc evaluate`` folder of this plan, for the out-of-sample section.
    """
    unknown = [f for f in formats if f not in REPORT_FORMATS]
    if unknown:
        raise ValueError(f"unknown report format(s) {unknown}; expected {list(REPORT_FORMATS)}")
    if paper.lower() not in PAPER_SIZES:
        raise ValueError(f"unknown paper {paper!r}; expected one of {sorted(PAPER_SIZES)}")
    engine = pdf_engine() if "pdf" in formats else None
    if "pdf" in formats and engine is None:
        raise PdfEngineMissing()
    run = load_run(run_dir)
    if evaluation is not None:
        from realloc.reports.board.evaluation_section import load_evaluation

        run.evaluation, run.evaluation_png = load_evaluation(Path(evaluation), Path(run_dir))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    pngs = {}
    if {"html", "pdf"} & set(formats):
        # funding charts: {} unless the plan has financing (funding.csv)
        pngs = charts(run) | funding_charts(run)
    if "html" in formats or "pdf" in formats:
        path = out / "report.html"
        text = render_html(run, pngs)
        replace_file(path, lambda p: p.write_text(text, encoding="utf-8"))
        written["html"] = path
    if "xlsx" in formats:
        path = out / "report.xlsx"
        replace_file(path, lambda p: render_xlsx(run, p))
        written["xlsx"] = path
    if "pdf" in formats:
        # the same page with its paper size fixed (report.html leaves it to the reader's printer)
        printable = render_html(run, pngs, paper=PAPER_SIZES[paper.lower()])
        with tempfile.TemporaryDirectory(prefix="realloc-report-") as tmp:
            source = Path(tmp) / "report.html"
            source.write_text(printable, encoding="utf-8")
            path = out / "report.pdf"
            replace_file(path, lambda p: _print_stamped(source, p, engine, run.created or UNDATED))
        written["pdf"] = path
    return written
