"""Scenario maps: Δ choropleths whose classes cover only values that occur, with kommune names,
the edited roads, a scale bar and the data source.

Drawing goes through :func:`geoproc.plots.maps.choropleth` (explicit ``breaks`` and
``class_labels``); this module adds what is specific to road scenarios:

- :func:`delta_classes`: a "no change" class when values are exactly 0, then up to ``k_pos``
  natural-breaks classes among the gains and ``k_neg`` among the losses — each class labelled by
  the smallest and largest value that falls in it, so no class is empty and no label reads
  "0.0 – 0.0";
- names of the changed kommuner (largest |Δ| first, at most ``max_labels``), with a white halo;
- the edited links drawn on top, a scale bar (a round number of km) and a source line.
"""
from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from geoproc.plots.maps import _fmt, choropleth

EDITED_STYLE = {"color": "#7a0177", "linewidth": 2.6, "zorder": 6}


def _natural(values: np.ndarray, k: int) -> list[np.ndarray]:
    """Up to ``k`` groups of sorted ``values`` (Fisher–Jenks), each non-empty."""
    import mapclassify

    uniq = np.unique(values)
    k = int(min(k, len(uniq)))
    if k <= 1:
        return [np.sort(values)]
    bins = np.asarray(mapclassify.FisherJenks(values, k=k).bins, dtype=float)
    cls = np.searchsorted(bins, values, side="left")
    return [np.sort(values[cls == c]) for c in range(len(bins)) if (cls == c).any()]


NO_CHANGE_COLOUR = "#f2f2f2"


def delta_classes(values, k_pos: int = 4, k_neg: int = 3, zero_tol: float = 0.0) -> tuple[list, list, list]:
    """Classes for Δ values: losses, "no change", gains; every class has members.

    Parameters
    ----------
    values : array-like
        The mapped Δ values.
    k_pos, k_neg : int
        Most classes among gains and among losses (Fisher–Jenks).
    zero_tol : float
        Values within ± this are "no change".

    Returns
    -------
    tuple of list
        (upper bounds ascending, labels with the members' range, colours: reds for losses —
        darker = larger loss —, light grey for no change, blues for gains).
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    scale = float(np.max(np.abs(v))) if v.size else 1.0
    from matplotlib import colormaps

    bounds, labels, colours = [], [], []
    neg, pos = v[v < -zero_tol], v[v > zero_tol]
    groups = _natural(neg, k_neg) if neg.size else []
    for i, grp in enumerate(groups):
        bounds.append(float(grp.max()))
        labels.append(_range(grp, scale))
        colours.append(colormaps["Reds"](0.85 - 0.55 * i / max(1, len(groups) - 1) if len(groups) > 1 else 0.55))
    if (np.abs(v) <= zero_tol).any():
        bounds.append(float(zero_tol))
        labels.append("no change")
        colours.append(NO_CHANGE_COLOUR)
    groups = _natural(pos, k_pos) if pos.size else []
    for i, grp in enumerate(groups):
        bounds.append(float(grp.max()))
        labels.append(_range(grp, scale))
        colours.append(colormaps["Blues"](0.3 + 0.6 * i / max(1, len(groups) - 1) if len(groups) > 1 else 0.6))
    return bounds, labels, colours


def _value(x: float, scale: float) -> str:
    """Legend number: :func:`geoproc.plots.maps._fmt`, with two significant digits where that
    would round a non-zero value to zero."""
    text = _fmt(x, scale)
    if x != 0 and text.strip("0.\u2212-") == "":
        text = f"{x:.2g}".replace("-", "\u2212")
    return text


def _range(grp: np.ndarray, scale: float) -> str:
    lo, hi = float(grp.min()), float(grp.max())
    a, b = _value(lo, scale), _value(hi, scale)
    return a if a == b else (f"{a} to {b}" if lo < 0 else f"{a} – {b}")


def nice_length_m(width_m: float) -> float:
    """A round scale-bar length.

    Parameters
    ----------
    width_m : float
        Width of the map view (metres).

    Returns
    -------
    float
        1, 2 or 5 × 10^k metres, about a fifth of the width.
    """
    target = max(width_m / 5.0, 1.0)
    exp = 10 ** np.floor(np.log10(target))
    for m in (5, 2, 1):
        if m * exp <= target:
            return float(m * exp)
    return float(exp)


def scale_bar(ax, crs_is_metric: bool = True) -> None:
    """A black/white scale bar in the lower right corner of ``ax``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The map axes (units metres).
    crs_is_metric : bool
        Draw only for metric CRSs.
    """
    if not crs_is_metric:
        return
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = nice_length_m(x1 - x0)
    xr = x1 - 0.04 * (x1 - x0)
    yb = y0 + 0.05 * (y1 - y0)
    h = 0.012 * (y1 - y0)
    for i, colour in enumerate(("black", "white")):
        ax.add_patch(_rect(xr - length + i * length / 2, yb, length / 2, h, colour))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(xr - length / 2, yb + 1.8 * h, label, ha="center", va="bottom", fontsize=8)


def _rect(x, y, w, h, colour):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=colour, edgecolor="black", linewidth=0.6, zorder=8)


def label_places(ax, layer, column: str, name_col: str = "name", max_labels: int = 10) -> list[str]:
    """Write the names of the features with the largest |``column``| (non-zero) on ``ax``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The map axes.
    layer : geopandas.GeoDataFrame
        The mapped features.
    column : str
        The Δ column.
    name_col : str
        The name column.
    max_labels : int
        At most this many names.

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
    halo = [patheffects.withStroke(linewidth=2.4, foreground="white")]
    names = []
    for _, row in chosen.iterrows():
        p = row.geometry.representative_point()
        ax.text(p.x, p.y, str(row[name_col]), fontsize=7.5, ha="center", va="center", zorder=9, path_effects=halo)
        names.append(str(row[name_col]))
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
    bounds, labels, colours = delta_classes(layer[column].to_numpy(dtype=float))
    layers = [(edited_links, dict(EDITED_STYLE))] if edited_links is not None and len(edited_links) else None
    text = textwrap.fill(" · ".join(t for t in (note, f"Source: {source}" if source else "") if t), 150)
    fig = choropleth(layer, column, title=title, unit_label=unit_label, diverging=True, ranking_table=False,
                     basemap_layers=layers, breaks=bounds, class_labels=labels, class_colours=colours,
                     figsize=figsize, note=text or None)
    ax = fig.axes[0]
    old = ax.get_legend()
    title = "\n".join(textwrap.fill(line, 30) for line in old.get_title().get_text().split("\n"))
    leg = ax.legend(handles=old.legend_handles, labels=[t.get_text() for t in old.texts], title=title, loc="upper left", bbox_to_anchor=(1.0, 1.0),
                    fontsize=8, title_fontsize=8, frameon=False)
    leg._legend_box.align = "left"
    fig.set_layout_engine(None)                 # room on the right for the legend
    ax.set_position([0.01, 0.05, 0.70, 0.87])
    label_places(ax, layer, column, label_col)
    crs = getattr(layer, "crs", None)
    scale_bar(ax, crs is None or not crs.is_geographic)
    if layers:
        from matplotlib.lines import Line2D

        ax.add_artist(leg)
        ax.legend(handles=[Line2D([0], [0], **{k: v for k, v in EDITED_STYLE.items() if k != "zorder"},
                                  label="edited road links")], loc="lower left", bbox_to_anchor=(1.0, 0.0),
                  fontsize=8, frameon=False)
    return fig
