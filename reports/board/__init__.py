"""Board report: one decision document in HTML, PDF and Excel, built from a run folder.

The report reads only the files ``realloc plan --out DIR`` writes (README "Outputs"): those
files are the contract, so nothing here imports the optimizer. Sections, in order:

1. decision summary (a red funding-gap box first when the plan is unfunded);
2. capacity: grid MW by use over time, the portfolio and one small chart per site;
3. conversion timeline (construction start → ready, per site);
4. treasury: BTC held and sold, BTC price, cash against its floor;
5. value bridge from the status quo to the plan, by objective term;
6. appendix: method, solver, versions, input hash, timestamps and the verification table.

Modules, one job each: ``data`` reads the run folder, ``figures`` derives the numbers and
tables, ``charts`` draws the PNGs, ``html`` writes the page, ``xlsx`` the workbook, ``pdf``
prints the page with headless Chromium, ``build`` ties them together.
"""

from reports.board.build import REPORT_FORMATS, build_report, choose_formats
from reports.board.data import NotARunFolder, Run, load_run
from reports.board.figures import payback, payback_month
from reports.board.pdf import PdfEngineMissing, PdfPrintError, pdf_engine

__all__ = [
    "REPORT_FORMATS",
    "NotARunFolder",
    "PdfEngineMissing",
    "PdfPrintError",
    "Run",
    "build_report",
    "choose_formats",
    "load_run",
    "payback",
    "payback_month",
    "pdf_engine",
]
