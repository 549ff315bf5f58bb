"""What differs between the inputs of two plans: every field path of two ``inputs.json`` with
its value in each, in the path language of variant files (``sites[Dalton GA].grid_mw``,
``market.btc_price_usd[3]``), so a line of the diff can be pasted into
``Portfolio.with_changes`` or a variant file to reproduce it.

The table lists every differing leaf (each month of a series on its own row); the readable
lines summarise a series where more than a few months differ ("60 of 60 months differ, mean
67,000 → 53,600"), since a board reads a shifted price curve as one change, not sixty.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

ABSENT = "(absent)"
"""The value shown for a field or list item one plan's inputs do not have."""

LISTED_MONTHS = 3
"""A series with more differing months than this is one summary line in the Markdown."""

COLUMNS = ["path", "month", "a", "b", "b_minus_a"]


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_series(v: object) -> bool:
    return isinstance(v, list) and bool(v) and all(_is_number(x) for x in v)


def _same(a: object, b: object) -> bool:
    """Equal values (``60`` and ``60.0`` are the same number; ``True`` is not ``1``)."""
    if _is_number(a) and _is_number(b):
        return a == b
    return type(a) is type(b) and a == b


def _named(items: list) -> dict[str, Any] | None:
    """A list of named records keyed by name (sites, fleets, contracts; an empty list too),
    or None when names are missing or repeated: then the list is compared as values."""
    if not all(isinstance(x, dict) and isinstance(x.get("name"), str) for x in items):
        return None
    keyed = {x["name"]: x for x in items}
    return keyed if len(keyed) == len(items) else None


def _months(start: object, n: int) -> list[str]:
    """Month labels of a series starting at ``start`` (empty labels when there is none)."""
    try:
        return [str(p) for p in pd.period_range(start=str(start), periods=n, freq="M")]
    except (ValueError, TypeError):
        return [""] * n


def number_text(v: float) -> str:
    """An input number as written, with thousands separators (no rounding of small rates)."""
    if float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:,.2f}" if abs(v) >= 1e5 else f"{v:,.6g}"


def value_text(v: object) -> str:
    """Any input value on one line: numbers with separators, records and lists as JSON."""
    if v is ABSENT:
        return ABSENT
    if _is_number(v):
        return number_text(v)
    if isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False, separators=(", ", ": "))


def _cell(v: object) -> object:
    """A CSV cell: numbers stay numbers, anything else its one-line text."""
    return v if _is_number(v) else value_text(v)


@dataclass
class InputsDiff:
    """The differing fields (``rows``, one per leaf) and the readable lines (series with many
    differing months summarised)."""

    rows: list[tuple] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    months: list[str] = field(default_factory=list)
    """Month labels when both plans start in the same month (series rows name their month)."""

    @property
    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=COLUMNS)

    def leaf(self, path: str, a: object, b: object, month: str = "") -> None:
        """Record one differing value (B − A when both are numbers)."""
        delta = b - a if _is_number(a) and _is_number(b) else None
        self.rows.append((path, month, _cell(a), _cell(b), delta))

    def walk(self, path: str, a: object, b: object) -> None:
        """Compare ``a`` and ``b`` below ``path``, recording every difference."""
        if _same(a, b):
            return
        named = (_named(a), _named(b)) if isinstance(a, list) and isinstance(b, list) else None
        if isinstance(a, dict) and isinstance(b, dict):
            for key in [*a, *(k for k in b if k not in a)]:
                sub = f"{path}.{key}" if path else str(key)
                self.walk(sub, a.get(key, ABSENT), b.get(key, ABSENT))
        elif named and None not in named:
            self._records(path, *named)
        elif _is_series(a) or _is_series(b):
            self._series(path, a, b)
        else:
            self.leaf(path, a, b)
            self.lines.append(f"{path}: {_arrow(a, b)}")

    def _records(self, path: str, a: dict, b: dict) -> None:
        """Named records (sites, contracts) matched by name, not position (a contract added
        in front must not make every later one differ); a record only one plan has is one
        line ("only in B"), its fields are not listed one by one."""
        for name in [*a, *(n for n in b if n not in a)]:
            sub = f"{path}[{name}]"
            if name not in b or name not in a:
                self.leaf(sub, a.get(name, ABSENT), b.get(name, ABSENT))
                self.lines.append(f"{sub}: only in {'A' if name in a else 'B'}")
            else:
                self.walk(sub, a[name], b[name])

    def _series(self, path: str, a: object, b: object) -> None:
        """A monthly series (one number standing for every month counts as that number each
        month): every differing month a row; more than :data:`LISTED_MONTHS` one line."""
        n = max(len(x) if isinstance(x, list) else 1 for x in (a, b))
        va, vb = _as_series(a, n), _as_series(b, n)
        months = self.months if len(self.months) == n else [""] * n
        differ = [i for i in range(n) if va[i] != vb[i]]
        for i in differ:
            self.leaf(f"{path}[{i}]", va[i], vb[i], months[i])
        if len(differ) <= LISTED_MONTHS:
            self.lines += [
                f"{path}[{i}]: {value_text(va[i])} → {value_text(vb[i])}" for i in differ
            ]
            return
        unit = "months" if len(self.months) == n else "values"
        self.lines.append(
            f"{path}: {len(differ)} of {n} {unit} differ, mean {_mean_text(va)} → {_mean_text(vb)}"
        )


def _arrow(a: object, b: object) -> str:
    return f"{value_text(a)} → {value_text(b)}"


def _as_series(v: object, n: int) -> list:
    """``v`` as ``n`` values: a series as it is (padded with :data:`ABSENT`), one number
    repeated (it stands for every month), anything else in the first place."""
    if isinstance(v, list):
        return [*v, *[ABSENT] * (n - len(v))]
    return [v] * n if _is_number(v) else [v, *[ABSENT] * (n - 1)]


def _mean_text(values: list) -> str:
    numbers = [x for x in values if _is_number(x) and math.isfinite(x)]
    return number_text(sum(numbers) / len(numbers)) if numbers else "n/a"


def diff_inputs(a: dict | None, b: dict | None) -> InputsDiff:
    """Every differing field of two plans' inputs.json (empty when they are equal). When one
    plan has no inputs.json (a folder from an older realloc) a single line says so."""
    out = InputsDiff()
    if a is None or b is None:
        which = " and ".join(p for p, x in (("A", a), ("B", b)) if x is None)
        out.lines.append(f"inputs.json missing in {which}: the inputs were not compared")
        return out
    if a.get("start_month") == b.get("start_month"):
        out.months = _months(a.get("start_month"), int(a.get("months") or 0))
    out.walk("", a, b)
    return out
