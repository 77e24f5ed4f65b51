"""Portfolio runs: singles + combined on a toy network, ranking, interaction, Dask = local."""
from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from scenario_support import STEP, X0, grid_network  # noqa: E402

from centrality.errors import InputError
from geoproc.scenario.portfolio import COMBINED, load_portfolio, parse_portfolio, run_portfolio

B = 0.0272193

PORTFOLIO = """
[portfolio]
name = "toy portfolio"
cost_unit = "MNOK"
[centrality]
cutoff_min = 30
limits_min = [10, 30]
workers = 1
[impact]
start_year = 2025
end_year = 2034
[uncertainty]
enabled = false
[[projects]]
name = "e6_fast"
description = "bottom row (the E6, next to the big job centre) at 120 km/h"
cost = 800
  [[projects.edits]]
  action = "set_speed"
  where = 'ref == "E6"'
  speed_kmh = 120
[[projects.edits_placeholder]]
[[projects]]
name = "north_road"
description = "top row twice as fast"
cost = 100
  [[projects.edits]]
  action = "scale_time"
  ids = [115, 116, 117, 118, 119]
  factor = 0.5
[[projects]]
name = "link_east"
description = "one vertical link in the east, 30 % faster"
  [[projects.edits]]
  action = "scale_time"
  ids = [132]
  factor = 0.7
""".replace("[[projects.edits_placeholder]]\n", "")


def toy():
    """6 × 4 grid of 1 km roads at 60 km/h; one zone per node; three kommuner by column pairs;
    a job centre of 5000 at the south-west corner (node 0), 100 jobs elsewhere."""
    net = grid_network(nx=6, ny=4)
    xy = net.node_xy
    col = np.round((xy[:, 0] - X0) / STEP).astype(int)
    zones = gpd.GeoDataFrame({"zone_id": [f"z{i}" for i in range(len(xy))],
                              "kommune": np.array(["9901", "9902", "9903"])[col // 2],
                              "population": 1000.0 + 100.0 * np.arange(len(xy)),
                              "jobs": np.where(np.arange(len(xy)) == 0, 5000.0, 100.0)},
                             geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:25833")
    return net, zones


@pytest.fixture(scope="module")
def local_run():
    net, zones = toy()
    return run_portfolio(parse_portfolio(tomllib.loads(PORTFOLIO)), net, zones, group_col="kommune")


def test_singles_combined_ranking_and_interaction(local_run):
    run = local_run
    assert [v.name for v in run.variants] == ["e6_fast", "north_road", "link_east", COMBINED]
    combined = run.variants[-1]
    assert combined.technical["edited_links"] == 5 + 5 + 1              # every project's links at once
    res = run.portfolio
    rk = res.ranking.set_index("project")
    # each single's national gross Δ population = Σ over kommuner of β Δindex/1000 P × 10 years
    for v in run.variants[:-1]:
        g = v.groups
        expected = float((B * g["delta_index"] / 1000 * g["population"] * 10).sum())
        assert rk.loc[v.name, "population_gross"] == pytest.approx(expected, rel=1e-12)
        assert rk.loc[v.name, "population_gross"] > 0
    # the E6 next to the job centre helps most; the single east link least
    assert list(res.ranking["project"]) == ["e6_fast", "north_road", "link_east"]
    assert rk["rank_gross"].to_dict() == {"e6_fast": 1, "north_road": 2, "link_east": 3}
    # per cost: north_road (100 MNOK) beats e6_fast (800 MNOK); link_east has no cost: not ranked
    assert rk.loc["north_road", "population_gross_per_cost"] > rk.loc["e6_fast", "population_gross_per_cost"]
    assert rk["rank_per_cost"].to_dict() == {"e6_fast": 2, "north_road": 1, "link_east": 0}
    assert rk.loc["e6_fast", "population_gross_per_cost"] == pytest.approx(rk.loc["e6_fast", "population_gross"] / 800)
    # net: the winners' gain Σ max(net_i, 0), below gross; with population-weighted centring the
    # losers lose exactly as much (national net total 0)
    for v in run.variants[:-1]:
        net = v.groups["delta_population_net"]
        assert rk.loc[v.name, "population_net"] == pytest.approx(float(net[net > 0].sum()), rel=1e-12)
        assert rk.loc[v.name, "population_net"] == pytest.approx(-float(net[net < 0].sum()), rel=1e-9)
        assert 0 < rk.loc[v.name, "population_net"] < rk.loc[v.name, "population_gross"]
    assert rk["rank_net"].to_dict() == {"e6_fast": 1, "north_road": 2, "link_east": 3}
    # interaction = combined − sum of singles, from the variants' own tables
    inter = res.interaction.set_index("figure")
    row = inter.loc["Δ migrants a year, gross (Norway)"]
    singles = sum(float(v.groups["delta_migrants_per_year"].sum()) for v in run.variants[:-1])
    assert row["sum_of_singles"] == pytest.approx(singles, rel=1e-12)
    assert row["combined"] == pytest.approx(float(combined.groups["delta_migrants_per_year"].sum()), rel=1e-12)
    assert row["difference"] == pytest.approx(row["combined"] - singles, rel=1e-12)
    assert row["ratio"] != pytest.approx(1.0, abs=1e-6)                  # the index is not additive


def test_dask_local_cluster_equals_local(local_run, tmp_path):
    distributed = pytest.importorskip("distributed")
    from centrality.parallel import DaskExecutor
    from geoproc.scenario.report import write_report

    net, zones = toy()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster, distributed.Client(cluster) as client:
        ex = DaskExecutor(client)
        run = run_portfolio(parse_portfolio(tomllib.loads(PORTFOLIO)), net, zones, group_col="kommune",
                            executor=ex)
        assert "(2 worker threads)" in ex.describe()
        # the tasks really ran on the worker processes
        assert len(client.scheduler_info()["workers"]) == 2
    pd.testing.assert_frame_equal(run.portfolio.ranking, local_run.portfolio.ranking, check_exact=True)
    pd.testing.assert_frame_equal(run.portfolio.interaction, local_run.portfolio.interaction, check_exact=True)
    for a, b in zip(run.variants, local_run.variants):
        pd.testing.assert_frame_equal(a.zones, b.zones, check_exact=True)
        pd.testing.assert_frame_equal(a.groups, b.groups, check_exact=True)
        pd.testing.assert_frame_equal(a.headline, b.headline, check_exact=True)
    # and the written tables are byte-identical
    write_report(run, tmp_path / "dask", maps=False)
    write_report(local_run, tmp_path / "local", maps=False)
    for name in ("portfolio_ranking.csv", "portfolio_interaction.csv", "e6_fast_summary.csv",
                 f"{COMBINED}_summary.csv", f"{COMBINED}_yearly.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()


def test_cli_portfolio(tmp_path, capsys):
    from geoproc.cli import main

    net, zones = toy()
    net.links[["ref", "geometry"]].reset_index().assign(speed=60.0).to_file(tmp_path / "roads.gpkg", driver="GPKG")
    zones.to_file(tmp_path / "zones.gpkg", driver="GPKG")
    text = PORTFOLIO.replace("[centrality]", "[inputs]\nnetwork = \"roads.gpkg\"\nzones = \"zones.gpkg\"\n[centrality]")
    (tmp_path / "p.toml").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    rc = main(["scenario", "portfolio", str(tmp_path / "p.toml"), "--speed-field", "speed", "--link-id-field",
               "link_id", "--group-field", "kommune", "--no-maps", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    rk = pd.read_csv(out / "portfolio_ranking.csv")
    assert list(rk["project"]) == ["e6_fast", "north_road", "link_east"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Portfolio: projects ranked" in page and "Interaction" in page
    assert "e6_fast" in capsys.readouterr().out


def test_bad_portfolios_fail_before_computing(tmp_path):
    net, zones = toy()
    with pytest.raises(InputError, match="no \\[\\[projects\\]\\]"):
        parse_portfolio({"portfolio": {"name": "x"}})
    with pytest.raises(InputError, match="cost must be positive"):
        parse_portfolio({"projects": [{"name": "a", "cost": -5, "edits": [{"action": "close", "ids": [100]}]}]})
    with pytest.raises(InputError, match="reserved"):
        parse_portfolio({"projects": [{"name": COMBINED, "edits": [{"action": "close", "ids": [100]}]}]})
    overlap = {"projects": [{"name": "a", "edits": [{"action": "close", "ids": [100, 101]}]},
                            {"name": "b", "edits": [{"action": "scale_time", "ids": [101], "factor": 0.5}]}]}
    with pytest.raises(InputError, match="projects 'a' and 'b' both edit link\\(s\\) 101"):
        run_portfolio(parse_portfolio(overlap), net, zones, group_col="kommune")
    path = tmp_path / "p.toml"
    path.write_text(PORTFOLIO.replace("[portfolio]", "[portfolio]\ncolour = 'red'"), encoding="utf-8")
    with pytest.raises(InputError, match="unknown key 'colour'"):
        load_portfolio(path)
