"""Processing algorithm: jobs reachable by car, decay-weighted accessibility and the 0–1000
centrality index per zone (+ optional aggregate per group, e.g. kommune)."""
from __future__ import annotations

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterField,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from ..common.convert import write_frame_to_sink
from ..core.styling import attach_style
from . import params as P
from .base import RegioAlgorithm, progress_callback, stop_callback, tr

CUTOFF = "CUTOFF"
LIMITS = "LIMITS"
DECAY = "DECAY"
GROUP_FIELD = "GROUP_FIELD"
OUTPUT = "OUTPUT"
GROUPS = "GROUPS"


def parse_limits(text: str) -> tuple[float, ...]:
    """'30, 45,60' -> (30.0, 45.0, 60.0) minutes; raises QgsProcessingException on bad text."""
    try:
        limits = tuple(float(x) for x in text.replace(";", ",").split(",") if x.strip())
    except ValueError:
        raise QgsProcessingException(tr(
            f"Time limits '{text}' are not a comma-separated list of minutes. Write e.g. '30,45,60,90'.")) from None
    if not limits or any(x <= 0 for x in limits):
        raise QgsProcessingException(tr(f"Time limits '{text}' must be positive minutes, e.g. '30,45,60,90'."))
    return limits


def add_analysis_parameters(alg, with_limits: bool = True) -> None:
    from centrality.settings import CentralitySettings

    defaults = CentralitySettings()
    alg.addParameter(QgsProcessingParameterNumber(
        CUTOFF, tr("Maximum travel time (minutes)"), QgsProcessingParameterNumber.Double,
        defaultValue=defaults.cutoff_min, minValue=1.0))
    if with_limits:
        alg.addParameter(QgsProcessingParameterString(
            LIMITS, tr("Count jobs reachable within (minutes, comma-separated)"),
            defaultValue=",".join(f"{x:g}" for x in defaults.limits_min)))
        alg.addParameter(QgsProcessingParameterString(
            DECAY, tr("Distance decay: exp[:T_REF:WEIGHT[:CUTOFF]], linear[:ZERO_AT_MIN], step[:LIMIT_MIN] or "
                      "table:MIN=W,… (default exp = exp:45:0.1:<maximum travel time>, a job 45 min away counts 10 %)"),
            defaultValue="exp"))
    P.add_workers_parameter(alg)


def analysis_options(alg, parameters, context) -> dict:
    """run_centrality keyword arguments for cutoff, limits and decay."""
    cutoff = alg.parameterAsDouble(parameters, CUTOFF, context)
    limits = parse_limits(alg.parameterAsString(parameters, LIMITS, context))
    if max(limits) > cutoff:
        raise QgsProcessingException(tr(
            f"Time limit {max(limits):g} min exceeds the maximum travel time {cutoff:g} min. "
            "Raise the maximum travel time or remove that limit."))
    from centrality.decay import parse_decay

    decay_text = alg.parameterAsString(parameters, DECAY, context).strip() or "exp"
    return {"cutoff_min": cutoff, "limits_min": limits, "decay": parse_decay(decay_text, default_cutoff_min=cutoff),
            "workers": P.workers(alg, parameters, context)}


class CentralityAlgorithm(RegioAlgorithm):
    NAME = "centrality"
    DISPLAY = "Travel-time accessibility and centrality index"
    HELP = (
        "For every zone: jobs reachable by car within each time limit (jobs_30min, …), decay-weighted "
        "jobs (access_decay; by default a job 45 minutes away counts 10 % of a job next door, 0 beyond "
        "the maximum time), the SSB-style centrality index 0–1000 (1000·ln(1+A)/ln(1+A_max)) and "
        "centrality class 1–6.<br>Travel time = zone point to nearest road at the access speed + "
        "fastest road route + road to destination zone. Polygon zones use a point inside each polygon; "
        "zones further from a road than the maximum snap distance are left out and listed in the log."
        "<br>Optional: a group field (e.g. kommune number) gives a population-weighted aggregate "
        "per group (polygon zones: a layer with the dissolved zone polygons; point zones: a table).<br>Layers in a geographic CRS are projected "
        "to EPSG:25833 (Norway) or the local UTM zone."
    )

    def initAlgorithm(self, config=None):  # noqa: N802
        P.add_zone_parameters(self)
        self.addParameter(QgsProcessingParameterField(
            GROUP_FIELD, tr("Group field for an aggregate (e.g. kommune number; optional)"),
            parentLayerParameterName=P.ZONES, optional=True))
        P.add_road_parameters(self)
        add_analysis_parameters(self)
        self.addParameter(QgsProcessingParameterFeatureSink(OUTPUT, tr("Zones with accessibility and index"),
                                                            QgsProcessing.TypeVectorAnyGeometry))
        self.addParameter(QgsProcessingParameterFeatureSink(
            GROUPS, tr("Aggregate per group"), QgsProcessing.TypeVectorAnyGeometry, optional=True,
            createByDefault=False))

    def compute(self, parameters, context, feedback):
        from centrality.pipeline import group_layer, run_centrality

        options = analysis_options(self, parameters, context)
        cols = P.zone_columns(self, parameters, context)
        group = self.parameterAsString(parameters, GROUP_FIELD, context) or None
        zones = P.zones_gdf(self, parameters, context, feedback, extra_columns=[group])
        network = P.build_network(self, parameters, context, feedback, progress=(0, 20))
        feedback.pushInfo(tr(f"Travel times from {len(zones)} zones (cutoff {options['cutoff_min']:g} min) ..."))
        result = run_centrality(network, zones, **cols, group_col=group,
                                **P.zone_options(self, parameters, context), **options,
                                progress=progress_callback(feedback, 20, 95), should_stop=stop_callback(feedback))
        P.report_excluded(feedback, result.excluded)
        out = {OUTPUT: write_frame_to_sink(self, parameters, context, OUTPUT, result.zones)}
        attach_style(context, out[OUTPUT], "index", "sequential", "index 0–1000")
        if parameters.get(GROUPS) is not None:
            if result.groups is None:
                raise QgsProcessingException(tr("An aggregate output needs a group field. Choose one or drop the output."))
            out[GROUPS] = write_frame_to_sink(self, parameters, context, GROUPS, group_layer(result))
            attach_style(context, out[GROUPS], "index", "sequential", "index 0–1000")
        feedback.setProgress(100)
        return out
