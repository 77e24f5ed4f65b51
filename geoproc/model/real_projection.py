"""Cohort-component projection per kommune from the real data folder (MODEL.md §4).

:func:`project_dataset` assembles everything from a harmonised :class:`~geoproc.data.dataset.Dataset`:

- base population: 1 January of ``base_year`` by sex and single age (2020 kommune structure);
- national assumptions (:class:`~geoproc.model.project.NationalAssumptions`): fertility of the
  national file for each year, the last year (2022) carried forward; mortality of the national
  file for each year, after the last year (2023) lowered by the 2000–2019 trend of ln m by sex and
  age (``mortality_improvement='trend'``; ``'constant'`` carries 2023 forward); share of boys at
  birth from the last 10 years of births; net immigration ``immigration_rate`` of the population
  a year spread in proportion to population (default 0.2 %, MODEL.md §4's reading of SSB's main
  alternative MMM; SSB's projection itself is not in the data);
- each kommune's fertility and mortality level and net-migration age pattern over the 10 years
  before the base year (:func:`geoproc.model.netmigration.kommune_levels`);
- the model's expected net migration every year (:class:`~geoproc.model.migration_model.ProjectionMigration`):
  centrality (default: the PROXY index of :mod:`geoproc.model.default_centrality`), DS from the
  projected population, VRA from jobs growing with the projected population;
- attractiveness scenarios neutral / historical / high / low (:func:`geoproc.model.project.scenario_levels`);
  attractiveness is zero-sum nationally, which the ``high`` scenario (everyone at the 80th
  percentile) cannot be: the result reports each scenario's national sum.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np
import pandas as pd

from centrality.errors import InputError
from geoproc.data import assembly
from geoproc.data.dataset import Dataset, load_dataset
from geoproc.model import default_centrality as dc
from geoproc.model import ds as dsm
from geoproc.model import migration_model as mm
from geoproc.model import netmigration as nmm
from geoproc.model import project as pj
from geoproc.model.inputs import ModelTables, available_years
from geoproc.model.params import ModelParams, get_params
from geoproc.model.run import run_model

DEFAULT_IMMIGRATION_RATE = 0.002  # MODEL.md §4: SSB's main alternative, ≈ 0.2 % of the population a year


@dataclass
class ProjectionRun:
    """A real-data projection and everything it rests on.

    - ``result``: :class:`~geoproc.model.project.ProjectionResult` (arrays, components, levels)
    - ``summary``: kommune, name, scenario, start_year, end_year, population_start,
      population_end, growth_pct (percent)
    - ``terms``: the neutral scenario's model terms per year and kommune (fractions)
    - ``centrality``: kommune, index, sentny; ``sentny_mean`` the centring mean (index/1000)
    - ``inputs``: one row per documented assumption (name, value, source)
    - ``notes``: what the numbers rest on (proxy centrality, carried-forward schedules, …)
    """

    result: pj.ProjectionResult
    summary: pd.DataFrame
    terms: pd.DataFrame
    centrality: pd.DataFrame
    sentny_mean: float
    levels: nmm.KommuneLevels
    inputs: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def declining(self, scenario: str = "neutral") -> int:
        """Number of kommuner whose population falls over the projection.

        Parameters
        ----------
        scenario : str, default "neutral"
            Scenario.

        Returns
        -------
        int
        """
        s = self.summary[self.summary["scenario"] == scenario]
        return int((s["growth_pct"] < 0).sum())


def national_assumptions(dataset: Dataset, base_year: int, horizon: int, *, immigration_rate: float,
                         mortality_improvement: str = "trend") -> pj.NationalAssumptions:
    """National fertility, mortality, immigration and sex ratio for the projected years (module docstring).

    Parameters
    ----------
    dataset : Dataset
        Its national schedules.
    base_year, horizon : int
        1 January of the base year and of the last year.
    immigration_rate : float
        Net immigration, fraction of the population per year.
    mortality_improvement : {"trend", "constant"}, default "trend"
        After the last year of the mortality file.

    Returns
    -------
    geoproc.model.project.NationalAssumptions
        With a label naming the sources and what was carried forward or extrapolated.
    """
    nat = dataset.national
    years = list(range(int(base_year), int(horizon)))
    fert = np.stack([nat.f_array(y) for y in years])
    mort = nat.q_path(years, improvement=mortality_improvement)
    boys = nat.share_boys()
    f_last, m_last = nat.fertility_years[1], nat.mortality_years[1]
    fert_text = f"fertility to {f_last}" + (f", then {f_last} carried forward" if max(years) > f_last else "")
    mort_text = f"mortality to {m_last}" + ((", then the 2000–2019 trend" if mortality_improvement == "trend"
                                              else f", then {m_last} carried forward") if max(years) > m_last else "")
    label = f"HMD/HFD national schedules ({fert_text}; {mort_text}); net immigration {100 * immigration_rate:.2f} %/yr"
    return pj.NationalAssumptions(net_immigration_rate=float(immigration_rate), fertility=fert, mortality=mort,
                                  sex_ratio_at_birth=boys / (1.0 - boys), label=label)


@dataclass
class ProjectionSetup:
    """Everything :func:`geoproc.model.project.project` needs for a real-data projection.

    - ``population``: (k, 2, 106) persons on 1 January ``base_year``; ``kommuner`` its rows
    - ``assumptions``: national fertility, mortality, immigration (labelled with their sources)
    - ``migration``: the model's expected net migration (:class:`~geoproc.model.migration_model.ProjectionMigration`)
    - ``demography``: the kommune levels passed to ``project`` (fertility_factor, mortality_factor,
      migration_rates)
    - ``centrality``: kommune, index, sentny; ``sentny_mean`` the centring mean (index/1000)
    - ``inputs``, ``notes``: what the projection rests on; ``names``: kommune names
    """

    population: np.ndarray
    kommuner: list[str]
    base_year: int
    horizon: int
    assumptions: pj.NationalAssumptions
    migration: mm.ProjectionMigration
    demography: dict
    centrality: pd.DataFrame
    sentny_mean: float
    levels: nmm.KommuneLevels
    inputs: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    names: object = None

    def project(self, expected_domestic=None, *, scenarios: Sequence[str] = ("neutral",),
                historical: pd.Series | None = None) -> pj.ProjectionResult:
        """Run :func:`geoproc.model.project.project` on this setup.

        Parameters
        ----------
        expected_domestic : callable, optional
            The model migration (default ``self.migration``), e.g. one with a road project's Δ.
        scenarios : sequence of str, default ("neutral",)
            Attractiveness scenarios.
        historical : pandas.Series, optional
            Historical attractiveness levels (for historical/high/low).

        Returns
        -------
        geoproc.model.project.ProjectionResult
        """
        return pj.project(self.population, kommuner=self.kommuner, base_year=self.base_year, horizon=self.horizon,
                          assumptions=self.assumptions,
                          expected_domestic=self.migration if expected_domestic is None else expected_domestic,
                          historical=historical, scenarios=tuple(scenarios), **self.demography)


def prepare_projection(dataset: Dataset, *, base_year: int = 2022, horizon: int = 2040,
                       params: ModelParams | str | None = "model4", centrality: pd.DataFrame | None = None,
                       sentny_mean: float | None = None, immigration_rate: float = DEFAULT_IMMIGRATION_RATE,
                       mortality_improvement: str = "trend", ds_denominator: str = "employed",
                       population_effect: float | None = None, balance: bool = False, intercept: bool = False,
                       window: int = 10, net_migration: nmm.NetMigration | None = None,
                       ds_centring: str = "regions", kommune_levels: bool = True, migration_pattern: bool = True,
                       jobs_respond: bool = True, illustrative_schedules: bool = False) -> ProjectionSetup:
    """Everything the real-data projection needs, assembled from ``dataset`` (the module docstring).

    The arguments are those of :func:`project_dataset` without the scenarios. Used by
    :func:`project_dataset` and by the road-scenario projections with and without a project
    (:mod:`geoproc.model.scenario_projection`), so both rest on one assembly.

    Parameters
    ----------
    dataset : Dataset
        The harmonised data (:func:`geoproc.data.dataset.load_dataset`).
    base_year, horizon : int
        1 January of the base population and of the last year.
    params : ModelParams or str, default "model4"
        Coefficients.
    centrality : pandas.DataFrame, optional
        kommune, index (0–1000); default the PROXY index.
    sentny_mean : float, optional
        Centring mean (index/1000).
    immigration_rate : float, default 0.002
        National net immigration, fraction of the population per year.
    mortality_improvement : {"trend", "constant"}, default "trend"
        National mortality after the last year of the file.
    ds_denominator : {"employed", "jobs"}, default "employed"
        DS relative to employed residents or to jobs.
    population_effect : float, optional
        k of the jobs' population effect; default estimated from the data.
    balance : bool, default False
        Force domestic moves to sum to zero each year.
    intercept : bool, default False
        Add the regression intercept.
    window : int, default 10
        Years of the kommune levels and migration patterns.
    net_migration : NetMigration, optional
        A cohort-component estimate to reuse.
    ds_centring : {"regions", "kommuner"}, default "regions"
        Units DS is centred over each year.
    kommune_levels, migration_pattern, jobs_respond : bool, default True
        Sensitivity switches (see :func:`project_dataset`).
    illustrative_schedules : bool, default False
        Sensitivity switch: the ILLUSTRATIVE national schedules (labelled so).

    Returns
    -------
    ProjectionSetup
    """
    params = get_params(params)
    dataset = dataset.for_run()
    base_year, horizon = int(base_year), int(horizon)
    pop_years = sorted(dataset.population["year"].unique())
    if base_year not in pop_years:
        raise InputError(f"no population for 1 January {base_year}; the data have {pop_years[0]}–{pop_years[-1]}. "
                         "Choose --base-year within that range.")
    if horizon <= base_year:
        raise InputError(f"horizon {horizon} must be after the base year {base_year}; e.g. --horizon 2040.")
    notes: list[str] = []
    kommuner = dataset.kommuner
    pas = dataset.population_age_sex
    arr, codes, _ = pj.population_array(pas[pas["year"] <= base_year], base_year)
    if codes != kommuner:
        raise InputError("the base population lacks kommuner of the dataset; use one harmonised dataset.")
    nm = net_migration or nmm.estimate_net_migration(pas, dataset.national)
    levels = nmm.kommune_levels(pas, dataset.national, nm, base_year=base_year, window=window)
    notes += levels.notes
    # centrality
    if centrality is None:
        centrality = dc.proxy_centrality(dataset.data_dir)
    if centrality.attrs.get("proxy"):
        notes.append(dc.PROXY_LABEL)
    cent = centrality.assign(kommune=centrality["kommune"].astype(str)).set_index("kommune")["index"]
    missing = [k for k in kommuner if k not in cent.index]
    if missing:
        raise InputError(f"centrality has no index for kommuner {missing[:5]}; give one per 2020 kommune.")
    if sentny_mean is None:
        sentny_mean = getattr(params, "sentny_mean", None)
    if sentny_mean is None:
        pop20 = dataset.population[dataset.population["year"] == min(max(pop_years), 2020)]
        sentny_mean = dc.region_centring_mean(cent.rename("index").reset_index(), pop20, dataset.regions)
        notes.append(f"sentny centred on {sentny_mean:.4f} (index/1000): the unweighted mean over BA regions of the "
                     "population-weighted region index, the available analogue of the published model's region sample")
        if dataset.own_region_note:
            notes.append(dataset.own_region_note)
    sentny = cent.reindex(kommuner).to_numpy(dtype=float) / 1000.0 - float(sentny_mean)
    # employment, jobs, commuting
    rates = dsm.calibrated_employment_rates(pas, dataset.employment)
    e_year = min(base_year, int(dataset.employment["year"].max()))
    e_arr = dsm.employment_array(rates[rates["year"] == e_year])
    emp = dataset.employment[dataset.employment["year"] == e_year].set_index("kommune").reindex(kommuner)
    pop_e = pas[pas["year"] == e_year + 1] if e_year + 1 in pop_years else pas[pas["year"] == e_year]
    arr_e, _, _ = pj.population_array(pop_e, None)
    model_emp = (arr_e * e_arr[None]).sum(axis=(1, 2))
    emp_level = emp["employed_by_residence"].to_numpy(dtype=float) / model_emp
    jobs_year = e_year
    jobs0 = dataset.jobs[dataset.jobs["year"] == jobs_year].set_index("kommune")["jobs"].reindex(kommuner).to_numpy(float)
    com_year = min(base_year, int(dataset.commuting["year"].max()))
    shares = mm.shares_matrix(dataset.commuting, kommuner, com_year)
    if population_effect is None:
        k, k_se, k_n = mm.estimate_job_population_effect(dataset.jobs, dataset.population)
        population_effect = k
        notes.append(f"population effect on jobs k = {k:.3f} (SE {k_se:.3f}, {k_n} kommune-years, WLS of relative "
                     "job growth on 3-year relative population growth, SSB 11618 jobs)")
    observed = mm.relative_job_growth_matrix(dataset.jobs, kommuner)
    if not jobs_respond:
        observed, population_effect = {}, 0.0
        notes.append("sensitivity run: jobs grow at the national rate everywhere (VRA = 0)")
    history = {int(y): g.set_index("kommune")["population"].reindex(kommuner).to_numpy(float)
               for y, g in dataset.population.groupby("year") if y <= base_year}
    if ds_centring not in ("regions", "kommuner"):
        raise InputError(f"ds_centring must be 'regions' or 'kommuner', not {ds_centring!r}.")
    region_of = None
    if ds_centring == "regions":
        reg = dataset.regions.set_index("kommune")["region"].reindex(kommuner)
        region_of = pd.factorize(reg)[0]
    assumptions = national_assumptions(dataset, base_year, horizon, immigration_rate=immigration_rate,
                                       mortality_improvement=mortality_improvement)
    if illustrative_schedules:
        assumptions = pj.NationalAssumptions(net_immigration_rate=float(immigration_rate))
        notes.append("sensitivity run: " + pj.ILLUSTRATIVE_LABEL)
    _, _, mort = assumptions.schedules(horizon - base_year)
    migration = mm.ProjectionMigration(params=params, kommuner=kommuner, base_year=base_year, sentny=sentny,
                                       employment=e_arr, mortality=np.asarray(mort), jobs=jobs0, shares=shares,
                                       observed_ra=observed, population_history=history,
                                       population_effect=float(population_effect), employment_level=emp_level,
                                       ds_denominator=ds_denominator, intercept=intercept, balance=balance,
                                       region_of=region_of)
    demography = dict(fertility_factor=levels.fertility if kommune_levels else None,
                      mortality_factor=levels.mortality if kommune_levels else None,
                      migration_rates=levels.migration_rates if migration_pattern else None)
    if not kommune_levels:
        notes.append("sensitivity run: national fertility and mortality in every kommune")
    if not migration_pattern:
        notes.append("sensitivity run: Rogers–Castro standard migration age schedule instead of the kommune's pattern")
    notes += dataset.national.notes()
    names = dataset.names
    inputs = pd.DataFrame([
        ("base population", f"1 January {base_year}, {len(kommuner)} kommuner ({dataset.structure} structure)",
         "ssb/population_by_age_sex_2005_2026.csv.gz"),
        ("national schedules", assumptions.label, "national/ (HMD, HFD)"),
        ("net immigration", f"{immigration_rate:.4f} of the population a year, in proportion to population",
         "MODEL.md §4 (SSB MMM ≈ 0.2 %)"),
        ("coefficients", params.name or "user", "MODEL.md §2.3" if params.name in ("model1", "model2", "model3", "model4")
         else "user estimate"),
        ("sentny centring mean", f"{sentny_mean:.4f}", "see notes"),
        ("centrality", centrality.attrs.get("source", "user --centrality table"), ""),
        ("employment rates", f"{rates.attrs.get('source', '')}; {e_year} level", "geoproc.model.ds"),
        ("DS denominator", ds_denominator, "geoproc.model.migration_model"),
        ("population effect on jobs", f"{population_effect:.3f}", "estimated from SSB 11618 and population"),
        ("commuting shares", str(com_year), "ssb/commuting_03321_*.csv"),
        ("kommune levels window", f"{levels.years[0]}–{levels.years[-1]}", "geoproc.model.netmigration"),
        ("domestic balance", "zero-sum" if balance else "not balanced (as the model's expected net migration)", ""),
        ("intercept", "included" if intercept else "left out (baseline = national immigration, MODEL.md §2.5)", ""),
    ], columns=["name", "value", "source"])
    cent_table = pd.DataFrame({"kommune": kommuner, "index": cent.reindex(kommuner).to_numpy(float), "sentny": sentny})
    return ProjectionSetup(population=arr, kommuner=kommuner, base_year=base_year, horizon=horizon,
                           assumptions=assumptions, migration=migration, demography=demography,
                           centrality=cent_table, sentny_mean=float(sentny_mean), levels=levels, inputs=inputs,
                           notes=notes, names=names)


def project_dataset(dataset: Dataset, *, base_year: int = 2022, horizon: int = 2040,
                    params: ModelParams | str | None = "model4", centrality: pd.DataFrame | None = None,
                    sentny_mean: float | None = None, immigration_rate: float = DEFAULT_IMMIGRATION_RATE,
                    historical: pd.Series | None = None, scenarios: Sequence[str] = pj.SCENARIOS,
                    mortality_improvement: str = "trend", ds_denominator: str = "employed",
                    population_effect: float | None = None, balance: bool = False, intercept: bool = False,
                    window: int = 10, net_migration: nmm.NetMigration | None = None,
                    ds_centring: str = "regions", kommune_levels: bool = True, migration_pattern: bool = True,
                    jobs_respond: bool = True, illustrative_schedules: bool = False) -> ProjectionRun:
    """Project every kommune of ``dataset`` from 1 January ``base_year`` to 1 January ``horizon``.

    Parameters
    ----------
    dataset : Dataset
        The harmonised data (:func:`geoproc.data.dataset.load_dataset`).
    base_year, horizon : int
        Default 2022 and 2040 (18 yearly steps).
    params : ModelParams or str, default "model4"
        Coefficients.
    centrality : pandas.DataFrame, optional
        kommune, index (0–1000); default the PROXY index.
    sentny_mean : float, optional
        Centring mean (index/1000); default the mean stored with ``params`` or, for the published
        coefficients, the BA-region analogue of their region sample.
    immigration_rate : float, default 0.002
        National net immigration, fraction of the population per year.
    historical : pandas.Series, optional
        Each kommune's recent mean attractiveness (fraction per year) for the historical/high/low
        scenarios; without it only ``neutral`` runs.
    scenarios : sequence of str
        Scenarios.
    mortality_improvement : {"trend", "constant"}, default "trend"
        National mortality after the last year of the file.
    ds_denominator : {"employed", "jobs"}, default "employed"
        DS relative to employed residents or to jobs.
    population_effect : float, optional
        k of the jobs' population effect; default estimated from the data.
    balance : bool, default False
        Force domestic moves to sum to zero each year.
    intercept : bool, default False
        Add the regression intercept.
    window : int, default 10
        Years of the kommune levels and migration patterns.
    net_migration : NetMigration, optional
        A cohort-component estimate to reuse.
    ds_centring : {"regions", "kommuner"}, default "regions"
        Units DS is centred over each year.
    kommune_levels, migration_pattern, jobs_respond : bool, default True
        Sensitivity switches: False uses national fertility/mortality everywhere, the Rogers–Castro
        schedule, or jobs fixed to the national rate (VRA = 0).
    illustrative_schedules : bool, default False
        Sensitivity switch: the ILLUSTRATIVE national schedules (labelled so).

    Returns
    -------
    ProjectionRun
    """
    setup = prepare_projection(dataset, base_year=base_year, horizon=horizon, params=params, centrality=centrality,
                               sentny_mean=sentny_mean, immigration_rate=immigration_rate,
                               mortality_improvement=mortality_improvement, ds_denominator=ds_denominator,
                               population_effect=population_effect, balance=balance, intercept=intercept,
                               window=window, net_migration=net_migration, ds_centring=ds_centring,
                               kommune_levels=kommune_levels, migration_pattern=migration_pattern,
                               jobs_respond=jobs_respond, illustrative_schedules=illustrative_schedules)
    notes = list(setup.notes)
    if historical is None:
        scenarios = [s for s in scenarios if s == "neutral"]
        notes.append("no historical attractiveness given: only the neutral scenario is projected")
    result = setup.project(scenarios=scenarios, historical=historical)
    # the neutral run's terms (the callable restarts per scenario; re-run neutral last if needed)
    terms = setup.migration.terms_table()
    if scenarios and scenarios[-1] != "neutral":
        setup.project(scenarios=("neutral",))
        terms = setup.migration.terms_table()
    summary = result.summary()
    summary.insert(1, "name", summary["kommune"].map(setup.names))
    return ProjectionRun(result=result, summary=summary, terms=terms, centrality=setup.centrality,
                         sentny_mean=setup.sentny_mean, levels=setup.levels, inputs=setup.inputs, notes=notes)


def project_from_data(data_dir=None, *, base_year: int = 2022, horizon: int = 2040,
                      params: ModelParams | str | None = "model4", centrality: pd.DataFrame | None = None,
                      scenarios: Sequence[str] = pj.SCENARIOS, attractiveness: pd.DataFrame | None = None,
                      net_migration: pd.DataFrame | None = None, **kwargs) -> ProjectionRun:
    """One call for ``regio model project --data-dir``: data, attractiveness, projection.

    Parameters
    ----------
    data_dir : path-like, optional
        The data folder (default ``$REGIO_DATA_DIR``).
    base_year, horizon : int
        1 January of the base population and of the last projected year.
    params : ModelParams or str
        Coefficients (default the published model 4).
    centrality : pandas.DataFrame, optional
        kommune, index; default the PROXY index.
    scenarios : sequence of str
        Scenarios to project.
    attractiveness : pandas.DataFrame, optional
        year, kommune, attractiveness (e.g. a previous ``regio model attractiveness`` run); its
        last 10 years before the base year give the historical levels. Default: computed here
        with :func:`geoproc.model.run.run_model` on the real data, same coefficients and
        centrality, for the model years the data allow before the base year.
    net_migration : pandas.DataFrame, optional
        SSB's net migration (year, kommune, net_migration) for that attractiveness run.
    **kwargs
        Passed to :func:`project_dataset`.

    Returns
    -------
    ProjectionRun
    """
    dataset = load_dataset(data_dir).for_run()
    nm = nmm.estimate_net_migration(dataset.population_age_sex, dataset.national)
    if centrality is None:
        centrality = dc.proxy_centrality(dataset.data_dir)
    notes = []
    historical = None
    if any(s != "neutral" for s in scenarios):
        if attractiveness is not None:
            historical = pj.historical_attractiveness(attractiveness, last_n_years=10, end_year=int(base_year) - 1)
            notes.append("historical attractiveness: mean of the given table's last 10 years before the base year")
        else:
            assembled = assembly.tables_from_data_dir(dataset.data_dir, [int(base_year) - 1])
            tables = ModelTables.from_assembled(assembled)
            tables = replace(tables, centrality=centrality, net_migration=net_migration)
            possible = available_years(tables)
            years = [y for y in possible if y < int(base_year)] or possible
            result = run_model(tables, years=years, params=params)
            historical = pj.historical_attractiveness(result.attractiveness, last_n_years=10)
            notes.append(f"historical attractiveness: each kommune's mean residential attractiveness "
                         f"{years[0]}–{years[-1]} ({len(years)} years: VRA with two lags needs jobs from "
                         f"{years[0] - 3}; SSB 11618 here starts in 2017), not the 10 years of MODEL.md §4")
            notes.append("business attractiveness is not part of the scenarios: no jobs-by-branch table in the data")
    out = project_dataset(dataset, base_year=base_year, horizon=horizon, params=params, centrality=centrality,
                          historical=historical, scenarios=scenarios, net_migration=nm, **kwargs)
    out.notes = notes + out.notes
    out.notes.append("attractiveness is zero-sum nationally: the high scenario (every kommune at the 80th "
                     "percentile) cannot hold for all kommuner at once; national_attractiveness gives each "
                     "scenario's national sum")
    out.notes = list(dict.fromkeys(out.notes))
    return out
