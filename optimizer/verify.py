"""Check a plan's invariants from its output tables and the portfolio alone.

Deliberately independent of the builder: it re-derives readiness from ``conversions``, fleets
from ``rig_sales``, BTC mined from ``plan`` and the market, every cash flow from first
principles, and the value from those flows, so a builder bug shows up as a violation here.
A plan that fails is not written.

``rederive`` reads the tables once into arrays and rebuilds those quantities; then each
invariant family has its own check, ``check_<family>``, documented beside the builder function
(optimizer/build.py) whose rows or bounds it re-derives. ``CHECKS`` lists them in the order
they are reported; docs/model.md maps every builder family to its check.

Tolerances follow what each check reads (docs/model.md, "Verification"): for every row checked,
``ABS[unit] + REL · Σ|terms| + Σ |coefficient| · read error`` — a floor at ten times the
solver's feasibility tolerance, a relative part for floating point and the solver's residuals,
and the most the rounding of every figure read (``optimizer/written.py``) can move the row.
Balances are checked month by month (as the LP's rows), so nothing accumulates over months.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from realloc.models import Market, Portfolio, Site, month_index, month_label
from realloc.models.financing import EQUITY_SOURCE
from realloc.optimizer.grid_verify import build_blocks_rows, grid_kept_rows, grid_ledger
from realloc.optimizer.risk import ValueDistribution
from realloc.optimizer.verify_financing import FinancingFlows, Written, rederive_financing
from realloc.optimizer.written import EPS, U_BTC, U_MW, U_USD

REL = 1e-7
"""Relative part of every tolerance, times the sum of the magnitudes entering the row: floating
point and the solver's residuals (HiGHS' are near 1e-15 of them)."""
SOLVER_REL = {"cbc": 1e-6}
"""Solvers whose rows hold less tightly: CBC holds its primal tolerance (1e-7) on its scaled
rows and hands PuLP its solution with 8 significant digits, so its rows hold to about 1e-7 of
their terms (the random sweep of benchmarks/scales.py saw 0.9e-7)."""


def relative_tolerance(solver: str) -> float:
    """``REL``, or the looser share a solver's residuals need (``SOLVER_REL``)."""
    return SOLVER_REL.get(solver, REL)


ABS = {"MW": 1e-6, "BTC": 1e-6, "USD": 1.0, "count": 0.5}
"""Absolute floor: ten times the solver's feasibility tolerance of 1e-7 in model units (MW, BTC,
$M); a count of rows (contracts at ineligible sites) must be 0."""

TERMS = (
    "mining_revenue_usd",
    "mining_power_usd",
    "mining_opex_usd",
    "rig_proceeds_usd",
    "ai_revenue_usd",
    "ai_power_usd",
    "ai_opex_usd",
    "capex_usd",
    "tenant_capex_usd",
    "curtailment_credit_usd",
    "firm_load_charge_usd",
    "gpu_capex_usd",
    "gpu_residual_usd",
    "grid_hold_cost_usd",
    "grid_sale_usd",
)
SITE_TERMS = (
    "curtailment_credit_usd",
    "firm_load_charge_usd",
    "gpu_capex_usd",
    "gpu_residual_usd",
)
"""The terms of issue 15's site economics, checked against cashflows.csv (``check_site_terms``)."""
USES = ("hosting", "ready_idle", "constructing", "grid_sold")


@dataclass(frozen=True)
class Check:
    """One invariant family: the violation nearest to (or furthest beyond) its tolerance, and
    that tolerance (each row checked has its own; see the module docstring)."""

    family: str
    max_violation: float
    tolerance: float
    unit: str
    where: str = ""

    @property
    def ok(self) -> bool:
        return self.max_violation <= self.tolerance


@dataclass(frozen=True)
class Verification:
    checks: list[Check]
    recomputed_value_usd: float

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def as_records(self) -> list[dict]:
        return [
            {
                "family": c.family,
                "max_violation": c.max_violation,
                "tolerance": c.tolerance,
                "unit": c.unit,
                "ok": c.ok,
                "where": c.where,
            }
            for c in self.checks
        ]


def tolerance(unit: str, magnitude, rounding, rel: float = REL) -> np.ndarray:
    """``ABS[unit] + rel · magnitude + rounding`` (element-wise)."""
    return ABS[unit] + rel * np.abs(np.asarray(magnitude, dtype=float)) + np.asarray(rounding)


class Rows:
    """Violations of one family, each with its own tolerance and where it was found."""

    def __init__(self, family: str, unit: str, rel: float = REL):
        self.family, self.unit, self.rel = family, unit, rel
        self.violation: list[np.ndarray] = []
        self.tolerance: list[np.ndarray] = []
        self.where: list[str] = []

    def add(self, violation, magnitude, rounding, where: str | list[str] = "") -> None:
        v = np.atleast_1d(np.asarray(violation, dtype=float))
        tol = np.broadcast_to(tolerance(self.unit, magnitude, rounding, self.rel), v.shape)
        self.violation.append(v)
        self.tolerance.append(np.asarray(tol, dtype=float))
        self.where.extend([where] * v.size if isinstance(where, str) else list(where))

    def check(self) -> Check:
        """The row with the largest violation/tolerance ratio (0 violation when none)."""
        if not self.violation:
            return Check(self.family, 0.0, ABS[self.unit], self.unit)
        v = np.maximum(np.concatenate(self.violation), 0.0)
        tol = np.concatenate(self.tolerance)
        i = int(np.argmax(v / tol))
        where = self.where[i] if v[i] > 0 else ""
        return Check(self.family, float(v[i]), float(tol[i]), self.unit, where)


class Ledger:
    """Per term and month: the flow, Σ|amounts| (its magnitude) and the most the rounding of the
    figures it was computed from can move it."""

    def __init__(self, T: int):
        self.value = {k: np.zeros(T) for k in TERMS}
        self.mag = {k: np.zeros(T) for k in TERMS}
        self.err = {k: np.zeros(T) for k in TERMS}

    def add(self, term: str, t, amount, err=0.0) -> None:
        self.value[term][t] += amount
        self.mag[term][t] += np.abs(amount)
        self.err[term][t] += err

    def total(self, what: str, skip: tuple[str, ...] = ()) -> np.ndarray:
        table = getattr(self, what)
        return sum(v for k, v in table.items() if k not in skip)


def _series(v: float | list[float], T: int) -> np.ndarray:
    return np.asarray(v[:T], dtype=float) if isinstance(v, list) else np.full(T, float(v))


@dataclass
class Group:
    """One fleet group as re-derived from rig_sales.csv and plan.csv: MW owned and running by
    month, and how far the rounding of those tables can move them."""

    name: str
    site: Site
    owned: np.ndarray  # MW still owned (start less the sales so far)
    owned_mag: np.ndarray  # start plus Σ|sales so far|
    sold_rows: np.ndarray  # read error of the sales so far
    run_mw: np.ndarray  # MW of rigs running (plan.csv's power over the site's PUE)
    run_err: float  # read error of one mining row


@dataclass
class Context:
    """What every check reads: the calendar and market, the tables as arrays by site and month,
    and the flows re-derived from them (``rederive``)."""

    p: Portfolio
    T: int
    months: list[str]
    pos: dict[str, int]
    days: np.ndarray
    hours: np.ndarray
    disc: np.ndarray
    price: np.ndarray
    hashprice: np.ndarray
    rel: float  # relative part of every tolerance (``relative_tolerance``)
    relaxed: bool  # minimum commitments dropped (``--relax``)
    value_usd: float  # the value the model gives the plan
    conversions: pd.DataFrame
    contracts: pd.DataFrame
    tre: pd.DataFrame  # treasury.csv by month of the horizon
    gap: np.ndarray  # funding gap by month, USD
    ledger: Ledger  # every cash flow by term and month
    mined: np.ndarray  # BTC mined by month, recomputed from plan.csv
    mined_err: np.ndarray  # how far the rounding of plan.csv can move it
    tv: np.ndarray  # terminal value: [value, magnitude, rounding error], USD discounted
    cashflows: pd.DataFrame | None = None  # cashflows.csv of this scenario, when given
    by_use: dict = field(default_factory=dict)  # plan.csv by use, site and month
    ready: list[np.ndarray] = field(default_factory=list)  # IT MW ready, by site and month
    constructing: list[np.ndarray] = field(default_factory=list)  # IT MW under construction
    groups: list[Group] = field(default_factory=list)  # fleet groups, site by site
    grid: pd.DataFrame | None = None  # grid.csv (None or empty without grid holds or sales)
    grid_sold: dict = field(default_factory=dict)  # site index -> [T] MW sold (grid.csv)
    funding: Written | None = None  # funding.csv by source and month (with financing)
    fin: FinancingFlows | None = None  # the financing flows re-derived from it


def _context(
    p: Portfolio,
    market: Market,
    tables: dict[str, pd.DataFrame],
    value_usd: float,
    relaxed: bool,
    rel: float,
) -> Context:
    T = p.months
    months = [month_label(p.start_month, t) for t in range(T)]
    days = np.array([calendar.monthrange(*map(int, m.split("-")))[1] for m in months], float)
    gap = tables["funding_gap"].set_index("month")["gap_usd"].reindex(months).fillna(0)
    return Context(
        p=p,
        T=T,
        months=months,
        pos={m: t for t, m in enumerate(months)},
        days=days,
        hours=24 * days,
        disc=(1 + p.discount_rate_per_year) ** (-(np.arange(T) + 1) / 12),
        price=_series(market.btc_price_usd, T),
        hashprice=_series(market.hashprice_usd_per_ph_day, T),
        rel=rel,
        relaxed=relaxed,
        value_usd=value_usd,
        conversions=tables["conversions"],
        contracts=tables["contracts"],
        tre=tables["treasury"].set_index("month").reindex(months),
        gap=gap.to_numpy(),
        ledger=Ledger(T),
        mined=np.zeros(T),
        mined_err=np.zeros(T),
        tv=np.zeros(3),
    )


def _by_site_month(plan: pd.DataFrame, site_of: dict[str, int], T: int) -> dict:
    """Sums of ``it_mw``, ``power_mw`` and of their absolute values (``abs_it_mw``,
    ``abs_power_mw``) of plan.csv per [site, month] for each use in USES, and of everything but
    "unused" (``drawn``); rows of unknown sites or months are ignored."""
    sites = plan["site"].map(site_of).to_numpy(dtype=float, na_value=np.nan)
    t = plan["t"].to_numpy(dtype=float, na_value=np.nan)
    known = ~np.isnan(sites) & ~np.isnan(t)
    use = plan["use"].to_numpy(dtype=object)
    out = {}
    masks = {u: known & (use == u) for u in USES} | {"drawn": known & (use != "unused")}
    for name, mask in masks.items():
        out[name] = {}
        for col in ("it_mw", "power_mw"):
            values = plan[col].to_numpy(dtype=float)[mask]
            at = (sites[mask].astype(int), t[mask].astype(int))
            for key, add in ((col, values), ("abs_" + col, np.abs(values))):
                total = np.zeros((len(site_of), T))
                np.add.at(total, at, add)
                out[name][key] = total
    return out


def _sum_by(frame: pd.DataFrame, keys: list[str], key_of: dict, T: int, col: str) -> dict:
    """{key_of[row keys]: [T] sums of ``col`` by month} (rows of unknown keys ignored)."""
    out: dict = {}
    if frame.empty:
        return out
    for key, rows in frame.groupby(keys, sort=False):
        if key not in key_of:
            continue
        t = rows["t"].to_numpy(dtype=float, na_value=np.nan)
        ok = ~np.isnan(t)
        total = np.zeros(T)
        np.add.at(total, t[ok].astype(int), rows[col].to_numpy(dtype=float)[ok])
        out[key_of[key]] = total
    return out


def _split(frame: pd.DataFrame, column: str) -> dict[str, pd.DataFrame]:
    """The rows of ``frame`` by value of ``column`` (in their original order)."""
    if frame.empty or column not in frame.columns:
        return {}
    return {key: rows for key, rows in frame.groupby(column, sort=False)}


def rederive(c: Context, plan: pd.DataFrame, rig_sales: pd.DataFrame) -> None:
    """Rebuild, site by site, readiness from conversions.csv, fleets from rig_sales.csv, BTC
    mined from plan.csv and every cash flow into ``c.ledger`` (the checks then only compare).

    Each table is read once into arrays by site (or fleet group) and month, not filtered per
    site and group: O(rows) instead of O(sites × rows).
    """
    p = c.p
    plan = plan.assign(t=plan["month"].map(c.pos))
    c.by_use = _by_site_month(plan, {s.name: i for i, s in enumerate(p.sites)}, c.T)
    group_of = {
        (s.name, g.name): (i, j) for i, s in enumerate(p.sites) for j, g in enumerate(s.fleets)
    }
    run_power = _sum_by(
        plan[plan["use"] == "mining"], ["site", "detail"], group_of, c.T, "power_mw"
    )
    conversions_at = _split(c.conversions, "site")
    hosted = (
        c.contracts.groupby(["site", "contract"])[["it_mw", "prepaid_it_mw"]].sum()
        if len(c.contracts)
        else pd.DataFrame(columns=["it_mw", "prepaid_it_mw"])
    )
    sales_of = _split(rig_sales, "fleet_group")
    for si, site in enumerate(p.sites):
        rows = conversions_at.get(site.name, c.conversions[:0])
        ready, constructing = _readiness(c, site, rows)
        c.ready.append(ready)
        c.constructing.append(constructing)
        if site.conversion:
            _contract_flows(c, site, hosted)
        _fleet_flows(c, si, site, run_power, sales_of)
    grid_ledger(c, c.grid)


def _readiness(c: Context, site, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Ready and constructing IT MW by month from conversions.csv, and its capex in the ledger
    (``capex_usd`` paid evenly over the lead months, all at the start when the lead is 0)."""
    conv = site.conversion
    ready = np.full(c.T, conv.existing_it_mw if conv else 0.0)
    constructing = np.zeros(c.T)
    if not conv:
        return ready, constructing
    lead = conv.lead_months
    for r in rows.itertuples():
        a, b = c.pos[r.start_month], c.pos.get(r.ready_month, c.T)
        constructing[a:b] += r.it_mw
        ready[b:] += r.it_mw
        pay = [a] if lead == 0 else [t for t in range(a, a + lead) if t < c.T]
        for t in pay:
            c.ledger.add("capex_usd", t, -r.capex_usd / max(1, lead))
    # every month may start a build (written to the cent, or left out below EPS MW), each paid
    # over min(lead, months so far) of the months up to t
    per_start = (U_USD + conv.capex_usd_per_it_mw * EPS) / max(1, lead)
    c.ledger.err["capex_usd"] += per_start * np.minimum(np.arange(c.T) + 1, max(1, lead))
    return ready, constructing


def _rates(p: Portfolio, contract, months: np.ndarray, a: int) -> np.ndarray:
    """Rent in each of ``months``: the base rate stepped up at each contract anniversary; a
    cloud contract's base is $/GPU-hour × GPUs per MW × utilisation × the month's hours / 1000."""
    steps = (months - a) // 12
    if contract.kind == "cloud":
        per_mw_hour = contract.usd_per_gpu_hour * contract.gpus_per_it_mw
        base = per_mw_hour * contract.utilization_share * _hours_of(p, months) / 1000
    else:
        base = contract.rate_usd_per_kw_month
    return base * (1 + contract.escalator_per_year) ** steps


def _hours_of(p: Portfolio, months: np.ndarray) -> np.ndarray:
    """Hours in each month ``t`` (counted from the portfolio's start month)."""
    first = np.datetime64(p.start_month, "M") + months.astype(int)
    return 24.0 * ((first + 1).astype("datetime64[D]") - first.astype("datetime64[D]")).astype(
        float
    )


def _contract_flows(c: Context, site, hosted: dict) -> None:
    """Rent, AI opex and power, tenant prepayment and terminal value of every contract eligible
    at ``site``: values from the MW of contracts.csv (``hosted``: {(site, contract): MW}),
    rounding error from each figure that could be there (written or left out below EPS)."""
    conv, p, T = site.conversion, c.p, c.T
    price_mwh = _series(site.power_price_usd_per_mwh, T)
    for k in p.contracts:
        if site.name not in k.eligible_sites:
            continue
        key = (site.name, k.name)
        mw = float(hosted.loc[key, "it_mw"]) if key in hosted.index else 0.0
        a = month_index(p.start_month, k.start_month)
        ts = np.arange(max(0, a), min(T, a + k.term_months))
        power = 0.0 if k.power_pass_through else -conv.ai_pue * price_mwh[ts] * c.hours[ts]
        opex = conv.ai_opex_usd_per_kw_month
        opex = opex if k.ai_opex_usd_per_kw_month is None else k.ai_opex_usd_per_kw_month
        coefs = {
            "ai_revenue_usd": 1000 * _rates(p, k, ts, a),
            "ai_opex_usd": np.full(len(ts), -1000 * opex),
            "ai_power_usd": np.broadcast_to(power, ts.shape),
        }
        for term, coef in coefs.items():
            c.ledger.add(term, ts, coef * mw, np.abs(coef) * U_MW)
        if k.tenant_capex_share > 0:  # signed or offered alike, on the MW a new build provides
            new_mw = float(hosted.loc[key, "prepaid_it_mw"]) if key in hosted.index else 0.0
            lead = conv.lead_months
            coef = k.tenant_capex_share * conv.capex_usd_per_it_mw / max(1, lead)
            for t in [a] if lead == 0 else range(a - lead, a):
                if 0 <= t < T:
                    c.ledger.add("tenant_capex_usd", t, coef * new_mw, coef * U_MW)
        firm = (
            0.0
            if k.power_pass_through
            else 1000 * conv.ai_pue * site.firm_load_charge_usd_per_kw_month
        )
        c.ledger.add("firm_load_charge_usd", ts, -firm * mw, firm * U_MW)
        _gpu_flows(c, k, a, mw)
        if p.terminal_value:
            # rent after the horizon net of opex, (without pass-through) power at the last
            # month's price and the firm-load charge, discounted month by month
            tail = np.arange(max(T, a), a + k.term_months)
            net = 1000 * _rates(p, k, tail, a) - 1000 * opex - firm
            if not k.power_pass_through:
                net = net - conv.ai_pue * price_mwh[T - 1] * _hours_of(p, tail)
            per_mw = (1 + p.discount_rate_per_year) ** (-(tail + 1) / 12) * net
            size = float(np.abs(per_mw).sum())
            c.tv += [float(per_mw.sum()) * mw, size * abs(mw), size * U_MW]


def _gpu_flows(c: Context, k, a: int, mw: float) -> None:
    """A cloud contract's GPU capex (start month, sunk before the horizon) and residual (last
    month of the term; after the horizon it is terminal value, when that is on)."""
    if k.kind != "cloud":
        return
    p, T = c.p, c.T
    capex = k.gpu_capex_usd_per_it_mw
    if 0 <= a < T:
        c.ledger.add("gpu_capex_usd", a, -capex * mw, capex * U_MW)
    residual, last = (k.gpu_residual_share or 0.0) * capex, a + k.term_months - 1
    if 0 <= last < T:
        c.ledger.add("gpu_residual_usd", last, residual * mw, residual * U_MW)
    elif last >= T and p.terminal_value:
        unit = residual * (1 + p.discount_rate_per_year) ** (-(last + 1) / 12)
        c.tv += [unit * mw, unit * abs(mw), unit * U_MW]


def _fleet_flows(c: Context, si: int, site, run_power: dict, sales_of: dict) -> None:
    """Owned and running MW of each fleet group (into ``c.groups``) and its mining economics."""
    p, T = c.p, c.T
    price_mwh = _series(site.power_price_usd_per_mwh, T)
    for gj, g in enumerate(site.fleets):
        sold_mw, written = np.zeros(T), np.zeros(T, dtype=bool)
        per_th = 1e6 / g.efficiency_j_per_th
        resale = g.resale_usd_per_th * (1 - g.resale_decay_per_year) ** (np.arange(T) / 12)
        sales = sales_of.get(g.name)  # None: no sale of this group was written
        pairs = [] if sales is None else zip(sales["month"], sales["mw_sold"], strict=True)
        for month, mw_sold in pairs:
            t = c.pos[month]
            sold_mw[t] += mw_sold
            written[t] = True
            c.ledger.add("rig_proceeds_usd", t, resale[t] * mw_sold * per_th)
        # a month's sale is written to the watt, or left out when at most EPS MW
        read_err = np.where(written, U_MW, EPS)
        sold_rows = np.cumsum(read_err)
        c.ledger.err["rig_proceeds_usd"] += resale * per_th * read_err
        owned = g.power_mw - np.cumsum(sold_mw)
        owned_mag = g.power_mw + np.cumsum(np.abs(sold_mw))
        run_mw = run_power.get((si, gj), np.zeros(T)) / site.mining_pue
        run_err = U_MW / site.mining_pue  # one mining row per group and month
        c.groups.append(Group(g.name, site, owned, owned_mag, sold_rows, run_mw, run_err))
        # revenue per MW running: (1000/e PH/s) × days × hashprice × (1 − pool fee)
        per_mw = 1000 / g.efficiency_j_per_th * c.days * c.hashprice * (1 - p.pool_fee_share)
        c.ledger.add("mining_revenue_usd", slice(None), per_mw * run_mw, per_mw * run_err)
        c.mined += per_mw * run_mw / c.price
        c.mined_err += per_mw * run_err / c.price
        power_per_mw = site.mining_pue * price_mwh * c.hours
        c.ledger.add(
            "mining_power_usd", slice(None), -power_per_mw * run_mw, power_per_mw * run_err
        )
        opex = site.mining_opex_usd_per_mw_month
        c.ledger.add("mining_opex_usd", slice(None), -opex * owned, opex * sold_rows)
        credit = site.curtailment_credit_usd_per_mw_month * site.curtailment_enrolled_share
        c.ledger.add("curtailment_credit_usd", slice(None), credit * run_mw, credit * run_err)
        if p.terminal_value:
            salvage = g.resale_usd_per_th * (1 - g.resale_decay_per_year) ** (T / 12)
            unit = c.disc[-1] * per_th * salvage
            c.tv += [unit * owned[-1], abs(unit) * owned_mag[-1], abs(unit) * sold_rows[-1]]


# The checks: one per invariant family, each beside the builder family (optimizer/build.py) or
# bound it re-derives; ``CHECKS`` below lists them in the order verification reports them.


def check_builds_ready_in_horizon(c: Context) -> Check:
    """Every build in conversions.csv is ready inside the horizon: ``add_variables`` creates
    ``build[s,t]`` only for ``t ≤ T−1−L_s``."""
    rows = Rows("builds_ready_in_horizon", "MW", c.rel)
    for r in c.conversions.itertuples():
        if r.ready_month not in c.pos:
            rows.add(r.it_mw, 0.0, 0.0, f"{r.site} {r.start_month}")
    return rows.check()


def check_conversion_limit(c: Context) -> Check:
    """``add_conversion_limit``: E_s + Σ builds of conversions.csv ≤ X_s at each site."""
    built_by_site: dict[str, float] = {}
    for r in c.conversions.itertuples():
        built_by_site[r.site] = built_by_site.get(r.site, 0.0) + r.it_mw
    rows = Rows("conversion_limit", "MW", c.rel)
    for s in c.p.sites:
        if s.conversion:
            conv = s.conversion
            built = built_by_site.get(s.name, 0.0)
            rows.add(
                built + conv.existing_it_mw - conv.max_it_mw,
                built + conv.existing_it_mw + conv.max_it_mw,
                U_MW * c.T,  # one possible build row per month
                s.name,
            )
    return rows.check()


def check_site_power(c: Context) -> Check:
    """``add_site_power``: everything plan.csv draws but "unused" within the interconnect, per
    site and month."""
    rows = Rows("site_power", "MW", c.rel)
    drawn = c.by_use["drawn"]
    for si, site in enumerate(c.p.sites):
        # one row per group, contract eligible here, and (with a conversion section)
        # constructing and ready_idle, and (with a sale price) the grid sold so far
        n_rows = len(site.fleets) + sum(site.name in k.eligible_sites for k in c.p.contracts) + 2
        n_rows += site.grid_sale_usd_per_mw is not None
        rows.add(
            drawn["power_mw"][si] - site.grid_mw,
            drawn["abs_power_mw"][si] + site.grid_mw,
            U_MW * n_rows,
            [f"{site.name} {m}" for m in c.months],
        )
    return rows.check()


def _hosting_read_errors(c: Context, site) -> tuple[float, np.ndarray]:
    """Read errors of a site's hosted MW (a hosting row per eligible contract) and of its
    readiness (one possible build row per month so far)."""
    n_pairs = sum(site.name in k.eligible_sites for k in c.p.contracts)
    return U_MW * n_pairs, U_MW * (np.arange(c.T) + 1)


def check_hosting_capacity(c: Context) -> Check:
    """``add_hosting_capacity``: MW hosted (plan.csv) ≤ IT MW ready, readiness rebuilt from
    conversions.csv."""
    rows = Rows("hosting_capacity", "MW", c.rel)
    hosting = c.by_use["hosting"]
    for si, site in enumerate(c.p.sites):
        hosted, ready = hosting["it_mw"][si], c.ready[si]
        err_hosted, builds = _hosting_read_errors(c, site)
        rows.add(hosted - ready, hosting["abs_it_mw"][si] + ready, err_hosted + builds, site.name)
    return rows.check()


def check_plan_states_consistent(c: Context) -> Check:
    """plan.csv's ``ready_idle`` and ``constructing`` rows equal the readiness that
    ``add_build_cumulative``'s stock gives (ready less hosted; started, not yet ready), rebuilt
    from conversions.csv."""
    rows = Rows("plan_states_consistent", "MW", c.rel)
    by_use = c.by_use
    for si, site in enumerate(c.p.sites):
        if not site.conversion:
            continue
        hosted = by_use["hosting"]["it_mw"][si]
        hosted_abs = by_use["hosting"]["abs_it_mw"][si]
        ready, constructing = c.ready[si], c.constructing[si]
        idle = by_use["ready_idle"]["it_mw"][si]
        cons = by_use["constructing"]["it_mw"][si]
        err_hosted, builds = _hosting_read_errors(c, site)
        rows.add(
            np.abs(idle - (ready - hosted)),
            np.abs(idle) + ready + hosted_abs,
            U_MW + err_hosted + builds,
            site.name,
        )
        rows.add(np.abs(cons - constructing), np.abs(cons) + constructing, U_MW + builds, site.name)
    return rows.check()


def check_fleet_limit(c: Context) -> Check:
    """``add_fleet_balance`` and ``add_fleet_limit``: MW owned (start less rig_sales.csv so far)
    stays ≥ 0, and MW running (plan.csv) ≤ α_s · MW owned."""
    rows = Rows("fleet_limit", "MW", c.rel)
    for g in c.groups:
        where = [f"{g.name} {m}" for m in c.months]
        rows.add(-g.owned, g.owned_mag, g.sold_rows, where)
        alpha = g.site.availability_share
        rows.add(
            g.run_mw - alpha * g.owned,
            g.run_mw + alpha * g.owned_mag,
            g.run_err + alpha * g.sold_rows,
            where,
        )
    return rows.check()


def check_contract_size(c: Context) -> Check:
    """``add_contract_size`` and ``add_min_commitment`` (unless relaxed), and the signed MW that
    ``add_variables`` fixes: contract sizes, minimums and signed MW from contracts.csv, and
    every row at a site the contract is eligible for (a breach reported under contract_size)."""
    contracts = c.contracts
    size = Rows("contract_size", "MW", c.rel)
    eligible = Rows("contract_eligible_sites", "count", c.rel)
    for k in c.p.contracts:
        rows = contracts[contracts["contract"] == k.name]
        total = float(rows["it_mw"].sum())
        err = U_MW * len(k.eligible_sites)  # one possible row per eligible site
        size.add(total - k.max_it_mw, total + k.max_it_mw, err, k.name)
        # declined unless served beyond the size row's own tolerance (solver noise on a
        # declined contract is not a breach of its minimum)
        taken = total > float(tolerance("MW", total + k.max_it_mw, err, c.rel))
        if k.min_it_mw > 0 and not c.relaxed and not k.signed and taken:
            size.add(k.min_it_mw - total, total + k.min_it_mw, err, k.name)
        for site, mw in (k.signed_it_mw or {}).items():
            got = float(rows.loc[rows["site"] == site, "it_mw"].sum())
            size.add(abs(got - mw), got + mw, U_MW, f"{k.name} at {site}")
        eligible.add(float((~rows["site"].isin(k.eligible_sites)).sum()), 0.0, 0.0, k.name)
    known = contracts["contract"].isin([k.name for k in c.p.contracts])
    eligible.add(float((~known).sum()), 0.0, 0.0, "unknown contracts")
    size_check, elig = size.check(), eligible.check()
    if not elig.ok:
        return Check("contract_size", elig.max_violation, elig.tolerance, "MW", elig.where)
    return size_check


def check_btc_balance(c: Context) -> Check:
    """``add_btc_balance``: BTC conserved month by month in treasury.csv, with BTC mined
    recomputed from plan.csv and the market (and the written ``btc_mined`` equal to it)."""
    tr = c.p.treasury
    held = c.tre["btc_held"].to_numpy(dtype=float)
    sold = c.tre["btc_sold"].to_numpy(dtype=float)
    held_prev = np.concatenate([[tr.btc], held[:-1]])
    prev_err = np.concatenate([[0.0], np.full(c.T - 1, U_BTC)])
    rows = Rows("btc_balance", "BTC", c.rel)
    rows.add(
        np.abs(held - (held_prev + c.mined - sold)),
        np.abs(held) + np.abs(held_prev) + c.mined + np.abs(sold),
        U_BTC + prev_err + U_BTC + c.mined_err,
        c.months,
    )
    written = c.tre["btc_mined"].to_numpy(dtype=float)
    rows.add(np.abs(written - c.mined), c.mined, U_BTC + c.mined_err, c.months)
    return rows.check()


def check_btc_floor_and_depth(c: Context) -> Check:
    """The bounds ``add_variables`` puts on ``held`` (≥ B_min) and ``sold`` (≤ Q_max)."""
    tr = c.p.treasury
    held = c.tre["btc_held"].to_numpy(dtype=float)
    sold = c.tre["btc_sold"].to_numpy(dtype=float)
    rows = Rows("btc_floor_and_depth", "BTC", c.rel)
    rows.add(tr.min_btc - held, tr.min_btc, U_BTC, c.months)
    rows.add(sold - tr.max_btc_sold_per_month, tr.max_btc_sold_per_month, U_BTC, c.months)
    return rows.check()


def check_cash_balance(c: Context) -> Check:
    """``add_cash_balance``: cash conserved month by month in treasury.csv, every flow
    recomputed (``rederive``), BTC sales at the month's price net of sale cost, plus the gap."""
    tr, led = c.p.treasury, c.ledger
    phi = tr.sale_cost_bps / 1e4
    cash = c.tre["cash_usd"].to_numpy(dtype=float)
    sold = c.tre["btc_sold"].to_numpy(dtype=float)
    prev = np.concatenate([[tr.cash_usd], cash[:-1]])
    prev_err = np.concatenate([[0.0], np.full(c.T - 1, U_USD)])
    sales_usd = (1 - phi) * c.price * sold
    skip = ("mining_revenue_usd",)  # reaches cash only through BTC sales
    fin = c.fin  # principal (cash only), interest and fees (verify_financing.py)
    expected = prev + led.total("value", skip) + sales_usd + c.gap + fin.principal + fin.cost
    fin_mag, fin_err = np.abs(fin.principal) + np.abs(fin.cost), fin.principal_err + fin.cost_err
    rows = Rows("cash_balance", "USD", c.rel)
    rows.add(
        np.abs(cash - expected),
        np.abs(cash)
        + np.abs(prev)
        + led.total("mag", skip)
        + np.abs(sales_usd)
        + np.abs(c.gap)
        + fin_mag,
        U_USD + prev_err + led.total("err", skip) + (1 - phi) * c.price * U_BTC + U_USD + fin_err,
        c.months,
    )
    return rows.check()


def check_cash_floor(c: Context) -> Check:
    """The bound ``add_variables`` puts on ``cash`` (≥ K_min)."""
    rows = Rows("cash_floor", "USD", c.rel)
    cash = c.tre["cash_usd"].to_numpy(dtype=float)
    rows.add(c.p.treasury.min_cash_usd - cash, c.p.treasury.min_cash_usd, U_USD, c.months)
    return rows.check()


def recomputed_value(c: Context) -> tuple[float, float, float]:
    """The plan's value from the re-derived flows, the sum of the magnitudes behind it and the
    most the rounding of the tables can move it (USD, discounted)."""
    phi = c.p.treasury.sale_cost_bps / 1e4
    led, d = c.ledger, c.disc
    sale_cost = phi * c.price * c.tre["btc_sold"].to_numpy(dtype=float)
    fin = c.fin
    value = float(d @ led.total("value") - d @ sale_cost + c.tv[0] + d @ fin.cost)
    mag = float(d @ led.total("mag") + d @ np.abs(sale_cost) + c.tv[1] + d @ np.abs(fin.cost))
    err = float(d @ led.total("err") + d @ (phi * c.price * U_BTC) + c.tv[2] + d @ fin.cost_err)
    return value + fin.value_only[0], mag + fin.value_only[1], err + fin.value_only[2]


def check_grid_kept(c: Context) -> Check:
    """``add_grid_kept``: grid kept and sold (grid.csv, plan.csv's ``grid_sold`` rows) as the
    MW sold give them, within each site's sale option (optimizer/grid_verify.py)."""
    return grid_kept_rows(c, Rows, c.grid)


def check_build_blocks(c: Context) -> Check:
    """``add_build_blocks``: builds in whole blocks (optimizer/grid_verify.py)."""
    return build_blocks_rows(c, Rows)


def check_value(c: Context) -> Check:
    """``collect_value_terms`` and ``add_objective``: the value recomputed from the flows
    against the value the model gives the plan."""
    value, mag, err = recomputed_value(c)
    rows = Rows("value", "USD", c.rel)
    rows.add(abs(value - c.value_usd), mag + abs(value), err)
    return rows.check()


def check_prepaid_capacity(c: Context) -> Check:
    """``add_prepaid_within_host`` and ``add_prepaid_capacity``: in contracts.csv, prepaid MW ≤
    MW hosted on each row, and per site and month the prepaid MW of the contracts active then ≤
    the IT MW built in the plan and ready (conversions.csv; existing halls earn no
    prepayment)."""
    rows = Rows("prepaid_capacity", "MW", c.rel)
    con = c.contracts
    if con.empty:
        return rows.check()
    prepaid, hosted = con["prepaid_it_mw"].to_numpy(float), con["it_mw"].to_numpy(float)
    where = [f"{r.contract} at {r.site}" for r in con.itertuples()]
    rows.add(prepaid - hosted, prepaid + hosted, 2 * U_MW, where)
    terms = {k.name: k for k in c.p.contracts}
    for si, site in enumerate(c.p.sites):
        if not site.conversion:
            continue
        new = np.zeros(c.T)
        for r in con[con["site"] == site.name].itertuples():
            k = terms.get(r.contract)
            if k is None:
                continue  # an unknown contract is check_contract_size's
            a = month_index(c.p.start_month, k.start_month)
            new[max(0, a) : max(0, min(c.T, a + k.term_months))] += r.prepaid_it_mw
        built = c.ready[si] - site.conversion.existing_it_mw
        err_hosted, builds = _hosting_read_errors(c, site)
        rows.add(new - built, np.abs(new) + np.abs(built), err_hosted + builds, site.name)
    return rows.check()


def check_site_terms(c: Context) -> Check:
    """``cash_flow_pairs`` (its site terms, optimizer/site_terms.py): cashflows.csv's columns of
    the curtailment credit, firm-load charge, GPU capex and residual against the same flows
    recomputed from plan.csv and contracts.csv (``rederive``), month by month; nothing to
    compare when cashflows.csv is not given."""
    rows = Rows("site_terms", "USD", c.rel)
    if c.cashflows is None or c.cashflows.empty:
        return rows.check()
    written = c.cashflows.set_index("month").reindex(c.months)
    for term in SITE_TERMS:
        if term not in written.columns:
            continue
        got = written[term].to_numpy(dtype=float)
        led = c.ledger
        rows.add(
            np.abs(got - led.value[term]),
            np.abs(got) + led.mag[term],
            U_USD + led.err[term],
            [f"{term} {m}" for m in c.months],
        )
    return rows.check()


# The financing checks (docs/model.md, "Financing"): from funding.csv (``c.funding``) and the
# other tables alone; nothing to check without a financing section.


def _debt_rows(rows: Rows, w: Written, name: str, repaid_expected=None) -> dict:
    """Balance recursion (balance = previous + drawn − repaid) of one debt source; returns its
    arrays."""
    get = {k: w.get(name, k) for k in ("drawn_usd", "repaid_usd", "balance_usd")}
    drawn, repaid, bal = get["drawn_usd"], get["repaid_usd"], get["balance_usd"]
    prev = np.concatenate([[0.0], bal[:-1]])
    rows.add(
        np.abs(bal - prev - drawn + repaid),
        np.abs(bal) + np.abs(prev) + np.abs(drawn) + np.abs(repaid),
        4 * U_USD,
        name,
    )
    rows.add(-np.minimum(bal, 0.0), np.abs(bal), U_USD, name)
    return get


def _interest_fee_rows(rows: Rows, w: Written, name: str, interest, fee_share: float) -> None:
    """The written interest and fees equal those recomputed from the balances and draws."""
    drawn = w.get(name, "drawn_usd")
    for written, expected in (
        (w.get(name, "interest_usd"), interest),
        (w.get(name, "fees_usd"), fee_share * drawn),
    ):
        rows.add(np.abs(written - expected), np.abs(written) + np.abs(expected), 3 * U_USD, name)


def check_btc_loan(c: Context) -> Check:
    """``add_btc_loan_balance`` and ``add_loan_to_value``: each facility's balance recursion,
    0 ≤ balance ≤ F_f, draws only from its first month to the month before maturity, balance 0
    from maturity, interest r/12 × previous balance and fee × draw as written; balance ≤
    λ_f · price · pledged and Σ pledged ≤ BTC held (treasury.csv)."""
    rows = Rows("btc_loan", "USD", c.rel)
    fin = c.p.financing
    if fin is None or not fin.btc_loans:
        return rows.check()
    t = np.arange(c.T)
    held = c.tre["btc_held"].to_numpy(dtype=float)
    pledged_total = np.zeros(c.T)
    for loan in fin.btc_loans:
        name, w = loan.name, c.funding
        a = month_index(c.p.start_month, loan.first_month)
        mat = month_index(c.p.start_month, loan.maturity_month)
        get = _debt_rows(rows, w, name)
        bal, drawn = get["balance_usd"], get["drawn_usd"]
        rows.add(bal - loan.max_usd, np.abs(bal) + loan.max_usd, U_USD, name)
        rows.add(np.where((t < a) | (t >= mat), np.abs(drawn), 0.0), 0.0, U_USD, name)
        rows.add(np.where((t < a) | (t >= mat), np.abs(bal), 0.0), 0.0, U_USD, name)
        prev = np.concatenate([[0.0], bal[:-1]])
        interest = np.where((t > a) & (t <= mat), loan.rate_per_year / 12 * prev, 0.0)
        _interest_fee_rows(rows, w, name, interest, loan.fee_share)
        pledged = w.get(name, "pledged_btc")
        cover = loan.max_ltv_share * c.price * pledged
        rows.add(
            bal - cover,
            np.abs(bal) + cover,
            U_USD + loan.max_ltv_share * c.price * U_BTC,
            [f"{name} {m}" for m in c.months],
        )
        pledged_total += pledged
    btc = Rows("btc_loan", "BTC", c.rel)
    btc.add(
        pledged_total - held,
        pledged_total + np.abs(held),
        U_BTC * (len(fin.btc_loans) + 1),
        c.months,
    )
    worst = [rows.check(), btc.check()]
    return max(worst, key=lambda k: k.max_violation / k.tolerance)


def check_note(c: Context) -> Check:
    """``add_note_issue``: each note issued in at most one month of its window, ≤ M_n and (unless
    relaxed) ≥ m_n when issued; the bullet repaid term months later; balance, coupon and fee as
    written."""
    rows = Rows("note", "USD", c.rel)
    fin = c.p.financing
    if fin is None:
        return rows.check()
    t = np.arange(c.T)
    for note in fin.notes:
        w, name = c.funding, note.name
        get = _debt_rows(rows, w, name)
        issued, repaid, bal = get["drawn_usd"], get["repaid_usd"], get["balance_usd"]
        a = month_index(c.p.start_month, note.first_month)
        b = month_index(c.p.start_month, note.last_month)
        rows.add(np.where((t < a) | (t > b), np.abs(issued), 0.0), 0.0, U_USD, name)
        months = np.flatnonzero(issued > U_USD)
        if len(months) > 1 and not c.relaxed:
            rows.add(float(np.sort(issued[months])[-2]), 0.0, U_USD, f"{name} issued twice")
        total = float(issued.sum())
        rows.add(total - note.max_usd, total + note.max_usd, U_USD * c.T, name)
        if note.min_usd > 0 and not c.relaxed and len(months):
            rows.add(note.min_usd - total, total + note.min_usd, U_USD * c.T, name)
        expected = np.concatenate([np.zeros(note.term_months), issued])[: c.T]
        rows.add(np.abs(repaid - expected), np.abs(repaid) + np.abs(expected), 2 * U_USD, name)
        prev = np.concatenate([[0.0], bal[:-1]])
        _interest_fee_rows(rows, w, name, note.coupon_per_year / 12 * prev, note.fee_share)
    return rows.check()


def _site_capex(c: Context, site) -> np.ndarray:
    """Conversion capex paid at ``site`` by month, from conversions.csv (as ``_readiness``)."""
    paid = np.zeros(c.T)
    lead = site.conversion.lead_months
    for r in c.conversions[c.conversions["site"] == site.name].itertuples():
        a = c.pos[r.start_month]
        for t in [a] if lead == 0 else range(a, min(a + lead, c.T)):
            paid[t] += r.capex_usd / max(1, lead)
    return paid


def _site_noi(c: Context, site) -> tuple[np.ndarray, np.ndarray]:
    """Hosting net operating income at ``site`` by month from contracts.csv: rent − AI opex −
    AI power and firm-load charges not passed through (as ``_contract_flows``: a cloud
    contract's revenue and its own AI opex when stated), and its read error."""
    conv, T = site.conversion, c.T
    price_mwh = _series(site.power_price_usd_per_mwh, T)
    noi, err = np.zeros(T), np.zeros(T)
    rows = c.contracts[c.contracts["site"] == site.name] if len(c.contracts) else c.contracts
    for r in rows.itertuples():
        k = next(k for k in c.p.contracts if k.name == r.contract)
        a = month_index(c.p.start_month, k.start_month)
        ts = np.arange(max(0, a), min(T, a + k.term_months))
        opex = conv.ai_opex_usd_per_kw_month
        opex = opex if k.ai_opex_usd_per_kw_month is None else k.ai_opex_usd_per_kw_month
        net = 1000 * _rates(c.p, k, ts, a) - 1000 * opex
        if not k.power_pass_through:
            net = net - conv.ai_pue * price_mwh[ts] * c.hours[ts]
            net = net - 1000 * conv.ai_pue * site.firm_load_charge_usd_per_kw_month
        noi[ts] += net * r.it_mw
        err[ts] += np.abs(net) * U_MW
    return noi, err


def check_project_loan(c: Context) -> Check:
    """``add_project_loan_balance``, ``add_loan_to_cost`` and ``add_debt_service_coverage``:
    each draw repaid in N equal parts after its grace, the balance recursion, interest and fee;
    cumulative draws ≤ ltc × conversion capex paid at the site so far (conversions.csv); and
    with ``min_dscr``, hosting NOI (contracts.csv) ≥ dscr × (interest + principal) from month
    g + 1 when the loan draws at all on the path (a loan never drawn imposes no covenant)."""
    rows = Rows("project_loan", "USD", c.rel)
    fin = c.p.financing
    if fin is None:
        return rows.check()
    for loan in fin.project_loans:
        w, name, site = c.funding, loan.name, c.p.site(loan.site)
        get = _debt_rows(rows, w, name)
        drawn, repaid, bal = get["drawn_usd"], get["repaid_usd"], get["balance_usd"]
        g, n = loan.grace_months, loan.term_months
        shifted = np.concatenate([np.zeros(g + 1), drawn])[: c.T]
        expected = np.convolve(shifted, np.full(n, 1.0 / n))[: c.T]
        rows.add(np.abs(repaid - expected), np.abs(repaid) + expected, U_USD * (n + 1), name)
        prev = np.concatenate([[0.0], bal[:-1]])
        interest = loan.rate_per_year / 12 * prev
        _interest_fee_rows(rows, w, name, interest, loan.fee_share)
        cum_drawn = np.cumsum(drawn)
        cap = loan.max_loan_to_cost_share * np.cumsum(_site_capex(c, site))
        err = U_USD * (np.arange(c.T) + 1) * (1 + loan.max_loan_to_cost_share)
        rows.add(cum_drawn - cap, cum_drawn + cap, err, [f"{name} {m}" for m in c.months])
        if loan.min_dscr is not None and drawn.max(initial=0.0) > 0:
            noi, noi_err = _site_noi(c, site)
            service = loan.min_dscr * (interest + repaid)
            late = np.arange(c.T) > g
            rows.add(
                np.where(late, service - noi, 0.0),
                np.abs(noi) + service,
                U_USD * loan.min_dscr * 2 + noi_err,
                [f"{name} {m}" for m in c.months],
            )
    return rows.check()


def check_equity(c: Context) -> Check:
    """``add_equity_programme`` and the bound ``add_variables`` puts on each month's issue:
    issue ≤ the monthly cap, Σ issue ≤ the programme, fees = fee share × issue."""
    rows = Rows("equity", "USD", c.rel)
    fin = c.p.financing
    if fin is None or fin.equity is None:
        return rows.check()
    eq, w = fin.equity, c.funding
    issued = w.get(EQUITY_SOURCE, "drawn_usd")
    rows.add(issued - eq.max_usd_per_month, issued + eq.max_usd_per_month, U_USD, c.months)
    rows.add(-issued, issued, U_USD, c.months)
    total = float(issued.sum())
    rows.add(total - eq.max_usd_total, total + eq.max_usd_total, U_USD * c.T)
    fees = w.get(EQUITY_SOURCE, "fees_usd")
    rows.add(np.abs(fees - eq.fee_share * issued), fees + eq.fee_share * issued, 2 * U_USD)
    return rows.check()


def check_funding_sources(c: Context) -> Check:
    """``add_cash_balance``'s BTC sales and tenant prepayments as funding.csv shows them: the
    BTC sale rows' net proceeds equal treasury.csv's ``usd_raised`` and their fees the sale
    cost; the tenant prepayment rows add up to the prepayments recomputed from contracts.csv."""
    rows = Rows("funding_sources", "USD", c.rel)
    if c.p.financing is None:
        return rows.check()
    w, phi = c.funding, c.p.treasury.sale_cost_bps / 1e4
    sources = list(w.by_source)
    sales = [s for s in sources if s.startswith("BTC sold from")]
    drawn = sum((w.get(s, "drawn_usd") for s in sales), np.zeros(c.T))
    fees = sum((w.get(s, "fees_usd") for s in sales), np.zeros(c.T))
    sold_usd = c.price * c.tre["btc_sold"].to_numpy(dtype=float)
    raised = (1 - phi) * sold_usd
    rows.add(np.abs(drawn - raised), drawn + raised, 3 * U_USD + c.price * U_BTC, c.months)
    rows.add(
        np.abs(fees - phi * sold_usd), fees + phi * sold_usd, 3 * U_USD + c.price * U_BTC, c.months
    )
    prepay = [s for s in sources if s.startswith("Tenant prepayment: ")]
    got = sum((w.get(s, "drawn_usd") for s in prepay), np.zeros(c.T))
    led = c.ledger
    rows.add(
        np.abs(got - led.value["tenant_capex_usd"]),
        got + led.mag["tenant_capex_usd"],
        U_USD * (len(prepay) + 1) + led.err["tenant_capex_usd"],
        c.months,
    )
    return rows.check()


CHECKS: dict[str, Callable[[Context], Check]] = {
    "builds_ready_in_horizon": check_builds_ready_in_horizon,
    "conversion_limit": check_conversion_limit,
    "build_blocks": check_build_blocks,
    "site_power": check_site_power,
    "hosting_capacity": check_hosting_capacity,
    "plan_states_consistent": check_plan_states_consistent,
    "fleet_limit": check_fleet_limit,
    "contract_size": check_contract_size,
    "btc_balance": check_btc_balance,
    "btc_floor_and_depth": check_btc_floor_and_depth,
    "cash_balance": check_cash_balance,
    "cash_floor": check_cash_floor,
    "prepaid_capacity": check_prepaid_capacity,
    "site_terms": check_site_terms,
    "grid_kept": check_grid_kept,
    "btc_loan": check_btc_loan,
    "note": check_note,
    "project_loan": check_project_loan,
    "equity": check_equity,
    "funding_sources": check_funding_sources,
    "value": check_value,
}
"""Invariant family → its check (``check_<family>``), in the order verification reports them.
docs/model.md names the check of each builder family; tests/test_docs.py holds the two alike."""
FINANCING_CHECKS = ("btc_loan", "note", "project_loan", "equity", "funding_sources")
"""Checks reported only for plans with a ``financing`` section."""


def verify(
    p: Portfolio,
    plan: pd.DataFrame,
    treasury: pd.DataFrame,
    conversions: pd.DataFrame,
    contracts: pd.DataFrame,
    rig_sales: pd.DataFrame,
    funding_gap: pd.DataFrame,
    value_usd: float,
    market: Market | None = None,
    relaxed: bool = False,
    rel: float = REL,
    cashflows: pd.DataFrame | None = None,
    grid: pd.DataFrame | None = None,
    funding: pd.DataFrame | None = None,
) -> Verification:
    """Recompute every invariant of one scenario's plan; see the module docstring. ``rel``: the
    relative part of the tolerances (``relative_tolerance(solver)``); ``cashflows``: the
    scenario's cashflows.csv, whose site-term columns ``check_site_terms`` compares; ``grid``:
    grid.csv; ``funding``: funding.csv's rows of the scenario (plans with a ``financing``
    section)."""
    tables = {
        "treasury": treasury,
        "conversions": conversions,
        "contracts": contracts,
        "funding_gap": funding_gap,
    }
    c = _context(p, market or p.market, tables, value_usd, relaxed, rel)
    c.cashflows = cashflows
    c.grid = grid
    rederive(c, plan, rig_sales)
    c.fin = rederive_financing(c, funding)
    checks = [
        check(c)
        for name, check in CHECKS.items()
        if p.financing is not None or name not in FINANCING_CHECKS
    ]
    return Verification(checks, recomputed_value(c)[0])


def check_cvar(model, x: np.ndarray, dist: ValueDistribution, rel: float) -> Check:
    """``add_cvar_shortfall``: the LP's CVaR, η − Σ π_ω u_ω/(1 − α), against the CVaR of the
    scenario values (plans with a CVaR weight). Unlike the checks above it reads the solution,
    not the tables: η and u_ω are written nowhere.

    The tolerance follows what enters the shortfall rows ``u_ω ≥ η − V_ω``: |η|, u_ω and every
    term of V_ω, times ``rel``, each row's residual amplified by 1/(1 − α) as CVaR reads it;
    plus the $1 floor (``ABS``), amplified alike.
    """
    alpha = model.risk.cvar_alpha
    prob = model.index.probability
    lp_cvar = (x[model.eta] - float(prob @ x[model.shortfall]) / (1 - alpha)) * 1e6
    terms = [
        sum(
            float(np.abs(tv.coefs * x[tv.cols]).sum())
            for tv in (m[w] for m in model.terms.values())
        )
        for w in range(len(prob))
    ]
    rows = abs(x[model.eta]) + float(prob @ (np.abs(x[model.shortfall]) + np.array(terms)))
    return Check(
        "cvar",
        float(abs(lp_cvar - dist.cvar_usd)),
        float(ABS["USD"] + rel * rows * 1e6) / (1 - alpha),
        "USD",
    )
