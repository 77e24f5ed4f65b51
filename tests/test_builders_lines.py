"""network_from_lines: formats, travel-time sources, directions, topology and bad input."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from centrality.builders.lines import network_from_lines
from centrality.errors import InputError

CRS = "EPSG:25833"
A, B, C, D = (0.0, 0.0), (1000.0, 0.0), (1000.0, 1000.0), (0.0, 1000.0)


def _square(**cols) -> gpd.GeoDataFrame:
    """Square A-B-C-D (1 km sides) plus the diagonal A-C; 36 km/h = 10 m/s."""
    lines = [shapely.LineString(p) for p in ([A, B], [B, C], [C, D], [D, A], [A, C])]
    data = {"rid": [11, 12, 13, 14, 15], "speed": [36.0] * 5, "name": list("abcde")}
    data.update(cols)
    return gpd.GeoDataFrame(data, geometry=lines, crs=CRS)


def _node(net, xy) -> int:
    return int(np.argmin(np.hypot(*(net.node_xy - np.asarray(xy)).T)))


def _times_by_name(net) -> dict:
    return {n: (fw, bw) for n, fw, bw in zip(net.links["name"], net.links["time_fw_s"], net.links["time_bw_s"])}


def _assert_square(net, offset=(0.0, 0.0)):
    assert net.n_nodes == 4 and net.n_links == 5
    assert net.crs == CRS
    times = _times_by_name(net)
    assert times["a"][0] == pytest.approx(100.0) and times["a"][1] == pytest.approx(100.0)
    assert times["e"][0] == pytest.approx(100.0 * np.sqrt(2))
    np.testing.assert_allclose(net.links["length_m"].sort_values(), [1000] * 4 + [1000 * np.sqrt(2)])
    ab = net.links[net.links["name"] == "a"].iloc[0]
    ends = np.sort(net.node_xy[[ab["u"], ab["v"]]] - np.asarray(offset), axis=0)
    np.testing.assert_allclose(ends, [A, B], atol=1e-6)


@pytest.mark.parametrize("suffix, driver", [(".gpkg", "GPKG"), (".shp", "ESRI Shapefile"), (".geojson", "GeoJSON"),
                                            (".fgb", "FlatGeobuf"), (".parquet", None)])
def test_format_round_trip(tmp_path, suffix, driver):
    path = tmp_path / f"roads{suffix}"
    gdf = _square()
    if driver is None:
        pytest.importorskip("pyarrow.parquet", reason="pyarrow is not importable here", exc_type=ImportError)
        gdf.to_parquet(path)
    else:
        gdf.to_file(path, driver=driver, engine="pyogrio")
    net = network_from_lines(path, speed_field="speed", id_field="rid")
    _assert_square(net)
    assert sorted(net.links.index) == [11, 12, 13, 14, 15]
    assert sorted(net.links["source_id"]) == [11, 12, 13, 14, 15]


def test_geographic_input_is_projected():
    offset = (270000.0, 7040000.0)  # Trondheim, in EPSG:25833
    gdf = _square()
    gdf = gdf.set_geometry(gdf.translate(*offset)).to_crs(4326)
    net = network_from_lines(gdf, speed_field="speed")
    _assert_square(net, offset)  # reprojected to EPSG:25833 because the data lie in Norway
    outside = network_from_lines(_square().to_crs(4326), speed_field="speed")  # near 0°N 10.5°E
    assert outside.crs == "EPSG:32632"  # local UTM zone outside Norway


def test_time_fields_minutes_and_multipart_share(tmp_path):
    gdf = _square(tf=[1.0, 2.0, 3.0, 4.0, 5.0], tb=[10.0, 20.0, 30.0, 40.0, 50.0])
    # split feature 'e' into two parts of 1/4 and 3/4 of its length
    mid = (250.0, 250.0)
    gdf.loc[4, "geometry"] = shapely.MultiLineString([[A, mid], [mid, C]])
    net = network_from_lines(gdf, time_fw_field="tf", time_bw_field="tb", time_unit="min", keep_largest=False)
    times = _times_by_name(net)
    assert times["a"] == pytest.approx((60.0, 600.0))
    assert times["d"] == pytest.approx((240.0, 2400.0))
    parts = net.links[net.links["name"] == "e"].sort_values("length_m")
    np.testing.assert_allclose(parts["time_fw_s"], [75.0, 225.0])   # 300 s shared by length
    np.testing.assert_allclose(parts["time_bw_s"], [750.0, 2250.0])
    assert net.report["parts"] == 6 and net.n_nodes == 5
    with pytest.raises(InputError, match=r"6 of 6 car links imply speeds outside 1–150 km/h \(link id: speed; 0: 3 600 km/h.*allow-implausible"):
        network_from_lines(gdf, time_fw_field="tf")  # 1 000 m in 1..5 s: minutes read as seconds
    only_fw = network_from_lines(gdf, time_fw_field="tf", allow_implausible_speeds=True)
    assert _times_by_name(only_fw)["b"] == pytest.approx((2.0, 2.0))  # seconds, same both ways
    assert only_fw.report["speed_check"]["checked"] is False
    assert "accepted_implausible" in only_fw.report["speed_check"]


def test_maxspeed_with_class_defaults():
    gdf = _square(ms=["NO:urban", "60", None, "none", "30 mph"],
                  hw=["primary", "primary", "residential", "motorway", "secondary"])
    net = network_from_lines(gdf, maxspeed_field="ms", class_field="hw")
    t = {k: v[0] for k, v in _times_by_name(net).items()}
    assert t["a"] == pytest.approx(1000 / (50 / 3.6))
    assert t["b"] == pytest.approx(1000 / (60 / 3.6))
    assert t["c"] == pytest.approx(1000 / (30 / 3.6))    # residential default
    assert t["d"] == pytest.approx(1000 / (100 / 3.6))   # "none" -> motorway default
    assert t["e"] == pytest.approx(1000 * np.sqrt(2) / (30 * 1.609344 / 3.6))
    custom = network_from_lines(gdf, class_field="hw", class_speeds={"residential": 45})
    assert _times_by_name(custom)["c"][0] == pytest.approx(80.0)
    assert _times_by_name(custom)["a"][0] == pytest.approx(1000 / (70 / 3.6))


def test_speed_field_null_filled_from_class():
    gdf = _square(speed=[36.0, None, 36.0, 36.0, 36.0], hw=["x", "tertiary", "x", "x", "x"])
    net = network_from_lines(gdf, speed_field="speed", class_field="hw", class_speeds={"x": 36})
    assert _times_by_name(net)["b"][0] == pytest.approx(1000 / (50 / 3.6))


@pytest.mark.parametrize("values, mapping", [
    (["yes", "-1", "no", None, "1"], None),
    (["FT", "TF", "B", "", "true"], None),
    (["med", "mot", "begge", "begge", "med"], {"forward": ["med"], "backward": ["mot"], "both": ["begge"]}),
])
def test_directions(values, mapping):
    gdf = _square(dir=values)
    net = network_from_lines(gdf, speed_field="speed", direction_field="dir", direction_values=mapping,
                             keep_largest=False)
    links = net.links.set_index("name")
    assert np.isfinite(links.loc["a", "time_fw_s"]) and np.isnan(links.loc["a", "time_bw_s"])
    assert np.isnan(links.loc["b", "time_fw_s"]) and np.isfinite(links.loc["b", "time_bw_s"])
    assert np.isfinite(links.loc[["c", "d"], ["time_fw_s", "time_bw_s"]]).all().all()
    assert np.isnan(links.loc["e", "time_bw_s"])
    # u -> v follows the digitising direction
    assert tuple(net.node_xy[links.loc["a", "u"]]) == A and tuple(net.node_xy[links.loc["a", "v"]]) == B


def test_numeric_direction_and_closed_links():
    gdf = _square(dir=[1, -1, 0, 0, 1], name=list("abcde"))
    net = network_from_lines(gdf, speed_field="speed", direction_field="dir", keep_largest=False)
    assert net.links["time_bw_s"].isna().sum() == 2 and net.links["time_fw_s"].isna().sum() == 1
    closed = network_from_lines(_square(dir=["N", "no", "no", "no", "no"]), speed_field="speed",
                                direction_field="dir")
    assert closed.n_links == 4 and closed.report["closed_links_dropped"] == 1


def test_snap_tolerance():
    def two_lines(gap):
        return gpd.GeoDataFrame({"speed": [36.0, 36.0]}, crs=CRS, geometry=[
            shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(100 + gap, 0), (200, 0)])])

    joined = network_from_lines(two_lines(0.5), speed_field="speed", snap_tolerance_m=1.0)
    assert joined.n_nodes == 3 and joined.n_links == 2
    np.testing.assert_allclose(sorted(joined.node_xy[:, 0]), [0, 100.25, 200])  # merged at the mean
    assert joined.report["endpoints_merged"] == 1
    apart = network_from_lines(two_lines(5.0), speed_field="speed", snap_tolerance_m=1.0, keep_largest=False)
    assert apart.n_nodes == 4
    kept = network_from_lines(two_lines(5.0), speed_field="speed", snap_tolerance_m=1.0)
    assert kept.n_links == 1 and kept.report["scc_dropped_nodes"] == 2 and kept.report["scc_dropped_links"] == 1
    assert len(kept.report["scc_dropped_link_ids_sample"]) == 1
    wide = network_from_lines(two_lines(5.0), speed_field="speed", snap_tolerance_m=6.0)
    assert wide.n_nodes == 3


def test_split_at_shared_vertices():
    x, y = 270_000.0, 7_040_000.0  # near Trondheim: a toy at the UTM origin would look like degrees
    cross = gpd.GeoDataFrame({"speed": [36.0, 36.0], "name": ["h", "v"]}, crs=CRS, geometry=[
        shapely.LineString([(x, y), (x + 50, y), (x + 100, y)]),
        shapely.LineString([(x + 50, y - 50), (x + 50, y), (x + 50, y + 50)])])
    plain = network_from_lines(cross, speed_field="speed", keep_largest=False)
    assert plain.n_nodes == 4 and plain.n_links == 2   # a bridge: no junction
    split = network_from_lines(cross, speed_field="speed", split_at_vertices=True)
    assert split.n_nodes == 5 and split.n_links == 4
    centre = _node(split, (x + 50, y))
    assert tuple(split.node_xy[centre]) == (x + 50.0, y)
    assert (split.links["u"].eq(centre) | split.links["v"].eq(centre)).all()
    np.testing.assert_allclose(split.links["time_fw_s"], 5.0)
    assert sorted(split.links["name"]) == ["h", "h", "v", "v"]
    assert split.report["pieces_after_split"] == 4


def test_keeps_attributes_and_renames_reserved():
    gdf = _square(u=[1, 2, 3, 4, 5], ref=["E6"] * 5)
    net = network_from_lines(gdf, speed_field="speed")
    assert "src_u" in net.links and list(net.links["ref"].unique()) == ["E6"]
    assert net.links.index.name == "link_id"


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("kwargs, change, message", [
    (dict(speed_field="sped"), None, "no column 'sped' \\(did you mean 'speed'\\?\\)"),
    (dict(speed_field="speed"), lambda g: g.assign(speed=[36, None, None, 36, 36]),
     "2 features have no usable speed .*\\(ids 1, 2\\).*class_field"),
    (dict(speed_field="speed"), lambda g: g.assign(speed=[36, 0, -5, 36, 36]), "2 zero/negative speeds in features 1, 2"),
    (dict(time_fw_field="t"), lambda g: g.assign(t=[1, -1, None, 1, 1]), "'t' has invalid values \\(1 NULL, 1 zero/negative\\)"),
    (dict(speed_field="speed"), lambda g: g.assign(speed=["fast"] * 5), "'speed' has non-numeric values \\(fast\\)"),
    (dict(class_field="hw"), lambda g: g.assign(hw=["primary", "gravel", "gravel", None, "primary"]),
     "'gravel' \\(2\\), '<NULL>' \\(1\\).*class_speeds"),
    (dict(speed_field="speed", direction_field="d"), lambda g: g.assign(d=["yes", "sideways", "no", "no", "no"]),
     "unknown values 'sideways' \\(1\\).*direction_values"),
    (dict(speed_field="speed"), lambda g: g.set_geometry([shapely.Point(0, 0)] * 5, crs=CRS), "5 features are Point"),
    (dict(speed_field="speed"), lambda g: g.set_geometry([shapely.LineString([(0, 0), (0, 0)])] + list(g.geometry[1:]),
                                                         crs=CRS), "1 invalid geometries \\(ids 0\\)"),
    (dict(speed_field="speed"), lambda g: g.set_geometry([None] + list(g.geometry[1:]), crs=CRS), "without geometry"),
    (dict(speed_field="speed"), lambda g: g.iloc[:0], "empty"),
    (dict(speed_field="speed"), lambda g: g.set_crs(None, allow_override=True), "no coordinate reference system"),
    (dict(speed_field="speed", crs="EPSG:4326"), None, "geographic CRS"),
    (dict(), None, "no way to compute travel times"),
    (dict(speed_field="speed", id_field="dup"), lambda g: g.assign(dup=[1, 1, 2, 3, 4]), "duplicate values: 1"),
    (dict(speed_field="speed", time_unit="h"), None, "time_unit"),
    (dict(speed_field="speed", class_speeds={"a": 5}), None, "class_speeds needs class_field"),
    (dict(speed_field="speed", snap_tolerance_m=-1), None, "snap_tolerance_m must be >= 0"),
    (dict(speed_field="speed", direction_field="d", direction_values={"forwards": ["x"]}),
     lambda g: g.assign(d="yes"), "unknown keys"),
])
def test_bad_input(kwargs, change, message):
    gdf = _square()
    if change is not None:
        gdf = change(gdf)
    with pytest.raises(InputError, match=message):
        network_from_lines(gdf, **kwargs)


def test_unreadable_and_missing_files(tmp_path):
    bad = tmp_path / "roads.gpkg"
    bad.write_text("not a geopackage")
    with pytest.raises(InputError, match="cannot read road layer"):
        network_from_lines(bad, speed_field="speed")
    with pytest.raises(InputError, match="does not exist"):
        network_from_lines(tmp_path / "nothing.shp", speed_field="speed")
