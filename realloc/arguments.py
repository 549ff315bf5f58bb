"""How the library takes its arguments: the command line's rules for Python callers.

A library call fails only with :class:`InputError` for anything the caller gave, and checks
numbers by the same definition the command line's options use (realloc/options.py).
"""

from __future__ import annotations

import errno
import functools
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from realloc.inputs import InputError

Progress = Callable[[str], object]
"""Called with one line of progress at a time (the CLI prints it on stderr)."""


def _input_errors(fn):
    """Let a library call fail only with :class:`InputError` for anything the caller gave.

    The command line turns an ``--out`` it must not replace (``OutputRefused``), a folder that
    is not a plan's (``NotARunFolder``) and a path the system cannot look up (a name over 255
    bytes, a symlink loop: ``Path.exists()`` raises rather than answering False) into exit 2;
    a Python caller used to get those as other exception types, and a wrong argument type or
    value (``load(5)``, ``paths=10**9``, ``formats=("doc",)``) as a TypeError, a ValueError or
    a 440 GiB MemoryError. Errors while writing (disk full: ``OutputWriteError``) stay as they
    are: they are not the input's fault.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from realloc.reports.atomic import OutputRefused
        from realloc.reports.board.data import NotARunFolder

        try:
            return fn(*args, **kwargs)
        except (OutputRefused, NotARunFolder) as e:
            raise InputError(str(e)) from None
        except OSError as e:
            if e.errno not in (errno.ENAMETOOLONG, errno.ELOOP):
                raise
            name = str(e.filename or "a path")
            raise InputError(f"{e.strerror}; give another path", name) from None

    return wrapper


def _as_path(value: object, what: str) -> Path:
    """``value`` as a path, or :class:`InputError` naming the argument (not a TypeError)."""
    if isinstance(value, str | os.PathLike) and not isinstance(value, bytes):
        text = os.fspath(value)
        if isinstance(text, str) and text and "\0" not in text:
            return Path(text)
    shown = repr(value)
    shown = shown if len(shown) <= 40 else shown[:40] + "…"
    raise InputError(f"{what} must be a file or folder path (str or Path), not {shown}")


def _checked(value: object, kind, what: str):
    """``value`` checked by the command line's definition of a valid option value
    (realloc/options.py: finite, ASCII digits, in range), or :class:`InputError`."""
    import numbers

    import click

    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = int(value)  # numpy integers too
    elif kind.whole and isinstance(value, float) and value.is_integer():
        value = int(value)
    if kind.whole and not isinstance(value, int | str):
        raise InputError(f"{what} must be a whole number, not {value!r:.40}")
    try:
        return kind.convert(value, None, None)
    except click.BadParameter as e:
        raise InputError(f"{what}: {e.message}") from None


def _report_formats(formats: Sequence[str] | str | None) -> tuple[str, ...] | None:
    """Report formats as the command line takes them: a sequence, or one comma-separated
    string (``"html,xlsx"``: iterating it would give letters); unknown ones are InputError."""
    from realloc.reports.board import REPORT_FORMATS

    if formats is None:
        return None
    if isinstance(formats, str):
        formats = formats.split(",")
    wanted = tuple(str(f).strip().lower() for f in formats if str(f).strip())
    unknown = sorted(set(wanted) - set(REPORT_FORMATS))
    if unknown or not wanted:
        raise InputError(
            f"unknown report format(s) {', '.join(unknown) or '(none)'}; "
            f"choose from {', '.join(REPORT_FORMATS)}"
        )
    return wanted


def _quiet(_: str) -> None:
    """The default progress: say nothing (a library call prints nothing unless asked)."""
