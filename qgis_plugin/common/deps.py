"""Check that the third-party Python packages the core needs are importable in QGIS's Python.

QGIS ships its own Python; geopandas, numba etc. must be installed into it. When one is missing we
show the exact pip command instead of an ImportError traceback.
"""
from __future__ import annotations

import importlib.util
import sys

# import name -> pip distribution name
CORE_PACKAGES: dict[str, str] = {
    "numpy": "numpy<2",
    "scipy": "scipy",
    "pandas": "pandas",
    "geopandas": "geopandas",
    "shapely": "shapely",
    "pyproj": "pyproj",
    "pyogrio": "pyogrio",
    "numba": "numba",
}
OSM_PACKAGES: dict[str, str] = {"osmium": "osmium"}


def missing_packages(packages: dict[str, str] | None = None) -> list[str]:
    """Pip names of the packages in ``packages`` (default: the core set) that cannot be imported."""
    packages = CORE_PACKAGES if packages is None else packages
    return [pip for mod, pip in packages.items() if importlib.util.find_spec(mod) is None]


def pip_command(pip_names: list[str]) -> str:
    """The command that installs ``pip_names`` into the Python that runs QGIS on this platform."""
    names = " ".join(f'"{n}"' if "<" in n else n for n in pip_names)
    if sys.platform.startswith("win"):
        return f"python -m pip install {names}   (run in the OSGeo4W Shell as administrator)"
    if sys.platform == "darwin":
        return f"/Applications/QGIS.app/Contents/MacOS/bin/python3 -m pip install --user {names}"
    return f"{sys.executable if 'python' in sys.executable else 'python3'} -m pip install --user {names}"


def missing_message(pip_names: list[str]) -> str:
    """User-facing text naming the missing packages and how to install them."""
    return (
        "The Regio plugin needs Python packages that are not installed in QGIS's Python: "
        f"{', '.join(pip_names)}. Install them with:\n    {pip_command(pip_names)}\n"
        "then restart QGIS. See the plugin's README for details."
    )


def check(packages: dict[str, str] | None = None) -> tuple[bool, str]:
    """``(True, "")`` when everything imports, else ``(False, message with the pip command)``."""
    missing = missing_packages(packages)
    return (not missing, missing_message(missing) if missing else "")
