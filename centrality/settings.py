"""Settings of a centrality run: one frozen dataclass with the documented defaults and units.

:class:`CentralitySettings` is the single place where the defaults of the centrality chain live
(cutoff, time limits, decay, index transform and reference, zone snapping, the share of
population or jobs that may be excluded, threads, engine). The core
(:func:`centrality.pipeline.run_centrality`, :func:`centrality.step.centrality_from_od`), the
batch configuration (:mod:`centrality.config`), the scenario engine
(:mod:`geoproc.scenario.incremental`), the ``regio`` command line and the QGIS plugin read their
defaults from it; nothing else repeats them.

Units are in the field names: minutes (``_min``), metres (``_m``), km/h (``_kmh``); shares are
fractions (0.01 = 1 %).

Example
-------
>>> s = CentralitySettings(cutoff_min=60, limits_min=(30, 60))
>>> s.decay_function.spec          # the default decay follows the cutoff
'exp:45:0.1:60'
>>> s.replace(reference_zone="0301").reference_zone
'0301'
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import os
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from centrality.decay import Decay, DecaySpec, parse_decay
from centrality.errors import InputError, check_keys

#: shortest-path back-ends; "auto" picks the best available one (today: "dijkstra")
ENGINES = ("auto", "dijkstra")
#: index transforms f in index = 1000 · f(A) / f(A_ref)
TRANSFORMS = ("log", "linear", "sqrt")
#: old option names still accepted (with a DeprecationWarning) -> current field name
DEPRECATED_NAMES = {"reference": "reference_zone"}
_EPS_MIN = 1e-9


def default_workers() -> int:
    """Number of threads a run uses by default: the cores this process may run on.

    Returns
    -------
    int
        ``len(os.sched_getaffinity(0))`` where the platform has it, else ``os.cpu_count()``
        (at least 1).
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class CentralitySettings:
    """Every option of a centrality run, with its default and unit.

    Parameters
    ----------
    cutoff_min : float, default 90.0
        Longest door-to-door travel time computed, minutes. SSB uses 90 minutes.
    limits_min : tuple of float, default (30, 45, 60, 90)
        Jobs reachable within each of these times are counted (``jobs_<L>min``), minutes,
        inclusive; each must be <= ``cutoff_min``. Stored sorted and without duplicates.
    decay : str, dict, Decay or None, default None
        Distance decay of the accessibility (:func:`centrality.decay.parse_decay`). None is the
        SSB-like default: exponential with weight 0.1 at 45 minutes and 0 beyond ``cutoff_min``
        (the default *follows* the cutoff: a 30-minute run gets ``exp:45:0.1:30``). Parts a
        spec leaves out follow the cutoff too (``"exp:45:0.1"``, ``"linear"``, ``"step"``).
    transform : {"log", "linear", "sqrt"} or callable, default "log"
        Index = 1000 · f(A) / f(A_ref); "log" is f(A) = ln(1 + A).
    reference_zone : str or int, optional
        Id of the zone whose accessibility A_ref scales the index to exactly 1000 (e.g. Oslo).
        Zones above it get more than 1000. Default: the zone with the largest accessibility.
    reference_value : float, optional
        A fixed A_ref (decay-weighted jobs), e.g. a baseline run's ``reference_access``, so that
        a scenario's index is on the baseline's scale. Give it or ``reference_zone``, not both.
    intra_zone_min : "access" or float, default "access"
        Travel time within a zone: "access" = twice the zone's access time (zone point to the
        network node and back), or a fixed number of minutes for every zone.
    access_speed_kmh : float, default 20.0
        Speed on the straight line from a zone point to its nearest network node, km/h.
    max_snap_m : float, default 5000.0
        Zones farther than this from any network node are excluded (and reported), metres.
    max_excluded_share : float, default 0.01
        Largest share (fraction, 0.01 = 1 %) of the total population *or* of the total jobs
        that the excluded zones may hold. Above it the run stops with an InputError before any
        travel time is computed: their jobs would vanish from everyone's accessibility. Set it
        to 1.0 to accept any exclusion (still reported).
    workers : int, default: the number of cores available
        Threads for the travel-time search (:func:`default_workers`).
    engine : {"auto", "dijkstra"}, default "auto"
        Shortest-path back-end. Today "auto" and "dijkstra" both mean the exact numba Dijkstra
        of :mod:`centrality.paths`.

    Raises
    ------
    InputError
        When a value is out of range or two options contradict each other (the message names
        the option and the fix).
    """

    cutoff_min: float = 90.0
    limits_min: tuple[float, ...] = (30.0, 45.0, 60.0, 90.0)
    decay: DecaySpec = None
    transform: str | Callable = "log"
    reference_zone: Any = None
    reference_value: float | None = None
    intra_zone_min: str | float = "access"
    access_speed_kmh: float = 20.0
    max_snap_m: float = 5000.0
    max_excluded_share: float = 0.01
    workers: int = field(default_factory=default_workers)
    engine: str = "auto"

    def __post_init__(self) -> None:
        cutoff = _number(self.cutoff_min, "cutoff_min", "minutes, e.g. 90")
        if not cutoff > 0:
            raise InputError(f"cutoff_min must be a positive number of minutes, got {self.cutoff_min!r}. Use e.g. 90.")
        object.__setattr__(self, "cutoff_min", cutoff)
        object.__setattr__(self, "limits_min", _limits(self.limits_min, cutoff))
        decay = self.decay_function
        if decay.cutoff_min > cutoff + _EPS_MIN:
            raise InputError(f"the decay gives weight up to {decay.cutoff_min:g} min but the cutoff is {cutoff:g} "
                             "min. Raise the cutoff or give the decay a shorter cutoff (e.g. exp:45:0.1:60).")
        if not callable(self.transform) and self.transform not in TRANSFORMS:
            raise InputError(f"unknown index transform {self.transform!r}; use one of {', '.join(TRANSFORMS)} "
                             "or pass a function of the accessibility value.")
        if self.reference_zone is not None and self.reference_value is not None:
            raise InputError("give either a reference zone or a reference value (A_ref), not both: the zone's "
                             "accessibility would be ignored.")
        if isinstance(self.reference_zone, (float, bool)) or (
                self.reference_zone is not None and not isinstance(self.reference_zone, (str, int))):
            raise InputError(f"reference_zone must be a zone id (text or integer), got {self.reference_zone!r}. "
                             "To fix A_ref to a number, use reference_value.")
        if self.reference_value is not None:
            value = _number(self.reference_value, "reference_value", "decay-weighted jobs, e.g. a base run's "
                                                                     "reference_access")
            if not value > 0:
                raise InputError(f"reference_value must be > 0 (decay-weighted jobs of the index-1000 zone), got "
                                 f"{self.reference_value!r}.")
            object.__setattr__(self, "reference_value", value)
        object.__setattr__(self, "intra_zone_min", _intra_zone(self.intra_zone_min))
        speed = _number(self.access_speed_kmh, "access_speed_kmh", "km/h, e.g. 20")
        if not speed > 0:
            raise InputError(f"access_speed_kmh must be > 0 km/h, got {self.access_speed_kmh!r}.")
        object.__setattr__(self, "access_speed_kmh", speed)
        snap = _number(self.max_snap_m, "max_snap_m", "metres, e.g. 5000")
        if not snap >= 0:
            raise InputError(f"max_snap_m must be >= 0 metres, got {self.max_snap_m!r}.")
        object.__setattr__(self, "max_snap_m", snap)
        share = _number(self.max_excluded_share, "max_excluded_share", "a fraction, e.g. 0.01 for 1 %")
        if not 0.0 <= share <= 1.0:
            raise InputError(f"max_excluded_share must be a fraction between 0 and 1 (0.01 = 1 %), got "
                             f"{self.max_excluded_share!r}.")
        object.__setattr__(self, "max_excluded_share", share)
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise InputError(f"workers must be a whole number >= 1, got {self.workers!r}.")
        if self.engine not in ENGINES:
            close = difflib.get_close_matches(str(self.engine), ENGINES, n=1)
            raise InputError(f"unknown engine {self.engine!r}" + (f" (did you mean '{close[0]}'?)" if close else "")
                             + f"; use one of {', '.join(ENGINES)}.")

    # ------------------------------------------------------------------ derived values
    @property
    def decay_function(self) -> Decay:
        """The decay as a function of minutes; the default (and left-out parts) follow ``cutoff_min``.

        Returns
        -------
        Decay
            See :func:`centrality.decay.parse_decay`.
        """
        return parse_decay(self.decay, default_cutoff_min=self.cutoff_min)

    @property
    def transform_name(self) -> str:
        """Name of the index transform ("log", "linear", "sqrt" or the function's name)."""
        return self.transform if isinstance(self.transform, str) else getattr(self.transform, "__name__",
                                                                                str(self.transform))

    def replace(self, **changes: Any) -> "CentralitySettings":
        """A copy with some fields changed (validated like the constructor).

        Parameters
        ----------
        **changes
            Field names and new values. Deprecated names (``reference`` = ``reference_zone``)
            are accepted with a DeprecationWarning; unknown names raise InputError with the
            closest field name.

        Returns
        -------
        CentralitySettings
        """
        return dataclasses.replace(self, **_checked_names(changes, "settings"))

    def with_options(self, **options: Any) -> "CentralitySettings":
        """Like :meth:`replace` but options given as None keep the current value.

        This is how keyword overrides (``run_centrality(net, zones, cutoff_min=60)``) and
        command-line options (None = not given) are applied.

        Parameters
        ----------
        **options
            Field names and values; None values are ignored.

        Returns
        -------
        CentralitySettings
        """
        return self.replace(**{k: v for k, v in options.items() if v is not None})

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], where: str = "[centrality]",
                     base: "CentralitySettings | None" = None) -> "CentralitySettings":
        """Settings from a TOML/JSON table whose keys are field names (e.g. a scenario file's
        ``[centrality]``).

        Parameters
        ----------
        table : mapping
            ``{field name: value}``; ``limits_min`` may be a list.
        where : str
            Where the table comes from, for error messages.
        base : CentralitySettings, optional
            Values not in ``table`` come from here (default: the defaults).

        Returns
        -------
        CentralitySettings

        Raises
        ------
        InputError
            For unknown keys (with the closest valid key) or invalid values.
        """
        return (base or cls()).replace(**_checked_names(dict(table), where))

    def summary(self) -> dict:
        """The settings as plain values for run summaries and manifests.

        Returns
        -------
        dict
            cutoff_min, limits_min (list), decay (spec string), transform (name), reference_zone,
            reference_value, intra_zone_min, access_speed_kmh, max_snap_m, max_excluded_share,
            workers, engine.
        """
        return {"cutoff_min": self.cutoff_min, "limits_min": list(self.limits_min),
                "decay": self.decay_function.spec, "transform": self.transform_name,
                "reference_zone": self.reference_zone, "reference_value": self.reference_value,
                "intra_zone_min": self.intra_zone_min, "access_speed_kmh": self.access_speed_kmh,
                "max_snap_m": self.max_snap_m, "max_excluded_share": self.max_excluded_share,
                "workers": self.workers, "engine": self.engine}


FIELDS = tuple(f.name for f in dataclasses.fields(CentralitySettings))


def settings_from(settings: CentralitySettings | None = None, **options: Any) -> CentralitySettings:
    """``settings`` (default: the defaults) with keyword ``options`` applied (None = keep).

    Parameters
    ----------
    settings : CentralitySettings, optional
        Starting point.
    **options
        Field names (or deprecated names) and values.

    Returns
    -------
    CentralitySettings
    """
    if settings is not None and not isinstance(settings, CentralitySettings):
        raise InputError(f"settings must be a CentralitySettings, got {type(settings).__name__}. Build one with "
                         "centrality.settings.CentralitySettings(...).")
    return (settings or CentralitySettings()).with_options(**options)


# ---------------------------------------------------------------------------------- helpers
def _checked_names(changes: dict, where: str) -> dict:
    out = {}
    for key, value in changes.items():
        if key in DEPRECATED_NAMES:
            new = DEPRECATED_NAMES[key]
            warnings.warn(f"{where}: '{key}' is deprecated; use '{new}' (a zone id) or 'reference_value' (a "
                          "number, A_ref).", DeprecationWarning, stacklevel=4)
            if new in changes:
                raise InputError(f"{where}: give '{new}' only (not also the deprecated '{key}').")
            key = new
        else:
            check_keys([key], FIELDS, where)
        if key == "limits_min" and isinstance(value, list):
            value = tuple(value)
        out[key] = value
    return out


def _number(value, name: str, hint: str) -> float:
    if isinstance(value, bool):
        raise InputError(f"{name} must be a number ({hint}), got {value!r}.")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number ({hint}), got {value!r}.") from None
    if not math.isfinite(x):
        raise InputError(f"{name} must be a finite number ({hint}), got {value!r}.")
    return x


def _limits(limits, cutoff: float) -> tuple[float, ...]:
    if isinstance(limits, (str, bytes)) or not hasattr(limits, "__iter__"):
        limits = [limits]
    try:
        values = sorted({float(x) for x in limits})
    except (TypeError, ValueError):
        raise InputError(f"limits_min must be minutes (numbers), got {limits!r}. Use e.g. (30, 45, 60, 90).") from None
    if not values or not all(math.isfinite(x) and x > 0 for x in values):
        raise InputError(f"limits_min must be positive minutes, got {limits!r}. Use e.g. 30,45,60,90.")
    if values[-1] > cutoff + _EPS_MIN:
        raise InputError(f"the largest time limit ({values[-1]:g} min) exceeds the cutoff ({cutoff:g} min); "
                         "travel times beyond the cutoff are not computed. Raise the cutoff or lower the limits.")
    return tuple(values)


def _intra_zone(value):
    if isinstance(value, str):
        if value != "access":
            raise InputError(f"intra_zone_min must be 'access' or a number of minutes, got {value!r}.")
        return value
    x = _number(value, "intra_zone_min", "'access' or minutes")
    if x < 0:
        raise InputError(f"intra_zone_min must be >= 0 minutes, got {value!r}.")
    return x


__all__ = ["CentralitySettings", "ENGINES", "TRANSFORMS", "default_workers", "settings_from"]
