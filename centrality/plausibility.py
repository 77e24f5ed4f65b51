"""Plausibility limits: what an input value must lie within to be believed.

Format errors (a text in a number field, a missing column) are always errors. *Plausibility*
errors are about values that are well-formed but cannot be right for Norwegian car travel, such
as a speed field in m/s read as km/h, or travel times in minutes read as seconds. Such inputs
are refused with a message naming the links and the likely cause; when the values are real
(a test network, a high-speed track), the checks can be switched off explicitly
(``allow_implausible_speeds=True``; CLI ``--allow-implausible-speeds``; batch TOML
``allow_implausible_speeds = true`` in a ``[networks.*]`` table) and the result then says so
(``network.report['speed_check']``, a warning in the log).

Thresholds (all documented here, nowhere else):

========================  ===========  =================================================================
limit                     default      why
========================  ===========  =================================================================
car speed                 1–150 km/h   Norway's highest limit is 110 km/h; 150 leaves room for
                                       foreign motorways in border extracts. Below 1 km/h is a
                                       unit error or a closed road (give it no direction instead).
ferry speed               1–80 km/h    including boarding/waiting time; fast craft do ~65 km/h.
checked link length       ≥ 200 m      speeds *implied* by travel time fields are checked on links
                                       of at least this length: times rounded to 0.1 min on very
                                       short links imply absurd speeds without being wrong.
median car speed          20–130 km/h  length-weighted median of the car links of a network with at
                                       least 20 of them: a network whose typical speed is 14–28
                                       "km/h" is given in m/s.
Norway extent (warning)   4–31.5 °E,   data in a Norwegian CRS (ETRS89/UTM 32–36, EPSG:258xx,
                          57.5–71.5 °N 326xx, 597x) that lies wholly outside this box gets a warning.
centrality index          0–1000       tables must be on the SSB 0–1000 scale, not 0–1.
========================  ===========  =================================================================

Other modules read :data:`DEFAULT` (or a :class:`Plausibility` passed in); the core settings
(:mod:`centrality.settings`) refer to this dataclass rather than repeating its numbers.
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from centrality.errors import InputError

log = logging.getLogger(__name__)

ALLOW_FLAG = "--allow-implausible-speeds"
ALLOW_HINT = (f"If these speeds are real, pass {ALLOW_FLAG} (Python/TOML: allow_implausible_speeds = true); "
              "the result then records that the check was off.")


@dataclass(frozen=True)
class Plausibility:
    """Thresholds of the plausibility checks (see the module docstring for the reasons).

    Speeds in km/h, lengths in metres, bounds in degrees (lon_min, lat_min, lon_max, lat_max).
    """

    car_speed_kmh: tuple[float, float] = (1.0, 150.0)
    ferry_speed_kmh: tuple[float, float] = (1.0, 80.0)
    min_checked_length_m: float = 200.0
    median_car_speed_kmh: tuple[float, float] = (20.0, 130.0)
    median_min_links: int = 20
    norway_bounds_deg: tuple[float, float, float, float] = (4.0, 57.5, 31.5, 71.5)
    index_range: tuple[float, float] = (0.0, 1000.0)
    allow_implausible_speeds: bool = False

    def __post_init__(self) -> None:
        for name in ("car_speed_kmh", "ferry_speed_kmh", "median_car_speed_kmh", "index_range"):
            lo, hi = getattr(self, name)
            if not (np.isfinite(lo) and np.isfinite(hi) and 0 <= lo < hi):
                raise InputError(f"plausibility {name} must be two numbers 0 <= low < high, got {(lo, hi)}.")
        if not self.min_checked_length_m >= 0:
            raise InputError(f"plausibility min_checked_length_m must be >= 0 m, got {self.min_checked_length_m}.")

    @classmethod
    def from_value(cls, value: "Plausibility | Mapping | None" = None, **overrides) -> "Plausibility":
        """A Plausibility from None (the defaults), an instance or a table of field names.

        Parameters
        ----------
        value : Plausibility, mapping or None
            A table such as ``{"car_speed_kmh": [1, 200]}`` (TOML); unknown keys are an InputError.
        **overrides
            Field values that replace those of ``value``; None values are ignored.

        Returns
        -------
        Plausibility
        """
        if value is None:
            base = DEFAULT
        elif isinstance(value, Plausibility):
            base = value
        elif isinstance(value, Mapping):
            names = {f.name for f in dataclasses.fields(cls)}
            unknown = sorted(set(value) - names)
            if unknown:
                raise InputError(f"plausibility has unknown key(s) {', '.join(unknown)}; allowed: "
                                 f"{', '.join(sorted(names))}.")
            base = cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in value.items()})
        else:
            raise InputError(f"plausibility must be a table of limits, got {type(value).__name__}.")
        changes = {k: v for k, v in overrides.items() if v is not None}
        return dataclasses.replace(base, **changes) if changes else base


DEFAULT = Plausibility()


def _fmt(x: float) -> str:
    return f"{x:,.0f}".replace(",", " ") if abs(x) >= 100 else f"{x:.3g}"


def _examples(ids, speeds, limit: int = 5) -> str:
    order = np.argsort(-np.abs(np.log(np.maximum(speeds, 1e-9))))[:limit]  # most extreme first
    text = ", ".join(f"{ids[i]}: {_fmt(speeds[i])} km/h" for i in order)
    return text + (f", ... ({len(ids)} in all)" if len(ids) > limit else "")


def implied_speeds_kmh(length_m: np.ndarray, time_s: np.ndarray) -> np.ndarray:
    """Speed implied by a length and a travel time.

    Parameters
    ----------
    length_m : array_like
        Lengths, metres.
    time_s : array_like
        Travel times, seconds (NaN = direction not allowed).

    Returns
    -------
    numpy.ndarray
        Speeds in km/h; NaN where the time is missing, zero or infinite.
    """
    length_m = np.asarray(length_m, dtype=np.float64)
    time_s = np.asarray(time_s, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((time_s > 0) & np.isfinite(time_s), length_m / time_s * 3.6, np.nan)


def check_speed_values(speed_kmh, ids, *, ferry=None, limits: Plausibility = DEFAULT, source: str,
                       what: str = "road layer", fix: str | None = None, allow_hint: str = ALLOW_HINT,
                       items: str = "features") -> None:
    """InputError when given speeds (e.g. a speed field) lie outside the car or ferry range.

    Parameters
    ----------
    speed_kmh : array_like
        Speeds, km/h (NaN = not given, not checked).
    ids : array_like
        Feature ids or class names for the message, one per speed.
    ferry : array_like of bool, optional
        Ferry features (their range is ``limits.ferry_speed_kmh``); default none.
    limits : Plausibility
        Thresholds; with ``allow_implausible_speeds`` a warning instead of the error.
    source : str
        What the speeds are, e.g. "speed field 'maxspeed' value".
    what : str
        The layer or table, e.g. "road layer".
    fix : str, optional
        Advice that replaces the default one (speeds in km/h, or empty for class speeds).
    allow_hint : str
        How to accept real outliers (default: the --allow-implausible-speeds hint).
    items : str
        What one row is called in the message ("features", "classes").
    """
    speed = np.asarray(speed_kmh, dtype=np.float64)
    ids = np.asarray(ids)
    ferry = np.zeros(len(speed), bool) if ferry is None else np.asarray(ferry, bool)
    for mask, (lo, hi), kind in ((~ferry, limits.car_speed_kmh, "car"), (ferry, limits.ferry_speed_kmh, "ferry")):
        bad = mask & np.isfinite(speed) & ((speed < lo) | (speed > hi))
        if not bad.any():
            continue
        advice = fix or "Speeds must be in km/h (m/s × 3.6); fix those values or leave them empty to use the class speeds."
        message = (f"{what}: {int(bad.sum())} of {int(mask.sum())} {kind} {items} have a {source} outside "
                   f"{lo:g}–{hi:g} km/h ({_examples(ids[bad], speed[bad])}). {advice}")
        if limits.allow_implausible_speeds:
            log.warning("%s (accepted: allow_implausible_speeds)", message)
            continue
        raise InputError(f"{message} {allow_hint}")


def check_link_speeds(links, *, limits: Plausibility = DEFAULT, what: str = "road network",
                      check_median: bool = True) -> dict:
    """Check the speeds implied by the links' travel times.

    Links of at least ``limits.min_checked_length_m`` whose implied speed (either direction) lies
    outside the car or ferry range, or a length-weighted median car speed outside
    ``median_car_speed_kmh``, are an InputError naming the links, unless
    ``limits.allow_implausible_speeds`` (then a warning and ``summary['accepted_implausible']``).

    Parameters
    ----------
    links : pandas.DataFrame
        ``length_m`` (metres), ``time_fw_s``/``time_bw_s`` (seconds, NaN = direction not allowed)
        and ``kind`` ("road"|"ferry"), indexed by link id.
    limits : Plausibility
        Thresholds.
    what : str
        The network, for the message.
    check_median : bool, default True
        Apply the median rule (False for a selection of links rather than a network).

    Returns
    -------
    dict
        For ``network.report['speed_check']``: car_median_kmh, car_min_kmh, car_max_kmh,
        ferry_min_kmh, ferry_max_kmh (km/h), implausible_links, checked (bool), limits.
    """
    length = links["length_m"].to_numpy(dtype=np.float64)
    ferry = (links["kind"].astype(str).to_numpy() == "ferry")
    ids = links.index.to_numpy()
    speeds = np.column_stack([implied_speeds_kmh(length, links[c].to_numpy(dtype=np.float64))
                              for c in ("time_fw_s", "time_bw_s")])
    summary: dict = {"checked": not limits.allow_implausible_speeds,
                     "limits": {"car_kmh": list(limits.car_speed_kmh), "ferry_kmh": list(limits.ferry_speed_kmh),
                                "min_checked_length_m": limits.min_checked_length_m,
                                "median_car_kmh": list(limits.median_car_speed_kmh)}}
    problems = []
    bad_total = 0
    long_enough = length >= limits.min_checked_length_m
    for mask, (lo, hi), kind in ((~ferry, limits.car_speed_kmh, "car"), (ferry, limits.ferry_speed_kmh, "ferry")):
        s = speeds[mask]
        finite = s[np.isfinite(s)]
        if finite.size:
            summary[f"{kind}_min_kmh"] = float(finite.min())
            summary[f"{kind}_max_kmh"] = float(finite.max())
        with np.errstate(invalid="ignore"):
            out = np.isfinite(speeds) & ((speeds < lo) | (speeds > hi))
        bad = mask & long_enough & out.any(axis=1)
        if bad.any():
            worst = np.where(out[bad][:, 0], speeds[bad][:, 0], speeds[bad][:, 1])
            bad_total += int(bad.sum())
            problems.append(f"{int(bad.sum())} of {int(mask.sum())} {kind} links imply speeds outside {lo:g}–{hi:g} "
                            f"km/h (link id: speed; {_examples(ids[bad], worst)})")
    car = ~ferry
    car_speed = np.nanmean(np.where(np.isfinite(speeds[car]), speeds[car], np.nan), axis=1) if car.any() else []
    ok = np.isfinite(car_speed) if len(car_speed) else np.zeros(0, bool)
    if check_median and ok.sum() >= limits.median_min_links:
        median = _weighted_median(np.asarray(car_speed)[ok], length[car][ok])
        summary["car_median_kmh"] = float(median)
        lo, hi = limits.median_car_speed_kmh
        if not lo <= median <= hi:
            cause = ("a speed field in m/s read as km/h, or time fields in seconds read as minutes"
                     if median < lo else "time fields in minutes read as seconds (give --time-unit min), or a "
                     "speed field in another unit")
            problems.append(f"the length-weighted median car speed is {_fmt(median)} km/h, outside {lo:g}–{hi:g} "
                            f"km/h (likely {cause})")
    summary["implausible_links"] = bad_total
    if not problems:
        return summary
    message = (f"{what}: implausible travel speeds: {'; '.join(problems)}. Check the time/speed fields and their "
               "units (time fields in seconds unless --time-unit min; speed fields in km/h).")
    if limits.allow_implausible_speeds:
        log.warning("%s Accepted because allow_implausible_speeds is set: results rest on these speeds.", message)
        summary["accepted_implausible"] = message
        return summary
    raise InputError(f"{message} {ALLOW_HINT}")


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    v, w = values[order], np.maximum(weights[order], 0)
    if w.sum() <= 0:
        return float(np.median(v))
    cum = np.cumsum(w)
    return float(v[np.searchsorted(cum, 0.5 * cum[-1])])


__all__ = ["Plausibility", "DEFAULT", "ALLOW_FLAG", "check_link_speeds", "check_speed_values", "implied_speeds_kmh"]


def check_zone_totals(population, *, pop_col: str = "population", what: str = "zones layer") -> None:
    """InputError when the zones hold no residents at all.

    With zero population every population-weighted group value (the kommune index) is 0/0 — NaN
    groups and a raw numpy warning before this check. It means a wrong field was named.

    Parameters
    ----------
    population : array_like
        Residents per zone, persons.
    pop_col : str
        The population field, for the message.
    what : str
        The zone layer, for the message.
    """
    total = float(np.nansum(np.asarray(population, dtype=np.float64)))
    if not total > 0:
        raise InputError(f"{what}: the population column '{pop_col}' sums to {total:g} over all {len(population)} "
                         "zones, so every population-weighted value (group index, kommune means) would be 0/0. Name "
                         "the field that holds the residents (--pop-field) or fill it.")


def check_group_codes(values, field: str, what: str = "zones layer") -> None:
    """InputError when a group field (e.g. kommune codes) mixes zero-padded and unpadded codes.

    '301' and '0301' would become two groups (two kommuner) without a word; numbers stored as
    integers are not affected (301 is one value). Codes are compared after stripping leading
    zeros of all-digit codes.

    Parameters
    ----------
    values : array_like
        The group codes.
    field : str
        The field name, for the message.
    what : str
        The layer or table, for the message.
    """
    series = pd.Series(values)
    if pd.api.types.is_numeric_dtype(series.dtype):
        return
    text = series.dropna().astype(str).str.strip()
    digits = text[text.str.fullmatch(r"\d+")].drop_duplicates()
    key = digits.str.lstrip("0").replace("", "0")
    clash = digits[key.duplicated(keep=False)]
    if len(clash):
        groups = clash.groupby(key[clash.index]).apply(lambda s: " and ".join(f"'{v}'" for v in sorted(s)))
        listing = "; ".join(groups.tolist()[:5])
        raise InputError(f"{what}: group field '{field}' mixes zero-padded and unpadded codes ({listing}), which "
                         "would become separate groups (two kommuner for one). Write every code with the same number "
                         "of digits, e.g. kommune codes with 4 digits ('0301').")
