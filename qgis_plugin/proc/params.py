"""Parameter groups shared by several algorithms (road network, zones) and their conversion into
the arguments of the headless core. Kept here so each algorithm module stays short."""
from __future__ import annotations

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterField,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterNumber,
    QgsProcessingParameterEnum,
    QgsProcessingParameterVectorLayer,
)

from ..common.convert import source_to_gdf
from .base import tr

ROADS = "ROADS"
SPEED_FIELD = "SPEED_FIELD"
MAXSPEED_FIELD = "MAXSPEED_FIELD"
CLASS_FIELD = "CLASS_FIELD"
TIME_FW_FIELD = "TIME_FW_FIELD"
TIME_BW_FIELD = "TIME_BW_FIELD"
TIME_UNIT = "TIME_UNIT"
DIRECTION_FIELD = "DIRECTION_FIELD"
ID_FIELD = "ID_FIELD"
SNAP_TOLERANCE = "SNAP_TOLERANCE"
SPLIT_AT_VERTICES = "SPLIT_AT_VERTICES"
TIME_UNITS = ("min", "s")  # network_from_lines time_unit values

ZONES = "ZONES"
ZONE_ID_FIELD = "ZONE_ID_FIELD"
POP_FIELD = "POP_FIELD"
JOBS_FIELD = "JOBS_FIELD"
ACCESS_SPEED = "ACCESS_SPEED"
MAX_SNAP = "MAX_SNAP"

WORKERS = "WORKERS"

ROAD_FIELD_PARAMS = (SPEED_FIELD, MAXSPEED_FIELD, CLASS_FIELD, TIME_FW_FIELD, TIME_BW_FIELD, DIRECTION_FIELD, ID_FIELD)
# parameter -> network_from_lines keyword
ROAD_FIELD_KEYWORDS = {SPEED_FIELD: "speed_field", MAXSPEED_FIELD: "maxspeed_field", CLASS_FIELD: "class_field",
                       TIME_FW_FIELD: "time_fw_field", TIME_BW_FIELD: "time_bw_field", DIRECTION_FIELD: "direction_field",
                       ID_FIELD: "id_field"}


def advanced(param):
    """Mark a parameter as advanced (collapsed in the dialog) and return it."""
    param.setFlags(param.flags() | param.FlagAdvanced)
    return param


def add_workers_parameter(alg) -> None:
    """Number of threads for the travel-time search (advanced)."""
    from qgis.core import QgsApplication

    default = max(1, min(QgsApplication.maxThreads(), 8)) if QgsApplication.maxThreads() > 0 else 1
    alg.addParameter(advanced(QgsProcessingParameterNumber(
        WORKERS, tr("Threads for the travel-time search"), QgsProcessingParameterNumber.Integer,
        defaultValue=default, minValue=1, maxValue=64)))


def workers(alg, parameters, context) -> int:
    return max(1, alg.parameterAsInt(parameters, WORKERS, context))


def add_road_parameters(alg, optional_layer: bool = False, whole_layer: bool = False) -> None:
    """Road line layer + how to read speeds/times/direction from it + snapping tolerance.

    ``whole_layer``: a layer parameter (always all features, so a map selection can mark the
    roads to edit) instead of a feature source (which may be "selected features only")."""
    if whole_layer:
        alg.addParameter(QgsProcessingParameterVectorLayer(
            ROADS, tr("Road network (line layer; all its features are used)"), [QgsProcessing.TypeVectorLine]))
    else:
        alg.addParameter(QgsProcessingParameterFeatureSource(
            ROADS, tr("Road network (line layer)"), [QgsProcessing.TypeVectorLine], optional=optional_layer))
    num = QgsProcessingParameterField.Numeric
    alg.addParameter(QgsProcessingParameterField(
        SPEED_FIELD, tr("Speed field (km/h)"), parentLayerParameterName=ROADS, type=num, optional=True))
    alg.addParameter(QgsProcessingParameterField(
        MAXSPEED_FIELD, tr("… or OSM-style maxspeed field (text such as '60' or '50 mph')"),
        parentLayerParameterName=ROADS, optional=True))
    alg.addParameter(QgsProcessingParameterField(
        CLASS_FIELD, tr("Road class field (default speeds per class; fills missing speeds; 'ferry' marks ferries)"),
        parentLayerParameterName=ROADS, optional=True))
    alg.addParameter(QgsProcessingParameterField(
        TIME_FW_FIELD, tr("… or travel time field, digitised direction (takes precedence over speeds)"),
        parentLayerParameterName=ROADS, type=num, optional=True))
    alg.addParameter(QgsProcessingParameterField(
        TIME_BW_FIELD, tr("Travel time field, opposite direction (default: same as digitised)"),
        parentLayerParameterName=ROADS, type=num, optional=True))
    alg.addParameter(QgsProcessingParameterEnum(
        TIME_UNIT, tr("Unit of the travel time fields"), options=["minutes", "seconds"], defaultValue=0))
    alg.addParameter(QgsProcessingParameterField(
        DIRECTION_FIELD, tr("One-way / direction field (optional)"), parentLayerParameterName=ROADS,
        optional=True))
    alg.addParameter(advanced(QgsProcessingParameterField(
        ID_FIELD, tr("Road id field (unique integers become link ids; optional)"), parentLayerParameterName=ROADS,
        optional=True)))
    # plain numbers in metres: the engine works in a metric CRS even when the layer is in degrees
    alg.addParameter(advanced(QgsProcessingParameterNumber(
        SNAP_TOLERANCE, tr("Join line ends closer than (snapping tolerance, metres)"),
        QgsProcessingParameterNumber.Double, defaultValue=1.0, minValue=0.0)))
    alg.addParameter(advanced(QgsProcessingParameterBoolean(
        SPLIT_AT_VERTICES, tr("Split lines at shared interior vertices (un-noded data)"), defaultValue=False)))


def road_options(alg, parameters, context) -> dict:
    """Keyword arguments of ``network_from_lines`` chosen by the user (empty fields are left out)."""
    opts = {kw: alg.parameterAsString(parameters, p, context) for p, kw in ROAD_FIELD_KEYWORDS.items()}
    opts = {k: v for k, v in opts.items() if v}
    if not any(k in opts for k in ("speed_field", "maxspeed_field", "class_field", "time_fw_field")):
        raise QgsProcessingException(tr(
            "Choose how to get travel times: a speed field (km/h), a maxspeed field, a road class field "
            "or a travel time field, and run again."))
    if "time_bw_field" in opts and "time_fw_field" not in opts:
        raise QgsProcessingException(tr(
            "A travel time field for the opposite direction needs the digitised-direction time field too."))
    opts["time_unit"] = TIME_UNITS[alg.parameterAsEnum(parameters, TIME_UNIT, context)]
    opts["snap_tolerance_m"] = alg.parameterAsDouble(parameters, SNAP_TOLERANCE, context)
    opts["split_at_vertices"] = alg.parameterAsBool(parameters, SPLIT_AT_VERTICES, context)
    return opts


def require_source(alg, parameters, name: str, context):
    source = alg.parameterAsSource(parameters, name, context)
    if source is None:
        raise QgsProcessingException(alg.invalidSourceError(parameters, name))
    if source.featureCount() == 0:
        raise QgsProcessingException(tr(f"The layer given as {name} has no features. Choose a layer with features."))
    return source


def roads_gdf(alg, parameters, context, feedback):
    """The road layer as a GeoDataFrame with the attributes the builder needs (+ source feature id)."""
    if isinstance(alg.parameterDefinition(ROADS), QgsProcessingParameterVectorLayer):
        source = alg.parameterAsVectorLayer(parameters, ROADS, context)
        if source is None or source.featureCount() == 0:
            raise QgsProcessingException(tr("The road layer is missing or has no features. Choose a line layer."))
    else:
        source = require_source(alg, parameters, ROADS, context)
    cols = [alg.parameterAsString(parameters, p, context) for p in ROAD_FIELD_PARAMS]
    cols = list(dict.fromkeys(c for c in cols if c))
    return source_to_gdf(source, columns=cols or None, should_stop=feedback.isCanceled)


def build_network(alg, parameters, context, feedback, gdf=None, progress=(0.0, 20.0)):
    """RoadNetwork from the road parameters (``gdf`` overrides the layer, e.g. with edits applied)."""
    from centrality.builders.lines import network_from_lines

    opts = road_options(alg, parameters, context)
    if gdf is None:
        gdf = roads_gdf(alg, parameters, context, feedback)
    feedback.pushInfo(tr(f"Building the road network from {len(gdf)} lines ..."))
    net = network_from_lines(gdf, **opts)
    feedback.setProgress(progress[1])
    for key, value in (getattr(net, "report", None) or {}).items():
        feedback.pushInfo(f"  {key}: {value}")
    return net


def add_zone_parameters(alg) -> None:
    """Zones layer (points or polygons) with id, population and jobs fields; snapping options."""
    alg.addParameter(QgsProcessingParameterFeatureSource(
        ZONES, tr("Zones (points or polygons with population and jobs)"),
        [QgsProcessing.TypeVectorPoint, QgsProcessing.TypeVectorPolygon]))
    alg.addParameter(QgsProcessingParameterField(ZONE_ID_FIELD, tr("Zone id field"), parentLayerParameterName=ZONES))
    num = QgsProcessingParameterField.Numeric
    alg.addParameter(QgsProcessingParameterField(
        POP_FIELD, tr("Population field"), parentLayerParameterName=ZONES, type=num))
    alg.addParameter(QgsProcessingParameterField(
        JOBS_FIELD, tr("Jobs field (by place of work)"), parentLayerParameterName=ZONES, type=num))
    from centrality.settings import CentralitySettings

    defaults = CentralitySettings()
    alg.addParameter(advanced(QgsProcessingParameterNumber(
        ACCESS_SPEED, tr("Speed from zone point to the nearest road (km/h)"),
        QgsProcessingParameterNumber.Double, defaultValue=defaults.access_speed_kmh, minValue=0.1)))
    alg.addParameter(advanced(QgsProcessingParameterNumber(
        MAX_SNAP, tr("Maximum distance from zone to road, metres (zones further away are reported and left out)"),
        QgsProcessingParameterNumber.Double, defaultValue=defaults.max_snap_m, minValue=0.0)))


def zone_columns(alg, parameters, context) -> dict:
    """``{"id_col", "pop_col", "jobs_col"}`` chosen by the user."""
    return {
        "id_col": alg.parameterAsString(parameters, ZONE_ID_FIELD, context),
        "pop_col": alg.parameterAsString(parameters, POP_FIELD, context),
        "jobs_col": alg.parameterAsString(parameters, JOBS_FIELD, context),
    }


def zones_gdf(alg, parameters, context, feedback, extra_columns=()):
    """Zones as a GeoDataFrame (original geometry) with the id/pop/jobs (+ extra) columns."""
    source = require_source(alg, parameters, ZONES, context)
    cols = zone_columns(alg, parameters, context)
    wanted = list(dict.fromkeys(c for c in [cols["id_col"], cols["pop_col"], cols["jobs_col"], *extra_columns] if c))
    gdf = source_to_gdf(source, columns=wanted, keep_fid=False, should_stop=feedback.isCanceled)
    ids = gdf[cols["id_col"]]
    if ids.isna().any():
        raise QgsProcessingException(tr(
            f"Zone id field '{cols['id_col']}' has {int(ids.isna().sum())} NULL values. Fill them or choose another id field."))
    if ids.duplicated().any():
        dup = ids[ids.duplicated()].unique()[:5]
        raise QgsProcessingException(tr(
            f"Zone id field '{cols['id_col']}' is not unique (e.g. {', '.join(map(str, dup))}). Choose a unique id field."))
    return gdf


def zone_options(alg, parameters, context) -> dict:
    return {
        "access_speed_kmh": alg.parameterAsDouble(parameters, ACCESS_SPEED, context),
        "max_snap_m": alg.parameterAsDouble(parameters, MAX_SNAP, context),
    }


def report_excluded(feedback, excluded) -> None:
    """Tell the user which zones were left out and why (never silently dropped)."""
    if excluded is None or len(excluded) == 0:
        return
    feedback.pushWarning(tr(f"{len(excluded)} zones were left out:"))
    for row in excluded.head(20).itertuples(index=False):
        feedback.pushWarning("  " + ", ".join(f"{k}={v}" for k, v in row._asdict().items()))
