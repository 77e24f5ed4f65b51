"""Demographic employment supply DS (*demografisk sysselsettingstilbud*, MODEL.md §2.2).

``DS_abs,i,t = Σ_sex Σ_age=14..74 [ P·(e_age+1 − e_age) − P·q_age·e_age ]``  (persons per year)

P = population 1 January of year t by sex and single age, e = **national** employment rate
(fraction employed) by sex and age, q = death probability (fraction). The published formula prints
the death term as ``P·q`` (without e); multiplying by e ("loss from the labour market through
deaths") is our reading and the default (``death_term_times_e=True``); pass False for the
printed form. e is 0 outside ages 15–74 (the employment statistics cover 15–74), so age 14
contributes the entry into the labour force and age 74 the exit.

``DS_i,t = DS_abs,i,t / jobs_i,t`` (fraction of jobs), then centred by subtracting the mean over
all units of the year. Jobs of year t by default (as the spec writes ``jobs_i,t``);
``jobs_year_offset=-1`` uses the previous year's (4th-quarter) jobs, i.e. the start of year t.

National employment rates by age/sex are an **input** (the kommune files have no age detail).
For real data, :func:`employment_profile` is a documented age/sex profile from SSB's published
tables (below) and :func:`calibrated_employment_rates` scales it, year by year, so that the
national population by age × rate equals the employed persons of SSB table 11618 (the kommune
files' 15–74 total, 4th quarter). Death probabilities come from the national mortality file
(:mod:`geoproc.data.national`). :func:`illustrative_employment_rates` and
:func:`illustrative_death_probabilities` are smooth **ILLUSTRATIVE** schedules kept for the
synthetic demo and unit tests only.

The age profile (:data:`EMPLOYMENT_ANCHORS`), and why: DS depends on the *differences*
e(a+1) − e(a), i.e. on where in the age range people enter and leave work, so the shape matters
more than the level (the level is calibrated to 11618 each year). SSB publishes labour-force and
employment rates by sex only for age groups. We use the Labour Force Survey (AKU) 2017 annual
averages of labour-force participation by sex for 15–19, 20–24, 25–29, 30–39 and 40–54 (SSB table
"Arbeidsstyrken 15-74 år, etter alder og kjønn", ssb.no/337436), placed at the group mid-points,
and, for the exit from work where single years matter most, AKU single-year employment rates by
sex for 55–59 and each age 60–66 (SSB, Samfunnsspeilet 5/2005, table 1, year 2004) shifted by a
constant so that their 55–66 mean equals the AKU 2017 55–66 group (men 72.6 %, women 64.6 %; the
2011 pension reform raised late-career employment), and for 67–74 a straight line whose mean equals the AKU 2017 group
(men 16.9 %, women 7.9 %). Rates between anchors are interpolated linearly; e = 0 below 15 and
above 74 (11618 covers 15–74). Labour-force participation is used for the younger groups because
AKU publishes employment by sex only for 15–24 and 25–66; the difference (unemployment, highest
for the young) changes the level more than the shape, and the level is calibrated.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from centrality.errors import InputError
from geoproc.data.tables import check_known_codes, check_range, check_table, validate_jobs, validate_population_age_sex
from geoproc.model.netmigration import population_cube

AGE_FIRST, AGE_LAST = 14, 74

_M_5566_2004 = {57: 80.0, 60: 76.0, 61: 75.0, 62: 62.0, 63: 48.0, 64: 46.0, 65: 37.0, 66: 35.0}
_F_5566_2004 = {57: 70.0, 60: 68.0, 61: 61.0, 62: 50.0, 63: 39.0, 64: 38.0, 65: 31.0, 66: 30.0}


def _scaled_5566(values: dict[int, float], group_mean_2017: float) -> dict[int, float]:
    """Single-year 2004 rates (55–59 at 57, then 60..66) shifted (additively) to the 2017 55–66 mean."""
    mean_2004 = (5 * values[57] + sum(values[a] for a in range(60, 67))) / 12.0
    return {a: v + group_mean_2017 - mean_2004 for a, v in values.items()}


#: Employment-rate anchors (percent) by sex: age -> rate (module docstring for the sources).
EMPLOYMENT_ANCHORS: dict[str, dict[int, float]] = {
    "male": {15: 0.0, 17: 37.3, 22: 70.6, 27: 83.4, 34: 89.7, 47: 88.2,
             **_scaled_5566(_M_5566_2004, 72.6), 67: 16.9 + 9.0, 74: 16.9 - 9.0},
    "female": {15: 0.0, 17: 40.3, 22: 67.6, 27: 81.3, 34: 83.8, 47: 83.8,
               **_scaled_5566(_F_5566_2004, 64.6), 67: 7.9 + 5.0, 74: 7.9 - 5.0},
}


def employment_profile() -> pd.DataFrame:
    """Documented national employment-rate profile by sex and age (uncalibrated).

    Linear interpolation of :data:`EMPLOYMENT_ANCHORS` (module docstring for the sources); age 15 is
    half of age 16 (few 15-year-olds work). Calibrate the level with :func:`calibrated_employment_rates`.

    Returns
    -------
    pandas.DataFrame
        sex, age (15..74), rate (fraction employed); ``attrs['source']`` names the sources.
    """
    ages = np.arange(15, 75)
    frames = []
    for sex in ("female", "male"):
        anchors = EMPLOYMENT_ANCHORS[sex]
        xs = np.array(sorted(anchors))
        ys = np.array([anchors[a] for a in xs]) / 100.0
        rate = np.interp(ages, xs, ys)
        rate[ages == 15] = 0.5 * np.interp(16, xs, ys)  # age 15: half of 16 (few 15-year-olds work)
        frames.append(pd.DataFrame({"sex": sex, "age": ages, "rate": rate}))
    out = pd.concat(frames, ignore_index=True)
    out.attrs["source"] = ("SSB AKU 2017 labour-force participation by sex and age group; AKU 2004 single-year "
                           "employment 55–66 rescaled to 2017; see geoproc.model.ds")
    return out


def employment_array(rates: pd.DataFrame) -> np.ndarray:
    """Employment rates as an array.

    Parameters
    ----------
    rates : pandas.DataFrame
        sex, age, rate (fractions).

    Returns
    -------
    numpy.ndarray
        (2, 106) = (female, male) × age 0..105, 0 where not given.
    """
    out = np.zeros((2, 106))
    s = pd.Index(["female", "male"]).get_indexer(rates["sex"].astype(str))
    a = rates["age"].to_numpy(dtype=int)
    ok = (s >= 0) & (a >= 0) & (a <= 105)
    out[s[ok], a[ok]] = rates["rate"].to_numpy(dtype=float)[ok]
    return out


def calibrated_employment_rates(population: pd.DataFrame, employment: pd.DataFrame,
                                profile: pd.DataFrame | None = None, *, years=None,
                                employed_col: str = "employed_by_residence") -> pd.DataFrame:
    """National employment rates per year, the profile scaled to SSB 11618.

    ``profile`` × a factor per year such that Σ_kommuner,sex,age P(1 January t+1) · rate = Σ_kommuner
    employed_t (SSB 11618, 4th quarter t ≈ 1 January t+1). Years outside the employment table use
    the factor of the nearest year (``scale_year`` says which). Rates are capped at 1.

    Parameters
    ----------
    population : pandas.DataFrame
        year, kommune, sex, age, population (1 January, persons).
    employment : pandas.DataFrame
        year, kommune and the employed column (persons).
    profile : pandas.DataFrame, optional
        sex, age, rate; default :func:`employment_profile`.
    years : iterable of int, optional
        Years wanted (default the population's).
    employed_col : str, default "employed_by_residence"
        The employed column of ``employment``.

    Returns
    -------
    pandas.DataFrame
        year, sex, age, rate (fraction), scale, scale_year.
    """
    profile = employment_profile() if profile is None else profile
    check_table(employment, ["year", "kommune", employed_col], "employment table")
    emp = employment.groupby("year")[employed_col].sum().astype(float)
    pop = population.groupby(["year", "sex", "age"], as_index=False)["population"].sum()
    e_years = sorted(int(y) for y in emp.index)
    years = sorted(int(y) for y in (pop["year"].unique() if years is None else years))
    scales = {}
    for y in e_years:
        p = pop[pop["year"] == y + 1]
        if p.empty:
            p = pop[pop["year"] == y]
        implied = float((p.merge(profile, on=["sex", "age"])[["population", "rate"]].prod(axis=1)).sum())
        if implied <= 0:
            raise InputError(f"cannot calibrate employment rates for {y}: no population aged 15–74.")
        scales[y] = emp[y] / implied
    frames = []
    for y in years:
        sy = min(e_years, key=lambda e: (abs(e - y), -e))
        frames.append(profile.assign(year=y, rate=(profile["rate"] * scales[sy]).clip(upper=1.0), scale=scales[sy],
                                     scale_year=sy))
    out = pd.concat(frames, ignore_index=True)[["year", "sex", "age", "rate", "scale", "scale_year"]]
    out.attrs["source"] = profile.attrs.get("source", "") + "; level calibrated to SSB 11618 employed persons"
    return out


def ds_abs_array(pop: np.ndarray, e: np.ndarray, q: np.ndarray, *, death_term_times_e: bool = True) -> np.ndarray:
    """DS_abs per unit from arrays: the same sum as :func:`ds_abs` over ages 14..74 (e = 0 outside 15..74).

    Parameters
    ----------
    pop : numpy.ndarray
        (k, 2, 106) persons on 1 January.
    e : numpy.ndarray
        (2, 106) national employment rates (fractions).
    q : numpy.ndarray
        (2, 106) death probabilities (fractions).
    death_term_times_e : bool, default True
        The death term as P·q·e (our reading) or P·q (the printed formula).

    Returns
    -------
    numpy.ndarray
        (k,) persons per year.
    """
    ages = np.arange(AGE_FIRST, AGE_LAST + 1)
    e = np.asarray(e, dtype=float).copy()
    e[:, :15] = 0.0
    e[:, 75:] = 0.0
    gain = e[:, ages + 1] - e[:, ages]
    loss = q[:, ages] * (e[:, ages] if death_term_times_e else 1.0)
    return (pop[:, :, ages] * (gain - loss)[None]).sum(axis=(1, 2))


def illustrative_employment_rates() -> pd.DataFrame:
    """ILLUSTRATIVE national employment rates by sex and age 15–74 (demo and unit tests only).

    A smooth logistic rise (centre 18 years) times a logistic fall (centre 64 years), plateau 0.86
    (male) / 0.81 (female) — the rough shape and level of Norwegian rates, **not** SSB data.

    Returns
    -------
    pandas.DataFrame
        sex, age, rate (fraction); ``attrs['illustrative']`` is True.
    """
    age = np.arange(15, 75, dtype=float)
    shape = 1.0 / (1.0 + np.exp(-(age - 18.0) / 2.5)) / (1.0 + np.exp((age - 64.0) / 3.0))
    frames = [pd.DataFrame({"sex": sex, "age": age.astype(int), "rate": peak * shape})
              for sex, peak in (("female", 0.81), ("male", 0.86))]
    out = pd.concat(frames, ignore_index=True)
    out.attrs["illustrative"] = True
    return out


def illustrative_death_probabilities() -> pd.DataFrame:
    """ILLUSTRATIVE one-year death probabilities by sex and age 0–105 (demo and unit tests only).

    Gompertz–Makeham hazard ``μ = a + b·exp(c·age)``, ``q = 1 − exp(−μ)`` with (a, b, c) = (5e-4,
    2.5e-5, 0.100) for males and (3e-4, 1.2e-5, 0.105) for females — a plausible shape, **not** a
    Norwegian life table (use :mod:`geoproc.data.national` for that).

    Returns
    -------
    pandas.DataFrame
        sex, age, q (fraction); ``attrs['illustrative']`` is True.
    """
    age = np.arange(0, 106, dtype=float)
    frames = []
    for sex, (a, b, c) in (("female", (3e-4, 1.2e-5, 0.105)), ("male", (5e-4, 2.5e-5, 0.100))):
        frames.append(pd.DataFrame({"sex": sex, "age": age.astype(int), "q": 1.0 - np.exp(-(a + b * np.exp(c * age)))}))
    out = pd.concat(frames, ignore_index=True)
    out.attrs["illustrative"] = True
    return out


def calibrate_employment_rates(rates: pd.DataFrame, population: pd.DataFrame, employed: float) -> pd.DataFrame:
    """Scale rates so that Σ P·e over a population equals a number of employed persons.

    Parameters
    ----------
    rates : pandas.DataFrame
        sex, age, rate (fractions).
    population : pandas.DataFrame
        sex, age, population (persons).
    employed : float
        Target employed persons.

    Returns
    -------
    pandas.DataFrame
        The rates scaled (capped at 1).
    """
    check_table(population, ["sex", "age", "population"], "population table")
    merged = population.merge(rates, on=["sex", "age"], how="inner")
    implied = float((merged["population"] * merged["rate"]).sum())
    if implied <= 0:
        raise InputError("cannot calibrate employment rates: the population has nobody at ages with a rate > 0.")
    out = rates.assign(rate=(rates["rate"] * employed / implied).clip(upper=1.0))
    out.attrs = dict(rates.attrs)
    return out


def _rate_lookup(table: pd.DataFrame, col: str, what: str, ages: range, sexes) -> pd.DataFrame:
    check_table(table, ["sex", "age", col], what, f"Expected columns sex ('female'/'male'), age, {col}.")
    check_range(table, col, 0, 1, what, ["sex", "age"],
                fix=f"{col} is a fraction 0–1 per person: convert percent to fractions (divide by 100).")
    check_known_codes(sexes, table["sex"].unique(), f"{what} sex values", "Give rates for both 'female' and 'male'.")
    have = table.set_index(["sex", "age"])[col]
    missing = [(s, a) for s in sexes for a in ages if (s, a) not in have.index]
    if missing:
        raise InputError(f"{what}: no {col} for {len(missing)} sex/age cells, e.g. {missing[:5]}. "
                         f"Give every age {ages.start}–{ages.stop - 1} for each sex.")
    return have


def ds_abs(population: pd.DataFrame, employment_rates: pd.DataFrame, death_probabilities: pd.DataFrame, *,
           unit: str = "kommune", death_term_times_e: bool = True) -> pd.DataFrame:
    """Absolute demographic employment supply per unit and year (persons per year).

    Parameters
    ----------
    population : pandas.DataFrame
        year, <unit>, sex, age, population (1 January, persons).
    employment_rates : pandas.DataFrame
        sex, age, rate (national, fraction, ages 15–74).
    death_probabilities : pandas.DataFrame
        sex, age, q (fraction, ages 14–74 at least).
    unit : str, default "kommune"
        Unit column.
    death_term_times_e : bool, default True
        The death term as P·q·e (our reading) or P·q (the printed formula).

    Returns
    -------
    pandas.DataFrame
        year, <unit>, ds_abs (persons per year).
    """
    population = validate_population_age_sex(population, unit=unit)
    sexes = sorted(population["sex"].unique())
    e = _rate_lookup(employment_rates, "rate", "employment rates", range(15, 75), sexes)
    q = _rate_lookup(death_probabilities, "q", "death probabilities", range(AGE_FIRST, AGE_LAST + 1), sexes)
    pop = population[population["age"].between(AGE_FIRST, AGE_LAST)]
    sex, age = pop["sex"].to_numpy(), pop["age"].to_numpy()

    def lookup(series: pd.Series, ages: np.ndarray) -> np.ndarray:
        idx = pd.MultiIndex.from_arrays([sex, ages])
        return series.reindex(idx).fillna(0.0).to_numpy()  # e = 0 outside 15–74 by definition

    e_now, e_next = lookup(e, age), lookup(e, age + 1)
    e_now = np.where((age >= 15) & (age <= 74), e_now, 0.0)
    e_next = np.where((age + 1 >= 15) & (age + 1 <= 74), e_next, 0.0)
    death = lookup(q, age) * (e_now if death_term_times_e else 1.0)
    p = pop["population"].to_numpy(dtype=float)
    contrib = p * (e_next - e_now) - p * death
    out = (pd.DataFrame({"year": pop["year"].to_numpy(), unit: pop[unit].to_numpy(), "ds_abs": contrib})
           .groupby(["year", unit], as_index=False)["ds_abs"].sum())
    return out


def demographic_supply(population: pd.DataFrame, jobs: pd.DataFrame, employment_rates: pd.DataFrame,
                       death_probabilities: pd.DataFrame, *, unit: str = "kommune", value: str = "jobs",
                       death_term_times_e: bool = True, jobs_year_offset: int = 0) -> pd.DataFrame:
    """DS per unit and year relative to jobs, centred over the units.

    Parameters
    ----------
    population : pandas.DataFrame
        year, <unit>, sex, age, population (1 January).
    jobs : pandas.DataFrame
        year, <unit>, <value> (jobs by place of work); year t uses the jobs of ``t + jobs_year_offset``.
    employment_rates : pandas.DataFrame
        sex, age, rate.
    death_probabilities : pandas.DataFrame
        sex, age, q.
    unit : str, default "kommune"
        Unit column.
    value : str, default "jobs"
        Jobs column.
    death_term_times_e : bool, default True
        See :func:`ds_abs`.
    jobs_year_offset : int, default 0
        −1 uses the previous year's (4th-quarter) jobs, i.e. the start of year t.

    Returns
    -------
    pandas.DataFrame
        year, <unit>, ds_abs (persons), jobs, ds_raw (fraction of jobs), ds (ds_raw minus its mean
        over the units of the year).
    """
    absolute = ds_abs(population, employment_rates, death_probabilities, unit=unit,
                      death_term_times_e=death_term_times_e)
    j = validate_jobs(jobs, col=value, unit=unit)[["year", unit, value]].rename(columns={value: "jobs"})
    j = j.assign(year=j["year"] - int(jobs_year_offset))
    out = absolute.merge(j, on=["year", unit], how="left")
    missing = out["jobs"].isna()
    if missing.any():
        rows = out.loc[missing, ["year", unit]].head(5).to_dict("records")
        raise InputError(f"DS needs jobs for every unit and year of the population table; missing for "
                         f"{int(missing.sum())} rows, e.g. {rows} (jobs_year_offset={jobs_year_offset}). "
                         "Add those jobs or restrict the population years.")
    if (out["jobs"] <= 0).any():
        raise InputError(f"DS is undefined for units with 0 jobs: {out.loc[out['jobs'] <= 0, [unit, 'year']].head(5).to_dict('records')}.")
    out["ds_raw"] = out["ds_abs"] / out["jobs"]
    out["ds"] = out["ds_raw"] - out.groupby("year")["ds_raw"].transform("mean")
    return out


def national_demographic_supply(population: pd.DataFrame, employment: pd.DataFrame, jobs: pd.DataFrame, national,
                                years, *, unit: str = "kommune", regions: pd.DataFrame | None = None,
                                denominator: str = "employed", centring: str = "kommuner") -> pd.DataFrame:
    """DS per unit and year with the national schedules of real data.

    Employment rates: :func:`employment_profile` calibrated to SSB 11618 each year
    (:func:`calibrated_employment_rates`); death probabilities of each year.

    Parameters
    ----------
    population : pandas.DataFrame
        year, kommune, sex, age, population (1 January).
    employment : pandas.DataFrame
        year, kommune, employed_by_residence (SSB 11618).
    jobs : pandas.DataFrame
        year, kommune, jobs.
    national : geoproc.data.national.NationalDemography
        Death probabilities by year.
    years : iterable of int
        Model years.
    unit : {"kommune", "region"}, default "kommune"
        ``"region"`` sums kommuner with ``regions``.
    regions : pandas.DataFrame, optional
        kommune, region (needed for regions and for centring over regions).
    denominator : {"employed", "jobs"}, default "employed"
        Employed residents (for commuter kommuner the sensible scale) or jobs (the spec's printed form).
    centring : {"kommuner", "regions"}, default "kommuner"
        The units whose mean DS is subtracted each year ('regions' = the published model's
        estimation units).

    Returns
    -------
    pandas.DataFrame
        year, <unit>, ds_abs (persons), ds_raw (fraction), ds (centred).
    """
    if denominator not in ("employed", "jobs"):
        raise InputError(f"DS denominator must be 'employed' or 'jobs', not {denominator!r}.")
    if (unit == "region" or centring == "regions") and regions is None:
        raise InputError("DS by region (or centred over regions) needs the regions table (kommune, region).")
    years = sorted(int(y) for y in years)
    pop = population[population["year"].isin(years)]
    rates = calibrated_employment_rates(population, employment, years=years)
    cube, cyears, kommuner = population_cube(pop)
    missing = sorted(set(years) - set(cyears))
    if missing:
        raise InputError(f"DS needs the population by age and sex on 1 January of {missing}.")
    reg = None if regions is None else regions.set_index("kommune")["region"].reindex(kommuner).to_numpy()
    emp = employment.set_index(["year", "kommune"])["employed_by_residence"]
    job = jobs.set_index(["year", "kommune"])["jobs"]
    rows = []
    for i, y in enumerate(cyears):
        e = employment_array(rates[rates["year"] == y])
        absolute = ds_abs_array(np.nan_to_num(cube[i]), e, national.q_array(y))
        source = emp if denominator == "employed" else job
        den = source.reindex(pd.MultiIndex.from_product([[y], kommuner])).to_numpy(float)
        if np.isnan(den).any():
            bad = [k for k, d in zip(kommuner, den) if np.isnan(d)][:5]
            raise InputError(f"DS for {y} needs the {'employed residents' if denominator == 'employed' else 'jobs'} "
                             f"of every kommune (SSB 11618); missing for {bad}.")
        frame = pd.DataFrame({"year": y, "kommune": kommuner, "ds_abs": absolute, "den": den})
        if reg is not None:
            frame["region"] = reg
            by_region = frame.groupby("region")[["ds_abs", "den"]].sum()
        if unit == "region":
            frame = by_region.reset_index().assign(year=y)
        frame["ds_raw"] = frame["ds_abs"] / frame["den"]
        mean = float((by_region["ds_abs"] / by_region["den"]).mean()) if centring == "regions" \
            else float(frame["ds_raw"].mean())
        frame["ds"] = frame["ds_raw"] - mean
        rows.append(frame[["year", unit, "ds_abs", "ds_raw", "ds"]])
    return pd.concat(rows, ignore_index=True)
