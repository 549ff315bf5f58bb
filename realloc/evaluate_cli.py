"""``realloc evaluate``: a thin shell over :func:`realloc.evaluation.evaluate` (registered on
the main group by realloc/cli.py). Exit codes: 0 done, 2 bad input (not a plan folder, an
edited one, no forecast to draw from, a bad option), 5 the output could not be written."""

from __future__ import annotations

from pathlib import Path

import click

from realloc.cli_common import handle_errors, say
from realloc.options import PATHS, check_scheduler, executor_options


def _money(x: float) -> str:
    from realloc.reports.summary_md import money

    return money(x)


@click.command()
@click.argument("plan_dir", type=click.Path(path_type=Path))
@click.option(
    "--paths",
    type=PATHS,
    default=1000,
    show_default=True,
    help="Fresh market paths to evaluate the plan on.",
)
@click.option(
    "--forecast",
    "forecast_spec",
    type=click.Path(path_type=Path),
    default=None,
    help="Forecast spec to draw them from (default: the one the plan was fitted on, "
    "recorded in its run.json).",
)
@click.option(
    "--seed",
    type=click.IntRange(0, 2**63 - 1),
    default=None,
    help="Seed of the fresh paths (default: derived from the plan's seed, never it).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for evaluation.csv/.json/.png (default: PLAN_DIR-evaluation beside "
    "the plan; only a folder realloc wrote is replaced).",
)
@executor_options
@handle_errors
def evaluate(
    plan_dir, paths, forecast_spec, seed, out_dir, workers, executor, scheduler, progress
) -> None:
    """Evaluate the plan in PLAN_DIR on market paths it was not fitted to.

    The plan's conversions, contracts and rig sales are fixed; on each fresh path mining, BTC
    sales and cash are re-optimized (in parallel, warm-started). Writes evaluation.csv (value,
    status-quo value and shortfall per path) and evaluation.json (expected value and CVaR with
    95 % intervals, beside the plan's in-sample figures).

    Example: realloc evaluate out --paths 2000 --workers 2
    """
    from realloc.evaluation import evaluate as run

    check_scheduler(executor, scheduler)
    out = out_dir or plan_dir.parent / f"{plan_dir.name}-evaluation"
    ev = run(
        plan_dir,
        paths=paths,
        forecast=forecast_spec,
        seed=seed,
        workers=workers,
        executor=executor,
        scheduler=scheduler,
        out_dir=out,
        progress=progress,
        log=say,
    )
    s, ins = ev.summary, ev.summary["in_sample"]
    lo, hi = s["expected_value_ci95_usd"]
    clo, chi = s["cvar_ci95_usd"]
    say(f"wrote {out}/ in {ev.seconds:.1f} s")
    say(
        f"on {s['paths']} fresh paths: expected {_money(s['expected_value_usd'])} "
        f"(95% CI {_money(lo)} to {_money(hi)}), CVaR {s['cvar_alpha']:.0%} "
        f"{_money(s['cvar_usd'])} ({_money(clo)} to {_money(chi)})"
    )
    if ins.get("expected_value_usd") is not None:
        cvar = ins.get("cvar_usd")
        say(
            f"on the {ins['paths']} fitted path(s): expected {_money(ins['expected_value_usd'])}"
            + (f", CVaR {_money(cvar)}" if cvar is not None else "")
        )
    if s["shortfall_paths_share"] > 0:
        say(f"the plan cannot be funded on {s['shortfall_paths_share']:.1%} of the paths")
