"""Figures and tables as summary.md writes them: money with M/B suffixes and Markdown tables.

Its own module so that every writer of Markdown text (summary.md, the funding and value-split
sections, the board report) formats alike without importing summary.md's page builder.
"""

from __future__ import annotations

import pandas as pd

from realloc.reports.safe_text import md_text


def money(v: float | None) -> str:
    """$ with M/B suffixes, as boards read it."""
    if v is None:
        return "n/a"
    a = abs(v)
    sign = "-" if v < 0 else ""
    if a >= 1e9:
        return f"{sign}${a / 1e9:,.2f}B"
    if a >= 1e6:
        return f"{sign}${a / 1e6:,.1f}M"
    return f"{sign}${a:,.0f}"


def md_table(frame: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table (``_none_`` when empty); names shown, never acted on."""
    if frame.empty:
        return "_none_\n"
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def _cell(v) -> str:
    if isinstance(v, float):
        return f"{v:,.2f}"
    return md_text(v)  # names: markup and pipes in them are shown, not acted on
