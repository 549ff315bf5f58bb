"""The one error type that input loading raises, and its translation from pydantic's errors.

A planner's users fix their own files, so every message names the file, where in it (key path and
line for YAML, sheet and row for Excel), the field and what was expected.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from models.base import FieldError


class InputError(Exception):
    """Bad input: the message is meant for the person who wrote the file."""

    def __init__(self, message: str, path: Path | str | None = None):
        self.path = str(path) if path is not None else None
        super().__init__(f"{self.path}: {message}" if self.path else message)


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
                    label = item["name"]
                node = item
            else:
                node = None
            parts.append(f"[{label}]")
        else:
            node = node.get(key) if isinstance(node, dict) else None
            parts.append(("." if parts else "") + str(key))
    return "".join(parts) or "(top level)"


def from_validation_error(
    err: ValidationError,
    path: Path | str,
    data: object,
    locate: Callable[[tuple], str] | None = None,
) -> InputError:
    """Turn pydantic's error list into one readable paragraph; ``locate`` adds a line or row."""
    lines = []
    for e in err.errors(include_url=False):
        loc = tuple(e["loc"])
        cause = (e.get("ctx") or {}).get("error")
        if isinstance(cause, FieldError):  # a cross-field check that knows its field
            loc = loc + tuple(cause.loc)
        where = describe_loc(loc, data)
        if locate is not None:
            extra = locate(loc)
            if extra:
                where = f"{where} ({extra})"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown field; check its spelling against the input reference in README.md"
        elif e["type"] == "missing":
            msg = "required field is missing"
        got = e.get("input")
        got_text = (
            "" if e["type"] in ("missing",) or isinstance(got, dict | list) else f" (got {got!r})"
        )
        lines.append(f"{where}: {msg}{got_text}")
    count = len(lines)
    head = f"{count} problem{'s' if count > 1 else ''} in the portfolio: "
    return InputError(head + "; ".join(lines), path)
