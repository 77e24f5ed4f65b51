"""One kommune structure per run: harmonise tables published in different code systems.

The mapping file ``ssb/kommune_codes_to_2024.csv`` (``niphr/csdata``, SSB's redistricting
table) gives, for every year 1940–2024, each code valid that year with its 2024 successor(s) and
a weight (the share of the old kommune that went to the successor; < 1 where a kommune was
split). A **target structure** is named by a year: ``2020`` = the 356 codes valid 2020-01-01 to
2023-12-31 (the structure of the published model, the geojson and most SSB files here),
``2024`` = the 357 codes valid from 2024.

A code ``c`` valid in year ``y`` is mapped to the target structure ``T`` through 2024:
``c → 2024 successors d (weight w) → the T-code whose 2024 successors include d``. The second
leg inverts the T → 2024 table; it is exact when every 2024 code has one predecessor in T (true
for T = 2020: 2020 → 2024 is renumbering plus the split of 1507 Ålesund into 1508 Ålesund and
1580 Haram, so going back both become 1507). Harmonising to a structure older than a merger
cannot be done from counts and raises InputError.

Each (source year, code) is classified as ``unchanged``, ``renumbered`` (one code to one other
code), ``merged`` (several source codes into one target code; the counts are summed, exact),
``split`` (one source code shared between several target codes; the counts are divided by the
weights, **approximate**) or ``dropped`` (a code that is not valid in its year, e.g. a kommune a
source left out; its rows are removed). :class:`HarmoniseReport` lists every pair with the
counts moved, and says what was merged, split or dropped in plain text for outputs.

Split weights: the file's weights are area-like shares (Tysfjord 0.5/0.5, Snillfjord
0.35/0.35/0.30, Ålesund 2020 0.5/0.5). When ``population`` (the population of the target
structure per year) is given and every successor of a split code comes only from that code
(true for 1507 Ålesund → 1508/1580 when harmonising 2020-code tables to 2024), the successors'
population shares of that year replace the file weights (exact for persons). Correction applied
to the file: for years before 2020 the file splits every predecessor of the 2020 Ålesund
(1504 Ålesund, 1523 Ørskog, 1529 Skodje, 1534 Haram, 1546 Sandøy) 0.5/0.5 between 1508 and
1580, but the 2024 split restored Haram's old borders: 1534 → 1580 and the others → 1508 (weight 1).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from centrality.errors import InputError
from geoproc.data.paths import data_file

CODES_FILE = "kommune_codes_to_2024.csv"
CHANGE_KINDS = ("unchanged", "renumbered", "merged", "split", "dropped")
# pre-2020 predecessors of 1507 Ålesund and their 2024 kommune (Haram's old borders restored)
_ALESUND_PRE2020 = {"1504": "1508", "1523": "1508", "1529": "1508", "1534": "1580", "1546": "1508"}


@dataclass(frozen=True)
class CodeTable:
    """Kommune codes by year and their 2024 successors: year, kommune_original, kommune_2024, weight."""

    table: pd.DataFrame

    @property
    def years(self) -> tuple[int, int]:
        """First and last year of the table.

        Returns
        -------
        tuple of int
        """
        return int(self.table["year"].min()), int(self.table["year"].max())

    def _rows(self, year: int) -> pd.DataFrame:
        first, last = self.years
        year = int(year)
        if year < first:
            raise InputError(f"the kommune code table starts in {first}; no codes for {year}.")
        return self.table[self.table["year"] == min(year, last)]

    def codes(self, year: int) -> frozenset[str]:
        """Codes valid on 1 January of a year.

        Parameters
        ----------
        year : int
            Calendar year (years after the table's last repeat its last year).

        Returns
        -------
        frozenset of str
        """
        return frozenset(self._rows(year)["kommune_original"])

    def mapping(self, from_year: int, target: int = 2020) -> pd.DataFrame:
        """From the codes of one year to a target structure (module docstring).

        Parameters
        ----------
        from_year : int
            The year whose codes the table uses.
        target : int, default 2020
            The target structure (a year).

        Returns
        -------
        pandas.DataFrame
            code_from, code_to, weight (shares of ``code_from``, summing to 1), change
            ('unchanged', 'renumbered', 'merged' or 'split').

        Raises
        ------
        InputError
            When the target is older than a merger (counts cannot be split back).
        """
        return _mapping(self, int(from_year), int(target))


@lru_cache(maxsize=4)
def _load_codes(path: str, mtime: float) -> CodeTable:
    try:
        df = pd.read_csv(path, dtype={"kommune_original": str, "kommune_2024": str})
    except Exception as exc:
        raise InputError(f"cannot read the kommune code table '{path}': {exc}.") from None
    need = ["year", "kommune_original", "kommune_2024", "weight"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise InputError(f"'{path}' lacks columns {missing}; expected {need} (ssb/README.md).")
    df = df[need].copy()
    df["kommune_original"] = df["kommune_original"].str.zfill(4)
    df["kommune_2024"] = df["kommune_2024"].str.zfill(4)
    df["weight"] = df["weight"].astype(float)
    # correction (module docstring): Ålesund's predecessors before 2020 map wholly to one 2024 kommune
    pre = (df["year"] < 2020) & df["kommune_original"].isin(_ALESUND_PRE2020)
    fixed = df[pre].drop_duplicates(["year", "kommune_original"]).copy()
    fixed["kommune_2024"] = fixed["kommune_original"].map(_ALESUND_PRE2020)
    fixed["weight"] = 1.0
    df = pd.concat([df[~pre], fixed], ignore_index=True).sort_values(["year", "kommune_original", "kommune_2024"])
    return CodeTable(df.reset_index(drop=True))


def load_code_table(data_dir: str | os.PathLike | None = None) -> CodeTable:
    """The redistricting table ``ssb/kommune_codes_to_2024.csv`` of a data folder (cached per file).

    Parameters
    ----------
    data_dir : path-like, optional
        The data folder (default ``$REGIO_DATA_DIR``).

    Returns
    -------
    CodeTable
        With the pre-2020 Ålesund correction of the module docstring.
    """
    path = data_file(data_dir, CODES_FILE)
    return _load_codes(str(path), os.path.getmtime(path))


def _mapping(codes: CodeTable, from_year: int, target: int) -> pd.DataFrame:
    src = codes._rows(from_year)[["kommune_original", "kommune_2024", "weight"]]
    tgt = codes._rows(target)[["kommune_original", "kommune_2024"]]
    preds = tgt.groupby("kommune_2024")["kommune_original"].agg(lambda s: sorted(set(s)))
    several = preds[preds.map(len) > 1]
    if len(several):
        d = several.index[0]
        raise InputError(f"cannot harmonise to the {target} structure: 2024 kommune {d} comes from several {target} "
                         f"kommuner {several.iloc[0]} (a later merger), and counts cannot be split back. Use a "
                         "later target structure (e.g. 2020 or 2024).")
    back = preds.map(lambda v: v[0])
    m = src.assign(code_to=src["kommune_2024"].map(back))
    lost = m["code_to"].isna()
    if lost.any():
        raise InputError(f"2024 kommuner {sorted(m.loc[lost, 'kommune_2024'].unique())[:5]} have no predecessor in "
                         f"the {target} structure; the code table is inconsistent.")
    m = m.groupby(["kommune_original", "code_to"], as_index=False)["weight"].sum()
    m = m.rename(columns={"kommune_original": "code_from"})
    m["weight"] = m["weight"] / m.groupby("code_from")["weight"].transform("sum")  # weights of one source sum to 1
    n_targets = m.groupby("code_from")["code_to"].transform("nunique")
    n_sources = m.groupby("code_to")["code_from"].transform("nunique")
    m["change"] = np.select([n_targets > 1, n_sources > 1, m["code_from"] == m["code_to"]],
                            ["split", "merged", "unchanged"], "renumbered")
    return m[["code_from", "code_to", "weight", "change"]].reset_index(drop=True)


@dataclass
class HarmoniseReport:
    """What harmonisation did, for outputs and result objects.

    ``table``: one row per (table, year, column, code_from, code_to): weight, change (see
    :data:`CHANGE_KINDS`), ``value`` (the first value column's total moved along this pair) and
    ``weight_source`` ('code table' or 'population shares <year>').
    """

    target: int
    table: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["table", "year", "column", "code_from", "code_to", "weight", "change", "value", "weight_source"]))

    def extend(self, other: "HarmoniseReport") -> "HarmoniseReport":
        """Append another report of the same target structure (in place).

        Parameters
        ----------
        other : HarmoniseReport
            Its rows are appended.

        Returns
        -------
        HarmoniseReport
            This report.
        """
        if other.target != self.target:
            raise InputError(f"reports of different target structures ({self.target}, {other.target}) cannot be joined.")
        frames = [t for t in (self.table, other.table) if len(t)]
        self.table = pd.concat(frames, ignore_index=True) if frames else self.table
        return self

    def changes(self, kinds: Sequence[str] = ("merged", "split", "dropped")) -> pd.DataFrame:
        """Rows of the given kinds only.

        Parameters
        ----------
        kinds : sequence of str, default ("merged", "split", "dropped")
            Change kinds (:data:`CHANGE_KINDS`).

        Returns
        -------
        pandas.DataFrame
        """
        return self.table[self.table["change"].isin(list(kinds))].reset_index(drop=True)

    def summary(self) -> list[str]:
        """Plain-text lines: per table and run of years with the same changes, the counts per kind and the
        split (with weights) and dropped codes.

        Returns
        -------
        list of str
        """
        t = self.table
        if t.empty:
            return []
        bodies: list[tuple[str, int, str]] = []
        for (name, year), g in t.groupby(["table", "year"], sort=True):
            g = g.drop_duplicates(["code_from", "code_to"])
            kinds = g.drop_duplicates("code_from").groupby("change").size()
            if set(kinds.index) <= {"unchanged"}:
                continue
            parts = [f"{int(kinds[k])} {k}" for k in ("renumbered", "merged", "split", "dropped") if k in kinds]
            text = ", ".join(parts)
            splits = g[g["change"] == "split"]
            if len(splits):
                desc = "; ".join(f"{c} → " + "/".join(f"{r.code_to} {r.weight:.2f}" for r in s.itertuples())
                                 + f" ({s['weight_source'].iloc[0]})"
                                 for c, s in splits.groupby("code_from"))
                text += f"; split (approximate): {desc}"
            drops = g[g["change"] == "dropped"]
            if len(drops):
                text += "; dropped (not valid that year): " + ", ".join(
                    f"{r.code_from} ({r.value:,.0f})" for r in drops.itertuples())
            bodies.append((name, int(year), text))
        lines = []
        i = 0
        while i < len(bodies):  # consecutive years with the same description share one line
            name, first, text = bodies[i]
            j = i
            while j + 1 < len(bodies) and bodies[j + 1][0] == name and bodies[j + 1][2] == text \
                    and bodies[j + 1][1] == bodies[j][1] + 1:
                j += 1
            years = str(first) if j == i else f"{first}–{bodies[j][1]}"
            lines.append(f"{name} {years} → {self.target} structure: {text}")
            i = j + 1
        return lines


def _population_weights(mapping: pd.DataFrame, population: pd.DataFrame | None, year: int) -> pd.DataFrame:
    """Replace file weights of clean splits by successors' population shares of ``year`` (module doc)."""
    mapping = mapping.assign(weight_source="code table")
    if population is None:
        return mapping
    split = mapping[mapping["change"] == "split"]
    if split.empty:
        return mapping
    pop = population[population["year"] == year].groupby("kommune")["population"].sum()
    if pop.empty:
        return mapping
    sources_of = mapping.groupby("code_to")["code_from"].nunique()
    for code, rows in split.groupby("code_from"):
        targets = rows["code_to"].tolist()
        if all(sources_of[t] == 1 for t in targets) and all(t in pop.index for t in targets) and pop[targets].sum() > 0:
            shares = pop[targets] / pop[targets].sum()
            idx = rows.index
            mapping.loc[idx, "weight"] = shares.reindex(rows["code_to"]).to_numpy()
            mapping.loc[idx, "weight_source"] = f"population shares {year}"
    return mapping


def harmonise(df: pd.DataFrame, code_cols: Sequence[str], value_cols: Sequence[str], *, codes: CodeTable,
              target: int = 2020, source_year: int | None = None, year_col: str = "year", what: str = "table",
              population: pd.DataFrame | None = None) -> tuple[pd.DataFrame, HarmoniseReport]:
    """Map every code column of ``df`` to the ``target`` structure and sum the value columns.

    The codes of a row are those valid in its year, or in ``source_year`` for every row (a file
    published on one structure, e.g. 2024 codes for all years). Merged kommuner are summed, split
    ones divided by the weights (population shares when ``population`` allows, module docstring),
    codes not valid in their year dropped; all of it is in the report.

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy table with ``year_col``, the code columns and the value columns; other columns (e.g.
        sex, age) are kept as keys.
    code_cols : sequence of str
        Kommune code columns (4-character strings), e.g. ``["home_kommune", "work_kommune"]``.
    value_cols : sequence of str
        Additive counts (persons), never rates.
    codes : CodeTable
        The redistricting table (:func:`load_code_table`).
    target : int, default 2020
        Target structure (a year).
    source_year : int, optional
        The structure of every row (default: each row's year).
    year_col : str, default "year"
        Year column.
    what : str
        The table's name in the report.
    population : pandas.DataFrame, optional
        year, kommune, population of the target structure, for population-share split weights.

    Returns
    -------
    table : pandas.DataFrame
        The harmonised table (counts float where a split divided them); ``attrs['structure']``.
    report : HarmoniseReport
    """
    missing = [c for c in [year_col, *code_cols, *value_cols] if c not in df.columns]
    if missing:
        raise InputError(f"{what}: columns {missing} are missing; cannot harmonise kommune codes.")
    keys = [c for c in df.columns if c not in value_cols]
    report = HarmoniseReport(int(target))
    frames = []
    for year, part in df.groupby(year_col, sort=True):
        year = int(year)
        mapping = codes.mapping(source_year if source_year is not None else year, target)
        mapping = _population_weights(mapping, population, year)
        valid = set(mapping["code_from"])
        out = part
        for col in code_cols:
            bad = ~out[col].isin(valid)
            if bad.any():
                dropped = out[bad].groupby(col)[value_cols[0]].sum()
                report.table = pd.concat([t for t in (report.table, pd.DataFrame({
                    "table": what, "year": year, "column": col, "code_from": dropped.index, "code_to": "",
                    "weight": 0.0, "change": "dropped", "value": dropped.to_numpy(dtype=float),
                    "weight_source": ""})) if len(t)], ignore_index=True)
                out = out[~bad]
            moved = out.groupby(col)[value_cols[0]].sum().rename("moved")
            used = mapping[mapping["code_from"].isin(moved.index)].merge(moved, left_on="code_from", right_index=True)
            report.table = pd.concat([t for t in (report.table, pd.DataFrame({
                "table": what, "year": year, "column": col, "code_from": used["code_from"], "code_to": used["code_to"],
                "weight": used["weight"], "change": used["change"], "value": used["moved"] * used["weight"],
                "weight_source": used["weight_source"]})) if len(t)], ignore_index=True)
            m = mapping[["code_from", "code_to", "weight"]].rename(columns={"code_from": col})
            out = out.merge(m, on=col, how="inner")
            if (out["weight"] != 1.0).any():
                out[list(value_cols)] = out[list(value_cols)].astype(float).mul(out["weight"], axis=0)
            out = out.drop(columns=[col, "weight"]).rename(columns={"code_to": col})
        frames.append(out.groupby(keys, as_index=False, sort=False)[list(value_cols)].sum())
    result = pd.concat(frames, ignore_index=True) if frames else df.iloc[:0]
    for col in value_cols:  # keep whole counts as integers when nothing was divided
        vals = result[col]
        if pd.api.types.is_float_dtype(vals) and np.all(np.mod(vals.to_numpy(), 1) == 0):
            result[col] = vals.astype("int64")
    result = result.sort_values(keys).reset_index(drop=True)
    result.attrs["structure"] = int(target)
    return result, report


def harmonised_codes(codes: CodeTable, target: int = 2020) -> frozenset[str]:
    """The codes of a target structure.

    Parameters
    ----------
    codes : CodeTable
        The redistricting table.
    target : int, default 2020
        Target structure.

    Returns
    -------
    frozenset of str
        E.g. the 356 codes of 2020.
    """
    return codes.codes(target)
