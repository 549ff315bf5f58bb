"""The portfolio: sites, fleets, conversions, hosting contracts, market and treasury.

Field names carry their units (``grid_mw``, ``rate_usd_per_kw_month``); shares are fractions
between 0 and 1. The math these numbers feed is in ``docs/model.md``.
"""

from __future__ import annotations

import difflib
from typing import Literal

from pydantic import Field, model_validator

from realloc.models.base import FieldError, Frozen, Month, Name, month_index, series
from realloc.models.financing import Financing, check_financing

PowerPrice = series(10_000)
"""$/MWh: monthly averages above $10,000/MWh (twice ERCOT's price cap) are unit mistakes."""
BtcPrice = series(1e8)
"""$ per BTC: up to $100M."""
Hashprice = series(1e5)
"""$ per PH/s per day: up to $100,000 (far above any month on record)."""


class FleetGroup(Frozen):
    """A group of similar ASICs at one site; groups are dispatched and sold separately."""

    name: Name
    """Group name, unique within the portfolio (e.g. ``S19j Pro``)."""
    power_mw: float = Field(ge=0, le=10_000)
    """Wall power of the whole group at full hash rate, MW."""
    efficiency_j_per_th: float = Field(gt=1, le=500)
    """Energy per terahash, J/TH (S19j Pro ≈ 29.5, S21 ≈ 17.5, S21 XP ≈ 13.5)."""
    resale_usd_per_th: float = Field(default=0.0, ge=0, le=1_000)
    """Price a buyer pays today for the machines, $ per TH/s of hash rate."""
    resale_decay_per_year: float = Field(default=0.0, ge=0, lt=1)
    """Share of resale value lost per year; month t's price is level × (1 − decay)^(t/12)."""


class Conversion(Frozen):
    """What it takes to turn a site's mining halls into AI/GPU hosting capacity."""

    max_it_mw: float = Field(ge=0, le=10_000)
    """Most critical-IT MW the site can ever host, existing halls included."""
    existing_it_mw: float = Field(default=0.0, ge=0, le=10_000)
    """Critical-IT MW already converted and ready at the start of the horizon."""
    capex_usd_per_it_mw: float = Field(ge=0, le=1e9)
    """Conversion cost per MW of critical IT, $ (self-funded builds: $7–11M per IT MW)."""
    lead_months: int = Field(ge=0, le=120)
    """Months from the start of a conversion until the capacity is ready for a tenant."""
    ai_pue: float = Field(default=1.3, ge=1, le=3)
    """Grid MW per MW of critical IT for AI halls (≈1.2–1.4)."""
    ai_opex_usd_per_kw_month: float = Field(default=0.0, ge=0, le=1_000)
    """Operating cost of hosted IT load, $ per kW of IT hosted per month (excluding power)."""
    block_it_mw: float | None = Field(default=None, gt=0, le=10_000)
    """Halls come in blocks: the IT MW started in a month is a whole number of blocks of this
    size (integer; omit for continuous builds). A block larger than the room left under
    max_it_mw means no build is possible at the site."""

    @model_validator(mode="after")
    def _existing_within_max(self) -> Conversion:
        if self.existing_it_mw > self.max_it_mw:
            raise ValueError(
                f"existing_it_mw ({self.existing_it_mw}) exceeds max_it_mw ({self.max_it_mw})"
            )
        return self


class Site(Frozen):
    """A mining site behind one grid interconnect."""

    name: Name
    """Site name, unique within the portfolio."""
    grid_mw: float = Field(gt=0, le=10_000)
    """Interconnect capacity, MW drawn from the grid at most in any month."""
    power_price_usd_per_mwh: PowerPrice
    """All-in power price, $/MWh: one number or one value per month."""
    mining_pue: float = Field(default=1.05, ge=1, le=2)
    """Grid MW per MW of ASIC wall power (cooling and losses, ≈1.02–1.10)."""
    availability_share: float = Field(default=0.97, gt=0, le=1)
    """Share of the fleet that is hashing on average (uptime)."""
    mining_opex_usd_per_mw_month: float = Field(default=0.0, ge=0, le=1e7)
    """Fixed mining opex per MW of fleet still owned (staff, maintenance), $ per MW-month."""
    fleets: list[FleetGroup] = Field(default_factory=list)
    """The ASIC groups installed at the site."""
    conversion: Conversion | None = None
    """How the site can convert to AI hosting; omit when it cannot."""
    curtailment_credit_usd_per_mw_month: float = Field(default=0.0, ge=0, le=1e6)
    """Demand-response / power credits mining earns, $ per MW of running mining (wall power)
    per month (ERCOT 4CP avoided: $50–150 per kW-year ≈ $4,200–12,500 per MW-month)."""
    curtailment_enrolled_share: float = Field(default=1.0, ge=0, le=1)
    """Share of the running mining MW enrolled in the credit programme (at most this share
    earns the credit)."""
    firm_load_charge_usd_per_kw_month: float = Field(default=0.0, ge=0, le=1_000)
    """Charge on firm (non-curtailable) grid draw of AI halls, $ per kW of grid per month
    (η × IT MW hosted); the tenant pays it when the contract passes power through."""
    grid_hold_cost_usd_per_mw_month: float = Field(default=0.0, ge=0, le=1e7)
    """Cost of holding the interconnect (demand charges, take-or-pay minimums), $ per MW of
    grid kept per month; charged on the grid not sold, whether used or idle."""
    grid_sale_usd_per_mw: float | None = Field(default=None, ge=0, le=1e9)
    """Price received for each MW of interconnect released (sold or leased out as powered
    land), $ per MW, once; omit when the grid cannot be sold."""
    grid_sale_first_month: Month | None = None
    """First month a grid sale may close, YYYY-MM (default: the first planned month; a month
    before the horizon means from its first month, one after its end means no sale)."""


AVERAGE_MONTH_DAYS = 365.25 / 12
"""Days in an average month (30.4375): a cloud contract's equivalent $/kW-month in reports."""
CLOUD_REQUIRED = (
    "usd_per_gpu_hour",
    "gpus_per_it_mw",
    "utilization_share",
    "gpu_capex_usd_per_it_mw",
)
"""Fields a cloud contract must state."""
CLOUD_FIELDS = (*CLOUD_REQUIRED, "gpu_residual_share", "ai_opex_usd_per_kw_month")
"""Fields only a cloud contract may state."""


class Contract(Frozen):
    """An AI/GPU hosting contract: offered (the optimizer decides) or already signed (fixed)."""

    name: Name
    """Contract name, unique within the portfolio."""
    rate_usd_per_kw_month: float | None = Field(default=None, ge=0, le=10_000)
    """Rent per kW of critical IT per month in the first contract year, $ (colocation only:
    required there, an error on a cloud contract)."""
    escalator_per_year: float = Field(default=0.0, ge=0, le=1)
    """Annual rent increase, applied at each contract anniversary."""
    start_month: Month
    """First month of rent, YYYY-MM."""
    term_months: int = Field(ge=1, le=600)
    """Contract length in months."""
    max_it_mw: float = Field(ge=0, le=10_000)
    """Most critical-IT MW the tenant will take, across all sites."""
    min_it_mw: float = Field(default=0.0, ge=0, le=10_000)
    """All-or-nothing minimum: the contract is declined or served at ≥ this many MW (0: none)."""
    eligible_sites: list[Name] = Field(min_length=1)
    """Sites allowed to serve the contract."""
    power_pass_through: bool | None = None
    """True when the tenant pays the power its IT load draws; omitted: true for colocation,
    false for cloud (the operator runs the GPUs and pays their power)."""
    tenant_capex_share: float = Field(default=0.0, ge=0, le=1)
    """Share of the conversion capex behind the contract's MW that the tenant prepays, received
    evenly over the lead-time months before the start; signed contracts too (months before the
    plan starts are already received and not counted)."""
    signed_it_mw: dict[Name, float] | None = None
    """For contracts already signed: MW served at each site (fixed, not optimized)."""
    kind: Literal["colocation", "cloud"] = "colocation"
    """``colocation``: the tenant rents the hall (rate_usd_per_kw_month); ``cloud``: the operator
    buys GPUs and sells compute by the GPU-hour (the cloud fields below)."""
    usd_per_gpu_hour: float | None = Field(default=None, ge=0, le=1_000)
    """Cloud: price of one GPU-hour in the first contract year, $ (H100 ≈ $1.70–2.35)."""
    gpus_per_it_mw: float | None = Field(default=None, ge=0, le=20_000)
    """Cloud: GPUs per MW of critical IT."""
    utilization_share: float | None = Field(default=None, ge=0, le=1)
    """Cloud: share of GPU-hours sold."""
    gpu_capex_usd_per_it_mw: float | None = Field(default=None, ge=0, le=1e9)
    """Cloud: GPU capex per IT MW hosted, $, paid by the operator in the start month (on top of
    the hall's conversion capex)."""
    gpu_residual_share: float | None = Field(default=None, ge=0, le=1)
    """Cloud: share of the GPU capex received back at the end of the term (default 0)."""
    ai_opex_usd_per_kw_month: float | None = Field(default=None, ge=0, le=1_000)
    """Cloud: operating cost of this contract's MW, $ per kW of IT per month (replaces the
    site's conversion.ai_opex_usd_per_kw_month for them)."""

    @model_validator(mode="before")
    @classmethod
    def _kind_default_pass_through(cls, data):
        """An omitted (or null) power_pass_through takes the kind's default: true for
        colocation, false for cloud."""
        if isinstance(data, dict) and data.get("power_pass_through") is None:
            data = {**data, "power_pass_through": data.get("kind", "colocation") != "cloud"}
        return data

    @model_validator(mode="after")
    def _check_kind(self) -> Contract:
        if self.kind == "colocation":
            for f in CLOUD_FIELDS:
                if getattr(self, f) is not None:
                    raise FieldError(
                        (f,), "is a cloud field; set kind: cloud or remove it from this contract"
                    )
            if self.rate_usd_per_kw_month is None:
                raise FieldError(
                    ("rate_usd_per_kw_month",), "is required for a colocation contract"
                )
            return self
        if self.rate_usd_per_kw_month is not None:
            raise FieldError(
                ("rate_usd_per_kw_month",),
                "is a colocation field; a cloud contract earns usd_per_gpu_hour × "
                "gpus_per_it_mw × utilization_share × hours instead: remove it",
            )
        for f in CLOUD_REQUIRED:
            if getattr(self, f) is None:
                raise FieldError((f,), "is required for a cloud contract (kind: cloud)")
        if self.equivalent_rate_usd_per_kw_month > 10_000:
            raise FieldError(
                ("usd_per_gpu_hour",),
                f"usd_per_gpu_hour × gpus_per_it_mw × utilization_share gives "
                f"${self.equivalent_rate_usd_per_kw_month:,.0f} per kW-month, above the "
                "plausible maximum $10,000; check the units",
            )
        return self

    @property
    def equivalent_rate_usd_per_kw_month(self) -> float:
        """First-year revenue per kW of IT in an average month (30.4375 days): the rate for
        colocation, ``usd_per_gpu_hour × gpus_per_it_mw × utilization_share × 24 × 30.4375 /
        1000`` for cloud (what reports show beside colocation rates)."""
        if self.kind == "colocation":
            return float(self.rate_usd_per_kw_month or 0.0)
        per_mw_hour = self.usd_per_gpu_hour * self.gpus_per_it_mw * self.utilization_share
        return per_mw_hour * 24 * AVERAGE_MONTH_DAYS / 1000

    @model_validator(mode="after")
    def _check_sizes(self) -> Contract:
        if self.min_it_mw > self.max_it_mw:
            raise ValueError(f"min_it_mw ({self.min_it_mw}) exceeds max_it_mw ({self.max_it_mw})")
        if len(set(self.eligible_sites)) != len(self.eligible_sites):
            raise ValueError("eligible_sites lists a site twice")
        if self.signed_it_mw is not None:
            for site, mw in self.signed_it_mw.items():
                if not 0 <= mw <= 10_000:
                    raise ValueError(f"signed_it_mw[{site}] = {mw}; expected 0–10,000 MW")
            if sum(self.signed_it_mw.values()) > self.max_it_mw + 1e-9:
                raise ValueError("signed_it_mw adds up to more than max_it_mw")
        return self

    @property
    def signed(self) -> bool:
        """Whether the contract is already signed (its MW are inputs, not decisions)."""
        return self.signed_it_mw is not None


class Market(Frozen):
    """Market forecast for one scenario: BTC price and hashprice, month by month."""

    btc_price_usd: BtcPrice
    """BTC price, $ per BTC."""
    hashprice_usd_per_ph_day: Hashprice
    """Mining revenue per PH/s per day, $ (subsidy + fees at the network's hash rate)."""


class Treasury(Frozen):
    """The company's BTC stack, cash and the rules for selling BTC."""

    btc: float = Field(ge=0, le=21e6)
    """BTC held at the start."""
    cash_usd: float = Field(ge=-1e12, le=1e12)
    """Cash at the start, $."""
    min_cash_usd: float = Field(default=0.0, ge=0, le=1e12)
    """Cash floor that must hold at every month end, $."""
    min_btc: float = Field(default=0.0, ge=0, le=21e6)
    """BTC that must be held at every month end (pledged or policy reserve)."""
    max_btc_sold_per_month: float = Field(default=1e6, ge=0, le=21e6)
    """Most BTC the market can absorb from the company in one month."""
    sale_cost_bps: float = Field(default=0.0, ge=0, le=10_000)
    """Cost of selling BTC (fees, spread, slippage), basis points of the USD raised."""


class Portfolio(Frozen):
    """Everything one planning run needs."""

    name: Name
    """Portfolio name, shown in reports."""
    start_month: Month
    """First planning month, YYYY-MM."""
    months: int = Field(ge=1, le=600)
    """Number of monthly periods planned."""
    discount_rate_per_year: float = Field(default=0.10, ge=0, le=1)
    """Annual discount rate for the value of a plan."""
    pool_fee_share: float = Field(default=0.02, ge=0, lt=1)
    """Share of mining revenue the pool keeps."""
    terminal_value: bool = True
    """Count contracted hosting cash flows after the horizon (net, at last-month prices)."""
    sites: list[Site] = Field(min_length=1)
    """The sites."""
    contracts: list[Contract] = Field(default_factory=list)
    """Hosting contracts, offered or signed."""
    market: Market
    """Price and hashprice forecast."""
    treasury: Treasury
    """BTC stack, cash and sale rules."""
    financing: Financing | None = None
    """Loans, notes and equity on offer besides BTC sales; omit to fund by BTC sales alone."""

    @model_validator(mode="after")
    def _cross_checks(self) -> Portfolio:
        _unique("site", [s.name for s in self.sites], lambda i: ("sites", i, "name"))
        groups = [(i, j, g.name) for i, s in enumerate(self.sites) for j, g in enumerate(s.fleets)]
        _unique(
            "fleet group",
            [n for _, _, n in groups],
            lambda x: ("sites", groups[x][0], "fleets", groups[x][1], "name"),
        )
        _unique("contract", [c.name for c in self.contracts], lambda i: ("contracts", i, "name"))
        for i, s in enumerate(self.sites):
            _covers(("sites", i, "power_price_usd_per_mwh"), s.power_price_usd_per_mwh, self.months)
            _check_grid_sale(i, s)
            if not s.fleets and s.conversion is None and s.grid_sale_usd_per_mw is None:
                raise FieldError(
                    ("sites", i, "fleets"),
                    "the site has no fleets and no conversion section, so there is nothing to "
                    "plan there; list its fleet groups under fleets, add a conversion section, "
                    "or remove the site",
                )
        _covers(("market", "btc_price_usd"), self.market.btc_price_usd, self.months)
        _covers(
            ("market", "hashprice_usd_per_ph_day"),
            self.market.hashprice_usd_per_ph_day,
            self.months,
        )
        _positive(("market", "btc_price_usd"), self.market.btc_price_usd)
        site_names = {s.name for s in self.sites}
        for k, c in enumerate(self.contracts):
            self._check_contract(k, c, site_names)
        if self.financing is not None:
            try:
                check_financing(self.financing, self.start_month, self.months, self.sites)
            except FieldError as e:
                raise FieldError(("financing", *e.loc), str(e)) from None
        return self

    def _check_contract(self, k: int, c: Contract, site_names: set[str]) -> None:
        """Contract ``k`` names known sites, signs only eligible ones with IT capacity, and
        starts inside the horizon (or before it, when signed)."""
        for j, site in enumerate(c.eligible_sites):
            if site not in site_names:
                raise FieldError(
                    ("contracts", k, "eligible_sites", j),
                    f"names site {site!r}, which is not in sites"
                    f"{_did_you_mean(site, site_names)} "
                    f"(known: {', '.join(sorted(site_names))})",
                )
        for site in c.signed_it_mw or {}:
            if site not in c.eligible_sites:
                raise FieldError(
                    ("contracts", k, "signed_it_mw"),
                    f"names {site!r}, which is not in its eligible_sites",
                )
        a = month_index(self.start_month, c.start_month)
        if a >= self.months:
            raise FieldError(
                ("contracts", k, "start_month"),
                f"{c.start_month} is after the last planned month; extend "
                "months or drop the contract",
            )
        if a < 0 and not c.signed:
            raise FieldError(
                ("contracts", k, "start_month"),
                f"{c.start_month} is before start_month {self.start_month}; "
                "only signed contracts may start before the horizon",
            )
        for site, mw in (c.signed_it_mw or {}).items():
            if mw > 0 and self.site(site).conversion is None:
                raise FieldError(
                    ("contracts", k, "signed_it_mw"),
                    f"is signed at {site!r}, which has no conversion section (no IT capacity)",
                )

    def site(self, name: str) -> Site:
        """The site called ``name``."""
        return next(s for s in self.sites if s.name == name)

    def unservable_contracts(self) -> list[str]:
        """A sentence for each offered contract that none of its eligible sites can host.

        The rule: such a contract is valid input and is declined (it cannot be served where
        no IT load can be hosted: no conversion section, or max_it_mw 0). It is not refused,
        because a what-if that sets a site's max_it_mw to 0 must still plan; but the commands
        say so, so that a declined contract is not read as one weighed and found wanting.
        """
        notes = []
        for c in self.contracts:
            if c.signed:  # its MW are inputs, checked against each site's conversion
                continue
            sites = [self.site(name) for name in c.eligible_sites]
            if any(s.conversion is not None and s.conversion.max_it_mw > 0 for s in sites):
                continue
            why = [
                f"{s.name!r} ({'no conversion section' if s.conversion is None else 'max_it_mw 0'})"
                for s in sites
            ]
            notes.append(
                f"contract {c.name!r} is eligible only at {', '.join(why)}, where no IT load "
                "can be hosted, so it is declined; add a site with a conversion section "
                "(max_it_mw above 0) to its eligible_sites if it should be weighed"
            )
        return notes


def _check_grid_sale(i: int, s: Site) -> None:
    """A first sale month needs a sale price (alone it would be silently ignored)."""
    if s.grid_sale_first_month is not None and s.grid_sale_usd_per_mw is None:
        raise FieldError(
            ("sites", i, "grid_sale_first_month"),
            "is given but grid_sale_usd_per_mw is not; state the price per MW released, "
            "or drop the first sale month",
        )


def _unique(kind: str, names: list[str], loc) -> None:
    seen: set[str] = set()
    for i, n in enumerate(names):
        if n in seen:
            raise FieldError(loc(i), f"{kind} name {n!r} is used twice; names must be unique")
        seen.add(n)


def _covers(loc: tuple, series: float | list[float], months: int) -> None:
    """A list must hold exactly one value per month: a shorter one leaves months unpriced, and
    a longer one was cut silently, which hides a series meant for another start or horizon."""
    if isinstance(series, list) and len(series) != months:
        longer = " (a longer list is not cut: drop the extra values or raise months)"
        raise FieldError(
            loc,
            f"has {len(series)} values but the horizon has {months} months; give one value "
            f"per month or a single number{longer if len(series) > months else ''}",
        )


def _positive(loc: tuple, series: float | list[float]) -> None:
    values = series if isinstance(series, list) else [series]
    low = [i for i, v in enumerate(values) if v < 1]
    if low:
        where = f"value {low[0] + 1} of the list is" if isinstance(series, list) else "it is"
        raise FieldError(
            loc, f"must be at least $1 in every month ({where} {values[low[0]]}); check the units"
        )


def _did_you_mean(name: str, known: set[str]) -> str:
    """``; did you mean 'X'?`` when a known name is close (a typo, a stray space), else ''."""
    folded = {" ".join(k.casefold().split()): k for k in known}
    key = " ".join(name.casefold().split())
    if key in folded:
        return f"; did you mean {folded[key]!r}?"
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""
