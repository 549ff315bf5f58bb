"""Pydantic domain models: the portfolio and its parts, and market scenarios."""

from realloc.models.base import Month, Series, month_index, month_label
from realloc.models.portfolio import (
    Contract,
    Conversion,
    FleetGroup,
    Market,
    Portfolio,
    Site,
    Treasury,
)

__all__ = [
    "Contract",
    "Conversion",
    "FleetGroup",
    "Market",
    "Month",
    "Portfolio",
    "Series",
    "Site",
    "Treasury",
    "month_index",
    "month_label",
]
