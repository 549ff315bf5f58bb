"""The optimality-gap verdict of a plan with replications, in words (summary.md)."""

from __future__ import annotations


def saa_words(saa: dict) -> str:
    """The verdict, as summary.md says it."""
    from realloc.reports.summary_md import money

    n = saa["paths_per_replication"]
    verdict = "is enough" if saa["enough_paths"] else "may not be enough"
    return (
        f"N = {n} paths {verdict}: the plan is at most {money(saa['gap_bound95_usd'])} short of "
        f"the best plan with 95 % confidence (gap estimate {money(saa['gap_usd'])}; "
        f"{saa['replications']} replications of {n} paths, the plan valued on "
        f"{saa['evaluation_paths']} fresh paths)."
        + (
            f" Measured on each replication's own paths (common random numbers) the gap is "
            f"{money(saa['crn_gap_usd'])}, at most {money(saa['crn_gap_bound95_usd'])} with 95 % "
            "confidence."
            if saa.get("crn_gap_bound95_usd") is not None
            else ""
        )
    )
