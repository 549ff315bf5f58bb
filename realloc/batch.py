"""Batch what-ifs as a library: :func:`sweep` a portfolio over a variant set, find the
:func:`breakeven` of one parameter, :func:`compare` the variants of a sweep.

Every decision of a batch run lives here, so that a notebook and ``realloc sweep|breakeven|
compare`` (realloc/sweep_cli.py, a thin shell that parses options and prints) behave alike: the
executor chosen, the resume store and its lock, signals during a sweep, the breakeven bracket.
Nothing here imports click. Messages a command prints on stderr go to an optional ``log``
callable; deprecations of input files also reach Python users without one, as a
``FutureWarning``.

Errors: :class:`~realloc.inputs.InputError` for a bad portfolio, variant set, argument or a
folder another sweep is writing; :class:`~realloc.reports.atomic.OutputWriteError` when the
store cannot be written (what is stored is kept); breakeven raises
:class:`~realloc.optimizer.breakeven.NoFlip` or :class:`~realloc.optimizer.breakeven.ProbeFailed`
when there is no flip to find.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from realloc.inputs import InputError, load_portfolio
from realloc.models import Portfolio
from realloc.optimizer.breakeven import PROBE_COLUMNS, Breakeven
from realloc.optimizer.sweep import LONG_TABLES, SweepSettings

Log = Callable[[str], None]
Progress = Callable[[int, int], None]
"""``progress(done, total)``: called once before solving and after each variant is stored."""
EXECUTORS = ("local", "dask")
IN_PYTHON = "<portfolio>"
"""What sweep.json names as the portfolio file of a Portfolio passed from Python."""


@dataclass
class SweepResult:
    """What a sweep left in its store: the variant table and the long tables as DataFrames
    (read from ``out_dir`` when first asked for), the counts by status, and whether a signal
    cut the run short (rerunning the same sweep resumes it)."""

    out_dir: Path
    variants: pd.DataFrame
    files: dict[str, Path]
    solved_now: int
    seconds: float
    interrupted: signal.Signals | None = None

    @property
    def counts(self) -> dict[str, int]:
        """Variants by status (``optimal``, ``unfunded``, ``invalid``, ``pending``, ...)."""
        return {str(k): int(v) for k, v in self.variants["status"].value_counts().items()}

    @property
    def with_plan(self) -> int:
        """Variants that produced a plan (optimal or unfunded)."""
        return int(self.variants["status"].isin(("optimal", "unfunded")).sum())

    def table(self, name: str) -> pd.DataFrame:
        """One long table (plan, treasury, conversions, contracts), keyed by ``variant_id``."""
        if name not in LONG_TABLES:
            raise KeyError(f"no table {name!r}; a sweep keeps {', '.join(LONG_TABLES)}")
        return pd.read_parquet(self.files[name])

    @property
    def plan(self) -> pd.DataFrame:
        """Every solved variant's monthly plan (read from the store: it can be large)."""
        return self.table("plan")

    @property
    def treasury(self) -> pd.DataFrame:
        return self.table("treasury")

    @property
    def conversions(self) -> pd.DataFrame:
        return self.table("conversions")

    @property
    def contracts(self) -> pd.DataFrame:
        return self.table("contracts")


# --- sweep -------------------------------------------------------------------------------------


def sweep(
    portfolio: Portfolio | Path | str,
    variants: Path | str | Mapping,
    *,
    out_dir: Path | str,
    workers: int | None = None,
    executor: str | None = None,
    scheduler: str | None = None,
    reuse: bool = True,
    progress: bool | Progress | None = None,
    solver: str = "highs",
    relax: bool = False,
    time_limit_s: float | None = None,
    mip_gap: float = 1e-4,
    data_root: Path | str | None = None,
    log: Log | None = None,
) -> SweepResult:
    """Plan every variant of ``variants`` (a variant-set file, or a mapping of the same shape)
    on ``portfolio`` (a Portfolio or its file) and store the results in ``out_dir``.

    Each variant is stored as it finishes, so a rerun into the same ``out_dir`` solves only
    what is missing (an edited variant is solved again). ``executor`` is ``local`` (a process
    pool of ``workers``, default one per CPU; one worker solves in this process) or ``dask`` (a
    LocalCluster, or the cluster at ``scheduler``; the default when ``scheduler`` is given).
    ``progress``: True a progress bar on stderr, None one when stderr is a terminal, or a
    callable ``progress(done, total)``. Ctrl-C or SIGTERM stops the run and consolidates the
    store: the result's ``interrupted`` names the signal.
    """
    started = time.perf_counter()
    executor = _executor(executor, scheduler)
    base, source = _portfolio(portfolio, data_root)
    folder = source.absolute().parent if source is not None else None
    from realloc.inputs.variant_sets import load_variant_set, materialize

    variant_set = load_variant_set(variants, base, (folder, data_root))
    for note in variant_set.notes:
        _warn(log, note)
    settings = SweepSettings(solver, relax, time_limit_s, mip_gap, reuse and solver == "highs")
    if reuse and solver != "highs":
        _log(log, "note: --reuse applies to HiGHS only; CBC rebuilds every variant")
    built = materialize(base, variant_set)
    _log_invalid(log, built)
    tasks, stored = _tasks(built, base, settings)
    workers = workers or os.cpu_count() or 1
    manifest = _manifest(base, source, variant_set, settings, executor, workers, scheduler)
    run = _Run(Path(out_dir), tasks, stored, settings, executor, workers, scheduler)
    files, solved, interrupted = run.in_store(manifest, source, progress, log)
    frame = pd.read_parquet(files["variants"])
    return SweepResult(
        Path(out_dir), frame, files, solved, time.perf_counter() - started, interrupted
    )


def _executor(executor: str | None, scheduler: str | None) -> str:
    """``local`` unless a scheduler is given; a scheduler needs ``dask``."""
    if executor is None:
        return "dask" if scheduler else "local"
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; choose {' or '.join(EXECUTORS)}")
    if scheduler and executor != "dask":
        raise ValueError("a scheduler needs the dask executor")
    return executor


def _portfolio(
    portfolio: Portfolio | Path | str, data_root: Path | str | None
) -> tuple[Portfolio, Path | None]:
    """The portfolio and the file it came from (None for one built in Python)."""
    if isinstance(portfolio, Portfolio):
        return portfolio, None
    return load_portfolio(portfolio, data_root), Path(portfolio)


def _log(log: Log | None, msg: str) -> None:
    if log is not None:
        log(msg)


def _warn(log: Log | None, note: str) -> None:
    """A deprecation: on the command line a ``warning:`` line, from Python a FutureWarning."""
    if log is not None:
        log(f"warning: {note}")
    else:
        warnings.warn(note, FutureWarning, stacklevel=3)


def _log_invalid(log: Log | None, built) -> None:
    """The first ten variants whose portfolio is invalid (all are in variants.parquet)."""
    invalid = [m for m in built if m.portfolio is None]
    for m in invalid[:10]:
        _log(log, f"invalid: {m.error}")
    if len(invalid) > 10:
        _log(
            log, f"invalid: ... and {len(invalid) - 10} more (status 'invalid' in variants.parquet)"
        )


def _tasks(built, base: Portfolio, settings: SweepSettings):
    """One task per distinct portfolio (identical variants share a key and are solved once),
    and every variant as the store lists it."""
    from realloc.optimizer.sweep import SweepTask, task_key
    from realloc.reports.sweep_store import StoredVariant

    tasks: dict[str, SweepTask] = {}
    stored: list[StoredVariant] = []
    for m in built:
        key = None
        if m.portfolio is not None:
            key = task_key(m.portfolio, settings)
            tasks.setdefault(key, SweepTask(key, m.portfolio, settings))
        sites = [s.name for s in (m.portfolio or base).sites]
        spec = m.spec
        stored.append(
            StoredVariant(spec.id, spec.name, spec.group, spec.params, key, m.error, sites)
        )
    return tasks, stored


def _manifest(base, source, variant_set, settings, executor, workers, scheduler) -> dict:
    """sweep.json: what was run, and each swept parameter's base level (for compare)."""
    from realloc.inputs.overrides import base_level, portfolio_data

    data = portfolio_data(base)
    return {
        "portfolio": str(source) if source is not None else IN_PYTHON,
        "portfolio_name": base.name,
        "variant_set": str(variant_set.path),
        "description": variant_set.description,
        "settings": settings.fingerprint() | {"reuse": settings.reuse},
        "executor": executor,
        "workers": None if scheduler else workers,
        "scheduler": scheduler,
        "param_columns": variant_set.param_columns,
        "param_base": {c: base_level(data, c) for c in variant_set.param_columns},
    }


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during a sweep; ``signum`` gives the exit code (128 + signum)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _Interrupts:
    """Ctrl-C (SIGINT) and SIGTERM stop a sweep, but never in the middle of storing a variant:
    a signal that arrives while a part is written takes effect right after, so every part on
    disk is whole and no temporary folder is left behind. After the first signal further ones
    are ignored until the sweep has stopped its workers and consolidated the store."""

    def __init__(self):
        self._critical = False
        self._pending: int | None = None

    def _stop(self, signum: int):
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up
        raise SweepInterrupted(signum)

    def _handler(self, signum, frame):
        if self._critical:
            self._pending = signum
        else:
            self._stop(signum)

    @contextmanager
    def installed(self):
        previous = {}
        try:
            for sig in (signal.SIGINT, signal.SIGTERM):
                if signal.getsignal(sig) is not signal.SIG_IGN:  # e.g. nohup, background jobs
                    previous[sig] = signal.signal(sig, self._handler)
        except ValueError:  # not the main thread: signals stay with whoever handles them there
            previous = {}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    @contextmanager
    def deferred(self):
        self._critical = True
        try:
            yield
        finally:
            self._critical = False
        if self._pending is not None:
            self._stop(self._pending)


class _Bar:
    """Progress: a tqdm bar on stderr, a caller's ``progress(done, total)``, or nothing."""

    def __init__(self, progress: bool | Progress | None, total: int, done: int):
        self.callback = progress if callable(progress) else None
        self.total, self.done = total, done
        self.bar = None
        if self.callback is None:
            from tqdm import tqdm

            shown = sys.stderr.isatty() if progress is None else bool(progress)
            self.bar = tqdm(total=total, initial=done, desc="sweep", unit="variant",
                            file=sys.stderr, disable=not shown, dynamic_ncols=True)  # fmt: skip
        else:
            self.callback(done, total)

    def step(self, failed: int) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.set_postfix(failed=failed, refresh=False)
            self.bar.update(1)
        else:
            self.callback(self.done, self.total)

    def write(self, log: Log | None, msg: str) -> None:
        """A line that must not tear the bar."""
        if self.bar is not None and not self.bar.disable:
            self.bar.write(msg, file=sys.stderr)
        else:
            _log(log, msg)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@dataclass
class _Run:
    """One run of a sweep into its store: solve what the store lacks, store each outcome as
    it arrives, consolidate at the end (also after Ctrl-C or SIGTERM)."""

    out_dir: Path
    tasks: dict
    stored: list
    settings: SweepSettings
    executor: str
    workers: int
    scheduler: str | None
    started: float = field(default_factory=time.perf_counter)
    solved: int = 0  # variants solved and stored by this run

    def in_store(self, manifest: dict, source: Path | None, progress, log: Log | None):
        """Hold the store's lock for the run; name a busy folder or a failed write."""
        from realloc.reports.atomic import (
            OutputSpec,
            OutputWriteError,
            check_output_folder,
            write_marker,
        )
        from realloc.reports.sweep_store import StoreBusy, SweepStore

        output = OutputSpec("sweep", source)
        check_output_folder(self.out_dir, output)  # a sweep store, new or empty: no user files
        store = SweepStore(self.out_dir)
        try:
            with store.lock():
                write_marker(store.root, output, None)
                return self._solve(store, manifest, progress, log)
        except (StoreBusy, NotADirectoryError) as e:
            raise InputError(str(e)) from None
        except OSError as e:  # disk full, permission, read-only: name it, keep what is stored
            kept = "every variant stored before it is kept; rerun the same command to resume"
            raise OutputWriteError(self.out_dir, e, kept) from e

    def _solve(self, store, manifest: dict, progress, log: Log | None):
        store.prepare()
        done = store.done_keys()
        todo = [t for k, t in self.tasks.items() if k not in done]
        _log(log, self._announce(store, len(todo)))
        bar = _Bar(progress, len(self.tasks), len(self.tasks) - len(todo))
        interrupted = None
        try:
            with _Interrupts().installed() as interrupts:
                self._outcomes(store, todo, bar, interrupts, log)
        except KeyboardInterrupt as e:
            interrupted = signal.Signals(getattr(e, "signum", signal.SIGINT))
        finally:
            bar.close()
        manifest = manifest | {
            "seconds_this_run": round(time.perf_counter() - self.started, 3),
            "solved_this_run": self.solved,
            "interrupted": None if interrupted is None else interrupted.name,
        }
        return store.consolidate(self.stored, manifest), self.solved, interrupted

    def _outcomes(self, store, todo, bar: _Bar, interrupts: _Interrupts, log) -> None:
        """Store each outcome as it arrives, counting them in ``solved``."""
        from realloc.optimizer.sweep import make_executor

        if not todo:
            return
        failed = 0
        with make_executor(self.executor, self.workers, self.scheduler) as ex:
            link = getattr(ex, "dashboard_link", None)
            if link:
                bar.write(log, f"Dask dashboard: {link}")
            for outcome in ex.run(todo):
                with interrupts.deferred():
                    store.write_part(outcome.key, outcome.row, outcome.tables)
                self.solved += 1
                failed += outcome.status not in ("optimal", "unfunded")
                bar.step(failed)

    def _announce(self, store, todo: int) -> str:
        where = f"Dask at {self.scheduler}" if self.scheduler else None
        where = where or f"{self.executor}, {self.workers} workers"
        if self.executor == "local" and self.workers <= 1:
            where = "this process"
        invalid = sum(s.key is None for s in self.stored)
        n = len(self.tasks)
        return (
            f"{len(self.stored)} variants ({invalid} invalid, {n} distinct plans); "
            f"{n - todo} already stored in {store.root}; solving {todo} on "
            f"{where} ({'reusing' if self.settings.reuse else 'rebuilding'} models)"
        )


# --- compare -----------------------------------------------------------------------------------


def compare(sweep_dir: Path | str, out_dir: Path | str | None = None) -> dict[str, Path]:
    """Write the comparison of a sweep's variants (comparison.md/.csv and charts) into
    ``out_dir`` (default: the sweep folder); return the files written, by name. A store written
    before the variant rename (scenarios.parquet) is read as well."""
    from realloc.reports.compare import write_comparison
    from realloc.reports.sweep_store import StoreBusy, is_store

    sweep_dir = Path(sweep_dir)
    if not is_store(sweep_dir):
        raise InputError(
            "no variants.parquet here; run realloc sweep PORTFOLIO VARIANTS --out "
            f"{sweep_dir} first",
            sweep_dir,
        )
    try:
        return write_comparison(sweep_dir, out_dir)
    except StoreBusy as e:  # a sweep is still writing the folder the comparison goes into
        raise InputError(str(e)) from None


# --- breakeven ---------------------------------------------------------------------------------

PROBE_HEADER = ",".join(PROBE_COLUMNS)
"""First line of a breakeven's probe CSV: an existing file is replaced only when it starts so."""


def breakeven(
    portfolio: Portfolio | Path | str,
    param: str,
    site: str,
    *,
    scale: bool | None = None,
    lo: float | None = None,
    hi: float | None = None,
    tol: float | None = None,
    threshold_mw: float = 0.1,
    solver: str = "highs",
    relax: bool = False,
    time_limit_s: float | None = None,
    mip_gap: float = 1e-4,
    data_root: Path | str | None = None,
    out_csv: Path | str | None = None,
    log: Log | None = None,
) -> Breakeven:
    """Bisect ``param`` (a field path, as in variant sets) of ``portfolio`` to where ``site``
    starts or stops converting more than ``threshold_mw`` IT MW, to ``tol``.

    ``scale`` bisects a multiplier of the field (default for series and ``[*]`` paths, bracket
    ×0.25 to ×2) rather than its value (default for a single number, bracket half to 1.5 times
    the portfolio's). ``out_csv`` keeps every probe (checked before any solve). Raises NoFlip
    when the decision is the same at both ends, ProbeFailed when a probe has no plan.
    """
    from realloc.inputs.overrides import Override, OverrideError, overridden, portfolio_data
    from realloc.optimizer import SolverOptions
    from realloc.optimizer.breakeven import find_breakeven

    base, _ = _portfolio(portfolio, data_root)
    _check_site(base, site)
    scale, lo, hi, tol = _bracket(portfolio_data(base), param, scale, lo, hi, tol)
    op = "scale" if scale else "set"

    def portfolio_at(v: float) -> Portfolio:
        try:
            return overridden(base, [Override(param, op, v)])
        except OverrideError as e:
            what = f"×{v:g}" if scale else f"{v:g}"
            raise InputError(f"--param {param} at {what} gives an invalid portfolio: {e}") from None

    if out_csv is not None:
        from realloc.reports.atomic import check_output_file

        check_output_file(Path(out_csv), PROBE_HEADER)  # before any solve: a refusal costs nothing
    what = f"{param} ×" if scale else param
    _log(log, f"bisecting {what} in [{lo:g}, {hi:g}] to ±{tol:g} for {site} ({solver})")

    def said(p) -> None:
        _log(log, f"  {what} {p.value:.6g}: {p.converted_mw:,.2f} IT MW converted ({p.status})")

    options = SolverOptions(time_limit_s=time_limit_s, mip_rel_gap=mip_gap)
    result = find_breakeven(
        portfolio_at, site, lo, hi, tol, threshold_mw, solver, relax, options, on_probe=said
    )
    result = replace(result, param=param, mode=op)
    if out_csv is not None:
        write_probes(Path(out_csv), result)
    return result


def _check_site(base: Portfolio, site: str) -> None:
    names = [s.name for s in base.sites if s.conversion is not None]
    if site not in names:
        raise InputError(
            f"--site {site!r} is not a site with a conversion section "
            f"(convertible: {', '.join(names) or 'none'})"
        )


def _bracket(data: dict, path: str, scale, lo, hi, tol) -> tuple[bool, float, float, float]:
    """Scale or value, and the bracket and tolerance with their defaults filled in."""
    from realloc.inputs.overrides import Override, OverrideError, check_override, values_at

    try:
        current = values_at(data, path)
    except OverrideError as e:
        raise InputError(f"--param: {e}") from None
    single = len(current) == 1 and isinstance(current[0], int | float)
    scale = not single if scale is None else scale
    if scale:
        try:
            check_override(data, Override(path, "scale", 1.0))
        except OverrideError as e:
            raise InputError(f"--param: {e}") from None
        lo = 0.25 if lo is None else lo
        hi = 2.0 if hi is None else hi
    else:
        if not single:
            raise InputError(
                f"--param {path} names {len(current)} field(s) or a series; use --scale to "
                "bisect a multiplier of them"
            )
        if (lo is None or hi is None) and current[0] == 0:
            raise InputError(f"{path} is 0 in the portfolio; give --lo and --hi")
        lo = current[0] * 0.5 if lo is None else lo
        hi = current[0] * 1.5 if hi is None else hi
    if not lo < hi:
        raise InputError(f"--lo ({lo:g}) must be below --hi ({hi:g})")
    tol = (hi - lo) / 1000 if tol is None else tol
    if tol <= 0:
        raise InputError(f"--tol must be above zero, got {tol:g}")
    return scale, lo, hi, tol


def write_probes(out_csv: Path, result: Breakeven) -> None:
    """Every probe of a breakeven as CSV, replaced in one rename (old file or new, never half)."""
    from realloc.reports.atomic import OutputWriteError, replace_file
    from realloc.reports.safe_text import write_csv

    frame = result.probe_frame()
    try:
        out_csv.parent.mkdir(parents=True, exist_ok=True)
        replace_file(out_csv, lambda tmp: write_csv(frame, tmp))
    except OSError as e:
        raise OutputWriteError(out_csv, e, f"{out_csv} was left as it was") from e
