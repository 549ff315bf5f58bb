"""Financing on seeded random portfolios: every plan verifies (in memory and from its written
CSV files, funding.csv included), an empty financing section changes nothing, and a stochastic
plan with financing verifies path by path."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from benchmarks.scales import TABLES, random_portfolio, random_scenarios
from realloc.inputs import load_portfolio
from realloc.inputs.examples import example_path
from realloc.models import Portfolio, month_label
from realloc.models.financing import Financing
from realloc.optimizer import plan_portfolio
from realloc.optimizer.verify import verify
from realloc.reports.plan_files import write_plan
from tests.helpers import tiny, tiny_financing


def random_financing(p: Portfolio, seed: int) -> Financing:
    """One to three sources of each kind, sized to the portfolio's cash and BTC, with random
    rates, fees, windows and maturities (inside and past the horizon)."""
    rng = np.random.default_rng(10_000 + seed)
    T = p.months
    scale = max(1e3, float(abs(p.treasury.cash_usd)) + p.treasury.btc * 1e4)

    def month(lo: int, hi: int) -> str:
        return month_label(p.start_month, int(rng.integers(lo, max(lo + 1, hi))))

    loans = [
        dict(
            name=f"loan {i}",
            max_usd=scale * rng.uniform(0.05, 2),
            rate_per_year=rng.uniform(0, 0.2),
            fee_share=rng.uniform(0, 0.03),
            max_ltv_share=rng.uniform(0.3, 0.7),
            first_month=(first := month(0, T)),
            maturity_month=month_label(first, int(rng.integers(1, 2 * T + 2))),
        )
        for i in range(int(rng.integers(0, 3)))
    ]
    notes = []
    for i in range(int(rng.integers(0, 3))):
        top = scale * rng.uniform(0.05, 2)
        first = month(0, T)
        notes.append(
            dict(
                name=f"note {i}",
                max_usd=top,
                min_usd=top * float(rng.choice([0, rng.uniform(0.1, 0.9)])),
                first_month=first,
                last_month=month_label(first, int(rng.integers(0, T + 3))),
                coupon_per_year=rng.uniform(0, 0.1),
                fee_share=rng.uniform(0, 0.03),
                option_cost_share=rng.uniform(0, 0.1),
                term_months=int(rng.integers(1, 2 * T + 2)),
            )
        )
    project = [
        dict(
            name=f"project {s.name}",
            site=s.name,
            max_loan_to_cost_share=rng.uniform(0.3, 0.9),
            rate_per_year=rng.uniform(0, 0.15),
            fee_share=rng.uniform(0, 0.02),
            grace_months=int(rng.integers(0, T + 1)),
            term_months=int(rng.integers(1, 2 * T + 2)),
        )
        for s in p.sites
        if s.conversion is not None and rng.uniform() < 0.7
    ]
    equity = None
    if rng.uniform() < 0.6:
        equity = dict(
            max_usd_per_month=scale * rng.uniform(0.01, 0.5),
            max_usd_total=scale * rng.uniform(0.05, 2),
            fee_share=rng.uniform(0, 0.05),
            dilution_cost_share=rng.uniform(0, 0.3),
        )
    return Financing.model_validate(
        dict(btc_loans=loans, notes=notes, project_loans=project, equity=equity)
    )


def with_financing(p: Portfolio, fin: Financing | None) -> Portfolio:
    return Portfolio.model_validate(p.model_dump() | {"financing": fin})


def verify_written(p: Portfolio, r, folder) -> object:
    """Verify again from the written CSV files (funding.csv included)."""
    write_plan(r, folder)
    read = {name: pd.read_csv(folder / f"{name}.csv") for name in TABLES}
    gap = pd.read_csv(folder / "cashflows.csv")[["month", "funding_gap_usd"]]
    funding = pd.read_csv(folder / "funding.csv", keep_default_na=True)
    funding["scenario"] = "base"
    return verify(
        p,
        *(read[name] for name in TABLES),
        gap.rename(columns={"funding_gap_usd": "gap_usd"}),
        r.value_usd,
        relaxed=r.relaxed,
        funding=funding,
    )


@pytest.mark.parametrize("seed", range(24))
def test_random_portfolios_with_random_financing_verify_from_their_files(seed, tmp_path):
    base = random_portfolio(seed)
    p = with_financing(base, random_financing(base, seed))
    r = plan_portfolio(p)
    assert r.status in ("optimal", "unfunded")
    assert r.verification.ok, r.verification.failures()
    written = verify_written(p, r, tmp_path / "out")
    assert written.ok, written.failures()
    # sources and the financing costs reported are consistent with the value terms
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert s["financing_cost_usd"] >= -0.01
    assert set(s["funding_sources_usd"]) >= {x.name for x in p.financing.btc_loans}
    # financing can only add options: the plan is worth at least the plan without it
    alone = plan_portfolio(base)
    if alone.status == "optimal" and r.status == "optimal" and not p.financing.notes:
        assert r.value_usd >= alone.value_usd - 1e-6 * max(1.0, abs(alone.value_usd))


def _figures(r) -> dict:
    t = r.tables
    out = {"value": r.value_usd, "baseline": r.baseline_value_usd, **t.value_terms_usd}
    for name in ("plan", "treasury", "conversions", "contracts", "rig_sales", "cashflows"):
        frame = getattr(t, name)
        for col in frame.select_dtypes("number").columns:
            out[f"{name}.{col}"] = frame[col].to_numpy(dtype=float)
    return out


def _assert_same(a: dict, b: dict) -> None:
    """Every figure of ``a`` equal in ``b`` to 1e-9; ``b`` may add financing figures, all 0."""
    assert a.keys() <= b.keys()
    for k in a:
        assert np.allclose(a[k], b[k], rtol=1e-9, atol=0), k
    for k in b.keys() - a.keys():
        assert "financing" in k or "dilution" in k or "option" in k, k
        assert np.all(np.asarray(b[k]) == 0), k


@pytest.mark.parametrize("seed", [3, 7, 11])
def test_an_empty_financing_section_changes_no_figure(seed):
    # absent and empty financing give the same figures (to 1e-9) and the same model size: no
    # column or row is added; without the section no funding table, funding keys or financing
    # terms are reported (an empty section reports them, all 0)
    p = random_portfolio(seed)
    a = plan_portfolio(p)
    b = plan_portfolio(with_financing(p, Financing()))
    assert a.model_size == b.model_size
    assert a.tables.funding is None and a.tables.funding_summary == {}
    _assert_same(_figures(a), _figures(b))
    assert "financing_interest_usd" not in a.tables.value_terms_usd


def test_bundled_example_without_financing_is_unchanged(tmp_path):
    # the example less its financing section: no funding.csv, no funding keys, no financing
    # terms or verification rows, the value terms as before the sources existed
    p = load_portfolio(example_path("gigawatt_miner.yaml"))
    bare = with_financing(p, None)
    r = plan_portfolio(bare)
    write_plan(r, tmp_path / "out")
    assert not (tmp_path / "out" / "funding.csv").exists()
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert "funding_sources_usd" not in s
    assert not any(k.startswith("financing") for k in s["value_terms_order"])
    assert {c["family"] for c in s["verification"]}.isdisjoint({"btc_loan", "note", "equity"})
    _assert_same(_figures(r), _figures(plan_portfolio(with_financing(p, Financing()))))


@pytest.mark.parametrize("seed", [0, 5])
def test_stochastic_plan_with_financing_verifies_path_by_path(seed):
    base = random_portfolio(seed)
    p = with_financing(base, random_financing(base, seed))
    r = plan_portfolio(p, scenarios=random_scenarios(p, seed))
    assert r.verification.ok, r.verification.failures()
    f = r.tables.funding
    assert f["scenario"].nunique() == len(random_scenarios(p, seed))
    # notes are first stage: the same issue on every path
    for note in p.financing.notes:
        rows = f[f["source"] == note.name].pivot(
            index="month", columns="scenario", values="drawn_usd"
        )
        assert np.allclose(rows.to_numpy(), rows.to_numpy()[:, :1])


def test_plan_api_exposes_the_funding_table_and_keys():
    import realloc

    plan = realloc.plan(tiny_financed())
    assert list(plan.funding.columns)[:3] == ["month", "source", "kind"]
    assert plan.tables["funding"] is not None
    assert plan.result.funding is not None
    for key in ("funding_sources_usd", "financing_cost_usd", "hodl_cost_usd_per_btc_year"):
        assert key in plan.summary
    assert realloc.plan(tiny()).funding is None


def tiny_financed() -> Portfolio:
    return tiny(
        treasury=dict(btc=1000, cash_usd=0, sale_cost_bps=500, min_btc=900),
        financing=tiny_financing(),
    )
