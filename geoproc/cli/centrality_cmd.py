"""`regio centrality`, `regio network build` and `regio od`: the travel-time engine from the shell.

- ``regio centrality --network roads.gpkg --zones zones.gpkg --out result.gpkg`` (one run) or
  ``regio centrality --config batch.toml`` (several runs, see :mod:`centrality.config`);
- ``regio network build --network roads.gpkg --out network.gpkg`` writes the built links and
  nodes and prints what the builder kept and dropped;
- ``regio od --network ... --zones ... --out od.parquet`` writes the zone-to-zone travel times.

Inputs are read and checked (fields, files, option values) before the long computation starts;
every output is written atomically, so an error leaves no output file behind.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable

from centrality.errors import InputError

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
    g = parser.add_argument_group("zones")
    g.add_argument("--zones", metavar="PATH", required=required, help="zone points or polygons with population and jobs")
    g.add_argument("--zones-layer", metavar="NAME", help="layer in a multi-layer file")
    g.add_argument("--id-field", default="zone_id", metavar="FIELD", help="unique zone id (default zone_id)")
    g.add_argument("--pop-field", default="population", metavar="FIELD", help="residents (default population)")
    g.add_argument("--jobs-field", default="jobs", metavar="FIELD", help="jobs by place of work (default jobs)")
    g.add_argument("--raster", metavar="TIF", help="population raster: polygon zones get population-weighted centroids")
    g.add_argument("--access-speed", type=float, default=20.0, metavar="KMH",
                   help="speed from the zone point to the nearest road node (default 20 km/h)")
    g.add_argument("--max-snap", type=float, default=5000.0, metavar="M",
                   help="zones farther from any road are excluded and reported (default 5000 m)")


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
    """(format, builder keywords) from the parsed arguments; options of the other format are errors."""
    from centrality.config import guess_format

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


def build_network_from_args(args: argparse.Namespace):
    """The RoadNetwork described by the network options (``--network`` etc.)."""
    from centrality.config import NetworkSpec, build_network

    path = Path(args.network)
    if not path.exists():
        raise InputError(f"network file '{path}' does not exist. Check the path.")
    fmt, kwargs = network_options(args, path)
    return build_network(NetworkSpec.from_kwargs(fmt, path, kwargs))


def _read_checked_zones(args: argparse.Namespace, group_field: str | None = None):
    """Read the zone layer and check its fields before the network is built (fails fast)."""
    from centrality.errors import require_columns
    from centrality.pipeline import read_zones
    from centrality.zones import validate_zone_table

    zones = read_zones(args.zones, layer=args.zones_layer)
    validate_zone_table(zones, args.id_field, args.pop_field, args.jobs_field)
    if group_field:
        require_columns(zones.columns, [group_field], "zones layer",
                        "Pass --group-field with an existing field (e.g. the kommune code).")
    if args.raster and not Path(args.raster).exists():
        raise InputError(f"population raster '{args.raster}' does not exist. Check the path.")
    return zones


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
    """A ``progress(done, total)`` callback drawing a tqdm bar on stderr (hidden when not a terminal)."""
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

    return update


# ------------------------------------------------------------------------------- commands
def _run_options(args: argparse.Namespace) -> dict:
    return dict(cutoff_min=args.cutoff, limits_min=args.limits, decay=args.decay, transform=args.transform,
                reference=args.reference, access_speed_kmh=args.access_speed, max_snap_m=args.max_snap,
                intra_zone_min=args.intra_zone, group_col=args.group_field, workers=args.workers)


def cmd_centrality(args: argparse.Namespace) -> int:
    if args.config:
        return _cmd_batch(args)
    missing = [o for o, v in (("--network", args.network), ("--zones", args.zones), ("--out", args.out)) if not v]
    if missing:
        raise InputError(f"missing {', '.join(missing)}. Give --network, --zones and --out, or --config batch.toml.")
    from centrality.pipeline import (check_run_options, print_summary, require_parquet, run_centrality,
                                     write_result)

    out = _check_output(args.out, (".gpkg",), "--out")
    od = _check_output(args.od, (".parquet", ".pq"), "--od")
    map_png = _check_output(args.map, (".png", ".svg"), "--map")
    if args.tables and Path(args.tables).exists() and not Path(args.tables).is_dir():
        raise InputError(f"--tables '{args.tables}' is a file. Give a folder for the tables.")
    bad = [f for f in args.table_format if f not in ("csv", "parquet")]
    if bad:
        raise InputError(f"--table-format '{bad[0]}' is unknown. Use csv, parquet or csv,parquet.")
    if od is not None:
        require_parquet(f"--od '{od}'")
    if args.tables and "parquet" in args.table_format:
        require_parquet("--table-format parquet")
    zones = _read_checked_zones(args, args.group_field)
    check_run_options(zones, id_col=args.id_field, group_col=args.group_field, cutoff_min=args.cutoff,
                      limits_min=args.limits, decay=args.decay, transform=args.transform, reference=args.reference)
    group_geometry = None
    if args.group_polygons:
        from centrality.fileio import read_vector

        group_geometry = read_vector(args.group_polygons, what="group polygons layer")
    network = build_network_from_args(args)
    _print_network(network, args.network)
    result = run_centrality(network, zones, id_col=args.id_field, pop_col=args.pop_field, jobs_col=args.jobs_field,
                            raster=args.raster, keep_od=od is not None, progress=progress_bar("travel times"),
                            **_run_options(args))
    written = write_result(result, out, tables_dir=args.tables, od_parquet=od, group_geometry=group_geometry,
                           table_formats=args.table_format)
    if map_png:
        written += _write_index_map(result, map_png, Path(args.zones).stem)
    print_summary(result)
    _print_written(written)
    return 0


def _write_index_map(result, path: Path, title: str) -> list[Path]:
    from geoproc.plots.maps import choropleth, save_figure

    fig = choropleth(result.zones, "index", title=f"Centrality index – {title}", unit_label="index (0–1000)")
    return save_figure(fig, path)


def _cmd_batch(args: argparse.Namespace) -> int:
    from centrality.config import load_config, run_batch
    from centrality.pipeline import print_summary

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
    from centrality.fileio import atomic_write

    out = _check_output(args.out, (".gpkg",), "--out")
    network = build_network_from_args(args)
    _print_network(network, args.network, full=True)
    if out is not None:
        import geopandas as gpd
        import numpy as np
        import shapely

        nodes = gpd.GeoDataFrame({"node_id": np.arange(network.n_nodes, dtype=np.int64)},
                                 geometry=shapely.points(network.node_xy), crs=network.crs)
        links = network.links.reset_index()
        with atomic_write(out) as tmp:
            links.to_file(tmp, layer="links", driver="GPKG", engine="pyogrio")
            nodes.to_file(tmp, layer="nodes", driver="GPKG", engine="pyogrio")
        _print_written([out])
    return 0


def cmd_od(args: argparse.Namespace) -> int:
    from centrality.fileio import write_table
    from centrality.paths import od_times
    from centrality.zones import load_zones, snap_zones

    out = _check_output(args.out, (".parquet", ".pq", ".csv"), "--out")
    if out.suffix.lower() != ".csv":
        from centrality.pipeline import require_parquet

        require_parquet(f"--out '{out}'")
    if args.cutoff <= 0:
        raise InputError(f"--cutoff must be a positive number of minutes, got {args.cutoff:g}.")
    zones_gdf = _read_checked_zones(args)
    network = build_network_from_args(args)
    _print_network(network, args.network)
    points = load_zones(zones_gdf, id_col=args.id_field, pop_col=args.pop_field, jobs_col=args.jobs_field,
                        raster=args.raster)
    zones = snap_zones(points, network, id_col=args.id_field, pop_col=args.pop_field, jobs_col=args.jobs_field,
                       access_speed_kmh=args.access_speed, max_snap_m=args.max_snap)
    od = od_times(network, zones, cutoff_min=args.cutoff, workers=args.workers, progress=progress_bar("travel times"))
    table = od.to_frame(zones)
    if not args.include_self:
        table = table[table["origin_id"] != table["dest_id"]]
    write_table(table, out)
    print(f"zones: {len(zones.ids)} used, {len(zones.excluded)} excluded; {thousands(len(table))} zone pairs "
          f"within {args.cutoff:g} min; {od.seconds:.1f} s")
    _print_written([out])
    return 0


def _print_network(network, path, full: bool = False) -> None:
    r = network.report
    line = f"network {Path(path).name}: {thousands(network.n_nodes)} nodes, {thousands(network.n_links)} links"
    dropped = r.get("scc_dropped_nodes", 0)
    if dropped:
        line += f" (largest strongly connected part kept; {dropped} nodes / {r.get('scc_dropped_links', 0)} links dropped)"
    print(line)
    if full:
        for key, value in r.items():
            print(f"  {key}: {value}")


def thousands(value: float) -> str:
    """1234567 -> '1 234 567' (space as thousands separator)."""
    return f"{value:,.0f}".replace(",", " ")


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
    g = p.add_argument_group("centrality")
    g.add_argument("--cutoff", type=float, default=90.0, metavar="MIN", help="longest travel time computed (default 90)")
    g.add_argument("--limits", type=_float_list, default=(30.0, 45.0, 60.0, 90.0), metavar="LIST",
                   help="jobs reachable within these minutes (default 30,45,60,90)")
    g.add_argument("--decay", default=None, metavar="SPEC",
                   help='distance decay: "exp:45:0.1" (default: weight 0.1 at 45 min, 0 beyond 90), '
                        '"linear:90", "step:60", "table:0=1,30=0.5,90=0"')
    g.add_argument("--transform", default="log", choices=("log", "linear", "sqrt"),
                   help="index = 1000·f(A)/f(A_ref) (default log: ln(1+A))")
    g.add_argument("--reference", metavar="ZONE_ID", help="zone whose accessibility is 1000 (default: the maximum)")
    g.add_argument("--intra-zone", type=_intra_zone, default="access", metavar="MIN|access",
                   help="travel time within a zone (default: twice its access time)")
    g.add_argument("--group-field", metavar="FIELD", help="also aggregate per group (e.g. kommune), population-weighted")
    g.add_argument("--group-polygons", metavar="PATH", help="polygons with the group field for the groups layer")


def register(subparsers) -> None:
    workers_help = "threads for the travel-time search (default 1)"
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
    p.add_argument("--workers", type=_positive_int, default=1, action=_WorkersAction, metavar="N", help=workers_help)
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
    o.add_argument("--cutoff", type=float, default=90.0, metavar="MIN", help="longest travel time (default 90)")
    o.add_argument("--include-self", action="store_true", help="keep the pairs origin == destination")
    o.add_argument("--out", required=True, metavar="FILE", help="OD table: .parquet or .csv")
    o.add_argument("--workers", type=_positive_int, default=1, metavar="N", help=workers_help)
    o.set_defaults(func=cmd_od)
