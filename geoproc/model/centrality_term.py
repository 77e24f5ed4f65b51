"""The centrality regressor *sentny* (MODEL.md §1.2, §2.3).

sentny = index / 1000 − mean, where ``index`` is the jobs-only centrality index (0–1000).
The mean is taken over the units of the table (per year if the table has a ``year`` column) or
given by the caller (``mean``, in index/1000 units, e.g. the estimation sample's mean so that a
kommune table is centred like the regression). For regions the index is the population-weighted
mean of the region's kommuner, then centred over regions (unweighted, as in the regression).
"""
from __future__ import annotations

import pandas as pd

from centrality.errors import InputError
from geoproc.data import tables as tb


def _centre(values: pd.Series, keys: list[str], frame: pd.DataFrame, mean: float | None) -> pd.Series:
    if mean is not None:
        return values - float(mean)
    if keys:
        return values - values.groupby([frame[k] for k in keys]).transform("mean")
    return values - values.mean()


def sentny(index: pd.DataFrame, population: pd.DataFrame | None = None, regions: pd.DataFrame | None = None, *,
           mean: float | None = None, region_col: str = "region") -> pd.DataFrame:
    """Centred centrality term (dimensionless, index/1000 minus the mean).

    Parameters
    ----------
    index : pandas.DataFrame
        kommune, index (0–1000; optional ``year``).
    population : pandas.DataFrame, optional
        kommune, population [, year] (persons): with ``regions``, the region index is the
        population-weighted mean of its kommuner (one row per region and population year when the
        population has a ``year`` column).
    regions : pandas.DataFrame, optional
        kommune, <region_col>.
    mean : float, optional
        The mean to subtract (default: the mean of the units).
    region_col : str, default "region"
        Region column.

    Returns
    -------
    pandas.DataFrame
        [year,] kommune, index, sentny — or with regions [year,] region, index, population, sentny.
    """
    index = tb.validate_centrality(index)
    keys = ["year"] if "year" in index.columns else []
    if regions is None:
        out = index[keys + ["kommune", "index"]].copy()
        out["sentny"] = _centre(out["index"] / 1000.0, keys, out, mean)
        return out.reset_index(drop=True)
    if population is None:
        raise InputError("region sentny needs kommune populations (population-weighted mean); pass population= "
                         "a table with columns kommune, population.")
    mapping = tb.validate_regions(regions, region_col=region_col).set_index("kommune")[region_col]
    pop_year = ["year"] if "year" in getattr(population, "columns", []) else []
    population = tb.validate_table(population, "population table", keys=pop_year + ["kommune"], int_cols=pop_year,
                                   kommune_cols=["kommune"], count_cols=["population"])
    tb.check_known_codes(index["kommune"].unique(), mapping.index, "centrality table kommuner",
                         "They have no region in the regions table; use one kommune code system.")
    on = ["kommune"] + [k for k in pop_year if k in keys]
    df = index.merge(population[pop_year + ["kommune", "population"]], on=on, how="left")
    keys = ["year"] if "year" in df.columns else []  # a yearly population gives a yearly region index
    if df["population"].isna().any():
        raise InputError(f"population missing for kommuner {list(df.loc[df['population'].isna(), 'kommune'][:5])}; "
                         "give a population for every kommune in the centrality table.")
    df["region"] = df["kommune"].map(mapping)
    df["weighted"] = df["index"] * df["population"]
    grouped = df.groupby(keys + ["region"], as_index=False)[["weighted", "population"]].sum()
    if (grouped["population"] <= 0).any():
        raise InputError(f"regions {list(grouped.loc[grouped['population'] <= 0, 'region'][:5])} have zero population; "
                         "the population-weighted index is undefined.")
    grouped["index"] = grouped["weighted"] / grouped["population"]
    grouped["sentny"] = _centre(grouped["index"] / 1000.0, keys, grouped, mean)
    return grouped[keys + ["region", "index", "population", "sentny"]]
