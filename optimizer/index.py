"""The model index: every ordering and every coefficient decided once, before any row is built.

The builder only walks the tuples and arrays prepared here (sites, months, fleet groups, eligible
site×contract pairs, scenarios), so no constraint family loops over combinations that cannot
occur, and extraction and reporting read the same orderings.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass

import numpy as np

from realloc.models import Market, Portfolio, month_index, month_label

USD_PER_MUSD = 1e6
"""The LP counts money in $M so that HiGHS sees well-scaled coefficients."""


@dataclass(frozen=True)
class Scenario:
    """One market path with its probability."""

    name: str
    probability: float
    market: Market


def _series(values: float | list[float], months: int) -> np.ndarray:
    if isinstance(values, list):
        return np.asarray(values[:months], dtype=float)
    return np.full(months, float(values))


@dataclass(frozen=True)
class ModelIndex:
    """Orderings and per-month coefficients of one planning problem."""

    portfolio: Portfolio
    months: list[str]
    days: np.ndarray  # [T] calendar days
    hours: np.ndarray  # [T]
    discount: np.ndarray  # [T] end-of-month discount factor δ_t
    sites: list[str]
    grid_mw: np.ndarray  # [S]
    mining_pue: np.ndarray  # [S]
    availability: np.ndarray  # [S]
    mining_opex_usd_per_mw_month: np.ndarray  # [S]
    power_price_usd_per_mwh: np.ndarray  # [S, T]
    conv_sites: list[int]  # sites with a conversion section
    max_it_mw: np.ndarray  # [S] (0 without conversion)
    existing_it_mw: np.ndarray  # [S]
    capex_usd_per_it_mw: np.ndarray  # [S]
    lead_months: np.ndarray  # [S] int
    ai_pue: np.ndarray  # [S]
    ai_opex_usd_per_kw_month: np.ndarray  # [S]
    groups: list[str]
    group_site: np.ndarray  # [G] site index
    group_power_mw: np.ndarray  # [G]
    group_efficiency_j_per_th: np.ndarray  # [G]
    resale_usd_per_th: np.ndarray  # [G, T]
    salvage_usd_per_th: np.ndarray  # [G] resale price one month after the horizon
    contracts: list[str]
    contract_start: np.ndarray  # [K] month index a_k (may be < 0 for signed)
    contract_end: np.ndarray  # [K] first month after the term
    contract_rate_usd_per_kw_month: np.ndarray  # [K, T]  0 outside the term
    contract_active: np.ndarray  # [K, T] bool
    contract_max_it_mw: np.ndarray  # [K]
    contract_min_it_mw: np.ndarray  # [K]
    contract_signed: np.ndarray  # [K] bool
    contract_pass_through: np.ndarray  # [K] bool
    contract_tenant_capex_share: np.ndarray  # [K]
    contract_ai_opex_usd_per_kw_month: np.ndarray  # [K] a cloud's own (nan: the site's)
    pairs: list[tuple[int, int]]  # eligible (site, contract), site has a conversion section
    pair_signed_mw: np.ndarray  # [P] fixed MW for signed contracts (nan when not signed)
    scenarios: list[Scenario]
    probability: np.ndarray  # [W]
    btc_price_usd: np.ndarray  # [W, T]
    hashprice_usd_per_ph_day: np.ndarray  # [W, T]

    @property
    def n_months(self) -> int:
        return len(self.months)

    def ph_per_mw(self, g: int) -> float:
        """PH/s delivered by 1 MW of group g at full hash: 1 MW at e J/TH is 1000/e PH/s."""
        return 1000.0 / self.group_efficiency_j_per_th[g]

    def mining_revenue_usd_per_mw_month(self) -> np.ndarray:
        """[W, G, T]: $ earned (after pool fee) by 1 MW of each group running all month."""
        fee = 1.0 - self.portfolio.pool_fee_share
        ph = 1000.0 / self.group_efficiency_j_per_th  # [G]
        return (
            fee
            * ph[None, :, None]
            * self.days[None, None, :]
            * self.hashprice_usd_per_ph_day[:, None, :]
        )

    def btc_per_mw_month(self) -> np.ndarray:
        """[W, G, T]: BTC mined by 1 MW of each group running all month."""
        return self.mining_revenue_usd_per_mw_month() / self.btc_price_usd[:, None, :]

    def capex_share(self, s: int, start: int, t: int) -> float:
        """Share of a build started in month ``start`` that is paid in month ``t``.

        Capex is paid in equal parts over the lead-time months; all at once when L = 0.
        """
        lead = int(self.lead_months[s])
        if lead == 0:
            return 1.0 if t == start else 0.0
        return 1.0 / lead if start <= t < start + lead else 0.0

    def tenant_prepay_months(self, s: int, k: int) -> list[int]:
        """Months (inside the horizon) in which the tenant's capex prepayment arrives.

        Evenly over the L_s months before the contract starts; months before the horizon are
        already past (the money was received before the plan starts) and dropped.
        """
        lead = int(self.lead_months[s])
        a = int(self.contract_start[k])
        months = [a] if lead == 0 else list(range(a - lead, a))
        return [t for t in months if 0 <= t < self.n_months]

    def terminal_value_musd_per_mw(self, s: int, k: int) -> float:
        """Discounted net hosting cash flow per MW after the horizon, $M (0 when TV is off).

        Rent at the contract's escalated rate, minus AI opex and, without pass-through, the
        power its IT draws at the last month's power price.
        """
        if not self.portfolio.terminal_value:
            return 0.0
        T = self.n_months
        end = int(self.contract_end[k])
        if end <= T:
            return 0.0
        contract = self.portfolio.contracts[k]
        last_price = float(self.power_price_usd_per_mwh[s, T - 1])
        total = 0.0
        for rate, hours, discount in self._tail_months(k):
            net = 1000 * rate - 1000 * self.pair_ai_opex_usd_per_kw_month(s, k)
            if not contract.power_pass_through:
                net -= self.ai_pue[s] * last_price * hours
            total += discount * net
        return total / USD_PER_MUSD

    def _tail_months(self, k: int) -> list[tuple[float, int, float]]:
        """(rent, hours, discount factor) of contract k's months after the horizon,
        computed once per contract (every eligible site asks)."""
        cache = self.__dict__.setdefault("_tail_cache", {})
        if k not in cache:
            contract = self.portfolio.contracts[k]
            r = self.portfolio.discount_rate_per_year
            start = int(self.contract_start[k])
            rows = []
            for t in range(max(self.n_months, start), int(self.contract_end[k])):
                label = month_label(self.portfolio.start_month, t)
                y, m = (int(p) for p in label.split("-"))
                days = calendar.monthrange(y, m)[1]
                rate = _escalated_rate(
                    contract_rate_usd_per_kw_month(contract, days),
                    contract.escalator_per_year,
                    t - start,
                )
                hours = 24 * days
                rows.append((rate, hours, (1 + r) ** (-(t + 1) / 12)))
            cache[k] = rows
        return cache[k]

    def pair_ai_opex_usd_per_kw_month(self, s: int, k: int) -> float:
        """AI opex of contract k's MW at site s: the contract's own (cloud) or the site's."""
        own = float(self.contract_ai_opex_usd_per_kw_month[k])
        return float(self.ai_opex_usd_per_kw_month[s]) if np.isnan(own) else own


def contract_rate_usd_per_kw_month(contract, days: float) -> float:
    """First-year revenue per kW of IT in a month of ``days`` days: the colocation rate, or
    ``usd_per_gpu_hour × gpus_per_it_mw × utilization_share × 24 × days / 1000`` (cloud)."""
    if contract.kind != "cloud":
        return contract.rate_usd_per_kw_month
    per_mw_hour = contract.usd_per_gpu_hour * contract.gpus_per_it_mw * contract.utilization_share
    return per_mw_hour * 24 * days / 1000


def _escalated_rate(rate: float, escalator: float, months_since_start: int) -> float:
    """Rent in a month: the base rate stepped up at each contract anniversary."""
    return rate * (1 + escalator) ** (months_since_start // 12)


def build_index(portfolio: Portfolio, scenarios: list[Scenario] | None = None) -> ModelIndex:
    """Prepare the index of ``portfolio``; one scenario (its own market) unless given."""
    p = portfolio
    if scenarios is None:
        scenarios = [Scenario("base", 1.0, p.market)]
    cal = _calendar(p)
    return ModelIndex(
        portfolio=p,
        **cal,
        **_site_fields(p),
        **_group_fields(p),
        **_contract_fields(p, cal["days"]),
        scenarios=scenarios,
        probability=np.array([sc.probability for sc in scenarios], dtype=float),
        btc_price_usd=np.array([_series(sc.market.btc_price_usd, p.months) for sc in scenarios]),
        hashprice_usd_per_ph_day=np.array(
            [_series(sc.market.hashprice_usd_per_ph_day, p.months) for sc in scenarios]
        ),
    )


def _calendar(p: Portfolio) -> dict:
    """Month labels, days and hours per month, and the discount factor δ_t."""
    T = p.months
    months = [month_label(p.start_month, t) for t in range(T)]
    days = np.array([calendar.monthrange(*map(int, m.split("-")))[1] for m in months], dtype=float)
    return {
        "months": months,
        "days": days,
        "hours": 24 * days,
        "discount": (1 + p.discount_rate_per_year) ** (-(np.arange(T) + 1) / 12),
    }


def _site_fields(p: Portfolio) -> dict:
    """Per site: grid, mining and power figures, and the conversion section's (0, or an AI PUE
    of 1, at sites without one)."""
    sites = p.sites
    conv = [s.conversion for s in sites]

    def conv_arr(attr: str, default: float = 0.0) -> np.ndarray:
        return np.array([getattr(c, attr) if c else default for c in conv], dtype=float)

    return {
        "sites": [s.name for s in sites],
        "grid_mw": np.array([s.grid_mw for s in sites], dtype=float),
        "mining_pue": np.array([s.mining_pue for s in sites], dtype=float),
        "availability": np.array([s.availability_share for s in sites], dtype=float),
        "mining_opex_usd_per_mw_month": np.array([s.mining_opex_usd_per_mw_month for s in sites]),
        "power_price_usd_per_mwh": np.array(
            [_series(s.power_price_usd_per_mwh, p.months) for s in sites]
        ),
        "conv_sites": [i for i in range(len(sites)) if conv[i] is not None],
        "max_it_mw": conv_arr("max_it_mw"),
        "existing_it_mw": conv_arr("existing_it_mw"),
        "capex_usd_per_it_mw": conv_arr("capex_usd_per_it_mw"),
        "lead_months": conv_arr("lead_months").astype(int),
        "ai_pue": conv_arr("ai_pue", 1.0),
        "ai_opex_usd_per_kw_month": conv_arr("ai_opex_usd_per_kw_month"),
    }


def _group_fields(p: Portfolio) -> dict:
    """Per fleet group (site by site): its site, MW, efficiency, resale price by month and
    salvage price after the last month."""
    T = p.months
    groups = [(si, g) for si, s in enumerate(p.sites) for g in s.fleets]
    resale = np.array(
        [
            [g.resale_usd_per_th * (1 - g.resale_decay_per_year) ** (t / 12) for t in range(T)]
            for _, g in groups
        ]
    ).reshape(len(groups), T)
    return {
        "groups": [g.name for _, g in groups],
        "group_site": np.array([si for si, _ in groups], dtype=int),
        "group_power_mw": np.array([g.power_mw for _, g in groups], dtype=float),
        "group_efficiency_j_per_th": np.array(
            [g.efficiency_j_per_th for _, g in groups], dtype=float
        ),
        "resale_usd_per_th": resale,
        "salvage_usd_per_th": np.array(
            [g.resale_usd_per_th * (1 - g.resale_decay_per_year) ** (T / 12) for _, g in groups],
            dtype=float,
        ),
    }


def _contract_fields(p: Portfolio, days: np.ndarray) -> dict:
    """Per contract: term, escalated rate and activity by month, limits and flags; and the
    (site, contract) pairs a contract may be hosted on (eligible sites with a conversion
    section), with the signed MW of each (NaN when not signed)."""
    T, K = p.months, len(p.contracts)
    start = np.array([month_index(p.start_month, c.start_month) for c in p.contracts], dtype=int)
    end = np.array([start[k] + c.term_months for k, c in enumerate(p.contracts)], dtype=int)
    active = np.zeros((K, T), dtype=bool)
    rate = np.zeros((K, T))
    for k, c in enumerate(p.contracts):
        for t in range(max(0, start[k]), min(T, end[k])):
            active[k, t] = True
            rate[k, t] = _escalated_rate(
                contract_rate_usd_per_kw_month(c, days[t]), c.escalator_per_year, t - start[k]
            )
    site_pos = {s.name: i for i, s in enumerate(p.sites)}
    pairs: list[tuple[int, int]] = []
    signed_mw: list[float] = []
    for k, c in enumerate(p.contracts):
        for name in c.eligible_sites:
            si = site_pos[name]
            if p.sites[si].conversion is None:
                continue
            pairs.append((si, k))
            signed_mw.append(float((c.signed_it_mw or {}).get(name, 0.0)) if c.signed else np.nan)
    return {
        "contracts": [c.name for c in p.contracts],
        "contract_start": start,
        "contract_end": end,
        "contract_rate_usd_per_kw_month": rate,
        "contract_active": active,
        "contract_max_it_mw": np.array([c.max_it_mw for c in p.contracts], dtype=float),
        "contract_min_it_mw": np.array([c.min_it_mw for c in p.contracts], dtype=float),
        "contract_signed": np.array([c.signed for c in p.contracts], dtype=bool),
        "contract_pass_through": np.array([c.power_pass_through for c in p.contracts], dtype=bool),
        "contract_tenant_capex_share": np.array([c.tenant_capex_share for c in p.contracts]),
        "contract_ai_opex_usd_per_kw_month": np.array(
            [
                np.nan if c.ai_opex_usd_per_kw_month is None else c.ai_opex_usd_per_kw_month
                for c in p.contracts
            ],
            dtype=float,
        ),
        "pairs": pairs,
        "pair_signed_mw": np.array(signed_mw, dtype=float),
    }
