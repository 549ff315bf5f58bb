"""The ``realloc`` command line: thin commands over the library API.

Exit codes: 0 done, 2 bad input, 3 plan unfunded or infeasible (the diagnosis is still written),
1 internal error. Tracebacks never reach the user (set REALLOC_DEBUG=1 to see them).
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import time
from pathlib import Path

import click

EXIT_BAD_INPUT = 2
EXIT_UNFUNDED = 3


def _say(msg: str) -> None:
    click.echo(msg, err=True)


def handle_errors(fn):
    """Turn domain errors into clean messages and exit codes."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from inputs import InputError

        try:
            return fn(*args, **kwargs)
        except InputError as e:
            _say(f"error: {e}")
            sys.exit(EXIT_BAD_INPUT)
        except KeyboardInterrupt:
            _say("interrupted: previous outputs were left untouched")
            sys.exit(130)
        except click.exceptions.Exit:
            raise
        except Exception as e:
            if os.environ.get("REALLOC_DEBUG"):
                raise
            _say(
                f"internal error: {type(e).__name__}: {e}\n"
                "This is a bug in realloc; rerun with REALLOC_DEBUG=1 for the traceback."
            )
            sys.exit(1)

    return wrapper


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
    help="Folder for the plan's files (replaced atomically).",
)
@click.option(
    "--solver",
    type=click.Choice(["highs", "cbc"]),
    default="highs",
    show_default=True,
    help="LP/MILP solver.",
)
@click.option("--relax", is_flag=True, help="Drop all-or-nothing minimum commitments (pure LP).")
@click.option("--time-limit", type=float, default=None, help="Solver time limit per phase, s.")
@click.option(
    "--mip-gap",
    type=float,
    default=1e-4,
    show_default=True,
    help="Relative MIP gap accepted as optimal.",
)
@handle_errors
def plan(
    portfolio: Path | None,
    out_dir: Path,
    solver: str,
    relax: bool,
    time_limit: float | None,
    mip_gap: float,
) -> None:
    """Plan PORTFOLIO (YAML or Excel; the bundled example when omitted) and write the plan.

    Example: realloc plan my_portfolio.yaml --out out --solver highs
    """
    from inputs import load_portfolio
    from inputs.examples import example_path

    started = time.perf_counter()
    path = portfolio or example_path()
    _say(f"loading {path}")
    p = load_portfolio(path)
    _say(
        f"planning {p.name}: {len(p.sites)} sites, {len(p.contracts)} contracts, "
        f"{p.months} months ({solver})"
    )
    from optimizer import SolverOptions, plan_portfolio
    from reports.plan_files import write_plan

    result = plan_portfolio(
        p,
        solver=solver,
        relax=relax,
        options=SolverOptions(time_limit_s=time_limit, mip_rel_gap=mip_gap),
    )
    write_plan(result, out_dir)
    _say(f"status {result.status}; wrote {out_dir}/ in {time.perf_counter() - started:.1f} s")
    if result.value_usd is not None:
        _say(
            f"value ${result.value_usd / 1e6:,.1f}M vs status quo "
            f"${(result.baseline_value_usd or 0) / 1e6:,.1f}M "
            f"(uplift ${(result.uplift_usd or 0) / 1e6:,.1f}M)"
        )
    for line in result.diagnosis:
        _say(line)
    if result.status in ("unfunded", "infeasible"):
        sys.exit(EXIT_UNFUNDED)


@main.command()
@click.argument("portfolio", type=click.Path(path_type=Path))
@handle_errors
def validate(portfolio: Path) -> None:
    """Check PORTFOLIO for errors without solving.

    Example: realloc validate my_portfolio.yaml
    """
    from inputs import load_portfolio

    p = load_portfolio(portfolio)
    click.echo(
        f"{portfolio}: ok ({p.name}: {len(p.sites)} sites, "
        f"{sum(len(s.fleets) for s in p.sites)} fleet groups, {len(p.contracts)} contracts, "
        f"{p.months} months from {p.start_month})"
    )


@main.command()
@click.argument("directory", type=click.Path(path_type=Path))
@handle_errors
def example(directory: Path) -> None:
    """Write the bundled example portfolio (YAML and its CSV series) into DIRECTORY for editing.

    Example: realloc example my_portfolio && realloc plan my_portfolio/gigawatt_miner.yaml
    """
    from inputs.examples import example_dir

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for f in sorted(example_dir().iterdir()):
        if f.suffix in (".yaml", ".csv"):
            shutil.copyfile(f, directory / f.name)
            written.append(f.name)
    click.echo(f"wrote {', '.join(written)} to {directory}")


if __name__ == "__main__":
    main()
