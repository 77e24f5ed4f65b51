"""Bad input to geoproc.model gives InputError naming the problem and the fix."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from centrality.errors import InputError
from geoproc.model import attractiveness, business, centrality_term, decompose, ds, estimate, expected, vra
from geoproc.model.params import DEFAULT, ModelParams, get_params, save_params


def _jobs(years=range(2018, 2023), codes=("0301", "3024")) -> pd.DataFrame:
    return pd.DataFrame([(y, k, 1000.0 + 10 * (y - 2018) + i) for y in years for i, k in enumerate(codes)],
                        columns=["year", "kommune", "jobs"])


def _commuting(years=(2022,), flows=(("0301", "0301", 90), ("0301", "3024", 10), ("3024", "3024", 50))):
    return pd.DataFrame([(y, h, w, e) for y in years for h, w, e in flows],
                        columns=["year", "home_kommune", "work_kommune", "employed"])


def test_missing_years_for_lags_are_named():
    with pytest.raises(InputError, match=r"years 2019, 2020 are needed but missing") as err:
        vra.vra_with_lags(_commuting(), _jobs(years=range(2021, 2023)), [2022], lags=2)
    assert "Add those years" in str(err.value)


def test_unknown_work_kommune_codes():
    bad = _commuting(flows=(("0301", "0301", 90), ("0301", "4601", 10), ("3024", "3024", 5)))
    with pytest.raises(InputError, match=r"unknown codes 4601.*same code system"):
        vra.vra(bad, _jobs(), 2022)


def test_shares_not_summing_to_one():
    shares = pd.DataFrame({"year": [2022, 2022, 2022], "home_kommune": ["0301", "0301", "3024"],
                           "work_kommune": ["0301", "3024", "3024"], "share": [0.9, 0.2, 1.0]})
    with pytest.raises(InputError, match=r"do not sum to 1.*\(2022, '0301'\): 1.100000.*normalise"):
        vra.commuting_shares(shares)
    ok = shares.assign(share=[0.8, 0.2, 1.0])
    assert vra.commuting_shares(ok)["share"].tolist() == [0.8, 0.2, 1.0]


def test_home_with_zero_employed():
    with pytest.raises(InputError, match="zero employed"):
        vra.commuting_shares(_commuting(flows=(("0301", "0301", 0), ("3024", "3024", 5))))


def test_nan_in_required_column():
    jobs = _jobs()
    jobs.loc[3, "jobs"] = np.nan
    with pytest.raises(InputError, match=r"column 'jobs' has 1 missing \(NaN/NULL\) values in rows year=2019 kommune=3024"):
        vra.job_growth(jobs)


def test_missing_column_with_suggestion():
    with pytest.raises(InputError, match=r"no column 'employed' \(did you mean 'employd'\?\)"):
        vra.commuting_shares(_commuting().rename(columns={"employed": "employd"}))


def test_mixed_code_systems():
    jobs = _jobs()
    jobs.loc[(jobs["year"] < 2020) & (jobs["kommune"] == "3024"), "kommune"] = "0219"  # pre-2020 Bærum
    with pytest.raises(InputError, match=r"codes differ between 2019 and 2020.*mixes code systems"):
        vra.relative_job_growth(jobs)
    assert len(vra.relative_job_growth(jobs, years=[2021, 2022])) == 4  # fine within one system


def test_kommune_codes_normalised_or_rejected():
    """Codes go through geoproc.data.tables.normalise_kommune: integers are zero-padded (301 -> '0301',
    unambiguous), strings that lost their leading zero ('301') are rejected with the fix (dtype=str)."""
    as_int = vra.job_growth(_jobs().assign(kommune=lambda d: d["kommune"].astype(int)))
    pd.testing.assert_frame_equal(as_int, vra.job_growth(_jobs()))
    assert as_int["kommune"].unique().tolist() == ["0301", "3024"]
    jobs = _jobs().assign(kommune=lambda d: d["kommune"].str.lstrip("0"))
    with pytest.raises(InputError, match=r"not 4-digit kommune codes: '301'.*dtype=\{'kommune': str\}"):
        vra.job_growth(jobs)


def test_negative_population():
    pop = pd.DataFrame({"year": [2021] * 2, "kommune": ["0301"] * 2, "sex": ["female", "male"], "age": [30, 30],
                        "population": [100, -5]})
    with pytest.raises(InputError, match=r"'population' has 1 negative.*year=2021 kommune=0301 sex=male age=30.*cannot be negative"):
        ds.ds_abs(pop, ds.illustrative_employment_rates(), ds.illustrative_death_probabilities())
    with pytest.raises(InputError, match="negative"):
        business.relative_population_growth(pd.DataFrame({"year": [2018, 2021], "kommune": ["0301"] * 2,
                                                          "population": [5.0, -1.0]}), [2021])


def test_employment_rates_in_percent_rejected():
    pop = pd.DataFrame({"year": [2021], "kommune": ["0301"], "sex": ["female"], "age": [30], "population": [100]})
    rates = ds.illustrative_employment_rates().assign(rate=lambda d: d["rate"] * 100)
    with pytest.raises(InputError, match=r"'rate' must lie in 0..1.*convert percent to fractions"):
        ds.ds_abs(pop, rates, ds.illustrative_death_probabilities())
    with pytest.raises(InputError, match="no rate for"):
        ds.ds_abs(pop, ds.illustrative_employment_rates().query("age != 40"), ds.illustrative_death_probabilities())


def test_region_mapping_missing_kommune():
    regions = pd.DataFrame({"kommune": ["0301"], "region": ["005"]})
    with pytest.raises(InputError, match=r"unknown codes 3024.*regions table"):
        vra.region_vra(_commuting(), _jobs(), regions, [2022], lags=0)


def test_region_mapping_kommune_without_region():
    regions = pd.DataFrame({"kommune": ["0301", "3024"], "region": ["005", None]})
    with pytest.raises(InputError, match=r"kommuner 3024 have no region.*silently drop out.*fill_missing='own'"):
        vra.region_vra(_commuting(), _jobs(), regions, [2022], lags=0)
    out = vra.region_vra(_commuting(), _jobs(), regions.fillna("k3024"), [2022], lags=0)
    assert out["region"].tolist() == ["005", "k3024"]


def test_expected_needs_term_columns():
    inputs = pd.DataFrame({"year": [2022], "kommune": ["0301"], "vra_t": [0.01], "vra_t1": [0.0], "vra_t2": [0.0]})
    with pytest.raises(InputError, match=r"no column 'sentny'"):
        expected.expected_net_migration(inputs, DEFAULT)
    with pytest.raises(InputError, match="unknown model terms"):
        expected.term_contributions(inputs, DEFAULT, terms=["vra_x"])
    with pytest.raises(InputError, match="is missing for 1 rows"):
        expected.model_inputs(inputs, pd.DataFrame({"kommune": ["3024"], "sentny": [0.1]}))


def test_centrality_index_out_of_range():
    with pytest.raises(InputError, match=r"must lie in 0..1000.*kommune=0301 index=12000.*not sentny"):
        centrality_term.sentny(pd.DataFrame({"kommune": ["0301"], "index": [1.2e4]}))
    with pytest.raises(InputError, match="population-weighted"):
        centrality_term.sentny(pd.DataFrame({"kommune": ["0301"], "index": [900.0]}),
                               regions=pd.DataFrame({"kommune": ["0301"], "region": ["005"]}))


def test_attractiveness_unmatched_rows():
    actual = pd.DataFrame({"year": [2021, 2022], "kommune": ["0301"] * 2, "nm_actual": [0.01, 0.02]})
    exp = pd.DataFrame({"year": [2021], "kommune": ["0301"], "nm_expected": [0.0]})
    with pytest.raises(InputError, match="do not cover the same"):
        attractiveness.attractiveness(actual, exp)


def test_decompose_missing_immigration_year_and_baseline():
    inputs = pd.DataFrame({"year": [2021], "kommune": ["0301"], **{f"vra_t{s}_{p}": [0.0] for s in ("", "1", "2")
                                                                   for p in ("own", "neighbour")},
                           "sentny": [0.1], "ds": [0.0]})
    pop = pd.DataFrame({"year": [2021], "kommune": ["0301"], "population": [1000.0]})
    nm = pd.DataFrame({"year": [2021], "kommune": ["0301"], "net_migration": [5.0]})
    with pytest.raises(InputError, match="years 2021 are needed"):
        decompose.decompose_net_migration(inputs, pop, nm, {2020: 0.005})
    with pytest.raises(InputError, match="baseline must be"):
        decompose.decompose_net_migration(inputs, pop, nm, {2021: 0.005}, baseline="zero")


def test_estimate_collinear_and_too_few_rows():
    df = pd.DataFrame({"nm_actual": np.arange(10.0), "vra_t": np.arange(10.0), "vra_t1": 2 * np.arange(10.0)})
    with pytest.raises(InputError, match="collinear"):
        estimate.estimate(df, ["vra_t", "vra_t1"])
    with pytest.raises(InputError, match="too few"):
        estimate.estimate(df.head(2), ["vra_t", "vra_t1"])


def test_params_errors(tmp_path):
    with pytest.raises(InputError, match="neither a published model"):
        get_params("model9")
    with pytest.raises(InputError, match=".json or .csv"):
        save_params(DEFAULT, tmp_path / "m.txt")
    assert not list(tmp_path.iterdir())  # nothing half-written
    with pytest.raises(InputError, match="3 coefficients"):
        ModelParams(0.0, (0.1, 0.2))


def test_natural_change_rates_per_1000_rejected():
    pop = pd.DataFrame({"year": [2021] * 2, "kommune": ["0301"] * 2, "sex": ["female", "male"], "age": [30, 30],
                        "population": [100.0, 100.0]})
    births = pd.DataFrame({"year": [2021], "kommune": ["0301"], "births": [5.0]})
    deaths = pd.DataFrame({"year": [2021], "kommune": ["0301"], "deaths": [1.0]})
    fertility = pd.DataFrame({"age": [30], "rate": [95.0]})  # per 1000 women, not a fraction
    mortality = pd.DataFrame({"sex": ["female", "male"], "age": [30, 30], "rate": [0.0005, 0.0008]})
    with pytest.raises(InputError, match=r"fertility table: column 'rate' must lie in 0..1.*age=30.*per-1000"):
        decompose.natural_change(pop, births, deaths, fertility, mortality)
    ok = decompose.natural_change(pop, births, deaths, fertility.assign(rate=0.095), mortality)
    assert ok["expected_births"].iloc[0] == pytest.approx(9.5)
    assert ok["expected_deaths"].iloc[0] == pytest.approx(0.13)
