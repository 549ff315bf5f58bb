"""How the plan may be funded besides selling BTC: BTC-backed loans, notes, project loans, equity.

Every source is optional; with no ``financing`` section the model is today's exactly. Money is
in $, rates and shares are fractions per year or of the amount. The conventions (interest on
the previous month's balance, principal as financing not value) are in ``docs/model.md``.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from realloc.models.base import FieldError, Frozen, Month, Name, month_index

MAX_USD = 1e12
"""Largest amount any source may offer, $ (a trillion: more is a unit mistake)."""


class BtcLoan(Frozen):
    """A BTC-collateralised credit facility: draw and repay at will, within a loan-to-value."""

    name: Name
    """Facility name, unique among the financing sources."""
    max_usd: float = Field(ge=0, le=MAX_USD)
    """Most that may be owed at any month end, $."""
    rate_per_year: float = Field(ge=0, le=1)
    """Interest per year; a month's interest is rate/12 × the balance at the previous month end."""
    fee_share: float = Field(default=0.0, ge=0, le=1)
    """Fee paid on each draw, share of the amount drawn."""
    max_ltv_share: float = Field(gt=0, le=1)
    """Largest balance / (BTC price × BTC pledged) the lender allows at any month end."""
    first_month: Month
    """First month a draw may be made, YYYY-MM (inside the horizon)."""
    maturity_month: Month
    """Month by which the balance is repaid in full (owed is 0 from this month on), YYYY-MM."""

    @model_validator(mode="after")
    def _maturity_after_first(self) -> BtcLoan:
        if month_index(self.first_month, self.maturity_month) <= 0:
            raise FieldError(
                ("maturity_month",),
                f"{self.maturity_month} is not after first_month {self.first_month}",
            )
        return self


class Note(Frozen):
    """A note issued once inside a window (convertible, secured or high-yield note, project
    bond): first stage, the same on every market path; bullet repayment after its term."""

    name: Name
    """Note name, unique among the financing sources."""
    max_usd: float = Field(ge=0, le=MAX_USD)
    """Most that may be issued, $."""
    min_usd: float = Field(default=0.0, ge=0, le=MAX_USD)
    """All-or-nothing minimum: the note is declined or issued at ≥ this many $ (0: none)."""
    first_month: Month
    """First month of the issue window, YYYY-MM."""
    last_month: Month
    """Last month of the issue window, YYYY-MM."""
    coupon_per_year: float = Field(ge=0, le=1)
    """Coupon per year on the principal outstanding at the previous month end, paid monthly."""
    fee_share: float = Field(default=0.0, ge=0, le=1)
    """Underwriting fee at issue, share of the principal (cash and value)."""
    option_cost_share: float = Field(default=0.0, ge=0, le=1)
    """Value given away through a conversion option at issue, share of the principal (e.g. the
    capped-call cost); a value cost, not a cash flow."""
    term_months: int = Field(ge=1, le=600)
    """Months from issue to the bullet repayment of the principal."""

    @model_validator(mode="after")
    def _window(self) -> Note:
        if self.min_usd > self.max_usd:
            raise FieldError(
                ("min_usd",), f"min_usd ({self.min_usd}) exceeds max_usd ({self.max_usd})"
            )
        if month_index(self.first_month, self.last_month) < 0:
            raise FieldError(
                ("last_month",), f"{self.last_month} is before first_month {self.first_month}"
            )
        return self


class ProjectLoan(Frozen):
    """A construction/term loan at a site: draws up to a share of the conversion capex paid
    there so far, repaid in equal monthly parts after a grace period."""

    name: Name
    """Loan name, unique among the financing sources."""
    site: Name
    """The site whose conversion capex the loan funds (it must have a conversion section)."""
    max_loan_to_cost_share: float = Field(gt=0, le=1)
    """Cumulative draws ≤ this share × cumulative conversion capex paid at the site."""
    rate_per_year: float = Field(ge=0, le=1)
    """Interest per year on the balance at the previous month end."""
    fee_share: float = Field(default=0.0, ge=0, le=1)
    """Fee on each draw, share of the amount drawn."""
    grace_months: int = Field(default=0, ge=0, le=600)
    """Months after a draw before its repayment starts."""
    term_months: int = Field(ge=1, le=600)
    """Months over which each draw is repaid in equal parts."""
    min_dscr: float | None = Field(default=None, gt=0, le=100)
    """Debt-service coverage covenant: the site's hosting net operating income ≥ this × its
    interest and scheduled principal in each month from the end of the earliest grace period;
    omit for none."""


class Equity(Frozen):
    """An at-the-market (ATM) equity programme."""

    max_usd_per_month: float = Field(ge=0, le=MAX_USD)
    """Most that may be raised in one month (trading volume), $."""
    max_usd_total: float = Field(ge=0, le=MAX_USD)
    """Size of the programme: most raised over the horizon, $."""
    fee_share: float = Field(default=0.0, ge=0, le=1)
    """Sales agent's fee, share of the amount raised (cash and value)."""
    dilution_cost_share: float = Field(default=0.0, ge=0, le=1)
    """Value existing holders lose per $ raised when shares trade below their worth (value)."""


class Financing(Frozen):
    """The funding sources on offer besides BTC sales; each list may be empty."""

    btc_loans: list[BtcLoan] = Field(default_factory=list)
    """BTC-collateralised credit facilities."""
    notes: list[Note] = Field(default_factory=list)
    """Notes issued once inside a window."""
    project_loans: list[ProjectLoan] = Field(default_factory=list)
    """Construction/term loans at a site, limited by loan-to-cost."""
    equity: Equity | None = None
    """An at-the-market equity programme; omit for none."""

    @model_validator(mode="after")
    def _unique_names(self) -> Financing:
        seen: set[str] = set()
        for kind in ("btc_loans", "notes", "project_loans"):
            for i, item in enumerate(getattr(self, kind)):
                if item.name in seen or _reserved(item.name):
                    raise FieldError(
                        (kind, i, "name"),
                        f"financing source name {item.name!r} is used twice or is one the "
                        f"funding table uses ({EQUITY_SOURCE!r}, 'BTC sold from …', 'Tenant "
                        "prepayment: …'); names must be unique across btc_loans, notes and "
                        "project_loans",
                    )
                seen.add(item.name)
        return self


EQUITY_SOURCE = "ATM equity"
"""The name the equity programme goes by in the funding table."""
RESERVED_PREFIXES = ("BTC sold from", "Tenant prepayment: ")
"""Funding-table source names of BTC sales and tenant prepayments (optimizer/funding.py)."""


def _reserved(name: str) -> bool:
    return name == EQUITY_SOURCE or name.startswith(RESERVED_PREFIXES)


def check_financing(fin: Financing, start_month: str, months: int, sites: list) -> None:
    """Cross-checks against the portfolio: windows start inside the horizon, project loans name
    a site with a conversion section. Raises ``FieldError`` with a location under
    ``financing``."""
    for i, loan in enumerate(fin.btc_loans):
        _inside(("btc_loans", i, "first_month"), loan.first_month, start_month, months)
    for i, note in enumerate(fin.notes):
        _inside(("notes", i, "first_month"), note.first_month, start_month, months)
    by_name = {s.name: s for s in sites}
    for i, loan in enumerate(fin.project_loans):
        site = by_name.get(loan.site)
        if site is None:
            raise FieldError(
                ("project_loans", i, "site"),
                f"names site {loan.site!r}, which is not in sites "
                f"(known: {', '.join(sorted(by_name))})",
            )
        if site.conversion is None:
            raise FieldError(
                ("project_loans", i, "site"),
                f"site {loan.site!r} has no conversion section, so there is no capex to fund",
            )


def _inside(loc: tuple, month: str, start_month: str, months: int) -> None:
    t = month_index(start_month, month)
    if not 0 <= t < months:
        raise FieldError(
            loc,
            f"{month} is outside the planned months ({start_month} and the {months - 1} "
            "after it); move it inside the horizon or drop the source",
        )
