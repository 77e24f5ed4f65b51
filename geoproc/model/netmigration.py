"""Net migration per kommune and year: estimated by the cohort-component residual, or SSB's own.

**Estimate** (:func:`estimate_net_migration`), for every kommune k and year t (1 January t →
1 January t+1), from the population by sex and single age of one harmonised structure and the
national schedules of :mod:`geoproc.data.national`:

``NM_k,t = P_k,t+1 − P_k,t − B_k,t + D_k,t``  (persons)

- expected births ``Ê_k,t = Σ_a f_t(a) · (W_k,t,a + W_k,t,a−1)/2`` (national fertility f by age of
  mother × women; the mean of ages a and a−1 on 1 January approximates the women who are aged a
  during year t), times the kommune's **fertility level** ``F_k``, estimated from its
  0-year-olds: ``F_k = [Σ_t P0_k,t+1 / Σ_t Ê_k,t] / [Σ_k Σ_t P0_k,t+1 / Σ_k Σ_t Ê_k,t]`` over a
  centred window of ``fertility_window`` years (default 11; None = all years);
- expected deaths ``D̂_k,t = Σ_s,a P_k,t,s,a · (q_s,a + q_s,a+1)/2 + B_k,t,s · q_s,0 / 2`` (national
  death probabilities q; the average of ages a and a+1 because the cohort aged a on 1 January is
  aged a and then a+1 during the year; newborns are exposed half a year on average);
- **calibration**: births and deaths are scaled, year by year, so that the kommuner add up to the
  national births and deaths of the national files: ``B_k,t = B_t · F_k Ê_k,t / Σ_j F_j Ê_j,t`` and
  ``D_k,t = D_t · D̂_k,t / Σ_j D̂_j,t``. Hence Σ_k NM_k,t equals the national identity
  ``P_t+1 − P_t − B_t + D_t`` exactly (the national net migration). Years after the last year of
  the national births/deaths files use the expected numbers with the last schedules carried
  forward (``births_source``/``deaths_source`` say so).

Known error (documented in docs/usage-model.md): kommune deviations from national mortality are
not modelled (deaths are distributed by national rates; in a kommune with 10 % higher mortality the
error is 10 % of its deaths, about 0.1 % of its population per year); the fertility level absorbs
the net migration of infants born in the year (families moving with a newborn), so the estimate
misses that part of the kommune's net migration; single-year errors in small kommuner are of the
order of a few persons. Kommuner missing in a year of the population file (1160 Vindafjord and 1576
Aure in 2005) get no estimate for that year; the national total of that year is then the national
identity minus their expected share of births and deaths (estimated from the next year).

**SSB** (:func:`geoproc.data.assembly.read_ssb_net_migration`): when the user gives SSB's net migration per kommune
(table 09588, *nettoinnflytting inkl. inn- og utvandring*), it is used instead; the result's
``method`` says which was used.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from centrality.errors import InputError
from geoproc.data.assembly import read_ssb_net_migration
from geoproc.data.national import N_AGES, SEXES, NationalDemography, national_net_migration

METHOD_ESTIMATED = "estimated: cohort-component residual calibrated to the national identity (geoproc.model.netmigration)"
METHOD_SSB = "SSB net migration (table 09588 format), as given"


@dataclass
class NetMigration:
    """Net migration per kommune and year, with how it was obtained.

    - ``table``: year, kommune, population (1 January t), population_next (1 January t+1),
      births, deaths (persons in year t; estimated unless SSB data were given), net_migration
      (persons), rate (fraction of P_t), fertility_level
    - ``national``: year, population, population_next, births, deaths, net_migration, rate,
      births_source, deaths_source, kommune_sum (Σ over kommuner of ``table``), difference
    - ``by_age``: optional array (years, kommuner, 2, 106) of net migration by sex and age at the
      END of the year (age 0 = born in the year), persons; sums to ``table.net_migration``
    - ``method``: :data:`METHOD_ESTIMATED` or :data:`METHOD_SSB`; ``notes``: caveats for outputs
    """

    table: pd.DataFrame
    national: pd.DataFrame
    method: str
    notes: list[str] = field(default_factory=list)
    by_age: np.ndarray | None = None
    years: list[int] = field(default_factory=list)
    kommuner: list[str] = field(default_factory=list)

    def profile_table(self, years: Iterable[int] | None = None) -> pd.DataFrame:
        """Net migration by kommune, sex and end-of-year age, summed over years.

        Parameters
        ----------
        years : iterable of int, optional
            Years to sum (default all).

        Returns
        -------
        pandas.DataFrame
            kommune, sex, age, net_migration (persons).
        """
        if self.by_age is None:
            raise InputError("net migration by age is only available for the cohort-component estimate.")
        sel = [i for i, y in enumerate(self.years) if years is None or y in set(years)]
        arr = self.by_age[sel].sum(axis=0)
        idx = pd.MultiIndex.from_product([self.kommuner, SEXES, range(N_AGES)], names=["kommune", "sex", "age"])
        return pd.DataFrame({"net_migration": arr.reshape(-1)}, index=idx).reset_index()


# ------------------------------------------------------------------------------------------------
# arrays
# ------------------------------------------------------------------------------------------------
def population_cube(population: pd.DataFrame) -> tuple[np.ndarray, list[int], list[str]]:
    """Tidy population -> one array over years, kommuner, sex and age.

    Parameters
    ----------
    population : pandas.DataFrame
        year, kommune, sex, age, population (ages above 105 go to 105+).

    Returns
    -------
    cube : numpy.ndarray
        (years, kommuner, 2, 106) persons; kommuner absent in a year are NaN in that year.
    years : list of int
    kommuner : list of str
    """
    need = ["year", "kommune", "sex", "age", "population"]
    missing = [c for c in need if c not in population.columns]
    if missing:
        raise InputError(f"population by age and sex lacks columns {missing}; give {need}.")
    years = sorted(int(y) for y in population["year"].unique())
    kommuner = sorted(population["kommune"].astype(str).unique())
    y = pd.Index(years).get_indexer(population["year"].astype(int))
    k = pd.Index(kommuner).get_indexer(population["kommune"].astype(str))
    s = pd.Index(SEXES).get_indexer(population["sex"].astype(str))
    if (s < 0).any():
        raise InputError(f"population table has sex values {sorted(set(population['sex']) - set(SEXES))}; use female/male.")
    a = np.minimum(population["age"].to_numpy(dtype=int), N_AGES - 1)
    cube = np.zeros((len(years), len(kommuner), 2, N_AGES))
    np.add.at(cube, (y, k, s, a), population["population"].to_numpy(dtype=float))
    present = np.zeros((len(years), len(kommuner)), dtype=bool)
    present[y, k] = True
    cube[~present] = np.nan
    return cube, years, kommuner


def expected_births(pop: np.ndarray, fertility: np.ndarray) -> np.ndarray:
    """Expected births with national rates: Σ_a f(a)·(W_a + W_a−1)/2 per kommune.

    Parameters
    ----------
    pop : numpy.ndarray
        (k, 2, 106) persons on 1 January (women are index 0).
    fertility : numpy.ndarray
        (106,) births per woman-year by age.

    Returns
    -------
    numpy.ndarray
        (k,) births per year.
    """
    women = pop[:, 0, :]
    exposure = women.copy()
    exposure[:, 1:] = (women[:, 1:] + women[:, :-1]) / 2.0
    return exposure @ fertility


def expected_deaths_by_cell(pop: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Deaths of the 1 January population during the year: P · (q_a + q_a+1)/2.

    Parameters
    ----------
    pop : numpy.ndarray
        (k, 2, 106) persons.
    q : numpy.ndarray
        (2, 106) death probabilities.

    Returns
    -------
    numpy.ndarray
        (k, 2, 106) deaths (persons).
    """
    q_next = np.concatenate([q[:, 1:], q[:, -1:]], axis=1)
    return pop * ((q + q_next) / 2.0)[None]


def fertility_levels(cube: np.ndarray, years: Sequence[int], national: NationalDemography,
                     window: int | None = 11) -> np.ndarray:
    """Kommune fertility levels from 0-year-olds relative to expected births, normalised nationally.

    Parameters
    ----------
    cube : numpy.ndarray
        (years, k, 2, 106) from :func:`population_cube`.
    years : sequence of int
        The cube's years.
    national : NationalDemography
        National fertility.
    window : int or None, default 11
        Centred window of years pooled (None = all years).

    Returns
    -------
    numpy.ndarray
        (years − 1, k): row i is the level for ``years[i]`` (1 = national).
    """
    n = len(years) - 1
    exp_b = np.full((n, cube.shape[1]), np.nan)
    zeros = np.full((n, cube.shape[1]), np.nan)
    for i in range(n):
        f = national.f_array(years[i])
        exp_b[i] = expected_births(cube[i], f)
        zeros[i] = cube[i + 1][:, :, 0].sum(axis=1)
    ok = np.isfinite(exp_b) & np.isfinite(zeros)
    e = np.where(ok, exp_b, 0.0)
    z = np.where(ok, zeros, 0.0)
    out = np.empty((n, cube.shape[1]))
    for i in range(n):
        if window is None:
            lo, hi = 0, n
        else:
            half = int(window) // 2
            lo, hi = max(0, i - half), min(n, i + half + 1)
            if hi - lo < min(int(window), n):  # keep the window length at the ends
                lo, hi = (0, min(n, int(window))) if lo == 0 else (max(0, n - int(window)), n)
        es, zs = e[lo:hi].sum(axis=0), z[lo:hi].sum(axis=0)
        national_ratio = zs.sum() / es.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            out[i] = np.where(es > 0, zs / es / national_ratio, 1.0)
    return out


# ------------------------------------------------------------------------------------------------
# the estimate
# ------------------------------------------------------------------------------------------------
def estimate_net_migration(population: pd.DataFrame, national: NationalDemography, *,
                           years: Iterable[int] | None = None, fertility_window: int | None = 11,
                           keep_by_age: bool = True) -> NetMigration:
    """Cohort-component estimate of net migration per kommune and year (module docstring).

    Parameters
    ----------
    population : pandas.DataFrame
        year, kommune, sex, age, population on 1 January, ONE kommune structure
        (e.g. :func:`geoproc.data.dataset.load_dataset`).
    national : NationalDemography
        National schedules, births and deaths.
    years : iterable of int, optional
        Years t to estimate (each needs 1 January t+1); default all the table allows.
    fertility_window : int or None, default 11
        Window of the fertility levels (:func:`fertility_levels`).
    keep_by_age : bool, default True
        Keep net migration by sex and end-of-year age (``by_age``).

    Returns
    -------
    NetMigration
        method :data:`METHOD_ESTIMATED`; ``national`` shows that the kommuner add up to the national
        identity.
    """
    cube, all_years, kommuner = population_cube(population)
    if len(all_years) < 2:
        raise InputError("net migration needs the population on 1 January of at least two consecutive years.")
    if any(b - a != 1 for a, b in zip(all_years, all_years[1:])):
        raise InputError(f"population years {all_years} are not consecutive; give every year of the period.")
    wanted = set(all_years[:-1]) if years is None else {int(y) for y in years}
    bad = sorted(wanted - set(all_years[:-1]))
    if bad:
        raise InputError(f"net migration for {bad} needs the population on 1 January of those years and the next; "
                         f"the table has {all_years[0]}–{all_years[-1]}.")
    levels = fertility_levels(cube, all_years, national, fertility_window)
    share_boys = {}
    rows, nat_rows, by_age, est_years = [], [], [], []
    notes: list[str] = []
    for i, year in enumerate(all_years[:-1]):
        if year not in wanted:
            continue
        p0, p1 = cube[i], cube[i + 1]
        present = np.isfinite(p0).all(axis=(1, 2)) & np.isfinite(p1).all(axis=(1, 2))
        p0z, p1z = np.nan_to_num(p0), np.nan_to_num(p1)
        q, f = national.q_array(year), national.f_array(year)
        sb = share_boys.setdefault(year, national.share_boys([year]) if national.births_total(year) else
                                   national.share_boys())
        b_hat = levels[i] * expected_births(p0z, f)
        d_cells = expected_deaths_by_cell(p0z, q)
        infant_q = (1 - sb) * q[0, 0] / 2.0 + sb * q[1, 0] / 2.0  # newborns exposed half a year on average
        # national totals and, for kommuner absent this year, their share (from the next year present)
        b_nat, d_nat = national.births_total(year), national.deaths_total(year)
        b_src = d_src = "national file"
        if b_nat is None:
            b_nat, b_src = float(b_hat[present].sum()), "estimated (national fertility carried forward × women)"
        share_b = share_d = 1.0
        if not present.all():
            absent = ~present
            nb = levels[min(i + 1, len(levels) - 1)] * expected_births(p1z, national.f_array(year))
            nd = expected_deaths_by_cell(p1z, q).sum(axis=(1, 2))
            share_b = 1.0 - nb[absent].sum() / nb.sum()
            share_d = 1.0 - nd[absent].sum() / nd.sum()
            notes.append(f"{year}: kommuner {', '.join(np.asarray(kommuner)[absent])} are absent on 1 January {year} "
                         f"or {year + 1}; no estimate for them, and the national births/deaths are reduced by their "
                         f"expected share ({100 * (1 - share_b):.2f} % / {100 * (1 - share_d):.2f} %, from {year + 1})")
        births = np.where(present, b_nat * share_b * b_hat / b_hat[present].sum(), np.nan)
        d_hat = d_cells.sum(axis=(1, 2)) + np.nan_to_num(births) * infant_q
        if d_nat is None:
            d_nat, d_src = float(d_hat[present].sum()), "estimated (national mortality carried forward × population)"
        c_d = d_nat * share_d / d_hat[present].sum()
        deaths = np.where(present, c_d * d_hat, np.nan)
        nm = p1.sum(axis=(1, 2)) - p0.sum(axis=(1, 2)) - births + deaths
        if keep_by_age:
            births_sex = np.stack([births * (1 - sb), births * sb], axis=1)
            surv = p0z - c_d * d_cells
            aged = np.zeros_like(p0z)
            aged[:, :, 1:] = surv[:, :, :-1]
            aged[:, :, -1] += surv[:, :, -1]
            aged[:, :, 0] = np.nan_to_num(births_sex) * (1 - c_d * infant_q)
            cells = p1z - aged
            cells[~present] = 0.0
            by_age.append(cells)
        est_years.append(year)
        p_start = p0.sum(axis=(1, 2))
        rows.append(pd.DataFrame({"year": year, "kommune": kommuner, "population": p_start,
                                  "population_next": p1.sum(axis=(1, 2)), "births": births, "deaths": deaths,
                                  "net_migration": nm, "rate": nm / p_start, "fertility_level": levels[i]})
                    [present])
        nat_nm = float(p1z[present].sum() - p0z[present].sum() - b_nat * share_b + d_nat * share_d)
        nat_rows.append({"year": year, "population": float(p0z[present].sum()),
                         "population_next": float(p1z[present].sum()), "births": b_nat * share_b,
                         "deaths": d_nat * share_d, "net_migration": nat_nm,
                         "rate": nat_nm / float(p0z[present].sum()), "births_source": b_src, "deaths_source": d_src,
                         "kommune_sum": float(np.nansum(nm)), "n_kommuner": int(present.sum())})
    table = pd.concat(rows, ignore_index=True)
    nat = pd.DataFrame(nat_rows)
    nat["difference"] = nat["kommune_sum"] - nat["net_migration"]
    carried = [y for y in est_years if national.births_total(y) is None or national.deaths_total(y) is None]
    if carried:
        notes.append(f"national births/deaths for {', '.join(map(str, carried))} are not in the national files: "
                     "expected numbers with the last schedules carried forward are used")
    notes += national.notes()
    return NetMigration(table=table, national=nat, method=METHOD_ESTIMATED, notes=notes,
                        by_age=np.stack(by_age) if keep_by_age else None, years=est_years, kommuner=kommuner)


# ------------------------------------------------------------------------------------------------
# kommune levels for projections (last-10-year deviations from the national schedules)
# ------------------------------------------------------------------------------------------------
@dataclass
class KommuneLevels:
    """A kommune's demographic deviations from the national schedules, for projections (MODEL.md §4).

    - ``fertility``: births relative to national fertility × women (1 = national), from 0-year-olds;
    - ``mortality``: deaths relative to national mortality (1 = national), from the survival of
      the population aged 75+ (see :func:`kommune_levels`);
    - ``migration_rates``: (k, 2, 106) net migrants per person by end-of-year sex and age (after
      survival and ageing), the kommune's historical net-migration age pattern;
    - ``years``: the calendar years pooled; ``kommuner``: codes in array order.
    """

    fertility: pd.Series
    mortality: pd.Series
    migration_rates: np.ndarray
    years: list[int]
    kommuner: list[str]
    notes: list[str] = field(default_factory=list)


def _smooth_ages(a: np.ndarray) -> np.ndarray:
    """Triangular 5-year moving average over the last (age) axis, ends held."""
    kern = np.array([1.0, 2.0, 3.0, 2.0, 1.0])
    pad = np.concatenate([a[..., :1], a[..., :1], a, a[..., -1:], a[..., -1:]], axis=-1)
    out = sum(k * pad[..., i:i + a.shape[-1]] for i, k in enumerate(kern))
    return out / kern.sum()


def kommune_levels(population: pd.DataFrame, national: NationalDemography, net_migration: NetMigration, *,
                   base_year: int, window: int = 10, old_age: int = 75, credibility: float = 100.0,
                   rate_credibility: float = 200.0) -> KommuneLevels:
    """Each kommune's fertility and mortality level and net-migration age pattern over the ``window``
    calendar years before ``base_year`` (base_year − window … base_year − 1).

    - fertility: as in :func:`fertility_levels`, pooled over the window;
    - mortality: without kommune death counts, deaths at ages ≥ ``old_age`` are read from the
      population itself, ``Σ P_t,a≥75 − Σ P_t+1,a≥76`` (net migration at those ages is small),
      divided by the same quantity expected from national mortality, normalised so that the national
      level is 1, and shrunk towards 1 by ``credibility`` expected deaths:
      ``M = (obs/ratio_nat + c) / (exp + c)``. Known error: net migration of the elderly (e.g. into
      care homes in a neighbour kommune) reads as mortality;
    - migration pattern: the cohort-component net migration by end-of-year sex and age summed over
      the window, smoothed over age (5-year triangular kernel) and divided by the people at risk
      (survivors aged x at the end of the year) plus ``rate_credibility`` person-years, so that thin
      cells of small kommuner shrink towards 0.

    Parameters
    ----------
    population : pandas.DataFrame
        year, kommune, sex, age, population (1 January), one structure.
    national : NationalDemography
        National schedules.
    net_migration : NetMigration
        The estimate with ``by_age`` (:func:`estimate_net_migration`).
    base_year : int
        The projection's base year.
    window : int, default 10
        Years before the base year.
    old_age : int, default 75
        First age of the mortality estimate.
    credibility : float, default 100
        Expected deaths of shrinkage towards 1.
    rate_credibility : float, default 200
        Person-years of shrinkage of the migration rates.

    Returns
    -------
    KommuneLevels
    """
    if net_migration.by_age is None:
        raise InputError("kommune levels need the cohort-component net migration by age "
                         "(estimate_net_migration(..., keep_by_age=True)).")
    cube, years, kommuner = population_cube(population)
    if kommuner != list(net_migration.kommuner):
        raise InputError("population and net migration cover different kommuner; use one harmonised dataset.")
    window_years = [y for y in range(int(base_year) - int(window), int(base_year))]
    missing = [y for y in window_years if y not in years or y + 1 not in years or y not in net_migration.years]
    if missing:
        raise InputError(f"kommune levels for base year {base_year} need the population on 1 January "
                         f"{window_years[0]}–{base_year} and net migration {window_years[0]}–{base_year - 1}; "
                         f"{missing} are not available. Choose a later base year or a shorter window.")
    yi = {y: i for i, y in enumerate(years)}
    e_b = np.zeros(len(kommuner))
    zeros = np.zeros(len(kommuner))
    obs = np.zeros(len(kommuner))
    exp_d = np.zeros(len(kommuner))
    at_risk = np.zeros((len(kommuner), 2, N_AGES))
    for y in window_years:
        p0, p1 = np.nan_to_num(cube[yi[y]]), np.nan_to_num(cube[yi[y] + 1])
        q = national.q_array(y)
        e_b += expected_births(p0, national.f_array(y))
        zeros += p1[:, :, 0].sum(axis=1)
        d_cells = expected_deaths_by_cell(p0, q)
        obs += p0[:, :, old_age:].sum(axis=(1, 2)) - p1[:, :, old_age + 1:].sum(axis=(1, 2))
        exp_d += d_cells[:, :, old_age:].sum(axis=(1, 2))
        surv = p0 - d_cells
        aged = np.zeros_like(p0)
        aged[:, :, 1:] = surv[:, :, :-1]
        aged[:, :, -1] += surv[:, :, -1]
        aged[:, :, 0] = p1[:, :, 0]
        at_risk += aged
    with np.errstate(divide="ignore", invalid="ignore"):
        fert = np.where(e_b > 0, (zeros / e_b) / (zeros.sum() / e_b.sum()), 1.0)
    ratio_nat = obs.sum() / exp_d.sum()
    mort = (obs / ratio_nat + credibility) / (exp_d + credibility)
    idx = [net_migration.years.index(y) for y in window_years]
    nm_age = net_migration.by_age[idx].sum(axis=0)
    rates = _smooth_ages(nm_age) / (_smooth_ages(at_risk) + rate_credibility)
    notes = [f"kommune fertility and mortality levels and migration age patterns from {window_years[0]}–"
             f"{window_years[-1]} (fertility from 0-year-olds, mortality from the survival of ages {old_age}+, "
             "both relative to national schedules; estimated, not observed births and deaths)"]
    return KommuneLevels(fertility=pd.Series(fert, index=kommuner, name="fertility_level"),
                         mortality=pd.Series(mort, index=kommuner, name="mortality_level"),
                         migration_rates=rates, years=window_years, kommuner=list(kommuner), notes=notes)


# ------------------------------------------------------------------------------------------------
# SSB's net migration
# ------------------------------------------------------------------------------------------------
def from_ssb(table: pd.DataFrame, population: pd.DataFrame) -> NetMigration:
    """Wrap SSB net migration as :class:`NetMigration` (method :data:`METHOD_SSB`).

    Parameters
    ----------
    table : pandas.DataFrame
        year, kommune, net_migration (persons).
    population : pandas.DataFrame
        year, kommune, population (1 January; [sex, age] summed); rows without a population get
        no rate and are left out of the national sums.

    Returns
    -------
    NetMigration
        ``national`` has Norway's rate per year over the kommuner with a population.
    """
    pop = population.groupby(["year", "kommune"], as_index=False)["population"].sum()
    t = table.merge(pop, on=["year", "kommune"], how="left")
    t["rate"] = t["net_migration"] / t["population"]
    known = t[t["population"].notna()]
    nat = known.groupby("year", as_index=False)[["net_migration", "population"]].sum()
    nat["rate"] = nat["net_migration"] / nat["population"]
    return NetMigration(table=t, national=nat, method=METHOD_SSB, notes=["net migration: SSB figures as given"])


__all__ = ["NetMigration", "estimate_net_migration", "from_ssb", "fertility_levels",
           "expected_births", "expected_deaths_by_cell", "population_cube", "national_net_migration",
           "METHOD_ESTIMATED", "METHOD_SSB"]
