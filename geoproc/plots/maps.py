"""Choropleth maps with class legend (n, mean, sd, classes with units) and top/bottom-10 tables.

matplotlib is imported lazily and only through :class:`matplotlib.figure.Figure` (no pyplot, no
global backend switch), so importing this module is cheap and safe inside QGIS; figures render
with the Agg canvas. Class breaks come from mapclassify.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from centrality.crs import to_metric
from centrality.errors import InputError, require_columns
from centrality.fileio import atomic_write
import geoproc.plots.classes as C

SCHEMES = ("quantiles", "natural_breaks", "equal_interval")
NO_DATA_COLOUR = "#d9d9d9"
_SEQUENTIAL_CMAP = "YlGnBu"
_DIVERGING_CMAP = "RdBu"  # red = below zero, blue = above zero
NEUTRAL_COLOUR = "#f7f7f7"


def _classifier(values: np.ndarray, scheme: str, k: int):
    """mapclassify classifier for ``scheme`` (natural breaks = Fisher–Jenks, exact and deterministic)."""
    import mapclassify

    classes = {"quantiles": mapclassify.Quantiles, "natural_breaks": mapclassify.FisherJenks,
               "equal_interval": mapclassify.EqualInterval}
    if scheme not in classes:
        raise InputError(f"unknown classification scheme '{scheme}'. Use one of: {', '.join(SCHEMES)}.")
    k = max(1, min(k, len(np.unique(values))))
    with warnings.catch_warnings():  # mapclassify warns when there are fewer unique values than k
        warnings.simplefilter("ignore")
        return classes[scheme](values, k=k)


def class_breaks(values, scheme: str = "quantiles", k: int = 5, diverging: bool = False) -> np.ndarray:
    """Upper class bounds (ascending; the last is the maximum) for the non-missing ``values``.

    Parameters
    ----------
    values : array-like
        Values to classify (any unit; missing values are ignored).
    scheme : {"quantiles", "natural_breaks", "equal_interval"}, default "quantiles"
        mapclassify scheme (natural breaks = Fisher–Jenks).
    k : int, default 5
        Number of classes (fewer when there are fewer distinct values).
    diverging : bool, default False
        Add 0 as a bound when a class straddles it, so no class mixes negative and positive values.

    Returns
    -------
    numpy.ndarray
        Ascending upper bounds in the unit of ``values``.
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
    return C.fmt_number(value, C.decimals_for(scale))


def _name_column(gdf, name_col: str | None) -> pd.Series:
    """Names for tables: ``name_col``, else a name column, else a unique id; never a code that repeats
    (the kommune of a zone would list "9901" ten times)."""
    if name_col is not None:
        require_columns(gdf.columns, [name_col], "map layer", "Pass name_col=<a column with place names>.")
        return gdf[name_col].astype(str)
    lower = {str(c).lower(): c for c in gdf.columns}
    for candidate in ("name", "kommune_name", "kommunenavn", "navn"):
        if candidate in lower:
            return gdf[lower[candidate]].astype(str)
    for candidate in ("zone_id", "id", "kommune", "kommunenummer"):
        if candidate in lower and gdf[lower[candidate]].is_unique:
            return gdf[lower[candidate]].astype(str)
    return pd.Series(gdf.index.astype(str), index=gdf.index)


def _ranking_rows(values: pd.Series, names: pd.Series, n: int, scale: float) -> tuple[list, list]:
    valid = values.dropna()
    top = valid.sort_values(ascending=False, kind="stable").head(n)
    bottom = valid.sort_values(ascending=True, kind="stable").head(n)
    rank = valid.rank(ascending=False, method="min").astype(int)

    def short(text: str, width: int = 24) -> str:
        return text if len(text) <= width else text[: width - 1] + "…"

    def rows(part):
        return [[str(rank[i]), short(names[i]), _fmt(v, scale)] for i, v in part.items()]
    return rows(top), rows(bottom)


def _draw_table(ax, title: str, rows: list, value_label: str) -> None:
    ax.set_axis_off()
    ax.set_title(title, fontsize=9, loc="left", fontweight="bold")
    if not rows:
        return
    table = ax.table(cellText=rows, colLabels=["#", "Name", value_label], loc="upper left",
                     cellLoc="left", colWidths=[0.13, 0.60, 0.27], edges="horizontal")
    table.auto_set_font_size(False)
    table.set_fontsize(7.5)
    table.scale(1.0, 1.05)
    for (r, c), cell in table.get_celld().items():
        cell.set_linewidth(0.3)
        cell.set_edgecolor("#bbbbbb")
        cell.PAD = 0.04
        if c == 2:
            cell.get_text().set_horizontalalignment("right")
            cell._loc = "right"
        elif c == 1:
            cell.get_text().set_horizontalalignment("left")
            cell._loc = "left"
        if r == 0:
            cell.get_text().set_fontweight("bold")


def _draw_layers(ax, layers, zorder: int) -> None:
    for item in layers or ():
        gdf, style = item if isinstance(item, tuple) else (item, {})
        kw = {"facecolor": "none", "edgecolor": "#555555", "linewidth": 0.6} if gdf.geom_type.isin(
            ["Polygon", "MultiPolygon"]).any() else {"color": "#555555", "linewidth": 0.5}
        kw.update(style)
        kw.setdefault("zorder", zorder)
        gdf.plot(ax=ax, **kw)


def add_scale_bar(ax, metres_per_unit: float = 1.0) -> None:
    """Add a scale bar (lower left, km or m) to a map axis.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Map axis in a projected CRS.
    metres_per_unit : float, default 1.0
        Metres per axis unit (1 for UTM / EPSG:25833).
    """
    from matplotlib.patches import Rectangle

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length_m = C.nice_length((x1 - x0) * metres_per_unit / 5.0)
    label = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:g} m"
    left, bottom = x0 + 0.03 * (x1 - x0), y0 + 0.03 * (y1 - y0)
    ax.add_patch(Rectangle((left, bottom), length_m / metres_per_unit, 0.006 * (y1 - y0), facecolor="black",
                           edgecolor="black", linewidth=0.5, zorder=6, gid="scale-bar"))
    ax.text(left + length_m / metres_per_unit / 2, bottom + 0.015 * (y1 - y0), label, ha="center", va="bottom",
            fontsize=7.5, zorder=6, bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 1.0})


def add_north_arrow(ax) -> None:
    """Add a north arrow in the upper right corner of a north-up map.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Map axis (projected CRS, north up).
    """
    ax.annotate("N", xy=(0.965, 0.97), xytext=(0.965, 0.88), xycoords="axes fraction", ha="center", va="center",
                fontsize=9, fontweight="bold",
                arrowprops={"facecolor": "black", "edgecolor": "black", "width": 2.5, "headwidth": 8, "headlength": 8})


def choropleth(gdf, column: str, *, title: str, unit_label: str, scheme: str | None = None, k: int = 5,
               diverging: bool = False, cmap=None, ranking_table: bool = True, name_col: str | None = None,
               n_ranked: int = 10, basemap_layers: Sequence | None = None, figsize=(12.0, 7.5),
               note: str | None = None, source: str | None = None, value_label: str | None = None,
               breaks: Sequence[float] | None = None, class_labels: Sequence[str] | None = None,
               class_colours: Sequence | None = None, scale_bar: bool = True, diverging_shades: str = "rank"):
    """Choropleth of ``gdf[column]`` as a matplotlib Figure.

    - classes (:mod:`geoproc.plots.classes`): ``scheme`` "ssb" (the SSB centrality classes 1–6;
      the default for ``column="index"``), "quantiles" (default otherwise), "natural_breaks"
      (Fisher–Jenks) or "equal_interval", ``k`` classes; ``diverging=True`` centres the colours on
      zero with classes only where values occur (reds below, blues above, Δ values and
      attractiveness);
    - the legend is titled ``unit_label`` and states n, mean and standard deviation; every class
      range with its count; missing values are drawn grey as "no data";
    - ``ranking_table`` adds top-``n_ranked`` / bottom-``n_ranked`` tables beside the map, naming
      features by ``name_col`` (default: a name column, else a unique id — never a repeated code);
      the value column is headed ``value_label`` (default: a short form of ``unit_label``);
    - a scale bar (km) and a north arrow on projected maps; ``basemap_layers``: GeoDataFrames (or
      ``(gdf, style_kwargs)`` tuples) drawn on top as context;
    - ``note``: what the numbers rest on, shown in the source line under the map (``source``
      replaces the whole line);
    - ``breaks``/``class_labels``: explicit ascending upper class bounds (instead of ``scheme``)
      and their legend labels; ``class_colours`` one colour per class instead of the palette.
    Polygons are filled with thin outlines; points are drawn as markers. Without the tables the
    legend sits on the map axis, right of the map.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Polygons or points; a geographic CRS is projected to a metric one for drawing.
    column : str
        Numeric column to map.
    title : str
        Figure title (no unit; the unit belongs in ``unit_label``).
    unit_label : str
        Legend title naming the unit, e.g. "index (0–1000)" or "% of population".
    scheme : {"ssb", "quantiles", "natural_breaks", "equal_interval"}, optional
        Classification (default "ssb" for ``column="index"``, else "quantiles").
    k : int, default 5
        Number of classes (diverging maps use at least 6, up to 3 per side of 0).
    diverging : bool, default False
        Centre the colours on zero (Δ values, attractiveness).
    cmap : str or Colormap, optional
        Sequential colormap (default YlGnBu) or, for diverging maps, a diverging one.
    ranking_table : bool, default True
        Add the top / bottom tables.
    name_col : str, optional
        Column naming the features in the tables.
    n_ranked : int, default 10
        Rows per table.
    basemap_layers : sequence, optional
        Context layers drawn on top.
    figsize : tuple of float, default (12.0, 7.5)
        Figure size in inches.
    note : str, optional
        What the numbers rest on (source line).
    source : str, optional
        The complete source line instead of ``note`` + "Map: regio-toolkit".
    value_label : str, optional
        Header of the value column of the tables.
    breaks : sequence of float, optional
        Ascending upper class bounds (unit of ``column``), replacing ``scheme``.
    class_labels : sequence of str, optional
        Legend label per class (with ``breaks``).
    class_colours : sequence, optional
        Matplotlib colour per class.
    scale_bar : bool, default True
        Draw the scale bar on projected maps (the north arrow is always drawn on them).
    diverging_shades : {"rank", "magnitude"}, default "rank"
        Shades of a diverging map (``shade_by`` of :func:`geoproc.plots.classes.diverging_bins`).

    Returns
    -------
    matplotlib.figure.Figure
        The map (Agg canvas; save it with :func:`save_figure`).
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
        gdf = to_metric(gdf, what="map layer")
    scheme = scheme or ("ssb" if column == "index" and not diverging else "quantiles")
    if scheme not in (*SCHEMES, "ssb"):
        raise InputError(f"unknown classification scheme '{scheme}'. Use one of: ssb, {', '.join(SCHEMES)}.")
    v = values.to_numpy(dtype=float)
    finite = np.isfinite(v)

    def break_fn(vals, kk):
        return list(class_breaks(vals, scheme, kk))

    if breaks is not None:
        ups = [float(b) for b in breaks]
        lows = [float(np.min(v[finite]))] + ups[:-1]
        d = C.decimals_for(float(np.max(np.abs(v[finite]))))
        bins = [C.ClassBin(lo, hi, class_labels[i] if class_labels is not None else
                           f"{C.fmt_bound(lo, d)} – {C.fmt_bound(hi, d)}", 1, i / max(len(ups) - 1, 1))
                for i, (lo, hi) in enumerate(zip(lows, ups))]
    elif scheme == "ssb":
        bins = C.ssb_bins(v[finite])
    elif diverging:
        bins = C.diverging_bins(v[finite], max(k, 6), break_fn, shade_by=diverging_shades)  # up to 3 per side of 0
    else:
        bins = C.sequential_bins(v[finite], k, break_fn)
    cls = C.classify(v, bins)
    if diverging:
        neg = colormaps[cmap] if isinstance(cmap, str) else None
        below, above = colormaps["Reds"], colormaps["Blues"]
        colours = [NEUTRAL_COLOUR if b.side == 0 else (below if b.side < 0 else above)(0.25 + 0.65 * b.shade)
                   for b in bins]
        if neg is not None:  # an explicit diverging colormap: centred on its middle
            colours = [neg(0.5 + 0.45 * b.side * max(b.shade, 0.15)) if b.side else neg(0.5) for b in bins]
    else:
        seq = colormaps[cmap or _SEQUENTIAL_CMAP] if not callable(cmap) else cmap
        colours = [seq(0.08 + 0.84 * b.shade) for b in bins]
    if class_colours is not None:
        colours = list(class_colours)
    palette = np.array([to_rgba(c) for c in [*colours, NO_DATA_COLOUR]])
    face = palette[cls]  # class -1 (missing) picks the last row: no-data grey

    fig = Figure(figsize=figsize, dpi=100, layout="constrained")
    fig.get_layout_engine().set(w_pad=0.05, h_pad=0.05)
    if ranking_table:
        grid = fig.add_gridspec(2, 3, width_ratios=[3.1, 0.9, 0.9], height_ratios=[0.6, 1.4])
        ax = fig.add_subplot(grid[:, 0])
        ax_legend = fig.add_subplot(grid[0, 1:])
        ax_top, ax_bottom = fig.add_subplot(grid[1, 1]), fig.add_subplot(grid[1, 2])
    else:
        ax = ax_legend = fig.add_subplot(1, 1, 1)
    geoms = gdf.geometry
    is_point = geoms.geom_type.isin(["Point", "MultiPoint"]).to_numpy()
    if (~is_point).any():
        gdf[~is_point].plot(ax=ax, color=face[~is_point], edgecolor="#6e6e6e", linewidth=0.12)
    if is_point.any():
        gdf[is_point].plot(ax=ax, color=face[is_point], markersize=14, edgecolor="#333333", linewidth=0.2)
    _draw_layers(ax, basemap_layers, zorder=3)
    ax.set_axis_off()
    ax.set_aspect("equal")
    if gdf.crs is not None and not gdf.crs.is_geographic:
        if scale_bar:
            add_scale_bar(ax)
        add_north_arrow(ax)
    fig.suptitle(title, x=0.01, ha="left", fontsize=13, fontweight="bold")

    scale = float(np.nanmax(np.abs(v[finite]))) if finite.any() else 1.0
    handles = []
    for c, b in enumerate(bins):
        count = int((cls == c).sum())
        handles.append(Patch(facecolor=colours[c], edgecolor="#777777", linewidth=0.3, label=f"{b.label}  ({count})"))
    if (~finite).any():
        handles.append(Patch(facecolor=NO_DATA_COLOUR, edgecolor="#777777", linewidth=0.3,
                             label=f"no data  ({int((~finite).sum())})"))
    stats = (f"{unit_label}\nn = {int(finite.sum())}, mean = {_fmt(np.mean(v[finite]), scale)}, "
             f"sd = {_fmt(np.std(v[finite], ddof=1) if finite.sum() > 1 else 0.0, scale)}")
    ax_legend.set_axis_off()
    anchor = {} if ranking_table else {"bbox_to_anchor": (1.01, 1.0)}  # beside the map on its own axis
    legend = ax_legend.legend(handles=handles, title=stats, loc="upper left", fontsize=8, title_fontsize=8.5,
                              frameon=False, borderaxespad=0.0, **anchor)
    legend._legend_box.align = "left"
    line = source if source is not None else "   ·   ".join(x for x in (note, "Map: regio-toolkit") if x)
    fig.text(0.01, 0.005, line, fontsize=7, color="#444444", va="bottom", ha="left", wrap=True)
    if ranking_table:
        names = _name_column(gdf, name_col)
        top, bottom = _ranking_rows(values, names, n_ranked, scale)
        header = value_label or _short_label(unit_label)
        _draw_table(ax_top, f"Top {len(top)}", top, header)
        _draw_table(ax_bottom, f"Bottom {len(bottom)}", bottom, header)
    return fig


def _short_label(unit_label: str, width: int = 11) -> str:
    """A table header from a unit label without cutting words ("% of population" -> "% of pop.")."""
    text = unit_label.split(" (")[0].strip()
    for long, short in (("population", "pop."), ("persons", "pers."), ("index points", "points"),
                        ("per year", "/yr"), ("jobs", "jobs")):
        if len(text) > width:
            text = text.replace(long, short)
    text = text if len(text) <= width else "value"
    return text[:1].upper() + text[1:]


def save_figure(fig, path: str | os.PathLike, *, formats: Sequence[str] | None = None, dpi: int = 150) -> list[Path]:
    """Save ``fig`` atomically as PNG and/or SVG.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : str or os.PathLike
        Target file; with ``formats`` its suffix is replaced by each format.
    formats : sequence of str, optional
        "png" and/or "svg" (default: the suffix of ``path``).
    dpi : int, default 150
        Resolution of PNG files, dots per inch.

    Returns
    -------
    list of pathlib.Path
        The written files.
    """
    import matplotlib

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
