"""Conversion between QGIS layers/feature sources and (Geo)DataFrames.

QGIS objects are only touched here and in the algorithm/dock modules; everything downstream is a
plain GeoDataFrame handed to the headless core. Conversions must run in the main thread (QGIS
layers are not thread-safe): the dock converts before starting its background task.
"""
from __future__ import annotations

import datetime as _dt
from typing import Callable, Iterable

from qgis.core import (
    NULL,
    Qgis,
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFeatureRequest,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QDate, QDateTime, QTime, QVariant

FID_COLUMN = "_qgis_fid"  # source feature id, kept so edits can refer back to map selections


def _py(value):
    """A QGIS attribute value as a plain Python value (NULL -> None, QDate -> date, ...)."""
    if value is None or value == NULL or (isinstance(value, QVariant) and value.isNull()):
        return None
    if isinstance(value, QDateTime):
        return value.toPyDateTime()
    if isinstance(value, QDate):
        return value.toPyDate()
    if isinstance(value, QTime):
        return value.toPyTime()
    return value


def crs_to_pyproj_input(crs: QgsCoordinateReferenceSystem) -> str | None:
    """Authority id ("EPSG:25833") when there is one, else WKT; None for an invalid CRS."""
    if not crs.isValid():
        return None
    return crs.authid() or crs.toWkt()


def features_to_gdf(features: Iterable[QgsFeature], fields: QgsFields, crs: QgsCoordinateReferenceSystem,
                    columns: list[str] | None = None, keep_fid: bool = True,
                    should_stop: Callable[[], bool] | None = None):
    """Build a GeoDataFrame from QGIS features (attributes ``columns`` or all, geometry as shapely)."""
    import geopandas as gpd
    import shapely

    names = [f.name() for f in fields] if columns is None else list(columns)
    idx = [fields.indexFromName(n) for n in names]
    rows: dict[str, list] = {n: [] for n in names}
    fids: list[int] = []
    wkbs: list[bytes | None] = []
    for i, feat in enumerate(features):
        if should_stop is not None and i % 1000 == 0 and should_stop():
            from centrality.errors import Cancelled

            raise Cancelled("cancelled while reading features")
        attrs = feat.attributes()
        for n, j in zip(names, idx):
            rows[n].append(_py(attrs[j]) if j >= 0 else None)
        fids.append(feat.id())
        geom = feat.geometry()
        wkbs.append(bytes(geom.asWkb()) if geom is not None and not geom.isNull() else None)
    data = dict(rows)
    if keep_fid:
        data[FID_COLUMN] = fids
    geometry = shapely.from_wkb(wkbs) if wkbs else []
    return gpd.GeoDataFrame(data, geometry=geometry, crs=crs_to_pyproj_input(crs))


def source_to_gdf(source, columns: list[str] | None = None, keep_fid: bool = True,
                  request: QgsFeatureRequest | None = None, should_stop=None):
    """GeoDataFrame from a QgsProcessingFeatureSource or QgsVectorLayer (honours selection-only sources)."""
    crs = source.sourceCrs() if hasattr(source, "sourceCrs") else source.crs()
    feats = source.getFeatures(request) if request is not None else source.getFeatures()
    return features_to_gdf(feats, source.fields(), crs, columns, keep_fid, should_stop)


def layer_to_gdf(layer: QgsVectorLayer, columns: list[str] | None = None, selected_only: bool = False,
                 keep_fid: bool = True):
    """GeoDataFrame from a vector layer (optionally only its selected features)."""
    feats = layer.getSelectedFeatures() if selected_only else layer.getFeatures()
    return features_to_gdf(feats, layer.fields(), layer.crs(), columns, keep_fid)


# ---------------------------------------------------------------- GeoDataFrame -> QGIS
def _field_type(kind: str):
    """Field type for QgsField: QVariant.Type before QGIS 3.38, QMetaType.Type from then on (Qt6-ready)."""
    if Qgis.QGIS_VERSION_INT >= 33800:
        from qgis.PyQt.QtCore import QMetaType

        return getattr(QMetaType.Type, {"String": "QString", "DateTime": "QDateTime"}.get(kind, kind))
    return getattr(QVariant, kind)


def _qfield(name: str, series) -> QgsField:
    import pandas as pd

    dt = series.dtype
    if pd.api.types.is_bool_dtype(dt):
        return QgsField(name, _field_type("Bool"))
    if pd.api.types.is_integer_dtype(dt):
        return QgsField(name, _field_type("LongLong"))
    if pd.api.types.is_float_dtype(dt):
        return QgsField(name, _field_type("Double"))
    if pd.api.types.is_datetime64_any_dtype(dt):
        return QgsField(name, _field_type("DateTime"))
    return QgsField(name, _field_type("String"))


def frame_fields(df) -> QgsFields:
    """QgsFields for the non-geometry columns of a (Geo)DataFrame."""
    fields = QgsFields()
    geom_name = getattr(df, "_geometry_column_name", None) if hasattr(df, "geometry") else None
    for col in df.columns:
        if col == geom_name or col == FID_COLUMN:
            continue
        fields.append(_qfield(str(col), df[col]))
    return fields


def _cell(value):
    """A pandas/numpy cell as something QgsFeature.setAttributes accepts."""
    import numpy as np
    import pandas as pd

    if value is None:
        return NULL
    if isinstance(value, (float, np.floating)) and np.isnan(value):
        return NULL
    if value is pd.NA or value is pd.NaT:
        return NULL
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (pd.Timestamp, _dt.datetime)):
        return QDateTime(value)
    return value if isinstance(value, (int, float, str, bool)) else str(value)


def frame_features(df, fields: QgsFields) -> list[QgsFeature]:
    """QgsFeatures (attributes in ``fields`` order + geometry when ``df`` is a GeoDataFrame)."""
    import shapely

    has_geom = hasattr(df, "geometry") and getattr(df, "_geometry_column_name", None) in df.columns
    names = [f.name() for f in fields]
    cols = [df[n].to_numpy(dtype=object) for n in names]
    wkbs = shapely.to_wkb(df.geometry.values, output_dimension=2) if has_geom and len(df) else None
    feats = []
    for i in range(len(df)):
        feat = QgsFeature(fields)
        feat.setAttributes([_cell(c[i]) for c in cols])
        if wkbs is not None and wkbs[i] is not None:
            geom = QgsGeometry()
            geom.fromWkb(wkbs[i])
            feat.setGeometry(geom)
        feats.append(feat)
    return feats


def frame_wkb_type(df) -> int:
    """Dominant QGIS WKB type of a GeoDataFrame (multi- when mixed), NoGeometry for plain frames."""
    if not (hasattr(df, "geometry") and getattr(df, "_geometry_column_name", None) in df.columns) or len(df) == 0:
        return QgsWkbTypes.NoGeometry
    kinds = set(df.geometry.geom_type.dropna().unique())
    base = {"Point": QgsWkbTypes.Point, "LineString": QgsWkbTypes.LineString, "Polygon": QgsWkbTypes.Polygon}
    multi = {"MultiPoint": QgsWkbTypes.MultiPoint, "MultiLineString": QgsWkbTypes.MultiLineString,
             "MultiPolygon": QgsWkbTypes.MultiPolygon}
    if len(kinds) == 1:
        k = kinds.pop()
        return base.get(k, multi.get(k, QgsWkbTypes.Unknown))
    for single, mtype in (("Polygon", QgsWkbTypes.MultiPolygon), ("LineString", QgsWkbTypes.MultiLineString),
                          ("Point", QgsWkbTypes.MultiPoint)):
        if any(single in k for k in kinds):
            return mtype
    return QgsWkbTypes.Unknown


def frame_crs(df) -> QgsCoordinateReferenceSystem:
    """QgsCoordinateReferenceSystem of a GeoDataFrame (invalid CRS for plain tables)."""
    crs = getattr(df, "crs", None) if hasattr(df, "geometry") else None
    if crs is None:
        return QgsCoordinateReferenceSystem()
    epsg = crs.to_epsg()
    return QgsCoordinateReferenceSystem(f"EPSG:{epsg}") if epsg else QgsCoordinateReferenceSystem.fromWkt(crs.to_wkt())


def write_frame_to_sink(alg, parameters, context, name: str, df, feedback=None) -> str:
    """Create the Processing sink ``name`` with ``df``'s fields, geometry type and CRS; return its id."""
    fields = frame_fields(df)
    sink, dest_id = alg.parameterAsSink(parameters, name, context, fields, frame_wkb_type(df), frame_crs(df))
    if sink is None:
        from qgis.core import QgsProcessingException

        raise QgsProcessingException(alg.invalidSinkError(parameters, name))
    feats = frame_features(df, fields)
    if not sink.addFeatures(feats, QgsFeatureSink.FastInsert):
        from qgis.core import QgsProcessingException

        raise QgsProcessingException(f"could not write output '{name}': {sink.lastError()}")
    return dest_id


def frame_to_memory_layer(df, name: str) -> QgsVectorLayer:
    """An in-memory QgsVectorLayer holding ``df`` (GeoDataFrame -> geometry layer, DataFrame -> table)."""
    wkb = frame_wkb_type(df)
    crs = frame_crs(df)
    uri = QgsWkbTypes.displayString(wkb) if wkb != QgsWkbTypes.NoGeometry else "None"
    if crs.isValid() and wkb != QgsWkbTypes.NoGeometry:
        uri += f"?crs={crs.authid() or 'wkt:' + crs.toWkt()}"
    layer = QgsVectorLayer(uri, name, "memory")
    fields = frame_fields(df)
    provider = layer.dataProvider()
    provider.addAttributes(fields.toList())
    layer.updateFields()
    provider.addFeatures(frame_features(df, layer.fields()))
    layer.updateExtents()
    return layer


def write_gpkg_layer(layer: QgsVectorLayer, path, layer_name: str, overwrite_file: bool = False) -> str:
    """Write ``layer`` as ``layer_name`` into the GeoPackage ``path`` (other layers of an existing
    file are kept; a layer of that name is replaced). Returns the layer's URI.

    Written by QGIS's own GDAL, so the file is a GeoPackage 1.2 that QGIS 3.22 opens without
    version warnings.
    """
    from pathlib import Path

    from qgis.core import QgsCoordinateTransformContext, QgsVectorFileWriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    options.layerName = layer_name
    options.fileEncoding = "UTF-8"
    options.actionOnExistingFile = (QgsVectorFileWriter.CreateOrOverwriteLayer
                                    if path.exists() and not overwrite_file else QgsVectorFileWriter.CreateOrOverwriteFile)
    context = QgsCoordinateTransformContext()
    if hasattr(QgsVectorFileWriter, "writeAsVectorFormatV3"):
        res = QgsVectorFileWriter.writeAsVectorFormatV3(layer, str(path), context, options)
    else:  # pragma: no cover - QGIS < 3.20
        res = QgsVectorFileWriter.writeAsVectorFormatV2(layer, str(path), context, options)
    error, message = res[0], res[1]
    if error != QgsVectorFileWriter.NoError:
        raise OSError(f"could not write layer '{layer_name}' to {path}: {message}")
    return f"{path}|layername={layer_name}"
