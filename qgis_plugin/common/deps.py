"""Third-party Python packages for the plugin: where they live, whether they work, how to install them.

QGIS embeds its own Python. The engine's packages (numpy, scipy, pandas, geopandas, shapely,
pyproj, numba) are installed by ``install_deps.py`` (shipped with the plugin) into a private
folder, ``<QGIS profile>/python/regio-deps``, which :func:`activate` puts on ``sys.path`` when the
plugin is imported. When something is missing or too old the plugin shows the exact command for
*QGIS's* interpreter (:func:`qgis_python`; inside QGIS ``sys.executable`` is not a Python) instead
of an ImportError traceback. :func:`native_library_clashes` recognises the mix-up that made
``qgis_process`` crash at exit (pip wheels' bundled PROJ/GEOS/GDAL next to QGIS's own); see
``install_deps.py`` for the root cause.
"""
from __future__ import annotations

import importlib.metadata as _md
import importlib.util
import os
import re
import sys
from pathlib import Path

from .. import install_deps as _installer

PLUGIN_DIR = Path(__file__).resolve().parents[1]

# import name -> (distribution, lowest version, first version that is too new or None)
CORE_PACKAGES: dict[str, tuple[str, str, str | None]] = {
    "numpy": ("numpy", "1.24", "2"),  # QGIS's GDAL bindings are built against numpy 1.x
    "scipy": ("scipy", "1.11", None),  # 1.10's csgraph hangs on int64 index arrays
    "pandas": ("pandas", "2.0", None),
    "geopandas": ("geopandas", "1.0", None),
    "shapely": ("shapely", "2.0", None),
    "pyproj": ("pyproj", "3.4", None),
    "numba": ("numba", "0.59", None),
}
OSM_PACKAGES: dict[str, tuple[str, str, str | None]] = {"osmium": ("osmium", "3.7", None)}
MODEL_PACKAGES: dict[str, tuple[str, str, str | None]] = {**CORE_PACKAGES, "pyjstat": ("pyjstat", "2.0", None)}
_LIB_PATTERNS = {name: re.compile(rf"^{name}(-[0-9a-f]{{8}})?\.so") for name in ("libproj", "libgeos", "libgeos_c", "libgdal")}
_LIB_NAMES = {"libproj": "PROJ", "libgeos": "GEOS", "libgeos_c": "GEOS (C API)", "libgdal": "GDAL"}


def deps_dir() -> Path:
    """The private dependency folder: ``$REGIO_QGIS_DEPS``, else ``<profile>/python/regio-deps``."""
    try:
        return _installer.default_dest(PLUGIN_DIR)
    except _installer.Missing:  # development checkout: the active profile's folder
        from qgis.core import QgsApplication

        return Path(QgsApplication.qgisSettingsDirPath()) / "python" / _installer.DEPS_FOLDER


def activate(folder: Path | None = None) -> Path | None:
    """Put the dependency folder's site directory on ``sys.path`` (after the vendored ext_libs).

    Returns the added directory, or None when there is no such folder (packages may then still
    come from QGIS's own Python, e.g. a distribution package or an OSGeo4W install).
    """
    if folder is None:
        try:  # an installed plugin (or $REGIO_QGIS_DEPS); a development checkout uses its own venv
            folder = _installer.default_dest(PLUGIN_DIR)
        except _installer.Missing:
            return None
    site = _installer.site_dir(folder)
    if not site.is_dir():
        return None
    if str(site) not in sys.path:
        ext = str(PLUGIN_DIR / "ext_libs")
        sys.path.insert(sys.path.index(ext) + 1 if ext in sys.path else 0, str(site))
    return site


def qgis_python() -> Path:
    """The Python interpreter QGIS embeds (same version), for the install command.

    Inside QGIS ``sys.executable`` is the QGIS binary or whatever ``python3`` is first on PATH
    (e.g. a pyenv shim), so the interpreter is looked up next to the embedded Python's prefix.
    """
    ver = f"{sys.version_info.major}.{sys.version_info.minor}"
    base = Path(sys.base_exec_prefix)
    if os.name == "nt":  # OSGeo4W / standalone installer: <QGIS>\apps\Python3x\python.exe
        candidates = [base / "python.exe", base / "python3.exe"]
    else:  # Debian: /usr/bin/python3.11; macOS QGIS.app: …/Python.framework/Versions/3.x/bin/python3.x
        candidates = [base / "bin" / f"python{ver}", base / "bin" / "python3"]
        if sys.platform == "darwin":
            candidates.append(Path("/Applications/QGIS.app/Contents/MacOS/bin/python3"))
    return next((c for c in candidates if c.is_file()), candidates[0])


def install_command() -> str:
    """The exact command that installs the dependencies for QGIS's Python into :func:`deps_dir`."""
    def q(p) -> str:
        return f'"{p}"' if " " in str(p) else str(p)

    cmd = f"{q(qgis_python())} {q(PLUGIN_DIR / 'install_deps.py')} --dest {q(deps_dir())}"
    if os.name == "nt":
        return cmd + "    (in the OSGeo4W Shell; as administrator for an all-users install)"
    return cmd


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in re.split(r"[.+-]", text):
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return tuple(parts)


def problems(packages: dict[str, tuple[str, str, str | None]] | None = None) -> list[str]:
    """One line per package that cannot be imported or has an unsuitable version."""
    packages = CORE_PACKAGES if packages is None else packages
    out = []
    for module, (dist, low, high) in packages.items():
        if importlib.util.find_spec(module) is None:
            out.append(f"{dist} is not installed")
            continue
        try:
            version = _md.version(dist)
        except _md.PackageNotFoundError:
            continue  # importable without metadata (e.g. a source tree): accept
        v = _version_tuple(version)
        if v < _version_tuple(low) or (high is not None and v >= _version_tuple(high)):
            need = f">= {low}" + (f", < {high}" if high else "")
            out.append(f"{dist} {version} is installed, the plugin needs {need}")
    return out


def missing_message(found: list[str]) -> str:
    """User-facing text naming the problems and the command that fixes them."""
    return ("The Regio plugin needs Python packages in QGIS's Python: " + "; ".join(found) + ".\n"
            f"Install them (into a private folder; nothing changes in the system Python) with:\n"
            f"    {install_command()}\n"
            "then restart QGIS. See the plugin's README (section 1) for details.")


def check(packages: dict[str, tuple[str, str, str | None]] | None = None) -> tuple[bool, str]:
    """``(True, "")`` when everything is usable, else ``(False, message with the install command)``."""
    found = problems(packages)
    return (not found, missing_message(found) if found else "")


def native_library_clashes(maps: str | None = None) -> dict[str, list[str]]:
    """QGIS libraries (PROJ, GEOS, GDAL) mapped into this process from more than one file.

    ``maps``: text of ``/proc/<pid>/maps`` (default: this process; empty result off Linux).
    """
    if maps is None:
        try:
            maps = Path("/proc/self/maps").read_text()
        except OSError:
            return {}
    files = {parts[-1] for parts in (line.split() for line in maps.splitlines()) if len(parts) >= 6}
    out = {}
    for lib, pattern in _LIB_PATTERNS.items():
        hits = sorted({os.path.realpath(f) for f in files if pattern.match(os.path.basename(f))})
        if len(hits) > 1:
            out[lib] = hits
    return out


def in_qgis_executable() -> bool:
    """True inside ``qgis``/``qgis_process`` (where QGIS's libraries are in the global symbol scope)."""
    try:
        return os.path.basename(os.readlink("/proc/self/exe")).startswith("qgis")
    except OSError:
        return False


def clash_message(clashes: dict[str, list[str]]) -> str:
    """Warning text for :func:`native_library_clashes` results (empty when there are none)."""
    if not clashes:
        return ""
    libs = "; ".join(f"{_LIB_NAMES[k]}: {', '.join(v)}" for k, v in clashes.items())
    return ("Two copies of a library QGIS itself uses are loaded (" + libs + "). They come from pip wheels "
            "(pyproj, shapely, pyogrio) on QGIS's Python path; code then mixes the two versions and "
            "qgis_process crashes at exit. Remove those wheels and install the dependencies with:\n    "
            + install_command())


def native_library_problem() -> str:
    """Inside QGIS: load pyproj and shapely and return :func:`clash_message` if that mapped a second
    PROJ/GEOS/GDAL (empty string when all is well or outside a QGIS executable).

    Called before any work, so a mixed installation stops with the fix instead of computing with
    two library versions and crashing at exit.
    """
    if not in_qgis_executable():
        return ""
    import pyproj  # noqa: F401  (maps pyproj's PROJ)
    import shapely  # noqa: F401  (maps shapely's GEOS)

    return clash_message(native_library_clashes())
