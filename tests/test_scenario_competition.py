"""Competition-aware (net) effects and effects on a projected population, against hand computations."""
from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from scenario_support import X0, Y0  # noqa: E402

from centrality.errors import InputError
from centrality.network import RoadNetwork
from geoproc.scenario import ImpactOptions, SensitivityOptions, parse_scenarios, run_scenarios
from geoproc.scenario.effects import Competition, effect_paths, ramp

B, SE = 0.0272193, 0.0010171
POP = {"k1": 20_000.0, "k2": 5_000.0, "k3": 8_000.0, "k4": 40_000.0}


def chain():
    """k1 –10 min– k2 –10 min– k3 –100 min– k4 (one zone per kommune, on the nodes).

    k4 is beyond the 90-minute cutoff of everything else, so speeding up k1–k2 leaves its travel
    times (and index) unchanged."""
    xy = np.array([[X0, Y0], [X0 + 10_000, Y0], [X0 + 20_000, Y0], [X0 + 60_000, Y0]])
    net = RoadNetwork.from_arrays(xy, [0, 1, 2], [1, 2, 3], np.array([600.0, 600.0, 6000.0]),
                                  link_ids=np.array([10, 11, 12]), attrs={"ref": np.array(["E6", "Fv", "Fv"], dtype=object)})
    zones = gpd.GeoDataFrame({"zone_id": list(POP), "kommune": list(POP), "name": ["One", "Two", "Three", "Four"],
                              "population": list(POP.values()), "jobs": [9000.0, 1000.0, 3000.0, 20000.0]},
                             geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:25833")
    return net, zones


def scenario(**impact):
    return parse_scenarios({"scenario": {"name": "chain"}, "impact": {"start_year": 2025, "end_year": 2030, **impact},
                            "variants": [{"name": "fast", "edits": [{"action": "scale_time", "ids": [10],
                                                                      "factor": 0.5}]}]})


def run(scen, **kw):
    net, zones = chain()
    return run_scenarios(scen, net, zones, group_col="kommune", uncertainty=SensitivityOptions(enabled=False), **kw)


def test_net_effects_sum_to_zero_with_population_centring_and_untouched_kommune_loses():
    v = run(scenario()).variants[0]
    g = v.groups.set_index("kommune")
    d = g["delta_index"] / 1000.0
    assert d["k4"] == 0.0 and d["k1"] > 0 and d["k2"] > 0           # k4's travel times do not change
    # by hand: Δmean = Σ P Δs / Σ P; net_i = β (Δs_i − Δmean) P_i, constant population, 6 years
    pop = pd.Series(POP)
    shift = float((pop * d).sum() / pop.sum())
    net = B * (d - shift) * pop
    assert g["delta_migrants_net_per_year"].to_numpy() == pytest.approx(net[g.index].to_numpy(), rel=1e-12)
    assert g.loc["k4", "delta_migrants_net_per_year"] == pytest.approx(-B * shift * 40_000, rel=1e-12)
    assert g.loc["k4", "delta_migrants_net_per_year"] < 0 and g.loc["k4", "delta_migrants_per_year"] == 0.0
    assert g.loc["k4", "delta_population_net"] == pytest.approx(6 * -B * shift * 40_000, rel=1e-12)
    assert float(g["delta_migrants_net_per_year"].sum()) == pytest.approx(0.0, abs=1e-9)
    assert v.summary["national_net_per_year"] == pytest.approx(0.0, abs=1e-9)
    assert v.summary["centring_shift_index_points"] == pytest.approx(1000 * shift, rel=1e-12)
    # gross = β Δs P with the centring held fixed; the national gross total is positive
    assert g["delta_migrants_per_year"].to_numpy() == pytest.approx((B * d * pop)[g.index].to_numpy(), rel=1e-12)
    head = v.headline.set_index(["scope", "measure"])
    assert head.loc[("national", "net"), "per_year"] == pytest.approx(0.0, abs=1e-9)
    assert head.loc[("national", "gross"), "per_year"] == pytest.approx(float((B * d * pop).sum()), rel=1e-12)


def test_unweighted_centrings_imply_the_hand_computed_national_total():
    regions = pd.DataFrame({"kommune": list(POP), "region": ["r1", "r1", "r2", "r3"]})
    v = run(scenario(competition="kommuner")).variants[0]
    g = v.groups.set_index("kommune")
    d, pop = g["delta_index"] / 1000.0, pd.Series(POP)[g.index]
    shift = float(d.mean())                                          # unweighted over the 4 kommuner
    total = float((B * (d - shift) * pop).sum())
    assert v.summary["national_net_per_year"] == pytest.approx(total, rel=1e-12)
    assert total < 0          # the big kommune k4 gains nothing: the unweighted mean over-counts small ones
    # regions: region Δs = population-weighted mean of its kommuner, then the unweighted mean of regions
    v = run(scenario(competition="regions", regions="unused.csv"), regions=regions).variants[0]
    g = v.groups.set_index("kommune")
    r1 = (d["k1"] * POP["k1"] + d["k2"] * POP["k2"]) / (POP["k1"] + POP["k2"])
    shift_r = (r1 + d["k3"] + d["k4"]) / 3
    assert v.summary["centring_shift_index_points"] == pytest.approx(1000 * shift_r, rel=1e-12)
    assert v.summary["national_net_per_year"] == pytest.approx(float((B * (d - shift_r) * pop).sum()), rel=1e-12)
    used = v.competition.set_index("centring")
    assert bool(used.loc["regions", "used"]) and used.loc["population", "national_net_per_year"] == pytest.approx(0, abs=1e-9)


def test_population_outside_the_run_pays_its_share():
    v = run(scenario(national_population=173_000.0)).variants[0]        # 100 000 live outside the zones
    g = v.groups.set_index("kommune")
    d, pop = g["delta_index"] / 1000.0, pd.Series(POP)[g.index]
    shift = float((pop * d).sum() / 173_000.0)
    assert g["delta_migrants_net_per_year"].to_numpy() == pytest.approx((B * (d - shift) * pop).to_numpy(), rel=1e-12)
    inside = float(g["delta_migrants_net_per_year"].sum())
    assert inside == pytest.approx(B * shift * 100_000.0, rel=1e-10)      # what the outside loses
    assert v.summary["national_net_per_year"] == pytest.approx(0.0, abs=1e-9)


def test_projected_base_hand_made_path_with_opening_and_ramp_up():
    years = range(2025, 2031)
    growth = {"k1": 1.02, "k2": 0.98, "k3": 1.0, "k4": 1.01}
    path = pd.DataFrame([(y, k, POP[k] * growth[k] ** (y - 2025)) for y in years for k in POP],
                        columns=["year", "kommune", "population"])
    # opening 2026 -> effects 2027..2030; phased in over 3 years: 1/3, 2/3, 1, 1
    v = run(scenario(opening_year=2026, ramp_up_years=3), population_path_table=path).variants[0]
    g = v.groups.set_index("kommune")
    r = {2025: 0, 2026: 0, 2027: 1 / 3, 2028: 2 / 3, 2029: 1.0, 2030: 1.0}
    for k in ("k1", "k2"):
        ds = g.loc[k, "delta_index"] / 1000.0
        p = {y: POP[k] * growth[k] ** (y - 2025) for y in years}
        assert g.loc[k, "delta_population"] == pytest.approx(sum(B * r[y] * ds * p[y] for y in years), rel=1e-12)
        # "a year" = mean over the years with full effect (2029, 2030)
        assert g.loc[k, "delta_migrants_per_year"] == pytest.approx(B * ds * (p[2029] + p[2030]) / 2, rel=1e-12)
    y = v.yearly[v.yearly["kommune"] == "k1"].set_index("year")
    assert y["ramp"].to_dict() == pytest.approx(r)
    assert y.loc[2028, "population_path"] == pytest.approx(POP["k1"] * 1.02 ** 3, rel=1e-12)
    # net with a growing base: Δmean_t uses each year's populations; the national total is 0 every year
    yy = v.yearly.groupby("year")["delta_migrants_net"].sum()
    assert np.abs(yy.to_numpy()).max() < 1e-9
    assert "population path" in v.summary["population_base"]


def test_compounding_on_a_path_and_the_ramp_function():
    years = np.arange(2025, 2029)
    path = np.array([[1000.0], [1100.0], [1200.0], [1300.0]])
    ep = effect_paths([0.02], path, years, beta=B, first_effect_year=2025, compounding=True)
    m, cum = [], 0.0
    for t in range(4):                       # m_t = β Δs (P_t + ΔP_{t−1})
        m.append(B * 0.02 * (path[t, 0] + cum))
        cum += m[-1]
    assert ep.gross[:, 0] == pytest.approx(m, rel=1e-12)
    assert ramp([2024, 2025, 2026, 2027, 2030], 2025, 4).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert ramp([2024, 2025], 2025, 0).tolist() == [0.0, 1.0]


def test_bad_competition_and_path_inputs_are_clear():
    with pytest.raises(InputError, match="competition must be one of"):
        ImpactOptions(competition="mean")
    with pytest.raises(InputError, match="needs regions"):
        ImpactOptions(competition="regions")
    with pytest.raises(InputError, match="ramp_up_years"):
        ImpactOptions(ramp_up_years=-1)
    with pytest.raises(InputError, match="centring"):
        Competition(centring="regions")
    short = pd.DataFrame({"year": [2025] * 4, "kommune": list(POP), "population": list(POP.values())})
    with pytest.raises(InputError, match=r"years \[2026, 2027"):
        run(scenario(), population_path_table=short)
    with pytest.raises(InputError, match="smaller than the run's population"):
        run(scenario(national_population=1000.0))
