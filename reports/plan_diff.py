"""``realloc diff``: two plan folders side by side, for "the base plan against the board's
alternative".

Everything is read from the folders' files (README "Outputs"), never by solving again: the
headline figures and value terms from ``summary.json`` (for a stochastic plan its expected
values over the market paths), the decisions from ``conversions.csv``, ``contracts.csv`` and
``rig_sales.csv``, BTC sales and cash from ``treasury.csv`` (probability-weighted over the paths
by :func:`~realloc.reports.board.data.load_run`, as in the board report), and what differs in
the inputs from both ``inputs.json``. Every figure is shown as A, B and B − A.

Files of ``--out DIR`` (:data:`~realloc.reports.atomic.DIFF_FILES`): ``diff.md`` (the page
printed on stdout), ``diff_headline.csv``, ``diff_value_bridge.csv``, ``diff_decisions.csv``,
``diff_btc_sold.csv`` and ``diff_inputs.csv``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from realloc.optimizer.statistics import quarter
from realloc.reports.atomic import OutputRefused, OutputSpec, staged_dir
from realloc.reports.board.data import NotARunFolder, Run, SweepFolder, load_run
from realloc.reports.inputs_diff import InputsDiff, diff_inputs
from realloc.reports.plan_diff_md import diff_markdown, same
from realloc.reports.safe_text import write_csv
from realloc.reports.summary_md import TERM_LABELS

HEADLINE = (
    ("status", "Status", "text"),
    ("value_usd", "Plan value", "usd"),
    ("baseline_value_usd", "Status quo value", "usd"),
    ("uplift_usd", "Uplift", "usd"),
    ("btc_sold_total", "BTC sold", "btc"),
    ("usd_raised_total", "USD raised by BTC sales (net of sale costs)", "usd"),
    ("lowest_cash_usd", "Lowest month-end cash", "usd"),
    ("min_cash_usd", "Cash floor", "usd"),
    ("funding_gap_total_usd", "Funding gap (cash needed from outside)", "usd"),
    ("it_mw_converted_total", "IT MW converted", "mw"),
)
"""The headline figures: summary.json's key (``lowest_cash_usd`` from treasury.csv), label,
unit."""

RISK = (
    ("stochastic.cvar_usd", "CVaR", "usd"),
    ("stochastic.p5_value_usd", "Value, 5th percentile of paths", "usd"),
    ("stochastic.p95_value_usd", "Value, 95th percentile of paths", "usd"),
)
"""Figures of a stochastic plan's value distribution, shown when either plan has them."""

DECISION_COLUMNS = [
    "kind", "name", "site", "a", "b", "a_mw", "b_mw", "b_minus_a_mw", "a_month", "b_month",
    "changed",
]  # fmt: skip


def _minus(a: object, b: object) -> float | None:
    """B − A for two numbers, else None (a status, a figure a failed plan does not have)."""
    numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (a, b))
    return float(b) - float(a) if numbers else None


def read_plan(folder: Path | str) -> Run:
    """A plan folder, or :class:`NotARunFolder` with a message for ``diff`` (a sweep store,
    a forecast folder or a damaged summary.json are not plans)."""
    folder = Path(folder)
    try:
        run = load_run(folder)
    except SweepFolder:
        raise NotARunFolder(
            f"{folder} holds a sweep's results (scenarios.parquet), not one plan; "
            f"`realloc compare {folder}` compares a sweep's variants"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise NotARunFolder(f"{folder}: a file of the plan folder cannot be read ({e})") from None
    if not isinstance(run.summary, dict) or "status" not in run.summary:
        raise NotARunFolder(f"{folder}/summary.json is not a plan's summary (no status)")
    return run


def _figures(run: Run) -> dict[str, object]:
    """The headline figures of one plan, by key (see :data:`HEADLINE` and :data:`RISK`)."""
    s = run.summary
    out: dict[str, object] = {key: s.get(key) for key, _, _ in HEADLINE}
    cash = run.table("treasury").get("cash_usd")
    out["lowest_cash_usd"] = float(cash.min()) if cash is not None and len(cash) else None
    for key, _, _ in RISK:
        out[key] = (run.stochastic or {}).get(key.split(".", 1)[1])
    return out


def headline_frame(a: Run, b: Run) -> pd.DataFrame:
    """figure, label, unit, a, b, b_minus_a: the headline figures of both plans."""
    fa, fb = _figures(a), _figures(b)
    risky = a.stochastic is not None or b.stochastic is not None
    rows = [
        (key, label, unit, fa[key], fb[key], _minus(fa[key], fb[key]))
        for key, label, unit in (*HEADLINE, *(RISK if risky else ()))
    ]
    return pd.DataFrame(rows, columns=["figure", "label", "unit", "a", "b", "b_minus_a"])


def value_bridge_frame(a: Run, b: Run) -> pd.DataFrame:
    """term, label, a_usd, b_usd, b_minus_a_usd: summary.json's value terms (discounted), in
    the objective's order, then the plan value they add up to."""
    ta = a.summary.get("value_terms_usd") or {}
    tb = b.summary.get("value_terms_usd") or {}
    order = [*(a.summary.get("value_terms_order") or []), *ta, *tb]
    rows = [
        (t, TERM_LABELS.get(t, t), ta.get(t), tb.get(t), _minus(ta.get(t), tb.get(t)))
        for t in dict.fromkeys(order)
        if t in ta or t in tb
    ]
    va, vb = a.summary.get("value_usd"), b.summary.get("value_usd")
    rows.append(("value_usd", "Plan value", va, vb, _minus(va, vb)))
    return pd.DataFrame(rows, columns=["term", "label", "a_usd", "b_usd", "b_minus_a_usd"])


def _months_text(months: pd.Series) -> str:
    return ", ".join(sorted(set(months.astype(str))))


def _conversions(run: Run) -> dict[str, tuple[str, float, str]]:
    """Per site converting: ("convert", IT MW, start month(s))."""
    t = run.table("conversions")
    if t.empty:
        return {}
    return {
        str(site): ("convert", float(g["it_mw"].sum()), _months_text(g["start_month"]))
        for site, g in t.groupby("site", sort=False)
    }


def _contracts(run: Run) -> dict[str, tuple[str, float, str, str]]:
    """Per contract: (decision, IT MW, site(s), start month); a contract the plan's inputs
    offer but contracts.csv lacks is declined."""
    t = run.table("contracts")
    out: dict[str, tuple[str, float, str, str]] = {}
    if "conversions" not in run.tables:
        return out  # no plan: nothing declined either
    for name, g in t.groupby("contract", sort=False) if not t.empty else ():
        signed = bool(g["signed"].all()) if "signed" in g else False
        sites = ", ".join(dict.fromkeys(g["site"].astype(str)))
        decision = "signed before" if signed else "taken"
        out[str(name)] = (decision, float(g["it_mw"].sum()), sites, _months_text(g["start_month"]))
    for c in (run.inputs or {}).get("contracts") or []:
        if isinstance(c, dict) and str(c.get("name")) not in out:
            out[str(c.get("name"))] = ("declined", 0.0, "", "")
    return out


def _rig_sales(run: Run) -> dict[tuple[str, str], tuple[str, float, str]]:
    """Per (site, fleet group) sold: ("sell", MW sold, first month of sale)."""
    t = run.table("rig_sales")
    if t.empty:
        return {}
    return {
        (str(site), str(group)): ("sell", float(g["mw_sold"].sum()), str(g["month"].min()))
        for (site, group), g in t.groupby(["site", "fleet_group"], sort=False)
    }


def _no_row(kind: str, run: Run) -> tuple[str, float, str]:
    """What a plan does with a site, contract or fleet group it has no row for: nothing (no
    conversion, a contract it is not offered, rigs kept), or "no plan" when it has no tables
    at all (infeasible, or the time limit struck first): an empty plan decides nothing."""
    if "conversions" not in run.tables:
        return ("no plan", 0.0, "")
    return ({"conversion": "none", "contract": "not offered", "rig sale": "keep"}[kind], 0.0, "")


def _decision_row(kind: str, name: str, site: str, a: tuple, b: tuple) -> dict:
    """One decision of both plans: what each does, its MW and month, and whether it differs.
    ``a``/``b`` are (decision, MW, ..., month)."""
    changed = a[0] != b[0] or a[-1] != b[-1] or not same(a[1], b[1])
    if kind == "contract":
        site = " / ".join(dict.fromkeys(s for s in (a[2], b[2]) if s))
    return dict(
        kind=kind, name=name, site=site, a=a[0], b=b[0], a_mw=a[1], b_mw=b[1],
        b_minus_a_mw=b[1] - a[1], a_month=a[-1], b_month=b[-1], changed=changed,
    )  # fmt: skip


def decisions_frame(a: Run, b: Run) -> pd.DataFrame:
    """Conversions per site, contracts (taken, declined, signed before) and rig sales per
    fleet group, of both plans (see :data:`DECISION_COLUMNS`)."""
    rows = []
    for kind, read in (("conversion", _conversions), ("contract", _contracts)):
        da, db = read(a), read(b)
        for key in {**da, **db}:
            site = "" if kind == "contract" else key
            row_a, row_b = da.get(key) or _no_row(kind, a), db.get(key) or _no_row(kind, b)
            rows.append(_decision_row(kind, key, site, row_a, row_b))
    ra, rb = _rig_sales(a), _rig_sales(b)
    for site, group in {**ra, **rb}:
        row_a = ra.get((site, group)) or _no_row("rig sale", a)
        row_b = rb.get((site, group)) or _no_row("rig sale", b)
        rows.append(_decision_row("rig sale", group, site, row_a, row_b))
    return pd.DataFrame(rows, columns=DECISION_COLUMNS)


def _btc_sold(run: Run) -> pd.Series:
    """BTC sold per month (expected over the market paths of a stochastic plan)."""
    t = run.table("treasury")
    if t.empty or "btc_sold" not in t:
        return pd.Series(dtype=float)
    return t.groupby("month", sort=True)["btc_sold"].sum()


def btc_sold_frame(a: Run, b: Run) -> pd.DataFrame:
    """period, a_btc_sold, b_btc_sold, b_minus_a: BTC sold per year, then per quarter, for
    the periods in which either plan sells."""
    sa, sb = _btc_sold(a), _btc_sold(b)
    months = pd.concat([sa, sb], axis=1, keys=["a", "b"]).fillna(0.0)
    months = months[(months["a"] > 1e-6) | (months["b"] > 1e-6)]
    parts = []
    for period in (lambda m: m[:4], quarter):
        g = months.groupby(months.index.map(period), sort=True).sum()
        parts.append(g.rename_axis("period").reset_index())
    out = pd.concat(parts, ignore_index=True).rename(columns={"a": "a_btc_sold", "b": "b_btc_sold"})
    out["b_minus_a"] = out["b_btc_sold"] - out["a_btc_sold"]
    return out[["period", "a_btc_sold", "b_btc_sold", "b_minus_a"]]


@dataclass
class PlanDiff:
    """Two plans side by side: the tables of the CSV files and the page (:meth:`markdown`)."""

    a: Run
    b: Run
    a_label: str
    b_label: str
    headline: pd.DataFrame
    value_bridge: pd.DataFrame
    decisions: pd.DataFrame
    btc_sold: pd.DataFrame
    inputs: InputsDiff

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The CSV tables by file name without ``.csv``."""
        return {
            "diff_headline": self.headline,
            "diff_value_bridge": self.value_bridge,
            "diff_decisions": self.decisions,
            "diff_btc_sold": self.btc_sold,
            "diff_inputs": self.inputs.frame,
        }

    @property
    def identical(self) -> bool:
        """No difference in inputs, decisions, figures, value terms or BTC sales."""
        figures = [*self.headline[["a", "b"]].itertuples(index=False)]
        terms = [*self.value_bridge[["a_usd", "b_usd"]].itertuples(index=False)]
        return (
            not self.inputs.lines
            and not self.decisions["changed"].any()
            and all(same(x, y) for x, y in figures + terms)
            and all(same(x, 0.0) for x in self.btc_sold["b_minus_a"])
        )

    def markdown(self) -> str:
        """The page: diff.md, and what ``realloc diff`` prints."""
        return diff_markdown(self)

    def write(self, out_dir: Path | str) -> dict[str, Path]:
        """diff.md and the CSV tables into ``out_dir``, staged and swapped in at once. Only a
        new or empty folder or an earlier diff's is replaced, never one inside either plan
        folder (the plan would no longer be realloc's alone)."""
        out = Path(out_dir)
        here = out.resolve()
        for run in (self.a, self.b):
            if run.path.resolve() in (here, *here.parents):
                raise OutputRefused(
                    f"--out {out}: is inside the plan folder {run.path}; nothing was touched "
                    "(give --out a folder of its own)"
                )
        files = {name: out / f"{name}.csv" for name in self.tables} | {"md": out / "diff.md"}
        with staged_dir(out, OutputSpec("diff", self.a.path)) as stage:
            for name, frame in self.tables.items():
                write_csv(frame, stage / f"{name}.csv")
            (stage / "diff.md").write_text(self.markdown(), encoding="utf-8")
        return files


def diff(plan_a: Path | str, plan_b: Path | str) -> PlanDiff:
    """Compare two plan folders (``realloc plan --out``): raises :class:`NotARunFolder` when
    either is not one."""
    a, b = read_plan(plan_a), read_plan(plan_b)
    return diff_runs(a, b, str(plan_a), str(plan_b))


def diff_runs(a: Run, b: Run, a_label: str, b_label: str) -> PlanDiff:
    """Compare two plans already read (``a_label``/``b_label`` name them on the page)."""
    return PlanDiff(
        a, b, a_label, b_label,
        headline=headline_frame(a, b),
        value_bridge=value_bridge_frame(a, b),
        decisions=decisions_frame(a, b),
        btc_sold=btc_sold_frame(a, b),
        inputs=diff_inputs(a.inputs, b.inputs),
    )  # fmt: skip
