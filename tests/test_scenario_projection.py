"""Full cohort-component projection with and without a road project (MODEL.md §5, issue item 3)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_scenario_report import GOOD, _write_toml, inputs  # noqa: E402,F401  (fixture reused)

from centrality.errors import InputError
from geoproc.model import project as pj
from geoproc.model.pipeline import project_with_centrality_delta
from geoproc.scenario.impact import ImpactOptions, accumulate, optional_projection

BETA = 0.0272193                      # model 4 sentny coefficient
SIZES = {"0001": 10000.0, "0002": 5000.0, "0003": 2000.0}


def population_table(sizes=SIZES, year: int = 2024) -> pd.DataFrame:
    """Each kommune's people spread evenly over ages 0..90 and both sexes (1 January ``year``)."""
    idx = pd.MultiIndex.from_product([[year], list(sizes), pj.SEXES, range(91)], names=["year", "kommune", "sex", "age"])
    out = idx.to_frame(index=False)
    out["population"] = out["kommune"].map(sizes) / (2 * 91)
    return out


def delta(values) -> pd.DataFrame:
    return pd.DataFrame({"kommune": list(SIZES), "delta_index": values})


def wide(res, col: str) -> pd.DataFrame:
    return res.table.pivot(index="year", columns="kommune", values=col)


def test_zero_delta_gives_identical_projections():
    res = project_with_centrality_delta(delta([0.0, 0.0, 0.0]), population_table(), horizon=2041,
                                        first_effect_year=2025, beta=BETA)
    np.testing.assert_array_equal(res.without.arrays["neutral"], res.with_project.arrays["neutral"])
    assert (res.table["delta_population"] == 0.0).all()
    assert res.table["year"].min() == 2024 and res.table["year"].max() == 2041
    # the baseline is a real projection (illustrative national assumptions), not a constant
    assert wide(res, "population_without").loc[2041, "0001"] != pytest.approx(10000.0, abs=1.0)


def test_positive_delta_first_year_exact_and_other_kommuner_untouched():
    d_index = 20.0                     # index points for kommune 0002
    res = project_with_centrality_delta(delta([0.0, d_index, 0.0]), population_table(), horizon=2041,
                                        first_effect_year=2025, beta=BETA)
    dp = wide(res, "delta_population")
    p_without = wide(res, "population_without")
    # identical before the first effect year's migration
    assert (dp.loc[[2024, 2025]] == 0.0).all().all()
    # year 1 (migration of 2025, seen on 1 January 2026): β × Δindex/1000 × population on 1 January 2025
    expected = BETA * d_index / 1000.0 * p_without.loc[2025, "0002"]
    assert dp.loc[2026, "0002"] == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(2.7159, abs=1e-3)       # 0.0272193 × 0.02 × 4988.889
    # the extra migrants are split over ages: by-age differences sum to the total, all ≥ 0, and
    # young adults get most (Rogers–Castro profile)
    by_age = (res.with_project.arrays["neutral"][2] - res.without.arrays["neutral"][2])[1]   # kommune 0002
    assert by_age.sum() == pytest.approx(expected, rel=1e-10)
    assert (by_age >= -1e-12).all() and by_age[:, 20:30].sum() > by_age[:, 60:70].sum()
    # no balancing: the other kommuner are exactly unchanged in every year
    assert (dp[["0001", "0003"]] == 0.0).all().all()
    # grows every year; by the end of 2040 of the same order as the simple accumulation
    assert (np.diff(dp["0002"].to_numpy()[1:]) > 0).all()
    simple = accumulate([d_index], [p_without.loc[2025, "0002"]], ImpactOptions(start_year=2025, end_year=2040))
    simple_2040 = float(simple["delta_population"].iloc[-1])
    assert simple_2040 == pytest.approx(16 * expected, rel=1e-12)
    assert 0.8 < res.delta_by_end_of(2040)["0002"] / simple_2040 < 1.1


def test_balancing_takes_the_gain_from_the_other_kommuner():
    d_index = 20.0
    res = project_with_centrality_delta(delta([0.0, d_index, 0.0]), population_table(), horizon=2030,
                                        first_effect_year=2025, beta=BETA, balance=True)
    p = wide(res, "population_without").loc[2025]
    dp = wide(res, "delta_population").loc[2026]
    gain = BETA * d_index / 1000.0 * p["0002"]
    total = p.sum()
    # the scenario's population-weighted mean rate rises by gain/total: every kommune pays its share
    assert dp["0002"] == pytest.approx(gain * (1 - p["0002"] / total), rel=1e-10)
    assert dp["0001"] == pytest.approx(-gain * p["0001"] / total, rel=1e-10)
    assert dp["0003"] == pytest.approx(-gain * p["0003"] / total, rel=1e-10)
    assert dp.sum() == pytest.approx(0.0, abs=1e-9)          # zero-sum over the projected kommuner


def test_index_pair_form_and_opening_year_through_the_hook():
    base = np.array([800.0, 700.0, 500.0])
    d = pd.DataFrame({"kommune": list(SIZES), "index_base": base, "index_scen": base + [0.0, 20.0, 0.0]})
    opts = ImpactOptions(start_year=2025, end_year=2040, opening_year=2030, projection=True,
                         population_by_age_sex="unused.csv")
    res = optional_projection(d, options=opts, population=population_table())
    assert res.first_effect_year == 2031 and res.horizon == 2041 and res.beta_sentny == BETA
    dp = wide(res, "delta_population")
    assert (dp.loc[:2031] == 0.0).all().all()
    p_with = wide(res, "population_with")
    assert dp.loc[2032, "0002"] == pytest.approx(BETA * 0.02 * p_with.loc[2031, "0002"], rel=1e-12)
    # the baseline's balancing constant is held: kommuner without Δ are exactly unchanged
    assert (dp[["0001", "0003"]] == 0.0).all().all()
    # the baseline run has the level term β × (index/1000 − baseline mean): 0001 (above the mean)
    # grows faster than without any centrality term
    neutral = project_with_centrality_delta(delta([0.0, 0.0, 0.0]), population_table(), horizon=2041, beta=BETA)
    assert wide(res, "population_without").loc[2041, "0001"] > wide(neutral, "population_without").loc[2041, "0001"]


def test_hook_is_off_without_population_and_bad_inputs_are_clear():
    d = delta([0.0, 10.0, 0.0])
    assert optional_projection(d, start_year=2025, end_year=2040, opening_year=None) is None
    with pytest.raises(InputError, match="population_by_age_sex"):
        ImpactOptions(projection=True)
    with pytest.raises(InputError, match=r"no rows for kommuner \['0002'\]"):
        project_with_centrality_delta(d, population_table({"0001": 100.0, "0003": 50.0}))
    with pytest.raises(InputError, match="no sentny term"):
        project_with_centrality_delta(d, population_table(), params="model1")
    with pytest.raises(InputError, match="index_base and index_scen"):
        project_with_centrality_delta(d.rename(columns={"delta_index": "d"}), population_table())


def test_cli_projection_report(inputs, tmp_path, capsys):  # noqa: F811
    from geoproc.cli import main

    pop_file = tmp_path / "pop.csv"
    population_table({"9901": 12000.0, "9902": 12000.0}).to_csv(pop_file, index=False)
    out = tmp_path / "out"
    rc = main(["scenario", "run", str(_write_toml(inputs, GOOD)), "--speed-field", "speed", "--link-id-field",
               "link_id", "--group-field", "kommune", "--population-age-sex", str(pop_file), "--no-maps",
               "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    proj = pd.read_csv(out / "fast_e6_projection.csv", dtype={"kommune": str})
    summary = pd.read_csv(out / "fast_e6_summary.csv", dtype={"kommune": str}).set_index("kommune")
    d_index = summary.loc["9902", "delta_index"]
    assert d_index > 0
    dp = proj.pivot(index="year", columns="kommune", values="delta_population")
    p_with = proj.pivot(index="year", columns="kommune", values="population_with")
    # opening 2030: effects from 2031, first seen on 1 January 2032
    assert (dp.loc[:2031] == 0.0).all().all()
    assert dp.loc[2032, "9902"] == pytest.approx(BETA * d_index / 1000 * p_with.loc[2031, "9902"], rel=1e-9)
    assert summary.loc["9902", "proj_delta_population_2040"] == pytest.approx(dp.loc[2041, "9902"], rel=1e-9)
    ratio = summary.loc["9902", "proj_delta_population_2040"] / summary.loc["9902", "delta_population_2040"]
    assert 0.5 < ratio < 1.1       # the zone-table population is 12 000 too; the projection's declines
    assert "full cohort-component projection" in (out / "report.html").read_text(encoding="utf-8")
    assert "projection: Δ population by the end of 2040" in capsys.readouterr().out


@pytest.mark.shared
def test_levanger_projected_base_is_the_real_data_projection():
    """The Levanger case's population path is DEMOG's real-data projection (from 1 January 2025, the
    data's population of that day), run without and with the project."""
    from conftest import REPO, shared_path

    from geoproc.data.dataset import load_dataset
    from geoproc.scenario.proxy_case import run_proxy_scenario

    run = run_proxy_scenario(REPO / "examples" / "levanger" / "scenario.toml", shared_path())
    v = run.variants[0]
    res = v.projection
    assert res.source == "real data" and not res.illustrative and "HMD/HFD national schedules" in res.assumptions_label
    assert res.base_year == 2025 and res.first_effect_year == 2025 and res.horizon == 2041
    # P_2025 is the data folder's 1 January 2025 population (harmonised to the 2020 kommuner), not a 2020 level
    pop = load_dataset(shared_path()).population
    real_2025 = pop[(pop["year"] == 2025) & (pop["kommune"] == "5037")]["population"].iloc[0]
    y = v.yearly[v.yearly["kommune"] == "5037"].set_index("year")
    assert y.loc[2025, "population_path"] == pytest.approx(real_2025, rel=1e-12)
    assert y.loc[2025, "population_path"] != v.groups.set_index("kommune").loc["5037", "population"]
    # the scenario's Δ population = Σ_t β Δsentny P_t over that path (hand formula)
    g = v.groups.set_index("kommune")
    assert g.loc["5037", "delta_population"] == pytest.approx(
        float((0.0272193 * g.loc["5037", "delta_index"] / 1000 * y["population_path"]).sum()), rel=1e-12)
    # the projection WITH the project adds the extra residents' children and the jobs that follow
    # them (the model's population effect): more than the simple accumulation, same order
    d2040 = res.delta_by_end_of(2040)
    assert 1.0 < d2040["5037"] / g.loc["5037", "delta_population"] < 1.4
    # kommuner far from the corridor change only through the national job balance (< 1 % of Levanger's)
    assert abs(d2040["0301"]) < 0.01 * d2040["5037"] and g.loc["0301", "delta_population"] == 0.0
    # every output says what the base rests on
    assert any("real-data cohort-component projection" in c and "HMD/HFD" in c for c in v.caveats)
    assert not any("ILLUSTRATIVE" in c for c in run.caveats + v.caveats)


def test_toml_impact_keys_path_relative_to_file(inputs, tmp_path, capsys):  # noqa: F811
    from geoproc.cli import main

    population_table({"9901": 8000.0, "9902": 4000.0}).to_csv(inputs / "pop_toml.csv", index=False)
    text = GOOD.replace("end_year = 2040\n", "end_year = 2040\nprojection = true\n"
                        "population_by_age_sex = \"pop_toml.csv\"\nprojection_balance = true\n")
    out = tmp_path / "out"
    rc = main(["scenario", "run", str(_write_toml(inputs, text)), "--speed-field", "speed", "--link-id-field",
               "link_id", "--group-field", "kommune", "--no-maps", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    proj = pd.read_csv(out / "fast_e6_projection.csv", dtype={"kommune": str})
    dp = proj.pivot(index="year", columns="kommune", values="delta_population")
    # balanced: the gain of 9902 is taken from 9901; the extra moves are zero-sum each year (the
    # first effect year exactly; later the moved people's births and deaths add a little)
    assert dp.loc[2041, "9902"] > 0 > dp.loc[2041, "9901"]
    assert dp.loc[2032].sum() == pytest.approx(0.0, abs=1e-9) and dp.loc[2032, "9902"] > 0
    assert abs(dp.loc[2041].sum()) < 0.01 * dp.loc[2041, "9902"]
    assert "domestic moves balanced" in (out / "report.html").read_text(encoding="utf-8")


def test_projection_without_group_field_fails_before_computing(inputs, tmp_path, capsys):  # noqa: F811
    from geoproc.cli import main

    pop_file = tmp_path / "pop.csv"
    population_table({"9901": 1.0}).to_csv(pop_file, index=False)
    rc = main(["scenario", "run", str(_write_toml(inputs, GOOD)), "--speed-field", "speed", "--link-id-field",
               "link_id", "--population-age-sex", str(pop_file), "--out", str(tmp_path / "out")])
    assert rc == 2 and "pass --group-field" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_python_api_runs_the_toml_projection(inputs, tmp_path):  # noqa: F811
    """``run_scenarios`` itself honours ``[impact] projection = true`` (Python API, demo, QGIS)."""
    import geopandas as gpd

    from centrality.builders.lines import network_from_lines
    from geoproc.scenario import load_scenarios, run_scenarios

    population_table({"9901": 8000.0, "9902": 4000.0}).to_csv(inputs / "pop_api.csv", index=False)
    text = GOOD.replace("end_year = 2040\n", "end_year = 2040\nprojection = true\n"
                        "population_by_age_sex = \"pop_api.csv\"\n")
    scen = load_scenarios(_write_toml(inputs, text))
    network = network_from_lines(gpd.read_file(inputs / "roads.gpkg"), speed_field="speed", id_field="link_id")
    run = run_scenarios(scen, network, gpd.read_file(inputs / "zones.gpkg"), group_col="kommune")
    (variant,) = run.variants
    res = variant.projection
    assert res is not None and res.first_effect_year == variant.impact.first_effect_year()
    g = variant.groups.set_index("kommune")
    d = res.delta_by_end_of(2040)
    assert g.loc["9902", "delta_index"] > 0 and d["9902"] > 0
    # no balancing: a kommune without Δ index keeps its projection exactly
    assert (g.loc["9901", "delta_index"] == 0) == (d["9901"] == 0.0)


@pytest.mark.shared
def test_cli_data_dir_uses_the_real_data_projection(inputs, tmp_path, capsys):  # noqa: F811
    """`regio scenario run --data-dir`: the population path is the data folder's projection of the
    zones' (2020) kommuner; other codes, or a second population base, are refused before computing."""
    import geopandas as gpd

    from conftest import shared_path
    from geoproc.cli import main
    from geoproc.data.dataset import load_dataset

    zones = gpd.read_file(inputs / "zones.gpkg")
    zones.assign(kommune=zones["kommune"].map({"9901": "5035", "9902": "5037"})).to_file(
        tmp_path / "zones_2020.gpkg", driver="GPKG")
    toml = _write_toml(inputs, GOOD)
    base = ["scenario", "run", str(toml), "--speed-field", "speed", "--link-id-field", "link_id",
            "--group-field", "kommune", "--no-maps"]
    out = tmp_path / "out"
    rc = main([*base, "--zones", str(tmp_path / "zones_2020.gpkg"), "--data-dir", str(shared_path()),
               "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    yearly = pd.read_csv(out / "fast_e6_yearly.csv", dtype={"kommune": str}).set_index(["kommune", "year"])
    pop = load_dataset(shared_path()).population
    real = pop[(pop["year"] == 2025) & (pop["kommune"] == "5037")]["population"].iloc[0]
    assert yearly.loc[("5037", 2025), "population_path"] == pytest.approx(real, rel=1e-12)
    summary = pd.read_csv(out / "fast_e6_summary.csv", dtype={"kommune": str}).set_index("kommune")
    # Δ population 2040 = Σ_{2031..2040} β Δindex/1000 P_t (opening 2030)
    y = yearly.loc["5037"]
    assert summary.loc["5037", "delta_population_2040"] == pytest.approx(
        float((0.0272193 * summary.loc["5037", "delta_index"] / 1000 * y.loc[2031:2040, "population_path"]).sum()),
        rel=1e-12)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "real-data cohort-component projection" in page and "HMD/HFD national schedules" in page
    assert "ILLUSTRATIVE" not in page
    runs = pd.read_csv(out / "scenarios.csv")
    assert runs["population_base"].str.contains("real-data cohort-component projection").all()
    # synthetic 99xx codes are not kommuner of the data folder
    rc = main([*base, "--data-dir", str(shared_path()), "--out", str(tmp_path / "bad")])
    err = capsys.readouterr().err
    assert rc == 2 and "9901, 9902 are not kommuner of the data folder's projection" in err
    assert not (tmp_path / "bad").exists()
    # one population base only
    population_table({"5035": 1.0}).to_csv(tmp_path / "pop.csv", index=False)
    rc = main([*base, "--zones", str(tmp_path / "zones_2020.gpkg"), "--data-dir", str(shared_path()),
               "--population-age-sex", str(tmp_path / "pop.csv"), "--out", str(tmp_path / "bad2")])
    assert rc == 2 and "give one population base" in capsys.readouterr().err
    assert not (tmp_path / "bad2").exists()
