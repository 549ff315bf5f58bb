"""The built model's container: columns and rows as flat lists, the column indices of each
family, and the value terms (optimizer/build.py fills it; the constraint families of
build.py, financing.py, financing_rows.py, site_terms.py and grid_terms.py add to it).

Its own module so that the families outside build.py can name the model without importing the
builder that imports them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import pulp

from realloc.models.scenarios import RiskSpec
from realloc.optimizer.index import ModelIndex

INF = float("inf")


@dataclass
class TermVector:
    """A linear value term for one scenario: sum of coefs × columns, in $M, discounted."""

    cols: np.ndarray
    coefs: np.ndarray

    def value(self, x: np.ndarray) -> float:
        return float(self.coefs @ x[self.cols]) if len(self.cols) else 0.0


@dataclass
class Model:
    """A built model: its columns and rows as flat lists (what ``to_matrix`` hands the solvers),
    index arrays per family, and the same model as a PuLP problem on demand (``prob``).

    ``var`` and ``row`` record names, bounds and (column, coefficient) pairs; ``prob`` turns
    them into ``LpVariable``/``LpConstraint`` objects with the same names, in the same order,
    the first time it is asked for. Solving never needs it, and a PuLP object per column and
    row would cost more than the rest of the build, so it is only made for a caller who asks.
    """

    index: ModelIndex
    relax: bool
    risk: RiskSpec | None = None
    objective_without: frozenset[str] = frozenset()
    """Value terms left out of the objective (still in ``terms``: the plan's value counts them)."""
    # columns in creation order
    col_names: list[str] = field(default_factory=list)
    col_lb: list[float] = field(default_factory=list)
    col_ub: list[float] = field(default_factory=list)
    col_integer: list[bool] = field(default_factory=list)
    # rows in creation order (CSR): row i holds row_cols/row_coefs[row_start[i]:row_start[i+1]]
    row_names: list[str] = field(default_factory=list)
    row_start: list[int] = field(default_factory=lambda: [0])
    row_cols: list[int] = field(default_factory=list)
    row_coefs: list[float] = field(default_factory=list)
    row_sense: list[int] = field(default_factory=list)
    row_rhs: list[float] = field(default_factory=list)
    objective: np.ndarray | None = None  # [n] value coefficients ($M), maximized
    # column indices per family (-1 where a variable does not exist)
    build: np.ndarray = None  # [S, T]
    cum_build: np.ndarray = None  # [S, T] (column of cumulative starts by month, capped at Tb)
    host: np.ndarray = None  # [P]
    commit: dict[int, int] = field(default_factory=dict)  # contract -> column
    rigs_sold: np.ndarray = None  # [G, T]
    fleet: np.ndarray = None  # [G, T]
    mine: np.ndarray = None  # [W, G, T]
    sold: np.ndarray = None  # [W, T]
    held: np.ndarray = None  # [W, T]
    cash: np.ndarray = None  # [W, T]
    gap: np.ndarray = None  # [W, T]
    eta: int = -1  # CVaR threshold η ($M), with a risk spec
    shortfall: np.ndarray = None  # [W] u_ω = (η − V_ω)⁺, with a risk spec
    grid_kept: np.ndarray = None  # [S, T] grid MW held (optimizer/grid_terms.py)
    grid_sold: np.ndarray = None  # [S, T] grid MW released in the month
    blocks: np.ndarray = None  # [S, T] hall blocks started (integer)
    terms: dict[str, list[TermVector]] = field(default_factory=dict)
    site_coefs: object = None  # issue 15's site terms: site_terms.SiteCoefs (host_new columns)
    fin: object = None  # financing columns (optimizer/financing.py), None without financing
    row_family: list[str] = field(default_factory=list)
    row_key: list[tuple] = field(default_factory=list)
    flow_cache: dict[tuple[int, int], dict[str, dict[int, float]]] = field(
        default_factory=dict, repr=False
    )
    """``cash_flow_pairs`` by (month, scenario): asked by the value terms, the cash balance and
    the cash-flow tables of the plan and the status quo."""

    @property
    def n_cols(self) -> int:
        return len(self.col_names)

    def var(
        self,
        name: str,
        low: float | None = 0.0,
        up: float | None = None,
        cat: str = pulp.LpContinuous,
    ) -> int:
        """Add a column (``None`` bounds are infinite); return its index."""
        self.col_names.append(name)
        self.col_lb.append(-INF if low is None else float(low))
        self.col_ub.append(INF if up is None else float(up))
        self.col_integer.append(cat == pulp.LpInteger)
        return len(self.col_names) - 1

    def row(self, family: str, key: tuple, pairs: dict[int, float], sense: int, rhs: float) -> None:
        """Add one row named ``family_<key>`` from a {column: coefficient} dict (zero
        coefficients are recorded here and dropped by ``to_matrix`` and ``prob``)."""
        self.row_cols.extend(pairs)
        self.row_coefs.extend(pairs.values())
        self.row_start.append(len(self.row_cols))
        self.row_sense.append(sense)
        self.row_rhs.append(rhs)
        self.row_names.append(family + "_" + "_".join(map(str, key)))
        self.row_family.append(family)
        self.row_key.append(key)

    @property
    def prob(self) -> pulp.LpProblem:
        """The model as a PuLP problem (maximize value), built from the recorded columns and
        rows the first time it is asked for: same names, bounds, coefficients and order."""
        return self._pulp[0]

    @property
    def columns(self) -> list[pulp.LpVariable]:
        """The PuLP problem's variables in column order (``columns[j].index == j``)."""
        return self._pulp[1]

    @functools.cached_property
    def _pulp(self) -> tuple[pulp.LpProblem, list[pulp.LpVariable]]:
        prob = pulp.LpProblem("realloc", pulp.LpMaximize)
        cols = []
        for j, name in enumerate(self.col_names):
            lb, ub = self.col_lb[j], self.col_ub[j]
            v = prob.add_variable(
                name,
                None if lb == -INF else lb,
                None if ub == INF else ub,
                pulp.LpInteger if self.col_integer[j] else pulp.LpContinuous,
            )
            v.index = j
            cols.append(v)
        start = self.row_start
        for i, name in enumerate(self.row_names):
            a, b = start[i], start[i + 1]
            pairs = zip(self.row_cols[a:b], self.row_coefs[a:b], strict=True)
            expr = pulp.LpAffineExpression([(cols[j], c) for j, c in pairs if c != 0.0])
            prob.addConstraint(pulp.LpConstraint(expr, self.row_sense[i], name, self.row_rhs[i]))
        if self.objective is not None:
            nz = np.flatnonzero(self.objective)
            prob.setObjective(
                pulp.LpAffineExpression([(cols[j], float(self.objective[j])) for j in nz.tolist()])
            )
        return prob, cols

    def cash_flows(self, t: int, w: int) -> dict[str, dict[int, float]]:
        """Month t's cash flows by term in scenario w (build.cash_flow_pairs), for the families
        that read them (financing) and the funding table: every (t, w) is computed once by
        build.collect_value_terms, before any constraint family is added."""
        return self.flow_cache[(t, w)]

    @functools.cached_property
    def prepay_months(self) -> list[frozenset[int]]:
        """Per eligible pair, the months its tenant's capex prepayment arrives (computed once:
        every month's cash row and objective asks)."""
        return [frozenset(self.index.tenant_prepay_months(s, k)) for s, k in self.index.pairs]

    def cum(self, s: int, t: int) -> int:
        """Column of IT MW started at site s by month t (-1 before month 0 or without builds)."""
        if t < 0:
            return -1
        return int(self.cum_build[s, min(t, self.index.n_months - 1)])
