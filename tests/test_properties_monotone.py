"""Economic properties on random portfolios (the strategy of tests/test_properties.py):

- more grid capacity, cash or BTC never lowers the plan's value (the feasible set only grows);
- scaling every money input by k scales the value by k (prices, rates, capex, opex, resale,
  cash and floors, BTC price and hashprice in $: BTC quantities and every decision stay put).

Plans are solved with ``relax=True`` where values are compared, so the comparison is between LP
optima (a MIP stops within its relative gap of 1e-4, which would blur a monotone comparison).
Every plan's verification is recorded; the last test prints the largest violation seen.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from realloc.models import Portfolio
from tests.test_properties import SETTINGS, portfolios
from tests.violations import plan_portfolio, report

REL = 1e-7  # LP optima agree to the solver's tolerance


def _close_or_above(after: float, before: float) -> bool:
    return after >= before - REL * max(1.0, abs(before))


@SETTINGS
@given(portfolios(rich_cash=True), st.floats(1.0, 60.0), st.integers(0, 1))
def test_more_grid_never_lowers_value(p, extra_mw, which):
    site = p.sites[min(which, len(p.sites) - 1)]
    bigger = site.model_copy(update={"grid_mw": site.grid_mw + extra_mw})
    q = p.model_copy(update={"sites": [bigger if s is site else s for s in p.sites]})
    before, after = plan_portfolio(p, relax=True), plan_portfolio(q, relax=True)
    assert before.status == after.status == "optimal"
    assert _close_or_above(after.value_usd, before.value_usd)
    assert _close_or_above(after.baseline_value_usd, before.baseline_value_usd)


@SETTINGS
@given(portfolios(), st.floats(1e6, 3e8), st.floats(0.0, 500.0))
def test_more_cash_or_btc_never_lowers_value(p, extra_cash, extra_btc):
    tr = p.treasury
    richer = tr.model_copy(update={"cash_usd": tr.cash_usd + extra_cash, "btc": tr.btc + extra_btc})
    q = p.model_copy(update={"treasury": richer})
    before, after = plan_portfolio(p, relax=True), plan_portfolio(q, relax=True)
    # funding never gets worse, and a plan that was funded is worth at least as much
    assert not (before.status == "optimal" and after.status != "optimal")
    if before.status == after.status == "optimal":
        assert _close_or_above(after.value_usd, before.value_usd)
    if before.status == after.status == "unfunded":  # the gap can only shrink
        gap = [float(r.tables.funding_gap["gap_usd"].sum()) for r in (before, after)]
        assert gap[1] <= gap[0] * (1 + 1e-7) + 1.0


MONEY = {
    "sites": (
        "power_price_usd_per_mwh",
        "mining_opex_usd_per_mw_month",
        "curtailment_credit_usd_per_mw_month",
        "firm_load_charge_usd_per_kw_month",
        "grid_hold_cost_usd_per_mw_month",
        "grid_sale_usd_per_mw",
    ),
    "fleets": ("resale_usd_per_th",),
    "conversion": ("capex_usd_per_it_mw", "ai_opex_usd_per_kw_month"),
    "contracts": (
        "rate_usd_per_kw_month",
        "usd_per_gpu_hour",
        "gpu_capex_usd_per_it_mw",
        "ai_opex_usd_per_kw_month",
    ),
    "market": ("btc_price_usd", "hashprice_usd_per_ph_day"),
    "treasury": ("cash_usd", "min_cash_usd"),
}
"""Every field of models/portfolio.py in dollars. Not money: sale_cost_bps and every *_share
(ratios), discount and escalator rates, MW, BTC quantities, J/TH, PUE, months."""


def _scale(v, k: float):
    if v is None:  # an optional field not set (a cloud rate, a colocation's GPUs, a grid price)
        return None
    return [x * k for x in v] if isinstance(v, list) else v * k


def scale_money(p: Portfolio, k: float) -> Portfolio:
    """``p`` with every money field multiplied by ``k``."""

    def upd(model, kind):
        return model.model_copy(update={f: _scale(getattr(model, f), k) for f in MONEY[kind]})

    sites = []
    for s in p.sites:
        fleets = [upd(g, "fleets") for g in s.fleets]
        conv = upd(s.conversion, "conversion") if s.conversion else None
        sites.append(upd(s, "sites").model_copy(update={"fleets": fleets, "conversion": conv}))
    return Portfolio.model_validate(
        p.model_copy(
            update={
                "sites": sites,
                "contracts": [upd(c, "contracts") for c in p.contracts],
                "market": upd(p.market, "market"),
                "treasury": upd(p.treasury, "treasury"),
            }
        ).model_dump()
    )


def test_money_fields_are_every_dollar_field_of_the_model():
    from realloc.models.portfolio import Contract, Conversion, FleetGroup, Market, Site, Treasury

    models = {
        "sites": Site,
        "fleets": FleetGroup,
        "conversion": Conversion,
        "contracts": Contract,
        "market": Market,
        "treasury": Treasury,
    }
    for kind, model in models.items():
        dollars = {f for f in model.model_fields if "usd" in f}
        assert dollars == set(MONEY[kind]), kind
    from realloc.models.portfolio import Portfolio as P

    assert not [f for f in P.model_fields if "usd" in f]


@SETTINGS
@given(portfolios(), st.sampled_from([0.25, 0.5, 1.7, 3.0]))
def test_scaling_all_money_by_k_scales_value_by_k(p, k):
    base, scaled = plan_portfolio(p, relax=True), plan_portfolio(scale_money(p, k), relax=True)
    assert base.status == scaled.status
    assert base.baseline_status == scaled.baseline_status
    if base.status == "unfunded":
        # The gap scales. The value and decisions of a plan short of cash are not compared:
        # at the knife edge (a gap of cents) they move with the solver's absolute tolerances
        # ($0.10 on rows in $M), which scaling the inputs does not scale.
        gap = [float(r.tables.funding_gap["gap_usd"].sum()) for r in (base, scaled)]
        assert gap[1] == pytest.approx(k * gap[0], rel=1e-6, abs=1.0)
        return
    assert scaled.value_usd == pytest.approx(k * base.value_usd, rel=1e-6, abs=1.0)
    if base.baseline_status == "optimal":
        assert scaled.baseline_value_usd == pytest.approx(
            k * base.baseline_value_usd, rel=1e-6, abs=1.0
        )
    # BTC are not money: the BTC mined is the same (to 1e-4 BTC: a degenerate plan may mine a
    # few dollars' worth more or less at no change in value)
    mined = [r.tables.treasury["btc_mined"].sum() for r in (base, scaled)]
    assert mined[1] == pytest.approx(mined[0], rel=1e-6, abs=1e-4)


def test_zz_largest_violation_across_property_tests():
    """Runs last: the tally the issue's closing note reports (printed with -s)."""
    text = report()
    print("\n" + text)
    assert "largest violations" in text
