"""TOML batch configuration: validation before computation, defaults, shared networks."""
from __future__ import annotations

from pathlib import Path

import pytest

from centrality.config import load_config, parse_config
from centrality.errors import InputError


@pytest.fixture
def files(tmp_path):
    for name in ("roads.gpkg", "zones.gpkg", "zones2.gpkg", "norway.osm.pbf", "pop.tif"):
        (tmp_path / name).write_bytes(b"")  # existence is all validation needs
    return tmp_path


def _config(tmp_path: Path, text: str):
    path = tmp_path / "batch.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


BASE = """
[defaults]
cutoff = 60
limits = [15, 30, 60]
decay = { type = "exp", t_ref_min = 30, weight_at_ref = 0.2, cutoff_min = 60 }
zones = { id_field = "gk", pop_field = "bosatte" }
workers = 2

[networks.roads]
path = "roads.gpkg"
time_fw_field = "t"
time_unit = "min"

[[run]]
name = "a"
network = "roads"
zones = { path = "zones.gpkg", jobs_field = "arb" }
out = "out/a.gpkg"

[[run]]
name = "b"
network = { path = "roads.gpkg", time_fw_field = "t", time_unit = "min" }
zones = { path = "zones2.gpkg", raster = "pop.tif" }
cutoff = 90
limits = [30, 90]
decay = "exp:45:0.1"
reference = "0301"
out = "out/b.gpkg"
tables = "out/b_tables"
od = "out/b_od.parquet"

[[run]]
name = "c"
network = { path = "norway.osm.pbf", ferry_wait_min = 15 }
zones = { path = "zones.gpkg" }
out = "out/c.gpkg"
"""


def test_defaults_runs_and_shared_networks(files):
    config = _config(files, BASE)
    a, b, c = config.runs
    assert [r.name for r in config.runs] == ["a", "b", "c"]
    # the named network and the identical inline table are one network; the OSM file another
    assert a.network == b.network and len(config.networks) == 2
    assert a.network.format == "lines" and a.network.kwargs == {"time_fw_field": "t", "time_unit": "min"}
    assert c.network.format == "osm" and c.network.kwargs == {"ferry_wait_min": 15}
    assert a.zones.id_field == "gk" and a.zones.pop_field == "bosatte" and a.zones.jobs_field == "arb"
    assert b.zones.jobs_field == "jobs" and b.zones.raster == files / "pop.tif"
    assert a.options == {"cutoff_min": 60, "limits_min": (15, 30, 60), "workers": 2,
                         "decay": {"type": "exp", "t_ref_min": 30, "weight_at_ref": 0.2, "cutoff_min": 60}}
    assert b.options["cutoff_min"] == 90 and b.options["reference"] == "0301" and b.options["decay"] == "exp:45:0.1"
    assert a.out == files / "out" / "a.gpkg" and a.tables is None and a.od is None
    assert b.tables == files / "out" / "b_tables" and b.od == files / "out" / "b_od.parquet"


@pytest.mark.parametrize("change, message", [
    (("cutoff = 60", "cutof = 60"), r"\[defaults\]: unknown key 'cutof'\. Did you mean 'cutoff'"),
    (("time_unit = \"min\"\n\n[[run]]", "time_units = \"min\"\n\n[[run]]"), r"unknown key 'time_units'\. Did you mean 'time_unit'"),
    (('network = "roads"', 'network = "road"'), r"network 'road' is not defined\. Did you mean 'roads'"),
    (('path = "zones2.gpkg"', 'path = "nowhere.gpkg"'), r"zones file '.*nowhere\.gpkg' does not exist"),
    (('out = "out/b.gpkg"', 'out = "out/a.gpkg"'), r"output '.*a\.gpkg' is also written by run 'a'"),
    (('out = "out/c.gpkg"', 'out = "out/c.shp"'), r"must be a GeoPackage"),
    (('od = "out/b_od.parquet"', 'od = "out/b_od.csv"'), r"must end in \.parquet"),
    (("limits = [30, 90]", "limits = [30, -5]"), r"limits must be a list of positive minutes"),
    (("workers = 2", "workers = 2.5"), r"'workers' must be an integer, got 2\.5"),
    (('decay = "exp:45:0.1"', 'decay = "exponent:45"'), r"unknown decay"),
    (('name = "b"', 'name = "a"'), r"run name 'a' is used twice"),
    (("ferry_wait_min = 15", "ferry_wait = 15"), r"unknown key 'ferry_wait'\. Did you mean 'ferry_wait_min'"),
])
def test_validation_errors(files, change, message):
    old, new = change
    assert old in BASE
    with pytest.raises(InputError, match=message):
        _config(files, BASE.replace(old, new, 1))


def test_structure_errors(files):
    with pytest.raises(InputError, match="not valid TOML"):
        _config(files, "[[run]\n")
    with pytest.raises(InputError, match="no runs"):
        _config(files, "[defaults]\ncutoff = 90\n")
    with pytest.raises(InputError, match="unknown key 'runs'. Did you mean 'run'"):
        _config(files, "[[runs]]\nname = 'x'\n")
    with pytest.raises(InputError, match="'zones' is missing"):
        _config(files, '[[run]]\nnetwork = { path = "roads.gpkg" }\nout = "x.gpkg"\n')
    with pytest.raises(InputError, match="does not exist"):
        load_config(files / "missing.toml")
    with pytest.raises(InputError, match="format 'shp' is unknown"):
        parse_config({"run": [{"network": {"path": "roads.gpkg", "format": "shp"}, "zones": {"path": "zones.gpkg"},
                               "out": "x.gpkg"}]}, files)
