"""Benchmark of the travel-time centrality engine against networkx and scipy (not a test).

For each network (Helsinki OSM extract from ../shared/data, and the synthetic national network):
  1. our engine: od_times (all zones as origins, or --origins N of them) + accessibility + index,
     with --workers threads;
  2. our kernel on one core for a sample of origins (od_times, workers=1);
  3. scipy.sparse.csgraph.dijkstra(limit=...) on the same sample (one core), plus zone gathering;
  4. networkx.single_source_dijkstra_path_length(cutoff=...) on a smaller sample;
and checks that all three give identical node times on the sample. Prints a markdown table.

    NUMBA_CACHE_DIR=.cache/numba .venv/bin/python benchmarks/bench_engine.py --workers 2
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PBF = REPO.parent / "shared" / "data" / "helsinki.osm.pbf"


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # ru_maxrss is in KiB on Linux


def sample_positions(n: int, k: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(k, n)).round().astype(np.int64))


def scipy_matrix(network):
    from scipy.sparse import csr_matrix

    csr = network.csr
    n = network.n_nodes
    # scipy sums duplicate (parallel) edges and drops explicit zeros: keep the minimum, nudge zeros
    tails = np.repeat(np.arange(n), np.diff(csr.indptr))
    order = np.lexsort((csr.time_s, csr.head, tails))
    t, h, w = tails[order], csr.head[order], csr.time_s[order]
    first = np.ones(len(t), bool)
    first[1:] = (t[1:] != t[:-1]) | (h[1:] != h[:-1])
    w = np.where(w[first] == 0, 1e-300, w[first])
    return csr_matrix((w, (t[first], h[first])), shape=(n, n))


def networkx_graph(network):
    import networkx as nx

    csr = network.csr
    tails = np.repeat(np.arange(network.n_nodes), np.diff(csr.indptr))
    g = nx.DiGraph()
    g.add_nodes_from(range(network.n_nodes))
    # iterate in decreasing time so the smallest parallel edge wins
    order = np.argsort(-csr.time_s, kind="stable")
    g.add_weighted_edges_from(zip(tails[order].tolist(), csr.head[order].tolist(), csr.time_s[order].tolist()),
                              weight="w")
    return g


def bench_network(name: str, network, zones, args) -> dict:
    from centrality.accessibility import accessibility
    from centrality.index import centrality_index, ssb_class
    from centrality.paths import node_times, od_times

    cutoff_s = args.cutoff * 60.0
    n_zones = len(zones.node)
    origins = None if args.origins is None else sample_positions(n_zones, args.origins)
    n_origins = n_zones if origins is None else len(origins)
    row = {"network": name, "nodes": network.n_nodes, "edges": network.n_edges, "zones": n_zones,
           "origins": n_origins, "workers": args.workers}
    od_times(network, zones, cutoff_min=args.cutoff, origins=[0])  # numba compile / cache load, reorder
    print(f"[{name}] full run: {n_origins} origins, {args.workers} workers ...", flush=True)
    t0 = time.perf_counter()
    od = od_times(network, zones, cutoff_min=args.cutoff, workers=args.workers, origins=origins)
    t_od = time.perf_counter() - t0
    acc = accessibility(od, zones)
    index = centrality_index(acc["access_decay"].to_numpy())
    ssb_class(index)
    t_full = time.perf_counter() - t0
    row.update(pairs=od.n_pairs, od_s=t_od, full_s=t_full, settled=od.n_settled,
               settled_per_s=od.n_settled / t_od, peak_gb=peak_rss_gb())
    del od, acc

    sample = sample_positions(n_zones, args.scipy_sample)
    t0 = time.thread_time()
    ours = od_times(network, zones, cutoff_min=args.cutoff, workers=1, origins=sample)
    row["ours_core_s_per_origin"] = (time.thread_time() - t0) / len(sample)
    row["ours_core_settled_per_s"] = ours.n_settled / max(time.thread_time() - t0, 1e-9)

    from scipy.sparse.csgraph import dijkstra

    matrix = scipy_matrix(network)
    nodes = np.asarray(zones.node)
    access = np.asarray(zones.access_s)
    net_cut = cutoff_s - access.min()
    t0 = time.thread_time()
    scipy_pairs = 0
    for o in sample:
        d = dijkstra(matrix, indices=int(nodes[o]), limit=net_cut - access[o])
        total = access[o] + d[nodes] + access
        scipy_pairs += int((total <= cutoff_s).sum())
    row["scipy_s_per_origin"] = (time.thread_time() - t0) / len(sample)
    row["scipy_pairs_match"] = scipy_pairs == ours.n_pairs
    max_diff = 0.0
    for o in sample[: min(5, len(sample))]:
        a = node_times(network, nodes[o], cutoff_s=net_cut)
        b = dijkstra(matrix, indices=int(nodes[o]), limit=net_cut)
        assert np.array_equal(np.isinf(a), np.isinf(b)), "scipy reached a different node set"
        f = np.isfinite(a)
        max_diff = max(max_diff, float(np.abs(a[f] - b[f]).max()))
    row["scipy_max_diff_s"] = max_diff
    del matrix

    if args.nx_sample > 0:
        import networkx as nx

        t0 = time.perf_counter()
        g = networkx_graph(network)
        row["nx_build_s"] = time.perf_counter() - t0
        nx_sample = sample[np.linspace(0, len(sample) - 1, min(args.nx_sample, len(sample))).round().astype(int)]
        t0 = time.thread_time()
        results = [nx.single_source_dijkstra_path_length(g, int(nodes[o]), cutoff=net_cut, weight="w")
                   for o in nx_sample]
        row["nx_s_per_origin"] = (time.thread_time() - t0) / len(nx_sample)
        # our single core on exactly the networkx origins (origins differ a lot in reached nodes)
        t0 = time.thread_time()
        od_times(network, zones, cutoff_min=args.cutoff, workers=1, origins=nx_sample)
        row["ours_core_s_nx_sample"] = (time.thread_time() - t0) / len(nx_sample)
        nx_diff = 0.0
        for o, res in zip(nx_sample, results):
            a = node_times(network, nodes[o], cutoff_s=net_cut)
            assert set(np.flatnonzero(np.isfinite(a))) == set(res), "networkx reached a different node set"
            keys = np.fromiter(res.keys(), dtype=np.int64)
            vals = np.fromiter(res.values(), dtype=np.float64)
            nx_diff = max(nx_diff, float(np.abs(a[keys] - vals).max()))
        row["nx_max_diff_s"] = nx_diff
        del g, results
    return row


def helsinki(args):
    from centrality.synthetic_national import national_zones

    path = Path(args.pbf)
    if not path.exists():
        print(f"[helsinki] skipped: {path} not found", flush=True)
        return None
    try:
        from centrality.builders.osm import network_from_osm_pbf
    except ImportError as exc:
        print(f"[helsinki] skipped: OSM builder not available ({exc})", flush=True)
        return None
    t0 = time.perf_counter()
    net = network_from_osm_pbf(path)
    build_s = time.perf_counter() - t0
    zones = national_zones(net, n_zones=min(args.helsinki_zones, net.n_nodes), seed=1)
    row = bench_network("Helsinki OSM", net, zones, args)
    row["build_s"] = build_s
    return row


def national(args):
    from centrality.synthetic_national import national_network, national_zones

    t0 = time.perf_counter()
    net = national_network(args.rows, args.cols, seed=0)
    _ = net.csr
    build_s = time.perf_counter() - t0
    zones = national_zones(net, n_zones=args.zones, seed=0)
    row = bench_network(f"synthetic national {args.rows}x{args.cols}", net, zones, args)
    row["build_s"] = build_s
    return row


def markdown(rows: list[dict], args) -> str:
    def f(x, fmt="{:.3g}"):
        return "–" if x is None else fmt.format(x)

    head = ("| network | nodes | directed edges | zones | origins | reachable pairs | build s | "
            f"full run s ({args.workers} workers: OD + accessibility + index) | settled nodes/s (full run) | peak RSS GB | "
            "ours per origin (1 core) | scipy per origin | networkx per origin | ours vs scipy (per core) | "
            "ours vs networkx (per core) | ours (full run, all workers) vs networkx (1 core, extrapolated) |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        nx_s = r.get("nx_s_per_origin")
        ours = r["ours_core_s_per_origin"]
        nx_ratio = nx_total = None
        if nx_s:
            nx_ratio = nx_s / r["ours_core_s_nx_sample"]          # same origins, one core each
            nx_total = nx_ratio * ours * r["origins"]             # networkx extrapolated to all origins
        lines.append(
            f"| {r['network']} | {r['nodes']:,} | {r['edges']:,} | {r['zones']:,} | {r['origins']:,} | "
            f"{r['pairs']:,} | {r['build_s']:.1f} | {r['full_s']:.1f} (OD {r['od_s']:.1f}) | "
            f"{r['settled_per_s'] / 1e6:.1f} M | {r['peak_gb']:.2f} | {ours * 1e3:.2f} ms | "
            f"{r['scipy_s_per_origin'] * 1e3:.2f} ms | {f(nx_s and nx_s * 1e3, '{:.0f}')} ms | "
            f"{r['scipy_s_per_origin'] / ours:.1f}x | "
            f"{f(nx_ratio, '{:.0f}')}x | "
            f"{f(nx_total and nx_total / r['full_s'], '{:.0f}')}x |")
    notes = []
    for r in rows:
        notes.append(f"- {r['network']}: identical results — scipy max |diff| {r['scipy_max_diff_s']:.2g} s, "
                     f"networkx max |diff| {f(r.get('nx_max_diff_s'), '{:.2g}')} s, scipy OD pair count "
                     f"{'matches' if r['scipy_pairs_match'] else 'DIFFERS'}; networkx graph build "
                     f"{f(r.get('nx_build_s'), '{:.1f}')} s (not counted).")
    return "\n".join(lines + [""] + notes)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=4000, help="synthetic national grid rows (default 4000)")
    p.add_argument("--cols", type=int, default=250, help="synthetic national grid columns (default 250)")
    p.add_argument("--zones", type=int, default=10_000, help="zones on the national network (default 10000)")
    p.add_argument("--origins", type=int, default=None, help="compute only N evenly spaced origins (default all)")
    p.add_argument("--workers", type=int, default=2, help="threads for the full run (default 2)")
    p.add_argument("--cutoff", type=float, default=90.0, help="cutoff in minutes (default 90)")
    p.add_argument("--scipy-sample", type=int, default=40, help="origins timed with scipy and our single core")
    p.add_argument("--nx-sample", type=int, default=10, help="origins timed with networkx (0 = skip networkx)")
    p.add_argument("--pbf", default=str(DEFAULT_PBF), help="OSM extract for the real-network run")
    p.add_argument("--helsinki-zones", type=int, default=2000, help="zones on the Helsinki network")
    p.add_argument("--skip-helsinki", action="store_true")
    p.add_argument("--skip-national", action="store_true")
    args = p.parse_args(argv)
    os.environ.setdefault("NUMBA_CACHE_DIR", str(REPO / ".cache" / "numba"))
    rows = []
    if not args.skip_helsinki:
        r = helsinki(args)
        if r:
            rows.append(r)
    if not args.skip_national:
        rows.append(national(args))
    print()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, cutoff {args.cutoff:g} min")
    print(markdown(rows, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
