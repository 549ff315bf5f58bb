"""Write a portfolio as an Excel workbook in the layout ``inputs/excel_loader.py`` reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from realloc.inputs.excel_financing import financing_sheets
from realloc.inputs.excel_loader import (
    CONTRACT_COLUMNS,
    CONVERSION_COLUMNS,
    FLEET_COLUMNS,
    MARKET_COLUMNS,
    PORTFOLIO_FIELDS,
    POWER_PRICE,
    SITE_COLUMNS,
    TREASURY_FIELDS,
)
from realloc.models import Contract, Portfolio
from realloc.models.base import month_label
from realloc.reports.safe_text import xlsx_text


def _check_name(kind: str, name: str, forbidden: str) -> None:
    bad = [ch for ch in forbidden if ch in name]
    if bad:
        raise ValueError(
            f"{kind} name {name!r} contains {bad[0]!r}, which the Excel layout uses as a "
            "separator; rename it or keep this portfolio in YAML"
        )


def _sheet(wb: Any, title: str, header: list[str], rows: list[list[Any]]) -> None:
    ws = wb.create_sheet(title)
    ws.append(header)
    for r in rows:
        ws.append(r)
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):  # names (power_prices headers are site names too)
                xlsx_text(cell, cell.value)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i, h in enumerate(header, start=1):
        width = max([len(str(h))] + [len(str(r[i - 1])) for r in rows if r[i - 1] is not None])
        ws.column_dimensions[get_column_letter(i)].width = min(max(10, width + 2), 60)
    ws.freeze_panes = "A2"


def write_excel(portfolio: Portfolio, path: Path | str) -> Path:
    """Write ``portfolio`` as a workbook in the layout :func:`load_excel` reads.

    ``load_excel`` gives back the same portfolio, except that a market series given as one
    number comes back as that number repeated for every month. Raises ``ValueError`` for
    names the layout cannot hold (a site name with a comma, semicolon or colon).
    """
    path = Path(path)
    p = portfolio
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    _sheet(wb, "portfolio", ["field", "value"], [[f, getattr(p, f)] for f in PORTFOLIO_FIELDS])
    site_rows, monthly = _site_rows(p)
    _sheet(wb, "sites", SITE_COLUMNS, site_rows)
    fleet_rows = [
        [s.name, *(getattr(g, c) for c in FLEET_COLUMNS[1:])] for s in p.sites for g in s.fleets
    ]
    _sheet(wb, "fleets", FLEET_COLUMNS, fleet_rows)
    conv_rows = [
        [s.name, *(getattr(s.conversion, c) for c in CONVERSION_COLUMNS[1:])]
        for s in p.sites
        if s.conversion is not None
    ]
    _sheet(wb, "conversions", CONVERSION_COLUMNS, conv_rows)
    _sheet(wb, "contracts", CONTRACT_COLUMNS, [_contract_row(c) for c in p.contracts])
    market = {c: getattr(p.market, c) for c in MARKET_COLUMNS[1:]}
    _sheet(wb, "market", MARKET_COLUMNS, _series_rows(p, market))
    if monthly:
        _sheet(wb, "power_prices", ["month", *monthly], _series_rows(p, dict(monthly)))
    _sheet(
        wb, "treasury", ["field", "value"], [[f, getattr(p.treasury, f)] for f in TREASURY_FIELDS]
    )
    for title, header, rows in financing_sheets(p.financing):
        _sheet(wb, title, header, rows)
    wb.save(path)
    return path


def _site_rows(p: Portfolio) -> tuple[list[list[Any]], dict[str, list[float]]]:
    """Rows of sheet ``sites``, and the monthly power prices that go to sheet
    ``power_prices`` instead (their cell in ``sites`` left blank)."""
    site_rows = []
    monthly: dict[str, list[float]] = {}
    for s in p.sites:
        _check_name("site", s.name, ",;:")
        if s.name.strip() != s.name or s.name.lower() == "month":
            raise ValueError(f"site name {s.name!r} cannot be a power_prices column name")
        row = []
        for col in SITE_COLUMNS:
            v = getattr(s, col)
            if col == POWER_PRICE and isinstance(v, list):
                monthly[s.name] = v
                v = None
            row.append(v)
        site_rows.append(row)
    return site_rows, monthly


def _contract_row(c: Contract) -> list[Any]:
    """A contract's row: eligible sites comma-separated, signed MW as 'Site: MW; Site: MW'."""
    row = []
    for col in CONTRACT_COLUMNS:
        v = getattr(c, col)
        if col == "eligible_sites":
            v = ", ".join(v)
        elif col == "signed_it_mw" and v is not None:
            if not v:
                raise ValueError(
                    f"contract {c.name!r} is signed with no sites in signed_it_mw; "
                    "the Excel layout cannot hold that"
                )
            v = "; ".join(
                f"{site}: {mw:g}" if mw == int(mw) else f"{site}: {mw!r}" for site, mw in v.items()
            )
        row.append(v)
    return row


def _series_rows(p: Portfolio, columns: dict[str, float | list[float]]) -> list[list[Any]]:
    """One row per month: the month, then each column's value (a single number repeated over
    the portfolio's months; a list as long as it runs)."""
    n = max([p.months] + [len(v) for v in columns.values() if isinstance(v, list)])
    rows = []
    for k in range(n):
        row: list[Any] = [month_label(p.start_month, k)]
        for v in columns.values():
            if isinstance(v, list):
                row.append(v[k] if k < len(v) else None)
            else:
                row.append(v if k < p.months else None)
        rows.append(row)
    return rows


__all__ = ["write_excel"]
