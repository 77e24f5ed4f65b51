"""The Regio algorithms in the graphical modeler and in batch mode, inside real QGIS.

Modeler: a QgsProcessingModelAlgorithm built in code the way the model designer stores it (model
inputs wired to child parameters, a native child feeding regio:centrality, a model output), saved
as .model3 and loaded back, gives the same values as a direct processing.run.
Batch: the loop of processing/gui/BatchAlgorithmDialog.runAlgorithm (parameters checked with
checkValueIsAcceptable like BatchPanel.parametersForRow, preprocessParameters, a fresh context per
row, alg.run, handleAlgorithmResults) over two input sets written to GeoPackages.
"""
from __future__ import annotations

import numpy as np
import pytest

from qgis_fixtures import layer_frame, qgis_app, regio_provider, demo, to_layer  # noqa: F401

pytestmark = pytest.mark.qgis

ALGORITHMS = ("build_network", "centrality", "od_matrix", "model_table", "attractiveness", "road_scenario")
TOWNS = ("Midtby", "Kystvik")
INDEX_COLS = ("population", "jobs", "jobs_30min", "jobs_60min", "access_decay", "index", "centrality_class")


@pytest.fixture(autouse=True)
def _provider(regio_provider):
    return regio_provider


@pytest.fixture(scope="module")
def road_params(demo):
    opts = demo.network_options
    return {"CLASS_FIELD": opts["class_field"], "DIRECTION_FIELD": opts["direction_field"],
            "TIME_FW_FIELD": opts["time_fw_field"], "TIME_UNIT": 0 if opts["time_unit"] == "min" else 1,
            "ID_FIELD": opts["id_field"]}


ZONE_PARAMS = {"ZONE_ID_FIELD": "zone_id", "POP_FIELD": "population", "JOBS_FIELD": "jobs"}


def assert_same(a, b, key: str, cols, rtol: float = 1e-9) -> None:
    a, b = a.set_index(key).sort_index(), b.set_index(key).sort_index()
    assert a.index.equals(b.index)
    for col in cols:
        np.testing.assert_allclose(a[col].to_numpy(float), b[col].to_numpy(float), rtol=rtol, atol=1e-9, err_msg=col)


# ------------------------------------------------------------------------------ modeler
def error_log():
    """A QgsProcessingFeedback that records reportError texts in ``.errors``."""
    from qgis.core import QgsProcessingFeedback

    class _ErrorLog(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.errors: list[str] = []

        def reportError(self, error, fatalError=False):  # noqa: N802, N803
            self.errors.append(error)
            super().reportError(error, fatalError)

    return _ErrorLog()


def centrality_model():
    """Model: zones -> native:extractbyexpression (model input expression) -> regio:centrality.

    Inputs: roads, zones, town filter expression, time limits; the road/zone field choices are
    static child values; output 'indexed zones' = the centrality child's OUTPUT."""
    from qgis.core import (
        QgsProcessing,
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelChildParameterSource as Src,
        QgsProcessingModelOutput,
        QgsProcessingModelParameter,
        QgsProcessingParameterExpression,
        QgsProcessingParameterFeatureSource,
        QgsProcessingParameterString,
    )

    model = QgsProcessingModelAlgorithm("Regio centrality of a zone subset", "Tests")
    model.addModelParameter(QgsProcessingParameterFeatureSource("roads", "Roads", [QgsProcessing.TypeVectorLine]),
                            QgsProcessingModelParameter("roads"))
    model.addModelParameter(QgsProcessingParameterFeatureSource("zones", "Zones", [QgsProcessing.TypeVectorPoint]),
                            QgsProcessingModelParameter("zones"))
    model.addModelParameter(QgsProcessingParameterExpression("filter", "Zone filter", parentLayerParameterName="zones"),
                            QgsProcessingModelParameter("filter"))
    model.addModelParameter(QgsProcessingParameterString("limits", "Limits (min)", defaultValue="30,60"),
                            QgsProcessingModelParameter("limits"))

    extract = QgsProcessingModelChildAlgorithm("native:extractbyexpression")
    extract.setChildId("extract")
    extract.addParameterSources("INPUT", [Src.fromModelParameter("zones")])
    extract.addParameterSources("EXPRESSION", [Src.fromModelParameter("filter")])
    model.addChildAlgorithm(extract)

    child = QgsProcessingModelChildAlgorithm("regio:centrality")
    child.setChildId("centrality")
    child.addParameterSources("ZONES", [Src.fromChildOutput("extract", "OUTPUT")])
    child.addParameterSources("ROADS", [Src.fromModelParameter("roads")])
    child.addParameterSources("LIMITS", [Src.fromModelParameter("limits")])
    for name, value in {"CLASS_FIELD": "highway", "DIRECTION_FIELD": "oneway", "TIME_FW_FIELD": "time_min",
                        "TIME_UNIT": 0, "ID_FIELD": "link_id", "CUTOFF": 90.0, **ZONE_PARAMS}.items():
        child.addParameterSources(name, [Src.fromStaticValue(value)])
    output = QgsProcessingModelOutput("indexed zones", "Zones with index")
    output.setChildId("centrality")
    output.setChildOutputName("OUTPUT")
    child.setModelOutputs({"indexed zones": output})
    model.addChildAlgorithm(child)
    model.updateDestinationParameters()
    return model


def test_model_equals_direct_run(demo, road_params, tmp_path):
    import processing
    from processing.tools import dataobjects
    from qgis.core import QgsProcessingException, QgsProcessingModelAlgorithm

    from centrality.builders.lines import network_from_lines
    from centrality.pipeline import run_centrality

    roads, zones = to_layer(demo.roads, "roads"), to_layer(demo.zones, "zones")
    built = centrality_model()
    # what the designer does on save / open
    path = tmp_path / "regio_centrality.model3"
    assert built.toFile(str(path))
    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(str(path))
    assert model.childAlgorithm("centrality").algorithmId() == "regio:centrality"
    assert model.childAlgorithm("centrality").algorithm() is not None  # resolved through the registry
    out_param = "centrality:indexed zones"
    assert out_param in [p.name() for p in model.destinationParameterDefinitions()]
    ok, msg = model.checkParameterValues({"roads": roads, "zones": zones, "filter": "true", "limits": "30,60",
                                          out_param: "TEMPORARY_OUTPUT"}, dataobjects.createContext())
    assert ok, msg

    expression = " OR ".join(f"\"town\" = '{t}'" for t in TOWNS)
    res = processing.run(model, {"roads": roads, "zones": zones, "filter": expression, "limits": "30,60",
                                 out_param: "TEMPORARY_OUTPUT"})
    got = layer_frame(res[out_param])
    subset = demo.zones[demo.zones["town"].isin(TOWNS)]
    assert len(got) == len(subset) and set(got["zone_id"]) == set(subset["zone_id"])

    direct = layer_frame(processing.run("regio:centrality", {
        **road_params, "ROADS": roads, "ZONES": to_layer(subset, "subset"), **ZONE_PARAMS, "CUTOFF": 90,
        "LIMITS": "30,60", "OUTPUT": "TEMPORARY_OUTPUT"})["OUTPUT"])
    assert_same(got, direct, "zone_id", INDEX_COLS, rtol=0)
    core = run_centrality(network_from_lines(demo.roads, **demo.network_options), subset, limits_min=(30, 60))
    assert_same(got, core.zones, "zone_id", INDEX_COLS)
    assert got["index"].max() == pytest.approx(1000.0)
    # a bad model input reaches the child: the model fails and its log carries the plugin's message
    log = error_log()
    with pytest.raises(QgsProcessingException):
        processing.run(model, {"roads": roads, "zones": zones, "filter": expression, "limits": "thirty",
                               out_param: "TEMPORARY_OUTPUT"}, feedback=log)
    assert any("comma-separated list of minutes" in e for e in log.errors), log.errors


def test_every_algorithm_is_modeler_safe(qgis_app):
    """Fresh instances (what the modeler creates per child) have definitions that survive the
    variant-map round trip of a saved model, and reject missing input with a message, not a crash."""
    from processing.tools import dataobjects
    from qgis.core import QgsApplication, QgsProcessingParameters

    context = dataobjects.createContext()
    registry = QgsApplication.processingRegistry()
    for name in ALGORITHMS:
        alg = registry.createAlgorithmById(f"regio:{name}")
        assert alg is not None and alg.id() == f"regio:{name}"
        again = alg.createInstance()
        assert type(again) is type(alg) and again is not alg
        defs = alg.parameterDefinitions()
        assert defs and alg.destinationParameterDefinitions(), name
        for d in defs:
            copy = QgsProcessingParameters.parameterFromVariantMap(d.toVariantMap())
            assert copy is not None, (name, d.name())
            assert (copy.name(), copy.type(), copy.flags()) == (d.name(), d.type(), d.flags()), (name, d.name())
            assert copy.defaultValue() == d.defaultValue(), (name, d.name())
            if d.type() == "field":
                assert alg.parameterDefinition(d.parentLayerParameterName()) is not None, (name, d.name())
        ok, msg = alg.checkParameterValues({}, context)
        assert ok is False, name
        required = [d.name() for d in defs if not d.flags() & d.FlagOptional and not d.isDestination()
                    and d.defaultValue() is None]
        # build_network has no required input (roads XOR OSM PBF): QGIS names the missing output first
        expected = required[0] if required else "LINKS"
        assert expected in msg, (name, msg)


# ------------------------------------------------------------------------------ batch mode
def run_batch(alg_id: str, rows: list[dict]) -> list[dict]:
    """BatchAlgorithmDialog.runAlgorithm without the dialog: one fresh context per row."""
    from processing.gui.Postprocessing import handleAlgorithmResults
    from processing.tools import dataobjects
    from qgis.core import QgsApplication, QgsProcessingFeedback, QgsProcessingOutputLayerDefinition

    alg = QgsApplication.processingRegistry().createAlgorithmById(alg_id)
    feedback = QgsProcessingFeedback()
    results = []
    for row in rows:
        params = {}
        for d in alg.parameterDefinitions():
            if d.isDestination():
                continue
            assert d.checkValueIsAcceptable(row.get(d.name())), f"{d.name()}={row.get(d.name())!r} rejected"
            params[d.name()] = row.get(d.name())
        for out in alg.destinationParameterDefinitions():
            if out.name() in row:
                params[out.name()] = QgsProcessingOutputLayerDefinition(row[out.name()], None)
        params = alg.preprocessParameters(params)
        context = dataobjects.createContext(feedback)
        res, ok = alg.run(params, context, feedback)
        assert ok, res
        assert handleAlgorithmResults(alg, context, feedback, False, params)
        results.append(res)
    return results


def test_batch_two_input_sets(demo, road_params, tmp_path):
    """Row 2 has every zone's jobs doubled: jobs within each limit and decay-weighted access double
    exactly, population is unchanged, and each row equals the core library on its own input."""
    import geopandas as gpd

    from centrality.builders.lines import network_from_lines
    from centrality.pipeline import run_centrality

    subset = demo.zones[demo.zones["town"].isin(TOWNS)].reset_index(drop=True)
    doubled = subset.assign(jobs=subset["jobs"] * 2)
    files = {"roads": tmp_path / "roads.gpkg", "a": tmp_path / "zones_a.gpkg", "b": tmp_path / "zones_b.gpkg"}
    demo.roads.to_file(files["roads"], driver="GPKG")
    subset.to_file(files["a"], driver="GPKG")
    doubled.to_file(files["b"], driver="GPKG")
    rows = [{**road_params, "ROADS": str(files["roads"]), "ZONES": str(files[k]), **ZONE_PARAMS, "CUTOFF": 90.0,
             "LIMITS": "30,60", "DECAY": 0, "GROUP_FIELD": None, "WORKERS": 2, "ACCESS_SPEED": 20.0,
             "MAX_SNAP": 5000.0, "SNAP_TOLERANCE": 1.0, "SPLIT_AT_VERTICES": False,
             "OUTPUT": str(tmp_path / f"out_{k}.gpkg")} for k in ("a", "b")]
    res_a, res_b = run_batch("regio:centrality", rows)
    a = gpd.read_file(res_a["OUTPUT"].split("|")[0], layer="out_a").set_index("zone_id").sort_index()
    b = gpd.read_file(res_b["OUTPUT"].split("|")[0], layer="out_b").set_index("zone_id").sort_index()
    assert a.index.equals(b.index) and len(a) == len(subset)
    for col in ("jobs", "jobs_30min", "jobs_60min", "access_decay"):
        np.testing.assert_allclose(b[col], 2 * a[col], rtol=1e-12, err_msg=col)
    np.testing.assert_array_equal(a["population"], b["population"])
    assert (b["index"] >= a["index"] - 1e-9).all() and not np.allclose(a["index"], b["index"])  # ln(1+A) is not scale-free

    network = network_from_lines(demo.roads, **demo.network_options)
    for frame, zones in ((a, subset), (b, doubled)):
        core = run_centrality(network, zones, limits_min=(30, 60))
        assert_same(frame.reset_index(), core.zones, "zone_id", INDEX_COLS)
