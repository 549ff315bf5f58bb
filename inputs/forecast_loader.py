"""Load a market-forecast spec (:class:`models.forecast.ForecastSpec`) from YAML."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from realloc.inputs.errors import InputError, from_validation_error
from realloc.inputs.yaml_parse import node_line, parse_yaml
from realloc.models.forecast import ForecastSpec


def load_forecast_spec(path: Path | str) -> ForecastSpec:
    """Load and validate a forecast spec; raise :class:`InputError` naming file, line and field."""
    path = Path(path)
    data, node = parse_yaml(
        path, "forecast spec"
    )  # yaml.safe_load, plus the node tree for line numbers
    if not isinstance(data, dict):
        raise InputError(
            "expected a mapping of forecast fields (start_month, months, price, ...) "
            f"at the top level, got {type(data).__name__}",
            path,
        )
    try:
        return ForecastSpec.model_validate(data)
    except ValidationError as e:
        err = from_validation_error(e, path, data, lambda loc: node_line(node, loc), ForecastSpec)
        message = err.message
        raise InputError(
            message.replace("in the portfolio", "in the forecast spec", 1), path
        ) from None
