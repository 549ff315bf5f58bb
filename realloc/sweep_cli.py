"""Batch what-ifs on the command line: ``realloc sweep``, ``compare`` and ``breakeven``.

Registered on the main group by realloc/cli.py. Exit codes of ``sweep``: 0 when the sweep
finished (some scenarios may have failed: the closing line counts them and scenarios.parquet
says why), 2 bad portfolio or scenario file (nothing is solved), 3 no scenario produced a plan,
130 (Ctrl-C) or 143 (SIGTERM) interrupted: everything finished so far is stored; rerun the same
command to resume.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import click

from realloc.options import (
    FINITE,
    MIP_GAP,
    NON_NEGATIVE,
    POSITIVE,
    TIME_LIMIT,
    WORKERS,
    data_root_option,
)

EXIT_BAD_INPUT = 2
EXIT_NO_PLAN = 3


def _say(msg: str) -> None:
    click.echo(msg, err=True)


def _handled(fn):
    """realloc.cli's error handling (imported when the command runs: cli imports this module)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from realloc.cli import handle_errors

        return handle_errors(fn)(*args, **kwargs)

    return wrapper


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during a sweep; ``signum`` gives the exit code (128 + signum)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _Interrupts:
    """Ctrl-C (SIGINT) and SIGTERM stop a sweep, but never in the middle of storing a scenario:
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
        except ValueError:  # not the main thread (e.g. inside a test runner's thread)
            pass
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


def _solver_options(f):
    f = click.option(
        "--mip-gap",
        type=MIP_GAP,
        default=1e-4,
        show_default=True,
        help="Relative MIP gap accepted as optimal.",
    )(f)
    f = click.option(
        "--time-limit",
        type=TIME_LIMIT,
        default=None,
        help="Solver time limit per phase, s (above 0; omit for none).",
    )(f)
    f = click.option(
        "--relax", is_flag=True, help="Drop all-or-nothing minimum commitments (pure LP)."
    )(f)
    f = click.option(
        "--solver",
        type=click.Choice(["highs", "cbc"]),
        default="highs",
        show_default=True,
        help="LP/MILP solver.",
    )(f)
    return f


@click.command()
@click.argument("portfolio", type=click.Path(path_type=Path))
@click.argument("scenarios", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Results folder (created; a rerun into it resumes; must be new, empty or a sweep's).",
)
@click.option(
    "--workers",
    type=WORKERS,
    default=None,
    help="Worker processes (default: one per CPU; ignored with --scheduler).",
)
@click.option(
    "--executor",
    type=click.Choice(["local", "dask"]),
    default=None,
    help="local (default): a process pool on this machine; dask: Dask distributed "
    "(the default with --scheduler).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Dask scheduler address (tcp://host:8786); without it --executor dask starts a "
    "LocalCluster.",
)
@click.option(
    "--reuse/--rebuild",
    default=True,
    show_default=True,
    help="Keep each worker's solver models and warm-start them from the previous scenario.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar with ETA on stderr (default: when stderr is a terminal).",
)
@_solver_options
@data_root_option
@_handled
def sweep(
    portfolio: Path,
    scenarios: Path,
    out_dir: Path,
    workers: int | None,
    executor: str | None,
    scheduler: str | None,
    reuse: bool,
    progress: bool | None,
    solver: str,
    relax: bool,
    time_limit: float | None,
    mip_gap: float,
    data_root: Path | None,
) -> None:
    """Plan every scenario of SCENARIOS (a scenario-set YAML) on PORTFOLIO; store the results.

    Writes OUT/scenarios.parquet (one row per scenario), plan/treasury/conversions/contracts
    .parquet (keyed by scenario_id) and sweep.json. Each solved scenario is stored as it
    finishes: a killed sweep loses only the scenarios in flight, and rerunning the same command
    skips everything already stored (an edited scenario is solved again). `realloc example ex`
    writes the bundled portfolio and scenario sets (sweep_grid.yaml, bear_base_bull.yaml).

    Example: realloc sweep ex/gigawatt_miner.yaml ex/sweep_grid.yaml --out sweep --workers 2
    """
    from realloc.inputs import load_portfolio
    from realloc.inputs.overrides import base_level, portfolio_data
    from realloc.inputs.scenario_sets import load_scenario_set, materialize
    from realloc.optimizer.sweep import SweepSettings, SweepTask, task_key
    from realloc.reports.sweep_store import StoreBusy, StoredScenario, SweepStore

    if executor is None:
        executor = "dask" if scheduler else "local"
    elif scheduler and executor != "dask":
        raise click.BadParameter("--scheduler needs --executor dask", param_hint="--scheduler")
    started = time.perf_counter()
    base = load_portfolio(portfolio, data_root)
    # CSVs a scenario set names: its own folder tree, the portfolio's, or --data-root
    scenario_set = load_scenario_set(scenarios, base, (portfolio.absolute().parent, data_root))
    settings = SweepSettings(solver, relax, time_limit, mip_gap, reuse and solver == "highs")
    if reuse and solver != "highs":
        _say("note: --reuse applies to HiGHS only; CBC rebuilds every scenario")
    built = materialize(base, scenario_set)
    invalid = [m for m in built if m.portfolio is None]
    for m in invalid[:10]:
        _say(f"invalid: {m.error}")
    if len(invalid) > 10:
        _say(f"invalid: ... and {len(invalid) - 10} more (status 'invalid' in scenarios.parquet)")
    tasks: dict[str, SweepTask] = {}
    stored: list[StoredScenario] = []
    for m in built:
        key = None
        if m.portfolio is not None:
            key = task_key(m.portfolio, settings)
            tasks.setdefault(key, SweepTask(key, m.portfolio, settings))
        stored.append(
            StoredScenario(
                m.spec.id,
                m.spec.name,
                m.spec.group,
                m.spec.params,
                key,
                m.error,
                [s.name for s in (m.portfolio or base).sites],
            )
        )
    data = portfolio_data(base)
    workers = workers or os.cpu_count() or 1
    manifest = {
        "portfolio": str(portfolio),
        "portfolio_name": base.name,
        "scenario_set": str(scenarios),
        "description": scenario_set.description,
        "settings": settings.fingerprint() | {"reuse": settings.reuse},
        "executor": executor,
        "workers": None if scheduler else workers,
        "scheduler": scheduler,
        "param_columns": scenario_set.param_columns,
        "param_base": {c: base_level(data, c) for c in scenario_set.param_columns},
    }
    from realloc.reports.atomic import OutputSpec, check_output_folder, write_marker

    output = OutputSpec("sweep", portfolio)
    check_output_folder(out_dir, output)  # a sweep store, or new, or empty: never user files
    store = SweepStore(out_dir)
    try:
        with store.lock():
            write_marker(store.root, output, None)
            files, solved_now, interrupted = _run(
                store, tasks, stored, manifest, executor, workers, scheduler, settings, progress
            )
    except (StoreBusy, NotADirectoryError) as e:
        from realloc.inputs import InputError

        raise InputError(str(e)) from None
    except OSError as e:  # disk full, permission, read-only: name it, keep what is stored
        from realloc.reports.atomic import OutputWriteError

        kept = "every scenario stored before it is kept; rerun the same command to resume"
        raise OutputWriteError(out_dir, e, kept) from e
    manifest_seconds = time.perf_counter() - started
    import pandas as pd

    frame = pd.read_parquet(files["scenarios"])
    counts = frame["status"].value_counts().to_dict()
    text = ", ".join(f"{n} {s}" for s, n in counts.items())
    if interrupted is not None:
        _say(
            f"interrupted ({signal.Signals(interrupted).name}) after solving {solved_now} "
            f"scenario(s) this run ({text}); every finished scenario is stored in {out_dir}; "
            "rerun the same command to resume"
        )
        sys.exit(128 + interrupted)
    _say(f"{text}; wrote {out_dir}/ in {manifest_seconds:.1f} s")
    _say(f"compare them: realloc compare {out_dir}")
    with_plan = counts.get("optimal", 0) + counts.get("unfunded", 0)
    if with_plan == 0:
        sys.exit(EXIT_NO_PLAN)


def _run(store, tasks, stored, manifest, executor, workers, scheduler, settings, progress):
    """Solve what the store lacks, storing each outcome as it arrives; consolidate at the end
    (also after Ctrl-C or SIGTERM). Return the files, how many were solved, and whether the
    run was interrupted."""
    from tqdm import tqdm

    from realloc.optimizer.sweep import make_executor

    started = time.perf_counter()
    store.prepare()
    done = store.done_keys()
    todo = [t for k, t in tasks.items() if k not in done]
    where = f"Dask at {scheduler}" if scheduler else f"{executor}, {workers} workers"
    if executor == "local" and workers <= 1:
        where = "this process"
    invalid = sum(s.key is None for s in stored)
    _say(
        f"{len(stored)} scenarios ({invalid} invalid, {len(tasks)} distinct plans); "
        f"{len(tasks) - len(todo)} already stored in {store.root}; solving {len(todo)} on "
        f"{where} ({'reusing' if settings.reuse else 'rebuilding'} models)"
    )
    bar = tqdm(
        total=len(tasks),
        initial=len(tasks) - len(todo),
        desc="sweep",
        unit="scenario",
        file=sys.stderr,
        disable=(not sys.stderr.isatty()) if progress is None else not progress,
        dynamic_ncols=True,
    )
    failed = solved = 0
    interrupted: int | None = None
    try:
        with _Interrupts().installed() as interrupts:
            if todo:
                with make_executor(executor, workers, scheduler) as ex:
                    link = getattr(ex, "dashboard_link", None)
                    if link:
                        bar.write(f"Dask dashboard: {link}", file=sys.stderr)
                    for outcome in ex.run(todo):
                        with interrupts.deferred():
                            store.write_part(outcome.key, outcome.row, outcome.tables)
                        solved += 1
                        failed += outcome.status not in ("optimal", "unfunded")
                        bar.set_postfix(failed=failed, refresh=False)
                        bar.update(1)
    except KeyboardInterrupt as e:
        interrupted = getattr(e, "signum", signal.SIGINT)
    finally:
        bar.close()
    manifest = manifest | {
        "seconds_this_run": round(time.perf_counter() - started, 3),
        "solved_this_run": solved,
        "interrupted": None if interrupted is None else signal.Signals(interrupted).name,
    }
    return store.consolidate(stored, manifest), solved, interrupted


@click.command()
@click.argument("sweep_dir", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for comparison.md/.csv and the charts (default: SWEEP_DIR).",
)
@_handled
def compare(sweep_dir: Path, out_dir: Path | None) -> None:
    """Compare the scenarios of a sweep: a side-by-side table and charts.

    Writes comparison.md and comparison.csv, tornado.png (uplift against each swept parameter),
    heatmap.png (two parameters), value_histogram.png (many scenarios) and scenario_values.png
    (few scenarios).

    Example: realloc compare sweep
    """
    from realloc.inputs import InputError
    from realloc.reports.compare import write_comparison

    if not (sweep_dir / "scenarios.parquet").is_file():
        raise InputError(
            "no scenarios.parquet here; run realloc sweep PORTFOLIO SCENARIOS --out "
            f"{sweep_dir} first",
            sweep_dir,
        )
    from realloc.reports.sweep_store import StoreBusy

    try:
        files = write_comparison(sweep_dir, out_dir)
    except StoreBusy as e:  # a sweep is still writing the folder the comparison goes into
        raise InputError(str(e)) from None
    click.echo(
        f"wrote {', '.join(sorted(f.name for f in files.values()))} to {out_dir or sweep_dir}"
    )


@click.command()
@click.argument("portfolio", type=click.Path(path_type=Path))
@click.option(
    "--param",
    "path",
    required=True,
    metavar="PATH",
    help="Field to vary, as in scenario sets: market.hashprice_usd_per_ph_day, "
    "contracts[NAME].rate_usd_per_kw_month, sites[NAME].conversion.capex_usd_per_it_mw.",
)
@click.option("--site", required=True, help="Site whose conversion decision is watched.")
@click.option(
    "--scale/--value",
    "scale",
    default=None,
    help="Bisect a multiplier of the field (default for series and [*] paths) or the "
    "field's value (default for single numbers).",
)
@click.option("--lo", type=FINITE, default=None, help="Low end (default: ×0.25 or half the value).")
@click.option("--hi", type=FINITE, default=None, help="High end (default: ×2 or 1.5× the value).")
@click.option(
    "--tol",
    type=POSITIVE,
    default=None,
    help="Stop when the bracket is this narrow (default: (hi − lo) / 1000).",
)
@click.option(
    "--threshold",
    "threshold_mw",
    type=NON_NEGATIVE,
    default=0.1,
    show_default=True,
    help="IT MW above which the site counts as converting.",
)
@click.option(
    "--out", "out_csv", type=click.Path(path_type=Path), default=None, help="CSV of every probe."
)
@_solver_options
@data_root_option
@_handled
def breakeven(
    portfolio: Path,
    path: str,
    site: str,
    scale: bool | None,
    lo: float | None,
    hi: float | None,
    tol: float | None,
    threshold_mw: float,
    out_csv: Path | None,
    solver: str,
    relax: bool,
    time_limit: float | None,
    mip_gap: float,
    data_root: Path | None,
) -> None:
    """Find where SITE's conversion decision flips as one parameter of PORTFOLIO moves.

    Bisects the parameter between --lo and --hi until the bracket is narrower than --tol,
    solving one plan per step. Prints the bracket; --out writes every probe as CSV.

    Example: realloc breakeven ex/gigawatt_miner.yaml --param market.hashprice_usd_per_ph_day --site "Jamestown ND"
    """  # noqa: E501
    from realloc.inputs import InputError, load_portfolio
    from realloc.inputs.overrides import (
        Override,
        OverrideError,
        check_override,
        overridden,
        values_at,
    )
    from realloc.optimizer import SolverOptions
    from realloc.optimizer.breakeven import NoFlip, ProbeFailed, find_breakeven

    base = load_portfolio(portfolio, data_root)
    names = [s.name for s in base.sites if s.conversion is not None]
    if site not in names:
        raise InputError(
            f"--site {site!r} is not a site with a conversion section "
            f"(convertible: {', '.join(names) or 'none'})"
        )
    from realloc.inputs.overrides import portfolio_data

    data = portfolio_data(base)
    try:
        current = values_at(data, path)
    except OverrideError as e:
        raise InputError(f"--param: {e}") from None
    single = len(current) == 1 and isinstance(current[0], int | float)
    if scale is None:
        scale = not single
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
    op = "scale" if scale else "set"

    def portfolio_at(v: float):
        try:
            return overridden(base, [Override(path, op, v)])
        except OverrideError as e:
            what = f"×{v:g}" if scale else f"{v:g}"
            raise InputError(f"--param {path} at {what} gives an invalid portfolio: {e}") from None

    what = f"{path} ×" if scale else path
    if out_csv is not None:
        from realloc.reports.atomic import check_output_file

        check_output_file(out_csv, PROBE_HEADER)  # before any solve: a refusal costs nothing
    _say(f"bisecting {what} in [{lo:g}, {hi:g}] to ±{tol:g} for {site} ({solver})")
    try:
        result = find_breakeven(
            portfolio_at,
            site,
            lo,
            hi,
            tol,
            threshold_mw,
            solver=solver,
            relax=relax,
            options=SolverOptions(time_limit_s=time_limit, mip_rel_gap=mip_gap),
            on_probe=lambda p: _say(
                f"  {what} {p.value:.6g}: {p.converted_mw:,.2f} IT MW converted ({p.status})"
            ),
        )
    except NoFlip as e:
        _say(f"no breakeven in the bracket: {e}")
        sys.exit(EXIT_NO_PLAN)
    except ProbeFailed as e:
        _say(f"no breakeven: {e}")
        sys.exit(EXIT_NO_PLAN)
    if out_csv is not None:
        _write_probes(out_csv, path, op, threshold_mw, result.probes)
    below = "converts" if result.converts_at_lo else "does not convert"
    above = "converts" if result.converts_at_hi else "does not convert"
    click.echo(
        f"breakeven {what} for {site}: {result.estimate:.6g} "
        f"(bracket [{result.lo:.6g}, {result.hi:.6g}], tolerance {tol:g}); "
        f"{site} {below} at {result.lo:.6g} and {above} at {result.hi:.6g} "
        f"({len(result.probes)} plans, {result.seconds:.1f} s)"
    )


PROBE_HEADER = "param,mode,value,converted_it_mw,converts,status,value_usd"
"""First line of breakeven's --out CSV: an existing file is replaced only when it starts so."""


def _write_probes(out_csv: Path, path: str, op: str, threshold_mw: float, probes) -> None:
    """breakeven --out: every probe as CSV, replaced in one rename (old file or new, never half)."""
    import pandas as pd

    from realloc.reports.atomic import OutputWriteError, replace_file
    from realloc.reports.safe_text import write_csv

    frame = pd.DataFrame(
        [
            {
                "param": path,
                "mode": op,
                "value": p.value,
                "converted_it_mw": p.converted_mw,
                "converts": p.converts(threshold_mw),
                "status": p.status,
                "value_usd": p.value_usd,
            }
            for p in probes
        ]
    )
    try:
        out_csv.parent.mkdir(parents=True, exist_ok=True)
        replace_file(out_csv, lambda tmp: write_csv(frame, tmp))
    except OSError as e:
        raise OutputWriteError(out_csv, e, f"{out_csv} was left as it was") from e
