"""Services sub-index and SSB's full index (centrality.services): a case worked by hand, a point
layer, the OSM tag mapping on the real oslo_east extract (checked against per-zone Dijkstra), and
the CLI options."""
from __future__ import annotations

import math
import os
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.dirname(__file__), "..", ".cache", "numba"))

from centrality.errors import InputError  # noqa: E402
from centrality.network import RoadNetwork  # noqa: E402
from centrality.services import (OSM_SERVICE_TYPES, ServiceLocations, full_index, parse_weight,  # noqa: E402
                                 service_accessibility, service_times, services_from_osm, services_from_points,
                                 services_table)
from centrality.settings import CentralitySettings  # noqa: E402

NAN = np.nan


@pytest.fixture
def line():
    """0 -> 1 one-way, 1 <-> 2 <-> 3, 10 minutes per link; nodes 1 km apart on a line."""
    xy = np.column_stack([np.arange(4) * 1000.0, np.zeros(4)])
    return RoadNetwork.from_arrays(xy, u=[0, 1, 2], v=[1, 2, 3], time_fw_s=[600.0] * 3, time_bw_s=[NAN, 600.0, 600.0])


def test_hand_worked_case(line):
    """Zones at nodes 0 and 3 (no access time); type A at node 1 with 5 min access, type B at
    nodes 2 and 3. Exponential decay, w(t) = 10^(-t/45):
    zone 0: A = 10 + 5 = 15 min, B = 20 min (node 2), S = 10^(-15/45) + 10^(-20/45);
    zone 3: A = 20 + 5 = 25 min (3 -> 2 -> 1), B = 0 min, S = 10^(-25/45) + 1."""
    zones = SimpleNamespace(ids=np.array([10, 13]), node=np.array([0, 3]), access_s=np.zeros(2))
    svc = ServiceLocations(xy=np.zeros((3, 2)), types=np.array(["A", "B", "B"], dtype=object),
                           node=np.array([1, 2, 3]), access_s=np.array([300.0, 0.0, 0.0]), source="hand")
    times = service_times(line, zones, svc, cutoff_min=90)
    assert times.loc[10, "A"] == 900.0 and times.loc[10, "B"] == 1200.0
    assert times.loc[13, "A"] == 1500.0 and times.loc[13, "B"] == 0.0
    acc = service_accessibility(times, limits_min=(10, 20, 30))
    assert acc["services_10min"].tolist() == [0.0, 1.0]
    assert acc["services_20min"].tolist() == [2.0, 1.0]
    assert acc["services_30min"].tolist() == [2.0, 2.0]
    np.testing.assert_allclose(acc["services_decay"], [10 ** (-15 / 45) + 10 ** (-20 / 45), 10 ** (-25 / 45) + 1.0],
                               rtol=1e-12)
    # cutoff 20 min: zone 13 no longer reaches A (25 min); zone 10 reaches B at exactly 20 min
    t20 = service_times(line, zones, svc, cutoff_min=20)
    assert math.isinf(t20.loc[13, "A"]) and t20.loc[10, "B"] == 1200.0
    # the full index: 2/3 jobs + 1/3 services, the services index scaled to its largest value
    table, summary = services_table(line, zones, svc, CentralitySettings(limits_min=(30, 90), workers=1),
                                    jobs_index=np.array([900.0, 600.0]))
    s = table["services_decay"].to_numpy()
    services_index = 1000 * np.log1p(s) / np.log1p(s.max())
    np.testing.assert_allclose(table["services_index"], services_index, rtol=1e-12)
    np.testing.assert_allclose(table["index_full"], 2 / 3 * np.array([900.0, 600.0]) + services_index / 3, rtol=1e-12)
    assert summary["service_types"] == 2 and summary["service_counts"] == "A 1, B 2"
    assert summary["jobs_weight"] == pytest.approx(2 / 3)


def test_weights_and_full_index():
    assert parse_weight("1/3") == pytest.approx(1 / 3) and parse_weight(0.25) == 0.25
    np.testing.assert_allclose(full_index([900.0], [300.0], "1/2"), [600.0])
    with pytest.raises(InputError, match="between 0 and 1"):
        parse_weight(1.5)
    with pytest.raises(InputError, match="not a number"):
        parse_weight("a third")


def test_point_layer_with_type_field(line, tmp_path):
    pts = gpd.GeoDataFrame({"kind": ["shop", "doctor", "shop"]},
                           geometry=[shapely.Point(1000, 50), shapely.Point(3000, 0), shapely.Point(99_000, 0)],
                           crs="EPSG:25833")
    pts.to_file(tmp_path / "svc.gpkg")
    svc = services_from_points(tmp_path / "svc.gpkg", "kind", line, access_speed_kmh=18.0, max_snap_m=5000)
    assert svc.type_list == ["doctor", "shop"] and svc.excluded == 1       # the far point is left out
    assert svc.node.tolist() == [1, 3] and svc.access_s.tolist() == [10.0, 0.0]   # 50 m at 5 m/s
    with pytest.raises(InputError, match="no field 'type'"):
        services_from_points(pts, "type", line)
    bad = pts.assign(kind=[None, "x", "y"])
    with pytest.raises(InputError, match="have no 'kind' value"):
        services_from_points(bad, "kind", line)


@pytest.mark.shared
def test_osm_mapping_on_oslo_east_matches_per_zone_dijkstra():
    from centrality.builders.osm import network_from_osm_pbf
    from centrality.paths import node_times
    from tests.conftest import shared_path

    pbf = shared_path("oslo_east.osm.pbf")
    net = network_from_osm_pbf(pbf)
    svc = services_from_osm(pbf, net)
    # the extract's service features (counted with osmium independently of the mapping code)
    assert svc.counts == {"department_store": 1, "fuel": 2, "restaurant_cafe": 1}
    assert all(t in OSM_SERVICE_TYPES for t in svc.type_list)
    rng = np.random.default_rng(0)
    zones = SimpleNamespace(ids=np.arange(60), node=rng.choice(net.n_nodes, 60, replace=False),
                            access_s=rng.uniform(0, 120, 60))
    cutoff = 10.0
    times = service_times(net, zones, svc, cutoff_min=cutoff)
    for i in range(60):   # oracle: a forward search from the zone, nearest location of each type
        d = node_times(net, zones.node[i])
        for k in svc.type_list:
            sel = svc.types == k
            best = zones.access_s[i] + np.min(d[svc.node[sel]] + svc.access_s[sel])
            expected = best if best <= cutoff * 60 else np.inf
            got = times.iloc[i][k]
            assert (math.isinf(expected) and math.isinf(got)) or abs(got - expected) <= 1e-6
    assert np.isfinite(times.to_numpy()).any() and not np.isfinite(times.to_numpy()).all()


def test_cli_services_options(tmp_path, capsys):
    from centrality.synthetic import demo_region, write_demo_data
    from geoproc.cli import main

    region = demo_region()
    roads, zones_file = write_demo_data(tmp_path / "in", region=region)
    towns = region.towns
    svc = gpd.GeoDataFrame({"service": ["grocery"] * len(towns) + ["hospital"]},
                           geometry=gpd.points_from_xy(list(towns["x"]) + [towns["x"].iloc[0]],
                                                       list(towns["y"]) + [towns["y"].iloc[0]]), crs=region.crs)
    svc.to_file(tmp_path / "services.gpkg")
    base = ["centrality", "--network", str(roads), "--time-fw-field", "time_min", "--time-unit", "min",
            "--class-field", "highway", "--direction-field", "oneway", "--link-id-field", "link_id",
            "--zones", str(zones_file), "--zones-layer", "zones", "--workers", "1"]
    out = tmp_path / "res.gpkg"
    assert main([*base, "--out", str(out), "--services", str(tmp_path / "services.gpkg"),
                 "--service-type-field", "service", "--services-weight", "1/3", "--group-field", "kommune"]) == 0
    stdout = capsys.readouterr().out
    assert "full index (jobs 0.667, services 0.333; 2 service types" in stdout
    z = gpd.read_file(out, layer="zones")
    np.testing.assert_allclose(z["index_full"], 2 / 3 * z["index"] + z["services_index"] / 3, rtol=1e-12)
    assert z["services_90min"].between(0, 2).all() and z["services_90min"].max() == 2
    groups = gpd.read_file(out, layer="groups")
    assert "index_full" in groups.columns
    code = main([*base, "--out", str(tmp_path / "x.gpkg"), "--services", str(tmp_path / "services.gpkg"),
                 "--service-type-field", "kind"])
    assert code == 2
    assert "has no field 'kind'" in capsys.readouterr().err
    assert not (tmp_path / "x.gpkg").exists()
