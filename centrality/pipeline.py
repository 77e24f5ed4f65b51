"""One call from a network and zones to jobs reachable, accessibility, index and classes.

:func:`run_centrality` is what the CLI, batch runs and the QGIS plugin call:

1. the options are checked against each other and the zone layer
   (:class:`centrality.settings.CentralitySettings`, :func:`check_run_options`);
2. zones are validated and snapped to the network (:func:`centrality.zones.snap_zones`;
   zones too far from any road are *excluded and reported* with their population and jobs, and
   it is an error when they hold more than ``max_excluded_share`` of either);
3. exact zone-to-zone car travel times within the cutoff (:func:`centrality.paths.od_times`);
4. jobs reachable, decay-weighted accessibility, the 0–1000 index and SSB classes 1–6 — the one
   step :func:`centrality.step.centrality_from_od`, shared with the road scenarios — per zone
   and, with ``group_col``, per group (kommune) as population-weighted means.

:func:`write_result` stages the result in a :class:`centrality.fileio.OutputSet`.
Units: minutes in all user-facing columns (``*_min``), metres for ``snap_m``.
"""
from __future__ import annotations

import difflib
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from centrality.builders import check_vector_path
from centrality.errors import InputError, require_columns, thousands
from centrality.fileio import OutputSet, mark_means, read_vector, require_parquet
from centrality.index import aggregate, ssb_class
from centrality.paths import od_times
from centrality.plausibility import check_group_codes
from centrality.services import add_services
from centrality.settings import CentralitySettings, settings_from
from centrality.step import ZoneCentrality, centrality_from_od
from centrality.zones import Zones, load_zones, snap_zones

GROUP_LAYER = "groups"
EXCLUDED_LAYER = "excluded_zones"


@dataclass
class CentralityResult:
    """Outcome of :func:`run_centrality`.

    Attributes
    ----------
    zones : geopandas.GeoDataFrame
        One row per included zone: the zone id (column named like the input id column), the
        input attributes, ``population`` (persons), ``jobs``, ``jobs_<L>min`` per limit,
        ``access_decay`` (decay-weighted jobs), ``index`` (0–1000), ``centrality_class`` (1–6),
        ``point_x``/``point_y`` (metres), ``snap_m`` (metres from the zone point to its network
        node) and ``access_min`` (minutes for that stretch).
    groups : pandas.DataFrame or None
        Per ``group_col`` value: ``n_zones``, population and jobs (sums), population-weighted
        ``jobs_<L>min``, ``access_decay`` and ``index``, ``centrality_class`` of that index, and
        ``n_excluded``/``excluded_population``/``excluded_jobs`` of its excluded zones.
    od : centrality.paths.ODTable or None
        The OD table (with ``keep_od=True``).
    excluded : pandas.DataFrame
        Zones not used and why: id, reason, snap_m, population, jobs, population_share,
        jobs_share (fractions of the totals of all zones) [, group column].
    summary : dict
        Counts, totals, excluded shares, timings and the settings (:meth:`CentralitySettings.summary`).
    settings : CentralitySettings
        The settings of the run.
    """

    zones: "gpd.GeoDataFrame"
    groups: pd.DataFrame | None
    od: Any
    excluded: pd.DataFrame
    summary: dict = field(default_factory=dict)
    id_col: str = "zone_id"
    group_col: str | None = None
    settings: CentralitySettings | None = None

    @property
    def limit_columns(self) -> list[str]:
        """The ``jobs_<L>min`` column names."""
        return [c for c in self.zones.columns if c.startswith("jobs_") and c.endswith("min")]


def read_zones(path_or_gdf, layer: str | None = None) -> gpd.GeoDataFrame:
    """Zone layer (points or polygons) from any vector file.

    Parameters
    ----------
    path_or_gdf : path-like or geopandas.GeoDataFrame
        The zones file (or a GeoDataFrame, returned after the checks).
    layer : str, optional
        Layer of a multi-layer file.

    Returns
    -------
    geopandas.GeoDataFrame
        See :func:`centrality.fileio.read_vector`.
    """
    check_vector_path(path_or_gdf, "zones layer")
    return read_vector(path_or_gdf, layer, what="zones layer")


def _snap(zones_gdf, network, *, id_col, pop_col, jobs_col, raster, settings: CentralitySettings) -> Zones:
    """Zones snapped to ``network``; polygons become population-weighted centroids with
    ``raster``, else representative points."""
    points = load_zones(zones_gdf, id_col=id_col, pop_col=pop_col, jobs_col=jobs_col, raster=raster)
    return snap_zones(points, network, id_col=id_col, pop_col=pop_col, jobs_col=jobs_col, settings=settings)


def _zone_table(zones: Zones, input_geometry, id_col: str, pop_col: str, jobs_col: str,
                step: ZoneCentrality) -> gpd.GeoDataFrame:
    """Result zones GeoDataFrame in the Zones' order: the input attributes and geometry (polygons
    stay polygons, in the network CRS), ``point_x``/``point_y`` (the zone point used, metres)
    and the standard result columns."""
    geometry = input_geometry.to_crs(zones.table.crs).loc[zones.table.index]
    table = zones.table.reset_index(drop=True)
    values = step.table
    attrs = table.drop(columns=[table.geometry.name])
    attrs = attrs.drop(columns=[c for c in attrs.columns if c in (pop_col, jobs_col) or c in values.columns
                                or c in ("population", "jobs", "snap_m", "access_min")])
    if id_col not in attrs.columns:
        attrs.insert(0, id_col, zones.ids)
    out = attrs.assign(population=np.asarray(zones.population, dtype=float),
                       jobs=np.asarray(zones.jobs, dtype=float))
    for col in values.columns:
        out[col] = values[col].to_numpy()
    out["index"] = out["index"].astype(float)
    out["centrality_class"] = out["centrality_class"].astype(np.int64)
    out["point_x"] = np.asarray(zones.xy, dtype=float)[:, 0]
    out["point_y"] = np.asarray(zones.xy, dtype=float)[:, 1]
    out["snap_m"] = np.asarray(zones.snap_m, dtype=float)
    out["access_min"] = np.asarray(zones.access_s, dtype=float) / 60.0
    return gpd.GeoDataFrame(out, geometry=geometry.to_numpy(), crs=zones.table.crs)


def check_run_options(zones_gdf, settings: CentralitySettings | None = None, *, id_col: str = "zone_id",
                      group_col: str | None = None, **options) -> CentralitySettings:
    """Check the settings against a zone layer before anything is computed.

    The CLI and batch runs call this before building networks.

    Parameters
    ----------
    zones_gdf : path-like or geopandas.GeoDataFrame
        The zone layer.
    settings : CentralitySettings, optional
        The run's settings (default: the defaults).
    id_col : str, default "zone_id"
        Zone id column (the reference zone must be one of its values).
    group_col : str, optional
        Group column; it must exist and have no empty values.
    **options
        Settings fields overriding ``settings`` (None = keep), e.g. ``cutoff_min=60``.

    Returns
    -------
    CentralitySettings
        The checked settings.

    Raises
    ------
    InputError
        For invalid or contradictory options, a missing/empty group field or an unknown
        reference zone.
    """
    settings = settings_from(settings, **options)
    zones_gdf = read_zones(zones_gdf)
    if group_col:
        require_columns(zones_gdf.columns, [group_col], "zones layer",
                        "Name an existing field for grouping (CLI: --group-field), e.g. the kommune code.")
        n_null = int(zones_gdf[group_col].isna().sum())
        if n_null:
            raise InputError(f"zones layer: {n_null} zones have no value in group field '{group_col}'. Fill it "
                             "(e.g. the kommune code) or run without a group field.")
        check_group_codes(zones_gdf[group_col], group_col)
    reference = settings.reference_zone
    if reference is not None and id_col in zones_gdf.columns:
        ids = zones_gdf[id_col].astype(str)
        if not ids.eq(str(reference)).any():
            close = difflib.get_close_matches(str(reference), ids.tolist(), n=1)
            raise InputError(f"reference zone '{reference}' is not in the zones layer's '{id_col}'"
                             + (f" (did you mean '{close[0]}'?)" if close else "")
                             + ". Give an existing zone id, or no reference to scale to the maximum.")
    return settings


def _excluded_table(zones: Zones, zones_gdf, id_col: str, group_col: str | None) -> pd.DataFrame:
    """The excluded zones with their shares of the totals (and their group)."""
    excluded = zones.excluded.reset_index(drop=True)
    info = zones.exclusion()
    total_pop = float(np.sum(zones.population)) + info["excluded_population"]
    total_jobs = float(np.sum(zones.jobs)) + info["excluded_jobs"]
    excluded = excluded.assign(population_share=excluded["population"] / total_pop if total_pop > 0 else 0.0,
                               jobs_share=excluded["jobs"] / total_jobs if total_jobs > 0 else 0.0)
    if group_col and len(excluded):
        groups = zones_gdf.set_index(zones_gdf[id_col].astype(str))[group_col]
        excluded[group_col] = excluded["id"].astype(str).map(groups).to_numpy()
    return excluded


def _group_table(zone_table, group_col: str, limit_cols: Sequence[str], excluded: pd.DataFrame) -> pd.DataFrame:
    """Per group: population, jobs (sums); population-weighted accessibility and index; class;
    count, population and jobs of the group's excluded zones."""
    table = pd.DataFrame(zone_table.drop(columns=zone_table.geometry.name))
    extra = [c for c in table.columns if c.startswith("services_") or c == "index_full"]
    groups = aggregate(table, by=group_col, value_cols=[*limit_cols, "access_decay", "index", *extra],
                       weight="population", sum_cols=["jobs"])
    groups = groups.drop(columns="zero_weight").reset_index()
    groups.insert(1, "n_zones", table.groupby(group_col, sort=True).size().to_numpy())
    groups["centrality_class"] = np.asarray(ssb_class(groups["index"].to_numpy()), dtype=np.int64)
    per = excluded.groupby(group_col) if len(excluded) else None
    for col, source, agg in (("n_excluded", "id", "size"), ("excluded_population", "population", "sum"),
                             ("excluded_jobs", "jobs", "sum")):
        values = groups[group_col].map(per[source].agg(agg)) if per is not None else pd.Series(0, index=groups.index)
        groups[col] = values.fillna(0).astype(np.int64 if col == "n_excluded" else float)
    return groups


def run_centrality(network, zones_gdf, settings: CentralitySettings | None = None, *, id_col: str = "zone_id",
                   pop_col: str = "population", jobs_col: str = "jobs", raster=None, group_col: str | None = None,
                   executor=None, progress: Callable[[int, int], None] | None = None,
                   should_stop: Callable[[], bool] | None = None, keep_od: bool = False, services=None,
                   **options) -> CentralityResult:
    """Centrality of every zone (and group) on ``network``; see the module docstring.

    Parameters
    ----------
    network : centrality.network.RoadNetwork
        The road network (travel times in seconds).
    zones_gdf : path-like or geopandas.GeoDataFrame
        Points or polygons with ``id_col``, ``pop_col`` (persons) and ``jobs_col`` (jobs by place
        of work); polygons are represented by their population-weighted centroid from
        ``raster`` when given, else by a point inside them; the result keeps the input geometry.
    settings : CentralitySettings, optional
        Cutoff, limits, decay, transform, reference, snapping, allowed excluded share, workers
        and engine (default: :class:`CentralitySettings()`).
    id_col, pop_col, jobs_col : str
        Column names of the zone id, population and jobs.
    raster : path-like, optional
        Population GeoTIFF for population-weighted centroids of polygon zones.
    group_col : str, optional
        Aggregate per value of this column (e.g. kommune), population-weighted.
    executor : concurrent.futures.Executor, optional
        Runs the travel-time chunks instead of ``settings.workers`` threads.
    progress : callable, optional
        ``progress(done, total)`` of the travel-time search.
    should_stop : callable, optional
        ``should_stop() -> bool``; True raises :class:`centrality.errors.Cancelled`.
    keep_od : bool, default False
        Keep the OD table in the result (needed to write it).
    services : centrality.services.ServicesSpec or ServiceLocations, optional
        Also compute SSB's services sub-index (``services_<L>min``, ``services_decay``,
        ``services_index``) and the full index ``index_full`` (jobs and services weighted, default
        2/3 and 1/3); ``index`` stays the jobs-only index (*sentny*).
    **options
        Settings fields that override ``settings`` (None = keep), e.g. ``cutoff_min=60``,
        ``reference_zone="0301"``, ``reference_value=...`` (a base run's
        ``summary["reference_access"]``, so that a scenario's index is on the base run's
        scale). The old name ``reference`` (= ``reference_zone``) still works with a
        DeprecationWarning.

    Returns
    -------
    CentralityResult

    Raises
    ------
    InputError
        For bad input or options, before the travel times are computed.
    """
    t0 = time.perf_counter()
    zones_gdf = read_zones(zones_gdf).reset_index(drop=True)
    settings = check_run_options(zones_gdf, settings, id_col=id_col, group_col=group_col, **options)
    zones = _snap(zones_gdf, network, id_col=id_col, pop_col=pop_col, jobs_col=jobs_col, raster=raster,
                  settings=settings)
    if len(zones.ids) == 0:
        raise InputError("no zone could be snapped to the network (all are farther than max_snap_m = "
                         f"{settings.max_snap_m:g} m from a road, or have no population). Check that zones and roads "
                         "cover the same area and CRS, or raise max_snap_m.")
    od = od_times(network, zones, cutoff_min=settings.cutoff_min, workers=settings.workers, executor=executor,
                  progress=progress, should_stop=should_stop, engine=settings.engine, cache_dir="auto")
    step = centrality_from_od(od, zones, settings)
    table = _zone_table(zones, zones_gdf.geometry, id_col, pop_col, jobs_col, step)
    excluded = _excluded_table(zones, zones_gdf, id_col, group_col)
    services_summary = {}
    if services is not None:
        table, services_summary = add_services(table, network, zones, services, settings)
    groups = _group_table(table, group_col, step.limit_columns, excluded) if group_col else None
    summary = {
        "n_zones": int(len(table)),
        **zones.exclusion(),
        "reachable_pairs": int(od.n_pairs),
        "seconds": round(time.perf_counter() - t0, 3),
        "od_seconds": round(float(od.seconds), 3),
        **settings.summary(),
        **od_engine_summary(od),
        "reference_access": step.reference_access,
        "population": float(table["population"].sum()),
        "jobs": float(table["jobs"].sum()),
        "network_nodes": int(network.n_nodes),
        "network_links": int(network.n_links),
        **services_summary,
    }
    if group_col:
        summary["n_groups"] = int(len(groups))
    return CentralityResult(zones=table, groups=groups, od=od if keep_od else None, excluded=excluded,
                            summary=summary, id_col=id_col, group_col=group_col, settings=settings)


# ----------------------------------------------------------------------------------- output
def _summary_frame(summary: dict) -> pd.DataFrame:
    return pd.DataFrame({"key": list(summary), "value": [str(v) for v in summary.values()]})


def group_layer(result: CentralityResult, group_geometry=None):
    """Groups as a GeoDataFrame when polygons are available, else a plain table.

    Parameters
    ----------
    result : CentralityResult
        A result with groups.
    group_geometry : geopandas.GeoDataFrame, optional
        Polygons with a ``result.group_col`` column (e.g. kommune polygons); without it,
        polygon zones are dissolved per group and point zones give a plain table.

    Returns
    -------
    geopandas.GeoDataFrame, pandas.DataFrame or None
        None when the result has no groups.
    """
    groups, col = result.groups, result.group_col
    if groups is None:
        return None
    if group_geometry is not None:
        require_columns(group_geometry.columns, [col], "group geometry layer",
                        f"It must have the group column '{col}' to join on.")
        shapes = group_geometry[[col, group_geometry.geometry.name]].drop_duplicates(col)
        shapes = shapes.to_crs(result.zones.crs) if result.zones.crs is not None else shapes
        joined = shapes.merge(groups, on=col, how="right")
        return mark_means(gpd.GeoDataFrame(joined, geometry=shapes.geometry.name, crs=shapes.crs), like=groups)
    zones = result.zones
    if zones.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        shapes = zones[[col, zones.geometry.name]].dissolve(by=col, as_index=False)
        return mark_means(gpd.GeoDataFrame(shapes.merge(groups, on=col, how="right"), geometry=zones.geometry.name,
                                           crs=zones.crs), like=groups)
    return groups


def check_outputs(out_gpkg, od_parquet=None, tables_dir=None, table_formats: Sequence[str] = ("csv", "parquet"),
                  keep_od: bool | None = None) -> None:
    """Check output names and formats of :func:`write_result` before anything is computed.

    Parameters
    ----------
    out_gpkg : path-like
        Must end in ``.gpkg``.
    od_parquet : path-like, optional
        Must end in ``.parquet``/``.pq``, and Parquet must be writable here.
    tables_dir : path-like, optional
        With ``"parquet"`` in ``table_formats`` Parquet must be writable here.
    table_formats : sequence of {"csv", "parquet"}
        Table formats.
    keep_od : bool, optional
        False means the OD table will not be kept; then an OD output is an error.
    """
    if Path(out_gpkg).suffix.lower() != ".gpkg":
        raise InputError(f"output '{out_gpkg}' must be a GeoPackage (.gpkg). Rename it.")
    bad = [f for f in table_formats if f not in ("csv", "parquet")]
    if bad:
        raise InputError(f"unknown table format '{bad[0]}'. Use csv and/or parquet.")
    if od_parquet is not None:
        if keep_od is False:
            raise InputError("the OD matrix was not kept. Run with keep_od=True (CLI: --od FILE) to write it.")
        if Path(od_parquet).suffix.lower() not in (".parquet", ".pq"):
            raise InputError(f"OD output '{od_parquet}' must end in .parquet. Rename it.")
        require_parquet(f"the OD output '{od_parquet}'")
    if tables_dir is not None and "parquet" in table_formats:
        require_parquet("Parquet tables")


def manifest_path(out_gpkg) -> Path:
    """Where the run manifest of a centrality result goes: ``<out stem>.manifest.json`` beside it.

    Parameters
    ----------
    out_gpkg : path-like
        The result GeoPackage.

    Returns
    -------
    pathlib.Path
    """
    out = Path(out_gpkg)
    return out.with_name(f"{out.stem}.manifest.json")


def declare_outputs(outputs: OutputSet, out_gpkg, tables_dir=None, od_parquet=None) -> None:
    """Declare the files of :func:`write_result` in ``outputs`` (the tables folder is owned).

    Parameters
    ----------
    outputs : centrality.fileio.OutputSet
        The run's output set.
    out_gpkg : path-like
        The result GeoPackage.
    tables_dir : path-like, optional
        Folder of the tables (owned by the run: stale tables of an earlier run are removed).
    od_parquet : path-like, optional
        The OD matrix file.
    """
    outputs.declare(out_gpkg, "GeoPackage output")
    if tables_dir is not None:
        outputs.declare_folder(tables_dir, owned=True, what="tables folder")
    if od_parquet is not None:
        outputs.declare(od_parquet, "OD output")


def write_result(result: CentralityResult, out_gpkg: str | os.PathLike, tables_dir: str | os.PathLike | None = None,
                 od_parquet: str | os.PathLike | None = None, *, group_geometry=None, group_layer_name: str = GROUP_LAYER,
                 table_formats: Sequence[str] = ("csv", "parquet"), outputs: OutputSet | None = None) -> list[Path]:
    """Write the result, all files together (:class:`centrality.fileio.OutputSet`).

    Parameters
    ----------
    result : CentralityResult
        From :func:`run_centrality`.
    out_gpkg : path-like
        GeoPackage with the layers ``zones``, ``groups`` (or ``group_layer_name``; polygons if
        ``group_geometry`` is given or the zones are polygons, else a table),
        ``excluded_zones`` (table, when any) and ``run_summary``.
    tables_dir : path-like, optional
        Folder (owned by the run) for ``zones``, ``groups``, ``excluded_zones`` as CSV and/or
        Parquet (``table_formats``; no geometry) and ``summary.json``.
    od_parquet : path-like, optional
        The OD matrix (origin_id, dest_id, minutes); needs ``keep_od=True``.
    group_geometry : geopandas.GeoDataFrame, optional
        Polygons for the groups layer (see :func:`group_layer`).
    group_layer_name : str, default "groups"
        Name of the groups layer.
    table_formats : sequence of {"csv", "parquet"}, default both
        Formats of the tables.
    outputs : OutputSet, optional
        Stage into this set and leave the commit to the caller (who may add more files, e.g. a
        map). Without it a set is made and committed here.

    Returns
    -------
    list of pathlib.Path
        The files staged (with ``outputs``) or written (without it, the manifest included).
    """
    check_outputs(out_gpkg, od_parquet, tables_dir, table_formats, keep_od=result.od is not None)
    own = outputs is None
    if own:
        outputs = OutputSet(rests_on={"centrality": result.summary}, manifest=manifest_path(out_gpkg))
        declare_outputs(outputs, out_gpkg, tables_dir, od_parquet)
        outputs.check()
    layers = {"zones": result.zones}
    groups = group_layer(result, group_geometry)
    if groups is not None:
        layers[group_layer_name] = groups
    if len(result.excluded):
        layers[EXCLUDED_LAYER] = result.excluded
    layers["run_summary"] = _summary_frame(result.summary)
    staged = [outputs.write_gpkg(out_gpkg, layers)]
    if tables_dir is not None:
        folder = Path(tables_dir)
        tables = {"zones": pd.DataFrame(result.zones.drop(columns=result.zones.geometry.name))}
        if result.groups is not None:
            tables["groups"] = result.groups
        if len(result.excluded):
            tables[EXCLUDED_LAYER] = result.excluded
        for name, df in tables.items():
            for fmt in table_formats:
                staged.append(outputs.write_table(folder / f"{name}.{fmt}", df))
        staged.append(outputs.write_json(folder / "summary.json", result.summary))
    if od_parquet is not None:
        zone_ids = result.zones[result.id_col].to_numpy()
        staged.append(outputs.write_table(od_parquet, result.od.to_frame(zone_ids)))
    return outputs.commit() if own else staged


def od_engine_summary(od) -> dict:
    """Run-summary fields of the OD engine.

    Parameters
    ----------
    od : ODTable
        The run's OD table.

    Returns
    -------
    dict
        ``engine_used`` and, for "ch", ``ch_topology`` / ``ch_metric`` (memory, disk or
        computed), ``ch_preprocessing_s``, ``ch_cache_dir`` and ``ch_tie_origins`` (origins
        decided by Dijkstra at a tie with the cutoff).
    """
    extra = getattr(od, "extra", None) or {}
    out = {"engine_used": extra.get("engine", "dijkstra")}
    ch = extra.get("ch")
    if ch:
        pre = ch.get("preprocessing", {})
        out.update(ch_topology=pre.get("topology"), ch_metric=pre.get("metric"),
                   ch_preprocessing_s=ch.get("preprocessing_s"), ch_cache_dir=pre.get("cache_dir"),
                   ch_tie_origins=ch.get("ambiguous_origins"))
    return out


def engine_note(summary: dict) -> str:
    """The hierarchy part of the summary's time line.

    Parameters
    ----------
    summary : dict
        A run summary.

    Returns
    -------
    str
        ``"; hierarchy from the disk cache, 0.4 s"`` for a "ch" run, else "".
    """
    if summary.get("engine_used") != "ch":
        return ""
    src = summary.get("ch_metric")
    where = {"disk": "from the disk cache", "memory": "already in memory", "computed": "built"}.get(src, src)
    return f"; hierarchy {where}, {summary.get('ch_preprocessing_s', 0):.1f} s"


def print_summary(result: CentralityResult, file=None) -> None:
    """Print the run summary: zones used and excluded (with their population and jobs), reachable
    pairs, the index range, timings and the top groups.

    Parameters
    ----------
    result : CentralityResult
        The result to describe.
    file : file-like, optional
        Where to print (default stdout).
    """
    file = file or sys.stdout
    s = result.summary
    idx = result.zones["index"]
    lines = [f"zones: {s['n_zones']} used, {s['n_excluded']} excluded"
             + (f" (see layer {EXCLUDED_LAYER})" if s["n_excluded"] else "")]
    if s["n_excluded"]:
        lines.append(f"excluded zones hold {thousands(s['excluded_population'])} residents "
                     f"({100 * s['excluded_population_share']:.2f} % of the population) and "
                     f"{thousands(s['excluded_jobs'])} jobs ({100 * s['excluded_jobs_share']:.2f} %); their jobs are "
                     "in no zone's accessibility")
    lines += [
        f"reachable zone pairs within {s['cutoff_min']:g} min: {thousands(s['reachable_pairs'])}",
        f"index: min {idx.min():.0f}, mean {idx.mean():.0f}, max {idx.max():.0f} (transform {s['transform']}, "
        f"decay {s['decay']})",
        f"time: {s['seconds']:.1f} s ({s['od_seconds']:.1f} s travel times, {s['workers']} worker(s), "
        f"engine {s.get('engine_used', s.get('engine'))}{engine_note(s)})",
    ]
    if "index_full" in result.zones.columns:
        full = result.zones["index_full"]
        lines.append(f"full index (jobs {s['jobs_weight']:.3g}, services {s['services_weight']:.3g}; "
                     f"{s['service_types']} service types, {s['service_locations']} locations from "
                     f"{s['services_source']}): min {full.min():.0f}, mean {full.mean():.0f}, max {full.max():.0f}")
    if result.groups is not None:
        top = result.groups.sort_values("index", ascending=False).head(3)
        lines.append(f"{result.group_col}: {len(result.groups)} groups; highest: "
                     + ", ".join(f"{g} {v:.0f}" for g, v in zip(top[result.group_col], top["index"])))
    for line in lines:
        print(line, file=file)
