"""Cohort-component population projection per kommune with attractiveness scenarios (MODEL.md §4).

One yearly step from 1 January of year t to 1 January of t+1, for every kommune at once
(numpy arrays ``kommune × sex × age``, sex order ``("female", "male")``, ages 0..105 where 105
means "105 or older"):

1. deaths   = P[k,s,a] · q[s,a] · mortality_factor[k]            (q = national death probability)
2. survivors age one year; survivors at 104 and 105+ both go to 105+ (the open age group);
3. births   = Σ_a=15..49 women[k,a] · f[a] · fertility_factor[k]  (f = national births per woman
   per year; start-of-year women), split by the sex ratio at birth 1.05 boys per girl (the
   long-run Norwegian value, about 51.2 % boys); newborns enter age 0. Deaths of infants born
   during the year are not modelled separately (births are "surviving births").
4. net migration (persons) = (national net immigration rate + expected domestic rate[k]
   + attractiveness level[k, scenario]) · P_total[k] (fractions of the start-of-year population),
   split by age and sex with a migration profile (non-negative weights): a net **inflow** goes to
   ages in proportion to the profile, a net **outflow** in proportion to profile × the population
   of that age (people can only leave where they live). If a cell would still become negative it
   is set to 0 and the shortfall is reported (``clipped``), so the identity
   ``P_t+1 = P_t − deaths + births + migration`` holds exactly with the migration actually applied.

Scenarios (MODEL.md §4): ``neutral`` (attractiveness 0), ``historical`` (the kommune's own mean
residential attractiveness over the last 10 years), ``high``/``low`` (the 80th/20th percentile of
that mean over all kommuner, the same level for every kommune). Attractiveness is zero-sum
nationally; the result reports the national sum (persons per year) of each scenario so the user
can see how far from zero-sum it is (``high`` cannot hold for all kommuner at once).

National assumptions are inputs (:class:`NationalAssumptions`). The defaults are ILLUSTRATIVE:
they are NOT SSB's projection (the MMM alternative is not part of our data):

- net immigration 0.2 % of the population per year (MODEL.md §4 gives this order of magnitude);
- fertility: a bell-shaped schedule over ages 15–49, mean age 31, s.d. 5.5 years, total fertility
  rate 1.55 (Norway 2021: 1.55);
- mortality: Gompertz–Makeham hazard μ(x) = 0.0002 + B·exp(0.105·x), q(x) = 1 − exp(−μ(x)), infant
  q(0) = 0.002, with B chosen so life expectancy at birth is about 84.9 (female) and 81.6 (male)
  years (Norway ~2021);
- migration age profile: the Rogers–Castro standard model schedule (childhood component 0.02·e^(−0.1x),
  labour component peaking near age 23, constant 0.003), equal for both sexes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from centrality.errors import Cancelled, InputError, require_columns

SEXES: tuple[str, str] = ("female", "male")
MAX_AGE = 105
N_AGES = MAX_AGE + 1
AGES = np.arange(N_AGES)
FERTILE_AGES = (15, 49)
SEX_RATIO_AT_BIRTH = 1.05
SCENARIOS: tuple[str, ...] = ("neutral", "historical", "high", "low")
ILLUSTRATIVE_LABEL = "ILLUSTRATIVE national assumptions (not SSB's projection)"

# Expected domestic net migration callback: (year, population[k, 2, 106]) -> fraction per kommune.
ExpectedFn = Callable[[int, np.ndarray], np.ndarray]


# ------------------------------------------------------------------------------------------------
# Illustrative national schedules
# ------------------------------------------------------------------------------------------------
def illustrative_fertility(tfr: float = 1.55, mean_age: float = 31.0, sd: float = 5.5) -> np.ndarray:
    """ILLUSTRATIVE births per woman per year by age (a bell curve over 15–49).

    Parameters
    ----------
    tfr : float, default 1.55
        Total fertility (births per woman).
    mean_age : float, default 31.0
        Mean age at birth (years).
    sd : float, default 5.5
        Standard deviation of the age at birth (years).

    Returns
    -------
    numpy.ndarray
        (106,) births per woman-year by age 0..105; zero outside 15–49; sums to ``tfr``.
    """
    f = np.zeros(N_AGES)
    ages = np.arange(FERTILE_AGES[0], FERTILE_AGES[1] + 1)
    shape = np.exp(-0.5 * ((ages - mean_age) / sd) ** 2)
    f[ages] = tfr * shape / shape.sum()
    return f


def gompertz_makeham_q(b: float, c: float = 0.105, a: float = 0.0002, q0: float = 0.002) -> np.ndarray:
    """Death probability by age 0..105 from the Gompertz–Makeham hazard a + b·exp(c·age).

    Parameters
    ----------
    b : float
        Gompertz level (per year).
    c : float, default 0.105
        Gompertz slope (per year of age).
    a : float, default 0.0002
        Makeham constant (per year).
    q0 : float, default 0.002
        Infant death probability.

    Returns
    -------
    numpy.ndarray
        (106,) q = 1 − exp(−μ), q(0) = ``q0``.
    """
    mu = a + b * np.exp(c * AGES)
    q = 1.0 - np.exp(-mu)
    q[0] = q0
    return q


def illustrative_mortality() -> np.ndarray:
    """ILLUSTRATIVE death probabilities; life expectancy at birth ≈ 84.9 (female) and 81.6 (male) years.

    Returns
    -------
    numpy.ndarray
        (2, 106) = (female, male) × age.
    """
    return np.vstack([gompertz_makeham_q(7.6117e-6), gompertz_makeham_q(1.08337e-5)])


def life_expectancy(q: np.ndarray) -> float:
    """Period life expectancy at birth from death probabilities by age 0..105.

    Deaths are assumed mid-year; the open age group lives 1/μ more years with μ = −ln(1 − q₁₀₅).

    Parameters
    ----------
    q : numpy.ndarray
        (106,) death probabilities.

    Returns
    -------
    float
        Years.
    """
    q = np.asarray(q, dtype=float)
    survivors = np.concatenate([[1.0], np.cumprod(1.0 - q)])
    person_years = (survivors[:-1] + survivors[1:]) / 2.0
    mu_open = -np.log(max(1.0 - q[-1], 1e-12))
    person_years[-1] = survivors[-2] / mu_open
    return float(person_years.sum())


def rogers_castro_profile() -> np.ndarray:
    """Default migration age/sex profile: the Rogers & Castro (1981) standard model schedule.

    m(x) = 0.02·e^(−0.1x) + 0.06·exp(−0.1(x−20) − e^(−0.4(x−20))) + 0.003, equal for both sexes.

    Returns
    -------
    numpy.ndarray
        (2, 106) non-negative weights summing to 1.
    """
    x = AGES.astype(float)
    m = 0.02 * np.exp(-0.1 * x) + 0.06 * np.exp(-0.1 * (x - 20.0) - np.exp(-0.4 * (x - 20.0))) + 0.003
    prof = np.vstack([m, m])
    return prof / prof.sum()


@dataclass(eq=False)
class NationalAssumptions:
    """National assumptions for the projection. Defaults are ILLUSTRATIVE (see module docstring).

    - ``net_immigration_rate``: net immigration from abroad, fraction of the population per year
      (scalar, or one value per projected year).
    - ``fertility``: births per woman per year by age of mother, shape (106,) or (n_years, 106).
    - ``mortality``: death probability in the year by sex (female, male) and age, shape (2, 106)
      or (n_years, 2, 106).
    - ``sex_ratio_at_birth``: boys per girl (1.05).
    """

    net_immigration_rate: float | Sequence[float] = 0.002
    fertility: np.ndarray = field(default_factory=illustrative_fertility)
    mortality: np.ndarray = field(default_factory=illustrative_mortality)
    sex_ratio_at_birth: float = SEX_RATIO_AT_BIRTH
    label: str = ILLUSTRATIVE_LABEL

    def schedules(self, n_steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Validated per-step arrays.

        Parameters
        ----------
        n_steps : int
            Number of projected years.

        Returns
        -------
        tuple of numpy.ndarray
            immigration (n,), fertility (n, 106), mortality (n, 2, 106).

        Raises
        ------
        InputError
            For wrong shapes or values out of range.
        """
        imm = np.broadcast_to(np.asarray(self.net_immigration_rate, dtype=float), (n_steps,)) \
            if np.ndim(self.net_immigration_rate) == 0 else np.asarray(self.net_immigration_rate, dtype=float)
        fert = np.asarray(self.fertility, dtype=float)
        mort = np.asarray(self.mortality, dtype=float)
        if imm.shape != (n_steps,):
            raise InputError(f"net_immigration_rate has {imm.size} values but the projection has {n_steps} years; "
                             "give one number or one per projected year.")
        fert = _per_step(fert, (N_AGES,), n_steps, "fertility", "births per woman by age 0..105")
        mort = _per_step(mort, (2, N_AGES), n_steps, "mortality", "death probabilities (female, male) × age 0..105")
        if not np.isfinite(fert).all() or (fert < 0).any():
            raise InputError("fertility has negative or missing values; give births per woman ≥ 0 for every age.")
        if not np.isfinite(mort).all() or (mort < 0).any() or (mort > 1).any():
            raise InputError("mortality must be death probabilities between 0 and 1 for every sex and age.")
        if not np.isfinite(imm).all() or (np.abs(imm) > 0.2).any():
            raise InputError("net_immigration_rate must be a fraction of the population (0.002 = 0.2 %/yr), |rate| < 0.2.")
        if not 0.5 < float(self.sex_ratio_at_birth) < 2.0:
            raise InputError("sex_ratio_at_birth is boys per girl (about 1.05); give a value between 0.5 and 2.")
        return imm, fert, mort


def _per_step(arr: np.ndarray, shape: tuple[int, ...], n_steps: int, name: str, what: str) -> np.ndarray:
    if arr.shape == shape:
        return np.broadcast_to(arr, (n_steps, *shape))
    if arr.shape == (n_steps, *shape):
        return arr
    raise InputError(f"{name} has shape {arr.shape}; expected {shape} ({what}) or ({n_steps}, {', '.join(map(str, shape))}) "
                     "for one schedule per projected year.")


# ------------------------------------------------------------------------------------------------
# Table <-> array conversion
# ------------------------------------------------------------------------------------------------
def population_array(population: pd.DataFrame, year: int | None = None) -> tuple[np.ndarray, list[str], int]:
    """Tidy population -> array for one year.

    Ages above 105 are added to 105+; missing (kommune, sex, age) cells count as 0; NULL or negative
    populations are an error.

    Parameters
    ----------
    population : pandas.DataFrame
        year, kommune, sex, age, population.
    year : int, optional
        Default: the latest year in the table.

    Returns
    -------
    array : numpy.ndarray
        (k, 2, 106) persons.
    kommuner : list of str
    year : int
    """
    require_columns(population.columns, ["year", "kommune", "sex", "age", "population"], "population table",
                    "Give the tidy layout year, kommune, sex (female/male), age (0..105), population.")
    df = population
    if year is None:
        year = int(pd.to_numeric(df["year"]).max())
    df = df[pd.to_numeric(df["year"]) == year]
    if df.empty:
        years = sorted(pd.to_numeric(population["year"]).unique().tolist())
        raise InputError(f"population table has no rows for year {year}; years present: {years}. Choose one of them.")
    if df["population"].isna().any():
        raise InputError("population table has NULL populations; fill them (0 for empty cells) before projecting.")
    bad_sex = sorted(set(df["sex"].astype(str)) - set(SEXES))
    if bad_sex:
        raise InputError(f"population table has sex values {bad_sex}; use 'female' and 'male'.")
    pop = pd.to_numeric(df["population"], errors="coerce")
    if pop.isna().any() or (pop < 0).any():
        raise InputError("population table has non-numeric or negative populations; give persons ≥ 0.")
    age = pd.to_numeric(df["age"], errors="coerce")
    if age.isna().any() or (age < 0).any():
        raise InputError("population table has missing or negative ages; give single years 0..105 (105 = 105+).")
    kommune = df["kommune"].astype(str)
    kommuner = sorted(kommune.unique())
    k_idx = pd.Index(kommuner).get_indexer(kommune)
    s_idx = pd.Index(SEXES).get_indexer(df["sex"].astype(str))
    a_idx = np.minimum(age.to_numpy(dtype=int), MAX_AGE)
    arr = np.zeros((len(kommuner), 2, N_AGES))
    np.add.at(arr, (k_idx, s_idx, a_idx), pop.to_numpy(dtype=float))
    return arr, kommuner, int(year)


def _kommune_vector(values, kommuner: list[str], name: str, default: float) -> np.ndarray:
    """Per-kommune values (scalar, array in kommune order, Series/dict by kommune code) -> (k,)."""
    if values is None:
        return np.full(len(kommuner), float(default))
    if np.ndim(values) == 0 and not isinstance(values, Mapping):
        return np.full(len(kommuner), float(values))
    if isinstance(values, (pd.Series, Mapping)):
        series = pd.Series(values)
        series.index = series.index.astype(str)
        missing = [k for k in kommuner if k not in series.index]
        if missing:
            raise InputError(f"{name} has no value for kommune(r) {missing[:5]}{' …' if len(missing) > 5 else ''}; "
                             f"give one value per kommune in the population table.")
        out = series.reindex(kommuner).to_numpy(dtype=float)
    else:
        out = np.asarray(values, dtype=float)
        if out.shape != (len(kommuner),):
            raise InputError(f"{name} has {out.size} values for {len(kommuner)} kommuner; give one per kommune.")
    if not np.isfinite(out).all():
        raise InputError(f"{name} has NULL/NaN values; give a number for every kommune.")
    return out


def migration_profile_array(profile, kommuner: list[str]) -> np.ndarray:
    """Migration age/sex weights -> one array per kommune, each kommune's weights summing to 1.

    Parameters
    ----------
    profile : None, numpy.ndarray or pandas.DataFrame
        None (Rogers–Castro default), an array (2, 106) for all kommuner or (k, 2, 106), or a tidy
        table kommune, sex, age, weight (e.g. a kommune's historical gross migration counts; kommuner
        absent from the table get the default profile).
    kommuner : list of str
        Order of the rows.

    Returns
    -------
    numpy.ndarray
        (k, 2, 106).
    """
    default = rogers_castro_profile()
    if profile is None:
        out = np.broadcast_to(default, (len(kommuner), 2, N_AGES)).copy()
    elif isinstance(profile, pd.DataFrame):
        require_columns(profile.columns, ["kommune", "sex", "age", "weight"], "migration profile table",
                        "Give kommune, sex (female/male), age (0..105) and weight (≥ 0, e.g. gross movers).")
        out = np.zeros((len(kommuner), 2, N_AGES))
        k = pd.Index(kommuner).get_indexer(profile["kommune"].astype(str))
        s = pd.Index(SEXES).get_indexer(profile["sex"].astype(str))
        a = np.minimum(pd.to_numeric(profile["age"]).to_numpy(dtype=int), MAX_AGE)
        keep = (k >= 0) & (s >= 0)
        np.add.at(out, (k[keep], s[keep], a[keep]), pd.to_numeric(profile["weight"]).to_numpy(dtype=float)[keep])
        empty = out.sum(axis=(1, 2)) <= 0
        out[empty] = default
    else:
        arr = np.asarray(profile, dtype=float)
        if arr.shape == (2, N_AGES):
            out = np.broadcast_to(arr, (len(kommuner), 2, N_AGES)).copy()
        elif arr.shape == (len(kommuner), 2, N_AGES):
            out = arr.copy()
        else:
            raise InputError(f"migration profile has shape {arr.shape}; give (2, 106) or ({len(kommuner)}, 2, 106).")
    if not np.isfinite(out).all() or (out < 0).any() or (out.sum(axis=(1, 2)) <= 0).any():
        raise InputError("migration profile weights must be finite, ≥ 0 and not all zero for a kommune.")
    return out / out.sum(axis=(1, 2), keepdims=True)


# ------------------------------------------------------------------------------------------------
# Scenarios
# ------------------------------------------------------------------------------------------------
def historical_attractiveness(attractiveness: pd.DataFrame, *, last_n_years: int = 10,
                              value_col: str = "attractiveness", end_year: int | None = None) -> pd.Series:
    """Each kommune's mean yearly residential attractiveness over its last years.

    Parameters
    ----------
    attractiveness : pandas.DataFrame
        year, kommune, <value_col> (fraction of population per year).
    last_n_years : int, default 10
        Years averaged.
    value_col : str, default "attractiveness"
        Value column.
    end_year : int, optional
        Last year of the window (default the table's last).

    Returns
    -------
    pandas.Series
        By kommune code (fraction per year), named ``historical_attractiveness``.
    """
    require_columns(attractiveness.columns, ["year", "kommune", value_col], "attractiveness table",
                    f"Give year, kommune and {value_col} (fraction of population per year).")
    years = pd.to_numeric(attractiveness["year"])
    end = int(years.max()) if end_year is None else int(end_year)
    window = attractiveness[(years > end - last_n_years) & (years <= end)]
    if window.empty:
        raise InputError(f"attractiveness table has no years in {end - last_n_years + 1}..{end}; "
                         "give the model's residual attractiveness for recent years.")
    out = window.groupby(window["kommune"].astype(str))[value_col].mean()
    out.name = "historical_attractiveness"
    return out


def scenario_levels(historical: pd.Series | Mapping[str, float], kommuner: Sequence[str] | None = None, *,
                    high_quantile: float = 0.8, low_quantile: float = 0.2) -> pd.DataFrame:
    """Attractiveness level per kommune and scenario (neutral, historical, high, low).

    Parameters
    ----------
    historical : pandas.Series or mapping
        Each kommune's historical level (fraction per year).
    kommuner : sequence of str, optional
        Kommuner to keep (all must have a level).
    high_quantile, low_quantile : float, default 0.8 and 0.2
        Quantiles of the historical levels over all kommuner (the same value for every kommune).

    Returns
    -------
    pandas.DataFrame
        Rows kommuner, columns neutral (0), historical, high, low (fractions per year).
    """
    hist = pd.Series(historical, dtype=float)
    hist.index = hist.index.astype(str)
    if kommuner is not None:
        missing = [k for k in kommuner if k not in hist.index]
        if missing:
            raise InputError(f"historical attractiveness has no value for kommune(r) {missing[:5]}; "
                             "give the last-10-year mean for every projected kommune.")
        hist = hist.reindex(list(kommuner))
    if hist.isna().any():
        raise InputError("historical attractiveness has NaN values; give a number for every kommune.")
    return pd.DataFrame({
        "neutral": 0.0,
        "historical": hist,
        "high": float(hist.quantile(high_quantile)),
        "low": float(hist.quantile(low_quantile)),
    }, index=hist.index)


# ------------------------------------------------------------------------------------------------
# The projection
# ------------------------------------------------------------------------------------------------
@dataclass
class StepResult:
    """Arrays of one yearly step for all kommuner (persons; shapes (k, 2, 106) or (k,))."""

    population: np.ndarray
    births: np.ndarray
    deaths: np.ndarray
    immigration: np.ndarray
    domestic_expected: np.ndarray
    attractiveness: np.ndarray
    migration: np.ndarray       # net migration actually applied (= planned − clipped)
    clipped: np.ndarray         # planned out-migration that could not be applied (empty cells)


def project_step(pop: np.ndarray, fertility: np.ndarray, mortality: np.ndarray, *, immigration_rate: float,
                 domestic_rate: np.ndarray, attractiveness_rate: np.ndarray, profile: np.ndarray,
                 fertility_factor: np.ndarray, mortality_factor: np.ndarray,
                 sex_ratio_at_birth: float = SEX_RATIO_AT_BIRTH,
                 migration_rates: np.ndarray | None = None) -> StepResult:
    """One year of the cohort-component model for all kommuner (see the module docstring).

    Parameters
    ----------
    pop : numpy.ndarray
        (k, 2, 106) persons on 1 January.
    fertility : numpy.ndarray
        (106,) births per woman-year.
    mortality : numpy.ndarray
        (2, 106) death probabilities.
    immigration_rate : float
        National net immigration, fraction of the start-of-year population.
    domestic_rate : numpy.ndarray
        (k,) expected domestic net migration (fractions).
    attractiveness_rate : numpy.ndarray
        (k,) the scenario's attractiveness level (fractions).
    profile : numpy.ndarray
        (k, 2, 106) migration age/sex weights.
    fertility_factor, mortality_factor : numpy.ndarray
        (k,) kommune deviations from the national schedules (multipliers).
    sex_ratio_at_birth : float, default 1.05
        Boys per girl.
    migration_rates : numpy.ndarray, optional
        (k, 2, 106) the kommune's historical net migration per person of each end-of-year sex and age
        (after survival and ageing); when given, the age pattern of net migration is
        ``aged · rates`` and only the difference between the planned total and Σ aged · rates is
        spread with ``profile``.

    Returns
    -------
    StepResult
        Persons: population on 1 January next year, births, deaths, the migration parts, clipped.
    """
    total = pop.sum(axis=(1, 2))
    q = np.clip(mortality[None, :, :] * mortality_factor[:, None, None], 0.0, 1.0)
    deaths_cell = pop * q
    survivors = pop - deaths_cell
    aged = np.zeros_like(pop)
    aged[:, :, 1:] = survivors[:, :, :-1]
    aged[:, :, MAX_AGE] += survivors[:, :, MAX_AGE]
    births = (pop[:, 0, :] * fertility[None, :]).sum(axis=1) * fertility_factor
    share_boys = sex_ratio_at_birth / (1.0 + sex_ratio_at_birth)
    aged[:, 0, 0] = births * (1.0 - share_boys)
    aged[:, 1, 0] = births * share_boys

    immigration = immigration_rate * total
    domestic = domestic_rate * total
    attract = attractiveness_rate * total
    planned = immigration + domestic + attract
    pattern = np.zeros_like(aged) if migration_rates is None else aged * migration_rates
    rest = planned - pattern.sum(axis=(1, 2))
    weighted = profile * aged
    norm = weighted.sum(axis=(1, 2), keepdims=True)
    out_weights = np.where(norm > 0, weighted / np.where(norm > 0, norm, 1.0), profile)
    weights = np.where(rest[:, None, None] >= 0, profile, out_weights)
    new = aged + pattern + rest[:, None, None] * weights
    shortfall = np.where(new < 0, -new, 0.0).sum(axis=(1, 2))
    new = np.maximum(new, 0.0)
    return StepResult(population=new, births=births, deaths=deaths_cell.sum(axis=(1, 2)), immigration=immigration,
                      domestic_expected=domestic, attractiveness=attract, migration=planned + shortfall,
                      clipped=shortfall)


@dataclass
class ProjectionResult:
    """Projection output. Arrays: ``arrays[scenario]`` (n_years + 1, k, 2, 106), index 0 = base year."""

    kommuner: list[str]
    years: list[int]                      # base year .. horizon
    arrays: dict[str, np.ndarray]
    components: pd.DataFrame              # year (start of step), kommune, scenario, population_start, births,
    #                                       deaths, immigration, domestic_expected, attractiveness, migration,
    #                                       clipped, population_end  (persons)
    levels: pd.DataFrame                  # attractiveness level per kommune × scenario (fraction per year)
    national_attractiveness: pd.DataFrame  # year, scenario, persons (national sum; 0 if zero-sum)
    assumptions_label: str = ILLUSTRATIVE_LABEL

    def population_frame(self, *, include_base: bool = False, by_age: bool = True) -> pd.DataFrame:
        """The projection as a tidy table (1 January; persons, float).

        Parameters
        ----------
        include_base : bool, default False
            Include the base year.
        by_age : bool, default True
            By sex and age; False sums over them.

        Returns
        -------
        pandas.DataFrame
            year, kommune, [sex, age,] population, scenario.
        """
        first = 0 if include_base else 1
        years = np.asarray(self.years[first:])
        frames = []
        for scen, arr in self.arrays.items():
            data = arr[first:]
            if by_age:
                idx = pd.MultiIndex.from_product([years, self.kommuner, SEXES, AGES], names=["year", "kommune", "sex", "age"])
                frame = pd.DataFrame({"population": data.reshape(-1)}, index=idx).reset_index()
            else:
                idx = pd.MultiIndex.from_product([years, self.kommuner], names=["year", "kommune"])
                frame = pd.DataFrame({"population": data.sum(axis=(2, 3)).reshape(-1)}, index=idx).reset_index()
            frame["scenario"] = scen
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def totals(self) -> pd.DataFrame:
        """Total population per year, kommune and scenario, base year included.

        Returns
        -------
        pandas.DataFrame
            year, kommune, population, scenario.
        """
        return self.population_frame(include_base=True, by_age=False)

    def summary(self) -> pd.DataFrame:
        """Growth over the projection per kommune and scenario.

        Returns
        -------
        pandas.DataFrame
            kommune, scenario, start_year, end_year, population_start, population_end, growth_pct (percent).
        """
        rows = []
        for scen, arr in self.arrays.items():
            start = arr[0].sum(axis=(1, 2))
            end = arr[-1].sum(axis=(1, 2))
            with np.errstate(divide="ignore", invalid="ignore"):
                growth = np.where(start > 0, 100.0 * (end / start - 1.0), np.nan)
            rows.append(pd.DataFrame({"kommune": self.kommuner, "scenario": scen, "start_year": self.years[0],
                                      "end_year": self.years[-1], "population_start": start,
                                      "population_end": end, "growth_pct": growth}))
        return pd.concat(rows, ignore_index=True)


def project(population: pd.DataFrame | np.ndarray, *, kommuner: Sequence[str] | None = None,
            base_year: int | None = None, horizon: int = 2040,
            assumptions: NationalAssumptions | None = None,
            expected_domestic: ExpectedFn | np.ndarray | pd.Series | float | None = None,
            historical: pd.Series | Mapping[str, float] | None = None,
            levels: pd.DataFrame | None = None,
            scenarios: Sequence[str] = SCENARIOS,
            fertility_factor=None, mortality_factor=None, migration_profile=None,
            migration_rates: np.ndarray | None = None,
            progress: Callable[[int, int], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> ProjectionResult:
    """Project the population of every kommune from ``base_year`` (1 January) to ``horizon``.

    Parameters
    ----------
    population : pandas.DataFrame or numpy.ndarray
        Tidy table (year, kommune, sex, age, population) or an array (k, 2, 106) with ``kommuner``
        and ``base_year``.
    kommuner : sequence of str, optional
        Codes of an array population.
    base_year : int, optional
        1 January of the base population (default: the table's latest year).
    horizon : int, default 2040
        1 January of the last year.
    assumptions : NationalAssumptions, optional
        National fertility, mortality, immigration (default ILLUSTRATIVE).
    expected_domestic : callable, array, Series, float or None
        The model's expected domestic net migration, fraction of the population per year: a constant
        (scalar, per-kommune array/Series) or a callable ``f(year, population[k,2,106]) -> (k,)``
        evaluated each year on the projected population (e.g.
        :class:`geoproc.model.migration_model.ProjectionMigration`). None = 0.
    historical : pandas.Series or mapping, optional
        Each kommune's recent mean attractiveness (fraction per year); needed for the
        historical/high/low scenarios.
    levels : pandas.DataFrame, optional
        Levels per kommune × scenario directly (instead of ``historical``).
    scenarios : sequence of str
        Scenarios to project.
    fertility_factor, mortality_factor : optional
        Kommune deviations from the national schedules (multipliers, default 1): scalar, array or
        Series by kommune.
    migration_profile : optional
        See :func:`migration_profile_array`.
    migration_rates : numpy.ndarray, optional
        (k, 2, 106) historical net-migration rates by sex and end-of-year age (see :func:`project_step`).
    progress : callable, optional
        ``progress(done, total)`` per projected year and scenario.
    should_stop : callable, optional
        True raises Cancelled.

    Returns
    -------
    ProjectionResult
    """
    assumptions = assumptions or NationalAssumptions()
    if isinstance(population, pd.DataFrame):
        pop0, kommuner, base_year = population_array(population, base_year)
    else:
        pop0 = np.asarray(population, dtype=float)
        if kommuner is None or base_year is None:
            raise InputError("an array population needs kommuner=[codes] and base_year=YEAR (1 January).")
        kommuner = [str(k) for k in kommuner]
        if pop0.shape != (len(kommuner), 2, N_AGES) or not np.isfinite(pop0).all() or (pop0 < 0).any():
            raise InputError(f"population array must be finite, ≥ 0 and of shape ({len(kommuner)}, 2, {N_AGES}).")
    base_year = int(base_year)
    if horizon <= base_year:
        raise InputError(f"horizon {horizon} must be after the base year {base_year}; e.g. --horizon 2040.")
    n_steps = horizon - base_year
    imm, fert, mort = assumptions.schedules(n_steps)
    f_fac = _kommune_vector(fertility_factor, kommuner, "fertility_factor", 1.0)
    m_fac = _kommune_vector(mortality_factor, kommuner, "mortality_factor", 1.0)
    if (f_fac < 0).any() or (m_fac < 0).any():
        raise InputError("fertility_factor and mortality_factor are multipliers of the national schedule; give values ≥ 0.")
    profile = migration_profile_array(migration_profile, kommuner)
    if migration_rates is not None:
        migration_rates = np.asarray(migration_rates, dtype=float)
        if migration_rates.shape != (len(kommuner), 2, N_AGES) or not np.isfinite(migration_rates).all():
            raise InputError(f"migration_rates must be finite, of shape ({len(kommuner)}, 2, {N_AGES}) "
                             "(net migrants per person of each end-of-year sex and age).")

    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown or not scenarios:
        raise InputError(f"unknown scenario(s) {unknown}; choose from {', '.join(SCENARIOS)}.")
    if levels is None:
        if historical is None:
            if any(s != "neutral" for s in scenarios):
                raise InputError("scenarios historical/high/low need each kommune's historical attractiveness; "
                                 "pass historical=... (last-10-year mean) or run only the neutral scenario.")
            levels = pd.DataFrame({"neutral": 0.0}, index=pd.Index(kommuner))
        else:
            levels = scenario_levels(historical, kommuner)
    else:
        levels = levels.copy()
        levels.index = levels.index.astype(str)
        require_columns(levels.columns, list(scenarios), "scenario levels table")
    levels = levels.reindex(kommuner)[list(scenarios)]
    if levels.isna().any().any():
        raise InputError("scenario levels lack some kommuner; give a level for every projected kommune.")

    expected_fn = _expected_callable(expected_domestic, kommuner)
    years = list(range(base_year, horizon + 1))
    arrays: dict[str, np.ndarray] = {}
    comp_frames, nat_rows = [], []
    total_work = len(scenarios) * n_steps
    done = 0
    for scen in scenarios:
        level = levels[scen].to_numpy(dtype=float)
        arr = np.empty((n_steps + 1, len(kommuner), 2, N_AGES))
        arr[0] = pop0
        for step in range(n_steps):
            if should_stop is not None and should_stop():
                raise Cancelled("projection cancelled")
            year = base_year + step
            domestic = expected_fn(year, arr[step])
            res = project_step(arr[step], fert[step], mort[step], immigration_rate=float(imm[step]),
                               domestic_rate=domestic, attractiveness_rate=level, profile=profile,
                               fertility_factor=f_fac, mortality_factor=m_fac,
                               sex_ratio_at_birth=assumptions.sex_ratio_at_birth,
                               migration_rates=migration_rates)
            arr[step + 1] = res.population
            comp_frames.append(pd.DataFrame({
                "year": year, "kommune": kommuner, "scenario": scen,
                "population_start": arr[step].sum(axis=(1, 2)), "births": res.births, "deaths": res.deaths,
                "immigration": res.immigration, "domestic_expected": res.domestic_expected,
                "attractiveness": res.attractiveness, "migration": res.migration, "clipped": res.clipped,
                "population_end": res.population.sum(axis=(1, 2))}))
            nat_rows.append({"year": year, "scenario": scen, "persons": float(res.attractiveness.sum())})
            done += 1
            if progress is not None:
                progress(done, total_work)
        arrays[scen] = arr
    return ProjectionResult(kommuner=list(kommuner), years=years, arrays=arrays,
                            components=pd.concat(comp_frames, ignore_index=True), levels=levels,
                            national_attractiveness=pd.DataFrame(nat_rows), assumptions_label=assumptions.label)


def _expected_callable(expected, kommuner: list[str]) -> ExpectedFn:
    """Normalise ``expected_domestic`` to a callable (year, pop) -> (k,) fractions."""
    if callable(expected):
        def checked(year: int, pop: np.ndarray) -> np.ndarray:
            out = np.asarray(expected(year, pop), dtype=float)
            if out.shape != (len(kommuner),) or not np.isfinite(out).all():
                raise InputError(f"expected net migration for {year} must be {len(kommuner)} finite fractions "
                                 "(one per kommune); check the model inputs for that year.")
            return out
        return checked
    const = _kommune_vector(expected, kommuner, "expected domestic net migration", 0.0)
    return lambda year, pop: const
