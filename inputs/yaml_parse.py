"""Parse a YAML input file safely, keeping the node tree so that errors can name a line.

Shared by every YAML reader (portfolio, forecast spec, market scenarios, scenario sets): the
file is read bounded (inputs/files.py), refused before parsing when it is too large or nested
too deep, parsed with a ``safe_load`` loader that reads numbers as written in decimal, and
refused when a key is given twice or aliases expand too far.
"""

from __future__ import annotations

import re
from itertools import accumulate
from pathlib import Path
from typing import Any, ClassVar

import yaml

from realloc.inputs.errors import InputError
from realloc.inputs.files import cut, decode_utf8, read_input_bytes

MAX_YAML_NODES = 2_000_000
"""Most values aliases (``*name``) may add to a YAML document beyond the values written in it; a
few lines of nested aliases can otherwise stand for billions of values."""

MAX_YAML_ITEMS = 300_000
"""Most lines plus comma-separated items a YAML file may hold (a cheap upper bound of its number
of values, counted before parsing). A 200-site, 600-month portfolio with every series written
inline holds about 125,000 values; parsing a file costs about 5 s per million values, so a file
far over the limit is refused at once rather than parsed for a minute."""

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

    def construct_lenient_timestamp(self, node: yaml.ScalarNode) -> object:
        """A date or time as PyYAML reads it, or the text as written when it names no real
        day (``2026-02-30``, ``2026-13-01``): PyYAML's own constructor raised a bare
        ValueError there (an internal error, not a message at the line); as text, validation
        says what the field expects and where."""
        try:
            return self.construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            return self.construct_scalar(node)


_Loader.add_implicit_resolver(_INT, _DECIMAL_INT, list("-+0123456789"))
_Loader.add_implicit_resolver(_FLOAT, _DECIMAL_FLOAT, list("-+0123456789."))
_Loader.add_constructor(_INT, _Loader.construct_decimal_int)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_lenient_timestamp)


def read_text(path: Path, kind: str = "portfolio") -> str:
    """Read an input file as UTF-8 (bounded, regular files only: see inputs/files.py)."""
    return decode_utf8(read_input_bytes(path, kind), path)


def parse_yaml(path: Path, kind: str = "portfolio") -> tuple[Any, yaml.Node | None]:
    """Parse YAML safely; return the data and its node tree (for line numbers)."""
    text = read_text(path, kind)
    _check_size(text, path, kind)
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
        raise too_deep(path, 1) from None
    finally:
        loader.dispose()
    return data, node


def _check_size(text: str, path: Path, kind: str) -> None:
    """Refuse a file with more lines and comma-separated items than :data:`MAX_YAML_ITEMS`
    before parsing it (two C-speed counts; parsing such a file would take minutes)."""
    items = text.count("\n") + text.count(",")
    if items > MAX_YAML_ITEMS:
        raise InputError(
            f"the file holds {items:,} lines and comma-separated items, over the limit of "
            f"{MAX_YAML_ITEMS:,} for a {kind} file (a 200-site, 600-month portfolio with every "
            "series inline needs about 125,000); put long series in CSV files "
            "({csv: FILE, column: NAME})",
            path,
        )


def too_deep(path: Path, line: int) -> InputError:
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

    Most files skip that line-by-line pass (seconds for a million lines): block levels start
    at increasing columns (a list under a key may share its column), within a line's leading
    run of spaces and ``- ? :`` indicators or in a run of indicators later on the line; with
    no leading run of :data:`_SHALLOW_COLUMNS` characters and no run of
    :data:`_SHALLOW_INDICATORS` indicators, the block depth is under twice the one plus the
    other, and the flow depth is at most the number of brackets.
    """
    brackets = text.count("[") + text.count("{")
    bound = 2 * _SHALLOW_COLUMNS + _SHALLOW_INDICATORS + brackets
    if (
        bound <= MAX_YAML_DEPTH
        and not _DEEP_LEAD.search(text)
        and not _MANY_INDICATORS.search(text)
    ):
        return
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
            raise too_deep(path, number)


_SHALLOW_COLUMNS = 20
_SHALLOW_INDICATORS = 8
_DEEP_LEAD = re.compile(rf"^[ ?:-]{{{_SHALLOW_COLUMNS}}}", re.MULTILINE)
_MANY_INDICATORS = re.compile(rf"(?:[?:-] +){{{_SHALLOW_INDICATORS}}}")
_BRACKETS = re.compile(r"[\[\]{}]")
_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_QUOTED_OR_COMMENT = re.compile(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"|(?:^|\s)#.*$")


def _yaml_error(e: yaml.YAMLError, path: Path) -> InputError:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    problem = cut(getattr(e, "problem", None) or str(e), 200)
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
    context = f" ({cut(context, 200)})" if context else ""
    return InputError(
        f"{where}YAML syntax error: {problem}{context}; check the indentation (spaces, not "
        "tabs), colons and quoting there",
        path,
    )


def _check_nodes(root: yaml.Node, path: Path) -> None:
    """Refuse a key given twice in one mapping (YAML keeps the last silently) and alias bombs.

    One pass over the collections (lists and mappings; scalars are never pushed, so a long flat
    list costs one cheap scan). A collection reached twice is an alias; only then is the
    document's expanded size counted (see :func:`_check_aliases`).
    """
    stack, seen, aliased = [root], set(), False
    while stack:  # iterative: deeply nested files must not exhaust Python's stack
        node = stack.pop()
        if id(node) in seen:
            aliased = True
            continue
        seen.add(id(node))
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
                stack += [c for c in (k, v) if not isinstance(c, yaml.ScalarNode)]
        elif isinstance(node, yaml.SequenceNode):
            stack += [c for c in node.value if not isinstance(c, yaml.ScalarNode)]
    if aliased:
        _check_aliases(root, path)


def _check_aliases(root: yaml.Node, path: Path) -> None:
    """Refuse a document whose aliases add more than :data:`MAX_YAML_NODES` values to the ones
    written in it: the expanded size (every alias counted as a copy) minus the distinct size.
    A document without aliases is never refused here, whatever its length. An alias inside
    the list or mapping it names (a loop, which no portfolio value can be) is refused too."""
    order = _post_order(root, path)
    distinct = 0
    expanded: dict[int, int] = {}
    for node in order:  # children before parents
        children = _children(node)
        distinct += 1 + sum(isinstance(c, yaml.ScalarNode) for c in children)
        expanded[id(node)] = 1 + sum(expanded.get(id(c), 1) for c in children)
        if expanded[id(node)] - distinct > MAX_YAML_NODES:
            raise InputError(
                f"line {node.start_mark.line + 1}: aliases (*name) here expand to more than "
                f"{MAX_YAML_NODES:,} values; write the data out instead of nesting aliases",
                path,
            )


def _post_order(root: yaml.Node, path: Path) -> list[yaml.Node]:
    """The collections under ``root``, each once, children before parents; a collection found
    inside itself (``&a [*a]``) is refused."""
    order: list[yaml.Node] = []
    done: set[int] = set()
    open_: set[int] = {id(root)}
    stack = [(root, iter(_children(root)))]
    while stack:
        node, children = stack[-1]
        child = next((c for c in children if not isinstance(c, yaml.ScalarNode)), None)
        if child is None:
            stack.pop()
            open_.discard(id(node))
            done.add(id(node))
            order.append(node)
        elif id(child) in open_:
            raise InputError(
                f"line {child.start_mark.line + 1}: an alias (*name) refers to a list or mapping "
                "that contains it (a loop); write the values out instead",
                path,
            )
        elif id(child) not in done:
            open_.add(id(child))
            stack.append((child, iter(_children(child))))
    return order


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [c for kv in node.value for c in kv]
    if isinstance(node, yaml.SequenceNode):
        return node.value
    return []


def node_line(node: yaml.Node | None, loc: tuple) -> str:
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
