"""Map classes shared by the matplotlib maps (:mod:`geoproc.plots.maps`) and the QGIS plugin's
styles (``qgis_plugin.core.styling``): one place for how values become legend classes.

- :func:`ssb_bins`: the SSB centrality classes 6 (least central) .. 1 (most central), bounds from
  :data:`centrality.index.CLASS_THRESHOLDS` (minus 0.5: SSB rounds the index to an integer first).
- :func:`sequential_bins`: ``k`` classes light -> dark from a break function (quantiles, natural
  breaks, …) the caller supplies (mapclassify for matplotlib, QGIS's own in the plugin).
- :func:`diverging_bins`: classes centred on 0 that exist only where values occur: negative
  values get classes on the "below" side, positive on the "above" side, the i-th class out from 0
  the same shade on both sides, and a neutral "0 (no change)" class only when some values are 0.

Bins carry ``side`` (-1 below zero, 0 neutral, +1 above / sequential) and ``shade`` (0..1, how
dark), so each renderer maps them onto its own palette. Numbers are formatted with
:func:`fmt_number` (thin-space thousands separator, real minus sign); class bounds with
:func:`fmt_bound` (never a non-zero bound shown as 0).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from centrality.index import CLASS_LABELS, CLASS_THRESHOLDS

Breaks = Callable[[np.ndarray, int], Sequence[float]]  # (values, k) -> ascending upper bounds


@dataclass(frozen=True)
class ClassBin:
    """One legend class: values in (lower, upper] (the first class includes its lower bound)."""

    lower: float
    upper: float
    label: str
    side: int      # -1 below zero, 0 neutral, +1 above zero (or sequential)
    shade: float   # 0 (lightest) .. 1 (darkest)


def decimals_for(scale: float) -> int:
    """Decimals that show 2–3 significant digits of numbers up to ``scale`` (0 from 100 on).

    Parameters
    ----------
    scale : float
        The largest absolute value shown (any unit).

    Returns
    -------
    int
        Number of decimals, 0–4.
    """
    if not math.isfinite(scale) or scale <= 0:
        return 0
    return int(min(4, max(0, 2 - math.floor(math.log10(scale)))))


def fmt_number(x: float, decimals: int, signed: bool = False) -> str:
    """``x`` with ``decimals``, thin-space thousands separator and a real minus sign.

    Parameters
    ----------
    x : float
        The number (any unit).
    decimals : int
        Decimals shown.
    signed : bool, default False
        Prefix positive numbers with ``+`` (differences).

    Returns
    -------
    str
        E.g. ``"1 234"``, ``"−0.55"``, ``"+7.2"``.
    """
    text = f"{x:+,.{decimals}f}" if signed and x != 0 else f"{x:,.{decimals}f}"
    return text.replace(",", "\u2009").replace("-", "\u2212")


def fmt_bound(x: float, decimals: int, signed: bool = False) -> str:
    """:func:`fmt_number` for a class bound: with two significant digits where ``decimals`` would
    round a non-zero ``x`` to zero (a legend never reads "0.0 – 0.0" for a class of small values).

    Parameters
    ----------
    x : float
        The bound (any unit).
    decimals : int
        Decimals of the legend (:func:`decimals_for`).
    signed : bool, default False
        Prefix positive numbers with ``+``.

    Returns
    -------
    str
        E.g. ``"+0.004"`` where ``decimals = 1`` would give ``"+0.0"``.
    """
    if x != 0 and math.isfinite(x) and round(abs(x), decimals) == 0:
        decimals = min(6, 1 - math.floor(math.log10(abs(x))))
    return fmt_number(x, decimals, signed)


def quantile_breaks(values: np.ndarray, k: int) -> list[float]:
    """Upper bounds of ``k`` quantile classes (numpy, linear interpolation; last = max).

    Parameters
    ----------
    values : numpy.ndarray
        Finite values.
    k : int
        Number of classes.

    Returns
    -------
    list of float
        ``k`` ascending upper bounds in the unit of ``values``.
    """
    return [float(q) for q in np.quantile(values, np.linspace(0, 1, k + 1)[1:])]


def _uppers(values: np.ndarray, k: int, breaks: Breaks) -> list[float]:
    uniq = np.unique(values)
    if uniq.size <= k:
        return [float(u) for u in uniq]
    ups = sorted({float(u) for u in breaks(values, k)})
    ups = [u for u in ups if u < float(values.max())] + [float(values.max())]
    return ups


def ssb_bins(values: np.ndarray) -> list[ClassBin]:
    """The six SSB centrality classes, ascending (class 6 first), labelled "6 least central: 0–564".

    Parameters
    ----------
    values : numpy.ndarray
        Index values (0–1000); they only widen the outer bounds when below 0 or above 1000.

    Returns
    -------
    list of ClassBin
        Six bins with bounds at the class thresholds minus 0.5 (index points).
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    lo = min(0.0, float(v.min())) if v.size else 0.0
    hi = max(1000.0, float(v.max())) if v.size else 1000.0
    bounds = [lo, *(t - 0.5 for t in CLASS_THRESHOLDS), hi]
    out = []
    for i in range(6):
        cls = 6 - i
        a = 0 if i == 0 else CLASS_THRESHOLDS[i - 1]
        b = CLASS_THRESHOLDS[i] - 1 if i < 5 else 1000
        out.append(ClassBin(bounds[i], bounds[i + 1], f"{cls} {CLASS_LABELS[cls]}: {a}–{b}", 1, i / 5))
    return out


def sequential_bins(values: np.ndarray, k: int = 5, breaks: Breaks = quantile_breaks) -> list[ClassBin]:
    """``k`` classes (fewer when there are fewer distinct values) from light to dark.

    Parameters
    ----------
    values : numpy.ndarray
        Values to classify (non-finite ones are ignored).
    k : int, default 5
        Number of classes.
    breaks : callable, default quantile_breaks
        ``breaks(values, k)`` -> ascending upper bounds (quantiles, natural breaks, …).

    Returns
    -------
    list of ClassBin
        Ascending bins with ``side`` +1 and ``shade`` from 0 to 1.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    ups = _uppers(v, k, breaks)
    lows = [float(v.min())] + ups[:-1]
    d = decimals_for(float(np.max(np.abs(v))) if v.size else 0.0)
    n = len(ups)
    return [ClassBin(lo, hi, f"{fmt_bound(lo, d)} – {fmt_bound(hi, d)}", 1, i / max(n - 1, 1))
            for i, (lo, hi) in enumerate(zip(lows, ups))]


def diverging_bins(values: np.ndarray, k: int = 6, breaks: Breaks = quantile_breaks,
                   shade_by: str = "rank") -> list[ClassBin]:
    """Classes centred on 0, only where values occur (see the module docstring); ascending.

    Parameters
    ----------
    values : numpy.ndarray
        Differences or other signed values (non-finite ones are ignored).
    k : int, default 6
        Total number of classes: split between the two sides when both occur, all on one side
        (plus the neutral class) when only one does.
    breaks : callable, default quantile_breaks
        ``breaks(values, k)`` -> ascending upper bounds, applied to each side's magnitudes.
    shade_by : {"rank", "magnitude"}, default "rank"
        "rank": the i-th class out from zero has the same ``shade`` on both sides. "magnitude":
        the shades of a side are scaled by sqrt(its largest |value| / the largest |value| of both
        sides), at least 0.35, so a side of small values (e.g. many kommuner losing a few
        persons while a few gain hundreds) is drawn light instead of as dark as the other.

    Returns
    -------
    list of ClassBin
        Negative classes (``side`` -1), a neutral class when some |v| <= 1e-9 · max|v|
        (``side`` 0), positive classes (``side`` +1).
    """
    if shade_by not in ("rank", "magnitude"):
        raise ValueError(f"shade_by must be 'rank' or 'magnitude', got {shade_by!r}")
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    m = float(np.max(np.abs(v))) if v.size else 0.0
    eps = 1e-9 * max(m, 1.0)
    neg, pos = v[v < -eps], v[v > eps]
    has_zero = bool((np.abs(v) <= eps).any())
    sides = (neg.size > 0) + (pos.size > 0)
    k_side = max(1, (k // 2) if sides == 2 else k - (1 if has_zero else 0))
    pos_ups = _uppers(pos, k_side, breaks) if pos.size else []
    neg_ups = _uppers(-neg, k_side, breaks) if neg.size else []  # magnitudes, ascending
    k_max = max(len(pos_ups), len(neg_ups), 1)
    scale = {-1: 1.0, 1: 1.0}
    if shade_by == "magnitude" and m > 0:
        for side, ups in ((-1, neg_ups), (1, pos_ups)):
            if ups:
                scale[side] = max(0.35, math.sqrt(ups[-1] / m))
    d = decimals_for(m)
    inner = eps if has_zero else 0.0
    out = []
    for j in range(len(neg_ups) - 1, -1, -1):  # most negative first
        # magnitude classes are (prev, up]: the value −prev belongs to the class nearer 0, so this
        # class stops just below it (classify gives a bound to the first class containing it)
        lo, hi = -neg_ups[j], (float(np.nextafter(-neg_ups[j - 1], -np.inf)) if j > 0 else -inner)
        label = f"{fmt_bound(lo, d, True)} – {fmt_bound(hi, d, True) if j else '0'}"
        out.append(ClassBin(lo, hi, label, -1, scale[-1] * (j + 1) / k_max))
    if has_zero:
        out.append(ClassBin(-eps, eps, "0 (no change)", 0, 0.0))
    for j, up in enumerate(pos_ups):
        lo = pos_ups[j - 1] if j > 0 else inner
        out.append(ClassBin(lo, up, f"{fmt_bound(lo, d, True) if j else '0'} – {fmt_bound(up, d, True)}", 1,
                            scale[1] * (j + 1) / k_max))
    return out


def classify(values: np.ndarray, bins: Sequence[ClassBin]) -> np.ndarray:
    """Class position of each value, the first matching bin winning (QGIS's rule).

    Parameters
    ----------
    values : numpy.ndarray
        Values to classify.
    bins : sequence of ClassBin
        Ascending bins.

    Returns
    -------
    numpy.ndarray
        int64 bin positions, -1 for missing values and values outside every bin.
    """
    v = np.asarray(values, dtype=float)
    out = np.full(v.shape, -1, dtype=np.int64)
    for i in range(len(bins) - 1, -1, -1):  # reverse, so the first matching bin is written last
        b = bins[i]
        inside = np.isfinite(v) & (v >= b.lower) & (v <= b.upper)
        out[inside] = i
    return out


def nice_length(x: float) -> float:
    """The 1, 2 or 5 × 10^k at or below ``x`` (scale bars).

    Parameters
    ----------
    x : float
        Upper limit (any unit, e.g. metres or km).

    Returns
    -------
    float
        1, 2 or 5 times a power of ten (1.0 for ``x <= 0``).
    """
    if x <= 0:
        return 1.0
    e = math.floor(math.log10(x))
    b = x / 10 ** e
    return (5 if b >= 5 else 2 if b >= 2 else 1) * 10 ** e


def year_span(years) -> str:
    """"2020" for one year, "2020–2022" for several (never "2020–2020").

    Parameters
    ----------
    years : iterable of int
        Calendar years.

    Returns
    -------
    str
        The span for titles ("" for no years).
    """
    ys = sorted({int(y) for y in years})
    if not ys:
        return ""
    return str(ys[0]) if ys[0] == ys[-1] else f"{ys[0]}–{ys[-1]}"
