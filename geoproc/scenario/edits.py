"""Apply a resolved variant to a network: pure, returns a new RoadNetwork (the input is untouched).

Time edits only change directions that are open in the baseline (a NaN direction stays closed),
restricted further by the selection's ``direction``. New links connect existing nodes, so the node
set (and hence every zone's snapped node) is the same in baseline and scenario.
"""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from centrality.errors import InputError
from geoproc.scenario.definition import ResolvedVariant

KMH_TO_MS = 1.0 / 3.6


@dataclass
class EditResult:
    network: object                 # the edited RoadNetwork
    edited_link_ids: np.ndarray     # existing links whose times changed (int64, sorted)
    added_link_ids: np.ndarray      # ids of new links
    changed_edges: pd.DataFrame     # one row per changed directed edge: link_id, tail, head, time_base_s, time_new_s (NaN = closed/absent)


def _direction_mask(direction: str) -> tuple[bool, bool]:
    return direction in ("both", "forward"), direction in ("both", "backward")


def _apply_time(links: pd.DataFrame, ids: np.ndarray, direction: str, new_time) -> None:
    """Set fw/bw times of ``ids`` (open directions only). ``new_time(col) -> array`` in seconds."""
    fw, bw = _direction_mask(direction)
    for col, on in (("time_fw_s", fw), ("time_bw_s", bw)):
        if not on:
            continue
        cur = links.loc[ids, col].to_numpy(dtype=float)
        new = np.where(np.isnan(cur), np.nan, new_time(col, cur))
        links.loc[ids, col] = new


def apply_variant(network, variant: ResolvedVariant) -> EditResult:
    """Apply every edit of ``variant`` to a copy of ``network.links`` and rebuild the network.

    Parameters
    ----------
    network : centrality.network.RoadNetwork
        The baseline network (unchanged).
    variant : ResolvedVariant
        The validated variant.

    Returns
    -------
    EditResult
        The scenario network, edited and added link ids and the changed directed edges.
    """
    links = network.links.copy()
    for col in ("time_fw_s", "time_bw_s"):
        links[col] = links[col].astype(float)
    added = []
    for r in variant.edits:
        e, ids = r.edit, r.link_ids
        direction = e.select.direction
        if e.action == "set_speed":
            length = links.loc[ids, "length_m"].to_numpy(dtype=float)
            _apply_time(links, ids, direction, lambda col, cur, L=length, s=e.speed_kmh: L / (s * KMH_TO_MS))
        elif e.action == "set_time":
            _apply_time(links, ids, direction, lambda col, cur, t=e.time_s: np.full(len(cur), t))
        elif e.action == "scale_time":
            _apply_time(links, ids, direction, lambda col, cur, f=e.factor: cur * f)
        elif e.action == "ferry":
            _apply_time(links, ids, direction, lambda col, cur, t=e.ferry_time_s: np.full(len(cur), t))
        elif e.action == "close":
            fw, bw = _direction_mask(direction)
            if fw:
                links.loc[ids, "time_fw_s"] = np.nan
            if bw:
                links.loc[ids, "time_bw_s"] = np.nan
        elif e.action == "add_link":
            added.append(r)
    new_ids = np.empty(0, dtype=np.int64)
    if added:
        links, new_ids = _append_links(links, added, network.crs)
    new_net = network.replace_links(links)
    changed = changed_edges(network.links, links)
    edited = np.setdiff1d(changed["link_id"].to_numpy(dtype=np.int64), new_ids)
    return EditResult(new_net, np.unique(edited), new_ids, changed)


def _append_links(links, added, crs) -> tuple:
    start = int(links.index.max()) + 1 if len(links) else 0
    rows = []
    for k, r in enumerate(added):
        e, nl = r.edit, r.new_link
        t = nl["length_m"] / (e.speed_kmh * KMH_TO_MS) if e.speed_kmh else float(e.time_s)
        row = {"u": nl["u"], "v": nl["v"], "length_m": nl["length_m"], "time_fw_s": t,
               "time_bw_s": t if e.two_way else np.nan, "kind": "road", "geometry": nl["geometry"]}
        if "name" in links.columns or e.name:
            row["name"] = e.name
        if "ref" in links.columns or e.ref:
            row["ref"] = e.ref
        if "scenario_new" in links.columns:
            row["scenario_new"] = True
        rows.append(row)
    ids = np.arange(start, start + len(rows), dtype=np.int64)
    new = gpd.GeoDataFrame(rows, index=pd.Index(ids, name=links.index.name), geometry="geometry", crs=links.crs or crs)
    for col in ("u", "v"):
        new[col] = new[col].astype(links[col].dtype)
    out = pd.concat([links, new], axis=0)
    return gpd.GeoDataFrame(out, geometry=links.geometry.name, crs=links.crs or crs), ids


def changed_edges(base_links: pd.DataFrame, new_links: pd.DataFrame) -> pd.DataFrame:
    """Directed edges whose travel time (or existence) differs between two links tables.

    Parameters
    ----------
    base_links, new_links : pandas.DataFrame
        Links tables (u, v, time_fw_s, time_bw_s in seconds; index link_id).

    Returns
    -------
    pandas.DataFrame
        link_id, tail, head (node indices), time_base_s, time_new_s (seconds; NaN = not allowed/absent).
    """
    b = base_links[["u", "v", "time_fw_s", "time_bw_s"]].reindex(new_links.index)
    n = new_links[["u", "v", "time_fw_s", "time_bw_s"]]
    gone = base_links.index.difference(new_links.index)
    if len(gone):
        raise InputError(f"edited network lost links {list(gone[:10])}; close links instead of deleting them.")
    parts = []
    for col, tail, head in (("time_fw_s", "u", "v"), ("time_bw_s", "v", "u")):
        tb, tn = b[col].to_numpy(dtype=float), n[col].to_numpy(dtype=float)
        diff = ~((tb == tn) | (np.isnan(tb) & np.isnan(tn)))
        parts.append(pd.DataFrame({
            "link_id": new_links.index.to_numpy()[diff].astype(np.int64),
            "tail": n[tail].to_numpy()[diff].astype(np.int64),
            "head": n[head].to_numpy()[diff].astype(np.int64),
            "time_base_s": tb[diff], "time_new_s": tn[diff]}))
    return pd.concat(parts, ignore_index=True)
