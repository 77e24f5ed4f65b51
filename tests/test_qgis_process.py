"""Every algorithm from the command line, the way a user runs it: ``qgis_process`` (Debian's
``/usr/bin/qgis_process``, QGIS 3.22) with the built plugin zip installed in a throw-away profile
and the dependencies installed by the plugin's own ``install_deps.py``.

- The plugin zip is unpacked into ``<tmp>/profiles/default/python/plugins/`` and enabled in
  ``QGIS3.ini``; QGIS_CUSTOM_CONFIG_PATH points qgis_process at that folder.
- The dependencies are the folder ``scripts/setup.sh --test`` makes with
  ``install_deps.py --dest .cache/qgis-deps`` (the command the plugin shows its users), linked
  into the profile as ``python/regio-deps``, the plugin's default location. No PYTHONPATH, no
  sitecustomize: the test environment is the user's.
- Each run must exit 0 (no crash at exit: one PROJ and one GEOS in the process, see
  qgis_plugin/install_deps.py) and write the same values as the core library computes here.
- Debian's ``/usr/bin/qgis_process`` wrapper passes ``--noversioncheck`` from
  /etc/default/qgis, which qgis_process 3.22 rejects; ``scripts/fix_qgis_process_wrapper.sh``
  (run by setup.sh --test) limits that option to the desktop, so the real path works.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
DEPS = REPO / ".cache" / "qgis-deps"
pytestmark = pytest.mark.qgis

ALGORITHMS = ("build_network", "centrality", "od_matrix", "model_table", "attractiveness", "road_scenario",
              "business_attractiveness")
TOWNS = ("Midtby", "Kystvik")  # zone subset: two towns (keeps the runs short)
QGIS_PROCESS = shutil.which("qgis_process")


def _fail_or_skip(reason: str):
    if os.environ.get("CI"):
        raise RuntimeError(f"CI is set but {reason}; run scripts/setup.sh --test")
    pytest.skip(reason, allow_module_level=True)


if QGIS_PROCESS is None:
    _fail_or_skip("qgis_process is not installed (Debian package 'qgis')")
if not (DEPS / "pyvenv.cfg").is_file():
    _fail_or_skip(f"the plugin dependencies are not installed in {DEPS} (install_deps.py)")


@pytest.fixture(scope="module")
def profile(tmp_path_factory) -> Path:
    """A QGIS config folder with the built plugin zip installed and enabled, deps in python/regio-deps."""
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        from build_plugin import PLUGIN_DIR, build
    finally:
        sys.path.remove(str(REPO / "scripts"))
    root = tmp_path_factory.mktemp("qgis_config")
    zip_path = build(out_dir=root / "dist")
    python = root / "profiles" / "default" / "python"
    (python / "plugins").mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(python / "plugins")
    assert (python / "plugins" / PLUGIN_DIR / "ext_libs" / "centrality" / "pipeline.py").is_file()
    (python / "regio-deps").symlink_to(DEPS, target_is_directory=True)
    ini = root / "profiles" / "default" / "QGIS" / "QGIS3.ini"
    ini.parent.mkdir(parents=True)
    ini.write_text(f"[PythonPlugins]\n{PLUGIN_DIR}=true\n", encoding="utf-8")
    return root


def qgis_process(profile: Path, *args: str, timeout: float = 600, pythonpath: str | None = None):
    """Run qgis_process headless against ``profile``; only the profile decides what Python sees."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update({"QT_QPA_PLATFORM": "offscreen", "QGIS_CUSTOM_CONFIG_PATH": str(profile), "PYTHONNOUSERSITE": "1",
                "NUMBA_CACHE_DIR": str(REPO / ".cache" / "numba-qgis"),
                "PATH": os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)})
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return subprocess.run([QGIS_PROCESS, *args], env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=profile)


def run_json(profile: Path, alg: str, *params: str, **kw):
    res = qgis_process(profile, "--json", "run", f"regio:{alg}", "--", *params, **kw)
    assert res.returncode == 0, f"{alg}: exit {res.returncode}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    assert "partially supported" not in res.stdout + res.stderr  # no GeoPackage 1.4 warnings
    assert "Two copies of a library" not in res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    return json.loads(res.stdout[res.stdout.index("{"):])


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Demo roads, a two-town zone subset (points and polygons) and three kommuner as GeoPackages 1.2."""
    from centrality.builders.lines import network_from_lines
    from centrality.fileio import write_gpkg
    from centrality.synthetic import demo_region

    demo = demo_region()
    folder = tmp_path_factory.mktemp("qgis_process_data")
    zones = demo.zones[demo.zones["town"].isin(TOWNS)].reset_index(drop=True)
    write_gpkg(demo.roads, folder / "roads.gpkg", "roads")
    write_gpkg(zones, folder / "zones.gpkg", "zones")
    network = network_from_lines(demo.roads, **demo.network_options)
    return {"folder": folder, "demo": demo, "zones": zones, "network": network}


def road_args(demo, roads: Path) -> list[str]:
    opts = demo.network_options
    return [f"ROADS={roads}", f"CLASS_FIELD={opts['class_field']}", f"DIRECTION_FIELD={opts['direction_field']}",
            f"TIME_FW_FIELD={opts['time_fw_field']}", f"TIME_UNIT={0 if opts['time_unit'] == 'min' else 1}",
            f"ID_FIELD={opts['id_field']}"]


def zone_args(folder: Path) -> list[str]:
    return [f"ZONES={folder / 'zones.gpkg'}", "ZONE_ID_FIELD=zone_id", "POP_FIELD=population", "JOBS_FIELD=jobs"]


def has_default_style(path: Path) -> bool:
    with sqlite3.connect(path) as con:
        return bool(con.execute("select count(*) from layer_styles where useAsDefault").fetchone()[0])


def test_real_qgis_process_path_works():
    """/usr/bin/qgis_process itself (Debian's wrapper), not qgis_process.bin."""
    res = subprocess.run([QGIS_PROCESS, "--version"], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert res.returncode == 0 and "QGIS 3." in res.stdout, (
        "Debian's qgis_process wrapper fails (it passes --noversioncheck from /etc/default/qgis); "
        f"run scripts/fix_qgis_process_wrapper.sh as root.\n{res.stdout}{res.stderr}")


def test_list_shows_every_regio_algorithm(profile):
    res = qgis_process(profile, "list")
    assert res.returncode == 0, res.stderr
    listed = {line.split()[0] for line in res.stdout.splitlines() if line.strip().startswith("regio:")}
    assert listed >= {f"regio:{name}" for name in ALGORITHMS}, res.stdout[-2000:] + res.stderr


def test_build_network(profile, inputs):
    import geopandas as gpd

    folder, net = inputs["folder"], inputs["network"]
    out = folder / "links.gpkg"
    report = run_json(profile, "build_network", *road_args(inputs["demo"], folder / "roads.gpkg"), f"LINKS={out}")
    assert Path(report["results"]["LINKS"].split("|")[0]) == out
    links = gpd.read_file(out, layer="links").set_index("link_id").sort_index()
    core = net.links.sort_index()
    assert links.index.equals(core.index)
    np.testing.assert_allclose(links["time_fw_s"], core["time_fw_s"], rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(links["speed_kmh"], links["length_m"] / np.fmin(links["time_fw_s"].fillna(np.inf),
                                                                               links["time_bw_s"].fillna(np.inf)) * 3.6)
    assert has_default_style(out)


def test_centrality(profile, inputs):
    import geopandas as gpd

    from centrality.pipeline import run_centrality

    folder, demo = inputs["folder"], inputs["demo"]
    out = folder / "centrality.gpkg"
    report = run_json(profile, "centrality", *road_args(demo, folder / "roads.gpkg"), *zone_args(folder),
                      "CUTOFF=90", "LIMITS=30,60", "WORKERS=2", f"OUTPUT={out}")
    assert report["algorithm_details"]["id"] == "regio:centrality"
    got = gpd.read_file(out, layer="centrality").set_index("zone_id").sort_index()
    core = run_centrality(inputs["network"], inputs["zones"], limits_min=(30, 60)).zones.set_index("zone_id").sort_index()
    assert got.index.equals(core.index) and len(got) == len(inputs["zones"])
    for col in ("population", "jobs", "jobs_30min", "jobs_60min", "access_decay", "index", "centrality_class"):
        np.testing.assert_allclose(got[col].to_numpy(float), core[col].to_numpy(float), rtol=1e-9, atol=1e-9,
                                   err_msg=col)
    assert got["index"].max() == pytest.approx(1000.0)
    assert got["name"].tolist() == core["name"].tolist()  # input attributes kept
    assert pd.api.types.is_integer_dtype(got["population"])
    assert got.crs.equals(inputs["zones"].crs) and has_default_style(out)


def test_centrality_with_a_30_minute_cutoff_just_works(profile, inputs):
    """The default decay follows the cutoff, limits above it are left out (the old plugin failed here)."""
    import geopandas as gpd

    from centrality.pipeline import run_centrality

    folder, demo = inputs["folder"], inputs["demo"]
    out = folder / "centrality30.gpkg"
    res = qgis_process(profile, "run", "regio:centrality", "--", *road_args(demo, folder / "roads.gpkg"),
                       *zone_args(folder), "CUTOFF=30", f"OUTPUT={out}")
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert "not counted: beyond the maximum travel time of 30 min" in res.stdout
    got = gpd.read_file(out, layer="centrality30").set_index("zone_id").sort_index()
    core = run_centrality(inputs["network"], inputs["zones"], cutoff_min=30, limits_min=(30,)).zones
    core = core.set_index("zone_id").sort_index()
    np.testing.assert_allclose(got["access_decay"], core["access_decay"], rtol=1e-9)


def test_od_matrix(profile, inputs):
    from centrality.paths import od_times
    from centrality.zones import load_zones, snap_zones

    folder, demo = inputs["folder"], inputs["demo"]
    out = folder / "od.csv"
    run_json(profile, "od_matrix", *road_args(demo, folder / "roads.gpkg"), f"ORIGINS={folder / 'zones.gpkg'}",
             "ORIGIN_ID_FIELD=zone_id", "CUTOFF=45", f"OUTPUT={out}")
    table = pd.read_csv(out)
    z = snap_zones(load_zones(inputs["zones"], id_col="zone_id", pop_col="population", jobs_col="jobs"),
                   inputs["network"], id_col="zone_id")
    core = od_times(inputs["network"], z, cutoff_min=45).to_frame(z)
    assert list(table.columns) == ["origin_id", "dest_id", "minutes"] and len(table) == len(core)
    merged = table.merge(core, on=["origin_id", "dest_id"], suffixes=("", "_core"))
    assert len(merged) == len(core)
    np.testing.assert_allclose(merged["minutes"], merged["minutes_core"], rtol=1e-12)


def test_road_scenario(profile, inputs):
    import geopandas as gpd

    from geoproc.scenario import CentralitySettings, ImpactOptions, parse_scenarios, run_scenarios

    folder, demo = inputs["folder"], inputs["demo"]
    out, links = folder / "scenario.gpkg", folder / "changed.gpkg"
    report = run_json(profile, "road_scenario", *road_args(demo, folder / "roads.gpkg"), "USE_SELECTED=false",
                      "EXPRESSION=\"highway\" = 'motorway'", "NEW_SPEED=130", *zone_args(folder),
                      "GROUP_FIELD=kommune", "GROUP_NAME_FIELD=town", f"OUTPUT={out}", f"LINKS={links}")
    sc = parse_scenarios({"variants": [{"name": "e6", "edits": [
        {"action": "set_speed", "ids": [int(i) for i in demo.motorway_link_ids], "speed_kmh": 130.0}]}]})
    core = run_scenarios(sc, inputs["network"], inputs["zones"], group_col="kommune", settings=CentralitySettings(),
                         impact=ImpactOptions(start_year=2025, end_year=2040)).variants[0]
    got = gpd.read_file(out, layer="scenario").set_index("zone_id").sort_index()
    ref = core.zones.set_index("zone_id").sort_index()
    for col in ("delta_index", "delta_migrants_per_year", "delta_population"):
        np.testing.assert_allclose(got[col], ref[col], rtol=1e-9, atol=1e-12, err_msg=col)
    assert report["results"]["DELTA_MIGRANTS_PER_YEAR"] == pytest.approx(ref["delta_migrants_per_year"].sum(), rel=1e-9)
    assert has_default_style(out) and has_default_style(links)


def test_model_table_and_attractiveness_from_ssb_files(profile, inputs, tmp_path):
    """The QGIS path to the model: SSB files -> VRA/DS table (model_table) -> attractiveness map."""
    import geopandas as gpd
    from conftest import shared_path

    from centrality.fileio import write_gpkg

    data = shared_path("ssb").parent
    table = tmp_path / "model_table.csv"
    run_json(profile, "model_table", f"DATA_DIR={data}", "START_YEAR=2020", "END_YEAR=2020", f"OUTPUT={table}")
    stats = pd.read_csv(table, dtype={"kommune": str})
    assert {"year", "kommune", "net_migration", "population", "vra_t", "vra_t1", "vra_t2", "ds"} <= set(stats.columns)
    assert sorted(stats["year"].unique()) == [2020] and len(stats) == 356 and stats["kommune"].str.len().eq(4).all()
    polys = gpd.read_file(data / "kommuner_2020.geojson")
    polys = polys[polys["kommunenummer"].isin([5001, 5035, 5037, 5038])].assign(sentral=[891.0, 801.0, 755.0, 749.0])
    write_gpkg(polys, tmp_path / "kommuner.gpkg", "kommuner")
    out = tmp_path / "attractiveness.gpkg"
    run_json(profile, "attractiveness", f"KOMMUNER={tmp_path / 'kommuner.gpkg'}", "KOMMUNE_FIELD=kommunenummer",
             "CENTRALITY_FIELD=sentral", f"STATS={table}", "STATS_KOMMUNE_FIELD=kommune", "YEAR_FIELD=year",
             "NET_MIGRATION_FIELD=net_migration", "POPULATION_FIELD=population", "VRA_T_FIELD=vra_t",
             "VRA_T1_FIELD=vra_t1", "VRA_T2_FIELD=vra_t2", "DS_FIELD=ds", f"OUTPUT={out}")
    got = gpd.read_file(out, layer="attractiveness").set_index("kommune")
    assert sorted(got.index) == ["5001", "5035", "5037", "5038"] and got.loc["5037", "navn"] == "Levanger"
    assert got["attractiveness_pct"].notna().all() and sorted(got["rank"]) == [1, 2, 3, 4]
    assert has_default_style(out)


def test_business_attractiveness(profile, tmp_path):
    """Shift-share through qgis_process on the hand-computed case (tests/business_support.py)."""
    import geopandas as gpd
    from shapely.geometry import box

    from centrality.fileio import write_gpkg
    from tests.business_support import jobs_by_branch, population

    jobs_by_branch().to_csv(tmp_path / "jobs.csv", index=False)
    population().to_csv(tmp_path / "population.csv", index=False)
    polys = gpd.GeoDataFrame({"knr": [1001, 1002]}, geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)],
                             crs="EPSG:25833")
    write_gpkg(polys, tmp_path / "kommuner.gpkg", "kommuner")
    out = tmp_path / "business.gpkg"
    run_json(profile, "business_attractiveness", f"JOBS={tmp_path / 'jobs.csv'}",
             f"POPULATION={tmp_path / 'population.csv'}", "ELASTICITY=0.5", f"KOMMUNER={tmp_path / 'kommuner.gpkg'}",
             "KOMMUNE_FIELD=knr", "JOBS_KOMMUNE_FIELD=kommune", "JOBS_YEAR_FIELD=year", "BRANCH_FIELD=branch",
             "JOBS_FIELD=jobs", "POP_KOMMUNE_FIELD=kommune", "POP_YEAR_FIELD=year", "POPULATION_FIELD=population",
             f"OUTPUT={out}")
    got = gpd.read_file(out).set_index("kommune")
    row = got.loc["1001"]   # by hand: national 0.2, branch 1.3, population 2.5, attractiveness 1.0, private 5
    assert row["national"] == pytest.approx(0.2) and row["branch"] == pytest.approx(1.3)
    assert row["population"] == pytest.approx(2.5) and row["attractiveness"] == pytest.approx(1.0)
    assert row["private"] == pytest.approx(5.0) and len(got) == 2
    assert has_default_style(out)


def test_bad_parameter_fails_once_with_the_plugins_message(profile, inputs):
    folder, demo = inputs["folder"], inputs["demo"]
    out = folder / "never.gpkg"
    res = qgis_process(profile, "run", "regio:centrality", "--", *road_args(demo, folder / "roads.gpkg"),
                       *zone_args(folder), "LIMITS=thirty", f"OUTPUT={out}")
    assert res.returncode == 1, (res.returncode, res.stderr[-2000:])  # a clean failure, not a signal
    text = res.stdout + res.stderr
    assert text.count("comma-separated list of minutes") == 1, text[-2000:]
    assert not out.exists()


def test_wheels_next_to_qgis_are_recognised(profile, inputs, tmp_path):
    """Negative control: with the pip wheels of pyproj/shapely on PYTHONPATH (the old instructions)
    two PROJ libraries are mapped; the plugin stops before any work, naming the problem and the fix
    (before this check such a run crashed: SIGSEGV at exit, or earlier)."""
    import sysconfig

    folder, demo = inputs["folder"], inputs["demo"]
    res = qgis_process(profile, "run", "regio:centrality", "--", *road_args(demo, folder / "roads.gpkg"),
                       *zone_args(folder), "LIMITS=30", f"OUTPUT={tmp_path / 'wheels.gpkg'}",
                       pythonpath=sysconfig.get_paths()["purelib"])
    text = res.stdout + res.stderr
    # the algorithm refuses to run; the process still dies at exit (rc -11/139) because the wheel's
    # libproj is mapped and its static objects are destroyed twice -- the root cause the fix removes
    assert res.returncode != 0 and "Results" not in res.stdout, (res.returncode, text[-3000:])
    assert "Two copies of a library QGIS itself uses are loaded (PROJ" in text, text[-3000:]
    assert "install_deps.py" in text and not (tmp_path / "wheels.gpkg").exists()
