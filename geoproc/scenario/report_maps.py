"""Scenario maps: Δ choropleths with kommune names, the edited roads, a scale bar and the source.

The map itself is :func:`geoproc.plots.maps.choropleth` with ``diverging=True`` and natural
breaks: classes centred on 0 that cover only values that occur (:func:`geoproc.plots.classes.diverging_bins`:
losses in reds, a "no change" class only when some values are 0, gains in blues, each side's
shades scaled by its largest value so a few persons lost do not look like hundreds gained; bounds
never rounded to 0), the legend with n, mean and sd over the kommuner in view, a scale bar and north arrow, the source line. This
module adds what is specific to road scenarios:

- the edited links drawn on top in purple on a white casing, so short links stay visible;
- the names of the changed kommuner (largest |Δ| first, at most ``max_labels``) placed where they
  overlap neither each other nor the edited links (:func:`label_places`: the first free position
  of a ring of candidates around the feature, joined to it by a thin leader line when moved);
- the legend beside the map with its title wrapped.
"""
from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import shapely

from geoproc.plots.maps import choropleth

EDITED_STYLE = {"color": "#7a0177", "linewidth": 3.0, "capstyle": "round"}
CASING_STYLE = {"color": "white", "linewidth": 6.0, "capstyle": "round"}
#: label positions tried, in points from the feature's representative point (centre first)
CANDIDATES_PT = [(0, 0), (0, 11), (0, -11), (16, 0), (-16, 0), (14, 11), (-14, 11), (14, -11), (-14, -11),
                 (0, 22), (0, -22), (30, 0), (-30, 0), (26, 18), (-26, 18), (26, -18), (-26, -18)]


def _renderer(fig):
    """A renderer for text extents (the figure's own canvas, or an Agg canvas attached to it)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)
    return canvas.get_renderer()


def _display_lines(ax, lines) -> list:
    """Edited links as shapely lines in display (pixel) coordinates."""
    out = []
    if lines is None or not len(lines):
        return out
    for geom in lines.geometry:
        if geom is None or geom.is_empty:
            continue
        for part in getattr(geom, "geoms", [geom]):
            out.append(shapely.LineString(ax.transData.transform(np.asarray(part.coords)[:, :2])))
    return out


def label_places(ax, layer, column: str, name_col: str = "name", max_labels: int = 12, avoid=None) -> list[str]:
    """Write the names of the features with the largest |``column``| (non-zero) on ``ax``, without overlaps.

    Each name tries the positions of :data:`CANDIDATES_PT` around the feature's representative
    point and takes the first whose box overlaps no name placed before, no ``avoid`` line and
    stays inside the axes; a moved name gets a thin leader line. Names that find no free place
    are left out.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The map axes (final position and limits).
    layer : geopandas.GeoDataFrame
        The mapped features.
    column : str
        The Δ column.
    name_col : str
        The name column.
    max_labels : int
        At most this many names.
    avoid : geopandas.GeoDataFrame, optional
        Lines (the edited links, map CRS) that names must not cover.

    Returns
    -------
    list of str
        The names written.
    """
    from matplotlib import patheffects

    if name_col not in layer.columns:
        return []
    v = pd.to_numeric(layer[column], errors="coerce").abs()
    chosen = layer[v > 0].assign(_a=v[v > 0]).sort_values("_a", ascending=False).head(max_labels)
    ax.apply_aspect()
    renderer = _renderer(ax.figure)
    blocked = _display_lines(ax, avoid)
    frame = shapely.box(*ax.bbox.extents)
    halo = [patheffects.withStroke(linewidth=2.6, foreground="white")]
    placed, names = [], []
    for _, row in chosen.iterrows():
        p = row.geometry.representative_point()
        for dx, dy in CANDIDATES_PT:
            text = ax.annotate(str(row[name_col]), xy=(p.x, p.y), xytext=(dx, dy), textcoords="offset points",
                               fontsize=7.5, ha="center", va="center", zorder=9, path_effects=halo)
            box = shapely.box(*text.get_window_extent(renderer).expanded(1.06, 1.15).extents)
            if frame.contains(box) and not any(box.intersects(b) for b in placed + blocked):
                if (dx, dy) != (0, 0):
                    text.remove()
                    text = ax.annotate(str(row[name_col]), xy=(p.x, p.y), xytext=(dx, dy),
                                       textcoords="offset points", fontsize=7.5, ha="center", va="center",
                                       zorder=9, path_effects=halo,
                                       arrowprops={"arrowstyle": "-", "color": "#555555", "lw": 0.5,
                                                   "shrinkA": 0, "shrinkB": 0})
                placed.append(box)
                names.append(str(row[name_col]))
                break
            text.remove()
    return names


def delta_map(layer, column: str, *, title: str, unit_label: str, edited_links=None, source: str = "",
              note: str = "", figsize=(9.0, 7.5), label_col: str = "name"):
    """A Δ choropleth with names, edited roads, scale bar and source (module doc).

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
        Features with ``column`` (metric CRS).
    column : str
        The Δ column.
    title : str
        Map title.
    unit_label : str
        Unit of the values (legend title).
    edited_links : geopandas.GeoDataFrame, optional
        Links to draw on top.
    source : str
        Data source line.
    note : str
        Extra note under the map.
    figsize : tuple of float
        Inches.
    label_col : str
        Name column for the labels.

    Returns
    -------
    matplotlib.figure.Figure
    """
    text = textwrap.fill(" · ".join(t for t in (note, f"Source: {source}" if source else "") if t), 150)
    fig = choropleth(layer, column, title=title, unit_label=unit_label, diverging=True, scheme="natural_breaks",
                     k=6, ranking_table=False, figsize=figsize, note=text or None, diverging_shades="magnitude")
    ax = fig.axes[0]
    old = ax.get_legend()
    wrapped = "\n".join(textwrap.fill(line, 30) for line in old.get_title().get_text().split("\n"))
    leg = ax.legend(handles=old.legend_handles, labels=[t.get_text() for t in old.texts], title=wrapped,
                    loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, title_fontsize=8, frameon=False)
    leg._legend_box.align = "left"
    fig.set_layout_engine(None)                 # room on the right for the legend
    ax.set_position([0.01, 0.05, 0.70, 0.87])
    has_links = edited_links is not None and len(edited_links)
    if has_links:
        limits = ax.get_xlim(), ax.get_ylim()
        edited_links.plot(ax=ax, zorder=7, **CASING_STYLE)
        edited_links.plot(ax=ax, zorder=8, **EDITED_STYLE)
        ax.set_xlim(*limits[0])
        ax.set_ylim(*limits[1])
    label_places(ax, layer, column, label_col, avoid=edited_links if has_links else None)
    if has_links:
        from matplotlib.lines import Line2D

        ax.add_artist(leg)
        ax.legend(handles=[Line2D([0], [0], color=EDITED_STYLE["color"], linewidth=EDITED_STYLE["linewidth"],
                                  label="edited road links")], loc="lower left", bbox_to_anchor=(1.0, 0.0),
                  fontsize=8, frameon=False)
    return fig
