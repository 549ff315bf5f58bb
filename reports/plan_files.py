"""Write a plan's public files: summary.json, inputs.json, the CSV tables, summary.md, run.json.

File names and columns are the public contract users script against (README "Outputs").
Everything but ``run.json`` is a function of the inputs alone, so the same inputs give
byte-identical files; the facts that change from run to run (time, timings, host, package
versions) live in ``run.json`` only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import socket
import stat
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pandas as pd

from realloc.optimizer import OBJECTIVE_TERMS, PlanResult, StochasticAnalysis
from realloc.optimizer.financing import FINANCING_TERMS
from realloc.optimizer.funding import FUNDING_COLUMNS
from realloc.optimizer.grid_extract import GRID_COLUMNS, idle_grid
from realloc.optimizer.statistics import headline, path_probabilities, value_split_fields
from realloc.reports.atomic import MARKER, STAGING, OutputSpec, staged_dir, write_marker
from realloc.reports.safe_text import write_csv
from realloc.reports.stochastic_report import write_stochastic_files
from realloc.reports.summary_md import summary_markdown

BASE_TERMS = tuple(n for n in OBJECTIVE_TERMS if n not in FINANCING_TERMS)
"""The value terms of a plan without financing (its summary.json lists only these)."""
PLAN_COLUMNS = ["month", "site", "use", "detail", "power_mw", "it_mw"]
TREASURY_COLUMNS = [
    "month",
    "btc_price_usd",
    "btc_mined",
    "btc_sold",
    "usd_raised",
    "btc_held",
    "cash_usd",
]


def portfolio_sha256(result: PlanResult) -> str:
    """Hash of the validated inputs (CSV series included), so a figure can be traced to them."""
    canonical = result.portfolio.model_dump_json(round_trip=True).encode()
    return hashlib.sha256(canonical).hexdigest()


def stochastic_block(result: PlanResult, analysis: StochasticAnalysis | None) -> dict | None:
    """summary.json's ``stochastic`` section: the value distribution, and with an analysis the
    VSS, EVPI and frontier (None for a single-scenario plan)."""
    if analysis is not None:
        block = analysis.summary()
        block["frontier"] = analysis.frontier.to_dict(orient="records")
        return block
    if result.scenario_values is None or result.distribution is None:
        return None
    risk = result.risk
    return {
        "scenarios": len(result.scenario_values),
        "cvar_alpha": result.distribution.cvar_alpha,
        "risk_weight": risk.risk_weight if risk else 0.0,
        **result.distribution.as_dict(),
    }


def summary_dict(result: PlanResult, analysis: StochasticAnalysis | None = None) -> dict:
    """The content of summary.json: the headline figures (optimizer/statistics.py: expected
    over the market paths) and what the plan was made with."""
    t, h = result.tables, headline(result)
    summary = {
        "portfolio": result.portfolio.name,
        "status": result.status,
        "value_usd": h.value_usd,
        "baseline_value_usd": h.baseline_value_usd,
        "baseline_status": result.baseline_status,
        "uplift_usd": h.uplift_usd,
        "btc_sold_total": h.btc_sold_total,
        "usd_raised_total": h.usd_raised_total,
        "it_mw_converted_total": h.it_mw_converted_total,
        "funding_gap_total_usd": h.funding_gap_total_usd,
        "min_cash_usd": result.portfolio.treasury.min_cash_usd,  # the floor (an input)
        **_idle_grid(result),
        "value_terms_usd": t.value_terms_usd if t is not None else {},
        "baseline_value_terms_usd": result.baseline_value_terms_usd,
        "value_terms_order": list(
            OBJECTIVE_TERMS if t is not None and t.funding is not None else BASE_TERMS
        ),
        **value_split_fields(t.value_terms_usd if t else None, result.baseline_value_terms_usd),
        "solver": {
            "name": result.solver,
            "relaxed_min_commitments": result.relaxed,
            "mip_gap": result.mip_gap,
        },
        "model_size": result.model_size,
        "inputs_sha256": portfolio_sha256(result),
        "verification": result.verification.as_records() if result.verification else [],
        "diagnosis": result.diagnosis,
    }
    if result.flexibility:  # only with curtailment credits or firm-load charges
        summary["flexibility_by_site"] = result.flexibility
    if result.without_rent_after_horizon is not None:
        summary["decisions_without_rent_after_horizon"] = result.without_rent_after_horizon
    if t is not None:
        summary.update(t.funding_summary)  # the funding keys, only with a financing section
    block = stochastic_block(result, analysis)
    if block is not None:
        summary["stochastic"] = block
    return summary


def _idle_grid(result: PlanResult) -> dict:
    """``idle_grid_mw_months`` and ``idle_grid_cost_usd`` (None without a plan)."""
    if result.tables is None:
        return {"idle_grid_mw_months": None, "idle_grid_cost_usd": None}
    prob = path_probabilities(result.scenario_values)
    return idle_grid(result.tables.plan, result.portfolio, prob)


def saa_text(summary: dict) -> str:
    """summary.md's optimality-gap section (empty without replications)."""
    from realloc.reports.saa_md import saa_words

    return f"\n## Is N paths enough?\n\n{saa_words(summary['saa'])}\n" if "saa" in summary else ""


def inputs_json(result: PlanResult) -> str:
    """inputs.json: the validated portfolio, every field with its default filled in and CSV
    series resolved to lists, in the models' field order (no volatile data: same inputs, same
    bytes). The board report's input appendix is built from it."""
    return json.dumps(result.portfolio.model_dump(mode="json"), indent=2) + "\n"


PACKAGES = ("realloc", "highspy", "pulp", "numpy", "pandas", "pydantic", "pyyaml", "openpyxl")
"""Packages whose versions can change a plan's figures or files; recorded in run.json."""


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def run_manifest(
    result: PlanResult,
    files: dict[str, bytes],
    source: Path | None,
    source_sha256: str | None = None,
) -> dict:
    """The content of run.json: when, where and with what the plan was made, how long each stage
    took, and the SHA-256 of the inputs and of every other file written.

    ``source_sha256`` is the hash of the portfolio file's bytes, taken by the caller when it
    read them with realloc's bounded reader (the file is not read again here: it may have
    become a FIFO or grown since)."""
    manifest: dict = {
        "created_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "command": sys.argv,
        "packages": {name: _version(name) for name in PACKAGES},
        "solver": {"name": result.solver, "version": result.solver_version},
        "seconds": {k: round(v, 4) for k, v in result.seconds.items()},
        "inputs_sha256": portfolio_sha256(result),
    }
    if source is not None:
        manifest["input_file"] = str(source)
        if source_sha256 is not None:
            manifest["input_file_sha256"] = source_sha256
    manifest["files_sha256"] = {n: hashlib.sha256(b).hexdigest() for n, b in sorted(files.items())}
    return manifest


def write_plan(
    result: PlanResult,
    out_dir: Path | str,
    source: Path | None = None,
    analysis: StochasticAnalysis | None = None,
    spec: OutputSpec | None = None,
    then: Callable[[Path], object] | None = None,
    source_sha256: str | None = None,
    facts: dict | None = None,
    extra_summary: dict | None = None,
) -> Path:
    """Write every output file of ``result`` into ``out_dir`` (atomically, and only over a
    plan folder realloc wrote: reports/atomic.py); return the folder.

    ``source`` (the portfolio file) and ``source_sha256`` (its bytes' hash) go into run.json
    when given; ``analysis`` (a
    stochastic plan's frontier, VSS and EVPI) adds its files. ``spec`` says which existing
    folder may be replaced (default: a plan folder). ``then`` is called with the staged folder
    once the plan is in it (the board report), so both land in the same single swap.
    ``facts`` are added to run.json (the forecast a stochastic plan was drawn from) and
    ``extra_summary`` to summary.json (the optimality-gap bounds of replications).
    """
    out_dir = Path(out_dir)
    spec = spec or OutputSpec("plan", source)
    with staged_dir(out_dir, spec) as stage:
        summary = summary_dict(result, analysis) | (extra_summary or {})
        (stage / "summary.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
        (stage / "inputs.json").write_text(inputs_json(result))
        _write_tables(stage, result, analysis, summary)
        (stage / "summary.md").write_text(summary_markdown(result, summary) + saa_text(summary))
        names = [f.name for f in stage.iterdir() if f.is_file() and f.name != STAGING]
        write_marker(stage, spec, [*names, "run.json"])  # before run.json, which vouches for it
        files = {n: (stage / n).read_bytes() for n in sorted([*names, MARKER])}
        manifest = run_manifest(result, files, source, source_sha256) | (facts or {})
        (stage / "run.json").write_text(json.dumps(manifest, indent=2) + "\n")
        if then is not None:
            then(stage)
    return out_dir


def _write_tables(
    stage: Path, result: PlanResult, analysis: StochasticAnalysis | None, summary: dict
) -> None:
    """The plan's CSV tables (and a stochastic plan's extra files) into ``stage``; nothing
    when the solve produced no tables. Kept apart from write_plan, which owns the staging,
    marker and manifest around them."""
    t = result.tables
    if t is None:
        return
    write_csv(
        t.plan,
        stage / "plan.csv",
        (["scenario"] if "scenario" in t.plan.columns else []) + PLAN_COLUMNS,
    )
    write_csv(
        t.treasury,
        stage / "treasury.csv",
        (["scenario"] if "scenario" in t.treasury.columns else []) + TREASURY_COLUMNS,
    )
    write_csv(t.conversions, stage / "conversions.csv")
    write_csv(t.contracts, stage / "contracts.csv")
    write_csv(t.rig_sales, stage / "rig_sales.csv")
    write_csv(t.cashflows, stage / "cashflows.csv")
    if result.baseline_cashflows is not None:
        write_csv(result.baseline_cashflows, stage / "baseline_cashflows.csv")
    write_csv(t.shadow_prices, stage / "shadow_prices.csv")
    if not t.grid.empty:  # only with grid hold costs or sale options
        write_csv(t.grid, stage / "grid.csv", GRID_COLUMNS)
    if t.funding is not None:
        several = t.funding["scenario"].nunique() > 1
        columns = [c for c in FUNDING_COLUMNS if several or c != "scenario"]
        write_csv(t.funding, stage / "funding.csv", columns)
    if result.status == "unfunded":
        keys = ["scenario"] if "scenario" in t.funding_gap.columns else []
        write_csv(t.funding_gap, stage / "funding_gap.csv", [*keys, "month", "gap_usd"])
    write_csv(pd.DataFrame(result.verification.as_records()), stage / "verification.csv")
    if result.scenario_values is not None:
        write_stochastic_files(
            stage,
            result.scenario_values,
            analysis.frontier if analysis is not None else None,
            summary["stochastic"],
        )


def edited_files(run_dir: Path) -> list[str]:
    """Files of a plan folder whose bytes differ from the SHA-256 that ``run.json`` recorded
    when the plan was written (``["run.json"]`` when it holds no such record).

    A report that fails on a plan folder must say whether the folder was edited (bad input:
    exit 2, naming the files) or is exactly as realloc wrote it (a bug: exit 1). Hand-edited
    CSVs (text where numbers were, a column removed, a 3-million-row plan.csv) used to end
    in internal errors from pandas, Arrow or openpyxl.
    """
    try:
        recorded = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))["files_sha256"]
        assert isinstance(recorded, dict)
    except Exception:
        return ["run.json"]
    return [
        str(name)
        for name, digest in sorted(recorded.items())
        if _regular_file_sha256(run_dir / str(name)) != digest
    ]


def _regular_file_sha256(path: Path) -> str | None:
    """SHA-256 of a regular file's bytes, or None for anything else (missing, a symlink, a FIFO
    or device: opened without following links and without blocking, so a FIFO planted in the
    folder cannot hang the check)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except (OSError, ValueError):
        return None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return hashlib.file_digest(f, "sha256").hexdigest()
