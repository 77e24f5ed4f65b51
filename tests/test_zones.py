"""Zones: loading (points, polygons, raster-weighted centroids), grid zones and snapping."""
from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pytest
import shapely

from centrality.errors import InputError
from centrality.network import RoadNetwork
from centrality.zones import Zones, load_zones, snap_zones, zones_from_raster

CRS = "EPSG:25833"


def _write_tif(path, array, origin=(0.0, 400.0), cell=100.0, crs=CRS, nodata=None):
    import rasterio
    from rasterio.transform import from_origin

    array = np.asarray(array, dtype="float32")
    with rasterio.open(path, "w", driver="GTiff", height=array.shape[0], width=array.shape[1], count=1,
                       dtype="float32", crs=crs, transform=from_origin(*origin, cell, cell), nodata=nodata) as dst:
        dst.write(array, 1)
    return path


@pytest.fixture
def pop_tif(tmp_path):
    # 4 x 4 cells of 100 m, x 0..400, y 0..400; cell centres x = 50,150,250,350 and y = 350,250,150,50
    grid = np.array([[1, 3, 0, 0],
                     [0, 4, 0, 0],
                     [0, 0, 0, -9],
                     [0, 0, 0, 2]])
    return _write_tif(tmp_path / "pop.tif", grid, nodata=-9)


@pytest.fixture
def network():
    # three nodes: (0,0), (1000,0), (1000,1000)
    return RoadNetwork.from_arrays([[0, 0], [1000, 0], [1000, 1000]], [0, 1, 2], [1, 2, 0], [60.0, 60.0, 90.0])


def _zone_frame(points, crs=CRS, **cols):
    data = {"zid": [f"z{i}" for i in range(len(points))], "pop": np.ones(len(points)), "jobs": np.zeros(len(points))}
    data.update(cols)
    return gpd.GeoDataFrame(data, geometry=[shapely.Point(p) for p in points], crs=crs)


# ------------------------------------------------------------------ load_zones
def test_polygons_representative_point_vs_raster_centroid(tmp_path, pop_tif):
    square = shapely.box(0, 200, 200, 400)      # covers the top-left 2 x 2 cells
    empty_area = shapely.box(200, 200, 400, 300)  # only zero/nodata cells -> fallback
    gdf = gpd.GeoDataFrame({"id": [1, 2], "pop": [8, 0], "jobs": [5, 1]}, geometry=[square, empty_area], crs=CRS)
    path = tmp_path / "zones.gpkg"
    gdf.to_file(path, layer="zones")

    plain = load_zones(path, id_col="id", pop_col="pop", jobs_col="jobs")
    rep = shapely.point_on_surface(square)
    assert plain.geometry.iloc[0].equals(rep) and square.contains(plain.geometry.iloc[0])
    assert list(plain["centroid_method"]) == ["representative_point", "representative_point"]

    weighted = load_zones(path, id_col="id", pop_col="pop", jobs_col="jobs", raster=pop_tif)
    # weights 1 @ (50,350), 3 @ (150,350), 4 @ (150,250): x = 1100/8, y = 2400/8
    p = weighted.geometry.iloc[0]
    assert (p.x, p.y) == pytest.approx((137.5, 300.0), abs=1e-9)
    assert list(weighted["centroid_method"]) == ["raster", "representative_point"]
    assert weighted.geometry.iloc[1].equals(shapely.point_on_surface(empty_area))
    assert weighted["pop"].dtype == np.float64 and weighted.crs == CRS


def test_raster_that_misses_the_zones_is_an_error_not_a_silent_fallback(pop_tif):
    """Polygons entirely outside the raster (wrong raster or CRS) are an InputError naming both
    extents; only single polygons without populated cells fall back (and say so)."""
    far = gpd.GeoDataFrame({"id": [1], "pop": [8], "jobs": [5]}, geometry=[shapely.box(50_000, 0, 50_200, 200)],
                           crs=CRS)
    with pytest.raises(InputError, match=r"does not overlap the zones: raster bounds .* and zone bounds \(50000, 0"):
        load_zones(far, id_col="id", pop_col="pop", jobs_col="jobs", raster=pop_tif)


def test_raster_centroid_with_zones_in_other_crs(pop_tif):
    square = gpd.GeoSeries([shapely.box(0, 200, 200, 400)], crs=CRS).to_crs(4326)
    gdf = gpd.GeoDataFrame({"id": ["a"], "pop": [8], "jobs": [0]}, geometry=square.values, crs=4326)
    out = load_zones(gdf, id_col="id", pop_col="pop", jobs_col="jobs", raster=pop_tif, crs=CRS)
    p = out.geometry.iloc[0]
    # the reprojected square edges are not exactly straight in 25833, but the same cells are inside
    assert (p.x, p.y) == pytest.approx((137.5, 300.0), abs=1e-6)


def test_load_zones_points_kept_and_reprojected():
    pts = gpd.GeoSeries([shapely.Point(10.39, 63.43)], crs=4326)  # Trondheim
    gdf = gpd.GeoDataFrame({"id": ["trd"], "pop": [1], "jobs": [2], "name": ["Trondheim"]}, geometry=pts.values, crs=4326)
    out = load_zones(gdf, id_col="id", pop_col="pop", jobs_col="jobs")
    assert out.crs == CRS and out["name"].iloc[0] == "Trondheim" and out["centroid_method"].iloc[0] == "point"
    expected = pts.to_crs(CRS).iloc[0]
    assert out.geometry.iloc[0].distance(expected) < 1e-6


# ------------------------------------------------------------------ zones_from_raster
def test_zones_from_raster_with_jobs(tmp_path, pop_tif):
    jobs = np.zeros((4, 4))
    jobs[3, 0] = 7   # jobs but no residents -> still a zone
    jobs[0, 1] = 2
    jobs_tif = _write_tif(tmp_path / "jobs.tif", jobs)
    z = zones_from_raster(pop_tif, jobs_tif)
    z = z.set_index("zone_id")
    assert sorted(z.index) == sorted(["r0_c0", "r0_c1", "r1_c1", "r3_c3", "r3_c0"])
    assert z.loc["r0_c1", "population"] == 3 and z.loc["r0_c1", "jobs"] == 2
    assert z.loc["r3_c0", "population"] == 0 and z.loc["r3_c0", "jobs"] == 7
    pt = z.loc["r1_c1", "geometry"]
    assert (pt.x, pt.y) == (150.0, 250.0)
    assert z.crs == CRS
    only_big = zones_from_raster(pop_tif, min_population=2)
    assert sorted(only_big["zone_id"]) == ["r0_c1", "r1_c1"]  # 3 and 4 people; 2 is not > 2


def test_zones_from_raster_misaligned_jobs(tmp_path, pop_tif):
    jobs_tif = _write_tif(tmp_path / "jobs.tif", np.ones((4, 4)), origin=(50.0, 400.0))
    with pytest.raises(InputError, match="same grid"):
        zones_from_raster(pop_tif, jobs_tif)
    with pytest.raises(InputError, match="does not exist"):
        zones_from_raster(tmp_path / "nope.tif")
    with pytest.raises(InputError, match="no cell with population"):
        zones_from_raster(_write_tif(tmp_path / "zero.tif", np.zeros((2, 2))))


# ------------------------------------------------------------------ snap_zones
def test_snap_distances_and_access_times(network, caplog):
    gdf = _zone_frame([(3, 4), (1000, 1100), (10000, 0), (994, -8)], pop=[10, 20, 30, 40], jobs=[1, 2, 3, 4])
    with caplog.at_level(logging.WARNING):
        z = snap_zones(gdf, network, id_col="zid", pop_col="pop", jobs_col="jobs", max_excluded_share=0.5)
    assert isinstance(z, Zones)
    assert list(z.ids) == ["z0", "z1", "z3"]
    np.testing.assert_array_equal(z.node, [0, 2, 1])
    np.testing.assert_allclose(z.snap_m, [5.0, 100.0, 10.0])
    np.testing.assert_allclose(z.access_s, [0.9, 18.0, 1.8])  # metres / (20 km/h / 3.6)
    np.testing.assert_allclose(z.population, [10, 20, 40])
    np.testing.assert_allclose(z.xy, [[3, 4], [1000, 1100], [994, -8]])
    assert list(z.table["zid"]) == ["z0", "z1", "z3"]
    assert len(z.excluded) == 1
    row = z.excluded.iloc[0]
    assert row["id"] == "z2" and row["snap_m"] == pytest.approx(9000.0) and "max_snap_m" in row["reason"]
    assert (row["population"], row["jobs"]) == (30.0, 3.0)
    assert z.exclusion() == {"n_excluded": 1, "excluded_population": 30.0, "excluded_jobs": 3.0,
                             "excluded_population_share": 0.3, "excluded_jobs_share": 0.3}
    assert "z2" in caplog.text
    with pytest.raises(InputError, match=r"30 residents \(30\.00 % of the population\).*allowed 29 %"):
        snap_zones(gdf, network, id_col="zid", pop_col="pop", jobs_col="jobs", max_excluded_share=0.29)
    fast = snap_zones(gdf, network, id_col="zid", pop_col="pop", jobs_col="jobs", access_speed_kmh=36,
                      max_snap_m=20000)
    assert len(fast.excluded) == 0 and fast.access_s[2] == pytest.approx(900.0)


def test_snap_reprojects_zones(network):
    gdf = _zone_frame([(3, 4), (1000, 1100)])
    z = snap_zones(gdf.to_crs(4326), network, id_col="zid", pop_col="pop", jobs_col="jobs")
    np.testing.assert_allclose(z.snap_m, [5.0, 100.0], atol=1e-5)
    assert z.table.crs == network.crs


def test_snap_polygons_use_representative_point(network):
    gdf = gpd.GeoDataFrame({"zid": ["p"], "pop": [1], "jobs": [1]}, geometry=[shapely.box(0, 10, 20, 30)], crs=CRS)
    z = snap_zones(gdf, network, id_col="zid", pop_col="pop", jobs_col="jobs")
    np.testing.assert_allclose(z.xy[0], [10, 20])
    assert z.snap_m[0] == pytest.approx(np.hypot(10, 20))


@pytest.mark.parametrize("change, message", [
    (lambda g: g.assign(zid=["a", "a", "b"]), "not unique: a"),
    (lambda g: g.assign(pop=[1.0, None, 2.0]), "'pop' is empty \\(NULL\\) for 1 zones: z1"),
    (lambda g: g.assign(jobs=[1.0, -2.0, 0.0]), "negative for zones z1"),
    (lambda g: g.assign(pop=["1", "many", "2"]), "non-numeric"),
    (lambda g: g.rename(columns={"pop": "Pop"}), "no column 'pop' \\(did you mean 'Pop'\\?\\)"),
    (lambda g: g.set_crs(None, allow_override=True), "no coordinate reference system"),
    (lambda g: g.iloc[:0], "empty"),
    (lambda g: g.assign(zid=[None, "b", "c"]), "empty id"),
    (lambda g: g.set_geometry([shapely.LineString([(0, 0), (1, 1)])] * 3, crs=CRS), "lines"),
])
def test_snap_bad_input(network, change, message):
    gdf = _zone_frame([(0, 0), (10, 0), (20, 0)])
    with pytest.raises(InputError, match=message):
        snap_zones(change(gdf), network, id_col="zid", pop_col="pop", jobs_col="jobs")


def test_all_zones_excluded(network):
    gdf = _zone_frame([(50000, 0), (60000, 0)])
    with pytest.raises(InputError, match="all 2 zones are farther than max_snap_m=5000"):
        snap_zones(gdf, network, id_col="zid", pop_col="pop", jobs_col="jobs")


def test_load_zones_bad_input(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_zones(tmp_path / "missing.gpkg", id_col="id", pop_col="pop", jobs_col="jobs")
    gdf = _zone_frame([(0, 0)])
    with pytest.raises(InputError, match="no column 'population'"):
        load_zones(gdf, id_col="zid", pop_col="population", jobs_col="jobs")
    with pytest.raises(InputError, match="no coordinate reference system"):
        load_zones(gdf.set_crs(None, allow_override=True), id_col="zid", pop_col="pop", jobs_col="jobs")
    with pytest.raises(InputError, match="geographic"):
        load_zones(gdf, id_col="zid", pop_col="pop", jobs_col="jobs", crs="EPSG:4326")
