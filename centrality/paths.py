"""Exact shortest travel times (Dijkstra with a cutoff) and zone-to-zone OD tables.

Kernels are numba-compiled (``nogil`` so threads run in parallel), float64 times in seconds,
int32 node indices, work arrays reused across origins and reset only at the nodes an origin
touched (no O(n_nodes) work per origin):
- ``node_times``: multi-source Dijkstra with an indexed 4-ary heap (decrease-key, bottom-up pops);
- ``od_times``: a bucket queue (Dial) whose width is the smallest positive edge time, with lazy
  decrease-key and label-correcting re-queueing, which reaches the same fixpoint — bit-identical
  float64 times — as Dijkstra (falls back to the heap when a bucket queue does not fit), and zone
  pairs emitted straight from the reached nodes; entries further down the current bucket are
  prefetched (cache hints only) to hide memory latency.
Nodes are renumbered internally along a Hilbert curve for memory locality. Results are exact:
the same float64 sums a textbook Dijkstra (or networkx) computes. See docs/performance.md.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from numba import njit

import centrality.ch.hierarchy as ch_hierarchy
from centrality._prefetch import prefetch
from centrality.ch.build import hierarchy_for
from centrality.ch.cache import HierarchyCache, default_cache_dir
from centrality.ch.query import ch_pairs, check_hierarchy, order_by_origin
from centrality.errors import InputError
from centrality.fileio import write_table
from centrality.network import CSR, RoadNetwork, group_by_node
from centrality.parallel import run_chunks, scatter, workspace_pool

_UNSEEN = -1
PREFETCH_EDGES = 3  # queue entries ahead whose edge arrays are hinted (tuned on the national network)
PREFETCH_NODE = 5   # queue entries ahead whose dist/indptr are hinted
_SETTLED = -2


# ---------------------------------------------------------------------------------- kernel
@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _sift_up(heap_key, heap_node, pos, i, node, key):
    while i > 0:
        parent = (i - 1) >> 2
        pk = heap_key[parent]
        if pk <= key:
            break
        pn = heap_node[parent]
        heap_key[i] = pk
        heap_node[i] = pn
        pos[pn] = i
        i = parent
    heap_key[i] = key
    heap_node[i] = node
    pos[node] = i


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _pop_min(heap_key, heap_node, pos, size):
    """Remove the root of a heap that now has ``size`` entries (the last one at ``size``).

    Bottom-up variant: the hole at the root moves down to a leaf along the smallest children
    (selected without data-dependent branches), then the former last entry sifts up from there.
    The last entry is usually large, so this saves most comparisons of a classic sift-down."""
    node = heap_node[size]
    key = heap_key[size]
    i = 0
    while True:
        c = 4 * i + 1
        if c + 3 < size:
            k0 = heap_key[c]
            k1 = heap_key[c + 1]
            k2 = heap_key[c + 2]
            k3 = heap_key[c + 3]
            a = c + (k1 < k0)
            ka = min(k0, k1)
            b = c + 2 + (k3 < k2)
            kb = min(k2, k3)
            m = b if kb < ka else a
            mk = min(ka, kb)
        elif c < size:
            m = c
            mk = heap_key[c]
            for j in range(c + 1, size):
                kj = heap_key[j]
                if kj < mk:
                    m = j
                    mk = kj
        else:
            break
        mn = heap_node[m]
        heap_key[i] = mk
        heap_node[i] = mn
        pos[mn] = i
        i = m
    _sift_up(heap_key, heap_node, pos, i, node, key)


@njit(nogil=True, cache=True, boundscheck=False)
def _search(indptr, head, wt, sources, offsets, cutoff, dist, pos, heap_key, heap_node, touched):
    """Multi-source Dijkstra up to ``cutoff`` (inclusive). Writes ``dist`` for every reached
    node and lists them in ``touched[:n]`` (settling order is not guaranteed); returns n.
    ``pos`` must be all -1 (unseen) on entry; the caller resets touched nodes afterwards."""
    n_t = 0
    size = 0
    for k in range(sources.shape[0]):
        s = sources[k]
        d0 = offsets[k]
        if not d0 <= cutoff:
            continue
        p = pos[s]
        if p == _UNSEEN:
            dist[s] = d0
            touched[n_t] = s
            n_t += 1
            _sift_up(heap_key, heap_node, pos, size, s, d0)
            size += 1
        elif d0 < dist[s]:
            dist[s] = d0
            _sift_up(heap_key, heap_node, pos, p, s, d0)
    while size > 0:
        u = heap_node[0]
        du = heap_key[0]
        pos[u] = _SETTLED
        size -= 1
        if size > 0:
            _pop_min(heap_key, heap_node, pos, size)
        for e in range(indptr[u], indptr[u + 1]):
            v = head[e]
            nd = du + wt[e]
            # settled nodes have dist <= du <= nd (weights >= 0), so this also skips them
            if nd >= dist[v] or nd > cutoff:
                continue
            dist[v] = nd
            pv = pos[v]
            if pv == _UNSEEN:
                touched[n_t] = v
                n_t += 1
                _sift_up(heap_key, heap_node, pos, size, v, nd)
                size += 1
            else:
                _sift_up(heap_key, heap_node, pos, pv, v, nd)
    return n_t


@njit(nogil=True, cache=True, boundscheck=False)
def _search_buckets(indptr, head, wt, source, cutoff, inv_delta, dist, touched, bucket_head, ekey, enode, enext):
    """Single-source search to ``cutoff`` with a bucket queue (Dial) of width ``1/inv_delta`` s.

    Buckets are processed in increasing order; an entry is skipped when its key is no longer the
    node's ``dist`` (lazy decrease-key). When the width is <= the smallest positive edge time, no
    node in the current bucket can improve another one except through zero-time edges, so each
    node is normally scanned once; any later improvement simply re-queues the node (label
    correcting), so the result is always the exact fixpoint — the same float64 values as
    Dijkstra. Returns the number of reached nodes (in ``touched``), or -1 if the entry pool
    overflowed (state is then cleaned and the caller falls back to the heap search)."""
    # Arrays are indexed with unsigned integers (U(...)): numba then skips its negative-index
    # wraparound (a compare + select per access), ~15-20 % faster per origin. Arithmetic stays
    # in signed ints (uint64 + int64 would become float64); only the index is cast.
    U = np.uint64
    n_b = bucket_head.shape[0]
    cap = ekey.shape[0]
    dist[U(source)] = 0.0
    touched[0] = source
    n_t = 1
    ekey[0] = 0.0
    enode[0] = source
    enext[0] = -1
    bucket_head[0] = 0
    top = 1
    free = -1
    live = 1
    cur = 0
    while live > 0:
        e = bucket_head[U(cur)]
        if e == -1:
            cur += 1
            continue
        ue = U(e)
        bucket_head[U(cur)] = enext[ue]
        live -= 1
        u = enode[ue]
        du = ekey[ue]
        # latency hiding: hint the edges of the entry PREFETCH_EDGES places down this bucket and
        # the node data of the one PREFETCH_NODE places down (see centrality/_prefetch.py)
        nx = enext[ue]
        step = 1
        while nx != -1 and step < PREFETCH_EDGES:
            nx = enext[U(nx)]
            step += 1
        if nx != -1:
            j0 = U(indptr[U(enode[U(nx)])])
            prefetch(head, j0)
            prefetch(wt, j0)
            while nx != -1 and step < PREFETCH_NODE:
                nx = enext[U(nx)]
                step += 1
            if nx != -1:
                un = U(enode[U(nx)])
                prefetch(dist, un)
                prefetch(indptr, un)
        enext[ue] = free
        free = e
        if du != dist[U(u)]:
            continue
        for j in range(indptr[U(u)], indptr[U(u) + U(1)]):
            uj = U(j)
            v = head[uj]
            nd = du + wt[uj]
            if nd >= dist[U(v)] or nd > cutoff:
                continue
            if free != -1:
                x = free
                free = enext[U(x)]
            elif top < cap:
                x = top
                top += 1
            else:
                for i in range(n_b):
                    bucket_head[i] = -1
                for i in range(n_t):
                    dist[touched[i]] = np.inf
                return -1
            if dist[U(v)] == np.inf:
                touched[U(n_t)] = v
                n_t += 1
            dist[U(v)] = nd
            b = int(nd * inv_delta)
            if b < cur:
                b = cur
            if b >= n_b:
                b = n_b - 1
            ux = U(x)
            ekey[ux] = nd
            enode[ux] = v
            enext[ux] = bucket_head[U(b)]
            bucket_head[U(b)] = x
            live += 1
    return n_t


@njit(nogil=True, cache=True, boundscheck=False)
def _reset(touched, n_t, dist, pos):
    for i in range(n_t):
        v = touched[i]
        dist[v] = np.inf
        pos[v] = _UNSEEN


@njit(nogil=True, cache=True)
def _node_times_kernel(indptr, head, wt, sources, offsets, cutoff, dist, pos, heap_key, heap_node, touched):
    n_t = _search(indptr, head, wt, sources, offsets, cutoff, dist, pos, heap_key, heap_node, touched)
    out = np.full(dist.shape[0], np.inf)
    for i in range(n_t):
        v = touched[i]
        out[v] = dist[v]
    _reset(touched, n_t, dist, pos)
    return out


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _emit(out_o, out_d, out_t, n_out, o, z, t):
    """Append one pair, doubling the buffers when full; returns the (possibly new) buffers."""
    if n_out == out_o.shape[0]:
        cap = 2 * out_o.shape[0]
        new_o = np.empty(cap, np.int32)
        new_d = np.empty(cap, np.int32)
        new_t = np.empty(cap, np.float64)
        new_o[:n_out] = out_o[:n_out]
        new_d[:n_out] = out_d[:n_out]
        new_t[:n_out] = out_t[:n_out]
        out_o, out_d, out_t = new_o, new_d, new_t
    out_o[n_out] = o
    out_d[n_out] = z
    out_t[n_out] = t
    return out_o, out_d, out_t


@njit(nogil=True, cache=True, boundscheck=False)
def _od_kernel(indptr, head, wt, zone_ptr, zone_idx, zone_node, access, src_nodes, grp_ptr, grp_zone, cutoff,
               slack, inv_delta, dist, pos, heap_key, heap_node, touched, bucket_head, ekey, enode, enext):
    """For each origin group g (zones grp_zone[grp_ptr[g]:grp_ptr[g+1]] at node src_nodes[g]) run
    one search and emit (origin zone, dest zone, access_o + t + access_d) for totals <= cutoff.

    Emission visits whichever is smaller: the reached nodes (through the node -> zones CSR) or
    all zones (reading dist at each zone's node); both give the same pairs. ``inv_delta > 0``
    selects the bucket-queue search (see _search_buckets), else the heap search."""
    n_zones = access.shape[0]
    min_access = np.inf
    for z in range(n_zones):
        if access[z] < min_access:
            min_access = access[z]
    out_o = np.empty(1 << 16, np.int32)
    out_d = np.empty(1 << 16, np.int32)
    out_t = np.empty(1 << 16, np.float64)
    n_out = 0
    n_settled = 0
    src = np.empty(1, np.int32)
    off = np.zeros(1, np.float64)
    for g in range(src_nodes.shape[0]):
        a_min_o = np.inf
        for k in range(grp_ptr[g], grp_ptr[g + 1]):
            a = access[grp_zone[k]]
            if a < a_min_o:
                a_min_o = a
        src[0] = src_nodes[g]
        net_cutoff = cutoff - a_min_o - min_access + slack
        n_t = -1
        if inv_delta > 0.0 and net_cutoff * inv_delta < bucket_head.shape[0] - 1:
            n_t = _search_buckets(indptr, head, wt, src[0], net_cutoff, inv_delta, dist, touched, bucket_head,
                                  ekey, enode, enext)
        if n_t < 0:
            n_t = _search(indptr, head, wt, src, off, net_cutoff, dist, pos, heap_key, heap_node, touched)
        n_settled += n_t
        for k in range(grp_ptr[g], grp_ptr[g + 1]):
            o = grp_zone[k]
            a_o = access[o]
            if n_t > n_zones:  # zone-major: O(n_zones), destinations come out in zone order
                for z in range(n_zones):
                    t = a_o + dist[zone_node[z]] + access[z]
                    if t <= cutoff:
                        out_o, out_d, out_t = _emit(out_o, out_d, out_t, n_out, o, z, t)
                        n_out += 1
            else:  # node-major: O(reached nodes)
                for i in range(n_t):
                    x = touched[i]
                    zs = zone_ptr[x]
                    ze = zone_ptr[x + 1]
                    if zs == ze:
                        continue
                    base = a_o + dist[x]
                    for j in range(zs, ze):
                        z = zone_idx[j]
                        t = base + access[z]
                        if t <= cutoff:
                            out_o, out_d, out_t = _emit(out_o, out_d, out_t, n_out, o, z, t)
                            n_out += 1
        _reset(touched, n_t, dist, pos)
    return out_o[:n_out].copy(), out_d[:n_out].copy(), out_t[:n_out].copy(), n_settled


# ---------------------------------------------------------------------------------- workspace
class _Workspace:
    """Per-thread reusable work arrays (about 44 bytes per node, plus 4 bytes per bucket)."""

    def __init__(self, n_nodes: int, n_buckets: int = 1):
        self.dist = np.full(n_nodes, np.inf)
        self.pos = np.full(n_nodes, _UNSEEN, dtype=np.int32)
        self.heap_key = np.empty(n_nodes, dtype=np.float64)
        self.heap_node = np.empty(n_nodes, dtype=np.int32)
        self.touched = np.empty(n_nodes, dtype=np.int32)
        self.bucket_head = np.full(max(1, n_buckets), -1, dtype=np.int32)
        cap = n_nodes + 16 if n_buckets > 1 else 1  # queue entries alive at once; overflow -> heap
        self.ekey = np.empty(cap, dtype=np.float64)
        self.enode = np.empty(cap, dtype=np.int32)
        self.enext = np.empty(cap, dtype=np.int32)

    def arrays(self):
        return self.dist, self.pos, self.heap_key, self.heap_node, self.touched

    def bucket_arrays(self):
        return self.bucket_head, self.ekey, self.enode, self.enext


def hilbert_order(xy: np.ndarray, bits: int = 16) -> np.ndarray:
    """Permutation sorting points along a Hilbert curve (nearby points get nearby positions).

    Parameters
    ----------
    xy : numpy.ndarray
        (n, 2) point coordinates in any one unit (e.g. metres of a projected CRS).
    bits : int, default 16
        Resolution of the curve: the bounding square is cut into ``2**bits`` cells per side.

    Returns
    -------
    numpy.ndarray
        int64 permutation of ``0..n-1``: ``xy[order]`` runs along the curve (stable for points
        in the same cell).
    """
    if len(xy) == 0:
        return np.empty(0, dtype=np.int64)
    lo = xy.min(axis=0)
    span = max(float((xy.max(axis=0) - lo).max()), 1e-9)
    side = 1 << bits
    x, y = (np.minimum(((xy - lo) / span * (side - 1)).astype(np.int64), side - 1)).T
    d = np.zeros(len(xy), dtype=np.int64)
    s = side >> 1
    while s > 0:
        rx = (x & s) > 0
        ry = (y & s) > 0
        d += s * s * ((3 * rx.astype(np.int64)) ^ ry.astype(np.int64))
        flip = ~ry & rx
        x = np.where(flip, side - 1 - x, x)
        y = np.where(flip, side - 1 - y, y)
        x, y = np.where(~ry, y, x), np.where(~ry, x, y)
        s >>= 1
    return np.argsort(d, kind="stable")


class _KernelGraph:
    """CSR arrays the kernel runs on; for a RoadNetwork the nodes are renumbered along a Hilbert
    curve of node_xy so that a search touches compact memory (up to 3x faster on networks whose
    node order is arbitrary). ``new_id[old]`` maps network nodes to kernel nodes."""

    def __init__(self, indptr, head, wt, new_id=None):
        self.indptr = np.ascontiguousarray(indptr, dtype=np.int64)
        self.head = np.ascontiguousarray(head, dtype=np.int32)
        self.wt = np.ascontiguousarray(wt, dtype=np.float64)
        self.new_id = new_id
        self.n_nodes = len(self.indptr) - 1

    def to_kernel(self, nodes: np.ndarray) -> np.ndarray:
        return nodes if self.new_id is None else self.new_id[nodes]

    def from_kernel(self, values: np.ndarray) -> np.ndarray:
        """Per-node values in kernel order -> network node order."""
        return values if self.new_id is None else values[self.new_id]

    @classmethod
    def from_network(cls, network: RoadNetwork) -> "_KernelGraph":
        csr = network.csr
        n = network.n_nodes
        order = hilbert_order(network.node_xy)  # kernel node i = network node order[i]
        new_id = np.empty(n, dtype=np.int64)
        new_id[order] = np.arange(n)
        degree = np.diff(csr.indptr)[order]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(degree, out=indptr[1:])
        # edges of kernel node i are the edges of network node order[i], in their CSR order
        starts = np.repeat(csr.indptr[:-1][order] - indptr[:-1], degree)
        edge = starts + np.arange(len(csr.head))
        return cls(indptr, new_id[csr.head[edge]], csr.time_s[edge], new_id)


def _kernel_graph(network_or_csr) -> _KernelGraph:
    if isinstance(network_or_csr, RoadNetwork):
        cached = getattr(network_or_csr, "_kernel_graph", None)
        if cached is None:
            cached = _KernelGraph.from_network(network_or_csr)
            network_or_csr._kernel_graph = cached
        return cached
    if isinstance(network_or_csr, CSR):
        return _KernelGraph(network_or_csr.indptr, network_or_csr.head, network_or_csr.time_s)
    raise InputError(f"expected a RoadNetwork or CSR, got {type(network_or_csr).__name__}. "
                     "Build the network with centrality.network.RoadNetwork or a builder.")


# ---------------------------------------------------------------------------------- public API
def node_times(network_or_csr: RoadNetwork | CSR, source_nodes, cutoff_s: float = np.inf,
               source_offset_s=None) -> np.ndarray:
    """Shortest travel time from the nearest source to every node (multi-source Dijkstra).

    Parameters
    ----------
    network_or_csr : centrality.network.RoadNetwork or centrality.network.CSR
        The directed graph; edge times in seconds.
    source_nodes : int or array_like of int
        One node index or several (node positions of the network).
    cutoff_s : float, default inf
        Seconds; nodes farther than this (strictly greater) get ``inf``.
    source_offset_s : float or array_like of float, optional
        Start time in seconds of each source (broadcast to ``source_nodes``); default 0.

    Returns
    -------
    numpy.ndarray
        float64 seconds per node of the network (in its node order); ``inf`` for nodes beyond
        the cutoff or unreachable.

    Raises
    ------
    InputError
        No sources, a source outside the network, or a NaN offset or cutoff.
    """
    graph = _kernel_graph(network_or_csr)
    n = graph.n_nodes
    sources = np.atleast_1d(np.asarray(source_nodes)).astype(np.int64)
    if sources.size == 0:
        raise InputError("no source nodes given. Pass at least one node index.")
    if sources.min() < 0 or sources.max() >= n:
        raise InputError(f"source nodes must be node indices in 0..{n - 1}; got {sources[(sources < 0) | (sources >= n)][:5]}.")
    offsets = (np.zeros(len(sources)) if source_offset_s is None
               else np.broadcast_to(np.asarray(source_offset_s, dtype=np.float64), sources.shape).copy())
    if np.isnan(offsets).any():
        raise InputError("source_offset_s contains NaN. Give a start time in seconds for every source.")
    cutoff_s = float(cutoff_s)
    if np.isnan(cutoff_s):
        raise InputError("cutoff_s is NaN. Give a number of seconds (or inf for no cutoff).")
    ws = _Workspace(n)
    times = _node_times_kernel(graph.indptr, graph.head, graph.wt, graph.to_kernel(sources).astype(np.int32),
                               offsets + 0.0, cutoff_s, *ws.arrays())
    return graph.from_kernel(times)


@dataclass
class ODTable:
    """Zone-to-zone travel times within the cutoff.

    Parameters
    ----------
    origin, dest : numpy.ndarray
        int32 zone positions (rows of the Zones object) of each pair; sorted by origin.
    time_s : numpy.ndarray
        float64 total seconds of each pair = access_s[o] + network time + access_s[d].
    cutoff_s : float, default inf
        The cutoff used, in seconds (pairs with a longer total are absent).
    n_zones : int, default 0
        Number of zones (destinations are always all of them).
    n_settled : int, default 0
        Node settlements the searches did (for benchmarks; 0 for the hierarchy engine).
    seconds : float, default 0
        Wall-clock seconds the computation took.
    origins : numpy.ndarray, optional
        Zone positions computed as origins; None means all ``n_zones`` zones.
    extra : dict, optional
        Which engine ran and, for "ch", its preprocessing (cache hit or miss, seconds).
    """

    origin: np.ndarray
    dest: np.ndarray
    time_s: np.ndarray
    cutoff_s: float = np.inf
    n_zones: int = 0
    n_settled: int = 0
    seconds: float = 0.0
    origins: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    def origin_positions(self) -> np.ndarray:
        """Zone positions that were computed as origins.

        Returns
        -------
        numpy.ndarray
            int zone positions: all ``0..n_zones-1`` unless ``origins`` was given.
        """
        return np.arange(self.n_zones) if self.origins is None else self.origins

    def row_ptr(self, n_zones: int | None = None) -> np.ndarray:
        """Row pointers: the pairs of origin ``o`` are rows ``ptr[o]:ptr[o + 1]``.

        The table is sorted by origin, so these are ``n_zones + 1`` binary searches in
        ``origin`` (microseconds), not a count over every pair.

        Parameters
        ----------
        n_zones : int, optional
            Zones to cover (default: the table's ``n_zones``); zones without rows get empty ranges.

        Returns
        -------
        numpy.ndarray
            int64[n + 1], ``n`` = the largest of ``n_zones``, the table's ``n_zones`` and the
            highest origin + 1.
        """
        o = np.asarray(self.origin)
        n = max(int(self.n_zones), int(n_zones or 0), int(o[-1]) + 1 if len(o) else 0)
        return np.searchsorted(o, np.arange(n + 1, dtype=o.dtype)).astype(np.int64)

    @property
    def n_pairs(self) -> int:
        """Number of zone pairs in the table (int)."""
        return int(len(self.origin))

    def to_frame(self, zone_ids=None) -> pd.DataFrame:
        """The pairs as a table.

        Parameters
        ----------
        zone_ids : array_like or centrality.zones.Zones, optional
            Zone ids by zone position, or an object with ``.ids`` (Zones); None gives zone
            positions.

        Returns
        -------
        pandas.DataFrame
            Columns origin_id, dest_id and minutes (float64 door-to-door travel time in minutes).

        Raises
        ------
        InputError
            ``zone_ids`` has fewer entries than the zones the table refers to.
        """
        ids = getattr(zone_ids, "ids", zone_ids)
        if ids is None:
            o, d = self.origin, self.dest
        else:
            ids = np.asarray(ids)
            if len(ids) <= max(int(self.origin.max(initial=-1)), int(self.dest.max(initial=-1))):
                raise InputError(f"zone_ids has {len(ids)} entries but the OD table refers to more zones. "
                                 "Pass the ids of the same zones used for od_times.")
            o, d = ids[self.origin], ids[self.dest]
        return pd.DataFrame({"origin_id": o, "dest_id": d, "minutes": self.time_s / 60.0})

    def to_parquet(self, path: str | os.PathLike, zone_ids=None) -> Path:
        """Write ``to_frame(zone_ids)`` to Parquet atomically.

        Parameters
        ----------
        path : str or os.PathLike
            Output file; must end in .parquet (or .pq).
        zone_ids : array_like or centrality.zones.Zones, optional
            As in :meth:`to_frame`.

        Returns
        -------
        pathlib.Path
            The written file.
        """
        path = Path(path)
        if path.suffix.lower() not in (".parquet", ".pq"):
            raise InputError(f"OD output '{path}' must end in .parquet. Rename the output file.")
        return write_table(self.to_frame(zone_ids), path)


def _zone_arrays(zones, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    for name in ("node", "access_s"):
        if not hasattr(zones, name):
            raise InputError(f"zones object has no '{name}' attribute. Snap zones to the network first "
                             "(centrality.zones.snap_zones).")
    node = np.asarray(zones.node)
    access = np.asarray(zones.access_s, dtype=np.float64)
    if node.ndim != 1 or node.shape != access.shape:
        raise InputError("zones.node and zones.access_s must be 1-D arrays of the same length (one per zone).")
    if len(node) == 0:
        raise InputError("there are no zones. Give at least one zone inside the network area.")
    if not np.issubdtype(node.dtype, np.integer) or node.min() < 0 or node.max() >= n_nodes:
        raise InputError(f"zones.node must be integer node indices in 0..{n_nodes - 1}. "
                         "Snap the zones to this network (the network may have been rebuilt).")
    bad = ~(np.isfinite(access) & (access >= 0))
    if bad.any():
        raise InputError(f"zones.access_s has {bad.sum()} invalid values (NaN, inf or negative) at zone "
                         f"positions {np.flatnonzero(bad)[:5].tolist()}. Access times must be >= 0 seconds.")
    return node.astype(np.int64), access


MAX_BUCKETS = 1 << 16  # 90 min -> buckets >= 0.08 s; empty-bucket scanning stays ~0.1 ms per origin


def _bucket_width(wt: np.ndarray, cutoff_s: float) -> tuple[float, int]:
    """Bucket width for the OD searches: the smallest positive edge time (so nodes are scanned
    once), widened if needed to keep at most MAX_BUCKETS buckets over [0, cutoff] (then nodes
    joined by shorter edges may be re-scanned; results stay exact). Returns
    (1/width, number of buckets), or (0, 1) to use the heap search (no positive edge times)."""
    positive = wt[wt > 0]
    if len(positive) == 0 or not np.isfinite(cutoff_s):
        return 0.0, 1
    delta = max(float(positive.min()), cutoff_s / (MAX_BUCKETS - 2))
    return 1.0 / delta, int(cutoff_s / delta) + 2


def dijkstra_chunk(task: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Pairs of the origin groups ``bounds`` of one ``od_times`` run (Dijkstra backend).

    Module-level and picklable, so it runs on Dask workers too (the parts are scattered once).

    Parameters
    ----------
    task : tuple
        ``(graph_part, zone_part, bounds)`` with ``graph_part = (indptr, head, wt, inv_delta,
        n_buckets)`` (kernel numbering, edge times in seconds, ``inv_delta`` in 1/s),
        ``zone_part = (zone_ptr, zone_idx, zone_node, access, src_nodes, grp_ptr, grp_zone,
        cutoff_s, slack)`` (access, cutoff and slack in seconds) and ``bounds = (g0, g1)``, the
        range of origin groups.

    Returns
    -------
    tuple
        ``(origin, dest, time_s, n_settled)``: int32 zone positions, float64 total seconds of
        each pair within the cutoff, and the number of node settlements (int).
    """
    (indptr, head, wt, inv_delta, n_buckets), zone_part, (g0, g1) = task
    zone_ptr, zone_idx, zone_node, access, src_nodes, grp_ptr, grp_zone, cutoff_s, slack = zone_part
    n = len(indptr) - 1
    pool = workspace_pool(("dijkstra", n, n_buckets), lambda: _Workspace(n, n_buckets))
    ws = pool.take()
    try:
        return _od_kernel(indptr, head, wt, zone_ptr, zone_idx, zone_node, access, src_nodes[g0:g1],
                          grp_ptr[g0:g1 + 1] - grp_ptr[g0], grp_zone[grp_ptr[g0]:grp_ptr[g1]], cutoff_s, slack,
                          inv_delta, *ws.arrays(), *ws.bucket_arrays())
    finally:
        pool.give(ws)


ENGINES = ("auto", "ch", "dijkstra")
#: "auto" uses the hierarchy from this many distinct origin nodes on (preprocessing pays off:
#: on the national benchmark network it costs ~20 s and saves ~15 ms per origin) ...
AUTO_CH_MIN_ORIGINS = 1000
#: ... or from this many when the hierarchy of the network is already in memory or on disk
AUTO_CH_MIN_ORIGINS_CACHED = 32


def choose_engine(engine: str, network: RoadNetwork, n_origin_nodes: int, cache_dir=None) -> str:
    """The backend ``od_times`` uses: "ch" or "dijkstra".

    ``engine="auto"`` picks "ch" when there are at least :data:`AUTO_CH_MIN_ORIGINS` distinct
    origin nodes, or at least :data:`AUTO_CH_MIN_ORIGINS_CACHED` when the network's hierarchy
    is already built (in memory, or in ``cache_dir``); otherwise "dijkstra" (also when pymetis
    is missing). Both give the same pairs and times within 1e-6 s, so the choice only affects
    speed.

    Parameters
    ----------
    engine : str
        "auto", "ch" or "dijkstra" (:data:`ENGINES`).
    network : centrality.network.RoadNetwork
        The network the searches run on.
    n_origin_nodes : int
        Number of distinct network nodes the origins sit on (one search each).
    cache_dir : str or os.PathLike, optional
        Folder of the on-disk hierarchy cache to look in.

    Returns
    -------
    str
        "ch" or "dijkstra".

    Raises
    ------
    InputError
        ``engine`` is not one of :data:`ENGINES`.
    """
    if engine not in ENGINES:
        raise InputError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}.")
    if engine != "auto":
        return engine
    if not ch_hierarchy.metis_available():   # looked up at call time (tests patch it)   # e.g. a QGIS Python without pymetis: Dijkstra gives the same times
        return "dijkstra"
    if n_origin_nodes >= AUTO_CH_MIN_ORIGINS:
        return "ch"
    if n_origin_nodes < AUTO_CH_MIN_ORIGINS_CACHED:
        return "dijkstra"
    if getattr(network, "_ch_hierarchy", None) is not None:
        return "ch"
    if cache_dir is not None:
        if HierarchyCache(cache_dir).has(network):
            return "ch"
    return "dijkstra"


def od_times(network: RoadNetwork, zones, cutoff_min: float = 90.0, workers: int = 1, executor=None,
             progress: Callable[[int, int], None] | None = None,
             should_stop: Callable[[], bool] | None = None, origins=None,
             chunk_size: int | None = None, engine: str = "auto", cache_dir=None, hierarchy=None) -> ODTable:
    """Travel times (seconds) between zones, all pairs with total time <= ``cutoff_min`` minutes.

    Total = access_s[o] + network time + access_s[d]; o == d is included (2 * access_s[o]).
    Zones sharing a node share one search. Both engines give the same pairs and times within
    1e-6 s (ties at the cutoff: see :mod:`centrality.ch.query`).

    Parameters
    ----------
    network : centrality.network.RoadNetwork
        The road network; edge times in seconds.
    zones : centrality.zones.Zones or similar
        Any object with ``.node`` (int node per zone) and ``.access_s`` (seconds from the zone
        point to its node).
    cutoff_min : float, default 90
        Minutes; pairs with a longer total time are left out.
    workers : int, default 1
        Local threads that run chunks of origins.
    executor : executor, optional
        Runs the chunks instead (e.g. :class:`centrality.parallel.DaskExecutor`).
    progress : callable, optional
        ``progress(done, total)`` in chunks, as in :func:`centrality.parallel.run_chunks`.
    should_stop : callable, optional
        ``should_stop()`` polled between chunks; True cancels (``Cancelled`` is raised).
    origins : array_like of int, optional
        Zone positions to compute from (default all; destinations are always all zones).
    chunk_size : int, optional
        Origin groups per chunk (default: about 50 chunks per worker, at most 256 groups).
    engine : str, default "auto"
        "dijkstra" (one bounded search per origin node), "ch" (batched RPHAST on the network's
        contraction hierarchy, :mod:`centrality.ch`; built on first use and cached on the
        network) or "auto" (:func:`choose_engine`).
    cache_dir : str or os.PathLike, optional
        Folder of the on-disk hierarchy cache, or "auto" for
        :func:`centrality.ch.cache.default_cache_dir` (next to the network's source file).
    hierarchy : centrality.ch.Hierarchy, optional
        A prebuilt hierarchy of this network (implies "ch").

    Returns
    -------
    ODTable
        The pairs within the cutoff, sorted by origin; ``extra`` says which engine ran and, for
        "ch", the preprocessing (cache hit or miss, seconds) and ``tie_origins``: the origin zones
        whose rows Dijkstra computed (a total within the tie band of the cutoff).

    Raises
    ------
    InputError
        Zones not snapped to this network, invalid access times, origins, cutoff or engine.
    """
    t0 = time.perf_counter()
    graph = _kernel_graph(network)
    n = graph.n_nodes
    node, access = _zone_arrays(zones, n)
    net_node = node
    node = graph.to_kernel(node)
    cutoff_min = float(cutoff_min)
    if not (cutoff_min > 0 and np.isfinite(cutoff_min)):
        raise InputError(f"cutoff_min must be a positive number of minutes, got {cutoff_min}. Use e.g. 90.")
    cutoff_s = cutoff_min * 60.0
    n_zones = len(node)
    if origins is None:
        origin_pos = np.arange(n_zones, dtype=np.int64)
    else:
        origin_pos = np.unique(np.asarray(origins, dtype=np.int64))
        if len(origin_pos) and (origin_pos.min() < 0 or origin_pos.max() >= n_zones):
            raise InputError(f"origins must be zone positions in 0..{n_zones - 1}. Pass row numbers of zones.")
    _, zone_ptr, zone_idx = group_by_node(node, np.arange(n_zones), n_nodes=n)
    zone_node = node.astype(np.int32)
    src_nodes, grp_ptr, grp_zone = group_by_node(node[origin_pos], origin_pos)
    n_groups = len(src_nodes)
    slack = 1e-9 * max(1.0, cutoff_s)  # never prune a pair whose exact total sum is <= cutoff
    if isinstance(cache_dir, str) and cache_dir == "auto":
        cache_dir = default_cache_dir(network)
    engine = "ch" if hierarchy is not None else choose_engine(engine, network, n_groups, cache_dir)
    if engine == "ch":
        return _od_times_ch(network, n, zones, net_node, access, origin_pos, cutoff_min, slack, workers, executor,
                            progress, should_stop, chunk_size, cache_dir, hierarchy, origins is not None, t0)
    inv_delta, n_buckets = _bucket_width(graph.wt, cutoff_s)
    graph_part = scatter(executor, (graph.indptr, graph.head, graph.wt, inv_delta, n_buckets),
                         key=("dijkstra-graph", id(graph.indptr), id(graph.head), id(graph.wt), inv_delta))
    zone_part = scatter(executor, (zone_ptr, zone_idx, zone_node, access, src_nodes, grp_ptr, grp_zone, cutoff_s,
                                   slack))
    if chunk_size is None:  # ~50 chunks per worker: smooth progress, prompt cancellation, balance
        chunk_size = max(1, min(256, -(-n_groups // (50 * max(1, int(workers))))))
    chunks = [(graph_part, zone_part, (g, min(g + chunk_size, n_groups))) for g in range(0, n_groups, chunk_size)]
    parts = run_chunks(dijkstra_chunk, chunks, workers=workers, executor=executor, progress=progress,
                       should_stop=should_stop)
    origin = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, np.int32)
    dest = np.concatenate([p[1] for p in parts]) if parts else np.empty(0, np.int32)
    time_s = np.concatenate([p[2] for p in parts]) if parts else np.empty(0, np.float64)
    if len(origin) > 1 and (np.diff(origin) < 0).any():
        order = np.argsort(origin, kind="stable")
        origin, dest, time_s = origin[order], dest[order], time_s[order]
    return ODTable(origin=origin, dest=dest, time_s=time_s, cutoff_s=cutoff_s, n_zones=n_zones,
                   n_settled=int(sum(p[3] for p in parts)), seconds=time.perf_counter() - t0,
                   origins=None if origins is None else origin_pos, extra={"engine": "dijkstra"})


def _od_times_ch(network, n_nodes, zones, net_node, access, origin_pos, cutoff_min, slack, workers, executor,
                 progress, should_stop, chunk_size, cache_dir, hierarchy, subset: bool, t0: float) -> ODTable:
    """``od_times`` on the contraction hierarchy; origins with a tie at the cutoff go to Dijkstra."""
    cutoff_s = cutoff_min * 60.0
    t_pre = time.perf_counter()
    h = hierarchy if hierarchy is not None else hierarchy_for(network, cache_dir=cache_dir, workers=workers)
    check_hierarchy(h, n_nodes)
    pre_s = time.perf_counter() - t_pre
    n_zones = len(net_node)
    parts, ambiguous, info = ch_pairs(h, h.to_rank(net_node), access, origin_pos, cutoff_s, slack, workers=workers,
                                      executor=executor, progress=progress, should_stop=should_stop,
                                      chunk_size=chunk_size)
    if len(ambiguous):
        fb = od_times(network, zones, cutoff_min=cutoff_min, workers=workers, executor=executor,
                      should_stop=should_stop, origins=ambiguous, engine="dijkstra")
        parts.append((fb.origin, fb.dest, fb.time_s))
    origin, dest, time_s = order_by_origin(parts, n_zones)
    prep = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in h.stats.items()}
    extra = {"engine": "ch", "ch": {**info, "preprocessing": prep, "preprocessing_s": round(pre_s, 3)},
             "tie_origins": np.asarray(ambiguous, np.int64)}     # rows decided by Dijkstra (ties at the cutoff)
    return ODTable(origin=origin, dest=dest, time_s=time_s, cutoff_s=cutoff_s, n_zones=n_zones, n_settled=0,
                   seconds=time.perf_counter() - t0, origins=origin_pos if subset else None, extra=extra)
