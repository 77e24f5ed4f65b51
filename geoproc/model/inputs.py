"""Model stage 1 — inputs: the tables a model run needs and the regressors built from them.

- :class:`ModelTables`: the input tables in the contract's tidy layout (with the
  :class:`geoproc.data.assembly.AssemblyReport` of how they were assembled);
- :func:`assemble_inputs`: VRA and lags (own/neighbour split), sentny, DS for the model years, per
  kommune or region (:class:`ModelInputs`);
- :func:`actual_net_migration`: the actual net migration rate (SSB's numbers, or an estimate:
  with national schedules the cohort-component estimate of :mod:`geoproc.model.netmigration`,
  calibrated to the national identity; without them the ILLUSTRATIVE cohort-survival residual
  :func:`net_migration_residual`), noted as such.

Real data (``tables.national`` and ``tables.employment`` given, e.g. by ``--data-dir``): DS uses
the national death probabilities of each year and the documented employment profile calibrated to
SSB 11618 each year, over the units' employed residents (:func:`geoproc.model.ds.national_demographic_supply`);
sentny and DS are centred on the mean of the estimation sample — stored with the coefficients
(``params.sentny_mean``/``params.centring``), for the published coefficients (estimated on
regions) the BA-region analogue, else the mean over the run's units.

Every term is a function of :mod:`geoproc.model` (vra, centrality_term, ds, expected); this
module checks that the inputs the chosen coefficients need are present and says which input is
missing and how to supply it. Units: rates are fractions of the 1 January population; persons
are persons.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import pandas as pd

from centrality.errors import InputError, require_columns
from geoproc.data.assembly import AssembledTables, AssemblyReport
from geoproc.data.national import NationalDemography
from geoproc.data.tables import region_map
from geoproc.model import attractiveness as ba
from geoproc.model import ds as dsm
from geoproc.model import expected as exp
from geoproc.model import netmigration as nmm
from geoproc.model import vra as vram
from geoproc.model.centrality_term import sentny as sentny_term
from geoproc.model.default_centrality import region_centring_mean
from geoproc.model.params import PUBLISHED_MODELS, ModelParams


@dataclass
class ModelTables:
    """Input tables in the contract's tidy layout (docs/architecture.md). Counts in persons.

    - ``population``: year, kommune, population (1 January); derived from ``population_by_age``
      or ``population_by_age_sex`` when not given.
    - ``jobs``: year, kommune, jobs (jobs by place of work; SSB 11618 ``employed_by_workplace``).
    - ``commuting``: year, home_kommune, work_kommune, employed.
    - ``net_migration``: year, kommune, net_migration (persons in year t, domestic + international).
      Optional: without it, net migration is estimated from population by age with
      :func:`net_migration_residual` (an approximation, reported in ``ModelResult.notes``).
    - ``population_by_age_sex``: year, kommune, sex, age, population (DS and projections).
    - ``population_by_age``: year, kommune, age, population (residual net migration).
    - ``centrality``: kommune, index (0–1000; the sentny term).
    - ``regions``: kommune, region (for region-level runs).
    - ``births``/``deaths``: year, kommune, births / deaths (persons in year t). Optional: with
      them (and population by age and sex) the decomposition adds births, deaths, the births
      surplus, expected births/deaths from national schedules and ``total_change``.
    - ``names``: kommune -> name (labels in charts and tables).
    - ``assembly``: how the tables were assembled (:class:`geoproc.data.assembly.AssemblyReport`);
      its policies are carried into ``ModelResult.notes`` and ``ModelResult.assembly``.
    - ``employment``: year, kommune, employed_by_residence (SSB 11618, persons) and ``national``
      (:class:`geoproc.data.national.NationalDemography`): with both, DS, net migration and the
      decomposition use the real national schedules (see the module docstring).
    """

    jobs: pd.DataFrame
    commuting: pd.DataFrame
    population: pd.DataFrame | None = None
    net_migration: pd.DataFrame | None = None
    population_by_age_sex: pd.DataFrame | None = None
    population_by_age: pd.DataFrame | None = None
    centrality: pd.DataFrame | None = None
    regions: pd.DataFrame | None = None
    births: pd.DataFrame | None = None
    deaths: pd.DataFrame | None = None
    names: Mapping[str, str] | None = None
    assembly: AssemblyReport | None = None
    employment: pd.DataFrame | None = None
    national: NationalDemography | None = None

    @property
    def real_schedules(self) -> bool:
        """True when the national schedules and the employment table are given (real-data runs)."""
        return self.national is not None and self.employment is not None

    @classmethod
    def from_mapping(cls, tables: "ModelTables | Mapping[str, pd.DataFrame]") -> "ModelTables":
        """ModelTables from a dict of its fields (returned unchanged if it already is one).

        Parameters
        ----------
        tables : ModelTables or mapping
            ``{table name: DataFrame}`` (names as the fields).

        Returns
        -------
        ModelTables

        Raises
        ------
        InputError
            For unknown table names or a missing jobs/commuting table.
        """
        if isinstance(tables, ModelTables):
            return tables
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(tables) - known)
        if unknown:
            raise InputError(f"unknown model tables {unknown}; valid names: {', '.join(sorted(known))}.")
        for name in ("jobs", "commuting"):
            if tables.get(name) is None:
                raise InputError(f"the model needs the '{name}' table; see docs/usage-model.md for its layout.")
        return cls(**tables)

    @classmethod
    def from_assembled(cls, assembled: AssembledTables) -> "ModelTables":
        """ModelTables from :func:`geoproc.data.assembly.assemble_model_tables` (names and report kept).

        Parameters
        ----------
        assembled : geoproc.data.assembly.AssembledTables

        Returns
        -------
        ModelTables
        """
        return cls.from_mapping({**assembled.tables, "names": assembled.names, "assembly": assembled.report})

    def total_population(self) -> pd.DataFrame:
        """The total population from the first table that has it.

        Returns
        -------
        pandas.DataFrame
            year, kommune, population (persons, 1 January).
        """
        if self.population is not None:
            require_columns(self.population.columns, ["year", "kommune", "population"], "population table")
            return self.population[["year", "kommune", "population"]]
        for table in (self.population_by_age, self.population_by_age_sex):
            if table is not None:
                return table.groupby(["year", "kommune"], as_index=False)["population"].sum()
        raise InputError("no population table: give population (year, kommune, population) or population by age.")


def net_migration_residual(population_by_age: pd.DataFrame, death_probabilities: pd.DataFrame | None = None
                           ) -> pd.DataFrame:
    """Net migration estimated by the cohort-survival residual: year, kommune, net_migration (persons).

    ``NM_t = Σ_a≥1 P_t+1,a − Σ_a P_t,a · (1 − q_a)``: persons aged ≥ 1 on 1 January t+1 minus the
    expected survivors of the 1 January t population (national death probabilities q by sex and
    age, the mean of both sexes when the table has no sex). An APPROXIMATION for when SSB's net
    migration (table 09588/06913) is not at hand: it ignores migration of infants born in year t
    and kommune deviations from national mortality. Years t need t+1 in the table.

    Parameters
    ----------
    population_by_age : pandas.DataFrame
        year, kommune, [sex,] age, population (persons, 1 January).
    death_probabilities : pandas.DataFrame, optional
        sex, age, q (probability); default the ILLUSTRATIVE national ones of :mod:`geoproc.model.ds`.

    Returns
    -------
    pandas.DataFrame
        year, kommune, net_migration (persons in year t).
    """
    require_columns(population_by_age.columns, ["year", "kommune", "age", "population"], "population by age table")
    q_tab = dsm.illustrative_death_probabilities() if death_probabilities is None else death_probabilities
    require_columns(q_tab.columns, ["sex", "age", "q"], "death probability table")
    if "sex" in population_by_age.columns:
        pop = population_by_age.merge(q_tab[["sex", "age", "q"]], on=["sex", "age"], how="left")
    else:
        q_mean = q_tab.groupby("age", as_index=False)["q"].mean()
        pop = population_by_age.merge(q_mean, on="age", how="left")
    if pop["q"].isna().any():
        raise InputError("death probabilities do not cover every age of the population table; give q for ages 0..105.")
    pop["survivors"] = pop["population"] * (1.0 - pop["q"])
    pop["aged1plus"] = pop["population"].where(pop["age"] >= 1, 0.0)
    g = pop.groupby(["year", "kommune"])[["survivors", "aged1plus"]].sum()
    nxt = g["aged1plus"].rename("aged1plus_next").reset_index().assign(year=lambda d: d["year"] - 1)
    out = g["survivors"].reset_index().merge(nxt, on=["year", "kommune"], how="inner")
    out["net_migration"] = out["aged1plus_next"] - out["survivors"]
    if out.empty:
        raise InputError("cannot estimate net migration: the population by age table needs two consecutive years "
                         "for the same kommuner (t and t+1).")
    return out[["year", "kommune", "net_migration"]]


def to_regions(table: pd.DataFrame, mapping: pd.Series, value_cols: Sequence[str], extra_keys: Sequence[str] = ()
                ) -> pd.DataFrame:
    """Sum kommune counts to regions.

    Parameters
    ----------
    table : pandas.DataFrame
        year, kommune, ``extra_keys``..., ``value_cols`` (counts, persons).
    mapping : pandas.Series
        kommune -> region (:func:`geoproc.data.tables.region_map`).
    value_cols : sequence of str
        Additive counts to sum.
    extra_keys : sequence of str
        Further key columns kept (e.g. sex, age).

    Returns
    -------
    pandas.DataFrame
        year, ``extra_keys``..., region, ``value_cols``.
    """
    unknown = sorted(set(table["kommune"].astype(str)) - set(mapping.index))
    if unknown:
        raise InputError(f"kommuner {unknown[:5]} are not in the regions table; use one kommune code system (2020).")
    keys = ["year", *extra_keys]
    return (table.assign(region=table["kommune"].astype(str).map(mapping))
            .groupby(keys + ["region"], as_index=False)[list(value_cols)].sum())


def centring(params: ModelParams, tables: ModelTables, unit: str) -> str:
    """The units sentny and DS are centred over: 'kommuner' or 'regions'.

    Parameters
    ----------
    params : ModelParams
        ``params.centring`` when stored; the published coefficients (estimated on region-years)
        are centred over regions in real-data runs with a regions table.
    tables : ModelTables
        The input tables.
    unit : {"kommune", "region"}
        The run's units (their own mean otherwise).

    Returns
    -------
    str
        'kommuner' or 'regions'.
    """
    if params.centring in ("kommuner", "regions"):
        return params.centring
    if unit == "region":
        return "regions"
    if params.name in PUBLISHED_MODELS and tables.real_schedules and tables.regions is not None:
        return "regions"
    return "kommuner"


def available_years(tables: ModelTables, lags: int = 2) -> list[int]:
    """Model years the tables allow: VRA with ``lags`` lags and actual net migration.

    Parameters
    ----------
    tables : ModelTables
        Jobs (years t−lags−1 … t needed) and a net migration table or population for 1 January
        t and t+1.
    lags : int, default 2
        VRA lags.

    Returns
    -------
    list of int
        The possible years t (2020–2022 with the SSB files of ../shared/data: jobs 2017–2022).
    """
    jy = {int(y) for y in tables.jobs["year"].unique()}
    if tables.net_migration is not None:
        ok = {int(y) for y in tables.net_migration["year"].unique()}
    else:
        py = {int(y) for y in tables.total_population()["year"].unique()}
        ok = {y for y in py if y + 1 in py}
    return sorted(t for t in jy if all(t - k - 1 in jy for k in range(lags + 1)) and t in ok)


def sentny_tables(params: ModelParams, tables: ModelTables, unit: str, population: pd.DataFrame,
                   regions: pd.DataFrame | None, region_col: str, notes: list[str] | None = None
                   ) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The level terms the coefficients use: sentny or the full SSB index.

    sentny = index/1000 minus the centring mean; for regions the index is the population-weighted
    mean of their kommuner (:func:`geoproc.model.centrality_term.sentny`). The mean is
    ``params.sentny_mean`` when stored with the coefficients; for the published coefficients in a
    real-data kommune run the unweighted mean over the BA regions of their population-weighted
    index (:func:`geoproc.model.default_centrality.region_centring_mean`, the analogue of the
    published region sample); otherwise the mean over the run's units. The table's
    ``attrs['sentny_mean']`` and ``attrs['centring']`` record it.

    Parameters
    ----------
    params : ModelParams
        The coefficients.
    tables : ModelTables
        ``centrality`` (kommune, index 0–1000) is required when a level term is used.
    unit : {"kommune", "region"}
    population : pandas.DataFrame
        year, kommune, population (persons) for region weights.
    regions : pandas.DataFrame, optional
        kommune, <region_col>.
    region_col : str
        Region column.
    notes : list of str, optional
        The centring used is noted here.

    Returns
    -------
    tuple
        (sentny table or None, ssb_index table or None): [year,] unit, sentny / ssb_index.
    """
    coefs = params.coefficients()
    needs = [t for t in ("sentny", "ssb_index") if coefs[t] != 0.0]
    if not needs:
        return None, None
    if tables.centrality is None:
        raise InputError(f"the coefficients ({params.name or 'user'}) use the centrality term but no centrality table "
                         "was given; pass --centrality FILE (kommune, index 0–1000, e.g. from `regio centrality`) "
                         "or use --params model1 (no centrality term).")
    how = centring(params, tables, unit)
    mean = params.sentny_mean
    source = "stored with the coefficients"
    if mean is None and how == "regions" and unit == "kommune":
        years_p = set(population["year"])
        pop20 = population[population["year"] == (2020 if 2020 in years_p else max(years_p))]
        reg = regions.rename(columns={region_col: "region"})[["kommune", "region"]]
        mean = region_centring_mean(tables.centrality[["kommune", "index"]], pop20, reg)
        source = ("the unweighted mean over the BA regions of their population-weighted index, the available "
                  "analogue of the published coefficients' region sample")
    if unit == "region":
        pop = population.groupby("kommune", as_index=False)["population"].mean()
        reg = regions.rename(columns={region_col: "region"})[["kommune", "region"]]
        table = sentny_term(tables.centrality, pop, reg, mean=mean)
    else:
        table = sentny_term(tables.centrality, mean=mean)
    if mean is None:
        mean = float((table["index"] / 1000.0 - table["sentny"]).mean())
        source = f"the mean over the run's {'regions' if unit == 'region' else 'kommuner'}"
    if notes is not None:
        notes.append(f"sentny centred on {mean:.4f} (index/1000): {source}")
    table = table[[c for c in table.columns if c in ("year", unit, "sentny")]]
    table.attrs.update(sentny_mean=float(mean), centring=how)
    if "sentny" in needs:
        return table, None
    return None, table.rename(columns={"sentny": "ssb_index"})


def ds_table(params: ModelParams, tables: ModelTables, unit: str, years: Sequence[int], jobs: pd.DataFrame,
              mapping: pd.Series | None, employment_rates: pd.DataFrame | None,
              death_probabilities: pd.DataFrame | None, notes: list[str]) -> pd.DataFrame | None:
    """The DS term (demographic employment supply, fraction of jobs) per unit and year.

    ILLUSTRATIVE national rates are used (and noted in ``notes``) when
    ``employment_rates``/``death_probabilities`` are not given.

    Parameters
    ----------
    params : ModelParams
        The coefficients (DS is built only when its coefficient is not 0).
    tables : ModelTables
        ``population_by_age_sex`` for every model year is required.
    unit : {"kommune", "region"}
    years : sequence of int
        Model years.
    jobs : pandas.DataFrame
        year, unit, jobs (persons) at the unit level.
    mapping : pandas.Series, optional
        kommune -> region.
    employment_rates, death_probabilities : pandas.DataFrame, optional
        National rates by sex and age.
    notes : list of str
        Approximations are noted here.

    Returns
    -------
    pandas.DataFrame or None
        year, unit, ds; None when the coefficients do not use DS.
    """
    if params.coefficients()["ds"] == 0.0:
        return None
    pas = tables.population_by_age_sex
    have = set() if pas is None else set(pd.to_numeric(pas["year"]).astype(int))
    missing = sorted(set(years) - have)
    if missing:
        raise InputError(f"the DS term needs population by age and sex for {missing} (1 January of each model year); "
                         f"{'none was given' if pas is None else f'the table has {sorted(have)}'}. Pass "
                         "--population-age-sex FILE covering those years, or use --params model3 (no DS term).")
    if tables.real_schedules and employment_rates is None and death_probabilities is None:
        how = centring(params, tables, unit)
        regions = None
        if tables.regions is not None and "region" in tables.regions.columns:
            regions = tables.regions[["kommune", "region"]]
        out = dsm.national_demographic_supply(pas, tables.employment, tables.jobs, tables.national, years, unit=unit,
                                              regions=regions, denominator="employed", centring=how)
        notes.append("DS with national death probabilities of each year and the documented employment profile "
                     "(geoproc.model.ds) calibrated to SSB 11618 each year, over employed residents, centred over "
                     f"{how} each year")
        return out[["year", unit, "ds"]]
    pop = pas[pas["year"].isin(list(years))]
    if mapping is not None:
        pop = to_regions(pop, mapping, ["population"], extra_keys=["sex", "age"])
    if employment_rates is None:
        employment_rates = dsm.illustrative_employment_rates()
        notes.append("DS uses ILLUSTRATIVE national employment rates by age and sex (ds.illustrative_employment_rates); "
                     "pass employment_rates for real analyses.")
    if death_probabilities is None:
        death_probabilities = dsm.illustrative_death_probabilities()
        notes.append("DS uses ILLUSTRATIVE death probabilities (ds.illustrative_death_probabilities).")
    out = dsm.demographic_supply(pop, jobs, employment_rates, death_probabilities, unit=unit)
    return out[["year", unit, "ds"]]


@dataclass
class ModelInputs:
    """The regressors of a model run and what they were built from.

    Attributes
    ----------
    unit : {"kommune", "region"}
    table : pandas.DataFrame
        year, unit, vra_t, vra_t1, vra_t2 (+ ``_own``/``_neighbour``), sentny, ds, ... (fractions).
    population : pandas.DataFrame
        year, unit, population (persons, 1 January) at the unit level.
    kommune_population : pandas.DataFrame
        year, kommune, population.
    mapping : pandas.Series or None
        kommune -> region for ``unit="region"``.
    notes : list of str
        Approximations used (ILLUSTRATIVE rates, ...).
    sentny_mean : float or None
        The centring mean of sentny (index/1000), None without a sentny term.
    centring : str or None
        'kommuner' or 'regions': the units sentny and DS are centred over.
    net_migration : geoproc.model.netmigration.NetMigration or None
        Set by :func:`actual_net_migration`: how net migration was obtained (estimate or SSB),
        with the estimated births and deaths and Norway's net migration per year.
    """

    unit: str
    table: pd.DataFrame
    population: pd.DataFrame
    kommune_population: pd.DataFrame
    mapping: pd.Series | None
    notes: list[str] = field(default_factory=list)
    sentny_mean: float | None = None
    centring: str | None = None
    net_migration: nmm.NetMigration | None = None


def assemble_inputs(tables: ModelTables, *, years: Sequence[int], params: ModelParams, unit: str = "kommune",
                    region_col: str = "region", employment_rates: pd.DataFrame | None = None,
                    death_probabilities: pd.DataFrame | None = None, lag_shares: str = "own") -> ModelInputs:
    """VRA with lags, sentny and DS for ``years`` at the ``unit`` level.

    Parameters
    ----------
    tables : ModelTables
        The input tables.
    years : sequence of int
        Model years.
    params : ModelParams
        The coefficients; only the terms they use are built (and required).
    unit : {"kommune", "region"}
        ``"region"`` aggregates kommune tables with ``tables.regions[region_col]``.
    region_col : str
        Region column of the regions table.
    employment_rates, death_probabilities : pandas.DataFrame, optional
        National rates for DS (default ILLUSTRATIVE, noted).
    lag_shares : {"own", ...}
        Commuting shares used for the lags, see :func:`geoproc.model.vra.vra_with_lags`.

    Returns
    -------
    ModelInputs
    """
    notes: list[str] = []
    population = tables.total_population()
    require_columns(tables.jobs.columns, ["year", "kommune", "jobs"], "jobs table",
                    "Jobs by place of work per kommune and year (SSB 11618 employed_by_workplace).")
    mapping = None
    jobs, commuting, pop_unit = tables.jobs, tables.commuting, population
    if unit == "region":
        if tables.regions is None:
            raise InputError("unit='region' needs a regions table (kommune, region); pass --regions FILE.")
        mapping = region_map(tables.regions, region_col)
        jobs = vram.aggregate_jobs(tables.jobs, tables.regions, region_col=region_col)
        commuting = vram.aggregate_commuting(tables.commuting, tables.regions, region_col=region_col)
        pop_unit = to_regions(population, mapping, ["population"])
    vra_table = vram.vra_with_lags(commuting, jobs, years, unit=unit, lag_shares=lag_shares, split=True)
    sentny_table, ssb_table = sentny_tables(params, tables, unit, population, tables.regions, region_col, notes)
    ds = ds_table(params, tables, unit, years, jobs, mapping, employment_rates, death_probabilities, notes)
    table = exp.model_inputs(vra_table, sentny_table, ds, ssb_index_table=ssb_table)
    level = sentny_table if sentny_table is not None else ssb_table
    return ModelInputs(unit, table, pop_unit, population, mapping, notes,
                       sentny_mean=None if level is None else level.attrs.get("sentny_mean"),
                       centring=centring(params, tables, unit))


def actual_net_migration(tables: ModelTables, inputs: ModelInputs, years: Sequence[int],
                         death_probabilities: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Actual net migration of the model years at the unit level.

    Parameters
    ----------
    tables : ModelTables
        ``net_migration`` when given (persons, SSB), else population by age for consecutive
        years (the residual :func:`net_migration_residual` is used and noted in ``inputs.notes``).
    inputs : ModelInputs
        From :func:`assemble_inputs` (unit, mapping, unit population).
    years : sequence of int
        Model years.
    death_probabilities : pandas.DataFrame, optional
        For the residual.

    Returns
    -------
    net_migration : pandas.DataFrame
        year, unit, net_migration (persons).
    actual : pandas.DataFrame
        year, unit, net_migration, population, nm_actual (fraction of the 1 January population).
    """
    if tables.net_migration is not None:
        nm = tables.net_migration
        require_columns(nm.columns, ["year", "kommune", "net_migration"], "net migration table",
                        "Net migration in persons per kommune and year (domestic + international).")
        inputs.net_migration = nmm.from_ssb(nm[["year", "kommune", "net_migration"]], inputs.kommune_population)
        inputs.notes.append(f"net migration: {nmm.METHOD_SSB}")
    elif tables.national is not None and tables.population_by_age_sex is not None:
        estimate = nmm.estimate_net_migration(tables.population_by_age_sex, tables.national)
        inputs.net_migration = estimate
        nm = estimate.table[["year", "kommune", "net_migration"]]
        inputs.notes.append(f"net migration {nmm.METHOD_ESTIMATED}")
        inputs.notes.extend(estimate.notes)
    else:
        by_age = tables.population_by_age if tables.population_by_age is not None else tables.population_by_age_sex
        if by_age is None:
            raise InputError("no net migration table: pass --net-migration FILE (year, kommune, net_migration) or "
                             "population by age for consecutive years to estimate it.")
        nm = net_migration_residual(by_age, death_probabilities)
        inputs.notes.append("actual net migration ESTIMATED by the cohort-survival residual from population by age "
                            "(net_migration_residual"
                            + (", ILLUSTRATIVE death probabilities" if death_probabilities is None else "")
                            + "); give SSB net migration for exact figures.")
    nm = nm[nm["year"].isin(years)]
    if inputs.mapping is not None:
        nm = to_regions(nm, inputs.mapping, ["net_migration"])
    actual = ba.net_migration_rate(nm, inputs.population)
    return nm, actual[actual["year"].isin(years)]


__all__ = ["ModelTables", "ModelInputs", "assemble_inputs", "actual_net_migration", "net_migration_residual",
           "to_regions", "sentny_tables", "ds_table", "centring", "available_years"]
