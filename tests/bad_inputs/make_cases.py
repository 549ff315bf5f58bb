"""Generate the bad-input corpus: ``python -m tests.bad_inputs.make_cases``.

Every case is one file in this folder (YAML, Excel or raw bytes; CSV series beside them) and one
entry in ``cases.yaml`` saying what is wrong and which fragments the error must contain:

- ``where``: the location (``line N`` of the YAML, or ``sheet 'x', row n``);
- ``expect``: the problem;
- ``fix``: what to do about it (or the expected value/meaning that tells it).

Cases marked ``valid: true`` are awkward but legitimate inputs (unicode names, ``=cmd|`` text,
a byte-order mark, Windows line endings) that must load, plan and round-trip unharmed.
``generate: huge`` cases are made at test time (a sparse file over the size limit), not committed.

Most YAML cases are the small ``BASE`` portfolio with one text edit, so each file shows its fault
next to otherwise good data. Re-run this script after changing a case; a test checks that the
committed YAML/CSV files are what it writes.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import yaml

HERE = Path(__file__).resolve().parent

BASE = """\
name: Corpus Mining Co
start_month: 2026-01
months: 12
discount_rate_per_year: 0.1
pool_fee_share: 0.02
terminal_value: true
sites:
  - name: Alpha
    grid_mw: 100
    power_price_usd_per_mwh: 40
    mining_pue: 1.05
    availability_share: 0.97
    mining_opex_usd_per_mw_month: 3000
    fleets:
      - name: Alpha S21
        power_mw: 60
        efficiency_j_per_th: 17.5
        resale_usd_per_th: 7
      - name: Alpha S19
        power_mw: 30
        efficiency_j_per_th: 29.5
    conversion:
      max_it_mw: 60
      existing_it_mw: 10
      capex_usd_per_it_mw: 9000000
      lead_months: 6
      ai_pue: 1.3
  - name: Beta
    grid_mw: 50
    power_price_usd_per_mwh: [45, 45, 46, 47, 50, 55, 60, 58, 50, 46, 45, 45]
    fleets:
      - name: Beta S19 XP
        power_mw: 45
        efficiency_j_per_th: 21.5
contracts:
  - name: Signed Tenant
    rate_usd_per_kw_month: 125
    start_month: 2025-06
    term_months: 60
    max_it_mw: 8
    eligible_sites: [Alpha]
    signed_it_mw: {Alpha: 8}
  - name: Offered Tenant
    rate_usd_per_kw_month: 140
    escalator_per_year: 0.03
    start_month: 2026-09
    term_months: 120
    max_it_mw: 40
    min_it_mw: 10
    eligible_sites: [Alpha]
    tenant_capex_share: 0.5
market:
  btc_price_usd: 70000
  hashprice_usd_per_ph_day: [35, 35, 34, 34, 33, 33, 32, 32, 31, 31, 30, 30]
treasury:
  btc: 500
  cash_usd: 100000000
  min_cash_usd: 20000000
  min_btc: 50
  max_btc_sold_per_month: 200
  sale_cost_bps: 25
"""

MONTHS = [f"2026-{m:02d}" for m in range(1, 13)]
BTC = [70000 + 500 * t for t in range(12)]


def market_csv(months: list[str] = MONTHS, btc: list[object] = BTC) -> str:
    rows = ["month,btc_price_usd"] + [f"{m},{b}" for m, b in zip(months, btc, strict=True)]
    return "\n".join(rows) + "\n"


CSV_MARKET = "  btc_price_usd: {csv: %s, column: btc_price_usd}"


@dataclass
class Case:
    slug: str
    what: str
    expect: str = ""
    fix: str = ""
    where: str = ""  # "@needle": "line N" of the first line holding needle
    edits: tuple[tuple[str, str], ...] = ()
    text: str | None = None
    data: bytes | None = None
    ext: str = "yaml"
    files: dict[str, str | bytes] = field(default_factory=dict)
    valid: bool = False
    generate: str | None = None


def edit(slug: str, what: str, old: str, new: str, expect: str, fix: str, where: str = ""):
    return Case(slug, what, expect, fix, where, edits=((old, new),))


def csv_case(slug: str, what: str, csv: str | bytes, expect: str, fix: str, where: str):
    name = f"{slug}.csv"
    return Case(
        slug,
        what,
        expect,
        fix,
        where,
        edits=(("  btc_price_usd: 70000", CSV_MARKET % name),),
        files={name: csv},
    )


def yaml_cases() -> list[Case]:
    c: list[Case] = []
    add = c.append
    # --- YAML syntax -----------------------------------------------------------------------
    add(
        edit(
            "syntax_tab_indent",
            "a tab used for indentation",
            "    grid_mw: 100\n",
            "\tgrid_mw: 100\n",
            "YAML syntax error",
            "spaces, not tabs",
            "@grid_mw: 100",
        )
    )
    add(
        edit(
            "syntax_unclosed_quote",
            "a quote opened and never closed",
            "name: Corpus Mining Co",
            'name: "Corpus Mining Co',
            "YAML syntax error",
            "quoting",
            "line ",
        )
    )
    add(
        edit(
            "syntax_unclosed_bracket",
            "a list bracket never closed",
            "[45, 45, 46, 47, 50, 55, 60, 58, 50, 46, 45, 45]",
            "[45, 45, 46, 47, 50, 55, 60, 58, 50, 46, 45, 45",
            "YAML syntax error",
            "check the indentation",
            "line ",
        )
    )
    add(
        edit(
            "syntax_bad_dedent",
            "a key indented less than its siblings",
            "    mining_pue: 1.05\n",
            "   mining_pue: 1.05\n",
            "YAML syntax error",
            "indentation",
            "@mining_pue",
        )
    )
    add(
        edit(
            "syntax_two_colons",
            "two colons on one line",
            "    grid_mw: 100\n",
            "    grid_mw: 100 MW: firm\n",
            "mapping values are not allowed",
            "quoting",
            "@grid_mw",
        )
    )
    add(
        edit(
            "syntax_missing_colon",
            "a key without its colon",
            "  min_btc: 50\n",
            "  min_btc 50\n",
            "YAML syntax error",
            "colons",
            "line ",
        )
    )
    add(
        edit(
            "syntax_stray_line",
            "a stray text line among the keys",
            "months: 12\n",
            "months: 12\noops this line is not a key\n",
            "YAML syntax error",
            "indentation",
            "line ",
        )
    )
    add(
        edit(
            "syntax_python_tag",
            "a !!python tag (code execution in unsafe loaders)",
            "name: Corpus Mining Co",
            "name: !!python/object/apply:os.system [echo hi]",
            "could not determine a constructor",
            "write plain values",
            "@python",
        )
    )
    add(
        edit(
            "syntax_two_documents",
            "two YAML documents in one file",
            "treasury:\n",
            "---\ntreasury:\n",
            "YAML syntax error",
            "check",
            "line ",
        )
    )
    add(
        edit(
            "syntax_unhashable_key",
            "a list used as a mapping key",
            "pool_fee_share: 0.02\n",
            "pool_fee_share: 0.02\n? [a, b]\n: 1\n",
            "a list or mapping is used as a key",
            "keys must be plain words",
            "@? [a, b]",
        )
    )
    add(
        edit(
            "duplicate_key_site",
            "grid_mw given twice in one site",
            "    grid_mw: 100\n",
            "    grid_mw: 100\n    grid_mw: 10\n",
            "'grid_mw' is given twice",
            "delete one of them",
            "@grid_mw: 10\n",
        )
    )
    add(
        edit(
            "duplicate_key_top",
            "treasury given twice",
            "treasury:\n",
            "treasury:\n  btc: 1\ntreasury:\n",
            "'treasury' is given twice",
            "delete one of them",
            "@treasury:",
        )
    )
    add(Case("empty_file", "an empty file", "the file is empty", "YAML mapping", "", text=""))
    add(
        Case(
            "only_comments",
            "a file of comments only",
            "the file is empty",
            "YAML mapping",
            "",
            text="# name: Corpus Mining Co\n# months: 12\n",
        )
    )
    add(
        Case(
            "top_level_list",
            "a list at the top level",
            "got a list",
            "name: My Company",
            "",
            text="- name: Corpus Mining Co\n- months: 12\n",
        )
    )
    add(
        Case(
            "top_level_text",
            "plain text instead of YAML",
            "got plain text",
            "name: My Company",
            "",
            text="This is my portfolio, please plan it.\n",
        )
    )
    add(
        Case(
            "deep_nesting",
            "ten thousand nested brackets",
            "nested too deeply",
            "check the brackets",
            "",
            text="name: " + "[" * 10000 + "]" * 10000 + "\n",
        )
    )
    bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9)
    )
    add(
        Case(
            "alias_bomb",
            "nested aliases expanding to 10^9 values (billion laughs)",
            "expand to more than",
            "write the data out",
            "line ",
            text=bomb,
        )
    )
    add(
        Case(
            "nul_byte",
            "a NUL byte (a binary file)",
            "NUL byte",
            "text file",
            "line 2",
            data=b"name: Corpus\n\x00\x01\x02binary\n",
        )
    )
    # --- encodings ---------------------------------------------------------------------------
    add(
        Case(
            "latin1_bytes",
            "a name saved in Latin-1 (é as one byte)",
            "is not valid UTF-8",
            "save the file as UTF-8",
            "line 1",
            data=BASE.replace("Corpus Mining Co", "Café Mining").encode("latin-1"),
        )
    )
    add(
        Case(
            "utf16_file",
            "the whole file saved as UTF-16",
            "is not valid UTF-8",
            "save the file as UTF-8",
            "line 1",
            data=BASE.encode("utf-16"),
        )
    )
    add(
        Case(
            "cp1252_quotes",
            "curly quotes saved in Windows-1252",
            "is not valid UTF-8",
            "encoding UTF-8",
            "line 1",
            data=BASE.replace("Corpus Mining Co", "“Corpus” Mining").encode("cp1252"),
        )
    )
    # --- wrong types ---------------------------------------------------------------------------
    add(
        edit(
            "type_grid_text",
            "a word where a number belongs",
            "    grid_mw: 100\n",
            "    grid_mw: lots\n",
            "sites[Alpha].grid_mw",
            "valid number",
            "@grid_mw: lots",
        )
    )
    add(
        edit(
            "type_grid_with_unit",
            "a unit typed after the number",
            "    grid_mw: 100\n",
            "    grid_mw: 100 MW\n",
            "sites[Alpha].grid_mw",
            "no units",
            "@grid_mw: 100 MW",
        )
    )
    add(
        edit(
            "type_thousands_separator",
            "a thousands separator",
            "  cash_usd: 100000000",
            "  cash_usd: 100,000,000",
            "treasury.cash_usd",
            "thousands separators",
            "@cash_usd",
        )
    )
    add(
        edit(
            "type_months_fraction",
            "a fractional month count",
            "months: 12\n",
            "months: 12.5\n",
            "months",
            "without a fractional part",
            "@months: 12.5",
        )
    )
    add(
        edit(
            "type_months_word",
            "months written as a word",
            "months: 12\n",
            "months: twelve\n",
            "valid integer",
            "Number of monthly periods planned",
            "@months: twelve",
        )
    )
    add(
        edit(
            "type_bool_word",
            "maybe for a true/false field",
            "terminal_value: true",
            "terminal_value: maybe",
            "terminal_value",
            "expected true or false",
            "@terminal_value",
        )
    )
    add(
        edit(
            "type_yes_for_number",
            "yes (a YAML boolean) for a number",
            "    grid_mw: 100\n",
            "    grid_mw: yes\n",
            "got the boolean true",
            "write the value itself",
            "@grid_mw: yes",
        )
    )
    add(
        edit(
            "type_name_number",
            "a number where a name belongs",
            "  - name: Beta\n",
            "  - name: 42\n",
            "sites[1].name",
            "put it in quotes",
            "@name: 42",
        )
    )
    add(
        edit(
            "type_sites_mapping",
            "sites as one mapping instead of a list",
            BASE[BASE.index("sites:") : BASE.index("contracts:")],
            "sites: {name: Alpha, grid_mw: 100, power_price_usd_per_mwh: 40}\n",
            "sites",
            "expected a list",
            "@sites: {",
        )
    )
    add(
        edit(
            "type_fleets_text",
            "fleets as a line of text",
            "    fleets:\n      - name: Beta S19 XP\n        power_mw: 45\n"
            "        efficiency_j_per_th: 21.5\n",
            "    fleets: 45 MW of S19 XP\n",
            "sites[Beta].fleets",
            "expected a list",
            "@45 MW of",
        )
    )
    add(
        edit(
            "type_eligible_text",
            "eligible_sites as text, not a list",
            "    eligible_sites: [Alpha]\n    tenant",
            "    eligible_sites: Alpha\n    tenant",
            "contracts[Offered Tenant].eligible_sites",
            "[A, B]",
            "@eligible_sites: Alpha",
        )
    )
    add(
        edit(
            "type_signed_list",
            "signed_it_mw as a list, not a mapping",
            "signed_it_mw: {Alpha: 8}",
            "signed_it_mw: [Alpha, 8]",
            "signed_it_mw",
            "expected a mapping",
            "@signed_it_mw",
        )
    )
    add(
        edit(
            "type_treasury_scalar",
            "treasury as one number",
            "treasury:\n  btc: 500\n  cash_usd: 100000000\n  min_cash_usd: 20000000\n"
            "  min_btc: 50\n  max_btc_sold_per_month: 200\n  sale_cost_bps: 25\n",
            "treasury: 500\n",
            "treasury",
            "expected a mapping of fields",
            "@treasury: 500",
        )
    )
    add(
        edit(
            "type_series_mapping",
            "a power price given as a mapping",
            "    power_price_usd_per_mwh: 40\n",
            "    power_price_usd_per_mwh: {mean: 40}\n",
            "power_price_usd_per_mwh",
            "{csv: FILE, column: NAME}",
            "@mean: 40",
        )
    )
    add(
        edit(
            "type_series_text_item",
            "a word inside a series list",
            "[35, 35, 34, 34, 33, 33, 32, 32, 31, 31, 30, 30]",
            "[35, 35, 34, 34, n/a, 33, 32, 32, 31, 31, 30, 30]",
            "value 5 of the list is 'n/a'",
            "must be a number",
            "@n/a",
        )
    )
    add(
        edit(
            "type_month_date",
            "a full date where a month belongs",
            "start_month: 2026-01\n",
            "start_month: 2026-01-15\n",
            "got the date 2026-01-15",
            "write the month alone as YYYY-MM",
            "@2026-01-15",
        )
    )
    add(
        edit(
            "type_month_number",
            "a month written as 202601",
            "start_month: 2026-01\n",
            "start_month: 202601\n",
            "expected a calendar month written YYYY-MM",
            "quote it",
            "@202601",
        )
    )
    add(
        edit(
            "type_month_13",
            "month 13",
            "start_month: 2026-09",
            "start_month: 2026-13",
            "contracts[Offered Tenant].start_month",
            "YYYY-MM",
            "@2026-13",
        )
    )
    add(
        edit(
            "type_month_words",
            "a month in words",
            "start_month: 2026-09",
            "start_month: September 2026",
            "contracts[Offered Tenant].start_month",
            "e.g. 2026-03",
            "@September",
        )
    )
    # --- NaN, inf, negative, absurd magnitudes ---------------------------------------------------
    num = [
        (
            "nan_grid",
            "grid_mw is .nan",
            "    grid_mw: 100\n",
            "    grid_mw: .nan\n",
            "sites[Alpha].grid_mw",
            "finite number",
            "@.nan",
        ),
        (
            "inf_grid",
            "grid_mw is .inf",
            "    grid_mw: 100\n",
            "    grid_mw: .inf\n",
            "sites[Alpha].grid_mw",
            "finite number",
            "@.inf",
        ),
        (
            "negative_grid",
            "a negative grid",
            "    grid_mw: 100\n",
            "    grid_mw: -100\n",
            "must be greater than 0",
            "Interconnect capacity",
            "@grid_mw: -100",
        ),
        (
            "absurd_grid_1e9",
            "a 10^9 MW site",
            "    grid_mw: 100\n",
            "    grid_mw: 1e9\n",
            "must be less than or equal to 10,000",
            "Interconnect capacity, MW",
            "@1e9",
        ),
        (
            "absurd_fleet_1e9",
            "a 10^9 MW fleet",
            "        power_mw: 60\n",
            "        power_mw: 1000000000\n",
            "fleets[Alpha S21].power_mw",
            "Wall power of the whole group",
            "@1000000000",
        ),
        (
            "zero_efficiency",
            "efficiency of 0 J/TH",
            "efficiency_j_per_th: 17.5",
            "efficiency_j_per_th: 0",
            "must be greater than 1",
            "Energy per terahash",
            "@efficiency_j_per_th: 0",
        ),
        (
            "absurd_efficiency",
            "efficiency in J/GH typed as J/TH",
            "efficiency_j_per_th: 29.5",
            "efficiency_j_per_th: 29500",
            "less than or equal to 500",
            "J/TH",
            "@29500",
        ),
        (
            "negative_power_price",
            "a negative power price",
            "power_price_usd_per_mwh: 40",
            "power_price_usd_per_mwh: -5",
            "must not be negative",
            "sites[Alpha]",
            "@power_price_usd_per_mwh: -5",
        ),
        (
            "nan_in_series",
            "a .nan inside a price list",
            "[45, 45, 46, 47, 50, 55,",
            "[45, 45, 46, .nan, 50, 55,",
            "value 4 of the list is nan",
            "finite number",
            "@.nan",
        ),
        (
            "inf_in_series",
            "an .inf inside hashprice",
            "[35, 35, 34, 34, 33, 33,",
            "[35, 35, 34, .inf, 33, 33,",
            "value 4 of the list is inf",
            "finite number",
            "@.inf",
        ),
        (
            "absurd_power_price",
            "power price in $/kWh×1000 confusion: 40,000,000",
            "power_price_usd_per_mwh: 40",
            "power_price_usd_per_mwh: 40000000",
            "above the plausible maximum 10,000",
            "check the units",
            "@40000000",
        ),
        (
            "zero_btc_price",
            "a zero BTC price",
            "btc_price_usd: 70000",
            "btc_price_usd: 0",
            "market.btc_price_usd",
            "at least $1",
            "@btc_price_usd: 0",
        ),
        (
            "btc_price_in_thousands",
            "BTC price typed in thousands (70)",
            "btc_price_usd: 70000",
            "btc_price_usd: 0.07",
            "at least $1",
            "check the units",
            "@0.07",
        ),
        (
            "absurd_btc_price",
            "a BTC price of 10^12",
            "btc_price_usd: 70000",
            "btc_price_usd: 1e12",
            "above the plausible maximum",
            "check the units",
            "@1e12",
        ),
        (
            "absurd_hashprice",
            "hashprice in $/EH/day (35,000,000)",
            "[35, 35, 34, 34, 33, 33,",
            "[35000000, 35, 34, 34, 33, 33,",
            "value 1 of the list is 3.5e+07",
            "check the units",
            "@35000000",
        ),
        (
            "absurd_cash",
            "cash of 10^15 dollars",
            "cash_usd: 100000000",
            "cash_usd: 1e15",
            "treasury.cash_usd",
            "Cash at the start",
            "@1e15",
        ),
        (
            "negative_btc",
            "a negative BTC stack",
            "  btc: 500",
            "  btc: -1",
            "treasury.btc",
            "greater than or equal to 0",
            "@btc: -1",
        ),
        (
            "absurd_btc_stack",
            "more BTC than will ever exist",
            "  btc: 500",
            "  btc: 1e9",
            "less than or equal to 21,000,000",
            "BTC held at the start",
            "@1e9",
        ),
        (
            "percent_availability",
            "availability as 97 (percent) instead of 0.97",
            "availability_share: 0.97",
            "availability_share: 97",
            "less than or equal to 1",
            "Share of the fleet",
            "@97",
        ),
        (
            "low_pue",
            "a mining PUE below 1",
            "mining_pue: 1.05",
            "mining_pue: 0.95",
            "greater than or equal to 1",
            "Grid MW per MW",
            "@0.95",
        ),
        (
            "percent_discount",
            "discount rate as 10 (percent)",
            "discount_rate_per_year: 0.1",
            "discount_rate_per_year: 10",
            "less than or equal to 1",
            "Annual discount rate",
            "@discount_rate",
        ),
        (
            "percent_pool_fee",
            "pool fee as 2 (percent)",
            "pool_fee_share: 0.02",
            "pool_fee_share: 2",
            "less than 1",
            "Share of mining revenue",
            "@pool_fee_share",
        ),
        (
            "percent_escalator",
            "escalator as 3 (percent)",
            "escalator_per_year: 0.03",
            "escalator_per_year: 3",
            "less than or equal to 1",
            "Annual rent increase",
            "@: 3\n",
        ),
        (
            "zero_term",
            "a 0-month contract",
            "term_months: 60",
            "term_months: 0",
            "greater than or equal to 1",
            "Contract length in months",
            "@term_months: 0",
        ),
        (
            "zero_months",
            "a 0-month horizon",
            "months: 12\n",
            "months: 0\n",
            "greater than or equal to 1",
            "Number of monthly periods",
            "@months: 0",
        ),
        (
            "absurd_months",
            "a 10,000-month horizon",
            "months: 12\n",
            "months: 10000\n",
            "less than or equal to 600",
            "Number of monthly periods",
            "@months: 10000",
        ),
        (
            "negative_lead",
            "a negative lead time",
            "lead_months: 6",
            "lead_months: -3",
            "greater than or equal to 0",
            "Months from the start of a conversion",
            "@-3",
        ),
        (
            "negative_floor",
            "a negative cash floor",
            "min_cash_usd: 20000000",
            "min_cash_usd: -5",
            "greater than or equal to 0",
            "Cash floor",
            "@-5",
        ),
        (
            "absurd_sale_cost",
            "sale cost of 200%",
            "sale_cost_bps: 25",
            "sale_cost_bps: 20000",
            "less than or equal to 10,000",
            "basis points",
            "@sale_cost_bps",
        ),
        (
            "existing_over_max",
            "more existing IT than the site can host",
            "existing_it_mw: 10",
            "existing_it_mw: 80",
            "exceeds max_it_mw",
            "existing_it_mw",
            "@max_it_mw: 60",
        ),
        (
            "min_over_max",
            "a contract minimum above its maximum",
            "min_it_mw: 10",
            "min_it_mw: 50",
            "min_it_mw (50.0) exceeds max_it_mw",
            "max_it_mw (40.0)",
            "@Offered Tenant",
        ),
        (
            "signed_over_max",
            "signed MW above the contract size",
            "signed_it_mw: {Alpha: 8}",
            "signed_it_mw: {Alpha: 12}",
            "adds up to more than max_it_mw",
            "signed_it_mw",
            "@Signed Tenant",
        ),
        (
            "signed_negative",
            "negative signed MW",
            "signed_it_mw: {Alpha: 8}",
            "signed_it_mw: {Alpha: -8}",
            "signed_it_mw[Alpha] = -8.0",
            "expected 0–10,000 MW",
            "@Signed Tenant",
        ),
    ]
    for slug, what, old, new, expect, fix, where in num:
        add(edit(slug, what, old, new, expect, fix, where))
    # --- missing and unknown fields ------------------------------------------------------------
    add(
        edit(
            "missing_name",
            "no portfolio name",
            "name: Corpus Mining Co\n",
            "",
            "name",
            "required field is missing (Portfolio name",
            "top level of the file",
        )
    )
    add(
        edit(
            "missing_start_month",
            "no start month",
            "start_month: 2026-01\n",
            "",
            "start_month",
            "required field is missing",
            "top level of the file",
        )
    )
    add(
        edit(
            "missing_sites",
            "no sites",
            BASE[BASE.index("sites:") : BASE.index("contracts:")],
            "",
            "sites",
            "required field is missing (The sites)",
            "top level of the file",
        )
    )
    add(
        edit(
            "missing_market",
            "no market",
            BASE[BASE.index("market:") : BASE.index("treasury:")],
            "",
            "market",
            "required field is missing (Price and hashprice",
            "top level of the file",
        )
    )
    add(
        edit(
            "missing_treasury_btc",
            "no BTC stack",
            "  btc: 500\n",
            "",
            "treasury.btc",
            "required field is missing (BTC held at the start)",
            "@treasury:",
        )
    )
    add(
        edit(
            "missing_fleet_power",
            "a fleet group without power_mw",
            "        power_mw: 45\n",
            "",
            "fleets[Beta S19 XP].power_mw",
            "required field is missing",
            "@Beta S19 XP",
        )
    )
    add(
        edit(
            "missing_term",
            "a contract without a term",
            "    term_months: 120\n",
            "",
            "contracts[Offered Tenant].term_months",
            "Contract length in months",
            "@Offered Tenant",
        )
    )
    add(
        edit(
            "unknown_top_field",
            "an unknown top-level field",
            "months: 12\n",
            "months: 12\nhorizon_years: 1\n",
            "unknown field",
            "README.md",
            "@horizon_years",
        )
    )
    add(
        edit(
            "typo_site_field",
            "grid_mwh instead of grid_mw",
            "    grid_mw: 100\n",
            "    grid_mwh: 100\n",
            "unknown field",
            "did you mean 'grid_mw'?",
            "@grid_mwh",
        )
    )
    add(
        edit(
            "typo_fleet_field",
            "efficency misspelt",
            "efficiency_j_per_th: 17.5",
            "efficency_j_per_th: 17.5",
            "unknown field",
            "did you mean 'efficiency_j_per_th'?",
            "@efficency",
        )
    )
    add(
        edit(
            "typo_treasury_field",
            "min_cash instead of min_cash_usd",
            "  min_cash_usd: 20000000",
            "  min_cash: 20000000",
            "unknown field",
            "did you mean 'min_cash_usd'?",
            "@min_cash:",
        )
    )
    add(
        edit(
            "typo_conversion_field",
            "capex_per_mw instead of capex_usd_per_it_mw",
            "capex_usd_per_it_mw: 9000000",
            "capex_per_mw: 9000000",
            "unknown field",
            "did you mean 'capex_usd_per_it_mw'?",
            "@capex_per_mw",
        )
    )
    add(
        edit(
            "typo_market_field",
            "btc_price instead of btc_price_usd",
            "  btc_price_usd: 70000",
            "  btc_price: 70000",
            "unknown field",
            "did you mean 'btc_price_usd'?",
            "@btc_price:",
        )
    )
    add(
        edit(
            "csv_series_no_column",
            "a CSV series without its column",
            "  btc_price_usd: 70000",
            "  btc_price_usd: {csv: market.csv}",
            "a CSV series is written {csv: FILE, column: NAME}",
            "exactly those two keys",
            "@csv:",
        )
    )
    # --- references and duplicates --------------------------------------------------------------
    add(
        edit(
            "unknown_eligible_site",
            "a contract naming a site that does not exist",
            "    eligible_sites: [Alpha]\n    tenant",
            "    eligible_sites: [Gamma]\n    tenant",
            "names site 'Gamma', which is not in sites",
            "known: Alpha, Beta",
            "@[Gamma]",
        )
    )
    add(
        edit(
            "eligible_site_case",
            "a site name in the wrong case",
            "    eligible_sites: [Alpha]\n    tenant",
            "    eligible_sites: [alpha]\n    tenant",
            "names site 'alpha'",
            "did you mean 'Alpha'?",
            "@[alpha]",
        )
    )
    add(
        edit(
            "eligible_site_typo",
            "a site name misspelt",
            "    eligible_sites: [Alpha]\n    tenant",
            "    eligible_sites: [Alpah]\n    tenant",
            "names site 'Alpah'",
            "did you mean 'Alpha'?",
            "@[Alpah]",
        )
    )
    add(
        edit(
            "eligible_site_trailing_space",
            "a site name with a trailing space",
            "    eligible_sites: [Alpha]\n    tenant",
            "    eligible_sites: ['Alpha ']\n    tenant",
            "starts or ends with a space",
            "remove it",
            "@'Alpha '",
        )
    )
    add(
        edit(
            "signed_not_eligible",
            "signed at a site not in eligible_sites",
            "signed_it_mw: {Alpha: 8}",
            "signed_it_mw: {Beta: 8}",
            "names 'Beta', which is not in its eligible_sites",
            "signed_it_mw",
            "@signed_it_mw",
        )
    )
    add(
        edit(
            "signed_without_conversion",
            "signed at a site with no conversion",
            "    eligible_sites: [Alpha]\n    signed_it_mw: {Alpha: 8}",
            "    eligible_sites: [Beta]\n    signed_it_mw: {Beta: 8}",
            "which has no conversion section",
            "no IT capacity",
            "@signed_it_mw",
        )
    )
    add(
        edit(
            "duplicate_site",
            "two sites with the same name",
            "  - name: Beta\n",
            "  - name: Alpha\n",
            "site name 'Alpha' is used twice",
            "names must be unique",
            "@- name: Alpha\n    grid_mw: 50",
        )
    )
    add(
        edit(
            "duplicate_fleet",
            "two fleet groups with the same name",
            "name: Beta S19 XP",
            "name: Alpha S21",
            "fleet group name 'Alpha S21' is used twice",
            "names must be unique",
            "@- name: Alpha S21\n        power_mw: 45",
        )
    )
    add(
        edit(
            "duplicate_contract",
            "two contracts with the same name",
            "name: Offered Tenant",
            "name: Signed Tenant",
            "contract name 'Signed Tenant' is used twice",
            "names must be unique",
            "@- name: Signed Tenant\n    rate_usd_per_kw_month: 140",
        )
    )
    add(
        edit(
            "eligible_twice",
            "a site listed twice in eligible_sites",
            "    eligible_sites: [Alpha]\n    tenant",
            "    eligible_sites: [Alpha, Alpha]\n    tenant",
            "eligible_sites lists a site twice",
            "Offered Tenant",
            "@Offered Tenant",
        )
    )
    add(
        edit(
            "offered_before_start",
            "an offered contract starting before the plan",
            "start_month: 2026-09",
            "start_month: 2025-09",
            "is before start_month 2026-01",
            "only signed contracts may start before",
            "@2025-09",
        )
    )
    add(
        edit(
            "contract_after_horizon",
            "a contract starting after the last month",
            "start_month: 2026-09",
            "start_month: 2027-09",
            "is after the last planned month",
            "extend months or drop the contract",
            "@2027-09",
        )
    )
    # --- empty things ---------------------------------------------------------------------------
    add(
        edit(
            "empty_sites",
            "an empty site list",
            BASE[BASE.index("sites:") : BASE.index("contracts:")],
            "sites: []\n",
            "sites",
            "at least one item",
            "@sites: []",
        )
    )
    add(
        edit(
            "empty_fleets_no_conversion",
            "a site with no fleets and nothing to convert",
            "    fleets:\n      - name: Beta S19 XP\n        power_mw: 45\n"
            "        efficiency_j_per_th: 21.5\n",
            "    fleets: []\n",
            "has no fleets and no conversion section",
            "or remove the site",
            "@fleets: []",
        )
    )
    add(
        edit(
            "null_fleets",
            "fleets: with nothing after it",
            "    fleets:\n      - name: Beta S19 XP\n        power_mw: 45\n"
            "        efficiency_j_per_th: 21.5\n",
            "    fleets:\n",
            "sites[Beta].fleets",
            "expected a list",
            "@fleets:\ncontracts:",
        )
    )
    add(
        edit(
            "empty_eligible",
            "an empty eligible_sites list",
            "    eligible_sites: [Alpha]\n    tenant",
            "    eligible_sites: []\n    tenant",
            "eligible_sites",
            "at least one item",
            "@eligible_sites: []",
        )
    )
    add(
        edit(
            "empty_name",
            "an empty portfolio name",
            "name: Corpus Mining Co",
            'name: ""',
            "name",
            "give a name with at least one visible character",
            '@name: ""',
        )
    )
    add(
        edit(
            "blank_name",
            "a name of spaces only",
            "  - name: Beta\n",
            '  - name: "   "\n',
            "is blank",
            "at least one visible character",
            '@name: "   "',
        )
    )
    add(
        edit(
            "empty_market",
            "an empty market section",
            BASE[BASE.index("market:") : BASE.index("treasury:")],
            "market: {}\n",
            "market.btc_price_usd",
            "required field is missing",
            "@market: {}",
        )
    )
    add(
        edit(
            "empty_series",
            "an empty price list",
            "power_price_usd_per_mwh: 40",
            "power_price_usd_per_mwh: []",
            "got an empty list",
            "non-empty list",
            "@[]",
        )
    )
    # --- series length and dates ----------------------------------------------------------------
    add(
        edit(
            "series_too_short",
            "a power price list one month short",
            "[45, 45, 46, 47, 50, 55, 60, 58, 50, 46, 45, 45]",
            "[45, 45, 46, 47, 50, 55, 60, 58, 50, 46, 45]",
            "has 11 values but the horizon has 12 months",
            "give one value per month or a single number",
            "@[45, 45",
        )
    )
    add(
        edit(
            "hashprice_too_short",
            "hashprice for 6 of 12 months",
            "[35, 35, 34, 34, 33, 33, 32, 32, 31, 31, 30, 30]",
            "[35, 35, 34, 34, 33, 33]",
            "has 6 values but the horizon has 12 months",
            "one value per month",
            "@hashprice_usd_per_ph_day",
        )
    )
    add(
        csv_case(
            "csv_months_out_of_order",
            "CSV rows with two months swapped",
            market_csv([*MONTHS[:3], MONTHS[4], MONTHS[3], *MONTHS[5:]]),
            "expected 2026-04 after 2026-03, got 2026-05",
            "sort the rows by month",
            "line 5",
        )
    )
    add(
        csv_case(
            "csv_month_gap",
            "CSV with a missing month",
            market_csv([*MONTHS[:6], *MONTHS[7:], "2027-01"]),
            "expected 2026-07 after 2026-06",
            "fill any missing month",
            "line 8",
        )
    )
    add(
        csv_case(
            "csv_wrong_start",
            "CSV starting a year before the plan",
            market_csv([f"2025-{m:02d}" for m in range(1, 13)]),
            "the series starts in 2025-01 but the portfolio's start_month is 2026-01",
            "start the CSV at 2026-01",
            "line 2",
        )
    )
    add(
        csv_case(
            "csv_bad_month_label",
            "CSV month written as Jan 2026",
            market_csv(["Jan 2026", *MONTHS[1:]]),
            "expected a month written YYYY-MM",
            "'Jan 2026'",
            "line 2",
        )
    )
    add(
        csv_case(
            "csv_too_short",
            "CSV with 10 of 12 months",
            market_csv(MONTHS[:10], BTC[:10]),
            "has 10 values but the horizon has 12 months",
            "one value per month",
            "market.btc_price_usd",
        )
    )
    add(
        csv_case(
            "csv_text_value",
            "a word in the CSV's numbers",
            market_csv(MONTHS, [*BTC[:4], "tbd", *BTC[5:]]),
            "expected a number, got 'tbd'",
            "give a value for every month",
            "line 6",
        )
    )
    add(
        csv_case(
            "csv_inf_value",
            "inf in the CSV's numbers",
            market_csv(MONTHS, [*BTC[:2], "inf", *BTC[3:]]),
            "expected a finite number, got 'inf'",
            "give a number for every month",
            "line 4, column 'btc_price_usd' (the series market.btc_price_usd",
        )
    )
    add(
        csv_case(
            "csv_latin1",
            "a CSV saved in Latin-1",
            (
                "month,btc_price_usd,note\n"
                + "".join(
                    f"{m},{b},{'é' if i == 0 else ''}\n"
                    for i, (m, b) in enumerate(zip(MONTHS, BTC, strict=True))
                )
            ).encode("latin-1"),
            "cannot read CSV",
            "UTF-8",
            ".csv",
        )
    )
    add(
        csv_case(
            "csv_wrong_column",
            "a CSV without the named column",
            market_csv().replace("btc_price_usd", "btc_usd"),
            "no column 'btc_price_usd'",
            "columns are month, btc_usd",
            ".csv",
        )
    )
    add(
        Case(
            "csv_missing_file",
            "a CSV series whose file is missing",
            "series file",
            "paths are relative to the YAML file",
            "market.btc_price_usd",
            edits=(("  btc_price_usd: 70000", CSV_MARKET % "no_such_file.csv"),),
        )
    )
    # --- names: invisible characters, length ------------------------------------------------------
    add(
        edit(
            "name_newline",
            "a line break inside a site name",
            "  - name: Beta\n",
            '  - name: "Beta\\nNorth"\n',
            "invisible character U+000A",
            "retype the name",
            "@Beta\\nNorth",
        )
    )
    add(
        edit(
            "name_tab",
            "a tab inside a fleet name",
            "name: Beta S19 XP",
            'name: "Beta\\tS19 XP"',
            "invisible character U+0009",
            "retype the name",
            "@Beta\\tS19",
        )
    )
    add(
        edit(
            "name_zero_width",
            "a zero-width space hidden in a site name",
            "  - name: Beta\n",
            "  - name: Be\u200bta\n",
            "U+200B (ZERO WIDTH SPACE)",
            "retype the name",
            "@Be\u200bta",
        )
    )
    add(
        edit(
            "name_bidi_override",
            "a right-to-left override in a contract name",
            "name: Offered Tenant",
            "name: Offered \u202eTenant",
            "U+202E (RIGHT-TO-LEFT OVERRIDE)",
            "retype the name",
            "@Offered \u202e",
        )
    )
    add(
        edit(
            "name_too_long",
            "a 500-character name",
            "name: Corpus Mining Co",
            "name: " + "Corpus " * 71 + "Co",
            "is 499 characters long",
            "at most 200",
            "@name: Corpus Corpus",
        )
    )
    add(
        edit(
            "name_leading_space",
            "a site name with a leading space",
            "  - name: Beta\n",
            "  - name: ' Beta'\n",
            "starts or ends with a space",
            "remove it",
            "@' Beta'",
        )
    )
    return c


VALID_NAMES = {
    "Alpha": "Zürich Nord ⚡ 北海道",
    "Beta": "=cmd|' /C calc'!A0",
    "Alpha S21": "+S21 @home",
    "Signed Tenant": '-Signed, "quoted" tenant',
}


def renamed(names: dict[str, str]) -> str:
    """BASE with some names replaced (the site's own name, eligible_sites and signed_it_mw)."""
    text = BASE
    for old, new in names.items():
        quoted = yaml.safe_dump(new, allow_unicode=True).strip().removesuffix("...").strip()
        text = text.replace(f"name: {old}\n", f"name: {quoted}\n")
        text = text.replace(f"[{old}]", f"[{quoted}]").replace(f"{{{old}:", f"{{{quoted}:")
    return text


def valid_cases() -> list[Case]:
    text = renamed(VALID_NAMES)
    nfd = BASE.replace("name: Alpha\n", "name: Zürich\n").replace(
        "    eligible_sites: [Alpha]\n    tenant",
        "    eligible_sites: [" + unicodedata.normalize("NFD", "Zürich") + "]\n    tenant",
    )
    nfd = nfd.replace("[Alpha]", "[Zürich]").replace("{Alpha:", "{Zürich:")
    anchors = BASE.replace(
        "    mining_pue: 1.05\n    availability_share: 0.97\n",
        "    <<: &site_defaults {mining_pue: 1.05, availability_share: 0.97}\n",
    )
    anchors = anchors.replace("  - name: Beta\n", "  - name: Beta\n    <<: *site_defaults\n")
    return [
        Case(
            "valid_unicode_and_formula_names",
            "unicode, emoji and =cmd| names (valid text)",
            text=text,
            valid=True,
        ),
        Case(
            "valid_nfd_eligible_site",
            "eligible site typed in decomposed Unicode (NFD)",
            text=nfd,
            valid=True,
        ),
        Case(
            "valid_spaces_in_names",
            "names with inner spaces and punctuation",
            text=BASE.replace("name: Beta", "name: Beta  Site (PJM, west)").replace(
                "Beta S19 XP", "Beta S19 XP – hall 2"
            ),
            valid=True,
        ),
        Case(
            "valid_bom_crlf",
            "a UTF-8 byte-order mark and Windows line endings",
            data=b"\xef\xbb\xbf" + BASE.replace("\n", "\r\n").encode(),
            valid=True,
        ),
        Case("valid_anchors", "YAML anchors and merge keys", text=anchors, valid=True),
        _valid(
            csv_case(
                "valid_csv_series", "a CSV series with a month column", market_csv(), "", "", ""
            )
        ),
    ]


def _valid(case: Case) -> Case:
    case.valid = True
    return case


# --- Excel -----------------------------------------------------------------------------------


def _workbook(names: dict[str, str] | None = None):
    """The BASE portfolio as a workbook (write_excel's layout), as an openpyxl Workbook."""
    import tempfile

    from realloc.inputs.excel_writer import write_excel
    from realloc.models import Portfolio

    p = Portfolio.model_validate(yaml.safe_load(renamed(names or {})))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "base.xlsx"
        write_excel(p, path)
        return openpyxl.load_workbook(path)


def _find(ws, column: str, value: object) -> tuple[int, int]:
    """(row, column index) of the cell in ``column`` whose row holds ``value`` in column A."""
    header = [c.value for c in ws[1]]
    col = header.index(column) + 1
    for row in range(2, ws.max_row + 1):
        if ws.cell(row, 1).value == value:
            return row, col
    raise KeyError(value)


def _set(sheet: str, key: object, column: str, value: object):
    def change(wb):
        ws = wb[sheet]
        row, col = _find(ws, column, key)
        ws.cell(row, col).value = value

    return change


@dataclass
class XlsxCase:
    slug: str
    what: str
    change: object
    expect: str = ""
    fix: str = ""
    where: str = ""
    valid: bool = False
    names: dict[str, str] | None = None


def excel_cases() -> list[XlsxCase]:
    def swap_rows(wb):
        ws = wb["market"]
        for col in range(1, ws.max_column + 1):
            a, b = ws.cell(5, col), ws.cell(6, col)
            a.value, b.value = b.value, a.value

    def merge(wb):
        wb["sites"].merge_cells("C2:C3")

    def dup_site(wb):
        ws = wb["sites"]
        ws.cell(3, 1).value = "Alpha"

    return [
        XlsxCase(
            "xlsx_formula_number",
            "a formula in a number cell",
            _set("sites", "Alpha", "grid_mw", "=50*2"),
            "holds the formula '=50*2'",
            "paste values only",
            "sheet 'sites', row 2",
        ),
        XlsxCase(
            "xlsx_formula_cmd",
            "a =cmd| DDE formula as a site name",
            _set("sites", "Beta", "name", "=cmd|' /C calc'!A0"),
            "holds the formula",
            "the planner does not evaluate formulas",
            "sheet 'sites', row 3",
        ),
        XlsxCase(
            "xlsx_merged_cells",
            "merged cells in the sites sheet",
            merge,
            "merged cells C2:C3",
            "unmerge them",
            "sheet 'sites'",
        ),
        XlsxCase(
            "xlsx_text_in_number",
            "100 MW typed in a number cell",
            _set("sites", "Alpha", "grid_mw", "100 MW"),
            "sites[Alpha].grid_mw",
            "valid number",
            "sheet 'sites', row 2, column grid_mw",
        ),
        XlsxCase(
            "xlsx_date_in_number",
            "a date in a number cell",
            _set("sites", "Beta", "grid_mw", __import__("datetime").datetime(2026, 1, 5)),
            "got the date/time",
            "format the cell as a number",
            "sheet 'sites', row 3, column grid_mw",
        ),
        XlsxCase(
            "xlsx_negative_price",
            "a negative BTC price in the market sheet",
            _set("market", "2026-04", "btc_price_usd", -70000),
            "expected a finite number of at least 0",
            "-70000",
            "sheet 'market', row 5, column btc_price_usd",
        ),
        XlsxCase(
            "xlsx_missing_sheet",
            "no treasury sheet",
            lambda wb: wb.remove(wb["treasury"]),
            "no sheet called 'treasury'",
            "a portfolio workbook has sheets",
            "treasury",
        ),
        XlsxCase(
            "xlsx_unknown_sheet",
            "an extra sheet with an unknown name",
            lambda wb: wb.create_sheet("Scratch"),
            "sheet 'Scratch': unknown sheet",
            "notes may go in a sheet called 'notes'",
            "sheet 'Scratch'",
        ),
        XlsxCase(
            "xlsx_unknown_column",
            "a misspelt column header",
            lambda wb: wb["sites"].cell(1, 2, "grid_mwh"),
            "unknown column 'grid_mwh'",
            "check the spelling",
            "sheet 'sites', row 1, cell B1",
        ),
        XlsxCase(
            "xlsx_duplicate_site",
            "two site rows with the same name",
            dup_site,
            "site name 'Alpha' is used twice",
            "names must be unique",
            "sheet 'sites', row 3",
        ),
        XlsxCase(
            "xlsx_months_out_of_order",
            "market rows 2026-04 and 2026-05 swapped",
            swap_rows,
            "expected 2026-04",
            "months run one row each from start_month",
            "sheet 'market', row 5, column month",
        ),
        XlsxCase(
            "xlsx_blank_in_series",
            "a blank hashprice cell inside the series",
            _set("market", "2026-06", "hashprice_usd_per_ph_day", None),
            "blank cell inside the series",
            "give a value for every month",
            "sheet 'market', row 7",
        ),
        XlsxCase(
            "xlsx_error_cell",
            "an Excel #DIV/0! error in a cell",
            _set("treasury", "cash_usd", "value", "#DIV/0!"),
            "holds the Excel error #DIV/0!",
            "type a value",
            "sheet 'treasury', row",
        ),
        XlsxCase(
            "xlsx_unknown_eligible",
            "a contract naming an unknown site",
            _set("contracts", "Offered Tenant", "eligible_sites", "Alpha, Gamma"),
            "site 'Gamma' is not in sheet 'sites'",
            "separate names with commas",
            "sheet 'contracts', row 3, column eligible_sites",
        ),
        XlsxCase(
            "xlsx_signed_bad_format",
            "signed_it_mw written Alpha=8",
            _set("contracts", "Signed Tenant", "signed_it_mw", "Alpha=8"),
            "expected 'Site: MW; Site: MW'",
            "'Alpha=8'",
            "sheet 'contracts', row 2, column signed_it_mw",
        ),
        XlsxCase(
            "xlsx_percent_share",
            "availability typed as 97",
            _set("sites", "Alpha", "availability_share", 97),
            "less than or equal to 1",
            "Share of the fleet",
            "sheet 'sites', row 2, column availability_share",
        ),
        XlsxCase(
            "xlsx_zero_width_name",
            "a zero-width space in a fleet's site cell",
            _set("fleets", "Beta", "site", "Be\u200bta"),
            "site 'Be\\u200bta' is not in sheet 'sites'",
            "known: Alpha, Beta",
            "sheet 'fleets', row 4, column site",
        ),
        XlsxCase(
            "valid_xlsx_unicode_and_formula_text",
            "unicode and =cmd| names stored as text",
            lambda wb: None,
            valid=True,
            names={"Alpha": "Zürich Nord ⚡", "Beta": "=cmd|' /C calc'!A0"},
        ),
    ]


# --- writing ---------------------------------------------------------------------------------


def _line_of(text: str, needle: str) -> int:
    """Line of the first ``needle`` below the header comment."""
    start = text.index("\n") + 1 if text.startswith("# bad-input case") else 0
    idx = text.find(needle, start)
    if idx < 0:
        raise ValueError(f"needle {needle!r} not in the case text")
    return text[:idx].count("\n") + 1


def _text_of(case: Case) -> str | bytes:
    if case.data is not None:
        return case.data
    if case.text is not None:
        return case.text
    text = BASE
    for old, new in case.edits:
        if text.count(old) != 1:
            raise ValueError(f"{case.slug}: {old!r} occurs {text.count(old)} times in BASE")
        text = text.replace(old, new)
    return text


def build(out: Path = HERE, excel: bool = True) -> list[dict]:
    """Write every case file into ``out`` and return the manifest entries."""
    manifest: list[dict] = []
    n = 0
    for case in [*yaml_cases(), *valid_cases()]:
        n += 1
        name = f"{n:03d}_{case.slug}.{case.ext}"
        body = _text_of(case)
        header = f"# bad-input case {name}: {case.what}\n"
        if isinstance(body, str):
            if case.data is None and case.slug not in ("empty_file", "only_comments"):
                body = header + body
            (out / name).write_text(body, encoding="utf-8", newline="")
        else:
            (out / name).write_bytes(body)
        for fname, content in case.files.items():
            if isinstance(content, bytes):
                (out / fname).write_bytes(content)
            else:
                (out / fname).write_text(content, encoding="utf-8")
        where = case.where
        if where.startswith("@") and isinstance(body, str):
            where = f"line {_line_of(body, where[1:])}"
        entry = {"file": name, "what": case.what}
        if case.valid:
            entry["valid"] = True
        else:
            entry |= {"where": where, "expect": case.expect, "fix": case.fix}
        manifest.append(entry)
    n += 1
    manifest.append(
        {
            "file": f"{n:03d}_huge_file.yaml",
            "what": "a file over the 10 MiB limit (made at test time, sparse)",
            "generate": "huge",
            "where": f"{n:03d}_huge_file.yaml",
            "expect": "MiB are refused",
            "fix": "long monthly series belong in a CSV column",
        }
    )
    for case in excel_cases():
        n += 1
        name = f"{n:03d}_{case.slug}.xlsx"
        if excel:
            wb = _workbook(case.names)
            case.change(wb)
            wb.save(out / name)
        entry = {"file": name, "what": case.what}
        if case.valid:
            entry["valid"] = True
        else:
            entry |= {"where": case.where, "expect": case.expect, "fix": case.fix}
        manifest.append(entry)
    n += 1
    name = f"{n:03d}_not_a_workbook.xlsx"
    (out / name).write_text("month,btc\n2026-01,70000\n", encoding="utf-8")
    manifest.append(
        {
            "file": name,
            "what": "a CSV renamed to .xlsx",
            "where": name,
            "expect": "cannot read the workbook",
            "fix": "save it from Excel as an .xlsx workbook",
        }
    )
    (out / VARIANT_BASE).write_text(BASE, encoding="utf-8")
    for slug, what, text, where, expect, fix in variant_cases():
        n += 1
        name = f"{n:03d}_{slug}.yaml"
        body = f"# bad-input case {name} (variant set on {VARIANT_BASE}): {what}\n{text}"
        (out / name).write_text(body, encoding="utf-8")
        if where.startswith("@"):
            where = f"line {_line_of(body, where[1:])}"
        entry = {"file": name, "what": what, "variant_set": True}
        entry |= {"where": where, "expect": expect, "fix": fix}
        manifest.append(entry)
    return manifest


VARIANT_BASE = "variant_base_portfolio.yaml"
"""The portfolio the variant-set cases are swept over (BASE, written beside them)."""


def variant_cases() -> list[tuple[str, str, str, str, str, str]]:
    """(slug, what, text, where, expect, fix) of malformed variant sets for ``realloc sweep``."""
    axes = "".join(
        f"    {path}: {{scale: [{', '.join(str(1 + i / 100) for i in range(11))}]}}\n"
        for path in (
            "sites[Alpha].grid_mw",
            "sites[Beta].grid_mw",
            "market.btc_price_usd",
            "market.hashprice_usd_per_ph_day",
            "treasury.cash_usd",
        )
    )
    return [
        ("vset_syntax_error", "a variant set with a tab-indented line",
         "variants:\n  bear:\n\tmarket.btc_price_usd: {scale: 0.7}\n",
         "@market.btc_price_usd", "YAML syntax error", "spaces, not tabs"),
        ("vset_unknown_top_key", "variant: instead of variants:",
         "variant:\n  bear: {market.btc_price_usd: {scale: 0.7}}\n",
         "", "unknown top-level key(s) variant", "a variant set has description, variants"),
        ("vset_unknown_field", "a misspelt field path",
         "variants:\n  bear:\n    market.btc_price: {scale: 0.7}\n",
         "@market.btc_price", "'btc_price' is not a field of market",
         "did you mean 'btc_price_usd'?"),
        ("vset_unknown_site", "a path naming a site that does not exist",
         "variants:\n  bigger:\n    sites[Gamma].grid_mw: 200\n",
         "@sites[Gamma]", "Gamma", "Alpha"),
        ("vset_scale_text", "scale by a word",
         "variants:\n  bear:\n    market.btc_price_usd: {scale: lots}\n",
         "@scale: lots", "scale", "number"),
        ("vset_variants_list", "variants as a list instead of a mapping",
         "variants:\n  - bear\n  - bull\n",
         "@variants:", "expected a mapping of variant name: overrides",
         "e.g. bear: {market.btc_price_usd: {scale: 0.7}}"),
        ("vset_empty", "a variant set with nothing in it",
         "description: nothing here\n", "", "no variants", "add a variants: mapping or a grid:"),
        ("vset_duplicate_name", "the same variant name twice",
         "variants:\n  bear: {market.btc_price_usd: {scale: 0.7}}\n"
         "  bear: {market.btc_price_usd: {scale: 0.6}}\n",
         "@bear: {market.btc_price_usd: {scale: 0.6}}", "'bear' is given twice",
         "delete one of them"),
        ("vset_colliding_ids", "two names that give the same variant id",
         "variants:\n  Bear Case: {market.btc_price_usd: {scale: 0.7}}\n"
         "  bear-case: {market.btc_price_usd: {scale: 0.6}}\n",
         "", "both get the id 'bear-case'", "rename one"),
        ("vset_grid_empty_vary", "a grid whose vary list is empty",
         "grid:\n  vary:\n    market.btc_price_usd: []\n",
         "@market.btc_price_usd", "needs a non-empty list of values", "{scale: [...]}"),
        ("vset_grid_unknown_key", "a grid with a misspelt key",
         "grid:\n  varry:\n    market.btc_price_usd: [60000, 70000]\n",
         "@grid:", "unknown key(s) varry", "a grid has name, set, vary"),
        ("vset_grid_bad_name", "a grid name with spaces and capitals",
         "grid:\n  name: My Grid\n  vary:\n    market.btc_price_usd: [60000, 70000]\n",
         "@name: My Grid", "must be lowercase letters, digits and dashes", "'my-grid'"),
        ("vset_grid_too_big", "a grid of 11^5 = 161,051 points",
         "grid:\n  vary:\n" + axes, "@grid:", "161,051 points, over the limit of 100,000",
         "split it or use fewer values"),
        ("vset_mixed_levels", "plain values mixed with scale in one axis",
         "grid:\n  vary:\n    market.btc_price_usd: [60000, {scale: 1.2}]\n",
         "@market.btc_price_usd", "mixes plain values and scale/add", "use one kind per path"),
        ("vset_old_and_new_key", "both variants: and its old name scenarios:",
         "variants:\n  bear: {market.btc_price_usd: {scale: 0.7}}\n"
         "scenarios:\n  bull: {market.btc_price_usd: {scale: 1.3}}\n",
         "", "both variants: and scenarios:", "keep one (variants:)"),
    ]  # fmt: skip


def main() -> None:
    for old in HERE.glob("[0-9][0-9][0-9]_*"):
        old.unlink()
    for old in [*HERE.glob("*.csv"), HERE / VARIANT_BASE]:
        old.unlink(missing_ok=True)
    manifest = build()
    head = (
        "# The bad-input corpus: one entry per file in this folder (made by make_cases.py).\n"
        "# where/expect/fix: fragments the error message must contain; valid: must load and plan.\n"
    )
    (HERE / "cases.yaml").write_text(
        head + yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100),
        encoding="utf-8",
    )
    print(f"wrote {len(manifest)} cases to {HERE}")


if __name__ == "__main__":
    main()
