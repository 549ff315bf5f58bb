"""Write a market forecast to disk: the paths, their percentiles, breakevens and a fan chart.

Files written in ``out_dir``:

- ``forecast.csv`` — one row per (scenario, month), the columns of :data:`models.forecast.COLUMNS`;
- ``forecast_percentiles.csv`` — per variable and month, P5/P25/P50/P75/P95 across scenarios;
- ``breakeven.csv`` — per fleet group and month along the median hashprice (when groups are given);
- ``forecast_fan.png`` — hashprice fan chart with the halving marked, BTC price below.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from realloc.models.forecast import (
    COLUMNS,
    BreakevenGroup,
    breakeven_frame,
    halving_months,
    percentiles,
)
from realloc.reports.atomic import OutputSpec, staged_dir
from realloc.reports.safe_text import write_csv

PERCENTILE_COLUMNS = [
    "subsidy_btc",
    "fees_btc",
    "hashrate_eh",
    "btc_price_usd",
    "hashprice_usd_per_ph_day",
]
"""The variables summarised in ``forecast_percentiles.csv``."""


def write_forecast(
    frame: pd.DataFrame,
    out_dir: Path | str,
    fleet_groups: Sequence[BreakevenGroup] | None = None,
    spec: OutputSpec | None = None,
) -> dict[str, Path]:
    """Write the forecast files into the folder ``out_dir``, all at once (a staged folder
    swapped in; only over a forecast folder realloc wrote, or as ``spec`` allows); return them
    by name."""
    out = Path(out_dir)
    with staged_dir(out, spec or OutputSpec("forecast")) as stage:
        files = _write_files(frame, stage, fleet_groups)
    return {name: out / name for name in files}


def _write_files(
    frame: pd.DataFrame, out: Path, fleet_groups: Sequence[BreakevenGroup] | None
) -> dict[str, Path]:
    files = {
        name: out / name
        for name in ("forecast.csv", "forecast_percentiles.csv", "forecast_fan.png")
    }
    write_csv(frame[COLUMNS], files["forecast.csv"])
    tables = {c: percentiles(frame, c) for c in PERCENTILE_COLUMNS}
    write_csv(
        pd.concat(
            [t.assign(variable=c)[["variable", *t.columns]] for c, t in tables.items()],
            ignore_index=True,
        ),
        files["forecast_percentiles.csv"],
    )
    breakeven = None
    if fleet_groups:
        breakeven = breakeven_frame(frame, fleet_groups)
        files["breakeven.csv"] = out / "breakeven.csv"
        write_csv(breakeven, files["breakeven.csv"])
    _fan_chart(frame, tables, breakeven, files["forecast_fan.png"])
    return files


def _fan_chart(
    frame: pd.DataFrame, tables: dict[str, pd.DataFrame], breakeven: pd.DataFrame | None, path: Path
) -> None:
    """The forecast's fan chart: hashprice (with the fleet's hashcost) over BTC price, halvings
    marked on both, saved as a PNG."""
    paths = frame["scenario"].nunique()
    months = tables["hashprice_usd_per_ph_day"]["month"]
    x = pd.PeriodIndex(months, freq="M").to_timestamp()
    # Agg canvas on a bare Figure: no pyplot state, no global backend switch
    fig = Figure(figsize=(13, 8.5), layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    what = f"{paths} Monte Carlo paths" if paths > 1 else "single path"
    fig.suptitle(
        f"Market forecast {months.iloc[0]} to {months.iloc[-1]} ({what})",
        fontsize=14,
        fontweight="bold",
    )
    _hashprice_panel(top, x, tables["hashprice_usd_per_ph_day"], paths, breakeven, months)
    _btc_panel(bottom, x, tables["btc_price_usd"], paths)
    halvings = halving_months(frame) if frame["subsidy_btc"].notna().any() else []
    _mark_halvings(top, bottom, halvings)
    fig.savefig(path, dpi=120)


def _hashprice_panel(
    ax: Axes,
    x: pd.DatetimeIndex,
    table: pd.DataFrame,
    paths: int,
    breakeven: pd.DataFrame | None,
    months: pd.Series,
) -> None:
    """The top panel: the hashprice fan with one hashcost line per efficiency class, so the
    reader sees when each class of rig stops paying for its power."""
    _fan(ax, x, table, paths, "tab:blue", "Hashprice")
    if breakeven is not None:
        # one line per efficiency class (portfolio-average hashcost), not per group: readable
        classes = (
            breakeven.groupby(["efficiency_j_per_th", "month"], sort=True)[
                "hashcost_usd_per_ph_day"
            ]
            .mean()
            .unstack("month")[list(months)]
        )
        for (eff, row), style in zip(
            classes.iterrows(), ["--", "-.", ":", (0, (5, 1))] * 10, strict=False
        ):
            ax.plot(
                x,
                row.to_numpy(),
                ls=style,
                color="tab:red",
                lw=1.2,
                label=f"Hashcost {eff:g} J/TH (avg of sites)",
            )
    ax.set_title("Hashprice (mining revenue per PH/s per day)")
    ax.set_ylabel("Hashprice, $ per PH/s per day")
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"${v:,.0f}"))


def _btc_panel(ax: Axes, x: pd.DatetimeIndex, table: pd.DataFrame, paths: int) -> None:
    """The bottom panel: the BTC price fan, in thousands of dollars."""
    _fan(ax, x, table, paths, "tab:orange", "BTC price")
    ax.set_title("BTC price")
    ax.set_ylabel("BTC price, $ per BTC")
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"${v / 1000:,.0f}k"))
    ax.set_xlabel("Month")


def _mark_halvings(top: Axes, bottom: Axes, halvings: list[str]) -> None:
    """Halving months as dashed lines on both panels (labelled once, on the top), then the
    shared grid, margins and legends: these come last so the legends list every line."""
    for ax in (top, bottom):
        for m in halvings:
            ax.axvline(
                pd.Period(m, freq="M").to_timestamp(),
                color="black",
                lw=1.2,
                ls="--",
                label=f"Halving ({m})" if ax is top else None,
            )
        ax.grid(True, alpha=0.3)
        ax.margins(x=0)
    top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)


def _fan(
    ax: Axes, x: pd.DatetimeIndex, table: pd.DataFrame, paths: int, color: str, label: str
) -> None:
    """P5–P95 and P25–P75 bands with the median, or one line for a single path."""
    if paths == 1:
        ax.plot(x, table["p50"].to_numpy(), color=color, lw=2, label=label)
        return
    ax.fill_between(
        x, table["p5"], table["p95"], color=color, alpha=0.15, lw=0, label=f"{label} P5–P95"
    )
    ax.fill_between(
        x, table["p25"], table["p75"], color=color, alpha=0.35, lw=0, label=f"{label} P25–P75"
    )
    ax.plot(x, table["p50"].to_numpy(), color=color, lw=2, label=f"{label} median")
