"""The "regio" Processing provider."""
from __future__ import annotations

from pathlib import Path

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

ICON_PATH = Path(__file__).resolve().parents[1] / "icons" / "icon.svg"


def algorithm_classes() -> list[type]:
    """Every algorithm the provider offers (imported lazily: the core is only needed when run)."""
    from .attractiveness_alg import AttractivenessAlgorithm
    from .build_network import BuildNetworkAlgorithm
    from .business_alg import BusinessAttractivenessAlgorithm
    from .centrality_alg import CentralityAlgorithm
    from .od_matrix import OdMatrixAlgorithm
    from .scenario_alg import RoadScenarioAlgorithm

    return [BuildNetworkAlgorithm, CentralityAlgorithm, OdMatrixAlgorithm, AttractivenessAlgorithm,
            RoadScenarioAlgorithm, BusinessAttractivenessAlgorithm]


class RegioProvider(QgsProcessingProvider):
    def id(self) -> str:
        return "regio"

    def name(self) -> str:
        return "Regio (centrality, attractiveness, road scenarios)"

    def longName(self) -> str:  # noqa: N802
        return self.name()

    def icon(self) -> QIcon:
        return QIcon(str(ICON_PATH))

    def svgIconPath(self) -> str:  # noqa: N802
        return str(ICON_PATH)

    def loadAlgorithms(self) -> None:  # noqa: N802
        for cls in algorithm_classes():
            self.addAlgorithm(cls())
