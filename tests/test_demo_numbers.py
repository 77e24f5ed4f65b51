"""Regression guard of the demo's key numbers (``regio demo``: tables/ and scenario/).

These are NOT independent oracles: the expected values were produced by the code on main before
issue 9's refactoring (the baseline demo output) and are held fixed here, so a refactoring that
changes any number of the demo fails loudly. Independent checks of the same quantities are in
test_pipeline.py (hand-computed line network, scipy Dijkstra on the demo region) and
test_scenario_*.py. The demo region is SYNTHETIC (centrality.synthetic).
"""
from __future__ import annotations

from pathlib import Path

import pytest

import geoproc.scenario as scenario_pkg
from centrality.builders.lines import network_from_lines
from centrality.pipeline import run_centrality
from centrality.synthetic import demo_region
from geoproc.scenario import DEMO_SCENARIO, load_scenarios, run_scenarios

# baseline demo (main before issue 9): tables/summary.json and tables/groups.csv
REFERENCE_ACCESS = 48646.4191782149
REACHABLE_PAIRS = 558632
KOMMUNE_INDEX = {"9901": 985.9607819663697, "9902": 900.3200749531537, "9903": 865.7170186240137,
                 "9904": 796.2644858522751, "9905": 870.4435030747416, "9906": 851.6766741698494,
                 "9907": 847.4080742602806, "9908": 647.4812798147623}
KOMMUNE_JOBS_60 = {"9901": 79472.27566662783, "9908": 1262.309271935283}
# scenario/scenarios.csv
SCENARIO_TOTALS = {"e6_upgrade": (769, 13.086653184150979, 157.03983820981173),
                   "oyvik_ferry": (654, 3.384754707139635, 54.156075314234165)}
MIDTBY_E6 = (900.3200749531537, 910.5754486683546, 7.446447845306194, 89.35737414367433)


@pytest.fixture(scope="module")
def demo():
    region = demo_region()
    network = network_from_lines(region.roads, **region.network_options)
    return region, network


def test_demo_centrality_numbers_are_unchanged(demo):
    region, network = demo
    r = run_centrality(network, region.zones, group_col="kommune")
    assert r.summary["n_zones"] == 793 and r.summary["n_excluded"] == 0
    assert r.summary["reachable_pairs"] == REACHABLE_PAIRS
    assert r.summary["reference_access"] == REFERENCE_ACCESS
    g = r.groups.set_index("kommune")
    for kommune, index in KOMMUNE_INDEX.items():
        assert g.loc[kommune, "index"] == pytest.approx(index, rel=1e-13, abs=0)
    for kommune, jobs in KOMMUNE_JOBS_60.items():
        assert g.loc[kommune, "jobs_60min"] == pytest.approx(jobs, rel=1e-13, abs=0)
    assert g["centrality_class"].tolist() == [1, 2, 3, 3, 2, 3, 3, 5]


def test_demo_scenario_numbers_are_unchanged(demo):
    region, network = demo
    scen = load_scenarios(Path(scenario_pkg.__file__).with_name(DEMO_SCENARIO))
    scen.places = {name: region.places[name] for name in ("Midtby", "Storby", "Nordmo", "Øyvik")}
    run = run_scenarios(scen, network, region.zones, group_col="kommune", group_polygons=region.kommuner)
    assert run.baseline_a_ref == REFERENCE_ACCESS
    for v in run.variants:
        recomputed, migrants, population = SCENARIO_TOTALS[v.name]
        assert v.technical["origins_recomputed"] == recomputed
        assert v.summary["delta_migrants_per_year_total"] == pytest.approx(migrants, rel=1e-12)
        assert v.summary["delta_population_2040_total"] == pytest.approx(population, rel=1e-12)
        assert v.summary["n_excluded"] == 0 and v.summary["excluded_population_share"] == 0.0
    e6 = next(v for v in run.variants if v.name == "e6_upgrade").groups.set_index("kommune").loc["9902"]
    got = (e6["index_base"], e6["index_scen"], e6["delta_migrants_per_year"], e6["delta_population"])
    assert got == pytest.approx(MIDTBY_E6, rel=1e-12)
