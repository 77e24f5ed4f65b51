"""Plausibility of networks (issue 13): speeds, implied speeds, NULL speed fields, CRS labels, folders.

Inputs are the synthetic demo region's road layer (3 940 links, 40–110 km/h, one ferry at 18 km/h)
with one property broken at a time; every error must name the problem and the fix.
"""
from __future__ import annotations

import logging

import numpy as np
import pytest

from centrality.builders.lines import network_from_lines
from centrality.builders.osm import network_from_osm_pbf
from centrality.errors import InputError
from centrality.plausibility import DEFAULT, Plausibility, check_link_speeds


@pytest.fixture(scope="module")
def region():
    from centrality.synthetic import demo_region

    return demo_region()


@pytest.fixture
def roads(region):
    return region.roads.copy()


def _speed_net(roads, **kw):
    return network_from_lines(roads, speed_field="maxspeed", class_field="highway", direction_field="oneway", **kw)


def test_demo_network_passes_and_reports_its_speeds(region):
    net = network_from_lines(region.roads, **region.network_options)
    check = net.report["speed_check"]
    assert check["checked"] is True and check["implausible_links"] == 0
    assert check["car_median_kmh"] == pytest.approx(60.0) and check["car_max_kmh"] == pytest.approx(110.0)
    assert check["ferry_min_kmh"] == pytest.approx(17.99, abs=0.01)  # 15 km crossing incl. waiting


def test_speed_field_of_5000_kmh_is_refused(roads):
    roads.loc[roads.index[:10], "maxspeed"] = 5000
    with pytest.raises(InputError, match=r"10 of \d+ car features have a speed field 'maxspeed' value outside "
                                         r"1–150 km/h \(\d+: 5 000 km/h.*--allow-implausible-speeds"):
        _speed_net(roads)
    net = _speed_net(roads, allow_implausible_speeds=True)
    assert net.report["speed_check"]["checked"] is False
    assert net.report["speed_check"]["car_max_kmh"] == pytest.approx(5000)


def test_speeds_in_metres_per_second_are_refused(roads):
    roads["maxspeed"] = (roads["maxspeed"] / 3.6).round(1)
    with pytest.raises(InputError, match=r"median car speed is 16\.7 km/h, outside 20–130 km/h \(likely a speed "
                                         r"field in m/s read as km/h"):
        _speed_net(roads)


def test_minutes_read_as_seconds_are_refused(region):
    opts = {k: v for k, v in region.network_options.items() if k != "time_unit"}
    with pytest.raises(InputError, match=r"car links imply speeds outside 1–150 km/h.*median car speed is 3 600 "
                                         r"km/h.*give --time-unit min"):
        network_from_lines(region.roads, **opts)


def test_ferry_speed_outside_ferry_range(roads):
    ferry = roads.index[roads["highway"].astype(str).str.lower().isin(["ferry"])]
    assert len(ferry) == 1
    roads.loc[ferry, "time_min"] = 5.0  # 15 km in 5 min incl. boarding: 180 km/h
    with pytest.raises(InputError, match=r"1 of 1 ferry links imply speeds outside 1–80 km/h \(link id: speed; "
                                         r"\d+: 180 km/h"):
        network_from_lines(roads, time_fw_field="time_min", time_unit="min", class_field="highway",
                           direction_field="oneway", id_field="link_id")


def test_all_null_speed_field_is_not_silently_replaced(roads, caplog):
    roads["maxspeed"] = None
    with pytest.raises(InputError, match=r"speed field 'maxspeed' gives no usable speed in any of the \d+ features.*"
                                         r"leave out --speed-field and give only --class-field"):
        _speed_net(roads)
    roads.loc[roads.index[:100], "maxspeed"] = 50
    with caplog.at_level(logging.WARNING):
        net = _speed_net(roads)
    n = len(roads)
    assert net.report["speeds_from_class"] == n - 100
    assert f"speed field 'maxspeed' is empty or unusable in {n - 100} of {n} features" in caplog.text


def test_metres_labelled_degrees(roads):
    with pytest.raises(InputError, match=r"labelled EPSG:4326 \(degrees\) but its coordinates \(x 99 912..229 982.*"
                                         r"look like ETRS89 / UTM 33N metres \(EPSG:25833\)"):
        network_from_lines(roads.set_crs(4326, allow_override=True), class_field="highway")


def test_degrees_labelled_metres_is_not_blamed_on_the_direction_field(roads):
    deg = roads.to_crs(4326).set_crs(25833, allow_override=True)
    with pytest.raises(InputError, match=r"labelled EPSG:25833 \(metres\).*look like longitude/latitude degrees") as err:
        network_from_lines(deg, class_field="highway", direction_field="oneway")
    assert "direction" not in str(err.value)


def test_zones_in_metres_labelled_degrees(region):
    from centrality.zones import load_zones

    zones = region.zones.set_crs(4326, allow_override=True)
    with pytest.raises(InputError, match=r"zones.*labelled EPSG:4326 \(degrees\) but its coordinates"):
        load_zones(zones, id_col="zone_id", pop_col="population", jobs_col="jobs")


def test_network_outside_norway_in_norwegian_crs_warns(roads, caplog):
    berlin = roads.set_geometry(roads.geometry.translate(290_000, -1_120_000))
    with caplog.at_level(logging.WARNING):
        net = network_from_lines(berlin, class_field="highway")
    assert net.n_links > 3000
    assert "is in EPSG:25833, a Norwegian CRS, but lies wholly outside Norway (lon 13.35..15.30" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        network_from_lines(roads, class_field="highway")
    assert "outside Norway" not in caplog.text


def test_folder_given_as_layer_file(tmp_path, roads):
    folder = tmp_path / "data"
    folder.mkdir()
    roads.to_file(folder / "roads.gpkg", driver="GPKG")
    with pytest.raises(InputError, match=r"road layer '.*data' is a folder, not a file\. It contains roads\.gpkg: "
                                         r"give one of them"):
        network_from_lines(folder, class_field="highway")
    with pytest.raises(InputError, match="is not an OpenStreetMap file"):
        network_from_osm_pbf(folder)


def test_thresholds_are_overridable(roads):
    roads.loc[roads.index[:3], "maxspeed"] = 180  # a 180 km/h test track
    with pytest.raises(InputError, match="outside 1–150 km/h"):
        _speed_net(roads)
    net = _speed_net(roads, plausibility={"car_speed_kmh": [1, 200]})
    assert net.report["speed_check"]["limits"]["car_kmh"] == [1, 200]
    with pytest.raises(InputError, match="plausibility has unknown key.*car_speed"):
        _speed_net(roads, plausibility={"car_speed": [1, 200]})
    with pytest.raises(InputError, match="two numbers 0 <= low < high"):
        Plausibility(car_speed_kmh=(150, 1))


def test_batch_config_accepts_the_flag(tmp_path, roads, region):
    from centrality.config import builder_options, load_config

    assert "allow_implausible_speeds" in builder_options("lines") and "plausibility" in builder_options("osm")
    roads.to_file(tmp_path / "roads.gpkg", driver="GPKG")
    region.zones.to_file(tmp_path / "zones.gpkg", driver="GPKG")
    (tmp_path / "b.toml").write_text(
        '[networks.n]\npath = "roads.gpkg"\nclass_field = "highway"\nallow_implausible_speeds = true\n'
        '[[run]]\nnetwork = "n"\nzones = { path = "zones.gpkg" }\nout = "o.gpkg"\n', encoding="utf-8")
    config = load_config(tmp_path / "b.toml")
    assert config.runs[0].network.kwargs["allow_implausible_speeds"] is True


def test_check_link_speeds_short_links_are_exempt():
    import pandas as pd

    links = pd.DataFrame({"length_m": [50.0, 1000.0], "time_fw_s": [0.6, 60.0], "time_bw_s": [np.nan, 60.0],
                          "kind": ["road", "road"]}, index=pd.Index([7, 8], name="link_id"))
    summary = check_link_speeds(links)  # 50 m in 0.6 s = 300 km/h, but rounding on a short link: exempt
    assert summary["implausible_links"] == 0 and summary["car_max_kmh"] == pytest.approx(300.0)
    links.loc[8, "time_fw_s"] = 6.0
    with pytest.raises(InputError, match=r"1 of 2 car links imply speeds outside 1–150 km/h \(link id: speed; 8: 600"):
        check_link_speeds(links)
    assert DEFAULT.min_checked_length_m == 200.0
