"""Verification of grid held and sold, from grid.csv and plan.csv alone (optimizer/verify.py
calls these; the builder's side is optimizer/grid_terms.py).

The MW sold are read from grid.csv's ``sold_mw``; everything else is re-derived from them and
the portfolio: the grid kept (``P_s − Σ_{τ≤t} sold``), the hold cost on it, the sale proceeds,
and plan.csv's ``grid_sold`` rows (grid released so far). The cash and value checks then read
the flows put into the ledger here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from realloc.models import month_index
from realloc.optimizer.written import U_MW, U_USD


def _sold_by_site(c, grid: pd.DataFrame | None) -> dict[int, np.ndarray]:
    """{site index: [T] MW sold by month} from grid.csv (rows of unknown sites or months are
    ignored here and refused by ``_table_figures``). Without grid.csv (a caller that reads
    only the other tables) from plan.csv's ``grid_sold`` rows: the grid released so far,
    month by month."""
    site_of = {s.name: i for i, s in enumerate(c.p.sites)}
    out: dict[int, np.ndarray] = {}
    if grid is None or grid.empty:
        released = c.by_use["grid_sold"]["power_mw"]  # [S, T] cumulative
        for si in np.flatnonzero(np.abs(released).sum(axis=1) > 0):
            out[int(si)] = np.diff(released[si], prepend=0.0)
        return out
    for r in grid.itertuples():
        si, t = site_of.get(r.site), c.pos.get(r.month)
        if si is None or t is None:
            continue
        out.setdefault(si, np.zeros(c.T))[t] += float(r.sold_mw)
    return out


def _first_sale(c, site) -> int:
    """First month index a sale may close (T: none), as grid_terms.grid_inputs decides."""
    if site.grid_sale_usd_per_mw is None:
        return c.T
    if site.grid_sale_first_month is None:
        return 0
    return min(c.T, max(0, month_index(c.p.start_month, site.grid_sale_first_month)))


def grid_ledger(c, grid: pd.DataFrame) -> None:
    """Hold cost on the grid kept and sale proceeds into ``c.ledger`` (month by month), and
    the re-derived kept grid per site into ``c.grid_kept``."""
    sold_of = _sold_by_site(c, grid)
    c.grid_sold = sold_of
    for si, site in enumerate(c.p.sites):
        sold = sold_of.get(si, np.zeros(c.T))
        kept = site.grid_mw - np.cumsum(sold)
        n_so_far = np.arange(c.T) + 1  # one sold figure per month so far, each read to U_MW
        if site.grid_hold_cost_usd_per_mw_month > 0:
            hold = site.grid_hold_cost_usd_per_mw_month
            c.ledger.add("grid_hold_cost_usd", slice(None), -hold * kept, hold * U_MW * n_so_far)
        if site.grid_sale_usd_per_mw is not None:
            price = site.grid_sale_usd_per_mw
            # each month's MW sold read to U_MW (twice that when taken as the difference of
            # two months' released grid in plan.csv)
            c.ledger.add("grid_sale_usd", slice(None), price * sold, 2 * price * U_MW)


def grid_kept_rows(c, rows_cls, grid: pd.DataFrame) -> object:
    """``add_grid_kept`` and the bounds of ``grid_kept``/``grid_sold``: MW sold (grid.csv) only
    at sites with a sale option, from their first sale month, never negative, never below the
    existing AI halls' draw; grid.csv's kept MW and USD columns and plan.csv's ``grid_sold``
    rows equal what the MW sold give."""
    rows = rows_cls("grid_kept", "MW", c.rel)
    sold_of = c.grid_sold
    plan_sold = c.by_use["grid_sold"]["power_mw"]
    for si, site in enumerate(c.p.sites):
        sold = sold_of.get(si, np.zeros(c.T))
        where = [f"{site.name} {m}" for m in c.months]
        cum = np.cumsum(sold)
        err = U_MW * (np.arange(c.T) + 1)
        first = _first_sale(c, site)
        rows.add(np.abs(sold[:first]), 0.0, U_MW, where[:first])  # no sale before it may close
        rows.add(-sold, 0.0, U_MW, where)
        floor = site.conversion.ai_pue * site.conversion.existing_it_mw if site.conversion else 0
        rows.add(cum - (site.grid_mw - floor), site.grid_mw, err, where)
        rows.add(np.abs(plan_sold[si] - cum), cum, err + U_MW, where)
    if grid is not None and not grid.empty:
        _table_figures(c, rows, grid)
    return rows.check()


def _table_figures(c, rows, grid: pd.DataFrame) -> None:
    """grid.csv's ``grid_mw`` and ``kept_mw`` against the interconnect less the MW sold so far,
    and its USD columns against the hold cost and proceeds they give (in MW: USD over the
    site's rate)."""
    site_of = {s.name: s for s in c.p.sites}
    seen: dict[str, float] = {}
    for r in grid.itertuples():
        site = site_of.get(r.site)
        if site is None or r.month not in c.pos:
            rows.add(1.0, 0.0, 0.0, f"grid.csv names {r.site} {r.month}")
            continue
        cum = seen[r.site] = seen.get(r.site, 0.0) + float(r.sold_mw)
        n = c.pos[r.month] + 1
        where = f"{r.site} {r.month}"
        rows.add(abs(r.grid_mw - site.grid_mw), site.grid_mw, U_MW, where)
        rows.add(abs(r.kept_mw - (site.grid_mw - cum)), site.grid_mw, U_MW * (n + 1), where)
        hold = site.grid_hold_cost_usd_per_mw_month
        rows.add(
            abs(r.hold_cost_usd + hold * r.kept_mw) / max(hold, 1.0),
            r.kept_mw,
            U_MW + U_USD / max(hold, 1.0),
            where,
        )
        price = site.grid_sale_usd_per_mw or 0.0
        rows.add(
            abs(r.sale_usd - price * r.sold_mw) / max(price, 1.0),
            r.sold_mw,
            U_MW + U_USD / max(price, 1.0),
            where,
        )


def build_blocks_rows(c, rows_cls) -> object:
    """``add_build_blocks``: every build of conversions.csv is a whole number of the site's
    blocks (unless relaxed: ``--relax`` drops integrality)."""
    rows = rows_cls("build_blocks", "MW", c.rel)
    block = {
        s.name: s.conversion.block_it_mw
        for s in c.p.sites
        if s.conversion and s.conversion.block_it_mw
    }
    if c.relaxed:
        return rows.check()
    for r in c.conversions.itertuples():
        b = block.get(r.site)
        if b:
            off = abs(r.it_mw - b * round(r.it_mw / b))
            rows.add(off, r.it_mw, U_MW, f"{r.site} {r.start_month}")
    return rows.check()
