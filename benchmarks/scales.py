"""Seeded random portfolios across very different scales, planned and verified from their
written tables: ``python -m benchmarks.scales`` (a sweep of any size; tests/test_properties.py
runs a few dozen of them on every test run).

    python -m benchmarks.scales --seeds 0:1000              # deterministic plans
    python -m benchmarks.scales --seeds 0:200 --stochastic  # two-stage plans with a CVaR weight
    python -m benchmarks.scales --seeds 0:100 --solver cbc

It prints, per verification family, the worst violation as a share of its tolerance, and every
plan that fails (exit 1 when one does).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from realloc.models import Portfolio
from realloc.models.scenarios import RiskSpec
from realloc.optimizer.index import Scenario


def random_portfolio(seed: int) -> Portfolio:
    """A seeded random portfolio drawn across very different scales: 0.01 MW sites to 5,000 MW
    portfolios, 1 to 120 months, BTC at $1e3 to $1e6, cash from 0 to $1e11, up to 12 fleet
    groups on a site, discounting on or off, offered and signed contracts with prepayments;
    rig efficiency 5–100 J/TH, resale to $200/TH, capex $0.1M–$100M per IT MW, power
    $5–500/MWh, rent $20–2,000/kW-month, hashprice $1–500/PH/day. Scales are log-uniform so the
    small and the large are drawn as often as the middle."""
    rng = np.random.default_rng(seed)

    def logu(lo: float, hi: float) -> float:
        return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))

    months = int(rng.choice([1, 2, 3, 7, 12, 13, 36, 60, 120]))
    total_mw = logu(0.01, 5000)
    n_sites = int(rng.integers(1, 4))
    share = rng.dirichlet(np.ones(n_sites))
    sites = [_random_site(rng, logu, f"s{i}", total_mw * share[i], months) for i in range(n_sites)]
    btc_price = logu(1e3, 1e6)
    return Portfolio.model_validate(
        dict(
            name=f"random {seed}",
            start_month="2026-01",
            months=months,
            discount_rate_per_year=float(rng.choice([0.0, rng.uniform(0.01, 0.3)])),
            pool_fee_share=float(rng.uniform(0, 0.03)),
            terminal_value=bool(rng.integers(2)),
            sites=sites,
            contracts=_random_contracts(rng, logu, sites, months),
            market=dict(
                btc_price_usd=[
                    btc_price * (1 + rng.uniform(-0.02, 0.03)) ** t for t in range(months)
                ],
                hashprice_usd_per_ph_day=logu(1, 500),
            ),
            treasury=dict(
                btc=float(rng.choice([0.0, logu(1e-4, 1e5)])),
                cash_usd=float(rng.choice([0.0, logu(1.0, 1e11)])),
                min_cash_usd=float(rng.choice([0.0, logu(1.0, 1e8)])),
                max_btc_sold_per_month=logu(1e-2, 1e6),
                sale_cost_bps=float(rng.uniform(0, 100)),
            ),
        )
    )


def _random_site(rng, logu, name: str, mw: float, months: int) -> dict:
    n_fleets = int(rng.choice([0, 1, 2, 3, 12]))
    parts = rng.dirichlet(np.ones(max(1, n_fleets))) * mw
    fleets = [
        dict(
            name=f"{name}g{j}",
            power_mw=float(parts[j]),
            efficiency_j_per_th=logu(5, 100),
            resale_usd_per_th=float(rng.choice([0.0, logu(0.1, 200)])),
            resale_decay_per_year=float(rng.uniform(0, 0.7)),
        )
        for j in range(n_fleets)
    ]
    pue = float(rng.uniform(1.0, 1.15))
    grid = mw * pue * rng.uniform(0.7, 1.3) + mw * rng.uniform(0, 0.5)
    conversion = None
    if not fleets or rng.random() < 0.7:
        max_it = grid / 1.3 * rng.uniform(0.1, 1.0)
        conversion = dict(
            max_it_mw=max_it,
            existing_it_mw=float(rng.choice([0.0, max_it * rng.uniform(0, 0.5)])),
            capex_usd_per_it_mw=logu(1e5, 1e8),
            lead_months=int(rng.integers(0, min(18, months) + 1)),
            ai_pue=float(rng.uniform(1.05, 1.5)),
            ai_opex_usd_per_kw_month=float(rng.uniform(0, 30)),
        )
    price = logu(5, 500)
    return dict(
        name=name,
        grid_mw=max(grid, 1e-3),
        power_price_usd_per_mwh=[float(price * rng.uniform(0.8, 1.2)) for _ in range(months)],
        mining_pue=pue,
        availability_share=float(rng.uniform(0.85, 1.0)),
        mining_opex_usd_per_mw_month=float(rng.uniform(0, 8000)),
        fleets=fleets,
        conversion=conversion,
    )


def _random_contracts(rng, logu, sites: list[dict], months: int) -> list[dict]:
    conv = [s for s in sites if s["conversion"]]
    contracts = []
    for k in range(int(rng.integers(0, 4)) if conv else 0):
        site = conv[int(rng.integers(len(conv)))]
        existing = site["conversion"]["existing_it_mw"]
        size = site["conversion"]["max_it_mw"] * rng.uniform(0.2, 1.5)
        signed = existing > 0 and rng.random() < 0.3
        contract = dict(
            name=f"c{k}",
            rate_usd_per_kw_month=logu(20, 2000),
            escalator_per_year=float(rng.uniform(0, 0.04)),
            start_month=f"{2026 + (a := int(rng.integers(0, months))) // 12}-{a % 12 + 1:02d}",
            term_months=int(rng.integers(1, 181)),
            max_it_mw=size,
            min_it_mw=float(rng.choice([0.0, 0.0, size * rng.uniform(0.1, 0.9)])),
            eligible_sites=sorted({site["name"], *(s["name"] for s in conv if rng.random() < 0.5)}),
            power_pass_through=bool(rng.integers(2)),
            tenant_capex_share=float(rng.choice([0.0, 0.5, 1.0])),
        )
        if signed:  # live from the start in the existing hall, so the plan stays feasible
            mw = existing * rng.uniform(0.1, 1.0) / 4  # four at most: within the hall
            contract |= dict(start_month="2025-10", min_it_mw=0.0, max_it_mw=mw)
            contract["signed_it_mw"] = {site["name"]: mw}
        contracts.append(contract)
    return contracts


def random_scenarios(p: Portfolio, seed: int, n: int = 4) -> list:
    """``n`` seeded market paths around ``p``'s market (BTC price and hashprice scaled by 0.3×
    to 3×), with random probabilities, for two-stage plans of ``random_portfolio``."""
    rng = np.random.default_rng(seed)
    prob = rng.dirichlet(np.ones(n))
    scenarios = []
    for w in range(n):
        btc, hp = (np.exp(rng.uniform(np.log(0.3), np.log(3), p.months)) for _ in range(2))
        base_btc = np.broadcast_to(p.market.btc_price_usd, (p.months,))
        base_hp = np.broadcast_to(p.market.hashprice_usd_per_ph_day, (p.months,))
        market = p.market.model_copy(
            update=dict(
                btc_price_usd=(base_btc * btc).tolist(),
                hashprice_usd_per_ph_day=(base_hp * hp).tolist(),
            )
        )
        scenarios.append(Scenario(f"w{w}", float(prob[w]), market))
    return scenarios


TABLES = ("plan", "treasury", "conversions", "contracts", "rig_sales")


def verify_written(p: Portfolio, result, folder: Path, solver: str = "highs"):
    """Write the plan to ``folder`` and verify it again from the CSV files alone (as a user's
    script would read them): what the files say must pass, not only what was in memory."""
    from realloc.optimizer.verify import relative_tolerance, verify
    from realloc.reports.plan_files import write_plan

    write_plan(result, folder)
    read = {name: pd.read_csv(folder / f"{name}.csv") for name in TABLES}
    gap = pd.read_csv(folder / "cashflows.csv")[["month", "funding_gap_usd"]]
    return verify(
        p,
        *(read[name] for name in TABLES),
        gap.rename(columns={"funding_gap_usd": "gap_usd"}),
        result.value_usd,
        relaxed=result.relaxed,
        rel=relative_tolerance(solver),
    )


def plan_one(seed: int, stochastic: bool = False, solver: str = "highs"):
    """Plan ``random_portfolio(seed)`` (two-stage with a CVaR weight when ``stochastic``)."""
    from realloc.optimizer import plan_portfolio

    p = random_portfolio(seed)
    if not stochastic:
        return p, plan_portfolio(p, solver=solver)
    risk = RiskSpec(cvar_alpha=(0.5, 0.9, 0.95)[seed % 3], risk_weight=(0.25, 0.5, 1.0)[seed % 3])
    return p, plan_portfolio(p, solver=solver, scenarios=random_scenarios(p, seed), risk=risk)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scales")
    parser.add_argument("--seeds", default="0:200", help="first:last (last excluded)")
    parser.add_argument("--stochastic", action="store_true")
    parser.add_argument("--solver", default="highs")
    args = parser.parse_args(argv)
    first, last = (int(v) for v in args.seeds.split(":"))
    worst: dict[str, tuple[float, int]] = {}
    failed, t0 = [], time.perf_counter()
    for seed in range(first, last):
        try:
            p, r = plan_one(seed, args.stochastic, args.solver)
            checks = list(r.verification.checks) if r.verification else []
            if r.verification and not args.stochastic:
                with tempfile.TemporaryDirectory() as tmp:
                    checks += verify_written(p, r, Path(tmp) / "out", args.solver).checks
        except Exception as e:  # a sweep reports every failing seed, then exits 1
            failed.append(seed)
            print(f"seed {seed}: {type(e).__name__}: {e}")
            continue
        for c in checks:
            ratio = c.max_violation / c.tolerance
            if not c.ok:
                failed.append(seed)
                print(f"seed {seed}: {c.family} off by {c.max_violation:.3g} {c.unit}")
            if ratio >= worst.get(c.family, (-1.0, 0))[0]:
                worst[c.family] = (ratio, seed)
    print(f"{last - first} seeds in {time.perf_counter() - t0:.1f} s, {len(set(failed))} failing")
    for family, (ratio, seed) in sorted(worst.items(), key=lambda kv: -kv[1][0]):
        print(f"  {family:26s} worst {ratio:.2e} of its tolerance (seed {seed})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
