"""Builders: the ways road data gets into the engine as a :class:`centrality.network.RoadNetwork`.

- :func:`centrality.builders.lines.network_from_lines` – any line layer (GPKG, SHP, GeoJSON, ...)
- :func:`centrality.builders.osm.network_from_osm_pbf` – an OpenStreetMap ``.osm.pbf`` extract
- :func:`centrality.builders.osmnx_graph.network_from_osmnx` – an osmnx MultiDiGraph

All of them end in :func:`assemble_network`, which drops links with no allowed direction, keeps
the largest strongly connected component (by default) and records everything dropped in
``network.report``.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from centrality.errors import InputError
from centrality.network import RoadNetwork, largest_scc
from centrality.plausibility import Plausibility, check_link_speeds

log = logging.getLogger(__name__)

__all__ = ["assemble_network", "check_vector_path", "ids_text"]

#: file endings of vector formats, used to list candidates when a folder is given as a layer file
VECTOR_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".fgb", ".parquet", ".geoparquet", ".gml", ".kml",
                   ".sqlite", ".osm.pbf", ".pbf")

_MAX_LISTED = 5
_MAX_SAMPLE = 20  # link ids listed in report['scc_dropped_link_ids_sample']


def ids_text(ids, limit: int = _MAX_LISTED) -> str:
    """'a, b, c, ... (n in all)' for error messages.

    Parameters
    ----------
    ids : iterable
        Ids to list.
    limit : int
        How many to show.

    Returns
    -------
    str
    """
    ids = list(ids)
    shown = ", ".join(str(i) for i in ids[:limit])
    return shown + (f", ... ({len(ids)} in all)" if len(ids) > limit else "")


def check_vector_path(path_or_layer, what: str = "layer") -> None:
    """InputError when a path given for a vector layer is a folder that GDAL would not read as one.

    An Esri File Geodatabase (``*.gdb``) and a folder of Shapefiles are data sources and pass;
    any other folder is refused with the vector files found in it as suggestions. Objects that are
    not paths (GeoDataFrames) pass unchanged.

    Parameters
    ----------
    path_or_layer : path-like or object
        The layer argument.
    what : str
        The layer, for the message.
    """
    if not isinstance(path_or_layer, (str, os.PathLike)):
        return
    path = Path(path_or_layer)
    if not path.is_dir() or path.suffix.lower() == ".gdb" or any(path.glob("*.shp")):
        return
    found = sorted(p.name for p in path.iterdir() if p.is_file() and p.name.lower().endswith(VECTOR_SUFFIXES)
                   and not p.name.endswith("manifest.json"))
    hint = (f" It contains {ids_text(found)}: give one of them, e.g. {path / found[0]}." if found
            else " It contains no vector file (.gpkg, .shp, .geojson, .fgb, .parquet).")
    raise InputError(f"{what} '{path}' is a folder, not a file.{hint}")


def assemble_network(links, node_xy: np.ndarray, crs: str, report: dict, keep_largest: bool = True,
                     plausibility=None):
    """Finish a builder: RoadNetwork from a links table and node coordinates.

    Links with neither direction allowed are dropped (``report['closed_links_dropped']``); the
    speeds implied by the travel times are checked (:func:`centrality.plausibility.check_link_speeds`;
    summary in ``report['speed_check']``); with ``keep_largest`` only the largest strongly connected
    component is kept (``report['scc_*']``). The links index becomes ``link_id`` (int64).

    Parameters
    ----------
    links : geopandas.GeoDataFrame
        Columns u, v, length_m (metres), time_fw_s, time_bw_s (seconds, NaN = not allowed), kind,
        geometry; any index.
    node_xy : numpy.ndarray
        (n_nodes, 2) node coordinates, metres.
    crs : str
        The metric CRS.
    report : dict
        What the builder kept and dropped so far.
    keep_largest : bool, default True
        Keep only the largest strongly connected component.
    plausibility : Plausibility or mapping, optional
        Thresholds of the speed check (default :data:`centrality.plausibility.DEFAULT`).

    Returns
    -------
    RoadNetwork
    """
    closed = links["time_fw_s"].isna().to_numpy() & links["time_bw_s"].isna().to_numpy()
    report = dict(report)
    report["closed_links_dropped"] = int(closed.sum())
    links = links.loc[~closed]
    if len(links) == 0:
        raise InputError("no link allows travel in any direction. Check the direction field/values "
                         "(e.g. pass direction_values) and the input layer.")
    links.index = links.index.astype(np.int64)
    links.index.name = "link_id"
    report["speed_check"] = check_link_speeds(links, limits=Plausibility.from_value(plausibility))
    network = RoadNetwork(node_xy=node_xy, links=links, crs=str(crs), report=report)
    if keep_largest:
        before = network.links.index
        network = largest_scc(network)
        dropped = before.difference(network.links.index)
        network.report["scc_dropped_link_ids_sample"] = [int(i) for i in dropped[:_MAX_SAMPLE]]
        if network.report.get("scc_dropped_nodes"):
            log.warning("kept the largest strongly connected component: dropped %d of %d nodes and %d links "
                        "(islands / one-way dead ends)", network.report["scc_dropped_nodes"],
                        network.report["scc_dropped_nodes"] + network.report["scc_kept_nodes"],
                        network.report["scc_dropped_links"])
    network.report.update(nodes=network.n_nodes, links=network.n_links)
    return network
