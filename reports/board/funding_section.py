"""The board report's "Funding the plan" section, for plans whose portfolio offers financing
(the run folder has funding.csv): what the plan raises and from where, the cost of the HODL
floor, sources by quarter (chart), the debt schedule, why each offered source was or was not
used and the margin-call headroom (with the loan-to-value P5–P95 across market paths in a
stochastic plan); and the workbook's funding sheets. The numbers and sentences are
reports/funding_report.py's, so summary.md says the same."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from realloc.reports.board.data import Run
from realloc.reports.board.funding_charts import funding_frame
from realloc.reports.board.markup import esc, html_table, img
from realloc.reports.funding_report import (
    SCHEDULE_HEADERS,
    choice_sentences,
    compact_schedule,
    debt_schedule,
    headroom_sentences,
    hodl_sentence,
    ltv_fan,
    ltv_limits,
    sources_by_quarter,
    sources_sentence,
    worst_ltv_sentence,
)
from realloc.reports.summary_md import money


def _min_btc(run: Run) -> float | None:
    """The HODL floor (``treasury.min_btc``) from inputs.json; None when the folder has none."""
    treasury = (run.inputs or {}).get("treasury") or {}
    value = treasury.get("min_btc") if isinstance(treasury, dict) else None
    return float(value) if isinstance(value, int | float) else None


def _limits(run: Run) -> dict[str, float]:
    return ltv_limits((run.inputs or {}).get("financing"))


def funding_section(run: Run, pngs: dict[str, bytes]) -> str:
    """The section's HTML ('' for a plan without financing)."""
    funding = funding_frame(run)
    if funding.empty:
        return ""
    s = run.summary
    parts = ['<section id="funding"><h2>Funding the plan</h2>']
    said = [sources_sentence(s)]
    min_btc = _min_btc(run)
    if min_btc is not None:
        said.append(hodl_sentence(min_btc, s.get("hodl_cost_usd_per_btc_year")))
    parts += [f"<p>{esc(t)}</p>" for t in said if t]
    caption = "Expected over the market paths, probability-weighted. " if run.expected else ""
    parts.append(
        img(
            pngs.get("funding_sources"),
            "Sources of cash by quarter",
            caption + "Cash raised in each quarter: BTC sold (net of sale costs), tenant "
            "prepayments, loan draws, notes issued and equity issued.",
        )
    )
    schedule = debt_schedule(funding, run.probabilities)
    if not schedule.empty:
        title = "Debt schedule" + (", expected over the market paths" if run.expected else "")
        parts.append(f'<div class="keep"><h3>{esc(title)}</h3>')
        shown = compact_schedule(schedule)[list(SCHEDULE_HEADERS)]
        fmt = {c: money for c in SCHEDULE_HEADERS if c.endswith("_usd")}
        parts += [html_table(shown, SCHEDULE_HEADERS, fmt), "</div>"]
    parts += _why_and_headroom(run, funding, pngs)
    parts.append("</section>")
    return "\n".join(parts)


def _why_and_headroom(run: Run, funding: pd.DataFrame, pngs: dict[str, bytes]) -> list[str]:
    """Why each offered source was (not) used, then the margin-call headroom: each facility's
    breaking BTC price, the loan-to-value chart and the worst month across paths."""
    parts: list[str] = []
    choices = choice_sentences(run.summary.get("funding_choices") or [])
    if choices:
        parts.append('<div class="keep"><h3>Why each offered source was or was not used</h3>')
        parts.append("<ul>" + "".join(f"<li>{esc(c)}</li>" for c in choices) + "</ul></div>")
    limits = _limits(run)
    lines = headroom_sentences(run.summary.get("ltv_headroom") or [], limits, str, run.expected)
    worst = worst_ltv_sentence(ltv_fan(funding, run.probabilities), limits)
    lines += [worst] if worst else []
    if lines or "ltv" in pngs:
        parts.append('<div class="keep"><h3>Margin-call headroom</h3>')
        parts.append("<ul>" + "".join(f"<li>{esc(t)}</li>" for t in lines) + "</ul>")
        cap = "Lines: P50 of the market paths; bands: P5 to P95. " if run.expected else ""
        parts += [img(pngs.get("ltv"), "Loan-to-value by month", cap), "</div>"]
    return parts


def funding_by_quarter_frame(run: Run) -> pd.DataFrame:
    """The workbook's sources-by-quarter sheet (empty without financing)."""
    funding = funding_frame(run)
    return pd.DataFrame() if funding.empty else sources_by_quarter(funding, run.probabilities)


def debt_schedule_frame(run: Run) -> pd.DataFrame:
    """The workbook's debt-schedule sheet (empty without debt)."""
    funding = funding_frame(run)
    return pd.DataFrame() if funding.empty else debt_schedule(funding, run.probabilities)


def ltv_paths_frame(run: Run) -> pd.DataFrame:
    """The workbook's loan-to-value P5/P50/P95 sheet (empty unless stochastic with debt)."""
    funding = funding_frame(run)
    return pd.DataFrame() if funding.empty else ltv_fan(funding, run.probabilities)


FUNDING_SHEETS: dict[str, Callable[[Run], pd.DataFrame]] = {
    "funding_by_quarter": funding_by_quarter_frame,
    "debt_schedule": debt_schedule_frame,
    "ltv_paths": ltv_paths_frame,
}
"""Derived workbook sheets of the funding section, by sheet name (left out when empty)."""
