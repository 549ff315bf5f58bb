"""The board report's workbook: one sheet per table, typed numbers, frozen headers, set
column widths; text that a spreadsheet would read as a formula is stored as text."""

from __future__ import annotations

import datetime as dt
import io
import math
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from realloc.reports.board.data import UNDATED, Run
from realloc.reports.board.figures import (
    bridge_frame,
    frontier_frame,
    funding_gap,
    payback_month,
    verification_frame,
)
from realloc.reports.board.funding_section import FUNDING_SHEETS
from realloc.reports.board.inputs_appendix import inputs_long_frame
from realloc.reports.safe_text import xlsx_text
from realloc.reports.value_split import split_rows

XLSX_SHEETS = (
    "summary",
    "value_bridge",
    "plan",
    "conversions",
    "contracts",
    "treasury",
    "funding",
    *FUNDING_SHEETS,
    "shadow_prices",
    "cashflows",
    "baseline_cashflows",
    "rig_sales",
    "scenario_values",
    "frontier",
    "inputs",
    "verification",
    "funding_gap",
)
"""Workbook sheets in order; a run without a table gets no sheet for it (summary always)."""

# --------------------------------------------------------------------------- Excel


def _number_format(col: str) -> str | None:
    c = col.lower()
    if c == "shadow_price_usd":
        return "#,##0.000;[Red]-#,##0.000"
    if "usd" in c:
        return "#,##0;[Red]-#,##0"
    if c.endswith("btc") or c.startswith("btc_"):
        return "#,##0.0000"
    if c.endswith("_mw") or c == "mw_sold":
        return "#,##0.00"
    if c == "discount_factor":
        return "0.000000"
    return None


def _cell_value(v: object) -> object:
    if v is None:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, str) and v == "":
        return None
    return v


def _write_sheet(ws, frame: pd.DataFrame) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    cols = [str(c) for c in frame.columns]
    if not cols:
        # a table with no columns at all (verification of an infeasible plan, which has none):
        # an empty sheet. Appending no header still makes ws[1] one cell (A1), which used to
        # break the header loop below with an internal error in `realloc report`.
        return
    ws.append(cols)
    for cell, c in zip(ws[1], cols, strict=True):
        xlsx_text(cell, c)
        cell.font = Font(bold=True)
    widths = [len(c) for c in cols]
    for r, row in enumerate(frame.itertuples(index=False), start=2):
        ws.append([_cell_value(v) for v in row])  # row r (ws.max_row would rescan every cell)
        for j, v in enumerate(row):
            cell = ws.cell(row=r, column=j + 1)
            if isinstance(v, str):
                if v:
                    xlsx_text(cell, v)  # text, never a formula
                widths[j] = max(widths[j], len(v))
            elif isinstance(v, int | float | np.number) and not isinstance(v, bool | np.bool_):
                widths[j] = max(widths[j], min(len(f"{float(v):,.2f}"), 18))
    for j, c in enumerate(cols, start=1):
        fmt = _number_format(c)
        if (
            fmt
            and pd.api.types.is_numeric_dtype(frame[c])
            and not pd.api.types.is_bool_dtype(frame[c])
        ):
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.number_format = fmt
        ws.column_dimensions[get_column_letter(j)].width = min(max(widths[j - 1] + 2, 8), 60)
    ws.freeze_panes = "A2"


def summary_sheet_frame(run: Run) -> pd.DataFrame:
    """Key figures, value terms and provenance as item / value / unit rows."""
    s = run.summary
    rows: list[tuple[str, object, str]] = [
        ("portfolio", run.name, ""),
        ("status", run.status, ""),
    ]
    for k, unit in (
        ("value_usd", "USD"),
        ("baseline_value_usd", "USD"),
        ("uplift_usd", "USD"),
        ("btc_sold_total", "BTC"),
        ("usd_raised_total", "USD"),
        ("it_mw_converted_total", "MW"),
        ("funding_gap_total_usd", "USD"),
    ):
        if s.get(k) is not None:
            rows.append((k, float(s[k]), unit))
    rows += split_rows(s)  # value inside / after the horizon (reports/value_split.py)
    if run.status == "unfunded":
        rows.append(("funding_gap_first_month", funding_gap(run)[1] or "", ""))
    pay = payback_month(run)
    if pay:
        rows.append(("payback_month", pay, ""))
    block = run.stochastic
    if block:
        rows.append(("market_paths", int(block.get("scenarios") or 0), "paths"))
        rows += [(k, float(block[k]), "") for k in ("cvar_alpha", "risk_weight") if k in block]
        for k in (
            "expected_value_usd",
            "cvar_usd",
            "p5_value_usd",
            "p50_value_usd",
            "p95_value_usd",
            "worst_value_usd",
            "best_value_usd",
            "rp_usd",
            "eev_usd",
            "eev_outside_money_usd",
            "ws_usd",
            "vss_usd",
            "vss_lower_bound_usd",
            "evpi_usd",
        ):
            if block.get(k) is not None:
                rows.append((k, float(block[k]), "USD"))
        rows += [("note", str(n), "") for n in block.get("notes") or []]
    solver = s.get("solver") or {}
    rows += [
        ("solver", f"{solver.get('name', '')} {solver.get('version', '')}".strip(), ""),
        ("inputs_sha256", str(s.get("inputs_sha256", "")), ""),
    ]
    return pd.DataFrame(rows, columns=["item", "value", "unit"])


def render_xlsx(run: Run, path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "summary"
    frame = summary_sheet_frame(run)
    _write_sheet(ws, frame)
    for i, unit in enumerate(frame["unit"], start=2):
        fmt = {"USD": "#,##0;[Red]-#,##0", "BTC": "#,##0.0000", "MW": "#,##0.00"}.get(unit)
        if fmt and isinstance(ws.cell(row=i, column=2).value, int | float):
            ws.cell(row=i, column=2).number_format = fmt
    for name in XLSX_SHEETS[1:]:
        if name == "value_bridge":
            frame = bridge_frame(run)
        elif name == "verification":
            frame = verification_frame(run)
        elif name == "frontier":
            frame = frontier_frame(run)
        elif name == "inputs":
            frame = inputs_long_frame(run.inputs)
        elif name in FUNDING_SHEETS:
            frame = FUNDING_SHEETS[name](run)
        elif name in run.all_tables:
            frame = run.all_tables[name]  # every scenario's rows, as in the CSV
        else:
            continue
        if name not in ("value_bridge", "frontier", "inputs", *FUNDING_SHEETS) or not frame.empty:
            _write_sheet(wb.create_sheet(name), frame)
    save_reproducibly(wb, path, run.created or UNDATED)


def save_reproducibly(wb, path: Path, created: dt.datetime) -> None:
    """Save ``wb`` so that the same content gives the same bytes: its created and modified
    properties and every zip entry's date are ``created`` (when the plan was made), not now.

    openpyxl's ``Workbook.save`` stamps ``modified``, and ``zipfile`` every entry, with the
    clock, so two builds of one report would differ. Here openpyxl's own writer fills a zip in
    memory, and its entries are copied in order, each with the one date, into ``path``.
    """
    from openpyxl.writer.excel import ExcelWriter

    stamp = max(created, UNDATED)  # a zip entry cannot be dated before 1980
    wb.properties.created = stamp
    wb.properties.modified = stamp
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).write_data()
    with (
        zipfile.ZipFile(buffer) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, stamp.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(entry))
