"""From Δ centrality to Δ expected net migration and Δ population (MODEL.md §5).

- The scenario index is computed with the **baseline's** reference accessibility ``A_ref``
  (index = 1000·ln(1+A)/ln(1+A_ref_baseline)), so baseline and scenario indices are on one scale
  and Δindex measures only the change of the zone's own accessibility. (Re-normalising to the
  scenario's own maximum would move every index when the most central zone gains.)
- Δsentny = Δindex / 1000. The centring of sentny (subtracting the national mean) is held
  fixed: one project does not move the national mean noticeably, and the spec's rule is
  coefficient × Δsentny × population. Note that the model's attractiveness is zero-sum
  nationally; many simultaneous projects cannot all gain (MODEL.md §5).
- Δ expected net migration per year (persons) = β_sentny × Δsentny × population, β from the
  published model 4 (0.0272193, SE 0.0010171) unless the user gives an estimate; the interval
  uses β ± z·SE (z = 1.96, 95 %), i.e. coefficient uncertainty only (not residual noise).
- Accumulation over the horizon ``start_year..end_year`` (inclusive, default 2025–2040): the
  effect acts in every horizon year after ``opening_year`` (effects start the year after
  opening; no opening year = from ``start_year``). Without compounding the population base is
  the zone's population (given year) every year; with compounding the extra migrants of earlier
  years join the base: m_y = β·Δs·(P + ΔP_{y−1}), ΔP_y = ΔP_{y−1} + m_y.
- Optional full projection (``projection = true`` and ``population_by_age_sex = "file.csv"`` in
  ``[impact]``): the model's cohort-component projection run without and with the project
  (:func:`geoproc.model.scenario_projection.project_with_centrality_delta`) from the population by age and
  sex, with the same first effect year and β; national assumptions are ILLUSTRATIVE. The rule
  above is its first-order approximation (the projection's base also ages, is born and dies).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from centrality.errors import InputError, check_keys
from centrality.index import aggregate
from geoproc.model.params import get_params
from geoproc.model.scenario_projection import project_with_centrality_delta

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

    def __post_init__(self):
        if self.end_year < self.start_year:
            raise InputError(f"impact horizon end_year {self.end_year} is before start_year {self.start_year}; "
                             "give start_year <= end_year.")
        if (self.beta is None) != (self.beta_se is None) and self.beta_se is not None:
            raise InputError("beta_se given without beta; give both (your own estimate) or neither (published model).")
        if self.beta_se is not None and self.beta_se < 0:
            raise InputError(f"beta_se must be >= 0, got {self.beta_se}.")
        if self.projection and not self.population_by_age_sex:
            raise InputError("[impact] projection = true needs population_by_age_sex = \"file.csv\" (year, kommune, "
                             "sex, age, population) or --population-age-sex FILE.")

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


def accumulate(delta_index, population, options: ImpactOptions, beta: float | None = None) -> pd.DataFrame:
    """Year-by-year Δ migrants and cumulative Δ population (persons) for each unit.

    Parameters
    ----------
    delta_index : array-like
        Δ index per unit (index points, scenario − baseline).
    population : array-like
        Population per unit (persons).
    options : ImpactOptions
        Horizon, opening year and compounding.
    beta : float, optional
        Coefficient (default :meth:`ImpactOptions.coefficient`).

    Returns
    -------
    pandas.DataFrame
        Long (n_years × n_units): unit (position), year, active, delta_migrants, delta_population
        (cumulative at the end of the year).
    """
    if beta is None:
        beta, _ = options.coefficient()
    d = np.asarray(delta_index, dtype=float) / 1000.0
    pop = np.asarray(population, dtype=float)
    years = np.arange(options.start_year, options.end_year + 1)
    first = options.first_effect_year()
    cum = np.zeros_like(d)
    rows = []
    for y in years:
        active = y >= first
        base = pop + cum if options.compounding else pop
        m = beta * d * base if active else np.zeros_like(d)
        cum = cum + m
        rows.append(pd.DataFrame({"unit": np.arange(len(d)), "year": y, "active": active,
                                  "delta_migrants": m, "delta_population": cum}))
    return pd.concat(rows, ignore_index=True)


def horizon_effect(delta_index, population, options: ImpactOptions) -> pd.DataFrame:
    """Per unit: Δ migrants per year with interval, and Δ population by ``end_year``.

    Parameters
    ----------
    delta_index : array-like
        Δ index per unit (index points, scenario − baseline).
    population : array-like
        Population per unit (persons).
    options : ImpactOptions
        Horizon and coefficients.

    Returns
    -------
    pandas.DataFrame
        :func:`migration_effect`'s columns plus delta_population, delta_population_low,
        delta_population_high (each accumulated with its own β), horizon, n_effect_years.
    """
    beta, se = options.coefficient()
    eff = migration_effect(delta_index, population, beta, se, options.z)
    end = options.end_year
    for col, b in (("delta_population", beta), ("delta_population_low", beta - options.z * se),
                   ("delta_population_high", beta + options.z * se)):
        acc = accumulate(delta_index, population, options, beta=b)
        eff[col] = acc.loc[acc["year"] == end, "delta_population"].to_numpy()
    lo, hi = eff["delta_population_low"].to_numpy(), eff["delta_population_high"].to_numpy()
    eff["delta_population_low"], eff["delta_population_high"] = np.minimum(lo, hi), np.maximum(lo, hi)
    eff["horizon"] = f"{options.start_year}-{end}"
    eff["n_effect_years"] = int(accumulate([0.0], [0.0], options, beta=0.0)["active"].sum())
    return eff


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
    return pd.read_csv(p, dtype={"kommune": str})


def optional_projection(delta_by_kommune: pd.DataFrame, *, options: ImpactOptions | None = None,
                        population: pd.DataFrame | None = None, **kwargs):
    """Full cohort-component projections per kommune with and without the project, or None.

    Runs when ``population`` is given or ``options.projection`` names a file; otherwise returns
    None (the accumulated Δ population is then the answer). The projection reaches 1 January
    ``end_year + 1`` (= end of ``end_year``) and the effect starts in
    :meth:`ImpactOptions.first_effect_year`, with β from :meth:`ImpactOptions.coefficient`.

    Parameters
    ----------
    delta_by_kommune : pandas.DataFrame
        kommune and index_base/index_scen, delta_index or delta_sentny.
    options : ImpactOptions, optional
        Horizon and coefficients.
    population : pandas.DataFrame, optional
        year, kommune, sex, age, population (1 January).
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
    if population is None:
        if not (options.projection and options.population_by_age_sex):
            return None
        population = read_population_by_age_sex(options.population_by_age_sex)
    beta, _ = options.coefficient()
    kwargs.setdefault("balance", options.projection_balance)
    return project_with_centrality_delta(delta_by_kommune, population, horizon=options.end_year + 1,
                                         first_effect_year=options.first_effect_year(), beta=beta, **kwargs)


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


def attach_projections(run, population: pd.DataFrame | None = None) -> list:
    """Fill ``projection`` of every variant with kommune groups and no projection yet.

    Parameters
    ----------
    run : geoproc.scenario.ScenarioRun
    population : pandas.DataFrame, optional
        year, kommune, sex, age, population (see :func:`optional_projection`).

    Returns
    -------
    list
        The projection of each variant (or None).
    """
    out = []
    for v in run.variants:
        if v.groups is not None and v.projection is None:
            v.projection = optional_projection(projection_delta(v.groups, run.group_col), options=v.impact,
                                               population=population)
        out.append(v.projection)
    return out
