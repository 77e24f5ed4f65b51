"""The Levanger E6 case (MODEL.md §5): effect of the E6 upgrade Trondheim–Stjørdal–Levanger on
centrality, expected net migration and population, 2025–2040.

Offline (default) — the kommune PROXY network built from a local data folder (the files of
../shared/data: kommune points and polygons, SSB population and jobs); the E6 corridor is calibrated
to the published baseline (Levanger → Trondheim 54 min, → Stjørdal 21 min) and the scenario file
``scenario.toml`` sets the published scenario times (38 and 11 min). The population path is the
real-data projection of the same folder (that of ``regio model project``, from 1 January 2025)::

    python examples/levanger/run_levanger.py --data-dir ../shared/data --out levanger_out

Zoning: ``--split-south-share 0.25 0.5 0.75`` also runs Levanger as a southern and a northern zone
for each (HYPOTHETICAL) southern population share; ``--split parts.csv`` with your own parts (e.g.
grunnkrets populations summed per part) writes a full report of that run to ``OUT/split``.

Online — a real OpenStreetMap road network (downloaded .osm.pbf, default the Geofabrik Norway
extract; pass ``--osm-url`` for a smaller Trøndelag extract or ``--osm-file`` for a local copy)
and 2020 population/jobs from SSB's API (:mod:`geoproc.data.ssb_client`); kommune points still
come from ``--data-dir``. The E6 links (``ref == "E6"``) near the corridor lines of
``e6_corridor.geojson`` are scaled by two factors found by bisection so that the time from
southern Levanger (Åsen) to Stjørdal falls by 11/21 and to Trondheim by 38/54, as published::

    python examples/levanger/run_levanger.py --online --data-dir ../shared/data --out levanger_osm

Without internet the online mode stops with a clear error (nothing is written).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
GEOFABRIK_NORWAY = "https://download.geofabrik.de/europe/norway-latest.osm.pbf"
# lon/lat of the published case's end points (OSM online mode)
PLACES_LONLAT = {"Levanger (south, Åsen)": (11.035, 63.600), "Stjørdal": (10.918, 63.469),
                 "Trondheim": (10.395, 63.431), "Levanger (town)": (11.300, 63.746)}
NEIGHBOURS = ["5037", "5035", "5038", "5031", "5001", "5036", "5034", "5006"]


# ------------------------------------------------------------------------------------ offline
def run_offline(data_dir, out_dir, portfolio: bool = True, split_file: str | None = None,
                south_shares: list[float] | None = None) -> "object":
    """The scenario (real-data projected base, competition, decay/cutoff sensitivity) into
    ``out_dir``, the two-stage portfolio into ``out_dir/portfolio``, with ``split_file`` the
    scenario with kommuner split into parts into ``out_dir/split``, and with ``south_shares`` the
    zoning sensitivity of Levanger into ``out_dir/zoning_sensitivity.csv``."""
    import pandas as pd

    from geoproc.scenario.proxy_case import run_proxy_portfolio, run_proxy_scenario
    from geoproc.scenario.report import write_report

    if south_shares:
        splits = [levanger_split(float(s)) for s in south_shares]      # bad shares fail before computing
    if split_file:
        split = pd.read_csv(split_file, dtype={"kommune": str})
    run = run_proxy_scenario(HERE / "scenario.toml", data_dir)
    write_report(run, out_dir)
    if portfolio:
        port = run_proxy_portfolio(HERE / "portfolio.toml", data_dir)
        write_report(port, Path(out_dir) / "portfolio")
        print_portfolio(port)
    if split_file:
        split_run = run_proxy_scenario(HERE / "scenario.toml", data_dir, split=split)
        write_report(split_run, Path(out_dir) / "split")
        print("\nwith the kommune split of", split_file)
        print_effect(split_run)
    if south_shares:
        table = zoning_sensitivity(data_dir, south_shares, splits, run)
        table.to_csv(Path(out_dir) / "zoning_sensitivity.csv", index=False)
        print_zoning(table)
    return run


def levanger_split(share_south: float) -> "object":
    """Levanger (5037) as two zones: the southern part where the published times hold (Åsen, on the
    kommune's calibrated point) and the north (Levanger town), with ``share_south`` of the
    population and of the jobs in the south. The shares are HYPOTHETICAL: the data folder has no
    population below kommune level (give grunnkrets sums with ``--split FILE`` instead)."""
    import pandas as pd

    from centrality.errors import InputError

    if not 0.0 < share_south < 1.0:
        raise InputError(f"--split-south-share must be between 0 and 1 (exclusive), got {share_south}.")
    (lon_s, lat_s), (lon_n, lat_n) = PLACES_LONLAT["Levanger (south, Åsen)"], PLACES_LONLAT["Levanger (town)"]
    return pd.DataFrame({"kommune": ["5037", "5037"], "part": ["south", "north"], "lon": [lon_s, lon_n],
                         "lat": [lat_s, lat_n], "share": [share_south, 1.0 - share_south], "anchor": [True, False]})


def zoning_sensitivity(data_dir, shares, splits, one_zone_run) -> "object":
    """Levanger's headline with one zone and with each southern share.

    Returns
    -------
    pandas.DataFrame
        zoning, share_south, delta_index, per_year gross (95 % interval) and net, population
        2025–2040 gross and net (persons).
    """
    import pandas as pd

    from geoproc.scenario.proxy_case import run_proxy_scenario

    rows = [_levanger_row(one_zone_run, "one zone (all of Levanger at the calibrated southern point)", float("nan"))]
    for s, split in zip(shares, splits):
        r = run_proxy_scenario(HERE / "scenario.toml", data_dir, split=split)
        rows.append(_levanger_row(r, f"south {100 * s:.0f} % / north {100 * (1 - s):.0f} % (HYPOTHETICAL shares)", s))
    return pd.DataFrame(rows)


def _levanger_row(run, zoning: str, share: float) -> dict:
    v = run.variants[0]
    h = v.headline.set_index(["scope", "measure"])
    g, n = h.loc[("focus:5037", "gross")], h.loc[("focus:5037", "net")]
    d = float(v.groups.set_index("kommune").loc["5037", "delta_index"])
    return {"zoning": zoning, "share_south": share, "delta_index": d, "per_year_gross": g["per_year"],
            "per_year_gross_low": g["per_year_low"], "per_year_gross_high": g["per_year_high"],
            "per_year_net": n["per_year"], "population_gross": g["population"], "population_net": n["population"]}


def print_zoning(table) -> None:
    print("\nLevanger by zoning (2025–2040; the shares are HYPOTHETICAL: no sub-kommune population in the data):")
    for r in table.itertuples(index=False):
        print(f"  {r.zoning:<62} Δ index {r.delta_index:5.1f}  {r.per_year_gross:5.1f} a year gross "
              f"[{r.per_year_gross_low:4.1f}, {r.per_year_gross_high:4.1f}], {r.per_year_net:5.1f} net; "
              f"{r.population_gross:4.0f} / {r.population_net:4.0f} persons by 2040")


def print_portfolio(run) -> None:
    print(f"\nportfolio: {run.name}")
    for r in run.portfolio.ranking.itertuples(index=False):
        print(f"  {r.rank_gross}. {r.project:<20} Δ population 2040 {r.population_gross:+7.0f} gross, "
              f"{r.population_net:+7.0f} net (winners), {r.population_gross_per_cost:.3f} per MNOK")
    for r in run.portfolio.interaction.itertuples(index=False):
        print(f"  {r.figure}: singles {r.sum_of_singles:+.1f}, together {r.combined:+.1f} (ratio {r.ratio:.3f})")


def print_effect(run, codes=NEIGHBOURS) -> None:
    from geoproc.scenario.report import per_year, persons, projection_sentence, travel_pairs

    v = run.variants[0]
    o = v.impact
    print(f"\n{v.name}: {v.description}")
    for r in travel_pairs(v.travel_times).itertuples():
        print(f"  {r[1]:>10} {'↔' if r.both else '→'} {r[2]:<10} {r.baseline_min:6.1f} → {r.scenario_min:6.1f} min")
    print(f"\nHeadline {o.start_year}–{o.end_year} (persons; 95 % intervals: "
          f"{'coefficient, decay and cutoff' if v.uncertainty is not None else 'coefficient only'}):")
    for r in v.headline.itertuples(index=False):
        print(f"  {r.label[:48]:<48} {r.measure:<5} {per_year(r.per_year):>7} a year [{per_year(r.per_year_low):>6}, "
              f"{per_year(r.per_year_high):>6}]   {persons(r.population):>7} by {o.end_year} "
              f"[{persons(r.population_low):>6}, {persons(r.population_high):>6}]")
    if v.projection is not None:
        print("  " + projection_sentence(v))
    g = v.groups.set_index("kommune")
    print(f"\n{'kommune':<16}{'index':>8}{'→':>3}{'scen':>8}{'Δ':>7}{'gross/yr':>10}{'net/yr':>9}"
          f"{'ΔP gross':>10}{'ΔP net':>9}")
    for code in [c for c in codes if c in g.index] + ["0301"]:
        r = g.loc[code]
        print(f"{code} {str(r.get('name', ''))[:10]:<11}{r.index_base:8.1f}{'':>3}{r.index_scen:8.1f}{r.delta_index:7.1f}"
              f"{r.delta_migrants_per_year:10.2f}{r.delta_migrants_net_per_year:9.2f}{r.delta_population:10.1f}"
              f"{r.delta_population_net:9.1f}")
    for c in run.caveats + v.caveats:
        print(f"  note: {c}")


# ------------------------------------------------------------------------------------ online
def download(url: str, target: Path) -> Path:
    """Download ``url`` to ``target`` (atomically); InputError when offline or the URL fails."""
    import requests

    from centrality.errors import InputError
    from centrality.fileio import atomic_write

    if target.exists():
        return target
    try:
        with requests.get(url, stream=True, timeout=30) as resp:
            resp.raise_for_status()
            with atomic_write(target) as tmp, open(tmp, "wb") as fh:
                for chunk in resp.iter_content(1 << 20):
                    fh.write(chunk)
    except requests.RequestException as exc:
        raise InputError(f"cannot download the OSM extract {url}: {exc}. Check the internet connection, or "
                         "download it yourself and pass --osm-file PATH (or run the offline mode).") from None
    return target


def calibrate_factor(network, link_ids, src, dst, target_s: float, lo: float = 0.05, hi: float = 1.0) -> float:
    """Factor f in [lo, hi] on ``link_ids`` times such that the src→dst time is ``target_s`` (bisection)."""
    from centrality.errors import InputError
    from centrality.paths import node_times

    def time_with(f):
        links = network.links.copy()
        links.loc[link_ids, ["time_fw_s", "time_bw_s"]] *= f
        return node_times(network.replace_links(links), src)[dst]

    if not time_with(lo) <= target_s <= time_with(hi):
        raise InputError(f"cannot reach the target time {target_s / 60:.1f} min by scaling the selected E6 links "
                         f"(range {time_with(lo) / 60:.1f}–{time_with(hi) / 60:.1f} min). Check the corridor selection.")
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if time_with(mid) < target_s else (lo, mid)
    return 0.5 * (lo + hi)


def run_online(data_dir, out_dir, osm_url: str, osm_file: str | None):
    import geopandas as gpd
    import numpy as np

    from centrality.builders.osm import network_from_osm_pbf
    from centrality.paths import node_times
    from geoproc.data import loaders, ssb_client
    from geoproc.scenario import Edit, ScenarioSet, Selection, Variant, run_scenarios
    from geoproc.scenario.definition import resolve_variant
    from geoproc.scenario.report import write_report

    pop = ssb_client.fetch_population_by_age_sex(2020).groupby("kommune", as_index=False)["population"].sum()
    jobs = ssb_client.fetch_employment(2020)[["kommune", "employed_by_workplace"]]
    pbf = Path(osm_file) if osm_file else download(osm_url, Path(out_dir) / Path(osm_url).name)
    network = network_from_osm_pbf(pbf)
    zones = loaders.load_centroids(data_dir).merge(pop, on="kommune").merge(jobs, on="kommune")
    zones = zones.rename(columns={"employed_by_workplace": "jobs"}).assign(zone_id=lambda d: d["kommune"])
    places = gpd.GeoSeries(gpd.points_from_xy(*zip(*PLACES_LONLAT.values())), crs=4326).to_crs(network.crs)
    from scipy.spatial import cKDTree

    _, place_node = cKDTree(network.node_xy).query(np.column_stack([places.x, places.y]))
    lev, stj, trd = place_node[0], place_node[1], place_node[2]
    variant = Variant("e6", [Edit("close", Selection(where='ref.str.contains("E6", na=False)', line=str(HERE / "e6_corridor.geojson"),
                                                   buffer_m=1500.0))])
    e6 = resolve_variant(variant, network).edits[0].link_ids
    mid_y = places.y.iloc[1]
    ys = network.node_xy[network.links.loc[e6, "u"].to_numpy(), 1]
    north, south = e6[ys >= mid_y], e6[ys < mid_y]
    base = node_times(network, lev)
    f_north = calibrate_factor(network, north, lev, stj, base[stj] * 11 / 21)
    links = network.links.copy()
    links.loc[north, ["time_fw_s", "time_bw_s"]] *= f_north
    f_south = calibrate_factor(network.replace_links(links), south, lev, trd, base[trd] * 38 / 54)
    print(f"calibrated E6 factors: Stjørdal–Levanger × {f_north:.3f}, Trondheim–Stjørdal × {f_south:.3f}")
    scen = ScenarioSet(name="E6 Trondheim–Stjørdal–Levanger (OSM)", variants=[Variant("e6_upgrade", [
        Edit("scale_time", Selection(ids=tuple(north.tolist())), factor=f_north),
        Edit("scale_time", Selection(ids=tuple(south.tolist())), factor=f_south)],
        description="E6 upgrade calibrated to the published relative time savings")],
        places={"Levanger": "5037", "Stjørdal": "5035", "Trondheim": "5001", "Verdal": "5038"})
    run = run_scenarios(scen, network, zones, group_col="kommune",
                        group_polygons=loaders.load_kommune_polygons(data_dir).to_crs(network.crs))
    write_report(run, out_dir)
    return run


def main(argv=None) -> int:
    from centrality.errors import InputError

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None, help="folder with the kommune/SSB files (default $REGIO_DATA_DIR)")
    p.add_argument("--out", default="levanger_out", help="output folder (tables, maps, report.html)")
    p.add_argument("--online", action="store_true", help="OSM road network + SSB API instead of the proxy")
    p.add_argument("--osm-url", default=GEOFABRIK_NORWAY)
    p.add_argument("--osm-file", default=None, help="local .osm.pbf instead of downloading")
    p.add_argument("--split", default=None, metavar="CSV",
                   help="kommuner split into parts: kommune, part, lon, lat, population (e.g. summed grunnkrets) "
                        "or share [, jobs | jobs_share] [, anchor]; the run with them goes to OUT/split")
    p.add_argument("--split-south-share", type=float, nargs="+", default=None, metavar="S",
                   help="zoning sensitivity: Levanger as a southern (share S) and a northern zone, for each S "
                        "(HYPOTHETICAL shares), into OUT/zoning_sensitivity.csv")
    a = p.parse_args(argv)
    try:
        run = run_online(a.data_dir, a.out, a.osm_url, a.osm_file) if a.online else \
            run_offline(a.data_dir, a.out, split_file=a.split, south_shares=a.split_south_share)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_effect(run)
    print(f"\nreport: {Path(a.out) / 'report.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
