"""Hostile values: numbers the command line or an input file must refuse (exit 2, a message that
names the option or field and the fix), and exit codes that must not claim success.

Issue 12, items 8–10. Every case here was accepted (or crashed with exit 1) before its fix.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from realloc.cli import main
from tests.helpers import tiny

SOLVER_OPTIONS_CASES = [
    ("--mip-gap", "-1", "out of range"),
    ("--mip-gap", "nan", "not a finite number"),
    ("--mip-gap", "inf", "not a finite number"),
    ("--mip-gap", "2", "out of range"),
    ("--time-limit", "-5", "out of range"),
    ("--time-limit", "0", "out of range"),
    ("--time-limit", "nan", "not a finite number"),
    ("--time-limit", "inf", "not a finite number"),
    ("--time-limit", "１０", "ASCII"),
]


def _portfolio(tmp_path: Path, **overrides) -> Path:
    path = tmp_path / "p.yaml"
    data = tiny(**overrides).model_dump(mode="json")
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _run(args: list[str]):
    return CliRunner().invoke(main, args)


def _refused(res, *fragments: str) -> None:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    for fragment in fragments:
        assert fragment in res.output, res.output


@pytest.mark.parametrize(("option", "value", "fragment"), SOLVER_OPTIONS_CASES)
def test_plan_refuses_a_bad_solver_option(tmp_path: Path, option, value, fragment) -> None:
    res = _run(["plan", str(_portfolio(tmp_path)), "--out", str(tmp_path / "o"), option, value])
    _refused(res, option, fragment)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("option", "value", "fragment"), SOLVER_OPTIONS_CASES[:5])
def test_sweep_and_breakeven_refuse_a_bad_solver_option(
    tmp_path: Path, option, value, fragment
) -> None:
    p = _portfolio(tmp_path)
    grid = tmp_path / "g.yaml"
    grid.write_text("scenarios:\n  base: {}\n", encoding="utf-8")
    _refused(_run(["sweep", str(p), str(grid), "--out", str(tmp_path / "s"), option, value]))
    _refused(_run(["breakeven", str(p), "--param", "grid_mw", "--site", "A", option, value]))


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--stochastic", "--paths", "0"], "--paths"),
        (["--stochastic", "--paths", "10001"], "--paths"),
        (["--stochastic", "--paths", "٣"], "ASCII"),
        (["--stochastic", "--paths", "1" * 5000], "--paths"),
        (["--stochastic", "--cvar-alpha", "nan"], "--cvar-alpha"),
        (["--stochastic", "--cvar-alpha", "1"], "--cvar-alpha"),
        (["--stochastic", "--risk-weight", "nan"], "--risk-weight"),
        (["--stochastic", "--risk-weight", "-0.1"], "--risk-weight"),
        (["--stochastic", "--frontier", "0,nan"], "--frontier"),
        (["--stochastic", "--frontier", "0,inf"], "--frontier"),
        (["--stochastic", "--frontier", ","], "--frontier"),
    ],
)
def test_plan_refuses_a_bad_stochastic_option(tmp_path: Path, args, fragment) -> None:
    res = _run(["plan", str(_portfolio(tmp_path)), "--out", str(tmp_path / "o"), *args])
    _refused(res, fragment)


@pytest.mark.parametrize(
    "args",
    [
        ["--workers", "0"],
        ["--workers", "100000"],
        ["--workers", "nan"],
    ],
)
def test_sweep_refuses_a_bad_worker_count(tmp_path: Path, args) -> None:
    grid = tmp_path / "g.yaml"
    grid.write_text("scenarios:\n  base: {}\n", encoding="utf-8")
    res = _run(["sweep", str(_portfolio(tmp_path)), str(grid), "--out", str(tmp_path / "s"), *args])
    _refused(res, "--workers")


@pytest.mark.parametrize(
    "args",
    [
        ["--lo", "nan"],
        ["--hi", "inf"],
        ["--tol", "nan"],
        ["--tol", "0"],
        ["--threshold", "-1"],
        ["--threshold", "nan"],
    ],
)
def test_breakeven_refuses_a_bad_number(tmp_path: Path, args) -> None:
    p = _portfolio(tmp_path)
    res = _run(["breakeven", str(p), "--param", "grid_mw", "--site", "A", *args])
    _refused(res, args[0])


@pytest.mark.parametrize(
    "args",
    [
        ["--risk-weight", "0.3"],
        ["--cvar-alpha", "0.9"],
        ["--paths", "10"],
        ["--frontier", "0,1"],
        ["--frontier", "none"],
    ],
)
def test_stochastic_only_options_need_stochastic(tmp_path: Path, args) -> None:
    res = _run(["plan", str(_portfolio(tmp_path)), "--out", str(tmp_path / "o"), *args])
    _refused(res, args[0], "--stochastic")
    assert not (tmp_path / "o").exists()


def test_paths_and_forecast_are_refused_with_a_scenario_file(tmp_path: Path) -> None:
    scenarios = tmp_path / "s.yaml"
    scenarios.write_text(
        "scenarios:\n  - {name: a, probability: 1, market: {btc_price_usd: 70000, "
        "hashprice_usd_per_ph_day: 35}}\n",
        encoding="utf-8",
    )
    p = str(_portfolio(tmp_path))
    out = str(tmp_path / "o")
    res = _run(["plan", p, "--scenarios", str(scenarios), "--paths", "5", "--out", out])
    _refused(res, "--paths", "--scenarios")
    res = _run(["plan", p, "--scenarios", str(scenarios), "--forecast", p, "--out", out])
    _refused(res, "--forecast", "--scenarios")


def test_time_limit_before_any_plan_exits_4(tmp_path: Path) -> None:
    """No plan is not success: the time limit striking before the solver finds any plan exits
    4 (README exit codes), with the diagnosis on stderr and in summary.md."""
    out = tmp_path / "o"
    res = _run(["plan", "--out", str(out), "--time-limit", "1e-9"])  # the bundled example
    assert res.exit_code == 4, res.output
    assert "time limit" in res.output
    assert json.loads((out / "summary.json").read_text())["status"] == "time_limit"


def test_a_relaxed_plan_says_so_at_the_top_of_summary_md(tmp_path: Path) -> None:
    p = _portfolio(tmp_path, contracts__0__min_it_mw=20)
    out = tmp_path / "o"
    assert _run(["plan", str(p), "--out", str(out), "--relax"]).exit_code == 0
    head = (out / "summary.md").read_text().split("## ")[0]
    assert "Relaxed plan (--relax)" in head
    assert json.loads((out / "summary.json").read_text())["solver"]["relaxed_min_commitments"]
    plain = tmp_path / "plain"
    assert _run(["plan", str(p), "--out", str(plain)]).exit_code == 0
    assert "Relaxed" not in (plain / "summary.md").read_text()
