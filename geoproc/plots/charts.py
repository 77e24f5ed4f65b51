"""Charts for the attractiveness model (MODEL.md §7), written as PNG and SVG.

Every function takes an output ``path`` (the suffix is replaced by each of ``formats``), writes
each file atomically (:func:`geoproc.plots.maps.save_figure`) and returns the written paths.
Matplotlib is imported lazily and used through ``matplotlib.figure.Figure`` with the Agg canvas
(no pyplot global state, no GUI), so it is safe inside QGIS and in tests. SVG text is kept as
text (``svg.fonttype = none``) so titles and numbers can be searched and edited.

Units are whatever the caller passes; the default axis labels state the model's units
(net migration and growth in percent of population / jobs, persons per year for decomposition).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from centrality.errors import InputError
import geoproc.plots.maps as maps

FORMATS: tuple[str, ...] = ("png", "svg")
SCENARIO_STYLE = {
    "neutral": ("#4d4d4d", "-"),
    "historical": ("#1f77b4", "-"),
    "high": ("#2ca02c", "--"),
    "low": ("#d62728", "--"),
    "official": ("#000000", ":"),
}
POSITIVE, NEGATIVE = "#2b8cbe", "#e34a33"
COMPONENT_COLOURS = ("#8c6bb1", "#41ae76", "#fdae61", "#4393c3", "#d6604d", "#b8e186", "#969696", "#f781bf", "#1b7837")


@dataclass(frozen=True)
class FitLine:
    """Least-squares line y = slope·x + intercept with R² (= squared Pearson correlation), n points."""

    slope: float
    intercept: float
    r2: float
    n: int

    def equation(self, digits: int = 4) -> str:
        """Text as published, e.g. ``y = 0.3212x − 1.0787, R² = 0.3976``.

        Parameters
        ----------
        digits : int, default 4
            Decimals of slope, intercept and R².

        Returns
        -------
        str
            The equation with a real minus sign.
        """
        sign = "−" if self.intercept < 0 else "+"
        return f"y = {self.slope:.{digits}f}x {sign} {abs(self.intercept):.{digits}f}, R² = {self.r2:.{digits}f}"


def fit_line(x, y) -> FitLine:
    """OLS line through (x, y) ignoring pairs with NaN; needs at least 3 points and varying x.

    Parameters
    ----------
    x, y : array-like
        Paired values (e.g. job growth and net migration, percent).

    Returns
    -------
    FitLine
        Slope, intercept (unit of ``y``), R² and the number of points used.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size < 3 or np.ptp(x) == 0:
        raise InputError(f"cannot fit an expectation line: {x.size} valid points with x range {np.ptp(x) if x.size else 0}; "
                         "give at least 3 units with different x values.")
    slope, intercept = np.polyfit(x, y, 1)
    r = np.corrcoef(x, y)[0, 1] if np.ptp(y) > 0 else 0.0
    return FitLine(float(slope), float(intercept), float(r * r), int(x.size))


# ------------------------------------------------------------------------------------------------
# plumbing
# ------------------------------------------------------------------------------------------------
def _figure(width: float = 8.0, height: float = 5.0):
    from matplotlib.figure import Figure  # lazy: matplotlib only when a chart is drawn

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def save_figure(fig, path: str | Path, formats: Iterable[str] = FORMATS) -> list[Path]:
    """Write ``fig`` as ``path`` with each suffix in ``formats`` (atomically; shared with the maps).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : str or pathlib.Path
        Output file; its suffix is replaced by each of ``formats``.
    formats : iterable of str, default ("png", "svg")
        File formats written.

    Returns
    -------
    list of pathlib.Path
        The written files.
    """
    return maps.save_figure(fig, path, formats=tuple(formats))


def _year_axis(ax, years=None) -> None:
    """Whole years on the x axis (no 2022.5 ticks); one year gets a narrow axis around it, not 1925–2125."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if years is not None and len(years):
        lo, hi = float(np.min(years)), float(np.max(years))
        if hi - lo < 1:
            ax.set_xlim(lo - 0.75, hi + 0.75)
            ax.set_xticks([lo])


def _series(values, name: str) -> pd.Series:
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    s = pd.to_numeric(s, errors="coerce").dropna()
    if s.empty:
        raise InputError(f"{name} has no numeric values to plot; check the input table.")
    return s


def place_labels(ax, xs, ys, texts, fontsize: float = 7.0) -> list:
    """Annotate points without overlapping labels: each label takes the first position of a few
    candidates around its point whose measured text box is free (a thin leader line when it moved
    away); a label with no free position is left out rather than overprinted. Returns the texts.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axis with the points.
    xs, ys : array-like
        Point positions in data units.
    texts : sequence of str
        One label per point.
    fontsize : float, default 7.0
        Label size in points.

    Returns
    -------
    list of matplotlib.text.Annotation
        The labels drawn (crowded ones are left out).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = ax.figure
    ax.autoscale_view()
    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # final limits and layout, so display positions are the saved ones
    renderer = canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    placed, out = [], []
    for x, y, text in sorted(zip(xs, ys, texts), key=lambda t: -abs(t[1])):
        for dx, dy, ha in ((4, 3, "left"), (4, -11, "left"), (-4, 3, "right"), (-4, -11, "right"), (4, 14, "left"),
                           (4, -22, "left"), (-4, 14, "right"), (-4, -22, "right"), (4, 25, "left"), (4, -33, "left")):
            far = abs(dy) > 12
            t = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize, ha=ha,
                            arrowprops={"arrowstyle": "-", "color": "#888888", "lw": 0.5} if far else None)
            box = t.get_window_extent(renderer).expanded(1.05, 1.1)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not any(box.overlaps(b) for b in placed):
                placed.append(box)
                out.append(t)
                break
            t.remove()
    return out


# ------------------------------------------------------------------------------------------------
# charts
# ------------------------------------------------------------------------------------------------
def expectation_scatter(x, y, path: str | Path, *, labels: Sequence[str] | None = None,
                        xlabel: str = "Job growth (%)", ylabel: str = "Net migration (% of population)",
                        title: str = "Net migration against job growth", label_extremes: int = 5,
                        formats: Iterable[str] = FORMATS) -> tuple[FitLine, list[Path]]:
    """Scatter of y against x with the least-squares expectation line, its equation and R².

    The vertical distance to the line is the barometer's attractiveness (MODEL.md §6). The
    ``label_extremes`` points farthest above and below the line are labelled with ``labels``.

    Parameters
    ----------
    x, y : array-like
        Paired values, e.g. job growth (%) and net migration (% of population).
    path : str or pathlib.Path
        Output file; its suffix is replaced by each of ``formats``.
    labels : sequence of str, optional
        One name per point for the labelled extremes.
    xlabel, ylabel, title : str
        Axis labels (with units) and title (without units).
    label_extremes : int, default 5
        Points labelled above and below the line.
    formats : iterable of str, default ("png", "svg")
        File formats written.

    Returns
    -------
    tuple of (FitLine, list of pathlib.Path)
        The fitted line and the written files.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape:
        raise InputError(f"x has {x.size} values and y {y.size}; give one x and one y per unit.")
    fit = fit_line(x, y)
    fig = _figure()
    ax = fig.add_subplot()
    ok = np.isfinite(x) & np.isfinite(y)
    ax.scatter(x[ok], y[ok], s=14, color="#3182bd", alpha=0.7, edgecolor="none")
    xs = np.linspace(np.nanmin(x[ok]), np.nanmax(x[ok]), 50)
    ax.plot(xs, fit.slope * xs + fit.intercept, color="#d62728", lw=1.8, label=fit.equation())
    if labels is not None and label_extremes > 0:
        labels = np.asarray(labels, dtype=object)
        resid = np.where(ok, y - (fit.slope * x + fit.intercept), np.nan)
        order = np.argsort(np.nan_to_num(resid, nan=0.0))
        chosen = [i for i in np.concatenate([order[:label_extremes], order[-label_extremes:]]) if ok[i]]
        place_labels(ax, x[chosen], y[chosen], [str(labels[i]) for i in chosen])
    ax.axhline(0, color="grey", lw=0.6)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=9, frameon=True)
    ax.text(0.99, 0.02, f"n = {fit.n}", transform=ax.transAxes, ha="right", va="bottom", fontsize=8)
    return fit, save_figure(fig, path, formats)


def ranking_bars(values, path: str | Path, *, n: int = 10, title: str = "Residential attractiveness: top and bottom 10",
                 xlabel: str = "Cumulative attractiveness (% of population)", labels: Mapping | None = None,
                 formats: Iterable[str] = FORMATS) -> list[Path]:
    """Horizontal bars of the ``n`` highest and ``n`` lowest values (``values``: Series by unit).

    ``labels`` maps unit codes to display names (e.g. kommune names).

    Parameters
    ----------
    values : pandas.Series
        Values by unit code (e.g. cumulative attractiveness, % of population).
    path : str or pathlib.Path
        Output file; its suffix is replaced by each of ``formats``.
    n : int, default 10
        Bars at each end.
    title, xlabel : str
        Title (without units) and axis label (with the unit).
    labels : mapping, optional
        Unit code -> display name.
    formats : iterable of str, default ("png", "svg")
        File formats written.

    Returns
    -------
    list of pathlib.Path
        The written files.
    """
    s = _series(values, "ranking values").sort_values(ascending=False)
    shown = pd.concat([s.head(n), s.tail(n)]) if len(s) > 2 * n else s
    shown = shown[~shown.index.duplicated()]
    names = [f"{labels.get(k, k)}" if labels is not None else str(k) for k in shown.index]
    fig = _figure(8.0, 0.28 * len(shown) + 1.5)
    ax = fig.add_subplot()
    pos = np.arange(len(shown))[::-1]
    ax.barh(pos, shown.to_numpy(), color=np.where(shown.to_numpy() >= 0, POSITIVE, NEGATIVE))
    ax.set_yticks(pos, names, fontsize=8)
    for p, v in zip(pos, shown.to_numpy()):
        ax.text(v, p, f" {v:.1f} ", va="center", ha="left" if v >= 0 else "right", fontsize=7)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return save_figure(fig, path, formats)


def decomposition_bars(components: pd.DataFrame, path: str | Path, *, total: pd.Series | None = None,
                       title: str = "Decomposition of population change", ylabel: str = "Persons per year",
                       formats: Iterable[str] = FORMATS) -> list[Path]:
    """Diverging stacked bars: one bar per unit (rows), one segment per component (columns).

    Positive components stack upwards, negative downwards; ``total`` (per unit) is drawn as a
    black marker with its value, e.g. the Ullensaker oracle: births surplus 205, immigration 180,
    centrality 93, own jobs 27, neighbour jobs 22, DS −18, attractiveness 472 → +981.

    Parameters
    ----------
    components : pandas.DataFrame
        One row per unit, one column per component (persons per year).
    path : str or pathlib.Path
        Output file; its suffix is replaced by each of ``formats``.
    total : pandas.Series, optional
        Total per unit (persons per year), drawn as a marker.
    title, ylabel : str
        Title (without units) and axis label (with the unit).
    formats : iterable of str, default ("png", "svg")
        File formats written.

    Returns
    -------
    list of pathlib.Path
        The written files.
    """
    if not isinstance(components, pd.DataFrame) or components.empty:
        raise InputError("decomposition table is empty; give one row per unit and one column per component.")
    data = components.apply(pd.to_numeric, errors="coerce").fillna(0.0)
    fig = _figure(max(6.0, 1.2 * len(data) + 3.0), 5.0)
    ax = fig.add_subplot()
    pos = np.arange(len(data))
    up = np.zeros(len(data))
    down = np.zeros(len(data))
    for i, col in enumerate(data.columns):
        v = data[col].to_numpy(dtype=float)
        base = np.where(v >= 0, up, down)
        ax.bar(pos, v, bottom=base, width=0.6, label=str(col), color=COMPONENT_COLOURS[i % len(COMPONENT_COLOURS)])
        up = up + np.where(v >= 0, v, 0.0)
        down = down + np.where(v < 0, v, 0.0)
    if total is not None:
        t = pd.Series(total).reindex(data.index).to_numpy(dtype=float)
        ax.scatter(pos, t, marker="D", color="black", zorder=3, label="total")
        for p, v in zip(pos, t):
            ax.annotate(f"{v:+,.0f}".replace(",", " "), (p, v), xytext=(8, 0), textcoords="offset points", va="center", fontsize=8)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(pos, [str(i) for i in data.index], rotation=30 if len(data) > 4 else 0, ha="right" if len(data) > 4 else "center")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return save_figure(fig, path, formats)


def fan_chart(totals: pd.DataFrame, path: str | Path, *, official: pd.Series | None = None,
              title: str = "Population projection by attractiveness scenario", ylabel: str = "Population (persons)",
              formats: Iterable[str] = FORMATS) -> list[Path]:
    """Scenario lines (index = year, columns = scenarios) with the high–low band shaded.

    ``official``: an optional official projection (Series indexed by year) drawn dotted.

    Parameters
    ----------
    totals : pandas.DataFrame
        Population (persons) by year (index) and scenario (columns).
    path : str or pathlib.Path
        Output file; its suffix is replaced by each of ``formats``.
    official : pandas.Series, optional
        Official projection by year (persons).
    title, ylabel : str
        Title and axis label (with the unit).
    formats : iterable of str, default ("png", "svg")
        File formats written.

    Returns
    -------
    list of pathlib.Path
        The written files.
    """
    if not isinstance(totals, pd.DataFrame) or totals.empty:
        raise InputError("fan chart needs a table with years as rows and scenarios as columns.")
    fig = _figure()
    ax = fig.add_subplot()
    years = totals.index.to_numpy()
    if {"high", "low"} <= set(totals.columns):
        ax.fill_between(years, totals["low"], totals["high"], color="#cccccc", alpha=0.5, lw=0, label="high–low range")
    for col in totals.columns:
        colour, style = SCENARIO_STYLE.get(str(col), (None, "-"))
        ax.plot(years, totals[col], ls=style, color=colour, lw=1.8, label=f"{col}: {totals[col].iloc[-1]:,.0f}".replace(",", " "))
    if official is not None:
        off = pd.Series(official).dropna()
        ax.plot(off.index, off.to_numpy(), ls=":", color="black", lw=1.8, label="official projection")
    _year_axis(ax, years)
    ax.set_xlabel("Year (1 January)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return save_figure(fig, path, formats)


def actual_vs_expected(table: pd.DataFrame, path: str | Path, *, actual: str = "actual", expected: str = "expected",
                       title: str = "Actual and expected net migration", ylabel: str = "Net migration (% of population)",
                       scale: float = 100.0, formats: Iterable[str] = FORMATS) -> list[Path]:
    """Lines of actual and expected net migration by year (index = year, fractions × ``scale``).

    The bars between them are the yearly attractiveness (actual − expected).

    Parameters
    ----------
    table : pandas.DataFrame
        Fractions of the population by year (index).
    path : str or pathlib.Path
        Output file; its suffix is replaced by each of ``formats``.
    actual, expected : str
        Column names.
    title, ylabel : str
        Title and axis label (with the unit).
    scale : float, default 100.0
        Factor applied to the fractions (100: percent).
    formats : iterable of str, default ("png", "svg")
        File formats written.

    Returns
    -------
    list of pathlib.Path
        The written files.
    """
    for col in (actual, expected):
        if col not in table.columns:
            raise InputError(f"actual-vs-expected table has no column '{col}'; available: {', '.join(map(str, table.columns))}.")
    t = table[[actual, expected]].apply(pd.to_numeric, errors="coerce") * scale
    years = t.index.to_numpy()
    diff = (t[actual] - t[expected]).to_numpy()
    fig = _figure()
    ax = fig.add_subplot()
    ax.bar(years, diff, color=np.where(diff >= 0, POSITIVE, NEGATIVE), alpha=0.45, label="attractiveness (actual − expected)")
    ax.plot(years, t[actual], marker="o", color="#08519c", lw=1.8, label="actual")
    ax.plot(years, t[expected], marker="s", color="#ef6548", lw=1.8, ls="--", label="expected")
    ax.axhline(0, color="black", lw=0.6)
    _year_axis(ax, years)
    ax.set_xlabel("Year")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return save_figure(fig, path, formats)


def attractiveness_series(table: pd.DataFrame, path: str | Path, *, cumulative: bool = True, scale: float = 100.0,
                          title: str = "Residential attractiveness", ylabel: str | None = None,
                          formats: Iterable[str] = FORMATS) -> list[Path]:
    """Time series of attractiveness (index = year, one column per unit; fractions × ``scale``).

    ``cumulative``: plot the running sum (the headline "cumulated % of population").

    Parameters
    ----------
    table : pandas.DataFrame
        Attractiveness (fraction of the population per year) by year (index) and unit (columns).
    path : str or pathlib.Path
        Output file; its suffix is replaced by each of ``formats``.
    cumulative : bool, default True
        Plot the running sum.
    scale : float, default 100.0
        Factor applied to the fractions (100: percent).
    title : str
        Title (without units).
    ylabel : str, optional
        Axis label (default names the unit).
    formats : iterable of str, default ("png", "svg")
        File formats written.

    Returns
    -------
    list of pathlib.Path
        The written files.
    """
    if not isinstance(table, pd.DataFrame) or table.empty:
        raise InputError("attractiveness series needs a table with years as rows and units as columns.")
    t = table.apply(pd.to_numeric, errors="coerce").sort_index() * scale
    if cumulative:
        t = t.cumsum()
    fig = _figure()
    ax = fig.add_subplot()
    for col in t.columns:
        ax.plot(t.index, t[col], marker="o", ms=3, lw=1.5, label=str(col))
    ax.axhline(0, color="black", lw=0.6)
    _year_axis(ax, t.index.to_numpy())
    ax.set_xlabel("Year")
    ax.set_ylabel(ylabel or ("Cumulative attractiveness (% of population)" if cumulative else "Attractiveness (% of population)"))
    ax.set_title(title)
    if len(t.columns) <= 12:
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return save_figure(fig, path, formats)
