"""Loaders for portfolio files (YAML, Excel) and the bundled example portfolios.

Every file is read through inputs/files.py: regular files only, bounded in size, and files a
portfolio names only from its own folder tree (or the folder ``--data-root`` allows).
"""

from pathlib import Path

from realloc.inputs.errors import InputError
from realloc.inputs.files import cut
from realloc.inputs.yaml_loader import load_yaml
from realloc.models import Portfolio

PORTFOLIO_SUFFIXES = (".yaml", ".yml", ".xlsx")


def load_portfolio(path: Path | str, data_root: Path | str | None = None) -> Portfolio:
    """Load a portfolio from a YAML (``.yaml``/``.yml``) or Excel (``.xlsx``) file.

    ``data_root`` (``--data-root``) is a folder whose files the portfolio may name besides the
    ones in its own folder tree.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(_folder_hint(path), path)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return load_yaml(path, data_root)
    if suffix == ".xlsx":
        from realloc.inputs.excel_loader import load_excel

        return load_excel(path)
    raise InputError(
        f"unknown file type {suffix or '(none)'!r}; give a .yaml, .yml or .xlsx file", path
    )


def _folder_hint(folder: Path) -> str:
    """What to give instead of a folder: the portfolio file inside it, naming a few found."""
    try:
        found = sorted(
            cut(f.name) for f in folder.iterdir() if f.suffix.lower() in PORTFOLIO_SUFFIXES
        )[:3]
    except OSError:
        found = []
    if found:
        return (
            "is a folder, not a portfolio file; give the portfolio's YAML or Excel file in it "
            f"(here: {', '.join(found)})"
        )
    return (
        "is a folder, not a portfolio file; give the portfolio's YAML (.yaml, .yml) or Excel "
        "(.xlsx) file itself"
    )


__all__ = ["InputError", "load_portfolio", "load_yaml"]
