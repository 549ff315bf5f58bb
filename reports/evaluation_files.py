"""The files of ``realloc evaluate --out``: evaluation.csv (one row per fresh path),
evaluation.json (expected value and CVaR with intervals, beside the plan's in-sample figures)
and evaluation.png (the out-of-sample value distribution), swapped in at once (marker kind
``evaluation``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from realloc.reports.atomic import OutputSpec, staged_dir
from realloc.reports.safe_text import write_csv
from realloc.reports.stochastic_report import _figure, _musd, _save

CSV_COLUMNS = ["path", "status", "value_usd", "baseline_value_usd", "shortfall_usd", "reason"]


def write_evaluation(evaluation, out: Path) -> Path:
    """Write ``evaluation`` (realloc/evaluation.Evaluation) into ``out``; return it."""
    spec = OutputSpec("evaluation", evaluation.plan_dir)
    with staged_dir(out, spec) as stage:
        frame = evaluation.paths[CSV_COLUMNS].copy()
        for c in ("value_usd", "baseline_value_usd", "shortfall_usd"):
            frame[c] = frame[c].round(2)
        write_csv(frame, stage / "evaluation.csv")
        text = json.dumps(evaluation.summary, indent=2, default=float) + "\n"
        (stage / "evaluation.json").write_text(text, encoding="utf-8")
        distribution_chart(evaluation.paths, evaluation.summary, stage / "evaluation.png")
    return out


def distribution_chart(paths, summary: dict, path: Path) -> None:
    """Histogram of the plan's values on the fresh paths, with the out-of-sample and in-sample
    expected value and CVaR marked (the status quo, far below, is in evaluation.csv)."""
    fig = _figure(figsize=(7.5, 4.2), layout="constrained")
    ax = fig.add_subplot()
    plan = paths["value_usd"].dropna()
    bins = np.histogram_bin_edges(plan.to_numpy(), bins=min(40, len(paths) + 1))
    ax.hist(plan, bins=bins, alpha=0.65, color="#1f5fa8", label="plan, one path each")
    ins = summary.get("in_sample") or {}
    alpha = summary.get("cvar_alpha", 0.95)
    marks = [
        (summary.get("expected_value_usd"), "expected (fresh paths)", "#111111", "-"),
        (summary.get("cvar_usd"), f"CVaR {alpha:.0%} (fresh paths)", "#c0392b", "-"),
        (ins.get("expected_value_usd"), "expected (fitted paths)", "#111111", ":"),
        (ins.get("cvar_usd"), f"CVaR {alpha:.0%} (fitted paths)", "#c0392b", ":"),
    ]
    for x, label, color, style in marks:
        if x is not None:
            ax.axvline(x, color=color, linestyle=style, label=label)
    ax.xaxis.set_major_formatter(_musd())
    ax.set_xlabel("value over the horizon (discounted)")
    ax.set_ylabel("paths")
    ax.set_title(f"Plan value on {len(paths)} paths it was not fitted to")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    _save(fig, path)
