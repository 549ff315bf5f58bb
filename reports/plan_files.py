"""Write a plan's public files: summary.json, the CSV tables and summary.md.

File names and columns are the public contract users script against (README "Outputs").
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

from optimizer import OBJECTIVE_TERMS, PlanResult
from reports.atomic import staged_dir
from reports.summary_md import summary_markdown

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


def summary_dict(result: PlanResult) -> dict:
    """The content of summary.json."""
    t = result.tables
    btc_sold = float(t.treasury["btc_sold"].sum()) if t is not None else None
    converted = float(t.conversions["it_mw"].sum()) if t is not None else 0.0
    gap = float(t.funding_gap["gap_usd"].sum()) if t is not None else None
    return {
        "portfolio": result.portfolio.name,
        "status": result.status,
        "value_usd": result.value_usd,
        "baseline_value_usd": result.baseline_value_usd,
        "baseline_status": result.baseline_status,
        "uplift_usd": result.uplift_usd,
        "btc_sold_total": btc_sold,
        "usd_raised_total": float(t.treasury["usd_raised"].sum()) if t is not None else None,
        "it_mw_converted_total": converted,
        "funding_gap_total_usd": gap,
        "min_cash_usd": result.portfolio.treasury.min_cash_usd,
        "value_terms_usd": t.value_terms_usd if t is not None else {},
        "baseline_value_terms_usd": result.baseline_value_terms_usd,
        "value_terms_order": list(OBJECTIVE_TERMS),
        "solver": {
            "name": result.solver,
            "version": result.solver_version,
            "relaxed_min_commitments": result.relaxed,
            "mip_gap": result.mip_gap,
        },
        "seconds": {k: round(v, 4) for k, v in result.seconds.items()},
        "model_size": result.model_size,
        "inputs_sha256": portfolio_sha256(result),
        "verification": result.verification.as_records() if result.verification else [],
        "diagnosis": result.diagnosis,
    }


def _csv(frame: pd.DataFrame, path: Path, columns: list[str] | None = None) -> None:
    if columns is not None:
        frame = frame.reindex(columns=columns)
    frame.to_csv(path, index=False, lineterminator="\n")


def write_plan(result: PlanResult, out_dir: Path | str) -> Path:
    """Write every output file of ``result`` into ``out_dir`` (atomically); return the folder."""
    out_dir = Path(out_dir)
    with staged_dir(out_dir) as stage:
        summary = summary_dict(result)
        (stage / "summary.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
        t = result.tables
        if t is not None:
            _csv(
                t.plan,
                stage / "plan.csv",
                (["scenario"] if "scenario" in t.plan.columns else []) + PLAN_COLUMNS,
            )
            _csv(
                t.treasury,
                stage / "treasury.csv",
                (["scenario"] if "scenario" in t.treasury.columns else []) + TREASURY_COLUMNS,
            )
            _csv(t.conversions, stage / "conversions.csv")
            _csv(t.contracts, stage / "contracts.csv")
            _csv(t.rig_sales, stage / "rig_sales.csv")
            _csv(t.cashflows, stage / "cashflows.csv")
            if result.baseline_cashflows is not None:
                _csv(result.baseline_cashflows, stage / "baseline_cashflows.csv")
            _csv(t.shadow_prices, stage / "shadow_prices.csv")
            if result.status == "unfunded":
                _csv(t.funding_gap, stage / "funding_gap.csv", ["month", "gap_usd"])
            pd.DataFrame(result.verification.as_records()).to_csv(
                stage / "verification.csv", index=False, lineterminator="\n"
            )
        (stage / "summary.md").write_text(summary_markdown(result, summary))
    return out_dir
