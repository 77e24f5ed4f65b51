"""OSM builder: maxspeed/duration parsing and a hand-made OSM file with known links and times."""
from __future__ import annotations

import numpy as np
import pyproj
import pytest

from centrality.builders.osm import network_from_osm_pbf
from centrality.builders.osmnx_graph import download_osmnx, network_from_osmnx
from centrality.builders.speeds import (
    DEFAULT_SPEEDS_KMH, load_speed_table, parse_duration_s, parse_maxspeed, resolve_speeds,
)
from centrality.errors import InputError

CRS = "EPSG:25833"
X0, Y0 = 270000.0, 7040000.0  # Trondheim, metres in EPSG:25833


@pytest.mark.parametrize("value, expected", [
    ("50", 50.0), ("50 km/h", 50.0), ("80kmh", 80.0), (" 60 ", 60.0), (70, 70.0), (30.0, 30.0),
    ("30 mph", 30 * 1.609344), ("10 knots", 18.52),
    ("NO:urban", 50.0), ("NO:rural", 80.0), ("NO:motorway", 90.0), ("FI:urban", 50.0), ("XX:rural", 80.0),
    ("50;60", 50.0), ("60|40", 40.0), ("none;70", 70.0),
    ("none", None), ("signals", None), ("walk", None), ("variable", None), ("", None), (None, None),
    (float("nan"), None), ("0", None), (-5, None), ("fast", None),
])
def test_parse_maxspeed(value, expected):
    result = parse_maxspeed(value)
    assert result == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize("value, seconds", [
    ("00:30", 1800.0), ("1:05", 3900.0), ("01:02:03", 3723.0), ("45", 2700.0), ("PT1H30M", 5400.0),
    ("PT20M", 1200.0), (None, None), ("", None), ("soon", None), ("00:00", None),
])
def test_parse_duration(value, seconds):
    assert parse_duration_s(value) == seconds


def test_speed_tables(tmp_path):
    toml = tmp_path / "speeds.toml"
    toml.write_text("[speeds]\nresidential = 40\ntrack = 15\n")
    assert load_speed_table(toml) == {"residential": 40.0, "track": 15.0}
    merged = resolve_speeds(toml)
    assert merged["residential"] == 40.0 and merged["track"] == 15.0 and merged["motorway"] == 100.0
    csv = tmp_path / "speeds.csv"
    csv.write_text("highway,speed_kmh\nprimary,75\n")
    assert resolve_speeds(csv)["primary"] == 75.0
    assert resolve_speeds({"service": 15})["service"] == 15.0 and DEFAULT_SPEEDS_KMH["service"] == 20.0
    with pytest.raises(InputError, match="invalid speeds .*primary=-1"):
        resolve_speeds({"primary": -1})
    bad = tmp_path / "bad.csv"
    bad.write_text("class,kmh\nprimary,75\n")
    with pytest.raises(InputError, match="no column 'highway'"):
        load_speed_table(bad)


# ------------------------------------------------------------------ synthetic OSM file
# node id -> (dx, dy) metres from (X0, Y0)
NODES = {1: (0, 0), 2: (500, 0), 3: (1000, 0), 4: (500, 500), 5: (1000, 500),
         6: (1450, 0), 7: (1500, 50), 8: (1550, 0), 9: (1700, 0), 10: (1700, 3000), 11: (1700, 5500),
         12: (0, -300), 13: (400, 600), 14: (1700, 6500)}
WAYS = {  # way id -> (node refs, tags)
    100: ([1, 2, 3], {"highway": "primary", "maxspeed": "60", "ref": "Fv 1"}),
    101: ([2, 4], {"highway": "residential", "oneway": "yes"}),
    102: ([4, 5, 3], {"highway": "residential", "oneway": "-1"}),
    103: ([6, 7, 8, 6], {"highway": "tertiary", "junction": "roundabout"}),
    104: ([3, 6], {"highway": "secondary", "maxspeed": "NO:rural"}),
    105: ([8, 9], {"highway": "tertiary"}),
    106: ([9, 10], {"route": "ferry", "duration": "00:30", "name": "Ferje A"}),
    107: ([10, 11], {"route": "ferry", "name": "Ferje B"}),
    108: ([1, 12], {"highway": "footway"}),
    109: ([4, 13], {"highway": "service", "access": "private"}),
    110: ([11, 14], {"highway": "motorway"}),
    111: ([12, 13], {"highway": "construction"}),
}


def _lonlat():
    to_geo = pyproj.Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    return {k: tuple(round(c, 7) for c in to_geo.transform(X0 + dx, Y0 + dy)) for k, (dx, dy) in NODES.items()}


def _write_osm(path, ways=WAYS):
    lonlat = _lonlat()
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    lines += [f'  <node id="{k}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>' for k, (lon, lat) in lonlat.items()]
    for wid, (refs, tags) in ways.items():
        lines.append(f'  <way id="{wid}" version="1">')
        lines += [f'    <nd ref="{r}"/>' for r in refs]
        lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines))
    return path


def _projected():
    """OSM node id -> exact EPSG:25833 position of the 7-decimal coordinates in the file."""
    to_utm = pyproj.Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    return {k: np.array(to_utm.transform(lon, lat)) for k, (lon, lat) in _lonlat().items()}


def _length(refs) -> float:
    xy = _projected()
    return float(sum(np.hypot(*(xy[b] - xy[a])) for a, b in zip(refs[:-1], refs[1:])))


@pytest.fixture
def osm_file(tmp_path):
    return _write_osm(tmp_path / "test.osm")


def _by_nodes(net) -> dict:
    """(osm node u, osm node v) -> link row."""
    xy = _projected()
    ids = np.array(list(xy))
    pts = np.array(list(xy.values()))
    osm_of = {i: int(ids[np.argmin(np.hypot(*(pts - p).T))]) for i, p in enumerate(net.node_xy)}
    return {(osm_of[r.u], osm_of[r.v]): r for r in net.links.itertuples()}


def test_synthetic_network_links_directions_times(osm_file):
    net = network_from_osm_pbf(osm_file, keep_largest=False)
    assert net.crs == CRS
    links = _by_nodes(net)
    assert sorted(links) == sorted([(1, 2), (2, 3), (2, 4), (4, 3), (3, 6), (6, 8), (8, 6), (8, 9), (9, 10),
                                    (10, 11), (11, 14)])
    assert net.n_nodes == 10 and net.n_links == 11   # nodes 5 and 7 are interior, 12 and 13 unused

    def check(key, refs, fw, bw):
        row = links[key]
        assert row.length_m == pytest.approx(_length(refs), abs=1e-6)
        for value, expected in ((row.time_fw_s, fw), (row.time_bw_s, bw)):
            if expected is None:
                assert np.isnan(value)
            else:
                assert value == pytest.approx(expected(row.length_m) if callable(expected) else expected, rel=1e-12)

    at = lambda kmh: (lambda m: m / (kmh / 3.6))  # noqa: E731  length -> seconds
    check((1, 2), [1, 2], at(60), at(60))                # split at the intersection with way 101
    check((2, 3), [2, 3], at(60), at(60))
    check((2, 4), [2, 4], at(30), None)                  # oneway=yes, residential default
    check((4, 3), [4, 5, 3], None, at(30))               # oneway=-1: only 3 -> 4
    check((3, 6), [3, 6], at(80), at(80))                # NO:rural
    check((6, 8), [6, 7, 8], at(50), None)               # roundabout: implicit oneway in way order
    check((8, 6), [8, 6], at(50), None)
    check((8, 9), [8, 9], at(50), at(50))
    check((9, 10), [9, 10], 1800.0 + 900.0, 1800.0 + 900.0)                 # duration 00:30 + 15 min wait
    check((10, 11), [10, 11], at(25)(_length([10, 11])) + 900.0, at(25)(_length([10, 11])) + 900.0)
    check((11, 14), [11, 14], at(100), None)             # motorway: implicit oneway
    assert links[(9, 10)].kind == "ferry" and links[(1, 2)].kind == "road"
    assert links[(1, 2)].ref == "Fv 1" and links[(1, 2)].osm_id == 100
    assert links[(9, 10)].name == "Ferje A"
    assert net.report["ferry_links"] == 2
    geom = links[(4, 3)].geometry
    assert len(geom.coords) == 3  # geometry keeps the interior node 5


def test_ferry_options_and_largest_component(osm_file):
    net = network_from_osm_pbf(osm_file, keep_largest=False, ferry_speed_kmh=10.0, ferry_wait_min=0.0)
    links = _by_nodes(net)
    assert links[(10, 11)].time_fw_s == pytest.approx(_length([10, 11]) / (10 / 3.6))
    assert links[(9, 10)].time_fw_s == pytest.approx(1800.0)
    no_ferry = network_from_osm_pbf(osm_file, keep_largest=False, include_ferries=False)
    assert sorted(no_ferry.links["kind"].unique()) == ["road"] and no_ferry.n_links == 9
    strong = network_from_osm_pbf(osm_file)
    # strongly connected core: 2 -> 4 -> (only 3 -> 4 allowed) ... 4 is a sink; 14 is a motorway dead end
    kept = set(_by_nodes(strong))
    assert kept == {(1, 2), (2, 3), (3, 6), (6, 8), (8, 6), (8, 9), (9, 10), (10, 11)}
    assert strong.report["scc_dropped_nodes"] == 2 and strong.report["scc_dropped_links"] == 3


def test_custom_speeds_include_more_classes(tmp_path):
    ways = {1: ([1, 2], {"highway": "track"}), 2: ([2, 3], {"highway": "track", "maxspeed": "50;60"})}
    path = _write_osm(tmp_path / "tracks.osm", ways)
    with pytest.raises(InputError, match="no drivable roads"):
        network_from_osm_pbf(path)
    net = network_from_osm_pbf(path, speeds={"track": 15})
    t = sorted(net.links["speed_fw_kmh"])
    assert t == [15.0, 50.0]


def test_pbf_written_with_osmium(tmp_path, osm_file):
    import osmium

    pbf = tmp_path / "copy.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(osm_file)):
            writer.add(obj)
    a = network_from_osm_pbf(osm_file, keep_largest=False)
    b = network_from_osm_pbf(pbf, keep_largest=False)
    assert a.n_links == b.n_links == 11
    np.testing.assert_allclose(np.sort(a.links["time_fw_s"].fillna(-1)), np.sort(b.links["time_fw_s"].fillna(-1)))


def test_bad_files(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        network_from_osm_pbf(tmp_path / "missing.osm.pbf")
    txt = tmp_path / "roads.txt"
    txt.write_text("hello")
    with pytest.raises(InputError, match="not an OpenStreetMap file"):
        network_from_osm_pbf(txt)
    corrupt = tmp_path / "broken.osm.pbf"
    corrupt.write_bytes(b"\x00\x00\x00\x0dnot really a pbf file" * 10)
    with pytest.raises(InputError, match="cannot read OSM file"):
        network_from_osm_pbf(corrupt)
    only_paths = _write_osm(tmp_path / "paths.osm", {1: ([1, 2, 3], {"highway": "footway"})})
    with pytest.raises(InputError, match="no drivable roads"):
        network_from_osm_pbf(only_paths)
    osm = _write_osm(tmp_path / "ok.osm")
    with pytest.raises(InputError, match="geographic"):
        network_from_osm_pbf(osm, crs="EPSG:4326")
    with pytest.raises(InputError, match="ferry_speed_kmh"):
        network_from_osm_pbf(osm, ferry_speed_kmh=0)


# ------------------------------------------------------------------ osmnx graphs
def _osmnx_graph():
    import networkx as nx

    to_geo = pyproj.Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    G = nx.MultiDiGraph(crs="EPSG:4326")
    for k, (dx, dy) in {1: (0, 0), 2: (1000, 0), 3: (1000, 600)}.items():
        lon, lat = to_geo.transform(X0 + dx, Y0 + dy)
        G.add_node(k, x=lon, y=lat)
    G.add_edge(1, 2, length=1000.0, travel_time=50.0, highway="primary")
    G.add_edge(2, 1, length=1000.0, speed_kph=72.0, highway="primary")
    G.add_edge(2, 3, length=500.0, maxspeed=["50", "60"], highway="secondary")
    G.add_edge(3, 2, length=500.0, highway="residential", name="Storgata")
    G.add_edge(2, 3, length=500.0, highway=["unknownclass", "secondary"])  # parallel edge, key 1
    G.add_edge(3, 1, highway="tertiary")                                  # no length: geometry length
    return G


def test_network_from_osmnx():
    net = network_from_osmnx(_osmnx_graph())
    assert net.crs == CRS and net.n_nodes == 3 and net.n_links == 6
    np.testing.assert_allclose(net.node_xy, [[X0, Y0], [X0 + 1000, Y0], [X0 + 1000, Y0 + 600]], atol=1e-6)
    links = net.links
    assert links["time_bw_s"].isna().all()
    t = {(r.u, r.v, r.osm_key): r.time_fw_s for r in links.itertuples()}
    assert t[(0, 1, 0)] == pytest.approx(50.0)                   # travel_time
    assert t[(1, 0, 0)] == pytest.approx(50.0)                   # 1000 m at 72 km/h
    assert t[(1, 2, 0)] == pytest.approx(500 / (50 / 3.6))       # lowest listed maxspeed
    assert t[(2, 1, 0)] == pytest.approx(500 / (30 / 3.6))       # residential default
    assert t[(1, 2, 1)] == pytest.approx(500 / (60 / 3.6))       # first known class of the list
    assert t[(2, 0, 0)] == pytest.approx(np.hypot(1000, 600) / (50 / 3.6), rel=1e-9)
    assert links.loc[links["name"] == "Storgata", "u"].item() == 2
    assert links["highway"].tolist().count("unknownclass;secondary") == 1
    custom = network_from_osmnx(_osmnx_graph(), speeds={"residential": 50})
    assert custom.links.loc[custom.links["name"] == "Storgata", "time_fw_s"].item() == pytest.approx(36.0)


def test_network_from_osmnx_bad_input():
    import networkx as nx

    G = _osmnx_graph()
    del G.graph["crs"]
    with pytest.raises(InputError, match="no 'crs'"):
        network_from_osmnx(G)
    with pytest.raises(InputError, match="MultiDiGraph"):
        network_from_osmnx(nx.Graph())
    G = _osmnx_graph()
    G.add_edge(1, 3, length=10.0, highway="bridleway")
    with pytest.raises(InputError, match="1 osmnx edges have no travel_time.*bridleway"):
        network_from_osmnx(G)


def test_download_osmnx_offline(monkeypatch):
    import osmnx
    import requests

    def offline(*args, **kwargs):
        raise requests.exceptions.ConnectionError("Failed to resolve 'nominatim.openstreetmap.org'")

    monkeypatch.setattr(osmnx, "graph_from_place", offline)
    with pytest.raises(InputError, match="no connection to the OSM servers.*osm.pbf"):
        download_osmnx("Levanger, Norway")

    def not_found(*args, **kwargs):
        raise osmnx._errors.InsufficientResponseError("Nominatim geocoder returned 0 results")

    monkeypatch.setattr(osmnx, "graph_from_place", not_found)
    with pytest.raises(InputError, match="Check the place name"):
        download_osmnx("Nowhereville")

    sentinel = _osmnx_graph()
    monkeypatch.setattr(osmnx, "graph_from_place", lambda place, network_type: sentinel)
    assert download_osmnx("Levanger, Norway") is sentinel
