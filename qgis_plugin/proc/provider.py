"""The "regio" Processing provider.

Algorithms are found, not listed: every module of this package that defines ``ALGORITHMS`` (a
list of :class:`~qgis_plugin.proc.base.RegioAlgorithm` classes) is registered. A new algorithm
(e.g. ``business_alg.py``) needs no change here.
"""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

ICON_PATH = Path(__file__).resolve().parents[1] / "icons" / "icon.svg"


def algorithm_classes() -> list[type]:
    """Every algorithm the provider offers, from the modules' ``ALGORITHMS`` lists (sorted by module)."""
    package = __name__.rsplit(".", 1)[0]
    classes: list[type] = []
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if info.name in ("base", "params", "provider"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        classes += list(getattr(module, "ALGORITHMS", ()))
    return classes


class RegioProvider(QgsProcessingProvider):
    def id(self) -> str:
        return "regio"

    def name(self) -> str:
        return "Regio"

    def longName(self) -> str:  # noqa: N802
        return "Regio – centrality, attractiveness, road scenarios"

    def icon(self) -> QIcon:
        return QIcon(str(ICON_PATH))

    def svgIconPath(self) -> str:  # noqa: N802
        return str(ICON_PATH)

    def loadAlgorithms(self) -> None:  # noqa: N802
        for cls in algorithm_classes():
            self.addAlgorithm(cls())
