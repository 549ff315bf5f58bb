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
