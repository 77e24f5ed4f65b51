"""Apply a resolved variant to a network: pure, returns a new RoadNetwork (the input is untouched).

Time edits only change directions that are open in the baseline (a NaN direction stays closed),
restricted further by the selection's ``direction``. New links connect existing nodes, so the node
set (and hence every zone's snapped node) is the same in baseline and scenario.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from centrality.errors import InputError
from centrality.network import csr_with_times
from centrality.plausibility import DEFAULT as PLAUSIBLE, Plausibility, implied_speeds_kmh

if TYPE_CHECKING:
    from geoproc.scenario.definition import Edit, ResolvedVariant

KMH_TO_MS = 1.0 / 3.6
TIME_ACTIONS = ("set_speed", "set_time", "scale_time", "ferry")


@dataclass
class EditResult:
    network: object                 # the edited RoadNetwork
    edited_link_ids: np.ndarray     # existing links whose times changed (int64, sorted)
    added_link_ids: np.ndarray      # ids of new links
    changed_edges: pd.DataFrame     # one row per changed directed edge: link_id, tail, head, time_base_s, time_new_s (NaN = closed/absent)


def _direction_mask(direction: str) -> tuple[bool, bool]:
    return direction in ("both", "forward"), direction in ("both", "backward")


def edit_time_s(edit: "Edit", length_m: np.ndarray, current_s: np.ndarray) -> np.ndarray:
    """The travel times a time edit gives links (seconds; a closed direction, NaN, stays closed).

    Parameters
    ----------
    edit : geoproc.scenario.definition.Edit
        A ``set_speed``, ``set_time``, ``scale_time`` or ``ferry`` edit.
    length_m : numpy.ndarray
        The links' lengths, metres.
    current_s : numpy.ndarray
        Their current times in one direction, seconds (NaN = not allowed).

    Returns
    -------
    numpy.ndarray
        New times, seconds.
    """
    cur = np.asarray(current_s, dtype=float)
    if edit.action == "set_speed":
        new = np.asarray(length_m, dtype=float) / (edit.speed_kmh * KMH_TO_MS)
    elif edit.action == "set_time":
        new = np.full(len(cur), float(edit.time_s))
    elif edit.action == "scale_time":
        new = cur * float(edit.factor)
    elif edit.action == "ferry":
        new = np.full(len(cur), edit.ferry_time_s)
    else:
        raise InputError(f"edit action {edit.action!r} does not set travel times; use one of {', '.join(TIME_ACTIONS)}.")
    return np.where(np.isnan(cur), np.nan, new)


def edited_directions(links: pd.DataFrame, ids: np.ndarray, edit: "Edit") -> dict[str, np.ndarray]:
    """New times of the directions a time edit changes.

    Parameters
    ----------
    links : pandas.DataFrame
        The baseline links (length_m, time_fw_s, time_bw_s; index link_id).
    ids : numpy.ndarray
        The selected link ids.
    edit : geoproc.scenario.definition.Edit
        The time edit (its selection's ``direction`` decides which columns change).

    Returns
    -------
    dict
        ``{"time_fw_s": array, "time_bw_s": array}`` for the edited directions only (seconds).
    """
    fw, bw = _direction_mask(edit.select.direction)
    length = links.loc[ids, "length_m"].to_numpy(dtype=float)
    return {col: edit_time_s(edit, length, links.loc[ids, col].to_numpy(dtype=float))
            for col, on in (("time_fw_s", fw), ("time_bw_s", bw)) if on}


def check_edit_speeds(links: pd.DataFrame, ids: np.ndarray, edit: "Edit", where: str,
                      limits: Plausibility = PLAUSIBLE) -> None:
    """InputError when a time edit gives links speeds outside the plausible range (issue 13).

    The speeds implied by the new times (length / time) of links of at least
    ``limits.min_checked_length_m`` must lie in ``limits.car_speed_kmh`` (ferry links:
    ``limits.ferry_speed_kmh``), as :func:`centrality.plausibility.check_link_speeds` requires of
    networks; e.g. ``set_time`` of 10 s on a 1 km link (360 km/h) or ``scale_time`` by 0.1 on a
    motorway. The edit's ``allow_implausible_speeds = true`` accepts them.

    Parameters
    ----------
    links : pandas.DataFrame
        The baseline links (length_m, time_fw_s, time_bw_s, optional kind; index link_id).
    ids : numpy.ndarray
        The edit's selected link ids.
    edit : geoproc.scenario.definition.Edit
        A time edit (``set_speed``, ``set_time``, ``scale_time``, ``ferry``).
    where : str
        The variant and edit, for the message.
    limits : centrality.plausibility.Plausibility
        Thresholds.
    """
    if edit.allow_implausible_speeds or limits.allow_implausible_speeds or not len(ids):
        return
    length = links.loc[ids, "length_m"].to_numpy(dtype=float)
    kind = links.loc[ids, "kind"].astype(str).to_numpy() if "kind" in links.columns else np.full(len(ids), "road")
    speeds = np.column_stack([implied_speeds_kmh(length, t) for t in edited_directions(links, ids, edit).values()])
    ferry = kind == "ferry"
    checked = length >= limits.min_checked_length_m
    for mask, (lo, hi), what in ((~ferry, limits.car_speed_kmh, "car"), (ferry, limits.ferry_speed_kmh, "ferry")):
        with np.errstate(invalid="ignore"):
            out = np.isfinite(speeds) & ((speeds < lo) | (speeds > hi))
        bad = mask & checked & out.any(axis=1)
        if not bad.any():
            continue
        worst = np.where(out[bad][:, 0], speeds[bad][:, 0], speeds[bad][:, -1])
        order = np.argsort(-np.abs(np.log(np.maximum(worst, 1e-9))))[:5]
        shown = ", ".join(f"{int(ids[bad][i])}: {_kmh(worst[i])} km/h" for i in order)
        more = f", ... ({int(bad.sum())} in all)" if bad.sum() > 5 else ""
        param = {"set_time": "time_min/time_s (the new time of EACH selected link)",
                 "scale_time": "factor (it multiplies the current times: 0.8 = 20 % faster)",
                 "ferry": "crossing_min and departures_per_hour", "set_speed": "speed_kmh"}[edit.action]
        raise InputError(f"{where}: the new travel times imply {what} speeds outside the plausible {lo:g}–{hi:g} km/h "
                         f"on {int(bad.sum())} of {int((mask & checked).sum())} selected {what} links of at least "
                         f"{limits.min_checked_length_m:g} m (link id: speed; {shown}{more}). Check {param}. If the "
                         "speeds are real, add allow_implausible_speeds = true to this edit.")


def _kmh(x: float) -> str:
    return f"{x:,.0f}".replace(",", " ") if abs(x) >= 100 else f"{x:.3g}"


def _apply_time(links: pd.DataFrame, ids: np.ndarray, edit: "Edit") -> None:
    """Set the times of ``ids`` in the directions ``edit`` changes (open directions only)."""
    for col, new in edited_directions(links, ids, edit).items():
        links.loc[ids, col] = new


def apply_variant(network, variant: "ResolvedVariant") -> EditResult:
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
    # shallow copy of the 1.9 M-row table; the only columns edited in place (the times) get fresh
    # arrays, so the base is untouched with and without pandas' copy-on-write (pandas 2.x in QGIS)
    links = network.links.copy(deep=False)
    for col in ("time_fw_s", "time_bw_s"):
        links[col] = links[col].to_numpy(dtype=float, copy=True)
    added = []
    for r in variant.edits:
        e, ids = r.edit, r.link_ids
        if e.action in TIME_ACTIONS:
            _apply_time(links, ids, e)
        elif e.action == "close":
            fw, bw = _direction_mask(e.select.direction)
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
    if not added:       # same links and rows: reuse the base's edge order when the same directions are open
        new_net._csr = csr_with_times(network.csr, *new_net._arrays[2:])
    changed = (changed_edges_same_links(network, new_net) if not added else
               changed_edges(network.links, links))
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


def changed_edges_same_links(base, new) -> pd.DataFrame:
    """:func:`changed_edges` of two networks with the same links in the same rows (times edited).

    Parameters
    ----------
    base, new : centrality.network.RoadNetwork
        Networks whose links tables have the same index and u, v row for row (e.g. a variant
        without new links and its baseline).

    Returns
    -------
    pandas.DataFrame
        As :func:`changed_edges`, from the validated arrays (no reindexing of the tables).
    """
    ids = base.links.index.to_numpy()
    if not np.array_equal(ids, new.links.index.to_numpy()):
        return changed_edges(base.links, new.links)
    u, v, fw_b, bw_b = base._arrays
    u_n, v_n, fw_n, bw_n = new._arrays
    if not (np.array_equal(u, u_n) and np.array_equal(v, v_n)):
        return changed_edges(base.links, new.links)
    parts = []
    for tb, tn, tail, head in ((fw_b, fw_n, u_n, v_n), (bw_b, bw_n, v_n, u_n)):
        diff = np.flatnonzero(~((tb == tn) | (np.isnan(tb) & np.isnan(tn))))
        parts.append(pd.DataFrame({"link_id": ids[diff].astype(np.int64), "tail": tail[diff].astype(np.int64),
                                   "head": head[diff].astype(np.int64), "time_base_s": tb[diff],
                                   "time_new_s": tn[diff]}))
    return pd.concat(parts, ignore_index=True)


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
