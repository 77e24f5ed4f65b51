"""CentralitySettings (one place for the defaults) and the one OD -> index step shared by the
pipeline and the scenario engine."""
from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
import pytest

from centrality.errors import InputError
from centrality.settings import CentralitySettings, default_workers
from centrality.step import centrality_from_od


def test_documented_defaults_and_units():
    s = CentralitySettings()
    assert (s.cutoff_min, s.limits_min, s.transform, s.intra_zone_min) == (90.0, (30.0, 45.0, 60.0, 90.0), "log", "access")
    assert (s.access_speed_kmh, s.max_snap_m, s.max_excluded_share) == (20.0, 5000.0, 0.01)
    assert s.reference_zone is None and s.reference_value is None and s.engine == "auto"
    assert s.workers == default_workers() >= 1
    if hasattr(os, "sched_getaffinity"):
        assert s.workers == len(os.sched_getaffinity(0))
    decay = s.decay_function
    assert decay.spec == "exp:45:0.1:90"
    assert float(decay(45.0)) == pytest.approx(0.1) and float(decay(90.0)) > 0 and float(decay(90.01)) == 0.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.cutoff_min = 60


def test_default_decay_follows_the_cutoff():
    assert CentralitySettings(cutoff_min=30, limits_min=(15, 30)).decay_function.spec == "exp:45:0.1:30"
    assert CentralitySettings(cutoff_min=120).decay_function.spec == "exp:45:0.1:120"
    assert CentralitySettings(cutoff_min=60, limits_min=(30,), decay="exp:30:0.2").decay_function.spec == "exp:30:0.2:60"
    assert CentralitySettings(cutoff_min=60, limits_min=(30,), decay="linear").decay_function.spec == "linear:60"
    assert CentralitySettings(cutoff_min=60, limits_min=(30,), decay="step:20").decay_function.spec == "step:20"
    with pytest.raises(InputError, match="decay gives weight up to 90 min but the cutoff is 60"):
        CentralitySettings(cutoff_min=60, limits_min=(30,), decay="exp:45:0.1:90")


@pytest.mark.parametrize("kwargs, message", [
    (dict(cutoff_min=0), "cutoff_min must be a positive number of minutes"),
    (dict(limits_min=(30, 120)), r"largest time limit \(120 min\) exceeds the cutoff \(90 min\)"),
    (dict(limits_min=()), "limits_min must be positive minutes"),
    (dict(transform="cube"), "unknown index transform 'cube'"),
    (dict(reference_zone="0301", reference_value=1000.0), "either a reference zone or a reference value"),
    (dict(reference_zone=3.5), "reference_zone must be a zone id"),
    (dict(reference_value=-1.0), "reference_value must be > 0"),
    (dict(access_speed_kmh=0), "access_speed_kmh must be > 0 km/h"),
    (dict(max_snap_m=-5), "max_snap_m must be >= 0 metres"),
    (dict(max_excluded_share=1.5), "max_excluded_share must be a fraction between 0 and 1"),
    (dict(workers=0), "workers must be a whole number >= 1"),
    (dict(engine="dijstra"), r"unknown engine 'dijstra' \(did you mean 'dijkstra'\?\)"),
    (dict(intra_zone_min="zero"), "intra_zone_min must be 'access' or a number of minutes"),
])
def test_invalid_settings_name_the_fix(kwargs, message):
    with pytest.raises(InputError, match=message):
        CentralitySettings(**kwargs)


def test_replace_from_mapping_and_deprecated_reference():
    s = CentralitySettings(workers=1)
    assert s.replace(cutoff_min=60, limits_min=[60, 30]).limits_min == (30.0, 60.0)
    assert s.with_options(cutoff_min=None, max_snap_m=100).max_snap_m == 100.0
    with pytest.warns(DeprecationWarning, match="'reference' is deprecated"):
        assert s.replace(reference="0301").reference_zone == "0301"
    t = CentralitySettings.from_mapping({"cutoff_min": 60, "limits_min": [30, 60], "reference_value": 5000}, base=s)
    assert (t.cutoff_min, t.reference_value, t.workers) == (60.0, 5000.0, 1)
    with pytest.raises(InputError, match=r"\[centrality\]: unknown key 'cutof'\. Did you mean 'cutoff_min'"):
        CentralitySettings.from_mapping({"cutof": 60})
    summary = s.summary()
    assert summary["decay"] == "exp:45:0.1:90" and summary["limits_min"] == [30.0, 45.0, 60.0, 90.0]


# ------------------------------------------------------------------ the one step
@pytest.fixture(scope="module")
def demo():
    from centrality.builders.lines import network_from_lines
    from centrality.synthetic import demo_region

    region = demo_region()
    return region, network_from_lines(region.roads, **region.network_options)


def test_pipeline_and_scenario_engine_share_the_step(demo):
    """The pipeline's zone values and the scenario engine's baseline are the same numbers (one
    implementation, centrality.step.centrality_from_od)."""
    from centrality.pipeline import run_centrality
    from centrality.zones import snap_zones
    from geoproc.scenario.incremental import ScenarioEngine

    region, network = demo
    settings = CentralitySettings(limits_min=(30, 60, 90))
    r = run_centrality(network, region.zones, settings)
    engine = ScenarioEngine(network, snap_zones(region.zones, network, settings=settings), settings)
    base = engine.baseline
    for col in ("jobs_30min", "jobs_60min", "jobs_90min", "access_decay", "index", "centrality_class"):
        np.testing.assert_array_equal(base.table[col].to_numpy(), r.zones[col].to_numpy())
    assert base.a_ref == r.summary["reference_access"]
    step = centrality_from_od(base.od, engine.zones, settings.replace(reference_value=base.a_ref / 2))
    a = step.table["access_decay"].to_numpy()
    np.testing.assert_allclose(step.table["index"], 1000 * np.log1p(a) / math.log1p(base.a_ref / 2), rtol=1e-14)
    assert step.reference_access == base.a_ref / 2


def test_scenario_reference_is_a_zone_id_or_an_explicit_value(demo):
    """Issue 9 bug: in [centrality] a numeric ``reference`` was a zone id in one run and A_ref in
    another. Now ``reference_zone`` is always a zone id and ``reference_value`` always A_ref."""
    from geoproc.scenario import parse_scenarios, run_scenarios

    region, network = demo
    variant = {"name": "e6", "edits": [{"action": "set_speed", "ids": [int(i) for i in region.motorway_link_ids],
                                        "speed_kmh": 130.0}]}
    storby = region.places["Storby"]
    by_zone = run_scenarios(parse_scenarios({"centrality": {"reference_zone": storby}, "variants": [variant]}),
                            network, region.zones)
    by_value = run_scenarios(parse_scenarios({"centrality": {"reference_value": by_zone.baseline_a_ref},
                                              "variants": [variant]}), network, region.zones)
    assert by_value.baseline_a_ref == by_zone.baseline_a_ref
    z = by_zone.variants[0].zones.set_index("zone_id")
    assert z.loc[storby, "index_base"] == 1000.0
    np.testing.assert_array_equal(by_value.variants[0].zones["index_scen"], by_zone.variants[0].zones["index_scen"])
    with pytest.raises(InputError, match="reference zone 12345.0 is not among the zone ids|reference_zone must be"):
        run_scenarios(parse_scenarios({"centrality": {"reference_zone": 12345.0}, "variants": [variant]}),
                      network, region.zones)


def test_cli_reference_options(tmp_path, capsys):
    from centrality.synthetic import write_demo_data
    from geoproc.cli import main

    roads, zones = write_demo_data(tmp_path)
    base = ["centrality", "--network", str(roads), "--time-fw-field", "time_min", "--time-unit", "min",
            "--zones", str(zones), "--zones-layer", "zones", "--limits", "30", "--workers", "1"]
    assert main([*base, "--reference-value", "1000", "--out", str(tmp_path / "v.gpkg")]) == 0
    import pyogrio

    summary = pyogrio.read_dataframe(tmp_path / "v.gpkg", layer="run_summary").set_index("key")["value"]
    assert summary["reference_value"] == "1000.0" and summary["reference_access"] == "1000.0"
    assert main([*base, "--reference-zone", "z1", "--reference-value", "1000", "--out", str(tmp_path / "w.gpkg")]) == 2
    assert "either a reference zone or a reference value" in capsys.readouterr().err
    with pytest.warns(DeprecationWarning, match="--reference-zone"):
        assert main([*base, "--reference", "nope", "--out", str(tmp_path / "x.gpkg")]) == 2
    assert "reference zone 'nope' is not in the zones layer" in capsys.readouterr().err
