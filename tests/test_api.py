"""Issue 13: one import namespace and a library API that the commands are thin shells over.

- the README's "From Python" block runs as written;
- ``realloc.plan`` and ``realloc plan`` give the same summary (the CLI calls the library);
- what-ifs are copies with changes (the original is untouched), bad paths are InputErrors;
- a user's own ``models.py`` and ``reports/`` change nothing;
- the wheel installs one top-level name.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

import realloc
from realloc.cli import main
from tests.helpers import tiny

ROOT = Path(__file__).resolve().parent.parent


def _readme_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- from-python:start.*?```python\n(.*?)```", text, re.S)
    assert block, "README lost its From Python block"
    return block.group(1)


def test_readme_from_python_block_runs(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(_readme_block(), "README.md (From Python)", "exec"), {})
    printed = capsys.readouterr().out
    assert printed.startswith("optimal ")
    assert (tmp_path / "out_python" / "summary.json").is_file()
    summary = json.loads((tmp_path / "out_python" / "summary.json").read_text())
    assert f"{summary['value_usd'] / 1e9:.2f}B" in printed


def test_library_and_command_give_the_same_plan(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(json.dumps(tiny().model_dump(mode="json")), encoding="utf-8")
    made = realloc.plan(path)
    result = CliRunner().invoke(main, ["plan", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert made.status == summary["status"] == "optimal"
    assert made.value_usd == pytest.approx(summary["value_usd"], rel=1e-9)
    assert made.summary == summary
    written = (tmp_path / "out" / "conversions.csv").read_text().splitlines()
    assert len(written) == len(made.tables["conversions"]) + 1


def test_with_changes_is_a_validated_copy() -> None:
    """tiny: 100 MW of 30 J/TH rigs at $35/PH/day; doubling the hashprice can only raise the
    value, and the original keeps its market."""
    p = realloc.Portfolio.model_construct(**dict(tiny()))
    richer = p.with_changes({"market.hashprice_usd_per_ph_day": {"scale": 2}})
    assert p.market.hashprice_usd_per_ph_day == 35
    assert richer.market.hashprice_usd_per_ph_day == 70
    assert realloc.plan(richer).value_usd > realloc.plan(p).value_usd
    with pytest.raises(realloc.InputError, match="did you mean 'hashprice_usd_per_ph_day'"):
        p.with_changes({"market.hashprice": 1})
    with pytest.raises(realloc.InputError):
        p.with_changes({"sites[A].grid_mw": -5})  # validated like a loaded portfolio


def test_bad_input_is_an_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nmonths: twelve\n", encoding="utf-8")
    with pytest.raises(realloc.InputError, match=r"bad\.yaml"):
        realloc.load(bad)


def test_users_own_models_and_reports_change_nothing(tmp_path: Path) -> None:
    (tmp_path / "models.py").write_text("raise ImportError('the user models.py was imported')\n")
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "__init__.py").write_text("raise ImportError('user reports/')\n")
    (tmp_path / "optimizer.py").write_text("raise ImportError('the user optimizer.py')\n")
    code = "import realloc; print(realloc.plan(realloc.load()).value_usd)"
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    cli = subprocess.run(
        [sys.executable, "-m", "realloc.cli", "plan", "--out", "out"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert float(run.stdout) == pytest.approx(summary["value_usd"], rel=1e-9)


def test_wheel_has_one_top_level_name() -> None:
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert {p.split(".")[0] for p in tool["packages"]} == {"realloc"}
    for package, folder in tool["package-dir"].items():
        assert package.startswith("realloc.") and (ROOT / folder / "__init__.py").is_file()


def test_import_realloc_is_light() -> None:
    """The command line imports the package before parsing its options: the library (pandas,
    the solver) loads on first use only."""
    code = "import sys, realloc, realloc.cli; print('pandas' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "False", run.stderr


@pytest.mark.filterwarnings("ignore:PULP_CBC_CMD is deprecated:DeprecationWarning")
def test_to_pulp_is_the_solved_model() -> None:
    """The PuLP problem has the columns and rows HiGHS solved, and CBC finds the same value on
    tiny (the objective is the plan's value in $M)."""
    import pulp

    made = realloc.plan(tiny())
    prob = made.to_pulp()
    assert len(prob.variables()) == made.result.model_size["columns"]
    assert prob.numConstraints() == made.result.model_size["rows"]
    prob.solve(pulp.PULP_CBC_CMD(msg=False))
    assert pulp.LpStatus[prob.status] == "Optimal"
    assert pulp.value(prob.objective) * 1e6 == pytest.approx(made.value_usd, rel=1e-6)


@pytest.mark.parametrize(
    "options, fragment",
    [
        ({"risk_weight": 0.3}, "risk_weight: only for a plan over market paths"),
        ({"paths": 10, "frontier": ()}, "paths, frontier: only for a plan over market paths"),
        ({"mip_gap": float("nan")}, "mip_gap: nan is not a finite number"),
        ({"time_limit_s": -5}, "time_limit_s: -5 is out of range"),
        ({"solver": "gurobi"}, "solver must be highs or cbc, not 'gurobi'"),
        ({"stochastic": True, "paths": 0}, "paths: 0 is out of range"),
        ({"stochastic": True, "cvar_alpha": 1.0}, "cvar_alpha: 1 is out of range"),
        ({"stochastic": True, "frontier": (0, 2)}, "frontier weight: 2 is out of range"),
    ],
)
def test_plan_options_are_checked_not_ignored(options: dict, fragment: str) -> None:
    """The command line's option rules hold for Python callers too (issue 12 item 10)."""
    with pytest.raises(realloc.InputError, match=re.escape(fragment)):
        realloc.plan(tiny(), **options)
