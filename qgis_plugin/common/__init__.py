"""QGIS-side helpers shared by the algorithms and the dock: dependency check, layer conversion."""
