"""The one way realloc reads an input file: inside the allowed folders, regular files only, and
never more than a fixed number of bytes.

A portfolio names other files (CSV series, a forecast spec; a variant set names CSVs). Those
references come from a file that may have been written by someone else, so they are only
followed into the folder tree of the file that names them (and of the portfolio, for a variant
set), or into a folder the user allows with ``--data-root DIR``. A path that resolves (symlinks
included) outside those trees is refused before it is opened, so neither its contents nor
whether it exists can leak through an error message. Files named on the command line are the
user's own choice and may be anywhere.

Every file is opened first and checked on the opened descriptor (``os.fstat``): a FIFO, a device
or a folder is refused without reading (no hang on a FIFO, no endless read of ``/dev/zero``),
and at most ``limit + 1`` bytes are read whatever the file claims its size is (``/proc`` files
report 0).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

from realloc.inputs.errors import InputError

MAX_INPUT_BYTES = 10 * 1024 * 1024
"""Largest portfolio, series or forecast file read (10 MiB). A 200-site, 600-month portfolio with
every series inline is about 1.5 MB; anything far bigger is a wrong file, and refusing it up
front is quicker than parsing it (YAML reads at about 1 MB/s)."""

MAX_SHOWN_CHARS = 40
"""Longest piece of a file's contents an error message repeats (a bad value, a column name)."""


def cut(value: object, limit: int = MAX_SHOWN_CHARS) -> str:
    """Text from a file made safe to repeat: invisible characters escaped (one line), at most
    ``limit`` characters, so an error never echoes a whole line of someone else's file."""
    head = str(value)[: limit + 1]
    text = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in head)
    return text[:limit] + "..." if len(text) > limit else text


def shown(value: object, limit: int = MAX_SHOWN_CHARS) -> str:
    """A value from a file in quotes, cut to ``limit`` characters (see :func:`cut`)."""
    return f"'{cut(value, limit)}'"


def cut_list(values: Sequence[object], limit: int = 8) -> str:
    """A few values from a file (e.g. a CSV's column names), each cut, with a count of the rest."""
    out = ", ".join(cut(v) for v in values[:limit])
    if len(values) > limit:
        out += f" and {len(values) - limit:,} more"
    return out


def allowed_roots(*folders: Path | str | None) -> tuple[Path, ...]:
    """The real paths of the folders (``None`` skipped) that referenced files may lie in."""
    return tuple(Path(f).resolve() for f in folders if f is not None)


def _inside(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def resolve_reference(
    ref: Path,
    roots: Sequence[Path],
    kind: str,
    used_by: str,
    path: Path | str,
    name: str | None = None,
) -> Path:
    """The real path of a file named inside another file, or an error when it lies outside
    ``roots``. ``used_by`` says which field names it; ``path`` is the file that names it;
    ``name`` is the name as written, checked for a trailing separator that ``Path`` would
    silently drop (``good.csv/`` names a folder, not the file ``good.csv``)."""
    if name is not None and name.endswith(("/", "\\")):
        raise InputError(
            f"{used_by}: the {kind} {shown(name)} ends with a path separator, so it names a "
            "folder; write the file's name without the trailing separator",
            path,
        )
    try:
        real = ref.resolve()  # symlinks and .. resolved; a missing file resolves as far as it can
    except (OSError, ValueError, RuntimeError) as e:  # NUL byte, symlink loop, name too long
        raise InputError(
            f"{used_by}: the {kind} {shown(ref)} is not a usable path ({cut(e, 60)}); write a "
            "file name relative to this file",
            path,
        ) from None
    if not _inside(real, roots):
        folders = " or ".join(str(r) for r in roots)
        raise InputError(
            f"{used_by}: the {kind} {shown(ref, 200)} lies outside {folders}; realloc reads only "
            "files inside the portfolio's folder; move the file there, or allow its folder "
            "with --data-root DIR",
            path,
        )
    return real


def read_input_bytes(
    path: Path, kind: str = "portfolio", limit: int = MAX_INPUT_BYTES, used_by: str = ""
) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, or an :class:`InputError`.

    The checks are made on the opened descriptor, so the file cannot be swapped for a FIFO or
    a device between the check and the read, and the read itself stops at ``limit + 1`` bytes.
    Containment in the allowed folders is checked by the caller (:func:`resolve_reference`).
    ``used_by`` (e.g. `` (the series market.btc_price_usd of p.yaml)``) goes into messages.
    """

    def fail(problem: str, fix: str) -> InputError:
        return InputError(f"{problem}{used_by}; {fix}", path)

    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except ValueError:  # a NUL byte in the name
        raise fail("is not a usable file name", f"give the {kind} file's path") from None
    except FileNotFoundError:
        raise fail("file not found", "check the path (relative to where you run it)") from None
    except IsADirectoryError:
        raise fail("is a folder", f"give the {kind} file itself") from None
    except OSError as e:
        raise fail(
            f"cannot open the {kind} file ({e.strerror})", "check the path and its permissions"
        ) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise fail("is a folder", f"give the {kind} file itself")
        if not stat.S_ISREG(info.st_mode):
            raise fail(
                "is not a regular file (a device, pipe or socket)",
                f"give the {kind} as a file saved on disk",
            )
        if info.st_size > limit:
            raise _too_big(info.st_size, kind, limit, path, used_by)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise _too_big(total, kind, limit, path, used_by, at_least=True)
        return b"".join(chunks)
    except OSError as e:
        raise fail(f"cannot read the {kind} file ({e.strerror})", "check the file") from None
    finally:
        os.close(fd)


def _too_big(
    size: int, kind: str, limit: int, path: Path, used_by: str, at_least: bool = False
) -> InputError:
    more = "more than " if at_least else ""
    return InputError(
        f"file is {more}{size / 1024 / 1024:,.1f} MiB{used_by}; {kind} files over "
        f"{limit // 1024 // 1024} MiB are refused (is it the right file? long monthly series "
        "belong in a CSV column, one value per month)",
        path,
    )


def decode_utf8(data: bytes, path: Path | str) -> str:
    """UTF-8 text of a file (a byte-order mark is dropped); an error names the line and byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InputError(
            f"line {line}: byte {e.start} is not valid UTF-8 (0x{data[e.start]:02x}); save "
            "the file as UTF-8 (in a text editor or Excel: Save As, encoding UTF-8)",
            path,
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputError(f"line {line}: holds a NUL byte; is this a text file?", path)
    return text.removeprefix("\ufeff")
