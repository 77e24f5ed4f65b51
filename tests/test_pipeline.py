"""run_centrality / write_result: hand-computed values on a 3-zone line, and the demo region
checked against an independent Dijkstra (scipy) and the SSB class thresholds of MODEL.md §1."""
from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from centrality.errors import Cancelled, InputError
from centrality.network import RoadNetwork
from centrality.pipeline import print_summary, run_centrality, write_result

BETA = math.log(10) / 45.0  # default decay: weight 0.1 at 45 minutes, per minute


def _pyarrow_works() -> bool:
    try:
        import pyarrow  # noqa: F401
    except Exception:
        return False
    return True


# ------------------------------------------------------------------ 3 zones on a line, by hand
@pytest.fixture
def line():
    """A --10 min-- B --20 min-- C; zones exactly on the nodes (access time 0)."""
    net = RoadNetwork.from_arrays([[0, 0], [10_000, 0], [30_000, 0]], u=[0, 1], v=[1, 2],
                                  time_fw_s=[600.0, 1200.0])
    zones = gpd.GeoDataFrame({"zid": ["A", "B", "C"], "pop": [10, 20, 30], "arb": [100, 50, 10],
                              "kommune": ["9001", "9001", "9002"]},
                             geometry=shapely.points([[0, 0], [10_000, 0], [30_000, 0]]), crs="EPSG:25833")
    return net, zones


def _hand_values():
    e = lambda minutes: math.exp(-BETA * minutes)  # noqa: E731
    access = {"A": 100 + 50 * e(10) + 10 * e(30), "B": 50 + 100 * e(10) + 10 * e(20),
              "C": 10 + 50 * e(20) + 100 * e(30)}
    a_max = max(access.values())
    index = {k: 1000 * math.log1p(v) / math.log1p(a_max) for k, v in access.items()}
    return access, index


def test_line_values_by_hand(line):
    net, zones = line
    r = run_centrality(net, zones, id_col="zid", pop_col="pop", jobs_col="arb", limits_min=(15, 30),
                       group_col="kommune", keep_od=True)
    z = r.zones.set_index("zid")
    access, index = _hand_values()
    assert z["jobs_15min"].to_dict() == {"A": 150, "B": 150, "C": 10}
    assert z["jobs_30min"].to_dict() == {"A": 160, "B": 160, "C": 160}  # 30 min is inclusive
    for k in "ABC":
        assert z.loc[k, "access_decay"] == pytest.approx(access[k], rel=1e-12)
        assert z.loc[k, "index"] == pytest.approx(index[k], rel=1e-12)
    assert z.loc["A", "index"] == 1000.0
    # A ≈ 132.1 -> 1000, B ≈ 113.5 -> 969.0, C ≈ 49.5 -> 800.3: classes 1, 1, 3
    assert z["centrality_class"].to_dict() == {"A": 1, "B": 1, "C": 3}
    assert z["population"].tolist() == [10.0, 20.0, 30.0] and z["jobs"].tolist() == [100.0, 50.0, 10.0]
    assert (z["snap_m"] == 0).all() and (z["access_min"] == 0).all()
    g = r.groups.set_index("kommune")
    assert g.loc["9001", "index"] == pytest.approx((10 * index["A"] + 20 * index["B"]) / 30, rel=1e-12)
    assert g.loc["9002", "index"] == pytest.approx(index["C"], rel=1e-12)
    assert g.loc["9001", "population"] == 30 and g.loc["9001", "jobs"] == 150 and g.loc["9001", "n_zones"] == 2
    assert g["centrality_class"].tolist() == [1, 3]
    assert r.summary["n_zones"] == 3 and r.summary["n_excluded"] == 0
    assert r.summary["reachable_pairs"] == 9 and r.od.n_pairs == 9


def test_reference_zone_scales_to_1000(line):
    net, zones = line
    r = run_centrality(net, zones, id_col="zid", pop_col="pop", jobs_col="arb", limits_min=(30,), reference_zone="B")
    with pytest.warns(DeprecationWarning, match="reference_zone"):
        old = run_centrality(net, zones, id_col="zid", pop_col="pop", jobs_col="arb", limits_min=(30,), reference="B")
    pd.testing.assert_frame_equal(pd.DataFrame(old.zones), pd.DataFrame(r.zones))
    assert r.summary["reference_zone"] == "B" and r.summary["reference_value"] is None
    z = r.zones.set_index("zid")
    access, _ = _hand_values()
    assert z.loc["B", "index"] == pytest.approx(1000.0)
    assert z.loc["A", "index"] == pytest.approx(1000 * math.log1p(access["A"]) / math.log1p(access["B"]))
    assert z.loc["A", "index"] > 1000


def test_far_zone_is_excluded_and_reported(line):
    net, zones = line
    far = gpd.GeoDataFrame({"zid": ["D"], "pop": [5], "arb": [5], "kommune": ["9002"]},
                           geometry=shapely.points([[0, 9_000]]), crs="EPSG:25833")
    r = run_centrality(net, pd.concat([zones, far], ignore_index=True), id_col="zid", pop_col="pop",
                       jobs_col="arb", limits_min=(30,), max_snap_m=5000, max_excluded_share=0.1, group_col="kommune")
    assert r.zones["zid"].tolist() == ["A", "B", "C"]
    assert r.excluded["id"].tolist() == ["D"] and r.excluded["snap_m"].iloc[0] == pytest.approx(9000)
    assert "max_snap_m" in r.excluded["reason"].iloc[0]
    # reported with its population and jobs and their shares of all zones (65 residents, 165 jobs)
    row = r.excluded.iloc[0]
    assert (row["population"], row["jobs"], row["kommune"]) == (5.0, 5.0, "9002")
    assert row["population_share"] == pytest.approx(5 / 65) and row["jobs_share"] == pytest.approx(5 / 165)
    assert r.summary["n_excluded"] == 1 and r.summary["excluded_population"] == 5.0
    assert r.summary["excluded_population_share"] == pytest.approx(5 / 65)
    assert r.summary["excluded_jobs_share"] == pytest.approx(5 / 165)
    g = r.groups.set_index("kommune")
    assert g.loc["9002", "n_excluded"] == 1 and g.loc["9002", "excluded_jobs"] == 5.0
    assert g.loc["9001", "n_excluded"] == 0 and g.loc["9001", "excluded_population"] == 0.0


def test_excluded_share_above_the_limit_is_an_error_before_the_travel_times(line, monkeypatch):
    """A zone far from the roads holding 7.7 % of the residents stops the run (default limit 1 %),
    naming the zone, its residents and jobs and the fix; the limit is configurable."""
    import centrality.pipeline

    net, zones = line
    far = gpd.GeoDataFrame({"zid": ["D"], "pop": [5], "arb": [5], "kommune": ["9002"]},
                           geometry=shapely.points([[0, 9_000]]), crs="EPSG:25833")
    both = pd.concat([zones, far], ignore_index=True)
    monkeypatch.setattr(centrality.pipeline, "od_times", lambda *a, **k: pytest.fail("od_times must not run"))
    with pytest.raises(InputError, match=r"1 zones are farther than max_snap_m=5000 m.*5 residents \(7\.69 % of the "
                                         r"population\) and 5 jobs \(3\.03 % of the jobs\), more than the allowed 1 %"
                                         r".*D \(5 residents, 5 jobs.*--max-excluded-share"):
        run_centrality(net, both, id_col="zid", pop_col="pop", jobs_col="arb", limits_min=(30,))
    with pytest.raises(InputError, match=r"allowed 5 %"):
        run_centrality(net, both, id_col="zid", pop_col="pop", jobs_col="arb", limits_min=(30,),
                       max_excluded_share=0.05)
    with pytest.raises(InputError, match="max_excluded_share must be a fraction between 0 and 1"):
        run_centrality(net, both, id_col="zid", pop_col="pop", jobs_col="arb", max_excluded_share=5)


def test_access_time_counts_at_both_ends(line):
    net, zones = line
    off = zones.copy()
    off.loc[2, "geometry"] = shapely.Point(30_000, 1_000)  # C 1 km off the road: 3 min at 20 km/h
    r = run_centrality(net, off, id_col="zid", pop_col="pop", jobs_col="arb", limits_min=(30, 33))
    z = r.zones.set_index("zid")
    assert z.loc["C", "access_min"] == pytest.approx(3.0)
    assert z.loc["A", "jobs_30min"] == 150 and z.loc["A", "jobs_33min"] == 160  # A->C = 30 + 3 min
    assert z.loc["C", "jobs_30min"] == 60  # own zone (6 min) + B (23 min); A at 33 min is out


def test_bad_input_is_reported_clearly(line):
    net, zones = line
    with pytest.raises(InputError, match="'jobs'.*did you mean"):
        run_centrality(net, zones.rename(columns={"arb": "jobbs"}), id_col="zid", pop_col="pop")
    with pytest.raises(InputError, match="group field|no column 'kommun'"):
        run_centrality(net, zones, id_col="zid", pop_col="pop", jobs_col="arb", group_col="kommun")
    with pytest.raises(InputError, match="exceeds the cutoff"):
        run_centrality(net, zones, id_col="zid", pop_col="pop", jobs_col="arb", cutoff_min=60)
    with pytest.raises(InputError, match="reference zone"):
        run_centrality(net, zones, id_col="zid", pop_col="pop", jobs_col="arb", reference_zone="X")
    with pytest.raises(InputError, match="either a reference zone or a reference value"):
        run_centrality(net, zones, id_col="zid", pop_col="pop", jobs_col="arb", reference_zone="A",
                       reference_value=100.0)
    with pytest.raises(Cancelled):
        run_centrality(net, zones, id_col="zid", pop_col="pop", jobs_col="arb", should_stop=lambda: True)


def test_default_decay_follows_the_cutoff(line):
    """A 30-minute run gets the default decay ending at 30 minutes (not an error about 90 minutes)."""
    net, zones = line
    r = run_centrality(net, zones, id_col="zid", pop_col="pop", jobs_col="arb", cutoff_min=30, limits_min=(15, 30))
    assert r.summary["decay"] == "exp:45:0.1:30" and r.summary["cutoff_min"] == 30
    e = lambda minutes: math.exp(-BETA * minutes)  # noqa: E731
    z = r.zones.set_index("zid")
    assert z.loc["A", "access_decay"] == pytest.approx(100 + 50 * e(10) + 10 * e(30), rel=1e-12)  # 30 min inclusive
    assert z.loc["C", "access_decay"] == pytest.approx(10 + 50 * e(20) + 100 * e(30), rel=1e-12)


def test_option_errors_come_before_the_travel_times(line, monkeypatch):
    import centrality.pipeline

    def no_search(*args, **kwargs):
        raise AssertionError("od_times must not run for invalid options")

    monkeypatch.setattr(centrality.pipeline, "od_times", no_search)
    net, zones = line
    kw = dict(id_col="zid", pop_col="pop", jobs_col="arb")
    cases = [
        (dict(cutoff_min=60, limits_min=(30,), decay="exp:45:0.1:90"),
         r"decay gives weight up to 90 min but the cutoff is 60"),
        (dict(transform="cube"), r"unknown index transform 'cube'"),
        (dict(reference_zone="b"), r"reference zone 'b' is not in the zones layer's 'zid'"),
        (dict(max_snap_m=-1), r"max_snap_m must be >= 0 metres"),
        (dict(engine="ch2"), r"unknown engine 'ch2'"),
        (dict(decay="gauss:30"), r"unknown decay"),
        (dict(limits_min=(0, 30)), r"positive minutes"),
    ]
    for options, message in cases:
        with pytest.raises(InputError, match=message):
            run_centrality(net, zones, **kw, **options)
    with pytest.raises(InputError, match="2 zones have no value in group field 'kommune'"):
        run_centrality(net, zones.assign(kommune=[None, "9001", None]), group_col="kommune", **kw)


# ------------------------------------------------------------------ the demo region
@pytest.fixture(scope="module")
def demo():
    from centrality.builders.lines import network_from_lines
    from centrality.synthetic import demo_region

    region = demo_region()
    network = network_from_lines(region.roads, **region.network_options)
    result = run_centrality(network, region.zones, group_col="kommune", keep_od=True)
    return region, network, result


def test_demo_city_is_most_central(demo):
    region, _, r = demo
    z = r.zones.set_index("zone_id")
    assert z["index"].max() == 1000.0  # the reference zone is exactly 1000
    assert z["index"].idxmax() == z["access_decay"].idxmax()
    assert z.loc[z["index"].idxmax(), "town"] == "Storby"
    centres = z.loc[list(region.places.values()), "index"]
    centres.index = list(region.places)
    assert centres["Storby"] > 995
    assert centres.drop("Storby").max() < centres["Storby"]
    assert centres["Midtby"] > centres["Austdal"]  # the E6 corridor pays off
    assert centres.idxmin() == "Øyvik"  # the island behind the ferry is the least central


def test_demo_index_follows_access_decay(demo):
    _, _, r = demo
    a = r.zones["access_decay"].to_numpy()
    idx = r.zones["index"].to_numpy()
    np.testing.assert_allclose(idx, 1000 * np.log1p(a) / np.log1p(a.max()), rtol=1e-12)
    order = np.argsort(a, kind="stable")
    assert (np.diff(idx[order]) >= 0).all()


def test_demo_classes_follow_ssb_thresholds(demo):
    _, _, r = demo
    # SSB classification 128 (MODEL.md §1.1) on integer index values
    bounds = {1: (925, 1000), 2: (870, 924), 3: (775, 869), 4: (670, 774), 5: (565, 669), 6: (0, 564)}
    rounded = np.floor(r.zones["index"] + 0.5)
    for cls, (lo, hi) in bounds.items():
        members = rounded[r.zones["centrality_class"] == cls]
        assert ((members >= lo) & (members <= hi)).all()
    assert set(r.zones["centrality_class"]) >= {1, 2, 3, 4, 5}


def test_demo_kommune_means_by_hand(demo):
    _, _, r = demo
    z = pd.DataFrame(r.zones.drop(columns="geometry"))
    for kommune, part in z.groupby("kommune"):
        row = r.groups.set_index("kommune").loc[kommune]
        assert row["index"] == pytest.approx(np.average(part["index"], weights=part["population"]), rel=1e-12)
        assert row["access_decay"] == pytest.approx(np.average(part["access_decay"], weights=part["population"]),
                                                    rel=1e-12)
        assert row["population"] == part["population"].sum() and row["jobs"] == part["jobs"].sum()
    assert r.groups.set_index("kommune")["index"].idxmax() == "9901"


def test_demo_jobs_reachable_nested_and_checked_with_scipy(demo):
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra
    from scipy.spatial import cKDTree

    region, network, r = demo
    z = r.zones
    cols = ["jobs_30min", "jobs_45min", "jobs_60min", "jobs_90min"]
    values = z[cols].to_numpy()
    assert (np.diff(values, axis=1) >= 0).all()
    assert (values[:, -1] <= z["jobs"].sum()).all()
    assert (z["jobs_30min"] >= z["jobs"]).all()  # own zone is always within 30 min here
    # independent oracle: scipy Dijkstra on the directed links (parallel links: the faster one)
    links = network.links
    tail = np.r_[links["u"], links["v"]]
    head = np.r_[links["v"], links["u"]]
    t = np.r_[links["time_fw_s"], links["time_bw_s"]]
    ok = ~np.isnan(t)
    edges = pd.DataFrame({"a": tail[ok], "b": head[ok], "t": t[ok]}).groupby(["a", "b"], as_index=False)["t"].min()
    graph = csr_matrix((edges["t"], (edges["a"], edges["b"])), shape=(network.n_nodes, network.n_nodes))
    _, node = cKDTree(network.node_xy).query(z[["point_x", "point_y"]].to_numpy())
    access_s = z["access_min"].to_numpy() * 60
    for zone_id in (region.places["Storby"], region.places["Øyvik"], region.places["Austdal"]):
        o = int(np.flatnonzero(z["zone_id"] == zone_id)[0])
        total = access_s[o] + dijkstra(graph, indices=node[o])[node] + access_s
        total[o] = 2 * access_s[o]
        for limit in (30, 45, 60, 90):
            expected = z["jobs"].to_numpy()[total <= limit * 60 + 1e-9].sum()
            assert z.loc[o, f"jobs_{limit}min"] == pytest.approx(expected)


def test_write_result_round_trip(demo, tmp_path):
    _, _, r = demo
    out = tmp_path / "res.gpkg"
    od_path = tmp_path / "od.parquet" if _pyarrow_works() else None
    formats = ("csv", "parquet") if _pyarrow_works() else ("csv",)
    written = write_result(r, out, tables_dir=tmp_path / "tables", od_parquet=od_path, table_formats=formats)
    assert out in written
    assert pyogrio.list_layers(out)[:, 0].tolist() == ["zones", "groups", "run_summary"]
    back = gpd.read_file(out, layer="zones")
    for col in ("index", "access_decay", "jobs_60min", "population"):
        np.testing.assert_allclose(back[col], r.zones[col], rtol=1e-12)
    assert back["centrality_class"].tolist() == r.zones["centrality_class"].tolist()
    groups = pyogrio.read_dataframe(out, layer="groups", read_geometry=False)
    np.testing.assert_allclose(groups["index"], r.groups["index"], rtol=1e-12)
    csv = pd.read_csv(tmp_path / "tables" / "zones.csv", dtype={"kommune": str})
    np.testing.assert_allclose(csv["index"], r.zones["index"], rtol=1e-12)
    assert (tmp_path / "tables" / "summary.json").exists()
    if _pyarrow_works():
        groups_pq = pd.read_parquet(tmp_path / "tables" / "groups.parquet")
        assert groups_pq["kommune"].tolist()[:2] == ["9901", "9902"]  # codes stay text
        np.testing.assert_allclose(groups_pq["index"], r.groups["index"], rtol=1e-12)
    if od_path is not None:
        od = pd.read_parquet(od_path)
        assert len(od) == r.summary["reachable_pairs"] and od["minutes"].max() <= 90
    assert not list(tmp_path.glob(".*tmp*"))


def test_write_result_groups_as_polygons_and_no_partial_file(demo, tmp_path):
    region, _, r = demo
    out = tmp_path / "res.gpkg"
    write_result(r, out, group_geometry=region.kommuner, group_layer_name="kommuner")
    kommuner = gpd.read_file(out, layer="kommuner")
    assert kommuner.geom_type.isin(["Polygon", "MultiPolygon"]).all() and len(kommuner) == 8
    bad = tmp_path / "bad.gpkg"
    r_no_od = type(r)(**{**r.__dict__, "od": None})
    with pytest.raises(InputError, match="keep_od"):
        write_result(r_no_od, bad, od_parquet=tmp_path / "od.parquet")
    with pytest.raises(InputError, match="GeoPackage"):
        write_result(r, tmp_path / "res.shp")
    assert not bad.exists() and not (tmp_path / "res.shp").exists()


def test_print_summary(demo, capsys):
    _, _, r = demo
    print_summary(r)
    text = capsys.readouterr().out
    assert f"zones: {r.summary['n_zones']} used, 0 excluded" in text
    assert "reachable zone pairs within 90 min" in text and "kommune: 8 groups" in text


def test_reference_value_keeps_a_scenario_on_the_base_scale(demo):
    region, network, base = demo
    closed = network.with_link_times(region.motorway_link_ids, time_fw_s=np.nan)
    after = run_centrality(closed, region.zones, group_col="kommune",
                           reference_value=base.summary["reference_access"])
    assert base.summary["reference_access"] == pytest.approx(base.zones["access_decay"].max())
    a = after.zones["access_decay"].to_numpy()
    np.testing.assert_allclose(after.zones["index"], 1000 * np.log1p(a) / np.log1p(base.summary["reference_access"]),
                               rtol=1e-12)
    delta = (after.zones.set_index("zone_id")["index"] - base.zones.set_index("zone_id")["index"])
    midtby = region.places["Midtby"]
    assert delta[midtby] < -5  # closing the E6 makes Midtby less central
    assert (delta <= 1e-9).all()  # removing a road can never make a zone more central
    assert delta[region.places["Øyvik"]] > -5  # the island hardly notices


def test_polygon_zones_with_population_raster(line, tmp_path):
    """Polygons keep their geometry in the result; the zone point is the raster-weighted centroid."""
    import rasterio
    from rasterio.transform import from_origin

    net, zones = line
    boxes = [shapely.box(x - 1000, -1000, x + 1000, 1000) for x in (0, 10_000, 30_000)]
    polys = zones.set_geometry(boxes)
    pop = np.zeros((40, 340), dtype="float32")
    pop[14, 325] = 10.0  # cell centre (30 550, 550)
    pop[24, 325] = 30.0  # cell centre (30 550, -450)
    tif = tmp_path / "pop.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=340, height=40, count=1, dtype="float32", crs="EPSG:25833",
                       transform=from_origin(-2000, 2000, 100, 100)) as dst:
        dst.write(pop, 1)
    r = run_centrality(net, polys, id_col="zid", pop_col="pop", jobs_col="arb", limits_min=(30,), raster=tif)
    z = r.zones.set_index("zid")
    assert z.geom_type.eq("Polygon").all()
    assert (z.loc["C", "point_x"], z.loc["C", "point_y"]) == pytest.approx((30_550.0, -200.0))
    assert z.loc["C", "snap_m"] == pytest.approx(math.hypot(550.0, 200.0))
    assert z.loc["C", "centroid_method"] == "raster" and z.loc["A", "centroid_method"] == "representative_point"
