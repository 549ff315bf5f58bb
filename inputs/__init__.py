"""Loaders for portfolio files (YAML, Excel) and the bundled example portfolios."""

from pathlib import Path

from inputs.errors import InputError
from inputs.yaml_loader import load_yaml
from models import Portfolio


def load_portfolio(path: Path | str) -> Portfolio:
    """Load a portfolio from a YAML (``.yaml``/``.yml``) or Excel (``.xlsx``) file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return load_yaml(path)
    if suffix == ".xlsx":
        from inputs.excel_loader import load_excel

        return load_excel(path)
    raise InputError(
        f"unknown file type {suffix or '(none)'!r}; give a .yaml, .yml or .xlsx file", path
    )


__all__ = ["InputError", "load_portfolio", "load_yaml"]
