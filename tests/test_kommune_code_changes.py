"""The embedded kommune code lists and the harmonisation table against the shared mapping file.

``../shared/data/ssb/kommune_codes_to_2024.csv`` (niphr/csdata, SSB's redistricting as a table) maps
every code valid in a year to its 2024 successor(s). Since issue 10 it is the ONE source of code
changes (:mod:`geoproc.data.harmonise`); :mod:`geoproc.data.codes` keeps only the code lists used to
validate tables. Checked here: the embedded lists equal the file's codes of each year, the file's
weights share every kommune out completely, and the one correction harmonise applies to the file
(Ålesund's pre-2020 predecessors) is exactly the documented one (a new difference fails the test).
"""
from __future__ import annotations

import pandas as pd
import pytest

from conftest import shared_path
from geoproc.data import codes as kc
from geoproc.data import harmonise as hm

# pre-2020 code: 2024 successor after the correction (the file shares each out 0.5/0.5 to 1508 and 1580;
# the 2024 split restored Haram's pre-2020 borders)
CORRECTED = {"1504": "1508", "1523": "1508", "1529": "1508", "1534": "1580", "1546": "1508"}


@pytest.fixture(scope="module")
def mapping_file():
    path = shared_path("ssb", "kommune_codes_to_2024.csv")
    return pd.read_csv(path, dtype={"kommune_original": str, "kommune_2024": str})


@pytest.mark.shared
@pytest.mark.parametrize("year, system", [(2017, "2017"), (2018, "2018"), (2019, "2018"), (2020, "2020"),
                                          (2024, "2024")])  # the file's 2021-2023 also list the 2020 codes
def test_embedded_code_lists_match_mapping_file(mapping_file, year, system):
    rows = mapping_file[mapping_file["year"] == year]
    codes = set(rows["kommune_original"])
    if year == 2019:  # SSB's 2019 tables give Rindal as 5061; the 2018 code system keeps 1567 (see ssb_client)
        codes = (codes - {"5061"}) | {"1567"} if "5061" in codes else codes
    assert codes == kc.known_codes(system)
    weights = rows.groupby("kommune_original")["weight"].sum()
    assert weights.round(6).eq(1.0).all()  # each original kommune is shared out completely


@pytest.mark.shared
@pytest.mark.parametrize("year", [2017, 2018, 2019, 2020, 2024])
def test_harmonise_reads_the_file_with_only_the_documented_correction(mapping_file, year):
    table = hm.load_code_table(shared_path()).table
    ours = table[table["year"] == year].groupby("kommune_original").apply(
        lambda g: tuple(sorted(zip(g["kommune_2024"], g["weight"].round(6)))), include_groups=False).to_dict()
    rows = mapping_file[mapping_file["year"] == year]
    theirs = rows.groupby("kommune_original").apply(
        lambda g: tuple(sorted(zip(g["kommune_2024"], g["weight"].round(6)))), include_groups=False).to_dict()
    differences = {k: ours[k] for k in ours if ours[k] != theirs[k]}
    expected = {k: ((v, 1.0),) for k, v in CORRECTED.items() if k in ours} if year < 2020 else {}
    assert differences == expected
