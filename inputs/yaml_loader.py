"""Load a portfolio from YAML, resolving CSV-column series relative to the YAML file.

YAML is parsed with ``safe_load`` only. The node tree is kept so that a validation error can say
on which line the offending field sits.
"""

from __future__ import annotations

import re
from itertools import accumulate
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import yaml
from pydantic import ValidationError

from inputs.errors import InputError, describe_loc, from_validation_error
from models import Portfolio
from models.base import MONTH_PATTERN, month_label

MAX_INPUT_BYTES = 10 * 1024 * 1024
"""Largest portfolio, series or forecast file read (10 MiB). A 200-site, 600-month portfolio with
every series inline is about 1.5 MB; anything far bigger is a wrong file, and refusing it up
front is quicker than parsing it (YAML reads at about 1 MB/s)."""
MAX_YAML_NODES = 2_000_000
"""Most values a YAML document may expand to through aliases (``*name``); a few lines of nested
aliases can otherwise stand for billions of values."""

MAX_YAML_DEPTH = 64
"""Deepest nesting of lists and mappings a file may have. A portfolio nests about 5 levels; this
limit is realloc's own and lies far below any YAML parser's, so a file nested thousands deep is
refused with realloc's message whatever the PyYAML or libyaml version."""

MAX_NUMBER_DIGITS = 100
"""Longest integer read from YAML, in digits. No field takes a number near this long (the
largest, a seed, has 19); Python refuses to read integers past 4,300 digits, which used to end
in an internal error instead of a message."""

_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_DECIMAL_INT = re.compile(r"^[-+]?[0-9][0-9_]*$")
_DECIMAL_FLOAT = re.compile(
    r"^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?"
    r"|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)"
    r"|\.(?:nan|NaN|NAN))$"
)


class _NumberTooLong(yaml.constructor.ConstructorError):
    """An integer of more than :data:`MAX_NUMBER_DIGITS` digits."""


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when present: ~6x faster
    """``safe_load``'s loader, reading numbers as written in decimal.

    YAML 1.1 (PyYAML's dialect) reads ``1:30`` as 90 (base 60), ``012`` as 10 (octal) and
    ``0x1F`` as 31: a ``lead_months: 1:30`` became a 90-month lead time without a word. Here an
    integer is decimal digits (``_`` allowed as a separator, ``012`` is twelve) and a float is
    decimal with a point (or ``.inf``/``.nan``, which validation refuses); anything else stays
    text, so validation says "expected a number" and names the line.
    """

    yaml_implicit_resolvers: ClassVar[dict] = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT, _FLOAT)]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_decimal_int(self, node: yaml.ScalarNode) -> int:
        text = self.construct_scalar(node).replace("_", "")
        digits = len(text.lstrip("+-"))
        if digits > MAX_NUMBER_DIGITS:
            raise _NumberTooLong(
                None,
                None,
                f"a number of {digits:,} digits ({text[:12]}...) is far outside the range of "
                "every field; check the value",
                node.start_mark,
            )
        return int(text)


_Loader.add_implicit_resolver(_INT, _DECIMAL_INT, list("-+0123456789"))
_Loader.add_implicit_resolver(_FLOAT, _DECIMAL_FLOAT, list("-+0123456789."))
_Loader.add_constructor(_INT, _Loader.construct_decimal_int)


def check_input_file(path: Path, kind: str = "portfolio") -> None:
    """Refuse a missing path, a folder or a huge file with a message the user can act on."""
    if not path.exists():
        raise InputError("file not found; check the path (relative to where you run it)", path)
    if path.is_dir():
        raise InputError(f"is a folder; give the {kind}'s YAML or Excel file", path)
    size = path.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise InputError(
            f"file is {size / 1024 / 1024:,.1f} MiB; {kind} files over "
            f"{MAX_INPUT_BYTES // 1024 // 1024} MiB are refused (is it the right file? "
            "long monthly series belong in a CSV column, one value per month)",
            path,
        )


def read_text(path: Path, kind: str = "portfolio") -> str:
    """Read an input file as UTF-8, refusing huge or non-text files with a clear message."""
    check_input_file(path, kind)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InputError(
            f"line {line}: byte {e.start} is not valid UTF-8 (0x{data[e.start]:02x}); save "
            "the file as UTF-8 (in a text editor or Excel: Save As, encoding UTF-8)",
            path,
        ) from None
    return text.removeprefix("\ufeff")  # a UTF-8 byte-order mark is fine


def parse_yaml(path: Path, kind: str = "portfolio") -> tuple[Any, yaml.Node | None]:
    """Parse YAML safely; return the data and its node tree (for line numbers)."""
    text = read_text(path, kind)
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputError(f"line {line}: holds a NUL byte; is this a text file?", path)
    _check_depth(text, path)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise InputError(f"the file is empty; a {kind} file is a YAML mapping", path)
        _check_nodes(node, path)
        data = loader.construct_document(node)
    except yaml.YAMLError as e:
        raise _yaml_error(e, path) from None
    except RecursionError:
        raise _too_deep(path, 1) from None
    finally:
        loader.dispose()
    return data, node


def _too_deep(path: Path, line: int) -> InputError:
    return InputError(
        f"line {line}: the YAML is nested too deeply to read (more than {MAX_YAML_DEPTH} levels "
        "of [ or { or indentation); check the brackets and the indentation",
        path,
    )


def _check_depth(text: str, path: Path) -> None:
    """Refuse text nested deeper than :data:`MAX_YAML_DEPTH`, before any parser sees it.

    An upper bound of the real depth, computed on each line with its quoted strings and
    comment taken out: the open flow brackets (``[``/``{``) plus the block levels (one per
    deeper indentation on the stack of open indents). It may count a bracket inside a plain
    scalar, which a portfolio never holds in the thousands; it never counts less than the
    parser would nest.
    """
    flow, indents = 0, [-1]
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _QUOTED_OR_COMMENT.sub("", raw)
        stripped = line.lstrip(" ")
        if stripped and flow == 0:
            indent = len(line) - len(stripped)
            while indent < indents[-1]:
                indents.pop()
            if indent > indents[-1]:
                indents.append(indent)
        steps = [_BRACKET_STEP[b] for b in _BRACKETS.findall(line)]
        deepest = max(accumulate(steps, initial=flow))
        flow = max(0, flow + sum(steps))
        depth = len(indents) - 1 + deepest + stripped.count("- ")
        if depth > MAX_YAML_DEPTH:
            raise _too_deep(path, number)


_BRACKETS = re.compile(r"[\[\]{}]")
_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_QUOTED_OR_COMMENT = re.compile(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"|(?:^|\s)#.*$")


def _yaml_error(e: yaml.YAMLError, path: Path) -> InputError:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    problem = getattr(e, "problem", None) or str(e)
    if isinstance(e, _NumberTooLong):
        return InputError(f"{where}{problem}", path)
    if "unhashable" in problem:
        return InputError(
            f"{where}a list or mapping is used as a key; keys must be plain words "
            "(field or site names), write plain values",
            path,
        )
    if isinstance(e, yaml.constructor.ConstructorError) and "tag" in problem:
        return InputError(
            f"{where}{problem}; tags (!!python/..., !something) are not allowed in a "
            "portfolio, write plain values",
            path,
        )
    context = getattr(e, "context", None)
    context = f" ({context})" if context else ""
    return InputError(
        f"{where}YAML syntax error: {problem}{context}; check the indentation (spaces, not "
        "tabs), colons and quoting there",
        path,
    )


def _check_nodes(root: yaml.Node, path: Path) -> None:
    """Refuse a key given twice in one mapping (YAML keeps the last silently) and alias bombs."""
    size: dict[int, int] = {}
    order: list[yaml.Node] = []
    stack, seen = [root], set()
    while stack:  # iterative: deeply nested files must not exhaust Python's stack
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        order.append(node)
        if isinstance(node, yaml.MappingNode):
            keys: dict[Any, yaml.Node] = {}
            for k, v in node.value:
                key = k.value if isinstance(k, yaml.ScalarNode) else None
                if key is not None and key != "<<" and key in keys:
                    first = keys[key].start_mark.line + 1
                    raise InputError(
                        f"line {k.start_mark.line + 1}: key {key!r} is given twice in the same "
                        f"mapping (first on line {first}); YAML would keep only the last, so "
                        "delete one of them",
                        path,
                    )
                keys.setdefault(key, k)
                stack += [k, v]
        elif isinstance(node, yaml.SequenceNode):
            stack += node.value
    for node in reversed(order):  # children before parents; a cycle counts once
        if isinstance(node, yaml.MappingNode):
            children = [c for kv in node.value for c in kv]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            children = []
        size[id(node)] = 1 + sum(size.get(id(c), 1) for c in children)
        if size[id(node)] > MAX_YAML_NODES:
            raise InputError(
                f"line {node.start_mark.line + 1}: aliases (*name) here expand to more than "
                f"{MAX_YAML_NODES:,} values; write the data out instead of nesting aliases",
                path,
            )


def _node_line(node: yaml.Node | None, loc: tuple) -> str:
    """The line of the YAML node at a pydantic location, as ``line N``, or '' when not found.

    A field that is missing gets the line of the mapping it belongs in (``top level of the
    file`` for a top-level field).
    """
    root, section = node, None  # section: the key line of the mapping we are in
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if getattr(k, "value", None) == key]
            if not match:
                if node is root:
                    return "top level of the file"
                node = section or node
                break
            section, node = match[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            section, node = None, node.value[key]
        else:
            break
    return f"line {node.start_mark.line + 1}" if node is not None else ""


def _resolve_csv_series(
    data: Any,
    base: Path,
    path: Path,
    node: yaml.Node | None = None,
    loc: tuple = (),
    start_month: str | None = None,
) -> Any:
    """Replace every ``{csv: FILE, column: NAME}`` mapping with that column's values as a list.

    ``start_month`` (the portfolio's) is checked against a ``month`` column when the CSV has one.
    """
    if isinstance(data, dict):
        if "csv" in data:
            where = describe_loc(loc, None)
            line = _node_line(node, loc)
            where = f"{where} ({line})" if line else where
            if set(data) != {"csv", "column"} or not isinstance(data["csv"], str):
                raise InputError(
                    f"{where}: a CSV series is written {{csv: FILE, column: NAME}} with exactly "
                    f"those two keys, got keys {', '.join(map(str, data))}",
                    path,
                )
            csv_path = base / data["csv"]
            return _read_csv_column(csv_path, str(data["column"]), path, where, start_month)
        return {
            k: _resolve_csv_series(v, base, path, node, (*loc, k), start_month)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [
            _resolve_csv_series(v, base, path, node, (*loc, i), start_month)
            for i, v in enumerate(data)
        ]
    return data


def _read_csv_column(
    csv_path: Path, column: str, yaml_path: Path, where: str, start_month: str | None
) -> list[float]:
    if not csv_path.exists():
        raise InputError(
            f"{where}: series file {csv_path} not found (paths are relative to the YAML file)",
            yaml_path,
        )
    check_input_file(csv_path, "series")
    used_by = f" (the series {where} of {yaml_path.name})"
    try:
        frame = pd.read_csv(csv_path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise InputError(
            f"cannot read CSV ({type(e).__name__}: {e}){used_by}; save it as comma-separated "
            "UTF-8 text with one header row",
            csv_path,
        ) from None
    if column not in frame.columns:
        raise InputError(
            f"no column {column!r} (asked for by {where} in {yaml_path.name}); columns are "
            f"{', '.join(map(str, frame.columns))}",
            csv_path,
        )
    if "month" in frame.columns:
        _check_csv_months(frame["month"], csv_path, start_month, used_by)
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values[values.isna()]
    if len(bad):
        row = int(bad.index[0]) + 2  # header is line 1
        raise InputError(
            f"line {row}, column {column!r}{used_by}: expected a number, got "
            f"{frame[column].iloc[bad.index[0]]!r}; give a value for every month",
            csv_path,
        )
    return values.astype(float).tolist()


def _check_csv_months(
    months: pd.Series, csv_path: Path, start_month: str | None, used_by: str
) -> None:
    """A ``month`` column must run one month per row from the portfolio's start_month: the
    values are read by position, so a gap or a shuffled row would shift every month after it."""
    labels = [str(m).strip() for m in months]
    for i, m in enumerate(labels):
        if not MONTH_PATTERN.match(m):
            raise InputError(
                f"line {i + 2}, column 'month'{used_by}: expected a month written YYYY-MM, "
                f"got {m!r}",
                csv_path,
            )
    first = labels[0] if labels else None
    if start_month is not None and MONTH_PATTERN.match(start_month) and first != start_month:
        raise InputError(
            f"line 2, column 'month'{used_by}: the series starts in {first} but the portfolio's "
            f"start_month is {start_month}; start the CSV at {start_month} (values are read "
            "by position, one per month)",
            csv_path,
        )
    for i in range(1, len(labels)):
        want = month_label(labels[0], i)
        if labels[i] != want:
            raise InputError(
                f"line {i + 2}, column 'month'{used_by}: expected {want} after "
                f"{labels[i - 1]}, got {labels[i]}; sort the rows by month and fill any "
                "missing month",
                csv_path,
            )


def load_yaml(path: Path | str) -> Portfolio:
    """Load and validate a YAML portfolio; raise :class:`InputError` naming file, line and field."""
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
    start = data.get("start_month")
    try:
        data = _resolve_csv_series(
            data, path.parent, path, node, start_month=start if isinstance(start, str) else None
        )
        from inputs.market_forecast import resolve_market_forecast

        data = resolve_market_forecast(data, path.parent, path)
        return Portfolio.model_validate(data)
    except ValidationError as e:
        raise from_validation_error(
            e, path, data, lambda loc: _node_line(node, loc), Portfolio
        ) from None
    except RecursionError:
        raise _too_deep(path, 1) from None
