"""What each ``regio model`` command writes: tables, figures and GeoPackage layers.

Every function stages its files in a :class:`centrality.fileio.OutputSet` (the caller commits),
so a failure in a figure leaves no table behind. Files in ``out_dir``: tables as
``<name>.<fmt>`` (CSV or Parquet), figures as ``figures/<name>.png`` and ``.svg``, layers as
``<name>.gpkg``, and ``data_assembly.<fmt>`` with the data policies of the input tables
(:class:`geoproc.data.assembly.AssemblyReport`) whenever there are any.

Units: as in the tables of :class:`geoproc.model.run.ModelResult` (fractions, persons, percent
where the column says ``pct``).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import pandas as pd

from centrality.errors import InputError
from centrality.fileio import OutputSet
from geoproc.data.assembly import AssemblyReport
from geoproc.model import project as pj
from geoproc.model.params import save_params
from geoproc.plots import charts, maps
from geoproc.plots.classes import year_span

log = logging.getLogger(__name__)

COMPONENTS = ("immigration", "centrality", "own_jobs", "neighbour_jobs", "ds", "attractiveness")


@dataclass
class ProductWriter:
    """Stages the products of one command into ``outputs`` under ``out_dir``.

    Attributes
    ----------
    outputs : OutputSet
        The run's output set (``out_dir`` declared as an owned folder by the caller).
    out_dir : pathlib.Path
        Output folder.
    fmt : {"csv", "parquet"}
        Table format.
    figures : bool
        Draw the PNG/SVG figures.
    notes : list of str
        Things the outputs rest on (appended by the writers; e.g. units without polygons).
    """

    outputs: OutputSet
    out_dir: Path
    fmt: str = "csv"
    figures: bool = True
    notes: list[str] = field(default_factory=list)

    def table(self, name: str, df: pd.DataFrame) -> Path:
        """Stage ``<out_dir>/<name>.<fmt>``.

        Parameters
        ----------
        name : str
            Table name.
        df : pandas.DataFrame
            The table.

        Returns
        -------
        pathlib.Path
            The final path.
        """
        return self.outputs.write_table(self.out_dir / f"{name}.{self.fmt}", df)

    def layer(self, name: str, gdf) -> Path:
        """Stage ``<out_dir>/<name>.gpkg`` with one layer ``name``.

        Parameters
        ----------
        name : str
            Layer (and file) name.
        gdf : geopandas.GeoDataFrame
            The layer.

        Returns
        -------
        pathlib.Path
            The final path.
        """
        return self.outputs.write_gpkg(self.out_dir / f"{name}.gpkg", {name: gdf})

    def figure(self, name: str, draw: Callable[..., object], *args, **kwargs) -> None:
        """Stage ``figures/<name>.png`` and ``.svg`` when figures are on.

        Parameters
        ----------
        name : str
            Figure name.
        draw : callable
            A :mod:`geoproc.plots.charts` function, called as ``draw(*args, staged_path, **kwargs)``.
        *args, **kwargs
            Its data and options.
        """
        if self.figures:
            draw(*args, self.outputs.path(self.out_dir / "figures" / name), **kwargs)

    def choropleth(self, name: str, gdf, column: str, *, title: str, unit_label: str, note: str | None = None) -> None:
        """Stage a diverging choropleth of ``column`` (``figures/<name>.png`` and ``.svg``).

        Parameters
        ----------
        name : str
            Figure name.
        gdf : geopandas.GeoDataFrame
            Polygons with the column.
        column : str
            Mapped value.
        title, unit_label : str
            Title and legend unit.
        note : str, optional
            Footnote (what the map rests on).
        """
        if self.figures:
            fig = maps.choropleth(gdf, column, title=title, unit_label=unit_label, k=5, diverging=True, note=note)
            maps.save_figure(fig, self.outputs.path(self.out_dir / "figures" / name), formats=("png", "svg"))

    def assembly(self, report: AssemblyReport | None) -> None:
        """Stage the data policies of the inputs (``data_assembly``) when there are any.

        Parameters
        ----------
        report : geoproc.data.assembly.AssemblyReport, optional
        """
        if report is not None and report.steps:
            self.table("data_assembly", report.frame())

    def notes_file(self, notes: Sequence[str]) -> Path | None:
        """Stage ``notes.txt``: what the results rest on, one line each (proxy, estimated, ILLUSTRATIVE, …).

        Parameters
        ----------
        notes : sequence of str
            The notes of the run.

        Returns
        -------
        pathlib.Path or None
            The final path (None without notes).
        """
        if not notes:
            return None
        text = "What these results rest on (also in run_manifest.json):\n" + "".join(f"- {n}\n" for n in notes)
        return self.outputs.write_text(self.out_dir / "notes.txt", text)

    def params(self, params) -> Path:
        """Stage ``params.json`` (:func:`geoproc.model.params.save_params`).

        Parameters
        ----------
        params : ModelParams
            The estimated coefficients.

        Returns
        -------
        pathlib.Path
            The final path.
        """
        return self.outputs.write_with(self.out_dir / "params.json", lambda path: save_params(params, path))


def join_polygons(polygons, table: pd.DataFrame, unit: str, names: Mapping[str, str] | None,
                  notes: list[str]):
    """Results joined to unit polygons for GeoPackages and maps.

    Parameters
    ----------
    polygons : geopandas.GeoDataFrame
        ``unit`` column and geometry.
    table : pandas.DataFrame
        One row per unit.
    unit : {"kommune", "region"}
    names : mapping, optional
        kommune -> name.
    notes : list of str
        Units without a polygon (left out of the layer and map) are noted here.

    Returns
    -------
    geopandas.GeoDataFrame
    """
    gdf = polygons.merge(table, on=unit, how="inner")
    if gdf.empty:
        raise InputError(f"no {unit} of the results matches the polygons; check that both use the same codes "
                         "(4-digit 2020 kommune codes).")
    unmatched = sorted(set(table[unit]) - set(gdf[unit]))
    if unmatched:
        notes.append(f"{len(unmatched)} {unit}(s) have no polygon and are not in the GeoPackage/map: {unmatched[:10]}")
        log.warning("%s", notes[-1])
    if names and unit == "kommune" and "name" not in gdf.columns:
        gdf["name"] = gdf["kommune"].map(names)
    return gdf


def rests_on_label(notes: Sequence[str]) -> str | None:
    """A short footnote for figures from a run's notes (PROXY centrality, estimated net migration,
    ILLUSTRATIVE schedules), or None.

    Parameters
    ----------
    notes : sequence of str
        The run's notes.

    Returns
    -------
    str or None
    """
    text = " ".join(notes)
    parts = []
    if "PROXY" in text:
        parts.append("PROXY centrality")
    if "net migration estimated" in text or "ESTIMATED" in text:
        parts.append("estimated net migration")
    if "ILLUSTRATIVE" in text:
        parts.append("ILLUSTRATIVE schedules")
    return "; ".join(parts) or None


def attractiveness_products(w: ProductWriter, result, names: Mapping[str, str] | None, polygons=None) -> None:
    """Tables attractiveness, attractiveness_summary, rankings, expected_contributions; figures
    expectation_line, ranking, attractiveness_series, actual_vs_expected (+ attractiveness_map and
    the attractiveness layer with polygons).

    Parameters
    ----------
    w : ProductWriter
    result : geoproc.model.run.ModelResult
    names : mapping, optional
        kommune -> name labels.
    polygons : geopandas.GeoDataFrame, optional
        Unit polygons.
    """
    unit = result.unit
    summary = result.unit_table()
    if names and unit == "kommune":
        summary.insert(1, "name", summary["kommune"].map(names))
    w.table("attractiveness", result.attractiveness)
    w.table("attractiveness_summary", summary)
    w.table("rankings", result.rankings)
    w.table("expected_contributions", result.expected)
    if result.national_mean is not None:
        w.table("national_mean", result.national_mean)
    w.assembly(result.assembly)
    period = year_span(result.years)
    label = rests_on_label(result.notes)
    labels = names if unit == "kommune" else None
    mean_in = result.inputs.groupby(unit)[["vra_t"]].mean().join(
        result.attractiveness.groupby(unit)[["nm_actual"]].mean(), how="inner")
    w.figure("expectation_line", charts.expectation_scatter, 100 * mean_in["vra_t"].to_numpy(),
             100 * mean_in["nm_actual"].to_numpy(), labels=[(labels or {}).get(k, k) for k in mean_in.index],
             xlabel="Weighted relative job growth VRA (% per year)", ylabel="Net migration (% of population per year)",
             title=f"Net migration against job growth, {period} ({unit} means)")
    w.figure("ranking", charts.ranking_bars, summary.set_index(unit)["attractiveness_pct"], labels=labels,
             title=f"Residential attractiveness {period}: top and bottom 10",
             xlabel="Cumulative attractiveness (% of population)")
    extremes = list(summary[unit].head(3)) + list(summary[unit].tail(3))
    series = result.attractiveness.pivot(index="year", columns=unit, values="attractiveness")[extremes]
    w.figure("attractiveness_series", charts.attractiveness_series,
             series.rename(columns=lambda k: (labels or {}).get(k, k)),
             title=f"Cumulative residential attractiveness, {period}")
    national = result.attractiveness.assign(a=lambda d: d.nm_actual * d.population,
                                            e=lambda d: d.nm_expected * d.population)
    by_year = national.groupby("year")[["a", "e", "population"]].sum()
    ave = pd.DataFrame({"actual": by_year["a"] / by_year["population"],
                        "expected": by_year["e"] / by_year["population"]})
    w.figure("actual_vs_expected", charts.actual_vs_expected, ave, title=f"Actual and expected net migration, all {'kommuner' if unit == 'kommune' else unit + 's'}")
    if polygons is not None:
        gdf = join_polygons(polygons, summary, unit, names, w.notes)
        w.layer("attractiveness", gdf)
        w.choropleth("attractiveness_map", gdf, "attractiveness_pct",
                     title=f"Residential attractiveness {period} (cumulative)", unit_label="% of population",
                     note=label)


def decomposition_products(w: ProductWriter, result, names: Mapping[str, str] | None, polygons=None,
                           units: Sequence[str] | None = None) -> None:
    """Tables decomposition, decomposition_mean; figure decomposition (bars of ``units``, default
    the 5 most attractive); the decomposition layer with polygons.

    Parameters
    ----------
    w : ProductWriter
    result : geoproc.model.run.ModelResult
    names : mapping, optional
    polygons : geopandas.GeoDataFrame, optional
    units : sequence of str, optional
        Unit codes to chart.
    """
    unit = result.unit
    mean = result.decomposition_mean
    wanted = list(units) if units else list(result.cumulative[unit].head(5))
    unknown = sorted(set(wanted) - set(mean[unit]))
    if unknown:
        raise InputError(f"--units {unknown} are not in the results; choose among the {unit} codes of the tables.")
    w.table("decomposition", result.decomposition)
    w.table("decomposition_mean", mean)
    w.assembly(result.assembly)
    natural = "births_surplus" in mean.columns
    parts = (["births_surplus"] if natural else []) + list(COMPONENTS)
    comp = mean.set_index(unit).loc[wanted, parts]
    labels = names if unit == "kommune" and names else {}
    comp.index = [labels.get(k, k) for k in comp.index]
    total = mean.set_index(unit).loc[wanted, "total_change" if natural else "net_migration"]
    total.index = comp.index
    period = year_span(result.years)
    w.figure("decomposition", charts.decomposition_bars, comp, total=total,
             title=f"{'Population change' if natural else 'Net migration'} by component, {period}")
    if polygons is not None:
        w.layer("decomposition", join_polygons(polygons, mean, unit, names, w.notes))


def estimation_products(w: ProductWriter, data: pd.DataFrame, pooled, by_year=None,
                        assembly: AssemblyReport | None = None, comparison: pd.DataFrame | None = None) -> None:
    """Tables estimation_data, coefficients (and coefficients_by_year, coefficients_comparison), params.json.

    Parameters
    ----------
    w : ProductWriter
    data : pandas.DataFrame
        The estimation rows.
    pooled : geoproc.model.estimate.EstimateResult
    by_year : pandas.DataFrame, optional
        :func:`geoproc.model.estimate.by_year_table`.
    assembly : AssemblyReport, optional
    comparison : pandas.DataFrame, optional
        :func:`geoproc.model.estimate.comparison_table` (fits beside the published model 4).
    """
    w.table("estimation_data", data)
    w.table("coefficients", pooled.coefficients)
    if comparison is not None:
        w.table("coefficients_comparison", comparison)
    if by_year is not None:
        w.table("coefficients_by_year", by_year)
    w.assembly(assembly)
    w.params(pooled.params)


def projection_products(w: ProductWriter, result, names: Mapping[str, str] | None, polygons=None, *,
                        by_age: bool = False, official: pd.Series | None = None,
                        units: Sequence[str] = (), extra: Mapping[str, pd.DataFrame] | None = None,
                        note: str | None = None) -> None:
    """Tables projection, projection_summary, projection_components, national_attractiveness;
    figures fan_chart_national (and fan_chart_<kommune> for ``units``); the projection layer and
    projection_map with polygons.

    Parameters
    ----------
    w : ProductWriter
    result : geoproc.model.project.ProjectionResult
    names : mapping, optional
    polygons : geopandas.GeoDataFrame, optional
        Kommune polygons.
    by_age : bool
        Write the projection by sex and age.
    official : pandas.Series, optional
        Official national projection (persons by year) drawn in the fan chart.
    units : sequence of str
        Kommuner to draw a fan chart for.
    extra : mapping, optional
        More tables (name -> DataFrame), e.g. the real-data projection's terms and inputs.
    note : str, optional
        What the figures rest on (default the assumptions label).
    """
    totals = result.totals()
    for code in units:
        if totals[totals["kommune"] == code].empty:
            raise InputError(f"--units {code} is not a kommune of the population table.")
    w.table("projection", result.population_frame(by_age=by_age, include_base=True))
    summary = result.summary()
    if names:
        summary.insert(1, "name", summary["kommune"].map(names))
    w.table("projection_summary", summary)
    w.table("projection_components", result.components)
    w.table("national_attractiveness", result.national_attractiveness)
    for name, table in (extra or {}).items():
        w.table(name, table)
    national = totals.pivot_table(index="year", columns="scenario", values="population", aggfunc="sum")
    national = national[[s for s in pj.SCENARIOS if s in national.columns]]
    note = note or result.assumptions_label
    w.figure("fan_chart_national", charts.fan_chart, national, official=official,
             title=f"Population {year_span(result.years)}, all kommuner ({note})")
    for code in units:
        one = totals[totals["kommune"] == code]
        w.figure(f"fan_chart_{code}", charts.fan_chart, one.pivot(index="year", columns="scenario", values="population"),
                 title=f"{(names or {}).get(code, code)}: population by scenario")
    if polygons is not None:
        wide = summary.pivot(index="kommune", columns="scenario", values="growth_pct").add_prefix("growth_pct_")
        wide = wide.reset_index()
        gdf = join_polygons(polygons, wide, "kommune", names, w.notes)
        w.layer("projection", gdf)
        col = "growth_pct_neutral" if "growth_pct_neutral" in gdf.columns else wide.columns[1]
        w.choropleth("projection_map", gdf, col, title=f"Population growth {year_span(result.years)}, "
                     f"{col.replace('growth_pct_', '')} scenario", unit_label="% growth", note=note)


__all__ = ["ProductWriter", "join_polygons", "attractiveness_products", "decomposition_products",
           "estimation_products", "projection_products"]


def business_products(w: ProductWriter, run, names: Mapping[str, str] | None, polygons=None) -> None:
    """Tables business_attractiveness (per unit and year) and business_summary (per unit, with the
    cumulated attractiveness and rank); figure business_ranking; the layer and map with polygons.

    Parameters
    ----------
    w : ProductWriter
    run : geoproc.model.business.BusinessRun
    names : mapping, optional
        kommune -> name labels.
    polygons : geopandas.GeoDataFrame, optional
        Unit polygons.
    """
    unit = run.unit
    summary = run.summary.copy()
    if names and unit == "kommune":
        summary.insert(1, "name", summary["kommune"].map(names))
    w.table("business_attractiveness", run.yearly)
    w.table("business_summary", summary)
    period = f"{run.years[0]}–{run.years[-1]}"
    labels = names if unit == "kommune" else None
    w.figure("business_ranking", charts.ranking_bars, summary.set_index(unit)["attractiveness_pct"], labels=labels,
             title=f"Business attractiveness {period}: top and bottom 10",
             xlabel="Cumulative business attractiveness (% of private jobs at the start)")
    if polygons is not None:
        gdf = join_polygons(polygons, summary, unit, names, w.notes)
        w.layer("business_attractiveness", gdf)
        w.choropleth("business_attractiveness_map", gdf, "attractiveness_pct",
                     title=f"Business attractiveness {period} (cumulative)", unit_label="% of private jobs")
