"""Load a portfolio from YAML, resolving CSV-column series relative to the YAML file.

YAML is parsed with ``safe_load`` only. The node tree is kept so that a validation error can say
on which line the offending field sits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import ValidationError

from inputs.errors import InputError, from_validation_error
from models import Portfolio

MAX_INPUT_BYTES = 20 * 1024 * 1024


def check_input_file(path: Path) -> None:
    """Refuse a missing path, a folder or a huge file with a message the user can act on."""
    if not path.exists():
        raise InputError("file not found", path)
    if path.is_dir():
        raise InputError("is a folder; give the portfolio's YAML or Excel file", path)
    size = path.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise InputError(
            f"file is {size / 1e6:.0f} MB; portfolio files over "
            f"{MAX_INPUT_BYTES // 1024 // 1024} MB are refused",
            path,
        )


def read_text(path: Path) -> str:
    """Read an input file as UTF-8, refusing huge or non-text files with a clear message."""
    check_input_file(path)
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(
            f"byte {e.start} is not valid UTF-8; save the file as UTF-8", path
        ) from None


def parse_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """Parse YAML safely; return the data and its node tree (for line numbers)."""
    text = read_text(path)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise InputError(
            f"{where}YAML syntax error: {problem}; check indentation and quoting there", path
        ) from None
    return data, node


def _node_line(node: yaml.Node | None, loc: tuple) -> str:
    """The line of the YAML node at a pydantic location, as ``line N``, or '' when not found."""
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = [v for k, v in node.value if getattr(k, "value", None) == key]
            if not match:
                break
            node = match[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
    return f"line {node.start_mark.line + 1}" if node is not None else ""


def _resolve_csv_series(data: Any, base: Path, path: Path) -> Any:
    """Replace every ``{csv: FILE, column: NAME}`` mapping with that column's values as a list."""
    if isinstance(data, dict):
        if set(data) == {"csv", "column"}:
            return _read_csv_column(base / str(data["csv"]), str(data["column"]), path)
        return {k: _resolve_csv_series(v, base, path) for k, v in data.items()}
    if isinstance(data, list):
        return [_resolve_csv_series(v, base, path) for v in data]
    return data


def _read_csv_column(csv_path: Path, column: str, yaml_path: Path) -> list[float]:
    if not csv_path.exists():
        raise InputError(
            f"series file {csv_path} not found (paths are relative to the YAML file)", yaml_path
        )
    try:
        frame = pd.read_csv(csv_path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read CSV: {e}", csv_path) from None
    if column not in frame.columns:
        raise InputError(
            f"no column {column!r}; columns are {', '.join(map(str, frame.columns))}", csv_path
        )
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values[values.isna()]
    if len(bad):
        row = int(bad.index[0]) + 2  # header is line 1
        raise InputError(
            f"line {row}, column {column!r}: expected a number, got "
            f"{frame[column].iloc[bad.index[0]]!r}",
            csv_path,
        )
    return values.astype(float).tolist()


def load_yaml(path: Path | str) -> Portfolio:
    """Load and validate a YAML portfolio; raise :class:`InputError` naming file, line and field."""
    path = Path(path)
    data, node = parse_yaml(path)
    if not isinstance(data, dict):
        raise InputError(
            "expected a mapping of portfolio fields (name, start_month, sites, ...) "
            f"at the top level, got {type(data).__name__}",
            path,
        )
    data = _resolve_csv_series(data, path.parent, path)
    from inputs.market_forecast import resolve_market_forecast

    data = resolve_market_forecast(data, path.parent, path)
    try:
        return Portfolio.model_validate(data)
    except ValidationError as e:
        raise from_validation_error(e, path, data, lambda loc: _node_line(node, loc)) from None
