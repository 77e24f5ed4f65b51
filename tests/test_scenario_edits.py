"""Scenario definition, selection, edits and incremental recomputation (hand-made networks)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from scenario_support import STEP, X0, Y0, grid_network, node_at_distance, random_network, zones_at  # noqa: E402

from centrality.errors import InputError
from centrality.paths import node_times, od_times
from geoproc.scenario.definition import parse_scenarios, parse_variant, resolve_variant
from geoproc.scenario.edits import apply_variant
from geoproc.scenario.incremental import affected_origins, incremental_od, od_frame


def _resolve(net, edits, crs=None, base_dir="."):
    return resolve_variant(parse_variant({"name": "v", "edits": edits}), net, geom_crs=crs, base_dir=base_dir)


def _ids(net, **select):
    return _resolve(net, [{"action": "set_speed", "speed_kmh": 50, **select}]).edits[0].link_ids.tolist()


# ------------------------------------------------------------------------------------ selection
def test_selection_by_id_attribute_box_and_buffer_exact_sets():
    net = grid_network()  # 4 × 3 grid; horizontal links 100..108 (row 0: 100-102 = E6), vertical 109..116
    assert _ids(net, ids=[103, 100]) == [100, 103]
    assert _ids(net, where='ref == "E6"') == [100, 101, 102]
    # bbox around the left column x in [X0-10, X0+10]: the two vertical links 109 (0-4), 113 (4-8)
    assert _ids(net, bbox=[X0 - 10, Y0 - 10, X0 + 10, Y0 + 2 * STEP + 10], predicate="within") == [109, 113]
    # same box with "intersects" also catches the horizontal links that start at x = X0
    assert _ids(net, bbox=[X0 - 10, Y0 - 10, X0 + 10, Y0 + 2 * STEP + 10]) == [100, 103, 106, 109, 113]
    # a line along y = Y0 + 1 km from x0+0.5 km to x0+2.5 km with a 100 m buffer: row-1 links 103,104,105,
    # plus vertical links crossing that y at x = 1 km and 2 km (110 (1-5), 111 (2-6), 114 (5-9), 115 (6-10))
    line = [[X0 + 500, Y0 + STEP], [X0 + 2500, Y0 + STEP]]
    assert _ids(net, line=line, buffer_m=100) == [103, 104, 105, 110, 111, 114, 115]
    # criteria combine with AND
    assert _ids(net, where='ref == "E6"', bbox=[X0 + 1500, Y0 - 10, X0 + 3100, Y0 + 10]) == [101, 102]


def test_polygon_and_line_from_geojson_in_wgs84_are_reprojected(tmp_path):
    import geopandas as gpd
    from shapely.geometry import LineString

    net = grid_network()
    line = gpd.GeoSeries([LineString([(X0 + 500, Y0 + STEP), (X0 + 2500, Y0 + STEP)])], crs=net.crs).to_crs(4326)
    path = tmp_path / "corridor.geojson"
    gpd.GeoDataFrame(geometry=line).to_file(path, driver="GeoJSON")
    assert _resolve(net, [{"action": "close", "line": "corridor.geojson", "buffer_m": 100}],
                    base_dir=tmp_path).edits[0].link_ids.tolist() == [103, 104, 105, 110, 111, 114, 115]


# ---------------------------------------------------------------------------------- validation
@pytest.mark.parametrize("edits, message", [
    ([{"action": "close", "ids": [100, 999, 998]}], "unknown link id(s) 998, 999"),
    ([{"action": "close", "where": 'ref == "E18"'}], "matches no links"),
    ([{"action": "set_speed", "ids": [100], "speed_kmh": -80}], "'speed_kmh' must be a positive number"),
    ([{"action": "set_speed", "ids": [100], "speed_kmh": 0}], "'speed_kmh' must be a positive number"),
    ([{"action": "scale_time", "ids": [100], "factor": 0}], "'factor' must be a positive number"),
    ([{"action": "close", "bbox": [10.0, 63.0, 10.5, 63.5]}], "probably in another CRS"),
    ([{"action": "close", "ids": [100, 101]}, {"action": "set_speed", "where": 'ref == "E6"', "speed_kmh": 90}],
     "edits 1 and 2 both touch link(s) 100, 101"),
    ([{"action": "close", "ids": [100], "speed": 3}], "unknown key 'speed'"),
    ([{"action": "widen", "ids": [100]}], "unknown action 'widen'"),
    ([{"action": "ferry", "ids": [100], "crossing_min": 20, "departures_per_hour": 2}], "not kind == \"ferry\""),
    ([{"action": "close", "where": "refx == 'E6'"}], "cannot evaluate where"),
    ([{"action": "add_link", "line": [[X0, Y0], [X0 + 5000, Y0 + 5000]], "speed_kmh": 80}], "from the nearest network node"),
])
def test_bad_edits_raise_clear_input_errors(edits, message):
    with pytest.raises(InputError) as err:
        _resolve(grid_network(), edits)
    assert message in str(err.value)


def test_geojson_with_metric_coordinates_but_no_crs_fails(tmp_path):
    # RFC 7946 GeoJSON without 'crs' is lon/lat; UTM numbers in it are a CRS mistake
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
                    "geometry": {"type": "LineString", "coordinates": [[X0, Y0], [X0 + 2000, Y0]]}}]}))
    with pytest.raises(InputError, match="not degrees"):
        _resolve(grid_network(), [{"action": "close", "line": str(path), "buffer_m": 50}])


def test_inline_lonlat_with_declared_crs_is_accepted():
    import pyproj

    lon, lat = pyproj.Transformer.from_crs(25833, 4326, always_xy=True).transform(X0 + 1500, Y0)
    ids = _resolve(grid_network(), [{"action": "close", "line": [[lon, lat], [lon + 1e-5, lat]], "buffer_m": 10}],
                   crs="EPSG:4326").edits[0].link_ids
    assert ids.tolist() == [101]


def test_scenario_file_structure_errors():
    with pytest.raises(InputError, match="no \\[\\[variants\\]\\]"):
        parse_scenarios({"scenario": {"name": "x"}})
    with pytest.raises(InputError, match="unknown key 'variant'"):
        parse_scenarios({"variant": []})
    with pytest.raises(InputError, match="has no edits"):
        parse_scenarios({"variants": [{"name": "a"}]})
    with pytest.raises(InputError, match="unique"):
        parse_scenarios({"variants": [{"name": "a", "edits": [{"action": "close", "ids": [1]}]}] * 2})


# --------------------------------------------------------------------------------------- edits
def test_edits_are_pure_and_set_times_as_specified():
    net = grid_network()
    before = net.links.copy()
    rv = _resolve(net, [{"action": "set_speed", "ids": [100], "speed_kmh": 36},          # 1000 m / 10 m/s = 100 s
                        {"action": "set_time", "ids": [101], "time_min": 2, "direction": "forward"},
                        {"action": "scale_time", "ids": [102], "factor": 0.5},
                        {"action": "close", "ids": [103], "direction": "backward"}])
    res = apply_variant(net, rv)
    pd.testing.assert_frame_equal(net.links, before)          # original untouched
    t = res.network.links
    assert (t.loc[100, "time_fw_s"], t.loc[100, "time_bw_s"]) == (100.0, 100.0)
    assert (t.loc[101, "time_fw_s"], t.loc[101, "time_bw_s"]) == (120.0, 60.0)
    assert (t.loc[102, "time_fw_s"], t.loc[102, "time_bw_s"]) == (30.0, 30.0)
    assert t.loc[103, "time_fw_s"] == 60.0 and np.isnan(t.loc[103, "time_bw_s"])
    assert res.edited_link_ids.tolist() == [100, 101, 102, 103]
    assert len(res.changed_edges) == 2 + 1 + 2 + 1


def test_new_link_connects_and_shortens_paths():
    net = grid_network(time_s=60.0)
    # node 0 (X0, Y0) to node 11 (X0+3 km, Y0+2 km): 5 links × 60 s = 300 s in the grid
    assert node_times(net, 0)[11] == 300.0
    # new diagonal 0 -> 11, drawn 40 m off the nodes (snapped), length sqrt(3²+2²) km at 90 km/h (25 m/s)
    line = [[X0 + 30, Y0 - 20], [X0 + 3 * STEP - 25, Y0 + 2 * STEP + 10]]
    res = apply_variant(net, _resolve(net, [{"action": "add_link", "line": line, "speed_kmh": 90, "two_way": False}]))
    new_id = res.added_link_ids[0]
    assert new_id == 117 and res.network.links.loc[new_id, ["u", "v"]].tolist() == [0, 11]
    expected = np.hypot(3000.0, 2000.0) / 25.0  # 144.22 s
    assert node_times(res.network, 0)[11] == pytest.approx(expected, rel=1e-12)
    assert node_times(res.network, 11)[0] == 300.0       # one-way: the way back is unchanged
    assert node_times(res.network, 0)[7] == pytest.approx(min(240.0, expected + 60.0), rel=1e-12)


def test_ferry_edit_changes_times_as_computed_by_hand():
    # a chain 0 -1- 1 =ferry= 2 -1- 3; road links 60 s, ferry 25 min crossing + 10 min mean wait
    from centrality.network import RoadNetwork

    xy = np.array([[X0, Y0], [X0 + 1000, Y0], [X0 + 9000, Y0], [X0 + 10000, Y0]])
    net = RoadNetwork.from_arrays(xy, [0, 1, 2], [1, 2, 3], [60.0, 35 * 60.0, 60.0],
                                  kind=["road", "ferry", "road"], link_ids=[1, 2, 3])
    assert node_times(net, 0)[3] == 60 + 2100 + 60
    res = apply_variant(net, _resolve(net, [{"action": "ferry", "where": 'kind == "ferry"', "crossing_min": 20,
                                             "departures_per_hour": 3}]))
    # 20 min crossing + 60/(2·3) = 10 min wait -> 30 min -> 1800 s
    assert res.network.links.loc[2, "time_fw_s"] == 1800.0
    assert node_times(res.network, 0)[3] == 60 + 1800 + 60
    assert node_times(res.network, 3)[0] == 60 + 1800 + 60


@pytest.mark.parametrize("edit, phrase", [
    # 1 km grid links at 60 km/h (60 s): 10 s = 360 km/h; × 0.3 = 200 km/h
    ({"action": "set_time", "ids": [100, 101], "time_s": 10}, "car speeds outside the plausible 1–150 km/h on 2 of 2"),
    ({"action": "scale_time", "where": 'ref == "E6"', "factor": 0.3}, "(link id: speed; 100: 200 km/h"),
    ({"action": "set_time", "ids": [100], "time_min": 0.1, "direction": "forward"}, "100: 600 km/h"),
    # new diagonal 0 -> 11: sqrt(3² + 2²) km = 3 606 m in 1 min = 216 km/h
    ({"action": "add_link", "line": [[X0, Y0], [X0 + 3 * STEP, Y0 + 2 * STEP]], "time_min": 1},
     "the new link is 3 606 m long, so its time of 1 min implies 216 km/h"),
])
def test_time_edits_implying_implausible_speeds_are_refused_unless_allowed(edit, phrase):
    net = grid_network()
    with pytest.raises(InputError) as err:
        _resolve(net, [edit])
    assert phrase in str(err.value) and "allow_implausible_speeds = true" in str(err.value)
    # the explicit per-edit flag accepts them, and the edit is applied as written
    res = apply_variant(net, _resolve(net, [{**edit, "allow_implausible_speeds": True}]))
    assert len(res.changed_edges) > 0


def test_implied_speed_check_hand_cases():
    from centrality.network import RoadNetwork

    # a chain 0 -150 m- 1 -1 km- 2 =8 km ferry= 3: road links at 54 and 60 km/h, the ferry 25 min
    xy = np.array([[X0, Y0], [X0 + 150, Y0], [X0 + 1150, Y0], [X0 + 9150, Y0]])
    net = RoadNetwork.from_arrays(xy, [0, 1, 2], [1, 2, 3], [10.0, 60.0, 25 * 60.0],
                                  kind=["road", "road", "ferry"], link_ids=[1, 2, 3])
    # links shorter than 200 m are not checked (times rounded to seconds imply anything there): 540 km/h ok
    assert _resolve(net, [{"action": "set_time", "ids": [1], "time_s": 1}]).edits[0].link_ids.tolist() == [1]
    # the 1 km link at 150 km/h (24 s) is plausible, at 24 s × 0.99 it is not (151.5 km/h)
    _resolve(net, [{"action": "set_time", "ids": [2], "time_s": 24}])
    with pytest.raises(InputError, match="2: 152 km/h"):
        _resolve(net, [{"action": "set_time", "ids": [2], "time_s": 23.76}])
    # ferry: 2 min crossing + 60/(2·30) = 1 min wait -> 3 min for 8 km = 160 km/h > 80 km/h
    with pytest.raises(InputError, match=r"ferry speeds outside the plausible 1–80 km/h .* 3: 160 km/h"):
        _resolve(net, [{"action": "ferry", "ids": [3], "crossing_min": 2, "departures_per_hour": 30}])
    # 6 min crossing + 1 min wait = 7 min: 68.6 km/h, a fast craft: accepted
    _resolve(net, [{"action": "ferry", "ids": [3], "crossing_min": 6, "departures_per_hour": 30}])
    # a slow-down to below 1 km/h (1 km in 2 hours) is as implausible as a speed-up
    with pytest.raises(InputError, match="2: 0.5 km/h"):
        _resolve(net, [{"action": "scale_time", "ids": [2], "factor": 120}])


def test_closure_can_only_increase_times_all_pairs():
    net = random_network(200, seed=3)
    ids = net.links.index[::7].tolist()
    res = apply_variant(net, _resolve(net, [{"action": "close", "ids": ids}]))
    before = np.vstack([node_times(net, s) for s in range(net.n_nodes)])
    after = np.vstack([node_times(res.network, s) for s in range(net.n_nodes)])
    assert (after >= before).all()
    assert (after > before).any()            # and it does bite somewhere


# -------------------------------------------------------------------------------- incremental
@pytest.mark.parametrize("kind", ["speedup", "slowdown", "closure", "new_link", "mixed"])
def test_incremental_equals_full_recomputation_exactly(kind):
    net = random_network(500, seed=7)
    zones = zones_at(np.arange(0, 500, 2), access_s=np.linspace(0, 120, 250))
    ids = net.links.index.to_numpy()
    xy = net.node_xy
    edits = {
        "speedup": [{"action": "scale_time", "ids": ids[10:70].tolist(), "factor": 0.6}],
        "slowdown": [{"action": "set_speed", "ids": ids[100:160].tolist(), "speed_kmh": 20}],
        "closure": [{"action": "close", "ids": ids[200:260].tolist()}],
        "new_link": [{"action": "add_link", "line": [xy[3].tolist(), xy[node_at_distance(net, 3, 8000)].tolist()],
                      "speed_kmh": 110}],
        "mixed": [{"action": "scale_time", "ids": ids[10:40].tolist(), "factor": 0.7},
                  {"action": "close", "ids": ids[300:320].tolist(), "direction": "forward"},
                  {"action": "add_link", "line": [xy[5].tolist(), xy[node_at_distance(net, 5, 8000)].tolist()],
                   "speed_kmh": 110}],
    }[kind]
    res = apply_variant(net, _resolve(net, edits))
    cutoff = 15.0
    base = od_times(net, zones, cutoff)
    inc = incremental_od(net, res.network, zones, base, res.changed_edges, cutoff)
    full = od_times(res.network, zones, cutoff)
    pd.testing.assert_frame_equal(od_frame(inc.od), od_frame(full), check_exact=True)
    assert not od_frame(base).equals(od_frame(full))          # the edit matters
    assert 0 < inc.n_recomputed < len(zones.node)             # and only part of the origins were redone
    # every origin whose row changed is in the affected set
    changed = set(od_frame(base).merge(od_frame(full), how="outer", indicator=True)
                  .query("_merge != 'both'")["origin"])
    assert changed <= set(np.flatnonzero(inc.affected))


def test_affected_origins_hand_case():
    # a path 0-1-2-3-4 of 60 s links; slow link 3-4; cutoff 2.5 min (150 s): origins within 150 s of node 3
    net = grid_network(nx=5, ny=1)
    res = apply_variant(net, _resolve(net, [{"action": "scale_time", "ids": [103], "factor": 2.0}]))
    zones = zones_at([0, 1, 2, 3, 4])
    aff = affected_origins(net, res.network, res.changed_edges, zones, cutoff_min=2.5)
    # tails: node 3 (3->4) and node 4 (4->3); node 0 is 180 s from node 3 -> not affected
    assert aff.tolist() == [False, True, True, True, True]


@pytest.mark.parametrize("kind", ["speedup", "new_link"])
def test_corridor_method_matches_full_recomputation(kind):
    net = random_network(500, seed=11)
    zones = zones_at(np.arange(0, 500, 2), access_s=np.linspace(0, 120, 250))
    ids = net.links.index.to_numpy()
    xy = net.node_xy
    edits = {"speedup": [{"action": "scale_time", "ids": ids[40:100].tolist(), "factor": 0.5}],
             "new_link": [{"action": "add_link", "line": [xy[7].tolist(), xy[node_at_distance(net, 7, 8000)].tolist()],
                           "speed_kmh": 110},
                          {"action": "set_speed", "ids": ids[200:230].tolist(), "speed_kmh": 130}]}[kind]
    res = apply_variant(net, _resolve(net, edits))
    base = od_times(net, zones, 15.0)
    inc = incremental_od(net, res.network, zones, base, res.changed_edges, 15.0, method="corridor")
    full = od_frame(od_times(res.network, zones, 15.0))
    got = od_frame(inc.od)
    assert got[["origin", "dest"]].equals(full[["origin", "dest"]])            # the same pairs
    np.testing.assert_allclose(got["time_s"], full["time_s"], rtol=1e-12, atol=1e-9)
    assert not od_frame(base).equals(full)


def test_corridor_method_falls_back_to_exact_for_closures():
    net = random_network(300, seed=5)
    zones = zones_at(np.arange(0, 300, 3))
    res = apply_variant(net, _resolve(net, [{"action": "close", "ids": net.links.index[:30].tolist()}]))
    base = od_times(net, zones, 15.0)
    inc = incremental_od(net, res.network, zones, base, res.changed_edges, 15.0, method="corridor")
    pd.testing.assert_frame_equal(od_frame(inc.od), od_frame(od_times(res.network, zones, 15.0)), check_exact=True)


def test_engine_auto_method_matches_exact_engine_for_a_speedup_variant():
    from centrality.settings import CentralitySettings
    from geoproc.scenario.incremental import ScenarioEngine

    net = random_network(400, seed=21)
    zones = zones_at(np.arange(0, 400, 2), access_s=np.linspace(0, 60, 200))
    variant = _resolve(net, [{"action": "scale_time", "ids": net.links.index[30:90].tolist(), "factor": 0.6}])
    opts = CentralitySettings(cutoff_min=12.0, limits_min=(6, 12), decay="linear:12")
    exact = ScenarioEngine(net, zones, opts, method="exact").evaluate(variant)
    auto = ScenarioEngine(net, zones, opts, method="auto").evaluate(variant)
    a, b = od_frame(exact.incremental.od), od_frame(auto.incremental.od)
    assert a[["origin", "dest"]].equals(b[["origin", "dest"]])
    assert float(np.max(np.abs(a["time_s"] - b["time_s"]))) < 1e-9
    np.testing.assert_allclose(auto.state.table["index"], exact.state.table["index"], rtol=0, atol=1e-9)
    assert not np.allclose(exact.state.table["index"], ScenarioEngine(net, zones, opts).baseline.table["index"])
