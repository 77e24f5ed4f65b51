"""Jobs reachable within time limits and distance-decayed accessibility per zone.

``accessibility(od, zones)`` sums destination jobs over the OD pairs of each origin zone:
``jobs_<L>min`` = jobs in zones reached within L minutes (inclusive), ``access_decay`` =
sum of jobs x decay(minutes). The own zone counts: by default (``intra_zone_min="access"``) with
the OD table's own-pair time, i.e. twice the zone's access time (from the zone point to the
network node and back); a number instead gives every zone the same intra-zone time in minutes.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from numba import njit

from centrality.decay import DecaySpec, parse_decay
from centrality.errors import InputError

_EPS_S = 1e-9  # tolerance when comparing a limit with the OD cutoff (seconds)


def limit_column(limit_min: float) -> str:
    """Column name for a time limit.

    Parameters
    ----------
    limit_min : float
        Minutes.

    Returns
    -------
    str
        30 -> ``"jobs_30min"``, 22.5 -> ``"jobs_22.5min"``.
    """
    return f"jobs_{float(limit_min):g}min"


def _check_limits(limits_min: Sequence[float], cutoff_s: float) -> list[float]:
    limits = [float(x) for x in np.atleast_1d(np.asarray(limits_min, dtype=float))]
    bad = [x for x in limits if not (np.isfinite(x) and x > 0)]
    if bad:
        raise InputError(f"time limits must be positive minutes, got {bad}. E.g. limits_min=(30, 45, 60, 90).")
    too_far = [x for x in limits if x * 60.0 > cutoff_s + _EPS_S]
    if too_far:
        raise InputError(f"time limits {too_far} min exceed the OD cutoff of {cutoff_s / 60:g} min, so their "
                         "counts would be incomplete. Raise cutoff_min of od_times or lower the limits.")
    return limits


def _pairs_with_intra_zone(od, computed: np.ndarray, intra_zone_min) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OD arrays (origin, dest, seconds) with the own-zone pairs set as requested."""
    if isinstance(intra_zone_min, str):
        if intra_zone_min != "access":
            raise InputError(f"intra_zone_min must be 'access' or a number of minutes, got {intra_zone_min!r}.")
        return od.origin, od.dest, od.time_s
    try:
        intra_s = float(intra_zone_min) * 60.0
    except (TypeError, ValueError):
        raise InputError(f"intra_zone_min must be 'access' or a number of minutes, got {intra_zone_min!r}.") from None
    if not (np.isfinite(intra_s) and intra_s >= 0):
        raise InputError(f"intra_zone_min must be >= 0 minutes, got {intra_zone_min}.")
    other = od.origin != od.dest
    origin = np.concatenate([od.origin[other], computed.astype(od.origin.dtype)])
    dest = np.concatenate([od.dest[other], computed.astype(od.dest.dtype)])
    time_s = np.concatenate([od.time_s[other], np.full(len(computed), intra_s)])
    return origin, dest, time_s


@njit(cache=True, nogil=True, boundscheck=False)
def _origin_sums(origin, dest, time_s, weight, jobs, limits_s, n):
    """Per origin, the jobs of the pairs within each limit (seconds, inclusive) and the sum of
    jobs x ``weight``, in one pass (the sums in pair order, as ``numpy.bincount`` adds them)."""
    within = np.zeros((limits_s.shape[0], n))
    decayed = np.zeros(n)
    for i in range(origin.shape[0]):
        o = origin[i]
        j = jobs[dest[i]]
        t = time_s[i]
        for k in range(limits_s.shape[0]):
            if t <= limits_s[k]:
                within[k, o] += j
        decayed[o] += j * weight[i]
    return within, decayed


def accessibility(od, zones, limits_min: Sequence[float] = (30, 45, 60, 90), decay: DecaySpec = None,
                  intra_zone_min: str | float = "access") -> pd.DataFrame:
    """Jobs reachable per origin zone.

    Parameters
    ----------
    od : centrality.paths.ODTable
        Door-to-door travel times (seconds) of the zone pairs within the cutoff.
    zones : centrality.zones.Zones
        Object with ``.jobs`` (per zone, in the OD table's order) and optionally ``.ids`` (used as
        the index, named zone_id).
    limits_min : sequence of float, default (30, 45, 60, 90)
        Time limits, minutes (inclusive); each <= the OD cutoff.
    decay : Decay, str, dict or None
        Distance decay (:func:`centrality.decay.parse_decay`; None = exponential, w(45 min) = 0.1,
        0 beyond 90 min). Its cutoff must not exceed the OD cutoff.
    intra_zone_min : "access" or float, default "access"
        Travel time within a zone: the OD table's own-pair time (twice the access time) or a
        number of minutes.

    Returns
    -------
    pandas.DataFrame
        ``jobs_<L>min`` for each limit (jobs) and ``access_decay`` (decay-weighted jobs); zones
        not computed as origins get NaN.
    """
    if not hasattr(zones, "jobs"):
        raise InputError("zones object has no 'jobs' attribute. Load zones with a jobs column (jobs_col=...).")
    jobs = np.asarray(zones.jobs, dtype=np.float64)
    n = len(jobs)
    if od.n_zones and od.n_zones != n:
        raise InputError(f"the OD table was computed for {od.n_zones} zones but {n} zones were given. "
                         "Use the same zones for od_times and accessibility.")
    bad = ~(np.isfinite(jobs) & (jobs >= 0))
    if bad.any():
        raise InputError(f"zones have {bad.sum()} invalid job counts (NaN or negative) at positions "
                         f"{np.flatnonzero(bad)[:5].tolist()}. Fill missing jobs with 0.")
    decay = parse_decay(decay)
    limits = _check_limits(limits_min, od.cutoff_s)
    if decay.cutoff_min * 60.0 > od.cutoff_s + _EPS_S:
        raise InputError(f"the decay gives weight up to {decay.cutoff_min:g} min but the OD table stops at "
                         f"{od.cutoff_s / 60:g} min. Compute od_times with cutoff_min >= {decay.cutoff_min:g} "
                         "or use a decay with a shorter cutoff.")
    computed = np.asarray(od.origin_positions(), dtype=np.int64)
    origin, dest, time_s = _pairs_with_intra_zone(od, computed, intra_zone_min)
    time_s = np.asarray(time_s, dtype=np.float64)
    weight = np.asarray(decay(time_s / 60.0), dtype=np.float64)
    within, decayed = _origin_sums(np.asarray(origin), np.asarray(dest), time_s, weight, jobs,
                                   np.array([limit * 60.0 for limit in limits]), n)
    columns = {limit_column(limit): within[k] for k, limit in enumerate(limits)}
    columns["access_decay"] = decayed
    out = pd.DataFrame(columns)
    if len(computed) < n:
        mask = np.ones(n, dtype=bool)
        mask[computed] = False
        out.loc[mask, :] = np.nan
    ids = getattr(zones, "ids", None)
    if ids is not None:
        out.index = pd.Index(np.asarray(ids), name="zone_id")
    return out
