"""``python -m benchmarks.stochastic``: build and solve time of the stochastic plan against N.

The bundled example (5 sites, 5 contracts, 60 months) over N Monte Carlo paths of the bundled
forecast spec, with the CVaR rows (α = 0.95, λ = 0.3). Each N is one plan as
``realloc plan --stochastic --frontier none`` makes it: value, fixed-integer re-solve,
lexicographic BTC, the status quo, extraction and verification of every path.

    python -m benchmarks.stochastic                   # N = 10, 25, 50, 100
    python -m benchmarks.stochastic --paths 10,50
"""

from __future__ import annotations

import argparse
import time

from benchmarks.harness import peak_rss_mb
from realloc.inputs import load_portfolio
from realloc.inputs.examples import example_dir, example_path
from realloc.inputs.market_scenarios import scenarios_from_forecast
from realloc.models.scenarios import RiskSpec
from realloc.optimizer import plan_portfolio


def measure(n: int) -> dict:
    p = load_portfolio(example_path())
    t0 = time.perf_counter()
    scenarios = scenarios_from_forecast(example_dir() / "forecast_base.yaml", p, n)
    paths_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    r = plan_portfolio(p, scenarios=scenarios, risk=RiskSpec(cvar_alpha=0.95, risk_weight=0.3))
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
        "total_s": total,
        "status": r.status,
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", default="10,25,50,100", help="comma-separated N")
    args = ap.parse_args(argv)
    ns = [int(v) for v in args.paths.split(",") if v.strip()]
    head = (
        "| N | columns | rows | nonzeros | build s | solve plan s | status quo s | "
        "extract+verify s | total s | peak RSS MB | status |"
    )
    print(head)
    print("|---" * 11 + "|")
    for n in ns:
        m = measure(n)
        print(
            f"| {m['paths']} | {m['columns']:,} | {m['rows']:,} | {m['nonzeros']:,} | "
            f"{m['build_s']:.1f} | {m['solve_plan_s']:.1f} | {m['solve_baseline_s']:.1f} | "
            f"{m['extract_verify_s']:.1f} | {m['total_s']:.1f} | {m['peak_rss_mb']:,.0f} | "
            f"{m['status']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
