"""Deterministic national-scale synthetic road network and zones for benchmarks.

A long, narrow country (default 4000 x 250 nodes = 1,000,000 nodes, ~3.7 million directed edges)
on a jittered grid with 200 m spacing and a road hierarchy:
- local roads: 10–20 s per link (about 36–72 km/h), 6 % of them missing, 4 % one-way;
- regional roads every ``regional_every`` rows and columns: ~75 km/h;
- trunk roads (the E6-like spine) every ``trunk_every`` columns and rows: ~100 km/h.
Zones sit on random nodes with a few big cities (population and jobs concentrated around them).
Everything is vectorised numpy and builds in a few seconds.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from centrality.network import RoadNetwork

SPACING_M = 200.0
LOCAL_S = (10.0, 20.0)
REGIONAL_KMH = 75.0
TRUNK_KMH = 100.0


def _grid_links(n_rows: int, n_cols: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Horizontal and vertical neighbour links: (u, v, line index along which they run, is_horizontal)."""
    node = np.arange(n_rows * n_cols, dtype=np.int64).reshape(n_rows, n_cols)
    hu, hv = node[:, :-1].ravel(), node[:, 1:].ravel()
    vu, vv = node[:-1, :].ravel(), node[1:, :].ravel()
    h_line = np.repeat(np.arange(n_rows), n_cols - 1)  # row of each horizontal link
    v_line = np.tile(np.arange(n_cols), n_rows - 1)  # column of each vertical link
    u = np.concatenate([hu, vu])
    v = np.concatenate([hv, vv])
    line = np.concatenate([h_line, v_line])
    horizontal = np.concatenate([np.ones(len(hu), bool), np.zeros(len(vu), bool)])
    return u, v, line, horizontal


def _classes(codes: np.ndarray) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, ["local", "regional", "trunk"])


def national_network(n_rows: int = 4000, n_cols: int = 250, seed: int = 0, *, regional_every: int = 10,
                     trunk_every: int = 50, missing_share: float = 0.06, oneway_share: float = 0.04,
                     geometry: bool = True) -> RoadNetwork:
    """Road-like grid network (EPSG:25833 metres, times in seconds), deterministic for a seed.

    Parameters
    ----------
    n_rows, n_cols : int, default 4000, 250
        Grid size in nodes (rows run along the long axis; 200 m spacing).
    seed : int, default 0
        Seed of the random jitter, link times, missing and one-way links.
    regional_every : int, default 10
        Every this many rows and columns is a regional road (~75 km/h).
    trunk_every : int, default 50
        Every this many rows and columns (offset by half) is a trunk road (~100 km/h).
    missing_share : float, default 0.06
        Share (0-1) of local links left out.
    oneway_share : float, default 0.04
        Share (0-1) of local links that are one-way (random direction).
    geometry : bool, default True
        False skips the link LineStrings (saves ~1 s and ~300 MB for benchmarks): the links
        table then has empty geometries.

    Returns
    -------
    centrality.network.RoadNetwork
        Nodes in EPSG:25833 metres, link times in seconds, ``highway`` = local, regional or
        trunk.
    """
    rng = np.random.default_rng(seed)
    rows, cols = np.divmod(np.arange(n_rows * n_cols), n_cols)
    xy = np.column_stack([cols * SPACING_M, rows * SPACING_M]) + rng.uniform(-40, 40, (n_rows * n_cols, 2))
    xy += (200_000.0, 6_500_000.0)
    u, v, line, horizontal = _grid_links(n_rows, n_cols)
    length = np.hypot(*(xy[v] - xy[u]).T)
    # vertical lines are the long direction: trunk every `trunk_every` columns, plus cross links
    trunk = line % trunk_every == trunk_every // 2
    regional = ~trunk & (line % regional_every == 0)
    road_class = np.where(trunk, 2, np.where(regional, 1, 0)).astype(np.int8)
    t = rng.uniform(*LOCAL_S, len(u))
    jitter = rng.uniform(0.9, 1.1, len(u))
    t = np.where(regional, length / (REGIONAL_KMH / 3.6) * jitter, t)
    t = np.where(trunk, length / (TRUNK_KMH / 3.6) * jitter, t)
    local = ~(trunk | regional)
    keep = ~(local & (rng.random(len(u)) < missing_share))
    t_fw, t_bw = t.copy(), t.copy()
    oneway = local & (rng.random(len(u)) < oneway_share)
    flip = rng.random(len(u)) < 0.5
    t_fw[oneway & flip] = np.nan
    t_bw[oneway & ~flip] = np.nan
    if geometry:
        net = RoadNetwork.from_arrays(xy, u[keep], v[keep], t_fw[keep], t_bw[keep], length_m=length[keep],
                                      attrs={"highway": _classes(road_class[keep])},
                                      report={"generator": f"national_network({n_rows}, {n_cols}, seed={seed})"})
    else:
        links = gpd.GeoDataFrame(
            {"u": u[keep], "v": v[keep], "length_m": length[keep], "time_fw_s": t_fw[keep],
             "time_bw_s": t_bw[keep], "kind": "road", "highway": _classes(road_class[keep])},
            geometry=gpd.GeoSeries([None] * int(keep.sum()), crs="EPSG:25833"),
            index=pd.RangeIndex(int(keep.sum()), name="link_id"))
        net = RoadNetwork(node_xy=xy, links=links, crs="EPSG:25833",
                          report={"generator": f"national_network({n_rows}, {n_cols}, seed={seed})"})
    return net


@dataclass
class SyntheticZones:
    """Zones duck-typed like centrality.zones.Zones (ids, xy, population, jobs, node, access_s, snap_m)."""

    ids: np.ndarray
    xy: np.ndarray
    population: np.ndarray
    jobs: np.ndarray
    node: np.ndarray
    access_s: np.ndarray
    snap_m: np.ndarray
    excluded: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["id", "reason", "snap_m"]))

    def __len__(self) -> int:
        return len(self.ids)

    def to_gdf(self, crs: str = "EPSG:25833") -> gpd.GeoDataFrame:
        """The zones as points.

        Parameters
        ----------
        crs : str, default "EPSG:25833"
            CRS of ``xy`` (metres).

        Returns
        -------
        geopandas.GeoDataFrame
            Columns zone_id, population and jobs (persons) and the zone points.
        """
        return gpd.GeoDataFrame({"zone_id": self.ids, "population": self.population, "jobs": self.jobs},
                                geometry=gpd.points_from_xy(*self.xy.T), crs=crs)


def national_zones(network: RoadNetwork, n_zones: int = 10_000, seed: int = 0, n_cities: int = 6,
                   access_speed_kmh: float = 20.0) -> SyntheticZones:
    """Zones on distinct random nodes; population lognormal plus a few big cities (the first
    one the largest), jobs ~ 0.5 x population, more concentrated in cities.

    Parameters
    ----------
    network : centrality.network.RoadNetwork
        E.g. from :func:`national_network`.
    n_zones : int, default 10000
        Number of zones (at most the number of nodes).
    seed : int, default 0
        Seed of the node choice, cities, population, jobs and snapping distances.
    n_cities : int, default 6
        Number of big cities (population ~400,000 / (1 + k)**1.2 persons around city k).
    access_speed_kmh : float, default 20
        Speed in km/h from the zone point to its node (gives ``access_s``).

    Returns
    -------
    SyntheticZones
        Whole-number population and jobs (persons), snapping distances 0-1500 m and access
        times in seconds.
    """
    rng = np.random.default_rng(seed)
    n = network.n_nodes
    node = np.sort(rng.choice(n, size=min(n_zones, n), replace=False))
    node_xy = network.node_xy[node]
    lo, hi = network.node_xy.min(axis=0), network.node_xy.max(axis=0)
    cities = lo + rng.random((n_cities, 2)) * (hi - lo)
    city_size = 400_000.0 / (1.0 + np.arange(n_cities)) ** 1.2
    dist_km = np.hypot(*(node_xy[:, None, :] - cities[None, :, :]).transpose(2, 0, 1)) / 1000.0
    city_weight = np.exp(-dist_km / 4.0)  # 4 km scale of a city
    population = rng.lognormal(np.log(150), 0.8, len(node)) + city_weight @ city_size / 30.0
    job_ratio = 0.35 + 0.4 * city_weight.max(axis=1)
    jobs = np.round(population * job_ratio * rng.uniform(0.5, 1.5, len(node)))
    snap_m = rng.uniform(0, 1500, len(node))
    xy = node_xy + np.column_stack([snap_m, np.zeros(len(node))])
    return SyntheticZones(ids=np.arange(len(node)) + 1, xy=xy, population=np.round(population), jobs=jobs,
                          node=node.astype(np.int64), access_s=snap_m / (access_speed_kmh / 3.6), snap_m=snap_m)
