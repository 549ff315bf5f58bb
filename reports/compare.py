"""Compare the variants of a sweep: a side-by-side table and charts, from ``variants.parquet``.

Files written (into the sweep folder unless told otherwise):

- ``comparison.md`` — counts by status, the value range, the sensitivity of uplift to each swept
  parameter, and one row per variant (parameters, status, value, baseline, uplift in $M, IT MW
  converted per site, BTC sold, minimum cash, first conversion month);
- ``comparison.csv`` — the same table in plain units, one row per variant;
- ``tornado.png`` — uplift at the lowest and highest value of each swept parameter, the others
  held at their base level (or, when the grid holds no such point, averaged over the others);
- ``heatmap.png`` — mean uplift over the two most influential parameters (two-parameter grids);
- ``value_histogram.png`` — distribution of plan and status-quo value over the variants;
- ``variant_values.png`` — value and status-quo value per variant, for sets of up to 40.

Each variant's figures are its plan's headline figures as the sweep stored them
(optimizer/statistics.py: expected over market paths, the figures its summary.json holds);
``min_cash_usd`` is the lowest month-end cash, not the cash floor.

A parameter a variant does not set is at its base level (``param_base`` in ``sweep.json``:
1 for a scale, 0 for an add, the portfolio's own value for a set).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from realloc.reports.atomic import COMPARISON_FILES, OutputSpec, check_output_folder, staged_dir
from realloc.reports.safe_text import md_text, write_csv
from realloc.reports.summary_md import money
from realloc.reports.sweep_store import SweepStore, read_manifest, read_variants

SOLVED = ("optimal", "unfunded")
"""Statuses with a plan (and so a value)."""
MAX_BAR_VARIANTS = 40
MAX_MD_ROWS = 1000


def param_label(column: str, name: Callable[[str], str] = str) -> str:
    """``contracts[Meridian].rate_usd_per_kw_month`` → ``Meridian rate_usd_per_kw_month``;
    ``market.hashprice_usd_per_ph_day:scale`` → ``hashprice_usd_per_ph_day ×``. ``name``
    formats the list items' names (:func:`md_text` for Markdown)."""
    path, _, op = column.partition(":")
    names, field, depth, buf = [], "", 0, ""
    for ch in path:
        if ch == "[":
            depth += 1
            buf = ""
        elif ch == "]":
            depth -= 1
            names.append(buf)
        elif depth:
            buf += ch
    field = path.rsplit(".", 1)[-1].split("[")[0]
    who = " ".join(name(n) for n in names if n != "*")
    every = " (all)" if "*" in names else ""
    suffix = {"scale": " ×", "add": " +"}.get(op, "")
    return f"{who + ' ' if who else ''}{field}{every}{suffix}"


def level_text(column: str, v: float) -> str:
    op = column.partition(":")[2]
    if op == "scale":
        return f"×{v:g}"
    if op == "add":
        return f"{v:+g}"
    return f"{v:,.6g}"


@dataclass
class Swing:
    """Uplift at the low and high level of one parameter."""

    column: str
    low: float
    high: float
    uplift_low: float
    uplift_high: float
    exact: bool  # both points are in the grid with the other parameters at base

    @property
    def width(self) -> float:
        return abs(self.uplift_high - self.uplift_low)


class Comparison:
    """The variants of one sweep, with parameters filled to their base level."""

    def __init__(self, frame: pd.DataFrame, manifest: dict):
        self.frame = frame
        self.manifest = manifest
        columns = manifest.get("param_columns")
        if columns is None:  # infer: the columns between group and status
            cols = list(frame.columns)
            columns = cols[cols.index("group") + 1 : cols.index("status")]
        self.param_columns = [c for c in columns if c in frame.columns]
        base = manifest.get("param_base") or {}
        self.filled = frame.copy()
        for c in self.param_columns:
            b = base.get(c)
            if b is None:
                b = {"scale": 1.0, "add": 0.0}.get(c.partition(":")[2])
            if b is not None and pd.api.types.is_numeric_dtype(frame[c]):
                self.filled[c] = frame[c].fillna(b)
        self.base = {c: base.get(c) for c in self.param_columns}
        self.solved = self.filled[self.filled["status"].isin(SOLVED)].copy()
        # sensitivities need one parameter moving at a time: the largest grid's solved points
        # (named variants often move several parameters together)
        grids = self.solved[self.solved["group"] != "variants"]
        self.grid_name = grids["group"].value_counts().index[0] if len(grids) else None
        self.grid = grids[grids["group"] == self.grid_name] if self.grid_name else grids
        self.numeric = [
            c
            for c in self.param_columns
            if pd.api.types.is_numeric_dtype(self.filled[c])
            and self.grid[c].dropna().nunique() >= 2
        ]

    def center(self, column: str) -> float:
        """The level of ``column`` that stands for 'base': its base value if the grid has it,
        else the level nearest to it (the lower one on a tie), else the median level."""
        levels = np.sort(self.grid[column].dropna().unique())
        b = self.base.get(column)
        if b is None:
            b = {"scale": 1.0, "add": 0.0}.get(column.partition(":")[2])
        if b is None:
            return float(levels[len(levels) // 2])
        return float(levels[np.argmin(np.abs(levels - b))])

    def _at_centers(self, frame: pd.DataFrame, except_columns: tuple[str, ...]) -> pd.DataFrame:
        mask = np.ones(len(frame), dtype=bool)
        for c in self.numeric:
            if c not in except_columns:
                mask &= np.isclose(frame[c].to_numpy(dtype=float), self.center(c))
        return frame[mask]

    def swings(self) -> list[Swing]:
        """One :class:`Swing` per swept parameter, widest first."""
        out = []
        s = self.grid
        for c in self.numeric:
            lo, hi = float(s[c].min()), float(s[c].max())
            sliced = self._at_centers(s, (c,))
            at_lo = sliced[np.isclose(sliced[c], lo)]["uplift_usd"]
            at_hi = sliced[np.isclose(sliced[c], hi)]["uplift_usd"]
            exact = len(at_lo) > 0 and len(at_hi) > 0
            if not exact:  # marginal means over every other parameter
                at_lo = s[np.isclose(s[c], lo)]["uplift_usd"]
                at_hi = s[np.isclose(s[c], hi)]["uplift_usd"]
            out.append(Swing(c, lo, hi, float(at_lo.mean()), float(at_hi.mean()), exact))
        return sorted(out, key=lambda w: w.width, reverse=True)

    def center_uplift(self) -> tuple[float, bool]:
        """Uplift with every parameter at base (exact) or the median uplift (not exact)."""
        at = self._at_centers(self.grid, ())
        if len(at):
            return float(at["uplift_usd"].mean()), True
        return float(self.grid["uplift_usd"].median()), False


def _musd(v) -> str:
    return "" if v is None or pd.isna(v) else f"{v / 1e6:,.1f}"


def _num(v, digits: int = 1) -> str:
    return "" if v is None or pd.isna(v) else f"{v:,.{digits}f}"


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    if isinstance(v, float):
        return f"{v:,.6g}"
    return md_text(v)


def table_frame(c: Comparison) -> pd.DataFrame:
    """The side-by-side table in plain units (comparison.csv)."""
    f = c.frame
    sites = [col for col in f.columns if col.startswith("it_mw_") and col != "it_mw_total"]
    cols = ["id", "name", "group", *c.param_columns, "status"]
    cols += ["value_usd", "baseline_value_usd", "uplift_usd", "it_mw_total", *sites]
    cols += ["btc_sold", "min_cash_usd", "first_conversion_month", "solve_seconds", "reason"]
    return f.reindex(columns=cols)


def markdown(c: Comparison, swings: list[Swing], charts: list[str]) -> str:
    """comparison.md: the overview, the variants without a plan, the sensitivity of uplift,
    the charts and the side-by-side table."""
    lines = _overview_lines(c)
    lines += _failed_lines(c.frame)
    lines += _sensitivity_lines(c, swings)
    if charts:
        lines += ["", "## Charts", ""] + [f"![{name}]({name})" for name in charts]
    lines += _side_by_side_lines(c)
    return "\n".join(lines) + "\n"


def _overview_lines(c: Comparison) -> list[str]:
    """What was swept, the count by status, and the range of value, uplift and IT MW over the
    solved variants (each a plan's headline figure, as its summary.json would hold it)."""
    f, m = c.frame, c.manifest
    lines = [f"# Sweep comparison: {md_text(m.get('portfolio_name', ''))}".rstrip(": "), ""]
    if m:  # a store written before the variant rename names its file scenario_set
        lines += [
            f"Portfolio {md_text(m.get('portfolio', '?'))}, variant set "
            f"{md_text(m.get('variant_set', m.get('scenario_set', '?')))}, "
            f"solver {md_text(m.get('settings', {}).get('solver', '?'))}.",
            "",
        ]
    counts = f["status"].value_counts()
    lines.append(f"{len(f)} variants: " + ", ".join(f"{n} {s}" for s, n in counts.items()) + ".")
    s = c.solved
    if not len(s):
        return lines
    best = s.loc[s["uplift_usd"].idxmax()]
    worst = s.loc[s["uplift_usd"].idxmin()]
    return [
        *lines,
        "",
        f"- Plan value: {money(s['value_usd'].min())} to {money(s['value_usd'].max())}, "
        f"median {money(s['value_usd'].median())}.",
        f"- Uplift over the status quo: {money(s['uplift_usd'].min())} "
        f"({md_text(worst['id'])}) to {money(s['uplift_usd'].max())} "
        f"({md_text(best['id'])}), "
        f"median {money(s['uplift_usd'].median())}.",
        f"- IT MW converted: {s['it_mw_total'].min():,.1f} to {s['it_mw_total'].max():,.1f}.",
    ]


def _failed_lines(f: pd.DataFrame) -> list[str]:
    """The variants without a plan and why (the first 50)."""
    failed = f[~f["status"].isin(SOLVED)]
    if not len(failed):
        return []
    lines = ["", "## Variants without a plan", ""]
    for row in failed.head(50).itertuples(index=False):
        lines.append(f"- {md_text(row.id)} {row.status}: {md_text(row.reason)}")
    if len(failed) > 50:
        lines.append(f"- … and {len(failed) - 50} more (see comparison.csv)")
    return lines


def _sensitivity_lines(c: Comparison, swings: list[Swing]) -> list[str]:
    """The tornado's numbers as a table: uplift at each parameter's low and high level."""
    if not swings:
        return []
    center, exact = c.center_uplift()
    lines = [
        "",
        "## Sensitivity of uplift",
        "",
        f"Over the {len(c.grid)} solved points of grid {md_text(c.grid_name)}. "
        f"Uplift at base levels: {money(center)}"
        + ("" if exact else " (median: the grid has no all-base point)")
        + ". Each row moves one parameter from its lowest to its highest level, the "
        "others at base (or at the grid level nearest to base, the lower one on a tie; "
        "*marginal*: averaged over the others, when the grid has no such point).",
        "",
        "| parameter | low | uplift at low $M | high | uplift at high $M | swing $M |",
        "|---|---|---|---|---|---|",
    ]
    for w in swings:
        mark = "" if w.exact else " *marginal*"
        lines.append(
            f"| {param_label(w.column, md_text)}{mark} | {level_text(w.column, w.low)} "
            f"| {_musd(w.uplift_low)} | {level_text(w.column, w.high)} "
            f"| {_musd(w.uplift_high)} | {_musd(w.width)} |"
        )
    return lines


def _side_by_side_lines(c: Comparison) -> list[str]:
    """One row per variant (the first MAX_MD_ROWS; comparison.csv has them all)."""
    t = table_frame(c)
    sites = [col for col in t.columns if col.startswith("it_mw_") and col != "it_mw_total"]
    head = ["id", *(param_label(p, md_text) for p in c.param_columns), "status", "value $M"]
    head += ["baseline $M", "uplift $M", "IT MW"]
    head += [f"IT MW {md_text(s.removeprefix('it_mw_'))}" for s in sites]
    head += ["BTC sold", "min cash $M", "first conversion"]
    lines = ["", "## Variants side by side", ""]
    lines += ["A blank parameter is at the portfolio's own value; money in $M.", ""]
    lines += ["| " + " | ".join(head) + " |"]
    lines.append("|" + "---|" * len(head))
    for _, r in t.head(MAX_MD_ROWS).iterrows():
        cells = [md_text(r["id"]), *(_cell(r[p]) for p in c.param_columns), str(r["status"])]
        cells += [_musd(r["value_usd"]), _musd(r["baseline_value_usd"]), _musd(r["uplift_usd"])]
        cells += [_num(r["it_mw_total"])] + [_num(r[s]) for s in sites]
        cells += [_num(r["btc_sold"]), _musd(r["min_cash_usd"])]
        cells += [_cell(r["first_conversion_month"])]
        lines.append("| " + " | ".join(cells) + " |")
    if len(t) > MAX_MD_ROWS:
        lines.append(f"\n… {len(t) - MAX_MD_ROWS} more rows in comparison.csv")
    return lines


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


_MUSD = FuncFormatter(lambda v, _: f"${v / 1e6:,.0f}M")


def tornado_chart(c: Comparison, swings: list[Swing], path: Path) -> None:
    center, exact = c.center_uplift()
    fig = _figure(11, 1.6 + 0.9 * len(swings))
    ax = fig.subplots()
    labels = []
    for i, w in enumerate(reversed(swings)):
        for value, level, color in (
            (w.uplift_low, w.low, "tab:red"),
            (w.uplift_high, w.high, "tab:green"),
        ):
            ax.barh(i, value - center, left=center, color=color, alpha=0.8, height=0.6)
            ax.annotate(
                f"{level_text(w.column, level)}: {money(value)}",
                (value, i),
                xytext=(4 if value >= center else -4, 0),
                textcoords="offset points",
                ha="left" if value >= center else "right",
                va="center",
                fontsize=9,
            )
        labels.append(param_label(w.column) + ("" if w.exact else "\n(marginal mean)"))
    ax.set_yticks(range(len(swings)), labels, fontsize=10)
    ax.axvline(center, color="black", lw=1)
    ax.xaxis.set_major_formatter(_MUSD)
    ax.set_xlabel("Uplift over the status quo (plan value − status-quo value)")
    ax.margins(x=0.25)
    ax.grid(True, axis="x", alpha=0.3)
    where = "all parameters at base" if exact else "median uplift"
    ax.set_title(
        f"Tornado: uplift at each parameter's lowest (red) and highest (green) level\n"
        f"centre line {money(center)} = {where}",
        fontsize=12,
    )
    fig.savefig(path, dpi=120)


def heatmap_chart(c: Comparison, a: str, b: str, path: Path) -> str:
    """Mean uplift over (a, b): others at base when the grid has that slice, else averaged."""
    s = c.grid
    sliced = c._at_centers(s, (a, b))
    complete = sliced.groupby([a, b]).ngroups == s[a].nunique() * s[b].nunique()
    if len(c.numeric) == 2:
        use, how = s, "two-parameter grid"
    elif complete:
        use, how = sliced, "others at base"
    else:
        use, how = s, "mean over the other parameters"
    grid = use.pivot_table(index=b, columns=a, values="uplift_usd", aggfunc="mean").sort_index(
        ascending=False
    )
    fig = _figure(1.8 + 1.25 * grid.shape[1], 1.6 + 0.8 * grid.shape[0])
    ax = fig.subplots()
    values = grid.to_numpy() / 1e6
    im = ax.imshow(values, cmap="viridis", aspect="auto")
    span = np.nanmax(values) - np.nanmin(values) if values.size else 0
    for (i, j), v in np.ndenumerate(values):
        if np.isnan(v):
            continue
        light = span and (v - np.nanmin(values)) / span > 0.6
        ax.text(j, i, f"{v:,.0f}", ha="center", va="center", fontsize=9,
                color="black" if light else "white")  # fmt: skip
    ax.set_xticks(range(grid.shape[1]), [level_text(a, v) for v in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [level_text(b, v) for v in grid.index])
    ax.set_xlabel(param_label(a))
    ax.set_ylabel(param_label(b))
    fig.colorbar(im, ax=ax, label="Uplift, $M")
    ax.set_title(f"Uplift, $M ({how})", fontsize=11)
    fig.savefig(path, dpi=120)
    return how


def histogram_chart(c: Comparison, path: Path) -> None:
    s = c.solved
    fig = _figure(10, 5.5)
    ax = fig.subplots()
    values = s["value_usd"].to_numpy()
    base = s["baseline_value_usd"].dropna().to_numpy()
    lo = min(values.min(), base.min() if len(base) else values.min())
    hi = max(values.max(), base.max() if len(base) else values.max())
    bins = np.linspace(lo, hi if hi > lo else lo + 1, min(40, max(10, len(s) // 5)) + 1)
    ax.hist(base, bins=bins, color="tab:gray", alpha=0.6, label="Status quo (keep mining)")
    ax.hist(values, bins=bins, color="tab:blue", alpha=0.7, label="Plan")
    for v, color, name in (
        (np.median(values), "tab:blue", "plan median"),
        (np.median(base) if len(base) else None, "tab:gray", "status-quo median"),
    ):
        if v is not None:
            ax.axvline(v, color=color, ls="--", lw=1.5, label=f"{name} {money(v)}")
    ax.xaxis.set_major_formatter(_MUSD)
    ax.set_xlabel("Value of the plan over the horizon (discounted)")
    ax.set_ylabel("Variants")
    ax.set_title(f"Value over {len(s)} solved variants", fontsize=12)
    ax.legend()
    ax.grid(True, alpha=0.3)
    fig.savefig(path, dpi=120)


def variant_bars_chart(c: Comparison, path: Path) -> None:
    s = c.solved
    fig = _figure(max(8, 1.0 + 0.6 * len(s)), 5.5)
    ax = fig.subplots()
    x = np.arange(len(s))
    ax.bar(x - 0.2, s["baseline_value_usd"], 0.4, color="tab:gray", label="Status quo")
    ax.bar(x + 0.2, s["value_usd"], 0.4, color="tab:blue", label="Plan")
    many = len(s) > 8
    names = [textwrap.fill(str(n), 16) for n in s["name"]]
    ax.set_xticks(x, names, rotation=35 if many else 0, ha="right" if many else "center")
    for xi, v, u in zip(x, s["value_usd"], s["uplift_usd"], strict=True):
        ax.annotate(f"+{money(u)}" if u >= 0 else money(u), (xi + 0.2, v), xytext=(0, 3),
                    textcoords="offset points", ha="center", fontsize=8)  # fmt: skip
    ax.yaxis.set_major_formatter(_MUSD)
    ax.set_ylabel("Value (discounted)")
    ax.set_title("Plan and status-quo value by variant (label: uplift)", fontsize=12)
    ax.legend()
    ax.grid(True, axis="y", alpha=0.3)
    fig.savefig(path, dpi=120)


def write_comparison(root: Path | str, out_dir: Path | str | None = None) -> dict[str, Path]:
    """Write the comparison table and charts of the sweep in ``root``; return files by name.

    All at once: into the sweep folder (the default) as a linked copy of the store plus the new
    comparison, swapped in while the store's lock is held; into ``out_dir`` as a comparison
    folder (only over one realloc wrote). Either way the old folder stays whole until then.
    """
    root = Path(root)
    out = Path(out_dir) if out_dir is not None else root
    if out.exists() and out.resolve() == root.resolve():
        store = SweepStore(root)
        owner = check_output_folder(root, OutputSpec("sweep"))
        source = Path(owner.source) if owner is not None and owner.source else None
        with (
            store.lock(),
            staged_dir(root, OutputSpec("sweep", source), True, COMPARISON_FILES) as stage,
        ):
            files = _write_comparison_files(root, stage)
    else:
        with staged_dir(out, OutputSpec("comparison", root)) as stage:
            files = _write_comparison_files(root, stage)
    return {k: out / f.name for k, f in files.items()}


def _read_comparison(root: Path) -> Comparison:
    """The sweep's stored results, or :class:`InputError` (exit 2) when ``variants.parquet``
    (``scenarios.parquet`` in a store from before the rename) or ``sweep.json`` is not what
    ``realloc sweep`` writes (garbage, empty, a JSON list, a
    symbolic link): that used to be an internal error from pyarrow or json."""
    import os
    import stat

    from realloc.inputs.errors import InputError
    from realloc.inputs.files import cut

    for name in ("variants.parquet", "scenarios.parquet", "sweep.json"):
        path = root / name
        if path.is_symlink() or (path.exists() and not stat.S_ISREG(os.stat(path).st_mode)):
            raise InputError(f"{name} is not a regular file; rerun realloc sweep", root)
    try:
        manifest = read_manifest(root)
        if not isinstance(manifest, dict):
            raise ValueError(f"sweep.json holds a {type(manifest).__name__}, not an object")
        return Comparison(read_variants(root), manifest)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:
        # pyarrow's errors (ArrowInvalid) and json's are ValueErrors
        raise InputError(
            f"the sweep's stored results are not as realloc sweep wrote them "
            f"({type(e).__name__}: {cut(e, 80)}); rerun realloc sweep into this folder",
            root,
        ) from None


def _write_comparison_files(root: Path, out: Path) -> dict[str, Path]:
    c = _read_comparison(root)
    files: dict[str, Path] = {}
    charts: list[str] = []
    swings = c.swings() if len(c.grid) >= 2 else []
    if swings:
        files["tornado"] = out / "tornado.png"
        tornado_chart(c, swings, files["tornado"])
        charts.append("tornado.png")
    if len(swings) >= 2:
        files["heatmap"] = out / "heatmap.png"
        heatmap_chart(c, swings[0].column, swings[1].column, files["heatmap"])
        charts.append("heatmap.png")
    if len(c.solved) >= 10:
        files["histogram"] = out / "value_histogram.png"
        histogram_chart(c, files["histogram"])
        charts.append("value_histogram.png")
    if 0 < len(c.solved) <= MAX_BAR_VARIANTS:
        files["bars"] = out / "variant_values.png"
        variant_bars_chart(c, files["bars"])
        charts.append("variant_values.png")
    files["csv"] = out / "comparison.csv"
    write_csv(table_frame(c), files["csv"])
    files["md"] = out / "comparison.md"
    files["md"].write_text(markdown(c, swings, charts))
    return files
