"""VRA options, sentny for regions and DS details, checked against hand calculations."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geoproc.model import centrality_term, ds, vra

A, B = "0301", "3024"


def _jobs() -> pd.DataFrame:
    # growth: A 2020 +10 %, 2021 0 %, 2022 +5 %; B 2020 0 %, 2021 +20 %, 2022 -5 %
    level = {A: [1000, 1100, 1100, 1155], B: [1000, 1000, 1200, 1140]}
    return pd.DataFrame([(2019 + i, k, float(v)) for k, vs in level.items() for i, v in enumerate(vs)],
                        columns=["year", "kommune", "jobs"])


def _commuting() -> pd.DataFrame:
    # A residents: 2021 all work in A; 2022 half in B. B residents always work in B.
    rows = [(2021, A, A, 100), (2021, B, B, 50), (2022, A, A, 50), (2022, A, B, 50), (2022, B, B, 50)]
    return pd.DataFrame(rows, columns=["year", "home_kommune", "work_kommune", "employed"])


def _ra(year: int) -> dict[str, float]:
    j = _jobs().pivot(index="kommune", columns="year", values="jobs")
    nat = j[year].sum() / j[year - 1].sum() - 1
    return {k: j.loc[k, year] / j.loc[k, year - 1] - 1 - nat for k in (A, B)}


def test_lag_shares_own_uses_each_years_matrix_and_nearest_fallback():
    out = vra.vra_with_lags(_commuting(), _jobs(), [2022], lags=2, split=True).set_index("kommune")
    ra21, ra22, ra20 = _ra(2021), _ra(2022), _ra(2020)
    assert out.loc[A, "vra_t"] == pytest.approx(0.5 * ra22[A] + 0.5 * ra22[B])   # 2022 shares
    assert out.loc[A, "vra_t1"] == pytest.approx(ra21[A])                        # 2021 shares: all in A
    assert out.loc[A, "vra_t2"] == pytest.approx(ra20[A])                        # no 2020 matrix: nearest = 2021
    assert out.attrs["commuting_year_used"] == {(2022, 2022): 2022, (2022, 2021): 2021, (2022, 2020): 2021}
    assert out.loc[A, "vra_t_own"] == pytest.approx(0.5 * ra22[A])
    assert out.loc[A, "vra_t_neighbour"] == pytest.approx(0.5 * ra22[B])


def test_lag_shares_same_uses_target_years_matrix():
    out = vra.vra_with_lags(_commuting(), _jobs(), [2022], lags=2, lag_shares="same").set_index("kommune")
    ra21, ra20 = _ra(2021), _ra(2020)
    assert out.loc[A, "vra_t1"] == pytest.approx(0.5 * ra21[A] + 0.5 * ra21[B])
    assert out.loc[A, "vra_t2"] == pytest.approx(0.5 * ra20[A] + 0.5 * ra20[B])
    assert out.attrs["commuting_year_used"] == {(2022, 2022): 2022, (2022, 2021): 2022, (2022, 2020): 2022}


def test_vra_from_shares_matches_table_form():
    shares = pd.DataFrame({"home_kommune": [A, A, B], "work_kommune": [A, B, B], "share": [0.25, 0.75, 1.0]})
    ra = pd.Series({A: 0.02, B: -0.01})
    out = vra.vra_from_shares(shares, ra).set_index("kommune")["vra"]
    assert out[A] == pytest.approx(0.25 * 0.02 - 0.75 * 0.01)
    assert out[B] == pytest.approx(-0.01)


def test_region_sentny_population_weighted_then_centred():
    index = pd.DataFrame({"kommune": ["0001", "0002", "0003", "0004"], "index": [900.0, 700.0, 600.0, 400.0]})
    pop = pd.DataFrame({"kommune": ["0001", "0002", "0003", "0004"], "population": [3000, 1000, 500, 1500]})
    regions = pd.DataFrame({"kommune": ["0001", "0002", "0003", "0004"], "region": ["R1", "R1", "R2", "R2"]})
    out = centrality_term.sentny(index, pop, regions).set_index("region")
    r1, r2 = (900 * 3000 + 700 * 1000) / 4000 / 1000, (600 * 500 + 400 * 1500) / 2000 / 1000
    assert out.loc["R1", "index"] == pytest.approx(r1 * 1000)
    assert out.loc["R1", "sentny"] == pytest.approx(r1 - (r1 + r2) / 2)
    assert out.loc["R2", "sentny"] == pytest.approx(r2 - (r1 + r2) / 2)
    given = centrality_term.sentny(index, mean=0.6433).set_index("kommune")
    assert given.loc["0001", "sentny"] == pytest.approx(0.9 - 0.6433)


def test_ds_abs_by_hand_with_and_without_e_in_death_term():
    rates = pd.DataFrame({"sex": ["female"] * 60, "age": range(15, 75), "rate": 0.0})
    rates.loc[rates["age"] == 15, "rate"] = 0.3
    rates.loc[rates["age"] == 16, "rate"] = 0.5
    rates.loc[rates["age"] == 74, "rate"] = 0.1
    q = pd.DataFrame({"sex": "female", "age": range(0, 106), "q": 0.01})
    pop = pd.DataFrame({"year": 2021, "kommune": "0001", "sex": "female", "age": [14, 15, 74, 80],
                        "population": [100.0, 200.0, 50.0, 999.0]})
    # age 14: 100·(0.3 − 0) − 100·0.01·0 ; age 15: 200·(0.5 − 0.3) − 200·0.01·0.3 ; age 74: 50·(0 − 0.1) − 50·0.01·0.1
    with_e = ds.ds_abs(pop, rates, q)["ds_abs"].iloc[0]
    assert with_e == pytest.approx(30 + (40 - 0.6) + (-5 - 0.05))
    # printed formula: death term P·q without e (ages 14–74 all count)
    without = ds.ds_abs(pop, rates, q, death_term_times_e=False)["ds_abs"].iloc[0]
    assert without == pytest.approx(30 - 1 + 40 - 2 - 5 - 0.5)


def test_ds_centred_and_divided_by_jobs():
    rates, q = ds.illustrative_employment_rates(), ds.illustrative_death_probabilities()
    pop = pd.DataFrame([(2021, k, s, a, n) for k, n in (("0001", 100.0), ("0002", 300.0))
                        for s in ("female", "male") for a in range(0, 90)],
                       columns=["year", "kommune", "sex", "age", "population"])
    pop.loc[(pop["kommune"] == "0002") & (pop["age"] > 60), "population"] = 50.0
    jobs = pd.DataFrame({"year": [2021, 2021, 2020, 2020], "kommune": ["0001", "0002"] * 2,
                         "jobs": [4000.0, 9000.0, 1.0, 1.0]})
    out = ds.demographic_supply(pop, jobs, rates, q).set_index("kommune")
    absolute = ds.ds_abs(pop, rates, q).set_index("kommune")["ds_abs"]
    raw = absolute / pd.Series({"0001": 4000.0, "0002": 9000.0})
    assert out["ds_raw"].to_numpy() == pytest.approx(raw.to_numpy())
    assert out["ds"].to_numpy() == pytest.approx((raw - raw.mean()).to_numpy())
    lagged = ds.demographic_supply(pop, jobs, rates, q, jobs_year_offset=-1)
    assert lagged["jobs"].tolist() == [1.0, 1.0]


def test_illustrative_schedules_are_labelled_and_plausible():
    e = ds.illustrative_employment_rates()
    assert e.attrs["illustrative"] and set(e["age"]) == set(range(15, 75))
    peak = e.groupby("sex")["rate"].max()
    assert 0.75 < peak["female"] < peak["male"] < 0.9
    q = ds.illustrative_death_probabilities().set_index(["sex", "age"])["q"]
    assert q[("male", 80)] > q[("female", 80)] > q[("female", 40)]
    assert np.all(np.diff(q.loc["male"].to_numpy()[20:]) > 0)
    pop = pd.DataFrame({"sex": ["female", "male"], "age": [40, 40], "population": [1000.0, 1000.0]})
    cal = ds.calibrate_employment_rates(e, pop, 1500.0)
    merged = pop.merge(cal, on=["sex", "age"])
    assert (merged["population"] * merged["rate"]).sum() == pytest.approx(1500.0)


def test_region_sentny_with_yearly_population():
    index = pd.DataFrame({"kommune": ["0001", "0002"], "index": [900.0, 500.0]})
    pop = pd.DataFrame({"year": [2020, 2020, 2021, 2021], "kommune": ["0001", "0002"] * 2,
                        "population": [100.0, 300.0, 300.0, 100.0]})
    regions = pd.DataFrame({"kommune": ["0001", "0002"], "region": ["R", "R"]})
    out = centrality_term.sentny(index, pop, regions, mean=0.6).set_index("year")
    assert out.loc[2020, "index"] == pytest.approx(600.0) and out.loc[2021, "index"] == pytest.approx(800.0)
    assert out.loc[2021, "sentny"] == pytest.approx(0.2)
