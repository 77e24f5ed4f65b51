"""Model stage 6 — scenario coupling: projections with and without a road project (MODEL.md §5).

A road project changes the centrality of some kommuner by Δsentny = Δindex/1000. The
cohort-component projection is run twice with everything else equal: without the project (the
population path P_t of the scenario's Δ migrants = β × Δsentny × P_t) and with it (β × Δsentny
added to the model's expected net migration from the first effect year), so the difference is the
project's effect on the population, including the extra residents' births and deaths.

:class:`ProjectionBase` holds the projection without the project and runs it with one:

- :meth:`ProjectionBase.from_data` — the real-data projection of
  :mod:`geoproc.model.real_projection` (population by sex and age of the base year, HMD/HFD
  national schedules, each kommune's fertility, mortality and migration pattern, the model's
  migration with centrality, DS and VRA; the neutral attractiveness scenario);
- :meth:`ProjectionBase.from_table` — a projection from a population table with the
  ILLUSTRATIVE national schedules unless others are given (for data without the national files,
  and the synthetic demo), labelled so.

Both use :class:`geoproc.model.migration_model.ProjectionMigration` for the model's migration.
Units: index points (0–1000), sentny = index/1000 (centred), persons (floats, 1 January).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import pandas as pd

from centrality.errors import InputError, require_columns
from geoproc.data.dataset import Dataset, load_dataset
from geoproc.model import project as pj
from geoproc.model import real_projection as rp
from geoproc.model.migration_model import ProjectionMigration, population_weighted_mean
from geoproc.model.params import DEFAULT, ModelParams, get_params
from geoproc.model.projection import projection_expected_fn


def coefficients(params: ModelParams | str | None, beta: float | None = None) -> ModelParams:
    """The model's coefficients with the sentny coefficient replaced by ``beta`` when given.

    Parameters
    ----------
    params : ModelParams, str or None
        Coefficients (see :func:`geoproc.model.params.get_params`).
    beta : float, optional
        Sentny coefficient (a user estimate), per unit of sentny.

    Returns
    -------
    ModelParams
    """
    params = get_params(params)
    return params if beta is None else replace(params, sentny=float(beta))


@dataclass
class ScenarioProjection:
    """Cohort-component projections without and with a project, same inputs otherwise.

    ``table``: year (population on 1 January of ``year``), kommune, population_without,
    population_with, delta_population (persons, float). The state on 1 January Y+1 is the
    population at the end of year Y, so "Δ population by the end of Y" = the row ``year == Y + 1``.
    ``first_effect_year``: first calendar year whose migration includes the project's Δsentny.
    ``without``/``with_project``: the full :class:`~geoproc.model.project.ProjectionResult` (by age, sex).
    ``assumptions_label`` names the national schedules; ``source`` says which projection it is
    ("real data" or "table") and ``notes`` what it rests on.
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
    source: str = "table"

    @property
    def illustrative(self) -> bool:
        """Whether the national schedules are the ILLUSTRATIVE ones.

        Returns
        -------
        bool
        """
        return "ILLUSTRATIVE" in self.assumptions_label

    def delta_by_end_of(self, year: int) -> pd.Series:
        """Δ population per kommune by the end of ``year`` (= 1 January ``year + 1``).

        Parameters
        ----------
        year : int
            Calendar year inside the projection.

        Returns
        -------
        pandas.Series
            Persons, indexed by kommune.
        """
        if year + 1 not in self.table["year"].to_numpy():
            raise InputError(f"the projection covers 1 January {self.base_year}..{self.horizon}; "
                             f"the end of {year} is outside it. Project to horizon ≥ {year + 1}.")
        rows = self.table[self.table["year"] == year + 1]
        return rows.set_index("kommune")["delta_population"]


@dataclass
class ProjectionBase:
    """A projection without the project, ready to be run with one (module docstring).

    ``run(expected_domestic)`` projects the base population with a model-migration callable;
    ``make_model(balance)`` builds a fresh :class:`~geoproc.model.migration_model.ProjectionMigration`
    of the projection (its state is per run). ``without`` is the run without the project and
    ``shifts`` its balancing constant per year (0 unless domestic moves are balanced).
    """

    kommuner: list[str]
    base_year: int
    horizon: int
    beta_sentny: float
    assumptions_label: str
    run: Callable[[Callable], pj.ProjectionResult]
    make_model: Callable[[bool], ProjectionMigration]
    balance_domestic: bool
    source: str
    notes: list[str] = field(default_factory=list)
    without: pj.ProjectionResult | None = None
    shifts: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.without is None:
            model = self.make_model(self.balance_domestic)
            self.without = self.run(model)
            self.shifts = model.balance_shifts()

    @classmethod
    def from_data(cls, data: Dataset | str | None = None, *, base_year: int, horizon: int,
                  params: ModelParams | str | None = "model4", beta: float | None = None,
                  centrality: pd.DataFrame | None = None, **kwargs) -> "ProjectionBase":
        """The real-data projection of :mod:`geoproc.model.real_projection` (neutral scenario).

        Parameters
        ----------
        data : Dataset or path-like, optional
            A harmonised dataset or the data folder (default ``$REGIO_DATA_DIR``).
        base_year, horizon : int
            1 January of the base population (must be in the data) and of the last year.
        params : ModelParams or str, default "model4"
            Coefficients of the model's migration.
        beta : float, optional
            Sentny coefficient instead of that of ``params`` (a user estimate).
        centrality : pandas.DataFrame, optional
            kommune, index of every 2020 kommune (default the PROXY index).
        **kwargs
            Other arguments of :func:`geoproc.model.real_projection.prepare_projection`.

        Returns
        -------
        ProjectionBase
        """
        params = coefficients(params, beta)
        dataset = data if isinstance(data, Dataset) else load_dataset(data)
        setup = rp.prepare_projection(dataset, base_year=base_year, horizon=horizon, params=params,
                                      centrality=centrality, **kwargs)
        notes = list(setup.notes)
        return cls(kommuner=list(setup.kommuner), base_year=setup.base_year, horizon=setup.horizon,
                   beta_sentny=float(params.sentny), assumptions_label=setup.assumptions.label,
                   run=lambda fn: setup.project(fn), make_model=lambda bal: replace(setup.migration, balance=bal),
                   balance_domestic=bool(setup.migration.balance), source="real data", notes=notes)

    @classmethod
    def from_table(cls, population_by_age_sex: pd.DataFrame, *, horizon: int, base_year: int | None = None,
                   params: ModelParams | str | None = DEFAULT, beta: float | None = None,
                   sentny: pd.Series | None = None, jobs: pd.Series | None = None, balance_domestic: bool = True,
                   assumptions: pj.NationalAssumptions | None = None, migration_profile=None,
                   **kwargs) -> "ProjectionBase":
        """A projection from a population table (:func:`geoproc.model.projection.projection_expected_fn`).

        Parameters
        ----------
        population_by_age_sex : pandas.DataFrame
            year, kommune, sex, age, population (1 January).
        horizon : int
            Last year (1 January).
        base_year : int, optional
            Default: the latest year of the table.
        params : ModelParams, str or None
            The coefficients.
        beta : float, optional
            Sentny coefficient instead of that of ``params``.
        sentny : pandas.Series, optional
            Baseline centred sentny per kommune (the level term; None = no centrality term).
        jobs : pandas.Series, optional
            Base-year jobs per kommune for the DS term.
        balance_domestic : bool, default True
            The model's domestic moves zero-sum over the projected kommuner.
        assumptions : geoproc.model.project.NationalAssumptions, optional
            National fertility, mortality, immigration (default ILLUSTRATIVE, labelled so).
        migration_profile : pandas.DataFrame, optional
            Migration age profile per kommune.
        **kwargs
            Passed to :func:`geoproc.model.project.project`.

        Returns
        -------
        ProjectionBase
        """
        params = coefficients(params, beta)
        require_columns(population_by_age_sex.columns, ["year", "kommune", "sex", "age", "population"],
                        "population by age and sex table", "Give year, kommune, sex (female/male), age, population.")
        arr, kommuner, base = pj.population_array(population_by_age_sex, base_year)
        assumptions = assumptions or pj.NationalAssumptions()
        common = dict(kommuner=kommuner, base_year=base, horizon=horizon, assumptions=assumptions,
                      scenarios=("neutral",), migration_profile=migration_profile, **kwargs)

        def make_model(balance: bool) -> ProjectionMigration:
            return projection_expected_fn(params, kommuner, sentny=sentny, jobs=jobs, balance=balance, base_year=base)

        return cls(kommuner=list(kommuner), base_year=base, horizon=int(horizon), beta_sentny=float(params.sentny),
                   assumptions_label=assumptions.label, run=lambda fn: pj.project(arr, expected_domestic=fn, **common),
                   make_model=make_model, balance_domestic=balance_domestic, source="table")

    def with_delta(self, delta_sentny: pd.Series, *, first_effect_year: int | None = None,
                   balance: bool = False) -> ScenarioProjection:
        """The projection with a project whose Δsentny holds from ``first_effect_year``.

        With the project the model rate is the same function of the projected population (a fresh
        model, so jobs and DS follow the population with the project) minus the baseline run's
        balancing constant of each year, plus β_sentny × Δsentny from ``first_effect_year``; only
        the project's Δ enters.

        Parameters
        ----------
        delta_sentny : pandas.Series
            Δindex/1000 per kommune (index = kommune codes; kommuner not in it: 0).
        first_effect_year : int, optional
            First calendar year with the project's Δsentny (default: the base year).
        balance : bool, default False
            False: the project adds β·Δsentny·P migrants a year to its kommuner and nothing elsewhere
            (the scenario's gross effect); True: its extra moves are zero-sum over the projected
            kommuner each year.

        Returns
        -------
        ScenarioProjection
        """
        d = pd.Series(delta_sentny, dtype=float)
        d.index = d.index.astype(str)
        unknown = sorted(set(d.index[d.to_numpy() != 0]) - set(self.kommuner))
        if unknown:
            raise InputError(f"kommuner {unknown[:5]} of the scenario are not in the projection "
                             f"({self.source}); use the projection's kommune codes (2020 codes for the data folder).")
        if not np.isfinite(d.to_numpy()).all():
            raise InputError("the centrality Δ has NULL/NaN values; give a number for every kommune.")
        first = self.base_year if first_effect_year is None else int(first_effect_year)
        notes = list(self.notes)
        if first < self.base_year:
            notes.append(f"population base year {self.base_year} is after the first effect year {first}: effects of "
                         f"{first}–{self.base_year - 1} are not in the projection (give an earlier population).")
        extra = self.beta_sentny * d.reindex(self.kommuner).fillna(0.0).to_numpy(dtype=float)   # fraction per year
        model = self.make_model(False)
        shifts = self.shifts

        def with_project(year: int, pop: np.ndarray) -> np.ndarray:
            rate = model(year, pop) - shifts.get(int(year), 0.0)
            if year < first:
                return rate
            return rate + extra - (population_weighted_mean(extra, pop) if balance else 0.0)

        with_p = self.run(with_project)
        without = self.without
        p0, p1 = without.arrays["neutral"].sum(axis=(2, 3)), with_p.arrays["neutral"].sum(axis=(2, 3))
        idx = pd.MultiIndex.from_product([without.years, self.kommuner], names=["year", "kommune"])
        table = pd.DataFrame({"population_without": p0.reshape(-1), "population_with": p1.reshape(-1)}, index=idx)
        table["delta_population"] = table["population_with"] - table["population_without"]
        return ScenarioProjection(table=table.reset_index(), base_year=self.base_year, horizon=self.horizon,
                                  first_effect_year=first, beta_sentny=self.beta_sentny, balance=bool(balance),
                                  assumptions_label=self.assumptions_label, without=without, with_project=with_p,
                                  notes=notes, source=self.source)


def _scenario_sentny(delta: pd.DataFrame, kommuner: list[str]) -> tuple[pd.Series, pd.Series]:
    """(baseline sentny, scenario sentny) per kommune from a Δ table (see project_with_centrality_delta)."""
    d = _delta_frame(delta)
    if {"index_base", "index_scen"} <= set(d.columns):
        base = d["index_base"].astype(float) / 1000.0
        scen = d["index_scen"].astype(float) / 1000.0
        mean = float(base.mean())                      # baseline centring held fixed in both runs
        base, scen = base - mean, scen - mean
    else:
        ds = delta_sentny(delta)
        base, scen = ds * 0.0, ds
    if not (np.isfinite(base).all() and np.isfinite(scen).all()):
        raise InputError("centrality delta table has NULL/NaN values; give a number for every kommune.")
    missing = [k for k in kommuner if k not in d.index]
    if missing:
        raise InputError(f"kommuner {missing[:5]} of the population table have no centrality Δ; "
                         "give a row (Δ = 0) for each, or drop them from the population table.")
    return base.reindex(kommuner), scen.reindex(kommuner)


def _delta_frame(delta: pd.DataFrame) -> pd.DataFrame:
    require_columns(delta.columns, ["kommune"], "centrality delta table",
                    "Give kommune and index_base + index_scen (index points), delta_index or delta_sentny.")
    d = delta.set_index(delta["kommune"].astype(str))
    if d.index.duplicated().any():
        raise InputError(f"centrality delta table has duplicate kommuner {sorted(set(d.index[d.index.duplicated()]))[:5]}; "
                         "give one row per kommune.")
    if not ({"index_base", "index_scen"} <= set(d.columns) or {"delta_index", "delta_sentny"} & set(d.columns)):
        raise InputError("centrality delta table needs index_base and index_scen (index points), delta_index "
                         "or delta_sentny (index/1000) per kommune.")
    return d


def delta_sentny(delta: pd.DataFrame) -> pd.Series:
    """Δsentny (index/1000) per kommune from a centrality Δ table.

    Parameters
    ----------
    delta : pandas.DataFrame
        kommune and index_base + index_scen (index points), delta_index (points) or delta_sentny.

    Returns
    -------
    pandas.Series
        Indexed by kommune (text).
    """
    d = _delta_frame(delta)
    if "delta_sentny" in d.columns:
        out = d["delta_sentny"].astype(float)
    elif "delta_index" in d.columns:
        out = d["delta_index"].astype(float) / 1000.0
    else:
        out = (d["index_scen"].astype(float) - d["index_base"].astype(float)) / 1000.0
    return out.rename("delta_sentny")


def project_with_centrality_delta(delta: pd.DataFrame, population_by_age_sex: pd.DataFrame, *,
                                  horizon: int = 2041, base_year: int | None = None,
                                  first_effect_year: int | None = None,
                                  params: ModelParams | str | None = DEFAULT, beta: float | None = None,
                                  jobs: pd.Series | None = None, balance: bool = False,
                                  balance_domestic: bool = True,
                                  assumptions: pj.NationalAssumptions | None = None,
                                  migration_profile=None, **kwargs) -> ScenarioProjection:
    """The cohort-component projection of a population table with and without a project.

    :meth:`ProjectionBase.from_table` then :meth:`ProjectionBase.with_delta`, for the kommuner of
    ``delta``. Without the project the expected domestic net migration is the model's
    (:func:`geoproc.model.projection.projection_expected_fn`): β_sentny × baseline sentny (+ the
    DS term when ``jobs`` is given), made zero-sum over the projected kommuner with
    ``balance_domestic``; with the project β_sentny × Δsentny is added from ``first_effect_year``,
    the baseline's centring and each year's balancing constant kept. For the real data folder use
    :meth:`ProjectionBase.from_data` instead.

    Parameters
    ----------
    delta : pandas.DataFrame
        kommune and either ``index_base`` + ``index_scen`` (index points 0–1000; sentny = index/1000
        minus the BASELINE mean in both runs), or ``delta_index`` (points) / ``delta_sentny``
        (index/1000); then the baseline sentny is 0 and the baseline run has no centrality term.
    population_by_age_sex : pandas.DataFrame
        year, kommune, sex, age, population (1 January); restricted to the kommuner of ``delta``
        (all must be there).
    horizon : int, default 2041
        Last year (1 January).
    base_year : int, optional
        Default: the latest year of the population table.
    first_effect_year : int, optional
        First calendar year with the project's Δsentny (default: the base year).
    params : ModelParams, str or None
        The coefficients.
    beta : float, optional
        Overrides the sentny coefficient of ``params`` (per unit of sentny).
    jobs : pandas.Series, optional
        Base-year jobs per kommune for the DS term.
    balance : bool, default False
        See :meth:`ProjectionBase.with_delta`.
    balance_domestic : bool, default True
        The model's domestic moves zero-sum (as :func:`~geoproc.model.projection.run_projection`).
    assumptions : geoproc.model.project.NationalAssumptions, optional
        National fertility, mortality, immigration (default ILLUSTRATIVE), identical in both runs.
    migration_profile : pandas.DataFrame, optional
        Migration age profile per kommune.
    **kwargs
        Passed to :func:`geoproc.model.project.project`.

    Returns
    -------
    ScenarioProjection
        Persons are floats (1 January).
    """
    params = coefficients(params, beta)
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
    kommuner = sorted(pop_tab["kommune"].unique())
    sentny_base, sentny_scen = _scenario_sentny(delta, kommuner)
    base = ProjectionBase.from_table(pop_tab, horizon=horizon, base_year=base_year, params=params,
                                     sentny=sentny_base, jobs=jobs, balance_domestic=balance_domestic,
                                     assumptions=assumptions, migration_profile=migration_profile, **kwargs)
    return base.with_delta(sentny_scen - sentny_base, first_effect_year=first_effect_year, balance=balance)


__all__ = ["ScenarioProjection", "ProjectionBase", "delta_sentny", "project_with_centrality_delta"]
