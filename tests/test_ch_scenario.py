"""Scenarios on the customizable hierarchy (centrality.ch.scenario): closure, slow-down, speed-up
and new links re-customise and re-query, and the spliced table equals a full recomputation."""
from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.dirname(__file__), "..", ".cache", "numba"))

from centrality.ch.build import hierarchy_for  # noqa: E402
from centrality.ch.hierarchy import build_topology, customize, missing_arcs  # noqa: E402
from centrality.ch.scenario import (affected_origins, changed_pairs, scenario_hierarchy, scenario_rows,  # noqa: E402
                                    valid_bound)
from centrality.network import RoadNetwork  # noqa: E402
from centrality.paths import od_times  # noqa: E402

NAN = np.nan


def grid(n_side: int = 14, seed: int = 0) -> RoadNetwork:
    rng = np.random.default_rng(seed)
    idx = np.arange(n_side * n_side).reshape(n_side, n_side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    t = rng.uniform(45, 100, len(u))   # 500 m town streets at 18–40 km/h: a 0.3 speed-up stays plausible
    xy = np.column_stack([(idx % n_side).ravel() * 500.0, (idx // n_side).ravel() * 500.0])
    return RoadNetwork.from_arrays(xy, u, v, t, np.where(rng.random(len(u)) < 0.1, NAN, t * 1.05))


def zones_of(net: RoadNetwork, k: int = 80, seed: int = 1) -> SimpleNamespace:
    rng = np.random.default_rng(seed)
    return SimpleNamespace(ids=np.arange(k) + 1, node=rng.choice(net.n_nodes, k, replace=False),
                           access_s=rng.uniform(0, 30, k), jobs=rng.integers(0, 1000, k).astype(float),
                           population=rng.integers(1, 2000, k).astype(float))


def od_table(od) -> pd.DataFrame:
    df = pd.DataFrame({"origin": od.origin, "dest": od.dest, "time_s": od.time_s})
    return df.sort_values(["origin", "dest"]).reset_index(drop=True)


def splice(base_od, affected, new_od) -> pd.DataFrame:
    keep = ~affected[base_od.origin]
    df = pd.concat([pd.DataFrame({"origin": base_od.origin[keep], "dest": base_od.dest[keep],
                                  "time_s": base_od.time_s[keep]}),
                    pd.DataFrame({"origin": new_od.origin, "dest": new_od.dest, "time_s": new_od.time_s})
                    if new_od is not None else pd.DataFrame(columns=["origin", "dest", "time_s"])])
    return df.astype({"origin": np.int64, "dest": np.int64}).sort_values(["origin", "dest"]).reset_index(drop=True)


def edit(net: RoadNetwork, kind: str) -> RoadNetwork:
    links = net.links.copy()
    mid = links.index[len(links) // 2: len(links) // 2 + 12]
    if kind == "closure":
        links.loc[mid, ["time_fw_s", "time_bw_s"]] = NAN
    elif kind == "slowdown":
        links.loc[mid, "time_fw_s"] *= 4.0
        links.loc[mid, "time_bw_s"] *= 4.0
    elif kind == "speedup":
        links.loc[mid, "time_fw_s"] *= 0.25
        links.loc[mid, "time_bw_s"] *= 0.25
    elif kind == "new_link":   # a fast diagonal bypass across the grid: nodes the contraction never joined
        import geopandas as gpd
        import shapely

        a, b = 2 * 14 + 2, 11 * 14 + 11
        xy = net.node_xy
        new = gpd.GeoDataFrame({"u": [a], "v": [b], "length_m": [5000.0], "time_fw_s": [60.0], "time_bw_s": [60.0],
                                "kind": ["road"]}, geometry=[shapely.LineString([xy[a], xy[b]])], crs=links.crs,
                               index=pd.Index([links.index.max() + 1], name=links.index.name))
        links = pd.concat([links, new])
        links = gpd.GeoDataFrame(links, geometry="geometry", crs=net.crs)
    return net.replace_links(links)


@pytest.mark.parametrize("kind", ["closure", "slowdown", "speedup", "new_link"])
def test_scenario_rows_equal_full_recomputation(kind):
    net = grid()
    zones = zones_of(net)
    cutoff = 6.0
    base_od = od_times(net, zones, cutoff_min=cutoff, engine="ch")
    scen = edit(net, kind)
    affected, new, stats = scenario_rows(net, scen, zones, cutoff)
    assert 0 < affected.sum() < len(affected)
    full = od_times(scen, zones, cutoff_min=cutoff, engine="dijkstra")
    got, ref = splice(base_od, affected, new), od_table(full)
    assert np.array_equal(got[["origin", "dest"]].to_numpy(np.int64), ref[["origin", "dest"]].to_numpy(np.int64))
    assert np.abs(got["time_s"].to_numpy() - ref["time_s"].to_numpy()).max() <= 1e-6
    before = od_table(base_od)
    assert len(before) != len(ref) or np.abs(before["time_s"] - ref["time_s"]).max() > 1e-3   # something changed
    h = stats["hierarchy"]
    if kind == "new_link":
        assert h.get("new_topology") is True
    else:
        assert h["partial"] is True and h["changed_arcs"] > 0 and h["recomputed_arcs"] >= h["seed_arcs"] > 0


def test_new_link_on_an_existing_arc_is_partial():
    """A new link between nodes that the contraction already joined only re-customises."""
    net = grid(8)
    h = hierarchy_for(net)
    topo = h.topology
    a, b = np.triu_indices(net.n_nodes, 1)
    present = ~missing_arcs(topo, a, b)
    linked = set(zip(*np.sort(np.stack([net.links["u"], net.links["v"]]), axis=0)))
    cand = [(int(x), int(y)) for x, y in zip(a[present], b[present]) if (x, y) not in linked]
    assert cand, "the chordal supergraph has fill arcs"
    x, y = cand[0]
    links = net.links.copy()
    import geopandas as gpd
    import shapely

    new = gpd.GeoDataFrame({"u": [x], "v": [y], "length_m": [1.0], "time_fw_s": [1.0], "time_bw_s": [NAN],
                            "kind": ["road"]}, geometry=[shapely.LineString([net.node_xy[x], net.node_xy[y]])],
                           crs=links.crs, index=pd.Index([links.index.max() + 1], name=links.index.name))
    scen = net.replace_links(gpd.GeoDataFrame(pd.concat([links, new]), geometry="geometry", crs=net.crs))
    tails, heads = changed_pairs(net.csr, scen.csr)
    assert list(zip(tails, heads)) == [(x, y)]
    hs = scenario_hierarchy(h, scen.csr, tails, heads)
    assert hs.stats["partial"] and hs.topology is topo
    full = customize(topo, scen.csr)
    assert np.array_equal(hs.w_up, full.w_up) and np.array_equal(hs.w_down, full.w_down)


def test_affected_origins_superset_of_changed_rows():
    net = grid()
    zones = zones_of(net)
    scen = edit(net, "slowdown")
    base_h, tails_heads = hierarchy_for(net), changed_pairs(net.csr, scen.csr)
    scen_h = scenario_hierarchy(base_h, scen.csr, *tails_heads)
    affected = affected_origins(base_h, scen_h, zones, tails_heads[0], 6.0)
    a = od_table(od_times(net, zones, cutoff_min=6.0, engine="dijkstra"))
    b = od_table(od_times(scen, zones, cutoff_min=6.0, engine="dijkstra"))
    m = a.merge(b, on=["origin", "dest"], how="outer", suffixes=("_a", "_b"))
    changed = m[~np.isclose(m["time_s_a"], m["time_s_b"], rtol=0, atol=1e-9)]["origin"].unique()
    assert len(changed) > 0 and affected[changed].all()
    assert not affected.all()


def test_topology_of_a_time_change_is_reused_from_the_cache(tmp_path):
    net = grid(10)
    topo = build_topology(net.csr)
    scen = edit(net, "speedup")
    # a pure time change keeps the undirected topology: the same key, so the order is reused
    assert build_topology(scen.csr).key == topo.key


# ------------------------------------------------------------------------------ geoproc call site
@pytest.mark.parametrize("action", ["close", "scale_time_slow", "scale_time_fast", "add_link"])
def test_incremental_method_ch_equals_full_recomputation(action):
    """ScenarioEngine(method="ch") on the scenario API's own edits gives the full recomputation's
    pairs and times (within 1e-6 s) for a closure, a slow-down, a speed-up and a new link."""
    from centrality.settings import CentralitySettings
    from geoproc.scenario import Edit, Selection, Variant
    from geoproc.scenario.definition import resolve_variant
    from geoproc.scenario.incremental import ScenarioEngine, od_frame

    net = grid()
    zones = zones_of(net)
    settings = CentralitySettings(cutoff_min=6.0, limits_min=(3.0, 6.0), workers=1)
    ids = tuple(int(i) for i in net.links.index[len(net.links) // 2: len(net.links) // 2 + 12])
    if action == "close":
        edits = [Edit("close", Selection(ids=ids))]
    elif action == "scale_time_slow":
        edits = [Edit("scale_time", Selection(ids=ids), factor=3.0)]
    elif action == "scale_time_fast":
        edits = [Edit("scale_time", Selection(ids=ids), factor=0.3)]
    else:
        import shapely

        a, b = 2 * 14 + 2, 11 * 14 + 11
        edits = [Edit("add_link", line=shapely.LineString([net.node_xy[a], net.node_xy[b]]), time_s=240.0)]  # 95 km/h
    variant = resolve_variant(Variant("v", edits), net)
    engine = ScenarioEngine(net, zones, settings, method="ch")
    out = engine.evaluate(variant)
    assert out.incremental.method == "ch" and 0 < out.incremental.n_recomputed < len(zones.node)
    assert engine.probe_s > 0                       # the baseline's probe scenario ran first ...
    if action != "add_link":                        # ... and the hierarchy is exact up to the queries' bound
        assert out.incremental.details["hierarchy"]["valid_s"] == valid_bound(6.0) == 361.0
    full = od_frame(od_times(out.edits.network, zones, cutoff_min=6.0, engine="dijkstra"))
    got = od_frame(out.incremental.od)
    assert np.array_equal(got[["origin", "dest"]].to_numpy(), full[["origin", "dest"]].to_numpy())
    assert np.abs(got["time_s"].to_numpy() - full["time_s"].to_numpy()).max() <= 1e-6
    exact = ScenarioEngine(net, zones, settings, method="exact").evaluate(variant)
    np.testing.assert_allclose(out.state.table["index"], exact.state.table["index"], rtol=1e-12)


def test_auto_method_uses_ch_when_it_pays():
    from centrality.settings import CentralitySettings
    from geoproc.scenario.incremental import resolve_method

    net = grid()
    s = CentralitySettings(workers=1)
    assert resolve_method("auto", s, net, 50) == "auto"                 # small: corridor/exact as before
    assert resolve_method("auto", s, net, 5000) == "ch"
    assert resolve_method("auto", s.replace(engine="ch"), net, 50) == "ch"
    assert resolve_method("auto", s.replace(engine="dijkstra"), net, 5000) == "auto"
    assert resolve_method("exact", s, net, 5000) == "exact"


def test_probe_scenario_is_skipped_when_it_cannot_be_built(monkeypatch):
    """The ch baseline's probe never breaks a baseline: a probe the edit rules refuse is skipped."""
    import geoproc.scenario.incremental as inc
    from centrality.errors import InputError
    from centrality.settings import CentralitySettings
    from geoproc.scenario import Edit, Selection, Variant
    from geoproc.scenario.definition import resolve_variant

    net = grid()
    zones = zones_of(net)
    settings = CentralitySettings(cutoff_min=6.0, limits_min=(3.0, 6.0), workers=1)

    def refuse(*a, **k):
        raise InputError("implausible speed")

    monkeypatch.setattr(inc, "resolve_variant", refuse)
    engine = inc.ScenarioEngine(net, zones, settings, method="ch")
    assert engine.baseline is not None and engine.probe_s == 0.0
    ids = tuple(int(i) for i in net.links.index[:12])
    out = engine.evaluate(resolve_variant(Variant("v", [Edit("scale_time", Selection(ids=ids), factor=0.5)]), net))
    full = inc.od_frame(od_times(out.edits.network, zones, cutoff_min=6.0, engine="dijkstra"))
    got = inc.od_frame(out.incremental.od)
    assert np.array_equal(got[["origin", "dest"]].to_numpy(), full[["origin", "dest"]].to_numpy())
