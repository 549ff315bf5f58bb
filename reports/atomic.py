"""Output folders: written whole into a temporary sibling, then swapped in; only realloc's own.

Two rules keep a user's files safe:

- **Only realloc's own folders are replaced.** Every output folder carries a marker file,
  ``.realloc-output`` (JSON: the kind of output, the input it came from and the files written).
  ``--out DIR`` may name a folder that does not exist, an empty folder, or a folder whose marker
  lists every file in it. A folder of an older realloc (no marker) counts as its own when it
  holds only the file names that kind of output writes (a plan: ``summary.json`` and the plan's
  tables). Anything else (foreign files, a regular file, a symlink, the current folder or one
  holding it, the home folder, ``/``, the folder holding the input) is refused with
  :class:`OutputRefused` before anything is touched. Replacing another kind of output, or (when
  asked) another input's output, needs ``replace``.
- **The swap is atomic at every instant.** On Linux the complete new folder and the old one
  trade places in one ``renameat2(RENAME_EXCHANGE)``; a folder that did not exist is created by
  one ``renameat2(RENAME_NOREPLACE)``. Where renameat2 is missing (other systems, filesystems
  without it) the documented fallback is two renames: old folder to ``.NAME.old-PID``, new one
  in; a hard kill between the two leaves the old output in ``.NAME.old-PID``. SIGINT/SIGTERM are
  deferred during the swap, so an interrupt lands before it (old output intact) or after it (new
  output complete); :func:`committed_count` tells which. Leftover ``.NAME.tmp-*`` and
  ``.NAME.old-*`` folders of a killed run (only those realloc made) are removed by the next
  successful write of the same output.

Folders and files get the mode the umask gives (``0o777 & ~umask``), not tempfile's 0700.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

MARKER = ".realloc-output"
"""The file that marks a folder as realloc's output (JSON: kind, input, files). Its content
depends on the inputs only, so a plan's run.json can vouch for it like for any other file."""
STAGING = ".realloc-staging"
"""In a folder being staged only: the writing process (pid, host), so that the leftover of a
killed run is told apart from the stage of a running one. Removed before the swap."""

FORECAST_FILES = frozenset(
    {"forecast.csv", "forecast_percentiles.csv", "breakeven.csv", "forecast_fan.png"}
)
REPORT_FILES = frozenset({"report.html", "report.xlsx", "report.pdf"})
PLAN_FILES = frozenset(
    "summary.json inputs.json run.json plan.csv treasury.csv conversions.csv contracts.csv "
    "rig_sales.csv cashflows.csv baseline_cashflows.csv shadow_prices.csv verification.csv "
    "summary.md funding_gap.csv grid.csv funding.csv scenario_values.csv frontier.csv "
    "frontier.png "
    "value_distribution.png report.html report.xlsx report.pdf".split()
)
COMPARISON_FILES = frozenset(
    "comparison.md comparison.csv tornado.png heatmap.png value_histogram.png "
    "variant_values.png scenario_values.png".split()
)
"""``scenario_values.png`` is the old name of ``variant_values.png`` (recognised, replaced)."""
SWEEP_FILES = frozenset(
    "variants.parquet scenarios.parquet plan.parquet treasury.parquet conversions.parquet "
    "contracts.parquet sweep.json parts .lock".split()
)
"""``scenarios.parquet`` is the old name of ``variants.parquet`` (a store written before the
rename; compare reads it, a rerun of the sweep replaces it)."""
EVALUATION_FILES = frozenset({"evaluation.csv", "evaluation.json", "evaluation.png"})
"""What ``realloc evaluate --out`` writes (reports/evaluation_files.py)."""
DIFF_FILES = frozenset(
    "diff.md diff_headline.csv diff_value_bridge.csv diff_decisions.csv diff_btc_sold.csv "
    "diff_inputs.csv".split()
)
"""What ``realloc diff --out`` writes (reports/plan_diff.py). Not in :data:`LEGACY`: no realloc
before the markers wrote a diff, so a folder holding ``diff.md`` and no marker is the user's."""
LEGACY = {
    "plan": (PLAN_FILES, {"summary.json"}),
    "forecast": (FORECAST_FILES, {"forecast.csv"}),
    "report": (REPORT_FILES, REPORT_FILES),
    "comparison": (COMPARISON_FILES, {"comparison.csv"}),
    "sweep": (SWEEP_FILES | COMPARISON_FILES, SWEEP_FILES),
}
"""Per kind: the file names a realloc without markers wrote, and those of which it always wrote
one (a killed sweep may have left only ``parts`` and ``.lock``).
Folders of older versions are recognised by these alone (see the module docstring)."""

KINDS_WITH_REPLACE = ("plan", "forecast")
"""The commands that offer ``--replace`` (named in refusals only where it exists)."""

IN_PLACE_KINDS = ("sweep",)
"""Kinds updated in place (a sweep store resumes): files added by the user are left alone."""

_COMMITTED: list[Path] = []


class OutputRefused(Exception):
    """``--out`` names something realloc must not replace; nothing was touched."""


class OutputWriteError(Exception):
    """The system refused a write (disk full, permission, read-only). ``kept`` says what is
    left; by default the old output, intact (a staged folder is swapped in only once whole)."""

    def __init__(self, out_dir: Path, error: OSError, kept: str | None = None):
        self.out_dir = out_dir
        self.error = error
        where = error.filename or out_dir
        code = errno.errorcode.get(error.errno or 0, "")
        reason = f"{error.strerror or error} ({code})" if code else str(error.strerror or error)
        kept = kept or (
            f"{out_dir} was left as it was (the output folder is replaced only once complete)"
        )
        super().__init__(f"could not write {where}: {reason}; {kept}")


@dataclass(frozen=True)
class OutputSpec:
    """What is about to be written, to decide whether an existing folder may be replaced.

    ``source`` is the input the output comes from (recorded in the marker); ``same_input``
    refuses a folder holding another input's output (the default ``--out`` of ``plan``);
    ``replace`` allows replacing any realloc output (never a foreign folder).
    """

    kind: str
    source: Path | None = None
    same_input: bool = False
    replace: bool = False
    marked: bool = True  # False: a folder handed to the user (``realloc example``), never replaced

    @property
    def source_text(self) -> str | None:
        return None if self.source is None else str(Path(self.source).resolve())


@dataclass(frozen=True)
class Owner:
    """Who wrote an existing folder: its kind, its input (None when unknown), its files."""

    kind: str
    source: str | None
    files: frozenset[str] | None  # None: updated in place, any file allowed


def committed_count() -> int:
    """How many output folders this process has swapped into place so far (interrupt messages
    compare it before and after a command to say truthfully which output is in place)."""
    return len(_COMMITTED)


def current_umask() -> int:
    """The process umask (read by setting it and putting it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def folder_mode() -> int:
    """The mode a folder made by ``mkdir`` gets: what tempfile's 0700 must be widened to."""
    return 0o777 & ~current_umask()


def read_owner(folder: Path) -> Owner | None:
    """The owner recorded by the marker of ``folder``, or recognised from an older realloc's
    file names; None when the folder is not (recognisably) realloc's."""
    marker = folder / MARKER
    if marker.is_file() and not marker.is_symlink():
        try:
            data = json.loads(marker.read_text(encoding="utf-8"))
            files = data.get("files")
            return Owner(
                str(data["kind"]), data.get("input"), None if files is None else frozenset(files)
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
    entries = {e.name: e for e in os.scandir(folder)}
    if not all(e.is_file(follow_symlinks=False) or e.name == "parts" for e in entries.values()):
        return None
    for kind, (names, required) in LEGACY.items():
        if required & entries.keys() and entries.keys() <= names:
            files = None if kind in IN_PLACE_KINDS else names
            return Owner(kind, _legacy_source(folder), files)
    return None


def _legacy_source(folder: Path) -> str | None:
    """An older plan folder's input, from its run.json (None when it does not say)."""
    try:
        source = json.loads((folder / "run.json").read_text(encoding="utf-8")).get("input_file")
    except (OSError, ValueError, AttributeError):
        return None
    return str(Path(source).resolve()) if isinstance(source, str) else None


def _refuse(out: Path, why: str, hint: str = "") -> OutputRefused:
    """The refusal message; without a hint, the rule and the way out."""
    hint = hint or "realloc only replaces a folder it wrote itself; give another --out"
    return OutputRefused(f"--out {out}: {why}; nothing was touched ({hint})")


_STAGE_EXTRA = len(".") + len(".old-") + 20
"""Characters the staging and backup names (``.NAME.tmp-XXXXXXXX``, ``.NAME.old-PID``) add to
``--out``'s own name."""
_NAME_MAX = 255
"""Longest file name (bytes) Linux, macOS and Windows filesystems accept."""


def check_output_folder(out_dir: Path | str, spec: OutputSpec) -> Owner | None:
    """Raise :class:`OutputRefused` unless ``out_dir`` may receive ``spec``'s output; return
    the existing folder's owner (None when there is no folder or it is empty).

    An ``--out`` whose name is too long for its staging sibling, or that the system cannot
    even look at (a component over 255 bytes, a folder without search permission, a symlink
    loop), is refused here, before any work: those used to end in an internal error from
    ``stat`` or, after the whole plan was solved, in a write failure (exit 5)."""
    out = Path(out_dir)
    if len(os.fsencode(out.name)) + _STAGE_EXTRA > _NAME_MAX:
        raise _refuse(out, f"its name is too long ({len(os.fsencode(out.name))} bytes)")
    try:
        return _check_output_folder(out, spec)
    except OSError as e:
        raise _refuse(out, f"cannot be checked ({e.strerror or e})") from None


def _check_output_folder(out: Path, spec: OutputSpec) -> Owner | None:
    if out.is_symlink():
        raise _refuse(out, "is a symbolic link")
    if not out.exists():
        dead = next((p for p in out.parents if p.is_symlink() and not p.exists()), None)
        if dead is not None:  # mkdir would fail only after the whole run (exit 5)
            raise _refuse(out, f"{dead} is a symbolic link to nothing (or a loop)")
        blocker = next((p for p in out.parents if p.exists()), None)
        if blocker is not None and not blocker.is_dir():
            raise _refuse(out, f"{blocker} is a file, not a folder")
        return None
    if not out.is_dir():
        raise _refuse(out, "exists and is not a folder")
    here = out.resolve()
    cwd = _known_folder(Path.cwd)
    if cwd is not None and (here == cwd or here in cwd.parents):
        raise _refuse(out, "is the current folder or holds it")
    if here.parent == here or here == _known_folder(Path.home):
        raise _refuse(out, "is the root or home folder")
    if spec.source is not None and here in Path(spec.source).resolve().parents:
        raise _refuse(out, f"holds the input {spec.source}")
    try:
        entries = sorted(os.listdir(out))
    except OSError as e:
        raise _refuse(out, f"cannot be read ({e.strerror})") from None
    if not entries:
        return None
    owner = read_owner(out)
    if owner is None:
        raise _refuse(out, f"holds files realloc did not write ({_some(entries)})")
    if owner.files is not None:
        known = owner.files | LEGACY.get(owner.kind, (frozenset(),))[0]
        foreign = [e for e in entries if e != MARKER and e not in known]
        if foreign:
            raise _refuse(out, f"holds files realloc did not write ({_some(foreign)})")
    if spec.replace:
        return owner
    if owner.kind != spec.kind:
        flag = ", or --replace to replace it" if spec.kind in KINDS_WITH_REPLACE else ""
        raise _refuse(
            out, f"holds a realloc {owner.kind}, not a {spec.kind}", f"give another --out{flag}"
        )
    if spec.same_input and owner.source != spec.source_text:
        raise _refuse(
            out,
            f"holds the {owner.kind} of {owner.source or 'an unknown input'}, not of "
            f"{spec.source_text}",
            "give --out DIR for this one, or --replace to replace it",
        )
    return owner


def check_output_file(path: Path, header: str) -> None:
    """Refuse (:class:`OutputRefused`) unless ``path`` is new or a CSV realloc wrote (its first
    line is ``header``): a single-file output may replace only its own kind of file."""
    path = Path(path)
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise _refuse(path, "is not a regular file")
    if not path.exists():
        check_output_folder(path, OutputSpec("file"))  # a file where a folder should be
        return
    with open(path, encoding="utf-8", errors="replace") as f:
        first = f.readline(len(header) + 2).rstrip("\r\n")
    if first != header:
        raise _refuse(path, "is a file realloc did not write")


def replace_file(path: Path, write: Callable[[Path], object]) -> None:
    """``write(tmp)`` into a temporary sibling, then rename it over ``path``: at every instant
    ``path`` is the old file or the new one. The mode is the umask's, not mkstemp's 0600."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _known_folder(where: Callable[[], Path]) -> Path | None:
    """The current or home folder, resolved; None when the system cannot say (a deleted
    current folder, no HOME and no password entry), so there is nothing to protect."""
    try:
        return where().resolve()
    except (OSError, RuntimeError):
        return None


def _some(names: list[str], shown: int = 5) -> str:
    more = f", ... {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def write_marker(folder: Path, spec: OutputSpec, files: Iterable[str] | None) -> None:
    """Mark ``folder`` as realloc's output of ``spec.kind`` from ``spec.source``."""
    data = {
        "kind": spec.kind,
        "input": spec.source_text,
        "files": None if files is None else sorted(f for f in files if f != MARKER),
    }
    text = json.dumps(data, indent=2) + "\n"  # renamed in whole: a reader never sees half
    replace_file(folder / MARKER, lambda tmp: tmp.write_text(text, encoding="utf-8"))


@contextlib.contextmanager
def staged_dir(
    out_dir: Path | str,
    spec: OutputSpec,
    keep_current: bool = False,
    drop: Iterable[str] = (),
) -> Iterator[Path]:
    """Yield a temporary sibling folder; on success it replaces ``out_dir`` in one atomic swap,
    on error it is removed and ``out_dir`` is left as it was.

    ``keep_current`` starts the stage as a copy of the current folder (hard links; the names in
    ``drop``, about to be rewritten, are left out so no shared file is written through), for
    commands that add files to an existing output (a report into its plan folder).
    """
    out = Path(out_dir)
    check_output_folder(out, spec)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    except OSError as e:
        raise OutputWriteError(out, e) from e
    try:
        os.chmod(stage, folder_mode())
        (stage / STAGING).write_text(json.dumps(_process_id()) + "\n")
        if keep_current and out.is_dir():
            _link_copy(out, stage, set(drop))
        yield stage
        check_output_folder(out, spec)  # still ours: nothing replaced it while we worked
        (stage / STAGING).unlink()
        if spec.marked and not (stage / MARKER).exists():  # unless the writer or copy has one
            write_marker(stage, spec, None if spec.kind in IN_PLACE_KINDS else os.listdir(stage))
        with _signals_held():
            old = _swap_in(stage, out)
            _COMMITTED.append(out)
    except OSError as e:
        _remove_stage(stage)
        raise OutputWriteError(out, e) from e
    except BaseException:
        _remove_stage(stage)
        raise
    if old is not None:  # the previous output, now beside the new one; a leftover if this fails
        shutil.rmtree(old, ignore_errors=True)
    remove_leftovers(out)


def _remove_stage(stage: Path) -> None:
    """Remove a stage that was not swapped in (after a swap it holds the old output)."""
    if stage.exists():
        shutil.rmtree(stage, ignore_errors=True)


def _process_id() -> dict:
    return {"pid": os.getpid(), "host": socket.gethostname()}


def _link_copy(src: Path, dst: Path, skip: set[str]) -> None:
    """Copy the files of ``src`` into ``dst`` as hard links (a copy where links are refused)."""

    def link(a: str, b: str) -> None:
        try:
            os.link(a, b, follow_symlinks=False)
        except OSError:
            shutil.copy2(a, b, follow_symlinks=False)

    for entry in os.scandir(src):
        if entry.name in skip:
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.copytree(entry.path, dst / entry.name, symlinks=True, copy_function=link)
        else:
            link(entry.path, str(dst / entry.name))


def remove_leftovers(out: Path) -> list[str]:
    """Remove ``.NAME.tmp-*`` / ``.NAME.old-*`` folders a killed run of ``out`` left: only those
    realloc made (marked, or an older realloc's output) and not staged by a live process."""
    removed = []
    if not out.parent.is_dir():
        return removed
    for pattern in (f".{out.name}.tmp-*", f".{out.name}.old-*"):
        for path in out.parent.glob(pattern):
            if path.is_dir() and not path.is_symlink() and _abandoned(path):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
    return removed


def _abandoned(path: Path) -> bool:
    """True for a leftover of realloc's whose writer is gone: a stage whose process on this
    host has ended, or an output folder realloc wrote (the old one of an interrupted swap)."""
    try:
        writer = json.loads((path / STAGING).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return read_owner(path) is not None
    if isinstance(writer, dict) and writer.get("host") == socket.gethostname():
        return not _alive(int(writer.get("pid", 0)))
    return False


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Defer SIGINT and SIGTERM while a folder is swapped and recorded, then re-raise the first
    one: an interrupt lands before the swap (old output intact) or after it (new output
    complete), never between. (A signal mask would not do: the solver's threads leave the
    signals unblocked, and Python runs handlers in the main thread whichever thread caught
    them.)"""
    caught: list[int] = []
    previous = {}
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda signum, frame: caught.append(signum))
    except ValueError:  # not the main thread, where Python never runs signal handlers
        pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        if caught:
            signal.raise_signal(caught[0])


_RENAME_NOREPLACE = 1
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@functools.cache
def _renameat2():
    """libc's renameat2 (Linux, glibc 2.28+), or None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def rename2(src: Path, dst: Path, flags: int) -> bool:
    """renameat2(src, dst, flags): True when done, False when this system or filesystem lacks
    it (the caller falls back); other failures raise OSError."""
    fn = _renameat2()
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), flags) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(dst))


def _swap_in(stage: Path, out: Path) -> Path | None:
    """Put ``stage`` at ``out``; return where the old folder now is (to delete), if any."""
    if out.is_dir():
        if rename2(stage, out, _RENAME_EXCHANGE):
            return stage
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        out.rename(old)  # fallback: a hard kill here leaves the old output in `old`
        stage.rename(out)
        return old
    if not rename2(stage, out, _RENAME_NOREPLACE):
        stage.rename(out)
    return None
