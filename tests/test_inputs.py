"""Input loading: every error names the file, where in it, and what was expected.

Bad files are written into ``tmp_path`` from a modified copy of the bundled example's data, so the
tests do not depend on line positions in the bundled file.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

from realloc.inputs import InputError, load_portfolio
from realloc.inputs.examples import example_path
from realloc.inputs.excel_loader import load_excel
from realloc.inputs.excel_writer import write_excel
from realloc.models import Portfolio

CSV_NAME = "gigawatt_miner_market.csv"
PECOS = "Pecos TX (ERCOT West)"
DALTON = "Dalton GA"


@pytest.fixture(scope="module")
def example_data() -> dict:
    return yaml.safe_load(example_path().read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def example() -> Portfolio:
    return load_portfolio(example_path())


@pytest.fixture
def write_yaml(tmp_path: Path, example_data: dict) -> Callable[..., tuple[Path, str]]:
    """Write a changed copy of the example (with its CSV beside it); return path and text."""
    shutil.copyfile(example_path().parent / CSV_NAME, tmp_path / CSV_NAME)

    def write(change: Callable[[dict], Any], name: str = "bad.yaml") -> tuple[Path, str]:
        data = copy.deepcopy(example_data)
        change(data)
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path, text

    return write


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line of ``text`` containing ``needle``."""
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def load_error(path: Path) -> str:
    with pytest.raises(InputError) as info:
        load_portfolio(path)
    return str(info.value)


def assert_close(a: Any, b: Any, where: str = "") -> None:
    """Recursive equality of model dumps with a relative tolerance on floats."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for k in a:
            assert_close(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_close(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and not isinstance(b, bool):
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12), f"{where}: {a} != {b}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


# -- YAML -----------------------------------------------------------------------------------------


def test_example_loads(example: Portfolio) -> None:
    assert example.months == 60
    assert len(example.site(PECOS).power_price_usd_per_mwh) == 60


def test_yaml_syntax_error_names_line(write_yaml) -> None:
    path, text = write_yaml(lambda d: None)
    lines = text.splitlines()
    n = line_of(text, "grid_mw: 300")
    lines[n - 1] += ": 5"  # "grid_mw: 300: 5"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    msg = load_error(path)
    assert "bad.yaml" in msg
    assert f"line {n}," in msg
    assert "YAML syntax error" in msg
    assert "mapping values are not allowed" in msg


def test_yaml_wrong_type(write_yaml) -> None:
    path, text = write_yaml(lambda d: d["sites"][0].update(grid_mw="lots"))
    msg = load_error(path)
    assert "bad.yaml" in msg
    assert f"sites[{PECOS}].grid_mw (line {line_of(text, 'grid_mw: lots')})" in msg
    assert "valid number" in msg and "'lots'" in msg


def test_yaml_negative_grid_mw(write_yaml) -> None:
    path, text = write_yaml(lambda d: d["sites"][1].update(grid_mw=-5))
    msg = load_error(path)
    assert "bad.yaml" in msg
    assert f"sites[{DALTON}].grid_mw (line {line_of(text, 'grid_mw: -5')})" in msg
    assert "greater than 0" in msg and "-5" in msg


def test_yaml_unknown_field(write_yaml) -> None:
    path, text = write_yaml(lambda d: d["sites"][0].update(grid_mwh=300))
    msg = load_error(path)
    assert "bad.yaml" in msg
    assert f"sites[{PECOS}].grid_mwh (line {line_of(text, 'grid_mwh:')})" in msg
    assert "unknown field" in msg and "spelling" in msg


def test_yaml_unknown_field_in_fleet(write_yaml) -> None:
    path, text = write_yaml(lambda d: d["sites"][0]["fleets"][1].update(efficency_j_per_th=17))
    msg = load_error(path)
    assert f"sites[{PECOS}].fleets[Pecos S21].efficency_j_per_th" in msg
    assert f"line {line_of(text, 'efficency_j_per_th')}" in msg
    assert "unknown field" in msg


def test_yaml_missing_field(write_yaml) -> None:
    path, text = write_yaml(lambda d: d["sites"][0].pop("grid_mw"))
    msg = load_error(path)
    assert "bad.yaml" in msg
    # the field is absent, so the line is that of the site it belongs to
    assert f"sites[{PECOS}].grid_mw (line {line_of(text, f'- name: {PECOS}')})" in msg
    assert "required field is missing" in msg


def test_yaml_bad_month(write_yaml) -> None:
    path, text = write_yaml(lambda d: d.update(start_month="March 2026"))
    msg = load_error(path)
    assert f"start_month (line {line_of(text, 'start_month: March 2026')})" in msg
    assert "YYYY-MM" in msg


def test_yaml_contract_names_unknown_site(write_yaml) -> None:
    path, _ = write_yaml(lambda d: d["contracts"][2]["eligible_sites"].append("Nowhere TX"))
    msg = load_error(path)
    assert "bad.yaml" in msg
    assert "contracts[Meridian Compute (10 yr)]" in msg
    assert "'Nowhere TX'" in msg and "not in sites" in msg


def test_yaml_duplicate_site_names(write_yaml) -> None:
    path, _ = write_yaml(lambda d: d["sites"][1].update(name=PECOS))
    msg = load_error(path)
    assert "bad.yaml" in msg
    assert f"site name '{PECOS}' is used twice" in msg


def test_yaml_series_too_short(write_yaml) -> None:
    path, _ = write_yaml(lambda d: d["market"].update(btc_price_usd=[67000, 68000, 69000]))
    msg = load_error(path)
    assert "bad.yaml" in msg
    assert "market.btc_price_usd (line" in msg
    assert "has 3 values but the horizon has 60 months" in msg


def _twice(d: dict) -> None:
    d["sites"][0]["name"] = "Twice"
    d["sites"][3]["name"] = "Twice"


CROSS_FIELD_CASES = {
    "unknown site": (
        lambda d: d["contracts"][2]["eligible_sites"].append("Nowhere TX"),
        "- Nowhere TX",
    ),
    "duplicate site": (_twice, "- name: Twice"),
    "series too short": (
        lambda d: d["market"].update(btc_price_usd=[67000, 68000, 69000]),
        "btc_price_usd:",
    ),
}


@pytest.mark.parametrize("case", list(CROSS_FIELD_CASES))
def test_yaml_cross_field_error_points_at_item_line(write_yaml, case: str) -> None:
    change, needle = CROSS_FIELD_CASES[case]
    path, text = write_yaml(change)
    msg = load_error(path)
    lines = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    assert "(line 1)" not in msg
    # the reported line is the offending field's (a list value starts on the line after its key)
    reported = int(msg.split("(line ")[1].split(")")[0])
    assert any(abs(reported - n) <= 2 for n in lines), msg


def test_yaml_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: Caf\xe9 Mining\n".encode("latin-1"))
    msg = load_error(path)
    assert "latin1.yaml" in msg
    assert "byte 9 is not valid UTF-8" in msg


def test_yaml_csv_series_file_missing(write_yaml) -> None:
    path, _ = write_yaml(lambda d: d["market"]["btc_price_usd"].update(csv="no_such_market.csv"))
    msg = load_error(path)
    assert "bad.yaml" in msg
    assert "no_such_market.csv" in msg and "not found" in msg
    assert "relative to the YAML file" in msg


def test_yaml_csv_bad_value_names_its_line(write_yaml, tmp_path: Path) -> None:
    path, _ = write_yaml(lambda d: None)
    csv = tmp_path / CSV_NAME
    lines = csv.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    col = header.index("btc_price_usd")
    cells = lines[6].split(",")  # line 7 of the file (header is line 1)
    cells[col] = "about 70k"
    lines[6] = ",".join(cells)
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    msg = load_error(path)
    assert CSV_NAME in msg
    assert "line 7, column 'btc_price_usd'" in msg
    assert "expected a number" in msg and "'about 70k'" in msg


def test_yaml_csv_unknown_column(write_yaml) -> None:
    path, _ = write_yaml(lambda d: d["market"]["btc_price_usd"].update(column="btc_usd"))
    msg = load_error(path)
    assert CSV_NAME in msg and "no column 'btc_usd'" in msg and "btc_price_usd" in msg


def test_yaml_top_level_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    msg = load_error(path)
    assert "list.yaml" in msg and "expected a mapping" in msg


def test_file_not_found(tmp_path: Path) -> None:
    msg = load_error(tmp_path / "absent.yaml")
    assert "absent.yaml" in msg and "file not found" in msg


def test_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "portfolio.json"
    path.write_text("{}", encoding="utf-8")
    msg = load_error(path)
    assert "portfolio.json" in msg and "unknown file type '.json'" in msg


# -- Excel ----------------------------------------------------------------------------------------


@pytest.fixture
def workbook(tmp_path: Path, example: Portfolio) -> Path:
    path = tmp_path / "example.xlsx"
    write_excel(example, path)
    return path


def edit(path: Path, change: Callable[[openpyxl.Workbook], Any]) -> Path:
    """Apply ``change`` to the workbook at ``path`` and save it as bad.xlsx beside it."""
    wb = openpyxl.load_workbook(path)
    change(wb)
    out = path.with_name("bad.xlsx")
    wb.save(out)
    return out


def cell(ws: Any, key_column: str, key: str, column: str) -> str:
    """Coordinate of ``column`` in the row whose ``key_column`` holds ``key``."""
    header = [c.value for c in ws[1]]
    kc, cc = header.index(key_column) + 1, header.index(column) + 1
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, kc).value == key)
    return ws.cell(row, cc).coordinate


def set_cell(sheet: str, key_column: str, key: str, column: str, value: Any):
    def change(wb: openpyxl.Workbook) -> None:
        ws = wb[sheet]
        ws[cell(ws, key_column, key, column)] = value

    return change


def test_excel_round_trip(workbook: Path, example: Portfolio) -> None:
    loaded = load_excel(workbook)
    assert_close(example.model_dump(), loaded.model_dump())
    # load_portfolio dispatches on the suffix
    assert_close(example.model_dump(), load_portfolio(workbook).model_dump())


def test_excel_layout(workbook: Path) -> None:
    wb = openpyxl.load_workbook(workbook)
    assert wb.sheetnames == [
        "portfolio",
        "sites",
        "fleets",
        "conversions",
        "contracts",
        "market",
        "power_prices",
        "treasury",
        "btc_loans",
        "financing_notes",
        "project_loans",
        "equity",
    ]
    ws = wb["contracts"]
    signed = ws[cell(ws, "name", "Ridgeline AI (signed)", "signed_it_mw")].value
    assert signed == "Dalton GA: 16"
    elig = ws[cell(ws, "name", "Meridian Compute (10 yr)", "eligible_sites")].value
    assert elig == "Dalton GA, Conemaugh PA (PJM), Jamestown ND"
    assert [c.value for c in wb["power_prices"][1]] == ["month", PECOS]
    assert wb["market"]["A2"].value == "2026-03"
    # Pecos's monthly prices live in power_prices, so its sites cell is blank
    ws = wb["sites"]
    assert ws[cell(ws, "name", PECOS, "power_price_usd_per_mwh")].value is None


def _cut_series(data, months: int):
    """``data`` with every monthly list cut to ``months`` values (a longer one is refused)."""
    if isinstance(data, dict):
        return {k: _cut_series(v, months) for k, v in data.items()}
    if isinstance(data, list) and data and all(isinstance(v, float) for v in data):
        return data[:months]
    if isinstance(data, list):
        return [_cut_series(v, months) for v in data]
    return data


def test_excel_round_trip_scalar_market_and_awkward_names(example: Portfolio, tmp_path) -> None:
    p = example.model_copy(
        update={
            "name": "=SUM(A1)",  # must stay text, not become a formula
            "market": example.market.model_copy(update={"btc_price_usd": 70000.0}),
            "months": 36,
        }
    )
    p = Portfolio.model_validate(_cut_series(p.model_dump(), 36))
    path = write_excel(p, tmp_path / "p.xlsx")
    q = load_excel(path)
    assert q.name == "=SUM(A1)"
    assert q.market.btc_price_usd == [70000.0] * 36  # a single number comes back per month
    assert_close(
        p.model_dump(exclude={"market"}),
        q.model_dump(exclude={"market"}),
    )


def test_excel_refuses_names_with_separators(example: Portfolio, tmp_path) -> None:
    data = example.model_dump()
    data["sites"][2]["name"] = "Baie-Comeau, QC"
    with pytest.raises(ValueError, match="contains ','"):
        write_excel(Portfolio.model_validate(data), tmp_path / "p.xlsx")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            set_cell("sites", "name", DALTON, "grid_mw", -5),
            [
                f"sites[{DALTON}].grid_mw (sheet 'sites', row 3, column grid_mw)",
                "greater than 0",
                "-5",
            ],
            id="negative",
        ),
        pytest.param(
            set_cell("sites", "name", DALTON, "grid_mw", "lots"),
            ["sheet 'sites', row 3, column grid_mw", "valid number", "'lots'"],
            id="text-for-number",
        ),
        pytest.param(
            set_cell("sites", "name", DALTON, "grid_mw", None),
            ["sheet 'sites', row 3, column grid_mw", "required field is missing"],
            id="blank-required",
        ),
        pytest.param(
            set_cell("fleets", "name", "Pecos S21", "efficiency_j_per_th", 600),
            [
                f"sites[{PECOS}].fleets[Pecos S21].efficiency_j_per_th",
                "sheet 'fleets', row 3, column efficiency_j_per_th",
                "less than or equal to 500",
            ],
            id="fleet",
        ),
        pytest.param(
            set_cell("conversions", "site", DALTON, "existing_it_mw", 1000),
            ["sheet 'conversions', row 3", "existing_it_mw (1000.0) exceeds max_it_mw"],
            id="conversion",
        ),
        pytest.param(
            set_cell(
                "contracts", "name", "Anvil Labs (15 yr, min 80 MW)", "start_month", "2027/12"
            ),
            ["sheet 'contracts', row 5, column start_month", "YYYY-MM", "'2027/12'"],
            id="contract-month",
        ),
        pytest.param(
            set_cell("contracts", "name", "Ridgeline AI (signed)", "signed_it_mw", "Dalton 16"),
            ["sheet 'contracts', row 2, column signed_it_mw", "'Site: MW; Site: MW'"],
            id="signed-it-mw",
        ),
        pytest.param(
            set_cell(
                "contracts", "name", "Meridian Compute (10 yr)", "eligible_sites", "Dalton, Nowhere"
            ),
            ["sheet 'contracts', row 4, column eligible_sites", "'Dalton' is not in sheet 'sites'"],
            id="eligible-unknown",
        ),
        pytest.param(
            set_cell("fleets", "name", "Dalton S21", "site", "Nowhere"),
            ["sheet 'fleets', row 8, column site", "'Nowhere' is not in sheet 'sites'"],
            id="fleet-unknown-site",
        ),
        pytest.param(
            set_cell("sites", "name", DALTON, "name", PECOS),
            ["sheet 'sites', row 3, column name", "used twice (also row 2)"],
            id="duplicate-site",
        ),
        pytest.param(
            set_cell("sites", "name", DALTON, "power_price_usd_per_mwh", None),
            [
                "sheet 'sites', row 3, column power_price_usd_per_mwh",
                "or a column named 'Dalton GA' in sheet 'power_prices'",
            ],
            id="no-power-price",
        ),
        pytest.param(
            set_cell("sites", "name", PECOS, "power_price_usd_per_mwh", 40),
            ["sheet 'sites', row 2, column power_price_usd_per_mwh", "not both"],
            id="two-power-prices",
        ),
        pytest.param(
            set_cell("power_prices", "month", "2026-06", PECOS, "cheap"),
            [f"sheet 'power_prices', row 5, column {PECOS}", "expected a number", "'cheap'"],
            id="power-price-text",
        ),
        pytest.param(
            set_cell("market", "month", "2026-11", "btc_price_usd", -1),
            ["sheet 'market', row 10, column btc_price_usd", "at least 0"],
            id="market-negative",
        ),
        pytest.param(
            set_cell("market", "month", "2026-11", "btc_price_usd", None),
            ["sheet 'market', row 10, column btc_price_usd", "blank cell inside the series"],
            id="market-gap",
        ),
        pytest.param(
            set_cell("market", "month", "2026-11", "month", "2027-01"),
            ["sheet 'market', row 10, column month", "expected 2026-11", "'2027-01'"],
            id="market-month-skipped",
        ),
        pytest.param(
            set_cell("portfolio", "field", "months", "value", "sixty"),
            ["months (sheet 'portfolio', row 4, column value)", "valid integer"],
            id="portfolio-field",
        ),
        pytest.param(
            set_cell("portfolio", "field", "months", "field", "monthz"),
            [
                "monthz (sheet 'portfolio', row 4, column value): unknown field",
                "months (sheet 'portfolio', add a row with field 'months')",
            ],
            id="portfolio-typo",
        ),
        pytest.param(
            set_cell("treasury", "field", "cash_usd", "value", None),
            ["treasury.cash_usd (sheet 'treasury', row 3, column value)", "required"],
            id="treasury-blank",
        ),
        pytest.param(
            lambda wb: wb["sites"].__setitem__("B1", "grid_mwh"),
            ["sheet 'sites', row 1, cell B1: unknown column 'grid_mwh'", "grid_mw"],
            id="unknown-column",
        ),
        pytest.param(
            lambda wb: wb["sites"].delete_cols(2),
            ["sheet 'sites', row 1: no column 'grid_mw'"],
            id="missing-column",
        ),
        pytest.param(
            lambda wb: wb.remove(wb["treasury"]),
            ["no sheet called 'treasury'"],
            id="missing-sheet",
        ),
        pytest.param(
            lambda wb: wb.create_sheet("Contract"),
            ["sheet 'Contract': unknown sheet"],
            id="unknown-sheet",
        ),
        pytest.param(
            set_cell("portfolio", "field", "months", "value", 100),
            ["power_price_usd_per_mwh", "has 60 values but the horizon has 100 months"],
            id="series-too-short",
        ),
    ],
)
def test_excel_error_names_sheet_row_column(workbook: Path, change, expected: list[str]) -> None:
    msg = load_error(edit(workbook, change))
    assert "bad.xlsx" in msg
    for text in expected:
        assert text in msg, msg


def test_excel_formula_refused(workbook: Path) -> None:
    path = edit(workbook, set_cell("sites", "name", DALTON, "grid_mw", "=150+50"))
    msg = load_error(path)
    assert "bad.xlsx" in msg
    assert "sheet 'sites', row 3, column grid_mw (cell B3)" in msg
    assert "formula '=150+50'" in msg and "paste values" in msg


def test_excel_merged_cells_refused(workbook: Path) -> None:
    path = edit(workbook, lambda wb: wb["fleets"].merge_cells("A2:A5"))
    msg = load_error(path)
    assert "bad.xlsx" in msg
    assert "sheet 'fleets'" in msg and "merged cells A2:A5" in msg and "unmerge" in msg


def test_excel_dates_become_months(workbook: Path, example: Portfolio) -> None:
    def change(wb: openpyxl.Workbook) -> None:
        set_cell("portfolio", "field", "start_month", "value", dt.datetime(2026, 3, 1))(wb)
        ws = wb["market"]
        for r in range(2, ws.max_row + 1):
            y, m = (int(x) for x in ws.cell(r, 1).value.split("-"))
            ws.cell(r, 1).value = dt.date(y, m, 1)
        ws = wb["contracts"]
        ws[cell(ws, "name", "Tessellate Cloud (tenant-funded, 12 yr)", "start_month")] = (
            dt.datetime(2026, 12, 15)
        )

    p = load_excel(edit(workbook, change))
    assert p.start_month == "2026-03"
    assert p.contracts[1].start_month == "2026-12"
    assert_close(example.model_dump(), p.model_dump())


def test_excel_blank_optional_cells_take_defaults(workbook: Path) -> None:
    path = edit(workbook, set_cell("sites", "name", DALTON, "mining_pue", None))
    p = load_excel(path)
    assert p.site(DALTON).mining_pue == 1.05  # the model default


def test_excel_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("name,grid_mw\n", encoding="utf-8")
    msg = load_error(path)
    assert "fake.xlsx" in msg and "cannot read the workbook" in msg
