"""TOML batch configuration for ``regio centrality --config batch.toml``.

One file describes several centrality runs (zone sets, years, networks). Everything is checked
**before** any computation: unknown keys (with close-match suggestions), wrong types, missing
input files, clashing outputs. Networks used by several runs are built once.

Example::

    [defaults]                      # applies to every [[run]] (a run's own value wins)
    cutoff = 90                     # minutes
    limits = [30, 45, 60, 90]       # minutes
    decay = "exp:45:0.1"            # weight 0.1 at 45 minutes (0 beyond the cutoff)
    transform = "log"
    group_field = "kommune"
    max_excluded_share = 0.01       # zones far from the roads may hold at most 1 % of population/jobs
    workers = 2
    zones = { id_field = "zone_id", pop_field = "population", jobs_field = "jobs" }

    [networks.roads2024]            # a named network, shared by the runs that use it
    path = "roads_2024.gpkg"        # line layer; or an OSM file with format = "osm"
    time_fw_field = "time_min"
    time_unit = "min"
    direction_field = "oneway"

    [[run]]
    name = "2024"
    network = "roads2024"           # a [networks.NAME] or an inline table like the one above
    zones = { path = "zones_2024.gpkg", layer = "zones" }
    out = "out/centrality_2024.gpkg"
    tables = "out/tables_2024"      # optional: CSV + Parquet tables
    od = "out/od_2024.parquet"      # optional: the OD matrix

Relative paths are relative to the configuration file's folder. The run options map to the
fields of :class:`centrality.settings.CentralitySettings` (:data:`RUN_OPTIONS`; its defaults
apply to what a file leaves out); ``reference`` is the deprecated name of ``reference_zone``.
"""
from __future__ import annotations

import difflib
import inspect
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable


from centrality.builders.lines import network_from_lines
from centrality.builders.osm import network_from_osm_pbf
from centrality.builders import check_vector_path
from centrality.errors import InputError, check_keys, require_columns, thousands
from centrality.fileio import OutputSet, read_toml, read_vector, require_parquet
from centrality.pipeline import (check_outputs, check_run_options, declare_outputs, manifest_path, read_zones,
                                 run_centrality, write_result)
from centrality.settings import CentralitySettings
from centrality.zones import validate_zone_table

NETWORK_FORMATS = ("lines", "osm")
OSM_SUFFIXES = (".pbf", ".osm", ".o5m")
TOP_KEYS = ("defaults", "networks", "run")
ZONE_KEYS = {"path": str, "layer": str, "id_field": str, "pop_field": str, "jobs_field": str, "raster": str}
# run key -> (accepted types, CentralitySettings field; group_col is run_centrality's group column)
RUN_OPTIONS: dict[str, tuple[tuple[type, ...], str]] = {
    "cutoff": ((int, float), "cutoff_min"),
    "limits": ((list,), "limits_min"),
    "decay": ((str, dict), "decay"),
    "transform": ((str,), "transform"),
    "reference_zone": ((str, int), "reference_zone"),
    "reference_value": ((int, float), "reference_value"),
    "reference": ((str, int), "reference"),            # deprecated: reference_zone
    "access_speed": ((int, float), "access_speed_kmh"),
    "max_snap": ((int, float), "max_snap_m"),
    "max_excluded_share": ((int, float), "max_excluded_share"),
    "intra_zone": ((str, int, float), "intra_zone_min"),
    "group_field": ((str,), "group_col"),
    "workers": ((int,), "workers"),
    "engine": ((str,), "engine"),
}
RUN_KEYS: dict[str, tuple[type, ...]] = {
    "name": (str,), "network": (str, dict), "zones": (dict,), "out": (str,), "tables": (str,), "od": (str,),
    **{k: t for k, (t, _) in RUN_OPTIONS.items()},
}
_BUILDER_SKIP = ("path", "path_or_gdf", "progress", "should_stop")


@dataclass(frozen=True)
class NetworkSpec:
    """How to build one network: ``format`` "lines" | "osm", input ``path`` and builder keywords."""

    format: str
    path: Path
    options: tuple = ()  # sorted (key, value) pairs of builder keyword arguments

    @classmethod
    def from_kwargs(cls, fmt: str, path, kwargs: dict) -> "NetworkSpec":
        """Spec from builder keyword arguments (hashable, so equal specs are built once).

        Parameters
        ----------
        fmt : {"lines", "osm"}
            Network format.
        path : path-like
            The road layer or OSM file.
        kwargs : dict
            Keyword arguments of the builder (:func:`builder_for`).

        Returns
        -------
        NetworkSpec
        """
        return cls(format=fmt, path=Path(path), options=_freeze(kwargs))

    @property
    def kwargs(self) -> dict:
        """The builder keyword arguments (a fresh dict)."""
        return {k: _thaw(v) for k, v in self.options}

    def describe(self) -> str:
        """A short description for logs, e.g. ``"lines network roads.gpkg"``.

        Returns
        -------
        str
        """
        return f"{self.format} network {self.path}"


@dataclass
class ZonesSpec:
    path: Path
    layer: str | None = None
    id_field: str = "zone_id"
    pop_field: str = "population"
    jobs_field: str = "jobs"
    raster: Path | None = None


@dataclass
class RunSpec:
    """One centrality run: network, zones, settings and outputs.

    ``options`` are the run's option values as given (CentralitySettings field names, plus
    ``group_col``); ``settings`` the validated settings built from them.
    """

    name: str
    network: NetworkSpec
    zones: ZonesSpec
    options: dict
    out: Path
    tables: Path | None = None
    od: Path | None = None
    settings: CentralitySettings = field(default_factory=CentralitySettings)
    group_col: str | None = None
    table_formats: tuple[str, ...] = ("csv", "parquet")
    group_polygons: Path | None = None
    services: Any = None  # centrality.services.ServicesSpec: also the services sub-index and index_full
    map: Path | None = None          # a choropleth drawn by the caller (declared and checked up front)

    @property
    def inputs(self) -> list[Path]:
        """The input files of the run (network, zones, raster, group polygons, services)."""
        return [p for p in (self.network.path, self.zones.path, self.zones.raster, self.group_polygons,
                            getattr(self.services, "path", None)) if p]


@dataclass
class BatchConfig:
    path: Path
    runs: list[RunSpec] = field(default_factory=list)

    @property
    def networks(self) -> list[NetworkSpec]:
        """Distinct networks in first-use order (each is built once)."""
        return list(dict.fromkeys(r.network for r in self.runs))


# ------------------------------------------------------------------------------------ helpers
def _freeze(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("__list__", tuple(_freeze(v) for v in value))
    return value


def _thaw(value):
    if isinstance(value, tuple) and value and value[0] == "__list__":
        return [_thaw(v) for v in value[1]]
    if isinstance(value, tuple):
        return {k: _thaw(v) for k, v in value}
    return value


def _check_type(value, types: tuple[type, ...], key: str, where: str) -> None:
    ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
    if not ok:
        names = " or ".join({str: "a string", int: "an integer", float: "a number", list: "a list",
                             dict: "a table", bool: "true/false"}[t] for t in types)
        raise InputError(f"{where}: '{key}' must be {names}, got {json.dumps(value, default=str)}.")


def _path(base: Path, value: str, key: str, where: str, must_exist: bool) -> Path:
    path = Path(os.path.expanduser(value))
    path = path if path.is_absolute() else base / path
    if must_exist and not path.exists():
        raise InputError(f"{where}: {key} file '{path}' does not exist. Fix the path (relative paths are "
                         f"relative to the configuration file's folder {base}).")
    return path


def builder_for(fmt: str) -> Callable:
    """The builder function for a network format.

    Parameters
    ----------
    fmt : {"lines", "osm"}
        Network format.

    Returns
    -------
    callable
        :func:`centrality.builders.lines.network_from_lines` or
        :func:`centrality.builders.osm.network_from_osm_pbf`.
    """
    if fmt == "lines":
        return network_from_lines
    if fmt == "osm":
        return network_from_osm_pbf
    raise InputError(f"unknown network format '{fmt}'. Use one of: {', '.join(NETWORK_FORMATS)}.")


def builder_options(fmt: str) -> list[str]:
    """Keyword arguments the builder for ``fmt`` accepts (from its signature).

    Parameters
    ----------
    fmt : {"lines", "osm"}
        Network format.

    Returns
    -------
    list of str
    """
    params = inspect.signature(builder_for(fmt)).parameters
    return [p for p in params if p not in _BUILDER_SKIP]


def guess_format(path: Path) -> str:
    """The network format of a file from its name.

    Parameters
    ----------
    path : pathlib.Path
        The file.

    Returns
    -------
    str
        ``"osm"`` for ``.pbf``/``.osm``/``.o5m``, else ``"lines"``.
    """
    name = path.name.lower()
    return "osm" if any(name.endswith(s) for s in OSM_SUFFIXES) else "lines"


def network_spec(table: dict, base: Path, where: str) -> NetworkSpec:
    """Validated :class:`NetworkSpec` from a TOML table.

    Parameters
    ----------
    table : dict
        ``path``, optional ``format`` and builder options.
    base : pathlib.Path
        Folder relative paths are relative to (the configuration file's).
    where : str
        Where the table is, for messages.

    Returns
    -------
    NetworkSpec
    """
    if "path" not in table:
        raise InputError(f"{where}: 'path' is missing. Give the road layer or OSM file, e.g. path = \"roads.gpkg\".")
    _check_type(table["path"], (str,), "path", where)
    path = _path(base, table["path"], "network", where, must_exist=True)
    fmt = table.get("format", guess_format(path))
    if fmt not in NETWORK_FORMATS:
        raise InputError(f"{where}: format '{fmt}' is unknown. Use one of: {', '.join(NETWORK_FORMATS)}.")
    options = {k: v for k, v in table.items() if k not in ("path", "format")}
    check_keys(options, builder_options(fmt), f"{where} ({fmt} network options)")
    return NetworkSpec.from_kwargs(fmt, path, options)


def network_line(network, path) -> str:
    """One line on a built network: nodes, links and what the strongly-connected filter dropped.

    Parameters
    ----------
    network : centrality.network.RoadNetwork
        The built network.
    path : path-like
        Its source file (the name is shown).

    Returns
    -------
    str
    """
    r = network.report
    line = f"network {Path(path).name}: {thousands(network.n_nodes)} nodes, {thousands(network.n_links)} links"
    dropped = r.get("scc_dropped_nodes", 0)
    if dropped:
        line += f" (largest strongly connected part kept; {dropped} nodes / {r.get('scc_dropped_links', 0)} links dropped)"
    return line


def build_network(spec: NetworkSpec, progress=None):
    """Build the RoadNetwork described by ``spec`` (the builder validates the fields).

    Parameters
    ----------
    spec : NetworkSpec
        What to build.
    progress : callable, optional
        ``progress(done, total)`` for builders that report progress.

    Returns
    -------
    centrality.network.RoadNetwork
    """
    kwargs = spec.kwargs
    builder = builder_for(spec.format)
    if progress is not None and "progress" in inspect.signature(builder).parameters:
        kwargs["progress"] = progress
    network = builder(spec.path, **kwargs)
    network.source_path = Path(spec.path)   # the hierarchy cache of engine "ch" goes next to this file
    return network


def _zones_spec(table: dict, base: Path, where: str) -> ZonesSpec:
    check_keys(table, ZONE_KEYS, f"{where} zones")
    for key, value in table.items():
        _check_type(value, (ZONE_KEYS[key],), key, f"{where} zones")
    if "path" not in table:
        raise InputError(f"{where}: zones 'path' is missing. Give the zone layer, e.g. zones = {{ path = \"zones.gpkg\" }}.")
    spec = ZonesSpec(path=_path(base, table["path"], "zones", where, must_exist=True))
    for key in ("layer", "id_field", "pop_field", "jobs_field"):
        if key in table:
            setattr(spec, key, table[key])
    if "raster" in table:
        spec.raster = _path(base, table["raster"], "raster", where, must_exist=True)
    return spec


def _run_options(run: dict, where: str) -> tuple[dict, CentralitySettings, str | None]:
    """(option values, validated settings, group column) from the run's option keys."""
    options = {}
    for key, (_, name) in RUN_OPTIONS.items():
        if key in run:
            options[name] = run[key]
    if "cutoff_min" in options and not options["cutoff_min"] > 0:
        raise InputError(f"{where}: cutoff must be > 0 minutes, got {options['cutoff_min']}.")
    if "limits_min" in options:
        limits = options["limits_min"]
        if not limits or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and x > 0 for x in limits):
            raise InputError(f"{where}: limits must be a list of positive minutes, e.g. [30, 45, 60, 90]; got {limits}.")
        options["limits_min"] = tuple(limits)
    if "workers" in options and options["workers"] < 1:
        raise InputError(f"{where}: workers must be >= 1, got {options['workers']}.")
    group_col = options.get("group_col")
    try:
        settings = CentralitySettings.from_mapping({k: v for k, v in options.items() if k != "group_col"}, where)
    except InputError as exc:
        if str(exc).startswith(where):
            raise
        raise InputError(f"{where}: {exc}") from None
    return options, settings, group_col


def _resolve_network(value, named: dict[str, NetworkSpec], base: Path, where: str) -> NetworkSpec:
    if isinstance(value, str):
        if value not in named:
            close = difflib.get_close_matches(value, list(named), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise InputError(f"{where}: network '{value}' is not defined.{hint} Define it as [networks.{value}] "
                             "with a path, or give an inline table network = {{ path = ... }}.")
        return named[value]
    return network_spec(value, base, f"{where} network")


def _merge(defaults: dict, run: dict) -> dict:
    merged = {**defaults, **run}
    for key in ("zones", "network"):
        if isinstance(defaults.get(key), dict) and isinstance(run.get(key), dict):
            merged[key] = {**defaults[key], **run[key]}
    return merged


def parse_config(data: dict, base: Path, source: str = "configuration") -> BatchConfig:
    """Validate a parsed TOML document; see the module docstring for the layout.

    Parameters
    ----------
    data : dict
        The parsed document.
    base : pathlib.Path
        Folder relative paths are relative to.
    source : str
        Name of the document, for messages.

    Returns
    -------
    BatchConfig

    Raises
    ------
    InputError
        For unknown keys (with the closest key), wrong types, missing files, invalid options and
        outputs written by two runs.
    """
    check_keys(data, TOP_KEYS, source)
    defaults = data.get("defaults", {})
    _check_type(defaults, (dict,), "defaults", source)
    check_keys(defaults, [k for k in RUN_KEYS if k != "name"], f"{source} [defaults]")
    networks = data.get("networks", {})
    _check_type(networks, (dict,), "networks", source)
    named = {}
    for name, table in networks.items():
        _check_type(table, (dict,), name, f"{source} [networks]")
        named[name] = network_spec(table, base, f"{source} [networks.{name}]")
    runs = data.get("run")
    if not runs:
        raise InputError(f"{source} has no runs. Add at least one [[run]] table with network, zones and out.")
    _check_type(runs, (list,), "run", source)

    config = BatchConfig(path=base)
    seen_names, seen_outputs = set(), {}
    for k, raw in enumerate(runs, start=1):
        _check_type(raw, (dict,), f"run #{k}", source)
        where = f"{source} [[run]] #{k}" + (f" ('{raw['name']}')" if isinstance(raw.get("name"), str) else "")
        check_keys(raw, RUN_KEYS, where)
        run = _merge(defaults, raw)
        for key, value in run.items():
            _check_type(value, RUN_KEYS[key], key, where)
        for key in ("network", "zones", "out"):
            if key not in run:
                raise InputError(f"{where}: '{key}' is missing. Each run needs network, zones and out "
                                 "(directly or in [defaults]).")
        name = run.get("name", f"run{k}")
        if name in seen_names:
            raise InputError(f"{where}: run name '{name}' is used twice. Give each run a unique name.")
        seen_names.add(name)
        options, settings, group_col = _run_options(run, where)
        spec = RunSpec(
            name=name,
            network=_resolve_network(run["network"], named, base, where),
            zones=_zones_spec(run["zones"], base, where),
            options=options, settings=settings, group_col=group_col,
            out=_path(base, run["out"], "out", where, must_exist=False),
            tables=_path(base, run["tables"], "tables", where, False) if "tables" in run else None,
            od=_path(base, run["od"], "od", where, False) if "od" in run else None,
        )
        if spec.out.suffix.lower() != ".gpkg":
            raise InputError(f"{where}: out '{spec.out}' must be a GeoPackage (.gpkg). Rename it.")
        if spec.od is not None and spec.od.suffix.lower() not in (".parquet", ".pq"):
            raise InputError(f"{where}: od '{spec.od}' must end in .parquet. Rename it.")
        if spec.od is not None:
            require_parquet(f"{where}: od '{spec.od}'")
        for target in (spec.out, spec.tables, spec.od):
            if target is None:
                continue
            if target in seen_outputs:
                raise InputError(f"{where}: output '{target}' is also written by run '{seen_outputs[target]}'. "
                                 "Give each run its own output paths.")
            seen_outputs[target] = name
        config.runs.append(spec)
    return config


def load_config(path: str | os.PathLike) -> BatchConfig:
    """Read and validate a TOML batch file (nothing is computed).

    Parameters
    ----------
    path : path-like
        The TOML file (layout in the module docstring).

    Returns
    -------
    BatchConfig
    """
    path = Path(path)
    data = read_toml(path, "configuration file")
    return parse_config(data, path.resolve().parent, source=path.name)


_FIELD_OPTIONS = ("time_fw_field", "time_bw_field", "speed_field", "maxspeed_field", "class_field",
                  "direction_field", "id_field")


def _check_network_fields(spec: NetworkSpec) -> None:
    """Line layers: the named fields exist (read from the file header only, nothing is built)."""
    if spec.format != "lines":
        return
    check_vector_path(spec.path, "road layer")
    kwargs = spec.kwargs
    named = [kwargs[k] for k in _FIELD_OPTIONS if kwargs.get(k)]
    if not named or spec.path.suffix.lower() in (".parquet", ".geoparquet", ".pq"):
        return
    try:
        import pyogrio  # lazy: not in the QGIS plugin's dependency set (qgis_plugin/install_deps.py)

        fields = pyogrio.read_info(spec.path, layer=kwargs.get("layer"))["fields"]
    except Exception as exc:  # GDAL errors have many types
        raise InputError(f"cannot read road layer '{spec.path}': {exc}. Give a valid vector file.") from None
    require_columns(list(fields), named, f"road layer '{spec.path.name}'",
                    "Fix the field names in the configuration (they are case-sensitive).")


def run_outputs(run: RunSpec, inputs: list[Path] = ()) -> OutputSet:
    """The :class:`OutputSet` of one run with its outputs declared (not yet checked).

    Parameters
    ----------
    run : RunSpec
        The run.
    inputs : list of pathlib.Path
        Inputs of other runs that its outputs must not overwrite either.

    Returns
    -------
    centrality.fileio.OutputSet
    """
    outputs = OutputSet(inputs=[*run.inputs, *inputs], command=f"regio centrality (run {run.name})",
                        manifest=manifest_path(run.out))
    declare_outputs(outputs, run.out, run.tables, run.od)
    if run.map is not None:
        outputs.declare(run.map, "--map")
    return outputs


def preflight(config: BatchConfig) -> tuple[dict, list[OutputSet]]:
    """Check everything that can be checked before any computation.

    Every zone layer is read and its fields and the run options are checked against it, the
    road layers' field names are read from their headers, and every run's outputs are checked
    against the inputs of *all* runs (no run may overwrite another run's input).

    Parameters
    ----------
    config : BatchConfig
        The validated configuration.

    Returns
    -------
    zones : dict
        ``{(zones path, layer): GeoDataFrame}`` for reuse.
    outputs : list of OutputSet
        One checked output set per run, in run order.
    """
    for spec in config.networks:
        _check_network_fields(spec)
    zones = {}
    for run in config.runs:
        key = (run.zones.path, run.zones.layer)
        if key not in zones:
            zones[key] = read_zones(run.zones.path, layer=run.zones.layer)
        what = f"run '{run.name}': zones layer '{run.zones.path.name}'"
        validate_zone_table(zones[key], run.zones.id_field, run.zones.pop_field, run.zones.jobs_field, what)
        try:
            check_run_options(zones[key], run.settings, id_col=run.zones.id_field, group_col=run.group_col)
            check_outputs(run.out, run.od, run.tables, run.table_formats)
        except InputError as exc:
            raise InputError(f"run '{run.name}': {exc}") from None
    all_inputs = [p for run in config.runs for p in run.inputs]
    outputs = []
    for run in config.runs:
        out = run_outputs(run, all_inputs)
        try:
            out.check()
        except InputError as exc:
            raise InputError(f"run '{run.name}': {exc}") from None
        outputs.append(out)
    return zones, outputs


@dataclass
class RunOutcome:
    """What one run produced: its spec, the CentralityResult and the files written."""

    run: RunSpec
    result: Any
    written: list


ExtraOutputs = Callable[[RunSpec, Any, OutputSet], list]


def run_batch(config: BatchConfig, *, progress_factory: Callable[[str], Any] | None = None,
              log: Callable[[str], None] | None = None, workers: int | None = None,
              should_stop: Callable[[], bool] | None = None,
              extra_outputs: ExtraOutputs | None = None, executor=None) -> list[RunOutcome]:
    """Run every run of ``config``: networks are built once, zones read, results written.

    Parameters
    ----------
    config : BatchConfig
        The validated configuration (one run for ``regio centrality`` without ``--config``).
    progress_factory : callable, optional
        ``progress_factory(description)`` returns a ``progress(done, total)`` callback (or None).
    log : callable, optional
        ``log(message)`` for progress lines.
    workers : int, optional
        Overrides the configured number of threads.
    should_stop : callable, optional
        Cancellation callback of the travel-time search.
    extra_outputs : callable, optional
        ``extra_outputs(run, result, outputs) -> list of paths`` stages more files of a run
        (e.g. a map) before its outputs are committed.
    executor : optional
        Runs the travel-time chunks (e.g. :func:`centrality.parallel.make_executor` for a Dask
        cluster); default: local threads.

    Returns
    -------
    list of RunOutcome

    Notes
    -----
    :func:`preflight` checks every zone layer, the road layers' field names and every run's
    outputs first, so a bad field in the last run stops the batch before the first run computes
    or writes anything. Each run's files are committed together (:class:`OutputSet`).
    """
    log = log or (lambda message: None)
    zone_layers, output_sets = preflight(config)
    built = {}
    outcomes = []
    for run, outputs in zip(config.runs, output_sets):
        with outputs:
            if run.network not in built:
                log(f"building {run.network.describe()}")
                built[run.network] = build_network(run.network)
                log(network_line(built[run.network], run.network.path))
            zones = zone_layers[(run.zones.path, run.zones.layer)]
            settings = run.settings if workers is None else run.settings.replace(workers=workers)
            progress = progress_factory(f"run {run.name}") if progress_factory else None
            result = run_centrality(
                built[run.network], zones, settings, id_col=run.zones.id_field, pop_col=run.zones.pop_field,
                jobs_col=run.zones.jobs_field, raster=run.zones.raster, group_col=run.group_col,
                keep_od=run.od is not None, progress=progress, should_stop=should_stop, executor=executor,
                services=run.services)
            outputs.rests_on.update({"network": run.network.describe(), "centrality": result.summary})
            group_geometry = None
            if run.group_polygons is not None:
                group_geometry = read_vector(run.group_polygons, what="group polygons layer")
            write_result(result, run.out, tables_dir=run.tables, od_parquet=run.od, group_geometry=group_geometry,
                         table_formats=run.table_formats, outputs=outputs)
            if extra_outputs is not None:
                extra_outputs(run, result, outputs)
            written = outputs.commit()
        log(f"run {run.name}: wrote {', '.join(str(p) for p in written)}")
        outcomes.append(RunOutcome(run=run, result=result, written=written))
    return outcomes


__all__ = ["BatchConfig", "NetworkSpec", "RunSpec", "ZonesSpec", "RunOutcome", "load_config", "parse_config",
           "network_spec", "build_network", "preflight", "run_batch", "run_outputs", "check_keys",
           "builder_options", "guess_format"]
