"""The attractiveness model's statistics table (kommune × year) from the SSB files of a data folder
(QGIS-free; the Processing algorithm and the tests call this). Every step lives in the core:
:func:`geoproc.data.assembly.tables_from_data_dir` reads and assembles the files (policies
reported), :func:`geoproc.model.inputs.assemble_inputs` builds VRA (this year and two lags) and
DS, :func:`geoproc.model.inputs.actual_net_migration` the actual net migration.

Units: net_migration and population in persons (population on 1 January); vra_t, vra_t1, vra_t2
and ds are fractions. The table is what 'Attractiveness map' reads.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

TABLE_COLUMNS = ("year", "kommune", "name", "net_migration", "population", "vra_t", "vra_t1", "vra_t2", "ds")


@dataclass
class ModelTable:
    table: pd.DataFrame                       # TABLE_COLUMNS (+ vra_*_own / vra_*_neighbour when available)
    notes: list[str] = field(default_factory=list)  # what the numbers rest on (policies, approximations)


def model_table_from_data_dir(data_dir, years, *, on_split: str = "weights") -> ModelTable:
    """VRA/DS/net migration per kommune and year for ``years`` from the SSB files in ``data_dir``.

    Parameters
    ----------
    data_dir : path-like
        Folder with ``ssb/*.csv`` (the layout of ``../shared/data``; see its README).
    years : sequence of int
        Model years (jobs are read from three years before the first, for the VRA lags).
    on_split : {"weights", "raise"}
        Jobs before 2020 of kommuner split in the 2020 reform (see the assembly report).
    """
    from geoproc.data.assembly import tables_from_data_dir
    from geoproc.model.inputs import ModelTables, actual_net_migration, assemble_inputs
    from geoproc.model.params import ModelParams

    years = sorted({int(y) for y in years})
    assembled = tables_from_data_dir(data_dir, years, on_split=on_split)
    tables = ModelTables.from_mapping({**assembled.tables, "names": assembled.names})
    design = ModelParams.from_coefficients({"vra_t": 1.0, "vra_t1": 1.0, "vra_t2": 1.0, "ds": 1.0}, name="table")
    inputs = assemble_inputs(tables, years=years, params=design, unit="kommune")
    _, actual = actual_net_migration(tables, inputs, years)
    keep = [c for c in inputs.table.columns if c.startswith(("vra_", "ds")) or c in ("year", "kommune")]
    out = actual[["year", "kommune", "net_migration", "population"]].merge(inputs.table[keep], on=["year", "kommune"],
                                                                        how="inner")
    out.insert(2, "name", out["kommune"].map(assembled.names or {}))
    out = out.sort_values(["year", "kommune"], kind="stable").reset_index(drop=True)
    notes = [f"{s.rule}: {s.detail}" for s in assembled.report.steps] + list(inputs.notes)
    return ModelTable(out, notes)
