"""``realloc evaluate``: a plan's first-stage decisions on market paths it was not fitted to.

The plan folder is read as realloc wrote it (its marker says ``plan`` and every file matches
the SHA-256 that run.json recorded; anything else is refused): the portfolio from inputs.json,
the first stage from its tables (optimizer/stages.py), the forecast it was fitted on from
run.json. M fresh paths are drawn from that spec (or ``forecast``) with a seed other than the
plan's, each path's recourse is re-optimized on the sweep executors (optimizer/evaluate.py),
and the values are summarized with intervals (optimizer/saa.py).
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from realloc.arguments import _as_path, _checked, _input_errors
from realloc.inputs import InputError

CHUNK_PATHS = 25
"""Paths per executor task: enough to keep a worker's warm model busy, few enough that the
progress bar moves."""
EVALUATION_SEED_KEY = 1
"""Spawn key of an evaluation's default seed (replications use 2): see :func:`derived_seed`."""


def derived_seed(seed: int, purpose: int, k: int = 0) -> int:
    """A seed derived from a plan's fitting ``seed``: NumPy's SeedSequence with spawn key
    (``purpose``, ``k``), 63 bits. Purpose 1 is a fresh evaluation sample, 2 the k-th
    replication: never the plan's own seed, and never each other's."""
    state = np.random.SeedSequence(seed, spawn_key=(purpose, k)).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


@dataclass
class FittedPlan:
    """What evaluation needs of a plan folder."""

    folder: Path
    portfolio: object
    tables: dict[str, pd.DataFrame]
    summary: dict
    market: dict | None
    """run.json's ``market_paths`` record (None: a deterministic plan or named scenarios)."""

    @property
    def cvar_alpha(self) -> float:
        return float((self.summary.get("stochastic") or {}).get("cvar_alpha", 0.95))

    @property
    def in_sample(self) -> dict:
        """The plan's own figures: expected value and CVaR over the paths it was fitted on."""
        st = self.summary.get("stochastic") or {}
        return {
            "paths": st.get("scenarios", 1),
            "expected_value_usd": st.get("expected_value_usd", self.summary.get("value_usd")),
            "cvar_usd": st.get("cvar_usd"),
            "cvar_alpha": self.cvar_alpha,
        }


def read_plan(folder: Path) -> FittedPlan:
    """The plan folder as realloc wrote it, or :class:`InputError` saying why not."""
    from realloc.inputs.files import cut
    from realloc.models import Portfolio
    from realloc.reports.atomic import read_owner
    from realloc.reports.plan_files import edited_files

    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder: give a `realloc plan` output folder")
    owner = read_owner(folder)
    if owner is None or owner.kind != "plan":
        what = "not realloc's output" if owner is None else f"a realloc {owner.kind}"
        raise InputError(f"{folder} is {what}, not a plan folder (`realloc plan --out DIR`)")
    edited = edited_files(folder)
    if edited:
        raise InputError(
            f"{folder}: {', '.join(edited[:5])} changed since `realloc plan` wrote the folder "
            "(or run.json holds no record of its files); rerun realloc plan for this folder"
        )
    try:  # unchanged since realloc wrote them, but perhaps by a realloc of another version
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        portfolio = Portfolio.model_validate_json((folder / "inputs.json").read_bytes())
    except (OSError, ValueError) as e:
        raise InputError(
            f"{folder}: cannot be read as this realloc's plan ({cut(e, 120)})"
        ) from None
    if summary.get("status") not in ("optimal", "unfunded"):
        raise InputError(f"{folder}: the plan is {summary.get('status')}: no decisions to evaluate")
    tables = first_stage_frames(folder)
    return FittedPlan(folder, portfolio, tables, summary, run.get("market_paths"))


def _check_tables(plan: FittedPlan, scenario, relax: bool) -> None:
    """The plan's first-stage tables name only what its portfolio has (else InputError)."""
    from realloc.optimizer.build import build_model
    from realloc.optimizer.index import Scenario, build_index
    from realloc.optimizer.stages import fixed_first_stage

    m = build_model(build_index(plan.portfolio, [Scenario("check", 1.0, scenario.market)]), relax)
    try:
        fixed_first_stage(m, plan.tables)
    except (KeyError, AttributeError, ValueError, TypeError) as e:
        raise InputError(f"{plan.folder}: {e}") from None


def _spec(plan: FittedPlan, forecast: Path | None):
    """The forecast spec to draw from, and what to call it."""
    from realloc.inputs.forecast_loader import load_forecast_spec
    from realloc.models.forecast import ForecastSpec

    if forecast is not None:
        return load_forecast_spec(forecast), str(forecast)
    if plan.market is not None:
        return ForecastSpec.model_validate(plan.market["spec"]), "the plan's own forecast"
    raise InputError(
        f"{plan.folder}: run.json records no forecast the plan was fitted on (a deterministic "
        "plan, named scenarios, or an older realloc): give --forecast SPEC"
    )


@dataclass
class Evaluation:
    """Per-path values of a plan on fresh paths and their summary (evaluation.json)."""

    paths: pd.DataFrame
    summary: dict
    plan_dir: Path
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def expected_value_usd(self) -> float:
        return self.summary["expected_value_usd"]

    @property
    def cvar_usd(self) -> float:
        return self.summary["cvar_usd"]

    @_input_errors
    def write(self, out_dir: Path | str) -> Path:
        """evaluation.csv, evaluation.json and evaluation.png, swapped in at once (only over an
        evaluation folder realloc wrote)."""
        from realloc.reports.evaluation_files import write_evaluation

        return write_evaluation(self, _as_path(out_dir, "out_dir"))


def summarize(values: pd.DataFrame, alpha: float) -> dict:
    """evaluation.json's figures from evaluation.csv's rows (value charged the shortfall)."""
    from realloc.optimizer.saa import cvar_ci95, mean_ci95

    v = values["value_usd"].to_numpy(dtype=float)
    mean = mean_ci95(v)
    cvar, cvar_ci = cvar_ci95(v, alpha)
    base = mean_ci95(values["baseline_value_usd"].to_numpy(dtype=float))
    return {
        "paths": len(v),
        "expected_value_usd": mean.mean_usd,
        "expected_value_ci95_usd": list(mean.ci95_usd),
        "expected_value_std_error_usd": mean.std_error_usd,
        "cvar_alpha": alpha,
        "cvar_usd": cvar,
        "cvar_ci95_usd": list(cvar_ci),
        "baseline_expected_value_usd": base.mean_usd,
        "shortfall_paths_share": float((values["shortfall_usd"] > 0.5).mean()),
        "shortfall_expected_usd": float(values["shortfall_usd"].mean()),
        "methods": {
            "expected_value_ci95": "normal approximation: mean ± 1.96·s/√M (s: sample standard "
            "deviation of the M path values)",
            "cvar_ci95": "percentile bootstrap: 1000 resamples of the M path values, fixed seed "
            "(optimizer/saa.py), 2.5th and 97.5th percentiles of the resampled CVaR",
            "value_usd": "per path: the plan's first stage fixed, recourse re-optimized; a path "
            "the plan cannot fund is charged its least funding gap at face value",
        },
    }


def _say(log, msg: str) -> None:
    if log is not None:
        log(msg)


def _bar(progress, total: int):
    """A tqdm bar on stderr (None: when stderr is a terminal), or a ``progress(done, total)``."""
    if callable(progress):
        progress(0, total)
        return None
    from tqdm import tqdm

    shown = sys.stderr.isatty() if progress is None else bool(progress)
    return tqdm(total=total, desc="evaluate", unit="path", file=sys.stderr,
                disable=not shown, dynamic_ncols=True)  # fmt: skip


def run_paths(plan: FittedPlan, scenarios, settings, executor, workers, scheduler, progress):
    """Every path's row, on the executor (in path order)."""
    from realloc.optimizer.evaluate import EvaluationTask
    from realloc.optimizer.sweep import make_executor

    tasks = [
        EvaluationTask(
            f"paths-{i}", plan.portfolio, plan.tables, scenarios[i : i + CHUNK_PATHS], settings
        )
        for i in range(0, len(scenarios), CHUNK_PATHS)
    ]
    bar, done, frames = _bar(progress, len(scenarios)), 0, []
    try:
        with make_executor(executor, workers, scheduler) as ex:
            for out in ex.run(tasks):
                if "evaluation" not in out.tables:
                    raise RuntimeError(f"an evaluation batch failed: {out.row.get('reason')}")
                frame = out.tables["evaluation"]
                frames.append(frame)
                done += len(frame)
                if bar is not None:
                    bar.update(len(frame))
                elif callable(progress):
                    progress(done, len(scenarios))
    finally:
        if bar is not None:
            bar.close()
    order = {sc.name: i for i, sc in enumerate(scenarios)}
    rows = pd.concat(frames, ignore_index=True)
    return rows.sort_values("path", key=lambda s: s.map(order)).reset_index(drop=True)


@_input_errors
def evaluate(
    plan_dir: Path | str,
    *,
    paths: int = 1000,
    forecast: Path | str | None = None,
    seed: int | None = None,
    workers: int | None = None,
    executor: str | None = None,
    scheduler: str | None = None,
    out_dir: Path | str | None = None,
    progress=None,
    log=None,
) -> Evaluation:
    """Evaluate the plan in ``plan_dir`` on ``paths`` fresh market paths drawn from
    ``forecast`` (default: the forecast the plan was fitted on, recorded in run.json) with
    ``seed`` (default: one derived from the plan's seed, :func:`derived_seed`, never the plan's
    own). Each path's recourse is re-optimized with the plan's first stage fixed, on the
    executors of sweeps (``executor`` local or dask, ``workers``, ``scheduler``). With
    ``out_dir`` the evaluation folder is written. ``progress`` as for :func:`realloc.sweep`.
    """
    from realloc import options as o
    from realloc.batch import _executor
    from realloc.optimizer.sweep import SweepSettings

    started = time.perf_counter()
    paths = _checked(paths, o.PATHS, "paths")
    plan = read_plan(_as_path(plan_dir, "plan_dir"))
    forecast = _as_path(forecast, "forecast") if forecast is not None else None
    scenarios, drawn = _draw(plan, forecast, seed, paths, log)
    executor = _executor(executor, scheduler)
    workers = workers or os.cpu_count() or 1
    solver = plan.summary.get("solver") or {}
    settings = SweepSettings(
        relax=bool(solver.get("relaxed_min_commitments", False)),
        mip_rel_gap=float(solver.get("mip_gap") or 1e-4),
    )
    _check_tables(plan, scenarios[0], settings.relax)
    rows = run_paths(plan, scenarios, settings, executor, workers, scheduler, progress)
    summary, notes = _summary(plan, rows, drawn, log)
    result = Evaluation(rows, summary, plan.folder, time.perf_counter() - started, notes)
    if out_dir is not None:
        result.write(out_dir)
    return result


def _draw(plan: FittedPlan, forecast: Path | None, seed, paths: int, log):
    """The fresh paths, and what evaluation.json records of them (seeds, forecast)."""
    from realloc.inputs.market_scenarios import scenarios_from_forecast

    spec, named = _spec(plan, forecast)
    fitted_seed = int((plan.market or {}).get("seed", spec.seed))
    if seed is None:
        seed = derived_seed(fitted_seed, EVALUATION_SEED_KEY)
    elif isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise InputError(f"seed must be a whole number from 0 to 2**63 - 1, not {seed!r:.40}")
    _say(log, f"drawing {paths} fresh paths from {named} (seed {seed})")
    fresh = spec.model_copy(update={"seed": seed})
    drawn = {"seed": seed, "fitted_seed": fitted_seed, "forecast": named}
    return scenarios_from_forecast(fresh, plan.portfolio, paths), drawn


def _summary(plan: FittedPlan, rows: pd.DataFrame, drawn: dict, log) -> tuple[dict, list[str]]:
    """evaluation.json: the figures over the paths with a value, and notes on any without."""
    valued = rows[rows["status"].isin(["optimal", "unfunded"])]
    if valued.empty:
        first = rows.iloc[0]
        raise RuntimeError(f"no path has a value ({first['path']}: {first['reason']})")
    notes = []
    if len(valued) < len(rows):
        missing = rows[~rows.index.isin(valued.index)]
        notes.append(
            f"{len(missing)} of {len(rows)} paths have no value and are left out of the figures "
            f"({', '.join(missing['path'].head(5))}: {missing['reason'].iloc[0]})"
        )
        _say(log, f"warning: {notes[-1]}")
    summary = summarize(valued, plan.cvar_alpha) | drawn
    summary |= {
        "paths_drawn": len(rows),
        "paths_without_value": len(rows) - len(valued),
        "notes": notes,
        "plan_dir": str(plan.folder.resolve()),
        "in_sample": plan.in_sample,
    }
    ins = plan.in_sample["expected_value_usd"]
    summary["optimism_usd"] = None if ins is None else ins - summary["expected_value_usd"]
    return summary, notes


def first_stage_frames(folder: Path) -> dict[str, pd.DataFrame]:
    """The first-stage tables a plan folder holds (optimizer/stages.first_stage_tables; grid.csv
    and funding.csv exist only with their inputs)."""
    from realloc.optimizer.stages import first_stage_tables

    return {
        n: pd.read_csv(folder / f"{n}.csv")
        for n in first_stage_tables()
        if (folder / f"{n}.csv").exists()
    }
