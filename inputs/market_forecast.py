"""Resolve a portfolio's ``market: {forecast: ...}`` section into monthly series.

The forecast spec (a path relative to the portfolio file, inside the folders a portfolio may
read from: see inputs/files.py; or inline) is generated with
:func:`models.forecast.generate`. A deterministic plan uses the mean across Monte Carlo paths
in each month (one path: that path); stochastic planning reads every path.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from realloc.inputs.errors import InputError, from_validation_error
from realloc.inputs.files import resolve_reference
from realloc.inputs.forecast_loader import load_forecast_spec
from realloc.models import Market, month_index, month_label
from realloc.models.forecast import ForecastSpec, generate


def load_spec(ref: Any, path: Path, roots: Sequence[Path]) -> ForecastSpec:
    """The spec named by ``ref`` in the portfolio at ``path``: a file path (relative to the
    portfolio's folder, inside ``roots``) or an inline mapping."""
    if isinstance(ref, str):
        spec_path = resolve_reference(
            path.parent / ref, roots, "forecast spec", "market.forecast", path, name=ref
        )
        return load_forecast_spec(spec_path)
    if isinstance(ref, dict):
        try:
            return ForecastSpec.model_validate(ref)
        except ValidationError as e:
            err = from_validation_error(e, path, {"market": {"forecast": ref}})
            raise InputError(
                err.message.replace("in the portfolio", "in market.forecast", 1),
                path,
            ) from None
    raise InputError(
        "market.forecast must be a forecast spec file name or a mapping "
        f"(got {type(ref).__name__})",
        path,
    )


def forecast_window(
    frame: pd.DataFrame, spec: ForecastSpec, start_month: str, months: int, path: Path
) -> pd.DataFrame:
    """The forecast rows of the portfolio's months, or an error saying what is not covered."""
    offset = month_index(spec.start_month, start_month)
    if offset < 0 or offset + months > spec.months:
        end = month_label(start_month, months - 1)
        raise InputError(
            f"market.forecast covers {spec.start_month} for {spec.months} months but the "
            f"portfolio needs {start_month} to {end}; align the spec's start_month/months",
            path,
        )
    wanted = {month_label(start_month, t) for t in range(months)}
    return frame[frame["month"].isin(wanted)]


def mean_market(window: pd.DataFrame) -> dict[str, list[float]]:
    """Month-by-month mean of price and hashprice across paths, as ``market`` fields."""
    mean = window.groupby("month", sort=True)[["btc_price_usd", "hashprice_usd_per_ph_day"]].mean()
    return {
        "btc_price_usd": mean["btc_price_usd"].tolist(),
        "hashprice_usd_per_ph_day": mean["hashprice_usd_per_ph_day"].tolist(),
    }


def resolve_market_forecast(data: dict, path: Path, roots: Sequence[Path]) -> dict:
    """Replace ``market: {forecast: ...}`` in raw portfolio data with explicit series."""
    market = data.get("market")
    if not isinstance(market, dict) or "forecast" not in market:
        return data
    extra = set(market) - {"forecast"}
    if extra:
        raise InputError(
            f"market: give either forecast or explicit series, not both "
            f"(found {', '.join(sorted(extra))} beside forecast)",
            path,
        )
    spec = load_spec(market["forecast"], path, roots)
    start, months = data.get("start_month"), data.get("months")
    if not isinstance(start, str) or not isinstance(months, int):
        return data  # portfolio validation will report the missing fields
    window = forecast_window(generate(spec), spec, start, months, path)
    return {**data, "market": mean_market(window)}


def market_from_spec_file(spec_path: Path, portfolio) -> Market:
    """A :class:`Market` for ``portfolio``'s months from a forecast spec file (mean path)."""
    spec = load_forecast_spec(spec_path)
    window = forecast_window(
        generate(spec), spec, portfolio.start_month, portfolio.months, Path(spec_path)
    )
    return Market(**mean_market(window))
