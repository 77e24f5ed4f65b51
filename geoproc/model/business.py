"""Private-sector job growth and business attractiveness (*næringsattraktivitet*), MODEL.md §3.

Shift-share per unit i and year t (persons, jobs change from t−1 to t):
- ``national``   = E_0 · g_nat (E_0 = private jobs of i in t−1, g_nat = national private growth),
- ``branch``     = Σ_b E_b,0 · (g_b,nat − g_nat) (branch mix effect, *bransjeeffekt*),
- ``population`` = k · Σ_{b population-sensitive} E_b,0 · relpop_i,t, where relpop is the unit's
  population growth over the previous ``window`` years minus the national one (fractions):
  relpop_t = P(1 Jan t)/P(1 Jan t−window) − 1 − (same for Norway); k = ``population_elasticity``
  (estimated: :func:`estimate_population_elasticity`),
- ``attractiveness`` = actual private change − (national + branch + population) (residual),
- ``private`` = actual private change; ``public`` = actual public change; ``total`` = private + public.
So national + branch + population + attractiveness = private, and private + public = total.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
import pandas as pd

from centrality.errors import InputError
from geoproc.data.tables import check_known_codes, check_non_negative, check_table, check_years, validate_table

_BRANCH_ROWS = [
    # branch, group, population_sensitive (False = primary industries and manufacturing)
    ("other manufacturing", "basic", False), ("food industry", "basic", False), ("oil and gas", "basic", False),
    ("process industry", "basic", False), ("other engineering", "basic", False),
    ("power production", "basic", False), ("platform production", "basic", False),
    ("fisheries and aquaculture", "basic", False), ("agriculture", "basic", False),
    ("technical/scientific services", "basic", True), ("telecom and ICT", "basic", True),
    ("activities", "visitor", True), ("retail", "visitor", True), ("accommodation", "visitor", True),
    ("food service", "visitor", True),
    ("agency and wholesale", "regional", True), ("construction", "regional", True),
    ("other services", "regional", True), ("finance/real estate", "regional", True),
    ("business services", "regional", True), ("health services", "regional", True),
    ("kindergartens and education", "regional", True), ("staffing", "regional", True),
    ("passenger transport", "regional", True), ("freight transport", "regional", True),
]
#: The 25 private branches and the public sectors. ``population_sensitive``: all private branches
#: except primary industries and manufacturing (power production is counted with industry).
BRANCHES = pd.DataFrame(
    [(b, "private", g, p) for b, g, p in _BRANCH_ROWS]
    + [(s, "public", "public", False) for s in ("municipal", "county", "state")],
    columns=["branch", "sector", "group", "population_sensitive"])


def relative_population_growth(population: pd.DataFrame, years: Iterable[int], *, window: int = 3,
                               unit: str = "kommune") -> pd.DataFrame:
    """Relative population growth: P_t/P_t−window − 1 minus the national growth (fractions).

    Parameters
    ----------
    population : pandas.DataFrame
        year, <unit>, population (persons, 1 January), all units of the country.
    years : iterable of int
        Years t.
    window : int, default 3
        Years.
    unit : {"kommune", "region"}
        Unit column.

    Returns
    -------
    pandas.DataFrame
        year, <unit>, relpop.
    """
    check_table(population, ["year", unit, "population"], "population table")
    check_non_negative(population, ["population"], "population table")
    years = sorted(int(y) for y in years)
    check_years(set(years) | {y - window for y in years}, population["year"].unique(), "population table",
                f"The population effect needs population on 1 January of t and t-{window}.")
    wide = population.pivot_table(index=unit, columns="year", values="population", aggfunc="sum")
    frames = []
    for y in years:
        pair = wide[[y - window, y]]
        if pair.isna().any().any() or (pair[y - window] <= 0).any():
            bad = list(pair.index[pair.isna().any(axis=1) | (pair[y - window] <= 0)][:5])
            raise InputError(f"population table: {unit} {bad} lack a positive population in {y - window} or {y} "
                             "(mixed code systems?). Use one code system for all years.")
        national = pair[y].sum() / pair[y - window].sum() - 1.0
        frames.append(pd.DataFrame({"year": y, unit: pair.index,
                                    "relpop": (pair[y] / pair[y - window] - 1.0 - national).to_numpy()}))
    return pd.concat(frames, ignore_index=True)


def _branch_table(jobs: pd.DataFrame, branches: pd.DataFrame, unit: str) -> pd.DataFrame:
    unit_cols = {"kommune_cols" if unit == "kommune" else "region_cols": [unit]}
    jobs = validate_table(jobs, "jobs by branch table", keys=["year", unit, "branch"], int_cols=["year"],
                          count_cols=["jobs"], **unit_cols)
    check_table(branches, ["branch", "sector", "population_sensitive"], "branch classification")
    check_known_codes(jobs["branch"].unique(), branches["branch"], "jobs table branches",
                "Classify every branch in the branch table (columns branch, sector 'private'/'public', "
                "population_sensitive).")
    return jobs.merge(branches[["branch", "sector", "population_sensitive"]], on="branch", how="left")


def _growth_frame(df: pd.DataFrame, unit: str, y: int) -> pd.DataFrame:
    """Rows of t−1 and t side by side per unit and branch (a unit/branch absent in one year has 0 jobs)."""
    cur = df[df["year"] == y].set_index([unit, "branch"])["jobs"]
    prev = df[df["year"] == y - 1].set_index([unit, "branch"])["jobs"]
    u_cur, u_prev = set(cur.index.get_level_values(0)), set(prev.index.get_level_values(0))
    if u_cur != u_prev:
        raise InputError(f"jobs by branch: {unit} codes differ between {y - 1} and {y} "
                         f"(e.g. {sorted(u_cur ^ u_prev)[:5]}); the table mixes code systems. Use one code system.")
    both = pd.concat({"e0": prev, "e1": cur}, axis=1).fillna(0.0).reset_index()
    meta = df.drop_duplicates("branch").set_index("branch")
    both["sector"] = both["branch"].map(meta["sector"])
    both["population_sensitive"] = both["branch"].map(meta["population_sensitive"]).astype(bool)
    return both


def shift_share(jobs: pd.DataFrame, population: pd.DataFrame, *, population_elasticity: float,
                branches: pd.DataFrame = BRANCHES, years: Iterable[int] | None = None, window: int = 3,
                unit: str = "kommune") -> pd.DataFrame:
    """Shift-share decomposition of private job growth (persons per year).

    Parameters
    ----------
    jobs : pandas.DataFrame
        year, <unit>, branch, jobs for every unit of the country (national rates are computed from it).
    population : pandas.DataFrame
        year, <unit>, population (1 January).
    population_elasticity : float
        k: extra growth (fraction) of the population-sensitive branches per unit of relative
        population growth (dimensionless).
    branches : pandas.DataFrame, default BRANCHES
        branch, sector, group, population_sensitive (the 25 private branches and public sectors).
    years : iterable of int, optional
        Years (default all with a previous year).
    window : int, default 3
        Years of the relative population growth.
    unit : {"kommune", "region"}
        Unit column.

    Returns
    -------
    pandas.DataFrame
        year, <unit>, private_jobs_prev, national, branch, population, expected, attractiveness,
        private, public, total.
    """
    df = _branch_table(jobs, branches, unit)
    have = sorted(int(y) for y in df["year"].unique())
    years = sorted(int(y) for y in (years if years is not None else [y for y in have if y - 1 in have]))
    if not years:
        raise InputError(f"jobs by branch need two consecutive years; the table has {have}.")
    check_years(set(years) | {y - 1 for y in years}, have, "jobs by branch table", "Add the previous year's jobs.")
    relpop = relative_population_growth(population, years, window=window, unit=unit)
    frames = []
    for y in years:
        g = _growth_frame(df, unit, y)
        priv = g[g["sector"] == "private"]
        nat_b = priv.groupby("branch")[["e0", "e1"]].sum()
        if (nat_b["e0"] <= 0).any():
            raise InputError(f"branches {list(nat_b.index[nat_b['e0'] <= 0][:5])} have no jobs nationally in {y - 1}; "
                             "their national growth is undefined. Drop or merge them.")
        g_b = nat_b["e1"] / nat_b["e0"] - 1.0
        g_nat = nat_b["e1"].sum() / nat_b["e0"].sum() - 1.0
        priv = priv.assign(g_b=priv["branch"].map(g_b))
        priv = priv.assign(branch_eff=priv["e0"] * (priv["g_b"] - g_nat),
                           e0_ps=np.where(priv["population_sensitive"], priv["e0"], 0.0),
                           change=priv["e1"] - priv["e0"])
        per = priv.groupby(unit)[["e0", "branch_eff", "e0_ps", "change"]].sum()
        pub = g[g["sector"] == "public"].assign(change=lambda d: d["e1"] - d["e0"]).groupby(unit)["change"].sum()
        rp = relpop[relpop["year"] == y].set_index(unit)["relpop"]
        check_known_codes(per.index, rp.index, f"population for {y}", "Give the population of every unit in the jobs table.")
        out = pd.DataFrame({"year": y, unit: per.index, "private_jobs_prev": per["e0"].to_numpy(),
                            "national": (per["e0"] * g_nat).to_numpy(), "branch": per["branch_eff"].to_numpy(),
                            "population": (population_elasticity * per["e0_ps"] * rp.reindex(per.index)).to_numpy(),
                            "private": per["change"].to_numpy(),
                            "public": pub.reindex(per.index).fillna(0.0).to_numpy()})
        frames.append(out)
    res = pd.concat(frames, ignore_index=True)
    res["expected"] = res["national"] + res["branch"] + res["population"]
    res["attractiveness"] = res["private"] - res["expected"]
    res["total"] = res["private"] + res["public"]
    return res[["year", unit, "private_jobs_prev", "national", "branch", "population", "expected",
                "attractiveness", "private", "public", "total"]]


def estimate_population_elasticity(jobs: pd.DataFrame, population: pd.DataFrame, *,
                                   branches: pd.DataFrame = BRANCHES, years: Iterable[int] | None = None,
                                   window: int = 3, unit: str = "kommune") -> tuple[float, float]:
    """OLS estimate of the population elasticity k, without constant, over unit-years.

    Regresses the private change beyond the national and branch effects (persons) on
    Σ_pop-sensitive E_b,0 · relpop.

    Parameters
    ----------
    jobs : pandas.DataFrame
        year, <unit>, branch, jobs.
    population : pandas.DataFrame
        year, <unit>, population (1 January).
    branches : pandas.DataFrame, default BRANCHES
        branch, sector, group, population_sensitive (the 25 private branches and public sectors).
    years : iterable of int, optional
        Years.
    window : int, default 3
        Years of the relative population growth.
    unit : {"kommune", "region"}
        Unit column.

    Returns
    -------
    tuple of float
        (k, its standard error).
    """
    import statsmodels.api as sm

    base = shift_share(jobs, population, population_elasticity=1.0, branches=branches, years=years,
                       window=window, unit=unit)
    y = base["private"] - base["national"] - base["branch"]
    x = base["population"]  # = 1.0 · E_ps,0 · relpop
    if len(base) < 3 or float((x ** 2).sum()) == 0.0:
        raise InputError("cannot estimate the population elasticity: need >= 3 unit-years with relative "
                         "population growth different from 0.")
    fit = sm.OLS(y.to_numpy(), x.to_numpy()[:, None]).fit()
    return float(fit.params[0]), float(fit.bse[0])


# ------------------------------------------------------------------------------------------------
# the branch-table input and one call for the CLI and the QGIS algorithm
# ------------------------------------------------------------------------------------------------
#: Columns of the documented branch-table input (docs/usage-model.md, "Business attractiveness").
BRANCH_TABLE_COLUMNS = ("year", "kommune", "branch", "jobs")


def read_branch_table(table: pd.DataFrame, branches: pd.DataFrame = BRANCHES, *, unit: str = "kommune",
                      what: str = "jobs by branch table") -> pd.DataFrame:
    """Validate the branch-table input (the format of docs/usage-model.md, "Business attractiveness").

    ``branch`` must be one of the 25 private branches or the public sectors of ``branches`` (names as
    in :data:`BRANCHES`, case-insensitive; ``regio model business --template`` writes the list).
    Every unit needs every year; rows of the same unit, year and branch are summed.

    Parameters
    ----------
    table : pandas.DataFrame
        year, <unit>, branch, jobs (jobs by place of work, persons).
    branches : pandas.DataFrame, default BRANCHES
        The branch classification: branch, sector ('private'/'public'), population_sensitive.
    unit : str, default "kommune"
        Unit column.
    what : str
        The table's name in messages.

    Returns
    -------
    pandas.DataFrame
        year (int), <unit>, branch (canonical name), jobs (float persons).

    Raises
    ------
    InputError
        For unknown branches, non-numeric or negative jobs, or units lacking years.
    """
    check_table(table, [*BRANCH_TABLE_COLUMNS[:1], unit, "branch", "jobs"], what,
                f"Give one row per year, {unit} and branch with the jobs (persons); see docs/usage-model.md.")
    df = table[["year", unit, "branch", "jobs"]].copy()
    df["branch"] = df["branch"].astype(str).str.strip()
    lookup = {b.lower(): b for b in branches["branch"]}
    normal = df["branch"].str.lower().map(lookup)
    unknown = sorted(set(df.loc[normal.isna(), "branch"]))
    if unknown:
        raise InputError(f"{what}: unknown branches {unknown[:5]}{' …' if len(unknown) > 5 else ''}. Use the 25 "
                         "private branches and the public sectors of the branch list (regio model business "
                         "--template FILE writes it), or give your own classification (branch, sector, "
                         "population_sensitive).")
    df["branch"] = normal
    df["jobs"] = pd.to_numeric(df["jobs"], errors="coerce")
    if df["jobs"].isna().any() or (df["jobs"] < 0).any():
        raise InputError(f"{what}: 'jobs' must be numbers ≥ 0 in every row; "
                         f"{int(df['jobs'].isna().sum() + (df['jobs'] < 0).sum())} rows are not.")
    df["year"] = pd.to_numeric(df["year"], errors="coerce")
    if df["year"].isna().any():
        raise InputError(f"{what}: 'year' must be a whole number in every row.")
    df["year"] = df["year"].astype(int)
    df = df.groupby(["year", unit, "branch"], as_index=False)["jobs"].sum()
    years = df.groupby(unit)["year"].nunique()
    n_years = df["year"].nunique()
    short = sorted(years.index[years < n_years])
    if short:
        raise InputError(f"{what}: {unit} {short[:5]} lack some of the years {sorted(df['year'].unique())}; give "
                         "every unit every year (0 jobs as 0, not a missing row), in one kommune code system.")
    return df


@dataclass
class BusinessRun:
    """Business attractiveness per unit (MODEL.md §3), persons of jobs per year unless stated.

    - ``yearly``: :func:`shift_share` rows (year, unit, private_jobs_prev, national, branch,
      population, expected, attractiveness, private, public, total)
    - ``summary``: per unit the yearly means of those columns, ``attractiveness_pct`` (cumulated
      business attractiveness in percent of the private jobs at the start) and ``rank``
      (1 = most attractive)
    - ``population_elasticity`` (k) and its standard error (NaN when given by the user)
    """

    unit: str
    yearly: pd.DataFrame
    summary: pd.DataFrame
    population_elasticity: float
    elasticity_se: float
    years: list[int]
    notes: list[str] = field(default_factory=list)


def business_attractiveness(jobs: pd.DataFrame, population: pd.DataFrame, *, years: Iterable[int] | None = None,
                            population_elasticity: float | None = None, branches: pd.DataFrame = BRANCHES,
                            window: int = 3, unit: str = "kommune") -> BusinessRun:
    """Shift-share and business attractiveness for every unit and year, in one call (CLI and QGIS).

    Parameters
    ----------
    jobs : pandas.DataFrame
        The branch table (:func:`read_branch_table`) for every unit of the country (national branch
        growth is computed from it).
    population : pandas.DataFrame
        year, <unit>, population (1 January, persons), including the ``window`` years before the
        first year.
    years : iterable of int, optional
        Years t (default: all with t−1 in the jobs table).
    population_elasticity : float, optional
        k; None = estimated by OLS (:func:`estimate_population_elasticity`).
    branches : pandas.DataFrame, default BRANCHES
        Branch classification.
    window : int, default 3
        Years of the relative population growth.
    unit : str, default "kommune"
        Unit column.

    Returns
    -------
    BusinessRun
        ``yearly`` (persons of jobs per year and unit), ``summary`` (yearly means,
        attractiveness_pct = cumulated business attractiveness in percent of the private jobs at the
        start, rank), k and its standard error.
    """
    jobs = read_branch_table(jobs, branches, unit=unit)
    notes = []
    if population_elasticity is None:
        k, se = estimate_population_elasticity(jobs, population, branches=branches, years=years, window=window,
                                               unit=unit)
        notes.append(f"population elasticity k = {k:.3f} (SE {se:.3f}), estimated by OLS on the given unit-years")
    else:
        k, se = float(population_elasticity), float("nan")
        notes.append(f"population elasticity k = {k:.3f}, as given")
    yearly = shift_share(jobs, population, population_elasticity=k, branches=branches, years=years, window=window,
                         unit=unit)
    cols = ["private_jobs_prev", "national", "branch", "population", "expected", "attractiveness", "private",
            "public", "total"]
    summary = yearly.groupby(unit)[cols].mean().reset_index()
    first = yearly[yearly["year"] == yearly["year"].min()].set_index(unit)["private_jobs_prev"]
    total_attr = yearly.groupby(unit)["attractiveness"].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        summary["attractiveness_pct"] = (100.0 * total_attr / first.reindex(total_attr.index)).to_numpy()
    summary["n_years"] = yearly.groupby(unit)["year"].nunique().to_numpy()
    summary["rank"] = summary["attractiveness_pct"].rank(ascending=False, method="first").astype(int)
    summary = summary.sort_values("rank").reset_index(drop=True)
    years_used = sorted(int(y) for y in yearly["year"].unique())
    return BusinessRun(unit=unit, yearly=yearly, summary=summary, population_elasticity=k, elasticity_se=se,
                       years=years_used, notes=notes)
