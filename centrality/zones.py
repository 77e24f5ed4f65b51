"""Zones: points with population and jobs, snapped to the road network.

- :func:`load_zones` reads a zone layer (points or polygons) into points in a metric CRS.
  Polygons become their **population-weighted centroid** when a population raster is given
  (weighted mean of the centres of the raster cells whose centre lies in the polygon), else
  their ``representative_point`` (always inside the polygon, unlike the centroid).
- :func:`zones_from_raster` turns a population grid (e.g. SSB 250 m / 1 km rutenett) into zones.
- :func:`snap_zones` attaches every zone to its nearest network node; zones farther than
  ``max_snap_m`` are excluded **and reported** in ``Zones.excluded`` with their population and
  jobs (:meth:`Zones.exclusion` gives the shares of the totals); when they hold more than
  ``max_excluded_share`` of the population or of the jobs it is an error, because their jobs
  would vanish from everyone's accessibility.

Defaults (access speed, snap distance, allowed share) come from
:class:`centrality.settings.CentralitySettings`. Units: metres, seconds, km/h; shares are fractions.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from centrality.builders import ids_text
from centrality.crs import to_metric
from centrality.errors import InputError, require_columns
from centrality.fileio import read_vector
from centrality.plausibility import check_zone_totals
from centrality.settings import CentralitySettings

log = logging.getLogger(__name__)

__all__ = ["Zones", "load_zones", "zones_from_raster", "snap_zones", "raster_weighted_centroids", "exclusion_summary",
           "validate_zone_table", "EXCLUDED_COLUMNS"]

CENTROID_COL = "centroid_method"  # how each zone point was obtained


@dataclass
class Zones:
    """Zones snapped to a network (arrays aligned with ``table`` rows)."""

    ids: np.ndarray              # zone ids as given (object or int)
    xy: np.ndarray               # (n, 2) metres in the network CRS
    population: np.ndarray       # float64
    jobs: np.ndarray             # float64
    node: np.ndarray             # int64 snapped network node
    access_s: np.ndarray         # float64 seconds from zone point to node (distance / access speed)
    snap_m: np.ndarray           # float64 snap distance, metres
    table: gpd.GeoDataFrame      # the included zones with all their original attributes (same order)
    excluded: pd.DataFrame       # id, reason, snap_m, population, jobs – reported, never silently dropped

    def __len__(self) -> int:
        return len(self.ids)

    def exclusion(self) -> dict:
        """How much the excluded zones hold.

        Returns
        -------
        dict
            See :func:`exclusion_summary` (counts, persons, jobs, shares as fractions).
        """
        return exclusion_summary(self.excluded, float(np.sum(self.population)), float(np.sum(self.jobs)))


EXCLUDED_COLUMNS = ("id", "reason", "snap_m", "population", "jobs")


def exclusion_summary(excluded: pd.DataFrame, included_population: float, included_jobs: float) -> dict:
    """Number, population and jobs of the excluded zones and their shares of the totals.

    Parameters
    ----------
    excluded : pandas.DataFrame
        The excluded zones with ``population`` and ``jobs`` columns (persons, jobs).
    included_population, included_jobs : float
        Totals of the zones that were kept (persons, jobs).

    Returns
    -------
    dict
        ``n_excluded``, ``excluded_population`` (persons), ``excluded_jobs``,
        ``excluded_population_share`` and ``excluded_jobs_share`` (fractions of the totals of
        all zones; 0 when the total is 0).
    """
    pop = float(excluded["population"].sum()) if len(excluded) else 0.0
    jobs = float(excluded["jobs"].sum()) if len(excluded) else 0.0
    total_pop, total_jobs = included_population + pop, included_jobs + jobs
    return {"n_excluded": int(len(excluded)), "excluded_population": pop, "excluded_jobs": jobs,
            "excluded_population_share": pop / total_pop if total_pop > 0 else 0.0,
            "excluded_jobs_share": jobs / total_jobs if total_jobs > 0 else 0.0}


# --------------------------------------------------------------------------- validation
def validate_zone_table(gdf: pd.DataFrame, id_col: str, pop_col: str, jobs_col: str, what: str = "zones layer"):
    """Check the id, population and jobs columns of a zone table.

    Parameters
    ----------
    gdf : pandas.DataFrame
        The zones (a GeoDataFrame or plain table).
    id_col, pop_col, jobs_col : str
        Column names of the zone id, the residents (persons) and the jobs.
    what : str, default "zones layer"
        The layer, for messages.

    Returns
    -------
    pandas.DataFrame
        A copy with population and jobs as float64.

    Raises
    ------
    InputError
        For missing columns (with suggestions), NULL or duplicate ids, and NULL, non-numeric or
        negative population/jobs (naming the zones and the fix).
    """
    require_columns(gdf.columns, [id_col, pop_col, jobs_col], what,
                    "Give the id, population and jobs field names (case-sensitive).")
    ids = gdf[id_col]
    if ids.isna().any():
        raise InputError(f"{what}: {int(ids.isna().sum())} zones have an empty id in '{id_col}' (rows "
                         f"{ids_text(np.flatnonzero(ids.isna()))}). Give every zone an id.")
    dup = ids[ids.duplicated()].unique()
    if len(dup):
        raise InputError(f"{what}: zone ids in '{id_col}' are not unique: {ids_text(dup)} occur more than once. "
                         "Make the ids unique (or dissolve the duplicate zones).")
    out = gdf.copy()
    for col, label in ((pop_col, "population"), (jobs_col, "jobs")):
        values = pd.to_numeric(gdf[col], errors="coerce")
        text = values.isna() & gdf[col].notna()
        if text.any():
            raise InputError(f"{what}: {label} column '{col}' has non-numeric values in zones "
                             f"{ids_text(ids[text])}. Give numbers.")
        null = values.isna()
        if null.any():
            raise InputError(f"{what}: {label} column '{col}' is empty (NULL) for {int(null.sum())} zones: "
                             f"{ids_text(ids[null])}. Fill them (0 if there really are none).")
        neg = values < 0
        if neg.any():
            raise InputError(f"{what}: {label} column '{col}' is negative for zones {ids_text(ids[neg])}. "
                             f"{label.capitalize()} must be >= 0; fix the values.")
        out[col] = values.astype(np.float64)
    check_zone_totals(out[pop_col], pop_col=pop_col, what=what)
    return out


def _check_geometries(gdf: gpd.GeoDataFrame, id_col: str, what: str) -> None:
    geoms = gdf.geometry.values
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        raise InputError(f"{what}: {int(missing.sum())} zones have no geometry: "
                         f"{ids_text(gdf.loc[missing, id_col])}. Delete them or give them a point/polygon.")
    lines = np.isin(shapely.get_type_id(geoms), [1, 2, 5])
    if lines.any():
        raise InputError(f"{what} must contain points or polygons, but zones {ids_text(gdf.loc[lines, id_col])} "
                         "are lines. Give a point or polygon zone layer.")


# --------------------------------------------------------------------------- loading
def load_zones(path_or_gdf, *, id_col: str, pop_col: str, jobs_col: str, layer: str | None = None,
               raster: str | os.PathLike | None = None, crs: str | None = None) -> gpd.GeoDataFrame:
    """Zone points in a metric CRS with all attributes; population and jobs as float64.

    Parameters
    ----------
    path_or_gdf : path-like or geopandas.GeoDataFrame
        Points or polygons.
    id_col, pop_col, jobs_col : str
        Column names of the zone id, residents (persons) and jobs.
    layer : str, optional
        Layer of a multi-layer file.
    raster : path-like, optional
        Population GeoTIFF: polygons become their population-weighted centroid
        (``centroid_method`` = "raster"; polygons without populated cell centres fall back to
        "representative_point"); without it "representative_point". Point zones keep their point
        ("point").
    crs : str, optional
        Metric CRS to use (default EPSG:25833 in Norway, else the UTM zone).

    Returns
    -------
    geopandas.GeoDataFrame
        One point per zone (metres) with ``centroid_method``.
    """
    what = "zones layer"
    gdf = read_vector(path_or_gdf, layer, what=what)
    gdf = validate_zone_table(gdf, id_col, pop_col, jobs_col, what)
    _check_geometries(gdf, id_col, what)
    gdf = to_metric(gdf, crs, what=what)
    is_point = np.isin(shapely.get_type_id(gdf.geometry.values), [0])
    points = gdf.geometry.values.copy()
    method = np.where(is_point, "point", "representative_point").astype(object)
    polys = ~is_point
    if polys.any():
        points[polys] = shapely.point_on_surface(gdf.geometry.values[polys])
        if raster is not None:
            weighted, ok = raster_weighted_centroids(gpd.GeoSeries(gdf.geometry.values[polys], crs=gdf.crs), raster)
            idx = np.flatnonzero(polys)[ok]
            points[idx] = weighted[ok]
            method[idx] = "raster"
            if (~ok).any():
                log.warning("%d polygon zones contain no populated raster cell centre; using their "
                            "representative point", int((~ok).sum()))
    out = gdf.copy()
    out[CENTROID_COL] = method
    return out.set_geometry(gpd.GeoSeries(points, crs=gdf.crs, index=gdf.index))


def _open_raster(path, what: str):
    import rasterio

    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputError(f"{what} '{path}' does not exist. Check the path.")
    try:
        src = rasterio.open(path)
    except Exception as exc:
        raise InputError(f"cannot read {what} '{path}': {exc}. Give a GeoTIFF (or another GDAL raster).") from None
    if src.crs is None:
        src.close()
        raise InputError(f"{what} '{path}' has no coordinate reference system. Assign one (e.g. gdal_edit.py "
                         "-a_srs EPSG:25833) and try again.")
    return src


def _read_band(src, window=None) -> np.ndarray:
    """Band 1 as float64 with nodata/NaN -> 0."""
    data = src.read(1, window=window, masked=True).astype(np.float64)
    return np.where(np.ma.getmaskarray(data) | ~np.isfinite(data.data), 0.0, np.ma.getdata(data))


def _cell_centres(transform, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = transform
    c, r = cols + 0.5, rows + 0.5
    return t.a * c + t.b * r + t.c, t.d * c + t.e * r + t.f


def raster_weighted_centroids(polygons: gpd.GeoSeries, raster) -> tuple[np.ndarray, np.ndarray]:
    """Population-weighted centroid of each polygon: weighted mean of the centres of the raster
    cells whose centre lies inside it (weights = cell values; nodata = 0).

    Parameters
    ----------
    polygons : geopandas.GeoSeries
        Zone polygons (any CRS; reprojected to the raster's).
    raster : str or os.PathLike
        Population GeoTIFF (persons per cell; nodata = 0).

    Returns
    -------
    points : numpy.ndarray
        shapely Points in ``polygons.crs``.
    ok : numpy.ndarray
        bool per polygon; False where no cell with population > 0 has its centre in the polygon
        (:func:`load_zones` then uses the representative point and says so in
        ``centroid_method``). Overlapping polygons: a cell counts for the last polygon drawn
        over it.

    Raises
    ------
    InputError
        When the raster cannot be read, has no CRS or negative values, or does not overlap the
        polygons at all (a wrong raster or CRS, not a per-zone gap).
    """
    from rasterio import features, windows

    what = "population raster"
    with _open_raster(raster, what) as src:
        raster_crs = src.crs
        polys = polygons.to_crs(raster_crs)
        x0, y0, x1, y1 = polys.total_bounds
        r = src.bounds
        if not (x0 < r.right and x1 > r.left and y0 < r.top and y1 > r.bottom):
            raise InputError(f"{what} '{raster}' does not overlap the zones: raster bounds ({r.left:.0f}, "
                             f"{r.bottom:.0f}, {r.right:.0f}, {r.top:.0f}) and zone bounds ({x0:.0f}, {y0:.0f}, "
                             f"{x1:.0f}, {y1:.0f}) in {raster_crs}. Give the raster that covers the zones (or "
                             "check both CRSs), or leave the raster out to use points inside the polygons.")
        win = windows.from_bounds(x0, y0, x1, y1, transform=src.transform)
        col0, row0 = int(np.floor(win.col_off)), int(np.floor(win.row_off))
        col1, row1 = int(np.ceil(win.col_off + win.width)), int(np.ceil(win.row_off + win.height))
        win = windows.Window(col0, row0, col1 - col0, row1 - row0).intersection(windows.Window(0, 0, src.width,
                                                                                               src.height))
        data = _read_band(src, win)
        transform = windows.transform(win, src.transform)
    if (data < 0).any():
        raise InputError(f"{what} '{raster}' has negative cell values. Population must be >= 0.")
    labels = features.rasterize(((g, i + 1) for i, g in enumerate(polys.values) if g is not None and not g.is_empty),
                                out_shape=data.shape, transform=transform, fill=0, dtype="int32")
    rows, cols = np.nonzero((labels > 0) & (data > 0))
    lab, w = labels[rows, cols], data[rows, cols]
    x, y = _cell_centres(transform, rows, cols)
    n = len(polygons) + 1
    total = np.bincount(lab, weights=w, minlength=n)
    ok = total[1:] > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = np.bincount(lab, weights=w * x, minlength=n)[1:] / total[1:]
        cy = np.bincount(lab, weights=w * y, minlength=n)[1:] / total[1:]
    pts = gpd.GeoSeries(shapely.points(np.where(ok, cx, 0.0), np.where(ok, cy, 0.0)), crs=raster_crs)
    return pts.to_crs(polygons.crs).values, ok


def zones_from_raster(pop_raster, jobs_raster=None, min_population: float = 0.0,
                      crs: str | None = None) -> gpd.GeoDataFrame:
    """Grid cells as zones.

    A cell becomes a zone when its population is > ``min_population`` **or** it has jobs > 0
    (cells with jobs but no residents are destinations; dropping them would lose jobs).

    Parameters
    ----------
    pop_raster : path-like
        Population GeoTIFF (persons per cell; nodata = 0).
    jobs_raster : path-like, optional
        Jobs per cell on the same grid (shape, transform, CRS) as ``pop_raster``.
    min_population : float, default 0.0
        Persons a cell needs (unless it has jobs).
    crs : str, optional
        Metric CRS of the result.

    Returns
    -------
    geopandas.GeoDataFrame
        ``zone_id`` ("r<row>_c<col>"), ``population``, ``jobs``, ``row``, ``col``, point geometry at
        the cell centre (metres).
    """
    with _open_raster(pop_raster, "population raster") as src:
        pop = _read_band(src)
        transform, raster_crs, shape = src.transform, src.crs, (src.height, src.width)
    jobs = np.zeros_like(pop)
    if jobs_raster is not None:
        with _open_raster(jobs_raster, "jobs raster") as jsrc:
            if (jsrc.height, jsrc.width) != shape or jsrc.transform != transform or jsrc.crs != raster_crs:
                raise InputError(f"jobs raster '{jobs_raster}' is not on the same grid as the population raster "
                                 f"(shape {(jsrc.height, jsrc.width)} vs {shape}, transform/CRS must match). "
                                 "Resample it to the population grid (e.g. gdalwarp -tr/-te) first.")
            jobs = _read_band(jsrc)
    if (pop < 0).any() or (jobs < 0).any():
        raise InputError("population/jobs raster has negative cell values. Counts must be >= 0; fix the raster.")
    rows, cols = np.nonzero((pop > min_population) | (jobs > 0))
    if len(rows) == 0:
        raise InputError(f"population raster '{pop_raster}' has no cell with population > {min_population} "
                         "(or jobs > 0). Check the raster values/nodata or lower min_population.")
    x, y = _cell_centres(transform, rows, cols)
    gdf = gpd.GeoDataFrame(
        {"zone_id": [f"r{r}_c{c}" for r, c in zip(rows.tolist(), cols.tolist())],
         "population": pop[rows, cols], "jobs": jobs[rows, cols], "row": rows, "col": cols},
        geometry=shapely.points(x, y), crs=raster_crs)
    gdf[CENTROID_COL] = "raster_cell"
    return to_metric(gdf, crs, what="population raster")


# --------------------------------------------------------------------------- snapping
def snap_zones(zones_gdf: gpd.GeoDataFrame, network, *, id_col: str = "zone_id", pop_col: str = "population",
               jobs_col: str = "jobs", access_speed_kmh: float | None = None, max_snap_m: float | None = None,
               max_excluded_share: float | None = None, settings: CentralitySettings | None = None) -> Zones:
    """Attach every zone to its nearest network node (straight line).

    Parameters
    ----------
    zones_gdf : geopandas.GeoDataFrame
        Zone points or polygons (polygons are represented by their representative point; use
        :func:`load_zones` for population-weighted centroids) with ``id_col``, ``pop_col``
        (persons) and ``jobs_col`` (jobs); reprojected to the network CRS.
    network : centrality.network.RoadNetwork
        The network to snap to.
    id_col, pop_col, jobs_col : str
        Column names.
    access_speed_kmh, max_snap_m, max_excluded_share : float, optional
        Override the values of ``settings``: speed on the zone-to-node stretch (km/h), largest
        snap distance (metres), and the largest share (fraction) of the population or of the
        jobs the excluded zones may hold.
    settings : CentralitySettings, optional
        Defaults for the three values above (default :class:`CentralitySettings()`).

    Returns
    -------
    Zones
        The kept zones with ``node``, ``snap_m`` (metres) and ``access_s`` = snap distance /
        access speed (seconds); ``excluded`` lists the zones farther than ``max_snap_m`` (id,
        reason, snap_m, population, jobs), also logged as a warning.

    Raises
    ------
    InputError
        For invalid zones, when every zone is too far, or when the excluded zones hold more than
        ``max_excluded_share`` of the population or of the jobs.
    """
    from scipy.spatial import cKDTree

    settings = (settings or CentralitySettings()).with_options(
        access_speed_kmh=access_speed_kmh, max_snap_m=max_snap_m, max_excluded_share=max_excluded_share)
    access_speed_kmh, max_snap_m = settings.access_speed_kmh, settings.max_snap_m
    what = "zones layer"
    if not isinstance(zones_gdf, gpd.GeoDataFrame):
        raise InputError("zones must be a GeoDataFrame (use centrality.zones.load_zones to read a file).")
    if len(zones_gdf) == 0:
        raise InputError(f"{what} is empty (no zones). Give at least one zone.")
    if zones_gdf.crs is None:
        raise InputError(f"{what} has no coordinate reference system. Assign one (e.g. .set_crs('EPSG:25833') "
                         "or QGIS Layer ▸ Set CRS) and try again.")
    table = validate_zone_table(zones_gdf, id_col, pop_col, jobs_col, what)
    _check_geometries(table, id_col, what)
    table = table.to_crs(network.crs)
    geoms = table.geometry.values
    pts = np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.point_on_surface(geoms))
    xy = shapely.get_coordinates(pts)
    if network.n_nodes == 0:
        raise InputError("the network has no nodes. Build it from a road layer covering the zones.")
    snap_m, node = cKDTree(network.node_xy).query(xy)
    far = snap_m > max_snap_m
    population, jobs = table[pop_col].to_numpy(np.float64), table[jobs_col].to_numpy(np.float64)
    excluded = pd.DataFrame({"id": table[id_col].to_numpy()[far],
                             "reason": f"farther than max_snap_m={max_snap_m:g} m from the road network",
                             "snap_m": snap_m[far], "population": population[far], "jobs": jobs[far]})
    if far.all():
        raise InputError(f"all {len(table)} zones are farther than max_snap_m={max_snap_m:g} m from the network "
                         f"(nearest {snap_m.min():.0f} m). Check that zones and network cover the same area and "
                         "CRS, or raise max_snap_m.")
    keep = ~far
    if far.any():
        _check_exclusion(excluded, float(population[keep].sum()), float(jobs[keep].sum()), settings)
        log.warning("%d of %d zones are farther than %g m from the network and are excluded: %s",
                    int(far.sum()), len(table), max_snap_m, ids_text(excluded["id"]))
    return Zones(ids=table[id_col].to_numpy()[keep], xy=xy[keep],
                 population=population[keep], jobs=jobs[keep],
                 node=node[keep].astype(np.int64), access_s=snap_m[keep] / (access_speed_kmh / 3.6),
                 snap_m=snap_m[keep].astype(np.float64), table=table.loc[keep].copy(), excluded=excluded)


def _check_exclusion(excluded: pd.DataFrame, kept_population: float, kept_jobs: float,
                     settings: CentralitySettings) -> None:
    """InputError when the excluded zones hold more than the allowed share of population or jobs."""
    info = exclusion_summary(excluded, kept_population, kept_jobs)
    share = max(info["excluded_population_share"], info["excluded_jobs_share"])
    if share <= settings.max_excluded_share:
        return
    worst = excluded.sort_values(["jobs", "population"], ascending=False).head(5)
    listing = ", ".join(f"{r.id} ({r.population:,.0f} residents, {r.jobs:,.0f} jobs, {r.snap_m:,.0f} m)"
                        for r in worst.itertuples())
    raise InputError(
        f"{info['n_excluded']} zones are farther than max_snap_m={settings.max_snap_m:g} m from the road network and "
        f"would be left out: {info['excluded_population']:,.0f} residents "
        f"({100 * info['excluded_population_share']:.2f} % of the population) and {info['excluded_jobs']:,.0f} jobs "
        f"({100 * info['excluded_jobs_share']:.2f} % of the jobs), more than the allowed "
        f"{100 * settings.max_excluded_share:g} % (max_excluded_share); their jobs would vanish from everyone's "
        f"accessibility. Largest: {listing}. Extend the road network to them (e.g. a ferry), check that zones and "
        "roads cover the same area, raise max_snap_m (CLI --max-snap), or accept the exclusion with a larger "
        "max_excluded_share (CLI --max-excluded-share).")
