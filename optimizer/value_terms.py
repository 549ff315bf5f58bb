"""When each value term is earned: the buckets of the value split (inside the horizon, rent
after it, rigs' resale at its end, interest after it), by term name.

Its own module, importing nothing, because the plan's tables (optimizer/extract.py: which terms
are no month's cash flow) and the headline metrics (optimizer/statistics.py: the split itself)
both read it, and statistics must not import the pipeline's modules.
"""

from __future__ import annotations

INSIDE_HORIZON = "inside_horizon_usd"
"""The split's bucket of every value term not named in :data:`AFTER_HORIZON_TERMS`."""

AFTER_HORIZON_TERMS: dict[str, tuple[str, ...]] = {
    "rent_after_horizon_usd": ("terminal_value_usd",),
    "fleet_salvage_usd": ("fleet_salvage_usd",),
    "interest_after_horizon_usd": ("financing_terminal_interest_usd",),
}
"""The value terms (names of ``OBJECTIVE_TERMS``) counted after the horizon, by the bucket of
the value split they fall in: contracted rent after the horizon (with a cloud contract's GPU
residual when its term ends after the horizon, which is part of ``terminal_value_usd``), the
resale value of rigs still owned at its end, and interest still owed on debt after it. Every
other term is value inside the horizon. A new after-horizon term joins its bucket here by
name."""

ALWAYS_SPLIT = ("rent_after_horizon_usd", "fleet_salvage_usd")
"""Buckets every split shows; the others (interest owed after the horizon, from a ``financing``
section) only when the plan reports their terms."""

AFTER_HORIZON_TERM_NAMES = frozenset(n for names in AFTER_HORIZON_TERMS.values() for n in names)
"""Every term counted after the horizon: no month's cash flow (cashflows.csv leaves them out)."""
