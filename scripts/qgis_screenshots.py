"""Screenshots of the plugin in the real QGIS desktop (run inside QGIS with ``qgis --code``).

Takes the Processing Toolbox with a styled result reopened from its GeoPackage, the centrality and
scenario dialogs, the labelled kommune layer and the road-scenario dock after a run (E6 at 130
km/h on the synthetic demo region). Inputs in $REGIO_SHOTS_DATA (roads.gpkg, zones.gpkg and the
qgis_process outputs centrality.gpkg and kommuner.gpkg), PNGs and a log in $REGIO_SHOTS_OUT.
The commands that prepare the data and run it under Xvfb are in qgis_plugin/README.md.
"""
import os
import traceback
from qgis.utils import iface, plugins
from qgis.core import QgsProject, QgsVectorLayer, QgsApplication
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QDockWidget, QApplication
OUT = os.environ.get("REGIO_SHOTS_OUT", "/tmp/regio_shots")
DATA = os.environ.get("REGIO_SHOTS_DATA", "/tmp/regio_shots_data")
os.makedirs(OUT, exist_ok=True)
log = open(f"{OUT}/log.txt", "w")
def say(*a):
    log.write(" ".join(map(str, a)) + "\n"); log.flush()
state = {}
def grab(widget, name):
    QApplication.processEvents()
    ok = widget.grab().save(f"{OUT}/{name}.png")
    say("grab", name, ok)
def step1():
    try:
        win = iface.mainWindow(); win.resize(1500, 950)
        roads = QgsVectorLayer(f"{DATA}/roads.gpkg|layername=roads", "roads", "ogr")
        kom = QgsVectorLayer(f"{DATA}/kommuner.gpkg", "Centrality index (0–1000) per kommune", "ogr")
        zones = QgsVectorLayer(f"{DATA}/centrality.gpkg", "Centrality index (0–1000)", "ogr")
        QgsProject.instance().addMapLayers([zones, kom, roads])
        kom.setOpacity(1.0)
        iface.layerTreeView().layerTreeModel().rootGroup().findLayer(kom.id()).setItemVisibilityChecked(False)
        iface.layerTreeView().layerTreeModel().rootGroup().findLayer(roads.id()).setItemVisibilityChecked(False)
        iface.mapCanvas().setExtent(zones.extent()); iface.mapCanvas().refresh()
        tb = win.findChild(QDockWidget, "ProcessingToolbox")
        tb.show(); tb.raise_()
        from qgis.gui import QgsProcessingToolboxTreeView
        tree = tb.findChild(QgsProcessingToolboxTreeView)
        search = tb.findChild(__import__("qgis.gui", fromlist=["QgsFilterLineEdit"]).QgsFilterLineEdit)
        if search is not None:
            search.setText("regio")
        tree.expandAll()
        say("toolbox ok", [p.id() for p in QgsApplication.processingRegistry().providers()][:30])
        state.update(zones=zones, kom=kom, roads=roads)
        QTimer.singleShot(3000, step2)
    except Exception:
        say(traceback.format_exc())
def step2():
    try:
        grab(iface.mainWindow(), "qgis_toolbox_and_result")
        import processing
        dlg = processing.createAlgorithmDialog("regio:centrality", {})
        dlg.resize(1100, 900); dlg.show(); state["dlg"] = dlg
        QTimer.singleShot(2500, step3)
    except Exception:
        say(traceback.format_exc())
def step3():
    try:
        grab(state["dlg"], "qgis_centrality_dialog")
        from qgis.PyQt.QtWidgets import QScrollArea
        from qgis.gui import QgsCollapsibleGroupBox
        for box in state["dlg"].findChildren(QgsCollapsibleGroupBox):
            box.setCollapsed(False)
        QApplication.processEvents()
        for area in state["dlg"].findChildren(QScrollArea):
            area.verticalScrollBar().setValue(area.verticalScrollBar().maximum() - 120)
        QApplication.processEvents()
        grab(state["dlg"], "qgis_centrality_dialog_analysis")
        state["dlg"].close()
        import processing
        dlg = processing.createAlgorithmDialog("regio:road_scenario", {})
        dlg.resize(1100, 900); dlg.show(); state["dlg2"] = dlg
        QTimer.singleShot(2500, step4)
    except Exception:
        say(traceback.format_exc())
def step4():
    try:
        grab(state["dlg2"], "qgis_scenario_dialog")
        state["dlg2"].close()
        # kommune layer with labels
        root = iface.layerTreeView().layerTreeModel().rootGroup()
        root.findLayer(state["zones"].id()).setItemVisibilityChecked(False)
        root.findLayer(state["kom"].id()).setItemVisibilityChecked(True)
        iface.mapCanvas().refresh()
        QTimer.singleShot(3000, step5)
    except Exception:
        say(traceback.format_exc())
def step5():
    try:
        grab(iface.mainWindow(), "qgis_kommuner_labelled")
        plugin = plugins["regio_qgis"]
        plugin.action.setChecked(True)
        dock = plugin.dock; state["dock"] = dock
        zl = QgsVectorLayer(f"{DATA}/zones.gpkg|layername=zones", "zones", "ogr")
        QgsProject.instance().addMapLayer(zl)
        root = iface.layerTreeView().layerTreeModel().rootGroup()
        root.findLayer(state["kom"].id()).setItemVisibilityChecked(False)
        root.findLayer(state["roads"].id()).setItemVisibilityChecked(True)
        dock.roads_combo.setLayer(state["roads"]); dock.zones_combo.setLayer(zl)
        dock.class_field.setField("highway"); dock.time_field.setField("time_min"); dock.direction_field.setField("oneway")
        dock.id_field.setField("zone_id"); dock.pop_field.setField("population"); dock.jobs_field.setField("jobs")
        dock.group_field.setField("kommune"); dock.group_name_field.setField("town")
        dock.output_file.setFilePath(f"{OUT}/scenario_desktop.gpkg")
        roads = state["roads"]
        roads.selectByExpression("\"highway\" = 'motorway'")
        dock.value.setValue(130)
        iface.mainWindow().resizeDocks([dock], [350], 1)
        dock.run_finished.connect(lambda ok: QTimer.singleShot(3000, step6))
        say("start", dock.start_run())
    except Exception:
        say(traceback.format_exc())
def step6():
    try:
        grab(iface.mainWindow(), "qgis_scenario_dock_window")
        grab(state["dock"], "qgis_scenario_dock_desktop")
        say("dock width", state["dock"].width())
    except Exception:
        say(traceback.format_exc())
    QTimer.singleShot(500, lambda: os._exit(0))
QTimer.singleShot(6000, step1)
