"""Sweeps: stored results equal each variant planned alone, model reuse changes nothing but time,
an interrupted sweep resumes to the same store, Dask runs on a LocalCluster, breakeven bisection
lands where hand arithmetic puts it, and compare writes its table and charts."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from realloc.cli import main
from realloc.inputs import load_portfolio
from realloc.inputs.examples import example_path
from realloc.inputs.overrides import Override, overridden
from realloc.inputs.variant_sets import load_variant_set, materialize
from realloc.optimizer import plan_portfolio
from realloc.optimizer.breakeven import converted_it_mw, find_breakeven
from realloc.optimizer.solvers import HighsBackend
from realloc.optimizer.sweep import SweepSettings, SweepTask, solve_variant, task_key
from tests.helpers import MARGIN_USD_PER_MW_YEAR, tiny

TIMING = ["seconds", "cpu_seconds", "solve_seconds", "reused_phases"]
RATE = "contracts[H].rate_usd_per_kw_month"


@pytest.fixture
def tiny_yaml(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny().model_dump(mode="json"), sort_keys=False))
    return path


def variant_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "variants.yaml"
    path.write_text(textwrap.dedent(text))
    return path


GRID = """\
variants:
  base: {}
  cheap power:
    sites[A].power_price_usd_per_mwh: 20
  must commit:
    contracts[H].min_it_mw: 50
grid:
  vary:
    contracts[H].rate_usd_per_kw_month: [80, 120, 160]
    market.hashprice_usd_per_ph_day: {scale: [0.8, 1.2]}
"""


def run(args: list[str]):
    result = CliRunner().invoke(main, args)
    return result


def stored(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "variants.parquet").set_index("id")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sweep_stores_what_each_variant_gives_alone(tmp_path, tiny_yaml, workers):
    variants = variant_file(tmp_path, GRID)
    out = tmp_path / "out"
    result = run(["sweep", str(tiny_yaml), str(variants), "--out", str(out), "--workers", workers])
    assert result.exit_code == 0, result.output
    frame = stored(out)
    assert len(frame) == 9 and set(frame["status"]) == {"optimal"}
    base = load_portfolio(tiny_yaml)
    for m in materialize(base, load_variant_set(variants, base)):
        alone = plan_portfolio(m.portfolio)
        row = frame.loc[m.spec.id]
        assert row["value_usd"] == pytest.approx(alone.value_usd, rel=1e-6)
        assert row["baseline_value_usd"] == pytest.approx(alone.baseline_value_usd, rel=1e-6)
        assert row["it_mw_A"] == pytest.approx(converted_it_mw(alone, "A"), abs=1e-6)
        assert row["btc_sold"] == pytest.approx(alone.tables.treasury["btc_sold"].sum(), abs=1e-6)
        assert row["min_cash_usd"] == pytest.approx(alone.tables.treasury["cash_usd"].min())
    # parameters are columns; the long tables are keyed by variant id
    assert frame.loc["grid-004", RATE] == 120
    assert frame.loc["grid-004", "market.hashprice_usd_per_ph_day:scale"] == 1.2
    assert pd.isna(frame.loc["base", RATE])
    plan = pd.read_parquet(out / "plan.parquet")
    assert set(plan["variant_id"]) == set(frame.index)
    assert len(plan[plan["variant_id"] == "base"]) == len(plan_portfolio(base).tables.plan)
    treasury = pd.read_parquet(out / "treasury.parquet")
    assert treasury.groupby("variant_id").size().eq(12).all()


def test_reuse_gives_the_values_of_a_rebuild_on_the_example():
    # three numeric what-ifs of the bundled example, solved cold and with one warm backend
    base = load_portfolio(example_path())
    hp = "market.hashprice_usd_per_ph_day"
    anvil = "contracts[Anvil Labs (15 yr, min 80 MW)].rate_usd_per_kw_month"
    what_ifs = [
        [Override(hp, "scale", 1.0)],
        [Override(hp, "scale", 0.8), Override(anvil, "set", 130)],
        [Override(hp, "scale", 1.2), Override("treasury.min_cash_usd", "set", 3e7)],
    ]
    backend = HighsBackend(reuse=True)
    for overrides in what_ifs:
        p = overridden(base, overrides)
        cold = plan_portfolio(p)
        backend.new_plan()
        warm = plan_portfolio(p, backend=backend)
        assert warm.value_usd == pytest.approx(cold.value_usd, rel=1e-6)
        assert warm.baseline_value_usd == pytest.approx(cold.baseline_value_usd, rel=1e-6)
        assert warm.tables.treasury["btc_sold"].sum() == pytest.approx(
            cold.tables.treasury["btc_sold"].sum(), rel=1e-6, abs=1e-6
        )
    # after the first plan, every phase of the later two reused its solver model
    assert backend.stats.reused >= 2 * 4 and backend.stats.changed_coefficients > 0


def test_reuse_falls_back_to_a_fresh_model_when_the_structure_changes():
    backend = HighsBackend(reuse=True)
    for p in (tiny(), tiny(months=6, contracts__0__term_months=6), tiny()):
        backend.new_plan()
        warm = plan_portfolio(p, backend=backend)
        assert warm.value_usd == pytest.approx(plan_portfolio(p).value_usd, rel=1e-6)
    # 12 months → 6 months → 12 months: no phase of the second plan can reuse the first's
    # model, and the third cannot reuse the second's
    assert backend.stats.fresh >= 3 * 3


def test_solve_variant_records_failures_instead_of_raising():
    # 1000 MW of IT at $1M each with no cash and no BTC: the plan cannot be funded
    broke = tiny(
        sites__0__conversion__max_it_mw=100,
        contracts__0__max_it_mw=100,
        contracts__0__min_it_mw=100,
        sites__0__fleets=[],
        treasury={"btc": 0, "cash_usd": 0},
    )
    s = SweepSettings()
    out = solve_variant(SweepTask(task_key(broke, s), broke, s))
    assert out.status in ("optimal", "unfunded")  # declining the contract is always possible
    bad = SweepTask("k", "not a portfolio", s)  # type: ignore[arg-type]
    out = solve_variant(bad)
    assert out.status == "error" and "AttributeError" in out.row["reason"]


def test_an_infeasible_verdict_of_a_kept_model_is_confirmed_cold(monkeypatch):
    """A warm-started kept model once called a path infeasible that a cold solve found merely
    unfunded (realloc evaluate, 2 of 2,000 paths): a sweep re-solves such a variant cold and
    stores the cold result."""
    from realloc.optimizer import sweep as sweep_module

    calls = []

    def flaky(portfolio, backend=None, **kw):
        calls.append(backend)
        result = plan_portfolio(portfolio, backend=backend, **kw)
        if backend is not None:  # the kept model's verdict, made wrong on purpose
            result.status = "infeasible"
        return result

    monkeypatch.setattr(sweep_module, "plan_portfolio", flaky)
    p, s = tiny(), SweepSettings()
    out = solve_variant(SweepTask(task_key(p, s), p, s))
    assert [b is None for b in calls] == [False, True]  # warm first, then cold
    assert out.status == "optimal"
    assert out.row["value_usd"] == pytest.approx(plan_portfolio(p).value_usd, rel=1e-9)


def test_resume_solves_only_what_is_missing_and_gives_the_same_store(tmp_path, tiny_yaml):
    variants = variant_file(tmp_path, GRID)
    out = tmp_path / "out"
    args = ["sweep", str(tiny_yaml), str(variants), "--out", str(out), "--workers", "1"]
    assert run(args).exit_code == 0
    first = stored(out).drop(columns=TIMING)
    # an interrupted sweep: three parts never written, consolidated files gone, a half-written
    # part left in the folder
    parts = sorted((out / "parts").iterdir())
    for p in parts[:3]:
        for f in p.iterdir():
            f.unlink()
        p.rmdir()
    for f in out.glob("*.parquet"):
        f.unlink()
    (out / "parts" / ".deadbeef.tmp1").mkdir()
    (out / "parts" / ".deadbeef.tmp1" / "row.parquet").write_text("half")
    result = run(args)
    assert result.exit_code == 0, result.output
    assert "6 already stored" in result.output and "solving 3" in result.output
    assert not [p for p in (out / "parts").iterdir() if p.name.startswith(".")]
    pd.testing.assert_frame_equal(stored(out).drop(columns=TIMING), first)
    # an edited variant is solved again, the others are not
    variants.write_text(GRID.replace("power_price_usd_per_mwh: 20", "power_price_usd_per_mwh: 25"))
    result = run(args)
    assert "8 already stored" in result.output and "solving 1" in result.output
    assert stored(out).loc["cheap-power", "value_usd"] != first.loc["cheap-power", "value_usd"]


def _children(pid: int) -> set[int]:
    kids: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids |= {int(c) for c in (task / "children").read_text().split()}
    return kids


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("how", ["SIGINT to the process group (Ctrl-C)", "SIGTERM to the parent"])
def test_killed_sweep_stops_its_workers_and_resumes(tmp_path, tiny_yaml, how):
    variants = variant_file(
        tmp_path,
        """\
        grid:
          vary:
            contracts[H].rate_usd_per_kw_month: {add: [-60, -40, -20, 0, 20, 40, 60, 80]}
            market.hashprice_usd_per_ph_day: {scale: [0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4]}
        """,
    )
    out = tmp_path / "out"
    realloc = Path(sys.executable).parent / "realloc"
    cmd = [str(realloc), "sweep", str(tiny_yaml), str(variants), "--out", str(out)]
    cmd += ["--workers", "2"]
    proc = subprocess.Popen(cmd, start_new_session=True, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        parts = out / "parts"
        if parts.is_dir() and len([p for p in parts.iterdir() if not p.name.startswith(".")]) >= 4:
            break
        time.sleep(0.02)
    workers = _children(proc.pid)
    if how.startswith("SIGINT"):
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == (130 if how.startswith("SIGINT") else 143), err
    assert "rerun the same command to resume" in err and "Traceback" not in err
    assert workers, "the sweep had worker processes"
    time.sleep(0.2)
    assert not [w for w in workers if Path(f"/proc/{w}").exists()], "workers outlived the sweep"
    assert not [p for p in (out / "parts").iterdir() if p.name.startswith(".")]
    with open(out / ".lock") as lock:  # the file stays; the killed sweep's flock is gone
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    frame = stored(out)
    done = int((frame["status"] == "optimal").sum())
    assert 4 <= done < 64 and (frame["status"] == "pending").sum() == 64 - done
    result = run(["sweep", str(tiny_yaml), str(variants), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert f"{done} already stored" in result.output
    assert set(stored(out)["status"]) == {"optimal"}


def test_dask_local_cluster_gives_the_same_results(tmp_path, tiny_yaml):
    pytest.importorskip("dask.distributed")
    variants = variant_file(
        tmp_path,
        """\
        grid:
          vary:
            contracts[H].rate_usd_per_kw_month: [80, 160]
            market.hashprice_usd_per_ph_day: {scale: [0.8, 1.2]}
        """,
    )
    serial, dask = tmp_path / "serial", tmp_path / "dask"
    base = ["sweep", str(tiny_yaml), str(variants)]
    assert run([*base, "--out", str(serial), "--workers", "1"]).exit_code == 0
    result = run([*base, "--out", str(dask), "--executor", "dask", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "dask, 2 workers" in result.output
    a, b = stored(serial), stored(dask)
    assert list(b["status"]) == ["optimal"] * 4
    # values to 1e-6 relative; $1 absolute where the value is zero up to solver noise
    pd.testing.assert_series_equal(a["value_usd"], b["value_usd"], rtol=1e-6, atol=1.0)
    pd.testing.assert_series_equal(a["it_mw_A"], b["it_mw_A"], atol=1e-6)


def test_breakeven_rate_matches_hand_arithmetic():
    # converting 1 MW earns rent × 12,000 and costs $1M of capex plus a year of mining margin
    # ($75,433.33): breakeven rent = 1,075,433.33 / 12,000 = $89.5278/kW-month
    expected = (1e6 + MARGIN_USD_PER_MW_YEAR) / 12_000
    base = tiny()
    b = find_breakeven(
        lambda v: overridden(base, [Override(RATE, "set", v)]), "A", 50, 150, tolerance=0.01
    )
    assert b.lo <= expected <= b.hi and b.hi - b.lo <= 0.01
    assert not b.converts_at_lo and b.converts_at_hi


def test_breakeven_hashprice_scale_from_the_command_line(tmp_path, tiny_yaml):
    # at hashprice h a mining MW earns 365 × (1000/30 × h − 960) a year; converting it pays
    # 12,000 × 150 − 1,000,000 = $800,000, so conversion stops paying at
    # h = 30/1000 × (800,000/365 + 960) = $94.5534/PH/day, a scale of 94.5534/35 = 2.70153
    flip = 30 / 1000 * (800_000 / 365 + 960) / 35
    out_csv = tmp_path / "probes.csv"
    args = ["breakeven", str(tiny_yaml), "--param", "market.hashprice_usd_per_ph_day"]
    args += ["--scale", "--site", "A", "--lo", "1", "--hi", "4", "--tol", "0.001"]
    args += ["--out", str(out_csv)]
    result = run(args)
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("breakeven"))
    lo, hi = (float(v) for v in line.split("bracket [")[1].split("]")[0].split(", "))
    assert lo <= flip <= hi and hi - lo <= 0.001
    assert "A converts at" in line and "does not convert at" in line
    probes = pd.read_csv(out_csv)
    assert probes["converts"].any() and not probes["converts"].all()


def test_breakeven_without_a_flip_exits_3(tiny_yaml):
    result = run(["breakeven", str(tiny_yaml), "--param", RATE, "--site", "A"])
    # 150 × [0.5, 1.5] = [75, 225] brackets the flip at 89.53: found
    assert result.exit_code == 0, result.output
    result = run(["breakeven", str(tiny_yaml), "--param", RATE, "--site", "A", "--lo", "100"])
    assert result.exit_code == 3 and "converts at both ends" in result.output


def test_compare_writes_table_and_charts(tmp_path, tiny_yaml):
    variants = variant_file(tmp_path, GRID)
    out = tmp_path / "out"
    sweep = ["sweep", str(tiny_yaml), str(variants), "--out", str(out), "--workers", "1"]
    assert run(sweep).exit_code == 0
    result = run(["compare", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("comparison.md", "comparison.csv", "tornado.png", "heatmap.png"):
        assert (out / name).is_file(), name
    for name in ("tornado.png", "heatmap.png", "variant_values.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = pd.read_csv(out / "comparison.csv")
    assert list(table["id"]) == list(stored(out).index)
    md = (out / "comparison.md").read_text()
    # the tornado row of the rate holds hashprice at the grid level nearest its base (x1.0):
    # 0.8 and 1.2 are equally near, the lower wins, so the row reads grid-001 and grid-005
    frame = stored(out)
    assert frame.loc["grid-001", RATE] == 80 and frame.loc["grid-005", RATE] == 160
    hashprice = frame.loc[["grid-001", "grid-005"], "market.hashprice_usd_per_ph_day:scale"]
    assert hashprice.eq(0.8).all()
    low, high = frame.loc["grid-001", "uplift_usd"], frame.loc["grid-005", "uplift_usd"]
    row = f"| H rate_usd_per_kw_month | 80 | {low / 1e6:,.1f} | 160 | {high / 1e6:,.1f} |"
    assert row in md
    assert "9 variants: 9 optimal." in md


def test_bad_inputs_exit_2_without_traceback(tmp_path, tiny_yaml):
    bad = variant_file(tmp_path, "variants:\n  x:\n    contracts[Nope].rate_usd_per_kw_month: 9\n")
    result = run(["sweep", str(tiny_yaml), str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "line 3" in result.output and "no contract named 'Nope'" in result.output
    assert "Traceback" not in result.output
    result = run(["compare", str(tmp_path)])
    assert result.exit_code == 2 and "no variants.parquet" in result.output
    ok = variant_file(tmp_path, "variants:\n  base: {}\n")
    result = run(["sweep", str(tiny_yaml), str(ok), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    args = ["sweep", str(tiny_yaml), str(ok), "--out", str(tmp_path / "o")]
    result = run([*args, "--executor", "local", "--scheduler", "tcp://x:1"])
    assert result.exit_code == 2


def test_invalid_variants_are_recorded_and_all_invalid_exits_3(tmp_path, tiny_yaml):
    mixed = variant_file(
        tmp_path, "grid:\n  vary:\n    contracts[H].min_it_mw: [10, 80]\n"
    )  # 80 > max_it_mw 50: invalid
    out = tmp_path / "o"
    result = run(["sweep", str(tiny_yaml), str(mixed), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    frame = stored(out)
    assert frame.loc["grid-001", "status"] == "optimal"
    assert frame.loc["grid-002", "status"] == "invalid"
    assert "variant 'grid-002'" in frame.loc["grid-002", "reason"]
    assert "exceeds max_it_mw" in frame.loc["grid-002", "reason"]
    only_bad = variant_file(tmp_path, "variants:\n  bad:\n    contracts[H].min_it_mw: 80\n")
    result = run(["sweep", str(tiny_yaml), str(only_bad), "--out", str(tmp_path / "p")])
    assert result.exit_code == 3


@pytest.mark.parametrize("command", ["sweep", "compare", "breakeven"])
def test_help_has_an_example(command):
    result = run([command, "--help"])
    assert result.exit_code == 0 and "Example: realloc " + command in result.output
