"""Site economics of issue 15 (siteA): self-run GPU cloud contracts, mining's flexibility credits,
AI halls' firm-load charges, and tenant prepayment only on MW a new build provides.

Hooked into the builder (optimizer/build.py) at four points: ``add_site_variables`` (after the
other columns), ``add_site_flows`` (at the end of ``cash_flow_pairs``, so cash and value share
every flow), ``terminal_musd_per_mw`` (beside the index's terminal value of a contract) and the
two constraint families ``prepaid_within_host`` and ``prepaid_capacity``. With none of the new
fields set there are no new columns and rows and every new flow is empty; the math is in
docs/model.md ("Site economics").

A cloud contract's revenue needs no code here: the index turns it into the contract's monthly
$/kW rate (``contract_rate_usd_per_kw_month``), so rent, its terminal value and the contracts
table read it like a colocation rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pulp

from realloc.optimizer.index import USD_PER_MUSD, ModelIndex
from realloc.optimizer.model import Model

SITE_TERMS = (
    "curtailment_credit_usd",
    "firm_load_charge_usd",
    "gpu_capex_usd",
    "gpu_residual_usd",
)
"""Objective terms of this module (cash and value), each signed as it adds to value."""


@dataclass(frozen=True)
class SiteCoefs:
    """Per-site and per-pair figures of the new terms, prepared once per model."""

    credit_usd_per_mw_month: np.ndarray  # [S] credit × enrolled share
    firm_usd_per_it_mw_month: np.ndarray  # [S] 1000 · η_s · firm-load charge
    gpu_capex_usd_per_mw: np.ndarray  # [K] 0 for colocation
    gpu_residual_usd_per_mw: np.ndarray  # [K] residual share × GPU capex
    host_new: dict[int, int]  # pair index → column of the MW a new build provides

    @property
    def any_flows(self) -> bool:
        """Whether any of the terms can be non-zero (else ``add_site_flows`` adds nothing)."""
        return bool(
            self.credit_usd_per_mw_month.any()
            or self.firm_usd_per_it_mw_month.any()
            or self.gpu_capex_usd_per_mw.any()
        )


def site_coefs(ix: ModelIndex) -> SiteCoefs:
    """The figures of ``SiteCoefs`` read from the portfolio (no columns)."""
    p = ix.portfolio
    cloud = [c.kind == "cloud" for c in p.contracts]
    capex = np.array(
        [
            c.gpu_capex_usd_per_it_mw if cl else 0.0
            for c, cl in zip(p.contracts, cloud, strict=True)
        ],
        dtype=float,
    )
    residual = np.array([c.gpu_residual_share or 0.0 for c in p.contracts], dtype=float) * capex
    return SiteCoefs(
        credit_usd_per_mw_month=np.array(
            [s.curtailment_credit_usd_per_mw_month * s.curtailment_enrolled_share for s in p.sites],
            dtype=float,
        ),
        firm_usd_per_it_mw_month=1000
        * ix.ai_pue
        * np.array([s.firm_load_charge_usd_per_kw_month for s in p.sites], dtype=float),
        gpu_capex_usd_per_mw=capex,
        gpu_residual_usd_per_mw=residual,
        host_new={},
    )


def prepaid_pairs(ix: ModelIndex) -> list[int]:
    """Pairs whose tenant prepays capex in some month of the horizon (they get ``host_new``)."""
    return [
        i
        for i, (s, k) in enumerate(ix.pairs)
        if ix.contract_tenant_capex_share[k] > 0 and ix.tenant_prepay_months(s, k)
    ]


def add_site_variables(m: Model) -> None:
    """``host_new[s,k] ∈ [0, M_k]``: MW of contract k at site s that a new build provides (only
    for pairs with a tenant prepayment inside the horizon), and the coefficients of the terms."""
    coefs = site_coefs(m.index)
    for i in prepaid_pairs(m.index):
        s, k = m.index.pairs[i]
        up = m.col_ub[int(m.host[i])]
        coefs.host_new[i] = m.var(f"host_new_{s}_{k}", 0.0, up)
    m.site_coefs = coefs


def add_prepaid_within_host(m: Model) -> None:
    """host_new[s,k] ≤ host[s,k]: the MW a new build provides are some of the MW hosted."""
    for i, col in m.site_coefs.host_new.items():
        s, k = m.index.pairs[i]
        pairs = {col: 1.0, int(m.host[i]): -1.0}
        m.row("prepaid_within_host", (s, k), pairs, pulp.LpConstraintLE, 0.0)


def add_prepaid_capacity(m: Model) -> None:
    """Σ_{k active at t} host_new[s,k] ≤ cum_build[s, t−L_s]: MW that earn a prepayment are
    served from halls built in the plan (ready by t), never from existing ones (E_s)."""
    ix = m.index
    at_site: dict[int, list[int]] = {}
    for i in m.site_coefs.host_new:
        at_site.setdefault(ix.pairs[i][0], []).append(i)
    for s, plist in at_site.items():
        lead = int(ix.lead_months[s])
        for t in range(ix.n_months):
            pairs = {
                m.site_coefs.host_new[i]: 1.0
                for i in plist
                if ix.contract_active[ix.pairs[i][1], t]
            }
            if not pairs:
                continue
            built = m.cum(s, t - lead)
            if built >= 0:
                pairs[built] = -1.0
            m.row("prepaid_capacity", (s, t), pairs, pulp.LpConstraintLE, 0.0)


def add_site_flows(m: Model, t: int, w: int, terms: dict[str, dict[int, float]]) -> None:
    """Month t's flows of the new terms ($M per unit of each column), into ``terms``:

    - curtailment credit ``credit_s · share_s · mine[g,t,ω]`` (running mining MW, wall power);
    - firm-load charge ``−1000 · η_s · charge_s · host[s,k]`` while k is active and does not
      pass power through;
    - GPU capex ``−capex_k · host[s,k]`` in the start month a_k; GPU residual
      ``share_k · capex_k · host[s,k]`` in the term's last month a_k + n_k − 1.
    """
    ix, c = m.index, m.site_coefs
    if not c.any_flows:
        return
    credit = terms["curtailment_credit_usd"]
    for g in range(len(ix.groups)):
        rate = c.credit_usd_per_mw_month[int(ix.group_site[g])]
        if rate:
            credit[int(m.mine[w, g, t])] = rate / USD_PER_MUSD
    for i, (s, k) in enumerate(ix.pairs):
        col = int(m.host[i])
        firm = c.firm_usd_per_it_mw_month[s]
        if firm and ix.contract_active[k, t] and not ix.contract_pass_through[k]:
            terms["firm_load_charge_usd"][col] = -firm / USD_PER_MUSD
        if c.gpu_capex_usd_per_mw[k] and t == int(ix.contract_start[k]):
            terms["gpu_capex_usd"][col] = -c.gpu_capex_usd_per_mw[k] / USD_PER_MUSD
        if c.gpu_residual_usd_per_mw[k] and t == int(ix.contract_end[k]) - 1:
            terms["gpu_residual_usd"][col] = c.gpu_residual_usd_per_mw[k] / USD_PER_MUSD


def terminal_musd_per_mw(ix: ModelIndex, s: int, k: int) -> float:
    """What the new terms add to a contract's terminal value per MW, $M (0 when TV is off):
    the GPU residual when the term ends after the horizon (discounted at its last month), less
    the firm-load charge of each month after the horizon (without pass-through)."""
    if not ix.portfolio.terminal_value or int(ix.contract_end[k]) <= ix.n_months:
        return 0.0
    c = site_coefs(ix)
    total = 0.0
    last = int(ix.contract_end[k]) - 1
    if c.gpu_residual_usd_per_mw[k]:
        r = ix.portfolio.discount_rate_per_year
        total += c.gpu_residual_usd_per_mw[k] * (1 + r) ** (-(last + 1) / 12)
    firm = c.firm_usd_per_it_mw_month[s]
    if firm and not ix.contract_pass_through[k]:
        total -= firm * sum(discount for _, _, discount in ix._tail_months(k))
    return total / USD_PER_MUSD


def _site_sums(m: Model, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per site, expected over scenarios and undiscounted over the horizon: the curtailment
    credit earned and the firm-load charge paid (USD) by solution ``x`` of ``m``."""
    ix, c = m.index, m.site_coefs
    S, prob = len(ix.sites), ix.probability
    credit, firm = np.zeros(S), np.zeros(S)
    for g in range(len(ix.groups)):
        s = int(ix.group_site[g])
        running = prob @ x[m.mine[:, g, :]].sum(axis=1)  # Σ_t E[mine[g,t]]
        credit[s] += c.credit_usd_per_mw_month[s] * running
    for i, (s, k) in enumerate(ix.pairs):
        if not ix.contract_pass_through[k]:
            months = int(ix.contract_active[k].sum())
            firm[s] += c.firm_usd_per_it_mw_month[s] * months * x[int(m.host[i])]
    return credit, firm


def flexibility_by_site(m: Model, x: np.ndarray, baseline_x: np.ndarray | None) -> list[dict]:
    """The flexibility value the plan gives up at each site with a curtailment credit or a
    firm-load charge (none: an empty list), against the status quo, undiscounted over the
    horizon and expected over scenarios: credit lost on the mining MW the plan no longer runs
    (status quo's credit − the plan's) plus the firm-load charges the plan pays beyond the
    status quo's."""
    ix, c = m.index, m.site_coefs
    sites = np.flatnonzero((c.credit_usd_per_mw_month > 0) | (c.firm_usd_per_it_mw_month > 0))
    if not len(sites) or baseline_x is None:
        return []
    credit, firm = _site_sums(m, x)
    credit0, firm0 = _site_sums(m, baseline_x)
    return [
        {
            "site": ix.sites[s],
            "credit_status_quo_usd": round(float(credit0[s]), 2),
            "credit_plan_usd": round(float(credit[s]), 2),
            "firm_load_charge_status_quo_usd": round(float(firm0[s]), 2),
            "firm_load_charge_plan_usd": round(float(firm[s]), 2),
            "given_up_usd": round(float(credit0[s] - credit[s] + firm[s] - firm0[s]), 2),
        }
        for s in sites.tolist()
    ]
