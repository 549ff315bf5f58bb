"""Load a portfolio from an Excel workbook (``inputs/excel_writer.py`` writes the same layout).

One sheet per table, with the portfolio fields (models/portfolio.py) as column headers:

- ``portfolio`` and ``treasury``: two columns ``field`` and ``value``, one row per field;
- ``sites``, ``fleets`` (with a ``site`` column), ``conversions`` (``site`` column, at most one row
  per site) and ``contracts`` (``eligible_sites`` as ``Site A, Site B``; ``signed_it_mw`` as
  ``Site A: 20; Site B: 10`` or blank for an offered contract): one row per item;
- ``market``: ``month``, ``btc_price_usd``, ``hashprice_usd_per_ph_day``, one row per month from
  ``start_month`` on;
- ``power_prices`` (optional): ``month`` and one column per site whose power price varies by
  month; such a site leaves ``power_price_usd_per_mwh`` blank in ``sites``.

Blank optional cells take the model default. Cells holding formulas or Excel errors and merged
cells are refused: the planner reads what is typed, never what a formula last computed. Sheets
called ``notes`` or ``readme`` are ignored. Every error names the file, sheet, row (Excel
numbering), column and what was expected.

A workbook is a zip of XML files, so its size on disk says little about the work of reading it:
the file is read once (bounded, inputs/files.py), its members' total unpacked size is checked
before openpyxl sees it, and rows and cells are counted as they are read.
"""

from __future__ import annotations

import io
import math
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter
from pydantic import ValidationError

from realloc.inputs.errors import InputError, from_validation_error, short_repr
from realloc.inputs.excel_financing import (
    EQUITY_SHEET,
    FINANCING_MONTH_FIELDS,
    FINANCING_SHEETS,
    read_financing,
)
from realloc.inputs.files import MAX_INPUT_BYTES, cut, read_input_bytes
from realloc.models import Contract, Conversion, FleetGroup, Market, Portfolio, Site, Treasury
from realloc.models.base import MONTH_PATTERN, month_label, number_from_text

PORTFOLIO_FIELDS = [
    f
    for f in Portfolio.model_fields
    if f not in ("sites", "contracts", "market", "treasury", "financing")
]
SITE_COLUMNS = [f for f in Site.model_fields if f not in ("fleets", "conversion")]
FLEET_COLUMNS = ["site", *FleetGroup.model_fields]
CONVERSION_COLUMNS = ["site", *Conversion.model_fields]
CONTRACT_COLUMNS = list(Contract.model_fields)
MARKET_COLUMNS = ["month", *Market.model_fields]
TREASURY_FIELDS = list(Treasury.model_fields)

SHEETS = [
    "portfolio",
    "sites",
    "fleets",
    "conversions",
    "contracts",
    "market",
    "power_prices",
    "treasury",
    *FINANCING_SHEETS,
    EQUITY_SHEET,
]
REQUIRED_SHEETS = ("portfolio", "sites", "market", "treasury")
IGNORED_SHEETS = ("notes", "readme")
MONTH_FIELDS = ("start_month", "grid_sale_first_month", *FINANCING_MONTH_FIELDS)
TEXT_FIELDS = ("name", "site")
POWER_PRICE = "power_price_usd_per_mwh"

MAX_XLSX_UNPACKED_BYTES = 50 * 1024 * 1024
"""Largest total unpacked size of a workbook's members (50 MiB). A 200-site, 600-month workbook
unpacks to about 6 MB; a 1.5 MB file can unpack to gigabytes (a zip bomb)."""
MAX_XLSX_MEMBERS = 1_000
"""Most files inside a workbook (a portfolio workbook holds about 15)."""
MAX_XLSX_ROWS = 20_000
"""Most rows a sheet may have (declared or read): 600 months, or thousands of fleets, fit."""
MAX_XLSX_CELLS = 500_000
"""Most cells read across the workbook (blank cells between values included): a 200-site,
600-month power_prices sheet has 120,000. Reading runs at about 100,000 cells a second."""


@dataclass
class _Row:
    """One data row of a table sheet: its Excel row number and its non-blank cells by column."""

    number: int
    cells: dict[str, Any] = field(default_factory=dict)


def _where(sheet: str, row: int | None = None, column: str | None = None) -> str:
    text = f"sheet {sheet!r}"
    if row is not None:
        text += f", row {row}"
    if column is not None:
        text += f", column {column}"
    return text


class _Reader:
    """Reads the sheets of one workbook and records where each value came from."""

    def __init__(self, path: Path, wb: Any):
        self.path = path
        self.cells_read = 0
        self.sheets: dict[str, Any] = {}
        for ws in wb.worksheets:
            key = ws.title.strip().lower()
            if key in IGNORED_SHEETS:
                continue
            if key not in SHEETS:
                raise self.error(
                    f"sheet {ws.title!r}: unknown sheet; expected sheets named "
                    f"{', '.join(SHEETS)} (notes may go in a sheet called 'notes')"
                )
            if key in self.sheets:
                raise self.error(f"sheet {ws.title!r}: there are two sheets called {key!r}")
            self.sheets[key] = ws
        missing = [s for s in REQUIRED_SHEETS if s not in self.sheets]
        if missing:
            raise self.error(
                f"no sheet called {', '.join(map(repr, missing))}; a portfolio workbook has "
                f"sheets {', '.join(SHEETS)} (fleets, conversions, contracts and power_prices "
                "may be left out)"
            )
        # pydantic location -> "sheet 'x', row n, column c"
        self.locations: dict[tuple, str] = {}

    def error(self, message: str) -> InputError:
        return InputError(message, self.path)

    # -- raw cells ---------------------------------------------------------------------------

    def _rows(self, sheet: str) -> list[tuple[int, list[Any]]]:
        """All rows of ``sheet`` as (Excel row number, cell values), refusing formulas/merges."""
        ws = self.sheets.get(sheet)
        if ws is None:
            return []
        declared = getattr(ws, "max_row", None)
        if isinstance(declared, int) and declared > MAX_XLSX_ROWS:
            raise self._too_many_rows(sheet, declared)
        self._refuse_merged(sheet, ws)
        if hasattr(ws, "reset_dimensions"):
            ws.reset_dimensions()  # some writers record wrong dimensions; read every row
        rows: list[tuple[int, list[Any]]] = []
        header: list[Any] = []
        for number, cells in enumerate(ws.iter_rows(min_row=1), start=1):
            if number > MAX_XLSX_ROWS:
                raise self._too_many_rows(sheet, number)
            self.cells_read += len(cells)
            if self.cells_read > MAX_XLSX_CELLS:
                raise self.error(
                    f"{_where(sheet, number)}: the workbook has more than {MAX_XLSX_CELLS:,} "
                    "cells (blank cells between values count); a portfolio workbook needs far "
                    "fewer: delete unused rows and columns"
                )
            values = []
            for col, cell in enumerate(cells, start=1):
                name = header[col - 1] if col <= len(header) else None
                values.append(self._cell_value(sheet, number, col, name, cell))
            if number == 1:
                header = values
            rows.append((number, values))
        return rows

    def _too_many_rows(self, sheet: str, rows: int) -> InputError:
        return self.error(
            f"{_where(sheet)}: {rows:,} rows or more, over the limit of {MAX_XLSX_ROWS:,} rows "
            "per sheet; delete the unused rows (a portfolio needs one row per site, fleet, "
            "contract or month)"
        )

    def _refuse_merged(self, sheet: str, ws: Any) -> None:
        ranges = _merged_ranges(ws)
        if ranges:
            raise self.error(
                f"{_where(sheet)}: merged cells {', '.join(ranges[:5])}; unmerge them and "
                "give every row its own values (one value per cell)"
            )

    def _cell_value(self, sheet: str, row: int, col: int, column: Any, cell: Any) -> Any:
        value = getattr(cell, "value", None)
        data_type = getattr(cell, "data_type", None)
        where = f"{_where(sheet, row)}, cell {get_column_letter(col)}{row}"
        if column is not None:
            where = f"{_where(sheet, row, str(column))} (cell {get_column_letter(col)}{row})"
        if data_type == "f" or (value is not None and type(value).__name__.endswith("Formula")):
            formula = value if isinstance(value, str) else getattr(value, "text", "")
            raise self.error(
                f"{where}: holds the formula {short_repr(formula)}; type the value itself "
                "(copy, then paste values only), the planner does not evaluate formulas"
            )
        if data_type == "e":
            raise self.error(f"{where}: holds the Excel error {value}; type a value")
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    # -- table sheets ------------------------------------------------------------------------

    def table(self, sheet: str, columns: list[str], required: list[str]) -> list[_Row]:
        """Rows of a one-item-per-row sheet, keyed by column name; blank rows are skipped."""
        rows = self._rows(sheet)
        if not rows:
            if sheet in REQUIRED_SHEETS:
                raise self.error(
                    f"{_where(sheet)}: the sheet is empty; row 1 must hold the column names "
                    f"({', '.join(columns)})"
                )
            return []
        header_row, header = rows[0]
        names: dict[int, str] = {}
        for i, h in enumerate(header):
            if h is None:
                continue
            name = str(h).strip().lower()
            col = get_column_letter(i + 1)
            if name not in columns:
                raise self.error(
                    f"{_where(sheet, header_row)}, cell {col}{header_row}: unknown column "
                    f"{short_repr(h)}; expected columns {', '.join(columns)} (check the spelling)"
                )
            if name in names.values():
                raise self.error(
                    f"{_where(sheet, header_row)}, cell {col}{header_row}: column "
                    f"{short_repr(name)} appears twice"
                )
            names[i] = name
        absent = [c for c in required if c not in names.values()]
        if absent:
            raise self.error(
                f"{_where(sheet, header_row)}: no column {', '.join(map(repr, absent))}; "
                f"row 1 must name the columns ({', '.join(columns)})"
            )
        out = []
        for number, values in rows[1:]:
            row = _Row(number)
            for i, v in enumerate(values):
                if v is None:
                    continue
                if i not in names:
                    raise self.error(
                        f"{_where(sheet, number)}, cell {get_column_letter(i + 1)}{number}: "
                        f"value {short_repr(v)} in a column without a name in row 1"
                    )
                row.cells[names[i]] = v
            if row.cells:
                out.append(row)
        return out

    def fields(self, sheet: str, allowed: list[str], loc: tuple) -> dict[str, Any]:
        """A ``field``/``value`` sheet as a dict; records each field's location under ``loc``."""
        rows = self.table(sheet, ["field", "value"], ["field", "value"])
        self.locations[loc] = _where(sheet)
        for f in allowed:
            self.locations[(*loc, f)] = f"{_where(sheet)}, add a row with field {f!r}"
        data: dict[str, Any] = {}
        for row in rows:
            name = row.cells.get("field")
            if name is None:
                raise self.error(
                    f"{_where(sheet, row.number, 'field')}: a value without a field name; "
                    f"expected one of {', '.join(allowed)}"
                )
            name = str(name).strip().lower()
            if name in data:
                raise self.error(
                    f"{_where(sheet, row.number, 'field')}: field {short_repr(name)} is given twice"
                )
            if name in ("sites", "fleets", "conversions", "contracts", "market", "treasury"):
                raise self.error(
                    f"{_where(sheet, row.number, 'field')}: {short_repr(name)} has its own sheet; "
                    f"expected one of {', '.join(allowed)}"
                )
            self.locations[(*loc, name)] = _where(sheet, row.number, "value")
            if "value" not in row.cells:
                continue  # blank: the model default
            data[name] = self.convert(sheet, row.number, "value", row.cells["value"], name)
        return data

    def convert(self, sheet: str, row: int, column: str, value: Any, name: str) -> Any:
        """Turn a cell value into what the model expects for field ``name``."""
        where = _where(sheet, row, column)
        if name in MONTH_FIELDS or name == "month":
            return self.month(where, value)
        if isinstance(value, datetime | date | time | timedelta):
            raise self.error(
                f"{where}: expected {'text' if name in TEXT_FIELDS else 'a number'}, got the "
                f"date/time {value}; format the cell as a number or text"
            )
        if name in TEXT_FIELDS and isinstance(value, int | float) and not isinstance(value, bool):
            return str(int(value)) if float(value).is_integer() else str(value)
        return value

    def month(self, where: str, value: Any) -> str:
        if isinstance(value, datetime | date):
            return f"{value.year:04d}-{value.month:02d}"
        if isinstance(value, str):
            return value
        raise self.error(
            f"{where}: expected a month written YYYY-MM (e.g. 2026-03) or a date, got "
            f"{short_repr(value)}"
        )

    def number(self, where: str, value: Any) -> float:
        """A series value: a finite, non-negative number."""
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.error(f"{where}: expected a number, got {short_repr(value)}")
        try:
            x = number_from_text(value) if isinstance(value, str) else float(value)
        except ValueError:
            raise self.error(f"{where}: expected a number, got {short_repr(value)}") from None
        if not math.isfinite(x) or x < 0:
            raise self.error(
                f"{where}: expected a finite number of at least 0, got {short_repr(value)}"
            )
        return x

    # -- monthly series ----------------------------------------------------------------------

    def series_sheet(
        self, sheet: str, columns: list[str] | None, start_month: Any
    ) -> dict[str, list[float]]:
        """Columns of a month-per-row sheet as lists of numbers; records each value's row.

        ``columns=None`` accepts any column names (``power_prices``: one per site).
        """
        rows = self._rows(sheet)
        if not rows:
            if sheet in REQUIRED_SHEETS:
                raise self.error(
                    f"{_where(sheet)}: the sheet is empty; row 1 must name the columns "
                    f"({', '.join(columns or ['month', 'one per site'])})"
                )
            return {}
        names = self._series_columns(sheet, *rows[0], columns)
        data_rows = [(n, v) for n, v in rows[1:] if any(x is not None for x in v)]
        expected_first = start_month if isinstance(start_month, str) else None  # else: invalid
        values: dict[str, list[float]] = {n: [] for n in names.values() if n != "month"}
        ended: dict[str, int] = {}  # column -> row of its first blank (end of its series)
        for k, (number, cells) in enumerate(data_rows):
            cells = cells + [None] * (max(names) + 1 - len(cells))
            self._series_month(sheet, number, cells, names, expected_first, k)
            for i, name in names.items():
                if name == "month":
                    continue
                v = cells[i]
                where = _where(sheet, number, name)
                if v is None:
                    ended.setdefault(name, number)
                    continue
                if name in ended:
                    raise self.error(
                        f"{_where(sheet, ended[name], name)}: blank cell inside the series "
                        "(only trailing cells may be blank); give a value for every month"
                    )
                values[name].append(self.number(where, v))
                loc_key = (sheet, name, len(values[name]) - 1)
                self.locations[loc_key] = where
        return values

    def _series_columns(
        self, sheet: str, header_row: int, header: list[Any], columns: list[str] | None
    ) -> dict[int, str]:
        """{cell index: column name} of a series sheet's header row: ``month`` and, with
        ``columns``, only those (case-insensitive); no name twice, none of ``columns`` absent."""
        names: dict[int, str] = {}
        for i, h in enumerate(header):
            if h is None:
                continue
            col = get_column_letter(i + 1)
            name = str(self.convert(sheet, header_row, col, h, "name"))
            if name.lower() == "month":
                name = "month"
            elif columns is not None:
                name = name.lower()
                if name not in columns:
                    raise self.error(
                        f"{_where(sheet, header_row)}, cell {col}{header_row}: unknown column "
                        f"{short_repr(h)}; expected columns {', '.join(columns)}"
                    )
            if name in names.values():
                raise self.error(
                    f"{_where(sheet, header_row)}, cell {col}{header_row}: column "
                    f"{short_repr(name)} appears twice"
                )
            names[i] = name
        wanted = columns or ["month"]
        absent = [c for c in wanted if c not in names.values()]
        if absent:
            raise self.error(
                f"{_where(sheet, header_row)}: no column {', '.join(map(repr, absent))}; row 1 "
                f"must name the columns ({', '.join(columns or ['month', 'one per site'])})"
            )
        return names

    def _series_month(
        self,
        sheet: str,
        number: int,
        cells: list[Any],
        names: dict[int, str],
        expected_first: str | None,
        k: int,
    ) -> None:
        """Check data row ``k`` (sheet row ``number``) of a series sheet: no value in an unnamed
        column, and its month the ``k``-th from ``expected_first`` (the portfolio's start)."""
        for i, v in enumerate(cells):
            if v is not None and i not in names:
                raise self.error(
                    f"{_where(sheet, number)}, cell {get_column_letter(i + 1)}{number}: "
                    f"value {short_repr(v)} in a column without a name in row 1"
                )
        where_m = _where(sheet, number, "month")
        month_col = next(i for i, n in names.items() if n == "month")
        if cells[month_col] is None:
            raise self.error(f"{where_m}: expected a month (YYYY-MM), got a blank cell")
        m = self.month(where_m, cells[month_col])
        if expected_first is not None and MONTH_PATTERN.match(expected_first):
            want = month_label(expected_first, k)
            if m != want:
                raise self.error(
                    f"{where_m}: expected {want} (months run one row each from start_month "
                    f"{expected_first} without gaps), got {m!r}"
                )


def _merged_ranges(ws: Any) -> list[str]:
    """Merged ranges of a worksheet (read-only worksheets do not parse them, so scan the XML)."""
    merged = getattr(ws, "merged_cells", None)
    if merged is not None:
        return [str(r) for r in merged.ranges]
    get_source = getattr(ws, "_get_source", None)
    if get_source is None:
        return []
    from openpyxl.xml.functions import iterparse

    refs = []
    with get_source() as src:
        for _, el in iterparse(src):
            if el.tag.endswith("}mergeCell"):
                refs.append(el.get("ref"))
            el.clear()
    return refs


def _split_names(text: Any) -> list[str]:
    return [s.strip() for s in str(text).split(",") if s.strip()]


def _parse_signed(reader: _Reader, where: str, text: Any) -> dict[str, Any]:
    example = "expected 'Site: MW; Site: MW' (e.g. 'Dalton GA: 16; Jamestown ND: 10')"
    if isinstance(text, int | float) and not isinstance(text, bool):
        raise reader.error(f"{where}: {example}, got {short_repr(text)} (which site?)")
    out: dict[str, Any] = {}
    for part in str(text).split(";"):
        part = part.strip()
        if not part:
            continue
        if ":" not in part:
            raise reader.error(f"{where}: {example}, got {short_repr(part)}")
        site, mw = (s.strip() for s in part.rsplit(":", 1))
        if not site:
            raise reader.error(f"{where}: {example}, got {short_repr(part)} (no site name)")
        if site in out:
            raise reader.error(f"{where}: site {short_repr(site)} appears twice")
        try:
            out[site] = float(mw)
        except ValueError:
            raise reader.error(
                f"{where}: {example}; {short_repr(mw)} is not a number of MW"
            ) from None
    if not out:
        raise reader.error(f"{where}: {example}, got {short_repr(text)}")
    return out


def _site_index(reader: _Reader, sites: dict[str, int], sheet: str, row: _Row) -> int:
    where = _where(sheet, row.number, "site")
    name = row.cells.get("site")
    if name is None:
        raise reader.error(f"{where}: expected the name of a site from sheet 'sites', got a blank")
    name = reader.convert(sheet, row.number, "site", name, "site")
    if name not in sites:
        raise reader.error(
            f"{where}: site {short_repr(name)} is not in sheet 'sites' (known: {', '.join(sites)})"
        )
    return sites[name]


def _row_data(reader: _Reader, sheet: str, row: _Row, loc: tuple, skip: tuple = ()) -> dict:
    """A row's cells converted for the model; records row and column locations under ``loc``."""
    reader.locations[loc] = _where(sheet, row.number)
    out = {}
    columns = {
        "sites": SITE_COLUMNS,
        "fleets": FLEET_COLUMNS,
        "conversions": CONVERSION_COLUMNS,
        "contracts": CONTRACT_COLUMNS,
    }[sheet]
    for col in columns:
        if col in skip:
            continue
        reader.locations[(*loc, col)] = _where(sheet, row.number, col)
        if col in row.cells:
            out[col] = reader.convert(sheet, row.number, col, row.cells[col], col)
    return out


def _required(model: Any) -> list[str]:
    return [n for n, f in model.model_fields.items() if f.is_required()]


def _read(reader: _Reader) -> dict[str, Any]:
    """Build the portfolio's data dict from the sheets (validation is left to pydantic)."""
    data: dict[str, Any] = reader.fields("portfolio", PORTFOLIO_FIELDS, ())
    reader.locations[()] = ""
    site_rows, sites, index = _read_sites(reader)
    _read_power_prices(reader, data.get("start_month"), site_rows, sites, index)
    _read_fleets(reader, sites, index)
    _read_conversions(reader, sites, index)
    data["sites"] = sites
    data["contracts"] = _read_contracts(reader, index)
    reader.locations[("contracts",)] = _where("contracts")
    data["market"] = _read_market(reader, data.get("start_month"))
    data["treasury"] = reader.fields("treasury", TREASURY_FIELDS, ("treasury",))
    financing = read_financing(reader, _where)
    if financing is not None:
        data["financing"] = financing
    return data


def _read_sites(reader: _Reader) -> tuple[list[_Row], list[dict[str, Any]], dict[str, int]]:
    """Sheet ``sites``: its rows, each as site data, and each site name's position."""
    site_rows = reader.table(
        "sites", SITE_COLUMNS, [c for c in _required(Site) if c != POWER_PRICE]
    )
    sites: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for i, row in enumerate(site_rows):
        site = _row_data(reader, "sites", row, ("sites", i))
        name = site.get("name")
        if isinstance(name, str):
            if name in index:
                raise reader.error(
                    f"{_where('sites', row.number, 'name')}: site name {short_repr(name)} is used "
                    "twice "
                    f"(also row {site_rows[index[name]].number}); names must be unique"
                )
            index[name] = i
        sites.append(site)
    reader.locations[("sites",)] = _where("sites")
    return site_rows, sites, index


def _read_power_prices(
    reader: _Reader,
    start_month: Any,
    site_rows: list[_Row],
    sites: list[dict[str, Any]],
    index: dict[str, int],
) -> None:
    """Sheet ``power_prices`` (a column of monthly prices per site) into ``sites``; each site
    has either that column or one price in sheet ``sites``."""
    prices = reader.series_sheet("power_prices", None, start_month)
    for name, series in prices.items():
        if name not in index:
            raise reader.error(
                f"{_where('power_prices', 1, name)}: column {short_repr(name)} is not a site in "
                "sheet "
                f"'sites' (known: {', '.join(index)}); name each column after its site"
            )
        i = index[name]
        row = site_rows[i]
        if POWER_PRICE in sites[i]:
            raise reader.error(
                f"{_where('sites', row.number, POWER_PRICE)}: site {short_repr(name)} also has a "
                "column "
                "in sheet 'power_prices'; give one number here or the monthly column there, "
                "not both"
            )
        if not series:
            raise reader.error(
                f"{_where('power_prices', None, name)}: the column has no values; give one "
                "price per month or delete the column"
            )
        sites[i][POWER_PRICE] = series
        loc = ("sites", i, POWER_PRICE)
        reader.locations[loc] = _where("power_prices", None, name)
        for k in range(len(series)):
            reader.locations[(*loc, k)] = reader.locations[("power_prices", name, k)]
    for i, site in enumerate(sites):
        if POWER_PRICE not in site:
            raise reader.error(
                f"{_where('sites', site_rows[i].number, POWER_PRICE)}: expected a power price "
                f"in $/MWh, or a column named {site.get('name')!r} in sheet 'power_prices' for "
                "monthly prices; got a blank cell"
            )


def _read_fleets(reader: _Reader, sites: list[dict[str, Any]], index: dict[str, int]) -> None:
    """Sheet ``fleets`` into each site's ``fleets`` list."""
    for row in reader.table("fleets", FLEET_COLUMNS, ["site", *_required(FleetGroup)]):
        i = _site_index(reader, index, "fleets", row)
        fleets = sites[i].setdefault("fleets", [])
        loc = ("sites", i, "fleets", len(fleets))
        fleets.append(_row_data(reader, "fleets", row, loc, skip=("site",)))


def _read_conversions(reader: _Reader, sites: list[dict[str, Any]], index: dict[str, int]) -> None:
    """Sheet ``conversions`` (at most one row per site) into each site's ``conversion``."""
    seen: dict[int, int] = {}
    for row in reader.table("conversions", CONVERSION_COLUMNS, ["site", *_required(Conversion)]):
        i = _site_index(reader, index, "conversions", row)
        if i in seen:
            raise reader.error(
                f"{_where('conversions', row.number, 'site')}: site {sites[i].get('name')!r} "
                f"already has a conversion in row {seen[i]}; give one row per site"
            )
        seen[i] = row.number
        loc = ("sites", i, "conversion")
        sites[i]["conversion"] = _row_data(reader, "conversions", row, loc, skip=("site",))


def _read_contracts(reader: _Reader, index: dict[str, int]) -> list[dict[str, Any]]:
    """Sheet ``contracts``; eligible sites as a comma-separated list, signed MW as
    'Site: MW; Site: MW', every site named one of sheet ``sites``."""
    contracts = []
    for k, row in enumerate(reader.table("contracts", CONTRACT_COLUMNS, _required(Contract))):
        loc = ("contracts", k)
        c = _row_data(reader, "contracts", row, loc, skip=("eligible_sites", "signed_it_mw"))
        reader.locations[(*loc, "eligible_sites")] = _where(
            "contracts", row.number, "eligible_sites"
        )
        reader.locations[(*loc, "signed_it_mw")] = _where("contracts", row.number, "signed_it_mw")
        if "eligible_sites" in row.cells:
            c["eligible_sites"] = _split_names(row.cells["eligible_sites"])
            for s in c["eligible_sites"]:
                if s not in index:
                    raise reader.error(
                        f"{_where('contracts', row.number, 'eligible_sites')}: site "
                        f"{short_repr(s)} is not in sheet 'sites' (known: {', '.join(index)}); "
                        "separate names with commas"
                    )
        if "signed_it_mw" in row.cells:
            where = _where("contracts", row.number, "signed_it_mw")
            c["signed_it_mw"] = _parse_signed(reader, where, row.cells["signed_it_mw"])
            for s in c["signed_it_mw"]:
                if s not in index:
                    raise reader.error(
                        f"{where}: site {short_repr(s)} is not in sheet 'sites' "
                        f"(known: {', '.join(index)})"
                    )
        contracts.append(c)
    return contracts


def _read_market(reader: _Reader, start_month: Any) -> dict[str, list[float]]:
    """Sheet ``market``: BTC price and hashprice by month (columns left empty are omitted)."""
    market = reader.series_sheet("market", MARKET_COLUMNS, start_month)
    out = {}
    reader.locations[("market",)] = _where("market")
    for name, series in market.items():
        loc = ("market", name)
        reader.locations[loc] = _where("market", None, name)
        if series:
            out[name] = series
        for k in range(len(series)):
            reader.locations[(*loc, k)] = reader.locations[("market", name, k)]
    return out


def _check_zip(data: bytes, path: Path) -> None:
    """Refuse a workbook that is not a zip, has too many members, or unpacks to more than
    :data:`MAX_XLSX_UNPACKED_BYTES`, before any XML is parsed. The sizes are the ones the zip
    declares; Python's zip reader never unpacks a member beyond its declared size."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as e:
        raise InputError(
            f"cannot read the workbook (not a zip archive: {cut(e, 80)}); save it from Excel as "
            "an .xlsx workbook",
            path,
        ) from None
    if len(members) > MAX_XLSX_MEMBERS:
        raise InputError(
            f"the workbook holds {len(members):,} files inside, over the limit of "
            f"{MAX_XLSX_MEMBERS:,}; save it again from Excel as an .xlsx workbook",
            path,
        )
    unpacked = sum(m.file_size for m in members)
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise InputError(
            f"the workbook unpacks to {unpacked / 1024 / 1024:,.0f} MiB, over the limit of "
            f"{MAX_XLSX_UNPACKED_BYTES // 1024 // 1024} MiB; a portfolio workbook unpacks to a "
            "few MB: delete unused sheets, rows and images, or save it again from Excel",
            path,
        )


def load_excel(path: Path | str) -> Portfolio:
    """Load and validate an Excel portfolio; raise :class:`InputError` naming sheet, row, column."""
    path = Path(path)
    data = read_input_bytes(path, "portfolio", MAX_INPUT_BYTES)
    _check_zip(data, path)
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as e:  # zip, XML and openpyxl errors all mean "not a readable workbook"
        raise InputError(
            f"cannot read the workbook ({type(e).__name__}: {cut(e, 200)}); save it from "
            "Excel as an .xlsx workbook",
            path,
        ) from None
    try:
        reader = _Reader(path, wb)
        data = _read(reader)
    finally:
        wb.close()

    def locate(loc: tuple) -> str:
        for n in range(len(loc), -1, -1):
            where = reader.locations.get(tuple(loc[:n]))
            if where is not None:
                return where
        return ""

    try:
        return Portfolio.model_validate(data)
    except ValidationError as e:
        raise from_validation_error(e, path, data, locate, Portfolio) from None
