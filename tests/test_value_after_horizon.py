"""Value said plainly (issue 15): the split of value and uplift into inside the horizon, rent
after it and fleet salvage; the plan's decisions if the rent after the horizon were ignored.

Portfolio: tests/helpers.py ``tiny`` — one 100 MW site, 100 MW of 30 J/TH rigs, margin
$206.67 per MW-day = $75,433.33 per MW-year (365 days), no discounting, 12 months; one 50 MW
conversion option at $1M per IT MW, lead 0, AI PUE 1.
"""

from __future__ import annotations

import json

import pytest

from benchmarks.scales import random_portfolio
from realloc import api
from realloc.optimizer import plan_portfolio
from realloc.optimizer.statistics import AFTER_HORIZON_TERMS, value_split, value_split_fields
from realloc.optimizer.without_rent import RENT_TERMS, without_rent_after_horizon
from realloc.reports.plan_files import summary_dict
from realloc.reports.summary_md import summary_markdown
from realloc.reports.value_split import value_split_sentences, without_rent_sentences
from tests.helpers import MARGIN_USD_PER_MW_YEAR, tiny

NEW_KEYS = {
    "value_split_usd",
    "baseline_value_split_usd",
    "uplift_split_usd",
    "decisions_without_rent_after_horizon",
}


def test_split_by_hand():
    # A 24-month contract at $150/kW-month from month 0 of a 12-month horizon, terminal value
    # on, rigs resold at $5/TH losing 10 %/yr (1 MW of 30 J/TH = 33,333.33 TH = $166,666.67).
    p = tiny(
        terminal_value=True,
        contracts__0__term_months=24,
        sites__0__fleets=[
            dict(
                name="S19",
                power_mw=100,
                efficiency_j_per_th=30,
                resale_usd_per_th=5,
                resale_decay_per_year=0.1,
            )
        ],
    )
    r = plan_portfolio(p)
    assert r.status == "optimal"
    # The plan converts 50 MW (rent $1.8M/MW in the horizon and $1.8M/MW after it, for $1M
    # of capex), mines with the other 50 MW, and sells the 50 MW of rigs left idle in month 0
    # ($166,666.67/MW, more than their $150,000 salvage a year later).
    inside = 50 * MARGIN_USD_PER_MW_YEAR + 50 * 150 * 1000 * 12 - 50e6 + 50 * 1e6 / 30 * 5
    rent_after = 50 * 150 * 1000 * 12  # 12 months after the horizon, undiscounted: $90M
    salvage = 50 * 1e6 / 30 * 5 * 0.9  # the 50 MW still mining, at $4.50/TH: $7.5M
    split = value_split(r.tables.value_terms_usd)
    assert split["inside_horizon_usd"] == pytest.approx(inside, abs=0.05)  # $52,105,000
    assert split["rent_after_horizon_usd"] == pytest.approx(rent_after, abs=0.01)
    assert split["fleet_salvage_usd"] == pytest.approx(salvage, abs=0.01)
    assert sum(split.values()) == pytest.approx(r.value_usd, abs=0.1)
    # status quo: 100 MW mining all year, every rig resold after the horizon ($15M)
    fields = value_split_fields(r.tables.value_terms_usd, r.baseline_value_terms_usd)
    base = fields["baseline_value_split_usd"]
    assert base["inside_horizon_usd"] == pytest.approx(100 * MARGIN_USD_PER_MW_YEAR, abs=0.05)
    assert base["rent_after_horizon_usd"] == 0
    assert base["fleet_salvage_usd"] == pytest.approx(15e6, abs=0.01)
    up = fields["uplift_split_usd"]
    assert up["inside_horizon_usd"] == pytest.approx(inside - 100 * MARGIN_USD_PER_MW_YEAR, abs=0.1)
    assert up["rent_after_horizon_usd"] == pytest.approx(90e6, abs=0.01)
    assert up["fleet_salvage_usd"] == pytest.approx(-7.5e6, abs=0.01)
    assert sum(up.values()) == pytest.approx(r.uplift_usd, abs=0.2)
    # in words: "Of the $127.1M uplift, $90.0M comes from contracted rent after the horizon
    # and -$7.5M from rigs' resale at its end; inside the horizon the plan is worth $44.6M
    # more than the status quo."
    said = " ".join(value_split_sentences(summary_dict(r)))
    assert "$90.0M comes from contracted rent after the horizon" in said
    assert "-$7.5M from rigs' resale" in said
    assert "worth $44.6M more than the status quo" in said


def test_every_term_falls_in_one_bucket():
    # inside = every term not named after the horizon; the buckets name existing terms
    terms = {"mining_revenue_usd": 10.0, "capex_usd": -4.0, "terminal_value_usd": 7.0}
    terms |= {"fleet_salvage_usd": 1.5, "some_new_inside_term_usd": 0.25}
    assert value_split(terms) == {
        "inside_horizon_usd": 6.25,
        "rent_after_horizon_usd": 7.0,
        "fleet_salvage_usd": 1.5,
    }
    assert AFTER_HORIZON_TERMS["rent_after_horizon_usd"] == ("terminal_value_usd",)
    assert value_split({}) is None and value_split(None) is None


# ------------------------------------------------------------------ decisions without the rent


RESOLD_RIGS = [
    dict(
        name="S19", power_mw=100, efficiency_j_per_th=30, resale_usd_per_th=5,
        resale_decay_per_year=0.1,
    )
]  # fmt: skip
"""1 MW of 30 J/TH rigs = 33,333.33 TH: $166,666.67 in month 0, $150,000 after the horizon."""


def test_rent_after_the_horizon_flips_the_decision_by_hand():
    # A 24-month contract at $80/kW-month (12 months after the 12-month horizon), rigs resold
    # at $5/TH losing 10 %/yr. Per MW converted (its rig sold in month 0): rent $960,000 in the
    # horizon − capex $1M + $166,666.67 = $126,666.67, plus $960,000 of rent after it. Per MW
    # kept mining: margin $75,433.33 + salvage $150,000 = $225,433.33. Counting the rent after
    # the horizon the plan converts 50 MW (and sells the 50 MW of rigs it idles); ignoring it,
    # it converts nothing and sells nothing (the status quo).
    p = tiny(
        terminal_value=True,
        contracts__0__term_months=24,
        contracts__0__rate_usd_per_kw_month=80,
        sites__0__fleets=RESOLD_RIGS,
    )
    r = plan_portfolio(p)
    assert float(r.tables.conversions["it_mw"].sum()) == pytest.approx(50)
    mining = 50 * MARGIN_USD_PER_MW_YEAR
    status_quo = 2 * mining + 100 * 150_000  # $22,543,333.33
    converted = 960_000 - 1e6 + 1e6 / 30 * 5  # $126,666.67 per MW
    plan = mining + 50 * converted + 50 * 960_000 + 50 * 150_000  # $65,605,000
    assert r.value_usd == pytest.approx(plan, rel=1e-9)
    block = without_rent_after_horizon(r)
    assert block["status"] == "optimal" and block["changed"]
    assert block["ignored_terms"] == ["terminal_value_usd"]
    assert block["horizon_end_month"] == "2026-12"
    by_kind = {c["kind"]: c for c in block["changes"]}
    assert by_kind["it_mw_converted_by_site"]["plan_mw"] == pytest.approx(50)
    assert by_kind["it_mw_converted_by_site"]["without_rent_mw"] == pytest.approx(0, abs=1e-6)
    assert by_kind["contract_it_mw"]["name"] == "H"
    assert by_kind["rigs_sold_mw"]["plan_mw"] == pytest.approx(50)
    # without the rent the plan is the status quo; its value is counted in full
    assert block["value_usd"] == pytest.approx(status_quo, rel=1e-9)
    r.without_rent_after_horizon = block
    s = summary_dict(r)
    said = without_rent_sentences(s)
    # $65,605,000 − $22,543,333.33 = $43,061,666.67
    assert said == [
        "Without contracted rent after 2026-12 the plan would convert 0.0 instead of 50.0 IT "
        "MW at A; host 0.0 instead of 50.0 IT MW for H; sell 0.0 instead of 50.0 MW of rigs "
        "of S19. That plan is worth $22.5M (rent after the horizon counted), $43.1M less than "
        "this one."
    ]
    assert said[0] in summary_markdown(r, s)


def test_no_sentence_when_the_rent_changes_nothing():
    # At $150/kW-month the conversion pays inside the horizon alone (+$724,566.67 per MW)
    p = tiny(terminal_value=True, contracts__0__term_months=24)
    r = plan_portfolio(p)
    block = without_rent_after_horizon(r)
    assert block["changed"] is False and block["changes"] == []
    assert without_rent_sentences({"decisions_without_rent_after_horizon": block}) == []


def test_not_run_when_no_rent_can_fall_after_the_horizon():
    assert without_rent_after_horizon(plan_portfolio(tiny())) is None  # terminal value off
    on = tiny(terminal_value=True)  # the contract ends with the horizon
    assert without_rent_after_horizon(plan_portfolio(on)) is None


def test_the_objective_switch_leaves_the_value_terms_whole():
    # the what-if's objective ignores the rent; its reported value still counts it
    p = tiny(terminal_value=True, contracts__0__term_months=24)
    r = plan_portfolio(p, objective_without=RENT_TERMS)
    assert r.tables.value_terms_usd["terminal_value_usd"] == pytest.approx(50 * 1.8e6)
    assert r.value_usd == pytest.approx(plan_portfolio(p).value_usd, rel=1e-12)


# ------------------------------------------------------------------ nothing else changes


def _figures(plan) -> dict:
    s = json.loads(json.dumps(plan.summary, default=float))
    return {k: v for k, v in s.items() if k not in NEW_KEYS}


@pytest.mark.parametrize("source", ["example", "random"])
def test_the_new_keys_change_no_existing_figure(source):
    p = api.load() if source == "example" else random_portfolio(3)
    with_check = api.plan(p)
    without = api.plan(p, rent_check=False)
    assert "decisions_without_rent_after_horizon" not in without.summary
    assert set(with_check.summary) - set(without.summary) <= NEW_KEYS
    a, b = _figures(with_check), _figures(without)
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], float):
            assert a[key] == pytest.approx(b[key], rel=1e-9, abs=1e-9), key
        else:
            assert a[key] == b[key], key
    for name, table in with_check.tables.items():
        other = without.tables[name]
        assert table.equals(other), name
    # the split adds up to the value, bucket by bucket, for plan and status quo
    s = with_check.summary
    if s["value_split_usd"] is not None:
        assert sum(s["value_split_usd"].values()) == pytest.approx(s["value_usd"], abs=1.0)
        assert sum(s["uplift_split_usd"].values()) == pytest.approx(s["uplift_usd"], abs=1.0)


def test_a_plan_over_market_paths_skips_the_what_if_and_splits_expected_values():
    from realloc.models.portfolio import Market
    from realloc.optimizer.index import Scenario

    p = tiny(terminal_value=True, contracts__0__term_months=24, sites__0__fleets=RESOLD_RIGS)
    paths = [
        Scenario("low", 0.25, Market(btc_price_usd=70_000, hashprice_usd_per_ph_day=20)),
        Scenario("high", 0.75, Market(btc_price_usd=70_000, hashprice_usd_per_ph_day=50)),
    ]
    r = plan_portfolio(p, scenarios=paths)
    assert without_rent_after_horizon(r) is None
    s = summary_dict(r)
    assert "decisions_without_rent_after_horizon" not in s
    # value terms are probability-weighted already: the split adds up to the expected value
    assert sum(s["value_split_usd"].values()) == pytest.approx(s["value_usd"], abs=1.0)
    assert sum(s["uplift_split_usd"].values()) == pytest.approx(s["uplift_usd"], abs=1.0)
    # every rig still owned is resold after the horizon: 50 MW at $150,000 on both paths
    assert s["value_split_usd"]["fleet_salvage_usd"] == pytest.approx(7.5e6, abs=0.01)
    assert value_split_sentences(s)[0].startswith("Of the plan's expected value of")


def test_the_command_line_switch(tmp_path):
    import yaml

    from tests.helpers import run_cli

    p = tiny(
        terminal_value=True, contracts__0__term_months=24, contracts__0__rate_usd_per_kw_month=80
    )
    src = tmp_path / "p.yaml"
    src.write_text(yaml.safe_dump(p.model_dump(mode="json")))
    code, out = run_cli("plan", src, "--out", tmp_path / "on")
    assert code == 0, out
    on = json.loads((tmp_path / "on" / "summary.json").read_text())
    assert on["decisions_without_rent_after_horizon"]["changed"] is True
    assert "Without contracted rent after 2026-12" in (tmp_path / "on" / "summary.md").read_text()
    code, out = run_cli("plan", src, "--out", tmp_path / "off", "--no-rent-check")
    assert code == 0, out
    off = json.loads((tmp_path / "off" / "summary.json").read_text())
    assert "decisions_without_rent_after_horizon" not in off
    assert off["value_usd"] == on["value_usd"]


def test_the_board_report_says_it(tmp_path):
    import html

    import openpyxl

    p = tiny(
        terminal_value=True,
        contracts__0__term_months=24,
        contracts__0__rate_usd_per_kw_month=80,
        sites__0__fleets=RESOLD_RIGS,
    )
    folder = api.plan(p).write(tmp_path / "plan")
    files = api.build_report(folder, formats=["html", "xlsx"])
    page = html.unescape(files["html"].read_text(encoding="utf-8"))
    # uplift $65,605,000 − $22,543,333.33 = $43,061,666.67: rent after the horizon 50 × $960,000
    # = $48M, salvage $7.5M − $15M = −$7.5M, inside the horizon $2,561,666.67
    assert (
        "Of the $43.1M uplift, $48.0M comes from contracted rent after the horizon and -$7.5M "
        "from rigs' resale at its end; inside the horizon the plan is worth $2.6M more than the "
        "status quo." in page
    )
    assert (
        "Without contracted rent after 2026-12 the plan would convert 0.0 instead of 50.0" in page
    )
    sheet = openpyxl.load_workbook(files["xlsx"])["summary"]
    rows = {r[0]: r[1] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["uplift_split_usd.rent_after_horizon_usd"] == pytest.approx(48e6, abs=0.01)
    assert rows["baseline_value_split_usd.fleet_salvage_usd"] == pytest.approx(15e6, abs=0.01)
