"""Assembling the attractiveness model's input tables, with every data policy reported.

The model (:mod:`geoproc.model`) takes tidy tables (docs/architecture.md). They come from one of
three sources:

- :func:`tables_from_files`: the user's own CSV/Parquet tables (:class:`TableFiles`);
- :func:`tables_from_data_dir`: the SSB files of a data folder (``../shared/data``-style, read
  by :mod:`geoproc.data.loaders`);
- :func:`tables_from_ssb`: SSB's PxWebApi (:mod:`geoproc.data.ssb_client`, online).

Whatever changes the data on the way is a *policy* and is recorded as an :class:`AssemblyStep`
in the :class:`AssemblyReport` of the result (and from there in the model result's notes, its
``data_assembly`` table and the run manifest), never only logged:

- ``code_conversion``: tables published in other kommune structures mapped to one structure
  with ``ssb/kommune_codes_to_2024.csv`` (:mod:`geoproc.data.harmonise`): renumbered, merged
  (summed) and split kommuner (divided by the code table's weights, approximate), per table and year;
- ``interpolated``: a kommune-year missing from the source filled by interpolation (Rindal 2019 in
  the SSB files), for jobs/employment and commuting;
- ``incomplete_kommuner``: kommuner still lacking jobs in some year, left out of the run
  (:func:`keep_complete_kommuner`, user tables) with their commuting rows;
- ``missing_kommuner``: kommuner absent from a source in some year (1160, 1576 in the 2005 population);
- ``own_region``: kommuner without a BA region, each made its own one-kommune region;
- ``proxy_centrality``: no centrality table given, the PROXY index is used (``regio model`` with
  ``--data-dir``, :mod:`geoproc.model.default_centrality`).

Units: persons (counts), years are calendar years; kommune codes are 4-character text.
"""
from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from centrality.errors import InputError, require_columns
from centrality.fileio import read_vector
from geoproc.data import loaders, ssb_client
from geoproc.data.dataset import load_dataset
from geoproc.data.plausibility import check_model_tables
from geoproc.data.tables import MAX_AGE, SEXES, normalise_kommune

log = logging.getLogger(__name__)

CODE_COLUMNS = ("kommune", "home_kommune", "work_kommune", "region", "home_region", "work_region")
N_AGES = MAX_AGE + 1


# ------------------------------------------------------------------------------------------- report
@dataclass(frozen=True)
class AssemblyStep:
    """One data policy applied while assembling the tables.

    Attributes
    ----------
    rule : str
        Short name (e.g. ``"incomplete_kommuner"``).
    detail : str
        What was done and what it means for the results, in plain words.
    codes : tuple of str
        Kommune codes concerned (may be empty).
    """

    rule: str
    detail: str
    codes: tuple[str, ...] = ()


@dataclass
class AssemblyReport:
    """Where the tables came from and every policy applied to them.

    Attributes
    ----------
    source : str
        E.g. ``"tables: jobs.csv, commuting.csv"``, ``"SSB files in ../shared/data"``, ``"SSB PxWebApi"``.
    steps : list of AssemblyStep
        The policies, in the order applied.
    files : list of pathlib.Path
        Input files and folders read (outputs must not overwrite them).
    """

    source: str
    steps: list[AssemblyStep] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def add(self, rule: str, detail: str, codes: Sequence[str] = ()) -> None:
        """Record a policy (and log it).

        Parameters
        ----------
        rule : str
            Short name, e.g. "incomplete_kommuner".
        detail : str
            What was done and what it means, in plain words.
        codes : sequence of str
            Kommune codes concerned.
        """
        step = AssemblyStep(rule, detail, tuple(str(c) for c in codes))
        self.steps.append(step)
        log.info("%s", detail)

    @property
    def notes(self) -> list[str]:
        """One sentence per step, for result notes and reports."""
        return [f"data assembly ({s.rule}): {s.detail}" for s in self.steps]

    def frame(self) -> pd.DataFrame:
        """The steps as a table.

        Returns
        -------
        pandas.DataFrame
            source, rule, detail, codes (space-separated).
        """
        return pd.DataFrame({"source": self.source, "rule": [s.rule for s in self.steps],
                             "detail": [s.detail for s in self.steps],
                             "codes": [" ".join(s.codes) for s in self.steps]},
                            columns=["source", "rule", "detail", "codes"])

    def summary(self) -> dict:
        """Plain values for the run manifest.

        Returns
        -------
        dict
            ``source`` and ``steps`` (rule, detail, codes).
        """
        return {"source": self.source, "steps": [{"rule": s.rule, "detail": s.detail, "codes": list(s.codes)}
                                                 for s in self.steps]}


@dataclass
class AssembledTables:
    """Model input tables (names as the fields of :class:`geoproc.model.inputs.ModelTables`),
    kommune names for labels, and the report of how they were assembled."""

    tables: dict[str, pd.DataFrame]
    report: AssemblyReport
    names: dict[str, str] | None = None


# ------------------------------------------------------------------------------------------- reading
def read_table(path: str | os.PathLike, what: str) -> pd.DataFrame:
    """Read a CSV or Parquet table; kommune/region code columns are read as text.

    Parameters
    ----------
    path : path-like
        ``.csv``/``.txt`` (comma-separated with a header row) or ``.parquet``/``.pq``.
    what : str
        What the table is, for messages (e.g. "jobs").

    Returns
    -------
    pandas.DataFrame
        Code columns (:data:`CODE_COLUMNS`) as text; 1–3 digit kommune codes zero-padded ("301"
        -> "0301").

    Raises
    ------
    InputError
        For a missing file, an unknown extension, an unreadable or an empty table.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{what} file '{path}' does not exist. Check the path.")
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".pq", ".csv", ".txt"):
        raise InputError(f"{what} file '{path}' has unknown extension '{suffix}'; give a .csv or .parquet table.")
    try:
        if suffix in (".parquet", ".pq"):
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path, dtype={c: str for c in CODE_COLUMNS})
    except Exception as exc:  # parser errors of pandas/pyarrow have many types
        raise InputError(f"cannot read {what} '{path}': {exc}. Give a valid CSV (comma-separated, header row) "
                         "or Parquet file.") from None
    for col in CODE_COLUMNS:
        if col in df.columns:
            df[col] = df[col].astype(str)
    if "kommune" in df.columns and df["kommune"].str.fullmatch(r"\d{1,3}").any():
        df["kommune"] = df["kommune"].str.zfill(4)
    if df.empty:
        raise InputError(f"{what} '{path}' has no rows.")
    return df


# ------------------------------------------------------------------------------ SSB net migration (09588)
_YEAR_COLS = ("year", "år", "tid", "Tid")
_CODE_COLS = ("kommune", "region", "Region")


def _column(df: pd.DataFrame, names: Sequence[str]) -> str | None:
    lower = {str(c).lower(): c for c in df.columns}
    for n in names:
        if n.lower() in lower:
            return lower[n.lower()]
    return None


def read_ssb_net_migration(table: pd.DataFrame | str, *, what: str = "net migration (SSB 09588)") -> pd.DataFrame:
    """SSB net migration per kommune and year (tidy, or the StatBank export of table 09588).

    Accepted layouts: tidy ``year, kommune, net_migration``; or SSB's StatBank/PxWebApi CSV export
    of table 09588 (semicolon- or comma-separated), long form: a region column (``region``/``Region``:
    '0301 Oslo', 'K-0301 Oslo' or '0301'), a year column (``år``/``Tid``/``year``), optionally a
    contents column (``statistikkvariabel``/``ContentsCode``) of which the net migration rows are kept
    (text containing 'netto'), and one value column (the last, or ``value``/``Antall``). Non-kommune
    regions (fylker, 'Hele landet', codes that are not 4 digits) are dropped.

    Parameters
    ----------
    table : pandas.DataFrame or str
        The table, or the path of the CSV file.
    what : str
        The table's name in messages.

    Returns
    -------
    pandas.DataFrame
        year, kommune, net_migration (persons), sorted.

    Raises
    ------
    InputError
        For missing columns, SSB's missing-value marks ('.', '..', ':'), duplicates or no kommune rows.
    """
    if isinstance(table, str):
        path = Path(table)
        if not path.is_file():
            raise InputError(f"{what} file '{path}' does not exist. Check the path.")
        text = path.read_text(encoding="utf-8-sig", errors="replace")
        sep = ";" if text.splitlines()[0].count(";") >= max(1, text.splitlines()[0].count(",")) else ","
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str)
    else:
        df = table.copy()
    if {"year", "kommune", "net_migration"} <= set(df.columns):
        out = df[["year", "kommune", "net_migration"]].copy()
    else:
        ycol, kcol = _column(df, _YEAR_COLS), _column(df, _CODE_COLS)
        if ycol is None or kcol is None:
            raise InputError(f"{what}: need a year column ({'/'.join(_YEAR_COLS)}) and a region column "
                             f"({'/'.join(_CODE_COLS)}), or the tidy columns year, kommune, net_migration; got "
                             f"{list(df.columns)}.")
        ccol = _column(df, ("statistikkvariabel", "contents", "ContentsCode"))
        if ccol is not None:
            keep = df[ccol].astype(str).str.lower().str.contains("netto")
            if not keep.any():
                raise InputError(f"{what}: no net migration rows (statistikkvariabel containing 'netto') in "
                                 f"column '{ccol}'; export table 09588 with 'Nettoinnflytting'.")
            df = df[keep]
        vcol = _column(df, ("value", "antall", "net_migration")) or df.columns[-1]
        code = df[kcol].astype(str).str.strip().str.replace(r"^K-", "", regex=True).str.extract(r"^(\d{3,4})\b")[0]
        out = pd.DataFrame({"year": df[ycol], "kommune": code, "net_migration": df[vcol]})
        out = out[out["kommune"].notna() & (out["kommune"].str.len() == 4)]
    out["kommune"] = out["kommune"].astype(str).str.zfill(4)
    out["year"] = pd.to_numeric(out["year"], errors="coerce")
    vals = out["net_migration"].astype(str).str.replace("\u00a0", "").str.replace(" ", "").str.replace(",", ".")
    out["net_migration"] = pd.to_numeric(vals.replace({".": np.nan, "..": np.nan, ":": np.nan}), errors="coerce")
    bad = out["year"].isna() | out["net_migration"].isna()
    if bad.any():
        raise InputError(f"{what}: {int(bad.sum())} rows have no year or no number (e.g. "
                         f"{out[bad].head(3).to_dict('records')}); SSB marks missing values with '.', '..' or ':' – "
                         "drop those kommuner or years.")
    out["year"] = out["year"].astype(int)
    dup = out.duplicated(["year", "kommune"])
    if dup.any():
        raise InputError(f"{what}: {int(dup.sum())} duplicated (year, kommune) rows; keep one contents variable.")
    if out.empty:
        raise InputError(f"{what}: no kommune rows found.")
    return out.sort_values(["year", "kommune"]).reset_index(drop=True)



@dataclass(frozen=True)
class TableFiles:
    """Paths of the user's tidy input tables (None = not given); layouts in docs/usage-model.md."""

    jobs: str | None = None                   # year, kommune, jobs
    commuting: str | None = None              # year, home_kommune, work_kommune, employed
    population: str | None = None             # year, kommune, population
    net_migration: str | None = None          # year, kommune, net_migration
    population_by_age_sex: str | None = None  # year, kommune, sex, age, population
    population_by_age: str | None = None      # year, kommune, age, population
    centrality: str | None = None             # kommune, index
    regions: str | None = None                # kommune, region[, name]
    births: str | None = None                 # year, kommune, births
    deaths: str | None = None                 # year, kommune, deaths

    def given(self) -> dict[str, str]:
        """The given tables.

        Returns
        -------
        dict
            ``{table name: path}``.
        """
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


def _label(name: str) -> str:
    return name.replace("_", " ").replace("by age sex", "by age and sex")


def _read_given(files: TableFiles, names: Sequence[str], report: AssemblyReport) -> dict[str, pd.DataFrame]:
    out = {}
    for name, path in files.given().items():
        if name in names:
            if name == "net_migration" and str(path).lower().endswith((".csv", ".txt")):
                out[name] = read_ssb_net_migration(str(path))   # tidy, or SSB's 09588 export
            else:
                out[name] = read_table(path, _label(name))
            report.files.append(Path(path))
    return out


def tables_from_files(files: TableFiles) -> AssembledTables:
    """The model tables from the user's CSV/Parquet files (no policy applied).

    Parameters
    ----------
    files : TableFiles
        ``jobs`` and ``commuting`` are required.

    Returns
    -------
    AssembledTables
        Kommune names from the regions table's ``name`` column when it has one.
    """
    given = files.given()
    if "jobs" not in given or "commuting" not in given:
        raise InputError("give the input tables (--jobs FILE --commuting FILE --population FILE ...), "
                         "or --data-dir FOLDER with the SSB files, or --ssb to download them.")
    report = AssemblyReport(source="tables: " + ", ".join(Path(p).name for p in given.values()))
    tables = _read_given(files, [f.name for f in fields(TableFiles)], report)
    names = None
    regions = tables.get("regions")
    if regions is not None and "name" in regions.columns:
        names = dict(zip(regions["kommune"], regions["name"]))
    return AssembledTables(tables, report, names)


# ------------------------------------------------------------------------------------------- policies
def keep_complete_kommuner(jobs: pd.DataFrame, commuting: pd.DataFrame
                           ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Leave out kommuner that lack jobs in some year of the series (growth is undefined for them).

    Parameters
    ----------
    jobs : pandas.DataFrame
        year, kommune, jobs.
    commuting : pandas.DataFrame
        year, home_kommune, work_kommune, employed.

    Returns
    -------
    jobs, commuting : pandas.DataFrame
        Without the incomplete kommuner (as home or work kommune).
    dropped : list of str
        The kommuner left out (sorted).
    """
    n_years = jobs["year"].nunique()
    counts = jobs.groupby("kommune")["year"].nunique()
    incomplete = sorted(counts.index[counts < n_years])
    if not incomplete:
        return jobs, commuting, []
    keep_c = ~(commuting["home_kommune"].isin(incomplete) | commuting["work_kommune"].isin(incomplete))
    return jobs[~jobs["kommune"].isin(incomplete)], commuting[keep_c], incomplete


def tables_from_data_dir(data_dir: str | os.PathLike, years: Sequence[int], *, on_split: str = "weights",
                         extra: TableFiles | None = None, structure: int = 2020) -> AssembledTables:
    """The model tables from the files of a data folder, on ONE kommune structure.

    Everything comes from :func:`geoproc.data.dataset.load_dataset`: population by sex and age
    2005–2026, jobs/employment (SSB 11618) and commuting (SSB 03321) 2017–2022, all harmonised to
    ``structure`` with ``ssb/kommune_codes_to_2024.csv`` (:mod:`geoproc.data.harmonise`), BA
    regions, kommune names and the national schedules of ``national/``. Every merge, split, drop
    and imputation is a step of the report.

    Parameters
    ----------
    data_dir : path-like
        Folder with ``ssb/`` and ``national/`` (see their READMEs).
    years : sequence of int
        Model years (VRA with two lags needs jobs from three years before the first; the data
        have 2017–2022).
    on_split : {"weights", "raise"}, default "weights"
        Kommuner split between several kommuner of the target structure (Snillfjord, Tysfjord in
        2017–2019): divide their counts by the code table's weights (approximate, reported) or
        stop with an InputError.
    extra : TableFiles, optional
        Tables the folder does not have (net_migration — tidy or SSB's 09588 export —,
        centrality, births, deaths).
    structure : int, default 2020
        Target kommune structure (a year: 2020 = the 356 kommuner of 2020–2023).

    Returns
    -------
    AssembledTables
        jobs, commuting, population_by_age_sex, population, employment, regions (``region`` =
        BA region code), national (:class:`geoproc.data.national.NationalDemography`), names.
    """
    if on_split not in ("weights", "raise"):
        raise InputError(f"on_split must be 'weights' (divide a split kommune by the code table's weights) or "
                         f"'raise', not {on_split!r}.")
    years = sorted(int(y) for y in years)
    dataset = load_dataset(data_dir, structure).for_run()
    report = AssemblyReport(source=f"data folder {data_dir} ({dataset.structure} kommune structure)",
                            files=[Path(data_dir)])
    splits = dataset.report.changes(("split",))
    first = (years[0] - 3) if years else None
    if on_split == "raise" and first is not None:
        used = splits[splits["year"] >= first]
        if len(used):
            raise InputError(f"kommuner {sorted(set(used['code_from']))} of {sorted(set(used['year']))} were split "
                             f"between several {dataset.structure} kommuner; with --on-split raise the run stops. Use "
                             "--on-split weights (counts divided by the code table's weights) or later years.")
    split_codes = sorted(set(splits["code_from"]) | set(splits["code_to"]))
    for line in dataset.report.summary():
        report.add("code_conversion", line, split_codes if "split" in line else ())
    for r in dataset.imputed.itertuples():
        report.add("interpolated", f"{r.table} {r.year}, kommune {r.kommune}: {r.method}.", [r.kommune])
    for note in dataset.notes:
        if note == dataset.own_region_note:
            report.add("own_region", note, dataset.own_regions)
        else:
            codes = next((ks for y, ks in dataset.absent.items() if f"population {y} " in note), [])
            report.add("missing_kommuner", note, codes)
    tables = {
        "jobs": dataset.jobs[["year", "kommune", "jobs"]],
        "commuting": dataset.commuting,
        "population_by_age_sex": dataset.population_age_sex,
        "population": dataset.population,
        "employment": dataset.employment,
        "regions": dataset.regions,
        "national": dataset.national,
    }
    if extra is not None:
        tables.update(_read_given(extra, ("net_migration", "centrality", "births", "deaths"), report))
    return AssembledTables(tables, report, dataset.names)


def tables_from_ssb(years: Sequence[int], *, extra: TableFiles | None = None) -> AssembledTables:
    """The model tables downloaded from SSB's PxWebApi (:mod:`geoproc.data.ssb_client`; online).

    Parameters
    ----------
    years : sequence of int
        Model years. Jobs (11618) and commuting (03321) are fetched for the VRA years (from three
        years before the first), population by age and sex (07459) for the model years and the
        year after (net migration by the cohort-survival residual unless ``extra`` has it).
        Kommune codes are those of each year: keep the years within one code system (e.g. 2020–2023).
    extra : TableFiles, optional
        Tables SSB is not asked for (net_migration, centrality, regions, births, deaths).

    Returns
    -------
    AssembledTables
    """
    years = sorted(int(y) for y in years)
    vra_years = list(range(years[0] - 3, years[-1] + 1))
    pop_years = list(range(years[0], years[-1] + 2))
    report = AssemblyReport(source="SSB PxWebApi (tables 11618, 03321, 07459)")
    employment = ssb_client.fetch_employment(vra_years)
    tables = {
        "jobs": employment.rename(columns={"employed_by_workplace": "jobs"})[["year", "kommune", "jobs"]],
        "commuting": ssb_client.fetch_commuting(vra_years),
        "population_by_age_sex": ssb_client.fetch_population_by_age_sex(pop_years),
    }
    if extra is not None:
        tables.update(_read_given(extra, ("net_migration", "centrality", "regions", "births", "deaths"), report))
    return AssembledTables(tables, report)


def assemble_model_tables(years: Sequence[int], *, files: TableFiles | None = None,
                          data_dir: str | os.PathLike | None = None, ssb: bool = False,
                          on_split: str = "weights") -> AssembledTables:
    """The model tables from SSB online (``ssb``), a data folder (``data_dir``) or ``files``.

    Parameters
    ----------
    years : sequence of int
        Model years.
    files : TableFiles, optional
        The user's tables (with ``ssb``/``data_dir``: the extra tables only).
    data_dir : path-like, optional
        SSB files folder, see :func:`tables_from_data_dir`.
    ssb : bool, default False
        Download from SSB, see :func:`tables_from_ssb`.
    on_split : {"weights", "raise"}
        See :func:`tables_from_data_dir`.

    Returns
    -------
    AssembledTables
    """
    if ssb:
        assembled = tables_from_ssb(years, extra=files)
    elif data_dir:
        assembled = tables_from_data_dir(data_dir, years, on_split=on_split, extra=files)
    else:
        assembled = tables_from_files(files or TableFiles())
    check_model_tables(assembled.tables)   # codes, coverage, 0-1000 scale, population (issue 13)
    return assembled


# ------------------------------------------------------------------------------------------- projections
def population_and_names(population_by_age_sex: str | None = None, data_dir: str | os.PathLike | None = None
                         ) -> tuple[pd.DataFrame, dict | None, AssemblyReport]:
    """The base population by age and sex for a projection, with kommune names when known.

    Parameters
    ----------
    population_by_age_sex : path-like, optional
        year, kommune, sex, age, population.
    data_dir : path-like, optional
        SSB files folder (used when no file is given).

    Returns
    -------
    population : pandas.DataFrame
    names : dict or None
        kommune -> name (from the data folder's regions file).
    report : AssemblyReport
    """
    if population_by_age_sex:
        report = AssemblyReport(source=f"table {Path(population_by_age_sex).name}", files=[Path(population_by_age_sex)])
        return read_table(population_by_age_sex, "population by age and sex"), None, report
    if data_dir:
        report = AssemblyReport(source=f"SSB files in {data_dir}", files=[Path(data_dir)])
        regions = loaders.load_regions(data_dir)
        return (loaders.load_population_by_age_sex(data_dir), dict(zip(regions["kommune"], regions["kommune_name"])),
                report)
    raise InputError("give the base population with --population-age-sex FILE (year, kommune, sex, age, "
                     "population) or --data-dir FOLDER.")


def read_schedule(path: str | os.PathLike, kind: str) -> np.ndarray:
    """A national schedule file as an array (rates per person and year).

    Parameters
    ----------
    path : path-like
        ``kind="fertility"``: age, rate (births per woman); ``kind="mortality"``: sex, age, rate
        (death probability).
    kind : {"fertility", "mortality"}

    Returns
    -------
    numpy.ndarray
        (106,) for fertility, (2, 106) [female, male] × age 0..105 for mortality; ages not in the
        file are 0.
    """
    columns = ["age", "rate"] if kind == "fertility" else ["sex", "age", "rate"]
    df = read_table(path, kind)
    require_columns(df.columns, columns, f"{kind} table", f"Give {', '.join(columns)} (rate per person per year).")
    age = pd.to_numeric(df["age"], errors="coerce")
    if age.isna().any() or (age < 0).any() or (age > MAX_AGE).any():
        raise InputError(f"{kind} table has ages outside 0..{MAX_AGE}; give single years 0..{MAX_AGE}.")
    if kind == "mortality":
        arr = np.zeros((2, N_AGES))
        s = pd.Index(SEXES).get_indexer(df["sex"].astype(str))
        if (s < 0).any():
            raise InputError(f"{kind} table has sex values other than 'female'/'male'.")
        arr[s, age.astype(int)] = df["rate"].astype(float)
        return arr
    arr = np.zeros(N_AGES)
    arr[age.astype(int)] = df["rate"].astype(float)
    return arr


def read_factors(path: str | os.PathLike | None) -> dict[str, pd.Series]:
    """Kommune deviations from the national schedules (multipliers).

    Parameters
    ----------
    path : path-like, optional
        kommune[, fertility_factor][, mortality_factor].

    Returns
    -------
    dict
        ``{"fertility_factor": Series, "mortality_factor": Series}`` (those given), indexed by kommune.
    """
    if path is None:
        return {}
    df = read_table(path, "kommune factors")
    cols = [c for c in ("fertility_factor", "mortality_factor") if c in df.columns]
    if "kommune" not in df.columns or not cols:
        raise InputError(f"kommune factors table needs kommune and fertility_factor and/or mortality_factor; "
                         f"it has {', '.join(map(str, df.columns))}.")
    return {c: df.set_index("kommune")[c] for c in cols}


# ------------------------------------------------------------------------------------------- maps
def unit_polygons(unit: str, *, kommuner: str | os.PathLike | None = None, kommune_field: str = "kommune",
                  data_dir: str | os.PathLike | None = None, regions: pd.DataFrame | None = None):
    """Kommune polygons (a file or the data folder), dissolved to regions for ``unit="region"``.

    Parameters
    ----------
    unit : {"kommune", "region"}
    kommuner : path-like, optional
        Any vector file with the kommune code in ``kommune_field``.
    kommune_field : str, default "kommune"
    data_dir : path-like, optional
        SSB files folder (its ``kommuner_2020.geojson``) when ``kommuner`` is not given.
    regions : pandas.DataFrame, optional
        kommune, region (needed for ``unit="region"``).

    Returns
    -------
    geopandas.GeoDataFrame or None
        ``kommune`` (or ``region``) and geometry; None without polygons.
    """
    gdf = None
    if kommuner:
        gdf = read_vector(kommuner, what="kommune polygons")
        require_columns(gdf.columns, [kommune_field], "kommune polygons", "Pass --kommune-field NAME.")
        gdf = gdf.assign(kommune=normalise_kommune(gdf[kommune_field], "kommune polygons", kommune_field))
    elif data_dir:
        gdf = loaders.load_kommune_polygons(data_dir)
    if gdf is None:
        return None
    if unit == "region":
        if regions is None:
            raise InputError("region maps need the regions table (--regions FILE).")
        mapping = regions.set_index("kommune")["region"]
        gdf = gdf.assign(region=gdf["kommune"].map(mapping)).dropna(subset=["region"])
        gdf = gdf[["region", "geometry"]].dissolve(by="region", as_index=False)
    return gdf


__all__ = ["AssemblyStep", "AssemblyReport", "AssembledTables", "TableFiles", "read_table", "tables_from_files",
           "tables_from_data_dir", "tables_from_ssb", "assemble_model_tables", "keep_complete_kommuner",
           "population_and_names", "read_schedule", "read_factors", "unit_polygons", "CODE_COLUMNS"]
