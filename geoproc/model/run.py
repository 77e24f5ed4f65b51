"""Model stages in order — one call from tables to every result (``regio model``, QGIS).

:func:`run_model`: inputs (:mod:`geoproc.model.inputs`: VRA and lags, sentny, DS; actual net
migration) -> expected net migration (:mod:`geoproc.model.expected`) -> residential
attractiveness, cumulated and ranked (:mod:`geoproc.model.attractiveness`) -> decomposition
(:mod:`geoproc.model.decompose`). Estimation is in :mod:`geoproc.model.estimate`, projections in
:mod:`geoproc.model.projection`, the road-scenario coupling in :mod:`geoproc.model.scenario_projection`.

Units: rates are fractions of the 1 January population, persons are persons per year; the
cumulated attractiveness is percent of the population at the start of the period.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Mapping, Sequence

import pandas as pd

from centrality.errors import Cancelled, InputError
from geoproc.data.assembly import AssemblyReport
from geoproc.model import attractiveness as ba
from geoproc.model import decompose as dec
from geoproc.model import expected as exp
from geoproc.model.inputs import ModelTables, actual_net_migration, assemble_inputs
from geoproc.model.params import DEFAULT, ModelParams, get_params

DEFAULT_IMMIGRATION_RATE = 0.002  # ILLUSTRATIVE national net immigration, fraction per year (MODEL.md §4)


@dataclass
class ModelResult:
    """Everything one model run produces. ``unit`` is 'kommune' or 'region'.

    - ``inputs``: year, unit, vra_t, vra_t1, vra_t2 (+ _own/_neighbour), sentny, ds (fractions)
    - ``expected``: year, unit, one contribution column per term, nm_expected (fractions)
    - ``attractiveness``: year, unit, population, net_migration, nm_actual, nm_expected,
      attractiveness (fraction), attractiveness_persons
    - ``cumulative``: unit, persons, attractiveness_pct (% of start population), persons_per_year,
      n_years, rank (1 = most attractive)
    - ``rankings``: group (top/bottom), rank, unit, attractiveness_pct
    - ``decomposition``: year, unit, population, immigration, centrality, own_jobs,
      neighbour_jobs, ds, expected, net_migration, attractiveness (persons)
    - ``decomposition_mean``: the same averaged per unit over the years (persons per year)
    - ``notes``: what the numbers rest on (data-assembly policies first, then approximations)
    - ``assembly``: the :class:`~geoproc.data.assembly.AssemblyReport` of the input tables (or None)
    - ``national_mean``: year (and 'all'), mean (unweighted over units), population_weighted_mean
      (fractions) and persons (per year) of the residual attractiveness: 0 with coefficients
      estimated on the same rows, not with published ones
    - ``sentny_mean``/``centring``: the centring of sentny and DS (see
      :func:`geoproc.model.inputs.sentny_tables`); ``net_migration``: how net migration was
      obtained (:class:`geoproc.model.netmigration.NetMigration`, or None)
    """

    unit: str
    params: ModelParams
    years: list[int]
    inputs: pd.DataFrame
    expected: pd.DataFrame
    attractiveness: pd.DataFrame
    cumulative: pd.DataFrame
    rankings: pd.DataFrame
    decomposition: pd.DataFrame
    decomposition_mean: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    assembly: AssemblyReport | None = None
    national_mean: pd.DataFrame | None = None
    sentny_mean: float | None = None
    centring: str | None = None
    net_migration: object | None = None

    def unit_table(self) -> pd.DataFrame:
        """One row per unit: cumulative attractiveness, rank, mean rates and mean components.

        Returns
        -------
        pandas.DataFrame
            unit, persons, attractiveness_pct, persons_per_year, n_years, rank, mean nm_actual,
            nm_expected, attractiveness (fractions) and ``<component>_persons`` (persons per year).
        """
        u = self.unit
        means = self.attractiveness.groupby(u)[["nm_actual", "nm_expected", "attractiveness"]].mean().reset_index()
        comp = self.decomposition_mean.drop(columns=["n_years", "population"], errors="ignore")
        comp = comp.rename(columns={c: f"{c}_persons" for c in comp.columns if c != u})
        return self.cumulative.merge(means, on=u, how="left").merge(comp, on=u, how="left")


def run_model(tables: ModelTables | Mapping[str, pd.DataFrame], *, years: Sequence[int],
              params: ModelParams | str | None = DEFAULT, regions: pd.DataFrame | None = None,
              centrality: pd.DataFrame | None = None, unit: str = "kommune", region_col: str = "region",
              employment_rates: pd.DataFrame | None = None, death_probabilities: pd.DataFrame | None = None,
              national_immigration_rate: float | Mapping[int, float] | pd.DataFrame | None = None,
              lag_shares: str = "own", n_ranked: int = 10,
              fertility: pd.DataFrame | None = None, mortality: pd.DataFrame | None = None,
              progress: Callable[[int, int], None] | None = None,
              should_stop: Callable[[], bool] | None = None) -> ModelResult:
    """Expected and actual net migration, attractiveness, ranks and decomposition for ``years``.

    Parameters
    ----------
    tables : ModelTables or mapping
        The input tables (or a dict of its fields).
    years : sequence of int
        Model years.
    params : ModelParams, str or None
        A :class:`ModelParams`, a published name ('model1'..'model4') or a saved file.
    regions, centrality : pandas.DataFrame, optional
        Replace the tables' ones (e.g. a freshly computed centrality from `run_centrality`).
    unit : {"kommune", "region"}
        ``"region"`` aggregates kommune tables with ``tables.regions[region_col]``.
    region_col : str
        Region column.
    employment_rates, death_probabilities : pandas.DataFrame, optional
        National rates for DS (default ILLUSTRATIVE, noted).
    national_immigration_rate : float, mapping, pandas.DataFrame or None
        Fraction of the population per year: the baseline component of the decomposition.
        None: Norway's net migration rate of each year from the data (the national identity of
        the net migration estimate, or the sum of the given SSB net migration) when the tables
        have national schedules or a net migration table covering the country, else the
        ILLUSTRATIVE 0.2 % (noted).
    lag_shares : str
        Commuting shares of the VRA lags (:func:`geoproc.model.vra.vra_with_lags`).
    n_ranked : int
        Length of the top/bottom lists.
    fertility, mortality : pandas.DataFrame, optional
        National schedules for expected births/deaths when births and deaths tables are given
        (default: the ILLUSTRATIVE schedules of :mod:`geoproc.model.project`).
    progress, should_stop : callable, optional
        ``progress(done, total)`` per stage; ``should_stop()`` True raises Cancelled.

    Returns
    -------
    ModelResult
    """
    tables = ModelTables.from_mapping(tables)
    if regions is not None or centrality is not None:
        tables = replace(tables, regions=tables.regions if regions is None else regions,
                         centrality=tables.centrality if centrality is None else centrality)
    params = get_params(params)
    years = sorted({int(y) for y in years})
    if not years:
        raise InputError("no model years given; pass e.g. --years 2021 2022.")
    if unit not in ("kommune", "region"):
        raise InputError(f"unit must be 'kommune' or 'region', got {unit!r}.")
    steps = 6

    def tick(done: int) -> None:
        if should_stop is not None and should_stop():
            raise Cancelled("model run cancelled")
        if progress is not None:
            progress(done, steps)

    tick(0)
    inputs = assemble_inputs(tables, years=years, params=params, unit=unit, region_col=region_col,
                             employment_rates=employment_rates, death_probabilities=death_probabilities,
                             lag_shares=lag_shares)
    tick(2)
    expected = exp.expected_contributions(inputs.table, params)
    tick(3)
    nm, actual = actual_net_migration(tables, inputs, years, death_probabilities)
    attract = ba.residual_attractiveness(actual, expected, inputs.population, inputs.notes, n_ranked=n_ranked)
    tick(5)
    used_years = sorted(attract.attractiveness["year"].unique())
    rate = _immigration_baseline(national_immigration_rate, inputs, tables, used_years)
    decomp_tables = tables
    estimate = inputs.net_migration
    if tables.births is None and tables.deaths is None and tables.national is not None and estimate is not None \
            and "births" in estimate.table.columns:
        bd = estimate.table[["year", "kommune", "births", "deaths"]]
        decomp_tables = replace(tables, births=bd[["year", "kommune", "births"]], deaths=bd[["year", "kommune", "deaths"]])
        fertility = tables.national.fertility_table(used_years) if fertility is None else fertility
        mortality = tables.national.mortality_table(used_years) if mortality is None else mortality
        inputs.notes.append("births and deaths per kommune are ESTIMATES (national schedules with the kommune's "
                            "fertility level, calibrated to the national totals), not SSB counts")
    decomposition, decomposition_mean = dec.decomposition_stage(inputs, decomp_tables, nm, used_years, params,
                                                                rate, fertility, mortality)
    tick(6)
    national_mean = ba.national_mean(attract.attractiveness)
    overall = national_mean[national_mean["year"] == "all"].iloc[0]
    inputs.notes.append(f"national mean of the attractiveness over the {unit}-years: {100 * overall['mean']:+.3f} % "
                        f"a year (unweighted), {100 * overall['population_weighted_mean']:+.3f} % (population-"
                        f"weighted); 0 only when the coefficients are estimated on these rows")
    notes = (tables.assembly.notes if tables.assembly is not None else []) + inputs.notes
    if tables.national is not None:
        notes += tables.national.notes()
    notes = list(dict.fromkeys(notes))
    return ModelResult(unit=unit, params=params, years=[int(y) for y in used_years], inputs=inputs.table,
                       expected=expected, attractiveness=attract.attractiveness, cumulative=attract.cumulative,
                       rankings=attract.rankings, decomposition=decomposition, decomposition_mean=decomposition_mean,
                       notes=notes, assembly=tables.assembly, national_mean=national_mean,
                       sentny_mean=inputs.sentny_mean, centring=inputs.centring, net_migration=estimate)


def _immigration_baseline(rate, inputs, tables: ModelTables, years: Sequence[int]):
    """The decomposition's national immigration rate per year (see :func:`run_model`)."""
    if rate is not None:
        return rate
    estimate = inputs.net_migration
    if estimate is not None and tables.national is not None:
        nat = estimate.national.set_index("year")["rate"]
        if all(y in nat.index for y in years):
            inputs.notes.append("immigration baseline of the decomposition: Norway's net migration rate of each year "
                                "(" + ", ".join(f"{y}: {100 * nat[y]:.2f} %" for y in years) + ")")
            return {int(y): float(nat[y]) for y in years}
    inputs.notes.append(f"immigration baseline of the decomposition: ILLUSTRATIVE {100 * DEFAULT_IMMIGRATION_RATE:.1f} % "
                        "a year (pass the national net immigration rate for real analyses)")
    return DEFAULT_IMMIGRATION_RATE


__all__ = ["ModelResult", "run_model", "DEFAULT_IMMIGRATION_RATE"]
