"""The batch library (realloc/batch.py) called directly, as a notebook would: a sweep returns its
tables as DataFrames, breakeven its bracket, compare the files it wrote; a store or a variant
file written before the variant rename still works, with a word about it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from realloc.batch import PROBE_HEADER, SweepResult, breakeven, compare, sweep
from realloc.cli import main
from realloc.inputs import InputError
from realloc.optimizer import plan_portfolio
from realloc.optimizer.breakeven import NoFlip
from tests.helpers import MARGIN_USD_PER_MW_YEAR, tiny

RATE = "contracts[H].rate_usd_per_kw_month"
TWO = {"variants": {"base": {}, "cheap rent": {RATE: 60}}}


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> SweepResult:
    out = tmp_path_factory.mktemp("batch") / "sweep"
    return sweep(tiny(), TWO, out_dir=out, workers=1)


def test_sweep_of_two_variants_returns_dataframes(swept: SweepResult) -> None:
    v = swept.variants.set_index("id")
    assert list(v.index) == ["base", "cheap-rent"] and set(v["group"]) == {"variants"}
    assert swept.counts == {"optimal": 2} and swept.with_plan == 2
    assert swept.interrupted is None and swept.solved_now == 2
    alone = plan_portfolio(tiny())
    assert v.loc["base", "value_usd"] == pytest.approx(alone.value_usd, rel=1e-9)
    assert v.loc["cheap-rent", RATE] == 60 and pd.isna(v.loc["base", RATE])
    # rent of $60/kW-month is below the $89.53 breakeven: nothing converts
    assert v.loc["base", "it_mw_A"] == pytest.approx(50) and v.loc["cheap-rent", "it_mw_A"] == 0
    for name in ("plan", "treasury", "conversions", "contracts"):
        table = getattr(swept, name)
        assert isinstance(table, pd.DataFrame) and table.columns[0] == "variant_id", name
    assert swept.treasury.groupby("variant_id").size().to_dict() == {"base": 12, "cheap-rent": 12}
    manifest = json.loads(swept.files["manifest"].read_text())
    assert manifest["variants"] == 2 and manifest["variant_set"] == "<variants>"
    assert "scenario_set" not in manifest and "scenarios" not in manifest


def test_a_rerun_solves_nothing_and_reports_progress(swept: SweepResult) -> None:
    calls: list[tuple[int, int]] = []
    again = sweep(
        tiny(), TWO, out_dir=swept.out_dir, workers=1, progress=lambda *a: calls.append(a)
    )
    assert again.solved_now == 0 and calls == [(2, 2)]
    pd.testing.assert_frame_equal(
        again.variants.drop(columns=["seconds", "cpu_seconds", "solve_seconds"]),
        swept.variants.drop(columns=["seconds", "cpu_seconds", "solve_seconds"]),
    )


def test_sweep_refuses_bad_arguments_before_solving(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scheduler needs the dask executor"):
        sweep(tiny(), TWO, out_dir=tmp_path / "o", executor="local", scheduler="tcp://x:1")
    with pytest.raises(InputError, match="no contract named 'Nope'"):
        sweep(tiny(), {"variants": {"x": {"contracts[Nope].max_it_mw": 1}}}, out_dir=tmp_path)
    assert not (tmp_path / "o").exists()


def test_compare_returns_the_files_it_wrote(swept: SweepResult, tmp_path: Path) -> None:
    files = compare(swept.out_dir, tmp_path / "cmp")
    assert files["csv"] == tmp_path / "cmp" / "comparison.csv" and files["md"].is_file()
    assert files["bars"].name == "variant_values.png"
    table = pd.read_csv(files["csv"])
    assert list(table["id"]) == ["base", "cheap-rent"]
    assert "## Variants side by side" in files["md"].read_text()
    with pytest.raises(InputError, match=r"no variants\.parquet here"):
        compare(tmp_path)


def test_breakeven_returns_the_bracket_and_its_probes(tmp_path: Path) -> None:
    expected = (1e6 + MARGIN_USD_PER_MW_YEAR) / 12_000  # $89.53/kW-month, see test_sweep.py
    lines: list[str] = []
    out_csv = tmp_path / "probes.csv"
    b = breakeven(tiny(), RATE, "A", lo=50, hi=150, tol=0.5, out_csv=out_csv, log=lines.append)
    assert b.lo <= expected <= b.hi and b.hi - b.lo <= 0.5
    assert not b.converts_at_lo and b.converts_at_hi and (b.param, b.mode) == (RATE, "set")
    frame = b.probe_frame()
    assert len(frame) == len(b.probes) and list(frame["converts"][:2]) == [False, True]
    assert out_csv.read_text().splitlines()[0] == PROBE_HEADER
    assert lines[0].startswith(f"bisecting {RATE} in [50, 150]") and len(lines) == 1 + len(frame)
    with pytest.raises(NoFlip, match="converts at both ends"):
        breakeven(tiny(), RATE, "A", lo=100, hi=150)
    with pytest.raises(InputError, match="not a site with a conversion section"):
        breakeven(tiny(), RATE, "Z")


def test_the_old_scenarios_key_warns_on_stderr_and_in_python(tmp_path: Path) -> None:
    portfolio = tmp_path / "tiny.yaml"
    portfolio.write_text(yaml.safe_dump(tiny().model_dump(mode="json"), sort_keys=False))
    old = tmp_path / "old.yaml"
    old.write_text("scenarios:\n  base: {}\n")
    args = ["sweep", str(portfolio), str(old), "--out", str(tmp_path / "o"), "--workers", "1"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    warning = next(x for x in result.output.splitlines() if x.startswith("warning: "))
    assert "scenarios: is deprecated" in warning and warning.endswith("use variants:")
    with pytest.warns(FutureWarning, match="use variants:"):
        sweep(portfolio, old, out_dir=tmp_path / "o", workers=1)


def _as_old_store(out: Path) -> None:
    """Turn a store into what realloc wrote before the rename: scenarios.parquet, scenario_id,
    the named variants' group ``scenarios``, the manifest's scenario_set."""
    frame = pd.read_parquet(out / "variants.parquet")
    frame["group"] = frame["group"].replace("variants", "scenarios")
    frame.to_parquet(out / "scenarios.parquet", index=False)
    (out / "variants.parquet").unlink()
    for name in ("plan", "treasury", "conversions", "contracts"):
        table = pd.read_parquet(out / f"{name}.parquet")
        table.rename(columns={"variant_id": "scenario_id"}).to_parquet(out / f"{name}.parquet")
    manifest = json.loads((out / "sweep.json").read_text())
    manifest["scenario_set"] = manifest.pop("variant_set")
    manifest["scenarios"] = manifest.pop("variants")
    (out / "sweep.json").write_text(json.dumps(manifest))


def test_an_old_store_is_compared_and_a_rerun_renews_it(tmp_path: Path) -> None:
    grid = {"grid": {"vary": {RATE: [60, 150]}}, **TWO}
    out = tmp_path / "old"
    first = sweep(tiny(), grid, out_dir=out, workers=1)
    _as_old_store(out)
    result = CliRunner().invoke(main, ["compare", str(out)])
    assert result.exit_code == 0, result.output
    md = (out / "comparison.md").read_text()
    assert r"Portfolio \<portfolio\>, variant set \<variants\>" in md
    assert "4 variants: 4 optimal." in md
    assert "H rate_usd_per_kw_month" in md  # the sensitivity reads the grid, not named ones
    again = sweep(tiny(), grid, out_dir=out, workers=1)
    assert again.solved_now == 0 and not (out / "scenarios.parquet").exists()
    assert list(again.variants["id"]) == list(first.variants["id"])
    assert again.plan.columns[0] == "variant_id"
