"""`regio model ...`: the attractiveness model from the command line.

Subcommands: ``estimate`` (OLS re-estimation, prints the coefficient table), ``attractiveness``
(expected/actual net migration, residual attractiveness, ranks, map), ``decompose`` (components
of net migration, persons per year) and ``project`` (cohort-component projection with the four
attractiveness scenarios). Inputs are tidy CSV/Parquet tables (docs/usage-model.md), or
``--data-dir`` with the SSB files of ../shared/data via :mod:`geoproc.data.loaders`, or ``--ssb``
(online, :mod:`geoproc.data.ssb_client`). Everything is computed before anything is written, and
each file is written atomically, so bad input (exit status 2) leaves no output behind.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from centrality.errors import InputError, require_columns
from centrality.fileio import OutputSet, read_vector, require_parquet
from geoproc.data import loaders, ssb_client
from geoproc.data import tables as dtables
from geoproc.model import estimate as est
from geoproc.model import pipeline
from geoproc.model import project as pj
from geoproc.model.params import save_params
from geoproc.plots import charts, maps

log = logging.getLogger(__name__)

CODE_COLUMNS = ("kommune", "home_kommune", "work_kommune", "region", "home_region", "work_region")


# ------------------------------------------------------------------------------------------------
# reading
# ------------------------------------------------------------------------------------------------
def read_table(path: str | Path, what: str) -> pd.DataFrame:
    """Read a CSV or Parquet table; kommune/region code columns are read as text ('0301')."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{what} file '{path}' does not exist. Check the path.")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            df = pd.read_parquet(path)
        elif suffix in (".csv", ".txt"):
            df = pd.read_csv(path, dtype={c: str for c in CODE_COLUMNS})
        else:
            raise InputError(f"{what} file '{path}' has unknown extension '{suffix}'; give a .csv or .parquet table.")
    except InputError:
        raise
    except Exception as exc:  # parser errors of pandas/pyarrow
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


def parse_years(tokens: Sequence[str] | None) -> list[int]:
    """'2019 2020', '2015-2021' or '2015..2021' -> sorted list of years."""
    years: set[int] = set()
    for token in tokens or []:
        for part in str(token).split(","):
            part = part.strip().replace("..", "-")
            if not part:
                continue
            try:
                if "-" in part:
                    a, b = (int(x) for x in part.split("-", 1))
                    years.update(range(min(a, b), max(a, b) + 1))
                else:
                    years.add(int(part))
            except ValueError:
                raise InputError(f"cannot read the year '{part}'; write years like 2021, 2015-2021 or 2019,2020.") from None
    return sorted(years)


def _optional(path, what):
    return None if path is None else read_table(path, what)


def _tables_from_files(args) -> dict:
    tables = {
        "jobs": _optional(args.jobs, "jobs"), "commuting": _optional(args.commuting, "commuting"),
        "population": _optional(args.population, "population"),
        "net_migration": _optional(args.net_migration, "net migration"),
        "population_by_age_sex": _optional(args.population_age_sex, "population by age and sex"),
        "population_by_age": _optional(args.population_age, "population by age"),
        "centrality": _optional(args.centrality, "centrality"),
        "regions": _optional(args.regions, "regions"),
        "births": _optional(getattr(args, "births", None), "births"),
        "deaths": _optional(getattr(args, "deaths", None), "deaths"),
    }
    if tables["regions"] is not None and "name" in tables["regions"].columns:
        tables["names"] = dict(zip(tables["regions"]["kommune"], tables["regions"]["name"]))
    return tables


def _keep_complete_kommuner(jobs: pd.DataFrame, commuting: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop kommuner missing from the jobs of some year (e.g. Rindal 2019 in the SSB files), with a warning."""
    n_years = jobs["year"].nunique()
    counts = jobs.groupby("kommune")["year"].nunique()
    incomplete = sorted(counts.index[counts < n_years])
    if not incomplete:
        return jobs, commuting
    log.warning("kommuner %s lack jobs in some years and are left out of the model run", incomplete)
    keep_c = ~(commuting["home_kommune"].isin(incomplete) | commuting["work_kommune"].isin(incomplete))
    return jobs[~jobs["kommune"].isin(incomplete)], commuting[keep_c]


def _tables_from_data_dir(args, years: list[int]) -> dict:
    """Tables from the SSB files of a ../shared-style data folder (geoproc.data.loaders)."""
    data_dir = args.data_dir
    first = min(years) - 3 if years else 2020
    emp_years = [y for y in loaders.EMPLOYMENT_YEARS if y >= first and y <= max(years or [2022])]
    to_system = "2020" if any(y < 2020 for y in emp_years) else None
    if to_system:
        log.warning("jobs before 2020 are converted to 2020 kommune codes; kommuner split in the "
                    "2020 reform go wholly to their main successor (--on-split %s)", args.on_split)
    # One jobs series in 2020 codes: merges summed, split kommuner flagged, Rindal 2019 (absent in the
    # source) interpolated and flagged (geoproc.data.loaders.load_jobs_series).
    jobs = loaders.load_jobs_series(data_dir, years=emp_years, on_split=args.on_split)[["year", "kommune", "jobs"]]
    # Commuting shares: the 2020-code matrices (2020+); earlier lags use the nearest available year
    # (recorded by the model in attrs["commuting_year_used"]), because the 2019 matrix lacks Rindal.
    com_years = [y for y in loaders.EMPLOYMENT_YEARS if y >= 2020 and first <= y <= max(years or [2022])] or [2020]
    commuting = loaders.load_commuting(data_dir, years=com_years)
    jobs, commuting = _keep_complete_kommuner(jobs, commuting)
    regions = loaders.load_regions(data_dir, fill_missing="own")
    tables = {
        "jobs": jobs, "commuting": commuting,
        "population_by_age": loaders.load_population_by_age(data_dir),
        "population_by_age_sex": loaders.load_population_by_age_sex(data_dir),
        "regions": regions.rename(columns={"ba_region_code": "region"}),
        "names": dict(zip(regions["kommune"], regions["kommune_name"])),
    }
    for name, attr in (("net_migration", "net_migration"), ("centrality", "centrality"), ("births", "births"),
                       ("deaths", "deaths")):
        if getattr(args, attr, None):
            tables[name] = read_table(getattr(args, attr), name.replace("_", " "))
    return tables


def _tables_from_ssb(args, years: list[int]) -> dict:
    """Tables downloaded from SSB's PxWebApi (:mod:`geoproc.data.ssb_client`; online).

    Jobs (11618) and commuting (03321) for the VRA years, population by age and sex (07459) for
    the model years and the year after (net migration by the cohort-survival residual unless
    --net-migration is given). Kommune codes are those of each year: keep the years within one
    code system (e.g. 2020–2023).
    """
    vra_years = list(range(min(years) - 3, max(years) + 1))
    pop_years = list(range(min(years), max(years) + 2))
    employment = ssb_client.fetch_employment(vra_years)
    tables = {
        "jobs": employment.rename(columns={"employed_by_workplace": "jobs"})[["year", "kommune", "jobs"]],
        "commuting": ssb_client.fetch_commuting(vra_years),
        "population_by_age_sex": ssb_client.fetch_population_by_age_sex(pop_years),
    }
    for name, attr in (("net_migration", "net_migration"), ("centrality", "centrality"), ("regions", "regions"),
                       ("births", "births"), ("deaths", "deaths")):
        if getattr(args, attr, None):
            tables[name] = read_table(getattr(args, attr), name.replace("_", " "))
    return tables


def load_tables(args, years: list[int]) -> dict:
    if getattr(args, "ssb", False):
        return _tables_from_ssb(args, years)
    if getattr(args, "data_dir", None):
        return _tables_from_data_dir(args, years)
    if args.jobs is None or args.commuting is None:
        raise InputError("give the input tables (--jobs FILE --commuting FILE --population FILE ...), "
                         "or --data-dir FOLDER with the SSB files, or --ssb to download them.")
    return _tables_from_files(args)


def _polygons(args, unit: str, regions: pd.DataFrame | None):
    """Kommune polygons (from --kommuner or the data folder), dissolved to regions for unit=region."""
    gdf = None
    if getattr(args, "kommuner", None):

        gdf = read_vector(args.kommuner, what="kommune polygons")
        col = args.kommune_field
        if col not in gdf.columns:

            require_columns(gdf.columns, [col], "kommune polygons", "Pass --kommune-field NAME.")
        gdf = gdf.assign(kommune=dtables.normalise_kommune(gdf[col], "kommune polygons", col))
    elif getattr(args, "data_dir", None):

        gdf = loaders.load_kommune_polygons(args.data_dir)
    if gdf is None:
        return None
    if unit == "region":
        if regions is None:
            raise InputError("region maps need the regions table (--regions FILE).")
        mapping = regions.set_index("kommune")["region"]
        gdf = gdf.assign(region=gdf["kommune"].map(mapping)).dropna(subset=["region"])
        gdf = gdf[["region", "geometry"]].dissolve(by="region", as_index=False)
    return gdf


# ------------------------------------------------------------------------------------------------
# writing
# ------------------------------------------------------------------------------------------------
class Outputs:
    """The tables, layers and figures of one model command, collected while computing and written
    at the end through one :class:`centrality.fileio.OutputSet` (the output folder is owned by
    the run), so a failure anywhere leaves no output behind."""

    def __init__(self, out_dir: str | Path, fmt: str, figures: bool, inputs=()):
        if fmt == "parquet":
            require_parquet("--format parquet")
        self.out_dir = Path(out_dir)
        self.fmt = fmt
        self.figures = figures
        self.inputs = list(inputs)
        self.tables: list[tuple[str, pd.DataFrame]] = []
        self.layers: list[tuple[str, object]] = []
        self.plots: list[tuple] = []
        self.files: list[tuple] = []
        self.written: list[Path] = []

    def table(self, name: str, df: pd.DataFrame) -> None:
        self.tables.append((name, df))

    def layer(self, name: str, gdf) -> None:
        self.layers.append((name, gdf))

    def plot(self, fn, *args, **kwargs) -> None:
        """Draw ``fn(*args, **kwargs)`` at write time; Path arguments inside the output folder are
        redirected to the staging folder."""
        if self.figures:
            self.plots.append((fn, args, kwargs))

    def file(self, writer, path: Path) -> None:
        """Write ``path`` with ``writer(staged_path)`` at write time."""
        self.files.append((writer, path))

    def write(self) -> list[Path]:
        """Stage every collected output and commit them together; on failure nothing is left."""
        with OutputSet(inputs=self.inputs, command="regio model") as outputs:
            outputs.declare_folder(self.out_dir, owned=True, what="--out-dir")
            outputs.check()
            for name, df in self.tables:
                outputs.write_table(self.out_dir / f"{name}.{self.fmt}", df)
            for name, gdf in self.layers:
                outputs.write_gpkg(self.out_dir / f"{name}.gpkg", {name: gdf})
            for writer, path in self.files:
                writer(outputs.path(path))
            for fn, args, kwargs in self.plots:
                fn(*[outputs.path(a) if isinstance(a, Path) and a.is_relative_to(self.out_dir) else a for a in args],
                   **kwargs)
            self.written = outputs.commit()
        for p in self.written:
            print(p)
        return self.written


INPUT_OPTIONS = ("jobs", "commuting", "population", "net_migration", "population_age_sex", "population_age", "centrality",
                 "regions", "births", "deaths", "data_dir", "kommuner", "attractiveness", "fertility", "mortality",
                 "factors", "migration_profile", "official", "params")


def _input_files(args) -> list:
    """The input files and folders named on the command line (outputs must not overwrite them)."""
    return [getattr(args, name) for name in INPUT_OPTIONS
            if isinstance(getattr(args, name, None), str) and Path(getattr(args, name)).exists()]


def _figure_path(outputs: Outputs, name: str) -> Path:
    return outputs.out_dir / "figures" / name


def _choropleth(outputs: Outputs, gdf, column: str, name: str, *, title: str, unit_label: str, note: str | None = None):
    def draw(path: Path):
        fig = maps.choropleth(gdf, column, title=title, unit_label=unit_label, k=5, diverging=True, note=note)
        return maps.save_figure(fig, path, formats=("png", "svg"))

    outputs.plot(draw, _figure_path(outputs, name))


def _join_polygons(polygons, table: pd.DataFrame, unit: str, names: dict | None):
    gdf = polygons.merge(table, on=unit, how="inner")
    unmatched = sorted(set(table[unit]) - set(gdf[unit]))
    if unmatched and not gdf.empty:
        log.warning("%d %s(s) have no polygon and are not in the GeoPackage/map: %s", len(unmatched), unit, unmatched[:10])
    if gdf.empty:
        raise InputError(f"no {unit} of the results matches the polygons; check that both use the same codes "
                         "(4-digit 2020 kommune codes).")
    if names and unit == "kommune" and "name" not in gdf.columns:
        gdf["name"] = gdf["kommune"].map(names)
    return gdf


# ------------------------------------------------------------------------------------------------
# subcommands
# ------------------------------------------------------------------------------------------------
def _run(args):
    years = parse_years(args.years)
    if not years:
        raise InputError("give the model years with --years (e.g. --years 2015-2021).")
    tables = load_tables(args, years)
    names = tables.pop("names", None)
    rate = args.immigration_rate
    result = pipeline.run_model(tables, years=years, params=args.params, unit=args.unit,
                                national_immigration_rate=rate)
    for note in result.notes:
        log.warning(note)
    return result, tables, names


def cmd_attractiveness(args) -> int:
    result, tables, names = _run(args)
    unit = result.unit
    polygons = _polygons(args, unit, tables.get("regions"))
    out = Outputs(args.out_dir, args.format, not args.no_figures, inputs=_input_files(args))
    summary = result.unit_table()
    if names and unit == "kommune":
        summary.insert(1, "name", summary["kommune"].map(names))
    out.table("attractiveness", result.attractiveness)
    out.table("attractiveness_summary", summary)
    out.table("rankings", result.rankings)
    out.table("expected_contributions", result.expected)
    period = f"{result.years[0]}–{result.years[-1]}"
    labels = names if unit == "kommune" else None
    mean_in = result.inputs.groupby(unit)[["vra_t"]].mean().join(
        result.attractiveness.groupby(unit)[["nm_actual"]].mean(), how="inner")
    out.plot(charts.expectation_scatter, 100 * mean_in["vra_t"].to_numpy(), 100 * mean_in["nm_actual"].to_numpy(),
             _figure_path(out, "expectation_line"), labels=[(labels or {}).get(k, k) for k in mean_in.index],
             xlabel="Weighted relative job growth VRA (% per year)", ylabel="Net migration (% of population per year)",
             title=f"Net migration against job growth, {period} ({unit} means)")
    out.plot(charts.ranking_bars, summary.set_index(unit)["attractiveness_pct"], _figure_path(out, "ranking"),
             labels=labels, title=f"Residential attractiveness {period}: top and bottom 10",
             xlabel="Cumulative attractiveness (% of population)")
    extremes = list(summary[unit].head(3)) + list(summary[unit].tail(3))
    series = result.attractiveness.pivot(index="year", columns=unit, values="attractiveness")[extremes]
    out.plot(charts.attractiveness_series, series.rename(columns=lambda k: (labels or {}).get(k, k)),
             _figure_path(out, "attractiveness_series"), title=f"Cumulative residential attractiveness, {period}")
    national = result.attractiveness.assign(a=lambda d: d.nm_actual * d.population, e=lambda d: d.nm_expected * d.population)
    by_year = national.groupby("year")[["a", "e", "population"]].sum()
    ave = pd.DataFrame({"actual": by_year["a"] / by_year["population"], "expected": by_year["e"] / by_year["population"]})
    out.plot(charts.actual_vs_expected, ave, _figure_path(out, "actual_vs_expected"),
             title=f"Actual and expected net migration, all {unit}s")
    if polygons is not None:
        gdf = _join_polygons(polygons, summary, unit, names)
        out.layer("attractiveness", gdf)
        _choropleth(out, gdf, "attractiveness_pct", "attractiveness_map",
                    title=f"Residential attractiveness {period} (cumulative)", unit_label="% of population")
    out.write()
    return 0


def cmd_decompose(args) -> int:
    result, tables, names = _run(args)
    unit = result.unit
    out = Outputs(args.out_dir, args.format, not args.no_figures, inputs=_input_files(args))
    out.table("decomposition", result.decomposition)
    mean = result.decomposition_mean
    out.table("decomposition_mean", mean)
    wanted = list(args.units) if args.units else list(result.cumulative[unit].head(5))
    unknown = sorted(set(wanted) - set(mean[unit]))
    if unknown:
        raise InputError(f"--units {unknown} are not in the results; choose among the {unit} codes of the tables.")
    natural = "births_surplus" in mean.columns
    parts = (["births_surplus"] if natural else []) + ["immigration", "centrality", "own_jobs", "neighbour_jobs", "ds",
                                                       "attractiveness"]
    comp = mean.set_index(unit).loc[wanted, parts]
    labels = names if unit == "kommune" and names else {}
    comp.index = [labels.get(k, k) for k in comp.index]
    total = mean.set_index(unit).loc[wanted, "total_change" if natural else "net_migration"]
    total.index = comp.index
    period = f"{result.years[0]}–{result.years[-1]}"
    out.plot(charts.decomposition_bars, comp, _figure_path(out, "decomposition"), total=total,
             title=f"{'Population change' if natural else 'Net migration'} by component, {period} (persons per year)")
    polygons = _polygons(args, unit, tables.get("regions"))
    if polygons is not None:
        out.layer("decomposition", _join_polygons(polygons, mean, unit, names))
    out.write()
    return 0


def cmd_estimate(args) -> int:

    years = parse_years(args.years)
    if not years:
        raise InputError("give the estimation years with --years (e.g. --years 2005-2021).")
    tables = load_tables(args, years)
    tables.pop("names", None)
    data = pipeline.estimation_data(tables, years=years, terms=args.terms, unit=args.unit,
                                    national_immigration_rate=args.immigration_rate)
    pooled = est.estimate(data, terms=args.terms, label="estimate")
    out = Outputs(args.out_dir, args.format, False, inputs=_input_files(args))
    out.table("estimation_data", data)
    out.table("coefficients", pooled.coefficients)
    if args.by_year:
        out.table("coefficients_by_year", est.by_year_table(est.estimate(data, terms=args.terms, by_year=True)))
    print(est.format_table(pooled))
    out.file(lambda path: save_params(pooled.params, path), out.out_dir / "params.json")
    out.write()
    return 0


def cmd_project(args) -> int:

    if args.population_age_sex:
        pas = read_table(args.population_age_sex, "population by age and sex")
        names = None
    elif args.data_dir:

        pas = loaders.load_population_by_age_sex(args.data_dir)
        regions = loaders.load_regions(args.data_dir)
        names = dict(zip(regions["kommune"], regions["kommune_name"]))
    else:
        raise InputError("give the base population with --population-age-sex FILE (year, kommune, sex, age, "
                         "population) or --data-dir FOLDER.")
    assumptions = pj.NationalAssumptions(
        net_immigration_rate=args.immigration_rate,
        fertility=_schedule(args.fertility, ["age", "rate"], "fertility") if args.fertility else pj.illustrative_fertility(),
        mortality=_schedule(args.mortality, ["sex", "age", "rate"], "mortality") if args.mortality else pj.illustrative_mortality(),
        label=pj.ILLUSTRATIVE_LABEL if not (args.fertility or args.mortality) else "user national assumptions")
    result = pipeline.run_projection(
        pas, base_year=args.base_year, horizon=args.horizon, params=args.params,
        centrality=_optional(args.centrality, "centrality"), jobs=_optional(args.jobs, "jobs"),
        attractiveness=_optional(args.attractiveness, "attractiveness"), assumptions=assumptions,
        scenarios=args.scenarios, migration_profile=_optional(args.migration_profile, "migration profile"),
        **_factors(args.factors))
    official = None
    if args.official:
        off = read_table(args.official, "official projection")

        require_columns(off.columns, ["year", "population"], "official projection", "Give year, population.")
        official = off.groupby("year")["population"].sum()
    out = Outputs(args.out_dir, args.format, not args.no_figures, inputs=_input_files(args))
    out.table("projection", result.population_frame(by_age=args.by_age, include_base=True))
    summary = result.summary()
    if names:
        summary.insert(1, "name", summary["kommune"].map(names))
    out.table("projection_summary", summary)
    out.table("projection_components", result.components)
    out.table("national_attractiveness", result.national_attractiveness)
    totals = result.totals()
    national = totals.pivot_table(index="year", columns="scenario", values="population", aggfunc="sum")
    national = national[[s for s in pj.SCENARIOS if s in national.columns]]
    note = result.assumptions_label
    out.plot(charts.fan_chart, national, _figure_path(out, "fan_chart_national"), official=official,
             title=f"Population {result.years[0]}–{result.years[-1]}, all kommuner ({note})")
    for code in args.units or []:
        one = totals[totals["kommune"] == code]
        if one.empty:
            raise InputError(f"--units {code} is not a kommune of the population table.")
        out.plot(charts.fan_chart, one.pivot(index="year", columns="scenario", values="population"),
                 _figure_path(out, f"fan_chart_{code}"), title=f"{(names or {}).get(code, code)}: population by scenario")
    polygons = _polygons(args, "kommune", None)
    if polygons is not None:
        wide = summary.pivot(index="kommune", columns="scenario", values="growth_pct").add_prefix("growth_pct_")
        wide = wide.reset_index()
        gdf = _join_polygons(polygons, wide, "kommune", names)
        out.layer("projection", gdf)
        col = "growth_pct_neutral" if "growth_pct_neutral" in gdf.columns else wide.columns[1]
        _choropleth(out, gdf, col, "projection_map", title=f"Population growth {result.years[0]}–{result.years[-1]}, "
                    f"{col.replace('growth_pct_', '')} scenario", unit_label="% growth", note=note)
    nat = result.national_attractiveness.groupby("scenario")["persons"].mean()
    for scen, persons in nat.items():
        print(f"national sum of attractiveness, {scen}: {persons:+,.0f} persons per year (zero-sum would be 0)")
    out.write()
    return 0


def _factors(path) -> dict:
    """Kommune deviations from the national schedules: kommune[, fertility_factor][, mortality_factor]."""
    if path is None:
        return {}
    df = read_table(path, "kommune factors")
    cols = [c for c in ("fertility_factor", "mortality_factor") if c in df.columns]
    if "kommune" not in df.columns or not cols:
        raise InputError(f"kommune factors table needs kommune and fertility_factor and/or mortality_factor; "
                         f"it has {', '.join(map(str, df.columns))}.")
    return {c: df.set_index("kommune")[c] for c in cols}


def _schedule(path, columns: list[str], what: str) -> np.ndarray:
    """National schedule file -> array: fertility (age, rate) -> (106,), mortality (sex, age, rate) -> (2, 106)."""
    df = read_table(path, what)
    require_columns(df.columns, columns, f"{what} table", f"Give {', '.join(columns)} (rate per person per year).")
    age = pd.to_numeric(df["age"], errors="coerce")
    if age.isna().any() or (age < 0).any() or (age > pj.MAX_AGE).any():
        raise InputError(f"{what} table has ages outside 0..105; give single years 0..105.")
    if "sex" in columns:
        arr = np.zeros((2, pj.N_AGES))
        s = pd.Index(pj.SEXES).get_indexer(df["sex"].astype(str))
        if (s < 0).any():
            raise InputError(f"{what} table has sex values other than 'female'/'male'.")
        arr[s, age.astype(int)] = df["rate"].astype(float)
        return arr
    arr = np.zeros(pj.N_AGES)
    arr[age.astype(int)] = df["rate"].astype(float)
    return arr


# ------------------------------------------------------------------------------------------------
# argparse
# ------------------------------------------------------------------------------------------------
def _add_inputs(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("input tables (CSV or Parquet; layouts in docs/usage-model.md)")
    g.add_argument("--jobs", help="year, kommune, jobs (jobs by place of work)")
    g.add_argument("--commuting", help="year, home_kommune, work_kommune, employed")
    g.add_argument("--population", help="year, kommune, population (1 January)")
    g.add_argument("--net-migration", help="year, kommune, net_migration (persons); default: estimated from population by age")
    g.add_argument("--population-age-sex", help="year, kommune, sex, age, population (needed by the DS term)")
    g.add_argument("--population-age", help="year, kommune, age, population (to estimate net migration)")
    g.add_argument("--centrality", help="kommune, index (0–1000), e.g. from `regio centrality`")
    g.add_argument("--regions", help="kommune, region[, name]")
    g.add_argument("--births", help="year, kommune, births (adds natural change to the decomposition)")
    g.add_argument("--deaths", help="year, kommune, deaths (with --births)")
    g.add_argument("--data-dir", help="folder with the SSB files (ssb/*.csv, kommuner_2020.geojson), read with geoproc.data.loaders")
    g.add_argument("--on-split", choices=("main", "raise"), default="main",
                   help="--data-dir years before 2020: give kommuner split in the 2020 reform wholly to their main "
                        "successor (main, approximate; default) or stop (raise)")
    g.add_argument("--ssb", action="store_true", help="download the tables from SSB (online)")
    p.add_argument("--years", nargs="+", help="model years, e.g. 2015-2021 or 2019 2020")
    p.add_argument("--unit", choices=("kommune", "region"), default="kommune")
    p.add_argument("--immigration-rate", type=float, default=0.002,
                   help="national net immigration, fraction of population per year (ILLUSTRATIVE default 0.002)")


def _add_outputs(p: argparse.ArgumentParser, maps: bool = True) -> None:
    p.add_argument("--out-dir", "-o", required=True, help="folder for the output tables and figures")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv", help="table format (default csv)")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG/SVG figures")
    if maps:
        p.add_argument("--kommuner", help="kommune polygons (any vector format) for the GeoPackage and map")
        p.add_argument("--kommune-field", default="kommune", help="kommune code field of --kommuner (default kommune)")


def register(subparsers) -> None:
    model = subparsers.add_parser("model", help="the attractiveness model: estimate, attractiveness, decompose, project",
                                  description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = model.add_subparsers(dest="model_command", metavar="SUBCOMMAND")
    model.set_defaults(func=lambda args: (model.print_help(), 1)[1])

    p = sub.add_parser("estimate", help="re-estimate the coefficients by OLS and print the coefficient table")
    _add_inputs(p)
    p.set_defaults(unit="region")
    p.add_argument("--terms", nargs="+", default=["vra_t", "vra_t1", "vra_t2", "sentny", "ds"],
                   help="regressors (vra_t vra_t1 vra_t2 sentny ssb_index ds)")
    p.add_argument("--by-year", action="store_true", help="one regression per year as well")
    _add_outputs(p, maps=False)
    p.set_defaults(func=cmd_estimate)

    for name, func, text in (("attractiveness", cmd_attractiveness, "expected and actual net migration, attractiveness, ranks, map"),
                             ("decompose", cmd_decompose, "net migration by component (persons per year)")):
        p = sub.add_parser(name, help=text)
        _add_inputs(p)
        p.add_argument("--params", default="model4", help="model1..model4 or a params .json/.csv file (default model4)")
        if name == "decompose":
            p.add_argument("--units", nargs="+", help="units to chart (default: the 5 most attractive)")
        _add_outputs(p)
        p.set_defaults(func=func)

    p = sub.add_parser("project", help="cohort-component projection with attractiveness scenarios")
    p.add_argument("--population-age-sex", help="base population: year, kommune, sex, age, population")
    p.add_argument("--data-dir", help="folder with the SSB files (uses population_by_age_sex)")
    p.add_argument("--base-year", type=int, help="year of the base population (default: the latest in the table)")
    p.add_argument("--horizon", type=int, default=2040, help="last year (1 January), default 2040")
    p.add_argument("--attractiveness", help="year, kommune, attractiveness (fraction/yr), e.g. attractiveness.csv "
                   "from `regio model attractiveness`; needed for historical/high/low")
    p.add_argument("--centrality", help="kommune, index (0–1000) for the expected net migration")
    p.add_argument("--jobs", help="year, kommune, jobs (base-year jobs for the DS term)")
    p.add_argument("--params", default="model4", help="model1..model4 or a params file")
    p.add_argument("--immigration-rate", type=float, default=0.002, help="national net immigration, fraction per year (ILLUSTRATIVE 0.002)")
    p.add_argument("--fertility", help="national fertility: age, rate (births per woman per year); default ILLUSTRATIVE")
    p.add_argument("--mortality", help="national mortality: sex, age, rate (death probability); default ILLUSTRATIVE")
    p.add_argument("--factors", help="kommune, fertility_factor, mortality_factor: the kommune's deviation from "
                   "the national schedules (multipliers, e.g. last-10-year observed/expected)")
    p.add_argument("--migration-profile", help="kommune, sex, age, weight: the kommune's historical migration age "
                   "profile (default: Rogers–Castro standard schedule)")
    p.add_argument("--scenarios", nargs="+", default=list(("neutral", "historical", "high", "low")),
                   choices=("neutral", "historical", "high", "low"))
    p.add_argument("--by-age", action="store_true", help="write the projection by sex and age (large)")
    p.add_argument("--units", nargs="+", help="kommuner to draw a fan chart for")
    p.add_argument("--official", help="official projection (year, population[, kommune]) drawn in the national fan chart")
    _add_outputs(p)
    p.set_defaults(func=cmd_project)
