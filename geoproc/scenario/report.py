"""Scenario report: CSV tables, a GeoPackage, PNG maps and one self-contained HTML page.

Everything is rendered first and then committed together through one
:class:`centrality.fileio.OutputSet` (the report folder is owned by the run: files of an earlier
run that this one does not write again are removed, and ``run_manifest.json`` lists what was
written), so a failure leaves no half-written report; validation errors happen even earlier (in
:func:`geoproc.scenario.run_scenarios`), before anything is computed. Files per variant ``<v>``
(name made file-safe):

- ``<v>_summary.csv``      per kommune (or per zone without groups): baseline index, scenario
  index, Δ index, Δ migrants/yr with 95 % interval, Δ population by the horizon end with interval
- ``<v>_zones.csv``        per zone: jobs within each limit, access_decay and index (base, scen, Δ)
- ``<v>_yearly.csv``       per kommune and year: Δ migrants, cumulative Δ population
- ``<v>_travel_times.csv`` before/after minutes between the named places
- ``<v>_projection.csv``   (with ``[impact] projection = true``) per kommune and year (1 January):
  population without and with the project from the cohort-component projection, and Δ; the
  summary then also has ``proj_population_without_<end>`` and ``proj_delta_population_<end>``
  (by the end of the horizon = 1 January end+1)
- ``<v>.gpkg``             layers zones (and kommuner) with the Δ columns, edited_links
- ``<v>_delta_index.png``, ``<v>_delta_jobs.png`` diverging choropleths
and ``scenarios.csv`` (one row per variant, with the excluded zones' count, population, jobs and
shares), ``excluded_zones.csv`` (zones left out for being far from the network, when any) and
``report.html`` (all variants, images embedded).
"""
from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from centrality.fileio import OutputSet
from geoproc.plots.maps import choropleth

SUMMARY_COLS = ["index_base", "index_scen", "delta_index", "delta_migrants_per_year", "delta_migrants_low",
                "delta_migrants_high", "delta_population", "delta_population_low", "delta_population_high"]


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


def summary_table(v, group_col: str | None) -> pd.DataFrame:
    """The headline table of a variant, sorted by |Δ index| (largest first).

    Parameters
    ----------
    v : geoproc.scenario.VariantReport
    group_col : str, optional
        The kommune column (groups) or None (zones).

    Returns
    -------
    pandas.DataFrame
        Unit, name, population, index_base/scen, delta_index (points), Δ migrants per year and
        Δ population by the horizon end with intervals (persons) [, projection columns].
    """
    base = v.groups if v.groups is not None else v.zones
    key = [group_col] if v.groups is not None else ["zone_id"]
    names = ["name"] if "name" in base.columns else []
    out = base[key + names + ["population"] + SUMMARY_COLS].copy()
    end = v.impact.end_year
    out = out.rename(columns={"delta_population": f"delta_population_{end}",
                              "delta_population_low": f"delta_population_{end}_low",
                              "delta_population_high": f"delta_population_{end}_high"})
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


def _projection_html(v) -> str:
    p = v.projection
    if getattr(p, "table", None) is None:
        return ""
    end = v.impact.end_year
    total = float(projection_columns(p, end)[f"proj_delta_population_{end}"].sum())
    return (f"<p>Full cohort-component projection (1 January {p.base_year} → end of {end}), without and with the "
            f"project from {p.first_effect_year}: Δ population by the end of {end}, all kommuner "
            f"{total:+,.1f} persons (β<sub>sentny</sub> = {p.beta_sentny:.7f}; "
            f"{'domestic moves balanced over the kommuner' if p.balance else 'no national balancing'}; "
            f"{html.escape(p.assumptions_label)}). Columns proj_* in the table below.</p>"
            + "".join(f"<p><em>{html.escape(n)}</em></p>" for n in p.notes))


def _jobs_column(z: pd.DataFrame) -> str:
    """The jobs-within-limit Δ column with the largest total |Δ| (most informative map)."""
    cols = [c for c in z.columns if c.startswith("delta_jobs_")]
    return max(cols, key=lambda c: float(np.nansum(np.abs(z[c].to_numpy(dtype=float))))) if cols else "delta_access_decay"


def _map_layers(run, v):
    """(zones GeoDataFrame, group GeoDataFrame or None) carrying the Δ columns."""
    zones = gpd.GeoDataFrame(v.zones.copy(), geometry=run.zone_geometry.to_numpy(), crs=run.zone_geometry.crs) \
        if run.zone_geometry is not None else None
    groups = None
    if run.group_polygons is not None and v.groups is not None:
        poly = run.group_polygons[[run.group_col, run.group_polygons.geometry.name]]
        groups = poly.merge(v.groups.drop(columns=["name"], errors="ignore"), on=run.group_col, how="inner")
        if "name" in run.group_polygons.columns:
            groups.insert(1, "name", groups[run.group_col].map(run.group_polygons.set_index(run.group_col)["name"]))
    return zones, groups


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, facecolor="white")
    return buf.getvalue()


def crop_to_change(layer, column: str = "delta_index", margin_frac: float = 0.5, margin_min_m: float = 20_000.0):
    """The features inside the bounding box of the changed ones widened by a margin.

    So a local project is not lost in a national map. Unchanged layers are returned whole.

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
    column : str, default "delta_index"
        Changed where |value| > 0.
    margin_frac : float, default 0.5
        Margin as a share of the box size.
    margin_min_m : float, default 20000.0
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
    return layer.cx[x0 - m:x1 + m, y0 - m:y1 + m]


def _maps(run, v, zones, groups) -> dict[str, bytes]:
    layer = groups if groups is not None else zones
    if layer is None:
        return {}
    layer = crop_to_change(layer)
    zones = crop_to_change(zones) if zones is not None else None
    jobs_col = _jobs_column(v.zones)
    jobs_layer = zones if jobs_col in zones.columns and groups is None else layer
    note = f"Scenario '{v.name}' minus baseline; index scale fixed at the baseline's A_ref."
    out = {"delta_index": _png(choropleth(layer, "delta_index", title=f"Δ centrality index — {v.name}",
                                          unit_label="index points", diverging=True, scheme="natural_breaks", note=note))}
    if jobs_col in jobs_layer.columns:
        label = jobs_col.replace("delta_", "").replace("_", " ")
        out["delta_jobs"] = _png(choropleth(jobs_layer, jobs_col, title=f"Δ {label} reachable — {v.name}",
                                            unit_label="jobs (population-weighted mean)" if groups is not None else "jobs",
                                            diverging=True, scheme="natural_breaks", note=note))
    return out


def _html_table(df: pd.DataFrame, max_rows: int = 25) -> str:
    return df.head(max_rows).to_html(index=False, float_format=lambda x: f"{x:,.2f}", border=0, classes="t")


def _html_page(run, rendered) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(run.name)}</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}"
             "table.t{border-collapse:collapse;font-size:12px}table.t td,table.t th{padding:2px 6px;"
             "border-bottom:1px solid #ddd;text-align:right}img{max-width:100%}</style></head><body>",
             f"<h1>Road scenario: {html.escape(run.name)}</h1>",
             "<p>Δ = scenario − baseline. Index = 1000·ln(1+A)/ln(1+A<sub>ref</sub>) with the baseline's "
             f"A<sub>ref</sub> = {run.baseline_a_ref:,.0f}. Δ migrants/yr = β<sub>sentny</sub> × Δindex/1000 × population "
             "(interval from β ± 1.96 SE, coefficient uncertainty only).</p>"]
    for note in run.notes:
        parts.append(f"<p><em>{html.escape(note)}</em></p>")
    for v, r in zip(run.variants, rendered):
        parts.append(f"<h2>{html.escape(v.name)}</h2>")
        if v.description:
            parts.append(f"<p>{html.escape(v.description)}</p>")
        parts.append(_html_table(pd.DataFrame([v.summary]).T.reset_index().set_axis(["item", "value"], axis=1), 40))
        parts.append("<h3>Travel times between places (minutes)</h3>" + _html_table(v.travel_times, 60))
        parts.append("<h3>Effect by " + ("kommune" if v.groups is not None else "zone") + " (largest |Δ index| first)</h3>")
        parts.append(_projection_html(v))
        parts.append(_html_table(r["summary"]))
        for key, png in r["maps"].items():
            parts.append(f"<h3>{key.replace('_', ' ')}</h3><img alt='{key}' src='data:image/png;base64,"
                         f"{base64.b64encode(png).decode('ascii')}'>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(run, out_dir: str | Path, maps: bool = True, outputs: OutputSet | None = None) -> list[Path]:
    """Write all tables, maps, GeoPackages and report.html of ``run`` into ``out_dir``.

    Parameters
    ----------
    run : geoproc.scenario.ScenarioRun
        The evaluated scenarios.
    out_dir : path-like
        The report folder (owned by the run).
    maps : bool, default True
        Draw the Δ maps (PNG).
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
        "notes": list(run.notes), "variants": [v.name for v in run.variants],
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
        rendered.append({"summary": summary_table(v, run.group_col), "layers": layers,
                         "maps": _maps(run, v, zones, groups) if maps else {}})
    page = _html_page(run, rendered).encode("utf-8")
    written = [outputs.write_table(out_dir / "scenarios.csv", pd.DataFrame([v.summary for v in run.variants]))]
    if run.excluded is not None and len(run.excluded):
        written.append(outputs.write_table(out_dir / "excluded_zones.csv", run.excluded))
    for v, r in zip(run.variants, rendered):
        s = slug(v.name)
        written.append(outputs.write_table(out_dir / f"{s}_summary.csv", r["summary"]))
        written.append(outputs.write_table(out_dir / f"{s}_zones.csv", v.zones))
        if v.yearly is not None:
            written.append(outputs.write_table(out_dir / f"{s}_yearly.csv", v.yearly))
        written.append(outputs.write_table(out_dir / f"{s}_travel_times.csv", v.travel_times))
        if getattr(v.projection, "table", None) is not None:
            written.append(outputs.write_table(out_dir / f"{s}_projection.csv", v.projection.table))
        written.append(outputs.write_gpkg(out_dir / f"{s}.gpkg", r["layers"]))
        for key, png in r["maps"].items():
            written.append(outputs.write_bytes(out_dir / f"{s}_{key}.png", png))
    written.append(outputs.write_bytes(out_dir / "report.html", page))
    return outputs.commit() if own else written
