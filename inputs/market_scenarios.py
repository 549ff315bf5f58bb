"""Market scenarios for stochastic plans: Monte Carlo paths of a forecast spec, or a YAML list
of named paths with probabilities.

A scenario file looks like::

    scenarios:
      - name: bust
        probability: 0.3
        market: {btc_price_usd: 45000, hashprice_usd_per_ph_day: 22}
      - name: base
        probability: 0.7
        market:
          btc_price_usd: [65000, 66000, ...]      # one value per month, or one for all
          hashprice_usd_per_ph_day: 30
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from realloc.inputs.errors import InputError, from_validation_error
from realloc.inputs.files import allowed_roots
from realloc.inputs.forecast_loader import load_forecast_spec
from realloc.inputs.market_forecast import forecast_window, load_spec
from realloc.inputs.yaml_parse import node_line, parse_yaml
from realloc.models import Portfolio
from realloc.models.forecast import ForecastSpec, generate, markets
from realloc.models.scenarios import MarketScenario, MarketScenarioSet


def portfolio_forecast_spec(
    portfolio_path: Path | str, data_root: Path | str | None = None
) -> ForecastSpec | None:
    """The forecast spec a YAML portfolio's ``market: {forecast: ...}`` names, if any (the
    loader replaces it with the mean path; a stochastic plan wants the paths themselves).
    ``data_root`` is the folder ``--data-root`` allows besides the portfolio's own."""
    path = Path(portfolio_path)
    if path.suffix.lower() not in (".yaml", ".yml"):
        return None
    data, _node = parse_yaml(path)
    market = data.get("market") if isinstance(data, dict) else None
    if not isinstance(market, dict) or "forecast" not in market:
        return None
    return load_spec(market["forecast"], path, allowed_roots(path.absolute().parent, data_root))


def scenarios_from_forecast(
    spec_path: Path | str | ForecastSpec, portfolio: Portfolio, paths: int | None = None
) -> list[MarketScenario]:
    """The spec's Monte Carlo paths over the portfolio's months, each with probability 1/N.

    ``spec_path`` is a spec file or an already loaded spec; ``paths`` overrides the spec's
    number of paths (same seed: the first paths are the same).
    """
    if isinstance(spec_path, ForecastSpec):
        spec, spec_path = spec_path, Path("market.forecast")
    else:
        spec_path = Path(spec_path)
        spec = load_forecast_spec(spec_path)
    if paths is not None:
        if paths < 1:
            raise InputError(f"--paths must be at least 1 (got {paths})", spec_path)
        spec = spec.model_copy(update={"paths": paths})
    window = forecast_window(
        generate(spec), spec, portfolio.start_month, portfolio.months, spec_path
    )
    width = len(str(spec.paths))
    return [
        MarketScenario(name=f"path-{i + 1:0{width}d}", probability=prob, market=market)
        for i, (prob, market) in enumerate(markets(window))
    ]


def load_market_scenarios(path: Path | str, portfolio: Portfolio) -> list[MarketScenario]:
    """Named market scenarios from YAML, checked to cover the portfolio's months."""
    path = Path(path)
    data, node = parse_yaml(path, "scenario file")
    if not isinstance(data, dict) or "scenarios" not in data:
        raise InputError(
            "expected a mapping with a 'scenarios' list (each with name, probability and "
            "market), see README 'Stochastic plans'",
            path,
        )
    try:
        scenario_set = MarketScenarioSet.model_validate(data)
    except ValidationError as e:
        err = from_validation_error(
            e, path, data, lambda loc: node_line(node, loc), MarketScenarioSet
        )
        raise InputError(
            err.message.replace("in the portfolio", "in the scenario file", 1),
            path,
        ) from None
    for i, sc in enumerate(scenario_set.scenarios):
        for field in ("btc_price_usd", "hashprice_usd_per_ph_day"):
            series = getattr(sc.market, field)
            if isinstance(series, list) and len(series) != portfolio.months:
                line = " (" + node_line(node, ("scenarios", i, "market", field)) + ")"
                raise InputError(
                    f"scenario {sc.name!r}: market.{field} has {len(series)} months{line} but "
                    f"the portfolio plans {portfolio.months} from {portfolio.start_month}; "
                    "give one value per month, or a single value for all months",
                    path,
                )
        if any(v <= 0 for v in _values(sc.market.btc_price_usd)):
            raise InputError(
                f"scenario {sc.name!r}: market.btc_price_usd must be positive in every month",
                path,
            )
    return list(scenario_set.scenarios)


def _values(series: float | list[float]) -> list[float]:
    return series if isinstance(series, list) else [series]
