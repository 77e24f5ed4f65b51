"""The plugin inside real QGIS: load/unload, styling, PNG export, the scenario dock, the zip build."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

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
            "build_network", "centrality", "od_matrix", "model_table", "attractiveness", "road_scenario",
            "business_attractiveness"}
        assert iface.menu == {"&Regio": [plugin.action, plugin.export_action, plugin.deps_action]}
        assert iface.toolbar == [plugin.action]
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


def test_missing_dependency_message_names_the_install_command():
    """The message names what is missing or too old and the command for QGIS's own interpreter
    (not whatever python3 is first on PATH, e.g. a pyenv shim) into the private folder."""
    import sysconfig

    from qgis_plugin.common import deps

    ok, message = deps.check({"numpy": ("numpy", "1.24", "2"), "regio_surely_missing_pkg": ("regio-missing", "1", None),
                              "shapely": ("shapely", "99.0", None)})
    assert not ok
    assert "regio-missing is not installed" in message and "numpy" not in message.split("Install")[0]
    assert "the plugin needs >= 99.0" in message
    python = deps.qgis_python()
    assert python == Path(sys.base_exec_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert python.is_file() and ".pyenv" not in str(python) and "/.venv/" not in str(python)
    assert sysconfig.get_paths()["include"]  # the same interpreter the venv was made from
    command = deps.install_command()
    assert command.startswith(f"{python} ") and "install_deps.py" in command and "--dest" in command
    assert "--user" not in command and "--break-system-packages" not in command
    assert str(deps.deps_dir()) in command and deps.deps_dir().name == "regio-deps"
    assert deps.check() == (True, "")


def test_install_deps_prerequisites_and_folder_rules(tmp_path, monkeypatch):
    from qgis_plugin import install_deps

    profile_plugin = tmp_path / "profiles" / "default" / "python" / "plugins" / "regio_qgis"
    profile_plugin.mkdir(parents=True)
    monkeypatch.delenv(install_deps.ENV_DEPS, raising=False)
    assert install_deps.default_dest(profile_plugin) == tmp_path / "profiles" / "default" / "python" / "regio-deps"
    with pytest.raises(install_deps.Missing, match="--dest"):
        install_deps.default_dest(tmp_path / "checkout" / "qgis_plugin")
    monkeypatch.setenv(install_deps.ENV_DEPS, str(tmp_path / "shared-deps"))
    assert install_deps.default_dest(profile_plugin) == tmp_path / "shared-deps"
    # a venv's site dir vs a --target folder
    (tmp_path / "venv").mkdir()
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    assert install_deps.site_dir(tmp_path / "venv").name == "site-packages"
    assert install_deps.site_dir(tmp_path / "target") == tmp_path / "target"
    # bundled copies of QGIS's libraries are recognised (what made qgis_process crash)
    libs = tmp_path / "site" / "pyproj.libs"
    libs.mkdir(parents=True)
    (libs / "libproj-1eb8c554.so.25.9.5.1").write_bytes(b"")
    (libs / "libcurl-8b9c369e.so.4.8.0").write_bytes(b"")
    assert [p.name for p in install_deps.bundled_native_copies(tmp_path / "site")] == ["libproj-1eb8c554.so.25.9.5.1"]
    # the real prerequisites of this machine (Debian 12: python3-numpy, python3-pyproj, libgeos-dev, …)
    res = subprocess.run(["/usr/bin/python3", str(REPO / "qgis_plugin" / "install_deps.py"), "--check",
                          "--dest", str(tmp_path / "d")], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "keeping {'numpy':" in res.stdout and "'pyproj':" in res.stdout


def test_native_library_clash_detection():
    from qgis_plugin.common import deps

    maps = "\n".join([
        "7f0 r-xp 0 08:01 1 /usr/lib/x86_64-linux-gnu/libproj.so.25.9.1.1",
        "7f1 r-xp 0 08:01 2 /x/site-packages/pyproj.libs/libproj-1eb8c554.so.25.9.5.1",
        "7f2 r-xp 0 08:01 3 /usr/lib/x86_64-linux-gnu/libgeos_c.so.1.17.1",
        "7f3 r-xp 0 08:01 4 /usr/lib/x86_64-linux-gnu/libgeos.so.3.11.1",
        "7f4 r-xp 0 08:01 5 /usr/lib/x86_64-linux-gnu/libgdal.so.32.3.6.2",
        "7f5 r-xp 0 08:01 6 /x/site-packages/osmium.libs/liblz4-c23f16fe.so.1.8.3",
    ])
    clashes = deps.native_library_clashes(maps)
    assert list(clashes) == ["libproj"] and len(clashes["libproj"]) == 2
    text = deps.clash_message(clashes)
    assert "PROJ" in text and "install_deps.py" in text
    assert deps.clash_message({}) == ""
    assert deps.in_qgis_executable() is False  # pytest runs in python, not in qgis/qgis_process


# ------------------------------------------------------------------------------ styling
def _values_layer(values, name="values"):
    import geopandas as gpd
    import shapely

    polys = [shapely.box(i % 10 * 1000, i // 10 * 1000, i % 10 * 1000 + 1000, i // 10 * 1000 + 1000)
             for i in range(len(values))]
    gdf = gpd.GeoDataFrame({"name": [f"zone {i}" for i in range(len(values))], "v": values}, geometry=polys,
                           crs="EPSG:25833")
    return to_layer(gdf, name)


def test_ssb_classes_are_the_index_thresholds(qgis_app):
    from qgis_plugin.core.styling import SEQUENTIAL_COLOURS, apply_style, style_for

    layer = _values_layer(np.array([301.0, 564.4, 564.6, 700.0, 869.0, 924.4, 924.6, 1000.0]))
    r = apply_style(layer, style_for("index", field="v"))
    bounds = [(x.lowerValue(), x.upperValue()) for x in r.ranges()]
    assert bounds == [(0.0, 564.5), (564.5, 669.5), (669.5, 774.5), (774.5, 869.5), (869.5, 924.5), (924.5, 1000.0)]
    assert [r.rangeForValue(v).label()[0] for v in (301.0, 564.4, 564.6, 924.4, 924.6)] == ["6", "6", "5", "2", "1"]
    assert [x.symbol().color().name() for x in r.ranges()] == list(SEQUENTIAL_COLOURS)  # light -> dark
    assert layer.title() == "Centrality index (0–1000)" and layer.labelsEnabled()


def test_sequential_style_quantile_classes_light_to_dark(qgis_app):
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
    assert ranges[0].label() == "1 – 21" and layer.customProperty("regio/legend_title") == "v (index)"
    assert ranges[0].symbol().symbolLayer(0).strokeWidth() == pytest.approx(0.1)  # thin outline, mm


def test_diverging_style_centred_on_zero_with_classes_only_where_values_occur(qgis_app):
    from qgis_plugin.core.styling import DIVERGING_NEUTRAL, apply_style, style_for

    both = np.r_[np.linspace(-2.0, -0.1, 30), np.linspace(0.05, 8.0, 70)]
    layer = _values_layer(both)  # keep the layer: it owns the renderer
    r = apply_style(layer, style_for("delta_index", field="v", mode="jenks"))
    ranges = r.ranges()
    assert len(ranges) == 6 and ranges[0].lowerValue() == -2.0 and ranges[-1].upperValue() == 8.0
    neg, pos = ranges[:3], ranges[3:]
    assert all(x.upperValue() <= 0 for x in neg) and all(x.lowerValue() >= 0 for x in pos)
    assert all(x.symbol().color().red() > x.symbol().color().blue() for x in neg)
    assert all(x.symbol().color().blue() > x.symbol().color().red() for x in pos)
    # the same step out from 0 has the same shade on both sides (centred palette)
    for k in range(3):
        assert neg[2 - k].symbol().color().lightness() == pytest.approx(pos[k].symbol().color().lightness(), abs=12)
    assert all(r.rangeForValue(float(v)) is not None for v in both)
    # a faster road: nobody loses -> no negative classes at all, a neutral class for the zeros
    gains = np.r_[np.zeros(40), np.linspace(0.2, 12.0, 60)]
    gain_layer = _values_layer(gains)
    ranges = apply_style(gain_layer, style_for("delta_index", field="v")).ranges()
    assert ranges[0].label() == "0 (no change)" and ranges[0].symbol().color().name() == DIVERGING_NEUTRAL
    assert all(x.lowerValue() >= -1e-6 for x in ranges) and ranges[-1].upperValue() == 12.0
    assert ranges[1].label().startswith("0 – +") and len(ranges) == 6


def test_styles_of_degenerate_values(qgis_app):
    """No change anywhere (all Δ = 0) gives one neutral class; few distinct values give that many classes."""
    from qgis_plugin.core.styling import DIVERGING_NEUTRAL, apply_graduated_style

    zeros, three = _values_layer(np.zeros(12)), _values_layer(np.array([1.0, 2.0, 3.0] * 4))
    zero = apply_graduated_style(zeros, "v", kind="diverging").ranges()
    assert len(zero) == 1 and zero[0].symbol().color().name() == DIVERGING_NEUTRAL
    few = apply_graduated_style(three, "v").ranges()
    assert len(few) == 3 and few[0].lowerValue() == 1.0 and few[-1].upperValue() == 3.0
    with pytest.raises(ValueError, match="no field 'w'"):
        apply_graduated_style(zeros, "w")


def test_field_formats_round_for_display_only(qgis_app):
    import geopandas as gpd
    import shapely

    from qgis_plugin.core.styling import apply_field_formats

    gdf = gpd.GeoDataFrame({"jobs_30min": [57861.2703, 1.5], "index": [912.34567, 1.0], "odd": [0.012345, 0.5]},
                           geometry=[shapely.Point(0, 0), shapely.Point(1, 1)], crs="EPSG:25833")
    layer = to_layer(gdf, "formats")
    apply_field_formats(layer)
    precision = {f.name(): layer.editorWidgetSetup(i).config().get("Precision") for i, f in enumerate(layer.fields())}
    assert precision == {"jobs_30min": 0, "index": 1, "odd": 3}
    assert layer.attributeAlias(0) == "Jobs within 30 min"
    assert next(layer.getFeatures())["jobs_30min"] == 57861.2703  # the stored value is exact


def test_post_processor_styles_output_on_load(qgis_app):
    from qgis.core import QgsGraduatedSymbolRenderer, QgsProcessingContext, QgsProcessingFeedback

    from qgis_plugin.core.styling import StylePostProcessor, style_for

    layer = _values_layer(np.linspace(-5, 5, 21))
    StylePostProcessor.create(style_for("delta_index", field="v")).postProcessLayer(
        layer, QgsProcessingContext(), QgsProcessingFeedback())
    assert isinstance(layer.renderer(), QgsGraduatedSymbolRenderer)
    assert layer.renderer().ranges()[0].lowerValue() == -5.0


def _region_colours(image, x0, x1, y0, y1, step=6):
    return {image.pixel(x, y) for x in range(x0, x1, step) for y in range(y0, y1, step)}


def test_export_map_png_has_map_legend_tables_and_scale(qgis_app, artifacts_dir, demo):
    from qgis.PyQt.QtGui import QImage

    from centrality.builders.lines import network_from_lines
    from centrality.pipeline import run_centrality
    from qgis_plugin.core.styling import apply_style, export_map_png, ranking, style_for

    areas = demo.zone_areas.merge(demo.zones[["zone_id", "population", "jobs"]], on="zone_id")
    result = run_centrality(network_from_lines(demo.roads, **demo.network_options), areas)
    layer = to_layer(result.zones, "zone areas")
    apply_style(layer, style_for("index", note="Synthetic demo region: invented data"))
    path = export_map_png(layer, artifacts_dir / "qgis_index_map.png", "Centrality index, synthetic demo region")
    image = QImage(str(path))
    assert 1650 <= image.width() <= 1750 and 1000 <= image.height() <= 1100
    w, h = image.width(), image.height()
    assert len(_region_colours(image, 40, int(0.6 * w), int(0.1 * h), int(0.9 * h))) >= 6  # SSB colours in the map
    assert len(_region_colours(image, int(0.63 * w), w - 10, int(0.1 * h), int(0.3 * h), 3)) >= 6  # legend patches
    top, bottom = ranking(layer, "index", "name")
    assert top[0][0].startswith("Storby") and len({name for name, _ in top}) == 10  # zone names, never one code 10 times
    assert bottom[0][1] == min(v for _, v in bottom)


# ------------------------------------------------------------------------------ scenario dock
@pytest.fixture()
def dock_setup(qgis_app, demo, tmp_path):
    from qgis.core import QgsProject

    from qgis_plugin.gui.scenario_dock import ScenarioDock

    roads = to_layer(demo.roads, "dock roads")
    areas = demo.zone_areas.merge(demo.zones[["zone_id", "population", "jobs", "town"]], on="zone_id")
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
    dock.group_name_field.setField("town")
    dock.output_file.setFilePath(str(tmp_path / "scenario.gpkg"))
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


def _wait(finished: list, task, timeout_s: float = 180.0):
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


def test_scenario_dock_fits_350_px(dock_setup):
    from qgis.PyQt.QtWidgets import QPushButton

    dock, _, _ = dock_setup
    body = dock.widget().widget()
    assert body.minimumSizeHint().width() <= 330  # room for the scroll bar in a 350 px dock
    dock.resize(350, 900)
    dock.show()
    for button in body.findChildren(QPushButton):
        assert button.sizeHint().width() <= 170, button.text()  # two buttons per row fit
    dock.hide()


def test_scenario_dock_implausible_speed_refused_unless_ticked(dock_setup):
    """A 400 km/h motorway is refused up front with the override named; ticking the box passes it on."""
    from centrality.errors import InputError
    from qgis_plugin.core.scenario_payload import run_scenario_task_payload

    dock, _, _ = dock_setup
    dock.value.setValue(400.0)
    kwargs = dock.payload_kwargs()
    assert kwargs["edit"].allow_implausible_speeds is False
    with pytest.raises(InputError, match="allow_implausible_speeds"):
        run_scenario_task_payload(**kwargs)
    dock.allow_implausible.setChecked(True)
    kwargs = dock.payload_kwargs()
    assert kwargs["edit"].allow_implausible_speeds is True
    result = run_scenario_task_payload(**kwargs)
    links = result.edited_links
    assert len(links) > 0
    length_km = links.geometry.length.to_numpy() / 1000.0   # projected CRS, metres
    speed = length_km / (links["min_fw_scen"].to_numpy() / 60.0)
    np.testing.assert_allclose(speed, 400.0, rtol=1e-6)      # the refused speed, now accepted as given


def test_scenario_dock_runs_writes_geopackage_and_report(dock_setup, demo, artifacts_dir, tmp_path):
    import sqlite3

    from qgis.core import QgsGraduatedSymbolRenderer, QgsProject, QgsVectorLayer

    from qgis_plugin.core.scenario_payload import run_scenario_task_payload

    dock, roads, zones = dock_setup
    assert dock.selection_label.text().startswith(f"{roads.selectedFeatureCount()} selected")
    assert not dock.report_button.isEnabled() and not dock.export_button.isEnabled()
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
    best = result.groups.sort_values("delta_migrants_per_year").iloc[-1]  # kommune table, best first, with names
    first_row = text.split("Δ mig/yr")[1].splitlines()[1]
    assert first_row.startswith(f"{best['kommune']} {best['name']}") and f"{best['delta_migrants_per_year']:+.1f}" in first_row
    assert max(len(line) for line in text.splitlines()) <= 46  # readable in a ~350 px dock
    # results in a GeoPackage with stored styles, not temporary memory layers
    gpkg = tmp_path / "scenario.gpkg"
    with sqlite3.connect(gpkg) as con:
        tables = {r[0] for r in con.execute("select table_name from gpkg_contents where data_type = 'features'")}
        styled = {r[0] for r in con.execute("select f_table_name from layer_styles where useAsDefault")}
    assert tables == styled == {"scenario_zones", "scenario_groups", "scenario_links"}
    loaded = {lay.name(): lay for lay in QgsProject.instance().mapLayers().values()}
    delta = loaded["Scenario: Δ centrality index (zones)"]
    assert delta.providerType() == "ogr" and delta.source().startswith(str(gpkg))
    assert isinstance(delta.renderer(), QgsGraduatedSymbolRenderer) and delta.renderer().classAttribute() == "delta_index"
    links = loaded["Scenario: changed links"]
    assert links.featureCount() == len(demo.motorway_link_ids) and links.providerType() == "ogr"
    reopened = QgsVectorLayer(f"{gpkg}|layername=scenario_groups", "again", "ogr")
    assert isinstance(reopened.renderer(), QgsGraduatedSymbolRenderer) and reopened.labelsEnabled()
    # the map zoomed to the changed links
    assert dock.iface.mapCanvas().extent().contains(links.extent())
    assert dock.iface.mapCanvas().extent().width() < 4 * links.extent().width()
    # report and map export
    assert dock.report_button.isEnabled() and dock.export_button.isEnabled()
    page = dock.report_path.read_text(encoding="utf-8")
    assert "persons per year" in page and best["name"] in page and "data:image/png;base64," in page
    assert "What this rests on" in page
    png = dock.export_map(str(artifacts_dir / "qgis_scenario_delta_index.png"))
    assert png.stat().st_size > 20_000
    assert dock.run_button.isEnabled() and not dock.cancel_button.isEnabled()
    # a picture of the dock after the run, at the width a user has
    dock.resize(350, 1150)
    assert dock.grab().save(str(artifacts_dir / "qgis_scenario_dock.png"))


def test_scenario_dock_refuses_an_input_file_as_results(dock_setup, tmp_path):
    from qgis.core import QgsProject, QgsVectorLayer

    from qgis_plugin.common.convert import write_gpkg_layer

    dock, roads, zones = dock_setup
    uri = write_gpkg_layer(zones, tmp_path / "inputs.gpkg", "zones", overwrite_file=True)
    on_disk = QgsVectorLayer(uri, "zones on disk", "ogr")
    QgsProject.instance().addMapLayer(on_disk)
    dock.zones_combo.setLayer(on_disk)
    dock.output_file.setFilePath(str(tmp_path / "inputs.gpkg"))
    assert dock.start_run() is None
    assert "input layer's file" in dock.summary.toPlainText()


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
    assert path.name == "regio_qgis-0.2.0.zip" and path.is_file()
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
    assert out[2] == str(len(list((REPO / "qgis_plugin" / "proc").glob("*.py"))) - 4)  # one per algorithm module
    assert "regio_qgis/install_deps.py" in names and "regio_qgis/icons/centrality.svg" in names


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
