"""Kommune code reforms: coverage checked against SSB's published code lists and data."""
from __future__ import annotations

import pandas as pd
import pytest

from centrality.errors import InputError
from geoproc.data import codes as kc
from tests.conftest import shared_path

VALUES = ["population_15_74", "employed_by_residence", "employed_by_workplace"]


@pytest.fixture(scope="module")
def employment():
    return pd.read_csv(shared_path("ssb", "employment_11618_2017_2022.csv"), dtype={"kommune": str})


def test_code_list_sizes_and_changes_table():
    assert {k: len(v) for k, v in kc.CODE_LISTS.items()} == {"2017": 426, "2018": 422, "2020": 356, "2024": 357}
    t = kc.changes_table("2020").set_index("from_code")
    assert t.loc["5030", "to_code"] == "5001" and t.loc["5030", "kind"] == "merge"
    assert t.loc["0402", "kind"] == "rename" and t.loc["0402", "valid_from"] == "2020-01-01"
    assert set(t.loc["5012", "to_code"]) == {"5055", "5056", "5059"} and (t.loc["5012", "kind"] == "split").all()
    t18 = kc.changes_table("2018").set_index("from_code")
    assert t18.loc["0702", "to_code"] == "0715" and t18.loc["0728", "to_code"] == "0712"
    assert t18.loc["0723", "to_code"] == "0729" and t18.loc["1719", "kind"] == "rename"


def test_code_lists_match_published_data(employment):
    for year, system in [(2017, "2017"), (2018, "2018"), (2020, "2020"), (2022, "2020")]:
        assert set(employment[employment.year == year].kommune) == kc.known_codes(system)
    assert kc.code_system_of(employment[employment.year == 2018].kommune) == "2018"
    assert kc.code_system_of(employment[employment.year == 2021].kommune) == "2020"
    assert kc.code_system_of(["1601", "3001"]) == "mixed"
    assert kc.code_system_of(["1234567"]) == "unknown"


def test_mappings_cover_and_land_on_exact_lists():
    for a, b in [("2017", "2018"), ("2018", "2020"), ("2017", "2020"), ("2020", "2024")]:
        m = kc.mapping(a, b)
        assert set(m) == kc.known_codes(a)
        assert {t for ts in m.values() for t in ts} == kc.known_codes(b)
    assert kc.split_codes("2018", "2020") == {"5012": ("5056", "5059", "5055"), "1850": ("1875", "1806"),
                                              "0822": ("3817", "3808"), "1439": ("4602", "4649")}
    assert kc.split_codes("2020", "2024") == {"1507": ("1508", "1580")}
    assert kc.mapping("2018", "2024")["1534"] == ("1580",)  # old Haram = new Haram
    assert kc.mapping("2017", "2024")["1719"] == ("5037",)
    with pytest.raises(InputError, match="backwards"):
        kc.mapping("2020", "2018")


def test_harmonise_2019_to_2020_matches_2020(employment):
    e19 = employment[employment.year == 2019]
    with pytest.raises(InputError, match="5012 Snillfjord -> 5056, 5059, 5055.*on_split='flag'"):
        kc.harmonise(e19, "kommune", VALUES, "2018", "2020")
    h = kc.harmonise(e19, "kommune", VALUES, "2018", "2020", on_split="flag")
    assert h[VALUES].sum().tolist() == e19[VALUES].sum().tolist()  # national totals exact
    assert sorted(h.loc[h.split, "kommune"]) == ["0822", "1439", "1850", "5012"]
    affected = {"0822", "1439", "1850", "5012", "3817", "3808", "4602", "4649", "1875", "1806", "5055", "5056", "5059"}
    mapped = h[~h.kommune.isin(affected)].set_index("kommune")
    assert set(mapped.index) <= kc.known_codes("2020") and len(mapped) == 356 - 9 - 1  # 5061 Rindal absent in 2019
    e20 = employment[employment.year == 2020].set_index("kommune").loc[mapped.index]
    rel = (mapped["population_15_74"] / e20["population_15_74"] - 1).abs()
    assert rel.max() < 0.06  # a year of change; a wrong merge would be off by far more
    jobs_rel = (mapped["employed_by_workplace"] / e20["employed_by_workplace"] - 1).abs()
    assert jobs_rel.median() < 0.02 and jobs_rel.max() < 0.2  # 2020 had covid job losses (Ullensaker -14 %)
    assert mapped.loc["5001", "employed_by_workplace"] == e19.set_index("kommune").loc[["5001", "5030"], "employed_by_workplace"].sum()


def test_harmonise_main_and_bad_input(employment):
    e19 = employment[employment.year == 2019]
    h = kc.harmonise(e19, "kommune", VALUES, "2018", "2020", on_split="main")
    assert set(h.kommune) == kc.known_codes("2020") - {"5061"}
    raw = e19.set_index("kommune")["employed_by_workplace"]
    assert h.set_index("kommune").loc["1875", "employed_by_workplace"] == raw["1849"] + raw["1850"]
    with pytest.raises(InputError, match="not in the 2018 code system.*3001"):
        kc.harmonise(pd.DataFrame({"kommune": ["3001"], "v": [1]}), "kommune", ["v"], "2018", "2020")
    with pytest.raises(InputError, match="on_split"):
        kc.harmonise(e19, "kommune", VALUES, "2018", "2020", on_split="spread")
    with pytest.raises(InputError, match="code lists start in 2017"):
        kc.system_for_year(2010)


def test_harmonise_2020_to_2024_and_commuting_both_columns():
    df = pd.DataFrame({"year": 2022, "home_kommune": ["3024", "3024", "5401", "0301"],
                       "work_kommune": ["0301", "3025", "5401", "3024"], "employed": [27000, 5000, 40000, 9000]})
    h = kc.harmonise(df, "home_kommune", ["employed"], "2020", "2024")
    h = kc.harmonise(h, "work_kommune", ["employed"], "2020", "2024")
    flows = h.set_index(["home_kommune", "work_kommune"])["employed"].to_dict()
    assert flows == {("3201", "0301"): 27000, ("3201", "3203"): 5000, ("5501", "5501"): 40000, ("0301", "3201"): 9000}
    with pytest.raises(InputError, match="1507"):
        kc.harmonise(pd.DataFrame({"kommune": ["1507"], "v": [1]}), "kommune", ["v"], "2020", "2024")


def test_harmonise_refuses_descriptive_columns_unless_keys_given():
    df = pd.DataFrame({"year": 2019, "kommune": ["5001", "5030"], "name": ["Trondheim", "Klæbu"], "v": [10, 2]})
    with pytest.raises(InputError, match="descriptive.*'name'.*keys="):
        kc.harmonise(df, "kommune", ["v"], "2018", "2020")
    out = kc.harmonise(df, "kommune", ["v"], "2018", "2020", keys=["year"])
    assert out.to_dict("records") == [{"year": 2019, "kommune": "5001", "v": 12}]
