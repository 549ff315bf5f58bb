"""Shared pydantic configuration and small value types for the domain models.

Every model is frozen (what-ifs are ``model_copy(update=...)``, never mutation), forbids unknown
fields (a typo in an input file is an error, not a silently ignored key) and takes each field's
description from the docstring written under it.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

MONTH_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class Frozen(BaseModel):
    """Base for all domain models: frozen, strict about unknown fields, documented fields."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
        allow_inf_nan=False,
        validate_default=True,
    )


class FieldError(ValueError):
    """A cross-field check's failure that knows which field it is about.

    Raised from model validators, whose errors pydantic otherwise places at the model itself;
    the loaders read ``loc`` (relative to the model) to point at the right line or cell.
    """

    def __init__(self, loc: tuple, message: str):
        super().__init__(message)
        self.loc = loc


def _check_month(value: str) -> str:
    if not MONTH_PATTERN.match(value):
        raise ValueError(f"expected a calendar month written YYYY-MM (e.g. 2026-03), got {value!r}")
    return value


Month = Annotated[str, AfterValidator(_check_month)]
"""A calendar month as ``YYYY-MM``."""


def _check_finite_series(value: float | list[float]) -> float | list[float]:
    values = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        raise ValueError("expected a number or a non-empty list of numbers, got an empty list")
    for i, v in enumerate(values):
        if not math.isfinite(v):
            raise ValueError(f"value {i} is {v}; every value must be a finite number")
        if v < 0:
            raise ValueError(f"value {i} is {v}; values must not be negative")
    return value


Series = Annotated[float | list[float], AfterValidator(_check_finite_series)]
"""A monthly quantity: one number for every month, or a list with one value per month.

Input files may also point at a CSV column (``{csv: file.csv, column: name}``); the loader
resolves that into a list before validation.
"""


def month_index(start: str, month: str) -> int:
    """Months from ``start`` to ``month`` (both ``YYYY-MM``); negative when ``month`` is earlier."""
    y0, m0 = (int(p) for p in start.split("-"))
    y1, m1 = (int(p) for p in month.split("-"))
    return (y1 - y0) * 12 + (m1 - m0)


def month_label(start: str, offset: int) -> str:
    """The ``YYYY-MM`` label ``offset`` months after ``start``."""
    y0, m0 = (int(p) for p in start.split("-"))
    total = y0 * 12 + (m0 - 1) + offset
    return f"{total // 12:04d}-{total % 12 + 1:02d}"
