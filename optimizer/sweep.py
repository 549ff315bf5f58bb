"""Run many what-if plans: in this process, on a local process pool, or on a Dask cluster.

The unit of work is a :class:`SweepTask`: a validated portfolio and the solver settings, named
by a content key (a hash of both), so identical variants are solved once and a rerun can skip
what is already stored. :func:`solve_variant` runs one task and never raises: an unfunded or
infeasible plan, a verification failure or any other exception comes back as a
:class:`VariantOutcome` with its status and reason. The executors yield outcomes as they
complete, so the caller can store each one at once; leaving an executor's ``with`` block early
(Ctrl-C, SIGTERM, an error) cancels the queued tasks and stops the worker processes.

Each worker process keeps one :class:`~optimizer.highs.HighsBackend` with ``reuse=True`` for its
life when ``reuse`` is on, so consecutive variants reuse and warm-start the solver's models.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field

import pandas as pd

from realloc.models import Portfolio
from realloc.optimizer.pipeline import PlanResult, plan_portfolio
from realloc.optimizer.solvers import HighsBackend, SolverOptions
from realloc.optimizer.statistics import headline

LONG_TABLES = ("plan", "treasury", "conversions", "contracts")
"""Tables of each plan kept by a sweep (keyed by variant in the store)."""
FAILED = ("infeasible", "time_limit", "error")
"""Statuses of variants that produced no plan (``invalid`` ones never reach a solver)."""


@dataclass(frozen=True)
class SweepSettings:
    """Solver settings shared by every variant of a sweep."""

    solver: str = "highs"
    relax: bool = False
    time_limit_s: float | None = None
    mip_rel_gap: float = 1e-4
    reuse: bool = True  # keep and warm-start solver models between variants (HiGHS only)

    def fingerprint(self) -> dict:
        """What changes results (``reuse`` changes only the time taken)."""
        d = asdict(self)
        d.pop("reuse")
        return d


def task_key(portfolio: Portfolio, settings: SweepSettings) -> str:
    """Content key of one variant: a hash of its validated portfolio and the solver settings.

    An edited variant (or base portfolio, or solver setting) gets a new key and is solved
    again; an unchanged one is found in the store and skipped.
    """
    h = hashlib.sha256()
    h.update(portfolio.model_dump_json(round_trip=True).encode())
    h.update(json.dumps(settings.fingerprint(), sort_keys=True).encode())
    return h.hexdigest()[:24]


@dataclass(frozen=True)
class SweepTask:
    """One plan to solve."""

    key: str
    portfolio: Portfolio
    settings: SweepSettings


@dataclass
class VariantOutcome:
    """What a sweep keeps of one plan: headline figures (``row``) and long tables."""

    key: str
    row: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return self.row["status"]


def _summary_row(result: PlanResult, seconds: float, cpu_seconds: float, reused: int) -> dict:
    """A sweep's row of one plan: its headline figures (optimizer/statistics.py, the figures
    summary.json holds, expected over the market paths), why it has no plan, and timings."""
    reason = ""
    if result.status == "time_limit":
        reason = "the solver's time limit was reached before optimality"
    elif result.status != "optimal":
        reason = " ".join(result.diagnosis)
    return {
        "status": result.status,
        "reason": reason,
        **headline(result).sweep_row_fields(),
        "solve_seconds": result.seconds.get("solve_plan", 0.0)
        + result.seconds.get("solve_baseline", 0.0),
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "reused_phases": reused,
    }


_LOCAL = threading.local()


def _worker_backend(settings: SweepSettings) -> HighsBackend | None:
    """This thread's persistent warm backend (``None`` when reuse is off or the solver is CBC)."""
    if not settings.reuse or settings.solver != "highs":
        return None
    options = SolverOptions(time_limit_s=settings.time_limit_s, mip_rel_gap=settings.mip_rel_gap)
    backend = getattr(_LOCAL, "backend", None)
    if backend is None or backend.options != options:
        backend = _LOCAL.backend = HighsBackend(options, reuse=True)
    return backend


def solve_variant(task: SweepTask) -> VariantOutcome:
    """Plan one variant; every failure is returned as an outcome, never raised."""
    started, cpu_started = time.perf_counter(), time.process_time()
    s = task.settings
    try:
        backend = _worker_backend(s)
        before = 0
        if backend is not None:
            backend.new_plan()
            before = backend.stats.reused
        options = SolverOptions(time_limit_s=s.time_limit_s, mip_rel_gap=s.mip_rel_gap)
        result = plan_portfolio(
            task.portfolio, solver=s.solver, relax=s.relax, options=options, backend=backend
        )
        if backend is not None and result.status == "infeasible":
            # a kept, warm-started model once called infeasible a problem that a cold solve
            # found unfunded (seen in realloc evaluate): an infeasible verdict is confirmed cold
            result = plan_portfolio(task.portfolio, solver=s.solver, relax=s.relax, options=options)
        reused = backend.stats.reused - before if backend is not None else 0
        row = _summary_row(
            result, time.perf_counter() - started, time.process_time() - cpu_started, reused
        )
        tables = {}
        if result.tables is not None:
            tables = {name: getattr(result.tables, name) for name in LONG_TABLES}
        return VariantOutcome(task.key, row, tables)
    except Exception as e:  # one variant's failure must not stop the sweep: record it
        if hasattr(_LOCAL, "backend"):
            del _LOCAL.backend  # start the next variant cold, whatever state this one left
        return error_outcome(task.key, f"{type(e).__name__}: {e}", time.perf_counter() - started)


def run_task(task) -> VariantOutcome:
    """What an executor runs: a sweep variant, or a task with its own ``solve()`` (a batch of
    paths of ``realloc evaluate``, optimizer/evaluate.py)."""
    solve = getattr(task, "solve", None)
    return solve() if solve is not None else solve_variant(task)


def error_outcome(key: str, reason: str, seconds: float = 0.0) -> VariantOutcome:
    """The outcome of a variant whose solve raised or whose worker died."""
    return VariantOutcome(key, {"status": "error", "reason": reason, "seconds": seconds})


# --- executors ---------------------------------------------------------------------------------


class SerialExecutor:
    """Solve in this process, one variant after another (``--workers 1``)."""

    name = "serial"

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def run(self, tasks: Iterable[SweepTask]) -> Iterator[VariantOutcome]:
        for task in tasks:
            yield run_task(task)


def _watch_parent(parent: int) -> None:
    """Exit this worker when its parent is gone (killed with SIGKILL, say): no orphans."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)


def _init_worker(parent: int) -> None:
    # Ctrl-C reaches the whole process group: only the parent handles it (and stops workers)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


class LocalExecutor:
    """A pool of worker processes on this machine (``concurrent.futures``)."""

    name = "local"

    def __init__(self, workers: int):
        self.workers = max(1, int(workers))
        self.pool: cf.ProcessPoolExecutor | None = None
        self._futures: list[cf.Future] = []

    def __enter__(self) -> LocalExecutor:
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        self.pool = cf.ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context(method),
            initializer=_init_worker,
            initargs=(os.getpid(),),
        )
        return self

    def run(self, tasks: Iterable[SweepTask]) -> Iterator[VariantOutcome]:
        assert self.pool is not None, "use LocalExecutor in a with block"
        by_future = {self.pool.submit(run_task, t): t for t in tasks}
        self._futures = list(by_future)
        for fut in cf.as_completed(by_future):
            task = by_future[fut]
            try:
                yield fut.result()
            except cf.process.BrokenProcessPool as e:
                yield error_outcome(task.key, f"a worker process died ({e})")
            except Exception as e:  # e.g. a result that could not be sent back
                yield error_outcome(task.key, f"{type(e).__name__}: {e}")

    def __exit__(self, exc_type, exc, tb) -> None:
        pool = self.pool
        if pool is None:
            return
        self.pool = None
        if exc_type is None:
            pool.shutdown(wait=True)
            return
        # interrupted: drop queued work and stop the workers now (their variants are lost,
        # nothing of them was stored, so a rerun solves them again)
        for f in self._futures:
            f.cancel()
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for p in processes:
            if p.is_alive():
                p.terminate()
        for p in processes:
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
                p.join(timeout=5)


class DaskExecutor:
    """Dask distributed: a scheduler at ``address``, or a LocalCluster of worker processes.

    Workers need realloc installed (the same version): tasks are sent as references to
    :func:`solve_variant`, outcomes come back to this process, which alone writes the store.
    """

    name = "dask"

    def __init__(self, address: str | None = None, workers: int = 2):
        self.address = address
        self.workers = max(1, int(workers))
        self.client = None
        self.cluster = None
        self._futures: list = []

    def __enter__(self) -> DaskExecutor:
        from dask.distributed import Client, LocalCluster

        if self.address:
            self.client = Client(self.address, timeout="30s")
        else:
            self.cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # a free port: two sweeps never collide
                silence_logs=logging.ERROR,
            )
            self.client = Client(self.cluster)
        return self

    @property
    def dashboard_link(self) -> str | None:
        """Where the dashboard of the LocalCluster this executor started shows it at work."""
        return getattr(self.cluster, "dashboard_link", None) if self.cluster else None

    def run(self, tasks: Iterable[SweepTask]) -> Iterator[VariantOutcome]:
        from dask.distributed import as_completed

        tasks = list(tasks)
        futures = [
            self.client.submit(run_task, t, key=f"realloc-variant-{t.key}", pure=False)
            for t in tasks
        ]
        self._futures = futures
        by_key = {f.key: t for f, t in zip(futures, tasks, strict=True)}
        for fut in as_completed(futures):
            task = by_key[fut.key]
            try:
                yield fut.result()
            except Exception as e:  # KilledWorker, a lost connection
                yield error_outcome(task.key, f"{type(e).__name__}: {e}")
            fut.release()

    def __exit__(self, exc_type, exc, tb) -> None:
        client, cluster = self.client, self.cluster
        self.client = self.cluster = None
        try:
            if client is not None:
                if exc_type is not None and self._futures:
                    client.cancel(self._futures)
                client.close()
        finally:
            if cluster is not None:
                cluster.close()


def make_executor(kind: str, workers: int, scheduler: str | None = None):
    """``serial``, ``local`` (a process pool; serial for one worker) or ``dask``."""
    if kind == "dask":
        return DaskExecutor(scheduler, workers)
    if kind == "local":
        return SerialExecutor() if workers <= 1 else LocalExecutor(workers)
    if kind == "serial":
        return SerialExecutor()
    raise ValueError(f"unknown executor {kind!r}; choose local or dask")
