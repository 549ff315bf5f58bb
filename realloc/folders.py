"""Library calls on plan folders beside planning: two plans side by side, and the bundled
example written out for editing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from realloc.api import Plan, load
from realloc.inputs.examples import example_dir

if TYPE_CHECKING:  # the diff's module loads the report readers: only when a diff is asked for
    from realloc.reports.plan_diff import PlanDiff


def diff_plans(a: Plan | Path | str, b: Plan | Path | str) -> PlanDiff:
    """Two plans side by side (``realloc diff``): decisions, value bridge, headline figures, BTC
    sold, funding and the inputs that differ, as a :class:`~realloc.reports.plan_diff.PlanDiff`
    (``.tables`` as DataFrames, ``.markdown()``, ``.write(dir)``).

    ``a`` and ``b`` are plan folders or :class:`Plan` objects; a plan object is written into a
    temporary folder and read back, so it is compared exactly as its folder would be. A folder
    that is not a plan's raises ``NotARunFolder`` (a ``ValueError``).
    """
    import tempfile

    from realloc.reports.plan_diff import diff, diff_runs, read_plan

    if not isinstance(a, Plan) and not isinstance(b, Plan):
        return diff(a, b)
    with tempfile.TemporaryDirectory(prefix="realloc-diff-") as tmp:
        runs = [
            read_plan(p.write(Path(tmp) / name)) if isinstance(p, Plan) else read_plan(p)
            for name, p in (("A", a), ("B", b))
        ]
    labels = [_plan_label(p, name) for name, p in (("A", a), ("B", b))]
    return diff_runs(*runs, *labels)


diff = diff_plans
"""``realloc.diff`` (the package's lazy export table looks names up in this module)."""


def _plan_label(p: Plan | Path | str, name: str) -> str:
    """How the diff names a plan: its folder, or for a plan object its portfolio file."""
    if not isinstance(p, Plan):
        return str(p)
    return f"plan {name} ({p.source})" if p.source is not None else f"plan {name}"


def write_example(directory: Path | str, *, xlsx: bool = False) -> list[str]:
    """Write the bundled example into a new or empty ``directory`` for editing (``realloc
    example``): the portfolio and its CSV series, the forecast spec, the variant sets, named
    market scenarios and the reference figures its comments cite; with ``xlsx`` also the
    portfolio as an Excel template. Returns the file names. The folder is the user's from then
    on: it carries no realloc marker, so realloc never replaces it."""
    import shutil

    from realloc.reports.atomic import OutputRefused, OutputSpec, staged_dir

    directory = Path(directory)
    if directory.is_dir() and not directory.is_symlink() and any(directory.iterdir()):
        raise OutputRefused(
            f"{directory} is not empty; realloc example writes only into a new or empty folder, "
            "so that no file of yours is overwritten (give another DIRECTORY)"
        )
    written = []
    with staged_dir(directory, OutputSpec("example", marked=False)) as stage:
        for f in sorted(example_dir().iterdir()):
            if f.suffix in (".yaml", ".csv"):
                shutil.copyfile(f, stage / f.name)
                written.append(f.name)
        if xlsx:
            from realloc.inputs.excel_writer import write_excel

            write_excel(load(), stage / "gigawatt_miner.xlsx")
            written.append("gigawatt_miner.xlsx")
    return written
