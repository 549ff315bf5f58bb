"""Text that realloc writes into files other programs interpret: spreadsheets and Markdown.

Names (portfolio, sites, fleet groups, contracts, scenarios) are the user's free text and reach
every output. Two programs would act on them rather than show them:

- A spreadsheet opening a CSV runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and
  some read a leading tab or carriage return, or the full-width ``＝＋－＠``, the same way) as a
  formula: a contract named ``=cmd|' /C calc'!A0`` would start a program on the reader's
  machine. :func:`csv_text` applies the OWASP CSV-injection rule (a single quote in front, which
  spreadsheets show as text and do not display); :func:`csv_text_back` undoes it where realloc
  reads its own CSVs, so names survive the round trip. In a workbook, :func:`xlsx_text` stores
  text as a string cell (openpyxl would otherwise write ``=...`` as a formula).
- A Markdown viewer renders ``<script>``, ``<img onerror=...>``, links, emphasis and table
  pipes inside a name. :func:`md_text` backslash-escapes what Markdown or HTML would act on and
  puts a name on one line.

One function per concern, so every writer applies the same rule (README "Outputs").
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
"""First characters that make a spreadsheet read a cell as a formula (OWASP's list: ASCII
``= + - @``, tab, carriage return, and the full-width ``＝ ＋ － ＠``)."""

CSV_QUOTE = "'"
"""The prefix that keeps such a cell text. A text cell that already starts with it gets one more,
so that removing exactly one on reading gives back the original text (``'x`` is written
``''x``)."""

_CSV_ESCAPED = (*FORMULA_START, CSV_QUOTE)


def csv_text(text: str) -> str:
    """``text`` as a CSV cell a spreadsheet shows and never evaluates: ``'`` in front when it
    starts with a formula character (or with ``'``, so the rule can be undone exactly).

    A carriage return inside the text is written as a line feed: the CSV writer quotes a cell
    holding a line feed but not one holding a bare carriage return, which readers take as the
    end of the row."""
    if text.startswith(_CSV_ESCAPED):
        text = CSV_QUOTE + text
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def csv_text_back(text: str) -> str:
    """Undo :func:`csv_text`: a cell realloc wrote as ``'=x`` reads back as ``=x``."""
    return text[1:] if text.startswith(CSV_QUOTE) else text


def _csv_column(column: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return column  # numbers stay numbers: -5 is a value, not a formula
    escape = {v for v in pd.unique(column) if isinstance(v, str) and csv_text(v) != v}
    if not escape:
        return column
    return column.map(lambda v: csv_text(v) if isinstance(v, str) else v)


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with :func:`csv_text` applied to every text cell and text header; numbers,
    booleans and missing values untouched."""
    out = frame.apply(_csv_column) if len(frame.columns) else frame
    out.columns = [csv_text(c) if isinstance(c, str) else c for c in frame.columns]
    return out


def write_csv(frame: pd.DataFrame, path: Path | str, columns: list[str] | None = None) -> None:
    """Every CSV realloc writes goes through here: ``columns`` (when given) in that order, text
    cells made safe by :func:`csv_text`, ``\\n`` line ends, no index."""
    if columns is not None:
        frame = frame.reindex(columns=columns)
    csv_frame(frame).to_csv(path, index=False, lineterminator="\n")


def read_csv_text(path: Path | str) -> pd.DataFrame:
    """A CSV realloc wrote, every cell as text with :func:`csv_text` undone (headers too); empty
    cells are ``""``."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.columns = [csv_text_back(c) for c in frame.columns]
    for col in frame.columns:
        quoted = frame[col].str.startswith(CSV_QUOTE)
        if quoted.any():
            frame[col] = frame[col].where(~quoted, frame[col].str.slice(1))
    return frame


def xlsx_text(cell: Any, text: str) -> None:
    """Store ``text`` in an openpyxl ``cell`` as a string, whatever it starts with (openpyxl
    turns a value starting with ``=`` into a formula). Formula-like text also gets Excel's
    quote-prefix flag, so editing the cell in Excel keeps it text."""
    cell.value = text
    cell.data_type = "s"
    if text.startswith(FORMULA_START):
        cell.quotePrefix = True


_MD_SPECIAL = frozenset("\\`*_[]<>|#~&")
"""Characters escaped in a name: inline Markdown (code, emphasis, links and images,
strikethrough), raw HTML and entities, table cell ends, heading marks. ``$`` and the digits,
``-`` and ``+`` of money figures are left as they are."""


def md_text(value: object) -> str:
    """``value`` as inline Markdown text (inside a sentence, a heading or a table cell) that
    renders as itself: one line (line breaks, tabs and other control characters become spaces)
    with every Markdown- or HTML-significant character backslash-escaped (CommonMark renders
    ``\\<`` as ``<``, never as a tag)."""
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in str(value)
    )
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in text)
