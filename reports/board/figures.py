"""Numbers and tables derived from a run for the report: decisions, value bridge, funding
gap, payback, provenance. Shared by the HTML page and the workbook."""

from __future__ import annotations

import hashlib
import platform
from importlib import metadata

import pandas as pd

from realloc.optimizer import statistics
from realloc.optimizer.statistics import PAYBACK_TOLERANCE_USD, Payback, weighted_quantile
from realloc.reports.board.data import RUN_TABLES, STOCHASTIC_TABLES, Run
from realloc.reports.summary_md import OPTIONAL_TERMS, TERM_LABELS, money

# --------------------------------------------------------------------------- figures derived


def funding_gap(run: Run) -> tuple[float, str | None]:
    """Total funding gap (USD: summary.json's, else summed from the page's rows) and the first
    month with a gap, both expected over the market paths (optimizer/statistics.py)."""
    gap = run.table("funding_gap")
    if gap.empty and "funding_gap_usd" in run.table("cashflows").columns:
        cf = run.table("cashflows")
        gap = cf.rename(columns={"funding_gap_usd": "gap_usd"})[["month", "gap_usd"]]
    total = run.summary.get("funding_gap_total_usd")
    first = None
    if not gap.empty:  # the page's rows: already expected over the paths
        first = statistics.first_funding_gap_month(gap, run.probabilities)
        if total is None:
            total = statistics.funding_gap_total_usd(gap, run.probabilities)
    return float(total or 0.0), first


def payback(run: Run) -> Payback | None:
    """The plan's cash payback against the status quo (:class:`Payback`), from
    ``cashflows.csv`` and ``baseline_cashflows.csv``; None when either is missing (older or
    failed runs)."""
    plan, base = run.table("cashflows"), run.table("baseline_cashflows")
    return statistics.payback(plan, base, _term_order(run))


def payback_month(run: Run) -> str | None:
    """First month from which the plan's cumulative cash stays at or above the status quo's
    (see :class:`Payback`); None when not computable or not reached within the horizon."""
    p = payback(run)
    return p.month if p is not None else None


def payback_text(run: Run) -> str | None:
    """The payback in words for the key-figures table, or None when not computable."""
    p = payback(run)
    if p is None:
        return None
    if p.never_behind:
        if max(map(abs, p.cumulative_usd), default=0.0) <= PAYBACK_TOLERANCE_USD:
            return "none: the plan's monthly cash is the status quo's"
        return "immediate: cumulative cash never falls below the status quo's"
    dip = f"after a low of {money(p.trough_usd)} in {p.trough_month}"
    if p.month is None:
        return f"not within the horizon (still behind in {p.months[-1]}, {dip})"
    return f"{p.month} ({dip})"


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
        if k in OPTIONAL_TERMS and p == 0.0 and b == 0.0:
            continue  # inputs most portfolios leave out (grid hold cost, grid sale)
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
    """BTC sold and USD raised by quarter (optimizer/statistics.py), with the months that sell
    as "first to last"."""
    tre = run.table("treasury")
    if tre.empty or "btc_sold" not in tre.columns:
        return pd.DataFrame(columns=["quarter", "months", "btc_sold", "usd_raised"])
    by_q = statistics.btc_sales_by_quarter(tre, run.probabilities)
    return by_q.assign(
        months=by_q["months"].map(lambda m: f"{m[0]} to {m[-1]}" if len(m) > 1 else m[0])
    )


FAN_COLUMNS = ("cash_usd", "btc_held", "btc_price_usd")
FAN_QUANTILES = {"p5": 0.05, "p50": 0.50, "p95": 0.95}


def treasury_fan(run: Run) -> pd.DataFrame:
    """Per month, P5 / P50 / P95 across market paths (probability-weighted) of cash, BTC held
    and BTC price, as columns ``cash_usd_p5`` … ``btc_price_usd_p95``; empty unless the run is
    stochastic with a per-path treasury."""
    tre = run.all_tables.get("treasury", pd.DataFrame())
    if not run.expected or tre.empty or "scenario" not in tre.columns:
        return pd.DataFrame()
    rows = []
    for month, group in tre.groupby("month", sort=False):
        prob = group["scenario"].map(run.probabilities).to_numpy(dtype=float)
        row: dict[str, object] = {"month": month}
        for col in FAN_COLUMNS:
            for tag, q in FAN_QUANTILES.items():
                row[f"{col}_{tag}"] = weighted_quantile(group[col].to_numpy(), prob, q)
        rows.append(row)
    return pd.DataFrame(rows)


def paths_ahead(run: Run) -> tuple[int, int] | None:
    """(paths on which the plan is worth more than the status quo, paths compared), from
    scenario_values.csv; None without it."""
    return statistics.paths_ahead(run.table("scenario_values"))


def frontier_frame(run: Run) -> pd.DataFrame:
    """The efficient frontier: frontier.csv, else summary.json's copy (empty without one)."""
    frame = run.table("frontier")
    if frame.empty and run.stochastic and run.stochastic.get("frontier"):
        frame = pd.DataFrame(run.stochastic["frontier"])
    return frame


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
    expected = " expected" if run.expected else ""  # BTC sales follow each market path
    for r in btc_by_quarter(run).itertuples():
        rows.append(
            {
                "decision": "Sell BTC",
                "where": r.quarter,
                "when": r.months,
                "size": f"{r.btc_sold:,.2f} BTC{expected}",
                "usd": f"raises {money(r.usd_raised)}{expected}",
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
    pay = payback_text(run)
    if pay is not None:
        rows.append(("Payback month (cumulative cash vs status quo)", pay))
    if run.status == "unfunded":
        total, first = funding_gap(run)
        rows.append(("Funding gap", f"{money(total)}, first in {first or 'n/a'}"))
    block = run.stochastic
    if block:
        rows.insert(1, ("Market paths", f"{block.get('scenarios')}: values are expected values"))
    return rows


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
        (
            "Versions",
            f"realloc {_version('realloc')}, Python {platform.python_version()}, "
            f"pandas {_version('pandas')}, matplotlib {_version('matplotlib')}, "
            f"openpyxl {_version('openpyxl')}",
        ),
    ]
    if run.created is not None:  # the report's own build time is left out: rebuilding it from
        # the same folder gives the same bytes
        rows.insert(7, ("Plan made", f"{run.created:%Y-%m-%d %H:%M:%S} UTC (run.json)"))
    return rows


def source_files(run: Run) -> pd.DataFrame:
    rows = []
    tables = (*RUN_TABLES, *STOCHASTIC_TABLES)
    for name in ["summary.json", "inputs.json", *(f"{t}.csv" for t in tables)]:
        path = run.path / name
        if path.is_file():
            data = path.read_bytes()
            rows.append(
                {"file": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            )
    return pd.DataFrame(rows, columns=["file", "bytes", "sha256"])
