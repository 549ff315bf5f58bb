"""Every input assumption of a plan as tables: the appendix of the board report and the
workbook's ``inputs`` sheet, both built from the run folder's ``inputs.json`` (the validated
portfolio, defaults filled in, CSV series resolved).

The tables take their columns from the file, not from a fixed list, so a field added to the
models later shows up without a change here; :data:`LABELS` only gives known fields a header
in words. Monthly series are summarized on the page (first, last, lowest, highest) and listed
month by month in the workbook.
"""

from __future__ import annotations

import math

import pandas as pd

from realloc.reports.board.data import Run
from realloc.reports.board.markup import esc, html_table, kv_table

LABELS = {
    # portfolio
    "name": "Name",
    "start_month": "First month",
    "months": "Months planned",
    "discount_rate_per_year": "Discount rate per year",
    "pool_fee_share": "Pool fee (share of mining revenue)",
    "terminal_value": "Count contracted rent after the horizon",
    # sites
    "grid_mw": "Grid, MW",
    "power_price_usd_per_mwh": "Power price, $/MWh",
    "mining_pue": "Mining PUE",
    "availability_share": "Availability",
    "mining_opex_usd_per_mw_month": "Mining opex, $/MW-month",
    # fleet groups
    "site": "Site",
    "power_mw": "Power, MW",
    "efficiency_j_per_th": "Efficiency, J/TH",
    "resale_usd_per_th": "Resale, $/TH",
    "resale_decay_per_year": "Resale value lost per year",
    # conversions
    "max_it_mw": "Max IT, MW",
    "existing_it_mw": "Existing IT, MW",
    "capex_usd_per_it_mw": "Capex, $/IT MW",
    "lead_months": "Lead time, months",
    "ai_pue": "AI PUE",
    "ai_opex_usd_per_kw_month": "AI opex, $/kW-month",
    # contracts
    "rate_usd_per_kw_month": "Rate, $/kW-month",
    "escalator_per_year": "Escalator per year",
    "term_months": "Term, months",
    "min_it_mw": "Min IT, MW",
    "eligible_sites": "Eligible sites",
    "power_pass_through": "Tenant pays power",
    "tenant_capex_share": "Tenant capex share",
    "signed_it_mw": "Signed, MW by site",
    "kind": "Kind",
    "usd_per_gpu_hour": "GPU-hour price, $",
    "gpus_per_it_mw": "GPUs per IT MW",
    "utilization_share": "GPU utilisation",
    "gpu_capex_usd_per_it_mw": "GPU capex, $/IT MW",
    "gpu_residual_share": "GPU residual",
    # sites: flexibility
    "curtailment_credit_usd_per_mw_month": "Curtailment credit, $/MW-month",
    "curtailment_enrolled_share": "Enrolled in credits",
    "firm_load_charge_usd_per_kw_month": "Firm-load charge, $/kW-month",
    # market
    "btc_price_usd": "BTC price, $",
    "hashprice_usd_per_ph_day": "Hashprice, $/PH/s/day",
    # treasury
    "btc": "BTC at start",
    "cash_usd": "Cash at start, $",
    "min_cash_usd": "Cash floor, $",
    "min_btc": "BTC floor",
    "max_btc_sold_per_month": "Most BTC sold per month",
    "sale_cost_bps": "Sale cost, basis points",
}

OPTIONAL_DEFAULTS = {
    "kind": "colocation",
    "usd_per_gpu_hour": None,
    "gpus_per_it_mw": None,
    "utilization_share": None,
    "gpu_capex_usd_per_it_mw": None,
    "gpu_residual_share": None,
    "ai_opex_usd_per_kw_month": None,  # a contract's own (conversions always state theirs)
    "curtailment_credit_usd_per_mw_month": 0.0,
    "curtailment_enrolled_share": 1.0,
    "firm_load_charge_usd_per_kw_month": 0.0,
}
"""Optional inputs (issue 15's site economics) left out of a table when every row has the
default: a portfolio without them reads as before."""

NESTED = ("sites", "contracts", "market", "treasury")
"""Portfolio fields shown in tables of their own rather than in the general table."""


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_series(v: object) -> bool:
    return isinstance(v, list) and bool(v) and all(_is_number(x) for x in v)


def number(v: float, field: str = "") -> str:
    """An input number as written, with thousands separators; shares and yearly rates as %."""
    if field.endswith(("_share", "_per_year")):
        return f"{v * 100:,.4g}%"
    if float(v).is_integer():
        return f"{v:,.0f}"
    if abs(v) >= 1e5:
        return f"{v:,.2f}"
    return f"{v:,.6g}"


def series_summary(values: list[float], field: str = "") -> str:
    """A monthly series in one cell: first → last (lowest–highest)."""
    if len(set(values)) == 1:
        return f"{number(values[0], field)} every month"
    lo, hi = min(values), max(values)
    return (
        f"{number(values[0], field)} → {number(values[-1], field)} "
        f"({number(lo, field)}–{number(hi, field)}), {len(values)} months"
    )


def text(v: object, field: str = "") -> str:
    """Any input value as page text."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if _is_number(v):
        return number(v, field)
    if _is_series(v):
        return series_summary(v, field)
    if isinstance(v, list):
        return ", ".join(text(x) for x in v)
    if isinstance(v, dict):
        if field == "signed_it_mw":
            return "; ".join(f"{k}: {text(x)} MW" for k, x in v.items())
        return "; ".join(f"{k}: {text(x, k)}" for k, x in v.items())
    return str(v)


def record_table(records: list[dict], skip: tuple[str, ...] = ()) -> tuple[pd.DataFrame, dict]:
    """Records as a table: one column per field (first-seen order), numbers kept numeric
    (right-aligned, formatted by :func:`number`), anything else as text. Returns the frame and
    its formatters, for :func:`~reports.board.markup.html_table`."""
    fields: list[str] = []
    for r in records:
        fields += [k for k in r if k not in skip and k not in fields]
    fields = [
        f
        for f in fields
        if f not in OPTIONAL_DEFAULTS or any(r.get(f) != OPTIONAL_DEFAULTS[f] for r in records)
    ]
    columns: dict[str, list] = {}
    fmt: dict[str, object] = {}
    for f in fields:
        values = [r.get(f) for r in records]
        if all(_is_number(v) for v in values):
            columns[f] = values
            fmt[f] = lambda v, f=f: number(v, f)
        else:
            columns[f] = [text(v, f) for v in values]
    return pd.DataFrame(columns, columns=fields), fmt


def _table(records: list[dict], skip: tuple[str, ...] = ()) -> str:
    frame, fmt = record_table(records, skip)
    return html_table(frame, LABELS, fmt, cls="compact")


def _rows(obj: dict, skip: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    return [(LABELS.get(k, k), text(v, k)) for k, v in obj.items() if k not in skip]


def market_frame(market: dict) -> pd.DataFrame:
    """One row per market series: first, last, lowest, highest and mean month."""
    rows = []
    for field, v in market.items():
        values = v if _is_series(v) else [v] if _is_number(v) else None
        if values is None:
            rows.append({"series": LABELS.get(field, field), "months": text(v, field)})
            continue
        rows.append(
            {
                "series": LABELS.get(field, field),
                "months": "every month" if not isinstance(v, list) else str(len(values)),
                "first": number(values[0], field),
                "last": number(values[-1], field),
                "lowest": number(min(values), field),
                "highest": number(max(values), field),
                "mean": number(round(math.fsum(values) / len(values), 2), field),
            }
        )
    return pd.DataFrame(rows).fillna("")


def inputs_sections(run: Run) -> list[str]:
    """Appendix A: every input assumption as tables, in two sections (each a printed page for
    a portfolio the size of the bundled example): the portfolio, treasury, market and
    contracts; then sites, fleet groups and conversions. Run folders written before
    inputs.json existed get a pointer to the inputs' hash instead."""
    inputs = run.inputs
    if not isinstance(inputs, dict):
        return [
            '<section id="inputs"><h2>Appendix A: input assumptions</h2>\n'
            "<p>This run folder has no inputs.json (it was written by an older realloc): run "
            "the plan again to list every input here. The inputs' SHA-256 is "
            f"<code>{esc(run.summary.get('inputs_sha256', 'n/a'))}</code>.</p></section>"
        ]
    return [_portfolio_section(run, inputs), _sites_section(inputs)]


def _portfolio_section(run: Run, inputs: dict) -> str:
    """The appendix's first page: the portfolio-wide inputs (discounting, treasury, market,
    contracts), with a note when the plan was made over market paths rather than this
    market alone."""
    parts = ['<section id="inputs"><h2>Appendix A: input assumptions</h2>']
    parts.append(
        "<p>Every input the plan used, from the run folder's inputs.json (the validated "
        "portfolio, defaults filled in). Monthly series show their first and last month and "
        "their range; the workbook's inputs sheet lists every month.</p>"
    )
    if run.stochastic:
        parts.append(
            f'<p class="note">The plan was optimized over {esc(run.stochastic.get("scenarios"))} '
            "market paths, not only the market below (the portfolio's own); each path's BTC "
            "price is in the workbook's treasury sheet.</p>"
        )
    treasury = inputs.get("treasury")
    parts.append('<div class="pair keep"><div><h3>Portfolio and discounting</h3>')
    parts.append(kv_table(_rows(inputs, skip=NESTED), cls="kv compact"))
    parts.append("</div>")
    if isinstance(treasury, dict):
        parts.append("<div><h3>Treasury</h3>")
        parts.append(kv_table(_rows(treasury), cls="kv compact"))
        parts.append("</div>")
    parts.append("</div>")
    market = inputs.get("market")
    if isinstance(market, dict):
        parts.append('<div class="keep"><h3>Market</h3>')
        parts.append(html_table(market_frame(market), cls="compact"))
        parts.append("</div>")
    contracts = [c for c in inputs.get("contracts") or [] if isinstance(c, dict)]
    parts.append('<div class="keep"><h3>Hosting contracts</h3>')
    parts.append(_table(contracts) if contracts else "<p>None offered or signed.</p>")
    parts.append("</div></section>")
    return "\n".join(parts)


def _sites_section(inputs: dict) -> str:
    """The appendix's second page: the per-site inputs (sites, their fleet groups, and which
    sites can convert to AI hosting on what terms)."""
    parts = [
        '<section id="inputs-sites"><h2>Appendix A, continued: sites, fleets and conversions</h2>'
    ]
    sites = [s for s in inputs.get("sites") or [] if isinstance(s, dict)]
    if sites:
        parts.append('<div class="keep"><h3>Sites</h3>')
        parts.append(_table(sites, skip=("fleets", "conversion")))
        parts.append("</div>")
        fleets = [{"site": s.get("name"), **g} for s in sites for g in s.get("fleets") or [] if g]
        if fleets:
            parts.append('<div class="keep"><h3>Fleet groups</h3>')
            parts.append(_table(fleets))
            parts.append("</div>")
        convertible = [
            {"site": s.get("name"), **s["conversion"]} for s in sites if s.get("conversion")
        ]
        parts.append('<div class="keep"><h3>Conversion to AI hosting</h3>')
        if convertible:
            parts.append(_table(convertible))
        fixed = [str(s.get("name")) for s in sites if not s.get("conversion")]
        if fixed:
            parts.append(f"<p>Cannot convert: {esc(', '.join(fixed))}.</p>")
        parts.append("</div>")
    parts.append("</section>")
    return "\n".join(parts)


# --------------------------------------------------------------------------- workbook

LONG_COLUMNS = ["section", "name", "field", "month", "value"]
SERIES_FIELDS = ("power_price_usd_per_mwh", "btc_price_usd", "hashprice_usd_per_ph_day")
"""Fields that are monthly series; one number for all months gets ``month`` = ``all``."""


def _months(start: str, n: int) -> list[str]:
    return [str(p) for p in pd.period_range(start=start, periods=n, freq="M")]


def inputs_long_frame(inputs: dict | None) -> pd.DataFrame:
    """Every input as one row (section, name, field, month, value): the workbook's inputs sheet.
    Numbers stay numbers; a monthly series has a row per month, a constant one ``month`` all."""
    if not isinstance(inputs, dict):
        return pd.DataFrame(columns=LONG_COLUMNS)
    start = str(inputs.get("start_month", ""))
    rows: list[tuple] = []

    def add(section: str, name: str, obj: dict, skip: tuple[str, ...] = ()) -> None:
        for field, v in obj.items():
            if field in skip or field == "name":  # the name is the row's name column
                continue
            if _is_series(v):
                months = _months(start, len(v)) if start else [str(i + 1) for i in range(len(v))]
                rows.extend((section, name, field, m, x) for m, x in zip(months, v, strict=True))
            elif isinstance(v, dict):
                for k, x in v.items():
                    rows.append(
                        (section, name, f"{field}[{k}]", "", x if _is_number(x) else text(x))
                    )
            elif isinstance(v, list):
                rows.extend((section, name, field, "", text(x)) for x in v)
            elif _is_number(v) and field in SERIES_FIELDS:
                rows.append((section, name, field, "all", v))
            else:
                rows.append((section, name, field, "", text(v) if not _is_number(v) else v))

    name = str(inputs.get("name", ""))
    add("portfolio", name, inputs, skip=NESTED)
    for s in inputs.get("sites") or []:
        add("site", str(s.get("name")), s, skip=("fleets", "conversion"))
        for g in s.get("fleets") or []:
            add("fleet group", str(g.get("name")), {"site": s.get("name"), **g})
        if s.get("conversion"):
            add("conversion", str(s.get("name")), s["conversion"])
    for c in inputs.get("contracts") or []:
        add("contract", str(c.get("name")), c)
    if isinstance(inputs.get("market"), dict):
        add("market", "market", inputs["market"])
    if isinstance(inputs.get("treasury"), dict):
        add("treasury", "treasury", inputs["treasury"])
    return pd.DataFrame(rows, columns=LONG_COLUMNS)
