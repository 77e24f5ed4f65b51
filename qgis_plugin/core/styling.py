"""Styling of Regio output layers, stored with the data, and the PNG map export.

- **Choropleths**: the centrality index in the SSB classes 1–6 (classification 128, the class
  bounds of :mod:`centrality.index`) or quantiles / natural breaks; other accessibility values
  sequential (light -> dark); differences (Δ) and attractiveness diverging around 0 with classes
  only where values occur (red below, blue above, the same number of steps out from the neutral
  zero on both sides; a "no change" class only when there are zeros).
- **Thin outlines** (0.1 mm, grey) so small zones stay visible; **labels** with names (kommune
  layers always, zone layers only when zoomed in); **field formats** (aliases with units and
  display precision: stored values stay exact, the attribute table shows 1 234 not 1234.2703…).
- **Stored with the data**: :func:`store_style` writes the style as the default style of a
  GeoPackage layer (its ``layer_styles`` table), so an output written by ``qgis_process`` opens
  styled; :class:`StylePostProcessor` styles outputs QGIS loads (also memory layers).
- :func:`export_map_png`: a print layout with the map, legend (title with unit, n/mean/sd), scale
  bar, north arrow, source line and top-10 / bottom-10 tables with names.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from qgis.core import (
    QgsClassificationJenks,
    QgsClassificationQuantile,
    QgsEditorWidgetSetup,
    QgsFillSymbol,
    QgsGradientColorRamp,
    QgsGraduatedSymbolRenderer,
    QgsLineSymbol,
    QgsMarkerSymbol,
    QgsPalLayerSettings,
    QgsProcessingLayerPostProcessorInterface,
    QgsRendererRange,
    QgsSingleSymbolRenderer,
    QgsTextBufferSettings,
    QgsTextFormat,
    QgsVectorLayer,
    QgsVectorLayerSimpleLabeling,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QRectF, QSize, Qt
from qgis.PyQt.QtGui import QColor, QFont

from geoproc.plots.classes import decimals_for, fmt_number, nice_length

# ColorBrewer YlGnBu (6, sequential light -> dark) and RdBu (diverging, red negative / blue positive)
SEQUENTIAL_COLOURS = ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494")
DIVERGING_NEGATIVE = "#b2182b"
DIVERGING_NEUTRAL = "#f7f7f7"
DIVERGING_POSITIVE = "#2166ac"
OUTLINE = "110,110,110,150"  # thin grey, half transparent
LEGEND_TITLE_PROPERTY = "regio/legend_title"
VALUE_LABEL_PROPERTY = "regio/value_label"
NOTE_PROPERTY = "regio/note"
STYLE_NAME = "Regio"
NAME_FIELDS = ("name", "navn", "kommunenavn", "kommune_name", "kommunenavn_2020")
MANY_FEATURES = 60  # more polygons than this: labels only when zoomed in
ZOOMED_IN_SCALE = 150_000  # labels of zone layers from 1:150 000 inwards


@dataclass(frozen=True)
class LayerStyle:
    """How one output layer is drawn.

    ``kind``: "ssb" (index in SSB classes 1–6), "sequential", "diverging", "lines" (network links
    by speed), "changed_links" (scenario edits) or "plain". ``title``: legend title with the unit
    ("Centrality index (0–1000)"); ``value_label``: short column header for tables ("Index").
    ``mode``: "quantile" or "jenks" for sequential/diverging classes; ``classes``: their number.
    ``note``: what the numbers rest on (e.g. "synthetic data"), shown under exported maps.
    """

    field: str
    kind: str
    title: str
    value_label: str = ""
    mode: str = "quantile"
    classes: int = 5
    note: str = ""


# Output fields the algorithms style: field -> style (title names the unit)
FIELD_STYLES: dict[str, LayerStyle] = {
    "index": LayerStyle("index", "ssb", "Centrality index (0–1000)", "Index"),
    "access_decay": LayerStyle("access_decay", "sequential", "Decay-weighted jobs reachable (jobs)", "Jobs"),
    "delta_index": LayerStyle("delta_index", "diverging", "Δ centrality index (index points)", "Δ index",
                              mode="jenks", classes=6),
    "delta_access_decay": LayerStyle("delta_access_decay", "diverging", "Δ decay-weighted jobs (jobs)", "Δ jobs",
                                     classes=6),
    "delta_migrants_per_year": LayerStyle("delta_migrants_per_year", "diverging",
                                          "Δ expected net migration (persons per year)", "Δ persons/yr", classes=6),
    "delta_population": LayerStyle("delta_population", "diverging", "Δ population by the end year (persons)",
                                   "Δ persons", classes=6),
    "attractiveness_pct": LayerStyle("attractiveness_pct", "diverging",
                                     "Residential attractiveness, cumulative (% of population)", "% of pop.",
                                     mode="jenks", classes=6),
    "attractiveness": LayerStyle("attractiveness", "diverging", "Residential attractiveness (share of population "
                                 "per year)", "Share/yr", classes=6),
}

# display formats: exact field name or regex -> (alias, decimals)
FIELD_FORMATS: list[tuple[str, str, int]] = [
    ("population", "Population (persons)", 0),
    ("jobs", "Jobs (by place of work)", 0),
    (r"jobs_(\d+)min", "Jobs within {0} min", 0),
    (r"jobs_(\d+)min_base", "Jobs within {0} min, today", 0),
    (r"jobs_(\d+)min_scen", "Jobs within {0} min, scenario", 0),
    (r"delta_jobs_(\d+)min", "Δ jobs within {0} min", 0),
    ("access_decay", "Decay-weighted jobs", 0),
    ("access_decay_base", "Decay-weighted jobs, today", 0),
    ("access_decay_scen", "Decay-weighted jobs, scenario", 0),
    ("delta_access_decay", "Δ decay-weighted jobs", 1),
    ("index", "Centrality index (0–1000)", 1),
    ("index_base", "Centrality index, today", 1),
    ("index_scen", "Centrality index, scenario", 1),
    ("delta_index", "Δ centrality index (points)", 2),
    ("centrality_class", "SSB centrality class (1 = most central)", 0),
    ("delta_migrants_per_year", "Δ net migration (persons/year)", 1),
    ("delta_migrants_low", "Δ net migration, 95 % low (persons/year)", 1),
    ("delta_migrants_high", "Δ net migration, 95 % high (persons/year)", 1),
    ("delta_population", "Δ population by the end year (persons)", 0),
    ("delta_population_low", "Δ population, 95 % low", 0),
    ("delta_population_high", "Δ population, 95 % high", 0),
    ("nm_actual", "Net migration (share of population/year)", 4),
    ("nm_expected", "Expected net migration (share/year)", 4),
    ("attractiveness", "Attractiveness (share of population/year)", 4),
    ("attractiveness_pct", "Attractiveness, cumulative (% of population)", 2),
    (r".*_persons_per_year", "", 1),
    ("sentny", "sentny (index/1000, centred)", 3),
    ("minutes", "Travel time (minutes)", 1),
    ("length_m", "Length (m)", 0),
    (r"time_(fw|bw)_s(_base|_scen)?", "", 1),
    (r"time_(fw|bw)_min", "", 2),
    ("speed_kmh", "Speed (km/h)", 0),
    ("snap_m", "Distance zone point – road (m)", 0),
    ("access_min", "Access time zone point – road (min)", 1),
    ("point_x", "", 0),
    ("point_y", "", 0),
    (r"vra_t\d?", "", 4),
    ("ds", "Demographic supply DS (fraction)", 4),
]


# ---------------------------------------------------------------------------------------------- values
def _values(layer: QgsVectorLayer, field: str) -> np.ndarray:
    idx = layer.fields().indexFromName(field)
    if idx < 0:
        names = ", ".join(f.name() for f in layer.fields())
        raise ValueError(f"layer '{layer.name()}' has no field '{field}'; available: {names}")
    vals = [f.attributes()[idx] for f in layer.getFeatures()]
    out = np.array([float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else np.nan for v in vals])
    return out[np.isfinite(out)]


def _method(mode: str):
    if mode == "quantile":
        return QgsClassificationQuantile()
    if mode == "jenks":
        return QgsClassificationJenks()
    raise ValueError(f"unknown classification mode '{mode}'; use 'quantile' or 'jenks'")


def _qgis_breaks(mode: str):
    """Break function for geoproc.plots.classes: QGIS's own quantile / Jenks upper bounds."""
    def breaks(values: np.ndarray, k: int) -> list[float]:
        return [float(r.upperBound()) for r in _method(mode).classes(values.tolist(), k)]

    return breaks


def _ramp(colours) -> QgsGradientColorRamp:
    from qgis.core import QgsGradientStop

    ramp = QgsGradientColorRamp(QColor(colours[0]), QColor(colours[-1]))
    ramp.setStops([QgsGradientStop(i / (len(colours) - 1), QColor(c)) for i, c in enumerate(colours)][1:-1])
    return ramp


def _ranges(bins, kind: str):
    """(lower, upper, colour, label) for the renderer from :class:`geoproc.plots.classes.ClassBin` s:
    the SSB palette by class, the sequential ramp by shade, reds below / blues above zero."""
    seq = _ramp(SEQUENTIAL_COLOURS)
    neg = QgsGradientColorRamp(QColor(DIVERGING_NEUTRAL), QColor(DIVERGING_NEGATIVE))
    pos = QgsGradientColorRamp(QColor(DIVERGING_NEUTRAL), QColor(DIVERGING_POSITIVE))
    out = []
    for i, b in enumerate(bins):
        if kind == "ssb":
            colour = SEQUENTIAL_COLOURS[i]
        elif kind == "sequential":
            colour = seq.color(b.shade).name()
        elif b.side == 0:
            colour = DIVERGING_NEUTRAL
        else:
            colour = (neg if b.side < 0 else pos).color(0.25 + 0.75 * b.shade).name()
        out.append((b.lower, b.upper, colour, b.label))
    return out


def ssb_ranges(values: np.ndarray):
    """SSB classes 6 (least central) .. 1 (most central) as (lower, upper, colour, label), ascending."""
    from geoproc.plots.classes import ssb_bins

    return _ranges(ssb_bins(values), "ssb")


def sequential_ranges(values: np.ndarray, mode: str = "quantile", classes: int = 5):
    """(lower, upper, colour, label) of ``classes`` classes light -> dark (QGIS's quantiles / Jenks)."""
    from geoproc.plots.classes import sequential_bins

    return _ranges(sequential_bins(values, classes, _qgis_breaks(mode)), "sequential")


def diverging_ranges(values: np.ndarray, mode: str = "quantile", classes: int = 6):
    """(lower, upper, colour, label) centred on 0 with classes only where values occur
    (:func:`geoproc.plots.classes.diverging_bins`), reds below 0 and blues above."""
    from geoproc.plots.classes import diverging_bins

    return _ranges(diverging_bins(values, classes, _qgis_breaks(mode)), "diverging")


# ---------------------------------------------------------------------------------------------- symbols
def thin_symbol(geometry_type, colour: str):
    """Fill with a 0.1 mm grey outline, a small circle with a hairline, or a 0.4 mm line."""
    if geometry_type == QgsWkbTypes.PolygonGeometry:
        return QgsFillSymbol.createSimple({"color": colour, "outline_color": OUTLINE, "outline_width": "0.1",
                                           "outline_width_unit": "MM"})
    if geometry_type == QgsWkbTypes.PointGeometry:
        return QgsMarkerSymbol.createSimple({"name": "circle", "color": colour, "size": "2.0",
                                             "outline_color": "60,60,60,200", "outline_width": "0.1"})
    return QgsLineSymbol.createSimple({"color": colour, "width": "0.4", "capstyle": "round"})


def _graduated(layer: QgsVectorLayer, field: str, ranges, mode: str | None) -> QgsGraduatedSymbolRenderer:
    geom = layer.geometryType()
    items = [QgsRendererRange(lo, hi, thin_symbol(geom, colour), label) for lo, hi, colour, label in ranges]
    renderer = QgsGraduatedSymbolRenderer(field, items)
    if mode is not None:
        renderer.setClassificationMethod(_method(mode))
    return renderer


def _link_renderer(layer: QgsVectorLayer, field: str):
    """Network links: colour by speed (km/h), width by speed, ferries dashed blue."""
    from qgis.core import QgsRuleBasedRenderer

    root = QgsRuleBasedRenderer.Rule(None)
    has_kind = layer.fields().indexFromName("kind") >= 0
    bins = ((0, 50, "#bdbdbd", 0.25, "< 50 km/h"), (50, 70, "#fdae61", 0.35, "50–69 km/h"),
            (70, 90, "#f46d43", 0.5, "70–89 km/h"), (90, 1000, "#a50026", 0.8, "90 km/h and more"))
    road = "\"kind\" <> 'ferry' AND " if has_kind else ""
    for lo, hi, colour, width, label in bins:
        sym = QgsLineSymbol.createSimple({"color": colour, "width": str(width), "capstyle": "round"})
        root.appendChild(QgsRuleBasedRenderer.Rule(sym, 0, 0, f"{road}\"{field}\" >= {lo} AND \"{field}\" < {hi}", label))
    if has_kind:
        ferry = QgsLineSymbol.createSimple({"color": "#2166ac", "width": "0.5", "line_style": "dash"})
        root.appendChild(QgsRuleBasedRenderer.Rule(ferry, 0, 0, "\"kind\" = 'ferry'", "ferry"))
    return QgsRuleBasedRenderer(root)


def _changed_links_renderer():
    sym = QgsLineSymbol.createSimple({"color": "#ffffff", "width": "1.6", "capstyle": "round"})
    top = QgsLineSymbol.createSimple({"color": "#b2182b", "width": "1.0", "capstyle": "round"})
    sym.appendSymbolLayer(top.symbolLayer(0).clone())
    return QgsSingleSymbolRenderer(sym)


def name_field(layer: QgsVectorLayer) -> str | None:
    """The layer's name field (name, navn, kommunenavn, …), or None."""
    names = {f.name().lower(): f.name() for f in layer.fields()}
    return next((names[n] for n in NAME_FIELDS if n in names), None)


def apply_labels(layer: QgsVectorLayer, field: str | None = None) -> bool:
    """Label features with their names (zone layers with many features only when zoomed in)."""
    field = field or name_field(layer)
    if field is None or layer.geometryType() not in (QgsWkbTypes.PolygonGeometry, QgsWkbTypes.PointGeometry):
        return False
    settings = QgsPalLayerSettings()
    settings.fieldName = field
    fmt = QgsTextFormat()
    font = QFont("Sans")
    fmt.setFont(font)
    fmt.setSize(7.5)
    fmt.setColor(QColor("#222222"))
    buffer = QgsTextBufferSettings()
    buffer.setEnabled(True)
    buffer.setSize(0.6)
    buffer.setColor(QColor(255, 255, 255, 210))
    fmt.setBuffer(buffer)
    settings.setFormat(fmt)
    if layer.geometryType() == QgsWkbTypes.PolygonGeometry:
        settings.placement = QgsPalLayerSettings.OverPoint
        settings.fitInPolygonOnly = False
    else:
        settings.placement = QgsPalLayerSettings.OrderedPositionsAroundPoint
    if layer.featureCount() > MANY_FEATURES:
        settings.scaleVisibility = True
        settings.minimumScale = ZOOMED_IN_SCALE  # visible from 1:150 000 inwards
        settings.maximumScale = 0
    layer.setLabeling(QgsVectorLayerSimpleLabeling(settings))
    layer.setLabelsEnabled(True)
    return True


def _format_for(name: str) -> tuple[str, int] | None:
    for pattern, alias, decimals in FIELD_FORMATS:
        m = re.fullmatch(pattern, name)
        if m:
            return alias.format(*m.groups()) if alias else "", decimals
    return None


def apply_field_formats(layer: QgsVectorLayer) -> None:
    """Aliases with units and display precision for the known (and any other real) fields."""
    for i, f in enumerate(layer.fields()):
        if not f.isNumeric():
            continue
        known = _format_for(f.name())
        if known is None:
            if f.type() not in (6,):  # QVariant.Double only; integers need no precision
                continue
            vals = _values(layer, f.name())
            alias, decimals = "", decimals_for(float(np.percentile(np.abs(vals), 95)) if vals.size else 0.0)
        else:
            alias, decimals = known
        if alias:
            layer.setFieldAlias(i, alias)
        layer.setEditorWidgetSetup(i, QgsEditorWidgetSetup("Range", {
            "Precision": decimals, "Style": "SpinBox", "AllowNull": True, "Min": -1e15, "Max": 1e15,
            "Step": 10 ** -decimals if decimals else 1}))


def apply_style(layer: QgsVectorLayer, style: LayerStyle):
    """Style ``layer`` as ``style`` says (renderer, labels, field formats, legend title); return the renderer."""
    if layer.fields().indexFromName(style.field) < 0 and style.kind not in ("changed_links", "plain"):
        names = ", ".join(f.name() for f in layer.fields())
        raise ValueError(f"layer '{layer.name()}' has no field '{style.field}'; available: {names}")
    if style.kind == "lines":
        renderer = _link_renderer(layer, style.field)
    elif style.kind == "changed_links":
        renderer = _changed_links_renderer()
    elif style.kind == "plain":
        renderer = QgsSingleSymbolRenderer(thin_symbol(layer.geometryType(), "#9ecae1"))
    else:
        values = _values(layer, style.field)
        if values.size == 0:
            raise ValueError(f"field '{style.field}' of layer '{layer.name()}' has no numeric values to classify")
        if style.kind == "ssb":
            renderer = _graduated(layer, style.field, ssb_ranges(values), None)
        elif style.kind == "sequential":
            renderer = _graduated(layer, style.field, sequential_ranges(values, style.mode, style.classes), style.mode)
        elif style.kind == "diverging":
            renderer = _graduated(layer, style.field, diverging_ranges(values, style.mode, style.classes), style.mode)
        else:
            raise ValueError(f"unknown style kind '{style.kind}'")
    layer.setRenderer(renderer)
    if layer.geometryType() != QgsWkbTypes.LineGeometry:
        apply_labels(layer)
    apply_field_formats(layer)
    layer.setCustomProperty(LEGEND_TITLE_PROPERTY, style.title)
    layer.setCustomProperty(VALUE_LABEL_PROPERTY, style.value_label or style.field)
    if style.note:
        layer.setCustomProperty(NOTE_PROPERTY, style.note)
    layer.setTitle(style.title)
    layer.triggerRepaint()
    return renderer


def apply_graduated_style(layer: QgsVectorLayer, field: str, *, mode: str = "quantile", classes: int = 5,
                          kind: str = "sequential", unit: str = ""):
    """Choropleth of ``field`` (``kind`` "ssb", "sequential" or "diverging"); legend title "field (unit)"."""
    base = FIELD_STYLES.get(field)
    title = base.title if base is not None and not unit else (f"{field} ({unit})" if unit else field)
    return apply_style(layer, LayerStyle(field, kind, title, base.value_label if base else field, mode, classes))


def style_for(name: str, **changes) -> LayerStyle:
    """The style of a known output field (FIELD_STYLES), with ``changes`` applied."""
    return replace(FIELD_STYLES[name], **changes)


# ---------------------------------------------------------------------------------------------- storage
def store_style(uri: str, style: LayerStyle) -> str:
    """Write ``style`` as the default style into the GeoPackage layer ``uri``; return an error or "".

    Non-GeoPackage outputs (memory layers, shapefiles …) are left alone (returns a reason).
    """
    layer = QgsVectorLayer(uri, "output", "ogr")
    if not layer.isValid():
        return f"cannot open '{uri}' to store its style"
    if layer.dataProvider().storageType().upper() != "GPKG":
        return f"'{uri}' is not a GeoPackage; its style is applied when it is loaded"
    try:
        apply_style(layer, style)
    except ValueError as exc:
        return str(exc)
    return layer.saveStyleToDatabase(STYLE_NAME, f"{style.title} — written by the Regio plugin", True, "") or ""


class StylePostProcessor(QgsProcessingLayerPostProcessorInterface):
    """Styles an algorithm output when QGIS loads it into the project."""

    _alive: list["StylePostProcessor"] = []  # QGIS keeps no Python reference: we must

    def __init__(self, style: LayerStyle):
        super().__init__()
        self.style = style

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS API)
        if isinstance(layer, QgsVectorLayer):
            try:
                apply_style(layer, self.style)
            except ValueError as exc:  # e.g. all values NULL: leave the default style
                feedback.pushInfo(f"not styled: {exc}")

    @classmethod
    def create(cls, style: LayerStyle) -> "StylePostProcessor":
        proc = cls(style)
        cls._alive.append(proc)
        return proc


def attach_style(context, dest_id: str, style: LayerStyle, layer_name: str | None = None) -> None:
    """Style output ``dest_id`` when QGIS loads it (and name it after the legend title)."""
    if dest_id and context.willLoadLayerOnCompletion(dest_id):
        details = context.layerToLoadOnCompletionDetails(dest_id)
        details.setPostProcessor(StylePostProcessor.create(style))
        details.name = layer_name or style.title


# ---------------------------------------------------------------------------------------------- PNG export
def ranking(layer: QgsVectorLayer, field: str, label_field: str | None, n: int = 10):
    """(top, bottom): lists of (label, value) of the ``n`` highest and lowest ``field`` values."""
    fi = layer.fields().indexFromName(field)
    li = layer.fields().indexFromName(label_field) if label_field else -1
    rows = []
    for feat in layer.getFeatures():
        v = feat.attributes()[fi]
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            lab = feat.attributes()[li] if li >= 0 else feat.id()
            rows.append((str(lab), float(v)))
    rows.sort(key=lambda r: r[1], reverse=True)
    return rows[:n], list(reversed(rows[-n:])) if len(rows) > n else list(reversed(rows))


def default_label_field(layer: QgsVectorLayer) -> str | None:
    """Names first (a zone or kommune name), then unique ids; never a code that repeats (kommune of a zone)."""
    field = name_field(layer)
    if field is not None:
        return field
    for cand in ("zone_id", "id", "kommune", "kommunenummer", "fid"):
        idx = layer.fields().indexFromName(cand)
        if idx >= 0 and len(layer.uniqueValues(idx)) == layer.featureCount():
            return cand
    return None


def _stats_text(values: np.ndarray, decimals: int) -> str:
    if values.size == 0:
        return "n = 0"
    sd = float(values.std(ddof=1)) if values.size > 1 else 0.0
    return (f"n = {values.size}   mean = {fmt_number(float(values.mean()), decimals)}   "
            f"sd = {fmt_number(sd, decimals)}")


def export_map_png(layer: QgsVectorLayer, path, title: str, *, field: str | None = None,
                   label_field: str | None = None, source: str | None = None, dpi: int = 145) -> Path:
    """Write a PNG map of the styled ``layer`` (print layout, ~1600 × 1000 px at 145 dpi).

    Left: the map with scale bar and north arrow. Right: the legend (title with unit), n/mean/sd
    and top-10 / bottom-10 tables of ``field`` named by ``label_field`` (default: the name
    field). Bottom: ``source`` (default: the layer's note and "Regio plugin"). Written atomically.
    """
    from qgis.core import (QgsLayout, QgsLayoutExporter, QgsLayoutItemLabel, QgsLayoutItemLegend,
                           QgsLayoutItemMap, QgsLayoutItemPicture, QgsLayoutItemScaleBar, QgsLayoutPoint,
                           QgsLayoutSize, QgsLegendRenderer, QgsLegendStyle, QgsProject, QgsRectangle,
                           QgsUnitTypes)

    from centrality.fileio import atomic_write

    renderer = layer.renderer()
    field = field or (renderer.classAttribute() if isinstance(renderer, QgsGraduatedSymbolRenderer) else None)
    if not field or layer.fields().indexFromName(field) < 0:
        raise ValueError(f"export_map_png: give the field to rank (layer '{layer.name()}' has no graduated style)")
    label_field = label_field or default_label_field(layer)
    values = _values(layer, field)
    decimals = decimals_for(float(np.max(np.abs(values))) if values.size else 0.0)
    legend_title = layer.customProperty(LEGEND_TITLE_PROPERTY) or field
    value_label = layer.customProperty(VALUE_LABEL_PROPERTY) or field
    note = source if source is not None else (layer.customProperty(NOTE_PROPERTY) or "")
    mm = QgsUnitTypes.LayoutMillimeters

    project = QgsProject()  # a private project: the user's project is not touched
    project.addMapLayer(layer, False)
    layout = QgsLayout(project)
    layout.initializeDefaults()
    page = layout.pageCollection().page(0)
    page.setPageSize(QgsLayoutSize(300, 187.5, mm))

    def label(text, x, y, w, h, size=9.0, bold=False, colour="#222222"):
        item = QgsLayoutItemLabel(layout)
        layout.addLayoutItem(item)
        item.setText(text)
        font = QFont("Sans")
        font.setPointSizeF(size)
        font.setBold(bold)
        if hasattr(item, "setTextFormat"):  # QGIS >= 3.24
            fmt = QgsTextFormat.fromQFont(font)
            fmt.setColor(QColor(colour))
            item.setTextFormat(fmt)
        else:
            item.setFont(font)
            item.setFontColor(QColor(colour))
        item.attemptSetSceneRect(QRectF(x, y, w, h))
        return item

    label(title, 6, 4, 288, 10, 15, bold=True)
    map_item = QgsLayoutItemMap(layout)
    layout.addLayoutItem(map_item)  # items must be in the layout before they are sized and zoomed
    map_item.attemptSetSceneRect(QRectF(6, 16, 178, 158))  # (attemptMove on a zero-size map breaks its extent)
    map_item.setLayers([layer])
    map_item.setCrs(layer.crs())
    map_item.setFrameEnabled(True)
    map_item.setFrameStrokeColor(QColor("#bbbbbb"))
    ext = QgsRectangle(layer.extent())
    ext.scale(1.06)
    map_item.zoomToExtent(ext)

    bar = QgsLayoutItemScaleBar(layout)
    layout.addLayoutItem(bar)
    bar.setStyle("Single Box")
    bar.setLinkedMap(map_item)
    bar.setUnits(QgsUnitTypes.DistanceKilometers)
    bar.setUnitLabel("km")
    bar_format = QgsTextFormat.fromQFont(QFont("Sans", 8))
    bar.setTextFormat(bar_format)
    width_km = max(ext.width(), ext.height() * 178.0 / 158.0) / 1000.0
    step = nice_length(width_km / 8.0)
    bar.setUnitsPerSegment(step)
    bar.setNumberOfSegments(2)
    bar.setNumberOfSegmentsLeft(0)
    bar.setHeight(2.0)
    bar.setBackgroundEnabled(True)
    bar.setBackgroundColor(QColor(255, 255, 255, 200))
    bar.attemptSetSceneRect(QRectF(9, 162, 60, 9))
    bar.update()

    arrow = QgsLayoutItemPicture(layout)
    layout.addLayoutItem(arrow)
    arrow.setPicturePath("/usr/share/qgis/svg/arrows/NorthArrow_02.svg" if Path(
        "/usr/share/qgis/svg/arrows/NorthArrow_02.svg").is_file() else ":/images/north_arrows/layout_default_north_arrow.svg")
    arrow.setLinkedMap(map_item)
    arrow.attemptSetSceneRect(QRectF(170, 19, 10, 12))

    legend = QgsLayoutItemLegend(layout)
    layout.addLayoutItem(legend)
    legend.setLinkedMap(map_item)
    legend.setTitle(str(legend_title))
    legend.setAutoUpdateModel(False)
    root = legend.model().rootGroup()
    root.clear()
    node = root.addLayer(layer)
    QgsLegendRenderer.setNodeLegendStyle(node, QgsLegendStyle.Hidden)  # the title says what it is
    legend.model().refreshLayerLegend(node)
    title_font = QFont("Sans", 10)
    title_font.setBold(True)
    legend.setStyleFont(QgsLegendStyle.Title, title_font)
    legend.setStyleFont(QgsLegendStyle.SymbolLabel, QFont("Sans", 8))
    legend.setSymbolHeight(3.5)
    legend.setSymbolWidth(6)
    legend.setWrapString("\n")
    legend.attemptSetSceneRect(QRectF(190, 16, 100, 60))
    legend.setResizeToContents(True)
    legend.updateLegend()
    legend_h = QgsLegendRenderer(legend.model(), legend.legendSettings()).minimumSize().height()
    legend.attemptSetSceneRect(QRectF(190, 16, 100, legend_h))
    y = 16 + legend_h + 1.5
    label(_stats_text(values, decimals), 192, y, 104, 5, 8)
    y += 8
    top, bottom = ranking(layer, field, label_field)
    col_w = 52.0
    for k, (heading, rows) in enumerate(((f"Top {len(top)}", top), (f"Bottom {len(bottom)}", bottom))):
        x = 190 + k * col_w
        _ranking_table(layout, heading, rows, value_label, decimals, x, y, col_w - 2)
    label(note + ("   ·   " if note else "") + "Map: Regio plugin for QGIS", 6, 177, 288, 6, 7, colour="#555555")

    path = Path(path)
    exporter = QgsLayoutExporter(layout)
    image = exporter.renderPageToImage(0, QSize(), dpi)  # (exportToImage would try to georeference the PNG)
    with atomic_write(path) as tmp:
        if image.isNull() or not image.save(str(tmp), "PNG"):
            raise OSError(f"could not write PNG '{path}'")
    project.takeMapLayer(layer)
    return path


def _ranking_table(layout, heading: str, rows, value_label: str, decimals: int, x: float, y: float, w: float):
    """A top/bottom table: '#', name (elided with …), value; headers never cut."""
    from qgis.core import (QgsLayoutFrame, QgsLayoutItemManualTable, QgsLayoutPoint, QgsLayoutSize,
                           QgsLayoutTableColumn, QgsTableCell, QgsUnitTypes)

    mm = QgsUnitTypes.LayoutMillimeters
    table = QgsLayoutItemManualTable.create(layout)
    layout.addMultiFrame(table)
    name_chars = 24
    cells = []
    for i, (lab, v) in enumerate(rows, 1):
        value = QgsTableCell(fmt_number(v, decimals))
        value.setHorizontalAlignment(Qt.AlignRight)
        cells.append([QgsTableCell(str(i)), QgsTableCell(lab if len(lab) <= name_chars else lab[:name_chars - 1] + "…"),
                      value])
    table.setTableContents(cells)
    headers = []
    for text, width in (("#", 4.5), (heading, w - 26.0), (value_label, 16.0)):  # + 3 × 2 cell margins
        col = QgsLayoutTableColumn(text)
        col.setWidth(width)
        headers.append(col)
    headers[2].setHAlignment(Qt.AlignRight)
    table.setHeaders(headers)
    table.setIncludeTableHeader(True)
    header, content = QgsTextFormat(), QgsTextFormat()
    bold = QFont("Sans")
    bold.setBold(True)
    header.setFont(bold)
    header.setSize(7)
    content.setFont(QFont("Sans"))
    content.setSize(7)
    table.setHeaderTextFormat(header)
    table.setContentTextFormat(content)
    table.setCellMargin(0.6)
    table.setShowGrid(False)
    frame = QgsLayoutFrame(layout, table)
    frame.attemptSetSceneRect(QRectF(x, y, w, 4.2 * (len(rows) + 1) + 2))
    table.addFrame(frame)
    return table
