"""Planning on a forecast spec, end to end: loader, plan, and the halving in mining margins."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from realloc.cli import main
from realloc.inputs import load_portfolio
from realloc.inputs.examples import example_dir, example_path
from realloc.optimizer import plan_portfolio


@pytest.fixture()
def on_forecast(tmp_path: Path) -> Path:
    """The bundled example with ``market: {forecast: forecast_base.yaml}`` (20 paths, fast)."""
    for f in example_dir().iterdir():
        if f.suffix in (".yaml", ".csv"):
            shutil.copyfile(f, tmp_path / f.name)
    spec = yaml.safe_load((tmp_path / "forecast_base.yaml").read_text())
    spec["paths"] = 20
    (tmp_path / "forecast_base.yaml").write_text(yaml.safe_dump(spec))
    data = yaml.safe_load((tmp_path / "gigawatt_miner.yaml").read_text())
    data["market"] = {"forecast": "forecast_base.yaml"}
    path = tmp_path / "on_forecast.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_portfolio_market_can_be_a_forecast_spec(on_forecast: Path):
    p = load_portfolio(on_forecast)
    assert len(p.market.hashprice_usd_per_ph_day) == p.months
    # the halving (2028-04 = month 25 from 2026-03) halves the subsidy: the mean hashprice
    # drops by roughly half between consecutive months
    hp = p.market.hashprice_usd_per_ph_day
    assert hp[25] / hp[24] == pytest.approx(0.5, abs=0.08)


def test_halving_shows_in_the_plans_mining_margin(on_forecast: Path):
    # rigs that cannot be resold keep mining wherever the margin is positive
    p = load_portfolio(on_forecast)
    sites = [
        s.model_copy(
            update={"fleets": [g.model_copy(update={"resale_usd_per_th": 0.0}) for g in s.fleets]}
        )
        for s in p.sites
    ]
    r = plan_portfolio(p.model_copy(update={"sites": sites}), relax=True)
    assert r.status == "optimal"
    cash = r.tables.cashflows.set_index("month")
    # the subsidy halves in 2028-04: mining revenue falls by more than a third that month
    # (by half per MW still running; rigs whose margin turns negative stop)
    revenue = cash["mining_revenue_usd"]
    assert revenue["2028-03"] > 0
    assert revenue["2028-04"] < 0.65 * revenue["2028-03"]
    assert revenue["2028-02"] > 0.8 * revenue["2028-03"]  # no such step the month before


def test_forecast_command_writes_csv_and_chart(tmp_path: Path):
    spec = yaml.safe_load((example_dir() / "forecast_base.yaml").read_text())
    spec["paths"] = 10
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec))
    out = tmp_path / "fc"
    res = CliRunner().invoke(main, ["forecast", str(spec_path), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "halving in 2028-04" in res.output
    frame = pd.read_csv(out / "forecast.csv")
    assert frame["scenario"].nunique() == 10
    assert {"block_height", "subsidy_btc", "hashprice_usd_per_ph_day"} <= set(frame.columns)
    assert (out / "forecast_fan.png").stat().st_size > 10_000
    assert (out / "breakeven.csv").exists()


def test_plan_forecast_option(tmp_path: Path):
    spec = yaml.safe_load((example_dir() / "forecast_base.yaml").read_text())
    spec["paths"] = 5
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec))
    res = CliRunner().invoke(
        main,
        [
            "plan",
            str(example_path()),
            "--forecast",
            str(spec_path),
            "--out",
            str(tmp_path / "out"),
            "--relax",
        ],
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out" / "summary.json").exists()


def test_forecast_not_covering_the_horizon_is_a_clear_error(tmp_path: Path, on_forecast: Path):
    spec_path = on_forecast.parent / "forecast_base.yaml"
    spec = yaml.safe_load(spec_path.read_text())
    spec["months"] = 12
    spec_path.write_text(yaml.safe_dump(spec))
    res = CliRunner().invoke(main, ["validate", str(on_forecast)])
    assert res.exit_code == 2
    assert "market.forecast covers" in res.output
    assert "Traceback" not in res.output
