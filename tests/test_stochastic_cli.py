"""`realloc plan --stochastic` end to end: files, summary figures, and input errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from realloc.cli import main
from realloc.inputs.examples import example_dir
from tests.test_cli import tiny_portfolio, write

SCENARIOS = {
    "scenarios": [
        {
            "name": "bust",
            "probability": 0.4,
            "market": {"btc_price_usd": 45_000, "hashprice_usd_per_ph_day": 18},
        },
        {
            "name": "boom",
            "probability": 0.6,
            "market": {"btc_price_usd": 110_000, "hashprice_usd_per_ph_day": 55},
        },
    ]
}


def test_stochastic_plan_from_a_scenario_file(tmp_path: Path) -> None:
    portfolio = write(tmp_path / "p.yaml", tiny_portfolio())
    scenarios = write(tmp_path / "s.yaml", SCENARIOS)
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main,
        [
            "plan",
            str(portfolio),
            "--scenarios",
            str(scenarios),
            "--out",
            str(out),
            "--cvar-alpha",
            "0.5",
            "--risk-weight",
            "0.3",
            "--frontier",
            "0,1",
        ],
    )
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    block = summary["stochastic"]
    values = pd.read_csv(out / "scenario_values.csv").set_index("scenario")
    # summary figures are recomputed from scenario_values.csv: E = 0.4·bust + 0.6·boom and,
    # with α = 0.5, CVaR = the mean of the worst half = 0.4·bust + 0.1·boom, over 0.5
    bust, boom = values.loc["bust", "value_usd"], values.loc["boom", "value_usd"]
    assert bust < boom
    assert block["expected_value_usd"] == pytest.approx(0.4 * bust + 0.6 * boom, rel=1e-9)
    assert summary["value_usd"] == pytest.approx(block["expected_value_usd"], rel=1e-9)
    assert block["cvar_usd"] == pytest.approx((0.4 * bust + 0.1 * boom) / 0.5, rel=1e-9)
    assert block["evpi_usd"] >= -1.0
    frontier = pd.read_csv(out / "frontier.csv")
    assert list(frontier["risk_weight"]) == [0.0, 0.3, 1.0]
    # more weight on CVaR never lowers CVaR nor raises expected value
    assert frontier["cvar_usd"].is_monotonic_increasing
    assert frontier["expected_value_usd"].is_monotonic_decreasing
    treasury = pd.read_csv(out / "treasury.csv")
    assert set(treasury["scenario"]) == {"bust", "boom"}
    for png in ("frontier.png", "value_distribution.png"):
        assert (out / png).stat().st_size > 10_000
    assert "## Risk across market paths" in (out / "summary.md").read_text()


def test_stochastic_plan_from_forecast_paths(tmp_path: Path) -> None:
    spec = yaml.safe_load((example_dir() / "forecast_base.yaml").read_text())
    spec["start_month"], spec["months"] = "2026-03", 12
    spec_path = write(tmp_path / "spec.yaml", spec)
    portfolio = write(tmp_path / "p.yaml", tiny_portfolio())
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main,
        [
            "plan",
            str(portfolio),
            "--stochastic",
            "--forecast",
            str(spec_path),
            "--paths",
            "4",
            "--frontier",
            "none",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    values = pd.read_csv(out / "scenario_values.csv")
    assert list(values["scenario"]) == ["path-1", "path-2", "path-3", "path-4"]
    assert values["probability"].to_numpy() == pytest.approx(0.25)
    assert not (out / "frontier.csv").exists()


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda s: s["scenarios"][0].update(probability=0.5), "probabilities sum to 1.1"),
        (lambda s: s["scenarios"][1].update(name="bust"), "named twice"),
        (
            lambda s: s["scenarios"][0]["market"].update(btc_price_usd=[50_000] * 5),
            "has 5 months",
        ),
        (lambda s: s["scenarios"][0].pop("market"), "market"),
    ],
)
def test_bad_scenario_file_exits_2_naming_the_problem(tmp_path: Path, edit, fragment) -> None:
    data = yaml.safe_load(yaml.safe_dump(SCENARIOS))
    edit(data)
    scenarios = write(tmp_path / "s.yaml", data)
    portfolio = write(tmp_path / "p.yaml", tiny_portfolio())
    res = CliRunner().invoke(
        main, ["plan", str(portfolio), "--scenarios", str(scenarios), "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 2, res.output
    assert fragment in res.output
    assert str(scenarios) in res.output
    assert "Traceback" not in res.output


def test_stochastic_plan_uses_the_portfolios_own_forecast_spec(tmp_path: Path) -> None:
    spec = yaml.safe_load((example_dir() / "forecast_base.yaml").read_text())
    spec["start_month"], spec["months"] = "2026-03", 12
    write(tmp_path / "spec.yaml", spec)
    data = tiny_portfolio()
    data["market"] = {"forecast": "spec.yaml"}
    portfolio = write(tmp_path / "p.yaml", data)
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main,
        [
            "plan",
            str(portfolio),
            "--stochastic",
            "--paths",
            "3",
            "--frontier",
            "none",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "from the portfolio's market.forecast" in res.output
    assert len(pd.read_csv(out / "scenario_values.csv")) == 3
