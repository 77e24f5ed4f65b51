"""The whole ``regio scenario run`` job: scenario file + network + zones -> report folder.

:func:`scenario_job` checks the outputs against the inputs first, reads the zones and the
optional population, builds the network, evaluates every variant (:func:`run_scenarios`) and
writes the report (:func:`geoproc.scenario.report.write_report`) — all files committed together
with ``run_manifest.json``. The command line only parses arguments into the specs and prints.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from centrality.config import NetworkSpec, ZonesSpec, build_network
from centrality.errors import InputError
from centrality.fileio import OutputSet
from centrality.pipeline import read_zones
from centrality.settings import CentralitySettings
from centrality.zones import validate_zone_table
from geoproc.scenario import ScenarioRun, ScenarioSet, run_scenarios
from geoproc.scenario.impact import ImpactOptions, read_population_by_age_sex
from geoproc.scenario.report import write_report


@dataclass
class ScenarioJob:
    """What :func:`scenario_job` produced: the evaluated run and the files written."""

    run: ScenarioRun
    written: list[Path] = field(default_factory=list)


def scenario_job(scenarios: ScenarioSet, network: NetworkSpec, zones: ZonesSpec, out_dir: str | Path, *,
                 settings: CentralitySettings, impact: ImpactOptions, group_col: str | None = None,
                 method: str = "exact", maps: bool = True, scenario_file: str | Path | None = None,
                 progress: Callable[[int, int], None] | None = None) -> ScenarioJob:
    """Evaluate the variants of ``scenarios`` on ``network`` and write the report into ``out_dir``.

    Parameters
    ----------
    scenarios : ScenarioSet
        The parsed scenario file.
    network, zones : NetworkSpec, ZonesSpec
        What to read.
    out_dir : path-like
        Report folder (owned by the run).
    settings : CentralitySettings
        Centrality settings (:func:`geoproc.scenario.scenario_settings`).
    impact : ImpactOptions
        Horizon, coefficients, optional projection (``impact.data_dir``: the real-data projection;
        ``impact.projection`` reads ``impact.population_by_age_sex``; both before any computation
        and need ``group_col``).
    group_col : str, optional
        Kommune field of the zones.
    method : {"exact", "corridor"}
        Incremental recomputation (see :func:`run_scenarios`).
    maps : bool
        Draw the Δ maps.
    scenario_file : path-like, optional
        The file ``scenarios`` came from (an input: never overwritten).
    progress : callable, optional
        ``progress(done, total)`` of the travel-time searches.

    Returns
    -------
    ScenarioJob
    """
    impact.coefficient()                                 # bad model name -> error now
    if (impact.projection or impact.data_dir) and not group_col:
        raise InputError("the projection with and without the project is per kommune; pass --group-field "
                         "KOMMUNE_FIELD (kommune codes as in the population file; 2020 codes with --data-dir).")
    inputs = [scenario_file, network.path, zones.path, zones.raster, impact.population_by_age_sex]
    with OutputSet(inputs=inputs, command="regio scenario run") as outputs:
        outputs.declare_folder(out_dir, owned=True, what="--out")
        outputs.check()
        population = read_population_by_age_sex(impact.population_by_age_sex) if impact.projection else None
        zones_gdf = read_zones(zones.path, layer=zones.layer)
        validate_zone_table(zones_gdf, zones.id_field, zones.pop_field, zones.jobs_field)
        net = build_network(network)
        run = run_scenarios(scenarios, net, zones_gdf, id_col=zones.id_field, pop_col=zones.pop_field,
                            jobs_col=zones.jobs_field, group_col=group_col, settings=settings, impact=impact,
                            progress=progress, method=method, population=population)
        outputs.rests_on["network"] = network.describe()
        write_report(run, out_dir, maps=maps, outputs=outputs)
        return ScenarioJob(run, outputs.commit())


__all__ = ["ScenarioJob", "scenario_job"]
