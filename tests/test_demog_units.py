"""Hand-computed cases for the real-data demography (issue 10): harmonisation, national schedules,
the cohort-component net migration estimate, DS arrays, the projection step with historical
migration rates, the projection migration model and the SSB 09588 reader. No shared data needed."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from centrality.errors import InputError
from geoproc.data import harmonise as hm
from geoproc.data.assembly import read_ssb_net_migration
from geoproc.data.national import NationalDemography, death_probability_from_rate, national_net_migration
from geoproc.model import ds as dsm
from geoproc.model import migration_model as mm
from geoproc.model import netmigration as nmm
from geoproc.model import project as pj
from geoproc.model.params import ModelParams


# ------------------------------------------------------------------------------ harmonisation
def _codes() -> hm.CodeTable:
    """2019: A1+A2 merge into N1, S splits 0.4/0.6 into N2/N3, R is renumbered (N4 in 2024, T4 in 2020)."""
    rows = [(2019, "0001", "1001", 1.0), (2019, "0002", "1001", 1.0), (2019, "0003", "1002", 0.4),
            (2019, "0003", "1003", 0.6), (2019, "0004", "1004", 1.0),
            (2020, "1001", "1001", 1.0), (2020, "1002", "1002", 1.0), (2020, "1003", "1003", 1.0),
            (2020, "2004", "1004", 1.0),
            (2024, "1001", "1001", 1.0), (2024, "1002", "1002", 1.0), (2024, "1003", "1003", 1.0),
            (2024, "1004", "1004", 1.0)]
    return hm.CodeTable(pd.DataFrame(rows, columns=["year", "kommune_original", "kommune_2024", "weight"]))


def test_harmonise_merge_split_renumber_drop_by_hand():
    df = pd.DataFrame({"year": 2019, "kommune": ["0001", "0002", "0003", "0004", "9999"],
                       "jobs": [10, 5, 100, 7, 3]})
    out, report = hm.harmonise(df, ["kommune"], ["jobs"], codes=_codes(), target=2020, what="jobs")
    got = out.set_index("kommune")["jobs"].to_dict()
    assert got == {"1001": 15, "1002": 40, "1003": 60, "2004": 7}
    kinds = report.table.drop_duplicates("code_from").set_index("code_from")["change"].to_dict()
    assert kinds == {"0001": "merged", "0002": "merged", "0003": "split", "0004": "renumbered", "9999": "dropped"}
    assert report.table.loc[report.table["change"] == "dropped", "value"].item() == 3
    text = " ".join(report.summary())
    assert "2 merged" in text and "1 split" in text and "1 renumbered" in text and "9999 (3)" in text
    assert "0003 → 1002 0.40/1003 0.60" in text


def test_harmonise_matrix_multiplies_weights_and_keeps_totals():
    df = pd.DataFrame({"year": 2019, "home": ["0003", "0001"], "work": ["0003", "0003"], "employed": [10, 20]})
    out, _ = hm.harmonise(df, ["home", "work"], ["employed"], codes=_codes(), target=2020)
    m = out.set_index(["home", "work"])["employed"]
    assert m[("1002", "1002")] == pytest.approx(10 * 0.4 * 0.4)
    assert m[("1002", "1003")] == pytest.approx(10 * 0.4 * 0.6)
    assert m[("1001", "1003")] == pytest.approx(20 * 0.6)
    assert out["employed"].sum() == pytest.approx(30.0)


def test_split_weights_from_population_shares_when_successors_are_the_pieces():
    df = pd.DataFrame({"year": 2019, "kommune": ["0003"], "persons": [100]})
    pop = pd.DataFrame({"year": 2019, "kommune": ["1002", "1003"], "population": [300, 100]})
    out, report = hm.harmonise(df, ["kommune"], ["persons"], codes=_codes(), target=2020, population=pop)
    assert out.set_index("kommune")["persons"].to_dict() == {"1002": 75, "1003": 25}
    assert set(report.table["weight_source"]) == {"population shares 2019"}


def test_harmonise_to_a_structure_before_a_merger_is_refused():
    codes = _codes()
    df = pd.DataFrame({"year": 2024, "kommune": ["1001"], "v": [1]})
    table = codes.table.copy()
    extra = pd.DataFrame([(2021, "0001", "1001", 1.0), (2021, "0002", "1001", 1.0)],
                         columns=table.columns)
    codes = hm.CodeTable(pd.concat([table, extra], ignore_index=True))
    with pytest.raises(InputError, match="comes from several"):
        hm.harmonise(df, ["kommune"], ["v"], codes=codes, target=2021)


# ------------------------------------------------------------------------------ national schedules
def test_death_probability_from_rate_by_hand():
    m = np.array([0.03397, 0.04669, 0.004])
    q = death_probability_from_rate(m, np.array([80, 80, 0]), np.array(["female", "male", "male"]))
    assert q[0] == pytest.approx(0.03397 / (1 + 0.03397 / 2), rel=1e-12)   # 0.0334027...
    assert q[1] == pytest.approx(0.04669 / (1 + 0.04669 / 2), rel=1e-12)
    a0 = 0.14929 - 1.99545 * 0.004                                         # HMD a0 for boys
    assert q[2] == pytest.approx(0.004 / (1 + (1 - a0) * 0.004), rel=1e-12)


def _national(m80: float = 0.1, deaths: float = 12.0, births: float = 30.0, f30: float = 0.1) -> NationalDemography:
    ages = np.arange(106)
    rows = []
    for sex in ("female", "male"):
        m = np.where(ages == 80, m80, 0.0)
        d = np.zeros(106)
        if sex == "male":
            d[80] = deaths
        q = death_probability_from_rate(m, ages, np.full(106, sex))
        rows.append(pd.DataFrame({"year": 2000, "sex": sex, "age": ages, "deaths": d, "exposure": 1.0, "m": m, "q": q}))
    mort = pd.concat(rows, ignore_index=True)
    fert = pd.DataFrame({"year": 2000, "age": np.arange(12, 56), "rate": np.where(np.arange(12, 56) == 30, f30, 0.0)})
    b = pd.DataFrame({"year": [2000], "female": [births / 2], "male": [births / 2], "total": [births]})
    return NationalDemography(mortality=mort, fertility=fert, births=b)


def _tidy(cells: dict, year: int) -> pd.DataFrame:
    rows = [(year, k, s, a, v) for (k, s, a), v in cells.items()]
    return pd.DataFrame(rows, columns=["year", "kommune", "sex", "age", "population"])


POP_2000 = {("1001", "female", 29): 100, ("1001", "female", 30): 100, ("1001", "male", 80): 50,
            ("1002", "female", 29): 50, ("1002", "female", 30): 50, ("1002", "male", 80): 100}
POP_2001 = {("1001", "female", 0): 6, ("1001", "male", 0): 6, ("1001", "female", 30): 102,
            ("1001", "female", 31): 100, ("1001", "male", 81): 46,
            ("1002", "female", 0): 2, ("1002", "male", 0): 2, ("1002", "female", 30): 50,
            ("1002", "female", 31): 48, ("1002", "male", 81): 90}


def test_net_migration_estimate_by_hand():
    """Expected births: f(30)·(W30 + W29)/2 = 0.1·100 = 10 (A) and 5 (B). Fertility levels from the
    0-year-olds: (12/10)/(16/15) = 1.125 and (4/5)/(16/15) = 0.75, so births 30·11.25/15 = 22.5 and
    7.5. Deaths at 80 with q(80) = 0.1/1.05, q(81) = 0: P·(q80 + q81)/2 = 2.381 (A), 4.762 (B),
    calibrated to the national 12: 4 and 8. NM = P1 − P0 − B + D: A 260 − 250 − 22.5 + 4 = −8.5,
    B 192 − 200 − 7.5 + 8 = −7.5; Norway 452 − 450 − 30 + 12 = −16."""
    pop = pd.concat([_tidy(POP_2000, 2000), _tidy(POP_2001, 2001)], ignore_index=True)
    est = nmm.estimate_net_migration(pop, _national(), fertility_window=None)
    t = est.table.set_index("kommune")
    assert t.loc["1001", "fertility_level"] == pytest.approx(1.125)
    assert t.loc["1002", "fertility_level"] == pytest.approx(0.75)
    assert t.loc["1001", "births"] == pytest.approx(22.5) and t.loc["1002", "births"] == pytest.approx(7.5)
    assert t.loc["1001", "deaths"] == pytest.approx(4.0) and t.loc["1002", "deaths"] == pytest.approx(8.0)
    assert t.loc["1001", "net_migration"] == pytest.approx(-8.5) and t.loc["1002", "net_migration"] == pytest.approx(-7.5)
    nat = est.national.iloc[0]
    assert nat["net_migration"] == pytest.approx(-16.0) and nat["difference"] == pytest.approx(0.0, abs=1e-12)
    assert est.method == nmm.METHOD_ESTIMATED
    # by end-of-year age: survivors aged 30/31 and newborns; the cells add up to each kommune's NM
    assert est.by_age.sum(axis=(2, 3))[0] == pytest.approx([-8.5, -7.5])
    a = est.by_age[0, 0]
    assert a[0, 31] == pytest.approx(0.0)                      # 100 women aged 30 -> 100 aged 31: no migration
    assert a[0, 30] == pytest.approx(2.0)                      # 100 aged 29 -> 102 aged 30: +2
    assert a[1, 81] == pytest.approx(46 - (50 - 4.0))          # 50 men aged 80, 4 deaths, 46 on 1 January
    assert a[0, 0] + a[1, 0] == pytest.approx(12 - 22.5)       # infants: 12 counted, 22.5 born, none died


def test_national_identity_with_estimated_births_for_missing_years():
    pop = pd.DataFrame({"year": [2000, 2001, 2002], "population": [450.0, 452.0, 460.0]})
    out = national_net_migration(pop, _national(), estimated_births=pd.Series({2001: 31.0}),
                                 estimated_deaths=pd.Series({2001: 10.0}))
    rows = out.set_index("year")
    assert rows.loc[2000, "net_migration"] == pytest.approx(452 - 450 - 30 + 12)
    assert rows.loc[2001, "net_migration"] == pytest.approx(460 - 452 - 31 + 10)
    assert rows.loc[2001, "births_source"].startswith("estimated")
    assert rows.loc[2000, "births_source"] == "national file"


def test_schedule_after_the_data_is_carried_forward_and_said_so():
    nat = _national()
    f = nat.fertility_rates(2005)
    assert f.attrs["year_used"] == 2000 and "carried forward" in f.attrs["note"]
    assert np.array_equal(nat.f_array(2005), nat.f_array(2000))
    assert any("carried forward" in n for n in nat.notes())
    with pytest.raises(InputError, match="starts in 2000"):
        nat.q_array(1999)


# ------------------------------------------------------------------------------ DS arrays
def test_ds_abs_array_equals_table_version_and_hand_value():
    e = pd.DataFrame({"sex": ["female"] * 60 + ["male"] * 60, "age": list(range(15, 75)) * 2,
                      "rate": [0.5] * 60 + [0.6] * 60})
    q = pd.DataFrame({"sex": ["female"] * 106 + ["male"] * 106, "age": list(range(106)) * 2, "q": 0.01})
    pop = pd.DataFrame({"year": 2020, "kommune": "1001", "sex": ["female", "male", "male"], "age": [14, 40, 74],
                        "population": [100, 200, 50]})
    table = dsm.ds_abs(pop, e, q)["ds_abs"].item()
    arr = np.zeros((1, 2, 106))
    arr[0, 0, 14], arr[0, 1, 40], arr[0, 1, 74] = 100, 200, 50
    got = dsm.ds_abs_array(arr, dsm.employment_array(e), np.full((2, 106), 0.01))[0]
    # by hand: 14-year-old girls enter (e15 − e14 = 0.5), the 40-year-old men lose deaths 200·0.01·0.6,
    # the 74-year-old men exit (e75 − e74 = −0.6) and die 50·0.01·0.6
    by_hand = 100 * 0.5 - 200 * 0.01 * 0.6 + 50 * (-0.6) - 50 * 0.01 * 0.6
    assert got == pytest.approx(by_hand) and table == pytest.approx(by_hand)


def test_employment_profile_shape_and_calibration():
    prof = dsm.employment_profile()
    wide = prof.pivot(index="age", columns="sex", values="rate")
    assert wide.index.min() == 15 and wide.index.max() == 74
    assert (wide.loc[30:50] > 0.8).all().all() and (wide.loc[70:74] < 0.2).all().all()
    assert wide.loc[62:67, "male"].is_monotonic_decreasing and wide.loc[62:67, "female"].is_monotonic_decreasing
    pop = pd.DataFrame({"year": 2021, "kommune": "1001", "sex": ["female", "male"], "age": [30, 30],
                        "population": [1000, 1000]})
    emp = pd.DataFrame({"year": [2020], "kommune": ["1001"], "employed_by_residence": [1200]})
    rates = dsm.calibrated_employment_rates(pop, emp, years=[2020, 2023])
    r = rates[(rates["age"] == 30)].set_index(["year", "sex"])["rate"]
    # calibration uses the population of 1 January 2021 (≈ 4th quarter 2020): 1000·(e_f + e_m)·s = 1200
    assert 1000 * (r[(2020, "female")] + r[(2020, "male")]) == pytest.approx(1200)
    assert r[(2023, "female")] == r[(2020, "female")]   # nearest calibrated year carried


# ------------------------------------------------------------------------------ projection pieces
def test_projection_step_with_historical_migration_rates_by_hand():
    pop = np.zeros((1, 2, pj.N_AGES))
    pop[0, 0, 20] = 100.0
    rates = np.zeros((1, 2, pj.N_AGES))
    rates[0, 0, 21] = 0.1                       # historically +10 % at age 21 (women)
    res = pj.project_step(pop, np.zeros(pj.N_AGES), np.zeros((2, pj.N_AGES)), immigration_rate=0.05,
                          domestic_rate=np.zeros(1), attractiveness_rate=np.zeros(1),
                          profile=np.full((1, 2, pj.N_AGES), 1.0 / (2 * pj.N_AGES)),
                          fertility_factor=np.ones(1), mortality_factor=np.ones(1), migration_rates=rates)
    # pattern 100·0.1 = +10, planned 0.05·100 = +5: the −5 rest leaves where people are (all aged 21)
    assert res.population[0, 0, 21] == pytest.approx(105.0)
    assert res.population.sum() == pytest.approx(105.0) and res.migration[0] == pytest.approx(5.0)


def test_projection_migration_model_terms_by_hand():
    params = ModelParams(0.0, (0.1, 0.0, 0.0), sentny=0.02, ds=0.0)
    pop = np.zeros((2, 2, pj.N_AGES))
    pop[:, 0, 40] = [1000.0, 500.0]
    model = mm.ProjectionMigration(
        params=params, kommuner=["1001", "1002"], base_year=2022, sentny=np.array([0.1, -0.2]),
        employment=np.full((2, pj.N_AGES), 0.5), mortality=np.zeros((3, 2, pj.N_AGES)), jobs=np.array([600.0, 200.0]),
        shares=np.array([[0.5, 0.5], [0.0, 1.0]]), observed_ra={2022: np.array([0.01, -0.03])},
        population_history={2019: np.array([900.0, 520.0]), 2022: np.array([1000.0, 500.0])}, population_effect=0.5)
    rate = model(2022, pop)
    # sentny 0.02·(0.1, −0.2); VRA_2022 = shares @ RA = (0.5·0.01 + 0.5·(−0.03), −0.03) = (−0.01, −0.03)
    assert rate == pytest.approx([0.02 * 0.1 + 0.1 * -0.01, 0.02 * -0.2 + 0.1 * -0.03])
    # 2023 (no observed RA): relpop over 2020..2023 needs 2020, absent -> no population effect; VRA 0
    model.population_history[2020] = np.array([950.0, 510.0])
    model._reset()
    model(2022, pop)
    rate23 = model(2023, pop)
    rel = np.array([1000 / 950 - 1, 500 / 510 - 1]) - (1500 / 1460 - 1)
    g = 0.5 * rel
    # jobs after 2022: the observed relative growth of 2022 (+1 %, −3 %); national growth 0 (same population)
    jobs = np.array([600.0 * 1.01, 200.0 * 0.97])
    g = g - (jobs * g).sum() / jobs.sum()
    v = np.array([[0.5, 0.5], [0.0, 1.0]]) @ g
    assert rate23 == pytest.approx(0.02 * np.array([0.1, -0.2]) + 0.1 * v)


def test_job_population_effect_recovered():
    rng = np.random.default_rng(4)
    kommuner = [f"{1000 + i}" for i in range(60)]
    pop0 = rng.uniform(1000, 50000, 60)
    rows_p, rows_j = [], []
    growth = rng.normal(0.01, 0.02, (8, 60))
    pops = pop0 * np.cumprod(1 + growth, axis=0)
    jobs = [pops[3] * 0.5]
    for t in range(4, 8):
        rel = pops[t] / pops[t - 3] - 1 - (pops[t].sum() / pops[t - 3].sum() - 1)
        j = jobs[-1] * (1 + 0.02 + 0.3 * rel)
        jobs.append(j)
    for t in range(8):
        rows_p += [(2010 + t, k, p) for k, p in zip(kommuner, pops[t])]
    for i, j in enumerate(jobs):
        rows_j += [(2013 + i, k, v) for k, v in zip(kommuner, j)]
    k, se, n = mm.estimate_job_population_effect(pd.DataFrame(rows_j, columns=["year", "kommune", "jobs"]),
                                                 pd.DataFrame(rows_p, columns=["year", "kommune", "population"]))
    assert n == 4 * 60 and abs(k - 0.3) < 0.02


# ------------------------------------------------------------------------------ SSB 09588 reader
def test_read_ssb_09588_statbank_export(tmp_path):
    text = ('"region";"statistikkvariabel";"år";"09588: Flytting"\n'
            '"0301 Oslo";"Innflytting";"2020";"40000"\n'
            '"0301 Oslo";"Nettoinnflytting (inkl. inn- og utvandring)";"2020";"-1234"\n'
            '"K-5037 Levanger";"Nettoinnflytting (inkl. inn- og utvandring)";"2020";"56"\n'
            '"03 Oslo";"Nettoinnflytting (inkl. inn- og utvandring)";"2020";"-1234"\n')
    path = tmp_path / "09588.csv"
    path.write_text(text, encoding="utf-8")
    out = read_ssb_net_migration(str(path))
    assert out.to_dict("records") == [{"year": 2020, "kommune": "0301", "net_migration": -1234.0},
                                      {"year": 2020, "kommune": "5037", "net_migration": 56.0}]
    bad = tmp_path / "bad.csv"
    bad.write_text('"region";"statistikkvariabel";"år";"v"\n"0301 Oslo";"Nettoinnflytting";"2020";".."\n')
    with pytest.raises(InputError, match="missing values"):
        read_ssb_net_migration(str(bad))
