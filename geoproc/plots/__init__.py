"""Figures: choropleth maps (:mod:`geoproc.plots.maps`), charts (:mod:`geoproc.plots.charts`) and
the class rules they share with the QGIS plugin's styles (:mod:`geoproc.plots.classes`).

matplotlib is imported only inside the plotting functions and figures are built on
:class:`matplotlib.figure.Figure` (Agg canvas), so importing this package never touches a GUI
backend and is safe inside QGIS.
"""
from __future__ import annotations

from geoproc.plots.maps import choropleth, save_figure

__all__ = ["choropleth", "save_figure"]
