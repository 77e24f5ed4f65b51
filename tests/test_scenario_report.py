"""CLI `regio scenario run`, report files, and "bad scenario -> clear error, nothing written"."""
from __future__ import annotations

import base64
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from scenario_support import STEP, X0, grid_network  # noqa: E402

from geoproc.cli import main


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A 6 × 4 grid of 1 km roads at 60 km/h (GPKG) and one zone per node (two kommuner)."""
    folder = tmp_path_factory.mktemp("scen_inputs")
    net = grid_network(nx=6, ny=4)
    roads = net.links[["ref", "geometry"]].reset_index().assign(speed=60.0)
    roads.to_file(folder / "roads.gpkg", driver="GPKG")
    xy = net.node_xy
    zones = gpd.GeoDataFrame({"zone_id": [f"z{i}" for i in range(len(xy))],
                              "kommune": np.where(xy[:, 0] < X0 + 2.5 * STEP, "9901", "9902"),
                              "population": 1000.0, "jobs": np.where(np.arange(len(xy)) == 0, 5000.0, 100.0)},
                             geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:25833")
    zones.to_file(folder / "zones.gpkg", driver="GPKG")
    return folder


GOOD = """
[scenario]
name = "test"
[inputs]
network = "roads.gpkg"
zones = "zones.gpkg"
[centrality]
cutoff_min = 90
limits_min = [5, 10]
[impact]
start_year = 2025
end_year = 2040
[places]
west = "z0"
east = "z5"
[[variants]]
name = "fast_e6"
opening_year = 2030
  [[variants.edits]]
  action = "set_speed"
  where = 'ref == "E6"'
  speed_kmh = 120
"""


def _write_toml(folder: Path, text: str) -> Path:
    path = folder / "scen.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_cli_run_writes_full_report(inputs, tmp_path, capsys):
    toml = _write_toml(inputs, GOOD)
    out = tmp_path / "out"
    rc = main(["scenario", "run", str(toml), "--speed-field", "speed", "--link-id-field", "link_id", "--group-field", "kommune", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    names = {p.name for p in out.iterdir()}
    assert {"scenarios.csv", "fast_e6_summary.csv", "fast_e6_zones.csv", "fast_e6_yearly.csv",
            "fast_e6_travel_times.csv", "fast_e6.gpkg", "fast_e6_delta_index.png", "fast_e6_delta_jobs.png",
            "report.html"} <= names
    assert not [n for n in names if n.startswith(".")]               # no temporary leftovers
    tt = pd.read_csv(out / "fast_e6_travel_times.csv")
    row = tt[(tt["from"] == "west") & (tt["to"] == "east")].iloc[0]
    # 5 km of E6 (bottom row): 60 km/h -> 5 min; 120 km/h -> 2.5 min (zones sit on nodes: access 0)
    assert row["baseline_min"] == pytest.approx(5.0, abs=1e-9)
    assert row["scenario_min"] == pytest.approx(2.5, abs=1e-9)
    summary = pd.read_csv(out / "fast_e6_summary.csv", dtype={"kommune": str}).set_index("kommune")
    z = pd.read_csv(out / "fast_e6_zones.csv", dtype={"kommune": str})
    # kommune Δ index is the population-weighted mean of its zones (equal populations: the mean)
    assert summary.loc["9902", "delta_index"] == pytest.approx(z.loc[z["kommune"] == "9902", "delta_index"].mean(), rel=1e-12)
    assert summary.loc["9902", "delta_migrants_per_year"] == pytest.approx(
        0.0272193 * summary.loc["9902", "delta_index"] / 1000 * summary.loc["9902", "population"], rel=1e-12)
    # opening 2030 -> effects 2031..2040 = 10 years
    assert summary.loc["9902", "delta_population_2040"] == pytest.approx(
        10 * summary.loc["9902", "delta_migrants_per_year"], rel=1e-12)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 3 and "<table" in page
    png = page.split("data:image/png;base64,")[1].split("'")[0]
    assert base64.b64decode(png)[:8] == b"\x89PNG\r\n\x1a\n"
    links = gpd.read_file(out / "fast_e6.gpkg", layer="edited_links")
    assert sorted(links["link_id"]) == [100, 101, 102, 103, 104]      # the five E6 links
    assert "fast_e6: 5 links edited" in capsys.readouterr().out


BAD = {
    "unknown ids": ('action = "close"\n  ids = [100, 777, 778]', "unknown link id(s) 777, 778"),
    "empty selection": ('action = "close"\n  where = \'ref == "E39"\'', "matches no links"),
    "negative speed": ('action = "set_speed"\n  ids = [100]\n  speed_kmh = -50', "must be a positive number"),
    "other CRS": ('action = "close"\n  bbox = [10.3, 63.3, 10.5, 63.5]', "probably in another CRS"),
    "overlap": ('action = "close"\n  ids = [100, 101]\n  [[variants.edits]]\n  action = "scale_time"\n'
                '  where = \'ref == "E6"\'\n  factor = 0.5', "both touch link(s) 100, 101"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_scenario_fails_before_computing_and_writes_nothing(inputs, tmp_path, capsys, monkeypatch, case):
    import centrality.paths

    def no_computation(*a, **k):
        raise AssertionError("travel times computed before validation")

    monkeypatch.setattr(centrality.paths, "od_times", no_computation)
    body, message = BAD[case]
    good_variant = GOOD.split("[[variants]]")[0]
    toml = _write_toml(inputs, good_variant + "[[variants]]\nname = \"ok\"\n  [[variants.edits]]\n  action = \"close\"\n"
                       "  ids = [110]\n[[variants]]\nname = \"bad\"\n  [[variants.edits]]\n  " + body + "\n")
    out = tmp_path / "out"
    rc = main(["scenario", "run", str(toml), "--speed-field", "speed", "--link-id-field", "link_id", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and "variant 'bad'" in err
    assert not out.exists() or not any(out.iterdir())


def test_demo_scenarios_on_synthetic_region(tmp_path):
    from centrality.builders.lines import network_from_lines
    from centrality.synthetic import demo_region
    from geoproc.scenario import run_demo

    written = run_demo(tmp_path, maps=False)
    assert (tmp_path / "report.html") in written
    runs = pd.read_csv(tmp_path / "scenarios.csv").set_index("variant")
    region = demo_region()
    net = network_from_lines(region.roads, **region.network_options)
    n_motorway = int((net.links["highway"] == "motorway").sum())
    n_ramps = int((net.links["highway"] == "motorway_link").sum())
    assert runs.loc["e6_upgrade", "edited_links"] == n_motorway + n_ramps
    assert runs.loc["e6_upgrade", "delta_migrants_per_year_total"] > 0
    tt = pd.read_csv(tmp_path / "e6_upgrade_travel_times.csv")
    m = tt[(tt["from"] == "Midtby") & (tt["to"] == "Storby")].iloc[0]
    assert m["scenario_min"] < m["baseline_min"]
    # ferry: 25 min crossing + 60/(2·3) = 10 min wait replaces the old ferry time (hand computation)
    old_ferry_s = float(net.links.loc[net.links["kind"] == "ferry", "time_fw_s"].iloc[0])
    ft = pd.read_csv(tmp_path / "oyvik_ferry_travel_times.csv")
    d = ft[(ft["from"] == "Øyvik") & (ft["to"] == "Storby")].iloc[0]
    assert d["delta_min"] == pytest.approx((35 * 60 - old_ferry_s) / 60, abs=1e-9)
