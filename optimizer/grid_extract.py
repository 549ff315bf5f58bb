"""The grid table (grid.csv), plan.csv's ``grid_sold`` rows and the idle grid figures.

grid.csv has one row per site with a hold cost or a sale option and month: the interconnect
``grid_mw``, the MW ``sold_mw`` released that month, the MW ``kept_mw`` held after it, its hold
cost and the sale proceeds (USD, undiscounted). Empty (and not written) when no site has either.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from realloc.optimizer.grid_terms import grid_inputs
from realloc.optimizer.written import EPS, MW, USD

GRID_COLUMNS = ["site", "month", "grid_mw", "sold_mw", "kept_mw", "hold_cost_usd", "sale_usd"]


def _clean(v: float, digits: int) -> float:
    return 0.0 if abs(v) < EPS else round(float(v), digits) + 0.0


def sold_cumulative(m, x: np.ndarray) -> np.ndarray:
    """[S, T] grid MW released by the end of each month (0 where no sale is possible)."""
    if m.grid_sold is None:
        return np.zeros((len(m.index.sites), m.index.n_months))
    sold = np.where(m.grid_sold >= 0, x[np.maximum(m.grid_sold, 0)], 0.0)
    return np.cumsum(sold, axis=1)


def grid_table(m, x: np.ndarray) -> pd.DataFrame:
    """grid.csv: per site with a grid_kept column and month, sold, kept, hold cost, proceeds."""
    ix = m.index
    gi = grid_inputs(ix)
    rows = []
    for s in gi.kept_sites():
        for t, month in enumerate(ix.months):
            sold = float(x[m.grid_sold[s, t]]) if m.grid_sold[s, t] >= 0 else 0.0
            kept = float(x[m.grid_kept[s, t]])
            rows.append(
                {
                    "site": ix.sites[s],
                    "month": month,
                    "grid_mw": _clean(ix.grid_mw[s], MW),
                    "sold_mw": _clean(sold, MW),
                    "kept_mw": _clean(kept, MW),
                    "hold_cost_usd": _clean(-gi.hold[s] * kept, USD),
                    "sale_usd": _clean(0.0 if np.isnan(gi.sale[s]) else gi.sale[s] * sold, USD),
                }
            )
    return pd.DataFrame(rows, columns=GRID_COLUMNS)


def grid_sold_rows(ix, sold_cum: np.ndarray) -> list[tuple]:
    """plan.csv rows ``grid_sold`` (kind 3, after ready_idle): grid MW released so far, per
    scenario, site and month where above 1e-7 MW (the same in every scenario: first stage)."""
    s_, t_ = np.nonzero(sold_cum > EPS)
    if not len(s_):
        return []
    return [
        (
            np.full(len(s_), w),
            s_,
            t_,
            3,
            np.ones(len(s_), dtype=int),
            "grid_sold",
            "",
            sold_cum[s_, t_],
            np.zeros(len(s_)),
        )
        for w in range(len(ix.scenarios))
    ]


def idle_grid(plan: pd.DataFrame, portfolio, probability: dict[str, float] | None) -> dict:
    """Idle grid from plan.csv's ``unused`` rows (grid kept but neither mining, hosting,
    constructing nor sold; halls ready without a tenant reserve their grid and are shown as
    ``ready_idle``, not here): MW-months and their hold cost (USD,
    undiscounted), expected over the market paths when there are several."""
    unused = plan[plan["use"] == "unused"]
    hold = {s.name: s.grid_hold_cost_usd_per_mw_month for s in portfolio.sites}
    weight = (
        unused["scenario"].map(probability).to_numpy(dtype=float)
        if probability and "scenario" in unused.columns
        else np.ones(len(unused))
    )
    mw = unused["power_mw"].to_numpy(dtype=float) * weight
    cost = mw * unused["site"].map(hold).fillna(0.0).to_numpy(dtype=float)
    return {
        "idle_grid_mw_months": round(float(mw.sum()), MW) + 0.0,
        "idle_grid_cost_usd": round(float(cost.sum()), USD) + 0.0,
    }
