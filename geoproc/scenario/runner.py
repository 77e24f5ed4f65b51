"""Evaluate scenario variants (or portfolio projects) against one baseline, in parallel.

:func:`prepare` computes the baseline once (and the baselines of the sensitivity runs that need
their own searches); :func:`evaluate_variants` sends every variant to an executor
(threads in this process or a Dask cluster: the executor layer of :mod:`centrality.parallel`,
:func:`~centrality.parallel.run_chunks`) with the network, zones and baselines scattered once
(:func:`~centrality.parallel.scatter`);
each task (:func:`evaluate_variant`, module level, deterministic) applies the edits, recomputes
the affected origins incrementally, computes the centrality on the baseline's scale, the
travel times between the named places and every sensitivity alternative, and returns only
small per-zone tables (:class:`EvaluatedVariant`) — the OD tables stay on the worker.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from centrality.errors import InputError
from centrality.parallel import run_chunks, scatter
from centrality.paths import node_times, od_times
from centrality.step import centrality_from_od
from geoproc.scenario.incremental import CentralityState, ScenarioEngine
from geoproc.scenario.sensitivity import SensitivitySpec, filter_od


@dataclass
class Baselines:
    """What every task needs besides the variant: the main baseline and one per sensitivity run.

    ``alternatives``: label -> (SensitivitySpec, CentralityState or None, index of the baseline
    per zone). The state is kept only for alternatives with a longer cutoff (their own searches);
    the others are derived from the main OD tables inside the task.
    """

    main: CentralityState
    alternatives: dict = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class EvaluatedVariant:
    """The small result of one variant (zone order everywhere)."""

    name: str
    table: pd.DataFrame                  # scenario jobs_<L>min, access_decay, index, centrality_class
    edited_links: gpd.GeoDataFrame       # link_id, action, times before/after (s), geometry
    n_edited: int
    n_added: int
    n_recomputed: int
    seconds_check: float
    seconds_od: float
    travel_times: pd.DataFrame           # from, to, baseline_min, scenario_min, delta_min
    alternatives: dict = field(default_factory=dict)   # label -> scenario index per zone (np.ndarray)
    seconds_alternatives: float = 0.0


def place_times(network, zones, places: dict, other=None) -> pd.DataFrame:
    """Door-to-door minutes (access + network + access, no cutoff) between named zones, ordered pairs.

    Parameters
    ----------
    network : centrality.network.RoadNetwork
        The baseline network.
    zones : centrality.zones.Zones
        Snapped zones.
    places : dict
        ``{name: zone id}``.
    other : centrality.network.RoadNetwork, optional
        A second (scenario) network whose times are added.

    Returns
    -------
    pandas.DataFrame
        from, to, baseline_min [, scenario_min, delta_min] (minutes).
    """
    ids = np.asarray(zones.ids).astype(str)
    pos = {}
    for name, zid in places.items():
        hit = np.flatnonzero(ids == str(zid))
        if len(hit) == 0:
            raise InputError(f"[places] {name} = {zid!r} is not a zone id (or the zone was excluded). "
                             "Use ids from the zones' id column.")
        pos[name] = int(hit[0])
    rows = []
    for net_i, net in enumerate([network] + ([other] if other is not None else [])):
        for a, pa in pos.items():
            t = node_times(net, zones.node[pa])
            for b, pb in pos.items():
                if a != b:
                    rows.append((net_i, a, b, (zones.access_s[pa] + t[zones.node[pb]] + zones.access_s[pb]) / 60.0))
    df = pd.DataFrame(rows, columns=["net", "from", "to", "minutes"])
    out = df[df["net"] == 0].drop(columns="net").rename(columns={"minutes": "baseline_min"}).reset_index(drop=True)
    if other is not None:
        out["scenario_min"] = df.loc[df["net"] == 1, "minutes"].to_numpy()
        out["delta_min"] = out["scenario_min"] - out["baseline_min"]
    return out


def edited_links_table(base_links, new_links, edit_result, resolved) -> gpd.GeoDataFrame:
    """The links a variant changed or added, with their times before and after.

    Parameters
    ----------
    base_links, new_links : geopandas.GeoDataFrame
        Links tables of the baseline and the scenario network.
    edit_result : geoproc.scenario.edits.EditResult
        The applied edits.
    resolved : geoproc.scenario.definition.ResolvedVariant
        The variant (for each link's action).

    Returns
    -------
    geopandas.GeoDataFrame
        link_id, action, time_fw_s_base/_scen, time_bw_s_base/_scen (seconds), geometry.
    """
    action = {}
    for r in resolved.edits:
        for lid in r.link_ids.tolist():
            action[lid] = r.edit.action
    ids = np.concatenate([edit_result.edited_link_ids, edit_result.added_link_ids]).astype(np.int64)
    for lid in edit_result.added_link_ids.tolist():
        action[lid] = "add_link"
    b = base_links.reindex(ids)
    n = new_links.loc[ids]
    return gpd.GeoDataFrame({"link_id": ids, "action": [action.get(i, "") for i in ids.tolist()],
                             "time_fw_s_base": b["time_fw_s"].to_numpy(), "time_fw_s_scen": n["time_fw_s"].to_numpy(),
                             "time_bw_s_base": b["time_bw_s"].to_numpy(), "time_bw_s_scen": n["time_bw_s"].to_numpy()},
                            geometry=n.geometry.to_numpy(), crs=new_links.crs)


def prepare(engine: ScenarioEngine, specs: list[SensitivitySpec]) -> Baselines:
    """The main baseline and the sensitivity baselines.

    Parameters
    ----------
    engine : ScenarioEngine
        The run's engine (network, zones, settings).
    specs : list of SensitivitySpec
        The alternative runs; only cutoffs longer than the run's need their own searches.

    Returns
    -------
    Baselines
    """
    t0 = time.perf_counter()
    main = engine.baseline
    alts = {}
    for spec in specs:
        s = spec.settings
        if s.cutoff_min <= engine.settings.cutoff_min:
            od = main.od if s.cutoff_min == engine.settings.cutoff_min else filter_od(main.od, s.cutoff_min)
            alts[spec.label] = (spec, None, centrality_from_od(od, engine.zones, s))
        else:
            od = od_times(engine.network, engine.zones, cutoff_min=s.cutoff_min, workers=s.workers,
                          executor=engine.executor, progress=engine.progress, should_stop=engine.should_stop)
            state = CentralityState(od, centrality_from_od(od, engine.zones, s))
            alts[spec.label] = (spec, state, state.centrality)
    return Baselines(main, alts, time.perf_counter() - t0)


def evaluate_variant(network, zones, settings, method: str, baselines: Baselines, resolved,
                     places: dict | None = None) -> EvaluatedVariant:
    """One variant against the baselines (a task: module level, no shared state).

    Parameters
    ----------
    network : centrality.network.RoadNetwork
        The baseline network.
    zones : centrality.zones.Zones
        Snapped zones.
    settings : CentralitySettings
        The run's settings.
    method : str
        Incremental method ("exact", "corridor").
    baselines : Baselines
        From :func:`prepare`.
    resolved : geoproc.scenario.definition.ResolvedVariant
        The validated variant.
    places : dict, optional
        Named zones for travel times.

    Returns
    -------
    EvaluatedVariant
    """
    engine = ScenarioEngine(network, zones, settings, method=method, baseline=baselines.main)
    out = engine.evaluate(resolved)
    t0 = time.perf_counter()
    alt_index = {}
    for label, (spec, state, base_c) in baselines.alternatives.items():
        s = spec.settings.replace(reference_zone=None, reference_value=base_c.reference_access)
        if state is None:
            od = out.state.od if spec.settings.cutoff_min == settings.cutoff_min else \
                filter_od(out.state.od, spec.settings.cutoff_min)
            scen = centrality_from_od(od, zones, s)
        else:
            alt_engine = ScenarioEngine(network, zones, spec.settings, method=method, baseline=state)
            scen = alt_engine.evaluate(resolved).state.centrality
        alt_index[label] = scen.table["index"].to_numpy(dtype=float)
    t_alt = time.perf_counter() - t0
    tt = place_times(network, zones, places, out.edits.network) if places else \
        pd.DataFrame(columns=["from", "to", "baseline_min", "scenario_min", "delta_min"])
    return EvaluatedVariant(resolved.name, out.state.table, edited_links_table(network.links, out.edits.network.links,
                                                                               out.edits, resolved),
                            int(len(out.edits.edited_link_ids)), int(len(out.edits.added_link_ids)),
                            out.incremental.n_recomputed, out.incremental.seconds_check, out.incremental.seconds_od,
                            tt, alt_index, t_alt)


def _task(args) -> EvaluatedVariant:
    return evaluate_variant(*args)


def evaluate_variants(engine: ScenarioEngine, resolved: list, baselines: Baselines, places: dict | None = None,
                      executor=None, workers: int = 1, progress=None, should_stop=None) -> list[EvaluatedVariant]:
    """Every variant through the executor layer; network, zones and baselines scattered once.

    Parameters
    ----------
    engine : ScenarioEngine
        The run's engine.
    resolved : list of ResolvedVariant
        The variants.
    baselines : Baselines
        From :func:`prepare`.
    places : dict, optional
        Named zones for travel times.
    executor : optional
        A :mod:`centrality.parallel` executor, e.g. :class:`~centrality.parallel.DaskExecutor` from
        :func:`~centrality.parallel.make_executor`; None = this process.
    workers : int, default 1
        Threads in this process when ``executor`` is None (1 = one variant after another).
    progress, should_stop : callable, optional
        Progress and cancellation (per variant).

    Returns
    -------
    list of EvaluatedVariant
        In ``resolved`` order (the same on every executor).
    """
    if executor is None and workers <= 1:
        return [evaluate_variant(engine.network, engine.zones, engine.settings, engine.method, baselines, rv, places)
                for rv in resolved]
    net_h, zones_h, base_h = (scatter(executor, x, key=("scenario", what, id(x)))
                              for what, x in (("network", engine.network), ("zones", engine.zones),
                                              ("baselines", baselines)))
    chunks = [(net_h, zones_h, engine.settings, engine.method, base_h, rv, places) for rv in resolved]
    return run_chunks(_task, chunks, workers=max(1, int(workers)), executor=executor, progress=progress,
                      should_stop=should_stop, max_in_flight=len(chunks))
