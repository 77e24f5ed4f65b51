"""The bad-input catalogue (issue 13): hostile inputs against the `regio` program.

Every case runs the real command line (``geoproc.cli.main``, in-process) on the synthetic demo
region's files (roads, zones) or small model tables, with one thing broken, and asserts

- the exit status (2 for every foreseeable failure),
- one ``regio: error:`` line on stderr with a phrase naming the problem (and no traceback),
- that nothing was written and no input changed: the case's folder is byte-for-byte as before
  (every file's size and modification time), and no listed output exists.

Cases marked ``issue=`` are the ones listed in issue 13; ``CATEGORY`` counts them per area.
SSB cases talk to a fake PxWebApi server on 127.0.0.1 (tests/fake_ssb.py) with a bounded number
of answers. Most cases fail in the preflight, before any network is built.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest

from hostile import files_under, unwritable_folder

REPO = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="session")
def pristine(tmp_path_factory):
    """The demo region's inputs, written once: roads.gpkg (layer roads), zones.gpkg (zones, zone_areas,
    kommuner), a 60-zone subset (small.gpkg, for runs that compute), model tables (CSV)."""
    from centrality.synthetic import demo_region, write_demo_data

    folder = tmp_path_factory.mktemp("pristine")
    region = demo_region()
    write_demo_data(folder, region=region)
    small = region.zones.iloc[::13].copy()
    small.to_file(folder / "small.gpkg", layer="zones", driver="GPKG")
    for name, df in model_tables().items():
        df.to_csv(folder / f"{name}.csv", index=False)
    shutil.copy(REPO / "geoproc" / "scenario" / "demo_scenario.toml", folder / "scenarios.toml")
    return folder


MODEL_KOMMUNER = ["3001", "3002", "3003", "3004", "3005", "3006", "3007", "3011"]  # valid 2020 codes


def model_tables(seed: int = 1) -> dict[str, pd.DataFrame]:
    """8 kommuner (2020 codes), 2014–2022: the synthetic tables of tests/test_model_cli.py."""
    sys.path.insert(0, str(Path(__file__).parent))
    from test_model_cli import KOMMUNER, synthetic_tables

    recode = dict(zip(KOMMUNER, MODEL_KOMMUNER))
    out = {}
    for name, df in synthetic_tables(seed).items():
        df = df.copy()
        for col in ("kommune", "home_kommune", "work_kommune"):
            if col in df.columns:
                df[col] = df[col].map(recode)
        out[name] = df
    return out


@dataclass
class Work:
    """One case's folder: inputs are copied in from ``pristine`` on first use."""

    dir: Path
    pristine: Path

    def __getattr__(self, name: str) -> Path:  # w.roads, w.zones, w.jobs, ... -> a copy in the case folder
        for candidate in (f"{name}.gpkg", f"{name}.csv", f"{name}.toml"):
            src = self.pristine / candidate
            if src.exists():
                dst = self.dir / candidate
                if not dst.exists():
                    shutil.copy(src, dst)
                return dst
        raise AttributeError(name)

    def path(self, *parts: str) -> Path:
        return self.dir.joinpath(*parts)

    def write_gpkg(self, name: str, gdf, layer: str) -> Path:
        path = self.dir / name
        gdf.to_file(path, layer=layer, driver="GPKG")
        return path

    def read(self, name: str, layer: str | None = None):
        import geopandas as gpd

        return gpd.read_file(getattr(self, name), layer=layer)

    def table(self, name: str) -> pd.DataFrame:
        return pd.read_csv(getattr(self, name), dtype={c: str for c in ("kommune", "home_kommune", "work_kommune")})

    def write_table(self, name: str, df: pd.DataFrame) -> Path:
        path = self.dir / f"{name}.csv"
        df.to_csv(path, index=False)
        return path


NET = ["--time-fw-field", "time_min", "--time-unit", "min", "--class-field", "highway", "--direction-field", "oneway"]


def centrality(w: Work, *extra: str, network: Path | None = None, zones: Path | None = None,
               out: Path | str | None = None, net: list[str] | None = None, zones_layer: str = "zones") -> list[str]:
    """argv of `regio centrality` on the demo inputs (the README_SYNTHETIC rerun command)."""
    return ["centrality", "--network", str(network or w.roads), *(NET if net is None else net),
            "--zones", str(zones or w.zones), "--zones-layer", zones_layer, "--group-field", "kommune",
            "--out", str(out or w.path("out", "result.gpkg")), *extra]


def model(w: Work, *extra: str, command: str = "attractiveness", out: Path | None = None) -> list[str]:
    return ["model", command, "--jobs", str(w.jobs), "--commuting", str(w.commuting),
            "--population", str(w.population), "--net-migration", str(w.net_migration),
            "--population-age-sex", str(w.population_by_age_sex), "--centrality", str(w.centrality),
            "--years", "2019-2022", "--no-figures", "-o", str(out or w.path("model_out")), *extra]


def scenario(w: Work, *extra: str, toml: Path | None = None, out: Path | None = None) -> list[str]:
    return ["scenario", "run", str(toml or w.scenarios), "--network", str(w.roads), *NET, "--zones", str(w.small),
            "--zones-layer", "zones", "--group-field", "kommune", "--no-maps", "--out",
            str(out or w.path("scen_out")), *extra]


@dataclass
class Case:
    id: str
    category: str
    argv: Callable[[Work], list[str]]
    phrase: str                                   # regex searched in the error line
    setup: Callable[[Work], None] | None = None   # breaks something (runs before the snapshot)
    status: int = 2
    issue: str | None = None                      # the issue 13 wording, for cases listed there
    ssb: object = None                            # fake SSB server script (list or {table: list})
    env: dict = field(default_factory=dict)
    outputs: Callable[[Work], list[Path]] | None = None  # outputs outside the case folder that must not exist


def _gdf_edit(name: str, layer: str, fn, out_name: str | None = None):
    def setup(w: Work):
        gdf = w.read(name, layer)
        w.write_gpkg(out_name or f"{name}.gpkg", fn(gdf), layer)
    return setup


def _table_edit(name: str, fn):
    def setup(w: Work):
        w.write_table(name, fn(w.table(name)))
    return setup


def _write(name: str, text: str | bytes):
    def setup(w: Work):
        p = w.path(name)
        p.parent.mkdir(parents=True, exist_ok=True)
        (p.write_bytes if isinstance(text, bytes) else p.write_text)(text)
    return setup


def _shapefile_without_crs(w: Work, name: str, layer: str) -> None:
    w.read(name, layer).to_file(w.path(f"{name}.shp"), driver="ESRI Shapefile")
    w.path(f"{name}.prj").unlink()


def _both(*setups):
    def setup(w: Work):
        for s in setups:
            s(w)
    return setup


# ---------------------------------------------------------------------------------- networks
def _roads(fn):
    return _gdf_edit("roads", "roads", fn)


CASES: list[Case] = [
    Case("net-speed-5000", "networks", lambda w: centrality(w, net=["--speed-field", "maxspeed", "--class-field",
                                                                     "highway", "--direction-field", "oneway"]),
         r"features have a speed field 'maxspeed' value outside 1–150 km/h .*5 000 km/h.*--allow-implausible-speeds",
         setup=_roads(lambda g: g.assign(maxspeed=5000.0)), issue="speeds of 5 000 km/h accepted"),
    Case("net-speed-m-per-s", "networks", lambda w: centrality(w, net=["--speed-field", "maxspeed", "--class-field",
                                                                        "highway", "--direction-field", "oneway"]),
         r"median car speed is 1\d(\.\d)? km/h, outside 20–130 km/h \(likely a speed field in m/s",
         setup=_roads(lambda g: g.assign(maxspeed=(g["maxspeed"] / 3.6).round(1))), issue="speeds in m/s accepted"),
    Case("net-minutes-read-as-seconds", "networks",
         lambda w: centrality(w, net=["--time-fw-field", "time_min", "--class-field", "highway"]),
         r"car links imply speeds outside 1–150 km/h.*give --time-unit min"),
    Case("net-ferry-180kmh", "networks", lambda w: centrality(w), r"1 of 1 ferry links imply speeds outside 1–80 km/h",
         setup=_roads(lambda g: g.assign(time_min=np.where(g["highway"] == "ferry", 5.0, g["time_min"])))),
    Case("net-all-null-speed", "networks", lambda w: centrality(w, net=["--speed-field", "maxspeed", "--class-field",
                                                                         "highway"]),
         r"speed field 'maxspeed' gives no usable speed in any of the \d+ features.*give only --class-field",
         setup=_roads(lambda g: g.assign(maxspeed=None)), issue="all-NULL speeds silently replaced by class speeds"),
    Case("net-metres-as-4326", "networks", lambda w: centrality(w),
         r"road layer is labelled EPSG:4326 \(degrees\) but its coordinates .* cannot be degrees",
         setup=_roads(lambda g: g.set_crs(4326, allow_override=True)),
         issue="a network in metres labelled EPSG:4326 (CRSError: EPSG:60122)"),
    Case("net-degrees-as-25833", "networks", lambda w: centrality(w),
         r"road layer is labelled EPSG:25833 \(metres\) .* look like longitude/latitude degrees",
         setup=_roads(lambda g: g.to_crs(4326).set_crs(25833, allow_override=True)),
         issue="degrees labelled EPSG:25833 blamed on the direction field"),
    Case("net-folder-as-file", "networks", lambda w: centrality(w, network=w.path("roads_dir")),
         r"road layer '.*roads_dir' is a folder, not a file\. It contains roads\.gpkg",
         setup=lambda w: (w.path("roads_dir").mkdir(), shutil.copy(w.roads, w.path("roads_dir", "roads.gpkg"))),
         issue="a directory given as a file reported as an unrecognised format"),
    Case("net-missing-file", "networks", lambda w: centrality(w, network=w.path("nope.gpkg")),
         r"network file '.*nope.gpkg' does not exist"),
    Case("net-misspelt-field", "networks", lambda w: centrality(w, net=["--time-fw-field", "time_mn", "--time-unit",
                                                                         "min"]),
         r"no column 'time_mn' \(did you mean 'time_min'\?\)"),
    Case("net-negative-time", "networks", lambda w: centrality(w), r"time field 'time_min' has invalid values",
         setup=_roads(lambda g: g.assign(time_min=-g["time_min"]))),
    Case("net-text-time", "networks", lambda w: centrality(w), r"time field 'time_min' has non-numeric values",
         setup=_roads(lambda g: g.assign(time_min=g["time_min"].astype(str).where(g.index > 3, "fast")))),
    Case("net-no-crs", "networks", lambda w: centrality(w, network=w.path("roads.shp")),
         r"road layer has no coordinate reference system", setup=lambda w: _shapefile_without_crs(w, "roads", "roads")),
    Case("net-points-not-lines", "networks", lambda w: centrality(w, network=w.path("points.gpkg")),
         r"road layer must contain lines, but \d+ features are Point",
         setup=lambda w: w.write_gpkg("points.gpkg", w.read("roads", "roads").assign(
             geometry=lambda g: g.geometry.centroid), "roads")),
    Case("net-empty-layer", "networks", lambda w: centrality(w, network=w.path("empty.gpkg")),
         r"road layer is empty \(no features\)",
         setup=lambda w: w.write_gpkg("empty.gpkg", w.read("roads", "roads").iloc[:0], "roads")),
    Case("net-unknown-direction", "networks", lambda w: centrality(w), r"direction field 'oneway' has unknown values 'sometimes'",
         setup=_roads(lambda g: g.assign(oneway=np.where(g.index % 7 == 0, "sometimes", g["oneway"])))),
    Case("net-garbage-gpkg", "networks", lambda w: centrality(w, network=w.path("garbage.gpkg")),
         r"cannot read road layer '.*garbage.gpkg'", setup=_write("garbage.gpkg", b"\x00\x01not a geopackage" * 50)),
    Case("net-truncated-pbf", "networks", lambda w: centrality(w, network=w.path("cut.osm.pbf"), net=[]),
         r"cannot read OSM file '.*cut.osm.pbf'", setup=_write("cut.osm.pbf", b"\x00\x00\x00\x0dOSMHeader" + b"\x00" * 9)),
    Case("net-osm-option-on-lines", "networks", lambda w: centrality(w, "--ferry-speed", "20"),
         r"--ferry-speed is an option for osm networks"),
    Case("net-direction-values-json", "networks", lambda w: centrality(w, "--direction-values", "{forward: H}"),
         r"--direction-values is not valid JSON"),
    Case("net-unknown-class-no-speed", "networks",
         lambda w: centrality(w, net=["--class-field", "highway", "--direction-field", "oneway"]),
         r"road class without a default speed in 'highway': 'gravel'",
         setup=_roads(lambda g: g.assign(highway=np.where(g.index % 11 == 0, "gravel", g["highway"])))),
    Case("net-negative-snap", "networks", lambda w: centrality(w, "--snap-tolerance", "-5"),
         r"snap_tolerance_m must be >= 0 metres"),
    Case("net-class-speeds-5000", "networks",
         lambda w: centrality(w, "--class-speeds", str(w.path("speeds.toml")),
                              net=["--class-field", "highway", "--direction-field", "oneway"]),
         r"class speed table: 1 of 15 car classes have a speed outside 1–150 km/h \(primary: 5 000 km/h\)", setup=_write("speeds.toml", "[speeds]\nprimary = 5000\n")),
]

# ------------------------------------------------------------------------------------- zones
def _zones(fn, layer: str = "zones"):
    return _gdf_edit("zones", layer, fn)


CASES += [
    Case("zones-metres-as-4326", "zones", lambda w: centrality(w, zones=w.path("z.gpkg")),
         r"zones layer is labelled EPSG:4326 \(degrees\) but its coordinates",
         setup=lambda w: w.write_gpkg("z.gpkg", w.read("zones", "zones").set_crs(4326, allow_override=True), "zones"),
         issue="zones in metres labelled EPSG:4326 (CRSError)"),
    Case("zones-mixed-padding", "zones", lambda w: centrality(w),
         r"group field 'kommune' mixes zero-padded and unpadded codes \('0301' and '301'\)",
         setup=_zones(lambda g: g.assign(kommune=np.where(g.index % 2 == 0, "301", "0301"))),
         issue="group codes 301 and 0301 become two kommuner without a word"),
    Case("zones-zero-population", "zones", lambda w: centrality(w),
         r"population column 'population' sums to 0 over all 793 zones",
         setup=_zones(lambda g: g.assign(population=0)),
         issue="all-zero population gives NaN groups and a raw UserWarning"),
    Case("zones-missing-file", "zones", lambda w: centrality(w, zones=w.path("nozones.gpkg")),
         r"zones layer file '.*nozones.gpkg' does not exist"),
    Case("zones-duplicate-ids", "zones", lambda w: centrality(w), r"zone ids in 'zone_id' are not unique: Z0001",
         setup=_zones(lambda g: g.assign(zone_id=np.where(g.index < 2, "Z0001", g["zone_id"])))),
    Case("zones-negative-population", "zones", lambda w: centrality(w),
         r"population column 'population' is negative for zones Z0005",
         setup=_zones(lambda g: g.assign(population=np.where(g["zone_id"] == "Z0005", -10, g["population"])))),
    Case("zones-text-jobs", "zones", lambda w: centrality(w), r"jobs column 'jobs' has non-numeric values",
         setup=_zones(lambda g: g.assign(jobs=g["jobs"].astype(str).where(g.index > 0, "many")))),
    Case("zones-null-jobs", "zones", lambda w: centrality(w), r"jobs column 'jobs' is empty \(NULL\) for 1 zones",
         setup=_zones(lambda g: g.assign(jobs=g["jobs"].astype(float).where(g.index > 0, np.nan)))),
    Case("zones-misspelt-id-field", "zones", lambda w: centrality(w, "--id-field", "zone"),
         r"zones layer 'zones.gpkg' has no column 'zone' \(did you mean 'zone_id'\?\)"),
    Case("zones-wrong-layer", "zones", lambda w: centrality(w, zones_layer="nolayer"), r"cannot read zones layer .*'nolayer'"),
    Case("zones-missing-group-field", "zones", lambda w: centrality(w, "--group-field", "kommunenr"),
         r"no column 'kommunenr'"),
    Case("zones-null-group", "zones", lambda w: centrality(w), r"zones have no value in group field 'kommune'",
         setup=_zones(lambda g: g.assign(kommune=g["kommune"].where(g.index > 4, None)))),
    Case("zones-no-crs", "zones", lambda w: centrality(w, zones=w.path("zones.shp"), zones_layer="zones"),
         r"zones layer has no coordinate reference system", setup=lambda w: _shapefile_without_crs(w, "zones", "zones")),
    Case("zones-raster-missing", "zones", lambda w: centrality(w, "--raster", str(w.path("pop.tif"))),
         r"population raster '.*pop.tif' does not exist"),
    Case("zones-far-from-network", "zones", lambda w: centrality(w, zones=w.path("far.gpkg")),
         r"all 793 zones are farther than max_snap_m=5000 m from the network",
         setup=lambda w: w.write_gpkg("far.gpkg", w.read("zones", "zones").assign(
             geometry=lambda g: g.geometry.translate(0, 200_000)), "zones")),
    Case("zones-folder-as-file", "zones", lambda w: centrality(w, zones=w.path("zones_dir")),
         r"zones layer '.*zones_dir' is a folder, not a file",
         setup=lambda w: (w.path("zones_dir").mkdir(), shutil.copy(w.zones, w.path("zones_dir", "zones.gpkg")))),
]

# ----------------------------------------------------------------------------------- outputs
def _batch(w: Work, out: str, extra: str = "") -> None:
    w.roads, w.zones  # copies into the case folder
    w.path("batch.toml").write_text(
        '[networks.demo]\npath = "roads.gpkg"\ntime_fw_field = "time_min"\ntime_unit = "min"\n'
        'class_field = "highway"\ndirection_field = "oneway"\n'
        f'[[run]]\nname = "a"\nnetwork = "demo"\nzones = {{ path = "zones.gpkg", layer = "zones" }}\n'
        f'out = "{out}"\ngroup_field = "kommune"\n{extra}', encoding="utf-8")


IS_INPUT = r"is an input of this run"

CASES += [
    Case("out-is-network", "outputs", lambda w: centrality(w, out=w.roads),
         r"GeoPackage output '.*/roads.gpkg' is an input of this run \(an input GeoPackage; writing any layer rewrites",
         issue="--out equal to the --network file silently destroys the road layer (CLI)"),
    Case("out-is-network-batch", "outputs", lambda w: ["centrality", "--config", str(w.path("batch.toml"))],
         r"run 'a': GeoPackage output '.*/roads.gpkg' is an input of this run",
         setup=lambda w: _batch(w, "roads.gpkg"),
         issue="--out equal to the --network file silently destroys the road layer (batch --config)"),
    Case("out-symlink-to-network", "outputs", lambda w: centrality(w, out=w.path("link.gpkg")),
         r"'.*/link.gpkg' is an input of this run .*it is a symbolic link to the same file as the input '.*roads.gpkg'",
         setup=lambda w: w.path("link.gpkg").symlink_to(w.roads)),
    Case("out-is-zones-gpkg", "outputs", lambda w: centrality(w, out=w.zones),
         r"GeoPackage output '.*/zones.gpkg' is an input of this run \(an input GeoPackage",
         issue="an output that is a layer inside an input GeoPackage"),
    Case("out-table-over-zones-input", "outputs",
         lambda w: centrality(w, "--tables", str(w.path("t")), zones=w.path("t", "zones.parquet"), zones_layer=""),
         r"'.*t/zones.parquet' is an input of this run",
         setup=lambda w: (w.path("t").mkdir(), w.read("zones", "zones").to_parquet(w.path("t", "zones.parquet")))),
    Case("out-map-is-input", "outputs", lambda w: centrality(w, "--map", str(w.path("roads.png"))),
         r"--map '.*roads.png' is an input of this run; it is a symbolic link", setup=lambda w: w.path("roads.png").symlink_to(w.roads)),
    Case("out-folder-unwritable", "outputs", lambda w: centrality(w, out=w.path("locked", "r.gpkg")),
         r"output '.*locked/r.gpkg' cannot be written: the folder '.*locked' is not writable",
         issue="an unwritable output folder, found only after the whole computation"),
    Case("out-tables-unwritable", "outputs", lambda w: centrality(w, "--tables", str(w.path("locked", "tables"))),
         r"tables folder '.*locked/tables' cannot be written",
         issue="with --tables unwritable, the .gpkg is already written: a partial set"),
    Case("out-sys", "outputs", lambda w: centrality(w, out="/sys/regio_result.gpkg"),
         r"'/sys' is not writable", outputs=lambda w: [Path("/sys/regio_result.gpkg")]),
    Case("out-is-folder", "outputs", lambda w: centrality(w, out=w.path("adir.gpkg")),
         r"--out '.*adir.gpkg' is a folder", setup=lambda w: w.path("adir.gpkg").mkdir()),
    Case("out-parent-is-file", "outputs", lambda w: centrality(w, out=w.path("plain.txt", "r.gpkg")),
         r"is a file, so no folder can be made there", setup=_write("plain.txt", "x")),
    Case("out-wrong-suffix", "outputs", lambda w: centrality(w, out=w.path("r.shp")), r"--out '.*r.shp' must end in .gpkg"),
    Case("out-od-is-zones-parquet", "outputs",
         lambda w: centrality(w, "--od", str(w.path("zones.parquet")), zones=w.path("zones.parquet"), zones_layer=""),
         r"OD output '.*zones.parquet' is an input of this run",
         setup=lambda w: w.read("zones", "zones").to_parquet(w.path("zones.parquet"))),
    Case("out-network-build-over-input", "outputs",
         lambda w: ["network", "build", "--network", str(w.roads), *NET, "--out", str(w.roads)],
         r"--out '.*roads.gpkg' is an input of this run"),
    Case("out-od-over-zones", "outputs",
         lambda w: ["od", "--network", str(w.roads), *NET, "--zones", str(w.path("zones.csv")), "--out",
                    str(w.path("zones.csv"))],
         r"--out '.*zones.csv' is an input of this run", setup=_write("zones.csv", "zone_id,x\n")),
    Case("out-batch-two-runs-one-file", "outputs", lambda w: ["centrality", "--config", str(w.path("batch.toml"))],
         r"output '.*same.gpkg' is also written by run 'a'",
         setup=lambda w: _batch(w, "same.gpkg", '[[run]]\nname = "b"\nnetwork = "demo"\n'
                                               'zones = { path = "zones.gpkg", layer = "zones" }\nout = "same.gpkg"\n')),
    Case("out-scenario-report-over-network", "outputs",
         lambda w: ["scenario", "run", str(w.scenarios), "--network", str(w.path("s", "e6_upgrade.gpkg")), *NET,
                    "--zones", str(w.small), "--zones-layer", "zones", "--group-field", "kommune", "--no-maps",
                    "--out", str(w.path("s"))],
         r"'.*s/e6_upgrade.gpkg' is an input of this run",
         setup=lambda w: (w.path("s").mkdir(), shutil.copy(w.roads, w.path("s", "e6_upgrade.gpkg")))),
    Case("out-scenario-out-is-file", "outputs", lambda w: scenario(w, out=w.roads),
         r"--out '.*roads.gpkg' is a file\. Give a folder"),
    Case("out-model-table-over-input", "outputs",
         lambda w: [a if not a.endswith("net_migration.csv") else str(w.path("m", "attractiveness.csv"))
                    for a in model(w, out=w.path("m"))],
         r"'.*m/attractiveness.csv' is an input of this run",
         setup=lambda w: (w.path("m").mkdir(), shutil.copy(w.net_migration, w.path("m", "attractiveness.csv")))),
    Case("out-model-dir-is-file", "outputs", lambda w: model(w, out=w.jobs), r"--out-dir '.*jobs.csv' is a file"),
]

# ------------------------------------------------------------------------------ model tables
def _add_row(name: str, **row):
    return _table_edit(name, lambda t: pd.concat([t, pd.DataFrame([row])], ignore_index=True))


CASES += [
    Case("model-unknown-kommune-9999", "model tables", lambda w: model(w),
         r"jobs table \(kommune\): 9999 is not a kommune code of any code system 2017–2024",
         setup=_table_edit("jobs", lambda t: pd.concat([t, t[t["kommune"] == "3001"].assign(kommune="9999")])),
         issue="an unknown kommune code (9999) in the jobs table used silently"),
    Case("model-centrality-0-1-scale", "model tables", lambda w: model(w), r"centrality table: column 'index' lies in .*, a 0–1 scale, but the model needs .* 0–1000 scale",
         setup=_table_edit("centrality", lambda t: t.assign(index=t["index"] / 1000)),
         issue="a centrality table on a 0–1 scale accepted"),
    Case("model-centrality-5000", "model tables", lambda w: model(w), r"must lie in 0(\.0)?\.\.1000",
         setup=_table_edit("centrality", lambda t: t.assign(index=t["index"] * 5))),
    Case("model-centrality-9999", "model tables", lambda w: model(w), r"centrality table \(kommune\): 9999 is not a kommune code",
         setup=_add_row("centrality", kommune="9999", index=500.0)),
    Case("model-population-fewer-kommuner", "model tables", lambda w: model(w),
         r"population table covers 7 of the 8 kommuner of the jobs table; missing: 3011",
         setup=_table_edit("population", lambda t: t[t["kommune"] != "3011"]),
         issue="a file input covering fewer kommuner than the run needs"),
    Case("model-zero-population", "model tables", lambda w: model(w), r"population table: the total population is zero in 2014",
         setup=_table_edit("population", lambda t: t.assign(population=0))),
    Case("model-mixed-code-systems", "model tables", lambda w: model(w),
         r"mix kommune code systems \(1601 only in 2017 \(in the jobs table\); 3001, .* only in 2020",
         setup=_add_row("jobs", year=2021, kommune="1601", jobs=100)),
    Case("model-misspelt-column", "model tables", lambda w: model(w), r"did you mean 'job'",
         setup=_table_edit("jobs", lambda t: t.rename(columns={"jobs": "job"}))),
    Case("model-nan-population", "model tables", lambda w: model(w), r"missing \(NaN/NULL\) values",
         setup=_table_edit("population", lambda t: t.assign(population=np.where(t.index == 3, np.nan, t["population"])))),
    Case("model-negative-jobs", "model tables", lambda w: model(w), r"column 'jobs' has 1 negative",
         setup=_table_edit("jobs", lambda t: t.assign(jobs=np.where(t.index == 5, -1, t["jobs"])))),
    Case("model-duplicate-keys", "model tables", lambda w: model(w), r"duplicated key",
         setup=_table_edit("jobs", lambda t: pd.concat([t, t.iloc[:1]], ignore_index=True))),
    Case("model-years-outside-data", "model tables",
         lambda w: [a if a != "2019-2022" else "2030" for a in model(w)], r"years 2027, 2028, 2029, 2030 are needed but missing"),
    Case("model-bad-year", "model tables", lambda w: [a if a != "2019-2022" else "20x9" for a in model(w)],
         r"cannot read the year '20x9'"),
    Case("model-unknown-params", "model tables", lambda w: model(w, "--params", "model9"), r"model parameters 'model9' are neither a published model"),
    Case("model-commuting-unknown-work-kommune", "model tables", lambda w: model(w), r"commuting work places \(2021\): unknown codes 3012",
         setup=_add_row("commuting", year=2021, home_kommune="3001", work_kommune="3012", employed=10)),
    Case("model-binary-csv", "model tables", lambda w: model(w), r"cannot read jobs '.*jobs.csv': 'utf-8' codec can't decode",
         setup=lambda w: w.jobs.write_bytes(b"\xff\xfe\x00\x00" * 100)),
    Case("model-missing-file", "model tables", lambda w: [a if not a.endswith("jobs.csv") else str(w.path("x.csv"))
                                                          for a in model(w)], r"jobs file '.*x.csv' does not exist"),
    Case("model-region-without-regions", "model tables", lambda w: model(w, "--unit", "region"), r"unit='region' needs a regions table"),
    Case("model-text-counts", "model tables", lambda w: model(w), r"column 'employed' has non-numeric values: many",
         setup=_table_edit("commuting", lambda t: t.assign(employed=t["employed"].astype(str).where(t.index > 0, "many")))),
]

# --------------------------------------------------------------------------------- scenarios
def _toml_edit(old: str, new: str):
    def setup(w: Work):
        text = w.scenarios.read_text(encoding="utf-8")
        assert old in text
        w.scenarios.write_text(text.replace(old, new), encoding="utf-8")
    return setup


CASES += [
    Case("scen-speed-50000", "scenarios", lambda w: scenario(w), r"speed_kmh.*50 ?000.*(1–150|implausible)",
         setup=_toml_edit("speed_kmh = 80", "speed_kmh = 50000"), issue="a scenario speed_kmh = 50000 accepted"),
    Case("scen-speed-zero", "scenarios", lambda w: scenario(w), r"'speed_kmh' must be a positive number, got 0",
         setup=_toml_edit("speed_kmh = 80", "speed_kmh = 0")),
    Case("scen-factor-negative", "scenarios", lambda w: scenario(w), r"'factor' must be a positive number, got -0.8",
         setup=_toml_edit("factor = 0.8", "factor = -0.8")),
    Case("scen-empty-selection", "scenarios", lambda w: scenario(w), r"the selection matches no links",
         setup=_toml_edit('ref == "E6" and highway == "motorway"', 'ref == "E99"')),
    Case("scen-unknown-column", "scenarios", lambda w: scenario(w), r"cannot evaluate where = 'refx == \"E6\"': name 'refx' is not defined",
         setup=_toml_edit('ref == "E6" and highway == "motorway"', 'refx == "E6"')),
    Case("scen-unknown-key", "scenarios", lambda w: scenario(w), r"unknown key 'fator'\. Did you mean 'factor'\?",
         setup=_toml_edit("factor = 0.8", "fator = 0.8")),
    Case("scen-bad-toml", "scenarios", lambda w: scenario(w), r"not valid TOML",
         setup=_toml_edit("factor = 0.8", "factor = = 0.8")),
    Case("scen-missing-file", "scenarios", lambda w: scenario(w, toml=w.path("none.toml")), r"scenario file '.*none.toml' does not exist"),
    Case("scen-unknown-action", "scenarios", lambda w: scenario(w), r"unknown action 'widen'",
         setup=_toml_edit('action = "scale_time"', 'action = "widen"')),
    Case("scen-population-9999", "scenarios", lambda w: scenario(w, "--population-age-sex",
                                                                   str(w.population_by_age_sex)),
         r"population by age sex table \(kommune\): 9999 is not a kommune code of any code system", setup=_table_edit("population_by_age_sex", lambda t: t.assign(kommune="9999"))),
]

# ---------------------------------------------------------------- scenarios: implied speeds (SCEN2, issue 13)
# Time edits whose new travel times imply implausible speeds on links of at least 200 m (the limits
# of centrality.plausibility): the demo's motorway runs at 110 km/h, its ramps at 60 km/h, the
# Øyvik ferry crosses 15.0 km.
CASES += [
    Case("scen-scale-time-implausible", "scenarios", lambda w: scenario(w),
         r"edit 1 \(E6 motorway, both carriageways\): the new travel times imply car speeds outside the plausible "
         r"1–150 km/h on 82 of 82 .*: 220 km/h.*allow_implausible_speeds = true",
         setup=_toml_edit("factor = 0.8", "factor = 0.5")),
    Case("scen-set-time-implausible", "scenarios", lambda w: scenario(w),
         r"edit 2 \(motorway ramps\): the new travel times imply car speeds outside the plausible 1–150 km/h",
         setup=_toml_edit('action = "set_speed"\n  where = \'highway == "motorway_link"\'\n  speed_kmh = 80',
                          'action = "set_time"\n  where = \'highway == "motorway_link"\'\n  time_s = 2')),
    Case("scen-ferry-implausible", "scenarios", lambda w: scenario(w),
         r"variant 'oyvik_ferry', edit 1 \(ferry\): the new travel times imply ferry speeds outside the plausible "
         r"1–80 km/h .*: 150 km/h",
         setup=_toml_edit("crossing_min = 25\n  departures_per_hour = 3", "crossing_min = 5\n  departures_per_hour = 30")),
]
# ------------------------------------------------------------ end of the implied-speed block (SCEN2)

# ------------------------------------------------------------------------------ SSB client
from fake_ssb import (FakeSSBServer, Reply, commuting_answer, employment_answer, jsonstat,  # noqa: E402
                      kommuner, population_answer)

SSB_YEARS = [2020, 2021, 2022, 2023]  # --years 2023: VRA years 2020-2023, one code system


def ssb_argv(w: Work) -> list[str]:
    return ["model", "attractiveness", "--ssb", "--years", "2023", "--no-figures", "-o", str(w.path("ssb_out"))]


def _good(**override) -> dict:
    routes = {"11618": [Reply(body=employment_answer(SSB_YEARS))],
              "03321": [Reply(body=commuting_answer(y)) for y in SSB_YEARS],
              "07459": [Reply(body=population_answer([2023, 2024]))]}
    routes.update(override)
    return routes


def _no_bokommuen() -> dict:
    return jsonstat({"Region": kommuner(2020), "ContentsCode": ["Sysselsatte"], "Tid": ["2020"]}, lambda *c: 1)


def _other_year() -> dict:
    doc = employment_answer(SSB_YEARS)
    doc["dimension"]["Tid"]["category"]["index"] = {str(y - 4): k for k, y in enumerate(SSB_YEARS)}
    return doc


def _truncated() -> dict:
    doc = employment_answer(SSB_YEARS)
    doc["value"] = doc["value"][:-3]
    return doc


CASES += [
    Case("ssb-retry-after-3600", "ssb", ssb_argv, r"asks to wait 3,600 s \(Retry-After\).*at most 120 s",
         ssb={"11618": [Reply(429, "slow down", {"Retry-After": "3600"})]},
         issue="Retry-After: 3600 obeyed uncapped four times (about 4 hours)"),
    Case("ssb-three-kommuner", "ssb", ssb_argv, r"covers 3 of the 356 kommuner of the 2020 code system",
         ssb=_good(**{"11618": [Reply(body=employment_answer(SSB_YEARS, ["0301", "5001", "5035"]))]}),
         issue="an SSB answer holding only 3 kommuner runs the model on 3 kommuner"),
    Case("ssb-population-age-groups", "ssb", ssb_argv, r"Alder codes are not of the expected form .*15-74",
         ssb=_good(**{"07459": [Reply(body=population_answer([2023, 2024], ages=["15-74"]))]}),
         issue="SSB answer of the wrong table shape: ValueError: int('15-74')"),
    Case("ssb-commuting-no-bokommuen", "ssb", ssb_argv, r"dimensions differ; .*missing: Bokommuen",
         ssb=_good(**{"03321": [Reply(body=_no_bokommuen())]}),
         issue="SSB answer of the wrong table shape: KeyError: 'Bokommuen'"),
    Case("ssb-other-year", "ssb", ssb_argv, r"years differ; years asked for: 2020, 2021, 2022, 2023; in the answer: 2016",
         ssb=_good(**{"11618": [Reply(body=_other_year())]}),
         issue="a different year in the SSB answer reported as a missing code list"),
    Case("ssb-http-400", "ssb", ssb_argv, r"SSB rejected the query for table 11618 \(HTTP 400\)",
         ssb={"11618": [Reply(400, "Non-existent variable")]}),
    Case("ssb-not-json", "ssb", ssb_argv, r"the answer is not JSON",
         ssb={"11618": [Reply(200, "<html>maintenance</html>")]}),
    Case("ssb-truncated", "ssb", ssb_argv, r"values for \d+ cells; the response is truncated",
         ssb={"11618": [Reply(body=_truncated())]}),
    Case("ssb-503-total-time", "ssb", ssb_argv, r"the next retry in 2 s would exceed the total retry time of 1 s",
         ssb={"11618": [Reply(503, "busy")]}, env={"REGIO_SSB_MAX_RETRY_TOTAL_S": "1"}),
    Case("ssb-offline", "ssb", ssb_argv, r"cannot reach data.ssb.no", ssb="closed",
         env={"REGIO_SSB_MAX_RETRY_TOTAL_S": "0"}),
    Case("ssb-not-a-dataset", "ssb", ssb_argv, r"not a JSON-stat2 dataset",
         ssb={"11618": [Reply(body={"class": "collection", "link": {}})]}),
]


CATEGORY = {c: sum(1 for k in CASES if k.category == c) for c in dict.fromkeys(k.category for k in CASES)}


# ------------------------------------------------------------------------------------- the test
def test_catalogue_size_and_ids():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)) and len(CASES) >= 60
    assert set(CATEGORY) == {"networks", "zones", "model tables", "scenarios", "outputs", "ssb"}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, pristine, tmp_path, capsys, monkeypatch):
    import contextlib
    import re

    from geoproc.cli import main

    w = Work(tmp_path / "case", pristine)
    w.dir.mkdir()
    monkeypatch.setenv("REGIO_CACHE_DIR", str(tmp_path / "cache"))
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    if case.setup:
        case.setup(w)
    argv = case.argv(w)
    with contextlib.ExitStack() as stack:
        if any("locked" in a for a in argv):
            if stack.enter_context(unwritable_folder(w.path("locked"))) is None:
                pytest.skip("cannot make an unwritable folder on this machine")
        server = None
        if case.ssb == "closed":
            with FakeSSBServer([Reply(body={})]) as gone:
                url = gone.url
            monkeypatch.setenv("REGIO_SSB_URL", url)
        elif case.ssb is not None:
            server = stack.enter_context(FakeSSBServer(case.ssb, max_requests=12))
            monkeypatch.setenv("REGIO_SSB_URL", server.url)
        before = files_under(w.dir)
        status = main(argv)
        after = files_under(w.dir)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("regio: error:")]
    assert status == case.status, err
    assert len(errors) == 1, err
    assert re.search(case.phrase, errors[0]), errors[0]
    assert after == before, "the run wrote or changed files"
    for path in case.outputs(w) if case.outputs else []:
        assert not path.exists()
    if server is not None:
        assert server.overflow == 0 and len(server.requests) <= 12
