"""Decomposition of population change and net migration (MODEL.md §2.5), in persons per year.

Net migration of unit i in year t (persons) is split into
- ``immigration``: national net immigration rate_t × P_i,t (``baseline="national_immigration"``,
  the published decomposition; domestic moves net to zero nationally, so the national level of
  net migration is the immigration). With ``baseline="intercept"`` this component is the
  regression intercept × P instead, so the components add up to the regression's expected net
  migration and ``attractiveness`` equals the regression residual (:mod:`attractiveness`).
- ``centrality``: b_c·sentny·P (+ b_ssb·ssb_index·P for model 2),
- ``own_jobs``: Σ_k b_k·s_ii·RA_i,t−k·P (the j = i part of VRA and its lags),
- ``neighbour_jobs``: Σ_k b_k·Σ_j≠i s_ij·RA_j,t−k·P (*nabovekst*),
- ``ds``: b_ds·DS·P,
- ``expected`` = sum of the above, ``attractiveness`` = actual − expected.
Population change = births − deaths + net migration; births and deaths are compared with the
expected numbers from national fertility (per woman and age) and mortality (per person, sex, age).
P is the population on 1 January of year t (persons).

:func:`decomposition_stage` is the decomposition step of a model run (model stage 4).
"""
from __future__ import annotations

from typing import Literal, Mapping, Sequence

import numpy as np
import pandas as pd

from centrality.errors import InputError, require_columns
from geoproc.data.tables import (check_non_negative, check_range, check_table, check_years, select_years,
                                 unit_column)
from geoproc.model import project as pj
from geoproc.model.inputs import ModelInputs, ModelTables, to_regions
from geoproc.model.params import DEFAULT, ModelParams

MIGRATION_COMPONENTS = ("immigration", "centrality", "own_jobs", "neighbour_jobs", "ds")


def _rate_by_year(rate: Mapping[int, float] | pd.Series | pd.DataFrame, years, what: str) -> pd.Series:
    if isinstance(rate, pd.DataFrame):
        check_table(rate, ["year", "rate"], what)
        rate = rate.set_index("year")["rate"]
    series = pd.Series(rate, dtype=float)
    check_years(years, series.index, what, "Give a national rate (fraction of population) for every year.")
    return series


def _merge_one_to_one(left: pd.DataFrame, right: pd.DataFrame, keys: list[str], what: str) -> pd.DataFrame:
    out = left.merge(right, on=keys, how="left", indicator=True)
    missing = out["_merge"] != "both"
    if missing.any():
        raise InputError(f"{what} is missing for {int(missing.sum())} rows, e.g. "
                         f"{out.loc[missing, keys].head(5).to_dict('records')}. Give it for every unit and year.")
    return out.drop(columns="_merge")


def decompose_net_migration(inputs: pd.DataFrame, population: pd.DataFrame, net_migration: pd.DataFrame,
                            national_immigration_rate: Mapping[int, float] | pd.Series | pd.DataFrame,
                            params: ModelParams = DEFAULT, *,
                            baseline: Literal["national_immigration", "intercept"] = "national_immigration",
                            ) -> pd.DataFrame:
    """Net migration components (persons).

    Parameters
    ----------
    inputs : pandas.DataFrame
        year, <unit>, vra_t_own, vra_t_neighbour, vra_t1_own, … (from
        ``vra_with_lags(..., split=True)``) plus sentny/ds for the terms ``params`` uses (fractions).
    population : pandas.DataFrame
        year, <unit>, population (persons, 1 January).
    net_migration : pandas.DataFrame
        year, <unit>, net_migration (persons).
    national_immigration_rate : mapping, pandas.Series or pandas.DataFrame
        ``{year: fraction}`` or a table year, rate.
    params : ModelParams
        The coefficients.
    baseline : {"national_immigration", "intercept"}
        The baseline component (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        year, <unit>, population, immigration, centrality, own_jobs, neighbour_jobs, ds, expected,
        net_migration, attractiveness (persons).
    """
    unit = unit_column(inputs)
    keys = ["year", unit]
    coefs = params.coefficients()
    lag_terms = [t for t in ("vra_t", "vra_t1", "vra_t2") if coefs[t] != 0.0]
    split_cols = [f"{t}_{p}" for t in lag_terms for p in ("own", "neighbour")]
    level_terms = [t for t in ("sentny", "ssb_index") if coefs[t] != 0.0]
    ds_terms = ["ds"] if coefs["ds"] != 0.0 else []
    check_table(inputs, keys + split_cols + level_terms + ds_terms, "decomposition inputs",
                "Compute VRA with vra_with_lags(..., split=True) and join sentny/ds with expected.model_inputs.")
    check_table(population, keys + ["population"], "population table")
    check_non_negative(population, ["population"], "population table")
    check_table(net_migration, keys + ["net_migration"], "net migration table")
    df = _merge_one_to_one(inputs, population[keys + ["population"]], keys, "population")
    df = _merge_one_to_one(df, net_migration[keys + ["net_migration"]], keys, "net migration")
    p = df["population"].astype(float)
    if baseline == "national_immigration":
        rate = _rate_by_year(national_immigration_rate, df["year"].unique(), "national immigration rate")
        level = df["year"].map(rate).astype(float)
    elif baseline == "intercept":
        level = pd.Series(coefs["intercept"], index=df.index)
    else:
        raise InputError(f"baseline must be 'national_immigration' or 'intercept', got {baseline!r}.")
    out = df[keys + ["population"]].copy()
    out["immigration"] = level * p
    out["centrality"] = sum((coefs[t] * df[t] for t in level_terms), pd.Series(0.0, index=df.index)) * p
    out["own_jobs"] = sum((coefs[t] * df[f"{t}_own"] for t in lag_terms), pd.Series(0.0, index=df.index)) * p
    out["neighbour_jobs"] = sum((coefs[t] * df[f"{t}_neighbour"] for t in lag_terms),
                                pd.Series(0.0, index=df.index)) * p
    out["ds"] = (coefs["ds"] * df["ds"] * p) if ds_terms else 0.0
    out["expected"] = out[list(MIGRATION_COMPONENTS)].sum(axis=1)
    out["net_migration"] = df["net_migration"].astype(float)
    out["attractiveness"] = out["net_migration"] - out["expected"]
    return out


def _national_schedule(table: pd.DataFrame, keys: list[str], what: str) -> pd.DataFrame:
    check_table(table, keys + ["rate"], what, f"Expected columns [year,] {', '.join(keys)}, rate (per person per year).")
    check_range(table, "rate", 0, 1, what, keys,
                fix="Rates are fractions 0–1 per person and year: divide per-1000 rates by 1000.")
    return table


def natural_change(population: pd.DataFrame, births: pd.DataFrame, deaths: pd.DataFrame,
                   fertility: pd.DataFrame, mortality: pd.DataFrame) -> pd.DataFrame:
    """Births and deaths against national schedules (persons).

    Expected births = Σ_age women_age·fertility_age; expected deaths = Σ P_sex,age·mortality_sex,age;
    ages without a rate count 0.

    Parameters
    ----------
    population : pandas.DataFrame
        year, <unit>, sex, age, population (1 January).
    births, deaths : pandas.DataFrame
        year, <unit>, births / deaths (persons in year t).
    fertility : pandas.DataFrame
        [year,] age, rate (births per woman and year).
    mortality : pandas.DataFrame
        [year,] sex, age, rate (deaths per person and year).

    Returns
    -------
    pandas.DataFrame
        year, <unit>, births, deaths, births_surplus (= births − deaths), expected_births,
        expected_deaths, excess_births, excess_deaths.
    """
    unit = unit_column(population)
    keys = ["year", unit]
    check_table(population, keys + ["sex", "age", "population"], "population table")
    check_non_negative(population, ["population"], "population table")
    check_table(births, keys + ["births"], "births table")
    check_table(deaths, keys + ["deaths"], "deaths table")
    check_non_negative(births, ["births"], "births table")
    check_non_negative(deaths, ["deaths"], "deaths table")
    fkeys = (["year"] if "year" in fertility.columns else []) + ["age"]
    mkeys = (["year"] if "year" in mortality.columns else []) + ["sex", "age"]
    _national_schedule(fertility, fkeys, "fertility table")
    _national_schedule(mortality, mkeys, "mortality table")
    women = population[population["sex"] == "female"].merge(fertility[fkeys + ["rate"]], on=fkeys, how="left")
    women["expected"] = women["population"] * women["rate"].fillna(0.0)
    exp_births = women.groupby(keys)["expected"].sum().rename("expected_births")
    allp = population.merge(mortality[mkeys + ["rate"]], on=mkeys, how="left")
    allp["expected"] = allp["population"] * allp["rate"].fillna(0.0)
    exp_deaths = allp.groupby(keys)["expected"].sum().rename("expected_deaths")
    out = _merge_one_to_one(births[keys + ["births"]], deaths[keys + ["deaths"]], keys, "deaths")
    out = out.merge(pd.concat([exp_births, exp_deaths], axis=1).reset_index(), on=keys, how="left")
    if out[["expected_births", "expected_deaths"]].isna().any().any():
        raise InputError("population by age and sex is missing for some unit/years of the births table: "
                         f"{out.loc[out['expected_births'].isna(), keys].head(5).to_dict('records')}.")
    out["births_surplus"] = out["births"] - out["deaths"]
    out["excess_births"] = out["births"] - out["expected_births"]
    out["excess_deaths"] = out["deaths"] - out["expected_deaths"]
    return out[keys + ["births", "deaths", "births_surplus", "expected_births", "expected_deaths",
                       "excess_births", "excess_deaths"]]


def decompose_population_change(natural: pd.DataFrame, migration: pd.DataFrame) -> pd.DataFrame:
    """Join :func:`natural_change` and :func:`decompose_net_migration`.

    Parameters
    ----------
    natural : pandas.DataFrame
        From :func:`natural_change`.
    migration : pandas.DataFrame
        From :func:`decompose_net_migration`.

    Returns
    -------
    pandas.DataFrame
        Both tables' columns and ``total_change`` = births_surplus + net_migration (persons).
    """
    unit = unit_column(migration)
    keys = ["year", unit]
    out = _merge_one_to_one(migration, natural.drop(columns=[c for c in ("population",) if c in natural.columns]),
                            keys, "natural change (births/deaths)")
    out["total_change"] = out["births_surplus"] + out["net_migration"]
    return out


def average_per_year(table: pd.DataFrame, start: int | None = None, end: int | None = None) -> pd.DataFrame:
    """Mean over years ``start``–``end`` (inclusive) of every numeric column, per unit.

    Parameters
    ----------
    table : pandas.DataFrame
        year, <unit>, numeric columns (persons).
    start, end : int, optional
        Inclusive period bounds.

    Returns
    -------
    pandas.DataFrame
        One row per unit (persons per year) with ``n_years``.
    """
    unit = unit_column(table)
    sel = select_years(table, start, end, "decomposition")
    numeric = [c for c in sel.columns if c not in ("year", unit) and pd.api.types.is_numeric_dtype(sel[c])]
    out = sel.groupby(unit)[numeric].mean().reset_index()
    out["n_years"] = sel.groupby(unit)["year"].nunique().to_numpy()
    return out


# ------------------------------------------------------------------ the stage of a model run
def immigration_rates(rate, years: Sequence[int]) -> dict[int, float]:
    """National net immigration rate per year (fraction of the population).

    Parameters
    ----------
    rate : float, mapping or pandas.DataFrame
        One rate for every year, ``{year: rate}``, or a table year, rate.
    years : sequence of int
        The years (used with a single rate).

    Returns
    -------
    dict
        ``{year: rate}``.
    """
    if isinstance(rate, (int, float)):
        return {int(y): float(rate) for y in years}
    if isinstance(rate, pd.DataFrame):
        require_columns(rate.columns, ["year", "rate"], "national immigration rate table")
        rate = dict(zip(rate["year"].astype(int), rate["rate"].astype(float)))
    return {int(k): float(v) for k, v in dict(rate).items()}


def schedule_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ILLUSTRATIVE national schedules of :mod:`geoproc.model.project` as tables.

    Returns
    -------
    fertility : pandas.DataFrame
        age, rate (births per woman and year).
    mortality : pandas.DataFrame
        sex, age, rate (death probability per year).
    """
    fert = pd.DataFrame({"age": pj.AGES, "rate": pj.illustrative_fertility()})
    q = pj.illustrative_mortality()
    mort = pd.DataFrame({"sex": np.repeat(pj.SEXES, pj.N_AGES), "age": np.tile(pj.AGES, 2), "rate": q.reshape(-1)})
    return fert, mort


def with_natural_change(migration: pd.DataFrame, tables: ModelTables, years: Sequence[int],
                        mapping: pd.Series | None, fertility: pd.DataFrame | None, mortality: pd.DataFrame | None,
                        notes: list[str]) -> pd.DataFrame:
    """Add births and deaths (actual and expected from national schedules) and the total change.

    Parameters
    ----------
    migration : pandas.DataFrame
        From :func:`decompose_net_migration` (persons).
    tables : ModelTables
        births, deaths and population_by_age_sex.
    years : sequence of int
        The years.
    mapping : pandas.Series, optional
        kommune -> region (aggregates to regions).
    fertility, mortality : pandas.DataFrame, optional
        National schedules (default the ILLUSTRATIVE :func:`schedule_tables`, noted in ``notes``).
    notes : list of str
        Approximations are noted here.

    Returns
    -------
    pandas.DataFrame
        :func:`decompose_population_change` (persons per year).
    """
    pas = tables.population_by_age_sex
    if pas is None:
        raise InputError("births and deaths need population by age and sex (expected births/deaths); pass "
                         "--population-age-sex FILE.")
    pas = pas[pas["year"].isin(list(years))]
    births, deaths = tables.births, tables.deaths
    require_columns(births.columns, ["year", "kommune", "births"], "births table")
    require_columns(deaths.columns, ["year", "kommune", "deaths"], "deaths table")
    if mapping is not None:
        pas = to_regions(pas, mapping, ["population"], extra_keys=["sex", "age"])
        births = to_regions(births, mapping, ["births"])
        deaths = to_regions(deaths, mapping, ["deaths"])
    births, deaths = births[births["year"].isin(list(years))], deaths[deaths["year"].isin(list(years))]
    if fertility is None or mortality is None:
        default_f, default_m = schedule_tables()
        fertility = default_f if fertility is None else fertility
        mortality = default_m if mortality is None else mortality
        notes.append("expected births/deaths use ILLUSTRATIVE national fertility/mortality schedules.")
    natural = natural_change(pas, births, deaths, fertility, mortality)
    return decompose_population_change(natural, migration)


def decomposition_stage(inputs: ModelInputs, tables: ModelTables, net_migration: pd.DataFrame, years: Sequence[int],
                        params: ModelParams, immigration_rate, fertility: pd.DataFrame | None = None,
                        mortality: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The decomposition of a model run (persons per year), with natural change when births and
    deaths are given.

    Parameters
    ----------
    inputs : ModelInputs
        Regressors and unit population (:func:`geoproc.model.inputs.assemble_inputs`); notes on
        approximations are appended to ``inputs.notes``.
    tables : ModelTables
        For births, deaths and population by age and sex.
    net_migration : pandas.DataFrame
        year, unit, net_migration (persons).
    years : sequence of int
        The years with attractiveness.
    params : ModelParams
        The coefficients.
    immigration_rate : float, mapping or pandas.DataFrame
        National net immigration (fraction per year; :func:`immigration_rates`).
    fertility, mortality : pandas.DataFrame, optional
        National schedules for expected births/deaths.

    Returns
    -------
    decomposition : pandas.DataFrame
        Per unit and year (persons).
    decomposition_mean : pandas.DataFrame
        Per unit, averaged over the years (persons per year).
    """
    rates = immigration_rates(immigration_rate, years)
    table = decompose_net_migration(inputs.table[inputs.table["year"].isin(years)], inputs.population,
                                    net_migration, rates, params)
    if tables.births is not None and tables.deaths is not None:
        table = with_natural_change(table, tables, years, inputs.mapping, fertility, mortality, inputs.notes)
    return table, average_per_year(table)
