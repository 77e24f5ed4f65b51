"""Road scenarios: definition (TOML + GeoJSON, or Python objects) and validation.

A scenario file holds one baseline (the network as given) and one or more *variants*; each
variant is a list of *edits* applied to the baseline's links table:

```toml
[scenario]
name = "E6 Trondheim–Levanger"
crs = "EPSG:25833"          # CRS of inline coordinates (bbox, polygon, line); default: the network's

[inputs]                    # optional: paths relative to this file (CLI options override them)
network = "network.gpkg"
zones = "zones.gpkg"

[impact]                    # optional, see geoproc.scenario.impact.ImpactOptions
start_year = 2025
end_year = 2040

[uncertainty]               # optional, see geoproc.scenario.sensitivity (decay/cutoff alternatives)
enabled = true

[report]                    # optional: focus kommuner of the headline, source line, notes
focus = ["5037"]
published = "well under ten extra residents a year"

[places]                    # optional: named zones for before/after travel times
Levanger = "5037"

[[variants]]
name = "e6"
opening_year = 2030
  [[variants.edits]]
  action = "set_speed"                  # set_speed | set_time | scale_time | close | add_link | ferry
  where = 'ref == "E6"'                 # pandas query on the links table
  bbox = [590000, 7020000, 640000, 7080000]
  speed_kmh = 110
```

Selection keys (all given keys must hold: they are combined with AND): ``ids`` (link ids),
``where`` (pandas query), ``bbox`` ([xmin, ymin, xmax, ymax]), ``polygon`` (inline ring
``[[x, y], ...]`` or a GeoJSON file), ``line`` (inline ``[[x, y], ...]`` or GeoJSON) with
``buffer_m`` (links within that distance of the line), ``predicate`` ("intersects", default, or
"within") for polygon/bbox. ``direction`` = "both" (default) | "forward" | "backward" limits
time edits to one direction of travel (forward = u → v).

Edit actions and their parameters (units in the key names):
- ``set_speed``: ``speed_kmh`` > 0 → time = length_m / speed.
- ``set_time``: ``time_s`` or ``time_min`` > 0, the new time of *each* selected link.
- ``scale_time``: ``factor`` > 0 multiplies current times (0.8 = 20 % faster).
- ``close``: the selected directions become NaN (not allowed).
- ``add_link``: ``line`` (inline or GeoJSON, its endpoints are snapped to the nearest existing
  node within ``snap_tolerance_m``, default 250 m), ``speed_kmh`` or ``time_min``/``time_s``,
  ``two_way`` (default true), optional ``name``, ``ref``.
- ``ferry``: selected links must be ``kind == "ferry"``; ``crossing_min`` > 0 and
  ``departures_per_hour`` > 0 give time = crossing + expected waiting, where the expected wait
  for a random arrival at a regular headway of 60/f minutes is half the headway: 60 / (2 f) min.

CRS policy (decided and documented): GeoJSON files carry their CRS (RFC 7946 GeoJSON without a
``crs`` member is WGS84); they are reprojected to the network's CRS. Inline coordinates are in
``[scenario] crs`` (default: the network's CRS) and reprojected likewise. After reprojection every
geometry must lie within the network's extent (plus a margin of 10 % or 10 km); otherwise an
InputError says the coordinates are probably in another CRS than declared. Nothing is computed
before every variant validates.

Validation (:func:`resolve`) happens before any computation and raises
:class:`centrality.errors.InputError` for unknown keys, unknown link ids (listed), empty
selections, non-positive speeds/times/factors, geometries outside the network / in the wrong CRS,
two edits of one variant touching the same link (the ids are named), and edits whose travel
times imply implausible speeds: ``speed_kmh`` outside 1–150 km/h, and ``set_time``,
``scale_time``, ``ferry`` (and ``add_link`` with a time) giving links of at least 200 m car speeds
outside 1–150 km/h or ferry speeds outside 1–80 km/h (the thresholds of
:mod:`centrality.plausibility`, as for networks; :func:`geoproc.scenario.edits.check_edit_speeds`).
``allow_implausible_speeds = true`` in an edit accepts its speeds.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from shapely import union_all
from shapely.geometry import LineString, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import linemerge

from centrality.crs import same_crs
from centrality.errors import InputError, check_keys
from centrality.fileio import read_toml, read_vector
from centrality.plausibility import Plausibility
from geoproc.scenario.edits import TIME_ACTIONS, check_edit_speeds

ACTIONS = ("set_speed", "set_time", "scale_time", "close", "add_link", "ferry")
SELECT_KEYS = ("ids", "where", "bbox", "polygon", "line", "buffer_m", "predicate", "direction")
PARAM_KEYS = {
    "set_speed": ("speed_kmh", "allow_implausible_speeds"),
    "set_time": ("time_s", "time_min", "allow_implausible_speeds"),
    "scale_time": ("factor", "allow_implausible_speeds"),
    "close": (),
    "add_link": ("line", "speed_kmh", "time_s", "time_min", "two_way", "snap_tolerance_m", "name", "ref",
                 "allow_implausible_speeds"),
    "ferry": ("crossing_min", "departures_per_hour", "allow_implausible_speeds"),
}
DIRECTIONS = ("both", "forward", "backward")
TOP_KEYS = ("scenario", "inputs", "impact", "places", "variants", "centrality", "uncertainty", "report")
IMPACT_FILE_KEYS = ("population_by_age_sex", "population_path", "regions", "data_dir")
REPORT_KEYS = ("focus", "data_source", "illustrative", "published")
VARIANT_KEYS = ("name", "description", "opening_year", "edits")
DEFAULT_SNAP_TOLERANCE_M = 250.0


@dataclass(frozen=True)
class Selection:
    """Which links an edit touches; every given criterion must hold (AND)."""

    ids: tuple[int, ...] | None = None
    where: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    polygon: Any = None          # shapely Polygon (in `geom_crs`) or path to GeoJSON
    line: Any = None             # shapely LineString (in `geom_crs`) or path to GeoJSON
    buffer_m: float | None = None
    predicate: str = "intersects"
    direction: str = "both"

    def is_empty(self) -> bool:
        """Whether no selection criterion is given.

        Returns
        -------
        bool
        """
        return all(v is None for v in (self.ids, self.where, self.bbox, self.polygon, self.line))


@dataclass(frozen=True)
class Edit:
    """One edit of a variant. Units: km/h, seconds, minutes, metres (see module docstring)."""

    action: str
    select: Selection = field(default_factory=Selection)
    speed_kmh: float | None = None
    time_s: float | None = None
    factor: float | None = None
    line: Any = None                   # add_link geometry
    two_way: bool = True
    snap_tolerance_m: float = DEFAULT_SNAP_TOLERANCE_M
    crossing_min: float | None = None
    departures_per_hour: float | None = None
    name: str | None = None
    ref: str | None = None
    label: str = ""
    allow_implausible_speeds: bool = False   # speeds outside centrality.plausibility's range accepted

    @property
    def ferry_time_s(self) -> float:
        """Crossing time plus expected waiting 60/(2·departures per hour) minutes, in seconds."""
        return (float(self.crossing_min) + 60.0 / (2.0 * float(self.departures_per_hour))) * 60.0


@dataclass
class Variant:
    name: str
    edits: list[Edit]
    description: str = ""
    opening_year: int | None = None


@dataclass
class ScenarioSet:
    """A parsed scenario file: variants plus optional inputs, impact options and named places."""

    name: str
    variants: list[Variant]
    geom_crs: str | None = None       # CRS of inline coordinates (None = the network's)
    inputs: dict = field(default_factory=dict)
    impact: dict = field(default_factory=dict)
    centrality: dict = field(default_factory=dict)
    places: dict = field(default_factory=dict)
    base_dir: Path = field(default_factory=Path.cwd)
    uncertainty: dict = field(default_factory=dict)   # [uncertainty]: sensitivity runs (geoproc.scenario.sensitivity)
    report: dict = field(default_factory=dict)        # [report]: focus (unit ids), data_source, illustrative


# --------------------------------------------------------------------------------------- parsing
def _positive(value, key: str, where: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{where}: '{key}' must be a number, got {value!r}.") from None
    if not np.isfinite(x) or x <= 0:
        raise InputError(f"{where}: '{key}' must be a positive number, got {value!r}. "
                         "Use action = \"close\" to forbid travel on links.")
    return x


def _parse_selection(d: dict, where: str) -> Selection:
    ids = d.get("ids")
    if ids is not None:
        if isinstance(ids, (int, np.integer)):
            ids = [ids]
        try:
            ids = tuple(int(i) for i in ids)
        except (TypeError, ValueError):
            raise InputError(f"{where}: 'ids' must be a list of integer link ids, got {ids!r}.") from None
        if not ids:
            raise InputError(f"{where}: 'ids' is an empty list. List at least one link id.")
    bbox = d.get("bbox")
    if bbox is not None:
        if len(bbox) != 4 or not (bbox[0] < bbox[2] and bbox[1] < bbox[3]):
            raise InputError(f"{where}: 'bbox' must be [xmin, ymin, xmax, ymax] with xmin < xmax and ymin < ymax, got {bbox!r}.")
        bbox = tuple(float(b) for b in bbox)
    buffer_m = d.get("buffer_m")
    if d.get("line") is not None and buffer_m is None:
        raise InputError(f"{where}: a 'line' selection needs 'buffer_m' (metres), e.g. buffer_m = 100.")
    if buffer_m is not None:
        if d.get("line") is None:
            raise InputError(f"{where}: 'buffer_m' needs a 'line' to buffer.")
        buffer_m = _positive(buffer_m, "buffer_m", where)
    predicate = d.get("predicate", "intersects")
    if predicate not in ("intersects", "within"):
        raise InputError(f"{where}: 'predicate' must be \"intersects\" or \"within\", got {predicate!r}.")
    direction = d.get("direction", "both")
    if direction not in DIRECTIONS:
        raise InputError(f"{where}: 'direction' must be one of {', '.join(DIRECTIONS)}, got {direction!r}.")
    where_expr = d.get("where")
    if where_expr is not None and (not isinstance(where_expr, str) or not where_expr.strip()):
        raise InputError(f"{where}: 'where' must be a non-empty pandas query string such as 'ref == \"E6\"'.")
    return Selection(ids=ids, where=where_expr, bbox=bbox, polygon=d.get("polygon"), line=d.get("line"),
                     buffer_m=buffer_m, predicate=predicate, direction=direction)


def parse_edit(d: dict, where: str = "edit") -> Edit:
    """Build an :class:`Edit` from a TOML/dict table, checking keys and values.

    Parameters
    ----------
    d : dict
        The ``[[variants.edits]]`` table (keys in the module docstring; units in the key names).
    where : str
        Where it is, for messages.

    Returns
    -------
    Edit
    """
    if not isinstance(d, dict):
        raise InputError(f"{where}: an edit must be a table with an 'action' key, got {d!r}.")
    action = d.get("action")
    if action not in ACTIONS:
        close = difflib.get_close_matches(str(action), ACTIONS, n=1)
        raise InputError(f"{where}: unknown action {action!r}" + (f" (did you mean '{close[0]}'?)" if close else "")
                         + f"; use one of {', '.join(ACTIONS)}.")
    allowed = ("action", "label") + PARAM_KEYS[action] + (SELECT_KEYS if action != "add_link" else ())
    check_keys(list(d), allowed, f"{where} (action {action!r})")
    kw: dict[str, Any] = {"action": action, "label": str(d.get("label", "")),
                          "allow_implausible_speeds": bool(d.get("allow_implausible_speeds", False))}
    limits = Plausibility.from_value(None, allow_implausible_speeds=kw["allow_implausible_speeds"] or None)
    if action != "add_link":
        kw["select"] = _parse_selection(d, where)
        if kw["select"].is_empty():
            raise InputError(f"{where}: action {action!r} selects no links. Give ids, where, bbox, polygon or line + buffer_m.")
    if action == "set_speed":
        if "speed_kmh" not in d:
            raise InputError(f"{where}: set_speed needs 'speed_kmh'.")
        kw["speed_kmh"] = _positive(d["speed_kmh"], "speed_kmh", where)
        _check_edit_speed(kw["speed_kmh"], limits, where)
    elif action == "set_time":
        kw["time_s"] = _time_s(d, where, "set_time")
    elif action == "scale_time":
        if "factor" not in d:
            raise InputError(f"{where}: scale_time needs 'factor' (0.8 = times 20 % shorter).")
        kw["factor"] = _positive(d["factor"], "factor", where)
    elif action == "ferry":
        for key in ("crossing_min", "departures_per_hour"):
            if key not in d:
                raise InputError(f"{where}: ferry needs 'crossing_min' and 'departures_per_hour'.")
            kw[key] = _positive(d[key], key, where)
    elif action == "add_link":
        if d.get("line") is None:
            raise InputError(f"{where}: add_link needs 'line' (inline [[x, y], ...] or a GeoJSON file).")
        kw["line"] = d["line"]
        if "speed_kmh" in d:
            kw["speed_kmh"] = _positive(d["speed_kmh"], "speed_kmh", where)
            _check_edit_speed(kw["speed_kmh"], limits, where)
        else:
            kw["time_s"] = _time_s(d, where, "add_link (or give speed_kmh)")
        kw["two_way"] = bool(d.get("two_way", True))
        kw["snap_tolerance_m"] = _positive(d.get("snap_tolerance_m", DEFAULT_SNAP_TOLERANCE_M), "snap_tolerance_m", where)
        kw["name"] = d.get("name")
        kw["ref"] = d.get("ref")
    return Edit(**kw)


def _check_edit_speed(speed_kmh: float, limits: Plausibility, where: str) -> None:
    """InputError for a speed outside the plausible car range (centrality.plausibility), e.g. 50000."""
    lo, hi = limits.car_speed_kmh
    if not limits.allow_implausible_speeds and not lo <= speed_kmh <= hi:
        shown = f"{speed_kmh:,.0f}".replace(",", " ")
        raise InputError(f"{where}: speed_kmh = {shown} km/h is outside the plausible {lo:g}–{hi:g} km/h for cars "
                         "(centrality.plausibility); give the speed in km/h (e.g. 110 for a motorway). If it is real, "
                         "add allow_implausible_speeds = true to this edit.")


def _time_s(d: dict, where: str, what: str) -> float:
    if ("time_s" in d) == ("time_min" in d):
        raise InputError(f"{where}: {what} needs exactly one of 'time_s' or 'time_min'.")
    if "time_s" in d:
        return _positive(d["time_s"], "time_s", where)
    return 60.0 * _positive(d["time_min"], "time_min", where)


def parse_variant(d: dict, where: str = "variant") -> Variant:
    """Build a :class:`Variant` from a ``[[variants]]`` table.

    Parameters
    ----------
    d : dict
        name, description, opening_year (int), edits (list of tables).
    where : str
        Where it is, for messages.

    Returns
    -------
    Variant
    """
    if not isinstance(d, dict):
        raise InputError(f"{where}: a variant must be a table with 'name' and 'edits'.")
    check_keys(list(d), VARIANT_KEYS, where)
    name = d.get("name")
    if not name or not isinstance(name, str):
        raise InputError(f"{where}: every variant needs a 'name' (text).")
    edits = d.get("edits") or []
    if not edits:
        raise InputError(f"variant '{name}': has no edits. Add at least one [[variants.edits]] table.")
    opening = d.get("opening_year")
    if opening is not None and (not isinstance(opening, int) or isinstance(opening, bool)):
        raise InputError(f"variant '{name}': opening_year must be an integer year, got {opening!r}.")
    parsed = [parse_edit(e, f"variant '{name}', edit {i + 1}") for i, e in enumerate(edits)]
    return Variant(name=name, edits=parsed, description=str(d.get("description", "")), opening_year=opening)


def parse_scenarios(data: dict, base_dir: str | Path = ".") -> ScenarioSet:
    """Parse a scenario dictionary (as read from TOML).

    Parameters
    ----------
    data : dict
        The document ([scenario], [inputs], [impact], [centrality], [places], [[variants]]).
    base_dir : path-like
        Folder relative paths are relative to.

    Returns
    -------
    ScenarioSet

    Raises
    ------
    InputError
        On bad structure (unknown keys, no variants, duplicate or reserved names, bad values).
    """
    check_keys(list(data), TOP_KEYS, "scenario file")
    head = data.get("scenario", {})
    check_keys(list(head), ("name", "crs", "description"), "[scenario]")
    check_keys(list(data.get("inputs", {})), ("network", "network_layer", "zones", "zones_layer"), "[inputs]")
    variants = data.get("variants") or []
    if not variants:
        raise InputError("scenario file has no [[variants]]. Add at least one variant with edits.")
    parsed = [parse_variant(v, f"variant {i + 1}") for i, v in enumerate(variants)]
    names = [v.name for v in parsed]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"variant names must be unique; repeated: {', '.join(dup)}.")
    if "baseline" in names:
        raise InputError("'baseline' is reserved for the unedited network; rename that variant.")
    places = {str(k): v for k, v in data.get("places", {}).items()}
    report = dict(data.get("report", {}))
    check_keys(list(report), REPORT_KEYS, "[report]")
    if isinstance(report.get("focus"), (str, int)):
        report["focus"] = [report["focus"]]
    return ScenarioSet(name=str(head.get("name", "scenario")), variants=parsed, geom_crs=head.get("crs"),
                       inputs=dict(data.get("inputs", {})), impact=_impact_paths(data.get("impact", {}), base_dir),
                       centrality=dict(data.get("centrality", {})), places=places, base_dir=Path(base_dir),
                       uncertainty=dict(data.get("uncertainty", {})), report=report)


def _impact_paths(impact: dict, base_dir: str | Path) -> dict:
    """[impact] with file paths (population_by_age_sex, population_path, regions, data_dir) made
    relative to the scenario file's folder."""
    out = dict(impact)
    for key in IMPACT_FILE_KEYS:
        value = out.get(key)
        if isinstance(value, str) and value and not Path(value).is_absolute():
            out[key] = str(Path(base_dir) / value)
    return out


def load_scenarios(path: str | Path) -> ScenarioSet:
    """Read a scenario TOML file (GeoJSON paths inside it are relative to the file).

    Parameters
    ----------
    path : path-like
        The TOML file.

    Returns
    -------
    ScenarioSet
    """
    path = Path(path)
    data = read_toml(path, "scenario file")
    return parse_scenarios(data, base_dir=path.parent)


# ------------------------------------------------------------------------------------ resolution
@dataclass
class ResolvedEdit:
    """An edit with its selection resolved to link ids (or, for add_link, its snapped endpoints)."""

    edit: Edit
    link_ids: np.ndarray                       # int64, selected existing links (empty for add_link)
    new_link: dict | None = None               # add_link: u, v, geometry (network CRS), length_m


@dataclass
class ResolvedVariant:
    name: str
    edits: list[ResolvedEdit]
    opening_year: int | None = None
    description: str = ""

    @property
    def edited_link_ids(self) -> np.ndarray:
        """Sorted unique ids of the existing links the variant edits (int64)."""
        ids = [e.link_ids for e in self.edits if len(e.link_ids)]
        return np.unique(np.concatenate(ids)) if ids else np.empty(0, dtype=np.int64)


def _extent(network, margin_frac: float = 0.1, margin_min_m: float = 10_000.0):
    x0, y0 = network.node_xy.min(axis=0)
    x1, y1 = network.node_xy.max(axis=0)
    m = max(margin_min_m, margin_frac * max(x1 - x0, y1 - y0))
    return x0 - m, y0 - m, x1 + m, y1 + m


class _GeomResolver:
    """Turns inline coordinates / GeoJSON paths into shapely geometries in the network CRS."""

    def __init__(self, network, geom_crs: str | None, base_dir: Path):
        self.network = network
        self.geom_crs = geom_crs or network.crs
        self.base_dir = base_dir
        self.extent = _extent(network)

    def _check_extent(self, geom, where: str, source: str):
        if geom.is_empty:
            raise InputError(f"{where}: the geometry from {source} is empty.")
        b = geom.bounds
        if not box(*self.extent).contains(box(*b)) or not np.all(np.isfinite(b)):
            e = self.extent
            raise InputError(
                f"{where}: the geometry from {source} (bounds {tuple(round(v, 1) for v in b)}) lies outside the "
                f"network's extent ({', '.join(f'{v:.0f}' for v in e)}) in {self.network.crs}. Its coordinates are "
                f"probably in another CRS than declared: set [scenario] crs to the CRS of inline coordinates "
                "(e.g. \"EPSG:4326\" for lon/lat) or give the GeoJSON file a correct CRS.")
        return geom

    def _reproject(self, geom, src_crs):
        if same_crs(src_crs, self.network.crs):
            return geom
        try:
            return gpd.GeoSeries([geom], crs=src_crs).to_crs(self.network.crs).iloc[0]
        except Exception as exc:  # pyproj errors
            raise InputError(f"cannot reproject scenario geometry from {src_crs} to {self.network.crs}: {exc}.") from None

    def geometry(self, spec, kind: str, where: str):
        """``spec``: inline coordinates, a bbox tuple, a shapely geometry or a GeoJSON path."""

        if isinstance(spec, BaseGeometry):
            return self._check_extent(self._reproject(spec, self.geom_crs), where, "the given geometry")
        if isinstance(spec, (str, Path)):
            return self._from_file(Path(spec), kind, where)
        try:
            if kind == "bbox":
                geom = box(*spec)
            elif kind == "polygon":
                geom = Polygon(spec)
            else:
                geom = LineString(spec)
        except Exception as exc:
            raise InputError(f"{where}: cannot make a {kind} from {spec!r}: {exc}. Give [[x, y], [x, y], ...].") from None
        if not geom.is_valid:
            raise InputError(f"{where}: the inline {kind} is not a valid geometry (self-intersecting or too few points).")
        return self._check_extent(self._reproject(geom, self.geom_crs), where, f"the inline {kind}")

    def _from_file(self, path: Path, kind: str, where: str):
        if not path.is_absolute():
            path = self.base_dir / path
        gdf = read_vector(path, what=f"{where}: {kind} file")
        if gdf.crs is None:
            raise InputError(f"{where}: {path} has no CRS. Add one (GeoJSON without a 'crs' member is read as EPSG:4326).")
        want = ("Polygon", "MultiPolygon") if kind == "polygon" else ("LineString", "MultiLineString")
        types = set(gdf.geom_type.dropna())
        if not types <= set(want):
            raise InputError(f"{where}: {path} holds {', '.join(sorted(types))}; a {kind} needs {' or '.join(want)} features.")
        try:
            bounds = gdf.total_bounds
            if gdf.crs.is_geographic and (abs(bounds[[0, 2]]).max() > 180 or abs(bounds[[1, 3]]).max() > 90):
                raise InputError(
                    f"{where}: {path} declares {gdf.crs.to_string()} (degrees) but its coordinates "
                    f"({', '.join(f'{b:.0f}' for b in bounds)}) are not degrees. GeoJSON without a 'crs' member is "
                    "read as WGS84 lon/lat: write the file in EPSG:4326 or add its real CRS.")
            geom = union_all(gdf.to_crs(self.network.crs).geometry.values)
        except InputError:
            raise
        except Exception as exc:
            raise InputError(f"{where}: cannot reproject {path} from {gdf.crs} to {self.network.crs}: {exc}.") from None
        if kind == "line" and geom.geom_type == "MultiLineString":
            geom = linemerge(geom)
        return self._check_extent(geom, where, str(path))


def _select(links, sel: Selection, geo: _GeomResolver, where: str) -> np.ndarray:
    """Link ids (sorted int64) matching every criterion of ``sel``."""
    mask = np.ones(len(links), dtype=bool)
    index = links.index.to_numpy()
    if sel.ids is not None:
        ids = np.asarray(sel.ids, dtype=np.int64)
        unknown = np.setdiff1d(ids, index)
        if len(unknown):
            shown = ", ".join(str(i) for i in unknown[:20]) + (" ..." if len(unknown) > 20 else "")
            raise InputError(f"{where}: unknown link id(s) {shown} ({len(unknown)} of {len(ids)} not in the network). "
                             "Check the ids against the network's link_id column.")
        mask &= np.isin(index, ids)
    if sel.where is not None:
        mask &= _query_mask(links, sel.where, where)
    shapes = []
    if sel.bbox is not None:
        shapes.append((geo.geometry(sel.bbox, "bbox", where), sel.predicate))
    if sel.polygon is not None:
        shapes.append((geo.geometry(sel.polygon, "polygon", where), sel.predicate))
    if sel.line is not None:
        shapes.append((geo.geometry(sel.line, "line", where).buffer(sel.buffer_m), "intersects"))
    for shape, predicate in shapes:
        hit = np.zeros(len(links), dtype=bool)
        hit[links.sindex.query(shape, predicate="contains" if predicate == "within" else "intersects")] = True
        mask &= hit
    chosen = np.sort(index[mask]).astype(np.int64)
    if len(chosen) == 0:
        raise InputError(f"{where}: the selection matches no links. Check the ids/expression/geometry "
                         "(and that geometries are in the right CRS).")
    return chosen


def _query_mask(links, expr: str, where: str) -> np.ndarray:
    """Links matching the pandas query ``expr``, always evaluated with pandas' "python" engine.

    One engine, chosen explicitly: it supports everything a user may write (``.str`` methods,
    ``in`` lists, comparisons of text columns), so an expression never silently changes meaning
    by falling back from one engine to another.
    """
    cols = [c for c in links.columns if c != links.geometry.name]
    frame = pd.DataFrame(links[cols])
    try:
        res = frame.query(expr, engine="python")
    except Exception as exc:
        raise InputError(f"{where}: cannot evaluate where = {expr!r}: {exc}. Available link columns: "
                         f"{', '.join(map(str, cols))}. Quote text values, e.g. ref == \"E6\".") from None
    return links.index.isin(res.index)


def _snap_endpoint(network, xy, tol: float, where: str) -> int:
    tree = getattr(network, "_scenario_kdtree", None)
    if tree is None:                           # built once per network (as cached_reversed_csr)
        tree = network._scenario_kdtree = cKDTree(network.node_xy)
    dist, node = tree.query(xy)
    if dist > tol:
        raise InputError(f"{where}: new link endpoint ({xy[0]:.0f}, {xy[1]:.0f}) is {dist:.0f} m from the nearest "
                         f"network node (tolerance {tol:.0f} m). Move the endpoint onto the road network or raise "
                         "snap_tolerance_m.")
    return int(node)


def _resolve_new_link(network, edit: Edit, geo: _GeomResolver, where: str) -> dict:
    line = geo.geometry(edit.line, "line", where)
    if line.geom_type != "LineString":
        raise InputError(f"{where}: add_link needs one connected line; got {line.geom_type}.")
    coords = np.asarray(line.coords)[:, :2]
    u = _snap_endpoint(network, coords[0], edit.snap_tolerance_m, where)
    v = _snap_endpoint(network, coords[-1], edit.snap_tolerance_m, where)
    if u == v:
        raise InputError(f"{where}: both ends of the new link snap to the same node {u}; draw it between two different nodes.")
    snapped = LineString(np.vstack([network.node_xy[u], coords[1:-1], network.node_xy[v]]))
    return {"u": u, "v": v, "geometry": snapped, "length_m": float(snapped.length)}


def resolve_variant(variant: Variant, network, geom_crs: str | None = None, base_dir: str | Path = ".") -> ResolvedVariant:
    """Resolve every edit's selection against ``network`` and check for overlaps.

    Parameters
    ----------
    variant : Variant
        The variant.
    network : centrality.network.RoadNetwork
        The baseline network.
    geom_crs : str, optional
        CRS of inline coordinates (default: the network's).
    base_dir : path-like
        Folder GeoJSON paths are relative to.

    Returns
    -------
    ResolvedVariant

    Raises
    ------
    InputError
        Naming the variant, the edit and the link ids, before anything is computed.
    """
    geo = _GeomResolver(network, geom_crs, Path(base_dir))
    links = network.links
    resolved: list[ResolvedEdit] = []
    for i, edit in enumerate(variant.edits):
        where = f"variant '{variant.name}', edit {i + 1} ({edit.label or edit.action})"
        if edit.action == "add_link":
            new_link = _resolve_new_link(network, edit, geo, where)
            _check_new_link_speed(new_link, edit, where)
            resolved.append(ResolvedEdit(edit, np.empty(0, dtype=np.int64), new_link))
            continue
        ids = _select(links, edit.select, geo, where)
        if edit.action == "ferry":
            kinds = links.loc[ids, "kind"].astype(str).to_numpy() if "kind" in links.columns else np.array(["?"] * len(ids))
            not_ferry = ids[kinds != "ferry"]
            if len(not_ferry):
                raise InputError(f"{where}: ferry edits apply to ferry links only; link(s) "
                                 f"{', '.join(map(str, not_ferry[:20]))} are not kind == \"ferry\". Narrow the selection "
                                 "(e.g. add where = 'kind == \"ferry\"').")
        if edit.action in TIME_ACTIONS:
            check_edit_speeds(links, ids, edit, where)       # implied speeds plausible (issue 13)
        resolved.append(ResolvedEdit(edit, ids))
    _check_overlaps(variant.name, resolved)
    return ResolvedVariant(variant.name, resolved, variant.opening_year, variant.description)


def _check_new_link_speed(new_link: dict, edit: Edit, where: str, limits: Plausibility | None = None) -> None:
    """InputError when a new link's time_min/time_s implies a car speed outside the plausible range."""
    limits = limits or Plausibility.from_value(None)
    if edit.speed_kmh or edit.allow_implausible_speeds or new_link["length_m"] < limits.min_checked_length_m:
        return
    speed = new_link["length_m"] / float(edit.time_s) * 3.6
    lo, hi = limits.car_speed_kmh
    if not lo <= speed <= hi:
        shown = f"{speed:,.0f}".replace(",", " ") if speed >= 100 else f"{speed:.3g}"
        length = f"{new_link['length_m']:,.0f}".replace(",", " ")
        raise InputError(f"{where}: the new link is {length} m long, so its time of {float(edit.time_s) / 60:.3g} min "
                         f"implies {shown} km/h, outside the plausible {lo:g}–{hi:g} km/h for cars. Check "
                         "time_min/time_s (or give speed_kmh). If it is real, add allow_implausible_speeds = true "
                         "to this edit.")


def _check_overlaps(name: str, edits: list[ResolvedEdit]) -> None:
    seen: dict[int, int] = {}
    for i, e in enumerate(edits):
        for lid in e.link_ids.tolist():
            if lid in seen:
                both = [int(x) for x in np.intersect1d(edits[seen[lid]].link_ids, e.link_ids)]
                shown = ", ".join(map(str, both[:20])) + (" ..." if len(both) > 20 else "")
                raise InputError(f"variant '{name}': edits {seen[lid] + 1} and {i + 1} both touch link(s) {shown}. "
                                 "One edit per link: narrow one of the selections or merge the edits.")
            seen[lid] = i


def resolve(scenarios: ScenarioSet, network) -> list[ResolvedVariant]:
    """Resolve all variants of ``scenarios`` against ``network`` (validation before computation).

    Parameters
    ----------
    scenarios : ScenarioSet
    network : centrality.network.RoadNetwork

    Returns
    -------
    list of ResolvedVariant
    """
    return [resolve_variant(v, network, scenarios.geom_crs, scenarios.base_dir) for v in scenarios.variants]
