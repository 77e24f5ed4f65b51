"""Processing algorithm: road scenario impact (Δ centrality, Δ migrants, Δ population)."""
from __future__ import annotations

from qgis.core import (
    QgsExpression,
    QgsExpressionContext,
    QgsExpressionContextUtils,
    QgsFeatureRequest,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExpression,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterNumber,
)

from ..common.convert import source_to_gdf, write_frame_to_sink
from ..core.styling import attach_style
from . import params as P
from .base import RegioAlgorithm, progress_callback, stop_callback, tr
from .centrality_alg import add_analysis_parameters, analysis_options

USE_SELECTED = "USE_SELECTED"
EXPRESSION = "EXPRESSION"
NEW_ROADS = "NEW_ROADS"
NEW_SPEED = "NEW_SPEED"
NEW_TIME = "NEW_TIME"
TIME_FACTOR = "TIME_FACTOR"
GROUP_FIELD = "GROUP_FIELD"
START_YEAR = "START_YEAR"
END_YEAR = "END_YEAR"
OPENING_YEAR = "OPENING_YEAR"
MODEL = "MODEL"
MODELS = ("model4", "model3")
OUTPUT = "OUTPUT"
LINKS = "LINKS"
GROUPS = "GROUPS"
SUMMARY = "SUMMARY"
SUMMARY_NUMBERS = ("delta_migrants_per_year", "delta_population", "pop_weighted_delta_index", "max_delta_index")


def selected_fids(alg, parameters, context) -> list[int]:
    """Feature ids of the roads to change: the map selection and/or the expression's matches."""
    layer = alg.parameterAsVectorLayer(parameters, P.ROADS, context)
    fids: set[int] = set()
    if alg.parameterAsBool(parameters, USE_SELECTED, context):
        fids |= set(layer.selectedFeatureIds())
    text = alg.parameterAsExpression(parameters, EXPRESSION, context)
    if text:
        expr = QgsExpression(text)
        if expr.hasParserError():
            raise QgsProcessingException(tr(f"The road expression is invalid: {expr.parserErrorString()}. "
                                            "Fix it, e.g. \"ref\" = 'E6'."))
        ectx = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
        request = QgsFeatureRequest(expr, ectx).setNoAttributes().setFlags(QgsFeatureRequest.NoGeometry)
        matched = {f.id() for f in layer.getFeatures(request)}
        if expr.hasEvalError():
            raise QgsProcessingException(tr(f"The road expression failed: {expr.evalErrorString()}."))
        if not matched:
            raise QgsProcessingException(tr(f"The expression {text} matches no road. Check field names and values."))
        fids |= matched
    return sorted(fids)


class RoadScenarioAlgorithm(RegioAlgorithm):
    NAME = "road_scenario"
    DISPLAY = "Road scenario impact"
    HELP = (
        "What would a road improvement do? The roads to change are the <b>selected features</b> of the "
        "road layer and/or the roads matching an <b>expression</b>; <b>new roads</b> (a line layer) are "
        "joined to the nearest network nodes (within 250 m) at their ends. Give the new speed (km/h), "
        "the new travel time of each changed link (minutes) or a factor on today's times.<br>"
        "Centrality is computed for the baseline and the scenario network (the scenario index uses the "
        "baseline's reference, so both are on one scale). Δ expected net migration per year = "
        "β_sentny × Δindex/1000 × population (published model 4 β = 0.0272, 95 % interval from its "
        "standard error), accumulated over the horizon after the opening year.<br>Outputs: zones with "
        "*_base, *_scen and delta_* columns, delta_migrants_per_year (+ low/high) and "
        "delta_population by the end year; the changed links; optional aggregate per group and a summary table."
    )

    def initAlgorithm(self, config=None):  # noqa: N802
        P.add_road_parameters(self, whole_layer=True)
        self.addParameter(QgsProcessingParameterBoolean(
            USE_SELECTED, tr("Change the roads selected on the map"), defaultValue=True))
        self.addParameter(QgsProcessingParameterExpression(
            EXPRESSION, tr("… and/or the roads matching this expression"), parentLayerParameterName=P.ROADS,
            optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            NEW_ROADS, tr("New roads (line layer; optional)"), [QgsProcessing.TypeVectorLine], optional=True))
        for name, label in ((NEW_SPEED, "New speed (km/h)"), (NEW_TIME, "… or new travel time per link (minutes)"),
                            (TIME_FACTOR, "… or factor on current travel times (0.8 = 20 % faster)")):
            self.addParameter(QgsProcessingParameterNumber(name, tr(label), QgsProcessingParameterNumber.Double,
                                                           optional=True, minValue=0.0))
        P.add_zone_parameters(self)
        self.addParameter(QgsProcessingParameterField(
            GROUP_FIELD, tr("Group field for an aggregate (e.g. kommune number; optional)"),
            parentLayerParameterName=P.ZONES, optional=True))
        add_analysis_parameters(self)
        for name, label, default in ((START_YEAR, "First year of the horizon", 2025),
                                     (END_YEAR, "Last year of the horizon", 2040)):
            self.addParameter(QgsProcessingParameterNumber(name, tr(label), QgsProcessingParameterNumber.Integer,
                                                           defaultValue=default))
        self.addParameter(QgsProcessingParameterNumber(
            OPENING_YEAR, tr("Opening year (effects start the year after; optional)"),
            QgsProcessingParameterNumber.Integer, optional=True))
        self.addParameter(QgsProcessingParameterEnum(MODEL, tr("Coefficients"), options=list(MODELS), defaultValue=0))
        self.addParameter(QgsProcessingParameterFeatureSink(OUTPUT, tr("Zones: scenario − baseline"),
                                                            QgsProcessing.TypeVectorAnyGeometry))
        self.addParameter(QgsProcessingParameterFeatureSink(LINKS, tr("Changed links"), QgsProcessing.TypeVectorLine,
                                                            optional=True, createByDefault=True))
        self.addParameter(QgsProcessingParameterFeatureSink(GROUPS, tr("Aggregate per group"),
                                                            QgsProcessing.TypeVectorAnyGeometry, optional=True,
                                                            createByDefault=False))
        self.addParameter(QgsProcessingParameterFeatureSink(SUMMARY, tr("Summary table"), QgsProcessing.TypeVector,
                                                            optional=True, createByDefault=False))
        for key in SUMMARY_NUMBERS:
            self.addOutput(QgsProcessingOutputNumber(key.upper(), key.replace("_", " ")))

    def _edit(self, parameters, context, feedback):
        from ..core.scenario_payload import ScenarioEdit

        def number(name):
            return self.parameterAsDouble(parameters, name, context) if parameters.get(name) not in (None, "") else None

        new_roads = None
        source = self.parameterAsSource(parameters, NEW_ROADS, context)
        if source is not None:
            new_roads = source_to_gdf(source, columns=[], keep_fid=False, should_stop=feedback.isCanceled)
        edit = ScenarioEdit(fids=selected_fids(self, parameters, context), new_roads=new_roads,
                            speed_kmh=number(NEW_SPEED), time_min=number(NEW_TIME), time_factor=number(TIME_FACTOR))
        for value, what in ((edit.speed_kmh, "speed"), (edit.time_min, "travel time"), (edit.time_factor, "factor")):
            if value is not None and value <= 0:
                raise QgsProcessingException(tr(f"The new {what} must be > 0. Use a positive number."))
        feedback.pushInfo(tr(f"Changing {len(edit.fids)} road features"
                             + (f" and adding {len(new_roads)} new roads" if new_roads is not None else "") + "."))
        return edit

    def compute(self, parameters, context, feedback):
        from ..core.scenario_payload import run_scenario_task_payload

        edit = self._edit(parameters, context, feedback)
        group = self.parameterAsString(parameters, GROUP_FIELD, context) or None
        zones = P.zones_gdf(self, parameters, context, feedback, extra_columns=[group])
        roads = P.roads_gdf(self, parameters, context, feedback)
        opening = self.parameterAsInt(parameters, OPENING_YEAR, context) if parameters.get(OPENING_YEAR) not in (None, "") else None
        result = run_scenario_task_payload(
            roads, zones, edit, road_options=P.road_options(self, parameters, context),
            **P.zone_columns(self, parameters, context), group_col=group,
            **analysis_options(self, parameters, context), **P.zone_options(self, parameters, context),
            start_year=self.parameterAsInt(parameters, START_YEAR, context),
            end_year=self.parameterAsInt(parameters, END_YEAR, context), opening_year=opening,
            model=MODELS[self.parameterAsEnum(parameters, MODEL, context)],
            progress=progress_callback(feedback, 0, 95), should_stop=stop_callback(feedback))
        for key, value in result.summary.items():
            feedback.pushInfo(f"  {key}: {value:.4g}" if isinstance(value, float) else f"  {key}: {value}")
        out = {OUTPUT: write_frame_to_sink(self, parameters, context, OUTPUT, result.zones)}
        attach_style(context, out[OUTPUT], "delta_index", "diverging", "index points")
        if parameters.get(LINKS) is not None:
            out[LINKS] = write_frame_to_sink(self, parameters, context, LINKS, result.edited_links)
        if parameters.get(GROUPS) is not None:
            if result.groups is None:
                raise QgsProcessingException(tr("An aggregate output needs a group field. Choose one or drop the output."))
            out[GROUPS] = write_frame_to_sink(self, parameters, context, GROUPS,
                                              groups_with_geometry(result.groups, zones, group))
            attach_style(context, out[GROUPS], "delta_index", "diverging", "index points")
        if parameters.get(SUMMARY) is not None:
            out[SUMMARY] = write_frame_to_sink(self, parameters, context, SUMMARY, summary_frame(result.summary))
        out.update({k.upper(): float(result.summary[k]) for k in SUMMARY_NUMBERS})
        feedback.setProgress(100)
        return out


def groups_with_geometry(groups, zones, group_col: str):
    """Group table with the dissolved zone polygons (polygon zones); a plain table for point zones."""
    import geopandas as gpd

    if not zones.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        return groups
    shapes = zones[[group_col, "geometry"]].dissolve(by=group_col).geometry
    return gpd.GeoDataFrame(groups, geometry=shapes.reindex(groups[group_col].to_numpy()).to_numpy(), crs=zones.crs)


def summary_frame(summary: dict):
    """The summary dict as a two-column table (key, value as text)."""
    import pandas as pd

    return pd.DataFrame({"key": list(summary), "value": [f"{v:.6g}" if isinstance(v, float) else str(v)
                                                          for v in summary.values()]})
