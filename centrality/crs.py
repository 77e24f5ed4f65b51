"""Coordinate reference systems: everything is computed in a metric projected CRS.

:func:`check_coordinates` (run by :func:`to_metric` on every network, zone and map layer) refuses
coordinates that cannot be in the declared CRS, before anything is reprojected:

- metres labelled as degrees (e.g. UTM coordinates in a layer tagged EPSG:4326): |x| > 180 or
  |y| > 90 is impossible in a geographic CRS;
- degrees labelled as metres (a layer in lon/lat tagged EPSG:25833): every coordinate within
  ±180/±90 m of the projection's origin is a network far smaller than a town square, at a place
  (UTM false easting 500 000 m) no real data lies;

and warns (``logging``) when data in a Norwegian CRS lies wholly outside Norway's extent
(:data:`centrality.plausibility.Plausibility.norway_bounds_deg`).
"""
from __future__ import annotations

import logging

import numpy as np
import pyproj
import shapely

from centrality.errors import InputError
from centrality.plausibility import DEFAULT

log = logging.getLogger(__name__)

NORWAY_CRS = "EPSG:25833"  # ETRS89 / UTM zone 33N, used by Kartverket and SSB for all of Norway
# Rough lon/lat box of mainland Norway + Svalbard-free coast, used to pick EPSG:25833.
_NORWAY_BOUNDS = (4.0, 57.5, 31.5, 71.5)
#: EPSG codes of the projected CRSs used for Norwegian data: ETRS89 / UTM 32–36N (258xx), WGS 84 /
#: UTM 32–36N (326xx), ETRS89 / UTM + NN2000 height (5972–5976), ETRS89 / NTM zones 5–30 (5105–5130).
NORWEGIAN_EPSG = frozenset([*range(25832, 25837), *range(32632, 32637), *range(5972, 5977), *range(5105, 5131)])


def utm_crs_for(lon: float, lat: float) -> str:
    """EPSG code of the WGS84 UTM zone containing a point.

    Parameters
    ----------
    lon, lat : float
        The point, degrees.

    Returns
    -------
    str
        E.g. ``"EPSG:32633"``.
    """
    zone = int((lon + 180.0) // 6.0) + 1
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


def choose_metric_crs(lon: float, lat: float) -> str:
    """The metric CRS to compute in for data around a point.

    Parameters
    ----------
    lon, lat : float
        The centre of the data, degrees.

    Returns
    -------
    str
        EPSG:25833 inside Norway, otherwise the UTM zone of the point.
    """
    x0, y0, x1, y1 = _NORWAY_BOUNDS
    if x0 <= lon <= x1 and y0 <= lat <= y1:
        return NORWAY_CRS
    return utm_crs_for(lon, lat)


def to_metric(gdf, crs: str | None = None, what: str = "layer"):
    """A layer in a metric CRS, after checking that its coordinates fit its CRS.

    - ``crs`` given: reproject to it (must be projected, in metres).
    - geographic input (degrees): reproject to EPSG:25833 in Norway, else the local UTM zone.
    - projected input: kept as is (must be in metres).
    - no CRS at all: InputError (we never guess silently).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer.
    crs : str, optional
        Target CRS (metres).
    what : str
        The layer, for messages.

    Returns
    -------
    geopandas.GeoDataFrame
        In metres.
    """
    if gdf.crs is None:
        raise InputError(
            f"{what} has no coordinate reference system. Assign one (e.g. in QGIS: Layer ▸ Set CRS, "
            "or geopandas .set_crs('EPSG:25833')) and try again."
        )
    check_coordinates(gdf, what)
    if crs is not None:
        target = pyproj.CRS.from_user_input(crs)
        require_metric(target, what=f"target CRS {crs}")
        return gdf.to_crs(target)
    if gdf.crs.is_geographic:
        b = gdf.to_crs(4326).total_bounds
        lon, lat = (b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0
        return gdf.to_crs(choose_metric_crs(lon, lat))
    require_metric(gdf.crs, what=what)
    return gdf


def _bounds(gdf) -> np.ndarray | None:
    xy = shapely.get_coordinates(gdf.geometry.values)
    xy = xy[np.isfinite(xy).all(axis=1)]
    if not len(xy):
        return None
    return np.r_[xy.min(axis=0), xy.max(axis=0)]


def _num(v: float) -> str:
    return f"{v:,.0f}".replace(",", " ") if abs(v) >= 1000 else f"{v:.6g}"


def check_coordinates(gdf, what: str = "layer", warn_outside_norway: bool = True) -> list[str]:
    """InputError when the coordinates of a layer cannot be in its declared CRS.

    See the module docstring for the rules.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer (with a CRS).
    what : str
        The layer, for messages.
    warn_outside_norway : bool, default True
        Warn when data in a Norwegian CRS lies wholly outside Norway.

    Returns
    -------
    list of str
        The warnings given.
    """
    crs = pyproj.CRS.from_user_input(gdf.crs)
    b = _bounds(gdf)
    if b is None:
        return []
    x0, y0, x1, y1 = (float(v) for v in b)
    name = crs.to_string()
    text = f"x {_num(x0)}..{_num(x1)}, y {_num(y0)}..{_num(y1)}"
    if crs.is_geographic:
        if max(abs(x0), abs(x1)) > 180.0 or max(abs(y0), abs(y1)) > 90.0:
            guess = (" They look like ETRS89 / UTM 33N metres (EPSG:25833), the usual CRS of Norwegian data."
                     if -1e6 <= x0 and x1 <= 2e6 and 6.2e6 <= y0 and y1 <= 8.2e6 else
                     " They look like metres of a projected CRS.")
            raise InputError(f"{what} is labelled {name} (degrees) but its coordinates ({text}) cannot be degrees "
                             f"(longitude must lie within ±180, latitude within ±90).{guess} Assign the CRS the data "
                             "is really in (QGIS: Layer ▸ Set CRS; geopandas .set_crs('EPSG:25833', "
                             "allow_override=True)) instead of reprojecting.")
        return []
    if max(abs(x0), abs(x1)) <= 180.0 and max(abs(y0), abs(y1)) <= 90.0 and (x1 > x0 or y1 > y0):
        raise InputError(f"{what} is labelled {name} (metres) but all its coordinates ({text}) lie within 180 m of "
                         "the projection's origin: they look like longitude/latitude degrees. Assign the CRS the "
                         "data is really in (e.g. EPSG:4326; QGIS: Layer ▸ Set CRS; geopandas "
                         ".set_crs('EPSG:4326', allow_override=True)); the tool reprojects degrees itself.")
    warnings = []
    if warn_outside_norway and crs.to_epsg() in NORWEGIAN_EPSG:
        lon0, lat0, lon1, lat1 = DEFAULT.norway_bounds_deg
        t = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        lon, lat = t.transform([x0, x1, x0, x1], [y0, y0, y1, y1])
        lon, lat = np.asarray(lon), np.asarray(lat)
        outside = (not np.isfinite(lon).all() or lon.max() < lon0 or lon.min() > lon1 or lat.max() < lat0
                   or lat.min() > lat1)
        if outside:
            where = (f"lon {np.nanmin(lon):.2f}..{np.nanmax(lon):.2f}, lat {np.nanmin(lat):.2f}..{np.nanmax(lat):.2f}"
                     if np.isfinite(lon).any() else "not on the globe")
            message = (f"{what} is in {name}, a Norwegian CRS, but lies wholly outside Norway ({where}); check that "
                       "the CRS is the one the data was made in (a wrong UTM zone or swapped x/y give this).")
            log.warning(message)
            warnings.append(message)
    return warnings


def require_metric(crs, what: str = "layer") -> None:
    """Raise InputError unless a CRS is projected with metre units.

    Parameters
    ----------
    crs : str or pyproj.CRS
        The CRS.
    what : str
        What has this CRS, for the message.
    """
    crs = pyproj.CRS.from_user_input(crs)
    if crs.is_geographic:
        raise InputError(
            f"{what} is in a geographic CRS ({crs.to_string()}, degrees). Distances need metres: "
            "reproject to a projected CRS such as EPSG:25833 (or let the tool do it by not forcing a CRS)."
        )
    unit = crs.axis_info[0].unit_name if crs.axis_info else "metre"
    if unit not in ("metre", "meter", "m"):
        raise InputError(f"{what} uses units of '{unit}'; a CRS in metres is required (e.g. EPSG:25833).")


def same_crs(a, b) -> bool:
    """Whether two CRS definitions are equal.

    Parameters
    ----------
    a, b : str or pyproj.CRS
        CRS definitions (EPSG codes, WKT, ...).

    Returns
    -------
    bool
    """
    return pyproj.CRS.from_user_input(a) == pyproj.CRS.from_user_input(b)
