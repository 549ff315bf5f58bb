"""The board report's "How the plan holds on paths it was not fitted to": in-sample against
out-of-sample expected value and CVaR with their intervals, the optimism of fitting on N paths
in words, and the out-of-sample value distribution (from ``realloc evaluate``'s folder, given
to ``realloc report --evaluation EVAL_DIR``)."""

from __future__ import annotations

import json
from pathlib import Path

from realloc.reports.atomic import read_owner
from realloc.reports.board.data import NotARunFolder
from realloc.reports.board.markup import esc, img, kv_table
from realloc.reports.board.risk_section import musd


def load_evaluation(eval_dir: Path, run_dir: Path) -> tuple[dict, bytes | None]:
    """evaluation.json and evaluation.png of ``eval_dir``, which must be an evaluation realloc
    wrote of the plan in ``run_dir`` (else :class:`NotARunFolder`, exit 2)."""
    eval_dir = Path(eval_dir)
    owner = read_owner(eval_dir) if eval_dir.is_dir() else None
    if owner is None or owner.kind != "evaluation":
        raise NotARunFolder(f"{eval_dir} is not a `realloc evaluate` folder")
    try:
        data = json.loads((eval_dir / "evaluation.json").read_text(encoding="utf-8"))
        assert isinstance(data, dict) and isinstance(data.get("in_sample"), dict)
        float(data["expected_value_usd"]), float(data["cvar_usd"])
    except Exception:
        raise NotARunFolder(f"{eval_dir}/evaluation.json is not as realloc wrote it") from None
    if Path(str(data.get("plan_dir"))).resolve() != Path(run_dir).resolve():
        raise NotARunFolder(
            f"{eval_dir} evaluates the plan in {data.get('plan_dir')}, not {run_dir}"
        )
    png = eval_dir / "evaluation.png"
    return data, png.read_bytes() if png.is_file() else None


def _interval(pair) -> str:
    lo, hi = pair
    return f"{musd(lo)} to {musd(hi)}"


def optimism_words(ev: dict) -> str:
    """The optimism of fitting on N paths, in words."""
    ins = ev["in_sample"]
    n, m = ins.get("paths"), ev["paths"]
    gap = ins["expected_value_usd"] - ev["expected_value_usd"]
    lo, hi = ev["expected_value_ci95_usd"]
    inside = lo <= ins["expected_value_usd"] <= hi
    verb = "over-states" if gap > 0 else "under-states"
    tail = (
        "within the 95 % interval of the fresh estimate, so the difference may be chance"
        if inside
        else "outside the 95 % interval of the fresh estimate: the fitted figure is optimistic"
        if gap > 0
        else "outside the 95 % interval of the fresh estimate"
    )
    words = (
        f"Fitted on {n} path(s), the plan's expected value {verb} what it earns on {m} fresh "
        f"paths by {musd(abs(gap))} ({tail})."
    )
    if ins.get("cvar_usd") is not None and n:
        alpha = float(ev.get("cvar_alpha", 0.95))
        words += (
            f" Its CVaR {alpha:.0%} rests on the worst {1 - alpha:.0%} of paths: "
            f"{n * (1 - alpha):g} of the {n} fitted ones ({musd(ins['cvar_usd'])}) against "
            f"{m * (1 - alpha):g} of the {m} fresh ones ({musd(ev['cvar_usd'])})."
        )
    return words


def evaluation_section(ev: dict | None, png: bytes | None) -> str:
    """The section's HTML ('' when no evaluation was given)."""
    if not ev:
        return ""
    ins, alpha = ev["in_sample"], float(ev.get("cvar_alpha", 0.95))
    rows = [
        ("Fresh paths (seed)", f"{ev['paths']} ({ev.get('seed')})"),
        ("Expected value, fitted paths", musd(ins.get("expected_value_usd"))),
        ("Expected value, fresh paths", musd(ev["expected_value_usd"])),
        ("  95 % interval", _interval(ev["expected_value_ci95_usd"])),
        (f"CVaR {alpha:.0%}, fitted paths", musd(ins.get("cvar_usd"))),
        (f"CVaR {alpha:.0%}, fresh paths", musd(ev["cvar_usd"])),
        ("  95 % interval", _interval(ev["cvar_ci95_usd"])),
        ("Paths the plan cannot fund", f"{ev['shortfall_paths_share']:.1%}"),
    ]
    return "\n".join(
        [
            '<section id="evaluation"><h2>How the plan holds on paths it was not fitted to</h2>',
            "<p>The plan's conversions, contracts and rig sales were held fixed and run on "
            "market paths drawn afresh from the same forecast; on each, mining, BTC sales and "
            "cash were re-optimized. "
            f"{esc(optimism_words(ev))} The expected value's interval is the normal "
            "approximation (mean ± 1.96 standard errors); CVaR's is a bootstrap.</p>",
            kv_table(rows),
            img(
                png,
                "Plan value on fresh paths",
                "The plan's value on each fresh path; "
                "solid lines: fresh-path figures, dotted: fitted-path figures.",
            ),
            "</section>",
        ]
    )
