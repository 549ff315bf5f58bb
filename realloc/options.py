"""Command-line options shared by several commands."""

from __future__ import annotations

from pathlib import Path

import click


def data_root_option(f):
    """``--data-root DIR``: a folder whose files (CSV series, forecast specs) a portfolio or a
    scenario set may name besides those in its own folder tree. Without it, realloc reads only
    files inside the folder of the file that names them (see inputs/files.py)."""
    return click.option(
        "--data-root",
        "data_root",
        type=click.Path(path_type=Path, exists=True, file_okay=False),
        default=None,
        metavar="DIR",
        help="Also read CSV series and forecast specs that the portfolio (or scenario set) "
        "names from this folder's tree; by default only files inside the folder of the file "
        "that names them are read.",
    )(f)
