"""Uncertainty beyond the coefficient: sensitivity of a road project's effect to the decay and the
travel-time cutoff of the centrality index, combined with the coefficient's standard error.

Three components, each reported on its own so the user sees which dominates:

1. **coefficient**: β ± z·SE (z = 1.96): the model's sampling uncertainty (MODEL.md §2.3).
2. **decay**: the index is recomputed with alternative distance-decay functions. Default set:
   ``exp:45:0.05`` and ``exp:45:0.2`` — the weight of a job 45 minutes away halved and doubled
   around SSB's "about 10 %" (MODEL.md §1.1); both end at the run's cutoff.
3. **cutoff**: the index is recomputed with alternative cutoffs. Default set: 75 and 105 minutes
   (± 15 minutes around SSB's 90); the default decay follows the cutoff.

Every alternative is a full baseline + scenario pair on the same network and zones, computed
with the incremental engine: a decay alternative reuses the run's OD tables (no new searches);
a shorter cutoff filters them (the pairs within 75 minutes are a subset of those within 90,
exactly); a longer cutoff needs a new baseline search once (shared by all variants) and then
the incremental re-evaluation of each variant (:class:`geoproc.scenario.incremental.ScenarioEngine`).
Each alternative is on its own baseline's A_ref scale.

Combination (documented choice): the alternatives of a component are read as the ends of a 95 %
range for that component. For a headline figure x with central value x0, the component's
downward and upward deviations are ``d⁻ = max(0, x0 − min_k x_k)`` and ``d⁺ = max(0, max_k x_k −
x0)`` (for the coefficient: x at β ∓ 1.96 SE); the combined 95 % interval is
``[x0 − sqrt(Σ d⁻²), x0 + sqrt(Σ d⁺²)]`` (independent components, root-sum-square). The
report lists d⁻ and d⁺ per component.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np
import pandas as pd

from centrality.errors import InputError, check_keys
from centrality.settings import CentralitySettings

DEFAULT_DECAYS = ("exp:45:0.05", "exp:45:0.2")
DEFAULT_CUTOFFS = (75.0, 105.0)
COMPONENTS = ("coefficient", "decay", "cutoff")


@dataclass(frozen=True)
class SensitivitySpec:
    """One alternative run: ``component`` ("decay" | "cutoff"), a label and its settings."""

    component: str
    label: str
    settings: CentralitySettings


@dataclass(frozen=True)
class SensitivityOptions:
    """The ``[uncertainty]`` table of a scenario file.

    Attributes
    ----------
    enabled : bool
        Run the alternatives (default True; False = coefficient only, said in the report).
    decay : tuple of str
        Alternative decay specs (centrality.decay syntax).
    cutoff_min : tuple of float
        Alternative cutoffs, minutes.
    """

    enabled: bool = True
    decay: tuple = DEFAULT_DECAYS
    cutoff_min: tuple = DEFAULT_CUTOFFS

    @classmethod
    def from_dict(cls, d: dict | None, **overrides) -> "SensitivityOptions":
        """Options from the ``[uncertainty]`` table.

        Parameters
        ----------
        d : dict or None
            ``enabled``, ``decay`` (list of specs), ``cutoff_min`` (list of minutes).
        **overrides
            Values that win (None = keep).

        Returns
        -------
        SensitivityOptions
        """
        d = dict(d or {})
        check_keys(list(d), ("enabled", "decay", "cutoff_min"), "[uncertainty]")
        d.update({k: v for k, v in overrides.items() if v is not None})
        decay = d.get("decay", DEFAULT_DECAYS)
        cutoffs = d.get("cutoff_min", DEFAULT_CUTOFFS)
        if isinstance(decay, str):
            decay = [decay]
        if isinstance(cutoffs, (int, float)):
            cutoffs = [cutoffs]
        try:
            cutoffs = tuple(float(c) for c in cutoffs)
        except (TypeError, ValueError):
            raise InputError(f"[uncertainty] cutoff_min must be a list of minutes, got {cutoffs!r}.") from None
        if any(not c > 0 for c in cutoffs):
            raise InputError(f"[uncertainty] cutoff_min must be positive minutes, got {list(cutoffs)}.")
        return cls(enabled=bool(d.get("enabled", True)), decay=tuple(str(x) for x in decay), cutoff_min=cutoffs)

    def specs(self, settings: CentralitySettings) -> list[SensitivitySpec]:
        """The alternative runs for a run with ``settings`` (validated before computing).

        Parameters
        ----------
        settings : CentralitySettings
            The run's settings.

        Returns
        -------
        list of SensitivitySpec
        """
        if not self.enabled:
            return []
        out = []
        for spec in self.decay:
            try:
                s = settings.replace(decay=spec)
            except InputError as exc:
                raise InputError(f"[uncertainty] decay {spec!r}: {exc}") from None
            if s.decay_function.spec != settings.decay_function.spec:
                out.append(SensitivitySpec("decay", f"decay {s.decay_function.spec}", s))
        for c in self.cutoff_min:
            if c == settings.cutoff_min:
                continue
            decay = _decay_for_cutoff(settings, c)
            limits = tuple(x for x in settings.limits_min if x <= c) or (c,)
            try:
                s = settings.replace(cutoff_min=c, limits_min=limits, decay=decay)
            except InputError as exc:
                raise InputError(f"[uncertainty] cutoff_min {c:g}: {exc} (with an explicit decay that ends at "
                                 "the main cutoff, give alternative cutoffs <= it or a decay without its own "
                                 "cutoff, e.g. \"exp:45:0.1\").") from None
            out.append(SensitivitySpec("cutoff", f"cutoff {c:g} min", s))
        return out


def _decay_for_cutoff(settings: CentralitySettings, cutoff_min: float):
    """The run's decay for an alternative cutoff: the default follows the cutoff; an explicit
    exponential decay that ends at the run's cutoff is moved to end at the new one; other decays
    are kept as given."""
    if settings.decay is None:
        return None
    d = settings.decay_function
    spec = str(d.spec)
    if spec.startswith("exp:") and abs(d.cutoff_min - settings.cutoff_min) < 1e-9:
        parts = spec.split(":")
        return f"exp:{parts[1]}:{parts[2]}:{cutoff_min:g}"
    return settings.decay


def filter_od(od, cutoff_min: float):
    """The pairs of ``od`` within a shorter cutoff.

    Parameters
    ----------
    od : centrality.paths.ODTable
        Travel times of a run with a cutoff >= ``cutoff_min``.
    cutoff_min : float
        Minutes.

    Returns
    -------
    centrality.paths.ODTable
        Exactly the pairs a search with that cutoff finds.
    """
    keep = od.time_s <= float(cutoff_min) * 60.0
    return replace(od, origin=od.origin[keep], dest=od.dest[keep], time_s=od.time_s[keep],
                   cutoff_s=float(cutoff_min) * 60.0)


def deviations(central: float, values: Sequence[float]) -> tuple[float, float]:
    """How far the alternatives reach below and above ``central``.

    Parameters
    ----------
    central : float
        The central value.
    values : sequence of float
        The alternatives' values.

    Returns
    -------
    tuple of float
        (d⁻, d⁺), both >= 0.
    """
    v = np.asarray(list(values), dtype=float)
    if v.size == 0:
        return 0.0, 0.0
    return float(max(0.0, central - v.min())), float(max(0.0, v.max() - central))


def combine(central: float, parts: dict[str, tuple[float, float]]) -> tuple[float, float]:
    """Combined 95 % interval of independent components.

    Parameters
    ----------
    central : float
        The central value.
    parts : dict
        component -> (d⁻, d⁺).

    Returns
    -------
    tuple of float
        ``(x0 − sqrt(Σ d⁻²), x0 + sqrt(Σ d⁺²))``.
    """
    lo = np.sqrt(sum(d[0] ** 2 for d in parts.values()))
    hi = np.sqrt(sum(d[1] ** 2 for d in parts.values()))
    return float(central - lo), float(central + hi)


@dataclass
class UncertaintyTable:
    """Per headline figure: central value, each component's d⁻/d⁺ and the combined interval."""

    table: pd.DataFrame            # figure, central, <component>_minus/_plus, low, high, dominant
    runs: pd.DataFrame             # component, label, figure, value (one row per alternative and figure)
    components: list = field(default_factory=list)


def uncertainty_table(central: dict[str, float], coefficient: dict[str, tuple[float, float]],
                      alternatives: dict[str, dict[str, float]], specs: Sequence[SensitivitySpec]) -> UncertaintyTable:
    """Combine the components for every headline figure.

    Parameters
    ----------
    central : dict
        figure -> central value.
    coefficient : dict
        figure -> (value at the low β, value at the high β).
    alternatives : dict
        alternative label -> {figure -> value}.
    specs : sequence of SensitivitySpec
        The alternatives (their component and label).

    Returns
    -------
    UncertaintyTable
    """
    comps = ["coefficient"] + [c for c in ("decay", "cutoff") if any(s.component == c for s in specs)]
    rows, runs = [], []
    for fig, x0 in central.items():
        parts = {"coefficient": deviations(x0, coefficient[fig])}
        for comp in comps[1:]:
            vals = [alternatives[s.label][fig] for s in specs if s.component == comp]
            parts[comp] = deviations(x0, vals)
            runs += [(comp, s.label, fig, alternatives[s.label][fig]) for s in specs if s.component == comp]
        lo, hi = combine(x0, parts)
        row = {"figure": fig, "central": x0}
        for comp, (dm, dp) in parts.items():
            row[f"{comp}_minus"], row[f"{comp}_plus"] = dm, dp
        row["low"], row["high"] = lo, hi
        # the component with the largest deviation; none when every deviation is ~0 (e.g. a national net
        # total that is zero by construction)
        largest = max(max(d) for d in parts.values())
        row["dominant"] = max(parts, key=lambda c: max(parts[c])) if largest > 1e-9 * max(1.0, abs(x0)) else "none"
        rows.append(row)
    return UncertaintyTable(pd.DataFrame(rows), pd.DataFrame(runs, columns=["component", "label", "figure", "value"]),
                            comps)
