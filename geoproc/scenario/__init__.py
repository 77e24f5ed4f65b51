"""Road scenarios (MODEL.md §5): edit the network, recompute centrality for the affected zones,
translate Δ index into Δ expected net migration and Δ population.

Typical use::

    from geoproc.scenario import load_scenarios, run_scenarios
    from geoproc.scenario.report import write_report
    run = run_scenarios(load_scenarios("scenarios.toml"), network, zones_gdf, group_col="kommune")
    write_report(run, "out/")

Order of work: every variant is validated against the network (:func:`definition.resolve`)
BEFORE anything is computed; then the baseline is computed once and each variant incrementally
(:mod:`incremental`); the impact arithmetic is in :mod:`impact`; :mod:`report` writes the files.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from centrality.builders.lines import network_from_lines
from centrality.errors import InputError, require_columns, thousands
from centrality.paths import node_times
from centrality.settings import CentralitySettings
from centrality.synthetic import DEFAULT_SEED, demo_region
from centrality.zones import snap_zones
from geoproc.scenario.definition import (Edit, ScenarioSet, Selection, Variant, load_scenarios,  # noqa: F401
                                         parse_scenarios, resolve)
from geoproc.scenario.impact import (ImpactOptions, accumulate, group_index, horizon_effect, optional_projection,
                                     projection_delta, read_population_by_age_sex, zone_deltas)
from geoproc.scenario.incremental import ScenarioEngine
from geoproc.scenario.report import write_report

__all__ = ["Edit", "Selection", "Variant", "ScenarioSet", "load_scenarios", "parse_scenarios", "resolve",
           "ImpactOptions", "CentralitySettings", "ScenarioRun", "VariantReport", "run_scenarios", "place_times",
           "scenario_settings", "run_demo"]


@dataclass
class VariantReport:
    """Everything the report needs for one variant (tables in persons, minutes, index points)."""

    name: str
    description: str
    zones: pd.DataFrame          # per zone: ids, population, base/scen/delta of jobs_<L>min, access_decay, index; migration
    groups: pd.DataFrame | None  # per group (kommune): population-weighted index, Δ, migration, Δ population
    travel_times: pd.DataFrame   # from, to, baseline_min, scenario_min, delta_min
    yearly: pd.DataFrame | None  # per group and year: delta_migrants, delta_population (central)
    edited_links: pd.DataFrame   # link_id, action, time before/after (s) per direction, geometry
    summary: dict
    impact: ImpactOptions
    projection: object = None    # result of the optional projection hook (impact.optional_projection)


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


def place_times(network, zones, places: dict, other=None) -> pd.DataFrame:
    """Door-to-door minutes (access + network + access, no cutoff) between named zones, ordered pairs.

    Parameters
    ----------
    network : centrality.network.RoadNetwork
        The baseline network.
    zones : centrality.zones.Zones
        Snapped zones.
    places : dict
        ``{name: zone id}``.
    other : centrality.network.RoadNetwork, optional
        A second (scenario) network whose times are added.

    Returns
    -------
    pandas.DataFrame
        from, to, baseline_min [, scenario_min, delta_min] (minutes).
    """
    ids = np.asarray(zones.ids).astype(str)
    pos = {}
    for name, zid in places.items():
        hit = np.flatnonzero(ids == str(zid))
        if len(hit) == 0:
            raise InputError(f"[places] {name} = {zid!r} is not a zone id (or the zone was excluded). "
                             "Use ids from the zones' id column.")
        pos[name] = int(hit[0])
    rows = []
    for net_i, net in enumerate([network] + ([other] if other is not None else [])):
        for a, pa in pos.items():
            t = node_times(net, zones.node[pa])
            for b, pb in pos.items():
                if a != b:
                    rows.append((net_i, a, b, (zones.access_s[pa] + t[zones.node[pb]] + zones.access_s[pb]) / 60.0))
    df = pd.DataFrame(rows, columns=["net", "from", "to", "minutes"])
    out = df[df["net"] == 0].drop(columns="net").rename(columns={"minutes": "baseline_min"}).reset_index(drop=True)
    if other is not None:
        out["scenario_min"] = df.loc[df["net"] == 1, "minutes"].to_numpy()
        out["delta_min"] = out["scenario_min"] - out["baseline_min"]
    return out


def _edited_links_table(base_links, new_links, edit_result, resolved) -> pd.DataFrame:
    action = {}
    for r in resolved.edits:
        for lid in r.link_ids.tolist():
            action[lid] = r.edit.action
    ids = np.concatenate([edit_result.edited_link_ids, edit_result.added_link_ids]).astype(np.int64)
    for lid in edit_result.added_link_ids.tolist():
        action[lid] = "add_link"
    b = base_links.reindex(ids)
    n = new_links.loc[ids]
    return gpd.GeoDataFrame({"link_id": ids, "action": [action.get(i, "") for i in ids.tolist()],
                             "time_fw_s_base": b["time_fw_s"].to_numpy(), "time_fw_s_scen": n["time_fw_s"].to_numpy(),
                             "time_bw_s_base": b["time_bw_s"].to_numpy(), "time_bw_s_scen": n["time_bw_s"].to_numpy()},
                            geometry=n.geometry.to_numpy(), crs=new_links.crs)


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


def run_scenarios(scenarios: ScenarioSet, network, zones_gdf, *, id_col: str = "zone_id",
                  pop_col: str = "population", jobs_col: str = "jobs", group_col: str | None = None,
                  settings: CentralitySettings | None = None, impact: ImpactOptions | None = None,
                  group_polygons=None, progress=None, should_stop=None, executor=None, method: str = "exact",
                  population=None, access_speed_kmh: float | None = None,
                  max_snap_m: float | None = None) -> ScenarioRun:
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
        project per kommune; without it, ``[impact] projection = true`` reads
        ``population_by_age_sex`` (once, before any computation).
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
    if population is None and impact_options.projection and group_col is not None:
        population = read_population_by_age_sex(impact_options.population_by_age_sex)
    zones = snap_zones(zones_gdf, network, id_col=id_col, pop_col=pop_col, jobs_col=jobs_col, settings=settings)
    engine = ScenarioEngine(network, zones, settings, progress=progress, should_stop=should_stop, executor=executor,
                            method=method)
    base = engine.baseline
    exclusion = zones.exclusion()
    table = zones.table.reset_index(drop=True)
    value_cols = [c for c in base.table.columns if c.startswith("jobs_") or c in ("access_decay", "index")]
    reports = []
    for rv in resolved:
        opts = impact_options
        if rv.opening_year is not None and (impact is None or impact.opening_year is None):
            opts = replace(opts, opening_year=rv.opening_year)
        out = engine.evaluate(rv)
        z = zone_deltas(base.table, out.state.table, value_cols)
        z.insert(0, "zone_id", np.asarray(zones.ids))
        z.insert(1, "population", np.asarray(zones.population, dtype=float))
        if group_col is not None:
            z.insert(1, group_col, table[group_col].to_numpy())
        if "name" in table.columns and "name" != group_col:
            z.insert(1, "name", table["name"].to_numpy())
        z = pd.concat([z, horizon_effect(z["delta_index"], z["population"], opts).drop(columns=["horizon"])], axis=1)
        groups = yearly = None
        if group_col is not None:
            idx_cols = [c for c in z.columns if c.startswith(("index_", "delta_index", "jobs_", "delta_jobs_",
                                                                  "access_decay", "delta_access_decay"))]
            groups = group_index(z, group_col, idx_cols)
            if group_polygons is not None and "name" in group_polygons.columns:
                names = group_polygons.drop_duplicates(group_col).set_index(group_col)["name"]
                groups.insert(1, "name", groups[group_col].map(names))
            eff = horizon_effect(groups["delta_index"], groups["population"], opts)
            groups = pd.concat([groups, eff], axis=1)
            yearly = accumulate(groups["delta_index"], groups["population"], opts)
            yearly.insert(0, group_col, groups[group_col].to_numpy()[yearly["unit"].to_numpy()])
            yearly = yearly.drop(columns="unit")
        projection = None
        if groups is not None:
            projection = optional_projection(projection_delta(groups, group_col), options=opts, population=population)
        tt = place_times(network, zones, scenarios.places, out.edits.network) if scenarios.places else \
            pd.DataFrame(columns=["from", "to", "baseline_min", "scenario_min", "delta_min"])
        beta, se = opts.coefficient()
        summary = {"variant": rv.name, "edited_links": int(len(out.edits.edited_link_ids)),
                   "added_links": int(len(out.edits.added_link_ids)), "zones": int(len(zones.ids)),
                   "origins_recomputed": out.incremental.n_recomputed,
                   "seconds_check": round(out.incremental.seconds_check, 3),
                   "seconds_od": round(out.incremental.seconds_od, 3), "a_ref_baseline": base.a_ref,
                   "beta_sentny": beta, "beta_se": se, "horizon": f"{opts.start_year}-{opts.end_year}",
                   "opening_year": opts.opening_year, "compounding": opts.compounding,
                   "delta_migrants_per_year_total": float(z["delta_migrants_per_year"].sum()),
                   f"delta_population_{opts.end_year}_total": float(z["delta_population"].sum()), **exclusion}
        reports.append(VariantReport(rv.name, rv.description, z, groups, tt, yearly,
                                     _edited_links_table(network.links, out.edits.network.links, out.edits, rv),
                                     summary, opts, projection))
    geom = zones.table.geometry.reset_index(drop=True) if hasattr(zones.table, "geometry") else None
    return ScenarioRun(scenarios.name, reports, base.a_ref, geom, group_col, group_polygons,
                       notes=[exclusion_note(exclusion)] if exclusion["n_excluded"] else [],
                       excluded=zones.excluded.reset_index(drop=True), settings=settings)


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
