"""Choropleth maps: class breaks, legend statistics, ranking tables, atomic PNG/SVG output."""
from __future__ import annotations

import geopandas as gpd
import mapclassify
import numpy as np
import pytest
import shapely

from centrality.errors import InputError
from geoproc.plots.maps import choropleth, class_breaks, save_figure


@pytest.fixture
def grid():
    """6 x 5 unit squares (EPSG:25833, 1 km) with values 1..30 and names P01..P30; one value missing."""
    cells = [shapely.box(x * 1000, y * 1000, (x + 1) * 1000, (y + 1) * 1000) for y in range(5) for x in range(6)]
    values = np.arange(1.0, 31.0)
    values[29] = np.nan
    return gpd.GeoDataFrame({"name": [f"P{k:02d}" for k in range(1, 31)], "value": values}, geometry=cells,
                            crs="EPSG:25833")


def _legend(fig):
    ax = fig.axes[0]
    legend = ax.get_legend()
    return legend.get_title().get_text(), [t.get_text() for t in legend.get_texts()]


def _table_rows(ax):
    cells = ax.tables[0].get_celld()
    n_rows = max(r for r, _ in cells) + 1
    return [[cells[r, c].get_text().get_text() for c in range(3)] for r in range(1, n_rows)]


def test_breaks_match_mapclassify():
    values = np.random.default_rng(1).lognormal(size=200)
    np.testing.assert_allclose(class_breaks(values, "quantiles", 5), mapclassify.Quantiles(values, k=5).bins)
    np.testing.assert_allclose(class_breaks(values, "natural_breaks", 5), mapclassify.FisherJenks(values, k=5).bins)
    np.testing.assert_allclose(class_breaks(values, "equal_interval", 4), mapclassify.EqualInterval(values, k=4).bins)
    diverging = class_breaks(np.linspace(-3, 7, 11), "equal_interval", 5, diverging=True)
    assert 0.0 in diverging and len(diverging) == 6  # equal intervals of 2: -1, 1, 3, 5, 7 plus 0


def test_legend_states_n_mean_sd_and_classes(grid):
    fig = choropleth(grid, "value", title="Test map", unit_label="jobs", k=5)
    title, labels = _legend(fig)
    valid = np.arange(1.0, 30.0)
    assert "jobs" in title and "n = 29" in title
    assert f"mean = {valid.mean():.1f}" in title and f"sd = {valid.std(ddof=1):.1f}" in title  # 15.0, 8.5
    assert len(labels) == 6 and labels[-1] == "no data  (1)"
    # quantile classes of 1..29: counts add up to 29
    counts = [int(label.rsplit("(", 1)[1].rstrip(")")) for label in labels[:5]]
    assert sum(counts) == 29
    assert labels[0].startswith("1.0 – ")


def test_ranking_tables_list_top_and_bottom_ten(grid):
    fig = choropleth(grid, "value", title="T", unit_label="jobs")
    _, ax_top, ax_bottom = fig.axes
    top, bottom = _table_rows(ax_top), _table_rows(ax_bottom)
    assert [r[1] for r in top] == [f"P{k:02d}" for k in range(29, 19, -1)]
    assert [r[1] for r in bottom] == [f"P{k:02d}" for k in range(1, 11)]
    assert top[0][0] == "1" and bottom[0][0] == "29" and top[0][2] == "29.0"
    assert len(choropleth(grid, "value", title="T", unit_label="u", ranking_table=False).axes) == 1


def test_diverging_colours_centre_on_zero(grid):
    grid = grid.assign(delta=grid["value"] - 10.0)
    fig = choropleth(grid, "delta", title="Δ", unit_label="Δ jobs", diverging=True, scheme="equal_interval")
    _, labels = _legend(fig)
    assert any(label.endswith("0.0  (0)") or " – 0.0" in label for label in labels)
    patches = fig.axes[0].get_legend().get_patches()
    neg, pos = patches[0].get_facecolor(), patches[len(patches) - 2].get_facecolor()
    assert neg[0] > neg[2] and pos[2] > pos[0]  # RdYlBu: red below zero, blue above


def test_save_png_and_svg_non_blank(grid, tmp_path, artifacts_dir):
    from matplotlib.image import imread

    fig = choropleth(grid, "value", title="Test map", unit_label="jobs", basemap_layers=[grid.dissolve()])
    written = save_figure(fig, tmp_path / "map.png", formats=("png", "svg"))
    assert written == [tmp_path / "map.png", tmp_path / "map.svg"]
    image = imread(written[0])
    assert image.shape[0] > 500 and image[..., :3].std() > 0.05
    assert "Test map" in written[1].read_text()  # SVG text stays text
    save_figure(fig, artifacts_dir / "test_maps_grid.png")
    assert not list(tmp_path.glob(".*tmp*"))


def test_points_are_drawn(grid, tmp_path):
    points = grid.set_geometry(grid.centroid)
    fig = choropleth(points, "value", title="points", unit_label="u")
    assert len(fig.axes[0].collections) >= 1
    assert save_figure(fig, tmp_path / "p.png")[0].stat().st_size > 10_000


def test_bad_input(grid, tmp_path):
    with pytest.raises(InputError, match="did you mean 'value'"):
        choropleth(grid, "valeu", title="T", unit_label="u")
    with pytest.raises(InputError, match="scheme"):
        choropleth(grid, "value", title="T", unit_label="u", scheme="jenks")
    with pytest.raises(InputError, match="no numeric values"):
        choropleth(grid.assign(value=np.nan), "value", title="T", unit_label="u")
    fig = choropleth(grid, "value", title="T", unit_label="u", ranking_table=False)
    with pytest.raises(InputError, match=".png or .svg"):
        save_figure(fig, tmp_path / "map.jpg")
    assert not list(tmp_path.iterdir())
