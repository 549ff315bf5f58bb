"""Tiny portfolios small enough to solve on paper."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner

from realloc.models import Portfolio


def tiny(**overrides: Any) -> Portfolio:
    """One 100 MW site, 100 MW of 30 J/TH rigs, one 50 MW conversion option, one contract.

    No pool fee, no discounting, PUE 1 and full availability, so that one MW of rigs earns
    (1000/30 PH/s) × $35 × days = $1,166.67 per day and burns 24 MWh × $40 = $960 per day:
    a margin of $206.67 per MW-day.
    """
    data: dict[str, Any] = dict(
        name="tiny",
        start_month="2026-01",
        months=12,
        discount_rate_per_year=0.0,
        pool_fee_share=0.0,
        terminal_value=False,
        sites=[
            dict(
                name="A",
                grid_mw=100,
                power_price_usd_per_mwh=40,
                mining_pue=1.0,
                availability_share=1.0,
                fleets=[dict(name="S19", power_mw=100, efficiency_j_per_th=30)],
                conversion=dict(max_it_mw=50, capex_usd_per_it_mw=1e6, lead_months=0, ai_pue=1.0),
            )
        ],
        contracts=[
            dict(
                name="H",
                rate_usd_per_kw_month=150,
                start_month="2026-01",
                term_months=12,
                max_it_mw=50,
                eligible_sites=["A"],
            )
        ],
        market=dict(btc_price_usd=70000, hashprice_usd_per_ph_day=35),
        treasury=dict(btc=0, cash_usd=1e9),
    )
    for dotted, value in overrides.items():
        _set(data, dotted.split("__"), value)
    return Portfolio.model_validate(data)


def _set(node: Any, path: list[str], value: Any) -> None:
    for key in path[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    last = path[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


MARGIN_USD_PER_MW_DAY = 1000 / 30 * 35 - 24 * 40  # 206.666...
MARGIN_USD_PER_MW_YEAR = MARGIN_USD_PER_MW_DAY * 365  # 2026 has 365 days: 75,433.33


def run_cli(*args: object) -> tuple[int, str]:
    """Run the CLI in-process; no traceback or internal error may reach the user."""
    from realloc.cli import main

    result = CliRunner().invoke(main, [str(a) for a in args])
    out = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        out += repr(result.exception)
    assert "Traceback" not in out and "internal error" not in out, out
    return result.exit_code, out


def tiny_financing() -> dict[str, Any]:
    """A financing section with one source of each kind for ``tiny`` (site A, 12 months)."""
    return dict(
        btc_loans=[
            dict(
                name="L",
                max_usd=30e6,
                rate_per_year=0.08,
                fee_share=0.01,
                max_ltv_share=0.5,
                first_month="2026-01",
                maturity_month="2027-06",
            )
        ],
        notes=[
            dict(
                name="N",
                max_usd=40e6,
                min_usd=20e6,
                first_month="2026-02",
                last_month="2026-05",
                coupon_per_year=0.02,
                fee_share=0.02,
                option_cost_share=0.05,
                term_months=6,
            )
        ],
        project_loans=[
            dict(
                name="P",
                site="A",
                max_loan_to_cost_share=0.85,
                rate_per_year=0.06,
                fee_share=0.01,
                grace_months=2,
                term_months=5,
                min_dscr=1.25,
            )
        ],
        equity=dict(
            max_usd_per_month=5e6, max_usd_total=20e6, fee_share=0.03, dilution_cost_share=0.2
        ),
    )
