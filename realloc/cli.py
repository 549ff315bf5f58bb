"""The ``realloc`` command line: thin commands over the library API.

Exit codes: 0 done, 2 bad input (or an --out realloc must not replace), 3 plan unfunded or
infeasible (the diagnosis is still written), 4 the time limit struck before any plan was found,
5 the output could not be written (disk full, permission, read-only: the message names the path;
the old output is intact), 1 internal error, 130 interrupted by Ctrl-C (SIGINT), 143 stopped by
SIGTERM. Tracebacks never reach the user (set REALLOC_DEBUG=1 to see them).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from realloc.cli_common import (
    EXIT_BAD_INPUT,
    EXIT_NO_PLAN_IN_TIME,
    EXIT_UNFUNDED,
    handle_errors,
)
from realloc.cli_common import say as _say
from realloc.evaluate_cli import evaluate
from realloc.options import (
    MIP_GAP,
    PATHS,
    SHARE_OPEN,
    TIME_LIMIT,
    WEIGHT,
    data_root_option,
    frontier_weights,
)
from realloc.output_cli import (
    plan_output_spec,
    replace_option,
    write_plan_and_report,
)
from realloc.sweep_cli import breakeven, compare, sweep


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="realloc")
def main() -> None:
    """Plan how much of each mining site's power to keep mining and how much to convert to AI
    hosting, and the BTC to sell to fund it.

    Example: realloc plan --out out
    """


@main.command()
@click.argument("portfolio", required=False, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("out"),
    show_default=True,
    help="Folder for the plan's files (replaced atomically; only a folder realloc wrote, "
    "and by default only a plan of the same portfolio).",
)
@replace_option
@click.option(
    "--solver",
    type=click.Choice(["highs", "cbc"]),
    default="highs",
    show_default=True,
    help="LP/MILP solver.",
)
@click.option(
    "--relax",
    is_flag=True,
    help="Drop all-or-nothing minimum commitments and whole hall blocks (pure LP).",
)
@click.option(
    "--time-limit",
    type=TIME_LIMIT,
    default=None,
    help="Solver time limit per phase, s (above 0; omit for none).",
)
@click.option(
    "--mip-gap",
    type=MIP_GAP,
    default=1e-4,
    show_default=True,
    help="Relative MIP gap accepted as optimal.",
)
@click.option(
    "--forecast",
    "forecast_spec",
    type=click.Path(path_type=Path),
    default=None,
    help="Replace the portfolio's market with this forecast spec (mean of its paths); with "
    "--stochastic, plan over its paths instead.",
)
@click.option(
    "--report",
    is_flag=True,
    help="Also write the board report (HTML, XLSX, and PDF when Chromium is installed).",
)
@click.option(
    "--stochastic",
    is_flag=True,
    help="Two-stage plan over market paths (--forecast spec; else the portfolio's own "
    "market.forecast; else the bundled forecast_base.yaml; or --scenarios), with its frontier, "
    "VSS and EVPI.",
)
@click.option(
    "--paths",
    type=PATHS,
    default=50,
    show_default=True,
    help="Monte Carlo paths drawn from the forecast spec (--stochastic).",
)
@click.option(
    "--scenarios",
    "scenarios_file",
    type=click.Path(path_type=Path),
    default=None,
    help="YAML list of named market scenarios with probabilities (--stochastic).",
)
@click.option(
    "--cvar-alpha",
    type=SHARE_OPEN,
    default=0.95,
    show_default=True,
    help="CVaR level: CVaR is the mean value of the worst 1 − alpha of paths.",
)
@click.option(
    "--risk-weight",
    type=WEIGHT,
    default=0.0,
    show_default=True,
    help="λ in (1 − λ)·E[V] + λ·CVaR: 0 maximizes expected value, 1 protects the downside.",
)
@click.option(
    "--frontier",
    "frontier",
    default="0,0.25,0.5,0.75,1",
    show_default=True,
    callback=lambda ctx, param, value: frontier_weights(value),
    help="CVaR weights of the efficient frontier (--stochastic); 'none' to skip it, VSS and EVPI.",
)
@click.option(
    "--rent-check/--no-rent-check",
    default=True,
    show_default=True,
    help="Deterministic plans: plan once more ignoring contracted rent after the horizon and "
    "say in summary.md which decisions would change.",
)
@click.option(
    "--replications",
    type=click.IntRange(2, 100),
    default=None,
    help="Optimality gap (--stochastic): solve K more independent --paths-path plans and value "
    "this one on fresh paths (Mak-Morton-Wood bounds in summary.json's saa).",
)
@click.option(
    "--evaluation-paths",
    type=PATHS,
    default=1000,
    show_default=True,
    help="Fresh paths the plan is valued on for --replications.",
)
@data_root_option
@handle_errors
def plan(
    portfolio: Path | None,
    out_dir: Path,
    solver: str,
    relax: bool,
    time_limit: float | None,
    mip_gap: float,
    forecast_spec: Path | None,
    report: bool,
    stochastic: bool,
    paths: int,
    scenarios_file: Path | None,
    cvar_alpha: float,
    risk_weight: float,
    frontier: tuple[float, ...],
    data_root: Path | None,
    replace: bool,
    rent_check: bool,
    replications: int | None = None,
    evaluation_paths: int = 1000,
) -> None:
    """Plan PORTFOLIO (YAML or Excel; the bundled example when omitted) and write the plan.

    With --stochastic, conversions, contracts and rig sales are chosen once for all market
    paths, while mining, BTC sales and cash follow each path; the output adds
    scenario_values.csv, frontier.csv and charts, and VSS/EVPI in summary.json.

    Example: realloc plan my_portfolio.yaml --out out --solver highs

    Example: realloc plan --stochastic --paths 50 --cvar-alpha 0.95 --risk-weight 0.3 --out out
    """
    from realloc import api
    from realloc.inputs.examples import example_path

    _check_stochastic_options(click.get_current_context(), stochastic, scenarios_file)
    started = time.perf_counter()
    path = portfolio or example_path()
    spec = plan_output_spec(out_dir, path, replace)  # a refusal costs nothing: before solving
    over_paths = {}
    if stochastic or scenarios_file is not None:
        over_paths = dict(
            paths=paths, cvar_alpha=cvar_alpha, risk_weight=risk_weight, frontier=frontier
        )
        if replications is not None:
            over_paths |= dict(replications=replications, evaluation_paths=evaluation_paths)
    made = api.plan(
        path,
        solver=solver,
        relax=relax,
        time_limit_s=time_limit,
        mip_gap=mip_gap,
        forecast=forecast_spec,
        stochastic=stochastic,
        scenarios=scenarios_file,
        data_root=data_root,
        progress=_say,
        rent_check=rent_check,
        **over_paths,
    )
    printed = write_plan_and_report(made, out_dir, spec, report)
    _finish(made.result, out_dir, started, printed)


STOCHASTIC_ONLY = {
    "paths": "--paths",
    "cvar_alpha": "--cvar-alpha",
    "risk_weight": "--risk-weight",
    "frontier": "--frontier",
    "replications": "--replications",
    "evaluation_paths": "--evaluation-paths",
}
"""Options that only shape a plan over many market paths (--stochastic or --scenarios)."""


def _check_stochastic_options(ctx: click.Context, stochastic: bool, scenarios_file) -> None:
    """Refuse stochastic-only options on a deterministic plan, and --paths or --forecast with
    --scenarios: each would be ignored without a word, and the user would believe the plan
    holds a risk weight or a path count that it does not."""
    given = [
        flag
        for name, flag in STOCHASTIC_ONLY.items()
        if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
    ]
    if given and not stochastic and scenarios_file is None:
        raise click.UsageError(
            f"{', '.join(given)} {'only applies' if len(given) == 1 else 'only apply'} to a "
            "plan over market paths; add --stochastic "
            "(or --scenarios FILE), or drop them"
        )
    if scenarios_file is not None:
        ignored = [
            flag
            for name, flag in (("paths", "--paths"), ("forecast_spec", "--forecast"))
            if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
        ]
        if ignored:
            raise click.UsageError(
                f"{' and '.join(ignored)} {'draws' if len(ignored) == 1 else 'draw'} market paths "
                "from a forecast spec, but "
                "--scenarios gives the paths itself; drop one or the other"
            )


def _finish(result, out_dir: Path, started: float, report_ok: bool = True) -> None:
    """The one-line outcome, the diagnosis, and the exit code (1 when the PDF failed)."""
    _say(f"status {result.status}; wrote {out_dir}/ in {time.perf_counter() - started:.1f} s")
    if result.value_usd is not None:
        from realloc.reports.summary_md import money

        _say(
            f"value {money(result.value_usd)} vs status quo {money(result.baseline_value_usd)} "
            f"(uplift {money(result.uplift_usd)})"
        )
    if result.distribution is not None and result.scenario_values is not None:
        from realloc.reports.summary_md import money

        d = result.distribution
        _say(
            f"over {len(result.scenario_values)} paths: expected {money(d.expected_usd)}, "
            f"CVaR {d.cvar_alpha:.0%} {money(d.cvar_usd)}, P5 {money(d.p5_usd)}, "
            f"P95 {money(d.p95_usd)}"
        )
    for line in result.diagnosis:
        _say(line)
    if result.status in ("unfunded", "infeasible"):
        sys.exit(EXIT_UNFUNDED)
    if result.tables is None:  # the time limit struck before the solver found any plan
        sys.exit(EXIT_NO_PLAN_IN_TIME)
    if not report_ok:
        sys.exit(1)


@main.command()
@click.argument("spec", required=False, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("forecast"),
    show_default=True,
    help="Folder for forecast.csv, percentiles and the fan chart (replaced atomically; only a "
    "forecast folder realloc wrote).",
)
@click.option(
    "--portfolio",
    type=click.Path(path_type=Path),
    default=None,
    help="Portfolio whose fleet groups get breakeven tables (default: the example).",
)
@data_root_option
@replace_option
@handle_errors
def forecast(
    spec: Path | None, out_dir: Path, portfolio: Path | None, data_root: Path | None, replace: bool
) -> None:
    """Build hashprice paths of SPEC (the bundled forecast_base.yaml when omitted) from protocol
    economics (halvings, hashrate, fees, BTC price).

    Writes forecast.csv (one row per scenario and month), forecast_percentiles.csv,
    breakeven.csv (hashcost and breakeven power price per fleet group) and forecast_fan.png.

    Example: realloc forecast --out forecast

    Example: realloc example ex && realloc forecast ex/forecast_base.yaml --out forecast
    """
    from realloc import forecasting
    from realloc.inputs.examples import example_dir
    from realloc.reports.atomic import OutputSpec, check_output_folder

    spec = spec or example_dir() / "forecast_base.yaml"
    check_output_folder(out_dir, OutputSpec("forecast", spec, replace=replace))  # before work
    made = forecasting.forecast(spec, portfolio=portfolio, data_root=data_root, progress=_say)
    files = made.write(out_dir, replace=replace)
    click.echo(f"wrote {', '.join(sorted(f.name for f in files.values()))} to {out_dir}")
    if made.halvings:
        click.echo(f"halving in {', '.join(made.halvings)}")
    median = made.median_hashprice
    click.echo(
        f"median hashprice ${median.iloc[0]:,.2f}/PH/day in {median.index[0]}, "
        f"${median.iloc[-1]:,.2f} in {median.index[-1]}"
    )
    for b in made.breakeven():
        turn = b.first_negative_month or "never in the horizon"
        click.echo(f"  {b.name}: margin turns negative {turn}")


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "--format",
    "formats",
    default=None,
    help="Comma-separated formats: html, xlsx, pdf (default: all three; pdf when Chromium "
    "is installed).",
)
@click.option(
    "--paper",
    type=click.Choice(["a4", "letter"], case_sensitive=False),
    default="a4",
    show_default=True,
    help="Paper size of the PDF.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for report.html / report.xlsx / report.pdf (default: RUN_DIR).",
)
@click.option(
    "--allow-edited",
    is_flag=True,
    help="Report a plan folder whose files were edited after realloc wrote them "
    "(refused by default: the report would show figures realloc did not compute).",
)
@click.option(
    "--evaluation",
    "evaluation_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="A `realloc evaluate` folder of this plan: adds the section on paths it was not "
    "fitted to.",
)
@handle_errors
def report(
    run_dir: Path,
    formats: str | None,
    paper: str,
    out_dir: Path | None,
    evaluation_dir: Path | None = None,
    allow_edited: bool = False,
) -> None:
    """Build the board report (HTML, Excel, PDF) from a plan's output folder.

    The PDF is report.html printed by headless Chromium (Debian package `chromium`). Without
    Chromium, a warning says so, report.html and report.xlsx are still written, and the exit
    code stays 0. Exit 2 when RUN_DIR is not a plan's output folder, or when its files differ
    from what realloc wrote (run.json records their SHA-256) and --allow-edited is not given.

    Example: realloc plan --out out && realloc report out --format html,xlsx,pdf --paper letter
    """
    from realloc import api
    from realloc.reports.board import REPORT_FORMATS, NotARunFolder, PdfPrintError

    wanted = None
    if formats is not None:
        wanted = tuple(f.strip().lower() for f in formats.split(",") if f.strip())
        unknown = set(wanted) - set(REPORT_FORMATS)
        if unknown or not wanted:
            raise click.BadParameter(
                f"unknown format(s) {', '.join(sorted(unknown)) or '(none)'}; "
                f"choose from {', '.join(REPORT_FORMATS)}",
                param_hint="--format",
            )
    try:
        files = api.build_report(
            run_dir,
            out_dir,
            formats=wanted,
            paper=paper,
            allow_edited=allow_edited,
            progress=_say,
            evaluation=evaluation_dir,
        )
    except NotARunFolder as e:
        _say(f"error: {e}")
        sys.exit(EXIT_BAD_INPUT)
    except PdfPrintError as e:
        _say(f"error: {e}; the other formats asked for were written")
        sys.exit(1)
    click.echo(f"wrote {', '.join(str(f) for f in files.values())}")


@main.command()
@click.argument("portfolio", type=click.Path(path_type=Path))
@data_root_option
@handle_errors
def validate(portfolio: Path, data_root: Path | None) -> None:
    """Check PORTFOLIO for errors without solving.

    Example: realloc validate my_portfolio.yaml
    """
    from realloc import api

    p = api.load(portfolio, data_root=data_root)
    for note in p.unservable_contracts():
        _say(f"note: {note}")
    click.echo(
        f"{portfolio}: ok ({p.name}: {len(p.sites)} sites, "
        f"{sum(len(s.fleets) for s in p.sites)} fleet groups, {len(p.contracts)} contracts, "
        f"{p.months} months from {p.start_month})"
    )


@main.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option(
    "--xlsx",
    is_flag=True,
    help="Also write the portfolio as an Excel template (gigawatt_miner.xlsx: one sheet per "
    "table, the layout README's Inputs section describes).",
)
@handle_errors
def example(directory: Path, xlsx: bool) -> None:
    """Write the bundled example into DIRECTORY for editing: the portfolio (YAML and its CSV
    series), the forecast spec, the variant sets of a sweep, named market scenarios, and the
    public reference figures its comments cite (reference_figures.csv, the ref: rows).

    Example: realloc example my_portfolio && realloc plan my_portfolio/gigawatt_miner.yaml

    Example: realloc example ex --xlsx && realloc plan ex/gigawatt_miner.xlsx --out out
    """
    from realloc import folders

    written = folders.write_example(directory, xlsx=xlsx)
    click.echo(f"wrote {', '.join(written)} to {directory}")


@main.command("diff")
@click.argument("plan_a", type=click.Path(path_type=Path))
@click.argument("plan_b", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write diff.md and the CSV tables (diff_headline, diff_value_bridge, "
    "diff_decisions, diff_btc_sold, diff_inputs) into this folder (replaced atomically; only "
    "a new or empty folder or an earlier diff).",
)
@handle_errors
def diff(plan_a: Path, plan_b: Path, out_dir: Path | None) -> None:
    """Compare two plan folders: decisions (conversions, contracts, rig sales), the value
    bridge by term, headline figures, BTC sold per year and quarter, funding, and every input
    that differs, as B − A. Prints the Markdown page; exit 2 when a folder is not a plan's.

    Example: realloc plan --out base && realloc plan board.yaml --out board && realloc diff
    base board --out base_vs_board
    """
    from realloc import folders
    from realloc.reports.board import NotARunFolder

    try:
        made = folders.diff_plans(plan_a, plan_b)
    except NotARunFolder as e:
        _say(f"error: {e}")
        sys.exit(EXIT_BAD_INPUT)
    if out_dir is not None:
        files = made.write(out_dir)
        _say(f"wrote {', '.join(sorted(f.name for f in files.values()))} to {out_dir}")
    click.echo(made.markdown(), nl=False)


main.add_command(sweep)  # batch what-ifs (realloc/sweep_cli.py)
main.add_command(compare)
main.add_command(breakeven)
main.add_command(evaluate)  # out-of-sample evaluation (realloc/evaluate_cli.py)

if __name__ == "__main__":
    main()
