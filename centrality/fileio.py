"""File input/output: atomic writes, the transactional :class:`OutputSet`, and vector/TOML reading
with clear errors.

Every command writes its files through one :class:`OutputSet` (declare the outputs up front ->
:meth:`~OutputSet.check` before heavy work -> compute -> stage the files -> :meth:`~OutputSet.commit`):
outputs are staged in a temporary folder on the same filesystem and moved into place together,
a run manifest (JSON: files, sizes, inputs, what the run rests on) is written beside them, stale
files of an earlier run in a folder the run owns are removed, and an output that resolves to an
input file is refused. GeoPackages are written in version 1.2 (:data:`GPKG_DATASET_OPTIONS`) so
QGIS 3.22 (GDAL 3.6) opens them without a "GeoPackage v1.4" warning. Counts of persons and jobs
are written as integers (:func:`integer_counts`, applied by every CSV and GeoPackage writer).
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import secrets
import shutil
import tempfile
import tomllib
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from centrality import __version__
from centrality.errors import InputError
from centrality.interrupts import deferred_signals, pause_point
from centrality.preflight import check_writable, how_same

#: GDAL dataset creation options of every GeoPackage we write (version 1.2: readable by QGIS 3.22)
GPKG_DATASET_OPTIONS = {"VERSION": "1.2"}
#: name of the run manifest written into an output folder the run owns
MANIFEST_NAME = "run_manifest.json"
STAGING_PREFIX = ".regio-staging-"
TABLE_SUFFIXES = (".parquet", ".geoparquet", ".pq", ".csv")
_GENERATOR = "regio-toolkit"
#: names of columns that count persons or jobs (or zones): population, jobs and their
#: base/scenario versions, the excluded ones, jobs reachable within L minutes (a sum of whole
#: jobs; decay-weighted accessibility is not a count) and its change, SSB employment counts
COUNT_COLUMN = re.compile(r"(excluded_)?(population|jobs)(_base|_scen)?|n_zones|(delta_)?jobs_\d+(\.\d+)?min(_base|_scen)?"
                          r"|employed(_by_workplace|_by_residence)?|population_15_74")
_WHOLE_TOL = 1e-9
#: ``frame.attrs`` key listing columns that are weighted means (never written as integers)
MEANS_ATTR = "weighted_means"


def count_columns(columns: Iterable[str]) -> list[str]:
    """The names among ``columns`` that are counts of persons, jobs or zones (:data:`COUNT_COLUMN`).

    Parameters
    ----------
    columns : iterable of str
        Column names of a table.

    Returns
    -------
    list of str
        Those matching :data:`COUNT_COLUMN` as a whole, in their order.
    """
    return [c for c in columns if isinstance(c, str) and COUNT_COLUMN.fullmatch(c)]


def integer_counts(frame, columns: Iterable[str] | None = None):
    """``frame`` with its whole-number float count columns as integers (others untouched).

    A column is converted only when every finite value is a whole number (within 1e-9), so
    modelled persons (fractional) stay float, and never when ``frame.attrs[MEANS_ATTR]`` names
    it (population-weighted means of groups, e.g. the mean jobs reachable: :func:`mark_means`);
    missing values stay missing (pandas ``Int64``, written as NULL / an empty CSV field).

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        The table to write.
    columns : iterable of str, optional
        The columns to consider; default :func:`count_columns` of ``frame``.

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        ``frame`` itself when nothing changes, else a shallow copy with int64 (or ``Int64``, with
        missing values) count columns.
    """
    means = set(frame.attrs.get(MEANS_ATTR, ()))
    todo = [c for c in (count_columns(frame.columns) if columns is None else columns)
            if c in frame.columns and c not in means and pd.api.types.is_float_dtype(frame[c])]
    converted = {c: _as_integers(frame[c]) for c in todo}
    converted = {c: v for c, v in converted.items() if v is not None}
    if not converted:
        return frame
    out = frame.copy(deep=False)
    for col, values in converted.items():
        out[col] = values
    return out


def mark_means(frame, columns: Iterable[str] = (), *, like=None):
    """Record which columns of ``frame`` are weighted means (kept float by :func:`integer_counts`).

    pandas drops ``attrs`` in merges and concatenations, so a table derived from a group table
    is marked again.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table (changed in place).
    columns : iterable of str, optional
        Its mean columns.
    like : pandas.DataFrame, optional
        A table whose marked mean columns ``frame`` also has (e.g. the group table it was joined from).

    Returns
    -------
    pandas.DataFrame
        ``frame``.
    """
    names = [*frame.attrs.get(MEANS_ATTR, ()), *columns, *((like.attrs.get(MEANS_ATTR, ())) if like is not None else ())]
    if names:
        frame.attrs[MEANS_ATTR] = list(dict.fromkeys(names))
    return frame


def _as_integers(series: pd.Series) -> pd.Series | None:
    """int64 (``Int64`` with missing values) version of a whole-number float series, else None."""
    v = series.to_numpy(dtype=float)
    ok = np.isfinite(v)
    if np.isinf(v).any() or not np.all(np.abs(v[ok] - np.round(v[ok])) < _WHOLE_TOL):
        return None
    whole = np.round(np.where(ok, v, 0.0)).astype(np.int64)
    if ok.all():
        return pd.Series(whole, index=series.index, name=series.name)
    return pd.Series(pd.array(whole, dtype="Int64"), index=series.index, name=series.name).mask(~ok)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` only if the block succeeds.

    Parameters
    ----------
    path : str or os.PathLike
        Final file name; its folder is created when missing.

    Yields
    ------
    pathlib.Path
        A temporary name in the same folder with the same suffix (so format drivers such as
        GPKG or Parquet recognise it); it does not exist yet.

    Notes
    -----
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


# ------------------------------------------------------------------------------ format writers
def parquet_available() -> bool:
    """Whether Parquet can be read and written here.

    Returns
    -------
    bool
        True when pyarrow imports (it may be missing or built against another numpy in a QGIS
        Python).
    """
    try:
        import pyarrow  # noqa: F401  (optional at run time)
    except Exception:  # ImportError, or pyarrow refusing this numpy version
        return False
    return True


def require_parquet(what: str) -> None:
    """Raise InputError (not an ImportError traceback) when Parquet cannot be written here.

    Parameters
    ----------
    what : str
        The output that needs Parquet, for the message (e.g. "--od 'od.parquet'").
    """
    if not parquet_available():
        raise InputError(f"{what} needs pyarrow, which cannot be loaded here. Write CSV instead, or install a "
                         "pyarrow that matches numpy (pyarrow<22 with numpy<2).")


def _write_table_file(df, path: Path) -> None:
    suffix = path.suffix.lower()
    df = integer_counts(df)
    if suffix in (".parquet", ".geoparquet", ".pq"):
        require_parquet(f"the table '{path.name}'")
        df.to_parquet(path, index=False)
    elif suffix == ".csv":
        df.to_csv(path, index=False)
    else:
        raise InputError(f"cannot write table '{path}': unknown extension '{suffix}'. Use .parquet or .csv.")


def _write_gpkg_file(layers: Mapping[str, Any], path: Path, layer_metadata: Mapping[str, dict] | None = None) -> None:
    """Layers into a new GeoPackage: GeoDataFrames as spatial layers, DataFrames as attribute tables."""
    if not layers:
        raise InputError(f"no layers to write into '{path}'.")
    for k, (name, frame) in enumerate(layers.items()):
        frame = integer_counts(frame)
        options = {"dataset_options": GPKG_DATASET_OPTIONS} if k == 0 else {}
        meta = (layer_metadata or {}).get(name)
        if meta:
            options["layer_metadata"] = meta
        if isinstance(frame, gpd.GeoDataFrame):
            frame.to_file(path, layer=name, driver="GPKG", engine="pyogrio", **options)
        else:
            import pyogrio  # lazily: the QGIS plugin imports this module but must not load pyogrio's GDAL

            pyogrio.write_dataframe(pd.DataFrame(frame), path, layer=name, driver="GPKG", **options)


def write_table(df, path: str | os.PathLike) -> Path:
    """Write a (Geo)DataFrame as Parquet or CSV, atomically.

    Parameters
    ----------
    df : pandas.DataFrame
        The table (index not written).
    path : str or os.PathLike
        ``.parquet``/``.geoparquet``/``.pq`` or ``.csv``.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    with atomic_write(path) as tmp:
        _write_table_file(df, tmp)
    return path


def write_gpkg(gdf, path: str | os.PathLike, layer: str | None = None) -> Path:
    """Write one GeoDataFrame to a GeoPackage atomically (replacing the whole file).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer.
    path : str or os.PathLike
        ``.gpkg`` file.
    layer : str, optional
        Layer name (default: the file stem).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    return write_gpkg_layers({layer or Path(path).stem: gdf}, path)


def write_gpkg_layers(layers: Mapping[str, Any], path: str | os.PathLike,
                      layer_metadata: Mapping[str, dict] | None = None) -> Path:
    """Write several layers into one GeoPackage atomically (version 1.2, :data:`GPKG_DATASET_OPTIONS`).

    Parameters
    ----------
    layers : mapping
        ``{layer name: frame}``; GeoDataFrames become spatial layers, DataFrames attribute tables.
    path : str or os.PathLike
        ``.gpkg`` file (replaced as a whole).
    layer_metadata : mapping, optional
        ``{layer name: {key: value}}`` stored as GDAL layer metadata.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    with atomic_write(path) as tmp:
        _write_gpkg_file(layers, tmp, layer_metadata)
    return path


# ------------------------------------------------------------------------------ the output set
def _input_file(spec) -> Path:
    """The file behind an input spec: a path, or an OGR-style "path|layername=x" string."""
    text = os.fspath(spec)
    if "|" in text:
        text = text.split("|", 1)[0]
    return Path(text)


def _same_file(a: Path, b: Path) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _inside(path: Path, folder: Path) -> bool:
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(folder))
    except ValueError:
        return False
    return True


def describe_file(path: Path, base: Path | None = None) -> dict:
    """Describe a file (or folder) for a run manifest.

    Parameters
    ----------
    path : pathlib.Path
        The file or folder.
    base : pathlib.Path, optional
        Shown relative to this folder when inside it.

    Returns
    -------
    dict
        ``path`` (POSIX text), ``bytes`` (size) and ``modified`` (UTC ISO time) for a file,
        ``folder: True`` for a folder.
    """
    shown = path
    if base is not None and _inside(path, base):
        shown = Path(os.path.relpath(os.path.realpath(path), os.path.realpath(base)))
    info: dict[str, Any] = {"path": shown.as_posix()}
    if path.is_file():
        st = path.stat()
        info["bytes"] = int(st.st_size)
        info["modified"] = _dt.datetime.fromtimestamp(st.st_mtime, _dt.timezone.utc).isoformat(timespec="seconds")
    elif path.is_dir():
        info["folder"] = True
    return info


class OutputSet:
    """All output files of one run, written together or not at all.

    Use it in four steps::

        with OutputSet(inputs=[roads, zones], rests_on={"network": "..."}) as out:
            gpkg = out.declare("result.gpkg")        # 1. declare the outputs
            tables = out.declare_folder("tables")    #    (a folder the run owns)
            out.check()                              # 2. before any heavy work
            result = compute(...)                    # 3. compute
            out.write_gpkg(gpkg, {"zones": result})  #    stage the files
            out.write_table(tables / "zones.csv", result)
            written = out.commit()                   # 4. move everything into place

    Files are staged in hidden folders (``.regio-staging-*``) next to their final place, i.e. on
    the same filesystem, and moved into place by :meth:`commit` one rename each; if a rename
    fails the ones already done are undone (earlier versions restored). An exception inside the
    ``with`` block (or :meth:`discard`) removes the staged files and the folders this set
    created, so an error leaves no output behind.

    Parameters
    ----------
    inputs : iterable of path-like, optional
        Input files and folders of the run (``"path|layername=x"`` is read as ``path``). An
        output that resolves to one of them (the same file, e.g. a layer of an input
        GeoPackage, since GeoPackages are rewritten as a whole), or an owned output folder that
        is or lies in an input folder, is refused by :meth:`check`.
    manifest : path-like, optional
        Where the run manifest goes. Default: ``run_manifest.json`` in the first owned folder,
        else ``<first output stem>.manifest.json`` beside the first declared file. ``False``
        writes none.
    rests_on : mapping, optional
        What the results rest on (settings, data sources, "SYNTHETIC"/"proxy"/"ILLUSTRATIVE"
        notes); stored in the manifest.
    command : str, optional
        The command that made the outputs, for the manifest.
    """

    def __init__(self, *, inputs: Iterable = (), manifest: str | os.PathLike | bool | None = None,
                 rests_on: Mapping[str, Any] | None = None, command: str | None = None):
        self.inputs: list[Path] = []
        self.add_inputs(inputs)
        self._manifest = manifest
        self.rests_on: dict[str, Any] = dict(rests_on or {})
        self.command = command
        self._files: dict[Path, str] = {}       # final path -> description
        self._folders: dict[Path, bool] = {}    # folder -> owned
        self._folder_what: dict[Path, str] = {}
        self._staging: dict[Path, Path] = {}    # anchor folder -> its staging folder
        self._created: list[Path] = []          # folders this set created (removed again on discard)
        self.written: list[Path] = []
        self.closed = False

    # ------------------------------------------------------------------ declaring
    def add_inputs(self, inputs: Iterable) -> None:
        """Add input files/folders (None entries and GeoDataFrames are ignored).

        Parameters
        ----------
        inputs : iterable of path-like
            Paths, or OGR-style ``"path|layername=x"`` strings (read as ``path``).
        """
        for spec in inputs:
            if spec is not None and not hasattr(spec, "geometry"):   # a GeoDataFrame is not a file
                self.inputs.append(_input_file(spec))

    def declare(self, path: str | os.PathLike, what: str = "output") -> Path:
        """Declare an output file.

        Parameters
        ----------
        path : path-like
            Final file name.
        what : str
            How the user named it (e.g. "--out"), for error messages.

        Returns
        -------
        pathlib.Path
            The final path (absolute).
        """
        final = Path(os.path.abspath(path))
        earlier = self._files.get(final)
        if earlier is not None and what != "output" and earlier not in ("output", what):
            raise InputError(f"{what} '{final}' is also the output {earlier}. Give each output its own file name.")
        self._files.setdefault(final, what)
        return final

    def declare_folder(self, folder: str | os.PathLike, owned: bool = True, what: str = "output folder") -> Path:
        """Declare an output folder.

        Parameters
        ----------
        folder : path-like
            The folder (created at commit when missing).
        owned : bool, default True
            The run owns it: files that an earlier run listed in its manifest there and that this
            run does not write again are removed at commit (other files are never touched).
        what : str
            How the user named it (e.g. "--out-dir"), for error messages.

        Returns
        -------
        pathlib.Path
            The folder (absolute).
        """
        folder = Path(os.path.abspath(folder))
        self._folders[folder] = self._folders.get(folder, False) or owned
        self._files.pop(folder, None)
        self._folder_what.setdefault(folder, what)
        return folder

    @property
    def owned_folders(self) -> list[Path]:
        """The declared folders this run owns."""
        return [f for f, owned in self._folders.items() if owned]

    @property
    def manifest_path(self) -> Path | None:
        """Where :meth:`commit` writes the run manifest (None: no manifest)."""
        if self._manifest is False:
            return None
        if self._manifest not in (None, True):
            return Path(os.path.abspath(self._manifest))
        if self.owned_folders:
            return self.owned_folders[0] / MANIFEST_NAME
        if self._files:
            first = next(iter(self._files))
            return first.with_name(f"{first.stem}.manifest.json")
        return None

    # ------------------------------------------------------------------ checking
    def check(self) -> None:
        """Refuse outputs that would overwrite an input, cannot be a file/folder or cannot be written.

        Call it after declaring and before any heavy work.

        Raises
        ------
        InputError
            When an output file resolves to an input file, an owned output folder is (or lies
            inside) an input folder, an output file is an existing folder, an output folder
            is an existing file, or an output location cannot be written
            (:func:`centrality.preflight.check_writable` probes each folder).
        """
        for final, what in self._files.items():
            self._check_file(final, what)
        for folder in self._folders:
            what = self._folder_what.get(folder, "output folder")
            if folder.exists() and not folder.is_dir():
                raise InputError(f"{what} '{folder}' is a file. Give a folder for the outputs.")
            for inp in self.inputs:
                if inp.is_dir() and self._folders[folder] and (_same_file(folder, inp) or _inside(folder, inp)):
                    raise InputError(f"{what} '{folder}' is inside the input folder '{inp}'. Write the outputs to "
                                     "another folder, so that no input can be overwritten or removed.")
        check_writable(self._files, {f: self._folder_what.get(f, "output folder") for f in self._folders})

    def _check_file(self, final: Path, what: str) -> None:
        if final.exists() and final.is_dir():
            raise InputError(f"{what} '{final}' is a folder. Give a file name.")
        for inp in self.inputs:
            if inp.is_dir():
                continue
            if _same_file(final, inp):
                kind = " (an input GeoPackage; writing any layer rewrites the whole file)" \
                    if final.suffix.lower() == ".gpkg" else ""
                how = how_same(final, inp)
                relation = "" if how == "the same path" else f"; it is {how} as the input '{inp}'"
                raise InputError(f"{what} '{final}' is an input of this run{kind}{relation}. Give the output another "
                                 "file name, so that the input is not overwritten.")

    # ------------------------------------------------------------------ staging
    def _anchor(self, final: Path) -> Path:
        owners = [f for f in self._folders if _inside(final, f)]
        return max(owners, key=lambda f: len(f.parts)) if owners else final.parent

    def _mkdir(self, folder: Path) -> None:
        missing = []
        probe = folder
        while not probe.exists():
            missing.append(probe)
            probe = probe.parent
        folder.mkdir(parents=True, exist_ok=True)
        self._created.extend(reversed(missing))

    def path(self, final: str | os.PathLike) -> Path:
        """Where to write the file that will become ``final`` (in the staging folder).

        Writers may put more files next to it (e.g. a figure as ``.png`` and ``.svg``); every
        file in the staging folder is moved into place at commit.

        Parameters
        ----------
        final : path-like
            Final file name (declared now if it was not).

        Returns
        -------
        pathlib.Path
            The staging path; its folder exists, the file does not.
        """
        if self.closed:
            raise RuntimeError("this OutputSet was already committed or discarded")
        final = self.declare(final)
        self._check_file(final, self._files[final])
        anchor = self._anchor(final)
        staging = self._staging.get(anchor)
        if staging is None:
            self._mkdir(anchor)
            staging = anchor / f"{STAGING_PREFIX}{secrets.token_hex(4)}"
            staging.mkdir()
            self._staging[anchor] = staging
        target = staging / final.relative_to(anchor)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.unlink()
        return target

    def write_with(self, final: str | os.PathLike, writer: Callable[[Path], Any]) -> Path:
        """Stage ``final`` by calling ``writer(staging_path)``.

        Parameters
        ----------
        final : path-like
            Final file name.
        writer : callable
            ``writer(path)`` writes the file at ``path`` (it may write siblings too, e.g. ``.svg``).

        Returns
        -------
        pathlib.Path
            The final path (absolute).
        """
        writer(self.path(final))
        return Path(os.path.abspath(final))

    def write_table(self, final: str | os.PathLike, df) -> Path:
        """Stage a table (format by suffix: ``.csv`` or ``.parquet``).

        Parameters
        ----------
        final : path-like
            Final file name.
        df : pandas.DataFrame
            The table (index not written).

        Returns
        -------
        pathlib.Path
            The final path.
        """
        return self.write_with(final, lambda p: _write_table_file(df, p))

    def write_gpkg(self, final: str | os.PathLike, layers: Mapping[str, Any],
                   layer_metadata: Mapping[str, dict] | None = None) -> Path:
        """Stage a GeoPackage (version 1.2) with ``layers``.

        Parameters
        ----------
        final : path-like
            Final ``.gpkg`` file name.
        layers : mapping
            ``{layer name: frame}``; GeoDataFrames become spatial layers, DataFrames attribute tables.
        layer_metadata : mapping, optional
            ``{layer name: {key: value}}`` GDAL layer metadata.

        Returns
        -------
        pathlib.Path
            The final path.
        """
        return self.write_with(final, lambda p: _write_gpkg_file(layers, p, layer_metadata))

    def write_text(self, final: str | os.PathLike, text: str) -> Path:
        """Stage a UTF-8 text file.

        Parameters
        ----------
        final : path-like
            Final file name.
        text : str
            The content.

        Returns
        -------
        pathlib.Path
            The final path.
        """
        return self.write_with(final, lambda p: p.write_text(text, encoding="utf-8"))

    def write_bytes(self, final: str | os.PathLike, data: bytes) -> Path:
        """Stage a binary file.

        Parameters
        ----------
        final : path-like
            Final file name.
        data : bytes
            The content.

        Returns
        -------
        pathlib.Path
            The final path.
        """
        return self.write_with(final, lambda p: p.write_bytes(data))

    def write_json(self, final: str | os.PathLike, obj) -> Path:
        """Stage ``obj`` as indented UTF-8 JSON (values JSON cannot hold are written as text).

        Parameters
        ----------
        final : path-like
            Final file name.
        obj : object
            A JSON-serialisable value (dict, list, ...).

        Returns
        -------
        pathlib.Path
            The final path.
        """
        return self.write_text(final, json.dumps(obj, indent=2, default=str, ensure_ascii=False))

    def staged_files(self) -> list[tuple[Path, Path]]:
        """Every staged file, in a stable order.

        Returns
        -------
        list of tuple
            (staging path, final path) pairs.
        """
        pairs = []
        for anchor, staging in self._staging.items():
            for staged in sorted(p for p in staging.rglob("*") if p.is_file()):
                pairs.append((staged, anchor / staged.relative_to(staging)))
        return pairs

    # ------------------------------------------------------------------ commit / discard
    def _previous_outputs(self, manifest: Path | None) -> list[Path]:
        """Files an earlier run listed in the manifest at ``manifest`` (ours only)."""
        if manifest is None or not manifest.is_file():
            return []
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        if not isinstance(data, dict) or data.get("generator") != _GENERATOR:
            return []
        return [(manifest.parent / f["path"]) for f in data.get("files", []) if isinstance(f, dict) and "path" in f]

    def manifest(self, files: list[tuple[Path, Path]]) -> dict:
        """The run manifest for the staged ``files``.

        Parameters
        ----------
        files : list of tuple
            (staging path, final path) pairs, see :meth:`staged_files`.

        Returns
        -------
        dict
            ``generator``, ``version``, ``command``, ``created`` (UTC ISO), ``files`` (path relative to
            the manifest's folder when inside it, ``bytes``), ``inputs`` (path, bytes, modified) and
            ``rests_on``.
        """
        base = self.manifest_path.parent if self.manifest_path is not None else None
        listed = []
        for staged, final in files:
            entry = describe_file(staged)
            entry["path"] = (Path(os.path.relpath(final, base)) if base is not None and _inside(final, base)
                             else final).as_posix()
            entry.pop("modified", None)
            listed.append(entry)
        return {"generator": _GENERATOR, "version": __version__, "command": self.command,
                "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "files": listed, "inputs": [describe_file(p) for p in self.inputs], "rests_on": self.rests_on}

    def commit(self) -> list[Path]:
        """Move every staged file into place, write the manifest and remove stale files.

        Returns
        -------
        list of pathlib.Path
            The final paths written (the manifest last).
        """
        if self.closed:
            raise RuntimeError("this OutputSet was already committed or discarded")
        pause_point("write")        # signal tests (centrality.interrupts): all staged, nothing moved yet
        files = self.staged_files()
        manifest_path = self.manifest_path
        previous = self._previous_outputs(manifest_path)
        if manifest_path is not None and files:
            data = self.manifest(files)
            staged_manifest = self.path(manifest_path)
            staged_manifest.write_text(json.dumps(data, indent=2, default=str, ensure_ascii=False), encoding="utf-8")
            files.append((staged_manifest, Path(os.path.abspath(manifest_path))))
        with deferred_signals():     # SIGINT/SIGTERM take effect after the moves: all new files or all old
            self._move_into_place(files)
            new = {os.path.realpath(f) for _, f in files}
            for old in previous:
                if (os.path.realpath(old) not in new and old.is_file()
                        and any(_inside(old, f) for f in self.owned_folders)
                        and not any(_same_file(old, i) for i in self.inputs)):
                    old.unlink()
            self._remove_staging()
        self.closed = True
        self.written = [f for _, f in files]
        return list(self.written)

    def _move_into_place(self, files: list[tuple[Path, Path]]) -> None:
        """Rename each staged file to its final path; on failure undo every rename (earlier versions back)."""
        done: list[tuple[Path, Path, Path | None, bool]] = []   # staged, final, backup, moved
        try:
            for k, (staged, final) in enumerate(files):
                self._mkdir(final.parent)
                backup = None
                if final.exists():
                    backup = staged.parent / f"{staged.name}.previous-{k}"
                    os.replace(final, backup)
                done.append((staged, final, backup, False))
                os.replace(staged, final)
                done[-1] = (staged, final, backup, True)
                if k == 0:
                    pause_point("commit")   # signal tests: one file moved, the others not yet
        except BaseException:
            for staged, final, backup, moved in reversed(done):   # undo: earlier versions back in place
                if moved:
                    os.replace(final, staged)
                if backup is not None:
                    os.replace(backup, final)
            self.discard()
            raise

    def _remove_staging(self) -> None:
        for staging in self._staging.values():
            shutil.rmtree(staging, ignore_errors=True)
        self._staging.clear()

    def discard(self) -> None:
        """Remove everything staged and the folders this set created; nothing is written."""
        self._remove_staging()
        for folder in reversed(self._created):
            with contextlib.suppress(OSError):
                folder.rmdir()          # only if empty
        self._created.clear()
        self.closed = True

    def __enter__(self) -> "OutputSet":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self.closed:
            self.discard()


def read_vector(path_or_gdf, layer: str | None = None, what: str = "layer"):
    """Read any vector format pyogrio supports (GPKG, SHP, GeoJSON, FlatGeobuf, GeoParquet).

    Parameters
    ----------
    path_or_gdf : path-like or geopandas.GeoDataFrame
        A file, or a GeoDataFrame (returned unchanged after the checks).
    layer : str, optional
        Layer of a multi-layer file.
    what : str
        What it is, for error messages (e.g. "zones layer").

    Returns
    -------
    geopandas.GeoDataFrame

    Raises
    ------
    InputError
        For missing, unreadable or empty input, or input without geometries.
    """
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
    """Parse a UTF-8 TOML file.

    Parameters
    ----------
    path : path-like
        The file.
    what : str
        What it is, for error messages.

    Returns
    -------
    dict
        The parsed document.

    Raises
    ------
    InputError
        For a missing file, bad syntax or a wrong encoding.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{what} '{path}' does not exist. Check the path.")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{what} '{path}' is not valid TOML: {exc}. Fix the syntax.") from None
    except UnicodeDecodeError:
        raise InputError(f"{what} '{path}' is not UTF-8 text. Save it as UTF-8.") from None
