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
    ax = fig.axes[1]  # the legend has its own axis right of the map
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
    assert fig.texts and fig._suptitle.get_text() == "Test map"


def test_ranking_tables_list_top_and_bottom_ten(grid):
    fig = choropleth(grid, "value", title="T", unit_label="jobs")
    _, _, ax_top, ax_bottom = fig.axes
    top, bottom = _table_rows(ax_top), _table_rows(ax_bottom)
    assert [r[1] for r in top] == [f"P{k:02d}" for k in range(29, 19, -1)]
    assert [r[1] for r in bottom] == [f"P{k:02d}" for k in range(1, 11)]
    assert top[0][0] == "1" and bottom[0][0] == "29" and top[0][2] == "29.0"
    assert len(choropleth(grid, "value", title="T", unit_label="u", ranking_table=False).axes) == 1


def test_tables_name_places_never_a_repeated_code(grid):
    """Zones of one kommune: the tables list zone names (or unique ids), not the kommune code ten times."""
    zones = grid.assign(kommune="9901", zone_id=[f"Z{k:03d}" for k in range(30)])
    fig = choropleth(zones.drop(columns="name"), "value", title="T", unit_label="% of population")
    rows = _table_rows(fig.axes[2])
    assert [r[1] for r in rows][:3] == ["Z028", "Z027", "Z026"] and len({r[1] for r in rows}) == 10
    header = [fig.axes[2].tables[0].get_celld()[0, c].get_text().get_text() for c in range(3)]
    assert header == ["#", "Name", "% of pop."]  # shortened at a word, never "% of populatio"
    long = grid.assign(name=[f"Gáivuotna - Kåfjord - Kaivuono {k}" for k in range(30)])
    cell = _table_rows(choropleth(long, "value", title="T", unit_label="u").axes[2])[0][1]
    assert cell.endswith("…") and len(cell) == 24


def test_scale_bar_north_arrow_and_source_line(grid):
    fig = choropleth(grid, "value", title="T", unit_label="u", note="Synthetic data")
    ax = fig.axes[0]
    bars = [p for p in ax.patches if p.get_gid() == "scale-bar"]
    assert len(bars) == 1 and bars[0].get_width() == 1000.0  # 6 km wide map: a 1 km bar
    assert any(t.get_text() == "1 km" for t in ax.texts)
    assert any(t.get_text() == "N" for t in ax.texts)
    assert fig.texts[-1].get_text() == "Synthetic data   ·   Map: regio-toolkit"


def test_index_uses_the_ssb_classes_by_default(grid):
    from centrality.index import CLASS_THRESHOLDS

    fig = choropleth(grid.assign(index=np.linspace(300, 1000, 30)), "index", title="Index", unit_label="index (0–1000)")
    _, labels = _legend(fig)
    assert [label.split(":")[0] for label in labels] == ["6 least central", "5 somewhat peripheral", "4 less central",
                                                         "3 somewhat central", "2 central", "1 most central"]
    assert labels[1].startswith(f"5 somewhat peripheral: {CLASS_THRESHOLDS[0]}–{CLASS_THRESHOLDS[1] - 1}")


def test_diverging_classes_only_where_values_occur(grid):
    gains = grid.assign(delta=np.r_[np.zeros(10), np.linspace(0.5, 9.5, 20)])
    fig = choropleth(gains, "delta", title="Δ", unit_label="index points", diverging=True)
    _, labels = _legend(fig)
    assert labels[0].startswith("0 (no change)") and not any(label.startswith("\u2212") for label in labels)
    patches = fig.axes[1].get_legend().get_patches()
    blues = [p.get_facecolor() for p in patches[1:]]
    assert all(c[2] > c[0] for c in blues)  # blues above zero, darker outwards
    assert all(a[0] > b[0] for a, b in zip(blues, blues[1:]))


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
