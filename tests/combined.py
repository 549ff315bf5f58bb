"""Seeded random portfolios with every optional field of issues 14 and 15 switched on in random
subsets at once (financing of every kind, cloud contracts, curtailment credits, firm-load
charges, grid hold costs and sales, hall blocks), for tests/test_combined_properties.py and
hand sweeps (``python -m tests.combined 0:200``)."""

from __future__ import annotations

import numpy as np

from benchmarks.scales import random_portfolio
from realloc.models import Portfolio, month_label
from tests.test_financing_random import random_financing


def _site_terms(rng, s: dict, months: int) -> None:
    """Random issue-15 site fields on one site dict (each on with probability ~1/2)."""
    if rng.random() < 0.5:
        s["curtailment_credit_usd_per_mw_month"] = float(rng.uniform(0, 20_000))
        s["curtailment_enrolled_share"] = float(rng.uniform(0, 1))
    if rng.random() < 0.5:
        s["firm_load_charge_usd_per_kw_month"] = float(rng.uniform(0, 15))
    if rng.random() < 0.5:
        s["grid_hold_cost_usd_per_mw_month"] = float(np.exp(rng.uniform(0, np.log(1e5))))
    if rng.random() < 0.5:
        s["grid_sale_usd_per_mw"] = float(np.exp(rng.uniform(np.log(1e3), np.log(1e7))))
        if rng.random() < 0.5:
            s["grid_sale_first_month"] = month_label("2026-01", int(rng.integers(-3, months + 3)))
    conv = s.get("conversion")
    if conv and rng.random() < 0.4 and conv["max_it_mw"] > 0:
        conv["block_it_mw"] = float(conv["max_it_mw"] * rng.choice([0.1, 0.25, 0.5, 1.0, 1.5]))


def _cloud(rng, conv: list[str], months: int) -> dict:
    a = int(rng.integers(0, months))
    c = dict(
        name="cloud",
        kind="cloud",
        usd_per_gpu_hour=float(rng.uniform(1, 6)),
        gpus_per_it_mw=float(rng.uniform(500, 1500)),
        utilization_share=float(rng.uniform(0.5, 1)),
        gpu_capex_usd_per_it_mw=float(rng.uniform(2e6, 30e6)),
        gpu_residual_share=float(rng.uniform(0, 0.3)),
        start_month=month_label("2026-01", a),
        term_months=int(rng.integers(1, 72)),
        max_it_mw=float(np.exp(rng.uniform(np.log(0.01), np.log(500)))),
        eligible_sites=conv,
    )
    if rng.random() < 0.5:
        c["ai_opex_usd_per_kw_month"] = float(rng.uniform(0, 30))
    if rng.random() < 0.3:
        c["power_pass_through"] = True
    if rng.random() < 0.3:
        c["tenant_capex_share"] = float(rng.choice([0.5, 1.0]))
    return c


def combined_portfolio(seed: int) -> Portfolio:
    """``random_portfolio(seed)`` with random subsets of every new field at once."""
    p = random_portfolio(seed)
    rng = np.random.default_rng(50_000 + seed)
    data = p.model_dump()
    for s in data["sites"]:
        _site_terms(rng, s, p.months)
    conv = [s["name"] for s in data["sites"] if s["conversion"]]
    if conv and rng.random() < 0.6:
        data["contracts"].append(_cloud(rng, conv, p.months))
    q = Portfolio.model_validate(data)
    if rng.random() < 0.8:
        fin = random_financing(q, seed).model_dump()
        for loan in fin["project_loans"]:
            if rng.random() < 0.5:
                loan["min_dscr"] = float(rng.uniform(1.0, 2.0))
        data["financing"] = fin
    return Portfolio.model_validate(data)


if __name__ == "__main__":
    import sys

    lo, hi = (int(v) for v in sys.argv[1].split(":"))
    for seed in range(lo, hi):
        print(seed, combined_portfolio(seed).model_dump_json()[:200])
