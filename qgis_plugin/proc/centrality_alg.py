"""Processing algorithm: jobs reachable by car, decay-weighted accessibility and the 0–1000
centrality index per zone (+ optional aggregate per group, e.g. kommune)."""
from __future__ import annotations

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterField,
)

from . import params as P
from .base import RegioAlgorithm, progress_callback, stop_callback, tr

GROUP_FIELD = "GROUP_FIELD"
GROUP_NAME_FIELD = "GROUP_NAME_FIELD"
CLASSIFICATION = "CLASSIFICATION"
CLASSIFICATIONS = (("ssb", "SSB centrality classes 1–6"), ("quantile", "Quantiles (5 classes)"),
                   ("jenks", "Natural breaks (Jenks, 5 classes)"))
OUTPUT = "OUTPUT"
GROUPS = "GROUPS"


def index_style(choice: int, note: str = ""):
    """The index layer's style for the CLASSIFICATION choice (0 = SSB classes)."""
    from ..core.styling import style_for

    key = CLASSIFICATIONS[choice][0]
    if key == "ssb":
        return style_for("index", note=note)
    return style_for("index", kind="sequential", mode=key, classes=5, note=note)


def add_group_parameters(alg, parent: str = P.ZONES) -> None:
    alg.addParameter(QgsProcessingParameterField(
        GROUP_FIELD, tr("Group field for an aggregate (e.g. kommune number)"), parentLayerParameterName=parent,
        optional=True))
    alg.addParameter(QgsProcessingParameterField(
        GROUP_NAME_FIELD, tr("Group name field (e.g. kommune name; for labels and tables)"),
        parentLayerParameterName=parent, optional=True))


def group_names(zones, group_col: str | None, name_col: str | None):
    """group value -> name (first name per group), or None."""
    if not group_col or not name_col:
        return None
    return zones[[group_col, name_col]].dropna().drop_duplicates(group_col).set_index(group_col)[name_col]


def with_group_names(groups, names, group_col: str):
    """Groups with a ``name`` column (placed after the group column) when names are known."""
    if groups is None or names is None:
        return groups
    out = groups.copy()
    if "name" in out.columns:  # the core may name a group after one of its zones: the group name field wins
        out["name"] = out[group_col].map(names)
    else:
        out.insert(out.columns.get_loc(group_col) + 1, "name", out[group_col].map(names))
    return out


class CentralityAlgorithm(RegioAlgorithm):
    NAME = "centrality"
    DISPLAY = "Centrality index"
    GROUP = "centrality"
    ICON = "centrality"
    TAGS = ("sentralitetsindeks", "accessibility", "jobs", "travel time", "ssb")
    HELP = (
        "The SSB-style centrality index of every zone: jobs reachable by car within the time limits "
        "(jobs_30min …, jobs), decay-weighted jobs (access_decay; by default a job 45 minutes away counts "
        "10 % of a job next door), the index 0–1000 = 1000·ln(1+A)/ln(1+A<sub>max</sub>) and the SSB class "
        "1 (most central) to 6.<br><b>Travel time</b> (minutes) = zone point to the nearest road at the access "
        "speed + fastest road route + road to the destination zone. Polygon zones use a point inside each "
        "polygon; zones further from a road than the maximum distance are left out and listed in the log."
        "<br><b>Decay</b>: exponential (weight W at T minutes), linear or step; its cutoff follows the "
        "maximum travel time unless given.<br><b>Group field</b> (e.g. kommune number): a population-"
        "weighted aggregate per group (polygon zones: dissolved polygons). All input attributes (names) "
        "are kept. Layers in a geographic CRS are projected to EPSG:25833 (Norway) or the local UTM zone."
    )

    def initAlgorithm(self, config=None):  # noqa: N802
        P.add_zone_parameters(self)
        add_group_parameters(self)
        P.add_road_parameters(self)
        P.add_analysis_parameters(self)
        self.addParameter(QgsProcessingParameterEnum(
            CLASSIFICATION, tr("Map classes of the index"), options=[tr(x[1]) for x in CLASSIFICATIONS],
            defaultValue=0))
        self.addParameter(QgsProcessingParameterFeatureSink(OUTPUT, tr("Zones with accessibility and index"),
                                                            QgsProcessing.TypeVectorAnyGeometry))
        self.addParameter(QgsProcessingParameterFeatureSink(
            GROUPS, tr("Aggregate per group"), QgsProcessing.TypeVectorAnyGeometry, optional=True,
            createByDefault=False))

    def check(self, parameters, context) -> list[str]:
        out = P.check_fields(self, parameters, context, P.ZONES,
                             (P.ZONE_ID_FIELD, P.POP_FIELD, P.JOBS_FIELD, GROUP_FIELD, GROUP_NAME_FIELD), "zones")
        out += P.check_roads(self, parameters, context)
        out += P.check_analysis(self, parameters, context)
        if parameters.get(GROUPS) not in (None, "") and not self.parameterAsString(parameters, GROUP_FIELD, context):
            out.append(tr("The aggregate output needs a group field (e.g. the kommune number). Choose one or "
                          "leave the aggregate output empty."))
        return out

    def compute(self, parameters, context, feedback):
        from centrality.pipeline import group_layer, run_centrality

        from ..core.outputs import centrality_summary

        options = P.analysis_options(self, parameters, context, feedback)
        cols = P.zone_columns(self, parameters, context)
        group = self.parameterAsString(parameters, GROUP_FIELD, context) or None
        name_col = self.parameterAsString(parameters, GROUP_NAME_FIELD, context) or None
        zones = P.zones_gdf(self, parameters, context, feedback)
        network = P.build_network(self, parameters, context, feedback, progress=(0, 20))
        feedback.pushInfo(tr(f"Travel times from {len(zones)} zones (maximum {options['cutoff_min']:g} min, "
                             f"{options['workers']} threads) …"))
        result = run_centrality(network, zones, **cols, group_col=group,
                                **P.zone_options(self, parameters, context), **options,
                                progress=progress_callback(feedback, 20, 95), should_stop=stop_callback(feedback))
        P.report_excluded(feedback, result.excluded)
        style = index_style(self.parameterAsEnum(parameters, CLASSIFICATION, context))
        out = {OUTPUT: self.write_output(parameters, context, OUTPUT, result.zones, style)}
        if parameters.get(GROUPS) not in (None, ""):
            if result.groups is None:
                raise QgsProcessingException(tr("An aggregate output needs a group field. Choose one or drop the output."))
            names = group_names(zones, group, name_col)
            result.groups = with_group_names(result.groups, names, group)
            out[GROUPS] = self.write_output(parameters, context, GROUPS, group_layer(result), style,
                                            layer_name=f"{style.title} per {group}")
        for line in centrality_summary(result, group, "name" if name_col else None):
            feedback.pushInfo(line)
        feedback.setProgress(100)
        return out


ALGORITHMS = [CentralityAlgorithm]
