"""The board report as one self-contained HTML page: inline CSS and PNG charts, no scripts,
no network fetches, every piece of user text escaped, a print stylesheet for A4 and Letter."""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence

import pandas as pd

from reports.board.charts import charts
from reports.board.data import Run
from reports.board.figures import (
    bridge_frame,
    btc_by_quarter,
    cash_floor,
    decisions_frame,
    funding_gap,
    key_figures,
    payback_month,
    provenance,
    source_files,
    verification_frame,
)
from reports.summary_md import binding_constraints, money

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
