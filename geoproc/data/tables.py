"""Validators for the tidy geoproc tables (docs/architecture.md, "geoproc tables").

Every validator takes a DataFrame, checks it and returns a *normalised copy*: kommune codes as
4-character strings, years and ages as int64, counts as int64 (or float64 when fractional).
Bad input raises :class:`centrality.errors.InputError` naming the problem (which rows, which
kommuner) and the fix. Counts are persons; shares are fractions (0..1).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from centrality.errors import InputError, listing, require_columns
from geoproc.data.codes import check_code_system  # noqa: F401  (part of this module's API)

MAX_AGE = 105  # SSB's open age group: 105 means "105 years or older"
SEXES = ("female", "male")
_MAX_LISTED = 10


def _row_labels(df: pd.DataFrame, mask: pd.Series, key_cols: Sequence[str]) -> str:
    """Describe the rows selected by ``mask`` by their key columns (e.g. 'year=2020 kommune=0301')."""
    keys = [c for c in key_cols if c in df.columns]
    rows = df.loc[mask, keys].head(_MAX_LISTED + 1) if keys else df.loc[mask].head(_MAX_LISTED + 1)
    labels = [" ".join(f"{k}={r[k]}" for k in keys) if keys else f"row {i}" for i, r in rows.iterrows()]
    n = int(mask.sum())
    text = "; ".join(labels[:_MAX_LISTED])
    if n > _MAX_LISTED:
        text += f" (+{n - _MAX_LISTED} more)"
    return text


# ----------------------------------------------------------------------------------------- checks
def check_columns(df: pd.DataFrame, required: Sequence[str], what: str, hint: str | None = None) -> None:
    """Raise InputError when ``df`` is not a DataFrame or lacks a required column.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    required : sequence of str
        Column names it must have (close matches are suggested).
    what : str
        The table, for messages (e.g. "jobs table").
    hint : str, optional
        The fix (default: rename to the documented column names).
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{what} must be a pandas DataFrame, got {type(df).__name__}; load it with "
                         f"pandas.read_csv(...) first (columns {', '.join(required)}).")
    require_columns(df.columns, list(required), what,
                    hint=hint or "Rename the columns to the names in docs/architecture.md (geoproc tables).")


def check_table(df: pd.DataFrame, required: Sequence[str], what: str, hint: str | None = None, *,
                key_cols: Sequence[str] = ()) -> pd.DataFrame:
    """Required columns present (:func:`check_columns`) and without missing values (:func:`check_no_nan`).

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    required : sequence of str
        Column names it must have.
    what : str
        The table, for messages (e.g. "jobs table").
    hint : str, optional
        The fix for a missing column.
    key_cols : sequence of str
        Columns that name the offending rows in the message (e.g. year, kommune).

    Returns
    -------
    pandas.DataFrame
        ``df`` unchanged (no copy, no normalisation).
    """
    check_columns(df, required, what, hint)
    check_no_nan(df, required, what, key_cols=key_cols)
    return df


def check_known_codes(codes: Iterable, known: Iterable, what: str, fix: str) -> None:
    """Raise InputError listing the ``codes`` that are not in ``known`` (e.g. work kommuner without jobs).

    Parameters
    ----------
    codes : iterable
        Codes to check.
    known : iterable
        Valid codes.
    what : str
        The table, for messages (e.g. "jobs table").
    fix : str
        The fix, appended to the message.
    """
    unknown = sorted(set(codes) - set(known), key=str)
    if unknown:
        raise InputError(f"{what}: unknown codes {listing(unknown)}. {fix}")


def check_years(needed: Iterable[int], available: Iterable[int], what: str, fix: str) -> None:
    """Raise InputError naming the ``needed`` years that are missing from ``available``.

    Parameters
    ----------
    needed, available : iterable of int
        Calendar years.
    what : str
        The table, for messages (e.g. "jobs table").
    fix : str
        The fix, appended to the message.
    """
    have = sorted({int(y) for y in available})
    missing = sorted({int(y) for y in needed} - set(have))
    if missing:
        raise InputError(f"{what}: years {', '.join(map(str, missing))} are needed but missing "
                         f"(available: {listing(have)}). {fix}")


def check_no_nan(df: pd.DataFrame, cols: Sequence[str], what: str, key_cols: Sequence[str] = ()) -> None:
    """Raise InputError when a required column has missing values; names the rows.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    cols : sequence of str
        Columns that must be complete.
    what : str
        The table, for messages (e.g. "jobs table").
    key_cols : sequence of str
        Columns that name the offending rows in the message (e.g. year, kommune).
    """
    for col in cols:
        mask = df[col].isna()
        if mask.any():
            keys = [k for k in key_cols if k != col]
            raise InputError(
                f"{what}: column '{col}' has {int(mask.sum())} missing (NaN/NULL) values in rows "
                f"{_row_labels(df, mask, keys)}. Fill them (e.g. 0 for a count that is truly zero) "
                "or drop those rows before running.")


def normalise_kommune(values: pd.Series, what: str, col: str = "kommune") -> pd.Series:
    """Kommune codes as 4-character strings.

    Integers (e.g. 301 from a GeoJSON 'kommunenummer') are zero-padded to '0301'. Strings must
    already be 4 digits: '301' is rejected because a string that lost its leading zero usually
    means a CSV was read with the wrong dtype (read it with ``dtype={'kommune': str}``).

    Parameters
    ----------
    values : pandas.Series
        Codes (integers or text).
    what : str
        The table, for messages (e.g. "jobs table").
    col : str, default "kommune"
        The column, for messages.

    Returns
    -------
    pandas.Series
        Text codes ("0301").
    """
    if pd.api.types.is_integer_dtype(values.dtype):
        out = values.astype("int64").map(lambda v: f"{v:04d}")
    elif pd.api.types.is_float_dtype(values.dtype):
        if not np.all(np.mod(values.dropna(), 1) == 0):
            raise InputError(f"{what}: column '{col}' holds non-integer numbers; kommune codes are 4-digit codes like '0301'.")
        out = values.map(lambda v: f"{int(v):04d}" if pd.notna(v) else v)
    else:
        out = values.astype(str).str.strip()
    check_kommune_format(out, what, col)
    return out.astype(str)


def check_kommune_format(codes: pd.Series, what: str, col: str = "kommune") -> None:
    """Raise InputError unless every code is exactly 4 digits ('0301').

    Parameters
    ----------
    codes : pandas.Series
        Kommune codes (text).
    what : str
        The table, for messages (e.g. "jobs table").
    col : str, default "kommune"
        The column, for messages.
    """
    bad = codes[~codes.astype(str).str.fullmatch(r"\d{4}")]
    if len(bad):
        raise InputError(
            f"{what}: column '{col}' has {len(bad)} value(s) that are not 4-digit kommune codes: "
            f"{listing(sorted(set(map(repr, bad))))}. Kommune codes are 4-character strings with a "
            f"leading zero ('0301'); read CSV files with dtype={{'{col}': str}}.")


def check_non_negative(df: pd.DataFrame, cols: Sequence[str], what: str, key_cols: Sequence[str] = ()) -> None:
    """Raise InputError when a count column has negative, infinite or non-numeric values; names the rows.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    cols : sequence of str
        Count columns (persons, jobs).
    what : str
        The table, for messages (e.g. "jobs table").
    key_cols : sequence of str
        Columns that name the offending rows in the message (e.g. year, kommune).
    """
    for col in cols:
        values = pd.to_numeric(df[col], errors="coerce").astype("float64")
        mask = (values.isna() & df[col].notna()) | np.isinf(values) | (values < 0)
        if mask.any():
            raise InputError(
                f"{what}: column '{col}' has {int(mask.sum())} negative, infinite or non-numeric value(s) in rows "
                f"{_row_labels(df, mask, key_cols)}. Counts cannot be negative; fix the source data.")


def check_unique(df: pd.DataFrame, keys: Sequence[str], what: str) -> None:
    """Raise InputError when key combinations occur more than once (duplicates listed).

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    keys : sequence of str
        Key columns.
    what : str
        The table, for messages (e.g. "jobs table").
    """
    dup = df.duplicated(list(keys), keep=False)
    if dup.any():
        groups = df.loc[dup, list(keys)].drop_duplicates()
        labels = [" ".join(f"{k}={r[k]}" for k in keys) for _, r in groups.iterrows()]
        raise InputError(
            f"{what}: {len(groups)} duplicated key(s) ({', '.join(keys)}): {listing(labels)}. "
            "Each key must occur once; aggregate (sum) the duplicates or remove the repeated rows.")


def check_range(df: pd.DataFrame, col: str, lo: float, hi: float, what: str, key_cols: Sequence[str] = (),
                fix: str = "Fix or drop those rows.") -> None:
    """Raise InputError when values in ``col`` fall outside [lo, hi].

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    col : str
        The column.
    lo, hi : float
        Inclusive bounds, in the column's unit.
    what : str
        The table, for messages (e.g. "jobs table").
    key_cols : sequence of str
        Columns that name the offending rows in the message (e.g. year, kommune).
    fix : str
        Ends the message.
    """
    mask = (df[col] < lo) | (df[col] > hi)
    if mask.any():
        raise InputError(
            f"{what}: column '{col}' must lie in {lo}..{hi}; {int(mask.sum())} row(s) outside: "
            f"{_row_labels(df, mask, list(key_cols) + [col])}. {fix}")


def _numbers(df: pd.DataFrame, col: str, what: str) -> pd.Series:
    """Column as numbers (missing stays missing); InputError naming the text values."""
    values = pd.to_numeric(df[col], errors="coerce")
    bad = values.isna() & df[col].notna()
    if bad.any():
        raise InputError(f"{what}: column '{col}' has non-numeric values: {listing(df.loc[bad, col].unique())}. "
                         "Use plain numbers.")
    return values


def _to_int(df: pd.DataFrame, col: str, what: str) -> pd.Series:
    """Column as int64; InputError for text or fractional values."""
    values = _numbers(df, col, what)
    if not np.all(np.mod(values.dropna(), 1) == 0):
        raise InputError(f"{what}: column '{col}' must hold whole numbers (years, ages, persons); found fractions.")
    return values.astype("int64")


def _to_count(df: pd.DataFrame, col: str, what: str) -> pd.Series:
    """Count column as int64 when whole, else float64 (e.g. harmonised estimates)."""
    values = _numbers(df, col, what)
    if np.all(np.mod(values, 1) == 0):
        return values.astype("int64")
    return values.astype("float64")


def check_shares_sum_to_one(shares: pd.DataFrame, tol: float = 1e-6, group_col: str = "home_kommune",
                            share_col: str = "share") -> None:
    """Raise InputError unless shares sum to 1 (within ``tol``) for every group.

    Parameters
    ----------
    shares : pandas.DataFrame
        Long table (e.g. year, home_kommune, work_kommune, share); the sum is taken per
        ``group_col`` (plus ``year`` when present).
    tol : float, default 1e-6
        Allowed deviation from 1.
    group_col : str, default "home_kommune"
        Group column.
    share_col : str, default "share"
        Share column (fractions).
    """
    check_columns(shares, [group_col, share_col], "commuting shares")
    keys = [c for c in ("year", group_col) if c in shares.columns]
    sums = shares.groupby(keys)[share_col].sum()
    bad = sums[(sums - 1.0).abs() > tol]
    if len(bad):
        labels = [f"{k}: {v:.6f}" for k, v in bad.items()]
        raise InputError(f"commuting shares do not sum to 1 (tolerance {tol}) for {len(bad)} group(s) "
                         f"of {', '.join(keys)}: {listing(labels)}. Give the employed counts instead (shares are then "
                         "computed), or normalise the shares per home and year (a home with zero employed cannot "
                         "have shares).")


# ------------------------------------------------------------------------------------ validators
def normalise_region(values: pd.Series, what: str, col: str = "region") -> pd.Series:
    """Region codes/names as stripped strings (any non-empty text, e.g. BA region '005').

    Parameters
    ----------
    values : pandas.Series
        Region codes.
    what : str
        The table, for messages (e.g. "jobs table").
    col : str, default "region"
        The column, for messages.

    Returns
    -------
    pandas.Series
        Text codes.
    """
    out = values.astype(str).str.strip()
    empty = out == ""
    if empty.any():
        raise InputError(f"{what}: column '{col}' has {int(empty.sum())} empty region code(s). "
                         "Give every row a region code.")
    return out


def _unit_cols(unit: str, cols: Sequence[str]) -> dict[str, list[str]]:
    """Route code columns to kommune (4-digit, normalised) or region (any text) handling."""
    if unit not in ("kommune", "region"):
        raise InputError(f"unit must be 'kommune' or 'region', got {unit!r}.")
    return {"kommune_cols" if unit == "kommune" else "region_cols": list(cols)}


def validate_table(df: pd.DataFrame, what: str, *, keys: Sequence[str], kommune_cols: Sequence[str] = (),
                   region_cols: Sequence[str] = (), int_cols: Sequence[str] = (), count_cols: Sequence[str] = (),
                   extra: Sequence[str] = (), code_system: str | int | None = None) -> pd.DataFrame:
    """The shared checks of every validator.

    Columns present, no NaN, kommune codes 4-character strings (:func:`normalise_kommune`), region
    codes strings, ``int_cols`` whole numbers (int64), ``count_cols`` non-negative finite numbers
    (int64 when whole, else float64), ``keys`` unique, kommune codes in ``code_system`` (if given).

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    what : str
        The table, for messages (e.g. "jobs table").
    keys : sequence of str
        Columns that identify a row.
    kommune_cols, region_cols, int_cols, count_cols, extra : sequence of str
        Columns of each kind (``extra``: required, not normalised).
    code_system : str or int, optional
        Kommune code system ('2017', '2018', '2020', '2024' or a year) the codes must belong to.

    Returns
    -------
    pandas.DataFrame
        A normalised copy.
    """
    required = list(dict.fromkeys([*keys, *kommune_cols, *region_cols, *int_cols, *count_cols, *extra]))
    check_columns(df, required, what)
    out = df.copy()
    check_no_nan(out, required, what, key_cols=keys)
    for col in kommune_cols:
        out[col] = normalise_kommune(out[col], what, col)
    for col in region_cols:
        out[col] = normalise_region(out[col], what, col)
    for col in int_cols:
        out[col] = _to_int(out, col, what)
    for col in count_cols:
        out[col] = _to_count(out, col, what)
    check_non_negative(out, count_cols, what, key_cols=keys)
    check_unique(out, keys, what)
    if code_system is not None:
        for col in kommune_cols:
            check_code_system(out[col].unique(), code_system, f"{what} ({col})")
    return out.reset_index(drop=True)


def validate_counts(df: pd.DataFrame, col: str, what: str, *, unit: str = "kommune",
                    code_system: str | int | None = None) -> pd.DataFrame:
    """Yearly counts per unit: ``year, <unit>, <col>`` (persons >= 0, one row per year and unit).

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    col : str
        The count column.
    what : str
        The table, for messages (e.g. "jobs table").
    unit : {"kommune", "region"}
        Unit column.
    code_system : str or int, optional
        Kommune code system ('2017', '2018', '2020', '2024' or a year) the codes must belong to.

    Returns
    -------
    pandas.DataFrame
        A normalised copy (:func:`validate_table`).
    """
    return validate_table(df, what, keys=["year", unit], int_cols=["year"], count_cols=[col],
                          code_system=code_system, **_unit_cols(unit, [unit]))


def validate_population(df: pd.DataFrame, code_system: str | int | None = None) -> pd.DataFrame:
    """Population by single age: year, kommune, age (0..105, 105 = 105+), population (persons).

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    code_system : str or int, optional
        Kommune code system ('2017', '2018', '2020', '2024' or a year) the codes must belong to.

    Returns
    -------
    pandas.DataFrame
        A normalised copy.
    """
    what = "population table"
    out = validate_table(df, what, kommune_cols=["kommune"], int_cols=["year", "age"], count_cols=["population"],
                         keys=["year", "kommune", "age"], code_system=code_system)
    check_range(out, "age", 0, MAX_AGE, what, ["year", "kommune"])
    return out


def validate_population_age_sex(df: pd.DataFrame, code_system: str | int | None = None, *,
                                unit: str = "kommune") -> pd.DataFrame:
    """Population by age and sex: year, <unit>, sex ('female'/'male'), age (0..105), population (persons).

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    code_system : str or int, optional
        Kommune code system ('2017', '2018', '2020', '2024' or a year) the codes must belong to.
    unit : {"kommune", "region"}
        Unit column.

    Returns
    -------
    pandas.DataFrame
        A normalised copy.
    """
    what = "population-by-age-and-sex table"
    out = validate_table(df, what, int_cols=["year", "age"], count_cols=["population"],
                         keys=["year", unit, "sex", "age"], code_system=code_system, **_unit_cols(unit, [unit]))
    out["sex"] = out["sex"].astype(str).str.strip().str.lower()
    bad = sorted(set(out["sex"]) - set(SEXES))
    if bad:
        raise InputError(f"{what}: column 'sex' must be 'female' or 'male'; found {listing(bad)}. "
                         "Recode it (e.g. SSB Kjonn 1 = male, 2 = female).")
    check_range(out, "age", 0, MAX_AGE, what, ["year", unit, "sex"])
    return out


def validate_jobs(df: pd.DataFrame, col: str = "jobs", code_system: str | int | None = None, *,
                  unit: str = "kommune") -> pd.DataFrame:
    """Jobs (employed persons by place of work) per year and unit: year, <unit>, <col>.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    col : str, default "jobs"
        The jobs column (persons).
    code_system : str or int, optional
        Kommune code system ('2017', '2018', '2020', '2024' or a year) the codes must belong to.
    unit : {"kommune", "region"}
        Unit column.

    Returns
    -------
    pandas.DataFrame
        A normalised copy.
    """
    return validate_counts(df, col, f"jobs table ('{col}')", unit=unit, code_system=code_system)


def validate_commuting(df: pd.DataFrame, code_system: str | int | None = None, *, unit: str = "kommune",
                       value: str = "employed") -> pd.DataFrame:
    """Commuting matrix: year, home_<unit>, work_<unit>, employed (persons; a missing pair = 0).

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    code_system : str or int, optional
        Kommune code system ('2017', '2018', '2020', '2024' or a year) the codes must belong to.
    unit : {"kommune", "region"}
        Unit of the home/work columns.
    value : {"employed", "share"}
        ``"share"`` validates a share table instead (fractions >= 0; see
        :func:`check_shares_sum_to_one`).

    Returns
    -------
    pandas.DataFrame
        A normalised copy.
    """
    cols = [f"home_{unit}", f"work_{unit}"]
    return validate_table(df, "commuting table", int_cols=["year"], count_cols=[value], keys=["year", *cols],
                          code_system=code_system, **_unit_cols(unit, cols))


def validate_regions(df: pd.DataFrame, region_col: str = "region", code_system: str | int | None = None) -> pd.DataFrame:
    """Kommune -> region table: kommune, <region_col>; each kommune once, no missing region.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    region_col : str, default "region"
        The region column.
    code_system : str or int, optional
        Kommune code system ('2017', '2018', '2020', '2024' or a year) the codes must belong to.

    Returns
    -------
    pandas.DataFrame
        A normalised copy (region codes as text).

    Raises
    ------
    InputError
        For a kommune without a region, naming the kommuner and the fix (for the BA regions of
        ``kommune_regions_2020.csv``: ``load_regions(data_dir, fill_missing='own')``).
    """
    what = "regions table"
    check_columns(df, ["kommune", region_col], what, "Pass region_col= to name the region column.")
    missing = df[region_col].isna() | (df[region_col].astype(str).str.strip() == "")
    if missing.any():
        codes = listing(df.loc[missing, "kommune"].astype(str))
        raise InputError(f"{what}: column '{region_col}' has {int(missing.sum())} missing value(s): kommuner {codes} "
                         "have no region, so they would silently drop out of every regional sum. Assign them a "
                         "region (for BA regions: geoproc.data.loaders.load_regions(data_dir, fill_missing='own') "
                         "gives each its own one-kommune region) or drop them from all tables.")
    out = validate_table(df, what, kommune_cols=["kommune"], keys=["kommune"], extra=[region_col],
                         code_system=code_system)
    out[region_col] = out[region_col].astype(str)
    return out


def region_map(regions: pd.DataFrame, region_col: str = "region") -> pd.Series:
    """kommune -> region from a regions table (validated by :func:`validate_regions`).

    Parameters
    ----------
    regions : pandas.DataFrame
        kommune, ``region_col``.
    region_col : str, default "region"
        The region column.

    Returns
    -------
    pandas.Series
        Region code (text) indexed by kommune code (text); no kommune without a region.
    """
    return validate_regions(regions, region_col=region_col).set_index("kommune")[region_col]


def unit_column(table: pd.DataFrame) -> str:
    """The geographic unit of a model table: "kommune" or "region" (the first column present).

    Parameters
    ----------
    table : pandas.DataFrame
        A model table.

    Returns
    -------
    str

    Raises
    ------
    InputError
        When the table has neither column.
    """
    for c in ("kommune", "region"):
        if c in table.columns:
            return c
    raise InputError(f"table needs a 'kommune' or 'region' column; columns are {list(table.columns)}.")


def validate_centrality(df: pd.DataFrame, code_system: str | int | None = None) -> pd.DataFrame:
    """Centrality index per kommune: [year,] kommune, index (0..1000, the index, not sentny or A).

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    code_system : str or int, optional
        Kommune code system ('2017', '2018', '2020', '2024' or a year) the codes must belong to.

    Returns
    -------
    pandas.DataFrame
        A normalised copy.
    """
    what = "centrality table"
    check_columns(df, ["kommune", "index"], what, "Expected columns kommune, index (0–1000), e.g. from `regio centrality`.")
    keys = ["year", "kommune"] if "year" in df.columns else ["kommune"]
    out = validate_table(df, what, kommune_cols=["kommune"], int_cols=keys[:-1], keys=keys, extra=["index"],
                         code_system=code_system)
    out["index"] = pd.to_numeric(out["index"], errors="coerce")
    check_no_nan(out, ["index"], what + " (non-numeric index)", ["kommune"])
    check_range(out, "index", 0, 1000, what, keys,
                fix="Pass the centrality index (0–1000), not sentny (index/1000 centred) or the raw accessibility.")
    return out


def validate_employment(df: pd.DataFrame, code_system: str | int | None = None) -> pd.DataFrame:
    """SSB 11618 table: year, kommune, population_15_74, employed_by_residence, employed_by_workplace (persons).

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    code_system : str or int, optional
        Kommune code system ('2017', '2018', '2020', '2024' or a year) the codes must belong to.

    Returns
    -------
    pandas.DataFrame
        A normalised copy.
    """
    return validate_table(df, "employment table", kommune_cols=["kommune"], int_cols=["year"],
                          count_cols=["population_15_74", "employed_by_residence", "employed_by_workplace"],
                          keys=["year", "kommune"], code_system=code_system)


def select_years(table: pd.DataFrame, start: int | None = None, end: int | None = None,
                 what: str = "table") -> pd.DataFrame:
    """Rows of ``table`` with ``start <= year <= end`` (either bound optional).

    Parameters
    ----------
    table : pandas.DataFrame
        With a ``year`` column.
    start, end : int, optional
        Inclusive bounds (calendar years).
    what : str
        The table, for messages.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    InputError
        When no row is left.
    """
    sel = table
    if start is not None:
        sel = sel[sel["year"] >= start]
    if end is not None:
        sel = sel[sel["year"] <= end]
    if sel.empty:
        raise InputError(f"no {what} rows in {start}–{end}; available years {sorted(table['year'].unique())}. "
                         "Choose a period inside the data.")
    return sel
