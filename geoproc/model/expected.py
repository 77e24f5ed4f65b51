"""Expected net migration from the regression (MODEL.md §2.3).

``NM_hat = intercept + b0·VRA_t + b1·VRA_t-1 + b2·VRA_t-2 + b_c·sentny [+ b_ssb·ssb_index] + b_ds·DS``

Inputs and output are fractions of the start-of-year population. The input table has the unit
column (``kommune`` or ``region``), usually ``year``, and one column per used term, named as in
:data:`geoproc.model.params.TERMS` (``vra_t, vra_t1, vra_t2, sentny, ssb_index, ds``).
"""
from __future__ import annotations

from typing import Iterable, Sequence

import pandas as pd

from centrality.errors import InputError
from geoproc.data.tables import check_table
from geoproc.model.params import DEFAULT, TERMS, ModelParams


def _id_columns(inputs: pd.DataFrame) -> list[str]:
    ids = [c for c in ("year", "kommune", "region") if c in inputs.columns]
    if not any(c in ids for c in ("kommune", "region")):
        raise InputError(f"model inputs need a unit column 'kommune' or 'region'; columns are {list(inputs.columns)}.")
    return ids


def term_contributions(inputs: pd.DataFrame, params: ModelParams = DEFAULT,
                       terms: Sequence[str] | None = None) -> pd.DataFrame:
    """Per-term contributions coefficient × value (fractions).

    Parameters
    ----------
    inputs : pandas.DataFrame
        year, unit and one column per term (vra_t, vra_t1, vra_t2, sentny, ssb_index, ds; fractions).
    params : ModelParams, default DEFAULT (published model 4)
        The coefficients.
    terms : sequence of str, optional
        Default: all terms the parameters use (plus the intercept); pass a subset (e.g.
        ``["vra_t", "sentny"]``) when only some regressors are available.

    Returns
    -------
    pandas.DataFrame
        Id columns + one column per term.
    """
    if not isinstance(inputs, pd.DataFrame):
        raise InputError(f"model inputs must be a DataFrame, got {type(inputs).__name__}.")
    ids = _id_columns(inputs)
    coefs = params.coefficients()
    terms = list(terms) if terms is not None else ["intercept"] + params.used_terms()
    unknown = [t for t in terms if t not in TERMS]
    if unknown:
        raise InputError(f"unknown model terms {unknown}; valid: {', '.join(TERMS)}.")
    data_terms = [t for t in terms if t != "intercept"]
    check_table(inputs, ids + data_terms, "model inputs",
                "Build them with expected.model_inputs(...) or name the columns vra_t, vra_t1, vra_t2, sentny, ds.")
    out = inputs[ids].copy()
    for t in terms:
        out[t] = coefs[t] if t == "intercept" else coefs[t] * inputs[t].astype(float)
    return out


def expected_contributions(inputs: pd.DataFrame, params: ModelParams = DEFAULT) -> pd.DataFrame:
    """All used terms' contributions plus their sum.

    Parameters
    ----------
    inputs : pandas.DataFrame
        year, unit and one column per term (vra_t, vra_t1, vra_t2, sentny, ssb_index, ds; fractions).
    params : ModelParams, default DEFAULT (published model 4)
        The coefficients.

    Returns
    -------
    pandas.DataFrame
        Id columns, one column per term and ``nm_expected`` (fraction of the 1 January population).
    """
    out = term_contributions(inputs, params)
    terms = ["intercept"] + params.used_terms()
    out["nm_expected"] = out[terms].sum(axis=1)
    return out


def expected_net_migration(inputs: pd.DataFrame, params: ModelParams = DEFAULT) -> pd.DataFrame:
    """Expected net migration.

    Parameters
    ----------
    inputs : pandas.DataFrame
        year, unit and one column per term (vra_t, vra_t1, vra_t2, sentny, ssb_index, ds; fractions).
    params : ModelParams, default DEFAULT (published model 4)
        The coefficients.

    Returns
    -------
    pandas.DataFrame
        Id columns + ``nm_expected`` (fraction of the start-of-year population).
    """
    out = expected_contributions(inputs, params)
    return out[_id_columns(inputs) + ["nm_expected"]]


def to_persons(table: pd.DataFrame, population: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Multiply fraction columns by the start-of-year population.

    Parameters
    ----------
    table : pandas.DataFrame
        year, <unit> and the ``columns`` (fractions).
    population : pandas.DataFrame
        year, <unit>, population (persons, 1 January).
    columns : iterable of str
        Columns to convert.

    Returns
    -------
    pandas.DataFrame
        The table with those columns in persons.
    """
    ids = _id_columns(table)
    check_table(population, ids + ["population"], "population table")
    merged = table.merge(population[ids + ["population"]], on=ids, how="left")
    if merged["population"].isna().any():
        rows = merged.loc[merged["population"].isna(), ids].head(5).to_dict("records")
        raise InputError(f"population missing for {rows}; give the start-of-year population of every row.")
    for c in columns:
        merged[c] = merged[c] * merged["population"]
    return merged


def model_inputs(vra_table: pd.DataFrame, sentny_table: pd.DataFrame | None = None,
                 ds_table: pd.DataFrame | None = None, *, ssb_index_table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Join the regressors into one model-input table.

    Every unit/year of the VRA table must find a sentny/DS value (InputError lists the gaps).

    Parameters
    ----------
    vra_table : pandas.DataFrame
        year, unit, vra_t… (fractions).
    sentny_table : pandas.DataFrame, optional
        [year,] unit, sentny.
    ds_table : pandas.DataFrame, optional
        year, unit, ds.
    ssb_index_table : pandas.DataFrame, optional
        [year,] unit, ssb_index (model 2).

    Returns
    -------
    pandas.DataFrame
        year, unit and the terms.
    """
    ids = _id_columns(vra_table)
    unit = ids[-1]
    out = vra_table.copy()
    for table, col, what in ((sentny_table, "sentny", "centrality (sentny)"), (ds_table, "ds", "DS"),
                             (ssb_index_table, "ssb_index", "SSB index")):
        if table is None:
            continue
        keys = [k for k in ids if k in table.columns]
        check_table(table, keys + [col], f"{what} table")
        out = out.merge(table[keys + [col]], on=keys, how="left")
        missing = out[col].isna()
        if missing.any():
            raise InputError(f"{what} is missing for {int(missing.sum())} rows, e.g. "
                             f"{out.loc[missing, ids].head(5).to_dict('records')}. Give a value for every "
                             f"{unit} and year of the VRA table (same code system).")
    return out
