"""Job growth, commuting shares and weighted relative job growth VRA (MODEL.md §2.1).

- ``g_j,t``   = jobs_j,t / jobs_j,t-1 − 1 (fraction; jobs counted at the place of work),
- ``RA_j,t``  = g_j,t − g_Norway,t (fraction),
- ``s_ij``    = employed residents of i working in j / employed residents of i (Σ_j s_ij = 1, j = i included),
- ``VRA_i,t`` = Σ_j s_ij · RA_j,t (fraction).

Tables are long: jobs ``year, <unit>, jobs``; commuting ``year, home_<unit>, work_<unit>, employed``
where ``<unit>`` is ``kommune`` (default) or ``region``. Work places outside the listed units (not
in the commuting matrix) are ignored: shares are normalised over the listed work places.

Which commuting year is used (``lag_shares``):
- ``"own"`` (default): VRA of year y uses the commuting shares of year y; when year y is not in
  the commuting table the nearest available year is used (a later one on ties). The choice is
  recorded in ``result.attrs["commuting_year_used"]`` ({(target_year, vra_year): commuting_year}).
- ``"same"``: every lag of year t uses the shares of year t (a fixed commuting pattern).
Jobs must exist for every year needed (t−lags−1 … t); missing years raise InputError naming them.

Real data: SSB's jobs for 2017–2019 are in older kommune codes and lack Rindal in 2019; use
:func:`geoproc.data.loaders.load_jobs_series` (harmonised to 2020 codes, approximate rows flagged
``split``/``imputed``). When the jobs table has those flag columns, :func:`vra_with_lags` adds a
``jobs_flag`` column naming the unit's own flagged rows in t−lags−1 … t (e.g. 'imputed 2019').
"""
from __future__ import annotations

from typing import Iterable, Literal, Mapping

import numpy as np
import pandas as pd

from centrality.errors import InputError
from geoproc.data import tables as tb
from geoproc.data.tables import check_known_codes, check_table, check_years

Unit = Literal["kommune", "region"]
#: Optional bool columns of a jobs table marking approximate rows (see loaders.load_jobs_series).
JOB_FLAGS = ("split", "imputed")
_SHARE_TOL = 1e-6


def lag_columns(lags: int = 2) -> list[str]:
    """Column names of VRA and its lags.

    Parameters
    ----------
    lags : int, default 2
        Number of lags.

    Returns
    -------
    list of str
        ``['vra_t', 'vra_t1', 'vra_t2']`` for lags=2.
    """
    return ["vra_t"] + [f"vra_t{k}" for k in range(1, lags + 1)]


def _check_jobs(jobs: pd.DataFrame, unit: str, value: str) -> pd.DataFrame:
    """Validated copy of a jobs table (:func:`geoproc.data.tables.validate_jobs`)."""
    return tb.validate_jobs(jobs, col=value, unit=unit)


def _check_commuting(commuting: pd.DataFrame, unit: str, value: str = "employed") -> pd.DataFrame:
    """Validated copy of a commuting table (:func:`geoproc.data.tables.validate_commuting`)."""
    return tb.validate_commuting(commuting, unit=unit, value=value)


def job_growth(jobs: pd.DataFrame, *, years: Iterable[int] | None = None, unit: Unit = "kommune",
               value: str = "jobs") -> pd.DataFrame:
    """Job growth per unit and year (fraction).

    The set of units must be the same in t−1 and t (else the table mixes code systems, e.g. 2018 and
    2020 kommune codes -> InputError). ``national_growth`` is Σ jobs_t / Σ jobs_t−1 − 1.

    Parameters
    ----------
    jobs : pandas.DataFrame
        year, <unit>, jobs (persons by place of work).
    years : iterable of int, optional
        Growth years to compute (each needs year−1 too); default all years whose previous year is present.
    unit : {"kommune", "region"}
        Unit column of the tables.
    value : str, default "jobs"
        Jobs column (persons by place of work).

    Returns
    -------
    pandas.DataFrame
        year, <unit>, jobs, jobs_prev, growth, national_growth.
    """
    jobs = _check_jobs(jobs, unit, value)
    have = sorted(int(y) for y in jobs["year"].unique())
    if years is None:
        years = [y for y in have if y - 1 in have]
        if not years:
            raise InputError(f"jobs table has no two consecutive years (years: {have}); job growth needs year t and t-1.")
    years = sorted(int(y) for y in years)
    check_years(set(years) | {y - 1 for y in years}, have, "jobs table",
                "Job growth in year t needs jobs in t and t-1; add those years (in the same code system).")
    wide = jobs.pivot(index=unit, columns="year", values=value).astype(float)
    frames = []
    for y in years:
        pair = wide[[y - 1, y]]
        partial = pair.isna().any(axis=1) & pair.notna().any(axis=1)
        if partial.any():
            raise InputError(f"jobs table: {unit} codes differ between {y - 1} and {y} "
                             f"({int(partial.sum())} codes only in one year, e.g. {list(pair.index[partial][:5])}): "
                             "the table mixes code systems (kommune reforms). Convert all years to one code "
                             "system (e.g. geoproc.data.codes) before computing growth.")
        pair = pair.dropna()
        zero = pair[y - 1] <= 0
        if zero.any():
            raise InputError(f"jobs table: {unit} {list(pair.index[zero][:5])} has 0 jobs in {y - 1}, so growth in "
                             f"{y} is undefined. Merge such units into a neighbour or drop them.")
        national = pair[y].sum() / pair[y - 1].sum() - 1.0
        frames.append(pd.DataFrame({"year": y, unit: pair.index, "jobs": pair[y].to_numpy(),
                                    "jobs_prev": pair[y - 1].to_numpy(),
                                    "growth": (pair[y] / pair[y - 1] - 1.0).to_numpy(),
                                    "national_growth": national}))
    return pd.concat(frames, ignore_index=True)


def relative_job_growth(jobs: pd.DataFrame, *, years: Iterable[int] | None = None, unit: Unit = "kommune",
                        value: str = "jobs", national_growth: Mapping[int, float] | pd.Series | None = None
                        ) -> pd.DataFrame:
    """RA = own job growth − national job growth (fractions).

    Parameters
    ----------
    jobs : pandas.DataFrame
        year, <unit>, jobs (persons by place of work).
    years : iterable of int, optional
        Growth years (see :func:`job_growth`).
    unit : {"kommune", "region"}
        Unit column of the tables.
    value : str, default "jobs"
        Jobs column (persons by place of work).
    national_growth : mapping, optional
        ``{year: fraction}`` overriding the national job growth computed from the table (use it when
        the table covers only part of the country).

    Returns
    -------
    pandas.DataFrame
        :func:`job_growth`'s columns plus ``relative_growth``.
    """
    out = job_growth(jobs, years=years, unit=unit, value=value)
    if national_growth is not None:
        nat = pd.Series(national_growth, dtype=float)
        check_years(out["year"].unique(), nat.index, "national_growth", "Give a national rate for every year.")
        out["national_growth"] = out["year"].map(nat).to_numpy()
    out["relative_growth"] = out["growth"] - out["national_growth"]
    return out


def commuting_shares(commuting: pd.DataFrame, *, unit: Unit = "kommune",
                     years: Iterable[int] | None = None) -> pd.DataFrame:
    """Shares s_ij of home i's employed residents working in j.

    Parameters
    ----------
    commuting : pandas.DataFrame
        year, home_<unit>, work_<unit> and ``employed`` (persons, >= 0) or already-computed ``share``
        (fractions; then they must sum to 1 per home and year within 1e-6).
    unit : {"kommune", "region"}
        Unit column of the tables.
    years : iterable of int, optional
        Years to keep.

    Returns
    -------
    pandas.DataFrame
        year, home_<u>, work_<u>, employed, share.

    Raises
    ------
    InputError
        For a home with zero employed.
    """
    cols = set(getattr(commuting, "columns", []))
    value = "share" if "share" in cols and "employed" not in cols else "employed"
    return _shares(_check_commuting(commuting, unit, value), unit, years)


def _shares(df: pd.DataFrame, unit: str, years: Iterable[int] | None) -> pd.DataFrame:
    """Shares from a validated commuting table (``employed`` counts or ``share`` fractions)."""
    home, work = f"home_{unit}", f"work_{unit}"
    value = "employed" if "employed" in df.columns else "share"
    if years is not None:
        years = sorted(int(y) for y in years)
        check_years(years, df["year"].unique(), "commuting table", "Add the commuting matrix for those years.")
        df = df[df["year"].isin(years)]
    df = df[["year", home, work, value]].sort_values(["year", home, work])
    if value == "share":
        tb.check_shares_sum_to_one(df, tol=_SHARE_TOL, group_col=home, share_col="share")
        return df.assign(employed=np.nan)[["year", home, work, "employed", "share"]].reset_index(drop=True)
    total = df.groupby(["year", home])["employed"].transform("sum")
    zero = total <= 0
    if zero.any():
        bad = df.loc[zero, ["year", home]].drop_duplicates().head(5).to_dict("records")
        raise InputError(f"commuting table: home units with zero employed residents {bad}; shares are undefined. "
                         "Drop those homes or merge them with a neighbour.")
    return df.assign(share=df["employed"] / total).reset_index(drop=True)


def _vra_from_shares(shares: pd.DataFrame, ra: pd.Series, unit: str, year: int | None, split: bool) -> pd.DataFrame:
    """VRA for one year from one year's shares and RA indexed by work unit."""
    home, work = f"home_{unit}", f"work_{unit}"
    when = f" ({year})" if year else ""
    check_known_codes(shares[work].unique(), ra.index, f"commuting work places{when}",
                f"These work {unit} codes have no jobs/relative growth{when}; use the same code "
                "system and unit set in the jobs and commuting tables.")
    contrib = shares["share"].to_numpy() * ra.reindex(shares[work]).to_numpy()
    df = pd.DataFrame({unit: shares[home].to_numpy(), "vra": contrib})
    if split:
        own = shares[home].to_numpy() == shares[work].to_numpy()
        df["vra_own"] = np.where(own, contrib, 0.0)
        df["vra_neighbour"] = np.where(own, 0.0, contrib)
    return df.groupby(unit, as_index=True, sort=True).sum()


def vra_from_shares(shares: pd.DataFrame, relative_growth: pd.DataFrame | pd.Series, *, unit: Unit = "kommune",
                    split: bool = False) -> pd.DataFrame:
    """VRA = Σ_j s_ij·RA_j from one year's shares.

    Parameters
    ----------
    shares : pandas.DataFrame
        home_<u>, work_<u>, share (fractions summing to 1 per home).
    relative_growth : pandas.DataFrame or pandas.Series
        RA (fractions): a Series indexed by unit or a table ``<unit>, relative_growth``.
    unit : {"kommune", "region"}
        Unit column of the tables.
    split : bool, default False
        Also the own-unit part (j = i) and the rest.

    Returns
    -------
    pandas.DataFrame
        <unit>, vra (+ vra_own, vra_neighbour with ``split``), fractions.
    """
    home, work = f"home_{unit}", f"work_{unit}"
    check_table(shares, [home, work, "share"], "commuting shares")
    if "year" in shares.columns and shares["year"].nunique() > 1:
        raise InputError(f"vra_from_shares takes one year of shares; got years {sorted(shares['year'].unique())}. "
                         "Select one year or use vra_with_lags.")
    shares = commuting_shares(shares[[home, work, "share"]].assign(year=0), unit=unit)
    if isinstance(relative_growth, pd.DataFrame):
        check_table(relative_growth, [unit, "relative_growth"], "relative job growth table")
        relative_growth = relative_growth.set_index(unit)["relative_growth"]
    return _vra_from_shares(shares, relative_growth.astype(float), unit, None, split).reset_index()


def vra_contributions(commuting: pd.DataFrame, jobs: pd.DataFrame, year: int, *, unit: Unit = "kommune",
                      value: str = "jobs", commuting_year: int | None = None,
                      national_growth: Mapping[int, float] | None = None) -> pd.DataFrame:
    """Row-level VRA terms of one year.

    Parameters
    ----------
    commuting : pandas.DataFrame
        year, home_<unit>, work_<unit>, employed (persons).
    jobs : pandas.DataFrame
        year, <unit>, jobs (persons by place of work).
    year : int
        The year.
    unit : {"kommune", "region"}
        Unit column of the tables.
    value : str, default "jobs"
        Jobs column (persons by place of work).
    commuting_year : int, optional
        Year of the shares (default ``year``).
    national_growth : mapping, optional
        ``{year: fraction}`` overriding the national job growth computed from the table (use it when
        the table covers only part of the country).

    Returns
    -------
    pandas.DataFrame
        year, home_<u>, work_<u>, employed, share, relative_growth, contribution (= share × RA,
        fraction; summed per home it is VRA).
    """
    work = f"work_{unit}"
    shares = commuting_shares(commuting, unit=unit, years=[commuting_year or year]).drop(columns="year")
    ra = relative_job_growth(jobs, years=[year], unit=unit, value=value,
                             national_growth=national_growth).set_index(unit)["relative_growth"]
    check_known_codes(shares[work].unique(), ra.index, f"commuting work places ({year})",
                f"These work {unit} codes have no jobs for {year - 1}–{year}; use one code system in both tables.")
    out = shares.assign(year=int(year), relative_growth=ra.reindex(shares[work]).to_numpy())
    out["contribution"] = out["share"] * out["relative_growth"]
    return out[["year", f"home_{unit}", work, "employed", "share", "relative_growth", "contribution"]]


def vra(commuting: pd.DataFrame, jobs: pd.DataFrame, year: int, *, unit: Unit = "kommune", value: str = "jobs",
        commuting_year: int | None = None, national_growth: Mapping[int, float] | None = None,
        split: bool = False) -> pd.DataFrame:
    """VRA of one year.

    Parameters
    ----------
    commuting : pandas.DataFrame
        year, home_<unit>, work_<unit>, employed (persons).
    jobs : pandas.DataFrame
        year, <unit>, jobs (persons by place of work).
    year : int
        The year.
    unit : {"kommune", "region"}
        Unit column of the tables.
    value : str, default "jobs"
        Jobs column (persons by place of work).
    commuting_year : int, optional
        Year of the shares (default: the same year).
    national_growth : mapping, optional
        ``{year: fraction}`` overriding the national job growth computed from the table (use it when
        the table covers only part of the country).
    split : bool, default False
        Also ``vra_own`` (j = i) and ``vra_neighbour`` (j ≠ i).

    Returns
    -------
    pandas.DataFrame
        year, <unit>, vra (fraction) [, vra_own, vra_neighbour].
    """
    shares = commuting_shares(commuting, unit=unit, years=[commuting_year or year])
    ra = relative_job_growth(jobs, years=[year], unit=unit, value=value,
                             national_growth=national_growth).set_index(unit)["relative_growth"]
    out = _vra_from_shares(shares, ra, unit, year, split).reset_index()
    out.insert(0, "year", int(year))
    return out


def _shares_year(vra_year: int, t: int, available: list[int], lag_shares: str) -> int:
    if lag_shares == "same":
        wanted = t
    elif lag_shares == "own":
        wanted = vra_year
    else:
        raise InputError(f"lag_shares must be 'own' or 'same', got {lag_shares!r}.")
    if wanted in available:
        return wanted
    if lag_shares == "same":
        raise InputError(f"commuting table has no year {t} (available {available}); lag_shares='same' needs "
                         "the commuting matrix of every target year. Add it or use lag_shares='own'.")
    return min(available, key=lambda y: (abs(y - wanted), -y))


def vra_with_lags(commuting: pd.DataFrame, jobs: pd.DataFrame, years: Iterable[int], *, lags: int = 2,
                  unit: Unit = "kommune", value: str = "jobs", lag_shares: Literal["own", "same"] = "own",
                  national_growth: Mapping[int, float] | None = None, split: bool = False) -> pd.DataFrame:
    """VRA and its lags, one row per unit and target year.

    Needs jobs for years t−lags−1 … t (InputError names missing years). See the module docstring
    for which commuting year each lag uses.

    Parameters
    ----------
    commuting : pandas.DataFrame
        year, home_<unit>, work_<unit>, employed (persons).
    jobs : pandas.DataFrame
        year, <unit>, jobs (persons by place of work).
    years : iterable of int
        Target years.
    lags : int, default 2
        Number of lags.
    unit : {"kommune", "region"}
        Unit column of the tables.
    value : str, default "jobs"
        Jobs column (persons by place of work).
    lag_shares : {"own", "same"}
        Shares of each lag year ("own") or of the target year ("same").
    national_growth : mapping, optional
        ``{year: fraction}`` overriding the national job growth computed from the table (use it when
        the table covers only part of the country).
    split : bool, default False
        Adds vra_t_own / vra_t_neighbour etc. (own-unit part j = i and the rest; they sum to vra_t).

    Returns
    -------
    pandas.DataFrame
        year, <unit>, vra_t, vra_t1, … (fractions).
    """
    years = sorted(int(y) for y in years)
    if not years:
        raise InputError("vra_with_lags: no target years given. Pass e.g. years=[2021, 2022].")
    if lags < 0:
        raise InputError(f"lags must be >= 0, got {lags}.")
    jobs = _check_jobs(jobs, unit, value)
    needed = {t - k - d for t in years for k in range(lags + 1) for d in (0, 1)}
    check_years(needed, jobs["year"].unique(), "jobs table",
                f"VRA with {lags} lags for {years} needs jobs by place of work for every year "
                f"{min(needed)}–{max(needed)} in one code system. Add those years or reduce lags/years.")
    commuting = _check_commuting(commuting, unit)
    cyears = sorted(int(y) for y in commuting["year"].unique())
    if not cyears:
        raise InputError("commuting table is empty; VRA needs a commuting matrix.")
    vra_years = sorted({t - k for t in years for k in range(lags + 1)})
    ra_all = relative_job_growth(jobs, years=vra_years, unit=unit, value=value, national_growth=national_growth)
    ra_by_year = {y: g.set_index(unit)["relative_growth"] for y, g in ra_all.groupby("year")}
    shares_cache: dict[int, pd.DataFrame] = {}
    vra_cache: dict[tuple[int, int], pd.DataFrame] = {}
    used: dict[tuple[int, int], int] = {}
    rows = []
    for t in years:
        parts = []
        for k, col in enumerate(lag_columns(lags)):
            y = t - k
            sy = _shares_year(y, t, cyears, lag_shares)
            used[(t, y)] = sy
            if sy not in shares_cache:
                shares_cache[sy] = _shares(commuting, unit, [sy])
            if (y, sy) not in vra_cache:
                vra_cache[(y, sy)] = _vra_from_shares(shares_cache[sy], ra_by_year[y], unit, y, split)
            part = vra_cache[(y, sy)].rename(columns=lambda c, col=col: c.replace("vra", col, 1))
            parts.append(part)
        wide = pd.concat(parts, axis=1, join="outer")
        if wide.isna().any().any():
            bad = list(wide.index[wide.isna().any(axis=1)][:5])
            raise InputError(f"VRA for {t}: {unit} {bad} are home units in some commuting years but not in others; "
                             "use commuting tables with the same units (code system) in every year.")
        wide.insert(0, "year", t)
        rows.append(wide.rename_axis(unit).reset_index())
    out = pd.concat(rows, ignore_index=True)
    cols = ["year", unit] + lag_columns(lags)
    if split:
        cols += [f"{c}_{p}" for c in lag_columns(lags) for p in ("own", "neighbour")]
    out = out[cols]
    flags = [c for c in JOB_FLAGS if c in jobs.columns]
    if flags:
        out["jobs_flag"] = _jobs_flags(jobs, unit, flags, out, lags)
    out.attrs["commuting_year_used"] = used
    return out


def _jobs_flags(jobs: pd.DataFrame, unit: str, flags: list[str], out: pd.DataFrame, lags: int) -> pd.Series:
    """Per output row: which of the unit's own jobs rows in t−lags−1 … t are flagged, e.g.
    'imputed 2019; split 2018, 2019' ('' when none). Flags come from
    :func:`geoproc.data.loaders.load_jobs_series` (bool columns ``split``, ``imputed``)."""
    flagged = jobs[jobs[flags].astype(bool).any(axis=1)]
    by_unit: dict[str, list[tuple[str, int]]] = {}
    for flag in flags:
        for code, year in flagged.loc[flagged[flag].astype(bool), [unit, "year"]].itertuples(index=False):
            by_unit.setdefault(code, []).append((flag, int(year)))

    def text(t: int, code: str) -> str:
        hits = [(f, y) for f, y in by_unit.get(code, []) if t - lags - 1 <= y <= t]
        return "; ".join(f"{f} {', '.join(str(y) for g, y in sorted(hits) if g == f)}"
                         for f in flags if any(g == f for g, _ in hits))

    return pd.Series([text(t, c) for t, c in zip(out["year"], out[unit])], index=out.index, dtype=object)


def aggregate_jobs(jobs: pd.DataFrame, regions: pd.DataFrame, *, region_col: str = "region",
                   value: str = "jobs") -> pd.DataFrame:
    """Sum kommune jobs to regions.

    Parameters
    ----------
    jobs : pandas.DataFrame
        year, kommune, jobs (persons).
    regions : pandas.DataFrame
        kommune, <region_col>.
    region_col : str, default "region"
        Region column.
    value : str, default "jobs"
        Jobs column (persons by place of work).

    Returns
    -------
    pandas.DataFrame
        year, region, <value> (persons).
    """
    jobs = _check_jobs(jobs, "kommune", value)
    mapping = tb.region_map(regions, region_col)
    check_known_codes(jobs["kommune"].unique(), mapping.index, "jobs table kommuner",
                "They are not in the regions table: use the same kommune code system (e.g. 2020 codes).")
    out = jobs.assign(region=jobs["kommune"].map(mapping)).groupby(["year", "region"], as_index=False)[value].sum()
    return out


def aggregate_commuting(commuting: pd.DataFrame, regions: pd.DataFrame, *,
                        region_col: str = "region") -> pd.DataFrame:
    """Aggregate the kommune commuting matrix to regions.

    Parameters
    ----------
    commuting : pandas.DataFrame
        year, home_kommune, work_kommune, employed (persons).
    regions : pandas.DataFrame
        kommune, <region_col>.
    region_col : str, default "region"
        Region column.

    Returns
    -------
    pandas.DataFrame
        year, home_region, work_region, employed (persons).
    """
    commuting = _check_commuting(commuting, "kommune")
    mapping = tb.region_map(regions, region_col)
    codes = pd.unique(pd.concat([commuting["home_kommune"], commuting["work_kommune"]]))
    check_known_codes(codes, mapping.index, "commuting table kommuner",
                "They are not in the regions table: use the same kommune code system (e.g. 2020 codes).")
    df = commuting.assign(home_region=commuting["home_kommune"].map(mapping),
                          work_region=commuting["work_kommune"].map(mapping))
    return df.groupby(["year", "home_region", "work_region"], as_index=False)["employed"].sum()


def region_vra(commuting: pd.DataFrame, jobs: pd.DataFrame, regions: pd.DataFrame, years: Iterable[int], *,
               lags: int = 2, region_col: str = "region", value: str = "jobs",
               lag_shares: Literal["own", "same"] = "own", split: bool = False) -> pd.DataFrame:
    """Region VRA and lags from kommune tables and a kommune -> region map.

    The commuting matrix is aggregated to region-to-region flows (commuting inside a region is then
    'own'), jobs are summed per region, and :func:`vra_with_lags` runs at region level.

    Parameters
    ----------
    commuting : pandas.DataFrame
        year, home_kommune, work_kommune, employed (persons).
    jobs : pandas.DataFrame
        year, kommune, jobs (persons).
    regions : pandas.DataFrame
        kommune, <region_col>.
    years : iterable of int
        Target years.
    lags : int, default 2
        Number of lags.
    region_col : str, default "region"
        Region column.
    value : str, default "jobs"
        Jobs column (persons by place of work).
    lag_shares : {"own", "same"}
        See :func:`vra_with_lags`.
    split : bool, default False
        Own/neighbour split.

    Returns
    -------
    pandas.DataFrame
        year, region, vra_t, vra_t1, … (fractions).
    """
    rc = aggregate_commuting(commuting, regions, region_col=region_col)
    rj = aggregate_jobs(jobs, regions, region_col=region_col, value=value)
    return vra_with_lags(rc, rj, years, lags=lags, unit="region", value=value, lag_shares=lag_shares, split=split)
