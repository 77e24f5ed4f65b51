"""Residential attractiveness (*bostedsattraktivitet*, MODEL.md §2.4).

``BA_i,t = NM_actual,i,t − NM_expected,i,t`` (fraction of start-of-year population).
Cumulated over a period it is reported in percent of population; rankings list the top and
bottom n units. :func:`residual_attractiveness` is the attractiveness step of a model run
(model stage 3, after :mod:`geoproc.model.expected`).
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from centrality.errors import InputError
from geoproc.data.tables import check_non_negative, check_table, select_years, unit_column


def net_migration_rate(net_migration: pd.DataFrame, population: pd.DataFrame) -> pd.DataFrame:
    """Net migration as a rate of the start-of-year population.

    Parameters
    ----------
    net_migration : pandas.DataFrame
        year, <unit>, net_migration (persons).
    population : pandas.DataFrame
        year, <unit>, population (persons, 1 January; > 0 for every row).

    Returns
    -------
    pandas.DataFrame
        year, <unit>, net_migration, population, nm_actual (fraction).
    """
    unit = unit_column(net_migration)
    check_table(net_migration, ["year", unit, "net_migration"], "net migration table")
    check_table(population, ["year", unit, "population"], "population table")
    check_non_negative(population, ["population"], "population table")
    out = net_migration[["year", unit, "net_migration"]].merge(population[["year", unit, "population"]],
                                                              on=["year", unit], how="left")
    bad = out["population"].isna() | (out["population"] <= 0)
    if bad.any():
        raise InputError(f"population missing or zero for {out.loc[bad, ['year', unit]].head(5).to_dict('records')}; "
                         "net migration rates need the start-of-year population of every row.")
    out["nm_actual"] = out["net_migration"] / out["population"]
    return out


def attractiveness(actual: pd.DataFrame, expected: pd.DataFrame) -> pd.DataFrame:
    """Residential attractiveness = actual − expected net migration.

    Parameters
    ----------
    actual : pandas.DataFrame
        year, <unit>, nm_actual (fraction).
    expected : pandas.DataFrame
        year, <unit>, nm_expected (fraction); rows must match ``actual`` one to one.

    Returns
    -------
    pandas.DataFrame
        year, <unit>, nm_actual, nm_expected, attractiveness (fractions).
    """
    unit = unit_column(actual)
    check_table(actual, ["year", unit, "nm_actual"], "actual net migration table",
                "Compute nm_actual with net_migration_rate(net_migration, population).")
    check_table(expected, ["year", unit, "nm_expected"], "expected net migration table")
    out = actual[["year", unit, "nm_actual"]].merge(expected[["year", unit, "nm_expected"]],
                                                     on=["year", unit], how="outer", indicator=True)
    unmatched = out["_merge"] != "both"
    if unmatched.any():
        raise InputError(f"actual and expected net migration do not cover the same {unit}/years; unmatched: "
                         f"{out.loc[unmatched, ['year', unit, '_merge']].head(5).to_dict('records')}. "
                         "Restrict both tables to the same years and code system.")
    out = out.drop(columns="_merge")
    out["attractiveness"] = out["nm_actual"] - out["nm_expected"]
    return out.sort_values(["year", unit]).reset_index(drop=True)


def cumulative_attractiveness(table: pd.DataFrame, population: pd.DataFrame | None = None, *,
                              start: int | None = None, end: int | None = None) -> pd.DataFrame:
    """Attractiveness cumulated over ``start``–``end`` (inclusive) per unit.

    Parameters
    ----------
    table : pandas.DataFrame
        year, <unit>, attractiveness (fraction per year).
    population : pandas.DataFrame, optional
        year, <unit>, population: then ``persons`` = Σ_t BA_t · P_t and ``attractiveness_pct`` =
        100 · persons / P_start (percent of the population at the start of the period); without
        it ``attractiveness_pct`` = 100 · Σ_t BA_t.
    start, end : int, optional
        Inclusive period bounds.

    Returns
    -------
    pandas.DataFrame
        unit, [persons,] attractiveness_pct, n_years, persons_per_year.
    """
    unit = unit_column(table)
    check_table(table, ["year", unit, "attractiveness"], "attractiveness table")
    sel = select_years(table, start, end, "attractiveness")
    years = sorted(sel["year"].unique())
    n_years = sel.groupby(unit)["year"].nunique()
    if (n_years != len(years)).any():
        short = list(n_years.index[n_years != len(years)][:5])
        raise InputError(f"{unit} {short} lack some years of {years[0]}–{years[-1]}; cumulate over complete periods.")
    if population is None:
        out = sel.groupby(unit)["attractiveness"].sum().mul(100.0).rename("attractiveness_pct").reset_index()
    else:
        check_table(population, ["year", unit, "population"], "population table")
        merged = sel.merge(population[["year", unit, "population"]], on=["year", unit], how="left")
        if merged["population"].isna().any():
            raise InputError(f"population missing for {merged.loc[merged['population'].isna(), ['year', unit]].head(5).to_dict('records')}.")
        merged["persons"] = merged["attractiveness"] * merged["population"]
        first = merged[merged["year"] == years[0]].set_index(unit)["population"]
        persons = merged.groupby(unit)["persons"].sum()
        out = pd.DataFrame({"persons": persons, "attractiveness_pct": 100.0 * persons / first.reindex(persons.index),
                            "persons_per_year": persons / len(years)}).rename_axis(unit).reset_index()
    out["n_years"] = len(years)
    return out


def rankings(table: pd.DataFrame, column: str = "attractiveness_pct", n: int = 10) -> pd.DataFrame:
    """Top-n and bottom-n units by ``column``.

    Rank 1 is the highest value in 'top' and the lowest in 'bottom'. Ties keep table order.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per unit.
    column : str, default "attractiveness_pct"
        Ranked column.
    n : int, default 10
        Length of each list.

    Returns
    -------
    pandas.DataFrame
        group ('top'/'bottom'), rank, <unit>, <column>.
    """
    unit = unit_column(table)
    check_table(table, [unit, column], "ranking table")
    if n < 1:
        raise InputError(f"n must be >= 1, got {n}.")
    ordered = table.sort_values(column, ascending=False, kind="stable")
    top = ordered.head(n).assign(group="top")
    bottom = ordered.iloc[::-1].head(n).assign(group="bottom")
    out = pd.concat([top, bottom], ignore_index=True)
    out["rank"] = out.groupby("group").cumcount() + 1
    return out[["group", "rank", unit, column]]


# ------------------------------------------------------------------ the stage of a model run
@dataclass
class AttractivenessTables:
    """The attractiveness results of a model run (see :class:`geoproc.model.run.ModelResult`)."""

    attractiveness: pd.DataFrame    # year, unit, population, net_migration, nm_actual, nm_expected, attractiveness, _persons
    cumulative: pd.DataFrame        # unit, persons, attractiveness_pct, persons_per_year, n_years, rank
    rankings: pd.DataFrame          # group, rank, unit, attractiveness_pct


def residual_attractiveness(actual: pd.DataFrame, expected: pd.DataFrame, population: pd.DataFrame,
                            notes: list[str], n_ranked: int = 10) -> AttractivenessTables:
    """Attractiveness = actual − expected net migration, cumulated and ranked.

    Parameters
    ----------
    actual : pandas.DataFrame
        year, unit, net_migration (persons), population, nm_actual (fraction).
    expected : pandas.DataFrame
        year, unit, term contributions, nm_expected (fraction).
    population : pandas.DataFrame
        year, unit, population (persons, 1 January), for the cumulative percentage.
    notes : list of str
        Units with net migration but no model inputs are left out and noted here.
    n_ranked : int, default 10
        Length of the top and bottom lists.

    Returns
    -------
    AttractivenessTables
        ``attractiveness`` (fractions and persons), ``cumulative`` (percent of the start
        population, rank 1 = most attractive) and ``rankings``.
    """
    unit = unit_column(actual)
    modelled = actual.set_index(["year", unit]).index.isin(expected.set_index(["year", unit]).index)
    if not modelled.all():
        dropped = sorted(actual.loc[~modelled, unit].unique())
        notes.append(f"{unit}(s) {dropped[:10]} have net migration but no model inputs (jobs/commuting) and are left out.")
        actual = actual[modelled]
    table = attractiveness(actual, expected[expected["year"].isin(actual["year"].unique())])
    table = table.merge(actual[["year", unit, "population", "net_migration"]], on=["year", unit], how="left")
    table["attractiveness_persons"] = table["attractiveness"] * table["population"]
    table = table[["year", unit, "population", "net_migration", "nm_actual", "nm_expected", "attractiveness",
                   "attractiveness_persons"]]
    cumulative = cumulative_attractiveness(table[["year", unit, "attractiveness"]], population)
    cumulative["rank"] = cumulative["attractiveness_pct"].rank(ascending=False, method="first").astype(int)
    cumulative = cumulative.sort_values("rank").reset_index(drop=True)
    return AttractivenessTables(table, cumulative, rankings(cumulative, "attractiveness_pct", n=n_ranked))


def national_mean(table: pd.DataFrame) -> pd.DataFrame:
    """National mean of the residual attractiveness per year and over all years.

    Parameters
    ----------
    table : pandas.DataFrame
        year, unit, population (persons, 1 January), attractiveness (fraction), attractiveness_persons.

    Returns
    -------
    pandas.DataFrame
        year (int, and 'all' for the whole period), mean (unweighted over units, fraction),
        population_weighted_mean (fraction) and persons (national sum; per year for 'all').
    """
    rows = []
    for year, g in table.groupby("year"):
        rows.append({"year": int(year), "mean": float(g["attractiveness"].mean()),
                     "population_weighted_mean": float(g["attractiveness_persons"].sum() / g["population"].sum()),
                     "persons": float(g["attractiveness_persons"].sum())})
    rows.append({"year": "all", "mean": float(table["attractiveness"].mean()),
                 "population_weighted_mean": float(table["attractiveness_persons"].sum() / table["population"].sum()),
                 "persons": float(table["attractiveness_persons"].sum() / max(table["year"].nunique(), 1))})
    out = pd.DataFrame(rows)
    out["year"] = out["year"].astype(object)
    return out
