"""From Δ centrality to Δ expected net migration and Δ population (MODEL.md §5).

- The scenario index is computed with the **baseline's** reference accessibility ``A_ref``
  (index = 1000·ln(1+A)/ln(1+A_ref_baseline)), so baseline and scenario indices are on one scale
  and Δindex measures only the change of the zone's own accessibility. (Re-normalising to the
  scenario's own maximum would move every index when the most central zone gains.)
- Δsentny = Δindex / 1000. Two effects are reported side by side (:mod:`geoproc.scenario.effects`):
  the **gross** (local) effect holds the centring of sentny fixed; the **net** effect re-evaluates
  the national centring mean with the project (``competition`` = "population" (default,
  zero-sum), "regions" or "kommuner"), so kommuner whose centrality does not change lose.
- Δ expected net migration in year t (persons) = β_sentny × r_t × Δsentny × P_t, β from the
  published model 4 (0.0272193, SE 0.0010171) unless the user gives an estimate; r_t the
  ramp-up (``ramp_up_years``), P_t the population on 1 January of year t from a **population
  path** without the project: a table (``population_path`` = CSV year, kommune, population, e.g.
  a projection), the real-data cohort-component projection (``data_dir`` = the data folder:
  :meth:`geoproc.model.scenario_projection.ProjectionBase.from_data`), a projection of a
  population table (``projection = true`` with ``population_by_age_sex``; ILLUSTRATIVE national
  schedules), or — only when none is given — the zones' population held constant (said in every
  output). The coefficient interval uses β ± z·SE (z = 1.96, 95 %);
  :mod:`geoproc.scenario.sensitivity` adds the decay and cutoff sensitivity.
- Accumulation over the horizon ``start_year..end_year`` (inclusive, default 2025–2040): effects
  start the year after ``opening_year`` (no opening year = from ``start_year``). With
  ``compounding`` the extra migrants of earlier years join the base:
  m_t = β·r_t·Δs·(P_t + ΔP_{t−1}).
- The projection is run without and with the project
  (:class:`geoproc.model.scenario_projection.ProjectionBase`), with the same first effect year and
  β (no ramp-up); its run without the project is the population path, and its Δ (which also
  counts the extra residents' births and deaths, and their effect on jobs and DS) is shown as a
  cross-check. With ``data_dir`` it is the real-data projection (1 January of
  ``projection_base_year``, default the latest year of the data up to ``start_year``, for all
  kommuner of 2020; HMD/HFD national schedules; each kommune's fertility, mortality and migration
  pattern; the model's migration with the PROXY centrality); with ``population_by_age_sex`` a
  projection of that table with ILLUSTRATIVE national schedules (labelled so).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from centrality.errors import InputError, check_keys, require_columns
from centrality.index import aggregate
from geoproc.data.dataset import load_dataset
from geoproc.data.paths import data_folder
from geoproc.data.plausibility import check_model_tables
from geoproc.model.params import get_params
from geoproc.model.scenario_projection import ProjectionBase, delta_sentny, project_with_centrality_delta
from geoproc.scenario.effects import CENTRINGS, Competition, effect_paths, unit_effects

Z95 = 1.959963984540054


@dataclass(frozen=True)
class ImpactOptions:
    """Years are calendar years; ``beta`` per unit of sentny (index/1000); ``z`` the normal quantile."""

    start_year: int = 2025
    end_year: int = 2040
    opening_year: int | None = None
    compounding: bool = False
    model: str = "model4"
    beta: float | None = None
    beta_se: float | None = None
    z: float = Z95
    projection: bool = False                  # also run the full projection with and without the project
    population_by_age_sex: str | None = None  # CSV year, kommune, sex, age, population (1 January)
    projection_balance: bool = False          # domestic moves zero-sum over the projected kommuner
    ramp_up_years: int = 0                    # effect phased in over N effect years (0/1 = at once)
    competition: str = "population"           # centring re-evaluated: population | regions | kommuner
    national_population: float | None = None  # persons in the nation when the zones cover part of it
    national_units: int | None = None         # regions/kommuner in the nation (unweighted centrings)
    regions: str | None = None                # CSV kommune, region (competition = "regions")
    population_path: str | None = None        # CSV year, kommune, population (1 January) without the project
    data_dir: str | None = None               # data folder: the real-data projection gives the population path
    projection_base_year: int | None = None   # 1 January of the projection's base (default: latest <= start_year)

    def __post_init__(self):
        if self.end_year < self.start_year:
            raise InputError(f"impact horizon end_year {self.end_year} is before start_year {self.start_year}; "
                             "give start_year <= end_year.")
        if (self.beta is None) != (self.beta_se is None) and self.beta_se is not None:
            raise InputError("beta_se given without beta; give both (your own estimate) or neither (published model).")
        if self.beta_se is not None and self.beta_se < 0:
            raise InputError(f"beta_se must be >= 0, got {self.beta_se}.")
        if isinstance(self.ramp_up_years, bool) or not isinstance(self.ramp_up_years, int) or self.ramp_up_years < 0:
            raise InputError(f"ramp_up_years must be a whole number of years >= 0, got {self.ramp_up_years!r}.")
        if self.competition not in CENTRINGS:
            raise InputError(f"[impact] competition must be one of {', '.join(CENTRINGS)}, got {self.competition!r}.")
        if self.competition == "regions" and not self.regions:
            raise InputError("[impact] competition = \"regions\" needs regions = \"file.csv\" (kommune, region).")
        if self.national_population is not None and not float(self.national_population) > 0:
            raise InputError(f"national_population must be a positive number of persons, got {self.national_population!r}.")
        if self.projection and not (self.population_by_age_sex or self.data_dir):
            raise InputError("[impact] projection = true needs data_dir = \"DATA FOLDER\" (--data-dir: the real-data "
                             "projection) or population_by_age_sex = \"file.csv\" (year, kommune, sex, age, population; "
                             "--population-age-sex FILE).")
        bases = [k for k in ("data_dir", "population_by_age_sex", "population_path") if getattr(self, k)]
        if len(bases) > 1:
            raise InputError(f"[impact] gives {' and '.join(bases)}: give one population base — data_dir (--data-dir, "
                             "the real-data projection), population_by_age_sex (--population-age-sex, a projection "
                             "of your table with ILLUSTRATIVE national schedules) or population_path (a table of "
                             "1 January populations).")

    def first_effect_year(self) -> int:
        """First calendar year with an effect: the year after ``opening_year`` (not before ``start_year``).

        Returns
        -------
        int
        """
        return self.start_year if self.opening_year is None else max(self.start_year, self.opening_year + 1)

    @classmethod
    def from_dict(cls, d: dict, **overrides) -> "ImpactOptions":
        """Options from an ``[impact]`` table.

        Parameters
        ----------
        d : dict
            Field names and values (unknown keys raise InputError with the closest key).
        **overrides
            Values that win over the table (None = keep).

        Returns
        -------
        ImpactOptions
        """
        allowed = [f.name for f in fields(cls)]
        check_keys(list(d), allowed, "[impact]")
        kw = {**d, **{k: v for k, v in overrides.items() if v is not None}}
        return cls(**kw)

    def coefficient(self) -> tuple[float, float]:
        """The sentny coefficient: the user's estimate or the published model's.

        Returns
        -------
        tuple of float
            (β_sentny per unit of sentny, its standard error).
        """
        if self.beta is not None:
            return float(self.beta), float(self.beta_se or 0.0)
        params = get_params(self.model)
        if not params.sentny:
            raise InputError(f"model {self.model!r} has no sentny coefficient (it uses another centrality term). "
                             "Use model3/model4 or give beta = ... in [impact].")
        return float(params.sentny), float(params.se.get("sentny", 0.0))

    def years(self) -> np.ndarray:
        """The horizon's calendar years.

        Returns
        -------
        numpy.ndarray
            ``start_year..end_year`` (int).
        """
        return np.arange(self.start_year, self.end_year + 1)


def migration_effect(delta_index, population, beta: float, se: float, z: float = Z95) -> pd.DataFrame:
    """Δ expected net migration per year (persons) = β · Δindex/1000 · population, with interval.

    Parameters
    ----------
    delta_index : array-like
        Δ index per unit (index points, scenario − baseline).
    population : array-like
        Population per unit (persons).
    beta, se : float
        Coefficient (per unit of sentny) and its standard error.
    z : float
        Normal quantile of the interval (1.96 = 95 %).

    Returns
    -------
    pandas.DataFrame
        delta_sentny, delta_migrants_per_year, delta_migrants_low, delta_migrants_high (persons).
    """
    d = np.asarray(delta_index, dtype=float) / 1000.0
    pop = np.asarray(population, dtype=float)
    mid = beta * d * pop
    a, b = (beta - z * se) * d * pop, (beta + z * se) * d * pop
    return pd.DataFrame({"delta_sentny": d, "delta_migrants_per_year": mid,
                         "delta_migrants_low": np.minimum(a, b), "delta_migrants_high": np.maximum(a, b)})


def accumulate(delta_index, population, options: ImpactOptions, beta: float | None = None,
               path: np.ndarray | None = None) -> pd.DataFrame:
    """Year-by-year gross Δ migrants and cumulative Δ population (persons) for each unit.

    Parameters
    ----------
    delta_index : array-like
        Δ index points per unit.
    population : array-like
        Persons per unit (the constant base when ``path`` is None).
    options : ImpactOptions
        Horizon, opening year, ramp-up, compounding.
    beta : float, optional
        Coefficient (default ``options.coefficient()``).
    path : numpy.ndarray, optional
        Population without the project (years × units, persons on 1 January).

    Returns
    -------
    pandas.DataFrame
        unit (position), year, active, delta_migrants, delta_population (cumulative at the end of
        the year).
    """
    if beta is None:
        beta, _ = options.coefficient()
    years = options.years()
    pop = np.asarray(population, dtype=float)
    path = np.tile(pop, (len(years), 1)) if path is None else path
    ep = effect_paths(np.asarray(delta_index, dtype=float) / 1000.0, path, years, beta=beta,
                      first_effect_year=options.first_effect_year(), ramp_up_years=options.ramp_up_years,
                      compounding=options.compounding)
    n = len(pop)
    return pd.DataFrame({"unit": np.tile(np.arange(n), len(years)), "year": np.repeat(years, n),
                         "active": np.repeat(ep.ramp > 0, n), "delta_migrants": ep.gross.reshape(-1),
                         "delta_population": ep.gross_cum.reshape(-1)})


def horizon_effect(delta_index, population, options: ImpactOptions, path: np.ndarray | None = None,
                   competition: Competition | None = None) -> pd.DataFrame:
    """Per unit: Δ migrants a year (gross and net) with intervals and Δ population by ``end_year``.

    Parameters
    ----------
    delta_index : array-like
        Δ index points per unit.
    population : array-like
        Persons per unit.
    options : ImpactOptions
        Horizon, coefficients, ramp-up, compounding.
    path : numpy.ndarray, optional
        Population path (years × units); default: ``population`` held constant.
    competition : Competition, optional
        How the centring mean is re-evaluated (default population-weighted over the units).

    Returns
    -------
    pandas.DataFrame
        The summary of :func:`geoproc.scenario.effects.unit_effects` plus ``horizon``.
    """
    return horizon_effects(delta_index, population, options, path, competition)[0]


def horizon_effects(delta_index, population, options: ImpactOptions, path: np.ndarray | None = None,
                    competition: Competition | None = None, shift: np.ndarray | None = None,
                    beta: float | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """:func:`horizon_effect` plus the per-year table and the national totals.

    Parameters
    ----------
    delta_index : array-like
        Δ index points per unit.
    population : array-like
        Persons per unit.
    options : ImpactOptions
        Horizon, coefficients, ramp-up, compounding.
    path : numpy.ndarray, optional
        Population path (years × units); default: ``population`` held constant.
    competition : Competition, optional
        How the centring mean is re-evaluated.
    shift : numpy.ndarray, optional
        Δ of the centring mean per year (index/1000), given instead of computed.
    beta : float, optional
        Coefficient instead of ``options.coefficient()`` (SE kept).

    Returns
    -------
    tuple
        (summary, yearly, totals) of :func:`geoproc.scenario.effects.unit_effects`.
    """
    b, se = options.coefficient()
    beta = b if beta is None else beta
    years = options.years()
    pop = np.asarray(population, dtype=float)
    path = np.tile(pop, (len(years), 1)) if path is None else path
    eff, yearly, totals = unit_effects(np.asarray(delta_index, dtype=float) / 1000.0, path, years, beta=beta, se=se,
                                       z=options.z, first_effect_year=options.first_effect_year(),
                                       ramp_up_years=options.ramp_up_years, compounding=options.compounding,
                                       competition=competition, shift=shift)
    eff["horizon"] = f"{options.start_year}-{options.end_year}"
    return eff, yearly, totals


def competition_for(options: ImpactOptions, units, population, regions: pd.DataFrame | None = None,
                    centring: str | None = None) -> Competition:
    """The :class:`~geoproc.scenario.effects.Competition` of a run.

    Parameters
    ----------
    options : ImpactOptions
        ``competition``, ``national_population`` (persons), ``national_units``.
    units : sequence of str
        Unit ids (kommune codes).
    population : array-like
        Persons per unit (their sum is the run's population).
    regions : pandas.DataFrame, optional
        kommune, region (needed for the "regions" centring).
    centring : str, optional
        Instead of ``options.competition``.

    Returns
    -------
    Competition
    """
    centring = centring or options.competition
    units = [str(u) for u in units]
    outside_pop = 0.0
    if options.national_population is not None:
        outside_pop = float(options.national_population) - float(np.sum(population))
        if outside_pop < -0.5:
            raise InputError(f"national_population {options.national_population:,.0f} is smaller than the run's "
                             f"population {float(np.sum(population)):,.0f}; give the whole nation's population.")
        outside_pop = max(0.0, outside_pop)
    labels = None
    if centring == "regions":
        if regions is None:
            raise InputError("competition = \"regions\" needs a regions table (kommune, region): set [impact] "
                             "regions = \"file.csv\".")
        mapping = regions.set_index(regions["kommune"].astype(str))["region"].astype(str)
        missing = [u for u in units if u not in mapping.index]
        if missing:
            raise InputError(f"the regions table has no region for {', '.join(missing[:5])}"
                             f"{' ...' if len(missing) > 5 else ''}; give one row per kommune (kommune, region).")
        labels = mapping.reindex(units).to_numpy()
    n_units = len(set(labels)) if labels is not None else len(units)
    outside_units = 0
    if options.national_units is not None:
        outside_units = int(options.national_units) - n_units
        if outside_units < 0:
            raise InputError(f"national_units {options.national_units} is smaller than the run's {n_units} "
                             f"{'regions' if centring == 'regions' else 'units'}; give the national count.")
    return Competition(centring=centring, regions=labels, outside_population=outside_pop, outside_units=outside_units)


def read_regions(path) -> pd.DataFrame:
    """CSV ``kommune, region`` (text codes) for the "regions" centring.

    Parameters
    ----------
    path : path-like
        The file; SSB's kommune_regions file (``ba_region_code``) is accepted as well.

    Returns
    -------
    pandas.DataFrame
        kommune, region.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"regions file {p} not found; give a CSV with columns kommune, region.")
    df = pd.read_csv(p, dtype=str)
    if "region" not in df.columns and "ba_region_code" in df.columns:
        df = df.rename(columns={"ba_region_code": "region"})
    require_columns(df.columns, ["kommune", "region"], f"regions file {p}", "Give columns kommune, region.")
    return df[["kommune", "region"]]


def read_population_path(path) -> pd.DataFrame:
    """CSV ``year, kommune, population`` (persons on 1 January; kommune codes as text).

    Parameters
    ----------
    path : path-like
        The file.

    Returns
    -------
    pandas.DataFrame
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"population path file {p} not found; give a CSV with year, kommune, population "
                         "(1 January of each year, e.g. a projection without the project).")
    df = pd.read_csv(p, dtype={"kommune": str})
    require_columns(df.columns, ["year", "kommune", "population"], f"population path file {p}",
                    "Give columns year, kommune, population.")
    return df


def population_path(units, years, table: pd.DataFrame) -> np.ndarray:
    """Population on 1 January of each year (rows) for every unit (columns).

    Parameters
    ----------
    units : sequence
        Unit ids (kommune codes).
    years : sequence of int
        Calendar years.
    table : pandas.DataFrame
        year, kommune, population. Every unit and year must be present.

    Returns
    -------
    numpy.ndarray
        Years × units, persons.

    Raises
    ------
    InputError
        Listing missing years or units, or negative/missing values.
    """
    require_columns(table.columns, ["year", "kommune", "population"], "population path",
                    "Give year, kommune, population.")
    units = [str(u) for u in units]
    t = table.assign(kommune=table["kommune"].astype(str), year=pd.to_numeric(table["year"]).astype(int))
    wide = t.pivot_table(index="year", columns="kommune", values="population", aggfunc="sum")
    years = [int(y) for y in years]
    missing_years = [y for y in years if y not in wide.index]
    missing_units = [u for u in units if u not in wide.columns]
    if missing_years or missing_units:
        raise InputError("the population path does not cover the run: "
                         + (f"years {missing_years[:5]} missing (it has {int(wide.index.min())}–"
                            f"{int(wide.index.max())}); " if missing_years else "")
                         + (f"kommuner {missing_units[:5]} missing; " if missing_units else "")
                         + "give 1 January populations for every horizon year and kommune of the zones "
                           "(or project further).")
    out = wide.loc[years, units].to_numpy(dtype=float)
    if not np.isfinite(out).all() or (out < 0).any():
        raise InputError("the population path has missing or negative values; give a population >= 0 for every "
                         "kommune and year.")
    return out


def zone_deltas(base: pd.DataFrame, scen: pd.DataFrame, value_cols) -> pd.DataFrame:
    """Baseline, scenario and Δ (scenario − baseline) of ``value_cols`` side by side.

    Parameters
    ----------
    base, scen : pandas.DataFrame
        Baseline and scenario tables (same rows).
    value_cols : iterable of str
        Columns to compare (their units are kept).

    Returns
    -------
    pandas.DataFrame
        ``<c>_base``, ``<c>_scen``, ``delta_<c>`` per column.
    """
    out = {}
    for c in value_cols:
        out[f"{c}_base"] = base[c].to_numpy(dtype=float)
        out[f"{c}_scen"] = scen[c].to_numpy(dtype=float)
        out[f"delta_{c}"] = out[f"{c}_scen"] - out[f"{c}_base"]
    return pd.DataFrame(out, index=base.index)


def group_index(table: pd.DataFrame, by: str, index_cols, pop_col: str = "population") -> pd.DataFrame:
    """Population-weighted means of ``index_cols`` per ``by`` (with the population sum).

    A thin wrapper of :func:`centrality.index.aggregate` that returns ``by`` as a column.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per zone.
    by : str
        Group column (e.g. kommune).
    index_cols : iterable of str
        Columns averaged.
    pop_col : str, default "population"
        Weight column (persons).

    Returns
    -------
    pandas.DataFrame
    """
    out = aggregate(table, by=by, value_cols=list(index_cols), weight=pop_col)
    return out.drop(columns=["zero_weight"]).reset_index()


def read_population_by_age_sex(path) -> pd.DataFrame:
    """Read the CSV ``year, kommune, sex, age, population`` (kommune codes kept as text, e.g. "0301").

    Parameters
    ----------
    path : path-like
        The CSV file.

    Returns
    -------
    pandas.DataFrame
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"population by age and sex file {p} not found; give a CSV with year, kommune, sex, age, "
                         "population (e.g. SSB table 07459 in tidy form).")
    population = pd.read_csv(p, dtype={"kommune": str})
    if "kommune" in population.columns:   # kommune codes of one code system, no zero total (issue 13)
        check_model_tables({"population_by_age_sex": population}, source="population_by_age_sex")
    return population


def optional_projection(delta_by_kommune: pd.DataFrame, *, options: ImpactOptions | None = None,
                        population: pd.DataFrame | None = None, base: ProjectionBase | None = None, **kwargs):
    """Full cohort-component projections per kommune with and without the project, or None.

    With ``base`` (the real-data projection, :func:`data_projection_base`) the project's Δ is added
    to it; else runs when ``population`` is given or ``options.projection`` names a population
    file (ILLUSTRATIVE national schedules); otherwise returns None (the accumulated Δ population
    is then the answer). The projection reaches 1 January ``end_year + 1`` (= end of ``end_year``)
    and the effect starts in :meth:`ImpactOptions.first_effect_year`, with β from
    :meth:`ImpactOptions.coefficient`.

    Parameters
    ----------
    delta_by_kommune : pandas.DataFrame
        kommune and index_base/index_scen, delta_index or delta_sentny.
    options : ImpactOptions, optional
        Horizon and coefficients.
    population : pandas.DataFrame, optional
        year, kommune, sex, age, population (1 January).
    base : geoproc.model.scenario_projection.ProjectionBase, optional
        The projection without the project (e.g. the real-data one).
    **kwargs
        start_year, end_year, opening_year (without ``options``) or projection arguments.

    Returns
    -------
    geoproc.model.scenario_projection.ScenarioProjection or None
    """
    if options is None:
        known = {k: kwargs.pop(k) for k in ("start_year", "end_year", "opening_year") if k in kwargs}
        options = ImpactOptions(**{k: v for k, v in known.items() if v is not None})
    else:
        for k in ("start_year", "end_year", "opening_year"):
            kwargs.pop(k, None)
    if base is not None:
        return base.with_delta(delta_sentny(delta_by_kommune), first_effect_year=options.first_effect_year(),
                               balance=options.projection_balance)
    if population is None:
        if not (options.projection and options.population_by_age_sex):
            return None
        population = read_population_by_age_sex(options.population_by_age_sex)
    beta, _ = options.coefficient()
    kwargs.setdefault("balance", options.projection_balance)
    return project_with_centrality_delta(delta_by_kommune, population, horizon=options.end_year + 1,
                                         first_effect_year=options.first_effect_year(), beta=beta, **kwargs)


def data_projection_base(options: ImpactOptions, units=None) -> ProjectionBase:
    """The real-data projection without the project for ``options.data_dir`` (cached per folder and horizon).

    Base year: ``options.projection_base_year``, else the latest 1 January population of the data
    up to ``start_year``; horizon 1 January ``end_year + 1``; coefficients ``options.model`` with
    β_sentny = :meth:`ImpactOptions.coefficient`.

    Parameters
    ----------
    options : ImpactOptions
        ``data_dir`` and the horizon.
    units : sequence of str, optional
        The run's kommune codes: checked against the data's (2020) kommuner before projecting.

    Returns
    -------
    geoproc.model.scenario_projection.ProjectionBase
    """
    beta, _ = options.coefficient()
    folder = str(data_folder(options.data_dir))
    if units is not None:
        missing = sorted(set(str(u) for u in units) - set(_dataset(folder).kommuner))
        if missing:
            raise InputError(f"the zones' kommune codes {', '.join(missing[:5])} are not kommuner of the data folder's "
                             "projection (2020 codes, e.g. 5037 Levanger); give the 2020 kommune code in the group "
                             "field, or leave out --data-dir / [impact] data_dir.")
    return _data_base(folder, options.projection_base_year, int(options.start_year), int(options.end_year) + 1,
                      str(options.model), float(beta))


@lru_cache(maxsize=1)
def _dataset(folder: str):
    return load_dataset(folder)


@lru_cache(maxsize=2)
def _data_base(folder: str, base_year: int | None, start_year: int, horizon: int, model: str,
               beta: float) -> ProjectionBase:
    dataset = _dataset(folder)
    years = sorted(int(y) for y in dataset.population["year"].unique())
    if base_year is None:
        usable = [y for y in years if y <= start_year]
        if not usable:
            raise InputError(f"the data folder's population starts in {years[0]}, after the horizon start {start_year}; "
                             "give [impact] projection_base_year or a later start_year.")
        base_year = usable[-1]
    return ProjectionBase.from_data(dataset, base_year=int(base_year), horizon=horizon, params=model, beta=beta)


def projection_delta(groups: pd.DataFrame, group_col: str) -> pd.DataFrame:
    """The centrality Δ table of a variant's kommune groups in the form :func:`optional_projection` takes.

    Parameters
    ----------
    groups : pandas.DataFrame
        A variant's groups table.
    group_col : str
        Its kommune column.

    Returns
    -------
    pandas.DataFrame
        kommune plus whichever of index_base, index_scen, delta_index, delta_sentny exist.
    """
    cols = [c for c in ("index_base", "index_scen", "delta_index", "delta_sentny") if c in groups.columns]
    return groups[[group_col, *cols]].rename(columns={group_col: "kommune"})


def attach_projections(run, population: pd.DataFrame | None = None, base: ProjectionBase | None = None) -> list:
    """Fill ``projection`` of every variant with kommune groups and no projection yet.

    Parameters
    ----------
    run : geoproc.scenario.ScenarioRun
    population : pandas.DataFrame, optional
        year, kommune, sex, age, population (see :func:`optional_projection`).
    base : geoproc.model.scenario_projection.ProjectionBase, optional
        A projection without the project (e.g. :func:`data_projection_base`).

    Returns
    -------
    list
        The projection of each variant (or None).
    """
    out = []
    for v in run.variants:
        if v.groups is not None and v.projection is None:
            v.projection = optional_projection(projection_delta(v.groups, run.group_col), options=v.impact,
                                               population=population, base=base)
        out.append(v.projection)
    return out
