"""Measure one ladder size, stage by stage, in the current process.

The stages replay ``optimizer.pipeline.plan_portfolio`` step by step (same calls, same order)
so each can be timed on its own, then write the plan files into a temporary folder. The
reference is the value phase of the same model written to an MPS file and solved by raw
``highspy`` (``readModel`` + ``run``, only ``run`` timed) right after realloc's stages (the MILP
and its LP relaxation, see :func:`reference_solves`), so both run on the same machine at the
same moment; the raw solve runs in a child process (``benchmarks/raw.py``) so that its peak
memory is its own.
"""

from __future__ import annotations

import cProfile
import gc
import io
import json
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.raw import peak_rss_mb
from benchmarks.synthetic import synthetic_portfolio
from realloc.optimizer.build import build_model
from realloc.optimizer.diagnose import structural_problems
from realloc.optimizer.extract import extract, value_terms
from realloc.optimizer.highs import scaled_costs
from realloc.optimizer.index import build_index
from realloc.optimizer.matrix import MatrixForm, to_matrix
from realloc.optimizer.pipeline import PlanResult, verify_plan
from realloc.optimizer.solve import solve_plan
from realloc.optimizer.solvers import make_backend
from realloc.reports.plan_files import write_plan

STAGES = ("load", "build", "to_matrix", "solve", "baseline", "extract", "verify", "write")


def write_mps(
    mf: MatrixForm, path: Path, cost: np.ndarray | None = None, integers: bool = True
) -> None:
    """Write the value phase (minimize −value over the model's rows and bounds) as free MPS.

    Columns keep realloc's order (``x<j>``), rows its order (``r<i>``), integers are marked, so
    HiGHS sees exactly the problem ``HighsBackend`` passes for the value phase. ``cost``: other
    costs to minimize (the value costs as realloc scales them); ``integers=False``: the LP
    relaxation (no column marked integer).
    """
    n, m = mf.n_cols, mf.n_rows
    rows = np.repeat(np.arange(m), np.diff(mf.indptr))
    order = np.lexsort((rows, mf.indices))  # column-major
    col_of, row_of, val_of = mf.indices[order], rows[order], mf.data[order]
    col_start = np.searchsorted(col_of, np.arange(n + 1))
    cost = (-mf.value if cost is None else np.asarray(cost, float)).tolist()
    out: list[str] = ["NAME realloc_value", "ROWS", " N obj"]
    lo, hi = mf.row_lo, mf.row_hi
    kinds = np.where(lo == hi, "E", np.where(np.isfinite(lo), "G", "L"))  # ranged rows: G
    if np.any(~np.isfinite(lo) & ~np.isfinite(hi)):
        raise ValueError("free rows are not expected in realloc's model")
    out.extend(f" {kind} r{i}" for i, kind in enumerate(kinds.tolist()))
    out.append("COLUMNS")
    in_int = False
    for j in range(n):
        is_int = bool(mf.integer[j]) and integers
        if is_int != in_int:
            marker = "'INTORG'" if is_int else "'INTEND'"
            out.append(f" MARKER 'MARKER' {marker}")
            in_int = is_int
        a, b = col_start[j], col_start[j + 1]
        if cost[j] != 0.0:
            out.append(f" x{j} obj {cost[j]!r}")
        for r, v in zip(row_of[a:b].tolist(), val_of[a:b].tolist(), strict=True):
            out.append(f" x{j} r{r} {v!r}")
        if a == b and cost[j] == 0.0:
            out.append(f" x{j} obj 0.0")  # keep empty columns in the model
    if in_int:
        out.append(" MARKER 'MARKER' 'INTEND'")
    out.append("RHS")
    ranges: list[str] = []
    for i, kind in enumerate(kinds.tolist()):
        rhs = hi[i] if kind == "L" else lo[i]
        if kind == "G" and np.isfinite(hi[i]):
            ranges.append(f" rng r{i} {float(hi[i] - lo[i])!r}")
        if rhs != 0.0:
            out.append(f" rhs r{i} {float(rhs)!r}")
    if ranges:
        out.append("RANGES")
        out.extend(ranges)
    out.append("BOUNDS")
    for j in range(n):
        lb, ub = float(mf.lb[j]), float(mf.ub[j])
        if lb == ub:
            out.append(f" FX bnd x{j} {lb!r}")
            continue
        if np.isinf(lb):
            out.append(f" MI bnd x{j}")
        elif lb != 0.0 or (integers and mf.integer[j]):
            out.append(f" LO bnd x{j} {lb!r}")
        if np.isfinite(ub):
            out.append(f" UP bnd x{j} {ub!r}")
        elif integers and mf.integer[j]:
            out.append(f" PL bnd x{j}")
    out.append("ENDATA")
    path.write_text("\n".join(out) + "\n")


def raw_highs_solve(mps: Path, relaxation: bool = False, scale: float = 1.0) -> dict:
    """Solve the MPS file with raw highspy in a child process (``benchmarks/raw.py``): the
    seconds of ``run()``, status, objective, simplex iterations and the child's peak RSS.
    ``relaxation``: an LP, solved with realloc's LP options (``simplex_scale_strategy``);
    ``scale``: the file's costs are the value's times this (the objective is divided by it)."""
    extra = ["--relaxation"] if relaxation else []
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.raw", str(mps), "--scale", repr(float(scale)), *extra],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(sites: int, months: int, contracts: int, seed: int = 0, reference: bool = True):
    """Time every stage for one size; return a dict of figures (seconds, sizes, memory)."""
    sec: dict[str, float] = {}
    gc.collect()
    t0 = time.perf_counter()
    portfolio = synthetic_portfolio(sites, months, contracts, seed)
    sec["load"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    index = build_index(portfolio)
    sec["index"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    model = build_model(index)
    sec["build_model"] = time.perf_counter() - t1
    sec["build"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    mf = to_matrix(model)
    sec["to_matrix"] = time.perf_counter() - t0

    backend = make_backend("highs")
    t0 = time.perf_counter()
    run = solve_plan(model, mf, backend)
    solve_total = time.perf_counter() - t0
    sec["solve"] = run.seconds["solve_plan"]
    sec["baseline"] = run.seconds["solve_baseline"]
    phases = {f"plan.{p.phase}": p.seconds for p in run.plan.phases}
    phases.update({f"baseline.{p.phase}": p.seconds for p in run.baseline.phases})
    # the phases' own seconds cover building HighsLp, passModel and run; the rest is numpy
    # work between phases (optimal face, extra rows)
    phase_sum = sum(phases.values())

    t0 = time.perf_counter()
    diagnosis = structural_problems(portfolio)
    base_terms = value_terms(model, run.baseline.x) if run.baseline.x is not None else {}
    sec["misc"] = time.perf_counter() - t0

    size = {
        "columns": mf.n_cols,
        "rows": mf.n_rows,
        "nonzeros": mf.n_nonzeros,
        "integer_columns": int(mf.integer.sum()),
        "scenarios": len(index.scenarios),
    }
    result = PlanResult(
        portfolio=portfolio,
        status=run.plan.status,
        value_usd=None if run.plan.value_musd is None else run.plan.value_musd * 1e6,
        baseline_status=run.baseline.status,
        baseline_value_usd=None
        if run.baseline.value_musd is None
        else run.baseline.value_musd * 1e6,
        tables=None,
        baseline_value_terms_usd=base_terms,
        verification=None,
        solver=run.solver,
        solver_version=run.solver_version,
        relaxed=False,
        model_size=size,
        seconds=dict(sec),
        diagnosis=diagnosis,
    )
    if run.plan.x is None:
        raise RuntimeError(f"no plan for {sites}x{months}x{contracts}: {run.plan.status}")

    t0 = time.perf_counter()
    tables = extract(model, run.plan)
    sec["extract"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    check = verify_plan(portfolio, model, run.plan.x, tables)
    sec["verify"] = time.perf_counter() - t0
    result.tables = tables
    result.verification = check

    with tempfile.TemporaryDirectory(prefix="realloc-bench-") as tmp:
        t0 = time.perf_counter()
        write_plan(result, Path(tmp) / "out")
        sec["write"] = time.perf_counter() - t0

    sec["end_to_end"] = (
        sec["load"]
        + sec["build"]
        + sec["to_matrix"]
        + solve_total
        + sec["misc"]
        + sec["extract"]
        + sec["verify"]
        + sec["write"]
    )
    figures = {
        "size": [sites, months, contracts],
        "seed": seed,
        "status": run.plan.status,
        "baseline_status": run.baseline.status,
        "verified": bool(check.ok),
        "value_musd": run.plan.value_musd,
        "value_phase_objective_musd": float(mf.value @ run.plan.phases[0].x)
        if run.plan.phases[0].x is not None
        else None,
        "model_size": size,
        "seconds": sec,
        "phases": phases,
        "phase_overhead": solve_total - phase_sum,
        "peak_rss_mb": peak_rss_mb(),
        "solver_version": run.solver_version,
    }
    if reference:
        figures.update(reference_solves(mf))
    return figures


def reference_solves(mf: MatrixForm) -> dict:
    """Raw highspy on the value phase, each in a child process, one after the other: the MILP
    (``raw``), its LP relaxation with the costs as the model states them (``raw_relaxation``)
    and the relaxation exactly as realloc hands it to HiGHS, costs scaled by a power of two
    (``raw_relaxation_passed``: the same LP, which the dual simplex method may cross by
    another path)."""
    out: dict = {}
    passed, scale = scaled_costs(-mf.value)
    with tempfile.TemporaryDirectory(prefix="realloc-mps-") as tmp:
        mps = Path(tmp) / "value.mps"
        t0 = time.perf_counter()
        write_mps(mf, mps)
        out["mps_write_seconds"] = time.perf_counter() - t0
        out["raw"] = raw_highs_solve(mps)
        write_mps(mf, mps, integers=False)
        out["raw_relaxation"] = raw_highs_solve(mps, relaxation=True)
        write_mps(mf, mps, cost=passed, integers=False)
        out["raw_relaxation_passed"] = raw_highs_solve(mps, relaxation=True, scale=scale)
    return out


def profile(sites: int, months: int, contracts: int, seed: int = 0, top: int = 20) -> str:
    """cProfile top-``top`` (cumulative) of build, to_matrix, extract and verify for one size."""
    portfolio = synthetic_portfolio(sites, months, contracts, seed)
    out = io.StringIO()

    def report(title: str, prof: cProfile.Profile) -> None:
        out.write(f"\n=== {title} ===\n")
        stats = pstats.Stats(prof, stream=out)
        stats.strip_dirs().sort_stats("cumulative").print_stats(top)
        stats.sort_stats("tottime").print_stats(top)

    prof = cProfile.Profile()
    prof.enable()
    model = build_model(build_index(portfolio))
    prof.disable()
    report("build (index + build_model)", prof)

    prof = cProfile.Profile()
    prof.enable()
    mf = to_matrix(model)
    prof.disable()
    report("to_matrix", prof)

    run = solve_plan(model, mf, make_backend("highs"))
    prof = cProfile.Profile()
    prof.enable()
    tables = extract(model, run.plan)
    prof.disable()
    report("extract", prof)

    prof = cProfile.Profile()
    prof.enable()
    verify_plan(portfolio, model, run.plan.x, tables)
    prof.disable()
    report("verify", prof)
    return out.getvalue()
