"""The plugin inside real QGIS: load/unload, styling, PNG export, the scenario dock, the zip build."""
from __future__ import annotations

import subprocess
import sys
import zipfile

import numpy as np
import pytest

from qgis_fixtures import REPO, IfaceStub, qgis_app, regio_provider, demo, to_layer  # noqa: F401

pytestmark = pytest.mark.qgis


@pytest.fixture(autouse=True)
def _qgis(qgis_app):
    """Every test here runs inside a started QgsApplication."""
    return qgis_app


# ------------------------------------------------------------------------------ load / unload
def test_plugin_loads_and_unloads_cleanly(qgis_app):
    from qgis.core import QgsApplication

    import qgis_plugin

    registry = QgsApplication.processingRegistry()
    if registry.providerById("regio") is not None:  # registered by the regio_provider fixture: start clean
        registry.removeProvider(registry.providerById("regio"))
    iface = IfaceStub()
    plugin = qgis_plugin.classFactory(iface)
    plugin.initGui()
    try:
        provider = registry.providerById("regio")
        assert provider is not None
        assert {a.name() for a in provider.algorithms()} == {
            "build_network", "centrality", "od_matrix", "attractiveness", "road_scenario", "business_attractiveness"}
        assert iface.menu == {"&Regio": [plugin.action, plugin.export_action]} and iface.toolbar == [plugin.action]
        plugin.action.setChecked(True)  # opens the dock
        assert len(iface.docks) == 1 and plugin.dock is not None
        assert iface.mainWindow().findChild(type(plugin.dock), "RegioScenarioDock") is plugin.dock
    finally:
        plugin.unload()
    assert registry.providerById("regio") is None
    assert iface.menu == {} and iface.toolbar == [] and iface.docks == []
    assert plugin.dock is None and plugin.provider is None


def test_export_action_writes_png_of_active_layer(qgis_app, tmp_path):
    import qgis_plugin
    from qgis_plugin.core.styling import apply_graduated_style

    iface = IfaceStub()
    plugin = qgis_plugin.classFactory(iface)
    layer = _values_layer(np.linspace(-3, 3, 30))
    iface.active_layer = layer
    assert plugin.export_active_layer(str(tmp_path / "x.png")) is None  # not styled yet: a message, no file
    assert not (tmp_path / "x.png").exists()
    apply_graduated_style(layer, "v", kind="diverging")
    written = plugin.export_active_layer(str(tmp_path / "x.png"))
    assert written == tmp_path / "x.png" and written.stat().st_size > 10_000


def test_missing_dependency_message_names_the_pip_command():
    from qgis_plugin.common import deps

    ok, message = deps.check({"numpy": "numpy<2", "regio_surely_missing_pkg": "regio-missing-pkg"})
    assert not ok
    assert "regio-missing-pkg" in message and "pip install" in message and "numpy" not in message.split("pip install")[1]
    assert deps.check() == (True, "")


# ------------------------------------------------------------------------------ styling
def _values_layer(values, name="values"):
    import geopandas as gpd
    import shapely

    polys = [shapely.box(i % 10 * 1000, i // 10 * 1000, i % 10 * 1000 + 1000, i // 10 * 1000 + 1000)
             for i in range(len(values))]
    gdf = gpd.GeoDataFrame({"name": [f"zone {i}" for i in range(len(values))], "v": values}, geometry=polys,
                           crs="EPSG:25833")
    return to_layer(gdf, name)


def test_sequential_style_five_quantile_classes_light_to_dark(qgis_app):
    from qgis.core import QgsGraduatedSymbolRenderer

    from qgis_plugin.core.styling import apply_graduated_style

    values = np.arange(1.0, 101.0)
    layer = _values_layer(values)
    apply_graduated_style(layer, "v", mode="quantile", classes=5, kind="sequential", unit="index")
    r = layer.renderer()
    assert isinstance(r, QgsGraduatedSymbolRenderer) and r.classAttribute() == "v"
    ranges = r.ranges()
    assert len(ranges) == 5
    assert ranges[0].lowerValue() == 1.0 and ranges[-1].upperValue() == 100.0
    np.testing.assert_allclose([x.upperValue() for x in ranges[:-1]], [20.8, 40.6, 60.4, 80.2], atol=0.21)
    lightness = [x.symbol().color().lightnessF() for x in ranges]
    assert all(a > b for a, b in zip(lightness, lightness[1:]))  # monotonically darker
    assert ranges[0].label() == "1.0 – 21" and layer.customProperty("regio/legend_title") == "v (index)"
    assert layer.title() == "v (index)"


def test_diverging_style_symmetric_with_neutral_zero_class(qgis_app):
    from qgis_plugin.core.styling import DIVERGING_NEUTRAL, apply_graduated_style

    values = np.r_[np.linspace(-2.0, -0.1, 30), np.linspace(0.05, 8.0, 70)]
    layer = _values_layer(values)
    r = apply_graduated_style(layer, "v", kind="diverging", unit="persons/year", mode="jenks")
    ranges = r.ranges()
    assert len(ranges) == 5
    bounds = [ranges[0].lowerValue()] + [x.upperValue() for x in ranges]
    np.testing.assert_allclose(bounds, [-b for b in reversed(bounds)])  # symmetric around 0
    assert bounds[0] == -8.0 and bounds[-1] == 8.0
    middle = ranges[2]
    assert middle.lowerValue() < 0 < middle.upperValue()
    assert middle.symbol().color().name() == DIVERGING_NEUTRAL
    red, blue = ranges[0].symbol().color(), ranges[-1].symbol().color()
    assert red.red() > red.blue() and blue.blue() > blue.red()
    # every feature falls in a class
    assert all(r.rangeForValue(float(v)) is not None for v in values)


def test_styles_of_degenerate_values(qgis_app):
    """No change anywhere (all Δ = 0) and fewer distinct values than classes still give 5 classes."""
    from qgis_plugin.core.styling import DIVERGING_NEUTRAL, apply_graduated_style

    zeros, three = _values_layer(np.zeros(12)), _values_layer(np.array([1.0, 2.0, 3.0] * 4))
    zero = apply_graduated_style(zeros, "v", kind="diverging").ranges()
    assert len(zero) == 5 and zero[2].lowerValue() < 0 < zero[2].upperValue()
    assert zero[2].symbol().color().name() == DIVERGING_NEUTRAL
    few = apply_graduated_style(three, "v").ranges()
    assert len(few) == 5 and few[0].lowerValue() == 1.0 and few[-1].upperValue() == 3.0
    with pytest.raises(ValueError, match="no field 'w'"):
        apply_graduated_style(zeros, "w")


def test_post_processor_styles_output_on_load(qgis_app):
    from qgis.core import QgsGraduatedSymbolRenderer, QgsProcessingContext, QgsProcessingFeedback

    from qgis_plugin.core.styling import StylePostProcessor

    layer = _values_layer(np.linspace(-5, 5, 21))
    StylePostProcessor.create("v", "diverging", "index points").postProcessLayer(
        layer, QgsProcessingContext(), QgsProcessingFeedback())
    assert isinstance(layer.renderer(), QgsGraduatedSymbolRenderer)
    assert layer.renderer().ranges()[0].lowerValue() == -5.0


def test_export_map_png_is_not_blank(qgis_app, artifacts_dir, demo):
    from qgis.PyQt.QtGui import QImage

    from centrality.builders.lines import network_from_lines
    from centrality.pipeline import run_centrality
    from qgis_plugin.core.styling import apply_graduated_style, export_map_png

    areas = demo.zone_areas.merge(demo.zones[["zone_id", "population", "jobs"]], on="zone_id")
    result = run_centrality(network_from_lines(demo.roads, **demo.network_options), areas)
    layer = to_layer(result.zones, "zone areas")
    apply_graduated_style(layer, "index", unit="index 0–1000")
    path = export_map_png(layer, artifacts_dir / "qgis_index_map.png", "Centrality index (synthetic demo region)")
    image = QImage(str(path))
    assert image.width() == 1600 and image.height() == 1000
    colours = {image.pixel(x, y) for x in range(0, 980, 7) for y in range(70, 1000, 7)}
    assert len(colours) >= 5  # the five class colours at least (map area only)
    non_white = sum(image.pixelColor(x, y).lightness() < 250 for x in range(0, 980, 10) for y in range(70, 1000, 10))
    assert non_white > 0.2 * (98 * 93)


# ------------------------------------------------------------------------------ scenario dock
@pytest.fixture()
def dock_setup(qgis_app, demo):
    from qgis.core import QgsProject

    from qgis_plugin.gui.scenario_dock import ScenarioDock

    roads = to_layer(demo.roads, "dock roads")
    areas = demo.zone_areas.merge(demo.zones[["zone_id", "population", "jobs"]], on="zone_id")
    zones = to_layer(areas, "dock zone polygons")
    QgsProject.instance().addMapLayers([roads, zones])
    iface = IfaceStub()
    dock = ScenarioDock(iface)
    dock.roads_combo.setLayer(roads)
    dock.zones_combo.setLayer(zones)
    opts = demo.network_options
    dock.class_field.setField(opts["class_field"])
    dock.time_field.setField(opts["time_fw_field"])
    dock.direction_field.setField(opts["direction_field"])
    dock.id_field.setField("zone_id")
    dock.pop_field.setField("population")
    dock.jobs_field.setField("jobs")
    dock.group_field.setField("kommune")
    motorway = demo.roads["link_id"].isin(demo.motorway_link_ids).to_numpy()
    roads.selectByIds([f.id() for f, m in zip(roads.getFeatures(), motorway) if m])
    yield dock, roads, zones
    dock.shutdown()
    QgsProject.instance().removeAllMapLayers()


def _recorder(dock) -> list:
    """List that collects the dock's run_finished(ok) emissions (connect BEFORE starting: a task
    cancelled before it started ends synchronously)."""
    finished: list = []
    dock.run_finished.connect(finished.append)
    return finished


def _wait(finished: list, task, timeout_s: float = 120.0):
    """Spin the Qt event loop (the UI stays responsive) until the dock reports the task's end."""
    import time

    from qgis.PyQt.QtCore import QCoreApplication

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        QCoreApplication.processEvents()
        if finished:
            return finished[0]
        time.sleep(0.01)
    raise AssertionError(f"task did not finish within {timeout_s} s (status {task.status()})")


def test_scenario_dock_runs_in_background_and_adds_styled_layers(dock_setup, demo, artifacts_dir):
    from qgis.core import QgsGraduatedSymbolRenderer, QgsProject

    from qgis_plugin.core.scenario_payload import run_scenario_task_payload
    from qgis_plugin.core.styling import export_map_png

    dock, roads, zones = dock_setup
    assert dock.selection_label.text().startswith(f"{roads.selectedFeatureCount()} selected")
    dock.value.setValue(130.0)  # the demo motorway is signed 110 km/h
    kwargs = dock.payload_kwargs()
    assert kwargs["edit"].speed_kmh == 130.0 and len(kwargs["edit"].fids) == len(demo.motorway_link_ids)
    finished = _recorder(dock)
    task = dock.start_run()
    assert task is not None and not dock.run_button.isEnabled()
    assert _wait(finished, task) is True
    result = dock.last_result
    direct = run_scenario_task_payload(**kwargs)  # the same pure function, called without the GUI
    np.testing.assert_allclose(result.zones["delta_index"], direct.zones["delta_index"], rtol=1e-12)
    assert result.summary["delta_migrants_per_year"] == pytest.approx(direct.summary["delta_migrants_per_year"])
    assert result.summary["delta_migrants_per_year"] > 0
    text = dock.summary.toPlainText()
    assert "persons/year" in text and "Δ population by 2040" in text
    assert f"{result.summary['delta_migrants_per_year']:+.1f}" in text
    best = result.groups.sort_values("delta_migrants_per_year").iloc[-1]  # kommune table, best first
    assert f"{best['delta_migrants_per_year']:+.2f}" in text.split("Δ migr./yr")[1].splitlines()[1]
    names = {lay.name(): lay for lay in QgsProject.instance().mapLayers().values()}
    delta = names["Scenario Δ index (zones)"]
    assert isinstance(delta.renderer(), QgsGraduatedSymbolRenderer) and delta.renderer().classAttribute() == "delta_index"
    assert "Scenario changed links" in names and names["Scenario changed links"].featureCount() == len(demo.motorway_link_ids)
    assert dock.run_button.isEnabled() and not dock.cancel_button.isEnabled()
    # pictures for a person to look at: the dock after the run and the Δ index map
    dock.resize(460, 1100)
    assert dock.grab().save(str(artifacts_dir / "qgis_scenario_dock.png"))
    png = export_map_png(delta, artifacts_dir / "qgis_scenario_delta_index.png",
                         "Δ centrality index: E6 signed 130 km/h (synthetic demo region)", label_field="zone_id")
    assert png.stat().st_size > 10_000


def test_scenario_dock_cancel_adds_nothing(dock_setup):
    from qgis.core import QgsProject

    dock, roads, zones = dock_setup
    n_layers = len(QgsProject.instance().mapLayers())
    finished = _recorder(dock)
    task = dock.start_run()
    dock.cancel_run()
    assert _wait(finished, task) is False
    assert "Cancelled" in dock.summary.toPlainText()
    assert len(QgsProject.instance().mapLayers()) == n_layers
    assert dock.last_result is None


def test_scenario_dock_drawn_road(dock_setup, demo):
    from qgis.core import QgsPointXY

    dock, roads, zones = dock_setup
    roads.removeSelection()
    dock.iface.mapCanvas().setDestinationCrs(roads.crs())
    from centrality.builders.lines import network_from_lines

    xy = network_from_lines(demo.roads, **demo.network_options).node_xy
    for town in demo.towns.head(2).itertuples():
        p = xy[np.argmin(np.hypot(*(xy - [town.x, town.y]).T))]
        dock.tool.add_vertex(QgsPointXY(*p))
    dock.tool.finish()
    assert len(dock.new_roads) == 1 and "1 new road" in dock.selection_label.text()
    frame = dock.payload_kwargs()["edit"].new_roads
    assert len(frame) == 1 and frame.geometry.iloc[0].length > 1000
    dock.clear_new_roads()
    assert dock.new_roads == []


def test_scenario_dock_reports_missing_fields(dock_setup):
    dock, roads, zones = dock_setup
    dock.class_field.setField("")
    dock.time_field.setField("")
    assert dock.start_run() is None
    assert "speed, road class or travel time field" in dock.summary.toPlainText()


# ------------------------------------------------------------------------------ zip build
def test_build_plugin_zip(tmp_path):
    import configparser

    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import build_plugin
    finally:
        sys.path.remove(str(REPO / "scripts"))
    path = build_plugin.build(tmp_path)
    assert path.name == "regio_qgis-0.1.0.zip" and path.is_file()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary leftovers
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        meta = zf.read("regio_qgis/metadata.txt").decode("utf-8")
        zf.extractall(tmp_path / "plugins")
    for required in ("regio_qgis/__init__.py", "regio_qgis/plugin.py", "regio_qgis/icons/icon.svg",
                     "regio_qgis/proc/provider.py", "regio_qgis/ext_libs/centrality/pipeline.py",
                     "regio_qgis/ext_libs/geoproc/scenario/__init__.py"):
        assert required in names, required
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(meta)
    general = parser["general"]
    for key in ("name", "qgisMinimumVersion", "qgisMaximumVersion", "description", "version", "author", "email",
                "about", "tracker", "repository", "homepage", "category", "icon", "tags", "experimental",
                "hasProcessingProvider", "changelog"):
        assert general.get(key), key
    assert general["qgisMinimumVersion"] == "3.22" and general["hasProcessingProvider"] == "yes"
    assert f"regio_qgis/{general['icon']}" in names
    # the unpacked plugin imports the vendored centrality/geoproc, not the development copies
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import regio_qgis, centrality, geoproc; "
            "from regio_qgis.proc.provider import algorithm_classes; import geoproc.scenario; "
            "print(centrality.__file__); print(geoproc.scenario.__file__); print(len(algorithm_classes()))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "plugins")], capture_output=True, text=True,
                         check=True, cwd=tmp_path).stdout.split()
    assert all(p.startswith(str(tmp_path / "plugins" / "regio_qgis" / "ext_libs")) for p in out[:2]), out
    assert out[2] == "6"


# ------------------------------------------------------------------------------ conversion
def test_layer_frame_round_trip_keeps_types_and_nulls(qgis_app):
    import datetime as dt

    import geopandas as gpd
    import pandas as pd
    import shapely
    from qgis.core import NULL, QgsFeature, QgsField, QgsGeometry, QgsPointXY, QgsVectorLayer
    from qgis.PyQt.QtCore import QDate, QVariant

    from qgis_plugin.common.convert import FID_COLUMN, frame_to_memory_layer, layer_to_gdf

    layer = QgsVectorLayer("Point?crs=EPSG:25833", "mixed", "memory")
    layer.dataProvider().addAttributes([QgsField("kommune", QVariant.String), QgsField("n", QVariant.LongLong),
                                        QgsField("x", QVariant.Double), QgsField("d", QVariant.Date)])
    layer.updateFields()
    feats = []
    for vals, xy in ((["0301", 5, 1.5, QDate(2020, 1, 1)], (1.0, 2.0)), ([NULL, NULL, NULL, NULL], (3.0, 4.0))):
        f = QgsFeature(layer.fields())
        f.setAttributes(vals)
        f.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(*xy)))
        feats.append(f)
    layer.dataProvider().addFeatures(feats)
    gdf = layer_to_gdf(layer)
    assert gdf.crs.to_epsg() == 25833 and list(gdf[FID_COLUMN]) == [f.id() for f in layer.getFeatures()]
    assert gdf.loc[0, "kommune"] == "0301" and gdf.loc[0, "n"] == 5 and gdf.loc[0, "d"] == dt.date(2020, 1, 1)
    assert gdf.loc[1, ["kommune", "n", "d"]].isna().all() and pd.isna(gdf.loc[1, "x"])
    assert gdf.geometry.iloc[1].equals(shapely.Point(3, 4))
    back = frame_to_memory_layer(gpd.GeoDataFrame(gdf.drop(columns="d")), "back")
    assert [f.name() for f in back.fields()] == ["kommune", "n", "x"]  # the fid helper column is not written
    rows = [f.attributes() for f in back.getFeatures()]
    assert rows[0] == ["0301", 5, 1.5] and all(v == NULL for v in rows[1])
    assert back.crs().authid() == "EPSG:25833" and back.featureCount() == 2
