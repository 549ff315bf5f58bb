"""``python -m benchmarks.stochastic``: build and solve time of the stochastic plan against N.

The bundled example (5 sites, 5 contracts, 60 months) over N Monte Carlo paths of the bundled
forecast spec, with the CVaR rows (α = 0.95, λ = 0.3). Each N is one plan as
``realloc plan --stochastic --frontier none`` makes it (value, fixed-integer re-solve,
lexicographic BTC, the status quo, extraction and verification of every path), in a fresh
process of its own so that its peak RSS is its own.

    python -m benchmarks.stochastic                          # N = 10, 25, 50, 100
    python -m benchmarks.stochastic --paths 50,100,250,500,1000 --timeout 900
    python -m benchmarks.stochastic --paths 50 --method ipm  # force HiGHS's LP method

``method`` is how the value phase was solved (HiGHS's ``solver`` option: ``choose`` lets HiGHS
pick, which is the dual simplex method for these LPs). ``evaluate s`` is the out-of-sample
evaluation of the plan when ``realloc.optimizer.evaluate`` exists, else ``-``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

MARK = "STOCH_JSON "
ROOT = Path(__file__).resolve().parents[1]


def measure(n: int, method: str | None = None) -> dict:
    """One stochastic plan over ``n`` paths, timed by stage, in this process."""
    from benchmarks.harness import peak_rss_mb
    from realloc.inputs import load_portfolio
    from realloc.inputs.examples import example_dir, example_path
    from realloc.inputs.market_scenarios import scenarios_from_forecast
    from realloc.models.scenarios import RiskSpec
    from realloc.optimizer import plan_portfolio
    from realloc.optimizer.solvers import make_backend

    p = load_portfolio(example_path())
    t0 = time.perf_counter()
    scenarios = scenarios_from_forecast(example_dir() / "forecast_base.yaml", p, n)
    paths_s = time.perf_counter() - t0
    backend = make_backend("highs")
    if method:
        backend.lp_method = method
    t0 = time.perf_counter()
    r = plan_portfolio(
        p,
        scenarios=scenarios,
        risk=RiskSpec(cvar_alpha=0.95, risk_weight=0.3),
        backend=backend,
    )
    total = time.perf_counter() - t0
    s = r.seconds
    return {
        "paths": n,
        "columns": r.model_size["columns"],
        "rows": r.model_size["rows"],
        "nonzeros": r.model_size["nonzeros"],
        "draw_s": paths_s,
        "build_s": s.get("build", 0.0) + s.get("to_matrix", 0.0),
        "solve_plan_s": s.get("solve_plan", 0.0),
        "solve_baseline_s": s.get("solve_baseline", 0.0),
        "extract_verify_s": s.get("extract", 0.0) + s.get("verify", 0.0),
        "evaluate_s": None,
        "total_s": total,
        "status": r.status,
        "method": method or "choose",
        "peak_rss_mb": peak_rss_mb(),
    }


def run_one(n: int, method: str | None, timeout: float | None) -> dict:
    """Measure one N in a fresh interpreter (an error record when it fails or times out)."""
    cmd = [sys.executable, "-m", "benchmarks.stochastic", "--worker", str(n)]
    if method:
        cmd += ["--method", method]
    try:
        proc = subprocess.run(
            cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"paths": n, "method": method or "choose", "error": f"over {timeout:g} s"}
    for line in proc.stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK) :])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return {"paths": n, "method": method or "choose", "error": " | ".join(tail) or "no output"}


HEAD = (
    "| N | columns | rows | nonzeros | build s | solve plan s | status quo s | extract+verify s "
    "| evaluate s | total s | peak RSS MB | method | status |"
)


def row(m: dict) -> str:
    if "error" in m:
        return f"| {m['paths']} |" + " – |" * 10 + f" {m['method']} | {m['error']} |"
    ev = "-" if m["evaluate_s"] is None else f"{m['evaluate_s']:.1f}"
    return (
        f"| {m['paths']} | {m['columns']:,} | {m['rows']:,} | {m['nonzeros']:,} | "
        f"{m['build_s']:.1f} | {m['solve_plan_s']:.1f} | {m['solve_baseline_s']:.1f} | "
        f"{m['extract_verify_s']:.1f} | {ev} | {m['total_s']:.1f} | {m['peak_rss_mb']:,.0f} | "
        f"{m['method']} | {m['status']} |"
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", default="10,25,50,100", help="comma-separated N")
    ap.add_argument("--method", default=None, help="HiGHS LP method: choose, simplex, ipm, pdlp")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per N")
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(MARK + json.dumps(measure(args.worker, args.method)))
        return
    ns = [int(v) for v in args.paths.split(",") if v.strip()]
    print(HEAD)
    print("|---" * 13 + "|", flush=True)
    for n in ns:
        print(row(run_one(n, args.method, args.timeout)), flush=True)


if __name__ == "__main__":
    main()
