"""`regio centrality`, `regio network build` and `regio od`: the travel-time engine from the shell.

- ``regio centrality --network roads.gpkg --zones zones.gpkg --out result.gpkg`` (one run) or
  ``regio centrality --config batch.toml`` (several runs, see :mod:`centrality.config`);
- ``regio network build --network roads.gpkg --out network.gpkg`` writes the built links and
  nodes and prints what the builder kept and dropped;
- ``regio od --network ... --zones ... --out od.parquet`` writes the zone-to-zone travel times.

Inputs are read and checked (fields, files, option values, outputs) before the long computation
starts; all outputs of a run are committed together (:class:`centrality.fileio.OutputSet`), so an
error leaves no output file behind. A single ``regio centrality`` run is a batch of one run
(:func:`centrality.config.run_batch`): one code path. Defaults come from
:class:`centrality.settings.CentralitySettings`.
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Callable

from centrality.config import (BatchConfig, NetworkSpec, RunSpec, ZonesSpec, build_network, guess_format,
                               load_config, network_line, run_batch)
from centrality.errors import InputError, thousands
from centrality.fileio import OutputSet, require_parquet
from centrality.interrupts import pause_point
from centrality.jobs import network_job, od_job
from centrality.pipeline import print_summary
from centrality.settings import CentralitySettings
from geoproc.plots.maps import choropleth, save_figure

DEFAULTS = CentralitySettings(workers=1)   # documented defaults for the help texts (workers: see --workers)

# CLI option (dest) -> builder keyword, per network format
LINES_OPTIONS = {
    "network_layer": "layer", "time_fw_field": "time_fw_field", "time_bw_field": "time_bw_field",
    "time_unit": "time_unit", "speed_field": "speed_field", "maxspeed_field": "maxspeed_field",
    "class_field": "class_field", "class_speeds": "class_speeds", "direction_field": "direction_field",
    "direction_values": "direction_values", "snap_tolerance": "snap_tolerance_m",
    "split_at_vertices": "split_at_vertices", "link_id_field": "id_field",
}
OSM_OPTIONS = {"speeds": "speeds", "ferry_speed": "ferry_speed_kmh", "ferry_wait": "ferry_wait_min"}
COMMON_OPTIONS = {"network_crs": "crs", "allow_implausible_speeds": "allow_implausible_speeds"}


# ------------------------------------------------------------------------------- argument groups
def add_network_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """Add the road-network options (``--network`` and how to read it).

    Parameters
    ----------
    parser : argparse.ArgumentParser
    required : bool, default True
        Whether ``--network`` is required.
    """
    g = parser.add_argument_group("road network")
    g.add_argument("--network", metavar="PATH", required=required,
                   help="road lines (GPKG, SHP, GeoJSON, FlatGeobuf, GeoParquet) or OpenStreetMap .osm.pbf")
    g.add_argument("--network-format", choices=("lines", "osm"), help="default: osm for .pbf/.osm, else lines")
    g.add_argument("--network-layer", metavar="NAME", help="layer in a multi-layer file (lines)")
    g.add_argument("--network-crs", metavar="CRS", help="metric CRS to compute in (default EPSG:25833 in Norway)")
    g.add_argument("--time-fw-field", metavar="FIELD", help="travel time along the line direction (lines)")
    g.add_argument("--time-bw-field", metavar="FIELD", help="travel time against the line direction (lines)")
    g.add_argument("--time-unit", choices=("s", "min"), help="unit of the time fields (default s)")
    g.add_argument("--speed-field", metavar="FIELD", help="speed in km/h (lines)")
    g.add_argument("--maxspeed-field", metavar="FIELD", help="OSM-style maxspeed text or number (lines)")
    g.add_argument("--class-field", metavar="FIELD", help="road class (OSM highway values) for default speeds")
    g.add_argument("--class-speeds", metavar="FILE", help="TOML/CSV table of class speeds in km/h")
    g.add_argument("--direction-field", metavar="FIELD", help="one-way field (yes/no/-1, FT/TF/B/N, ...)")
    g.add_argument("--direction-values", metavar="JSON",
                   help='map own values, e.g. \'{"forward": ["H"], "backward": ["M"], "both": ["B"]}\'')
    g.add_argument("--snap-tolerance", type=float, metavar="M", help="merge line ends closer than M metres (default 1)")
    g.add_argument("--split-at-vertices", action="store_true", default=None,
                   help="also connect lines at shared interior vertices")
    g.add_argument("--link-id-field", metavar="FIELD", help="unique integer link id field (lines)")
    g.add_argument("--speeds", metavar="FILE", help="class speed table for OSM (TOML/CSV, km/h)")
    g.add_argument("--ferry-speed", type=float, metavar="KMH", help="ferry speed for OSM ferries without duration")
    g.add_argument("--ferry-wait", type=float, metavar="MIN", help="mean ferry wait added per crossing (OSM)")
    g.add_argument("--allow-implausible-speeds", action="store_true", default=None,
                   help="accept speeds outside 1-150 km/h (ferries 1-80; see centrality.plausibility)")


def add_zone_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """Add the zone options (``--zones``, fields, raster, access speed, snap distance, excluded share).

    Parameters
    ----------
    parser : argparse.ArgumentParser
    required : bool, default True
        Whether ``--zones`` is required.
    """
    g = parser.add_argument_group("zones")
    g.add_argument("--zones", metavar="PATH", required=required, help="zone points or polygons with population and jobs")
    g.add_argument("--zones-layer", metavar="NAME", help="layer in a multi-layer file")
    g.add_argument("--id-field", default="zone_id", metavar="FIELD", help="unique zone id (default zone_id)")
    g.add_argument("--pop-field", default="population", metavar="FIELD", help="residents (default population)")
    g.add_argument("--jobs-field", default="jobs", metavar="FIELD", help="jobs by place of work (default jobs)")
    g.add_argument("--raster", metavar="TIF", help="population raster: polygon zones get population-weighted centroids")
    g.add_argument("--access-speed", type=float, metavar="KMH",
                   help=f"speed from the zone point to the nearest road node (default {DEFAULTS.access_speed_kmh:g} km/h)")
    g.add_argument("--max-snap", type=float, metavar="M",
                   help=f"zones farther from any road are excluded and reported (default {DEFAULTS.max_snap_m:g} m)")
    g.add_argument("--max-excluded-share", type=float, metavar="FRACTION",
                   help="largest share of the population or of the jobs the excluded zones may hold before the run "
                        f"stops with an error (default {DEFAULTS.max_excluded_share:g} = "
                        f"{100 * DEFAULTS.max_excluded_share:g} %%; 1 accepts any)")


def zone_settings(args: argparse.Namespace) -> dict:
    """The CentralitySettings fields given by the zone options.

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    dict
        access_speed_kmh (km/h), max_snap_m (metres), max_excluded_share (fraction); None = not given.
    """
    return dict(access_speed_kmh=args.access_speed, max_snap_m=args.max_snap,
                max_excluded_share=args.max_excluded_share)


def _float_list(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(x) for x in text.replace(";", ",").split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of minutes, e.g. 30,45,60,90") from None
    if not values or min(values) <= 0:
        raise argparse.ArgumentTypeError(f"'{text}': limits must be positive minutes, e.g. 30,45,60,90")
    return values


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _intra_zone(text: str):
    if text == "access":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("use 'access' or a number of minutes") from None


# ------------------------------------------------------------------------------- network building
def network_options(args: argparse.Namespace, path: Path) -> tuple[str, dict]:
    """Network format and builder keywords from the parsed arguments.

    Parameters
    ----------
    args : argparse.Namespace
    path : pathlib.Path
        The network file.

    Returns
    -------
    tuple
        (format, builder keyword arguments).

    Raises
    ------
    InputError
        For options of the other format, bad JSON in --direction-values, or no way to compute times.
    """
    fmt = args.network_format or guess_format(path)
    own = {**(LINES_OPTIONS if fmt == "lines" else OSM_OPTIONS), **COMMON_OPTIONS}
    other = OSM_OPTIONS if fmt == "lines" else LINES_OPTIONS
    for dest in other:
        if getattr(args, dest, None) is not None:
            raise InputError(f"--{dest.replace('_', '-')} is an option for {'osm' if fmt == 'lines' else 'lines'} "
                             f"networks, but '{path.name}' is read as a {fmt} network. Remove it, or set "
                             "--network-format.")
    kwargs = {kw: getattr(args, dest) for dest, kw in own.items() if getattr(args, dest, None) is not None}
    if "direction_values" in kwargs:
        try:
            kwargs["direction_values"] = json.loads(kwargs["direction_values"])
        except json.JSONDecodeError as exc:
            raise InputError(f"--direction-values is not valid JSON ({exc.msg}). Write it like "
                             '\'{"forward": ["H"], "backward": ["M"], "both": ["B"]}\'.') from None
    if fmt == "lines" and not any(k in kwargs for k in ("time_fw_field", "speed_field", "maxspeed_field", "class_field")):
        raise InputError("no way to compute travel times for the line network: give --time-fw-field, --speed-field, "
                         "--maxspeed-field or --class-field (road class with default speeds).")
    return fmt, kwargs


def network_spec_from_args(args: argparse.Namespace) -> NetworkSpec:
    """The NetworkSpec described by the network options (``--network`` etc.).

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    centrality.config.NetworkSpec
    """
    path = Path(args.network)
    if not path.exists():
        raise InputError(f"network file '{path}' does not exist. Check the path.")
    fmt, kwargs = network_options(args, path)
    return NetworkSpec.from_kwargs(fmt, path, kwargs)


def build_network_from_args(args: argparse.Namespace):
    """The RoadNetwork described by the network options.

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    centrality.network.RoadNetwork
    """
    return build_network(network_spec_from_args(args))


def _check_output(path: str | None, suffixes: tuple[str, ...], option: str) -> Path | None:
    if path is None:
        return None
    path = Path(path)
    if path.suffix.lower() not in suffixes:
        raise InputError(f"{option} '{path}' must end in {' or '.join(suffixes)}. Rename the output file.")
    if path.exists() and path.is_dir():
        raise InputError(f"{option} '{path}' is a folder. Give a file name.")
    return path


# ------------------------------------------------------------------------------- progress
def progress_bar(description: str) -> Callable[[int, int], None]:
    """A progress callback drawing a tqdm bar on stderr (hidden when not a terminal).

    Parameters
    ----------
    description : str
        Label of the bar.

    Returns
    -------
    callable
        ``progress(done, total)``.
    """
    from tqdm import tqdm

    state: dict = {}

    def update(done: int, total: int) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = state["bar"] = tqdm(total=total, desc=description, unit="chunk", file=sys.stderr,
                                      disable=None, leave=False)
        bar.total = total
        bar.update(done - bar.n)
        if done >= total:
            bar.close()
        else:
            pause_point("search")   # signal tests (centrality.interrupts): no-op unless $REGIO_PAUSE_AT=search

    return update


# ------------------------------------------------------------------------------- commands
def run_settings(args: argparse.Namespace) -> CentralitySettings:
    """The CentralitySettings of ``regio centrality`` from the parsed arguments (None = default).

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    centrality.settings.CentralitySettings
    """
    if getattr(args, "reference", None) is not None:
        warnings.warn("--reference is deprecated; use --reference-zone", DeprecationWarning, stacklevel=2)
        if args.reference_zone is not None:
            raise InputError("give --reference-zone only (--reference is its deprecated name).")
        args.reference_zone = args.reference
    return CentralitySettings().with_options(
        cutoff_min=args.cutoff, limits_min=args.limits, decay=args.decay, transform=args.transform,
        reference_zone=args.reference_zone, reference_value=args.reference_value, intra_zone_min=args.intra_zone,
        workers=args.workers, **zone_settings(args))


def _single_run(args: argparse.Namespace) -> RunSpec:
    """``regio centrality`` without --config as a one-run batch."""
    missing = [o for o, v in (("--network", args.network), ("--zones", args.zones), ("--out", args.out)) if not v]
    if missing:
        raise InputError(f"missing {', '.join(missing)}. Give --network, --zones and --out, or --config batch.toml.")
    out = _check_output(args.out, (".gpkg",), "--out")
    od = _check_output(args.od, (".parquet", ".pq"), "--od")
    _check_output(args.map, (".png", ".svg"), "--map")
    if args.tables and Path(args.tables).exists() and not Path(args.tables).is_dir():
        raise InputError(f"--tables '{args.tables}' is a file. Give a folder for the tables.")
    bad = [f for f in args.table_format if f not in ("csv", "parquet")]
    if bad:
        raise InputError(f"--table-format '{bad[0]}' is unknown. Use csv, parquet or csv,parquet.")
    if od is not None:
        require_parquet(f"--od '{od}'")
    if args.tables and "parquet" in args.table_format:
        require_parquet("--table-format parquet")
    settings = run_settings(args)
    zones = _zones_spec(args)
    if not zones.path.exists():
        raise InputError(f"zones layer file '{zones.path}' does not exist. Check the path.")
    return RunSpec(name=Path(args.out).stem, network=network_spec_from_args(args), zones=zones, options={},
                   out=out, tables=Path(args.tables) if args.tables else None, od=od, settings=settings,
                   group_col=args.group_field, table_formats=tuple(args.table_format),
                   group_polygons=Path(args.group_polygons) if args.group_polygons else None)


def cmd_centrality(args: argparse.Namespace) -> int:
    """``regio centrality``: one run from the options (a batch of one run), or the runs of ``--config``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        Exit status 0 (bad input raises InputError, which ``regio`` turns into status 2).
    """
    if args.config:
        return _cmd_batch(args)
    run = _single_run(args)
    map_png = Path(args.map) if args.map else None
    run.map = map_png
    title = Path(args.zones).stem

    def index_map(run_spec, result, outputs: OutputSet) -> list[Path]:
        fig = choropleth(result.zones, "index", title=f"Centrality index – {title}", unit_label="index (0–1000)")
        save_figure(fig, outputs.path(map_png))
        return [map_png]

    outcome = run_batch(BatchConfig(path=Path.cwd(), runs=[run]), progress_factory=progress_bar, log=_log_network,
                        extra_outputs=index_map if map_png else None)[0]
    print_summary(outcome.result)
    _print_written(outcome.written)
    return 0


def _log_network(message: str) -> None:
    if message.startswith("network "):
        print(message)


def _cmd_batch(args: argparse.Namespace) -> int:
    single = [o for o in ("network", "zones", "out", "tables", "od") if getattr(args, o, None)]
    if single:
        raise InputError(f"--config cannot be combined with --{single[0]}: put it in the configuration file.")
    config = load_config(args.config)
    print(f"configuration {args.config}: {len(config.runs)} run(s), {len(config.networks)} network(s)")
    outcomes = run_batch(config, progress_factory=progress_bar, log=print,
                         workers=args.workers if args.workers_given else None)
    for outcome in outcomes:
        print(f"\n== run {outcome.run.name}")
        print_summary(outcome.result)
        _print_written(outcome.written)
    return 0


def cmd_network_build(args: argparse.Namespace) -> int:
    """``regio network build``: build a network, print its report, write links and nodes.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        Exit status 0 (bad input raises InputError, which ``regio`` turns into status 2).
    """
    out = _check_output(args.out, (".gpkg",), "--out")
    done = network_job(network_spec_from_args(args), out,
                       on_built=lambda network: _print_network(network, args.network, full=True))
    _print_written(done.written)
    return 0


def _zones_spec(args: argparse.Namespace) -> ZonesSpec:
    if args.raster and not Path(args.raster).exists():
        raise InputError(f"population raster '{args.raster}' does not exist. Check the path.")
    return ZonesSpec(path=Path(args.zones), layer=args.zones_layer, id_field=args.id_field, pop_field=args.pop_field,
                     jobs_field=args.jobs_field, raster=Path(args.raster) if args.raster else None)


def cmd_od(args: argparse.Namespace) -> int:
    """``regio od``: zone-to-zone travel times as a long table.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        Exit status 0 (bad input raises InputError, which ``regio`` turns into status 2).
    """
    out = _check_output(args.out, (".parquet", ".pq", ".csv"), "--out")
    if args.cutoff is not None and not args.cutoff > 0:
        raise InputError(f"--cutoff must be a positive number of minutes, got {args.cutoff:g}.")
    settings = CentralitySettings().with_options(workers=args.workers, **zone_settings(args))
    done = od_job(network_spec_from_args(args), _zones_spec(args), out, cutoff_min=args.cutoff, settings=settings,
                  include_self=args.include_self, progress=progress_bar("travel times"),
                  on_built=lambda network: _print_network(network, args.network))
    ex = done.exclusion
    cutoff = DEFAULTS.cutoff_min if args.cutoff is None else args.cutoff
    print(f"zones: {len(done.zones.ids)} used, {ex['n_excluded']} excluded"
          + (f" ({ex['excluded_population']:.0f} residents, {ex['excluded_jobs']:.0f} jobs)" if ex["n_excluded"] else "")
          + f"; {thousands(len(done.table))} zone pairs within {cutoff:g} min; {done.seconds:.1f} s")
    _print_written(done.written)
    return 0


def _print_network(network, path, full: bool = False) -> None:
    print(network_line(network, path))
    if full:
        for key, value in network.report.items():
            print(f"  {key}: {value}")


def _print_written(paths) -> None:
    for p in paths:
        print(f"wrote {p}")


# ------------------------------------------------------------------------------- registration
class _WorkersAction(argparse.Action):
    """--workers N; remembers that it was given (a batch file's own value wins otherwise)."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        namespace.workers_given = True


def _add_run_arguments(p: argparse.ArgumentParser) -> None:
    d = DEFAULTS
    g = p.add_argument_group("centrality")
    g.add_argument("--cutoff", type=float, metavar="MIN",
                   help=f"longest travel time computed (default {d.cutoff_min:g})")
    g.add_argument("--limits", type=_float_list, metavar="LIST",
                   help=f"jobs reachable within these minutes (default {','.join(f'{x:g}' for x in d.limits_min)})")
    g.add_argument("--decay", default=None, metavar="SPEC",
                   help=f'distance decay: "exp:45:0.1" (default {d.decay_function.spec}: weight 0.1 at 45 min, 0 '
                        'beyond the cutoff), "linear:90", "step:60", "table:0=1,30=0.5,90=0"')
    g.add_argument("--transform", choices=("log", "linear", "sqrt"),
                   help=f"index = 1000·f(A)/f(A_ref) (default {d.transform}: ln(1+A))")
    g.add_argument("--reference-zone", metavar="ZONE_ID",
                   help="zone whose accessibility gets index 1000 (default: the most accessible zone)")
    g.add_argument("--reference-value", type=float, metavar="A_REF",
                   help="fixed accessibility A_ref of index 1000 (decay-weighted jobs), e.g. a base run's "
                        "reference_access; not with --reference-zone")
    g.add_argument("--reference", metavar="ZONE_ID", help=argparse.SUPPRESS)   # deprecated: --reference-zone
    g.add_argument("--intra-zone", type=_intra_zone, metavar="MIN|access",
                   help="travel time within a zone (default: twice its access time)")
    g.add_argument("--group-field", metavar="FIELD", help="also aggregate per group (e.g. kommune), population-weighted")
    g.add_argument("--group-polygons", metavar="PATH", help="polygons with the group field for the groups layer")


def register(subparsers) -> None:
    """Add ``centrality``, ``network build`` and ``od`` to the ``regio`` subcommands.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The ``regio`` subcommand registry.
    """
    workers_help = f"threads for the travel-time search (default: the {CentralitySettings().workers} cores here)"
    p = subparsers.add_parser(
        "centrality", help="jobs reachable, accessibility and the 0–1000 centrality index",
        description="Travel-time centrality of zones on a road network (one run, or --config batch.toml).")
    p.add_argument("--config", metavar="TOML", help="batch file with several runs (see docs/usage-centrality.md)")
    add_network_arguments(p, required=False)
    add_zone_arguments(p, required=False)
    _add_run_arguments(p)
    g = p.add_argument_group("output")
    g.add_argument("--out", metavar="GPKG", help="result GeoPackage (layers zones, groups, run_summary)")
    g.add_argument("--tables", metavar="DIR", help="also write the tables (CSV and Parquet) to this folder")
    g.add_argument("--table-format", type=lambda s: tuple(x.strip() for x in s.split(",") if x.strip()),
                   default=("csv", "parquet"), metavar="LIST", help="csv, parquet or csv,parquet (default both)")
    g.add_argument("--od", metavar="PARQUET", help="also write the OD matrix (origin_id, dest_id, minutes)")
    g.add_argument("--map", metavar="PNG", help="also draw a choropleth of the index (.png or .svg)")
    p.add_argument("--workers", type=_positive_int, action=_WorkersAction, metavar="N", help=workers_help)
    p.set_defaults(func=cmd_centrality, workers_given=False)

    net = subparsers.add_parser("network", help="build a road network and report what was kept")
    net_sub = net.add_subparsers(dest="network_command", metavar="COMMAND")
    b = net_sub.add_parser("build", help="build a network and write its links and nodes",
                           description="Build a road network (lines or OSM), print its report, write links + nodes.")
    add_network_arguments(b)
    b.add_argument("--out", metavar="GPKG", help="write layers links and nodes to this GeoPackage")
    b.set_defaults(func=cmd_network_build)
    net.set_defaults(func=lambda args: (net.print_help(), 1)[1])

    o = subparsers.add_parser("od", help="zone-to-zone car travel times (OD matrix table)",
                              description="Exact zone-to-zone travel times within a cutoff, as a long table.")
    add_network_arguments(o)
    add_zone_arguments(o)
    o.add_argument("--cutoff", type=float, metavar="MIN", help=f"longest travel time (default {DEFAULTS.cutoff_min:g})")
    o.add_argument("--include-self", action="store_true", help="keep the pairs origin == destination")
    o.add_argument("--out", required=True, metavar="FILE", help="OD table: .parquet or .csv")
    o.add_argument("--workers", type=_positive_int, metavar="N", help=workers_help)
    o.set_defaults(func=cmd_od)
