"""The transactional output writer (centrality.fileio.OutputSet) and how the commands use it."""
from __future__ import annotations

import json
import os
import sqlite3

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from centrality.errors import InputError
from centrality.fileio import GPKG_DATASET_OPTIONS, MANIFEST_NAME, OutputSet, write_gpkg_layers
from geoproc.cli import main


def _gdf():
    return gpd.GeoDataFrame({"a": [1, 2]}, geometry=shapely.points([[0, 0], [1, 1]]), crs="EPSG:25833")


def _staging_dirs(folder):
    return [p for p in folder.rglob(".regio-staging-*")]


def test_commit_moves_everything_and_writes_a_manifest(tmp_path):
    out = tmp_path / "run"
    with OutputSet(inputs=[], rests_on={"data": "SYNTHETIC"}, command="test") as outputs:
        outputs.declare_folder(out)
        outputs.check()
        outputs.write_table(out / "a.csv", pd.DataFrame({"x": [1, 2]}))
        outputs.write_gpkg(out / "sub" / "layers.gpkg", {"points": _gdf(), "table": pd.DataFrame({"k": ["v"]})})
        outputs.write_text(out / "note.txt", "hello")
        assert not (out / "a.csv").exists()            # staged only, nothing under the final names yet
        written = outputs.commit()
    assert [p.name for p in written] == ["a.csv", "note.txt", "layers.gpkg", MANIFEST_NAME]
    assert pd.read_csv(out / "a.csv")["x"].tolist() == [1, 2]
    assert not _staging_dirs(tmp_path)
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert manifest["generator"] == "regio-toolkit" and manifest["command"] == "test"
    assert manifest["rests_on"] == {"data": "SYNTHETIC"}
    sizes = {f["path"]: f["bytes"] for f in manifest["files"]}
    assert sizes == {"a.csv": os.path.getsize(out / "a.csv"), "note.txt": 5,
                     "sub/layers.gpkg": os.path.getsize(out / "sub" / "layers.gpkg")}


def test_an_error_before_commit_leaves_nothing_behind(tmp_path):
    out = tmp_path / "new" / "run"
    with pytest.raises(RuntimeError, match="boom"):
        with OutputSet() as outputs:
            outputs.declare_folder(out)
            outputs.write_table(out / "a.csv", pd.DataFrame({"x": [1]}))
            raise RuntimeError("boom")
    assert not (tmp_path / "new").exists()             # created folders removed again


def test_a_failing_rename_restores_the_earlier_outputs(tmp_path, monkeypatch):
    out = tmp_path / "run"
    with OutputSet() as first:
        first.declare_folder(out)
        first.write_text(out / "a.txt", "old a")
        first.write_text(out / "b.txt", "old b")
        first.commit()
    real_replace = os.replace
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if str(dst).endswith("b.txt") and not str(src).endswith("b.txt.previous-1") and ".regio-staging" in str(src):
            raise OSError("disk full")
        return real_replace(src, dst)

    with OutputSet() as second:
        second.declare_folder(out)
        second.write_text(out / "a.txt", "new a")
        second.write_text(out / "b.txt", "new b")
        monkeypatch.setattr(os, "replace", flaky)
        with pytest.raises(OSError, match="disk full"):
            second.commit()
    monkeypatch.setattr(os, "replace", real_replace)
    assert (out / "a.txt").read_text() == "old a" and (out / "b.txt").read_text() == "old b"
    assert not _staging_dirs(tmp_path)


def test_stale_files_of_an_earlier_run_are_removed_but_nothing_else(tmp_path):
    out = tmp_path / "run"
    with OutputSet() as first:
        first.declare_folder(out)
        first.write_text(out / "variant_a.csv", "a")
        first.write_text(out / "variant_b.csv", "b")
        first.commit()
    (out / "mine.txt").write_text("a user's own file")
    with OutputSet() as second:
        second.declare_folder(out)
        second.write_text(out / "variant_a.csv", "a2")
        second.commit()
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt", MANIFEST_NAME, "variant_a.csv"]


def test_outputs_that_are_inputs_are_refused(tmp_path):
    zones = tmp_path / "zones.gpkg"
    write_gpkg_layers({"zones": _gdf()}, zones)
    outputs = OutputSet(inputs=[f"{zones}|layername=zones"])
    outputs.declare(tmp_path / "." / "zones.gpkg", "--out")
    with pytest.raises(InputError, match=r"--out '.*zones\.gpkg' is an input of this run \(an input GeoPackage; "
                                         r"writing any layer rewrites the whole file\)"):
        outputs.check()
    data = tmp_path / "data"
    data.mkdir()
    outputs = OutputSet(inputs=[data])
    outputs.declare_folder(data / "results", what="--out-dir")
    with pytest.raises(InputError, match="inside the input folder"):
        outputs.check()
    outputs = OutputSet()
    outputs.declare(tmp_path, "--out")
    with pytest.raises(InputError, match="is a folder"):
        outputs.check()


def test_geopackages_are_version_1_2_for_qgis_3_22(tmp_path):
    """GDAL >= 3.9 writes GeoPackage 1.4 by default, which QGIS 3.22 (GDAL 3.6) warns about."""
    assert GPKG_DATASET_OPTIONS == {"VERSION": "1.2"}
    path = write_gpkg_layers({"points": _gdf(), "more": _gdf()}, tmp_path / "x.gpkg")
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47   # "GPKG"
        assert db.execute("PRAGMA user_version").fetchone()[0] == 10200          # 1.2.0
    assert gpd.read_file(path, layer="more")["a"].tolist() == [1, 2]


def test_cli_refuses_to_overwrite_its_zones_input(tmp_path, capsys):
    from centrality.synthetic import write_demo_data

    roads, zones = write_demo_data(tmp_path)
    before = zones.read_bytes()
    rc = main(["centrality", "--network", str(roads), "--time-fw-field", "time_min", "--time-unit", "min",
               "--zones", str(zones), "--zones-layer", "zones", "--out", str(zones)])
    err = capsys.readouterr().err
    assert rc == 2 and "is an input of this run" in err
    assert zones.read_bytes() == before


def test_cli_reruns_remove_stale_tables(tmp_path, capsys):
    """A rerun without excluded zones must not leave the earlier run's excluded_zones.csv behind."""
    from centrality.synthetic import demo_region

    region = demo_region()
    far = region.zones.iloc[[0]].copy()
    far["zone_id"] = "far"
    far["population"], far["jobs"] = 1.0, 1.0
    far = far.set_geometry(far.geometry.translate(0, 60_000))
    roads = tmp_path / "roads.gpkg"
    region.roads.to_file(roads, layer="roads")
    with_far = tmp_path / "zones_far.gpkg"
    pd.concat([region.zones, far]).pipe(gpd.GeoDataFrame).to_file(with_far, layer="zones")
    plain = tmp_path / "zones.gpkg"
    region.zones.to_file(plain, layer="zones")
    base = ["centrality", "--network", str(roads), "--time-fw-field", "time_min", "--time-unit", "min",
            "--zones-layer", "zones", "--limits", "30", "--out", str(tmp_path / "res.gpkg"), "--tables",
            str(tmp_path / "tables"), "--table-format", "csv"]
    assert main([*base, "--zones", str(with_far)]) == 0
    stdout = capsys.readouterr().out
    assert "1 excluded" in stdout and "excluded zones hold 1 residents" in stdout
    assert (tmp_path / "tables" / "excluded_zones.csv").exists()
    assert main([*base, "--zones", str(plain)]) == 0
    assert not (tmp_path / "tables" / "excluded_zones.csv").exists()
    assert (tmp_path / "tables" / "zones.csv").exists()
    manifest = json.loads((tmp_path / "res.manifest.json").read_text())
    assert {f["path"] for f in manifest["files"]} == {"res.gpkg", "tables/zones.csv", "tables/summary.json"}
    assert manifest["rests_on"]["centrality"]["n_excluded"] == 0
