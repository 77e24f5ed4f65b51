"""The Regio Processing algorithms inside real QGIS: registration, values equal to the core
library's, clear errors for bad input."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qgis_fixtures import layer_frame, qgis_app, regio_provider, demo, to_layer  # noqa: F401

pytestmark = pytest.mark.qgis

@pytest.fixture(autouse=True)
def _provider(regio_provider):
    """Every test here needs QGIS running with the provider registered."""
    return regio_provider


ALGORITHMS = {"build_network", "centrality", "od_matrix", "model_table", "attractiveness", "road_scenario",
              "business_attractiveness"}


def run(alg: str, params: dict) -> dict:
    import processing

    return processing.run(f"regio:{alg}", params)


@pytest.fixture(scope="module")
def layers(qgis_app, demo):
    """Demo roads, zone points, zone polygons (with population/jobs) and kommuner as memory layers."""
    areas = demo.zone_areas.merge(demo.zones[["zone_id", "population", "jobs"]], on="zone_id")
    areas = areas.merge(demo.zones[["zone_id", "town"]], on="zone_id")
    return {"roads": to_layer(demo.roads, "roads"), "zones": to_layer(demo.zones, "zones"),
            "areas": to_layer(areas, "zone areas"), "areas_gdf": areas}


@pytest.fixture()
def road_params(layers, demo):
    opts = demo.network_options
    return {"ROADS": layers["roads"], "CLASS_FIELD": opts["class_field"], "DIRECTION_FIELD": opts["direction_field"],
            "TIME_FW_FIELD": opts["time_fw_field"], "TIME_UNIT": 0 if opts["time_unit"] == "min" else 1,
            "ID_FIELD": opts["id_field"]}


ZONE_PARAMS = {"ZONE_ID_FIELD": "zone_id", "POP_FIELD": "population", "JOBS_FIELD": "jobs"}


@pytest.fixture(scope="module")
def network(demo):
    from centrality.builders.lines import network_from_lines

    return network_from_lines(demo.roads, **demo.network_options)


def test_provider_registers_every_algorithm(regio_provider):
    from qgis.core import QgsApplication

    from qgis_plugin.proc.base import GROUPS

    provider = QgsApplication.processingRegistry().providerById("regio")
    assert provider.name() == "Regio"  # short: the toolbox does not truncate it
    algs = {a.name(): a for a in provider.algorithms()}
    assert set(algs) == ALGORITHMS
    icons = set()
    for alg in algs.values():
        assert len(alg.shortHelpString()) > 200, alg.name()
        assert alg.helpUrl().startswith("https://") and "#" in alg.helpUrl()
        assert alg.canExecute()[0], alg.canExecute()[1]
        assert alg.groupId() in GROUPS and alg.group() == GROUPS[alg.groupId()]
        assert Path(alg.svgIconPath()).is_file() and Path(alg.svgIconPath()).name != "icon.svg", alg.name()
        icons.add(Path(alg.svgIconPath()).name)
        for d in alg.parameterDefinitions():
            assert "optional" not in d.description().lower(), (alg.name(), d.description())  # QGIS adds "[optional]"
            if d.type() == "number" and d.dataType() == d.Double:
                assert "decimals" in d.metadata().get("widget_wrapper", {}), (alg.name(), d.name())
    assert len(icons) == len(algs)  # one icon per algorithm
    # groups in workflow order: the toolbox sorts group names
    order = ["network", "traveltimes", "centrality", "model", "scenarios"]
    assert sorted(GROUPS.values()) == [GROUPS[g] for g in order]
    assert {a.groupId() for a in algs.values()} <= set(order)
    assert algs["build_network"].groupId() == "network" and algs["road_scenario"].groupId() == "scenarios"


def test_defaults_threads_and_number_formats(regio_provider):
    import os

    from qgis.core import QgsApplication

    from centrality.settings import CentralitySettings, default_workers

    alg = QgsApplication.processingRegistry().algorithmById("regio:centrality")
    assert alg.parameterDefinition("WORKERS").defaultValue() == default_workers() == len(os.sched_getaffinity(0))
    s = CentralitySettings()
    assert alg.parameterDefinition("CUTOFF").defaultValue() == s.cutoff_min == 90
    assert alg.parameterDefinition("CUTOFF").dataType() == alg.parameterDefinition("CUTOFF").Integer  # "90", not "90.000000"
    assert alg.parameterDefinition("LIMITS").defaultValue() == ",".join(f"{x:g}" for x in s.limits_min)
    assert alg.parameterDefinition("DECAY").options()[0].startswith("Exponential")
    assert alg.parameterDefinition("DECAY_CUTOFF").defaultValue() is None  # follows the maximum travel time
    assert alg.parameterDefinition("ACCESS_SPEED").defaultValue() == s.access_speed_kmh
    assert alg.parameterDefinition("MAX_SNAP").metadata()["widget_wrapper"]["decimals"] == 0
    assert alg.parameterDefinition("DECAY_WEIGHT").metadata()["widget_wrapper"]["decimals"] == 3
    od = QgsApplication.processingRegistry().algorithmById("regio:od_matrix")
    names = [d.name() for d in od.parameterDefinitions()]
    assert "DESTINATIONS" in names and "POP_FIELD" not in names and "JOBS_FIELD" not in names


def test_build_network_equals_core(layers, road_params, network):
    res = run("build_network", {**road_params, "LINKS": "TEMPORARY_OUTPUT", "NODES": "TEMPORARY_OUTPUT"})
    links = layer_frame(res["LINKS"]).set_index("link_id").sort_index()
    core = network.links.sort_index()
    assert len(links) == network.n_links and links.index.equals(core.index)
    for col in ("u", "v"):
        np.testing.assert_array_equal(links[col].to_numpy(), core[col].to_numpy())
    for col in ("length_m", "time_fw_s", "time_bw_s"):
        np.testing.assert_allclose(links[col].to_numpy(float), core[col].to_numpy(float), rtol=1e-12, equal_nan=True)
    # read-back fields: one-way links have the closed direction NULL in seconds, "yes"/"-1" in oneway
    oneway = links["oneway"].to_numpy()
    assert ((oneway == "yes") == links["time_bw_s"].isna().to_numpy()).all()
    np.testing.assert_allclose(links["time_fw_min"], np.where(links["time_fw_s"].isna(), links["time_bw_s"],
                                                              links["time_fw_s"]) / 60.0)
    nodes = layer_frame(res["NODES"])
    assert len(nodes) == network.n_nodes
    np.testing.assert_allclose(np.column_stack([nodes.geometry.x, nodes.geometry.y]), network.node_xy)
    deg = np.bincount(np.r_[core["u"], core["v"]], minlength=network.n_nodes)
    np.testing.assert_array_equal(nodes["degree"], deg)


def test_build_network_from_osm_pbf_equals_core(regio_provider):
    from conftest import shared_path

    from centrality.builders.osm import network_from_osm_pbf

    pbf = shared_path("helsinki.osm.pbf")
    res = run("build_network", {"OSM_PBF": str(pbf), "LINKS": "TEMPORARY_OUTPUT"})
    links = layer_frame(res["LINKS"]).set_index("link_id").sort_index()
    net = network_from_osm_pbf(pbf)
    core = net.links.sort_index()
    assert links.index.equals(core.index) and len(links) > 500
    for col in ("length_m", "time_fw_s", "time_bw_s"):
        np.testing.assert_allclose(links[col].to_numpy(float), core[col].to_numpy(float), rtol=1e-12, equal_nan=True)
    assert res["LINKS"].crs().authid() == net.crs and not res["LINKS"].crs().isGeographic()


def test_build_network_needs_exactly_one_input(layers, road_params, tmp_path):
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="exactly one"):
        run("build_network", {"LINKS": "TEMPORARY_OUTPUT"})
    pbf = tmp_path / "not_read.osm.pbf"
    pbf.write_bytes(b"")
    with pytest.raises(QgsProcessingException, match="exactly one"):
        run("build_network", {**road_params, "OSM_PBF": str(pbf), "LINKS": "TEMPORARY_OUTPUT"})


def _compare(frame_a, frame_b, key, cols, rtol=1e-9):
    a = frame_a.set_index(key).sort_index()
    b = frame_b.set_index(key).sort_index()
    assert a.index.equals(b.index)
    for col in cols:
        np.testing.assert_allclose(a[col].to_numpy(float), b[col].to_numpy(float), rtol=rtol, atol=1e-9,
                                   err_msg=col)


def test_centrality_equals_core_for_polygon_zones(layers, road_params, network):
    from centrality.pipeline import run_centrality

    res = run("centrality", {**road_params, "ZONES": layers["areas"], **ZONE_PARAMS, "GROUP_FIELD": "kommune",
                             "CUTOFF": 90, "LIMITS": "30,60", "OUTPUT": "TEMPORARY_OUTPUT",
                             "GROUPS": "TEMPORARY_OUTPUT"})
    core = run_centrality(network, layers["areas_gdf"], limits_min=(30, 60), group_col="kommune")
    zones = layer_frame(res["OUTPUT"])
    cols = ["population", "jobs", "jobs_30min", "jobs_60min", "access_decay", "index", "centrality_class"]
    _compare(zones, core.zones, "zone_id", cols)
    assert set(zones.geom_type) <= {"Polygon", "MultiPolygon"}  # the zone polygons, not the snap points
    assert zones["index"].max() == pytest.approx(1000.0)
    groups = layer_frame(res["GROUPS"])
    _compare(groups, core.groups, "kommune", ["population", "jobs", "access_decay", "index", "centrality_class"])
    assert set(groups.geom_type) <= {"Polygon", "MultiPolygon"}


def test_centrality_geographic_crs_is_projected(layers, road_params, demo, network):
    """Layers in EPSG:4326 give the same result as the metric original (reprojected internally)."""
    from centrality.pipeline import run_centrality

    roads = to_layer(demo.roads.to_crs(4326), "roads 4326")
    zones = to_layer(demo.zones.to_crs(4326), "zones 4326")
    res = run("centrality", {**road_params, "ROADS": roads, "ZONES": zones, **ZONE_PARAMS, "OUTPUT": "TEMPORARY_OUTPUT"})
    core = run_centrality(network, demo.zones)
    out = layer_frame(res["OUTPUT"])
    _compare(out, core.zones, "zone_id", ["jobs_30min", "jobs_90min"], rtol=0)
    _compare(out, core.zones, "zone_id", ["access_decay", "index"], rtol=1e-6)


def test_outputs_are_styled_when_loaded(layers, road_params):
    """runAndLoadResults (what the Processing dialog does) styles the index output on load."""
    import processing
    from qgis.core import QgsGraduatedSymbolRenderer, QgsProject

    res = processing.runAndLoadResults("regio:centrality", {**road_params, "ZONES": layers["zones"], **ZONE_PARAMS,
                                                            "OUTPUT": "TEMPORARY_OUTPUT"})
    layer = QgsProject.instance().mapLayer(res["OUTPUT"])
    try:
        renderer = layer.renderer()
        assert isinstance(renderer, QgsGraduatedSymbolRenderer) and renderer.classAttribute() == "index"
        assert len(renderer.ranges()) == 6 and renderer.ranges()[-1].upperValue() == pytest.approx(1000.0)  # SSB 1–6
        assert layer.name() == "Centrality index (0–1000)"  # the legend title names the unit
    finally:
        QgsProject.instance().removeMapLayer(layer)


def test_progress_and_cancel_reach_the_core(layers, road_params):
    import processing
    from qgis.core import QgsProcessingException, QgsProcessingFeedback

    class Recorder(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.values = []

        def setProgress(self, value):  # noqa: N802
            self.values.append(value)
            super().setProgress(value)

    params = {**road_params, "ZONES": layers["zones"], **ZONE_PARAMS, "OUTPUT": "TEMPORARY_OUTPUT"}
    rec = Recorder()
    processing.run("regio:centrality", params, feedback=rec)
    assert len(rec.values) > 5 and rec.values == sorted(rec.values) and rec.values[-1] == 100
    assert any(20 < v < 95 for v in rec.values)  # the travel-time search reported progress
    cancelled = QgsProcessingFeedback()
    cancelled.cancel()
    with pytest.raises(QgsProcessingException, match="Cancelled by the user"):
        processing.run("regio:centrality", params, feedback=cancelled)


def test_od_matrix_equals_core(layers, road_params, demo, network):
    from centrality.paths import od_times
    from centrality.zones import load_zones, snap_zones

    subset = demo.zones[demo.zones["town"].isin(["Midtby", "Storby"])].head(40)
    res = run("od_matrix", {**road_params, "ORIGINS": to_layer(subset, "some zones"), "ORIGIN_ID_FIELD": "zone_id",
                            "CUTOFF": 45, "OUTPUT": "TEMPORARY_OUTPUT"})
    table = pd.DataFrame(layer_frame(res["OUTPUT"]).drop(columns="geometry"))
    z = snap_zones(load_zones(subset, id_col="zone_id", pop_col="population", jobs_col="jobs"), network,
                   id_col="zone_id")
    core = od_times(network, z, cutoff_min=45).to_frame(z)
    assert list(table.columns) == ["origin_id", "dest_id", "minutes"]
    assert len(table) == len(core) > len(subset)
    _compare(table.assign(k=table.origin_id + ">" + table.dest_id), core.assign(k=core.origin_id + ">" + core.dest_id),
             "k", ["minutes"], rtol=1e-12)
    assert table["minutes"].max() <= 45.0


def test_od_matrix_separate_destinations(layers, road_params, demo, network):
    """Origins -> a separate destinations layer (overlapping ids) equals the full matrix's sub-block."""
    from centrality.paths import od_times
    from centrality.zones import load_zones, snap_zones

    origins = demo.zones[demo.zones["town"] == "Midtby"].head(15)
    dests = demo.zones[demo.zones["town"] == "Storby"].head(25)
    res = run("od_matrix", {**road_params, "ORIGINS": to_layer(origins, "o"), "ORIGIN_ID_FIELD": "zone_id",
                            "DESTINATIONS": to_layer(dests.assign(dest=dests["name"]), "d"), "DEST_ID_FIELD": "dest",
                            "CUTOFF": 90, "OUTPUT": "TEMPORARY_OUTPUT"})
    table = pd.DataFrame(layer_frame(res["OUTPUT"]).drop(columns="geometry"))
    both = pd.concat([origins, dests])
    z = snap_zones(load_zones(both, id_col="zone_id", pop_col="population", jobs_col="jobs"), network, id_col="zone_id")
    full = od_times(network, z, cutoff_min=90).to_frame(z)
    name = dict(zip(dests["zone_id"], dests["name"]))
    block = full[full.origin_id.isin(origins.zone_id) & full.dest_id.isin(dests.zone_id)].assign(
        dest_id=lambda f: f.dest_id.map(name))
    assert set(table["dest_id"]) <= set(dests["name"]) and set(table["origin_id"]) <= set(origins["zone_id"])
    assert len(table) == len(block) == len(origins) * len(dests)  # all within 90 min in the demo
    _compare(table.assign(k=table.origin_id + ">" + table.dest_id), block.assign(k=block.origin_id + ">" + block.dest_id),
             "k", ["minutes"], rtol=1e-12)


# ------------------------------------------------------------------------------ attractiveness
@pytest.fixture(scope="module")
def kommune_inputs(demo):
    """Three demo kommuner with hand-made statistics for two years (VRA, DS as fractions)."""
    kommuner = demo.kommuner.head(3).copy()
    kommuner["sentral"] = [900.0, 700.0, 500.0]
    codes = kommuner["kommune"].tolist()
    stats = pd.DataFrame({
        "kommune": codes * 2, "aar": [2020] * 3 + [2021] * 3,
        "nettoinnflytting": [120.0, -30.0, -15.0, 90.0, 10.0, -25.0],
        "folkemengde": [20000.0, 8000.0, 3000.0, 20100.0, 7990.0, 2985.0],
        "vra": [0.01, -0.005, 0.0, 0.004, 0.002, -0.01], "vra1": [0.0, 0.01, -0.01, 0.01, -0.005, 0.0],
        "vra2": [0.002, 0.0, 0.0, 0.0, 0.01, -0.01], "ds": [0.001, -0.002, 0.0, 0.0015, -0.001, 0.0005]})
    return kommuner, stats


def test_attractiveness_equals_core_and_hand_value(kommune_inputs):
    from geoproc.model.attractiveness import attractiveness, cumulative_attractiveness, net_migration_rate
    from geoproc.model.centrality_term import sentny
    from geoproc.model.expected import expected_net_migration, model_inputs

    kommuner, stats = kommune_inputs
    res = run("attractiveness", {
        "KOMMUNER": to_layer(kommuner, "kommuner"), "KOMMUNE_FIELD": "kommune", "CENTRALITY_FIELD": "sentral",
        "STATS": to_layer(stats, "stats"), "STATS_KOMMUNE_FIELD": "kommune", "YEAR_FIELD": "aar",
        "NET_MIGRATION_FIELD": "nettoinnflytting", "POPULATION_FIELD": "folkemengde", "VRA_T_FIELD": "vra",
        "VRA_T1_FIELD": "vra1", "VRA_T2_FIELD": "vra2", "DS_FIELD": "ds", "OUTPUT": "TEMPORARY_OUTPUT"})
    out = layer_frame(res["OUTPUT"]).set_index("kommune")
    # the same chain called directly
    s = stats.rename(columns={"aar": "year", "nettoinnflytting": "net_migration", "folkemengde": "population",
                              "vra": "vra_t", "vra1": "vra_t1", "vra2": "vra_t2"})
    sn = sentny(kommuner.rename(columns={"sentral": "index"})[["kommune", "index"]])
    inputs = model_inputs(s[["year", "kommune", "vra_t", "vra_t1", "vra_t2"]], sn[["kommune", "sentny"]],
                          s[["year", "kommune", "ds"]])
    ba = attractiveness(net_migration_rate(s[["year", "kommune", "net_migration"]], s[["year", "kommune", "population"]]),
                        expected_net_migration(inputs))
    cum = cumulative_attractiveness(ba, s[["year", "kommune", "population"]]).set_index("kommune")
    mean = ba.groupby("kommune")[["nm_actual", "nm_expected", "attractiveness"]].mean()
    for col in ("nm_actual", "nm_expected", "attractiveness"):
        np.testing.assert_allclose(out.loc[mean.index, col], mean[col], rtol=1e-12)
    np.testing.assert_allclose(out.loc[cum.index, "attractiveness_pct"], cum["attractiveness_pct"], rtol=1e-12)
    # hand value, first kommune 2020 (model 4): sentny = 0.9 - mean(0.9, 0.7, 0.5) = 0.2
    k = kommuner["kommune"].iloc[0]
    nm_exp_2020 = -0.0023964 + 0.1360559 * 0.01 + 0.0962927 * 0.0 + 0.0531233 * 0.002 + 0.0272193 * 0.2 - 0.4036295 * 0.001
    nm_exp_2021 = -0.0023964 + 0.1360559 * 0.004 + 0.0962927 * 0.01 + 0.0272193 * 0.2 - 0.4036295 * 0.0015
    assert out.loc[k, "nm_expected"] == pytest.approx((nm_exp_2020 + nm_exp_2021) / 2, rel=1e-9)
    assert out.loc[k, "nm_actual"] == pytest.approx((120 / 20000 + 90 / 20100) / 2, rel=1e-12)
    assert sorted(out["rank"]) == [1, 2, 3]
    assert out["attractiveness_pct"].idxmax() == out["rank"].idxmin()
    assert set(out.geom_type) <= {"Polygon", "MultiPolygon"}


def test_attractiveness_reads_a_csv_file_with_text_fields(kommune_inputs, tmp_path):
    """A CSV path given directly has text fields; numbers (also with decimal comma) are converted."""
    kommuner, stats = kommune_inputs
    params = {"KOMMUNER": to_layer(kommuner, "kommuner"), "KOMMUNE_FIELD": "kommune", "CENTRALITY_FIELD": "sentral",
              "STATS_KOMMUNE_FIELD": "kommune", "YEAR_FIELD": "aar", "NET_MIGRATION_FIELD": "nettoinnflytting",
              "POPULATION_FIELD": "folkemengde", "VRA_T_FIELD": "vra", "VRA_T1_FIELD": "vra1", "VRA_T2_FIELD": "vra2",
              "DS_FIELD": "ds", "OUTPUT": "TEMPORARY_OUTPUT"}
    from_layer = layer_frame(run("attractiveness", {**params, "STATS": to_layer(stats, "stats")})["OUTPUT"])
    csv = tmp_path / "stats.csv"
    stats.assign(vra=stats["vra"].map(lambda v: f"{v}".replace(".", ","))).to_csv(csv, index=False)
    from_csv = layer_frame(run("attractiveness", {**params, "STATS": str(csv)})["OUTPUT"])
    _compare(from_csv, from_layer, "kommune", ["nm_expected", "attractiveness", "attractiveness_pct", "rank"], rtol=1e-12)
    bad = tmp_path / "bad.csv"
    stats.assign(folkemengde="many").to_csv(bad, index=False)
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="folkemengde.*not numbers"):
        run("attractiveness", {**params, "STATS": str(bad)})


def test_attractiveness_on_real_kommune_polygons(kommune_inputs):
    """Kartverket polygons with integer kommunenummer (5037) join statistics coded '5037'."""
    import geopandas as gpd
    from conftest import shared_path

    polys = gpd.read_file(shared_path("kommuner_2020.geojson"))
    polys = polys[polys["kommunenummer"].isin([5001, 5035, 5037])].assign(sentral=[891.0, 801.0, 755.0])
    _, stats = kommune_inputs
    stats = stats.assign(kommune=np.repeat([["5001", "5035", "5037"]], 2, axis=0).ravel())
    res = run("attractiveness", {
        "KOMMUNER": to_layer(polys, "kommuner 2020"), "KOMMUNE_FIELD": "kommunenummer", "CENTRALITY_FIELD": "sentral",
        "STATS": to_layer(stats, "stats"), "STATS_KOMMUNE_FIELD": "kommune", "YEAR_FIELD": "aar",
        "NET_MIGRATION_FIELD": "nettoinnflytting", "POPULATION_FIELD": "folkemengde", "VRA_T_FIELD": "vra",
        "VRA_T1_FIELD": "vra1", "VRA_T2_FIELD": "vra2", "DS_FIELD": "ds", "OUTPUT": "TEMPORARY_OUTPUT"})
    out = layer_frame(res["OUTPUT"]).set_index("kommune")
    assert sorted(out.index) == ["5001", "5035", "5037"]
    assert out.loc["5037", "navn"] == "Levanger"
    # sentny centred over the three: Trondheim 0.891 - mean(0.891, 0.801, 0.755)
    assert out.loc["5001", "sentny"] == pytest.approx(0.891 - (0.891 + 0.801 + 0.755) / 3, abs=1e-12)
    assert res["OUTPUT"].crs().authid() == "EPSG:4326"


def test_attractiveness_model4_without_ds_is_a_clear_error(kommune_inputs):
    from qgis.core import QgsProcessingException

    kommuner, stats = kommune_inputs
    params = {"KOMMUNER": to_layer(kommuner, "kommuner"), "KOMMUNE_FIELD": "kommune", "CENTRALITY_FIELD": "sentral",
              "STATS": to_layer(stats.drop(columns="ds"), "stats"), "STATS_KOMMUNE_FIELD": "kommune", "YEAR_FIELD": "aar",
              "NET_MIGRATION_FIELD": "nettoinnflytting", "POPULATION_FIELD": "folkemengde", "VRA_T_FIELD": "vra",
              "VRA_T1_FIELD": "vra1", "VRA_T2_FIELD": "vra2", "DS_FIELD": None, "OUTPUT": "TEMPORARY_OUTPUT"}
    with pytest.raises(QgsProcessingException, match="DS"):
        run("attractiveness", params)
    # model 3 (no DS term) works on the same table
    out = layer_frame(run("attractiveness", {**params, "MODEL": 1})["OUTPUT"])
    assert len(out) == 3 and out["nm_expected"].notna().all()


def test_model_table_from_ssb_files_feeds_the_attractiveness_map(tmp_path):
    """SSB files -> statistics table -> attractiveness map, all inside QGIS (no CLI)."""
    import geopandas as gpd
    from conftest import shared_path

    from qgis_plugin.core.model_table_payload import model_table_from_data_dir

    data = shared_path("ssb").parent
    res = run("model_table", {"DATA_DIR": str(data), "START_YEAR": 2020, "END_YEAR": 2020, "OUTPUT": "TEMPORARY_OUTPUT"})
    table = pd.DataFrame(layer_frame(res["OUTPUT"]).drop(columns="geometry")).set_index("kommune")
    assert len(table) == 356 and set(table["year"]) == {2020}
    # real published figure: Oslo had 693 494 inhabitants on 1 January 2020 (population file, SSB 07459)
    assert table.loc["0301", "population"] == 693494 and table.loc["0301", "name"] == "Oslo"
    assert table.loc["5037", "name"] == "Levanger"
    direct = model_table_from_data_dir(data, [2020]).table.set_index("kommune")
    for col in ("vra_t", "vra_t1", "vra_t2", "ds", "net_migration"):
        np.testing.assert_allclose(table.loc[direct.index, col], direct[col], rtol=1e-12, err_msg=col)
    # says what it rests on: the national schedules of the data folder (not illustrative ones)
    assert "national mortality" in table["rests_on"].iloc[0] and "ILLUSTRATIVE" not in table["rests_on"].iloc[0]
    polys = gpd.read_file(data / "kommuner_2020.geojson")
    polys = polys[polys["kommunenummer"].isin([5001, 5035, 5037])].assign(sentral=[891.0, 801.0, 755.0])
    out = layer_frame(run("attractiveness", {
        "KOMMUNER": to_layer(polys, "kommuner"), "KOMMUNE_FIELD": "kommunenummer", "CENTRALITY_FIELD": "sentral",
        "STATS": res["OUTPUT"], "STATS_KOMMUNE_FIELD": "kommune", "YEAR_FIELD": "year",
        "NET_MIGRATION_FIELD": "net_migration", "POPULATION_FIELD": "population", "VRA_T_FIELD": "vra_t",
        "VRA_T1_FIELD": "vra_t1", "VRA_T2_FIELD": "vra_t2", "DS_FIELD": "ds", "OUTPUT": "TEMPORARY_OUTPUT"})["OUTPUT"])
    out = out.set_index("kommune")
    assert sorted(out.index) == ["5001", "5035", "5037"] and out["attractiveness_pct"].notna().all()
    nm = table.loc["5037", "net_migration"] / table.loc["5037", "population"]
    assert out.loc["5037", "nm_actual"] == pytest.approx(nm, rel=1e-12)


def test_model_table_checks_the_folder_first(tmp_path):
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="no 'ssb' subfolder"):
        run("model_table", {"DATA_DIR": str(tmp_path), "OUTPUT": "TEMPORARY_OUTPUT"})


# ------------------------------------------------------------------------------ road scenario
def test_road_scenario_equals_core(layers, road_params, demo, network):
    from geoproc.scenario import CentralitySettings, ImpactOptions, parse_scenarios, run_scenarios

    roads = layers["roads"]
    motorway = demo.roads["link_id"].isin(demo.motorway_link_ids).to_numpy()
    fids = [f.id() for f, m in zip(roads.getFeatures(), motorway) if m]
    roads.selectByIds(fids)
    try:
        res = run("road_scenario", {**road_params, "USE_SELECTED": True, "NEW_SPEED": 130.0, "ZONES": layers["zones"],
                                    **ZONE_PARAMS, "GROUP_FIELD": "kommune", "START_YEAR": 2025, "END_YEAR": 2040,
                                    "OUTPUT": "TEMPORARY_OUTPUT", "LINKS": "TEMPORARY_OUTPUT",
                                    "GROUPS": "TEMPORARY_OUTPUT", "SUMMARY": "TEMPORARY_OUTPUT"})
    finally:
        roads.removeSelection()
    sc = parse_scenarios({"variants": [{"name": "e6", "edits": [
        {"action": "set_speed", "ids": [int(i) for i in demo.motorway_link_ids], "speed_kmh": 130.0}]}]})
    core = run_scenarios(sc, network, demo.zones, group_col="kommune", settings=CentralitySettings(),
                         impact=ImpactOptions(start_year=2025, end_year=2040)).variants[0]
    zones = layer_frame(res["OUTPUT"])
    cols = ["index_base", "index_scen", "delta_index", "delta_jobs_60min", "delta_migrants_per_year",
            "delta_population", "delta_population_low", "delta_population_high"]
    _compare(zones, core.zones, "zone_id", cols)
    assert zones["delta_index"].min() >= -1e-9 and zones["delta_index"].max() > 1.0  # faster road: nobody loses
    assert res["DELTA_MIGRANTS_PER_YEAR"] == pytest.approx(core.zones["delta_migrants_per_year"].sum(), rel=1e-9)
    assert res["DELTA_POPULATION"] == pytest.approx(core.zones["delta_population"].sum(), rel=1e-9)
    # 16 effect years (2025..2040) of constant migrants without compounding
    assert res["DELTA_POPULATION"] == pytest.approx(16 * res["DELTA_MIGRANTS_PER_YEAR"], rel=1e-9)
    links = layer_frame(res["LINKS"])
    assert sorted(links["link_id"]) == sorted(int(i) for i in demo.motorway_link_ids)
    np.testing.assert_allclose(links["time_fw_s_scen"], links.geometry.length / (130 / 3.6), rtol=1e-9)
    groups = layer_frame(res["GROUPS"])
    _compare(groups, core.groups, "kommune", ["delta_index", "delta_migrants_per_year"])
    summary = dict(zip(*[layer_frame(res["SUMMARY"])[c] for c in ("key", "value")]))
    assert float(summary["delta_migrants_per_year"]) == pytest.approx(res["DELTA_MIGRANTS_PER_YEAR"], rel=1e-5)


def test_road_scenario_expression_and_new_road(layers, road_params, demo, network):
    """Edits by expression equal edits by selection; a new road (drawn line) changes the index."""
    import geopandas as gpd
    import shapely

    base = {**road_params, "USE_SELECTED": False, "ZONES": layers["zones"], **ZONE_PARAMS, "OUTPUT": "TEMPORARY_OUTPUT"}
    by_expr = run("road_scenario", {**base, "EXPRESSION": "\"highway\" = 'motorway'", "TIME_FACTOR": 0.8})  # 110 -> 137.5 km/h
    assert by_expr["MAX_DELTA_INDEX"] > 0
    ends = []
    for town in demo.towns.head(2).itertuples():  # the network nodes nearest to two town centres
        ends.append(network.node_xy[np.argmin(np.hypot(*(network.node_xy - [town.x, town.y]).T))])
    line = gpd.GeoDataFrame({"name": ["bypass"]}, geometry=[shapely.LineString(ends)], crs=demo.crs)
    new = run("road_scenario", {**base, "NEW_ROADS": to_layer(line, "new road"), "NEW_SPEED": 120.0,
                                "LINKS": "TEMPORARY_OUTPUT"})
    assert new["MAX_DELTA_INDEX"] > 0
    links = layer_frame(new["LINKS"])
    assert list(links["action"]) == ["add_link"]


# ------------------------------------------------------------------------------ bad input
def test_bad_inputs_give_clear_processing_errors(layers, road_params):
    from qgis.core import QgsProcessingException

    zones = {"ZONES": layers["zones"], **ZONE_PARAMS, "OUTPUT": "TEMPORARY_OUTPUT"}
    with pytest.raises(QgsProcessingException, match="how to get travel times"):
        run("centrality", {"ROADS": layers["roads"], **zones})
    with pytest.raises(QgsProcessingException, match="Every time limit"):
        run("centrality", {**road_params, **zones, "CUTOFF": 20, "LIMITS": "30,45"})
    with pytest.raises(QgsProcessingException, match="comma-separated list of minutes"):
        run("centrality", {**road_params, **zones, "LIMITS": "thirty"})
    with pytest.raises(QgsProcessingException, match="decay cutoff .* exceeds the maximum travel time"):
        run("centrality", {**road_params, **zones, "CUTOFF": 30, "DECAY_CUTOFF": 60})
    # a core InputError (time field with NULLs) comes through as a QgsProcessingException with its text
    with pytest.raises(QgsProcessingException, match="maxspeed"):
        run("build_network", {"ROADS": layers["roads"], "TIME_FW_FIELD": "maxspeed", "LINKS": "TEMPORARY_OUTPUT"})
    with pytest.raises(QgsProcessingException, match="invalid|matches no road"):
        run("road_scenario", {**road_params, **zones, "USE_SELECTED": False, "EXPRESSION": "\"highway\" = 'nope'",
                              "NEW_SPEED": 100})
    with pytest.raises(QgsProcessingException, match="no roads to change"):
        run("road_scenario", {**road_params, **zones, "USE_SELECTED": False, "NEW_SPEED": 100})
    with pytest.raises(QgsProcessingException, match="exactly one of"):
        run("road_scenario", {**road_params, **zones, "EXPRESSION": "\"highway\" = 'motorway'", "NEW_SPEED": 100,
                              "TIME_FACTOR": 0.8})
    # a time factor that makes the 110 km/h motorway 220 km/h is refused before computing (issue 13)
    with pytest.raises(QgsProcessingException, match="imply car speeds outside the plausible 1–150 km/h"):
        run("road_scenario", {**road_params, **zones, "USE_SELECTED": False,
                              "EXPRESSION": "\"highway\" = 'motorway'", "TIME_FACTOR": 0.5})


def test_road_scenario_accepts_implausible_speeds_only_when_asked(layers, road_params):
    """The advanced ALLOW_IMPLAUSIBLE_SPEEDS parameter is the scenario file's
    ``allow_implausible_speeds = true``: off, halving the motorway times (110 -> 220 km/h) is a
    Processing error naming the parameter; on, the run goes through with the halved times."""
    from qgis.core import QgsApplication, QgsProcessingException, QgsProcessingParameterDefinition

    alg = QgsApplication.processingRegistry().algorithmById("regio:road_scenario")
    flag = alg.parameterDefinition("ALLOW_IMPLAUSIBLE_SPEEDS")
    assert flag.defaultValue() is False and flag.flags() & QgsProcessingParameterDefinition.FlagAdvanced
    assert "150 km/h" in flag.help()
    params = {**road_params, "ZONES": layers["zones"], **ZONE_PARAMS, "USE_SELECTED": False,
              "EXPRESSION": "\"highway\" = 'motorway'", "TIME_FACTOR": 0.5, "OUTPUT": "TEMPORARY_OUTPUT",
              "LINKS": "TEMPORARY_OUTPUT"}
    with pytest.raises(QgsProcessingException, match="outside the plausible 1–150 km/h.*Here: tick "
                                                     "“Accept speeds outside the plausible range”"):
        run("road_scenario", params)
    with pytest.raises(QgsProcessingException, match="Here: tick"):
        run("road_scenario", {**params, "ALLOW_IMPLAUSIBLE_SPEEDS": False})
    res = run("road_scenario", {**params, "ALLOW_IMPLAUSIBLE_SPEEDS": True})
    assert res["MAX_DELTA_INDEX"] > 0
    links = layer_frame(res["LINKS"])
    assert len(links) > 0 and set(links["action"]) == {"scale_time"}
    np.testing.assert_allclose(links["time_fw_s_scen"], 0.5 * links["time_fw_s_base"], rtol=1e-9)


def test_parameter_problems_come_in_one_message_before_any_work(layers, road_params):
    """checkParameterValues (what the dialog, processing.run and qgis_process call first) lists
    every problem once; nothing is read or computed."""
    from qgis.core import QgsApplication, QgsProcessingContext

    alg = QgsApplication.processingRegistry().createAlgorithmById("regio:road_scenario")
    params = {**road_params, "ZONES": layers["zones"], **ZONE_PARAMS, "POP_FIELD": "nope", "CUTOFF": 30,
              "DECAY_CUTOFF": 45, "NEW_SPEED": 100, "TIME_FACTOR": 0.5, "EXPRESSION": "\"ref\" = ",
              "OUTPUT": "TEMPORARY_OUTPUT"}
    ok, message = alg.checkParameterValues(params, QgsProcessingContext())
    assert not ok
    lines = message.splitlines()
    assert len(lines) == len(set(lines)) == 4, message
    assert "no field 'nope'" in lines[0] and "decay cutoff" in lines[1]
    assert "exactly one of" in lines[2] and "expression is invalid" in lines[3]


def test_decay_default_follows_the_cutoff(layers, road_params, network, demo):
    """A 30-minute run with the default decay just works: the decay's cutoff is 30 min, limits
    above 30 are left out, and the values equal the core's run with those settings."""
    from centrality.decay import ExponentialDecay
    from centrality.pipeline import run_centrality
    from centrality.settings import CentralitySettings

    res = run("centrality", {**road_params, "ZONES": layers["zones"], **ZONE_PARAMS, "CUTOFF": 30,
                             "OUTPUT": "TEMPORARY_OUTPUT"})
    out = layer_frame(res["OUTPUT"])
    assert "jobs_30min" in out.columns and "jobs_45min" not in out.columns
    settings = CentralitySettings(cutoff_min=30, limits_min=(30,))
    assert settings.decay_function.spec == "exp:45:0.1:30"
    core = run_centrality(network, demo.zones, settings)
    _compare(out, core.zones, "zone_id", ["jobs_30min", "access_decay", "index"])
    # an explicit decay cutoff and another decay type are honoured
    res = run("centrality", {**road_params, "ZONES": layers["zones"], **ZONE_PARAMS, "CUTOFF": 60, "LIMITS": "30",
                             "DECAY": 2, "DECAY_CUTOFF": 40, "OUTPUT": "TEMPORARY_OUTPUT"})
    step = layer_frame(res["OUTPUT"])
    core = run_centrality(network, demo.zones, cutoff_min=60, limits_min=(30,), decay="step:40")
    _compare(step, core.zones, "zone_id", ["access_decay", "index"])
    assert ExponentialDecay(45, 0.1, 30).spec == settings.decay_function.spec


def test_outputs_keep_input_attributes_and_integer_counts(layers, road_params):
    res = run("centrality", {**road_params, "ZONES": layers["areas"], **ZONE_PARAMS, "GROUP_FIELD": "kommune",
                             "GROUP_NAME_FIELD": "town", "OUTPUT": "TEMPORARY_OUTPUT", "GROUPS": "TEMPORARY_OUTPUT"})
    fields = res["OUTPUT"].fields()
    assert fields.indexFromName("name") >= 0  # the zone name of the input is kept
    assert fields.field("population").type() in (2, 4)  # Int / LongLong, not a double
    assert fields.field("jobs").type() in (2, 4)
    groups = layer_frame(res["GROUPS"]).set_index("kommune")
    assert groups.loc["9901", "name"] == "Storby" and groups.loc["9906", "name"] == "Kystvik"
    assert res["GROUPS"].fields().field("population").type() in (2, 4)


def test_styles_are_stored_in_the_geopackage(layers, road_params, tmp_path):
    """File outputs carry their style (layer_styles, default style): reopened in a fresh project the
    index layer has the SSB classes, thin outlines and labels; the Δ layer a diverging style."""
    import sqlite3

    from qgis.core import QgsGraduatedSymbolRenderer, QgsProject, QgsVectorLayer

    from centrality.index import CLASS_THRESHOLDS

    out, groups = tmp_path / "zones.gpkg", tmp_path / "kommuner.gpkg"
    run("centrality", {**road_params, "ZONES": layers["areas"], **ZONE_PARAMS, "GROUP_FIELD": "kommune",
                       "GROUP_NAME_FIELD": "town", "OUTPUT": str(out), "GROUPS": str(groups)})
    with sqlite3.connect(out) as con:
        (n, default), = con.execute("select count(*), max(useAsDefault) from layer_styles").fetchall()
        assert n == 1 and default == 1
        assert con.execute("pragma user_version").fetchone()[0] == 10200  # GeoPackage 1.2: no 1.4 warning in 3.22
    project = QgsProject()
    layer = QgsVectorLayer(str(out), "reopened", "ogr")
    project.addMapLayer(layer)
    r = layer.renderer()
    assert isinstance(r, QgsGraduatedSymbolRenderer) and r.classAttribute() == "index"
    ranges = r.ranges()
    assert [x.upperValue() for x in ranges[:-1]] == [t - 0.5 for t in CLASS_THRESHOLDS]
    assert [x.label().split(":")[0] for x in ranges] == ["6 least central", "5 somewhat peripheral", "4 less central",
                                                         "3 somewhat central", "2 central", "1 most central"]
    assert ranges[-1].label().endswith("925–1000") and ranges[0].label().endswith("0–564")
    assert all(x.symbol().symbolLayer(0).strokeWidth() <= 0.15 for x in ranges)  # thin outlines (mm)
    assert layer.customProperty("regio/legend_title") == "Centrality index (0–1000)"
    assert layer.attributeAlias(layer.fields().indexFromName("index")) == "Centrality index (0–1000)"
    setup = layer.editorWidgetSetup(layer.fields().indexFromName("access_decay"))
    assert setup.type() == "Range" and setup.config()["Precision"] == 0
    kommuner = QgsVectorLayer(str(groups), "kommuner", "ogr")
    assert kommuner.labelsEnabled() and kommuner.labeling().settings().fieldName == "name"
    assert isinstance(kommuner.renderer(), QgsGraduatedSymbolRenderer)


def test_classification_choice_quantiles_and_natural_breaks(layers, road_params, tmp_path):
    from qgis.core import QgsVectorLayer

    for choice, method in ((1, "Quantile"), (2, "Jenks")):
        path = tmp_path / f"zones_{choice}.gpkg"
        run("centrality", {**road_params, "ZONES": layers["zones"], **ZONE_PARAMS, "CLASSIFICATION": choice,
                           "OUTPUT": str(path)})
        layer = QgsVectorLayer(str(path), "x", "ogr")  # keep the layer: it owns the renderer
        r = layer.renderer()
        assert len(r.ranges()) == 5 and r.classificationMethod().id() == method


def test_missing_field_is_reported_before_running(layers, road_params):
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="nope"):
        run("centrality", {**road_params, "ZONES": layers["zones"], "ZONE_ID_FIELD": "nope", "POP_FIELD": "population",
                           "JOBS_FIELD": "jobs", "OUTPUT": "TEMPORARY_OUTPUT"})


def test_layer_without_crs_is_a_clear_error(demo, road_params):
    from qgis.core import QgsCoordinateReferenceSystem, QgsProcessingException

    roads = to_layer(demo.roads, "roads without crs")
    roads.setCrs(QgsCoordinateReferenceSystem())
    with pytest.raises(QgsProcessingException, match="no coordinate reference system"):
        run("build_network", {**road_params, "ROADS": roads, "LINKS": "TEMPORARY_OUTPUT"})


def test_outputs_to_geopackage_files(layers, road_params, tmp_path, network, demo):
    """File destinations work too (written by QGIS); values read back with geopandas."""
    import geopandas as gpd

    from centrality.pipeline import run_centrality

    out = tmp_path / "zones.gpkg"
    res = run("centrality", {**road_params, "ZONES": layers["zones"], **ZONE_PARAMS, "OUTPUT": str(out)})
    assert res["OUTPUT"] == str(out)
    back = gpd.read_file(out, layer="zones")  # the file also holds the layer_styles table
    _compare(back, run_centrality(network, demo.zones).zones, "zone_id", ["index", "jobs_45min"])
    assert back.crs.to_epsg() == 25833


def test_algorithms_run_in_background_threads_like_the_dialog(layers, road_params, network, demo):
    """The Processing dialog runs algorithms as QgsProcessingAlgRunnerTask on QThreadPool threads:
    three runs in a row give the core's values (a pyproj context bug used to crash the second)."""
    import time

    from qgis.core import (QgsApplication, QgsProcessingAlgRunnerTask, QgsProcessingContext,
                           QgsProcessingFeedback, QgsProcessingUtils)
    from qgis.PyQt.QtCore import QCoreApplication

    from centrality.pipeline import run_centrality

    core = run_centrality(network, demo.zones).zones
    params = {**road_params, "ZONES": layers["zones"], **ZONE_PARAMS, "OUTPUT": "TEMPORARY_OUTPUT"}
    for _ in range(3):
        alg = QgsApplication.processingRegistry().createAlgorithmById("regio:centrality")
        context, feedback = QgsProcessingContext(), QgsProcessingFeedback()
        task = QgsProcessingAlgRunnerTask(alg, params, context, feedback)
        done = []
        task.executed.connect(lambda ok, res: done.append((ok, res)))
        QgsApplication.taskManager().addTask(task)
        deadline = time.monotonic() + 120
        while not done and time.monotonic() < deadline:
            QCoreApplication.processEvents()
            time.sleep(0.01)
        ok, res = done[0]
        assert ok
        out = layer_frame(QgsProcessingUtils.mapLayerFromString(res["OUTPUT"], context))
        _compare(out, core, "zone_id", ["index", "jobs_60min"])


def test_pinned_pyproj_context_survives_qgis_task_threads(tmp_path):
    """Regression for the pyproj/QThreadPool crash, in a subprocess (a crash must not kill pytest)."""
    import subprocess
    import sys

    from qgis_fixtures import REPO

    script = tmp_path / "tasks.py"
    script.write_text(f"""
import sys, time
sys.path[:0] = [{str(REPO)!r}, {str(REPO / 'tests')!r}]
from qgis_fixtures import start_qgis
app = start_qgis()
import pyproj
from qgis.core import QgsApplication, QgsTask
from qgis.PyQt.QtCore import QCoreApplication
from qgis_plugin.common.threads import pin_pyproj_context

class Task(QgsTask):
    def run(self):
        if sys.argv[1] == "pin":
            pin_pyproj_context()
        return all(not pyproj.CRS("EPSG:25833").is_geographic for _ in range(50))

for i in range(30):
    task, done = Task("t", QgsTask.CanCancel), []
    task.taskCompleted.connect(lambda: done.append(1))
    task.taskTerminated.connect(lambda: done.append(0))
    QgsApplication.taskManager().addTask(task)
    while not done:
        QCoreApplication.processEvents()
        time.sleep(0.002)
    assert done == [1]
print("ok")
""")
    run = subprocess.run([sys.executable, str(script), "pin"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and run.stdout.strip().endswith("ok"), run.stderr[-2000:]
