"""The plugin's algorithms from the command line: ``qgis_process`` (QGIS 3.22, Debian package ``qgis``)
with the built plugin zip installed into a throw-away QGIS profile.

The test builds dist/regio_qgis-<version>.zip into a temporary folder, unzips it into
``<tmp>/profiles/default/python/plugins/``, enables it in ``QGIS3.ini`` and points qgis_process at
that profile with QGIS_CUSTOM_CONFIG_PATH. The vendored ``centrality``/``geoproc`` come from the
zip's ext_libs; the third-party packages (numpy, geopandas, numba, ...) from this venv's
site-packages via PYTHONPATH (qgis_process embeds Debian's /usr/bin/python3, the same 3.11).

Debian's /usr/bin/qgis_process is a shell wrapper that passes ``--noversioncheck`` (from
/etc/default/qgis), an option only the ``qgis`` GUI knows: qgis_process 3.22 answers
"Command --noversioncheck not known!" and exits. So the real binary ``qgis_process.bin`` next to
the wrapper is run when it exists.

Shared-library clash (found here): the pip wheels of pyproj/pyogrio bundle their own libproj
(renamed file, same C++ symbols). Loaded into qgis_process, which already has Debian's
libproj.so.25 in the global symbol scope, the wheel's libproj binds its static objects to the
system library's symbols, so at process exit libproj's static destructors run twice: the algorithm
finishes and writes its output, then qgis_process dies with SIGSEGV (exit 139) in
``osgeo::proj::common::UnitOfMeasure::~UnitOfMeasure`` (gdb backtrace, __cxa_finalize of
libproj.so.25). Loading Python extension modules with RTLD_DEEPBIND makes each wheel library
prefer its own symbols and the exit is clean (0). The test sets that flag with a
``sitecustomize.py`` on PYTHONPATH -- the same thing a user who pip-installs the dependencies
into the distribution's QGIS needs (with Debian's python3-pyproj etc. there is no second libproj).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.qgis

ALGORITHMS = ("build_network", "centrality", "od_matrix", "attractiveness", "road_scenario", "business_attractiveness")
TOWNS = ("Midtby", "Kystvik")  # zone subset: two towns (keeps the run short)


def qgis_process_binary() -> str | None:
    """Path of the runnable qgis_process (Debian: the .bin behind the wrapper), or None."""
    wrapper = shutil.which("qgis_process")
    if wrapper and Path(wrapper + ".bin").is_file():
        return wrapper + ".bin"
    return wrapper


QGIS_PROCESS = qgis_process_binary()
if QGIS_PROCESS is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI is set but qgis_process is not installed; run scripts/setup.sh --test "
                           "(installs the Debian package 'qgis')")
    pytest.skip("qgis_process is not installed (Debian package 'qgis'; scripts/setup.sh --test)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def profile(tmp_path_factory) -> Path:
    """A QGIS config folder with the built plugin zip installed and enabled (the default profile)."""
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        from build_plugin import PLUGIN_DIR, build
    finally:
        sys.path.remove(str(REPO / "scripts"))
    root = tmp_path_factory.mktemp("qgis_config")
    zip_path = build(out_dir=root / "dist")
    plugins = root / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(plugins)
    assert (plugins / PLUGIN_DIR / "ext_libs" / "centrality" / "pipeline.py").is_file()
    ini = root / "profiles" / "default" / "QGIS" / "QGIS3.ini"
    ini.parent.mkdir(parents=True)
    ini.write_text(f"[PythonPlugins]\n{PLUGIN_DIR}=true\n", encoding="utf-8")
    (root / "pystartup").mkdir()
    (root / "pystartup" / "sitecustomize.py").write_text(DEEPBIND, encoding="utf-8")
    return root


# wheels' bundled libproj/libgdal must not bind to QGIS's system copies (see the module docstring)
DEEPBIND = "import os, sys\nsys.setdlopenflags(os.RTLD_NOW | os.RTLD_DEEPBIND)\n"


def qgis_process(profile: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run qgis_process headless against ``profile`` with the venv's third-party packages visible."""
    site = sysconfig.get_paths()["purelib"]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QGIS_CUSTOM_CONFIG_PATH": str(profile),
           "PYTHONPATH": os.pathsep.join(p for p in (str(profile / "pystartup"), site, os.environ.get("PYTHONPATH", ""))
                                         if p),
           "NUMBA_CACHE_DIR": os.environ.get("NUMBA_CACHE_DIR", str(REPO / ".cache" / "numba"))}
    return subprocess.run([QGIS_PROCESS, *args], env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=profile)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Demo roads and a two-town zone subset written as GeoPackages; the core network and zones."""
    from centrality.synthetic import demo_region

    demo = demo_region()
    folder = tmp_path_factory.mktemp("qgis_process_data")
    zones = demo.zones[demo.zones["town"].isin(TOWNS)].reset_index(drop=True)
    demo.roads.to_file(folder / "roads.gpkg", layer="roads", driver="GPKG")
    zones.to_file(folder / "zones.gpkg", layer="zones", driver="GPKG")
    return {"folder": folder, "demo": demo, "zones": zones}


def road_args(demo, roads: Path) -> list[str]:
    opts = demo.network_options
    return [f"ROADS={roads}", f"CLASS_FIELD={opts['class_field']}", f"DIRECTION_FIELD={opts['direction_field']}",
            f"TIME_FW_FIELD={opts['time_fw_field']}", f"TIME_UNIT={0 if opts['time_unit'] == 'min' else 1}",
            f"ID_FIELD={opts['id_field']}"]


def test_list_shows_every_regio_algorithm(profile):
    res = qgis_process(profile, "list")
    assert res.returncode == 0, res.stderr
    listed = {line.split()[0] for line in res.stdout.splitlines() if line.strip().startswith("regio:")}
    assert listed == {f"regio:{name}" for name in ALGORITHMS}, res.stdout[-2000:] + res.stderr


def test_run_centrality_equals_core(profile, inputs):
    import geopandas as gpd

    from centrality.builders.lines import network_from_lines
    from centrality.pipeline import run_centrality

    folder, demo = inputs["folder"], inputs["demo"]
    out = folder / "centrality.gpkg"
    res = qgis_process(profile, "--json", "run", "regio:centrality", "--",
                       *road_args(demo, folder / "roads.gpkg"), f"ZONES={folder / 'zones.gpkg'}",
                       "ZONE_ID_FIELD=zone_id", "POP_FIELD=population", "JOBS_FIELD=jobs", "CUTOFF=90",
                       "LIMITS=30,60", "DECAY=exp", f"OUTPUT={out}")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    report = json.loads(res.stdout[res.stdout.index("{"):])
    assert report["algorithm_details"]["id"] == "regio:centrality"
    assert Path(report["results"]["OUTPUT"].split("|")[0]) == out
    got = gpd.read_file(out).set_index("zone_id").sort_index()

    network = network_from_lines(demo.roads, **demo.network_options)
    core = run_centrality(network, inputs["zones"], limits_min=(30, 60)).zones.set_index("zone_id").sort_index()
    assert got.index.equals(core.index) and len(got) == len(inputs["zones"])
    for col in ("population", "jobs", "jobs_30min", "jobs_60min", "access_decay", "index", "centrality_class"):
        np.testing.assert_allclose(got[col].to_numpy(float), core[col].to_numpy(float), rtol=1e-9, atol=1e-9,
                                   err_msg=col)
    assert got["index"].max() == pytest.approx(1000.0)
    assert (got["jobs_60min"] >= got["jobs_30min"]).all() and got["jobs_30min"].min() > 0
    assert got.crs.equals(inputs["zones"].crs)


def test_bad_parameter_fails_with_the_plugins_message(profile, inputs):
    folder, demo = inputs["folder"], inputs["demo"]
    out = folder / "never.gpkg"
    res = qgis_process(profile, "run", "regio:centrality", "--", *road_args(demo, folder / "roads.gpkg"),
                       f"ZONES={folder / 'zones.gpkg'}", "ZONE_ID_FIELD=zone_id", "POP_FIELD=population",
                       "JOBS_FIELD=jobs", "LIMITS=thirty", f"OUTPUT={out}")
    assert res.returncode == 1, (res.returncode, res.stderr[-2000:])  # a clean failure, not a signal
    assert "comma-separated list of minutes" in res.stdout + res.stderr
    assert not out.exists()
