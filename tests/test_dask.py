"""Distributed runs: od_times (Dijkstra and hierarchy backends) and run_centrality on a Dask
LocalCluster of worker processes give exactly the local results; the network is scattered once."""
from __future__ import annotations

import logging
import os
from types import SimpleNamespace

import numpy as np
import pytest

os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.dirname(__file__), "..", ".cache", "numba"))

distributed = pytest.importorskip("distributed", reason="dask[distributed] is part of the test extra")

from centrality.errors import InputError  # noqa: E402
from centrality.network import RoadNetwork  # noqa: E402
from centrality.parallel import DaskExecutor, is_distributed, make_executor, run_chunks, scatter  # noqa: E402
from centrality.paths import od_times  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=logging.ERROR) as lc, distributed.Client(lc) as client:
        yield client


def network(seed=3, n=400, m=1600) -> RoadNetwork:
    rng = np.random.default_rng(seed)
    u, v = rng.integers(0, n, m), rng.integers(0, n, m)
    t = rng.uniform(1, 90, m)
    return RoadNetwork.from_arrays(rng.uniform(0, 5000, (n, 2)), u, v, t, np.where(rng.random(m) < 0.3, np.nan, t))


def zones(net, k=150, seed=4):
    rng = np.random.default_rng(seed)
    return SimpleNamespace(node=rng.integers(0, net.n_nodes, k), access_s=rng.uniform(0, 20, k))


def _same(a, b):
    assert np.array_equal(a.origin, b.origin) and np.array_equal(a.dest, b.dest)
    assert np.array_equal(a.time_s, b.time_s)          # bit for bit, in the same order


@pytest.mark.parametrize("engine", ["dijkstra", "ch"])
def test_od_times_on_local_cluster_equals_local_run(cluster, engine):
    net, z = network(), None
    z = zones(net)
    local = od_times(net, z, cutoff_min=3.0, engine=engine, workers=2, chunk_size=16)
    ex = DaskExecutor(cluster)
    assert is_distributed(ex) and ex.n_workers == 2
    remote = od_times(net, z, cutoff_min=3.0, engine=engine, executor=ex, workers=2, chunk_size=16)
    _same(local, remote)
    again = od_times(net, z, cutoff_min=3.0, engine=engine, executor=ex, workers=2, chunk_size=16)
    _same(local, again)
    kinds = [k[0] for k in ex._scattered]
    assert kinds.count("dijkstra-graph" if engine == "dijkstra" else "ch-space") == 1   # scattered once
    pids = set(cluster.run(os.getpid).values())
    assert os.getpid() not in pids and len(pids) == 2                                   # worker processes


def test_run_centrality_on_cluster(cluster):
    from centrality.builders.lines import network_from_lines
    from centrality.pipeline import run_centrality
    from centrality.synthetic import demo_region

    region = demo_region()
    net = network_from_lines(region.roads, **region.network_options)
    local = run_centrality(net, region.zones, group_col="kommune", workers=2)
    remote = run_centrality(net, region.zones, group_col="kommune", workers=2, executor=DaskExecutor(cluster))
    assert local.zones["zone_id"].tolist() == remote.zones["zone_id"].tolist()
    for col in ("jobs_30min", "jobs_90min", "access_decay", "index", "centrality_class"):
        assert np.array_equal(local.zones[col].to_numpy(), remote.zones[col].to_numpy()), col


def _square_sum(task):
    data, k = task
    return float((data * k).sum())


def test_make_executor_scatter_and_run_chunks(cluster):
    with make_executor(None) as ex:
        assert ex is None
        data = np.arange(10.0)
        assert scatter(ex, data) is data
        assert run_chunks(_square_sum, [(data, k) for k in range(3)], workers=2, executor=ex) == [0.0, 45.0, 90.0]
    ex = DaskExecutor(cluster)
    handle = scatter(ex, data, key="d")
    assert scatter(ex, data, key="d") is handle
    assert run_chunks(_square_sum, [(handle, k) for k in range(3)], workers=2, executor=ex) == [0.0, 45.0, 90.0]


def test_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(InputError, match="cannot connect to the Dask scheduler"):
        make_executor("tcp://127.0.0.1:9", timeout_s=1.0)


def test_cli_dask_scheduler_gives_the_local_result(cluster, tmp_path):
    import geopandas as gpd

    from centrality.synthetic import demo_region, write_demo_data
    from geoproc.cli import main

    roads, zones_file = write_demo_data(tmp_path / "in", region=demo_region())
    args = ["centrality", "--network", str(roads), "--time-fw-field", "time_min", "--time-unit", "min",
            "--class-field", "highway", "--direction-field", "oneway", "--link-id-field", "link_id",
            "--zones", str(zones_file), "--zones-layer", "zones", "--workers", "2"]
    assert main([*args, "--out", str(tmp_path / "local.gpkg")]) == 0
    assert main([*args, "--out", str(tmp_path / "dask.gpkg"), "--dask-scheduler", cluster.scheduler.address]) == 0
    a = gpd.read_file(tmp_path / "local.gpkg", layer="zones")
    b = gpd.read_file(tmp_path / "dask.gpkg", layer="zones")
    assert a.drop(columns="geometry").equals(b.drop(columns="geometry"))
