"""Command-line options shared by several commands, and one definition of what a valid number is.

click's ``float`` reads ``nan``, ``inf`` and ``-1`` without complaint (and Python's ``float`` and
``int`` read digits of any script, ``２``), so a ``--mip-gap nan`` or ``--time-limit -5`` used to
reach the solver, which ignored it. Every numeric option takes a :class:`Number` instead: a
finite number, written with the ASCII digits 0-9, inside the option's range; anything else is a
usage error (exit 2) naming the option and the range to give.
"""

from __future__ import annotations

import math
from pathlib import Path

import click

_SHOWN = 40
"""Characters of a refused value repeated in the message (a pasted megabyte is not echoed)."""


class Number(click.ParamType):
    """A finite number (``whole=True``: an integer) in ``[lo, hi]``; an open end excludes the
    bound itself (``lo_open=True``: strictly above ``lo``)."""

    def __init__(
        self,
        lo: float | None = None,
        hi: float | None = None,
        *,
        lo_open: bool = False,
        hi_open: bool = False,
        whole: bool = False,
    ):
        self.lo, self.hi, self.lo_open, self.hi_open, self.whole = lo, hi, lo_open, hi_open, whole
        self.name = "integer" if whole else "number"

    def describe(self) -> str:
        """The accepted values in words, e.g. 'a number from 0 to 1'."""
        kind = "a whole number" if self.whole else "a number"
        if self.lo is not None and self.hi is not None:
            low = "above" if self.lo_open else "from"
            high = "and below" if self.hi_open else "to"
            return f"{kind} {low} {self.lo:g} {high} {self.hi:g}"
        if self.lo is not None:
            return f"{kind} {'above' if self.lo_open else 'of at least'} {self.lo:g}"
        if self.hi is not None:
            return f"{kind} {'below' if self.hi_open else 'of at most'} {self.hi:g}"
        return f"a finite {kind.removeprefix('a ')}"

    def get_metavar(self, param, ctx=None) -> str:
        return "INTEGER" if self.whole else "NUMBER"

    def convert(self, value, param, ctx):
        if isinstance(value, bool):
            self.fail(f"{value!r} is not a number; give {self.describe()}", param, ctx)
        if isinstance(value, int | float):
            number = value
        else:
            text = str(value).strip()
            shown = text if len(text) <= _SHOWN else text[:_SHOWN] + "…"
            if not text.isascii():
                self.fail(
                    f"{shown!r} holds characters other than ASCII; write the number with the "
                    f"digits 0-9, e.g. {self._example()}",
                    param,
                    ctx,
                )
            if "_" in text:  # Python reads 1_000 as 1000; the rule is plain digits
                self.fail(f"{shown!r} is not {self.describe()}", param, ctx)
            try:
                number = int(text) if self.whole else float(text)
            except ValueError:  # also an integer too long to read (thousands of digits)
                self.fail(f"{shown!r} is not {self.describe()}", param, ctx)
        if isinstance(number, int) and abs(number) > 1e300:
            # a whole number of hundreds of digits overflows math.isfinite and ':g' (it used to
            # end in an OverflowError traceback): it is out of every option's range
            self.fail(
                f"{str(number)[:_SHOWN]}… is out of range; give {self.describe()}", param, ctx
            )
        if not math.isfinite(number):
            self.fail(f"{number} is not a finite number; give {self.describe()}", param, ctx)
        below = self.lo is not None and (number <= self.lo if self.lo_open else number < self.lo)
        above = self.hi is not None and (number >= self.hi if self.hi_open else number > self.hi)
        if below or above:
            self.fail(f"{number:g} is out of range; give {self.describe()}", param, ctx)
        return number

    def _example(self) -> str:
        if self.lo is not None and self.hi is not None and not self.whole:
            return f"{(self.lo + self.hi) / 2:g}"
        return f"{(self.lo or 0) + 1:g}"


TIME_LIMIT = Number(0, lo_open=True)
"""--time-limit: seconds per solve phase (omit the option for no limit)."""
MIP_GAP = Number(0, 1)
"""--mip-gap: relative gap between the plan and the best bound accepted as optimal."""
SHARE_OPEN = Number(0, 1, lo_open=True, hi_open=True)
"""--cvar-alpha: a level strictly between 0 and 1."""
WEIGHT = Number(0, 1)
"""--risk-weight and each --frontier weight: λ in [0, 1]."""
MAX_PATHS = 10_000
"""Most Monte Carlo paths a plan draws (the forecast spec's own ``paths`` has the same cap)."""
PATHS = Number(1, MAX_PATHS, whole=True)
MAX_WORKERS = 256
"""Most worker processes a sweep starts (a typo such as --workers 40000 would fork-bomb)."""
WORKERS = Number(1, MAX_WORKERS, whole=True)
FINITE = Number()
"""Any finite number (breakeven's --lo and --hi; their order is checked by the command)."""
POSITIVE = Number(0, lo_open=True)
"""A finite number above 0 (breakeven's --tol)."""
NON_NEGATIVE = Number(0)
"""A finite number of at least 0 (breakeven's --threshold)."""


def frontier_weights(text: str) -> tuple[float, ...]:
    """--frontier: comma-separated weights in [0, 1], or 'none' (no frontier, VSS or EVPI)."""
    if text.strip().lower() == "none":
        return ()
    parts = [v.strip() for v in text.split(",") if v.strip()]
    if not parts:
        raise click.BadParameter(
            f"{text!r}: give comma-separated weights in [0, 1], e.g. 0,0.5,1, or 'none'",
            param_hint="--frontier",
        )
    weights = []
    for part in parts:
        try:
            weights.append(WEIGHT.convert(part, None, None))
        except click.BadParameter as e:
            raise click.BadParameter(
                f"weight {e.message} (comma-separated, e.g. 0,0.5,1, or 'none')",
                param_hint="--frontier",
            ) from None
    return tuple(weights)


def data_root_option(f):
    """``--data-root DIR``: a folder whose files (CSV series, forecast specs) a portfolio or a
    variant set may name besides those in its own folder tree. Without it, realloc reads only
    files inside the folder of the file that names them (see inputs/files.py)."""
    return click.option(
        "--data-root",
        "data_root",
        type=click.Path(path_type=Path, exists=True, file_okay=False),
        default=None,
        metavar="DIR",
        help="Also read CSV series and forecast specs that the portfolio (or variant set) "
        "names from this folder's tree; by default only files inside the folder of the file "
        "that names them are read.",
    )(f)


def executor_options(f):
    """``--workers``, ``--executor``, ``--scheduler`` and ``--progress``: where a batch of
    solves runs (a sweep's variants, an evaluation's paths), taken alike by every batch
    command. :func:`check_scheduler` checks the pair the decorator cannot."""
    options = [
        click.option(
            "--workers",
            type=WORKERS,
            default=None,
            help="Worker processes (default: one per CPU; ignored with --scheduler).",
        ),
        click.option(
            "--executor",
            type=click.Choice(["local", "dask"]),
            default=None,
            help="local (default): a process pool on this machine; dask: Dask distributed "
            "(the default with --scheduler).",
        ),
        click.option(
            "--scheduler",
            default=None,
            metavar="ADDRESS",
            help="Dask scheduler address (tcp://host:8786); without it --executor dask starts "
            "a LocalCluster.",
        ),
        click.option(
            "--progress/--no-progress",
            default=None,
            help="Progress bar with ETA on stderr (default: when stderr is a terminal).",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def check_scheduler(executor: str | None, scheduler: str | None) -> None:
    """A scheduler address runs on Dask: refuse it with ``--executor local``."""
    if scheduler and executor not in (None, "dask"):
        raise click.BadParameter("--scheduler needs --executor dask", param_hint="--scheduler")
