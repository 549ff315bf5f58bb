"""Funding the plan (issue 14), reporting side: sources by quarter, the debt schedule, the HODL
sentence, why each source was (not) used, the LTV headroom and P5–P95, the funding-gap
diagnosis's cheapest source; summary.md and the board report's "Funding the plan" section.

Everything is checked on small hand-built funding tables (the columns of funding.csv) whose
figures are worked out in the comments; a plan without financing must render exactly as
before (no section, no chart, no sheet, the same bytes).
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import openpyxl
import pandas as pd
import pytest

from realloc.optimizer import plan_portfolio
from realloc.optimizer.diagnose import funding_gap_text
from realloc.optimizer.funding import FUNDING_COLUMNS
from realloc.optimizer.funding_options import (
    GapMonths,
    capex_spent_usd,
    closing_text,
    funding_options,
)
from realloc.reports import funding_report as fr
from realloc.reports.board import build_report, load_run
from realloc.reports.board import html as board_html
from realloc.reports.board import xlsx as board_xlsx
from realloc.reports.board.charts import charts
from realloc.reports.board.funding_charts import funding_charts
from realloc.reports.board.funding_section import FUNDING_SHEETS, funding_section
from realloc.reports.plan_files import write_plan
from realloc.reports.summary_md import summary_markdown
from tests.helpers import tiny

M = 1e6
MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
COLUMNS = FUNDING_COLUMNS  # the table funding.csv is written from (optimizer/funding.py)


def rows(source: str, kind: str, scenario: str = "base", **musd_by_month) -> list[dict]:
    """One row per month of MONTHS for ``source``; each keyword a list of six $M figures (or,
    for pledged_btc / ltv_share, BTC and shares; None for "no LTV")."""
    out = []
    for i, month in enumerate(MONTHS):
        row = dict.fromkeys(COLUMNS, 0.0) | {
            "month": month,
            "scenario": scenario,
            "source": source,
            "kind": kind,
            "ltv_share": np.nan,
        }
        for col, values in musd_by_month.items():
            v = values[i]
            scale = 1.0 if col in ("pledged_btc", "ltv_share") else M
            row[col] = np.nan if v is None else float(v) * scale
        out.append(row)
    return out


def hand_funding(scenario: str = "base", draw: float = 200.0) -> pd.DataFrame:
    """BTC sold from the stack in January and April; the Galaxy facility (12 %/yr = 1 % a
    month, 1 % fee) draws ``draw`` in February and repays a quarter of it in May and the rest
    in June; equity issues $30M in March.

    Galaxy interest = 1 % of the previous month end's balance: Feb 0, Mar 1 % × 200 = 2,
    Apr 2, May 2, Jun 1 % × 150 = 1.5 (for draw = 200); fee 1 % × 200 = 2 in February."""
    d = draw
    galaxy = dict(
        drawn_usd=[0, d, 0, 0, 0, 0],
        repaid_usd=[0, 0, 0, 0, d / 4, 3 * d / 4],
        balance_usd=[0, d, d, d, 3 * d / 4, 0],
        interest_usd=[0, 0, d / 100, d / 100, d / 100, 0.75 * d / 100],
        fees_usd=[0, d / 100, 0, 0, 0, 0],
        pledged_btc=[0, 5000, 5000, 5000, 5000, 0],
        ltv_share=[None, d / 500, d / 500, d / 500, 0.75 * d / 500, None],
    )
    data = [
        *rows("BTC sold from the stack", "btc_sale", scenario, drawn_usd=[100, 0, 0, 50, 0, 0]),
        *rows("Galaxy facility", "btc_loan", scenario, **galaxy),
        *rows("ATM equity", "equity", scenario, drawn_usd=[0, 0, 30, 0, 0, 0]),
    ]
    return pd.DataFrame(data, columns=COLUMNS)


def hand_summary() -> dict:
    return {
        "funding_sources_usd": {
            "BTC sold from the stack": 150 * M,
            "Galaxy facility": 200 * M,
            "ATM equity": 30 * M,
        },
        "financing_cost_usd": 9.4 * M,
        "hodl_cost_usd_per_btc_year": 4000.0,
        "ltv_headroom": [
            {
                "facility": "Galaxy facility",
                "month": "2026-02",
                "plan_btc_price_usd": 100_000.0,
                "breach_btc_price_usd": 80_000.0,
            }
        ],
        "funding_choices": [
            {
                "source": "Galaxy facility",
                "kind": "btc_loan",
                "used_usd": 200 * M,
                "all_in_cost_per_year": 0.13,
                "reason": "cheaper than selling BTC below the floor",
            },
            {
                "source": "2031 convertible",
                "kind": "note",
                "used_usd": 0.0,
                "all_in_cost_per_year": 0.17,
                "reason": "",
            },
        ],
    }


# --------------------------------------------------------------------------- figures


def test_sources_by_quarter_sums_the_months_of_each_quarter():
    by_q = fr.sources_by_quarter(hand_funding(), {})
    # Q1 (Jan–Mar): BTC 100 + Galaxy 200 + equity 30 = 330; Q2: BTC 50
    assert list(by_q["quarter"]) == ["2026-Q1", "2026-Q2"]
    assert list(by_q.columns) == [
        "quarter",
        "BTC sold from the stack",
        "Galaxy facility",
        "ATM equity",
        "total_usd",
    ]
    assert by_q.iloc[0, 1:].tolist() == pytest.approx([100 * M, 200 * M, 30 * M, 330 * M])
    assert by_q.iloc[1, 1:].tolist() == pytest.approx([50 * M, 0, 0, 50 * M])


def test_sources_named_like_the_table_columns_stay_apart():
    f = hand_funding().replace({"Galaxy facility": "quarter", "ATM equity": "total_usd"})
    by_q = fr.sources_by_quarter(f, {})
    assert by_q.columns.is_unique and by_q.loc[0, "total_usd"] == pytest.approx(330 * M)
    assert by_q.loc[0, "\u200bquarter"] == pytest.approx(200 * M)
    text = "\n".join(fr.funding_lines(f, {}, 0, {}))
    assert "| 2026-Q1 | $100.0M | $200.0M | $30.0M | $330.0M |" in text


def test_sources_by_quarter_weighs_the_paths_by_probability():
    # bust (25 %) draws 200, boom (75 %) draws 100: expected draw 0.25·200 + 0.75·100 = 125
    both = pd.concat([hand_funding("bust", 200.0), hand_funding("boom", 100.0)])
    by_q = fr.sources_by_quarter(both, {"bust": 0.25, "boom": 0.75})
    assert by_q.loc[0, "Galaxy facility"] == pytest.approx(125 * M)
    assert by_q.loc[0, "total_usd"] == pytest.approx((100 + 125 + 30) * M)
    # without probabilities (several scenarios, not a stochastic plan): the first path's rows
    assert fr.sources_by_quarter(both, {}).loc[0, "Galaxy facility"] == pytest.approx(200 * M)


def test_debt_schedule_balances_interest_and_fees_by_quarter():
    s = fr.debt_schedule(hand_funding(), {})
    assert list(s["source"]) == ["Galaxy facility"] * 2  # only debt; BTC sales and equity owe
    q1, q2 = s.iloc[0], s.iloc[1]
    # Q1: drew 200 in Feb, balance at the end of March 200, interest Mar 2, fee 1 % × 200 = 2
    assert (q1["quarter"], q1["drawn_usd"], q1["repaid_usd"]) == ("2026-Q1", 200 * M, 0.0)
    assert q1["balance_usd"] == pytest.approx(200 * M)
    assert (q1["interest_usd"], q1["fees_usd"]) == pytest.approx((2 * M, 2 * M))
    # Q2: repaid 50 + 150 = 200, balance 0 at the end of June, interest 2 + 2 + 1.5 = 5.5
    assert q2["repaid_usd"] == pytest.approx(200 * M)
    assert q2["balance_usd"] == 0.0
    assert q2["interest_usd"] == pytest.approx(5.5 * M)


def test_debt_schedule_leaves_out_quiet_quarters_and_has_none_without_debt():
    f = hand_funding()
    paid_off = f[~((f["source"] == "Galaxy facility") & (f["month"] >= "2026-04"))]
    assert list(fr.debt_schedule(paid_off, {})["quarter"]) == ["2026-Q1"]
    assert fr.debt_schedule(f[f["kind"] != "btc_loan"], {}).empty


def test_compact_schedule_joins_quiet_quarters_of_one_source():
    def q(source, quarter, balance, interest=0.0, drawn=0.0, repaid=0.0):
        return dict(
            source=source,
            kind="note",
            quarter=quarter,
            balance_usd=balance,
            drawn_usd=drawn,
            repaid_usd=repaid,
            interest_usd=interest,
            fees_usd=0.0,
        )

    schedule = pd.DataFrame(
        [
            q("N", "2026-Q1", 300.0, drawn=300.0),
            q("N", "2026-Q2", 300.0, interest=3.0),
            q("N", "2026-Q3", 300.0, interest=3.0),
            q("N", "2026-Q4", 300.0, interest=3.0),
            q("N", "2027-Q1", 0.0, interest=3.0, repaid=300.0),
            q("P", "2026-Q3", 50.0, drawn=50.0),
            q("P", "2026-Q4", 50.0),
        ]
    )
    out = fr.compact_schedule(schedule)
    # N: Q2–Q4 draw, repay and charge nothing at a flat $300 balance: one row, 3 × 3 interest
    assert list(out["quarter"]) == [
        "2026-Q1",
        "2026-Q2 to 2026-Q4",
        "2027-Q1",
        "2026-Q3",
        "2026-Q4",
    ]
    assert out.loc[1, "interest_usd"] == 9.0 and out.loc[1, "balance_usd"] == 300.0
    assert list(out.columns) == list(schedule.columns)


def test_hodl_sentence_numbers_and_when_the_floor_does_not_bind():
    # 500 BTC × $4,000 per BTC-year = $2.0M per year
    text = fr.hodl_sentence(500, 4000.0)
    assert text.startswith("Keeping 500 BTC costs $2.0M per year")
    assert "$4,000 of value a year" in text
    assert fr.hodl_sentence(500, -4000.0) == text  # as a shadow price ∂V/∂floor: the same
    for cost in (None, 0.0, float("nan")):
        assert "costs nothing at the margin" in fr.hodl_sentence(500, cost)
        assert "does not bind" in fr.hodl_sentence(500, cost)
    assert "There is no HODL floor" in fr.hodl_sentence(0, 4000.0)


def test_ltv_p5_p95_across_paths_is_the_weighted_lower_quantile():
    # one month, three paths: LTV 20 % (p 0.5), 40 % (p 0.3), no balance (p 0.2, counts as 0)
    f = pd.DataFrame(
        [
            *rows("F", "btc_loan", "a", ltv_share=[0.2] * 6, balance_usd=[1] * 6),
            *rows("F", "btc_loan", "b", ltv_share=[0.4] * 6, balance_usd=[1] * 6),
            *rows("F", "btc_loan", "c", ltv_share=[None] * 6),
        ]
    )
    fan = fr.ltv_fan(f, {"a": 0.5, "b": 0.3, "c": 0.2})
    # sorted 0 (cum 0.2), 0.2 (cum 0.7), 0.4 (cum 1.0): P5 = 0, P50 = 0.2, P95 = 0.4
    first = fan.iloc[0]
    assert (first["ltv_p5"], first["ltv_p50"], first["ltv_p95"]) == (0.0, 0.2, 0.4)
    line = fr.worst_ltv_sentence(fan, {"F": 0.5})
    assert line == (
        "Loan-to-value across the market paths is highest for F in 2026-01: "
        "P5 0.0% to P95 40.0% against its 50% limit."
    )
    assert fr.ltv_fan(hand_funding(), {}).empty  # one path: no band


def test_choice_sentences_explain_use_and_compare_with_the_cheapest_used():
    lines = fr.choice_sentences(hand_summary()["funding_choices"])
    assert lines == [
        "Galaxy facility (BTC-backed loan, all-in about 13.0%/yr): cheaper than selling BTC "
        "below the floor.",
        "2031 convertible (notes, all-in about 17.0%/yr): not used. Dearer than Galaxy "
        "facility, the cheapest source used (13.0%/yr).",
    ]
    galaxy, note = hand_summary()["funding_choices"]
    cheap = fr.choice_sentences([galaxy | {"reason": ""}, note | {"all_in_cost_per_year": 0.017}])
    assert cheap[0] == "Galaxy facility (BTC-backed loan, all-in about 13.0%/yr): used, $200.0M."
    assert "not used. Not dearer than Galaxy facility" in cheap[1]
    equity = {"source": "ATM equity", "kind": "equity", "used_usd": 5.0, "reason": "x"}
    assert fr.choice_sentences([equity]) == ["ATM equity (all-in about n/a): x."]


def test_headroom_sentences_give_the_breaking_price_and_the_fall():
    limits = {"Galaxy facility": 0.5}
    # $80,000 against the plan's $100,000: a fall of 1 − 80/100 = 20 %
    (line,) = fr.headroom_sentences(hand_summary()["ltv_headroom"], limits)
    assert line == (
        "Galaxy facility: BTC at $80,000 would breach its 50% loan-to-value limit in 2026-02, "
        "its tightest month, against the plan's $100,000 (a fall of 20%)."
    )
    at_line = [{**hand_summary()["ltv_headroom"][0], "breach_btc_price_usd": 100_000.0}]
    assert (
        "is at its 50% loan-to-value limit in 2026-02" in fr.headroom_sentences(at_line, limits)[0]
    )
    on_path = [{**hand_summary()["ltv_headroom"][0], "scenario": "bust"}]
    assert (
        "limit in 2026-02 on path bust, its tightest"
        in fr.headroom_sentences(on_path, limits, str, several_paths=True)[0]
    )
    none = [{**at_line[0], "breach_btc_price_usd": None}]
    assert "carries no balance" in fr.headroom_sentences(none)[0]


def test_ltv_limits_read_the_model_or_its_json():
    loan = SimpleNamespace(name="G", max_ltv_share=0.5)
    assert fr.ltv_limits(SimpleNamespace(btc_loans=[loan])) == {"G": 0.5}
    assert fr.ltv_limits({"btc_loans": [{"name": "G", "max_ltv_share": 0.4}]}) == {"G": 0.4}
    assert fr.ltv_limits(None) == {} and fr.ltv_limits({"btc_loans": None}) == {}


def test_funding_lines_section_in_markdown():
    text = "\n".join(fr.funding_lines(hand_funding(), hand_summary(), 500, {}, {"G": 0.5}))
    assert text.startswith("## Funding the plan")
    # 150 + 200 + 30 = 380 in all; Galaxy 200/380 = 53 %
    assert "The plan raises $380.0M in all: Galaxy facility $200.0M (53%)" in text
    assert "Keeping 500 BTC costs $2.0M per year" in text
    assert "| 2026-Q1 | $100.0M | $200.0M | $30.0M | $330.0M |" in text
    assert "| Galaxy facility | 2026-Q2 | $0 | $200.0M | $0 | $5.5M | $0 |" in text
    assert "Margin-call headroom" in text and "(a fall of 20%)" in text


def test_markdown_names_are_escaped():
    f = hand_funding().replace({"Galaxy facility": "<b>G|x</b>"})
    text = "\n".join(fr.funding_lines(f, {}, 0, {}))
    assert "<b>" not in text and "\\<b\\>G\\|x\\</b\\>" in text


# --------------------------------------------------------------------------- diagnosis


GAP = GapMonths(
    months=MONTHS,
    in_gap=np.array([2, 3]),  # March and April are short
    price=np.full(6, 100_000.0),
    held=np.full(6, 800.0),
)


def offered(**extra) -> SimpleNamespace:
    """A facility, a convertible, a construction loan and an ATM programme (issue 14's YAML)."""
    return SimpleNamespace(
        btc_loans=[
            SimpleNamespace(
                name="Galaxy facility",
                max_usd=150 * M,
                rate_per_year=0.08,
                fee_share=0.01,
                max_ltv_share=0.5,
                first_month="2026-01",
                maturity_month="2027-01",
            )
        ],
        notes=[
            SimpleNamespace(
                name="2031 convertible",
                max_usd=500 * M,
                min_usd=250 * M,
                first_month="2026-02",
                last_month="2026-12",
                coupon_per_year=0.0,
                fee_share=0.025,
                option_cost_share=0.06,
                term_months=60,
            )
        ],
        project_loans=[
            SimpleNamespace(
                name="Pecos construction loan",
                site="Pecos",
                max_loan_to_cost_share=0.85,
                rate_per_year=0.065,
                fee_share=0.01,
                grace_months=18,
                term_months=120,
                min_dscr=1.25,
            )
        ],
        equity=SimpleNamespace(
            max_usd_per_month=50 * M,
            max_usd_total=500 * M,
            fee_share=0.03,
            dilution_cost_share=0.2,
        ),
        **extra,
    )


CONVERSIONS = pd.DataFrame(
    [{"site": "Pecos", "start_month": "2026-01", "ready_month": "2026-11", "capex_usd": 100 * M}]
)


def test_capex_spent_is_spread_evenly_over_the_build_months():
    # $100M over the 10 months 2026-01 … 2026-10: 3/10 by March, all by October and after
    assert capex_spent_usd(CONVERSIONS, "Pecos", "2026-03") == pytest.approx(30 * M)
    assert capex_spent_usd(CONVERSIONS, "Pecos", "2027-05") == pytest.approx(100 * M)
    assert capex_spent_usd(CONVERSIONS, "Pecos", "2025-12") == 0.0
    assert capex_spent_usd(CONVERSIONS, "Elsewhere", "2026-03") == 0.0


def test_offered_sources_ranked_by_all_in_cost_with_their_room():
    options = funding_options(offered(), GAP, None, CONVERSIONS)
    by_name = {o.source: o for o in options}
    # all-in costs as summary.json's funding_choices defines them:
    # note: (2.5 % fee + 6 % option) over its 5-year term = 1.7 %/yr; room its $500M
    # project loan: 6.5 % + 1 % over a draw's average life, 18 + 121/2 = 78.5 months:
    #   6.5 % + 0.01 / (78.5/12) = 6.653 %; room 85 % × $30M spent by March = $25.5M
    # facility: 8 % + 1 % over the 12 months from 2026-01 to maturity 2027-01 = 9 %;
    #   room min($150M, 50 % × $100,000 × 800 BTC = $40M) = $40M, its LTV binds
    # equity: (3 % + 20 %) over the 6-month horizon = 0.23 / 0.5 = 46 %/yr
    assert [o.source for o in options] == [
        "2031 convertible",
        "Pecos construction loan",
        "Galaxy facility",
        "ATM equity",
    ]
    assert by_name["2031 convertible"].cost_per_year == pytest.approx(0.017)
    assert by_name["Pecos construction loan"].cost_per_year == pytest.approx(
        0.065 + 0.01 / (78.5 / 12)
    )
    assert by_name["Galaxy facility"].cost_per_year == pytest.approx(0.09)
    assert by_name["ATM equity"].cost_per_year == pytest.approx(0.46)
    assert by_name["Pecos construction loan"].room_usd == pytest.approx(25.5 * M)
    assert by_name["Galaxy facility"].room_usd == pytest.approx(40 * M)
    assert by_name["Galaxy facility"].limit == "at its loan-to-value limit"
    assert by_name["Galaxy facility"].cap_field is None  # more max_usd would not help
    assert by_name["ATM equity"].cap_field == "financing.equity.max_usd_per_month"
    assert {o.month for o in options} == {"2026-03"}  # the first gap month


def money(v: float) -> str:
    return f"${v:,.0f}"


def test_cheapest_source_with_room_closes_the_gap_at_its_minimum():
    options = funding_options(offered(), GAP, None, CONVERSIONS)
    # a $10M gap: the convertible is cheapest, but it is issued at no less than $250M
    assert closing_text(options, 10 * M, money) == [
        "Financing: raising $250,000,000 more from 2031 convertible (room $500,000,000 in "
        "2026-03) at about 1.7%/yr all-in would close it."
    ]


def test_what_the_plan_already_raised_leaves_less_room():
    # the convertible was issued (once, for $300M in February); the facility owes $20M and
    # another facility holds 200 of the 800 BTC as collateral
    raised = pd.DataFrame(
        [
            *rows("2031 convertible", "note", drawn_usd=[0, 300, 0, 0, 0, 0]),
            *rows("Galaxy facility", "btc_loan", balance_usd=[20] * 6, pledged_btc=[400] * 6),
            *rows("Other facility", "btc_loan", pledged_btc=[200] * 6),
        ]
    ).drop(columns="scenario")
    options = funding_options(offered(), GAP, raised, CONVERSIONS)
    by_name = {o.source: o for o in options}
    assert by_name["2031 convertible"].room_usd == 0.0
    # facility: min($150M − 20, 50 % × $100,000 × (800 − 200) BTC − 20 = $10M) = $10M
    assert by_name["Galaxy facility"].room_usd == pytest.approx(10 * M)
    # a $30M gap: the project loan's $25.5M nets 99 % (its 1 % fee is cash) = $25.245M; the
    # facility (1 % fee) then raises the other $4.755M / 0.99 = $4,803,030
    assert closing_text(options, 30 * M, money) == [
        "Financing: raising $25,500,000 more from Pecos construction loan (room $25,500,000 in "
        "2026-03) at about 6.7%/yr all-in, then $4,803,030 more from Galaxy facility (room "
        "$10,000,000 in 2026-03) at about 9.0%/yr all-in would close it."
    ]
    # a gap larger than every room: all but the rest
    text = closing_text(options, 600 * M, money)[0]
    # nets: project loan 0.99 × 25.5, facility 0.99 × 10, equity 0.97 × its $50M monthly cap
    rest = 600 * M - 0.99 * 25.5 * M - 0.99 * 10 * M - 0.97 * 50 * M  # $516,355,000
    # a larger monthly cap would not close it: the $500M programme leaves $450M after March's
    # $50M, less than the $532,324,742 (rest / 0.97) it would take, so no input is named
    assert text.endswith(
        f"would close all but {money(rest)} of it; the offered sources have no more room."
    )
    # a $100M gap: after $25.245M + $9.9M + $48.5M net, $16,355,000 is left; raising the
    # monthly cap by $16,355,000 / 0.97 = $16,860,825 fits in the programme's $450M
    text = closing_text(options, 100 * M, money)[0]
    assert text.endswith(
        "Raising financing.equity.max_usd_per_month by $16,860,825 would close it (about "
        "46.0%/yr all-in, the cheapest source held back by its size)."
    )


def test_solver_noise_at_a_limit_is_no_room():
    # the facility owes $1.98 less than its $150M and the equity raised $1.03 less than its
    # $50M cap: a few dollars short of a $M-scale limit is the solver's tolerance, not room
    # (below $0.50 + 1e-5 × the limit = $1,500.50 and $500.50)
    near = pd.DataFrame(
        [
            *rows("Galaxy facility", "btc_loan", balance_usd=[150 - 1.98e-6] * 6),
            *rows("ATM equity", "equity", drawn_usd=[0, 0, 50 - 1.03e-6, 0, 0, 0]),
        ]
    ).drop(columns="scenario")
    capped = SimpleNamespace(
        btc_loans=offered().btc_loans, notes=[], project_loans=[], equity=offered().equity
    )
    rich = GapMonths(MONTHS, GAP.in_gap, GAP.price, np.full(6, 1e4))
    options = {o.source: o for o in funding_options(capped, rich, near)}
    assert options["Galaxy facility"].room_usd == 0.0
    assert options["ATM equity"].room_usd == 0.0
    assert closing_text(list(options.values()), 1 * M, money)[0].startswith(
        "Financing: no offered source has room left"
    )


def test_sources_outside_their_window_or_without_room():
    late = offered()
    late.btc_loans[0].first_month = "2026-05"  # after the last gap month
    late.notes[0].first_month = late.notes[0].last_month = "2026-01"  # before the gap months:
    # issued then, its cash carries forward
    options = {o.source: o for o in funding_options(late, GAP, None, CONVERSIONS)}
    assert "Galaxy facility" not in options
    assert options["2031 convertible"].month == "2026-01"
    nothing = SimpleNamespace(btc_loans=[late.btc_loans[0]], notes=[], project_loans=[])
    assert closing_text(funding_options(nothing, GAP), 1 * M, money) == [
        "Financing: no offered source is available in or before the gap months."
    ]
    empty = np.zeros(6)
    broke = GapMonths(MONTHS, GAP.in_gap, GAP.price, empty)
    only_loan = SimpleNamespace(btc_loans=offered().btc_loans, notes=[], project_loans=[])
    assert closing_text(funding_options(only_loan, broke), 1 * M, money) == [
        "Financing: no offered source has room left: Galaxy facility (about 9.0%/yr all-in) "
        "is at its loan-to-value limit in 2026-03."
    ]
    # with room by size only: the facility is at its $150M, the equity at its monthly cap;
    # the facility is cheaper, and $2M net of its 1 % fee takes $2M / 0.99 = $2,020,202 more
    full = pd.DataFrame(
        [
            *rows("Galaxy facility", "btc_loan", balance_usd=[150] * 6),
            *rows("ATM equity", "equity", drawn_usd=[0, 0, 50, 0, 0, 0]),
        ]
    ).drop(columns="scenario")
    capped = SimpleNamespace(
        btc_loans=offered().btc_loans, notes=[], project_loans=[], equity=offered().equity
    )
    rich = GapMonths(MONTHS, GAP.in_gap, GAP.price, np.full(6, 1e4))  # plenty of collateral
    assert closing_text(funding_options(capped, rich, full), 2 * M, money) == [
        "Financing: no offered source has room left: Galaxy facility (about 9.0%/yr all-in) "
        "is at its size in 2026-03; ATM equity (about 46.0%/yr all-in) is at its monthly cap "
        "in 2026-03. Raising financing.btc_loans[Galaxy facility].max_usd by $2,020,202 would "
        "close it (about 9.0%/yr all-in, the cheapest source held back by its size)."
    ]


def as_offering(p, financing) -> SimpleNamespace:
    """The portfolio ``p`` with a financing section (duck-typed, as the model will carry it)."""
    fields = ("treasury", "sites", "contracts", "start_month", "months")
    return SimpleNamespace(**{f: getattr(p, f) for f in fields}, financing=financing)


def test_funding_gap_diagnosis_names_the_cheapest_source_with_room():
    overrides = dict(treasury__cash_usd=0, treasury__btc=0, treasury__min_cash_usd=5e6)
    p = tiny(**overrides)
    r = plan_portfolio(p)
    assert r.status == "unfunded"
    t = r.tables
    args = (t.funding_gap, t.treasury)
    # without financing: the same lines as the plan's diagnosis
    assert funding_gap_text(*args, p, t.cashflows, None, t.conversions) == r.diagnosis
    financing = SimpleNamespace(
        btc_loans=offered().btc_loans,
        notes=[],
        project_loans=[],
        equity=SimpleNamespace(
            max_usd_per_month=10 * M, max_usd_total=10 * M, fee_share=0.03, dilution_cost_share=0.2
        ),
    )
    lines = funding_gap_text(*args, as_offering(p, financing), t.cashflows, None, t.conversions)
    assert lines[:-1] == r.diagnosis
    # January's gap: floor $5M + power $2,976,000 − all 51.67 mined BTC × $70,000 = $4,359,333.
    # The stack is sold out (0 BTC held), so the facility has no collateral: equity, its
    # (3 % + 20 %) over the 12-month horizon = 23 %/yr, closes it: $4,359,333 / (1 − 3 % fee)
    # = $4,494,158 raised.
    raised = re.fullmatch(
        r"Financing: raising \$([\d,]+) more from ATM equity \(room \$10,000,000 in 2026-01\) "
        r"at about 23\.0%/yr all-in would close it\.",
        lines[-1],
    )
    assert raised, lines[-1]
    gap = 5e6 + 2_976_000 - 1000 / 30 * 35 * 31 * 100  # the flows are in cents: within $1
    assert float(raised.group(1).replace(",", "")) == pytest.approx(gap / 0.97, abs=2)


# --------------------------------------------------------------------------- summary.md


@pytest.fixture(scope="module")
def tiny_plan():
    return plan_portfolio(tiny())


def test_summary_md_without_financing_has_no_funding_section(tiny_plan, monkeypatch):
    def never(*_a, **_k):
        raise AssertionError("the funding section was rendered for a plan without financing")

    monkeypatch.setattr(fr, "funding_markdown", never)
    before = summary_markdown(tiny_plan, {"btc_sold_total": 0.0, "usd_raised_total": 0.0})
    tiny_plan.tables.funding = None  # as PlanTables carries it once financing exists
    try:
        after = summary_markdown(tiny_plan, {"btc_sold_total": 0.0, "usd_raised_total": 0.0})
    finally:
        del tiny_plan.tables.funding
    assert after == before and "Funding the plan" not in before


def test_summary_md_with_financing_shows_the_section_after_btc_sales(tiny_plan):
    tiny_plan.tables.funding = hand_funding()
    try:
        text = summary_markdown(tiny_plan, hand_summary())
    finally:
        del tiny_plan.tables.funding
    assert text.index("## BTC to sell") < text.index("## Funding the plan")
    assert text.index("## Funding the plan") < text.index("## What binds")
    # tiny() has no BTC floor
    assert "There is no HODL floor" in text
    assert "| Galaxy facility | 2026-Q1 | $200.0M | $0 | $200.0M | $2.0M | $2.0M |" in text


# --------------------------------------------------------------------------- board report


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, tiny_plan) -> Path:
    return write_plan(tiny_plan, tmp_path_factory.mktemp("funding") / "run")


def with_funding(run: Path, dest: Path, funding: pd.DataFrame, probabilities=None) -> Path:
    """A copy of the run folder with funding.csv, summary.json's financing keys and the
    facility's limit in inputs.json (and scenario_values.csv for a stochastic plan)."""
    shutil.copytree(run, dest)
    if probabilities is None:
        funding = funding.drop(columns="scenario")
    else:
        values = pd.DataFrame(
            {"scenario": list(probabilities), "probability": probabilities.values()}
        )
        values.to_csv(dest / "scenario_values.csv", index=False)
    funding.to_csv(dest / "funding.csv", index=False)
    summary = json.loads((dest / "summary.json").read_text()) | hand_summary()
    (dest / "summary.json").write_text(json.dumps(summary))
    inputs = json.loads((dest / "inputs.json").read_text())
    inputs["treasury"]["min_btc"] = 500
    inputs["financing"] = {"btc_loans": [{"name": "Galaxy facility", "max_ltv_share": 0.5}]}
    (dest / "inputs.json").write_text(json.dumps(inputs))
    return dest


def test_board_report_without_financing_is_unchanged(tiny_run, tmp_path, monkeypatch):
    """No funding.csv: no section, chart or sheet, and the same bytes as with every funding
    hook taken out (the report as it was before financing existed)."""
    run = load_run(tiny_run)
    assert funding_section(run, charts(run)) == "" and funding_charts(run) == {}
    assert all(frame(run).empty for frame in FUNDING_SHEETS.values())
    now = build_report(tiny_run, tmp_path / "now", ("html", "xlsx"))
    monkeypatch.setattr(board_html, "funding_section", lambda run, pngs: "")
    monkeypatch.setattr("realloc.reports.board.funding_charts.funding_charts", lambda run: {})
    old = tuple(s for s in board_xlsx.XLSX_SHEETS if s != "funding" and s not in FUNDING_SHEETS)
    monkeypatch.setattr(board_xlsx, "XLSX_SHEETS", old)
    before = build_report(tiny_run, tmp_path / "before", ("html", "xlsx"))
    for fmt in ("html", "xlsx"):
        assert now[fmt].read_bytes() == before[fmt].read_bytes()


def test_board_report_funding_section_chart_schedule_and_sheets(tiny_run, tmp_path):
    run_dir = with_funding(tiny_run, tmp_path / "run", hand_funding())
    out = build_report(run_dir, tmp_path / "report", ("html", "xlsx"))
    page = out["html"].read_text()
    ids = [p.split('"')[0] for p in page.split('<section id="')[1:]]
    assert ids.index("funding") == ids.index("treasury") + 1
    section = page[page.index('<section id="funding">') :].split("</section>")[0]
    assert "Keeping 500 BTC costs $2.0M per year" in section
    assert (
        'alt="Sources of cash by quarter"' in section and 'alt="Loan-to-value by month"' in section
    )
    assert "<td>Galaxy facility</td><td>2026-Q2</td>" in section.replace(' class=""', "")
    assert "(a fall of 20%)" in section and "<h3>Debt schedule</h3>" in section
    book = openpyxl.load_workbook(out["xlsx"])
    assert {"funding", "funding_by_quarter", "debt_schedule"} <= set(book.sheetnames)
    assert "ltv_paths" not in book.sheetnames  # one path: no P5–P95
    quarters = book["funding_by_quarter"]
    assert [c.value for c in quarters[1]][-1] == "total_usd"
    assert quarters["E2"].value == pytest.approx(330 * M)
    again = build_report(run_dir, tmp_path / "again", ("html", "xlsx"))
    assert again["html"].read_bytes() == out["html"].read_bytes()  # charts byte-deterministic
    assert again["xlsx"].read_bytes() == out["xlsx"].read_bytes()


def test_board_report_ltv_band_across_paths(tiny_run, tmp_path):
    # two paths: 0.25·200 + 0.75·100 = $125M expected Galaxy draw; LTV 40 % or 20 % in
    # February: P5 (cum 0.75 at 20 %) 20 %, P95 40 %
    both = pd.concat([hand_funding("bust", 200.0), hand_funding("boom", 100.0)])
    probabilities = {"bust": 0.25, "boom": 0.75}
    run_dir = with_funding(tiny_run, tmp_path / "run", both, probabilities)
    run = load_run(run_dir)
    section = funding_section(run, charts(run) | funding_charts(run))
    assert "<h3>Debt schedule, expected over the market paths</h3>" in section
    assert (
        "highest for Galaxy facility in 2026-02: P5 20.0% to P95 40.0% against its 50% limit"
        in section
    )
    book = openpyxl.load_workbook(build_report(run_dir, tmp_path / "r", ("xlsx",))["xlsx"])
    fan = pd.DataFrame(book["ltv_paths"].values)
    assert fan.iloc[0].tolist() == ["facility", "month", "ltv_p5", "ltv_p50", "ltv_p95"]
    quarters = book["funding_by_quarter"]
    assert quarters["C2"].value == pytest.approx(125 * M)
    assert not math.isnan(quarters["E2"].value)


def test_an_unused_source_at_zero_reduced_cost_is_said_in_words():
    """A reduced cost of -1e-9 $ per $ used to print as "$-0.0000 at the margin"."""
    import numpy as np

    from realloc.optimizer.funding_summary import _reason

    entry = {"used_usd": 0.0, "all_in_cost_per_year": 0.0925}
    text = _reason(entry, "btc_loan", [0, 1], np.array([1e-9, 0.0]), 0.0005)
    assert "neither add nor cost value" in text and "0.05% a year" in text
    # a real marginal cost still prints as a figure: each $ would cost 2 cents of value
    text = _reason(entry, "btc_loan", [0, 1], np.array([0.02, 0.03]), 0.0005)
    assert "$-0.0200 at the margin" in text
