"""Validators in geoproc.data.tables: normalisation and every kind of bad input."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from centrality.errors import InputError
from geoproc.data import tables as T


def _pop():
    return pd.DataFrame({"year": [2020, 2020, 2020], "kommune": ["0301", "5001", "5037"],
                         "age": [0, 0, 105], "population": [9101, 2300, 1]})


def test_population_normalises_dtypes_and_int_codes():
    df = _pop().assign(kommune=[301, 5001, 5037], year=["2020", "2020", "2020"])
    out = T.validate_population(df, code_system="2020")
    assert out["kommune"].tolist() == ["0301", "5001", "5037"]
    assert out["year"].dtype == "int64" and out["population"].dtype == "int64"
    assert df["kommune"].tolist() == [301, 5001, 5037]  # input untouched


def test_negative_population_names_row():
    df = _pop().assign(population=[9101, -5, 1])
    with pytest.raises(InputError, match="negative.*kommune=5001"):
        T.validate_population(df)


def test_nan_in_required_column_names_kommune():
    df = _pop().assign(population=[9101, np.nan, 1])
    with pytest.raises(InputError, match="'population' has 1 missing.*kommune=5001"):
        T.validate_population(df)


def test_duplicate_keys_listed():
    df = pd.concat([_pop(), _pop().iloc[[1]]])
    with pytest.raises(InputError, match="duplicated.*year=2020 kommune=5001 age=0"):
        T.validate_population(df)


def test_missing_column_suggests_close_match():
    with pytest.raises(InputError, match=r"no column 'kommune' \(did you mean 'kommunen'"):
        T.validate_jobs(pd.DataFrame({"year": [2020], "kommunen": ["0301"], "jobs": [1]}))


def test_bad_code_format_and_age_and_sex():
    with pytest.raises(InputError, match="not 4-digit.*'301'"):
        T.validate_population(_pop().assign(kommune=["301", "5001", "5037"]))
    with pytest.raises(InputError, match="0..105"):
        T.validate_population(_pop().assign(age=[0, 106, 1]))
    df = _pop().assign(sex=["female", "M", "male"])
    with pytest.raises(InputError, match="'female' or 'male'.*m"):
        T.validate_population_age_sex(df)


def test_unknown_codes_suggest_mapping():
    df = pd.DataFrame({"year": [2020, 2020], "kommune": ["1601", "0301"], "jobs": [1, 2]})
    with pytest.raises(InputError, match=r"not in the 2020 code system.*: 1601.*2017 codes.*harmonise"):
        T.validate_jobs(df, code_system="2020")
    with pytest.raises(InputError, match="9999"):
        T.check_code_system(["9999"], 2021)
    T.check_code_system(["1601"], 2017)


def test_commuting_and_centrality_and_regions():
    c = T.validate_commuting(pd.DataFrame({"year": [2020], "home_kommune": [5035], "work_kommune": ["5001"],
                                           "employed": [2524]}), code_system="2020")
    assert c.iloc[0].tolist() == [2020, "5035", "5001", 2524]
    with pytest.raises(InputError, match="0..1000"):
        T.validate_centrality(pd.DataFrame({"kommune": ["0301"], "index": [1001.0]}))
    with pytest.raises(InputError, match="'region' has 1 missing"):
        T.validate_regions(pd.DataFrame({"kommune": ["0301", "3024"], "region": ["Oslo", None]}))


def test_shares_sum_to_one():
    ok = pd.DataFrame({"year": 2020, "home_kommune": ["A", "A", "B"], "share": [0.25, 0.75, 1.0]})
    T.check_shares_sum_to_one(ok)
    bad = ok.assign(share=[0.25, 0.70, 1.0])
    with pytest.raises(InputError, match=r"do not sum to 1.*\(2020, 'A'\): 0.950000"):
        T.check_shares_sum_to_one(bad, tol=1e-6)
    T.check_shares_sum_to_one(bad, tol=0.06)


def test_generic_checks_used_by_the_model():
    df = pd.DataFrame({"year": [2020, 2021], "region": ["005", "090"], "jobs": [10.0, np.inf]})
    with pytest.raises(InputError, match=r"'jobs' has 1 negative, infinite.*year=2021 region=090"):
        T.validate_jobs(df, unit="region")
    ok = T.validate_jobs(df.assign(jobs=[10, 12], region=[5, 90]), unit="region")
    assert ok["region"].tolist() == ["5", "90"]  # region codes: any text, kept as strings
    with pytest.raises(InputError, match=r"no column 'jobs'.*Build it"):
        T.check_table(df.drop(columns="jobs"), ["jobs"], "t", "Build it.")
    with pytest.raises(InputError, match=r"years 2019 are needed but missing \(available: 2020, 2021\)\. Add"):
        T.check_years([2019, 2020], df["year"], "jobs table", "Add it.")
    with pytest.raises(InputError, match=r"unknown codes 4601, 5001\. Fix"):
        T.check_known_codes(["5001", "0301", "4601"], ["0301"], "work places", "Fix.")
    with pytest.raises(InputError, match=r"kommuner 3053 have no region"):
        T.validate_regions(pd.DataFrame({"kommune": ["0301", "3053"], "region": ["005", " "]}))
