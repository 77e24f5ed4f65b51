"""File input/output helpers: atomic writes and vector reading with clear errors."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from centrality.errors import InputError


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` only if the block succeeds.

    The temporary file keeps the suffix of ``path`` so format drivers (GPKG, Parquet) recognise it.
    On any exception the temporary file is removed and ``path`` is left untouched, so no
    half-written output ever appears under the final name.
    """
    final = Path(path)
    if final.parent and not final.parent.exists():
        final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=f".tmp{final.suffix}", dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # let the writer create it (GDAL refuses to open an empty file as GPKG)
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        for leftover in (tmp, Path(str(tmp) + "-journal"), Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
            if leftover.exists():
                leftover.unlink()


def write_table(df, path: str | os.PathLike) -> Path:
    """Write a (Geo)DataFrame as Parquet (``.parquet``/``.geoparquet``) or CSV (``.csv``), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    with atomic_write(path) as tmp:
        if suffix in (".parquet", ".geoparquet", ".pq"):
            df.to_parquet(tmp, index=False)
        elif suffix == ".csv":
            df.to_csv(tmp, index=False)
        else:
            raise InputError(f"cannot write table '{path}': unknown extension '{suffix}'. Use .parquet or .csv.")
    return path


def write_gpkg(gdf, path: str | os.PathLike, layer: str | None = None) -> Path:
    """Write a GeoDataFrame to a GeoPackage atomically (replacing the whole file)."""
    path = Path(path)
    with atomic_write(path) as tmp:
        gdf.to_file(tmp, layer=layer or path.stem, driver="GPKG", engine="pyogrio")
    return path


def write_gpkg_layers(layers: dict, path: str | os.PathLike) -> Path:
    """Write several GeoDataFrames (``{layer_name: gdf}``) into one GeoPackage atomically."""
    path = Path(path)
    with atomic_write(path) as tmp:
        for name, gdf in layers.items():
            gdf.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
    return path


def read_vector(path_or_gdf, layer: str | None = None, what: str = "layer"):
    """Read any vector format pyogrio supports (GPKG, SHP, GeoJSON, FlatGeobuf, GeoParquet).

    Accepts a GeoDataFrame unchanged. Raises InputError for missing, unreadable or empty input.
    """
    import geopandas as gpd

    if isinstance(path_or_gdf, gpd.GeoDataFrame):
        gdf = path_or_gdf
    else:
        path = Path(path_or_gdf)
        if not path.exists():
            raise InputError(f"{what} file '{path}' does not exist. Check the path.")
        try:
            if path.suffix.lower() in (".parquet", ".geoparquet", ".pq"):
                gdf = gpd.read_parquet(path)
            else:
                gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
        except InputError:
            raise
        except Exception as exc:  # pyogrio/GDAL/pyarrow errors have many types
            raise InputError(
                f"cannot read {what} '{path}'{f' (layer {layer!r})' if layer else ''}: {exc}. "
                "Check that it is a valid GeoPackage, Shapefile, GeoJSON, FlatGeobuf or GeoParquet file."
            ) from None
    if len(gdf) == 0:
        raise InputError(f"{what} is empty (no features). Give a layer with at least one feature.")
    if gdf.geometry.isna().all():
        raise InputError(f"{what} has no geometries. Give a layer with geometries.")
    return gdf


def read_toml(path: str | os.PathLike, what: str = "configuration file") -> dict:
    """Parse a UTF-8 TOML file; InputError for a missing file, bad syntax or a wrong encoding."""
    import tomllib

    path = Path(path)
    if not path.exists():
        raise InputError(f"{what} '{path}' does not exist. Check the path.")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{what} '{path}' is not valid TOML: {exc}. Fix the syntax.") from None
    except UnicodeDecodeError:
        raise InputError(f"{what} '{path}' is not UTF-8 text. Save it as UTF-8.") from None
