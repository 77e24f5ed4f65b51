"""Regio QGIS plugin: travel-time centrality, the attractiveness model and road scenarios.

A thin shell over the headless packages ``centrality`` and ``geoproc``. In the installable zip
these are vendored under ``ext_libs/``; in a development checkout they come from site-packages.
The third-party packages (numpy, geopandas, ...) come from the private folder made by
``install_deps.py`` (``<profile>/python/regio-deps``) or from QGIS's own Python.
"""
from __future__ import annotations

import sys
from pathlib import Path

EXT_LIBS = Path(__file__).resolve().parent / "ext_libs"


def use_vendored_packages() -> bool:
    """Put the vendored ``ext_libs`` (centrality/, geoproc/) first on ``sys.path`` if present."""
    if (EXT_LIBS / "centrality").is_dir():
        if str(EXT_LIBS) not in sys.path:
            sys.path.insert(0, str(EXT_LIBS))
        return True
    return False


use_vendored_packages()


def use_private_dependencies():
    """Put ``<profile>/python/regio-deps`` (made by install_deps.py) on ``sys.path``; see common/deps.py."""
    from .common import deps

    return deps.activate()


use_private_dependencies()


def classFactory(iface):  # noqa: N802 (QGIS API name)
    """QGIS entry point: return the plugin instance."""
    from .plugin import RegioPlugin

    return RegioPlugin(iface)
