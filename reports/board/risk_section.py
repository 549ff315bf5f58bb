"""The board report's "Risk across market paths" section, for stochastic plans: the value on
each path (P5/P50/P95, CVaR), what planning for risk is worth (VSS, EVPI) in plain words, the
notes, and the efficient frontier. Its numbers are summary.json's ``stochastic`` block and
scenario_values.csv / frontier.csv, as written by ``realloc plan --stochastic``."""

from __future__ import annotations

from realloc.reports.board.data import Run
from realloc.reports.board.figures import frontier_frame, paths_ahead
from realloc.reports.board.markup import esc, html_table, img, kv_table
from realloc.reports.summary_md import money


def musd(v: float | None) -> str:
    """Millions of USD with one decimal, for tables whose rows differ by less than money()'s
    three figures show (frontier points a few $M apart on a $1.5B plan)."""
    if v is None or v != v:
        return "n/a"
    return f"{'-' if v < 0 else ''}${abs(v) / 1e6:,.1f}M"


def _objective_words(block: dict) -> str:
    weight = float(block.get("risk_weight") or 0.0)
    if weight <= 0:
        return "It maximizes expected value."
    alpha = float(block.get("cvar_alpha", 0.95))
    return (
        f"It weighs expected value against the downside: it maximizes (1 − λ) × expected value "
        f"+ λ × CVaR {alpha:.0%}, with λ = {weight:g}."
    )


def distribution_rows(run: Run, block: dict) -> list[tuple[str, str]]:
    """Key figures of the value distribution, labelled in words."""
    alpha = float(block.get("cvar_alpha", 0.95))
    rows = [
        ("Expected value (probability-weighted)", money(block.get("expected_value_usd"))),
        (
            f"CVaR {alpha:.0%}: mean value of the worst {1 - alpha:.0%} of paths",
            money(block.get("cvar_usd")),
        ),
        (
            "P5 / P50 / P95",
            " / ".join(money(block.get(k)) for k in ("p5_value_usd", "p50_value_usd"))
            + f" / {money(block.get('p95_value_usd'))}",
        ),
        (
            "Worst / best path",
            f"{money(block.get('worst_value_usd'))} / {money(block.get('best_value_usd'))}",
        ),
    ]
    if run.summary.get("baseline_value_usd") is not None:
        rows.append(("Status quo, expected value", money(run.summary["baseline_value_usd"])))
    ahead = paths_ahead(run)
    if ahead is not None:
        rows.append(("Paths on which the plan beats the status quo", f"{ahead[0]} of {ahead[1]}"))
    return rows


def planning_value_sentences(run: Run, block: dict) -> list[str]:
    """VSS and EVPI in plain words (empty when the run did not compute them)."""
    out: list[str] = []
    if not {"vss_usd", "evpi_usd", "vss_lower_bound_usd"} & set(block):
        return out
    vss = block.get("vss_usd")
    expected = abs(float(block.get("expected_value_usd") or 0.0))
    if vss is not None:
        same = abs(float(vss)) <= 1e-6 * max(expected, 1.0)
        out.append(
            f"Planning over all the paths at once is worth {money(vss)} more in expected value "
            "than planning for the average path and adapting afterwards (the value of the "
            "stochastic solution, VSS)"
            + ("; here planning for the average path would have done as well." if same else ".")
        )
    else:
        lower, outside = block.get("vss_lower_bound_usd"), block.get("eev_outside_money_usd")
        text = (
            "A plan made for the average path cannot be carried out on every path: it runs out "
            "of cash on some (see the notes), so planning for the average is not safe and the "
            "value of the stochastic solution (VSS) has no finite figure."
        )
        if lower is not None and outside is not None:
            if float(lower) >= 0:
                text += (
                    f" Even with that cash supplied from outside at face value it would be worth "
                    f"{money(outside)}, {money(lower)} less than this plan."
                )
            else:
                text += (
                    f" With that cash supplied from outside at face value it would be worth "
                    f"{money(outside)}, {money(-float(lower))} more than this plan, but only "
                    "with outside money"
                    + (" this plan does not need." if run.status == "optimal" else ".")
                )
        out.append(text)
    evpi = block.get("evpi_usd")
    out.append(
        f"Knowing in advance which path the market will take would be worth at most "
        f"{money(evpi)} (the expected value of perfect information, EVPI): the most a better "
        "forecast could add to this plan."
        if evpi is not None
        else "The expected value of perfect information (EVPI) is not available (see the notes)."
    )
    return out


def _benchmarks(block: dict) -> list[tuple[str, str]]:
    rows = []
    if block.get("vss_usd") is not None:
        rows.append(("Value of the stochastic solution (VSS)", money(block["vss_usd"])))
    elif "vss_usd" in block:
        rows.append(("Value of the stochastic solution (VSS)", "no finite value (see notes)"))
    if block.get("evpi_usd") is not None:
        rows.append(("Expected value of perfect information (EVPI)", money(block["evpi_usd"])))
    for key, label in (
        ("rp_usd", "This plan, expected value (RP)"),
        ("eev_usd", "Average-path plan run on every path (EEV)"),
        ("eev_outside_money_usd", "Average-path plan with outside cash at face value"),
        ("ws_usd", "Perfect foresight on each path (WS)"),
    ):
        if block.get(key) is not None:
            rows.append((label, money(block[key])))
    return rows


FRONTIER_HEADERS = {
    "risk_weight": "λ (weight on downside)",
    "status": "status",
    "expected_value_usd": "expected value",
    "cvar_usd": "CVaR",
    "p5_value_usd": "P5",
    "worst_value_usd": "worst path",
    "it_mw_converted": "IT MW converted",
}


def risk_section(run: Run, pngs: dict[str, bytes]) -> str:
    """The section's HTML ('' for a plan made for one market)."""
    block = run.stochastic
    if not block:
        return ""
    parts = ['<section id="risk"><h2>Risk across market paths</h2>']
    parts.extend(_risk_intro(run, block, pngs))
    parts.extend(_value_tables(run, block))
    parts.extend(_frontier_block(run, pngs))
    parts.append("</section>")
    return "\n".join(parts)


def _risk_intro(run: Run, block: dict, pngs: dict[str, bytes]) -> list[str]:
    """What the paths are and what CVaR means, then the value-range chart: the reader needs
    the words before the figures that use them."""
    alpha = float(block.get("cvar_alpha", 0.95))
    n = block.get("scenarios", len(run.probabilities))
    return [
        f"<p>This plan was optimized over {esc(n)} market paths for BTC price and hashprice, "
        "each with its probability. Conversions, contracts and rig sales are decided once for "
        "all of them; mining, BTC sales and cash follow each path. "
        f"{esc(_objective_words(block))} Values elsewhere in this report are expected values "
        f"over the paths. CVaR {alpha:.0%} is the mean value of the worst {1 - alpha:.0%} of "
        "paths: what the plan is worth when the market goes badly.</p>",
        img(
            pngs.get("value_range"),
            "Plan and status-quo value on each market path",
            "Dots: paths (larger = more likely). Band: P5 to P95. Tick: median. Diamond: "
            f"expected value. Red: the plan's CVaR {alpha:.0%}.",
        ),
    ]


def _value_tables(run: Run, block: dict) -> list[str]:
    """The value distribution and the planning benchmarks side by side, then the sentences
    and solver notes that read them: one block so the pair stays on one page."""
    words = planning_value_sentences(run, block)
    bench = _benchmarks(block)
    parts = ['<div class="pair keep">']
    parts.append(
        "<div><h3>Value across paths</h3>"
        + kv_table(distribution_rows(run, block), cls="kv compact")
        + "</div>"
    )
    if bench:
        parts.append(
            "<div><h3>What planning for risk is worth</h3>"
            + kv_table(bench, cls="kv compact")
            + "</div>"
        )
    parts.append("</div>")
    if words:
        parts.append("<ul>" + "".join(f"<li>{esc(w)}</li>" for w in words) + "</ul>")
    for note in block.get("notes") or []:
        parts.append(f'<p class="note">Note: {esc(note)}</p>')
    return parts


FRONTIER_FORMATS = {
    "risk_weight": lambda v: f"{v:g}",
    "expected_value_usd": musd,
    "cvar_usd": musd,
    "p5_value_usd": musd,
    "worst_value_usd": musd,
    "it_mw_converted": lambda v: f"{v:,.1f}",
}


def _frontier_block(run: Run, pngs: dict[str, bytes]) -> list[str]:
    """The efficient frontier (chart and table), or nothing when the plan was solved at one
    risk weight only: it is optional, so it lives apart from the section's fixed parts."""
    frontier = frontier_frame(run)
    if frontier.empty:
        return []
    cols = [c for c in FRONTIER_HEADERS if c in frontier.columns]
    return [
        '<div class="keep"><h3>Efficient frontier</h3>',
        "<p>The plan re-solved with more and more weight λ on the downside: λ = 0 maximizes "
        "expected value, λ = 1 the CVaR. Moving along the frontier gives up expected value "
        "for a better bad case; the ringed point is this plan.</p>",
        img(pngs.get("frontier"), "Efficient frontier: expected value against CVaR"),
        html_table(frontier[cols], FRONTIER_HEADERS, FRONTIER_FORMATS),
        "</div>",
    ]
