"""Variant sets: overrides apply exactly, grids expand deterministically, errors name the
variant file, its line, the variant and the path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from realloc.inputs import InputError, load_portfolio
from realloc.inputs.examples import example_path
from realloc.inputs.overrides import Override, OverrideError, base_level, overridden, portfolio_data
from realloc.inputs.variant_sets import load_variant_set, materialize
from tests.helpers import tiny

PECOS = "Pecos TX (ERCOT West)"
ANVIL = "Anvil Labs (15 yr, min 80 MW)"


@pytest.fixture(scope="module")
def example():
    return load_portfolio(example_path())


def write(tmp_path: Path, text: str, name: str = "set.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_scale_multiplies_every_month_of_a_series_and_nothing_else(example):
    p = overridden(example, [Override("market.hashprice_usd_per_ph_day", "scale", 0.7)])
    base = example.market.hashprice_usd_per_ph_day
    assert p.market.hashprice_usd_per_ph_day == [v * 0.7 for v in base]
    assert len(p.market.hashprice_usd_per_ph_day) == example.months
    assert p.market.btc_price_usd == example.market.btc_price_usd
    assert p.model_copy(update={"market": example.market}) == example


def test_list_items_are_picked_by_name_and_wildcards_skip_missing_sections(example):
    p = overridden(
        example,
        [
            Override(f"contracts[{ANVIL}].rate_usd_per_kw_month", "set", 110),
            Override("sites[*].conversion.capex_usd_per_it_mw", "scale", 1.2),
            Override(f"sites[{PECOS}].grid_mw", "add", -20),
        ],
    )
    by_name = {c.name: c for c in p.contracts}
    assert by_name[ANVIL].rate_usd_per_kw_month == 110
    others = [c for c in p.contracts if c.name != ANVIL]
    assert others == [c for c in example.contracts if c.name != ANVIL]
    for new, old in zip(p.sites, example.sites, strict=True):
        if old.conversion is None:  # Baie-Comeau: no conversion section, left alone
            assert new.conversion is None
        else:
            assert new.conversion.capex_usd_per_it_mw == pytest.approx(
                old.conversion.capex_usd_per_it_mw * 1.2, rel=1e-15
            )
    assert p.site(PECOS).grid_mw == example.site(PECOS).grid_mw - 20


def test_month_index_and_dict_key_selectors():
    p = overridden(
        tiny(market__btc_price_usd=[70_000.0] * 12),
        [Override("market.btc_price_usd[3]", "set", 50_000)],
    )
    assert p.market.btc_price_usd[3] == 50_000
    assert p.market.btc_price_usd[:3] == [70_000.0] * 3


def test_base_levels_of_parameter_columns(example):
    data = portfolio_data(example)
    assert base_level(data, "market.btc_price_usd:scale") == 1.0
    assert base_level(data, "treasury.btc:add") == 0.0
    assert base_level(data, f"contracts[{ANVIL}].rate_usd_per_kw_month") == 158
    assert base_level(data, "market.btc_price_usd") is None  # a series, not one number


@pytest.mark.parametrize(
    "path, op, value, expected",
    [
        ("market.hashprice", "scale", 0.7, "did you mean 'hashprice_usd_per_ph_day'"),
        ("sites[Pecos].grid_mw", "set", 1, "no site named 'Pecos'"),
        ("sites.grid_mw", "set", 1, "sites is a list; pick a site by name"),
        ("name", "scale", 2, "scale needs a number or a series"),
        ("sites[Pecos TX (ERCOT West)].grid_mw.x", "set", 1, "it has no field 'x'"),
        ("market..btc_price_usd", "set", 1, "empty field name"),
        ("sites[Dalton GA", "set", 1, "never closed"),
        ("sites[Baie-Comeau QC (hydro)].conversion.max_it_mw", "set", 1, "is not set"),
    ],
)
def test_bad_paths_are_refused_with_a_reason(example, path, op, value, expected):
    with pytest.raises(OverrideError) as e:
        overridden(example, [Override(path, op, value)])
    assert expected in str(e.value)


def test_grid_expands_in_product_order_with_parameters(tmp_path, example):
    path = write(
        tmp_path,
        f"""\
        variants:
          bear:
            market.btc_price_usd: {{scale: 0.7}}
          base: {{}}
        grid:
          name: g
          set:
            treasury.min_cash_usd: 40000000
          vary:
            market.hashprice_usd_per_ph_day: {{scale: [0.8, 1.2]}}
            contracts[{ANVIL}].rate_usd_per_kw_month: [120, 140, 160]
        """,
    )
    s = load_variant_set(path, example)
    assert [x.id for x in s.variants] == ["bear", "base"] + [f"g-{i:03d}" for i in range(1, 7)]
    g2 = s.variants[3]  # g-002: hashprice x0.8, rate 140 (the last path varies fastest)
    rate = f"contracts[{ANVIL}].rate_usd_per_kw_month"
    assert g2.params == {
        "treasury.min_cash_usd": 40_000_000,
        "market.hashprice_usd_per_ph_day:scale": 0.8,
        rate: 140,
    }
    assert s.param_columns == [
        "market.btc_price_usd:scale",
        "treasury.min_cash_usd",
        "market.hashprice_usd_per_ph_day:scale",
        rate,
    ]
    built = materialize(example, s)
    p = built[3].portfolio
    assert p.treasury.min_cash_usd == 40_000_000
    assert {c.name: c for c in p.contracts}[ANVIL].rate_usd_per_kw_month == 140
    assert p.market.hashprice_usd_per_ph_day == [
        v * 0.8 for v in example.market.hashprice_usd_per_ph_day
    ]
    assert built[1].portfolio == example  # base: no changes at all


def test_load_errors_name_file_line_variant_and_path(tmp_path, example):
    path = write(
        tmp_path,
        """\
        variants:
          base: {}
          typo:
            sites[Dalton GA].grid_mww: 180
        """,
    )
    with pytest.raises(InputError) as e:
        load_variant_set(path, example)
    msg = str(e.value)
    assert str(path) in msg and "line 4" in msg and "variant 'typo'" in msg
    assert "'grid_mww' is not a field of sites[Dalton GA]" in msg
    assert "did you mean 'grid_mw'" in msg


@pytest.mark.parametrize(
    "body, expected",
    [
        ("variants: [a, b]", "expected a mapping of variant name"),
        ("grid: {vary: {market.btc_price_usd: []}}", "needs a non-empty list"),
        ("grid: {vary: {market.btc_price_usd: {scale: x}}}", "needs a non-empty list of numbers"),
        ("grid: {vary: {market.btc_price_usd: [{scale: 1, add: 2}]}}", "mixes keys"),
        ("grid: {name: My Grid, vary: {treasury.btc: [1]}}", "must be lowercase"),
        ("grid: {vary: {treasury.btc: [1]}, sets: {}}", "unknown key(s) sets"),
        ("variant: {a: {}}", "unknown top-level key(s) variant"),
        ("description: nothing", "no variants"),
        ("variants: {A b: {}, a-b: {}}", "both get the id 'a-b'"),
        ("variants: {x: {treasury.btc: {scale: .inf}}}", "must be a finite number"),
    ],
)
def test_malformed_sets_are_refused(tmp_path, example, body, expected):
    with pytest.raises(InputError) as e:
        load_variant_set(write(tmp_path, body + "\n"), example)
    assert expected in str(e.value)


def test_invalid_resulting_portfolio_is_reported_per_variant(tmp_path, example):
    # min_it_mw above max_it_mw only at the 300 MW point: that variant alone is invalid
    path = write(
        tmp_path,
        f"""\
        grid:
          vary:
            contracts[{ANVIL}].min_it_mw: [80, 300]
        """,
    )
    built = materialize(example, load_variant_set(path, example))
    assert built[0].portfolio is not None and built[0].error is None
    assert built[1].portfolio is None
    msg = built[1].error
    assert str(path) in msg and "line 1" in msg and "variant 'grid-002'" in msg
    assert f"contracts[{ANVIL}]" in msg and "min_it_mw (300" in msg and "exceeds max_it_mw" in msg


def test_a_wrong_type_is_an_invalid_variant(tmp_path, example):
    path = write(tmp_path, "variants:\n  odd:\n    treasury.btc: lots\n")
    (m,) = materialize(example, load_variant_set(path, example))
    assert m.portfolio is None and "variant 'odd'" in m.error and "treasury.btc" in m.error


def test_csv_series_and_mapping_keys(tmp_path, example):
    # a whole hashprice path from a CSV beside the variant file, and one key of a mapping
    months = [f"{2026 + (2 + i) // 12}-{(2 + i) % 12 + 1:02d}" for i in range(example.months)]
    rows = ["month,hashprice"] + [f"{m},{20 + i / 10}" for i, m in enumerate(months)]
    (tmp_path / "hp.csv").write_text("\n".join(rows) + "\n")
    path = write(
        tmp_path,
        """\
        variants:
          from csv:
            market.hashprice_usd_per_ph_day: {csv: hp.csv, column: hashprice}
          smaller tenant:
            contracts[Ridgeline AI (signed)].signed_it_mw[Dalton GA]: 10
        """,
    )
    a, b = materialize(example, load_variant_set(path, example))
    assert a.portfolio.market.hashprice_usd_per_ph_day == [20 + i / 10 for i in range(60)]
    assert months[0] == example.start_month
    signed = {c.name: c for c in b.portfolio.contracts}["Ridgeline AI (signed)"].signed_it_mw
    assert signed == {"Dalton GA": 10}


@pytest.mark.parametrize("name, count", [("sweep_grid.yaml", 200), ("bear_base_bull.yaml", 5)])
def test_bundled_variant_sets_are_valid(example, name, count):
    built = materialize(example, load_variant_set(example_path(name), example))
    assert len(built) == count and all(m.portfolio is not None for m in built)


def test_readme_variant_set_example_loads(tmp_path, example):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = readme.split("**Variant sets** are YAML")[1].split("```yaml\n")[1].split("```")[0]
    built = materialize(example, load_variant_set(write(tmp_path, block), example))
    assert len(built) == 3 + 25 and all(m.error is None for m in built)


def test_the_old_scenarios_key_still_reads_with_a_deprecation_note(tmp_path, example):
    old = write(tmp_path, "scenarios:\n  bear:\n    market.btc_price_usd: {scale: 0.7}\n")
    s = load_variant_set(old, example)
    assert [v.id for v in s.variants] == ["bear"] and s.variants[0].group == "variants"
    assert s.variants[0].line == 2
    assert len(s.notes) == 1 and "deprecated" in s.notes[0] and "use variants:" in s.notes[0]
    new = write(tmp_path, "variants:\n  bear:\n    market.btc_price_usd: {scale: 0.7}\n", "n.yaml")
    assert load_variant_set(new, example).notes == []
    both = write(tmp_path, "variants: {a: {}}\nscenarios: {b: {}}\n", "both.yaml")
    with pytest.raises(InputError, match="keep one"):
        load_variant_set(both, example)


def test_a_variant_set_can_be_a_mapping_from_python(example):
    s = load_variant_set({"variants": {"bear": {"market.btc_price_usd": {"scale": 0.7}}}}, example)
    assert [v.id for v in s.variants] == ["bear"] and str(s.path) == "<variants>"
    with pytest.raises(InputError, match="<variants>: no variants"):
        load_variant_set({"description": "x"}, example)
