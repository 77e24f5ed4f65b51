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

National employment rates by age/sex are an **input** (the kommune files have no age detail);
:func:`illustrative_employment_rates` and :func:`illustrative_death_probabilities` are smooth
**ILLUSTRATIVE** schedules for demonstrations and tests only — replace them with SSB tables
(e.g. 13563 employment by age, 07902 life tables) for real analyses.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from centrality.errors import InputError
from geoproc.data.tables import check_known_codes, check_range, check_table, validate_jobs, validate_population_age_sex

AGE_FIRST, AGE_LAST = 14, 74


def illustrative_employment_rates() -> pd.DataFrame:
    """ILLUSTRATIVE national employment rates (fraction) by ``sex, age`` for ages 15–74.

    A smooth logistic rise (centre 18 years) times a logistic fall (centre 64 years), plateau
    0.86 (male) / 0.81 (female) — the rough shape and level of Norwegian rates, **not** SSB data.
    """
    age = np.arange(15, 75, dtype=float)
    shape = 1.0 / (1.0 + np.exp(-(age - 18.0) / 2.5)) / (1.0 + np.exp((age - 64.0) / 3.0))
    frames = [pd.DataFrame({"sex": sex, "age": age.astype(int), "rate": peak * shape})
              for sex, peak in (("female", 0.81), ("male", 0.86))]
    out = pd.concat(frames, ignore_index=True)
    out.attrs["illustrative"] = True
    return out


def illustrative_death_probabilities() -> pd.DataFrame:
    """ILLUSTRATIVE one-year death probabilities q (fraction) by ``sex, age`` 0–105.

    Gompertz–Makeham hazard ``μ = a + b·exp(c·age)``, ``q = 1 − exp(−μ)`` with
    (a, b, c) = (5e-4, 2.5e-5, 0.100) for males and (3e-4, 1.2e-5, 0.105) for females — a
    plausible shape, **not** a Norwegian life table.
    """
    age = np.arange(0, 106, dtype=float)
    frames = []
    for sex, (a, b, c) in (("female", (3e-4, 1.2e-5, 0.105)), ("male", (5e-4, 2.5e-5, 0.100))):
        frames.append(pd.DataFrame({"sex": sex, "age": age.astype(int), "q": 1.0 - np.exp(-(a + b * np.exp(c * age)))}))
    out = pd.concat(frames, ignore_index=True)
    out.attrs["illustrative"] = True
    return out


def calibrate_employment_rates(rates: pd.DataFrame, population: pd.DataFrame, employed: float) -> pd.DataFrame:
    """Scale ``rates`` so Σ P·e over ``population`` (sex, age, population) equals ``employed`` (persons)."""
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
    """Absolute demographic employment supply: ``year, <unit>, ds_abs`` (persons per year).

    ``population``: ``year, <unit>, sex, age, population`` (1 January, persons);
    ``employment_rates``: ``sex, age, rate`` (national, fraction, ages 15–74);
    ``death_probabilities``: ``sex, age, q`` (fraction, ages 14–74 at least).
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
    """DS per unit and year: ``year, <unit>, ds_abs (persons), jobs, ds_raw (fraction of jobs), ds (centred)``.

    ``jobs``: ``year, <unit>, <value>`` (jobs by place of work); year t uses jobs of year
    ``t + jobs_year_offset``. ``ds`` = ds_raw minus its mean over the units of the year.
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
