"""The embedded KLASS 131 code changes against the shared mapping file (offline cross-check).

``../shared/data/ssb/kommune_codes_to_2024.csv`` (niphr/csdata, SSB's redistricting as a table) maps
every code valid in a year to its 2024 successor(s). The embedded reform tables of
:mod:`geoproc.data.codes` must give the same successors for every code of 2017–2024, except for
the differences documented in that module (listed here one by one, so a new one fails the test).
"""
from __future__ import annotations

import pandas as pd
import pytest

from conftest import shared_path
from geoproc.data import codes as kc

# code: (embedded successors, file successors) -- the documented differences
KNOWN = {
    # Ålesund's 2024 split restored Haram's pre-2020 borders: pre-2020 codes map exactly in codes.py,
    # the file shares the pre-2020 parts of Ålesund 2020 out by weight between 1508 and 1580.
    "1504": (("1508",), ("1508", "1580")), "1523": (("1508",), ("1508", "1580")),
    "1529": (("1508",), ("1508", "1580")), "1546": (("1508",), ("1508", "1580")),
    "1534": (("1580",), ("1508", "1580")),
    # border transfers of 2020 modelled as splits in codes.py (Hjuksebø to Notodden, Bryggja to Stad)
    "0822": (("4005", "4020"), ("4020",)), "1439": (("4602", "4649"), ("4602",)),
}


@pytest.fixture(scope="module")
def mapping_file():
    path = shared_path("ssb", "kommune_codes_to_2024.csv")
    return pd.read_csv(path, dtype={"kommune_original": str, "kommune_2024": str})


@pytest.mark.shared
@pytest.mark.parametrize("year, system", [(2017, "2017"), (2018, "2018"), (2019, "2018"), (2020, "2020"),
                                          (2024, "2024")])  # the file's 2021-2023 also list the 2024 codes
def test_embedded_changes_match_mapping_file(mapping_file, year, system):
    rows = mapping_file[mapping_file["year"] == year]
    in_file = rows.groupby("kommune_original")["kommune_2024"].apply(lambda s: tuple(sorted(set(s)))).to_dict()
    ours = {k: tuple(sorted(v)) for k, v in kc.mapping(system, "2024").items()}
    if year == 2019:  # SSB's 2019 tables give Rindal as 5061; the 2018 code system keeps 1567 (see ssb_client)
        assert in_file.pop("5061") == ours.pop("1567") == ("5061",)
    assert set(ours) == set(in_file), "code lists differ"
    differences = {k: (ours[k], in_file[k]) for k in ours if ours[k] != in_file[k]}
    expected = {k: v for k, v in KNOWN.items() if k in ours} if year < 2020 else {}
    assert differences == expected
    weights = rows.groupby("kommune_original")["weight"].sum()
    assert weights.round(6).eq(1.0).all()  # each original kommune is shared out completely
