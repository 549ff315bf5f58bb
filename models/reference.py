"""The README's input reference, generated from the models' field docstrings.

``python -m realloc.models.reference`` prints it; a test keeps README.md in step with the models.
"""

from __future__ import annotations

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from realloc.models.financing import BtcLoan, Equity, Financing, Note, ProjectLoan
from realloc.models.portfolio import (
    Contract,
    Conversion,
    FleetGroup,
    Market,
    Portfolio,
    Site,
    Treasury,
)

SECTIONS: list[tuple[str, type[BaseModel]]] = [
    ("portfolio (top level)", Portfolio),
    ("sites[]", Site),
    ("sites[].fleets[]", FleetGroup),
    ("sites[].conversion", Conversion),
    ("contracts[]", Contract),
    ("market", Market),
    ("treasury", Treasury),
    ("financing", Financing),
    ("financing.btc_loans[]", BtcLoan),
    ("financing.notes[]", Note),
    ("financing.project_loans[]", ProjectLoan),
    ("financing.equity", Equity),
]


def _default(field) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "required"
    if field.default_factory is not None:
        return "empty"
    return "none" if field.default is None else f"`{field.default}`"


def input_reference_markdown() -> str:
    """One table per section: field | default | meaning (units are in the field names)."""
    out = []
    for title, model in SECTIONS:
        out.append(f"**{title}**\n")
        out.append("| field | default | meaning |")
        out.append("|---|---|---|")
        for name, field in model.model_fields.items():
            doc = " ".join((field.description or "").split()).replace("|", "\\|")
            out.append(f"| `{name}` | {_default(field)} | {doc} |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(input_reference_markdown())
