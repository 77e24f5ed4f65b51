"""Road network from an osmnx ``MultiDiGraph`` and an optional online download via osmnx.

:func:`network_from_osmnx` reads the graph with networkx only (``import osmnx`` pulls in
matplotlib, which the headless core avoids). Every directed osmnx edge becomes one link with
only its forward direction allowed (``time_bw_s`` = NaN): osmnx already stores a two-way street
as two edges. Travel time per edge, in order: ``travel_time`` (s, e.g. from
``ox.add_edge_travel_times``), ``speed_kph``, parsed ``maxspeed``, the class default speed of
``highway`` (the first listed class with a default when osmnx merged several). Length: the
edge's ``length`` (metres, osmnx great-circle) or else the geometry length in the metric CRS.
"""
from __future__ import annotations

from typing import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from centrality.builders import assemble_network
from centrality.builders.speeds import parse_maxspeed, resolve_speeds
from centrality.crs import to_metric
from centrality.errors import InputError
from centrality.plausibility import Plausibility

KEPT_ATTRS = ("osmid", "highway", "name", "ref", "maxspeed", "oneway", "lanes", "speed_kph", "travel_time")


def network_from_osmnx(G, *, speeds: Mapping[str, float] | str | None = None, crs: str | None = None,
                       keep_largest: bool = True, allow_implausible_speeds: bool = False,
                       plausibility: Mapping | None = None):
    """:class:`RoadNetwork` from an osmnx MultiDiGraph (projected or unprojected; ``G.graph['crs']``).

    Parameters
    ----------
    G : networkx.MultiDiGraph
        An osmnx graph.
    speeds : mapping or path, optional
        Class speeds (km/h) merged over the defaults, used where an edge has neither
        ``travel_time``, ``speed_kph`` nor a usable ``maxspeed``.
    crs : str, optional
        Output CRS; else the graph's CRS when metric, else EPSG:25833 in Norway / local UTM.
    keep_largest : bool
        Keep only the largest strongly connected component.
    allow_implausible_speeds : bool
        Accept speeds outside the plausible range of :mod:`centrality.plausibility` (recorded).
    plausibility : Plausibility or mapping, optional
        Thresholds replacing the defaults.

    Returns
    -------
    RoadNetwork
    """
    limits = Plausibility.from_value(plausibility, allow_implausible_speeds=allow_implausible_speeds or None)
    import networkx as nx

    if not isinstance(G, nx.MultiDiGraph):
        raise InputError(f"expected an osmnx MultiDiGraph, got {type(G).__name__}. Use ox.graph_from_place(...) "
                         "or ox.load_graphml(path).")
    if G.number_of_edges() == 0:
        raise InputError("the osmnx graph has no edges. Download a larger area or another network_type.")
    graph_crs = G.graph.get("crs")
    if graph_crs is None:
        raise InputError("the osmnx graph has no 'crs' in G.graph. Set G.graph['crs'] = 'EPSG:4326' (unprojected "
                         "osmnx graphs) or the projected CRS.")
    node_ids = np.array(list(G.nodes))
    try:
        xy = np.array([(G.nodes[n]["x"], G.nodes[n]["y"]) for n in node_ids], dtype=np.float64)
    except KeyError:
        raise InputError("osmnx graph nodes need 'x' and 'y' attributes (coordinates). Use a graph made by osmnx.") from None
    nodes = gpd.GeoDataFrame({"osm_node": node_ids}, geometry=shapely.points(xy), crs=graph_crs)
    nodes = to_metric(nodes, crs, what="osmnx graph")
    node_xy = shapely.get_coordinates(nodes.geometry.values)
    position = pd.Series(np.arange(len(node_ids)), index=node_ids)

    rows = list(G.edges(keys=True, data=True))
    data = pd.DataFrame([d for _, _, _, d in rows])
    u = position.loc[[r[0] for r in rows]].to_numpy()
    v = position.loc[[r[1] for r in rows]].to_numpy()
    geometry = _edge_geometries(data, xy, u, v, graph_crs, nodes.crs)
    length = _column(data, "length")
    length = np.where(np.isfinite(length) & (length >= 0), length, shapely.length(geometry))
    time_s = _edge_times(data, length, resolve_speeds(speeds))
    links = gpd.GeoDataFrame({"u": u, "v": v, "length_m": length, "time_fw_s": time_s,
                              "time_bw_s": np.full(len(rows), np.nan),
                              "kind": np.where(_text(data, "route") == "ferry", "ferry", "road"),
                              **{k: _text(data, k) for k in KEPT_ATTRS if k in data and k not in
                                 ("speed_kph", "travel_time")},
                              "osm_key": [r[2] for r in rows]},
                             geometry=geometry, crs=nodes.crs)
    report = {"builder": "osmnx", "graph_nodes": len(node_ids), "graph_edges": len(rows)}
    return assemble_network(links, node_xy, nodes.crs.to_string(), report, keep_largest=keep_largest,
                            plausibility=limits)


def _column(data: pd.DataFrame, name: str) -> np.ndarray:
    if name not in data:
        return np.full(len(data), np.nan)
    return pd.to_numeric(data[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _text(data: pd.DataFrame, name: str) -> np.ndarray:
    """Attribute as text; osmnx lists (merged edges) become ';'-joined strings."""
    if name not in data:
        return np.full(len(data), None, dtype=object)
    return np.array([";".join(map(str, x)) if isinstance(x, list) else (None if x is None or x != x else str(x))
                     for x in data[name]], dtype=object)


def _edge_geometries(data, xy, u, v, graph_crs, target_crs) -> np.ndarray:
    straight = shapely.linestrings(np.stack([xy[u], xy[v]], axis=1))
    if "geometry" in data:
        given = np.array([g if isinstance(g, shapely.LineString) else None for g in data["geometry"]], dtype=object)
        straight = np.where(pd.isna(given), straight, given)
    return gpd.GeoSeries(straight, crs=graph_crs).to_crs(target_crs).values


def _class_speed(highway, table: Mapping[str, float]) -> float:
    for cls in highway if isinstance(highway, list) else [highway]:
        if isinstance(cls, str) and cls in table:
            return table[cls]
    return np.nan


def _maxspeed(value) -> float:
    values = value if isinstance(value, list) else [value]
    parsed = [s for s in map(parse_maxspeed, values) if s is not None]
    return min(parsed) if parsed else np.nan


def _edge_times(data: pd.DataFrame, length: np.ndarray, table: Mapping[str, float]) -> np.ndarray:
    """Seconds per edge: travel_time, else length / (speed_kph | maxspeed | class default)."""
    time_s = _column(data, "travel_time")
    speed = _column(data, "speed_kph")
    if "maxspeed" in data:
        speed = np.where(np.isnan(speed), [_maxspeed(x) for x in data["maxspeed"]], speed)
    if "highway" in data:
        speed = np.where(np.isnan(speed), [_class_speed(x, table) for x in data["highway"]], speed)
    speed = np.where(speed > 0, speed, np.nan)
    time_s = np.where(np.isfinite(time_s) & (time_s >= 0), time_s, length / (speed / 3.6))
    missing = ~np.isfinite(time_s)
    if missing.any():
        classes = sorted({str(x) for x in (data["highway"][missing] if "highway" in data else ["<none>"])})
        raise InputError(f"{int(missing.sum())} osmnx edges have no travel_time, speed_kph, maxspeed or known "
                         f"highway class (classes: {', '.join(classes[:10])}). Add speeds for these classes "
                         "(speeds={'class': km/h}) or run ox.add_edge_speeds / ox.add_edge_travel_times first.")
    return time_s


def download_osmnx(place: str, network_type: str = "drive"):
    """Download a drivable graph with osmnx (needs internet).

    Parameters
    ----------
    place : str
        A place name osmnx can geocode, e.g. "Levanger, Norway".
    network_type : str
        osmnx network type.

    Returns
    -------
    networkx.MultiDiGraph
        InputError instead when offline, when the place is not found, or without osmnx.
    """
    try:
        import osmnx as ox
    except ImportError:
        raise InputError("downloading OSM data needs the optional package osmnx (pip install osmnx), or give a "
                         "local .osm.pbf file instead.") from None
    import requests

    try:
        return ox.graph_from_place(place, network_type=network_type)
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise InputError(f"could not download the road network for {place!r}: no connection to the OSM servers "
                         f"({type(exc).__name__}). Work offline with a local extract (.osm.pbf from "
                         "download.geofabrik.de) and network_from_osm_pbf / --osm.") from None
    except requests.exceptions.RequestException as exc:
        raise InputError(f"could not download the road network for {place!r}: {exc}. Try again later or use a "
                         "local .osm.pbf extract.") from None
    except (ox._errors.InsufficientResponseError, ox._errors.ResponseStatusCodeError, TypeError, ValueError) as exc:
        raise InputError(f"osmnx could not get a {network_type!r} network for {place!r}: {exc}. Check the place "
                         "name (e.g. 'Levanger, Norway') or use a local .osm.pbf extract.") from None
