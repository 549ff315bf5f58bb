"""The value said plainly: how much of a plan's value, and of its uplift, is earned inside the
horizon and how much after it (contracted rent, rigs' resale), and which decisions would change
if the rent after the horizon were ignored. Plain sentences from summary.json's
``value_split_usd``, ``baseline_value_split_usd``, ``uplift_split_usd`` (optimizer/statistics.py)
and ``decisions_without_rent_after_horizon`` (optimizer/without_rent.py), for summary.md and
the board report alike; ``name`` formats a site, contract or fleet name for the document."""

from __future__ import annotations

from collections.abc import Callable

from realloc.reports.md_format import money

INSIDE, RENT, SALVAGE = "inside_horizon_usd", "rent_after_horizon_usd", "fleet_salvage_usd"


def value_split_sentences(summary: dict) -> list[str]:
    """The plan's value and its uplift split by when they are earned (nothing without a
    split). Values of a plan over market paths are expected values."""
    plan, base = summary.get("value_split_usd"), summary.get("baseline_value_split_usd")
    if not plan:
        return []
    expected = "expected " if "stochastic" in summary else ""
    said = (
        f"Of the plan's {expected}value of {money(summary.get('value_usd'))}, "
        f"{money(plan[INSIDE])} is earned inside the horizon, {money(plan[RENT])} is "
        f"contracted rent after it and {money(plan[SALVAGE])} the resale value of rigs still "
        "owned at its end"
    )
    if base:
        said += f" (status quo: {money(base[INSIDE])}, {money(base[RENT])} and "
        said += f"{money(base[SALVAGE])})"
    return [said + ".", *uplift_split_sentence(summary)]


def uplift_split_sentence(summary: dict) -> list[str]:
    """How much of the uplift comes after the horizon, in one sentence (nothing without a
    split of the uplift)."""
    up = summary.get("uplift_split_usd")
    if not up:
        return []
    side = "more" if up[INSIDE] >= 0 else "less"
    return [
        f"Of the {money(summary.get('uplift_usd'))} uplift, {money(up[RENT])} comes from "
        f"contracted rent after the horizon and {money(up[SALVAGE])} from rigs' resale at its "
        f"end; inside the horizon the plan is worth {money(abs(up[INSIDE]))} {side} than the "
        "status quo."
    ]


KIND_WORDS = {
    "it_mw_converted_by_site": ("convert", "IT MW at"),
    "contract_it_mw": ("host", "IT MW for"),
    "rigs_sold_mw": ("sell", "MW of rigs of"),
}


def without_rent_sentences(summary: dict, name: Callable[[str], str] = str) -> list[str]:
    """Which decisions would change if the rent after the horizon were ignored: a sentence
    only when they would (or when that plan could not be made)."""
    block = summary.get("decisions_without_rent_after_horizon")
    if not block:
        return []
    end = block.get("horizon_end_month", "the horizon")
    if block.get("status") != "optimal":
        return [
            f"Planned again ignoring contracted rent after {end}, the portfolio has no "
            f"optimal plan (status {block.get('status')})."
        ]
    if not block.get("changed"):
        return []
    parts = []
    for c in block["changes"]:
        verb, what = KIND_WORDS[c["kind"]]
        parts.append(
            f"{verb} {c['without_rent_mw']:,.1f} instead of {c['plan_mw']:,.1f} {what} "
            f"{name(c['name'])}"
        )
    value = block.get("value_usd")
    cost = ""
    if value is not None and summary.get("value_usd") is not None:
        cost = (
            f" That plan is worth {money(value)} (rent after the horizon counted), "
            f"{money(summary['value_usd'] - value)} less than this one."
        )
    return [f"Without contracted rent after {end} the plan would " + "; ".join(parts) + "." + cost]


SPLIT_KEYS = ("value_split_usd", "baseline_value_split_usd", "uplift_split_usd")


def split_rows(summary: dict) -> list[tuple[str, float, str]]:
    """The three splits as (item, value, unit) rows for the workbook's summary sheet, e.g.
    ``uplift_split_usd.rent_after_horizon_usd``."""
    return [
        (f"{key}.{bucket}", float(v), "USD")
        for key in SPLIT_KEYS
        for bucket, v in (summary.get(key) or {}).items()
    ]


def split_key_figures(summary: dict) -> list[tuple[str, str]]:
    """The uplift's split as key figures of the board report's first page."""
    up = summary.get("uplift_split_usd")
    if not up:
        return []
    # one row, so the first page keeps room for what holds the plan back
    return [
        (
            "Uplift inside the horizon / rent after it / rigs' resale",
            f"{money(up[INSIDE])} / {money(up[RENT])} / {money(up[SALVAGE])}",
        )
    ]
