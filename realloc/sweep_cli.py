"""Batch what-ifs on the command line: ``realloc sweep``, ``compare`` and ``breakeven``.

Thin shells over realloc/batch.py (parse options, call the library, print, exit codes);
registered on the main group by realloc/cli.py, and never importing it. Exit codes of ``sweep``:
0 when the sweep finished (some variants may have failed: the closing line counts them and
variants.parquet says why), 2 bad portfolio or variant file (nothing is solved), 3 no variant
produced a plan, 5 the store could not be written, 130 (Ctrl-C) or 143 (SIGTERM) interrupted:
everything finished so far is stored; rerun the same command to resume.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from realloc.cli_common import EXIT_NO_PLAN, handle_errors, say
from realloc.options import (
    FINITE,
    MIP_GAP,
    NON_NEGATIVE,
    POSITIVE,
    TIME_LIMIT,
    check_scheduler,
    data_root_option,
    executor_options,
)


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
@click.argument("variants", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Results folder (created; a rerun into it resumes; must be new, empty or a sweep's).",
)
@click.option(
    "--reuse/--rebuild",
    default=True,
    show_default=True,
    help="Keep each worker's solver models and warm-start them from the previous variant.",
)
@executor_options
@_solver_options
@data_root_option
@handle_errors
def sweep(
    portfolio: Path,
    variants: Path,
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
    """Plan every variant of VARIANTS (a variant-set YAML) on PORTFOLIO; store the results.

    Writes OUT/variants.parquet (one row per variant), plan/treasury/conversions/contracts
    .parquet (keyed by variant_id) and sweep.json. Each solved variant is stored as it
    finishes: a killed sweep loses only the variants in flight, and rerunning the same command
    skips everything already stored (an edited variant is solved again). `realloc example ex`
    writes the bundled portfolio and variant sets (sweep_grid.yaml, bear_base_bull.yaml).

    Example: realloc sweep ex/gigawatt_miner.yaml ex/sweep_grid.yaml --out sweep --workers 2
    """
    from realloc.batch import sweep as run_sweep

    check_scheduler(executor, scheduler)
    result = run_sweep(
        portfolio,
        variants,
        out_dir=out_dir,
        workers=workers,
        executor=executor,
        scheduler=scheduler,
        reuse=reuse,
        progress=progress,
        solver=solver,
        relax=relax,
        time_limit_s=time_limit,
        mip_gap=mip_gap,
        data_root=data_root,
        log=say,
    )
    text = ", ".join(f"{n} {s}" for s, n in result.counts.items())
    if result.interrupted is not None:
        say(
            f"interrupted ({result.interrupted.name}) after solving {result.solved_now} "
            f"variant(s) this run ({text}); every finished variant is stored in {out_dir}; "
            "rerun the same command to resume"
        )
        sys.exit(128 + result.interrupted)
    say(f"{text}; wrote {out_dir}/ in {result.seconds:.1f} s")
    say(f"compare them: realloc compare {out_dir}")
    if result.with_plan == 0:
        sys.exit(EXIT_NO_PLAN)


@click.command()
@click.argument("sweep_dir", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for comparison.md/.csv and the charts (default: SWEEP_DIR).",
)
@handle_errors
def compare(sweep_dir: Path, out_dir: Path | None) -> None:
    """Compare the variants of a sweep: a side-by-side table and charts.

    Writes comparison.md and comparison.csv, tornado.png (uplift against each swept parameter),
    heatmap.png (two parameters), value_histogram.png (many variants) and variant_values.png
    (few variants).

    Example: realloc compare sweep
    """
    from realloc.batch import compare as run_compare

    files = run_compare(sweep_dir, out_dir)
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
    help="Field to vary, as in variant sets: market.hashprice_usd_per_ph_day, "
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
@handle_errors
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
    from realloc.batch import breakeven as find
    from realloc.optimizer.breakeven import NoFlip, ProbeFailed

    try:
        result = find(
            portfolio,
            path,
            site,
            scale=scale,
            lo=lo,
            hi=hi,
            tol=tol,
            threshold_mw=threshold_mw,
            solver=solver,
            relax=relax,
            time_limit_s=time_limit,
            mip_gap=mip_gap,
            data_root=data_root,
            out_csv=out_csv,
            log=say,
        )
    except NoFlip as e:
        say(f"no breakeven in the bracket: {e}")
        sys.exit(EXIT_NO_PLAN)
    except ProbeFailed as e:
        say(f"no breakeven: {e}")
        sys.exit(EXIT_NO_PLAN)
    what = f"{path} ×" if result.mode == "scale" else path
    below = "converts" if result.converts_at_lo else "does not convert"
    above = "converts" if result.converts_at_hi else "does not convert"
    click.echo(
        f"breakeven {what} for {site}: {result.estimate:.6g} "
        f"(bracket [{result.lo:.6g}, {result.hi:.6g}], tolerance {result.tolerance:g}); "
        f"{site} {below} at {result.lo:.6g} and {above} at {result.hi:.6g} "
        f"({len(result.probes)} plans, {result.seconds:.1f} s)"
    )
