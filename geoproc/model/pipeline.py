"""The model's public entry points in one namespace (kept for existing imports).

The code lives in the stage modules; this module only re-exports them:

- :mod:`geoproc.model.inputs` (stage 1): :class:`ModelTables`, :func:`net_migration_residual`;
- :mod:`geoproc.model.run` (stages 2–4 in order): :func:`run_model`, :class:`ModelResult`;
- :mod:`geoproc.model.estimate`: :func:`estimation_data`, :func:`estimate_model`;
- :mod:`geoproc.model.projection` (stage 5): :func:`run_projection`, :func:`projection_expected_fn`;
- :mod:`geoproc.model.scenario_projection` (stage 6): :func:`project_with_centrality_delta`,
  :class:`ScenarioProjection`;
- :mod:`geoproc.model.decompose`: :func:`schedule_tables`.
"""
from __future__ import annotations

from geoproc.model.decompose import schedule_tables
from geoproc.model.estimate import estimate_model, estimation_data
from geoproc.model.inputs import ModelTables, net_migration_residual
from geoproc.model.projection import population_weighted_mean, projection_expected_fn, run_projection
from geoproc.model.run import DEFAULT_IMMIGRATION_RATE, ModelResult, run_model
from geoproc.model.scenario_projection import ScenarioProjection, project_with_centrality_delta

__all__ = ["ModelTables", "ModelResult", "run_model", "estimation_data", "estimate_model", "net_migration_residual",
           "projection_expected_fn", "population_weighted_mean", "run_projection", "ScenarioProjection",
           "project_with_centrality_delta", "schedule_tables", "DEFAULT_IMMIGRATION_RATE"]
