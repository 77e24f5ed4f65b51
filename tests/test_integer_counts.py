"""Counts of persons and jobs are written as integers (centrality.fileio.integer_counts, applied by
every CSV and GeoPackage writer): zone population and jobs, jobs reachable within L minutes (sums
of whole jobs) and their change, excluded counts; decay-weighted accessibility, population-weighted
group means and modelled persons stay float."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyogrio
import pytest

from centrality.fileio import count_columns, integer_counts, mark_means, write_table
from centrality.synthetic import demo_region
from geoproc.cli import main


def test_whole_float_counts_become_integers_and_the_rest_stays():
    frame = pd.DataFrame({"population": [1.0, 2.0, 3.0], "jobs": [1.5, 2.0, 3.0], "jobs_30min": [3.0, np.nan, 5.0],
                          "access_decay": [1.0, 2.0, 3.0], "delta_jobs_22.5min_scen": [-1.0, 0.0, 2.0],
                          "delta_population": [1.0, 2.0, 3.0], "excluded_jobs": [0.0, 0.0, np.inf]})
    out = integer_counts(frame)
    assert out["population"].dtype == np.int64 and out["population"].tolist() == [1, 2, 3]
    assert out["jobs"].dtype == np.float64                       # not whole: left as it is
    assert str(out["jobs_30min"].dtype) == "Int64" and out["jobs_30min"].isna().tolist() == [False, True, False]
    assert out["jobs_30min"].dropna().tolist() == [3, 5]
    assert out["delta_jobs_22.5min_scen"].tolist() == [-1, 0, 2] and out["delta_jobs_22.5min_scen"].dtype == np.int64
    for col in ("access_decay", "delta_population", "excluded_jobs"):   # not counts, or not finite
        assert out[col].dtype == np.float64, col
    assert frame["population"].dtype == np.float64                # the input is not changed
    means = integer_counts(mark_means(frame.copy(), ["population"]))
    assert means["population"].dtype == np.float64
    assert count_columns(["jobs_60min_base", "jobs_per_km", "population_path", "n_zones"]) == ["jobs_60min_base",
                                                                                             "n_zones"]


def test_csv_writer_writes_counts_without_decimals(tmp_path):
    path = write_table(pd.DataFrame({"zone_id": ["a", "b"], "population": [10.0, 20.0], "access_decay": [1.0, 2.5]}),
                       tmp_path / "t.csv")
    assert path.read_text().splitlines() == ["zone_id,population,access_decay", "a,10,1.0", "b,20,2.5"]


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    assert main(["demo", "--out", str(out)]) == 0
    return out


def _layer(path, layer):
    return pyogrio.read_dataframe(path, layer=layer, read_geometry=False)


def test_centrality_outputs_hold_integer_counts(demo_out):
    region = demo_region().zones.set_index("zone_id")
    zones = _layer(demo_out / "demo_centrality.gpkg", "zones").set_index("zone_id")
    csv = pd.read_csv(demo_out / "tables" / "zones.csv", dtype={"zone_id": str, "kommune": str}).set_index("zone_id")
    for table in (zones, csv):
        for col in ("population", "jobs", "jobs_30min", "jobs_45min", "jobs_60min", "jobs_90min"):
            assert table[col].dtype == np.int64, col
        assert table["access_decay"].dtype == np.float64 and table["index"].dtype == np.float64
        np.testing.assert_array_equal(table["population"], region.loc[table.index, "population"])
        np.testing.assert_array_equal(table["jobs"], region.loc[table.index, "jobs"])
        assert (table["jobs_30min"] <= table["jobs_60min"]).all() and (table["jobs_90min"] <= region["jobs"].sum()).all()
    np.testing.assert_array_equal(csv.loc[zones.index, "jobs_60min"], zones["jobs_60min"])
    groups = _layer(demo_out / "demo_centrality.gpkg", "kommuner").set_index("kommune")
    for col in ("n_zones", "population", "jobs", "n_excluded", "excluded_population", "excluded_jobs"):
        assert groups[col].dtype == np.int64, col
    assert groups["jobs_60min"].dtype == np.float64                # population-weighted mean
    by = zones.groupby("kommune")
    np.testing.assert_array_equal(groups["population"], by["population"].sum().loc[groups.index])
    weighted = (zones["jobs_60min"] * zones["population"]).groupby(zones["kommune"]).sum() / by["population"].sum()
    np.testing.assert_allclose(groups["jobs_60min"], weighted.loc[groups.index], rtol=1e-12)


@pytest.mark.parametrize("variant", ["e6_upgrade", "oyvik_ferry"])
def test_scenario_outputs_hold_integer_counts(demo_out, variant):
    gpkg = demo_out / "scenario" / f"{variant}.gpkg"
    zones = _layer(gpkg, "zones")
    csv = pd.read_csv(demo_out / "scenario" / f"{variant}_zones.csv")
    for table in (zones, csv):
        for col in ("population", "jobs_30min_base", "jobs_30min_scen", "delta_jobs_30min", "delta_jobs_90min"):
            assert table[col].dtype == np.int64, col
        np.testing.assert_array_equal(table["delta_jobs_30min"], table["jobs_30min_scen"] - table["jobs_30min_base"])
        assert table["delta_population"].dtype == np.float64      # modelled persons
        assert table["delta_access_decay"].dtype == np.float64
    groups = _layer(gpkg, "kommuner")
    assert groups["population"].dtype == np.int64
    for col in ("jobs_30min_base", "delta_jobs_30min", "delta_population"):  # means and modelled persons
        assert groups[col].dtype == np.float64, col
    scenarios = pd.read_csv(demo_out / "scenario" / "scenarios.csv")
    assert scenarios["excluded_population"].dtype == np.int64 and scenarios["excluded_jobs"].dtype == np.int64
