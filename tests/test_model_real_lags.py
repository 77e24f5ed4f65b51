"""VRA_t, VRA_t-1, VRA_t-2 on real SSB data (2021, 2022): jobs 2018–2019 are published in 2018
kommune codes and lack Rindal in 2019, so they go through loaders.load_jobs_series (harmonised to
2020 codes with SSB's redistricting table, approximations flagged). Hand checks use the raw CSV
rows (csv module, plain dicts), including the raw redistricting table ssb/kommune_codes_to_2024.csv.
Also: BA regions without a region (Jevnaker, Lunner, Rindal) and a synthetic load_jobs_series.
"""
from __future__ import annotations

import csv
import math
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from centrality.errors import InputError
from geoproc.data import codes as kc
from geoproc.data import loaders
from geoproc.model import expected, vra
from geoproc.model.params import PUBLISHED_MODELS
from tests.conftest import shared_path

SPLIT_SUCCESSORS = ["1806", "1875", "5055", "5056", "5059"]   # of 1850 Tysfjord and 5012 Snillfjord
RINDAL_2019 = math.sqrt(840 * 833)  # raw 2018 (code 1567) and 2020 (5061) employed_by_workplace


@pytest.fixture(scope="module")
def data_dir():
    shared_path("ssb", "employment_11618_2017_2022.csv")
    return shared_path()


@pytest.fixture(scope="module")
def jobs(data_dir):
    return loaders.load_jobs_series(data_dir, years=range(2018, 2023))


@pytest.fixture(scope="module")
def commuting(data_dir):
    return loaders.load_commuting(data_dir)  # 2020–2022, 2020 codes


@pytest.fixture(scope="module")
def lagged(commuting, jobs):
    return vra.vra_with_lags(commuting, jobs, [2021, 2022], lags=2)


def _raw(name: str):
    with open(shared_path("ssb", name), newline="", encoding="utf-8") as fh:
        yield from csv.DictReader(fh)


def _to2020(year: int) -> dict[str, list[tuple[str, float]]]:
    """From the raw redistricting rows: code of ``year`` -> [(2020 code, weight)], through 2024."""
    rows = list(_raw("kommune_codes_to_2024.csv"))
    back = {r["kommune_2024"]: r["kommune_original"] for r in rows if r["year"] == "2020"}
    out: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for r in rows:
        if r["year"] == str(year):
            out[r["kommune_original"]].append((back[r["kommune_2024"]], float(r["weight"])))
    merged = {}
    for code, pairs in out.items():
        acc: dict[str, float] = defaultdict(float)
        for c20, w in pairs:
            acc[c20] += w
        total = sum(acc.values())
        merged[code] = [(c20, w / total) for c20, w in acc.items()]
    return merged


def _hand_jobs() -> dict[tuple[int, str], float]:
    """Jobs by (year, 2020 code) from the raw rows: older codes mapped with the raw redistricting
    table (split kommuner divided by its weights), summed; Rindal 2019 geometric interpolation."""
    maps = {y: _to2020(y) for y in (2018, 2019)}
    jobs: dict[tuple[int, str], float] = defaultdict(float)
    for r in _raw("employment_11618_2017_2022.csv"):
        year = int(r["year"])
        if 2018 <= year <= 2022:
            pairs = maps[year][r["kommune"]] if year < 2020 else [(r["kommune"], 1.0)]
            for code, w in pairs:
                jobs[(year, code)] += float(r["employed_by_workplace"]) * w
    jobs[(2019, "5061")] = RINDAL_2019
    return jobs


def _hand_vra(home: str, vra_year: int, shares_year: int) -> float:
    jobs = _hand_jobs()
    total = {y: sum(v for (yy, _), v in jobs.items() if yy == y) for y in (vra_year - 1, vra_year)}
    national = total[vra_year] / total[vra_year - 1] - 1
    flows = {r["work_kommune"]: float(r["employed"]) for r in _raw("commuting_03321_2020_2022.csv")
             if int(r["year"]) == shares_year and r["home_kommune"] == home}
    n = sum(flows.values())
    return sum(e / n * (jobs[(vra_year, w)] / jobs[(vra_year - 1, w)] - 1 - national) for w, e in flows.items())


def test_jobs_series_harmonised_to_2020_codes(jobs):
    assert jobs.groupby("year").size().tolist() == [356] * 5
    assert set(jobs["kommune"]) == kc.known_codes("2020")
    totals = jobs.groupby("year")["jobs"].sum()
    # README totals: merges and main-successor splits keep the national sum; 2019 lacks Rindal in the source
    assert totals[2018] == 2_667_158 and totals[2020] == 2_673_248 and totals[2022] == 2_809_789
    assert totals[2019] == pytest.approx(2_691_643 + RINDAL_2019, abs=1e-6)
    # Trondheim 2020 = 2018-code Trondheim 5001 + Klæbu 5030 (merged 2020): the code table says so ...
    assert _to2020(2018)["5030"] == [("5001", 1.0)]
    raw = {(int(r["year"]), r["kommune"]): int(r["employed_by_workplace"]) for r in _raw("employment_11618_2017_2022.csv")}
    j = jobs.set_index(["year", "kommune"])["jobs"]
    for year in (2018, 2019):  # ... and the harmonised series sums the raw rows
        assert j[(year, "5001")] == raw[(year, "5001")] + raw[(year, "5030")]
    growth = j[(2020, "5001")] / (raw[(2019, "5001")] + raw[(2019, "5030")]) - 1
    got = vra.job_growth(jobs, years=[2020]).set_index("kommune").loc["5001", "growth"]
    assert got == pytest.approx(growth, abs=1e-15) and got == pytest.approx(121225 / 121245 - 1)
    # Rindal 2019 imputed (flagged), every split successor flagged before 2020, nothing else
    flagged = jobs[jobs["imputed"]]
    assert flagged[["year", "kommune"]].values.tolist() == [[2019, "5061"]]
    assert j[(2019, "5061")] == pytest.approx(RINDAL_2019)
    split = jobs[jobs["split"]]
    assert sorted(split["year"].unique()) == [2018, 2019]
    assert sorted(split["kommune"].unique()) == SPLIT_SUCCESSORS
    warnings = " ".join(jobs.attrs["warnings"])
    assert "5061 2019" in warnings and "code table's weights" in warnings


def test_vra_and_lags_2021_2022_all_kommuner(lagged):
    assert lagged.groupby("year").size().tolist() == [356, 356]
    assert not lagged[["vra_t", "vra_t1", "vra_t2"]].isna().any().any()
    clean = lagged[lagged["jobs_flag"] == ""]
    assert clean[["vra_t", "vra_t1", "vra_t2"]].abs().max().max() < 0.15  # plausible everywhere unflagged
    # the flag marks approximate growth: 1875 Hamarøy's 2019 jobs hold half of Tysfjord's (the code
    # table's weight). Giving it ALL of Tysfjord (the old main-successor rule) made its 2020 growth
    # 1 245 / 1 587 − 1 = −21.6 %; with the weights it is 1 245 / 1 212 − 1 = +2.7 %, and VRA plausible
    ham = lagged.set_index(["year", "kommune"]).loc[(2021, "1875")]
    assert ham["jobs_flag"] == "split 2018, 2019" and abs(ham["vra_t1"]) < 0.05
    # shares: own year when available, else the nearest (2019 -> 2020 shares)
    assert lagged.attrs["commuting_year_used"] == {(2021, 2021): 2021, (2021, 2020): 2020, (2021, 2019): 2020,
                                                   (2022, 2022): 2022, (2022, 2021): 2021, (2022, 2020): 2020}
    flags = lagged.set_index(["year", "kommune"])["jobs_flag"]
    assert flags[(2021, "5061")] == "imputed 2019" and flags[(2022, "5061")] == "imputed 2019"
    assert flags[(2021, "5059")] == "split 2018, 2019" and flags[(2022, "5059")] == "split 2019"
    assert set(lagged.loc[lagged["jobs_flag"] != "", "kommune"]) == set(SPLIT_SUCCESSORS) | {"5061"}
    # the 2022 lag 1 equals the 2021 current value (same shares, same jobs)
    v = lagged.set_index(["year", "kommune"])
    assert np.allclose(v.xs(2022)["vra_t1"], v.xs(2021)["vra_t"].reindex(v.xs(2022).index), atol=1e-15)


@pytest.mark.parametrize("home,target,col,vra_year,shares_year", [
    ("5035", 2022, "vra_t1", 2021, 2021),   # Stjørdal VRA_{2022-1}: all 2020 codes
    ("5035", 2021, "vra_t2", 2019, 2020),   # Stjørdal VRA_{2021-2}: 2018/2019 jobs harmonised
    ("5001", 2022, "vra_t2", 2020, 2020),   # Trondheim VRA_{2022-2}: growth 2019->2020 across the reform
    ("5061", 2021, "vra_t1", 2020, 2020),   # Rindal VRA_{2021-1}: uses the imputed 2019 jobs
])
def test_vra_lag_by_hand(lagged, home, target, col, vra_year, shares_year):
    got = lagged.set_index(["year", "kommune"]).loc[(target, home), col]
    assert got == pytest.approx(_hand_vra(home, vra_year, shares_year), abs=1e-13)


def test_expected_contributions_of_vra_terms_model4(lagged, data_dir):
    model4 = PUBLISHED_MODELS["model4"]
    assert model4.vra == (0.1360559, 0.0962927, 0.0531233)
    contrib = expected.term_contributions(lagged, model4, terms=["vra_t", "vra_t1", "vra_t2"])
    assert len(contrib) == 712 and not contrib.isna().any().any()
    row = contrib.set_index(["year", "kommune"]).loc[(2022, "5035")]
    hand = [_hand_vra("5035", 2022, 2022), _hand_vra("5035", 2021, 2021), _hand_vra("5035", 2020, 2020)]
    assert row["vra_t"] == pytest.approx(0.1360559 * hand[0], abs=1e-15)
    assert row["vra_t1"] == pytest.approx(0.0962927 * hand[1], abs=1e-15)
    assert row["vra_t2"] == pytest.approx(0.0531233 * hand[2], abs=1e-15)
    # in persons with the 1 January 2021 population (Stjørdal 2021): sum of the three VRA terms
    pop = loaders.load_population_by_age(data_dir, years=[2021])
    p = pop[pop["kommune"] == "5035"]["population"].sum()
    persons = contrib.set_index(["year", "kommune"]).loc[(2021, "5035"), ["vra_t", "vra_t1", "vra_t2"]].sum() * p
    hand21 = (0.1360559 * _hand_vra("5035", 2021, 2021) + 0.0962927 * _hand_vra("5035", 2020, 2020)
              + 0.0531233 * _hand_vra("5035", 2019, 2020)) * p
    assert persons == pytest.approx(hand21, abs=1e-9)
    assert abs(persons) < 0.01 * p  # VRA terms move a kommune by well under 1 % of its population per year


def test_region_vra_needs_every_kommune_in_a_region(data_dir, commuting, jobs):
    raw = loaders.load_regions(data_dir)
    regions = raw.rename(columns={"ba_region_code": "region"})[["kommune", "region"]]
    with pytest.raises(InputError, match=r"kommuner 3053, 3054, 5061 have no region.*fill_missing='own'"):
        vra.region_vra(commuting, jobs, regions, [2022], lags=2)
    filled = loaders.load_regions(data_dir, fill_missing="own")
    assert filled.attrs["filled_regions"] == ["3053", "3054", "5061"]
    assert filled.set_index("kommune").loc["3053", "ba_region_code"] == "k3053"
    assert filled.set_index("kommune").loc["0301", "ba_region_code"] == "005"  # others untouched
    reg = filled.rename(columns={"ba_region_code": "region"})[["kommune", "region"]]
    out = vra.region_vra(commuting, jobs, reg, [2021, 2022], lags=2)
    assert out.groupby("year").size().tolist() == [162, 162]
    assert not out[["vra_t", "vra_t1", "vra_t2"]].isna().any().any()


# ----------------------------------------------------------------------- synthetic (no ../shared)
def _write_employment(tmp_path, rows):
    ssb = tmp_path / "ssb"
    ssb.mkdir()
    df = pd.DataFrame(rows, columns=["year", "kommune", "employed_by_workplace"])
    df = df.assign(population_15_74=df["employed_by_workplace"] * 2, employed_by_residence=df["employed_by_workplace"])
    df[["year", "kommune", "population_15_74", "employed_by_residence", "employed_by_workplace"]].to_csv(
        ssb / loaders.EMPLOYMENT_FILE, index=False)
    # the redistricting table of this little country: Klæbu 5030 joins Trondheim, Rindal 1567 -> 5061
    codes = [(y, "5001", "5001", 1.0) for y in (2018, 2019, 2020, 2024)] + \
        [(y, "5030", "5001", 1.0) for y in (2018, 2019)] + [(y, "1567", "5061", 1.0) for y in (2018, 2019)] + \
        [(y, "5061", "5061", 1.0) for y in (2020, 2024)]
    pd.DataFrame(codes, columns=["year", "kommune_original", "kommune_2024", "weight"]).to_csv(
        ssb / "kommune_codes_to_2024.csv", index=False)
    return tmp_path


def test_load_jobs_series_synthetic_merge_and_gap(tmp_path):
    # 2018 codes: Trondheim 5001 + Klæbu 5030 merge into 5001; Rindal 1567 -> 5061, missing in 2019
    rows = [(2018, "5001", 100), (2018, "5030", 10), (2018, "1567", 40),
            (2019, "5001", 104), (2019, "5030", 11),
            (2020, "5001", 120), (2020, "5061", 90)]
    out = loaders.load_jobs_series(_write_employment(tmp_path, rows), years=[2018, 2019, 2020])
    j = out.set_index(["year", "kommune"])["jobs"]
    assert j[(2018, "5001")] == 110 and j[(2019, "5001")] == 115 and j[(2018, "5061")] == 40
    assert j[(2019, "5061")] == pytest.approx(60.0)  # sqrt(40 * 90)
    assert out.loc[out["imputed"], "kommune"].tolist() == ["5061"]
    with pytest.raises(InputError, match=r"jobs are missing for 5061 2019.*fill_gaps='interpolate'"):
        loaders.load_jobs_series(tmp_path, years=[2018, 2019, 2020], fill_gaps="raise")
    with pytest.raises(InputError, match=r"missing for 5061 2019.*interior gaps only"):
        loaders.load_jobs_series(tmp_path, years=[2019, 2020])  # gap at the first year: no interpolation


def test_load_jobs_series_split_policy(data_dir):
    with pytest.raises(InputError, match=r"split between several 2020 kommuner.*5012 \(2019\) -> 5055, 5056, 5059"):
        loaders.load_jobs_series(data_dir, years=[2019, 2020], on_split="raise")
    with pytest.raises(InputError, match="on_split must be 'weights'"):
        loaders.load_jobs_series(data_dir, years=[2019, 2020], on_split="flag")
    same = loaders.load_jobs_series(data_dir, years=[2020, 2021, 2022], to_system=None)
    assert len(same) == 3 * 356 and not same["split"].any() and same.attrs["warnings"] == []
