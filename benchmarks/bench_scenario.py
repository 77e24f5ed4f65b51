"""Benchmark: re-evaluating a road scenario incrementally vs a full recomputation (not a test).

Network: centrality.synthetic_national.national_network (default 4000 × 250 nodes = 1 M nodes,
~1.9 M links); zones: national_zones (default 5 000). Scenario: the trunk road (E6-like spine)
upgraded over ``--links`` consecutive links in the middle of the country (times × ``--factor``).

For each method (``geoproc.scenario.incremental.ScenarioEngine``) it measures the baseline and
then ``evaluate(variant)`` — apply the edits, new OD rows of the affected origins, accessibility
and index — ``--evaluations`` times (default 3; the "ch" baseline includes its preprocessing:
the hierarchy, the scenario workspace and a one-link probe scenario that loads the scenario
kernels; every evaluation's time and steps are printed, the best of the second and later is the
"speed-up" figure):

- ``ch``: re-customise the base hierarchy for the edited edges (partially), times between the
  zones and the edited edges' endpoints in both networks, the pairs between affected origins and
  destinations decided through the edited edges, re-query of the origins they cannot decide
  (``--factor`` > 1 makes it a slow-down: most affected origins are re-queried);
- ``exact``: one Dijkstra search per affected origin;
- ``corridor``: paths through the edited edges combined with the baseline rows (speed-ups only).

``--verify`` runs a full scenario recomputation (Dijkstra, all origins) and compares pairs and
times; it is also the "full recomputation" time of the ratios.

    NUMBA_CACHE_DIR=.cache/numba .venv/bin/python benchmarks/bench_scenario.py --method all --verify
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time

import numpy as np


def trunk_link_ids(net, n_links: int) -> np.ndarray:
    """Ids of ``n_links`` consecutive vertical trunk links around the middle row (one trunk column)."""
    links = net.links
    u = links["u"].to_numpy()
    v = links["v"].to_numpy()
    xy = net.node_xy
    vertical = np.abs(xy[v, 1] - xy[u, 1]) > np.abs(xy[v, 0] - xy[u, 0])
    trunk = (links["highway"].to_numpy() == "trunk") & vertical
    col_x = np.round(xy[u[trunk], 0], -2)              # trunk columns (jitter is ±40 m)
    target_x = col_x[np.argmin(np.abs(col_x - np.median(xy[:, 0])))]
    cols = np.abs(xy[u, 0] - target_x) < 100.0
    cand = np.flatnonzero(trunk & cols)
    mid_y = np.median(xy[:, 1])
    order = np.argsort(np.abs(xy[u[cand], 1] - mid_y))
    return np.sort(links.index.to_numpy()[cand[order[:n_links]]])


def run(argv=None) -> dict:
    from centrality.paths import od_times
    from centrality.settings import CentralitySettings
    from centrality.synthetic_national import national_network, national_zones
    from geoproc.scenario import Edit, Selection, Variant
    from geoproc.scenario.definition import resolve_variant
    from geoproc.scenario.incremental import ScenarioEngine, od_frame

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=4000)
    p.add_argument("--cols", type=int, default=250)
    p.add_argument("--zones", type=int, default=5000)
    p.add_argument("--links", type=int, default=60)
    p.add_argument("--factor", type=float, default=0.8, help="time factor of the edited links (< 1 speed-up, > 1 "
                   "slow-down)")
    p.add_argument("--cutoff", type=float, default=90.0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--method", choices=("ch", "exact", "corridor", "all"), default="ch")
    p.add_argument("--evaluations", type=int, default=3, help="evaluations of the variant (each is printed; the "
                   "best of the second and later is the speed-up figure)")
    p.add_argument("--verify", action="store_true", help="full scenario recomputation: compare, and time it")
    a = p.parse_args(argv)
    os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.dirname(__file__), "..", ".cache", "numba"))

    t = time.perf_counter()
    net = national_network(a.rows, a.cols, geometry=False)
    zones = national_zones(net, a.zones)
    print(f"network {net.n_nodes:,} nodes, {net.n_links:,} links; {len(zones.ids):,} zones; built in "
          f"{time.perf_counter() - t:.1f} s; load {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    ids = trunk_link_ids(net, a.links)
    variant = resolve_variant(Variant("trunk_upgrade", [Edit("scale_time", Selection(ids=tuple(ids.tolist())),
                                                             factor=a.factor)]), net)
    settings = CentralitySettings(cutoff_min=a.cutoff, limits_min=(30.0, 45.0, 60.0, a.cutoff), workers=a.workers)
    methods = ["ch", "exact", "corridor"] if a.method == "all" else [a.method]
    out = {"links": int(len(ids)), "zones": int(len(zones.ids)), "methods": {}}
    results = {}
    for method in methods:
        engine = ScenarioEngine(net, zones, settings, method=method)
        t = time.perf_counter()
        base = engine.baseline
        t_base = time.perf_counter() - t
        times, steps = [], []
        for _ in range(a.evaluations):
            t = time.perf_counter()
            res = engine.evaluate(variant)
            times.append(time.perf_counter() - t)
            steps.append({k: round(v, 3) for k, v in res.incremental.details.items() if k.endswith("_s")})
        inc = res.incremental
        results[method] = res
        m = {"baseline_s": t_base, "evaluate_s": times, "affected": inc.n_recomputed, "check_s": inc.seconds_check,
             "od_s": inc.seconds_od, "details": {k: v for k, v in inc.details.items() if k != "hierarchy"},
             "hierarchy": inc.details.get("hierarchy", {}), "pairs": base.od.n_pairs,
             "baseline_engine": base.od.extra.get("engine"), "steps_per_evaluation": steps}
        out["methods"][method] = m
        m["probe_s"] = engine.probe_s
        pre = f", incl. preprocessing and its {engine.probe_s:.2f} s probe scenario" if method == "ch" else ""
        print(f"[{method}] baseline ({m['baseline_engine']}{pre}) {t_base:.1f} s; affected origins "
              f"{inc.n_recomputed:,} of {inc.n_zones:,}; evaluate (edits + OD rows + accessibility + index) "
              f"{times[0]:.2f} s, again {', '.join(f'{x:.2f}' for x in times[1:])} s; check {inc.seconds_check:.2f} s, "
              f"OD {inc.seconds_od:.2f} s",
              flush=True)
        if method == "ch":
            det = m["details"]
            print(f"  re-customisation {det['recustomize_s']:.2f} s ({m['hierarchy']}); endpoint tables + affected "
                  f"zones {det['affected_s']:.2f} s ({det['n_endpoints']} endpoints; {det['n_affected']:,} origins, "
                  f"{det['n_affected_dest']:,} destinations); pairs via the changed edges {det['via_s']:.2f} s "
                  f"({det['n_via_pairs']:,} pairs); re-queried origins {det['n_requeried']:,} in "
                  f"{det['requery_s']:.2f} s; splice {det['splice_s']:.2f} s; outside the engine: edits + network "
                  f"{det['edits_s']:.2f} s, accessibility + index {det['centrality_s']:.2f} s", flush=True)
        if a.evaluations > 1:
            keys = sorted({k for st in steps for k in st})
            print("  steps per evaluation (s): " + "; ".join(
                f"{k} " + "/".join(f"{st.get(k, float('nan')):.2f}" for st in steps) for k in keys), flush=True)
        del engine, base
    if a.verify:
        t = time.perf_counter()
        full = od_frame(od_times(next(iter(results.values())).edits.network, zones, cutoff_min=a.cutoff,
                                 workers=a.workers, engine="dijkstra"))
        out["full_recomputation_s"] = time.perf_counter() - t
        print(f"verify: full scenario recomputation (Dijkstra, all origins) {out['full_recomputation_s']:.1f} s")
        for method, res in results.items():
            got = od_frame(res.incremental.od)
            same = np.array_equal(got[["origin", "dest"]].to_numpy(), full[["origin", "dest"]].to_numpy())
            diff = float(np.max(np.abs(got["time_s"].to_numpy() - full["time_s"].to_numpy()))) if same else float("nan")
            out["methods"][method].update(same_pairs=same, max_diff_s=diff)
            ev = out["methods"][method]["evaluate_s"]
            best = min(ev[1:] or ev)
            print(f"  [{method}] same pairs as the full recomputation: {same}; max |Δt| {diff:.2e} s; "
                  f"speed-up x{out['full_recomputation_s'] / best:.0f} (best evaluation {best:.2f} s)")
    out["peak_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    out["load_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"peak RSS {out['peak_gb']:.2f} GB; load {out['load_end']}")
    return out


def main(argv=None) -> int:
    run(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
