"""The report's charts as PNG bytes (matplotlib on a bare Agg canvas: no pyplot state)."""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from matplotlib import dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from realloc.optimizer.statistics import weighted_quantile
from realloc.reports.board.data import Run
from realloc.reports.board.figures import (
    Payback,
    bridge_frame,
    cash_floor,
    frontier_frame,
    payback,
    treasury_fan,
)
from realloc.reports.summary_md import money

USE_ORDER = ("mining", "hosting", "constructing", "ready_idle", "unused")
USE_LABELS = {
    "mining": "Mining",
    "hosting": "AI hosting",
    "constructing": "Under construction",
    "ready_idle": "Built, awaiting tenant",
    "unused": "Unused grid",
}
USE_COLORS = {
    "mining": "#e8871e",
    "hosting": "#2f6db5",
    "constructing": "#f2c14e",
    "ready_idle": "#8cc084",
    "unused": "#e3e3e3",
}
# --------------------------------------------------------------------------- charts


def _mpl(text: object) -> str:
    """User text made safe for matplotlib: no mathtext, not hidden from legends."""
    s = str(text).replace("$", r"\$")
    return "\u200b" + s if s.startswith("_") else s


def _months_x(months: Iterable[str]) -> pd.DatetimeIndex:
    return pd.PeriodIndex(list(months), freq="M").to_timestamp()


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)  # Agg canvas on a bare Figure: no pyplot state, no backend switch
    return fig


def _png(fig: Figure, dpi: int = 110) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


_MW = FuncFormatter(lambda v, _: f"{v:,.0f}")
_USD = FuncFormatter(lambda v, _: money(v))


def _fine_usd(ax_axis) -> None:
    """A money axis with as many decimals as its tick spacing needs ($1.535B, $1.540B, ...),
    where :func:`money`'s three figures would print the same label on every tick."""

    def fmt(v: float, _pos: int | None = None) -> str:
        lo, hi = ax_axis.get_view_interval()
        top = max(abs(lo), abs(hi), 1.0)
        scale, suffix = (1e9, "B") if top >= 1e9 else (1e6, "M") if top >= 1e6 else (1.0, "")
        ticks = [t / scale for t in ax_axis.get_majorticklocs()]
        digits = next(  # the fewest decimals that print every tick exactly
            (d for d in range(5) if all(abs(round(t, d) - t) < 1e-9 for t in ticks)), 4
        )
        sign = "-" if v < 0 else ""
        return f"{sign}${abs(v) / scale:,.{digits}f}{suffix}"

    ax_axis.set_major_formatter(FuncFormatter(fmt))


def _shades(base: str, n: int) -> list:
    """``n`` distinguishable shades around one colour (dark to light)."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(base)
    if n == 1:
        return [(r, g, b)]
    out = []
    for i in range(n):
        t = -0.45 + 0.9 * i / (n - 1)  # darker … lighter
        if t < 0:
            out.append((r * (1 + t), g * (1 + t), b * (1 + t)))
        else:
            out.append((r + (1 - r) * t, g + (1 - g) * t, b + (1 - b) * t))
    return out


def capacity_series(plan: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, tuple[str, object]]]:
    """Portfolio grid MW per month by (use, detail): mining by fleet group, hosting by contract.

    Returns the month × series frame and, per series column, its (label, colour).
    """
    p = plan.copy()
    p["detail"] = p["detail"].where(p["use"].isin(["mining", "hosting"]), "")
    p["key"] = p["use"] + "\x1f" + p["detail"]
    wide = p.pivot_table(index="month", columns="key", values="power_mw", aggfunc="sum").fillna(0)
    wide = wide.sort_index()
    keys: list[str] = []
    styles: dict[str, tuple[str, object]] = {}
    for use in USE_ORDER:
        mine = [k for k in wide.columns if k.split("\x1f", 1)[0] == use]
        mine = [k for k in mine if wide[k].abs().max() > 1e-6]
        # biggest first so the stack reads bottom-up by size
        mine.sort(key=lambda k: -wide[k].sum())
        colors = _shades(USE_COLORS[use], len(mine)) if use in ("mining", "hosting") else None
        for i, k in enumerate(mine):
            detail = k.split("\x1f", 1)[1]
            label = f"{USE_LABELS[use]}: {detail}" if detail else USE_LABELS[use]
            styles[k] = (label, colors[i] if colors else USE_COLORS[use])
            keys.append(k)
    return wide[keys], styles


def capacity_chart(plan: pd.DataFrame) -> bytes:
    wide, styles = capacity_series(plan)
    x = _months_x(wide.index)
    n = len(wide.columns)
    fig = _figure(11, 5.2 + max(0, n - 14) * 0.18)
    ax = fig.subplots()
    if n:
        ax.stackplot(
            x,
            wide.T.to_numpy(),
            labels=[_mpl(styles[k][0]) for k in wide.columns],
            colors=[styles[k][1] for k in wide.columns],
            linewidth=0.3,
            edgecolor="white",
        )
    ax.set_title("Portfolio grid power by use (MW)", fontsize=13, fontweight="bold", loc="left")
    ax.set_ylabel("Grid power, MW")
    ax.yaxis.set_major_formatter(_MW)
    ax.margins(x=0)
    ax.grid(axis="y", alpha=0.3)
    _stacked_legend(ax)
    return _png(fig)


def _stacked_legend(ax) -> None:
    """The legend right of the plot, in the stacking order read top down (last series first)."""
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(
        handles[::-1],
        labels[::-1],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
        frameon=False,
    )


def site_capacity_chart(plan: pd.DataFrame) -> bytes:
    sites = list(dict.fromkeys(plan["site"]))
    ncols = min(3, len(sites))
    nrows = math.ceil(len(sites) / ncols)
    fig = _figure(11, 2.6 * nrows + 0.6)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, squeeze=False)).ravel()
    uses = [u for u in USE_ORDER if u in set(plan["use"])]
    for ax, site in zip(axes, sites, strict=False):
        sub = plan[plan["site"] == site]
        wide = (
            sub.pivot_table(index="month", columns="use", values="power_mw", aggfunc="sum")
            .reindex(columns=uses)
            .fillna(0)
            .sort_index()
        )
        ax.stackplot(
            _months_x(wide.index),
            wide.T.to_numpy(),
            labels=[USE_LABELS[u] for u in uses],
            colors=[USE_COLORS[u] for u in uses],
            linewidth=0,
        )
        ax.set_title(_mpl(site), fontsize=10, loc="left")
        ax.yaxis.set_major_formatter(_MW)
        ax.margins(x=0)
        ax.grid(axis="y", alpha=0.3)
        ax.tick_params(labelsize=8)
        locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    for ax in axes[len(sites) :]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(uses), frameon=False)
    fig.suptitle(
        "Grid power by use at each site (MW)", fontsize=12, fontweight="bold", x=0.01, ha="left"
    )
    return _png(fig)


def gantt_chart(conv: pd.DataFrame, contracts: pd.DataFrame, months: Sequence[str]) -> bytes:
    conv = conv.sort_values(["start_month", "site"]).reset_index(drop=True)
    fig = _figure(11, 1.2 + 0.55 * len(conv))
    ax = fig.subplots()
    end = _months_x([months[-1]])[0] + pd.offsets.MonthEnd(1) if len(months) else None
    for i, r in conv.iterrows():
        start, ready = _months_x([r.start_month, r.ready_month])
        ax.barh(
            i,
            (ready - start).days,
            left=start,
            height=0.5,
            color=USE_COLORS["constructing"],
            edgecolor="#9a7a1f",
        )
        if end is not None and ready < end:
            ax.barh(
                i,
                (end - ready).days,
                left=ready,
                height=0.5,
                color=USE_COLORS["hosting"],
                alpha=0.35,
            )
        ax.annotate(
            _mpl(f"{r.it_mw:,.1f} MW IT, {money(r.capex_usd)}; ready {r.ready_month}"),
            (ready, i),
            xytext=(9, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    ax.set_yticks(range(len(conv)), [_mpl(s) for s in conv["site"]], fontsize=9)
    ax.invert_yaxis()
    if len(months):
        ax.set_xlim(_months_x([months[0]])[0], end)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(
        "Conversion timeline: construction (yellow), then available for hosting (blue)",
        fontsize=11,
        fontweight="bold",
        loc="left",
    )
    if not contracts.empty:
        for r in contracts.itertuples():
            rows = [i for i, s in enumerate(conv["site"]) if s == r.site]
            x = _months_x([r.first_month_in_horizon])[0]
            for i in rows:
                ax.plot(x, i, marker="D", color="#1b3f73", markersize=5)
    return _png(fig)


def treasury_chart(tre: pd.DataFrame, floor: float | None, gap: pd.DataFrame) -> bytes:
    x = _months_x(tre["month"])
    fig = _figure(11, 6.4)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    width = 20  # days
    top.fill_between(x, tre["btc_held"], color="#f2a93b", alpha=0.35, label="BTC held (month end)")
    top.plot(x, tre["btc_held"], color="#c47a12", linewidth=1.5)
    top.bar(x, tre["btc_sold"], width=width, color="#b83a3a", label="BTC sold in month")
    top.set_ylabel("BTC")
    top.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    top.grid(axis="y", alpha=0.3)
    price = top.twinx()
    price.plot(
        x,
        tre["btc_price_usd"],
        color="#444444",
        linestyle="--",
        linewidth=1.2,
        label="BTC price (right axis)",
    )
    price.set_ylabel("BTC price, USD")
    price.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"${v:,.0f}"))
    price.set_ylim(bottom=0)
    top.set_title(
        "Treasury: BTC held and sold, BTC price", fontsize=12, fontweight="bold", loc="left"
    )

    bottom.plot(x, tre["cash_usd"], color="#2f6db5", linewidth=1.8, label="Cash (month end)")
    if floor is not None:
        bottom.axhline(
            floor, color="#b83a3a", linestyle=":", linewidth=1.5, label=f"Cash floor {money(floor)}"
        )
    if not gap.empty and (gap["gap_usd"] > 0.5).any():
        gx = _months_x(gap["month"])
        bottom.bar(gx, gap["gap_usd"], width=width, color="#d62728", alpha=0.6, label="Funding gap")
    bottom.yaxis.set_major_formatter(_USD)
    bottom.set_ylabel("USD")
    bottom.set_ylim(bottom=min(0.0, float(tre["cash_usd"].min()) * 1.05))
    bottom.grid(axis="y", alpha=0.3)
    handles, labels = [], []
    for ax in (top, price, bottom):
        h, lab = ax.get_legend_handles_labels()
        handles += h
        labels += lab
    fig.legend(
        handles, labels, loc="outside lower center", ncols=len(labels), frameon=False, fontsize=9
    )
    bottom.set_title("Cash", fontsize=11, loc="left")
    bottom.margins(x=0.01)
    return _png(fig)


def bridge_chart(bridge: pd.DataFrame, base_total: float, plan_total: float) -> bytes:
    rows = bridge[bridge["change_usd"].abs() > 1e-6 * max(abs(base_total), abs(plan_total), 1)]
    labels = ["Status quo", *[_mpl(s) for s in rows["label"]]]
    changes = rows["change_usd"].to_numpy()
    residual = plan_total - base_total - changes.sum()
    if abs(residual) > 1e-4 * max(abs(plan_total), 1.0):
        labels.append("Other / not split by term")
        changes = np.append(changes, residual)
    labels.append("Plan")
    fig = _figure(11, 1.4 + 0.42 * len(labels))
    ax = fig.subplots()
    level = base_total
    scale = max(abs(base_total), abs(plan_total), *(np.abs(changes) if changes.size else [0]))
    pad = 0.01 * scale

    def label(y: int, left: float, right: float, v: float, total: bool = False) -> None:
        text = money(v) if total or v < 0 else "+" + money(v)
        ax.text(max(left, right) + pad, y, _mpl(text), va="center", fontsize=8)

    ax.barh(0, base_total, color="#7f7f7f")
    label(0, 0, base_total, base_total, total=True)
    for i, v in enumerate(changes, start=1):
        ax.barh(i, v, left=level, color="#3a9a4a" if v >= 0 else "#c0392b")
        label(i, level, level + v, v)
        level += v
    last = len(labels) - 1
    ax.barh(last, plan_total, color="#2f6db5")
    label(last, 0, plan_total, plan_total, total=True)
    ax.set_yticks(range(len(labels)), labels, fontsize=9)
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    ax.xaxis.set_major_formatter(_USD)
    ax.grid(axis="x", alpha=0.3)
    lo, hi = ax.get_xlim()
    ax.set_xlim(lo - 0.03 * scale if lo < 0 else lo, hi + 0.12 * scale)
    ax.set_title(
        "Value bridge: status quo to plan, by objective term (discounted USD)",
        fontsize=12,
        fontweight="bold",
        loc="left",
    )
    return _png(fig)


def payback_chart(pay: Payback) -> bytes:
    """Cumulative (plan − status quo) cash by month: below zero while the plan is behind (red),
    above once it is ahead (green), with the payback month marked."""
    x = _months_x(pay.months)
    y = np.asarray(pay.cumulative_usd)
    fig = _figure(11, 3.1)
    ax = fig.subplots()
    ax.fill_between(x, y, 0, where=y < 0, color="#c0392b", alpha=0.25, interpolate=True)
    ax.fill_between(x, y, 0, where=y >= 0, color="#3a9a4a", alpha=0.25, interpolate=True)
    ax.plot(x, y, color="#1d2733", linewidth=1.6)
    ax.axhline(0, color="black", linewidth=0.8)
    if pay.trough_month is not None:
        tx = _months_x([pay.trough_month])[0]
        ax.plot(tx, pay.trough_usd, marker="o", color="#c0392b")
        ax.annotate(
            _mpl(f"low {money(pay.trough_usd)} ({pay.trough_month})"),
            (tx, pay.trough_usd),
            xytext=(0, -7),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=9,
        )
    if pay.month is not None:
        px = _months_x([pay.month])[0]
        ax.axvline(px, color="#23773a", linestyle="--", linewidth=1.2)
        ax.annotate(
            _mpl(f"payback {pay.month}"),
            (px, 0),
            xytext=(-6, 8),
            textcoords="offset points",
            ha="right",
            fontsize=9,
            color="#23773a",
            fontweight="bold",
        )
    ax.yaxis.set_major_formatter(_USD)
    ax.margins(x=0, y=0.18)  # room for the labels above and below the curve
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(
        "Cumulative cash: plan minus status quo (undiscounted)",
        fontsize=12,
        fontweight="bold",
        loc="left",
    )
    return _png(fig)


def treasury_fan_chart(
    expected: pd.DataFrame, fan: pd.DataFrame, floor: float | None, gap: pd.DataFrame
) -> bytes:
    """The treasury over market paths: expected BTC held, sold and price, and expected cash,
    each with its P5–P95 band across paths (``fan``, from :func:`treasury_fan`)."""
    fig = _figure(11, 6.4)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    price = _btc_fan_panel(top, expected, fan)
    _cash_fan_panel(bottom, expected, fan, floor, gap)
    handles, labels = [], []
    for ax in (top, price, bottom):
        h, lab = ax.get_legend_handles_labels()
        handles += h
        labels += lab
    fig.legend(handles, labels, loc="outside lower center", ncols=4, frameon=False, fontsize=8.5)
    bottom.set_title("Cash", fontsize=11, loc="left")
    bottom.margins(x=0.01)
    return _png(fig)


_FAN_BAR_DAYS = 20
"""Width of the monthly bars (BTC sold, funding gap) of the treasury fan chart, in days."""


def _btc_fan_panel(top, expected: pd.DataFrame, fan: pd.DataFrame):
    """BTC held (band and expected) and sold on ``top``, the BTC price on a right-hand axis
    (returned, for the legend)."""
    x = _months_x(expected["month"])
    fx = _months_x(fan["month"])
    top.fill_between(
        fx,
        fan["btc_held_p5"],
        fan["btc_held_p95"],
        color="#f2a93b",
        alpha=0.35,
        label="BTC held, P5–P95 of paths",
    )
    top.plot(x, expected["btc_held"], color="#c47a12", linewidth=1.6, label="BTC held, expected")
    top.bar(
        x, expected["btc_sold"], width=_FAN_BAR_DAYS, color="#b83a3a", label="BTC sold, expected"
    )
    top.set_ylabel("BTC")
    top.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    top.set_ylim(bottom=0)
    top.grid(axis="y", alpha=0.3)
    price = top.twinx()
    for tag, label in (("p5", "BTC price, P5 and P95 (right axis)"), ("p95", None)):
        price.plot(  # thin lines, not a band: a band would cover the BTC-held band below
            fx,
            fan[f"btc_price_usd_{tag}"],
            color="#777777",
            linestyle=":",
            linewidth=1.0,
            label=label,
        )
    price.plot(
        x,
        expected["btc_price_usd"],
        color="#444444",
        linestyle="--",
        linewidth=1.2,
        label="BTC price, expected (right axis)",
    )
    price.set_ylabel("BTC price, USD")
    price.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"${v:,.0f}"))
    price.set_ylim(bottom=0)
    top.set_title(
        "Treasury across market paths: BTC held and sold, BTC price",
        fontsize=12,
        fontweight="bold",
        loc="left",
    )
    return price


def _cash_fan_panel(
    bottom, expected: pd.DataFrame, fan: pd.DataFrame, floor: float | None, gap: pd.DataFrame
) -> None:
    """Cash (band, P50 and expected), the cash floor and the expected funding gap on
    ``bottom``."""
    x = _months_x(expected["month"])
    fx = _months_x(fan["month"])
    bottom.fill_between(
        fx,
        fan["cash_usd_p5"],
        fan["cash_usd_p95"],
        color="#2f6db5",
        alpha=0.2,
        label="Cash, P5–P95 of paths",
    )
    bottom.plot(
        fx, fan["cash_usd_p50"], color="#2f6db5", linestyle=":", linewidth=1.2, label="Cash, P50"
    )
    bottom.plot(x, expected["cash_usd"], color="#2f6db5", linewidth=1.8, label="Cash, expected")
    if floor is not None:
        bottom.axhline(
            floor, color="#b83a3a", linestyle=":", linewidth=1.5, label=f"Cash floor {money(floor)}"
        )
    if not gap.empty and (gap["gap_usd"] > 0.5).any():
        gx = _months_x(gap["month"])
        bottom.bar(
            gx,
            gap["gap_usd"],
            width=_FAN_BAR_DAYS,
            color="#d62728",
            alpha=0.6,
            label="Funding gap, expected",
        )
    bottom.yaxis.set_major_formatter(_USD)
    bottom.set_ylabel("USD")
    low = min(float(fan["cash_usd_p5"].min()), float(expected["cash_usd"].min()))
    bottom.set_ylim(bottom=min(0.0, low * 1.05))
    bottom.grid(axis="y", alpha=0.3)


def value_range_chart(values: pd.DataFrame, block: dict) -> bytes:
    """The plan's and the status quo's value on every market path (one dot per path, its size
    by probability), with the P5–P95 band, the median tick, the expected value (diamond) and
    the plan's CVaR (red tick). A range chart rather than a histogram: it reads the same for
    2 paths or 500."""
    alpha = float(block.get("cvar_alpha", 0.95))
    prob = values["probability"].to_numpy(dtype=float)
    rows = [("Plan", values["value_usd"], "#2f6db5")]
    if "baseline_value_usd" in values.columns and values["baseline_value_usd"].notna().any():
        rows.append(("Status quo", values["baseline_value_usd"], "#7f7f7f"))
    fig = _figure(11, 1.1 + 0.75 * len(rows))
    ax = fig.subplots()
    for y, (_label, series, color) in enumerate(rows):
        ok = series.notna().to_numpy()
        v, w = series.to_numpy(dtype=float)[ok], prob[ok]
        w = w / w.sum()
        p5, p50, p95 = (weighted_quantile(v, w, q) for q in (0.05, 0.5, 0.95))
        ax.plot([p5, p95], [y, y], color=color, linewidth=10, alpha=0.25, solid_capstyle="butt")
        ax.scatter(v, np.full(len(v), y), s=20 + 300 * w, color=color, alpha=0.55, zorder=3)
        ax.plot([p50, p50], [y - 0.2, y + 0.2], color=color, linewidth=2, zorder=4)
        ax.scatter([float(np.dot(v, w))], [y], marker="D", s=60, color="black", zorder=5)
    if block.get("cvar_usd") is not None:
        cvar = float(block["cvar_usd"])
        ax.plot([cvar, cvar], [-0.3, 0.3], color="#c0392b", linewidth=2, zorder=4)
        ax.annotate(
            _mpl(f"CVaR {alpha:.0%} {money(cvar)}"),
            (cvar, -0.3),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8.5,
            color="#c0392b",
        )
    ax.set_yticks(range(len(rows)), [r[0] for r in rows], fontsize=10)
    ax.set_ylim(len(rows) - 0.5, -0.75)
    _fine_usd(ax.xaxis)
    ax.margins(x=0.06)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(
        f"Value on each of {len(values)} market paths (discounted USD)",
        fontsize=12,
        fontweight="bold",
        loc="left",
    )
    return _png(fig)


def frontier_chart(frontier: pd.DataFrame, block: dict) -> bytes:
    """Expected value against CVaR, one point per CVaR weight λ, the plan's own λ ringed."""
    alpha = float(block.get("cvar_alpha", 0.95))
    f = frontier.dropna(subset=["cvar_usd", "expected_value_usd"]).sort_values("risk_weight")
    fig = _figure(11, 2.6)
    ax = fig.subplots()
    ax.plot(f["cvar_usd"], f["expected_value_usd"], "-o", color="#2f6db5", zorder=2)
    # one label per distinct point: weights that give the same plan share it
    span = max(float(f["expected_value_usd"].abs().max()), 1.0) * 1e-6
    labelled: list[tuple[float, float, list[str]]] = []
    for r in f.itertuples():
        mw = getattr(r, "it_mw_converted", float("nan"))
        text = f"{r.risk_weight:g}" + (f" ({mw:,.0f} MW)" if np.isfinite(mw) else "")
        for x, y, texts in labelled:
            if abs(x - r.cvar_usd) <= span and abs(y - r.expected_value_usd) <= span:
                texts.append(text)
                break
        else:
            labelled.append((r.cvar_usd, r.expected_value_usd, [text]))
    for x, y, texts in labelled:
        ax.annotate(
            "λ = " + ", ".join(texts),
            (x, y),
            xytext=(7, 4),
            textcoords="offset points",
            fontsize=8.5,
        )
    chosen = f[np.isclose(f["risk_weight"], float(block.get("risk_weight", 0.0)))]
    if not chosen.empty:
        ax.scatter(
            chosen["cvar_usd"],
            chosen["expected_value_usd"],
            s=180,
            facecolors="none",
            edgecolors="#c0392b",
            linewidths=2,
            label="this plan",
            zorder=3,
        )
        ax.legend(loc="lower left", frameon=False)
    ax.set_xlabel(f"CVaR {alpha:.0%}: mean value of the worst {1 - alpha:.0%} of paths")
    ax.set_ylabel("Expected value")
    _fine_usd(ax.xaxis)
    _fine_usd(ax.yaxis)
    ax.margins(x=0.15, y=0.2)
    ax.grid(alpha=0.3)
    ax.set_title(
        "Efficient frontier: expected value against downside, by weight λ on the downside",
        fontsize=12,
        fontweight="bold",
        loc="left",
    )
    return _png(fig)


def charts(run: Run) -> dict[str, bytes]:
    """PNG charts of the run by name (a chart whose data is missing is left out)."""
    out: dict[str, bytes] = {}
    plan = run.table("plan")
    if not plan.empty:
        out["capacity"] = capacity_chart(plan)
        out["site_capacity"] = site_capacity_chart(plan)
    conv = run.table("conversions")
    months = list(dict.fromkeys(plan["month"])) if not plan.empty else []
    if not conv.empty:
        out["gantt"] = gantt_chart(conv, run.table("contracts"), months)
    tre = run.table("treasury")
    fan = treasury_fan(run)
    if not tre.empty and not fan.empty:
        out["treasury"] = treasury_fan_chart(
            tre, fan, cash_floor(run.summary), run.table("funding_gap")
        )
    elif not tre.empty:
        gap = run.table("funding_gap")
        out["treasury"] = treasury_chart(tre, cash_floor(run.summary), gap)
    pay = payback(run)
    if pay is not None and not pay.never_behind:
        out["payback"] = payback_chart(pay)
    bridge = bridge_frame(run)
    base, value = run.summary.get("baseline_value_usd"), run.summary.get("value_usd")
    if not bridge.empty and base is not None and value is not None:
        out["bridge"] = bridge_chart(bridge, float(base), float(value))
    block, values = run.stochastic, run.table("scenario_values")
    if block and not values.empty and {"probability", "value_usd"} <= set(values.columns):
        out["value_range"] = value_range_chart(values, block)
    frontier = frontier_frame(run)
    if block and not frontier.empty:
        out["frontier"] = frontier_chart(frontier, block)
    return out
