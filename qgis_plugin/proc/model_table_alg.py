"""Processing algorithm: the attractiveness model's statistics table (VRA, DS, net migration,
population per kommune and year) from the SSB files of a data folder — the QGIS path to the
attractiveness map without the command line."""
from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsProcessing,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFile,
)

from ..common import deps
from . import params as P
from .base import RegioAlgorithm, tr

DATA_DIR = "DATA_DIR"
START_YEAR = "START_YEAR"
END_YEAR = "END_YEAR"
ON_SPLIT = "ON_SPLIT"
ON_SPLIT_OPTIONS = (("weights", "Divide them by the code table's population weights (reported)"),
                    ("raise", "Stop with an error"))
OUTPUT = "OUTPUT"


class ModelTableAlgorithm(RegioAlgorithm):
    NAME = "model_table"
    DISPLAY = "Model table from SSB files"
    GROUP = "model"
    ICON = "model_table"
    TAGS = ("ssb", "vra", "ds", "net migration", "jobs", "commuting", "attraktivitetsmodellen")
    PACKAGES = deps.MODEL_PACKAGES
    HELP = (
        "Builds the statistics table of the attractiveness model from SSB files, one row per kommune and "
        "year: <b>vra_t, vra_t1, vra_t2</b> (weighted relative job growth where residents work, this year "
        "and two lags, fractions; from jobs by place of work, table 11618, and commuting, table 03321), "
        "<b>ds</b> (demographic employment supply, fraction), <b>net_migration</b> (persons) and "
        "<b>population</b> (1 January, persons), with the kommune name.<br><b>Data folder</b>: the layout of "
        "the toolkit's data folder (ssb/employment_11618_…csv, ssb/commuting_03321_…csv, "
        "ssb/population_by_age_…csv, ssb/kommune_regions_2020.csv). Jobs are read from three years before the "
        "first year. Kommune codes are 2020 codes.<br>What the numbers rest on is listed in the log and in "
        "the column <i>rests_on</i> (e.g. net migration estimated by the cohort-survival residual, DS with "
        "illustrative national rates). Feed the table to <b>Attractiveness map</b>."
    )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFile(DATA_DIR, tr("Data folder with the SSB files"),
                                                     behavior=QgsProcessingParameterFile.Folder))
        self.addParameter(P.number(START_YEAR, "First model year", 2020, integer=True, minimum=2000, maximum=2100))
        self.addParameter(P.number(END_YEAR, "Last model year", 2020, integer=True, minimum=2000, maximum=2100))
        self.addParameter(P.advanced(QgsProcessingParameterEnum(
            ON_SPLIT, tr("Jobs before 2020 of kommuner split in the 2020 reform"),
            options=[tr(x[1]) for x in ON_SPLIT_OPTIONS], defaultValue=0)))
        self.addParameter(QgsProcessingParameterFeatureSink(OUTPUT, tr("Model table (kommune × year)"),
                                                            QgsProcessing.TypeVector))

    def check(self, parameters, context) -> list[str]:
        out = []
        folder = Path(self.parameterAsFile(parameters, DATA_DIR, context) or "")
        if not (folder / "ssb").is_dir():
            out.append(tr(f"The data folder '{folder}' has no 'ssb' subfolder with the SSB files. Choose the folder "
                          "that contains ssb/ (e.g. the toolkit's shared data folder)."))
        if self.parameterAsInt(parameters, END_YEAR, context) < self.parameterAsInt(parameters, START_YEAR, context):
            out.append(tr("The last year is before the first year. Swap them."))
        return out

    def compute(self, parameters, context, feedback):
        from ..core.model_table_payload import model_table_from_data_dir
        from ..core.outputs import range_text

        folder = self.parameterAsFile(parameters, DATA_DIR, context)
        first = self.parameterAsInt(parameters, START_YEAR, context)
        last = self.parameterAsInt(parameters, END_YEAR, context)
        feedback.pushInfo(tr(f"Reading the SSB files in {folder} for {first}–{last} …" if last > first else
                             f"Reading the SSB files in {folder} for {first} …"))
        result = model_table_from_data_dir(folder, range(first, last + 1),
                                           on_split=ON_SPLIT_OPTIONS[self.parameterAsEnum(parameters, ON_SPLIT, context)][0])
        table = result.table
        missing = sorted(set(range(first, last + 1)) - set(table["year"]))
        if missing:
            feedback.pushWarning(tr(f"No rows for {', '.join(map(str, missing))}: the files do not cover what "
                                    "these years need (population on 1 January of the next year for net migration, "
                                    "jobs three years back for VRA)."))
        for note in result.notes:
            feedback.pushWarning(tr(f"Rests on: {note}"))
        table = table.assign(rests_on="; ".join(n.split(":")[0] if ":" in n[:30] else n.split(" (")[0]
                                                for n in result.notes))
        years = sorted(table["year"].unique())
        feedback.pushInfo(tr(f"{table['kommune'].nunique()} kommuner × {len(years)} years; vra_t "
                             f"{range_text(table['vra_t'] * 100, 2)} %, net migration "
                             f"{range_text(table['net_migration'] / table['population'] * 100, 2)} % of population."))
        dest = self.write_output(parameters, context, OUTPUT, table)
        feedback.setProgress(100)
        return {OUTPUT: dest}


ALGORITHMS = [ModelTableAlgorithm]
