"""Issue 12, item 1: a fresh install passes its own tests whatever the third-party versions.

- realloc's own nesting limit fires before any YAML parser's (PyYAML 6.0.4 added one of its
  own, which used to pre-empt realloc's message with "check the indentation");
- HiGHS prints nothing: from highspy 1.16 its constructor logs a banner on stdout;
- the dependency bounds carry an upper bound, and the lock file pins every one of them.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from realloc.inputs.errors import InputError
from realloc.inputs.yaml_parse import MAX_YAML_DEPTH, parse_yaml
from realloc.optimizer.highs import HighsBackend, new_highs
from realloc.optimizer.pipeline import plan_portfolio
from tests.helpers import tiny

ROOT = Path(__file__).resolve().parent.parent

DEEP = {
    "flow brackets on one line": "name: " + "[" * 10_000 + "]" * 10_000 + "\n",
    "flow brackets over many lines": "name:\n" + "[\n" * 3_000 + "]\n" * 3_000,
    "block mappings": "".join("  " * i + f"k{i}:\n" for i in range(2_000)) + "  " * 2_000 + "x:",
    "block sequences": "name:\n" + "".join("  " * i + "-\n" for i in range(1, 2_000)),
    "compact sequences": "name: " + "- " * 3_000 + "x\n",
    "mixed": "a: {b: [" * 500 + "]}" * 500 + "\n",
}


@pytest.mark.parametrize("kind", sorted(DEEP))
def test_deep_nesting_gets_reallocs_message(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(DEEP[kind], encoding="utf-8")
    with pytest.raises(InputError) as err:
        parse_yaml(path)
    assert f"nested too deeply to read (more than {MAX_YAML_DEPTH} levels" in str(err.value)
    assert "check the brackets and the indentation" in str(err.value)


def test_depth_limit_is_far_above_a_portfolio_and_ignores_quotes_and_comments(
    tmp_path: Path,
) -> None:
    """Brackets inside quotes or comments do not count; a portfolio nests about 5 levels."""
    path = tmp_path / "ok.yaml"
    text = "name: '" + "[" * 500 + "'\nnote: \"" + "{" * 500 + '"\n# ' + "[" * 500 + "\n"
    path.write_text(text + "a: [[[[[[1]]]]]]\n", encoding="utf-8")
    data, _ = parse_yaml(path)
    assert data["name"] == "[" * 500 and data["a"] == [[[[[[1]]]]]]
    parse_yaml(ROOT / "inputs/examples/gigawatt_miner.yaml")


def test_highs_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    """Not a word of HiGHS's on the process's stdout or stderr, at construction or solve."""
    new_highs()
    HighsBackend.version()
    result = plan_portfolio(tiny())
    assert result.status == "optimal"
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_plan_command_keeps_stdout_empty(tmp_path: Path) -> None:
    """A real process, as a shell sees it: realloc writes its progress to stderr, so stdout
    stays empty; anything there came from a library (HiGHS's banner did, from highspy 1.16)."""
    run = subprocess.run(
        [sys.executable, "-m", "realloc.cli", "plan", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "status optimal" in run.stderr
    assert run.stdout == ""


def _requirement_name(req: str) -> str:
    return re.split(r"[<>=!~\[ ;]", req, maxsplit=1)[0].lower().replace("_", "-")


def test_dependencies_have_upper_bounds_and_a_lock() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["test"]
    for req in requirements:
        assert "<" in req, f"{req}: no upper bound"
    lock = (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
    pinned = {_requirement_name(line): line for line in lock if "==" in line}
    for req in requirements:
        assert _requirement_name(req) in pinned, f"{req} not pinned in constraints.txt"
