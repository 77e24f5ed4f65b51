"""SSB-style centrality index (0–1000), SSB classification 128 and population-weighted means.

Index: ``1000 * f(A) / f(A_ref)`` with ``f = ln(1 + A)`` by default ("log"; also "linear",
"sqrt" or any increasing callable). ``A_ref`` (:func:`reference_access`, the one place it is
chosen) is, in this order: a given number (``reference_value``, e.g. the base scenario's A_ref
so scenario indices stay comparable), the value of a named reference zone (``reference_zone``,
e.g. Oslo; zones above it get more than 1000 — we do not clip unless ``clip=True``, so the
ordering stays visible), or the largest value (then every index <= 1000).

Classes: SSB publishes integer index values, so a value is first rounded half up to an integer
(924.5 -> 925 -> class 1, 924.49 -> 924 -> class 2) and then classified:
1: >= 925, 2: 870–924, 3: 775–869, 4: 670–774, 5: 565–669, 6: < 565. Missing values get 0.
"""
from __future__ import annotations

import difflib
import warnings
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from centrality.errors import InputError, require_columns
from centrality.fileio import mark_means

CLASS_THRESHOLDS = (565, 670, 775, 870, 925)  # lower bounds of classes 5, 4, 3, 2, 1
CLASS_LABELS = {1: "most central", 2: "central", 3: "somewhat central", 4: "less central",
                5: "somewhat peripheral", 6: "least central"}

_TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "log": np.log1p,
    "linear": lambda a: a,
    "sqrt": np.sqrt,
}


def transform_function(transform: str | Callable) -> Callable[[np.ndarray], np.ndarray]:
    """The function f of the index for a transform name or callable.

    Parameters
    ----------
    transform : {"log", "linear", "sqrt"} or callable
        "log" is ln(1 + A); a callable is returned unchanged.

    Returns
    -------
    callable
        Vectorised f(A) of accessibility values (decay-weighted jobs).
    """
    if callable(transform):
        return transform
    if transform not in _TRANSFORMS:
        raise InputError(f"unknown index transform {transform!r}; use one of {', '.join(_TRANSFORMS)} "
                         "or pass a function of the accessibility value.")
    return _TRANSFORMS[transform]


def reference_access(values, ids=None, *, reference_zone=None, reference_value: float | None = None) -> float:
    """A_ref, the accessibility that gets index 1000.

    Parameters
    ----------
    values : array-like or pandas.Series
        Accessibility per zone (decay-weighted jobs); a Series supplies ``ids`` from its index.
    ids : array-like, optional
        Zone ids aligned with ``values`` (needed with ``reference_zone``).
    reference_zone : str or int, optional
        Id of the zone whose value is A_ref.
    reference_value : float, optional
        A_ref itself (takes precedence; e.g. a baseline run's A_ref).

    Returns
    -------
    float
        ``reference_value``, else the reference zone's value, else the largest value.

    Raises
    ------
    InputError
        When both references are given, the reference zone is unknown or not unique, or all
        values are missing.
    """
    if reference_value is not None:
        if reference_zone is not None:
            raise InputError("give either a reference zone or a reference value (A_ref), not both.")
        return float(reference_value)
    if ids is None and isinstance(values, pd.Series):
        ids = values.index.to_numpy()
    a = np.asarray(values, dtype=np.float64)
    if reference_zone is None:
        if len(a) == 0 or np.all(np.isnan(a)):
            raise InputError("all accessibility values are missing (NaN); nothing to index. Check the OD computation.")
        return float(np.nanmax(a))
    if ids is None:
        raise InputError(f"reference zone {reference_zone!r} given but no zone ids. Pass ids=... (or a pandas "
                         "Series indexed by zone id).")
    ids = np.asarray(ids)
    hits = np.flatnonzero(ids.astype(str) == str(reference_zone))
    if len(hits) == 0:
        close = difflib.get_close_matches(str(reference_zone), [str(i) for i in ids], n=3)
        raise InputError(f"reference zone {reference_zone!r} is not among the zone ids"
                         + (f" (did you mean {', '.join(close)}?)" if close else "")
                         + ". Give the id of an existing zone (not one excluded for being far from the network), "
                           "or no reference to use the largest value.")
    if len(hits) > 1:
        raise InputError(f"reference zone id {reference_zone!r} occurs {len(hits)} times. Zone ids must be unique.")
    return float(a[hits[0]])


def centrality_index(values, transform: str | Callable = "log", reference_zone=None, ids=None, *,
                     reference_value: float | None = None, clip: bool = False) -> np.ndarray:
    """Index 0–1000 from accessibility values.

    Parameters
    ----------
    values : array-like or pandas.Series
        Accessibility A per zone (e.g. ``access_decay``, decay-weighted jobs), >= 0; NaN stays NaN.
    transform : {"log", "linear", "sqrt"} or callable, default "log"
        f in ``1000 * f(A) / f(A_ref)`` (:func:`transform_function`).
    reference_zone, ids, reference_value
        Choose A_ref, see :func:`reference_access`.
    clip : bool, default False
        Clip the index to 0..1000 (zones above the reference zone would otherwise exceed 1000).

    Returns
    -------
    numpy.ndarray
        float64 index per zone; the reference zone gets exactly 1000.

    Raises
    ------
    InputError
        For negative values or when ``f(A_ref) <= 0`` (the reference reaches no jobs).
    """
    if ids is None and isinstance(values, pd.Series):
        ids = values.index.to_numpy()
    a = np.asarray(values, dtype=np.float64)
    if np.any(a < 0):
        raise InputError(f"accessibility values must be >= 0; {int((a < 0).sum())} are negative. Check the input column.")
    f = transform_function(transform)
    a_ref = reference_access(a, ids, reference_zone=reference_zone, reference_value=reference_value)
    f_ref = float(f(np.asarray(a_ref, dtype=np.float64)))
    if not (np.isfinite(f_ref) and f_ref > 0):
        raise InputError(f"the reference accessibility ({a_ref:g}) gives a non-positive scale ({f_ref:g}); "
                         "the reference zone reaches no jobs. Choose another reference or check the jobs column.")
    # divide first: f(A_ref) / f(A_ref) is exactly 1.0, so the reference zone gets exactly 1000
    index = 1000.0 * (np.asarray(f(a), dtype=np.float64) / f_ref)
    return np.clip(index, 0.0, 1000.0) if clip else index


def ssb_class(index) -> np.ndarray:
    """SSB centrality class (classification 128) of index values.

    Parameters
    ----------
    index : array-like
        Index values 0–1000; rounded half up to an integer first (SSB publishes integers).

    Returns
    -------
    numpy.ndarray
        int64 class per value: 1 (most central, >= 925) .. 6 (< 565); 0 for NaN.
    """
    x = np.asarray(index, dtype=np.float64)
    rounded = np.floor(x + 0.5)
    classes = 6 - np.digitize(rounded, CLASS_THRESHOLDS)
    return np.where(np.isnan(x), 0, classes).astype(np.int64)


def aggregate(df: pd.DataFrame, by: str | Sequence[str], value_cols: Sequence[str], weight: str = "population",
              sum_cols: Sequence[str] = ()) -> pd.DataFrame:
    """Weighted mean of ``value_cols`` per group of ``by``.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per zone.
    by : str or sequence of str
        Group column(s), e.g. "kommune"; no missing values.
    value_cols : sequence of str
        Columns averaged with the weights (their unit is kept).
    weight : str, default "population"
        Weight column (persons), >= 0 and not missing.
    sum_cols : sequence of str
        Columns summed per group (e.g. jobs).

    Returns
    -------
    pandas.DataFrame
        One row per group (index = group): the total weight, the sums of ``sum_cols``, the
        weighted means and ``zero_weight``. Rows whose value is NaN are left out of that
        column's mean; a group whose total weight is 0 gets NaN means and ``zero_weight =
        True`` (a warning is issued). Its mean columns are marked (:func:`centrality.fileio.mark_means`), so
        the writers keep e.g. the mean jobs reachable as float.

    Raises
    ------
    InputError
        For negative or missing weights or missing group values.
    """
    by_cols = [by] if isinstance(by, str) else list(by)
    value_cols, sum_cols = list(value_cols), list(sum_cols)
    require_columns(df.columns, by_cols + [weight] + value_cols + sum_cols, "table to aggregate")
    w = pd.to_numeric(df[weight], errors="coerce").astype(float)
    if w.isna().any() or (w < 0).any():
        raise InputError(f"weight column '{weight}' has {int(w.isna().sum())} missing and {int((w < 0).sum())} "
                         "negative values. Fill them (e.g. 0 population) before aggregating.")
    if df[by_cols].isna().any().any():
        raise InputError(f"group column(s) {by_cols} have missing values. Assign every row to a group.")
    work = pd.DataFrame({c: df[c] for c in by_cols})
    work["_w"] = w.to_numpy()
    for c in value_cols:
        v = pd.to_numeric(df[c], errors="coerce").astype(float).to_numpy()
        valid = ~np.isnan(v)
        work[f"_wv_{c}"] = np.where(valid, v * work["_w"].to_numpy(), 0.0)
        work[f"_wn_{c}"] = np.where(valid, work["_w"].to_numpy(), 0.0)
    for c in sum_cols:
        work[f"_s_{c}"] = pd.to_numeric(df[c], errors="coerce").astype(float)
    sums = work.groupby(by_cols, sort=True).sum()
    out = pd.DataFrame(index=sums.index)
    out[weight] = sums["_w"]
    for c in sum_cols:
        if c != weight:
            out[c] = sums[f"_s_{c}"]
    for c in value_cols:
        denom = sums[f"_wn_{c}"]
        out[c] = (sums[f"_wv_{c}"] / denom).where(denom > 0)
    out["zero_weight"] = sums["_w"] <= 0
    mark_means(out, value_cols)   # written as float, never as integer counts
    if out["zero_weight"].any():
        groups = out.index[out["zero_weight"]].tolist()
        warnings.warn(f"groups {groups[:5]} have zero total {weight}; their weighted means are NaN.", stacklevel=2)
    return out
