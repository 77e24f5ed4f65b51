"""The residential attractiveness barometer, 2011 method (MODEL.md §6).

Across all units, regress net migration (percent of population, over a ``window``-year period) on
job growth (percent, same period) by OLS — the "expectation line" ``y = slope·x + intercept``.
The index is the vertical distance to the line (percentage points). Per migration type (e.g.
immigration; domestic moves of immigrants; domestic moves of others) each type's net migration
is regressed on the same job growth; because OLS is linear in y, the type lines and indices add
up to the total line and index.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from centrality.errors import InputError
from geoproc.data.tables import check_non_negative, check_table, check_years


@dataclass(frozen=True)
class Line:
    """Expectation line ``y = slope·x + intercept`` (percent units), its R² and number of units."""

    slope: float
    intercept: float
    r2: float
    n: int

    def label(self) -> str:
        """The line as text, e.g. ``"y = 0.4200x - 0.1000, R² = 0.5000"``.

        Returns
        -------
        str
        """
        return f"y = {self.slope:.4f}x {'-' if self.intercept < 0 else '+'} {abs(self.intercept):.4f}, R² = {self.r2:.4f}"


@dataclass(frozen=True)
class BarometerResult:
    """``table``: unit, x, y, expected_pct, index_pct (+ per type ``index_<type>``); ``lines``: per y column."""

    table: pd.DataFrame
    lines: dict[str, Line]


def window_rates(population: pd.DataFrame, net_migration: pd.DataFrame, jobs: pd.DataFrame, end_year: int, *,
                 window: int = 3, unit: str = "kommune", migration_cols: Sequence[str] = ("net_migration",)
                 ) -> pd.DataFrame:
    """Percent rates over the ``window`` years ending ``end_year``.

    Net migration (persons per year) summed over the window / population on 1 January of the first
    window year × 100; job growth = jobs_end / jobs_(end−window) − 1, × 100.

    Parameters
    ----------
    population : pandas.DataFrame
        year, <unit>, population (persons, 1 January).
    net_migration : pandas.DataFrame
        year, <unit> and the ``migration_cols`` (persons per year).
    jobs : pandas.DataFrame
        year, <unit>, jobs (persons).
    end_year : int
        Last year of the window.
    window : int, default 3
        Years.
    unit : {"kommune", "region"}
        Unit column.
    migration_cols : sequence of str
        Net migration columns (e.g. by type).

    Returns
    -------
    pandas.DataFrame
        <unit>, job_growth_pct, <col>_pct (percent).
    """
    first = end_year - window + 1
    check_table(population, ["year", unit, "population"], "population table")
    check_non_negative(population, ["population"], "population table")
    check_table(net_migration, ["year", unit, *migration_cols], "net migration table")
    check_table(jobs, ["year", unit, "jobs"], "jobs table")
    check_years([first], population["year"].unique(), "population table", "Add the population of the first window year.")
    check_years(range(first, end_year + 1), net_migration["year"].unique(), "net migration table", "Add those years.")
    check_years([end_year - window, end_year], jobs["year"].unique(), "jobs table", "Add those years.")
    p0 = population[population["year"] == first].set_index(unit)["population"]
    nm = net_migration[net_migration["year"].between(first, end_year)].groupby(unit)[list(migration_cols)].sum()
    jw = jobs.pivot_table(index=unit, columns="year", values="jobs", aggfunc="sum")
    j0, j1 = jw[end_year - window], jw[end_year]
    units = nm.index
    if p0.reindex(units).isna().any() or j0.reindex(units).isna().any() or j1.reindex(units).isna().any():
        raise InputError(f"window rates: some {unit}s lack population or jobs in {first}/{end_year - window}/{end_year}; "
                         "use complete tables in one code system.")
    if (p0.reindex(units) <= 0).any() or (j0.reindex(units) <= 0).any():
        raise InputError(f"window rates: zero population or jobs at the window start for some {unit}s.")
    out = pd.DataFrame({unit: units, "job_growth_pct": (100.0 * (j1.reindex(units) / j0.reindex(units) - 1.0)).to_numpy()})
    for c in migration_cols:
        out[f"{c}_pct"] = (100.0 * nm[c] / p0.reindex(units)).to_numpy()
    return out


def expectation_line(x: np.ndarray, y: np.ndarray) -> Line:
    """OLS line of y on x (with intercept); R² is the squared correlation.

    Parameters
    ----------
    x, y : numpy.ndarray
        Values per unit (percent).

    Returns
    -------
    Line
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 3 or not np.isfinite(x).all() or not np.isfinite(y).all():
        raise InputError("the expectation line needs at least 3 units with finite x and y values.")
    if np.ptp(x) == 0:
        raise InputError("job growth is identical for all units; the expectation line is undefined.")
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (slope * x + intercept)
    sst = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float((resid ** 2).sum()) / sst if sst > 0 else 1.0
    return Line(float(slope), float(intercept), r2, len(x))


def barometer(table: pd.DataFrame, *, x: str = "job_growth_pct", y: str = "net_migration_pct",
              types: Sequence[str] = ()) -> BarometerResult:
    """Barometer index = y − line(x) (percentage points) per unit; optional per-type indices.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per unit with ``x``, ``y`` and the ``types`` (percent).
    x : str, default "job_growth_pct"
        Explanatory column.
    y : str, default "net_migration_pct"
        Explained column.
    types : sequence of str
        Columns (percent) that sum to ``y`` (e.g. immigration, domestic moves of immigrants and of
        others); their indices ``index_<type>`` add up to ``index_pct``.

    Returns
    -------
    BarometerResult
        ``table`` (unit, x, y, expected_pct, index_pct, index_<type>) and the ``lines``.
    """
    check_table(table, [x, y, *types], "barometer table")
    if types:
        gap = (table[list(types)].sum(axis=1) - table[y]).abs().max()
        if gap > 1e-6:
            raise InputError(f"migration types {list(types)} do not add up to '{y}' (max gap {gap:.3g} pp); "
                             "give types that partition total net migration.")
    out = table.copy()
    lines = {y: expectation_line(out[x], out[y])}
    out["expected_pct"] = lines[y].slope * out[x] + lines[y].intercept
    out["index_pct"] = out[y] - out["expected_pct"]
    for col in types:
        lines[col] = expectation_line(out[x], out[col])
        out[f"index_{col}"] = out[col] - (lines[col].slope * out[x] + lines[col].intercept)
    return BarometerResult(out, lines)
