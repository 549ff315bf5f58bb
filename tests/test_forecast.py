"""Market forecast: protocol arithmetic against published figures, paths, percentiles, breakeven.

"ref:" names a row of shared/reference/reference_figures.csv as topic / figure / as_of.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from realloc.inputs import examples
from realloc.inputs.errors import InputError
from realloc.inputs.forecast_loader import load_forecast_spec
from realloc.models.forecast import (
    COLUMNS,
    BreakevenGroup,
    CurvePoint,
    ForecastSpec,
    block_heights,
    breakeven_power_price_usd_per_mwh,
    generate,
    group_breakeven,
    halving_months,
    hashcost_usd_per_ph_day,
    hashprice_usd_per_ph_day,
    hashrate_from_difficulty_eh_per_s,
    interpolate_curve,
    markets,
    percentiles,
    subsidy_btc,
)
from realloc.reports.forecast_report import write_forecast

EXAMPLE = Path(examples.__file__).parent / "forecast_base.yaml"


@pytest.fixture(scope="module")
def base_spec() -> ForecastSpec:
    return load_forecast_spec(EXAMPLE)


@pytest.fixture(scope="module")
def base_frame(base_spec: ForecastSpec) -> pd.DataFrame:
    return generate(base_spec)


# ref: protocol / Subsidy halving interval / consensus (50 BTC >> height/210,000; 0 after 64)
# and protocol / Halving 4 (block 840,000 -> 3.125) / Next halving block (1,050,000 -> 1.5625).
@pytest.mark.parametrize(
    ("height", "btc"),
    [
        (0, 50.0),
        (209_999, 50.0),
        (210_000, 25.0),
        (840_000, 3.125),
        (1_049_999, 3.125),
        (1_050_000, 1.5625),
        (64 * 210_000, 0.0),
        (100 * 210_000, 0.0),
    ],
)
def test_subsidy_at_height(height: int, btc: float) -> None:
    assert subsidy_btc(height) == btc


def test_subsidy_is_vectorised_and_truncates_like_consensus() -> None:
    heights = np.array([0, 210_000, 840_000, 1_050_000, 33 * 210_000])
    np.testing.assert_array_equal(subsidy_btc(heights), [50, 25, 3.125, 1.5625, 0.0])
    # after 10 halvings 5e9 sats >> 10 = 4,882,812 sats (the half satoshi is dropped)
    assert subsidy_btc(10 * 210_000) == 0.04882812
    with pytest.raises(ValueError):
        subsidy_btc(-1)


def test_hashprice_feb_2026_after_difficulty_drop() -> None:
    # ref: market / Difficulty adjustment / 2026-02-07 (125.86T) and market / Network hashrate /
    # 2026-02-07 ("Derived from difficulty 125.86T: 901 EH/s"):
    # H = 125.86e12 × 2^32 / 600 = 9.0095e20 H/s = 900.95 EH/s = 900,950 PH/s.
    hashrate = hashrate_from_difficulty_eh_per_s(125.86e12)
    assert hashrate == pytest.approx(901, rel=0.002)
    # ref: protocol / Fee per block, 2025 average (0.036); market / BTC price / 2026-02-05..09
    # ($70k on Feb 5). Revenue/day = (3.125 + 0.036) × 144 × 70,000 = $31,862,880;
    # / 900,950 PH/s = $35.37/PH/day, vs market / Hashprice / 2026-02-11 (~35) and
    # 2026-02-01 (35.22).
    hashprice = hashprice_usd_per_ph_day(3.125, 0.036, 70_000, hashrate)
    assert hashprice == pytest.approx(35.0, rel=0.02)
    assert hashprice == pytest.approx(35.22, rel=0.02)


def test_hashprice_nov_2025_luxor_five_year_low() -> None:
    # ref: market / Luxor hashprice 5-year low / 2025-11 (BTC $91k, difficulty ~152T -> 38.2).
    # H = 152e12 × 2^32 / 600 = 1.0881e21 H/s = 1,088,060 PH/s; revenue/day =
    # 3.161 × 144 × 91,000 = $41,421,744; / 1,088,060 = $38.07/PH/day (row's own check: 38.1).
    hashprice = hashprice_usd_per_ph_day(
        3.125, 0.036, 91_000, hashrate_from_difficulty_eh_per_s(152e12)
    )
    assert hashprice == pytest.approx(38.2, rel=0.02)


def test_block_heights_at_month_midpoints() -> None:
    # ref: market / Difficulty adjustment / 2026-02-07, block 935,424; 144 blocks/day.
    # Midpoints: 16 March 12:00 = 37.5 days after 7 Feb -> 935,424 + 5,400;
    # 16 April 00:00 = 68 days -> + 9,792; 16 May 12:00 = 98.5 days -> + 14,184.
    h = block_heights(935_424, date(2026, 2, 7), "2026-03", 3)
    assert h.tolist() == [940_824, 945_216, 949_608]


def test_example_halving_halves_hashprice(base_frame: pd.DataFrame) -> None:
    # ref: protocol / Next halving block: 1,050,000 expected ~2028-04-12 at 10-minute blocks.
    assert halving_months(base_frame) == ["2028-04"]
    wide = base_frame.pivot(index="scenario", columns="month", values="hashprice_usd_per_ph_day")
    ratio = wide["2028-04"] / wide["2028-03"]
    # subsidy+fees 1.5985/3.161 = 0.506, hash rate within ±5 %/month, one month of price noise
    assert 0.4 < ratio.median() < 0.6
    p50 = percentiles(base_frame, "hashprice_usd_per_ph_day").set_index("month")["p50"]
    assert 0.35 < p50["2028-04"] / p50["2028-03"] < 0.65


def test_example_halving_step_without_noise(base_spec: ForecastSpec) -> None:
    flat = base_spec.model_copy(
        update={"price": base_spec.price.model_copy(update={"gbm": None}), "paths": 1}
    )
    path = generate(flat).set_index("month")["hashprice_usd_per_ph_day"]
    # the hash rate responds to the hashprice three months before (lag_months 3):
    # growth = clip(0 + 0.3 × (hashprice_2028-01 / $30 − 1), −5 %, +5 %)
    month_growth = 1 + min(max(0.3 * (path["2028-01"] / 30 - 1), -0.05), 0.05)
    assert path["2028-04"] / path["2028-03"] == pytest.approx(
        (1.5625 + 0.036) / (3.125 + 0.036) / month_growth
    )
    # start month: 3.161 × 144 × 67,000 / 1,000,000 PH/s
    assert path["2026-03"] == pytest.approx(3.161 * 144 * 67_000 / 1e6)


def test_generate_columns_and_probabilities(base_frame: pd.DataFrame) -> None:
    assert list(base_frame.columns) == COLUMNS
    assert len(base_frame) == 200 * 60
    assert sorted(base_frame["scenario"].unique()) == list(range(200))
    assert (base_frame.groupby("scenario")["btc_price_usd"].first() == 67_000).all()
    scenarios = markets(base_frame)
    assert len(scenarios) == 200
    assert sum(p for p, _ in scenarios) == pytest.approx(1.0)
    assert len(scenarios[0][1].hashprice_usd_per_ph_day) == 60


def test_monte_carlo_reproducible_from_seed(
    base_spec: ForecastSpec, base_frame: pd.DataFrame
) -> None:
    pd.testing.assert_frame_equal(generate(base_spec), base_frame)
    other = generate(base_spec.model_copy(update={"seed": 8}))
    assert not np.allclose(other["btc_price_usd"], base_frame["btc_price_usd"])


def test_percentiles_ordered(base_frame: pd.DataFrame) -> None:
    for column in ("btc_price_usd", "hashprice_usd_per_ph_day"):
        table = percentiles(base_frame, column)
        assert table["month"].tolist()[:2] == ["2026-03", "2026-04"]
        values = table[["p5", "p25", "p50", "p75", "p95"]].to_numpy()
        assert (np.diff(values, axis=1) >= 0).all()
        assert (values[1:, 0] < values[1:, -1]).all()


def test_forward_curve_interpolation_by_hand() -> None:
    points = [
        CurvePoint(month="2026-03", usd_per_ph_day=30),
        CurvePoint.model_validate(["2026-06", 36]),
    ]
    # flat before March, +2/month to June, flat after
    np.testing.assert_allclose(
        interpolate_curve(points, "2026-01", 8), [30, 30, 30, 32, 34, 36, 36, 36]
    )
    spec = ForecastSpec.model_validate(
        {
            "start_month": "2026-01",
            "months": 8,
            "price": {"start_usd": 70_000},
            "fees": {"btc_per_block": 0.036},
            "block": {"start_height": 935_424, "start_date": "2026-02-07"},
            "forward_curve": [["2026-03", 30], ["2026-06", 36]],
        }
    )
    frame = generate(spec)
    np.testing.assert_allclose(frame["hashprice_usd_per_ph_day"], [30, 30, 30, 32, 34, 36, 36, 36])
    # implied hash rate: 3.161 × 144 × 70,000 / 30 / 1000 = 1,062 EH/s
    assert frame["hashrate_eh"].iloc[0] == pytest.approx(3.161 * 144 * 70_000 / 30 / 1000)


def test_breakeven_arithmetic() -> None:
    # ref: protocol / Hashcost formula: 15 J/TH at $40/MWh = $14.4/PH/day.
    assert hashcost_usd_per_ph_day(15, 40) == pytest.approx(14.4)
    # ref: worked_example / Mining gross margin per MW: breakeven at $40/MWh, PUE 1.05:
    # S19j Pro 29.5 J/TH -> $29.7, S21 XP 13.5 J/TH -> $13.6 per PH/day.
    assert hashcost_usd_per_ph_day(29.5, 40, 1.05) == pytest.approx(29.7, abs=0.05)
    assert hashcost_usd_per_ph_day(13.5, 40, 1.05) == pytest.approx(13.6, abs=0.05)
    assert breakeven_power_price_usd_per_mwh(15, 14.4) == pytest.approx(40)
    groups = [
        BreakevenGroup(
            name="S19j Pro", efficiency_j_per_th=29.5, power_price_usd_per_mwh=40, pue=1.05
        ),
        BreakevenGroup(
            name="S21 XP", efficiency_j_per_th=13.5, power_price_usd_per_mwh=[40, 40, 80], pue=1.05
        ),
    ]
    old, new = group_breakeven(groups, [35.0, 29.0, 20.0], "2026-03")
    assert old.first_negative_month == "2026-04"
    assert old.breakeven_power_price_usd_per_mwh[0] == pytest.approx(35 * 1000 / 24 / 29.5 / 1.05)
    assert new.hashcost_usd_per_ph_day[2] == pytest.approx(13.5 * 80 * 0.024 * 1.05)
    assert new.first_negative_month == "2026-05"  # 20 < 27.2 at $80/MWh
    assert group_breakeven(groups[1:], [35.0, 35.0], "2026-03")[0].first_negative_month is None


def test_write_forecast(tmp_path: Path, base_frame: pd.DataFrame) -> None:
    groups = [BreakevenGroup(name="S21", efficiency_j_per_th=17.5, power_price_usd_per_mwh=40)]
    files = write_forecast(base_frame, tmp_path, groups)
    assert sorted(files) == [
        "breakeven.csv",
        "forecast.csv",
        "forecast_fan.png",
        "forecast_percentiles.csv",
    ]
    assert list(pd.read_csv(files["forecast.csv"]).columns) == COLUMNS
    breakeven = pd.read_csv(files["breakeven.csv"])
    assert len(breakeven) == 60 and breakeven["share_of_paths_negative"].between(0, 1).all()
    assert files["forecast_fan.png"].stat().st_size > 10_000


def test_loader_names_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text().replace("start_eh_per_s: 1000", "start_eh_per_s: -5"))
    with pytest.raises(InputError, match=r"hashrate\.start_eh_per_s .*line \d+"):
        load_forecast_spec(bad)
    bad.write_text("start_month: 2026-03\nmonths: 12\nprice: {start_usd: 1, gbm: {}}\n")
    with pytest.raises(InputError, match=r"forecast spec.*price\.gbm\.drift_per_year"):
        load_forecast_spec(bad)
