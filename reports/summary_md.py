"""summary.md: one readable page — what to convert where and when, which contracts to take,
which BTC to sell when, the value against the status quo and the binding limits in plain words."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

from realloc.optimizer.statistics import (
    GAP_TOLERANCE_USD,
    btc_held_at_end,
    btc_sales_by_quarter,
    lowest_cash_usd,
    path_probabilities,
)
from realloc.reports import funding_report
from realloc.reports.md_format import md_table as _table
from realloc.reports.md_format import money
from realloc.reports.safe_text import md_text
from realloc.reports.value_split import value_split_sentences, without_rent_sentences

if TYPE_CHECKING:  # type only: reading summary helpers must not load the solvers
    from realloc.optimizer import PlanResult

TERM_LABELS = {
    "mining_revenue_usd": "Mining revenue (BTC mined × price)",
    "mining_power_usd": "Mining power",
    "mining_opex_usd": "Mining opex",
    "rig_proceeds_usd": "Rig sales",
    "ai_revenue_usd": "Hosting rent",
    "ai_power_usd": "Hosting power (not passed through)",
    "ai_opex_usd": "Hosting opex",
    "capex_usd": "Conversion capex",
    "tenant_capex_usd": "Tenant capex prepayments",
    "btc_sale_cost_usd": "BTC sale costs",
    "terminal_value_usd": "Contracted hosting after the horizon",
    "fleet_salvage_usd": "Rigs still owned at the end (resale)",
    "curtailment_credit_usd": "Curtailment / demand-response credits",
    "firm_load_charge_usd": "Firm-load charges on AI halls",
    "gpu_capex_usd": "GPU capex (cloud contracts)",
    "gpu_residual_usd": "GPU residual value (cloud contracts)",
    "grid_hold_cost_usd": "Grid hold cost",
    "grid_sale_usd": "Grid sold (proceeds)",
    "financing_interest_usd": "Financing interest",
    "financing_fees_usd": "Financing fees",
    "note_option_cost_usd": "Conversion option cost of notes",
    "equity_dilution_usd": "Equity dilution",
    "financing_terminal_interest_usd": "Interest owed after the horizon",
}
OPTIONAL_TERMS = (
    "curtailment_credit_usd",
    "firm_load_charge_usd",
    "gpu_capex_usd",
    "gpu_residual_usd",
    "grid_hold_cost_usd",
    "grid_sale_usd",
)
"""Terms of optional inputs (issue 15's site economics): shown only when the plan or the status
quo has them, so a portfolio without those inputs reads as before."""


CLOUD_RATE_NOTE = (
    "usd_per_kw_month: the first-year rent; for a cloud contract its revenue per kW of IT in "
    "an average month (30.4375 days), $/GPU-hour × GPUs per MW × utilisation × 730.5 h / 1000, "
    "before GPU capex, power and opex.\n"
)


def _declined(p, name: str) -> str:
    """A declined contract's name, with its equivalent $/kW-month when it is a cloud offer."""
    c = next(c for c in p.contracts if c.name == name)
    if c.kind != "cloud":
        return md_text(name)
    rate = c.equivalent_rate_usd_per_kw_month
    return f"{md_text(name)} (cloud: equivalent ${rate:,.2f}/kW-month before GPU capex)"


def flexibility_lines(rows: list[dict]) -> list[str]:
    """summary.md's section on the flexibility a conversion gives up, per site (none without
    curtailment credits or firm-load charges)."""
    if not rows:
        return []
    lines = [
        "## Flexibility given up",
        "",
        "Per site, over the horizon (undiscounted, expected over market paths): the "
        "curtailment credits lost on the mining MW the plan no longer runs, against the status "
        "quo, plus the firm-load charges its AI halls pay beyond the status quo's.",
        "",
    ]
    for r in rows:
        lines.append(
            f"- {md_text(r['site'])}: gives up **{money(r['given_up_usd'])}** (credits "
            f"{money(r['credit_status_quo_usd'])} in the status quo, "
            f"{money(r['credit_plan_usd'])} in the plan; firm-load charges "
            f"{money(r['firm_load_charge_plan_usd'])}, status quo "
            f"{money(r['firm_load_charge_status_quo_usd'])})."
        )
    return [*lines, ""]


def shown_term(key: str, plan: float | None, base: float | None) -> bool:
    """Whether the value bridge shows term ``key`` (optional terms only when not 0)."""
    return key not in OPTIONAL_TERMS or bool(plan) or bool(base)


def binding_constraints(shadow: pd.DataFrame, name: Callable[[str], str] = str) -> list[str]:
    """Sentences for the limits that hold the plan back (non-zero shadow prices); ``name``
    formats a site or contract name for the document (:func:`md_text` for Markdown)."""
    out = []
    sp = shadow[shadow["shadow_price_usd"].abs() > 1.0] if not shadow.empty else shadow
    for r in sp.itertuples():
        v = r.shadow_price_usd
        if r.family == "site_power":
            out.append(
                f"Grid at {name(r.site)} is fully used: one more MW of interconnect would add "
                f"{money(v)} of value."
            )
        elif r.family == "conversion_limit":
            out.append(
                f"{name(r.site)} converts all it may: one more MW of convertible IT capacity "
                f"would add {money(v)}."
            )
        elif r.family == "contract_size":
            out.append(
                f"Contract {name(r.site)} is taken in full: one more MW from the tenant would "
                f"add {money(v)}."
            )
        elif r.family == "btc_floor":
            out.append(
                f"The BTC floor binds in at least one month: each BTC less of floor "
                f"would add {money(-v)} of value."
            )
    floor = (
        shadow[(shadow["family"] == "cash_floor") & (shadow["month"] != "all")]
        if not shadow.empty
        else shadow
    )
    binding = floor[floor["shadow_price_usd"].abs() > 1e-6] if not floor.empty else floor
    if not binding.empty:
        total = float(
            shadow[(shadow["family"] == "cash_floor") & (shadow["month"] == "all")][
                "shadow_price_usd"
            ].iloc[0]
        )
        months = ", ".join(binding["month"].tolist()[:6]) + (" …" if len(binding) > 6 else "")
        out.append(
            f"The cash floor binds in {len(binding)} month(s) ({months}): each $1 less of "
            f"floor in every month would add ${-total:,.3f} of value."
        )
    return out


def summary_markdown(result: PlanResult, summary: dict) -> str:
    """Render summary.md from the plan and its summary.json content (``summary``), section by
    section, in the order a board reads: value, decisions, BTC, risk, limits, checks."""
    lines = _heading_lines(result)
    t = result.tables
    if t is None:
        lines.append("No plan could be produced; see the diagnosis above.")
        return "\n".join(lines) + "\n"
    lines += _value_lines(result, summary)
    lines += _decision_lines(result)
    lines += flexibility_lines(result.flexibility)
    lines += grid_lines(result, summary)
    lines += _btc_lines(result, summary)
    if t.funding is not None:  # only a portfolio that offers financing
        lines += funding_report.funding_markdown(result, summary)
    if "stochastic" in summary:
        lines += stochastic_lines(summary["stochastic"])
    lines += ["## What binds", ""]
    binds = binding_constraints(t.shadow_prices, md_text)
    lines += [f"- {b}" for b in binds] if binds else ["Nothing binds at the margin."]
    lines.append("")
    if result.status == "unfunded":
        gap = t.funding_gap[t.funding_gap["gap_usd"] > GAP_TOLERANCE_USD]
        lines += ["## Funding gap", "", _table(gap.assign(gap_usd=gap["gap_usd"].map(money)))]
    return "\n".join(lines + _check_lines(result))


def _heading_lines(result: PlanResult) -> list[str]:
    """Title, horizon and status, then what the reader must know before any figure: a relaxed
    plan, contracts no site can serve, the diagnosis."""
    p = result.portfolio
    lines = [f"# {md_text(p.name)}: reallocation plan", ""]
    lines.append(f"Horizon {p.start_month}, {p.months} months. Status: **{result.status}**.")
    lines.append("")
    if result.relaxed:  # said first: a relaxed plan may serve a contract below its minimum
        lines += [
            "**Relaxed plan (--relax):** all-or-nothing minimum commitments (contracts' "
            "`min_it_mw`) and whole hall blocks (`block_it_mw`) were dropped, so contracts "
            "may be served below their minimum and halls built in part blocks; "
            "rerun without --relax for a plan that honours them.",
            "",
        ]
    notes = p.unservable_contracts()
    if notes:
        lines += [*(f"Note: {md_text(n)}." for n in notes), ""]
    lines += [*(f"> {md_text(d)}" for d in result.diagnosis), ""] if result.diagnosis else []
    return lines


def _value_lines(result: PlanResult, summary: dict) -> list[str]:
    """The plan's value against the status quo, and the bridge by objective term."""
    p, t = result.portfolio, result.tables
    lines = [
        "## Value",
        "",
        f"- Plan value: **{money(result.value_usd)}** (discounted at "
        f"{p.discount_rate_per_year:.1%}/yr)",
        f"- Status quo (no new builds, contracts or rig sales): "
        f"{money(result.baseline_value_usd)} ({result.baseline_status})",
        f"- Uplift: **{money(result.uplift_usd)}**",
        "",
    ]
    base = result.baseline_value_terms_usd
    bridge = pd.DataFrame(
        [
            {
                "term": TERM_LABELS[k],
                "status quo": money(base.get(k)),
                "plan": money(v),
                "change": money(v - base.get(k, 0.0)),
            }
            for k, v in t.value_terms_usd.items()
            if shown_term(k, v, base.get(k))
        ]
    )
    return [*lines, *_split_lines(summary), "Value by term (discounted):", "", _table(bridge)]


def _split_lines(summary: dict) -> list[str]:
    """Value inside and after the horizon, and decisions without the rent after it
    (reports/value_split.py), from summary.json's figures."""
    said = value_split_sentences(summary) + without_rent_sentences(summary, md_text)
    return [line for sentence in said for line in (sentence, "")]


def _decision_lines(result: PlanResult) -> list[str]:
    """The decisions shared by every market path: conversions, hosting contracts, rig sales."""
    p, t = result.portfolio, result.tables
    lines = ["## Conversions", ""]
    if t.conversions.empty:
        lines.append("Convert nothing.\n")
    else:
        conv = t.conversions.assign(
            it_mw=t.conversions["it_mw"].round(1), capex_usd=t.conversions["capex_usd"].map(money)
        )
        lines.append(_table(conv))
    lines += ["## Hosting contracts", ""]
    columns = ["contract", "site", "it_mw", "start_month", "end_month", "signed"]
    if (t.contracts.get("kind", pd.Series(dtype=object)) == "cloud").any():
        columns += ["kind", "usd_per_kw_month"]  # a cloud offer's equivalent rate beside rents
        lines.append(CLOUD_RATE_NOTE)
    taken = t.contracts[columns]
    lines.append(_table(taken.assign(it_mw=t.contracts["it_mw"].round(1))))
    declined = sorted({c.name for c in p.contracts} - set(t.contracts["contract"]))
    if declined:
        lines.append(f"Declined: {', '.join(_declined(p, d) for d in declined)}.\n")
    lines += ["## Rig sales", ""]
    if t.rig_sales.empty:
        lines.append("Sell no rigs.\n")
        return lines
    rs = t.rig_sales.groupby(["site", "fleet_group"], as_index=False).agg(
        mw_sold=("mw_sold", "sum"),
        first_month=("month", "min"),
        proceeds_usd=("proceeds_usd", "sum"),
    )
    rs = rs.assign(mw_sold=rs["mw_sold"].round(1), proceeds_usd=rs["proceeds_usd"].map(money))
    return [*lines, _table(rs)]


def grid_lines(result: PlanResult, summary: dict) -> list[str]:
    """Grid sold (when any), halls in blocks (when any) and idle grid, in words."""
    p, t = result.portfolio, result.tables
    lines = ["## Grid", ""]
    if not t.grid.empty and t.grid["sold_mw"].sum() > 0:
        sold = t.grid[t.grid["sold_mw"] > 0]
        for r in sold.itertuples():
            lines.append(
                f"- Sell {r.sold_mw:,.1f} MW of grid at {md_text(r.site)} in {r.month} "
                f"for {money(r.sale_usd)}."
            )
        lines.append("")
    blocks = [s for s in p.sites if s.conversion and s.conversion.block_it_mw]
    if blocks:
        sizes = ", ".join(f"{md_text(s.name)} {s.conversion.block_it_mw:g} MW" for s in blocks)
        gap = "n/a" if result.mip_gap is None else f"{result.mip_gap:.2%}"
        how = "relaxed to fractions (--relax)" if result.relaxed else "whole blocks (integer)"
        lines.append(f"Halls are built in blocks ({sizes}): {how}; gap to the LP bound {gap}.\n")
        lines += [_block_too_big(s) for s in blocks if _block_too_big(s)]
    mwm, cost = summary.get("idle_grid_mw_months"), summary.get("idle_grid_cost_usd")
    if mwm is not None:  # summary_dict always has it; a hand-made summary may not
        lines.append(
            f"Idle grid (kept but neither mining, hosting, constructing nor sold): "
            f"{mwm:,.1f} MW-months over the horizon, costing {money(cost)} to hold "
            "(undiscounted).\n"
        )
    return lines


def _block_too_big(site) -> str:
    """A note when a site's block is larger than the room left to convert ('' otherwise)."""
    conv = site.conversion
    room = conv.max_it_mw - conv.existing_it_mw
    if conv.block_it_mw <= room + 1e-9:
        return ""
    return (
        f"Note: at {md_text(site.name)} a block ({conv.block_it_mw:g} IT MW) is larger than "
        f"the room left to convert ({room:g} MW under max_it_mw), so nothing can be built "
        "there.\n"
    )


def _btc_lines(result: PlanResult, summary: dict) -> list[str]:
    """BTC to sell by quarter, BTC held at the end and the lowest cash: expected over the
    market paths (optimizer/statistics.py), as summary.json's totals."""
    p, t = result.portfolio, result.tables
    prob = path_probabilities(result.scenario_values)
    lines = ["## BTC to sell", ""]
    if prob:
        lines.append(
            f"Expected over the {len(prob)} market paths (probability-"
            "weighted); each path's sales are in treasury.csv.\n"
        )
    by_q = btc_sales_by_quarter(t.treasury, prob)
    if by_q.empty:
        lines.append("Sell no BTC: the plan is funded from cash.\n")
    else:
        lines.append(
            f"Sell **{summary['btc_sold_total']:,.1f} BTC** in all, raising "
            f"{money(summary['usd_raised_total'])} net of sale costs:\n"
        )
        by_q = by_q.assign(
            btc_sold=by_q["btc_sold"].round(2),
            usd_raised=by_q["usd_raised"].map(money),
            months=by_q["months"].map(", ".join),
        )
        lines.append(_table(by_q[["quarter", "btc_sold", "usd_raised", "months"]]))
    lines.append(
        f"BTC held at the end: {btc_held_at_end(t.treasury, prob):,.1f} "
        f"(start {p.treasury.btc:,.1f}); lowest cash {money(lowest_cash_usd(t.treasury, prob))} "
        f"against a floor of {money(p.treasury.min_cash_usd)}.\n"
    )
    return lines


def _check_lines(result: PlanResult) -> list[str]:
    """How far the re-computed invariants are from their tolerances, and where run facts are."""
    checks = result.verification.checks if result.verification else []
    worst = max((c.max_violation / c.tolerance for c in checks), default=0.0)
    return [
        "## Checks",
        "",
        f"All {len(checks)} invariant families re-computed from these tables hold "
        f"(worst at {worst:.1e} of its tolerance). Solved with {result.solver}; solver "
        "and package versions, timings and the run's time are in run.json.",
        "",
    ]


def _musd(v: float | None) -> str:
    """$M with one decimal: values across paths often differ by less than $0.01B."""
    return "n/a" if v is None else f"${v / 1e6:,.1f}M"


def stochastic_lines(block: dict) -> list[str]:
    """The risk section: value distribution, VSS and EVPI, and the frontier."""
    alpha = block["cvar_alpha"]
    out = [
        "## Risk across market paths",
        "",
        f"Optimized over {block['scenarios']} paths with CVaR weight λ = "
        f"{block['risk_weight']:g} (CVaR {alpha:.0%}: the mean value of the worst "
        f"{1 - alpha:.0%} of paths). Conversions, contracts and rig sales are decided once; "
        "mining, BTC sales and cash follow each path.",
        "",
        f"- Expected value {_musd(block['expected_value_usd'])}; CVaR {_musd(block['cvar_usd'])}; "
        f"P5 {_musd(block['p5_value_usd'])}, P50 {_musd(block['p50_value_usd'])}, "
        f"P95 {_musd(block['p95_value_usd'])}.",
    ]
    if "vss_usd" in block:
        vss, evpi = block.get("vss_usd"), block.get("evpi_usd")
        out.append(
            f"- Value of the stochastic solution (VSS): {_musd(vss)} — what planning over the "
            "paths adds to planning for their mean path."
            if vss is not None
            else _vss_without_finite_value(block)
        )
        out.append(
            f"- Expected value of perfect information (EVPI): {_musd(evpi)} — the most that "
            "knowing the path in advance could be worth."
            if evpi is not None
            else "- EVPI: not available (see notes)."
        )
        out += [f"- Note: {md_text(n)}" for n in block.get("notes", [])]
    frontier = block.get("frontier")
    if frontier:
        f = pd.DataFrame(frontier)
        out += [
            "",
            "Efficient frontier (frontier.csv, frontier.png):",
            "",
            _table(
                pd.DataFrame(
                    {
                        "λ": f["risk_weight"],
                        "expected value": f["expected_value_usd"].map(_musd),
                        "CVaR": f["cvar_usd"].map(_musd),
                        "P5": f["p5_value_usd"].map(_musd),
                        "IT MW converted": f["it_mw_converted"].round(1),
                    }
                )
            ),
        ]
    out.append("")
    return out


def _vss_without_finite_value(block: dict) -> str:
    """VSS when the mean-path plan runs out of cash on some path (no finite EEV)."""
    bound = block.get("vss_lower_bound_usd")
    head = (
        "- Value of the stochastic solution (VSS): no finite value — the plan made for the "
        "mean path runs out of cash on some paths (see the note)"
    )
    if bound is None:
        return head + "."
    if bound >= 0:
        return (
            f"{head}; even with that cash supplied at face value it is worth "
            f"{money(bound)} less than this plan."
        )
    return (
        f"{head}. With that cash supplied from outside at face value it would be worth "
        f"{money(-bound)} more in expectation: that is what this plan gives up to need no "
        "outside money on any path."
    )
