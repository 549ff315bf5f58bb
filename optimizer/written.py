"""How precisely the output tables are written, and so how far a figure read back from them may
be from the solver's value: the verifier adds these up into its tolerances (docs/model.md,
"Verification")."""

from __future__ import annotations

EPS = 1e-7
"""|v| below this is written as 0 (solver noise); rows of builds, hosting and rig sales at or
below it are left out."""

MW, USD, BTC = 6, 2, 8
"""Decimals written: MW to the watt, USD to the cent, BTC to the satoshi."""


def read_error(digits: int) -> float:
    """Largest difference between a written figure (or one left out) and the solver's value:
    half its last digit, or ``EPS`` where noise is written as 0 or a row is left out."""
    return max(EPS, 0.5 * 10.0**-digits)


U_MW, U_USD, U_BTC = read_error(MW), read_error(USD), read_error(BTC)
