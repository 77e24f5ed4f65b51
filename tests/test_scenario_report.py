"""CLI `regio scenario run`, report files, and "bad scenario -> clear error, nothing written"."""
from __future__ import annotations

import base64
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from scenario_support import STEP, X0, Y0, grid_network  # noqa: E402

from geoproc.cli import main


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A 6 × 4 grid of 1 km roads at 60 km/h (GPKG) and one zone per node (two kommuner)."""
    folder = tmp_path_factory.mktemp("scen_inputs")
    net = grid_network(nx=6, ny=4)
    roads = net.links[["ref", "geometry"]].reset_index().assign(speed=60.0)
    roads.to_file(folder / "roads.gpkg", driver="GPKG")
    xy = net.node_xy
    zones = gpd.GeoDataFrame({"zone_id": [f"z{i}" for i in range(len(xy))],
                              "kommune": np.where(xy[:, 0] < X0 + 2.5 * STEP, "9901", "9902"),
                              "population": 1000.0, "jobs": np.where(np.arange(len(xy)) == 0, 5000.0, 100.0)},
                             geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:25833")
    zones.to_file(folder / "zones.gpkg", driver="GPKG")
    return folder


GOOD = """
[scenario]
name = "test"
[inputs]
network = "roads.gpkg"
zones = "zones.gpkg"
[centrality]
cutoff_min = 90
limits_min = [5, 10]
[impact]
start_year = 2025
end_year = 2040
[places]
west = "z0"
east = "z5"
[[variants]]
name = "fast_e6"
opening_year = 2030
  [[variants.edits]]
  action = "set_speed"
  where = 'ref == "E6"'
  speed_kmh = 120
"""


def _write_toml(folder: Path, text: str) -> Path:
    path = folder / "scen.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_cli_run_writes_full_report(inputs, tmp_path, capsys):
    toml = _write_toml(inputs, GOOD)
    out = tmp_path / "out"
    rc = main(["scenario", "run", str(toml), "--speed-field", "speed", "--link-id-field", "link_id", "--group-field", "kommune", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    names = {p.name for p in out.iterdir()}
    assert {"scenarios.csv", "fast_e6_summary.csv", "fast_e6_zones.csv", "fast_e6_yearly.csv",
            "fast_e6_travel_times.csv", "fast_e6.gpkg", "fast_e6_delta_index.png", "fast_e6_delta_jobs.png",
            "report.html"} <= names
    assert not [n for n in names if n.startswith(".")]               # no temporary leftovers
    tt = pd.read_csv(out / "fast_e6_travel_times.csv")
    row = tt[(tt["from"] == "west") & (tt["to"] == "east")].iloc[0]
    # 5 km of E6 (bottom row): 60 km/h -> 5 min; 120 km/h -> 2.5 min (zones sit on nodes: access 0)
    assert row["baseline_min"] == pytest.approx(5.0, abs=1e-9)
    assert row["scenario_min"] == pytest.approx(2.5, abs=1e-9)
    summary = pd.read_csv(out / "fast_e6_summary.csv", dtype={"kommune": str}).set_index("kommune")
    z = pd.read_csv(out / "fast_e6_zones.csv", dtype={"kommune": str})
    # kommune Δ index is the population-weighted mean of its zones (equal populations: the mean)
    assert summary.loc["9902", "delta_index"] == pytest.approx(z.loc[z["kommune"] == "9902", "delta_index"].mean(), rel=1e-12)
    assert summary.loc["9902", "delta_migrants_per_year"] == pytest.approx(
        0.0272193 * summary.loc["9902", "delta_index"] / 1000 * summary.loc["9902", "population"], rel=1e-12)
    # opening 2030 -> effects 2031..2040 = 10 years
    assert summary.loc["9902", "delta_population_2040"] == pytest.approx(
        10 * summary.loc["9902", "delta_migrants_per_year"], rel=1e-12)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 3 and "<table" in page
    png = page.split("data:image/png;base64,")[1].split("'")[0]
    assert base64.b64decode(png)[:8] == b"\x89PNG\r\n\x1a\n"
    links = gpd.read_file(out / "fast_e6.gpkg", layer="edited_links")
    assert sorted(links["link_id"]) == [100, 101, 102, 103, 104]      # the five E6 links
    assert "fast_e6: 5 links edited" in capsys.readouterr().out


BAD = {
    "unknown ids": ('action = "close"\n  ids = [100, 777, 778]', "unknown link id(s) 777, 778"),
    "empty selection": ('action = "close"\n  where = \'ref == "E39"\'', "matches no links"),
    "negative speed": ('action = "set_speed"\n  ids = [100]\n  speed_kmh = -50', "must be a positive number"),
    "other CRS": ('action = "close"\n  bbox = [10.3, 63.3, 10.5, 63.5]', "probably in another CRS"),
    "overlap": ('action = "close"\n  ids = [100, 101]\n  [[variants.edits]]\n  action = "scale_time"\n'
                '  where = \'ref == "E6"\'\n  factor = 0.5', "both touch link(s) 100, 101"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_scenario_fails_before_computing_and_writes_nothing(inputs, tmp_path, capsys, monkeypatch, case):
    import centrality.paths

    def no_computation(*a, **k):
        raise AssertionError("travel times computed before validation")

    monkeypatch.setattr(centrality.paths, "od_times", no_computation)
    body, message = BAD[case]
    good_variant = GOOD.split("[[variants]]")[0]
    toml = _write_toml(inputs, good_variant + "[[variants]]\nname = \"ok\"\n  [[variants.edits]]\n  action = \"close\"\n"
                       "  ids = [110]\n[[variants]]\nname = \"bad\"\n  [[variants.edits]]\n  " + body + "\n")
    out = tmp_path / "out"
    rc = main(["scenario", "run", str(toml), "--speed-field", "speed", "--link-id-field", "link_id", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and "variant 'bad'" in err
    assert not out.exists() or not any(out.iterdir())


def test_demo_scenarios_on_synthetic_region(tmp_path):
    from centrality.builders.lines import network_from_lines
    from centrality.synthetic import demo_region
    from geoproc.scenario import run_demo

    written = run_demo(tmp_path, maps=False)
    assert (tmp_path / "report.html") in written
    runs = pd.read_csv(tmp_path / "scenarios.csv").set_index("variant")
    region = demo_region()
    net = network_from_lines(region.roads, **region.network_options)
    n_motorway = int((net.links["highway"] == "motorway").sum())
    n_ramps = int((net.links["highway"] == "motorway_link").sum())
    assert runs.loc["e6_upgrade", "edited_links"] == n_motorway + n_ramps
    assert runs.loc["e6_upgrade", "delta_migrants_per_year_total"] > 0
    tt = pd.read_csv(tmp_path / "e6_upgrade_travel_times.csv")
    m = tt[(tt["from"] == "Midtby") & (tt["to"] == "Storby")].iloc[0]
    assert m["scenario_min"] < m["baseline_min"]
    # ferry: 25 min crossing + 60/(2·3) = 10 min wait replaces the old ferry time (hand computation)
    old_ferry_s = float(net.links.loc[net.links["kind"] == "ferry", "time_fw_s"].iloc[0])
    ft = pd.read_csv(tmp_path / "oyvik_ferry_travel_times.csv")
    d = ft[(ft["from"] == "Øyvik") & (ft["to"] == "Storby")].iloc[0]
    assert d["delta_min"] == pytest.approx((35 * 60 - old_ferry_s) / 60, abs=1e-9)


INTERNAL_KEYS = ("seconds_check", "seconds_od", "origins_recomputed", "seconds_alternatives", "a_ref_baseline")


def _outside_technical(page: str) -> str:
    """The page without its collapsed technical sections."""
    import re

    assert page.count("<details class='tech'>") >= 1
    return re.sub(r"<details class='tech'>.*?</details>", "", page, flags=re.S)


def test_report_headline_from_csv_caveats_and_internals_only_in_technical_section(tmp_path):
    """A proxy network (network.report["proxy"]) on the grid: the HTML states the caveat, shows the
    headline numbers of <v>_headline.csv (formatted as the report formats them) and keeps the
    internals in the collapsed technical section."""
    from geoproc.scenario import parse_scenarios, run_scenarios
    from geoproc.scenario.report import interval, per_year, persons, sig4, write_report

    net = grid_network(nx=6, ny=4)
    net.report["proxy"] = "test proxy network"
    xy = net.node_xy
    zones = gpd.GeoDataFrame({"zone_id": [f"z{i}" for i in range(len(xy))],
                              "kommune": np.where(xy[:, 0] < X0 + 2.5 * STEP, "9901", "9902"),
                              "name": np.where(xy[:, 0] < X0 + 2.5 * STEP, "Vestby", "Østby"),
                              "population": 1000.0, "jobs": np.where(np.arange(len(xy)) == 0, 5000.0, 100.0)},
                             geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:25833")
    import tomllib

    data = tomllib.loads(GOOD.replace("[inputs]\nnetwork = \"roads.gpkg\"\nzones = \"zones.gpkg\"\n", ""))
    data["report"] = {"focus": ["9902"], "data_source": "hand-made grid"}
    data["uncertainty"] = {"decay": ["exp:45:0.2"], "cutoff_min": [60]}
    run = run_scenarios(parse_scenarios(data), net, zones, group_col="kommune")
    write_report(run, tmp_path)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    head = pd.read_csv(tmp_path / "fast_e6_headline.csv")
    assert set(head["scope"]) == {"focus:9902", "served", "national"} and set(head["measure"]) == {"gross", "net"}
    for r in head.itertuples(index=False):          # every headline number as printed in the page
        assert per_year(r.per_year) in page and persons(r.population) in page
        assert interval(r.per_year_low, r.per_year_high) in page
        assert interval(r.population_low, r.population_high, persons) in page
    lev = head[(head["scope"] == "focus:9902") & (head["measure"] == "gross")].iloc[0]
    assert lev["per_year"] > 0 and lev["per_year_low"] < lev["per_year"] < lev["per_year_high"]
    assert "Østby (9902)" in page
    assert "PROXY network: test proxy network" in page
    assert "Population base held CONSTANT" in page and "Competition: the net effect" in page
    assert "Intervals combine the coefficient" in page
    assert f"β<sub>sentny</sub> = {sig4(0.0272193)} (SE {sig4(0.0010171)})" in page   # 0.02722, 0.001017
    main_part = _outside_technical(page)
    for key in INTERNAL_KEYS:
        assert key not in main_part, key
        assert key in page                         # but present in the technical section
    assert "0.0 – 0.0" not in page
    # the headline box comes before any table of the technical section
    assert page.index("class='headline'") < page.index("class='caveats'") < page.index("<details")
    assert (tmp_path / "fast_e6_onepage.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "fast_e6_onepage.pdf").read_bytes()[:5] == b"%PDF-"


def test_delta_map_classes_cover_only_occurring_values():
    """The scenario maps' classes (geoproc.plots.classes.diverging_bins with natural breaks, as
    report_maps.delta_map draws them): every class has members, no bound rounds a non-zero value
    to zero, no loss classes without losses, the "no change" class only with zeros; shades by
    magnitude keep a side of small values light."""
    from geoproc.plots import classes as C
    from geoproc.plots.maps import class_breaks

    def natural(values, k):
        return list(class_breaks(values, "natural_breaks", k))

    values = np.r_[np.zeros(40), [0.004, 0.3, 1.1, 8.0, 18.6, 29.2, 57.9], [-0.2, -1.5]]
    bins = C.diverging_bins(values, 6, natural, shade_by="magnitude")
    cls = C.classify(values, bins)
    assert (cls >= 0).all() and set(cls) == set(range(len(bins)))         # every value classed, no empty class
    labels = [b.label for b in bins]
    assert "0 (no change)" in labels and labels.index("0 (no change)") == sum(b.side < 0 for b in bins)
    assert not [lab for lab in labels if "0.0 – 0.0" in lab or lab.endswith("+0.0") or "−0.0" in lab]
    small = C.diverging_bins(np.r_[np.zeros(3), [0.004, 0.3, 57.9]], 6, natural)
    assert [b.label for b in small][1] == "0 – +0.0040"          # small gains keep two significant digits
    assert not [b for b in C.diverging_bins(np.r_[np.zeros(5), [1.0, 2.0]], 6, natural) if b.side < 0]
    assert not [b for b in C.diverging_bins(np.array([1.0, 2.0, 5.0]), 6, natural) if b.side == 0]
    # magnitude shades: losses of at most 1.5 against gains up to 57.9 -> the red side scaled by
    # max(0.35, sqrt(1.5 / 57.9)) = 0.35; rank shades: the i-th class out from 0 alike on both sides
    n_neg, n_pos = sum(b.side < 0 for b in bins), sum(b.side > 0 for b in bins)
    assert (n_neg, n_pos) == (2, 3)
    assert [b.shade for b in bins if b.side < 0] == pytest.approx([0.35 * 2 / 3, 0.35 * 1 / 3])
    assert [b.shade for b in bins if b.side > 0] == pytest.approx([1 / 3, 2 / 3, 1.0])
    rank = C.diverging_bins(values, 6, natural)
    assert [b.shade for b in rank if b.side < 0] == pytest.approx([2 / 3, 1 / 3])
    assert C.nice_length(230_000 / 5) == 20_000 and C.nice_length(9_000 / 5) == 1_000


def test_map_names_avoid_each_other_and_the_edited_links():
    """report_maps.label_places: no two names overlap and no name covers an edited link."""
    import geopandas as gpd
    import shapely
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from geoproc.scenario.report_maps import _display_lines, delta_map

    # six small square kommuner in a row, 2 km apart, with long names; an edited road through them
    polys = [shapely.box(X0 + i * 2000, Y0, X0 + i * 2000 + 1800, Y0 + 1800) for i in range(6)]
    layer = gpd.GeoDataFrame({"name": [f"Kommunenavn{i}" for i in range(6)], "delta_index": np.arange(1.0, 7.0)},
                             geometry=polys, crs="EPSG:25833")
    road = gpd.GeoDataFrame(geometry=[shapely.LineString([(X0, Y0 + 900), (X0 + 11_800, Y0 + 900)])], crs="EPSG:25833")
    fig = delta_map(layer, "delta_index", title="t", unit_label="points", edited_links=road)
    ax = fig.axes[0]
    renderer = FigureCanvasAgg(fig).get_renderer()
    names = [t for t in ax.texts if t.get_text().startswith("Kommunenavn")]
    assert len(names) >= 3
    from matplotlib.text import Text

    for t in names:
        t.update_positions(renderer)
    boxes = [shapely.box(*Text.get_window_extent(t, renderer).extents) for t in names]   # the text, not its leader
    assert not any(a.intersects(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    line = _display_lines(ax, road)[0]
    assert not any(b.intersects(line) for b in boxes)
