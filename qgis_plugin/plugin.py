"""Plugin object: registers the Processing provider, adds the scenario dock, menu and toolbar."""
from __future__ import annotations

from qgis.core import Qgis, QgsApplication, QgsMessageLog
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction

from .common import deps
from .proc.provider import ICON_PATH, RegioProvider

MENU = "&Regio"
LOG_TAG = "Regio"


class RegioPlugin:
    def __init__(self, iface):
        self.iface = iface
        self.provider: RegioProvider | None = None
        self.action: QAction | None = None
        self.export_action: QAction | None = None
        self.deps_action: QAction | None = None
        self.dock = None

    # ------------------------------------------------------------ QGIS plugin API
    def initProcessing(self):  # noqa: N802
        if self.provider is None:
            self.provider = RegioProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802
        self.initProcessing()
        self.action = QAction(QIcon(str(ICON_PATH)), "Road scenario (Regio)…", self.iface.mainWindow())
        self.action.setCheckable(True)
        self.action.toggled.connect(self.show_dock)
        self.iface.addPluginToMenu(MENU, self.action)
        self.iface.addToolBarIcon(self.action)
        self.export_action = QAction("Export styled layer as PNG map (legend + top/bottom 10)…", self.iface.mainWindow())
        self.export_action.triggered.connect(lambda: self.export_active_layer())
        self.iface.addPluginToMenu(MENU, self.export_action)
        self.deps_action = QAction("Install Python dependencies…", self.iface.mainWindow())
        self.deps_action.triggered.connect(lambda: self.show_install_dialog())
        self.iface.addPluginToMenu(MENU, self.deps_action)
        ok, message = deps.check()
        if not ok:
            QgsMessageLog.logMessage(message, LOG_TAG, Qgis.Warning)
            self._push_missing(message)

    def _push_missing(self, message: str) -> None:
        """Message bar entry with a button that shows (and copies) the install command."""
        from qgis.PyQt.QtWidgets import QPushButton

        bar = self.iface.messageBar()
        item = bar.createMessage("Regio", message.splitlines()[0])
        button = QPushButton("Show install command")
        button.clicked.connect(lambda: self.show_install_dialog())
        item.layout().addWidget(button)
        bar.pushWidget(item, Qgis.Warning, 0)

    def show_install_dialog(self):
        """The install command for QGIS's Python, selectable and copied to the clipboard."""
        from qgis.PyQt.QtWidgets import QApplication, QMessageBox

        command = deps.install_command()
        QApplication.clipboard().setText(command)
        ok, message = deps.check()
        box = QMessageBox(self.iface.mainWindow())
        box.setWindowTitle("Regio: Python dependencies")
        box.setIcon(QMessageBox.Information if ok else QMessageBox.Warning)
        box.setTextFormat(Qt.TextFormat.RichText)
        state = "All packages the plugin needs are installed." if ok else message.split("\n")[0]
        box.setText(f"{state}<br><br>Run this in a terminal (copied to the clipboard), then restart QGIS:"
                    f"<pre style='white-space: pre-wrap'>{command}</pre>"
                    f"It installs into <code>{deps.deps_dir()}</code>; nothing changes in the system Python.")
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.show()
        self._install_box = box
        return box

    def unload(self):
        if self.dock is not None:
            self.dock.shutdown()
            self.iface.removeDockWidget(self.dock)
            self.dock.deleteLater()
            self.dock = None
        if getattr(self, "deps_action", None) is not None:
            self.iface.removePluginMenu(MENU, self.deps_action)
            self.deps_action.deleteLater()
            self.deps_action = None
        if self.export_action is not None:
            self.iface.removePluginMenu(MENU, self.export_action)
            self.export_action.deleteLater()
            self.export_action = None
        if self.action is not None:
            self.iface.removePluginMenu(MENU, self.action)
            self.iface.removeToolBarIcon(self.action)
            self.action.deleteLater()
            self.action = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None

    # ------------------------------------------------------------ dock
    def show_dock(self, visible: bool = True):
        if self.dock is None:
            from .gui.scenario_dock import ScenarioDock

            self.dock = ScenarioDock(self.iface, self.iface.mainWindow())
            self.dock.visibilityChanged.connect(self._sync_action)
            self.iface.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
            self._tabify_with_toolbox()
        self.dock.setVisible(visible)
        if visible:
            self.dock.raise_()

    def _tabify_with_toolbox(self) -> None:
        """Share the Processing Toolbox's place (a tab, full height) instead of squeezing under it."""
        from qgis.PyQt.QtWidgets import QDockWidget

        window = self.iface.mainWindow()
        toolbox = window.findChild(QDockWidget, "ProcessingToolbox")
        if toolbox is not None and toolbox.isVisible() and not toolbox.isFloating() and \
                window.dockWidgetArea(toolbox) == Qt.DockWidgetArea.RightDockWidgetArea:
            window.tabifyDockWidget(toolbox, self.dock)

    def _sync_action(self, visible: bool):
        if self.action is not None and self.action.isChecked() != visible:
            self.action.blockSignals(True)
            self.action.setChecked(visible)
            self.action.blockSignals(False)

    # ------------------------------------------------------------ PNG export
    def export_active_layer(self, path: str | None = None):
        """Export the active layer (styled by a Regio choropleth) as a PNG map; asks for the file
        name when ``path`` is None. Returns the written path or None."""
        from qgis.core import QgsGraduatedSymbolRenderer, QgsVectorLayer
        from qgis.PyQt.QtWidgets import QFileDialog

        from .core.styling import export_map_png

        layer = self.iface.activeLayer()
        if not isinstance(layer, QgsVectorLayer) or not isinstance(layer.renderer(), QgsGraduatedSymbolRenderer):
            self.iface.messageBar().pushMessage(
                "Regio", "Select a layer with a graduated (choropleth) style in the Layers panel first.", Qgis.Warning, 8)
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self.iface.mainWindow(), "Export map as PNG",
                                                  f"{layer.name()}.png", "PNG image (*.png)")
            if not path:
                return None
        written = export_map_png(layer, path, layer.title() or layer.name())
        self.iface.messageBar().pushMessage("Regio", f"Map written to {written}", Qgis.Success, 8)
        return written
