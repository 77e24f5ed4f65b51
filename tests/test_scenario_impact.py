"""Impact arithmetic (Δ migrants, interval, accumulation) against hand computations."""
from __future__ import annotations

import numpy as np
import pytest

from centrality.errors import InputError
from geoproc.scenario.impact import Z95, ImpactOptions, accumulate, horizon_effect, migration_effect

B, SE = 0.0272193, 0.0010171   # published model 4 (MODEL.md §2.3)


def test_default_coefficient_is_published_model4():
    assert ImpactOptions().coefficient() == (B, SE)
    assert ImpactOptions(beta=0.03, beta_se=0.002).coefficient() == (0.03, 0.002)


def test_migration_effect_hand_computation():
    # Δindex 20 points, 20 000 inhabitants: 0.0272193 × 0.020 × 20 000 = 10.88772 persons a year
    eff = migration_effect([20.0, -5.0], [20_000.0, 1_000.0], B, SE, z=1.96)
    assert eff["delta_migrants_per_year"].tolist() == pytest.approx([10.88772, -0.1360965], rel=1e-12)
    assert eff.loc[0, "delta_migrants_low"] == pytest.approx((B - 1.96 * SE) * 0.02 * 20_000, rel=1e-12)  # 10.090288
    assert eff.loc[0, "delta_migrants_high"] == pytest.approx((B + 1.96 * SE) * 0.02 * 20_000, rel=1e-12)  # 11.685152
    # a negative Δ keeps low <= mid <= high
    assert eff.loc[1, "delta_migrants_low"] == pytest.approx((B + 1.96 * SE) * -0.005 * 1_000, rel=1e-12)
    assert eff.loc[1, "delta_migrants_low"] < eff.loc[1, "delta_migrants_per_year"] < eff.loc[1, "delta_migrants_high"]


def test_accumulation_with_opening_year():
    # horizon 2025-2040, opening 2030 -> effects in 2031..2040 = 10 years
    opts = ImpactOptions(start_year=2025, end_year=2040, opening_year=2030)
    acc = accumulate([20.0], [20_000.0], opts)
    assert acc["year"].tolist() == list(range(2025, 2041))
    m = acc["delta_migrants"].to_numpy()
    assert (m[:6] == 0).all() and m[6:] == pytest.approx(np.full(10, 10.88772), rel=1e-12)
    assert acc["delta_population"].iloc[-1] == pytest.approx(108.8772, rel=1e-12)
    eff = horizon_effect([20.0], [20_000.0], opts)
    assert eff.loc[0, "n_effect_years"] == 10
    assert eff.loc[0, "delta_population_low"] == pytest.approx(10 * (B - Z95 * SE) * 0.02 * 20_000, rel=1e-12)


def test_accumulation_with_compounding():
    # m_y = β·Δs·(P + C_{y-1}) -> C_n = P·((1 + β·Δs)^n − 1); β·Δs = 0.000544386
    opts = ImpactOptions(start_year=2025, end_year=2040, compounding=True)
    acc = accumulate([20.0], [20_000.0], opts)
    r = B * 0.02
    assert acc["delta_population"].iloc[-1] == pytest.approx(20_000 * ((1 + r) ** 16 - 1), rel=1e-12)  # 174.96
    assert acc["delta_migrants"].iloc[1] == pytest.approx(r * (20_000 + 20_000 * r), rel=1e-12)
    assert acc["delta_population"].iloc[-1] > 16 * 10.88772   # more than without compounding


def test_bad_impact_options():
    with pytest.raises(InputError, match="before start_year"):
        ImpactOptions(start_year=2040, end_year=2025)
    with pytest.raises(InputError, match="unknown key 'horizon_end'"):
        ImpactOptions.from_dict({"horizon_end": 2040})
    with pytest.raises(InputError, match="no sentny coefficient"):
        ImpactOptions(model="model1").coefficient()
