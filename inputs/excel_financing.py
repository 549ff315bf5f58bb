"""The financing section in the Excel layout: one sheet per kind of source.

- ``btc_loans``, ``financing_notes`` and ``project_loans``: one row per source, the model's
  fields (models/financing.py) as column headers (the sheet ``notes`` stays free for notes);
- ``equity``: ``field``/``value`` rows, like ``treasury``.

A workbook without any of these sheets has no financing section.
"""

from __future__ import annotations

from typing import Any

from realloc.models.financing import BtcLoan, Equity, Note, ProjectLoan

FINANCING_SHEETS = {
    "btc_loans": ("btc_loans", BtcLoan),
    "financing_notes": ("notes", Note),
    "project_loans": ("project_loans", ProjectLoan),
}
"""Sheet → (field of ``financing``, its item model)."""
EQUITY_SHEET = "equity"
EQUITY_FIELDS = list(Equity.model_fields)
FINANCING_MONTH_FIELDS = ("first_month", "maturity_month", "last_month")


def _columns(model: Any) -> list[str]:
    return list(model.model_fields)


def read_financing(reader: Any, where: Any) -> dict[str, Any] | None:
    """The ``financing`` data from its sheets (None when the workbook has none of them);
    ``where(sheet, row, column)`` names a cell for error locations."""
    present = [s for s in [*FINANCING_SHEETS, EQUITY_SHEET] if s in reader.sheets]
    if not present:
        return None
    data: dict[str, Any] = {}
    reader.locations[("financing",)] = where(present[0])
    for sheet, (key, model) in FINANCING_SHEETS.items():
        columns = _columns(model)
        required = [n for n, f in model.model_fields.items() if f.is_required()]
        items = []
        for i, row in enumerate(reader.table(sheet, columns, required)):
            loc = ("financing", key, i)
            reader.locations[loc] = where(sheet, row.number)
            item = {}
            for col in columns:
                reader.locations[(*loc, col)] = where(sheet, row.number, col)
                if col in row.cells:
                    item[col] = reader.convert(sheet, row.number, col, row.cells[col], col)
            items.append(item)
        if items:
            data[key] = items
    if EQUITY_SHEET in reader.sheets:
        data["equity"] = reader.fields(EQUITY_SHEET, EQUITY_FIELDS, ("financing", "equity"))
    return data


def financing_sheets(financing: Any) -> list[tuple[str, list[str], list[list[Any]]]]:
    """(sheet, header, rows) of each financing sheet to write (none without financing)."""
    if financing is None:
        return []
    out = []
    for sheet, (key, model) in FINANCING_SHEETS.items():
        columns = _columns(model)
        rows = [[getattr(item, c) for c in columns] for item in getattr(financing, key)]
        out.append((sheet, columns, rows))
    if financing.equity is not None:
        rows = [[f, getattr(financing.equity, f)] for f in EQUITY_FIELDS]
        out.append((EQUITY_SHEET, ["field", "value"], rows))
    return out
