"""A kommune-level PROXY road network for Norway, built from the data folder: the network of the
Levanger E6 case when no OSM road network is at hand (offline, tests) and of the PROXY centrality
of real-data model runs (:mod:`geoproc.model.default_centrality`). Scenario runs on it:
:mod:`geoproc.scenario.proxy_case`.

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
  the straight-line distances; Levanger–Verdal keeps the generic formula. A calibrated link stands
  for the published route (from southern Levanger), not for the line between the two kommune
  points, so its ``length_m`` is its calibrated time at the proxy speed (70 km/h: Stjørdal–Levanger
  24.5 km, Trondheim–Stjørdal 38.5 km); the scenario's 11 and 27 min then imply 134 and 86 km/h,
  inside the plausible range scenario edits are checked against (:mod:`centrality.plausibility`),
  where the kommune points' distance × 1.35 (29 km for Stjørdal–Levanger) would imply 158 km/h.

The published times are for "the southern part of Levanger"; the proxy has one point per kommune,
so the whole of Levanger is treated as that point (this overstates the kommune-wide gain; see
examples/levanger/README.md; :func:`build_proxy_case`'s ``split`` divides a kommune
into parts). The proxy is coarse: paths run centroid to centroid. Its other
times are compared with typical real driving times in that README.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from centrality.crs import NORWAY_CRS
from centrality.errors import InputError
from centrality.network import RoadNetwork
from geoproc.data import loaders

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
    notes: list = field(default_factory=list)   # how kommuner were split into zones (split=...)


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
        links.loc[lid, ["time_fw_s", "time_bw_s", "length_m"]] = [t, t, t * PROXY_SPEED_KMH / 3.6]
    return links


def build_proxy_case(data_dir=None, split: pd.DataFrame | None = None) -> ProxyCase:
    """Proxy network and kommune zones from the SSB/Kartverket files in ``data_dir`` (see module doc).

    Parameters
    ----------
    data_dir : path-like, optional
        The data folder (default ``$REGIO_DATA_DIR``).
    split : pandas.DataFrame, optional
        Kommuner divided into parts (:func:`split_parts`): ``kommune, part, lon, lat`` (degrees,
        EPSG:4326) and ``population`` (persons, e.g. the sum of the part's grunnkrets) or
        ``share`` (of the kommune's population, summing to 1), optional ``jobs`` / ``jobs_share``
        (default: the population share) and ``anchor`` (true for the one part the kommune point
        stands for; default the first part listed). The anchor keeps zone id = kommune code on the
        kommune's node; every other part is a zone ``<kommune>-<part>`` on a node of its own, joined
        to the kommune's node by a two-way road link of straight-line distance (part to anchor
        point) × 1.35 / 70 km/h. The kommune's 2020 population and jobs are divided by the shares.

    Returns
    -------
    ProxyCase
        Network (EPSG:25833), zones (one per kommune, or per part), kommune polygons, node per
        kommune, and ``notes`` saying how kommuner were split.
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
    pop = loaders.load_kommune_population_2020(data_dir).set_index("kommune")
    jobs = loaders.load_employment(data_dir, years=[2020]).set_index("kommune")["employed_by_workplace"]
    zones = gpd.GeoDataFrame({"zone_id": code, "kommune": code, "name": cent["name"].to_numpy(),
                              "population": pop.loc[code, "population"].to_numpy(dtype=float),
                              "jobs": jobs.loc[code].to_numpy(dtype=float)},
                             geometry=cent.geometry.values, crs=NORWAY_CRS)
    notes: list[str] = []
    if split is not None:
        parts = split_parts(split, zones)
        xy, links, zones, notes = _apply_split(parts, xy, links, zones, {c: i for i, c in enumerate(code)})
    report = {"proxy": "kommune centroid proxy network", "land_links": int(len(land)), "ferry_links": int(len(ferry))}
    if notes:
        report["zoning"] = " ".join(notes)
    network = RoadNetwork(node_xy=xy, links=links, crs=NORWAY_CRS, report=report)
    return ProxyCase(network=network, zones=zones, kommuner=polys, node_of={c: i for i, c in enumerate(code)},
                     notes=notes)


SPLIT_COLUMNS = ("kommune", "part", "lon", "lat")


def split_parts(split: pd.DataFrame, zones: pd.DataFrame) -> pd.DataFrame:
    """Validate a kommune split table and turn it into shares (see :func:`build_proxy_case`).

    Parameters
    ----------
    split : pandas.DataFrame
        kommune, part, lon, lat, population or share [, jobs or jobs_share] [, anchor].
    zones : pandas.DataFrame
        The proxy's kommune zones (kommune, population, jobs).

    Returns
    -------
    pandas.DataFrame
        kommune, part, lon, lat, share, jobs_share, anchor (bool), given_population (persons or NaN).

    Raises
    ------
    InputError
        For missing columns, unknown kommuner, fewer than two parts, shares that are negative or do
        not sum to 1, or not exactly one anchor per kommune.
    """
    missing = [c for c in SPLIT_COLUMNS if c not in split.columns]
    if missing or not ({"population", "share"} & set(split.columns)):
        raise InputError(f"kommune split table: columns {', '.join(missing) or '—'} missing; give kommune, part, "
                         "lon, lat (degrees) and population (persons, e.g. summed grunnkrets) or share (fractions "
                         "summing to 1 per kommune), optionally jobs / jobs_share and anchor.")
    df = split.copy()
    df["kommune"] = df["kommune"].astype(str).str.zfill(4)
    df["part"] = df["part"].astype(str)
    unknown = sorted(set(df["kommune"]) - set(zones["kommune"].astype(str)))
    if unknown:
        raise InputError(f"kommune split table: {', '.join(unknown[:5])} are not 2020 kommune codes of the proxy; "
                         "use 4-digit 2020 codes (e.g. 5037 Levanger).")
    for col in ("lon", "lat", "population", "share", "jobs", "jobs_share"):
        if col in df.columns:
            df[col] = pd.to_numeric(df[col], errors="coerce")
            if df[col].isna().any() or (df[col] < 0).any():
                raise InputError(f"kommune split table: column {col!r} has missing, non-numeric or negative values.")
    if not (df["lon"].between(4, 31.5) & df["lat"].between(57.5, 71.5)).all():
        raise InputError("kommune split table: lon/lat must be degrees (EPSG:4326) inside Norway, e.g. lon 11.0, "
                         "lat 63.6.")
    total = zones.set_index(zones["kommune"].astype(str))
    rows = []
    for k, g in df.groupby("kommune", sort=False):
        if len(g) < 2 or g["part"].duplicated().any():
            raise InputError(f"kommune split table: kommune {k} needs at least two parts with distinct names.")
        if "share" in g.columns and g["share"].notna().all():
            share = g["share"].to_numpy(dtype=float)
            given = np.full(len(g), np.nan)
        else:
            given = g["population"].to_numpy(dtype=float)
            share = given / given.sum() if given.sum() > 0 else given
        if abs(share.sum() - 1.0) > 1e-6:
            raise InputError(f"kommune split table: the shares of kommune {k} sum to {share.sum():.4f}, not 1.")
        if "jobs_share" in g.columns:
            jshare = g["jobs_share"].to_numpy(dtype=float)
        elif "jobs" in g.columns:
            jshare = g["jobs"].to_numpy(dtype=float) / max(float(g["jobs"].sum()), 1e-12)
        else:
            jshare = share
        if abs(jshare.sum() - 1.0) > 1e-6:
            raise InputError(f"kommune split table: the jobs shares of kommune {k} sum to {jshare.sum():.4f}, not 1.")
        anchor = g["anchor"].astype(str).str.lower().isin(["true", "1", "yes"]).to_numpy() if "anchor" in g.columns \
            else np.arange(len(g)) == 0
        if anchor.sum() != 1:
            raise InputError(f"kommune split table: kommune {k} needs exactly one anchor part (the part the kommune "
                             f"point stands for), got {int(anchor.sum())}.")
        rows.append(pd.DataFrame({"kommune": k, "part": g["part"].to_numpy(), "lon": g["lon"].to_numpy(),
                                  "lat": g["lat"].to_numpy(), "share": share, "jobs_share": jshare,
                                  "anchor": anchor, "given_population": given,
                                  "kommune_population": float(total.loc[k, "population"])}))
    return pd.concat(rows, ignore_index=True)


def _apply_split(parts: pd.DataFrame, xy: np.ndarray, links: gpd.GeoDataFrame, zones: gpd.GeoDataFrame,
                 node_of: dict) -> tuple:
    """Nodes, access links and zones for the parts of split kommuner (see :func:`build_proxy_case`)."""
    pts = gpd.GeoSeries(gpd.points_from_xy(parts["lon"], parts["lat"]), crs="EPSG:4326").to_crs(NORWAY_CRS)
    parts = parts.assign(x=pts.x.to_numpy(), y=pts.y.to_numpy())
    new_xy, new_links, new_zones, notes = [xy], [], [], []
    next_node, next_link = len(xy), int(links.index.max()) + 1
    by_code = zones.set_index("kommune")
    for k, g in parts.groupby("kommune", sort=False):
        base = by_code.loc[k]
        anchor = g[g["anchor"]].iloc[0]
        described = []
        for r in g.itertuples(index=False):
            zid = k if r.anchor else f"{k}-{r.part}"
            if r.anchor:
                node, geom = node_of[k], base.geometry
            else:
                node = next_node
                next_node += 1
                new_xy.append(np.array([[r.x, r.y]]))
                d = float(np.hypot(r.x - anchor.x, r.y - anchor.y))
                t = float(_generic_time_s(np.array([d]))[0])
                new_links.append({"link_id": next_link, "u": node_of[k], "v": node, "length_m": d * CIRCUITY,
                                  "time_fw_s": t, "time_bw_s": t, "kind": "road", "name": f"{k} {anchor.part}–{r.part}",
                                  "ref": "", "segment": f"{base['name']} {anchor.part}–{r.part}",
                                  "geometry": shapely.LineString([xy[node_of[k]], (r.x, r.y)])})
                next_link += 1
                geom = shapely.Point(r.x, r.y)
                described.append(f"{r.part} {t / 60:.1f} min from {anchor.part}")
            new_zones.append({"zone_id": zid, "kommune": k, "name": base["name"], "part": r.part,
                              "population": base["population"] * r.share, "jobs": base["jobs"] * r.jobs_share,
                              "geometry": geom, "node": node})
        src = ("populations given per part" if np.isfinite(g["given_population"]).all() else "shares given")
        shares = ", ".join(f"{r.part} {100 * r.share:.0f} %" for r in g.itertuples(index=False))
        notes.append(f"{base['name']} ({k}) split into {len(g)} zones ({shares} of its population; {src}; jobs "
                     f"{'as given' if not np.allclose(g['jobs_share'], g['share']) else 'by the same shares'}); "
                     f"{anchor.part} stands at the kommune point" + (f", {'; '.join(described)} by a proxy link"
                                                                      if described else "") + ".")
    split_codes = set(parts["kommune"])
    kept = zones[~zones["kommune"].isin(split_codes)].assign(part="")
    added = gpd.GeoDataFrame(new_zones, geometry="geometry", crs=NORWAY_CRS).drop(columns="node")
    zones = gpd.GeoDataFrame(pd.concat([kept, added], ignore_index=True), geometry="geometry", crs=NORWAY_CRS)
    if new_links:
        extra = gpd.GeoDataFrame(new_links, geometry="geometry", crs=NORWAY_CRS).set_index("link_id")
        links = gpd.GeoDataFrame(pd.concat([links, extra]), geometry="geometry", crs=NORWAY_CRS)
        links.index.name = "link_id"
    return np.vstack(new_xy), links, zones, notes
