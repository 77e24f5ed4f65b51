"""The "corridor" incremental method (pruned searches + overlay) equals a full recomputation."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from scenario_support import grid_network, node_at_distance, random_network, zones_at  # noqa: E402

from centrality.paths import od_times
from geoproc.scenario.definition import parse_variant, resolve_variant
from geoproc.scenario.edits import apply_variant
from geoproc.scenario.incremental import corridor_times, floyd_warshall, incremental_od, od_frame


def _apply(net, edits):
    return apply_variant(net, resolve_variant(parse_variant({"name": "v", "edits": edits}), net))


def _path_link_ids(net, a: int) -> list[int]:
    """Link ids along the baseline shortest path from a to the farthest node it reaches (so the
    edited links are used in sequence)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    csr = net.csr
    g = csr_matrix((csr.time_s, csr.head, csr.indptr), shape=(net.n_nodes, net.n_nodes))
    dist, pred = dijkstra(g, indices=a, return_predecessors=True)
    nodes = [int(np.argmax(np.where(np.isfinite(dist), dist, -1)))]
    while nodes[-1] != a:
        nodes.append(int(pred[nodes[-1]]))
    links = net.links
    key = {frozenset(p): i for i, p in zip(links.index, zip(links["u"], links["v"]))}
    return sorted({int(key[frozenset(p)]) for p in zip(nodes[:-1], nodes[1:])})


def test_corridor_search_stops_at_sources_and_drops_dominated_labels_hand_case():
    # 4 × 3 grid of 60 s links, sources 0 and 1, targets 0, 1, 2, 4, 5.
    csr = grid_network().csr
    src, tgt, inf = np.array([0, 1]), np.array([0, 1, 2, 4, 5]), np.inf
    # no bounds between the sources: a source's label reaching the other source is recorded but not
    # extended, so 0 reaches 2 around node 1 (0-4-5-6-2 = 240 s)
    got = corridor_times(csr, src, np.array([[0.0, inf], [inf, 0.0]]), tgt, 1e9)
    assert got.tolist() == [[0.0, 60.0, 240.0, 60.0, 120.0], [60.0, 0.0, 60.0, 120.0, 60.0]]
    # scenario time 0 -> 1 of 50 s: 0's label is dropped wherever 50 + (1's time) <= 0's time
    # (node 1: 50 <= 60, node 2: 110 <= 240, node 5: 110 <= 120), kept at node 4 (50 + 120 > 60)
    got = corridor_times(csr, src, np.array([[0.0, 50.0], [inf, 0.0]]), tgt, 1e9)
    assert got.tolist() == [[0.0, inf, inf, 60.0, inf], [60.0, 0.0, 60.0, 120.0, 60.0]]
    # a limit of 100 s
    got = corridor_times(csr, src, np.array([[0.0, inf], [inf, 0.0]]), tgt, 100.0)
    assert got.tolist() == [[0.0, 60.0, inf, 60.0, inf], [60.0, 0.0, 60.0, inf, 60.0]]


def test_floyd_warshall_keeps_zero_time_edges():
    inf = np.inf
    w = np.array([[0.0, 0.0, inf], [inf, 0.0, 5.0], [1.0, inf, 0.0]])
    assert floyd_warshall(w).tolist() == [[0.0, 0.0, 5.0], [6.0, 0.0, 5.0], [1.0, 1.0, 0.0]]


def _scenarios(net):
    xy = net.node_xy
    ids = net.links.index.to_numpy()
    mid = node_at_distance(net, 1, 8000)          # new links of ~8 km at 110 km/h: real shortcuts
    far = node_at_distance(net, mid, 8000)
    return {
        "chain_fast": [{"action": "scale_time", "ids": _path_link_ids(net, 3), "factor": 0.4}],
        "chain_slight": [{"action": "scale_time", "ids": _path_link_ids(net, 3), "factor": 0.9}],
        "chain_oneway_plus_new": [
            {"action": "scale_time", "ids": _path_link_ids(net, 10), "factor": 0.5, "direction": "forward"},
            {"action": "add_link", "line": [xy[7].tolist(), xy[node_at_distance(net, 7, 8000)].tolist()],
             "speed_kmh": 110}],
        "scattered": [{"action": "scale_time", "ids": ids[::9].tolist(), "factor": 0.7}],
        "two_new_links": [{"action": "add_link", "line": [xy[1].tolist(), xy[mid].tolist()], "speed_kmh": 110},
                          {"action": "add_link", "line": [xy[mid].tolist(), xy[far].tolist()], "speed_kmh": 110}],
    }


@pytest.mark.parametrize("seed", [2, 13, 29])
@pytest.mark.parametrize("kind", ["chain_fast", "chain_slight", "chain_oneway_plus_new", "scattered",
                                  "two_new_links"])
def test_corridor_equals_full_recomputation_on_random_scenarios(seed, kind):
    net = random_network(400, seed=seed)
    # zones on every other node (some sit on edited-link endpoints), varied access times
    zones = zones_at(np.arange(0, 400, 2), access_s=np.linspace(0, 90, 200))
    res = _apply(net, _scenarios(net)[kind])
    cutoff = 12.0
    base = od_times(net, zones, cutoff)
    full = od_frame(od_times(res.network, zones, cutoff))
    inc = incremental_od(net, res.network, zones, base, res.changed_edges, cutoff, method="corridor")
    got = od_frame(inc.od)
    assert got[["origin", "dest"]].equals(full[["origin", "dest"]])          # the same pairs
    assert float(np.max(np.abs(got["time_s"] - full["time_s"]))) < 1e-9      # times within 1e-9 s
    assert not od_frame(base).equals(full)                                    # the edit matters
    changed = set(od_frame(base).merge(full, how="outer", indicator=True).query("_merge != 'both'")["origin"])
    assert changed <= set(np.flatnonzero(inc.affected))
    # the exact method finds the same affected set for speed-ups (d'(o, S) = d(o, S))
    exact = incremental_od(net, res.network, zones, base, res.changed_edges, cutoff, method="exact")
    assert set(np.flatnonzero(exact.affected)) <= set(np.flatnonzero(inc.affected))


def test_auto_uses_exact_for_closures_bit_for_bit():
    net = random_network(300, seed=5)
    zones = zones_at(np.arange(0, 300, 3))
    ids = net.links.index.to_numpy()
    res = _apply(net, [{"action": "scale_time", "ids": ids[:20].tolist(), "factor": 0.5},
                       {"action": "close", "ids": ids[40:60].tolist()}])
    base = od_times(net, zones, 15.0)
    inc = incremental_od(net, res.network, zones, base, res.changed_edges, 15.0, method="auto")
    pd.testing.assert_frame_equal(od_frame(inc.od), od_frame(od_times(res.network, zones, 15.0)), check_exact=True)
