"""``python -m benchmarks``: time realloc stage by stage on the synthetic ladder.

Each size runs in a fresh subprocess (so peak RSS is per size and no cache carries over) and
is compared with the same value-phase problem solved by raw highspy right after, in a child
process of its own (its peak RSS is the solver's): the MILP, its LP relaxation with the costs as
stated, and the relaxation with the costs exactly as realloc passes them (benchmarks/harness.py,
``reference_solves``).

    python -m benchmarks                          # all four sizes
    python -m benchmarks --quick                  # small and medium
    python -m benchmarks --sizes small,medium,large --out bench.md
    python -m benchmarks --sizes 10x24x10         # any S x T x K
    python -m benchmarks --profile large          # cProfile of build, to_matrix, extract, verify
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

LADDER = {
    "small": (5, 36, 5),
    "medium": (20, 60, 20),
    "large": (50, 120, 50),
    "xlarge": (200, 120, 100),
}
QUICK = ("small", "medium")
ROOT = Path(__file__).resolve().parents[1]
MARK = "BENCH_JSON "


def parse_size(text: str) -> tuple[str, tuple[int, int, int]]:
    text = text.strip()
    if text in LADDER:
        return text, LADDER[text]
    parts = text.lower().split("x")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise argparse.ArgumentTypeError(
            f"unknown size {text!r}: use {', '.join(LADDER)} or SxTxK such as 10x24x10"
        )
    s, t, k = (int(p) for p in parts)
    return text, (s, t, k)


def run_one(label: str, dims, seed: int, timeout: float | None, reference: bool) -> dict:
    """Measure one size in a fresh interpreter; return its figures (or an error record)."""
    cmd = [sys.executable, "-m", "benchmarks", "--worker", "x".join(map(str, dims))]
    cmd += ["--seed", str(seed)]
    if not reference:
        cmd.append("--no-reference")
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"label": label, "size": list(dims), "error": f"timed out after {timeout:g} s"}
    wall = time.perf_counter() - started
    for line in proc.stdout.splitlines():
        if line.startswith(MARK):
            figures = json.loads(line[len(MARK) :])
            figures["label"] = label
            figures["process_wall_seconds"] = wall
            return figures
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
    return {"label": label, "size": list(dims), "error": " | ".join(tail) or "no output"}


def _fmt(v: float | None, digits: int = 3) -> str:
    if v is None:
        return "–"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.{digits}f}"


MAIN_HEADER = (
    "| size S×T×K | vars | cons | nonzeros | load s | build s | to_matrix s | solve s "
    "| baseline s | extract s | verify s | write s | end-to-end s | peak RSS MB "
    "| raw HiGHS s | raw relax s | raw relax as passed s | raw RSS MB | e2e / raw "
    "| value phase / raw | value phase / raw relax | value phase / raw relax as passed "
    "| RSS / raw | build % | model % |"
)
MAIN_COLUMNS = 25


def value_phase_seconds(phases: dict[str, float]) -> float | None:
    """Seconds of the plan's value phase: the MILP or the relaxation, with the fixed-integer
    LP (the part of realloc's solve that answers the question the raw solve answers)."""
    parts = [v for n, v in phases.items() if n.startswith("plan.value")]
    return sum(parts) if parts else None


def main_row(f: dict) -> str:
    s, t, k = f["size"]
    name = f"{f['label']} {s}×{t}×{k}" if f["label"] in LADDER else f"{s}×{t}×{k}"
    if "error" in f:
        return f"| {name} | " + " | ".join(["–"] * (MAIN_COLUMNS - 1)) + f" |  ← {f['error']}"
    sec, size = f["seconds"], f["model_size"]
    e2e = sec["end_to_end"]
    raw = f.get("raw", {}).get("seconds")
    raw_rss = f.get("raw", {}).get("peak_rss_mb")
    value_phase = value_phase_seconds(f["phases"])
    relax = f.get("raw_relaxation", {}).get("seconds")
    passed = f.get("raw_relaxation_passed", {}).get("seconds")
    cells = [
        name,
        f"{size['columns']:,}",
        f"{size['rows']:,}",
        f"{size['nonzeros']:,}",
        *(_fmt(sec[k]) for k in ("load", "build", "to_matrix", "solve", "baseline")),
        *(_fmt(sec[k]) for k in ("extract", "verify", "write")),
        _fmt(e2e),
        f"{f['peak_rss_mb']:.0f}",
        _fmt(raw),
        _fmt(relax),
        _fmt(passed),
        f"{raw_rss:.0f}" if raw_rss else "–",
        f"{e2e / raw:.2f}×" if raw else "–",
        f"{value_phase / raw:.2f}×" if raw and value_phase else "–",
        f"{value_phase / relax:.2f}×" if relax and value_phase else "–",
        f"{value_phase / passed:.2f}×" if passed and value_phase else "–",
        f"{f['peak_rss_mb'] / raw_rss:.1f}×" if raw_rss else "–",
        f"{100 * sec['build'] / e2e:.0f} %",
        f"{100 * (sec['build'] + sec['to_matrix']) / e2e:.0f} %",
    ]
    return "| " + " | ".join(cells) + " |"


PHASE_HEADER = (
    "| size | integers | status | value $M (raw $M) | plan phases s | baseline phases s "
    "| between phases s | index s | build_model s | misc s | MPS write s | raw status "
    "| raw relax iterations (as passed) |"
)


def phase_row(f: dict) -> str:
    if "error" in f:
        return ""
    s, t, k = f["size"]
    plan = ", ".join(
        f"{n.split('.', 1)[1]} {_fmt(v)}" for n, v in f["phases"].items() if n.startswith("plan.")
    )
    base = ", ".join(
        f"{n.split('.', 1)[1]} {_fmt(v)}"
        for n, v in f["phases"].items()
        if n.startswith("baseline.")
    )
    raw = f.get("raw", {})
    raw_value = raw.get("objective_musd")
    value = f.get("value_phase_objective_musd")
    sec = f["seconds"]
    status = f["status"] + ("" if f["verified"] else " (NOT verified)")
    cells = [
        f"{s}×{t}×{k}",
        str(f["model_size"]["integer_columns"]),
        status,
        f"{value:,.2f} ({raw_value:,.2f})" if value is not None and raw_value is not None else "–",
        plan,
        base,
        _fmt(f["phase_overhead"]),
        _fmt(sec["index"]),
        _fmt(sec["build_model"]),
        _fmt(sec["misc"]),
        _fmt(f.get("mps_write_seconds")),
        raw.get("status", "–"),
        _iterations(f),
    ]
    return "| " + " | ".join(cells) + " |"


def _iterations(f: dict) -> str:
    """Simplex iterations of the raw relaxation with the costs as stated (and as passed)."""
    stated = f.get("raw_relaxation", {}).get("simplex_iterations")
    passed = f.get("raw_relaxation_passed", {}).get("simplex_iterations")
    if stated is None or passed is None:
        return "–"
    return f"{stated:,} ({passed:,})"


def render(results: list[dict]) -> str:
    lines = [
        MAIN_HEADER,
        "|" + "---|" * MAIN_COLUMNS,
        *(main_row(f) for f in results),
        "",
        PHASE_HEADER,
        "|" + "---|" * 13,
        *(r for r in (phase_row(f) for f in results) if r),
    ]
    ok = [f for f in results if "error" not in f]
    if ok:
        f = ok[0]
        lines += [
            "",
            f"{f['solver_version']}, seed {f['seed']}, Python {sys.version.split()[0]}. "
            "Each size in a fresh process. build = build_index + build_model; "
            "solve = plan phases (value: with integers value_relaxation + "
            "value_fixed_integers, and the MILP only when rounding falls short; keep_btc); "
            "end-to-end = all stages (misc = diagnosis + baseline value terms); "
            "raw HiGHS = value phase as MPS, highspy readModel + run in a child process, "
            "run timed, its peak RSS; raw relax = its LP relaxation the same way, with "
            "realloc's LP option simplex_scale_strategy 4 and the costs as the model states "
            "them ($M); raw relax as passed = the same LP with the costs scaled by the power "
            "of two realloc hands HiGHS (the same LP: only the simplex method's path differs); "
            "all raw solves run right after realloc's, in the same run; "
            "value phase / raw = plan.value* phases / raw; "
            "RSS / raw = realloc's peak RSS (measured before the MPS is written) / raw's; "
            "model % = (build + to_matrix) / end-to-end.",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--sizes",
        default=",".join(LADDER),
        help=f"comma-separated: {', '.join(LADDER)} or SxTxK (default: all four)",
    )
    parser.add_argument("--quick", action="store_true", help="only small and medium")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=None, help="seconds per size")
    parser.add_argument("--out", type=Path, help="also write the Markdown table to this file")
    parser.add_argument("--json", type=Path, help="also write the raw figures as JSON")
    parser.add_argument(
        "--no-reference", action="store_true", help="skip the raw-HiGHS reference solve"
    )
    parser.add_argument("--profile", metavar="SIZE", help="cProfile build/to_matrix/extract/verify")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        _, dims = parse_size(args.worker)
        from benchmarks.harness import measure

        figures = measure(*dims, seed=args.seed, reference=not args.no_reference)
        print(MARK + json.dumps(figures))
        return 0
    if args.profile:
        _, dims = parse_size(args.profile)
        from benchmarks.harness import profile

        print(profile(*dims, seed=args.seed))
        return 0

    chosen = QUICK if args.quick else args.sizes.split(",")
    sizes = [parse_size(s) for s in chosen if s.strip()]
    results = []
    for label, dims in sizes:
        print(f"running {label} {'×'.join(map(str, dims))} ...", file=sys.stderr, flush=True)
        results.append(run_one(label, dims, args.seed, args.timeout, not args.no_reference))
    table = render(results)
    print(table, end="")
    if args.out:
        args.out.write_text(table)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 1 if any("error" in f for f in results) else 0


if __name__ == "__main__":
    sys.exit(main())
