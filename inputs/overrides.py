"""Overrides of portfolio fields by dotted path: the what-if language of variant sets.

A path walks the portfolio as users see it: field names joined by dots, list items picked by
their ``name`` in brackets, ``[*]`` for every item, ``[N]`` for month N of a series::

    contracts[Meridian Compute (10 yr)].rate_usd_per_kw_month
    sites[*].conversion.capex_usd_per_it_mw
    market.hashprice_usd_per_ph_day

An override sets a value (any YAML value), or changes a number or every month of a series:
``{scale: 0.7}`` multiplies, ``{add: 5}`` adds (under ``[*]``, items whose field is not set
are left alone: ``contracts[*].rate_usd_per_kw_month`` skips cloud contracts, which have
none). Overrides edit the portfolio's plain data (``model_dump``), which is then validated
again like a portfolio file, so a what-if can never produce a portfolio that the loader would
have refused.
"""

from __future__ import annotations

import copy
import difflib
import math
import numbers
import unicodedata
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from realloc.inputs.errors import from_validation_error
from realloc.models import Portfolio

OPS = ("scale", "add")
"""Arithmetic overrides; any other value replaces the field."""

ITEM_KIND = {
    "sites": "site",
    "contracts": "contract",
    "fleets": "fleet group",
    "btc_loans": "BTC-backed loan",
    "notes": "note",
    "project_loans": "project loan",
}


class OverrideError(ValueError):
    """A path or an override that does not fit the portfolio (the caller adds file and line)."""


TABLE_COLUMNS = frozenset({"id", "name", "group", "status", "reason", "key"})
"""Columns of a sweep's variant table that are not parameters. A variant that sets the
portfolio's ``name`` would otherwise give a second ``name`` column, and the sweep solved every
variant only to fail writing the table (``Duplicate column names``); its column is
``name:set``."""


@dataclass(frozen=True)
class Step:
    """One step of a path: a field (``key``) or a selection in brackets (``select``)."""

    key: str | None = None
    select: str | None = None  # item name, "*" or a month number

    def __str__(self) -> str:
        return self.key if self.key is not None else f"[{self.select}]"


@dataclass(frozen=True)
class Override:
    """Set, scale or add to the field(s) at ``path``."""

    path: str
    op: str  # "set" | "scale" | "add"
    value: Any

    @property
    def column(self) -> str:
        """Column name of this override's parameter in result tables (``path`` or ``path:op``;
        ``path:set`` when the path is the name of one of the table's own columns)."""
        if self.op == "set" and self.path not in TABLE_COLUMNS:
            return self.path
        return f"{self.path}:{self.op}"

    def label(self) -> str:
        """Short text of the change, e.g. ``×0.7``, ``+5`` or ``110``."""
        if self.op == "scale":
            return f"×{self.value:g}"
        if self.op == "add":
            return f"{self.value:+g}"
        return _short(self.value)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list) and len(value) > 3:
        return f"[{len(value)} values]"
    return str(value)


def parse_path(path: str) -> list[Step]:
    """Split ``a.b[Name].c`` into steps; raise :class:`OverrideError` on a malformed path."""
    if not isinstance(path, str) or not path.strip():
        raise OverrideError(
            f"path {path!r} is empty; write a field path such as market.btc_price_usd"
        )
    steps: list[Step] = []
    i, n = 0, len(path)
    expect_key = True
    while i < n:
        ch = path[i]
        if ch == "[":
            end = path.find("]", i + 1)
            if end < 0:
                raise OverrideError(f"path {path!r}: '[' at character {i + 1} is never closed")
            name = unicodedata.normalize("NFC", path[i + 1 : end])
            if not name:
                raise OverrideError(f"path {path!r}: empty brackets; put an item name in them")
            if not steps:
                raise OverrideError(f"path {path!r} starts with brackets; start with a field")
            steps.append(Step(select=name))
            i = end + 1
            expect_key = False
        elif ch == ".":
            if expect_key:
                raise OverrideError(f"path {path!r}: empty field name at character {i + 1}")
            i += 1
            expect_key = True
        elif ch == "]":
            raise OverrideError(f"path {path!r}: ']' at character {i + 1} has no '['")
        else:
            if not expect_key:
                raise OverrideError(
                    f"path {path!r}: missing '.' before character {i + 1} ({path[i:]!r})"
                )
            j = i
            while j < n and path[j] not in ".[]":
                j += 1
            steps.append(Step(key=path[i:j].strip()))
            i = j
            expect_key = False
    if expect_key:
        raise OverrideError(f"path {path!r} ends with '.'; finish it with a field name")
    return steps


def parse_override(path: str, raw: Any) -> Override:
    """An override from its YAML form: ``{scale: k}``, ``{add: x}`` or a plain value."""
    parse_path(path)
    if isinstance(raw, dict) and any(k in OPS for k in raw):
        if len(raw) != 1:
            raise OverrideError(
                f"{path}: {raw!r} mixes keys; write one of {{scale: K}} or {{add: X}} alone"
            )
        (op, value), *_ = raw.items()
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise OverrideError(f"{path}: {op} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise OverrideError(f"{path}: {op} must be a finite number, got {value!r}")
        return Override(path, op, float(value))
    return Override(path, "set", raw)


def _did_you_mean(word: str, choices: list[str]) -> str:
    """A suggestion: a choice that starts with the word (fields carry units), else a close one."""
    close = [c for c in choices if c.startswith(word)]
    close = close[:1] if len(close) == 1 else difflib.get_close_matches(word, choices, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


Target = tuple[Any, Any]  # (container, key or index) of one field to change


def _targets(data: Any, steps: list[Step], path: str) -> list[Target]:
    """Every (container, key) the path names in ``data``; wildcards may name several."""
    found: list[Target] = [(None, None)]
    nodes: list[Any] = [data]
    where = ""
    for n, step in enumerate(steps):
        last = n == len(steps) - 1
        new_found: list[Target] = []
        new_nodes: list[Any] = []
        for node in nodes:
            for container, key in _step(node, step, path, where):
                value = container[key]
                if value is None and not last:
                    if step.select == "*" or any(s.select == "*" for s in steps[:n]):
                        continue  # e.g. sites[*].conversion... skips sites without conversion
                    raise OverrideError(
                        f"path {path!r}: {where}{'.' if where else ''}{step} is not set in the "
                        "portfolio, so there is nothing to change under it; set the whole "
                        f"{step} section instead"
                    )
                new_found.append((container, key))
                new_nodes.append(value)
        found, nodes = new_found, new_nodes
        where = f"{where}{'.' if where and step.key is not None else ''}{step}"
        if not found:
            raise OverrideError(f"path {path!r}: no item has {where}")
    return found


def _step(node: Any, step: Step, path: str, where: str) -> list[Target]:
    if step.key is not None:
        if isinstance(node, list):
            kind = ITEM_KIND.get(where.rsplit(".", 1)[-1], "item")
            names = [i.get("name") for i in node if isinstance(i, dict)]
            example = f"{where}[{names[0]}].{step.key}" if names else f"{where}[NAME]"
            raise OverrideError(
                f"path {path!r}: {where} is a list; pick a {kind} by name in brackets, "
                f"e.g. {example}, or [*] for every {kind}"
            )
        if not isinstance(node, dict):
            raise OverrideError(
                f"path {path!r}: {where} is a value ({_short(node)}), it has no field {step.key!r}"
            )
        if step.key not in node:
            fields = sorted(node)
            raise OverrideError(
                f"path {path!r}: {step.key!r} is not a field of {where or 'the portfolio'}"
                f"{_did_you_mean(step.key, fields)} (fields: {', '.join(fields)})"
            )
        return [(node, step.key)]
    sel = step.select
    if isinstance(node, dict):
        if sel == "*":
            return [(node, k) for k in node]
        if sel not in node:
            keys = sorted(map(str, node))
            raise OverrideError(
                f"path {path!r}: {where} has no key {sel!r}{_did_you_mean(sel, keys)} "
                f"(keys: {', '.join(keys)})"
            )
        return [(node, sel)]
    if not isinstance(node, list):
        raise OverrideError(
            f"path {path!r}: {where} is a single value ({_short(node)}), not a list; "
            "drop the brackets"
        )
    if sel == "*":
        return [(node, i) for i in range(len(node))]
    named = [i for i, item in enumerate(node) if isinstance(item, dict) and "name" in item]
    if named:
        hits = [i for i in named if node[i]["name"] == sel]
        if not hits:
            kind = ITEM_KIND.get(where.rsplit(".", 1)[-1], "item")
            names = [node[i]["name"] for i in named]
            raise OverrideError(
                f"path {path!r}: no {kind} named {sel!r} in {where}{_did_you_mean(sel, names)} "
                f"(known: {', '.join(names)})"
            )
        return [(node, hits[0])]
    # ASCII digits only: str.isdigit() is also true of '²' (int() fails) and of '１' or '٣'
    if sel.isascii() and sel.isdigit() and int(sel) < len(node):
        return [(node, int(sel))]
    raise OverrideError(
        f"path {path!r}: [{sel}] must be a month number from 0 to {len(node) - 1} for {where}"
    )


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _apply_op(old: Any, op: str, k: float, path: str) -> Any:
    if _is_number(old):
        return old * k if op == "scale" else old + k
    if isinstance(old, list) and old and all(_is_number(v) for v in old):
        return [v * k if op == "scale" else v + k for v in old]
    raise OverrideError(
        f"path {path!r}: {op} needs a number or a series of numbers, but the field holds "
        f"{_short(old)!r}; set a value instead"
    )


def _arithmetic_targets(targets: list[Target], path: str) -> list[Target]:
    """The targets a scale/add changes: under a ``[*]`` wildcard, items whose field is not set
    (None: a cloud contract's ``rate_usd_per_kw_month``, a colocation's cloud fields) are left
    as they are, as long as some item holds a number; a named item must hold one."""
    if "[*]" not in path:
        return targets
    held = [(c, k) for c, k in targets if c[k] is not None]
    return held or targets


def check_override(data: dict, override: Override) -> None:
    """Raise :class:`OverrideError` unless ``override`` can be applied to ``data``."""
    targets = _targets(data, parse_path(override.path), override.path)
    if override.op != "set":
        for container, key in _arithmetic_targets(targets, override.path):
            _apply_op(container[key], override.op, override.value, override.path)


def apply_overrides(data: dict, overrides: list[Override] | tuple[Override, ...]) -> dict:
    """A copy of the plain portfolio ``data`` with ``overrides`` applied in order."""
    out = copy.deepcopy(data)
    for o in overrides:
        targets = _targets(out, parse_path(o.path), o.path)
        if o.op == "set":
            for container, key in targets:
                container[key] = copy.deepcopy(o.value)
            continue
        for container, key in _arithmetic_targets(targets, o.path):
            container[key] = _apply_op(container[key], o.op, o.value, o.path)
    return out


def portfolio_data(portfolio: Portfolio) -> dict:
    """The portfolio's plain data, as overrides see it (validates back to the same portfolio)."""
    return portfolio.model_dump(mode="python")


def validate_portfolio(data: dict) -> Portfolio:
    """Validate edited data like a portfolio file; raise :class:`OverrideError` naming fields."""
    try:
        return Portfolio.model_validate(data)
    except ValidationError as e:
        raise OverrideError(str(from_validation_error(e, "", data))) from None


def overridden(base: Portfolio, overrides: list[Override] | tuple[Override, ...]) -> Portfolio:
    """``base`` with ``overrides`` applied and validated."""
    return validate_portfolio(apply_overrides(portfolio_data(base), overrides))


def values_at(data: dict, path: str) -> list[Any]:
    """The current values of every field ``path`` names in the plain portfolio ``data``."""
    return [c[k] for c, k in _targets(data, parse_path(path), path)]


def base_level(data: dict, column: str) -> float | None:
    """The level of a parameter column when no override is applied: 1 for a scale, 0 for an
    add, the portfolio's own number for a set (None when the field is not one number)."""
    path, _, op = column.partition(":")
    if op == "scale":
        return 1.0
    if op == "add":
        return 0.0
    try:
        values = values_at(data, path)
    except OverrideError:
        return None
    if len(values) == 1 and _is_number(values[0]):
        return float(values[0])
    return None
