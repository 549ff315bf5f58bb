"""The bundled example portfolios, shipped as package data."""

from importlib import resources
from pathlib import Path


def example_dir() -> Path:
    """Folder holding the bundled example portfolio files."""
    return Path(str(resources.files("realloc.inputs.examples")))


def example_path(name: str = "gigawatt_miner.yaml") -> Path:
    """Path of a bundled example portfolio file."""
    return example_dir() / name
