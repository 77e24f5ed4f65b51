"""Run the attractiveness model from tables in one call (used by the `regio model` CLI and QGIS).

:func:`run_model`: tables -> VRA and lags (with own/neighbour split) -> sentny -> DS -> expected
net migration -> actual net migration rate -> residential attractiveness per year -> cumulated
percent and ranks -> decomposition of net migration (persons per year). Every step is a function
of :mod:`geoproc.model` (vra, centrality_term, ds, expected, attractiveness, decompose); this
module only wires them together, checks that the inputs the chosen coefficients need are present
and says which input is missing and how to supply it.

:func:`run_projection`: cohort-component projection (:mod:`geoproc.model.project`) with the
model's expected domestic net migration recomputed every year from the projected population.

Units: rates are fractions of the 1 January population, persons are persons per year; the
cumulated attractiveness is percent of the population at the start of the period.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from centrality.errors import Cancelled, InputError, require_columns
from geoproc.model import attractiveness as ba
from geoproc.model import decompose as dec
from geoproc.model import ds as dsm
from geoproc.model import expected as exp
from geoproc.model import project as pj
from geoproc.model import vra as vram
from geoproc.data.tables import region_map
from geoproc.model.centrality_term import sentny as sentny_term
from geoproc.model import estimate as est
from geoproc.model.params import DEFAULT, TERMS, ModelParams, get_params

log = logging.getLogger(__name__)

DEFAULT_IMMIGRATION_RATE = 0.002  # ILLUSTRATIVE national net immigration, fraction per year (MODEL.md §4)


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

    @classmethod
    def from_mapping(cls, tables: "ModelTables | Mapping[str, pd.DataFrame]") -> "ModelTables":
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

    def total_population(self) -> pd.DataFrame:
        """year, kommune, population (persons, 1 January) from the first table that has it."""
        if self.population is not None:
            require_columns(self.population.columns, ["year", "kommune", "population"], "population table")
            return self.population[["year", "kommune", "population"]]
        for table in (self.population_by_age, self.population_by_age_sex):
            if table is not None:
                return table.groupby(["year", "kommune"], as_index=False)["population"].sum()
        raise InputError("no population table: give population (year, kommune, population) or population by age.")


@dataclass
class ModelResult:
    """Everything one model run produces. ``unit`` is 'kommune' or 'region'.

    - ``inputs``: year, unit, vra_t, vra_t1, vra_t2 (+ _own/_neighbour), sentny, ds (fractions)
    - ``expected``: year, unit, one contribution column per term, nm_expected (fractions)
    - ``attractiveness``: year, unit, population, net_migration, nm_actual, nm_expected,
      attractiveness (fraction), attractiveness_persons
    - ``cumulative``: unit, persons, attractiveness_pct (% of start population), persons_per_year,
      n_years, rank (1 = most attractive)
    - ``rankings``: group (top/bottom), rank, unit, attractiveness_pct
    - ``decomposition``: year, unit, population, immigration, centrality, own_jobs,
      neighbour_jobs, ds, expected, net_migration, attractiveness (persons)
    - ``decomposition_mean``: the same averaged per unit over the years (persons per year)
    """

    unit: str
    params: ModelParams
    years: list[int]
    inputs: pd.DataFrame
    expected: pd.DataFrame
    attractiveness: pd.DataFrame
    cumulative: pd.DataFrame
    rankings: pd.DataFrame
    decomposition: pd.DataFrame
    decomposition_mean: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def unit_table(self) -> pd.DataFrame:
        """One row per unit: cumulative attractiveness, rank, mean rates (fractions), mean components."""
        u = self.unit
        means = self.attractiveness.groupby(u)[["nm_actual", "nm_expected", "attractiveness"]].mean().reset_index()
        comp = self.decomposition_mean.drop(columns=["n_years", "population"], errors="ignore")
        comp = comp.rename(columns={c: f"{c}_persons" for c in comp.columns if c != u})
        return self.cumulative.merge(means, on=u, how="left").merge(comp, on=u, how="left")


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------
def net_migration_residual(population_by_age: pd.DataFrame, death_probabilities: pd.DataFrame | None = None
                           ) -> pd.DataFrame:
    """Net migration estimated by the cohort-survival residual: year, kommune, net_migration (persons).

    ``NM_t = Σ_a≥1 P_t+1,a − Σ_a P_t,a · (1 − q_a)``: persons aged ≥ 1 on 1 January t+1 minus the
    expected survivors of the 1 January t population (national death probabilities q by sex and
    age, the mean of both sexes when the table has no sex). An APPROXIMATION for when SSB's net
    migration (table 09588/06913) is not at hand: it ignores migration of infants born in year t
    and kommune deviations from national mortality. Years t need t+1 in the table.
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


def _immigration_rates(rate, years: Sequence[int]) -> dict[int, float]:
    if isinstance(rate, (int, float)):
        return {int(y): float(rate) for y in years}
    if isinstance(rate, pd.DataFrame):
        require_columns(rate.columns, ["year", "rate"], "national immigration rate table")
        rate = dict(zip(rate["year"].astype(int), rate["rate"].astype(float)))
    return {int(k): float(v) for k, v in dict(rate).items()}


def _to_regions(table: pd.DataFrame, mapping: pd.Series, value_cols: Sequence[str], extra_keys: Sequence[str] = ()
                ) -> pd.DataFrame:
    unknown = sorted(set(table["kommune"].astype(str)) - set(mapping.index))
    if unknown:
        raise InputError(f"kommuner {unknown[:5]} are not in the regions table; use one kommune code system (2020).")
    keys = ["year", *extra_keys]
    return (table.assign(region=table["kommune"].astype(str).map(mapping))
            .groupby(keys + ["region"], as_index=False)[list(value_cols)].sum())


def _sentny_tables(params: ModelParams, tables: ModelTables, unit: str, population: pd.DataFrame,
                   regions: pd.DataFrame | None, region_col: str) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """(sentny table, ssb_index table) for the level terms the coefficients use."""
    coefs = params.coefficients()
    needs = [t for t in ("sentny", "ssb_index") if coefs[t] != 0.0]
    if not needs:
        return None, None
    if tables.centrality is None:
        raise InputError(f"the coefficients ({params.name or 'user'}) use the centrality term but no centrality table "
                         "was given; pass --centrality FILE (kommune, index 0–1000, e.g. from `regio centrality`) "
                         "or use --params model1 (no centrality term).")
    if unit == "region":
        pop = population.groupby("kommune", as_index=False)["population"].mean()
        reg = regions.rename(columns={region_col: "region"})[["kommune", "region"]]
        table = sentny_term(tables.centrality, pop, reg)
    else:
        table = sentny_term(tables.centrality)
    table = table[[c for c in table.columns if c in ("year", unit, "sentny")]]
    if "sentny" in needs:
        return table, None
    return None, table.rename(columns={"sentny": "ssb_index"})


def schedule_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ILLUSTRATIVE national schedules of :mod:`project` as tables: fertility (age, rate) and
    mortality (sex, age, rate), per person and year."""
    fert = pd.DataFrame({"age": pj.AGES, "rate": pj.illustrative_fertility()})
    q = pj.illustrative_mortality()
    mort = pd.DataFrame({"sex": np.repeat(pj.SEXES, pj.N_AGES), "age": np.tile(pj.AGES, 2), "rate": q.reshape(-1)})
    return fert, mort


def _with_natural_change(migration: pd.DataFrame, tables: ModelTables, years: Sequence[int], unit: str,
                         mapping: pd.Series | None, fertility: pd.DataFrame | None, mortality: pd.DataFrame | None,
                         notes: list[str]) -> pd.DataFrame:
    """Add births/deaths (actual and expected from national schedules) and total change."""
    pas = tables.population_by_age_sex
    if pas is None:
        raise InputError("births and deaths need population by age and sex (expected births/deaths); pass "
                         "--population-age-sex FILE.")
    pas = pas[pas["year"].isin(list(years))]
    births, deaths = tables.births, tables.deaths
    require_columns(births.columns, ["year", "kommune", "births"], "births table")
    require_columns(deaths.columns, ["year", "kommune", "deaths"], "deaths table")
    if mapping is not None:
        pas = _to_regions(pas, mapping, ["population"], extra_keys=["sex", "age"])
        births = _to_regions(births, mapping, ["births"])
        deaths = _to_regions(deaths, mapping, ["deaths"])
    births, deaths = births[births["year"].isin(list(years))], deaths[deaths["year"].isin(list(years))]
    if fertility is None or mortality is None:
        default_f, default_m = schedule_tables()
        fertility = default_f if fertility is None else fertility
        mortality = default_m if mortality is None else mortality
        notes.append("expected births/deaths use ILLUSTRATIVE national fertility/mortality schedules.")
    natural = dec.natural_change(pas, births, deaths, fertility, mortality)
    return dec.decompose_population_change(natural, migration)


def _ds_table(params: ModelParams, tables: ModelTables, unit: str, years: Sequence[int], jobs: pd.DataFrame,
              mapping: pd.Series | None, employment_rates: pd.DataFrame | None,
              death_probabilities: pd.DataFrame | None, notes: list[str]) -> pd.DataFrame | None:
    if params.coefficients()["ds"] == 0.0:
        return None
    pas = tables.population_by_age_sex
    have = set() if pas is None else set(pd.to_numeric(pas["year"]).astype(int))
    missing = sorted(set(years) - have)
    if missing:
        raise InputError(f"the DS term needs population by age and sex for {missing} (1 January of each model year); "
                         f"{'none was given' if pas is None else f'the table has {sorted(have)}'}. Pass "
                         "--population-age-sex FILE covering those years, or use --params model3 (no DS term).")
    pop = pas[pas["year"].isin(list(years))]
    if mapping is not None:
        pop = _to_regions(pop, mapping, ["population"], extra_keys=["sex", "age"])
    if employment_rates is None:
        employment_rates = dsm.illustrative_employment_rates()
        notes.append("DS uses ILLUSTRATIVE national employment rates by age and sex (ds.illustrative_employment_rates); "
                     "pass employment_rates for real analyses.")
    if death_probabilities is None:
        death_probabilities = dsm.illustrative_death_probabilities()
        notes.append("DS uses ILLUSTRATIVE death probabilities (ds.illustrative_death_probabilities).")
    out = dsm.demographic_supply(pop, jobs, employment_rates, death_probabilities, unit=unit)
    return out[["year", unit, "ds"]]


# ------------------------------------------------------------------------------------------------
# the model run
# ------------------------------------------------------------------------------------------------
def run_model(tables: ModelTables | Mapping[str, pd.DataFrame], *, years: Sequence[int],
              params: ModelParams | str | None = DEFAULT, regions: pd.DataFrame | None = None,
              centrality: pd.DataFrame | None = None, unit: str = "kommune", region_col: str = "region",
              employment_rates: pd.DataFrame | None = None, death_probabilities: pd.DataFrame | None = None,
              national_immigration_rate: float | Mapping[int, float] | pd.DataFrame = DEFAULT_IMMIGRATION_RATE,
              lag_shares: str = "own", n_ranked: int = 10,
              fertility: pd.DataFrame | None = None, mortality: pd.DataFrame | None = None,
              progress: Callable[[int, int], None] | None = None,
              should_stop: Callable[[], bool] | None = None) -> ModelResult:
    """Expected and actual net migration, attractiveness, ranks and decomposition for ``years``.

    ``tables``: :class:`ModelTables` or a dict of its fields. ``regions`` and ``centrality`` given
    here replace the tables' ones (e.g. a freshly computed centrality from `run_centrality`).
    ``params``: a :class:`ModelParams`, a published name ('model1'..'model4') or a saved file.
    ``unit='region'`` aggregates kommune tables with ``tables.regions[region_col]``.
    ``national_immigration_rate`` (fraction of population per year; ILLUSTRATIVE default 0.2 %)
    is the baseline component of the decomposition. ``fertility`` (age, rate) and ``mortality``
    (sex, age, rate) are the national schedules for expected births/deaths when births and deaths
    tables are given (default: the ILLUSTRATIVE schedules of :mod:`geoproc.model.project`).
    """
    tables = ModelTables.from_mapping(tables)
    if regions is not None or centrality is not None:
        tables = replace(tables, regions=tables.regions if regions is None else regions,
                         centrality=tables.centrality if centrality is None else centrality)
    params = get_params(params)
    years = sorted({int(y) for y in years})
    if not years:
        raise InputError("no model years given; pass e.g. --years 2021 2022.")
    if unit not in ("kommune", "region"):
        raise InputError(f"unit must be 'kommune' or 'region', got {unit!r}.")
    notes: list[str] = []
    steps = 6

    def tick(done: int) -> None:
        if should_stop is not None and should_stop():
            raise Cancelled("model run cancelled")
        if progress is not None:
            progress(done, steps)

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
        pop_unit = _to_regions(population, mapping, ["population"])
    tick(0)

    vra_table = vram.vra_with_lags(commuting, jobs, years, unit=unit, lag_shares=lag_shares, split=True)
    tick(1)
    sentny_table, ssb_table = _sentny_tables(params, tables, unit, population, tables.regions, region_col)
    ds_table = _ds_table(params, tables, unit, years, jobs, mapping, employment_rates, death_probabilities, notes)
    inputs = exp.model_inputs(vra_table, sentny_table, ds_table, ssb_index_table=ssb_table)
    tick(2)
    expected = exp.expected_contributions(inputs, params)
    tick(3)

    if tables.net_migration is not None:
        nm = tables.net_migration
        require_columns(nm.columns, ["year", "kommune", "net_migration"], "net migration table",
                        "Net migration in persons per kommune and year (domestic + international).")
    else:
        by_age = tables.population_by_age if tables.population_by_age is not None else tables.population_by_age_sex
        if by_age is None:
            raise InputError("no net migration table: pass --net-migration FILE (year, kommune, net_migration) or "
                             "population by age for consecutive years to estimate it.")
        nm = net_migration_residual(by_age, death_probabilities)
        notes.append("actual net migration ESTIMATED by the cohort-survival residual from population by age "
                     "(net_migration_residual); give SSB net migration for exact figures.")
    nm = nm[nm["year"].isin(years)]
    if mapping is not None:
        nm = _to_regions(nm, mapping, ["net_migration"])
    actual = ba.net_migration_rate(nm, pop_unit)
    actual = actual[actual["year"].isin(years)]
    modelled = actual.set_index(["year", unit]).index.isin(expected.set_index(["year", unit]).index)
    if not modelled.all():
        dropped = sorted(actual.loc[~modelled, unit].unique())
        notes.append(f"{unit}(s) {dropped[:10]} have net migration but no model inputs (jobs/commuting) and are left out.")
        actual = actual[modelled]
    attract = ba.attractiveness(actual, expected[expected["year"].isin(actual["year"].unique())])
    attract = attract.merge(actual[["year", unit, "population", "net_migration"]], on=["year", unit], how="left")
    attract["attractiveness_persons"] = attract["attractiveness"] * attract["population"]
    attract = attract[["year", unit, "population", "net_migration", "nm_actual", "nm_expected", "attractiveness",
                       "attractiveness_persons"]]
    tick(4)

    cumulative = ba.cumulative_attractiveness(attract[["year", unit, "attractiveness"]], pop_unit)
    cumulative["rank"] = cumulative["attractiveness_pct"].rank(ascending=False, method="first").astype(int)
    cumulative = cumulative.sort_values("rank").reset_index(drop=True)
    rankings = ba.rankings(cumulative, "attractiveness_pct", n=n_ranked)
    tick(5)

    used_years = sorted(attract["year"].unique())
    rates = _immigration_rates(national_immigration_rate, used_years)
    decomposition = dec.decompose_net_migration(inputs[inputs["year"].isin(used_years)], pop_unit,
                                                nm, rates, params)
    if tables.births is not None and tables.deaths is not None:
        decomposition = _with_natural_change(decomposition, tables, used_years, unit, mapping, fertility, mortality,
                                             notes)
    decomposition_mean = dec.average_per_year(decomposition)
    tick(6)
    return ModelResult(unit=unit, params=params, years=[int(y) for y in used_years], inputs=inputs,
                       expected=expected, attractiveness=attract, cumulative=cumulative, rankings=rankings,
                       decomposition=decomposition, decomposition_mean=decomposition_mean, notes=notes)


def estimation_data(tables: ModelTables | Mapping[str, pd.DataFrame], *, years: Sequence[int],
                    terms: Sequence[str] = ("vra_t", "vra_t1", "vra_t2", "sentny", "ds"), unit: str = "region",
                    region_col: str = "region", **kwargs) -> pd.DataFrame:
    """One row per unit-year: year, unit, the regressors ``terms`` and ``nm_actual`` (fractions).

    Built exactly as in :func:`run_model` (same VRA, sentny, DS and actual net migration), so an
    estimate on these rows is comparable with the published coefficients.
    """
    unknown = [t for t in terms if t not in TERMS or t == "intercept"]
    if unknown or not terms:
        raise InputError(f"unknown regressors {unknown}; choose from {', '.join(t for t in TERMS if t != 'intercept')}.")
    # unit coefficients only decide which regressors are built; their values do not matter here
    design = ModelParams.from_coefficients({t: 1.0 for t in terms}, name="design")
    result = run_model(tables, years=years, params=design, unit=unit, region_col=region_col, **kwargs)
    keep = ["year", unit, *terms]
    return result.inputs[keep].merge(result.attractiveness[["year", unit, "nm_actual"]], on=["year", unit],
                                     how="inner")


def estimate_model(tables: ModelTables | Mapping[str, pd.DataFrame], *, years: Sequence[int],
                   terms: Sequence[str] = ("vra_t", "vra_t1", "vra_t2", "sentny", "ds"), unit: str = "region",
                   region_col: str = "region", by_year: bool = False, label: str = "estimate", **kwargs):
    """Re-estimate the regression by OLS (:func:`geoproc.model.estimate.estimate`) on the tables.

    Default observations are region-years, as in the published model. Returns an
    ``EstimateResult`` (pooled) or ``{year: EstimateResult}`` with ``by_year=True``.
    """
    data = estimation_data(tables, years=years, terms=terms, unit=unit, region_col=region_col, **kwargs)
    return est.estimate(data, terms=list(terms), by_year=by_year, label=label)


# ------------------------------------------------------------------------------------------------
# projections
# ------------------------------------------------------------------------------------------------
def projection_expected_fn(params: ModelParams, kommuner: Sequence[str], *, sentny: pd.Series | None = None,
                           jobs: pd.Series | None = None, employment_rates: pd.DataFrame | None = None,
                           death_probabilities: pd.DataFrame | None = None, balance: bool = True
                           ) -> pj.ExpectedFn:
    """Expected domestic net migration for each projected year (fraction of population).

    ``b_sentny·sentny + b_ds·DS_t`` where DS_t is recomputed from the projected population with
    :func:`geoproc.model.ds.ds_abs` and jobs that grow with national employment (every kommune
    keeps its share of jobs, so relative job growth and VRA are 0 — the neutral job assumption).
    The intercept is left out: the national level of net migration is the immigration
    assumption. ``balance=True`` subtracts the population-weighted mean so domestic moves sum to
    zero nationally each year. Terms without inputs (no ``sentny``/``jobs``) are omitted.
    """
    coefs = params.coefficients()
    kommuner = [str(k) for k in kommuner]
    terms: list[str] = []
    base = pd.DataFrame({"kommune": kommuner})
    if sentny is not None and coefs["sentny"] != 0.0:
        s = pd.Series(sentny)
        s.index = s.index.astype(str)
        missing = [k for k in kommuner if k not in s.index]
        if missing:
            raise InputError(f"centrality missing for kommuner {missing[:5]}; give an index for every projected kommune.")
        base["sentny"] = s.reindex(kommuner).to_numpy(dtype=float)
        terms.append("sentny")
    use_ds = jobs is not None and coefs["ds"] != 0.0
    if use_ds:
        j = pd.Series(jobs)
        j.index = j.index.astype(str)
        jobs0 = j.reindex(kommuner).to_numpy(dtype=float)
        if not np.isfinite(jobs0).all() or (jobs0 <= 0).any():
            raise InputError("jobs for the projection base year must be > 0 for every projected kommune.")
        e_tab = employment_rates if employment_rates is not None else dsm.illustrative_employment_rates()
        q_tab = death_probabilities if death_probabilities is not None else dsm.illustrative_death_probabilities()
        e_arr = np.zeros((2, pj.N_AGES))
        sex_idx = pd.Index(pj.SEXES).get_indexer(e_tab["sex"].astype(str))
        ages = e_tab["age"].to_numpy(dtype=int)
        ok = (sex_idx >= 0) & (ages >= 0) & (ages <= pj.MAX_AGE)
        e_arr[sex_idx[ok], ages[ok]] = e_tab["rate"].to_numpy(dtype=float)[ok]
        terms.append("ds")
    state: dict[str, float] = {}

    def expected(year: int, pop: np.ndarray) -> np.ndarray:
        inputs = base.assign(year=int(year))
        if use_ds:
            employed = float((pop * e_arr[None]).sum())
            state.setdefault("employed0", employed)
            jobs_t = pd.DataFrame({"year": int(year), "kommune": kommuner,
                                   "jobs": jobs0 * employed / state["employed0"]})
            ds = dsm.demographic_supply(_tidy_population(pop, kommuner, year), jobs_t, e_tab, q_tab)
            inputs = inputs.merge(ds[["kommune", "ds"]], on="kommune", how="left")
        if terms:
            contrib = exp.term_contributions(inputs, params, terms=terms)
            rate = contrib[terms].sum(axis=1).to_numpy(dtype=float)
        else:
            rate = np.zeros(len(kommuner))
        if balance:
            rate = rate - population_weighted_mean(rate, pop)
        return rate

    return expected


def population_weighted_mean(rate: np.ndarray, pop: np.ndarray) -> float:
    """Mean of a per-kommune ``rate`` weighted by each kommune's total of ``pop`` (kommune × sex × age)."""
    total = pop.sum(axis=(1, 2))
    return float((rate * total).sum() / total.sum())


def _tidy_population(pop: np.ndarray, kommuner: Sequence[str], year: int) -> pd.DataFrame:
    ages = np.arange(dsm.AGE_FIRST, dsm.AGE_LAST + 1)
    sub = pop[:, :, ages]
    idx = pd.MultiIndex.from_product([kommuner, pj.SEXES, ages], names=["kommune", "sex", "age"])
    out = pd.DataFrame({"population": sub.reshape(-1)}, index=idx).reset_index()
    out.insert(0, "year", int(year))
    return out


def run_projection(population_by_age_sex: pd.DataFrame, *, base_year: int | None = None, horizon: int = 2040,
                   params: ModelParams | str | None = DEFAULT, centrality: pd.DataFrame | None = None,
                   jobs: pd.DataFrame | None = None, attractiveness: pd.DataFrame | None = None,
                   historical: pd.Series | None = None, assumptions: pj.NationalAssumptions | None = None,
                   scenarios: Sequence[str] = pj.SCENARIOS, employment_rates: pd.DataFrame | None = None,
                   death_probabilities: pd.DataFrame | None = None, balance_domestic: bool = True,
                   last_n_years: int = 10, **kwargs) -> pj.ProjectionResult:
    """Project every kommune to ``horizon`` under the attractiveness scenarios.

    ``centrality`` (kommune, index) and ``jobs`` (year, kommune, jobs; the base year or the
    latest before it) feed the model's expected domestic net migration
    (:func:`projection_expected_fn`); ``attractiveness`` (year, kommune, attractiveness; e.g.
    ``ModelResult.attractiveness``) or ``historical`` (Series) gives the historical levels.
    Without attractiveness only the neutral scenario can run.
    """
    params = get_params(params)
    arr, kommuner, base = pj.population_array(population_by_age_sex, base_year)
    sentny_s = None
    if centrality is not None:
        sentny_s = sentny_term(centrality).set_index("kommune")["sentny"]
    jobs_s = None
    if jobs is not None:
        require_columns(jobs.columns, ["year", "kommune", "jobs"], "jobs table")
        usable = jobs[pd.to_numeric(jobs["year"]) <= base]
        if usable.empty:
            raise InputError(f"jobs table has no year ≤ the base year {base}; give jobs for the base year.")
        latest = usable[usable["year"] == usable["year"].max()]
        jobs_s = latest.set_index(latest["kommune"].astype(str))["jobs"]
    if historical is None and attractiveness is not None:
        historical = pj.historical_attractiveness(attractiveness, last_n_years=last_n_years)
    if historical is None:
        scenarios = [s for s in scenarios if s == "neutral"]
        log.warning("no historical attractiveness given: only the neutral scenario is projected")
    expected_fn = projection_expected_fn(params, kommuner, sentny=sentny_s, jobs=jobs_s,
                                         employment_rates=employment_rates,
                                         death_probabilities=death_probabilities, balance=balance_domestic)
    return pj.project(arr, kommuner=kommuner, base_year=base, horizon=horizon, assumptions=assumptions,
                      expected_domestic=expected_fn, historical=historical, scenarios=scenarios, **kwargs)


# ------------------------------------------------------------------------------------------------
# projection with and without a road project (MODEL.md §5, scenario option)
# ------------------------------------------------------------------------------------------------
@dataclass
class ScenarioProjection:
    """Cohort-component projections without and with a project, same inputs otherwise.

    ``table``: year (population on 1 January of ``year``), kommune, population_without,
    population_with, delta_population (persons, float). The state on 1 January Y+1 is the
    population at the end of year Y, so "Δ population by the end of Y" = the row ``year == Y + 1``.
    ``first_effect_year``: first calendar year whose migration includes the project's Δsentny.
    ``without``/``with_project``: the full :class:`~geoproc.model.project.ProjectionResult` (by age, sex).
    """

    table: pd.DataFrame
    base_year: int
    horizon: int
    first_effect_year: int
    beta_sentny: float
    balance: bool
    assumptions_label: str
    without: pj.ProjectionResult
    with_project: pj.ProjectionResult
    notes: list[str] = field(default_factory=list)

    def delta_by_end_of(self, year: int) -> pd.Series:
        """Δ population (persons) per kommune by the end of ``year`` (= 1 January ``year + 1``)."""
        if year + 1 not in self.table["year"].to_numpy():
            raise InputError(f"the projection covers 1 January {self.base_year}..{self.horizon}; "
                             f"the end of {year} is outside it. Project to horizon ≥ {year + 1}.")
        rows = self.table[self.table["year"] == year + 1]
        return rows.set_index("kommune")["delta_population"]


def _scenario_sentny(delta: pd.DataFrame, kommuner: list[str]) -> tuple[pd.Series, pd.Series]:
    """(baseline sentny, scenario sentny) per kommune from a Δ table (see project_with_centrality_delta)."""
    require_columns(delta.columns, ["kommune"], "centrality delta table",
                    "Give kommune and index_base + index_scen (index points), delta_index or delta_sentny.")
    d = delta.set_index(delta["kommune"].astype(str))
    if d.index.duplicated().any():
        raise InputError(f"centrality delta table has duplicate kommuner {sorted(set(d.index[d.index.duplicated()]))[:5]}; "
                         "give one row per kommune.")
    if {"index_base", "index_scen"} <= set(d.columns):
        base = d["index_base"].astype(float) / 1000.0
        scen = d["index_scen"].astype(float) / 1000.0
        mean = float(base.mean())                      # baseline centring held fixed in both runs
        base, scen = base - mean, scen - mean
    elif "delta_index" in d.columns or "delta_sentny" in d.columns:
        ds = d["delta_index"].astype(float) / 1000.0 if "delta_index" in d.columns else d["delta_sentny"].astype(float)
        base, scen = ds * 0.0, ds
    else:
        raise InputError("centrality delta table needs index_base and index_scen (index points), delta_index "
                         "or delta_sentny (index/1000) per kommune.")
    if not (np.isfinite(base).all() and np.isfinite(scen).all()):
        raise InputError("centrality delta table has NULL/NaN values; give a number for every kommune.")
    missing = [k for k in kommuner if k not in d.index]
    if missing:
        raise InputError(f"kommuner {missing[:5]} of the population table have no centrality Δ; "
                         "give a row (Δ = 0) for each, or drop them from the population table.")
    return base.reindex(kommuner), scen.reindex(kommuner)


def project_with_centrality_delta(delta: pd.DataFrame, population_by_age_sex: pd.DataFrame, *,
                                  horizon: int = 2041, base_year: int | None = None,
                                  first_effect_year: int | None = None,
                                  params: ModelParams | str | None = DEFAULT, beta: float | None = None,
                                  jobs: pd.Series | None = None, balance: bool = False,
                                  balance_domestic: bool = True,
                                  assumptions: pj.NationalAssumptions | None = None,
                                  migration_profile=None, **kwargs) -> ScenarioProjection:
    """Run the cohort-component projection (:func:`geoproc.model.project.project`) twice for the
    kommuner of ``delta``: with the baseline centrality and with the scenario centrality.

    - ``delta``: kommune and either ``index_base`` + ``index_scen`` (index points 0–1000; sentny =
      index/1000 minus the BASELINE mean in both runs, so only the project's Δ enters), or
      ``delta_index`` (points) / ``delta_sentny`` (index/1000); then the baseline sentny is 0 and
      the baseline run has no centrality term.
    - ``population_by_age_sex``: year, kommune, sex, age, population (1 January; ``base_year`` =
      the latest year unless given); restricted to the kommuner of ``delta`` (all must be there).
    - Without the project the expected domestic net migration is the model's
      (:func:`projection_expected_fn`): β_sentny × baseline sentny (+ the DS term when ``jobs`` is
      given), made zero-sum over the projected kommuner with ``balance_domestic`` (as
      :func:`run_projection`). With the project the rate is the same function of the projected
      population plus β_sentny × Δsentny in the years ≥ ``first_effect_year`` (default: the base
      year); the baseline's centring and each year's balancing constant (from the run without
      the project) are kept, so only the project's Δ enters. ``beta`` overrides the sentny coefficient of ``params``.
    - ``balance=False`` (default) keeps the rule of the scenario impact: the project adds
      β·Δsentny·population(year) migrants a year to the kommune and nothing elsewhere.
      ``balance=True`` makes the project's extra moves zero-sum over the projected kommuner each
      year: every kommune then loses its population share of the total gain.
    - ``assumptions``: national fertility, mortality, immigration; default ILLUSTRATIVE
      (:class:`~geoproc.model.project.NationalAssumptions`), identical in both runs, so the
      difference depends on them only through the population the rate applies to.
    Persons are floats (1 January). Extra ``kwargs`` go to :func:`geoproc.model.project.project`.
    """
    params = get_params(params)
    if beta is not None:
        params = replace(params, sentny=float(beta))
    if params.sentny == 0.0:
        raise InputError(f"the coefficients ({params.name or 'user'}) have no sentny term, so a centrality Δ has "
                         "no effect; use model3/model4 or give beta.")
    require_columns(population_by_age_sex.columns, ["year", "kommune", "sex", "age", "population"],
                    "population by age and sex table", "Give year, kommune, sex (female/male), age, population.")
    codes = set(delta["kommune"].astype(str)) if "kommune" in delta.columns else set()
    pop_tab = population_by_age_sex[population_by_age_sex["kommune"].astype(str).isin(codes)]
    missing = sorted(codes - set(pop_tab["kommune"].astype(str)))
    if missing or pop_tab.empty:
        raise InputError(f"population by age and sex has no rows for kommuner {missing[:5] or sorted(codes)[:5]} "
                         "of the scenario; give a table (year, kommune, sex, age, population) covering them, with "
                         "the same kommune codes as the zones' kommune field.")
    pop_tab = pop_tab.assign(kommune=pop_tab["kommune"].astype(str))
    arr, kommuner, base = pj.population_array(pop_tab, base_year)
    first = base if first_effect_year is None else int(first_effect_year)
    notes = []
    if first < base:
        notes.append(f"population base year {base} is after the first effect year {first}: effects of "
                     f"{first}–{base - 1} are not in the projection (give an earlier population).")
    sentny_base, sentny_scen = _scenario_sentny(delta, kommuner)
    fn_base = projection_expected_fn(params, kommuner, sentny=sentny_base, jobs=jobs, balance=balance_domestic)
    common = dict(kommuner=kommuner, base_year=base, horizon=horizon, assumptions=assumptions,
                  scenarios=("neutral",), migration_profile=migration_profile, **kwargs)
    without = pj.project(arr, expected_domestic=fn_base, **common)
    base_pop = without.arrays["neutral"]
    # unbalanced model rates; the balancing constant of each year is the baseline run's. One
    # function serves both populations: its only state (the DS employment reference) is taken at
    # the base year, where the two runs have the same population.
    fn_rate = projection_expected_fn(params, kommuner, sentny=sentny_base, jobs=jobs, balance=False)
    extra = params.sentny * (sentny_scen - sentny_base).to_numpy(dtype=float)   # fraction per year

    def with_project(year: int, pop: np.ndarray) -> np.ndarray:
        rate = fn_rate(year, pop)
        if balance_domestic:
            baseline_pop = base_pop[year - base]
            rate = rate - population_weighted_mean(fn_rate(year, baseline_pop), baseline_pop)
        if year < first:
            return rate
        return rate + extra - (population_weighted_mean(extra, pop) if balance else 0.0)

    with_p = pj.project(arr, expected_domestic=with_project, **common)
    p0, p1 = without.arrays["neutral"].sum(axis=(2, 3)), with_p.arrays["neutral"].sum(axis=(2, 3))
    idx = pd.MultiIndex.from_product([without.years, kommuner], names=["year", "kommune"])
    table = pd.DataFrame({"population_without": p0.reshape(-1), "population_with": p1.reshape(-1)}, index=idx)
    table["delta_population"] = table["population_with"] - table["population_without"]
    return ScenarioProjection(table=table.reset_index(), base_year=base, horizon=int(horizon), first_effect_year=first,
                              beta_sentny=float(params.sentny), balance=bool(balance),
                              assumptions_label=without.assumptions_label, without=without, with_project=with_p,
                              notes=notes)
