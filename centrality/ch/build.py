"""Build or load the hierarchy of a network: :func:`hierarchy_for` (memory cache on the network
object, disk cache in a folder)."""
from __future__ import annotations

import time

from centrality.ch.cache import HierarchyCache
from centrality.ch.hierarchy import Hierarchy, build_topology, customize, metric_key
from centrality.errors import InputError
from centrality.network import CSR, RoadNetwork


def hierarchy_for(network, cache_dir=None, workers: int = 1) -> Hierarchy:
    """The customised hierarchy of a network, built once.

    Parameters
    ----------
    network : RoadNetwork or CSR
        The network.
    cache_dir : path-like, optional
        Disk cache folder (created if needed); without it only the memory cache on the network
        object is used.
    workers : int, default 1
        Threads for the customisation.

    Returns
    -------
    Hierarchy
        ``stats``: ``topology`` / ``metric`` = "memory", "disk" or "computed", ``order_s``,
        ``contract_s``, ``customize_s``, load seconds, ``total_s``, ``cache_dir``.
    """
    t0 = time.perf_counter()
    csr = network.csr if isinstance(network, RoadNetwork) else network
    if not isinstance(csr, CSR):
        raise InputError(f"expected a RoadNetwork or CSR, got {type(network).__name__}.")
    cached = getattr(network, "_ch_hierarchy", None) if isinstance(network, RoadNetwork) else None
    if cached is not None:
        cached.stats.update(topology="memory", metric="memory", total_s=time.perf_counter() - t0)
        return cached
    cache = HierarchyCache(cache_dir) if cache_dir is not None else None
    topo = build_topology(csr, cache)
    topo_src = topo.seconds.get("source", "computed")
    mkey = metric_key(csr)
    h = cache.load_metric(topo, csr, mkey) if cache is not None else None
    if h is None:
        h = customize(topo, csr, workers=workers)
        topo._lower = topo._levels = None   # 12 bytes per arc; rebuilt (~1 s) if a scenario re-customises
        if cache is not None:
            cache.save_metric(h)
        metric_src = "computed"
    else:
        metric_src = "disk"
    h.stats.update({k: v for k, v in topo.seconds.items() if k != "source"})
    h.stats.update(topology=topo_src, metric=metric_src, n_arcs=topo.n_arcs, total_s=time.perf_counter() - t0,
                   cache_dir=None if cache is None else str(cache.directory))
    if isinstance(network, RoadNetwork):
        network._ch_hierarchy = h
    return h
