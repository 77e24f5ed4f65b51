"""Model stage 5 — projections: the cohort-component projection with the model's expected migration.

:func:`run_projection` projects every kommune with :func:`geoproc.model.project.project` under the
attractiveness scenarios (neutral, historical, high, low); the model's expected domestic net
migration (:func:`projection_expected_fn`: β_sentny·sentny + β_ds·DS, DS recomputed every year
from the projected population; the terms of :class:`geoproc.model.migration_model.ProjectionMigration`)
is made zero-sum over the projected kommuner each year.

Units: rates are fractions of the 1 January population per year; persons are floats.
"""
from __future__ import annotations

import logging
from typing import Sequence

import numpy as np
import pandas as pd

from centrality.errors import InputError, require_columns
from geoproc.model import ds as dsm
from geoproc.model import migration_model as mm
from geoproc.model import project as pj
from geoproc.model.centrality_term import sentny as sentny_term
from geoproc.model.params import DEFAULT, ModelParams, get_params

log = logging.getLogger(__name__)


def projection_expected_fn(params: ModelParams, kommuner: Sequence[str], *, sentny: pd.Series | None = None,
                           jobs: pd.Series | None = None, employment_rates: pd.DataFrame | None = None,
                           death_probabilities: pd.DataFrame | None = None, balance: bool = True,
                           base_year: int | None = None) -> mm.ProjectionMigration:
    """Expected domestic net migration for each projected year from table inputs (fraction of population).

    ``b_sentny·sentny + b_ds·DS_t`` where DS_t is recomputed from the projected population (DS_abs
    over the kommune's jobs, centred over the kommuner) and jobs grow with national employment
    (every kommune keeps its share of jobs, so relative job growth and VRA are 0 — the neutral job
    assumption). The intercept is left out: the national level of net migration is the immigration
    assumption. Terms without inputs (no ``sentny``/``jobs``) are omitted. The terms are those of
    :class:`geoproc.model.migration_model.ProjectionMigration` (one implementation), built here
    from tables.

    Parameters
    ----------
    params : ModelParams
        The coefficients.
    kommuner : sequence of str
        The projected kommuner (order of the population array).
    sentny : pandas.Series, optional
        Centred centrality term per kommune (index/1000 − mean).
    jobs : pandas.Series, optional
        Base-year jobs per kommune (persons, > 0) for the DS term.
    employment_rates, death_probabilities : pandas.DataFrame, optional
        National rates by sex and age (default ILLUSTRATIVE).
    balance : bool, default True
        Subtract the population-weighted mean so domestic moves sum to zero nationally each year.
    base_year : int, optional
        The projection's base year (default: the first year the function is called for).

    Returns
    -------
    geoproc.model.migration_model.ProjectionMigration
        ``fn(year, population_array) -> rate`` per kommune (fraction per year).
    """
    kommuner = [str(k) for k in kommuner]
    s_arr = None
    if sentny is not None:
        s = pd.Series(sentny)
        s.index = s.index.astype(str)
        missing = [k for k in kommuner if k not in s.index]
        if missing:
            raise InputError(f"centrality missing for kommuner {missing[:5]}; give an index for every projected kommune.")
        s_arr = s.reindex(kommuner).to_numpy(dtype=float)
    jobs0 = None
    if jobs is not None:
        j = pd.Series(jobs)
        j.index = j.index.astype(str)
        jobs0 = j.reindex(kommuner).to_numpy(dtype=float)
        if not np.isfinite(jobs0).all() or (jobs0 <= 0).any():
            raise InputError("jobs for the projection base year must be > 0 for every projected kommune.")
    e_tab = employment_rates if employment_rates is not None else dsm.illustrative_employment_rates()
    q_tab = death_probabilities if death_probabilities is not None else dsm.illustrative_death_probabilities()
    q_arr = dsm.employment_array(q_tab.rename(columns={"q": "rate"}))
    return mm.ProjectionMigration(params=params, kommuner=kommuner, base_year=base_year, sentny=s_arr,
                                  employment=dsm.employment_array(e_tab), mortality=q_arr, jobs=jobs0,
                                  ds_denominator="jobs", balance=balance)


population_weighted_mean = mm.population_weighted_mean


def run_projection(population_by_age_sex: pd.DataFrame, *, base_year: int | None = None, horizon: int = 2040,
                   params: ModelParams | str | None = DEFAULT, centrality: pd.DataFrame | None = None,
                   jobs: pd.DataFrame | None = None, attractiveness: pd.DataFrame | None = None,
                   historical: pd.Series | None = None, assumptions: pj.NationalAssumptions | None = None,
                   scenarios: Sequence[str] = pj.SCENARIOS, employment_rates: pd.DataFrame | None = None,
                   death_probabilities: pd.DataFrame | None = None, balance_domestic: bool = True,
                   last_n_years: int = 10, **kwargs) -> pj.ProjectionResult:
    """Project every kommune to ``horizon`` under the attractiveness scenarios.

    Without attractiveness only the neutral scenario can run (logged).

    Parameters
    ----------
    population_by_age_sex : pandas.DataFrame
        year, kommune, sex, age, population (persons, 1 January).
    base_year : int, optional
        Default: the latest year of the table.
    horizon : int, default 2040
        Last year (1 January).
    params : ModelParams, str or None
        The coefficients.
    centrality : pandas.DataFrame, optional
        kommune, index (0–1000): the sentny term of the expected domestic migration.
    jobs : pandas.DataFrame, optional
        year, kommune, jobs (the base year or the latest before it): the DS term.
    attractiveness : pandas.DataFrame, optional
        year, kommune, attractiveness (fraction per year; e.g. ``ModelResult.attractiveness``).
    historical : pandas.Series, optional
        Historical attractiveness level per kommune (instead of ``attractiveness``).
    assumptions : geoproc.model.project.NationalAssumptions, optional
        National fertility, mortality, immigration (default ILLUSTRATIVE).
    scenarios : sequence of str
        neutral, historical, high, low.
    employment_rates, death_probabilities : pandas.DataFrame, optional
        National rates for DS.
    balance_domestic : bool, default True
        Domestic moves zero-sum over the projected kommuner each year.
    last_n_years : int, default 10
        Years averaged for the historical level.
    **kwargs
        Passed to :func:`geoproc.model.project.project` (e.g. fertility_factor, migration_profile).

    Returns
    -------
    geoproc.model.project.ProjectionResult
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
    expected_fn = projection_expected_fn(params, kommuner, sentny=sentny_s, jobs=jobs_s, base_year=base,
                                         employment_rates=employment_rates,
                                         death_probabilities=death_probabilities, balance=balance_domestic)
    return pj.project(arr, kommuner=kommuner, base_year=base, horizon=horizon, assumptions=assumptions,
                      expected_domestic=expected_fn, historical=historical, scenarios=scenarios, **kwargs)


__all__ = ["projection_expected_fn", "population_weighted_mean", "run_projection"]
