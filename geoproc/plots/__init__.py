"""Figures: choropleth maps (:mod:`geoproc.plots.maps`) and charts (:mod:`geoproc.plots.charts`).

matplotlib is imported lazily inside the plotting functions and figures are built on
:class:`matplotlib.figure.Figure` (Agg canvas), so importing this package never touches a GUI
backend and is safe inside QGIS.
"""
from __future__ import annotations

__all__ = ["choropleth", "save_figure"]


def __getattr__(name: str):
    if name in __all__:
        from geoproc.plots import maps

        return getattr(maps, name)
    raise AttributeError(f"module 'geoproc.plots' has no attribute {name!r}")
