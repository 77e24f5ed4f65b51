"""Residential attractiveness, decomposition and re-estimation on the real data folder (MODEL.md §2.3–§2.5).

:func:`run_attractiveness`: model inputs (:func:`geoproc.model.real_inputs.model_inputs`) →
expected net migration with the chosen coefficients → attractiveness = actual − expected per unit
and year → cumulated percent of the start population, ranks, top/bottom 10 → decomposition of net
migration (national immigration baseline = Norway's net migration rate of the year × population,
centrality, own jobs, neighbour jobs, DS, attractiveness) and of population change (estimated births
and deaths against national schedules).

Coefficients: a published set (default ``model4``) — then the residuals do **not** average zero and
the result reports their national mean (``national_mean``) — or ``params='estimate'``: OLS
re-estimated on exactly these unit-years (:func:`estimate_on_inputs`), whose residuals average
zero by construction.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from centrality.errors import InputError
from geoproc.data.dataset import Dataset
from geoproc.model import attractiveness as ba
from geoproc.model import decompose as dec
from geoproc.model import estimate as est
from geoproc.model import expected as exp
from geoproc.model import real_inputs as ri
from geoproc.model.params import PUBLISHED_MODELS, ModelParams, get_params

TERMS = ("vra_t", "vra_t1", "vra_t2", "sentny", "ds")


@dataclass
class AttractivenessRun:
    """Everything one real-data attractiveness run produces (fractions unless stated).

    - ``inputs``: :class:`~geoproc.model.real_inputs.ModelInputs`
    - ``expected``: year, <unit>, intercept, one column per term, nm_expected
    - ``attractiveness``: year, <unit>, population, net_migration (persons), nm_actual,
      nm_expected, attractiveness, attractiveness_persons (persons)
    - ``cumulative``: <unit>, persons, attractiveness_pct (% of the start population),
      persons_per_year, n_years, rank; ``rankings``: group, rank, <unit>, attractiveness_pct
    - ``decomposition``/``decomposition_mean``: persons per year (see module docstring)
    - ``national_mean``: year (and 'all'), unweighted and population-weighted mean residual
    - ``estimate``: the OLS fit when ``params='estimate'``
    """

    unit: str
    params: ModelParams
    inputs: ri.ModelInputs
    expected: pd.DataFrame
    attractiveness: pd.DataFrame
    cumulative: pd.DataFrame
    rankings: pd.DataFrame
    decomposition: pd.DataFrame
    decomposition_mean: pd.DataFrame
    national_mean: pd.DataFrame
    estimate: est.EstimateResult | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def years(self) -> list[int]:
        return self.inputs.years

    def historical(self, last_n_years: int = 10) -> pd.Series:
        """Each unit's mean attractiveness over its last ``last_n_years`` years (fraction per year)."""
        a = self.attractiveness
        end = int(a["year"].max())
        sel = a[a["year"] > end - last_n_years]
        out = sel.groupby(self.unit)["attractiveness"].mean()
        out.name = "historical_attractiveness"
        return out


def estimate_on_inputs(inputs: ri.ModelInputs, terms: Sequence[str] = TERMS, *, by_year: bool = False,
                       label: str | None = None):
    """OLS on the rows of ``inputs`` (y = nm_actual); the returned params carry the centring mean
    (``params.sentny_mean`` when the parameter class has it; always in ``result.centring``)."""
    label = label or f"{inputs.unit}-years {inputs.years[0]}–{inputs.years[-1]}"
    res = est.estimate(inputs.table, terms=list(terms), by_year=by_year, label=label)
    return res


def _with_centring(params: ModelParams, mean: float, centring: str) -> ModelParams:
    if "sentny_mean" in getattr(ModelParams, "__dataclass_fields__", {}):
        return replace(params, sentny_mean=float(mean), centring=centring)
    return params


def run_attractiveness(dataset: Dataset, *, unit: str = "kommune", params: ModelParams | str | None = "model4",
                       years: Iterable[int] | None = None, centrality: pd.DataFrame | None = None,
                       ds_denominator: str = "employed", net_migration=None, n_ranked: int = 10
                       ) -> AttractivenessRun:
    """Attractiveness per unit and year on the real data (module docstring)."""
    dataset = dataset.for_run()
    estimated = isinstance(params, str) and params == "estimate"
    p = None if estimated else get_params(params)
    published = p is not None and p.name in PUBLISHED_MODELS
    stored_mean = None if (estimated or p is None) else getattr(p, "sentny_mean", None)
    stored_centring = None if (estimated or p is None) else getattr(p, "centring", None)
    centring = stored_centring or ("regions" if published else None)
    inputs = ri.model_inputs(dataset, years=years, unit=unit, centrality=centrality, sentny_mean=stored_mean,
                             centring=centring, ds_denominator=ds_denominator, net_migration=net_migration)
    notes = list(inputs.notes)
    fit = None
    if estimated:
        fit = estimate_on_inputs(inputs)
        p = _with_centring(fit.params, inputs.sentny_mean, inputs.centring)
        notes.append(f"coefficients re-estimated by OLS on these {fit.n} {unit}-years (adj. R² {fit.adj_r2:.3f})")
    elif published:
        notes.append(f"coefficients: published {p.name} (MODEL.md §2.3, estimated on 73 regions 2003–2021); "
                     "the residuals need not average zero here (see national_mean)")
    table = inputs.table
    terms = ["intercept"] + [t for t in TERMS if p.coefficients()[t] != 0.0]
    expected = exp.term_contributions(table, p, terms=terms)
    expected["nm_expected"] = expected[terms].sum(axis=1)
    actual = table[["year", unit, "population", "net_migration", "nm_actual"]]
    out = actual.merge(expected[["year", unit, "nm_expected"]], on=["year", unit])
    out["attractiveness"] = out["nm_actual"] - out["nm_expected"]
    out["attractiveness_persons"] = out["attractiveness"] * out["population"]
    pop = table[["year", unit, "population"]]
    cumulative = ba.cumulative_attractiveness(out[["year", unit, "attractiveness"]], pop)
    cumulative["rank"] = cumulative["attractiveness_pct"].rank(ascending=False, method="first").astype(int)
    cumulative = cumulative.sort_values("rank").reset_index(drop=True)
    rankings = ba.rankings(cumulative, "attractiveness_pct", n=n_ranked)
    # national mean of the residuals (unweighted over units, and weighted by population)
    nat = out.groupby("year").apply(lambda g: pd.Series({
        "mean": g["attractiveness"].mean(),
        "population_weighted_mean": (g["attractiveness"] * g["population"]).sum() / g["population"].sum(),
        "persons": g["attractiveness_persons"].sum()}), include_groups=False).reset_index()
    allrow = pd.DataFrame([{"year": "all", "mean": out["attractiveness"].mean(),
                            "population_weighted_mean": out["attractiveness_persons"].sum() / out["population"].sum(),
                            "persons": out["attractiveness_persons"].sum() / len(inputs.years)}])
    national_mean = pd.concat([nat.astype({"year": object}), allrow], ignore_index=True)
    notes.append(f"national mean of attractiveness over {unit}-years: {100 * allrow['mean'].iloc[0]:+.3f} % "
                 f"(unweighted), {100 * allrow['population_weighted_mean'].iloc[0]:+.3f} % (population-weighted)")
    # decomposition (national immigration baseline = Norway's net migration rate of the year)
    rates = dict(zip(table["year"], table["national_rate"]))
    regressors = table.drop(columns=["population", "net_migration"])
    decomposition = dec.decompose_net_migration(regressors, pop, table[["year", unit, "net_migration"]], rates, p)
    nm = inputs.net_migration
    if "births" in nm.table.columns and nm.method == ri.nmm.METHOD_ESTIMATED:
        decomposition = _with_natural_change(decomposition, dataset, nm, unit, inputs.years)
        notes.append("births and deaths per kommune are ESTIMATES (national schedules with the kommune's fertility "
                     "level, calibrated to the national totals), not SSB counts")
    decomposition_mean = dec.average_per_year(decomposition)
    notes = list(dict.fromkeys(notes + dataset.national.notes()))
    return AttractivenessRun(unit=unit, params=p, inputs=inputs, expected=expected, attractiveness=out,
                             cumulative=cumulative, rankings=rankings, decomposition=decomposition,
                             decomposition_mean=decomposition_mean, national_mean=national_mean, estimate=fit,
                             notes=notes)


def _with_natural_change(migration: pd.DataFrame, dataset: Dataset, nm, unit: str, years: Sequence[int]
                         ) -> pd.DataFrame:
    pas = dataset.population_age_sex
    pas = pas[pas["year"].isin(list(years))]
    bd = nm.table[nm.table["year"].isin(list(years))][["year", "kommune", "births", "deaths"]]
    if unit == "region":
        reg = dataset.regions[["kommune", "region"]]
        pas = pas.merge(reg, on="kommune").groupby(["year", "region", "sex", "age"], as_index=False)["population"].sum()
        bd = bd.merge(reg, on="kommune").groupby(["year", "region"], as_index=False)[["births", "deaths"]].sum()
    fert = dataset.national.fertility_table(years)
    mort = dataset.national.mortality_table(years)
    natural = dec.natural_change(pas, bd[["year", unit, "births"]], bd[["year", unit, "deaths"]], fert, mort)
    return dec.decompose_population_change(natural, migration)


def estimation_table(dataset: Dataset, *, units: Sequence[str] = ("kommune", "region"), by_year: bool = True,
                     centrality: pd.DataFrame | None = None, ds_denominator: str = "employed",
                     net_migration=None) -> tuple[pd.DataFrame, dict]:
    """Re-estimate model 4 on every unit level the data allow, beside the published model 4.

    Returns ``(table, fits)``: ``table`` has one row per model × term (term, estimate, se, t, p,
    plus n, adj_r2, resid_se per model; model = 'published model 4', 'kommune-years 2020–2022',
    'region-years 2020–2022', and by-year fits 'kommune 2020' …); ``fits`` maps the model label to
    its :class:`~geoproc.model.estimate.EstimateResult` (and the ModelInputs under ``'inputs:<unit>'``).
    """
    rows = []
    pub = PUBLISHED_MODELS["model4"]
    for term, b in pub.coefficients().items():
        if term == "intercept" or b != 0.0:
            rows.append({"model": "published model 4", "unit": "73 political regions", "years": "2003–2021",
                         "term": term, "estimate": b, "se": pub.se.get(term, np.nan), "n": pub.n_obs,
                         "adj_r2": pub.adj_r2, "resid_se": pub.resid_se})
    fits: dict = {}
    for unit in units:
        inputs = ri.model_inputs(dataset, unit=unit, centrality=centrality, ds_denominator=ds_denominator,
                                 net_migration=net_migration)
        fits[f"inputs:{unit}"] = inputs
        span = f"{inputs.years[0]}–{inputs.years[-1]}"
        label = f"{unit}-years {span}"
        fit = estimate_on_inputs(inputs, label=label)
        fits[label] = fit
        results = [(label, span, fit)]
        # the same with Norway's net migration rate of each year taken out of the dependent variable
        rel_label = f"{label}, NM − national rate"
        rel = est.estimate(inputs.table.assign(nm_relative=inputs.table["nm_actual"] - inputs.table["national_rate"]),
                           terms=list(TERMS), y="nm_relative", label=rel_label)
        fits[rel_label] = rel
        results.append((rel_label, span, rel))
        if by_year:
            for y, r in estimate_on_inputs(inputs, by_year=True, label=unit).items():
                fits[f"{unit} {y}"] = r
                results.append((f"{unit} {y}", str(y), r))
        n_units = inputs.table[unit].nunique()
        for name, span_y, r in results:
            for c in r.coefficients.itertuples():
                rows.append({"model": name, "unit": f"{n_units} {'kommuner' if unit == 'kommune' else 'BA regions'}",
                             "years": span_y, "term": c.term, "estimate": c.estimate, "se": c.se, "t": c.t,
                             "p": c.p, "n": r.n, "adj_r2": r.adj_r2, "resid_se": r.resid_se,
                             "sentny_mean": inputs.sentny_mean})
    return pd.DataFrame(rows), fits
