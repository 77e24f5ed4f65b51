"""Session fixtures for tests that run inside real QGIS (imported by tests/test_qgis_*.py).

QgsApplication is started once per session, headless (QT_QPA_PLATFORM=offscreen), with the
Processing framework initialised. When ``qgis`` cannot be imported the QGIS tests are skipped,
unless the environment variable CI is set: then they fail (CI must run them).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PROCESSING_PLUGINS = "/usr/share/qgis/python/plugins"

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NUMBA_CACHE_DIR", str(REPO / ".cache" / "numba"))

try:
    import qgis.core  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the machine
    if os.environ.get("CI"):
        raise ImportError(f"CI is set but QGIS Python bindings are not importable ({exc}); "
                          "install python3-qgis (scripts/setup.sh --test) so the plugin tests run") from exc
    pytest.skip(f"QGIS Python bindings (python3-qgis) are not installed: {exc}", allow_module_level=True)

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

_APP = None


def start_qgis():
    """Start (once) and return the QgsApplication with Processing initialised."""
    global _APP
    if _APP is None:
        from qgis.core import QgsApplication

        _APP = QgsApplication([], True)
        _APP.initQgis()
        if PROCESSING_PLUGINS not in sys.path:
            sys.path.append(PROCESSING_PLUGINS)
        from processing.core.Processing import Processing

        Processing.initialize()
    return _APP


@pytest.fixture(scope="session")
def qgis_app():
    return start_qgis()


_PROVIDER = None  # keeps the Python side of the registered provider alive


@pytest.fixture
def regio_provider(qgis_app):
    """The plugin's Processing provider, (re-)registered when a test (e.g. plugin unload) removed it."""
    global _PROVIDER
    from qgis.core import QgsApplication

    from qgis_plugin.proc.provider import RegioProvider

    registry = QgsApplication.processingRegistry()
    if registry.providerById("regio") is None:
        _PROVIDER = RegioProvider()
        registry.addProvider(_PROVIDER)
    return registry.providerById("regio")


@pytest.fixture(scope="session")
def demo():
    """The synthetic demo region (deterministic)."""
    from centrality.synthetic import demo_region

    return demo_region()


def to_layer(gdf, name: str):
    """A memory layer from a (Geo)DataFrame (uses the plugin's own converter)."""
    from qgis_plugin.common.convert import frame_to_memory_layer

    layer = frame_to_memory_layer(gdf, name)
    assert layer.isValid() and layer.featureCount() == len(gdf)
    return layer


def layer_frame(layer):
    """Attribute table of a QGIS layer (or layer id/path string from processing.run) as a GeoDataFrame."""
    from qgis.core import QgsProcessingUtils, QgsVectorLayer

    from qgis_plugin.common.convert import layer_to_gdf

    if isinstance(layer, str):
        loaded = QgsVectorLayer(layer, "out", "ogr")
        layer = loaded if loaded.isValid() else QgsProcessingUtils.mapLayerFromString(layer, None)
    return layer_to_gdf(layer, keep_fid=False)


class IfaceStub:
    """Minimal QgisInterface for plugin tests: a real main window, map canvas and message bar;
    menu and toolbar calls are recorded so tests can check that unload removes what initGui added."""

    def __init__(self):
        from qgis.gui import QgsMapCanvas, QgsMessageBar
        from qgis.PyQt.QtWidgets import QMainWindow

        self._window = QMainWindow()
        self._canvas = QgsMapCanvas(self._window)
        self._bar = QgsMessageBar(self._window)
        self.menu: dict[str, list] = {}
        self.toolbar: list = []
        self.docks: list = []
        self.active_layer = None

    def activeLayer(self):  # noqa: N802
        return self.active_layer

    def mainWindow(self):  # noqa: N802 (QGIS API names)
        return self._window

    def mapCanvas(self):  # noqa: N802
        return self._canvas

    def messageBar(self):  # noqa: N802
        return self._bar

    def addPluginToMenu(self, name, action):  # noqa: N802
        self.menu.setdefault(name, []).append(action)

    def removePluginMenu(self, name, action):  # noqa: N802
        self.menu.get(name, []).remove(action)
        if not self.menu.get(name):
            self.menu.pop(name, None)

    def addToolBarIcon(self, action):  # noqa: N802
        self.toolbar.append(action)

    def removeToolBarIcon(self, action):  # noqa: N802
        self.toolbar.remove(action)

    def addDockWidget(self, area, dock):  # noqa: N802
        self._window.addDockWidget(area, dock)
        self.docks.append(dock)

    def removeDockWidget(self, dock):  # noqa: N802
        self._window.removeDockWidget(dock)
        self.docks.remove(dock)
