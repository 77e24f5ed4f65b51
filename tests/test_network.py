"""RoadNetwork: CSR construction, validation with clear errors, largest SCC, link edits."""
from __future__ import annotations

import numpy as np
import pytest

from centrality.errors import InputError
from centrality.network import RoadNetwork, build_csr, largest_scc

NAN = np.nan


def square_xy() -> np.ndarray:
    return np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 100.0], [0.0, 100.0], [500.0, 500.0], [600.0, 500.0]])


def net6(**kw) -> RoadNetwork:
    """Square 0-1-2-3 (two-way except 2 -> 3 one-way), dead end 1 -> 4 (one-way), island 5."""
    args = dict(u=[0, 1, 2, 3, 1], v=[1, 2, 3, 0, 4], time_fw_s=[10, 20, 30, 40, 5],
                time_bw_s=[11, 21, NAN, 41, NAN])
    args.update(kw)
    return RoadNetwork.from_arrays(square_xy(), **args)


def test_build_csr_edges_and_link_positions():
    csr = build_csr(4, u=[0, 1, 2], v=[1, 2, 0], t_fw=[1.0, 2.0, NAN], t_bw=[5.0, NAN, 3.0])
    assert csr.indptr.tolist() == [0, 2, 4, 4, 4]
    assert csr.indptr.dtype == np.int64 and csr.head.dtype == np.int32 and csr.time_s.dtype == np.float64
    edges = {(int(t), int(csr.head[e])): (float(csr.time_s[e]), int(csr.link_pos[e]), bool(csr.forward[e]))
             for t in range(4) for e in range(csr.indptr[t], csr.indptr[t + 1])}
    assert edges == {(0, 1): (1.0, 0, True), (1, 0): (5.0, 0, False), (1, 2): (2.0, 1, True),
                     (0, 2): (3.0, 2, False)}  # link 2 (u=2, v=0) only allows v -> u


def test_network_counts_and_defaults():
    net = net6()
    assert (net.n_nodes, net.n_links, net.n_edges) == (6, 5, 8)
    assert net.links["length_m"].tolist() == [100.0, 100.0, 100.0, 100.0, pytest.approx(np.hypot(400, 500))]
    assert set(net.links["kind"]) == {"road"}
    assert net.links.geometry.iloc[0].coords[:] == [(0.0, 0.0), (100.0, 0.0)]
    assert net.csr is net.csr  # cached


def test_zero_time_and_zero_length_links_are_allowed():
    net = RoadNetwork.from_arrays(square_xy()[:2], u=[0], v=[1], time_fw_s=[0.0], length_m=[0.0])
    assert net.n_edges == 2


@pytest.mark.parametrize("bad, column", [(-1.0, "time_fw_s"), (np.inf, "time_fw_s")])
def test_invalid_times_name_the_link_and_the_fix(bad, column):
    with pytest.raises(InputError, match=r"links 2 have an invalid time_fw_s.*NaN \(empty\) to forbid"):
        net6(time_fw_s=[10, 20, bad, 40, 5])


def test_invalid_backward_time_and_node_indices():
    with pytest.raises(InputError, match="links 0 have an invalid time_bw_s"):
        net6(time_bw_s=[-3, 21, NAN, 41, NAN])
    links = net6().links.copy()
    links.loc[3, "v"] = 17
    with pytest.raises(InputError, match=r"links 3 have v = 17.*0\.\.5"):
        RoadNetwork(node_xy=square_xy(), links=links)
    links = net6().links.copy()
    links["u"] = links["u"].astype(float)
    links.loc[1, "u"] = NAN
    with pytest.raises(InputError, match="links 1 have u"):
        RoadNetwork(node_xy=square_xy(), links=links)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint16])
def test_integer_node_columns_checked_without_float_copies(dtype):
    links = net6().links.copy()
    links["u"] = links["u"].astype(dtype)
    net = RoadNetwork(node_xy=square_xy(), links=links)
    assert net._arrays[0].dtype == np.int64 and net._arrays[0].tolist() == [0, 1, 2, 3, 1]
    links.loc[2, "u"] = 6                          # one past the last node
    with pytest.raises(InputError, match=r"links 2 have u = 6.*0\.\.5"):
        RoadNetwork(node_xy=square_xy(), links=links)
    if np.dtype(dtype).kind == "i":
        links.loc[2, "u"] = -1
        with pytest.raises(InputError, match=r"links 2 have u = -1"):
            RoadNetwork(node_xy=square_xy(), links=links)


def test_float64_time_columns_are_used_without_a_copy():
    net = net6()
    assert np.shares_memory(net._arrays[2], net.links["time_fw_s"].to_numpy())
    links = net6().links.copy()
    links["time_fw_s"] = links["time_fw_s"].astype(np.float32)      # other dtypes are converted
    net32 = RoadNetwork(node_xy=square_xy(), links=links)
    assert net32._arrays[2].dtype == np.float64 and net32._arrays[2].tolist() == [10, 20, 30, 40, 5]
    links["time_bw_s"] = links["time_bw_s"].astype(object)
    links.loc[0, "time_bw_s"] = "eleven"
    with pytest.raises(InputError, match="time_bw_s' must be numeric"):
        RoadNetwork(node_xy=square_xy(), links=links)


def test_missing_column_and_duplicate_ids():
    links = net6().links.rename(columns={"kind": "kinds"})
    with pytest.raises(InputError, match="no column 'kind' \\(did you mean 'kinds'"):
        RoadNetwork(node_xy=square_xy(), links=links)
    links = net6().links.set_axis([1, 1, 2, 3, 4])
    with pytest.raises(InputError, match="not unique: 1"):
        RoadNetwork(node_xy=square_xy(), links=links)
    with pytest.raises(InputError, match="shape"):
        RoadNetwork(node_xy=np.zeros((3, 3)), links=net6().links)


def test_largest_scc_drops_dead_end_and_island_and_renumbers():
    net = net6()
    scc = largest_scc(net)
    assert scc.n_nodes == 4 and scc.n_links == 4
    assert scc.report == {"scc_kept_nodes": 4, "scc_dropped_nodes": 2, "scc_dropped_links": 1}
    assert scc.original_node.tolist() == [0, 1, 2, 3]
    assert scc.links.index.tolist() == [0, 1, 2, 3]  # link ids are kept
    # renumbering: drop node 0 of a ring whose node 0 is a one-way spur
    ring = RoadNetwork.from_arrays(square_xy()[:4], u=[0, 1, 2, 3], v=[1, 2, 3, 1], time_fw_s=[1, 1, 1, 1],
                                   time_bw_s=[NAN, 1, 1, 1])
    scc = largest_scc(ring)
    assert scc.original_node.tolist() == [1, 2, 3]
    assert scc.links[["u", "v"]].values.tolist() == [[0, 1], [1, 2], [2, 0]]
    np.testing.assert_array_equal(scc.node_xy, square_xy()[1:4])


def test_replace_links_and_with_link_times_rebuild_csr():
    net = net6()
    faster = net.with_link_times([2], time_fw_s=3.0, time_bw_s=4.0)
    assert net.links.loc[2, "time_fw_s"] == 30  # original untouched
    e = {(int(t), int(faster.csr.head[i])): faster.csr.time_s[i]
         for t in range(6) for i in range(faster.csr.indptr[t], faster.csr.indptr[t + 1])}
    assert e[(2, 3)] == 3.0 and e[(3, 2)] == 4.0
    assert faster.n_edges == net.n_edges + 1
    with pytest.raises(InputError, match="not in the network"):
        net.with_link_times([99], time_fw_s=1.0)
    fewer = net.replace_links(net.links.drop(index=[4]))
    assert fewer.n_edges == 7 and fewer.n_nodes == 6


def test_synthetic_national_network_is_deterministic_and_road_like():
    from centrality.synthetic_national import national_network, national_zones

    a = national_network(120, 60, seed=3)
    b = national_network(120, 60, seed=3)
    assert a.n_nodes == 7200 and a.n_edges == b.n_edges
    np.testing.assert_array_equal(a.csr.time_s, b.csr.time_s)
    links = a.links
    # hierarchy: trunk faster than regional faster than local (seconds per metre)
    pace = (links["time_fw_s"].fillna(links["time_bw_s"]) / links["length_m"]).groupby(links["highway"],
                                                                                      observed=True).median()
    assert pace["trunk"] < pace["regional"] < pace["local"]
    local = links[links["highway"] == "local"]
    assert local["time_fw_s"].dropna().between(10, 20).all()
    oneway = links["time_fw_s"].isna() | links["time_bw_s"].isna()
    assert 0.02 < oneway.mean() < 0.06  # ~4 % of local links are one-way
    assert a.n_edges > 3.5 * a.n_nodes  # ~3.7 directed edges per node like the 1 M-node default
    zones = national_zones(a, n_zones=300, seed=1)
    assert len(np.unique(zones.node)) == 300 and (zones.jobs >= 0).all() and (zones.population > 0).all()
    np.testing.assert_allclose(zones.access_s, zones.snap_m / (20 / 3.6))
