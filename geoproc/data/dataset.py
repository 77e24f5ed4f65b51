"""Everything the model needs from a data folder, on ONE kommune structure, with a report.

:func:`load_dataset` reads the SSB files of ``../shared/data/ssb`` and the national schedules of
``../shared/data/national`` and harmonises every table to one target structure (default the 356
kommuner of 2020, :mod:`geoproc.data.harmonise`):

- population 1 January by sex and single age 2005–2026 (``population_by_age_sex_2005_2026.csv.gz``,
  published on the 2024 structure: mapping to 2020 is renumbering plus 1508 Ålesund + 1580 Haram →
  1507 Ålesund, exact);
- jobs and employment 2017–2022 (SSB 11618; 2017 codes, 2018 codes, 2020 codes) and the commuting
  matrices 2017–2022 (SSB 03321, same code systems): merged kommuner summed (exact), split ones
  (1613/5012 Snillfjord, 1850 Tysfjord) divided by the code table's weights (approximate);
- the 2019 files lack Rindal (1567 in 2018 codes, 5061 in 2020 codes; ssb/README.md): its 2019 jobs
  and employment are interpolated geometrically between 2018 and 2020 (√(J₂₀₁₈·J₂₀₂₀)) and its
  2019 commuting rows are those of 2020 scaled to the interpolated employed residents; both are
  listed in ``imputed``;
- BA regions (``kommune_regions_2020.csv``): 3053 Jevnaker, 3054 Lunner and 5061 Rindal have no
  BA region in the file; each is its own one-kommune region (code ``k<kommune>``), listed in
  ``notes``.

Everything that was merged, split, dropped or imputed is in ``Dataset.report`` (a
:class:`~geoproc.data.harmonise.HarmoniseReport`), ``Dataset.imputed`` and ``Dataset.notes``,
so every output can say what its numbers rest on.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from centrality.errors import InputError
from geoproc.data import harmonise as hm
from geoproc.data import loaders
from geoproc.data.paths import data_file, data_folder
from geoproc.data.national import NationalDemography, load_national

POPULATION_FILE = "population_by_age_sex_2005_2026.csv.gz"
OWN_REGION_NOTE_START = "BA regions: "   # Dataset.own_region_note
POPULATION_STRUCTURE = 2024  # the structure the population file is published on
EMPLOYMENT_YEARS = (2017, 2018, 2019, 2020, 2021, 2022)


@dataclass
class Dataset:
    """Harmonised real data for the model (all kommune codes in ``structure``).

    - ``population_age_sex``: year, kommune, sex, age (0..105), population (persons, 1 January)
    - ``population``: year, kommune, population
    - ``employment``: year, kommune, population_15_74, employed_by_residence, employed_by_workplace
      (persons, 4th quarter, SSB 11618)
    - ``jobs``: year, kommune, jobs (= employed_by_workplace), imputed (bool)
    - ``commuting``: year, home_kommune, work_kommune, employed (persons, 4th quarter, SSB 03321)
    - ``regions``: kommune, region (BA region code), region_name, kommune_name, fylke
    - ``national``: national schedules; ``report``/``imputed``/``notes``: what was done to the data
    """

    structure: int
    population_age_sex: pd.DataFrame
    population: pd.DataFrame
    employment: pd.DataFrame
    jobs: pd.DataFrame
    commuting: pd.DataFrame
    regions: pd.DataFrame
    national: NationalDemography
    report: hm.HarmoniseReport
    imputed: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    data_dir: str = ""
    own_regions: list[str] = field(default_factory=list)
    absent: dict[int, list[str]] = field(default_factory=dict)

    @property
    def kommuner(self) -> list[str]:
        """The kommune codes of the structure, sorted.

        Returns
        -------
        list of str
        """
        return sorted(self.population["kommune"].unique())

    @property
    def own_region_note(self) -> str:
        """The note on the kommuner without a BA region (each its own region), or "".

        Returns
        -------
        str
            The line of :attr:`notes` that says so, reported once per run in its notes and
            manifest (the loader does not log it: :func:`load_dataset`).
        """
        return next((n for n in self.notes if n.startswith(OWN_REGION_NOTE_START)), "")

    @property
    def names(self) -> dict[str, str]:
        """Kommune names by code (from the regions file).

        Returns
        -------
        dict
        """
        return dict(zip(self.regions["kommune"], self.regions["kommune_name"]))

    def for_run(self) -> "Dataset":
        """A shallow copy whose national schedules collect the notes of one run only.

        Returns
        -------
        Dataset
        """
        return replace(self, national=self.national.fresh())

    def summary_lines(self) -> list[str]:
        """Plain-text description of the structure, the harmonisation and the imputations (for reports).

        Returns
        -------
        list of str
        """
        lines = [f"kommune structure: {self.structure} ({len(self.kommuner)} kommuner); all tables harmonised "
                 "with ssb/kommune_codes_to_2024.csv"]
        lines += self.report.summary()
        for r in self.imputed.itertuples():
            lines.append(f"imputed: {r.table} {r.year} kommune {r.kommune} ({r.method})")
        lines += self.notes
        return lines


def _population(data_dir, codes: hm.CodeTable, structure: int) -> tuple[pd.DataFrame, hm.HarmoniseReport]:
    path = data_file(data_dir, POPULATION_FILE)
    try:
        raw = pd.read_csv(path, dtype={"kommune": str, "sex": str})
    except Exception as exc:
        raise InputError(f"cannot read '{path}': {exc}. Give the gzip-compressed CSV as shipped in ssb/.") from None
    need = ["year", "kommune", "sex", "age", "population"]
    missing = [c for c in need if c not in raw.columns]
    if missing:
        raise InputError(f"'{POPULATION_FILE}' lacks columns {missing}; expected {need}.")
    raw = raw[need]
    raw["kommune"] = raw["kommune"].str.zfill(4)
    return hm.harmonise(raw, ["kommune"], ["population"], codes=codes, target=structure,
                        source_year=POPULATION_STRUCTURE, what="population by age and sex")


def _rindal_fill(emp: pd.DataFrame, com: pd.DataFrame, codes: set[str]) -> tuple[pd.DataFrame, pd.DataFrame, list]:
    """Interpolate kommuner missing in single interior years (Rindal 2019); see the module docstring."""
    years = sorted(emp["year"].unique())
    value_cols = ["population_15_74", "employed_by_residence", "employed_by_workplace"]
    imputed = []
    present = emp.groupby("year")["kommune"].agg(set)
    new_emp, new_com = [emp], [com]
    for i, y in enumerate(years[1:-1], start=1):
        for k in sorted(codes - present[y]):
            if k in present[years[i - 1]] and k in present[years[i + 1]]:
                a = emp[(emp["year"] == years[i - 1]) & (emp["kommune"] == k)][value_cols].iloc[0].astype(float)
                b = emp[(emp["year"] == years[i + 1]) & (emp["kommune"] == k)][value_cols].iloc[0].astype(float)
                row = np.sqrt(a.to_numpy() * b.to_numpy())
                new_emp.append(pd.DataFrame([[y, k, *row]], columns=["year", "kommune", *value_cols]))
                nxt = com[(com["year"] == years[i + 1]) & (com["home_kommune"] == k)]
                scale = row[1] / max(float(nxt["employed"].sum()), 1.0)
                new_com.append(nxt.assign(year=y, employed=nxt["employed"] * scale))
                nxt_in = com[(com["year"] == years[i + 1]) & (com["work_kommune"] == k) & (com["home_kommune"] != k)]
                new_com.append(nxt_in.assign(year=y))
                imputed += [{"table": "employment (SSB 11618)", "year": y, "kommune": k,
                             "method": f"geometric mean of {years[i - 1]} and {years[i + 1]}"},
                            {"table": "commuting (SSB 03321)", "year": y, "kommune": k,
                             "method": f"{years[i + 1]} flows, residents scaled to the imputed employed residents"}]
    emp = pd.concat(new_emp, ignore_index=True).sort_values(["year", "kommune"]).reset_index(drop=True)
    com = (pd.concat(new_com, ignore_index=True).groupby(["year", "home_kommune", "work_kommune"], as_index=False)
           ["employed"].sum())
    return emp, com, imputed


def _employment_and_commuting(data_dir, codes: hm.CodeTable, structure: int, population: pd.DataFrame
                              ) -> tuple[pd.DataFrame, pd.DataFrame, hm.HarmoniseReport, list]:
    report = hm.HarmoniseReport(structure)
    emp_parts, com_parts = [], []
    for y in EMPLOYMENT_YEARS:
        emp = loaders.load_employment(data_dir, years=[y])
        e, r = hm.harmonise(emp, ["kommune"], ["employed_by_workplace", "population_15_74", "employed_by_residence"],
                            codes=codes, target=structure, what="employment (SSB 11618)", population=population)
        emp_parts.append(e)
        report.extend(r)
        com = loaders.load_commuting(data_dir, years=[y])
        c, r = hm.harmonise(com, ["home_kommune", "work_kommune"], ["employed"], codes=codes, target=structure,
                            what="commuting (SSB 03321)", population=population)
        com_parts.append(c)
        report.extend(r)
    emp = pd.concat(emp_parts, ignore_index=True)
    com = pd.concat(com_parts, ignore_index=True)
    emp, com, imputed = _rindal_fill(emp, com, set(codes.codes(structure)))
    return emp, com, report, imputed


def _regions(data_dir, structure: int, codes: hm.CodeTable) -> tuple[pd.DataFrame, list[str], list[str]]:
    reg = loaders.load_regions(data_dir, fill_missing="own", warn=False)   # reported once, in the run's notes
    notes = []
    filled = list(reg.attrs.get("filled_regions", []))
    if filled:
        notes.append(OWN_REGION_NOTE_START + ", ".join(filled) + " have no BA region in "
                     "kommune_regions_2020.csv; each is its own one-kommune region (code 'k<kommune>')")
    out = reg.rename(columns={"ba_region_code": "region", "ba_region_name": "region_name",
                              "fylke_code": "fylke"})[["kommune", "region", "region_name", "kommune_name", "fylke"]]
    if structure != 2020:
        mapped, _ = hm.harmonise(out.assign(year=2020, n=1), ["kommune"], ["n"], codes=codes, target=structure,
                                 what="regions")
        out = mapped.drop(columns=["year", "n"]).drop_duplicates("kommune")
    return out, notes, filled


@lru_cache(maxsize=2)
def _cached(path: str, mtime: float, structure: int) -> Dataset:
    codes = hm.load_code_table(path)
    pop, report = _population(path, codes, structure)
    emp, com, rep2, imputed = _employment_and_commuting(path, codes, structure, pop)
    report.extend(rep2)
    regions, notes, filled = _regions(path, structure, codes)
    total = pop.groupby(["year", "kommune"], as_index=False)["population"].sum()
    jobs = emp[["year", "kommune", "employed_by_workplace"]].rename(columns={"employed_by_workplace": "jobs"})
    imp = pd.DataFrame(imputed, columns=["table", "year", "kommune", "method"])
    jobs = jobs.assign(jobs=jobs["jobs"].astype(float),
                       imputed=[(y, k) in set(zip(imp["year"], imp["kommune"])) for y, k in zip(jobs["year"], jobs["kommune"])])
    all_codes = set(codes.codes(structure))
    absent = {int(y): sorted(all_codes - set(g["kommune"])) for y, g in total.groupby("year")
              if all_codes - set(g["kommune"])}
    for y, ks in absent.items():
        notes.append(f"population {y} lacks kommuner {', '.join(ks)} (absent in the source file)")
    return Dataset(structure=int(structure), population_age_sex=pop, population=total, employment=emp, jobs=jobs,
                   commuting=com, regions=regions, national=load_national(path), report=report, imputed=imp,
                   notes=notes, data_dir=path, own_regions=filled, absent=absent)


def load_dataset(data_dir: str | os.PathLike | None = None, structure: int = 2020) -> Dataset:
    """The harmonised :class:`Dataset` of a data folder (cached per folder and structure; read-only).

    What was done to the data is recorded, not logged: e.g. the kommuner without a BA region
    (each its own region) are :attr:`Dataset.own_region_note`, which the runs that use the
    regions report once in their notes and manifest.

    Parameters
    ----------
    data_dir : path-like, optional
        The data folder (default ``$REGIO_DATA_DIR``), with ``ssb/`` and ``national/``.
    structure : int, default 2020
        Target kommune structure (a year).

    Returns
    -------
    Dataset
    """
    base = data_folder(data_dir)
    pop_path = data_file(base, POPULATION_FILE)
    return _cached(str(base), os.path.getmtime(pop_path), int(structure))
