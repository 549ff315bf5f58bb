"""One column of a CSV file as a monthly series (``{csv: FILE, column: NAME}`` in a portfolio or a
variant set).

Read with the standard ``csv`` module rather than pandas so that every value keeps the line it
came from (errors name file, line and column), the header is seen as written (a column given
twice is refused instead of being renamed ``x.1``), and numbers are read strictly (ASCII digits,
no ``1_000``, no units).

Rules: one header row; columns compared after trimming spaces; a ``month`` column (any case)
must run one month per row from the portfolio's start_month; trailing blank cells end a series
(a blank inside it is refused); at most :data:`MAX_CSV_ROWS` rows. A series must cover the
horizon: without a ``month`` column it must have exactly one value per month (more is refused,
as the rows cannot be matched to months); with one, rows after the horizon are left out.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from realloc.inputs.errors import InputError
from realloc.inputs.files import cut_list, decode_utf8, read_input_bytes, shown
from realloc.models.base import MONTH_PATTERN, month_label

MAX_CSV_ROWS = 100_000
"""Most data rows a series CSV may have: 600 months is the longest horizon, and a shared market
file with a month column rarely holds more than a few thousand; a bigger file is a wrong file."""

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_NOT_FINITE = re.compile(r"[+-]?(?:inf|infinity|nan)", re.IGNORECASE)
_MONTH = re.compile(r"\d{4}-\d{2}", re.ASCII)


@dataclass(frozen=True)
class CsvSeries:
    """A column's values and, for each, the line of the file it was read from."""

    path: Path
    column: str
    values: list[float]
    lines: list[int]

    def where(self, index: int | None = None) -> str:
        """``prices.csv line 4, column 'btc'`` (value ``index``), or the whole column's lines."""
        if index is not None and 0 <= index < len(self.lines):
            return f"{self.path.name} line {self.lines[index]}, column {shown(self.column)}"
        span = f"lines {self.lines[0]}-{self.lines[-1]}" if self.lines else "no values"
        return f"{self.path.name} column {shown(self.column)} ({span})"


@dataclass(frozen=True)
class Horizon:
    """The months a series must cover: the portfolio's start_month and months (None when the
    portfolio's own values are invalid: its validation reports them)."""

    start_month: str | None = None
    months: int | None = None


MAX_CSV_SERIES = 2_000
"""Most CSV series one file may name (a 200-site portfolio names about 200): each is read and
checked, so a file naming one CSV a million times (through aliases) must stop early."""


@dataclass
class _Table:
    """A CSV file's header and data rows (month-checked when it has a month column)."""

    header: list[str]
    names: dict[str, int]
    body: list[tuple[int, list[str]]]


@dataclass
class CsvReads:
    """The CSV files one document has read, each read and checked once however many series
    name it, and how many series it has named."""

    tables: dict[Path, _Table] = field(default_factory=dict)
    count: int = 0


def read_csv_series(
    path: Path, column: str, used_by: str, horizon: Horizon, reads: CsvReads | None = None
) -> CsvSeries:
    """The values of ``column`` in the CSV at ``path``; ``used_by`` names the field that asks.

    ``reads`` (one per document) lets the file be read once for all the series that name it.
    """
    reads = reads if reads is not None else CsvReads()
    reads.count += 1
    if reads.count > MAX_CSV_SERIES:
        raise InputError(
            f"more than {MAX_CSV_SERIES:,} CSV series{used_by}; a portfolio names one per "
            "site's power price and market series at most: check aliases (*name) repeating a "
            "{csv: ...} series",
            path,
        )
    table = reads.tables.get(path)
    if table is None:
        table = reads.tables[path] = _read_table(path, used_by, horizon)
    wanted = column.strip()
    if wanted not in table.names:
        listed = cut_list([n for n in table.names if n])
        fix = "check the name in the YAML against the header row"
        if len(table.names) == 1 and any(sep in table.header[0] for sep in ";\t"):
            fix = "the columns seem separated by ';' or tabs: save the file comma-separated"
        raise InputError(f"no column {shown(column)}{used_by}; columns are {listed}; {fix}", path)
    cells = _column(table.body, table.names[wanted])
    blank = next((line for line, text in cells if not text), None)
    if blank is not None:
        raise InputError(
            f"line {blank}, column {shown(wanted)}{used_by}: blank cell; give a value for every "
            "month",
            path,
        )
    _check_length(len(cells), wanted, "month" in table.names, path, used_by, horizon)
    return _values(cells, wanted, path, used_by)


def _read_table(path: Path, used_by: str, horizon: Horizon) -> _Table:
    """Read, decode and check a series CSV's rows (bounded: see inputs/files.py)."""
    data = read_input_bytes(path, "series CSV", used_by=used_by)
    try:
        text = decode_utf8(data, path)
    except InputError as e:
        raise InputError(f"cannot read CSV{used_by}: {e.message}", path) from None
    rows = _rows(text, path, used_by)
    if not rows:
        raise InputError(
            f"the file is empty{used_by}; a series CSV has a header row naming its columns and "
            "one row per month",
            path,
        )
    header_line, header = rows[0]
    names = _header(header, header_line, path, used_by)
    body = rows[1:]
    if len(body) > MAX_CSV_ROWS:
        raise InputError(
            f"{len(body):,} rows{used_by}, over the limit of {MAX_CSV_ROWS:,}; a series has one "
            "row per month (is it the right file?)",
            path,
        )
    _check_widths(body, len(header), path, used_by)
    body = _without_trailing_blank_rows(body)
    if "month" in names:
        body = _check_months(body, names["month"], path, used_by, horizon)
    return _Table(header, names, body)


def _rows(text: str, path: Path, used_by: str) -> list[tuple[int, list[str]]]:
    """(line, cells) of every row from the header on; the line is where the row starts. Blank
    lines before the header are skipped; later ones are kept as blank rows (trailing ones are
    dropped by the caller, one inside a series is refused like a blank cell)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    out, line = [], 1
    try:
        for cells in reader:
            if cells or out:
                out.append((line, cells))
            line = reader.line_num + 1
            if len(out) > MAX_CSV_ROWS + 1:
                break  # the row limit is reported by the caller
    except csv.Error as e:
        raise InputError(
            f"line {reader.line_num}: cannot read CSV ({e}){used_by}; save it as comma-separated "
            "UTF-8 text with one header row",
            path,
        ) from None
    return out


def _header(header: list[str], line: int, path: Path, used_by: str) -> dict[str, int]:
    """Column name -> position; ``month`` in any case is the month column; a name given twice
    is refused, naming both positions (which one would be read is anyone's guess)."""
    names: dict[str, int] = {}
    for i, raw in enumerate(header):
        name = raw.strip()
        if name.lower() == "month":
            name = "month"
        if not name:
            continue
        if name in names:
            raise InputError(
                f"line {line}: column {shown(raw.strip())} is given twice in the header "
                f"(columns {names[name] + 1} and {i + 1}){used_by}; rename or delete one",
                path,
            )
        names[name] = i
    return names


def _check_widths(body: list[tuple[int, list[str]]], width: int, path: Path, used_by: str) -> None:
    for line, cells in body:
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            raise InputError(
                f"line {line}: {len(cells)} cells but the header names {width} columns"
                f"{used_by}; a comma inside a number (1,000) splits it: write 1000",
                path,
            )


def _blank(cells: list[str]) -> bool:
    return not any(c.strip() for c in cells)


def _without_trailing_blank_rows(body: list[tuple[int, list[str]]]) -> list[tuple[int, list[str]]]:
    end = len(body)
    while end and _blank(body[end - 1][1]):
        end -= 1
    return body[:end]


def _cell(cells: list[str], i: int) -> str:
    return cells[i].strip() if i < len(cells) else ""


def _check_months(
    body: list[tuple[int, list[str]]], col: int, path: Path, used_by: str, horizon: Horizon
) -> list[tuple[int, list[str]]]:
    """A month column must run one month per row from start_month (values are read by
    position: a gap or a shuffled row would shift every month after it). Returns the rows
    of the horizon's months (later rows are matched to no month and left out)."""
    labels = [_cell(cells, col) for _, cells in body]
    for (line, _), m in zip(body, labels, strict=True):
        if not (_MONTH.fullmatch(m) and MONTH_PATTERN.match(m)):
            raise InputError(
                f"line {line}, column 'month'{used_by}: expected a month written YYYY-MM, "
                f"got {shown(m)}",
                path,
            )
    start = horizon.start_month
    if labels and start is not None and MONTH_PATTERN.match(start) and labels[0] != start:
        raise InputError(
            f"line {body[0][0]}, column 'month'{used_by}: the series starts in {labels[0]} but "
            f"the portfolio's start_month is {start}; start the CSV at {start} (values are read "
            "by position, one per month)",
            path,
        )
    for i in range(1, len(labels)):
        want = month_label(labels[0], i)
        if labels[i] != want:
            raise InputError(
                f"line {body[i][0]}, column 'month'{used_by}: expected {want} after "
                f"{labels[i - 1]}, got {labels[i]}; sort the rows by month and fill any "
                "missing month",
                path,
            )
    if horizon.months is not None and start is not None:
        return body[: horizon.months]
    return body


def _column(body: list[tuple[int, list[str]]], col: int) -> list[tuple[int, str]]:
    """(line, cell) of a column, trailing blank cells left out (they end the series)."""
    cells = [(line, _cell(row, col)) for line, row in body]
    end = len(cells)
    while end and not cells[end - 1][1]:
        end -= 1
    return cells[:end]


def _values(cells: list[tuple[int, str]], name: str, path: Path, used_by: str) -> CsvSeries:
    """The column's numbers (``cells`` holds no blank: the caller refused those)."""
    values, lines = [], []
    for line, text in cells:
        where = f"line {line}, column {shown(name)}{used_by}"
        if _NOT_FINITE.fullmatch(text):
            raise InputError(
                f"{where}: expected a finite number, got {shown(text)}; give a number for "
                "every month",
                path,
            )
        if not _NUMBER.fullmatch(text):
            raise InputError(
                f"{where}: expected a number, got {shown(text)}; give a value for every month "
                "(digits only, no units or thousands separators)",
                path,
            )
        value = float(text)
        if not math.isfinite(value):  # 1e999
            raise InputError(
                f"{where}: expected a finite number, got {shown(text)}; give a number for "
                "every month",
                path,
            )
        values.append(value)
        lines.append(line)
    return CsvSeries(path, name, values, lines)


def _check_length(
    n: int, column: str, has_months: bool, path: Path, used_by: str, horizon: Horizon
) -> None:
    """Too many values without a month column cannot be matched to months: refused (the same
    rule as a list written in the YAML); too few are refused whatever the columns."""
    months = horizon.months
    if months is None or n == months:
        return
    if n < months:
        raise InputError(
            f"column {shown(column)}{used_by} has {n} values but the horizon has "
            f"{months} months; give one value per month",
            path,
        )
    if not has_months:
        raise InputError(
            f"column {shown(column)}{used_by} has {n} values but the horizon has "
            f"{months} months; give one value per month, or add a 'month' column (YYYY-MM) "
            "so the rows can be matched to months",
            path,
        )


__all__ = ["MAX_CSV_ROWS", "MAX_CSV_SERIES", "CsvReads", "CsvSeries", "Horizon", "read_csv_series"]
