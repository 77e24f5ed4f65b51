"""The business-attractiveness Processing algorithm (qgis_plugin/proc/business_alg.py) in real QGIS:
same numbers as the core and as a case computed by hand (tests/test_model_business.py)."""
from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import box

from qgis_fixtures import layer_frame, qgis_app, regio_provider, to_layer  # noqa: F401
from tests.business_support import jobs_by_branch, population


@pytest.fixture
def tables(regio_provider):
    jobs, pop = jobs_by_branch(), population()
    polys = gpd.GeoDataFrame({"knr": [1001, 1002]}, geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)],
                             crs="EPSG:25833")
    return to_layer(jobs, "jobs"), to_layer(pop, "population"), to_layer(polys, "kommuner"), jobs, pop


FIELDS = {"JOBS_KOMMUNE_FIELD": "kommune", "JOBS_YEAR_FIELD": "year", "BRANCH_FIELD": "branch", "JOBS_FIELD": "jobs",
          "POP_KOMMUNE_FIELD": "kommune", "POP_YEAR_FIELD": "year", "POPULATION_FIELD": "population"}


def _run(params):
    import processing

    return processing.run("regio:business_attractiveness", {**FIELDS, **params})["OUTPUT"]


def test_business_algorithm_equals_core_and_hand_values(tables):
    from geoproc.model.business import business_attractiveness

    jobs_l, pop_l, polys_l, jobs, pop = tables
    out = layer_frame(_run({"JOBS": jobs_l, "POPULATION": pop_l, "ELASTICITY": 0.5, "KOMMUNER": polys_l,
                            "KOMMUNE_FIELD": "knr", "OUTPUT": "TEMPORARY_OUTPUT"}))
    row = out.set_index("kommune").loc["1001"]
    # hand values (tests/test_model_business.py::test_shift_share_by_hand)
    assert row["national"] == pytest.approx(0.2) and row["branch"] == pytest.approx(1.3)
    assert row["population"] == pytest.approx(2.5) and row["attractiveness"] == pytest.approx(1.0)
    assert row["private"] == pytest.approx(5.0) and row["total"] == pytest.approx(7.0)
    core = business_attractiveness(jobs, pop, population_elasticity=0.5).summary.set_index("kommune")
    for col in ("national", "branch", "population", "attractiveness", "attractiveness_pct", "rank"):
        assert out.set_index("kommune")[col].to_dict() == pytest.approx(core[col].to_dict())
    assert out.geometry.notna().all() and len(out) == 2


def test_business_algorithm_table_without_polygons_and_bad_branch(tables):
    from qgis.core import QgsProcessingException

    jobs_l, pop_l, _polys, jobs, pop = tables
    out = layer_frame(_run({"JOBS": jobs_l, "POPULATION": pop_l, "ELASTICITY": 0.5, "OUTPUT": "TEMPORARY_OUTPUT"}))
    assert len(out) == 2 and set(out["kommune"]) == {"1001", "1002"}
    bad = to_layer(jobs.assign(branch=jobs["branch"].replace("retail", "shops")), "bad")
    with pytest.raises(QgsProcessingException, match="unknown branches"):
        _run({"JOBS": bad, "POPULATION": pop_l, "ELASTICITY": 0.5, "OUTPUT": "TEMPORARY_OUTPUT"})
