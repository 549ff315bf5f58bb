"""Output folders: --out replaces only a folder realloc wrote (never user files), every swap is
atomic (one renameat2 exchange), interrupts and write errors leave the old folder whole and say
so truthfully, folders get the umask's mode, and sweeps lock their folder atomically."""

from __future__ import annotations

import errno
import fcntl
import itertools
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from realloc.cli import main
from realloc.reports import atomic
from tests.helpers import tiny

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) by relative path."""
    return {
        str(f.relative_to(folder)): f.read_bytes() for f in sorted(folder.rglob("*")) if f.is_file()
    }


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


def write_tiny(path: Path, **overrides) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(tiny(**overrides).model_dump(mode="json"), sort_keys=False))
    return path


@pytest.fixture
def work(tmp_path, monkeypatch) -> Path:
    """A working folder as the current folder, with a tiny portfolio in it."""
    monkeypatch.chdir(tmp_path)
    write_tiny(tmp_path / "tiny.yaml")
    return tmp_path


def refused(result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert "error: --out" in result.output and "nothing was touched" in result.output
    assert "Traceback" not in result.output
    for w in words:
        assert w in result.output, result.output


# --- item 2: --out never deletes user data ---------------------------------------------------


def test_out_refuses_the_folder_holding_the_portfolio(work) -> None:
    assert run("example", "victim").exit_code == 0
    (work / "victim" / "notes.txt").write_text("mine")
    before = snapshot(work / "victim")
    refused(run("plan", "victim/gigawatt_miner.yaml", "--out", "victim"), "holds the input")
    refused(run("plan", "victim/gigawatt_miner.yaml", "--out", "victim", "--replace"))
    refused(run("forecast", "victim/forecast_base.yaml", "--out", "victim"))
    sweep = ("sweep", "victim/gigawatt_miner.yaml", "victim/bear_base_bull.yaml")
    refused(run(*sweep, "--out", "victim"))
    assert snapshot(work / "victim") == before
    assert leftovers(work) == []


def test_out_refuses_a_file_a_link_the_current_folder_and_its_parents(work) -> None:
    (work / "report.docx").write_bytes(b"board memo")
    refused(run("plan", "tiny.yaml", "--out", "report.docx"), "not a folder")
    assert (work / "report.docx").read_bytes() == b"board memo"
    (work / "elsewhere").mkdir()
    (work / "link").symlink_to(work / "elsewhere")
    refused(run("plan", "tiny.yaml", "--out", "link"), "symbolic link")
    sub = work / "sub"
    sub.mkdir()
    os.chdir(sub)
    for out in (".", "..", "/", str(work)):
        refused(run("plan", "../tiny.yaml", "--out", out))
    assert leftovers(work) == [] and leftovers(sub) == [] and leftovers(work.parent) == []


def test_out_refuses_home_and_folders_with_foreign_files(work, monkeypatch) -> None:
    home = work / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    refused(run("plan", "tiny.yaml", "--out", str(home)), "home")
    data = work / "data"
    data.mkdir()
    (data / "q3.xlsx").write_bytes(b"x")
    refused(run("plan", "tiny.yaml", "--out", "data"), "q3.xlsx")
    # a plan folder the user added a file to is no longer only realloc's
    assert run("plan", "tiny.yaml", "--out", "out").exit_code == 0
    (work / "out" / "notes.txt").write_text("mine")
    before = snapshot(work / "out")
    refused(run("plan", "tiny.yaml", "--out", "out"), "notes.txt")
    refused(run("report", "out", "--format", "html"), "notes.txt")
    assert snapshot(work / "out") == before


def test_an_empty_folder_is_used_and_marked(work) -> None:
    (work / "empty").mkdir()
    assert run("plan", "tiny.yaml", "--out", "empty").exit_code == 0
    marker = json.loads((work / "empty" / atomic.MARKER).read_text())
    assert marker["kind"] == "plan" and marker["input"] == str(work / "tiny.yaml")
    assert set(marker["files"]) == {p.name for p in (work / "empty").iterdir()} - {atomic.MARKER}
    vouched = json.loads((work / "empty" / "run.json").read_text())["files_sha256"]
    assert set(vouched) == set(marker["files"]) - {"run.json"} | {atomic.MARKER}


def test_bare_plan_does_not_replace_another_portfolios_plan(work) -> None:
    write_tiny(work / "other.yaml", name="other")
    assert run("plan", "tiny.yaml").exit_code == 0
    before = snapshot(work / "out")
    result = run("plan", "other.yaml")
    refused(result, "holds the plan of", "tiny.yaml", "--replace")
    assert snapshot(work / "out") == before
    assert run("plan", "tiny.yaml").exit_code == 0  # the same portfolio again: replaced
    result = run("plan", "other.yaml", "--replace")
    assert result.exit_code == 0, result.output
    assert json.loads((work / "out" / "summary.json").read_text())["portfolio"] == "other"
    # an --out given explicitly names the folder to replace: any realloc plan may be there
    assert run("plan", "tiny.yaml", "--out", "out").exit_code == 0


def test_another_kind_of_output_needs_replace(work) -> None:
    spec = work / "spec.yaml"
    spec.write_text(
        (ROOT / "inputs/examples/forecast_base.yaml").read_text().replace("paths: 200", "paths: 3")
    )
    assert run("plan", "tiny.yaml", "--out", "res").exit_code == 0
    before = snapshot(work / "res")
    refused(run("forecast", spec, "--out", "res"), "holds a realloc plan, not a forecast")
    assert snapshot(work / "res") == before
    assert run("forecast", spec, "--out", "res", "--replace").exit_code == 0
    assert (work / "res" / "forecast.csv").is_file() and not (work / "res" / "plan.csv").exists()


def test_folders_of_older_versions_are_recognised_by_their_files_alone(work) -> None:
    old = work / "old"
    old.mkdir()
    (old / "summary.json").write_text("{}")
    (old / "plan.csv").write_text("month\n")
    assert run("plan", "tiny.yaml", "--out", "old").exit_code == 0
    assert (old / atomic.MARKER).is_file()
    mixed = work / "mixed"
    mixed.mkdir()
    (mixed / "summary.json").write_text("{}")
    (mixed / "budget.csv").write_text("mine\n")
    refused(run("plan", "tiny.yaml", "--out", "mixed"), "budget.csv")
    # the default `out` of an older version: replaced only when its run.json names this input
    legacy = work / "out"
    legacy.mkdir()
    (legacy / "summary.json").write_text("{}")
    (legacy / "run.json").write_text(json.dumps({"input_file": "elsewhere.yaml"}))
    refused(run("plan", "tiny.yaml"), "elsewhere.yaml")
    (legacy / "run.json").write_text(json.dumps({"input_file": str(work / "tiny.yaml")}))
    assert run("plan", "tiny.yaml").exit_code == 0


def test_example_writes_only_into_a_new_or_empty_folder(work) -> None:
    assert run("example", "ex").exit_code == 0
    assert not (work / "ex" / atomic.MARKER).exists(), "the user's folder is not realloc's"
    (work / "ex" / "gigawatt_miner.yaml").write_text("edited")
    result = run("example", "ex")
    assert result.exit_code == 2 and "not empty" in result.output
    assert (work / "ex" / "gigawatt_miner.yaml").read_text() == "edited"
    (work / "blank").mkdir()
    assert run("example", "blank").exit_code == 0
    # a plan into the edited example folder is refused too (it holds foreign files)
    refused(run("plan", "tiny.yaml", "--out", "ex", "--replace"))


def test_report_and_compare_refuse_other_kinds(work) -> None:
    assert run("plan", "tiny.yaml", "--out", "a").exit_code == 0
    assert run("plan", "tiny.yaml", "--out", "b").exit_code == 0
    before = snapshot(work / "b")
    result = run("report", "a", "--format", "html", "--out", "b")
    refused(result, "not a report")
    assert "--replace" not in result.output, "report has no --replace"
    assert snapshot(work / "b") == before
    result = run("report", "a", "--format", "html", "--out", "rep")
    assert result.exit_code == 0, result.output
    assert json.loads((work / "rep" / atomic.MARKER).read_text())["kind"] == "report"


# --- item 3: the swap is atomic, interrupts say what was left --------------------------------


def test_the_swap_is_one_exchange_and_the_fallback_also_works(work, monkeypatch) -> None:
    calls = []
    real = atomic.rename2

    def spy(src, dst, flags):
        calls.append(flags)
        return real(src, dst, flags)

    monkeypatch.setattr(atomic, "rename2", spy)
    assert run("plan", "tiny.yaml", "--out", "out").exit_code == 0
    assert run("plan", "tiny.yaml", "--out", "out").exit_code == 0
    assert calls == [atomic._RENAME_NOREPLACE, atomic._RENAME_EXCHANGE]
    assert atomic._renameat2() is not None or not sys.platform.startswith("linux")
    monkeypatch.setattr(atomic, "rename2", lambda src, dst, flags: False)  # no renameat2
    assert run("plan", "tiny.yaml", "--out", "out").exit_code == 0
    assert (work / "out" / "summary.json").is_file() and leftovers(work) == []


def test_rename_exchange_swaps_two_folders(tmp_path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    if not atomic.rename2(a, b, atomic._RENAME_EXCHANGE):
        pytest.skip("no renameat2 here")
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


def test_signal_during_the_swap_lands_after_it_and_says_the_new_output_is_in(work, monkeypatch):
    assert run("plan", "tiny.yaml", "--out", "out").exit_code == 0
    (work / "out" / "summary.json").write_text('{"old": true}')  # to tell old from new
    real = atomic._swap_in

    def signalled(stage, out):
        os.kill(os.getpid(), signal.SIGTERM)  # held until the swap is done and recorded
        return real(stage, out)

    monkeypatch.setattr(atomic, "_swap_in", signalled)
    result = run("plan", "tiny.yaml", "--out", "out")
    assert result.exit_code == 128 + signal.SIGTERM, result.output
    assert "new output folder was complete and in place" in result.output
    assert "old" not in json.loads((work / "out" / "summary.json").read_text())
    assert leftovers(work) == []


def _previous_plan_with_report(work: Path, monkeypatch) -> dict[str, bytes]:
    import realloc.reports.board.build as board_build

    monkeypatch.setattr(board_build, "pdf_engine", lambda: None)  # fast: no Chromium
    result = run("plan", "tiny.yaml", "--out", "out", "--report")
    assert result.exit_code == 0, result.output
    assert (work / "out" / "report.xlsx").is_file()
    return snapshot(work / "out")


def test_plan_report_interrupted_while_the_report_is_built_keeps_the_old_pair(work, monkeypatch):
    import realloc.reports.board.build as board_build

    before = _previous_plan_with_report(work, monkeypatch)

    def killed(run_, path):
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(board_build, "render_xlsx", killed)
    result = run("plan", "tiny.yaml", "--out", "out", "--report")
    assert result.exit_code == 128 + signal.SIGTERM, result.output
    assert "previous output folder, if any, is intact" in result.output
    assert snapshot(work / "out") == before
    assert leftovers(work) == []


def test_report_into_its_plan_folder_is_staged_too(work, monkeypatch) -> None:
    import realloc.reports.board.build as board_build

    before = _previous_plan_with_report(work, monkeypatch)
    monkeypatch.setattr(board_build, "render_xlsx", lambda run_, path: os.kill(os.getpid(), 15))
    result = run("report", "out", "--format", "html,xlsx")
    assert result.exit_code == 143 and snapshot(work / "out") == before
    monkeypatch.undo()
    monkeypatch.chdir(work)
    monkeypatch.setattr(board_build, "pdf_engine", lambda: None)
    assert run("report", "out", "--format", "html").exit_code == 0
    after = snapshot(work / "out")
    assert after["report.xlsx"] == before["report.xlsx"]  # kept: only html was rebuilt
    assert after[atomic.MARKER] == before[atomic.MARKER]  # run.json still vouches for it
    assert leftovers(work) == []


def _forecast_spec(work: Path, paths: int) -> Path:
    spec = work / "spec.yaml"
    text = (ROOT / "inputs/examples/forecast_base.yaml").read_text()
    spec.write_text(text.replace("paths: 200", f"paths: {paths}"))
    return spec


def _kill_when_writing_starts(cmd: list[str], work: Path) -> None:
    """Run ``cmd`` and SIGKILL it the moment forecast.csv is being written (in place in fc/, or
    in a staged folder)."""
    target = work / "fc" / "forecast.csv"
    before = target.stat().st_mtime_ns
    proc = subprocess.Popen(cmd, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        staged = list(work.glob(".fc.tmp-*/forecast.csv"))
        if staged or target.stat().st_mtime_ns != before:
            break
        time.sleep(0.002)
    proc.kill()
    proc.communicate()


def test_killed_forecast_leaves_the_old_folder_or_the_new_one(work) -> None:
    """SIGKILL a real `realloc forecast` as it writes, and at other moments: fc/ is always the
    whole old forecast or the whole new one."""
    forecast = [sys.executable, "-m", "realloc.cli", "forecast"]
    old_spec, new_spec = _forecast_spec(work, 150), work / "new.yaml"
    new_spec.write_text(old_spec.read_text().replace("seed: 7", "seed: 8"))
    for spec, out in ((old_spec, "fc"), (new_spec, "ref")):
        done = subprocess.run([*forecast, str(spec), "--out", out], cwd=work, capture_output=True)
        assert done.returncode == 0, done.stderr

    def files(folder: str) -> dict[str, bytes]:
        return {k: v for k, v in snapshot(work / folder).items() if k != ".realloc-output"}

    old, new = files("fc"), files("ref")
    assert old != new
    cmd = [*forecast, str(new_spec), "--out", "fc"]
    _kill_when_writing_starts(cmd, work)
    assert files("fc") == old, "a kill while writing changed the old forecast"
    for delay_s in (1.0, 2.5):
        proc = subprocess.Popen(cmd, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(delay_s)
        proc.kill()
        proc.communicate()
        assert files("fc") in (old, new)
    done = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert files("fc") == new
    assert leftovers(work) == [], "the next run cleans what killed runs left"


def test_leftovers_are_cleaned_only_when_realloc_made_them(work) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True)  # fmt: skip
    stale = work / ".out.tmp-dead"
    stale.mkdir()
    writer = {"pid": int(dead.stdout), "host": os.uname().nodename}
    (stale / atomic.STAGING).write_text(json.dumps(writer))
    live = work / ".out.tmp-live"
    live.mkdir()
    writer = {"pid": os.getpid(), "host": os.uname().nodename}
    (live / atomic.STAGING).write_text(json.dumps(writer))
    foreign = work / ".out.tmp-mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("mine")
    assert run("plan", "tiny.yaml", "--out", "out").exit_code == 0
    assert leftovers(work) == [".out.tmp-live", ".out.tmp-mine"]


# --- item 8 (part): a write error names the path, exit 5, old output intact -------------------


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES, errno.EROFS, errno.EDQUOT])
def test_write_errors_name_the_path_and_keep_the_old_output(work, monkeypatch, code) -> None:
    import realloc.reports.plan_files as plan_files

    assert run("plan", "tiny.yaml", "--out", "out").exit_code == 0
    before = snapshot(work / "out")

    def full(frame, path, columns=None):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(plan_files, "write_csv", full)
    result = run("plan", "tiny.yaml", "--out", "out")
    assert result.exit_code == 5, result.output
    assert f"could not write out: {os.strerror(code)} ({errno.errorcode[code]})" in result.output
    assert "left as it was" in result.output and "Traceback" not in result.output
    assert "internal error" not in result.output
    assert snapshot(work / "out") == before and leftovers(work) == []


def test_forecast_write_error_names_the_file(work, monkeypatch) -> None:
    import realloc.reports.forecast_report as forecast_report

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "fc/forecast_fan.png")

    monkeypatch.setattr(forecast_report, "_fan_chart", full)
    result = run("forecast", _forecast_spec(work, 2), "--out", "fc")
    assert result.exit_code == 5 and "could not write fc/forecast_fan.png" in result.output
    assert not (work / "fc").exists() and leftovers(work) == []


# --- item 12 (part): modes follow the umask --------------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_output_modes_follow_the_umask(work, umask) -> None:
    previous = os.umask(umask)
    try:
        assert run("plan", "tiny.yaml", "--out", "out").exit_code == 0
        assert run("forecast", _forecast_spec(work, 2), "--out", "fc").exit_code == 0
        assert run("report", "out", "--format", "html,xlsx", "--out", "rep").exit_code == 0
        sweep = run("sweep", "tiny.yaml", _variants(work), "--out", "sw", "--workers", "1")
        assert sweep.exit_code == 0, sweep.output
    finally:
        os.umask(previous)
    for folder in ("out", "fc", "rep", "sw"):
        root = work / folder
        parts = list((root / "parts").iterdir()) if folder == "sw" else []
        for d in [root, *parts]:
            assert stat.S_IMODE(d.stat().st_mode) == 0o777 & ~umask, d
        for f in root.iterdir():
            if f.is_file():
                assert stat.S_IMODE(f.stat().st_mode) == 0o666 & ~umask, f


# --- item 5: the sweep lock is taken atomically ----------------------------------------------


def _variants(work: Path, n: int = 2) -> Path:
    path = work / "variants.yaml"
    rates = ", ".join(str(100 + 5 * i) for i in range(n))
    path.write_text(f"grid:\n  vary:\n    contracts[H].rate_usd_per_kw_month: [{rates}]\n")
    return path


LOCKER = """
import sys, time
from realloc.reports.sweep_store import SweepStore, StoreBusy
start = float(sys.argv[2])
while time.time() < start:
    pass
try:
    with SweepStore(sys.argv[1]).lock():
        took = time.time()
        time.sleep(1.0)
        print("locked", took, time.time(), flush=True)
except StoreBusy as e:
    print("busy", e, flush=True)
"""


def test_racing_processes_never_both_hold_the_lock(tmp_path) -> None:
    """Six processes try to lock one folder at the same instant: never two at once."""
    start = time.time() + 2.0
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", LOCKER, str(tmp_path / "sw"), str(start)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    said = [p.communicate(timeout=60)[0].split() for p in procs]
    held = sorted((float(s[1]), float(s[2])) for s in said if s[0] == "locked")
    assert held and all(a[1] <= b[0] for a, b in itertools.pairwise(held)), said
    assert any(s[0] == "busy" for s in said), said


def test_two_sweeps_started_together_one_runs_one_is_refused(work) -> None:
    variants = _variants(work, 24)
    cmd = [sys.executable, "-m", "realloc.cli", "sweep", "tiny.yaml", str(variants)]
    cmd += ["--out", "sw", "--workers", "1"]
    procs = [subprocess.Popen(cmd, cwd=work, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = sorted((p.wait(timeout=120), p.stderr.read()) for p in procs)
    (ok, _), (busy, err) = results
    assert "Traceback" not in results[0][1] + err
    if busy == 0:  # on a loaded machine the second may start after the first has finished
        assert any("24 already stored" in e and "solving 0" in e for _, e in results), results
        return
    assert (ok, busy) == (0, 2), results
    # refused by the lock ("another sweep … is writing sw") or, when it looked in the instant
    # between the folder's creation and its marker, by the folder check: either way, never both
    assert "error: " in err and "sw" in err, err


def test_a_dead_sweeps_lock_is_taken_over_and_a_live_one_refuses(work) -> None:
    variants = _variants(work)
    (work / "sw").mkdir()
    (work / "sw" / ".lock").write_text("999999999")  # an older realloc's PID lock, long dead
    args = ("sweep", "tiny.yaml", variants, "--out", "sw", "--workers", "1")
    assert run(*args).exit_code == 0
    with open(work / "sw" / ".lock") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another live sweep holds it
        result = run(*args)
    assert result.exit_code == 2 and "another sweep" in result.output
    assert run(*args).exit_code == 0


def test_a_lock_just_taken_is_not_mistaken_for_a_stale_one(work) -> None:
    """The race of two sweeps started together, made deterministic: the first has its lock but
    has not yet said who it is (an empty .lock); the second must not take it as stale."""
    (work / "sw").mkdir()
    with open(work / "sw" / ".lock", "w") as first:
        fcntl.flock(first, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = run("sweep", "tiny.yaml", _variants(work), "--out", "sw", "--workers", "1")
    assert result.exit_code == 2 and "another sweep" in result.output, result.output
    assert not (work / "sw" / "variants.parquet").exists()


# --- single files and write errors of the other commands -------------------------------------


def test_breakeven_csv_replaces_only_its_own_file(work) -> None:
    args = ["breakeven", "tiny.yaml", "--param", "contracts[H].rate_usd_per_kw_month"]
    args += ["--site", "A", "--lo", "50", "--hi", "200", "--tol", "20"]
    before = (work / "tiny.yaml").read_bytes()
    result = run(*args, "--out", "tiny.yaml")
    refused(result, "did not write")
    assert "bisecting" not in result.output, "refused before solving"
    assert (work / "tiny.yaml").read_bytes() == before
    refused(run(*args, "--out", "tiny.yaml/probes.csv"), "is a file, not a folder")
    assert run(*args, "--out", "probes.csv").exit_code == 0
    assert run(*args, "--out", "probes.csv").exit_code == 0  # its own file: replaced
    assert leftovers(work) == []


def test_out_under_a_file_is_refused(work) -> None:
    refused(run("plan", "tiny.yaml", "--out", "tiny.yaml/out"), "is a file, not a folder")


def test_sweep_write_error_names_it_and_keeps_what_is_stored(work, monkeypatch) -> None:
    from realloc.reports.sweep_store import SweepStore

    def full(self, key, row, tables):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.parts / key))

    monkeypatch.setattr(SweepStore, "write_part", full)
    result = run("sweep", "tiny.yaml", _variants(work), "--out", "sw", "--workers", "1")
    assert result.exit_code == 5, result.output
    assert "could not write sw/parts/" in result.output and "(ENOSPC)" in result.output
    assert "rerun the same command to resume" in result.output
    assert "Traceback" not in result.output


def test_plan_report_whose_pdf_fails_still_writes_the_plan(work, monkeypatch) -> None:
    import realloc.reports.board.build as board_build
    from realloc.reports.board.pdf import PdfPrintError

    def failing(source, path, engine):
        raise PdfPrintError("chromium exited 1")

    monkeypatch.setattr(board_build, "pdf_engine", lambda: Path("/usr/bin/chromium"))
    monkeypatch.setattr(board_build, "print_pdf", failing)
    result = run("plan", "tiny.yaml", "--out", "out", "--report")
    assert result.exit_code == 1, result.output
    assert "error: chromium exited 1; the plan, report.html and report.xlsx" in result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert {"plan.csv", "report.html", "report.xlsx"} <= {p.name for p in (work / "out").iterdir()}


def test_compare_into_a_sweep_being_written_is_refused(work) -> None:
    assert (
        run("sweep", "tiny.yaml", _variants(work), "--out", "sw", "--workers", "1").exit_code == 0
    )
    before = snapshot(work / "sw")
    with open(work / "sw" / ".lock") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a sweep is resuming into it
        result = run("compare", "sw")
    assert result.exit_code == 2 and "another sweep" in result.output, result.output
    assert snapshot(work / "sw") == before
    result = run("compare", "sw")
    assert result.exit_code == 0, result.output
    assert (work / "sw" / "comparison.csv").is_file() and leftovers(work) == []


def test_a_sweeps_consolidated_files_change_as_one_set(work, monkeypatch) -> None:
    """A failure halfway through rebuilding variants.parquet, the long tables and sweep.json
    leaves the previous set whole (the parts solved meanwhile are kept for the rerun)."""
    import realloc.reports.sweep_store as sweep_store

    args = ("sweep", "tiny.yaml", _variants(work, 2), "--out", "sw", "--workers", "1")
    assert run(*args).exit_code == 0
    consolidated = ["variants.parquet", "plan.parquet", "treasury.parquet", "sweep.json"]
    before = {n: (work / "sw" / n).read_bytes() for n in consolidated}
    real, calls = sweep_store._write_parquet, []

    def fails_third(frame, path):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(frame, path)

    monkeypatch.setattr(sweep_store, "_write_parquet", fails_third)
    result = run("sweep", "tiny.yaml", _variants(work, 3), "--out", "sw", "--workers", "1")
    assert result.exit_code == 5 and "(ENOSPC)" in result.output, result.output
    assert {n: (work / "sw" / n).read_bytes() for n in consolidated} == before
    assert len(list((work / "sw" / "parts").iterdir())) == 3 and leftovers(work) == []
