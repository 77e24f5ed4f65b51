"""Pair-level scenario updates on the hierarchy (centrality.ch.scenario.scenario_pairs): endpoint
tables, the decision through changed edges, re-queries and the splice equal a full recomputation
for speed-ups, slow-downs, closures, mixed edits and new links, on a small and a medium network."""
from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.dirname(__file__), "..", ".cache", "numba"))

from centrality.ch.build import hierarchy_for  # noqa: E402
from centrality.ch.query import TargetSpace, distance_table, times_from_nodes  # noqa: E402
from centrality.ch.scenario import (affected_zones, changed_pairs, scenario_hierarchy, scenario_pairs,  # noqa: E402
                                    splice_pairs)
from centrality.errors import InputError  # noqa: E402
from centrality.network import RoadNetwork  # noqa: E402
from centrality.paths import ODTable, node_times, od_times  # noqa: E402
from centrality.settings import CentralitySettings  # noqa: E402
from centrality.step import centrality_from_od  # noqa: E402
from geoproc.scenario.incremental import od_frame, reversed_csr  # noqa: E402

NAN = np.nan
ALWAYS, NEVER = 10**9, 0        # max_table_sweeps: force the endpoint tables / the re-query of every origin


def grid(n_side: int, seed: int = 0, integer: bool = False) -> RoadNetwork:
    rng = np.random.default_rng(seed)
    idx = np.arange(n_side * n_side).reshape(n_side, n_side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    t = np.full(len(u), 60.0) if integer else rng.uniform(45, 100, len(u))
    bw = t.copy() if integer else np.where(rng.random(len(u)) < 0.1, NAN, t * 1.05)
    xy = np.column_stack([(idx % n_side).ravel() * 500.0, (idx // n_side).ravel() * 500.0])
    return RoadNetwork.from_arrays(xy, u, v, t, bw)


def zones_of(net: RoadNetwork, k: int, seed: int = 1, access: bool = True) -> SimpleNamespace:
    rng = np.random.default_rng(seed)
    return SimpleNamespace(ids=np.arange(k) + 1, node=rng.choice(net.n_nodes, k, replace=False),
                           access_s=rng.uniform(0, 30, k) if access else np.zeros(k),
                           jobs=rng.integers(0, 1000, k).astype(float))


def random_edit(net: RoadNetwork, kind: str, seed: int, n_links: int) -> RoadNetwork:
    """Times of ``n_links`` random links (both directions) scaled or closed."""
    rng = np.random.default_rng(seed)
    links = net.links.copy()
    ids = rng.choice(links.index.to_numpy(), n_links, replace=False)
    if kind == "speedup":
        f = rng.uniform(0.3, 0.9, n_links)
    elif kind == "slowdown":
        f = rng.uniform(1.5, 4.0, n_links)
    elif kind == "closure":
        f = np.full(n_links, NAN)
    else:                                         # mixed: speed-ups, slow-downs and closures together
        f = rng.choice([0.5, 0.8, 2.0, 3.0, NAN], n_links)
    for col in ("time_fw_s", "time_bw_s"):
        links.loc[ids, col] = links.loc[ids, col].to_numpy() * f
    return net.replace_links(links)


def new_link(net: RoadNetwork, a: int, b: int, time_s: float) -> RoadNetwork:
    import geopandas as gpd
    import shapely

    xy = net.node_xy
    new = gpd.GeoDataFrame({"u": [a], "v": [b], "length_m": [1000.0], "time_fw_s": [time_s], "time_bw_s": [time_s],
                            "kind": ["road"]}, geometry=[shapely.LineString([xy[a], xy[b]])], crs=net.links.crs,
                           index=pd.Index([net.links.index.max() + 1], name=net.links.index.name))
    return net.replace_links(gpd.GeoDataFrame(pd.concat([net.links, new]), geometry="geometry", crs=net.crs))


def scenario_table(net, scen, zones, cutoff, max_sweeps):
    base_od = od_times(net, zones, cutoff_min=cutoff, engine="ch")
    res = scenario_pairs(net, scen, zones, cutoff, base_od, max_table_sweeps=max_sweeps)
    got = splice_pairs(base_od, res.od, res.origins, res.dests)
    return res, od_frame(SimpleNamespace(**got)), got


def assert_equal_tables(got: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert np.array_equal(got[["origin", "dest"]].to_numpy(np.int64), ref[["origin", "dest"]].to_numpy(np.int64))
    assert np.abs(got["time_s"].to_numpy() - ref["time_s"].to_numpy()).max() <= 1e-6


# ------------------------------------------------------------------------------ building blocks
def test_distance_table_equals_dijkstra_both_ways():
    """Sources outside the zones' space: their climb runs on the whole topology."""
    net = grid(14)
    zones = zones_of(net, 40)
    h = hierarchy_for(net)
    ranks = h.to_rank(zones.node)
    space = TargetSpace.of(h, ranks)
    src = np.setdiff1d(np.arange(0, net.n_nodes, 7), zones.node)[:20]
    assert (space.pos[h.to_rank(src)] < 0).any()
    for reverse, csr in ((False, net.csr), (True, reversed_csr(net))):
        got = distance_table(h, space, src, ranks, 400.0, reverse=reverse, workers=2)
        ref = np.array([node_times(csr, np.array([s]), cutoff_s=400.0)[zones.node] for s in src])
        ref = np.where(ref <= 400.0, ref, np.inf)
        fin = np.isfinite(ref)
        assert np.array_equal(np.isfinite(got), fin) and fin.sum() > 50
        assert np.abs(got[fin] - ref[fin]).max() < 1e-9


def test_times_from_nodes_is_the_forward_multi_source_time():
    net = grid(14)
    zones = zones_of(net, 40)
    h = hierarchy_for(net)
    ranks = h.to_rank(zones.node)
    space = TargetSpace.of(h, ranks)
    sources = np.array([3, 50, 120])
    f = times_from_nodes(h, space, h.to_rank(sources), 500.0)[space.pos[ranks]]
    ref = node_times(net.csr, sources, cutoff_s=500.0)[zones.node]
    fin = ref <= 500.0
    assert fin.sum() > 5 and np.abs(f[fin] - ref[fin]).max() < 1e-9 and np.all(f[~fin] > 500.0)


def test_splice_pairs_replaces_exactly_the_product():
    """Hand case: origin 0 and destinations {1, 2} are affected; (0, 1) leaves the cutoff, (0, 2)
    changes, (0, 0) is kept, (1, *) is untouched; destinations come out in order."""
    base = ODTable(origin=np.array([0, 0, 0, 1, 1], np.int32), dest=np.array([2, 0, 1, 1, 2], np.int32),
                   time_s=np.array([30.0, 2.0, 40.0, 4.0, 50.0]), n_zones=3)
    new = SimpleNamespace(origin=np.array([0], np.int32), dest=np.array([2], np.int32), time_s=np.array([25.0]))
    out = splice_pairs(base, new, np.array([True, False, False]), np.array([False, True, True]))
    assert out["origin"].tolist() == [0, 0, 1, 1]
    assert out["dest"].tolist() == [0, 2, 1, 2]
    assert out["time_s"].tolist() == [2.0, 25.0, 4.0, 50.0]
    with pytest.raises(InputError, match="affected"):
        splice_pairs(base, SimpleNamespace(origin=np.array([1]), dest=np.array([2]), time_s=np.array([1.0])),
                     np.array([True, False, False]), np.array([False, True, True]))


def test_affected_destinations_cover_every_changed_column():
    net = grid(14)
    zones = zones_of(net, 80)
    scen = random_edit(net, "slowdown", 3, 10)
    h = hierarchy_for(net)
    tails, heads = changed_pairs(net.csr, scen.csr)
    hs = scenario_hierarchy(h, scen.csr, tails, heads)
    origins, dests = affected_zones(h, hs, zones, tails, heads, 6.0)
    a = od_frame(od_times(net, zones, cutoff_min=6.0, engine="dijkstra"))
    b = od_frame(od_times(scen, zones, cutoff_min=6.0, engine="dijkstra"))
    m = a.merge(b, on=["origin", "dest"], how="outer", suffixes=("_a", "_b"))
    changed = m[~np.isclose(m["time_s_a"], m["time_s_b"], rtol=0, atol=1e-9)]
    assert len(changed) > 0 and origins[changed["origin"]].all() and dests[changed["dest"]].all()
    assert not dests.all()


# ------------------------------------------------------------------------------ equal to a full recomputation
@pytest.mark.parametrize("size", ["small", "medium"])
@pytest.mark.parametrize("kind", ["speedup", "slowdown", "closure", "mixed"])
@pytest.mark.parametrize("seed", [0, 1])
def test_scenario_pairs_equal_full_recomputation_on_random_edits(size, kind, seed):
    n_side, n_zones, n_links, cutoff = (14, 80, 10, 6.0) if size == "small" else (36, 300, 25, 12.0)
    net = grid(n_side, seed=seed)
    zones = zones_of(net, n_zones, seed=seed + 1)
    scen = random_edit(net, kind, seed + 10, n_links)
    res, got, _ = scenario_table(net, scen, zones, cutoff, ALWAYS)
    ref = od_frame(od_times(scen, zones, cutoff_min=cutoff, engine="dijkstra"))
    assert_equal_tables(got, ref)
    st = res.stats
    assert st["tables"] and 0 < st["n_affected"] < n_zones and st["n_via_pairs"] + st["n_requeried"] > 0
    assert st["monotone"] == (kind == "speedup")   # no edge slower or closed: the scenario's tables alone
    if kind == "speedup":
        assert st["n_requeried"] == 0          # every pair decided through the changed edges
        tails, heads = (np.unique(a) for a in scen_pairs(net, scen))
        assert st["table_sweeps"] == -(-len(tails) // 16) - (-len(heads) // 16)      # one network's sweeps
    if kind in ("slowdown", "closure"):
        assert st["n_requeried"] > 0           # pairs whose base path used a slowed/closed edge


@pytest.mark.parametrize("kind", ["speedup", "mixed"])
def test_scenario_pairs_on_two_threads_with_a_split_recustomisation(kind, monkeypatch):
    """workers=2: the re-customisation splits into two halves and the top (threshold lowered for
    this small grid); the table equals a full recomputation."""
    import centrality.ch.hierarchy as H

    monkeypatch.setattr(H, "SPLIT_MIN_WORK", 0)
    monkeypatch.setattr(H, "SPLIT_MIN_SHARE", 0.0)
    net = grid(36, seed=3)
    zones = zones_of(net, 300, seed=4)
    scen = random_edit(net, kind, 21, 25)
    base_od = od_times(net, zones, cutoff_min=12.0, engine="ch")
    res = scenario_pairs(net, scen, zones, 12.0, base_od, workers=2, max_table_sweeps=ALWAYS)
    assert res.stats["hierarchy"]["split"] is not None
    got = od_frame(SimpleNamespace(**splice_pairs(base_od, res.od, res.origins, res.dests)))
    assert_equal_tables(got, od_frame(od_times(scen, zones, cutoff_min=12.0, engine="dijkstra")))


def scen_pairs(net, scen):
    from centrality.ch.scenario import changed_pairs
    return changed_pairs(net.csr, scen.csr)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_speedup_affected_zones_of_the_scenario_tables_alone_are_those_of_both(seed):
    """No changed edge slower: a base path within the bound through a changed edge is as short or
    shorter in the scenario, so the scenario's tables find every affected zone of both."""
    from centrality.ch.scenario import _proper_pairs, changed_pairs, endpoint_tables, scenario_hierarchy

    net = grid(20, seed=seed)
    zones = zones_of(net, 120, seed=seed + 1)
    scen = random_edit(net, "speedup", seed + 5, 15)
    tails, heads = _proper_pairs(*changed_pairs(net.csr, scen.csr))
    base = hierarchy_for(net)
    h = scenario_hierarchy(base, scen.csr, tails, heads)
    both = endpoint_tables(base, h, net.csr, scen.csr, zones, tails, heads, 8.0)
    want = both.affected()
    both.to_tail[0] = both.from_head[0] = None
    got = both.affected()
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1]) and 0 < want[0].sum() < 120


@pytest.mark.parametrize("kind", ["slowdown", "closure"])
def test_slowdown_and_closure_through_the_engine_equal_full_recomputation(kind):
    """ScenarioEngine(method="ch") on the scenario API: pairs and times equal the full run, and the
    index (accessibility summed for the affected origins only) equals the "exact" method's."""
    from geoproc.scenario import Edit, Selection, Variant
    from geoproc.scenario.definition import resolve_variant
    from geoproc.scenario.incremental import ScenarioEngine

    net = grid(20)
    zones = zones_of(net, 120)
    settings = CentralitySettings(cutoff_min=8.0, limits_min=(4.0, 8.0), workers=2)
    ids = tuple(int(i) for i in net.links.index[300:312])
    edit = Edit("close", Selection(ids=ids)) if kind == "closure" else Edit("scale_time", Selection(ids=ids),
                                                                            factor=2.5)
    variant = resolve_variant(Variant("v", [edit]), net)
    out = ScenarioEngine(net, zones, settings, method="ch").evaluate(variant)
    full = od_frame(od_times(out.edits.network, zones, cutoff_min=8.0, engine="dijkstra"))
    assert_equal_tables(od_frame(out.incremental.od), full)
    exact = ScenarioEngine(net, zones, settings, method="exact").evaluate(variant)
    np.testing.assert_allclose(out.state.table["index"], exact.state.table["index"], rtol=1e-12)
    assert 0 < out.incremental.n_recomputed < len(zones.node)


def test_new_links_and_the_cost_rule_give_the_same_table():
    """A new link the contraction never joined (new topology) and one it joined, through the tables and
    through the re-query of every affected origin."""
    net = grid(14)
    zones = zones_of(net, 80)
    for scen in (new_link(net, 2 * 14 + 2, 11 * 14 + 11, 60.0), new_link(net, 5 * 14 + 5, 6 * 14 + 6, 20.0)):
        ref = od_frame(od_times(scen, zones, cutoff_min=6.0, engine="dijkstra"))
        res_t, got_t, _ = scenario_table(net, scen, zones, 6.0, ALWAYS)
        res_q, got_q, _ = scenario_table(net, scen, zones, 6.0, NEVER)
        assert res_t.stats["tables"] and not res_q.stats["tables"]
        assert res_q.stats["n_requeried"] == res_q.stats["n_affected"] > 0
        assert_equal_tables(got_t, ref)
        assert_equal_tables(got_q, ref)


def test_ties_at_the_cutoff_are_re_queried():
    """Integer times and zero access: many totals equal the cutoff exactly; both sides of the tie
    rule (base rows decided by Dijkstra, new totals at the cutoff) must give Dijkstra's pairs."""
    net = grid(12, integer=True)
    zones = zones_of(net, 60, access=False)
    base_od = od_times(net, zones, cutoff_min=6.0, engine="ch")
    assert len(base_od.extra["tie_origins"]) > 0
    links = net.links.copy()
    ids = links.index[40:52]
    links.loc[ids, ["time_fw_s", "time_bw_s"]] = 30.0           # exact halves: new ties appear
    scen = net.replace_links(links)
    res = scenario_pairs(net, scen, zones, 6.0, base_od, max_table_sweeps=ALWAYS)
    got = od_frame(SimpleNamespace(**splice_pairs(base_od, res.od, res.origins, res.dests)))
    ref = od_frame(od_times(scen, zones, cutoff_min=6.0, engine="dijkstra"))
    assert_equal_tables(got, ref)
    assert res.stats["n_requeried"] > 0


def test_a_base_table_without_tie_record_has_every_affected_origin_re_queried():
    net = grid(14)
    zones = zones_of(net, 80)
    scen = random_edit(net, "speedup", 5, 8)
    base_od = od_times(net, zones, cutoff_min=6.0, engine="dijkstra")       # no extra["tie_origins"]
    res = scenario_pairs(net, scen, zones, 6.0, base_od, max_table_sweeps=ALWAYS)
    assert res.stats["n_requeried"] == res.stats["n_affected"]
    got = od_frame(SimpleNamespace(**splice_pairs(base_od, res.od, res.origins, res.dests)))
    assert_equal_tables(got, od_frame(od_times(scen, zones, cutoff_min=6.0, engine="dijkstra")))


# ------------------------------------------------------------------------------ accessibility of changed rows only
def test_centrality_from_previous_equals_a_full_computation():
    net = grid(14)
    zones = zones_of(net, 80)
    settings = CentralitySettings(cutoff_min=6.0, limits_min=(3.0, 6.0))
    scen = random_edit(net, "mixed", 2, 10)
    base_od = od_times(net, zones, cutoff_min=6.0, engine="ch")
    res = scenario_pairs(net, scen, zones, 6.0, base_od, max_table_sweeps=ALWAYS)
    from dataclasses import replace

    od = replace(base_od, **splice_pairs(base_od, res.od, res.origins, res.dests))
    before = centrality_from_od(base_od, zones, settings)
    full = centrality_from_od(od, zones, settings)
    part = centrality_from_od(od, zones, settings, previous=before, changed=res.origins)
    pd.testing.assert_frame_equal(part.table, full.table, check_exact=True)
    assert not np.allclose(before.table["access_decay"], full.table["access_decay"])
    with pytest.raises(InputError, match="limits"):
        centrality_from_od(od, zones, settings.replace(limits_min=(6.0,)), previous=before, changed=res.origins)


def test_csr_with_times_equals_a_rebuilt_csr_or_declines():
    from centrality.network import build_csr, csr_with_times

    net = grid(14)
    scen = random_edit(net, "mixed", 4, 12)              # closures: other directions allowed
    u, v, fw, bw = scen._arrays
    assert csr_with_times(net.csr, fw, bw) is None
    scen = random_edit(net, "slowdown", 4, 12)
    u, v, fw, bw = scen._arrays
    got, ref = csr_with_times(net.csr, fw, bw), build_csr(scen.n_nodes, u, v, fw, bw)
    assert all(np.array_equal(a, b) for a, b in zip(got, ref))
    assert not np.array_equal(got.time_s, net.csr.time_s)


def test_changed_edges_of_the_same_links_equal_the_table_comparison():
    from geoproc.scenario.edits import changed_edges, changed_edges_same_links

    net = grid(14)
    scen = random_edit(net, "mixed", 7, 15)
    fast = changed_edges_same_links(net, scen)
    ref = changed_edges(net.links, scen.links)
    pd.testing.assert_frame_equal(fast.reset_index(drop=True), ref.reset_index(drop=True), check_dtype=False)
    assert len(fast) >= 15


@pytest.mark.parametrize("action", ["scale_time", "close", "set_speed"])
def test_apply_variant_leaves_the_baseline_links_untouched(action):
    """The variant's links table is a shallow (copy-on-write) copy: edits must not reach the base."""
    from geoproc.scenario import Edit, Selection, Variant
    from geoproc.scenario.definition import resolve_variant
    from geoproc.scenario.edits import apply_variant

    net = grid(14)
    before = net.links.copy()
    ids = tuple(int(i) for i in net.links.index[100:110])
    kw = {"scale_time": {"factor": 2.0}, "close": {}, "set_speed": {"speed_kmh": 30.0}}[action]
    res = apply_variant(net, resolve_variant(Variant("v", [Edit(action, Selection(ids=ids), **kw)]), net))
    pd.testing.assert_frame_equal(net.links, before)
    assert not res.network.links[["time_fw_s", "time_bw_s"]].equals(before[["time_fw_s", "time_bw_s"]])
    assert len(res.changed_edges) > 0


def test_a_variant_that_changes_nothing_keeps_the_base_table():
    net = grid(14)
    zones = zones_of(net, 80)
    scen = net.replace_links(net.links.copy())
    res, got, _ = scenario_table(net, scen, zones, 6.0, ALWAYS)
    assert res.stats["n_affected"] == 0 and res.od.n_pairs == 0
    assert_equal_tables(got, od_frame(od_times(net, zones, cutoff_min=6.0, engine="dijkstra")))


def test_the_baseline_prepares_the_scenario_workspace_and_results_do_not_change():
    """ScenarioEngine(method="ch").baseline builds the workspace (lower lists, input weights, the
    zone space's weight copies) so the first scenario does not; two evaluations in a row (restore
    + re-customise) give the full recomputation's table each time."""
    from geoproc.scenario import Edit, Selection, Variant
    from geoproc.scenario.definition import resolve_variant
    from geoproc.scenario.incremental import ScenarioEngine

    net = grid(18)
    zones = zones_of(net, 90)
    settings = CentralitySettings(cutoff_min=8.0, limits_min=(4.0, 8.0), workers=1)
    engine = ScenarioEngine(net, zones, settings, method="ch")
    engine.baseline
    h = hierarchy_for(net)
    ws = h.__dict__.get("_scenario_workspace")
    assert ws is not None and h.topology._lower is not None and h.in_up is not None
    space = TargetSpace.of(h, h.to_rank(np.asarray(zones.node)))
    assert space.key in ws.space_weights and ws._flags is not None
    ids = tuple(int(i) for i in net.links.index[200:215])
    for factor in (0.5, 1.8):     # a speed-up, then a slow-down on the same workspace
        variant = resolve_variant(Variant(f"v{factor}", [Edit("scale_time", Selection(ids=ids), factor=factor)]), net)
        out = engine.evaluate(variant)
        assert engine.baseline is engine.baseline and h.__dict__["_scenario_workspace"] is ws
        full = od_frame(od_times(out.edits.network, zones, cutoff_min=8.0, engine="dijkstra"))
        assert_equal_tables(od_frame(out.incremental.od), full)


# ------------------------------------------------------------------------------ a real OSM network
@pytest.mark.shared
@pytest.mark.parametrize("factor", [0.6, 1.8, NAN])
def test_scenario_pairs_on_the_oslo_east_extract_equal_full_recomputation(factor, monkeypatch):
    """The real east-Oslo network (one-way streets, ~5,500 nodes): a corridor of 40 connected
    links sped up, slowed down or closed, on two threads with the re-customisation split; the
    spliced table equals a full Dijkstra recomputation."""
    import centrality.ch.hierarchy as H
    from centrality.builders.osm import network_from_osm_pbf
    from tests.conftest import shared_path

    monkeypatch.setattr(H, "SPLIT_MIN_WORK", 0)
    monkeypatch.setattr(H, "SPLIT_MIN_SHARE", 0.0)
    net = network_from_osm_pbf(shared_path("oslo_east.osm.pbf"))
    zones = zones_of(net, 600, seed=7)
    links = net.links.copy()
    # a connected patch of 40 links: breadth-first from a node in the middle of the table
    u, v = links["u"].to_numpy(), links["v"].to_numpy()
    picked, frontier, seen = [], [int(u[len(u) // 2])], set()
    while frontier and len(picked) < 40:
        node = frontier.pop(0)
        seen.add(node)
        for k in np.flatnonzero((u == node) | (v == node)):
            if int(k) not in picked and len(picked) < 40:
                picked.append(int(k))
                other = int(v[k]) if u[k] == node else int(u[k])
                if other not in seen:
                    frontier.append(other)
    ids = links.index.to_numpy()[picked]
    assert len(ids) == 40
    for col in ("time_fw_s", "time_bw_s"):
        links.loc[ids, col] = links.loc[ids, col].to_numpy() * factor
    scen = net.replace_links(links)
    base_od = od_times(net, zones, cutoff_min=10.0, engine="ch")
    res = scenario_pairs(net, scen, zones, 10.0, base_od, workers=2)
    st = res.stats
    assert st["monotone"] == (factor < 1) and st["n_affected"] > 0
    assert st["hierarchy"]["split"] is not None
    got = od_frame(SimpleNamespace(**splice_pairs(base_od, res.od, res.origins, res.dests)))
    assert_equal_tables(got, od_frame(od_times(scen, zones, cutoff_min=10.0, engine="dijkstra")))
