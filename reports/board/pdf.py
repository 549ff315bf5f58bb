"""Print the report's HTML page to PDF with headless Chromium (Debian package ``chromium``).

Chromium is a system program, not a Python package: ``.ci/install-pdf-tools`` installs it (and
poppler-utils for the tests). ``REALLOC_CHROMIUM`` may name another Chromium or Chrome binary.
When none is found, :func:`pdf_engine` returns None and :class:`PdfEngineMissing` says how to
get one; the HTML and the workbook do not depend on it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
"""Executables tried in order on PATH when ``REALLOC_CHROMIUM`` is not set."""

PAPER_SIZES = {"a4": "A4", "letter": "letter"}
"""Paper sizes the PDF can be printed on (CSS ``@page size`` keywords by lower-case name)."""

PRINT_TIMEOUT_S = 120.0

INSTALL_HINT = (
    "install Debian's `chromium` package (`bash .ci/install-pdf-tools` does it) or set "
    "REALLOC_CHROMIUM to a Chromium/Chrome executable"
)


class PdfEngineMissing(RuntimeError):
    """No headless Chromium to print the PDF with."""

    def __init__(self) -> None:
        super().__init__(f"no Chromium found to print the PDF: {INSTALL_HINT}")


class PdfPrintError(RuntimeError):
    """Chromium ran but did not produce a PDF."""


def pdf_engine() -> Path | None:
    """The Chromium executable to print with, or None when there is none."""
    override = os.environ.get("REALLOC_CHROMIUM")
    if override:
        found = shutil.which(override)
        return Path(found) if found else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def chromium_command(engine: Path, profile_dir: Path, *args: str) -> list[str]:
    """A headless Chromium command line with a throw-away profile and nothing that phones home.

    ``--no-sandbox`` because CI and containers run as root, where Chromium's sandbox refuses
    to start; the page printed is our own file, with no scripts and no network fetches.
    """
    return [
        str(engine),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-extensions",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-sync",
        "--metrics-recording-only",
        f"--user-data-dir={profile_dir}",
        *args,
    ]


def print_pdf(html_path: Path, pdf_path: Path, engine: Path | None = None) -> Path:
    """Print ``html_path`` to ``pdf_path`` (no browser header or footer); return ``pdf_path``.

    Page size and margins come from the page's own ``@page`` rule.
    """
    engine = engine or pdf_engine()
    if engine is None:
        raise PdfEngineMissing()
    pdf_path.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="realloc-chromium-") as profile:
        cmd = chromium_command(
            engine,
            Path(profile),
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf_path}",
            html_path.resolve().as_uri(),
        )
        try:
            done = subprocess.run(
                cmd, capture_output=True, text=True, timeout=PRINT_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired as e:
            raise PdfPrintError(f"Chromium took over {PRINT_TIMEOUT_S:.0f} s to print") from e
    if not pdf_path.is_file() or pdf_path.read_bytes()[:5] != b"%PDF-":
        tail = "\n".join((done.stderr or "").strip().splitlines()[-5:])
        raise PdfPrintError(f"Chromium (exit {done.returncode}) wrote no PDF: {tail}")
    return pdf_path


_PDF_DATE = re.compile(rb"/(CreationDate|ModDate) \(D:\d{14}[+\-Z][^)]{0,7}\)")
"""Chromium's document dates, ``/CreationDate (D:20261201004125+00'00')``."""


def stamp_pdf_dates(pdf_path: Path, when: dt.datetime) -> None:
    """Replace the print time Chromium writes into the PDF's creation and modification dates
    with ``when`` (the time the plan was made, UTC), so that printing one report twice gives
    the same bytes. Each date is rewritten to the same length, so the cross-reference offsets
    stay valid; a date in another layout is left as it is."""

    def fixed(match: re.Match[bytes]) -> bytes:
        new = b"/%s (D:%s+00'00')" % (match.group(1), when.strftime("%Y%m%d%H%M%S").encode())
        return new if len(new) == len(match.group(0)) else match.group(0)

    data = pdf_path.read_bytes()
    stamped = _PDF_DATE.sub(fixed, data)
    if stamped != data:
        pdf_path.write_bytes(stamped)
