"""The synthetic demo region: deterministic, labelled synthetic, and a valid connected network."""
from __future__ import annotations

import hashlib

import numpy as np
import pyogrio
import pytest
import shapely

from centrality.synthetic import (DEFAULT_SEED, FERRY_SPEED_KMH, FERRY_WAIT_MIN, SPEED_KMH, TOWNS, demo_region,
                                  write_demo_data)


def _digest(region) -> str:
    h = hashlib.sha256()
    for frame in (region.roads, region.zones, region.zone_areas):
        h.update(shapely.get_coordinates(frame.geometry.values).tobytes())
    h.update(region.zones[["population", "jobs"]].to_numpy().tobytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def region():
    return demo_region()


@pytest.fixture(scope="module")
def network(region):
    from centrality.builders.lines import network_from_lines

    return network_from_lines(region.roads, **region.network_options)


def test_same_seed_same_region_other_seed_differs(region):
    again = demo_region(DEFAULT_SEED)
    assert _digest(again) == _digest(region)
    assert again.roads.drop(columns="geometry").equals(region.roads.drop(columns="geometry"))
    assert _digest(demo_region(7)) != _digest(region)


def test_counts_and_towns(region):
    # pinned counts for the default seed: a change here means the demo region changed
    assert len(region.roads) == 3941
    assert len(region.zones) == 793
    assert len(region.towns) == 8
    assert region.towns["role"].value_counts().to_dict() == {
        "small town": 5, "regional city": 1, "mid-size town": 1, "island town": 1}
    assert region.roads["link_id"].tolist() == list(range(1, len(region.roads) + 1))
    assert region.zones["zone_id"].is_unique
    assert set(region.zones["kommune"]) == {t.kommune for t in TOWNS}
    assert region.zones["kommune"].str.fullmatch(r"99\d\d").all()
    assert set(region.kommuner["kommune"]) == {t.kommune for t in TOWNS}


def test_town_totals_are_exact(region):
    town_zones = region.zones[~region.zones["name"].str.contains("rural")]
    totals = town_zones.groupby("town")[["population", "jobs"]].sum()
    for t in TOWNS:
        assert totals.loc[t.name, "population"] == t.population
        assert totals.loc[t.name, "jobs"] == t.jobs
    rural = region.zones[region.zones["name"].str.contains("rural")]
    assert (rural["population"] >= 5).all() and len(rural) > 300


def test_road_hierarchy_ferry_and_motorway(region):
    roads = region.roads
    assert set(roads["highway"]) == {"motorway", "motorway_link", "primary", "secondary", "unclassified",
                                     "tertiary", "residential", "ferry"}
    ferry = roads[roads["ferry"]]
    assert len(ferry) == 1 and ferry["highway"].iloc[0] == "ferry"
    assert region.ferry_link_ids == ferry["link_id"].tolist()
    crossing_km = ferry.length.iloc[0] / 1000.0
    assert 10 < crossing_km < 20
    assert ferry["time_min"].iloc[0] == pytest.approx(crossing_km / FERRY_SPEED_KMH * 60 + FERRY_WAIT_MIN)
    # road times are length at the speed limit
    road = roads[~roads["ferry"]]
    expected = road.length / 1000.0 / road["highway"].map(SPEED_KMH) * 60.0
    np.testing.assert_allclose(road["time_min"], expected, rtol=1e-12)
    motorway = roads[roads["highway"] == "motorway"]
    assert region.motorway_link_ids == motorway["link_id"].tolist()
    assert (motorway["ref"] == "E6").all() and (motorway["oneway"] == "yes").all()
    assert (roads.loc[roads["highway"] != "motorway", "oneway"] == "no").all()
    assert {"Rv70", "Rv71", "Fv650"} <= set(roads["ref"].dropna())


def test_placed_in_norway_and_labelled_synthetic(region, tmp_path):
    lon0, lat0, lon1, lat1 = region.roads.to_crs(4326).total_bounds
    assert 4 < lon0 < lon1 < 31 and 57.5 < lat0 < lat1 < 71.5
    assert region.crs == "EPSG:25833" and region.roads.crs.to_epsg() == 25833
    assert region.synthetic is True and "SYNTHETIC" in region.note
    assert region.zones.attrs["synthetic"] is True
    paths = write_demo_data(tmp_path, region=region)
    assert [p.name for p in paths] == ["roads.gpkg", "zones.gpkg"]
    assert pyogrio.list_layers(paths[1])[:, 0].tolist() == ["zones", "zone_areas", "kommuner"]
    meta = pyogrio.read_info(paths[0], layer="roads")["layer_metadata"]
    assert "SYNTHETIC" in meta["SYNTHETIC"]
    back = pyogrio.read_dataframe(paths[1], layer="zones")
    assert back["population"].sum() == region.zones["population"].sum()
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary files left


def test_builds_into_one_strongly_connected_network(region, network):
    r = network.report
    assert r["scc_dropped_nodes"] == 0 and r["scc_dropped_links"] == 0
    assert network.n_links == len(region.roads)
    assert (network.links["kind"] == "ferry").sum() == 1
    motorway = network.links.loc[region.motorway_link_ids]
    assert motorway["time_bw_s"].isna().all() and motorway["time_fw_s"].notna().all()
    # each zone lies within 2 km of the network (snapping never excludes a demo zone)
    from scipy.spatial import cKDTree

    d, _ = cKDTree(network.node_xy).query(shapely.get_coordinates(region.zones.geometry.values))
    assert d.max() < 2000


def test_motorway_is_the_fast_way_between_city_and_midtby(region, network):
    """Closing the E6 makes Storby–Midtby slower: the scenario the demo offers has an effect."""
    from scipy.spatial import cKDTree

    from centrality.paths import node_times

    zones = region.zones.set_index("zone_id")
    xy = shapely.get_coordinates(zones.loc[[region.places["Storby"], region.places["Midtby"]]].geometry.values)
    _, (a, b) = cKDTree(network.node_xy).query(xy)
    with_e6 = node_times(network, [a])[b]
    closed = network.with_link_times(region.motorway_link_ids, time_fw_s=np.nan)
    without_e6 = node_times(closed, [a])[b]
    assert 25 * 60 < with_e6 < 45 * 60
    assert without_e6 > with_e6 + 8 * 60
