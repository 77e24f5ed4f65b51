"""The attractiveness model's formulas (MODEL.md §2): hand-computed cases and identity checks.

Tests whose inputs were built backwards from a published figure (Rælingen's rows, Ullensaker's
decomposition) cannot detect a wrong formula on their own: they are named ``identity`` and check
that the parts add up. The hand-computed cases next to them use inputs chosen independently of
any published output. The Rælingen figures on the real SSB files are tested in
tests/test_demog_real.py."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geoproc.model import centrality_term, decompose, expected, vra
from geoproc.model.params import DEFAULT, PUBLISHED_MODELS, ModelParams

# --- Rælingen 2021 (MODEL.md §2.1) -------------------------------------------------------------
RAELINGEN = "3027"
# work kommune: (published share %, published relative job growth %, published contribution pp)
RAELINGEN_ROWS = {
    "0301": (37.0, 1.4, 0.518),   # Oslo
    "3030": (20.8, 1.2, 0.250),   # Lillestrøm
    "3027": (15.2, -1.2, -0.182),  # Rælingen
    "3029": (13.0, 0.1, 0.013),   # Lørenskog
    "3024": (2.6, -1.3, -0.034),  # Bærum
    "3033": (2.4, 5.7, 0.137),    # Ullensaker
    "3031": (1.2, 0.0, 0.000),    # Nittedal
}
PUBLISHED_X10 = {"0301": 5.2, "3030": 2.4, "3027": -1.8, "3029": 0.2, "3024": -0.3, "3033": 1.4, "3031": 0.0}
OTHER = "3001"  # stands for all work places below 1 % (7.8 % of employed residents), RA = 0


def _raelingen_tables(national: float = 0.02) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = [(2021, RAELINGEN, w, share * 10) for w, (share, _, _) in RAELINGEN_ROWS.items()]
    rows.append((2021, RAELINGEN, OTHER, 78.0))
    commuting = pd.DataFrame(rows, columns=["year", "home_kommune", "work_kommune", "employed"])
    ra = {w: r / 100 for w, (_, r, _) in RAELINGEN_ROWS.items()} | {OTHER: 0.0}
    jobs = pd.DataFrame([(y, k, 10_000.0 * (1 + national + ra[k]) if y == 2021 else 10_000.0)
                         for k in ra for y in (2020, 2021)], columns=["year", "kommune", "jobs"])
    return commuting, jobs


def test_raelingen_identity_rows_built_from_published_shares_and_growth():
    commuting, jobs = _raelingen_tables()
    rows = vra.vra_contributions(commuting, jobs, 2021, national_growth={2021: 0.02}).set_index("work_kommune")
    for work, (share, ra, contribution_pp) in RAELINGEN_ROWS.items():
        assert rows.loc[work, "share"] == pytest.approx(share / 100, abs=1e-12)
        assert rows.loc[work, "relative_growth"] == pytest.approx(ra / 100, abs=1e-12)
        # published contributions are rounded to 0.001 pp
        assert rows.loc[work, "contribution"] * 100 == pytest.approx(contribution_pp, abs=0.0005 + 1e-12)
        # the published table prints ×10 with 0.1 rounding; two rows differ by 0.1 (spec note)
        assert abs(rows.loc[work, "contribution"] * 1000 - PUBLISHED_X10[work]) <= 0.1
    total = vra.vra(commuting, jobs, 2021, national_growth={2021: 0.02})
    assert total.loc[0, "vra"] * 100 == pytest.approx(0.70, abs=0.0025)  # sum of listed rows 0.702 pp


def test_raelingen_national_growth_from_table_gives_same_relative_growth():
    commuting, jobs = _raelingen_tables(national=0.0)
    # all kommuner share 10 000 jobs, so the table's own national growth is the mean RA; subtracting it
    # moves every RA by the same amount
    rel = vra.relative_job_growth(jobs, years=[2021]).set_index("kommune")
    mean_ra = np.mean([r / 100 for _, r, _ in RAELINGEN_ROWS.values()] + [0.0])
    assert rel["national_growth"].iloc[0] == pytest.approx(mean_ra, abs=1e-12)
    assert rel.loc["3033", "relative_growth"] == pytest.approx(0.057 - mean_ra, abs=1e-12)


# --- 100 extra jobs (MODEL.md §2.3) ------------------------------------------------------------
@pytest.mark.parametrize("params, exact", [
    (ModelParams(0.0, (0.19, 0.13, 0.09)), (38.0, 26.0, 18.0)),
    (PUBLISHED_MODELS["model1"], (37.76244, 25.98006, 17.56394)),
])
def test_hundred_extra_jobs_give_38_26_18_residents(params, exact):
    k = "1111"
    jobs = pd.DataFrame({"year": range(1998, 2004), "kommune": k,
                         "jobs": [1000.0, 1000.0, 1000.0, 1100.0, 1100.0, 1100.0]})
    commuting = pd.DataFrame({"year": [2001], "home_kommune": [k], "work_kommune": [k], "employed": [1000]})
    inputs = vra.vra_with_lags(commuting, jobs, [2001, 2002, 2003], national_growth={y: 0.0 for y in range(1999, 2004)})
    contrib = expected.term_contributions(inputs, params, terms=["vra_t", "vra_t1", "vra_t2"])
    population = 2000.0  # employment = 50 % of population
    persons = contrib[["vra_t", "vra_t1", "vra_t2"]].sum(axis=1).to_numpy() * population
    assert persons == pytest.approx(exact, abs=1e-4)
    assert np.round(persons).tolist() == [38.0, 26.0, 18.0]
    assert np.round(persons).sum() == 82.0


# --- model 4 applied by hand -------------------------------------------------------------------
def test_model4_expected_net_migration_by_hand():
    row = pd.DataFrame({"year": [2021], "kommune": ["9999"], "vra_t": [0.01], "vra_t1": [-0.005],
                        "vra_t2": [0.002], "sentny": [0.05], "ds": [0.003]})
    by_hand = (-0.0023964 + 0.1360559 * 0.01 + 0.0962927 * -0.005 + 0.0531233 * 0.002
               + 0.0272193 * 0.05 - 0.4036295 * 0.003)
    assert by_hand == pytest.approx(-0.0012609814, abs=1e-12)
    got = expected.expected_net_migration(row, DEFAULT)
    assert got.loc[0, "nm_expected"] == pytest.approx(-0.0012609814, abs=1e-12)
    contrib = expected.expected_contributions(row, DEFAULT)
    assert contrib.loc[0, "ds"] == pytest.approx(-0.4036295 * 0.003, abs=1e-15)
    assert contrib.loc[0, ["intercept", "vra_t", "vra_t1", "vra_t2", "sentny", "ds"]].sum() == \
        pytest.approx(contrib.loc[0, "nm_expected"], abs=1e-15)


def test_published_coefficient_table():
    m4 = PUBLISHED_MODELS["model4"]
    assert DEFAULT is m4
    assert m4.vra == (0.1360559, 0.0962927, 0.0531233)
    assert (m4.sentny, m4.ds, m4.intercept) == (0.0272193, -0.4036295, -0.0023964)
    assert m4.se["ds"] == 0.0530367 and m4.resid_se == 0.003853 and m4.adj_r2 == 0.5422
    assert PUBLISHED_MODELS["model2"].ssb_index == 0.0223342 and PUBLISHED_MODELS["model2"].sentny == 0.0
    assert PUBLISHED_MODELS["model1"].used_terms() == ["vra_t", "vra_t1", "vra_t2"]


# --- Ullensaker decomposition 2003–2021 (MODEL.md §2.5) ----------------------------------------
ULL, NAN, OSL = "3033", "3036", "0301"
YEARS = range(2003, 2022)
PUBLISHED = {"total_change": 981, "births_surplus": 205, "net_migration": 776, "immigration": 180,
             "centrality": 93, "own_jobs": 27, "neighbour_jobs": 22, "ds": -18, "expected": 304,
             "attractiveness": 472}


def _population(year: int) -> float:
    return 20_000.0 + 981.0 * (year - 2003)  # grows by the published total change every year


MEAN_P = float(np.mean([_population(y) for y in YEARS]))  # 28 829 persons
B_SUM = sum(DEFAULT.vra)
SHARE_OWN, SHARE_NAN = 0.6, 0.4                      # Ullensaker residents working at home / in Nannestad
RA_ULL = 27 / (B_SUM * SHARE_OWN * MEAN_P)          # relative job growth giving 27 persons/yr
RA_NAN = 22 / (B_SUM * SHARE_NAN * MEAN_P)          # giving 22 persons/yr
NATIONAL_G = 0.012


def _jobs_with_relative_growth() -> pd.DataFrame:
    """Jobs 2000–2021 where Ullensaker and Nannestad grow RA_* above the national rate every year;
    Oslo balances so the national growth computed from the table is exactly NATIONAL_G."""
    level = {ULL: 15_000.0, NAN: 4_000.0, OSL: 400_000.0}
    rows = [(2000, k, v) for k, v in level.items()]
    for y in range(2001, 2022):
        total = sum(level.values())
        r = {ULL: RA_ULL, NAN: RA_NAN}
        r[OSL] = -(level[ULL] * r[ULL] + level[NAN] * r[NAN]) / level[OSL]
        level = {k: v * (1 + NATIONAL_G + r[k]) for k, v in level.items()}
        assert sum(level.values()) / total - 1 == pytest.approx(NATIONAL_G, abs=1e-14)
        rows += [(y, k, v) for k, v in level.items()]
    return pd.DataFrame(rows, columns=["year", "kommune", "jobs"])


def _commuting() -> pd.DataFrame:
    flows = [(ULL, ULL, 6000), (ULL, NAN, 4000), (NAN, NAN, 2000), (NAN, OSL, 1000), (OSL, OSL, 300_000),
             (OSL, ULL, 500)]
    return pd.DataFrame([(y, h, w, e) for y in range(2001, 2022) for h, w, e in flows],
                        columns=["year", "home_kommune", "work_kommune", "employed"])


def test_ullensaker_identity_decomposition_with_inputs_built_from_published_components():
    split = vra.vra_with_lags(_commuting(), _jobs_with_relative_growth(), list(YEARS), split=True)
    target_sentny = 93 / (DEFAULT.sentny * MEAN_P)
    index = pd.DataFrame({"kommune": [ULL, NAN, OSL], "index": [0.0, 500.0, 700.0]})
    index.loc[0, "index"] = 1000 * 1.5 * target_sentny + (500.0 + 700.0) / 2  # centred value = target
    sent = centrality_term.sentny(index)
    assert sent.set_index("kommune").loc[ULL, "sentny"] == pytest.approx(target_sentny, abs=1e-12)
    ds = pd.DataFrame({"year": list(YEARS), "kommune": ULL, "ds": -18 / (DEFAULT.ds * MEAN_P)})
    inputs = expected.model_inputs(split[split["kommune"] == ULL], sent, ds)

    population = pd.DataFrame({"year": list(YEARS), "kommune": ULL, "population": [_population(y) for y in YEARS]})
    net_mig = pd.DataFrame({"year": list(YEARS), "kommune": ULL, "net_migration": 776.0})
    migration = decompose.decompose_net_migration(inputs, population, net_mig, {y: 180 / MEAN_P for y in YEARS})

    by_sex_age = pd.DataFrame([(y, ULL, s, 30, _population(y) / 2) for y in YEARS for s in ("female", "male")],
                              columns=["year", "kommune", "sex", "age", "population"])
    births = pd.DataFrame({"year": list(YEARS), "kommune": ULL, "births": 400.0})
    deaths = pd.DataFrame({"year": list(YEARS), "kommune": ULL, "deaths": 195.0})
    fertility = pd.DataFrame({"age": [30], "rate": [0.03]})
    mortality = pd.DataFrame({"sex": ["female", "male"], "age": [30, 30], "rate": [0.004, 0.006]})
    natural = decompose.natural_change(by_sex_age, births, deaths, fertility, mortality)
    assert natural["expected_births"].to_numpy() == pytest.approx([0.015 * _population(y) for y in YEARS])
    assert natural["expected_deaths"].to_numpy() == pytest.approx([0.005 * _population(y) for y in YEARS])
    assert (natural["excess_births"] + natural["expected_births"] - natural["births"]).abs().max() < 1e-9

    full = decompose.decompose_population_change(natural, migration)
    avg = decompose.average_per_year(full, 2003, 2021).set_index("kommune").loc[ULL]
    assert avg["n_years"] == 19
    for name, value in PUBLISHED.items():
        assert avg[name] == pytest.approx(value, abs=1e-6), name
    # identities, year by year
    parts = full[list(decompose.MIGRATION_COMPONENTS)].sum(axis=1)
    assert np.allclose(parts, full["expected"], atol=1e-9)
    assert np.allclose(full["expected"] + full["attractiveness"], full["net_migration"], atol=1e-9)
    assert np.allclose(full["births_surplus"] + full["net_migration"], full["total_change"], atol=1e-9)
    # own + neighbour job parts are the VRA terms of expected net migration
    contrib = expected.term_contributions(inputs, DEFAULT, terms=["vra_t", "vra_t1", "vra_t2"])
    vra_persons = contrib[["vra_t", "vra_t1", "vra_t2"]].sum(axis=1).to_numpy() * population["population"].to_numpy()
    assert np.allclose(vra_persons, full["own_jobs"] + full["neighbour_jobs"], atol=1e-9)


def test_intercept_baseline_matches_regression_residual():
    split = vra.vra_with_lags(_commuting(), _jobs_with_relative_growth(), [2010, 2011], split=True)
    inputs = split.assign(sentny=0.02, ds=-0.001)
    pop = inputs[["year", "kommune"]].assign(population=10_000.0)
    nm = inputs[["year", "kommune"]].assign(net_migration=50.0)
    out = decompose.decompose_net_migration(inputs, pop, nm, {}, baseline="intercept")
    regression = expected.expected_net_migration(inputs, DEFAULT)
    assert np.allclose(out["expected"].to_numpy(), regression["nm_expected"].to_numpy() * 10_000.0, atol=1e-9)
    assert np.allclose(out["immigration"], DEFAULT.intercept * 10_000.0)


def test_vra_by_hand_two_work_places():
    """Home A: 60 work at home, 40 in B. Jobs A 1000 -> 1030 (+3 %), B 500 -> 490 (−2 %); Norway
    1500 -> 1520 (+1.333 %). RA_A = 1.667 %, RA_B = −3.333 %; VRA_A = 0.6·1.667 − 0.4·3.333 = −0.333 %."""
    commuting = pd.DataFrame({"year": 2021, "home_kommune": ["1001", "1001", "1002"],
                              "work_kommune": ["1001", "1002", "1002"], "employed": [60, 40, 100]})
    jobs = pd.DataFrame({"year": [2020, 2020, 2021, 2021], "kommune": ["1001", "1002"] * 2,
                         "jobs": [1000.0, 500.0, 1030.0, 490.0]})
    v = vra.vra(commuting, jobs, 2021, split=True).set_index("kommune")
    g_nat = 1520 / 1500 - 1
    assert v.loc["1001", "vra"] == pytest.approx(0.6 * (0.03 - g_nat) + 0.4 * (-0.02 - g_nat), abs=1e-15)
    assert v.loc["1001", "vra"] == pytest.approx(-0.0033333333, abs=1e-9)
    assert v.loc["1001", "vra_own"] == pytest.approx(0.6 * (0.03 - g_nat), abs=1e-15)
    assert v.loc["1002", "vra"] == pytest.approx(-0.02 - g_nat, abs=1e-15)


def test_decomposition_by_hand():
    """P = 10 000; national immigration 0.5 %; VRA_t own 0.01 / neighbour 0.005, lags 0; sentny
    0.1; DS 0.002. Model 4: immigration 50, own jobs 0.1360559·0.01·10 000 = 13.61,
    neighbour 6.80, centrality 0.0272193·0.1·10 000 = 27.22, DS −0.4036295·0.002·10 000 = −8.07;
    expected 89.56; net migration 120 -> attractiveness 30.44."""
    inputs = pd.DataFrame({"year": [2021], "kommune": ["1001"], "vra_t_own": [0.01], "vra_t_neighbour": [0.005],
                           "vra_t1_own": [0.0], "vra_t1_neighbour": [0.0], "vra_t2_own": [0.0],
                           "vra_t2_neighbour": [0.0], "sentny": [0.1], "ds": [0.002]})
    pop = pd.DataFrame({"year": [2021], "kommune": ["1001"], "population": [10_000.0]})
    nm = pd.DataFrame({"year": [2021], "kommune": ["1001"], "net_migration": [120.0]})
    row = decompose.decompose_net_migration(inputs, pop, nm, {2021: 0.005}, DEFAULT).iloc[0]
    assert row["immigration"] == pytest.approx(50.0)
    assert row["own_jobs"] == pytest.approx(13.60559)
    assert row["neighbour_jobs"] == pytest.approx(6.802795)
    assert row["centrality"] == pytest.approx(27.2193)
    assert row["ds"] == pytest.approx(-8.07259)
    assert row["expected"] == pytest.approx(50 + 13.60559 + 6.802795 + 27.2193 - 8.07259)
    assert row["attractiveness"] == pytest.approx(120 - row["expected"])
