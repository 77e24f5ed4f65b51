"""Cohort-component projection (geoproc.model.project): hand-computed accounting and real data."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from centrality.errors import InputError
from geoproc.model import project as pj
from tests.conftest import shared_path

N = pj.N_AGES


def tidy(arr: np.ndarray, kommuner, year: int) -> pd.DataFrame:
    idx = pd.MultiIndex.from_product([[year], kommuner, pj.SEXES, pj.AGES], names=["year", "kommune", "sex", "age"])
    return pd.DataFrame({"population": arr.reshape(-1)}, index=idx).reset_index()


def flat_assumptions(q: float = 0.0, imm: float = 0.0, fert: np.ndarray | None = None,
                     mort: np.ndarray | None = None) -> pj.NationalAssumptions:
    return pj.NationalAssumptions(net_immigration_rate=imm,
                                  fertility=np.zeros(N) if fert is None else fert,
                                  mortality=np.full((2, N), q) if mort is None else mort)


@pytest.fixture
def two_kommuner() -> np.ndarray:
    pop = np.zeros((2, 2, N))
    pop[0, 0, 20] = 100.0   # A: 100 women aged 20
    pop[0, 1, 20] = 100.0   # A: 100 men aged 20
    pop[0, 0, 105] = 10.0   # A: 10 women 105+
    pop[1, 0, 30] = 50.0    # B: 50 women aged 30
    return pop


def test_one_step_accounting_by_hand(two_kommuner):
    fert = np.zeros(N)
    fert[20], fert[30] = 0.1, 0.2
    mort = np.full((2, N), 0.01)
    mort[:, 105] = 0.5
    uniform = np.ones((2, N))
    res = pj.project(two_kommuner, kommuner=["1001", "1002"], base_year=2021, horizon=2022,
                     assumptions=flat_assumptions(imm=0.01, fert=fert, mort=mort),
                     expected_domestic=np.array([0.02, -0.1]), scenarios=("neutral",), migration_profile=uniform)
    p1 = res.arrays["neutral"][1]
    c = res.components.set_index("kommune")
    # A: 210 persons; deaths 200*0.01 + 10*0.5 = 7; births 100*0.1 = 10; migrants (0.01+0.02)*210 = 6.3
    assert c.loc["1001", "deaths"] == pytest.approx(7.0)
    assert c.loc["1001", "births"] == pytest.approx(10.0)
    assert c.loc["1001", "immigration"] == pytest.approx(2.1)
    assert c.loc["1001", "domestic_expected"] == pytest.approx(4.2)
    assert p1[0].sum() == pytest.approx(210 - 7 + 10 + 6.3, abs=1e-9)
    share = 6.3 / (2 * N)  # uniform inflow profile
    assert p1[0, 0, 21] == pytest.approx(99.0 + share)
    assert p1[0, 1, 21] == pytest.approx(99.0 + share)
    assert p1[0, 0, 105] == pytest.approx(5.0 + share)           # 105+ survivors stay in 105+
    assert p1[0, 0, 0] == pytest.approx(10 / 2.05 + share)        # girls: 1 / (1 + 1.05) of births
    assert p1[0, 1, 0] == pytest.approx(10 * 1.05 / 2.05 + share)  # boys
    # B: 50 women aged 30; deaths 0.5; births 10; net outflow (0.01 - 0.1)*50 = -4.5 spread over
    # profile × population after ageing: 49.5 women aged 31 and 10 newborns -> 59.5 persons
    assert c.loc["1002", "migration"] == pytest.approx(-4.5)
    assert c.loc["1002", "clipped"] == 0.0
    assert p1[1, 0, 31] == pytest.approx(49.5 - 4.5 * 49.5 / 59.5)
    assert p1[1, 0, 0] == pytest.approx((10 / 2.05) * (1 - 4.5 / 59.5))
    assert p1[1].sum() == pytest.approx(50 - 0.5 + 10 - 4.5)
    # the identity holds for every row of the components table
    assert np.allclose(c["population_end"], c["population_start"] - c["deaths"] + c["births"] + c["migration"])


def test_zero_rates_shift_cohorts_exactly_and_105_accumulates(two_kommuner):
    pop = two_kommuner.copy()
    pop[0, 1, 104] = 7.0
    res = pj.project(pop, kommuner=["1001", "1002"], base_year=2021, horizon=2024,
                     assumptions=flat_assumptions(), scenarios=("neutral",))
    arr = res.arrays["neutral"]
    MAX = pj.MAX_AGE
    for step in range(3):
        before, after = arr[step], arr[step + 1]
        assert np.array_equal(after[:, :, 1:MAX], before[:, :, :MAX - 1])
        assert np.array_equal(after[:, :, MAX], before[:, :, MAX - 1] + before[:, :, MAX])
        assert not after[:, :, 0].any()
    assert arr[3][0, 0, 23] == 100.0 and arr[3][1, 0, 33] == 50.0
    assert arr[3][0, 1, 105] == 7.0 and arr[3][0, 0, 105] == 10.0   # 104 -> 105+, 105+ stays
    assert arr[3].sum() == pop.sum()


def test_clipping_keeps_population_non_negative_and_identity_exact(two_kommuner):
    res = pj.project(two_kommuner, kommuner=["1001", "1002"], base_year=2021, horizon=2023,
                     assumptions=flat_assumptions(q=0.01), expected_domestic=np.array([0.0, -3.0]),
                     scenarios=("neutral",))
    arr = res.arrays["neutral"]
    c = res.components
    assert (arr >= 0).all()
    assert c["clipped"].max() > 0
    assert np.allclose(c["population_end"], c["population_start"] - c["deaths"] + c["births"] + c["migration"])
    assert arr[1][1].sum() == 0.0  # kommune B emptied: 150 % of its people cannot leave


def test_expected_callable_sees_projected_population(two_kommuner):
    seen = []

    def expected(year, pop):
        seen.append((year, pop.sum()))
        return np.where(pop.sum(axis=(1, 2)) > 100, 0.01, -0.01)

    res = pj.project(two_kommuner, kommuner=["1001", "1002"], base_year=2021, horizon=2023,
                     assumptions=flat_assumptions(), expected_domestic=expected, scenarios=("neutral",))
    assert [y for y, _ in seen] == [2021, 2022]
    assert seen[1][1] == pytest.approx(res.arrays["neutral"][1].sum())
    assert res.components.query("year == 2021 and kommune == '1001'")["domestic_expected"].item() == pytest.approx(2.1)


def test_scenarios_ordering_and_national_sum():
    rng = np.random.default_rng(3)
    kommuner = [f"{i:04d}" for i in range(101, 141)]
    pop = rng.uniform(10, 200, size=(len(kommuner), 2, N))
    hist = pd.Series(rng.normal(0.0, 0.004, len(kommuner)), index=kommuner)
    res = pj.project(pop, kommuner=kommuner, base_year=2021, horizon=2040, historical=hist,
                     expected_domestic=rng.normal(0, 0.002, len(kommuner)))
    levels = res.levels
    assert levels["high"].iloc[0] == pytest.approx(hist.quantile(0.8))
    assert levels["low"].iloc[0] == pytest.approx(hist.quantile(0.2))
    assert levels["high"].iloc[0] > 0 > levels["low"].iloc[0]
    end = res.summary().pivot(index="kommune", columns="scenario", values="population_end")
    assert (end["high"] > end["neutral"]).all() and (end["neutral"] > end["low"]).all()
    below_p80 = hist <= hist.quantile(0.8)
    assert (end.loc[below_p80, "high"] >= end.loc[below_p80, "historical"] - 1e-9).all()
    assert (end.loc[~below_p80, "high"] < end.loc[~below_p80, "historical"]).all()
    # national sum of attractiveness = Σ level × start-of-year population; zero for neutral
    nat = res.national_attractiveness.set_index(["scenario", "year"])["persons"]
    start_2021 = pop.sum(axis=(1, 2))
    assert nat[("historical", 2021)] == pytest.approx(float((hist.to_numpy() * start_2021).sum()))
    assert nat[("high", 2021)] == pytest.approx(hist.quantile(0.8) * start_2021.sum())
    assert (nat.loc["neutral"] == 0).all()
    assert len(res.years) == 20 and res.population_frame()["year"].nunique() == 19


def test_tidy_table_roundtrip_and_open_age():
    df = pd.DataFrame({"year": [2020, 2021, 2021, 2021], "kommune": ["0301", "0301", "0301", "5001"],
                       "sex": ["male", "female", "male", "female"], "age": [3, 104, 107, 0],
                       "population": [1.0, 2.0, 5.0, 9.0]})
    arr, kommuner, year = pj.population_array(df)
    assert year == 2021 and kommuner == ["0301", "5001"]
    assert arr[0, 0, 104] == 2 and arr[0, 1, 105] == 5 and arr[1, 0, 0] == 9 and arr.sum() == 16
    res = pj.project(df, horizon=2022, assumptions=flat_assumptions(), scenarios=("neutral",))
    out = res.population_frame()
    assert list(out.columns) == ["year", "kommune", "sex", "age", "population", "scenario"]
    assert out.query("kommune == '0301' and sex == 'female' and age == 105")["population"].item() == 2.0


def test_bad_inputs_are_input_errors(two_kommuner):
    df = tidy(two_kommuner, ["1001", "1002"], 2021)
    with pytest.raises(InputError, match="did you mean 'populaton'"):
        pj.project(df.rename(columns={"population": "populaton"}))
    with pytest.raises(InputError, match="horizon"):
        pj.project(df, horizon=2021)
    with pytest.raises(InputError, match="historical attractiveness"):
        pj.project(df, horizon=2025)
    with pytest.raises(InputError, match="no value for kommune"):
        pj.project(df, horizon=2025, historical=pd.Series({"1001": 0.01}))
    with pytest.raises(InputError, match="sex values"):
        pj.project(df.assign(sex="K"), horizon=2025, scenarios=("neutral",))
    with pytest.raises(InputError, match="fertility has shape"):
        pj.project(df, horizon=2025, scenarios=("neutral",), assumptions=flat_assumptions(fert=np.ones(50)))


def test_illustrative_defaults_are_documented_values():
    a = pj.NationalAssumptions()
    assert "ILLUSTRATIVE" in a.label and a.net_immigration_rate == 0.002 and a.sex_ratio_at_birth == 1.05
    assert a.fertility.sum() == pytest.approx(1.55)
    assert a.fertility[:15].sum() == 0 and a.fertility[50:].sum() == 0
    assert pj.life_expectancy(a.mortality[0]) == pytest.approx(84.9, abs=0.05)
    assert pj.life_expectancy(a.mortality[1]) == pytest.approx(81.6, abs=0.05)
    prof = pj.rogers_castro_profile()
    assert prof.sum() == pytest.approx(1.0)
    assert 20 <= int(np.argmax(prof[0])) <= 26   # labour-force peak of the Rogers–Castro schedule


@pytest.mark.shared
def test_real_2021_population_all_kommuner_to_2040():
    path = shared_path("ssb", "population_by_age_sex_2020_2021.csv")
    df = pd.read_csv(path, dtype={"kommune": str})
    kommuner = sorted(df["kommune"].unique())
    hist = pd.Series(np.linspace(-0.006, 0.006, len(kommuner)), index=kommuner)  # synthetic levels
    res = pj.project(df, base_year=2021, horizon=2040, historical=hist)
    totals = res.population_frame(by_age=False)
    assert totals["kommune"].nunique() == 356 and set(totals["kommune"]) == set(kommuner)
    assert totals["year"].nunique() == 19 and totals["year"].min() == 2022 and totals["year"].max() == 2040
    assert len(totals) == 356 * 19 * 4
    for arr in res.arrays.values():
        assert np.isfinite(arr).all() and (arr >= 0).all()
    assert res.arrays["neutral"][0].sum() == 5_391_369
    national = totals.groupby(["scenario", "year"])["population"].sum()
    # Illustrative assumptions (TFR 1.55, e0 84.9/81.6, +0.2 %/yr immigration): Norway grows to
    # about 5.65 million in 2040 (SSB's 2022 main alternative: ~5.9 million). A sane range:
    assert 5.4e6 < national[("neutral", 2040)] < 6.2e6
    summ = res.summary()
    assert summ["growth_pct"].notna().all()
    assert (res.components["clipped"] == 0).all()
    first = res.components.query("scenario == 'neutral' and year == 2021")
    assert 50_000 < first["births"].sum() < 60_000 and 30_000 < first["deaths"].sum() < 45_000  # Norway 2021: 56 060 / 42 002
