"""Loaders for the real SSB files in ../shared/data (layout: ``ssb/README.md`` there).

``data_dir`` is the folder holding ``kommuner_2020.geojson``, ``kommuner_2020_population.csv`` and
the ``ssb/`` sub-folder (the SSB CSV files are also found when they lie directly in ``data_dir``).
It defaults to ``$REGIO_DATA_DIR``. Kommune codes are always 4-character strings, years int64,
counts int64 persons. Every table is validated by :mod:`geoproc.data.tables`.

Code systems: files in 2020 codes are checked against the 356 codes of 2020. The 2017–2019
commuting and employment data are published in the codes of their year ('2017' or '2018' system,
see :mod:`geoproc.data.codes`); asking for years from different code systems raises InputError
unless ``to_system`` is given, in which case the data are harmonised with
:func:`geoproc.data.harmonise.harmonise` and SSB's redistricting table of the data folder
(``ssb/kommune_codes_to_2024.csv``): merged kommuner are summed; kommuner split between several
new kommuner raise InputError unless ``on_split='weights'`` (their counts divided by the table's
weights, approximate; the harmonisation report is in ``df.attrs['harmonisation']``). For the
whole data folder on one structure at once see :func:`geoproc.data.dataset.load_dataset`.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from centrality.errors import InputError
from centrality.fileio import read_vector
from geoproc.data import codes as kc
from geoproc.data import harmonise as hm
from geoproc.data import tables
from geoproc.data.paths import ENV_VAR, data_file, data_folder, default_data_dir  # noqa: F401  (part of the API)

log = logging.getLogger(__name__)


COMMUTING_FILES = {"commuting_03321_2017_2019.csv": (2017, 2018, 2019),
                   "commuting_03321_2020_2022.csv": (2020, 2021, 2022)}
EMPLOYMENT_FILE = "employment_11618_2017_2022.csv"
EMPLOYMENT_YEARS = (2017, 2018, 2019, 2020, 2021, 2022)
POPULATION_AGE_FILE = "population_by_age_2005_2021.csv"
POPULATION_AGE_SEX_FILE = "population_by_age_sex_2020_2021.csv"
REGIONS_FILE = "kommune_regions_2020.csv"
CENTROIDS_FILE = "kommune_centroids_2020.csv"
POLYGONS_FILE = "kommuner_2020.geojson"
POPULATION_2020_FILE = "kommuner_2020_population.csv"
YEARS_IN_2020_CODES = (2020, 2021, 2022)


def _read_csv(path: Path, code_cols: Iterable[str]) -> pd.DataFrame:
    """Read a CSV with the kommune/fylke/region code columns as strings."""
    try:
        return pd.read_csv(path, dtype={c: str for c in code_cols}, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot read '{path}': {exc}. Check that it is a UTF-8, comma-separated CSV "
                         "with a header row.") from None


def _select_years(df: pd.DataFrame, years: Iterable[int] | None, available: Iterable[int], what: str) -> pd.DataFrame:
    if years is None:
        return df
    wanted = sorted({int(y) for y in years})
    missing = sorted(set(wanted) - set(int(y) for y in available))
    if missing:
        raise InputError(f"{what}: year(s) {', '.join(map(str, missing))} not available; available years: "
                         f"{', '.join(map(str, sorted(available)))}. Choose years from that range.")
    return df[df["year"].isin(wanted)].reset_index(drop=True)


def _systems_of_years(years: Iterable[int]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for y in sorted(set(int(v) for v in years)):
        out.setdefault(kc.system_for_year(y), []).append(y)
    return out


def _harmonise_years(df: pd.DataFrame, code_cols: list[str], value_cols: list[str], what: str,
                     to_system: str | None, on_split: str, data_dir) -> pd.DataFrame:
    """Bring the per-year code systems of ``df`` to one system (or refuse to mix them)."""
    systems = _systems_of_years(df["year"].unique())
    if to_system is None:
        if len(systems) > 1:
            listing = "; ".join(f"{s} codes in {', '.join(map(str, ys))}" for s, ys in systems.items())
            raise InputError(
                f"{what}: the requested years use different kommune code systems ({listing}), so the same "
                "code would mean different areas. Ask for years of one code system, or pass "
                "to_system='2020' to harmonise them (merged kommuner are summed; kommuner split in a reform "
                "need on_split='weights').")
        return df
    if on_split not in ("raise", "weights"):
        raise InputError(f"on_split must be 'raise' or 'weights' (divide a split kommune by the code table's "
                         f"weights), not {on_split!r}.")
    codes = hm.load_code_table(data_dir)
    out, report = hm.harmonise(df, code_cols, value_cols, codes=codes, target=int(to_system), what=what)
    splits = report.changes(("split",))
    if on_split == "raise" and len(splits):
        listing = "; ".join(f"{c} ({int(y)}) -> {', '.join(sorted(set(g['code_to'])))}"
                            for (c, y), g in splits.groupby(["code_from", "year"]))
        raise InputError(f"{what}: kommuner split between several {to_system} kommuner cannot be harmonised by "
                         f"summing: {listing}. Pass on_split='weights' to divide them by the code table's weights "
                         "(approximate, reported in attrs['harmonisation']).")
    out = out.sort_values(["year", *code_cols]).reset_index(drop=True)
    out.attrs["harmonisation"] = report
    return out


def _validated_by_year(df: pd.DataFrame, validator, to_system: str | None, **kwargs) -> pd.DataFrame:
    """Validate each code system's years against its code list (or ``to_system`` after harmonising)."""
    report = df.attrs.get("harmonisation")
    if to_system is not None:
        out = validator(df, code_system=to_system, **kwargs)
    else:
        out = pd.concat([validator(df[df["year"].isin(ys)], code_system=system, **kwargs)
                         for system, ys in _systems_of_years(df["year"].unique()).items()], ignore_index=True)
    if report is not None:
        out.attrs["harmonisation"] = report
    return out


def load_commuting(data_dir: str | os.PathLike | None = None, years: Iterable[int] | None = None, *,
                   to_system: str | None = None, on_split: str = "raise") -> pd.DataFrame:
    """Commuting matrix (SSB 03321, 4th quarter, ages 15–74).

    ``years=None`` gives 2020–2022 (2020 codes). 2017–2019 are in the codes of their year; mixing
    code systems raises InputError unless ``to_system`` (e.g. '2020') is given. Pairs not listed
    are 0 persons. 2019 lacks Rindal (1567) – see ssb/README.md.

    Parameters
    ----------
    data_dir : path-like, optional
        The data folder (``../shared/data``-style; default ``$REGIO_DATA_DIR``).
    years : iterable of int, optional
        Years to read.
    to_system : str, optional
        Harmonise to this code system (:func:`geoproc.data.harmonise.harmonise`).
    on_split : {"raise", "weights"}
        Split kommuner when harmonising: stop, or divide by the code table's weights.

    Returns
    -------
    pandas.DataFrame
        year, home_kommune, work_kommune, employed (persons).
    """
    wanted = set(YEARS_IN_2020_CODES if years is None else (int(y) for y in years))
    available = sorted(y for ys in COMMUTING_FILES.values() for y in ys)
    frames = []
    for name, file_years in COMMUTING_FILES.items():
        if wanted & set(file_years):
            raw = _read_csv(data_file(data_dir, name), ["home_kommune", "work_kommune"])
            frames.append(raw[raw["year"].isin(wanted)])
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["year"])
    df = _select_years(df, wanted, available, "commuting (SSB 03321)")
    df = _harmonise_years(df, ["home_kommune", "work_kommune"], ["employed"], "commuting (SSB 03321)",
                          to_system, on_split, data_dir)
    return _validated_by_year(df, tables.validate_commuting, to_system)


def load_employment(data_dir: str | os.PathLike | None = None, years: Iterable[int] | None = None, *,
                    to_system: str | None = None, on_split: str = "raise") -> pd.DataFrame:
    """Employment (SSB 11618, 4th quarter, ages 15–74).

    ``years=None`` gives 2020–2022 (2020 codes); 2017–2019 need ``years=`` and, when mixed with
    2020+ years, ``to_system='2020'``.

    Parameters
    ----------
    data_dir : path-like, optional
        The data folder (``../shared/data``-style; default ``$REGIO_DATA_DIR``).
    years : iterable of int, optional
        Years to read.
    to_system : str, optional
        Harmonise to this code system.
    on_split : {"raise", "weights"}
        Split kommuner when harmonising: stop, or divide by the code table's weights.

    Returns
    -------
    pandas.DataFrame
        year, kommune, population_15_74, employed_by_residence, employed_by_workplace (persons;
        by workplace = jobs in the model).
    """
    raw = _read_csv(data_file(data_dir, EMPLOYMENT_FILE), ["kommune"])
    df = _select_years(raw, YEARS_IN_2020_CODES if years is None else years, EMPLOYMENT_YEARS,
                       "employment (SSB 11618)")
    value_cols = ["population_15_74", "employed_by_residence", "employed_by_workplace"]
    df = _harmonise_years(df, ["kommune"], value_cols, "employment (SSB 11618)", to_system, on_split, data_dir)
    return _validated_by_year(df, tables.validate_employment, to_system)


def _load_population(data_dir, name: str, years, validator) -> pd.DataFrame:
    df = _read_csv(data_file(data_dir, name), ["kommune"])
    if "year" in df.columns:
        df = _select_years(df, years, sorted(df["year"].unique()), f"population file '{name}'")
    return validator(df, code_system="2020")


def load_population_by_age(data_dir: str | os.PathLike | None = None,
                           years: Iterable[int] | None = None) -> pd.DataFrame:
    """Population 1 January by single age (SSB 07459) in 2020 codes, 2005–2021.

    Years before 2020 lack some kommuner (split predecessors; see ssb/README.md).

    Parameters
    ----------
    data_dir : path-like, optional
        The data folder (``../shared/data``-style; default ``$REGIO_DATA_DIR``).
    years : iterable of int, optional
        Years to keep (default all).

    Returns
    -------
    pandas.DataFrame
        year, kommune, age (0..105, 105 = 105+), population (persons).
    """
    return _load_population(data_dir, POPULATION_AGE_FILE, years, tables.validate_population)


def load_population_by_age_sex(data_dir: str | os.PathLike | None = None,
                               years: Iterable[int] | None = None) -> pd.DataFrame:
    """Population 1 January by sex and age (SSB 07459), 2020 codes, 2020–2021.

    Parameters
    ----------
    data_dir : path-like, optional
        The data folder (``../shared/data``-style; default ``$REGIO_DATA_DIR``).
    years : iterable of int, optional
        Years to keep (default all).

    Returns
    -------
    pandas.DataFrame
        year, kommune, sex ('female'/'male'), age (0..105), population (persons).
    """
    return _load_population(data_dir, POPULATION_AGE_SEX_FILE, years, tables.validate_population_age_sex)


def load_regions(data_dir: str | os.PathLike | None = None, *, fill_missing: str | None = None,
                 warn: bool = True) -> pd.DataFrame:
    """Kommune -> fylke -> BA region (2020).

    The source has no BA region for 3053 Jevnaker, 3054 Lunner and 5061 Rindal (kommuner that
    changed fylke in 2020).

    Parameters
    ----------
    data_dir : path-like, optional
        The data folder (``../shared/data``-style; default ``$REGIO_DATA_DIR``).
    fill_missing : {None, "own"}
        None (default): their ``ba_region_*`` stay missing (NaN); region-level model functions
        (:func:`geoproc.data.tables.validate_regions`) then refuse the table, naming them.
        ``'own'``: each becomes its own one-kommune region, code ``'k' + kommune`` (``'k3053'``,
        never clashing with the 3-digit BA codes), name ``'<kommune name> (own region)'``; a warning
        is logged and the filled kommuner are listed in ``df.attrs['filled_regions']``. A stop-gap,
        not SSB's classification: assign them yourself for a real analysis.
    warn : bool, default True
        False: no log warning for the filled kommuner; the caller reports
        ``df.attrs['filled_regions']`` itself (e.g. once in a run's notes and manifest, as
        :func:`geoproc.data.dataset.load_dataset` does).

    Returns
    -------
    pandas.DataFrame
        kommune, kommune_name, fylke_code, fylke_name, ba_region_code, ba_region_name (codes as
        strings: '03', '005').
    """
    if fill_missing not in (None, "own"):
        raise InputError(f"fill_missing must be None or 'own', not {fill_missing!r}.")
    cols = ["kommune", "kommune_name", "fylke_code", "fylke_name", "ba_region_code", "ba_region_name"]
    df = _read_csv(data_file(data_dir, REGIONS_FILE), ["kommune", "fylke_code", "ba_region_code"])
    tables.check_columns(df, cols, f"regions file '{REGIONS_FILE}'")
    out = tables.validate_regions(df[cols], region_col="fylke_code", code_system="2020")
    missing = out["ba_region_code"].isna()
    out.attrs["filled_regions"] = []
    if fill_missing == "own" and missing.any():
        filled = out.loc[missing, "kommune"].tolist()
        out.loc[missing, "ba_region_code"] = "k" + out.loc[missing, "kommune"]
        out.loc[missing, "ba_region_name"] = out.loc[missing, "kommune_name"] + " (own region)"
        out.attrs["filled_regions"] = filled
        if warn:
            log.warning("kommuner %s have no BA region in %s; each is used as its own one-kommune region "
                        "(code 'k<kommune>'). Assign them to a BA region yourself for a real analysis.",
                        ", ".join(filled), REGIONS_FILE)
    return out


def load_jobs_series(data_dir: str | os.PathLike | None = None, years: Iterable[int] | None = None, *,
                     to_system: str | None = "2020", on_split: str = "weights",
                     fill_gaps: str = "interpolate") -> pd.DataFrame:
    """Jobs by place of work for a run of years in ONE code system, for job growth and the VRA lags.

    SSB 11618 ``employed_by_workplace`` (persons 15–74, 4th quarter). Years published in older
    codes (2017, 2018–2019) are harmonised to ``to_system`` with
    :func:`geoproc.data.harmonise.harmonise`: merged kommuner are summed (exact); a kommune split
    between several new kommuners is, with ``on_split='weights'``, divided by the code table's
    weights (approximate). Flags, never silent:

    - ``split``: True on the pre-reform rows of EVERY successor of a split kommune (e.g. 5055 Heim,
      5056 Hitra, 5059 Orkland for Snillfjord; 1806 Narvik, 1875 Hamarøy for Tysfjord): their
      jobs before the reform are approximate, so their growth into the reform year is too.
    - ``imputed``: True where a kommune is missing in a year but present before and after: the
      value is interpolated geometrically (constant growth rate) between the nearest years,
      ``J_y = J_a · (J_b / J_a)^((y−a)/(b−a))``. The case in the data: 5061 Rindal 2019 (the
      source has no Rindal row for 2019; see ssb/README.md), J_2019 = √(J_2018 · J_2020).

    A warning is logged for each approximation and the texts are kept in ``df.attrs['warnings']``.

    Parameters
    ----------
    data_dir : path-like, optional
        The data folder (``../shared/data``-style; default ``$REGIO_DATA_DIR``).
    years : iterable of int, optional
        Default 2017–2022.
    to_system : str, optional
        Target code system (default '2020').
    on_split : {"weights", "raise"}
        Split kommuner (see above).
    fill_gaps : {"interpolate", "raise"}
        Interior gaps interpolated, or an InputError. Gaps at the first/last year always raise.

    Returns
    -------
    pandas.DataFrame
        year, kommune, jobs (float64 persons), split, imputed (bool flags).
    """
    if fill_gaps not in ("interpolate", "raise"):
        raise InputError(f"fill_gaps must be 'interpolate' or 'raise', not {fill_gaps!r}.")
    if on_split not in ("weights", "raise"):
        raise InputError(f"load_jobs_series: on_split must be 'weights' (split kommuner divided by the code "
                         f"table's weights, flagged) or 'raise', not {on_split!r}.")
    years = sorted({int(y) for y in (EMPLOYMENT_YEARS if years is None else years)})
    emp = load_employment(data_dir, years=years, to_system=to_system, on_split=on_split)
    jobs = emp[["year", "kommune", "employed_by_workplace"]].rename(columns={"employed_by_workplace": "jobs"})
    warnings: list[str] = []
    jobs = jobs.assign(jobs=jobs["jobs"].astype("float64"), split=False, imputed=False)
    report = emp.attrs.get("harmonisation")
    if report is not None:
        splits = report.changes(("split",))
        for ys, g in splits.groupby("year"):
            rows = (jobs["year"] == ys) & jobs["kommune"].isin(set(g["code_to"]))
            jobs.loc[rows, "split"] = True
        if len(splits):
            ys = sorted(int(y) for y in splits["year"].unique())
            warnings.append(f"jobs {', '.join(map(str, ys))} harmonised to {to_system} codes: kommuner split in a "
                            "reform were divided by the code table's weights (on_split='weights'); the jobs of "
                            f"successors {', '.join(sorted(set(splits['code_to'])))} in those years are "
                            "approximate (flag 'split').")
    jobs, gap_warnings = _fill_year_gaps(jobs, years, fill_gaps)
    warnings += gap_warnings
    for text in warnings:
        log.warning(text)
    jobs = jobs.sort_values(["year", "kommune"]).reset_index(drop=True)
    jobs.attrs["warnings"] = warnings
    return jobs


def _fill_year_gaps(jobs: pd.DataFrame, years: list[int], fill_gaps: str) -> tuple[pd.DataFrame, list[str]]:
    """Geometric interpolation of interior missing (kommune, year) cells; InputError for the rest."""
    wide = jobs.pivot(index="kommune", columns="year", values="jobs").reindex(columns=years)
    gaps = wide.isna()
    if not gaps.any().any():
        return jobs, []
    cells = [(k, y) for k, y in zip(*np.nonzero(gaps.to_numpy()))]
    labels = [f"{wide.index[k]} {years[y]}" for k, y in cells]
    interior = all(wide.iloc[k, :y].notna().any() and wide.iloc[k, y + 1:].notna().any() for k, y in cells)
    if fill_gaps == "raise" or not interior:
        raise InputError(f"jobs are missing for {', '.join(labels)} (kommune year); growth across those years is "
                         "undefined. Use fill_gaps='interpolate' (interior gaps only) or choose years without gaps.")
    filled = np.log(wide).interpolate(axis=1, method="index", limit_area="inside").pipe(np.exp)
    new = filled.where(gaps).stack().dropna().rename("jobs").reset_index()
    new = new.assign(split=False, imputed=True)
    text = (f"jobs missing for {', '.join(labels)} (kommune year) were interpolated geometrically between the "
            "nearest years with data (flag 'imputed').")
    return pd.concat([jobs, new[["year", "kommune", "jobs", "split", "imputed"]]], ignore_index=True), [text]


def load_centroids(data_dir: str | os.PathLike | None = None):
    """Kommune points (centroid of the largest polygon part, not population weighted).

    Parameters
    ----------
    data_dir : path-like, optional
        The data folder (``../shared/data``-style; default ``$REGIO_DATA_DIR``).

    Returns
    -------
    geopandas.GeoDataFrame
        kommune, name, geometry (EPSG:4326, degrees).
    """
    df = _read_csv(data_file(data_dir, CENTROIDS_FILE), ["kommune"])
    tables.check_columns(df, ["kommune", "name", "lon", "lat"], f"centroids file '{CENTROIDS_FILE}'")
    tables.check_no_nan(df, ["lon", "lat"], "centroids", ["kommune"])
    df = tables.validate_regions(df, region_col="name", code_system="2020")
    geometry = gpd.points_from_xy(df["lon"], df["lat"], crs="EPSG:4326")
    return gpd.GeoDataFrame(df[["kommune", "name"]], geometry=geometry, crs="EPSG:4326")


def load_kommune_polygons(data_dir: str | os.PathLike | None = None):
    """The 356 kommuner of 2020 as (Multi)Polygons.

    Parameters
    ----------
    data_dir : path-like, optional
        The data folder (``../shared/data``-style; default ``$REGIO_DATA_DIR``).

    Returns
    -------
    geopandas.GeoDataFrame
        kommune (4-character text), name, geometry (EPSG:4326).
    """
    gdf = read_vector(data_file(data_dir, POLYGONS_FILE), what="kommune polygons")
    tables.check_columns(gdf, ["kommunenummer", "navn"], f"'{POLYGONS_FILE}'")
    out = gdf.rename(columns={"navn": "name"})
    out["kommune"] = tables.normalise_kommune(out["kommunenummer"], "kommune polygons", "kommunenummer")
    tables.check_unique(out, ["kommune"], "kommune polygons")
    tables.check_code_system(out["kommune"], "2020", "kommune polygons")
    out = out[["kommune", "name", "geometry"]].reset_index(drop=True)
    return out if out.crs is not None else out.set_crs("EPSG:4326")


def load_kommune_population_2020(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Population 1 January 2020 per kommune.

    Parameters
    ----------
    data_dir : path-like, optional
        The data folder (``../shared/data``-style; default ``$REGIO_DATA_DIR``).

    Returns
    -------
    pandas.DataFrame
        kommune, name, fylke (2-digit code), fylke_name, population (persons), area_km2 (km²).
    """
    df = _read_csv(data_file(data_dir, POPULATION_2020_FILE), ["kommunenummer", "fylkesnummer"])
    src = ["kommunenummer", "kommunenavn", "fylkesnummer", "fylkesnavn", "folketall_2020", "areal_km2"]
    tables.check_columns(df, src, f"'{POPULATION_2020_FILE}'")
    df = df[src].rename(columns={"kommunenummer": "kommune", "kommunenavn": "name", "fylkesnummer": "fylke",
                                 "fylkesnavn": "fylke_name", "folketall_2020": "population",
                                 "areal_km2": "area_km2"})
    out = tables.validate_table(df, "kommune population 2020", kommune_cols=["kommune"], int_cols=[],
                           count_cols=["population", "area_km2"], keys=["kommune"], extra=["name", "fylke"],
                           code_system="2020")
    out["area_km2"] = out["area_km2"].astype("float64")
    return out
