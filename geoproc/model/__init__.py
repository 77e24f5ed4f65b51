"""The attractiveness model (attraktivitetsmodellen): pure, vectorised pandas/numpy functions.

Units: every rate is a **fraction of the start-of-year population** (0.01 = 1 %) unless the
column or function name says ``pct``/``percent``; persons are whole-person counts (float).
Tables are long and tidy with a ``year`` column and a unit column (``kommune`` or ``region``).

Modules: :mod:`params` (published coefficients), :mod:`vra` (job growth, commuting shares, VRA),
:mod:`centrality_term` (sentny), :mod:`ds` (demographic employment supply),
:mod:`expected` (expected net migration), :mod:`attractiveness`, :mod:`decompose`,
:mod:`business` (shift-share), :mod:`barometer` (2011 method), :mod:`estimate` (OLS).

This ``__init__`` also holds the small input checks shared by those modules (minimal checks
written here because ``geoproc.data.tables`` validators were not available when the model was
written; every failure is a :class:`centrality.errors.InputError` naming the problem and the fix).
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from centrality.errors import InputError, require_columns

__all__ = ["check_table", "check_codes", "check_nonnegative", "check_known", "check_years", "InputError"]


def _preview(values: Iterable, n: int = 10) -> str:
    values = list(values)
    text = ", ".join(str(v) for v in values[:n])
    return text + (f" … ({len(values)} in all)" if len(values) > n else "")


def check_table(df: object, required: Sequence[str], what: str, hint: str = "") -> pd.DataFrame:
    """Check ``df`` is a DataFrame with the ``required`` columns and no NaN in them; return it."""
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{what} must be a pandas DataFrame, got {type(df).__name__}. "
                         f"Pass a table with columns {', '.join(required)}.")
    require_columns(df.columns, list(required), what, hint)
    for col in required:
        bad = df[col].isna()
        if bad.any():
            rows = df.loc[bad].head(3).to_dict("records")
            raise InputError(f"{what}: column '{col}' has {int(bad.sum())} missing (NaN/NULL) values, "
                             f"e.g. {rows}. Fill or drop those rows before running the model.")
    return df


def check_codes(codes: pd.Series, what: str, *, kommune: bool = True) -> None:
    """Kommune codes must be 4-character digit strings ('0301'); region codes any non-empty string."""
    if not (pd.api.types.is_string_dtype(codes) or codes.dtype == object) or \
            not codes.map(lambda c: isinstance(c, str)).all():
        raise InputError(f"{what}: codes must be strings (e.g. '0301'), got {codes.dtype} values such as "
                         f"{_preview(codes.head(3))}. Read code columns as text (dtype=str) so leading zeros are kept.")
    if kommune:
        bad = codes[~codes.str.fullmatch(r"\d{4}")]
        if len(bad):
            raise InputError(f"{what}: {len(bad)} kommune codes are not 4-digit strings: "
                             f"{_preview(pd.unique(bad))}. Use 4-character codes with leading zeros ('0301').")


def check_nonnegative(df: pd.DataFrame, col: str, what: str) -> None:
    """Raise InputError when ``df[col]`` has negative or non-finite values."""
    values = pd.to_numeric(df[col], errors="coerce")
    bad = ~np.isfinite(values.to_numpy(dtype=float)) | (values.to_numpy(dtype=float) < 0)
    if bad.any():
        rows = df.loc[bad].head(3).to_dict("records")
        raise InputError(f"{what}: column '{col}' has {int(bad.sum())} negative or non-numeric values, "
                         f"e.g. {rows}. Counts must be >= 0; fix the source table.")


def check_known(codes: Iterable, known: Iterable, what: str, fix: str) -> None:
    """Raise InputError listing the ``codes`` that are not in ``known``."""
    unknown = sorted(set(codes) - set(known))
    if unknown:
        raise InputError(f"{what}: unknown codes {_preview(unknown)}. {fix}")


def check_years(needed: Iterable[int], available: Iterable[int], what: str, fix: str) -> None:
    """Raise InputError naming the ``needed`` years missing from ``available``."""
    missing = sorted(set(int(y) for y in needed) - set(int(y) for y in available))
    if missing:
        raise InputError(f"{what}: years {', '.join(map(str, missing))} are needed but missing "
                         f"(available: {_preview(sorted(set(int(y) for y in available)))}). {fix}")
