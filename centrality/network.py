"""Road network: a links table (one row per physical link) plus node coordinates, and the
directed CSR adjacency the shortest-path kernel runs on.

Units: node coordinates and ``length_m`` in metres of ``crs``; ``time_fw_s``/``time_bw_s`` in
seconds (``NaN`` = that direction is not allowed, e.g. the wrong way of a one-way street).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from centrality.errors import InputError, require_columns

REQUIRED_LINK_COLUMNS = ("u", "v", "length_m", "time_fw_s", "time_bw_s", "kind")
_MAX_LISTED = 5


class CSR(NamedTuple):
    """Directed adjacency in compressed sparse row form (edges sorted by tail node).

    ``indptr`` int64[n+1]: edges of node i are ``indptr[i]:indptr[i+1]``;
    ``head`` int32[m]: head node of each directed edge; ``time_s`` float64[m]: travel time (s);
    ``link_pos`` int64[m]: row position of the physical link in ``RoadNetwork.links``;
    ``forward`` bool[m]: True if the edge runs u -> v of its link, False for v -> u.
    """

    indptr: np.ndarray
    head: np.ndarray
    time_s: np.ndarray
    link_pos: np.ndarray
    forward: np.ndarray

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.indptr) - 1

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return len(self.head)


def _ids_text(ids) -> str:
    ids = list(ids)
    shown = ", ".join(str(i) for i in ids[:_MAX_LISTED])
    return shown + (f", ... ({len(ids)} in all)" if len(ids) > _MAX_LISTED else "")


def _float_column(links: pd.DataFrame, name: str) -> np.ndarray:
    col = links[name]
    if col.dtype == np.float64:          # a float64 column as it is (no copy)
        return col.to_numpy()
    try:
        return np.asarray(pd.to_numeric(col), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"links column '{name}' must be numeric (seconds/metres): {exc}. "
                         "Convert it to numbers before building the network.") from None


def _check_times(link_ids: np.ndarray, t: np.ndarray, name: str) -> None:
    """Allowed directions (non-NaN) must have a finite, non-negative time in seconds."""
    bad = ~np.isnan(t) & ~(np.isfinite(t) & (t >= 0))
    if bad.any():
        raise InputError(
            f"links {_ids_text(link_ids[bad])} have an invalid {name} ({_ids_text(t[bad])}); "
            f"travel times must be finite and >= 0 seconds. Fix the speed/length of those links, "
            f"or set {name} to NaN (empty) to forbid that direction."
        )


def _check_nodes(link_ids: np.ndarray, links: pd.DataFrame, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    out = []
    for name in ("u", "v"):
        col = links[name]
        if col.dtype.kind in "iu" and len(col):       # integer column: check the range, no float copy
            raw = col.to_numpy()
            if int(raw.min()) >= 0 and int(raw.max()) < n_nodes:
                out.append(raw.astype(np.int64, copy=False))
                continue
        raw = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(raw) | (raw != np.floor(raw)) | (raw < 0) | (raw >= n_nodes)
        if bad.any():
            raise InputError(
                f"links {_ids_text(link_ids[bad])} have {name} = {_ids_text(links[name].to_numpy()[bad])}, "
                f"which is not a node index in 0..{n_nodes - 1}. u and v must be integer positions "
                "in node_xy; rebuild the links table with the network builder."
            )
        out.append(raw.astype(np.int64))
    return out[0], out[1]


def group_by_node(nodes: np.ndarray, members: np.ndarray, n_nodes: int | None = None):
    """CSR grouping of ``members`` by the node each sits on.

    Parameters
    ----------
    nodes : numpy.ndarray
        Integer node index of each member (e.g. the node each zone is snapped to).
    members : numpy.ndarray
        The members (e.g. zone positions), same length.
    n_nodes : int, optional
        With it, the pointer array covers every node ``0..n_nodes-1`` instead of the unique ones.

    Returns
    -------
    tuple
        ``(unique nodes (int32) or None with n_nodes, ptr (int64), members sorted by node (int32))``:
        the members of group ``g`` are ``sorted[ptr[g]:ptr[g + 1]]``.
    """
    order = np.argsort(nodes, kind="stable")
    sorted_nodes = nodes[order]
    if n_nodes is not None:
        ptr = np.zeros(n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(sorted_nodes, minlength=n_nodes), out=ptr[1:])
        return None, ptr, members[order].astype(np.int32)
    uniq, start = np.unique(sorted_nodes, return_index=True)
    ptr = np.append(start, len(sorted_nodes)).astype(np.int64)
    return uniq.astype(np.int32), ptr, members[order].astype(np.int32)


def build_csr(n_nodes: int, u: np.ndarray, v: np.ndarray, t_fw: np.ndarray, t_bw: np.ndarray) -> CSR:
    """Directed CSR from physical links.

    Link i gives edge u->v (time ``t_fw[i]``) unless ``t_fw[i]`` is NaN, and edge v->u (time
    ``t_bw[i]``) unless ``t_bw[i]`` is NaN.

    Parameters
    ----------
    n_nodes : int
        Number of nodes.
    u, v : numpy.ndarray
        End node positions of each link (int).
    t_fw, t_bw : numpy.ndarray
        Travel time along and against the link, seconds (NaN = not allowed).

    Returns
    -------
    CSR
        Edges sorted by tail node.
    """
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    t_fw = np.asarray(t_fw, dtype=np.float64)
    t_bw = np.asarray(t_bw, dtype=np.float64)
    fw = np.flatnonzero(~np.isnan(t_fw))
    bw = np.flatnonzero(~np.isnan(t_bw))
    tail = np.concatenate([u[fw], v[bw]])
    head = np.concatenate([v[fw], u[bw]])
    time_s = np.concatenate([t_fw[fw], t_bw[bw]])
    link_pos = np.concatenate([fw, bw]).astype(np.int64)
    forward = np.concatenate([np.ones(len(fw), bool), np.zeros(len(bw), bool)])
    order = np.argsort(tail, kind="stable")
    indptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(tail, minlength=n_nodes), out=indptr[1:])
    return CSR(indptr=indptr, head=np.ascontiguousarray(head[order], dtype=np.int32),
               time_s=np.ascontiguousarray(time_s[order]), link_pos=np.ascontiguousarray(link_pos[order]),
               forward=np.ascontiguousarray(forward[order]))


def csr_with_times(csr: CSR, t_fw: np.ndarray, t_bw: np.ndarray) -> CSR | None:
    """The CSR of the same links with other times, when the same directions are allowed.

    Parameters
    ----------
    csr : CSR
        :func:`build_csr` of links with the same u, v (row order) and the same NaN pattern.
    t_fw, t_bw : numpy.ndarray
        The new times along and against each link (row order), seconds (NaN = not allowed).

    Returns
    -------
    CSR or None
        Equal to ``build_csr(n, u, v, t_fw, t_bw)`` array for array (the edges and their order
        depend only on u, v and the allowed directions; only ``time_s`` is gathered anew), or None
        when the number of allowed directions differs (then build the CSR).
    """
    t_fw = np.asarray(t_fw, dtype=np.float64)
    t_bw = np.asarray(t_bw, dtype=np.float64)
    n_allowed = int(np.count_nonzero(~np.isnan(t_fw)) + np.count_nonzero(~np.isnan(t_bw)))
    if n_allowed != csr.n_edges:
        return None
    time_s = t_fw[csr.link_pos]
    back = np.flatnonzero(~csr.forward)
    time_s[back] = t_bw[csr.link_pos[back]]
    if np.isnan(time_s).any():           # a direction was closed and another opened: not the same edges
        return None
    return csr._replace(time_s=np.ascontiguousarray(time_s))


@dataclass(eq=False)
class RoadNetwork:
    """Road network in a metric CRS.

    ``node_xy`` (n_nodes, 2) float64 metres; ``links`` GeoDataFrame indexed by unique int64 link id
    with columns u, v (node positions), length_m, time_fw_s, time_bw_s (seconds, NaN = direction
    not allowed), kind ("road"|"ferry"), any source attributes, and LineString geometry;
    ``report`` says what builders / SCC filtering dropped. ``.csr`` is built lazily and cached.
    """

    node_xy: np.ndarray
    links: gpd.GeoDataFrame
    crs: str = "EPSG:25833"
    report: dict = field(default_factory=dict)
    _csr: CSR | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.node_xy = np.ascontiguousarray(self.node_xy, dtype=np.float64)
        if self.node_xy.ndim != 2 or self.node_xy.shape[1] != 2:
            raise InputError(f"node_xy must have shape (n_nodes, 2), got {self.node_xy.shape}. "
                             "Give one (x, y) pair in metres per node.")
        if not isinstance(self.links, pd.DataFrame):
            raise InputError("links must be a (Geo)DataFrame with one row per link.")
        require_columns(self.links.columns, REQUIRED_LINK_COLUMNS, "links table",
                        "Build networks with centrality.builders or RoadNetwork.from_arrays.")
        if not self.links.index.is_unique:
            dup = self.links.index[self.links.index.duplicated()].unique()
            raise InputError(f"link ids (the links index) are not unique: {_ids_text(dup)}. "
                             "Reset the index (links.reset_index(drop=True)) or give unique ids.")
        if not pd.api.types.is_integer_dtype(self.links.index.dtype):
            raise InputError(f"link ids (the links index) must be integers, got {self.links.index.dtype}. "
                             "Use links.reset_index(drop=True) or set an int64 id column as index.")
        ids = self.links.index.to_numpy()
        u, v = _check_nodes(ids, self.links, self.n_nodes)
        t_fw = _float_column(self.links, "time_fw_s")
        t_bw = _float_column(self.links, "time_bw_s")
        _check_times(ids, t_fw, "time_fw_s")
        _check_times(ids, t_bw, "time_bw_s")
        self._arrays = (u, v, t_fw, t_bw)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_arrays(cls, node_xy, u, v, time_fw_s, time_bw_s=None, *, length_m=None, kind=None,
                    crs: str = "EPSG:25833", link_ids=None, attrs: dict | None = None,
                    report: dict | None = None) -> "RoadNetwork":
        """Network from plain arrays (tests, synthetic networks).

        Parameters
        ----------
        node_xy : array_like
            (n_nodes, 2) node coordinates, metres of ``crs``.
        u, v : array_like
            Link end node positions.
        time_fw_s : array_like
            Travel time along each link, seconds (NaN = not allowed).
        time_bw_s : array_like, optional
            Travel time against each link, seconds; None = two-way with the same time both ways
            (give NaN entries for one-way links).
        length_m : array_like, optional
            Link lengths, metres (default: the straight-line node distance).
        kind : array_like, optional
            "road" or "ferry" per link (default "road").
        crs : str
            The metric CRS of the coordinates.
        link_ids : array_like, optional
            Unique int64 link ids (default 0..n-1).
        attrs : dict, optional
            More link columns.
        report : dict, optional
            The builder report.

        Returns
        -------
        RoadNetwork
            Geometry is the straight line between the two nodes of each link.
        """
        node_xy = np.ascontiguousarray(node_xy, dtype=np.float64)
        u = np.asarray(u, dtype=np.int64)
        v = np.asarray(v, dtype=np.int64)
        t_fw = np.asarray(time_fw_s, dtype=np.float64)
        t_bw = t_fw.copy() if time_bw_s is None else np.asarray(time_bw_s, dtype=np.float64)
        if not (len(u) == len(v) == len(t_fw) == len(t_bw)):
            raise InputError("u, v, time_fw_s and time_bw_s must have the same length (one per link).")
        if len(u) and (min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= len(node_xy)):
            raise InputError(f"u/v must be node positions in 0..{len(node_xy) - 1}; fix the link endpoints.")
        xy_u, xy_v = node_xy[u], node_xy[v]
        if length_m is None:
            length_m = np.hypot(*(xy_v - xy_u).T)
        data = {"u": u, "v": v, "length_m": np.asarray(length_m, dtype=np.float64),
                "time_fw_s": t_fw, "time_bw_s": t_bw,
                "kind": np.full(len(u), "road", dtype=object) if kind is None else np.asarray(kind, dtype=object)}
        data.update(attrs or {})
        geometry = shapely.linestrings(np.stack([xy_u, xy_v], axis=1)) if len(u) else []
        index = pd.Index(np.arange(len(u)) if link_ids is None else np.asarray(link_ids), dtype=np.int64,
                         name="link_id")
        links = gpd.GeoDataFrame(data, geometry=geometry, crs=crs, index=index)
        return cls(node_xy=node_xy, links=links, crs=crs, report=dict(report or {}))

    def replace_links(self, links: gpd.GeoDataFrame, node_xy: np.ndarray | None = None) -> "RoadNetwork":
        """New network with other links (and optionally other nodes); the CSR is rebuilt lazily.

        Parameters
        ----------
        links : geopandas.GeoDataFrame
            The links table (columns as in :class:`RoadNetwork`).
        node_xy : numpy.ndarray, optional
            New node coordinates, metres (default: keep).

        Returns
        -------
        RoadNetwork
        """
        return RoadNetwork(node_xy=self.node_xy if node_xy is None else node_xy, links=links,
                           crs=self.crs, report=dict(self.report))

    def with_link_times(self, link_ids, time_fw_s=None, time_bw_s=None) -> "RoadNetwork":
        """New network where the given links get new travel times.

        Parameters
        ----------
        link_ids : array_like
            Ids of links in ``links.index``.
        time_fw_s, time_bw_s : float or array_like, optional
            New times along/against the links, seconds (None = keep; NaN = forbid the direction).

        Returns
        -------
        RoadNetwork
        """
        link_ids = np.atleast_1d(np.asarray(link_ids))
        missing = ~np.isin(link_ids, self.links.index.to_numpy())
        if missing.any():
            raise InputError(f"link ids {_ids_text(link_ids[missing])} are not in the network. "
                             "Use ids from network.links.index.")
        links = self.links.copy()
        if time_fw_s is not None:
            links.loc[link_ids, "time_fw_s"] = time_fw_s
        if time_bw_s is not None:
            links.loc[link_ids, "time_bw_s"] = time_bw_s
        return self.replace_links(links)

    # ------------------------------------------------------------------ derived
    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_xy.shape[0])

    @property
    def n_links(self) -> int:
        """Number of physical links (rows of links)."""
        return int(len(self.links))

    @property
    def n_edges(self) -> int:
        """Number of directed edges (allowed link directions)."""
        return self.csr.n_edges

    @property
    def csr(self) -> CSR:
        """The directed adjacency (:class:`CSR`), built on first use and cached."""
        if self._csr is None:
            self._csr = build_csr(self.n_nodes, *self._arrays)
        return self._csr

    def __repr__(self) -> str:
        return f"RoadNetwork(n_nodes={self.n_nodes}, n_links={self.n_links}, crs={self.crs!r})"


def largest_scc(network: RoadNetwork) -> RoadNetwork:
    """Keep only the largest strongly connected component (every node can reach every other).

    Nodes are renumbered 0..k-1 in their original order; links with an endpoint outside the
    component are dropped. ``report`` gets ``scc_dropped_nodes``, ``scc_dropped_links`` and
    ``scc_kept_nodes``.

    Parameters
    ----------
    network : RoadNetwork

    Returns
    -------
    RoadNetwork
        Its ``original_node`` attribute (int64 array) gives, for each kept node, its position in
        the input network (to map snapped zones or node tables).
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    n = network.n_nodes
    csr = network.csr
    if n == 0:
        raise InputError("the network has no nodes. Check the input road layer / area.")
    graph = csr_matrix((np.ones(csr.n_edges, dtype=np.int8), csr.head, csr.indptr), shape=(n, n))
    _, labels = connected_components(graph, directed=True, connection="strong")
    keep = labels == np.argmax(np.bincount(labels))
    new_id = np.cumsum(keep) - 1
    u, v = network._arrays[0], network._arrays[1]
    keep_link = keep[u] & keep[v]
    links = network.links.loc[keep_link].copy()
    links["u"] = new_id[u[keep_link]]
    links["v"] = new_id[v[keep_link]]
    report = dict(network.report)
    report.update(scc_kept_nodes=int(keep.sum()), scc_dropped_nodes=int(n - keep.sum()),
                  scc_dropped_links=int((~keep_link).sum()))
    out = RoadNetwork(node_xy=network.node_xy[keep], links=links, crs=network.crs, report=report)
    out.original_node = np.flatnonzero(keep)  # position of each kept node in the input network
    return out
