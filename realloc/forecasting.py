"""The library's market forecast: hashprice paths of a forecast spec and the breakeven of a
portfolio's fleets (``realloc forecast``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from realloc.api import _BasePortfolio, load
from realloc.arguments import Progress, _as_path, _input_errors, _quiet
from realloc.inputs.examples import example_dir, example_path


@dataclass
class Forecast:
    """Hashprice paths from protocol economics, and breakeven per fleet group of a portfolio."""

    spec_path: Path
    paths: pd.DataFrame
    """One row per path and month (the columns of forecast.csv)."""
    groups: list
    """Breakeven groups (efficiency, power price per month) of the portfolio's fleets."""

    @property
    def median_hashprice(self) -> pd.Series:
        """Median hashprice per month over the paths, $/PH/day."""
        return self.paths.groupby("month", sort=False)["hashprice_usd_per_ph_day"].median()

    @property
    def halvings(self) -> list[str]:
        """Months in which the block subsidy halves."""
        from realloc.models.forecast import halving_months

        return halving_months(self.paths)

    def breakeven(self) -> list:
        """Per fleet group: hashcost, breakeven power price, month the margin turns negative."""
        from realloc.models.forecast import group_breakeven

        start = str(self.paths["month"].iloc[0])
        return group_breakeven(self.groups, self.median_hashprice.to_numpy(), start)

    @_input_errors
    def write(self, out_dir: Path | str, *, replace: bool = False) -> dict[str, Path]:
        """forecast.csv, forecast_percentiles.csv, breakeven.csv and forecast_fan.png, swapped
        in at once; only over a forecast folder realloc wrote (``replace``: any realloc
        output)."""
        from realloc.reports.atomic import OutputSpec, check_output_folder
        from realloc.reports.forecast_report import write_forecast

        out = _as_path(out_dir, "out_dir")
        spec = OutputSpec("forecast", self.spec_path, replace=replace)
        check_output_folder(out, spec)
        return write_forecast(self.paths, out, self.groups, spec)


@_input_errors
def forecast(
    spec: Path | str | None = None,
    *,
    portfolio: _BasePortfolio | Path | str | None = None,
    data_root: Path | str | None = None,
    progress: Progress = _quiet,
) -> Forecast:
    """Generate the market paths of a forecast spec (the bundled ``forecast_base.yaml`` when
    None), with the breakeven of ``portfolio``'s fleet groups (the bundled example when None).

    The breakeven table needs a power price for every forecast month: months outside the
    portfolio's horizon take its first or last month's price, and ``progress`` says so.
    """
    from realloc.inputs.forecast_loader import load_forecast_spec
    from realloc.models.base import month_label
    from realloc.models.forecast import fleet_groups, generate, unpriced_months

    spec_path = _as_path(spec, "spec") if spec is not None else example_dir() / "forecast_base.yaml"
    s = load_forecast_spec(spec_path)
    progress(f"generating {s.paths} path(s) x {s.months} months from {s.start_month}")
    frame = generate(s)
    if isinstance(portfolio, _BasePortfolio):
        p, source = portfolio, "the portfolio"
    else:
        source = _as_path(portfolio, "portfolio") if portfolio is not None else example_path()
        p = load(source, data_root=data_root)
    groups = fleet_groups(p, s.start_month, s.months)
    before, after = unpriced_months(p, s.start_month, s.months)
    if groups and (before or after):
        first, last = p.start_month, month_label(p.start_month, p.months - 1)
        held = [
            f"the {before} month(s) before at the first month's price ({first})" if before else "",
            f"the {after} month(s) after at the last month's price ({last})" if after else "",
        ]
        progress(
            f"note: the monthly power prices of {source} run {first} to {last}; breakeven.csv "
            f"prices {' and '.join(h for h in held if h)} (give --portfolio one covering the "
            "forecast's months for month-by-month prices)"
        )
    return Forecast(spec_path, frame, groups)
