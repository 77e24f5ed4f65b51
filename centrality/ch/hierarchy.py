"""The customizable contraction hierarchy (CCH) of a road network.

Three steps, after Dibbelt, Strasser and Wagner, *Customizable Contraction Hierarchies* (2016):

1. **Order** (metric-independent, depends on the undirected topology only): a nested-dissection
   order from METIS (``pymetis.nested_dissection``), rearranged into a postorder of its
   elimination tree so that every subtree is a contiguous range of ranks (the query skips whole
   subtrees that are out of reach). METIS is a well-kept C library with PyPI wheels and orders
   the 1 M-node benchmark network in ~6 s; coordinates are not needed (an inertial-flow order
   would need a max-flow code of our own, and RoutingKit's took 237 s on the same network).
2. **Contraction** (metric-independent): the chordal supergraph of that order — every node's
   upper neighbours N+(x) (:func:`centrality.ch._kernels.symbolic`).
3. **Customisation** (metric-dependent, float64 seconds — no integer rounding): arc weights in
   both directions from the network's edge times, then the lower-triangle relaxation in rank
   order (parallel over elimination-tree levels). A changed set of edge times is re-customised
   partially (:meth:`Hierarchy.with_edge_times`): only arcs whose weights can change are
   recomputed from scratch, which gives exactly the weights of a full customisation.

Hierarchies are cached in memory on the network object and, with a ``cache_dir``, on disk
(:mod:`centrality.ch.cache`): the order and contraction keyed by a hash of the topology, the
weights by a hash of the topology and the edge times.
"""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import importlib.util
import time
from dataclasses import dataclass, field

import numpy as np

import centrality.ch._kernels as K
from centrality.errors import InputError
from centrality.network import CSR

FORMAT_VERSION = 1      # bump when the order, contraction or cache layout changes
METIS_SEED = 0          # METIS is randomised; a fixed seed makes the order (and cache keys) reproducible


# ------------------------------------------------------------------------------ keys
def undirected_pairs(csr: CSR) -> tuple[np.ndarray, np.ndarray]:
    """Node pairs joined by at least one directed edge.

    Parameters
    ----------
    csr : CSR
        The network's directed edges.

    Returns
    -------
    tuple of numpy.ndarray
        ``(a, b)`` int64, a < b, sorted and unique; self loops dropped.
    """
    n = len(csr.indptr) - 1
    tails = np.repeat(np.arange(n, dtype=np.int64), np.diff(csr.indptr))
    heads = csr.head.astype(np.int64)
    a, b = np.minimum(tails, heads), np.maximum(tails, heads)
    keep = a != b
    key = np.unique(a[keep] * n + b[keep])
    return key // n, key % n


def _digest(*arrays, extra: str = "") -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(f"cch-v{FORMAT_VERSION}-{extra}".encode())
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(a.view(np.uint8).reshape(-1) if a.size else b"")
    return h.hexdigest()


def topology_key(n_nodes: int, a: np.ndarray, b: np.ndarray) -> str:
    """Hash of an undirected topology: keys the node order and contraction.

    Parameters
    ----------
    n_nodes : int
        Number of nodes.
    a, b : numpy.ndarray
        Node pairs (:func:`undirected_pairs`).

    Returns
    -------
    str
        32 hex digits (BLAKE2b, with the cache format version).
    """
    return _digest(np.asarray(a, np.int64), np.asarray(b, np.int64), extra=f"n={n_nodes}")


def metric_key(csr: CSR) -> str:
    """Hash of the directed edges and their times: keys the customised weights.

    Parameters
    ----------
    csr : CSR
        The network's directed edges (times in seconds).

    Returns
    -------
    str
        32 hex digits.
    """
    return _digest(np.asarray(csr.indptr, np.int64), np.asarray(csr.head, np.int32),
                   np.asarray(csr.time_s, np.float64))


# ------------------------------------------------------------------------------ order
def metis_available() -> bool:
    """Whether pymetis (the node order of engine "ch") can be imported.

    Returns
    -------
    bool
    """
    return importlib.util.find_spec("pymetis") is not None


def _pymetis():
    try:
        import pymetis   # a core dependency; optional only inside QGIS's Python (see metis_available)
    except ImportError:
        raise InputError("engine 'ch' needs pymetis for its node order: pip install pymetis (or use engine "
                         "'dijkstra').") from None
    return pymetis


def nested_dissection_rank(n_nodes: int, a: np.ndarray, b: np.ndarray, seed: int = METIS_SEED) -> np.ndarray:
    """Metric-independent node order: METIS nested dissection, made a postorder of its elimination tree.

    Parameters
    ----------
    n_nodes : int
        Number of nodes.
    a, b : numpy.ndarray
        Undirected node pairs.
    seed : int, default METIS_SEED
        METIS's random seed (fixed, so the order and the cache keys are reproducible).

    Returns
    -------
    numpy.ndarray
        int64 rank of every node (0 = contracted first). The postorder is an equivalent order (the
        same chordal supergraph, relabelled) in which every subtree is a contiguous rank range.
    """
    if n_nodes == 0:
        return np.empty(0, np.int64)
    if len(a) == 0:
        return np.arange(n_nodes, dtype=np.int64)
    pymetis = _pymetis()
    u = np.concatenate([a, b])
    v = np.concatenate([b, a])
    order = np.argsort(u, kind="stable")
    xadj = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(u, minlength=n_nodes), out=xadj[1:])
    adjncy = v[order]
    perm, iperm = pymetis.nested_dissection(pymetis.CSRAdjacency(xadj.astype(np.int32), adjncy.astype(np.int32)),
                                            options=pymetis.Options(seed=int(seed)))
    rank0 = np.asarray(iperm, dtype=np.int64)
    if not np.array_equal(np.sort(rank0), np.arange(n_nodes)):
        raise RuntimeError("METIS returned an invalid permutation")
    indptr, adj = _rank_graph(rank0, a, b, n_nodes)
    parent = K.etree_liu(indptr, adj, n_nodes)
    post = K.postorder(parent, n_nodes)          # post[new] = old rank
    new_of_old = np.empty(n_nodes, np.int64)
    new_of_old[post] = np.arange(n_nodes)
    return new_of_old[rank0]


def _rank_graph(rank: np.ndarray, a: np.ndarray, b: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric adjacency (CSR) of the node pairs, with nodes renamed to their rank."""
    ra, rb = rank[a], rank[b]
    u = np.concatenate([ra, rb])
    v = np.concatenate([rb, ra])
    order = np.argsort(u, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(u, minlength=n), out=indptr[1:])
    return indptr, v[order].astype(np.int64)


# ------------------------------------------------------------------------------ topology
@dataclass(eq=False)
class Topology:
    """Order and chordal supergraph of a network (metric-independent).

    Parameters
    ----------
    n_nodes : int
        Number of nodes.
    rank : numpy.ndarray
        int64 rank of every network node.
    up_ptr, up : numpy.ndarray
        Upper neighbours N+(x) of every rank x: ``up[up_ptr[x]:up_ptr[x+1]]`` (int32, ascending).
    key : str
        :func:`topology_key`.
    seconds : dict, optional
        Seconds of the steps (``order_s``, ``contract_s``) and ``source`` ("disk" when loaded).
    """

    n_nodes: int
    rank: np.ndarray
    up_ptr: np.ndarray
    up: np.ndarray
    key: str
    seconds: dict = field(default_factory=dict)
    _lower: tuple | None = field(default=None, repr=False)
    _levels: list | None = field(default=None, repr=False)
    _spaces: dict = field(default_factory=dict, repr=False)

    @property
    def n_arcs(self) -> int:
        """Number of arcs of the chordal supergraph.
        """
        return int(len(self.up))

    def lower(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Lower neighbour lists N-(y), built on first use (~1 s per 20 M arcs).

        Returns
        -------
        tuple of numpy.ndarray
            ``(lo_ptr, lo_x, lo_e)``: for rank y, ``lo_x[lo_ptr[y]:lo_ptr[y+1]]`` are the lower
            neighbours and ``lo_e`` the arcs (x, y).
        """
        if self._lower is None:
            self._lower = K.lower_lists(self.up_ptr, self.up, self.n_nodes)
        return self._lower

    def levels(self) -> list[np.ndarray]:
        """Nodes grouped by elimination-tree height (leaves first).

        Returns
        -------
        list of numpy.ndarray
            Ranks per height; nodes of one height are independent during customisation.
        """
        if self._levels is None:
            h = K.heights(self.up_ptr, self.up, self.n_nodes)
            order = np.argsort(h, kind="stable")
            bounds = np.concatenate([[0], np.cumsum(np.bincount(h))])
            self._levels = [order[bounds[i]:bounds[i + 1]] for i in range(len(bounds) - 1)]
        return self._levels


def contract(n_nodes: int, rank: np.ndarray, a: np.ndarray, b: np.ndarray, key: str) -> Topology:
    """Chordal supergraph of a topology under an order (the contraction).

    Parameters
    ----------
    n_nodes : int
        Number of nodes.
    rank : numpy.ndarray
        Rank of every node.
    a, b : numpy.ndarray
        Undirected node pairs.
    key : str
        The topology key.

    Returns
    -------
    Topology
    """
    t0 = time.perf_counter()
    indptr, adj = _rank_graph(rank, a, b, n_nodes)
    up_ptr, up = K.symbolic(indptr, adj, n_nodes)
    return Topology(n_nodes, rank, up_ptr, up, key, {"contract_s": time.perf_counter() - t0})


def build_topology(csr: CSR, cache=None) -> Topology:
    """Order and contraction of a network (or the cached ones).

    Parameters
    ----------
    csr : CSR
        The network's directed edges (only the undirected pairs matter).
    cache : HierarchyCache, optional
        Disk cache; a hit skips METIS and the contraction.

    Returns
    -------
    Topology
    """
    n = len(csr.indptr) - 1
    a, b = undirected_pairs(csr)
    key = topology_key(n, a, b)
    if cache is not None:
        topo = cache.load_topology(key)
        if topo is not None:
            return topo
    t0 = time.perf_counter()
    rank = nested_dissection_rank(n, a, b)
    order_s = time.perf_counter() - t0
    topo = contract(n, rank, a, b, key)
    topo.seconds["order_s"] = order_s
    if cache is not None:
        cache.save_topology(topo)
    return topo


def extend_topology(base: Topology, csr: CSR, cache=None) -> Topology:
    """Topology of a network with links the base topology does not have, keeping the base order.

    Parameters
    ----------
    base : Topology
        The base network's topology (same nodes).
    csr : CSR
        The extended network's directed edges.
    cache : HierarchyCache, optional
        Disk cache for the extended topology.

    Returns
    -------
    Topology
        The elimination tree of the extended graph under the base ranks, postordered again (an
        equivalent order) and contracted; no new METIS run. The base itself if nothing is new.
    """
    n = base.n_nodes
    a, b = undirected_pairs(csr)
    key = topology_key(n, a, b)
    if key == base.key:
        return base
    if cache is not None:
        topo = cache.load_topology(key)
        if topo is not None:
            return topo
    t0 = time.perf_counter()
    indptr, adj = _rank_graph(base.rank, a, b, n)
    post = K.postorder(K.etree_liu(indptr, adj, n), n)
    new_of_old = np.empty(n, np.int64)
    new_of_old[post] = np.arange(n)
    rank = new_of_old[base.rank]
    order_s = time.perf_counter() - t0
    topo = contract(n, rank, a, b, key)
    topo.seconds["order_s"] = order_s
    topo.seconds["extended_from"] = base.key
    if cache is not None:
        cache.save_topology(topo)
    return topo


# ------------------------------------------------------------------------------ hierarchy
@dataclass(eq=False)
class Hierarchy:
    """A customised contraction hierarchy.

    Parameters
    ----------
    topology : Topology
        Order and chordal supergraph.
    csr : CSR
        The directed edges the weights were customised for.
    w_up, w_down : numpy.ndarray
        Customised float64 seconds per arc, upwards (x -> up[e]) and downwards; inf = no path
        through the lower part of the hierarchy.
    in_up, in_down : numpy.ndarray or None
        Input weights: minimum over ``csr``'s parallel edges of each arc and direction. None
        until :meth:`inputs` needs them (they are only used for re-customisation; 2 × 8 bytes
        per arc are not kept otherwise).
    key : str
        :func:`metric_key` of ``csr`` (for a partial re-customisation: a digest of the base's key
        and the changed pairs' times, which determine the weights as well).
    stats : dict, optional
        Preprocessing: seconds per step, and whether topology and weights came from memory, disk
        or were computed.
    """

    topology: Topology
    csr: CSR
    w_up: np.ndarray
    w_down: np.ndarray
    in_up: np.ndarray | None
    in_down: np.ndarray | None
    key: str
    stats: dict = field(default_factory=dict)

    def inputs(self) -> tuple[np.ndarray, np.ndarray]:
        """The input weights, computed from ``csr`` on first use.

        Returns
        -------
        tuple of numpy.ndarray
            ``(in_up, in_down)`` float64 seconds per arc (inf where a direction has no edge).
        """
        if self.in_up is None or self.in_down is None:
            t = self.topology
            self.in_up, self.in_down = K.input_weights(t.up_ptr, t.up, t.rank, self.csr.indptr, self.csr.head,
                                                       np.asarray(self.csr.time_s, np.float64))
        return self.in_up, self.in_down

    @property
    def n_nodes(self) -> int:
        """Number of nodes.
        """
        return self.topology.n_nodes

    def to_rank(self, nodes) -> np.ndarray:
        """Ranks of network nodes.

        Parameters
        ----------
        nodes : array-like of int
            Network node indices.

        Returns
        -------
        numpy.ndarray
            int64 ranks.
        """
        return self.topology.rank[np.asarray(nodes, dtype=np.int64)]

    def with_edge_times(self, csr: CSR, pairs_tail, pairs_head) -> "Hierarchy":
        """The hierarchy for other edge times on the same topology, re-customised partially.

        Parameters
        ----------
        csr : CSR
            The directed edges of the changed network (same nodes).
        pairs_tail, pairs_head : array-like of int
            Node pairs (network node indices) whose edge times may differ from this hierarchy's
            (changed, closed or added directed edges). Every pair must be an arc of the chordal
            supergraph (:func:`missing_arcs`); its new input weight is the minimum over ``csr``'s
            edges tail -> head (inf if there is none: a closure).

        Returns
        -------
        Hierarchy
            Equal to a full customisation of ``csr`` bit for bit (tested); this hierarchy is not
            modified. For many scenarios on one base, :class:`ScenarioWorkspace` avoids copying the
            weight arrays each time.
        """
        return ScenarioWorkspace(self).customize(csr, pairs_tail, pairs_head)


# a partial re-customisation on 2+ threads is split in two when its nodes' estimated work (their
# lower triangles) is at least SPLIT_MIN_WORK and the smaller half has SPLIT_MIN_SHARE of it
# (below, the second thread costs more than it saves; ScenarioWorkspace.customize)
SPLIT_MIN_WORK = 2_000_000
SPLIT_MIN_SHARE = 0.1


class ScenarioWorkspace:
    """Working copies of a base hierarchy's weights for re-customising one scenario after another.

    Parameters
    ----------
    base : Hierarchy
        The fully customised base hierarchy (never modified).

    Notes
    -----
    :meth:`customize` first restores the arcs the previous scenario changed (O(changed arcs), not
    O(all arcs)), then re-customises partially in place. The returned hierarchy shares the
    workspace's arrays: it is valid until the next :meth:`customize` call.
    """

    def __init__(self, base: "Hierarchy"):
        self.base = base
        self.w_up, self.w_down = base.w_up.copy(), base.w_down.copy()
        self.changed = np.empty(0, np.int64)      # arcs whose weights differ from the base
        self.space_weights: dict = {}             # TargetSpace key -> (wu, wd) working copies
        self.generation = 0
        self._flags = None                        # bool[m] scratch arrays of the kernel (reused)
        self._nodes = None                        # per-node scratch arrays of the kernel (reused)
        self._parts = []                          # per-part (queued, inbox, amap) scratch (reused)
        self._work = None                         # per-node work estimate (split_two)

    def prepare(self, spaces=(), threads: int = 1) -> "ScenarioWorkspace":
        """Build what every partial re-customisation needs, once, before the first scenario.

        The lower-neighbour lists of the topology, the base's input weights, the kernel's scratch
        flags and the working copies of the spaces' weights are otherwise built by the first
        :meth:`customize` / :meth:`weights_for` calls (2–3 s on the national network), which
        would then be charged to the first scenario.

        Parameters
        ----------
        spaces : iterable of TargetSpace, optional
            Restricted spaces the scenarios will query (e.g. the zones' space).
        threads : int, default 1
            Threads of the re-customisations to come (2+: the split's scratch and work estimate
            are prepared too).

        Returns
        -------
        ScenarioWorkspace
            ``self``.
        """
        topo = self.base.topology
        topo.lower()
        self.base.inputs()
        self._scratch()
        if threads > 1:
            self._node_work()
            self._part(2)                     # the scratch of parts 0-2 (the halves and the top)
        for space in spaces:
            if space.key not in self.space_weights:
                bu, bd = space.weights(self.base)
                self.space_weights[space.key] = [bu.copy(), bd.copy(), np.empty(0, np.int64)]
        return self

    def _scratch(self) -> tuple:
        """The kernel's scratch arrays (made once, left clean by every call): the bool[m] flags,
        the shared per-node ``chg_beg``, ``mark`` and ``owner``, and the first part's own arrays."""
        if self._flags is None:
            topo = self.base.topology
            n, m = topo.n_nodes, topo.n_arcs
            self._flags = (np.zeros(m, dtype=np.bool_), np.zeros(m, dtype=np.bool_))
            self._nodes = (np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.bool_), np.zeros(n, dtype=np.int8))
            self._part(0)
        return self._flags, self._nodes

    def _part(self, k: int) -> tuple:
        """Part ``k``'s own scratch ``(queued, inbox, amap)`` (made on first use)."""
        n = self.base.topology.n_nodes
        while len(self._parts) <= k:
            self._parts.append((np.zeros(n, dtype=np.bool_), np.full(n, -1, dtype=np.int64),
                                np.zeros(n, dtype=np.int64)))
        return self._parts[k]

    def _node_work(self) -> np.ndarray:
        """Lower triangles per node (:func:`~centrality.ch._kernels.node_work`), computed once."""
        if self._work is None:
            topo = self.base.topology
            self._work = K.node_work(topo.up_ptr, *topo.lower(), topo.n_nodes)
        return self._work

    def _restore(self) -> None:
        b = self.base
        c = self.changed
        self.w_up[c], self.w_down[c] = b.w_up[c], b.w_down[c]

    def customize(self, csr: CSR, pairs_tail, pairs_head, valid_s: float = np.inf, threads: int = 1,
                  split: bool | None = None) -> "Hierarchy":
        """The scenario hierarchy: restore the previous scenario, re-customise for this one.

        Parameters
        ----------
        csr : CSR
            The scenario network's directed edges (same nodes as the base).
        pairs_tail, pairs_head : array-like of int
            The changed directed node pairs (see :meth:`Hierarchy.with_edge_times`).
        valid_s : float, default inf
            Seconds: the hierarchy only has to be exact for times up to this (e.g. the cutoff of
            the queries that follow). Weights that are above it in the base and in the scenario
            keep their base values and are not propagated, which saves most of the work at the
            top of the hierarchy; every weight is then exact where it is <= ``valid_s`` and above
            ``valid_s`` where the exact one is, so every search bounded by ``valid_s`` gives the
            exact times. Default: exact everywhere (bit-identical to a full customisation).
        threads : int, default 1
            2 or more: the nodes the change can reach are split into two halves that share no
            arc — subtrees of the elimination tree (:func:`~centrality.ch._kernels.split_two`) —,
            which run at the same time on two threads, then the top of the tree on one. The
            weights are the same bit for bit as with one thread (tested).
        split : bool, optional
            With 2+ threads: None (default) splits when the estimated work (lower triangles of
            the nodes concerned) is at least ``SPLIT_MIN_WORK`` and the smaller half has at least
            ``SPLIT_MIN_SHARE`` of it; True splits whenever both halves have work; False never.

        Returns
        -------
        Hierarchy
            Valid until the next call; ``stats`` has the seed, recomputed and changed arc counts,
            ``valid_s`` and ``split`` (the estimated work of the two halves and the top, or None).
        """
        t0 = time.perf_counter()
        base = self.base
        topo = base.topology
        tails = np.asarray(pairs_tail, dtype=np.int64)
        heads = np.asarray(pairs_head, dtype=np.int64)
        keep = tails != heads
        tails, heads = tails[keep], heads[keep]
        ra, rb = topo.rank[tails], topo.rank[heads]
        lo, hi = np.minimum(ra, rb), np.maximum(ra, rb)
        arcs = np.array([K.find_arc(topo.up_ptr, topo.up, int(x), int(y)) for x, y in zip(lo, hi)], dtype=np.int64)
        if (arcs < 0).any():
            raise InputError("with_edge_times: some node pairs are not arcs of the hierarchy (new links between "
                             "nodes the contraction never joined). Build the hierarchy of the changed network "
                             "instead (centrality.ch.scenario handles this).")
        self._restore()
        new_w = _min_edge_time(csr, tails, heads)
        up_dir = ra < rb
        seeds = np.unique(arcs)
        lo_ptr, lo_x, lo_e = topo.lower()
        flags, nodes = self._scratch()
        # the scenario's input weights differ from the base's only at the seeds: patch the base's
        # input arrays for the kernel and put them back afterwards (no 2 x 8 bytes per arc copy)
        in_up, in_down = base.inputs()
        keep_up, keep_down = in_up[seeds].copy(), in_down[seeds].copy()
        n = topo.n_nodes
        args = (topo.up_ptr, topo.up, lo_ptr, lo_x, lo_e, in_up, in_down, base.w_up, base.w_down, self.w_up,
                self.w_down, *flags, n, float(valid_s))
        chg_beg, mark, owner = nodes
        halves = None
        try:
            in_up[arcs[up_dir]] = new_w[up_dir]
            in_down[arcs[~up_dir]] = new_w[~up_dir]
            starts = K.seed_nodes(seeds, topo.up_ptr, flags[0], n)
            if int(threads) > 1:
                wa, wb, wt = (int(x) for x in K.split_two(starts, topo.up_ptr, topo.up, self._node_work(), n, mark,
                                                            owner))
                total = wa + wb + wt
                if min(wa, wb) > 0 and (split or (split is None and total >= SPLIT_MIN_WORK
                                                   and min(wa, wb) >= SPLIT_MIN_SHARE * total)):
                    halves = {"work_a": wa, "work_b": wb, "work_top": wt}
            if halves is None:
                n_nodes, n_re, changed = self._run_part(0, starts, -1, args, chg_beg)[:3]
            else:
                n_nodes, n_re, changed = self._run_split(starts, owner, args, chg_beg)
        finally:
            in_up[seeds], in_down[seeds] = keep_up, keep_down
        self.changed = changed
        self.generation += 1
        stats = {"partial": True, "seed_arcs": int(len(seeds)), "nodes": int(n_nodes), "recomputed_arcs": int(n_re),
                 "changed_arcs": int(len(changed)), "valid_s": float(valid_s), "split": halves,
                 "customize_s": time.perf_counter() - t0}
        # the weights are the base's changed at these pairs: key = base key + the changes (no hash of the csr)
        bounded = "" if np.isinf(valid_s) else f"-valid-{float(valid_s)!r}"
        key = _digest(tails, heads, new_w, extra=f"scenario-of-{base.key}{bounded}")
        h = Hierarchy(topo, csr, self.w_up, self.w_down, None, None, key, stats)
        h._workspace = (self, self.generation)
        return h

    _NO_OWNER = np.empty(0, np.int8)
    _NO_SOURCE = (np.empty(0, np.int64), np.empty((0, 4), np.int64), np.empty((0, 4)), np.empty(0, np.int64),
                  np.empty((0, 4)))

    def _run_part(self, k: int, starts, me: int, args: tuple, chg_beg, owner=None, ext_a=None, ext_b=None) -> tuple:
        """:func:`~centrality.ch._kernels.customize_part` of part ``me`` (-1: all nodes) on scratch ``k``."""
        queued, inbox, amap = self._part(k)
        owner = self._NO_OWNER if owner is None else owner
        return K.customize_part(np.asarray(starts, np.int64), owner, int(me), *args, queued, inbox, chg_beg, amap,
                                ext_a or self._NO_SOURCE, ext_b or self._NO_SOURCE)

    def _run_split(self, starts, owner, args: tuple, chg_beg) -> tuple:
        """The two halves of :func:`~centrality.ch._kernels.split_two` at the same time (parts 0
        and 1), then the top (part 2) with both halves' messages."""
        side = owner[starts]
        with cf.ThreadPoolExecutor(max_workers=1) as pool:
            fa = pool.submit(self._run_part, 0, starts[side == 0], 0, args, chg_beg, owner)
            rb = self._run_part(1, starts[side == 1], 1, args, chg_beg, owner)
            ra = fa.result()
        first = np.unique(np.concatenate([starts[side == 2], ra[7], rb[7]]))
        src = [(self._parts[k][1], r[3], r[4], r[5], r[6]) for k, r in ((0, ra), (1, rb))]
        rt = self._run_part(2, first, 2, args, chg_beg, owner, *src)
        if len(rt[7]):          # the top's upper neighbours are the top: nothing may be left over
            raise RuntimeError("partial re-customisation: the top of the split exported nodes; this is a bug "
                               "(re-customise with threads=1 meanwhile).")
        return (ra[0] + rb[0] + rt[0], ra[1] + rb[1] + rt[1], np.concatenate([ra[2], rb[2], rt[2]]))

    def weights_for(self, space, h: "Hierarchy") -> tuple[np.ndarray, np.ndarray]:
        """Weights of the current scenario in a space's sweep order.

        Parameters
        ----------
        space : TargetSpace
            The restricted space.
        h : Hierarchy
            The current scenario hierarchy of this workspace.

        Returns
        -------
        tuple of numpy.ndarray
            ``(wu, wd)``: the base's space weights, patched at the changed arcs (one copy per space).
        """
        ws, gen = getattr(h, "_workspace", (None, None))
        if ws is not self or gen != self.generation:
            raise InputError("this scenario hierarchy is no longer current: its workspace has re-customised "
                             "another scenario since. Re-customise it again.")
        entry = self.space_weights.get(space.key)
        if entry is None:
            bu, bd = space.weights(self.base)
            entry = [bu.copy(), bd.copy(), np.empty(0, np.int64)]
            self.space_weights[space.key] = entry
        wu, wd, patched = entry
        bu, bd = space.weights(self.base)
        wu[patched], wd[patched] = bu[patched], bd[patched]
        c = self.changed
        topo = self.base.topology
        low = np.searchsorted(topo.up_ptr, c, side="right") - 1       # lower endpoint of each arc
        p = space.pos[low]
        inside = p >= 0
        idx = space.ptr[p[inside]] + (c[inside] - topo.up_ptr[low[inside]])
        wu[idx], wd[idx] = self.w_up[c[inside]], self.w_down[c[inside]]
        entry[2] = idx
        return wu, wd


def _min_edge_time(csr: CSR, tails: np.ndarray, heads: np.ndarray) -> np.ndarray:
    """Minimum time (s) over the edges tail -> head of ``csr`` for each pair (inf if none)."""
    out = np.full(len(tails), np.inf)
    for i, (t, h) in enumerate(zip(tails, heads)):
        s, e = csr.indptr[t], csr.indptr[t + 1]
        hit = csr.head[s:e] == h
        if hit.any():
            out[i] = float(csr.time_s[s:e][hit].min())
    return out


def missing_arcs(topology: Topology, tails, heads) -> np.ndarray:
    """Which node pairs are not arcs of the chordal supergraph.

    Parameters
    ----------
    topology : Topology
    tails, heads : array-like of int
        Network node indices.

    Returns
    -------
    numpy.ndarray
        bool per pair (False for pairs of one node).
    """
    ra = topology.rank[np.asarray(tails, dtype=np.int64)]
    rb = topology.rank[np.asarray(heads, dtype=np.int64)]
    lo, hi = np.minimum(ra, rb), np.maximum(ra, rb)
    return np.array([lo_ != hi_ and K.find_arc(topology.up_ptr, topology.up, int(lo_), int(hi_)) < 0
                     for lo_, hi_ in zip(lo, hi)], dtype=bool)


def customize(topology: Topology, csr: CSR, workers: int = 1) -> Hierarchy:
    """Full customisation of a topology with a network's edge times.

    Parameters
    ----------
    topology : Topology
        Order and contraction.
    csr : CSR
        Directed edges and times (seconds).
    workers : int, default 1
        Threads: disjoint bottom subtrees in parallel, then the top of the elimination tree level
        by level.

    Returns
    -------
    Hierarchy
    """
    t0 = time.perf_counter()
    in_up, in_down = K.input_weights(topology.up_ptr, topology.up, topology.rank, csr.indptr, csr.head,
                                     np.asarray(csr.time_s, np.float64))
    w_up, w_down = in_up, in_down          # customised in place; the inputs are recomputed if needed
    lo_ptr, lo_x, lo_e = topology.lower()
    args = (topology.up_ptr, topology.up, lo_ptr, lo_x, lo_e, w_up, w_down)
    n = topology.n_nodes
    workers = max(1, int(workers))
    if workers == 1:
        K.customize_ranges(np.array([0]), np.array([n]), *args, np.empty(n, np.int64))
    else:
        _customize_parallel(topology, args, workers)
    stats = {"customize_s": time.perf_counter() - t0, "partial": False}
    return Hierarchy(topology, csr, w_up, w_down, None, None, metric_key(csr), stats)


def _customize_parallel(topology: Topology, args: tuple, workers: int) -> None:
    """Bottom subtrees (disjoint rank ranges, processed in rank order for memory locality) on
    ``workers`` threads, then the remaining top of the elimination tree level by level."""
    n = topology.n_nodes
    lo_ptr, lo_x, lo_e = topology.lower()
    own = K.node_work(topology.up_ptr, lo_ptr, lo_x, lo_e, n)
    starts, ends, top = K.cut_subtrees(topology.up_ptr, topology.up, own, n, max(1, int(own.sum()) // (8 * workers)))
    # hand the ranges to the workers in contiguous groups of about equal work
    work = np.add.reduceat(own, starts) if len(starts) else np.empty(0, np.int64)
    cum = np.cumsum(work)
    group = np.minimum((cum - work / 2) * workers // max(1, cum[-1] if len(cum) else 1), workers - 1).astype(int) \
        if len(cum) else np.empty(0, int)
    amaps = [np.empty(n, np.int64) for _ in range(workers)]
    with cf.ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda g: K.customize_ranges(starts[group == g], ends[group == g], *args, amaps[g]),
                      range(workers)))
        if len(top):
            h = K.heights(topology.up_ptr, topology.up, n)[top]
            for level in np.unique(h):
                nodes = top[h == level]
                if len(nodes) < 2 * workers:
                    K.customize_nodes(nodes, *args, amaps[0])
                else:
                    parts = np.array_split(nodes, workers)
                    list(pool.map(lambda ia: K.customize_nodes(ia[1], *args, amaps[ia[0]]), enumerate(parts)))
