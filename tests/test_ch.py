"""The contraction-hierarchy backend (centrality.ch): same pairs and times as the Dijkstra backend
and networkx, ties at the cutoff, the on-disk cache, partial re-customisation, the auto rule."""
from __future__ import annotations

import os
from types import SimpleNamespace

import networkx as nx
import numpy as np
import pytest

os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.dirname(__file__), "..", ".cache", "numba"))

from centrality.ch import _kernels as K  # noqa: E402
from centrality.ch.cache import HierarchyCache  # noqa: E402
from centrality.ch.build import hierarchy_for  # noqa: E402
from centrality.ch.hierarchy import (ScenarioWorkspace, build_topology, customize, missing_arcs,  # noqa: E402
                                     undirected_pairs)
from centrality.ch.query import tie_band  # noqa: E402
from centrality.errors import InputError  # noqa: E402
from centrality.network import RoadNetwork  # noqa: E402
from centrality.paths import choose_engine, od_times  # noqa: E402

NAN = np.nan


def random_network(seed: int, n: int = 250, m: int = 900, integer: bool = False) -> RoadNetwork:
    """Random directed multigraph: 30 % one-way, 5 % zero-time links, parallel links, self
    loops, some exact ties (rounded times) and, with ``integer``, whole seconds only."""
    rng = np.random.default_rng(seed)
    u, v = rng.integers(0, n, m), rng.integers(0, n, m)
    t_fw = rng.uniform(0, 120, m).round(0 if integer else rng.integers(0, 4))
    t_bw = np.where(rng.random(m) < 0.3, NAN, rng.uniform(0, 120, m).round(0 if integer else 6))
    t_fw[rng.random(m) < 0.05] = 0.0
    return RoadNetwork.from_arrays(rng.uniform(0, 5000, (n, 2)), u, v, t_fw, t_bw)


def all_node_zones(net: RoadNetwork, access=None) -> SimpleNamespace:
    n = net.n_nodes
    return SimpleNamespace(node=np.arange(n), access_s=np.zeros(n) if access is None else access)


def pairs(od) -> tuple[np.ndarray, np.ndarray]:
    key = np.lexsort((od.dest, od.origin))
    return np.stack([od.origin[key], od.dest[key]]), od.time_s[key]


def assert_same_od(a, b, tol=1e-6):
    pa, ta = pairs(a)
    pb, tb = pairs(b)
    assert pa.shape == pb.shape and np.array_equal(pa, pb), "reachable pair sets differ"
    if len(ta):
        assert np.abs(ta - tb).max() <= tol


def nx_graph(net: RoadNetwork) -> nx.DiGraph:
    csr = net.csr
    tail = np.repeat(np.arange(net.n_nodes), np.diff(csr.indptr))
    g = nx.DiGraph()
    g.add_nodes_from(range(net.n_nodes))
    for a, b, t in zip(tail.tolist(), csr.head.tolist(), csr.time_s.tolist()):
        if a != b and (not g.has_edge(a, b) or g[a][b]["w"] > t):
            g.add_edge(a, b, w=t)
    return g


# ------------------------------------------------------------------------------ structure
def test_order_is_a_postorder_and_supergraph_is_chordal():
    net = random_network(0)
    topo = build_topology(net.csr)
    n = net.n_nodes
    assert np.array_equal(np.sort(topo.rank), np.arange(n))
    up_ptr, up = topo.up_ptr, topo.up
    # every original undirected edge is an arc
    a, b = undirected_pairs(net.csr)
    assert not missing_arcs(topo, a, b).any()
    size = np.ones(n, np.int64)
    for x in range(n):
        nb = up[up_ptr[x]:up_ptr[x + 1]]
        assert np.all(np.diff(nb) > 0) and np.all(nb > x)
        if len(nb):
            p = nb[0]
            size[p] += size[x]
            # chordal (fill) property: N+(x) minus the parent is a subset of N+(parent)
            assert set(nb[1:].tolist()) <= set(up[up_ptr[p]:up_ptr[p + 1]].tolist())
    for x in range(n):  # postorder: the subtree of x is the rank range [x - size + 1, x]
        if up_ptr[x + 1] > up_ptr[x]:
            p = up[up_ptr[x]]
            assert p - size[p] + 1 <= x - size[x] + 1 and x < p


# ------------------------------------------------------------------------------ exactness
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_node_to_node_times_equal_networkx_and_dijkstra(seed):
    net = random_network(seed)
    zones = all_node_zones(net)
    cutoff_min = 3.0  # 180 s: a few hops of up to 120 s, many nodes at the boundary
    ch = od_times(net, zones, cutoff_min=cutoff_min, engine="ch")
    dj = od_times(net, zones, cutoff_min=cutoff_min, engine="dijkstra")
    assert ch.extra["engine"] == "ch" and dj.extra["engine"] == "dijkstra"
    assert_same_od(ch, dj)
    g = nx_graph(net)
    got = {(int(o), int(d)): t for o, d, t in zip(ch.origin, ch.dest, ch.time_s)}
    ref = {}
    for s in range(net.n_nodes):
        for d, t in nx.single_source_dijkstra_path_length(g, s, cutoff=180.0, weight="w").items():
            ref[(s, d)] = t
    assert set(got) == set(ref)
    assert max(abs(got[k] - ref[k]) for k in ref) <= 1e-6
    # scipy (parallel edges: the minimum; zero times: a tiny positive, scipy drops explicit zeros)
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    csr = net.csr
    tail = np.repeat(np.arange(net.n_nodes), np.diff(csr.indptr))
    keep = tail != csr.head
    order = np.lexsort((csr.time_s[keep], csr.head[keep], tail[keep]))
    t, hd, w = tail[keep][order], csr.head[keep][order], csr.time_s[keep][order]
    first = np.ones(len(t), bool)
    first[1:] = (t[1:] != t[:-1]) | (hd[1:] != hd[:-1])
    m = csr_matrix((np.where(w[first] == 0, 1e-300, w[first]), (t[first], hd[first])), shape=(net.n_nodes,) * 2)
    d = dijkstra(m, limit=180.0)
    o, dd = np.nonzero(np.isfinite(d) & (d <= 180.0))
    assert set(zip(o.tolist(), dd.tolist())) == set(ref)
    assert max(abs(got[(a, b)] - d[a, b]) for a, b in zip(o.tolist(), dd.tolist())) <= 1e-6


@pytest.mark.parametrize("seed", [4, 5])
def test_integer_times_with_many_ties_at_the_cutoff(seed):
    """Whole-second times make totals of exactly the cutoff common: those origins are decided by
    the Dijkstra backend (the tie band), so the pair sets are identical."""
    net = random_network(seed, integer=True)
    rng = np.random.default_rng(seed)
    zones = SimpleNamespace(node=rng.integers(0, net.n_nodes, 400), access_s=rng.integers(0, 30, 400).astype(float))
    ch = od_times(net, zones, cutoff_min=4.0, engine="ch")
    dj = od_times(net, zones, cutoff_min=4.0, engine="dijkstra")
    assert_same_od(ch, dj)
    assert ch.extra["ch"]["ambiguous_origins"] > 0          # the tie rule was exercised
    assert np.isin(ch.time_s, [240.0]).any()                  # pairs exactly at the cutoff are kept


def test_tie_at_the_cutoff_hand_checked():
    """0 -0.1 s-> 1 -0.2 s-> 2: 0.1 + 0.2 = 0.30000000000000004 in float64 (> 0.3), and
    the direct link 0 -> 2 of 0.3 s ties it in real numbers. With a cutoff of 0.3 s = 0.005 min
    both backends must keep (0, 2) at exactly 0.3 s (the direct link) and agree on all pairs."""
    net = RoadNetwork.from_arrays(np.array([[0, 0], [1, 0], [2, 0.0]]), u=[0, 1, 0], v=[1, 2, 2],
                                  time_fw_s=[0.1, 0.2, 0.3], time_bw_s=[NAN, NAN, NAN])
    zones = all_node_zones(net)
    cutoff_min = 0.3 / 60.0
    ch = od_times(net, zones, cutoff_min=cutoff_min, engine="ch")
    dj = od_times(net, zones, cutoff_min=cutoff_min, engine="dijkstra")
    assert_same_od(ch, dj, tol=0.0)
    got = {(int(o), int(d)): t for o, d, t in zip(ch.origin, ch.dest, ch.time_s)}
    assert got[(0, 2)] == 0.3 and got[(0, 1)] == 0.1 and got[(1, 2)] == 0.2
    assert ch.extra["ch"]["ambiguous_origins"] >= 1


def test_tie_band_bounds_rounding():
    assert tie_band(1_000_000, 5400.0) == pytest.approx(1.2e-6, rel=0.01)
    assert tie_band(10, 1.0) > 10 * 2.0 ** -53


def test_zero_time_links_islands_and_shared_nodes():
    # 0 -0-> 1 -5-> 2 ; 3 <-> 4 island ; zones 0 and 1 share node 1
    net = RoadNetwork.from_arrays(np.zeros((5, 2)), u=[0, 1, 3], v=[1, 2, 4], time_fw_s=[0.0, 5.0, 2.0],
                                  time_bw_s=[0.0, NAN, 2.0])
    zones = SimpleNamespace(node=np.array([1, 1, 2, 0, 3]), access_s=np.array([1.0, 2.0, 0.0, 3.0, 0.5]))
    ch = od_times(net, zones, cutoff_min=1.0, engine="ch")
    dj = od_times(net, zones, cutoff_min=1.0, engine="dijkstra")
    assert_same_od(ch, dj, tol=0.0)
    got = {(int(o), int(d)): t for o, d, t in zip(ch.origin, ch.dest, ch.time_s)}
    assert got[(3, 2)] == 3.0 + 0.0 + 5.0 + 0.0 and got[(0, 1)] == 3.0 and (4, 0) not in got
    assert got[(4, 4)] == 1.0


def test_origins_subset_workers_and_order():
    net = random_network(7, n=400, m=1500)
    rng = np.random.default_rng(7)
    zones = SimpleNamespace(node=rng.integers(0, net.n_nodes, 300), access_s=rng.uniform(0, 20, 300))
    origins = np.arange(0, 300, 7)
    ch = od_times(net, zones, cutoff_min=3.0, engine="ch", origins=origins, workers=2, chunk_size=16)
    dj = od_times(net, zones, cutoff_min=3.0, engine="dijkstra", origins=origins)
    assert_same_od(ch, dj)
    assert np.all(np.diff(ch.origin) >= 0)                   # sorted by origin like Dijkstra's table
    assert set(np.unique(ch.origin)) <= set(origins)
    assert np.array_equal(ch.origin_positions(), origins)


def test_synthetic_region_equal_to_dijkstra():
    from centrality.builders.lines import network_from_lines
    from centrality.synthetic import demo_region
    from centrality.zones import snap_zones

    region = demo_region()
    net = network_from_lines(region.roads, **region.network_options)
    zones = snap_zones(region.zones, net, id_col="zone_id", pop_col="population", jobs_col="jobs")
    ch = od_times(net, zones, cutoff_min=60.0, engine="ch")
    dj = od_times(net, zones, cutoff_min=60.0, engine="dijkstra")
    assert ch.n_pairs > 1000
    assert_same_od(ch, dj)


# ------------------------------------------------------------------------------ cache and stats
def test_disk_cache_hit_miss_and_keys(tmp_path):
    net = random_network(8)
    h = hierarchy_for(net, cache_dir=tmp_path)
    assert h.stats["topology"] == "computed" and h.stats["metric"] == "computed"
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 2 and files[0].startswith("cch-metric-") and files[1].startswith("cch-topology-")
    again = hierarchy_for(random_network(8), cache_dir=tmp_path)          # same network, new object
    assert again.stats["topology"] == "disk" and again.stats["metric"] == "disk"
    assert np.array_equal(again.w_up, h.w_up) and np.array_equal(again.w_down, h.w_down)
    assert hierarchy_for(net, cache_dir=tmp_path) is h                    # memory cache on the object
    # other link times: the topology (order) is reused, the weights are new
    slower = net.with_link_times(net.links.index[:10], time_fw_s=500.0)
    h2 = hierarchy_for(slower, cache_dir=tmp_path)
    assert h2.stats["topology"] == "disk" and h2.stats["metric"] == "computed"
    assert len(list(tmp_path.iterdir())) == 3
    # a damaged file is recomputed, not trusted
    metric_file = next(p for p in tmp_path.iterdir() if p.name.startswith("cch-metric-") and h.key in p.name)
    metric_file.write_bytes(b"not an npz")
    with pytest.warns(UserWarning, match="unreadable"):
        h3 = hierarchy_for(random_network(8), cache_dir=tmp_path)
    assert h3.stats["metric"] == "computed" and np.array_equal(h3.w_up, h.w_up)


def test_od_reports_engine_and_preprocessing(tmp_path):
    net = random_network(9)
    zones = all_node_zones(net)
    od = od_times(net, zones, cutoff_min=2.0, engine="ch", cache_dir=tmp_path)
    pre = od.extra["ch"]["preprocessing"]
    assert pre["topology"] == "computed" and pre["metric"] == "computed" and pre["order_s"] >= 0
    od2 = od_times(random_network(9), zones, cutoff_min=2.0, engine="ch", cache_dir=tmp_path)
    assert od2.extra["ch"]["preprocessing"]["metric"] == "disk"


def test_auto_rule(tmp_path):
    net = random_network(10)
    assert choose_engine("auto", net, 10) == "dijkstra"
    assert choose_engine("auto", net, 1000) == "ch"
    assert choose_engine("auto", net, 100, cache_dir=tmp_path) == "dijkstra"
    hierarchy_for(random_network(10), cache_dir=tmp_path)
    assert choose_engine("auto", net, 100, cache_dir=tmp_path) == "ch"      # cached on disk
    assert choose_engine("dijkstra", net, 10**6) == "dijkstra"
    with pytest.raises(InputError, match="engine must be one of"):
        choose_engine("fast", net, 10)


# ------------------------------------------------------------------------------ re-customisation
def _scenario(net: RoadNetwork, rng):
    """Scenario links table: some links slower, some faster, some closed, one new link between
    the endpoints of an existing arc. Returns (scenario network, changed tails, heads)."""
    links = net.links.copy()
    ids = rng.choice(links.index.to_numpy(), 60, replace=False)
    slow, fast, closed = ids[:20], ids[20:40], ids[40:]
    links.loc[slow, "time_fw_s"] = links.loc[slow, "time_fw_s"] * 3 + 10
    links.loc[fast, "time_fw_s"] = links.loc[fast, "time_fw_s"] * 0.3
    links.loc[closed, ["time_fw_s", "time_bw_s"]] = NAN
    scen = net.replace_links(links)
    u, v = links.loc[ids, "u"].to_numpy(), links.loc[ids, "v"].to_numpy()
    return scen, np.concatenate([u, v]), np.concatenate([v, u])


@pytest.mark.parametrize("seed", [11, 12])
def test_partial_customisation_equals_full(seed):
    net = random_network(seed)
    topo = build_topology(net.csr)
    base = customize(topo, net.csr)
    scen, tails, heads = _scenario(net, np.random.default_rng(seed))
    part = base.with_edge_times(scen.csr, tails, heads)
    full = customize(topo, scen.csr)
    assert np.array_equal(part.w_up, full.w_up) and np.array_equal(part.w_down, full.w_down)
    assert part.stats["partial"] and 0 < part.stats["recomputed_arcs"] < topo.n_arcs
    assert not np.array_equal(part.w_up, base.w_up)            # the base hierarchy is untouched ...
    assert np.array_equal(base.w_up, customize(topo, net.csr).w_up)   # ... and still the base one
    workers2 = customize(topo, scen.csr, workers=2)
    assert np.array_equal(workers2.w_up, full.w_up) and np.array_equal(workers2.w_down, full.w_down)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_bounded_partial_customisation_is_exact_up_to_its_bound(seed):
    """valid_s: weights exact where the full customisation's are <= valid_s, above it where those are."""
    net = random_network(seed)
    topo = build_topology(net.csr)
    base = customize(topo, net.csr)
    ws = ScenarioWorkspace(base)
    scen, tails, heads = _scenario(net, np.random.default_rng(seed))
    full = customize(topo, scen.csr)
    finite = np.concatenate([full.w_up[np.isfinite(full.w_up)], base.w_up[np.isfinite(base.w_up)]])
    pruned = []
    for q in (0.3, 0.6, 0.9):
        valid = float(np.quantile(finite, q))
        part = ws.customize(scen.csr, tails, heads, valid_s=valid)
        assert part.stats["valid_s"] == valid
        for got, want in ((part.w_up, full.w_up), (part.w_down, full.w_down)):
            low = want <= valid
            assert np.array_equal(got[low], want[low])
            assert (got[~low] > valid).all()
        n_changed = part.stats["changed_arcs"]
        exact = ws.customize(scen.csr, tails, heads)          # restores the bounded one first
        assert np.array_equal(exact.w_up, full.w_up) and np.array_equal(exact.w_down, full.w_down)
        assert n_changed <= exact.stats["changed_arcs"]
        pruned.append(exact.stats["changed_arcs"] - n_changed)
    assert pruned[0] > 0                 # a low bound leaves changes above it unpropagated
    # node-to-node times within the bound equal Dijkstra's on the scenario network
    valid = float(np.quantile(finite, 0.5))
    part = ws.customize(scen.csr, tails, heads, valid_s=valid)
    zones = all_node_zones(scen)
    got = od_times(scen, zones, cutoff_min=valid / 60.0, engine="ch", hierarchy=part)
    want = od_times(scen, zones, cutoff_min=valid / 60.0, engine="dijkstra")
    assert_same_od(got, want)
    # the workspace is clean afterwards: a scenario with no changes restores the base exactly
    ws._restore()
    assert np.array_equal(ws.w_up, base.w_up) and np.array_equal(ws.w_down, base.w_down)
    _assert_clean(ws)


def _assert_clean(ws: ScenarioWorkspace) -> None:
    """The workspace's kernel scratch is as new: flags False, inboxes -1, nothing queued or marked."""
    assert not ws._flags[0].any() and not ws._flags[1].any() and not ws._nodes[1].any()
    for queued, inbox, _ in ws._parts:
        assert not queued.any() and (inbox == -1).all()


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_two_thread_recustomisation_is_bit_identical_to_one_thread(seed):
    """The split into two halves of the elimination tree and the top gives the one-pass weights."""
    net = random_network(seed)
    topo = build_topology(net.csr)
    base = customize(topo, net.csr)
    ws = ScenarioWorkspace(base).prepare(threads=2)
    scen, tails, heads = _scenario(net, np.random.default_rng(seed))
    full = customize(topo, scen.csr)
    finite = full.w_up[np.isfinite(full.w_up)]
    for valid in (np.inf, float(np.quantile(finite, 0.5))):
        one = ws.customize(scen.csr, tails, heads, valid_s=valid, threads=1)
        assert one.stats["split"] is None
        want = (one.w_up.copy(), one.w_down.copy(), np.sort(ws.changed), one.stats["nodes"])
        two = ws.customize(scen.csr, tails, heads, valid_s=valid, threads=2, split=True)
        split = two.stats["split"]
        assert split is not None and min(split["work_a"], split["work_b"]) > 0
        got = (two.w_up, two.w_down, np.sort(ws.changed), two.stats["nodes"])
        assert all(np.array_equal(a, b) for a, b in zip(got, want))
        if np.isinf(valid):
            assert np.array_equal(two.w_up, full.w_up) and np.array_equal(two.w_down, full.w_down)
        _assert_clean(ws)
    # a small change stays on one thread by default (its estimated work is below SPLIT_MIN_WORK)
    assert ws.customize(scen.csr, tails, heads, threads=2).stats["split"] is None
    assert ws.customize(scen.csr, tails, heads, threads=2, split=False).stats["split"] is None
    ws._restore()
    assert np.array_equal(ws.w_up, base.w_up) and np.array_equal(ws.w_down, base.w_down)


def test_split_two_halves_share_no_arc():
    """split_two's halves: every processed node's upper neighbours lie in its own half or the top."""

    net = random_network(15)
    topo = build_topology(net.csr)
    n = topo.n_nodes
    starts = np.unique(np.random.default_rng(1).choice(n // 2, 40, replace=False)).astype(np.int64)
    mark = np.zeros(n, dtype=bool)
    owner = np.full(n, -1, np.int8)
    wa, wb, wt = K.split_two(starts, topo.up_ptr, topo.up, np.ones(n, np.int64), n, mark, owner)
    assert not mark.any()
    # the ancestors of the starts, by walking the elimination tree
    anc = set()
    for x in starts:
        while x != -1 and x not in anc:
            anc.add(int(x))
            x = int(topo.up[topo.up_ptr[x]]) if topo.up_ptr[x + 1] > topo.up_ptr[x] else -1
    assert wa + wb + wt == len(anc) and wa > 0 and wb > 0
    assert (owner[sorted(anc)] >= 0).all() and (np.delete(owner, sorted(anc)) == -1).all()
    half = {x: int(owner[x]) for x in anc}
    assert [sum(h == k for h in half.values()) for k in range(3)] == [wa, wb, wt]
    for x in anc:
        for y in topo.up[topo.up_ptr[x]:topo.up_ptr[x + 1]]:
            assert int(y) in anc and (half[int(y)] == half[x] or half[int(y)] == 2)


def test_with_edge_times_rejects_pairs_outside_the_hierarchy():
    net = RoadNetwork.from_arrays(np.column_stack([np.arange(6.0), np.zeros(6)]), u=[0, 1, 2, 3, 4],
                                  v=[1, 2, 3, 4, 5], time_fw_s=[1.0] * 5)
    h = hierarchy_for(net)
    a, b = np.triu_indices(6, 1)
    missing = missing_arcs(h.topology, a, b)
    assert missing.any()                      # a path graph's hierarchy does not join all pairs
    i = int(np.flatnonzero(missing)[0])
    with pytest.raises(InputError, match="not arcs of the hierarchy"):
        h.with_edge_times(net.csr, [a[i]], [b[i]])


def test_kernels_handle_graph_without_edges():
    net = RoadNetwork.from_arrays(np.zeros((3, 2)), u=np.empty(0, int), v=np.empty(0, int), time_fw_s=np.empty(0))
    zones = all_node_zones(net)
    od = od_times(net, zones, cutoff_min=1.0, engine="ch")
    assert od.n_pairs == 3 and np.all(od.time_s == 0.0)
    assert K.LANES == 16


# ------------------------------------------------------------------------------ real OSM networks
@pytest.mark.shared
@pytest.mark.parametrize("name", ["oslo_east.osm.pbf", "helsinki.osm.pbf"])
def test_osm_extract_all_pairs_equal_dijkstra(name):
    from centrality.builders.osm import network_from_osm_pbf
    from tests.conftest import shared_path

    net = network_from_osm_pbf(shared_path(name))
    zones = all_node_zones(net)
    cutoff = 15.0 if name.startswith("oslo") else 90.0
    ch = od_times(net, zones, cutoff_min=cutoff, engine="ch", workers=2)
    dj = od_times(net, zones, cutoff_min=cutoff, engine="dijkstra", workers=2)
    assert ch.n_pairs > 100_000
    assert_same_od(ch, dj)
    g = nx_graph(net)
    for s in range(0, net.n_nodes, max(1, net.n_nodes // 25)):
        ref = nx.single_source_dijkstra_path_length(g, s, cutoff=cutoff * 60.0, weight="w")
        rows = ch.origin == s
        got = dict(zip(ch.dest[rows].tolist(), ch.time_s[rows].tolist()))
        assert set(got) == set(ref)
        assert max(abs(got[d] - t) for d, t in ref.items()) <= 1e-6


def test_without_pymetis_auto_uses_dijkstra_and_ch_says_what_to_install(monkeypatch):
    """Inside a QGIS Python without pymetis: "auto" falls back to Dijkstra (same times), an
    explicit "ch" is a clear error naming the package."""
    import builtins

    import centrality.ch.hierarchy as H

    net = random_network(13)
    monkeypatch.setattr(H, "metis_available", lambda: False)
    assert choose_engine("auto", net, 10_000) == "dijkstra"
    real_import = builtins.__import__

    def no_pymetis(name, *args, **kwargs):
        if name == "pymetis":
            raise ImportError("No module named 'pymetis'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pymetis)
    with pytest.raises(InputError, match="needs pymetis"):
        od_times(net, all_node_zones(net), cutoff_min=1.0, engine="ch")
