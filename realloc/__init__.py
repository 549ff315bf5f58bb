"""realloc: plan how much of each Bitcoin-mining site's power keeps mining and how much converts
to AI hosting, how to fund it, and what it is worth.

One import namespace: the design card's top-level folders are installed as ``realloc.models``,
``realloc.inputs``, ``realloc.optimizer`` and ``realloc.reports`` (setuptools' package-dir
mapping in pyproject.toml), so a user's own ``models.py`` or ``reports/`` changes nothing.
"""

from pathlib import Path as _Path

_CHECKOUT = _Path(__file__).resolve().parent.parent
if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "optimizer" / "pipeline.py").is_file():
    # A source checkout (tests, benchmarks, ``python -m realloc.cli`` from the project root):
    # the subpackages are the folders beside this one, as the installed mapping makes them.
    __path__.append(str(_CHECKOUT))

_API = {
    "load": "realloc.api",
    "plan": "realloc.api",
    "forecast": "realloc.forecasting",
    "build_report": "realloc.api",
    "write_example": "realloc.folders",
    "diff": "realloc.folders",
    "Plan": "realloc.api",
    "Forecast": "realloc.forecasting",
    "Portfolio": "realloc.api",
    "InputError": "realloc.inputs",
    "sweep": "realloc.batch",
    "breakeven": "realloc.batch",
    "compare": "realloc.batch",
    "SweepResult": "realloc.batch",
    "evaluate": "realloc.evaluation",
    "Evaluation": "realloc.evaluation",
}
"""The library API (realloc/api.py; batch what-ifs in realloc/batch.py), imported on first
use: the command line imports this package too, and must not pay for pandas and the solver
before it parses its options."""

__all__ = sorted(_API)


def __getattr__(name: str):
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'realloc' has no attribute {name!r}")
