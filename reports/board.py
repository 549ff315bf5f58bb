"""Board report: one self-contained HTML page and one Excel workbook built from a run folder.

The report reads only the files ``realloc plan --out DIR`` writes (README "Outputs"): those
files are the contract, so nothing here imports the optimizer. Sections, in order:

1. decision summary (a red funding-gap box first when the plan is unfunded);
2. capacity: grid MW by use over time, the portfolio and one small chart per site;
3. conversion timeline (construction start → ready, per site);
4. treasury: BTC held and sold, BTC price, cash against its floor;
5. value bridge from the status quo to the plan, by objective term;
6. appendix: solver, versions, input hash, timestamps and the verification table.

Every piece of user text (portfolio, site, fleet, contract names) is escaped in the HTML, and
text cells in the workbook that a spreadsheet would read as a formula are stored as strings.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import io
import json
import math
import os
import platform
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from reports.summary_md import TERM_LABELS, binding_constraints, money, quarter

REPORT_FORMATS = ("html", "xlsx")
"""Formats :func:`build_report` can write: ``report.html`` and ``report.xlsx``."""

RUN_TABLES = (
    "plan",
    "treasury",
    "conversions",
    "contracts",
    "rig_sales",
    "cashflows",
    "shadow_prices",
    "verification",
    "funding_gap",
)
"""The CSV files of a run folder the report reads (all optional: failed runs have none)."""

TEXT_COLUMNS = {
    "scenario",
    "month",
    "site",
    "use",
    "detail",
    "contract",
    "start_month",
    "end_month",
    "ready_month",
    "first_month_in_horizon",
    "fleet_group",
    "family",
    "meaning",
    "unit",
    "where",
}
"""Columns read as text whatever they hold (a site called ``NA`` or ``1`` stays a name)."""

BOOL_COLUMNS = {"signed", "ok"}

XLSX_SHEETS = (
    "summary",
    "value_bridge",
    "plan",
    "conversions",
    "contracts",
    "treasury",
    "shadow_prices",
    "cashflows",
    "rig_sales",
    "verification",
    "funding_gap",
)
"""Workbook sheets in order; a run without a table gets no sheet for it (summary always)."""

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
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --------------------------------------------------------------------------- reading a run


@dataclass
class Run:
    """The files of one run folder, parsed (tables missing from the folder are empty)."""

    path: Path
    summary: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def table(self, name: str) -> pd.DataFrame:
        return self.tables.get(name, pd.DataFrame())

    @property
    def status(self) -> str:
        return str(self.summary.get("status", "unknown"))

    @property
    def name(self) -> str:
        return str(self.summary.get("portfolio", self.path.name))


def _read_csv(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in frame.columns:
        if col in TEXT_COLUMNS:
            continue
        if col in BOOL_COLUMNS:
            frame[col] = frame[col].str.strip().str.lower().isin({"true", "1", "1.0"})
            continue
        numbers = pd.to_numeric(frame[col].replace("", np.nan), errors="coerce")
        if numbers.notna().sum() == (frame[col] != "").sum():
            frame[col] = numbers
    return frame


def load_run(run_dir: Path | str) -> Run:
    """Read ``summary.json`` and the CSV tables of a run folder."""
    run_dir = Path(run_dir)
    summary_path = run_dir / "summary.json"
    if not summary_path.is_file():
        raise FileNotFoundError(f"{summary_path} not found: is {run_dir} a `realloc plan` folder?")
    run = Run(run_dir, json.loads(summary_path.read_text(encoding="utf-8")))
    for name in RUN_TABLES:
        path = run_dir / f"{name}.csv"
        if path.is_file():
            run.tables[name] = _read_csv(path)
    for name in ("plan", "treasury", "funding_gap", "cashflows"):
        frame = run.tables.get(name)
        if frame is not None and "scenario" in frame.columns and frame["scenario"].nunique() > 1:
            first = frame["scenario"].iloc[0]
            run.tables[name] = frame[frame["scenario"] == first].reset_index(drop=True)
            note = f"Charts show scenario {first!r}, the first of {frame['scenario'].nunique()}."
            if note not in run.notes:
                run.notes.append(note)
    return run


# --------------------------------------------------------------------------- figures derived


def funding_gap(run: Run) -> tuple[float, str | None]:
    """Total funding gap (USD) and the first month with a gap, from the run's files."""
    gap = run.table("funding_gap")
    if gap.empty and "funding_gap_usd" in run.table("cashflows").columns:
        cf = run.table("cashflows")
        gap = cf.rename(columns={"funding_gap_usd": "gap_usd"})[["month", "gap_usd"]]
    total = run.summary.get("funding_gap_total_usd")
    first = None
    if not gap.empty:
        positive = gap[gap["gap_usd"] > 0.5]
        first = str(positive["month"].iloc[0]) if not positive.empty else None
        if total is None:
            total = float(gap["gap_usd"].sum())
    return float(total or 0.0), first


def payback_month(run: Run) -> str | None:
    """First month where the cumulative discounted plan-minus-status-quo cash flow is positive.

    Needs the status quo's monthly cash flows next to the plan's in ``cashflows.csv`` (columns
    ``baseline_<term>``); without them the payback month is not computable and None is returned.
    """
    cf = run.table("cashflows")
    if cf.empty or "discount_factor" not in cf.columns:
        return None
    terms = [t for t in _term_order(run) if t in cf.columns and f"baseline_{t}" in cf.columns]
    if not terms:
        return None
    delta = sum(cf[t] - cf[f"baseline_{t}"] for t in terms)
    cumulative = (delta * cf["discount_factor"]).cumsum()
    positive = np.flatnonzero(cumulative.to_numpy() > 0)
    return str(cf["month"].iloc[positive[0]]) if positive.size else None


def cash_floor(summary: dict) -> float | None:
    """The cash floor if summary.json carries it (it is an input, not always written)."""
    for holder in (summary, summary.get("treasury") or {}, summary.get("inputs") or {}):
        if isinstance(holder, dict) and holder.get("min_cash_usd") is not None:
            return float(holder["min_cash_usd"])
    return None


def _term_order(run: Run) -> list[str]:
    order = list(run.summary.get("value_terms_order") or [])
    for k in (run.summary.get("value_terms_usd") or {}) | (
        run.summary.get("baseline_value_terms_usd") or {}
    ):
        if k not in order:
            order.append(k)
    return order


def bridge_frame(run: Run) -> pd.DataFrame:
    """Value by objective term: status quo, plan and change (USD, discounted)."""
    plan = run.summary.get("value_terms_usd") or {}
    base = run.summary.get("baseline_value_terms_usd") or {}
    rows = []
    for k in _term_order(run):
        p, b = plan.get(k), base.get(k)
        if p is None and b is None:
            continue
        p, b = float(p or 0.0), float(b or 0.0)
        rows.append(
            {
                "term": k,
                "label": TERM_LABELS.get(k, k),
                "status_quo_usd": b,
                "plan_usd": p,
                "change_usd": p - b,
            }
        )
    return pd.DataFrame(rows, columns=["term", "label", "status_quo_usd", "plan_usd", "change_usd"])


def btc_by_quarter(run: Run) -> pd.DataFrame:
    tre = run.table("treasury")
    if tre.empty or "btc_sold" not in tre.columns:
        return pd.DataFrame(columns=["quarter", "months", "btc_sold", "usd_raised"])
    sold = tre[tre["btc_sold"] > 1e-6]
    if sold.empty:
        return pd.DataFrame(columns=["quarter", "months", "btc_sold", "usd_raised"])
    return (
        sold.assign(quarter=sold["month"].map(quarter))
        .groupby("quarter", as_index=False, sort=True)
        .agg(
            months=("month", lambda s: f"{s.iloc[0]} to {s.iloc[-1]}" if len(s) > 1 else s.iloc[0]),
            btc_sold=("btc_sold", "sum"),
            usd_raised=("usd_raised", "sum"),
        )
    )


def decisions_frame(run: Run) -> pd.DataFrame:
    """One row per decision: conversions, contracts, rig sales, BTC sales by quarter."""
    rows: list[dict] = []
    conv = run.table("conversions")
    for r in conv.sort_values("start_month").itertuples() if not conv.empty else []:
        rows.append(
            {
                "decision": "Convert to AI hosting",
                "where": r.site,
                "when": f"build {r.start_month}, ready {r.ready_month}",
                "size": f"{r.it_mw:,.1f} MW IT",
                "usd": f"capex {money(r.capex_usd)}",
            }
        )
    con = run.table("contracts")
    for r in con.sort_values("start_month").itertuples() if not con.empty else []:
        signed = bool(getattr(r, "signed", False))
        rows.append(
            {
                "decision": "Keep signed contract" if signed else "Sign hosting contract",
                "where": f"{r.contract} at {r.site}",
                "when": f"{r.start_month} to {r.end_month}",
                "size": f"{r.it_mw:,.1f} MW IT",
                "usd": f"rent in horizon {money(r.revenue_usd)}",
            }
        )
    rigs = run.table("rig_sales")
    if not rigs.empty:
        by_site = rigs.groupby("site", as_index=False, sort=False).agg(
            first=("month", "min"),
            last=("month", "max"),
            mw=("mw_sold", "sum"),
            usd=("proceeds_usd", "sum"),
        )
        for r in by_site.sort_values("first").itertuples():
            when = r.first if r.first == r.last else f"{r.first} to {r.last}"
            rows.append(
                {
                    "decision": "Sell rigs",
                    "where": r.site,
                    "when": when,
                    "size": f"{r.mw:,.1f} MW",
                    "usd": f"proceeds {money(r.usd)}",
                }
            )
    for r in btc_by_quarter(run).itertuples():
        rows.append(
            {
                "decision": "Sell BTC",
                "where": r.quarter,
                "when": r.months,
                "size": f"{r.btc_sold:,.2f} BTC",
                "usd": f"raises {money(r.usd_raised)}",
            }
        )
    return pd.DataFrame(rows, columns=["decision", "where", "when", "size", "usd"])


def key_figures(run: Run) -> list[tuple[str, str]]:
    s = run.summary
    rows = [
        ("Status", run.status),
        ("Plan value (discounted)", money(s.get("value_usd"))),
        ("Status quo value", money(s.get("baseline_value_usd"))),
        ("Value vs status quo", money(s.get("uplift_usd"))),
    ]
    if s.get("it_mw_converted_total") is not None:
        rows.append(("IT capacity converted", f"{s['it_mw_converted_total']:,.1f} MW"))
    if s.get("btc_sold_total") is not None:
        rows.append(("BTC sold in all", f"{s['btc_sold_total']:,.2f} BTC"))
    if s.get("usd_raised_total") is not None:
        rows.append(("USD raised from BTC (net)", money(s["usd_raised_total"])))
    pay = payback_month(run)
    if pay is not None:
        rows.append(("Payback month (discounted, vs status quo)", pay))
    if run.status == "unfunded":
        total, first = funding_gap(run)
        rows.append(("Funding gap", f"{money(total)}, first in {first or 'n/a'}"))
    return rows


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
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(
        handles[::-1],
        labels[::-1],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
        frameon=False,
    )
    return _png(fig)


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
            xytext=(4, 0),
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
    if not tre.empty:
        gap = run.table("funding_gap")
        out["treasury"] = treasury_chart(tre, cash_floor(run.summary), gap)
    bridge = bridge_frame(run)
    base, value = run.summary.get("baseline_value_usd"), run.summary.get("value_usd")
    if not bridge.empty and base is not None and value is not None:
        out["bridge"] = bridge_chart(bridge, float(base), float(value))
    return out


# --------------------------------------------------------------------------- HTML

CSS = """
:root { --ink:#1d2733; --muted:#5b6673; --rule:#d7dde4; --accent:#2f6db5; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: var(--ink); margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; border-bottom: 2px solid var(--accent); padding-bottom: 4px;
     margin-top: 36px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.sub { color: var(--muted); margin: 0 0 16px; }
.gap { border: 3px solid #c0392b; background: #fdecea; color: #7b1d14; padding: 14px 18px;
       border-radius: 6px; margin: 12px 0 20px; }
.gap strong.big { font-size: 22px; display: block; margin-bottom: 6px; }
.note { border-left: 4px solid #f2c14e; background: #fff9e6; padding: 8px 12px; }
table { border-collapse: collapse; margin: 8px 0 14px; font-size: 12.5px; }
th, td { border-bottom: 1px solid var(--rule); padding: 4px 8px; text-align: left;
         vertical-align: top; }
th { background: #eef2f6; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.pos { color: #23773a; } td.neg { color: #b03a2e; }
table.kv th { width: 18em; background: none; font-weight: 600; }
figure { margin: 12px 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { color: var(--muted); font-size: 12px; }
ul.binds li { margin: 3px 0; }
code { font-size: 12px; word-break: break-all; }
.ok { color: #23773a; font-weight: 600; } .fail { color: #b03a2e; font-weight: 600; }
@media print {
  @page { margin: 14mm 12mm; }
  body { max-width: none; padding: 0; font-size: 11px; }
  section { break-before: page; page-break-before: always; }
  section.first { break-before: auto; page-break-before: auto; }
  h2 { margin-top: 0; }
  figure, table, .gap { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  figure img { border: none; max-height: 235mm; }
  a { color: inherit; text-decoration: none; }
}
"""


def _e(v: object) -> str:
    return html.escape(str(v), quote=True)


def _html_table(
    frame: pd.DataFrame,
    headers: dict[str, str] | None = None,
    fmt: dict[str, object] | None = None,
    signed: Sequence[str] = (),
) -> str:
    headers, fmt = headers or {}, fmt or {}
    if frame.empty:
        return "<p><em>None.</em></p>"
    cols = list(frame.columns)
    numeric = {
        c
        for c in cols
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    }
    head = "".join(
        f'<th class="{"num" if c in numeric else ""}">{_e(headers.get(c, c))}</th>' for c in cols
    )
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for c, v in zip(cols, row, strict=True):
            cls = ["num"] if c in numeric else []
            if c in signed and isinstance(v, int | float):
                cls.append("pos" if v > 0 else "neg" if v < 0 else "")
            f = fmt.get(c)
            text = f(v) if callable(f) else (f"{v:,.2f}" if isinstance(v, float) else str(v))
            cells.append(f'<td class="{" ".join(cls)}">{_e(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _kv_table(rows: Iterable[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f'<table class="kv"><tbody>{body}</tbody></table>'


def _img(png: bytes | None, alt: str, caption: str = "") -> str:
    if png is None:
        return ""
    data = base64.b64encode(png).decode("ascii")
    cap = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{_e(alt)}" src="data:image/png;base64,{data}">{cap}</figure>'


def _gap_box(run: Run) -> str:
    total, first = funding_gap(run)
    diag = "".join(f"<li>{_e(d)}</li>" for d in run.summary.get("diagnosis") or [])
    return (
        '<div class="gap" role="alert"><strong class="big">'
        f"Unfunded: {_e(money(total))} of outside cash is needed"
        + (f", first in {_e(first)}" if first else "")
        + "</strong>The plan below cannot be funded from starting cash and BTC sales within the "
        "treasury rules; the funding gap has to come from a credit line, equity or a lower cash "
        f"floor.{f'<ul>{diag}</ul>' if diag else ''}</div>"
    )


def _summary_sentences(run: Run) -> list[str]:
    s = run.summary
    out = []
    if s.get("value_usd") is not None:
        out.append(
            f"The plan is worth {money(s.get('value_usd'))} (discounted) against "
            f"{money(s.get('baseline_value_usd'))} for the status quo (no new builds, contracts "
            f"or rig sales): {money(s.get('uplift_usd'))} more."
        )
    conv = run.table("conversions")
    if not conv.empty:
        sites = ", ".join(
            f"{r.site} ({r.it_mw:,.1f} MW from {r.start_month})"
            for r in conv.sort_values("start_month").itertuples()
        )
        out.append(
            f"Convert {conv['it_mw'].sum():,.1f} MW of IT capacity at {len(conv)} site(s): "
            f"{sites}, for {money(conv['capex_usd'].sum())} of capex."
        )
    elif "conversions" in run.tables:
        out.append("Convert nothing.")
    con = run.table("contracts")
    if not con.empty:
        new = con[~con["signed"]] if "signed" in con.columns else con
        if not new.empty:
            out.append(
                f"Sign {len(new)} hosting contract(s): "
                + "; ".join(
                    f"{r.contract} ({r.it_mw:,.1f} MW from {r.start_month})"
                    for r in new.itertuples()
                )
                + "."
            )
    sold, raised = s.get("btc_sold_total"), s.get("usd_raised_total")
    if sold:
        out.append(f"Sell {sold:,.2f} BTC in all, raising {money(raised)} net of sale costs.")
    elif sold is not None:
        out.append("Sell no BTC.")
    pay = payback_month(run)
    if pay:
        out.append(f"Against the status quo, the plan pays back (discounted) in {pay}.")
    return out


def render_html(run: Run, pngs: dict[str, bytes] | None = None) -> str:
    """The board report as one self-contained HTML page (inline CSS and images, no scripts)."""
    pngs = charts(run) if pngs is None else pngs
    s = run.summary
    name = run.name
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(name)}: reallocation plan</title>",
        f"<style>{CSS}</style></head><body>",
    ]
    # 1. decision summary
    parts.append('<section class="first" id="summary">')
    if run.status == "unfunded":
        parts.append(_gap_box(run))
    parts.append(f"<h1>{_e(name)}: reallocation plan</h1>")
    parts.append(
        f'<p class="sub">Board report. Status: <strong>{_e(run.status)}</strong>. '
        f"Run folder <code>{_e(run.path.name)}</code>.</p>"
    )
    if run.status not in ("optimal", "unfunded") and s.get("diagnosis"):
        items = "".join(f"<li>{_e(d)}</li>" for d in s["diagnosis"])
        parts.append(f'<div class="note"><ul>{items}</ul></div>')
    for note in run.notes:
        parts.append(f'<p class="note">{_e(note)}</p>')
    parts.append("<h2>Decision summary</h2>")
    parts += [f"<p>{_e(t)}</p>" for t in _summary_sentences(run)]
    parts.append(_kv_table(key_figures(run)))
    parts.append("<h3>Decisions</h3>")
    parts.append(
        _html_table(
            decisions_frame(run),
            {
                "decision": "Decision",
                "where": "Where / what",
                "when": "When",
                "size": "Size",
                "usd": "USD",
            },
        )
    )
    shadow = run.table("shadow_prices")
    if not shadow.empty and {"family", "site", "month", "shadow_price_usd"} <= set(shadow.columns):
        binds = binding_constraints(shadow)
        parts.append("<h3>What holds the plan back</h3>")
        parts.append(
            '<ul class="binds">' + "".join(f"<li>{_e(b)}</li>" for b in binds) + "</ul>"
            if binds
            else "<p>Nothing binds at the margin.</p>"
        )
    parts.append("</section>")
    # 2. capacity
    if "capacity" in pngs:
        parts.append('<section id="capacity"><h2>Capacity by use</h2>')
        parts.append(
            _img(
                pngs["capacity"],
                "Portfolio grid power by use over time",
                "Grid draw (MW) each month: mining by fleet group, hosting by contract, halls "
                "under construction, built halls awaiting a tenant, and unused grid (grey).",
            )
        )
        parts.append(_img(pngs.get("site_capacity"), "Grid power by use at each site"))
        parts.append("</section>")
    # 3. conversion timeline
    parts.append('<section id="conversions"><h2>Conversion timeline</h2>')
    if "gantt" in pngs:
        parts.append(
            _img(
                pngs["gantt"],
                "Conversion timeline per site",
                "Yellow: construction start to ready month. Blue: hall available to tenants "
                "to the end of the horizon. Diamonds: first month of a contract's rent.",
            )
        )
        conv = run.table("conversions")
        parts.append(_html_table(conv, fmt={"it_mw": lambda v: f"{v:,.1f}", "capex_usd": money}))
    else:
        parts.append("<p>No conversions in this plan.</p>")
    con = run.table("contracts")
    if not con.empty:
        parts.append("<h3>Hosting contracts</h3>")
        parts.append(_html_table(con, fmt={"it_mw": lambda v: f"{v:,.1f}", "revenue_usd": money}))
    parts.append("</section>")
    # 4. treasury
    if "treasury" in pngs:
        parts.append('<section id="treasury"><h2>Treasury</h2>')
        floor = cash_floor(s)
        cap = "BTC held at month end and sold in the month; BTC price on the right axis. "
        cap += (
            f"Cash against its {money(floor)} floor."
            if floor is not None
            else "Cash at month end (the cash floor is not recorded in the run folder)."
        )
        parts.append(_img(pngs["treasury"], "Treasury: BTC held and sold, cash", cap))
        q = btc_by_quarter(run)
        if not q.empty:
            parts.append("<h3>BTC to sell by quarter</h3>")
            parts.append(
                _html_table(q, fmt={"btc_sold": lambda v: f"{v:,.2f}", "usd_raised": money})
            )
        parts.append("</section>")
    # 5. value bridge
    bridge = bridge_frame(run)
    if not bridge.empty:
        parts.append('<section id="bridge"><h2>Value bridge: status quo to plan</h2>')
        parts.append(_img(pngs.get("bridge"), "Value bridge by objective term"))
        parts.append(
            _html_table(
                bridge.drop(columns="term"),
                {
                    "label": "term",
                    "status_quo_usd": "status quo",
                    "plan_usd": "plan",
                    "change_usd": "change",
                },
                {"status_quo_usd": money, "plan_usd": money, "change_usd": money},
                signed=("change_usd",),
            )
        )
        parts.append("</section>")
    # 6. appendix
    parts.append('<section id="appendix"><h2>Appendix: provenance and checks</h2>')
    parts.append(_kv_table(provenance(run)))
    secs = s.get("seconds") or {}
    size = s.get("model_size") or {}
    if secs or size:
        parts.append("<h3>Model size and timings</h3>")
        parts.append(
            _kv_table(
                [
                    *((k, f"{v:,}") for k, v in size.items()),
                    *((f"seconds: {k}", f"{v:.3f}") for k, v in secs.items()),
                ]
            )
        )
    parts.append("<h3>Verification</h3>")
    ver = verification_frame(run)
    parts.append(
        _html_table(
            ver,
            fmt={
                "max_violation": lambda v: f"{v:.3g}",
                "tolerance": lambda v: f"{v:.3g}",
                "ok": lambda v: "ok" if v else "FAILED",
            },
        )
    )
    parts.append("<h3>Files read</h3>")
    parts.append(_html_table(source_files(run)))
    parts.append("</section></body></html>")
    return "\n".join(parts)


def verification_frame(run: Run) -> pd.DataFrame:
    records = run.summary.get("verification")
    if records:
        frame = pd.DataFrame(records)
    else:
        frame = run.table("verification")
    if "ok" in frame.columns:
        frame = frame.assign(ok=frame["ok"].map(_truthy))
    return frame


def _truthy(v: object) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in {"true", "1", "1.0"}
    return bool(v)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "n/a"


def _utc(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def provenance(run: Run) -> list[tuple[str, str]]:
    s = run.summary
    solver = s.get("solver") or {}
    rows = [
        ("Portfolio", run.name),
        ("Status", run.status),
        ("Status quo status", str(s.get("baseline_status", "n/a"))),
        ("Solver", f"{solver.get('name', 'n/a')} ({solver.get('version', 'n/a')})"),
        ("Minimum commitments relaxed", str(solver.get("relaxed_min_commitments", "n/a"))),
        ("MIP gap", str(solver.get("mip_gap", "n/a"))),
        ("Inputs SHA-256", str(s.get("inputs_sha256", "n/a"))),
        ("Run written", _utc((run.path / "summary.json").stat().st_mtime)),
        ("Report generated", _utc(dt.datetime.now(dt.UTC).timestamp())),
        (
            "Versions",
            f"realloc {_version('realloc')}, Python {platform.python_version()}, "
            f"pandas {_version('pandas')}, matplotlib {_version('matplotlib')}, "
            f"openpyxl {_version('openpyxl')}",
        ),
    ]
    for k in ("created_utc", "timestamp", "generated_at"):
        if s.get(k):
            rows.insert(7, ("Run timestamp", str(s[k])))
    return rows


def source_files(run: Run) -> pd.DataFrame:
    rows = []
    for name in ["summary.json", *(f"{t}.csv" for t in RUN_TABLES)]:
        path = run.path / name
        if path.is_file():
            data = path.read_bytes()
            rows.append(
                {"file": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            )
    return pd.DataFrame(rows, columns=["file", "bytes", "sha256"])


# --------------------------------------------------------------------------- Excel


def _number_format(col: str) -> str | None:
    c = col.lower()
    if c == "shadow_price_usd":
        return "#,##0.000;[Red]-#,##0.000"
    if "usd" in c:
        return "#,##0;[Red]-#,##0"
    if c.endswith("btc") or c.startswith("btc_"):
        return "#,##0.0000"
    if c.endswith("_mw") or c == "mw_sold":
        return "#,##0.00"
    if c == "discount_factor":
        return "0.000000"
    return None


def _cell_value(v: object) -> object:
    if v is None:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, str) and v == "":
        return None
    return v


def _write_sheet(ws, frame: pd.DataFrame) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    cols = [str(c) for c in frame.columns]
    ws.append(cols)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    widths = [len(c) for c in cols]
    for row in frame.itertuples(index=False):
        ws.append([_cell_value(v) for v in row])
        r = ws.max_row
        for j, v in enumerate(row):
            cell = ws.cell(row=r, column=j + 1)
            if isinstance(v, str):
                if v.startswith(_FORMULA_START):
                    cell.value = v
                    cell.data_type = "s"  # text, never a formula
                    cell.quotePrefix = True
                widths[j] = max(widths[j], len(v))
            elif isinstance(v, int | float | np.number) and not isinstance(v, bool | np.bool_):
                widths[j] = max(widths[j], min(len(f"{float(v):,.2f}"), 18))
    for j, c in enumerate(cols, start=1):
        fmt = _number_format(c)
        if (
            fmt
            and pd.api.types.is_numeric_dtype(frame[c])
            and not pd.api.types.is_bool_dtype(frame[c])
        ):
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.number_format = fmt
        ws.column_dimensions[get_column_letter(j)].width = min(max(widths[j - 1] + 2, 8), 60)
    ws.freeze_panes = "A2"


def summary_sheet_frame(run: Run) -> pd.DataFrame:
    """Key figures, value terms and provenance as item / value / unit rows."""
    s = run.summary
    rows: list[tuple[str, object, str]] = [
        ("portfolio", run.name, ""),
        ("status", run.status, ""),
    ]
    for k, unit in (
        ("value_usd", "USD"),
        ("baseline_value_usd", "USD"),
        ("uplift_usd", "USD"),
        ("btc_sold_total", "BTC"),
        ("usd_raised_total", "USD"),
        ("it_mw_converted_total", "MW"),
        ("funding_gap_total_usd", "USD"),
    ):
        if s.get(k) is not None:
            rows.append((k, float(s[k]), unit))
    if run.status == "unfunded":
        rows.append(("funding_gap_first_month", funding_gap(run)[1] or "", ""))
    pay = payback_month(run)
    if pay:
        rows.append(("payback_month", pay, ""))
    solver = s.get("solver") or {}
    rows += [
        ("solver", f"{solver.get('name', '')} {solver.get('version', '')}".strip(), ""),
        ("inputs_sha256", str(s.get("inputs_sha256", "")), ""),
    ]
    return pd.DataFrame(rows, columns=["item", "value", "unit"])


def render_xlsx(run: Run, path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "summary"
    frame = summary_sheet_frame(run)
    _write_sheet(ws, frame)
    for i, unit in enumerate(frame["unit"], start=2):
        fmt = {"USD": "#,##0;[Red]-#,##0", "BTC": "#,##0.0000", "MW": "#,##0.00"}.get(unit)
        if fmt and isinstance(ws.cell(row=i, column=2).value, int | float):
            ws.cell(row=i, column=2).number_format = fmt
    for name in XLSX_SHEETS[1:]:
        if name == "value_bridge":
            frame = bridge_frame(run)
        elif name == "verification":
            frame = verification_frame(run)
        elif name in run.tables:
            frame = run.table(name)
        else:
            continue
        if name != "value_bridge" or not frame.empty:
            _write_sheet(wb.create_sheet(name), frame)
    wb.save(path)


# --------------------------------------------------------------------------- entry point


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def build_report(
    run_dir: Path | str, out: Path | str, formats: Sequence[str] = REPORT_FORMATS
) -> dict[str, Path]:
    """Build the board report of the run in ``run_dir`` into the folder ``out``.

    Writes ``report.html`` (self-contained: inline CSS and PNG charts, print-ready) and/or
    ``report.xlsx`` (one sheet per table); returns the paths written, by format.
    """
    unknown = [f for f in formats if f not in REPORT_FORMATS]
    if unknown:
        raise ValueError(f"unknown report format(s) {unknown}; expected {list(REPORT_FORMATS)}")
    run = load_run(run_dir)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    if "html" in formats:
        path = out / "report.html"
        text = render_html(run)
        _atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))
        written["html"] = path
    if "xlsx" in formats:
        path = out / "report.xlsx"
        _atomic_write(path, lambda p: render_xlsx(run, p))
        written["xlsx"] = path
    return written
