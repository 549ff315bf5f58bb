"""The charts of the board report's "Funding the plan" section, as PNG bytes, drawn like the
report's other charts (reports/board/charts.py: a bare Agg figure, fixed size and dpi, so the
same run folder gives the same bytes): cash raised by source and quarter, stacked, and each
BTC-backed facility's loan-to-value by month (its P5–P95 band across market paths in a
stochastic plan) against its limit."""

from __future__ import annotations

import numpy as np
import pandas as pd

from realloc.reports.board.charts import (
    _USD,
    _figure,
    _months_x,
    _mpl,
    _png,
    _shades,
    _stacked_legend,
)
from realloc.reports.board.data import Run
from realloc.reports.funding_report import (
    KIND_ORDER,
    expected_funding,
    ltv_fan,
    ltv_limits,
    sources_by_quarter,
)

KIND_COLORS = {
    "btc_sale": "#e8871e",
    "tenant_prepayment": "#8cc084",
    "btc_loan": "#2f6db5",
    "note": "#7b5ea7",
    "project_loan": "#2a9d8f",
    "equity": "#c0392b",
}


def funding_frame(run: Run) -> pd.DataFrame:
    """funding.csv as written (every path's rows; empty when the plan has no financing)."""
    return run.all_tables.get("funding", pd.DataFrame())


def source_colors(funding: pd.DataFrame, sources: list[str]) -> dict[str, object]:
    """A colour per source: one hue per kind of source, shades of it within the kind."""
    kinds = dict(zip(funding["source"], funding["kind"], strict=False))
    out: dict[str, object] = {}
    for kind in KIND_ORDER:
        mine = [s for s in sources if kinds.get(s) == kind]
        out.update(zip(mine, _shades(KIND_COLORS[kind], len(mine)), strict=True))
    rest = [s for s in sources if s not in out]  # a kind this report does not know
    out.update(zip(rest, _shades("#7f7f7f", len(rest)), strict=True))
    return out


def sources_chart(by_q: pd.DataFrame, colors: dict[str, object], expected: bool) -> bytes:
    """Cash raised per quarter, one stacked bar per quarter, one segment per source."""
    sources = [c for c in by_q.columns if c not in ("quarter", "total_usd")]
    fig = _figure(11, 4.2)
    ax = fig.subplots()
    x = np.arange(len(by_q))
    bottom = np.zeros(len(by_q))
    for s in sources:
        values = by_q[s].to_numpy(dtype=float)
        ax.bar(x, values, bottom=bottom, width=0.7, color=colors[s], label=_mpl(s))
        bottom += values
    ax.set_xticks(x, list(by_q["quarter"]), fontsize=8, rotation=45, ha="right")
    ax.yaxis.set_major_formatter(_USD)
    ax.grid(axis="y", alpha=0.3)
    title = "Sources of cash by quarter" + (", expected over market paths" if expected else "")
    ax.set_title(title, fontsize=12, fontweight="bold", loc="left")
    _stacked_legend(ax)
    return _png(fig)


def ltv_chart(funding: pd.DataFrame, fan: pd.DataFrame, limits: dict[str, float]) -> bytes:
    """Each BTC-backed facility's loan-to-value by month: the P5–P95 band and P50 across the
    market paths when ``fan`` has them, else the plan's one path; its limit dashed."""
    loans = funding[funding["kind"] == "btc_loan"]
    facilities = list(dict.fromkeys(loans["source"]))
    colors = _shades(KIND_COLORS["btc_loan"], len(facilities))
    fig = _figure(11, 3.4)
    ax = fig.subplots()
    for facility, color in zip(facilities, colors, strict=True):
        if not fan.empty:
            band = fan[fan["facility"] == facility]
            x = _months_x(band["month"])
            ax.fill_between(x, band["ltv_p5"], band["ltv_p95"], color=color, alpha=0.25)
            ax.plot(x, band["ltv_p50"], color=color, label=_mpl(f"{facility}: P50, P5–P95 band"))
        else:
            rows = loans[loans["source"] == facility]
            ltv = rows["ltv_share"].astype(float).fillna(0.0)
            ax.plot(_months_x(rows["month"]), ltv, color=color, label=_mpl(facility))
        if facility in limits:
            ax.axhline(limits[facility], color=color, linestyle="--", linewidth=1.0)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_ylim(bottom=0)
    ax.margins(x=0)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(
        "Loan-to-value by month (dashed: each facility's limit)",
        fontsize=12,
        fontweight="bold",
        loc="left",
    )
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return _png(fig)


def funding_charts(run: Run) -> dict[str, bytes]:
    """The funding section's PNGs by name ({} for a plan without financing)."""
    funding = funding_frame(run)
    if funding.empty:
        return {}
    out: dict[str, bytes] = {}
    by_q = sources_by_quarter(funding, run.probabilities)
    sources = [c for c in by_q.columns if c not in ("quarter", "total_usd")]
    if sources:
        colors = source_colors(funding, sources)
        out["funding_sources"] = sources_chart(by_q, colors, run.expected)
    if (funding["kind"] == "btc_loan").any():
        fan = ltv_fan(funding, run.probabilities)
        path = funding if not fan.empty else expected_funding(funding, {})
        out["ltv"] = ltv_chart(path, fan, ltv_limits((run.inputs or {}).get("financing")))
    return out
