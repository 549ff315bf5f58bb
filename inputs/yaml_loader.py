"""Load a portfolio from YAML, resolving CSV-column series relative to the YAML file.

YAML is parsed by inputs/yaml_parse.py (``safe_load`` rules, bounded); its node tree is kept so
that a validation error can say on which line the offending field sits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from realloc.inputs.csv_series import CsvReads, CsvSeries, Horizon, read_csv_series
from realloc.inputs.errors import InputError, describe_loc, from_validation_error
from realloc.inputs.files import (
    MAX_INPUT_BYTES,  # noqa: F401 (re-exported: the limit's old home)
    allowed_roots,
    cut,
    resolve_reference,
    shown,
)
from realloc.inputs.yaml_parse import node_line, parse_yaml, too_deep
from realloc.models import Portfolio


def resolve_csv_series(
    data: Any,
    path: Path,
    *,
    roots: Sequence[Path],
    horizon: Horizon,
    node: yaml.Node | None = None,
    loc: tuple = (),
    sources: dict[tuple, CsvSeries] | None = None,
    top: Any = None,
    reads: CsvReads | None = None,
) -> Any:
    """Replace every ``{csv: FILE, column: NAME}`` mapping with that column's values as a list.

    FILE is relative to ``path``'s folder and must lie inside ``roots`` (see inputs/files.py).
    ``horizon`` (the portfolio's start_month and months) is what the series must cover.
    ``sources`` collects, per location, where each value came from, so that a later error about
    a value can name the CSV file, line and column. ``top`` (the whole document) lets messages
    name list items by their names; ``reads`` (one per document) reads each CSV file once.
    """
    reads = reads if reads is not None else CsvReads()

    def _below(value: Any, key: Any) -> Any:
        """The same resolution one level down, at ``loc + (key,)``."""
        return resolve_csv_series(
            value, path, roots=roots, horizon=horizon, node=node, loc=(*loc, key),
            sources=sources, top=data if top is None else top, reads=reads,
        )  # fmt: skip

    if isinstance(data, dict):
        if "csv" in data:
            where = describe_loc(loc, top)
            line = node_line(node, loc)
            where = f"{where} ({line})" if line else where
            series = _csv_column(data, path, where, roots, horizon, reads)
            if sources is not None:
                sources[loc] = series
            return series.values
        return {k: _below(v, k) for k, v in data.items()}
    if isinstance(data, list):
        return [_below(v, i) for i, v in enumerate(data)]
    return data


def _csv_column(
    data: dict, path: Path, where: str, roots: Sequence[Path], horizon: Horizon, reads: CsvReads
) -> CsvSeries:
    """The series a ``{csv: FILE, column: NAME}`` mapping at ``where`` names (FILE relative to
    ``path``'s folder, inside ``roots``)."""
    if set(data) != {"csv", "column"}:
        raise InputError(
            f"{where}: a CSV series is written {{csv: FILE, column: NAME}} with exactly "
            f"those two keys, got keys {', '.join(cut(k) for k in data)}",
            path,
        )
    if not isinstance(data["csv"], str) or not isinstance(data["column"], str | int):
        raise InputError(
            f"{where}: a CSV series is written {{csv: FILE, column: NAME}} with FILE a "
            "file name and NAME a column name of that file",
            path,
        )
    csv_path = resolve_reference(
        path.parent / data["csv"], roots, "series file", where, path, name=data["csv"]
    )
    if not _exists(csv_path):
        raise InputError(
            f"{where}: series file {shown(path.parent / data['csv'], 200)} not found "
            "(paths are relative to the YAML file)",
            path,
        )
    used_by = f" (the series {where} of {path.name})"
    return read_csv_series(csv_path, str(data["column"]), used_by, horizon, reads)


def _exists(path: Path) -> bool:
    """Whether ``path`` exists; an unusable name (too long, a loop) counts as existing so that
    the read itself reports what is wrong with it."""
    try:
        path.stat()
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        return True
    return True


def csv_origin(sources: dict[tuple, CsvSeries], loc: tuple, message: str) -> str:
    """Where the value an error is about came from, when it came from a CSV: the file, line
    and column (the value's index from ``loc`` or from "value N of the list" in ``message``)."""
    for n in range(len(loc), 0, -1):
        series = sources.get(tuple(loc[:n]))
        if series is None:
            continue
        rest = loc[n:]
        if rest and isinstance(rest[0], int):
            return f"value from {series.where(rest[0])}"
        match = _VALUE_N.search(message)
        if match:
            return f"value {match.group(1)} is on {series.where(int(match.group(1)) - 1)}"
        return f"values from {series.where()}"
    return ""


_VALUE_N = re.compile(r"value (\d+) of the list")


def _horizon(data: dict) -> Horizon:
    """The start_month and months of raw portfolio data, each None when it is not usable."""
    start, months = data.get("start_month"), data.get("months")
    return Horizon(
        start if isinstance(start, str) else None,
        months if isinstance(months, int) and not isinstance(months, bool) and months > 0 else None,
    )


def load_yaml(path: Path | str, data_root: Path | str | None = None) -> Portfolio:
    """Load and validate a YAML portfolio; raise :class:`InputError` naming file, line and field.

    Files it names (CSV series, a forecast spec) are read from its folder tree, or from
    ``data_root``'s (``--data-root``).
    """
    path = Path(path)
    data, node = parse_yaml(path)
    if not isinstance(data, dict):
        kind = {list: "a list", str: "plain text"}.get(type(data), type(data).__name__)
        raise InputError(
            "expected a mapping of portfolio fields (name, start_month, sites, ...) "
            f"at the top level, got {kind}; the file starts with lines like 'name: My Company' "
            "(see inputs/examples/gigawatt_miner.yaml)",
            path,
        )
    roots = allowed_roots(path.absolute().parent, data_root)
    sources: dict[tuple, CsvSeries] = {}
    try:
        data = resolve_csv_series(
            data, path, roots=roots, horizon=_horizon(data), node=node, sources=sources
        )
        # imported here: it loads pandas and the forecast model, which only a portfolio with
        # a market forecast needs
        from realloc.inputs.market_forecast import resolve_market_forecast

        data = resolve_market_forecast(data, path, roots)
        return Portfolio.model_validate(data)
    except ValidationError as e:
        raise from_validation_error(
            e,
            path,
            data,
            lambda loc: node_line(node, loc),
            Portfolio,
            origin=lambda loc, msg: csv_origin(sources, loc, msg),
        ) from None
    except RecursionError:
        raise too_deep(path, 1) from None
