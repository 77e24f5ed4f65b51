"""The one step from an OD table and zones to accessibility, index and classes.

:func:`centrality_from_od` is the only implementation of "OD travel times → jobs reachable
within each limit and decay-weighted accessibility (:mod:`centrality.accessibility`) → A_ref
(:func:`centrality.index.reference_access`) → 0–1000 index → SSB class". It is used by
:func:`centrality.pipeline.run_centrality` (and so by the CLI, batch runs and the QGIS
plugin's centrality algorithm) and by the scenario engine
(:class:`geoproc.scenario.incremental.ScenarioEngine`, baseline and every variant, and so by the
plugin's road-scenario tool), so a baseline computed either way is the same.

Units: jobs (counts), decay-weighted jobs for ``access_decay``, index points 0–1000.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from centrality.accessibility import accessibility
from centrality.errors import InputError
from centrality.index import centrality_index, reference_access, ssb_class
from centrality.settings import CentralitySettings


@dataclass(frozen=True)
class ZoneCentrality:
    """Accessibility, index and class of every zone, in the zones' order.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per zone (RangeIndex = zone position): ``jobs_<L>min`` for every limit (jobs
        reached within L minutes, inclusive), ``access_decay`` (decay-weighted jobs), ``index``
        (0–1000, float) and ``centrality_class`` (1–6, int; 0 where the index is NaN).
    ids : numpy.ndarray
        Zone ids aligned with ``table``.
    reference_access : float
        A_ref, the accessibility with index 1000 (decay-weighted jobs).
    settings : CentralitySettings
        The settings used (limits, decay, transform, reference).
    """

    table: pd.DataFrame
    ids: np.ndarray
    reference_access: float
    settings: CentralitySettings

    @property
    def limit_columns(self) -> list[str]:
        """The ``jobs_<L>min`` column names, shortest limit first."""
        return [c for c in self.table.columns if c.startswith("jobs_") and c.endswith("min")]


def centrality_from_od(od, zones, settings: CentralitySettings | None = None, previous: ZoneCentrality | None = None,
                       changed: np.ndarray | None = None) -> ZoneCentrality:
    """Jobs reachable, decay-weighted accessibility, the 0–1000 index and SSB classes per zone.

    Parameters
    ----------
    od : centrality.paths.ODTable
        Door-to-door travel times (seconds) of the zone pairs within the cutoff, computed for
        ``zones`` with a cutoff >= ``settings.cutoff_min``.
    zones : centrality.zones.Zones
        The snapped zones the OD table was computed for (``.jobs``, ``.ids``).
    settings : CentralitySettings, optional
        ``limits_min`` (minutes), ``decay``, ``intra_zone_min``, ``transform`` and the reference
        (``reference_value`` = a fixed A_ref, e.g. a baseline's, or ``reference_zone`` = a zone
        id; default: the largest accessibility). Default: :class:`CentralitySettings()`.
    previous : ZoneCentrality, optional
        The result for another table of the same zones whose rows differ from ``od``'s only at
        the origins ``changed`` (e.g. a scenario's baseline). An origin's accessibility depends
        only on its own row, so the other origins' ``jobs_<L>min`` and ``access_decay`` are
        taken from it (the same numbers: the same rows summed in the same order) and only the
        changed rows are summed; index, A_ref and classes are computed as usual. Its limits,
        decay and intra-zone time must be those of ``settings``.
    changed : numpy.ndarray, optional
        bool per zone, with ``previous``: the origins whose rows may differ.

    Returns
    -------
    ZoneCentrality
        The per-zone table and the A_ref used.

    Raises
    ------
    centrality.errors.InputError
        When the OD table does not fit the zones or settings, the reference zone is unknown, or
        ``previous`` does not fit.
    """
    settings = settings or CentralitySettings()
    if previous is None:
        acc = accessibility(od, zones, limits_min=settings.limits_min, decay=settings.decay_function,
                            intra_zone_min=settings.intra_zone_min)
        table = pd.DataFrame(acc).reset_index(drop=True)
    else:
        table = _updated_accessibility(od, zones, settings, previous, changed)
    ids = np.asarray(getattr(zones, "ids", np.arange(len(table))))
    a = table["access_decay"].to_numpy(dtype=float)
    a_ref = reference_access(a, ids, reference_zone=settings.reference_zone,
                             reference_value=settings.reference_value)
    table["index"] = centrality_index(a, transform=settings.transform, reference_value=a_ref)
    table["centrality_class"] = ssb_class(table["index"].to_numpy())
    return ZoneCentrality(table=table, ids=ids, reference_access=float(a_ref), settings=settings)


def _updated_accessibility(od, zones, settings: CentralitySettings, previous: ZoneCentrality,
                           changed) -> pd.DataFrame:
    """``previous``'s accessibility columns with the ``changed`` origins' rows summed from ``od``."""
    s0 = previous.settings
    if (tuple(s0.limits_min), s0.decay_function.spec, s0.intra_zone_min) != (
            tuple(settings.limits_min), settings.decay_function.spec, settings.intra_zone_min):
        raise InputError("centrality_from_od: 'previous' was computed with other limits, decay or intra-zone time; "
                         "compute it with the same settings or leave 'previous' out.")
    n = len(previous.table)
    changed = np.zeros(n, dtype=bool) if changed is None else np.asarray(changed, dtype=bool)
    if changed.shape != (n,) or od.n_zones not in (0, n):
        raise InputError(f"centrality_from_od: 'previous' has {n} zones, 'changed' {changed.shape} and the OD table "
                         f"{od.n_zones}; give one flag per zone of the same zones.")
    columns = [c for c in previous.table.columns if c not in ("index", "centrality_class")]
    table = previous.table[columns].copy()
    computed = np.zeros(n, dtype=bool)
    computed[np.asarray(od.origin_positions(), dtype=np.int64)] = True
    summed = changed & computed
    rows = np.flatnonzero(summed)
    if len(rows):
        # the pairs of those origins: the table is sorted by origin, so their rows are segments
        # (consecutive origins merged into one slice each)
        ptr = od.row_ptr(n)
        first = np.r_[True, np.diff(rows) > 1]
        last = np.r_[first[1:], True]
        segs = [slice(a, b) for a, b in zip(ptr[rows[first]], ptr[rows[last] + 1])]
        sub = replace(od, origin=np.concatenate([od.origin[s] for s in segs]),
                      dest=np.concatenate([od.dest[s] for s in segs]),
                      time_s=np.concatenate([od.time_s[s] for s in segs]), origins=rows)
        acc = accessibility(sub, zones, limits_min=settings.limits_min, decay=settings.decay_function,
                            intra_zone_min=settings.intra_zone_min)
        table.loc[rows, columns] = acc[columns].to_numpy()[rows]
    gone = changed & ~computed
    if gone.any():
        table.loc[gone, columns] = np.nan
    return table


__all__ = ["ZoneCentrality", "centrality_from_od"]
