"""Road scenarios (MODEL.md §5): edit the network, recompute centrality for the affected zones,
translate Δ index into Δ expected net migration and Δ population.

Typical use::

    from geoproc.scenario import load_scenarios, run_scenarios
    from geoproc.scenario.report import per_year, write_report
    run = run_scenarios(load_scenarios("scenarios.toml"), network, zones_gdf, group_col="kommune")
    write_report(run, "out/")

Order of work: every variant is validated against the network (:func:`definition.resolve`)
BEFORE anything is computed; then the baseline is computed once and each variant incrementally
(:mod:`incremental`); the impact arithmetic is in :mod:`impact`; :mod:`report` writes the files.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from centrality.builders.lines import network_from_lines
from centrality.errors import InputError, require_columns, thousands
from centrality.fileio import mark_means
from centrality.settings import CentralitySettings
from centrality.synthetic import DEFAULT_SEED, demo_region
from centrality.zones import snap_zones
from geoproc.scenario.definition import (Edit, ScenarioSet, Selection, Variant, load_scenarios,  # noqa: F401
                                         parse_scenarios, resolve)
from geoproc.scenario.effects import CENTRINGS
from geoproc.scenario.headline import attach_uncertainty, figures, headline_table
from geoproc.scenario.impact import (ImpactOptions, competition_for, data_projection_base, group_index,
                                     horizon_effects, optional_projection, population_path, projection_delta,
                                     read_population_by_age_sex, read_population_path, read_regions, zone_deltas)
from geoproc.scenario.incremental import ScenarioEngine
from geoproc.scenario.report import per_year, write_report
from geoproc.scenario.runner import EvaluatedVariant, evaluate_variants, place_times, prepare  # noqa: F401
from geoproc.scenario.sensitivity import SensitivityOptions, uncertainty_table

__all__ = ["Edit", "Selection", "Variant", "ScenarioSet", "load_scenarios", "parse_scenarios", "resolve",
           "ImpactOptions", "CentralitySettings", "ScenarioRun", "VariantReport", "run_scenarios", "place_times",
           "scenario_settings", "run_demo", "SensitivityOptions"]

TECHNICAL_KEYS = ("origins_recomputed", "seconds_check", "seconds_od", "seconds_alternatives", "a_ref_baseline",
                  "zones", "edited_links", "added_links")


@dataclass
class VariantReport:
    """Everything the report needs for one variant (tables in persons, minutes, index points).

    ``groups``/``zones`` carry the gross columns (delta_migrants_per_year, delta_migrants_low/_high,
    delta_population[_low/_high]) and the net ones (delta_migrants_net_per_year, ..._net_low/_high,
    delta_population_net[_low/_high]); ``headline`` the headline figures (scope × gross/net, with
    coefficient and combined intervals); ``competition`` the national totals under each centring;
    ``uncertainty`` the sensitivity components (None = coefficient only); ``summary`` the
    user-facing numbers and ``technical`` the internals (timings, recomputed origins, A_ref).
    """

    name: str
    description: str
    zones: pd.DataFrame
    groups: pd.DataFrame | None
    travel_times: pd.DataFrame
    yearly: pd.DataFrame | None
    edited_links: pd.DataFrame
    summary: dict
    impact: ImpactOptions
    projection: object = None
    headline: pd.DataFrame | None = None
    competition: pd.DataFrame | None = None
    uncertainty: object = None
    technical: dict = field(default_factory=dict)
    caveats: list = field(default_factory=list)


@dataclass
class ScenarioRun:
    name: str
    variants: list[VariantReport]
    baseline_a_ref: float
    zone_geometry: object = None     # GeoSeries of zone geometries (zone order), for maps/GPKG
    group_col: str | None = None
    group_polygons: object = None    # optional GeoDataFrame(group_col, geometry) for kommune maps
    notes: list = field(default_factory=list)
    excluded: pd.DataFrame | None = None     # zones not snapped: id, reason, snap_m, population, jobs
    settings: CentralitySettings | None = None
    caveats: list = field(default_factory=list)   # generated from the run (proxy network, inputs, ...)
    places: dict = field(default_factory=dict)
    data_source: str = ""
    technical: dict = field(default_factory=dict)
    portfolio: object = None         # PortfolioResult when the run is a portfolio (geoproc.scenario.portfolio)
    published: str = ""              # [report] published: a published estimate to compare the headline with


def scenario_settings(scenarios: ScenarioSet, settings: CentralitySettings | None = None,
                      **options) -> CentralitySettings:
    """The centrality settings of a scenario run.

    Parameters
    ----------
    scenarios : ScenarioSet
        Its ``[centrality]`` table (keys = :class:`CentralitySettings` fields) applies on top of
        ``settings``.
    settings : CentralitySettings, optional
        Starting point (default: the defaults).
    **options
        Overrides applied last (None = keep), e.g. the command line's ``cutoff_min``.

    Returns
    -------
    CentralitySettings
    """
    base = CentralitySettings.from_mapping(scenarios.centrality, "[centrality]", base=settings)
    return base.with_options(**options)


@dataclass
class _Inputs:
    """Everything read before the computation starts (so bad files fail early)."""

    population: pd.DataFrame | None = None      # by age and sex (projection of a table, ILLUSTRATIVE schedules)
    path_table: pd.DataFrame | None = None      # year, kommune, population
    regions: pd.DataFrame | None = None         # kommune, region
    projection_base: object = None              # ProjectionBase of the data folder (real-data projection)


def _read_inputs(options: ImpactOptions, group_col, population, population_path_table, regions,
                 units=None) -> _Inputs:
    base = None
    if population is not None and options.data_dir:
        raise InputError("give either a population by age and sex (a projection of your table with ILLUSTRATIVE "
                         "national schedules) or the data folder (--data-dir / [impact] data_dir: the real-data "
                         "projection), not both.")
    if options.data_dir:
        if group_col is None:
            raise InputError("the projection from the data folder is per kommune; pass --group-field KOMMUNE_FIELD "
                             "(2020 kommune codes) or leave out --data-dir / [impact] data_dir.")
        base = data_projection_base(options, units)
    elif population is None and options.projection and group_col is not None:
        population = read_population_by_age_sex(options.population_by_age_sex)
    if population_path_table is None and options.population_path:
        population_path_table = read_population_path(options.population_path)
    if regions is None and options.regions:
        regions = read_regions(options.regions)
    return _Inputs(population, population_path_table, regions, base)


def run_scenarios(scenarios: ScenarioSet, network, zones_gdf, *, id_col: str = "zone_id",
                  pop_col: str = "population", jobs_col: str = "jobs", group_col: str | None = None,
                  settings: CentralitySettings | None = None, impact: ImpactOptions | None = None,
                  group_polygons=None, progress=None, should_stop=None, executor=None, method: str = "exact",
                  population=None, access_speed_kmh: float | None = None,
                  max_snap_m: float | None = None, population_path_table: pd.DataFrame | None = None,
                  regions: pd.DataFrame | None = None, uncertainty: SensitivityOptions | None = None,
                  variant_executor=None, variant_workers: int = 1, focus=None) -> ScenarioRun:
    """Validate every variant, compute the baseline once and each variant incrementally.

    Parameters
    ----------
    scenarios : ScenarioSet
        The parsed scenario file.
    network : centrality.network.RoadNetwork
        The baseline network.
    zones_gdf : geopandas.GeoDataFrame
        Points or polygons with ``id_col``, ``pop_col`` (persons), ``jobs_col`` and optionally
        ``group_col`` (e.g. kommune); snapped to the BASELINE network once.
    id_col, pop_col, jobs_col, group_col : str
        Column names.
    settings : CentralitySettings, optional
        The centrality settings; default :func:`scenario_settings` of the file's
        ``[centrality]`` table. ``access_speed_kmh``/``max_snap_m`` override it.
    impact : ImpactOptions, optional
        Default: from the file's ``[impact]`` table.
    group_polygons : geopandas.GeoDataFrame, optional
        Kommune polygons for maps.
    progress, should_stop, executor
        Passed to the travel-time searches.
    method : {"exact", "corridor"}
        "exact": affected origins get a new search (bit-for-bit equal to a full recomputation);
        "corridor": speed-up-only variants via paths through the edited edges (equal up to float
        rounding, much faster for big networks).
    population : pandas.DataFrame, optional
        year, kommune, sex, age, population: runs the full projection with and without the
        project per kommune (its run without the project is then the population path); without
        it, ``[impact] projection = true`` reads ``population_by_age_sex``.
    population_path_table : pandas.DataFrame, optional
        year, kommune, population (1 January) without the project; default ``[impact]
        population_path``. Without a path (and without a projection) the zones' population is
        held constant (a caveat of the report).
    regions : pandas.DataFrame, optional
        kommune, region (the "regions" competition centring); default ``[impact] regions``.
    uncertainty : SensitivityOptions, optional
        Default from the file's ``[uncertainty]`` table (decay and cutoff alternatives).
    variant_executor : optional
        A :mod:`centrality.parallel` executor (e.g. :class:`~centrality.parallel.DaskExecutor`):
        evaluate the variants on it (default: in this process).
    variant_workers : int, default 1
        Threads for the variants in this process when ``variant_executor`` is None (1 = one after
        another).
    focus : list of str, optional
        Units for the headline (default ``[report] focus``).
    access_speed_kmh, max_snap_m : float, optional
        Override ``settings`` (km/h, metres).

    Returns
    -------
    ScenarioRun

    Raises
    ------
    InputError
        Before any computation if a variant or an option is invalid, or the zones excluded for
        being far from the network hold more than ``settings.max_excluded_share``.
    """
    resolved = resolve(scenarios, network)                       # validation first
    settings = (settings or scenario_settings(scenarios)).with_options(access_speed_kmh=access_speed_kmh,
                                                                       max_snap_m=max_snap_m)
    if group_col is not None and group_col not in zones_gdf.columns:
        require_columns(zones_gdf.columns, [group_col], "zones layer", "Pass the kommune column as group_col.")
    impact_options = impact or ImpactOptions.from_dict(scenarios.impact)
    impact_options.coefficient()
    sens = uncertainty or SensitivityOptions.from_dict(scenarios.uncertainty)
    specs = sens.specs(settings)
    units = pd.unique(zones_gdf[group_col].astype(str)) if group_col is not None else None
    inputs = _read_inputs(impact_options, group_col, population, population_path_table, regions, units)
    focus = list(focus if focus is not None else scenarios.report.get("focus", []))
    _check_inputs(zones_gdf, id_col, pop_col, group_col, impact_options, inputs)
    zones = snap_zones(zones_gdf, network, id_col=id_col, pop_col=pop_col, jobs_col=jobs_col, settings=settings)
    engine = ScenarioEngine(network, zones, settings, progress=progress, should_stop=should_stop, executor=executor,
                            method=method)
    baselines = prepare(engine, specs)
    outcomes = evaluate_variants(engine, resolved, baselines, scenarios.places, executor=variant_executor,
                                 workers=variant_workers,
                                 should_stop=should_stop)
    base = baselines.main
    exclusion = zones.exclusion()
    table = zones.table.reset_index(drop=True)
    reports = []
    for rv, out in zip(resolved, outcomes):
        opts = impact_options
        if rv.opening_year is not None and (impact is None or impact.opening_year is None):
            opts = replace(opts, opening_year=rv.opening_year)
        reports.append(_variant_report(rv, out, base, baselines, specs, zones, table, group_col, group_polygons,
                                       opts, inputs, focus, exclusion))
    geom = zones.table.geometry.reset_index(drop=True) if hasattr(zones.table, "geometry") else None
    run = ScenarioRun(scenarios.name, reports, base.a_ref, geom, group_col, group_polygons,
                      notes=[exclusion_note(exclusion)] if exclusion["n_excluded"] else [],
                      excluded=zones.excluded.reset_index(drop=True), settings=settings, places=dict(scenarios.places),
                      data_source=str(scenarios.report.get("data_source", "")),
                      published=str(scenarios.report.get("published", "")))
    run.technical = {"baseline_seconds_sensitivity": round(baselines.seconds, 3),
                     "executor": _describe_executor(variant_executor, variant_workers),
                     "method": method, "sensitivity_runs": [s.label for s in specs]}
    run.caveats = run_caveats(run, network, zones, scenarios, sens, specs)
    return run


def _describe_executor(executor, workers: int) -> str:
    """Where the variants ran, for the technical section."""
    if executor is not None:
        return getattr(executor, "describe", lambda: type(executor).__name__)()
    return f"this process, {workers} threads" if workers > 1 else "this process, one after another"


def _check_inputs(zones_gdf, id_col, pop_col, group_col, opts: ImpactOptions, inputs: _Inputs) -> None:
    """Population path, national population and regions against the zones, before any computation."""
    key = group_col or id_col
    if key not in zones_gdf.columns:
        return
    units = pd.unique(zones_gdf[key].astype(str))
    if inputs.path_table is not None:
        population_path(units, opts.years(), inputs.path_table)
    pops = pd.to_numeric(zones_gdf[pop_col], errors="coerce") if pop_col in zones_gdf.columns else None
    if pops is not None:
        competition_for(opts, units, [float(pops.sum())], inputs.regions)


def _zone_path(z: pd.DataFrame, group_col: str | None, groups: pd.DataFrame | None, group_path: np.ndarray | None,
               years) -> np.ndarray:
    """Zone population path: each zone's share of its group's population times the group's path."""
    pop = z["population"].to_numpy(dtype=float)
    if group_path is None or groups is None:
        return np.tile(pop, (len(years), 1))
    pos = pd.Index(groups[group_col]).get_indexer(z[group_col])
    gpop = groups["population"].to_numpy(dtype=float)[pos]
    share = np.divide(pop, gpop, out=np.zeros_like(pop), where=gpop > 0)
    return group_path[:, pos] * share[None, :]


def _unit_path(units: pd.DataFrame, key: str, opts: ImpactOptions, inputs: _Inputs, projection) -> tuple:
    """(path years × units or None, label of the population base)."""
    years = opts.years()
    if inputs.path_table is not None:
        return population_path(units[key], years, inputs.path_table), "population path from " + (
            opts.population_path or "the given table") + " (1 January of each year, without the project)"
    if getattr(projection, "table", None) is not None:
        t = projection.table.rename(columns={"population_without": "population"})
        what = ("the real-data cohort-component projection (SSB population by sex and age; each kommune's "
                "fertility, mortality and migration pattern; the model's migration)" if projection.source == "real data"
                else "cohort-component projection of the given population table")
        return population_path(units[key], years, t), (
            f"{what} without the project from 1 January {projection.base_year} ({projection.assumptions_label})")
    return None, "CONSTANT base population (the zones' population in every year; no projection given)"


def _variant_report(rv, out: EvaluatedVariant, base, baselines, specs, zones, table, group_col, group_polygons,
                    opts: ImpactOptions, inputs: _Inputs, focus, exclusion) -> VariantReport:
    value_cols = [c for c in base.table.columns if c.startswith("jobs_") or c in ("access_decay", "index")]
    z = zone_deltas(base.table, out.table, value_cols)
    z.insert(0, "zone_id", np.asarray(zones.ids))
    z.insert(1, "population", np.asarray(zones.population, dtype=float))
    if group_col is not None:
        z.insert(1, group_col, table[group_col].to_numpy())
    if "name" in table.columns and "name" != group_col:
        z.insert(1, "name", table["name"].to_numpy())
    groups = None
    if group_col is not None:
        idx_cols = [c for c in z.columns if c.startswith(("index_", "delta_index", "jobs_", "delta_jobs_",
                                                              "access_decay", "delta_access_decay"))]
        groups = group_index(z, group_col, idx_cols)
        if group_polygons is not None and "name" in group_polygons.columns:
            names = group_polygons.drop_duplicates(group_col).set_index(group_col)["name"]
            groups.insert(1, "name", groups[group_col].map(names))
        elif "name" in z.columns:
            groups.insert(1, "name", groups[group_col].map(z.drop_duplicates(group_col).set_index(group_col)["name"]))
    projection = None
    if groups is not None:
        projection = optional_projection(projection_delta(groups, group_col), options=opts, population=inputs.population,
                                         base=inputs.projection_base)
    units, key = (groups, group_col) if groups is not None else (z, "zone_id")
    path, base_label = _unit_path(units, key, opts, inputs, projection)
    comp = competition_for(opts, units[key], units["population"], inputs.regions)
    eff, yearly_u, totals = horizon_effects(units["delta_index"], units["population"], opts, path, comp)
    units = pd.concat([units, eff.drop(columns=["horizon", "delta_sentny"] if "delta_sentny" in units else ["horizon"])],
                      axis=1)
    yearly = None
    if groups is not None:
        groups = units
        mark_means(groups, idx_cols)          # population-weighted means, not counts: written as float
        yearly = yearly_u.copy()
        yearly.insert(0, group_col, groups[group_col].to_numpy()[yearly["unit"].to_numpy()])
        yearly = yearly.drop(columns="unit")
        zpath = _zone_path(z, group_col, groups, path, opts.years())
        zeff, _, _ = horizon_effects(z["delta_index"], z["population"], opts, zpath, comp, shift=totals["shift_path"])
        z = pd.concat([z, zeff.drop(columns=["horizon"])], axis=1)
    else:
        z = units
    # competition: the national totals under every centring the inputs allow
    comp_rows = []
    for c in CENTRINGS:
        if c == "regions" and inputs.regions is None:
            continue
        cc = comp if c == comp.centring else competition_for(opts, units[key], units["population"], inputs.regions, c)
        e_c, _, t_c = horizon_effects(units["delta_index"], units["population"], opts, path, cc)
        served = units["delta_index"].to_numpy(dtype=float) > 0
        comp_rows.append({"centring": c, "label": cc.label(), "used": c == comp.centring,
                          "shift_index_points": t_c["centring_shift_index_points"],
                          "national_net_per_year": t_c["national_net_per_year"],
                          "national_net_population": t_c["national_net_population"],
                          "served_net_per_year": float(e_c.loc[served, "delta_migrants_net_per_year"].sum()),
                          "losing_units": int((e_c["delta_migrants_net_per_year"] < 0).sum())})
    competition = pd.DataFrame(comp_rows)
    head = headline_table(units, key, totals, focus)
    # sensitivity: the same arithmetic on each alternative's Δ index
    unc = None
    if specs:
        alternatives = {}
        for spec in specs:
            _, _, base_c = baselines.alternatives[spec.label]
            za = pd.DataFrame({"population": z["population"].to_numpy(),
                               "delta_index": out.alternatives[spec.label] - base_c.table["index"].to_numpy(float)})
            if groups is not None:
                za[group_col] = z[group_col].to_numpy()
                ga = group_index(za, group_col, ["delta_index"]).set_index(group_col).reindex(units[key])
                d_alt = ga["delta_index"].to_numpy(dtype=float)
            else:
                d_alt = za["delta_index"].to_numpy(dtype=float)
            e_a, _, t_a = horizon_effects(d_alt, units["population"], opts, path, comp)
            ua = units[[key] + (["name"] if "name" in units.columns else [])].assign(delta_index=d_alt)
            ua = pd.concat([ua.reset_index(drop=True), e_a.drop(columns=["horizon"])], axis=1)
            alternatives[spec.label] = figures(headline_table(ua, key, t_a, focus))
        coef = {f: (lo, hi) for (f, lo), hi in zip(figures(head, "_coef_low").items(),
                                                   figures(head, "_coef_high").values())}
        unc = uncertainty_table(figures(head), coef, alternatives, specs)
    head = attach_uncertainty(head, unc)
    beta, se = opts.coefficient()
    losers = int((units["delta_migrants_net_per_year"] < 0).sum())
    summary = {"variant": rv.name, "beta_sentny": beta, "beta_se": se, "horizon": f"{opts.start_year}-{opts.end_year}",
               "opening_year": opts.opening_year, "first_effect_year": opts.first_effect_year(),
               "ramp_up_years": opts.ramp_up_years, "compounding": opts.compounding, "competition": comp.centring,
               "population_base": base_label,
               "delta_migrants_per_year_total": float(units["delta_migrants_per_year"].sum()),
               f"delta_population_{opts.end_year}_total": float(units["delta_population"].sum()),
               "national_net_per_year": totals["national_net_per_year"],
               f"national_net_population_{opts.end_year}": totals["national_net_population"],
               "centring_shift_index_points": totals["centring_shift_index_points"],
               "units_losing_net": losers, "uncertainty": "full" if unc is not None else "coefficient only",
               **exclusion}
    technical = {"edited_links": out.n_edited, "added_links": out.n_added, "zones": int(len(zones.ids)),
                 "origins_recomputed": out.n_recomputed, "seconds_check": round(out.seconds_check, 3),
                 "seconds_od": round(out.seconds_od, 3), "seconds_alternatives": round(out.seconds_alternatives, 3),
                 "a_ref_baseline": base.a_ref}
    report = VariantReport(rv.name, rv.description, z, groups, out.travel_times, yearly, out.edited_links,
                           summary, opts, projection, head, competition, unc, technical)
    report.caveats = variant_caveats(report, base_label, comp, totals, units, key)
    return report


def variant_caveats(v: VariantReport, base_label: str, comp, totals: dict, units: pd.DataFrame, key: str) -> list:
    """What this variant's numbers rest on, in plain sentences (the report's caveats box).

    Parameters
    ----------
    v : VariantReport
        The variant (competition, uncertainty, projection, impact options).
    base_label : str
        Where the population base comes from.
    comp : geoproc.scenario.effects.Competition
        The centring used.
    totals : dict
        National totals.
    units : pandas.DataFrame
        The units' effects.
    key : str
        The unit id column.

    Returns
    -------
    list of str
    """
    out = []
    if base_label.startswith("CONSTANT"):
        out.append("Population base held CONSTANT at the zones' population: no projection or population path was "
                   "given ([impact] population_path or projection = true).")
    else:
        out.append(f"Population base: {base_label}.")
    if getattr(v.projection, "illustrative", False):
        out.append("The projection uses ILLUSTRATIVE national fertility, mortality and immigration assumptions "
                   "(not the national schedules of a data folder, not SSB's projection).")
    if any(n.startswith("PROXY centrality") for n in getattr(v.projection, "notes", [])):
        out.append("The projection's model migration uses the PROXY centrality index of the kommune proxy network "
                   "for every kommune's level term (the project's Δ index comes from this run).")
    used = v.competition[v.competition["used"]].iloc[0]
    nat = float(used["national_net_per_year"])
    out.append(f"Competition: the net effect re-evaluates the national centrality mean ({comp.label()}); it rises by "
               f"{used['shift_index_points']:.3f} index points, so {int(used['losing_units'])} "
               f"{'kommuner' if key == 'kommune' else 'units'} lose. National total of the net effect: "
               f"{per_year(nat)} persons a year" + (" (zero by construction)." if comp.centring == "population" else "."))
    others = v.competition[~v.competition["used"]]
    for r in others.itertuples():
        out.append(f"With the {r.label} instead, the national total would be "
                   f"{per_year(r.national_net_per_year)} persons a year.")
    if comp.outside_population > 0:
        out.append(f"{comp.outside_population:,.0f} residents live outside the run's zones (national_population); "
                   "their centrality is taken as unchanged.".replace(",", " "))
    elif comp.centring == "population":
        out.append(f"The national mean is taken over the run's {len(units)} {'kommuner' if key == 'kommune' else 'units'} "
                   f"({thousands(float(units['population'].sum()))} residents): right when they cover the whole "
                   "country; otherwise give [impact] national_population.")
    if v.uncertainty is None:
        out.append("Intervals: coefficient standard error only (the decay and cutoff sensitivity was not run).")
    else:
        dom = v.headline.set_index(["scope", "measure"])
        served = dom.loc[("served", "gross")] if ("served", "gross") in dom.index else None
        which = served["population_dominant"] if served is not None else "?"
        out.append(f"Intervals combine the coefficient's standard error with the sensitivity to the decay and the "
                   f"cutoff ({', '.join(v.uncertainty.runs['label'].unique())}); the largest part here: {which}.")
    if v.impact.ramp_up_years > 1:
        out.append(f"The effect is phased in over {v.impact.ramp_up_years} years after opening.")
    return out


def run_caveats(run: ScenarioRun, network, zones, scenarios: ScenarioSet, sens, specs) -> list:
    """Run-level caveats: proxy network, zoning, illustrative or synthetic inputs, exclusions.

    Parameters
    ----------
    run : ScenarioRun
        The run (notes, group column).
    network : centrality.network.RoadNetwork
        Its ``report`` says whether it is a proxy or synthetic network.
    zones : centrality.zones.Zones
        The snapped zones.
    scenarios : ScenarioSet
        ``[report] illustrative`` is added as given.
    sens : SensitivityOptions
        The uncertainty options.
    specs : list of SensitivitySpec
        The sensitivity runs made.

    Returns
    -------
    list of str
    """
    out = []
    rep = getattr(network, "report", {}) or {}
    if rep.get("proxy"):
        out.append(f"PROXY network: {rep['proxy']} — straight lines between kommune points with generic speeds, "
                   "not a road network; travel times off the calibrated corridor can be far from real ones.")
    if rep.get("synthetic"):
        out.append("SYNTHETIC network and zones (invented places).")
    if run.group_col is not None and len(zones.ids) == len(pd.unique(zones.table[run.group_col])):
        out.append(f"One zone per {run.group_col}: the whole population of each unit gets the change of its single "
                   "point (a finer zoning spreads it).")
    if rep.get("zoning"):
        out.append(f"Zoning: {rep['zoning']}")
    if scenarios.report.get("illustrative"):
        out.append(str(scenarios.report["illustrative"]))
    out += list(run.notes)
    return out


def exclusion_note(exclusion: dict) -> str:
    """One sentence on the zones left out for being far from the network.

    Parameters
    ----------
    exclusion : dict
        :meth:`centrality.zones.Zones.exclusion` (counts, persons, jobs, shares).

    Returns
    -------
    str
    """
    return (f"{exclusion['n_excluded']} zones excluded (farther than the maximum snap distance from the network): "
            f"{thousands(exclusion['excluded_population'])} residents "
            f"({100 * exclusion['excluded_population_share']:.2f} % of the population) and "
            f"{thousands(exclusion['excluded_jobs'])} jobs ({100 * exclusion['excluded_jobs_share']:.2f} % of the jobs); "
            "their jobs are in no zone's accessibility and they get no Δ (see excluded_zones.csv).")


DEMO_SCENARIO = "demo_scenario.toml"


def run_demo(out_dir, seed: int | None = None, maps: bool = True, outputs=None) -> list[Path]:
    """The demo scenarios on the SYNTHETIC demo region, reported into ``out_dir``.

    Parameters
    ----------
    out_dir : path-like
        Report folder (owned by the run: stale files of an earlier demo run are removed).
    seed : int, optional
        Seed of :func:`centrality.synthetic.demo_region` (default its ``DEFAULT_SEED``).
    maps : bool, default True
        Draw the Δ maps.
    outputs : centrality.fileio.OutputSet, optional
        Stage into this set (the caller commits), e.g. the whole ``regio demo`` run.

    Returns
    -------
    list of pathlib.Path
        The files written (or staged, with ``outputs``).

    Notes
    -----
    ``demo_scenario.toml``: the E6 upgrade Storby–Midtby and a faster Øyvik ferry.
    """
    region = demo_region(DEFAULT_SEED if seed is None else seed)
    network = network_from_lines(region.roads, **region.network_options)
    scen = load_scenarios(Path(__file__).with_name(DEMO_SCENARIO))
    scen.places = {name: region.places[name] for name in ("Midtby", "Storby", "Nordmo", "Øyvik") if name in region.places}
    run = run_scenarios(scen, network, region.zones, group_col="kommune", group_polygons=region.kommuner)
    run.notes.append(region.note or "SYNTHETIC demo data: invented places.")
    return write_report(run, out_dir, maps=maps, outputs=outputs)
