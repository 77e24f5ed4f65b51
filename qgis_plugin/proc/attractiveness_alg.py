"""Processing algorithm: expected vs actual net migration and residential attractiveness per kommune."""
from __future__ import annotations

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterNumber,
)

from ..common.convert import source_to_gdf
from . import params as P
from .base import RegioAlgorithm, tr

KOMMUNER = "KOMMUNER"
KOMMUNE_FIELD = "KOMMUNE_FIELD"
CENTRALITY_FIELD = "CENTRALITY_FIELD"
STATS = "STATS"
STATS_FIELDS = {  # parameter -> (column in the model, label, numeric, optional)
    "STATS_KOMMUNE_FIELD": ("kommune", "Kommune number field", False, False),
    "YEAR_FIELD": ("year", "Year field", True, False),
    "NET_MIGRATION_FIELD": ("net_migration", "Net migration field (persons per year, domestic + international)", True, False),
    "POPULATION_FIELD": ("population", "Population field (1 January of the year)", True, False),
    "VRA_T_FIELD": ("vra_t", "VRA field, same year (fraction)", True, False),
    "VRA_T1_FIELD": ("vra_t1", "VRA field, previous year", True, False),
    "VRA_T2_FIELD": ("vra_t2", "VRA field, two years before", True, False),
    "DS_FIELD": ("ds", "Demographic employment supply DS field (fraction, centred; needed by model 4)", True, True),
}
MODEL = "MODEL"
MODELS = ("model4", "model3", "model2", "model1")
START_YEAR = "START_YEAR"
END_YEAR = "END_YEAR"
OUTPUT = "OUTPUT"


class AttractivenessAlgorithm(RegioAlgorithm):
    NAME = "attractiveness"
    DISPLAY = "Attractiveness map"
    GROUP = "model"
    ICON = "attractiveness"
    TAGS = ("attraktivitetsmodellen", "migration", "net migration", "vra", "kommune", "barometer")
    HELP = (
        "The Norwegian attractiveness model (attraktivitetsmodellen, 2022 version): expected net "
        "migration = intercept + VRA terms (weighted relative job growth, this year and two lags) + "
        "centrality (sentny = index/1000 centred over the given kommuner) + demographic supply DS, "
        "with the published coefficients. Residential attractiveness = actual − expected net "
        "migration.<br><b>Kommune layer</b>: polygons with the kommune number and the centrality index "
        "(0–1000, e.g. from the centrality tool's aggregate). <b>Statistics table</b> (a layer or CSV, "
        "one row per kommune and year; 'Model table from SSB files' writes it): kommune, year, net migration (persons), population "
        "(1 January), VRA_t, VRA_t-1, VRA_t-2 as fractions, DS (model 4).<br>Output per kommune: mean "
        "yearly nm_actual, nm_expected and attractiveness (fractions of population), persons per year, "
        "cumulative attractiveness_pct (percent of the start population) and rank (1 = most attractive)."
    )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFeatureSource(
            KOMMUNER, tr("Kommune polygons"), [QgsProcessing.TypeVectorPolygon]))
        self.addParameter(QgsProcessingParameterField(KOMMUNE_FIELD, tr("Kommune number field"),
                                                      parentLayerParameterName=KOMMUNER))
        self.addParameter(QgsProcessingParameterField(
            CENTRALITY_FIELD, tr("Centrality index field (0–1000)"), parentLayerParameterName=KOMMUNER,
            type=QgsProcessingParameterField.Numeric))
        self.addParameter(QgsProcessingParameterFeatureSource(
            STATS, tr("Statistics table (kommune × year)"), [QgsProcessing.TypeVector]))
        for name, (col, label, _numeric, optional) in STATS_FIELDS.items():
            # any field type: CSV files opened directly have text fields; values are converted below
            self.addParameter(QgsProcessingParameterField(
                name, tr(label), defaultValue=None if optional else col, parentLayerParameterName=STATS,
                optional=optional))
        self.addParameter(QgsProcessingParameterEnum(
            MODEL, tr("Coefficients (published models; model4 = current)"), options=list(MODELS), defaultValue=0))
        self.addParameter(P.number(START_YEAR, "First year", None, integer=True, minimum=1900, maximum=2200,
                                   optional=True))
        self.addParameter(P.number(END_YEAR, "Last year", None, integer=True, minimum=1900, maximum=2200,
                                   optional=True))
        self.addParameter(QgsProcessingParameterFeatureSink(OUTPUT, tr("Kommuner with attractiveness"),
                                                            QgsProcessing.TypeVectorPolygon))

    def _stats_frame(self, parameters, context, feedback):
        import pandas as pd

        source = self.parameterAsSource(parameters, STATS, context)
        if source is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, STATS))
        mapping = {}
        for name, (col, label, _numeric, _optional) in STATS_FIELDS.items():
            field = self.parameterAsString(parameters, name, context)
            if field:
                if source.fields().indexFromName(field) < 0:
                    names = ", ".join(f.name() for f in source.fields())
                    raise QgsProcessingException(tr(
                        f"The statistics table has no field '{field}' ({label}); its fields are: {names}. "
                        "Choose the right field."))
                mapping[field] = col
        frame = source_to_gdf(source, columns=list(mapping), keep_fid=False, should_stop=feedback.isCanceled)
        frame = pd.DataFrame(frame.drop(columns="geometry")).rename(columns=mapping)
        numeric = {col for col, _label, is_num, _opt in STATS_FIELDS.values() if is_num}
        for field, col in mapping.items():
            if col in numeric:
                values = pd.to_numeric(frame[col].map(lambda v: v.strip().replace(",", ".") if isinstance(v, str) else v),
                                       errors="coerce")
                bad = values.isna() & frame[col].notna()
                if bad.any():
                    raise QgsProcessingException(tr(
                        f"Statistics field '{field}' has values that are not numbers, e.g. "
                        f"{frame.loc[bad, col].head(3).tolist()}. Fix the table (decimal point or comma, no text)."))
                frame[col] = values
        return frame

    def compute(self, parameters, context, feedback):
        import pandas as pd

        from ..core.attractiveness_payload import kommune_attractiveness, kommune_code

        kommuner = self.parameterAsSource(parameters, KOMMUNER, context)
        if kommuner is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, KOMMUNER))
        code_field = self.parameterAsString(parameters, KOMMUNE_FIELD, context)
        index_field = self.parameterAsString(parameters, CENTRALITY_FIELD, context)
        polys = source_to_gdf(kommuner, columns=None, keep_fid=False, should_stop=feedback.isCanceled)
        polys["kommune"] = kommune_code(polys[code_field])
        if polys["kommune"].isna().any() or polys["kommune"].duplicated().any():
            raise QgsProcessingException(tr(
                f"Kommune field '{code_field}' must be filled and unique on the kommune layer. Fix the layer "
                "or choose another field."))
        centrality = pd.DataFrame({"kommune": polys["kommune"], "index": pd.to_numeric(polys[index_field])})
        if centrality["index"].isna().any():
            bad = polys.loc[centrality["index"].isna(), "kommune"].head(5).tolist()
            raise QgsProcessingException(tr(
                f"Centrality field '{index_field}' is NULL for kommuner {bad}. Fill it (index 0–1000)."))
        stats = self._stats_frame(parameters, context, feedback)
        stats["kommune"] = kommune_code(stats["kommune"])
        outside = sorted(set(stats["kommune"].dropna()) - set(polys["kommune"]))
        if outside:
            feedback.pushInfo(tr(f"{len(outside)} kommuner of the statistics table are not on the kommune layer and "
                                 f"are left out (e.g. {', '.join(outside[:5])}); sentny is centred over the "
                                 f"{polys['kommune'].nunique()} kommuner of the layer."))
            stats = stats[stats["kommune"].isin(polys["kommune"])]
            if stats.empty:
                raise QgsProcessingException(tr(
                    f"No kommune of the statistics table is on the kommune layer (field '{code_field}'). Check that "
                    "both use kommune numbers of the same year."))
        start = self.parameterAsInt(parameters, START_YEAR, context) if parameters.get(START_YEAR) not in (None, "") else None
        end = self.parameterAsInt(parameters, END_YEAR, context) if parameters.get(END_YEAR) not in (None, "") else None
        model = MODELS[self.parameterAsEnum(parameters, MODEL, context)]
        feedback.pushInfo(tr(f"Attractiveness with {model} coefficients for {stats['kommune'].nunique()} kommuner ..."))
        table = kommune_attractiveness(stats, centrality, model, start, end)
        missing = sorted(set(table["kommune"]) - set(polys["kommune"]))
        if missing:
            feedback.pushWarning(tr(f"{len(missing)} kommuner of the statistics table have no polygon: {missing[:10]}"))
        keep = [c for c in polys.columns if c not in table.columns or c == "kommune"]
        out = polys[keep].merge(table, on="kommune", how="inner")
        from ..core.styling import style_for

        years = f"{int(stats['year'].min())}" if stats["year"].nunique() == 1 else \
            f"{int(stats['year'].min())}–{int(stats['year'].max())}"
        note = f"Attractiveness model ({model}, published coefficients), {years}"
        dest = self.write_output(parameters, context, OUTPUT, out,
                                 style_for("attractiveness_pct", note=note))
        best, worst = table.iloc[0], table.iloc[-1]
        feedback.pushInfo(tr(f"{len(table)} kommuner, {years}, {model}: cumulative attractiveness from "
                             f"{worst['attractiveness_pct']:+.2f} % ({worst['kommune']}) to "
                             f"{best['attractiveness_pct']:+.2f} % ({best['kommune']}) of the start population."))
        feedback.setProgress(100)
        return {OUTPUT: dest}


ALGORITHMS = [AttractivenessAlgorithm]
