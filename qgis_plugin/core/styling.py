"""Choropleth styling of result layers and PNG map export (map + legend + top/bottom-10 table).

Sequential ramps (light -> dark) for accessibility and index; diverging ramps centred on zero with
symmetric class breaks for differences (Δ) and attractiveness, the class containing 0 neutral.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from qgis.core import (
    QgsClassificationJenks,
    QgsClassificationQuantile,
    QgsGradientColorRamp,
    QgsGraduatedSymbolRenderer,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProcessingLayerPostProcessorInterface,
    QgsRectangle,
    QgsRendererRange,
    QgsSymbol,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QRectF, QSize, Qt
from qgis.PyQt.QtGui import QColor, QFont, QImage, QPainter

# ColorBrewer YlGnBu (sequential, light -> dark) and RdBu (diverging; negative red, positive blue)
SEQUENTIAL_COLOURS = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")
DIVERGING_NEGATIVE = "#b2182b"
DIVERGING_NEUTRAL = "#f7f7f7"
DIVERGING_POSITIVE = "#2166ac"
LEGEND_TITLE_PROPERTY = "regio/legend_title"

# Output fields the algorithms style automatically: field -> (kind, unit)
FIELD_STYLES: dict[str, tuple[str, str]] = {
    "index": ("sequential", "index 0–1000"),
    "access_decay": ("sequential", "decay-weighted jobs"),
    "delta_index": ("diverging", "index points"),
    "delta_access_decay": ("diverging", "decay-weighted jobs"),
    "attractiveness": ("diverging", "share of population"),
    "attractiveness_pct": ("diverging", "% of population"),
    "delta_net_migration": ("diverging", "persons/year"),
}


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


def _breaks(values: np.ndarray, mode: str, classes: int) -> list[float]:
    """Upper class bounds of ``values`` by QGIS's own quantile/Jenks implementation."""
    method = _method(mode)
    ranges = method.classes(values.tolist(), classes)
    return [r.upperBound() for r in ranges]


def symmetric_breaks(values: np.ndarray, mode: str = "quantile", classes: int = 5) -> list[float]:
    """Class bounds symmetric around 0 (``classes + 1`` numbers from -M to +M).

    Odd ``classes``: the middle class [-b1, b1] contains 0. Even: 0 is a break. The positive-side
    bounds classify |values| with ``mode``, so the classes adapt to the data on both sides.
    """
    a = np.abs(values[np.isfinite(values)])
    m = float(a.max()) if a.size else 0.0
    if m == 0.0:
        m = 1.0
    half = classes // 2
    if classes % 2:
        k = half + 1
        ups = _breaks(a, mode, k) if np.unique(a).size > k else list(np.linspace(m / k, m, k))
        # upper bounds of |v| classes: the first one closes the neutral class
        pos = sorted(set(float(u) for u in ups[:-1] if 0 < u < m))
        while len(pos) < half:  # too few distinct values: fill evenly
            pos = sorted(set(pos) | {m * (len(pos) + 1) / (half + 1)})
        pos = pos[:half] + [m]
        return [-p for p in reversed(pos)] + pos
    ups = _breaks(a, mode, half) if np.unique(a).size > half else list(np.linspace(m / half, m, half))
    pos = sorted(set(float(u) for u in ups[:-1] if 0 < u < m))[: half - 1] + [m]
    return [-p for p in reversed(pos)] + [0.0] + pos


def _fmt(x: float) -> str:
    ax = abs(x)
    if ax >= 1000:
        return f"{x:,.0f}".replace(",", " ")
    if ax >= 10:
        return f"{x:.0f}"
    if ax >= 1:
        return f"{x:.1f}"
    return f"{x:.3g}"


def _label(lo: float, hi: float) -> str:
    return f"{_fmt(lo)} – {_fmt(hi)}"


def _diverging_colours(n: int, zero_class: int | None) -> list[QColor]:
    """n colours: reds below the neutral class, blues above (darker further from it)."""
    ramp_neg = QgsGradientColorRamp(QColor(DIVERGING_NEGATIVE), QColor(DIVERGING_NEUTRAL))
    ramp_pos = QgsGradientColorRamp(QColor(DIVERGING_NEUTRAL), QColor(DIVERGING_POSITIVE))
    centre = zero_class if zero_class is not None else (n - 1) / 2.0
    span = max(centre, n - 1 - centre, 1)
    out = []
    for i in range(n):
        d = (i - centre) / span
        out.append(ramp_neg.color(1 + d) if d < 0 else ramp_pos.color(d) if d > 0 else QColor(DIVERGING_NEUTRAL))
    return out


def apply_graduated_style(layer: QgsVectorLayer, field: str, *, mode: str = "quantile", classes: int = 5,
                          kind: str = "sequential", unit: str = "") -> QgsGraduatedSymbolRenderer:
    """Style ``layer`` as a choropleth of ``field`` and return the renderer.

    ``kind="sequential"``: ``mode`` classes, light -> dark ramp. ``kind="diverging"``: class bounds
    symmetric around 0, red (negative) – neutral (class containing 0) – blue (positive). The legend
    title (layer title and custom property ``regio/legend_title``) names the field and ``unit``;
    the layer-tree legend shows it as the layer's title.
    """
    if kind not in ("sequential", "diverging"):
        raise ValueError(f"unknown style kind '{kind}'; use 'sequential' or 'diverging'")
    values = _values(layer, field)
    if values.size == 0:
        raise ValueError(f"field '{field}' of layer '{layer.name()}' has no numeric values to classify")
    if kind == "sequential":
        if np.unique(values).size > classes:
            bounds = [float(values.min())] + _breaks(values, mode, classes)
        else:
            lo, hi = float(values.min()), float(values.max())
            bounds = list(np.linspace(lo, hi if hi > lo else lo + 1.0, classes + 1))
        ramp = QgsGradientColorRamp(QColor(SEQUENTIAL_COLOURS[0]), QColor(SEQUENTIAL_COLOURS[-1]))
        stops = [(i / (len(SEQUENTIAL_COLOURS) - 1), QColor(c)) for i, c in enumerate(SEQUENTIAL_COLOURS)][1:-1]
        from qgis.core import QgsGradientStop

        ramp.setStops([QgsGradientStop(p, c) for p, c in stops])
        n = len(bounds) - 1
        colours = [ramp.color(i / max(n - 1, 1)) for i in range(n)]
    else:
        bounds = symmetric_breaks(values, mode, classes)
        n = len(bounds) - 1
        zero = next((i for i in range(n) if bounds[i] < 0 < bounds[i + 1]), None)
        colours = _diverging_colours(n, zero)
    geom_type = layer.geometryType()
    ranges = []
    for i in range(n):
        sym = QgsSymbol.defaultSymbol(geom_type)
        sym.setColor(colours[i])
        ranges.append(QgsRendererRange(bounds[i], bounds[i + 1], sym, _label(bounds[i], bounds[i + 1])))
    renderer = QgsGraduatedSymbolRenderer(field, ranges)
    renderer.setClassificationMethod(_method(mode))
    layer.setRenderer(renderer)
    title = f"{field} ({unit})" if unit else field
    layer.setCustomProperty(LEGEND_TITLE_PROPERTY, title)
    layer.setTitle(title)
    layer.triggerRepaint()
    return renderer


def style_known_field(layer: QgsVectorLayer, field: str | None = None) -> bool:
    """Style ``layer`` by ``field`` (or the first field of FIELD_STYLES it has) using its default kind."""
    names = [f.name() for f in layer.fields()]
    chosen = field or next((f for f in FIELD_STYLES if f in names), None)
    if chosen is None or chosen not in names:
        return False
    kind, unit = FIELD_STYLES.get(chosen, ("sequential", ""))
    apply_graduated_style(layer, chosen, kind=kind, unit=unit)
    return True


class StylePostProcessor(QgsProcessingLayerPostProcessorInterface):
    """Styles an algorithm output when QGIS loads it (field and kind chosen by the algorithm)."""

    _alive: list["StylePostProcessor"] = []  # QGIS keeps no Python reference: we must

    def __init__(self, field: str, kind: str, unit: str = ""):
        super().__init__()
        self.field, self.kind, self.unit = field, kind, unit

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS API)
        if isinstance(layer, QgsVectorLayer) and layer.fields().indexFromName(self.field) >= 0:
            try:
                apply_graduated_style(layer, self.field, kind=self.kind, unit=self.unit)
            except ValueError as exc:  # e.g. all values NULL: leave the default style
                feedback.pushInfo(f"not styled: {exc}")

    @classmethod
    def create(cls, field: str, kind: str, unit: str = "") -> "StylePostProcessor":
        proc = cls(field, kind, unit)
        cls._alive.append(proc)
        return proc


def attach_style(context, dest_id: str, field: str, kind: str, unit: str = "") -> None:
    """Ask QGIS to style output ``dest_id`` by ``field`` when it loads it into the project."""
    if dest_id and context.willLoadLayerOnCompletion(dest_id):
        context.layerToLoadOnCompletionDetails(dest_id).setPostProcessor(StylePostProcessor.create(field, kind, unit))


# ---------------------------------------------------------------- PNG export
def _legend_entries(layer: QgsVectorLayer) -> list[tuple[QColor, str]]:
    renderer = layer.renderer()
    if isinstance(renderer, QgsGraduatedSymbolRenderer):
        return [(r.symbol().color(), r.label()) for r in renderer.ranges()]
    return []


def _stats_line(values: np.ndarray) -> str:
    if values.size == 0:
        return "n = 0"
    sd = float(values.std(ddof=1)) if values.size > 1 else 0.0
    return f"n = {values.size}   mean = {_fmt(float(values.mean()))}   sd = {_fmt(sd)}"


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


def _default_label_field(layer: QgsVectorLayer) -> str | None:
    names = [f.name() for f in layer.fields()]
    for cand in ("name", "kommune_name", "navn", "kommune", "zone_id", "id"):
        if cand in names:
            return cand
    return next((f.name() for f in layer.fields() if f.typeName().lower() in ("string", "text")), None)


def render_map_image(layer: QgsVectorLayer, size: QSize, extent: QgsRectangle | None = None) -> QImage:
    """Render ``layer`` alone with its current renderer into an image of ``size`` pixels."""
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    settings.setBackgroundColor(QColor("white"))
    settings.setOutputSize(size)
    ext = QgsRectangle(extent or layer.extent())
    ext.scale(1.05)
    settings.setExtent(ext)
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    return job.renderedImage()


def export_map_png(layer: QgsVectorLayer, path, title: str, *, field: str | None = None,
                   label_field: str | None = None, size: tuple[int, int] = (1600, 1000)) -> Path:
    """Write a PNG: the styled ``layer`` on the left; title, legend (classes, n/mean/sd) and
    top-10 / bottom-10 tables of ``field`` on the right. Written atomically; returns the path."""
    from centrality.fileio import atomic_write

    renderer = layer.renderer()
    field = field or (renderer.classAttribute() if isinstance(renderer, QgsGraduatedSymbolRenderer) else None)
    if not field or layer.fields().indexFromName(field) < 0:
        raise ValueError(f"export_map_png: give the field to rank (layer '{layer.name()}' has no graduated style)")
    label_field = label_field or _default_label_field(layer)
    width, height = size
    map_w = int(width * 0.62)
    image = QImage(width, height, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.drawImage(0, 60, render_map_image(layer, QSize(map_w, height - 60)))
        font = QFont("Sans", 20)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("black"))
        painter.drawText(QRectF(10, 5, width - 20, 50), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title)
        x = map_w + 20
        y = 80.0
        font.setPointSize(13)
        painter.setFont(font)
        legend_title = layer.customProperty(LEGEND_TITLE_PROPERTY) or field
        painter.drawText(QRectF(x, y, width - x - 10, 24), Qt.AlignmentFlag.AlignLeft, str(legend_title))
        y += 30
        font.setBold(False)
        font.setPointSize(11)
        painter.setFont(font)
        for colour, label in _legend_entries(layer):
            painter.fillRect(QRectF(x, y + 2, 28, 16), colour)
            painter.setPen(QColor("#444444"))
            painter.drawRect(QRectF(x, y + 2, 28, 16))
            painter.setPen(QColor("black"))
            painter.drawText(QRectF(x + 38, y, width - x - 48, 22), Qt.AlignmentFlag.AlignLeft, label)
            y += 24
        painter.drawText(QRectF(x, y + 4, width - x - 10, 22), Qt.AlignmentFlag.AlignLeft, _stats_line(_values(layer, field)))
        y += 40
        top, bottom = ranking(layer, field, label_field)
        for heading, rows in (("Top 10", top), ("Bottom 10", bottom)):
            font.setBold(True)
            painter.setFont(font)
            painter.drawText(QRectF(x, y, width - x - 10, 22), Qt.AlignmentFlag.AlignLeft, heading)
            y += 24
            font.setBold(False)
            painter.setFont(font)
            for rank, (lab, val) in enumerate(rows, 1):
                painter.drawText(QRectF(x, y, 260, 20), Qt.AlignmentFlag.AlignLeft, f"{rank:>2}. {lab}")
                painter.drawText(QRectF(x + 260, y, width - x - 280, 20), Qt.AlignmentFlag.AlignRight, _fmt(val))
                y += 20
            y += 12
    finally:
        painter.end()
    path = Path(path)
    with atomic_write(path) as tmp:
        if not image.save(str(tmp), "PNG"):
            raise OSError(f"could not write PNG '{path}'")
    return path
