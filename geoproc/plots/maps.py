"""Choropleth maps with class legend (n, mean, sd, classes with units) and top/bottom-10 tables.

matplotlib is imported lazily and only through :class:`matplotlib.figure.Figure` (no pyplot, no
global backend switch), so importing this module is cheap and safe inside QGIS; figures render
with the Agg canvas. Class breaks come from mapclassify.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from centrality.errors import InputError, require_columns

SCHEMES = ("quantiles", "natural_breaks", "equal_interval")
NO_DATA_COLOUR = "#d9d9d9"
_SEQUENTIAL_CMAP = "YlGnBu"
_DIVERGING_CMAP = "RdYlBu"  # red = below zero, blue = above zero


def _classifier(values: np.ndarray, scheme: str, k: int):
    """mapclassify classifier for ``scheme`` (natural breaks = Fisher–Jenks, exact and deterministic)."""
    import mapclassify

    classes = {"quantiles": mapclassify.Quantiles, "natural_breaks": mapclassify.FisherJenks,
               "equal_interval": mapclassify.EqualInterval}
    if scheme not in classes:
        raise InputError(f"unknown classification scheme '{scheme}'. Use one of: {', '.join(SCHEMES)}.")
    k = max(1, min(k, len(np.unique(values))))
    import warnings

    with warnings.catch_warnings():  # mapclassify warns when there are fewer unique values than k
        warnings.simplefilter("ignore")
        return classes[scheme](values, k=k)


def class_breaks(values, scheme: str = "quantiles", k: int = 5, diverging: bool = False) -> np.ndarray:
    """Upper class bounds (ascending; the last is the maximum) for the non-missing ``values``.

    With ``diverging=True`` zero is added as a bound when a class straddles it, so no class
    mixes negative and positive values.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise InputError("nothing to map: every value is missing. Check the column and the join.")
    bins = np.unique(np.asarray(_classifier(v, scheme, k).bins, dtype=float))
    if diverging and v.min() < 0 < v.max() and 0.0 not in bins:
        bins = np.sort(np.r_[bins, 0.0])
    return bins


def _fmt(value: float, scale: float) -> str:
    """Number formatted for a legend whose values span ``scale`` (thin space as thousands separator)."""
    if scale >= 100:
        text = f"{value:,.0f}"
    elif scale >= 10:
        text = f"{value:,.1f}"
    elif scale >= 0.1:
        text = f"{value:,.2f}"
    else:
        text = f"{value:.3g}"
    return text.replace(",", "\u2009").replace("-", "\u2212")


def _class_colours(bins: np.ndarray, values: np.ndarray, cls: np.ndarray, cmap, diverging: bool) -> list:
    """One RGBA per class: evenly spaced on ``cmap``; diverging maps are centred on zero."""
    n = len(bins)
    if not diverging:
        return [cmap(x) for x in np.linspace(0.08, 0.92, n)]
    extent = float(np.nanmax(np.abs(values))) or 1.0
    colours = []
    for c in range(n):
        members = values[cls == c]
        centre = float(np.median(members)) if members.size else (bins[c] + (bins[c - 1] if c else bins[c])) / 2
        colours.append(cmap(0.5 + 0.45 * centre / extent))
    return colours


def _name_column(gdf, name_col: str | None) -> pd.Series:
    if name_col is not None:
        require_columns(gdf.columns, [name_col], "map layer", "Pass name_col=<a column with place names>.")
        return gdf[name_col].astype(str)
    for candidate in ("name", "kommune_name", "navn", "zone_id", "kommune"):
        if candidate in gdf.columns:
            return gdf[candidate].astype(str)
    return pd.Series(gdf.index.astype(str), index=gdf.index)


def _ranking_rows(values: pd.Series, names: pd.Series, n: int, scale: float) -> tuple[list, list]:
    valid = values.dropna()
    top = valid.sort_values(ascending=False, kind="stable").head(n)
    bottom = valid.sort_values(ascending=True, kind="stable").head(n)
    rank = valid.rank(ascending=False, method="min").astype(int)
    def rows(part):
        return [[str(rank[i]), names[i][:22], _fmt(v, scale)] for i, v in part.items()]
    return rows(top), rows(bottom)


def _draw_table(ax, title: str, rows: list, unit_label: str) -> None:
    ax.set_axis_off()
    ax.set_title(title, fontsize=9, loc="left")
    if not rows:
        return
    table = ax.table(cellText=rows, colLabels=["#", "name", unit_label[:14]], loc="upper center",
                     colLoc="left", cellLoc="left", colWidths=[0.14, 0.58, 0.28])
    table.auto_set_font_size(False)
    table.set_fontsize(7.5)
    table.scale(1.0, 1.15)
    for cell in table.get_celld().values():
        cell.set_linewidth(0.3)


def _draw_layers(ax, layers, zorder: int) -> None:
    for item in layers or ():
        gdf, style = item if isinstance(item, tuple) else (item, {})
        kw = {"facecolor": "none", "edgecolor": "#555555", "linewidth": 0.6} if gdf.geom_type.isin(
            ["Polygon", "MultiPolygon"]).any() else {"color": "#555555", "linewidth": 0.5}
        kw.update(style)
        kw.setdefault("zorder", zorder)
        gdf.plot(ax=ax, **kw)


def choropleth(gdf, column: str, *, title: str, unit_label: str, scheme: str = "quantiles", k: int = 5,
               diverging: bool = False, cmap=None, ranking_table: bool = True, name_col: str | None = None,
               n_ranked: int = 10, basemap_layers: Sequence | None = None, figsize=(11.0, 7.5),
               note: str | None = None, breaks: Sequence[float] | None = None,
               class_labels: Sequence[str] | None = None, class_colours: Sequence | None = None):
    """Choropleth of ``gdf[column]`` as a matplotlib Figure.

    - classes from mapclassify (``scheme`` quantiles | natural_breaks (Fisher–Jenks) |
      equal_interval, ``k`` classes); ``diverging=True`` centres the colours on zero (Δ values,
      attractiveness) and splits a class that straddles zero;
    - the legend states n, mean and standard deviation of the mapped values and every class
      range with ``unit_label``; missing values are drawn grey as "no data";
    - ``ranking_table`` adds top-``n_ranked`` / bottom-``n_ranked`` tables beside the map, naming
      features by ``name_col`` (default: a ``name`` column, else ``zone_id``/``kommune``/index);
    - ``basemap_layers``: GeoDataFrames (or ``(gdf, style_kwargs)`` tuples) drawn on top as
      context, e.g. kommune borders or main roads;
    - ``note``: small text under the map (e.g. "synthetic data");
    - ``breaks``/``class_labels``: explicit ascending upper class bounds (instead of ``scheme``)
      and their legend labels (e.g. "no change" for a class of zeros); ``class_colours`` one
      colour per class instead of the palette.
    Polygons are filled; points are drawn as markers.
    """
    from matplotlib import colormaps
    from matplotlib.colors import to_rgba
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    require_columns(gdf.columns, [column], "map layer", "Pass the name of a numeric column to map.")
    values = pd.to_numeric(gdf[column], errors="coerce")
    if values.notna().sum() == 0:
        raise InputError(f"column '{column}' has no numeric values to map. Check the column and the join.")
    if gdf.crs is not None and gdf.crs.is_geographic:
        from centrality.crs import to_metric

        gdf = to_metric(gdf, what="map layer")
    v = values.to_numpy(dtype=float)
    finite = np.isfinite(v)
    bins = class_breaks(v[finite], scheme, k, diverging) if breaks is None else np.asarray(breaks, dtype=float)
    cls = np.full(len(v), -1)
    cls[finite] = np.minimum(np.searchsorted(bins, v[finite], side="left"), len(bins) - 1)
    cmap = colormaps[cmap or (_DIVERGING_CMAP if diverging else _SEQUENTIAL_CMAP)] if not callable(cmap) else cmap
    colours = _class_colours(bins, v, cls, cmap, diverging) if class_colours is None else list(class_colours)
    palette = np.array([to_rgba(c) for c in [*colours, NO_DATA_COLOUR]])
    face = palette[cls]  # class -1 (missing) picks the last row: no-data grey

    fig = Figure(figsize=figsize, dpi=100, layout="constrained")
    if ranking_table:
        grid = fig.add_gridspec(2, 2, width_ratios=[3.0, 1.25])
        ax = fig.add_subplot(grid[:, 0])
        ax_top, ax_bottom = fig.add_subplot(grid[0, 1]), fig.add_subplot(grid[1, 1])
    else:
        ax = fig.add_subplot(1, 1, 1)
    geoms = gdf.geometry
    is_point = geoms.geom_type.isin(["Point", "MultiPoint"]).to_numpy()
    if (~is_point).any():
        gdf[~is_point].plot(ax=ax, color=face[~is_point], edgecolor="white", linewidth=0.15)
    if is_point.any():
        gdf[is_point].plot(ax=ax, color=face[is_point], markersize=14, edgecolor="#333333", linewidth=0.2)
    _draw_layers(ax, basemap_layers, zorder=3)
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=12, loc="left")

    scale = float(np.nanmax(np.abs(v[finite]))) if finite.any() else 1.0
    lows = np.r_[np.nanmin(v[finite]), bins[:-1]]
    handles = []
    for c, (lo, hi) in enumerate(zip(lows, bins)):
        count = int((cls == c).sum())
        text = class_labels[c] if class_labels is not None else f"{_fmt(lo, scale)} – {_fmt(hi, scale)}"
        handles.append(Patch(facecolor=colours[c], edgecolor="#777777", linewidth=0.3, label=f"{text}  ({count})"))
    if (~finite).any():
        handles.append(Patch(facecolor=NO_DATA_COLOUR, edgecolor="#777777", linewidth=0.3,
                             label=f"no data  ({int((~finite).sum())})"))
    stats = (f"{unit_label}\nn = {int(finite.sum())}, mean = {_fmt(np.mean(v[finite]), scale)}, "
             f"sd = {_fmt(np.std(v[finite], ddof=1) if finite.sum() > 1 else 0.0, scale)}")
    legend = ax.legend(handles=handles, title=stats, loc="upper left", bbox_to_anchor=(0.0, 0.0), fontsize=8,
                       title_fontsize=8, frameon=False, ncols=2 if len(handles) > 4 else 1)
    legend._legend_box.align = "left"
    if note:
        fig.text(0.005, 0.005, note, fontsize=7, color="#444444", va="bottom", ha="left")
    if ranking_table:
        names = _name_column(gdf, name_col)
        top, bottom = _ranking_rows(values, names, n_ranked, scale)
        _draw_table(ax_top, f"Top {len(top)}", top, unit_label)
        _draw_table(ax_bottom, f"Bottom {len(bottom)}", bottom, unit_label)
    return fig


def save_figure(fig, path: str | os.PathLike, *, formats: Sequence[str] | None = None, dpi: int = 150) -> list[Path]:
    """Save ``fig`` atomically as PNG and/or SVG; returns the written paths.

    ``formats=None`` uses the suffix of ``path`` (``.png`` or ``.svg``); otherwise one file per
    format next to ``path`` (``formats=("png", "svg")`` writes both).
    """
    import matplotlib

    from centrality.fileio import atomic_write

    path = Path(path)
    wanted = [f.lower().lstrip(".") for f in (formats or [path.suffix])]
    bad = [f for f in wanted if f not in ("png", "svg")]
    if bad:
        raise InputError(f"cannot save a figure as '{bad[0]}' ({path}). Use a .png or .svg file name.")
    written = []
    for fmt in wanted:
        target = path.with_suffix(f".{fmt}")
        # SVG text stays text (searchable, editable); fixed hash salt = reproducible SVG ids
        with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "regio"}), atomic_write(target) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi, facecolor="white")
        written.append(target)
    return written
