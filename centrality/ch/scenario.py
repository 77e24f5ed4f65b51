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

:func:`scenario_pairs` narrows steps 2–3 from rows to pairs (what ``ScenarioEngine(method="ch")``
uses): times between the zones and the changed edges' endpoints in both networks (only the
scenario's when no changed edge got slower or closed: see :func:`via_pairs`) give the *affected
origins and destinations*; the pairs affected origin × affected destination are decided from the
base table and the paths through the changed edges (:func:`via_pairs`), and only origins with a
pair this cannot decide are re-queried, against the affected destinations on a one-off
restricted space of just those zones (:func:`product_pairs`); :func:`splice_pairs` puts the
pairs into the base table.

**Why pairs outside that product keep their base entry** (every edit type alike). Let
``B(o, d) = cutoff - a_o - a_d`` (network seconds; a = access times) be the largest network time
of a pair in the table, ``bound_o = cutoff - a_o - min a`` and ``bound_d = cutoff - a_d - min a``
(so ``B(o, d) <= bound_o`` and ``<= bound_d``). Take a network N (base or scenario) and a path
P from o to d in N of length ``<= B(o, d)`` that uses a changed directed edge (t, h) (one whose
minimum time differs, is closed or added; it exists in N). Edge times are >= 0, so P's prefix to
t and suffix from h are no longer than P: ``dist_N(o, t) <= bound_o`` and ``dist_N(h, d) <=
bound_d``, i.e. o is an affected origin and d an affected destination. Contrapositive: if o or d
is not affected, no path of length <= B(o, d) uses a changed edge in either network, so the paths
of length <= B(o, d) and their lengths are the same in both networks (unchanged node pairs have
the same minimum edge time). If ``dist_base(o, d) <= B(o, d)``, a shortest base path is such a
path, so ``dist_scen(o, d) <= dist_base(o, d)``, and a shorter scenario path would be within
B(o, d) too, hence a base path: the distances are equal. Symmetrically if ``dist_scen(o, d) <=
B(o, d)``; otherwise both exceed B(o, d) and the pair is in neither table. So the base entry
(present or absent) is the scenario's entry, and re-querying the product — whose entries may
enter or leave the cutoff — and splicing it over the base gives the full recomputation's table.
The bounds carry a slack of ``1e-6 × cutoff`` (it only enlarges both sets; the hierarchy's float
sums differ from exact ones by far less).
"""
from __future__ import annotations

import concurrent.futures as cf
import time
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
from numba import njit

from centrality.ch._kernels import _grown
from centrality.ch.build import hierarchy_for
from centrality.ch.cache import HierarchyCache
from centrality.ch.hierarchy import (Hierarchy, ScenarioWorkspace, _min_edge_time, customize, extend_topology,
                                     missing_arcs)
from centrality.ch.query import (LANES, TargetSpace, ch_pairs, distance_table, order_by_origin, tie_band,
                                 times_from_nodes, times_to_nodes)
from centrality.parallel import run_chunks
from centrality.errors import InputError
from centrality.paths import ODTable, od_times


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


def scenario_workspace(base: Hierarchy, zones=None, threads: int = 1) -> ScenarioWorkspace:
    """The base hierarchy's scenario workspace, created and prepared on first use.

    Scenario engines call this with the baseline (``ScenarioEngine.baseline``), so that the
    one-off work — a copy of the weights, the lower-neighbour lists, the input weights; about
    4 s and 0.4 GB on the national network — is baseline preprocessing, not the first
    scenario's time.

    Parameters
    ----------
    base : Hierarchy
        The base network's hierarchy.
    zones : Zones, optional
        The zones the scenarios query (``.node``): their space's weights are prepared too.
    threads : int, default 1
        Threads of the scenarios' re-customisations (:meth:`ScenarioWorkspace.prepare`).

    Returns
    -------
    ScenarioWorkspace
        One per base hierarchy (kept on it); :func:`scenario_hierarchy` uses the same one.
    """
    ws = base.__dict__.get("_scenario_workspace")
    if ws is None:
        ws = base._scenario_workspace = ScenarioWorkspace(base)
    spaces = () if zones is None else (TargetSpace.of(base, base.to_rank(np.asarray(zones.node))),)
    return ws.prepare(spaces, threads=threads)


def scenario_hierarchy(base: Hierarchy, scen_csr, tails, heads, cache_dir=None, workers: int = 1,
                       valid_s: float = np.inf) -> Hierarchy:
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
        Threads of the customisation (full, or partial: :meth:`ScenarioWorkspace.customize`).
    valid_s : float, default inf
        Seconds up to which the partial re-customisation must be exact
        (:meth:`ScenarioWorkspace.customize`); the queries of a scenario pass their search bound.

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
        if base.__dict__.get("_scenario_workspace") is None:
            scenario_workspace(base)
            t0 = time.perf_counter()      # the one-off copy is not part of a scenario's time
        h = base._scenario_workspace.customize(scen_csr, tails, heads, valid_s=valid_s, threads=workers)
        h.stats["total_s"] = time.perf_counter() - t0
        return h
    cache = HierarchyCache(cache_dir) if cache_dir is not None else None
    topo = extend_topology(base.topology, scen_csr, cache)
    h = customize(topo, scen_csr, workers=workers)
    h.stats.update(new_topology=True, topology_s=topo.seconds.get("contract_s", 0.0) + topo.seconds.get("order_s", 0.0),
                   total_s=time.perf_counter() - t0)
    return h


def valid_bound(cutoff_min: float) -> float:
    """Seconds up to which a scenario hierarchy must be exact for queries with this cutoff.

    Every search of a scenario (the endpoint tables, the affected zones, the re-queried pairs)
    is bounded by ``cutoff - access - min access`` plus a slack of at most ``1e-6 × cutoff``
    (and the tie band, ~1e-6 s); this adds a margin of ``max(1 s, 1e-4 × cutoff)`` on top.

    Parameters
    ----------
    cutoff_min : float
        Cutoff, minutes.

    Returns
    -------
    float
        Seconds (for :meth:`~centrality.ch.hierarchy.ScenarioWorkspace.customize`'s ``valid_s``).
    """
    cutoff_s = float(cutoff_min) * 60.0
    return cutoff_s + max(1.0, 1e-4 * cutoff_s)


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
    scen = scenario_hierarchy(base, scen_network.csr, tails, heads, cache_dir=cache_dir, workers=workers,
                              valid_s=valid_bound(cutoff_min))
    t1 = time.perf_counter()
    affected = affected_origins(base, scen, zones, tails, cutoff_min)
    t2 = time.perf_counter()
    od = None
    if affected.any():
        od = od_times(scen_network, zones, cutoff_min=cutoff_min, workers=workers, executor=executor,
                      progress=progress, should_stop=should_stop, origins=np.flatnonzero(affected), hierarchy=scen)
    t3 = time.perf_counter()
    stats = {"recustomize_s": t1 - t0, "affected_s": t2 - t1, "query_s": t3 - t2, "n_affected": int(affected.sum()),
             "hierarchy": {k: v for k, v in scen.stats.items()
                           if v is None or isinstance(v, (int, float, str, bool, dict))}}
    return affected, od, stats


def affected_zones(base: Hierarchy, scen: Hierarchy, zones, tails, heads,
                   cutoff_min: float) -> tuple[np.ndarray, np.ndarray]:
    """Origins whose rows and destinations whose columns may differ between two networks.

    Parameters
    ----------
    base, scen : Hierarchy
        Hierarchies of the base and the scenario network (same nodes).
    zones : object
        ``.node`` and ``.access_s`` (seconds) per zone.
    tails, heads : array-like of int
        Tail and head nodes of the changed directed edges.
    cutoff_min : float
        The OD cutoff, minutes.

    Returns
    -------
    origins, dests : numpy.ndarray
        bool per zone. ``origins``: some changed edge's tail is within the zone's bound
        (``cutoff - access - min access`` + 1e-6 × cutoff, seconds) from the zone in either
        network (as :func:`affected_origins`); ``dests``: some changed edge's head reaches the
        zone within the same bound in either network. A pair (o, d) can change only if both are
        True (module docstring).
    """
    node, _, bound = _bounds(zones, float(cutoff_min) * 60.0)
    tails = np.unique(np.asarray(tails, dtype=np.int64))
    heads = np.unique(np.asarray(heads, dtype=np.int64))
    origins = np.zeros(len(node), dtype=bool)
    dests = np.zeros(len(node), dtype=bool)
    if len(tails) == 0:
        return origins, dests
    limit = float(bound.max())
    for h in (base, scen):
        ranks = h.to_rank(node)
        space = TargetSpace.of(h, ranks)
        at = space.pos[ranks]
        origins |= times_to_nodes(h, space, h.to_rank(tails), limit)[at] <= bound
        dests |= times_from_nodes(h, space, h.to_rank(heads), limit)[at] <= bound
    return origins, dests


@dataclass
class ScenarioPairs:
    """The pairs a scenario can change, re-queried on the scenario hierarchy.

    Attributes
    ----------
    origins, dests : numpy.ndarray
        bool per zone: affected origins and destinations (:func:`affected_zones`).
    od : ODTable or None
        Every pair (affected origin, affected destination) with a total <= the cutoff, in zone
        positions of the full zone set, sorted by origin (None if nothing is affected). Its
        ``origins`` are the affected origins; pairs with an unaffected end are not in it.
    stats : dict
        Seconds of the re-customisation, the affected-zone test and the queries; counts.
    """

    origins: np.ndarray
    dests: np.ndarray
    od: ODTable | None
    stats: dict = field(default_factory=dict)


def product_pairs(h: Hierarchy, network, zones, origins: np.ndarray, dests: np.ndarray, cutoff_min: float,
                  workers: int = 1, executor=None, progress=None, should_stop=None) -> tuple[ODTable, dict]:
    """Pairs (origin in ``origins``, destination in ``dests``) within the cutoff, on one hierarchy.

    The query runs on a one-off restricted space of only the zones in ``origins | dests``
    (smaller than the full zone set's: cheaper sweeps and emission); origins with a total within
    the tie band of the cutoff are recomputed by Dijkstra on the same zones, as in ``od_times``.

    Parameters
    ----------
    h : Hierarchy
        The network's customised hierarchy (e.g. a scenario's).
    network : RoadNetwork
        The network (for the Dijkstra fallback at ties).
    zones : object
        ``.node``, ``.access_s`` (seconds) per zone.
    origins, dests : numpy.ndarray
        bool per zone.
    cutoff_min : float
        Cutoff, minutes.
    workers : int, default 1
        Threads.
    executor, progress, should_stop : optional
        As in :func:`centrality.paths.od_times`.

    Returns
    -------
    od : ODTable
        In positions of ``zones``, sorted by origin, each origin's destinations in the order the
        query emits them; ``origins`` = the origin positions; ``extra["tie_origins"]`` = the
        origins Dijkstra recomputed.
    info : dict
        Size of the space, tie band, ambiguous origins.
    """
    origins = np.asarray(origins, dtype=bool)
    dests = np.asarray(dests, dtype=bool)
    node = np.asarray(zones.node, dtype=np.int64)
    access = np.asarray(zones.access_s, dtype=float)
    if origins.shape != node.shape or dests.shape != node.shape:
        raise InputError(f"origins and dests must be one bool per zone ({len(node)}), got {origins.shape} and "
                         f"{dests.shape}.")
    cutoff_s = float(cutoff_min) * 60.0
    slack = 1e-9 * max(1.0, cutoff_s)          # as od_times: never prune a pair within the cutoff
    local = np.flatnonzero(origins | dests)
    origin_local = np.flatnonzero(origins[local])
    empty = ODTable(origin=np.empty(0, np.int32), dest=np.empty(0, np.int32), time_s=np.empty(0),
                    cutoff_s=cutoff_s, n_zones=len(node), origins=np.flatnonzero(origins),
                    extra={"engine": "ch", "tie_origins": np.empty(0, np.int64)})
    if len(origin_local) == 0 or not dests.any():
        return empty, {"positions": 0, "ambiguous_origins": 0}
    ranks = h.to_rank(node[local])
    space = TargetSpace(h, ranks)
    parts, ambiguous, info = ch_pairs(h, ranks, access[local], origin_local, cutoff_s, slack, workers=workers,
                                      executor=executor, progress=progress, should_stop=should_stop, space=space)
    if len(ambiguous):
        sub = SimpleNamespace(node=node[local], access_s=access[local])
        fb = od_times(network, sub, cutoff_min=cutoff_min, workers=workers, executor=executor,
                      should_stop=should_stop, origins=ambiguous, engine="dijkstra")
        parts.append((fb.origin, fb.dest, fb.time_s))
    o, d, t = order_by_origin(parts, len(local))
    keep = dests[local[d]]
    ties = local[np.asarray(ambiguous, np.int64)]
    od = ODTable(origin=local[o[keep]].astype(np.int32), dest=local[d[keep]].astype(np.int32), time_s=t[keep],
                 cutoff_s=cutoff_s, n_zones=len(node), origins=np.flatnonzero(origins),
                 extra={"engine": "ch", "tie_origins": ties})
    return od, info


def scenario_pairs(base_network, scen_network, zones, cutoff_min: float, base_od, tails=None, heads=None,
                   workers: int = 1, executor=None, progress=None, should_stop=None, cache_dir=None,
                   base_hierarchy=None, max_table_sweeps: int | None = None) -> ScenarioPairs:
    """The OD pairs a scenario can change, recomputed: re-customise, endpoint tables, combine, re-query.

    Every edit (closure, slow-down, speed-up, new link) takes these steps:

    1. :func:`scenario_hierarchy` — the base hierarchy re-customised for the changed edges,
       exact up to :func:`valid_bound` of the cutoff (the bound of every search that follows);
    2. :func:`endpoint_tables` — in both hierarchies, the times from every zone to every tail and
       from every head to every zone of the changed edges (batched RPHAST, 16 endpoints per
       sweep); they give the affected origins and destinations (:func:`affected_zones`' sets).
       When no changed edge got slower or closed (speed-ups, new links), the scenario's tables
       alone decide (:func:`via_pairs`, "monotone"), and the base's are not computed;
    3. :func:`via_pairs` — every pair (affected origin, affected destination) from the base
       table and the shortest times *through* a changed edge in either network (module
       docstring: exact wherever it decides); an origin with a pair it cannot decide (its base
       path used a changed edge that got slower or closed, or a total within the tie band of the
       cutoff) is flagged;
    4. :func:`product_pairs` — the flagged origins re-queried against the affected destinations.

    Cost rule (not an edit-type rule): the tables cost ``2 (ceil(k_t / 16) + ceil(k_h / 16))``
    sweeps for k_t tails and k_h heads; when that exceeds ``max_table_sweeps`` (default: the
    ``ceil(n_zones / 16)`` sweeps of re-querying every zone), step 2 is :func:`affected_zones`
    (one multi-source sweep per direction and hierarchy) and every affected origin is flagged.
    Both ways give the same table.

    Parameters
    ----------
    base_network, scen_network : RoadNetwork
        The base and the scenario network (same nodes).
    zones : object
        Zones snapped to the base network (``.node``, ``.access_s``).
    cutoff_min : float
        Cutoff, minutes.
    base_od : ODTable
        The base table of these zones and cutoff (sorted by origin), from ``od_times(...,
        engine="ch")`` (its ``extra["tie_origins"]`` are re-queried; a table without it has all
        affected origins re-queried).
    tails, heads : array-like of int, optional
        The changed directed node pairs (default: compared from the two networks' edges).
    workers : int, default 1
        Threads.
    executor, progress, should_stop : optional
        As in :func:`centrality.paths.od_times` (for the re-queries).
    cache_dir : path-like, optional
        Disk cache of hierarchies.
    base_hierarchy : Hierarchy, optional
        The base hierarchy (default: :func:`hierarchy_for` the base network).
    max_table_sweeps : int, optional
        See the cost rule (0: never use the tables).

    Returns
    -------
    ScenarioPairs
        :func:`splice_pairs` of the base table with its ``od`` is the scenario's table (the same
        pairs as a full recomputation, times within the tie band). ``od.extra["tie_origins"]``:
        the re-queried origins Dijkstra decided.
    """
    t0 = time.perf_counter()
    base = base_hierarchy if base_hierarchy is not None else hierarchy_for(base_network, cache_dir=cache_dir,
                                                                           workers=workers)
    if tails is None or heads is None:
        tails, heads = changed_pairs(base_network.csr, scen_network.csr)
    tails, heads = _proper_pairs(tails, heads)
    n_z = len(np.asarray(zones.node))
    cutoff_s = float(cutoff_min) * 60.0
    tables = EndpointTables.empty(zones, tails, heads, cutoff_min)
    # no changed edge slower or closed: every path is as fast or faster, the scenario's tables decide
    monotone = bool(np.all(_min_edge_time(scen_network.csr, tails, heads) <=
                           _min_edge_time(base_network.csr, tails, heads)))
    sweeps = (1 if monotone else 2) * (-(-len(tables.tail_nodes) // LANES) - (-len(tables.head_nodes) // LANES))
    use_tables = sweeps <= (-(-n_z // LANES) if max_table_sweeps is None else int(max_table_sweeps))

    def recustomize() -> Hierarchy:
        return scenario_hierarchy(base, scen_network.csr, tails, heads, cache_dir=cache_dir, workers=workers,
                                  valid_s=valid_bound(cutoff_min))

    if use_tables:
        TargetSpace.of(base, base.to_rank(tables.node)).weights(base)      # the base's zone space, built once
        # the base network's tables do not need the scenario: with 2+ threads they run beside the
        # re-customisation
        with cf.ThreadPoolExecutor(max_workers=1) as pool:
            side = (pool.submit(tables.fill, 0, base, base_network.csr, 1) if workers > 1 and not monotone
                    else None)
            scen = recustomize()
            t1 = time.perf_counter()
            tables.fill(1, scen, scen_network.csr, workers)
            if side is not None:
                side.result()
            elif not monotone:
                tables.fill(0, base, base_network.csr, workers)
        origins, dests = tables.affected()
    else:
        scen = recustomize()
        t1 = time.perf_counter()
        origins, dests = affected_zones(base, scen, zones, tails, heads, cutoff_min)
    t2 = time.perf_counter()
    parts, requery = [], np.empty(0, np.int64)
    n_via = 0
    if not use_tables:
        requery = np.flatnonzero(origins) if dests.any() else requery
    elif origins.any() and dests.any():
        via, requery = via_pairs(tables, base_od, np.asarray(zones.access_s, float), origins, dests, cutoff_s,
                                 tie_band(base.n_nodes, cutoff_s), workers=workers)
        parts.append(via)
        n_via = len(via[0])
    t3 = time.perf_counter()
    ties = np.empty(0, np.int64)
    if len(requery):
        mask = np.zeros(n_z, dtype=bool)
        mask[requery] = True
        od_r, _ = product_pairs(scen, scen_network, zones, mask, dests, cutoff_min, workers=workers,
                                executor=executor, progress=progress, should_stop=should_stop)
        parts.append((od_r.origin, od_r.dest, od_r.time_s))
        ties = od_r.extra["tie_origins"]
    # each part is sorted by origin and the parts' origins are disjoint: one part is the table as it is
    o, d, t = parts[0] if len(parts) == 1 else order_by_origin(parts, n_z)
    od = ODTable(origin=o, dest=d, time_s=t, cutoff_s=cutoff_s, n_zones=n_z, origins=np.flatnonzero(origins),
                 extra={"engine": "ch", "tie_origins": ties})
    t4 = time.perf_counter()
    stats = {"recustomize_s": t1 - t0, "affected_s": t2 - t1, "via_s": t3 - t2, "requery_s": t4 - t3,
             "query_s": t4 - t2, "n_affected": int(origins.sum()), "n_affected_dest": int(dests.sum()),
             "n_endpoints": int(len(tables.tail_nodes) + len(tables.head_nodes)), "table_sweeps": int(sweeps),
             "tables": bool(use_tables), "monotone": monotone, "n_requeried": int(len(requery)),
             "n_via_pairs": int(n_via), "n_pairs": od.n_pairs,
             "hierarchy": {k: v for k, v in scen.stats.items()
                           if v is None or isinstance(v, (int, float, str, bool, dict))}}
    return ScenarioPairs(origins, dests, od, stats)


def _row_ptr(od, n_z: int) -> np.ndarray:
    """``od.row_ptr(n_z)``, refusing a table with origins beyond its ``n_z`` zones (int64[n_z + 1])."""
    ptr = od.row_ptr(n_z)
    if len(ptr) > n_z + 1:
        raise InputError(f"the OD table has origins beyond its {n_z} zones; use the table of these zones.")
    return ptr


def _proper_pairs(tails, heads) -> tuple[np.ndarray, np.ndarray]:
    """Unique directed node pairs without loops (int64)."""
    tails = np.asarray(tails, dtype=np.int64)
    heads = np.asarray(heads, dtype=np.int64)
    keep = tails != heads
    if not keep.any():
        return np.empty(0, np.int64), np.empty(0, np.int64)
    pairs = np.unique(np.stack([tails[keep], heads[keep]], axis=1), axis=0)
    return pairs[:, 0].copy(), pairs[:, 1].copy()


@dataclass
class EndpointTables:
    """Times between the zones and the endpoints of the changed edges, in the base (index 0) and
    the scenario network (index 1); seconds, inf beyond ``limit_s`` (values within it are exact).

    Attributes
    ----------
    to_tail : list of numpy.ndarray
        (n_zones, n_tails): time from each zone's node to each tail node (None: not computed).
    from_head : list of numpy.ndarray
        (n_heads, n_zones): time from each head node to each zone's node (None: not computed).
    edge_tail, edge_head : numpy.ndarray
        Per changed edge, the index of its tail in ``tail_nodes`` and of its head in ``head_nodes``.
    edge_time : list of numpy.ndarray
        Per changed edge, its minimum time in each network (inf = no edge: closed or new).
    tail_nodes, head_nodes : numpy.ndarray
        Distinct tail and head nodes.
    node : numpy.ndarray
        The zones' nodes.
    bound : numpy.ndarray
        Per zone, ``cutoff - access - min access`` + 1e-6 × cutoff, seconds.
    limit_s : float
        The tables' search bound, seconds.
    """

    to_tail: list
    from_head: list
    edge_tail: np.ndarray
    edge_head: np.ndarray
    edge_time: list
    tail_nodes: np.ndarray
    head_nodes: np.ndarray
    node: np.ndarray
    bound: np.ndarray
    limit_s: float

    @classmethod
    def empty(cls, zones, tails, heads, cutoff_min: float) -> "EndpointTables":
        """Tables for these zones and changed pairs, not yet filled (:meth:`fill`).

        Parameters
        ----------
        zones : object
            ``.node``, ``.access_s`` (seconds).
        tails, heads : array-like of int
            The changed directed node pairs (no loops).
        cutoff_min : float
            Cutoff, minutes.

        Returns
        -------
        EndpointTables
        """
        node, _, bound = _bounds(zones, float(cutoff_min) * 60.0)
        tail_nodes, edge_tail = np.unique(np.asarray(tails, dtype=np.int64), return_inverse=True)
        head_nodes, edge_head = np.unique(np.asarray(heads, dtype=np.int64), return_inverse=True)
        limit = float(bound.max()) if len(bound) else 0.0
        return cls([None, None], [None, None], edge_tail.astype(np.int64), edge_head.astype(np.int64),
                   [None, None], tail_nodes, head_nodes, node, bound, limit)

    def fill(self, k: int, h: Hierarchy, csr, workers: int = 1) -> None:
        """Compute the tables of network ``k`` (0 = base, 1 = scenario).

        Parameters
        ----------
        k : int
            0 or 1.
        h : Hierarchy
            That network's hierarchy.
        csr : CSR
            That network's directed edges (the changed edges' own times).
        workers : int, default 1
            Threads.
        """
        ranks = h.to_rank(self.node)
        space = TargetSpace.of(h, ranks)
        self.to_tail[k] = np.ascontiguousarray(distance_table(h, space, self.tail_nodes, ranks, self.limit_s,
                                                              reverse=True, workers=workers).T)
        self.from_head[k] = distance_table(h, space, self.head_nodes, ranks, self.limit_s, reverse=False,
                                           workers=workers)
        self.edge_time[k] = _min_edge_time(csr, self.tail_nodes[self.edge_tail], self.head_nodes[self.edge_head])

    def affected(self) -> tuple[np.ndarray, np.ndarray]:
        """Affected origins and destinations, in either network (as :func:`affected_zones`).

        Only the scenario's tables when the base's are not computed, i.e. when no changed edge
        got slower or closed: a base path within the bound through a changed edge is then as
        short or shorter in the scenario, so its zones are affected there too.

        Returns
        -------
        origins, dests : numpy.ndarray
            bool per zone: a tail within the zone's bound from the zone, a head within the bound
            to the zone.
        """
        origins = np.zeros(len(self.bound), dtype=bool)
        dests = np.zeros(len(self.bound), dtype=bool)
        for k in (0, 1):
            if self.to_tail[k] is None:
                continue
            if self.to_tail[k].shape[1]:
                origins |= self.to_tail[k].min(axis=1) <= self.bound
            if self.from_head[k].shape[0]:
                dests |= self.from_head[k].min(axis=0) <= self.bound
        return origins, dests


def endpoint_tables(base: Hierarchy, scen: Hierarchy, base_csr, scen_csr, zones, tails, heads, cutoff_min: float,
                    workers: int = 1) -> EndpointTables:
    """Times between every zone and the endpoints of the changed edges, in both networks.

    Parameters
    ----------
    base, scen : Hierarchy
        Hierarchies of the base and the scenario network.
    base_csr, scen_csr : CSR
        Their directed edges (for the changed edges' own times).
    zones : object
        ``.node``, ``.access_s`` (seconds).
    tails, heads : array-like of int
        The changed directed node pairs (no loops).
    cutoff_min : float
        Cutoff, minutes.
    workers : int, default 1
        Threads.

    Returns
    -------
    EndpointTables
        Four tables of 16-endpoint RPHAST sweeps over the zones' space of each hierarchy
        (``ceil(k / 16)`` sweeps per table for k distinct endpoints).
    """
    tables = EndpointTables.empty(zones, tails, heads, cutoff_min)
    tables.fill(0, base, base_csr, workers)
    tables.fill(1, scen, scen_csr, workers)
    return tables


def via_pairs(tables: EndpointTables, base_od, access: np.ndarray, origins: np.ndarray, dests: np.ndarray,
              cutoff_s: float, band: float, workers: int = 1) -> tuple[tuple, np.ndarray]:
    """Scenario entries of the pairs (affected origin, affected destination) that the base table
    and the paths through changed edges decide; the origins they cannot decide.

    With ``via_N(o, d)`` = the shortest total through at least one changed edge in network N
    (``a_o + min_e [t_N(o, tail_e) + w_N(e) + t_N(head_e, d)] + a_d``), ``d_B`` the base
    table's total (absent = beyond the cutoff) and ``d_A`` the shortest total over paths that
    avoid every changed edge (the same in both networks; ``d_A >= d_B``), the scenario total is
    ``min(d_A, via_S)``. Hence, with a margin ``m = 2 × band`` against rounding:

    - base pair absent: ``d_A >= d_B`` > cutoff, so the scenario total is ``via_S`` if that is
      within the cutoff, and the pair stays absent otherwise;
    - ``via_B > d_B + m``: no shortest base path uses a changed edge, so ``d_A = d_B`` and the
      total is ``min(d_B, via_S)``;
    - ``via_S < d_B - m``: ``via_S < d_B <= d_A``, the total is ``via_S``;
    - otherwise (a base shortest path used a changed edge that did not get faster): undecided.

    *Monotone* scenarios (no changed edge slower or closed; the base tables are then not
    computed, ``tables.to_tail[0]`` is None): every path is as short or shorter, so ``via_S <=
    via_B`` and the total ``min(d_A, via_S)`` is ``min(d_B, via_S)`` — if ``d_B = d_A`` plainly,
    and if ``d_B = via_B`` because then ``via_S <= d_B <= d_A``. Every pair is decided.

    An origin with an undecided pair, a total within ``band`` of the cutoff, or a base row
    decided by Dijkstra (``base_od.extra["tie_origins"]``: its absent pairs may lie within the
    band) is returned for re-query and contributes no entries.

    Parameters
    ----------
    tables : EndpointTables
        The endpoint times of both networks.
    base_od : ODTable
        The base table (sorted by origin).
    access : numpy.ndarray
        Access time per zone, seconds.
    origins, dests : numpy.ndarray
        bool per zone: affected origins and destinations.
    cutoff_s : float
        Cutoff, seconds.
    band : float
        The tie band (:func:`centrality.ch.query.tie_band`), seconds.
    workers : int, default 1
        Threads (chunks of origins).

    Returns
    -------
    pairs : tuple of numpy.ndarray
        ``(origin, dest, seconds)`` of the decided origins' pairs with an affected destination
        within the cutoff, sorted by origin, destinations ascending.
    requery : numpy.ndarray
        int64 origin zones to re-query.
    """
    n_z = len(access)
    org = np.flatnonzero(origins)
    dst = np.flatnonzero(dests).astype(np.int64)
    base_ptr = _row_ptr(base_od, n_z)
    tie = base_od.extra.get("tie_origins") if isinstance(base_od.extra, dict) else None
    forced = np.zeros(n_z, dtype=np.bool_)
    if tie is None:
        forced[:] = True                      # unknown ties: every origin is re-queried
    else:
        forced[np.asarray(tie, np.int64)] = True
    n_h = len(tables.head_nodes)
    monotone = tables.to_tail[0] is None
    # c[k][o, h] = min over changed edges e into head h of t_k(o, tail_e) + w_k(e): (n_origins, n_heads)
    c = []
    for k in (0, 1):
        if tables.to_tail[k] is None:
            c.append(np.empty((len(org), 0)))
            continue
        ck = np.full((len(org), n_h), np.inf)
        for e in range(len(tables.edge_tail)):
            np.minimum(ck[:, tables.edge_head[e]], tables.to_tail[k][org, tables.edge_tail[e]] +
                       tables.edge_time[k][e], out=ck[:, tables.edge_head[e]])
        c.append(ck)
    hb = (np.empty((len(dst), 0)) if monotone else
          np.ascontiguousarray(tables.from_head[0][:, dst].T))      # (n_dests, n_heads)
    hs = np.ascontiguousarray(tables.from_head[1][:, dst].T)
    margin = 2.0 * band
    base_dest = np.asarray(base_od.dest)
    base_time = np.asarray(base_od.time_s, np.float64)
    step = max(1, -(-len(org) // (8 * max(1, int(workers)))))
    chunks = [(s, min(s + step, len(org))) for s in range(0, len(org), step)]

    def run(bounds):
        s0, s1 = bounds
        return _via_rows(org[s0:s1], dst, c[0][s0:s1], c[1][s0:s1], hb, hs, base_ptr, base_dest, base_time,
                         access, forced, float(cutoff_s), float(band), float(margin), monotone,
                         np.full(n_z, -1, np.int64), np.empty(n_z))

    parts = run_chunks(run, chunks, workers=workers)
    requery = np.concatenate([p[3] for p in parts]) if parts else np.empty(0, np.int64)
    cat = (lambda i, dt: np.concatenate([p[i] for p in parts]) if parts else np.empty(0, dt))
    return (cat(0, np.int32), cat(1, np.int32), cat(2, np.float64)), requery.astype(np.int64)


@njit(cache=True, nogil=True, boundscheck=False)
def _via_rows(org, dst, cb, cs, hb, hs, base_ptr, base_dest, base_time, access, forced, cutoff, band, margin,
              monotone, stamp, buf):
    """The rows of :func:`via_pairs` for the origins ``org``; ``stamp``/``buf`` per-zone scratch
    (``monotone``: ``cb``/``hb`` are not used)."""
    n_o, n_d, n_h = org.shape[0], dst.shape[0], hs.shape[1]
    cap = max(16, n_o * n_d // 2)
    out_o = np.empty(cap, np.int32)
    out_d = np.empty(cap, np.int32)
    out_t = np.empty(cap, np.float64)
    req = np.empty(n_o, np.int64)
    n_out = 0
    n_req = 0
    for i in range(n_o):
        o = org[i]
        if forced[o]:
            req[n_req] = o
            n_req += 1
            continue
        for r in range(base_ptr[o], base_ptr[o + 1]):
            stamp[base_dest[r]] = o
            buf[base_dest[r]] = base_time[r]
        if n_out + n_d > out_o.shape[0]:
            new_cap = max(n_out + n_d, 2 * out_o.shape[0])
            out_o = _grown(out_o, n_out, new_cap)
            out_d = _grown(out_d, n_out, new_cap)
            out_t = _grown(out_t, n_out, new_cap)
        start = n_out
        a_o = access[o]
        undecided = False
        for j in range(n_d):
            d = dst[j]
            ts = a_o + _min_plus(cs[i], hs[j], n_h) + access[d]
            if stamp[d] == o:
                tb = buf[d]
                if ts < tb - margin:            # faster through a changed edge: d_A >= d_B > via_S
                    t = ts
                elif monotone:                  # via_S <= via_B: the total is min(d_B, via_S)
                    t = min(tb, ts)
                elif a_o + _min_plus(cb[i], hb[j], n_h) + access[d] > tb + margin:
                    t = min(tb, ts)             # no base shortest path used a changed edge: d_A = d_B
                else:
                    undecided = True
                    break
            else:
                t = ts
            if t <= cutoff + band:
                if t >= cutoff - band:
                    undecided = True
                    break
                out_o[n_out] = o
                out_d[n_out] = d
                out_t[n_out] = t
                n_out += 1
        if undecided:
            n_out = start
            req[n_req] = o
            n_req += 1
    return out_o[:n_out].copy(), out_d[:n_out].copy(), out_t[:n_out].copy(), req[:n_req].copy()


@njit(cache=True, nogil=True, boundscheck=False, fastmath={"nnan", "nsz", "reassoc"})
def _min_plus(a, b, n):
    """min over k < n of a[k] + b[k]: each sum is one rounded addition and the minimum is exact, so
    the order of the reduction (vectorised) does not change the result; inf + inf = inf, no NaN."""
    m = np.inf
    for k in range(n):
        m = min(m, a[k] + b[k])
    return m


@njit(cache=True, nogil=True, boundscheck=False)
def _splice_counts(base_ptr, base_dest, new_ptr, origins, dests, cnt):
    """Rows per origin of the spliced table (see :func:`splice_pairs`)."""
    for o in range(origins.shape[0]):
        if not origins[o]:
            cnt[o] = base_ptr[o + 1] - base_ptr[o]
            continue
        c = new_ptr[o + 1] - new_ptr[o]
        for r in range(base_ptr[o], base_ptr[o + 1]):
            if not dests[base_dest[r]]:
                c += 1
        cnt[o] = c


@njit(cache=True, nogil=True, boundscheck=False)
def _splice_fill(o0, o1, base_ptr, base_dest, base_time, new_ptr, new_dest, new_time, origins, dests, ptr, out_o,
                 out_d, out_t, stamp, buf):
    """Origins o0..o1-1 — unaffected: the base row as it is; affected: base entries of unaffected
    destinations and the new entries, merged in destination order (``stamp``/``buf``: per-zone
    scratch, stamp = -1)."""
    n_z = origins.shape[0]
    for o in range(o0, o1):
        k = ptr[o]
        if not origins[o]:
            for r in range(base_ptr[o], base_ptr[o + 1]):
                out_o[k] = o
                out_d[k] = base_dest[r]
                out_t[k] = base_time[r]
                k += 1
            continue
        for r in range(base_ptr[o], base_ptr[o + 1]):
            d = base_dest[r]
            if not dests[d]:
                stamp[d] = o
                buf[d] = base_time[r]
        for r in range(new_ptr[o], new_ptr[o + 1]):
            d = new_dest[r]
            stamp[d] = o
            buf[d] = new_time[r]
        for d in range(n_z):
            if stamp[d] == o:
                out_o[k] = o
                out_d[k] = d
                out_t[k] = buf[d]
                k += 1


def splice_pairs(base_od, new, origins: np.ndarray, dests: np.ndarray, workers: int = 2) -> dict:
    """The base table with the pairs (affected origin, affected destination) replaced.

    Parameters
    ----------
    base_od : ODTable
        The base table (sorted by origin; zone positions).
    new : object
        ``origin``, ``dest``, ``time_s`` (seconds) of every pair (o, d) with ``origins[o]`` and
        ``dests[d]`` within the cutoff, sorted by origin (e.g. :attr:`ScenarioPairs.od`).
    origins, dests : numpy.ndarray
        bool per zone.
    workers : int, default 2
        Threads (ranges of origins with about equal numbers of rows).

    Returns
    -------
    dict
        ``origin`` (int32), ``dest`` (int32), ``time_s`` (float64), sorted by origin: unaffected
        origins' rows exactly as in the base; an affected origin's row holds its base entries of
        unaffected destinations and its new entries, in destination order. Base entries of
        affected destinations are dropped (pairs that left the cutoff), new ones added (pairs that
        entered it).
    """
    origins = np.asarray(origins, dtype=np.bool_)
    dests = np.asarray(dests, dtype=np.bool_)
    n_z = len(origins)
    if len(dests) != n_z:
        raise InputError(f"origins and dests must have one entry per zone, got {n_z} and {len(dests)}.")
    new_o = np.asarray(new.origin, dtype=np.int64)
    new_d = np.asarray(new.dest, dtype=np.int64)
    if len(new_o) and (not origins[new_o].all() or not dests[new_d].all() or (np.diff(new_o) < 0).any()):
        raise InputError("splice_pairs: the new pairs must be sorted by origin and have an affected origin and an "
                         "affected destination each.")
    base_ptr = _row_ptr(base_od, n_z)
    new_ptr = np.searchsorted(new_o, np.arange(n_z + 1))       # sorted by origin (checked above)
    cnt = np.empty(n_z, dtype=np.int64)
    base_dest = np.asarray(base_od.dest)
    _splice_counts(base_ptr, base_dest, new_ptr, origins, dests, cnt)
    ptr = np.zeros(n_z + 1, dtype=np.int64)
    np.cumsum(cnt, out=ptr[1:])
    out_o = np.empty(ptr[-1], np.int32)
    out_d = np.empty(ptr[-1], np.int32)
    out_t = np.empty(ptr[-1], np.float64)
    base_time = np.asarray(base_od.time_s, np.float64)
    new_t = np.asarray(new.time_s, np.float64)
    parts = max(1, int(workers))
    cuts = np.unique(np.concatenate([[0], np.searchsorted(ptr, np.arange(1, parts) * ptr[-1] // parts), [n_z]]))

    def fill(r):
        _splice_fill(int(cuts[r]), int(cuts[r + 1]), base_ptr, base_dest, base_time, new_ptr, new_d, new_t, origins,
                     dests, ptr, out_o, out_d, out_t, np.full(n_z, -1, np.int64), np.empty(n_z))

    run_chunks(fill, list(range(len(cuts) - 1)), workers=parts)
    return {"origin": out_o, "dest": out_d, "time_s": out_t}
