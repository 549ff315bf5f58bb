"""Hostile values on issue 14's and 15's fields through the CLI, beside the ones
tests/test_financing_inputs.py and tests/test_grid_inputs.py already try: every one exits 2
naming the file and the field, never a traceback; ``financing: null`` and ``financing: {}`` are
valid (docs/model.md: null is the section omitted, {} offers no source)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.helpers import run_cli, tiny, tiny_financing

CLOUD = dict(
    name="C",
    kind="cloud",
    usd_per_gpu_hour=2.0,
    gpus_per_it_mw=1000,
    utilization_share=0.8,
    gpu_capex_usd_per_it_mw=2e7,
    start_month="2026-01",
    term_months=12,
    max_it_mw=10,
    eligible_sites=["A"],
)


def _fin(key, value):
    def change(d):
        d["financing"][key] = value

    return change


def _site(**fields):
    def change(d):
        d["sites"][0].update(fields)

    return change


def _block(value):
    def change(d):
        d["sites"][0]["conversion"]["block_it_mw"] = value

    return change


def _cloud(**fields):
    def change(d):
        d["contracts"].append({k: v for k, v in (CLOUD | fields).items() if v != "DROP"})

    return change


def _whole(value):
    def change(d):
        d["financing"] = value

    return change


def _append_null(key):
    def change(d):
        d["financing"][key].append(None)

    return change


def _rename(kind, name):
    def change(d):
        d["financing"][kind][0]["name"] = name

    return change


HOSTILE = [
    (_whole([]), "financing"),
    (_whole("yes"), "financing"),
    (_whole(5), "financing"),
    (_fin("btc_loans", {"a": 1}), "btc_loans"),
    (_fin("notes", "N"), "notes"),
    (_fin("equity", [tiny_financing()["equity"]]), "equity"),
    (_fin("bonds", []), "bonds"),
    (_append_null("btc_loans"), "btc_loans"),
    (_append_null("project_loans"), "project_loans"),
    (_rename("project_loans", "N"), "name"),  # a project loan named as the note
    (_rename("btc_loans", "BTC sold from production"), "name"),
    (_site(grid_sale_usd_per_mw=1e5, grid_sale_first_month="2026/06"), "grid_sale_first_month"),
    (_site(grid_sale_usd_per_mw=1e5, grid_sale_first_month=202606), "grid_sale_first_month"),
    (_site(grid_sale_usd_per_mw=1e5, grid_sale_first_month=""), "grid_sale_first_month"),
    (_site(grid_sale_usd_per_mw=1e5, grid_sale_first_month="2026-06-01"), "grid_sale_first_month"),
    (_site(grid_sale_usd_per_mw=1e300), "grid_sale_usd_per_mw"),
    (_site(grid_hold_cost_usd_per_mw_month=float("inf")), "grid_hold_cost_usd_per_mw_month"),
    (_site(curtailment_credit_usd_per_mw_month=float("nan")), "curtailment_credit"),
    (_site(curtailment_enrolled_share=1.5), "curtailment_enrolled_share"),
    (_site(firm_load_charge_usd_per_kw_month="x"), "firm_load_charge_usd_per_kw_month"),
    (_block(True), "block_it_mw"),
    (_block("big"), "block_it_mw"),
    (_block(1e9), "block_it_mw"),
    (_cloud(rate_usd_per_kw_month=100), "rate_usd_per_kw_month"),
    (_cloud(gpus_per_it_mw="DROP"), "gpus_per_it_mw"),
    (_cloud(usd_per_gpu_hour=float("nan")), "usd_per_gpu_hour"),
    (_cloud(kind="gpu"), "kind"),
    (_cloud(gpu_residual_share=-1), "gpu_residual_share"),
    (_cloud(ai_opex_usd_per_kw_month=1e12), "ai_opex_usd_per_kw_month"),
    (_cloud(power_pass_through="maybe"), "power_pass_through"),
    (_cloud(start_month="2040-01"), "start_month"),
]


def _write(tmp_path: Path, change) -> Path:
    data = tiny().model_dump(mode="json")
    data["financing"] = tiny_financing()
    change(data)
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(("change", "field"), HOSTILE)
def test_hostile_new_fields_exit_2_naming_file_and_field(change, field, tmp_path):
    code, out = run_cli("validate", _write(tmp_path, change))
    assert code == 2, out
    assert "p.yaml" in out and field in out, out


@pytest.mark.parametrize("section", [None, {}])
def test_null_and_empty_financing_sections_plan(section, tmp_path):
    code, out = run_cli("plan", _write(tmp_path, _whole(section)), "--out", tmp_path / "out")
    assert code == 0, out
    # null is the section omitted (no funding.csv); {} offers no source (funding.csv is written)
    assert (tmp_path / "out" / "funding.csv").exists() == (section is not None)
