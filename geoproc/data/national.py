"""Norway's national demographic schedules from the ``national/`` folder of the data directory.

Files (``../shared/data/national/README.md``; Human Mortality / Human Fertility Database, CC BY 4.0):

- ``mortality_norway_1900_2023.csv``: central death rates m = deaths / exposure by calendar year,
  sex and single age 0..110 (110 = open interval);
- ``fertility_norway_1967_2022.csv``: births per woman-year by calendar year and age 12..55
  (12 = 12 and younger, 55 = 55 and older);
- ``births_norway_1900_2023.csv``: live births by year and sex.

What this module derives (every schedule is per person and year, ages 0..105 where 105 means
"105 or older", the open age group of SSB's population tables):

- **death probabilities** q: ages 1..104 ``q = m / (1 + m/2)`` (deaths spread evenly over the
  year); the open group 105+ pools the deaths and exposure of ages 105..110 and uses the same
  formula; age 0 uses ``q0 = m0 / (1 + (1 − a0)·m0)`` with the Human Mortality Database's a0 for
  low infant mortality (Andreev & Kingkade 2015: a0 = 0.14929 − 1.99545·m0 for boys,
  0.14903 − 2.05527·m0 for girls), because infant deaths are concentrated early in the first year.
  Ages without exposure (the highest ages in some early years) take the rate of the nearest lower
  age with exposure.
- **fertility** f(age): births per woman-year at ages 12..55 (0 elsewhere).
- **births, deaths** per calendar year (persons) and the sex ratio at birth (boys per girl).

Calendar years: a schedule is taken from the requested year; years after the last year in the
file use the **last year carried forward** and years before the first raise. Every function that
carries a year forward says so in ``attrs['note']`` (and :meth:`NationalDemography.notes`), so
outputs can report it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from centrality.errors import InputError
from geoproc.data.paths import data_folder

SEXES: tuple[str, str] = ("female", "male")
MAX_AGE = 105
N_AGES = MAX_AGE + 1
MORTALITY_FILE = "mortality_norway_1900_2023.csv"
FERTILITY_FILE = "fertility_norway_1967_2022.csv"
BIRTHS_FILE = "births_norway_1900_2023.csv"
SOURCE = "Human Mortality Database / Human Fertility Database (Norway), via ../shared/data/national"
_SEX_NAMES = {"Female": "female", "Male": "male"}
# HMD a0 for low infant mortality (Andreev & Kingkade 2015, used by the HMD Methods Protocol v6)
_A0 = {"male": (0.14929, -1.99545), "female": (0.14903, -2.05527)}


def national_file(data_dir: str | os.PathLike | None, name: str) -> Path:
    """Path of a file of the ``national/`` folder.

    Parameters
    ----------
    data_dir : path-like, optional
        The data folder (default ``$REGIO_DATA_DIR``); the file is looked for in ``national/``.
    name : str
        File name, e.g. ``mortality_norway_1900_2023.csv``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputError
        When the file is not there, naming the fix.
    """
    base = data_folder(data_dir)
    for candidate in (base / "national" / name, base / name, base.parent / "national" / name):
        if candidate.is_file():
            return candidate
    raise InputError(f"national demography file '{name}' not found in '{base / 'national'}'. Pass --data-dir "
                     "(or set REGIO_DATA_DIR) to the folder holding national/ (see ../shared/data/national/README.md).")


def _read(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    try:
        df = pd.read_csv(path)
    except Exception as exc:  # parser errors
        raise InputError(f"cannot read '{path}': {exc}. Give the CSV file as shipped in national/.") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"'{path.name}' lacks columns {missing}; expected {list(columns)} (national/README.md).")
    return df


def death_probability_from_rate(m: np.ndarray, age: np.ndarray, sex: np.ndarray) -> np.ndarray:
    """Death probability q from the central death rate m (see the module docstring for age 0).

    Parameters
    ----------
    m : numpy.ndarray
        Central death rates (deaths per person-year).
    age : numpy.ndarray
        Age in completed years (broadcast with ``m``).
    sex : numpy.ndarray
        'female' or 'male' (broadcast with ``m``).

    Returns
    -------
    numpy.ndarray
        q, the probability of dying within the year (fraction, clipped to 0..1).
    """
    m = np.asarray(m, dtype=float)
    age = np.broadcast_to(np.asarray(age), m.shape)
    sex = np.broadcast_to(np.asarray(sex), m.shape)
    q = m / (1.0 + m / 2.0)
    a0 = np.where(sex == "male", _A0["male"][0] + _A0["male"][1] * m, _A0["female"][0] + _A0["female"][1] * m)
    q0 = m / (1.0 + (1.0 - np.clip(a0, 0.0, 0.5)) * m)
    return np.clip(np.where(age == 0, q0, q), 0.0, 1.0)


@dataclass(frozen=True)
class NationalDemography:
    """National schedules by calendar year (see module docstring).

    - ``mortality``: year, sex, age (0..105), deaths, exposure (person-years), m, q
    - ``fertility``: year, age (12..55), rate (births per woman-year)
    - ``births``: year, female, male, total (persons)
    """

    mortality: pd.DataFrame
    fertility: pd.DataFrame
    births: pd.DataFrame
    source: str = SOURCE
    _notes: set = field(default_factory=set, compare=False, repr=False)

    # ------------------------------------------------------------------ years
    @property
    def mortality_years(self) -> tuple[int, int]:
        """First and last calendar year of the mortality file.

        Returns
        -------
        tuple of int
        """
        y = self.mortality["year"]
        return int(y.min()), int(y.max())

    @property
    def fertility_years(self) -> tuple[int, int]:
        """First and last calendar year of the fertility file.

        Returns
        -------
        tuple of int
        """
        y = self.fertility["year"]
        return int(y.min()), int(y.max())

    def _year(self, year: int, span: tuple[int, int], what: str) -> int:
        year = int(year)
        first, last = span
        if year < first:
            raise InputError(f"national {what} starts in {first}; {year} is not covered. Choose years ≥ {first}.")
        if year > last:
            self._notes.add((what, last, year))
            return last
        return year

    def fresh(self) -> "NationalDemography":
        """The same schedules with an empty note list (one per run, so its notes are its own).

        Returns
        -------
        NationalDemography
        """
        return NationalDemography(self.mortality, self.fertility, self.births, self.source)

    def notes(self) -> list[str]:
        """What was carried forward (or extrapolated) so far, as texts for outputs.

        Returns
        -------
        list of str
            E.g. "national fertility 2022 (the last year in the data) carried forward to 2023–2039".
        """
        carried: dict[tuple[str, int], list[int]] = {}
        texts = []
        for item in self._notes:
            if isinstance(item, tuple):
                carried.setdefault(item[:2], []).append(item[2])
            else:
                texts.append(item)
        for (what, last), years in sorted(carried.items()):
            ys = sorted(set(years))
            span = str(ys[0]) if len(ys) == 1 else f"{ys[0]}–{ys[-1]}"
            texts.append(f"national {what} {last} (the last year in the data) carried forward to {span}")
        return sorted(texts)

    # ------------------------------------------------------------------ schedules
    def q_array(self, year: int) -> np.ndarray:
        """Death probabilities of a calendar year (the last year of the file carried forward).

        Parameters
        ----------
        year : int
            Calendar year.

        Returns
        -------
        numpy.ndarray
            (2, 106) = (female, male) × age 0..105 (fractions).
        """
        used = self._year(year, self.mortality_years, "mortality")
        sub = self.mortality[self.mortality["year"] == used]
        out = np.zeros((2, N_AGES))
        s = pd.Index(SEXES).get_indexer(sub["sex"])
        out[s, sub["age"].to_numpy(dtype=int)] = sub["q"].to_numpy(dtype=float)
        return out

    def mortality_improvement(self, years: tuple[int, int] = (2000, 2019)) -> np.ndarray:
        """Yearly change of ln m by sex and age, least squares over ``years`` (inclusive).

        Parameters
        ----------
        years : tuple of int, default (2000, 2019)
            The period of the trend (it ends before the COVID-19 years 2020–2022).

        Returns
        -------
        numpy.ndarray
            (2, 106) = (female, male) × age; negative = falling mortality; capped to [−0.05, 0] per year
            (no projected worsening).
        """
        sub = self.mortality[self.mortality["year"].between(*years)]
        if sub["year"].nunique() < 5:
            raise InputError(f"mortality trend needs at least 5 years in {years}; the file has "
                             f"{self.mortality_years}.")
        out = np.zeros((2, N_AGES))
        for (sex, age), g in sub.groupby(["sex", "age"]):
            m = g["m"].to_numpy(dtype=float)
            ok = m > 0
            if ok.sum() >= 5:
                slope = np.polyfit(g["year"].to_numpy(dtype=float)[ok], np.log(m[ok]), 1)[0]
                out[SEXES.index(sex), int(age)] = float(np.clip(slope, -0.05, 0.0))
        return out

    def q_path(self, years: Iterable[int], improvement: str = "constant",
               trend_years: tuple[int, int] = (2000, 2019)) -> np.ndarray:
        """Death probabilities for a projection, one schedule per year.

        Years covered by the file use that year's rates. Later years: ``improvement='constant'`` carries
        the last year forward; ``'trend'`` lowers the last year's m by the yearly log-change of
        :meth:`mortality_improvement` (an extrapolation, said so in :meth:`notes`).

        Parameters
        ----------
        years : iterable of int
            Calendar years.
        improvement : {"constant", "trend"}, default "constant"
            After the last year of the file.
        trend_years : tuple of int, default (2000, 2019)
            Period of the trend.

        Returns
        -------
        numpy.ndarray
            (n_years, 2, 106) death probabilities (fractions).
        """
        years = [int(y) for y in years]
        last = self.mortality_years[1]
        if improvement not in ("constant", "trend"):
            raise InputError(f"mortality improvement must be 'constant' or 'trend', not {improvement!r}.")
        slope = self.mortality_improvement(trend_years) if improvement == "trend" and max(years) > last else None
        out = np.empty((len(years), 2, N_AGES))
        if slope is not None:
            base = self.mortality[self.mortality["year"] == last]
            m_last = np.zeros((2, N_AGES))
            m_last[pd.Index(SEXES).get_indexer(base["sex"]), base["age"].to_numpy(dtype=int)] = base["m"].to_numpy()
            self._notes.add(f"national mortality after {last}: the {last} rates lowered by the {trend_years[0]}–"
                            f"{trend_years[1]} trend of ln m by sex and age (extrapolation)")
        for i, y in enumerate(years):
            if y <= last or slope is None:
                out[i] = self.q_array(y)
            else:
                m = m_last * np.exp(slope * (y - last))
                sexes = np.repeat(np.array(SEXES)[:, None], N_AGES, axis=1)
                out[i] = death_probability_from_rate(m, np.arange(N_AGES)[None, :], sexes)
        return out

    def death_probabilities(self, year: int) -> pd.DataFrame:
        """Death probabilities of a calendar year as a table.

        Parameters
        ----------
        year : int
            Calendar year.

        Returns
        -------
        pandas.DataFrame
            sex, age (0..105), q (fraction); ``attrs['year_used']`` and ``attrs['note']`` say whether a
            later year used the last schedule of the file.
        """
        used = self._year(year, self.mortality_years, "mortality")
        arr = self.q_array(used)
        out = pd.DataFrame({"sex": np.repeat(SEXES, N_AGES), "age": np.tile(np.arange(N_AGES), 2),
                            "q": arr.reshape(-1)})
        out.attrs.update(year_used=used, source=self.source,
                         note="" if used == int(year) else f"mortality {used} carried forward to {int(year)}")
        return out

    def f_array(self, year: int) -> np.ndarray:
        """Births per woman-year by age of mother for a calendar year (the last year carried forward).

        Parameters
        ----------
        year : int
            Calendar year.

        Returns
        -------
        numpy.ndarray
            (106,) births per woman per year by age 0..105 (0 outside 12..55).
        """
        used = self._year(year, self.fertility_years, "fertility")
        sub = self.fertility[self.fertility["year"] == used]
        out = np.zeros(N_AGES)
        out[sub["age"].to_numpy(dtype=int)] = sub["rate"].to_numpy(dtype=float)
        return out

    def fertility_rates(self, year: int) -> pd.DataFrame:
        """Fertility of a calendar year as a table.

        Parameters
        ----------
        year : int
            Calendar year.

        Returns
        -------
        pandas.DataFrame
            age (0..105), rate (births per woman-year); ``attrs`` as in :meth:`death_probabilities`.
        """
        used = self._year(year, self.fertility_years, "fertility")
        out = pd.DataFrame({"age": np.arange(N_AGES), "rate": self.f_array(used)})
        out.attrs.update(year_used=used, source=self.source,
                         note="" if used == int(year) else f"fertility {used} carried forward to {int(year)}")
        return out

    def mortality_table(self, years: Iterable[int]) -> pd.DataFrame:
        """Death probabilities of several years (the decomposition's expected deaths).

        Parameters
        ----------
        years : iterable of int
            Calendar years.

        Returns
        -------
        pandas.DataFrame
            year, sex, age, rate (death probability, fraction).
        """
        frames = [self.death_probabilities(y).rename(columns={"q": "rate"}).assign(year=int(y)) for y in years]
        return pd.concat(frames, ignore_index=True)[["year", "sex", "age", "rate"]]

    def fertility_table(self, years: Iterable[int]) -> pd.DataFrame:
        """Fertility of several years (the decomposition's expected births).

        Parameters
        ----------
        years : iterable of int
            Calendar years.

        Returns
        -------
        pandas.DataFrame
            year, age, rate (births per woman-year).
        """
        frames = [self.fertility_rates(y).assign(year=int(y)) for y in years]
        return pd.concat(frames, ignore_index=True)[["year", "age", "rate"]]

    # ------------------------------------------------------------------ counts
    def births_total(self, year: int) -> float | None:
        """Live births in a calendar year.

        Parameters
        ----------
        year : int
            Calendar year.

        Returns
        -------
        float or None
            Persons, or None when the births file does not cover the year.
        """
        row = self.births[self.births["year"] == int(year)]
        return None if row.empty else float(row["total"].iloc[0])

    def deaths_total(self, year: int) -> float | None:
        """Deaths (all ages) in a calendar year.

        Parameters
        ----------
        year : int
            Calendar year.

        Returns
        -------
        float or None
            Persons, or None when the mortality file does not cover the year.
        """
        sub = self.mortality[self.mortality["year"] == int(year)]
        return None if sub.empty else float(sub["deaths"].sum())

    def share_boys(self, years: Iterable[int] | None = None) -> float:
        """Share of boys among live births, pooled over years.

        Parameters
        ----------
        years : iterable of int, optional
            Default: the last 10 years of the births file.

        Returns
        -------
        float
            Fraction (about 0.514).
        """
        b = self.births
        if years is None:
            last = int(b["year"].max())
            years = range(last - 9, last + 1)
        sel = b[b["year"].isin(list(years))]
        if sel.empty:
            raise InputError("no national births for the requested years; give years the births file covers.")
        return float(sel["male"].sum() / (sel["male"].sum() + sel["female"].sum()))


def _mortality(df: pd.DataFrame) -> pd.DataFrame:
    df = df[df["sex"].isin(_SEX_NAMES)].copy()
    df["sex"] = df["sex"].map(_SEX_NAMES)
    df["age"] = np.minimum(df["age"].astype(int), MAX_AGE)
    g = df.groupby(["year", "sex", "age"], as_index=False)[["deaths", "population"]].sum()
    g = g.rename(columns={"population": "exposure"})
    with np.errstate(divide="ignore", invalid="ignore"):
        g["m"] = np.where(g["exposure"] > 0, g["deaths"] / g["exposure"], np.nan)
    # very old ages without exposure (early years): the rate of the nearest lower age with exposure
    g["m"] = g.groupby(["year", "sex"])["m"].ffill()
    if g["m"].isna().any():
        bad = g.loc[g["m"].isna(), ["year", "sex", "age"]].head(3).to_dict("records")
        raise InputError(f"national mortality has cells without exposure, e.g. {bad}; the file is incomplete.")
    g["q"] = death_probability_from_rate(g["m"].to_numpy(), g["age"].to_numpy(), g["sex"].to_numpy())
    return g[["year", "sex", "age", "deaths", "exposure", "m", "q"]].sort_values(["year", "sex", "age"]).reset_index(drop=True)


def load_national(data_dir: str | os.PathLike | None = None) -> NationalDemography:
    """Read the three national files of ``data_dir/national`` (see the module docstring).

    Parameters
    ----------
    data_dir : path-like, optional
        The data folder (default ``$REGIO_DATA_DIR``).

    Returns
    -------
    NationalDemography
    """
    mort = _read(national_file(data_dir, MORTALITY_FILE), ["year", "age", "sex", "population", "deaths"])
    fert = _read(national_file(data_dir, FERTILITY_FILE), ["year", "age", "fertility_rate"])
    births = _read(national_file(data_dir, BIRTHS_FILE), ["year", "sex", "births"])
    fert = fert.rename(columns={"fertility_rate": "rate"})[["year", "age", "rate"]]
    if fert["rate"].isna().any() or (fert["rate"] < 0).any():
        raise InputError(f"'{FERTILITY_FILE}' has missing or negative fertility rates; use the file as shipped.")
    wide = births.pivot_table(index="year", columns="sex", values="births", aggfunc="sum")
    for col in ("Female", "Male"):
        if col not in wide.columns:
            raise InputError(f"'{BIRTHS_FILE}' has no '{col}' rows; expected sex Female/Male/Total.")
    b = pd.DataFrame({"year": wide.index.astype(int), "female": wide["Female"].to_numpy(float),
                      "male": wide["Male"].to_numpy(float)})
    b["total"] = wide["Total"].to_numpy(float) if "Total" in wide.columns else b["female"] + b["male"]
    return NationalDemography(mortality=_mortality(mort), fertility=fert.astype({"year": int, "age": int}),
                              births=b.reset_index(drop=True))


def national_net_migration(population: pd.DataFrame, national: NationalDemography, *,
                           estimated_births: pd.Series | None = None,
                           estimated_deaths: pd.Series | None = None) -> pd.DataFrame:
    """Norway's net migration by the demographic identity, per year t (1 January t → t+1).

    ``NM_t = P_t+1 − P_t − births_t + deaths_t`` (persons), births and deaths from the national
    files; years without them use the estimates when given (said so in the source columns).

    Parameters
    ----------
    population : pandas.DataFrame
        year, population (1 January; e.g. the sum over kommuner of one harmonised table).
    national : NationalDemography
        Births and deaths.
    estimated_births, estimated_deaths : pandas.Series, optional
        By year, for years the files do not cover (e.g. national fertility × women).

    Returns
    -------
    pandas.DataFrame
        year, population, population_next, births, deaths, net_migration (persons), rate (NM / P_t),
        births_source, deaths_source ('national file' or 'estimated ...').
    """
    p = population.groupby("year")["population"].sum().astype(float)
    rows = []
    for year in sorted(int(y) for y in p.index):
        if year + 1 not in p.index:
            continue
        b, d = national.births_total(year), national.deaths_total(year)
        b_src = d_src = "national file"
        if b is None and estimated_births is not None and year in estimated_births.index:
            b, b_src = float(estimated_births[year]), "estimated (national fertility × women)"
        if d is None and estimated_deaths is not None and year in estimated_deaths.index:
            d, d_src = float(estimated_deaths[year]), "estimated (national mortality × population)"
        if b is None or d is None:
            continue
        nm = p[year + 1] - p[year] - b + d
        rows.append({"year": year, "population": p[year], "population_next": p[year + 1], "births": b,
                     "deaths": d, "net_migration": nm, "rate": nm / p[year], "births_source": b_src,
                     "deaths_source": d_src})
    if not rows:
        raise InputError("national net migration needs the population on 1 January of two consecutive years and "
                         "the births and deaths of the first; none of the years qualifies.")
    return pd.DataFrame(rows)
