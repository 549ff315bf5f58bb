"""Tenant capex prepayment only on MW a new build provides (issue 15), and the absent-fields
guarantee of the site terms: with none of issue 15's site inputs, the model is the same."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.scales import random_portfolio
from realloc.inputs.yaml_loader import load_yaml
from realloc.optimizer import plan_portfolio, site_terms
from realloc.optimizer.build import build_model
from realloc.optimizer.index import build_index
from tests.helpers import tiny

EXAMPLE = Path(__file__).resolve().parents[1] / "inputs" / "examples" / "gigawatt_miner.yaml"


def test_prepayment_counts_only_the_mw_a_new_build_provides():
    # 10 MW of existing hall, a 30 MW contract from April with a 3-month lead: 20 MW are built
    # from January (ready in April). The tenant prepays 50 % × $1M × 20 MW = $10M, evenly in
    # January–March ($3,333,333.33 a month); the 10 MW of the existing hall earn nothing (the
    # rule before issue 15 paid on all 30 MW: $15M). Building 10 more MW to earn their $5M of
    # prepayment would cost $10M, so the plan does not.
    p = tiny(
        sites__0__conversion__existing_it_mw=10,
        sites__0__conversion__lead_months=3,
        contracts__0__start_month="2026-04",
        contracts__0__term_months=9,
        contracts__0__max_it_mw=30,
        contracts__0__tenant_capex_share=0.5,
    )
    r = plan_portfolio(p)
    assert r.verification.ok
    assert r.tables.conversions["it_mw"].sum() == pytest.approx(20.0)
    row = r.tables.contracts.iloc[0]
    assert (row["it_mw"], row["prepaid_it_mw"]) == pytest.approx((30.0, 20.0))
    cash = r.tables.cashflows.set_index("month")["tenant_capex_usd"]
    assert cash.sum() == pytest.approx(10e6, abs=0.01)
    assert cash["2026-01":"2026-03"].to_numpy() == pytest.approx([10e6 / 3] * 3, abs=0.01)


def test_signed_contract_served_from_an_existing_hall_earns_no_prepayment():
    # signed at 20 MW on A's 20 MW existing hall from April: nothing is built, nothing prepaid
    p = tiny(
        sites__0__conversion__existing_it_mw=20,
        sites__0__conversion__lead_months=3,
        contracts__0__start_month="2026-04",
        contracts__0__term_months=9,
        contracts__0__max_it_mw=20,
        contracts__0__signed_it_mw={"A": 20.0},
        contracts__0__tenant_capex_share=0.5,
    )
    r = plan_portfolio(p)
    assert r.verification.ok
    assert r.tables.value_terms_usd["tenant_capex_usd"] == 0.0
    assert r.tables.contracts.iloc[0]["prepaid_it_mw"] == 0.0


def test_bundled_example_dalton_prepayment_is_612_million():
    # Dalton has 20 MW of existing hall, 16 of them signed to Ridgeline; Tessellate takes
    # 100 MW from 2026-12 and prepays 75 % of Dalton's $8.5M per IT MW. Without another use for
    # the 4 spare MW (Meridian declined here), Tessellate is served by them and 96 MW of new
    # build: 0.75 × 96 × $8.5M = $612.0M (the rule before paid on all 100 MW: $637.5M).
    p = load_yaml(EXAMPLE)
    meridian = [i for i, c in enumerate(p.contracts) if c.name.startswith("Meridian")]
    data = p.model_dump()
    data["contracts"][meridian[0]]["max_it_mw"] = 0.0
    r = plan_portfolio(type(p).model_validate(data))
    assert r.verification.ok
    con = r.tables.contracts.set_index("contract")
    tess = next(k for k in con.index if k.startswith("Tessellate"))
    assert con.loc[tess, "prepaid_it_mw"] == pytest.approx(96.0, abs=1e-6)
    assert r.tables.cashflows["tenant_capex_usd"].sum() == pytest.approx(612.0e6, abs=1.0)


def _without_hooks(monkeypatch) -> None:
    """Switch issue 15's site-term hooks off: no host_new, no flows, no terminal additions."""
    monkeypatch.setattr(site_terms, "add_site_flows", lambda m, t, w, terms: None)
    monkeypatch.setattr(site_terms, "terminal_musd_per_mw", lambda ix, s, k: 0.0)
    monkeypatch.setattr(site_terms, "prepaid_pairs", lambda ix: [])


def _arrays(m) -> tuple:
    return (
        m.col_names,
        m.col_lb,
        m.col_ub,
        m.row_names,
        m.row_cols,
        m.row_coefs,
        m.row_rhs,
        m.objective.tolist(),
    )


def _no_prepayment(p):
    """``p`` without issue 15's inputs (site credits and charges at their defaults, no cloud
    contract) and without prepayments (whose rule issue 15 changes on purpose)."""
    data = p.model_dump()
    data["contracts"] = [c for c in data["contracts"] if c["kind"] != "cloud"]
    for c in data["contracts"]:
        c["tenant_capex_share"] = 0.0
    for s in data["sites"]:
        s.pop("curtailment_credit_usd_per_mw_month")
        s.pop("curtailment_enrolled_share")
        s.pop("firm_load_charge_usd_per_kw_month")
    return type(p).model_validate(data)


@pytest.mark.parametrize("which", ["example", 3, 17, 29])
def test_absent_site_fields_leave_the_model_and_figures_unchanged(monkeypatch, which):
    # with none of the new inputs (and no prepayment, whose rule issue 15 changes on purpose)
    # the site hooks add no column, row or coefficient: the model is the one without them, and
    # so is every figure of the plan
    p = _no_prepayment(load_yaml(EXAMPLE) if which == "example" else random_portfolio(which))
    with_hooks = build_model(build_index(p))
    planned = plan_portfolio(p)
    with monkeypatch.context() as mp:
        _without_hooks(mp)
        without = build_model(build_index(p))
        before = plan_portfolio(p)
    assert _arrays(with_hooks) == _arrays(without)
    assert planned.value_usd == pytest.approx(before.value_usd, rel=1e-9, abs=1e-9)
    for name in ("plan", "treasury", "conversions", "rig_sales"):
        a, b = getattr(planned.tables, name), getattr(before.tables, name)
        assert a.equals(b), name
    for term in site_terms.SITE_TERMS:
        assert planned.tables.value_terms_usd[term] == 0.0
        assert np.all(planned.tables.cashflows[term].to_numpy() == 0.0)
