"""Small hand-made networks for the scenario tests (imported by tests/test_scenario_*.py)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from centrality.network import RoadNetwork

X0, Y0 = 500_000.0, 7_000_000.0   # EPSG:25833 coordinates near Trondheim
STEP = 1_000.0                    # metres between grid nodes


def grid_network(nx: int = 4, ny: int = 3, time_s: float = 60.0) -> RoadNetwork:
    """nx × ny grid, node k = j*nx + i at (X0 + i·1 km, Y0 + j·1 km); every link two-way, 60 s.

    Links: horizontal ones first (row by row), then vertical ones; attribute ``ref`` is "E6" on
    the bottom row (j = 0), "Fv1" elsewhere; link ids are 100, 101, ...
    """
    xy = np.array([(X0 + i * STEP, Y0 + j * STEP) for j in range(ny) for i in range(nx)])
    u, v, ref = [], [], []
    for j in range(ny):
        for i in range(nx - 1):
            u.append(j * nx + i); v.append(j * nx + i + 1); ref.append("E6" if j == 0 else "Fv1")
    for j in range(ny - 1):
        for i in range(nx):
            u.append(j * nx + i); v.append((j + 1) * nx + i); ref.append("Fv1")
    n = len(u)
    return RoadNetwork.from_arrays(xy, u, v, np.full(n, time_s), link_ids=np.arange(100, 100 + n),
                                   attrs={"ref": np.array(ref, dtype=object)})


@dataclass
class SimpleZones:
    """Minimal zones object: one zone per listed node (access seconds)."""

    node: np.ndarray
    access_s: np.ndarray
    population: np.ndarray
    jobs: np.ndarray
    ids: np.ndarray


def zones_at(nodes, access_s=0.0, population=1000.0, jobs=500.0) -> SimpleZones:
    nodes = np.asarray(nodes, dtype=np.int64)
    n = len(nodes)
    return SimpleZones(node=nodes, access_s=np.broadcast_to(np.asarray(access_s, float), n).copy(),
                       population=np.broadcast_to(np.asarray(population, float), n).copy(),
                       jobs=np.broadcast_to(np.asarray(jobs, float), n).copy(), ids=np.arange(n))


SPEEDS_KMH = (30.0, 45.0, 55.0)   # local roads: scaling times by 0.4 still gives <= 137.5 km/h (plausible)


def random_network(n_nodes: int = 400, seed: int = 1) -> RoadNetwork:
    """Random planar-ish network (nearest-neighbour links) of local roads at 30, 45 and 55 km/h
    (``SPEEDS_KMH``; ``ref`` "E6" on the 55 km/h links, "Fv" elsewhere), some one-way links.

    The speeds are low enough that the tests' speed-ups (times × 0.4 … 0.7) stay within the
    plausible 1–150 km/h of :mod:`centrality.plausibility`, which scenario edits must respect.
    """
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    xy = np.column_stack([X0 + rng.uniform(0, 30_000, n_nodes), Y0 + rng.uniform(0, 30_000, n_nodes)])
    _, nn = cKDTree(xy).query(xy, k=4)
    pairs = np.sort(np.column_stack([np.repeat(np.arange(n_nodes), 3), nn[:, 1:].ravel()]), axis=1)
    pairs = np.unique(pairs, axis=0)
    length = np.hypot(*(xy[pairs[:, 1]] - xy[pairs[:, 0]]).T)
    speed_kmh = rng.choice(SPEEDS_KMH, len(pairs))
    t = length / (speed_kmh / 3.6)
    t_bw = np.where(rng.random(len(pairs)) < 0.1, np.nan, t)
    return RoadNetwork.from_arrays(xy, pairs[:, 0], pairs[:, 1], t, t_bw, length_m=length,
                                   attrs={"ref": np.where(speed_kmh == max(SPEEDS_KMH), "E6", "Fv").astype(object)})


def node_at_distance(net: RoadNetwork, a: int, dist_m: float) -> int:
    """The node whose straight-line distance from node ``a`` is closest to ``dist_m`` (metres): the
    other end of a plausible new link (e.g. 8 km at 110 km/h = 4.4 min, a real shortcut on the
    random network's 30–55 km/h roads)."""
    d = np.hypot(*(net.node_xy - net.node_xy[a]).T)
    return int(np.argmin(np.abs(d - dist_m)))
