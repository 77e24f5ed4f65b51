#!/usr/bin/env python3
"""Build the installable QGIS plugin zip: dist/regio_qgis-<version>.zip.

The zip holds one folder ``regio_qgis/`` with the plugin (qgis_plugin/*), ``metadata.txt``, the
icon, and vendored copies of the pure-Python packages ``centrality/`` and ``geoproc/`` under
``regio_qgis/ext_libs/`` (the plugin puts that folder first on sys.path), so the plugin works once
the third-party dependencies (numpy, geopandas, numba, ...) are pip-installed into QGIS's Python.
The zip is written atomically (temporary file renamed on success).

Usage: python scripts/build_plugin.py [--out DIR]
"""
from __future__ import annotations

import argparse
import configparser
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PLUGIN_DIR = "regio_qgis"
VENDORED = ("centrality", "geoproc")
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache"}
SKIP_SUFFIXES = {".pyc", ".pyo"}


def plugin_version(metadata: Path) -> str:
    """The ``version`` of metadata.txt's [general] section."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(metadata, encoding="utf-8")
    try:
        return parser["general"]["version"].strip()
    except KeyError:
        raise SystemExit(f"{metadata}: no [general] version; add 'version=X.Y.Z'.") from None


def _files(folder: Path):
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not (set(path.relative_to(folder).parts) & SKIP_DIRS) and path.suffix not in SKIP_SUFFIXES:
            yield path


def zip_members(repo: Path = REPO) -> list[tuple[Path, str]]:
    """(source file, name inside the zip) for every file of the plugin."""
    members = [(p, f"{PLUGIN_DIR}/{p.relative_to(repo / 'qgis_plugin').as_posix()}") for p in _files(repo / "qgis_plugin")]
    members.append((repo / "metadata.txt", f"{PLUGIN_DIR}/metadata.txt"))
    for extra in ("LICENSE", "LICENSE.txt"):
        if (repo / extra).is_file():
            members.append((repo / extra, f"{PLUGIN_DIR}/{extra}"))
    for package in VENDORED:
        members += [(p, f"{PLUGIN_DIR}/ext_libs/{p.relative_to(repo).as_posix()}") for p in _files(repo / package)]
    return members


def build(out_dir: Path | None = None, repo: Path = REPO) -> Path:
    """Write dist/regio_qgis-<version>.zip atomically and return its path."""
    sys.path.insert(0, str(repo))
    from centrality.fileio import atomic_write

    metadata = repo / "metadata.txt"
    if not metadata.is_file():
        raise SystemExit(f"{metadata} is missing: the plugin needs it.")
    out = (out_dir or repo / "dist") / f"{PLUGIN_DIR}-{plugin_version(metadata)}.zip"
    with atomic_write(out) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for src, name in zip_members(repo):
            zf.write(src, name)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: dist/)")
    args = parser.parse_args(argv)
    path = build(args.out)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
