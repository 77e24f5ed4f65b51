"""Portfolio runs: many road projects against one baseline, each alone and all together.

A portfolio TOML file lists projects (e.g. a national transport plan's list), each with its
edits (the syntax of :mod:`geoproc.scenario.definition`) and an optional cost::

    [portfolio]
    name = "NTP 2025–2036, Trøndelag projects"
    cost_unit = "MNOK"

    [inputs]                      # as in a scenario file (network, zones)
    [impact]                      # horizon, competition, population path ... (shared)
    [uncertainty]                 # sensitivity runs (shared; enabled = false for speed)
    [dask]
    scheduler = "tcp://10.0.0.5:8786"   # optional: run the projects on a Dask cluster

    [[projects]]
    name = "e6_levanger"
    cost = 9500
    opening_year = 2030
      [[projects.edits]]
      action = "set_time"
      where = 'segment == "Stjørdal–Levanger"'
      time_min = 11

:func:`run_portfolio` evaluates every project alone and all projects together (``all_projects``,
every edit at once; two projects editing the same link are refused before computing) against
one baseline, through the executor layer of :mod:`centrality.parallel` (threads in this process,
or a Dask cluster from :func:`~centrality.parallel.make_executor` with the network, zones and
baseline OD scattered once; the output is identical).

Ranking (:class:`PortfolioResult`): by Δ population over the horizon, **gross** (national total
of the local effect) and **net** (the gain of the kommuner that win net of competition, Σ
max(net_i, 0) — with population-weighted centring the other kommuner lose exactly as much, so
this is the number of residents the project moves to the winners), and by gross Δ population
per unit of cost. Interaction:
the sum of the singles against the combined run, for the annual effect at full ramp-up and for
Δ population (the combined run opens when its last project opens, so with different opening
years the horizon figures compare different timings; the annual figures do not).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from centrality.config import build_network
from centrality.errors import InputError, check_keys
from centrality.fileio import OutputSet, read_toml
from centrality.parallel import make_executor
from centrality.pipeline import read_zones
from centrality.zones import validate_zone_table
from geoproc.scenario import run_scenarios, scenario_settings
from geoproc.scenario.definition import ScenarioSet, parse_scenarios, resolve
from geoproc.scenario.impact import ImpactOptions
from geoproc.scenario.job import ScenarioJob
from geoproc.scenario.report import _table, per_year, persons, write_report

COMBINED = "all_projects"
TOP_KEYS = ("portfolio", "inputs", "impact", "centrality", "uncertainty", "report", "places", "projects", "dask")
HEAD_KEYS = ("name", "description", "crs", "cost_unit")


@dataclass
class Portfolio:
    """A parsed portfolio: the projects as scenario variants (plus the combined one, last)."""

    scenarios: ScenarioSet
    costs: dict                    # project name -> cost (float) or None
    cost_unit: str = ""
    dask: dict = field(default_factory=dict)

    @property
    def projects(self) -> list[str]:
        """The project names (without the combined run).

        Returns
        -------
        list of str
        """
        return [v.name for v in self.scenarios.variants if v.name != COMBINED]


def parse_portfolio(data: dict, base_dir: str | Path = ".") -> Portfolio:
    """A :class:`Portfolio` from a TOML dictionary.

    Parameters
    ----------
    data : dict
        The file's content.
    base_dir : path-like
        Folder for relative paths (GeoJSON, population files).

    Returns
    -------
    Portfolio

    Raises
    ------
    InputError
        For unknown keys, bad costs, no projects or a project named like the combined run.
    """
    check_keys(list(data), TOP_KEYS, "portfolio file")
    head = dict(data.get("portfolio", {}))
    check_keys(list(head), HEAD_KEYS, "[portfolio]")
    dask = dict(data.get("dask", {}))
    check_keys(list(dask), ("scheduler",), "[dask]")
    projects = data.get("projects") or []
    if len(projects) < 1:
        raise InputError("portfolio file has no [[projects]]. List each project with its name, optional cost and "
                         "[[projects.edits]].")
    costs, variants = {}, []
    for i, p in enumerate(projects):
        if not isinstance(p, dict):
            raise InputError(f"project {i + 1}: a project must be a table with name, edits and optional cost.")
        p = dict(p)
        cost = p.pop("cost", None)
        if cost is not None:
            try:
                cost = float(cost)
            except (TypeError, ValueError):
                raise InputError(f"project {p.get('name', i + 1)!r}: cost must be a number, got {cost!r}.") from None
            if not cost > 0:
                raise InputError(f"project {p.get('name', i + 1)!r}: cost must be positive, got {cost!r}.")
        costs[p.get("name")] = cost
        variants.append(p)
    if any(v.get("name") == COMBINED for v in variants):
        raise InputError(f"'{COMBINED}' is reserved for the combined run; rename that project.")
    openings = [v.get("opening_year") for v in variants if v.get("opening_year") is not None]
    combined = {"name": COMBINED, "description": "all projects of the portfolio together",
                "edits": [{**e, "label": f"{v.get('name')}: {e.get('label', e.get('action', ''))}"}
                          for v in variants for e in (v.get("edits") or [])]}
    if openings:
        combined["opening_year"] = max(openings)
    scen_data = {"scenario": {k: head[k] for k in ("name", "crs", "description") if k in head},
                 "variants": variants + [combined]}
    for key in ("inputs", "impact", "centrality", "uncertainty", "report", "places"):
        if key in data:
            scen_data[key] = data[key]
    scen = parse_scenarios(scen_data, base_dir=base_dir)
    return Portfolio(scen, costs, str(head.get("cost_unit", "")), dask)


def load_portfolio(path: str | Path) -> Portfolio:
    """Read a portfolio TOML file (paths inside it are relative to the file).

    Parameters
    ----------
    path : path-like
        The file.

    Returns
    -------
    Portfolio
    """
    path = Path(path)
    return parse_portfolio(read_toml(path, "portfolio file"), base_dir=path.parent)


def check_overlaps(portfolio: Portfolio, network) -> None:
    """Two projects may not edit the same link (their combination would be undefined).

    Parameters
    ----------
    portfolio : Portfolio
        The projects.
    network : centrality.network.RoadNetwork
        The baseline network the selections resolve against.

    Raises
    ------
    InputError
        Naming both projects and the shared link ids.
    """
    resolved = {rv.name: set(rv.edited_link_ids.tolist()) for rv in
                resolve(ScenarioSet(portfolio.scenarios.name, [v for v in portfolio.scenarios.variants
                                                                if v.name != COMBINED],
                                    geom_crs=portfolio.scenarios.geom_crs, base_dir=portfolio.scenarios.base_dir),
                        network)}
    names = list(resolved)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            both = sorted(resolved[a] & resolved[b])
            if both:
                raise InputError(f"projects '{a}' and '{b}' both edit link(s) {', '.join(map(str, both[:20]))}; "
                                 "a portfolio needs each link in at most one project (merge them or split the links).")


@dataclass
class PortfolioResult:
    """Ranking and interaction of a portfolio run (persons; cost in ``cost_unit``)."""

    ranking: pd.DataFrame
    interaction: pd.DataFrame
    cost_unit: str = ""
    end_year: int = 2040

    def html(self) -> str:
        """The portfolio section of report.html (ranking and interaction tables).

        Returns
        -------
        str
            HTML.
        """
        unit = self.cost_unit or "cost unit"
        rows = []
        for r in self.ranking.itertuples(index=False):
            pc = "–" if not np.isfinite(r.population_gross_per_cost) else f"{r.population_gross_per_cost:.3g}"
            rows.append([r.project, "–" if not np.isfinite(r.cost) else f"{r.cost:,.0f}".replace(",", "\u2009"),
                         per_year(r.migrants_per_year_gross), per_year(r.migrants_per_year_net),
                         persons(r.population_gross), persons(r.population_net), pc,
                         str(r.rank_gross), str(r.rank_net), "–" if r.rank_per_cost == 0 else str(r.rank_per_cost)])
        inter = [[r.figure, self._fmt(r.figure, r.sum_of_singles), self._fmt(r.figure, r.combined),
                  self._fmt(r.figure, r.difference), f"{r.ratio:.3f}" if np.isfinite(r.ratio) else "–"]
                 for r in self.interaction.itertuples(index=False)]
        return ("<h2>Portfolio: projects ranked</h2>"
                + _table(rows, ["project", f"cost ({unit})", "Δ migrants/yr gross", "Δ migrants/yr net (winners)",
                                f"Δ population {self.end_year} gross", f"Δ population {self.end_year} net (winners)",
                                f"Δ population gross per {unit}", "rank gross", "rank net", "rank per cost"])
                + "<p class='small'>Gross: national total of the local effect. Net (winners): the gain of the "
                  "kommuner that gain net of competition (with population-weighted centring the other kommuner lose "
                  "as much: the residents the project moves). Each project alone against the same baseline.</p>"
                + "<h3>Interaction: the projects together against the sum of the singles</h3>"
                + _table(inter, ["figure", "sum of singles", "all together", "together − sum", "ratio"])
                + "<p class='small'>A ratio below 1: the projects overlap (serve the same trips or compete for "
                  "the same residents); above 1: they reinforce each other (a chain of improvements). The "
                  "combined run opens when the last project opens.</p>")

    @staticmethod
    def _fmt(figure: str, x: float) -> str:
        return per_year(x) if "a year" in figure else persons(x)

    def write(self, outputs, out_dir) -> list[Path]:
        """Stage ``portfolio_ranking.csv`` and ``portfolio_interaction.csv``.

        Parameters
        ----------
        outputs : centrality.fileio.OutputSet
            The run's output set.
        out_dir : path-like
            The report folder.

        Returns
        -------
        list of pathlib.Path
        """
        out_dir = Path(out_dir)
        return [outputs.write_table(out_dir / "portfolio_ranking.csv", self.ranking),
                outputs.write_table(out_dir / "portfolio_interaction.csv", self.interaction)]


def _rank(values: np.ndarray) -> np.ndarray:
    """1 = largest; ties keep the file order; NaN gets 0 (not ranked)."""
    out = np.zeros(len(values), dtype=int)
    ok = np.flatnonzero(np.isfinite(values))
    order = ok[np.argsort(-values[ok], kind="stable")]
    out[order] = np.arange(1, len(order) + 1)
    return out


def portfolio_result(run, portfolio: Portfolio) -> PortfolioResult:
    """Ranking and interaction from an evaluated portfolio run.

    Parameters
    ----------
    run : geoproc.scenario.ScenarioRun
        Variants = the projects + the combined run.
    portfolio : Portfolio
        Costs and project names.

    Returns
    -------
    PortfolioResult
    """
    by_name = {v.name: v for v in run.variants}
    key = run.group_col or "zone_id"
    table = lambda v: v.groups if v.groups is not None else v.zones  # noqa: E731

    def winners(v, col):
        return float(np.clip(table(v)[col].to_numpy(dtype=float), 0.0, None).sum())

    rows = []
    for name in portfolio.projects:
        v = by_name[name]
        h = v.headline.set_index(["scope", "measure"])
        cost = portfolio.costs.get(name)
        gross = float(h.loc[("national", "gross"), "population"])
        net = winners(v, "delta_population_net")
        rows.append({"project": name, "cost": np.nan if cost is None else cost,
                     "migrants_per_year_gross": float(h.loc[("national", "gross"), "per_year"]),
                     "migrants_per_year_net": winners(v, "delta_migrants_net_per_year"),
                     "population_gross": gross, "population_gross_low": float(h.loc[("national", "gross"), "population_low"]),
                     "population_gross_high": float(h.loc[("national", "gross"), "population_high"]),
                     "population_net": net,
                     "national_net_population": float(h.loc[("national", "net"), "population"]),
                     "population_gross_per_cost": np.nan if cost is None else gross / cost,
                     "population_net_per_cost": np.nan if cost is None else net / cost})
    ranking = pd.DataFrame(rows)
    ranking["rank_gross"] = _rank(ranking["population_gross"].to_numpy(float))
    ranking["rank_net"] = _rank(ranking["population_net"].to_numpy(float))
    ranking["rank_per_cost"] = _rank(ranking["population_gross_per_cost"].to_numpy(float))
    ranking = ranking.sort_values("rank_gross", kind="stable").reset_index(drop=True)
    # interaction: national gross totals and the winners' net gain
    end = run.variants[0].impact.end_year

    def total(v, col, net):
        return winners(v, col) if net else float(table(v)[col].sum())

    figs = [("Δ migrants a year, gross (Norway)", "delta_migrants_per_year", False),
            ("Δ migrants a year, net gain of the winning kommuner", "delta_migrants_net_per_year", True),
            (f"Δ population by {end}, gross (Norway)", "delta_population", False),
            (f"Δ population by {end}, net gain of the winning kommuner", "delta_population_net", True)]
    inter = []
    for label, col, m in figs:
        singles = sum(total(by_name[n], col, m) for n in portfolio.projects)
        comb = total(by_name[COMBINED], col, m)
        inter.append({"figure": label, "sum_of_singles": singles, "combined": comb, "difference": comb - singles,
                      "ratio": comb / singles if singles else np.nan})
    return PortfolioResult(ranking, pd.DataFrame(inter), portfolio.cost_unit, end)


def portfolio_job(portfolio: Portfolio, network, zones, out_dir, *, settings, group_col: str | None = None,
                  method: str = "exact", maps: bool = True, portfolio_file=None, dask_scheduler: str | None = None,
                  data_dir=None, progress=None):
    """The whole ``regio scenario portfolio`` job: read, evaluate every project (on a Dask cluster
    when ``dask_scheduler`` or the file's ``[dask] scheduler`` is given) and write the report.

    Parameters
    ----------
    portfolio : Portfolio
        From :func:`load_portfolio`.
    network, zones : centrality.config.NetworkSpec, centrality.config.ZonesSpec
        What to read.
    out_dir : path-like
        Report folder (owned by the run).
    settings : CentralitySettings
        Centrality settings.
    group_col : str, optional
        Kommune field of the zones.
    method : {"exact", "corridor"}
        Incremental recomputation.
    maps : bool
        Draw the maps.
    portfolio_file : path-like, optional
        The file the portfolio came from (an input: never overwritten).
    dask_scheduler : str, optional
        Scheduler address; default ``portfolio.dask["scheduler"]``; none = this machine.
    data_dir : path-like, optional
        Data folder: its real-data projection is the population base (``[impact] data_dir``).
    progress : callable, optional
        ``progress(done, total)`` of the travel-time searches.

    Returns
    -------
    geoproc.scenario.job.ScenarioJob
        The run (with ``run.portfolio``) and the files written.
    """

    impact = ImpactOptions.from_dict(portfolio.scenarios.impact, data_dir=None if data_dir is None else str(data_dir))
    impact.coefficient()
    if (impact.projection or impact.data_dir) and not group_col:
        raise InputError("the projection with and without the project is per kommune; pass --group-field "
                         "KOMMUNE_FIELD (2020 kommune codes with --data-dir).")
    scheduler = dask_scheduler or portfolio.dask.get("scheduler")
    inputs = [portfolio_file, network.path, zones.path, zones.raster]
    with OutputSet(inputs=inputs, command="regio scenario portfolio") as outputs:
        outputs.declare_folder(out_dir, owned=True, what="--out")
        outputs.check()
        zones_gdf = read_zones(zones.path, layer=zones.layer)
        validate_zone_table(zones_gdf, zones.id_field, zones.pop_field, zones.jobs_field)
        net = build_network(network)
        with make_executor(scheduler) as executor:        # None: threads in this process
            run = run_portfolio(portfolio, net, zones_gdf, executor=executor, id_col=zones.id_field,
                                pop_col=zones.pop_field, jobs_col=zones.jobs_field, group_col=group_col,
                                settings=settings, impact=impact, progress=progress, method=method)
        outputs.rests_on["network"] = network.describe()
        write_report(run, out_dir, maps=maps, outputs=outputs)
        return ScenarioJob(run, outputs.commit())


def run_portfolio(portfolio: Portfolio, network, zones_gdf, *, executor=None, workers: int | None = None, **kwargs):
    """Evaluate every project alone and all together (see the module doc).

    Parameters
    ----------
    portfolio : Portfolio
        From :func:`load_portfolio`.
    network : centrality.network.RoadNetwork
        The baseline network.
    zones_gdf : geopandas.GeoDataFrame
        The zones (see :func:`geoproc.scenario.run_scenarios`).
    executor : optional
        A :mod:`centrality.parallel` executor for the projects, e.g. the
        :class:`~centrality.parallel.DaskExecutor` of :func:`~centrality.parallel.make_executor`;
        None = threads in this process.
    workers : int, optional
        Threads in this process (default: the settings' workers, at most one per project).
    **kwargs
        Other keyword arguments of :func:`geoproc.scenario.run_scenarios`.

    Returns
    -------
    geoproc.scenario.ScenarioRun
        With ``run.portfolio`` = :class:`PortfolioResult`.
    """
    check_overlaps(portfolio, network)
    if workers is None:
        settings = kwargs.get("settings") or scenario_settings(portfolio.scenarios)
        workers = min(settings.workers, len(portfolio.scenarios.variants))
    run = run_scenarios(portfolio.scenarios, network, zones_gdf, variant_executor=executor, variant_workers=workers,
                        **kwargs)
    run.portfolio = portfolio_result(run, portfolio)
    return run
