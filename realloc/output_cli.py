"""How the commands write their outputs: what --out may replace, the plan and its board report
in one staged swap, a report staged into its plan folder, and what an interrupt left.

The rules themselves live in reports/atomic.py; this module is their command-line side.
"""

from __future__ import annotations

from pathlib import Path

import click


def say(msg: str) -> None:
    """A progress or error line on stderr (stdout stays for results)."""
    click.echo(msg, err=True)


def what_was_left(committed_before: int) -> str:
    """The truth about the output folders after an interrupt (swaps are atomic: see
    reports/atomic.py), from how many this command had swapped in."""
    from realloc.reports.atomic import committed_count

    if committed_count() > committed_before:
        return "the new output folder was complete and in place before the interrupt"
    return (
        "no partial output was left; the previous output folder, if any, is intact (an output "
        "folder is replaced only once complete)"
    )


def replace_option(f):
    """``--replace`` of plan and forecast: the user's say-so to replace another realloc output."""
    return click.option(
        "--replace",
        is_flag=True,
        help="Replace --out even when it holds another realloc output (another portfolio's "
        "plan, another kind). A folder realloc did not write is never replaced.",
    )(f)


def plan_output_spec(out_dir: Path, source: Path, replace: bool):
    """What --out may hold, checked before solving so a refusal costs nothing. The default
    ``out`` is shared by every bare run, so there only a plan of the same portfolio is
    replaced; an --out given explicitly may hold any realloc plan."""
    from realloc.reports.atomic import OutputSpec, check_output_folder

    ctx = click.get_current_context()
    implicit = ctx.get_parameter_source("out_dir") is click.core.ParameterSource.DEFAULT
    spec = OutputSpec("plan", source, same_input=implicit, replace=replace)
    check_output_folder(out_dir, spec)
    return spec


def write_plan_and_report(made, out_dir: Path, spec, report: bool) -> bool:
    """The plan's files and, with --report, the board report, swapped in at once (the
    library's :meth:`realloc.api.Plan.write`). False when Chromium failed to print the PDF
    (the plan and the report's other formats are still written)."""
    from realloc.reports.board import PdfPrintError

    try:
        made.write(
            out_dir, replace=spec.replace, report=report, same_input=spec.same_input, progress=say
        )
    except PdfPrintError as e:
        say(f"error: {e}; the plan, report.html and report.xlsx were written")
        return False
    return True
