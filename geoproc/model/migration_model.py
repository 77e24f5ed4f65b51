"""The model's expected net migration inside a projection (MODEL.md §2.3 applied year by year, §4).

For every projected year t and kommune k (fractions of the 1 January population):

``rate_k,t = b_sentny·sentny_k + b_ds·DS_k,t + b0·VRA_k,t + b1·VRA_k,t−1 + b2·VRA_k,t−2``

added by :func:`geoproc.model.project.project` to the national net immigration rate and the
scenario's attractiveness level. Like the published decomposition (MODEL.md §2.5: immigration +
centrality + own jobs + neighbour jobs + DS = expected), the national baseline is the national
net immigration and the regression intercept is left out (``intercept=True`` adds it);
``balance=True`` subtracts the population-weighted mean each year so that domestic moves sum to
zero (by default they do not: the centred terms do not sum to zero over the population, exactly
as in the model's own expected net migration).

- **sentny**: index/1000 minus the centring mean stored with the coefficients (held fixed).
- **DS_k,t** (:func:`geoproc.model.ds.ds_abs_array`) from the projected population with the
  national employment rates by age and sex held at the base year's calibrated level and the
  year's national death probabilities, divided by the kommune's labour force
  (``ds_denominator='employed'``: its residents × the employment rates × its own employment level
  in the base year; ``'jobs'``: its projected jobs, the spec's printed form) and centred on the
  mean over kommuner.
- **VRA**: national jobs grow with the projected employed residents (population × constant
  employment rates, MODEL.md §4). A kommune's jobs grow at that rate plus the **population effect**
  ``k · relpop_3`` (MODEL.md §3: population-sensitive jobs follow the kommune's population growth
  over the previous 3 years relative to Norway's; k estimated from the real jobs and population,
  :func:`estimate_job_population_effect`), normalised so the country's jobs add up; business
  attractiveness is 0 (neutral) and branch mix is not modelled (no branch table). VRA = commuting
  shares of the base year × relative job growth. Years whose job growth is in the data use the
  data (the lags of the first projected years).

:class:`ProjectionMigration` is the one implementation of these terms for every projection: the
real-data one (:mod:`geoproc.model.real_projection`: all terms), the projection from table files
(:func:`geoproc.model.projection.projection_expected_fn`: sentny and DS over projected jobs, VRA 0)
and the projections with and without a road project (:mod:`geoproc.model.scenario_projection`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from centrality.errors import InputError
from geoproc.model import ds as dsm
from geoproc.model.params import ModelParams


def population_weighted_mean(rate: np.ndarray, pop: np.ndarray) -> float:
    """Mean of a per-kommune rate weighted by each kommune's population.

    Parameters
    ----------
    rate : numpy.ndarray
        Per kommune (fraction).
    pop : numpy.ndarray
        Population array kommune × sex × age (persons).

    Returns
    -------
    float
    """
    total = pop.sum(axis=(1, 2))
    return float((rate * total).sum() / total.sum())


def shares_matrix(commuting: pd.DataFrame, kommuner: Sequence[str], year: int) -> np.ndarray:
    """Commuting shares of one year as a matrix.

    Parameters
    ----------
    commuting : pandas.DataFrame
        year, home_kommune, work_kommune, employed (persons).
    kommuner : sequence of str
        Row and column order.
    year : int
        The matrix's year.

    Returns
    -------
    numpy.ndarray
        (k, k): employed residents of i working in j / all employed residents of i (rows sum to 1).
    """
    com = commuting[commuting["year"] == int(year)]
    if com.empty:
        raise InputError(f"no commuting matrix for {year}; give the commuting table of the base year or earlier.")
    idx = pd.Index(list(kommuner))
    h, w = idx.get_indexer(com["home_kommune"]), idx.get_indexer(com["work_kommune"])
    keep = (h >= 0) & (w >= 0)
    s = np.zeros((len(idx), len(idx)))
    np.add.at(s, (h[keep], w[keep]), com["employed"].to_numpy(dtype=float)[keep])
    tot = s.sum(axis=1, keepdims=True)
    if (tot <= 0).any():
        bad = list(idx[(tot[:, 0] <= 0)][:5])
        raise InputError(f"kommuner {bad} have no employed residents in the {year} commuting matrix; shares undefined.")
    return s / tot


def relative_job_growth_matrix(jobs: pd.DataFrame, kommuner: Sequence[str]) -> dict[int, np.ndarray]:
    """Relative job growth RA per year from a jobs table.

    Parameters
    ----------
    jobs : pandas.DataFrame
        year, kommune, jobs.
    kommuner : sequence of str
        Order of the arrays.

    Returns
    -------
    dict
        {year: RA (k,)} for every year whose jobs and previous year's jobs are complete (fractions:
        own growth − national growth).
    """
    wide = jobs.pivot(index="kommune", columns="year", values="jobs").reindex(list(kommuner)).astype(float)
    out = {}
    for y in wide.columns:
        if y - 1 in wide.columns and wide[[y - 1, y]].notna().all().all():
            g = wide[y] / wide[y - 1] - 1.0
            out[int(y)] = (g - (wide[y].sum() / wide[y - 1].sum() - 1.0)).to_numpy()
    return out


def relpop(totals: dict[int, np.ndarray], year: int, window: int = 3) -> np.ndarray:
    """Relative population growth over ``window`` years.

    Parameters
    ----------
    totals : dict
        {year: population (k,)} on 1 January.
    year : int
        End year.
    window : int, default 3
        Years back.

    Returns
    -------
    numpy.ndarray
        Population growth 1 January year−window → year minus Norway's (fractions, per kommune).
    """
    a, b = totals[year - window], totals[year]
    return b / a - 1.0 - (b.sum() / a.sum() - 1.0)


def estimate_job_population_effect(jobs: pd.DataFrame, population: pd.DataFrame, *, window: int = 3
                                   ) -> tuple[float, float, int]:
    """k in ``RA_j,t = a + k·relpop_j,t`` by weighted least squares (weights: jobs in t−1).

    This is the total-jobs analogue of :func:`geoproc.model.business.estimate_population_elasticity`
    (which needs jobs by branch).

    Parameters
    ----------
    jobs : pandas.DataFrame
        year, kommune, jobs.
    population : pandas.DataFrame
        year, kommune, population (1 January).
    window : int, default 3
        Years of the relative population growth.

    Returns
    -------
    tuple
        (k, standard error, number of kommune-years).
    """
    import statsmodels.api as sm

    kommuner = sorted(set(jobs["kommune"]) & set(population["kommune"]))
    ra = relative_job_growth_matrix(jobs, kommuner)
    wide_p = population.pivot(index="kommune", columns="year", values="population").reindex(kommuner).astype(float)
    wide_j = jobs.pivot(index="kommune", columns="year", values="jobs").reindex(kommuner).astype(float)
    totals = {int(y): wide_p[y].to_numpy() for y in wide_p.columns}
    xs, ys, ws = [], [], []
    for y, r in ra.items():
        if y - window in totals and y in totals:
            xs.append(relpop(totals, y, window))
            ys.append(r)
            ws.append(wide_j[y - 1].to_numpy())
    if not xs:
        raise InputError(f"the population effect needs jobs for two consecutive years and the population "
                         f"{window} years before; no year qualifies.")
    x, yv, w = np.concatenate(xs), np.concatenate(ys), np.concatenate(ws)
    ok = np.isfinite(x) & np.isfinite(yv) & np.isfinite(w)
    fit = sm.WLS(yv[ok], sm.add_constant(x[ok]), weights=w[ok]).fit()
    return float(fit.params[1]), float(fit.bse[1]), int(ok.sum())


@dataclass
class ProjectionMigration:
    """Callable ``(year, population[k, 2, 106]) -> rate (k,)`` for :func:`geoproc.model.project.project`.

    The ONE implementation of the model's expected net migration inside a projection (the real-data
    projection of :mod:`geoproc.model.real_projection`, the table-file projection of
    :func:`geoproc.model.projection.run_projection` and the road-scenario projections of
    :mod:`geoproc.model.scenario_projection`); see the module docstring for the terms. Terms
    without inputs are 0: no ``sentny`` — no centrality term; no ``shares`` — VRA 0 (jobs grow
    with national employment everywhere); no ``jobs`` with ``ds_denominator='jobs'`` — no DS term.

    State (projected jobs, population history, VRA lags) restarts whenever it is called for
    ``base_year`` (each scenario starts there; None = the first year it is called for).
    ``records`` keeps the last run's terms per year (for output tables).
    """

    params: ModelParams
    kommuner: list[str]
    base_year: int | None
    sentny: np.ndarray | None               # (k,) centred centrality term (index/1000 − mean); None = no term
    employment: np.ndarray                  # (2, 106) national employment rates (fractions)
    mortality: np.ndarray                   # (n_years, 2, 106) or (2, 106) death probabilities by projected year
    jobs: np.ndarray | None                 # (k,) jobs in the base year; None = no jobs
    shares: np.ndarray | None = None        # (k, k) commuting shares; None = VRA 0
    observed_ra: dict[int, np.ndarray] = field(default_factory=dict)     # {year: RA} from the data
    population_history: dict[int, np.ndarray] = field(default_factory=dict)  # {year: totals (k,)}, years ≤ base
    population_effect: float = 0.0
    employment_level: np.ndarray | None = None  # (k,) kommune employed / (population × national rates)
    ds_denominator: str = "employed"
    region_of: np.ndarray | None = None     # (k,) region index per kommune: DS centred on the mean over regions
    intercept: bool = False
    balance: bool = False
    records: list[pd.DataFrame] = field(default_factory=list)

    def __post_init__(self) -> None:
        k = len(self.kommuner)
        self.kommuner = [str(c) for c in self.kommuner]
        if self.ds_denominator not in ("employed", "jobs"):
            raise InputError(f"ds_denominator must be 'employed' or 'jobs', not {self.ds_denominator!r}.")
        self.mortality = np.asarray(self.mortality, dtype=float)
        if self.mortality.ndim == 2:
            self.mortality = self.mortality[None]
        checks = [("employment", self.employment, (2, 106)), ("mortality", self.mortality[0], (2, 106))]
        checks += [(n, a, shape) for n, a, shape in (("sentny", self.sentny, (k,)), ("jobs", self.jobs, (k,)),
                                                     ("shares", self.shares, (k, k))) if a is not None]
        for name, arr, shape in checks:
            if np.shape(arr) != shape or not np.isfinite(arr).all():
                raise InputError(f"projection migration model: {name} must be finite with shape {shape}.")
        if self.jobs is not None and (self.jobs <= 0).any():
            bad = [self.kommuner[i] for i in np.flatnonzero(self.jobs <= 0)[:5]]
            raise InputError(f"kommuner {bad} have no jobs in the base year; the VRA/DS terms are undefined.")
        if self.jobs is None and (self.population_effect != 0.0 or self.shares is not None):
            raise InputError("projection migration model: VRA (commuting shares, population effect) needs the "
                             "base-year jobs of every kommune.")
        if self.employment_level is None:
            self.employment_level = np.ones(k)
        self._reset()

    @property
    def terms(self) -> list[str]:
        """The model terms this instance computes (the others are 0).

        Returns
        -------
        list of str
            Among sentny, ds, vra_t, vra_t1, vra_t2.
        """
        out = ["sentny"] if self.sentny is not None else []
        if self.jobs is not None or self.ds_denominator == "employed":
            out.append("ds")
        return out + (["vra_t", "vra_t1", "vra_t2"] if self.shares is not None else [])

    def _reset(self) -> None:
        self._jobs = None if self.jobs is None else self.jobs.astype(float).copy()
        self._totals = {y: np.asarray(v, dtype=float) for y, v in self.population_history.items()}
        self._prev_pop: np.ndarray | None = None
        self._prev_g_rel: np.ndarray | None = None
        self._vra: dict[int, np.ndarray] = {}
        self.records = []

    def _vra_of(self, year: int, g_rel: np.ndarray | None) -> np.ndarray:
        if self.shares is None:
            return np.zeros(len(self.kommuner))
        if year in self._vra:
            return self._vra[year]
        if year in self.observed_ra and year <= self.base_year:
            v = self.shares @ self.observed_ra[year]
        elif year in self.observed_ra and g_rel is None:
            v = self.shares @ self.observed_ra[year]
        elif g_rel is not None:
            v = self.shares @ g_rel
        else:
            v = np.zeros(len(self.kommuner))
        self._vra[year] = v
        return v

    def __call__(self, year: int, pop: np.ndarray) -> np.ndarray:
        year = int(year)
        if self.base_year is None:
            self.base_year = year
        k = len(self.kommuner)
        if year == self.base_year:
            self._reset()
        elif self._prev_pop is not None and self._jobs is not None:  # last year's jobs with this year's population
            e_prev = (self._prev_pop * self.employment[None]).sum()
            e_now = (pop * self.employment[None]).sum()
            self._jobs = self._jobs * (1.0 + (e_now / e_prev - 1.0) + self._prev_g_rel)
        totals = pop.sum(axis=(1, 2))
        self._totals[year] = totals
        coefs = self.params.coefficients()
        # relative job growth this year: data where known, else the population effect
        if year in self.observed_ra:
            g_rel = self.observed_ra[year]
        elif year - 3 in self._totals and self.population_effect != 0.0:
            g_rel = self.population_effect * relpop(self._totals, year)
            g_rel = g_rel - (self._jobs * g_rel).sum() / self._jobs.sum()
        else:
            g_rel = np.zeros(k)
        v_t = self._vra_of(year, g_rel)
        v_1 = self._vra_of(year - 1, None)
        v_2 = self._vra_of(year - 2, None)
        terms = {"sentny": coefs["sentny"] * (self.sentny if self.sentny is not None else np.zeros(k))}
        ds_raw = np.zeros(k)
        if "ds" in self.terms:
            q = self.mortality[min(year - self.base_year, len(self.mortality) - 1)]
            ds_abs = dsm.ds_abs_array(pop, self.employment, q)
            if self.ds_denominator == "employed":
                denom = (pop * self.employment[None]).sum(axis=(1, 2)) * self.employment_level
            else:
                denom = self._jobs
            ds_raw = ds_abs / np.maximum(denom, 1.0)
            if self.region_of is None:
                ds_c = ds_raw - ds_raw.mean()
            else:  # centre on the mean over regions of the regions' DS (the estimation sample's units)
                n_r = int(self.region_of.max()) + 1
                r_abs = np.bincount(self.region_of, weights=ds_abs, minlength=n_r)
                r_den = np.bincount(self.region_of, weights=np.maximum(denom, 1.0), minlength=n_r)
                ds_c = ds_raw - float((r_abs / r_den).mean())
            terms["ds"] = coefs["ds"] * ds_c
        else:
            terms["ds"] = np.zeros(k)
        terms.update({"vra_t": coefs["vra_t"] * v_t, "vra_t1": coefs["vra_t1"] * v_1, "vra_t2": coefs["vra_t2"] * v_2})
        rate = sum(terms.values())
        if self.intercept:
            rate = rate + coefs["intercept"]
        balance_shift = population_weighted_mean(rate, pop) if self.balance else 0.0
        rate = rate - balance_shift
        self.records.append(pd.DataFrame({"year": year, "kommune": self.kommuner, **terms,
                                          "ds_raw": ds_raw, "balance_shift": balance_shift, "rate": rate}))
        self._prev_pop, self._prev_g_rel = pop, g_rel
        return rate

    def balance_shifts(self) -> dict[int, float]:
        """The last run's balancing constant per year (0 without ``balance``).

        Returns
        -------
        dict
            {year: population-weighted mean rate subtracted that year (fraction)}.
        """
        return {int(r["year"].iloc[0]): float(r["balance_shift"].iloc[0]) for r in self.records}

    def terms_table(self) -> pd.DataFrame:
        """The last run's model terms per year and kommune.

        Returns
        -------
        pandas.DataFrame
            year, kommune, sentny, ds, vra_t, vra_t1, vra_t2 (contributions, fractions of the
            population), ds_raw, balance_shift, rate.
        """
        return pd.concat(self.records, ignore_index=True) if self.records else pd.DataFrame()
