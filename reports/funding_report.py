"""Funding the plan, in figures and words: where the cash comes from by quarter, the debt
schedule, what the HODL floor costs, why each offered source was or was not used, and how far
the BTC price may fall before a BTC-backed facility breaches its loan-to-value limit.

Everything here reads the plan's funding table (``funding.csv``: one row per source and month,
and per market path in a stochastic plan) and summary.json's financing keys
(``funding_sources_usd``, ``financing_cost_usd``, ``hodl_cost_usd_per_btc_year``,
``ltv_headroom``, ``funding_choices``), so summary.md and the board report say the same. Figures
drawn from per-path rows are expected values over the market paths (probability-weighted, as
every headline figure: optimizer/statistics.py); the loan-to-value band is the P5–P95 of the
paths, month by month.

Conventions: a month's *sources* are the ``drawn_usd`` of its rows (draws, note issues, equity
issued, net BTC sale proceeds, tenant prepayments); a quarter is the calendar quarter and a debt
balance "at the quarter end" is the balance of the quarter's last month in the horizon; a
facility with no balance in a month has a loan-to-value of 0 there (no debt, no margin call).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from realloc.optimizer.statistics import expected_over_paths, path_probabilities, quarter
from realloc.optimizer.statistics import weighted_quantile as _quantile
from realloc.reports.md_format import md_table as _table
from realloc.reports.md_format import money
from realloc.reports.safe_text import md_text

KIND_ORDER = ("btc_sale", "tenant_prepayment", "btc_loan", "note", "project_loan", "equity")
"""Kinds of source, in the order the tables list and the chart stacks them (BTC sales first:
the funding the plan had before financing existed)."""

KIND_WORDS = {
    "btc_sale": "BTC sales",
    "tenant_prepayment": "tenant prepayment",
    "btc_loan": "BTC-backed loan",
    "note": "notes",
    "project_loan": "project loan",
    "equity": "ATM equity",
}

DEBT_KINDS = ("btc_loan", "note", "project_loan")
"""Kinds that owe a balance: the debt schedule lists these."""

FLOW_TOLERANCE_USD = 0.5
"""Flows and balances within half a dollar of zero count as zero (tables are in cents)."""

FLOWS = ("drawn_usd", "repaid_usd", "interest_usd", "fees_usd")


def expected_funding(funding: pd.DataFrame, probabilities: Mapping[str, float]) -> pd.DataFrame:
    """The funding rows as one set per month and source: expected over the market paths when
    their probabilities cover the frame's paths, else the first path's rows (a deterministic
    plan's one path); without the ``scenario`` column. ``ltv_share`` is dropped when several
    paths are averaged: an average of ratios is no path's loan-to-value."""
    if "scenario" not in funding.columns or funding.empty:
        return funding.drop(columns="scenario", errors="ignore")
    paths = list(dict.fromkeys(funding["scenario"]))
    if len(paths) > 1 and probabilities and set(paths) <= set(probabilities):
        averaged = funding.drop(columns="ltv_share", errors="ignore")
        return expected_over_paths(averaged, probabilities)
    first = funding[funding["scenario"] == paths[0]]
    return first.drop(columns="scenario").reset_index(drop=True)


def _source_order(frame: pd.DataFrame) -> list[str]:
    """Source names by kind (:data:`KIND_ORDER`), then in the order they first appear."""
    kinds = dict(zip(frame["source"], frame["kind"], strict=False))
    rank = {k: i for i, k in enumerate(KIND_ORDER)}
    names = list(dict.fromkeys(frame["source"]))
    return sorted(names, key=lambda s: (rank.get(kinds[s], len(rank)), names.index(s)))


def sources_by_quarter(funding: pd.DataFrame, probabilities: Mapping[str, float]) -> pd.DataFrame:
    """Cash raised per calendar quarter and source (``drawn_usd`` summed), expected over the
    market paths: column ``quarter``, one column per source that raises anything (in
    :data:`KIND_ORDER`), and ``total_usd``; one row per quarter of the horizon, in order."""
    f = expected_funding(funding, probabilities)
    if f.empty:
        return pd.DataFrame(columns=["quarter", "total_usd"])
    reserved = f["source"].isin(["quarter", "total_usd"])  # a source named like a column
    f = f.assign(
        quarter=f["month"].map(quarter),
        source=f["source"].where(~reserved, "\u200b" + f["source"]),  # shows as its name
    )
    wide = f.pivot_table(
        index="quarter", columns="source", values="drawn_usd", aggfunc="sum", sort=True
    ).fillna(0.0)
    used = [s for s in _source_order(f) if wide[s].abs().sum() > FLOW_TOLERANCE_USD]
    out = wide[used].reset_index()
    out.columns.name = None
    return out.assign(total_usd=out[used].sum(axis=1))


def debt_schedule(funding: pd.DataFrame, probabilities: Mapping[str, float]) -> pd.DataFrame:
    """Per debt source (facility, note, project loan) and quarter: drawn, repaid, the balance
    at the quarter end, interest and fees paid, expected over the market paths. Quarters in
    which a source has no flow and no balance are left out."""
    cols = ["source", "kind", "quarter", "balance_usd", *FLOWS]
    f = expected_funding(funding, probabilities)
    if f.empty:
        return pd.DataFrame(columns=cols)
    debt = f[f["kind"].isin(DEBT_KINDS)].sort_values("month", kind="stable")
    if debt.empty:
        return pd.DataFrame(columns=cols)
    debt = debt.assign(quarter=debt["month"].map(quarter))
    out = debt.groupby(["source", "kind", "quarter"], sort=False, as_index=False).agg(
        balance_usd=("balance_usd", "last"), **{c: (c, "sum") for c in FLOWS}
    )
    active = out[["balance_usd", *FLOWS]].abs().max(axis=1) > FLOW_TOLERANCE_USD
    order = {s: i for i, s in enumerate(_source_order(debt))}
    out = out[active].assign(_rank=out["source"].map(order))
    out = out.sort_values(["_rank", "quarter"], kind="stable").drop(columns="_rank")
    return out[cols].reset_index(drop=True)


def compact_schedule(schedule: pd.DataFrame) -> pd.DataFrame:
    """The debt schedule as a board reads it: consecutive quarters of one source in which
    nothing is drawn, repaid or charged in fees and the balance stays the same are one row
    (``quarter`` "2026-Q4 to 2031-Q1", their interest summed)."""
    if schedule.empty:
        return schedule
    quiet = (schedule[["drawn_usd", "repaid_usd", "fees_usd"]].abs() <= FLOW_TOLERANCE_USD).all(
        axis=1
    )
    rows: list[dict] = []
    for r, calm in zip(schedule.to_dict("records"), quiet, strict=True):
        last = rows[-1] if rows else None
        if (
            calm
            and last is not None
            and last["_calm"]
            and last["source"] == r["source"]
            and abs(last["balance_usd"] - r["balance_usd"]) <= FLOW_TOLERANCE_USD
        ):
            last["quarter"] = f"{last['quarter'].split(' to ')[0]} to {r['quarter']}"
            last["interest_usd"] += r["interest_usd"]
            continue
        rows.append({**r, "_calm": bool(calm)})
    return pd.DataFrame(rows, columns=[*schedule.columns, "_calm"]).drop(columns="_calm")


def hodl_sentence(min_btc: float, hodl_cost_usd_per_btc_year: float | None) -> str:
    """What the HODL floor (``treasury.min_btc``) costs a year: "Keeping N BTC costs $X per
    year", X = the floor's shadow price per BTC-year × N; said plainly when it does not bind."""
    n = float(min_btc)
    if n <= 0:
        return (
            "There is no HODL floor (treasury.min_btc is 0): the plan may sell every BTC, so "
            "keeping BTC is its own choice, not a cost imposed on it."
        )
    cost = hodl_cost_usd_per_btc_year  # a cost (>= 0); read as its size, so that the floor's
    # shadow price ∂V/∂min_btc (<= 0, as shadow_prices.csv writes it) says the same
    if cost is None or not np.isfinite(cost) or abs(cost) * n <= FLOW_TOLERANCE_USD:
        return (
            f"Keeping {n:,.0f} BTC costs nothing at the margin: the HODL floor "
            f"(treasury.min_btc) does not bind, so lowering it would not add value."
        )
    cost = abs(float(cost))
    return (
        f"Keeping {n:,.0f} BTC costs {money(cost * n)} per year: each BTC of the HODL floor "
        f"(treasury.min_btc) costs {money(cost)} of value a year (its shadow price)."
    )


def sources_sentence(summary: Mapping, name: Callable[[object], str] = str) -> str | None:
    """How much the plan raises in all and from which sources (summary.json's
    ``funding_sources_usd``, largest first, with their shares), and what financing costs."""
    raised = {
        str(k): float(v)
        for k, v in (summary.get("funding_sources_usd") or {}).items()
        if v is not None and abs(float(v)) > FLOW_TOLERANCE_USD
    }
    total = sum(raised.values())
    if total <= FLOW_TOLERANCE_USD:
        return None
    parts = [
        f"{name(source)} {money(v)} ({v / total:.{0 if v >= 0.01 * total else 1}%})"
        for source, v in sorted(raised.items(), key=lambda kv: -kv[1])
    ]
    text = f"The plan raises {money(total)} in all: " + ", ".join(parts) + "."
    cost = summary.get("financing_cost_usd")
    if cost is not None:
        text += (
            f" Financing costs {money(float(cost))} in present value (interest, fees, "
            "conversion-option and dilution costs and BTC sale costs)."
        )
    return text


def _share(v: object) -> str:
    return "n/a" if v is None or v != v else f"{float(v):.1%}/yr"


def choice_sentences(choices: Sequence[Mapping], name: Callable[[object], str] = str) -> list[str]:
    """Per offered source (summary.json's ``funding_choices``): its all-in annual cost, then why
    it was (not) used — summary.json's reason, else how much it raised, or for an unused source
    its cost against the cheapest source the plan uses."""
    used = [c for c in choices if float(c.get("used_usd") or 0.0) > FLOW_TOLERANCE_USD]
    costed = [c for c in used if c.get("all_in_cost_per_year") is not None]
    cheapest = min(costed, key=lambda c: float(c["all_in_cost_per_year"]), default=None)
    out = []
    for c in choices:
        amount = float(c.get("used_usd") or 0.0)
        kind = KIND_WORDS.get(str(c.get("kind")), str(c.get("kind")))
        kind = "" if kind.lower() == str(c.get("source")).lower() else f"{kind}, "
        head = f"{name(c.get('source'))} ({kind}all-in about "
        head += f"{_share(c.get('all_in_cost_per_year'))})"
        reason = name(str(c.get("reason") or "").strip())
        if not reason:
            reason = (
                f"used, {money(amount)}"
                if amount > FLOW_TOLERANCE_USD
                else f"not used. {_against_cheapest(c, cheapest, name)}".strip()
            )
        out.append(f"{head}: {reason}" + ("" if reason.endswith((".", "!", "?")) else "."))
    return out


def _against_cheapest(choice: Mapping, cheapest: Mapping | None, name: Callable) -> str:
    """Why an unused source was not used, when summary.json gives no reason: its all-in cost
    against the cheapest source the plan uses."""
    cost = choice.get("all_in_cost_per_year")
    if cheapest is None or cost is None:
        return ""
    least = cheapest["all_in_cost_per_year"]
    ref = f"{name(cheapest['source'])}, the cheapest source used ({_share(least)})"
    if float(cost) > float(least):
        return f"Dearer than {ref}."
    return (
        f"Not dearer than {ref}, but its size, window or minimum does not fit what the plan "
        "needs when it needs it."
    )


def headroom_sentences(
    headroom: Sequence[Mapping],
    limits: Mapping[str, float] | None = None,
    name: Callable[[object], str] = str,
    several_paths: bool = False,
) -> list[str]:
    """Per BTC-backed facility (summary.json's ``ltv_headroom``): the BTC price at which it
    would breach its maximum loan-to-value in its tightest month (and market path, when the
    plan has several), against the plan's price then. ``limits``: each facility's
    ``max_ltv_share``, when known."""
    out = []
    for h in headroom:
        facility, month = name(h.get("facility")), h.get("month")
        if several_paths and h.get("scenario") is not None:
            month = f"{month} on path {name(h['scenario'])}"
        limit = (limits or {}).get(str(h.get("facility")))
        line = f"its {limit:.0%} loan-to-value limit" if limit else "its loan-to-value limit"
        breach, plan = h.get("breach_btc_price_usd"), h.get("plan_btc_price_usd")
        if breach is None or plan is None or float(breach) <= 0:
            out.append(
                f"{facility} carries no balance against BTC: no price fall can breach {line}."
            )
        elif float(breach) >= float(plan):
            out.append(
                f"{facility} is at {line} in {month}: any fall below the plan's BTC price "
                f"(${float(plan):,.0f}) forces a repayment or more collateral."
            )
        else:
            fall = 1.0 - float(breach) / float(plan)
            out.append(
                f"{facility}: BTC at ${float(breach):,.0f} would breach {line} in {month}, its "
                f"tightest month, against the plan's ${float(plan):,.0f} (a fall of {fall:.0%})."
            )
    return out


def ltv_fan(funding: pd.DataFrame, probabilities: Mapping[str, float]) -> pd.DataFrame:
    """Per BTC-backed facility and month, the P5 / P50 / P95 of its loan-to-value across the
    market paths (probability-weighted lower quantiles, optimizer/risk.py), columns
    ``facility, month, ltv_p5, ltv_p50, ltv_p95``; empty unless the plan has several paths with
    probabilities. A path with no balance that month counts as 0."""
    cols = ["facility", "month", "ltv_p5", "ltv_p50", "ltv_p95"]
    if "scenario" not in funding.columns or not probabilities or funding.empty:
        return pd.DataFrame(columns=cols)
    loans = funding[funding["kind"] == "btc_loan"]
    if loans.empty or loans["scenario"].nunique() < 2:
        return pd.DataFrame(columns=cols)
    rows = []
    for (facility, month), group in loans.groupby(["source", "month"], sort=False):
        ltv = group["ltv_share"].astype(float).fillna(0.0).to_numpy()
        prob = group["scenario"].map(probabilities).to_numpy(dtype=float)
        rows.append([facility, month, *(_quantile(ltv, prob, q) for q in (0.05, 0.50, 0.95))])
    return pd.DataFrame(rows, columns=cols).sort_values(["facility", "month"], kind="stable")


def worst_ltv_sentence(
    fan: pd.DataFrame,
    limits: Mapping[str, float] | None = None,
    name: Callable[[object], str] = str,
) -> str | None:
    """The month and facility whose loan-to-value P95 across paths is highest, with its
    P5–P95 (None without a fan or when no path borrows)."""
    if fan.empty or float(fan["ltv_p95"].max()) <= 0:
        return None
    worst = fan.loc[fan["ltv_p95"].idxmax()]
    limit = (limits or {}).get(str(worst["facility"]))
    against = f" against its {limit:.0%} limit" if limit else ""
    return (
        f"Loan-to-value across the market paths is highest for {name(worst['facility'])} in "
        f"{worst['month']}: P5 {worst['ltv_p5']:.1%} to P95 {worst['ltv_p95']:.1%}{against}."
    )


def ltv_limits(financing: object | None) -> dict[str, float]:
    """Each BTC-backed facility's ``max_ltv_share`` by name, from a portfolio's financing
    section (an object with ``btc_loans``) or its JSON form (a dict, as in inputs.json)."""
    if financing is None:
        return {}
    loans = financing.get("btc_loans") if isinstance(financing, Mapping) else financing.btc_loans
    out = {}
    for loan in loans or []:
        get = loan.get if isinstance(loan, Mapping) else lambda k, _l=loan: getattr(_l, k, None)
        if get("name") is not None and get("max_ltv_share") is not None:
            out[str(get("name"))] = float(get("max_ltv_share"))
    return out


def funding_markdown(result, summary: Mapping) -> list[str]:
    """summary.md's "Funding the plan" section of a plan (:class:`PlanResult`) whose portfolio
    offers financing; the caller checks ``result.tables.funding is not None``."""
    p = result.portfolio
    return funding_lines(
        result.tables.funding,
        summary,
        p.treasury.min_btc,
        path_probabilities(result.scenario_values),
        ltv_limits(getattr(p, "financing", None)),
    )


SCHEDULE_HEADERS = {
    "source": "source",
    "quarter": "quarter",
    "drawn_usd": "drawn",
    "repaid_usd": "repaid",
    "balance_usd": "balance at quarter end",
    "interest_usd": "interest",
    "fees_usd": "fees",
}


def funding_lines(
    funding: pd.DataFrame,
    summary: Mapping,
    min_btc: float,
    probabilities: Mapping[str, float],
    limits: Mapping[str, float] | None = None,
) -> list[str]:
    """The "Funding the plan" section as Markdown lines: sources in all, the HODL cost,
    sources by quarter, the debt schedule, why each source was (not) used, the LTV headroom
    and, for a stochastic plan, the worst month's loan-to-value P5–P95 across paths."""
    lines = ["## Funding the plan", ""]
    said = sources_sentence(summary, md_text)
    lines += [said, ""] if said else []
    lines += [hodl_sentence(min_btc, summary.get("hodl_cost_usd_per_btc_year")), ""]
    paths = funding["scenario"].nunique() if "scenario" in funding.columns else 1
    over = f", expected over the {paths} market paths" if paths > 1 and probabilities else ""
    by_q = sources_by_quarter(funding, probabilities)
    by_q = by_q[by_q["total_usd"].abs() > FLOW_TOLERANCE_USD]
    if not by_q.empty:
        shown = by_q.map(lambda v: money(v) if isinstance(v, float) else v)
        shown.columns = [md_text(c) if c != "total_usd" else "total" for c in by_q.columns]
        lines += [f"Sources of cash by quarter{over}:", "", _table(shown)]
    schedule = debt_schedule(funding, probabilities)
    if not schedule.empty:
        shown = compact_schedule(schedule)[list(SCHEDULE_HEADERS)].map(
            lambda v: money(v) if isinstance(v, float) else v
        )
        shown.columns = list(SCHEDULE_HEADERS.values())
        lines += [f"Debt schedule{over}:", "", _table(shown)]
    choices = choice_sentences(summary.get("funding_choices") or [], md_text)
    if choices:
        lines += ["Why each offered source was or was not used:", "", *(f"- {c}" for c in choices)]
        lines.append("")
    several = paths > 1 and bool(probabilities)
    headroom = headroom_sentences(summary.get("ltv_headroom") or [], limits, md_text, several)
    worst = worst_ltv_sentence(ltv_fan(funding, probabilities), limits, md_text)
    if headroom or worst:
        lines += ["Margin-call headroom:", ""]
        lines += [f"- {h}" for h in headroom] + ([f"- {worst}"] if worst else []) + [""]
    return lines
