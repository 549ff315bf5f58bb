"""The arrays the solvers get and the PuLP problem ``Model.prob`` are the same model.

The builder records columns and rows as arrays and builds the PuLP problem only on demand;
reading that PuLP problem back (``from_pulp``) must give exactly the arrays ``to_matrix`` gives.
"""

from __future__ import annotations

import numpy as np
import pulp
import pytest

from benchmarks.synthetic import synthetic_portfolio
from realloc.inputs import load_portfolio
from realloc.inputs.examples import example_path
from realloc.models import Market
from realloc.models.scenarios import RiskSpec
from realloc.optimizer.build import build_model
from realloc.optimizer.index import Scenario, build_index
from realloc.optimizer.matrix import from_pulp, to_matrix
from tests.helpers import tiny


def two_paths(p):
    return [
        Scenario("boom", 0.5, Market(btc_price_usd=70_000, hashprice_usd_per_ph_day=60)),
        Scenario("bust", 0.5, p.market),
    ]


CASES = {
    "tiny with a minimum": lambda: build_model(build_index(tiny(contracts__0__min_it_mw=10))),
    "tiny relaxed": lambda: build_model(build_index(tiny(contracts__0__min_it_mw=10)), relax=True),
    "tiny, two paths, CVaR": lambda: build_model(
        build_index(tiny(), two_paths(tiny())), risk=RiskSpec(risk_weight=0.5)
    ),
    "bundled example": lambda: build_model(build_index(load_portfolio(example_path()))),
    "synthetic 5x36x5": lambda: build_model(build_index(synthetic_portfolio(5, 36, 5, 0))),
}


@pytest.mark.parametrize("case", list(CASES))
def test_pulp_problem_reads_back_as_the_solver_arrays(case):
    m = CASES[case]()
    arrays = to_matrix(m)
    assert isinstance(m.prob, pulp.LpProblem) and m.prob.sense == pulp.LpMaximize
    read = from_pulp(m.prob, m.columns)
    for name in ("value", "lb", "ub", "integer", "indptr", "indices", "data", "row_lo", "row_hi"):
        np.testing.assert_array_equal(getattr(read, name), getattr(arrays, name), err_msg=name)
    assert read.row_names == arrays.row_names
    assert read.col_names == arrays.col_names
    assert [v.index for v in m.columns] == list(range(arrays.n_cols))
    # every row and column is there, and something is in the matrix
    assert arrays.n_rows == len(m.row_family) > 0 and arrays.n_nonzeros > arrays.n_rows


def test_integer_columns_are_pulp_integers():
    m = build_model(build_index(tiny(contracts__0__min_it_mw=10)))
    (commit,) = m.commit.values()
    assert m.columns[commit].cat == pulp.LpInteger
    assert to_matrix(m).integer.sum() == 1
