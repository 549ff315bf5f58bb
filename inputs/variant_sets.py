"""Variant sets: named what-ifs and grids of them, read from YAML.

::

    variants:                 # named variants: overrides by dotted path (see inputs/overrides.py)
      bear:
        market.hashprice_usd_per_ph_day: {scale: 0.7}
        contracts[Meridian Compute (10 yr)].rate_usd_per_kw_month: 130
      base: {}
    grid:                      # every combination of the values listed under vary
      name: grid               # variant ids grid-001, grid-002, ... (default name: grid)
      set:                     # applied to every point of the grid first (optional)
        treasury.min_cash_usd: 40000000
      vary:
        market.hashprice_usd_per_ph_day: {scale: [0.6, 0.8, 1.0, 1.2]}
        contracts[Meridian Compute (10 yr)].rate_usd_per_kw_month: [120, 148, 170]

``grid`` may also be a list of such grids (with different names). Grid points are numbered in
the order of ``itertools.product`` over the ``vary`` entries as written (the last varies
fastest), so ids are stable while the file is unchanged.

Paths and override forms are checked against the base portfolio when the set is loaded (a typo
stops everything: exit 2); each variant's resulting portfolio is validated on its own, so one
variant that produces an invalid portfolio is reported without stopping the others.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from realloc.inputs.csv_series import CsvReads, Horizon
from realloc.inputs.errors import InputError
from realloc.inputs.files import allowed_roots, cut
from realloc.inputs.overrides import (
    Override,
    OverrideError,
    apply_overrides,
    check_override,
    parse_override,
    portfolio_data,
    validate_portfolio,
)
from realloc.inputs.yaml_loader import parse_yaml, resolve_csv_series
from realloc.models import Portfolio

MAX_VARIANTS = 100_000
"""A grid larger than this is almost certainly a mistake (and would take days)."""
TOP_KEYS = ("description", "variants", "grid")
LEGACY_KEY = "scenarios"
"""The old name of ``variants:``, still read (with a deprecation note)."""
IN_MEMORY = "<variants>"
"""The name messages give a variant set passed from Python as a mapping."""
GRID_KEYS = ("name", "set", "vary")


@dataclass(frozen=True)
class VariantSpec:
    """One variant: its id (file-name safe), name, overrides and swept parameter values."""

    id: str
    name: str
    overrides: tuple[Override, ...]
    group: str  # "variants" or the grid's name
    line: int | None = None  # line of its definition in the variant file
    params: dict[str, Any] = field(default_factory=dict)  # column -> value

    def describe(self) -> str:
        """``name (path ×0.7, path 110)`` for messages."""
        changes = ", ".join(f"{o.path} {o.label()}" for o in self.overrides)
        return f"{self.name!r}" + (f" ({changes})" if changes else " (no changes)")


@dataclass
class VariantSet:
    """The variants of one file, in file order (named variants first, then grid points)."""

    path: Path
    variants: list[VariantSpec]
    param_columns: list[str]
    description: str = ""
    notes: list[str] = field(default_factory=list)  # deprecations to pass on to the user

    def __len__(self) -> int:
        return len(self.variants)


@dataclass(frozen=True)
class Materialized:
    """A variant with its validated portfolio, or the reason it has none."""

    spec: VariantSpec
    portfolio: Portfolio | None
    error: str | None = None


def _line(node: yaml.Node | None, *keys: Any) -> int | None:
    """1-based line of the node at ``keys`` (mapping keys or sequence indexes)."""
    for n, key in enumerate(keys):
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if getattr(k, "value", None) == str(key)]
            if not match:
                break
            node = match[0][0] if n == len(keys) - 1 else match[0][1]  # a key's own line
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
    return node.start_mark.line + 1 if node is not None else None


def _slug(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()
    return s or "variant"


class _Reader:
    """Reads one variant file; every error names the file and line."""

    def __init__(
        self, path: Path, base: Portfolio, node: yaml.Node | None, roots: tuple[Path, ...]
    ):
        self.path = path
        self.base_data = portfolio_data(base)
        self.horizon = Horizon(base.start_month, base.months)
        self.node = node
        self.roots = roots
        self.reads = CsvReads()  # each CSV file read once for the whole variant set

    def fail(self, message: str, *keys: Any) -> InputError:
        line = _line(self.node, *keys) if keys else None
        return InputError(f"line {line}: {message}" if line else message, self.path)

    def override(self, path: Any, raw: Any, where: str, *keys: Any) -> Override:
        if not isinstance(path, str):
            raise self.fail(
                f"{where}: path {path!r} must be text such as market.btc_price_usd", *keys
            )
        # {csv: FILE, column: NAME}: a series from a CSV relative to the variant file, inside
        # its folder tree or the portfolio's (or --data-root); it must cover the base
        # portfolio's months (a month column must start at its start_month)
        raw = resolve_csv_series(
            raw, self.path, roots=self.roots, horizon=self.horizon, loc=(path,), reads=self.reads
        )
        try:
            o = parse_override(path, raw)
            check_override(self.base_data, o)
        except OverrideError as e:
            raise self.fail(f"{where}: {e}", *keys) from None
        return o

    def overrides(self, block: Any, where: str, *keys: Any) -> tuple[Override, ...]:
        if block is None:
            return ()
        if not isinstance(block, dict):
            raise self.fail(
                f"{where}: expected a mapping of field path: value, got {type(block).__name__}",
                *keys,
            )
        return tuple(self.override(p, v, where, *keys, p) for p, v in block.items())

    def named(self, block: Any, key: str = "variants") -> list[VariantSpec]:
        """The named variants under ``key`` (``variants``, or the deprecated ``scenarios``)."""
        if not isinstance(block, dict):
            raise self.fail(
                f"{key}: expected a mapping of variant name: overrides "
                "(e.g. bear: {market.btc_price_usd: {scale: 0.7}})",
                key,
            )
        out = []
        for name, body in block.items():
            name = str(name)
            overrides = self.overrides(body, f"variant {name!r}", key, name)
            out.append(
                VariantSpec(
                    id=_slug(name),
                    name=name,
                    overrides=overrides,
                    group="variants",
                    line=_line(self.node, key, name),
                    params={o.column: _param_value(o) for o in overrides},
                )
            )
        return out

    def grid(self, block: Any, keys: tuple) -> list[VariantSpec]:
        if not isinstance(block, dict):
            raise self.fail(
                "grid: expected a mapping with vary: (and optionally name:, set:)", *keys
            )
        unknown = sorted(set(map(str, block)) - set(GRID_KEYS))
        if unknown:
            raise self.fail(
                f"grid: unknown key(s) {', '.join(unknown)}; a grid has {', '.join(GRID_KEYS)}",
                *keys,
            )
        name = str(block.get("name") or "grid")
        if _slug(name) != name:
            raise self.fail(
                f"grid name {name!r} must be lowercase letters, digits and dashes "
                f"(it prefixes variant ids), e.g. {_slug(name)!r}",
                *keys,
                "name",
            )
        fixed = self.overrides(block.get("set"), f"grid {name!r} set", *keys, "set")
        vary = block.get("vary")
        if not isinstance(vary, dict) or not vary:
            raise self.fail(
                f"grid {name!r}: vary must map field paths to lists of values, "
                "e.g. market.btc_price_usd: {scale: [0.8, 1.0, 1.2]}",
                *keys,
                "vary",
            )
        axes: list[list[Override]] = []
        for path, values in vary.items():
            where = f"grid {name!r} vary"
            levels = self.levels(path, values, where, *keys, "vary", path)
            axes.append(levels)
        count = math.prod(len(a) for a in axes)
        if count > MAX_VARIANTS:
            raise self.fail(
                f"grid {name!r} has {count:,} points, over the limit of {MAX_VARIANTS:,}; "
                "split it or use fewer values",
                *keys,
            )
        width = max(3, len(str(count)))
        line = _line(self.node, *keys)
        out = []
        for i, combo in enumerate(itertools.product(*axes), start=1):
            sid = f"{name}-{i:0{width}d}"
            params = {o.column: _param_value(o) for o in fixed}
            params |= {o.column: _param_value(o) for o in combo}
            out.append(
                VariantSpec(
                    id=sid,
                    name=sid,
                    overrides=(*fixed, *combo),
                    group=name,
                    line=line,
                    params=params,
                )
            )
        return out

    def levels(self, path: Any, values: Any, where: str, *keys: Any) -> list[Override]:
        if isinstance(values, dict) and len(values) == 1 and next(iter(values)) in ("scale", "add"):
            op, listed = next(iter(values.items()))
            if not isinstance(listed, list) or not listed:
                raise self.fail(f"{where}: {path}: {op} needs a non-empty list of numbers", *keys)
            values = [{op: v} for v in listed]
        if not isinstance(values, list) or not values:
            raise self.fail(
                f"{where}: {path} needs a non-empty list of values "
                "(or {scale: [...]} / {add: [...]})",
                *keys,
            )
        levels = [self.override(path, v, where, *keys) for v in values]
        if len({o.column for o in levels}) > 1:
            raise self.fail(
                f"{where}: {path} mixes plain values and scale/add; use one kind per path", *keys
            )
        return levels


def _param_value(o: Override) -> Any:
    """The value recorded for an override in the parameter column (numbers stay numbers)."""
    v = o.value
    if isinstance(v, bool) or isinstance(v, int | float | str) or v is None:
        return v
    return o.label()


def load_variant_set(
    source: Path | str | Mapping,
    base: Portfolio,
    also_allowed: tuple[Path | str | None, ...] = (),
) -> VariantSet:
    """Read a variant file (or a mapping of the same shape, from Python) and check every path
    against ``base``; raise :class:`InputError`.

    CSV series it names are read from its own folder tree (a mapping's: the working folder) or
    from the folders in ``also_allowed`` (the portfolio's folder and ``--data-root``).
    """
    if isinstance(source, Mapping):
        path, data, node = Path(IN_MEMORY), dict(source), None
        folder = Path.cwd()
    else:
        path = Path(source)
        data, node = parse_yaml(path, "variant set")
        folder = path.absolute().parent
    key, notes = _named_key(data, path)
    reader = _Reader(path, base, node, allowed_roots(folder, *also_allowed))
    specs: list[VariantSpec] = []
    if data.get(key) is not None:
        specs += reader.named(data[key], key)
    grids = data.get("grid")
    if isinstance(grids, list):
        for i, g in enumerate(grids):
            specs += reader.grid(g, ("grid", i))
    elif grids is not None:
        specs += reader.grid(grids, ("grid",))
    _check_specs(specs, path)
    columns: list[str] = []
    for s in specs:
        columns += [c for c in s.params if c not in columns]
    return VariantSet(path, specs, columns, str(data.get("description") or ""), notes)


def _named_key(data: Any, path: Path) -> tuple[str, list[str]]:
    """The top-level key of the named variants (``variants``, or the ``scenarios`` of files
    written before "scenario" came to mean only a market path), with a deprecation note for
    the old one. Refuse anything but a mapping of the known keys."""
    if not isinstance(data, dict):
        raise InputError(
            "expected a mapping with variants: and/or grid: at the top level, "
            f"got {type(data).__name__}",
            path,
        )
    unknown = sorted(set(map(str, data)) - set(TOP_KEYS) - {LEGACY_KEY})
    if unknown:
        raise InputError(
            # at most 8 keys, each cut: a file of 200,000 keys gave a 1.7 MB message
            f"unknown top-level key(s) {', '.join(cut(k, 80) for k in unknown[:8])}"
            f"{f' and {len(unknown) - 8:,} more' if len(unknown) > 8 else ''}; a variant set has "
            f"{', '.join(TOP_KEYS)}",
            path,
        )
    if LEGACY_KEY not in data:
        return "variants", []
    if "variants" in data:
        raise InputError(
            "both variants: and scenarios: at the top level; scenarios: is the old name of "
            "variants:, keep one (variants:)",
            path,
        )
    return LEGACY_KEY, [
        f"{path}: the top-level key scenarios: is deprecated (a scenario is now a market "
        "path of a stochastic plan); use variants:"
    ]


def _check_specs(specs: list[VariantSpec], path: Path) -> None:
    """At least one variant, ids unique, no more than :data:`MAX_VARIANTS`."""
    if not specs:
        raise InputError("no variants: add a variants: mapping or a grid:", path)
    seen: dict[str, VariantSpec] = {}
    for s in specs:
        if s.id in seen:
            raise InputError(
                f"variants {seen[s.id].name!r} and {s.name!r} both get the id {s.id!r}; "
                "rename one (ids are the names in lowercase with dashes)",
                path,
            )
        seen[s.id] = s
    if len(specs) > MAX_VARIANTS:
        raise InputError(f"{len(specs):,} variants, over the limit of {MAX_VARIANTS:,}", path)


def materialize(base: Portfolio, variant_set: VariantSet) -> list[Materialized]:
    """Every variant's portfolio; an invalid one carries a message naming file, variant, field."""
    data = portfolio_data(base)
    out = []
    for spec in variant_set.variants:
        try:
            p = validate_portfolio(apply_overrides(data, spec.overrides))
            out.append(Materialized(spec, p))
        except OverrideError as e:
            where = f"line {spec.line}: " if spec.line else ""
            msg = f"{variant_set.path}: {where}variant {spec.describe()}: {e}"
            out.append(Materialized(spec, None, msg))
    return out


def variant_portfolio(base: Portfolio, variant_set: VariantSet, spec: VariantSpec) -> Portfolio:
    """One variant's portfolio; raise :class:`InputError` naming the file and variant."""
    try:
        return validate_portfolio(apply_overrides(portfolio_data(base), spec.overrides))
    except OverrideError as e:
        where = f"line {spec.line}: " if spec.line else ""
        raise InputError(f"{where}variant {spec.describe()}: {e}", variant_set.path) from None
