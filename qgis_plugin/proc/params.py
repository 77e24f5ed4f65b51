"""Parameter groups shared by the algorithms (road network, zones, travel-time analysis) and their
conversion into the arguments of the headless core. Defaults come from one place (:data:`DEFAULTS`).

Every parameter is typed (numbers with units and sensible decimals, enums, fields, an expression)
and checked by :func:`check_analysis` / :func:`check_fields` before any heavy work.
"""
from __future__ import annotations

import os

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
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

CUTOFF = "CUTOFF"
LIMITS = "LIMITS"
DECAY = "DECAY"
DECAY_T_REF = "DECAY_T_REF"
DECAY_WEIGHT = "DECAY_WEIGHT"
DECAY_CUTOFF = "DECAY_CUTOFF"
DECAY_KINDS = ("exp", "linear", "step")
DECAY_LABELS = ("Exponential: a job T minutes away counts W (default 10 % at 45 min)",
                "Linear: from 1 at 0 min down to 0 at the decay cutoff",
                "Step: every job within the decay cutoff counts 1")
WORKERS = "WORKERS"

ROAD_FIELD_PARAMS = (SPEED_FIELD, MAXSPEED_FIELD, CLASS_FIELD, TIME_FW_FIELD, TIME_BW_FIELD, DIRECTION_FIELD, ID_FIELD)
# parameter -> network_from_lines keyword
ROAD_FIELD_KEYWORDS = {SPEED_FIELD: "speed_field", MAXSPEED_FIELD: "maxspeed_field", CLASS_FIELD: "class_field",
                       TIME_FW_FIELD: "time_fw_field", TIME_BW_FIELD: "time_bw_field", DIRECTION_FIELD: "direction_field",
                       ID_FIELD: "id_field"}


def _defaults() -> dict:
    """Defaults of the analysis (minutes, km/h, metres) from ``centrality.settings.CentralitySettings``,
    the single place the core keeps them (the decay's cutoff follows the maximum travel time)."""
    try:
        from centrality.decay import ExponentialDecay
        from centrality.settings import CentralitySettings

        s = CentralitySettings()
        decay = s.decay_function
        exp = decay if isinstance(decay, ExponentialDecay) else ExponentialDecay()
        return {"cutoff_min": int(round(s.cutoff_min)), "limits_min": tuple(s.limits_min),
                "decay_t_ref_min": float(exp.t_ref_min), "decay_weight": float(exp.weight_at_ref),
                "access_speed_kmh": float(s.access_speed_kmh), "max_snap_m": float(s.max_snap_m),
                "snap_tolerance_m": 1.0}
    except ImportError:  # dependencies missing: the toolbox still lists the algorithms (canExecute says why)
        return {"cutoff_min": 90, "limits_min": (30, 45, 60, 90), "decay_t_ref_min": 45.0, "decay_weight": 0.1,
                "access_speed_kmh": 20.0, "max_snap_m": 5000.0, "snap_tolerance_m": 1.0}


DEFAULTS = _defaults()


def advanced(param):
    """Mark a parameter as advanced (collapsed in the dialog) and return it."""
    param.setFlags(param.flags() | param.FlagAdvanced)
    return param


def number(name: str, label: str, default=None, *, integer: bool = False, decimals: int = 0, minimum=None,
           maximum=None, optional: bool = False) -> QgsProcessingParameterNumber:
    """A number parameter shown with ``decimals`` decimals (no "90.000000")."""
    kind = QgsProcessingParameterNumber.Integer if integer else QgsProcessingParameterNumber.Double
    kwargs = {"defaultValue": default, "optional": optional}
    if minimum is not None:
        kwargs["minValue"] = minimum
    if maximum is not None:
        kwargs["maxValue"] = maximum
    param = QgsProcessingParameterNumber(name, tr(label), kind, **kwargs)
    if not integer:
        param.setMetadata({"widget_wrapper": {"decimals": decimals}})
    return param


def machine_threads() -> int:
    """Cores this process may use (the default for the travel-time search), at most 64."""
    try:
        from centrality.settings import default_workers
    except ImportError:
        return max(1, min(os.cpu_count() or 1, 64))
    return max(1, min(default_workers(), 64))


def add_workers_parameter(alg) -> None:
    alg.addParameter(advanced(number(WORKERS, "Threads for the travel-time search (default: all cores)",
                                     machine_threads(), integer=True, minimum=1, maximum=64)))


def workers(alg, parameters, context) -> int:
    return max(1, alg.parameterAsInt(parameters, WORKERS, context))


# ---------------------------------------------------------------------------------------------- roads
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
        CLASS_FIELD, tr("Road class field (default speeds per class; 'ferry' marks ferries)"),
        parentLayerParameterName=ROADS, optional=True))
    alg.addParameter(QgsProcessingParameterField(
        TIME_FW_FIELD, tr("… or travel time field, digitised direction (wins over speeds)"),
        parentLayerParameterName=ROADS, type=num, optional=True))
    alg.addParameter(QgsProcessingParameterField(
        TIME_BW_FIELD, tr("Travel time field, opposite direction (default: as digitised)"),
        parentLayerParameterName=ROADS, type=num, optional=True))
    alg.addParameter(QgsProcessingParameterEnum(
        TIME_UNIT, tr("Unit of the travel time fields"), options=["minutes", "seconds"], defaultValue=0))
    alg.addParameter(QgsProcessingParameterField(
        DIRECTION_FIELD, tr("One-way / direction field"), parentLayerParameterName=ROADS, optional=True))
    alg.addParameter(advanced(QgsProcessingParameterField(
        ID_FIELD, tr("Road id field (unique integers become link ids)"), parentLayerParameterName=ROADS,
        optional=True)))
    # plain numbers in metres: the engine works in a metric CRS even when the layer is in degrees
    alg.addParameter(advanced(number(SNAP_TOLERANCE, "Join line ends closer than (metres)",
                                     DEFAULTS["snap_tolerance_m"], decimals=1, minimum=0.0)))
    alg.addParameter(advanced(QgsProcessingParameterBoolean(
        SPLIT_AT_VERTICES, tr("Split lines at shared interior vertices (un-noded data)"), defaultValue=False)))


def road_options(alg, parameters, context) -> dict:
    """Keyword arguments of ``network_from_lines`` chosen by the user (empty fields are left out)."""
    opts = {kw: alg.parameterAsString(parameters, p, context) for p, kw in ROAD_FIELD_KEYWORDS.items()}
    opts = {k: v for k, v in opts.items() if v}
    opts["time_unit"] = TIME_UNITS[alg.parameterAsEnum(parameters, TIME_UNIT, context)]
    opts["snap_tolerance_m"] = alg.parameterAsDouble(parameters, SNAP_TOLERANCE, context)
    opts["split_at_vertices"] = alg.parameterAsBool(parameters, SPLIT_AT_VERTICES, context)
    return opts


def check_roads(alg, parameters, context) -> list[str]:
    """Road options that cannot work (before the network is built)."""
    if parameters.get(ROADS) in (None, ""):
        return []
    opts = road_options(alg, parameters, context)
    out = []
    if not any(k in opts for k in ("speed_field", "maxspeed_field", "class_field", "time_fw_field")):
        out.append(tr("Choose how to get travel times: a speed field (km/h), a maxspeed field, a road class field "
                      "or a travel time field."))
    if "time_bw_field" in opts and "time_fw_field" not in opts:
        out.append(tr("A travel time field for the opposite direction needs the digitised-direction time field too."))
    return out


def require_source(alg, parameters, name: str, context, what: str):
    source = alg.parameterAsSource(parameters, name, context)
    if source is None:
        raise QgsProcessingException(alg.invalidSourceError(parameters, name))
    if source.featureCount() == 0:
        raise QgsProcessingException(tr(f"The {what} layer has no features. Choose a layer with features."))
    return source


def roads_gdf(alg, parameters, context, feedback):
    """The road layer as a GeoDataFrame with the attributes the builder needs (+ source feature id)."""
    if isinstance(alg.parameterDefinition(ROADS), QgsProcessingParameterVectorLayer):
        source = alg.parameterAsVectorLayer(parameters, ROADS, context)
        if source is None or source.featureCount() == 0:
            raise QgsProcessingException(tr("The road layer is missing or has no features. Choose a line layer."))
    else:
        source = require_source(alg, parameters, ROADS, context, "road")
    cols = [alg.parameterAsString(parameters, p, context) for p in ROAD_FIELD_PARAMS]
    cols = list(dict.fromkeys(c for c in cols if c))
    return source_to_gdf(source, columns=cols or None, should_stop=feedback.isCanceled)


def build_network(alg, parameters, context, feedback, gdf=None, progress=(0.0, 20.0)):
    """RoadNetwork from the road parameters (``gdf`` overrides the layer, e.g. with edits applied)."""
    from centrality.builders.lines import network_from_lines

    opts = road_options(alg, parameters, context)
    if gdf is None:
        gdf = roads_gdf(alg, parameters, context, feedback)
    feedback.pushInfo(tr(f"Building the road network from {len(gdf)} lines …"))
    net = network_from_lines(gdf, **opts)
    feedback.setProgress(progress[1])
    report_network(feedback, net)
    return net


def report_network(feedback, net) -> None:
    """One readable line about the network and what was dropped (never silently)."""
    rep = dict(getattr(net, "report", None) or {})
    from ..core.outputs import fmt

    text = f"Network: {fmt(net.n_nodes)} nodes, {fmt(net.n_links)} links ({net.crs})"
    dropped = {k: v for k, v in rep.items() if "dropped" in k and v}
    if dropped:
        text += "; dropped: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in dropped.items())
    feedback.pushInfo(text + ".")


# ---------------------------------------------------------------------------------------------- zones
def add_zone_parameters(alg, name: str = ZONES, id_name: str = ZONE_ID_FIELD, with_values: bool = True,
                        label: str = "Zones (points or polygons with population and jobs)", snapping: bool = True,
                        optional: bool = False) -> None:
    """Zones layer (points or polygons) with id [, population and jobs] fields; snapping options."""
    alg.addParameter(QgsProcessingParameterFeatureSource(
        name, tr(label), [QgsProcessing.TypeVectorPoint, QgsProcessing.TypeVectorPolygon], optional=optional))
    # defaults: the toolkit's own field names (QGIS falls back to the first field when a layer lacks them)
    alg.addParameter(QgsProcessingParameterField(id_name, tr("Zone id field"), defaultValue="zone_id",
                                                 parentLayerParameterName=name, optional=optional))
    if with_values:
        num = QgsProcessingParameterField.Numeric
        alg.addParameter(QgsProcessingParameterField(
            POP_FIELD, tr("Population field (persons)"), defaultValue="population", parentLayerParameterName=name,
            type=num))
        alg.addParameter(QgsProcessingParameterField(
            JOBS_FIELD, tr("Jobs field (jobs by place of work)"), defaultValue="jobs", parentLayerParameterName=name,
            type=num))
    if snapping:
        alg.addParameter(advanced(number(ACCESS_SPEED, "Speed from zone point to the nearest road (km/h)",
                                         DEFAULTS["access_speed_kmh"], minimum=0.1)))
        alg.addParameter(advanced(number(MAX_SNAP, "Leave out zones further than this from a road (metres)",
                                         DEFAULTS["max_snap_m"], minimum=0.0)))


def zone_columns(alg, parameters, context) -> dict:
    """``{"id_col", "pop_col", "jobs_col"}`` chosen by the user."""
    return {
        "id_col": alg.parameterAsString(parameters, ZONE_ID_FIELD, context),
        "pop_col": alg.parameterAsString(parameters, POP_FIELD, context),
        "jobs_col": alg.parameterAsString(parameters, JOBS_FIELD, context),
    }


def check_fields(alg, parameters, context, layer_param: str, field_params, what: str) -> list[str]:
    """Fields named in ``field_params`` that the layer ``layer_param`` does not have."""
    source = alg.parameterAsSource(parameters, layer_param, context)
    if source is None:
        return []
    names = [f.name() for f in source.fields()]
    out = []
    for p in field_params:
        value = alg.parameterAsString(parameters, p, context)
        if value and value not in names:
            out.append(tr(f"The {what} layer has no field '{value}' ({alg.parameterDefinition(p).description()}); "
                          f"its fields are: {', '.join(names)}."))
    return out


def zones_gdf(alg, parameters, context, feedback, name: str = ZONES, id_name: str = ZONE_ID_FIELD,
              what: str = "zones"):
    """Zones as a GeoDataFrame with **all** their attributes (kept in the outputs) and original geometry."""
    source = require_source(alg, parameters, name, context, what)
    id_col = alg.parameterAsString(parameters, id_name, context)
    gdf = source_to_gdf(source, columns=None, keep_fid=False, should_stop=feedback.isCanceled)
    ids = gdf[id_col]
    if ids.isna().any():
        raise QgsProcessingException(tr(
            f"Zone id field '{id_col}' has {int(ids.isna().sum())} NULL values. Fill them or choose another id field."))
    if ids.duplicated().any():
        dup = ids[ids.duplicated()].unique()[:5]
        raise QgsProcessingException(tr(
            f"Zone id field '{id_col}' is not unique (e.g. {', '.join(map(str, dup))}). Choose a unique id field."))
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


# ---------------------------------------------------------------------------------------------- analysis
def add_analysis_parameters(alg, with_limits: bool = True, with_decay: bool = True) -> None:
    """Maximum travel time, time limits, the distance decay (type + numbers) and threads."""
    alg.addParameter(number(CUTOFF, "Maximum travel time (minutes)", DEFAULTS["cutoff_min"], integer=True,
                            minimum=1, maximum=600))
    if with_limits:
        limits = ",".join(f"{x:g}" for x in DEFAULTS["limits_min"])
        alg.addParameter(QgsProcessingParameterString(
            LIMITS, tr("Count jobs reachable within (minutes, comma-separated; limits above the maximum are left out)"),
            defaultValue=limits))
    if with_decay:
        alg.addParameter(QgsProcessingParameterEnum(DECAY, tr("Distance decay"), options=[tr(x) for x in DECAY_LABELS],
                                                    defaultValue=0))
        alg.addParameter(advanced(number(DECAY_T_REF, "Exponential decay: reference time T (minutes)",
                                         DEFAULTS["decay_t_ref_min"], minimum=0.1)))
        alg.addParameter(advanced(number(DECAY_WEIGHT, "Exponential decay: weight W of a job T minutes away (0–1)",
                                         DEFAULTS["decay_weight"], decimals=3, minimum=0.001, maximum=1.0)))
        alg.addParameter(advanced(number(DECAY_CUTOFF, "Decay cutoff: no weight beyond (minutes; default: the "
                                         "maximum travel time)", None, minimum=0.1, optional=True)))
    add_workers_parameter(alg)


def parse_limits(text: str) -> tuple[float, ...]:
    """'30, 45,60' -> (30.0, 45.0, 60.0) minutes; raises QgsProcessingException on bad text."""
    try:
        limits = tuple(float(x) for x in str(text).replace(";", ",").split(",") if x.strip())
    except ValueError:
        raise QgsProcessingException(tr(
            f"Time limits '{text}' are not a comma-separated list of minutes. Write e.g. '30,45,60,90'.")) from None
    if not limits or any(x <= 0 for x in limits):
        raise QgsProcessingException(tr(f"Time limits '{text}' must be positive minutes, e.g. '30,45,60,90'."))
    return limits


def _given(parameters, name: str) -> bool:
    return parameters.get(name) not in (None, "")


def decay_from_parameters(alg, parameters, context):
    """The decay object: its cutoff is the given decay cutoff, else the maximum travel time."""
    from centrality.decay import ExponentialDecay, LinearDecay, StepDecay

    cutoff = float(alg.parameterAsDouble(parameters, CUTOFF, context))
    decay_cutoff = alg.parameterAsDouble(parameters, DECAY_CUTOFF, context) if _given(parameters, DECAY_CUTOFF) else cutoff
    kind = DECAY_KINDS[alg.parameterAsEnum(parameters, DECAY, context)]
    if kind == "exp":
        return ExponentialDecay(alg.parameterAsDouble(parameters, DECAY_T_REF, context),
                                alg.parameterAsDouble(parameters, DECAY_WEIGHT, context), decay_cutoff)
    return (LinearDecay if kind == "linear" else StepDecay)(decay_cutoff)


def check_analysis(alg, parameters, context, with_limits: bool = True, with_decay: bool = True) -> list[str]:
    """Problems of cutoff / limits / decay, found before any work (one message)."""
    out = []
    cutoff = alg.parameterAsDouble(parameters, CUTOFF, context)
    if with_limits:
        try:
            limits = parse_limits(alg.parameterAsString(parameters, LIMITS, context))
            if min(limits) > cutoff:
                out.append(tr(f"Every time limit ({', '.join(f'{x:g}' for x in limits)} min) exceeds the maximum "
                              f"travel time {cutoff:g} min. Raise the maximum or give limits up to {cutoff:g} min."))
        except QgsProcessingException as exc:
            out.append(str(exc))
    if with_decay:
        if _given(parameters, DECAY_CUTOFF) and alg.parameterAsDouble(parameters, DECAY_CUTOFF, context) > cutoff:
            out.append(tr(f"The decay cutoff ({alg.parameterAsDouble(parameters, DECAY_CUTOFF, context):g} min) exceeds "
                          f"the maximum travel time ({cutoff:g} min): jobs that far are not reached. Leave the decay "
                          "cutoff empty (it then follows the maximum travel time) or lower it."))
        else:
            try:
                decay_from_parameters(alg, parameters, context)
            except ValueError as exc:  # InputError of the decay classes
                out.append(str(exc))
    return out


def analysis_options(alg, parameters, context, feedback=None, with_limits: bool = True) -> dict:
    """run_centrality keyword arguments for cutoff, limits, decay and threads."""
    cutoff = float(alg.parameterAsDouble(parameters, CUTOFF, context))
    out = {"cutoff_min": cutoff, "workers": workers(alg, parameters, context),
           "decay": decay_from_parameters(alg, parameters, context)}
    if with_limits:
        limits = parse_limits(alg.parameterAsString(parameters, LIMITS, context))
        kept = tuple(x for x in limits if x <= cutoff)
        dropped = [x for x in limits if x > cutoff]
        if dropped and feedback is not None:
            feedback.pushInfo(tr(f"Jobs within {', '.join(f'{x:g}' for x in dropped)} min are not counted: beyond the "
                                 f"maximum travel time of {cutoff:g} min."))
        out["limits_min"] = kept
    return out
