"""diff.md: the page of ``realloc diff`` (reports/plan_diff.py computes the tables).

Every name (plan folders, sites, contracts, fleet groups, input paths) goes through
:func:`~realloc.reports.safe_text.md_text`, so a contract called ``<script>`` or ``a|b`` shows
as typed and never becomes markup or breaks a table.
"""

from __future__ import annotations

import math
from typing import Any

from realloc.reports.safe_text import md_text
from realloc.reports.summary_md import money

MAX_INPUT_LINES = 200
"""Input differences listed on the page; every one is in diff_inputs.csv."""

NO_DIFFERENCES = "No differences: the two plans have the same inputs, decisions and figures."


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def same(a: object, b: object) -> bool:
    """Whether two figures are the same (to solver round-off; missing only equals missing):
    two runs of one portfolio must read "no differences" even when the last digit moves."""
    if _number(a) and _number(b):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
    return a == b


def figure(v: object, unit: str) -> str:
    """A figure as the page shows it: money in $M/$B, BTC and MW with one decimal."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if not _number(v):
        return str(v)
    if unit == "usd":
        return money(float(v))
    return f"{float(v):,.1f}"


def change(a: object, b: object, unit: str) -> str:
    """B − A with its sign ("—" when the same, "n/a" when a plan lacks the figure, "changed"
    for text)."""
    if same(a, b):
        return "—"
    if a is None or b is None:
        return "n/a"
    if not (_number(a) and _number(b)):
        return "changed"
    text = figure(float(b) - float(a), unit)
    return text if text.startswith("-") else "+" + text


def md_table(header: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table, every cell made safe by :func:`md_text`."""
    lines = ["| " + " | ".join(md_text(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md_text(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _about(label: str, run, letter: str) -> str:
    """One line naming a plan: its folder, portfolio, status, and what its figures mean."""
    line = f"- **{letter}**: {md_text(label)} ({md_text(run.name)}), status {md_text(run.status)}"
    if run.stochastic is not None:
        paths = run.stochastic.get("scenarios") or len(run.probabilities)
        line += (
            f"; a stochastic plan over {paths} market paths: its figures are expected values "
            "over the paths (BTC sold and cash: the probability-weighted path)"
        )
    return line


def _headline(d) -> list[str]:
    rows = [
        [r.label, figure(r.a, r.unit), figure(r.b, r.unit), change(r.a, r.b, r.unit)]
        for r in d.headline.itertuples()
    ]
    return ["## Headline", "", md_table(["", "A", "B", "B − A"], rows)]


def _decision_text(decision: str, mw: float, month: str, kind: str) -> str:
    """What one plan does with one site, contract or fleet group, in words."""
    if decision in ("none", "keep", "declined", "not offered", "no plan"):
        return decision
    when = f" from {month}" if month and kind != "contract" else ""
    return f"{decision} {mw:,.1f} MW{when}"


def _decision_change(r) -> str:
    """The difference of one decision in words ("" when the same)."""
    if not r.changed:
        return ""
    if r.a != r.b:
        return f"{r.a} → {r.b}"
    parts = [] if same(r.a_mw, r.b_mw) else [f"{r.b_minus_a_mw:+,.1f} MW"]
    if r.a_month != r.b_month:
        parts.append(f"start {r.a_month or '—'} → {r.b_month or '—'}")
    return ", ".join(parts)


def _decisions(d) -> list[str]:
    if d.decisions.empty:
        return ["## Decisions", "", "Neither plan converts, signs a contract or sells rigs.", ""]
    rows = [
        [
            r.kind,
            r.name,
            r.site,
            _decision_text(r.a, r.a_mw, r.a_month, r.kind),
            _decision_text(r.b, r.b_mw, r.b_month, r.kind),
            _decision_change(r),
        ]
        for r in d.decisions.itertuples()
    ]
    n = int(d.decisions["changed"].sum())
    lead = f"{n} of {len(rows)} decisions differ." if n else "The decisions are the same."
    header = ["decision", "name", "site", "A", "B", "change"]
    return ["## Decisions", "", lead, "", md_table(header, rows)]


def _value_bridge(d) -> list[str]:
    rows = [
        [r.label, figure(r.a_usd, "usd"), figure(r.b_usd, "usd"), change(r.a_usd, r.b_usd, "usd")]
        for r in d.value_bridge.itertuples()
    ]
    return [
        "## Value bridge",
        "",
        "By objective term, discounted (summary.json's value_terms_usd):",
        "",
        md_table(["term", "A", "B", "B − A"], rows),
    ]


def _btc_sold(d) -> list[str]:
    lines = ["## BTC sold", ""]
    if d.btc_sold.empty:
        return [*lines, "Neither plan sells BTC.", ""]
    rows = [
        [r.period, figure(r.a_btc_sold, "btc"), figure(r.b_btc_sold, "btc"), change(
            r.a_btc_sold, r.b_btc_sold, "btc")]
        for r in d.btc_sold.itertuples()
    ]  # fmt: skip
    return [*lines, "By year, then by quarter:", "", md_table(["period", "A", "B", "B − A"], rows)]


def _funding_line(run, letter: str, figures: dict) -> str:
    """Whether one plan is funded: its lowest cash against the floor, or its funding gap."""
    gap = figures.get("funding_gap_total_usd")
    line = (
        f"- **{letter}**: lowest cash {figure(figures.get('lowest_cash_usd'), 'usd')} against a "
        f"floor of {figure(figures.get('min_cash_usd'), 'usd')}"
    )
    if _number(gap) and gap > 0.5:
        months = run.table("funding_gap")
        first = months.loc[months["gap_usd"] > 0.5, "month"] if "gap_usd" in months else []
        start = f", first in {first.iloc[0]}" if len(first) else ""
        return f"{line}; unfunded: {money(gap)} must come from outside{start}"
    return f"{line}; funded" if run.status != "infeasible" else f"{line}; infeasible"


def _funding(d) -> list[str]:
    by_figure = {
        letter: dict(zip(d.headline["figure"], d.headline[letter], strict=True))
        for letter in ("a", "b")
    }
    return [
        "## Funding",
        "",
        _funding_line(d.a, "A", by_figure["a"]),
        _funding_line(d.b, "B", by_figure["b"]),
        "",
    ]


def _inputs(d) -> list[str]:
    lines = d.inputs.lines
    paths = [x for x, run in (("A", d.a), ("B", d.b)) if run.stochastic is not None]
    note = (
        [
            f"{' and '.join(paths)} {'plans' if len(paths) == 1 else 'plan'} over market "
            "paths drawn from a forecast or a "
            "scenario file, which inputs.json does not hold (treasury.csv has each path's BTC "
            "price).",
            "",
        ]
        if paths
        else []
    )
    if not lines:
        return ["## Inputs that differ", "", "The inputs are the same.", "", *note]
    shown = [f"- {md_text(line)}" for line in lines[:MAX_INPUT_LINES]]
    if len(lines) > MAX_INPUT_LINES:
        shown.append(f"- … {len(lines) - MAX_INPUT_LINES} more in diff_inputs.csv")
    return [
        "## Inputs that differ",
        "",
        "As paths of a variant file (A → B):",
        "",
        *shown,
        "",
        *note,
    ]


def diff_markdown(d) -> str:
    """diff.md for a :class:`~realloc.reports.plan_diff.PlanDiff`."""
    lines = [
        f"# {md_text(d.a_label)} against {md_text(d.b_label)}",
        "",
        _about(d.a_label, d.a, "A"),
        _about(d.b_label, d.b, "B"),
        "",
    ]
    if d.identical:
        return "\n".join([*lines, NO_DIFFERENCES, ""])
    for section in (_headline, _decisions, _value_bridge, _btc_sold, _funding, _inputs):
        lines += section(d)
    return "\n".join(lines).rstrip("\n") + "\n"
