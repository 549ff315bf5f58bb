"""Every optional field of issues 14 and 15 at once (tests/combined.py): seeded random
portfolios across scales plan deterministically and over two or three paths, verify in memory
and from their written CSV files, keep the cash identity and the value split; and the
interactions found by the red team stay fixed."""

from __future__ import annotations

from pathlib import Path

import pytest

from realloc.models import Portfolio
from realloc.optimizer import plan_portfolio
from tests.combined import combined_portfolio
from tests.combined_checks import plan_and_check
from tests.helpers import tiny, tiny_financing

SEEDS = [0, 3, 7, 12, 19, 26, 31, 44, 58, 229, 246]


@pytest.mark.parametrize("seed", SEEDS)
def test_combined_random_portfolios_verify_from_their_files(seed, tmp_path: Path):
    p = combined_portfolio(seed)
    assert plan_and_check(p, tmp_path / "out", seed) == []


@pytest.mark.parametrize("seed", [4, 11])
def test_combined_random_portfolios_over_paths_verify(seed, tmp_path: Path):
    p = combined_portfolio(seed)
    assert plan_and_check(p, tmp_path / "out", seed, stochastic=True) == []


@pytest.mark.parametrize("seed", [229, 246])
def test_offering_financing_never_lowers_the_value(seed):
    # seeds where a project loan's DSCR covenant bound on a site whose hosting NOI is negative in
    # some months although the loan was never drawn (229 was infeasible, 246 lost $8,204)
    p = combined_portfolio(seed)
    without = plan_portfolio(Portfolio.model_validate(p.model_dump() | {"financing": None}))
    with_fin = plan_portfolio(p)
    assert with_fin.status == without.status == "optimal"
    assert with_fin.value_usd >= without.value_usd - 1e-6 * abs(without.value_usd)


def test_an_undrawn_project_loan_imposes_no_covenant():
    # tiny's site A hosts a signed 10 MW contract at $20/kW-month in an existing hall whose AI
    # opex is $30/kW-month: hosting NOI = 10,000 kW × (20 − 30) = −$100,000 every month. A
    # project loan with min_dscr 1.25 is offered but there is nothing to build with it (the
    # only contract is signed): the plan must be the plan without the loan, not infeasible.
    data = tiny(
        sites__0__conversion__existing_it_mw=10,
        sites__0__conversion__ai_opex_usd_per_kw_month=30,
    ).model_dump()
    data["contracts"] = [
        dict(
            name="Old",
            rate_usd_per_kw_month=20,
            start_month="2025-06",
            term_months=24,
            max_it_mw=10,
            eligible_sites=["A"],
            signed_it_mw={"A": 10},
        )
    ]
    fin = tiny_financing() | dict(btc_loans=[], notes=[], equity=None)
    bare = plan_portfolio(Portfolio.model_validate(data))
    offered = plan_portfolio(Portfolio.model_validate(data | {"financing": fin}))
    assert bare.status == offered.status == "optimal"
    assert offered.value_usd == pytest.approx(bare.value_usd, rel=1e-9)
    assert offered.verification.ok, offered.verification.failures()
    # (hosting loses 12 × $100,000 = $1.2M; tiny's 100 MW mine earns the rest)
    assert offered.tables.value_terms_usd["ai_opex_usd"] == pytest.approx(-12 * 300_000)


def test_excel_template_round_trips_every_new_field_at_once(tmp_path: Path):
    from realloc.inputs.excel_loader import load_excel
    from realloc.inputs.excel_writer import write_excel

    data = tiny(
        sites__0__curtailment_credit_usd_per_mw_month=3000.0,
        sites__0__curtailment_enrolled_share=0.5,
        sites__0__firm_load_charge_usd_per_kw_month=4.0,
        sites__0__grid_hold_cost_usd_per_mw_month=2000.0,
        sites__0__grid_sale_usd_per_mw=150_000.0,
        sites__0__grid_sale_first_month="2026-04",
        sites__0__conversion__block_it_mw=2.5,
        contracts__0__tenant_capex_share=0.5,
    ).model_dump()
    data["contracts"].append(
        dict(
            name="Cloud",
            kind="cloud",
            usd_per_gpu_hour=2.0,
            gpus_per_it_mw=1000.0,
            utilization_share=0.8,
            gpu_capex_usd_per_it_mw=20e6,
            gpu_residual_share=0.2,
            ai_opex_usd_per_kw_month=20.0,
            start_month="2026-07",
            term_months=24,
            max_it_mw=5.0,
            eligible_sites=["A"],
        )
    )
    # the template's market sheet is monthly: a flat price is read back as 12 equal months
    data["market"] = dict(btc_price_usd=[70000.0] * 12, hashprice_usd_per_ph_day=[35.0] * 12)
    p = Portfolio.model_validate(data | {"financing": tiny_financing()})
    write_excel(p, tmp_path / "p.xlsx")
    assert load_excel(tmp_path / "p.xlsx") == p
