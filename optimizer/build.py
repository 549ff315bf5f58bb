"""Build the reallocation model as arrays: columns, one ``add_<family>`` function per
constraint family of ``docs/model.md``, and the objective as a dict of named terms.

The builder records every column (name, bounds, integrality) and every row (a sparse list of
(column, coefficient) pairs, a sense and a right-hand side) in flat lists; ``to_matrix``
(optimizer/matrix.py) turns them into the CSR arrays that HiGHS is handed in memory. PuLP is
not on that path: it is the CBC backend's modelling layer (optimizer/solvers.py builds a PuLP
problem from the arrays) and an export — ``Model.prob`` gives the same model as a PuLP problem,
same names and order, to inspect, write out (``writeLP``/``writeMPS``) or extend.

Money is in $M inside the model (solvers hold their tolerances best with coefficients near 1);
power in MW; BTC in BTC. Rows are built from the index's precomputed tuples, with no loops over
impossible combinations (a contract at a site it is not eligible for, a build that could not be
ready inside the horizon).
"""

from __future__ import annotations

import numpy as np
import pulp

from realloc.models.scenarios import RiskSpec
from realloc.optimizer import site_terms
from realloc.optimizer.financing import (
    FINANCING_TERMS,
    add_financing_variables,
    financing_cash_terms,
    financing_principal_pairs,
    financing_value_only,
)
from realloc.optimizer.financing_rows import (
    add_btc_loan_balance,
    add_debt_service_coverage,
    add_equity_programme,
    add_loan_to_cost,
    add_loan_to_value,
    add_note_issue,
    add_project_loan_balance,
)
from realloc.optimizer.grid_terms import (
    GRID_TERMS,
    add_build_blocks,
    add_grid_kept,
    add_grid_variables,
    grid_flows,
    site_power_grid,
)
from realloc.optimizer.index import USD_PER_MUSD, ModelIndex
from realloc.optimizer.model import Model, TermVector
from realloc.optimizer.site_terms import add_prepaid_capacity, add_prepaid_within_host

OBJECTIVE_TERMS = (
    "mining_revenue_usd",
    "mining_power_usd",
    "mining_opex_usd",
    "rig_proceeds_usd",
    "ai_revenue_usd",
    "ai_power_usd",
    "ai_opex_usd",
    "capex_usd",
    "tenant_capex_usd",
    "btc_sale_cost_usd",
    "terminal_value_usd",
    "fleet_salvage_usd",
    *site_terms.SITE_TERMS,
    *GRID_TERMS,
    *FINANCING_TERMS,
)
"""Names of the value terms; each is signed as it adds to value (costs are negative)."""

EXPECTED_WEIGHT_FLOOR = 1e-6
"""Weight kept on expected value when the CVaR weight is 1: pure CVaR is indifferent to every
scenario outside the tail, and this tie-break stops it from leaving value there on the table."""


def _add(pairs: dict[int, float], col: int, coef: float) -> None:
    if col >= 0:
        pairs[col] = pairs.get(col, 0.0) + coef


def add_variables(m: Model) -> None:
    """Create every column; bounds carry the simple limits (market depth, floors, signed MW)."""
    ix = m.index
    p = ix.portfolio
    S, T, G, W = len(ix.sites), ix.n_months, len(ix.groups), len(ix.scenarios)
    m.build = np.full((S, T), -1, dtype=int)
    m.cum_build = np.full((S, T), -1, dtype=int)
    for s in ix.conv_sites:
        last = T - 1 - int(ix.lead_months[s])  # a build must be ready inside the horizon
        for t in range(last + 1):  # the room left to convert is conversion_limit's row
            m.build[s, t] = m.var(f"build_{s}_{t}")
            m.cum_build[s, t] = m.var(f"cum_build_{s}_{t}")
        if last >= 0:
            m.cum_build[s, last + 1 :] = m.cum_build[s, last]
    m.host = np.empty(len(ix.pairs), dtype=int)
    for i, (s, k) in enumerate(ix.pairs):
        signed = ix.pair_signed_mw[i]
        if np.isnan(signed):
            m.host[i] = m.var(f"host_{s}_{k}", 0.0, float(ix.contract_max_it_mw[k]))
        else:
            m.host[i] = m.var(f"host_{s}_{k}", float(signed), float(signed))
    if not m.relax:
        for k in range(len(ix.contracts)):
            if ix.contract_min_it_mw[k] > 0 and not ix.contract_signed[k]:
                m.commit[k] = m.var(f"commit_{k}", 0, 1, pulp.LpInteger)
    m.rigs_sold = np.array(
        [[m.var(f"rigs_sold_{g}_{t}") for t in range(T)] for g in range(G)], dtype=int
    ).reshape(G, T)
    m.fleet = np.array(
        [[m.var(f"fleet_{g}_{t}") for t in range(T)] for g in range(G)], dtype=int
    ).reshape(G, T)
    m.mine = np.array(
        [[[m.var(f"mine_{g}_{t}_{w}") for t in range(T)] for g in range(G)] for w in range(W)],
        dtype=int,
    ).reshape(W, G, T)
    tr = p.treasury
    m.sold = np.array(
        [
            [m.var(f"sold_{t}_{w}", 0.0, tr.max_btc_sold_per_month) for t in range(T)]
            for w in range(W)
        ],
        dtype=int,
    )
    m.held = np.array(
        [[m.var(f"held_{t}_{w}", tr.min_btc) for t in range(T)] for w in range(W)], dtype=int
    )
    m.cash = np.array(
        [
            [m.var(f"cash_{t}_{w}", tr.min_cash_usd / USD_PER_MUSD) for t in range(T)]
            for w in range(W)
        ],
        dtype=int,
    )
    # elastic funding gap: closed (upper bound 0) unless the plan cannot be funded
    m.gap = np.array(
        [[m.var(f"gap_{t}_{w}", 0.0, 0.0) for t in range(T)] for w in range(W)], dtype=int
    )
    if m.risk is not None:
        m.eta = m.var("cvar_eta", None, None)
        m.shortfall = np.array([m.var(f"cvar_shortfall_{w}") for w in range(W)], dtype=int)


def add_build_cumulative(m: Model) -> None:
    """cum_build[s,t] = cum_build[s,t−1] + build[s,t]: IT MW whose conversion has started."""
    ix = m.index
    for s in ix.conv_sites:
        for t in range(ix.n_months):
            if m.build[s, t] < 0:
                break
            pairs = {int(m.cum_build[s, t]): 1.0, int(m.build[s, t]): -1.0}
            if t > 0:
                pairs[int(m.cum_build[s, t - 1])] = -1.0
            m.row("build_cumulative", (s, t), pairs, pulp.LpConstraintEQ, 0.0)


def add_conversion_limit(m: Model) -> None:
    """E_s + Σ_t build[s,t] ≤ X_s."""
    ix = m.index
    for s in ix.conv_sites:
        col = m.cum(s, ix.n_months - 1)
        if col >= 0:
            m.row(
                "conversion_limit",
                (s,),
                {col: 1.0},
                pulp.LpConstraintLE,
                float(ix.max_it_mw[s] - ix.existing_it_mw[s]),
            )


def add_fleet_balance(m: Model) -> None:
    """fleet[g,t] = W_g − Σ_{τ≤t} rigs_sold[g,τ] (kept as a stock: fleet ≥ 0 is its bound)."""
    ix = m.index
    for g in range(len(ix.groups)):
        for t in range(ix.n_months):
            pairs = {int(m.fleet[g, t]): 1.0, int(m.rigs_sold[g, t]): 1.0}
            if t > 0:
                pairs[int(m.fleet[g, t - 1])] = -1.0
            rhs = float(ix.group_power_mw[g]) if t == 0 else 0.0
            m.row("fleet_balance", (g, t), pairs, pulp.LpConstraintEQ, rhs)


def add_fleet_limit(m: Model) -> None:
    """mine[g,t,ω] ≤ α_s · fleet[g,t]."""
    ix = m.index
    for w in range(len(ix.scenarios)):
        for g in range(len(ix.groups)):
            alpha = float(ix.availability[ix.group_site[g]])
            for t in range(ix.n_months):
                m.row(
                    "fleet_limit",
                    (g, t, w),
                    {int(m.mine[w, g, t]): 1.0, int(m.fleet[g, t]): -alpha},
                    pulp.LpConstraintLE,
                    0.0,
                )


def add_site_power(m: Model) -> None:
    """μ_s · Σ_{g∈s} mine[g,t,ω] + η_s · (ready[s,t] + constructing[s,t]) ≤ P_s
    (P_s − Σ_{τ≤t} grid_sold[s,τ] where the grid can be sold: grid_terms.site_power_grid)."""
    ix = m.index
    groups_at = [np.flatnonzero(ix.group_site == s) for s in range(len(ix.sites))]
    for w in range(len(ix.scenarios)):
        for s in range(len(ix.sites)):
            mu, eta = float(ix.mining_pue[s]), float(ix.ai_pue[s])
            rhs = float(ix.grid_mw[s] - eta * ix.existing_it_mw[s])
            for t in range(ix.n_months):
                pairs = {int(m.mine[w, g, t]): mu for g in groups_at[s]}
                _add(pairs, m.cum(s, t), eta)
                row_rhs = site_power_grid(m, s, t, pairs, rhs)
                if pairs:
                    m.row("site_power", (s, t, w), pairs, pulp.LpConstraintLE, row_rhs)


def add_hosting_capacity(m: Model) -> None:
    """Σ_{k active at t} host[s,k] ≤ ready[s,t] = E_s + Σ_{τ ≤ t−L_s} build[s,τ]."""
    ix = m.index
    pairs_at: dict[int, list[int]] = {}
    for i, (s, _) in enumerate(ix.pairs):
        pairs_at.setdefault(s, []).append(i)
    for s, plist in pairs_at.items():
        lead = int(ix.lead_months[s])
        for t in range(ix.n_months):
            pairs = {int(m.host[i]): 1.0 for i in plist if ix.contract_active[ix.pairs[i][1], t]}
            if not pairs:
                continue
            _add(pairs, m.cum(s, t - lead), -1.0)
            m.row(
                "hosting_capacity", (s, t), pairs, pulp.LpConstraintLE, float(ix.existing_it_mw[s])
            )


def add_contract_size(m: Model) -> None:
    """Σ_s host[s,k] ≤ M_k (× commit[k] when the contract has a minimum)."""
    ix = m.index
    for k in range(len(ix.contracts)):
        if ix.contract_signed[k]:
            continue
        pairs = {int(m.host[i]): 1.0 for i, (_, kk) in enumerate(ix.pairs) if kk == k}
        if not pairs:
            continue
        rhs = float(ix.contract_max_it_mw[k])
        if k in m.commit:
            pairs[m.commit[k]] = -rhs
            rhs = 0.0
        m.row("contract_size", (k,), pairs, pulp.LpConstraintLE, rhs)


def add_min_commitment(m: Model) -> None:
    """Σ_s host[s,k] ≥ m_k · commit[k]: all-or-nothing minimums (dropped by ``--relax``)."""
    ix = m.index
    for k, col in m.commit.items():
        pairs = {int(m.host[i]): 1.0 for i, (_, kk) in enumerate(ix.pairs) if kk == k}
        pairs[col] = -float(ix.contract_min_it_mw[k])
        m.row("min_commitment", (k,), pairs, pulp.LpConstraintGE, 0.0)


def add_btc_balance(m: Model) -> None:
    """held[t] = held[t−1] + mined[t] − sold[t], held[−1] = B_0."""
    ix = m.index
    btc = ix.btc_per_mw_month()  # [W, G, T]
    b0 = float(ix.portfolio.treasury.btc)
    for w in range(len(ix.scenarios)):
        for t in range(ix.n_months):
            pairs = {int(m.held[w, t]): 1.0, int(m.sold[w, t]): 1.0}
            if t > 0:
                pairs[int(m.held[w, t - 1])] = -1.0
            for g in range(len(ix.groups)):
                pairs[int(m.mine[w, g, t])] = -float(btc[w, g, t])
            m.row("btc_balance", (t, w), pairs, pulp.LpConstraintEQ, b0 if t == 0 else 0.0)


def cash_flow_pairs(m: Model, t: int, w: int) -> dict[str, dict[int, float]]:
    """Month t's cash flows by objective term, as {column: $M per unit}; signed as value.

    Shared by the cash balance (undiscounted) and the objective (discounted): one definition
    of every flow, so cash and value cannot disagree. Computed once per (t, w) and kept in
    ``m.flow_cache``: callers must not modify the dicts.
    """
    cached = m.flow_cache.get((t, w))
    if cached is not None:
        return cached
    ix = m.index
    hours = float(ix.hours[t])
    terms: dict[str, dict[int, float]] = {name: {} for name in OBJECTIVE_TERMS}
    for g in range(len(ix.groups)):
        s = int(ix.group_site[g])
        price = float(ix.power_price_usd_per_mwh[s, t])
        terms["mining_power_usd"][int(m.mine[w, g, t])] = (
            -ix.mining_pue[s] * price * hours / USD_PER_MUSD
        )
        terms["mining_opex_usd"][int(m.fleet[g, t])] = (
            -ix.mining_opex_usd_per_mw_month[s] / USD_PER_MUSD
        )
        terms["rig_proceeds_usd"][int(m.rigs_sold[g, t])] = float(
            ix.resale_usd_per_th[g, t] / ix.group_efficiency_j_per_th[g]
        )
    for i, (s, k) in enumerate(ix.pairs):
        col = int(m.host[i])
        if ix.contract_active[k, t]:
            terms["ai_revenue_usd"][col] = 1000 * ix.contract_rate_usd_per_kw_month[k, t] / 1e6
            terms["ai_opex_usd"][col] = -1000 * ix.pair_ai_opex_usd_per_kw_month(s, k) / 1e6
            if not ix.contract_pass_through[k]:
                terms["ai_power_usd"][col] = (
                    -ix.ai_pue[s] * ix.power_price_usd_per_mwh[s, t] * hours / USD_PER_MUSD
                )
        share = ix.contract_tenant_capex_share[k]
        if share > 0 and t in m.prepay_months[i]:  # signed or offered alike, new-build MW only
            per_month = 1.0 / max(1, int(ix.lead_months[s]))
            terms["tenant_capex_usd"][m.site_coefs.host_new[i]] = (
                share * ix.capex_usd_per_it_mw[s] * per_month / USD_PER_MUSD
            )
    for s in ix.conv_sites:
        lead = max(1, int(ix.lead_months[s]))
        rate = float(ix.capex_usd_per_it_mw[s]) / lead / USD_PER_MUSD
        # capex[t] = C/L · (cum[t] − cum[t−L]): the builds started in the last L months
        now, before = m.cum(s, t), m.cum(s, t - lead)
        if now >= 0 and now != before:
            _add(terms["capex_usd"], now, -rate)
            _add(terms["capex_usd"], before, rate)
    site_terms.add_site_flows(m, t, w, terms)
    grid_flows(m, t, terms)
    financing_cash_terms(m, t, w, terms)
    m.flow_cache[(t, w)] = terms
    return terms


def add_cash_balance(m: Model) -> None:
    """cash[t] = cash[t−1] + ai_revenue − power − opex − capex + rig_proceeds + tenant capex
    + (1 − φ)·price·sold (+ elastic gap), cash[−1] = K_0; cash ≥ K_min is its bound."""
    ix = m.index
    tr = ix.portfolio.treasury
    phi = tr.sale_cost_bps / 1e4
    k0 = tr.cash_usd / USD_PER_MUSD
    for w in range(len(ix.scenarios)):
        for t in range(ix.n_months):
            pairs: dict[int, float] = {int(m.cash[w, t]): 1.0, int(m.gap[w, t]): -1.0}
            if t > 0:
                pairs[int(m.cash[w, t - 1])] = -1.0
            for name, flows in cash_flow_pairs(m, t, w).items():
                if name in ("mining_revenue_usd", "btc_sale_cost_usd"):
                    continue  # mining revenue reaches cash only through BTC sales
                for col, coef in flows.items():
                    _add(pairs, col, -coef)
            pairs[int(m.sold[w, t])] = -(1 - phi) * float(ix.btc_price_usd[w, t]) / USD_PER_MUSD
            for col, coef in financing_principal_pairs(m, t, w).items():
                _add(pairs, col, -coef)
            m.row("cash_balance", (t, w), pairs, pulp.LpConstraintEQ, k0 if t == 0 else 0.0)


def add_cvar_shortfall(m: Model) -> None:
    """u_ω ≥ η − V_ω, u_ω ≥ 0: how far scenario ω's value falls short of the threshold η
    (Rockafellar–Uryasev; only with a risk spec)."""
    if m.risk is None:
        return
    for w in range(len(m.index.scenarios)):
        pairs = {int(m.shortfall[w]): 1.0, m.eta: -1.0}
        for name in OBJECTIVE_TERMS:
            tv = m.terms[name][w]
            for col, coef in zip(tv.cols.tolist(), tv.coefs.tolist(), strict=True):
                _add(pairs, col, coef)
        m.row("cvar_shortfall", (w,), pairs, pulp.LpConstraintGE, 0.0)


def objective_coefficients(m: Model, risk_weight: float) -> np.ndarray:
    """Coefficients ($M) of (1 − λ)·Σ_ω π_ω V_ω + λ·(η − Σ_ω π_ω u_ω / (1 − α)).

    One definition for the built objective and for re-weighted solves (the efficient frontier
    re-solves the same rows with other λ). Without a risk spec, λ must be 0.
    """
    ix = m.index
    coefs = np.zeros(m.n_cols)
    expected_weight = max(1.0 - risk_weight, EXPECTED_WEIGHT_FLOOR) if risk_weight else 1.0
    for name in OBJECTIVE_TERMS:
        if name in m.objective_without:
            continue
        for w, tv in enumerate(m.terms[name]):
            np.add.at(coefs, tv.cols, expected_weight * float(ix.probability[w]) * tv.coefs)
    if risk_weight:
        if m.risk is None:
            raise ValueError("a CVaR weight needs a model built with a risk spec")
        coefs[m.eta] += risk_weight
        coefs[m.shortfall] -= risk_weight * ix.probability / (1.0 - m.risk.cvar_alpha)
    return coefs


def add_objective(m: Model) -> None:
    """maximize (1 − λ)·Σ_ω π_ω V_ω + λ·CVaR_α (λ = 0 without a risk spec)."""
    m.objective = objective_coefficients(m, m.risk.risk_weight if m.risk else 0.0)


def collect_value_terms(m: Model) -> None:
    """V_ω = Σ_t δ_t·(operating cash flows + mining revenue at the month's price)
    − Σ_t δ_t·φ·price·sold + TV, kept per term and scenario in ``m.terms``."""
    ix = m.index
    tr = ix.portfolio.treasury
    phi = tr.sale_cost_bps / 1e4
    revenue = ix.mining_revenue_usd_per_mw_month()  # [W, G, T]
    tv = np.array(
        [
            ix.terminal_value_musd_per_mw(s, k) + site_terms.terminal_musd_per_mw(ix, s, k)
            for s, k in ix.pairs
        ]
    )
    m.terms = {name: [] for name in OBJECTIVE_TERMS}
    for w in range(len(ix.scenarios)):
        acc: dict[str, dict[int, float]] = {name: {} for name in OBJECTIVE_TERMS}
        for t in range(ix.n_months):
            d = float(ix.discount[t])
            flows = dict(cash_flow_pairs(m, t, w))  # a copy: the pairs dicts are shared
            flows["mining_revenue_usd"] = {
                int(m.mine[w, g, t]): float(revenue[w, g, t]) / USD_PER_MUSD
                for g in range(len(ix.groups))
            }
            flows["btc_sale_cost_usd"] = {
                int(m.sold[w, t]): -phi * float(ix.btc_price_usd[w, t]) / USD_PER_MUSD
            }
            for name, pairs in flows.items():
                for col, coef in pairs.items():
                    _add(acc[name], col, d * coef)
        for i in range(len(ix.pairs)):
            _add(acc["terminal_value_usd"], int(m.host[i]), float(tv[i]))
        if ix.portfolio.terminal_value:
            # rigs still owned after the last month are worth their resale price then
            last = ix.n_months - 1
            for g in range(len(ix.groups)):
                _add(
                    acc["fleet_salvage_usd"],
                    int(m.fleet[g, last]),
                    float(
                        ix.discount[last]
                        * ix.salvage_usd_per_th[g]
                        / ix.group_efficiency_j_per_th[g]
                    ),
                )
        financing_value_only(m, w, acc)
        for name, pairs in acc.items():
            cols = np.fromiter(pairs.keys(), dtype=int, count=len(pairs))
            coefs = np.fromiter(pairs.values(), dtype=float, count=len(pairs))
            m.terms[name].append(TermVector(cols, coefs))


CONSTRAINT_FAMILIES = {
    "build_cumulative": add_build_cumulative,
    "conversion_limit": add_conversion_limit,
    "fleet_balance": add_fleet_balance,
    "fleet_limit": add_fleet_limit,
    "site_power": add_site_power,
    "hosting_capacity": add_hosting_capacity,
    "contract_size": add_contract_size,
    "min_commitment": add_min_commitment,
    "btc_balance": add_btc_balance,
    "cash_balance": add_cash_balance,
    "btc_loan_balance": add_btc_loan_balance,
    "loan_to_value": add_loan_to_value,
    "note_issue": add_note_issue,
    "project_loan_balance": add_project_loan_balance,
    "loan_to_cost": add_loan_to_cost,
    "debt_service_coverage": add_debt_service_coverage,
    "equity_programme": add_equity_programme,
    "cvar_shortfall": add_cvar_shortfall,
    "prepaid_within_host": add_prepaid_within_host,
    "prepaid_capacity": add_prepaid_capacity,
    "grid_kept": add_grid_kept,
    "build_blocks": add_build_blocks,
}
"""Row family name → the function that adds it (docs/model.md's table is tested against this)."""


def build_model(
    index: ModelIndex,
    relax: bool = False,
    risk: RiskSpec | None = None,
    objective_without: frozenset[str] = frozenset(),
) -> Model:
    """Build the full model for ``index``; ``relax`` drops the all-or-nothing minimums;
    ``risk`` adds the CVaR rows and weighs CVaR into the objective; ``objective_without``
    names value terms the objective ignores (a what-if: the decisions if they were not
    counted; the value reported still counts them)."""
    if objective_without and risk is not None:
        raise ValueError("objective_without is for plans without a CVaR weight")
    m = Model(index=index, relax=relax, risk=risk, objective_without=frozenset(objective_without))
    add_variables(m)
    add_grid_variables(m)  # grid kept/sold and hall blocks (optimizer/grid_terms.py)
    add_financing_variables(m)  # loans, notes, equity (optimizer/financing.py)
    site_terms.add_site_variables(m)  # host_new columns (issue 15), after every other column
    collect_value_terms(m)
    for add in CONSTRAINT_FAMILIES.values():
        add(m)
    add_objective(m)
    return m
