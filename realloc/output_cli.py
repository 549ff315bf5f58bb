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


def write_plan_and_report(
    result, out_dir: Path, source: Path, spec, report: bool, analysis=None
) -> bool:
    """The plan's files and, with --report, the board report, staged together and swapped in
    at once: an interrupt never leaves a plan without its report. False when Chromium failed
    to print the PDF (the plan and the report's other formats are still written)."""
    from realloc.reports.plan_files import write_plan

    then, pdf_failed = None, []
    if report:
        from realloc.reports.board import PdfPrintError, build_report, choose_formats

        formats, warning = choose_formats(None)
        if warning:
            say(f"warning: {warning}")

        def then(stage: Path) -> None:
            try:
                files = build_report(stage, stage, formats)
            except PdfPrintError as e:
                pdf_failed.append(e)
                return
            say(f"board report: {', '.join(str(out_dir / f.name) for f in files.values())}")

    write_plan(result, out_dir, source=source, analysis=analysis, spec=spec, then=then)
    for e in pdf_failed:
        say(f"error: {e}; the plan, report.html and report.xlsx were written")
    return not pdf_failed


def staged_report(run_dir: Path, out_dir: Path | None, formats, paper: str) -> dict[str, Path]:
    """Build the report in a staged folder swapped in at once: into RUN_DIR, a copy of the plan
    folder plus the report (the plan folder must be realloc's); into --out DIR, a report
    folder. Either way the old folder stays whole until the new one is."""
    from realloc.reports.atomic import OutputSpec, check_output_folder, staged_dir
    from realloc.reports.board import build_report
    from realloc.reports.board.data import load_run

    load_run(run_dir)  # NotARunFolder (exit 2, with its own hint) before anything is staged
    in_place = out_dir is None or (out_dir.exists() and out_dir.resolve() == run_dir.resolve())
    target = run_dir if in_place else out_dir
    if in_place:
        owner = check_output_folder(run_dir, OutputSpec("plan"))
        source = Path(owner.source) if owner is not None and owner.source else None
        spec = OutputSpec("plan", source)
    else:
        spec = OutputSpec("report", run_dir)
    rebuilt = {f"report.{f}" for f in formats} | ({"report.html"} if "pdf" in formats else set())
    with staged_dir(target, spec, keep_current=in_place, drop=rebuilt) as stage:
        files = build_report(run_dir, stage, formats, paper=paper)
    return {k: target / f.name for k, f in files.items()}
