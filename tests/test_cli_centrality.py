"""`regio centrality|network|od|demo` end to end through geoproc.cli.main (in-process)."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from geoproc.cli import main

NETWORK_ARGS = ["--time-fw-field", "time_min", "--time-unit", "min", "--class-field", "highway",
                "--direction-field", "oneway", "--link-id-field", "link_id"]


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory):
    from centrality.synthetic import demo_region, write_demo_data

    folder = tmp_path_factory.mktemp("demo_inputs")
    region = demo_region()
    roads, zones = write_demo_data(folder, region=region)
    return region, roads, zones


@pytest.fixture(scope="module")
def reference(demo_files):
    """run_centrality on the same inputs, called directly."""
    from centrality.builders.lines import network_from_lines
    from centrality.pipeline import run_centrality

    region, _, _ = demo_files
    network = network_from_lines(region.roads, **region.network_options)
    return run_centrality(network, region.zones, group_col="kommune")


def _base(roads, zones):
    return ["centrality", "--network", str(roads), *NETWORK_ARGS, "--zones", str(zones), "--zones-layer", "zones"]


def test_centrality_writes_gpkg_tables_and_map(demo_files, reference, tmp_path, capsys):
    from matplotlib.image import imread

    _, roads, zones = demo_files
    out = tmp_path / "res.gpkg"
    code = main([*_base(roads, zones), "--group-field", "kommune", "--out", str(out), "--tables",
                 str(tmp_path / "tables"), "--map", str(tmp_path / "index.png"), "--workers", "2"])
    assert code == 0
    stdout = capsys.readouterr().out
    assert f"zones: {len(reference.zones)} used, 0 excluded" in stdout
    assert f"wrote {out}" in stdout
    back = gpd.read_file(out, layer="zones")
    assert {"zone_id", "population", "jobs", "jobs_30min", "jobs_90min", "access_decay", "index",
            "centrality_class", "snap_m", "access_min"} <= set(back.columns)
    assert back["zone_id"].tolist() == reference.zones["zone_id"].tolist()
    for col in ("index", "access_decay", "jobs_45min", "snap_m"):
        np.testing.assert_allclose(back[col], reference.zones[col], rtol=1e-9)
    assert back["centrality_class"].tolist() == reference.zones["centrality_class"].tolist()
    groups = pyogrio.read_dataframe(out, layer="groups", read_geometry=False)
    np.testing.assert_allclose(groups["index"], reference.groups["index"], rtol=1e-9)
    summary = pyogrio.read_dataframe(out, layer="run_summary", read_geometry=False).set_index("key")["value"]
    assert summary["n_zones"] == str(len(reference.zones)) and summary["workers"] == "2"
    csv = pd.read_csv(tmp_path / "tables" / "groups.csv", dtype={"kommune": str})
    assert csv["kommune"].tolist() == reference.groups["kommune"].tolist()
    image = imread(tmp_path / "index.png")
    assert image[..., :3].std() > 0.05


def test_config_with_two_runs_builds_network_once(demo_files, tmp_path, capsys):
    region, roads, zones = demo_files
    # second zone set: the same zones with 10 % more jobs in Storby (a "later year")
    later = region.zones.copy()
    later.loc[later["kommune"] == "9901", "jobs"] = (later.loc[later["kommune"] == "9901", "jobs"] * 1.1).round()
    later.to_file(tmp_path / "zones_later.gpkg", layer="zones")
    (tmp_path / "batch.toml").write_text(f"""
[defaults]
cutoff = 90
limits = [30, 60, 90]
decay = "exp:45:0.1"
group_field = "kommune"
zones = {{ layer = "zones", id_field = "zone_id" }}

[networks.demo]
path = "{roads}"
time_fw_field = "time_min"
time_unit = "min"
class_field = "highway"
direction_field = "oneway"

[[run]]
name = "base"
network = "demo"
zones = {{ path = "{zones}" }}
out = "out/base.gpkg"

[[run]]
name = "later"
network = "demo"
zones = {{ path = "zones_later.gpkg" }}
out = "out/later.gpkg"
tables = "out/later_tables"
""", encoding="utf-8")
    assert main(["centrality", "--config", str(tmp_path / "batch.toml")]) == 0
    stdout = capsys.readouterr().out
    assert stdout.count("building lines network") == 1
    base = gpd.read_file(tmp_path / "out" / "base.gpkg", layer="zones").set_index("zone_id")
    after = gpd.read_file(tmp_path / "out" / "later.gpkg", layer="zones").set_index("zone_id")
    assert list(base.columns).count("jobs_60min") == 1 and "jobs_45min" not in base.columns
    assert (after["jobs_90min"] >= base["jobs_90min"]).all()
    assert (after["jobs_90min"] > base["jobs_90min"]).mean() > 0.9  # nearly every zone reaches Storby
    assert (tmp_path / "out" / "later_tables" / "zones.csv").exists()


def _assert_error(capsys, argv, pattern, *outputs):
    import re

    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("regio: error: ") and len(err.splitlines()) == 1, err
    assert re.search(pattern, err), err
    for path in outputs:
        assert not path.exists(), path
        assert not list(path.parent.glob(f".{path.stem}*")), "temporary file left behind"


def test_bad_input_exit_code_2_and_no_output(demo_files, tmp_path, capsys):
    _, roads, zones = demo_files
    out = tmp_path / "res.gpkg"
    _assert_error(capsys, [*_base(roads, zones), "--jobs-field", "jobz", "--out", str(out)],
                  r"no column 'jobz' \(did you mean 'jobs'\?\)", out)
    _assert_error(capsys, [*_base(roads, zones), "--group-field", "komune", "--out", str(out)],
                  r"'komune' \(did you mean 'kommune'\?\)", out)
    _assert_error(capsys, [*_base(tmp_path / "nope.gpkg", zones), "--out", str(out)], r"does not exist", out)
    _assert_error(capsys, ["centrality", "--network", str(roads), "--maxspeed-field", "maxspeedd",
                           "--zones", str(zones), "--zones-layer", "zones", "--out", str(out)],
                  r"'maxspeedd' \(did you mean 'maxspeed'\?\)", out)
    _assert_error(capsys, [*_base(roads, zones), "--limits", "30,120", "--out", str(out)],
                  r"largest time limit \(120 min\) exceeds the cutoff \(90 min\)", out)
    _assert_error(capsys, [*_base(roads, zones), "--decay", "exq:45", "--out", str(out)], r"decay", out)
    _assert_error(capsys, [*_base(roads, zones), "--ferry-wait", "10", "--out", str(out)], r"osm", out)
    config = tmp_path / "bad.toml"
    config.write_text(f'[[run]]\nnetwork = {{ path = "{roads}", class_field = "highway" }}\n'
                      f'zones = {{ path = "{zones}" }}\nout = "x.gpkg"\ncutof = 60\n', encoding="utf-8")
    _assert_error(capsys, ["centrality", "--config", str(config)], r"unknown key 'cutof'\. Did you mean 'cutoff'", 
                  tmp_path / "x.gpkg")
    config.write_text(f'[[run]]\nnetwork = {{ path = "{roads}", clas_field = "highway" }}\n'
                      f'zones = {{ path = "{zones}" }}\nout = "x.gpkg"\n', encoding="utf-8")
    _assert_error(capsys, ["centrality", "--config", str(config)], r"'clas_field'\. Did you mean 'class_field'")
    config.write_text(f'[[run]]\nnetwork = {{ path = "{roads}", class_field = "highway" }}\n'
                      f'zones = {{ path = "missing.gpkg" }}\nout = "x.gpkg"\n', encoding="utf-8")
    _assert_error(capsys, ["centrality", "--config", str(config)], r"zones file .*missing\.gpkg' does not exist")
    config.write_text('[[run]]\ncutoff = "ninety"\n', encoding="utf-8")
    _assert_error(capsys, ["centrality", "--config", str(config)], r"'cutoff' must be an integer or a number")


def test_network_build_and_od(demo_files, reference, tmp_path, capsys):
    region, roads, zones = demo_files
    net_out = tmp_path / "net.gpkg"
    assert main(["network", "build", "--network", str(roads), *NETWORK_ARGS, "--out", str(net_out)]) == 0
    stdout = capsys.readouterr().out
    assert "scc_dropped_nodes: 0" in stdout
    layers = dict(pyogrio.list_layers(net_out))
    assert set(layers) == {"links", "nodes"}
    links = pyogrio.read_dataframe(net_out, layer="links", read_geometry=False)
    assert len(links) == len(region.roads) and links["link_id"].tolist() == region.roads["link_id"].tolist()
    od_out = tmp_path / "od.csv"
    assert main(["od", "--network", str(roads), *NETWORK_ARGS, "--zones", str(zones), "--zones-layer", "zones",
                 "--cutoff", "30", "--out", str(od_out)]) == 0
    od = pd.read_csv(od_out)
    assert list(od.columns) == ["origin_id", "dest_id", "minutes"]
    assert od["minutes"].max() <= 30 and (od["origin_id"] != od["dest_id"]).all()
    # jobs within 30 min from the OD table = the pipeline's jobs_30min (plus the own zone)
    jobs = region.zones.set_index("zone_id")["jobs"]
    storby = region.places["Storby"]
    reached = od.loc[od["origin_id"] == storby, "dest_id"]
    expected = reference.zones.set_index("zone_id").loc[storby, "jobs_30min"]
    assert jobs.loc[reached].sum() + jobs.loc[storby] == pytest.approx(expected)


def test_demo_command(tmp_path, capsys):
    from matplotlib.image import imread

    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--skip-scenario"]) == 0
    stdout = capsys.readouterr().out
    assert "SYNTHETIC" in stdout and "index at the town centres" in stdout
    for name in ("demo_centrality.gpkg", "demo_roads.gpkg", "demo_zones.gpkg", "demo_centrality_index.png",
                 "README_SYNTHETIC.txt", "tables/zones.csv", "tables/groups.csv"):
        assert (out / name).exists(), name
        assert str(out / name) in stdout
    layers = pyogrio.list_layers(out / "demo_centrality.gpkg")[:, 0].tolist()
    assert layers == ["zones", "kommuner", "run_summary"]
    zones = gpd.read_file(out / "demo_centrality.gpkg", layer="zones")
    assert zones.geom_type.eq("Polygon").all() and zones["index"].max() == pytest.approx(1000)
    kommuner = gpd.read_file(out / "demo_centrality.gpkg", layer="kommuner")
    assert len(kommuner) == 8 and kommuner.loc[kommuner["index"].idxmax(), "kommune"] == "9901"
    assert imread(out / "demo_centrality_index.png")[..., :3].std() > 0.05
    assert "SYNTHETIC" in (out / "README_SYNTHETIC.txt").read_text()


def test_demo_steps_are_a_list_that_can_be_extended(tmp_path):
    from geoproc import demo as demo_cmd

    seen = []
    steps = [s for s in demo_cmd.STEPS if s[1] in (demo_cmd.step_generate, demo_cmd.step_network)]
    steps.append(("count links", lambda ctx: seen.append(ctx.network.n_links)))
    ctx = demo_cmd.run_demo(tmp_path, steps=steps, log=lambda message: None)
    assert seen == [len(ctx.region.roads)] and ctx.result is None
    assert [p.name for p in ctx.written] == ["demo_roads.gpkg", "demo_zones.gpkg", "run_manifest.json"]
    if demo_cmd.importlib.util.find_spec("geoproc.scenario") is not None:
        assert demo_cmd.SCENARIO_STEP in demo_cmd.STEPS


def test_config_checks_every_run_before_computing(demo_files, tmp_path, capsys):
    """A bad field in the second run stops the batch before the first run writes anything."""
    _, roads, zones = demo_files
    (tmp_path / "batch.toml").write_text(f"""
[defaults]
network = {{ path = "{roads}", time_fw_field = "time_min", time_unit = "min", direction_field = "oneway" }}
[[run]]
name = "ok"
zones = {{ path = "{zones}", layer = "zones" }}
out = "first.gpkg"
[[run]]
name = "bad"
zones = {{ path = "{zones}", layer = "zones", jobs_field = "job" }}
out = "second.gpkg"
""", encoding="utf-8")
    _assert_error(capsys, ["centrality", "--config", str(tmp_path / "batch.toml")],
                  r"run 'bad'.*'job' \(did you mean 'jobs'\?\)", tmp_path / "first.gpkg", tmp_path / "second.gpkg")
    (tmp_path / "batch.toml").write_text(f"""
[[run]]
network = {{ path = "{roads}", time_fw_field = "time_minutes", time_unit = "min" }}
zones = {{ path = "{zones}", layer = "zones" }}
out = "first.gpkg"
""", encoding="utf-8")
    _assert_error(capsys, ["centrality", "--config", str(tmp_path / "batch.toml")],
                  r"road layer 'roads.gpkg' has no column 'time_minutes' \(did you mean 'time_min'\?\)",
                  tmp_path / "first.gpkg")


def test_od_output_parquet_or_clear_error(demo_files, reference, tmp_path, capsys):
    """--od writes Parquet; where pyarrow cannot load, a clear exit-2 error before any computation."""
    from centrality.fileio import require_parquet
    from centrality.errors import InputError

    _, roads, zones = demo_files
    out, od = tmp_path / "res.gpkg", tmp_path / "od.parquet"
    argv = [*_base(roads, zones), "--limits", "30", "--out", str(out), "--od", str(od)]
    try:
        require_parquet("test")
    except InputError:
        _assert_error(capsys, argv, r"needs pyarrow.*Write CSV instead", out, od)
        return
    assert main(argv) == 0
    table = pd.read_parquet(od)
    assert list(table.columns) == ["origin_id", "dest_id", "minutes"] and table["minutes"].max() <= 90
