"""Grid held and sold, and halls built in blocks: the site-economics families of issue 15.

Kept apart from optimizer/build.py, which only calls the hooks here:

- ``grid_kept[s,t]`` (MW of interconnect still held in month t) exists at every site with a hold
  cost or a sale price; ``grid_sold[s,t]`` (MW released in month t, first stage) from the site's
  first sale month on. Family ``grid_kept``: ``grid_kept[s,t] = grid_kept[s,t−1] − grid_sold[s,t]``,
  ``grid_kept[s,−1] = P_s``; its lower bound ``η_s·E_s`` keeps the existing AI halls' draw.
  At a site with a sale option the site_power row reads the kept grid instead of ``P_s``.
- Value terms ``grid_hold_cost_usd`` (−hold × grid_kept, every month, status quo too) and
  ``grid_sale_usd`` (+price × grid_sold in the month of the sale); both are cash.
- ``blocks[s,t]`` (integer unless relaxed) at sites with ``block_it_mw``: the blocks started by
  month t. Family ``build_blocks``: ``cum_build[s,t] = B_s · blocks[s,t]``, so every month's
  start ``build[s,t] = B_s · (blocks[s,t] − blocks[s,t−1])`` is a whole number of blocks.
  Cumulative counts branch far better than per-month ones (one branch on "at least n blocks by
  month t" instead of many on equivalent monthly splits).

This module never imports the builder (the builder imports it): ``m`` is the builder's Model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pulp

from realloc.models import month_index
from realloc.optimizer.index import USD_PER_MUSD

GRID_TERMS = ("grid_hold_cost_usd", "grid_sale_usd")
"""The value terms of this module (appended to OBJECTIVE_TERMS)."""


@dataclass(frozen=True)
class GridInputs:
    """Per site: hold cost ($/MW-month), sale price ($/MW, NaN: no sale), first month a sale
    may close (T: none inside the horizon) and block size (IT MW, 0: continuous builds)."""

    hold: np.ndarray
    sale: np.ndarray
    first_sale: np.ndarray
    block: np.ndarray
    n_months: int

    def kept_sites(self) -> list[int]:
        """Sites with a grid_kept column: a hold cost, or a sale possible inside the horizon."""
        return [s for s in range(len(self.hold)) if self.hold[s] > 0 or self.can_sell(s)]

    def can_sell(self, s: int) -> bool:
        return bool(not np.isnan(self.sale[s]) and self.first_sale[s] < self.n_months)


def grid_inputs(ix) -> GridInputs:
    """The site figures of this module, read once per index.

    A first sale month before the horizon means a sale may close from month 0; one after its
    end means no sale inside the horizon (no column)."""
    cache = ix.__dict__.setdefault("_grid_cache", {})
    if "inputs" not in cache:
        p, T = ix.portfolio, ix.n_months
        sites = p.sites
        first = []
        for s in sites:
            if s.grid_sale_usd_per_mw is None:
                first.append(T)
            elif s.grid_sale_first_month is None:
                first.append(0)
            else:
                first.append(max(0, month_index(p.start_month, s.grid_sale_first_month)))
        cache["inputs"] = GridInputs(
            hold=np.array([s.grid_hold_cost_usd_per_mw_month for s in sites], dtype=float),
            sale=np.array(
                [
                    np.nan if s.grid_sale_usd_per_mw is None else s.grid_sale_usd_per_mw
                    for s in sites
                ],
                dtype=float,
            ),
            first_sale=np.minimum(np.array(first, dtype=int), T),
            block=np.array(
                [(s.conversion.block_it_mw or 0.0) if s.conversion else 0.0 for s in sites],
                dtype=float,
            ),
            n_months=T,
        )
    return cache["inputs"]


def add_grid_variables(m) -> None:
    """``grid_kept`` and ``grid_sold`` columns (first stage), and ``blocks`` (integer unless
    ``m.relax``: blocks started by month t) where builds come in blocks."""
    ix = m.index
    gi = grid_inputs(ix)
    S, T = len(ix.sites), ix.n_months
    m.grid_kept = np.full((S, T), -1, dtype=int)
    m.grid_sold = np.full((S, T), -1, dtype=int)
    m.blocks = np.full((S, T), -1, dtype=int)
    for s in gi.kept_sites():
        P = float(ix.grid_mw[s])
        floor = float(ix.ai_pue[s] * ix.existing_it_mw[s]) if gi.can_sell(s) else P
        for t in range(T):
            m.grid_kept[s, t] = m.var(f"grid_kept_{s}_{t}", min(floor, P), P)
            if gi.can_sell(s) and t >= gi.first_sale[s]:
                m.grid_sold[s, t] = m.var(f"grid_sold_{s}_{t}")
    cat = pulp.LpContinuous if m.relax else pulp.LpInteger
    for s in ix.conv_sites:
        if gi.block[s] > 0:
            for t in range(T):
                if m.build[s, t] >= 0:
                    m.blocks[s, t] = m.var(f"blocks_{s}_{t}", 0.0, None, cat)


def add_grid_kept(m) -> None:
    """grid_kept[s,t] = grid_kept[s,t−1] − grid_sold[s,t], grid_kept[s,−1] = P_s; the MW sold
    lower the site's grid from the month of the sale on (sites with a sale option; elsewhere the
    column is fixed at P_s by its bounds)."""
    ix = m.index
    gi = grid_inputs(ix)
    for s in gi.kept_sites():
        if not gi.can_sell(s):
            continue
        for t in range(ix.n_months):
            pairs = {int(m.grid_kept[s, t]): 1.0}
            if m.grid_sold[s, t] >= 0:
                pairs[int(m.grid_sold[s, t])] = 1.0
            if t > 0:
                pairs[int(m.grid_kept[s, t - 1])] = -1.0
            rhs = float(ix.grid_mw[s]) if t == 0 else 0.0
            m.row("grid_kept", (s, t), pairs, pulp.LpConstraintEQ, rhs)


def add_build_blocks(m) -> None:
    """cum_build[s,t] = B_s · blocks[s,t]: the IT MW started by each month, hence in each month,
    is a whole number of blocks (blocks integer unless ``--relax``)."""
    ix = m.index
    gi = grid_inputs(ix)
    S, T = m.blocks.shape
    for s in range(S):
        for t in range(T):
            if m.blocks[s, t] >= 0:
                pairs = {int(m.cum_build[s, t]): 1.0, int(m.blocks[s, t]): -float(gi.block[s])}
                m.row("build_blocks", (s, t), pairs, pulp.LpConstraintEQ, 0.0)


def site_power_grid(m, s: int, t: int, pairs: dict[int, float], rhs: float) -> float:
    """The site_power row of a site with a sale option reads the grid kept: P_s − Σ_{τ≤t}
    grid_sold[s,τ] = grid_kept[s,t], so ``… ≤ P_s − η_s E_s`` becomes ``… − grid_kept[s,t] ≤
    −η_s E_s``. Adds the column to ``pairs`` and returns the right-hand side."""
    if m.grid_kept is None or not grid_inputs(m.index).can_sell(s):
        return rhs
    pairs[int(m.grid_kept[s, t])] = pairs.get(int(m.grid_kept[s, t]), 0.0) - 1.0
    return rhs - float(m.index.grid_mw[s])


def grid_flows(m, t: int, terms: dict[str, dict[int, float]]) -> None:
    """Month t's hold cost (−hold × grid_kept) and sale proceeds (+price × grid_sold), $M."""
    gi = grid_inputs(m.index)
    for s in gi.kept_sites():
        if gi.hold[s] > 0:
            terms["grid_hold_cost_usd"][int(m.grid_kept[s, t])] = -gi.hold[s] / USD_PER_MUSD
        if m.grid_sold[s, t] >= 0:
            terms["grid_sale_usd"][int(m.grid_sold[s, t])] = gi.sale[s] / USD_PER_MUSD


def grid_first_stage(m) -> list[np.ndarray]:
    """First-stage columns of this module (for stochastic.first_stage_columns)."""
    return [m.grid_kept[m.grid_kept >= 0], m.grid_sold[m.grid_sold >= 0], m.blocks[m.blocks >= 0]]


def grid_baseline_bounds(m, lb: np.ndarray, ub: np.ndarray) -> None:
    """The status quo sells no grid and builds no blocks (in place)."""
    ub[m.grid_sold[m.grid_sold >= 0]] = 0.0
    ub[m.blocks[m.blocks >= 0]] = 0.0
