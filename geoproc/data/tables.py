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

from centrality.errors import InputError, require_columns

MAX_AGE = 105  # SSB's open age group: 105 means "105 years or older"
SEXES = ("female", "male")
_MAX_LISTED = 10


def _listing(values: Iterable, limit: int = _MAX_LISTED) -> str:
    """Comma-separated listing of at most ``limit`` values, with '(+N more)'."""
    values = list(values)
    text = ", ".join(str(v) for v in values[:limit])
    if len(values) > limit:
        text += f" (+{len(values) - limit} more)"
    return text


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
def check_columns(df: pd.DataFrame, required: Sequence[str], what: str) -> None:
    """Raise InputError when ``df`` lacks a required column (suggests close matches)."""
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{what} must be a pandas DataFrame, got {type(df).__name__}; load it with pandas.read_csv(...) first.")
    require_columns(df.columns, list(required), what,
                    hint="Rename the columns to the names in docs/architecture.md (geoproc tables).")


def check_no_nan(df: pd.DataFrame, cols: Sequence[str], what: str, key_cols: Sequence[str] = ()) -> None:
    """Raise InputError when a required column has missing values; names the rows."""
    for col in cols:
        mask = df[col].isna()
        if mask.any():
            keys = [k for k in key_cols if k != col]
            raise InputError(
                f"{what}: column '{col}' has {int(mask.sum())} missing value(s) (NaN/empty) in rows "
                f"{_row_labels(df, mask, keys)}. Fill them (e.g. 0 for a count that is truly zero) "
                "or drop those rows before running.")


def normalise_kommune(values: pd.Series, what: str, col: str = "kommune") -> pd.Series:
    """Return kommune codes as 4-character strings.

    Integers (e.g. 301 from a GeoJSON 'kommunenummer') are zero-padded to '0301'. Strings must
    already be 4 digits: '301' is rejected because a string that lost its leading zero usually
    means a CSV was read with the wrong dtype (read it with ``dtype={'kommune': str}``).
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
    """Raise InputError unless every code is exactly 4 digits ('0301')."""
    bad = codes[~codes.astype(str).str.fullmatch(r"\d{4}")]
    if len(bad):
        raise InputError(
            f"{what}: column '{col}' has {len(bad)} value(s) that are not 4-digit kommune codes: "
            f"{_listing(sorted(set(map(repr, bad))))}. Kommune codes are 4-character strings with a "
            f"leading zero ('0301'); read CSV files with dtype={{'{col}': str}}.")


def check_non_negative(df: pd.DataFrame, cols: Sequence[str], what: str, key_cols: Sequence[str] = ()) -> None:
    """Raise InputError when a count column has negative values; names the rows."""
    for col in cols:
        mask = df[col] < 0
        if mask.any():
            raise InputError(
                f"{what}: column '{col}' has {int(mask.sum())} negative value(s) in rows "
                f"{_row_labels(df, mask, key_cols)}. Counts of persons cannot be negative; fix the source data.")


def check_unique(df: pd.DataFrame, keys: Sequence[str], what: str) -> None:
    """Raise InputError when key combinations occur more than once (duplicates listed)."""
    dup = df.duplicated(list(keys), keep=False)
    if dup.any():
        groups = df.loc[dup, list(keys)].drop_duplicates()
        labels = [" ".join(f"{k}={r[k]}" for k in keys) for _, r in groups.iterrows()]
        raise InputError(
            f"{what}: {len(groups)} duplicated key(s) ({', '.join(keys)}): {_listing(labels)}. "
            "Each key must occur once; aggregate (sum) the duplicates or remove the repeated rows.")


def check_range(df: pd.DataFrame, col: str, lo: float, hi: float, what: str, key_cols: Sequence[str] = ()) -> None:
    """Raise InputError when values in ``col`` fall outside [lo, hi]."""
    mask = (df[col] < lo) | (df[col] > hi)
    if mask.any():
        raise InputError(
            f"{what}: column '{col}' must lie in {lo}..{hi}; {int(mask.sum())} row(s) outside: "
            f"{_row_labels(df, mask, list(key_cols) + [col])}. Fix or drop those rows.")


def _to_int(df: pd.DataFrame, col: str, what: str) -> pd.Series:
    """Column as int64; InputError for text or fractional values."""
    values = pd.to_numeric(df[col], errors="coerce")
    bad = values.isna() & df[col].notna()
    if bad.any():
        raise InputError(f"{what}: column '{col}' has non-numeric values: {_listing(df.loc[bad, col].unique())}. "
                         "Use plain numbers.")
    if not np.all(np.mod(values.dropna(), 1) == 0):
        raise InputError(f"{what}: column '{col}' must hold whole numbers (years, ages, persons); found fractions.")
    return values.astype("int64")


def _to_count(df: pd.DataFrame, col: str, what: str) -> pd.Series:
    """Count column as int64 when whole, else float64 (e.g. harmonised estimates)."""
    values = pd.to_numeric(df[col], errors="coerce")
    bad = values.isna() & df[col].notna()
    if bad.any():
        raise InputError(f"{what}: column '{col}' has non-numeric values: {_listing(df.loc[bad, col].unique())}. "
                         "Use plain numbers.")
    if np.all(np.mod(values, 1) == 0):
        return values.astype("int64")
    return values.astype("float64")


def check_code_system(codes: Iterable[str], system: str | int, what: str = "table") -> None:
    """Raise InputError when some codes do not belong to the code system.

    ``system`` is a code-system name ('2017', '2018', '2020', '2024') or a year (mapped with
    :func:`geoproc.data.codes.system_for_year`). The error lists the unknown codes and, when
    they belong to another code system, says which one and how to map them.
    """
    from . import codes as kc

    name = kc.system_for_year(system) if isinstance(system, (int, np.integer)) else str(system)
    known = kc.known_codes(name)
    unknown = sorted(set(codes) - known)
    if not unknown:
        return
    guess = kc.code_system_of(unknown)
    hint = (f" They look like {guess} codes: harmonise them with "
            f"geoproc.data.codes.harmonise(df, ..., from_system='{guess}', to_system='{name}')."
            if guess not in ("mixed", "unknown") and guess != name else
            " Check for typos, or map old codes with geoproc.data.codes.harmonise(...).")
    raise InputError(f"{what}: {len(unknown)} kommune code(s) are not in the {name} code system "
                     f"({len(known)} codes): {_listing(unknown)}.{hint}")


def check_shares_sum_to_one(shares: pd.DataFrame, tol: float = 1e-6, group_col: str = "home_kommune",
                            share_col: str = "share") -> None:
    """Raise InputError unless shares sum to 1 (within ``tol``) for every group.

    ``shares`` is a long table (e.g. year, home_kommune, work_kommune, share); the sum is taken
    per ``group_col`` (plus ``year`` when present). Shares are fractions.
    """
    check_columns(shares, [group_col, share_col], "commuting shares")
    keys = [c for c in ("year", group_col) if c in shares.columns]
    sums = shares.groupby(keys)[share_col].sum()
    bad = sums[(sums - 1.0).abs() > tol]
    if len(bad):
        labels = [f"{k}: {v:.6f}" for k, v in bad.items()]
        raise InputError(f"commuting shares do not sum to 1 (tolerance {tol}) for {len(bad)} group(s) "
                         f"of {', '.join(keys)}: {_listing(labels)}. Recompute the shares from complete "
                         "commuting counts (a home kommune with zero employed cannot have shares).")


# ------------------------------------------------------------------------------------ validators
def _validate(df: pd.DataFrame, what: str, *, kommune_cols: Sequence[str], int_cols: Sequence[str],
              count_cols: Sequence[str], keys: Sequence[str], extra: Sequence[str] = (),
              code_system: str | int | None = None) -> pd.DataFrame:
    """Shared checks: columns, NaN, dtypes, kommune format, non-negative counts, unique keys."""
    required = list(dict.fromkeys([*keys, *kommune_cols, *int_cols, *count_cols, *extra]))
    check_columns(df, required, what)
    out = df.copy()
    check_no_nan(out, required, what, key_cols=keys)
    for col in kommune_cols:
        out[col] = normalise_kommune(out[col], what, col)
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


def validate_population(df: pd.DataFrame, code_system: str | int | None = None) -> pd.DataFrame:
    """Population by single age: year, kommune, age (0..105, 105 = 105+), population (persons)."""
    what = "population table"
    out = _validate(df, what, kommune_cols=["kommune"], int_cols=["year", "age"], count_cols=["population"],
                    keys=["year", "kommune", "age"], code_system=code_system)
    check_range(out, "age", 0, MAX_AGE, what, ["year", "kommune"])
    return out


def validate_population_age_sex(df: pd.DataFrame, code_system: str | int | None = None) -> pd.DataFrame:
    """Population by age and sex: year, kommune, sex ('female'/'male'), age (0..105), population."""
    what = "population-by-age-and-sex table"
    out = _validate(df, what, kommune_cols=["kommune"], int_cols=["year", "age"], count_cols=["population"],
                    keys=["year", "kommune", "sex", "age"], code_system=code_system)
    out["sex"] = out["sex"].astype(str).str.strip().str.lower()
    bad = sorted(set(out["sex"]) - set(SEXES))
    if bad:
        raise InputError(f"{what}: column 'sex' must be 'female' or 'male'; found {_listing(bad)}. "
                         "Recode it (e.g. SSB Kjonn 1 = male, 2 = female).")
    check_range(out, "age", 0, MAX_AGE, what, ["year", "kommune", "sex"])
    return out


def validate_jobs(df: pd.DataFrame, col: str = "jobs", code_system: str | int | None = None) -> pd.DataFrame:
    """Jobs (employed persons by place of work) per year and kommune: year, kommune, <col>."""
    return _validate(df, f"jobs table ('{col}')", kommune_cols=["kommune"], int_cols=["year"], count_cols=[col],
                     keys=["year", "kommune"], code_system=code_system)


def validate_commuting(df: pd.DataFrame, code_system: str | int | None = None) -> pd.DataFrame:
    """Commuting matrix: year, home_kommune, work_kommune, employed (persons; missing pair = 0)."""
    return _validate(df, "commuting table", kommune_cols=["home_kommune", "work_kommune"], int_cols=["year"],
                     count_cols=["employed"], keys=["year", "home_kommune", "work_kommune"],
                     code_system=code_system)


def validate_regions(df: pd.DataFrame, region_col: str = "region", code_system: str | int | None = None) -> pd.DataFrame:
    """Kommune -> region table: kommune, <region_col>; each kommune once, no missing region."""
    out = _validate(df, "regions table", kommune_cols=["kommune"], int_cols=[], count_cols=[],
                    keys=["kommune"], extra=[region_col], code_system=code_system)
    out[region_col] = out[region_col].astype(str)
    return out


def validate_centrality(df: pd.DataFrame, code_system: str | int | None = None) -> pd.DataFrame:
    """Centrality index per kommune: kommune, index (0..1000)."""
    what = "centrality table"
    check_columns(df, ["kommune", "index"], what)
    out = _validate(df, what, kommune_cols=["kommune"], int_cols=[], count_cols=[], keys=["kommune"],
                    extra=["index"], code_system=code_system)
    out["index"] = pd.to_numeric(out["index"], errors="coerce")
    check_no_nan(out, ["index"], what + " (non-numeric index)", ["kommune"])
    check_range(out, "index", 0, 1000, what, ["kommune"])
    return out


def validate_employment(df: pd.DataFrame, code_system: str | int | None = None) -> pd.DataFrame:
    """SSB 11618 table: year, kommune, population_15_74, employed_by_residence, employed_by_workplace."""
    return _validate(df, "employment table", kommune_cols=["kommune"], int_cols=["year"],
                     count_cols=["population_15_74", "employed_by_residence", "employed_by_workplace"],
                     keys=["year", "kommune"], code_system=code_system)
