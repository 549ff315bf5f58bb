"""``python -m benchmarks.sweep``: variants per minute of ``realloc sweep`` on the bundled example.

Runs the bundled 200-variant grid (inputs/examples/sweep_grid.yaml) on the bundled portfolio
once per configuration, each as a fresh ``realloc sweep`` process into an empty folder, and
reports wall-clock variants per minute (start-up, cluster start and the store included), the
mean time per variant inside a worker, and whether every configuration found the same values
(to 1e-6 relative) as the first.

    python -m benchmarks.sweep                       # all configurations, 200 variants
    python -m benchmarks.sweep --variants 40        # the first 40 grid points
    python -m benchmarks.sweep --configs rebuild-1,reuse-1 --out sweep_bench.md
    python -m benchmarks.sweep --breakdown 60       # CPU per variant by stage, in process

Every run also prints the CPU breakdown (benchmarks/sweep_cpu.py) of the first 40 variants
(``--breakdown 0`` skips it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

CONFIGS = {
    "rebuild-1": ["--rebuild", "--workers", "1"],
    "reuse-1": ["--reuse", "--workers", "1"],
    "rebuild-2": ["--rebuild", "--workers", "2"],
    "reuse-2": ["--reuse", "--workers", "2"],
    "dask-2": ["--reuse", "--executor", "dask", "--workers", "2"],
}
LABELS = {
    "rebuild-1": "rebuild, 1 worker (in process)",
    "reuse-1": "reuse, 1 worker (in process)",
    "rebuild-2": "rebuild, 2 workers (process pool)",
    "reuse-2": "reuse, 2 workers (process pool)",
    "dask-2": "reuse, Dask LocalCluster, 2 workers",
}


def variant_file(n: int | None, folder: Path) -> Path:
    """The bundled grid, or its first ``n`` points written as named variants."""
    from realloc.inputs.examples import example_path

    grid = example_path("sweep_grid.yaml")
    if n is None:
        return grid
    from realloc.inputs import load_portfolio
    from realloc.inputs.variant_sets import load_variant_set

    s = load_variant_set(grid, load_portfolio(example_path()))
    named = {
        spec.id: {o.path: (o.value if o.op == "set" else {o.op: o.value}) for o in spec.overrides}
        for spec in s.variants[:n]
    }
    path = folder / f"first_{n}.yaml"
    path.write_text(yaml.safe_dump({"variants": named}, sort_keys=False))
    return path


def run_config(name: str, variants: Path, folder: Path) -> dict:
    from realloc.inputs.examples import example_path

    out = folder / name
    realloc = Path(sys.executable).parent / "realloc"
    cmd = [str(realloc), "sweep", str(example_path()), str(variants), "--out", str(out)]
    cmd += ["--no-progress", *CONFIGS[name]]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        return {"name": name, "error": f"exit {proc.returncode}: {tail}"}
    frame = pd.read_parquet(out / "variants.parquet")
    return {
        "name": name,
        "variants": len(frame),
        "optimal": int((frame["status"] == "optimal").sum()),
        "wall_s": wall,
        "per_minute": 60 * len(frame) / wall,
        "variant_s": float(frame["seconds"].mean()),
        "cpu_s": float(frame["cpu_seconds"].mean()),
        "solve_s": float(frame["solve_seconds"].mean()),
        "values": frame.set_index("id")["value_usd"],
    }


def render(results: list[dict], n: int, repeat: int = 1) -> str:
    ok = [r for r in results if "error" not in r]
    ref = ok[0]["values"] if ok else None
    lines = [
        "| configuration | variants/min | wall s | per variant in a worker: wall s "
        "| CPU s | solve s | same values |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {LABELS[r['name']]} | – | – | – | – | – | {r['error']} |")
            continue
        diff = ((r["values"] - ref).abs() / ref.abs().clip(lower=1.0)).max()
        same = "yes" if diff <= 1e-6 else f"NO (max rel. diff {diff:.2g})"
        lines.append(
            f"| {LABELS[r['name']]} | {r['per_minute']:.0f} | {r['wall_s']:.1f} "
            f"| {r['variant_s']:.3f} | {r['cpu_s']:.3f} | {r['solve_s']:.3f} | {same} |"
        )
    lines += [
        "",
        f"{n} variants of the bundled example (inputs/examples/sweep_grid.yaml), "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}; each configuration is one "
        "`realloc sweep` process into an empty folder, so wall time includes start-up, "
        "the Dask cluster's start and writing the store"
        + (f"; best of {repeat} runs, taken in turn" if repeat > 1 else "")
        + ". CPU s is the worker's own processor time: it does not grow when other programs "
        "compete for the cores, wall time does.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.sweep", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--variants", type=int, default=None, help="first N grid points")
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated")
    parser.add_argument("--out", type=Path, help="also write the Markdown table here")
    parser.add_argument(
        "--repeat", type=int, default=1, help="run every configuration R times, in turn; best"
    )
    parser.add_argument(
        "--breakdown",
        type=int,
        default=40,
        help="CPU per variant by stage over the first N variants, in process (0: skip)",
    )
    parser.add_argument("--only-breakdown", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.breakdown:
        from benchmarks.sweep_cpu import breakdown
        from benchmarks.sweep_cpu import render as render_breakdown

        print(render_breakdown(breakdown(args.breakdown)), flush=True)
        if args.only_breakdown:
            return 0
    names = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = [c for c in names if c not in CONFIGS]
    if unknown:
        parser.error(f"unknown configuration(s) {', '.join(unknown)}; choose {', '.join(CONFIGS)}")
    with tempfile.TemporaryDirectory(prefix="realloc-sweep-bench-") as tmp:
        folder = Path(tmp)
        variants = variant_file(args.variants, folder)
        best: dict[str, dict] = {}
        for i in range(args.repeat):
            for name in names:
                print(f"run {i + 1}: {LABELS[name]} ...", file=sys.stderr, flush=True)
                r = run_config(name, variants, folder)
                shutil.rmtree(folder / name, ignore_errors=True)
                if name not in best or r.get("per_minute", 0) > best[name].get("per_minute", 0):
                    best[name] = r
        results = [best[name] for name in names]
    n = next((r["variants"] for r in results if "variants" in r), args.variants or 200)
    table = render(results, n, args.repeat)
    print(table, end="")
    if args.out:
        args.out.write_text(table)
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
