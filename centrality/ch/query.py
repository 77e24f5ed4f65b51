"""Many-to-many travel times on a customised hierarchy: batched RPHAST with a cutoff.

For a set of destination nodes (the zones) the *restricted search space* is the targets and all
their elimination-tree ancestors, renumbered in descending rank (:class:`TargetSpace`; built
once per zone set). An OD run then processes ``LANES`` (16) origin nodes per pass:

1. for each origin, an upward search along its elimination-tree path (no priority queue);
2. one downward sweep over the restricted space updating a vector of 16 labels per node
   (pull form: a node takes the minimum over its upper neighbours), which
   - skips arcs whose tail is beyond the cutoff for all 16 origins, and
   - skips a whole subtree when every upper neighbour of its root is beyond the cutoff and no
     origin lies inside (the subtree is entered from above only through those neighbours);
3. emission of the pairs whose total access_o + t + access_d is within the cutoff.

**Exactness and ties at the cutoff.** Hierarchy times are sums of the same float64 edge
times as Dijkstra's, in a different order, so they can differ in the last bits (1e-11 s on the
national benchmark network). A pair is decided by the hierarchy only when its total is
farther than ``band`` from the cutoff, where ``band = (2 n + 4) u · cutoff`` (n nodes,
u = 2^-53) bounds the rounding difference of any two summation orders of a path of at most n
edges. An origin with a total inside the band (typically an exact tie, e.g. integer times that
add up to the cutoff) is recomputed by the Dijkstra backend, so the pair sets of both backends
are identical by construction and times agree to far better than 1e-6 s.
"""
from __future__ import annotations

import time

import numpy as np

import centrality.ch._kernels as K
from centrality.ch.hierarchy import Hierarchy, _digest
from centrality.errors import InputError
from centrality.parallel import run_chunks, scatter, workspace_pool
from centrality.network import group_by_node

LANES = K.LANES
U = 2.0 ** -53


def tie_band(n_nodes: int, cutoff_s: float) -> float:
    """Largest difference between two float64 summation orders of a path's time.

    Parameters
    ----------
    n_nodes : int
        Paths have at most this many edges.
    cutoff_s : float
        Largest total, seconds.

    Returns
    -------
    float
        ``(2 n + 4) u / (1 - n u) · cutoff`` seconds, u = 2^-53 (1.2e-6 s for 1 M nodes and 90
        minutes). Totals closer than this to the cutoff are decided by the Dijkstra backend.
    """
    k = max(int(n_nodes), 1)
    return (2.0 * k + 4.0) * U / (1.0 - k * U) * max(float(cutoff_s), 1.0)


class TargetSpace:
    """Restricted search space of a set of target nodes, in sweep positions.

    Parameters
    ----------
    hierarchy : Hierarchy
        Only its topology is used (the space does not depend on the weights).
    target_ranks : numpy.ndarray
        Ranks of the target (zone) nodes; the space holds them and all their elimination-tree
        ancestors, in descending rank.
    """

    def __init__(self, hierarchy: Hierarchy, target_ranks: np.ndarray):
        topo = hierarchy.topology
        t0 = time.perf_counter()
        if topo.n_arcs >= 2**31:
            raise InputError(f"the hierarchy has {topo.n_arcs} arcs; at most 2^31 are supported.")
        self.sel = K.select_ancestors(topo.up_ptr, topo.up, topo.n_nodes, np.asarray(target_ranks, np.int64))
        self.pos, self.ptr, self.head, self.arc, self.par, self.size = K.restrict(topo.up_ptr, topo.up, self.sel,
                                                                                  topo.n_nodes)
        self.key = ""
        self.seconds = time.perf_counter() - t0

    def weights(self, h: Hierarchy) -> tuple[np.ndarray, np.ndarray]:
        """The up and down arc weights of a hierarchy in this space's sweep order.

        Parameters
        ----------
        h : Hierarchy
            A hierarchy on the same topology (a scenario's weights come patched from its workspace).

        Returns
        -------
        tuple of numpy.ndarray
            ``(wu, wd)`` float64 seconds, contiguous (the sweep streams them); cached on ``h``.
        """
        if getattr(h, "_workspace", None) is not None:
            return h._workspace[0].weights_for(self, h)
        cache = h.__dict__.setdefault("_space_weights", {})
        if self.key not in cache:
            wu = np.empty(self.n_arcs)
            wd = np.empty(self.n_arcs)
            K.gather(h.w_up, self.arc, wu)
            K.gather(h.w_down, self.arc, wd)
            cache.clear()
            cache[self.key] = (wu, wd)
        return cache[self.key]

    def gathered_weights(self, h: Hierarchy) -> tuple[np.ndarray, np.ndarray]:
        """The up and down arc weights of a hierarchy in this space's sweep order, not cached.

        Parameters
        ----------
        h : Hierarchy
            A hierarchy on the same topology (for a scenario hierarchy: its current weights).

        Returns
        -------
        tuple of numpy.ndarray
            ``(wu, wd)`` float64 seconds, new arrays (for one-off spaces: nothing is kept).
        """
        ws, gen = getattr(h, "_workspace", (None, None))
        if ws is not None and gen != ws.generation:
            raise InputError("this scenario hierarchy is no longer current: its workspace has re-customised "
                             "another scenario since. Re-customise it again.")
        wu = np.empty(self.n_arcs)
        wd = np.empty(self.n_arcs)
        K.gather(h.w_up, self.arc, wu)
        K.gather(h.w_down, self.arc, wd)
        return wu, wd

    @property
    def n_positions(self) -> int:
        """Number of nodes in the space.
        """
        return int(len(self.sel))

    @property
    def n_arcs(self) -> int:
        """Number of arcs in the space.
        """
        return int(self.ptr[-1])

    @classmethod
    def of(cls, hierarchy: Hierarchy, target_ranks: np.ndarray) -> "TargetSpace":
        """The space of a target set, cached per topology.

        Parameters
        ----------
        hierarchy : Hierarchy
            Any hierarchy on the topology.
        target_ranks : numpy.ndarray
            Ranks of the target nodes.

        Returns
        -------
        TargetSpace
        """
        key = _digest(np.unique(np.asarray(target_ranks, np.int64)))
        spaces = hierarchy.topology._spaces
        if key not in spaces:
            if len(spaces) >= 4:
                spaces.pop(next(iter(spaces)))
            space = cls(hierarchy, target_ranks)
            space.key = key
            spaces[key] = space
        return spaces[key]


class _Workspace:
    """Per-thread labels of a sweep (LANES float64 per restricted position, ~150 bytes each)."""

    def __init__(self, n: int, n_zones: int):
        self.lab = np.full((n, LANES), np.inf)
        self.mn = np.full(n, np.inf)
        self.stamp = np.full(n, -1, np.int64)
        self.vis = np.full(n, -1, np.int64)
        self.buf = np.empty(n, np.int64)
        self.tl = np.empty((LANES, n_zones))
        self.next_bid = 0


def ch_chunk(task):
    """Pairs of the origin groups ``bounds`` of one run on a hierarchy (picklable: Dask workers).

    Parameters
    ----------
    task : tuple
        ``(space_part, zone_part, bounds)``: ``space_part = (ptr, head, wu, wd, par, size)`` (the
        restricted space and its weights), ``zone_part = (grp_pos, grp_ptr, grp_zone, zone_pos,
        access, cutoff_s, slack, band)`` and ``bounds = (g0, g1)``.

    Returns
    -------
    tuple
        ``(origin, dest, seconds, ambiguous groups, evaluated positions)``; see
        :func:`centrality.ch._kernels.od_batches`.
    """
    (ptr, head, wu, wd, par, size), zone_part, (g0, g1) = task
    grp_pos, grp_ptr, grp_zone, zone_pos, access, cutoff_s, slack, band = zone_part
    n, n_zones = len(ptr) - 1, len(zone_pos)
    pool = workspace_pool(("ch", n, n_zones), lambda: _Workspace(n, n_zones))
    ws = pool.take()
    try:
        bid = ws.next_bid
        ws.next_bid += -(-(g1 - g0) // LANES)
        return K.od_batches(ptr, head, wu, wd, par, size, grp_pos, grp_ptr, grp_zone, g0, g1, zone_pos, access,
                            float(access.min()), cutoff_s, slack, band, ws.lab, ws.mn, ws.stamp, ws.vis, ws.buf,
                            ws.tl, bid)
    finally:
        pool.give(ws)


def ch_pairs(h: Hierarchy, node_rank: np.ndarray, access: np.ndarray, origin_pos: np.ndarray, cutoff_s: float,
             slack: float, workers: int = 1, executor=None, progress=None, should_stop=None,
             chunk_size: int | None = None, space: "TargetSpace | None" = None):
    """Zone pairs within the cutoff from a hierarchy.

    Parameters
    ----------
    h : Hierarchy
        The customised hierarchy of the network.
    node_rank : numpy.ndarray
        Rank of every zone's node.
    access : numpy.ndarray
        Access time of every zone, seconds.
    origin_pos : numpy.ndarray
        Zone positions to compute from.
    cutoff_s : float
        Cutoff on the total time, seconds (inclusive).
    slack : float
        Seconds added to the search bound so that no pair with total <= cutoff is pruned.
    workers : int, default 1
        Local threads.
    executor : optional
        Executor for the chunks (:mod:`centrality.parallel`); the space is scattered once.
    progress, should_stop : callable, optional
        As in :func:`centrality.parallel.run_chunks`.
    chunk_size : int, optional
        Origin groups per chunk (a multiple of the 16 lanes is best).
    space : TargetSpace, optional
        A one-off space of exactly these zones' nodes (e.g. one scenario's affected zones): its
        weights are gathered from ``h`` for this call and neither cached nor scattered under a
        key. Default: :meth:`TargetSpace.of` (cached per topology, weights cached per hierarchy).

    Returns
    -------
    parts : list of tuple
        ``(origin, dest, seconds)`` arrays, each origin's rows contiguous.
    ambiguous : numpy.ndarray
        Origin zones with a total within the tie band of the cutoff (left out of ``parts``).
    info : dict
        Space size, evaluated positions, tie band, seconds.
    """
    t0 = time.perf_counter()
    one_off = space is not None
    space = space if one_off else TargetSpace.of(h, node_rank)
    zone_pos = space.pos[node_rank]
    if (zone_pos < 0).any():
        raise InputError("ch_pairs: the given space does not hold every zone's node. Build it from these zones "
                         "(TargetSpace(h, node_rank)).")
    src_rank, grp_ptr, grp_zone = group_by_node(node_rank[origin_pos], origin_pos)
    # origins in rank order: neighbouring ranks share subtrees, so a batch's reach overlaps
    grp_pos = space.pos[src_rank.astype(np.int64)]
    order = np.argsort(grp_pos, kind="stable")
    counts = np.diff(grp_ptr)[order]
    starts = grp_ptr[:-1][order]
    grp_zone = np.concatenate([grp_zone[s:s + c] for s, c in zip(starts, counts)]) if len(order) else grp_zone
    grp_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    grp_pos = grp_pos[order]
    n_groups = len(grp_pos)
    band = tie_band(h.n_nodes, cutoff_s)
    wu, wd = space.gathered_weights(h) if one_off else space.weights(h)
    space_key = None if one_off else ("ch-space", id(wu), id(wd), getattr(h, "_workspace", (None, 0))[1])
    space_part = scatter(executor, (space.ptr, space.head, wu, wd, space.par, space.size), key=space_key)
    zone_part = scatter(executor, (grp_pos, grp_ptr, grp_zone, zone_pos, access, cutoff_s, slack, band))
    if chunk_size is None:  # whole sweeps; ~20 chunks per worker for balance, progress and cancellation
        per = -(-n_groups // (20 * max(1, int(workers))))
        chunk_size = max(LANES, min(16 * LANES, -(-per // LANES) * LANES))
    chunks = [(space_part, zone_part, (g, min(g + chunk_size, n_groups))) for g in range(0, n_groups, chunk_size)]
    parts = run_chunks(ch_chunk, chunks, workers=workers, executor=executor, progress=progress,
                       should_stop=should_stop)
    amb_groups = np.concatenate([p[3] for p in parts]) if parts else np.empty(0, np.int64)
    ambiguous = np.concatenate([grp_zone[grp_ptr[g]:grp_ptr[g + 1]] for g in amb_groups]) if len(amb_groups) \
        else np.empty(0, np.int64)
    info = {"positions": space.n_positions, "space_arcs": space.n_arcs, "space_s": round(space.seconds, 3),
            "evaluated_positions": int(sum(p[4] for p in parts)), "lanes": LANES, "tie_band_s": band,
            "ambiguous_origins": int(len(ambiguous)), "query_s": time.perf_counter() - t0}
    return [(p[0], p[1], p[2]) for p in parts], np.asarray(ambiguous, np.int64), info


def order_by_origin(parts: list, n_zones: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One table sorted by origin from parts whose origins' rows are contiguous (counting, not sorting).

    Parameters
    ----------
    parts : list of tuple
        ``(origin, dest, seconds)`` arrays; every origin's rows are contiguous and in one part.
    n_zones : int
        Number of zones (origin values are < n_zones).

    Returns
    -------
    tuple of numpy.ndarray
        origin (int32), dest (int32), seconds (float64); each origin's rows keep their order.
        Rows are placed straight from the parts (no intermediate concatenation).
    """
    if not parts:
        return np.empty(0, np.int32), np.empty(0, np.int32), np.empty(0, np.float64)
    cnt = np.zeros(n_zones, dtype=np.int64)
    for o, _, _ in parts:
        cnt += np.bincount(o, minlength=n_zones)
    ptr = np.concatenate([[0], np.cumsum(cnt)])
    total = int(ptr[-1])
    out_o = np.empty(total, np.int32)
    out_d = np.empty(total, np.int32)
    out_t = np.empty(total, np.float64)
    seen = np.zeros(n_zones, dtype=bool)
    for o, d, t in parts:
        if len(o) == 0:
            continue
        start = np.ones(len(o), dtype=bool)
        start[1:] = o[1:] != o[:-1]
        run_start = np.flatnonzero(start)
        run_origin = o[run_start]
        if seen[run_origin].any() or len(np.unique(run_origin)) != len(run_origin):
            raise RuntimeError("order_by_origin: an origin's rows are split over runs")
        seen[run_origin] = True
        run_len = np.diff(np.append(run_start, len(o)))
        target = np.repeat(ptr[run_origin] - run_start, run_len) + np.arange(len(o))
        out_o[target], out_d[target], out_t[target] = o, d, t
    return out_o, out_d, out_t


def _nearest_source_times(h: Hierarchy, space: TargetSpace, source_ranks: np.ndarray, bound_s: float,
                          forward: bool) -> np.ndarray:
    """:func:`times_to_nodes` (``forward=False``) or :func:`times_from_nodes` (``forward=True``):
    an upward search from the sources on the downward (backward query) or upward (forward query)
    weights, then one sweep over the space with the other direction's weights; seconds."""
    topo = h.topology
    if len(source_ranks) == 0:
        return np.full(space.n_positions, np.inf)
    up_w = h.w_up if forward else h.w_down
    b = np.full(topo.n_nodes, np.inf)
    mark = np.zeros(topo.n_nodes, dtype=np.bool_)
    K.backward_up(topo.up_ptr, topo.up, up_w, np.unique(np.asarray(source_ranks, np.int64)), float(bound_s), b, mark)
    f = np.full(space.n_positions, np.inf)
    vis = np.zeros(space.n_positions, dtype=np.int8)
    K.to_sources_sweep(space.ptr, space.head, space.weights(h)[1 if forward else 0], space.size, space.sel, b, mark,
                       float(bound_s), f, vis)
    return np.where(vis == 1, f, np.inf)


def times_to_nodes(h: Hierarchy, space: TargetSpace, source_ranks: np.ndarray, bound_s: float) -> np.ndarray:
    """Seconds from every node of a space to the nearest of some source nodes (a backward query).

    Parameters
    ----------
    h : Hierarchy
        The hierarchy whose weights are used.
    space : TargetSpace
        Where the times are wanted (e.g. the zones' space).
    source_ranks : numpy.ndarray
        Ranks of the sources (e.g. tails of changed edges).
    bound_s : float
        Times above this are not computed (inf), seconds.

    Returns
    -------
    numpy.ndarray
        float64 seconds per position (inf beyond ``bound_s``, up to float rounding).
    """
    return _nearest_source_times(h, space, source_ranks, bound_s, forward=False)


def times_from_nodes(h: Hierarchy, space: TargetSpace, source_ranks: np.ndarray, bound_s: float) -> np.ndarray:
    """Seconds from the nearest of some source nodes to every node of a space (a forward query).

    The mirror image of :func:`times_to_nodes`: the same two kernels with the weight directions
    swapped (upward arcs leave the sources, downward arcs reach the space's nodes).

    Parameters
    ----------
    h : Hierarchy
        The hierarchy whose weights are used.
    space : TargetSpace
        Where the times are wanted (e.g. the zones' space).
    source_ranks : numpy.ndarray
        Ranks of the sources (e.g. heads of changed edges).
    bound_s : float
        Times above this are not computed (inf), seconds.

    Returns
    -------
    numpy.ndarray
        float64 seconds per position (inf beyond ``bound_s``, up to float rounding).
    """
    return _nearest_source_times(h, space, source_ranks, bound_s, forward=True)


def table_chunk(task):
    """Dense times of sources ``s0..s1`` of one table (picklable chunk of :func:`distance_table`).

    Parameters
    ----------
    task : tuple
        ``(topo_part, space_part, src_rank, target_pos, bound, (s0, s1))`` with ``topo_part =
        (up_ptr, up, w_climb, rank_pos)`` and ``space_part = (ptr, head, w_sweep, size)``.

    Returns
    -------
    numpy.ndarray
        float64 seconds (s1 - s0, n_targets); inf above ``bound``.
    """
    (up_ptr, up, w_climb, rank_pos), (ptr, head, w_sweep, size), src_rank, target_pos, bound, (s0, s1) = task
    n, n_nodes = len(ptr) - 1, len(rank_pos)
    out = np.empty((s1 - s0, len(target_pos)))
    pool = workspace_pool(("ch-table", n, n_nodes), lambda: _TableWorkspace(n, n_nodes))
    ws = pool.take()
    try:
        bid = ws.next_bid
        ws.next_bid += -(-(s1 - s0) // LANES)
        K.dist_batches(up_ptr, up, w_climb, rank_pos, ptr, head, w_sweep, size, src_rank[s0:s1], float(bound),
                       target_pos, ws.lab, ws.mn, ws.stamp, ws.vis, ws.b, ws.mark, bid, out)
    finally:
        pool.give(ws)
    return out


class _TableWorkspace:
    """Per-thread arrays of :func:`distance_table`: sweep labels per position, climb labels per node."""

    def __init__(self, n: int, n_nodes: int):
        self.lab = np.full((n, LANES), np.inf)
        self.mn = np.full(n, np.inf)
        self.stamp = np.full(n, -1, np.int64)
        self.vis = np.full(n, -1, np.int64)
        self.b = np.full(n_nodes, np.inf)
        self.mark = np.zeros(n_nodes, dtype=np.bool_)
        self.next_bid = 0


def distance_table(h: Hierarchy, space: TargetSpace, source_nodes: np.ndarray, target_ranks: np.ndarray,
                   bound_s: float, reverse: bool = False, workers: int = 1) -> np.ndarray:
    """Dense travel times between a few source nodes and the targets of a space (batched RPHAST).

    Parameters
    ----------
    h : Hierarchy
        The hierarchy whose weights are used.
    space : TargetSpace
        A space holding the targets (e.g. the zones' space); the sources may lie outside it.
    source_nodes : numpy.ndarray
        Network node indices of the sources (one row each).
    target_ranks : numpy.ndarray
        Ranks of the targets (one column each).
    bound_s : float
        Times above this are inf, seconds (times at or below it are exact).
    reverse : bool, default False
        False: time from each source to each target; True: from each target to each source
        (the same sweeps with the weight directions swapped).
    workers : int, default 1
        Threads (chunks of 16 sources).

    Returns
    -------
    numpy.ndarray
        float64 seconds, shape (n_sources, n_targets).
    """
    topo = h.topology
    src = h.to_rank(source_nodes)
    tgt = space.pos[np.asarray(target_ranks, np.int64)]
    if (tgt < 0).any():
        raise InputError("distance_table: some targets are not in the space. Build the space from them "
                         "(TargetSpace(h, ranks)).")
    rank_pos = space.pos
    wu, wd = space.weights(h)
    climb, sweep = (h.w_down, wu) if reverse else (h.w_up, wd)
    topo_part = (topo.up_ptr, topo.up, climb, rank_pos)
    space_part = (space.ptr, space.head, sweep, space.size)
    step = LANES * max(1, -(-len(src) // (LANES * max(1, int(workers)))))
    chunks = [(topo_part, space_part, src, tgt, float(bound_s), (s, min(s + step, len(src))))
              for s in range(0, len(src), step)]
    rows = run_chunks(table_chunk, chunks, workers=workers)
    return np.concatenate(rows, axis=0) if rows else np.empty((0, len(tgt)))


def check_hierarchy(h: Hierarchy, n_nodes: int) -> None:
    """Raise InputError if the hierarchy belongs to a network with another node count.

    Parameters
    ----------
    h : Hierarchy
    n_nodes : int
        Node count of the network the query runs on.
    """
    if h.n_nodes != n_nodes:
        raise InputError(f"the hierarchy has {h.n_nodes} nodes but the network {n_nodes}. Build the hierarchy of "
                         "this network (centrality.ch.hierarchy_for).")
