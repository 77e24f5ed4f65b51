"""A kommune-level PROXY road network for Norway, for the Levanger E6 case when no OSM road
network is at hand (offline, tests).

Nodes are the 356 kommune points of 2020 (``kommune_centroids_2020.csv``, projected to
EPSG:25833); one zone per kommune sits exactly on its node (access time 0), with the 2020
population and the 2020 jobs (``employed_by_workplace``, SSB 11618).

Links (all two-way):
- *land links* between kommuner whose polygons share a border (polygons buffered by
  ``TOUCH_BUFFER_M`` = 50 m and joined with ``geopandas.sjoin``; kommune polygons include sea
  areas, so some pairs "touch" across a fjord): time = straight-line distance × ``CIRCUITY``
  (1.35, a typical road/crow-fly ratio in Norway) / ``PROXY_SPEED_KMH`` (70 km/h, a mix of 80 km/h
  highways and slower local roads);
- *ferry links* joining every part of the graph that is not connected to the mainland (island
  kommuner with no land neighbour, e.g. Træna, Røst, Utsira) to the nearest mainland kommune:
  time = distance × ``FERRY_CIRCUITY`` (1.2) / ``FERRY_SPEED_KMH`` (25 km/h) + ``FERRY_WAIT_MIN``
  (20 min, half of a 40-minute headway: 60 / (2 · 1.5 departures per hour));
- the *E6 corridor* Trondheim 5001 – Malvik 5031 – Stjørdal 5035 – Levanger 5037 – Verdal 5038
  (``ref = "E6"``, ``segment`` = "Trondheim–Malvik" ...): Stjørdal–Levanger is calibrated to the
  published 21 min and Trondheim–Malvik–Stjørdal to 54 − 21 = 33 min, split in proportion to
  the straight-line distances; Levanger–Verdal keeps the generic formula.

The published times are for "the southern part of Levanger"; the proxy has one point per kommune,
so the whole of Levanger is treated as that point (this overstates the kommune-wide gain; see
examples/levanger/README.md). The proxy is coarse: paths run centroid to centroid. Its other
times are compared with typical real driving times in that README.
"""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from centrality.crs import NORWAY_CRS
from centrality.errors import InputError
from centrality.network import RoadNetwork
from geoproc.data import loaders
from geoproc.scenario import load_scenarios, run_scenarios
from geoproc.scenario.portfolio import load_portfolio, run_portfolio

CIRCUITY = 1.35
PROXY_SPEED_KMH = 70.0
TOUCH_BUFFER_M = 50.0
FERRY_CIRCUITY = 1.2
FERRY_SPEED_KMH = 25.0
FERRY_WAIT_MIN = 20.0

TRONDHEIM, MALVIK, STJORDAL, LEVANGER, VERDAL = "5001", "5031", "5035", "5037", "5038"
E6_CHAIN = (TRONDHEIM, MALVIK, STJORDAL, LEVANGER, VERDAL)
BASELINE_LEVANGER_TRONDHEIM_MIN = 54.0
BASELINE_LEVANGER_STJORDAL_MIN = 21.0
SCENARIO_LEVANGER_TRONDHEIM_MIN = 38.0
SCENARIO_LEVANGER_STJORDAL_MIN = 11.0
NAMES = {TRONDHEIM: "Trondheim", MALVIK: "Malvik", STJORDAL: "Stjørdal", LEVANGER: "Levanger", VERDAL: "Verdal"}


@dataclass
class ProxyCase:
    network: object                  # RoadNetwork (EPSG:25833)
    zones: object                    # GeoDataFrame: zone_id (= kommune), kommune, name, population, jobs, geometry
    kommuner: object                 # kommune polygons (EPSG:25833) for maps
    node_of: dict                    # kommune code -> node index


def _neighbour_pairs(polygons) -> np.ndarray:
    """Unordered pairs (i, j), i < j, of polygon rows that share a border (vectorised sjoin)."""
    buffered = gpd.GeoDataFrame({"row": np.arange(len(polygons))}, geometry=polygons.geometry.buffer(TOUCH_BUFFER_M),
                                crs=polygons.crs)
    joined = gpd.sjoin(buffered, buffered, predicate="intersects")
    pairs = joined[["row_left", "row_right"]].to_numpy()
    pairs = pairs[pairs[:, 0] < pairs[:, 1]]
    return np.unique(pairs, axis=0)


def _ferry_pairs(n: int, pairs: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """For each connected component other than the largest, the (component node, mainland node)
    pair with the shortest straight-line distance."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    g = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(g, directed=False)
    main = np.argmax(np.bincount(labels))
    mainland = np.flatnonzero(labels == main)
    tree = cKDTree(xy[mainland])
    out = []
    for comp in np.unique(labels):
        if comp == main:
            continue
        members = np.flatnonzero(labels == comp)
        dist, nearest = tree.query(xy[members])
        k = int(np.argmin(dist))
        out.append((members[k], mainland[nearest[k]]))
    return np.asarray(out, dtype=np.int64).reshape(-1, 2)


def _generic_time_s(dist_m: np.ndarray) -> np.ndarray:
    return dist_m * CIRCUITY / (PROXY_SPEED_KMH / 3.6)


def _ferry_time_s(dist_m: np.ndarray) -> np.ndarray:
    return dist_m * FERRY_CIRCUITY / (FERRY_SPEED_KMH / 3.6) + FERRY_WAIT_MIN * 60.0


def _calibrate_e6(links: pd.DataFrame, code: np.ndarray, xy: np.ndarray) -> pd.DataFrame:
    """Tag the E6 chain and set the calibrated baseline times (seconds)."""
    node = {c: i for i, c in enumerate(code)}
    links["ref"] = ""
    links["segment"] = ""
    key = {tuple(sorted((u, v))): lid for lid, u, v in zip(links.index, links["u"], links["v"])}
    seg_ids = []
    for a, b in zip(E6_CHAIN[:-1], E6_CHAIN[1:]):
        lid = key.get(tuple(sorted((node[a], node[b]))))
        if lid is None:
            raise InputError(f"proxy network: kommuner {a} and {b} are not neighbours in the polygon file; "
                             "the E6 corridor needs them adjacent. Check kommuner_2020.geojson.")
        links.loc[lid, ["ref", "segment"]] = ["E6", f"{NAMES[a]}–{NAMES[b]}"]
        seg_ids.append(lid)
    tm, ms, sl, _ = seg_ids
    d_tm = float(np.hypot(*(xy[node[TRONDHEIM]] - xy[node[MALVIK]])))
    d_ms = float(np.hypot(*(xy[node[MALVIK]] - xy[node[STJORDAL]])))
    south_s = (BASELINE_LEVANGER_TRONDHEIM_MIN - BASELINE_LEVANGER_STJORDAL_MIN) * 60.0
    t_tm = south_s * d_tm / (d_tm + d_ms)
    for lid, t in ((tm, t_tm), (ms, south_s - t_tm), (sl, BASELINE_LEVANGER_STJORDAL_MIN * 60.0)):
        links.loc[lid, ["time_fw_s", "time_bw_s"]] = [t, t]
    return links


def build_proxy_case(data_dir=None) -> ProxyCase:
    """Proxy network and kommune zones from the SSB/Kartverket files in ``data_dir`` (see module doc).

    Parameters
    ----------
    data_dir : path-like, optional
        The data folder (default ``$REGIO_DATA_DIR``).

    Returns
    -------
    ProxyCase
        Network (EPSG:25833), kommune zones (persons, jobs), kommune polygons, node per kommune.
    """
    cent = loaders.load_centroids(data_dir).sort_values("kommune").reset_index(drop=True).to_crs(NORWAY_CRS)
    polys = loaders.load_kommune_polygons(data_dir).to_crs(NORWAY_CRS)
    polys = polys.set_index("kommune").loc[cent["kommune"]].reset_index()
    code = cent["kommune"].to_numpy()
    xy = np.column_stack([cent.geometry.x, cent.geometry.y])
    land = _neighbour_pairs(polys)
    ferry = _ferry_pairs(len(code), land, xy)
    pairs = np.vstack([land, ferry])
    kind = np.array(["road"] * len(land) + ["ferry"] * len(ferry), dtype=object)
    dist = np.hypot(*(xy[pairs[:, 1]] - xy[pairs[:, 0]]).T)
    time_s = np.where(kind == "ferry", _ferry_time_s(dist), _generic_time_s(dist))
    length = dist * np.where(kind == "ferry", FERRY_CIRCUITY, CIRCUITY)
    links = gpd.GeoDataFrame(
        {"u": pairs[:, 0], "v": pairs[:, 1], "length_m": length, "time_fw_s": time_s, "time_bw_s": time_s.copy(),
         "kind": kind, "name": [f"{a}–{b}" for a, b in zip(code[pairs[:, 0]], code[pairs[:, 1]])]},
        geometry=shapely.linestrings(np.stack([xy[pairs[:, 0]], xy[pairs[:, 1]]], axis=1)), crs=NORWAY_CRS,
        index=pd.Index(np.arange(len(pairs), dtype=np.int64), name="link_id"))
    links = _calibrate_e6(links, code, xy)
    network = RoadNetwork(node_xy=xy, links=links, crs=NORWAY_CRS,
                          report={"proxy": "kommune centroid proxy network", "land_links": int(len(land)),
                                  "ferry_links": int(len(ferry))})
    pop = loaders.load_kommune_population_2020(data_dir).set_index("kommune")
    jobs = loaders.load_employment(data_dir, years=[2020]).set_index("kommune")["employed_by_workplace"]
    zones = gpd.GeoDataFrame({"zone_id": code, "kommune": code, "name": cent["name"].to_numpy(),
                              "population": pop.loc[code, "population"].to_numpy(dtype=float),
                              "jobs": jobs.loc[code].to_numpy(dtype=float)},
                             geometry=cent.geometry.values, crs=NORWAY_CRS)
    return ProxyCase(network=network, zones=zones, kommuner=polys, node_of={c: i for i, c in enumerate(code)})


def proxy_inputs(data_dir=None) -> dict:
    """The real inputs of the proxy case besides the network: the population by age and sex of
    1 January 2021 (SSB 07459, 2020 codes; the base of the cohort-component projection that gives
    the population path) and the BA regions of every kommune (the "regions" centring; the three
    kommuner without a BA region in the source are their own region).

    Parameters
    ----------
    data_dir : path-like, optional
        The data folder (default ``$REGIO_DATA_DIR``).

    Returns
    -------
    dict
        ``population`` (year, kommune, sex, age, population) and ``regions`` (kommune, region).
    """
    pop = loaders.load_population_by_age_sex(data_dir, years=[2021])
    regions = loaders.load_regions(data_dir, fill_missing="own")[["kommune", "ba_region_code"]]
    return {"population": pop, "regions": regions.rename(columns={"ba_region_code": "region"})}


def run_proxy_scenario(scenario_file, data_dir=None, impact=None, projected: bool = True, **kwargs):
    """Run a scenario TOML (e.g. examples/levanger/scenario.toml) on the PROXY network.

    Parameters
    ----------
    scenario_file : path-like
        The scenario TOML.
    data_dir : path-like, optional
        The data folder.
    impact : geoproc.scenario.impact.ImpactOptions, optional
        Default: the file's [impact].
    projected : bool
        Use the projected population (:func:`proxy_inputs`) as the population path and the BA
        regions for the competition table; False = the 2020 population held constant.
    **kwargs
        Other keyword arguments of :func:`geoproc.scenario.run_scenarios`.

    Returns
    -------
    geoproc.scenario.ScenarioRun
        Kommune polygons attached for maps.
    """
    case = build_proxy_case(data_dir)
    scen = load_scenarios(scenario_file)
    extra = proxy_inputs(data_dir) if projected else {}
    return run_scenarios(scen, case.network, case.zones, group_col="kommune", group_polygons=case.kommuner,
                         impact=impact, max_snap_m=1.0, **{**extra, **kwargs})


def run_proxy_portfolio(portfolio_file, data_dir=None, executor=None, **kwargs):
    """Run a portfolio TOML (e.g. examples/levanger/portfolio.toml) on the PROXY network.

    Parameters
    ----------
    portfolio_file : path-like
        The portfolio TOML.
    data_dir : path-like, optional
        The data folder.
    executor : optional
        Where the projects run (:mod:`geoproc.scenario.executor`).
    **kwargs
        Other keyword arguments of :func:`geoproc.scenario.run_scenarios`.

    Returns
    -------
    geoproc.scenario.ScenarioRun
        With ``run.portfolio``.
    """
    case = build_proxy_case(data_dir)
    return run_portfolio(load_portfolio(portfolio_file), case.network, case.zones, executor=executor,
                         group_col="kommune", group_polygons=case.kommuner, max_snap_m=1.0,
                         **{**proxy_inputs(data_dir), **kwargs})
