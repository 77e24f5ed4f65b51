"""`regio model ...`: the attractiveness model from the command line (a thin shell).

Subcommands: ``estimate`` (OLS re-estimation, prints the coefficient table), ``attractiveness``
(expected/actual net migration, residual attractiveness, ranks, map), ``decompose`` (components
of net migration, persons per year), ``project`` (cohort-component projection with the four
attractiveness scenarios) and ``business`` (shift-share and business attractiveness from a
jobs-by-branch table). Inputs are tidy CSV/Parquet tables (docs/usage-model.md), or
``--data-dir`` with the SSB files of ../shared/data, or ``--ssb`` (online).

Each command parses its arguments into a request, makes ONE call to
:mod:`geoproc.model.commands` (inputs assembled and every data policy reported by
:mod:`geoproc.data.assembly`; outputs committed together through
:class:`centrality.fileio.OutputSet`, so bad input (exit status 2) leaves no output behind) and
prints what was written and what the results rest on.
"""
from __future__ import annotations

import argparse
from typing import Sequence

from centrality.errors import InputError
from geoproc.data.assembly import TableFiles
from geoproc.model import commands


# ------------------------------------------------------------------------------------------------
# arguments -> requests
# ------------------------------------------------------------------------------------------------
def parse_years(tokens: Sequence[str] | None) -> list[int]:
    """Years from command-line tokens.

    Parameters
    ----------
    tokens : sequence of str, optional
        E.g. ``["2019", "2020"]``, ``["2015-2021"]`` or ``["2015..2021"]``.

    Returns
    -------
    list of int
        Sorted years.
    """
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


def model_request(args) -> commands.ModelRequest:
    """The ModelRequest of ``regio model attractiveness|decompose|estimate``.

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    geoproc.model.commands.ModelRequest
    """
    files = TableFiles(jobs=args.jobs, commuting=args.commuting, population=args.population,
                       net_migration=args.net_migration, population_by_age_sex=args.population_age_sex,
                       population_by_age=args.population_age, centrality=args.centrality, regions=args.regions,
                       births=args.births, deaths=args.deaths)
    return commands.ModelRequest(years=tuple(parse_years(args.years)), files=files, data_dir=args.data_dir,
                                 ssb=args.ssb, on_split=args.on_split, unit=args.unit,
                                 params=getattr(args, "params", "model4"), immigration_rate=args.immigration_rate)


def output_options(args) -> commands.OutputOptions:
    """Where and how a model command writes.

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    geoproc.model.commands.OutputOptions
    """
    return commands.OutputOptions(out_dir=args.out_dir, fmt=args.format, figures=not args.no_figures,
                                  kommuner=getattr(args, "kommuner", None),
                                  kommune_field=getattr(args, "kommune_field", "kommune"))


def report(done: commands.CommandResult) -> int:
    """Print the messages, what the results rest on (``note: ...``) and the files written.

    Parameters
    ----------
    done : geoproc.model.commands.CommandResult

    Returns
    -------
    int
        Exit status 0.
    """
    for line in done.messages:
        print(line)
    for note in done.notes:
        print(f"note: {note}")
    for path in done.written:
        print(path)
    return 0


# ------------------------------------------------------------------------------------------------
# subcommands
# ------------------------------------------------------------------------------------------------
def cmd_attractiveness(args) -> int:
    """``regio model attractiveness``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        Exit status 0 (bad input raises InputError, which ``regio`` turns into status 2).
    """
    return report(commands.attractiveness(model_request(args), output_options(args)))


def cmd_decompose(args) -> int:
    """``regio model decompose``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        Exit status 0 (bad input raises InputError, which ``regio`` turns into status 2).
    """
    return report(commands.decompose(model_request(args), output_options(args), units=args.units))


def cmd_estimate(args) -> int:
    """``regio model estimate``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        Exit status 0 (bad input raises InputError, which ``regio`` turns into status 2).
    """
    return report(commands.estimate(model_request(args), output_options(args), terms=args.terms,
                                    by_year=args.by_year))


def cmd_project(args) -> int:
    """``regio model project``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        Exit status 0 (bad input raises InputError, which ``regio`` turns into status 2).
    """
    request = commands.ProjectionRequest(
        population_by_age_sex=args.population_age_sex, data_dir=args.data_dir, base_year=args.base_year,
        horizon=args.horizon, params=args.params, immigration_rate=args.immigration_rate, fertility=args.fertility,
        mortality=args.mortality, factors=args.factors, migration_profile=args.migration_profile,
        centrality=args.centrality, jobs=args.jobs, attractiveness=args.attractiveness, official=args.official,
        scenarios=tuple(args.scenarios), by_age=args.by_age, units=tuple(args.units or ()))
    return report(commands.project(request, output_options(args)))


def cmd_business(args) -> int:
    """``regio model business``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        Exit status 0 (bad input raises InputError, which ``regio`` turns into status 2).
    """
    if args.template:
        print(commands.write_branch_template(args.template))
        return 0
    if not args.jobs_by_branch or not args.out_dir:
        raise InputError("give --jobs-by-branch FILE and --out-dir FOLDER (or --template FILE for the branch list).")
    request = commands.BusinessRequest(jobs_by_branch=args.jobs_by_branch, population=args.population,
                                       data_dir=args.data_dir, population_elasticity=args.elasticity,
                                       years=tuple(parse_years(args.years)))
    return report(commands.business(request, output_options(args)))


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
    g.add_argument("--data-dir", help="data folder (ssb/, national/, kommuner_2020.geojson; e.g. ../shared/data): every "
                   "table from its files on one kommune structure, real national schedules, estimated net migration")
    g.add_argument("--on-split", choices=("weights", "raise"), default="weights",
                   help="--data-dir years before 2020: divide kommuner split in the 2020 reform (Snillfjord, Tysfjord) "
                        "by the code table's weights (weights, approximate and reported; default) or stop (raise)")
    g.add_argument("--ssb", action="store_true", help="download the tables from SSB (online)")
    p.add_argument("--years", nargs="+", help="model years, e.g. 2015-2021 or 2019 2020 (with --data-dir default: "
                   "every year the data allow, 2020–2022 with ../shared/data)")
    p.add_argument("--unit", choices=("kommune", "region"), default="kommune")
    p.add_argument("--immigration-rate", type=float, default=None,
                   help="national net immigration, fraction of population per year, the decomposition's baseline "
                        "(default: Norway's rate of each year from the data; without national data the "
                        f"ILLUSTRATIVE {commands.DEFAULT_IMMIGRATION_RATE:g})")


def _add_outputs(p: argparse.ArgumentParser, maps: bool = True) -> None:
    p.add_argument("--out-dir", "-o", required=True, help="folder for the output tables and figures")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv", help="table format (default csv)")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG/SVG figures")
    if maps:
        p.add_argument("--kommuner", help="kommune polygons (any vector format) for the GeoPackage and map")
        p.add_argument("--kommune-field", default="kommune", help="kommune code field of --kommuner (default kommune)")


def register(subparsers) -> None:
    """Add ``model estimate|attractiveness|decompose|project`` to the ``regio`` subcommands.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The ``regio`` subcommand registry.
    """
    model = subparsers.add_parser("model", help="the attractiveness model: estimate, attractiveness, decompose, project, "
                                  "business",
                                  description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = model.add_subparsers(dest="model_command", metavar="SUBCOMMAND")
    model.set_defaults(func=lambda args: (model.print_help(), 1)[1])

    p = sub.add_parser("estimate", help="re-estimate the coefficients by OLS and print the coefficient table")
    _add_inputs(p)
    p.set_defaults(unit="region")
    p.add_argument("--terms", nargs="+", default=list(commands.est.DEFAULT_TERMS),
                   help="regressors (vra_t vra_t1 vra_t2 sentny ssb_index ds)")
    p.add_argument("--by-year", action="store_true", help="one regression per year as well")
    _add_outputs(p, maps=False)
    p.set_defaults(func=cmd_estimate)

    for name, func, text in (("attractiveness", cmd_attractiveness, "expected and actual net migration, attractiveness, ranks, map"),
                             ("decompose", cmd_decompose, "net migration by component (persons per year)")):
        p = sub.add_parser(name, help=text)
        _add_inputs(p)
        p.add_argument("--params", default="model4", help="model1..model4, a params .json/.csv file, or 'estimate' "
                       "(OLS on the same unit-years first; then the attractiveness averages 0); default model4")
        if name == "decompose":
            p.add_argument("--units", nargs="+", help="units to chart (default: the 5 most attractive)")
        _add_outputs(p)
        p.set_defaults(func=func)

    p = sub.add_parser("project", help="cohort-component projection with attractiveness scenarios")
    p.add_argument("--population-age-sex", help="base population: year, kommune, sex, age, population")
    p.add_argument("--data-dir", help="data folder (e.g. ../shared/data): base population, national schedules, "
                   "kommune levels, migration patterns, jobs, commuting and (without --centrality) a PROXY centrality, "
                   "all from its files (docs/usage-model.md)")
    p.add_argument("--base-year", type=int, help="year of the base population (default: 2022 with --data-dir, else "
                   "the latest in the table)")
    p.add_argument("--horizon", type=int, default=2040, help="last year (1 January), default 2040")
    p.add_argument("--attractiveness", help="year, kommune, attractiveness (fraction/yr), e.g. attractiveness.csv "
                   "from `regio model attractiveness`; needed for historical/high/low")
    p.add_argument("--centrality", help="kommune, index (0–1000) for the expected net migration")
    p.add_argument("--jobs", help="year, kommune, jobs (base-year jobs for the DS term)")
    p.add_argument("--params", default="model4", help="model1..model4 or a params file")
    p.add_argument("--immigration-rate", type=float, default=None,
                   help=f"national net immigration, fraction per year (default {commands.DEFAULT_IMMIGRATION_RATE:g}: "
                        "MODEL.md §4, SSB's main alternative; ILLUSTRATIVE without --data-dir)")
    p.add_argument("--fertility", help="national fertility: age, rate (births per woman per year); default: national/ "
                   "with --data-dir, else ILLUSTRATIVE")
    p.add_argument("--mortality", help="national mortality: sex, age, rate (death probability); default: national/ "
                   "with --data-dir, else ILLUSTRATIVE")
    p.add_argument("--factors", help="kommune, fertility_factor, mortality_factor: the kommune's deviation from "
                   "the national schedules (multipliers, e.g. last-10-year observed/expected)")
    p.add_argument("--migration-profile", help="kommune, sex, age, weight: the kommune's historical migration age "
                   "profile (default: Rogers–Castro standard schedule)")
    p.add_argument("--scenarios", nargs="+", default=list(commands.pj.SCENARIOS), choices=commands.pj.SCENARIOS)
    p.add_argument("--by-age", action="store_true", help="write the projection by sex and age (large)")
    p.add_argument("--units", nargs="+", help="kommuner to draw a fan chart for")
    p.add_argument("--official", help="official projection (year, population[, kommune]) drawn in the national fan chart")
    _add_outputs(p)
    p.set_defaults(func=cmd_project)

    p = sub.add_parser("business", help="shift-share of private job growth and business attractiveness (MODEL.md §3)")
    p.add_argument("--jobs-by-branch", help="year, kommune, branch, jobs (25 private branches + municipal/county/state; "
                   "the list: --template FILE)")
    p.add_argument("--population", help="year, kommune, population (1 January, from 3 years before the first year); "
                   "default the data folder's")
    p.add_argument("--data-dir", help="data folder: population, kommune names and polygons")
    p.add_argument("--elasticity", type=float, help="population elasticity k of population-sensitive branches "
                   "(default: estimated by OLS)")
    p.add_argument("--years", nargs="+", help="years (default: all the branch table allows)")
    p.add_argument("--template", help="write the branch list (branch, sector, group, population_sensitive) to FILE "
                   "and stop")
    p.add_argument("--out-dir", "-o", help="folder for the output tables and figures")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv", help="table format (default csv)")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG/SVG figures")
    p.add_argument("--kommuner", help="kommune polygons (any vector format) for the GeoPackage and map")
    p.add_argument("--kommune-field", default="kommune", help="kommune code field of --kommuner (default kommune)")
    p.set_defaults(func=cmd_business)
