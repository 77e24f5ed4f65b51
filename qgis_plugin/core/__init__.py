"""Styling, map export and the scenario payload (the latter is QGIS-free)."""
