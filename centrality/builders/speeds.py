"""Default car speeds per OSM ``highway`` class, ``maxspeed`` parsing and ferry defaults.

All speeds are in **km/h**, times in seconds (engine) or minutes (user-facing options).

Default speeds (``DEFAULT_SPEEDS_KMH``) are typical *free-flow car speeds in Norway* where a road
has no usable ``maxspeed`` tag. They follow the Norwegian general limits (50 km/h in built-up
areas, 80 km/h elsewhere, motorways signed 90–110 km/h) and are deliberately a little below the
posted limit on lower classes (curves, junctions, built-up stretches):

=================  =====  =====================================================================
class              km/h   note
=================  =====  =====================================================================
motorway           100    signed 90–110 in Norway; 100 is the most common
motorway_link      60     ramps
trunk              80     general rural limit (national roads, *riksvei*)
trunk_link         50
primary            70     mixed rural 80 / built-up 50–60
primary_link       50
secondary          60     *fylkesvei*
secondary_link     40
tertiary           50
tertiary_link      40
unclassified       40     minor rural roads, often gravel
residential        30     residential streets (30 zones are common)
living_street      10     *gatetun*: walking speed by law, 10 km/h is a driving approximation
service            20     service roads (see ``builders.osm`` for which service roads are used)
road               30     ``highway=road`` (unknown class)
=================  =====  =====================================================================

Override the table with a ``dict`` (merged over the defaults) or a file via
:func:`load_speed_table` (TOML ``[speeds]`` table or CSV with columns ``highway,speed_kmh``).

Ferries: ``FERRY_SPEED_KMH`` = 25 km/h (a typical Norwegian car ferry does 10–15 knots) is used
when a ferry route has no ``duration`` tag; ``FERRY_WAIT_MIN`` = 15 minutes of boarding and
waiting (half of a typical 30-minute headway) is added to every crossing.
"""
from __future__ import annotations

import math
import os
import re
import tomllib
from pathlib import Path
from typing import Mapping

import pandas as pd

from centrality.errors import InputError, require_columns

DEFAULT_SPEEDS_KMH: dict[str, float] = {
    "motorway": 100.0,
    "motorway_link": 60.0,
    "trunk": 80.0,
    "trunk_link": 50.0,
    "primary": 70.0,
    "primary_link": 50.0,
    "secondary": 60.0,
    "secondary_link": 40.0,
    "tertiary": 50.0,
    "tertiary_link": 40.0,
    "unclassified": 40.0,
    "residential": 30.0,
    "living_street": 10.0,
    "service": 20.0,
    "road": 30.0,
}

FERRY_SPEED_KMH: float = 25.0
FERRY_WAIT_MIN: float = 15.0

MPH_TO_KMH = 1.609344
KNOT_TO_KMH = 1.852

#: Implicit ``maxspeed`` values (``maxspeed=NO:urban`` etc.), km/h. Norway: 50 in built-up areas,
#: 80 elsewhere (trafikkreglene § 13); ``NO:motorway`` is not a legal default in Norway (motorways
#: are always signed) and is read as 90, the lowest common motorway sign. Neighbouring countries are
#: included because OSM extracts near borders (and the Helsinki test extract) use them.
IMPLICIT_MAXSPEED_KMH: dict[str, float] = {
    "NO:urban": 50.0, "NO:rural": 80.0, "NO:motorway": 90.0,
    "SE:urban": 50.0, "SE:rural": 70.0, "SE:motorway": 110.0,
    "FI:urban": 50.0, "FI:rural": 80.0, "FI:motorway": 120.0,
    "DK:urban": 50.0, "DK:rural": 80.0, "DK:motorway": 130.0,
}
#: Fallback for other countries' ``XX:urban`` / ``XX:rural`` values.
_GENERIC_ZONE_KMH = {"urban": 50.0, "rural": 80.0}

_NUMBER_UNIT = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(km/h|kmh|kph|mph|knots)?\s*$", re.IGNORECASE)


def parse_maxspeed(value) -> float | None:
    """Parse an OSM ``maxspeed`` value to km/h.

    - ``"50"``, ``"50 km/h"`` -> 50; ``"30 mph"`` -> 48.28; ``"10 knots"`` -> 18.52
    - ``"NO:urban"`` -> 50, ``"NO:rural"`` -> 80, ``"NO:motorway"`` -> 90 (see ``IMPLICIT_MAXSPEED_KMH``)
    - ``"50;60"`` or ``"50|60"`` (several values) -> the **lowest** (conservative; such values
      usually describe lanes or time-dependent limits)
    - ``"none"`` (no limit), ``"signals"``, ``"variable"``, ``"walk"``, empty or missing -> ``None``:
      the caller uses the class default speed (so an unlimited motorway gets 100 km/h, not infinity)
    - numeric input (int/float) is returned as float; zero or negative -> ``None``.

    Parameters
    ----------
    value : str, float or None
        The tag value.

    Returns
    -------
    float or None
        km/h, or None when the value gives no usable number.
    """
    if value is None:
        return None
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            return None
        return float(value) if value > 0 else None
    text = str(value).strip()
    if not text:
        return None
    parts = re.split(r"[;|]", text)
    if len(parts) > 1:
        speeds = [s for s in (parse_maxspeed(p) for p in parts) if s is not None]
        return min(speeds) if speeds else None
    if text in IMPLICIT_MAXSPEED_KMH:
        return IMPLICIT_MAXSPEED_KMH[text]
    if ":" in text:
        zone = text.split(":", 1)[1].strip().lower()
        return _GENERIC_ZONE_KMH.get(zone)
    match = _NUMBER_UNIT.match(text)
    if not match:
        return None  # "none", "signals", "variable", "walk", garbage
    speed = float(match.group(1).replace(",", "."))
    unit = (match.group(2) or "").lower()
    if unit == "mph":
        speed *= MPH_TO_KMH
    elif unit == "knots":
        speed *= KNOT_TO_KMH
    return speed if speed > 0 else None


def parse_duration_s(value) -> float | None:
    """Parse an OSM ``duration`` tag (ferries) to seconds.

    Accepts ``"HH:MM"``, ``"HH:MM:SS"``, ``"MM"`` (minutes) and ISO 8601 ``"PT1H30M"``.

    Parameters
    ----------
    value : str or None
        The tag value.

    Returns
    -------
    float or None
        Seconds, or None if absent or unparseable.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    iso = re.fullmatch(r"P?T?(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?", text.upper())
    if text.upper().startswith("P") and iso and any(iso.groups()):
        h, m, s = (float(g) if g else 0.0 for g in iso.groups())
        return h * 3600.0 + m * 60.0 + s
    parts = text.split(":")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        return None
    if len(numbers) == 1:
        seconds = numbers[0] * 60.0
    elif len(numbers) == 2:
        seconds = numbers[0] * 3600.0 + numbers[1] * 60.0
    elif len(numbers) == 3:
        seconds = numbers[0] * 3600.0 + numbers[1] * 60.0 + numbers[2]
    else:
        return None
    return seconds if seconds > 0 else None


def load_speed_table(path: str | os.PathLike) -> dict[str, float]:
    """Read class speeds from TOML (``[speeds]`` table or top-level keys) or CSV (``highway,speed_kmh``).

    Parameters
    ----------
    path : path-like
        ``.toml`` or ``.csv`` file.

    Returns
    -------
    dict
        Only the file's entries, class -> km/h (merge with :func:`resolve_speeds`).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"speed table '{path}' does not exist. Check the path.")
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
            table = data.get("speeds", data)
        elif suffix == ".csv":
            df = pd.read_csv(path)
            require_columns(df.columns, ["highway", "speed_kmh"], f"speed table '{path}'")
            table = dict(zip(df["highway"].astype(str), df["speed_kmh"]))
        else:
            raise InputError(f"speed table '{path}': unknown extension '{suffix}'. Use .toml or .csv.")
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"cannot read speed table '{path}': {exc}. Fix the file syntax.") from None
    return _validate_speeds(table, what=f"speed table '{path}'")


def resolve_speeds(speeds: Mapping[str, float] | str | os.PathLike | None = None) -> dict[str, float]:
    """The default class speeds with the given ones merged over them.

    Parameters
    ----------
    speeds : mapping or path, optional
        Class -> km/h, or a TOML/CSV file (:func:`load_speed_table`).

    Returns
    -------
    dict
        Class -> km/h.
    """
    merged = dict(DEFAULT_SPEEDS_KMH)
    if speeds is None:
        return merged
    if isinstance(speeds, (str, os.PathLike)):
        merged.update(load_speed_table(speeds))
    else:
        merged.update(_validate_speeds(speeds, what="class speeds"))
    return merged


def _validate_speeds(table: Mapping, what: str) -> dict[str, float]:
    out: dict[str, float] = {}
    bad = []
    for key, val in dict(table).items():
        try:
            speed = float(val)
        except (TypeError, ValueError):
            speed = float("nan")
        if not math.isfinite(speed) or speed <= 0:
            bad.append(f"{key}={val!r}")
        else:
            out[str(key)] = speed
    if bad:
        raise InputError(f"{what} has invalid speeds (must be positive km/h): {', '.join(bad)}. Fix these entries.")
    return out
