"""Build the board report of a run folder: the entry point behind ``realloc report``."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from reports.board.data import load_run
from reports.board.html import render_html
from reports.board.xlsx import render_xlsx

REPORT_FORMATS = ("html", "xlsx")
"""Formats :func:`build_report` can write: ``report.html`` and ``report.xlsx``."""

# --------------------------------------------------------------------------- entry point


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def build_report(
    run_dir: Path | str, out: Path | str, formats: Sequence[str] = REPORT_FORMATS
) -> dict[str, Path]:
    """Build the board report of the run in ``run_dir`` into the folder ``out``.

    Writes ``report.html`` (self-contained: inline CSS and PNG charts, print-ready) and/or
    ``report.xlsx`` (one sheet per table); returns the paths written, by format.
    """
    unknown = [f for f in formats if f not in REPORT_FORMATS]
    if unknown:
        raise ValueError(f"unknown report format(s) {unknown}; expected {list(REPORT_FORMATS)}")
    run = load_run(run_dir)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    if "html" in formats:
        path = out / "report.html"
        text = render_html(run)
        _atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))
        written["html"] = path
    if "xlsx" in formats:
        path = out / "report.xlsx"
        _atomic_write(path, lambda p: render_xlsx(run, p))
        written["xlsx"] = path
    return written
