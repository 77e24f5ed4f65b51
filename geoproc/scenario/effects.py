"""Δ expected net migration and Δ population, year by year: gross (local) and net of competition.

The attractiveness model's centrality term is ``β · sentny`` with ``sentny = index/1000 − mean``
(MODEL.md §1.2, §2.3). A road project changes the index of the kommuner it serves by Δindex.
Two readings of what that does to expected net migration (persons in year t):

- **gross (local) effect**: the centring mean is held fixed, so
  ``gross_i,t = β · r_t · Δs_i · P_i,t`` with ``Δs_i = Δindex_i / 1000``;
- **net effect (competition)**: the centring mean is re-evaluated with the project. The mean
  rises by ``Δm_t``, so every unit's *relative* centrality falls by ``Δm_t`` and
  ``net_i,t = β · r_t · (Δs_i − Δm_t) · P_i,t``. A unit whose own travel times do not change
  (Δs_i = 0) gets ``−β · r_t · Δm_t · P_i,t < 0``: it loses when others gain.

``P_i,t`` is the population on 1 January of year t from a population path (a projection without
the project, :func:`population_path`); with ``compounding`` the extra residents of earlier years
join the base (``P_i,t + ΔP_i,t−1``, separately for the gross and the net world). ``r_t`` is the
ramp-up: 0 before the first effect year, ``min(1, k / N)`` in the k-th effect year when the effect
is phased in over ``N = ramp_up_years`` years (``N <= 1``: full effect at once).

How the mean is re-evaluated (``Competition.centring``) decides the national total
``Σ_i net_i,t`` (the run's units plus the population outside the run, whose Δs is 0):

- ``"population"`` (default): population-weighted mean over the nation,
  ``Δm_t = Σ_i P_i,t Δs_i / P_Norway,t``. Then ``Σ_i net_i,t = β r_t (Σ P Δs − Δm Σ P) = 0``
  exactly: the project only moves residents between kommuner. This is the reading that keeps
  the national totals of the model (national immigration is an exogenous national rate,
  MODEL.md §2.5; domestic moves sum to zero) unchanged by a road.
- ``"regions"``: the literal re-evaluation of the *estimation sample's* mean. The published
  coefficients come from OLS on region-year observations, each region weighted equally, with
  sentny centred on the sample mean; a region's sentny is the population-weighted mean of its
  kommuner. Re-evaluating that mean gives ``Δm_t = (1/R) Σ_r Δs_r,t`` (unweighted over the R
  regions). The national total is then ``β r_t Σ_r P_r (Δs_r − Δm_t)`` — not zero: it is
  positive when the served regions are more populous than the average region and negative when
  they are smaller. The model itself does not constrain it; it is shown so the user sees it.
- ``"kommuner"``: the same with an unweighted mean over kommuner (a kommune-level estimation).

The coefficient's own centring level (the sample's mean sentny) does not enter any Δ: only the
change of the mean does.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from centrality.errors import InputError

CENTRINGS = ("population", "regions", "kommuner")


@dataclass(frozen=True)
class Competition:
    """How the national centring mean of sentny is re-evaluated with a project (module doc).

    Attributes
    ----------
    centring : {"population", "regions", "kommuner"}
        Population-weighted national mean (zero-sum), unweighted mean over regions (the
        estimation sample's units) or over kommuner.
    regions : numpy.ndarray, optional
        Region label of every unit (needed for ``"regions"``).
    outside_population : float
        Persons living outside the run's units (their Δs is 0), e.g. the rest of Norway when the
        zones cover one fylke. Persons, held constant over the horizon.
    outside_units : int
        Regions (``"regions"``) or kommuner (``"kommuner"``) outside the run.
    """

    centring: str = "population"
    regions: np.ndarray | None = None
    outside_population: float = 0.0
    outside_units: int = 0

    def __post_init__(self):
        if self.centring not in CENTRINGS:
            raise InputError(f"competition centring must be one of {', '.join(CENTRINGS)}, got {self.centring!r}.")
        if self.centring == "regions" and self.regions is None:
            raise InputError("competition centring \"regions\" needs the region of every kommune: give "
                             "[impact] regions = \"file.csv\" (kommune, region) or choose centring = \"population\".")
        if self.outside_population < 0 or self.outside_units < 0:
            raise InputError("the population and units outside the run cannot be negative; give the national total "
                             "(>= the run's) or leave it out.")

    def shift(self, delta_sentny: np.ndarray, base: np.ndarray) -> float:
        """Δ of the centring mean for the given unit changes and populations.

        Parameters
        ----------
        delta_sentny : array-like
            Δindex/1000 per unit.
        base : array-like
            Population of each unit this year (persons).

        Returns
        -------
        float
            Δ of the mean (index/1000).
        """
        ds = np.asarray(delta_sentny, dtype=float)
        w = np.asarray(base, dtype=float)
        if self.centring == "population":
            total = w.sum() + self.outside_population
            return float((w * ds).sum() / total) if total > 0 else 0.0
        if self.centring == "kommuner":
            return float(ds.sum() / (len(ds) + self.outside_units)) if len(ds) else 0.0
        labels, inv = np.unique(np.asarray(self.regions).astype(str), return_inverse=True)
        pop = np.bincount(inv, weights=w, minlength=len(labels))
        num = np.bincount(inv, weights=w * ds, minlength=len(labels))
        region_ds = np.divide(num, pop, out=np.zeros_like(num), where=pop > 0)
        return float(region_ds.sum() / (len(labels) + self.outside_units))

    def label(self) -> str:
        """One line for reports.

        Returns
        -------
        str
            How the mean is re-evaluated.
        """
        return {"population": "population-weighted national mean (zero-sum)",
                "regions": "unweighted mean over regions (the estimation sample's units)",
                "kommuner": "unweighted mean over kommuner"}[self.centring]


def ramp(years, first_effect_year: int, ramp_up_years: int = 0) -> np.ndarray:
    """Share of the full effect in each year.

    Parameters
    ----------
    years : array-like of int
        Calendar years.
    first_effect_year : int
        First year with an effect (the year after opening).
    ramp_up_years : int
        ``N``: the k-th effect year has ``min(1, k/N)``; ``N <= 1`` = full effect at once.

    Returns
    -------
    numpy.ndarray
        0 before ``first_effect_year``, then ``k/N`` up to 1 (float per year).
    """
    y = np.asarray(years, dtype=int)
    k = y - int(first_effect_year) + 1
    n = max(1, int(ramp_up_years))
    return np.clip(k / n, 0.0, 1.0).astype(float)


@dataclass
class EffectPaths:
    """Year-by-year effects of one project for one β (persons; arrays are years × units).

    ``base``: population path without the project (1 January); ``gross``/``net``: Δ expected
    net migration in each year; ``shift``: Δ of the centring mean (index/1000) used for ``net``;
    ``outside_net``: Δ migrants of the population outside the run (net world).
    """

    years: np.ndarray
    ramp: np.ndarray
    base: np.ndarray
    gross: np.ndarray
    net: np.ndarray
    shift: np.ndarray
    outside_net: np.ndarray

    @property
    def gross_cum(self) -> np.ndarray:
        """Cumulative gross Δ population (persons, years × units).

        Returns
        -------
        numpy.ndarray
        """
        return np.cumsum(self.gross, axis=0)

    @property
    def net_cum(self) -> np.ndarray:
        """Cumulative net Δ population (persons, years × units).

        Returns
        -------
        numpy.ndarray
        """
        return np.cumsum(self.net, axis=0)

    def full_years(self) -> np.ndarray:
        """The years averaged for "a year" figures.

        Returns
        -------
        numpy.ndarray
            Bool per year: full effect (ramp = 1); if no year has it, any effect.
        """
        full = self.ramp >= 1.0
        return full if full.any() else self.ramp > 0

    def per_year(self, values: np.ndarray) -> np.ndarray:
        """Mean over :meth:`full_years` (0 when no year has an effect).

        Parameters
        ----------
        values : numpy.ndarray
            Years × units (persons per year).

        Returns
        -------
        numpy.ndarray
            Per unit (persons a year).
        """
        sel = self.full_years()
        return values[sel].mean(axis=0) if sel.any() else np.zeros(values.shape[1:])


def effect_paths(delta_sentny, path: np.ndarray, years, *, beta: float, first_effect_year: int,
                 ramp_up_years: int = 0, compounding: bool = False,
                 competition: Competition | None = None, shift: np.ndarray | None = None) -> EffectPaths:
    """Gross and net Δ expected net migration per unit and year (module doc for the formulas).

    Parameters
    ----------
    delta_sentny : array-like
        Δindex/1000 per unit.
    path : numpy.ndarray
        Population without the project on 1 January of each year (years × units, persons).
    years : array-like of int
        The calendar years (rows of ``path``).
    beta : float
        Coefficient per unit of sentny.
    first_effect_year : int
        First year with an effect (the year after opening).
    ramp_up_years : int
        Phase-in over this many effect years.
    compounding : bool
        Extra residents of earlier years join the base.
    competition : Competition, optional
        Default: population-weighted centring over the run's units only.
    shift : numpy.ndarray, optional
        Δ of the centring mean per year, given instead of computed (e.g. zones inside kommuner:
        the kommune-level shift applies to every zone).

    Returns
    -------
    EffectPaths
    """
    ds = np.asarray(delta_sentny, dtype=float)
    path = np.asarray(path, dtype=float)
    years = np.asarray(years, dtype=int)
    if path.shape != (len(years), len(ds)):
        raise InputError(f"population path has shape {path.shape}; expected (years, units) = ({len(years)}, {len(ds)}).")
    comp = competition or Competition()
    r = ramp(years, first_effect_year, ramp_up_years)
    gross, net = np.zeros_like(path), np.zeros_like(path)
    given = shift
    shift, outside = np.zeros(len(years)), np.zeros(len(years))
    cum_g, cum_n = np.zeros(len(ds)), np.zeros(len(ds))
    for t in range(len(years)):
        base_g = path[t] + cum_g if compounding else path[t]
        base_n = path[t] + cum_n if compounding else path[t]
        shift[t] = comp.shift(ds, base_n) if given is None else float(given[t])
        gross[t] = beta * r[t] * ds * base_g
        net[t] = beta * r[t] * (ds - shift[t]) * base_n
        outside[t] = -beta * r[t] * shift[t] * comp.outside_population
        cum_g += gross[t]
        cum_n += net[t]
    return EffectPaths(years, r, path, gross, net, shift, outside)


def unit_effects(delta_sentny, path, years, *, beta: float, se: float, z: float, first_effect_year: int,
                 ramp_up_years: int = 0, compounding: bool = False, competition: Competition | None = None,
                 shift: np.ndarray | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Per-unit summary, per-unit-and-year table and national totals, with coefficient intervals.

    Parameters
    ----------
    delta_sentny : array-like
        Δindex/1000 per unit.
    path : numpy.ndarray
        Population without the project on 1 January of each year (years × units, persons).
    years : array-like of int
        The calendar years of ``path``.
    beta, se : float
        Coefficient per unit of sentny and its standard error.
    z : float
        Normal quantile of the interval (1.96 = 95 %).
    first_effect_year : int
        First year with an effect.
    ramp_up_years : int
        Phase-in years.
    compounding : bool
        Extra residents of earlier years join the base.
    competition : Competition, optional
        How the centring mean is re-evaluated.
    shift : numpy.ndarray, optional
        Δ of the centring mean per year, given instead of computed.

    Returns
    -------
    summary : pandas.DataFrame
        One row per unit (the order of ``delta_sentny``): delta_sentny,
        delta_migrants_per_year (gross, mean over the full-effect years) with
        delta_migrants_low/_high, delta_migrants_net_per_year with delta_migrants_net_low/_high,
        delta_population (gross, cumulative by the last year) with _low/_high,
        delta_population_net with _low/_high, n_effect_years.
    yearly : pandas.DataFrame
        unit (position), year, ramp, population_path, delta_migrants, delta_population,
        delta_migrants_net, delta_population_net (central β; persons).
    totals : dict
        National totals (run's units + outside): gross and net a year and over the horizon,
        central/low/high, the centring shift (index points, mean over the full-effect years;
        ``shift_path``: index/1000 per year) and the outside population's net Δ.
    """
    kw = dict(first_effect_year=first_effect_year, ramp_up_years=ramp_up_years, compounding=compounding,
              competition=competition, shift=shift)
    runs = {k: effect_paths(delta_sentny, path, years, beta=b, **kw)
            for k, b in (("mid", beta), ("low", beta - z * se), ("high", beta + z * se))}
    mid = runs["mid"]
    out = {"delta_sentny": np.asarray(delta_sentny, dtype=float)}
    for name, stem, attr in (("delta_migrants_per_year", "delta_migrants", "gross"),
                             ("delta_migrants_net_per_year", "delta_migrants_net", "net")):
        vals = {k: r.per_year(getattr(r, attr)) for k, r in runs.items()}
        out[name] = vals["mid"]
        out[f"{stem}_low"] = np.minimum(vals["low"], vals["high"])
        out[f"{stem}_high"] = np.maximum(vals["low"], vals["high"])
    for name, attr in (("delta_population", "gross_cum"), ("delta_population_net", "net_cum")):
        vals = {k: getattr(r, attr)[-1] for k, r in runs.items()}
        out[name] = vals["mid"]
        out[f"{name}_low"] = np.minimum(vals["low"], vals["high"])
        out[f"{name}_high"] = np.maximum(vals["low"], vals["high"])
    summary = pd.DataFrame(out)
    summary["n_effect_years"] = int((mid.ramp > 0).sum())
    n = len(summary)
    yearly = pd.DataFrame({"unit": np.tile(np.arange(n), len(mid.years)), "year": np.repeat(mid.years, n),
                           "ramp": np.repeat(mid.ramp, n), "population_path": mid.base.reshape(-1),
                           "delta_migrants": mid.gross.reshape(-1), "delta_population": mid.gross_cum.reshape(-1),
                           "delta_migrants_net": mid.net.reshape(-1),
                           "delta_population_net": mid.net_cum.reshape(-1)})
    totals = {}
    for k, r in runs.items():
        sfx = "" if k == "mid" else f"_{k}"
        nat_net = r.net.sum(axis=1) + r.outside_net
        totals[f"national_gross_per_year{sfx}"] = float(r.per_year(r.gross).sum())
        totals[f"national_net_per_year{sfx}"] = float(r.per_year(nat_net[:, None]).sum())
        totals[f"national_gross_population{sfx}"] = float(r.gross.sum())
        totals[f"national_net_population{sfx}"] = float(nat_net.sum())
    sel = mid.full_years()
    totals["centring_shift_index_points"] = float(1000.0 * mid.shift[sel].mean()) if sel.any() else 0.0
    totals["shift_path"] = mid.shift.copy()
    totals["outside_net_per_year"] = float(mid.per_year(mid.outside_net[:, None]).sum())
    totals["outside_net_population"] = float(mid.outside_net.sum())
    return summary, yearly, totals
