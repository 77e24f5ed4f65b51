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

from centrality.errors import InputError, require_columns
from centrality.fileio import OutputSet, require_parquet
from geoproc.data import assembly
from geoproc.data.assembly import TableFiles
from geoproc.model import estimate as est
from geoproc.model import products
from geoproc.model import project as pj
from geoproc.model.inputs import ModelTables
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
    on_split : {"main", "raise"}
        Kommuner split in the 2020 reform (data folder, years before 2020).
    unit : {"kommune", "region"}
    params : str
        model1..model4 or a params file.
    immigration_rate : float
        National net immigration, fraction of the population per year (ILLUSTRATIVE default 0.002).
    """

    years: tuple[int, ...]
    files: TableFiles = TableFiles()
    data_dir: str | None = None
    ssb: bool = False
    on_split: str = "main"
    unit: str = "kommune"
    params: str = "model4"
    immigration_rate: float = DEFAULT_IMMIGRATION_RATE

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


def _model(request: ModelRequest):
    if not request.years:
        raise InputError("give the model years with --years (e.g. --years 2015-2021).")
    assembled = assembly.assemble_model_tables(request.years, files=request.files, data_dir=request.data_dir,
                                               ssb=request.ssb, on_split=request.on_split)
    result = run_model(ModelTables.from_assembled(assembled), years=request.years, params=request.params,
                       unit=request.unit, national_immigration_rate=request.immigration_rate)
    return assembled, result


def _polygons(output: OutputOptions, request_data_dir, unit: str, regions):
    return assembly.unit_polygons(unit, kommuner=output.kommuner, kommune_field=output.kommune_field,
                                  data_dir=request_data_dir, regions=regions)


def _finish(out: OutputSet, writer: products.ProductWriter, result, notes: list[str], rests_on: dict) -> CommandResult:
    notes = [*notes, *writer.notes]
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
    if not request.years:
        raise InputError("give the estimation years with --years (e.g. --years 2005-2021).")
    with _outputs(output, request.inputs, "regio model estimate") as out:
        assembled = assembly.assemble_model_tables(request.years, files=request.files, data_dir=request.data_dir,
                                                   ssb=request.ssb, on_split=request.on_split)
        data = est.estimation_data(ModelTables.from_assembled(assembled), years=request.years, terms=terms,
                                   unit=request.unit, national_immigration_rate=request.immigration_rate)
        pooled = est.estimate(data, terms=terms, label="estimate")
        yearly = est.by_year_table(est.estimate(data, terms=terms, by_year=True)) if by_year else None
        writer = _writer(out, output)
        products.estimation_products(writer, data, pooled, yearly, assembled.report)
        done = _finish(out, writer, pooled, assembled.report.notes,
                       {"estimation": {"years": list(request.years), "terms": list(terms), "unit": request.unit,
                                       "n": pooled.n}, "data": assembled.report.summary()})
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
    immigration_rate : float
        National net immigration, fraction per year (ILLUSTRATIVE default).
    fertility, mortality : str, optional
        National schedules (default ILLUSTRATIVE).
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
    immigration_rate: float = DEFAULT_IMMIGRATION_RATE
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
    with _outputs(output, request.inputs, "regio model project") as out:
        population, names, report = assembly.population_and_names(request.population_by_age_sex, request.data_dir)
        user_schedules = bool(request.fertility or request.mortality)
        assumptions = pj.NationalAssumptions(
            net_immigration_rate=request.immigration_rate,
            fertility=assembly.read_schedule(request.fertility, "fertility") if request.fertility
            else pj.illustrative_fertility(),
            mortality=assembly.read_schedule(request.mortality, "mortality") if request.mortality
            else pj.illustrative_mortality(),
            label="user national assumptions" if user_schedules else pj.ILLUSTRATIVE_LABEL)
        result = run_projection(
            population, base_year=request.base_year, horizon=request.horizon, params=request.params,
            centrality=_optional_table(request.centrality, "centrality"), jobs=_optional_table(request.jobs, "jobs"),
            attractiveness=_optional_table(request.attractiveness, "attractiveness"), assumptions=assumptions,
            scenarios=request.scenarios, migration_profile=_optional_table(request.migration_profile,
                                                                           "migration profile"),
            **assembly.read_factors(request.factors))
        official = None
        if request.official:
            off = assembly.read_table(request.official, "official projection")
            require_columns(off.columns, ["year", "population"], "official projection", "Give year, population.")
            official = off.groupby("year")["population"].sum()
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


def _model_summary(request: ModelRequest, result) -> dict:
    return {"years": result.years, "unit": result.unit, "params": result.params.name,
            "immigration_rate": request.immigration_rate,
            "data": result.assembly.summary() if result.assembly is not None else None}


__all__ = ["ModelRequest", "ProjectionRequest", "OutputOptions", "CommandResult", "attractiveness", "decompose",
           "estimate", "project"]
