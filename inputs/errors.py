"""The one error type that input loading raises, and its translation from pydantic's errors.

A planner's users fix their own files, so every message names the file, where in it (key path and
line for YAML, sheet and row for Excel), the field and what was expected.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from realloc.models.base import FieldError


class InputError(Exception):
    """Bad input: the message is meant for the person who wrote the file."""

    def __init__(self, message: str, path: Path | str | None = None):
        self.path = str(path) if path is not None else None
        self.message = message  # without the file
        shown = self.path
        if shown is not None and len(shown) > 300:  # a path written in a file can be any length
            shown = f"{shown[:150]}...{shown[-100:]}"
        super().__init__(f"{shown}: {message}" if shown else message)


def _printable(value: object, limit: int = 80) -> str:
    """A name or key from a file on one line (invisible characters escaped), at most ``limit``
    characters: a name with a line break must not break the message, nor a huge one flood it."""
    text = str(value)
    text = text[:limit] + "..." if len(text) > limit else text
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text)


def describe_loc(loc: tuple, data: object) -> str:
    """Render a pydantic location like ``('sites', 0, 'grid_mw')`` as ``sites[Texas A].grid_mw``.

    List items are named by their ``name`` field when they have one, since users think in names.
    """
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int):
            label = str(key)
            if isinstance(node, list) and 0 <= key < len(node):
                item = node[key]
                if isinstance(item, dict) and isinstance(item.get("name"), str):
                    label = _printable(item["name"])
                node = item
            else:
                node = None
            parts.append(f"[{label}]")
        else:
            node = node.get(key) if isinstance(node, dict) else None
            parts.append(("." if parts else "") + _printable(key))
    return "".join(parts) or "(top level)"


_FIX = {
    "float_parsing": "expected a valid number (digits only, no units or thousands separators)",
    "float_type": "expected a valid number",
    "int_parsing": "expected a valid integer (a whole number)",
    "int_type": "expected a valid integer (a whole number)",
    "int_from_float": "expected a valid integer, without a fractional part",
    "finite_number": "expected a finite number (not .nan or .inf)",
    "string_type": "expected text; put it in quotes",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "list_type": "expected a list (in YAML: [A, B] or one '- item' per line)",
    "dict_type": "expected a mapping (in YAML: one 'key: value' per line, indented)",
    "model_type": "expected a mapping of fields (in YAML: one 'key: value' per line, indented)",
    "model_attributes_type": "expected a mapping of fields (one 'key: value' per line)",
    "too_short": "the list is too short; it needs at least one item",
    "string_too_short": "must not be empty",
}
_BOUNDS = {
    "greater_than": ("gt", "must be greater than"),
    "greater_than_equal": ("ge", "must be greater than or equal to"),
    "less_than": ("lt", "must be less than"),
    "less_than_equal": ("le", "must be less than or equal to"),
}


def _field_info(model: type[BaseModel] | None, loc: tuple) -> tuple[type[BaseModel] | None, Any]:
    """The model holding the last field of ``loc`` and that field's FieldInfo (or None)."""
    holder, info = None, None
    for key in loc:
        if isinstance(key, int):
            continue
        if model is None:
            return None, None
        holder, info = model, model.model_fields.get(key)
        if info is None:
            return holder, None
        model = _inner_model(info.annotation)
    return holder, info


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _meaning(info: Any) -> str:
    """The first sentence of a field's docstring, which states its units."""
    text = " ".join((getattr(info, "description", None) or "").split())
    return text.split(". ")[0].rstrip(".")


def _message(e: dict, model: type[BaseModel] | None) -> str:
    """Pydantic's message rewritten as what was wrong and what to write instead."""
    loc = tuple(e["loc"])
    kind = e["type"]
    msg = e["msg"].removeprefix("Value error, ")
    holder, info = _field_info(model, loc)
    meaning = _meaning(info)
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else ""
        known = list(holder.model_fields) if holder is not None else []
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        listing = f" (fields here: {', '.join(known)})" if known else ""
        return (
            f"unknown field; {hint}check its spelling against the input reference in "
            f"README.md{listing}"
        )
    if kind == "missing":
        what = f" ({meaning})" if meaning else ""
        return f"required field is missing{what}; add it"
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        limit = (e.get("ctx") or {}).get(key)
        msg = f"{words} {limit:,.10g}" if isinstance(limit, int | float) else msg
        return f"{msg}; this field is: {meaning}" if meaning else msg
    if kind in _FIX:
        fix = _FIX[kind]
        return f"{fix}; this field is: {meaning}" if meaning else fix
    return msg


def short_repr(value: object, limit: int = 40) -> str:
    """The offending value, cut to ``limit`` characters: enough to find it in the file."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


MAX_PROBLEMS_SHOWN = 20
"""Problems spelled out in one message; the rest are counted. A file of 200,000 unknown keys
used to be described key by key (each located in the YAML tree, quadratic: minutes) in a
message of tens of megabytes."""


def from_validation_error(
    err: ValidationError,
    path: Path | str,
    data: object,
    locate: Callable[[tuple], str] | None = None,
    model: type[BaseModel] | None = None,
    origin: Callable[[tuple, str], str] | None = None,
) -> InputError:
    """Turn pydantic's error list into one readable paragraph; ``locate`` adds a line or row.

    ``model`` (the validated model class) lets messages name the field's meaning and units and
    suggest the closest known field for a misspelt one. ``origin(loc, message)`` names the file
    a value was read from when it is not the one being validated (a CSV series).
    """
    lines = []
    errors = err.errors(include_url=False)
    for e in errors[:MAX_PROBLEMS_SHOWN]:
        loc = tuple(e["loc"])
        cause = (e.get("ctx") or {}).get("error")
        if isinstance(cause, FieldError):  # a cross-field check that knows its field
            loc = loc + tuple(cause.loc)
        where = describe_loc(loc, data)
        msg = _message(e, model)
        extra = [locate(loc) if locate is not None else "", origin(loc, msg) if origin else ""]
        extra = [x for x in extra if x]
        if extra:
            where = f"{where} ({'; '.join(extra)})"
        got = e.get("input")
        got_text = (
            ""
            if e["type"] in ("missing", "extra_forbidden") or isinstance(got, dict | list)
            else f" (got {short_repr(got)})"
        )
        lines.append(f"{where}: {msg}{got_text}")
    count = len(errors)
    if count > len(lines):
        lines.append(f"and {count - len(lines):,} more (fix these first)")
    head = f"{count:,} problem{'s' if count > 1 else ''} in the portfolio: "
    return InputError(head + "; ".join(lines), path)
