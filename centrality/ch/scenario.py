"""Road scenarios on the customizable hierarchy: re-customise, find the affected origins, re-query.

A scenario changes the times of directed edges (slow-downs, speed-ups, closures = no edge, i.e.
an infinite weight) and may add links between existing nodes. Every case takes the same path:

1. :func:`scenario_hierarchy` — the base hierarchy re-customised for the scenario's edge times.
   When every changed node pair is already an arc of the chordal supergraph (always for time
   changes and closures, and for new links between nodes the contraction joined), only the
   arcs whose weights can change are recomputed (:meth:`Hierarchy.with_edge_times`, exact:
   equal to a full customisation). A new link between nodes the contraction never joined
   changes the topology: the base order is kept, the extended graph is contracted again and
   fully customised (seconds on a national network; cached on disk with ``cache_dir``).
2. :func:`affected_origins` — origin zones whose row can change: those whose network time to
   the tail of some changed edge is within their search bound in the base or the scenario
   network (one backward query per hierarchy; the argument is the one of
   ``geoproc.scenario.incremental``: otherwise no path within the bound uses a changed edge).
3. :func:`scenario_rows` — the affected origins re-queried on the scenario hierarchy with
   ``od_times(..., hierarchy=...)``: the same pairs as a full recomputation, times within the
   tie band (ties at the cutoff go to Dijkstra, as in every ``engine="ch"`` run).
"""
from __future__ import annotations

import time

import numpy as np

from centrality.ch.build import hierarchy_for
from centrality.ch.cache import HierarchyCache
from centrality.ch.hierarchy import Hierarchy, ScenarioWorkspace, customize, extend_topology, missing_arcs
from centrality.ch.query import TargetSpace, times_to_nodes
from centrality.errors import InputError
from centrality.paths import od_times


def changed_pairs(base_csr, scen_csr) -> tuple[np.ndarray, np.ndarray]:
    """Directed node pairs whose minimum edge time differs between two networks over the same nodes.

    Parameters
    ----------
    base_csr, scen_csr : CSR
        Directed edges of the base and the scenario network.

    Returns
    -------
    tuple of numpy.ndarray
        ``(tails, heads)`` int64: changed, closed or added directed pairs.
    """
    def table(csr):
        n = len(csr.indptr) - 1
        tail = np.repeat(np.arange(n, dtype=np.int64), np.diff(csr.indptr))
        key = tail * n + csr.head.astype(np.int64)
        order = np.lexsort((csr.time_s, key))
        key, t = key[order], np.asarray(csr.time_s)[order]
        first = np.ones(len(key), bool)
        first[1:] = key[1:] != key[:-1]
        return key[first], t[first]

    n = len(base_csr.indptr) - 1
    if len(scen_csr.indptr) - 1 != n:
        raise InputError("the scenario network has a different number of nodes than the base network; new links "
                         "must join existing nodes.")
    kb, tb = table(base_csr)
    ks, ts = table(scen_csr)
    allk = np.union1d(kb, ks)
    vb = np.full(len(allk), np.inf)
    vs = np.full(len(allk), np.inf)
    vb[np.searchsorted(allk, kb)] = tb
    vs[np.searchsorted(allk, ks)] = ts
    diff = allk[vb != vs]
    return diff // n, diff % n


def scenario_hierarchy(base: Hierarchy, scen_csr, tails, heads, cache_dir=None, workers: int = 1) -> Hierarchy:
    """Hierarchy of a scenario network whose edges differ from the base only on given pairs.

    Parameters
    ----------
    base : Hierarchy
        The base network's hierarchy.
    scen_csr : CSR
        The scenario network's directed edges.
    tails, heads : array-like of int
        The changed directed node pairs.
    cache_dir : path-like, optional
        Disk cache for a new topology (new links the contraction never joined).
    workers : int, default 1
        Threads for a full customisation.

    Returns
    -------
    Hierarchy
        Partial re-customisations reuse one :class:`ScenarioWorkspace` per base hierarchy (the
        result is valid until the next scenario on the same base); ``stats`` says which way was
        taken, with seconds.
    """
    t0 = time.perf_counter()
    tails = np.asarray(tails, dtype=np.int64)
    heads = np.asarray(heads, dtype=np.int64)
    keep = tails != heads
    tails, heads = tails[keep], heads[keep]
    if len(tails) == 0:
        return base
    if not missing_arcs(base.topology, tails, heads).any():
        ws = base.__dict__.get("_scenario_workspace")
        if ws is None:
            ws = base._scenario_workspace = ScenarioWorkspace(base)
            t0 = time.perf_counter()      # the one-off copy is not part of a scenario's time
        h = ws.customize(scen_csr, tails, heads)
        h.stats["total_s"] = time.perf_counter() - t0
        return h
    cache = HierarchyCache(cache_dir) if cache_dir is not None else None
    topo = extend_topology(base.topology, scen_csr, cache)
    h = customize(topo, scen_csr, workers=workers)
    h.stats.update(new_topology=True, topology_s=topo.seconds.get("contract_s", 0.0) + topo.seconds.get("order_s", 0.0),
                   total_s=time.perf_counter() - t0)
    return h


def _bounds(zones, cutoff_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    node = np.asarray(zones.node, dtype=np.int64)
    access = np.asarray(zones.access_s, dtype=float)
    slack = 1e-6 * max(1.0, cutoff_s)        # only makes the affected set larger
    return node, access, cutoff_s - access - access.min() + slack


def affected_origins(base: Hierarchy, scen: Hierarchy, zones, tails, cutoff_min: float) -> np.ndarray:
    """Zones whose OD row may differ between two networks.

    Parameters
    ----------
    base, scen : Hierarchy
        Hierarchies of the base and the scenario network (same nodes).
    zones : object
        ``.node`` and ``.access_s`` (seconds) per zone.
    tails : array-like of int
        Tail nodes of the changed directed edges.
    cutoff_min : float
        The OD cutoff, minutes.

    Returns
    -------
    numpy.ndarray
        bool per zone: True if some changed edge's tail is within the zone's search bound (plus
        1e-6 × cutoff) in either network.
    """
    node, access, bound = _bounds(zones, float(cutoff_min) * 60.0)
    tails = np.unique(np.asarray(tails, dtype=np.int64))
    affected = np.zeros(len(node), dtype=bool)
    if len(tails) == 0:
        return affected
    limit = float(bound.max())
    for h in (base, scen):
        ranks = h.to_rank(node)
        space = TargetSpace.of(h, ranks)
        f = times_to_nodes(h, space, h.to_rank(tails), limit)
        affected |= f[space.pos[ranks]] <= bound
    return affected


def scenario_rows(base_network, scen_network, zones, cutoff_min: float, tails=None, heads=None, workers: int = 1,
                  executor=None, progress=None, should_stop=None, cache_dir=None, base_hierarchy=None):
    """New OD rows of the origins a scenario can change.

    Parameters
    ----------
    base_network, scen_network : RoadNetwork
        The base and the scenario network (same nodes).
    zones : object
        Zones snapped to the base network (``.node``, ``.access_s``).
    cutoff_min : float
        Cutoff, minutes.
    tails, heads : array-like of int, optional
        The changed directed node pairs (default: compared from the two networks' edges).
    workers : int, default 1
        Threads.
    executor, progress, should_stop : optional
        As in :func:`centrality.paths.od_times`.
    cache_dir : path-like, optional
        Disk cache of hierarchies.
    base_hierarchy : Hierarchy, optional
        The base hierarchy (default: :func:`hierarchy_for` the base network).

    Returns
    -------
    affected : numpy.ndarray
        bool per zone.
    od : ODTable or None
        Rows of the affected origins on the scenario network (None if none is affected).
    stats : dict
        Seconds of the re-customisation, the affected-origin test and the queries, and the
        re-customisation counts.
    """
    t0 = time.perf_counter()
    base = base_hierarchy if base_hierarchy is not None else hierarchy_for(base_network, cache_dir=cache_dir,
                                                                           workers=workers)
    if tails is None or heads is None:
        tails, heads = changed_pairs(base_network.csr, scen_network.csr)
    scen = scenario_hierarchy(base, scen_network.csr, tails, heads, cache_dir=cache_dir, workers=workers)
    t1 = time.perf_counter()
    affected = affected_origins(base, scen, zones, tails, cutoff_min)
    t2 = time.perf_counter()
    od = None
    if affected.any():
        od = od_times(scen_network, zones, cutoff_min=cutoff_min, workers=workers, executor=executor,
                      progress=progress, should_stop=should_stop, origins=np.flatnonzero(affected), hierarchy=scen)
    t3 = time.perf_counter()
    stats = {"recustomize_s": t1 - t0, "affected_s": t2 - t1, "query_s": t3 - t2, "n_affected": int(affected.sum()),
             "hierarchy": {k: v for k, v in scen.stats.items() if isinstance(v, (int, float, str, bool))}}
    return affected, od, stats
