"""Red-team cases against the merged fixes of issue 12: each test here failed before its fix.

The cases come from generated attacks (malformed options and inputs, odd but valid portfolios,
output-folder abuse, the library API); the ones that found a defect are kept here, each next to
the smallest reproducer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bad_inputs import make_cases
from tests.helpers import run_cli as _run


def _portfolio(folder: Path, old: str = "", new: str = "", name: str = "p.yaml") -> Path:
    """The corpus's small 12-month portfolio, with ``old`` replaced by ``new``."""
    folder.mkdir(parents=True, exist_ok=True)
    assert old in make_cases.BASE
    path = folder / name
    path.write_text(make_cases.BASE.replace(old, new, 1) if old else make_cases.BASE, "utf-8")
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["--stochastic", "--paths", "9" * 400],  # OverflowError in math.isfinite
        ["--time-limit", "1_0"],  # Python's float() reads 1_0 as 10
        ["--mip-gap", "0_5"],
    ],
)
def test_numeric_options_huge_integers_and_underscores_are_usage_errors(tmp_path, args):
    code, out = _run("plan", _portfolio(tmp_path), "--out", tmp_path / "o", *args)
    assert code == 2, out
    assert not (tmp_path / "o").exists()


def test_report_of_an_infeasible_plan_has_an_empty_verification_sheet(tmp_path):
    """An infeasible plan has no verification table; the workbook used to crash on it."""
    path = _portfolio(tmp_path, "min_btc: 50", "min_btc: 5000")
    code, out = _run("plan", path, "--out", tmp_path / "o", "--report")
    assert code == 3, out
    assert (tmp_path / "o" / "report.xlsx").is_file()
    code, out = _run("report", tmp_path / "o", "--format", "xlsx", "--out", tmp_path / "r")
    assert code == 0, out


LONG = "y" * 300  # one path component over the 255-byte limit of every filesystem


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "{p}", "--out", LONG],
        ["plan", "{p}", "--out", "y" * 250],  # fits, but its staging sibling .NAME.tmp-* does not
        ["plan", "{p}", "--out", f"{LONG}/sub"],
        ["plan", LONG],
        ["validate", LONG],
        ["plan", "{p}", "--forecast", LONG],
        ["plan", "{p}", "--scenarios", LONG],
        ["forecast", LONG],
        ["forecast", "--out", LONG],
        ["example", LONG],
        ["compare", LONG],
        ["report", "{p}", "--out", LONG],
    ],
)
def test_paths_too_long_to_look_up_are_bad_input(tmp_path, monkeypatch, args):
    """Path.exists() raises ENAMETOOLONG instead of answering False: it used to be an internal
    error (or, for --out, a write failure after the whole plan was solved)."""
    p = _portfolio(tmp_path)
    monkeypatch.chdir(tmp_path)
    code, out = _run(*[a.replace("{p}", str(p)) for a in args])
    assert code == 2, out
    assert sorted(x.name for x in tmp_path.iterdir()) == ["p.yaml"]


def test_out_below_a_dangling_or_looping_symlink_is_refused_before_solving(tmp_path):
    p = _portfolio(tmp_path)
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    for link in ("dangling", "loop1"):
        code, out = _run("plan", p, "--out", tmp_path / link / "x")
        assert code == 2, out
        assert "symbolic link" in out and "planning" not in out


def _api_cases(tmp_path):
    import realloc

    portfolio = realloc.load(_portfolio(tmp_path))
    return (
        realloc,
        portfolio,
        [
            lambda: realloc.load(5),
            lambda: realloc.load(b"p.yaml"),
            lambda: realloc.load(""),
            lambda: realloc.load("p\0.yaml"),
            lambda: realloc.load(LONG),
            lambda: portfolio.with_changes(None),
            lambda: portfolio.with_changes([("months", 3)]),
            lambda: realloc.plan(5),
            lambda: realloc.plan(portfolio, solver="gurobi"),
            lambda: realloc.plan(portfolio, time_limit_s=float("nan")),
            lambda: realloc.plan(portfolio, mip_gap=2),
            lambda: realloc.plan(
                portfolio, stochastic=True, paths=10**9
            ),  # was a 440 GiB MemoryError
            lambda: realloc.plan(portfolio, stochastic=True, paths=2.5),
            lambda: realloc.plan(portfolio, stochastic=True, paths=2, cvar_alpha=1),
            lambda: realloc.plan(portfolio, stochastic=True, paths=2, frontier=(2,)),
            lambda: realloc.forecast(5),
            lambda: realloc.build_report(tmp_path / "nope"),
            lambda: realloc.build_report(LONG),
            lambda: realloc.build_report(tmp_path, formats=("doc",)),
        ],
    )


def test_library_calls_raise_input_error_for_bad_arguments(tmp_path):
    """Each of these used to raise TypeError, ValueError, OSError, MemoryError, AttributeError,
    OutputRefused or NotARunFolder instead of realloc.InputError."""
    realloc, _, cases = _api_cases(tmp_path)
    for i, case in enumerate(cases):
        with pytest.raises(realloc.InputError):
            case()
        assert i >= 0


def test_library_writes_refused_and_report_formats_as_input_error(tmp_path, monkeypatch):
    import realloc

    monkeypatch.chdir(tmp_path)
    made = realloc.plan(realloc.load(_portfolio(tmp_path)))
    for out in (".", tmp_path, "p.yaml", LONG):
        with pytest.raises(realloc.InputError):
            made.write(out)
    with pytest.raises(realloc.InputError):
        made.report("o", formats=("doc",))
    assert not (tmp_path / "o").exists()  # refused before the plan was written
    made.write("o")
    files = realloc.build_report("o", formats="html,xlsx")  # as --format takes it, not h,t,m,l
    assert sorted(files) == ["html", "xlsx"]


def test_a_file_of_many_unknown_keys_is_refused_quickly_in_a_short_message(tmp_path):
    """200,000 unknown keys used to be located one by one in the YAML tree (quadratic: over two
    minutes) and listed in a message of megabytes (validate, forecast, sweep)."""
    import time

    p = _portfolio(tmp_path)
    many = tmp_path / "many.yaml"
    many.write_bytes(b"".join(b"k%d: 1\n" % i for i in range(50_000)))
    for args in (["validate", many], ["forecast", many], ["sweep", p, many, "--out", "sw"]):
        start = time.monotonic()
        code, out = _run(*args)
        assert code == 2, out[:300]
        assert len(out) < 20_000, len(out)
        assert time.monotonic() - start < 30


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("start_date: 2026-02-07", "start_date: 2026-02-30"),  # PyYAML: bare ValueError
        ("start_month: 2026-03", "start_month: 9999-12"),  # date(10000, ...) in block heights
        ("start_month: 2026-03", "start_month: 0000-01"),  # date(0, ...)
    ],
)
def test_forecast_spec_dates_no_calendar_holds_are_bad_input(tmp_path, old, new):
    from realloc.inputs.examples import example_dir

    text = (example_dir() / "forecast_base.yaml").read_text("utf-8")
    assert old in text
    spec = tmp_path / "f.yaml"
    spec.write_text(text.replace(old, new, 1), "utf-8")
    code, out = _run("forecast", spec, "--out", tmp_path / "fo")
    assert code == 2, out
    code, out = _run("plan", _portfolio(tmp_path), "--forecast", spec, "--out", tmp_path / "o")
    assert code == 2, out


@pytest.mark.parametrize("name", ["2026-02-30", "2026-13-01", "2026-02-30 10:00:00"])
def test_a_date_like_value_that_is_no_date_is_text(tmp_path, name):
    """PyYAML raised ValueError for a timestamp-looking scalar naming no real day."""
    path = _portfolio(tmp_path, "name: Corpus Mining Co", f"name: {name}")
    code, out = _run("validate", path)
    assert code == 0, out
    assert name in out


@pytest.fixture(scope="module")
def plan_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("plan")
    code, out = _run("plan", _portfolio(folder / "in"), "--out", folder / "o")
    assert code == 0, out
    return folder / "o"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("summary.json", b"not json{"),
        ("summary.json", b"[1, 2]"),
        ("summary.json", b"[" * 100_000 + b"]" * 100_000),
        ("summary.json", bytes(range(256))),
        ("summary.json", b'{"solver": "s"}'),
        ("inputs.json", b"{bad"),
        ("inputs.json", b'{"name": 5, "sites": "x"}'),
        ("run.json", b"{bad"),
        ("run.json", b'{"created_utc": "9999-12-31T23:59:59Z"}'),
        ("plan.csv", b""),
        ("plan.csv", b"\x00\x01\x02garbage"),
        ("plan.csv", b"a,b\n1,2\n"),
        ("plan.csv", b"month,site,use,detail,power_mw,it_mw\n2026-01,Alpha,mining,x,abc,def\n"),
        ("treasury.csv", b'x\n"unterminated\n'),
        ("shadow_prices.csv", "family,site\nx,y\n".encode("utf-16")),
        ("conversions.csv", b"site,start_month,ready_month,it_mw,capex_usd\nA,no,2026-13,5,1\n"),
    ],
)
@pytest.mark.parametrize("flags", [(), ("--allow-edited",)])
def test_report_of_an_edited_plan_folder_is_bad_input(plan_folder, tmp_path, name, data, flags):
    """Each edit used to end in an internal error (JSONDecodeError, AttributeError, KeyError,
    RecursionError, Arrow, openpyxl, struct.error) instead of exit 2 naming the file. Without
    --allow-edited the hashes refuse it before rendering; with it, the rendering failure is
    still bad input naming the file."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(plan_folder, run)
    (run / name).write_bytes(data)
    code, out = _run("report", run, "--format", "html,xlsx", "--out", tmp_path / "r", *flags)
    assert code == 2, out
    assert name in out
    assert not (tmp_path / "r").exists()


def test_an_edit_that_still_renders_is_refused_unless_allowed(plan_folder, tmp_path):
    """A plausible edit (a site renamed in plan.csv) renders fine, so only the recorded hashes
    can tell the report would show figures realloc did not compute."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(plan_folder, run)
    text = (run / "plan.csv").read_text("utf-8")
    (run / "plan.csv").write_text(text.replace("mining", "mining ", 1), "utf-8")
    code, out = _run("report", run, "--format", "html", "--out", tmp_path / "r")
    assert code == 2 and "plan.csv changed since" in out and "--allow-edited" in out, out
    assert not (tmp_path / "r").exists()
    code, out = _run("report", run, "--format", "html", "--out", tmp_path / "r", "--allow-edited")
    assert code == 0 and "warning: reporting edited files: plan.csv" in out, out
    assert (tmp_path / "r" / "report.html").exists()


def test_report_never_reads_a_symlink_or_fifo_in_the_plan_folder(plan_folder, tmp_path):
    import os
    import shutil

    run = tmp_path / "run"
    shutil.copytree(plan_folder, run)
    (run / "plan.csv").unlink()
    (run / "plan.csv").symlink_to("/etc/passwd")
    (run / "treasury.csv").unlink()
    os.mkfifo(run / "treasury.csv")
    # refused by the hashes (neither is the regular file realloc wrote), without blocking on
    # the FIFO; with --allow-edited the report skips both and never shows /etc/passwd
    code, out = _run("report", run, "--format", "html", "--out", tmp_path / "r")
    assert code == 2 and "plan.csv, treasury.csv changed since" in out, out
    code, out = _run("report", run, "--format", "html", "--out", tmp_path / "r", "--allow-edited")
    assert code == 0, out
    assert "root:" not in (tmp_path / "r" / "report.html").read_text("utf-8")
    (run / "summary.json").unlink()
    (run / "summary.json").symlink_to(plan_folder / "summary.json")
    code, out = _run("report", run, "--format", "html", "--out", tmp_path / "r2", "--allow-edited")
    assert code == 2, out


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("sweep")
    p = _portfolio(folder / "in")
    grid = folder / "in" / "g.yaml"
    grid.write_text("variants:\n  base: {}\n  rich: {treasury.cash_usd: 120000000}\n", "utf-8")
    code, out = _run("sweep", p, grid, "--out", folder / "sw", "--workers", 1)
    assert code == 0, out
    return p, grid, folder / "sw"


@pytest.mark.parametrize(
    ("name", "data"),
    [("variants.parquet", b"garbage"), ("variants.parquet", b""), ("sweep.json", b"{bad"),
     ("sweep.json", b"[]")],
)  # fmt: skip
def test_compare_of_a_damaged_sweep_store_is_bad_input(sweep_folder, tmp_path, name, data):
    """pyarrow's ArrowInvalid and json's errors used to be internal errors."""
    import shutil

    store = tmp_path / "sw"
    shutil.copytree(sweep_folder[2], store)
    (store / name).write_bytes(data)
    code, out = _run("compare", store, "--out", tmp_path / "c")
    assert code == 2, out


def test_a_damaged_part_of_a_sweep_store_is_solved_again(sweep_folder, tmp_path):
    """A truncated part used to stop the resumed sweep with an internal error (pyarrow)."""
    import shutil

    p, grid, source = sweep_folder
    store = tmp_path / "sw"
    shutil.copytree(source, store)
    part = sorted((store / "parts").iterdir())[0]
    next(iter(sorted(part.glob("*.parquet")))).write_bytes(b"garbage")
    code, out = _run("sweep", p, grid, "--out", store, "--workers", 1)
    assert code == 0, out
    code, out = _run("compare", store)
    assert code == 0, out


def test_library_options_take_numpy_numbers():
    """A numpy integer for ``paths`` is a whole number (not refused as a non-integer)."""
    import numpy as np

    from realloc import options
    from realloc.arguments import _checked

    assert _checked(np.int64(5), options.PATHS, "paths") == 5
    assert _checked(3.0, options.PATHS, "paths") == 3
    assert _checked(np.float64(0.5), options.MIP_GAP, "mip_gap") == 0.5
