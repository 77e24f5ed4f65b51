"""Model stage 6 — scenario coupling: projections with and without a road project (MODEL.md §5).

:func:`project_with_centrality_delta` runs the cohort-component projection twice for the kommuner
of a centrality Δ table (from :mod:`geoproc.scenario`): with the baseline centrality and with the
scenario's, everything else equal, so the difference is the project's effect on the population.

Units: index points (0–1000), sentny = index/1000 (centred), persons (floats, 1 January).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from centrality.errors import InputError, require_columns
from geoproc.model import project as pj
from geoproc.model.params import DEFAULT, ModelParams, get_params
from geoproc.model.projection import population_weighted_mean, projection_expected_fn


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
    """The cohort-component projection with and without a project, for the kommuner of ``delta``.

    Runs :func:`geoproc.model.project.project` twice: with the baseline centrality and with the
    scenario centrality. Without the project the expected domestic net migration is the model's
    (:func:`geoproc.model.projection.projection_expected_fn`): β_sentny × baseline sentny (+ the DS
    term when ``jobs`` is given), made zero-sum over the projected kommuner with
    ``balance_domestic``. With the project the rate is the same function of the projected population
    plus β_sentny × Δsentny in the years ≥ ``first_effect_year``; the baseline's centring and each
    year's balancing constant (from the run without the project) are kept, so only the project's Δ
    enters.

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
        False keeps the rule of the scenario impact (the project adds β·Δsentny·population(year)
        migrants a year to the kommune and nothing elsewhere); True makes the project's extra moves
        zero-sum over the projected kommuner each year.
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


__all__ = ["ScenarioProjection", "project_with_centrality_delta"]
