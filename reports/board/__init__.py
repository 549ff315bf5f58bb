"""Board report: one decision document in HTML, PDF and Excel, built from a run folder.

The report reads only the files ``realloc plan --out DIR`` writes (README "Outputs"): those
files are the contract, so nothing here runs the optimizer (its headline figures are computed
by optimizer/statistics.py, as for summary.json, with no solver loaded). Sections, in order:

1. decision summary (a red funding-gap box first when the plan is unfunded);
2. capacity: grid MW by use over time, the portfolio and one small chart per site;
3. conversion timeline (construction start → ready, per site);
4. treasury: BTC held and sold, BTC price, cash against its floor; then, when the portfolio
   offers financing (funding.csv), funding the plan: sources by quarter, the debt schedule, the
   HODL cost, why each source was (not) used, the margin-call headroom (``funding_section``);
5. value bridge from the status quo to the plan, by objective term;
6. risk across market paths (stochastic plans only): value per path, CVaR, VSS, EVPI, frontier;
7. appendix A: every input assumption (inputs.json) as tables, over two pages;
8. appendices B and C: method, solver, versions, input hash, timestamps, verification table.

For a stochastic plan the monthly tables are expected values over the paths and the treasury
chart shows the P5–P95 fan. A sweep folder is refused with a pointer to ``realloc compare``.

Modules, one job each: ``data`` reads the run folder, ``figures`` derives the numbers and
tables, ``charts`` draws the PNGs, ``markup`` holds the HTML building blocks, ``html`` writes
the page, ``risk_section`` and ``inputs_appendix`` its risk section and input appendix (and the
workbook's inputs sheet), ``funding_section`` and ``funding_charts`` the funding section
(its HTML and workbook sheets, its charts), ``xlsx`` the workbook, ``pdf`` prints the page
with headless Chromium, ``build`` ties them together.
"""

from realloc.reports.board.build import REPORT_FORMATS, build_report, choose_formats
from realloc.reports.board.data import NotARunFolder, Run, SweepFolder, load_run
from realloc.reports.board.figures import payback, payback_month
from realloc.reports.board.pdf import PdfEngineMissing, PdfPrintError, pdf_engine

__all__ = [
    "REPORT_FORMATS",
    "NotARunFolder",
    "PdfEngineMissing",
    "PdfPrintError",
    "Run",
    "SweepFolder",
    "build_report",
    "choose_formats",
    "load_run",
    "payback",
    "payback_month",
    "pdf_engine",
]
