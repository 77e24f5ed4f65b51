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

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geoproc.scenario.definition import (Edit, ScenarioSet, Selection, Variant, load_scenarios,  # noqa: F401
                                         parse_scenarios, resolve)
from geoproc.scenario.impact import ImpactOptions, group_index, horizon_effect, zone_deltas
from geoproc.scenario.incremental import CentralityOptions, ScenarioEngine

__all__ = ["Edit", "Selection", "Variant", "ScenarioSet", "load_scenarios", "parse_scenarios", "resolve",
           "ImpactOptions", "CentralityOptions", "ScenarioRun", "VariantReport", "run_scenarios", "place_times",
           "run_demo", "run_demo_scenario"]


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


def place_times(network, zones, places: dict, other=None) -> pd.DataFrame:
    """Door-to-door minutes (access + network + access, no cutoff) between named zones, ordered pairs.

    ``places``: {name: zone id}. With ``other`` (a second network) adds its times as well.
    """
    from centrality.errors import InputError
    from centrality.paths import node_times

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
    import geopandas as gpd

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


def run_scenarios(scenarios: ScenarioSet, network, zones_gdf, *, id_col: str = "zone_id",
                  pop_col: str = "population", jobs_col: str = "jobs", group_col: str | None = None,
                  centrality: CentralityOptions | None = None, impact: ImpactOptions | None = None,
                  access_speed_kmh: float = 20.0, max_snap_m: float = 5000.0, group_polygons=None,
                  progress=None, should_stop=None, executor=None, method: str = "exact",
                  population=None) -> ScenarioRun:
    """Validate every variant, compute the baseline once and each variant incrementally.

    ``zones_gdf`` (points or polygons with ``id_col``, ``pop_col``, ``jobs_col`` and optionally
    ``group_col``, e.g. kommune) is snapped to the BASELINE network once. Raises InputError
    before any computation if a variant is invalid. ``method``: "exact" (affected origins get a
    new search; bit-for-bit equal to a full recomputation) or "corridor" (speed-up-only variants
    via paths through the edited edges; equal up to float rounding, much faster for big networks).
    ``population`` (year, kommune, sex, age, population) runs the full projection with and without
    the project per kommune; without it, ``[impact] projection = true`` reads
    ``population_by_age_sex`` (once, before any computation).
    """
    from centrality.zones import snap_zones

    resolved = resolve(scenarios, network)                       # validation first
    centrality = centrality or CentralityOptions.from_dict(scenarios.centrality)
    if group_col is not None and group_col not in zones_gdf.columns:
        from centrality.errors import require_columns
        require_columns(zones_gdf.columns, [group_col], "zones layer", "Pass the kommune column as group_col.")
    impact_options = impact or ImpactOptions.from_dict(scenarios.impact)
    if population is None and impact_options.projection and group_col is not None:
        from geoproc.scenario.impact import read_population_by_age_sex
        population = read_population_by_age_sex(impact_options.population_by_age_sex)
    zones = snap_zones(zones_gdf, network, id_col=id_col, pop_col=pop_col, jobs_col=jobs_col,
                       access_speed_kmh=access_speed_kmh, max_snap_m=max_snap_m)
    engine = ScenarioEngine(network, zones, centrality, progress=progress, should_stop=should_stop, executor=executor,
                            method=method)
    base = engine.baseline
    table = zones.table.reset_index(drop=True)
    value_cols = [c for c in base.table.columns if c.startswith("jobs_") or c in ("access_decay", "index")]
    reports = []
    for rv in resolved:
        opts = impact_options
        if rv.opening_year is not None and (impact is None or impact.opening_year is None):
            from dataclasses import replace
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
            from geoproc.scenario.impact import accumulate
            yearly = accumulate(groups["delta_index"], groups["population"], opts)
            yearly.insert(0, group_col, groups[group_col].to_numpy()[yearly["unit"].to_numpy()])
            yearly = yearly.drop(columns="unit")
        projection = None
        if groups is not None:
            from geoproc.scenario.impact import optional_projection, projection_delta
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
                   f"delta_population_{opts.end_year}_total": float(z["delta_population"].sum())}
        reports.append(VariantReport(rv.name, rv.description, z, groups, tt, yearly,
                                     _edited_links_table(network.links, out.edits.network.links, out.edits, rv),
                                     summary, opts, projection))
    geom = zones.table.geometry.reset_index(drop=True) if hasattr(zones.table, "geometry") else None
    return ScenarioRun(scenarios.name, reports, base.a_ref, geom, group_col, group_polygons,
                       notes=[f"zones excluded (not snapped): {len(zones.excluded)}"] if len(zones.excluded) else [])


DEMO_SCENARIO = "demo_scenario.toml"


def run_demo(out_dir, seed: int | None = None, maps: bool = True):
    """The demo scenarios (``demo_scenario.toml``: E6 upgrade Storby–Midtby, Øyvik ferry) on the
    SYNTHETIC demo region; writes the report into ``out_dir`` and returns the written paths."""
    from pathlib import Path

    from centrality.builders.lines import network_from_lines
    from centrality.synthetic import DEFAULT_SEED, demo_region
    from geoproc.scenario.report import write_report

    region = demo_region(DEFAULT_SEED if seed is None else seed)
    network = network_from_lines(region.roads, **region.network_options)
    scen = load_scenarios(Path(__file__).with_name(DEMO_SCENARIO))
    scen.places = {name: region.places[name] for name in ("Midtby", "Storby", "Nordmo", "Øyvik") if name in region.places}
    run = run_scenarios(scen, network, region.zones, group_col="kommune", group_polygons=region.kommuner)
    run.notes.append(region.note or "SYNTHETIC demo data: invented places.")
    return write_report(run, out_dir, maps=maps)


def run_demo_scenario(out_dir):
    """Entry point for `regio demo` (alias of :func:`run_demo`)."""
    return run_demo(out_dir)
