"""Checks of one planned combined portfolio from its written folder (tests/combined.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.scales import TABLES, random_scenarios
from realloc.optimizer import plan_portfolio
from realloc.optimizer.verify import verify
from realloc.reports.plan_files import write_plan


def _read(folder: Path, name: str) -> pd.DataFrame | None:
    f = folder / f"{name}.csv"
    return pd.read_csv(f) if f.exists() else None


def verify_folder(p, r, folder: Path):
    """Verify a deterministic plan again from every written CSV (grid.csv, cashflows.csv and
    funding.csv included)."""
    read = {name: pd.read_csv(folder / f"{name}.csv") for name in TABLES}
    cash = pd.read_csv(folder / "cashflows.csv")
    gap = cash[["month", "funding_gap_usd"]].rename(columns={"funding_gap_usd": "gap_usd"})
    funding = _read(folder, "funding.csv".removesuffix(".csv"))
    if funding is not None:
        funding["scenario"] = "base"
    return verify(
        p,
        *(read[name] for name in TABLES),
        gap,
        r.value_usd,
        relaxed=r.relaxed,
        cashflows=cash,
        grid=_read(folder, "grid"),
        funding=funding,
    )


def summary_checks(folder: Path) -> list[str]:
    """value_split parts add to the value; funding sources add to what funding.csv drew."""
    s = json.loads((folder / "summary.json").read_text())
    bad = []
    split = s.get("value_split_usd")
    if split and s.get("value_usd") is not None:
        total = sum(split.values())
        if abs(total - s["value_usd"]) > 1e-6 * max(1.0, abs(s["value_usd"])) + 0.02:
            bad.append(f"value_split {total} != value {s['value_usd']}")
    base = s.get("baseline_value_split_usd")
    if base and s.get("baseline_value_usd") is not None:
        total, want = sum(base.values()), s["baseline_value_usd"]
        if abs(total - want) > 1e-6 * max(1.0, abs(want)) + 0.02:
            bad.append(f"baseline value_split {total} != status quo value {want}")
    terms = s.get("value_terms_usd")
    if terms and s.get("value_usd") is not None:
        total = sum(terms.values())
        if abs(total - s["value_usd"]) > 1e-6 * max(1.0, abs(s["value_usd"])) + 0.02:
            bad.append(f"value_terms {total} != value {s['value_usd']}")
    return bad


DEBT = ("btc_loan", "note", "project_loan", "equity")


def cash_identity_usd(p, folder: Path) -> float:
    """Largest |cash_t − cash_{t−1} − cash flows − BTC sale proceeds − principal net − gap| over
    the months, from treasury.csv, cashflows.csv and funding.csv (mining revenue is BTC, not cash;
    usd_raised is net of the sale cost)."""
    cf, tr = pd.read_csv(folder / "cashflows.csv"), pd.read_csv(folder / "treasury.csv")
    cols = [c for c in cf.columns if c.endswith("_usd") and c != "funding_gap_usd"]
    cash_cols = [c for c in cols if c not in ("mining_revenue_usd", "btc_sale_cost_usd")]
    principal = np.zeros(len(cf))
    funding = _read(folder, "funding")
    if funding is not None:
        g = funding[funding["kind"].isin(DEBT)].groupby("month")[["drawn_usd", "repaid_usd"]]
        net = g.sum()
        principal = (net["drawn_usd"] - net["repaid_usd"]).reindex(cf["month"]).fillna(0.0)
    cash = np.concatenate([[p.treasury.cash_usd], tr["cash_usd"].to_numpy()])
    resid = (
        np.diff(cash)
        - cf[cash_cols].sum(axis=1).to_numpy()
        - tr["usd_raised"].to_numpy()
        - np.asarray(principal)
        - cf["funding_gap_usd"].to_numpy()
    )
    return float(np.abs(resid).max())


def cashflow_terms_off(folder: Path) -> list[str]:
    """cashflows.csv's columns, discounted and summed, against summary.json's value terms of
    the same name."""
    cf = pd.read_csv(folder / "cashflows.csv")
    terms = json.loads((folder / "summary.json").read_text())["value_terms_usd"]
    bad = []
    for col in cf.columns:
        if col in terms:
            pv = float((cf[col] * cf["discount_factor"]).sum())
            if abs(pv - terms[col]) > 0.01 * len(cf) + 1e-7 * abs(terms[col]):
                bad.append(f"cashflows.csv {col} worth {pv} but value term {terms[col]}")
    return bad


def plan_and_check(p, folder: Path, seed: int, stochastic: bool = False) -> list[str]:
    """Plan ``p`` and return every failure found (empty: all good)."""
    scenarios = random_scenarios(p, seed, n=2 + seed % 2) if stochastic else None
    r = plan_portfolio(p, scenarios=scenarios)
    bad = []
    if r.status not in ("optimal", "unfunded"):
        return [f"status {r.status}"] if r.status != "infeasible" else []
    if not r.verification.ok:
        bad.append(f"verification {r.verification.failures()}")
    write_plan(r, folder)
    if not stochastic:
        w = verify_folder(p, r, folder)
        if not w.ok:
            bad.append(f"written {w.failures()}")
        off = cash_identity_usd(p, folder)
        if off > 0.01 * (len(r.tables.cashflows) + 1) + 1e-9 * abs(p.treasury.cash_usd):
            bad.append(f"cash identity off by ${off:,.2f}")
        bad += cashflow_terms_off(folder)
    bad += summary_checks(folder)
    return bad
