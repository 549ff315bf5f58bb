"""Shared pydantic configuration and small value types for the domain models.

Every model is frozen (what-ifs are ``model_copy(update=...)``, never mutation), forbids unknown
fields (a typo in an input file is an error, not a silently ignored key) and takes each field's
description from the docstring written under it.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
import unicodedata
from typing import Annotated, Any, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationInfo,
    field_validator,
)

MONTH_PATTERN = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
"""``YYYY-MM`` in ASCII digits: ``\\d`` would also take ``２０２６`` or Arabic-Indic digits, which
Python's ``int`` then reads as 2026, so a month no spreadsheet or CSV would match got through."""
_NUMBER_TEXT = re.compile(r"^\s*[-+]?([0-9][0-9_]*)?(\.[0-9_]*)?([eE][-+]?[0-9]+)?\s*$", re.ASCII)
"""A number written as text, ASCII digits only (``float`` alone would read ``１２``)."""


class Frozen(BaseModel):
    """Base for all domain models: frozen, strict about unknown fields, documented fields."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
        allow_inf_nan=False,
        validate_default=True,
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        """YAML reads yes/no/on/off/true/false as booleans and pydantic would take them as 1
        and 0: a ``grid_mw: yes`` must be an error, not a 1 MW site."""
        if isinstance(value, bool) and info.field_name in cls.model_fields:
            annotation = cls.model_fields[info.field_name].annotation
            if annotation is not bool and bool not in get_args(annotation):
                raise ValueError(
                    f"got the boolean {str(value).lower()} (YAML reads yes/no/on/off/true/false "
                    "as booleans); write the value itself (a number, text or a mapping)"
                )
        return value


class FieldError(ValueError):
    """A cross-field check's failure that knows which field it is about.

    Raised from model validators, whose errors pydantic otherwise places at the model itself;
    the loaders read ``loc`` (relative to the model) to point at the right line or cell.
    """

    def __init__(self, loc: tuple, message: str):
        super().__init__(message)
        self.loc = loc


def _check_month(value: object) -> str:
    if isinstance(value, dt.date):  # YAML reads 2026-03-01 as a date
        raise ValueError(
            f"got the date {value}; write the month alone as YYYY-MM "
            f"(e.g. {value.year:04d}-{value.month:02d})"
        )
    if not isinstance(value, str) or not MONTH_PATTERN.match(value):
        raise ValueError(
            f"expected a calendar month written YYYY-MM (e.g. 2026-03), got {value!r}; "
            "in YAML, quote it if it is read as a number"
        )
    return value


Month = Annotated[str, BeforeValidator(_check_month)]
"""A calendar month as ``YYYY-MM``."""

MAX_NAME_CHARS = 200
"""Longest name accepted: names end up in table cells, chart labels and file rows."""
_INVISIBLE = {"Cc", "Cf", "Cs", "Zl", "Zp"}  # control, format (zero-width, bidi), surrogates


def _check_name(value: str) -> str:
    """Names are matched exactly (a contract's eligible_sites against site names), so they are
    normalised to Unicode NFC and may not hide characters that a reader cannot see."""
    value = unicodedata.normalize("NFC", value)
    if not value.strip():
        raise ValueError("is blank; give a name with at least one visible character")
    if value != value.strip():
        raise ValueError(
            f"{value!r} starts or ends with a space; remove it (names are matched exactly)"
        )
    if len(value) > MAX_NAME_CHARS:
        raise ValueError(
            f"is {len(value)} characters long; names may have at most {MAX_NAME_CHARS}"
        )
    for i, ch in enumerate(value):
        if unicodedata.category(ch) in _INVISIBLE:
            label = unicodedata.name(ch, "a control character")
            raise ValueError(
                f"{value!r} holds the invisible character U+{ord(ch):04X} ({label}) at "
                f"position {i + 1}; retype the name without it"
            )
    return value


Name = Annotated[str, AfterValidator(_check_name)]
"""A name (of a site, fleet group, contract or portfolio): visible text, NFC-normalised.

Spaces inside, any script and emoji are fine; leading/trailing spaces, line breaks, tabs and
invisible characters (zero-width spaces, bidirectional overrides) are refused.
"""


def number_from_text(text: str) -> float:
    """A number written as text in ASCII digits (``float`` alone would read ``１２``, ``٣`` as
    numbers); raise ``ValueError`` for anything else."""
    if not _NUMBER_TEXT.match(text):
        raise ValueError(f"not a decimal number in the digits 0-9: {text!r}")
    return float(text)


def _series_values(value: object, max_value: float) -> float | list[float]:
    """Check a series before pydantic's union sees it, so that a bad value gets one clear
    message (not one error per member of ``float | list[float]``)."""
    if isinstance(value, str):
        try:
            value = number_from_text(value)
        except ValueError:
            raise ValueError(
                f"expected a number, got the text {value!r}; write digits only (no units or "
                "thousands separators)"
            ) from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real | list):
        kind = "a mapping" if isinstance(value, dict) else repr(value)
        raise ValueError(
            f"expected one number or a list of numbers (one per month), got {kind}; a CSV "
            "column is written {csv: FILE, column: NAME}"
        )
    if isinstance(value, list) and not value:
        raise ValueError("expected a number or a non-empty list of numbers, got an empty list")
    values = value if isinstance(value, list) else [value]
    for i, v in enumerate(values):
        which = f"value {i + 1} of the list" if isinstance(value, list) else "the value"
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise ValueError(f"{which} is {v!r}; every value must be a number")
        if not math.isfinite(v):
            raise ValueError(f"{which} is {v}; every value must be a finite number")
        if v < 0:
            raise ValueError(f"{which} is {v}; values must not be negative")
        if v > max_value:
            raise ValueError(
                f"{which} is {v:,.6g}, above the plausible maximum {max_value:,.6g}; "
                "check the units"
            )
    return [float(v) for v in value] if isinstance(value, list) else float(value)


def series(max_value: float = 1e12):
    """A monthly series type whose values must be finite numbers in ``[0, max_value]``."""
    return Annotated[float | list[float], BeforeValidator(lambda v: _series_values(v, max_value))]


Series = series()
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
