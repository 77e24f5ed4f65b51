"""Whole jobs behind ``regio network build`` and ``regio od`` (``regio centrality`` is
:func:`centrality.config.run_batch`): check the outputs, build, compute, write together.

Each job takes specs (what to read), checks its outputs against its inputs first
(:class:`centrality.fileio.OutputSet`), and returns what the command prints.
Units: minutes for travel times in tables, seconds inside the engine, metres.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from centrality.config import NetworkSpec, ZonesSpec, build_network
from centrality.fileio import OutputSet, require_parquet
from centrality.network import RoadNetwork
from centrality.paths import od_times
from centrality.pipeline import read_zones
from centrality.settings import CentralitySettings
from centrality.zones import Zones, load_zones, snap_zones, validate_zone_table


def network_layers(network: RoadNetwork) -> dict[str, gpd.GeoDataFrame]:
    """The network as GeoPackage layers.

    Parameters
    ----------
    network : RoadNetwork

    Returns
    -------
    dict
        ``links`` (one row per link with ``link_id``, u, v, length_m, time_fw_s, time_bw_s,
        kind and the source attributes) and ``nodes`` (``node_id``, point geometry), both in the
        network CRS (metres).
    """
    nodes = gpd.GeoDataFrame({"node_id": np.arange(network.n_nodes, dtype=np.int64)},
                             geometry=shapely.points(network.node_xy), crs=network.crs)
    return {"links": network.links.reset_index(), "nodes": nodes}


@dataclass
class NetworkOutcome:
    """A built network and the files written (none without an output)."""

    network: RoadNetwork
    written: list[Path] = field(default_factory=list)


def network_job(spec: NetworkSpec, out: str | Path | None = None,
                on_built: Callable[[RoadNetwork], None] | None = None) -> NetworkOutcome:
    """Build a network and (optionally) write its links and nodes.

    Parameters
    ----------
    spec : NetworkSpec
        What to build.
    out : path-like, optional
        GeoPackage for the layers of :func:`network_layers`.
    on_built : callable, optional
        Called with the network as soon as it is built (e.g. to print its report).

    Returns
    -------
    NetworkOutcome
    """
    with OutputSet(inputs=[spec.path], command="regio network build") as outputs:
        if out is not None:
            outputs.declare(out, "--out")
            outputs.check()
        network = build_network(spec)
        if on_built is not None:
            on_built(network)
        if out is None:
            return NetworkOutcome(network)
        outputs.rests_on["network"] = {"source": spec.describe(), **{k: str(v) for k, v in network.report.items()}}
        outputs.write_gpkg(out, network_layers(network))
        return NetworkOutcome(network, outputs.commit())


@dataclass
class OdOutcome:
    """The OD table written by :func:`od_job` and what it rests on."""

    table: pd.DataFrame          # origin_id, dest_id, minutes
    zones: Zones
    seconds: float               # travel-time search (s)
    written: list[Path] = field(default_factory=list)

    @property
    def exclusion(self) -> dict:
        """Excluded zones: count, population, jobs and their shares (:meth:`Zones.exclusion`)."""
        return self.zones.exclusion()


def od_job(network_spec: NetworkSpec, zones_spec: ZonesSpec, out: str | Path, *, cutoff_min: float | None = None,
           settings: CentralitySettings | None = None, include_self: bool = False,
           progress: Callable[[int, int], None] | None = None,
           on_built: Callable[[RoadNetwork], None] | None = None) -> OdOutcome:
    """Zone-to-zone door-to-door travel times within the cutoff, written as a long table.

    Parameters
    ----------
    network_spec, zones_spec : NetworkSpec, ZonesSpec
        What to read.
    out : path-like
        ``.parquet``/``.pq`` or ``.csv``: origin_id, dest_id, minutes.
    cutoff_min : float, optional
        Longest travel time, minutes (default ``settings.cutoff_min``).
    settings : CentralitySettings, optional
        Snapping (access speed, max snap distance, allowed excluded share) and workers.
    include_self : bool, default False
        Keep the pairs origin == destination (twice the access time).
    progress : callable, optional
        ``progress(done, total)`` of the travel-time search.
    on_built : callable, optional
        Called with the network when it is built.

    Returns
    -------
    OdOutcome
    """
    out = Path(out)
    if out.suffix.lower() != ".csv":
        require_parquet(f"--out '{out}'")
    settings = settings or CentralitySettings()
    cutoff = settings.cutoff_min if cutoff_min is None else float(cutoff_min)
    settings = settings.replace(cutoff_min=cutoff, limits_min=(cutoff,), decay=None)   # validates the cutoff
    with OutputSet(inputs=[network_spec.path, zones_spec.path, zones_spec.raster], command="regio od") as outputs:
        outputs.declare(out, "--out")
        outputs.check()
        zones_gdf = read_zones(zones_spec.path, layer=zones_spec.layer)
        cols = dict(id_col=zones_spec.id_field, pop_col=zones_spec.pop_field, jobs_col=zones_spec.jobs_field)
        validate_zone_table(zones_gdf, *cols.values())
        network = build_network(network_spec)
        if on_built is not None:
            on_built(network)
        points = load_zones(zones_gdf, **cols, raster=zones_spec.raster)
        zones = snap_zones(points, network, **cols, settings=settings)
        od = od_times(network, zones, cutoff_min=cutoff, workers=settings.workers, progress=progress)
        table = od.to_frame(zones)
        if not include_self:
            table = table[table["origin_id"] != table["dest_id"]]
        outputs.rests_on.update({"network": network_spec.describe(), **settings.summary(), **zones.exclusion()})
        outputs.write_table(out, table)
        return OdOutcome(table, zones, float(od.seconds), outputs.commit())


__all__ = ["network_layers", "network_job", "NetworkOutcome", "od_job", "OdOutcome"]
