"""Road-scenario dock: pick roads on the map (selection or a drawn new road), set a new speed or
travel time, run today vs scenario in the background (QgsTask); the results go into a GeoPackage
(zones, kommuner, changed links, styles stored inside), are added styled to the map, the map
zooms to the changed links, and a short HTML report and a PNG map can be opened / exported.
The heavy work is :func:`run_scenario_task_payload` (no QGIS inside). Fits a ~350 px wide dock."""
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
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.gui import (
    QgsCollapsibleGroupBox,
    QgsDockWidget,
    QgsFieldComboBox,
    QgsFileWidget,
    QgsMapLayerComboBox,
    QgsMapTool,
    QgsRubberBand,
)
from qgis.PyQt.QtCore import Qt, QUrl, pyqtSignal
from qgis.PyQt.QtGui import QColor, QDesktopServices, QFont
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..core.scenario_payload import ScenarioEdit, format_summary, run_scenario_task_payload  # noqa: F401

CHANGE_MODES = (("New speed (km/h)", "speed_kmh", 110.0), ("New time per link (min)", "time_min", 1.0),
                ("Factor on today's times", "time_factor", 0.8))
LAYER_NAMES = {"zones": "Scenario: Δ centrality index (zones)", "groups": "Scenario: Δ centrality index (kommuner)",
               "links": "Scenario: changed links"}


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
    combo.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)  # never wider than the dock
    combo.setMinimumContentsLength(8)
    combo.setAllowEmptyFieldName(allow_empty)
    if filters is not None:
        combo.setFilters(filters)
    combo.setLayer(layer_combo.currentLayer())
    layer_combo.layerChanged.connect(combo.setLayer)
    return combo


class ScenarioDock(QgsDockWidget):
    """The dock. ``start_run()`` launches the task; ``last_result`` holds the last payload result,
    ``result_layers`` the layers loaded from the results GeoPackage, ``report_path`` the HTML report."""

    run_finished = pyqtSignal(bool)

    def __init__(self, iface, parent=None):
        super().__init__("Regio road scenario", parent)
        self.setObjectName("RegioScenarioDock")
        self.iface = iface
        self.task: ScenarioTask | None = None
        self.last_result = None
        self.result_layers: dict = {}
        self.report_path = None
        self.new_roads: list[QgsGeometry] = []  # in the map canvas CRS
        self.tool = DrawRoadTool(iface.mapCanvas())
        self.tool.finished.connect(self._road_drawn)
        self._selection_layer = None
        self._build_ui()

    # ------------------------------------------------------------------ UI
    def _build_ui(self) -> None:
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        num = QgsFieldProxyModel.Numeric

        def form(title: str, collapsed: bool = False):
            box = QgsCollapsibleGroupBox(title)
            box.setCollapsed(collapsed)
            f = QFormLayout(box)
            f.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            f.setContentsMargins(4, 4, 4, 4)
            layout.addWidget(box)
            return box, f

        def layer_combo(filters):
            combo = QgsMapLayerComboBox()
            combo.setFilters(filters)
            combo.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            return combo

        self.roads_box, f = form("Roads")
        self.roads_combo = layer_combo(QgsMapLayerProxyModel.LineLayer)
        self.speed_field = _field_combo(self.roads_combo, num)
        self.class_field = _field_combo(self.roads_combo)
        self.time_field = _field_combo(self.roads_combo, num)
        self.time_unit = QComboBox()
        self.time_unit.addItems(["minutes", "seconds"])
        self.direction_field = _field_combo(self.roads_combo)
        f.addRow("Layer", self.roads_combo)
        f.addRow("Speed (km/h)", self.speed_field)
        f.addRow("Road class", self.class_field)
        f.addRow("Travel time", self.time_field)
        f.addRow("Time unit", self.time_unit)
        f.addRow("Direction", self.direction_field)

        self.zones_box, f = form("Zones")
        self.zones_combo = layer_combo(QgsMapLayerProxyModel.PointLayer | QgsMapLayerProxyModel.PolygonLayer)
        self.id_field = _field_combo(self.zones_combo, allow_empty=False)
        self.pop_field = _field_combo(self.zones_combo, num, allow_empty=False)
        self.jobs_field = _field_combo(self.zones_combo, num, allow_empty=False)
        self.group_field = _field_combo(self.zones_combo)
        self.group_name_field = _field_combo(self.zones_combo)
        f.addRow("Layer", self.zones_combo)
        f.addRow("Id", self.id_field)
        f.addRow("Population", self.pop_field)
        f.addRow("Jobs", self.jobs_field)
        f.addRow("Kommune", self.group_field)
        f.addRow("Kommune name", self.group_name_field)

        _, f = form("Change")
        self.selection_label = QLabel()
        self.selection_label.setWordWrap(True)
        self.draw_button = QPushButton("Draw new road")
        self.draw_button.setCheckable(True)
        self.draw_button.setToolTip("Left click adds a point, right click finishes the road")
        self.draw_button.toggled.connect(self._toggle_draw)
        self.clear_button = QPushButton("Clear new")
        self.clear_button.clicked.connect(self.clear_new_roads)
        buttons = QHBoxLayout()
        buttons.addWidget(self.draw_button)
        buttons.addWidget(self.clear_button)
        self.mode = QComboBox()
        self.mode.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        for label, _key, _default in CHANGE_MODES:
            self.mode.addItem(label)
        self.value = QDoubleSpinBox()
        self.value.setRange(0.01, 1000.0)
        self.value.setDecimals(2)
        self.value.setValue(CHANGE_MODES[0][2])
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self._mode_changed(0)
        f.addRow("Roads", self.selection_label)
        f.addRow(buttons)
        self.allow_implausible = QCheckBox("Accept implausible speeds")
        self.allow_implausible.setToolTip(
            "Off: a change implying a car speed outside 1–150 km/h (ferries 1–80 km/h) is refused "
            "before any computation. Tick it only when such speeds are real (allow_implausible_speeds "
            "= true in a scenario file).")
        f.addRow("Change by", self.mode)
        f.addRow("New value", self.value)
        f.addRow(self.allow_implausible)

        _, f = form("Horizon and output")
        self.start_year, self.end_year, self.opening_year = QSpinBox(), QSpinBox(), QSpinBox()
        for spin, value in ((self.start_year, 2025), (self.end_year, 2040), (self.opening_year, 0)):
            spin.setRange(0, 2200)
            spin.setValue(value)
        self.opening_year.setSpecialValueText("none")
        years = QHBoxLayout()
        for text, spin in (("from", self.start_year), ("to", self.end_year)):
            years.addWidget(QLabel(text))
            years.addWidget(spin)
        f.addRow("Years", years)
        f.addRow("Opening", self.opening_year)
        self.output_file = QgsFileWidget()
        self.output_file.setStorageMode(QgsFileWidget.StorageMode.SaveFile)
        self.output_file.setFilter("GeoPackage (*.gpkg)")
        self.output_file.setFilePath(self._default_output())
        self.output_file.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        f.addRow("Results", self.output_file)

        run_row = QHBoxLayout()
        self.run_button = QPushButton("Run scenario")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.start_run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_run)
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.cancel_button)
        layout.addLayout(run_row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setMaximumHeight(14)
        layout.addWidget(self.progress)
        self.summary = QTextBrowser()
        font = QFont("Monospace")
        font.setStyleHint(QFont.StyleHint.TypeWriter)
        font.setPointSizeF(8.0)
        self.summary.setFont(font)
        self.summary.setLineWrapMode(QTextBrowser.LineWrapMode.NoWrap)
        self.summary.setMinimumHeight(260)
        layout.addWidget(self.summary, 1)
        result_row = QHBoxLayout()
        self.report_button = QPushButton("Open report")
        self.report_button.clicked.connect(self.open_report)
        self.export_button = QPushButton("Export map…")
        self.export_button.clicked.connect(lambda: self.export_map())
        for b in (self.report_button, self.export_button):
            b.setEnabled(False)
            result_row.addWidget(b)
        layout.addLayout(result_row)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        self.setWidget(scroll)
        self.setMinimumWidth(300)
        self.roads_combo.layerChanged.connect(self._watch_selection)
        self._watch_selection(self.roads_combo.currentLayer())

    def _mode_changed(self, i: int) -> None:
        self.value.setValue(CHANGE_MODES[i][2])
        self.value.setDecimals(0 if CHANGE_MODES[i][1] == "speed_kmh" else 2)
        self.value.setSuffix({"speed_kmh": " km/h", "time_min": " min", "time_factor": " ×"}[CHANGE_MODES[i][1]])

    @staticmethod
    def _default_output() -> str:
        import tempfile
        from pathlib import Path

        home = QgsProject.instance().homePath()
        folder = Path(home) if home else Path(tempfile.gettempdir())
        return str(folder / "regio_scenario.gpkg")

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
                            allow_implausible_speeds=self.allow_implausible.isChecked(),
                            **{key: float(self.value.value())})
        return dict(roads=layer_to_gdf(roads, columns=sorted(set(road_fields.values()) - {""})),
                    zones=layer_to_gdf(zones, keep_fid=False), edit=edit,
                    road_options=road_options, group_col=group, **cols,
                    start_year=self.start_year.value(), end_year=self.end_year.value(),
                    opening_year=self.opening_year.value() or None, workers=_threads())

    def _output_path(self):
        from pathlib import Path

        text = self.output_file.filePath().strip()
        if not text:
            raise ValueError("Choose the results GeoPackage (Results).")
        path = Path(text)
        if path.suffix.lower() != ".gpkg":
            path = path.with_suffix(".gpkg")
        protected = {Path(lay.source().split("|")[0]).resolve() for lay in
                     (self.roads_combo.currentLayer(), self.zones_combo.currentLayer()) if lay is not None}
        if path.resolve() in protected:
            raise ValueError(f"The results file {path} is an input layer's file. Choose another file.")
        return path

    def start_run(self) -> ScenarioTask | None:
        if self.task is not None:
            return None
        from ..common import deps

        ok, message = deps.check()
        problem = message if not ok else deps.native_library_problem()
        if problem:
            self._message(problem, Qgis.Critical)
            return None
        try:
            kwargs = self.payload_kwargs()
            kwargs["edit"].check()
            self._pending_output = self._output_path()
        except ValueError as exc:  # InputError is a ValueError too
            self._message(str(exc), Qgis.Warning)
            return None
        task = self.task = ScenarioTask("Regio road scenario", kwargs)
        task.progressChanged.connect(lambda p: self.progress.setValue(int(p)))
        task.taskCompleted.connect(lambda: self._task_done(task, True))
        task.taskTerminated.connect(lambda: self._task_done(task, False))
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.summary.setPlainText("Running today's network and the scenario …")
        QgsApplication.taskManager().addTask(self.task)
        return self.task

    def cancel_run(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _task_done(self, task: ScenarioTask, ok: bool) -> None:
        """Slot of the task's end: never lets an exception escape (PyQt would abort QGIS)."""
        try:
            self._finish(task, ok)
        except Exception:  # noqa: BLE001 - shown to the user instead of a crash
            self.task = None
            self.run_button.setEnabled(True)
            self.cancel_button.setEnabled(False)
            text = traceback.format_exc()
            self.summary.setPlainText(text)
            self._message(text.strip().splitlines()[-1], Qgis.Critical)
            self.run_finished.emit(False)

    def _finish(self, task: ScenarioTask, ok: bool) -> None:
        if task is not self.task:  # already handled
            return
        self.task = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if ok and task.result is not None:
            self.last_result = task.result
            self.progress.setValue(100)
            group = task.kwargs.get("group_col")
            names = self.group_name_field.currentField() or None
            if group:
                from ..proc.centrality_alg import group_names, with_group_names

                task.result.groups = with_group_names(task.result.groups,
                                                      group_names(task.kwargs["zones"], group, names), group)
            text = format_summary(task.result.summary, task.result.groups, group)
            try:
                self._write_results(task.result, group, self._pending_output)
                text += f"\n\nResults: {self._pending_output.name}"
            except (OSError, ValueError) as exc:
                text += f"\n\nResults not written: {exc}"
                self._message(f"Results not written: {exc}", Qgis.Warning)
            self.summary.setPlainText(text)
            for box in (self.roads_box, self.zones_box):  # the inputs are set: make room for the summary
                box.setCollapsed(True)
        elif task.error:
            self.summary.setPlainText(task.error)
            self._message(task.error.splitlines()[-1], Qgis.Critical)
        else:
            self.progress.setValue(0)
            self.summary.setPlainText("Cancelled: no layers were added.")
        self.run_finished.emit(bool(ok))

    # ------------------------------------------------------------------ results
    def _write_results(self, result, group_col, path) -> dict:
        """Write zones / kommuner / changed links into the GeoPackage ``path`` (styles inside), load
        them styled, zoom to the changed links, write the HTML report. Returns the loaded layers."""
        from centrality.fileio import integer_counts

        from ..common.convert import frame_to_memory_layer, write_gpkg_layer
        from ..core.styling import LayerStyle, apply_style, store_style, style_for
        from ..proc.scenario_alg import groups_with_geometry

        frames = {"zones": (integer_counts(result.zones), style_for("delta_index"))}
        if result.groups is not None and group_col:
            groups = groups_with_geometry(result.groups, result.zones, group_col)
            if hasattr(groups, "geometry"):
                frames["groups"] = (integer_counts(groups), style_for("delta_index"))
        if result.edited_links is not None and len(result.edited_links):
            frames["links"] = (result.edited_links, LayerStyle("action", "changed_links", "Changed links", "link"))
        project = QgsProject.instance()
        for layer in self.result_layers.values():  # the previous run's layers: replaced
            if project.mapLayer(layer.id()) is not None:
                project.removeMapLayer(layer.id())
        self.result_layers = {}
        first = True
        for key, (frame, style) in frames.items():
            uri = write_gpkg_layer(frame_to_memory_layer(frame, key), path, f"scenario_{key}", overwrite_file=first)
            first = False
            error = store_style(uri, style)
            if error:
                raise OSError(error)
            layer = QgsVectorLayer(uri, LAYER_NAMES[key], "ogr")
            apply_style(layer, style)
            self.result_layers[key] = layer
        for key in ("zones", "groups", "links"):  # links on top
            if key in self.result_layers:
                project.addMapLayer(self.result_layers[key])
        self._zoom_to_links()
        self.report_path = self._write_report(result, path)
        for b in (self.report_button, self.export_button):
            b.setEnabled(True)
        return self.result_layers

    def _zoom_to_links(self) -> None:
        layer = self.result_layers.get("links") or self.result_layers.get("zones")
        if layer is None:
            return
        canvas = self.iface.mapCanvas()
        xform = QgsCoordinateTransform(layer.crs(), canvas.mapSettings().destinationCrs(), QgsProject.instance())
        extent = xform.transformBoundingBox(layer.extent())
        extent.scale(2.5)
        canvas.setExtent(extent)
        canvas.refresh()

    def _write_report(self, result, gpkg_path):
        """A one-page HTML report next to the GeoPackage: summary, kommune table, the Δ map."""
        import base64
        import html

        from centrality.fileio import atomic_write

        from ..core.scenario_payload import report_html
        from ..core.styling import export_map_png

        png = gpkg_path.with_name(gpkg_path.stem + "_delta_index.png")
        export_map_png(self.result_layers["zones"], png, "Δ centrality index: road scenario")
        image = base64.b64encode(png.read_bytes()).decode("ascii")
        roads = self.roads_combo.currentLayer()
        page = report_html(result, self.group_field.currentField() or None, image,
                           roads=html.escape(roads.name() if roads else ""), gpkg=gpkg_path.name)
        path = gpkg_path.with_suffix(".html")
        with atomic_write(path) as tmp:
            tmp.write_text(page, encoding="utf-8")
        return path

    def open_report(self) -> bool:
        if self.report_path is None:
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.report_path)))

    def export_map(self, path: str | None = None):
        """PNG map of the Δ index (asks for the file name when ``path`` is None); returns the path."""
        from qgis.PyQt.QtWidgets import QFileDialog

        from ..core.styling import export_map_png

        layer = self.result_layers.get("zones")
        if layer is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export map as PNG", str(self.report_path.with_suffix(".png")),
                                                  "PNG image (*.png)")
            if not path:
                return None
        written = export_map_png(layer, path, "Δ centrality index: road scenario")
        self._message(f"Map written to {written}", Qgis.Success)
        return written

    def _message(self, text: str, level) -> None:
        bar = getattr(self.iface, "messageBar", None)
        if bar is not None:
            bar().pushMessage("Regio", text, level, 10)
        if level != Qgis.Success:
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


def _threads() -> int:
    from ..proc.params import machine_threads

    return machine_threads()
