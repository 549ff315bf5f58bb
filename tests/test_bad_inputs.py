"""The bad-input corpus (tests/bad_inputs/): every malformed file exits 2 with a message that
names the file, the place in it and a fix, never a traceback; the awkward-but-valid files load,
plan and keep their names intact.

Each case runs through ``realloc validate`` and ``realloc plan`` (CliRunner); a few run as real
subprocesses so the exit code and stderr are the ones a shell sees.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
import yaml
from click.testing import CliRunner

from realloc.cli import main
from realloc.inputs.yaml_loader import MAX_INPUT_BYTES
from realloc.reports.safe_text import read_csv_text
from tests.bad_inputs import make_cases

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))
BAD = [c for c in CASES if not c.get("valid")]
VALID = [c for c in CASES if c.get("valid")]
SEEN = {"inputs": 0, "tracebacks": 0}


def _path(case: dict, tmp_path: Path) -> Path:
    if case.get("generate") == "huge":
        path = tmp_path / case["file"]
        with path.open("wb") as f:
            f.write(b"name: huge\n")
            f.truncate(MAX_INPUT_BYTES + 1)  # sparse: no 10 MiB written to disk
        return path
    return CORPUS / case["file"]


def _run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, args)
    SEEN["inputs"] += 1
    output = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        output += repr(result.exception)
    if "Traceback" in output or "internal error" in output:
        SEEN["tracebacks"] += 1
    return result.exit_code, output


def test_corpus_is_large_and_covers_every_category() -> None:
    assert len(CASES) >= 100
    assert sum(c["file"].endswith(".xlsx") for c in CASES) >= 15
    slugs = " ".join(c["file"] for c in CASES)
    for category in (
        "syntax", "type_", "nan", "inf", "negative", "absurd", "missing", "unknown", "typo",
        "duplicate", "empty", "too_short", "out_of_order", "latin1", "huge", "merged",
        "formula", "name_", "unicode", "cmd", "bom", "vset_",
    ):  # fmt: skip
        assert category in slugs, category
    assert sum(bool(c.get("variant_set")) for c in CASES) >= 10


@pytest.mark.parametrize("case", BAD, ids=[c["file"] for c in BAD])
def test_bad_input_exits_2_naming_file_place_and_fix(case: dict, tmp_path: Path) -> None:
    path = _path(case, tmp_path)
    out = tmp_path / "out"
    started = time.perf_counter()
    commands = [["validate", str(path)], ["plan", str(path), "--out", str(out)]]
    if case.get("variant_set"):  # a malformed variant set, swept over a good portfolio
        base = str(CORPUS / make_cases.VARIANT_BASE)
        commands = [["sweep", base, str(path), "--out", str(out), "--workers", "1"]]
    for args in commands:
        code, output = _run(args)
        assert code == 2, f"{args[0]} exit {code}: {output}"
        assert "Traceback" not in output and "internal error" not in output, output
        assert output.startswith("error: ") or "\nerror: " in output, output
        message = output[output.index("error: ") :]
        assert path.name in message, message  # the file
        for key in ("where", "expect", "fix"):  # the place, the problem and the fix
            assert case[key] in message, f"{key} {case[key]!r} not in: {message}"
        assert len(message.strip().splitlines()) == 1, "one paragraph: " + message
    assert not out.exists(), "a refused input must not create the output folder"
    if case.get("generate") == "huge":
        assert time.perf_counter() - started < 2.0, "an oversized file is refused up front"


@pytest.mark.parametrize("case", VALID, ids=[c["file"] for c in VALID])
def test_awkward_but_valid_input_loads_and_plans(case: dict, tmp_path: Path) -> None:
    path = _path(case, tmp_path)
    code, output = _run(["validate", str(path)])
    assert code == 0, output
    out = tmp_path / "out"
    code, output = _run(["plan", str(path), "--out", str(out)])
    assert code == 0, output
    assert "Traceback" not in output
    from realloc.inputs import load_portfolio

    p = load_portfolio(path)
    names = {s.name for s in p.sites} | {g.name for s in p.sites for g in s.fleets}
    plan = read_csv_text(out / "plan.csv")
    # every site and fleet name comes back byte for byte from the UTF-8 CSV (formula-like names
    # are written with a quote in front, which realloc's reader removes)
    assert names <= set(plan["site"]) | set(plan["detail"]), names - set(plan["site"])
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["portfolio"] == p.name


def test_formula_text_names_never_become_excel_formulas(tmp_path: Path) -> None:
    """A name like ``=cmd|' /C calc'!A0`` is valid text; every workbook realloc writes keeps it
    as text (a formula would run when the board opens the file)."""
    from realloc.inputs import load_portfolio
    from realloc.inputs.excel_writer import write_excel

    case = next(c for c in VALID if "formula" in c["file"] and c["file"].endswith(".yaml"))
    p = load_portfolio(CORPUS / case["file"])
    evil = "=cmd|' /C calc'!A0"
    assert evil in {s.name for s in p.sites}
    path = write_excel(p, tmp_path / "round.xlsx")
    wb = openpyxl.load_workbook(path)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert any(isinstance(c.value, str) and c.value.strip() == evil for c in cells)
    back = load_portfolio(path)  # and it reads back as the same names
    assert [s.name for s in back.sites] == [s.name for s in p.sites]


def test_committed_corpus_matches_its_generator(tmp_path: Path) -> None:
    manifest = make_cases.build(tmp_path, excel=False)
    assert [m["file"] for m in manifest] == [c["file"] for c in CASES]
    assert manifest == CASES
    for f in sorted(tmp_path.iterdir()):
        if f.suffix in (".yaml", ".csv"):  # (the variant base portfolio included)
            assert f.read_bytes() == (CORPUS / f.name).read_bytes(), f.name


@pytest.mark.parametrize("slug", ["syntax_tab_indent", "type_grid_text", "xlsx_formula_cmd"])
def test_bad_input_in_a_real_process(slug: str, tmp_path: Path) -> None:
    case = next(c for c in CASES if c["file"][4:].startswith(slug + "."))
    name = case["file"]
    proc = subprocess.run(
        [sys.executable, "-m", "realloc.cli", "plan", str(CORPUS / name), "--out",
         str(tmp_path / "out")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    SEEN["inputs"] += 1
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert case["expect"] in proc.stderr and case["fix"] in proc.stderr


def test_zz_no_tracebacks_across_the_corpus() -> None:
    """Runs last in this module: the tally the issue's closing note reports."""
    print(f"\nbad-input corpus: {SEEN['inputs']} runs, {SEEN['tracebacks']} tracebacks")
    assert SEEN["tracebacks"] == 0
