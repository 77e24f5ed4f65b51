"""Road network from an OpenStreetMap extract (``.osm.pbf``, also ``.osm`` XML, ``.o5m``) with pyosmium.

What is drivable (documented choices):
- ways with ``highway`` = a class of the speed table (:data:`DEFAULT_SPEEDS_KMH`: motorway ..
  residential, the ``*_link`` classes, unclassified, living_street, service, road; add e.g.
  ``track`` to ``speeds`` to include it);
- excluded: ``area=yes``; ``service`` = parking_aisle / driveway / drive-through / emergency_access;
  ways where the most specific of ``motorcar``, ``motor_vehicle``, ``vehicle``, ``access`` is
  no / private / agricultural / forestry / emergency (``destination``, ``delivery`` are allowed);
- ferries: ``route=ferry`` ways (same access rule), ``kind="ferry"``; time = ``duration`` tag
  ("HH:MM", "HH:MM:SS", "MM" minutes, ISO "PT1H") or length / ``ferry_speed_kmh``, **plus**
  ``ferry_wait_min`` boarding/waiting per crossing. A crossing split into several links shares
  its total time out by length.

Speeds: ``maxspeed`` (``maxspeed:forward``/``:backward`` per direction when present) parsed with
:func:`parse_maxspeed`; missing/unusable -> class default speed. Directions: ``oneway`` =
yes/true/1 (forward only), -1/reverse (backward only), no/false/0 and reversible/alternating
(both); without a ``oneway`` tag, ``highway=motorway`` and ``junction=roundabout|circular`` are
one-way (OSM rule). Ways are split into links at every node shared with another way (or visited
twice by the same way) and at way ends. Nodes missing from the extract (ways clipped at the
border) are skipped: the way keeps its runs of consecutive located nodes.

Lengths are metres in the metric CRS (``crs``, default EPSG:25833 in Norway / local UTM).
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from centrality.builders import assemble_network, ids_text
from centrality.builders.speeds import (
    DEFAULT_SPEEDS_KMH, FERRY_SPEED_KMH, FERRY_WAIT_MIN, parse_duration_s, parse_maxspeed, resolve_speeds,
)
from centrality.crs import choose_metric_crs, require_metric
from centrality.errors import InputError
from centrality.plausibility import DEFAULT as DEFAULT_LIMITS
from centrality.plausibility import Plausibility, check_speed_values

log = logging.getLogger(__name__)

__all__ = ["network_from_osm_pbf", "parse_maxspeed", "DEFAULT_SPEEDS_KMH"]

OSM_SUFFIXES = (".pbf", ".osm", ".o5m", ".opl", ".bz2", ".gz")
NO_ACCESS = frozenset({"no", "private", "agricultural", "forestry", "emergency"})
ACCESS_KEYS = ("motorcar", "motor_vehicle", "vehicle", "access")  # most specific first
EXCLUDED_SERVICE = frozenset({"parking_aisle", "driveway", "drive-through", "emergency_access"})
ONEWAY_FORWARD = frozenset({"yes", "true", "1"})
ONEWAY_BACKWARD = frozenset({"-1", "reverse"})
ONEWAY_BOTH = frozenset({"no", "false", "0", "reversible", "alternating"})
IMPLIED_ONEWAY_HIGHWAY = frozenset({"motorway"})
IMPLIED_ONEWAY_JUNCTION = frozenset({"roundabout", "circular"})
KEPT_TAGS = ("highway", "ref", "name", "maxspeed", "oneway", "junction", "duration")


@dataclass
class _Ways:
    """Located way runs collected from the file (one entry per run of located nodes)."""

    node_ids: list = field(default_factory=list)
    lonlat: list = field(default_factory=list)
    way: list = field(default_factory=list)     # index into attrs
    attrs: list = field(default_factory=list)   # one dict per OSM way
    clipped_ways: int = 0


def network_from_osm_pbf(path: str | os.PathLike, *, speeds: Mapping[str, float] | str | None = None,
                         ferry_speed_kmh: float = FERRY_SPEED_KMH, ferry_wait_min: float = FERRY_WAIT_MIN,
                         include_ferries: bool = True, crs: str | None = None, keep_largest: bool = True,
                         progress: Callable[[int, int], None] | None = None, allow_implausible_speeds: bool = False,
                         plausibility: Mapping | None = None):
    """Drivable :class:`RoadNetwork` from an OSM file; see the module docstring for the rules.

    Links carry ``osm_id``, the raw tags highway, ref, name, maxspeed, maxspeed_forward,
    maxspeed_backward, oneway, junction, duration, the speeds used ``speed_fw_kmh``/``speed_bw_kmh``
    (NaN for ferries) and kind. OSM tags are crowd-sourced: a ``maxspeed`` outside the car range or
    a ferry ``duration`` implying a speed outside the ferry range is treated like an unusable tag
    (class default / ferry speed), counted in ``report['implausible_maxspeed_tags']`` /
    ``report['implausible_duration_tags']`` and logged.

    Parameters
    ----------
    path : path-like
        ``.osm.pbf``, ``.osm`` or ``.o5m`` file.
    speeds : mapping or path, optional
        Class speeds in km/h merged over the defaults; its keys are also the drivable ``highway``
        classes. Outside the car range: InputError (unless ``allow_implausible_speeds``).
    ferry_speed_kmh : float
        Ferry speed where a route has no duration, km/h.
    ferry_wait_min : float
        Boarding/waiting time added per crossing, minutes.
    include_ferries : bool
        Include ``route=ferry`` ways.
    crs : str, optional
        Metric CRS (default EPSG:25833 in Norway / local UTM).
    keep_largest : bool
        Keep only the largest strongly connected component.
    progress : callable, optional
        ``progress(done, total)`` per stage.
    allow_implausible_speeds : bool
        Accept speeds outside the plausible range (recorded in the report).
    plausibility : Plausibility or mapping, optional
        Thresholds replacing the defaults.

    Returns
    -------
    RoadNetwork
    """
    path = _check_file(path)
    limits = Plausibility.from_value(plausibility, allow_implausible_speeds=allow_implausible_speeds or None)
    if not (ferry_speed_kmh and ferry_speed_kmh > 0) or ferry_wait_min is None or ferry_wait_min < 0:
        raise InputError(f"ferry_speed_kmh must be > 0 and ferry_wait_min >= 0 (got {ferry_speed_kmh}, "
                         f"{ferry_wait_min}).")
    table = resolve_speeds(speeds)
    check_speed_values(list(table.values()), list(table), limits=limits, source="speed", items="classes",
                       what="class speed table", fix="Give the class speeds in km/h.")
    check_speed_values([ferry_speed_kmh], ["ferry_speed_kmh"], ferry=[True], limits=limits, source="speed",
                       what="ferry speed option")
    ways = _read_ways(path, table, include_ferries)
    if progress:
        progress(1, 3)
    if not ways.node_ids:
        raise InputError(f"'{path}' contains no drivable roads (highway={', '.join(sorted(table))}"
                         f"{' or route=ferry' if include_ferries else ''} with located nodes). "
                         "Check that the extract covers a road network, or add classes to speeds.")
    lonlat = np.concatenate(ways.lonlat)
    target = _target_crs(lonlat, crs)
    xy = _project(lonlat, target)
    links, node_xy, report = _split_into_links(ways, xy, table, ferry_speed_kmh, ferry_wait_min, limits)
    if progress:
        progress(2, 3)
    links = gpd.GeoDataFrame(links, geometry="geometry", crs=target)
    report.update(builder="osm", source=str(path), ways=len(ways.attrs), clipped_ways=ways.clipped_ways)
    network = assemble_network(links, node_xy, target, report, keep_largest=keep_largest, plausibility=limits)
    if progress:
        progress(3, 3)
    return network


# --------------------------------------------------------------------------- reading
def _check_file(path) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputError(f"OSM file '{path}' does not exist. Check the path (download extracts from "
                         "e.g. download.geofabrik.de/europe/norway.html).")
    if not path.is_file() or not path.name.lower().endswith(OSM_SUFFIXES):
        raise InputError(f"'{path}' is not an OpenStreetMap file (.osm.pbf, .osm, .o5m). Give an OSM extract.")
    return path


def _tag(tags, key: str) -> str:
    value = tags.get(key)
    return value.strip().lower() if value else ""


def _car_allowed(tags) -> bool:
    for key in ACCESS_KEYS:
        value = _tag(tags, key)
        if value:
            return value not in NO_ACCESS
    return True


def _is_drivable(tags, table: Mapping[str, float], include_ferries: bool) -> str | None:
    """'road', 'ferry' or None for a way's tags."""
    if include_ferries and _tag(tags, "route") == "ferry":
        return "ferry" if _car_allowed(tags) else None
    highway = _tag(tags, "highway")
    if highway not in table or _tag(tags, "area") == "yes" or _tag(tags, "service") in EXCLUDED_SERVICE:
        return None
    return "road" if _car_allowed(tags) else None


def _read_ways(path: Path, table: Mapping[str, float], include_ferries: bool) -> _Ways:
    import osmium

    ways = _Ways()
    keys = ("highway", "route") if include_ferries else ("highway",)
    try:
        processor = (osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations()
                     .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
                     .with_filter(osmium.filter.KeyFilter(*keys)))
        for way in processor:
            kind = _is_drivable(way.tags, table, include_ferries)
            if kind is None:
                continue
            _add_way(ways, way, kind)
    except InputError:
        raise
    except Exception as exc:  # osmium raises RuntimeError for corrupt/unknown formats
        raise InputError(f"cannot read OSM file '{path}': {exc}. Check that it is a complete .osm.pbf/.osm "
                         "extract (re-download it if it was truncated).") from None
    return ways


def _add_way(ways: _Ways, way, kind: str) -> None:
    ids, lonlat, valid = [], [], []
    for nd in way.nodes:
        ids.append(nd.ref)
        ok = nd.location.valid()
        valid.append(ok)
        lonlat.append((nd.location.lon, nd.location.lat) if ok else (np.nan, np.nan))
    ids = np.asarray(ids, dtype=np.int64)
    lonlat = np.asarray(lonlat, dtype=np.float64).reshape(-1, 2)
    valid = np.asarray(valid, bool)
    if not valid.all():
        ways.clipped_ways += 1
    runs = np.split(np.arange(len(ids)), np.flatnonzero(np.diff(valid.astype(np.int8))) + 1)
    runs = [r for r in runs if len(r) >= 2 and valid[r[0]]]
    if not runs:
        return
    tags = way.tags
    attrs = {k: tags.get(k) for k in KEPT_TAGS}
    attrs.update(osm_id=way.id, kind=kind, maxspeed_fw=tags.get("maxspeed:forward"),
                 maxspeed_bw=tags.get("maxspeed:backward"), oneway_mode=_oneway(tags))
    ways.attrs.append(attrs)
    for run in runs:
        ways.node_ids.append(ids[run])
        ways.lonlat.append(lonlat[run])
        ways.way.append(len(ways.attrs) - 1)


def _oneway(tags) -> str:
    """'forward', 'backward' or 'both' from oneway/highway/junction tags."""
    value = _tag(tags, "oneway")
    if value in ONEWAY_FORWARD:
        return "forward"
    if value in ONEWAY_BACKWARD:
        return "backward"
    if value in ONEWAY_BOTH:
        return "both"
    if _tag(tags, "highway") in IMPLIED_ONEWAY_HIGHWAY or _tag(tags, "junction") in IMPLIED_ONEWAY_JUNCTION:
        return "forward"
    return "both"


# --------------------------------------------------------------------------- geometry
def _target_crs(lonlat: np.ndarray, crs: str | None) -> str:
    if crs is not None:
        require_metric(crs, what=f"target CRS {crs}")
        return str(crs)
    lo, hi = lonlat.min(axis=0), lonlat.max(axis=0)
    return choose_metric_crs((lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0)


def _project(lonlat: np.ndarray, crs: str) -> np.ndarray:
    transformer = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = transformer.transform(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack([x, y])


# --------------------------------------------------------------------------- links
def _split_into_links(ways: _Ways, xy: np.ndarray, table: Mapping[str, float], ferry_speed_kmh: float,
                      ferry_wait_min: float, limits: Plausibility = DEFAULT_LIMITS) -> tuple[dict, np.ndarray, dict]:
    """Cut way runs at shared nodes and ends; returns link columns, node_xy (metres) and a report."""
    lengths = np.fromiter((len(r) for r in ways.node_ids), dtype=np.int64, count=len(ways.node_ids))
    osm_node = np.concatenate(ways.node_ids)
    run = np.repeat(np.arange(len(lengths)), lengths)
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    first = np.zeros(len(osm_node), bool)
    first[starts] = True
    last = np.zeros(len(osm_node), bool)
    last[starts + lengths - 1] = True
    uniq, inverse, counts = np.unique(osm_node, return_inverse=True, return_counts=True)
    is_node = np.zeros(len(uniq), bool)
    is_node[inverse[(counts[inverse] > 1) | first | last]] = True
    split = is_node[inverse]
    # duplicate interior split vertices: the first copy ends a piece, the second starts the next
    vertex = np.repeat(np.arange(len(osm_node)), np.where(split & ~first & ~last, 2, 1))
    starts_piece = first[vertex] | np.r_[False, vertex[1:] == vertex[:-1]]
    piece = np.cumsum(starts_piece) - 1
    piece_first = np.flatnonzero(starts_piece)
    piece_last = np.r_[piece_first[1:] - 1, len(vertex) - 1]
    node_index = np.cumsum(is_node) - 1  # unique OSM node -> network node
    u = node_index[inverse[vertex[piece_first]]]
    v = node_index[inverse[vertex[piece_last]]]
    node_xy = np.zeros((int(is_node.sum()), 2))
    node_xy[node_index[inverse[split]]] = xy[split]
    geometry = shapely.linestrings(xy[vertex], indices=piece)
    length = shapely.length(geometry)
    way = np.asarray(ways.way)[run[vertex[piece_first]]]
    loops = u == v
    tag_report: dict = {}
    cols = _link_attributes(ways.attrs, way, length, table, ferry_speed_kmh, ferry_wait_min, limits, tag_report)
    cols.update(u=u, v=v, length_m=length, geometry=geometry)
    cols = {k: np.asarray(val)[~loops] if not np.isscalar(val) else val for k, val in cols.items()}
    used = np.zeros(len(node_xy), bool)
    used[cols["u"]] = True
    used[cols["v"]] = True
    renumber = np.cumsum(used) - 1
    cols["u"], cols["v"] = renumber[cols["u"]], renumber[cols["v"]]
    report = {"self_loops_dropped": int(loops.sum()), "ferry_links": int((cols["kind"] == "ferry").sum()), **tag_report}
    return cols, node_xy[used], report


def _plausible_tags(values: np.ndarray, lo: float, hi: float, osm_ids, name: str, report: dict,
                    limits: Plausibility) -> np.ndarray:
    """``values`` with those outside [lo, hi] set to NaN (counted in report, logged)."""
    with np.errstate(invalid="ignore"):
        bad = np.isfinite(values) & ((values < lo) | (values > hi))
    if limits.allow_implausible_speeds or not bad.any():
        return values
    key = f"implausible_{name}_tags"
    report[key] = report.get(key, 0) + int(bad.sum())
    log.warning("OSM: %d ways have a %s tag implying a speed outside %g–%g km/h (osm ids %s); it is ignored and the "
                "default is used", int(bad.sum()), name, lo, hi, ids_text(np.asarray(osm_ids)[bad]))
    return np.where(bad, np.nan, values)


def _link_attributes(attrs: list[dict], way: np.ndarray, length: np.ndarray, table: Mapping[str, float],
                     ferry_speed_kmh: float, ferry_wait_min: float, limits: Plausibility = DEFAULT_LIMITS,
                     report: dict | None = None) -> dict:
    """Per-link tags, speeds (km/h) and times (s; NaN = direction not allowed)."""
    report = {} if report is None else report
    per_way = pd.DataFrame(attrs)
    osm_ids = per_way["osm_id"].to_numpy()
    car_lo, car_hi = limits.car_speed_kmh
    highway = per_way["highway"].astype("string").str.strip().str.lower()
    default = highway.map(table).to_numpy(dtype=np.float64, na_value=np.nan)
    base = np.array([np.nan if s is None else s for s in map(parse_maxspeed, per_way["maxspeed"])], dtype=np.float64)
    base = _plausible_tags(base, car_lo, car_hi, osm_ids, "maxspeed", report, limits)
    base = np.where(np.isnan(base), default, base)
    speed = {}
    for direction in ("fw", "bw"):
        own = np.array([np.nan if s is None else s for s in map(parse_maxspeed, per_way[f"maxspeed_{direction}"])],
                       dtype=np.float64)
        own = _plausible_tags(own, car_lo, car_hi, osm_ids, "maxspeed", report, limits)
        speed[direction] = np.where(np.isnan(own), base, own)[way]
    kind = per_way["kind"].to_numpy()[way]
    mode = per_way["oneway_mode"].to_numpy()[way]
    t_road = {d: length / (speed[d] / 3.6) for d in ("fw", "bw")}
    # ferries: whole-crossing time (duration or length / ferry speed) + wait, shared out by length
    way_len = pd.Series(length).groupby(way).transform("sum").to_numpy()
    duration_way = np.array([np.nan if s is None else s for s in map(parse_duration_s, per_way["duration"])],
                            dtype=np.float64)
    way_total = pd.Series(length).groupby(way).sum().reindex(range(len(per_way))).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        tag_speed = way_total / duration_way * 3.6
    ok = ~np.isnan(_plausible_tags(tag_speed, *limits.ferry_speed_kmh, osm_ids, "duration", report, limits))
    duration = np.where(ok | np.isnan(tag_speed), duration_way, np.nan)[way]
    crossing = np.where(np.isnan(duration), way_len / (ferry_speed_kmh / 3.6), duration) + ferry_wait_min * 60.0
    t_ferry = crossing * length / way_len
    is_ferry = kind == "ferry"
    t_fw = np.where(is_ferry, t_ferry, t_road["fw"])
    t_bw = np.where(is_ferry, t_ferry, t_road["bw"])
    t_fw = np.where(np.isin(mode, ["forward", "both"]), t_fw, np.nan)
    t_bw = np.where(np.isin(mode, ["backward", "both"]), t_bw, np.nan)
    cols = {k: per_way[k].to_numpy()[way] for k in ("osm_id",) + KEPT_TAGS}
    cols.update({"maxspeed_forward": per_way["maxspeed_fw"].to_numpy()[way],
                 "maxspeed_backward": per_way["maxspeed_bw"].to_numpy()[way]})
    cols.update(kind=kind, time_fw_s=t_fw, time_bw_s=t_bw,
                speed_fw_kmh=np.where(is_ferry, np.nan, speed["fw"]),
                speed_bw_kmh=np.where(is_ferry, np.nan, speed["bw"]))
    return cols
