"""``realloc plan --stochastic --replications K``: is N paths enough? The sample-average-
approximation bounds of Mak, Morton & Wood (1999) on the gap between the chosen plan and the
true optimum (docs/model.md, "Out-of-sample evaluation and the optimality gap").

K independent N-path problems are solved (seeds derived from the plan's, recorded); the mean of
their optimal values estimates an upper bound of the true optimum (for a maximization the
in-sample optimum is optimistic in expectation). The chosen plan's first stage is evaluated on
M fresh paths (realloc evaluate's machinery) for a lower estimate. Their difference is the gap
estimate, and optimizer/saa.mmw_bounds gives its one-sided 95 % bound.
"""

from __future__ import annotations

import os

from realloc.inputs import InputError

ENOUGH_SHARE = 0.01
"""N paths are called enough when the 95 % bound on the gap is at most this share of the
plan's estimated value."""
REPLICATION_SEED_KEY = 2
"""Spawn key of the replications' seeds (realloc/evaluation.derived_seed)."""


def check_replications(replications, risk_weight: float, origin: dict | None) -> None:
    """Replications need paths drawn from a forecast spec and the expected-value objective."""
    if replications is None:
        return
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 2:
        raise InputError(
            f"replications must be a whole number of at least 2, not {replications!r:.40}"
        )
    if replications > 100:
        raise InputError(f"replications must be at most 100, not {replications}")
    if origin is None:
        raise InputError(
            "replications draw fresh paths from a forecast spec; named scenarios "
            "(--scenarios) give one fixed set of paths"
        )
    if risk_weight != 0:
        raise InputError(
            "replications bound the expected-value optimum (risk weight 0); the "
            "Mak-Morton-Wood bounds do not hold for a CVaR-weighted objective"
        )


def replicate(
    plan,
    origin: dict,
    risk,
    solver,
    relax,
    options,
    replications: int,
    evaluation_paths: int,
    progress,
) -> dict:
    """The ``saa`` block of summary.json for the solved ``plan`` (a PlanResult)."""
    from realloc.evaluation import EVALUATION_SEED_KEY, FittedPlan, derived_seed, run_paths
    from realloc.inputs.market_scenarios import scenarios_from_forecast
    from realloc.models.forecast import ForecastSpec
    from realloc.optimizer import plan_portfolio
    from realloc.optimizer.saa import mmw_bounds
    from realloc.optimizer.stages import first_stage_tables
    from realloc.optimizer.sweep import SweepSettings

    spec, n = ForecastSpec.model_validate(origin["spec"]), int(origin["paths"])
    p, seed = plan.portfolio, int(origin["seed"])
    tables = {  # grid and funding only with their inputs
        name: getattr(plan.tables, name)
        for name in first_stage_tables()
        if getattr(plan.tables, name) is not None
    }
    fitted = FittedPlan(None, p, tables, {}, origin)
    settings = SweepSettings(solver=solver, relax=relax, mip_rel_gap=options.mip_rel_gap)
    seeds, values, gaps = [], [], []
    for k in range(replications):
        s = derived_seed(seed, REPLICATION_SEED_KEY, k)
        progress(f"replication {k + 1} of {replications}: {n} paths, seed {s}")
        sc = scenarios_from_forecast(spec.model_copy(update={"seed": s}), p, n)
        r = plan_portfolio(p, solver=solver, relax=relax, options=options, scenarios=sc, risk=risk)
        if r.status != "optimal":
            raise InputError(f"replication {k + 1} (seed {s}) is {r.status}: no gap bounds")
        seeds.append(s)
        values.append(float(r.distribution.expected_usd))
        own = run_paths(fitted, sc, settings, "serial", 1, None, False)  # the plan on these paths
        gaps.append(values[-1] - float(own["value_usd"].mean()))
    fresh_seed = derived_seed(seed, EVALUATION_SEED_KEY)
    progress(f"the plan on {evaluation_paths} fresh paths (seed {fresh_seed})")
    fresh = spec.model_copy(update={"seed": fresh_seed})
    scenarios = scenarios_from_forecast(fresh, p, evaluation_paths)
    rows = run_paths(fitted, scenarios, settings, "local", os.cpu_count() or 1, None, False)
    b = mmw_bounds(values, rows["value_usd"].to_numpy(dtype=float))
    return saa_block(b, n, seeds, values, evaluation_paths, fresh_seed, rows) | crn_block(gaps)


def crn_block(gaps) -> dict:
    """The gap with common random numbers (Mak, Morton & Wood's multiple-replications
    procedure): per replication k, G_k = its optimum − the chosen plan's value on the same N
    paths; the bound is Ḡ + t(0.95, K−1)·s_G/√K. Reported beside the bound above (the verdict
    stays on that one)."""
    from realloc.optimizer.saa import mean_ci95, t_quantile

    est = mean_ci95(gaps, use_t=True)
    bound = est.mean_usd + t_quantile(0.95, est.n - 1) * est.std_error_usd
    return {
        "crn_gaps_usd": [float(g) for g in gaps],
        "crn_gap_usd": est.mean_usd,
        "crn_gap_bound95_usd": bound,
    }


def saa_block(b, n: int, seeds, values, m: int, fresh_seed: int, rows) -> dict:
    """summary.json's ``saa``: the bounds, how they were made, and the verdict in words."""
    enough = b.gap_bound_usd <= ENOUGH_SHARE * abs(b.lower.mean_usd)
    return {
        "method": "Mak, Morton & Wood (1999): upper estimate = mean of K in-sample optimal "
        "values (t interval); lower = the plan's value on M fresh paths (normal interval); "
        "gap bound = max(gap, 0) + t(0.95, K−1)·√(s_U²/K + s_L²/M)",
        "replications": len(values),
        "paths_per_replication": n,
        "replication_seeds": seeds,
        "replication_values_usd": values,
        "upper_estimate_usd": b.upper.mean_usd,
        "upper_estimate_ci95_usd": list(b.upper.ci95_usd),
        "evaluation_paths": m,
        "evaluation_seed": fresh_seed,
        "plan_value_usd": b.lower.mean_usd,
        "plan_value_ci95_usd": list(b.lower.ci95_usd),
        "plan_shortfall_paths_share": float((rows["shortfall_usd"] > 0.5).mean()),
        "gap_usd": b.gap_usd,
        "gap_bound95_usd": b.gap_bound_usd,
        "enough_paths": bool(enough),
        "enough_rule": f"the 95 % gap bound is at most {ENOUGH_SHARE:.0%} of the plan's value",
    }
