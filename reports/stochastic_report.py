"""Files of a stochastic plan: scenario values, the efficient frontier, and their charts.

- ``scenario_values.csv`` — per scenario: probability, plan value, status-quo value;
- ``frontier.csv`` — per CVaR weight λ: expected value, CVaR, P5, worst value, IT MW converted;
- ``frontier.png`` — expected value against CVaR, one point per λ, the chosen plan marked;
- ``value_distribution.png`` — the plan's and the status quo's value across scenarios, with
  expected value, CVaR and P5/P95 marked.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from realloc.reports.safe_text import write_csv

if TYPE_CHECKING:  # matplotlib is imported when a chart is drawn (0.3 s a deterministic plan
    from matplotlib.figure import Figure  # and every CLI start would otherwise pay)


def _musd():
    """Axis labels in $M."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: f"${v / 1e6:,.0f}M")


def _figure(**kwargs) -> Figure:
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def write_stochastic_files(
    stage: Path, scenario_values: pd.DataFrame, frontier: pd.DataFrame | None, block: dict
) -> None:
    """Write the stochastic files into ``stage`` (the plan's staged output folder)."""
    write_csv(scenario_values, stage / "scenario_values.csv")
    _distribution_chart(scenario_values, block, stage / "value_distribution.png")
    if frontier is not None and not frontier.empty:
        write_csv(frontier, stage / "frontier.csv")
        _frontier_chart(frontier, block, stage / "frontier.png")


def _save(fig: Figure, path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    # no timestamp in the PNG metadata: the same inputs give the same bytes
    fig.savefig(path, dpi=110, metadata={"Software": None})


def _frontier_chart(frontier: pd.DataFrame, block: dict, path: Path) -> None:
    fig = _figure(figsize=(7.5, 4.8), layout="constrained")
    ax = fig.add_subplot()
    f = frontier.sort_values("risk_weight")
    ax.plot(f["cvar_usd"], f["expected_value_usd"], "-o", color="#1f5fa8", zorder=2)
    # weights that give the same plan share one label ("λ=0.3–1")
    xy = f[["cvar_usd", "expected_value_usd"]]
    close = 0.01 * max(float((xy.max() - xy.min()).max()), 1.0)  # 1% of the chart's span
    same = (xy.diff().abs().max(axis=1) > close).cumsum()
    for _, group in f.groupby(same.to_numpy(), sort=False):
        lo, hi = group["risk_weight"].iloc[0], group["risk_weight"].iloc[-1]
        weights = f"λ={lo:g}" if lo == hi else f"λ={lo:g}–{hi:g}"
        row = group.iloc[0]
        ax.annotate(
            f"{weights}\n{row['it_mw_converted']:,.0f} MW",
            (row["cvar_usd"], row["expected_value_usd"]),
            textcoords="offset points",
            xytext=(6, -4),
            fontsize=8,
        )
    chosen = f[np.isclose(f["risk_weight"], block.get("risk_weight", 0.0))]
    if not chosen.empty:
        ax.scatter(
            chosen["cvar_usd"],
            chosen["expected_value_usd"],
            s=160,
            facecolors="none",
            edgecolors="#c0392b",
            linewidths=2,
            label="this plan",
            zorder=3,
        )
        ax.legend(loc="lower left")
    alpha = block.get("cvar_alpha", 0.95)
    ax.set_xlabel(f"CVaR {alpha:.0%}: mean value of the worst {1 - alpha:.0%} of paths")
    ax.margins(x=0.12, y=0.12)
    ax.set_ylabel("expected value")
    ax.xaxis.set_major_formatter(_musd())
    ax.yaxis.set_major_formatter(_musd())
    ax.set_title("Efficient frontier: expected value against downside (CVaR)")
    ax.grid(alpha=0.3)
    _save(fig, path)


def _distribution_chart(values: pd.DataFrame, block: dict, path: Path) -> None:
    fig = _figure(figsize=(7.5, 4.2), layout="constrained")
    ax = fig.add_subplot()
    plan, base = values["value_usd"], values["baseline_value_usd"]
    bins = np.histogram_bin_edges(pd.concat([plan, base]).dropna(), bins=min(30, len(values) + 1))
    ax.hist(
        base.dropna(),
        bins=bins,
        weights=values["probability"][base.notna()],
        alpha=0.45,
        color="#7f7f7f",
        label="status quo",
    )
    ax.hist(
        plan, bins=bins, weights=values["probability"], alpha=0.65, color="#1f5fa8", label="plan"
    )
    marks = [
        ("expected_value_usd", "expected", "#111111", "-"),
        ("cvar_usd", f"CVaR {block.get('cvar_alpha', 0.95):.0%}", "#c0392b", "--"),
        ("p5_value_usd", "P5", "#e67e22", ":"),
        ("p95_value_usd", "P95", "#27ae60", ":"),
    ]
    for key, label, color, style in marks:
        if block.get(key) is not None:
            ax.axvline(block[key], color=color, linestyle=style, label=f"{label} (plan)")
    ax.xaxis.set_major_formatter(_musd())
    ax.set_xlabel("value over the horizon (discounted)")
    ax.set_ylabel("probability")
    ax.set_title(f"Plan value across {len(values)} market paths")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    _save(fig, path)
