"""Plausibility of model tables (issue 13): kommune codes, coverage, scale, zero population."""
from __future__ import annotations

import pandas as pd
import pytest

from centrality.errors import InputError
from geoproc.data import plausibility as pl


def tables():
    k = ["0301", "3001", "5001"]
    return {
        "jobs": pd.DataFrame({"year": 2021, "kommune": k, "jobs": [500, 20, 120]}),
        "commuting": pd.DataFrame({"year": 2021, "home_kommune": k, "work_kommune": k, "employed": [1, 2, 3]}),
        "population": pd.DataFrame({"year": 2021, "kommune": k, "population": [700, 30, 200]}),
        "centrality": pd.DataFrame({"kommune": k, "index": [1000.0, 750.0, 900.0]}),
    }


def test_good_tables_report_their_code_system():
    assert pl.check_model_tables(tables()) == {"code_system": "2020", "kommuner": 3}


def test_unknown_code_names_table_and_code():
    t = tables()
    t["jobs"].loc[3] = [2021, "9999", 5000]
    with pytest.raises(InputError, match=r"jobs table \(kommune\): 9999 is not a kommune code of any code system "
                                         r"2017–2024"):
        pl.check_model_tables(t)


def test_mixed_code_systems():
    t = tables()
    t["centrality"].loc[3] = ["1601", 800.0]
    with pytest.raises(InputError, match=r"mix kommune code systems \(1601 only in 2017 \(in the centrality table\); 3001 only in 2020"):
        pl.check_model_tables(t)
    with pytest.raises(InputError, match=r"jobs table \(kommune\): 3001 are not kommuner of the 2018 code system"):
        pl.check_model_tables(tables(), system="2018")


def test_mixed_padding_and_coverage_and_scale_and_zero_population():
    t = tables()
    t["commuting"]["home_kommune"] = ["301", "3001", "5001"]
    t["commuting"].loc[3] = [2021, "0301", "0301", 4]
    with pytest.raises(InputError, match=r"commuting table: group field 'home_kommune' mixes zero-padded and unpadded "
                                         r"codes \('0301' and '301'\)"):
        pl.check_model_tables(t)
    t = tables()
    t["population"] = t["population"].iloc[1:]
    with pytest.raises(InputError, match=r"population table covers 2 of the 3 kommuner of the jobs table; missing: 0301"):
        pl.check_model_tables(t)
    t = tables()
    t["centrality"]["index"] = [1.0, 0.75, 0.9]
    with pytest.raises(InputError, match=r"centrality table: column 'index' lies in 0.75..1, a 0–1 scale"):
        pl.check_model_tables(t)
    t = tables()
    t["population"]["population"] = 0
    with pytest.raises(InputError, match=r"population table: the total population is zero in 2021"):
        pl.check_model_tables(t)


def test_synthetic_demo_codes_pass_alone_but_not_mixed(caplog):
    import logging

    demo = {"population_by_age_sex": pd.DataFrame({"year": 2024, "kommune": ["9901", "9902"], "sex": "female",
                                                   "age": 30, "population": [10, 20]})}
    with caplog.at_level(logging.WARNING):
        assert pl.check_model_tables(demo, source="population_by_age_sex")["code_system"] == "synthetic"
    assert "synthetic kommune codes 9901, 9902" in caplog.text
    t = tables()
    t["centrality"].loc[3] = ["9901", 500.0]
    with pytest.raises(InputError, match=r"centrality table \(kommune\): 9901 are synthetic demo codes \(99xx"):
        pl.check_model_tables(t)
    only_unknown = {"jobs": pd.DataFrame({"year": 2021, "kommune": ["9999"], "jobs": [1]})}
    with pytest.raises(InputError, match="9999 is not a kommune code"):
        pl.check_model_tables(only_unknown)
