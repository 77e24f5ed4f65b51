"""One call per ``regio model`` command: assemble the inputs, run the model stage, write the outputs.

The command line (:mod:`geoproc.cli.model_cmd`) only parses arguments into a
:class:`ModelRequest` / :class:`ProjectionRequest` and an :class:`OutputOptions`, calls
:func:`attractiveness`, :func:`decompose`, :func:`estimate` or :func:`project`, and prints the
:class:`CommandResult`. Order of work in each: declare and check the outputs (nothing may
overwrite an input) -> assemble the tables (:mod:`geoproc.data.assembly`, every data policy
reported) -> compute -> stage the products (:mod:`geoproc.model.products`) -> commit together
with ``run_manifest.json`` (what the results rest on: sources, data policies, notes).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import pandas as pd

from centrality.errors import InputError, require_columns
from centrality.fileio import OutputSet, require_parquet
from geoproc.data import assembly
from geoproc.data.assembly import TableFiles
from geoproc.data.dataset import load_dataset
from geoproc.data.plausibility import check_index_scale, check_model_tables
from geoproc.model import business as bz
from geoproc.model import default_centrality as dc
from geoproc.model import estimate as est
from geoproc.model import products
from geoproc.model import project as pj
from geoproc.model import real_projection as rp
from geoproc.model.inputs import ModelTables, available_years
from geoproc.model.params import get_params
from geoproc.model.projection import run_projection
from geoproc.model.run import DEFAULT_IMMIGRATION_RATE, run_model


@dataclass(frozen=True)
class ModelRequest:
    """What a model run is asked for.

    Attributes
    ----------
    years : tuple of int
        Model (or estimation) years.
    files : TableFiles
        The user's tables (with ``data_dir``/``ssb``: extra tables only).
    data_dir : str, optional
        SSB files folder (:func:`geoproc.data.assembly.tables_from_data_dir`).
    ssb : bool
        Download the tables from SSB.
    on_split : {"weights", "raise"}
        Kommuner split in the 2020 reform (data folder, years before 2020).
    unit : {"kommune", "region"}
    params : str
        model1..model4, a params file, or "estimate" (OLS on the same unit-years first).
    immigration_rate : float, optional
        National net immigration, fraction of the population per year, the decomposition's
        baseline. None: Norway's rate of each year from the data when it has national schedules,
        else the ILLUSTRATIVE 0.002 (noted).
    """

    years: tuple[int, ...]
    files: TableFiles = TableFiles()
    data_dir: str | None = None
    ssb: bool = False
    on_split: str = "weights"
    unit: str = "kommune"
    params: str = "model4"
    immigration_rate: float | None = None

    @property
    def inputs(self) -> list:
        """Input files and folders of the request."""
        return [*self.files.given().values(), self.data_dir]


@dataclass(frozen=True)
class OutputOptions:
    """Where and how a command writes.

    Attributes
    ----------
    out_dir : str
        Output folder (owned by the run).
    fmt : {"csv", "parquet"}
        Table format.
    figures : bool
        Draw the figures.
    kommuner : str, optional
        Kommune polygons for the GeoPackage and map (default: the data folder's, if any).
    kommune_field : str
        Kommune code field of ``kommuner``.
    """

    out_dir: str
    fmt: str = "csv"
    figures: bool = True
    kommuner: str | None = None
    kommune_field: str = "kommune"


@dataclass
class CommandResult:
    """What a command produced: the computed result, the files written and lines to print."""

    result: object
    written: list[Path] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@contextmanager
def _outputs(output: OutputOptions, inputs: Sequence, command: str) -> Iterator[OutputSet]:
    if output.fmt == "parquet":
        require_parquet("--format parquet")
    with OutputSet(inputs=[*inputs, output.kommuner], command=command) as out:
        out.declare_folder(output.out_dir, owned=True, what="--out-dir")
        out.check()
        yield out


def _writer(out: OutputSet, output: OutputOptions) -> products.ProductWriter:
    return products.ProductWriter(out, Path(output.out_dir), output.fmt, output.figures)


def _tables(request: ModelRequest, needs_centrality: bool = True):
    """Assemble the tables; with a data folder and no --centrality, the PROXY index (reported)."""
    if not request.years and not request.data_dir:
        raise InputError("give the model years with --years (e.g. --years 2015-2021).")
    years = list(request.years) or [2020]
    assembled = assembly.assemble_model_tables(years, files=request.files, data_dir=request.data_dir,
                                               ssb=request.ssb, on_split=request.on_split)
    if request.data_dir and needs_centrality and assembled.tables.get("centrality") is None:
        assembled.tables["centrality"] = dc.proxy_centrality(request.data_dir)
        assembled.report.add("proxy_centrality", dc.PROXY_LABEL)
    tables = ModelTables.from_assembled(assembled)
    model_years = list(request.years) if request.years else available_years(tables)
    if not model_years:
        raise InputError("the data allow no model year (VRA with two lags needs jobs for t−3 … t); give --years.")
    return assembled, tables, model_years


def _model(request: ModelRequest):
    params = request.params
    needs_centrality = params == "estimate" or get_params(params).coefficients()["sentny"] != 0.0
    assembled, tables, years = _tables(request, needs_centrality)
    notes = []
    if params == "estimate":
        data = est.estimation_data(tables, years=years, unit=request.unit,
                                   national_immigration_rate=request.immigration_rate)
        fit = est.estimate(data, label=f"{request.unit}-years {years[0]}–{years[-1]}")
        params = fit.params
        notes.append(f"coefficients re-estimated by OLS on the same {fit.n} {request.unit}-years (adj. R² "
                     f"{fit.adj_r2:.3f}): the residual attractiveness averages 0")
    result = run_model(tables, years=years, params=params, unit=request.unit,
                       national_immigration_rate=request.immigration_rate)
    result.notes[:0] = notes
    return assembled, result


def _polygons(output: OutputOptions, request_data_dir, unit: str, regions):
    return assembly.unit_polygons(unit, kommuner=output.kommuner, kommune_field=output.kommune_field,
                                  data_dir=request_data_dir, regions=regions)


def _finish(out: OutputSet, writer: products.ProductWriter, result, notes: list[str], rests_on: dict) -> CommandResult:
    notes = list(dict.fromkeys([*notes, *writer.notes]))
    writer.notes_file(notes)
    out.rests_on.update(rests_on)
    out.rests_on["notes"] = notes
    return CommandResult(result=result, written=out.commit(), notes=notes)


def attractiveness(request: ModelRequest, output: OutputOptions) -> CommandResult:
    """``regio model attractiveness``: expected and actual net migration, attractiveness, ranks, maps.

    Parameters
    ----------
    request : ModelRequest
    output : OutputOptions

    Returns
    -------
    CommandResult
        ``result`` is the :class:`geoproc.model.run.ModelResult`.
    """
    with _outputs(output, request.inputs, "regio model attractiveness") as out:
        assembled, result = _model(request)
        writer = _writer(out, output)
        polygons = _polygons(output, request.data_dir, result.unit, assembled.tables.get("regions"))
        products.attractiveness_products(writer, result, assembled.names, polygons)
        return _finish(out, writer, result, result.notes, {"model": _model_summary(request, result)})


def decompose(request: ModelRequest, output: OutputOptions, units: Sequence[str] | None = None) -> CommandResult:
    """``regio model decompose``: net migration (and population change) by component, persons per year.

    Parameters
    ----------
    request : ModelRequest
    output : OutputOptions
    units : sequence of str, optional
        Units to chart (default: the 5 most attractive).

    Returns
    -------
    CommandResult
    """
    with _outputs(output, request.inputs, "regio model decompose") as out:
        assembled, result = _model(request)
        writer = _writer(out, output)
        polygons = _polygons(output, request.data_dir, result.unit, assembled.tables.get("regions"))
        products.decomposition_products(writer, result, assembled.names, polygons, units)
        return _finish(out, writer, result, result.notes, {"model": _model_summary(request, result)})


def estimate(request: ModelRequest, output: OutputOptions, terms: Sequence[str] = est.DEFAULT_TERMS,
             by_year: bool = False) -> CommandResult:
    """``regio model estimate``: OLS re-estimation of the coefficients (pooled, and by year).

    With a data folder the coefficients are estimated on kommune-years AND on region-years (BA
    regions), each also with Norway's net migration rate of the year taken out of the dependent
    variable, and ``coefficients_comparison`` sets them beside the published model 4; the
    requested unit's pooled fit is printed and saved as ``params.json`` (with its centring).

    Parameters
    ----------
    request : ModelRequest
        Default unit for estimation is the region (as the published model).
    output : OutputOptions
    terms : sequence of str
        Regressors.
    by_year : bool
        One regression per year as well.

    Returns
    -------
    CommandResult
        ``result`` is the pooled EstimateResult; ``messages`` holds the coefficient table.
    """
    with _outputs(output, request.inputs, "regio model estimate") as out:
        assembled, tables, years = _tables(request, "sentny" in terms or "ssb_index" in terms)
        span = f"{years[0]}–{years[-1]}"
        units = [request.unit] + ([u for u in ("kommune", "region") if u != request.unit] if request.data_dir else [])
        fits, labels_unit, labels_years, data_main = {}, {}, {}, None
        pooled = yearly = None
        for unit in units:
            data = est.estimation_data(tables, years=years, terms=terms, unit=unit,
                                       national_immigration_rate=request.immigration_rate)
            label = f"{unit}-years {span}"
            fit = est.estimate(data, terms=terms, label=label)
            n_units = data[unit].nunique()
            what = f"{n_units} {'kommuner' if unit == 'kommune' else 'regions'}"
            fits[label], labels_unit[label], labels_years[label] = fit, what, span
            if unit == request.unit:
                pooled, data_main = fit, data
            if "national_rate" in data.columns:
                rel = est.estimate(data.assign(nm_relative=data["nm_actual"] - data["national_rate"]), terms=terms,
                                   y="nm_relative", label=f"{label}, NM − national rate")
                fits[rel.label], labels_unit[rel.label], labels_years[rel.label] = rel, what, span
            if by_year:
                per_year = est.estimate(data, terms=terms, by_year=True, label=unit)
                for y, r in per_year.items():
                    fits[r.label], labels_unit[r.label], labels_years[r.label] = r, what, str(y)
                if unit == request.unit:
                    yearly = est.by_year_table(per_year)
        comparison = est.comparison_table(fits, units=labels_unit, years=labels_years)
        writer = _writer(out, output)
        products.estimation_products(writer, data_main, pooled, yearly, assembled.report, comparison=comparison)
        notes = list(dict.fromkeys([*assembled.report.notes, *data_main.attrs.get("notes", [])]))
        done = _finish(out, writer, pooled, notes,
                       {"estimation": {"years": list(years), "terms": list(terms), "unit": request.unit,
                                       "n": pooled.n, "sentny_mean": pooled.params.sentny_mean,
                                       "centring": pooled.params.centring}, "data": assembled.report.summary()})
        done.messages.append(est.format_table(pooled))
        return done


@dataclass(frozen=True)
class ProjectionRequest:
    """What a projection is asked for (file paths; None = not given).

    Attributes
    ----------
    population_by_age_sex, data_dir : str, optional
        The base population (a file, or the data folder's).
    base_year : int, optional
        Default: the latest year of the population table.
    horizon : int
        Last year (1 January).
    params : str
        model1..model4 or a params file.
    immigration_rate : float, optional
        National net immigration, fraction per year. None: 0.2 % (MODEL.md §4's reading of SSB's main
        alternative; ILLUSTRATIVE in a projection from a population file alone).
    fertility, mortality : str, optional
        National schedules (default: from the data folder's national/ files with ``data_dir``,
        else ILLUSTRATIVE).
    factors, migration_profile, centrality, jobs, attractiveness, official : str, optional
        Kommune factors; migration age profile; centrality (kommune, index); jobs; attractiveness
        (year, kommune, attractiveness); an official projection for the fan chart.
    scenarios : tuple of str
    by_age : bool
    units : tuple of str
        Kommuner to draw a fan chart for.
    """

    population_by_age_sex: str | None = None
    data_dir: str | None = None
    base_year: int | None = None
    horizon: int = 2040
    params: str = "model4"
    immigration_rate: float | None = None
    fertility: str | None = None
    mortality: str | None = None
    factors: str | None = None
    migration_profile: str | None = None
    centrality: str | None = None
    jobs: str | None = None
    attractiveness: str | None = None
    official: str | None = None
    scenarios: tuple[str, ...] = pj.SCENARIOS
    by_age: bool = False
    units: tuple[str, ...] = ()

    @property
    def inputs(self) -> list:
        """Input files and folders of the request."""
        return [self.population_by_age_sex, self.data_dir, self.fertility, self.mortality, self.factors,
                self.migration_profile, self.centrality, self.jobs, self.attractiveness, self.official]


def _optional_table(path, what):
    return None if path is None else assembly.read_table(path, what)


def _official_totals(path) -> pd.Series | None:
    """National population by year (persons) of an official projection file (year, population), or None."""
    if not path:
        return None
    off = assembly.read_table(path, "official projection")
    require_columns(off.columns, ["year", "population"], "official projection", "Give year, population.")
    return off.groupby("year")["population"].sum()


def project(request: ProjectionRequest, output: OutputOptions) -> CommandResult:
    """``regio model project``: cohort-component projection with the attractiveness scenarios.

    Parameters
    ----------
    request : ProjectionRequest
    output : OutputOptions

    Returns
    -------
    CommandResult
        ``result`` is the :class:`geoproc.model.project.ProjectionResult`; ``messages`` the
        national sums of attractiveness per scenario.
    """
    if request.data_dir and not request.population_by_age_sex:
        return _project_real(request, output)
    with _outputs(output, request.inputs, "regio model project") as out:
        population, names, report = assembly.population_and_names(request.population_by_age_sex, request.data_dir)
        user_schedules = bool(request.fertility or request.mortality)
        assumptions = pj.NationalAssumptions(
            net_immigration_rate=DEFAULT_IMMIGRATION_RATE if request.immigration_rate is None
            else request.immigration_rate,
            fertility=assembly.read_schedule(request.fertility, "fertility") if request.fertility
            else pj.illustrative_fertility(),
            mortality=assembly.read_schedule(request.mortality, "mortality") if request.mortality
            else pj.illustrative_mortality(),
            label="user national assumptions" if user_schedules else pj.ILLUSTRATIVE_LABEL)
        given = {"centrality": _optional_table(request.centrality, "centrality"),
                 "jobs": _optional_table(request.jobs, "jobs"),
                 "attractiveness": _optional_table(request.attractiveness, "attractiveness"),
                 "migration_profile": _optional_table(request.migration_profile, "migration profile")}
        check_model_tables({"population_by_age_sex": population, **given}, source="population_by_age_sex")
        result = run_projection(
            population, base_year=request.base_year, horizon=request.horizon, params=request.params,
            centrality=given["centrality"], jobs=given["jobs"], attractiveness=given["attractiveness"],
            assumptions=assumptions, scenarios=request.scenarios, migration_profile=given["migration_profile"],
            **assembly.read_factors(request.factors))
        official = _official_totals(request.official)
        writer = _writer(out, output)
        polygons = _polygons(output, request.data_dir, "kommune", None)
        products.projection_products(writer, result, names, polygons, by_age=request.by_age, official=official,
                                     units=request.units)
        done = _finish(out, writer, result, [result.assumptions_label],
                       {"projection": {"base_year": int(result.years[0]), "horizon": int(result.years[-1]),
                                       "assumptions": result.assumptions_label, "scenarios": list(request.scenarios)},
                        "data": report.summary()})
        nat = result.national_attractiveness.groupby("scenario")["persons"].mean()
        done.messages += [f"national sum of attractiveness, {scen}: {persons:+,.0f} persons per year (zero-sum would "
                          "be 0)" for scen, persons in nat.items()]
        return done


def _project_real(request: ProjectionRequest, output: OutputOptions) -> CommandResult:
    """``regio model project --data-dir``: the real-data projection (:mod:`geoproc.model.real_projection`)."""
    given = [n for n in ("fertility", "mortality", "factors", "migration_profile", "jobs")
             if getattr(request, n) is not None]
    if given:
        raise InputError(f"with --data-dir (and no --population-age-sex) the national schedules, the kommune levels, "
                         f"the migration pattern and the jobs come from the data folder; drop --{given[0].replace('_', '-')}"
                         " or give the base population with --population-age-sex instead.")
    with _outputs(output, request.inputs, "regio model project") as out:
        centrality = _optional_table(request.centrality, "centrality")
        if centrality is not None:
            check_index_scale(centrality)   # 0–1000, not sentny or A (issue 13)
        run = rp.project_from_data(
            request.data_dir, base_year=2022 if request.base_year is None else request.base_year,
            horizon=request.horizon, params=request.params, centrality=centrality, scenarios=request.scenarios,
            attractiveness=_optional_table(request.attractiveness, "attractiveness"),
            immigration_rate=rp.DEFAULT_IMMIGRATION_RATE if request.immigration_rate is None else request.immigration_rate)
        official = _official_totals(request.official)
        writer = _writer(out, output)
        polygons = _polygons(output, request.data_dir, "kommune", None)
        levels = pd.DataFrame({"kommune": run.levels.kommuner, "fertility_level": run.levels.fertility.to_numpy(),
                               "mortality_level": run.levels.mortality.to_numpy()})
        extra = {"projection_terms": run.terms, "projection_inputs": run.inputs, "kommune_levels": levels,
                 "projection_centrality": run.centrality}
        note = products.rests_on_label(run.notes) or run.result.assumptions_label
        products.projection_products(writer, run.result, dict(zip(run.summary["kommune"], run.summary["name"])),
                                     polygons, by_age=request.by_age, official=official, units=request.units,
                                     extra=extra, note=note)
        neutral = run.summary[run.summary["scenario"] == "neutral"]
        done = _finish(out, writer, run, run.notes,
                       {"projection": {"base_year": int(run.result.years[0]), "horizon": int(run.result.years[-1]),
                                       "assumptions": run.result.assumptions_label,
                                       "scenarios": list(run.result.arrays), "sentny_mean": run.sentny_mean,
                                       "declining_neutral": run.declining("neutral") if len(neutral) else None,
                                       "inputs": run.inputs.to_dict("records")}})
        nat = run.result.national_attractiveness.groupby("scenario")["persons"].mean()
        done.messages += [f"national sum of attractiveness, {scen}: {persons:+,.0f} persons per year (zero-sum would "
                          "be 0)" for scen, persons in nat.items()]
        if len(neutral):
            done.messages.append(f"neutral scenario {run.result.years[0]}–{run.result.years[-1]}: "
                                 f"{int((neutral['growth_pct'] < 0).sum())} of {len(neutral)} kommuner decline")
        return done


@dataclass(frozen=True)
class BusinessRequest:
    """What ``regio model business`` is asked for.

    Attributes
    ----------
    jobs_by_branch : str
        The branch table (year, kommune, branch, jobs; docs/usage-model.md).
    population : str, optional
        year, kommune, population (1 January); default the data folder's.
    data_dir : str, optional
        Data folder (population and kommune names, polygons for the map).
    population_elasticity : float, optional
        k; None = estimated by OLS.
    years : tuple of int
        Years (default all the branch table allows).
    """

    jobs_by_branch: str
    population: str | None = None
    data_dir: str | None = None
    population_elasticity: float | None = None
    years: tuple[int, ...] = ()

    @property
    def inputs(self) -> list:
        """Input files and folders of the request."""
        return [self.jobs_by_branch, self.population, self.data_dir]


def business(request: BusinessRequest, output: OutputOptions) -> CommandResult:
    """``regio model business``: shift-share of private job growth and business attractiveness.

    Parameters
    ----------
    request : BusinessRequest
    output : OutputOptions

    Returns
    -------
    CommandResult
        ``result`` is the :class:`geoproc.model.business.BusinessRun`.
    """
    with _outputs(output, request.inputs, "regio model business") as out:
        jobs = assembly.read_table(request.jobs_by_branch, "jobs by branch")
        names = None
        if request.population:
            population = assembly.read_table(request.population, "population")
        elif request.data_dir:
            dataset = load_dataset(request.data_dir)
            population, names = dataset.population, dataset.names
        else:
            raise InputError("give the population (year, kommune, population; 1 January, from 3 years before the "
                             "first year) with --population FILE, or --data-dir FOLDER.")
        run = bz.business_attractiveness(jobs, population, years=list(request.years) or None,
                                         population_elasticity=request.population_elasticity)
        writer = _writer(out, output)
        polygons = _polygons(output, request.data_dir, "kommune", None)
        products.business_products(writer, run, names, polygons)
        return _finish(out, writer, run, run.notes,
                       {"business": {"years": run.years, "population_elasticity": run.population_elasticity}})


def write_branch_template(path: str) -> Path:
    """Write the branch list (branch, sector, group, population_sensitive) as a CSV template.

    Parameters
    ----------
    path : str
        Output CSV path (must not exist as an input; written atomically).

    Returns
    -------
    pathlib.Path
    """
    with OutputSet(command="regio model business --template", manifest=False) as out:
        final = out.declare(path, "branch template")
        out.check()
        out.write_table(final, bz.BRANCHES)
        out.commit()
    return Path(path)


def _model_summary(request: ModelRequest, result) -> dict:
    return {"years": result.years, "unit": result.unit, "params": result.params.name,
            "immigration_rate": request.immigration_rate,
            "data": result.assembly.summary() if result.assembly is not None else None}


__all__ = ["ModelRequest", "ProjectionRequest", "BusinessRequest", "OutputOptions", "CommandResult", "attractiveness",
           "decompose", "estimate", "project", "business", "write_branch_template"]
