"""Services sub-index and SSB's full centrality index (MODEL.md §1.1).

SSB's index counts jobs 2/3 and services 1/3; the services part is "the number of *types* of
service function reachable within 90 minutes, decay-weighted". We compute, for zone i and
service type k,

    t_ik = min over locations l of type k of (access_i + network time i -> l + access_l)   [s]
    S_i  = sum over types k of w(t_ik / 60)          (w = the decay; 0 beyond the cutoff)

so a type counts once (through its nearest location), with the weight of the travel time to
it. ``services_<L>min`` is the plain number of types within L minutes. The services index is
``1000 · f(S_i) / f(S_ref)`` with the same transform and reference rule as the jobs index, and
the full index is ``w_jobs · index + w_services · services_index`` (default 2/3, 1/3). The
jobs-only index (*sentny*, column ``index``) that the attractiveness model uses is unchanged.

Travel times: one multi-source search per service type on the reversed network (from every
location of the type at once, each starting at its access time), so the cost is one search per
type, not per zone. The totals use the same rule as :func:`centrality.paths.od_times`
(inclusive cutoff, access at both ends).

Service locations come from any point layer with a type field (:func:`services_from_points`)
or from an OpenStreetMap extract (:func:`services_from_osm`, pyosmium) through the documented
tag mapping :data:`OSM_SERVICE_TYPES`. SSB's own list of service functions (from the business
register) is not published in the material we have; the OSM mapping is our proxy and every
output says so (``services_source``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from centrality.decay import parse_decay
from centrality.errors import InputError
from centrality.index import centrality_index
from centrality.network import CSR
from centrality.paths import node_times
from centrality.settings import CentralitySettings

#: OSM tags -> service type. A feature (node, or way/area at the mean of its node locations)
#: provides every type whose (key, value) it carries (a fuel station tagged shop=yes is also a
#: shop). Keys: amenity, shop, healthcare.
OSM_SERVICE_TYPES: dict[str, tuple[tuple[str, str], ...]] = {
    "grocery": (("shop", "supermarket"), ("shop", "convenience"), ("shop", "grocery"), ("shop", "greengrocer")),
    "pharmacy": (("amenity", "pharmacy"), ("healthcare", "pharmacy")),
    "doctor": (("amenity", "doctors"), ("healthcare", "doctor"), ("amenity", "clinic"), ("healthcare", "clinic")),
    "hospital": (("amenity", "hospital"), ("healthcare", "hospital")),
    "dentist": (("amenity", "dentist"), ("healthcare", "dentist")),
    "physiotherapy": (("healthcare", "physiotherapist"),),
    "optician": (("shop", "optician"), ("healthcare", "optometrist")),
    "nursing_home": (("amenity", "nursing_home"),),
    "kindergarten": (("amenity", "kindergarten"),),
    "school": (("amenity", "school"),),
    "higher_education": (("amenity", "university"), ("amenity", "college")),
    "library": (("amenity", "library"),),
    "cinema": (("amenity", "cinema"),),
    "theatre_arts": (("amenity", "theatre"), ("amenity", "arts_centre")),
    "bank": (("amenity", "bank"),),
    "post": (("amenity", "post_office"),),
    "police": (("amenity", "police"),),
    "town_hall": (("amenity", "townhall"),),
    "fuel": (("amenity", "fuel"),),
    "restaurant_cafe": (("amenity", "restaurant"), ("amenity", "cafe"), ("amenity", "fast_food")),
    "pub_bar": (("amenity", "pub"), ("amenity", "bar")),
    "veterinary": (("amenity", "veterinary"),),
    "place_of_worship": (("amenity", "place_of_worship"),),
    "alcohol_shop": (("shop", "alcohol"),),
    "bakery": (("shop", "bakery"),),
    "clothes_shoes": (("shop", "clothes"), ("shop", "shoes")),
    "hardware_diy": (("shop", "doityourself"), ("shop", "hardware")),
    "electronics": (("shop", "electronics"), ("shop", "mobile_phone"), ("shop", "computer")),
    "sports_shop": (("shop", "sports"),),
    "hairdresser": (("shop", "hairdresser"),),
    "car_sales_repair": (("shop", "car"), ("shop", "car_repair")),
    "department_store": (("shop", "department_store"), ("shop", "mall"), ("shop", "general"), ("shop", "variety_store"),
                         ("shop", "yes")),
}
OSM_SOURCE = "OpenStreetMap amenity/shop/healthcare tags mapped to service types (centrality.services.OSM_SERVICE_TYPES; a proxy for SSB's service functions)"


@dataclass
class ServiceLocations:
    """Service locations snapped to a network.

    Parameters
    ----------
    xy : numpy.ndarray
        (n, 2) coordinates in the network CRS, metres.
    types : numpy.ndarray
        Service type of every location.
    node : numpy.ndarray
        Nearest network node of every location.
    access_s : numpy.ndarray
        Access time from the location to its node, seconds.
    source : str
        Where the locations came from (shown in outputs).
    excluded : int, default 0
        Locations left out (farther than the snap distance from the network).
    type_list : list, optional
        The service types (default: the sorted distinct ``types``).
    """

    xy: np.ndarray
    types: np.ndarray
    node: np.ndarray
    access_s: np.ndarray
    source: str
    excluded: int = 0
    type_list: list = field(default_factory=list)

    def __post_init__(self):
        if not self.type_list:
            self.type_list = sorted(pd.unique(self.types).tolist())

    @property
    def counts(self) -> dict:
        """Number of locations per service type (dict).
        """
        return pd.Series(self.types).value_counts().reindex(self.type_list).fillna(0).astype(int).to_dict()


def _snap_points(xy: np.ndarray, network, access_speed_kmh: float, max_snap_m: float):
    from scipy.spatial import cKDTree

    dist, node = cKDTree(network.node_xy).query(xy)
    keep = dist <= max_snap_m
    return node.astype(np.int64), dist / (float(access_speed_kmh) / 3.6), keep


def _locations(xy, types, network, source, access_speed_kmh, max_snap_m) -> ServiceLocations:
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    types = np.asarray(types, dtype=object)
    if len(xy) == 0:
        raise InputError(f"no service locations found ({source}). Give a layer with service points.")
    node, access, keep = _snap_points(xy, network, access_speed_kmh, max_snap_m)
    if not keep.any():
        raise InputError(f"no service location lies within {max_snap_m:g} m of the network ({source}). Check that "
                         "the services and the roads cover the same area and CRS.")
    return ServiceLocations(xy[keep], types[keep], node[keep], access[keep], source, excluded=int((~keep).sum()))


def services_from_points(points, type_field: str, network, *, layer: str | None = None,
                         access_speed_kmh: float = 20.0, max_snap_m: float = 5000.0) -> ServiceLocations:
    """Service locations from a point layer with a service-type field.

    Parameters
    ----------
    points : geopandas.GeoDataFrame or path-like
        Points (other geometries are represented by a point inside them); reprojected to the
        network CRS.
    type_field : str
        Field with the service type; empty values are an error.
    network : RoadNetwork
        The network the points are snapped to (nearest node).
    layer : str, optional
        Layer of a multi-layer file.
    access_speed_kmh : float, default 20
        Speed on the straight line to the nearest node, km/h.
    max_snap_m : float, default 5000
        Points farther from every node are left out (and counted), metres.

    Returns
    -------
    ServiceLocations
    """
    if isinstance(points, (str, os.PathLike)):
        path = Path(points)
        if not path.exists():
            raise InputError(f"services layer '{path}' does not exist. Check the path.")
        points = gpd.read_file(path, layer=layer)
    if not isinstance(points, gpd.GeoDataFrame):
        raise InputError("services must be a point layer (GeoDataFrame or file).")
    if type_field not in points.columns:
        raise InputError(f"services layer has no field '{type_field}' (fields: {', '.join(map(str, points.columns))}). "
                         "Give the field with the service type (--service-type-field).")
    if points.crs is not None and str(points.crs) != str(network.crs):
        points = points.to_crs(network.crs)
    geom = points.geometry
    if not geom.geom_type.isin(["Point"]).all():
        geom = geom.representative_point()
    types = points[type_field]
    bad = types.isna() | (types.astype(str).str.strip() == "")
    if bad.any():
        raise InputError(f"{int(bad.sum())} service points have no '{type_field}' value. Fill or drop them.")
    xy = np.column_stack([geom.x.to_numpy(), geom.y.to_numpy()])
    return _locations(xy, types.astype(str).to_numpy(), network, f"point layer, type field '{type_field}'",
                      access_speed_kmh, max_snap_m)


def osm_service_points(path, mapping: Mapping[str, Sequence[tuple[str, str]]] = OSM_SERVICE_TYPES) -> pd.DataFrame:
    """Service features of an OSM file (pyosmium).

    Parameters
    ----------
    path : path-like
        ``.osm.pbf`` or ``.osm`` extract.
    mapping : mapping, default OSM_SERVICE_TYPES
        Service type -> (key, value) tags.

    Returns
    -------
    pandas.DataFrame
        Columns type, lon, lat (degrees, WGS84), osm_type, osm_id; a feature carrying the tags of
        several types gives one row per type; ways are placed at the mean of their nodes.
    """
    import osmium

    lookup = {}
    for service, tags in mapping.items():
        for k, v in tags:
            lookup.setdefault((k, v), service)
    keys = sorted({k for k, _ in lookup})
    rows: list = []

    def services_of(tags) -> list:
        found = []
        for k in keys:
            v = tags.get(k)
            if v is not None and (k, v) in lookup and lookup[(k, v)] not in found:
                found.append(lookup[(k, v)])
        return found

    class Handler(osmium.SimpleHandler):
        def node(self, n):
            if n.location.valid():
                for s in services_of(n.tags):
                    rows.append((s, n.location.lon, n.location.lat, "node", n.id))

        def way(self, w):
            found = services_of(w.tags)
            if not found:
                return
            pts = [(nd.lon, nd.lat) for nd in w.nodes if nd.location.valid()]
            if pts:
                lon, lat = np.mean(pts, axis=0)
                for s in found:
                    rows.append((s, float(lon), float(lat), "way", w.id))

    path = Path(path)
    if not path.exists():
        raise InputError(f"OSM file '{path}' does not exist. Check the path.")
    try:
        Handler().apply_file(str(path), locations=True)
    except RuntimeError as exc:
        raise InputError(f"cannot read OSM file '{path}': {exc}. Give a .osm.pbf or .osm extract.") from None
    return pd.DataFrame(rows, columns=["type", "lon", "lat", "osm_type", "osm_id"])


def services_from_osm(path, network, *, mapping: Mapping[str, Sequence[tuple[str, str]]] = OSM_SERVICE_TYPES,
                      access_speed_kmh: float = 20.0, max_snap_m: float = 5000.0) -> ServiceLocations:
    """Service locations from an OSM extract through the tag mapping.

    Parameters
    ----------
    path : path-like
        ``.osm.pbf`` or ``.osm`` extract.
    network : RoadNetwork
        The network the locations are snapped to.
    mapping : mapping, default OSM_SERVICE_TYPES
        Service type -> (key, value) tags.
    access_speed_kmh : float, default 20
        Speed to the nearest node, km/h.
    max_snap_m : float, default 5000
        Snap distance, metres.

    Returns
    -------
    ServiceLocations
    """
    df = osm_service_points(path, mapping)
    if df.empty:
        raise InputError(f"the OSM file '{Path(path).name}' has no amenity/shop/healthcare feature of the mapped "
                         "service types. Use another extract or a point layer of services.")
    x, y = Transformer.from_crs("EPSG:4326", network.crs, always_xy=True).transform(df["lon"].to_numpy(),
                                                                                    df["lat"].to_numpy())
    return _locations(np.column_stack([x, y]), df["type"].to_numpy(), network, OSM_SOURCE, access_speed_kmh,
                      max_snap_m)


def reversed_csr(csr):
    """The reversed directed graph.

    Parameters
    ----------
    csr : CSR
        Directed edges (edge a -> b).

    Returns
    -------
    CSR
        Edge b -> a for every edge a -> b, the same times (seconds).
    """
    n = len(csr.indptr) - 1
    tails = np.repeat(np.arange(n, dtype=np.int64), np.diff(csr.indptr))
    order = np.argsort(csr.head, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(csr.head, minlength=n), out=indptr[1:])
    return CSR(indptr=indptr, head=tails[order].astype(np.int32), time_s=np.asarray(csr.time_s)[order],
               link_pos=np.asarray(csr.link_pos)[order], forward=~np.asarray(csr.forward)[order])


def service_times(network, zones, services: ServiceLocations, cutoff_min: float = 90.0) -> pd.DataFrame:
    """Seconds from every zone to the nearest location of every service type.

    Parameters
    ----------
    network : RoadNetwork
        The network.
    zones : object
        ``.node``, ``.access_s`` (seconds) and optionally ``.ids`` per zone.
    services : ServiceLocations
        Snapped service locations.
    cutoff_min : float, default 90
        Longest total time kept (inclusive), minutes.

    Returns
    -------
    pandas.DataFrame
        One row per zone (index zone_id), one column per type; totals access_zone + network +
        access_location in seconds, inf beyond the cutoff.
    """
    cutoff_s = float(cutoff_min) * 60.0
    node = np.asarray(zones.node, dtype=np.int64)
    access = np.asarray(zones.access_s, dtype=np.float64)
    rev = getattr(network, "_reversed_csr_services", None)
    if rev is None:
        rev = reversed_csr(network.csr)
        network._reversed_csr_services = rev
    limit = cutoff_s - float(access.min()) + 1e-9 * max(1.0, cutoff_s)
    out = {}
    for k in services.type_list:
        sel = services.types == k
        t = node_times(rev, services.node[sel], cutoff_s=limit, source_offset_s=services.access_s[sel])
        total = access + t[node]
        out[k] = np.where(total <= cutoff_s, total, np.inf)
    index = pd.Index(np.asarray(getattr(zones, "ids", np.arange(len(node)))), name="zone_id")
    return pd.DataFrame(out, index=index)


def service_accessibility(times: pd.DataFrame, limits_min: Sequence[float] = (90,), decay=None) -> pd.DataFrame:
    """Number of service types reachable, plain and decay-weighted.

    Parameters
    ----------
    times : pandas.DataFrame
        :func:`service_times`.
    limits_min : sequence of float, default (90,)
        Time limits, minutes (inclusive).
    decay : Decay, str, dict or None
        The decay (default: exponential, weight 0.1 at 45 minutes, 0 beyond 90).

    Returns
    -------
    pandas.DataFrame
        ``services_<L>min`` (types within L minutes) and ``services_decay`` (sum over types of
        the decay of the time to the nearest location).
    """
    decay = parse_decay(decay)
    minutes = times.to_numpy() / 60.0
    cols = {f"services_{float(L):g}min": (minutes <= float(L)).sum(axis=1).astype(float) for L in limits_min}
    w = np.where(np.isfinite(minutes), decay(np.where(np.isfinite(minutes), minutes, 0.0)), 0.0)
    cols["services_decay"] = w.sum(axis=1)
    return pd.DataFrame(cols, index=times.index)


def full_index(jobs_index, services_index, services_weight: float = 1.0 / 3.0) -> np.ndarray:
    """SSB's full centrality index from the jobs and the services index.

    Parameters
    ----------
    jobs_index, services_index : array-like
        Index values 0–1000 of the same zones.
    services_weight : float or str, default 1/3
        Weight of the services index; the jobs index gets 1 - weight.

    Returns
    -------
    numpy.ndarray
        ``(1 - w) · jobs_index + w · services_index``.
    """
    w = parse_weight(services_weight)
    return (1.0 - w) * np.asarray(jobs_index, dtype=float) + w * np.asarray(services_index, dtype=float)


def parse_weight(value) -> float:
    """A services weight from a number or a fraction.

    Parameters
    ----------
    value : float or str
        E.g. 0.333 or "1/3".

    Returns
    -------
    float
        In [0, 1]; otherwise InputError.
    """
    try:
        if isinstance(value, str) and "/" in value:
            a, b = value.split("/", 1)
            w = float(a) / float(b)
        else:
            w = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        raise InputError(f"services weight {value!r} is not a number or fraction (e.g. 1/3 or 0.333).") from None
    if not 0.0 <= w <= 1.0:
        raise InputError(f"services weight must be between 0 and 1, got {value!r} (SSB: 1/3).")
    return w


def services_table(network, zones, services: ServiceLocations, settings=None, jobs_index=None,
                   services_weight: float = 1.0 / 3.0) -> tuple[pd.DataFrame, dict]:
    """Services columns of every zone, and the full index.

    Parameters
    ----------
    network : RoadNetwork
        The network.
    zones : object
        Snapped zones (``.node``, ``.access_s``, ``.ids``).
    services : ServiceLocations
        The service locations.
    settings : CentralitySettings, optional
        Cutoff, limits, decay, transform and reference zone (the same as for jobs).
    jobs_index : array-like, optional
        The jobs-only index of the same zones: adds ``index_full``.
    services_weight : float or str, default 1/3
        Weight of the services index in ``index_full``.

    Returns
    -------
    table : pandas.DataFrame
        ``services_<L>min``, ``services_decay``, ``services_index`` (1000 · f(S) / f(S_ref)) and
        ``index_full``.
    summary : dict
        Types, locations per type, source and weights (for the run summary).
    """
    settings = settings or CentralitySettings()
    times = service_times(network, zones, services, settings.cutoff_min)
    table = service_accessibility(times, settings.limits_min, settings.decay_function)
    ids = np.asarray(getattr(zones, "ids", np.arange(len(table))))
    values = table["services_decay"]
    if settings.reference_zone is not None:
        sidx = centrality_index(values.to_numpy(), transform=settings.transform, reference=settings.reference_zone,
                                ids=ids)
    else:
        sidx = centrality_index(values.to_numpy(), transform=settings.transform)
    table["services_index"] = sidx
    w = parse_weight(services_weight)
    if jobs_index is not None:
        table["index_full"] = full_index(jobs_index, sidx, w)
    summary = {"services_source": services.source, "service_types": len(services.type_list),
               "service_locations": int(len(services.types)), "service_locations_excluded": services.excluded,
               "services_weight": w, "jobs_weight": 1.0 - w,
               "service_counts": ", ".join(f"{k} {v}" for k, v in services.counts.items())}
    return table, summary


def load_services(path, network, type_field: str | None = None, *, layer: str | None = None,
                  access_speed_kmh: float = 20.0, max_snap_m: float = 5000.0) -> ServiceLocations:
    """Service locations from a file: an OSM extract or a point layer.

    Parameters
    ----------
    path : path-like
        ``.osm.pbf``/``.osm`` (tag mapping) or a point layer.
    network : RoadNetwork
        The network to snap to.
    type_field : str, optional
        Service type field of a point layer (required for one).
    layer : str, optional
        Layer of a multi-layer file.
    access_speed_kmh : float, default 20
        Speed to the nearest node, km/h.
    max_snap_m : float, default 5000
        Snap distance, metres.

    Returns
    -------
    ServiceLocations
    """
    p = Path(path)
    name = p.name.lower()
    if name.endswith((".pbf", ".osm", ".osm.bz2")):
        return services_from_osm(p, network, access_speed_kmh=access_speed_kmh, max_snap_m=max_snap_m)
    if not type_field:
        raise InputError(f"services layer '{p.name}' is not an OSM file: give the field with the service type "
                         "(--service-type-field).")
    return services_from_points(p, type_field, network, layer=layer, access_speed_kmh=access_speed_kmh,
                                max_snap_m=max_snap_m)


@dataclass(frozen=True)
class ServicesSpec:
    """Where a run's service locations come from (``regio centrality --services FILE``).

    Parameters
    ----------
    path : pathlib.Path
        An OSM extract, or a point layer with ``type_field``.
    type_field : str, optional
        Service type field of a point layer.
    layer : str, optional
        Layer of a multi-layer file.
    weight : float or str, default 1/3
        Services weight in the full index.
    """

    path: Path
    type_field: str | None = None
    layer: str | None = None
    weight: float = 1.0 / 3.0

    def check(self) -> None:
        """Fail fast, before any travel time: the file exists and, for a point layer, has the field.
        """
        p = Path(self.path)
        if not p.exists():
            raise InputError(f"services file '{p}' does not exist. Check the path (--services).")
        parse_weight(self.weight)
        if p.name.lower().endswith((".pbf", ".osm", ".osm.bz2")):
            return
        if not self.type_field:
            raise InputError(f"services layer '{p.name}' is not an OSM file: give the field with the service type "
                             "(--service-type-field).")
        import pyogrio   # not inside QGIS (qgis_plugin/install_deps.py): imported only for this check

        try:
            fields = list(pyogrio.read_info(p, layer=self.layer)["fields"])
        except Exception as exc:  # noqa: BLE001 - any reader error becomes a clear message
            raise InputError(f"cannot read services layer '{p}': {exc}. Give a point layer (GeoPackage, GeoJSON, ...).") \
                from None
        if self.type_field not in fields:
            raise InputError(f"services layer '{p.name}' has no field '{self.type_field}' (fields: {', '.join(fields)}). "
                             "Give the service type field (--service-type-field).")

    def load(self, network, settings) -> ServiceLocations:
        """Read and snap the locations.

        Parameters
        ----------
        network : RoadNetwork
            The run's network.
        settings : CentralitySettings
            Access speed and snap distance.

        Returns
        -------
        ServiceLocations
        """
        return load_services(self.path, network, self.type_field, layer=self.layer,
                             access_speed_kmh=settings.access_speed_kmh, max_snap_m=settings.max_snap_m)


def add_services(table: pd.DataFrame, network, zones, services, settings) -> tuple[pd.DataFrame, dict]:
    """A zone result with the services columns and the full index added.

    Parameters
    ----------
    table : pandas.DataFrame
        The zone result (in the zones' order) with the jobs-only ``index``.
    network : RoadNetwork
        The network.
    zones : object
        The snapped zones of ``table``.
    services : ServicesSpec or ServiceLocations
        The services.
    settings : CentralitySettings
        The run's settings.

    Returns
    -------
    table : pandas.DataFrame
        A copy with the :func:`services_table` columns.
    summary : dict
        Run-summary fields.
    """
    weight = getattr(services, "weight", 1.0 / 3.0)
    locations = services.load(network, settings) if isinstance(services, ServicesSpec) else services
    values, summary = services_table(network, zones, locations, settings, jobs_index=table["index"].to_numpy(),
                                     services_weight=weight)
    out = table.copy()
    for col in values.columns:
        out[col] = values[col].to_numpy()
    return out, summary
