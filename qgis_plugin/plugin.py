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
        ok, message = deps.check()
        if not ok:
            QgsMessageLog.logMessage(message, LOG_TAG, Qgis.Warning)
            self.iface.messageBar().pushMessage("Regio", message, Qgis.Warning, 0)

    def unload(self):
        if self.dock is not None:
            self.dock.shutdown()
            self.iface.removeDockWidget(self.dock)
            self.dock.deleteLater()
            self.dock = None
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
            self.iface.addDockWidget(Qt.RightDockWidgetArea, self.dock)
        self.dock.setVisible(visible)

    def _sync_action(self, visible: bool):
        if self.action is not None and self.action.isChecked() != visible:
            self.action.blockSignals(True)
            self.action.setChecked(visible)
            self.action.blockSignals(False)
