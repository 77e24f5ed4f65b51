"""The model's regressors and dependent variable from the real data folder (MODEL.md §2.1–§2.3).

:func:`model_inputs` builds one row per unit (kommune or BA region) and year from a harmonised
:class:`~geoproc.data.dataset.Dataset`:

- ``vra_t, vra_t1, vra_t2`` (+ ``_own``/``_neighbour``): weighted relative job growth with SSB
  11618 jobs and 03321 commuting shares, both harmonised to one structure; the lags use the
  shares of their own year (:func:`geoproc.model.vra.vra_with_lags`). Jobs 2017–2022 give VRA
  with two lags for 2020–2022 only;
- ``sentny``: index/1000 minus the **centring mean of the estimation sample** (``sentny_mean``):
  for an estimate on these rows the mean over the rows' units (kommuner, or BA regions with the
  population-weighted region index); for the published coefficients (estimated on region-years)
  the BA-region analogue (:func:`geoproc.model.default_centrality.region_centring_mean`);
- ``ds``: demographic employment supply (:func:`geoproc.model.ds.ds_abs_array`) from the
  population by age and sex on 1 January t, the national employment rates of t (documented age
  profile scaled to the 11618 total of t) and national death probabilities of t, divided by the
  unit's employed residents (11618 ``employed_by_residence``, ``ds_denominator='employed'``) or
  its jobs (``'jobs'``, the spec's printed form), centred on the mean over the centring units of
  the year;
- ``nm_actual``: net migration (cohort-component estimate calibrated to the national identity,
  or SSB's when given) / population 1 January t; ``national_rate``: Norway's net migration rate
  of the year (the decomposition's immigration baseline).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from centrality.errors import InputError
from geoproc.data.dataset import Dataset
from geoproc.model import ds as dsm
from geoproc.model import netmigration as nmm
from geoproc.model import vra as vram
from geoproc.model.default_centrality import PROXY_LABEL, proxy_centrality, region_centring_mean

LAG_TERMS = ("vra_t", "vra_t1", "vra_t2")


@dataclass
class ModelInputs:
    """Regressors and dependent variable per unit-year, and what they rest on.

    ``table``: year, <unit>, vra_t, vra_t1, vra_t2 (+ _own/_neighbour), sentny, ds, ds_raw,
    population, net_migration, nm_actual, national_rate; ``unit``; ``sentny_mean`` (index/1000);
    ``centring``: 'kommuner' or 'regions' (the units DS and sentny are centred over);
    ``net_migration``: the :class:`~geoproc.model.netmigration.NetMigration` used; ``notes``.
    """

    table: pd.DataFrame
    unit: str
    sentny_mean: float
    centring: str
    net_migration: nmm.NetMigration
    centrality: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.table["year"].unique())


def available_years(dataset: Dataset, lags: int = 2) -> list[int]:
    """Model years with VRA and ``lags`` lags in the jobs data and net migration in the population data."""
    jy = sorted(int(y) for y in dataset.jobs["year"].unique())
    py = sorted(int(y) for y in dataset.population["year"].unique())
    return [t for t in jy if all(t - k - 1 in jy for k in range(lags + 1)) and t + 1 in py]


def _region_table(dataset: Dataset) -> pd.DataFrame:
    return dataset.regions[["kommune", "region"]]


def _sentny(dataset: Dataset, centrality: pd.DataFrame, unit: str, sentny_mean: float | None, centring: str
            ) -> tuple[pd.DataFrame, float]:
    cent = centrality.assign(kommune=centrality["kommune"].astype(str))[["kommune", "index"]]
    missing = sorted(set(dataset.kommuner) - set(cent["kommune"]))
    if missing:
        raise InputError(f"centrality has no index for kommuner {missing[:5]}; give one per kommune of the "
                         f"{dataset.structure} structure.")
    pop = dataset.population[dataset.population["year"] == 2020][["kommune", "population"]]
    if unit == "region":
        df = cent.merge(pop, on="kommune").merge(_region_table(dataset), on="kommune")
        df["w"] = df["index"] * df["population"]
        g = df.groupby("region")[["w", "population"]].sum()
        table = pd.DataFrame({"region": g.index, "index": (g["w"] / g["population"]).to_numpy()})
    else:
        table = cent.rename(columns={})
    if sentny_mean is None:
        if centring == "regions":
            sentny_mean = region_centring_mean(cent, pop, _region_table(dataset))
        else:
            sentny_mean = float(table["index"].mean() / 1000.0)
    table["sentny"] = table["index"] / 1000.0 - float(sentny_mean)
    return table[[unit, "index", "sentny"]], float(sentny_mean)


def model_inputs(dataset: Dataset, *, years: Iterable[int] | None = None, unit: str = "kommune",
                 centrality: pd.DataFrame | None = None, sentny_mean: float | None = None,
                 centring: str | None = None, ds_denominator: str = "employed",
                 net_migration: nmm.NetMigration | None = None) -> ModelInputs:
    """Build the model's inputs on the real data (module docstring). ``centring``: 'kommuner' or
    'regions' (default: the rows' own units — kommuner for unit='kommune', regions for 'region')."""
    if unit not in ("kommune", "region"):
        raise InputError(f"unit must be 'kommune' or 'region', got {unit!r}.")
    if ds_denominator not in ("employed", "jobs"):
        raise InputError(f"ds_denominator must be 'employed' or 'jobs', not {ds_denominator!r}.")
    centring = centring or ("kommuner" if unit == "kommune" else "regions")
    if centring not in ("kommuner", "regions"):
        raise InputError(f"centring must be 'kommuner' or 'regions', not {centring!r}.")
    possible = available_years(dataset)
    years = possible if years is None else sorted({int(y) for y in years})
    bad = sorted(set(years) - set(possible))
    if bad:
        raise InputError(f"model years {bad} are not supported by the data: VRA with two lags needs jobs for t−3…t "
                         f"(SSB 11618: {int(dataset.jobs['year'].min())}–{int(dataset.jobs['year'].max())}) and net "
                         f"migration needs the population of 1 January t+1; possible years: {possible}.")
    notes: list[str] = []
    jobs, commuting = dataset.jobs[["year", "kommune", "jobs"]], dataset.commuting
    if unit == "region":
        regions = _region_table(dataset)
        jobs = vram.aggregate_jobs(jobs, regions)
        commuting = vram.aggregate_commuting(commuting, regions)
    lagged = vram.vra_with_lags(commuting, jobs, years, unit=unit, split=True)
    if centrality is None:
        centrality = proxy_centrality(dataset.data_dir)
        notes.append(PROXY_LABEL)
    sent, mean = _sentny(dataset, centrality, unit, sentny_mean, centring)
    ds_table = dsm.national_demographic_supply(dataset.population_age_sex, dataset.employment, dataset.jobs,
                                               dataset.national, years, unit=unit, regions=_region_table(dataset),
                                               denominator=ds_denominator, centring=centring)
    nm = net_migration or nmm.estimate_net_migration(dataset.population_age_sex, dataset.national, keep_by_age=False)
    notes.append(f"net migration: {nm.method}")
    notes += nm.notes
    nmt = nm.table[["year", "kommune", "population", "net_migration"]]
    if unit == "region":
        nmt = (nmt.merge(_region_table(dataset), on="kommune").groupby(["year", "region"], as_index=False)
               [["population", "net_migration"]].sum())
    table = (lagged.merge(sent[[unit, "sentny"]], on=unit, how="left")
             .merge(ds_table, on=["year", unit], how="left")
             .merge(nmt, on=["year", unit], how="left"))
    if table[["sentny", "ds", "net_migration"]].isna().any().any():
        rows = table[table[["sentny", "ds", "net_migration"]].isna().any(axis=1)][["year", unit]].head(5)
        raise InputError(f"model inputs incomplete for {rows.to_dict('records')}; the tables do not cover the same "
                         "units (use one harmonised dataset).")
    table["nm_actual"] = table["net_migration"] / table["population"]
    rates = nm.national.set_index("year")["rate"]
    table["national_rate"] = table["year"].map(rates)
    notes.append(f"sentny centred on {mean:.4f} (index/1000, mean over {centring}); DS over "
                 f"{'employed residents' if ds_denominator == 'employed' else 'jobs'}, centred over {centring} each year")
    return ModelInputs(table=table, unit=unit, sentny_mean=mean, centring=centring, net_migration=nm,
                       centrality=sent, notes=notes)
