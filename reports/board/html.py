"""The board report as one self-contained HTML page: inline CSS and PNG charts, no scripts,
no network fetches, every piece of user text escaped, a print stylesheet for A4 and Letter."""

from __future__ import annotations

import pandas as pd

from realloc.optimizer import statistics
from realloc.reports.board.charts import charts
from realloc.reports.board.data import Run
from realloc.reports.board.figures import (
    bridge_frame,
    btc_by_quarter,
    cash_floor,
    decisions_frame,
    funding_gap,
    key_figures,
    payback,
    provenance,
    source_files,
    verification_frame,
)
from realloc.reports.board.funding_charts import funding_charts
from realloc.reports.board.funding_section import funding_section
from realloc.reports.board.inputs_appendix import inputs_sections
from realloc.reports.board.markup import esc, html_table, img, kv_table, yes_no
from realloc.reports.board.risk_section import risk_section
from realloc.reports.summary_md import binding_constraints, money
from realloc.reports.value_split import (
    value_split_sentences,
    without_rent_sentences,
)

# --------------------------------------------------------------------------- HTML

CSS = """
:root { --ink:#1d2733; --muted:#5b6673; --rule:#d7dde4; --accent:#2f6db5; }
* { box-sizing: border-box; }
body { font: 14px/1.45 "Liberation Sans", Helvetica, Arial, "DejaVu Sans", sans-serif;
       color: var(--ink); margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 25px; margin: 0 0 4px; }
h2 { font-size: 18px; border-bottom: 2px solid var(--accent); padding-bottom: 4px;
     margin-top: 36px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
h2, h3 { break-after: avoid; page-break-after: avoid; }
.sub { color: var(--muted); margin: 0 0 16px; }
.gap { border: 3px solid #c0392b; background: #fdecea; color: #7b1d14; padding: 14px 18px;
       border-radius: 6px; margin: 12px 0 20px; }
.gap strong.big { font-size: 22px; display: block; margin-bottom: 6px; }
.note { border-left: 4px solid #f2c14e; background: #fff9e6; padding: 8px 12px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(125px, 1fr));
         gap: 10px; margin: 16px 0 8px; }
.tile { border: 1px solid var(--rule); border-top: 4px solid var(--accent); border-radius: 4px;
        padding: 8px 12px; background: #f7f9fb; }
.tile .label { color: var(--muted); font-size: 12px; text-transform: uppercase;
               letter-spacing: .03em; }
.tile .value { font-size: 24px; font-weight: 700; margin: 2px 0; white-space: nowrap; }
.tile .detail { color: var(--muted); font-size: 12px; }
.tile.bad { border-top-color: #c0392b; background: #fdecea; }
.tile.bad .value { color: #b03a2e; }
table { border-collapse: collapse; margin: 8px 0 14px; font-size: 12.5px; }
th, td { border-bottom: 1px solid var(--rule); padding: 4px 8px; text-align: left;
         vertical-align: top; }
th { background: #eef2f6; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.pos { color: #23773a; } td.neg { color: #b03a2e; }
table.kv th { width: 18em; background: none; font-weight: 600; }
table.compact th, table.compact td { padding: 2px 8px; }
figure { margin: 12px 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { color: var(--muted); font-size: 12px; }
ul.binds li { margin: 3px 0; }
p.method { max-width: 60em; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 0 28px; align-items: start; }
.pair table.kv th { width: auto; }
code { font-size: 12px; word-break: break-all; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5px; }
  section { break-before: page; page-break-before: always; }
  section.first { break-before: auto; page-break-before: auto; }
  h1 { font-size: 21px; } h2 { font-size: 15px; margin-top: 0; } h3 { font-size: 12.5px; }
  table { font-size: 9.5px; } th, td { padding: 2px 6px; }
  .tile .value { font-size: 19px; } .tile .label, .tile .detail { font-size: 9.5px; }
  figure, table, .gap, .tiles, .keep { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  figure { margin: 6px 0; }
  figure img { border: none; max-height: 118mm; width: auto; }
  #capacity figure img, #treasury figure img, #bridge figure img { max-height: 112mm; }
  #risk figure img { max-height: 50mm; }
  #inputs table.compact, #inputs-sites table.compact { font-size: 8.5px; }
  figcaption { font-size: 9px; }
  code { font-size: 9px; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _gap_box(run: Run) -> str:
    total, first = funding_gap(run)
    diag = "".join(f"<li>{esc(d)}</li>" for d in run.summary.get("diagnosis") or [])
    return (
        '<div class="gap" role="alert"><strong class="big">'
        f"Unfunded: {esc(money(total))} of outside cash is needed"
        + (f", first in {esc(first)}" if first else "")
        + "</strong>The plan below cannot be funded from starting cash and BTC sales within the "
        "treasury rules; the funding gap has to come from a credit line, equity or a lower cash "
        f"floor.{f'<ul>{diag}</ul>' if diag else ''}</div>"
    )


def _summary_sentences(run: Run) -> list[str]:
    """The executive summary in plain sentences, in reading order: how values are measured
    (market paths), what the plan is worth, what it decides, what BTC it sells and when it
    pays back. Each part is its own helper and may say nothing."""
    return [
        *_paths_sentence(run),
        *_value_sentence(run),
        *_decision_sentences(run),
        *_btc_sentence(run),
        *_payback_sentence(run),
    ]


def _paths_sentence(run: Run) -> list[str]:
    """For a plan over market paths: that values are expected values, and the spread."""
    block = run.stochastic
    if not block:
        return []
    alpha = float(block.get("cvar_alpha", 0.95))
    return [
        f"Values are expected values over {block.get('scenarios')} market paths for BTC "
        f"price and hashprice, weighted by probability: on the worst {1 - alpha:.0%} of "
        f"paths the plan is worth {money(block.get('cvar_usd'))} on average (CVaR), and "
        f"from {money(block.get('p5_value_usd'))} (P5) to "
        f"{money(block.get('p95_value_usd'))} (P95); see Risk across market paths."
    ]


def _value_sentence(run: Run) -> list[str]:
    """The plan's value against the status quo's, when the plan has one."""
    s = run.summary
    if s.get("value_usd") is None:
        return []
    return [
        f"The plan is worth {money(s.get('value_usd'))} (discounted) against "
        f"{money(s.get('baseline_value_usd'))} for the status quo (no new builds, contracts "
        f"or rig sales): {money(s.get('uplift_usd'))} more."
    ]


def _decision_sentences(run: Run) -> list[str]:
    """The once-for-all decisions: which sites convert, and which new contracts to sign."""
    out = []
    conv = run.table("conversions")
    if not conv.empty:
        sites = ", ".join(
            f"{r.site} ({r.it_mw:,.1f} MW from {r.start_month})"
            for r in conv.sort_values("start_month").itertuples()
        )
        out.append(
            f"Convert {statistics.it_mw_converted_total(conv):,.1f} MW of IT capacity at "
            f"{len(conv)} site(s): "
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
    return out


def _btc_sentence(run: Run) -> list[str]:
    """BTC sold over the horizon and the cash it raises (on average, over market paths)."""
    s = run.summary
    sold, raised = s.get("btc_sold_total"), s.get("usd_raised_total")
    if sold and run.expected:
        return [
            f"Sell {sold:,.2f} BTC in all on average over the paths (sales follow each path), "
            f"raising {money(raised)} net of sale costs."
        ]
    if sold:
        return [f"Sell {sold:,.2f} BTC in all, raising {money(raised)} net of sale costs."]
    if sold is not None:
        return ["Sell no BTC."]
    return []


def _payback_sentence(run: Run) -> list[str]:
    """How far cumulative cash falls behind the status quo's and when (if) it catches up;
    nothing when the plan is never behind."""
    pay = payback(run)
    if pay is None or pay.never_behind:
        return []
    dip = f"Cumulative cash falls {money(-pay.trough_usd)} behind the status quo's by "
    dip += str(pay.trough_month)
    return [
        f"{dip}; the plan pays back in {pay.month} and stays ahead from then on."
        if pay.month
        else f"{dip} and does not catch up within the horizon, so the uplift rests on the "
        "value counted at the horizon's end (terminal value, fleet salvage)."
    ]


SECTION_IDS = (
    "summary",
    "decisions",
    "capacity",
    "conversions",
    "treasury",
    "funding",
    "bridge",
    "risk",
    "inputs",
    "inputs-sites",
    "method",
    "checks",
)
"""Sections in reading order; in print each starts a page (one page each for a portfolio the
size of the bundled example). A section whose data is missing is left out ("risk" is there
for stochastic plans only, "funding" for plans whose portfolio offers financing)."""


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal: anything but plain letters, digits and spaces is a hex
    escape, so user text can neither end the string nor the ``<style>`` element."""
    out = []
    for ch in text:
        out.append(ch if ch.isascii() and (ch.isalnum() or ch == " ") else f"\\{ord(ch):x} ")
    return '"' + "".join(out) + '"'


def _page_css(run: Run, paper: str | None) -> str:
    """Printed page furniture: size (for the PDF), running footer with the name, page X of Y."""
    size = f"size: {paper} portrait;" if paper else ""
    return (
        f"@page {{ {size} margin: 14mm 13mm 16mm;"
        f" @bottom-left {{ content: {_css_string(run.name + ': board report')};"
        " font: 8pt sans-serif; color: #5b6673; }"
        ' @bottom-right { content: "Page " counter(page) " of " counter(pages);'
        " font: 8pt sans-serif; color: #5b6673; } }"
    )


def _tiles(run: Run) -> str:
    """The four numbers a director reads first, as large tiles (a red one when unfunded)."""
    s = run.summary
    tiles: list[tuple[str, str, str, str]] = []  # (label, value, detail, css class)
    if run.status == "unfunded":
        total, first = funding_gap(run)
        tiles.append(("Funding gap", money(total), f"first in {first or 'n/a'}", "bad"))
    if s.get("uplift_usd") is not None:
        tiles.append(
            (
                "Value vs status quo",
                money(s["uplift_usd"]),
                f"plan {money(s.get('value_usd'))} vs {money(s.get('baseline_value_usd'))}"
                + (
                    f", expected over {run.stochastic.get('scenarios')} paths"
                    if run.stochastic
                    else ""
                ),
                "",
            )
        )
    conv = run.table("conversions")
    if s.get("it_mw_converted_total") is not None:
        where = f"at {len(conv)} site(s)" if not conv.empty else "no conversions"
        tiles.append(("IT MW to convert", f"{s['it_mw_converted_total']:,.1f} MW", where, ""))
    if s.get("btc_sold_total") is not None:
        tiles.append(
            (
                "BTC to sell",
                f"{s['btc_sold_total']:,.0f} BTC",
                f"{'expected; ' if run.expected else ''}raises {money(s.get('usd_raised_total'))}",
                "",
            )
        )
    pay = payback(run)
    same_cash = pay is not None and max(map(abs, pay.cumulative_usd), default=0.0) <= 1.0
    if pay is not None and not same_cash:  # no tile when the plan's cash is the status quo's
        value = pay.month or ("immediate" if pay.never_behind else "beyond horizon")
        detail = (
            f"low {money(pay.trough_usd)} in {pay.trough_month}"
            if pay.trough_month
            else "never behind the status quo"
        )
        tiles.append(("Payback month", value, detail, ""))
    if not tiles:
        return ""
    body = "".join(
        f'<div class="tile {cls}"><div class="label">{esc(label)}</div>'
        f'<div class="value">{esc(value)}</div><div class="detail">{esc(detail)}</div></div>'
        for label, value, detail, cls in tiles
    )
    return f'<div class="tiles">{body}</div>'


def _summary_section(run: Run, pngs: dict[str, bytes]) -> str:
    s = run.summary
    parts = ['<section class="first" id="summary">']
    if run.status == "unfunded":
        parts.append(_gap_box(run))
    parts.append(f"<h1>{esc(run.name)}: reallocation plan</h1>")
    made = f" of the plan made {run.created:%Y-%m-%d %H:%M} UTC" if run.created else ""
    parts.append(
        f'<p class="sub">Board report{esc(made)}. Plan status: '
        f"<strong>{esc(run.status)}</strong>. Run folder <code>{esc(run.path.name)}</code>.</p>"
    )
    if run.status not in ("optimal", "unfunded") and s.get("diagnosis"):
        items = "".join(f"<li>{esc(d)}</li>" for d in s["diagnosis"])
        parts.append(f'<div class="note"><ul>{items}</ul></div>')
    for note in run.notes:
        parts.append(f'<p class="note">{esc(note)}</p>')
    parts.append(_tiles(run))
    parts.append("<h2>Decision summary</h2>")
    parts += [f"<p>{esc(t)}</p>" for t in _summary_sentences(run)]
    parts.append(
        img(
            pngs.get("payback"),
            "Cumulative cash, plan minus status quo",
            "Running total of the plan's monthly cash flow minus the status quo's (every value "
            "term but the end-of-horizon ones). The payback month is where it turns positive "
            "for good.",
        )
    )
    parts.append(kv_table(key_figures(run)))
    shadow = run.table("shadow_prices")
    if not shadow.empty and {"family", "site", "month", "shadow_price_usd"} <= set(shadow.columns):
        binds = binding_constraints(shadow)
        parts.append('<div class="keep"><h3>What holds the plan back</h3>')
        parts.append(
            '<ul class="binds">' + "".join(f"<li>{esc(b)}</li>" for b in binds) + "</ul>"
            if binds
            else "<p>Nothing binds at the margin.</p>"
        )
        parts.append("</div>")
    parts.append("</section>")
    return "\n".join(parts)


def _decisions_section(run: Run) -> str:
    frame = decisions_frame(run)
    headers = {
        "decision": "Decision",
        "where": "Where / what",
        "when": "When",
        "size": "Size",
        "usd": "USD",
    }
    return (
        '<section id="decisions"><h2>Decisions: what to do, where and when</h2>'
        "<p>Every action the plan takes, in time order within each kind: conversions to start, "
        "hosting contracts to sign, rigs to sell, and BTC to sell by quarter.</p>"
        f"{html_table(frame, headers)}</section>"
    )


def _capacity_section(run: Run, pngs: dict[str, bytes]) -> str:
    if "capacity" not in pngs:
        return ""
    return (
        '<section id="capacity"><h2>Capacity by use</h2>'
        + img(
            pngs["capacity"],
            "Portfolio grid power by use over time",
            "Grid draw (MW) each month: mining by fleet group, hosting by contract, halls "
            "under construction, built halls awaiting a tenant, and unused grid (grey).",
        )
        + img(pngs.get("site_capacity"), "Grid power by use at each site")
        + "</section>"
    )


def _conversions_section(run: Run, pngs: dict[str, bytes]) -> str:
    parts = ['<section id="conversions"><h2>Conversion timeline</h2>']
    if "gantt" in pngs:
        parts.append(
            img(
                pngs["gantt"],
                "Conversion timeline per site",
                "Yellow: construction start to ready month. Blue: hall available to tenants "
                "to the end of the horizon. Diamonds: first month of a contract's rent.",
            )
        )
        parts.append(
            html_table(
                run.table("conversions"),
                {
                    "site": "Site",
                    "start_month": "Build starts",
                    "ready_month": "Ready",
                    "it_mw": "IT MW",
                    "capex_usd": "Capex",
                },
                {"it_mw": lambda v: f"{v:,.1f}", "capex_usd": money},
            )
        )
    else:
        parts.append("<p>No conversions in this plan.</p>")
    con = _contracts_shown(run.table("contracts"))
    if not con.empty:
        parts.append('<div class="keep"><h3>Hosting contracts</h3>')
        parts.append(
            html_table(
                con,
                {
                    "kind": "Kind",
                    "usd_per_kw_month": "$/kW-month (cloud: equivalent, 30.4375-day month)",
                    "contract": "Contract",
                    "site": "Site",
                    "it_mw": "IT MW",
                    "start_month": "Starts",
                    "end_month": "Ends",
                    "signed": "Signed already",
                    "first_month_in_horizon": "First rent",
                    "revenue_usd": "Rent in horizon",
                },
                {"it_mw": lambda v: f"{v:,.1f}", "revenue_usd": money, "signed": yes_no},
            )
        )
        parts.append("</div>")
    parts.append(_flexibility_part(run))
    parts.append("</section>")
    return "\n".join(parts)


def _contracts_shown(con: pd.DataFrame) -> pd.DataFrame:
    """contracts.csv as the board reads it: the kind and $/kW-month columns only when a cloud
    contract is in the plan (its equivalent rate beside the rents), prepaid MW never."""
    cloud = "kind" in con.columns and (con["kind"] == "cloud").any()
    drop = ["prepaid_it_mw"] + ([] if cloud else ["kind", "usd_per_kw_month"])
    return con.drop(columns=[c for c in drop if c in con.columns])


def _flexibility_part(run: Run) -> str:
    """Per site, the flexibility value the plan gives up (summary.json's
    ``flexibility_by_site``; nothing without curtailment credits or firm-load charges)."""
    rows = run.summary.get("flexibility_by_site") or []
    if not rows:
        return ""
    frame = pd.DataFrame(rows)[
        [
            "site",
            "credit_status_quo_usd",
            "credit_plan_usd",
            "firm_load_charge_plan_usd",
            "given_up_usd",
        ]
    ]
    table = html_table(
        frame,
        {
            "site": "Site",
            "credit_status_quo_usd": "Credits, status quo",
            "credit_plan_usd": "Credits, plan",
            "firm_load_charge_plan_usd": "Firm-load charges, plan",
            "given_up_usd": "Flexibility given up",
        },
        {c: money for c in frame.columns if c != "site"},
    )
    note = (
        "<p>Over the horizon, undiscounted: curtailment credits lost on the mining MW the plan "
        "no longer runs, plus the firm-load charges its AI halls pay beyond the status quo's.</p>"
    )
    return f'<div class="keep"><h3>Flexibility given up</h3>{note}{table}</div>'


def _treasury_section(run: Run, pngs: dict[str, bytes]) -> str:
    if "treasury" not in pngs:
        return ""
    floor = cash_floor(run.summary)
    cap = "BTC held at month end and sold in the month; BTC price on the right axis. "
    if run.expected:
        cap = (
            "Lines and bars: expected values over the market paths; shaded bands: the range "
            "from P5 to P95 of the paths in each month. " + cap
        )
    cap += (
        f"Cash against its {money(floor)} floor."
        if floor is not None
        else "Cash at month end (the cash floor is not recorded in the run folder)."
    )
    parts = ['<section id="treasury"><h2>Treasury</h2>']
    parts.append(img(pngs["treasury"], "Treasury: BTC held and sold, cash", cap))
    q = btc_by_quarter(run)
    if not q.empty:
        title = "BTC to sell by quarter" + (", expected over paths" if run.expected else "")
        parts.append(f'<div class="keep"><h3>{esc(title)}</h3>')
        parts.append(
            html_table(
                q,
                {"btc_sold": "BTC sold", "usd_raised": "USD raised (net)"},
                {"btc_sold": lambda v: f"{v:,.2f}", "usd_raised": money},
            )
        )
        parts.append("</div>")
    parts.append("</section>")
    return "\n".join(parts)


def _bridge_section(run: Run, pngs: dict[str, bytes]) -> str:
    bridge = bridge_frame(run)
    if bridge.empty:
        return ""
    table = html_table(
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
    return (
        '<section id="bridge"><h2>Value bridge: status quo to plan</h2>'
        + img(pngs.get("bridge"), "Value bridge by objective term")
        + table
        + "".join(
            f"<p>{esc(t)}</p>"
            for t in value_split_sentences(run.summary) + without_rent_sentences(run.summary)
        )
        + "</section>"
    )


METHOD = (
    "realloc plans every month of the horizon at once with a linear program (solved by "
    "HiGHS): how many MW of each fleet group mine, how many IT MW each site starts converting "
    "and when, which hosting contracts to take and with how many MW from which sites, which "
    "rigs to sell, and how many BTC to sell. Every site stays within its grid power (halls "
    "under construction or built reserve their power whether or not a tenant is live), cash "
    "stays above its floor and BTC above its minimum at every month end. Value is the "
    "discounted operating cash flow, with mining revenue at each month's BTC price, plus "
    "contracted hosting after the horizon and the resale value of rigs still owned; BTC sales "
    "are financing, so only their cost counts, and among plans of equal value the fewest BTC "
    "are sold, as late as possible. The status quo is the same model with no new builds, "
    "contracts or rig sales. When the plan cannot be funded, an elastic funding gap shows how "
    "much outside cash it would need and when. The payback month compares the two plans' "
    "cumulative cash (undiscounted, end-of-horizon values left out). Every solved plan is "
    "checked against every rule by independent code (the verification table)."
)


METHOD_STOCHASTIC = (
    "This plan was made over several market paths at once (a two-stage stochastic program): "
    "conversions, contracts and rig sales are chosen once for every path, while mining, BTC "
    "sales and cash follow each path, and funding must hold on every path. The objective is "
    "(1 − λ) × expected value + λ × CVaR, CVaR in its Rockafellar–Uryasev linear form. VSS "
    "compares this plan with the plan made for the mean path and then run on every path; "
    "EVPI compares it with planning each path with perfect foresight."
)


def _method_section(run: Run) -> str:
    stochastic = f'<p class="method">{esc(METHOD_STOCHASTIC)}</p>' if run.stochastic else ""
    return (
        '<section id="method"><h2>Appendix B: method and provenance</h2>'
        f'<p class="method">{esc(METHOD)}</p>{stochastic}'
        f"{kv_table(provenance(run))}</section>"
    )


def _checks_section(run: Run) -> str:
    s = run.summary
    parts = ['<section id="checks"><h2>Appendix C: checks, model size, files</h2>']
    parts.append('<div class="keep"><h3>Verification</h3>')
    parts.append(
        html_table(
            verification_frame(run),
            fmt={
                "max_violation": lambda v: f"{v:.3g}",
                "tolerance": lambda v: f"{v:.3g}",
                "ok": lambda v: "ok" if v else "FAILED",
            },
        )
    )
    parts.append("</div>")
    secs = s.get("seconds") or {}
    size = s.get("model_size") or {}
    if secs or size:
        parts.append('<div class="keep"><h3>Model size and timings</h3>')
        parts.append(
            kv_table(
                [
                    *((k.replace("_", " "), f"{v:,}") for k, v in size.items()),
                    *((f"seconds: {k.replace('_', ' ')}", f"{v:.3f}") for k, v in secs.items()),
                ],
                cls="kv compact",
            )
        )
        parts.append("</div>")
    parts.append('<div class="keep"><h3>Files read</h3>')
    parts.append(html_table(source_files(run)))
    parts.append("</div></section>")
    return "\n".join(parts)


def evaluation_section(ev, png) -> str:
    from realloc.reports.board.evaluation_section import evaluation_section as section

    return section(ev, png)


def render_html(run: Run, pngs: dict[str, bytes] | None = None, paper: str | None = None) -> str:
    """The board report as one self-contained HTML page (inline CSS and images, no scripts).

    ``paper`` (a CSS page size such as ``A4`` or ``letter``) fixes the printed page size, for
    the PDF; without it the reader's printer settings decide (the layout fits both).
    """
    pngs = charts(run) | funding_charts(run) if pngs is None else pngs
    sections = [
        _summary_section(run, pngs),
        _decisions_section(run),
        _capacity_section(run, pngs),
        _conversions_section(run, pngs),
        _treasury_section(run, pngs),
        funding_section(run, pngs),
        _bridge_section(run, pngs),
        risk_section(run, pngs),
        evaluation_section(run.evaluation, run.evaluation_png),
        *inputs_sections(run),
        _method_section(run),
        _checks_section(run),
    ]
    head = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(run.name)}: reallocation plan</title>\n"
        f"<style>{CSS}\n@media print {{ {_page_css(run, paper)} }}</style></head><body>"
    )
    return "\n".join([head, *(s for s in sections if s), "</body></html>"])
