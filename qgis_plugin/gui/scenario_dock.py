"""Road-scenario dock: pick roads on the map (selection or a drawn new road), set a new speed or
travel time, run baseline vs scenario in the background (QgsTask) and show the Δ layers and the
Levanger-style summary. The heavy work is :func:`run_scenario_task_payload` (no QGIS inside)."""
from __future__ import annotations

import traceback

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsCoordinateTransform,
    QgsFieldProxyModel,
    QgsGeometry,
    QgsMapLayerProxyModel,
    QgsProject,
    QgsTask,
    QgsWkbTypes,
)
from qgis.gui import QgsDockWidget, QgsFieldComboBox, QgsMapLayerComboBox, QgsMapTool, QgsRubberBand
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtGui import QColor
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..core.scenario_payload import ScenarioEdit, format_summary, run_scenario_task_payload  # noqa: F401

CHANGE_MODES = (("New speed (km/h)", "speed_kmh", 110.0), ("New travel time per link (min)", "time_min", 1.0),
                ("Factor on current times", "time_factor", 0.8))


class DrawRoadTool(QgsMapTool):
    """Left click adds a vertex, right click finishes the line (emits ``finished(QgsGeometry)``)."""

    finished = pyqtSignal(object)

    def __init__(self, canvas):
        super().__init__(canvas)
        self.band = QgsRubberBand(canvas, QgsWkbTypes.LineGeometry)
        self.band.setColor(QColor(178, 24, 43, 200))
        self.band.setWidth(3)
        self.points = []

    def add_vertex(self, point) -> None:
        self.points.append(point)
        self.band.addPoint(point)

    def finish(self) -> QgsGeometry | None:
        geom = QgsGeometry.fromPolylineXY(self.points) if len(self.points) >= 2 else None
        self.points = []
        if geom is not None:
            self.finished.emit(geom)
        return geom

    def reset(self) -> None:
        self.points = []
        self.band.reset(QgsWkbTypes.LineGeometry)

    def canvasReleaseEvent(self, event):  # noqa: N802 (Qt API)
        if event.button() == Qt.MouseButton.LeftButton:
            self.add_vertex(self.toMapCoordinates(event.pos()))
        elif event.button() == Qt.MouseButton.RightButton:
            self.finish()

    def deactivate(self):
        super().deactivate()


class ScenarioTask(QgsTask):
    """Runs the payload in a worker thread. The dock reads ``result``/``error`` when the task
    manager emits ``taskCompleted``/``taskTerminated`` (main thread; also emitted when the task is
    cancelled before it started)."""

    def __init__(self, description: str, kwargs: dict):
        super().__init__(description, QgsTask.CanCancel)
        self.kwargs = kwargs
        self.result = None
        self.error = None

    def run(self) -> bool:
        from centrality.errors import Cancelled, InputError

        from ..common.threads import pin_pyproj_context

        try:
            pin_pyproj_context()  # QThreadPool thread: see common/threads.py
            self.result = run_scenario_task_payload(
                **self.kwargs, progress=lambda done, total: self.setProgress(100.0 * done / max(total, 1)),
                should_stop=self.isCanceled)
            return True
        except Cancelled:
            return False
        except InputError as exc:
            self.error = str(exc)
            return False
        except Exception:  # noqa: BLE001 - shown to the user instead of killing the worker thread
            self.error = traceback.format_exc()
            return False


def _field_combo(layer_combo: QgsMapLayerComboBox, filters=None, allow_empty: bool = True) -> QgsFieldComboBox:
    combo = QgsFieldComboBox()
    combo.setAllowEmptyFieldName(allow_empty)
    if filters is not None:
        combo.setFilters(filters)
    combo.setLayer(layer_combo.currentLayer())
    layer_combo.layerChanged.connect(combo.setLayer)
    return combo


class ScenarioDock(QgsDockWidget):
    """The dock. ``start_run()`` launches the task; ``last_result`` holds the last payload result."""

    run_finished = pyqtSignal(bool)

    def __init__(self, iface, parent=None):
        super().__init__("Regio road scenario", parent)
        self.setObjectName("RegioScenarioDock")
        self.iface = iface
        self.task: ScenarioTask | None = None
        self.last_result = None
        self.new_roads: list[QgsGeometry] = []  # in the map canvas CRS
        self.tool = DrawRoadTool(iface.mapCanvas())
        self.tool.finished.connect(self._road_drawn)
        self._selection_layer = None
        self._build_ui()

    # ------------------------------------------------------------------ UI
    def _build_ui(self) -> None:
        body = QWidget()
        layout = QVBoxLayout(body)
        num = QgsFieldProxyModel.Numeric

        roads = QGroupBox("Road network")
        form = QFormLayout(roads)
        self.roads_combo = QgsMapLayerComboBox()
        self.roads_combo.setFilters(QgsMapLayerProxyModel.LineLayer)
        self.speed_field = _field_combo(self.roads_combo, num)
        self.class_field = _field_combo(self.roads_combo)
        self.time_field = _field_combo(self.roads_combo, num)
        self.time_unit = QComboBox()
        self.time_unit.addItems(["minutes", "seconds"])
        self.direction_field = _field_combo(self.roads_combo)
        form.addRow("Roads layer", self.roads_combo)
        form.addRow("Speed field (km/h)", self.speed_field)
        form.addRow("Road class field", self.class_field)
        form.addRow("Travel time field", self.time_field)
        form.addRow("Time unit", self.time_unit)
        form.addRow("Direction field", self.direction_field)
        layout.addWidget(roads)

        zones = QGroupBox("Zones")
        form = QFormLayout(zones)
        self.zones_combo = QgsMapLayerComboBox()
        self.zones_combo.setFilters(QgsMapLayerProxyModel.PointLayer | QgsMapLayerProxyModel.PolygonLayer)
        self.id_field = _field_combo(self.zones_combo, allow_empty=False)
        self.pop_field = _field_combo(self.zones_combo, num, allow_empty=False)
        self.jobs_field = _field_combo(self.zones_combo, num, allow_empty=False)
        self.group_field = _field_combo(self.zones_combo)
        form.addRow("Zones layer", self.zones_combo)
        form.addRow("Id field", self.id_field)
        form.addRow("Population field", self.pop_field)
        form.addRow("Jobs field", self.jobs_field)
        form.addRow("Kommune/group field", self.group_field)
        layout.addWidget(zones)

        change = QGroupBox("Change")
        form = QFormLayout(change)
        self.selection_label = QLabel()
        self.draw_button = QPushButton("Draw new road")
        self.draw_button.setCheckable(True)
        self.draw_button.toggled.connect(self._toggle_draw)
        self.clear_button = QPushButton("Clear new roads")
        self.clear_button.clicked.connect(self.clear_new_roads)
        buttons = QHBoxLayout()
        buttons.addWidget(self.draw_button)
        buttons.addWidget(self.clear_button)
        self.mode = QComboBox()
        for label, _key, _default in CHANGE_MODES:
            self.mode.addItem(label)
        self.value = QDoubleSpinBox()
        self.value.setRange(0.01, 1000.0)
        self.value.setDecimals(2)
        self.value.setValue(CHANGE_MODES[0][2])
        self.mode.currentIndexChanged.connect(lambda i: self.value.setValue(CHANGE_MODES[i][2]))
        form.addRow("Selected roads", self.selection_label)
        form.addRow(buttons)
        form.addRow(self.mode, self.value)
        layout.addWidget(change)

        horizon = QGroupBox("Horizon")
        form = QFormLayout(horizon)
        self.start_year, self.end_year, self.opening_year = QSpinBox(), QSpinBox(), QSpinBox()
        for spin, value in ((self.start_year, 2025), (self.end_year, 2040), (self.opening_year, 0)):
            spin.setRange(0, 2200)
            spin.setValue(value)
        self.opening_year.setSpecialValueText("none")
        form.addRow("First year", self.start_year)
        form.addRow("Last year", self.end_year)
        form.addRow("Opening year", self.opening_year)
        layout.addWidget(horizon)

        run_row = QHBoxLayout()
        self.run_button = QPushButton("Run scenario")
        self.run_button.clicked.connect(self.start_run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_run)
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.cancel_button)
        layout.addLayout(run_row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        layout.addWidget(self.progress)
        self.summary = QTextBrowser()
        self.summary.setFontFamily("monospace")
        self.summary.setLineWrapMode(QTextBrowser.LineWrapMode.NoWrap)
        layout.addWidget(self.summary)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        self.setWidget(scroll)
        self.roads_combo.layerChanged.connect(self._watch_selection)
        self._watch_selection(self.roads_combo.currentLayer())

    def _watch_selection(self, layer) -> None:
        if self._selection_layer is not None:
            try:
                self._selection_layer.selectionChanged.disconnect(self._update_selection_label)
            except (TypeError, RuntimeError):
                pass
        self._selection_layer = layer
        if layer is not None:
            layer.selectionChanged.connect(self._update_selection_label)
        self._update_selection_label()

    def _update_selection_label(self, *args) -> None:
        layer = self.roads_combo.currentLayer()
        n = layer.selectedFeatureCount() if layer is not None else 0
        self.selection_label.setText(f"{n} selected, {len(self.new_roads)} new road(s)")

    # ------------------------------------------------------------------ drawing
    def _toggle_draw(self, on: bool) -> None:
        canvas = self.iface.mapCanvas()
        if on:
            canvas.setMapTool(self.tool)
        else:
            self.tool.finish()
            if canvas.mapTool() is self.tool:
                canvas.unsetMapTool(self.tool)

    def _road_drawn(self, geometry: QgsGeometry) -> None:
        self.new_roads.append(QgsGeometry(geometry))
        self._update_selection_label()

    def clear_new_roads(self) -> None:
        self.new_roads = []
        self.tool.reset()
        self._update_selection_label()

    # ------------------------------------------------------------------ run
    def _new_roads_frame(self, target_crs):
        if not self.new_roads:
            return None
        import geopandas as gpd
        import shapely

        from ..common.convert import crs_to_pyproj_input

        canvas_crs = self.iface.mapCanvas().mapSettings().destinationCrs()
        xform = QgsCoordinateTransform(canvas_crs, target_crs, QgsProject.instance())
        geoms = []
        for g in self.new_roads:
            g = QgsGeometry(g)
            g.transform(xform)
            geoms.append(shapely.from_wkb(bytes(g.asWkb())))
        return gpd.GeoDataFrame(geometry=geoms, crs=crs_to_pyproj_input(target_crs))

    def payload_kwargs(self) -> dict:
        """Everything the background task needs, converted from the layers now (main thread)."""
        from ..common.convert import layer_to_gdf

        roads = self.roads_combo.currentLayer()
        zones = self.zones_combo.currentLayer()
        if roads is None or zones is None:
            raise ValueError("Choose a roads layer and a zones layer.")
        road_fields = {"speed_field": self.speed_field.currentField(), "class_field": self.class_field.currentField(),
                       "time_fw_field": self.time_field.currentField(),
                       "direction_field": self.direction_field.currentField()}
        road_options = {k: v for k, v in road_fields.items() if v}
        if not any(k in road_options for k in ("speed_field", "class_field", "time_fw_field")):
            raise ValueError("Choose a speed, road class or travel time field for the roads.")
        road_options["time_unit"] = "min" if self.time_unit.currentIndex() == 0 else "s"
        cols = {"id_col": self.id_field.currentField(), "pop_col": self.pop_field.currentField(),
                "jobs_col": self.jobs_field.currentField()}
        if not all(cols.values()):
            raise ValueError("Choose the zone id, population and jobs fields.")
        group = self.group_field.currentField() or None
        key = CHANGE_MODES[self.mode.currentIndex()][1]
        edit = ScenarioEdit(fids=list(roads.selectedFeatureIds()), new_roads=self._new_roads_frame(roads.crs()),
                            **{key: float(self.value.value())})
        zone_cols = list(dict.fromkeys([*cols.values(), *([group] if group else [])]))
        return dict(roads=layer_to_gdf(roads, columns=sorted(set(road_fields.values()) - {""})),
                    zones=layer_to_gdf(zones, columns=zone_cols, keep_fid=False), edit=edit,
                    road_options=road_options, group_col=group, **cols,
                    start_year=self.start_year.value(), end_year=self.end_year.value(),
                    opening_year=self.opening_year.value() or None)

    def start_run(self) -> ScenarioTask | None:
        if self.task is not None:
            return None
        try:
            kwargs = self.payload_kwargs()
            kwargs["edit"].check()
        except ValueError as exc:  # InputError is a ValueError too
            self._message(str(exc), Qgis.Warning)
            return None
        task = self.task = ScenarioTask("Regio road scenario", kwargs)
        task.progressChanged.connect(lambda p: self.progress.setValue(int(p)))
        task.taskCompleted.connect(lambda: self._task_done(task, True))
        task.taskTerminated.connect(lambda: self._task_done(task, False))
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.summary.setPlainText("Running baseline and scenario …")
        QgsApplication.taskManager().addTask(self.task)
        return self.task

    def cancel_run(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _task_done(self, task: ScenarioTask, ok: bool) -> None:
        if task is not self.task:  # already handled
            return
        self.task = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if ok and task.result is not None:
            self.last_result = task.result
            self.progress.setValue(100)
            self._add_result_layers(task.result)
            group = task.kwargs.get("group_col")
            self.summary.setPlainText(format_summary(task.result.summary, task.result.groups, group))
        elif task.error:
            self.summary.setPlainText(task.error)
            self._message(task.error.splitlines()[-1], Qgis.Critical)
        else:
            self.progress.setValue(0)
            self.summary.setPlainText("Cancelled: no layers were added.")
        self.run_finished.emit(bool(ok))

    def _add_result_layers(self, result) -> list:
        from ..common.convert import frame_to_memory_layer
        from ..core.styling import apply_graduated_style

        added = []
        zones = frame_to_memory_layer(result.zones, "Scenario Δ index (zones)")
        apply_graduated_style(zones, "delta_index", kind="diverging", unit="index points")
        added.append(zones)
        if result.groups is not None and "delta_index" in result.groups.columns:
            from ..proc.scenario_alg import groups_with_geometry

            group_col = self.group_field.currentField()
            zones_gdf = result.zones
            groups = frame_to_memory_layer(groups_with_geometry(result.groups, zones_gdf, group_col),
                                           "Scenario Δ per group")
            if groups.isSpatial():
                apply_graduated_style(groups, "delta_index", kind="diverging", unit="index points")
            added.append(groups)
        if result.edited_links is not None and len(result.edited_links):
            added.append(frame_to_memory_layer(result.edited_links, "Scenario changed links"))
        for layer in added:
            QgsProject.instance().addMapLayer(layer)
        return added

    def _message(self, text: str, level) -> None:
        bar = getattr(self.iface, "messageBar", None)
        if bar is not None:
            bar().pushMessage("Regio", text, level, 10)
        self.summary.setPlainText(text)

    def shutdown(self) -> None:
        """Cancel a running task and release the map tool (called by the plugin's unload)."""
        self.cancel_run()
        canvas = self.iface.mapCanvas()
        if canvas.mapTool() is self.tool:
            canvas.unsetMapTool(self.tool)
        self.tool.reset()
        if self._selection_layer is not None:
            try:
                self._selection_layer.selectionChanged.disconnect(self._update_selection_label)
            except (TypeError, RuntimeError):
                pass
            self._selection_layer = None
