"""Seeded synthetic portfolios shaped like a real miner, for the benchmark ladder.

``synthetic_portfolio(S, T, K, seed)`` returns a validated :class:`models.Portfolio` with S sites,
a T-month horizon starting 2026-03 and K offered hosting contracts. The numbers follow the ranges
in the bundled example (``inputs/examples/gigawatt_miner.yaml``):

- sites: 50–300 MW of grid, power at $30–80/MWh (a third with a seasonal monthly series),
  2–3 fleet groups from {13.5, 17.5, 21.5, 29.5} J/TH filling 85–99 % of the grid;
- conversions at ~70 % of sites: $7–11M per IT MW, 6–18 months of lead time, AI PUE 1.2–1.4;
- contracts: $100–160/kW-month, 10–15 year terms, starting in the first half of the horizon,
  each eligible at 3–6 random convertible sites, ~20 % with an all-or-nothing minimum;
- market: BTC on a seeded log-random walk from $67,000; hashprice from $35/PH/day following
  BTC, network growth and the 2028-04 / 2032-04 halvings;
- treasury: BTC and cash worth most of the capex the contracts could call for, so the plan is
  normally funded.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from realloc.models import Portfolio

START_MONTH = "2026-03"
EFFICIENCIES_J_PER_TH = (13.5, 17.5, 21.5, 29.5)
# resale $/TH and yearly decay by efficiency (as in the bundled example)
RESALE = {13.5: (12.0, 0.40), 17.5: (7.0, 0.45), 21.5: (4.0, 0.50), 29.5: (2.0, 0.50)}
HALVINGS = ("2028-04", "2032-04", "2036-04")
BTC_START_USD = 67_000.0
HASHPRICE_START = 35.0


def _month_offset(label: str) -> int:
    y0, m0 = (int(p) for p in START_MONTH.split("-"))
    y, m = (int(p) for p in label.split("-"))
    return (y - y0) * 12 + (m - m0)


def _month_label(offset: int) -> str:
    y0, m0 = (int(p) for p in START_MONTH.split("-"))
    total = y0 * 12 + (m0 - 1) + offset
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


def _market(rng: np.random.Generator, months: int) -> tuple[list[float], list[float]]:
    """BTC price (log random walk, +8 %/yr drift) and the hashprice it implies."""
    steps = rng.normal(np.log(1.08) / 12, 0.05, months)
    steps[0] = 0.0
    btc = BTC_START_USD * np.exp(np.cumsum(steps))
    btc = np.clip(btc, 25_000.0, 500_000.0)
    t = np.arange(months)
    halving_idx = [_month_offset(h) for h in HALVINGS]
    halvings = sum((t >= h).astype(float) for h in halving_idx)
    subsidy = 0.506**halvings  # revenue per hash after each halving (subsidy + fees)
    # network hash grows 1.5 %/month, ~20 % unplugs after a halving, then grows 0.6 %/month
    growth = np.where(halvings > 0, 0.006, 0.015)
    hashrate = np.exp(np.cumsum(np.r_[0.0, growth[1:]]))
    hashrate = hashrate * 0.8**halvings
    noise = np.exp(rng.normal(0.0, 0.03, months))
    hashprice = HASHPRICE_START * (btc / BTC_START_USD) / hashrate * subsidy * noise
    return [round(float(v), 2) for v in btc], [round(float(v), 3) for v in hashprice]


def _power_price(rng: np.random.Generator, months: int) -> float | list[float]:
    level = float(rng.uniform(30.0, 80.0))
    if rng.random() >= 1 / 3:
        return round(level, 2)
    t = np.arange(months)
    seasonal = 1 + 0.2 * np.sin(2 * np.pi * (t + 3) / 12)  # summer peak
    escalation = 1.02 ** (t / 12)
    series = level * seasonal * escalation * np.exp(rng.normal(0, 0.03, months))
    return [round(float(v), 2) for v in series]


def synthetic_data(sites: int, months: int, contracts: int, seed: int = 0) -> dict[str, Any]:
    """The portfolio as plain data (what a YAML file would hold), before validation."""
    if sites < 1 or months < 2 or contracts < 0:
        raise ValueError("need sites ≥ 1, months ≥ 2 and contracts ≥ 0")
    rng = np.random.default_rng(seed)
    site_rows: list[dict[str, Any]] = []
    convertible: list[int] = []
    capex: dict[int, float] = {}
    lead: dict[int, int] = {}
    for s in range(sites):
        name = f"Site {s:03d}"
        grid = float(rng.integers(50, 301))
        mining_pue = round(float(rng.uniform(1.03, 1.08)), 3)
        n_groups = int(rng.integers(2, 4))
        effs = rng.choice(EFFICIENCIES_J_PER_TH, size=n_groups, replace=False)
        shares = rng.dirichlet(np.ones(n_groups))
        fleet_mw = grid * float(rng.uniform(0.85, 0.99)) / mining_pue
        fleets = []
        for g, (eff, share) in enumerate(zip(effs, shares, strict=True)):
            resale, decay = RESALE[float(eff)]
            fleets.append(
                dict(
                    name=f"{name} G{g} {eff:g}J",
                    power_mw=round(max(1.0, fleet_mw * float(share)), 2),
                    efficiency_j_per_th=float(eff),
                    resale_usd_per_th=resale,
                    resale_decay_per_year=decay,
                )
            )
        row: dict[str, Any] = dict(
            name=name,
            grid_mw=grid,
            power_price_usd_per_mwh=_power_price(rng, months),
            mining_pue=mining_pue,
            availability_share=round(float(rng.uniform(0.95, 0.98)), 3),
            mining_opex_usd_per_mw_month=float(rng.integers(25, 36)) * 100,
            fleets=fleets,
        )
        if rng.random() < 0.7:
            ai_pue = round(float(rng.uniform(1.2, 1.4)), 2)
            capex[s] = float(rng.uniform(7e6, 11e6))
            lead[s] = int(rng.integers(6, 19))
            row["conversion"] = dict(
                max_it_mw=round(grid * float(rng.uniform(0.6, 0.95)) / ai_pue, 1),
                capex_usd_per_it_mw=round(capex[s], -4),
                lead_months=lead[s],
                ai_pue=ai_pue,
                ai_opex_usd_per_kw_month=float(rng.integers(15, 23)),
            )
            convertible.append(s)
        site_rows.append(row)
    if not convertible:  # at least one site must be able to host
        s = 0
        capex[s], lead[s] = 9e6, 12
        site_rows[s]["conversion"] = dict(
            max_it_mw=round(site_rows[s]["grid_mw"] * 0.8 / 1.3, 1),
            capex_usd_per_it_mw=9e6,
            lead_months=12,
            ai_pue=1.3,
            ai_opex_usd_per_kw_month=20.0,
        )
        convertible.append(s)

    contract_rows: list[dict[str, Any]] = []
    callable_capex = 0.0
    half = max(1, months // 2)
    for k in range(contracts):
        n_eligible = min(len(convertible), int(rng.integers(3, 7)))
        eligible = sorted(int(i) for i in rng.choice(convertible, n_eligible, replace=False))
        max_it = float(rng.integers(20, 201))
        row = dict(
            name=f"Contract {k:03d}",
            rate_usd_per_kw_month=round(float(rng.uniform(100.0, 160.0)), 2),
            escalator_per_year=round(float(rng.choice([0.0, 0.02, 0.03])), 3),
            start_month=_month_label(int(rng.integers(0, half))),
            term_months=int(rng.integers(10, 16)) * 12,
            max_it_mw=max_it,
            eligible_sites=[site_rows[i]["name"] for i in eligible],
            power_pass_through=bool(rng.random() < 0.85),
            tenant_capex_share=round(float(rng.choice([0.0, 0.0, 0.0, 0.5, 0.75])), 2),
        )
        if rng.random() < 0.2:
            row["min_it_mw"] = round(max_it * float(rng.uniform(0.3, 0.6)), 1)
        contract_rows.append(row)
        callable_capex += max_it * float(np.mean([capex[i] for i in eligible]))
    convertible_capex = sum(site_rows[s]["conversion"]["max_it_mw"] * capex[s] for s in convertible)
    need_usd = min(callable_capex, convertible_capex)

    btc, hashprice = _market(rng, months)
    # a treasury worth ~60 % of the capex the contracts could call for (mining cash and tenant
    # prepayments cover most of the rest), floors ~5 %, market depth spreading sales over a year
    min_cash = round(0.05 * need_usd + 10e6, -6)
    stack_btc = round(0.45 * need_usd / btc[0] + 100.0)
    treasury = dict(
        btc=float(stack_btc),
        cash_usd=round(0.15 * need_usd + min_cash + 50e6, -6),
        min_cash_usd=min_cash,
        min_btc=float(round(0.05 * stack_btc)),
        max_btc_sold_per_month=float(max(100.0, round(stack_btc / 6))),
        sale_cost_bps=25.0,
    )
    return dict(
        name=f"synthetic {sites}x{months}x{contracts} seed {seed}",
        start_month=START_MONTH,
        months=months,
        discount_rate_per_year=0.11,
        pool_fee_share=0.02,
        terminal_value=True,
        sites=site_rows,
        contracts=contract_rows,
        market=dict(btc_price_usd=btc, hashprice_usd_per_ph_day=hashprice),
        treasury=treasury,
    )


def synthetic_portfolio(sites: int, months: int, contracts: int, seed: int = 0) -> Portfolio:
    """A validated synthetic portfolio (see the module docstring for the ranges)."""
    return Portfolio.model_validate(synthetic_data(sites, months, contracts, seed))
