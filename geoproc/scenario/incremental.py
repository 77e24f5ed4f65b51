"""Incremental recomputation of zone-to-zone travel times after network edits.

An origin's OD row can change only if some path of length <= its search bound uses a changed
directed edge. Let ``bound_o = cutoff - access_o - min_d access_d`` (seconds; the network time
beyond which no pair of origin o can be in the table) and let ``T`` be the set of tail nodes of the
changed edges (time changed, closed or added). If, in BOTH the baseline and the scenario network,
the shortest time from o's node to every tail in ``T`` exceeds ``bound_o``, then no path of length
<= bound_o in either network uses a changed edge (its prefix up to that edge would be shorter
than bound_o), so both networks have the same set of paths within the bound and o's row is
identical. Checking the baseline catches slow-downs and closures; checking the scenario catches
speed-ups and new links.

The test is one multi-source Dijkstra per network on the *reversed* graph from all tails at once
(``centrality.paths.node_times`` on a reversed CSR), limited to the largest bound; then every
origin is classified in O(1). Only affected origins get a new forward ``od_times`` (its
``origins=`` argument); the rest of the table is copied from the baseline. A small slack
(1e-6 × cutoff) only makes the affected set larger, never smaller, so the result equals a full
recomputation exactly.

Two ways to produce the new rows of the affected origins:
- ``method="exact"`` (default): one forward search per affected origin (``od_times(origins=)``);
  the result is bit-for-bit identical to a full recomputation (tested).
- ``method="corridor"`` / ``"auto"`` (speed-up-only variants: faster or new edges; others fall
  back to "exact"): d'(o, x) = min(d(o, x), min_{a,b} d(o, a) + D'(a, b) + d(b, x)) over the
  endpoints a, b of the changed edges, with baseline distances d from ONE forward and ONE reverse
  multi-source search with dominance pruning, and exact scenario distances D' between endpoints
  from a small overlay graph (:func:`corridor_od` proves it). Identical pairs, times equal up to
  float rounding (< 1e-9 s, tested). Its cost barely grows with the number of edited links or
  affected origins (a large share of a region for a 90-minute cutoff).
- ``method="ch"``: the same path for every kind of edit on the customizable contraction
  hierarchy (:mod:`centrality.ch.scenario`): the baseline hierarchy is re-customised for the
  changed edges (partially; a new link the contraction never joined gets a new contraction with
  the same order); times between the zones and the changed edges' endpoints in both networks
  give the affected origins and destinations and decide the pairs between them from the baseline
  table and the paths through changed edges; origins with a pair this cannot decide (its baseline
  path used a changed edge that got slower or closed; ties at the cutoff) are re-queried with
  batched RPHAST (:func:`centrality.ch.scenario.scenario_pairs` proves it). Same pairs as a full recomputation, times within 1e-6 s
  (tested for closures, slow-downs, speed-ups and new links). ``"auto"`` uses it when the
  hierarchy pays off (:func:`resolve_method`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from numba import njit

from centrality.errors import InputError
from centrality.network import CSR, build_csr
from centrality.parallel import run_chunks
from centrality.ch.build import hierarchy_for
from centrality.ch.scenario import scenario_pairs, scenario_workspace, splice_pairs
from centrality.paths import choose_engine, node_times, od_times
from centrality.settings import CentralitySettings
from centrality.step import ZoneCentrality, centrality_from_od
from geoproc.scenario.definition import Edit, Selection, Variant, resolve_variant
from geoproc.scenario.edits import apply_variant


@dataclass
class IncrementalOD:
    od: object                  # centrality.paths.ODTable for the scenario
    affected: np.ndarray        # bool per zone: origin recomputed
    n_recomputed: int
    n_zones: int
    seconds_check: float        # time spent finding affected origins (s)
    seconds_od: float           # time spent in od_times for the affected origins (s)
    method: str = "exact"       # the method used ("exact", "corridor" or "ch")
    details: dict = field(default_factory=dict)   # "ch": re-customisation statistics and seconds


def reversed_csr(network) -> CSR:
    """CSR of the reversed graph: link u→v (time_fw_s) gives edge v→u and vice versa.

    Parameters
    ----------
    network : centrality.network.RoadNetwork

    Returns
    -------
    centrality.network.CSR
        Edge times in seconds.
    """
    links = network.links
    return build_csr(network.n_nodes, links["v"].to_numpy(np.int64), links["u"].to_numpy(np.int64),
                     links["time_fw_s"].to_numpy(float), links["time_bw_s"].to_numpy(float))


def time_to_targets(network, targets: np.ndarray, limit_s: float) -> np.ndarray:
    """Seconds from every node to the nearest of ``targets``.

    Parameters
    ----------
    network : centrality.network.RoadNetwork
    targets : numpy.ndarray
        Target node indices.
    limit_s : float
        Search limit, seconds.

    Returns
    -------
    numpy.ndarray
        Seconds per node (inf beyond ``limit_s``).
    """
    if len(targets) == 0:
        return np.full(network.n_nodes, np.inf)
    return node_times(reversed_csr(network), np.unique(targets), cutoff_s=limit_s)


def affected_origins(base_net, scen_net, changed_edges: pd.DataFrame, zones, cutoff_min: float) -> np.ndarray:
    """Which zones' OD rows may differ between ``base_net`` and ``scen_net`` (see the module docstring).

    Parameters
    ----------
    base_net, scen_net : centrality.network.RoadNetwork
        Baseline and scenario networks.
    changed_edges : pandas.DataFrame
        One row per changed directed edge: tail, head (node indices), time_base_s, time_new_s
        (seconds; NaN = closed / new), as from :func:`geoproc.scenario.edits.changed_edges`.
    zones : centrality.zones.Zones
        The zones snapped to the baseline network (``node``, ``access_s``).
    cutoff_min : float
        OD cutoff, minutes.

    Returns
    -------
    numpy.ndarray
        bool per zone.
    """
    node = np.asarray(zones.node, dtype=np.int64)
    access = np.asarray(zones.access_s, dtype=float)
    if len(changed_edges) == 0:
        return np.zeros(len(node), dtype=bool)
    cutoff_s = float(cutoff_min) * 60.0
    slack = 1e-6 * max(1.0, cutoff_s)
    bound = cutoff_s - access - access.min() + slack       # network seconds per origin
    tails = changed_edges["tail"].to_numpy(np.int64)
    limit = float(bound.max())
    affected = np.zeros(len(node), dtype=bool)
    for net in (base_net, scen_net):
        affected |= time_to_targets(net, tails, limit)[node] <= bound
    return affected


def splice_rows(base_od, new, affected: np.ndarray) -> dict:
    """Baseline rows of unaffected origins + new rows of the affected ones, placed by per-origin offsets.

    Parameters
    ----------
    base_od : centrality.paths.ODTable
        Baseline OD table (sorted by origin).
    new : object
        ``origin``, ``dest``, ``time_s`` arrays of the affected origins (sorted by origin).
    affected : numpy.ndarray
        bool per zone.

    Returns
    -------
    dict
        ``origin``, ``dest``, ``time_s`` arrays sorted by origin (no global sort).
    """
    n_z = len(affected)
    base_cnt = np.bincount(base_od.origin, minlength=n_z)
    new_cnt = np.bincount(new.origin, minlength=n_z)
    cnt = np.where(affected, new_cnt, base_cnt)
    ptr = np.zeros(n_z + 1, dtype=np.int64)
    np.cumsum(cnt, out=ptr[1:])
    base_ptr, new_ptr = np.concatenate([[0], np.cumsum(base_cnt)]), np.concatenate([[0], np.cumsum(new_cnt)])
    keep = ~affected[base_od.origin]
    rb = np.flatnonzero(keep)
    ob = base_od.origin[rb]
    at_b = ptr[ob] + rb - base_ptr[ob]
    on = np.asarray(new.origin)
    at_n = ptr[on] + np.arange(len(on)) - new_ptr[on]
    out = {}
    for name in ("origin", "dest", "time_s"):
        col = np.empty(ptr[-1], dtype=getattr(base_od, name).dtype)
        col[at_b] = getattr(base_od, name)[rb]
        col[at_n] = getattr(new, name)
        out[name] = col
    return out


def only_speedups(changed_edges: pd.DataFrame) -> bool:
    """Whether no changed directed edge got slower or closed (new links count as speed-ups).

    Parameters
    ----------
    changed_edges : pandas.DataFrame
        One row per changed directed edge: tail, head (node indices), time_base_s, time_new_s
        (seconds; NaN = closed / new), as from :func:`geoproc.scenario.edits.changed_edges`.

    Returns
    -------
    bool
    """
    tb, tn = changed_edges["time_base_s"].to_numpy(float), changed_edges["time_new_s"].to_numpy(float)
    return bool(np.all(~np.isnan(tn) & (np.isnan(tb) | (tn <= tb))))


def incremental_od(base_net, scen_net, zones, base_od, changed_edges: pd.DataFrame, cutoff_min: float,
                   workers: int = 1, executor=None, progress=None, should_stop=None,
                   method: str = "exact") -> IncrementalOD:
    """Scenario OD table = baseline rows of unaffected origins + new rows of the affected ones.

    For "corridor", ``seconds_check`` is 0: the affected-origin test is a by-product of its searches
    and counted in ``seconds_od``.

    Parameters
    ----------
    base_net, scen_net : centrality.network.RoadNetwork
        Baseline and scenario networks.
    zones : centrality.zones.Zones
        The zones snapped to the baseline network (``node``, ``access_s``).
    base_od : centrality.paths.ODTable
        The baseline OD table (seconds).
    changed_edges : pandas.DataFrame
        One row per changed directed edge: tail, head (node indices), time_base_s, time_new_s
        (seconds; NaN = closed / new), as from :func:`geoproc.scenario.edits.changed_edges`.
    cutoff_min : float
        OD cutoff, minutes.
    workers : int, default 1
        Threads.
    executor : concurrent.futures.Executor, optional
        Instead of threads.
    progress, should_stop : callable, optional
        Progress and cancellation callbacks of the searches.
    method : {"exact", "corridor", "auto"}
        "exact" recomputes affected origins with a forward ``od_times`` (bit-for-bit equal to a full
        recomputation); "corridor" (or "auto": the same thing; both use "exact" for variants with
        closures or slow-downs) combines the baseline rows with paths through the changed edges
        (:func:`corridor_od`; same pairs, times equal up to float rounding, < 1e-9 s, tested).

    Returns
    -------
    IncrementalOD
    """
    if method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}, got {method!r}.")
    t0 = time.perf_counter()
    if method == "ch":
        return _incremental_ch(base_net, scen_net, zones, base_od, changed_edges, cutoff_min, workers, executor,
                               progress, should_stop, t0)
    corridor = (method in ("corridor", "auto") and len(changed_edges) > 0 and only_speedups(changed_edges)
                and int(changed_edges[["tail", "head"]].to_numpy().max()) < base_net.n_nodes)
    if corridor:
        affected, new = corridor_od(base_net, changed_edges, zones, base_od, cutoff_min, workers=workers,
                                    executor=executor, should_stop=should_stop)
        t1 = t0                            # the check is a by-product of the corridor searches
    else:
        affected = affected_origins(base_net, scen_net, changed_edges, zones, cutoff_min)
        t1 = time.perf_counter()
        if affected.any():
            new = od_times(scen_net, zones, cutoff_min=cutoff_min, workers=workers, executor=executor,
                           progress=progress, should_stop=should_stop, origins=np.flatnonzero(affected),
                           engine="dijkstra")
    if affected.any():
        od = replace(base_od, **splice_rows(base_od, new, affected), n_settled=new.n_settled, seconds=new.seconds)
    else:
        od = replace(base_od, n_settled=0, seconds=0.0)
    t2 = time.perf_counter()
    return IncrementalOD(od=od, affected=affected, n_recomputed=int(affected.sum()), n_zones=len(affected),
                         seconds_check=t1 - t0, seconds_od=t2 - t1, method="corridor" if corridor else "exact")


METHODS = ("exact", "corridor", "ch", "auto")


def resolve_method(method: str, settings: CentralitySettings, network, n_zones: int) -> str:
    """The incremental method a ScenarioEngine uses.

    Parameters
    ----------
    method : str
        "exact", "corridor", "ch" or "auto".
    settings : CentralitySettings
        Its ``engine`` decides for "auto".
    network : RoadNetwork
        The baseline network.
    n_zones : int
        Number of distinct origin nodes.

    Returns
    -------
    str
        "auto" becomes "ch" when the baseline itself runs on the hierarchy (``settings.engine``
        "ch", or "auto" with enough origins: :func:`centrality.paths.choose_engine`), else stays
        "auto" (corridor for speed-ups, else exact); other methods are returned unchanged.
    """
    if method != "auto":
        return method
    if settings.engine == "ch" or (settings.engine == "auto" and choose_engine("auto", network, n_zones) == "ch"):
        return "ch"
    return "auto"


def _incremental_ch(base_net, scen_net, zones, base_od, changed_edges, cutoff_min, workers, executor, progress,
                    should_stop, t0) -> IncrementalOD:
    """``method="ch"``: re-customise the baseline hierarchy, recompute the pairs the edits can change
    (:func:`centrality.ch.scenario.scenario_pairs`) and splice them into the baseline table."""
    pairs = changed_edges[["tail", "head"]].drop_duplicates().to_numpy(np.int64)
    res = scenario_pairs(base_net, scen_net, zones, cutoff_min, base_od, pairs[:, 0], pairs[:, 1], workers=workers,
                         executor=executor, progress=progress, should_stop=should_stop)
    stats = res.stats
    t1 = time.perf_counter()
    if res.origins.any():
        base_ties = base_od.extra.get("tie_origins")
        ties = None if base_ties is None else np.union1d(np.setdiff1d(base_ties, np.flatnonzero(res.origins)),
                                                         res.od.extra["tie_origins"])
        od = replace(base_od, **splice_pairs(base_od, res.od, res.origins, res.dests, workers=workers), n_settled=0,
                     seconds=stats["query_s"], extra={**base_od.extra, "tie_origins": ties})
    else:
        od = replace(base_od, n_settled=0, seconds=0.0)
    stats["splice_s"] = time.perf_counter() - t1
    return IncrementalOD(od=od, affected=res.origins, n_recomputed=int(res.origins.sum()), n_zones=len(res.origins),
                         seconds_check=stats["recustomize_s"] + stats["affected_s"], seconds_od=stats["query_s"],
                         method="ch", details=stats)


# ------------------------------------------------------------------ corridor method (speed-ups only)
@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _dominated(dom, b, lab, lab_src, lab_dist, lab_next, t) -> bool:
    """True if a settled label in the list starting at ``lab`` (source j, time t_j) has
    ``dom[b, j] + t_j <= t``: a label of source ``b`` with time ``t`` there is useless."""
    while lab >= 0:
        if dom[b, lab_src[lab]] + lab_dist[lab] <= t:
            return True
        lab = lab_next[lab]
    return False


@njit(cache=True, nogil=True, boundscheck=False)
def _dominance_search(indptr, head, wt, sources, dom, is_source_node, limit, tgt_of_node, out,
                      node_first, lab_src, lab_dist, lab_next, hkey, hnode, hsrc):
    """One Dijkstra with a label per (node, source) for all ``sources`` at once, truncated at
    ``limit`` (s). A label (i, t) at node y is dropped when a label (j, t_j) already settled at y
    has ``dom[i, j] + t_j <= t`` (``dom`` = upper bounds of the scenario time from source i to
    source j, 0 on the diagonal, which also drops repeated labels), and a label reaching another
    source node is recorded but not extended. Writes ``out[i, tgt_of_node[y]] = t`` for settled
    labels at target nodes. Returns the number of settled labels, or -1 if a work array is full."""
    n_lab = 0
    size = 0
    cap_l = lab_src.shape[0]
    cap_h = hkey.shape[0]
    for i in range(sources.shape[0]):                      # push (0, sources[i], i)
        if size >= cap_h:
            return -1
        j = size
        size += 1
        while j > 0:
            p = (j - 1) // 2
            if hkey[p] <= 0.0:
                break
            hkey[j], hnode[j], hsrc[j] = hkey[p], hnode[p], hsrc[p]
            j = p
        hkey[j], hnode[j], hsrc[j] = 0.0, sources[i], i
    while size > 0:
        du, u, b = hkey[0], hnode[0], hsrc[0]
        size -= 1
        if size > 0:                                       # last entry to the root, sift down
            k, kn, ks = hkey[size], hnode[size], hsrc[size]
            j = 0
            while True:
                c = 2 * j + 1
                if c >= size:
                    break
                if c + 1 < size and hkey[c + 1] < hkey[c]:
                    c += 1
                if hkey[c] >= k:
                    break
                hkey[j], hnode[j], hsrc[j] = hkey[c], hnode[c], hsrc[c]
                j = c
            hkey[j], hnode[j], hsrc[j] = k, kn, ks
        if _dominated(dom, b, node_first[u], lab_src, lab_dist, lab_next, du):
            continue
        if n_lab >= cap_l:
            return -1
        lab_src[n_lab], lab_dist[n_lab], lab_next[n_lab] = b, du, node_first[u]
        node_first[u] = n_lab
        n_lab += 1
        t = tgt_of_node[u]
        if t >= 0:
            out[b, t] = du
        if is_source_node[u] and u != sources[b]:
            continue
        for e in range(indptr[u], indptr[u + 1]):
            v = head[e]
            nv = du + wt[e]
            if not nv <= limit:
                continue
            if _dominated(dom, b, node_first[v], lab_src, lab_dist, lab_next, nv):
                continue
            if size >= cap_h:
                return -1
            j = size                                       # push (nv, v, b), sift up
            size += 1
            while j > 0:
                p = (j - 1) // 2
                if hkey[p] <= nv:
                    break
                hkey[j], hnode[j], hsrc[j] = hkey[p], hnode[p], hsrc[p]
                j = p
            hkey[j], hnode[j], hsrc[j] = nv, v, b
    return n_lab


def corridor_times(csr: CSR, sources: np.ndarray, dom: np.ndarray, targets: np.ndarray, limit_s: float) -> np.ndarray:
    """Seconds from each source node to each target node with dominance pruning.

    Exact wherever the (source, target) label is not dominated (see :func:`_dominance_search`).

    Parameters
    ----------
    csr : centrality.network.CSR
        The graph (seconds).
    sources : numpy.ndarray
        Distinct source nodes.
    dom : numpy.ndarray
        Upper bounds of the scenario time between sources (seconds), 0 on the diagonal.
    targets : numpy.ndarray
        Target nodes.
    limit_s : float
        Search limit, seconds.

    Returns
    -------
    numpy.ndarray
        len(sources) × len(targets) seconds (inf where dominated or beyond ``limit_s``).
    """
    n = len(csr.indptr) - 1
    is_source = np.zeros(n, dtype=np.bool_)
    is_source[sources] = True
    uniq, inv = np.unique(np.asarray(targets, dtype=np.int64), return_inverse=True)
    tgt_of_node = np.full(n, -1, dtype=np.int64)
    tgt_of_node[uniq] = np.arange(len(uniq))
    cap = 2 * n + 16                                   # labels / heap entries; doubled when full
    while True:
        out = np.full((len(sources), len(uniq)), np.inf)
        n_lab = _dominance_search(csr.indptr, csr.head, csr.time_s, np.asarray(sources, dtype=np.int64),
                                  np.ascontiguousarray(dom, dtype=float), is_source, float(limit_s), tgt_of_node,
                                  out, np.full(n, -1, dtype=np.int32), np.empty(cap, np.int32), np.empty(cap),
                                  np.empty(cap, np.int32), np.empty(cap), np.empty(cap, np.int32),
                                  np.empty(cap, np.int32))
        if n_lab >= 0:
            return out[:, inv]
        cap *= 2


def cached_reversed_csr(network) -> CSR:
    """:func:`reversed_csr` of ``network``, built once and cached on the network object.

    Parameters
    ----------
    network : centrality.network.RoadNetwork

    Returns
    -------
    centrality.network.CSR
    """
    rev = getattr(network, "_reversed_csr", None)
    if rev is None:
        rev = network._reversed_csr = reversed_csr(network)
    return rev


@njit(cache=True, nogil=True, boundscheck=False)
def _chain_rows(origin_idx, base_ptr, base_dest, base_time, d_in, overlay, out_ptr, out_dest, out_time,
                access, cutoff, best, keep):
    """Corridor combination for each origin i (zone ``origin_idx[i]``):
    g[b] = min_a d_in[i, a] + overlay[a, b]; best[x] = min(baseline total, access_o + g[b] + d(b, x) + access_x)
    with d(b, ·) the sparse rows (out_ptr, out_dest, out_time). Writes best[i, :] and keep[i, :]."""
    n_s = overlay.shape[0]
    n_z = best.shape[1]
    g = np.empty(n_s)
    for i in range(origin_idx.shape[0]):
        o = origin_idx[i]
        for x in range(n_z):
            best[i, x] = np.inf
        for r in range(base_ptr[i], base_ptr[i + 1]):
            best[i, base_dest[r]] = base_time[r]
        for b in range(n_s):
            g[b] = np.inf
        for a in range(n_s):
            da = d_in[i, a]
            if da == np.inf:
                continue
            for b in range(n_s):
                v = da + overlay[a, b]
                if v < g[b]:
                    g[b] = v
        a_o = access[o]
        for b in range(n_s):
            if g[b] == np.inf:
                continue
            start = a_o + g[b]
            if start > cutoff:
                continue
            for r in range(out_ptr[b], out_ptr[b + 1]):
                x = out_dest[r]
                v = start + out_time[r] + access[x]
                if v < best[i, x]:
                    best[i, x] = v
        for x in range(n_z):
            keep[i, x] = best[i, x] <= cutoff


def floyd_warshall(w: np.ndarray) -> np.ndarray:
    """All-pairs shortest times of a small dense graph, O(k^3) in k vectorised steps.

    Parameters
    ----------
    w : numpy.ndarray
        k × k edge times, seconds (inf = no edge; zero-time edges allowed, unlike scipy's dense input).

    Returns
    -------
    numpy.ndarray
        k × k shortest times, seconds.
    """
    d = np.array(w, dtype=float)
    np.fill_diagonal(d, np.minimum(np.diag(d), 0.0))
    for m in range(len(d)):
        np.minimum(d, d[:, m, None] + d[None, m, :], out=d)
    return d


def corridor_od(base_net, changed_edges: pd.DataFrame, zones, base_od, cutoff_min: float, workers: int = 1,
                executor=None, should_stop=None, chunk: int | None = None):
    """Affected origins and their scenario OD rows for a speed-up-only variant (faster or new edges).

    Exact, from one forward and one reverse multi-source search on the BASELINE network from the
    set S of endpoints of the changed edges (run in 2 threads), a small overlay graph on S and a
    min-plus combination.

    Formula (d = baseline, d' = scenario network time, D' = scenario time between S nodes):
    d'(o, x) = min(d(o, x), min_{a,b in S} d(o, a) + D'(a, b) + d(b, x)). A scenario path either
    uses no changed edge (length >= d(o, x)) or splits at the tail a of its first and the head b
    of its last changed edge into a baseline prefix, a scenario middle and a baseline suffix; and
    every term is the length of a real scenario walk (baseline edges are not slower in the
    scenario). So several edited links used in sequence are handled by D', computed EXACTLY as
    all-pairs shortest paths (Floyd–Warshall) on the overlay whose edges are the changed edges at
    their new times plus the baseline times between S nodes found by the forward search.

    Pruning (why 2 searches suffice instead of 2 per S node): the search keeps one label per
    (node, source). A label of source i at node y with time t is dropped when source j already
    settled y at t_j with U[i, j] + t_j <= t, where U >= D' (scenario times along changed edges
    only): for every origin, going through j is then at least as good (G(o, j) <= G(o, i) +
    D'(i, j), G(o, b) = min_a d(o, a) + D'(a, b)), and so is every extension of the label. A
    label reaching another S node is not extended (the S node's own label dominates it, since
    D' <= d). The dropped terms are never the unique minimum, so the formula and D' stay exact;
    along a fast corridor almost all far labels are dominated. The reverse search does the same
    with U transposed. Affected origins: d'(o, S) = d(o, S) (the path to the nearest S node has
    no changed edge), so o's row can change only if min_a d(o, a) <= its bound (as in
    :func:`affected_origins`). Times equal a full recomputation up to float rounding of the sums
    (~1e-11 s, tested against full recomputations); a pair exactly at the cutoff could flip.

    Parameters
    ----------
    base_net : centrality.network.RoadNetwork
        The baseline network.
    changed_edges : pandas.DataFrame
        One row per changed directed edge: tail, head (node indices), time_base_s, time_new_s
        (seconds; NaN = closed / new), as from :func:`geoproc.scenario.edits.changed_edges`.
    zones : centrality.zones.Zones
        The zones snapped to the baseline network (``node``, ``access_s``).
    base_od : centrality.paths.ODTable
        The baseline OD table (seconds).
    cutoff_min : float
        OD cutoff, minutes.
    workers : int, default 1
        Threads for the two searches (at most 2 are used).
    executor : concurrent.futures.Executor, optional
        Instead of threads.
    should_stop : callable, optional
        Cancellation callback.
    chunk : int, optional
        Origins combined per batch (memory).

    Returns
    -------
    affected : numpy.ndarray
        bool per zone.
    rows : object
        ``origin``, ``dest``, ``time_s`` (seconds) of the affected origins, sorted by origin.
    """
    t0 = time.perf_counter()
    node = np.asarray(zones.node, dtype=np.int64)
    access = np.asarray(zones.access_s, dtype=float)
    n_z = len(node)
    cutoff_s = float(cutoff_min) * 60.0
    slack = 1e-6 * max(1.0, cutoff_s)
    limit = cutoff_s - 2.0 * access.min() + slack
    tails = changed_edges["tail"].to_numpy(np.int64)
    heads = changed_edges["head"].to_numpy(np.int64)
    s_nodes = np.unique(np.concatenate([tails, heads]))
    k = len(s_nodes)
    targets = np.concatenate([node, s_nodes])
    ti, hi = np.searchsorted(s_nodes, tails), np.searchsorted(s_nodes, heads)
    w_changed = np.full((k, k), np.inf)
    np.minimum.at(w_changed, (ti, hi), changed_edges["time_new_s"].to_numpy(float))
    upper = floyd_warshall(w_changed)              # scenario times along changed edges only (>= D')
    graphs = [(base_net.csr, upper), (cached_reversed_csr(base_net), upper.T)]
    d_out, d_in = run_chunks(lambda g: corridor_times(g[0], s_nodes, g[1], targets, limit), graphs,
                             workers=min(2, max(1, int(workers))), executor=executor, should_stop=should_stop)
    overlay = floyd_warshall(np.minimum(d_out[:, n_z:], w_changed))     # D'(a, b), exact
    bound = cutoff_s - access - access.min() + slack
    affected = d_in[:, :n_z].min(axis=0) <= bound
    origins = np.flatnonzero(affected)
    # sparse rows d(b, x) for zones x within the limit
    fin_b, fin_x = np.nonzero(np.isfinite(d_out[:, :n_z]))
    out_ptr = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(np.bincount(fin_b, minlength=k), out=out_ptr[1:])
    out_dest, out_time = fin_x.astype(np.int64), d_out[fin_b, fin_x]
    chunk = chunk or int(max(1, min(512, 4_000_000 // max(1, n_z))))
    starts = np.searchsorted(base_od.origin, origins, side="left")
    ends = np.searchsorted(base_od.origin, origins, side="right")
    parts_o, parts_d, parts_t = [], [], []
    din_t = d_in[:, :n_z].T
    for c0 in range(0, len(origins), chunk):
        o = origins[c0:c0 + chunk]
        s, e = starts[c0:c0 + chunk], ends[c0:c0 + chunk]
        ptr = np.zeros(len(o) + 1, dtype=np.int64)
        np.cumsum(e - s, out=ptr[1:])
        idx = np.repeat(s - ptr[:-1], e - s) + np.arange(ptr[-1])
        best = np.empty((len(o), n_z))
        keep = np.empty((len(o), n_z), dtype=np.bool_)
        _chain_rows(o, ptr, base_od.dest[idx].astype(np.int64), base_od.time_s[idx],
                    np.ascontiguousarray(din_t[o]), overlay, out_ptr, out_dest, out_time, access, cutoff_s,
                    best, keep)
        i, x = np.nonzero(keep)
        parts_o.append(o[i].astype(np.int32))
        parts_d.append(x.astype(np.int32))
        parts_t.append(best[i, x])
    cat = (lambda p, dt: np.concatenate(p) if p else np.empty(0, dt))
    return affected, _Rows(cat(parts_o, np.int32), cat(parts_d, np.int32), cat(parts_t, float), 0,
                           time.perf_counter() - t0)


@dataclass
class _Rows:
    origin: np.ndarray
    dest: np.ndarray
    time_s: np.ndarray
    n_settled: int
    seconds: float


def od_frame(od) -> pd.DataFrame:
    """OD table as a DataFrame sorted by (origin, dest) — for exact comparisons.

    Parameters
    ----------
    od : centrality.paths.ODTable

    Returns
    -------
    pandas.DataFrame
        origin, dest (zone positions), time_s (seconds).
    """
    df = pd.DataFrame({"origin": od.origin, "dest": od.dest, "time_s": od.time_s})
    return df.sort_values(["origin", "dest"], kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------------ centrality on top of OD
@dataclass
class CentralityState:
    """The scenario engine's state for one network: the OD table and the zone centrality
    computed from it (:func:`centrality.step.centrality_from_od`)."""

    od: object                  # centrality.paths.ODTable
    centrality: ZoneCentrality

    @property
    def table(self) -> pd.DataFrame:
        """jobs_<L>min..., access_decay, index, centrality_class (one row per zone, zone order)."""
        return self.centrality.table

    @property
    def a_ref(self) -> float:
        """The accessibility of index 1000 (decay-weighted jobs)."""
        return self.centrality.reference_access


@dataclass
class VariantOutcome:
    """One evaluated variant: its edits, the incremental OD and the centrality on the baseline's scale."""

    name: str
    resolved: object            # ResolvedVariant
    edits: object               # EditResult
    incremental: IncrementalOD
    state: CentralityState


class ScenarioEngine:
    """Baseline once, then each variant incrementally.

    Parameters
    ----------
    network : centrality.network.RoadNetwork
        The baseline network.
    zones : centrality.zones.Zones
        Zones snapped to the BASELINE network (:func:`centrality.zones.snap_zones`); every variant
        uses the same snapping, so a zone keeps its node (new links only join existing nodes).
    settings : CentralitySettings, optional
        Cutoff, limits, decay, transform, reference and workers (default: the defaults). A
        variant's index uses the baseline's A_ref (``reference_value``), so both are on one scale.
    progress, should_stop, executor
        Passed to the travel-time searches.
    method : {"exact", "corridor", "ch", "auto"}
        See :func:`incremental_od`; "auto" is resolved by :func:`resolve_method`. The baseline
        runs on the same engine as the variants ("ch": the contraction hierarchy, otherwise
        Dijkstra), so unaffected and recomputed rows come from one engine.
    baseline : CentralityState, optional
        An already computed baseline for these network, zones and settings (e.g. sent to a
        worker once for many variants); default: computed on first use.
    """

    def __init__(self, network, zones, settings: CentralitySettings | None = None, progress=None,
                 should_stop=None, executor=None, method: str = "exact", baseline: CentralityState | None = None):
        self.network, self.zones = network, zones
        self.settings = settings or CentralitySettings()
        if method not in METHODS:
            raise InputError(f"method must be one of {', '.join(METHODS)}, got {method!r}.")
        self.method = resolve_method(method, self.settings, network, len(np.unique(np.asarray(zones.node))))
        self.progress, self.should_stop, self.executor = progress, should_stop, executor
        self._baseline: CentralityState | None = baseline
        self.probe_s = 0.0          # seconds of the "ch" baseline's probe scenario (see _probe)

    @property
    def baseline(self) -> CentralityState:
        """The baseline OD table and centrality (computed on first use)."""
        if self._baseline is None:
            od = od_times(self.network, self.zones, cutoff_min=self.settings.cutoff_min, workers=self.settings.workers,
                          executor=self.executor, progress=self.progress, should_stop=self.should_stop,
                          engine="ch" if self.method == "ch" else "dijkstra")
            self._baseline = CentralityState(od, centrality_from_od(od, self.zones, self.settings))
            if self.method in ("corridor", "auto"):
                cached_reversed_csr(self.network)     # baseline preprocessing of the corridor method
            if self.method == "ch":                   # ... and of the ch method (weights' working copies)
                scenario_workspace(hierarchy_for(self.network), self.zones, threads=self.settings.workers)
                self.probe_s = self._probe()
        return self._baseline

    def _probe(self) -> float:
        """Evaluate a one-link probe scenario and discard it; returns its seconds (0 if none fits).

        Part of the "ch" baseline's preprocessing: the first scenario of a process would otherwise
        also load the scenario kernels from numba's cache and fault in the first working memory
        (0.5–1 s on the national network). The probe makes one link at the first zone's node 1 %
        faster (a change no plausibility rule refuses), so every step runs (re-customisation,
        endpoint tables, pairs through the edge, splice, accessibility). It leaves no trace: the
        next scenario restores the workspace's weights first. A probe that cannot be built is
        skipped (the first scenario is then only slower).
        """
        links = self.network.links
        node = int(np.asarray(self.zones.node)[0]) if len(self.zones.node) else -1
        u, v = links["u"].to_numpy(), links["v"].to_numpy()
        t_fw = links["time_fw_s"].to_numpy()
        ok = ((u == node) | (v == node)) & (u != v) & np.isfinite(t_fw) & (t_fw > 0)
        if not ok.any():
            return 0.0
        link_id = links.index[np.flatnonzero(ok)[0]]
        t0 = time.perf_counter()
        try:
            probe = resolve_variant(Variant("probe", [Edit("scale_time", Selection(ids=(int(link_id),)),
                                                           factor=0.99)]), self.network)
        except InputError:
            return 0.0
        self.evaluate(probe)
        return time.perf_counter() - t0

    @property
    def variant_settings(self) -> CentralitySettings:
        """The settings of every variant: the baseline's with A_ref fixed to the baseline's."""
        return self.settings.replace(reference_zone=None, reference_value=self.baseline.a_ref)

    def evaluate(self, resolved) -> VariantOutcome:
        """Apply ``resolved`` (ResolvedVariant), recompute affected origins, index on baseline A_ref.

        Parameters
        ----------
        resolved : geoproc.scenario.definition.ResolvedVariant
            A validated variant.

        Returns
        -------
        VariantOutcome
        """
        base = self.baseline
        t0 = time.perf_counter()
        edit = apply_variant(self.network, resolved)
        t1 = time.perf_counter()
        inc = incremental_od(self.network, edit.network, self.zones, base.od, edit.changed_edges,
                             self.settings.cutoff_min, workers=self.settings.workers, executor=self.executor,
                             progress=self.progress, should_stop=self.should_stop, method=self.method)
        t2 = time.perf_counter()
        # rows of unaffected origins are the baseline's: only the affected origins' accessibility is summed
        state = CentralityState(inc.od, centrality_from_od(inc.od, self.zones, self.variant_settings,
                                                           previous=base.centrality, changed=inc.affected))
        inc.details.update(edits_s=t1 - t0, centrality_s=time.perf_counter() - t2)
        return VariantOutcome(resolved.name, resolved, edit, inc, state)
