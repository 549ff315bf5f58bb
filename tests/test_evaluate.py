"""``realloc evaluate`` and the optimality gap: a plan's first stage on fresh paths.

Known answers: on the very paths a plan was fitted on, the evaluation (one-path models built
from the WRITTEN tables) must give back the plan's own per-path values; the interval and bound
arithmetic is checked on hand-made value lists with the sums written out."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import realloc
from realloc.evaluation import first_stage_frames
from realloc.inputs.examples import example_dir
from realloc.models import Market
from realloc.optimizer.evaluate import evaluate_path
from realloc.optimizer.index import Scenario
from realloc.optimizer.risk import cvar_usd
from realloc.optimizer.saa import cvar_ci95, cvar_equal, mean_ci95, mmw_bounds, t_quantile
from realloc.optimizer.solvers import make_backend
from realloc.optimizer.stages import FIRST_STAGE, StageFamily, register_first_stage
from tests.helpers import run_cli
from tests.test_cli import tiny_portfolio, write


def _portfolio(tmp_path: Path, cash_usd: float = 20_000_000):
    """The CLI tests' tiny miner with a conversion cheap enough to build (10 MW, $15M)."""
    data = tiny_portfolio(cash_usd=cash_usd)
    data["sites"][0]["conversion"]["capex_usd_per_it_mw"] = 1_500_000
    return write(tmp_path / "p.yaml", data)


def _spec(tmp_path: Path) -> tuple[Path, int]:
    spec = yaml.safe_load((example_dir() / "forecast_base.yaml").read_text())
    spec["start_month"], spec["months"] = "2026-03", 12
    return write(tmp_path / "spec.yaml", spec), int(spec["seed"])


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> tuple[Path, Path, int]:
    """A 4-path stochastic plan of the tiny miner, written; its spec and seed."""
    tmp = tmp_path_factory.mktemp("fitted")
    spec, seed = _spec(tmp)
    plan = realloc.plan(_portfolio(tmp), stochastic=True, forecast=spec, paths=4, frontier=())
    assert plan.status == "optimal"
    return plan.write(tmp / "plan"), spec, seed


def test_the_fitted_paths_give_back_the_in_sample_values(fitted) -> None:
    plan_dir, _spec_path, seed = fitted
    ev = realloc.evaluate(plan_dir, paths=4, seed=seed, workers=1)
    inside = pd.read_csv(plan_dir / "scenario_values.csv")
    assert list(ev.paths["path"]) == list(inside["scenario"])
    # written to the cent; the first stage is held within the MW precision of the tables
    for col in ("value_usd", "baseline_value_usd"):
        np.testing.assert_allclose(ev.paths[col], inside[col], rtol=1e-6)
    assert (ev.paths["shortfall_usd"] == 0).all()
    summary = json.loads((plan_dir / "summary.json").read_text())["stochastic"]
    assert ev.expected_value_usd == pytest.approx(summary["expected_value_usd"], rel=1e-6)
    assert ev.cvar_usd == pytest.approx(summary["cvar_usd"], rel=1e-6)
    assert ev.summary["seed"] == seed and ev.summary["in_sample"]["paths"] == 4
    assert ev.summary["optimism_usd"] == pytest.approx(0.0, abs=1e-6 * abs(ev.expected_value_usd))


def test_the_default_seed_is_not_the_plans_and_is_recorded(fitted, tmp_path: Path) -> None:
    plan_dir, _spec_path, seed = fitted
    ev = realloc.evaluate(plan_dir, paths=3, workers=1, out_dir=tmp_path / "ev")
    assert ev.summary["seed"] != seed and ev.summary["fitted_seed"] == seed
    written = json.loads((tmp_path / "ev" / "evaluation.json").read_text())
    assert written["seed"] == ev.summary["seed"]
    frame = pd.read_csv(tmp_path / "ev" / "evaluation.csv")
    assert list(frame.columns[:5]) == [
        "path", "status", "value_usd", "baseline_value_usd", "shortfall_usd"
    ]  # fmt: skip
    assert (tmp_path / "ev" / "evaluation.png").is_file()
    marker = json.loads((tmp_path / "ev" / ".realloc-output").read_text())
    assert marker["kind"] == "evaluation"


def test_a_deterministic_plan_on_its_own_market_reproduces_its_value(tmp_path: Path) -> None:
    p = realloc.load(_portfolio(tmp_path))
    plan = realloc.plan(p)
    folder = plan.write(tmp_path / "plan")
    tables = first_stage_frames(folder)
    row = evaluate_path(p, tables, Scenario("own", 1.0, p.market), make_backend("highs"))
    assert row["status"] == "optimal"
    assert row["value_usd"] == pytest.approx(plan.value_usd, rel=1e-6)
    assert row["baseline_value_usd"] == pytest.approx(plan.baseline_value_usd, rel=1e-6)


def test_a_path_the_plan_cannot_fund_has_a_shortfall(tmp_path: Path) -> None:
    """$12M of cash and 100 BTC fund the $15M conversion at $67,000 a BTC; at a tenth of that
    price the BTC fetch $0.67M and mining loses money, so the plan needs outside money."""
    p = realloc.load(_portfolio(tmp_path, cash_usd=12_000_000))
    plan = realloc.plan(p)
    assert plan.tables["conversions"]["it_mw"].sum() > 0
    folder = plan.write(tmp_path / "plan")
    tables = first_stage_frames(folder)
    crash = Market(btc_price_usd=6_700, hashprice_usd_per_ph_day=3.5)
    backend = make_backend("highs")
    own = evaluate_path(p, tables, Scenario("own", 1.0, p.market), backend)
    bust = evaluate_path(p, tables, Scenario("bust", 1.0, crash), backend)
    assert own["status"] == "optimal" and own["shortfall_usd"] == 0.0
    assert bust["status"] == "unfunded" and bust["shortfall_usd"] > 1e5
    rows = pd.DataFrame([own, bust])
    from realloc.evaluation import summarize

    assert summarize(rows, 0.5)["shortfall_paths_share"] == 0.5


def test_intervals_by_hand() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0]) * 1e6
    est = mean_ci95(values)
    # mean 3e6; s² = (4+1+0+1+4)/4 · 1e12 = 2.5e12; s/√5 = √0.5 · 1e6 = 707,106.78
    assert est.mean_usd == pytest.approx(3e6)
    assert est.std_error_usd == pytest.approx(707_106.781, rel=1e-6)
    assert est.ci95_usd[0] == pytest.approx(3e6 - 1.959964 * 707_106.781, rel=1e-6)
    assert est.ci95_usd[1] == pytest.approx(3e6 + 1.959964 * 707_106.781, rel=1e-6)
    # CVaR 80 %: the worst fifth of five equally likely values is the worst one
    assert cvar_equal(values, 0.8) == pytest.approx(1e6)
    # CVaR 70 %: 0.2 of 1e6 and 0.1 of 2e6 over 0.3 = 0.4e6 / 0.3
    assert cvar_equal(values, 0.7) == pytest.approx(0.4e6 / 0.3)
    p = np.full(5, 0.2)
    assert cvar_equal(values, 0.7) == pytest.approx(cvar_usd(values, p, 0.7))
    point, (lo, hi) = cvar_ci95(values, 0.7)
    assert point == pytest.approx(0.4e6 / 0.3)
    assert 1e6 * (1 - 1e-12) <= lo <= point <= hi <= 5e6  # within the values (rounding)
    assert cvar_ci95(values, 0.7) == (point, (lo, hi))  # a fixed seed: the same interval


def test_gap_bounds_by_hand() -> None:
    b = mmw_bounds([10.0, 12.0, 14.0], [8.0, 10.0, 12.0, 10.0])
    # upper: mean 12, s = 2, s/√3 = 1.154701; lower: mean 10, s² = (4+0+4+0)/3, s/√4 = 0.816497
    assert b.upper.mean_usd == 12.0 and b.lower.mean_usd == 10.0
    assert b.gap_usd == 2.0
    # bound: 2 + t(0.95, 2) · √(1.154701² + 0.816497²) = 2 + 2.920 · √(4/3 + 2/3) = 2 + 2.920 · √2
    assert t_quantile(0.95, 2) == 2.920
    assert b.gap_bound_usd == pytest.approx(2 + 2.920 * math.sqrt(2), rel=1e-6)
    # the upper estimate's interval uses t(0.975, 2) = 4.303
    assert b.upper.ci95_usd[1] == pytest.approx(12 + 4.303 * 1.154701, rel=1e-6)
    # a negative gap estimate counts as 0 in the bound
    neg = mmw_bounds([10.0, 10.0], [11.0, 11.0])
    assert neg.gap_usd == -1.0 and neg.gap_bound_usd == 0.0


def test_t_quantiles_beyond_the_table_are_close() -> None:
    # t(0.975, 40) = 2.0211, t(0.95, 60) = 1.6706, t(0.975, 120) = 1.9799
    assert t_quantile(0.975, 40) == pytest.approx(2.0211, abs=1e-3)
    assert t_quantile(0.95, 60) == pytest.approx(1.6706, abs=1e-3)
    assert t_quantile(0.975, 120) == pytest.approx(1.9799, abs=1e-3)
    assert math.isinf(mean_ci95([5.0]).std_error_usd)


def test_a_first_stage_family_is_added_by_name() -> None:
    before = list(FIRST_STAGE)
    try:
        register_first_stage(StageFamily("notes", lambda m: np.zeros(0, dtype=int)))
        register_first_stage(StageFamily("notes", lambda m: np.zeros(0, dtype=int)))
        assert [f.name for f in FIRST_STAGE].count("notes") == 1
    finally:
        FIRST_STAGE[:] = before


def test_cli_evaluates_and_refuses_what_is_not_a_plan(fitted, tmp_path: Path) -> None:
    plan_dir, _spec_path, _seed = fitted
    code, out = run_cli("evaluate", plan_dir, "--paths", 2, "--workers", 1, "--out",
                        tmp_path / "ev")  # fmt: skip
    assert code == 0, out
    assert "fresh paths: expected" in out
    code, out = run_cli("evaluate", tmp_path / "nowhere", "--paths", 2)
    assert code == 2 and "not a folder" in out
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    code, out = run_cli("evaluate", foreign, "--paths", 2)
    assert code == 2 and "not a plan folder" in out
    code, out = run_cli("evaluate", tmp_path / "ev", "--paths", 2)  # an evaluation folder
    assert code == 2 and "realloc evaluation" in out


def test_cli_refuses_an_edited_plan_folder(fitted, tmp_path: Path) -> None:
    import shutil

    plan_dir, _spec_path, _seed = fitted
    copy = tmp_path / "plan"
    shutil.copytree(plan_dir, copy)
    conv = copy / "conversions.csv"
    conv.write_text(conv.read_text().replace("10.0", "9.0"))
    code, out = run_cli("evaluate", copy, "--paths", 2)
    assert code == 2 and "conversions.csv changed" in out


def test_cli_needs_a_forecast_for_a_plan_that_records_none(tmp_path: Path) -> None:
    plan = realloc.plan(_portfolio(tmp_path))
    folder = plan.write(tmp_path / "plan")
    code, out = run_cli("evaluate", folder, "--paths", 2)
    assert code == 2 and "give --forecast" in out
    code, out = run_cli("evaluate", folder, "--paths", 2, "--forecast", tmp_path / "none.yaml")
    assert code == 2 and "none.yaml" in out
    spec, _seed = _spec(tmp_path)
    code, out = run_cli("evaluate", folder, "--paths", 2, "--forecast", spec, "--workers", 1)
    assert code == 0, out


def test_replications_record_their_seeds_and_bounds(tmp_path: Path) -> None:
    spec, seed = _spec(tmp_path)
    made = realloc.plan(
        _portfolio(tmp_path), stochastic=True, forecast=spec, paths=3, frontier=(),
        replications=2, evaluation_paths=6,
    )  # fmt: skip
    saa = made.saa
    seeds = saa["replication_seeds"]
    assert len(set(seeds)) == 2 and seed not in seeds and saa["evaluation_seed"] not in seeds
    # the bounds are the arithmetic of optimizer/saa.mmw_bounds on the recorded values
    assert saa["upper_estimate_usd"] == pytest.approx(np.mean(saa["replication_values_usd"]))
    assert saa["gap_usd"] == pytest.approx(saa["upper_estimate_usd"] - saa["plan_value_usd"])
    assert saa["gap_bound95_usd"] >= max(saa["gap_usd"], 0.0)
    # common random numbers: G_k = optimum k − the plan on replication k's paths;
    # bound = mean + t(0.95, 1) · s/√2 = mean + 6.314 · |G_1 − G_2| / 2
    g = saa["crn_gaps_usd"]
    assert saa["crn_gap_usd"] == pytest.approx(np.mean(g))
    half = abs(g[0] - g[1]) / 2
    assert saa["crn_gap_bound95_usd"] == pytest.approx(np.mean(g) + 6.314 * half, abs=1e-6)
    folder = made.write(tmp_path / "plan")
    assert json.loads((folder / "summary.json").read_text())["saa"]["replication_seeds"] == seeds
    assert "N = 3 paths" in (folder / "summary.md").read_text()


def test_replications_are_refused_where_the_bounds_do_not_hold(tmp_path: Path) -> None:
    p = _portfolio(tmp_path)
    with pytest.raises(realloc.InputError, match="risk weight 0"):
        realloc.plan(p, stochastic=True, risk_weight=0.5, replications=2)
    with pytest.raises(realloc.InputError, match="only for a plan over market paths"):
        realloc.plan(p, replications=2)
    with pytest.raises(realloc.InputError, match="at least 2"):
        realloc.plan(p, stochastic=True, replications=1)
    code, out = run_cli("plan", p, "--replications", 2, "--out", tmp_path / "o")
    assert code == 2 and "--replications" in out


def test_the_board_report_shows_the_evaluation(fitted, tmp_path: Path) -> None:
    plan_dir, _spec_path, _seed = fitted
    realloc.evaluate(plan_dir, paths=3, workers=1, out_dir=tmp_path / "ev")
    code, out = run_cli("report", plan_dir, "--evaluation", tmp_path / "ev", "--format", "html",
                        "--out", tmp_path / "rep")  # fmt: skip
    assert code == 0, out
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "How the plan holds on paths it was not fitted to" in html
    assert "Fitted on 4 path(s)" in html
    other = realloc.plan(_portfolio(tmp_path)).write(tmp_path / "other")
    code, out = run_cli("report", other, "--evaluation", tmp_path / "ev", "--format", "html",
                        "--out", tmp_path / "rep2")  # fmt: skip
    assert code == 2 and "evaluates the plan in" in out


def test_a_process_pool_gives_the_serial_values_in_path_order(fitted) -> None:
    plan_dir, _spec_path, _seed = fitted
    serial = realloc.evaluate(plan_dir, paths=30, workers=1)  # two batches of 25 and 5 paths
    pool = realloc.evaluate(plan_dir, paths=30, workers=2)
    assert list(pool.paths["path"]) == list(serial.paths["path"])
    np.testing.assert_allclose(pool.paths["value_usd"], serial.paths["value_usd"], rtol=1e-7)
