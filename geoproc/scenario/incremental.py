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
- ``method="corridor"`` (speed-up-only variants: faster or new edges): d'(o, x) = min(d(o, x),
  min_a d'(o, a) + d'(a, x)) over the tails a of the changed edges, from 2 searches per tail and
  a numba min-plus combination; identical pairs and times equal up to float rounding (~1e-11 s,
  tested). Its cost does not grow with the number of affected origins, which for a 90-minute
  cutoff is a large share of a region. Variants with closures or slow-downs fall back to "exact".
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from numba import njit

from centrality.network import CSR, build_csr


@dataclass
class IncrementalOD:
    od: object                  # centrality.paths.ODTable for the scenario
    affected: np.ndarray        # bool per zone: origin recomputed
    n_recomputed: int
    n_zones: int
    seconds_check: float        # time spent finding affected origins (s)
    seconds_od: float           # time spent in od_times for the affected origins (s)


def reversed_csr(network) -> CSR:
    """CSR of the reversed graph: link u→v (time_fw_s) gives edge v→u and vice versa (seconds)."""
    links = network.links
    return build_csr(network.n_nodes, links["v"].to_numpy(np.int64), links["u"].to_numpy(np.int64),
                     links["time_fw_s"].to_numpy(float), links["time_bw_s"].to_numpy(float))


def time_to_targets(network, targets: np.ndarray, limit_s: float) -> np.ndarray:
    """Seconds from every node to the nearest of ``targets`` (inf beyond ``limit_s``)."""
    from centrality.paths import node_times

    if len(targets) == 0:
        return np.full(network.n_nodes, np.inf)
    return node_times(reversed_csr(network), np.unique(targets), cutoff_s=limit_s)


def affected_origins(base_net, scen_net, changed_edges: pd.DataFrame, zones, cutoff_min: float) -> np.ndarray:
    """Bool per zone: True if the zone's OD row may differ between ``base_net`` and ``scen_net``.

    ``changed_edges`` has a ``tail`` column (node index of each changed directed edge), as
    returned by :func:`geoproc.scenario.edits.changed_edges`.
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


def only_speedups(changed_edges: pd.DataFrame) -> bool:
    """True if no changed directed edge got slower or closed (new links count as speed-ups)."""
    tb, tn = changed_edges["time_base_s"].to_numpy(float), changed_edges["time_new_s"].to_numpy(float)
    return bool(np.all(~np.isnan(tn) & (np.isnan(tb) | (tn <= tb))))


def incremental_od(base_net, scen_net, zones, base_od, changed_edges: pd.DataFrame, cutoff_min: float,
                   workers: int = 1, executor=None, progress=None, should_stop=None,
                   method: str = "exact") -> IncrementalOD:
    """Scenario OD table = baseline rows of unaffected origins + new rows of the affected ones.

    ``method="exact"`` recomputes affected origins with a forward ``od_times`` (bit-for-bit equal
    to a full recomputation). ``method="corridor"`` (speed-ups and new links only; falls back to
    "exact" otherwise) combines the baseline row with paths through the changed edges instead:
    see :func:`corridor_rows`; equal to a full recomputation up to float rounding (~1e-9 s).
    """
    from centrality.errors import InputError
    from centrality.paths import od_times

    if method not in ("exact", "corridor"):
        raise InputError(f"method must be 'exact' or 'corridor', got {method!r}.")
    t0 = time.perf_counter()
    affected = affected_origins(base_net, scen_net, changed_edges, zones, cutoff_min)
    t1 = time.perf_counter()
    pos = np.flatnonzero(affected)
    keep = ~affected[base_od.origin]
    if len(pos) and method == "corridor" and only_speedups(changed_edges):
        new = corridor_rows(scen_net, zones, base_od, pos, changed_edges["tail"].to_numpy(np.int64), cutoff_min,
                            workers=workers, executor=executor, should_stop=should_stop)
    elif len(pos):
        new = od_times(scen_net, zones, cutoff_min=cutoff_min, workers=workers, executor=executor,
                       progress=progress, should_stop=should_stop, origins=pos)
    if len(pos):
        origin = np.concatenate([base_od.origin[keep], new.origin])
        dest = np.concatenate([base_od.dest[keep], new.dest])
        time_s = np.concatenate([base_od.time_s[keep], new.time_s])
        order = np.argsort(origin, kind="stable")
        od = replace(base_od, origin=origin[order], dest=dest[order], time_s=time_s[order],
                     n_settled=new.n_settled, seconds=new.seconds)
    else:
        od = replace(base_od, n_settled=0, seconds=0.0)
    t2 = time.perf_counter()
    return IncrementalOD(od=od, affected=affected, n_recomputed=int(len(pos)), n_zones=len(affected),
                         seconds_check=t1 - t0, seconds_od=t2 - t1)


@njit(cache=True, nogil=True)
def _combine_rows(origins, base_ptr, base_dest, base_time, d_in, d_out, access, best):
    """best[i, x] = min(baseline total of (origins[i], x), access_o + d_in[i, t] + d_out[t, x] + access_x)."""
    n_t, n_z = d_out.shape
    for i in range(origins.shape[0]):
        o = origins[i]
        for x in range(n_z):
            best[i, x] = np.inf
        for r in range(base_ptr[i], base_ptr[i + 1]):
            best[i, base_dest[r]] = base_time[r]
        a_o = access[o]
        for t in range(n_t):
            din = d_in[i, t]
            if din == np.inf:
                continue
            start = a_o + din
            for x in range(n_z):
                v = start + d_out[t, x] + access[x]
                if v < best[i, x]:
                    best[i, x] = v


def corridor_rows(scen_net, zones, base_od, origins: np.ndarray, tails: np.ndarray, cutoff_min: float,
                  workers: int = 1, executor=None, should_stop=None, chunk: int | None = None):
    """Scenario OD rows of ``origins`` for a speed-up-only scenario, without a search per origin.

    With only faster (or new) edges, the scenario time is d'(o, x) = min(d(o, x), min_a d'(o, a) +
    d'(a, x)) over the tails a of the changed edges: a scenario path that uses no changed edge is
    a baseline path (>= d), one that does splits at the tail of its first changed edge. d'(o, a)
    comes from one reverse search per tail, d'(a, x) from one forward search per tail, so the cost
    is 2 × |tails| searches plus a min-plus combination, instead of one search per origin.
    Returns an ODTable-like object (origin, dest, time_s, n_settled, seconds).
    """
    from centrality.parallel import run_chunks
    from centrality.paths import node_times

    t0 = time.perf_counter()
    node = np.asarray(zones.node, dtype=np.int64)
    access = np.asarray(zones.access_s, dtype=float)
    cutoff_s = float(cutoff_min) * 60.0
    limit = cutoff_s - 2.0 * access.min() + 1e-6 * cutoff_s
    tails = np.unique(tails)
    rev = reversed_csr(scen_net)
    fwd = scen_net.csr

    def search(job):
        k, reverse = job
        return k, reverse, node_times(rev if reverse else fwd, tails[k], cutoff_s=limit)[node]

    jobs = [(k, r) for k in range(len(tails)) for r in (True, False)]
    d_in_all = np.empty((len(tails), len(node)))
    d_out = np.empty((len(tails), len(node)))
    for k, reverse, times in run_chunks(search, jobs, workers=workers, executor=executor, should_stop=should_stop):
        (d_in_all if reverse else d_out)[k] = times
    origins = np.asarray(origins, dtype=np.int64)
    chunk = chunk or int(max(1, min(256, 4_000_000 // max(1, len(node)))))   # ≤ ~32 MB work matrix
    starts = np.searchsorted(base_od.origin, origins, side="left")
    ends = np.searchsorted(base_od.origin, origins, side="right")
    parts_o, parts_d, parts_t = [], [], []
    for c0 in range(0, len(origins), chunk):
        sel = slice(c0, c0 + chunk)
        o = origins[sel]
        rows = [np.arange(a, b) for a, b in zip(starts[sel], ends[sel])]
        ptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
        idx = np.concatenate(rows) if rows else np.empty(0, np.int64)
        best = np.empty((len(o), len(node)))
        _combine_rows(o, ptr, base_od.dest[idx].astype(np.int64), base_od.time_s[idx],
                      np.ascontiguousarray(d_in_all[:, o].T), d_out, access, best)
        i, x = np.nonzero(best <= cutoff_s)
        parts_o.append(o[i].astype(np.int32))
        parts_d.append(x.astype(np.int32))
        parts_t.append(best[i, x])
    return _Rows(np.concatenate(parts_o), np.concatenate(parts_d), np.concatenate(parts_t), 0,
                 time.perf_counter() - t0)


@dataclass
class _Rows:
    origin: np.ndarray
    dest: np.ndarray
    time_s: np.ndarray
    n_settled: int
    seconds: float


def od_frame(od) -> pd.DataFrame:
    """OD table as a DataFrame sorted by (origin, dest) — for exact comparisons."""
    df = pd.DataFrame({"origin": od.origin, "dest": od.dest, "time_s": od.time_s})
    return df.sort_values(["origin", "dest"], kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------------ centrality on top of OD
@dataclass(frozen=True)
class CentralityOptions:
    """Options of the centrality computation (same meaning as in ``run_centrality``)."""

    cutoff_min: float = 90.0
    limits_min: tuple = (30, 45, 60, 90)
    decay: object = None
    transform: str = "log"
    reference: object = None          # None = max A over zones; a number = A_ref; else a zone id
    intra_zone_min: object = "access"
    workers: int = 1

    @classmethod
    def from_dict(cls, d: dict, **overrides) -> "CentralityOptions":
        from dataclasses import fields

        from geoproc.scenario.definition import _unknown_keys

        _unknown_keys(list(d), [f.name for f in fields(cls)], "[centrality]")
        kw = {**d, **{k: v for k, v in overrides.items() if v is not None}}
        if "limits_min" in kw:
            kw["limits_min"] = tuple(kw["limits_min"])
        return cls(**kw)


@dataclass
class CentralityState:
    """Accessibility and index of every zone for one network. ``a_ref`` is the A of index 1000."""

    od: object
    table: pd.DataFrame         # jobs_<L>min..., access_decay, index (one row per zone, zone order)
    a_ref: float


def _reference_value(access: np.ndarray, reference, zone_ids) -> float:
    """A_ref: max A (None), a given number, or the A of the zone whose id is ``reference``."""
    if isinstance(reference, (int, float, np.number)) and not isinstance(reference, bool) and \
            str(reference) not in set(np.asarray(zone_ids).astype(str)):
        return float(reference)
    if reference is None:
        return float(np.nanmax(access))
    hit = np.flatnonzero(np.asarray(zone_ids).astype(str) == str(reference))
    if len(hit) == 0:
        from centrality.errors import InputError

        raise InputError(f"reference zone {reference!r} is not among the zones. Give a zone id, a number (A_ref) "
                         "or nothing (the maximum).")
    return float(access[hit[0]])


def centrality_from_od(od, zones, options: CentralityOptions, a_ref: float | None = None) -> CentralityState:
    """Accessibility + index from an OD table; ``a_ref`` fixes the index scale (the baseline's)."""
    from centrality.accessibility import accessibility
    from centrality.decay import parse_decay
    from centrality.index import centrality_index

    acc = accessibility(od, zones, limits_min=tuple(sorted({float(x) for x in options.limits_min})),
                        decay=parse_decay(options.decay), intra_zone_min=options.intra_zone_min)
    table = pd.DataFrame(acc).reset_index(drop=True)
    a = table["access_decay"].to_numpy(dtype=float)
    if a_ref is None:
        a_ref = _reference_value(a, options.reference, getattr(zones, "ids", np.arange(len(a))))
    table["index"] = centrality_index(a, transform=options.transform, reference_value=a_ref)
    return CentralityState(od=od, table=table, a_ref=float(a_ref))


@dataclass
class VariantOutcome:
    name: str
    resolved: object            # ResolvedVariant
    edits: object               # EditResult
    incremental: IncrementalOD
    state: CentralityState


class ScenarioEngine:
    """Baseline once, then each variant incrementally. ``zones`` is a snapped Zones object
    (``centrality.zones.snap_zones`` on the BASELINE network); the same snapping is used for every
    variant, so a zone keeps its node (new links only join existing nodes)."""

    def __init__(self, network, zones, options: CentralityOptions = CentralityOptions(), progress=None,
                 should_stop=None, executor=None, method: str = "exact"):
        self.network, self.zones, self.options, self.method = network, zones, options, method
        self.progress, self.should_stop, self.executor = progress, should_stop, executor
        self._baseline: CentralityState | None = None

    @property
    def baseline(self) -> CentralityState:
        if self._baseline is None:
            from centrality.paths import od_times

            od = od_times(self.network, self.zones, cutoff_min=self.options.cutoff_min, workers=self.options.workers,
                          executor=self.executor, progress=self.progress, should_stop=self.should_stop)
            self._baseline = centrality_from_od(od, self.zones, self.options)
        return self._baseline

    def evaluate(self, resolved) -> VariantOutcome:
        """Apply ``resolved`` (ResolvedVariant), recompute affected origins, index on baseline A_ref."""
        from geoproc.scenario.edits import apply_variant

        base = self.baseline
        edit = apply_variant(self.network, resolved)
        inc = incremental_od(self.network, edit.network, self.zones, base.od, edit.changed_edges,
                             self.options.cutoff_min, workers=self.options.workers, executor=self.executor,
                             progress=self.progress, should_stop=self.should_stop, method=self.method)
        state = centrality_from_od(inc.od, self.zones, self.options, a_ref=base.a_ref)
        return VariantOutcome(resolved.name, resolved, edit, inc, state)
