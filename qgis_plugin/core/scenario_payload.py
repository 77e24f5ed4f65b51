"""Road scenario: baseline vs edited network -> Δ accessibility, Δ index, Δ migrants, Δ population.

QGIS-free and thread-safe (plain GeoDataFrames in, plain frames out), so the dock runs it in a
QgsTask and the tests call it directly. The user's edits become a scenario definition
(``geoproc.scenario.definition`` syntax: set_speed / set_time / scale_time on the selected source
features, add_link for new lines) and ``geoproc.scenario.run_scenarios`` does the work (baseline
once, scenario incrementally, impact arithmetic in ``geoproc.scenario.impact``).

Units: times in minutes, speeds km/h, index 0–1000, migrants in persons per year, population in
persons at the end of the horizon.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

FID_COLUMN = "_qgis_fid"  # same name as common.convert.FID_COLUMN (no QGIS import here)


@dataclass
class ScenarioEdit:
    """What the user changes: existing roads (by source feature id) and/or new road lines."""

    fids: Sequence[int] = ()                 # feature ids of the road layer to change
    new_roads: object = None                 # GeoDataFrame of LineStrings (any CRS) or None
    speed_kmh: float | None = None           # new speed (changed roads and new roads)
    time_min: float | None = None            # ... or new travel time of each changed link (minutes)
    time_factor: float | None = None         # ... or factor on current times (0.8 = 20 % faster)
    allow_implausible_speeds: bool = False   # accept speeds outside 1–150 km/h (centrality.plausibility)

    def check(self) -> None:
        from centrality.errors import InputError

        given = [x for x in (self.speed_kmh, self.time_min, self.time_factor) if x is not None]
        if len(given) != 1:
            raise InputError("give exactly one of: new speed (km/h), new travel time (min) or a time factor.")
        if not len(self.fids) and (self.new_roads is None or len(self.new_roads) == 0):
            raise InputError("no roads to change: select road features on the map, give an expression, "
                             "or draw/give new road lines.")
        if self.new_roads is not None and len(self.new_roads) and self.time_factor is not None:
            raise InputError("a time factor cannot apply to new roads; give a speed (km/h) or a travel time.")


@dataclass
class ScenarioPayloadResult:
    zones: object              # GeoDataFrame: id, population, *_base, *_scen, delta_*, delta_migrants_per_year, ...
    groups: object | None      # DataFrame per group (e.g. kommune): population-weighted Δ index, Σ Δ migrants
    summary: dict = field(default_factory=dict)
    edited_links: object = None  # GeoDataFrame of the changed/added links with old/new minutes


def _edits(network, edit: ScenarioEdit) -> list[dict]:
    """Scenario edit tables (geoproc.scenario.definition syntax) for ``edit`` on ``network``."""
    import numpy as np

    allow = {"allow_implausible_speeds": True} if edit.allow_implausible_speeds else {}
    out = []
    if len(edit.fids):
        fids = sorted(int(f) for f in edit.fids)
        known = np.isin(fids, network.links["source_id"].to_numpy())
        if not known.all():
            from centrality.errors import InputError

            bad = [f for f, k in zip(fids, known) if not k][:10]
            raise InputError(f"road features {bad} are not in the routable network (dropped as disconnected or "
                             "closed). Select roads of the main network.")
        sel = {"where": f"source_id in {fids}"}
        if edit.speed_kmh is not None:
            out.append({"action": "set_speed", **sel, "speed_kmh": float(edit.speed_kmh), **allow})
        elif edit.time_min is not None:
            out.append({"action": "set_time", **sel, "time_min": float(edit.time_min), **allow})
        else:
            out.append({"action": "scale_time", **sel, "factor": float(edit.time_factor), **allow})
    if edit.new_roads is not None and len(edit.new_roads):
        import shapely

        lines = edit.new_roads.to_crs(network.crs) if edit.new_roads.crs is not None else edit.new_roads
        for k, geom in enumerate(lines.geometry.explode(index_parts=False)):
            coords = shapely.get_coordinates(geom)[:, :2].tolist()
            d = {"action": "add_link", "line": coords, "name": f"new road {k + 1}", **allow}
            d.update({"speed_kmh": float(edit.speed_kmh)} if edit.speed_kmh is not None else
                     {"time_min": float(edit.time_min)})
            out.append(d)
    return out


def run_scenario_task_payload(roads, zones, edit: ScenarioEdit, *, road_options: dict, id_col: str,
                              pop_col: str, jobs_col: str, group_col: str | None = None,
                              cutoff_min: float | None = None, limits_min=None, decay=None,
                              access_speed_kmh: float | None = None, max_snap_m: float | None = None,
                              start_year: int = 2025, end_year: int = 2040, opening_year: int | None = None,
                              model: str = "model4", workers: int = 1,
                              progress: Callable[[int, int], None] | None = None,
                              should_stop: Callable[[], bool] | None = None) -> ScenarioPayloadResult:
    """Baseline and scenario centrality for ``zones`` and the migration/population effect.

    ``roads``: road GeoDataFrame with a ``_qgis_fid`` column (source feature ids; edits refer to
    them) and the fields named in ``road_options`` (keyword arguments of ``network_from_lines``).
    ``zones``: points or polygons with ``id_col``, ``pop_col``, ``jobs_col`` [, ``group_col``].
    Work is done by ``geoproc.scenario.run_scenarios`` (baseline once, scenario incrementally).
    """
    import geopandas as gpd

    from centrality.builders.lines import network_from_lines
    from centrality.errors import Cancelled, require_columns
    from centrality.settings import CentralitySettings
    from geoproc.scenario import ImpactOptions, parse_scenarios, run_scenarios

    edit.check()
    require_columns(roads.columns, [FID_COLUMN], "road layer", "Convert it with the plugin's layer converter.")
    impact = ImpactOptions(start_year=start_year, end_year=end_year, opening_year=opening_year, model=model)
    impact.coefficient()  # fail early for models without a centrality term
    if should_stop is not None and should_stop():
        raise Cancelled("scenario cancelled")
    road_options = {k: v for k, v in road_options.items() if k != "id_field"}  # edits refer to feature ids
    network = network_from_lines(roads, id_field=FID_COLUMN, **road_options)
    scenarios = parse_scenarios({"scenario": {"name": "QGIS road scenario"},
                                 "variants": [{"name": "scenario", "edits": _edits(network, edit)}]})
    run = run_scenarios(scenarios, network, zones, id_col=id_col, pop_col=pop_col, jobs_col=jobs_col,
                        group_col=group_col, impact=impact,
                        settings=CentralitySettings().with_options(
                            cutoff_min=cutoff_min, limits_min=limits_min, decay=decay, workers=workers,
                            access_speed_kmh=access_speed_kmh, max_snap_m=max_snap_m),
                        progress=progress,
                        should_stop=should_stop)
    report = run.variants[0]
    table = report.zones.rename(columns={"zone_id": id_col}) if id_col != "zone_id" else report.zones
    table = keep_input_attributes(table, zones, id_col)
    geom = zones.set_index(id_col).geometry
    out = gpd.GeoDataFrame(table, geometry=geom.reindex(table[id_col].to_numpy()).to_numpy(), crs=zones.crs)
    return ScenarioPayloadResult(zones=out, groups=report.groups, summary=_summary(out, report, impact),
                                 edited_links=readable_links(report.edited_links))


def keep_input_attributes(table, zones, id_col: str):
    """``table`` with the zones' other input attributes (names, codes …) after the id column."""
    geom = zones.geometry.name if hasattr(zones, "geometry") else None
    extra = [c for c in zones.columns if c not in table.columns and c not in (geom, FID_COLUMN)]
    if not extra:
        return table
    attrs = zones[[id_col, *extra]].drop_duplicates(id_col)
    merged = table.merge(attrs, on=id_col, how="left")
    order = [id_col, *extra, *[c for c in table.columns if c != id_col]]
    return merged[order]


def readable_links(links):
    """Changed links with travel times in minutes (before, after) next to the seconds."""
    if links is None or len(links) == 0:
        return links
    out = links.copy()
    for d in ("fw", "bw"):
        for v in ("base", "scen"):
            col = f"time_{d}_s_{v}"
            if col in out.columns:
                out[f"min_{d}_{v}"] = out[col] / 60.0
    return out


def _summary(zones, report, impact) -> dict:
    """Levanger-style headline numbers (persons, index points) plus the core's own summary."""
    import numpy as np

    pop = zones["population"].to_numpy(dtype=float)
    d = zones["delta_index"].to_numpy(dtype=float)
    ok = np.isfinite(d)
    out = {
        "horizon": f"{impact.start_year}-{impact.end_year}",
        "opening_year": impact.opening_year,
        "zones": int(len(zones)),
        "zones_gaining": int((d[ok] > 1e-9).sum()),
        "max_delta_index": float(np.max(d[ok])) if ok.any() else 0.0,
        "pop_weighted_delta_index": float(np.average(d[ok], weights=pop[ok])) if pop[ok].sum() > 0 else 0.0,
        "delta_migrants_per_year": float(zones["delta_migrants_per_year"].sum()),
        "delta_migrants_per_year_low": float(zones["delta_migrants_low"].sum()),
        "delta_migrants_per_year_high": float(zones["delta_migrants_high"].sum()),
        "delta_population": float(zones["delta_population"].sum()),
        "delta_population_low": float(zones["delta_population_low"].sum()),
        "delta_population_high": float(zones["delta_population_high"].sum()),
    }
    out.update({f"core_{k}": v for k, v in report.summary.items() if k not in out})
    return out


def format_groups(groups, group_col: str, n: int = 10) -> str:
    """The ``n`` groups (kommuner) with the largest Δ migrants per year, one line each, with names."""
    if groups is None or len(groups) == 0:
        return ""
    top = groups.sort_values("delta_migrants_per_year", ascending=False).head(n)
    lines = [f"{'Kommune':<20}{'Δ index':>8}{'Δ mig/yr':>9}{'Δ pop':>7}"]
    for row in top.itertuples(index=False):
        d = row._asdict()
        name = d.get("name")
        label = f"{d[group_col]} {name}" if isinstance(name, str) and name else str(d[group_col])
        label = label if len(label) <= 19 else label[:18] + "…"
        lines.append(f"{label:<20}{d['delta_index']:>+8.2f}{d['delta_migrants_per_year']:>+9.1f}"
                     f"{d['delta_population']:>+7.0f}")
    return "\n".join(lines)


def format_summary(summary: dict, groups=None, group_col: str | None = None) -> str:
    """Plain-text summary (index points, persons per year, persons by the end year), followed by the
    groups (kommuner, with names) gaining most when ``groups`` is given. Fits a ~350 px dock."""
    end = str(summary["horizon"]).split("-")[-1]
    table = format_groups(groups, group_col) if group_col else ""
    return "\n".join([
        f"Horizon {summary['horizon']}" + (f", opening {summary['opening_year']}" if summary.get("opening_year") else ""),
        f"Zones gaining centrality: {summary['zones_gaining']} of {summary['zones']}",
        f"Δ index: mean {summary['pop_weighted_delta_index']:+.2f} (pop.-weighted),",
        f"  largest {summary['max_delta_index']:+.2f} points",
        f"Δ net migration: {summary['delta_migrants_per_year']:+.1f} persons/year",
        f"  (95 %: {summary['delta_migrants_per_year_low']:+.1f} to {summary['delta_migrants_per_year_high']:+.1f})",
        f"Δ population by {end}: {summary['delta_population']:+.0f} persons",
        f"  (95 %: {summary['delta_population_low']:+.0f} to {summary['delta_population_high']:+.0f})",
    ] + (["", table] if table else []))


def summary_lines(summary: dict) -> list[str]:
    """The summary for a Processing log (no internal keys)."""
    return format_summary(summary).splitlines()


def report_html(result: ScenarioPayloadResult, group_col: str | None, map_png_b64: str, *, roads: str = "",
                gpkg: str = "") -> str:
    """One self-contained HTML page: the headline numbers, the kommuner gaining most (with names),
    the Δ index map, and what the numbers rest on."""
    import html

    s = result.summary
    end = str(s["horizon"]).split("-")[-1]
    rows = ""
    if result.groups is not None and group_col:
        top = result.groups.sort_values("delta_migrants_per_year", ascending=False).head(15)
        for r in top.to_dict("records"):
            name = r.get("name")
            label = f"{r[group_col]} {name}" if isinstance(name, str) and name else str(r[group_col])
            rows += (f"<tr><td>{html.escape(label)}</td><td>{r['delta_index']:+.2f}</td>"
                     f"<td>{r['delta_migrants_per_year']:+.1f}</td><td>{r['delta_population']:+.0f}</td></tr>")
    table = ("<h2>Kommuner gaining most</h2><table><tr><th>Kommune</th><th>Δ index (points)</th>"
             "<th>Δ net migration (persons/year)</th><th>Δ population by " + end + "</th></tr>" + rows + "</table>"
             if rows else "")
    beta = s.get("core_beta_sentny")
    basis = ("Δ expected net migration = β<sub>sentny</sub> × Δindex/1000 × population per year"
             + (f" (β = {beta:.4f}, published attractiveness model)" if beta else "")
             + "; the 95 % interval comes from β's standard error only. No compounding; effects start the "
               "year after the opening year. Travel times and jobs are those of the layers given"
             + (f" (roads: {roads})" if roads else "") + ".")
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Regio road scenario</title>
<style>body{{font-family:sans-serif;max-width:980px;margin:2em auto;color:#222}}
table{{border-collapse:collapse}}td,th{{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}}
td:first-child,th:first-child{{text-align:left}}img{{max-width:100%}}.note{{color:#555;font-size:90%}}</style></head>
<body><h1>Road scenario: effect on centrality, migration and population</h1>
<ul><li>Horizon {html.escape(str(s['horizon']))}{', opening ' + str(s['opening_year']) if s.get('opening_year') else ''}</li>
<li>Zones gaining centrality: {s['zones_gaining']} of {s['zones']}</li>
<li>Δ centrality index: population-weighted mean {s['pop_weighted_delta_index']:+.2f}, largest {s['max_delta_index']:+.2f} points</li>
<li>Δ expected net migration: <b>{s['delta_migrants_per_year']:+.1f} persons per year</b>
 (95 %: {s['delta_migrants_per_year_low']:+.1f} to {s['delta_migrants_per_year_high']:+.1f})</li>
<li>Δ population by {end}: <b>{s['delta_population']:+.0f} persons</b>
 (95 %: {s['delta_population_low']:+.0f} to {s['delta_population_high']:+.0f})</li></ul>
{table}
<h2>Δ centrality index</h2><img alt="map of the change in the centrality index" src="data:image/png;base64,{map_png_b64}">
<p class="note">What this rests on: {basis} Layers are in {html.escape(gpkg)}.</p></body></html>"""
