"""Scenario report: CSV tables, a GeoPackage, PNG maps, one self-contained HTML page and a
one-page summary (PNG and PDF) a planner can quote.

Everything is rendered first and then committed together through one
:class:`centrality.fileio.OutputSet` (the report folder is owned by the run: files of an earlier
run that this one does not write again are removed, and ``run_manifest.json`` lists what was
written), so a failure leaves no half-written report; validation errors happen even earlier (in
:func:`geoproc.scenario.run_scenarios`), before anything is computed. Files per variant ``<v>``
(name made file-safe):

- ``<v>_headline.csv``     the headline figures: scope (focus kommune, served area, Norway) ×
  measure (gross, net): Δ migrants a year and Δ population over the horizon (persons), with the
  coefficient interval (``*_coef_low/high``) and the combined 95 % interval (``*_low/high``)
- ``<v>_summary.csv``      per kommune (or per zone without groups): baseline and scenario
  index, Δ index, gross and net Δ migrants a year and Δ population by the horizon end, each with
  its coefficient interval
- ``<v>_zones.csv``        per zone: jobs within each limit, access_decay and index (base, scen, Δ)
  and the zone's effects
- ``<v>_yearly.csv``       per kommune and year: ramp, population path, gross and net Δ migrants
  and cumulative Δ population
- ``<v>_competition.csv``  national totals of the net effect under each centring of sentny
- ``<v>_uncertainty.csv``  per headline figure: the coefficient, decay and cutoff components and
  the combined interval (when the sensitivity runs were made); ``<v>_sensitivity_runs.csv``
- ``<v>_travel_times.csv`` before/after minutes between the named places
- ``<v>_projection.csv``   (with ``[impact] projection = true``) the cohort-component projection
  without and with the project per kommune and year
- ``<v>.gpkg``             layers zones (and kommuner) with the Δ columns, edited_links
- ``<v>_delta_index.png``, ``<v>_delta_population.png``, ``<v>_delta_jobs.png`` maps
- ``<v>_onepage.png`` and ``<v>_onepage.pdf`` the one-page summary
and ``scenarios.csv`` (one row per variant, user-facing numbers then the technical ones),
``excluded_zones.csv`` (zones left out for being far from the network, when any) and
``report.html`` (all variants, images embedded; internals in a collapsed technical section).
"""
from __future__ import annotations

import base64
import html
import io
import re
import textwrap
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from centrality.fileio import OutputSet, mark_means
from geoproc.scenario.report_maps import delta_map

SUMMARY_COLS = ["index_base", "index_scen", "delta_index", "delta_migrants_per_year", "delta_migrants_low",
                "delta_migrants_high", "delta_migrants_net_per_year", "delta_migrants_net_low",
                "delta_migrants_net_high", "delta_population", "delta_population_low", "delta_population_high",
                "delta_population_net", "delta_population_net_low", "delta_population_net_high"]
THIN = "\u2009"
MINUS = "\u2212"


def slug(name: str) -> str:
    """File-safe variant name.

    Parameters
    ----------
    name : str

    Returns
    -------
    str
        Only letters, digits, ``_``, ``.`` and ``-`` (``"variant"`` if nothing is left).
    """
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "variant"


# ------------------------------------------------------------------------------ number formats
def persons(x: float, signed: bool = True) -> str:
    """Whole persons with a thin-space thousands separator and a true minus sign.

    Parameters
    ----------
    x : float
        Persons.
    signed : bool
        Show "+" for positive values.

    Returns
    -------
    str
    """
    v = float(x)
    r = int(np.round(v))
    text = f"{abs(r):,}".replace(",", THIN)
    sign = MINUS if r < 0 else ("+" if signed and r > 0 else "")
    return sign + text


def per_year(x: float, signed: bool = True) -> str:
    """Persons a year: one decimal below 100, whole persons above.

    Parameters
    ----------
    x : float
        Persons a year.
    signed : bool
        Show "+" for positive values.

    Returns
    -------
    str
    """
    v = float(x)
    if abs(v) >= 100:
        return persons(v, signed)
    r = round(v, 1)
    if r == 0:
        return "0.0"
    return (MINUS if r < 0 else ("+" if signed else "")) + f"{abs(r):.1f}"


def sig4(x: float) -> str:
    """Four significant digits (β, its SE).

    Parameters
    ----------
    x : float
        The number.

    Returns
    -------
    str
    """
    return f"{float(x):.4g}"


def interval(lo: float, hi: float, fmt=per_year) -> str:
    """"low to high" with ``fmt``.

    Parameters
    ----------
    lo, hi : float
        The bounds.
    fmt : callable
        Number format (:func:`per_year` or :func:`persons`).

    Returns
    -------
    str
    """
    return f"{fmt(lo)} to {fmt(hi)}"


# ------------------------------------------------------------------------------ tables
def summary_table(v, group_col: str | None) -> pd.DataFrame:
    """The per-kommune (per-zone) table of a variant, sorted by |Δ index| (largest first).

    Parameters
    ----------
    v : geoproc.scenario.VariantReport
        The variant.
    group_col : str or None
        The kommune column (None: per zone).

    Returns
    -------
    pandas.DataFrame
        Ids, name, population, index and the gross/net effect columns (persons).
    """
    base = v.groups if v.groups is not None else v.zones
    key = [group_col] if v.groups is not None else ["zone_id"]
    names = ["name"] if "name" in base.columns else []
    cols = [c for c in SUMMARY_COLS if c in base.columns]
    out = base[key + names + ["population"] + cols].copy()
    end = v.impact.end_year
    out = out.rename(columns={c: c.replace("delta_population", f"delta_population_{end}") for c in cols
                              if c.startswith("delta_population")})
    if getattr(v.projection, "table", None) is not None and v.groups is not None:
        proj = projection_columns(v.projection, end)
        for col in proj.columns:
            out[col] = out[group_col].astype(str).map(proj[col]).to_numpy()
    order = np.argsort(-np.abs(out["delta_index"].to_numpy()), kind="stable")
    return out.iloc[order].reset_index(drop=True)


def projection_columns(projection, end: int) -> pd.DataFrame:
    """Per kommune: population without the project and Δ population by the end of ``end``.

    Parameters
    ----------
    projection : geoproc.model.scenario_projection.ScenarioProjection
    end : int
        Last calendar year.

    Returns
    -------
    pandas.DataFrame
        Indexed by kommune (text): proj_population_without_<end>, proj_delta_population_<end>
        (persons, 1 January ``end + 1``).
    """
    t = projection.table[projection.table["year"] == end + 1].set_index("kommune")
    return pd.DataFrame({f"proj_population_without_{end}": t["population_without"],
                         f"proj_delta_population_{end}": t["delta_population"]})


def _table(rows: list[list[str]], header: list[str], cls: str = "t", align_left: int = 1) -> str:
    """HTML table from formatted strings (first ``align_left`` columns left-aligned)."""
    def cell(tag, i, text):
        style = " class='l'" if i < align_left else ""
        return f"<{tag}{style}>{text}</{tag}>"
    head = "".join(cell("th", i, html.escape(h)) for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", i, html.escape(str(c))) for i, c in enumerate(r)) + "</tr>"
                   for r in rows)
    return f"<table class='{cls}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _label(row, key: str) -> str:
    name = row.get("name")
    code = row[key]
    return f"{code} {name}" if isinstance(name, str) and name and name != str(code) else str(code)


# ------------------------------------------------------------------------------ HTML pieces
def _headline_html(run, v) -> str:
    h = v.headline
    end, start = v.impact.end_year, v.impact.start_year
    full = v.uncertainty is not None
    rows = []
    for r in h.itertuples(index=False):
        rows.append([r.label, {"gross": "gross (local)", "net": "net of competition"}[r.measure],
                     per_year(r.per_year), interval(r.per_year_low, r.per_year_high),
                     persons(r.population), interval(r.population_low, r.population_high, persons)])
    beta, se = v.impact.coefficient()
    what = ("coefficient, decay and cutoff combined" if full else "coefficient standard error only")
    return ("<div class='headline'><h3>Headline</h3>"
            + _table(rows, ["area", "effect", "Δ migrants a year (persons/yr)", "95 % interval",
                            f"Δ population {start}–{end} (persons)", "95 % interval"], align_left=2)
            + f"<p class='small'>Δ = with the project − without. A year = mean of the years with full effect "
              f"({v.summary['first_effect_year']}"
            + (f", phased in over {v.impact.ramp_up_years} years" if v.impact.ramp_up_years > 1 else "")
            + f" to {end}). Δ population = the extra migrants accumulated by the end of {end}. "
              f"95 % intervals: {what}. β<sub>sentny</sub> = {sig4(beta)} (SE {sig4(se)}), "
              f"{html.escape(v.impact.model if v.impact.beta is None else 'user estimate')}.</p>"
            + (f"<p class='compare'>{html.escape(comparison_text(run, v))}</p>" if run.published else "")
            + "</div>")


def comparison_text(run, v) -> str:
    """The run's headline beside a published estimate (``[report] published``), with the reasons
    for a difference generated from the run: zoning, competition, base population.

    Parameters
    ----------
    run : geoproc.scenario.ScenarioRun
        The run (``published``, caveats).
    v : geoproc.scenario.VariantReport
        The variant.

    Returns
    -------
    str
        Plain text ("" without a published estimate).
    """
    if not run.published:
        return ""
    h = v.headline
    focus = h[h["scope"].str.startswith("focus:")]
    row = focus if len(focus) else h[h["scope"] == "served"]
    g, n = row[row["measure"] == "gross"].iloc[0], row[row["measure"] == "net"].iloc[0]
    parts = [f"Published estimate: {run.published}. This run: {g.label} {per_year(g.per_year)} a year gross "
             f"({interval(g.per_year_low, g.per_year_high)}), {per_year(n.per_year)} net of competition."]
    reasons = []
    if any(c.startswith("One zone per") for c in run.caveats):
        reasons.append("one zone per kommune: the whole population gets the change of the kommune point (the "
                       "published times hold for part of the kommune), which overstates the kommune-wide gain")
    elif any(c.startswith("Zoning:") for c in run.caveats):
        reasons.append("kommuner split into parts (see Zoning): each part gets its own change")
    if v.uncertainty is not None:
        runs = v.uncertainty.runs
        dec = runs[(runs["component"] == "decay") & (runs["figure"] == f"{g.scope}|gross|per_year")]
        if len(dec):
            reasons.append("how the index responds to a shorter trip (decay and index form, not published by SSB): "
                           f"the decay alternatives ({', '.join(dec['label'])}) give "
                           f"{' and '.join(per_year(x) for x in dec['value'])} a year")
    if any(c.startswith("PROXY network") for c in run.caveats):
        reasons.append("a proxy network instead of the real roads")
    nat = float(h[(h["scope"] == "national") & (h["measure"] == "net")]["per_year"].iloc[0])
    reasons.append(f"competition changes it by {per_year(n.per_year - g.per_year)} a year here and makes the "
                   f"national total {per_year(nat)}")
    reasons.append("the base population: " + base_population_text(v, str(g.scope)))
    return " ".join(parts) + " Reasons for a difference: " + "; ".join(reasons) + "."


def base_population_text(v, scope: str) -> str:
    """Where P_t comes from, and how far its mean over the effect years is from the zones' population.

    Parameters
    ----------
    v : geoproc.scenario.VariantReport
        The variant (summary, projection, yearly effects).
    scope : str
        A headline scope ("focus:<unit>" gives that unit's figures; else the served area).

    Returns
    -------
    str
    """
    p = v.projection
    label = v.summary["population_base"]
    if label.startswith("CONSTANT"):
        return "the zones' population held constant"
    what = (f"the {p.source.replace(' ', '-')} projection without the project from 1 January {p.base_year}"
            if getattr(p, "table", None) is not None else "the given population path")
    units = v.groups if v.groups is not None else v.zones
    key = units.columns[0]
    y = v.yearly
    if y is None or not scope.startswith("focus:"):
        return what
    unit = scope.split(":", 1)[1]
    rows = y[(y[key].astype(str) == unit) & (y["ramp"] > 0)]
    p0 = units.loc[units[key].astype(str) == unit, "population"]
    if not len(rows) or not len(p0) or not float(p0.iloc[0]) > 0:
        return what
    mean, base = float(rows["population_path"].mean()), float(p0.iloc[0])
    return (f"{what}, {persons(mean, False)} on average over the effect years against {persons(base, False)} in "
            f"the zones (×{mean / base:.3f})")


def _caveats_html(run, v) -> str:
    items = list(run.caveats) + list(v.caveats)
    return ("<div class='caveats'><h3>What these numbers rest on</h3><ul>"
            + "".join(f"<li>{html.escape(c)}</li>" for c in items) + "</ul></div>")


def travel_pairs(tt: pd.DataFrame) -> pd.DataFrame:
    """The travel-time table with each pair once when both directions are equal.

    Parameters
    ----------
    tt : pandas.DataFrame
        from, to, baseline_min, scenario_min, delta_min (ordered pairs).

    Returns
    -------
    pandas.DataFrame
        The same columns plus ``both`` (True = the row stands for both directions).
    """
    if tt is None or not len(tt):
        return pd.DataFrame(columns=["from", "to", "baseline_min", "scenario_min", "delta_min", "both"])
    key = {(r["from"], r["to"]): r for _, r in tt.iterrows()}
    rows, seen = [], set()
    for (a, b), r in key.items():
        if (a, b) in seen:
            continue
        back = key.get((b, a))
        same = back is not None and abs(back.baseline_min - r.baseline_min) < 1e-6 and \
            abs(back.scenario_min - r.scenario_min) < 1e-6
        rows.append({**r.to_dict(), "both": bool(same)})
        seen.add((a, b))
        if same:
            seen.add((b, a))
    return pd.DataFrame(rows)


def _travel_html(v) -> str:
    tt = travel_pairs(v.travel_times)
    if not len(tt):
        return ""
    rows = [[r["from"], ("↔ " if r.both else "→ ") + r["to"], f"{r.baseline_min:.1f}", f"{r.scenario_min:.1f}",
             f"{r.delta_min:+.1f}".replace("-", MINUS).replace("+0.0", "0.0")] for _, r in tt.iterrows()]
    return "<h3>Travel times between places (minutes, door to door)</h3>" + _table(
        rows, ["from", "to", "without", "with", "Δ"], align_left=2)


def _effects_html(v, key: str, n: int = 20) -> str:
    units = v.groups if v.groups is not None else v.zones
    end = v.impact.end_year
    changed = units[units["delta_index"].abs() > 0].sort_values("delta_index", key=np.abs, ascending=False)
    rows = [[_label(r, key), persons(r.population, False), f"{r.index_base:.1f}", f"{r.index_scen:.1f}",
             f"{r.delta_index:+.2f}", per_year(r.delta_migrants_per_year), per_year(r.delta_migrants_net_per_year),
             persons(r.delta_population), persons(r.delta_population_net)] for _, r in changed.head(n).iterrows()]
    word = "kommune" if v.groups is not None else "zone"
    out = (f"<h3>Effect by {word}: the {min(n, len(changed))} with the largest Δ index "
           f"(of {len(changed)} that change)</h3>"
           + _table(rows, [word, "population (zones)", "index without", "index with", "Δ index", "Δ migrants/yr gross",
                           "Δ migrants/yr net", f"Δ population {end} gross", f"Δ population {end} net"]))
    losers = units[units["delta_migrants_net_per_year"] < 0].sort_values("delta_migrants_net_per_year").head(10)
    n_lose = int((units["delta_migrants_net_per_year"] < 0).sum())
    if n_lose:
        rows = [[_label(r, key), persons(r.population, False), per_year(r.delta_migrants_net_per_year),
                 persons(r.delta_population_net)] for _, r in losers.iterrows()]
        total = float(units.loc[units["delta_migrants_net_per_year"] < 0, "delta_migrants_net_per_year"].sum())
        out += (f"<h3>Kommuner that lose: {n_lose} (together {per_year(total)} persons a year)</h3>"
                f"<p class='small'>Their own travel times do not change (or change little); their centrality "
                f"relative to the national mean falls. The 10 largest losses:</p>"
                + _table(rows, [word, "population", "Δ migrants/yr net", f"Δ population {end} net"]))
    return out


def _competition_html(v) -> str:
    c = v.competition
    rows = [[("✔ " if r.used else "") + r.label, f"{r.shift_index_points:+.3f}", per_year(r.national_net_per_year),
             persons(r.national_net_population), per_year(r.served_net_per_year), str(r.losing_units)]
            for r in c.itertuples(index=False)]
    return ("<h3>Competition: how the national mean is re-evaluated</h3>"
            + _table(rows, ["centring of sentny (✔ = used)", "Δ mean (index points)", "national net Δ/yr",
                            f"national net Δ by {v.impact.end_year}", "served area net Δ/yr", "units losing"])
            + "<p class='small'>sentny = index/1000 minus its mean. Gross: the mean held fixed. Net: the mean "
              "re-evaluated with the project, so every unit's relative centrality falls by Δ mean. With the "
              "population-weighted mean the national total is zero by construction (the road moves residents, "
              "it does not create them); an unweighted mean (as over the regions of the model's estimation "
              "sample) leaves a national total that the model does not constrain. See docs/scenarios.md.</p>")


def _uncertainty_html(v) -> str:
    u = v.uncertainty
    if u is None:
        return ("<h3>Uncertainty</h3><p>Coefficient standard error only: the decay and cutoff sensitivity "
                "runs were switched off ([uncertainty] enabled = false).</p>")
    h = v.headline.set_index(["scope", "measure"])
    rows = []
    for r in u.table.itertuples(index=False):
        scope, measure, kind = r.figure.split("|")
        label = h.loc[(scope, measure), "label"]
        fmt = per_year if kind == "per_year" else persons
        parts = [f"{_signed_dev(getattr(r, c + '_minus'), fmt, MINUS)} / {_signed_dev(getattr(r, c + '_plus'), fmt, '+')}"
                 for c in u.components]
        rows.append([f"{label}, {measure}", "a year" if kind == "per_year" else f"by {v.impact.end_year}",
                     fmt(r.central), *parts, interval(r.low, r.high, fmt), "–" if r.dominant == "none" else r.dominant])
    runs = ", ".join(u.runs["label"].unique())
    return ("<h3>Uncertainty by source</h3>"
            + _table(rows, ["figure", "", "central", *[f"{c} (−/+)" for c in u.components], "combined 95 %",
                            "largest part"], align_left=2)
            + f"<p class='small'>Alternative runs: {html.escape(runs)} (each a baseline and scenario with the "
              "incremental engine). Each component's alternatives are read as the ends of its 95 % range; the "
              "components are combined as independent (root-sum-square of the downward and upward "
              "deviations).</p>")


def _signed_dev(x: float, fmt, sign: str) -> str:
    """A deviation of the uncertainty table: "−1.4", "+0.2", or "0" when it rounds to zero."""
    text = fmt(x, False)
    return "0" if text.strip("0.") == "" else sign + text


def _projection_html(v) -> str:
    p = v.projection
    if getattr(p, "table", None) is None:
        return ""
    end = v.impact.end_year
    total = float(projection_columns(p, end)[f"proj_delta_population_{end}"].sum())
    return (f"<p class='small'>Cross-check with the full cohort-component projection (1 January {p.base_year} → end "
            f"of {end}, with and without the project from {p.first_effect_year}, no ramp-up, "
            f"{'domestic moves balanced' if p.balance else 'no national balancing'}; "
            f"{html.escape(p.assumptions_label)}): Δ population of all kommuner by the end of {end} "
            f"{persons(total)} persons (this one also counts the extra residents' births and deaths). "
            f"Columns proj_* in {slug(v.name)}_summary.csv.</p>"
            + "".join(f"<p class='small'><em>{html.escape(n)}</em></p>" for n in p.notes))


def _technical_html(run, v) -> str:
    rows = [[k, str(val)] for k, val in {**v.technical, **run.technical}.items()]
    if run.settings is not None:
        rows += [[f"centrality.{k}", str(val)] for k, val in run.settings.summary().items()]
    rows.append(["baseline A_ref (decay-weighted jobs of index 1000)", f"{run.baseline_a_ref:,.0f}".replace(",", THIN)])
    return ("<details class='tech'><summary>Technical details (computation)</summary>"
            + _table(rows, ["item", "value"], align_left=2) + "</details>")


STYLE = """
body{font-family:'DejaVu Sans',Arial,sans-serif;max-width:1080px;margin:auto;padding:1em 1.5em;color:#222}
h1{font-size:1.6em;margin-bottom:.2em} h2{border-bottom:2px solid #7a0177;padding-bottom:.2em;margin-top:1.6em}
h3{margin:1.1em 0 .4em} p.small{font-size:12px;color:#444}
table.t{border-collapse:collapse;font-size:12.5px;margin:.3em 0 .6em}
table.t td,table.t th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right;vertical-align:top}
table.t th{background:#f3f0f5;font-weight:600} table.t .l{text-align:left} table.t td{white-space:nowrap}
table.t td.l{white-space:normal}
.headline{background:#f6f0f8;border:2px solid #7a0177;border-radius:6px;padding:.4em 1em .6em;margin:1em 0}
.headline table.t{font-size:14px} .headline td:nth-child(3),.headline td:nth-child(5){font-weight:700}
.compare{font-size:13px;border-top:1px solid #caa7d6;padding-top:.4em}
.caveats{background:#fff8e6;border:1px solid #e0a800;border-radius:6px;padding:.3em 1em;margin:1em 0}
.caveats li{margin:.25em 0;font-size:13px}
img{max-width:100%;border:1px solid #eee} details.tech{margin-top:2em;font-size:12px}
details.tech summary{cursor:pointer;color:#555}
"""


def _html_page(run, rendered) -> str:
    key = run.group_col or "zone_id"
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(run.name)}</title>",
             f"<style>{STYLE}</style></head><body>",
             f"<h1>{'Road portfolio' if run.portfolio is not None else 'Road scenario'}: {html.escape(run.name)}</h1>"]
    if run.portfolio is not None:
        parts.append(run.portfolio.html())
    for v, r in zip(run.variants, rendered):
        parts.append(f"<h2>{html.escape(v.name)}</h2>")
        if v.description:
            parts.append(f"<p>{html.escape(v.description)}</p>")
        parts.append(_headline_html(run, v))
        parts.append(_caveats_html(run, v))
        parts.append(_travel_html(v))
        for k, png in r["maps"].items():
            parts.append(f"<p><img alt='{html.escape(r['map_titles'][k])}' src='data:image/png;base64,"
                         f"{base64.b64encode(png).decode('ascii')}'></p>")
        parts.append(_effects_html(v, key))
        parts.append(_competition_html(v))
        parts.append(_uncertainty_html(v))
        parts.append(_projection_html(v))
        parts.append(_technical_html(run, v))
    parts.append("<p class='small'>Δ index: 1000·ln(1+A)/ln(1+A<sub>ref</sub>) with the baseline's A<sub>ref</sub> "
                 "for both networks. Δ expected net migration in year t = β<sub>sentny</sub> × Δindex/1000 × "
                 "population on 1 January t (attractiveness model, MODEL.md §5).</p></body></html>")
    return "\n".join(parts)


# ------------------------------------------------------------------------------ maps
def _map_layers(run, v):
    """(zones GeoDataFrame, group GeoDataFrame or None) carrying the Δ columns."""
    zones = gpd.GeoDataFrame(v.zones.copy(), geometry=run.zone_geometry.to_numpy(), crs=run.zone_geometry.crs) \
        if run.zone_geometry is not None else None
    groups = None
    if run.group_polygons is not None and v.groups is not None:
        poly = run.group_polygons[[run.group_col, run.group_polygons.geometry.name]]
        groups = mark_means(poly.merge(v.groups.drop(columns=["name"], errors="ignore"), on=run.group_col,
                                       how="inner"), like=v.groups)
        if "name" in run.group_polygons.columns:
            groups.insert(1, "name", groups[run.group_col].map(run.group_polygons.set_index(run.group_col)["name"]))
    return zones, groups


def _png(fig, dpi: int = 110) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()


def crop_to_change(layer, column: str = "delta_index", margin_frac: float = 0.12, margin_min_m: float = 15_000.0):
    """The features clipped to the bounding box of the changed ones widened by a margin.

    So a local project is not lost in a national map: the map frame is the box (features cut at
    it). Unchanged layers, and layers whose features all change, are returned whole.

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
    column : str, default "delta_index"
        Changed where |value| > 0.
    margin_frac : float, default 0.12
        Margin as a share of the box size.
    margin_min_m : float, default 15000.0
        Smallest margin, metres.

    Returns
    -------
    geopandas.GeoDataFrame
    """
    changed = layer[np.abs(layer[column].to_numpy(dtype=float)) > 0]
    if len(changed) == 0 or len(changed) == len(layer):
        return layer
    x0, y0, x1, y1 = changed.total_bounds
    m = max(margin_min_m, margin_frac * max(x1 - x0, y1 - y0))
    clipped = gpd.clip(layer, (x0 - m, y0 - m, x1 + m, y1 + m))
    return clipped[~clipped.geometry.is_empty]


def _jobs_column(z: pd.DataFrame) -> str:
    """The jobs-within-limit Δ column with the largest total |Δ| (most informative map)."""
    cols = [c for c in z.columns if c.startswith("delta_jobs_")]
    return max(cols, key=lambda c: float(np.nansum(np.abs(z[c].to_numpy(dtype=float))))) if cols else "delta_access_decay"


def _map_layer(v, zones, groups):
    """(layer cropped to the change, the whole layer, edited links in its CRS) or None."""
    layer = groups if groups is not None else zones
    if layer is None:
        return None
    edited = v.edited_links
    if edited is not None and len(edited) and layer.crs is not None and edited.crs is not None:
        edited = edited.to_crs(layer.crs)
    return crop_to_change(layer), layer, edited


def _onepage_map(v, zones, groups) -> bytes | None:
    """The compact Δ index map of the one-page summary (no title: the page has it)."""
    parts = _map_layer(v, zones, groups)
    if parts is None:
        return None
    layer, _, edited = parts
    return _png(delta_map(layer, "delta_index", title="", unit_label="Δ centrality index (points, 0–1000 scale)",
                          edited_links=edited, figsize=(8.0, 3.9)), dpi=130)


def _maps(run, v, zones, groups) -> tuple[dict[str, bytes], dict[str, str]]:
    parts = _map_layer(v, zones, groups)
    if parts is None:
        return {}, {}
    layer, full, edited = parts
    source = run.data_source or "network and zones as given to the run"
    unit = "kommune" if groups is not None else "zone"
    note = "Δ = with the project − without" + (f"; classes, n, mean and sd over the {len(layer)} "
                                                 f"{'kommuner' if groups is not None else 'zones'} in view"
                                                 if len(layer) < len(full) else "")
    end = v.impact.end_year
    titles = {"delta_index": f"Δ centrality index by {unit} — {v.name}",
              "delta_population": f"Δ population {v.impact.start_year}–{end}, net of competition — {v.name}",
              "delta_jobs": ""}
    out = {"delta_index": _png(delta_map(layer, "delta_index", title=titles["delta_index"],
                                         unit_label="index points (0–1000 scale)", edited_links=edited,
                                         source=source, note=note))}
    n_lose = int((full["delta_population_net"] < 0).sum())
    out["delta_population"] = _png(delta_map(layer, "delta_population_net", title=titles["delta_population"],
                                             unit_label="persons by the end of the horizon", edited_links=edited,
                                             source=source,
                                             note=f"{note}; {n_lose} {'kommuner' if groups is not None else 'zones'} lose "
                                                  f"in all{' (most outside this view)' if len(layer) < len(full) else ''}"))
    jobs_col = _jobs_column(v.zones)
    if jobs_col in layer.columns:
        label = jobs_col.replace("delta_", "").replace("_", " ").replace("min", " min")
        titles["delta_jobs"] = f"Δ {label} reachable — {v.name}"
        out["delta_jobs"] = _png(delta_map(layer, jobs_col, title=titles["delta_jobs"],
                                           unit_label="jobs (population-weighted mean)" if groups is not None else "jobs",
                                           edited_links=edited, source=source, note=note))
    return out, titles


def onepage(run, v, map_png: bytes | None) -> tuple[bytes, bytes]:
    """The one-page summary (A4 portrait).

    From the top: title, the headline table (gross and net, a year and over the horizon, 95 %
    intervals), the published estimate beside this run's (``[report] published``), what the
    numbers rest on (the caveats), the Δ population of the served area by year and the travel
    times between the named places, and the Δ index map across the bottom. Blocks are laid out
    one below the other from the measured length of the caveats.

    Parameters
    ----------
    run : geoproc.scenario.ScenarioRun
        The run (caveats, source, published estimate).
    v : geoproc.scenario.VariantReport
        The variant: headline, caveats, travel times, yearly effects.
    map_png : bytes or None
        The Δ index map to include.

    Returns
    -------
    tuple of bytes
        (PNG, PDF).
    """
    from matplotlib.figure import Figure
    from matplotlib.image import imread

    nbsp = "\u00a0"
    fig = Figure(figsize=(8.27, 11.69), dpi=100)
    fig.text(0.05, 0.965, f"Road scenario: {run.name}", fontsize=15, weight="bold", va="top")
    fig.text(0.05, 0.94, textwrap.shorten(f"{v.name}: {v.description}", 110), fontsize=9.5, va="top")
    end, start = v.impact.end_year, v.impact.start_year
    ax = fig.add_axes([0.05, 0.80, 0.9, 0.125])
    ax.set_axis_off()
    rows = [[textwrap.shorten(r.label.replace(" with higher centrality", ""), 44), r.measure, per_year(r.per_year),
             interval(r.per_year_low, r.per_year_high), persons(r.population),
             interval(r.population_low, r.population_high, persons)]
            for r in v.headline.itertuples(index=False)]
    tab = ax.table(cellText=rows, colLabels=["area", "effect", "Δ migrants/yr", f"95{nbsp}%",
                                             f"Δ pop. {start}–{str(end)[-2:]}", f"95{nbsp}%"],
                   loc="upper center", cellLoc="right", colWidths=[0.36, 0.08, 0.12, 0.17, 0.12, 0.17])
    tab.auto_set_font_size(False)
    tab.set_fontsize(8)
    tab.scale(1, 1.35)
    for (i, j), cell in tab.get_celld().items():
        cell.set_linewidth(0.3)
        if i == 0:
            cell.set_facecolor("#f3f0f5")
        if j == 0:
            cell.set_text_props(ha="left")
    beta, se = v.impact.coefficient()
    paragraphs = [(textwrap.fill(
        f"Persons. A year = mean of the full-effect years; Δ pop. = extra residents by the end of {end}. "
        f"β{nbsp}sentny = {sig4(beta)} (SE {sig4(se)}); 95{nbsp}% intervals: "
        f"{'coefficient, decay and cutoff combined' if v.uncertainty is not None else 'coefficient only'}. "
        "Net = with the national centrality mean re-evaluated (competition).", 130), 7.5, "normal")]
    if run.published:
        paragraphs.append((textwrap.fill(comparison_text(run, v), 130), 7.5, "normal"))
    proj = projection_sentence(v)
    if proj:
        paragraphs.append((textwrap.fill(proj, 130), 7.0, "normal"))
    y = 0.785
    line_h = 1.30 / 72 / 11.69                       # page fraction per point of font size
    for text, size, weight in paragraphs:
        fig.text(0.05, y, text, fontsize=size, va="top", weight=weight)
        y -= (text.count("\n") + 1) * size * line_h + 0.008
    caveats = list(run.caveats) + list(v.caveats)
    wrapped = "\n".join("• " + "\n   ".join(textwrap.wrap(c, 135)) for c in caveats)
    fig.text(0.05, y - 0.004, "What these numbers rest on", fontsize=10, weight="bold", va="top")
    y -= 0.022
    fig.text(0.05, y, wrapped, fontsize=6.3, va="top", linespacing=1.25)
    y -= (wrapped.count("\n") + 1) * 6.3 * 1.25 / 72 / 11.69 + 0.03
    row_h = 0.12
    if v.yearly is not None and v.groups is not None:
        axc = fig.add_axes([0.10, y - row_h, 0.36, row_h - 0.02])
        yr = v.yearly
        served = set(v.groups.loc[v.groups["delta_index"] > 0, run.group_col])
        sub = yr[yr[run.group_col].isin(served)].groupby("year")[["delta_population", "delta_population_net"]].sum()
        axc.plot(sub.index, sub["delta_population"], color="#2b8cbe", label="gross")
        axc.plot(sub.index, sub["delta_population_net"], color="#7a0177", ls="--", label="net")
        axc.set_title("Δ population, served area (persons, end of year)", fontsize=8)
        axc.tick_params(labelsize=7)
        axc.xaxis.get_major_locator().set_params(integer=True)
        axc.legend(fontsize=7, frameon=False)
        axc.grid(alpha=0.3)
    if len(v.travel_times):
        axt = fig.add_axes([0.54, y - row_h, 0.42, row_h - 0.02])
        axt.set_axis_off()
        tt = travel_pairs(v.travel_times).head(8)
        t2 = axt.table(cellText=[[r["from"], ("↔ " if r.both else "→ ") + r["to"], f"{r.baseline_min:.0f}",
                                  f"{r.scenario_min:.0f}", _minutes_delta(r.delta_min)]
                                 for _, r in tt.iterrows()],
                       colLabels=["from", "to", "without", "with", "Δ"], colWidths=[0.27, 0.31, 0.14, 0.14, 0.14],
                       cellLoc="left", bbox=[0.0, 0.0, 1.0, 1.0])
        t2.auto_set_font_size(False)
        t2.set_fontsize(7)
        for (i, j), cell in t2.get_celld().items():
            cell.set_linewidth(0.3)
            if j >= 2:
                cell.set_text_props(ha="right")
            if i == 0:
                cell.set_facecolor("#f3f0f5")
        axt.set_title("Travel times (minutes, door to door)", fontsize=8)
    y -= row_h + 0.035
    if map_png is not None:
        fig.text(0.05, y, "Δ centrality index by kommune" if v.groups is not None else "Δ centrality index by zone",
                 fontsize=9, weight="bold", va="top")
        axm = fig.add_axes([0.02, 0.03, 0.96, max(0.2, y - 0.05)])
        axm.imshow(imread(io.BytesIO(map_png), format="png"))
        axm.set_axis_off()
    fig.text(0.05, 0.012, textwrap.fill(f"Source: {run.data_source or 'network and zones as given'} · "
                                        "regio-toolkit", 150), fontsize=6.5, color="#555")
    png = _png(fig, dpi=110)
    buf = io.BytesIO()
    fig.savefig(buf, format="pdf", facecolor="white")
    return png, buf.getvalue()


def _minutes_delta(x: float) -> str:
    r = int(round(float(x)))
    return "0" if r == 0 else f"{r:+d}".replace("-", MINUS)


def projection_sentence(v) -> str:
    """One sentence on the cohort-component projection with the project (the cross-check), or "".

    Parameters
    ----------
    v : geoproc.scenario.VariantReport
        The variant.

    Returns
    -------
    str
    """
    p = v.projection
    if getattr(p, "table", None) is None:
        return ""
    end = v.impact.end_year
    d = projection_columns(p, end)[f"proj_delta_population_{end}"]
    focus = list(dict.fromkeys(str(u).split(":", 1)[1] for u in v.headline["scope"] if str(u).startswith("focus:")))
    parts = [f"{_unit_name(v, u)} {persons(d[u])}" for u in focus if u in d.index]
    return (f"Cross-check, the full projection with the project ({p.source}, from 1 January {p.base_year}, no "
            f"ramp-up): Δ population by the end of {end} " + (", ".join(parts) + ", " if parts else "")
            + f"all kommuner {persons(float(d.sum()))} — it also counts the extra residents' children and deaths"
            + (" and the jobs that follow them" if p.source == "real data" else "") + ".")


def _unit_name(v, unit: str) -> str:
    units = v.groups if v.groups is not None else v.zones
    key = units.columns[0]
    row = units[units[key].astype(str) == unit]
    if len(row) and "name" in row.columns and isinstance(row["name"].iloc[0], str):
        return f"{row['name'].iloc[0]} ({unit})"
    return unit


# ------------------------------------------------------------------------------ writing
def write_report(run, out_dir: str | Path, maps: bool = True, outputs: OutputSet | None = None) -> list[Path]:
    """Write all tables, maps, GeoPackages, the one-page summaries and report.html of ``run``.

    Parameters
    ----------
    run : geoproc.scenario.ScenarioRun
        The evaluated scenarios.
    out_dir : path-like
        The report folder (owned by the run).
    maps : bool, default True
        Draw the Δ maps (PNG) and the one-page summary.
    outputs : OutputSet, optional
        Stage into this set and let the caller commit (e.g. ``regio demo``); without it the files
        are committed here.

    Returns
    -------
    list of pathlib.Path
        The files written (or staged, with ``outputs``).
    """
    out_dir = Path(out_dir)
    own = outputs is None
    if own:
        outputs = OutputSet(command="regio scenario run")
    outputs.rests_on.setdefault("scenarios", {})[run.name] = {
        "notes": list(run.notes), "caveats": list(run.caveats), "variants": [v.name for v in run.variants],
        "variant_caveats": {v.name: list(v.caveats) for v in run.variants},
        "projections": {v.name: {"source": v.projection.source, "base_year": v.projection.base_year,
                                 "assumptions": v.projection.assumptions_label, "notes": list(v.projection.notes)}
                        for v in run.variants if getattr(v.projection, "table", None) is not None},
        "centrality": run.settings.summary() if run.settings is not None else None}
    outputs.declare_folder(out_dir, owned=True, what="scenario output folder")
    if own:
        outputs.check()
    rendered = []
    for v in run.variants:                     # render everything before writing anything
        zones, groups = _map_layers(run, v)
        layers = {}
        if zones is not None:
            layers["zones"] = zones
        if groups is not None:
            layers["kommuner"] = groups
        layers["edited_links"] = v.edited_links
        pngs, titles = _maps(run, v, zones, groups) if maps else ({}, {})
        page = onepage(run, v, _onepage_map(v, zones, groups)) if maps else None
        rendered.append({"summary": summary_table(v, run.group_col), "layers": layers, "maps": pngs,
                         "map_titles": titles, "onepage": page})
    page = _html_page(run, rendered).encode("utf-8")
    scen_rows = pd.DataFrame([{**v.summary, **v.technical} for v in run.variants])
    written = [outputs.write_table(out_dir / "scenarios.csv", scen_rows)]
    if run.portfolio is not None:
        written += run.portfolio.write(outputs, out_dir)
    if run.excluded is not None and len(run.excluded):
        written.append(outputs.write_table(out_dir / "excluded_zones.csv", run.excluded))
    for v, r in zip(run.variants, rendered):
        s = slug(v.name)
        written.append(outputs.write_table(out_dir / f"{s}_headline.csv", v.headline))
        written.append(outputs.write_table(out_dir / f"{s}_summary.csv", r["summary"]))
        written.append(outputs.write_table(out_dir / f"{s}_zones.csv", v.zones))
        if v.yearly is not None:
            written.append(outputs.write_table(out_dir / f"{s}_yearly.csv", v.yearly))
        written.append(outputs.write_table(out_dir / f"{s}_competition.csv", v.competition))
        if v.uncertainty is not None:
            written.append(outputs.write_table(out_dir / f"{s}_uncertainty.csv", v.uncertainty.table))
            written.append(outputs.write_table(out_dir / f"{s}_sensitivity_runs.csv", v.uncertainty.runs))
        written.append(outputs.write_table(out_dir / f"{s}_travel_times.csv", v.travel_times))
        if getattr(v.projection, "table", None) is not None:
            written.append(outputs.write_table(out_dir / f"{s}_projection.csv", v.projection.table))
        written.append(outputs.write_gpkg(out_dir / f"{s}.gpkg", r["layers"]))
        for key, png in r["maps"].items():
            written.append(outputs.write_bytes(out_dir / f"{s}_{key}.png", png))
        if r["onepage"] is not None:
            written.append(outputs.write_bytes(out_dir / f"{s}_onepage.png", r["onepage"][0]))
            written.append(outputs.write_bytes(out_dir / f"{s}_onepage.pdf", r["onepage"][1]))
    written.append(outputs.write_bytes(out_dir / "report.html", page))
    return outputs.commit() if own else written
