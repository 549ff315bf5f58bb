"""The largest verification violation seen across the property tests, per invariant family.

The property tests plan through :func:`plan_portfolio` here, which records every plan's
verification; ``tests/test_properties_monotone.py`` prints the tally last (the issue's closing
note reports it).
"""

from __future__ import annotations

from realloc.optimizer import plan_portfolio as _plan_portfolio

LARGEST: dict[str, tuple[float, float, str, str]] = {}
"""family -> (largest violation, its tolerance, unit, where) over every plan verified so far."""
PLANS = [0]


def record(result) -> None:
    PLANS[0] += 1
    for c in result.verification.checks if result.verification else []:
        seen = LARGEST.get(c.family)
        if seen is None or c.max_violation / c.tolerance > seen[0] / seen[1]:
            LARGEST[c.family] = (c.max_violation, c.tolerance, c.unit, c.where)


def plan_portfolio(*args, **kwargs):
    """``optimizer.plan_portfolio`` that records the plan's verification."""
    result = _plan_portfolio(*args, **kwargs)
    record(result)
    return result


def report() -> str:
    """One line per family, worst first by share of the tolerance."""
    rows = sorted(LARGEST.items(), key=lambda kv: -kv[1][0] / kv[1][1])
    lines = [f"largest violations over {PLANS[0]} verified plans:"]
    for family, (v, tol, unit, where) in rows:
        at = f" at {where}" if where else ""
        lines.append(f"  {family:26s} {v:.3g} {unit}{at} ({v / tol:.1e} of tolerance {tol:.3g})")
    return "\n".join(lines)
