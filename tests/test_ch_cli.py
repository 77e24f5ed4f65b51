"""`regio centrality --engine ch|dijkstra`: same results, the hierarchy cached next to the network
file and reported in the run summary (cache miss, then hit)."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyogrio
import pytest

from geoproc.cli import main

NETWORK_ARGS = ["--time-fw-field", "time_min", "--time-unit", "min", "--class-field", "highway",
                "--direction-field", "oneway", "--link-id-field", "link_id"]


@pytest.fixture
def demo_files(tmp_path, monkeypatch):
    from centrality.synthetic import demo_region, write_demo_data

    monkeypatch.delenv("REGIO_CH_CACHE", raising=False)
    roads, zones = write_demo_data(tmp_path / "inputs", region=demo_region())
    return roads, zones


def _run(roads, zones, out, engine):
    return main(["centrality", "--network", str(roads), *NETWORK_ARGS, "--zones", str(zones), "--zones-layer", "zones",
                 "--out", str(out), "--engine", engine, "--workers", "2"])


def _summary(path):
    return pyogrio.read_dataframe(path, layer="run_summary", read_geometry=False).set_index("key")["value"]


def test_engine_option_same_results_and_cache_reported(demo_files, tmp_path, capsys):
    roads, zones = demo_files
    assert _run(roads, zones, tmp_path / "dij.gpkg", "dijkstra") == 0
    assert _run(roads, zones, tmp_path / "ch1.gpkg", "ch") == 0
    first = capsys.readouterr().out
    assert "engine ch; hierarchy built" in first
    cache = roads.parent / ".regio-cache"
    assert sorted(p.name.split("-")[1] for p in cache.iterdir()) == ["metric", "topology"]
    assert _run(roads, zones, tmp_path / "ch2.gpkg", "ch") == 0
    assert "engine ch; hierarchy from the disk cache" in capsys.readouterr().out
    s1, s2, sd = _summary(tmp_path / "ch1.gpkg"), _summary(tmp_path / "ch2.gpkg"), _summary(tmp_path / "dij.gpkg")
    assert s1["engine_used"] == "ch" and s1["ch_metric"] == "computed" and s2["ch_metric"] == "disk"
    assert sd["engine_used"] == "dijkstra" and sd["engine"] == "dijkstra"
    a = gpd.read_file(tmp_path / "dij.gpkg", layer="zones")
    b = gpd.read_file(tmp_path / "ch2.gpkg", layer="zones")
    assert a["zone_id"].tolist() == b["zone_id"].tolist()
    for col in ("jobs_30min", "jobs_45min", "jobs_60min", "jobs_90min"):
        assert a[col].tolist() == b[col].tolist()             # the same pairs within each limit
    np.testing.assert_allclose(b["access_decay"], a["access_decay"], rtol=1e-12)
    np.testing.assert_allclose(b["index"], a["index"], rtol=1e-12)


def test_engine_option_rejects_unknown(demo_files, tmp_path, capsys):
    roads, zones = demo_files
    try:
        code = _run(roads, zones, tmp_path / "x.gpkg", "fast")
    except SystemExit as exc:   # argparse's own exit
        code = exc.code
    assert code == 2
    assert "invalid choice: 'fast'" in capsys.readouterr().err
    assert not (tmp_path / "x.gpkg").exists()
