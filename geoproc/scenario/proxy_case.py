"""Scenario runs on the kommune PROXY network (:mod:`geoproc.data.proxy_network`): the Levanger
E6 case (examples/levanger) and portfolios of projects on it, offline from the data folder.

The population path is the real-data cohort-component projection of the same folder
(:meth:`geoproc.model.scenario_projection.ProjectionBase.from_data`: SSB population by sex and age,
HMD/HFD national schedules, each kommune's fertility, mortality and migration pattern, the model's
migration), run without and with the project; the BA regions give the "regions" competition
centring. ``split`` divides kommuner into parts (:func:`geoproc.data.proxy_network.build_proxy_case`).
"""
from __future__ import annotations

from dataclasses import replace

import pandas as pd

from geoproc.data import loaders
from geoproc.data.paths import data_folder
from geoproc.data.proxy_network import build_proxy_case
from geoproc.scenario import load_scenarios, run_scenarios
from geoproc.scenario.impact import ImpactOptions
from geoproc.scenario.portfolio import load_portfolio, run_portfolio


def proxy_regions(data_dir=None) -> pd.DataFrame:
    """The BA region of every 2020 kommune (the "regions" centring of the competition table).

    The three kommuner without a BA region in the source are their own region.

    Parameters
    ----------
    data_dir : path-like, optional
        The data folder (default ``$REGIO_DATA_DIR``).

    Returns
    -------
    pandas.DataFrame
        kommune, region.
    """
    regions = loaders.load_regions(data_dir, fill_missing="own")[["kommune", "ba_region_code"]]
    return regions.rename(columns={"ba_region_code": "region"})


def _impact(scen, data_dir, impact: ImpactOptions | None, projected: bool) -> ImpactOptions:
    """The file's [impact] with the data folder's projection as population base (unless another is given)."""
    opts = impact or ImpactOptions.from_dict(scen.impact)
    if projected and not (opts.data_dir or opts.population_path or opts.population_by_age_sex):
        opts = replace(opts, data_dir=str(data_folder(data_dir)))
    if not projected:
        opts = replace(opts, data_dir=None, projection=False)
    return opts


def run_proxy_scenario(scenario_file, data_dir=None, impact: ImpactOptions | None = None, projected: bool = True,
                       split: pd.DataFrame | None = None, **kwargs):
    """Run a scenario TOML (e.g. examples/levanger/scenario.toml) on the PROXY network.

    Parameters
    ----------
    scenario_file : path-like
        The scenario TOML.
    data_dir : path-like, optional
        The data folder.
    impact : geoproc.scenario.impact.ImpactOptions, optional
        Default: the file's [impact].
    projected : bool, default True
        The population path is the data folder's projection without the project (and the
        projection with it the cross-check); False = the 2020 population held constant.
    split : pandas.DataFrame, optional
        Kommuner divided into parts (:func:`geoproc.data.proxy_network.build_proxy_case`).
    **kwargs
        Other keyword arguments of :func:`geoproc.scenario.run_scenarios`.

    Returns
    -------
    geoproc.scenario.ScenarioRun
        Kommune polygons attached for maps.
    """
    case = build_proxy_case(data_dir, split=split)
    scen = load_scenarios(scenario_file)
    return run_scenarios(scen, case.network, case.zones, group_col="kommune", group_polygons=case.kommuner,
                         impact=_impact(scen, data_dir, impact, projected), max_snap_m=1.0,
                         **{"regions": proxy_regions(data_dir), **kwargs})


def run_proxy_portfolio(portfolio_file, data_dir=None, executor=None, projected: bool = True,
                        split: pd.DataFrame | None = None, **kwargs):
    """Run a portfolio TOML (e.g. examples/levanger/portfolio.toml) on the PROXY network.

    Parameters
    ----------
    portfolio_file : path-like
        The portfolio TOML.
    data_dir : path-like, optional
        The data folder.
    executor : optional
        Where the projects run (a :mod:`centrality.parallel` executor; None = this process).
    projected : bool, default True
        The data folder's projection as population base (see :func:`run_proxy_scenario`).
    split : pandas.DataFrame, optional
        Kommuner divided into parts.
    **kwargs
        Other keyword arguments of :func:`geoproc.scenario.run_scenarios`.

    Returns
    -------
    geoproc.scenario.ScenarioRun
        With ``run.portfolio``.
    """
    case = build_proxy_case(data_dir, split=split)
    port = load_portfolio(portfolio_file)
    return run_portfolio(port, case.network, case.zones, executor=executor, group_col="kommune",
                         group_polygons=case.kommuner, max_snap_m=1.0,
                         impact=_impact(port.scenarios, data_dir, kwargs.pop("impact", None), projected),
                         **{"regions": proxy_regions(data_dir), **kwargs})
