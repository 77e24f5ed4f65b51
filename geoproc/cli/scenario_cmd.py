"""`regio scenario run`, `regio scenario portfolio` and `regio scenario demo`: road scenarios from the shell.

``regio scenario run scenarios.toml --network roads.gpkg --speed-field speed --zones zones.gpkg
--group-field kommune --out DIR`` validates every variant of the TOML file against the network
(unknown link ids, empty selections, bad values, geometries in the wrong CRS, overlapping edits)
BEFORE computing anything, then computes the baseline once and every variant incrementally, and
writes tables, maps, GeoPackages and report.html into DIR. ``--network``/``--zones`` may instead be
given in the file's ``[inputs]`` table (paths relative to the file); command-line options win.
The network and zone options are those of ``regio centrality`` (shared argument helpers from
:mod:`geoproc.cli.centrality_cmd`).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from centrality.errors import InputError
from geoproc.cli.centrality_cmd import (DEFAULTS, _positive_int, _zones_spec, add_network_arguments,
                                        add_zone_arguments, network_spec_from_args, progress_bar, zone_settings)
from geoproc.scenario import ImpactOptions, load_scenarios, run_demo, scenario_settings
from geoproc.scenario.job import scenario_job
from geoproc.scenario.portfolio import load_portfolio, portfolio_job


def register(subparsers) -> None:
    """Add ``scenario run`` and ``scenario demo`` to the ``regio`` subcommands.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The ``regio`` subcommand registry.
    """
    p = subparsers.add_parser("scenario", help="road scenarios: Δ centrality, Δ migration, Δ population")
    sub = p.add_subparsers(dest="scenario_command", metavar="ACTION")
    run = sub.add_parser("run", help="run the variants of a scenario TOML file")
    run.add_argument("scenario_file", metavar="SCENARIOS.toml", help="scenario definition (see geoproc.scenario.definition)")
    run.add_argument("--out", required=True, metavar="DIR", help="output folder (tables, maps, report.html)")
    add_network_arguments(run, required=False)
    add_zone_arguments(run, required=False)
    run.add_argument("--group-field", metavar="FIELD", help="kommune/group field of the zones for the summary table")
    run.add_argument("--cutoff", type=float, metavar="MIN",
                     help=f"travel-time cutoff (default {DEFAULTS.cutoff_min:g} or the file's [centrality] cutoff_min)")
    run.add_argument("--workers", type=_positive_int, metavar="N", help="threads for the travel-time search")
    run.add_argument("--start-year", type=int, metavar="YEAR", help="horizon start (default 2025)")
    run.add_argument("--end-year", type=int, metavar="YEAR", help="horizon end (default 2040)")
    run.add_argument("--opening-year", type=int, metavar="YEAR", help="effects start the year after (all variants)")
    run.add_argument("--compounding", action="store_true", default=None, help="extra migrants join the population base")
    run.add_argument("--model", metavar="NAME|FILE", help="coefficients: model3, model4 (default) or a saved estimate")
    run.add_argument("--method", choices=("exact", "corridor", "ch", "auto"), default="exact",
                     help="incremental recomputation: exact (default; bit-for-bit equal to a full run), corridor "
                          "(speed-ups and new links; ~7x faster on large networks, equal to ~1e-11 s; "
                          "closures and slow-downs still use exact), ch (every edit on the re-customised "
                          "contraction hierarchy; times within 1e-6 s) or auto (ch from 1000 zones)")
    run.add_argument("--population-age-sex", metavar="FILE",
                     help="CSV year, kommune, sex, age, population: also run the full cohort-component projection "
                          "with and without the project (needs --group-field = kommune codes)")
    run.add_argument("--data-dir", metavar="FOLDER",
                     help="data folder (e.g. ../shared/data): the population path is its real-data projection "
                          "(regio model project) without the project, also run with it (needs --group-field = "
                          "2020 kommune codes)")
    run.add_argument("--no-maps", action="store_true", help="skip the PNG maps")
    run.set_defaults(func=cmd_run)
    port = sub.add_parser("portfolio", help="many road projects: each alone and all together, ranked")
    port.add_argument("portfolio_file", metavar="PORTFOLIO.toml",
                      help="projects with edits and optional cost (see geoproc.scenario.portfolio)")
    port.add_argument("--out", required=True, metavar="DIR", help="output folder (ranking, tables, report.html)")
    add_network_arguments(port, required=False)
    add_zone_arguments(port, required=False)
    port.add_argument("--group-field", metavar="FIELD", help="kommune/group field of the zones")
    port.add_argument("--cutoff", type=float, metavar="MIN", help="travel-time cutoff (default 90 or [centrality])")
    port.add_argument("--workers", type=_positive_int, metavar="N", help="threads (projects run in parallel)")
    port.add_argument("--method", choices=("exact", "corridor"), default="exact", help="incremental recomputation")
    port.add_argument("--dask-scheduler", metavar="ADDRESS",
                      help="run the projects on a Dask distributed cluster (e.g. tcp://10.0.0.5:8786; "
                           "default: the file's [dask] scheduler, else this machine)")
    port.add_argument("--data-dir", metavar="FOLDER",
                      help="data folder: the population path is its real-data projection (see scenario run)")
    port.add_argument("--no-maps", action="store_true", help="skip the PNG maps")
    port.set_defaults(func=cmd_portfolio)
    demo = sub.add_parser("demo", help="E6 upgrade scenario on the synthetic demo region")
    demo.add_argument("--out", required=True, metavar="DIR")
    demo.set_defaults(func=cmd_demo)
    p.set_defaults(func=lambda a: (p.print_help(), 1)[1])


def _input_path(args, scen, key: str, option: str) -> str:
    value = getattr(args, key, None) or scen.inputs.get(key)
    if not value:
        raise InputError(f"no {key} given: pass {option} PATH or set {key} = \"...\" in the file's [inputs] table.")
    path = Path(value)
    return str(path if path.is_absolute() or getattr(args, key, None) else scen.base_dir / path)


def _population_path(args, scen) -> str | None:
    """--population-age-sex, else [impact] population_by_age_sex (made relative to the scenario
    file by :func:`geoproc.scenario.load_scenarios`)."""
    return getattr(args, "population_age_sex", None) or scen.impact.get("population_by_age_sex") or None


def _inputs_and_settings(args: argparse.Namespace, scen):
    """Network and zone paths/layers from the command line or the file's [inputs] (set on
    ``args``), and the centrality settings of the file with the command line's overrides."""
    args.network = _input_path(args, scen, "network", "--network")
    args.zones = _input_path(args, scen, "zones", "--zones")
    if args.network_layer is None:
        args.network_layer = scen.inputs.get("network_layer")
    if args.zones_layer is None:
        args.zones_layer = scen.inputs.get("zones_layer")
    return scenario_settings(scen, cutoff_min=args.cutoff, workers=args.workers, **zone_settings(args))


def cmd_run(args: argparse.Namespace) -> int:
    """``regio scenario run``: validate, compute and report the variants of a scenario file.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        Exit status 0 (bad input raises InputError, which ``regio`` turns into status 2).
    """
    scen = load_scenarios(args.scenario_file)
    settings = _inputs_and_settings(args, scen)
    impact = ImpactOptions.from_dict(scen.impact, start_year=args.start_year, end_year=args.end_year,
                                     opening_year=args.opening_year, compounding=args.compounding, model=args.model,
                                     population_by_age_sex=_population_path(args, scen), data_dir=args.data_dir,
                                     projection=True if getattr(args, "population_age_sex", None) else None)
    done = scenario_job(scen, network_spec_from_args(args), _zones_spec(args), args.out, settings=settings,
                        impact=impact, group_col=args.group_field, method=args.method, maps=not args.no_maps,
                        scenario_file=args.scenario_file, progress=progress_bar("travel times"))
    print_run(done.run)
    print(f"wrote {len(done.written)} files to {args.out} (open report.html)")
    return 0


def cmd_portfolio(args: argparse.Namespace) -> int:
    """``regio scenario portfolio``: every project alone and all together, ranked.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        Exit status 0 (bad input raises InputError, which ``regio`` turns into status 2).
    """
    port = load_portfolio(args.portfolio_file)
    scen = port.scenarios
    settings = _inputs_and_settings(args, scen)
    done = portfolio_job(port, network_spec_from_args(args), _zones_spec(args), args.out, settings=settings,
                         group_col=args.group_field, method=args.method, maps=not args.no_maps,
                         portfolio_file=args.portfolio_file, dask_scheduler=args.dask_scheduler,
                         data_dir=args.data_dir, progress=progress_bar("travel times"))
    run = done.run
    print(f"portfolio {scen.name}: {len(port.projects)} projects + all together ({run.technical['executor']})")
    for r in run.portfolio.ranking.itertuples(index=False):
        print(f"  {r.rank_gross}. {r.project}: Δ population {r.population_gross:+.0f} gross, "
              f"{r.population_net:+.0f} net (winners' gain)")
    print(f"wrote {len(done.written)} files to {args.out} (open report.html)")
    return 0


def print_run(run) -> None:
    """Print the notes and, per variant, links edited, origins recomputed, Δ migrants, the projection Δ
    and the travel times between places.

    Parameters
    ----------
    run : geoproc.scenario.ScenarioRun
    """
    for note in run.notes:
        print(f"note: {note}")
    for v in run.variants:
        s, t = v.summary, v.technical
        print(f"{v.name}: {t['edited_links']} links edited, {t['added_links']} added; "
              f"{t['origins_recomputed']} of {t['zones']} origins recomputed; "
              f"Δ migrants/yr (all zones) gross {s['delta_migrants_per_year_total']:+.1f}, "
              f"national net {s['national_net_per_year']:+.1f}")
        if getattr(v.projection, "table", None) is not None:
            end = v.impact.end_year
            print(f"  projection: Δ population by the end of {end} (all kommuner) "
                  f"{float(v.projection.delta_by_end_of(end).sum()):+.1f}")
        if len(v.travel_times):
            for r in v.travel_times.itertuples():
                print(f"  {r[1]} → {r[2]}: {r.baseline_min:.1f} → {r.scenario_min:.1f} min")


def cmd_demo(args: argparse.Namespace) -> int:
    """``regio scenario demo``: the demo scenarios on the SYNTHETIC region.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        Exit status 0 (bad input raises InputError, which ``regio`` turns into status 2).
    """
    written = run_demo(args.out)
    print(f"wrote {len(written)} files to {args.out} (open report.html)")
    return 0
