"""Coordinate reference systems: everything is computed in a metric projected CRS."""
from __future__ import annotations

from centrality.errors import InputError

NORWAY_CRS = "EPSG:25833"  # ETRS89 / UTM zone 33N, used by Kartverket and SSB for all of Norway
# Rough lon/lat box of mainland Norway + Svalbard-free coast, used to pick EPSG:25833.
_NORWAY_BOUNDS = (4.0, 57.5, 31.5, 71.5)


def utm_crs_for(lon: float, lat: float) -> str:
    """EPSG code of the WGS84 UTM zone containing (lon, lat) in degrees."""
    zone = int((lon + 180.0) // 6.0) + 1
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


def choose_metric_crs(lon: float, lat: float) -> str:
    """EPSG:25833 inside Norway, otherwise the UTM zone of the point (degrees)."""
    x0, y0, x1, y1 = _NORWAY_BOUNDS
    if x0 <= lon <= x1 and y0 <= lat <= y1:
        return NORWAY_CRS
    return utm_crs_for(lon, lat)


def to_metric(gdf, crs: str | None = None, what: str = "layer"):
    """Return ``gdf`` in a metric CRS.

    - ``crs`` given: reproject to it (must be projected, in metres).
    - geographic input (degrees): reproject to EPSG:25833 in Norway, else the local UTM zone.
    - projected input: kept as is (must be in metres).
    - no CRS at all: InputError (we never guess silently).
    """
    import pyproj

    if gdf.crs is None:
        raise InputError(
            f"{what} has no coordinate reference system. Assign one (e.g. in QGIS: Layer ▸ Set CRS, "
            "or geopandas .set_crs('EPSG:25833')) and try again."
        )
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


def require_metric(crs, what: str = "layer") -> None:
    """Raise InputError unless ``crs`` is a projected CRS with metre units."""
    import pyproj

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
    import pyproj

    return pyproj.CRS.from_user_input(a) == pyproj.CRS.from_user_input(b)
