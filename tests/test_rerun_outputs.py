"""Reusing an output folder (issue 13): a scenario rerun with other variants leaves no files of the
old variants beside the new report; files the user put there are kept; the manifest lists what is there."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from geoproc.cli import main

REPO = Path(__file__).resolve().parents[1]
NET = ["--time-fw-field", "time_min", "--time-unit", "min", "--class-field", "highway", "--direction-field", "oneway"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    from centrality.synthetic import demo_region, write_demo_data

    folder = tmp_path_factory.mktemp("rerun")
    region = demo_region()
    write_demo_data(folder, region=region)
    region.zones.iloc[::13].to_file(folder / "small.gpkg", layer="zones", driver="GPKG")
    text = (REPO / "geoproc" / "scenario" / "demo_scenario.toml").read_text(encoding="utf-8")
    (folder / "both.toml").write_text(text, encoding="utf-8")
    only = text.split("[[variants]]\nname = \"oyvik_ferry\"")[0].replace('name = "e6_upgrade"', 'name = "e6_second"')
    (folder / "one.toml").write_text(only, encoding="utf-8")
    return folder


def _scenario(inputs: Path, toml: str, out: Path) -> int:
    return main(["scenario", "run", str(inputs / toml), "--network", str(inputs / "roads.gpkg"), *NET,
                 "--zones", str(inputs / "small.gpkg"), "--zones-layer", "zones", "--group-field", "kommune",
                 "--no-maps", "--out", str(out)])


def test_scenario_rerun_removes_the_old_variants_files(inputs, tmp_path, capsys):
    out = tmp_path / "scen"
    assert _scenario(inputs, "both.toml", out) == 0
    first = {p.name for p in out.iterdir()}
    assert {"e6_upgrade_summary.csv", "oyvik_ferry_summary.csv", "report.html"} <= first
    (out / "my_notes.txt").write_text("mine", encoding="utf-8")     # not an output of ours: must stay
    assert _scenario(inputs, "one.toml", out) == 0
    second = {p.name for p in out.iterdir()}
    assert not [n for n in second if n.startswith(("oyvik_ferry", "e6_upgrade"))], second
    assert "e6_second_summary.csv" in second and "report.html" in second and "my_notes.txt" in second
    manifest = next(out.glob("*manifest*.json"))
    listed = {Path(f["path"]).name for f in json.loads(manifest.read_text(encoding="utf-8"))["files"]}
    assert listed == second - {"my_notes.txt", manifest.name}
    assert "oyvik" not in (out / "report.html").read_text(encoding="utf-8")
