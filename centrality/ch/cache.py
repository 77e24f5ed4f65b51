"""On-disk cache of contraction hierarchies.

Two kinds of files in one folder (``.npz``, uncompressed so they load at disk speed):

- ``cch-topology-<topology hash>.npz``: the node order and the chordal supergraph; keyed by a
  hash of the undirected topology only (node count and node pairs), so a change of link
  times — a scenario — reuses it;
- ``cch-metric-<topology hash>-<metric hash>.npz``: the customised arc weights; keyed also by
  the directed edges and their times.

Files are written atomically (temporary file + rename) and carry their key; a file that cannot
be read or does not match is ignored (and recomputed), never trusted. A folder that cannot be
written (e.g. a read-only data folder) only costs the recomputation next time: a warning says so.
"""
from __future__ import annotations

import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from centrality.ch.hierarchy import Hierarchy, Topology, metric_key, topology_key, undirected_pairs


CACHE_ENV = "REGIO_CH_CACHE"
CACHE_FOLDER = ".regio-cache"


def default_cache_dir(network=None) -> Path | None:
    """Where ``cache_dir="auto"`` keeps hierarchies.

    Parameters
    ----------
    network : RoadNetwork, optional
        The network; its ``source_path`` (set by :func:`centrality.config.build_network`) is the
        file it was built from.

    Returns
    -------
    pathlib.Path or None
        ``$REGIO_CH_CACHE`` if set ("" or "off" disables the disk cache: None); else a
        ``.regio-cache`` folder next to the network's source file when that folder can be
        written, else ``$XDG_CACHE_HOME/regio`` (``~/.cache/regio``); None for a network built in
        memory (no source file).
    """
    env = os.environ.get(CACHE_ENV)
    if env is not None:
        return None if env.strip().lower() in ("", "off", "none", "0") else Path(env).expanduser()
    src = getattr(network, "source_path", None)
    if src is None:
        return None
    folder = Path(src).expanduser().resolve().parent
    if os.access(folder, os.W_OK):
        return folder / CACHE_FOLDER
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "regio"


class HierarchyCache:
    """Cache folder of :func:`centrality.ch.hierarchy.hierarchy_for`.

    Parameters
    ----------
    directory : path-like
        The folder (created when the first file is written).
    """

    def __init__(self, directory):
        self.directory = Path(directory)

    def _path(self, *parts: str) -> Path:
        return self.directory / ("cch-" + "-".join(parts) + ".npz")

    def _save(self, path: Path, **arrays) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=path.stem + ".", suffix=".tmp", dir=self.directory)
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)
            os.replace(tmp, path)
        except OSError as exc:
            warnings.warn(f"could not write the hierarchy cache {path} ({exc}); it will be recomputed next time. "
                          "Give a writable cache folder.", stacklevel=3)

    def _load(self, path: Path, key: str):
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as f:
                if str(f["key"]) != key:
                    return None
                return {k: f[k] for k in f.files}
        except Exception as exc:  # noqa: BLE001 - a damaged cache file is recomputed, not trusted
            warnings.warn(f"ignoring unreadable hierarchy cache {path} ({exc}).", stacklevel=3)
            return None

    def has(self, network) -> bool:
        """Whether this folder holds the customised hierarchy of a network.

        Parameters
        ----------
        network : RoadNetwork or CSR
            The network (its topology and edge times are hashed).

        Returns
        -------
        bool
        """
        csr = getattr(network, "csr", network)
        a, b = undirected_pairs(csr)
        tkey = topology_key(len(csr.indptr) - 1, a, b)
        return self._path("metric", tkey, metric_key(csr)).exists()

    # ------------------------------------------------------------------ topology
    def load_topology(self, key: str):
        """The order and contraction stored under a topology key.

        Parameters
        ----------
        key : str
            :func:`centrality.ch.hierarchy.topology_key`.

        Returns
        -------
        Topology or None
            None when the file is absent, unreadable or for another key.
        """
        t0 = time.perf_counter()
        d = self._load(self._path("topology", key), key)
        if d is None:
            return None
        return Topology(int(d["n_nodes"]), d["rank"], d["up_ptr"], d["up"], key,
                        {"source": "disk", "topology_load_s": time.perf_counter() - t0})

    def save_topology(self, topo) -> None:
        """Store a topology (atomically; a folder that cannot be written only warns).

        Parameters
        ----------
        topo : Topology
        """
        self._save(self._path("topology", topo.key), key=np.array(topo.key), n_nodes=np.array(topo.n_nodes),
                   rank=topo.rank, up_ptr=topo.up_ptr, up=topo.up)

    # ------------------------------------------------------------------ metric
    def load_metric(self, topo, csr, mkey: str):
        """The customised weights of a topology for the edge times of ``csr``.

        Parameters
        ----------
        topo : Topology
            The topology the weights belong to.
        csr : CSR
            The network's directed edges (seconds); the input weights are rebuilt from it.
        mkey : str
            :func:`centrality.ch.hierarchy.metric_key` of ``csr``.

        Returns
        -------
        Hierarchy or None
        """
        t0 = time.perf_counter()
        d = self._load(self._path("metric", topo.key, mkey), f"{topo.key}-{mkey}")
        if d is None:
            return None
        return Hierarchy(topo, csr, d["w_up"], d["w_down"], None, None, mkey,
                         {"metric_load_s": time.perf_counter() - t0, "partial": False})

    def save_metric(self, h) -> None:
        """Store the customised weights of a hierarchy.

        Parameters
        ----------
        h : Hierarchy
        """
        self._save(self._path("metric", h.topology.key, h.key), key=np.array(f"{h.topology.key}-{h.key}"),
                   w_up=h.w_up, w_down=h.w_down)
