"""Interrupted runs: SIGINT or SIGTERM during a solve, or while the output folder is being
written, leaves the previous output folder byte for byte as it was and no temporary folders.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from benchmarks.synthetic import synthetic_data
from realloc.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {f.name: f.read_bytes() for f in sorted(folder.iterdir())}


def _previous_output(parent: Path) -> Path:
    """An output folder from an earlier run (its content only has to stay as it is)."""
    out = parent / "out"
    out.mkdir()
    (out / "summary.json").write_text('{"status": "optimal", "value_usd": 1.0}\n')
    (out / "plan.csv").write_text("month,site,use,detail,power_mw,it_mw\n2026-03,A,mining,g,1,\n")
    return out


def _leftovers(parent: Path) -> list[str]:
    """Temporary folders a staged write leaves behind if it is not cleaned up."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(".out."))


@pytest.fixture(scope="module")
def slow_portfolio(tmp_path_factory) -> Path:
    """A synthetic 30-site, 96-month, 30-contract portfolio: ~10 s to plan on 2 cores."""
    path = tmp_path_factory.mktemp("slow") / "synthetic.yaml"
    path.write_text(yaml.safe_dump(synthetic_data(30, 96, 30, seed=1), sort_keys=False))
    return path


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_mid_solve_leaves_previous_output_intact(sig, slow_portfolio, tmp_path) -> None:
    out = _previous_output(tmp_path)
    before = _snapshot(out)
    proc = subprocess.Popen(
        [sys.executable, "-m", "realloc.cli", "plan", str(slow_portfolio), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        line = ""
        while "planning" not in line:  # the model is being built and solved from here on
            line = proc.stderr.readline()
            assert line or proc.poll() is None, "realloc exited before planning"
        time.sleep(1.5)
        assert proc.poll() is None, "the plan finished before the signal; use a bigger portfolio"
        sent = time.perf_counter()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        waited = time.perf_counter() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + sig, err
    assert f"interrupted ({sig.name})" in err and "Traceback" not in err, err
    assert _snapshot(out) == before, "the previous output folder changed"
    assert _leftovers(tmp_path) == [], "temporary output folders were left behind"
    assert waited < 10, f"took {waited:.1f} s to stop"


def test_sigterm_while_writing_removes_the_staged_folder(tmp_path, monkeypatch) -> None:
    """SIGTERM arrives after summary.json and two tables are already in the staging folder."""
    import realloc.reports.plan_files as plan_files

    out = _previous_output(tmp_path)
    before = _snapshot(out)
    real_csv, calls = plan_files.write_csv, []

    def csv_then_signal(frame, path, columns=None):
        calls.append(path)
        if len(calls) == 3:
            assert path.parent.name.startswith(".out.tmp-")  # writing into the stage
            os.kill(os.getpid(), signal.SIGTERM)  # the CLI's handler raises here
        real_csv(frame, path, columns)

    monkeypatch.setattr(plan_files, "write_csv", csv_then_signal)
    from tests.helpers import tiny

    portfolio = tmp_path / "tiny.yaml"
    portfolio.write_text(yaml.safe_dump(tiny().model_dump(mode="json")))
    result = CliRunner().invoke(main, ["plan", str(portfolio), "--out", str(out)])
    assert result.exit_code == 128 + signal.SIGTERM, result.output
    assert "interrupted (SIGTERM)" in result.output
    assert len(calls) == 3, "the signal stopped the writing at once"
    assert _snapshot(out) == before
    assert _leftovers(tmp_path) == []
    # the handlers are restored after the command
    assert signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None)
