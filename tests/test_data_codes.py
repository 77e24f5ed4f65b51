"""Kommune code lists (geoproc.data.codes) and harmonisation between structures with SSB's
redistricting table (geoproc.data.harmonise), checked against the published SSB files."""
from __future__ import annotations

import csv
import gzip

import pandas as pd
import pytest

from centrality.errors import InputError
from geoproc.data import codes as kc
from geoproc.data import harmonise as hm
from tests.conftest import shared_path

VALUES = ["population_15_74", "employed_by_residence", "employed_by_workplace"]


@pytest.fixture(scope="module")
def employment():
    return pd.read_csv(shared_path("ssb", "employment_11618_2017_2022.csv"), dtype={"kommune": str})


@pytest.fixture(scope="module")
def code_table():
    return hm.load_code_table(shared_path())


def test_code_list_sizes_and_systems():
    assert {k: len(v) for k, v in kc.CODE_LISTS.items()} == {"2017": 426, "2018": 422, "2020": 356, "2024": 357}
    assert kc.system_for_year(2019) == "2018" and kc.system_for_year(2023) == "2020" and kc.system_for_year(2026) == "2024"
    with pytest.raises(InputError, match="code lists start in 2017"):
        kc.system_for_year(2010)
    with pytest.raises(InputError, match="not in the 2018 code system.*3001.*geoproc.data.harmonise"):
        kc.check_code_system(["3001"], "2018", "jobs")


def test_code_lists_match_published_data(employment, code_table):
    for year, system in [(2017, "2017"), (2018, "2018"), (2020, "2020"), (2022, "2020")]:
        assert set(employment[employment.year == year].kommune) == kc.known_codes(system)
    assert kc.code_system_of(employment[employment.year == 2018].kommune) == "2018"
    assert kc.code_system_of(employment[employment.year == 2021].kommune) == "2020"
    assert kc.code_system_of(["1601", "3001"]) == "mixed"
    assert kc.code_system_of(["1234567"]) == "unknown"
    # the embedded lists equal the redistricting table's codes of each year, and the 2024 list the
    # codes of the population file (published on the 2024 structure)
    for year, system in [(2017, "2017"), (2018, "2018"), (2020, "2020"), (2024, "2024")]:
        assert code_table.codes(year) == kc.known_codes(system)
    with gzip.open(shared_path("ssb", "population_by_age_sex_2005_2026.csv.gz"), "rt") as fh:
        codes_2026 = {r["kommune"] for r in csv.DictReader(fh) if r["year"] == "2026"}
    assert codes_2026 == kc.known_codes("2024")


def test_mappings_between_structures(code_table):
    m = code_table.mapping(2018, 2020).set_index("code_from")
    assert set(m.index) == kc.known_codes("2018")
    assert set(m["code_to"]) == kc.known_codes("2020")
    assert m.loc["5030", "code_to"] == "5001" and m.loc["5030", "change"] == "merged"      # Klæbu -> Trondheim
    snillfjord = m.loc[["5012"]].set_index("code_to")["weight"].to_dict()
    assert snillfjord == pytest.approx({"5055": 0.35, "5056": 0.35, "5059": 0.30})
    m17 = code_table.mapping(2017, 2020).set_index("code_from")
    assert m17.loc["1719", "code_to"] == "5037" and m17.loc["1719", "change"] == "renumbered"   # Levanger
    # old Haram (1534) is new Haram (1580); every pre-2020 Ålesund predecessor goes wholly to one 2024 kommune
    m24 = code_table.mapping(2018, 2024).set_index("code_from")
    assert m24.loc["1534", "code_to"] == "1580" and m24.loc["1534", "weight"] == 1.0
    assert m24.loc["1504", "code_to"] == "1508" and m24.loc["1504", "weight"] == 1.0
    m20_24 = code_table.mapping(2020, 2024)
    assert set(m20_24.loc[m20_24["change"] == "split", "code_from"]) == {"1507"}
    with pytest.raises(InputError, match="several 2018 kommuner"):
        code_table.mapping(2020, 2018)


def test_harmonise_2019_employment_to_2020(employment, code_table):
    e19 = employment[employment.year == 2019]
    h, report = hm.harmonise(e19, ["kommune"], VALUES, codes=code_table, target=2020, what="11618")
    assert h[VALUES].sum().round(6).tolist() == e19[VALUES].sum().astype(float).tolist()  # national totals exact
    assert set(h.kommune) == kc.known_codes("2020") - {"5061"}                         # Rindal absent in 2019
    splits = report.changes(("split",))
    assert set(splits["code_from"]) == {"5012", "1850"}
    raw = e19.set_index("kommune")["employed_by_workplace"]
    j = h.set_index("kommune")["employed_by_workplace"]
    assert j["5001"] == raw["5001"] + raw["5030"]                                      # merged: summed
    assert j["1875"] == pytest.approx(raw["1849"] + 0.5 * raw["1850"])                 # Hamarøy + half of Tysfjord
    affected = {"1806", "1875", "5055", "5056", "5059"}
    e20 = employment[employment.year == 2020].set_index("kommune")
    mapped = h.set_index("kommune").drop(index=sorted(affected))
    rel = (mapped["population_15_74"] / e20.loc[mapped.index, "population_15_74"] - 1).abs()
    assert rel.max() < 0.06  # a year of change; a wrong merge would be off by far more
    assert "1850 → 1806 0.50/1875 0.50 (code table)" in " ".join(report.summary())


def test_harmonise_2020_to_2024_both_columns_and_alesund_by_population(code_table):
    df = pd.DataFrame({"year": 2022, "home_kommune": ["3024", "3024", "5401", "0301"],
                       "work_kommune": ["0301", "3025", "5401", "3024"], "employed": [27000, 5000, 40000, 9000]})
    h, _ = hm.harmonise(df, ["home_kommune", "work_kommune"], ["employed"], codes=code_table, target=2024)
    flows = h.set_index(["home_kommune", "work_kommune"])["employed"].to_dict()
    assert flows == {("3201", "0301"): 27000, ("3201", "3203"): 5000, ("5501", "5501"): 40000, ("0301", "3201"): 9000}
    # 1507 Ålesund (2020) split into 1508 Ålesund and 1580 Haram: by their population shares of the year
    pop = pd.DataFrame({"year": 2022, "kommune": ["1508", "1580"], "population": [57_000, 9_500]})
    out, report = hm.harmonise(pd.DataFrame({"year": [2022], "kommune": ["1507"], "v": [1000.0]}), ["kommune"], ["v"],
                               codes=code_table, target=2024, population=pop)
    assert out.set_index("kommune")["v"].to_dict() == pytest.approx({"1508": 1000 * 57 / 66.5, "1580": 1000 * 9.5 / 66.5})
    assert set(report.table["weight_source"]) == {"population shares 2022"}
