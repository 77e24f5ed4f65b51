"""Default centrality for real-data model runs when no ``--centrality`` table is given: a PROXY.

The index is computed with our own engine (:func:`centrality.pipeline.run_centrality`) on the
kommune proxy road network of :mod:`geoproc.data.proxy_network`: one node and one zone per
kommune at its centroid (``kommune_centroids_2020.csv``) with its 2020 population and jobs (SSB
11618 ``employed_by_workplace``), links between neighbouring kommuner at straight-line distance ×
1.35 / 70 km/h, ferries to islands, the E6 corridor calibrated to the published Trondheim–Levanger
times. Jobs reachable are decay-weighted (exponential, a job 45 minutes away counts 10 %, 0 beyond
90 minutes) and the index is ``1000 · ln(1 + A) / ln(1 + A_Oslo)`` (jobs only, like *sentny*).

It rests on a proxy: every kommune is one point, so jobs in the own kommune count fully and
travel times are centroid to centroid. Compared with the 12 published 2020 SSB index values of
MODEL.md §1.1 the proxy's RMSE is about 55 index points (islands such as Træna and Utsira are
too central, the range is compressed: s.d. 109 against 143). Every output that uses it says so.
"""
from __future__ import annotations

import os
from functools import lru_cache

import pandas as pd

from centrality.pipeline import run_centrality
from geoproc.data.paths import data_folder
from geoproc.data.proxy_network import build_proxy_case

PROXY_LABEL = ("PROXY centrality: kommune-centroid proxy road network (geoproc.data.proxy_network), "
               "jobs-only index 1000·ln(1+A)/ln(1+A_Oslo); pass --centrality for a real index")


@lru_cache(maxsize=2)
def _proxy(path: str) -> pd.DataFrame:
    case = build_proxy_case(path)
    res = run_centrality(case.network, case.zones, id_col="zone_id", max_snap_m=1.0, reference_zone="0301")
    z = res.zones
    out = pd.DataFrame({"kommune": z["kommune"].astype(str).to_numpy(), "index": z["index"].to_numpy(dtype=float)})
    return out.sort_values("kommune").reset_index(drop=True)


def proxy_centrality(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """The PROXY centrality index of every 2020 kommune (module docstring).

    Parameters
    ----------
    data_dir : path-like, optional
        The data folder (default ``$REGIO_DATA_DIR``).

    Returns
    -------
    pandas.DataFrame
        kommune, index (0–1000); ``attrs['source']`` says PROXY and ``attrs['proxy']`` is True.
    """
    out = _proxy(str(data_folder(data_dir))).copy()
    out.attrs["source"] = PROXY_LABEL
    out.attrs["proxy"] = True
    return out


def region_centring_mean(index: pd.DataFrame, population: pd.DataFrame, regions: pd.DataFrame) -> float:
    """Unweighted mean over regions of the population-weighted region index, /1000.

    The published model 4 is estimated on region-years (73 political regions), so its sentny is
    centred on a mean over regions; those regions are not in our data, and the closest available
    analogue is the BA regions.

    Parameters
    ----------
    index : pandas.DataFrame
        kommune, index (0–1000).
    population : pandas.DataFrame
        kommune, population (persons; the weights).
    regions : pandas.DataFrame
        kommune, region.

    Returns
    -------
    float
        The centring mean (index/1000).
    """
    df = index.merge(population[["kommune", "population"]], on="kommune").merge(regions[["kommune", "region"]],
                                                                                 on="kommune")
    df["w"] = df["index"] * df["population"]
    g = df.groupby("region")[["w", "population"]].sum()
    return float((g["w"] / g["population"]).mean() / 1000.0)
