"""Processing algorithm: road scenario impact (Δ centrality, Δ migrants, Δ population)."""
from __future__ import annotations

import contextlib

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

from ..common.convert import source_to_gdf
from . import params as P
from .base import RegioAlgorithm, progress_callback, stop_callback, tr
from .centrality_alg import GROUP_FIELD, GROUP_NAME_FIELD, add_group_parameters, group_names, with_group_names

USE_SELECTED = "USE_SELECTED"
EXPRESSION = "EXPRESSION"
NEW_ROADS = "NEW_ROADS"
NEW_SPEED = "NEW_SPEED"
NEW_TIME = "NEW_TIME"
TIME_FACTOR = "TIME_FACTOR"
ALLOW_IMPLAUSIBLE_SPEEDS = "ALLOW_IMPLAUSIBLE_SPEEDS"
START_YEAR = "START_YEAR"
END_YEAR = "END_YEAR"
OPENING_YEAR = "OPENING_YEAR"
MODEL = "MODEL"
MODELS = ("model4", "model3")
OUTPUT = "OUTPUT"
LINKS = "LINKS"
GROUPS = "GROUPS"
SUMMARY = "SUMMARY"
#: the end of the core's message for an edit with implausible speeds (geoproc.scenario.definition, .edits)
EDIT_SPEED_HINT = "allow_implausible_speeds = true to this edit"
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
    GROUP = "scenarios"
    ICON = "road_scenario"
    TAGS = ("scenario", "road", "project", "migration", "population", "impact")
    HELP = (
        "What would a road improvement do? The roads to change are the <b>selected features</b> of the "
        "road layer and/or the roads matching an <b>expression</b> (e.g. \"ref\" = 'E6'); <b>new roads</b> "
        "(a line layer) are joined to the nearest network nodes (within 250 m) at their ends. Give the new "
        "speed (km/h), the new travel time of each changed link (minutes) or a factor on today's times."
        "<br>Centrality is computed for today's and the scenario network (the scenario index uses today's "
        "reference, so both are on one scale). Δ expected net migration per year = β<sub>sentny</sub> × "
        "Δindex/1000 × population (published model 4: β = 0.0272, 95 % interval from its standard error), "
        "accumulated over the horizon after the opening year.<br>Outputs: zones with *_base, *_scen and "
        "delta_* columns, delta_migrants_per_year (+ low/high, persons per year) and delta_population "
        "(persons by the last year); the changed links; optional aggregate per group and a summary table."
        "<br>Edits that give cars speeds outside 1–150 km/h are refused (usually a unit mistake); tick "
        "<i>Accept speeds outside the plausible range</i> (advanced) when they are real."
    )

    def initAlgorithm(self, config=None):  # noqa: N802
        P.add_road_parameters(self, whole_layer=True)
        self.addParameter(QgsProcessingParameterBoolean(
            USE_SELECTED, tr("Change the roads selected on the map"), defaultValue=True))
        self.addParameter(QgsProcessingParameterExpression(
            EXPRESSION, tr("… and/or the roads matching this expression"), parentLayerParameterName=P.ROADS,
            optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            NEW_ROADS, tr("New roads (line layer)"), [QgsProcessing.TypeVectorLine], optional=True))
        for name, label, decimals in ((NEW_SPEED, "New speed (km/h)", 0),
                                      (NEW_TIME, "… or new travel time per link (minutes)", 2),
                                      (TIME_FACTOR, "… or factor on today's travel times (0.8 = 20 % faster)", 2)):
            self.addParameter(P.number(name, label, None, decimals=decimals, minimum=0.0, optional=True))
        allow = QgsProcessingParameterBoolean(
            ALLOW_IMPLAUSIBLE_SPEEDS, tr("Accept speeds outside the plausible range (1–150 km/h for cars)"),
            defaultValue=False)
        allow.setHelp(tr("By default the algorithm stops when the new speed, travel time or factor gives the "
                         "changed or new roads a car speed below 1 or above 150 km/h (ferries 1–80 km/h): "
                         "usually a unit mistake (minutes for seconds, m/s for km/h). Tick this only when "
                         "such speeds are real. Same as allow_implausible_speeds = true in a scenario file."))
        self.addParameter(P.advanced(allow))
        P.add_zone_parameters(self)
        add_group_parameters(self)
        P.add_analysis_parameters(self)
        for name, label, default in ((START_YEAR, "First year of the horizon", 2025),
                                     (END_YEAR, "Last year of the horizon", 2040)):
            self.addParameter(P.number(name, label, default, integer=True, minimum=1900, maximum=2200))
        self.addParameter(P.number(OPENING_YEAR, "Opening year (effects start the year after)", None, integer=True,
                                   minimum=1900, maximum=2200, optional=True))
        self.addParameter(QgsProcessingParameterEnum(MODEL, tr("Coefficients (published attractiveness model)"),
                                                     options=list(MODELS), defaultValue=0))
        self.addParameter(QgsProcessingParameterFeatureSink(OUTPUT, tr("Zones: scenario − today"),
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

    def _number(self, parameters, context, name):
        return self.parameterAsDouble(parameters, name, context) if parameters.get(name) not in (None, "") else None

    def check(self, parameters, context) -> list[str]:
        out = P.check_fields(self, parameters, context, P.ZONES,
                             (P.ZONE_ID_FIELD, P.POP_FIELD, P.JOBS_FIELD, GROUP_FIELD, GROUP_NAME_FIELD), "zones")
        out += P.check_roads(self, parameters, context)
        out += P.check_analysis(self, parameters, context)
        given = [n for n in (NEW_SPEED, NEW_TIME, TIME_FACTOR) if self._number(parameters, context, n) is not None]
        if len(given) != 1:
            out.append(tr("Give exactly one of: new speed (km/h), new travel time (min) or a time factor."))
        for name, what in ((NEW_SPEED, "speed"), (NEW_TIME, "travel time"), (TIME_FACTOR, "factor")):
            value = self._number(parameters, context, name)
            if value is not None and value <= 0:
                out.append(tr(f"The new {what} must be > 0. Use a positive number."))
        text = str(parameters.get(EXPRESSION) or "")
        if text and QgsExpression(text).hasParserError():
            error = " ".join(QgsExpression(text).parserErrorString().split())
            out.append(tr(f"The road expression is invalid: {error}. "
                          "Fix it, e.g. \"ref\" = 'E6'."))
        if self.parameterAsInt(parameters, END_YEAR, context) < self.parameterAsInt(parameters, START_YEAR, context):
            out.append(tr("The last year of the horizon is before the first year. Swap them."))
        if parameters.get(GROUPS) not in (None, "") and not self.parameterAsString(parameters, GROUP_FIELD, context):
            out.append(tr("The aggregate output needs a group field (e.g. the kommune number)."))
        return out

    def _edit(self, parameters, context, feedback):
        from ..core.scenario_payload import ScenarioEdit

        new_roads = None
        source = self.parameterAsSource(parameters, NEW_ROADS, context)
        if source is not None:
            new_roads = source_to_gdf(source, columns=[], keep_fid=False, should_stop=feedback.isCanceled)
        edit = ScenarioEdit(fids=selected_fids(self, parameters, context), new_roads=new_roads,
                            speed_kmh=self._number(parameters, context, NEW_SPEED),
                            time_min=self._number(parameters, context, NEW_TIME),
                            time_factor=self._number(parameters, context, TIME_FACTOR),
                            allow_implausible_speeds=self.parameterAsBool(parameters, ALLOW_IMPLAUSIBLE_SPEEDS,
                                                                          context))
        feedback.pushInfo(tr(f"Changing {len(edit.fids)} road features"
                             + (f" and adding {len(new_roads)} new roads" if new_roads is not None else "") + "."))
        return edit

    def compute(self, parameters, context, feedback):
        from ..core.scenario_payload import run_scenario_task_payload, summary_lines
        from ..core.styling import LayerStyle, style_for

        edit = self._edit(parameters, context, feedback)
        group = self.parameterAsString(parameters, GROUP_FIELD, context) or None
        name_col = self.parameterAsString(parameters, GROUP_NAME_FIELD, context) or None
        zones = P.zones_gdf(self, parameters, context, feedback)
        roads = P.roads_gdf(self, parameters, context, feedback)
        opening = self.parameterAsInt(parameters, OPENING_YEAR, context) if parameters.get(OPENING_YEAR) not in (None, "") else None
        with speed_hint():
            result = run_scenario_task_payload(
                roads, zones, edit, road_options=P.road_options(self, parameters, context),
                **P.zone_columns(self, parameters, context), group_col=group,
                **P.analysis_options(self, parameters, context, feedback), **P.zone_options(self, parameters, context),
                start_year=self.parameterAsInt(parameters, START_YEAR, context),
                end_year=self.parameterAsInt(parameters, END_YEAR, context), opening_year=opening,
                model=MODELS[self.parameterAsEnum(parameters, MODEL, context)],
                progress=progress_callback(feedback, 0, 95), should_stop=stop_callback(feedback))
        groups = with_group_names(result.groups, group_names(zones, group, name_col), group) if group else None
        for line in summary_lines(result.summary):
            feedback.pushInfo(line)
        delta = style_for("delta_index")
        out = {OUTPUT: self.write_output(parameters, context, OUTPUT, result.zones, delta)}
        if parameters.get(LINKS) not in (None, ""):
            out[LINKS] = self.write_output(parameters, context, LINKS, result.edited_links,
                                           LayerStyle("action", "changed_links", "Changed links", "link"))
        if parameters.get(GROUPS) not in (None, ""):
            out[GROUPS] = self.write_output(parameters, context, GROUPS,
                                            groups_with_geometry(groups, zones, group), delta,
                                            layer_name=f"{delta.title} per {group}")
        if parameters.get(SUMMARY) not in (None, ""):
            out[SUMMARY] = self.write_output(parameters, context, SUMMARY, summary_frame(result.summary))
        out.update({k.upper(): float(result.summary[k]) for k in SUMMARY_NUMBERS})
        feedback.setProgress(100)
        return out


@contextlib.contextmanager
def speed_hint():
    """Add where to accept implausible speeds in this dialog to the core's error for an edit."""
    from centrality.errors import InputError

    try:
        yield
    except InputError as exc:
        if EDIT_SPEED_HINT not in str(exc):
            raise
        raise InputError(tr(f"{exc} Here: tick “Accept speeds outside the plausible range” under Advanced "
                            "parameters.")) from None


def groups_with_geometry(groups, zones, group_col: str):
    """Group table with the dissolved zone polygons (polygon zones); a plain table for point zones."""
    import geopandas as gpd

    from centrality.fileio import mark_means

    if not zones.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        return groups
    shapes = zones[[group_col, "geometry"]].dissolve(by=group_col).geometry
    return mark_means(gpd.GeoDataFrame(groups, geometry=shapes.reindex(groups[group_col].to_numpy()).to_numpy(),
                                       crs=zones.crs), like=groups)


def summary_frame(summary: dict):
    """The summary dict as a two-column table (key, value as text)."""
    import pandas as pd

    return pd.DataFrame({"key": list(summary), "value": [f"{v:.6g}" if isinstance(v, float) else str(v)
                                                          for v in summary.values()]})


ALGORITHMS = [RoadScenarioAlgorithm]
