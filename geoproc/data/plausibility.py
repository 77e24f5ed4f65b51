"""Plausibility of the model and scenario tables (issue 13), checked before any computation.

Format checks (columns, NaN, types, duplicates) are done by the validators of
:mod:`geoproc.data.tables`; this module checks what well-formed tables can still get wrong:

- **kommune codes**: every code of every table must be a kommune of one code system
  (:mod:`geoproc.data.codes`, 2017–2024). A code in no system (e.g. 9999, "unknown kommune")
  is named with its table; codes of several systems in one run (1601 Trondheim-2017 beside
  3001 Halden-2020) must be harmonised first. The system found is returned (and reported).
  The one exception is the documented synthetic range 9900–9998 of the demo region
  (:mod:`centrality.synthetic`; SSB uses 99xx for no kommune): tables whose codes are *all*
  synthetic pass as ``"synthetic"`` with a warning; synthetic codes mixed with real ones are an
  error.
- **zero-padding**: '301' and '0301' in one code column (or region column) would be two units.
- **coverage**: every per-kommune table must cover every kommune the run models (the kommuner of
  the jobs table); a table with fewer kommuner is refused, naming them, rather than shrinking
  the run silently.
- **scale**: the centrality table must be the 0–1000 index; a table whose largest value is at
  most 1 is on a 0–1 scale (:data:`centrality.plausibility.Plausibility.index_range`).
- **population**: a population table whose total is zero (in a year) is refused.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping

import pandas as pd

from centrality.errors import InputError
from centrality.plausibility import DEFAULT, check_group_codes

from . import codes as kc

#: table name -> its kommune code columns
CODE_COLUMNS = {
    "jobs": ("kommune",), "commuting": ("home_kommune", "work_kommune"), "population": ("kommune",),
    "net_migration": ("kommune",), "population_by_age_sex": ("kommune",), "population_by_age": ("kommune",),
    "centrality": ("kommune",), "regions": ("kommune",), "births": ("kommune",), "deaths": ("kommune",),
    "employment": ("kommune",), "attractiveness": ("kommune",), "migration_profile": ("kommune",),
    "factors": ("kommune",),
}
#: tables that must hold every kommune of the run
PER_KOMMUNE = ("population", "net_migration", "population_by_age_sex", "population_by_age", "centrality", "regions",
               "births", "deaths")
POPULATION_TABLES = {"population": "population", "population_by_age_sex": "population",
                     "population_by_age": "population"}
_MAX = 10
log = logging.getLogger(__name__)


def _listing(values) -> str:
    values = sorted(map(str, values))
    text = ", ".join(values[:_MAX])
    return text + (f" (+{len(values) - _MAX} more)" if len(values) > _MAX else "")


def _label(name: str) -> str:
    return f"{name.replace('_', ' ')} table"


def _synthetic(code: str) -> bool:
    """The demo region's invented kommune codes 9900–9998 (9999 is SSB's "unknown kommune")."""
    return len(code) == 4 and code.startswith("99") and code != "9999" and code.isdigit()


def _codes(df: pd.DataFrame, col: str) -> pd.Series:
    values = df[col].dropna()
    if pd.api.types.is_integer_dtype(values.dtype) or pd.api.types.is_float_dtype(values.dtype):
        return values.astype("int64").map(lambda v: f"{v:04d}")
    return values.astype(str).str.strip()


def check_kommune_codes(tables: Mapping[str, pd.DataFrame | None], *, system: str | None = None) -> str:
    """The one code system of all kommune codes of the tables (see the module docstring).

    Parameters
    ----------
    tables : mapping
        Table name (see :data:`CODE_COLUMNS`) -> DataFrame or None.
    system : str, optional
        Require this code system ('2017', '2018', '2020', '2024') instead of detecting it.

    Returns
    -------
    str
        The code system, or ``"synthetic"`` for the demo region's 99xx codes.
    """
    by_table: dict[tuple[str, str], set[str]] = {}
    for name, df in tables.items():
        if not isinstance(df, pd.DataFrame):
            continue
        for col in CODE_COLUMNS.get(name, ()):
            if col in df.columns:
                check_group_codes(df[col], col, _label(name))
                by_table[(name, col)] = set(_codes(df, col))
    if not by_table:
        return system or "unknown"
    every = frozenset().union(*kc.CODE_LISTS.values())
    all_codes = set().union(*by_table.values())
    if system is None and all_codes and all(_synthetic(c) for c in all_codes):
        log.warning("the tables use the synthetic kommune codes %s (99xx: the invented demo region, not SSB kommuner)",
                    _listing(all_codes))
        return "synthetic"
    for (name, col), codes in by_table.items():
        unknown = sorted(c for c in codes if c not in every)
        if unknown and all(_synthetic(c) for c in unknown):
            raise InputError(f"{_label(name)} ({col}): {_listing(unknown)} are synthetic demo codes (99xx, the invented "
                             "demo region), mixed with real kommune codes in this run. Use either the demo's tables "
                             "or real ones, not both.")
        if unknown:
            raise InputError(f"{_label(name)} ({col}): {_listing(unknown)} {'is' if len(unknown) == 1 else 'are'} not a "
                             f"kommune code of any code system {kc.SYSTEMS[0]}–{kc.SYSTEMS[-1]} (geoproc.data.codes), "
                             "so its rows would enter the model as an invented kommune. Fix the code(s) or drop "
                             "those rows.")
    found = kc.code_system_of(all_codes) if system is None else str(system)
    if found == "mixed":
        parts = []
        for name in kc.SYSTEMS:
            only = sorted(all_codes - set().union(*(kc.CODE_LISTS[o] for o in kc.SYSTEMS if o != name)))
            only = [c for c in only if c in kc.CODE_LISTS[name]]
            if only:
                where = sorted({_label(t) for (t, _), codes in by_table.items() if codes & set(only)})
                parts.append(f"{_listing(only)} only in {name} (in the {', '.join(where)})")
        raise InputError(f"the tables mix kommune code systems ({'; '.join(parts)}). Bring every table to one code "
                         "system first (geoproc.data.codes.harmonise, e.g. from_system='2017', to_system='2020').")
    known = kc.known_codes(found)
    for (name, col), codes in by_table.items():
        outside = sorted(codes - known)
        if outside:
            raise InputError(f"{_label(name)} ({col}): {_listing(outside)} are not kommuner of the {found} code system "
                             "of this run. Harmonise the table (geoproc.data.codes.harmonise) or fix the codes.")
    return found


def check_coverage(tables: Mapping[str, pd.DataFrame | None], needed: set[str] | None = None,
                   source: str = "jobs") -> set[str]:
    """InputError when a per-kommune table lacks kommuner the run models.

    Parameters
    ----------
    tables : mapping
        Table name -> DataFrame or None.
    needed : set of str, optional
        The kommuner of the run (default: those of the ``source`` table).
    source : str
        The table that defines the run's kommuner (jobs by place of work for the model).

    Returns
    -------
    set of str
        The kommuner of the run.
    """
    if needed is None:
        base = tables.get(source)
        if not isinstance(base, pd.DataFrame) or "kommune" not in base.columns:
            return set()
        needed = set(_codes(base, "kommune"))
    for name in PER_KOMMUNE:
        df = tables.get(name)
        if not isinstance(df, pd.DataFrame) or "kommune" not in df.columns:
            continue
        missing = sorted(needed - set(_codes(df, "kommune")))
        if missing:
            raise InputError(f"{_label(name)} covers {len(needed) - len(missing)} of the {len(needed)} kommuner of the "
                             f"{source} table; missing: {_listing(missing)}. A run on fewer kommuner would be "
                             "silently different: give the table for every kommune, or drop those kommuner from "
                             f"the {source} and commuting tables.")
    return needed


def check_index_scale(centrality: pd.DataFrame | None, what: str = "centrality table", col: str = "index") -> None:
    """InputError when the centrality index is on a 0–1 scale instead of 0–1000.

    Parameters
    ----------
    centrality : pandas.DataFrame or None
        The centrality table.
    what : str
        The table, for the message.
    col : str
        The index column.
    """
    if not isinstance(centrality, pd.DataFrame) or col not in centrality.columns:
        return
    values = pd.to_numeric(centrality[col], errors="coerce").dropna()
    lo, hi = DEFAULT.index_range
    if len(values) and values.max() <= 1.0 < hi:
        raise InputError(f"{what}: column '{col}' lies in {values.min():.3g}..{values.max():.3g}, a 0–1 scale, but the "
                         f"model needs the centrality index on the {lo:g}–{hi:g} scale (SSB's sentralitetsindeks, as "
                         "written by `regio centrality`). Multiply by 1000 or give the index column.")


def check_population_totals(tables: Mapping[str, pd.DataFrame | None]) -> None:
    """InputError when a population table sums to zero in some year.

    Parameters
    ----------
    tables : mapping
        Table name -> DataFrame or None; the population tables of :data:`POPULATION_TABLES`
        (persons) are checked per year.
    """
    for name, col in POPULATION_TABLES.items():
        df = tables.get(name)
        if not isinstance(df, pd.DataFrame) or col not in df.columns:
            continue
        values = pd.to_numeric(df[col], errors="coerce")
        totals = (values.groupby(df["year"]).sum(min_count=1) if "year" in df.columns
                  else pd.Series({"all": values.sum(min_count=1)}))
        zero = [str(y) for y, t in totals.items() if t == 0]   # NaN (no values) is the validators' business
        if zero:
            raise InputError(f"{_label(name)}: the total population is zero in {', '.join(zero[:10])}, so every rate "
                             "per resident would be 0/0. Check that the right file and column were given.")


def check_model_tables(tables: Mapping[str, pd.DataFrame | None], *, system: str | None = None,
                       source: str = "jobs") -> dict:
    """All checks of this module.

    Parameters
    ----------
    tables : mapping
        Table name -> DataFrame or None.
    system : str, optional
        Require this kommune code system instead of detecting it.
    source : str
        The table whose kommuner the run models (jobs for the model; the base population for a
        projection).

    Returns
    -------
    dict
        ``{"code_system": str, "kommuner": int}`` for the run's report.
    """
    found = check_kommune_codes(tables, system=system)
    regions = tables.get("regions")
    if isinstance(regions, pd.DataFrame):
        for col in [c for c in regions.columns if c not in ("kommune", "name")][:1]:
            check_group_codes(regions[col], col, "regions table")
    needed = check_coverage(tables, source=source)
    check_index_scale(tables.get("centrality"))
    check_population_totals(tables)
    return {"code_system": found, "kommuner": len(needed)}


__all__ = ["check_model_tables", "check_kommune_codes", "check_coverage", "check_index_scale",
           "check_population_totals"]
