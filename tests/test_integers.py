"""Integer phases: LP relaxation, rounding, fixed-integer LP, and the MILP only when needed.

The hand-made problems have two columns, x (continuous) and y (0/1); the tiny portfolio's
contract H is all-or-nothing when it has a minimum (see tests/helpers.tiny).
"""

from __future__ import annotations

import numpy as np
import pytest

from realloc.optimizer import plan_portfolio
from realloc.optimizer.build import build_model
from realloc.optimizer.index import build_index
from realloc.optimizer.integers import relative_gap, round_integers, solve_with_integers
from realloc.optimizer.matrix import MatrixForm, to_matrix
from realloc.optimizer.solve import solve_plan
from realloc.optimizer.solvers import Phase, SolverOptions, make_backend
from tests.helpers import tiny


def two_columns(rows: list[tuple[list[float], float, float]], value=(0.0, 0.0), x_ub=np.inf):
    """A MatrixForm over (x, y) with y binary; rows as (coefficients, lo, hi)."""
    indptr, indices, data = [0], [], []
    for coefs, _, _ in rows:
        for j, c in enumerate(coefs):
            if c:
                indices.append(j)
                data.append(c)
        indptr.append(len(indices))
    return MatrixForm(
        value=np.array(value, dtype=float),
        lb=np.zeros(2),
        ub=np.array([x_ub, 1.0]),
        integer=np.array([False, True]),
        indptr=np.array(indptr, dtype=np.int64),
        indices=np.array(indices, dtype=np.int32),
        data=np.array(data, dtype=float),
        row_lo=np.array([r[1] for r in rows], dtype=float),
        row_hi=np.array([r[2] for r in rows], dtype=float),
        row_names=[f"r{i}" for i in range(len(rows))],
        col_names=["x", "y"],
    )


def commitment(min_mw: float, max_mw: float = 100.0) -> MatrixForm:
    """x = hosted MW, y = commit: x ≤ max·y and x ≥ min·y."""
    return two_columns([([1.0, -max_mw], -np.inf, 0.0), ([1.0, -min_mw], 0.0, np.inf)])


def phase_of(mf: MatrixForm) -> Phase:
    return Phase("value", -mf.value, mf.lb, mf.ub, mf.integer)


@pytest.mark.parametrize(
    ("min_mw", "x", "expected"),
    [
        (60.0, [80.0, 0.8], 1.0),  # 80 MW: commit = 1 keeps 60 ≤ 80 ≤ 100
        (60.0, [70.0, 0.3], 1.0),  # nearest is 0, which breaks x ≤ 0: the ceiling holds
        (20.0, [30.0, 0.4], 1.0),  # likewise: 20 ≤ 30 ≤ 100
        (60.0, [0.0, 0.0], 0.0),
        (60.0, [50.0, 0.6], None),  # 1 breaks 50 ≥ 60, 0 breaks 50 ≤ 0: no rounding
    ],
)
def test_rounding_keeps_every_row(min_mw, x, expected):
    mf = commitment(min_mw)
    got = round_integers(mf, phase_of(mf), np.array(x))
    if expected is None:
        assert got is None
    else:
        assert got.tolist() == [expected]


def test_relative_gap():
    assert relative_gap(-7.0, -8.0) == pytest.approx(1 / 7)
    assert relative_gap(-8.0, -8.0) == 0.0
    assert relative_gap(5e-8, 0.0) == 0.0  # within ten cents ($M)


def knapsack() -> MatrixForm:
    """max 10x − 3y, x ≤ 1.5y, x ≤ 1: the relaxation takes y = 2/3 (value 8); with y = 1 the
    best is x = 1 (value 7), with y = 0 it is 0. Rounding y to 1 is 1/7 ≈ 14 % short."""
    return two_columns([([1.0, -1.5], -np.inf, 0.0)], value=(10.0, -3.0), x_ub=1.0)


def test_a_rounding_short_of_the_gap_goes_to_the_milp():
    mf = knapsack()
    backend = make_backend("highs", SolverOptions(mip_rel_gap=1e-4))
    sol, lp, solves = solve_with_integers(backend, mf, phase_of(mf), 1e-4)
    names = [s.phase for s in solves]
    assert names == ["value_relaxation", "value_fixed_integers", "value", "value_fixed_integers"]
    assert solves[0].objective == pytest.approx(-8.0)
    assert sol.x.tolist() == pytest.approx([1.0, 1.0])
    assert lp.objective == pytest.approx(-7.0) and lp.row_dual is not None


def test_a_rounding_within_the_gap_is_accepted_without_a_milp():
    mf = knapsack()
    backend = make_backend("highs", SolverOptions(mip_rel_gap=0.2))
    sol, lp, solves = solve_with_integers(backend, mf, phase_of(mf), 0.2)
    assert [s.phase for s in solves] == ["value_relaxation", "value_fixed_integers"]
    assert sol is lp and sol.objective == pytest.approx(-7.0)
    assert sol.mip_gap == pytest.approx(1 / 7)
    assert solves[-1].mip_gap == pytest.approx(1 / 7)  # what the plan reports as its MIP gap


def phases_of(portfolio) -> list[str]:
    m = build_model(build_index(portfolio))
    run = solve_plan(m, to_matrix(m), make_backend("highs"))
    return [p.phase for p in run.plan.phases], run


def test_a_met_minimum_is_rounded_and_not_branched():
    # H wants at least 40 MW and the site converts 50: the relaxation hosts 50 MW with
    # commit anywhere in [0.5, 1.25]; rounding to 1 keeps both rows, so no MILP is solved
    names, run = phases_of(tiny(contracts__0__min_it_mw=40))
    assert names == ["value_relaxation", "value_fixed_integers", "keep_btc"]
    assert run.plan.phases[1].mip_gap == 0.0  # the rounding reaches the relaxation's bound
    m = run.model
    assert run.plan.x[m.host[0]] == pytest.approx(50.0)
    assert run.plan.x[m.commit[0]] == 1.0


def test_an_unmet_minimum_falls_back_to_the_milp():
    # H wants at least 60 MW of 100, the site converts 50: the relaxation hosts 50 MW with
    # commit in [0.5, 0.83], neither 0 nor 1 keeps its rows; the MILP declines H
    names, run = phases_of(tiny(contracts__0__min_it_mw=60, contracts__0__max_it_mw=100))
    assert names == ["value_relaxation", "value", "value_fixed_integers", "keep_btc"]
    m = run.model
    assert run.plan.x[m.host[0]] == pytest.approx(0.0, abs=1e-9)
    assert run.plan.x[m.commit[0]] == 0.0
    # the fixed-integer LP has duals for the shadow prices
    assert run.plan.duals_from.row_dual is not None


def test_the_plan_reports_its_mip_gap_only_with_integers():
    assert plan_portfolio(tiny(contracts__0__min_it_mw=40)).mip_gap == 0.0
    assert plan_portfolio(tiny()).mip_gap is None
