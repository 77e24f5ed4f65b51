"""One call from a network and zones to jobs reachable, accessibility, index and classes.

:func:`run_centrality` is what the CLI, the scenario engine and the QGIS plugin call:

1. zones are validated and snapped to the network (:func:`centrality.zones.snap_zones`;
   zones too far from any road are *excluded and reported*, never dropped silently);
2. exact zone-to-zone car travel times within the cutoff (:func:`centrality.paths.od_times`);
3. jobs reachable within each time limit and decay-weighted accessibility
   (:func:`centrality.accessibility.accessibility`);
4. the 0–1000 index and SSB classes 1–6 (:mod:`centrality.index`), per zone and, with
   ``group_col``, per group (kommune) as population-weighted means.

Units: minutes in all user-facing columns (``*_min``), metres for ``snap_m``.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from centrality.errors import InputError, require_columns

GROUP_LAYER = "groups"


@dataclass
class CentralityResult:
    """Outcome of :func:`run_centrality`.

    ``zones``: one row per included zone: the zone id (column named like the input id column),
    the input attributes, ``population``, ``jobs``, ``jobs_<L>min`` per limit, ``access_decay``
    (decay-weighted jobs), ``index`` (0–1000), ``centrality_class`` (1–6), ``snap_m`` (metres
    from the zone point to its network node) and ``access_min`` (minutes for that stretch).
    ``groups``: per ``group_col`` value: population and jobs (sums), population-weighted
    ``jobs_<L>min``, ``access_decay`` and ``index``, and ``centrality_class`` of that index.
    ``od``: the OD table (with ``keep_od=True``). ``excluded``: zones not used and why.
    """

    zones: "object"
    groups: pd.DataFrame | None
    od: "object"
    excluded: pd.DataFrame
    summary: dict = field(default_factory=dict)
    id_col: str = "zone_id"
    group_col: str | None = None

    @property
    def limit_columns(self) -> list[str]:
        return [c for c in self.zones.columns if c.startswith("jobs_") and c.endswith("min")]


def read_zones(path_or_gdf, layer: str | None = None):
    """Zone layer (points or polygons) from any vector file; see :func:`centrality.fileio.read_vector`."""
    from centrality.builders import check_vector_path
    from centrality.fileio import read_vector

    check_vector_path(path_or_gdf, "zones layer")
    return read_vector(path_or_gdf, layer, what="zones layer")


def _snap(zones_gdf, network, *, id_col, pop_col, jobs_col, raster, access_speed_kmh, max_snap_m):
    """Zones snapped to ``network`` (:mod:`centrality.zones`); polygons become population-weighted
    centroids with ``raster``, else representative points."""
    from centrality.zones import load_zones, snap_zones

    points = load_zones(zones_gdf, id_col=id_col, pop_col=pop_col, jobs_col=jobs_col, raster=raster)
    return snap_zones(points, network, id_col=id_col, pop_col=pop_col, jobs_col=jobs_col,
                      access_speed_kmh=access_speed_kmh, max_snap_m=max_snap_m)


def _zone_table(zones, input_geometry, id_col: str, pop_col: str, jobs_col: str, acc: pd.DataFrame,
                index: np.ndarray, classes: np.ndarray):
    """Result zones GeoDataFrame in the Zones' order: the input attributes and geometry (polygons
    stay polygons, in the network CRS), ``point_x``/``point_y`` (the zone point used, metres)
    and the standard result columns."""
    import geopandas as gpd

    geometry = input_geometry.to_crs(zones.table.crs).loc[zones.table.index]
    table = zones.table.reset_index(drop=True)
    attrs = table.drop(columns=[table.geometry.name])
    attrs = attrs.drop(columns=[c for c in attrs.columns if c in (pop_col, jobs_col) or c in acc.columns
                                or c in ("population", "jobs", "index", "centrality_class", "snap_m", "access_min")])
    if id_col not in attrs.columns:
        attrs.insert(0, id_col, zones.ids)
    out = attrs.assign(population=np.asarray(zones.population, dtype=float),
                       jobs=np.asarray(zones.jobs, dtype=float))
    acc = acc.reset_index(drop=True)
    for col in acc.columns:
        out[col] = acc[col].to_numpy()
    out["index"] = np.asarray(index, dtype=float)
    out["centrality_class"] = np.asarray(classes, dtype=np.int64)
    out["point_x"] = np.asarray(zones.xy, dtype=float)[:, 0]
    out["point_y"] = np.asarray(zones.xy, dtype=float)[:, 1]
    out["snap_m"] = np.asarray(zones.snap_m, dtype=float)
    out["access_min"] = np.asarray(zones.access_s, dtype=float) / 60.0
    return gpd.GeoDataFrame(out, geometry=geometry.to_numpy(), crs=zones.table.crs)


def _check_options(zones_gdf, id_col, group_col, cutoff_min, limits_min, decay, transform, reference):
    """Validate the options against each other and the zone layer before anything is computed.
    Returns (sorted limits in minutes, Decay)."""
    import difflib

    from centrality.decay import parse_decay
    from centrality.index import centrality_index

    if group_col:
        require_columns(zones_gdf.columns, [group_col], "zones layer",
                        "Name an existing field for grouping (CLI: --group-field), e.g. the kommune code.")
        n_null = int(zones_gdf[group_col].isna().sum())
        if n_null:
            raise InputError(f"zones layer: {n_null} zones have no value in group field '{group_col}'. Fill it "
                             "(e.g. the kommune code) or run without a group field.")
        from centrality.plausibility import check_group_codes

        check_group_codes(zones_gdf[group_col], group_col)
    try:
        cutoff = float(cutoff_min)
        limits = tuple(sorted({float(x) for x in limits_min}))
    except (TypeError, ValueError):
        raise InputError(f"cutoff_min and limits_min must be minutes (numbers), got {cutoff_min!r} and "
                         f"{limits_min!r}.") from None
    if not (np.isfinite(cutoff) and cutoff > 0):
        raise InputError(f"cutoff_min must be a positive number of minutes, got {cutoff_min!r}. Use e.g. 90.")
    if not limits or limits[0] <= 0:
        raise InputError(f"limits_min must be positive minutes, got {list(limits_min)}. Use e.g. 30,45,60,90.")
    if limits[-1] > cutoff:
        raise InputError(f"the largest time limit ({limits[-1]:g} min) exceeds the cutoff ({cutoff:g} min); "
                         "travel times beyond the cutoff are not computed. Raise the cutoff or lower the limits.")
    decay = parse_decay(decay)
    if decay.cutoff_min > cutoff:
        raise InputError(f"the decay gives weight up to {decay.cutoff_min:g} min but the cutoff is {cutoff:g} min. "
                         "Raise the cutoff or give the decay a shorter cutoff (e.g. exp:45:0.1:60).")
    centrality_index(np.array([0.0, 1.0]), transform=transform)  # unknown transform -> InputError now
    if reference is not None and id_col in zones_gdf.columns:
        ids = zones_gdf[id_col].astype(str)
        if not ids.eq(str(reference)).any():
            close = difflib.get_close_matches(str(reference), ids.tolist(), n=1)
            raise InputError(f"reference zone '{reference}' is not in the zones layer's '{id_col}'"
                             + (f" (did you mean '{close[0]}'?)" if close else "")
                             + ". Give an existing zone id, or no reference to scale to the maximum.")
    return limits, decay


def _group_table(zone_table, group_col: str, limit_cols: Sequence[str]) -> pd.DataFrame:
    """Per group: population, jobs (sums); population-weighted accessibility and index; class."""
    from centrality.index import aggregate, ssb_class

    table = pd.DataFrame(zone_table.drop(columns=zone_table.geometry.name))
    groups = aggregate(table, by=group_col, value_cols=[*limit_cols, "access_decay", "index"],
                       weight="population", sum_cols=["jobs"])
    groups = groups.drop(columns="zero_weight").reset_index()
    groups.insert(1, "n_zones", table.groupby(group_col, sort=True).size().to_numpy())
    groups["centrality_class"] = np.asarray(ssb_class(groups["index"].to_numpy()), dtype=np.int64)
    return groups


def run_centrality(network, zones_gdf, *, id_col: str = "zone_id", pop_col: str = "population",
                   jobs_col: str = "jobs", raster=None, cutoff_min: float = 90.0,
                   limits_min: Sequence[float] = (30, 45, 60, 90), decay=None, transform: str = "log",
                   reference=None, reference_value: float | None = None, access_speed_kmh: float = 20.0,
                   max_snap_m: float = 5000.0, intra_zone_min="access", group_col: str | None = None, workers: int = 1, executor=None,
                   progress: Callable[[int, int], None] | None = None,
                   should_stop: Callable[[], bool] | None = None, keep_od: bool = False) -> CentralityResult:
    """Centrality of every zone (and group) on ``network``; see the module docstring.

    ``zones_gdf``: GeoDataFrame or file (points, or polygons) with ``id_col``, ``pop_col`` and
    ``jobs_col`` (persons, jobs); polygons are represented by their population-weighted centroid
    from ``raster`` (a population GeoTIFF) when given, else by a point inside them; the result
    keeps the input geometry. ``cutoff_min``/``limits_min`` in minutes; ``decay`` a
    :mod:`centrality.decay` object or spec string (default exponential, w(45 min) = 0.1);
    ``transform``/``reference`` as in :func:`centrality.index.centrality_index`;
    ``reference_value`` fixes A_ref (e.g. a base run's ``summary["reference_access"]``, so that a
    scenario's index is on the base run's scale); the zone-to-road
    stretch is driven at ``access_speed_kmh`` (zones farther than ``max_snap_m`` metres from any
    node are excluded and reported). ``progress(done, total)``/``should_stop()`` are passed to the
    travel-time search.
    """
    from centrality.accessibility import accessibility
    from centrality.index import centrality_index, ssb_class
    from centrality.paths import od_times

    t0 = time.perf_counter()
    zones_gdf = read_zones(zones_gdf).reset_index(drop=True)
    limits, decay = _check_options(zones_gdf, id_col, group_col, cutoff_min, limits_min, decay, transform, reference)
    zones = _snap(zones_gdf, network, id_col=id_col, pop_col=pop_col, jobs_col=jobs_col, raster=raster,
                  access_speed_kmh=access_speed_kmh, max_snap_m=max_snap_m)
    if len(zones.ids) == 0:
        raise InputError("no zone could be snapped to the network (all are farther than max_snap_m = "
                         f"{max_snap_m:g} m from a road, or have no population). Check that zones and roads "
                         "cover the same area and CRS, or raise max_snap_m.")
    od = od_times(network, zones, cutoff_min=cutoff_min, workers=workers, executor=executor, progress=progress,
                  should_stop=should_stop)
    acc = accessibility(od, zones, limits_min=limits, decay=decay, intra_zone_min=intra_zone_min)
    index = centrality_index(acc["access_decay"], transform=transform, reference=reference,
                             reference_value=reference_value)
    a_ref = _reference_access(acc["access_decay"], reference, reference_value)
    classes = ssb_class(index)
    table = _zone_table(zones, zones_gdf.geometry, id_col, pop_col, jobs_col, acc, index, classes)
    limit_cols = [c for c in acc.columns if c.startswith("jobs_")]
    groups = _group_table(table, group_col, limit_cols) if group_col else None
    excluded = zones.excluded.reset_index(drop=True)
    summary = {
        "n_zones": int(len(table)),
        "n_excluded": int(len(excluded)),
        "reachable_pairs": int(od.n_pairs),
        "seconds": round(time.perf_counter() - t0, 3),
        "od_seconds": round(float(od.seconds), 3),
        "cutoff_min": float(cutoff_min),
        "limits_min": list(limits),
        "decay": getattr(decay, "spec", repr(decay)),
        "transform": transform if isinstance(transform, str) else getattr(transform, "__name__", str(transform)),
        "reference": reference,
        "reference_access": a_ref,
        "workers": int(workers),
        "population": float(table["population"].sum()),
        "jobs": float(table["jobs"].sum()),
        "network_nodes": int(network.n_nodes),
        "network_links": int(network.n_links),
    }
    if group_col:
        summary["n_groups"] = int(len(groups))
    return CentralityResult(zones=table, groups=groups, od=od if keep_od else None, excluded=excluded,
                            summary=summary, id_col=id_col, group_col=group_col)


def check_run_options(zones_gdf, **options) -> None:
    """Check :func:`run_centrality` options (``id_col, group_col, cutoff_min, limits_min, decay,
    transform, reference``; missing ones take run_centrality's defaults) against a zone layer,
    without computing anything. The CLI and batch runs call this before building networks."""
    import inspect

    defaults = {k: p.default for k, p in inspect.signature(run_centrality).parameters.items()
                if p.default is not inspect.Parameter.empty}
    o = {**defaults, **{k: v for k, v in options.items() if v is not None or k in ("decay", "reference")}}
    _check_options(read_zones(zones_gdf), o["id_col"], o["group_col"], o["cutoff_min"], o["limits_min"], o["decay"],
                   o["transform"], o["reference"])


def _reference_access(access: pd.Series, reference, reference_value) -> float:
    """A_ref used for the index: the given value, the reference zone's value, or the maximum."""
    if reference_value is not None:
        return float(reference_value)
    if reference is not None:
        return float(access[access.index.astype(str) == str(reference)].iloc[0])
    return float(access.max())


# ----------------------------------------------------------------------------------- output
def _write_layers(path: Path, layers: dict) -> Path:
    """Write GeoDataFrames (spatial layers) and DataFrames (attribute tables) into one GPKG, atomically."""
    import geopandas as gpd
    import pyogrio

    from centrality.fileio import atomic_write

    with atomic_write(path) as tmp:
        for name, frame in layers.items():
            if isinstance(frame, gpd.GeoDataFrame):
                frame.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
            else:
                pyogrio.write_dataframe(pd.DataFrame(frame), tmp, layer=name, driver="GPKG")
    return path


def _summary_frame(summary: dict) -> pd.DataFrame:
    return pd.DataFrame({"key": list(summary), "value": [str(v) for v in summary.values()]})


def group_layer(result: CentralityResult, group_geometry=None):
    """Groups as a GeoDataFrame when polygons are available, else a plain table.

    ``group_geometry``: GeoDataFrame with a ``result.group_col`` column (e.g. kommune polygons);
    without it, polygon zones are dissolved per group; point zones give a plain table.
    """
    import geopandas as gpd

    groups, col = result.groups, result.group_col
    if groups is None:
        return None
    if group_geometry is not None:
        require_columns(group_geometry.columns, [col], "group geometry layer",
                        f"It must have the group column '{col}' to join on.")
        shapes = group_geometry[[col, group_geometry.geometry.name]].drop_duplicates(col)
        shapes = shapes.to_crs(result.zones.crs) if result.zones.crs is not None else shapes
        joined = shapes.merge(groups, on=col, how="right")
        return gpd.GeoDataFrame(joined, geometry=shapes.geometry.name, crs=shapes.crs)
    zones = result.zones
    if zones.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        shapes = zones[[col, zones.geometry.name]].dissolve(by=col, as_index=False)
        return gpd.GeoDataFrame(shapes.merge(groups, on=col, how="right"), geometry=zones.geometry.name,
                                crs=zones.crs)
    return groups


def require_parquet(what: str) -> None:
    """InputError (not an ImportError traceback) when Parquet cannot be written here."""
    try:
        import pyarrow  # noqa: F401
    except Exception as exc:  # ImportError, or pyarrow refusing this numpy version
        raise InputError(f"{what} needs pyarrow, which cannot be loaded here ({exc}). Write CSV instead, or install "
                         "a pyarrow that matches numpy (pyarrow<26 with numpy<2).") from None


def write_result(result: CentralityResult, out_gpkg: str | os.PathLike, tables_dir: str | os.PathLike | None = None,
                 od_parquet: str | os.PathLike | None = None, *, group_geometry=None, group_layer_name: str = GROUP_LAYER,
                 table_formats: Sequence[str] = ("csv", "parquet")) -> list[Path]:
    """Write the result (every file atomically); returns the written paths.

    - ``out_gpkg``: layers ``zones``, ``groups`` (or ``group_layer_name``; polygons if ``group_geometry`` is given or the
      zones are polygons, else a table), ``excluded_zones`` (table, when any) and ``run_summary``;
    - ``tables_dir``: ``zones``, ``groups``, ``excluded_zones`` as CSV and/or Parquet
      (``table_formats``; no geometry)
      and ``summary.json``;
    - ``od_parquet``: the OD matrix (origin_id, dest_id, minutes); needs ``keep_od=True``.
    """
    import json

    from centrality.fileio import atomic_write, write_table

    out_gpkg = Path(out_gpkg)
    if out_gpkg.suffix.lower() != ".gpkg":
        raise InputError(f"output '{out_gpkg}' must be a GeoPackage (.gpkg). Rename it.")
    if od_parquet is not None:
        if result.od is None:
            raise InputError("the OD matrix was not kept. Run with keep_od=True (CLI: --od FILE) to write it.")
        if Path(od_parquet).suffix.lower() not in (".parquet", ".pq"):
            raise InputError(f"OD output '{od_parquet}' must end in .parquet. Rename it.")
    bad = [f for f in table_formats if f not in ("csv", "parquet")]
    if bad:
        raise InputError(f"unknown table format '{bad[0]}'. Use csv and/or parquet.")
    if od_parquet is not None:
        require_parquet(f"the OD output '{od_parquet}'")
    if tables_dir is not None and "parquet" in table_formats:
        require_parquet("Parquet tables")
    layers = {"zones": result.zones}
    groups = group_layer(result, group_geometry)
    if groups is not None:
        layers[group_layer_name] = groups
    if len(result.excluded):
        layers["excluded_zones"] = result.excluded
    layers["run_summary"] = _summary_frame(result.summary)
    written = [_write_layers(out_gpkg, layers)]
    if tables_dir is not None:
        folder = Path(tables_dir)
        tables = {"zones": pd.DataFrame(result.zones.drop(columns=result.zones.geometry.name))}
        if result.groups is not None:
            tables["groups"] = result.groups
        if len(result.excluded):
            tables["excluded_zones"] = result.excluded
        for name, df in tables.items():
            for fmt in table_formats:
                written.append(write_table(df, folder / f"{name}.{fmt}"))
        with atomic_write(folder / "summary.json") as tmp:
            tmp.write_text(json.dumps(result.summary, indent=2, default=str), encoding="utf-8")
        written.append(folder / "summary.json")
    if od_parquet is not None:
        written.append(result.od.to_parquet(od_parquet, zone_ids=result.zones[result.id_col].to_numpy()))
    return written


def print_summary(result: CentralityResult, file=None) -> None:
    """Print the run summary (zones, excluded, reachable pairs, seconds) and the index range."""
    import sys

    file = file or sys.stdout
    s = result.summary
    idx = result.zones["index"]
    lines = [
        f"zones: {s['n_zones']} used, {s['n_excluded']} excluded"
        + (f" (see layer excluded_zones)" if s["n_excluded"] else ""),
        f"reachable zone pairs within {s['cutoff_min']:g} min: {s['reachable_pairs']:,}".replace(",", " "),
        f"index: min {idx.min():.0f}, mean {idx.mean():.0f}, max {idx.max():.0f} (transform {s['transform']}, "
        f"decay {s['decay']})",
        f"time: {s['seconds']:.1f} s ({s['od_seconds']:.1f} s travel times, {s['workers']} worker(s))",
    ]
    if result.groups is not None:
        top = result.groups.sort_values("index", ascending=False).head(3)
        lines.append(f"{result.group_col}: {len(result.groups)} groups; highest: "
                     + ", ".join(f"{g} {v:.0f}" for g, v in zip(top[result.group_col], top["index"])))
    for line in lines:
        print(line, file=file)
