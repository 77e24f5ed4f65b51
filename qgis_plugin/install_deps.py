#!/usr/bin/env python3
"""Install the Regio plugin's Python dependencies for QGIS's own Python, into a private folder.

Run it with the Python interpreter QGIS embeds (the plugin shows the exact command, e.g.
``/usr/bin/python3.11 …/regio_qgis/install_deps.py --dest …/python/regio-deps``). Nothing is
installed into the system Python, so Debian 12's "externally-managed-environment" rule is
respected; the plugin puts the folder on ``sys.path`` when QGIS starts. Only the standard library
is used here, so the script runs before anything is installed.

Why Linux is special (the qgis_process crash at exit, rc 139)
------------------------------------------------------------
QGIS's executables (``qgis``, ``qgis_process``) link the system PROJ, GEOS, GDAL and OpenBLAS, so
these libraries sit in the process's *global* symbol scope. pip wheels of pyproj, shapely and
pyogrio bundle their own renamed copies (``pyproj.libs/libproj-….so.25``) that export the same
C/C++ symbols. ELF symbol lookup searches the global scope first, so inside QGIS the wheel's code
binds to the *system* library for most calls (``LD_DEBUG=bindings``: 1 825 symbols of the
pyproj wheel's libproj 9.5 resolved in Debian's libproj 9.1, shapely's GEOS 3.14 C API calls in
Debian's GEOS 3.11): two versions of one library mixed in one process. At exit libproj's static
C++ objects are destroyed twice and qgis_process dies with SIGSEGV after writing its output.
The fix is to have **one** copy of each: on Linux this script keeps the distribution's numpy and
pyproj (Debian: python3-numpy, python3-pyproj — dependencies of python3-qgis, linked to the same
BLAS and PROJ as QGIS), builds shapely from source against the system GEOS, and installs
geopandas without pyogrio (the plugin reads and writes layers through QGIS, never through GDAL
wheels). Packages without bundled copies of QGIS's libraries (pandas, numba/llvmlite, osmium)
come from wheels. scipy must be a wheel too (Debian 12's 1.10 hangs in ``connected_components``
on int64 index arrays): its bundled OpenBLAS kernels bind to the system OpenBLAS, which the plugin
never calls (it uses scipy's sparse graphs and k-d trees only) — stated in the README.
On Windows and macOS every DLL/dylib keeps its own symbols (no global scope), so wheels are fine.

Usage: python install_deps.py [--dest DIR] [--check] [--dry-run]
Exit status 0 = installed and verified, 2 = a prerequisite is missing (the message names the fix).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

DEPS_FOLDER = "regio-deps"  # inside <QGIS profile>/python/ (survives plugin upgrades)
ENV_DEPS = "REGIO_QGIS_DEPS"  # overrides the folder (tests, shared installations)

# Pinned versions for QGIS's Python (compatible with Debian 12's numpy 1.24 and pyproj 3.4).
WHEELS = ("scipy==1.15.3", "pandas==2.3.3", "numba==0.68.1", "llvmlite==0.50.0", "osmium==4.3.2", "tzdata",
          "pyjstat==2.4.0",  # pyjstat: SSB's JSON-stat (the model table's data layer imports it)
          "pymetis==2025.2.2")  # pymetis: node order of the contraction-hierarchy engine (centrality.ch)
FROM_SOURCE_LINUX = ("shapely==2.1.2",)  # built against the GEOS QGIS uses
NO_DEPS = ("geopandas==1.1.4",)  # without pyogrio: its wheel bundles a second GDAL and PROJ
SYSTEM_LINUX = {"numpy": "python3-numpy", "pyproj": "python3-pyproj"}  # must be the distribution's
ALL_PLATFORMS_EXTRA = ("numpy<2", "pyproj==3.7.2", "shapely==2.1.2")  # Windows/macOS: wheels
NATIVE_LIBS = ("libproj", "libgeos", "libgdal")  # libraries QGIS itself links; never a second copy


class Missing(Exception):
    """A prerequisite is missing; the message names the fix."""


def default_dest(plugin_dir: Path | None = None) -> Path:
    """``<profile>/python/regio-deps`` for a plugin installed in ``<profile>/python/plugins/<name>``.

    ``$REGIO_QGIS_DEPS`` wins. Outside a profile (development checkout) the caller must pass
    ``--dest``; the plugin computes it from QGIS's settings folder.
    """
    if os.environ.get(ENV_DEPS):
        return Path(os.environ[ENV_DEPS]).expanduser()
    plugin_dir = Path(plugin_dir or Path(__file__).resolve().parent)
    if plugin_dir.parent.name == "plugins" and plugin_dir.parent.parent.name == "python":
        return plugin_dir.parent.parent / DEPS_FOLDER
    raise Missing(f"{Path(__file__).name} is not inside a QGIS profile's python/plugins folder; "
                  "give the target folder with --dest DIR.")


def site_dir(dest: Path) -> Path:
    """The folder to put on ``sys.path``: the venv's site-packages, or ``dest`` itself (--target)."""
    if (dest / "pyvenv.cfg").is_file():
        if os.name == "nt":
            return dest / "Lib" / "site-packages"
        return dest / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    return dest


def bundled_native_copies(folder: Path) -> list[Path]:
    """Bundled copies of QGIS's own libraries (``*.libs/libproj-….so``) under ``folder``."""
    if not folder.is_dir():
        return []
    return sorted(p for libs in folder.glob("*.libs") for p in libs.iterdir()
                  if p.name.startswith(NATIVE_LIBS))


def _module_origin(name: str) -> Path | None:
    """Where this interpreter imports top-level module ``name`` from (without importing it)."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    return Path(spec.origin).parent if spec is not None and spec.origin else None


def linux_preflight() -> dict[str, str]:
    """Check what the Linux installation needs; raise Missing with the apt command otherwise.

    Returns the distribution's versions of SYSTEM_LINUX packages (they are pinned so pip keeps them).
    """
    import importlib.metadata as md

    problems, apt = [], []
    pins = {}
    for module, deb in SYSTEM_LINUX.items():
        origin = _module_origin(module)
        if origin is None:
            problems.append(f"{module} is not installed for {sys.executable}")
            apt.append(deb)
            continue
        if (origin.parent / f"{module}.libs").is_dir():  # a pip wheel with its own PROJ / OpenBLAS
            problems.append(f"{module} at {origin} is a pip wheel with its own native libraries; remove it "
                            f"(python3 -m pip uninstall {module}) so the distribution's {deb} is used")
            continue
        pins[module] = md.version(module)
    if "numpy" in pins and int(pins["numpy"].split(".")[0]) >= 2:
        problems.append(f"numpy {pins['numpy']} is installed; QGIS's GDAL bindings need numpy < 2")
    if shutil.which("geos-config") is None:
        problems.append("the GEOS headers (geos-config) are missing: shapely is built against QGIS's GEOS")
        apt.append("libgeos-dev")
    include = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not include.is_file():
        problems.append(f"the Python headers ({include}) are missing")
        apt.append(f"python{sys.version_info.major}-dev")
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        problems.append("no C compiler (cc)")
        apt.append("g++")
    try:
        import ensurepip  # noqa: F401
        import venv  # noqa: F401
    except ImportError:
        problems.append("the venv module is missing")
        apt.append(f"python{sys.version_info.major}-venv")
    if problems:
        fix = f"\n    sudo apt install {' '.join(dict.fromkeys(apt))}" if apt else ""
        raise Missing("cannot install the Regio dependencies yet:\n  - " + "\n  - ".join(problems) + fix
                      + "\nthen run this command again.")
    return pins


def _run(cmd: list[str], dry_run: bool) -> None:
    print("+ " + " ".join(f'"{c}"' if " " in c else c for c in cmd), flush=True)
    if not dry_run:
        subprocess.run(cmd, check=True)


def install_linux(dest: Path, dry_run: bool = False) -> Path:
    """Virtual environment with system site packages at ``dest`` (sees Debian's numpy/pyproj)."""
    pins = linux_preflight()
    if dest.exists() and any(dest.iterdir()) and not (dest / "pyvenv.cfg").is_file():
        raise Missing(f"{dest} exists, is not empty and is not an environment made by this script; "
                      "choose another --dest or remove it.")
    if not (dest / "pyvenv.cfg").is_file():
        _run([sys.executable, "-m", "venv", "--system-site-packages", str(dest)], dry_run)
    python = str(dest / "bin" / "python")
    constraints = dest / "constraints-system.txt"
    text = "".join(f"{name}=={version}\n" for name, version in sorted(pins.items()))
    print(f"keeping the distribution's {', '.join(f'{k} {v}' for k, v in sorted(pins.items()))} ({constraints})")
    if not dry_run:
        constraints.write_text("# written by install_deps.py: keep the distribution's builds\n" + text,
                               encoding="utf-8")
    pip = [python, "-m", "pip", "install", "--disable-pip-version-check"]
    _run(pip + ["-c", str(constraints), "--no-binary", "shapely", *WHEELS, *FROM_SOURCE_LINUX], dry_run)
    _run(pip + ["--no-deps", *NO_DEPS], dry_run)
    return Path(python)


def install_target(dest: Path, dry_run: bool = False) -> Path:
    """Windows/macOS: wheels into the folder ``dest`` (``pip install --target``)."""
    _run([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--upgrade", "--target", str(dest),
          *ALL_PLATFORMS_EXTRA, *WHEELS], dry_run)
    _run([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--upgrade", "--no-deps",
          "--target", str(dest), *NO_DEPS], dry_run)
    return Path(sys.executable)


VERIFY = """
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
out = {}
for name in ("numpy", "scipy", "pandas", "shapely", "pyproj", "geopandas", "numba", "osmium"):
    m = importlib.import_module(name)
    out[name] = [getattr(m, "__version__", "?"), m.__file__]
import shapely
out["geos"] = ".".join(map(str, shapely.geos_version))
print(json.dumps(out))
"""


def verify(python: Path, dest: Path) -> dict:
    """Import everything with ``python`` (site dir first) and refuse bundled copies of QGIS's libraries."""
    res = subprocess.run([str(python), "-c", VERIFY, str(site_dir(dest))], capture_output=True, text=True)
    if res.returncode != 0:
        raise Missing(f"the installed packages do not import:\n{res.stderr[-2000:]}")
    found = json.loads(res.stdout.strip().splitlines()[-1])
    if sys.platform.startswith("linux"):
        copies = bundled_native_copies(site_dir(dest))
        if copies:
            raise Missing("the installation contains second copies of QGIS's native libraries, which crash "
                          "qgis_process: " + ", ".join(map(str, copies)))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, help=f"target folder (default: <profile>/python/{DEPS_FOLDER})")
    parser.add_argument("--check", action="store_true", help="only check the prerequisites")
    parser.add_argument("--dry-run", action="store_true", help="print the commands without running them")
    args = parser.parse_args(argv)
    try:
        dest = (args.dest or default_dest()).expanduser().resolve()
        print(f"Regio dependencies for {sys.executable} (Python {sys.version.split()[0]}) into {dest}")
        linux = sys.platform.startswith("linux")
        if args.check:
            pins = linux_preflight() if linux else {}
            print("prerequisites OK" + (f"; keeping {pins}" if pins else ""))
            return 0
        python = install_linux(dest, args.dry_run) if linux else install_target(dest, args.dry_run)
        if args.dry_run:
            return 0
        found = verify(python, dest)
    except Missing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(f"error: {' '.join(map(str, exc.cmd))} failed with exit status {exc.returncode}; see its output above.",
              file=sys.stderr)
        return 1
    for name, value in found.items():
        print(f"  {name:<10} {value if isinstance(value, str) else value[0] + '  ' + value[1]}")
    print(f"Done. Restart QGIS: the Regio plugin adds {site_dir(dest)} to its Python path.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
