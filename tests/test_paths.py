"""Exact shortest travel times: hand-checked toy graphs and agreement with networkx."""
from __future__ import annotations

import os
from types import SimpleNamespace

import networkx as nx
import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.dirname(__file__), "..", ".cache", "numba"))

from centrality.errors import Cancelled, InputError  # noqa: E402
from centrality.network import RoadNetwork  # noqa: E402
from centrality.paths import node_times, od_times  # noqa: E402

INF = np.inf
NAN = np.nan


def line_xy(n: int) -> np.ndarray:
    return np.column_stack([np.arange(n) * 100.0, np.zeros(n)])


@pytest.fixture
def toy() -> RoadNetwork:
    """0 -> 1 one-way (10 s), 1 <-> 2 (5 s), 2 -> 0 one-way (7 s), 2 <-> 3 ferry (1200 s),
    3 <-> 4 zero-length, zero-time link, 5 <-> 6 an island with no link to the rest."""
    return RoadNetwork.from_arrays(
        line_xy(7),
        u=[0, 1, 2, 2, 3, 5], v=[1, 2, 0, 3, 4, 6],
        time_fw_s=[10, 5, 7, 1200, 0, 3],
        time_bw_s=[NAN, 5, NAN, 1200, 0, 3],
        length_m=[100, 100, 200, 5000, 0, 100],
        kind=["road", "road", "road", "ferry", "road", "road"],
    )


def test_one_way_links_are_respected(toy):
    np.testing.assert_array_equal(node_times(toy, 0), [0, 10, 15, 1215, 1215, INF, INF])
    # from 1 the way to 0 goes 1 -> 2 -> 0 (5 + 7), the direct 1 -> 0 is forbidden
    np.testing.assert_array_equal(node_times(toy, 1), [12, 0, 5, 1205, 1205, INF, INF])


def test_ferry_and_zero_time_edges(toy):
    # 4 -> 3 is free, 3 -> 2 is the 1200 s ferry, then 2 -> 0 (7 s) and 2 -> 1 (5 s)
    np.testing.assert_array_equal(node_times(toy, 4), [1207, 1205, 1200, 0, 0, INF, INF])
    assert toy.links.loc[3, "kind"] == "ferry"


def test_island_is_unreachable(toy):
    np.testing.assert_array_equal(node_times(toy, 5), [INF, INF, INF, INF, INF, 0, 3])


def test_multiple_sources_with_offsets():
    chain = RoadNetwork.from_arrays(line_xy(5), u=[0, 1, 2, 3], v=[1, 2, 3, 4], time_fw_s=[10, 10, 10, 10])
    got = node_times(chain, [0, 4], source_offset_s=[0, 15])
    np.testing.assert_array_equal(got, [0, 10, 20, 25, 15])
    # the same source twice keeps the smaller offset
    np.testing.assert_array_equal(node_times(chain, [2, 2], source_offset_s=[9, 4]), [24, 14, 4, 14, 24])


def test_cutoff_boundary_is_inclusive():
    chain = RoadNetwork.from_arrays(line_xy(5), u=[0, 1, 2, 3], v=[1, 2, 3, 4], time_fw_s=[10, 10, 10, 10])
    np.testing.assert_array_equal(node_times(chain, 0, cutoff_s=20), [0, 10, 20, INF, INF])
    np.testing.assert_array_equal(node_times(chain, 0, cutoff_s=19.999), [0, 10, INF, INF, INF])
    np.testing.assert_array_equal(node_times(chain, [0, 4], cutoff_s=20, source_offset_s=[0, 21]),
                                  [0, 10, 20, INF, INF])


def test_node_times_accepts_csr_and_rejects_bad_sources(toy):
    np.testing.assert_array_equal(node_times(toy.csr, 0), node_times(toy, 0))
    with pytest.raises(InputError, match="node indices"):
        node_times(toy, 7)
    with pytest.raises(InputError, match="NaN"):
        node_times(toy, 0, source_offset_s=NAN)


def _nx_graph(net: RoadNetwork) -> nx.DiGraph:
    csr = net.csr
    tails = np.repeat(np.arange(net.n_nodes), np.diff(csr.indptr))
    df = pd.DataFrame({"a": tails, "b": csr.head, "w": csr.time_s}).groupby(["a", "b"], as_index=False).min()
    g = nx.DiGraph()
    g.add_nodes_from(range(net.n_nodes))
    g.add_weighted_edges_from(df.itertuples(index=False, name=None), weight="w")
    return g


def random_network(seed: int, n: int = 300, m: int = 1200) -> RoadNetwork:
    rng = np.random.default_rng(seed)
    u, v = rng.integers(0, n, m), rng.integers(0, n, m)
    t_fw = rng.uniform(0, 120, m).round(rng.integers(0, 4))  # some exact ties
    t_bw = np.where(rng.random(m) < 0.3, NAN, rng.uniform(0, 120, m))  # 30 % one-way
    t_fw[rng.random(m) < 0.05] = 0.0
    return RoadNetwork.from_arrays(rng.uniform(0, 5000, (n, 2)), u, v, t_fw, t_bw)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_networkx_on_random_directed_graphs(seed):
    net = random_network(seed)
    g = _nx_graph(net)
    cutoff = 200.0
    for s in range(0, 300, 6):  # 50 origins
        ref = nx.single_source_dijkstra_path_length(g, s, cutoff=cutoff, weight="w")
        expected = np.full(net.n_nodes, INF)
        expected[list(ref)] = list(ref.values())
        got = node_times(net, s, cutoff_s=cutoff)
        assert np.array_equal(np.isinf(got), np.isinf(expected)), f"reached sets differ from source {s}"
        finite = np.isfinite(got)
        assert np.abs(got[finite] - expected[finite]).max() < 1e-6
    full = node_times(net, 0)
    ref = nx.single_source_dijkstra_path_length(g, 0, weight="w")
    assert set(np.flatnonzero(np.isfinite(full))) == set(ref)


# ------------------------------------------------------------------------------ od_times
@pytest.fixture
def zones() -> SimpleNamespace:
    """Zones 0 and 1 share node 1; zone 2 at node 2; zone 3 at node 0; zone 4 on the island (5)."""
    return SimpleNamespace(ids=np.array(["a", "b", "c", "d", "e"]), node=np.array([1, 1, 2, 0, 5]),
                           access_s=np.array([1.0, 2.0, 0.0, 3.0, 0.5]))


def od_dict(od) -> dict:
    return {(int(o), int(d)): float(t) for o, d, t in zip(od.origin, od.dest, od.time_s)}


def test_od_times_hand_checked(toy, zones):
    od = od_times(toy, zones, cutoff_min=1.0)  # 60 s
    expected = {
        (0, 0): 2, (0, 1): 3, (0, 2): 6, (0, 3): 1 + 12 + 3,
        (1, 0): 3, (1, 1): 4, (1, 2): 7, (1, 3): 2 + 12 + 3,
        (2, 0): 5 + 1, (2, 1): 5 + 2, (2, 2): 0, (2, 3): 10,
        (3, 0): 3 + 10 + 1, (3, 1): 3 + 10 + 2, (3, 2): 3 + 15, (3, 3): 6,
        (4, 4): 1,
    }
    assert od_dict(od) == expected
    assert od.origin.dtype == np.int32 and od.dest.dtype == np.int32 and od.time_s.dtype == np.float64
    assert np.all(np.diff(od.origin) >= 0)


def test_od_cutoff_is_inclusive_on_total_time(toy, zones):
    # (3, 2) totals exactly 3 + 15 + 0 = 18 s: cutoff 0.3 min = 18 s keeps it, 17.4 s drops it
    pairs = od_dict(od_times(toy, zones, cutoff_min=0.3))
    assert pairs[(3, 2)] == 18 and len(pairs) == 17
    pairs = od_dict(od_times(toy, zones, cutoff_min=0.29))
    assert (3, 2) not in pairs and pairs[(1, 3)] == 17 and len(pairs) == 16


def test_od_origins_subset(toy, zones):
    full = od_dict(od_times(toy, zones, cutoff_min=1.0))
    sub = od_times(toy, zones, cutoff_min=1.0, origins=[2, 0])
    assert od_dict(sub) == {k: v for k, v in full.items() if k[0] in (0, 2)}
    assert sub.origins.tolist() == [0, 2]


@pytest.mark.parametrize("n_zones", [150, 1000])  # fewer zones than reached nodes, and more
def test_od_matches_node_times_and_workers(n_zones):
    net = random_network(5, n=400, m=1600)
    rng = np.random.default_rng(3)
    z = SimpleNamespace(node=rng.integers(0, 400, n_zones), access_s=rng.uniform(0, 20, n_zones))
    one = od_times(net, z, cutoff_min=3, workers=1)
    two = od_times(net, z, cutoff_min=3, workers=2, chunk_size=7)
    assert od_dict(one) == od_dict(two)
    # every pair equals access + node_times + access, and nothing within the cutoff is missing
    for o in range(0, n_zones, n_zones // 15):
        t = z.access_s[o] + node_times(net, z.node[o])[z.node] + z.access_s
        want = {(o, d): t[d] for d in np.flatnonzero(t <= 180)}
        got = {k: v for k, v in od_dict(one).items() if k[0] == o}
        assert got == want  # bit-identical float64 sums


def test_od_progress_and_cancel(toy, zones):
    calls = []
    od_times(toy, zones, cutoff_min=1.0, chunk_size=1, progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (0, 4) and calls[-1] == (4, 4)  # 4 distinct origin nodes
    with pytest.raises(Cancelled):
        od_times(toy, zones, cutoff_min=1.0, chunk_size=1, should_stop=lambda: True)
    with pytest.raises(Cancelled):
        od_times(toy, zones, cutoff_min=1.0, workers=2, chunk_size=1, should_stop=lambda: True)


def test_od_to_frame_and_parquet(toy, zones, tmp_path):
    od = od_times(toy, zones, cutoff_min=1.0)
    df = od.to_frame(zones)
    assert list(df.columns) == ["origin_id", "dest_id", "minutes"]
    row = df[(df.origin_id == "d") & (df.dest_id == "c")]
    assert row.minutes.tolist() == [18 / 60]
    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"pyarrow not importable ({exc}); Parquet output cannot be tested")
    path = od.to_parquet(tmp_path / "od.parquet", zones.ids)
    back = pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, df)
    assert [p.name for p in tmp_path.iterdir()] == ["od.parquet"]


def test_od_bad_input(toy, zones):
    with pytest.raises(InputError, match="access_s"):
        od_times(toy, SimpleNamespace(node=np.array([0]), access_s=np.array([NAN])))
    with pytest.raises(InputError, match="node indices"):
        od_times(toy, SimpleNamespace(node=np.array([99]), access_s=np.array([0.0])))
    with pytest.raises(InputError, match="snap"):
        od_times(toy, SimpleNamespace(node=np.array([0])))
    with pytest.raises(InputError, match="cutoff_min"):
        od_times(toy, zones, cutoff_min=0)
    with pytest.raises(InputError, match="positions"):
        od_times(toy, zones, origins=[9])


def test_spatial_reordering_is_invisible():
    """The kernel renumbers nodes along a Hilbert curve; results come back in network order."""
    net = random_network(7)
    for s in (0, 17, 299):
        np.testing.assert_array_equal(node_times(net, s, cutoff_s=250), node_times(net.csr, s, cutoff_s=250))


def test_od_with_external_executor():
    from concurrent.futures import ThreadPoolExecutor

    net = random_network(8)
    rng = np.random.default_rng(4)
    z = SimpleNamespace(node=rng.integers(0, 300, 60), access_s=rng.uniform(0, 20, 60))
    with ThreadPoolExecutor(max_workers=2) as pool:
        ext = od_times(net, z, cutoff_min=3, executor=pool, chunk_size=5)
    assert od_dict(ext) == od_dict(od_times(net, z, cutoff_min=3))


def test_bucket_queue_with_wide_buckets_and_pool_overflow(monkeypatch):
    """OD searches use a bucket queue; buckets wider than the smallest edge time (label
    correcting) and a too-small entry pool (fallback to the heap) give identical results."""
    import centrality.paths as paths

    net = random_network(9, n=300, m=1500)
    rng = np.random.default_rng(5)
    z = SimpleNamespace(node=rng.integers(0, 300, 80), access_s=rng.uniform(0, 20, 80))
    ref = od_dict(od_times(net, z, cutoff_min=3))
    monkeypatch.setattr(paths, "MAX_BUCKETS", 6)  # width = cutoff / 4: many re-scans
    assert od_dict(od_times(net, z, cutoff_min=3)) == ref
    graph = paths._kernel_graph(net)
    ws = paths._Workspace(net.n_nodes, 100)
    ws.ekey, ws.enode, ws.enext = ws.ekey[:3], ws.enode[:3], ws.enext[:3]
    n_t = paths._search_buckets(graph.indptr, graph.head, graph.wt, 0, 180.0, 0.5, ws.dist, ws.touched,
                                *ws.bucket_arrays())
    assert n_t == -1 and np.isinf(ws.dist).all() and (ws.bucket_head == -1).all()


def test_od_row_ptr_equals_counting_the_pairs_of_each_origin():
    from centrality.paths import ODTable

    rng = np.random.default_rng(3)
    origin = np.sort(rng.choice([0, 2, 3, 7], size=40)).astype(np.int32)      # zones 1, 4-6, 8, 9 have no rows
    od = ODTable(origin=origin, dest=rng.integers(0, 10, 40).astype(np.int32), time_s=rng.random(40), n_zones=10)
    expected = np.concatenate([[0], np.cumsum(np.bincount(origin, minlength=10))])
    ptr = od.row_ptr()
    assert ptr.dtype == np.int64 and np.array_equal(ptr, expected)
    for o in range(10):
        assert (origin[ptr[o]:ptr[o + 1]] == o).all() and ptr[o + 1] - ptr[o] == (origin == o).sum()
    empty = ODTable(origin=np.empty(0, np.int32), dest=np.empty(0, np.int32), time_s=np.empty(0), n_zones=3)
    assert np.array_equal(empty.row_ptr(), [0, 0, 0, 0])
    assert np.array_equal(od.row_ptr(12), np.concatenate([expected, [40, 40]]))     # zones without rows at the end
