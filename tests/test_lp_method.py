"""``HighsBackend.lp_method``: HiGHS's LP method for the phases that start cold (the benchmarks'
``--method``). It changes how the value LP is solved, never the plan."""

from __future__ import annotations

import numpy as np
import pytest

import realloc.optimizer.highs as highs
from realloc.inputs import load_portfolio
from realloc.inputs.examples import example_path
from realloc.optimizer import plan_portfolio
from realloc.optimizer.solvers import HighsBackend


@pytest.fixture
def ipm_runs(monkeypatch):
    """Interior-point iterations of every phase solved, by phase name."""
    runs: list[tuple[str, int]] = []
    original = highs._read_solution

    def read(h, name, problem, n_rows, started):
        runs.append((name, int(h.getInfo().ipm_iteration_count)))
        return original(h, name, problem, n_rows, started)

    monkeypatch.setattr(highs, "_read_solution", read)
    return runs


def test_default_lets_highs_choose_and_ipm_gives_the_same_plan(ipm_runs):
    p = load_portfolio(example_path())
    chosen = plan_portfolio(p)
    assert all(n == 0 for _, n in ipm_runs)  # HiGHS picks the simplex method here
    ipm_runs.clear()
    backend = HighsBackend()
    backend.lp_method = "ipm"
    ipm = plan_portfolio(p, backend=backend)
    used = dict(ipm_runs)
    # the cold LPs (the value relaxation, the status quo) ran the interior point method; the
    # phases restarted from a basis (fixed integers, keep BTC) kept the simplex method
    assert used["value_relaxation"] > 0 and used["keep_btc"] == 0
    assert ipm.status == chosen.status == "optimal"
    assert ipm.value_usd == pytest.approx(chosen.value_usd, rel=1e-6)
    assert ipm.baseline_value_usd == pytest.approx(chosen.baseline_value_usd, rel=1e-6)
    a = chosen.tables.conversions["it_mw"].to_numpy(float)
    b = ipm.tables.conversions["it_mw"].to_numpy(float)
    assert np.allclose(a, b, rtol=1e-6, atol=1e-6)
