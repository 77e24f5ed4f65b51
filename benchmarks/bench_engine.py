"""Benchmark of the travel-time engine: contraction hierarchy vs Dijkstra vs peers, in ONE run.

For each network (the synthetic national network, the real OSM extracts in ../shared/data):

1. **ch**: preprocessing (METIS order, contraction, customisation; cold, no disk cache),
   then the full run ``od_times(engine="ch")`` for all zones as origins + accessibility + index,
   with ``--workers`` threads; and the same OD on one core (CPU seconds per origin);
2. **dijkstra**: the full run ``od_times(engine="dijkstra")`` + accessibility + index;
3. **scipy** ``csgraph.dijkstra(limit=...)`` per origin on a sample (one core), plus gathering
   the zone columns; **networkx** with a cutoff on a smaller sample;
4. **ssb-sgis** (Statistics Norway's GIS package: ``NetworkAnalysis.od_cost_matrix``, igraph
   underneath) on a few origins to all zones, on the same network exported as directed lines;

and checks exactness: the ch and dijkstra OD tables have the same pairs and times within
1e-6 s; scipy, networkx and sgis reach the same zones/nodes with the same times. Ratios are
computed within the run (the machine has 2 cores shared with other work: note the load).

    NUMBA_CACHE_DIR=.cache/numba .venv/bin/python benchmarks/bench_engine.py --workers 2

Options: ``--origins N`` (evenly spaced origins only), ``--rows/--cols`` (smaller national
network), ``--nx-sample 0`` / ``--sgis-sample 0`` (skip a peer), ``--skip-national``,
``--skip-osm``. ``--json FILE`` writes the rows for docs/performance.md.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("REGIO_SHARED_DATA", REPO.parent / "shared" / "data"))


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB on Linux


def rss_gb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024**3


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


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
    order = np.argsort(-csr.time_s, kind="stable")           # the smallest parallel edge wins
    g.add_weighted_edges_from(zip(tails[order].tolist(), csr.head[order].tolist(), csr.time_s[order].tolist()),
                              weight="w")
    return g


def od_key(od, n_zones: int) -> tuple[np.ndarray, np.ndarray]:
    key = od.origin.astype(np.int64) * n_zones + od.dest
    order = np.argsort(key, kind="stable")
    return key[order], od.time_s[order]


def full_run(network, zones, args, **kw):
    """od_times + accessibility + index; returns (seconds, od seconds, od, index)."""
    from centrality.accessibility import accessibility
    from centrality.index import centrality_index, ssb_class
    from centrality.paths import od_times

    t0 = time.perf_counter()
    od = od_times(network, zones, cutoff_min=args.cutoff, workers=args.workers, **kw)
    t_od = time.perf_counter() - t0
    acc = accessibility(od, zones)
    index = centrality_index(acc["access_decay"].to_numpy())
    ssb_class(index)
    return time.perf_counter() - t0, t_od, od, index


def sgis_peer(network, zones, sample, cutoff_s: float) -> dict:
    """ssb-sgis od_cost_matrix from ``sample`` zones to all zones on the network exported as
    directed lines (weight = seconds), points at the zones' nodes; checked against node_times."""
    import warnings

    import geopandas as gpd
    import shapely

    from centrality.paths import node_times

    warnings.filterwarnings("ignore")
    try:
        import sgis as sg
    except ImportError as exc:
        return {"sgis_error": f"ssb-sgis not installed ({exc}); pip install -e '.[bench]'"}
    csr = network.csr
    xy = network.node_xy
    tails = np.repeat(np.arange(network.n_nodes), np.diff(csr.indptr))
    t0 = time.perf_counter()
    lines = gpd.GeoDataFrame({"seconds": csr.time_s},
                             geometry=shapely.linestrings(np.stack([xy[tails], xy[csr.head]], axis=1)),
                             crs=network.crs)
    rules = sg.NetworkAnalysisRules(weight="seconds", directed=True, split_lines=False, search_factor=0,
                                    search_tolerance=1)
    nwa = sg.NetworkAnalysis(network=lines, rules=rules, detailed_log=False)
    build_s = time.perf_counter() - t0
    nodes = np.asarray(zones.node)
    origins = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*xy[nodes[sample]].T), crs=network.crs)
    dests = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*xy[nodes].T), crs=network.crs)
    t0 = time.perf_counter()
    od = nwa.od_cost_matrix(origins, dests, cutoff=cutoff_s)
    wall = time.perf_counter() - t0
    same, max_diff = True, 0.0
    for i, o in enumerate(sample):
        ref = node_times(network, nodes[o], cutoff_s=cutoff_s)[nodes]
        sub = od[od["origin"] == i]
        got = np.full(len(nodes), np.inf)
        got[sub["destination"].to_numpy()] = sub["seconds"].to_numpy()
        same &= bool(np.array_equal(np.isfinite(ref), np.isfinite(got)))
        f = np.isfinite(ref) & np.isfinite(got)
        if f.any():
            max_diff = max(max_diff, float(np.abs(ref[f] - got[f]).max()))
    return {"sgis_s_per_origin": wall / len(sample), "sgis_build_s": build_s, "sgis_same": same,
            "sgis_max_diff_s": max_diff, "sgis_origins": int(len(sample))}


def bench_network(name: str, network, zones, args) -> dict:
    from scipy.sparse.csgraph import dijkstra

    from centrality.ch import hierarchy_for
    from centrality.paths import node_times, od_times

    n_zones = len(zones.node)
    origins = None if args.origins is None else sample_positions(n_zones, args.origins)
    n_origins = n_zones if origins is None else len(origins)
    row = {"network": name, "nodes": network.n_nodes, "edges": network.n_edges, "zones": n_zones,
           "origins": n_origins, "workers": args.workers, "load_start": load()}
    print(f"[{name}] load {row['load_start']}; compiling", flush=True)
    od_times(network, zones, cutoff_min=args.cutoff, origins=[0], engine="dijkstra")   # numba cache, reorder

    # ---- ch: preprocessing (cold), full run, one core
    print(f"[{name}] ch preprocessing ...", flush=True)
    t0 = time.perf_counter()
    h = hierarchy_for(network, workers=args.workers)
    row["ch_pre_s"] = time.perf_counter() - t0
    row.update({f"ch_{k}": h.stats.get(k) for k in ("order_s", "contract_s", "customize_s", "n_arcs")})
    od_times(network, zones, cutoff_min=args.cutoff, origins=np.arange(min(16, n_zones)), hierarchy=h)  # compile
    print(f"[{name}] ch full run ...", flush=True)
    row["ch_full_s"], row["ch_od_s"], od_ch, index_ch = full_run(network, zones, args, origins=origins, hierarchy=h)
    row["pairs"] = od_ch.n_pairs
    row["ch_ties"] = od_ch.extra["ch"]["ambiguous_origins"]
    row["ch_tie_band_s"] = od_ch.extra["ch"]["tie_band_s"]
    row["peak_gb_ch"] = peak_rss_gb()
    t0 = time.thread_time()
    od_times(network, zones, cutoff_min=args.cutoff, workers=1, origins=origins, hierarchy=h)
    row["ch_core_s_per_origin"] = (time.thread_time() - t0) / n_origins
    key_ch, t_ch = od_key(od_ch, n_zones)
    del od_ch

    # ---- dijkstra full run
    print(f"[{name}] dijkstra full run ...", flush=True)
    row["dij_full_s"], row["dij_od_s"], od_dij, index_dij = full_run(network, zones, args, origins=origins,
                                                                     engine="dijkstra")
    key_d, t_d = od_key(od_dij, n_zones)
    row["same_pairs"] = bool(np.array_equal(key_ch, key_d))
    row["max_diff_s"] = float(np.abs(t_ch - t_d).max()) if row["same_pairs"] and len(t_d) else float("nan")
    row["index_max_diff"] = float(np.nanmax(np.abs(index_ch - index_dij)))
    del od_dij, key_ch, key_d, t_ch, t_d
    row["peak_gb"] = peak_rss_gb()

    # ---- one-core samples: our Dijkstra, scipy, networkx
    sample = sample_positions(n_zones, args.scipy_sample)
    t0 = time.thread_time()
    ours = od_times(network, zones, cutoff_min=args.cutoff, workers=1, origins=sample, engine="dijkstra")
    row["dij_core_s_per_origin"] = (time.thread_time() - t0) / len(sample)
    matrix = scipy_matrix(network)
    nodes = np.asarray(zones.node)
    access = np.asarray(zones.access_s)
    cutoff_s = args.cutoff * 60.0
    net_cut = cutoff_s - access.min()
    t0 = time.thread_time()
    scipy_pairs = 0
    for o in sample:
        d = dijkstra(matrix, indices=int(nodes[o]), limit=net_cut - access[o])
        scipy_pairs += int((access[o] + d[nodes] + access <= cutoff_s).sum())
    row["scipy_s_per_origin"] = (time.thread_time() - t0) / len(sample)
    row["scipy_pairs_match"] = scipy_pairs == ours.n_pairs
    max_diff = 0.0
    for o in sample[:5]:
        a = node_times(network, nodes[o], cutoff_s=net_cut)
        b = dijkstra(matrix, indices=int(nodes[o]), limit=net_cut)
        assert np.array_equal(np.isinf(a), np.isinf(b)), "scipy reached a different node set"
        f = np.isfinite(a)
        max_diff = max(max_diff, float(np.abs(a[f] - b[f]).max()))
    row["scipy_max_diff_s"] = max_diff
    del matrix
    if args.nx_sample > 0:
        import networkx as nx

        g = networkx_graph(network)
        nx_sample = sample[np.linspace(0, len(sample) - 1, min(args.nx_sample, len(sample))).round().astype(int)]
        t0 = time.thread_time()
        results = [nx.single_source_dijkstra_path_length(g, int(nodes[o]), cutoff=net_cut, weight="w")
                   for o in nx_sample]
        row["nx_s_per_origin"] = (time.thread_time() - t0) / len(nx_sample)
        t0 = time.thread_time()
        od_times(network, zones, cutoff_min=args.cutoff, workers=1, origins=nx_sample, engine="dijkstra")
        row["dij_core_s_nx_sample"] = (time.thread_time() - t0) / len(nx_sample)
        nx_diff = 0.0
        for o, res in zip(nx_sample, results):
            a = node_times(network, nodes[o], cutoff_s=net_cut)
            assert set(np.flatnonzero(np.isfinite(a))) == set(res), "networkx reached a different node set"
            keys = np.fromiter(res.keys(), dtype=np.int64)
            vals = np.fromiter(res.values(), dtype=np.float64)
            nx_diff = max(nx_diff, float(np.abs(a[keys] - vals).max()))
        row["nx_max_diff_s"] = nx_diff
        del g, results
    if args.sgis_sample > 0:
        print(f"[{name}] ssb-sgis ...", flush=True)
        row.update(sgis_peer(network, zones, sample[:args.sgis_sample], cutoff_s))
    row["load_end"] = load()
    return row


def per_call(network, zones, args, repeats: int = 20) -> dict:
    """Per-call overhead on a small real network: one od_times call from one origin."""
    from centrality.ch import hierarchy_for
    from centrality.paths import od_times

    h = hierarchy_for(network)
    out = {}
    for engine in ("dijkstra", "ch"):
        kw = {"hierarchy": h} if engine == "ch" else {"engine": "dijkstra"}
        od_times(network, zones, cutoff_min=args.cutoff, origins=[0], **kw)
        t0 = time.perf_counter()
        for i in range(repeats):
            od_times(network, zones, cutoff_min=args.cutoff, origins=[i], **kw)
        out[f"{engine}_call_ms"] = (time.perf_counter() - t0) / repeats * 1e3
    return out


def osm_rows(args) -> list[dict]:
    from centrality.builders.osm import network_from_osm_pbf
    from centrality.synthetic_national import national_zones

    rows = []
    for name in ("oslo_east.osm.pbf", "helsinki.osm.pbf"):
        path = DATA / name
        if not path.exists():
            print(f"[{name}] skipped: {path} not found", flush=True)
            continue
        t0 = time.perf_counter()
        net = network_from_osm_pbf(path)
        build_s = time.perf_counter() - t0
        zones = national_zones(net, n_zones=net.n_nodes, seed=1)      # a zone at every node
        a = argparse.Namespace(**{**vars(args), "origins": None, "nx_sample": min(args.nx_sample, 10),
                                  "sgis_sample": min(args.sgis_sample, 5)})
        row = bench_network(f"{name.split('.')[0]} OSM (zone at every node)", net, zones, a)
        row["build_s"] = build_s
        row.update(per_call(net, zones, args))
        rows.append(row)
    return rows


def national(args) -> dict:
    from centrality.synthetic_national import national_network, national_zones

    t0 = time.perf_counter()
    net = national_network(args.rows, args.cols, seed=0, geometry=False)
    _ = net.csr
    build_s = time.perf_counter() - t0
    zones = national_zones(net, n_zones=args.zones, seed=0)
    row = bench_network(f"synthetic national {args.rows}x{args.cols}", net, zones, args)
    row["build_s"] = build_s
    return row


def f(x, fmt="{:.3g}"):
    return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else fmt.format(x)


def markdown(rows: list[dict], args) -> str:
    w = args.workers
    head = ("| network | nodes | directed edges | zones | origins | pairs | CH preprocessing s (order / contract / "
            f"customise) | CH full run s ({w} workers) | Dijkstra full run s ({w} workers) | **Dijkstra / CH** | "
            "**Dijkstra / (CH + preprocessing)** | CH per origin, 1 core | Dijkstra per origin, 1 core | scipy per "
            "origin | **scipy / CH (per core)** | networkx per origin | ssb-sgis per origin | peak RSS GB (after CH "
            "run / all) |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        pre = r["ch_pre_s"]
        lines.append(
            f"| {r['network']} | {r['nodes']:,} | {r['edges']:,} | {r['zones']:,} | {r['origins']:,} | {r['pairs']:,} | "
            f"{pre:.1f} ({f(r['ch_order_s'], '{:.1f}')} / {f(r['ch_contract_s'], '{:.1f}')} / "
            f"{f(r['ch_customize_s'], '{:.1f}')}) | {r['ch_full_s']:.2f} | {r['dij_full_s']:.2f} | "
            f"**{r['dij_full_s'] / r['ch_full_s']:.1f}x** | **{r['dij_full_s'] / (r['ch_full_s'] + pre):.1f}x** | "
            f"{r['ch_core_s_per_origin'] * 1e3:.2f} ms | {r['dij_core_s_per_origin'] * 1e3:.2f} ms | "
            f"{r['scipy_s_per_origin'] * 1e3:.2f} ms | **{r['scipy_s_per_origin'] / r['ch_core_s_per_origin']:.1f}x** | "
            f"{f(r.get('nx_s_per_origin') and r['nx_s_per_origin'] * 1e3, '{:.0f}')} ms | "
            f"{f(r.get('sgis_s_per_origin') and r['sgis_s_per_origin'] * 1e3, '{:.0f}')} ms | "
            f"{r['peak_gb_ch']:.2f} / {r['peak_gb']:.2f} |")
    notes = []
    for r in rows:
        sg = (f"ssb-sgis on {r.get('sgis_origins')} origins: same reached zones {r.get('sgis_same')}, max |diff| "
              f"{f(r.get('sgis_max_diff_s'), '{:.2g}')} s (its network build {f(r.get('sgis_build_s'), '{:.1f}')} s not "
              "counted)") if "sgis_s_per_origin" in r else f"ssb-sgis: {r.get('sgis_error', 'skipped')}"
        call = (f"; per call from one origin: dijkstra {r['dijkstra_call_ms']:.2f} ms, ch {r['ch_call_ms']:.2f} ms"
                if "ch_call_ms" in r else "")
        notes.append(
            f"- {r['network']}: CH vs Dijkstra: same pairs {r['same_pairs']}, max |Δt| {f(r['max_diff_s'], '{:.2g}')} s, "
            f"index max |Δ| {f(r['index_max_diff'], '{:.2g}')}; origins decided by Dijkstra at a tie with the cutoff "
            f"{r['ch_ties']} (band {r['ch_tie_band_s']:.2g} s); scipy max |diff| {r['scipy_max_diff_s']:.2g} s, pair count "
            f"{'matches' if r['scipy_pairs_match'] else 'DIFFERS'}; networkx max |diff| "
            f"{f(r.get('nx_max_diff_s'), '{:.2g}')} s; {sg}{call}; hierarchy arcs {r['ch_n_arcs']:,}; load "
            f"{r['load_start']} -> {r['load_end']}.")
    return "\n".join(lines + [""] + notes)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=4000, help="synthetic national grid rows (default 4000)")
    p.add_argument("--cols", type=int, default=250, help="synthetic national grid columns (default 250)")
    p.add_argument("--zones", type=int, default=10_000, help="zones on the national network (default 10000)")
    p.add_argument("--origins", type=int, default=None, help="compute only N evenly spaced origins (default all)")
    p.add_argument("--workers", type=int, default=2, help="threads for the full runs (default 2)")
    p.add_argument("--cutoff", type=float, default=90.0, help="cutoff in minutes (default 90)")
    p.add_argument("--scipy-sample", type=int, default=40, help="origins timed with scipy and Dijkstra on one core")
    p.add_argument("--nx-sample", type=int, default=10, help="origins timed with networkx (0 = skip)")
    p.add_argument("--sgis-sample", type=int, default=3, help="origins timed with ssb-sgis (0 = skip)")
    p.add_argument("--skip-national", action="store_true")
    p.add_argument("--skip-osm", action="store_true")
    p.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = p.parse_args(argv)
    os.environ.setdefault("NUMBA_CACHE_DIR", str(REPO / ".cache" / "numba"))
    rows = []
    if not args.skip_osm:
        rows += osm_rows(args)
    if not args.skip_national:
        rows.append(national(args))
    print()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, cutoff {args.cutoff:g} min, load now {load()}")
    print(markdown(rows, args))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
