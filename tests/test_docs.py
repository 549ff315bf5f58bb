"""The docs are kept in step with the code: the family tables (builder and verifier) and the
input reference."""

from __future__ import annotations

import re
from pathlib import Path

from realloc.models.reference import input_reference_markdown
from realloc.models.scenarios import RiskSpec
from realloc.optimizer import CONSTRAINT_FAMILIES, verify
from realloc.optimizer import build as build_module
from realloc.optimizer.build import Model, build_model
from realloc.optimizer.index import build_index
from tests.helpers import tiny, tiny_financing

ROOT = Path(__file__).resolve().parents[1]


def _table_rows(text: str) -> dict[str, list[str]]:
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.fullmatch(r"[a-z_]+", cells[0]) and cells[0] != "family":
            rows[cells[0]] = cells
    return rows


def test_readme_family_table_matches_the_code():
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- families:start -->")[1].split("<!-- families:end -->")[0]
    rows = _table_rows(block)
    assert set(rows) == set(CONSTRAINT_FAMILIES)
    for family, cells in rows.items():
        assert cells[2] == f"`{CONSTRAINT_FAMILIES[family].__name__}`"


def test_model_doc_family_table_matches_code_and_row_names():
    text = (ROOT / "docs" / "model.md").read_text()
    section = text.split("## Constraint families")[1].split("##")[0]
    rows = _table_rows(section)
    assert set(rows) == set(CONSTRAINT_FAMILIES)
    m: Model = build_model(
        build_index(
            tiny(
                contracts__0__min_it_mw=10,
                contracts__0__tenant_capex_share=0.5,  # prepaid_* rows
                sites__0__grid_sale_usd_per_mw=1e5,  # grid_kept rows
                sites__0__conversion__block_it_mw=25,  # build_blocks rows
                financing=tiny_financing(),  # financing rows
            )
        ),
        risk=RiskSpec(risk_weight=0.5),
    )
    built = [c.name for c in m.prob.constraints()]
    for family, cells in rows.items():
        assert cells[2] == f"`{CONSTRAINT_FAMILIES[family].__name__}`"
        # the documented row-name pattern starts with the family name, and such rows exist
        assert cells[3].startswith(f"`{family}_")
        assert any(name.startswith(family + "_") for name in built), family
    # each function's docstring opens with its math
    for fn in CONSTRAINT_FAMILIES.values():
        assert fn.__doc__ and fn.__doc__.strip()


def test_model_doc_names_the_check_of_every_builder_family():
    # the check column names a verify.py function that says, in its docstring, which builder
    # function it re-derives
    text = (ROOT / "docs" / "model.md").read_text()
    rows = _table_rows(text.split("## Constraint families")[1].split("##")[0])
    for family, cells in rows.items():
        check = getattr(verify, cells[4].strip("`"))
        assert check in (*verify.CHECKS.values(), verify.check_cvar), family
        assert f"``{CONSTRAINT_FAMILIES[family].__name__}``" in check.__doc__, family


def test_model_doc_verification_table_matches_the_checks():
    # one row per check family, in the order verification reports them (CHECKS, then the CVaR
    # check of plans with a CVaR weight), each naming its function and the builder functions
    # its docstring names
    text = (ROOT / "docs" / "model.md").read_text()
    rows = _table_rows(text.split("## Verification")[1].split("##")[0])
    assert list(rows) == [*verify.CHECKS, "cvar"]
    for family, cells in rows.items():
        check = verify.CHECKS.get(family, verify.check_cvar)
        assert cells[2] == f"`{check.__name__}`" == f"`check_{family}`"
        builders = re.findall(r"`(\w+)`", cells[3])
        assert builders, family
        for name in builders:
            assert callable(getattr(build_module, name)), name
            assert f"``{name}``" in check.__doc__, (family, name)


def test_readme_input_reference_is_generated_from_the_models():
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- input-reference:start")[1].split("-->", 1)[1]
    block = block.split("<!-- input-reference:end -->")[0]
    assert block.strip() == input_reference_markdown().strip(), (
        "README input reference is stale: regenerate with `python -m realloc.models.reference`"
    )
