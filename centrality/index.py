"""SSB-style centrality index (0–1000), SSB classification 128 and population-weighted means.

Index: ``1000 * f(A) / f(A_ref)`` with ``f = ln(1 + A)`` by default ("log"; also "linear",
"sqrt" or any increasing callable). ``A_ref`` is the largest value (then every index <= 1000),
the value of a named reference zone (``reference=<zone id>``, e.g. Oslo; zones above it get more
than 1000 — we do not clip unless ``clip=True``, so the ordering stays visible), or a given
number (``reference_value=``, e.g. the base scenario's A_ref so scenario indices stay
comparable).

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

CLASS_THRESHOLDS = (565, 670, 775, 870, 925)  # lower bounds of classes 5, 4, 3, 2, 1
CLASS_LABELS = {1: "most central", 2: "central", 3: "somewhat central", 4: "less central",
                5: "somewhat peripheral", 6: "least central"}

_TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "log": np.log1p,
    "linear": lambda a: a,
    "sqrt": np.sqrt,
}


def _transform(transform) -> Callable[[np.ndarray], np.ndarray]:
    if callable(transform):
        return transform
    if transform not in _TRANSFORMS:
        raise InputError(f"unknown index transform {transform!r}; use one of {', '.join(_TRANSFORMS)} "
                         "or pass a function of the accessibility value.")
    return _TRANSFORMS[transform]


def _reference_value(values: np.ndarray, reference, ids) -> float:
    if reference is None:
        if np.all(np.isnan(values)):
            raise InputError("all accessibility values are missing (NaN); nothing to index. Check the OD computation.")
        return float(np.nanmax(values))
    if ids is None:
        raise InputError(f"reference zone {reference!r} given but no zone ids. Pass ids=... (or a pandas "
                         "Series indexed by zone id).")
    ids = np.asarray(ids)
    hits = np.flatnonzero(ids.astype(str) == str(reference))
    if len(hits) == 0:
        close = difflib.get_close_matches(str(reference), [str(i) for i in ids], n=3)
        raise InputError(f"reference zone {reference!r} is not among the zone ids"
                         + (f" (did you mean {', '.join(close)}?)" if close else "")
                         + ". Give the id of an existing zone, or no reference to use the largest value.")
    if len(hits) > 1:
        raise InputError(f"reference zone id {reference!r} occurs {len(hits)} times. Zone ids must be unique.")
    return float(values[hits[0]])


def centrality_index(values, transform="log", reference=None, ids=None, *, reference_value: float | None = None,
                     clip: bool = False) -> np.ndarray:
    """Index 0–1000 (float64) from accessibility values ``A`` (e.g. access_decay, jobs).

    ``1000 * f(A) / f(A_ref)``; see the module docstring for ``reference``/``reference_value``
    and clipping. NaN values stay NaN. Raises InputError for negative values or ``f(A_ref) <= 0``.
    """
    if ids is None and isinstance(values, pd.Series):
        ids = values.index.to_numpy()
    a = np.asarray(values, dtype=np.float64)
    if np.any(a < 0):
        raise InputError(f"accessibility values must be >= 0; {int((a < 0).sum())} are negative. Check the input column.")
    f = _transform(transform)
    a_ref = float(reference_value) if reference_value is not None else _reference_value(a, reference, ids)
    f_ref = float(f(np.asarray(a_ref, dtype=np.float64)))
    if not (np.isfinite(f_ref) and f_ref > 0):
        raise InputError(f"the reference accessibility ({a_ref:g}) gives a non-positive scale ({f_ref:g}); "
                         "the reference zone reaches no jobs. Choose another reference or check the jobs column.")
    # divide first: f(A_ref) / f(A_ref) is exactly 1.0, so the reference zone gets exactly 1000
    index = 1000.0 * (np.asarray(f(a), dtype=np.float64) / f_ref)
    return np.clip(index, 0.0, 1000.0) if clip else index


def ssb_class(index) -> np.ndarray:
    """SSB centrality class 1 (most central) .. 6; round half up to integer first; NaN -> 0."""
    x = np.asarray(index, dtype=np.float64)
    rounded = np.floor(x + 0.5)
    classes = 6 - np.digitize(rounded, CLASS_THRESHOLDS)
    return np.where(np.isnan(x), 0, classes).astype(np.int64)


def aggregate(df: pd.DataFrame, by: str | Sequence[str], value_cols: Sequence[str], weight: str = "population",
              sum_cols: Sequence[str] = ()) -> pd.DataFrame:
    """Weighted mean of ``value_cols`` per group of ``by`` (weights from column ``weight``).

    Returns one row per group (index = group) with the total weight, the sums of ``sum_cols``
    and the weighted means. Rows whose value is NaN are left out of that column's mean. A group
    whose total weight is 0 gets NaN means and ``zero_weight = True`` (a warning is issued);
    negative or missing weights raise InputError.
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
    if out["zero_weight"].any():
        groups = out.index[out["zero_weight"]].tolist()
        warnings.warn(f"groups {groups[:5]} have zero total {weight}; their weighted means are NaN.", stacklevel=2)
    return out
