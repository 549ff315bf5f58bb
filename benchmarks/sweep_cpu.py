"""CPU seconds per variant of the bundled sweep, stage by stage, in one worker (this process).

``python -m benchmarks.sweep --breakdown N`` calls :func:`breakdown`: the first N grid points
are solved one after the other as a sweep worker solves them (``solve_variant``, one reusing
backend), after one warm-up variant, and each stage's processor time is summed:

- build: ``build_index`` + ``build_model`` + ``to_matrix``;
- solve: ``solve_plan`` (every phase of the plan and the status quo), with its HiGHS runs'
  own processor time and the MILP fallbacks (a phase with integers whose rounding fell short)
  counted apart;
- extract: the plan's tables, the values by scenario, their distribution and the headline;
- verify: every invariant recomputed from the written tables;
- write: the store's part file of the variant (``SweepStore.write_part``), as the sweep's
  parent process writes it.

The stages are timed by wrapping the functions ``plan_portfolio`` calls (the same objects, so
nothing else changes); CPU time, not wall time, so that other programs on the machine do not
inflate it.
"""

from __future__ import annotations

import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

STAGES = {
    "build": ("build_index", "build_model", "to_matrix"),
    "solve": ("solve_plan",),
    "extract": ("extract", "scenario_values", "distribution", "_solved"),
    "verify": ("_verification",),
}


@contextmanager
def _timed(module, names: tuple[str, ...], label: str, totals: dict):
    """Add the processor time of calls to ``module.<name>`` to ``totals[label]``."""
    originals = {n: getattr(module, n) for n in names}

    def wrap(fn):
        def timed(*args, **kwargs):
            c0 = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                totals[label] += time.process_time() - c0

        return timed

    for n, fn in originals.items():
        setattr(module, n, wrap(fn))
    try:
        yield
    finally:
        for n, fn in originals.items():
            setattr(module, n, fn)


def _tasks(n: int):
    from realloc.batch import _tasks as batch_tasks
    from realloc.inputs import load_portfolio
    from realloc.inputs.examples import example_path
    from realloc.inputs.variant_sets import load_variant_set, materialize
    from realloc.optimizer.sweep import SweepSettings

    base = load_portfolio(example_path())
    built = materialize(base, load_variant_set(example_path("sweep_grid.yaml"), base))
    tasks, _ = batch_tasks(built, base, SweepSettings())
    return list(tasks.values())[: n + 1]


def breakdown(n: int) -> dict:
    """Mean CPU seconds per variant by stage over the first ``n`` grid points (plus a warm-up)."""
    import realloc.optimizer.highs as highs
    import realloc.optimizer.pipeline as pipeline
    from realloc.optimizer.sweep import solve_variant
    from realloc.reports.sweep_store import SweepStore

    tasks = _tasks(n)
    solve_variant(tasks[0])  # imports, first models
    totals: dict[str, float] = defaultdict(float)
    runs = {"highs_run": 0.0, "milp": 0.0, "milp_count": 0}
    original_run = highs.run_interruptibly
    original_read = highs._read_solution

    def run(h):
        c0 = time.process_time()
        original_run(h)
        runs["last"] = time.process_time() - c0
        runs["highs_run"] += runs["last"]

    def read(h, name, problem, n_rows, started):
        if problem.is_mip:
            runs["milp"] += runs["last"]
            runs["milp_count"] += 1
        return original_read(h, name, problem, n_rows, started)

    highs.run_interruptibly, highs._read_solution = run, read
    try:
        with tempfile.TemporaryDirectory(prefix="realloc-sweep-cpu-") as tmp:
            store = SweepStore(Path(tmp) / "store")
            store.prepare()
            c_all = time.process_time()
            with _stage_timers(pipeline, totals):
                for task in tasks[1:]:
                    outcome = solve_variant(task)
                    c0 = time.process_time()
                    store.write_part(outcome.key, outcome.row, outcome.tables)
                    totals["write"] += time.process_time() - c0
            total = time.process_time() - c_all
    finally:
        highs.run_interruptibly, highs._read_solution = original_run, original_read
    k = len(tasks) - 1
    out = {stage: totals[stage] / k for stage in (*STAGES, "write")}
    out["other"] = total / k - sum(out.values())
    out["total"] = total / k
    out["highs_run"] = runs["highs_run"] / k
    out["milp"] = runs["milp"] / k
    out["milp_share"] = runs["milp_count"] / k
    out["variants"] = k
    return out


@contextmanager
def _stage_timers(pipeline, totals: dict):
    with (
        _timed(pipeline, STAGES["build"], "build", totals),
        _timed(pipeline, STAGES["solve"], "solve", totals),
        _timed(pipeline, STAGES["extract"], "extract", totals),
        _timed(pipeline, STAGES["verify"], "verify", totals),
    ):
        yield


def render(b: dict) -> str:
    """The breakdown as a Markdown table (seconds of CPU per variant)."""
    cells = [b[s] for s in ("build", "solve", "extract", "verify", "write", "other", "total")]
    lines = [
        "| CPU s per variant | build | solve | (HiGHS runs) | (MILP fallbacks) | extract "
        "| verify | write | other | total | variants/min at 2 cores, CPU-bound |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        f"| 1 worker, reuse ({b['variants']} variants) | {cells[0]:.4f} | {cells[1]:.4f} "
        f"| {b['highs_run']:.4f} | {b['milp']:.4f} ({100 * b['milp_share']:.0f} % of variants) "
        f"| {cells[2]:.4f} | {cells[3]:.4f} | {cells[4]:.4f} | {cells[5]:.4f} | {cells[6]:.4f} "
        f"| {2 * 60 / cells[6]:.0f} |",
    ]
    return "\n".join(lines) + "\n"
