"""Loaders on the real SSB files in ../shared/data: spot values and totals from its READMEs."""
from __future__ import annotations

import pandas as pd
import pytest

from centrality.errors import InputError
from geoproc.data import loaders as L
from tests.conftest import shared_path


@pytest.fixture(scope="module")
def data_dir():
    shared_path("ssb", "employment_11618_2017_2022.csv")
    return shared_path()


def test_default_data_dir_from_env_and_clear_error(monkeypatch, data_dir):
    monkeypatch.setenv("REGIO_DATA_DIR", str(data_dir))
    assert L.default_data_dir() == data_dir
    monkeypatch.delenv("REGIO_DATA_DIR")
    with pytest.raises(InputError, match="--data-dir.*REGIO_DATA_DIR"):
        L.default_data_dir()


def test_missing_file_names_file_and_fix(tmp_path):
    with pytest.raises(InputError, match="commuting_03321_2020_2022.csv.*--data-dir"):
        L.load_commuting(tmp_path)


def test_commuting_2020_spot_values_and_totals(data_dir):
    c = L.load_commuting(data_dir)
    assert list(c.columns) == ["year", "home_kommune", "work_kommune", "employed"]
    assert c["home_kommune"].str.len().eq(4).all() and c["year"].dtype == "int64"
    assert c.groupby("year")["employed"].sum().to_dict() == {2020: 2673248, 2021: 2753966, 2022: 2809789}
    flows = c.set_index(["year", "home_kommune", "work_kommune"])["employed"]
    assert flows[(2020, "5035", "5001")] == 2524
    assert flows[(2020, "5037", "5001")] == 553
    assert flows[(2020, "3024", "0301")] == 27559
    assert flows[(2020, "0301", "0301")] == 306708
    assert flows[(2022, "5035", "5001")] == 2661
    for year, part in c.groupby("year"):
        assert part["home_kommune"].nunique() == 356 and part["work_kommune"].nunique() == 356


def test_workplace_sums_equal_employed_by_workplace(data_dir):
    c = L.load_commuting(data_dir)
    e = L.load_employment(data_dir)
    assert sorted(e["year"].unique()) == [2020, 2021, 2022]
    assert e.groupby("year")["kommune"].nunique().eq(356).all()
    sums = c.groupby(["year", "work_kommune"])["employed"].sum()
    jobs = e.set_index(["year", "kommune"])["employed_by_workplace"]
    sums.index.names = jobs.index.names
    pd.testing.assert_series_equal(sums.sort_index(), jobs.sort_index(), check_names=False)
    row = e[(e.year == 2020) & (e.kommune == "0301")].iloc[0]
    assert (row.population_15_74, row.employed_by_residence, row.employed_by_workplace) == (545060, 372443, 485787)


def test_commuting_2017_2019_refuses_mixed_code_systems(data_dir):
    with pytest.raises(InputError, match="different kommune code systems.*to_system"):
        L.load_commuting(data_dir, years=[2017, 2018])
    c = L.load_commuting(data_dir, years=[2018, 2019])  # one code system: fine
    assert c.groupby("year")["employed"].sum().to_dict() == {2018: 2667158, 2019: 2691283}
    c17 = L.load_commuting(data_dir, years=[2017])
    assert c17.set_index(["home_kommune", "work_kommune"])["employed"][("1714", "1601")] == 2424


def test_commuting_harmonised_to_2020(data_dir):
    with pytest.raises(InputError, match=r"1613 \(2017\) -> 5055, 5056, 5059.*on_split='weights'"):
        L.load_commuting(data_dir, years=[2017, 2020], to_system="2020")
    c = L.load_commuting(data_dir, years=[2017, 2020], to_system="2020", on_split="weights")
    assert c.groupby("year")["employed"].sum().round(6).to_dict() == {2017: 2609737, 2020: 2673248}
    assert set(c.attrs["harmonisation"].changes(("split",))["code_from"]) == {"1613", "1850"}
    flows = c.set_index(["year", "home_kommune", "work_kommune"])["employed"]
    # Stjørdal 1714 -> Trondheim 1601 (+ Klæbu 1662, merged into Trondheim in 2020)
    raw = L.load_commuting(data_dir, years=[2017]).set_index(["home_kommune", "work_kommune"])["employed"]
    assert flows[(2017, "5035", "5001")] == raw[("1714", "1601")] + raw.get(("1714", "1662"), 0)


def test_employment_harmonised_years(data_dir):
    e = L.load_employment(data_dir, years=range(2017, 2023), to_system="2020", on_split="weights")
    totals = e.groupby("year")["employed_by_workplace"].sum().round(6).to_dict()
    assert totals == {2017: 2609737, 2018: 2667158, 2019: 2691643, 2020: 2673248, 2021: 2753966, 2022: 2809789}
    t17 = e[(e.year == 2017) & (e.kommune == "5001")]["employed_by_workplace"].iloc[0]
    raw17 = L.load_employment(data_dir, years=[2017]).set_index("kommune")["employed_by_workplace"]
    assert t17 == raw17["1601"] + raw17["1662"]  # Trondheim + Klæbu
    assert raw17["1601"] == 116690


def test_population_by_age(data_dir):
    p = L.load_population_by_age(data_dir)
    assert len(p) == 630170 and p["age"].between(0, 105).all()
    tot = p.groupby(["year", "kommune"])["population"].sum()
    assert tot[(2020, "5037")] == 20164 and tot[(2020, "5035")] == 24145
    assert tot[(2020, "5001")] == 205163 and tot[(2020, "0301")] == 693494 and tot[(2020, "1151")] == 198
    assert tot[(2005, "5001")] == 161440 and tot[(2019, "5001")] == 202235
    assert p.groupby("year")["population"].sum()[2020] == 5367580
    assert p[(p.year == 2020) & (p.age == 105)]["population"].sum() == 73
    assert p.groupby("year")["kommune"].nunique()[2005] == 345
    with pytest.raises(InputError, match="2030.*available years"):
        L.load_population_by_age(data_dir, years=[2030])


def test_population_by_age_sex(data_dir):
    p = L.load_population_by_age_sex(data_dir, years=[2020])
    assert len(p) == 356 * 2 * 106
    by = p.groupby("sex")["population"].sum().to_dict()
    assert by == {"female": 2661018, "male": 2706562}
    t = p[(p.kommune == "5001") & (p.age == 20)].set_index("sex")["population"].to_dict()
    assert t == {"female": 1367, "male": 1393}


def test_regions_centroids_polygons_population(data_dir):
    r = L.load_regions(data_dir).set_index("kommune")
    assert len(r) == 356 and r.loc["5037", "ba_region_code"] == "097" and r.loc["0301", "fylke_code"] == "03"
    assert r.loc["5444", "fylke_name"] == "Troms og Finnmark"
    assert sorted(r.index[r["ba_region_code"].isna()]) == ["3053", "3054", "5061"]  # absent in the source
    cen = L.load_centroids(data_dir).set_index("kommune")
    assert cen.crs.to_epsg() == 4326 and len(cen) == 356
    assert cen.loc["5001"].geometry.x == pytest.approx(10.430091) and cen.loc["5001"].geometry.y == pytest.approx(63.341174)
    poly = L.load_kommune_polygons(data_dir)
    assert len(poly) == 356 and set(poly["kommune"]) >= {"0301", "5037"} and poly.crs.to_epsg() == 4326
    pop = L.load_kommune_population_2020(data_dir)
    assert pop["population"].sum() == 5367580
    assert pop.set_index("kommune").loc["5037", "population"] == 20164
