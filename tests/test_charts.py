"""Charts (geoproc.plots.charts): files exist, are not blank, carry the right text and numbers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from centrality.errors import InputError
from geoproc.plots import charts


def png_variance(path) -> float:
    from matplotlib.image import imread

    img = imread(path)
    return float(img[..., :3].std())


def check_files(paths, *texts):
    assert [p.suffix for p in paths] == [".png", ".svg"]
    for p in paths:
        assert p.exists() and p.stat().st_size > 1000
    assert png_variance(paths[0]) > 0.01
    svg = paths[1].read_text(encoding="utf-8")
    for text in texts:
        assert text in svg, f"{text!r} not in {paths[1].name}"
    assert not list(paths[0].parent.glob(".*tmp*")), "temporary files left behind"
    return svg


def test_expectation_scatter_line_equals_numpy(tmp_path):
    rng = np.random.default_rng(11)
    x = rng.normal(1.0, 2.0, 80)
    y = 0.3212 * x - 1.0787 + rng.normal(0, 0.8, 80)
    x[3] = np.nan   # NaN pairs are ignored
    fit, paths = charts.expectation_scatter(x, y, tmp_path / "scatter.png", labels=[f"K{i}" for i in range(80)],
                                            title="Expectation line 2005–2007")
    ok = np.isfinite(x)
    slope, intercept = np.polyfit(x[ok], y[ok], 1)
    r2 = np.corrcoef(x[ok], y[ok])[0, 1] ** 2
    assert fit.slope == pytest.approx(slope, rel=1e-12) and fit.intercept == pytest.approx(intercept, rel=1e-12)
    assert fit.r2 == pytest.approx(r2, rel=1e-12) and fit.n == 79
    sign = "−" if intercept < 0 else "+"
    equation = f"y = {slope:.4f}x {sign} {abs(intercept):.4f}, R² = {r2:.4f}"
    assert fit.equation() == equation
    check_files(paths, "Expectation line 2005–2007", equation, "n = 79")


def test_fit_line_published_format_and_errors():
    assert charts.FitLine(0.1693, -1.4273, 0.177, 100).equation() == "y = 0.1693x − 1.4273, R² = 0.1770"
    with pytest.raises(InputError, match="at least 3"):
        charts.fit_line([1, 1, 1], [1, 2, 3])


def test_ranking_bars_top_and_bottom(tmp_path):
    values = pd.Series(np.arange(-15, 15, dtype=float) + 0.25, index=[f"{i:04d}" for i in range(30)])
    paths = charts.ranking_bars(values, tmp_path / "rank.png", n=10, labels={"0029": "Ullensaker", "0000": "Oslo"},
                                title="Top and bottom 10 kommuner")
    svg = check_files(paths, "Top and bottom 10 kommuner", "Ullensaker", "Oslo", "14.2", "-14.8")
    assert "0015" not in svg and "0014" not in svg   # the middle values are not shown


def test_decomposition_bars_ullensaker(tmp_path):
    comp = pd.DataFrame({"births surplus": [205], "immigration": [180], "centrality": [93], "own jobs": [27],
                         "neighbour jobs": [22], "DS": [-18], "attractiveness": [472]}, index=["Ullensaker"])
    paths = charts.decomposition_bars(comp, tmp_path / "decomp.svg", total=pd.Series({"Ullensaker": 981}),
                                      title="Ullensaker 2003–2021")
    check_files(paths, "Ullensaker 2003–2021", "+981", "attractiveness", "neighbour jobs")


def test_fan_chart_with_official_line(tmp_path):
    years = np.arange(2021, 2041)
    totals = pd.DataFrame({"neutral": 1000 + 5 * (years - 2021), "historical": 1000 + 8 * (years - 2021),
                           "high": 1000 + 12 * (years - 2021), "low": 1000 - 3 * (years - 2021)}, index=years)
    paths = charts.fan_chart(totals, tmp_path / "fan", official=pd.Series(1000 + 6 * (years - 2021), index=years),
                             title="Levanger 2021–2040")
    check_files(paths, "Levanger 2021–2040", "official projection", "high: 1 228", "low: 943")


def test_actual_vs_expected_and_series(tmp_path):
    years = range(2010, 2022)
    t = pd.DataFrame({"actual": np.linspace(0.01, -0.002, 12), "expected": np.full(12, 0.003)}, index=years)
    check_files(charts.actual_vs_expected(t, tmp_path / "ave.png", title="Frøya"), "Frøya", "expected")
    series = pd.DataFrame({"0301": np.full(12, -0.004), "3033": np.full(12, 0.008)}, index=years)
    paths = charts.attractiveness_series(series, tmp_path / "ts.png", title="Cumulative attractiveness")
    check_files(paths, "Cumulative attractiveness", "0301", "3033")
    with pytest.raises(InputError, match="no column 'expected'"):
        charts.actual_vs_expected(t.drop(columns="expected"), tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()


def test_year_span_never_repeats_a_year():
    from geoproc.plots.classes import year_span

    assert year_span([2020]) == "2020" and year_span([2020, 2020]) == "2020"
    assert year_span([2022, 2020, 2021]) == "2020–2022" and year_span([]) == ""


def test_single_year_series_has_a_narrow_year_axis(tmp_path):
    from matplotlib.figure import Figure

    table = pd.DataFrame({"Oslo": [0.01], "Bergen": [-0.005]}, index=[2020])
    paths = charts.attractiveness_series(table, tmp_path / "one.png", title="Cumulative attractiveness, 2020")
    assert paths[0].exists()
    fig = Figure()
    ax = fig.add_subplot()
    ax.plot([2020], [1.0])
    charts._year_axis(ax, np.array([2020]))
    assert ax.get_xlim() == (2019.25, 2020.75) and list(ax.get_xticks()) == [2020]


def test_scatter_labels_do_not_overlap():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), dpi=100)
    ax = fig.add_subplot()
    x = np.array([0.0, 0.05, 0.1, 0.15, 3.0])
    y = np.array([-3.70, -3.68, -3.72, -3.69, 2.0])
    ax.scatter(x, y)
    texts = charts.place_labels(ax, x, y, ["Fyresdal", "Unjárga - Nesseby", "Bykle", "Hasvik", "Vestnes"])
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in texts]
    assert len(boxes) >= 3 and "Vestnes" in [t.get_text() for t in texts]  # crowded labels are left out, never overprinted
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b), (a, b)
