"""Decay functions, jobs within limits, accessibility, the 0–1000 index, SSB classes, aggregation."""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from centrality.accessibility import accessibility
from centrality.decay import DEFAULT_DECAY, ExponentialDecay, LinearDecay, StepDecay, TableDecay, parse_decay
from centrality.errors import InputError
from centrality.index import aggregate, centrality_index, ssb_class
from centrality.paths import ODTable


# ------------------------------------------------------------------------------ decay
def test_default_exponential_decay_values():
    w = DEFAULT_DECAY([0, 45, 90, 90.0001, 91, 200])
    np.testing.assert_allclose(w, [1.0, 0.1, 0.01, 0.0, 0.0, 0.0], rtol=1e-12, atol=0)
    assert DEFAULT_DECAY.beta == pytest.approx(math.log(10) / 45)
    assert ExponentialDecay(30, 0.5, 60)(30) == pytest.approx(0.5)
    assert ExponentialDecay(weight=0.2).weight_at_ref == 0.2


def test_linear_step_table_decay():
    np.testing.assert_allclose(LinearDecay(90)([0, 45, 90, 100]), [1, 0.5, 0, 0])
    np.testing.assert_array_equal(StepDecay(60)([0, 60, 60.01]), [1, 1, 0])
    table = TableDecay([0, 30, 90], [1, 0.5, 0.1])
    np.testing.assert_allclose(table([0, 15, 60, 90, 95]), [1, 0.75, 0.3, 0.1, 0])
    assert table.cutoff_min == 90


def test_parse_decay_specs_round_trip():
    assert parse_decay(None) is DEFAULT_DECAY
    assert parse_decay("exp:45:0.1") == ExponentialDecay(45, 0.1, 90)
    assert parse_decay("exp:30:0.2:60") == ExponentialDecay(30, 0.2, 60)
    assert parse_decay("linear:90") == LinearDecay(90)
    assert parse_decay("step:60") == StepDecay(60)
    table = parse_decay("table:0=1,30=0.5,90=0")
    assert table == TableDecay([0, 30, 90], [1, 0.5, 0])
    assert parse_decay({"type": "exp", "t_ref_min": 40, "weight_at_ref": 0.2, "cutoff_min": 80}).spec == "exp:40:0.2:80"
    assert parse_decay({"type": "table", "minutes": [0, 60], "weights": [1, 0]}) == TableDecay([0, 60], [1, 0])
    for decay in (ExponentialDecay(), LinearDecay(60), StepDecay(30), table):
        assert parse_decay(decay.spec) == decay


@pytest.mark.parametrize("spec, message", [
    ("exp:abc", "not a number"), ("cubic:3", "unknown decay"), ("exp:45:1.5", r"\(0, 1\]"),
    ("table:0=1,0=2", "strictly increasing"), ("step:-5", "positive"), ("linear:1:2", "at most 1"),
    ({"type": "gauss"}, "unknown decay type"), ({"type": "exp", "t_ref": 3}, "bad parameters"), (42, "cannot read"),
])
def test_bad_decay_specs_raise_input_error(spec, message):
    with pytest.raises(InputError, match=message):
        parse_decay(spec)


# ------------------------------------------------------------------------------ accessibility
@pytest.fixture
def toy_od() -> tuple[ODTable, SimpleNamespace]:
    """3 zones, jobs 100/200/400; times in minutes below, cutoff 90 min."""
    pairs = [(0, 0, 2.0), (0, 1, 30.0), (0, 2, 50.0),
             (1, 1, 0.0), (1, 0, 30.5), (1, 2, 90.0),
             (2, 2, 1.0)]
    o, d, t = map(np.array, zip(*pairs))
    od = ODTable(origin=o.astype(np.int32), dest=d.astype(np.int32), time_s=t * 60.0, cutoff_s=5400.0, n_zones=3)
    zones = SimpleNamespace(ids=np.array(["a", "b", "c"]), jobs=np.array([100.0, 200.0, 400.0]))
    return od, zones


def w45(minutes: float) -> float:
    return 0.1 ** (minutes / 45.0)


def test_jobs_within_limits_by_hand(toy_od):
    od, zones = toy_od
    acc = accessibility(od, zones)
    assert list(acc.columns) == ["jobs_30min", "jobs_45min", "jobs_60min", "jobs_90min", "access_decay"]
    assert acc.index.tolist() == ["a", "b", "c"] and acc.index.name == "zone_id"
    assert acc["jobs_30min"].tolist() == [300, 200, 400]  # 30.0 min is inside the 30 min limit
    assert acc["jobs_45min"].tolist() == [300, 300, 400]
    assert acc["jobs_60min"].tolist() == [700, 300, 400]
    assert acc["jobs_90min"].tolist() == [700, 700, 400]  # 90.0 min is inside
    expected = [100 * w45(2) + 200 * w45(30) + 400 * w45(50),
                200 * w45(0) + 100 * w45(30.5) + 400 * w45(90),
                400 * w45(1)]
    np.testing.assert_allclose(acc["access_decay"], expected, rtol=1e-12)


def test_intra_zone_minutes_and_step_decay(toy_od):
    od, zones = toy_od
    keep = ~((od.origin == 2) & (od.dest == 2))  # zone c's own pair missing (e.g. long access)
    od2 = ODTable(od.origin[keep], od.dest[keep], od.time_s[keep], cutoff_s=od.cutoff_s, n_zones=3)
    acc = accessibility(od2, zones, limits_min=(20,), decay="step:30", intra_zone_min=10)
    assert acc["jobs_20min"].tolist() == [100, 200, 400]  # own zone at 10 min counted for every zone
    assert acc["access_decay"].tolist() == [300, 200, 400]
    acc = accessibility(od2, zones, limits_min=(20,), intra_zone_min="access")
    assert acc["jobs_20min"].tolist() == [100, 200, 0]


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_one_pass_sums_equal_bincount_bit_for_bit(dtype):
    """Identity test: the one-pass kernel adds in pair order, as numpy.bincount does, so the
    counts and the decay sums equal the bincount formulation exactly (not only to rounding)."""
    rng = np.random.default_rng(5)
    n, m = 300, 20_000
    origin = np.sort(rng.integers(0, n, m)).astype(dtype)
    dest = rng.integers(0, n, m).astype(dtype)
    time_s = rng.uniform(0, 5400, m).round(rng.integers(0, 3))
    time_s[::97] = 1800.0                                   # ties at a limit are inside it
    jobs = rng.uniform(0, 5000, n).round(1)
    od = ODTable(origin=origin, dest=dest, time_s=time_s, cutoff_s=5400.0, n_zones=n)
    acc = accessibility(od, SimpleNamespace(jobs=jobs), limits_min=(30, 45, 60, 90))
    dj = jobs[dest]
    for limit in (30, 45, 60, 90):
        within = time_s <= limit * 60.0
        want = np.bincount(origin[within], weights=dj[within], minlength=n)
        assert np.array_equal(acc[f"jobs_{limit}min"].to_numpy(), want)
    want = np.bincount(origin, weights=dj * DEFAULT_DECAY(time_s / 60.0), minlength=n)
    assert np.array_equal(acc["access_decay"].to_numpy(), want)


def test_origins_not_computed_are_nan(toy_od):
    od, zones = toy_od
    keep = od.origin != 1
    sub = ODTable(od.origin[keep], od.dest[keep], od.time_s[keep], cutoff_s=od.cutoff_s, n_zones=3,
                  origins=np.array([0, 2]))
    acc = accessibility(sub, zones, limits_min=(30,))
    assert acc.loc["a", "jobs_30min"] == 300 and acc.loc["c", "jobs_30min"] == 400
    assert acc.loc["b"].isna().all()


def test_accessibility_bad_input(toy_od):
    od, zones = toy_od
    with pytest.raises(InputError, match="exceed the OD cutoff"):
        accessibility(od, zones, limits_min=(30, 120))
    with pytest.raises(InputError, match="cutoff_min >= 120"):
        accessibility(od, zones, decay="linear:120")
    with pytest.raises(InputError, match="invalid job counts"):
        accessibility(od, SimpleNamespace(jobs=np.array([1.0, np.nan, 2.0])))
    with pytest.raises(InputError, match="computed for 3 zones but 2"):
        accessibility(od, SimpleNamespace(jobs=np.array([1.0, 2.0])))
    with pytest.raises(InputError, match="'access' or a number"):
        accessibility(od, zones, intra_zone_min="own")


# ------------------------------------------------------------------------------ index and classes
def test_log_index_values_and_reference():
    e = math.e
    a = np.array([0.0, e - 1, e**2 - 1])
    np.testing.assert_allclose(centrality_index(a), [0, 500, 1000])
    np.testing.assert_allclose(centrality_index([0, 50, 100], transform="linear"), [0, 500, 1000])
    np.testing.assert_allclose(centrality_index([0, 25, 100], transform="sqrt"), [0, 500, 1000])
    np.testing.assert_allclose(centrality_index([1, 4, 16], transform=np.log2), [0, 500, 1000])
    # named reference zone gets exactly 1000; a zone above it exceeds 1000 unless clipped
    ids = np.array(["0301", "5001", "1151"])
    got = centrality_index([e - 1, e**2 - 1, e**3 - 1], reference_zone="5001", ids=ids)
    np.testing.assert_allclose(got, [500, 1000, 1500])
    np.testing.assert_allclose(centrality_index(pd.Series([e - 1, e**2 - 1], index=["x", "y"]), reference_zone="x"),
                               [1000, 2000])
    np.testing.assert_allclose(centrality_index([e**3 - 1], reference_value=e**2 - 1, clip=True), [1000])


def test_index_is_monotonic_in_accessibility():
    a = np.sort(np.random.default_rng(1).uniform(0, 1e6, 200))
    for transform in ("log", "linear", "sqrt"):
        idx = centrality_index(a, transform=transform)
        assert np.all(np.diff(idx) > 0) and idx.max() == 1000.0


def test_index_bad_input():
    with pytest.raises(InputError, match="did you mean 0301"):
        centrality_index([1.0, 2.0], reference_zone="0310", ids=["0301", "5001"])
    with pytest.raises(InputError, match="no zone ids"):
        centrality_index([1.0, 2.0], reference_zone="0301")
    with pytest.raises(InputError, match="negative"):
        centrality_index([-1.0, 2.0])
    with pytest.raises(InputError, match="reaches no jobs"):
        centrality_index([0.0, 0.0])
    with pytest.raises(InputError, match="unknown index transform"):
        centrality_index([1.0], transform="cube")


def test_ssb_class_boundaries():
    values = [1000, 925, 924, 924.5, 924.49, 870, 869, 775, 774, 670, 669, 565, 564.5, 564, 0, np.nan]
    assert ssb_class(values).tolist() == [1, 1, 2, 1, 2, 2, 3, 3, 4, 4, 5, 5, 5, 6, 6, 0]
    # published 2020 values: Oslo 1000, Trondheim 891, Stjørdal 801, Levanger 755, Frosta 670, Utsira 295
    assert ssb_class([1000, 891, 801, 755, 670, 295]).tolist() == [1, 2, 3, 4, 4, 6]


def test_population_weighted_aggregation_by_hand():
    df = pd.DataFrame({"kommune": ["A", "A", "A", "B", "C"], "population": [100, 300, 50, 50, 0],
                       "jobs": [10, 20, 5, 7, 1], "index": [800, 600, np.nan, 500, 700]})
    with pytest.warns(UserWarning, match="zero total population"):
        out = aggregate(df, "kommune", ["index"], sum_cols=["jobs"])
    assert out.loc["A", "index"] == pytest.approx((100 * 800 + 300 * 600) / 400)  # NaN row left out
    assert out.loc["B", "index"] == 500
    assert np.isnan(out.loc["C", "index"]) and out.loc["C", "zero_weight"]
    assert out["population"].tolist() == [450, 50, 0] and out["jobs"].tolist() == [35, 7, 1]
    with pytest.raises(InputError, match="no column 'population' \\(did you mean 'populaton'"):
        aggregate(df.rename(columns={"population": "populaton"}), "kommune", ["index"])
    with pytest.raises(InputError, match="negative"):
        aggregate(df.assign(population=[-1, 1, 1, 1, 1]), "kommune", ["index"])
