"""Distance-decay functions (*avstandsmotstand*): weight of a job reached after t minutes.

All classes are vectorised callables ``decay(minutes) -> weights`` (float64 array, 0 beyond the
cutoff) with a ``cutoff_min`` attribute (no weight beyond it, minutes) and a ``spec`` string that
:func:`parse_decay` reads back. The default is SSB-like: exponential, a job 45 minutes away
counts 10 % of a job next door, nothing beyond the run's cutoff (90 minutes by default: the
default decay *follows* the cutoff, see :func:`parse_decay`).
"""
from __future__ import annotations

import math
from typing import Union

import numpy as np

from centrality.errors import InputError

_SPEC_HELP = ('Use "exp:T_REF:WEIGHT[:CUTOFF]" (e.g. "exp:45:0.1:90"), "linear:ZERO_AT_MIN", '
              '"step:LIMIT_MIN" or "table:MIN=W,MIN=W,..." (e.g. "table:0=1,30=0.5,90=0"); in TOML a table '
              '{type = "exp", t_ref_min = 45, weight_at_ref = 0.1, cutoff_min = 90}.')


def _positive(name: str, value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InputError(f"decay parameter {name} must be a number, got {value!r}. {_SPEC_HELP}") from None
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"decay parameter {name} must be a positive number of minutes, got {value}. {_SPEC_HELP}")
    return value


def _minutes(minutes) -> np.ndarray:
    return np.asarray(minutes, dtype=np.float64)


class Decay:
    """Base class: subclasses define ``weights(t)`` for 0 <= t <= cutoff_min."""

    cutoff_min: float

    def __call__(self, minutes) -> np.ndarray:
        t = _minutes(minutes)
        return np.where(t <= self.cutoff_min, self.weights(t), 0.0)

    def weights(self, t: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """Weights of times ``t`` (minutes, 0 <= t <= cutoff_min).

        Parameters
        ----------
        t : numpy.ndarray
            Travel times, minutes.

        Returns
        -------
        numpy.ndarray
            Weights in [0, 1] (float64).
        """
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Decay) and self.spec == other.spec

    def __hash__(self) -> int:
        return hash(self.spec)


class ExponentialDecay(Decay):
    """w(t) = exp(-beta t), beta = -ln(weight_at_ref) / t_ref_min (per minute); 0 beyond cutoff_min."""

    def __init__(self, t_ref_min: float = 45.0, weight_at_ref: float = 0.1, cutoff_min: float = 90.0, *,
                 weight: float | None = None):
        self.t_ref_min = _positive("t_ref_min", t_ref_min)
        p = float(weight if weight is not None else weight_at_ref)
        if not (0.0 < p <= 1.0):
            raise InputError(f"exponential decay weight at {self.t_ref_min:g} min must be in (0, 1], got {p}. "
                             "E.g. 0.1 means a job that far counts 10 % of a job next door.")
        self.weight_at_ref = p
        self.cutoff_min = _positive("cutoff_min", cutoff_min)
        self.beta = -math.log(p) / self.t_ref_min

    def weights(self, t):
        """Weights of times ``t`` (minutes, 0 <= t <= cutoff_min).

        Parameters
        ----------
        t : numpy.ndarray
            Travel times, minutes.

        Returns
        -------
        numpy.ndarray
            Weights in [0, 1] (float64).
        """
        return np.exp(-self.beta * t)

    @property
    def spec(self) -> str:
        """The spec string that :func:`parse_decay` reads back (e.g. ``"exp:45:0.1:90"``)."""
        return f"exp:{self.t_ref_min:g}:{self.weight_at_ref:g}:{self.cutoff_min:g}"


class LinearDecay(Decay):
    """w(t) = 1 - t / zero_at_min, 0 from zero_at_min on."""

    def __init__(self, zero_at_min: float = 90.0):
        self.zero_at_min = self.cutoff_min = _positive("zero_at_min", zero_at_min)

    def weights(self, t):
        """Weights of times ``t`` (minutes, 0 <= t <= cutoff_min).

        Parameters
        ----------
        t : numpy.ndarray
            Travel times, minutes.

        Returns
        -------
        numpy.ndarray
            Weights in [0, 1] (float64).
        """
        return np.clip(1.0 - t / self.zero_at_min, 0.0, 1.0)

    @property
    def spec(self) -> str:
        """The spec string that :func:`parse_decay` reads back (e.g. ``"linear:90"``)."""
        return f"linear:{self.zero_at_min:g}"


class StepDecay(Decay):
    """w(t) = 1 for t <= limit_min, else 0 (plain 'jobs within L minutes')."""

    def __init__(self, limit_min: float = 90.0):
        self.limit_min = self.cutoff_min = _positive("limit_min", limit_min)

    def weights(self, t):
        """Weights of times ``t`` (minutes, 0 <= t <= cutoff_min).

        Parameters
        ----------
        t : numpy.ndarray
            Travel times, minutes.

        Returns
        -------
        numpy.ndarray
            Weights in [0, 1] (float64).
        """
        return np.ones_like(t)

    @property
    def spec(self) -> str:
        """The spec string that :func:`parse_decay` reads back (e.g. ``"step:45"``)."""
        return f"step:{self.limit_min:g}"


class TableDecay(Decay):
    """Piecewise-linear weights through (minutes[i], weights[i]); the first weight applies before
    the first point and the weight is 0 beyond the last point (cutoff_min = minutes[-1])."""

    def __init__(self, minutes, weights):
        m = np.asarray(minutes, dtype=np.float64)
        w = np.asarray(weights, dtype=np.float64)
        if m.ndim != 1 or m.shape != w.shape or len(m) < 2:
            raise InputError("a decay table needs at least two (minutes, weight) points of equal length. " + _SPEC_HELP)
        if not (np.all(np.isfinite(m)) and np.all(np.isfinite(w))):
            raise InputError("decay table values must be finite numbers. " + _SPEC_HELP)
        if np.any(np.diff(m) <= 0) or m[0] < 0:
            raise InputError(f"decay table minutes must be >= 0 and strictly increasing, got {m.tolist()}. "
                             "Sort the points by minutes and remove duplicates.")
        if np.any(w < 0):
            raise InputError(f"decay table weights must be >= 0, got {w.tolist()}.")
        self.minutes, self.table_weights = m, w
        self.cutoff_min = float(m[-1])

    def weights(self, t):
        """Weights of times ``t`` (minutes, 0 <= t <= cutoff_min).

        Parameters
        ----------
        t : numpy.ndarray
            Travel times, minutes.

        Returns
        -------
        numpy.ndarray
            Weights in [0, 1] (float64).
        """
        return np.interp(t, self.minutes, self.table_weights)

    @property
    def spec(self) -> str:
        """The spec string that :func:`parse_decay` reads back (e.g. ``"table:0=1,30=0.5,60=0"``)."""
        return "table:" + ",".join(f"{m:g}={w:g}" for m, w in zip(self.minutes, self.table_weights))


DEFAULT_DECAY = ExponentialDecay()

DecaySpec = Union[str, dict, Decay, None]


def _parse_table_text(body: str) -> TableDecay:
    try:
        pairs = [item.split("=") for item in body.split(",") if item.strip()]
        minutes, weights = zip(*[(float(a), float(b)) for a, b in pairs])
    except ValueError:
        raise InputError(f"cannot read decay table '{body}'. " + _SPEC_HELP) from None
    return TableDecay(minutes, weights)


def default_decay(cutoff_min: float = 90.0) -> ExponentialDecay:
    """The default decay for a run with cutoff ``cutoff_min``.

    Parameters
    ----------
    cutoff_min : float
        Travel-time cutoff of the run, minutes.

    Returns
    -------
    ExponentialDecay
        Weight 0.1 at 45 minutes, 0 beyond ``cutoff_min`` (``exp:45:0.1:<cutoff_min>``).
    """
    return ExponentialDecay(45.0, 0.1, cutoff_min)


def parse_decay(spec: DecaySpec, default_cutoff_min: float | None = None) -> Decay:
    """Decay from a CLI string, a TOML/JSON dict, an existing Decay, or None (the default).

    Parameters
    ----------
    spec : str, dict, Decay or None
        ``"exp:T_REF:WEIGHT[:CUTOFF]"``, ``"linear[:ZERO_AT_MIN]"``, ``"step[:LIMIT_MIN]"``,
        ``"table:MIN=W,..."`` (minutes), a TOML table ``{type = "exp", ...}``, a :class:`Decay`
        (returned as is) or None for the default (exponential, weight 0.1 at 45 minutes).
    default_cutoff_min : float, optional
        Cutoff of the run, minutes. When given, the parts a spec leaves out follow it: None
        gives ``exp:45:0.1:<cutoff>``, ``"exp:45:0.1"`` ends at the cutoff, ``"linear"`` reaches
        0 and ``"step"`` ends at the cutoff. Without it they are 90 minutes.

    Returns
    -------
    Decay
        A vectorised weight function of minutes.

    Raises
    ------
    InputError
        For an unknown form or invalid parameters (the message lists the accepted forms).
    """
    if isinstance(spec, Decay):
        return spec
    if spec is None:
        return DEFAULT_DECAY if default_cutoff_min is None else default_decay(default_cutoff_min)
    if isinstance(spec, dict):
        kind = str(spec.get("type", spec.get("kind", ""))).lower()
        args = {k: v for k, v in spec.items() if k not in ("type", "kind")}
        classes = {"exp": ExponentialDecay, "exponential": ExponentialDecay, "linear": LinearDecay,
                   "step": StepDecay, "table": TableDecay}
        if kind not in classes:
            raise InputError(f"unknown decay type {kind!r}; expected one of exp, linear, step, table. " + _SPEC_HELP)
        if default_cutoff_min is not None:
            missing = {ExponentialDecay: "cutoff_min", LinearDecay: "zero_at_min", StepDecay: "limit_min"}
            key = missing.get(classes[kind])
            if key is not None and key not in args:
                args[key] = default_cutoff_min
        try:
            return classes[kind](**args)
        except TypeError as exc:
            raise InputError(f"bad parameters for {kind} decay: {exc}. " + _SPEC_HELP) from None
    if not isinstance(spec, str):
        raise InputError(f"cannot read decay specification {spec!r}. " + _SPEC_HELP)
    kind, _, body = spec.strip().partition(":")
    kind = kind.lower()
    if kind == "table":
        return _parse_table_text(body)
    parts = [p for p in body.split(":") if p != ""] if body else []
    n_allowed = {"exp": (0, 3), "exponential": (0, 3), "linear": (0, 1), "step": (0, 1)}
    if kind not in n_allowed:
        raise InputError(f"unknown decay '{spec}'. " + _SPEC_HELP)
    lo, hi = n_allowed[kind]
    if not lo <= len(parts) <= hi:
        raise InputError(f"decay '{spec}' has {len(parts)} parameters, expected at most {hi}. " + _SPEC_HELP)
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise InputError(f"decay '{spec}' has a parameter that is not a number. " + _SPEC_HELP) from None
    if default_cutoff_min is not None and len(values) < hi:   # the left-out cutoff follows the run's
        values = [*values, *[45.0, 0.1][len(values):hi - 1], default_cutoff_min]
    if kind in ("exp", "exponential"):
        return ExponentialDecay(*values)
    return (LinearDecay if kind == "linear" else StepDecay)(*values)
