"""Processing algorithm: private-sector job growth by shift-share and business attractiveness
(*næringsattraktivitet*, MODEL.md §3) per kommune, from a jobs-by-branch table.

A thin shell: it reads the two tables (and optionally kommune polygons) from QGIS and calls
:func:`geoproc.model.business.business_attractiveness`, which the command line
(``regio model business``) uses too.
"""
from __future__ import annotations

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
)

from ..common.convert import source_to_gdf
from ..core.styling import style_for
from .base import RegioAlgorithm, tr
from .params import number

JOBS = "JOBS"
JOBS_FIELDS = {  # parameter -> (column in the core, label, numeric)
    "JOBS_KOMMUNE_FIELD": ("kommune", "Kommune number field (jobs table)", False),
    "JOBS_YEAR_FIELD": ("year", "Year field (jobs table)", True),
    "BRANCH_FIELD": ("branch", "Branch field (one of the 25 private branches or municipal/county/state)", False),
    "JOBS_FIELD": ("jobs", "Jobs field (persons employed at the place of work, 4th quarter)", True),
}
POPULATION = "POPULATION"
POP_FIELDS = {
    "POP_KOMMUNE_FIELD": ("kommune", "Kommune number field (population table)", False),
    "POP_YEAR_FIELD": ("year", "Year field (population table)", True),
    "POPULATION_FIELD": ("population", "Population field (1 January)", True),
}
KOMMUNER = "KOMMUNER"
KOMMUNE_FIELD = "KOMMUNE_FIELD"
ELASTICITY = "ELASTICITY"
OUTPUT = "OUTPUT"


def _table(alg, parameters, context, feedback, name: str, fields: dict):
    """A QGIS table/layer as a DataFrame with the core's column names (numbers converted)."""
    import pandas as pd

    source = alg.parameterAsSource(parameters, name, context)
    if source is None:
        raise QgsProcessingException(alg.invalidSourceError(parameters, name))
    mapping = {}
    for param, (col, label, _numeric) in fields.items():
        field = alg.parameterAsString(parameters, param, context)
        if source.fields().indexFromName(field) < 0:
            names = ", ".join(f.name() for f in source.fields())
            raise QgsProcessingException(tr(f"The table has no field '{field}' ({label}); its fields are: {names}."))
        mapping[field] = col
    frame = source_to_gdf(source, columns=list(mapping), keep_fid=False, should_stop=feedback.isCanceled)
    frame = pd.DataFrame(frame.drop(columns="geometry")).rename(columns=mapping)
    for field, col in mapping.items():
        if fields[next(p for p, v in fields.items() if v[0] == col)][2]:
            values = pd.to_numeric(frame[col].map(lambda v: v.strip().replace(",", ".") if isinstance(v, str) else v),
                                   errors="coerce")
            if (values.isna() & frame[col].notna()).any() or values.isna().any():
                raise QgsProcessingException(tr(f"Field '{field}' has empty values or values that are not numbers; "
                                                "fill every row with a number."))
            frame[col] = values
    return frame


class BusinessAttractivenessAlgorithm(RegioAlgorithm):
    NAME = "business_attractiveness"
    DISPLAY = "Business attractiveness (shift-share of private job growth)"
    GROUP = "model"
    ICON = "business"
    TAGS = ("næringsattraktivitet", "shift-share", "branch", "private jobs", "kommune")
    HELP = (
        "Private-sector job growth split by shift-share (MODEL.md §3, the attractiveness model): "
        "<b>national</b> (the kommune's private jobs × national private growth), <b>branch</b> "
        "(its branch mix: Σ jobs_b × (national growth of b − national growth)), <b>population</b> "
        "(population-sensitive branches follow the kommune's population growth over the previous 3 years "
        "relative to Norway's, times the elasticity k) and <b>business attractiveness</b> = actual − the "
        "three (næringsattraktivitet). Public jobs are reported beside.<br><b>Jobs by branch</b>: one row per "
        "kommune, year and branch with the jobs; branches are the 25 private branches (e.g. 'retail', "
        "'construction', 'fisheries and aquaculture') and 'municipal', 'county', 'state' — the list is in "
        "docs/usage-model.md and written by <i>regio model business --template</i>. All kommuner of the "
        "country are needed (national growth is computed from the table). <b>Population</b>: kommune, year, "
        "population on 1 January, including the 3 years before the first year.<br>Leave the elasticity empty "
        "to estimate it by OLS. Output per kommune: yearly means (persons of jobs per year) and the cumulated "
        "attractiveness in percent of the private jobs at the start (attractiveness_pct), rank 1 = most "
        "attractive. Give kommune polygons to get a map layer."
    )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFeatureSource(JOBS, tr("Jobs by branch (kommune × year × branch)"),
                                                              [QgsProcessing.TypeVector]))
        for name, (col, label, _numeric) in JOBS_FIELDS.items():
            self.addParameter(QgsProcessingParameterField(name, tr(label), defaultValue=col,
                                                          parentLayerParameterName=JOBS))
        self.addParameter(QgsProcessingParameterFeatureSource(POPULATION, tr("Population (kommune × year)"),
                                                              [QgsProcessing.TypeVector]))
        for name, (col, label, _numeric) in POP_FIELDS.items():
            self.addParameter(QgsProcessingParameterField(name, tr(label), defaultValue=col,
                                                          parentLayerParameterName=POPULATION))
        self.addParameter(number(ELASTICITY, "Population elasticity k (empty = estimate by OLS)", decimals=2,
                                 minimum=0.0, optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            KOMMUNER, tr("Kommune polygons, for a map layer"), [QgsProcessing.TypeVectorPolygon],
            optional=True))
        self.addParameter(QgsProcessingParameterField(KOMMUNE_FIELD, tr("Kommune number field of the polygons"),
                                                      parentLayerParameterName=KOMMUNER, optional=True))
        self.addParameter(QgsProcessingParameterFeatureSink(OUTPUT, tr("Business attractiveness"),
                                                            QgsProcessing.TypeVectorAnyGeometry))

    def compute(self, parameters, context, feedback):
        from geoproc.model.business import business_attractiveness

        from ..core.attractiveness_payload import kommune_code

        jobs = _table(self, parameters, context, feedback, JOBS, JOBS_FIELDS)
        pop = _table(self, parameters, context, feedback, POPULATION, POP_FIELDS)
        jobs["kommune"], pop["kommune"] = kommune_code(jobs["kommune"]), kommune_code(pop["kommune"])
        k = None
        if parameters.get(ELASTICITY) not in (None, ""):
            k = self.parameterAsDouble(parameters, ELASTICITY, context)
        feedback.pushInfo(tr(f"Shift-share for {jobs['kommune'].nunique()} kommuner, "
                             f"{jobs['branch'].nunique()} branches ..."))
        run = business_attractiveness(jobs, pop, population_elasticity=k)
        for note in run.notes:
            feedback.pushInfo(note)
        table = run.summary
        kommuner = self.parameterAsSource(parameters, KOMMUNER, context)
        if kommuner is not None:
            field = self.parameterAsString(parameters, KOMMUNE_FIELD, context)
            if not field:
                raise QgsProcessingException(tr("Choose the kommune number field of the polygon layer."))
            polys = source_to_gdf(kommuner, columns=[field], keep_fid=False, should_stop=feedback.isCanceled)
            polys["kommune"] = kommune_code(polys[field])
            out = polys[["kommune", "geometry"]].merge(table, on="kommune", how="inner")
            missing = sorted(set(table["kommune"]) - set(out["kommune"]))
            if missing:
                feedback.pushWarning(tr(f"{len(missing)} kommuner have no polygon: {missing[:10]}"))
        else:
            out = table  # a plain table (no geometry)
        years = sorted(int(y) for y in jobs["year"].unique())
        span = f"{years[0]}" if len(years) == 1 else f"{years[0]}–{years[-1]}"
        style = None
        if kommuner is not None:
            style = style_for("attractiveness_pct", title="Business attractiveness, cumulative (% of private jobs)",
                              value_label="% of jobs", note=f"Shift-share of private jobs (MODEL.md §3), {span}")
        dest = self.write_output(parameters, context, OUTPUT, out, style)
        best, worst = table.sort_values("attractiveness_pct").iloc[-1], table.sort_values("attractiveness_pct").iloc[0]
        feedback.pushInfo(tr(f"{len(table)} kommuner, {span}: cumulative business attractiveness from "
                             f"{worst['attractiveness_pct']:+.2f} % ({worst['kommune']}) to "
                             f"{best['attractiveness_pct']:+.2f} % ({best['kommune']}) of the private jobs at the start."))
        feedback.setProgress(100)
        return {OUTPUT: dest}

ALGORITHMS = [BusinessAttractivenessAlgorithm]
