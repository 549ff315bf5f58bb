"""The one HiGHS backend, fresh or reusing its models, and the one assembly of a phase's rows.

The hand-made LP has three columns x, y, z in [0, 10] and two rows: x + y ≤ 8 and y + z ≥ 2.
"""

from __future__ import annotations

import numpy as np
import pytest

from realloc.optimizer.highs import MAX_KEPT_MODELS
from realloc.optimizer.matrix import MatrixForm
from realloc.optimizer.solvers import ExtraRow, HighsBackend, Phase, make_backend, phase_rows


def three_columns() -> MatrixForm:
    return MatrixForm(
        value=np.array([1.0, 2.0, 0.5]),
        lb=np.zeros(3),
        ub=np.full(3, 10.0),
        integer=np.zeros(3, dtype=bool),
        indptr=np.array([0, 2, 4], dtype=np.int64),
        indices=np.array([0, 1, 1, 2], dtype=np.int32),
        data=np.array([1.0, 1.0, 1.0, 1.0]),
        row_lo=np.array([-np.inf, 2.0]),
        row_hi=np.array([8.0, np.inf]),
        row_names=["xy", "yz"],
        col_names=["x", "y", "z"],
    )


def maximize_value(mf: MatrixForm, extra: list[ExtraRow] | None = None, **kw) -> Phase:
    return Phase("value", -mf.value, mf.lb, mf.ub, mf.integer, list(extra or []), **kw)


Y_AT_MOST_3 = ExtraRow(np.array([1]), np.array([1.0]), -np.inf, 3.0)
Z_AT_LEAST_1 = ExtraRow(np.array([2]), np.array([2.0]), 2.0, np.inf)


def test_phase_rows_are_the_model_rows_with_overrides_then_the_extra_rows():
    mf = three_columns()
    phase = maximize_value(mf, [Y_AT_MOST_3, Z_AT_LEAST_1], row_lo=np.array([-np.inf, 5.0]))
    rows = phase_rows(mf, phase)
    assert rows.n_rows == 4
    assert rows.indptr.tolist() == [0, 2, 4, 5, 6]
    assert rows.indices.tolist() == [0, 1, 1, 2, 1, 2]
    assert rows.data.tolist() == [1.0, 1.0, 1.0, 1.0, 1.0, 2.0]
    assert rows.lo.tolist() == [-np.inf, 5.0, -np.inf, 2.0]  # the phase's override of row 1
    assert rows.hi.tolist() == [8.0, np.inf, 3.0, np.inf]
    assert rows.row_of_nonzero().tolist() == [0, 0, 1, 1, 2, 3]
    assert phase_rows(mf, maximize_value(mf)).lo.tolist() == mf.row_lo.tolist()


@pytest.mark.parametrize("backend", ["highs", "highs reusing", "cbc"])
def test_every_backend_solves_the_phase_rows_and_reports_duals_of_the_model_rows(backend):
    mf = three_columns()
    solver = make_backend(backend.split()[0], reuse=backend.endswith("reusing"))
    sol = solver.solve(mf, maximize_value(mf, [Y_AT_MOST_3]))
    # y ≤ 3 (extra row), x = 8 - y, z = 10: value 5 + 2·3 + 5 = 16
    assert sol.status == "optimal"
    assert sol.x == pytest.approx([5.0, 3.0, 10.0], abs=1e-9)
    assert sol.objective == pytest.approx(-16.0, abs=1e-9)
    assert len(sol.row_dual) == mf.n_rows  # not the extra row's
    assert sol.row_dual[0] == pytest.approx(-1.0, abs=1e-9)  # one more unit of x + y: x, +1


def test_a_reused_model_is_changed_in_place_and_gives_the_fresh_answer():
    mf = three_columns()
    reusing, fresh = HighsBackend(reuse=True), HighsBackend()
    for cost_y in (2.0, 0.5, 3.0):
        phase = maximize_value(mf, [Y_AT_MOST_3])
        phase.cost = np.array([-1.0, -cost_y, -0.5])
        reusing.new_plan()
        kept, cold = reusing.solve(mf, phase), fresh.solve(mf, phase)
        assert kept.status == cold.status == "optimal"
        assert kept.objective == pytest.approx(cold.objective, rel=1e-12)
        assert kept.x == pytest.approx(cold.x, abs=1e-12)
    assert (reusing.stats.fresh, reusing.stats.reused) == (1, 2)
    assert (fresh.stats.fresh, fresh.stats.reused) == (3, 0)
    assert fresh.kept_models == 0
    # another extra row changes the structure: the phase is passed afresh
    reusing.new_plan()
    reusing.solve(mf, maximize_value(mf, [Y_AT_MOST_3, Z_AT_LEAST_1]))
    assert (reusing.stats.fresh, reusing.stats.reused) == (2, 2)


def test_a_phase_without_an_optimal_answer_is_not_kept():
    mf = three_columns()
    backend = HighsBackend(reuse=True)
    infeasible = maximize_value(mf, [ExtraRow(np.array([1, 2]), np.ones(2), -np.inf, 1.0)])
    assert backend.solve(mf, infeasible).status == "infeasible"
    assert backend.kept_models == 0
    backend.new_plan()
    assert backend.solve(mf, maximize_value(mf, [Y_AT_MOST_3])).status == "optimal"
    assert (backend.stats.fresh, backend.stats.reused) == (2, 0)


def test_a_reusing_backend_keeps_a_bounded_number_of_models():
    # new_plan() never called: every solve is a new occurrence of the phase, so a new model
    mf = three_columns()
    backend = HighsBackend(reuse=True)
    for _ in range(MAX_KEPT_MODELS + 5):
        backend.solve(mf, maximize_value(mf))
    assert backend.kept_models == MAX_KEPT_MODELS
    backend.reset()
    assert backend.kept_models == 0
