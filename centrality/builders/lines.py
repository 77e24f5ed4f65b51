"""Road network from a line layer (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, GeoParquet, ...).

Topology comes from the line **endpoints**: endpoints closer than ``snap_tolerance_m`` (metres,
transitively: a chain of close points becomes one node) are merged into one node placed at their
mean. Lines that cross without sharing an endpoint are *not* connected (bridges, tunnels) unless
``split_at_vertices=True``, which also splits lines at interior vertices they share (within the
tolerance) with another line.

Travel time per link, in order of precedence:
1. ``time_fw_field`` (+ optional ``time_bw_field``; same time both ways when absent), in
   ``time_unit`` "s" or "min"; a feature's time is shared out by length over its parts/pieces;
2. ``speed_field`` (km/h): length / speed;
3. ``maxspeed_field`` (OSM-style text or numbers, parsed with :func:`parse_maxspeed`);
4. ``class_field`` alone: the class speed table (``class_speeds`` merged over
   :data:`DEFAULT_SPEEDS_KMH`). With 2. or 3., ``class_field`` fills missing speeds.

Direction (``direction_field``): values are matched case-insensitively against
``direction_values`` (merged over :data:`DEFAULT_DIRECTION_VALUES`, which accepts OSM ``oneway``
style yes/true/1/-1/reverse/no/false/0 and ESRI FT/TF/B/N). Empty/NULL direction = both ways
(counted in ``report['direction_null_as_both']``); unknown values are an error.
"""
from __future__ import annotations

import logging
import os
from typing import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from centrality.builders import assemble_network, check_vector_path, ids_text
from centrality.builders.speeds import FERRY_SPEED_KMH, parse_maxspeed, resolve_speeds
from centrality.crs import to_metric
from centrality.errors import InputError, require_columns
from centrality.fileio import read_vector
from centrality.plausibility import DEFAULT as DEFAULT_LIMITS
from centrality.plausibility import Plausibility, check_speed_values

log = logging.getLogger(__name__)

DEFAULT_DIRECTION_VALUES: dict[str, list[str]] = {
    "forward": ["yes", "true", "1", "forward", "fw", "ft", "with", "+1"],
    "backward": ["-1", "reverse", "backward", "bw", "tf", "against"],
    "both": ["no", "false", "0", "both", "b", "2", "twoway", "two-way"],
    "none": ["n", "none", "closed"],
}
#: class values (lower case) that mark a ferry link (``kind="ferry"``; default speed FERRY_SPEED_KMH)
FERRY_CLASSES = ("ferry", "ferje", "bilferje", "ferjestrekning")
RESERVED = ("u", "v", "length_m", "time_fw_s", "time_bw_s", "kind", "source_id", "link_id")  # renamed src_<name>
WHAT = "road layer"


def network_from_lines(path_or_gdf, *, layer: str | None = None, time_fw_field: str | None = None,
                       time_bw_field: str | None = None, time_unit: str = "s", speed_field: str | None = None,
                       maxspeed_field: str | None = None, class_field: str | None = None,
                       class_speeds: Mapping[str, float] | str | os.PathLike | None = None,
                       direction_field: str | None = None, direction_values: Mapping[str, list] | None = None,
                       snap_tolerance_m: float = 1.0, split_at_vertices: bool = False, crs: str | None = None,
                       keep_largest: bool = True, id_field: str | None = None, allow_implausible_speeds: bool = False,
                       plausibility: Mapping | None = None):
    """Build a :class:`RoadNetwork` from lines; see the module docstring for the rules.

    Source attributes are kept on the links (``source_id`` = ``id_field`` value or input row
    number). Link ids are the ``id_field`` values when they are unique integers after exploding
    multi-part lines / splitting, else 0..n-1. Source columns named like engine columns (u, v,
    length_m, time_fw_s, time_bw_s, kind, source_id, link_id) are kept as ``src_<name>``.
    Speeds a speed/maxspeed field leaves empty and the class table fills are counted in
    ``report['speeds_from_class']`` and logged; a speed field empty in every feature is an error.

    Parameters
    ----------
    path_or_gdf : path-like or geopandas.GeoDataFrame
        The line layer (any vector format; not a folder).
    layer : str, optional
        Layer of a multi-layer file.
    time_fw_field, time_bw_field : str, optional
        Travel time along/against the line direction (``time_unit``); the backward time defaults to
        the forward one.
    time_unit : {"s", "min"}
        Unit of the time fields.
    speed_field : str, optional
        Speed, km/h.
    maxspeed_field : str, optional
        OSM-style maxspeed text or numbers (:func:`parse_maxspeed`).
    class_field : str, optional
        Road class (OSM highway values) for default speeds, km/h.
    class_speeds : mapping or path, optional
        Class speeds (km/h) merged over :data:`DEFAULT_SPEEDS_KMH`.
    direction_field : str, optional
        One-way field; values per :data:`DEFAULT_DIRECTION_VALUES`.
    direction_values : mapping, optional
        Own direction values, e.g. ``{"forward": ["H"], "backward": ["M"]}``.
    snap_tolerance_m : float
        Line ends closer than this (metres) become one node.
    split_at_vertices : bool
        Also connect lines at shared interior vertices.
    crs : str, optional
        Metric CRS to compute in (default EPSG:25833 in Norway / local UTM).
    keep_largest : bool
        Keep only the largest strongly connected component.
    id_field : str, optional
        Unique feature id field.
    allow_implausible_speeds : bool
        Accept speeds outside the plausible range of :mod:`centrality.plausibility` (recorded).
    plausibility : Plausibility or mapping, optional
        Thresholds replacing the defaults.

    Returns
    -------
    RoadNetwork
        Lengths in metres, times in seconds.
    """
    limits = Plausibility.from_value(plausibility, allow_implausible_speeds=allow_implausible_speeds or None)
    if time_unit not in ("s", "min"):
        raise InputError(f"time_unit must be 's' or 'min', got {time_unit!r}.")
    if class_speeds is not None and not class_field:
        raise InputError("class_speeds needs class_field (the road class field whose values the speeds refer to).")
    if direction_values and not direction_field:
        raise InputError("direction_values needs direction_field (the field holding the direction values).")
    if time_bw_field and not time_fw_field:
        raise InputError("time_bw_field needs time_fw_field too (the forward travel time field).")
    if snap_tolerance_m is None or not np.isfinite(snap_tolerance_m) or snap_tolerance_m < 0:
        raise InputError(f"snap_tolerance_m must be >= 0 metres, got {snap_tolerance_m!r}.")
    if not any((time_fw_field, speed_field, maxspeed_field, class_field)):
        raise InputError("no way to compute travel times: give a time field (time_fw_field), a speed field "
                         "(speed_field, km/h), a maxspeed field or a road class field (class_field) for default speeds.")
    check_vector_path(path_or_gdf, WHAT)
    gdf = read_vector(path_or_gdf, layer, what=WHAT)
    fields = [f for f in (id_field, time_fw_field, time_bw_field, speed_field, maxspeed_field, class_field,
                          direction_field) if f]
    require_columns(gdf.columns, fields, WHAT, "Give the exact field names (they are case-sensitive).")
    source_id = _source_ids(gdf, id_field)
    gdf = gdf.rename(columns={"source_id": "src_source_id"}).assign(source_id=source_id)
    _check_geometries(gdf)
    gdf = to_metric(gdf, crs, what=WHAT)
    n_input = len(gdf)
    gdf = gdf.explode(index_parts=False, ignore_index=True)
    report: dict = {"builder": "lines", "input_features": n_input, "parts": len(gdf)}
    if split_at_vertices:
        gdf = _split_at_shared_vertices(gdf, snap_tolerance_m)
        report["pieces_after_split"] = len(gdf)
    positive = shapely.length(gdf.geometry.values) > 0
    report["zero_length_dropped"] = int((~positive).sum())
    gdf = gdf.loc[positive].reset_index(drop=True)
    length = np.asarray(shapely.length(gdf.geometry.values), dtype=np.float64)

    speeds = resolve_speeds(class_speeds) if class_field else None
    if speeds is not None:
        check_speed_values(list(speeds.values()), list(speeds), limits=limits, source="speed", items="classes",
                           what="class speed table", fix="Give the class speeds in km/h.")
    if speeds is not None:
        speeds = {**{c: FERRY_SPEED_KMH for c in FERRY_CLASSES}, **speeds}
    is_ferry = _class_values(gdf, class_field).isin(FERRY_CLASSES).to_numpy() if class_field else None
    t_fw, t_bw = _link_times(gdf, length, time_fw_field, time_bw_field, time_unit, speed_field,
                             maxspeed_field, class_field, speeds, limits, is_ferry, report)
    fw_ok, bw_ok, n_null = _directions(gdf, direction_field, direction_values)
    report["direction_null_as_both"] = n_null
    t_fw = np.where(fw_ok, t_fw, np.nan)
    t_bw = np.where(bw_ok, t_bw, np.nan)
    _check_times(gdf["source_id"].to_numpy(), t_fw, t_bw)

    start = shapely.get_coordinates(shapely.get_point(gdf.geometry.values, 0))
    end = shapely.get_coordinates(shapely.get_point(gdf.geometry.values, -1))
    labels, node_xy = _snap_points(np.vstack([start, end]), snap_tolerance_m)
    u, v = labels[: len(gdf)], labels[len(gdf):]
    report["endpoints_merged"] = int(2 * len(gdf) - len(node_xy))
    loops = u == v
    report["self_loops_dropped"] = int(loops.sum())

    attrs = gdf.drop(columns=[gdf.geometry.name]).rename(columns={c: f"src_{c}" for c in RESERVED if c != "source_id"})
    kind = np.where(_class_values(gdf, class_field).isin(FERRY_CLASSES), "ferry", "road") if class_field else "road"
    links = gpd.GeoDataFrame(
        {"u": u, "v": v, "length_m": length, "time_fw_s": t_fw, "time_bw_s": t_bw, "kind": kind,
         **{c: attrs[c].to_numpy() for c in attrs.columns}},
        geometry=gdf.geometry.values, crs=gdf.crs)
    links.index = _link_ids(links["source_id"], id_field)
    links = links.loc[~loops]
    node_xy, links = _drop_unused_nodes(node_xy, links)
    return assemble_network(links, node_xy, gdf.crs.to_string(), report, keep_largest=keep_largest,
                            plausibility=limits)


# --------------------------------------------------------------------------- validation helpers
def _source_ids(gdf: gpd.GeoDataFrame, id_field: str | None) -> np.ndarray:
    if not id_field:
        return np.arange(len(gdf), dtype=np.int64)
    ids = gdf[id_field]
    if ids.isna().any():
        raise InputError(f"{WHAT} id field '{id_field}' is empty (NULL) in {int(ids.isna().sum())} features "
                         f"(rows {ids_text(np.flatnonzero(ids.isna()))}). Fill it or omit id_field to use row numbers.")
    dup = ids[ids.duplicated()].unique()
    if len(dup):
        raise InputError(f"{WHAT} id field '{id_field}' has duplicate values: {ids_text(dup)}. "
                         "Give a field with unique ids or omit id_field to use row numbers.")
    return ids.to_numpy()


def _check_geometries(gdf: gpd.GeoDataFrame) -> None:
    geoms = gdf.geometry.values
    ids = gdf["source_id"].to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        raise InputError(f"{WHAT} has {int(empty.sum())} features without geometry (ids {ids_text(ids[empty])}). "
                         "Delete them or fix their geometry.")
    types = shapely.get_type_id(geoms)
    non_line = ~np.isin(types, [1, 5])  # LineString, MultiLineString
    if non_line.any():
        found = sorted(set(gdf.geometry.geom_type[non_line]))
        raise InputError(f"{WHAT} must contain lines, but {int(non_line.sum())} features are {', '.join(found)} "
                         f"(ids {ids_text(ids[non_line])}). Give a (Multi)LineString road layer.")
    invalid = ~shapely.is_valid(geoms) | ~np.isfinite(shapely.length(geoms))
    if invalid.any():
        reasons = sorted(set(shapely.is_valid_reason(geoms[invalid])))
        raise InputError(f"{WHAT} has {int(invalid.sum())} invalid geometries (ids {ids_text(ids[invalid])}): "
                         f"{'; '.join(reasons[:3])}. Repair them (e.g. QGIS 'Fix geometries') or delete them.")


def _check_times(ids, t_fw, t_bw) -> None:
    """Allowed directions (non-NaN) must have a positive finite time (seconds)."""
    bad = np.zeros(len(ids), bool)
    for t in (t_fw, t_bw):
        bad |= ~np.isnan(t) & ~(np.isfinite(t) & (t > 0))
    if bad.any():
        raise InputError(f"{WHAT}: {int(bad.sum())} links get a zero, negative or infinite travel time "
                         f"(ids {ids_text(pd.unique(ids[bad]))}). Fix the times/speeds of those features.")


# --------------------------------------------------------------------------- travel times
def _numeric(gdf: gpd.GeoDataFrame, field: str, what: str) -> np.ndarray:
    values = pd.to_numeric(gdf[field], errors="coerce")
    text_bad = values.isna() & gdf[field].notna()
    if text_bad.any():
        raise InputError(f"{WHAT} {what} field '{field}' has non-numeric values "
                         f"({ids_text(gdf.loc[text_bad, field].unique())}) in features "
                         f"{ids_text(gdf.loc[text_bad, 'source_id'].unique())}. Give a numeric field.")
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def _class_values(gdf: gpd.GeoDataFrame, class_field: str) -> pd.Series:
    return gdf[class_field].astype("string").str.strip().str.lower()


def _class_speeds(gdf: gpd.GeoDataFrame, class_field: str, speeds: dict[str, float]) -> np.ndarray:
    """Default speed (km/h) per feature from its class; NaN for NULL or unknown classes."""
    table = {k.lower(): v for k, v in speeds.items()}
    return _class_values(gdf, class_field).map(table).to_numpy(dtype=np.float64, na_value=np.nan)


def _fill_from_class(speed: np.ndarray, gdf, class_field, speeds, source: str, report: dict | None = None
                     ) -> np.ndarray:
    """Fill NaN speeds from the class table; error naming the features when impossible.

    A speed/maxspeed field (``source``) that gives no usable speed in any feature is an error
    (class speeds must be chosen on purpose, by leaving the field out); partly filled fields are
    completed from the class table, counted in ``report['speeds_from_class']`` and logged.
    """
    missing = np.isnan(speed)
    if not missing.any():
        return speed
    ids = gdf["source_id"].to_numpy()
    if missing.all() and source.startswith(("speed field", "maxspeed field")):
        option = "--speed-field" if source.startswith("speed") else "--maxspeed-field"
        raise InputError(f"{WHAT}: {source} gives no usable speed in any of the {len(pd.unique(ids))} features "
                         f"(all empty/NULL "
                         f"or unreadable), so every speed would silently come from the road classes. Fill the field, "
                         f"or leave out {option} and give only --class-field to use the class speeds on purpose.")
    if not class_field:
        raise InputError(f"{WHAT}: {int(missing.sum())} features have no usable speed in {source} "
                         f"(ids {ids_text(ids[missing])}). Fill the field, or give a road class field "
                         "(class_field / --class-field) so default class speeds are used.")
    default = _class_speeds(gdf, class_field, speeds)
    still = missing & np.isnan(default)
    if still.any():
        classes = _class_values(gdf, class_field)[still]
        unknown = classes.fillna("<NULL>").value_counts()
        listing = ", ".join(f"{k!r} ({n})" for k, n in unknown.items())
        raise InputError(f"{WHAT}: {int(still.sum())} features (ids {ids_text(ids[still])}) have no speed and a road "
                         f"class without a default speed in '{class_field}': {listing}. Add these classes to "
                         f"class_speeds (km/h), e.g. {{'{unknown.index[0]}': 50}}; known classes: "
                         f"{', '.join(sorted(speeds))}.")
    if report is not None and source.startswith(("speed field", "maxspeed field")):
        n_missing, n_all = len(pd.unique(ids[missing])), len(pd.unique(ids))
        report["speeds_from_class"] = n_missing
        log.warning("%s: %s is empty or unusable in %d of %d features; their speeds come from the road class "
                    "table ('%s')", WHAT, source, n_missing, n_all, class_field)
    return np.where(missing, default, speed)


def _link_times(gdf, length, time_fw_field, time_bw_field, time_unit, speed_field, maxspeed_field,
                class_field, speeds, limits=None, is_ferry=None, report=None) -> tuple[np.ndarray, np.ndarray]:
    """Forward and backward travel time per link in seconds (before direction rules)."""
    ids = gdf["source_id"].to_numpy()
    if time_fw_field:
        scale = 60.0 if time_unit == "min" else 1.0
        share = length / pd.Series(length).groupby(gdf["source_id"].to_numpy()).transform("sum").to_numpy()
        t = []
        for field in (time_fw_field, time_bw_field or time_fw_field):
            raw = _numeric(gdf, field, "time")
            bad = np.isnan(raw) | (raw <= 0)
            if bad.any():
                kinds = f"{int(np.isnan(raw).sum())} NULL, {int((raw <= 0).sum())} zero/negative"
                raise InputError(f"{WHAT} time field '{field}' has invalid values ({kinds}) in features "
                                 f"{ids_text(pd.unique(ids[bad]))}. Travel times must be > 0 {time_unit}; fix them, "
                                 "or use speed_field / class_field instead.")
            t.append(raw * scale * share)
        return t[0], t[1]
    if speed_field:
        speed = _numeric(gdf, speed_field, "speed")
        bad = speed <= 0
        if bad.any():
            raise InputError(f"{WHAT} speed field '{speed_field}' has {int(bad.sum())} zero/negative speeds in features "
                             f"{ids_text(pd.unique(ids[bad]))}. Speeds must be > 0 km/h; fix them, or set them "
                             "empty and give class_field for default class speeds.")
        check_speed_values(speed, ids, ferry=is_ferry, limits=limits or DEFAULT_LIMITS,
                           source=f"speed field '{speed_field}' value", what=WHAT)
        speed = _fill_from_class(speed, gdf, class_field, speeds, f"speed field '{speed_field}'", report)
    elif maxspeed_field:
        speed = np.array([np.nan if s is None else s for s in map(parse_maxspeed, gdf[maxspeed_field].tolist())],
                         dtype=np.float64)
        check_speed_values(speed, ids, ferry=is_ferry, limits=limits or DEFAULT_LIMITS,
                           source=f"maxspeed field '{maxspeed_field}' value", what=WHAT)
        speed = _fill_from_class(speed, gdf, class_field, speeds, f"maxspeed field '{maxspeed_field}'", report)
    else:
        speed = _fill_from_class(np.full(len(gdf), np.nan), gdf, class_field, speeds, "(no speed field)")
    t = length / (speed / 3.6)
    return t, t.copy()


# --------------------------------------------------------------------------- directions
def _direction_lookup(direction_values: Mapping[str, list] | None) -> dict[str, str]:
    """value (lower case) -> 'forward' | 'backward' | 'both' | 'none'; user values win."""
    user = dict(direction_values or {})
    unknown_keys = set(user) - set(DEFAULT_DIRECTION_VALUES)
    if unknown_keys:
        raise InputError(f"direction_values has unknown keys {sorted(unknown_keys)}; use "
                         f"{sorted(DEFAULT_DIRECTION_VALUES)} (lists of field values).")
    lookup = {str(v).strip().lower(): k for k, vals in DEFAULT_DIRECTION_VALUES.items() for v in vals}
    for key, vals in user.items():
        for v in ([vals] if isinstance(vals, (str, int, float)) else vals):
            lookup[_norm_value(v)] = key
    return lookup


def _norm_value(value) -> str:
    if isinstance(value, (int, np.integer)) or (isinstance(value, (float, np.floating)) and float(value).is_integer()):
        return str(int(value))
    return str(value).strip().lower()


def _directions(gdf, direction_field, direction_values) -> tuple[np.ndarray, np.ndarray, int]:
    """Boolean arrays (forward allowed, backward allowed) and the number of NULL values."""
    n = len(gdf)
    lookup = _direction_lookup(direction_values)
    if not direction_field:
        return np.ones(n, bool), np.ones(n, bool), 0
    raw = gdf[direction_field]
    null = raw.isna().to_numpy() | (raw.astype("string").str.strip() == "").fillna(True).to_numpy()
    norm = pd.Series([None if is_null else _norm_value(x) for x, is_null in zip(raw.tolist(), null)], dtype=object)
    mode = norm.map(lookup)
    unknown = mode.isna().to_numpy() & ~null
    if unknown.any():
        counts = raw[unknown].astype(str).value_counts()
        raise InputError(f"{WHAT} direction field '{direction_field}' has unknown values "
                         f"{', '.join(f'{k!r} ({n})' for k, n in counts.items())}. Map them with direction_values, "
                         "e.g. {'forward': ['" + str(counts.index[0]) + "'], 'backward': [...], 'both': [...]}.")
    mode = mode.where(~null, "both").to_numpy()
    fw = np.isin(mode, ["forward", "both"])
    bw = np.isin(mode, ["backward", "both"])
    return fw, bw, int(null.sum())


# --------------------------------------------------------------------------- topology
def _snap_points(xy: np.ndarray, tolerance_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Merge points within ``tolerance_m`` (transitively). Returns (label per point, node_xy = mean)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    n = len(xy)
    pairs = cKDTree(xy).query_pairs(r=tolerance_m, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs), np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    n_nodes, labels = connected_components(graph, directed=False)
    counts = np.bincount(labels, minlength=n_nodes)
    node_xy = np.column_stack([np.bincount(labels, weights=xy[:, i], minlength=n_nodes) / counts for i in (0, 1)])
    return labels.astype(np.int64), node_xy


def _split_at_shared_vertices(gdf: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """Split lines at interior vertices that lie within ``tolerance_m`` of a vertex of another line
    (or of a non-adjacent vertex of the same line). Attributes are copied to every piece."""
    from scipy.spatial import cKDTree

    coords, line = shapely.get_coordinates(gdf.geometry.values, return_index=True)
    first = np.r_[True, line[1:] != line[:-1]]
    last = np.r_[line[1:] != line[:-1], True]
    pos = np.arange(len(coords)) - np.maximum.accumulate(np.where(first, np.arange(len(coords)), 0))
    pairs = cKDTree(coords).query_pairs(r=tolerance_m, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    shared = (line[i] != line[j]) | (np.abs(pos[i] - pos[j]) > 1)
    is_split = np.zeros(len(coords), bool)
    is_split[i[shared]] = True
    is_split[j[shared]] = True
    is_split &= ~first & ~last
    if not is_split.any():
        return gdf
    reps = np.where(is_split, 2, 1)
    vertex = np.repeat(np.arange(len(coords)), reps)
    second_copy = np.r_[False, vertex[1:] == vertex[:-1]]
    piece = np.cumsum(first[vertex] | second_copy) - 1
    geoms = shapely.linestrings(coords[vertex], indices=piece)
    piece_line = line[vertex][np.r_[True, piece[1:] != piece[:-1]]]
    out = gdf.iloc[piece_line].copy()
    out = out.set_geometry(gpd.GeoSeries(geoms, crs=gdf.crs, index=out.index))
    return out.reset_index(drop=True)


def _link_ids(source_id: pd.Series, id_field: str | None) -> pd.Index:
    if id_field and pd.api.types.is_integer_dtype(source_id.dtype) and source_id.is_unique:
        return pd.Index(source_id.to_numpy(dtype=np.int64), name="link_id")
    return pd.RangeIndex(len(source_id), name="link_id")


def _drop_unused_nodes(node_xy: np.ndarray, links: gpd.GeoDataFrame) -> tuple[np.ndarray, gpd.GeoDataFrame]:
    """Renumber nodes so only those used by a link remain (after removing self-loops)."""
    used = np.zeros(len(node_xy), bool)
    used[links["u"].to_numpy()] = True
    used[links["v"].to_numpy()] = True
    new_id = np.cumsum(used) - 1
    links = links.assign(u=new_id[links["u"].to_numpy()], v=new_id[links["v"].to_numpy()])
    return node_xy[used], links
