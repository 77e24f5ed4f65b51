"""Re-estimate the net migration model by OLS (statsmodels), pooled or by year (MODEL.md §2.3).

Data: one row per unit-year (the published model uses 73 regions × 2003–2021), with the
dependent variable ``nm_actual`` (net migration, fraction of start-of-year population) and the
regressors named as in :data:`geoproc.model.params.TERMS`. Results carry the coefficient table
(term, estimate, se, t, p, ci_low, ci_high), R², adjusted R², residual SE and n, and convert to
:class:`ModelParams` for :mod:`expected`. :func:`format_table` prints terms as rows like MODEL.md's
table, next to the published model 4 for comparison. :func:`estimation_data` builds the rows from
the input tables exactly as a model run does (model stage "estimation").
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from centrality.errors import InputError
from geoproc.data.tables import check_table
from geoproc.model.inputs import ModelTables
from geoproc.model.params import DEFAULT, TERM_LABELS, TERMS, ModelParams
from geoproc.model.run import run_model

DEFAULT_TERMS: tuple[str, ...] = ("vra_t", "vra_t1", "vra_t2", "sentny", "ds")


@dataclass(frozen=True)
class EstimateResult:
    """One OLS fit. ``coefficients``: term, estimate, se, t, p, ci_low, ci_high (fractions per unit regressor)."""

    coefficients: pd.DataFrame
    r2: float
    adj_r2: float
    resid_se: float
    n: int
    label: str
    params: ModelParams


def _fit(data: pd.DataFrame, terms: Sequence[str], y: str, alpha: float, label: str,
         centring: Mapping | None = None) -> EstimateResult:
    import statsmodels.api as sm

    n, k = len(data), len(terms) + 1
    if n <= k:
        raise InputError(f"{label}: {n} observations are too few for {k} coefficients; add unit-years or drop terms.")
    X = sm.add_constant(data[list(terms)].astype(float).to_numpy(), has_constant="add")
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise InputError(f"{label}: regressors {list(terms)} are collinear (or constant); drop one of them.")
    fit = sm.OLS(data[y].astype(float).to_numpy(), X).fit()
    ci = fit.conf_int(alpha)
    names = ["intercept", *terms]
    coefs = pd.DataFrame({"term": names, "estimate": fit.params, "se": fit.bse, "t": fit.tvalues,
                          "p": fit.pvalues, "ci_low": ci[:, 0], "ci_high": ci[:, 1]})
    resid_se = float(math.sqrt(fit.scale))
    params = ModelParams.from_coefficients(dict(zip(names, fit.params)), se=dict(zip(names, fit.bse)),
                                           resid_se=resid_se, adj_r2=float(fit.rsquared_adj), name=label, n_obs=n,
                                           **dict(centring or {}))
    return EstimateResult(coefs, float(fit.rsquared), float(fit.rsquared_adj), resid_se, n, label, params)


def estimate(data: pd.DataFrame, terms: Sequence[str] = DEFAULT_TERMS, *, y: str = "nm_actual",
             by_year: bool = False, alpha: float = 0.05, label: str = "estimate"
             ) -> EstimateResult | dict[int, EstimateResult]:
    """OLS of ``y`` on ``terms`` (+ intercept), pooled or by year.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit-year with ``y`` and the ``terms`` (fractions).
    terms : sequence of str
        Regressors (names as in TERMS).
    y : str, default "nm_actual"
        Dependent variable (net migration, fraction of the population).
    by_year : bool, default False
        One regression per year.
    alpha : float, default 0.05
        Confidence intervals at 1 − alpha.
    label : str
        Name of the result.

    Returns
    -------
    EstimateResult or dict
        The pooled fit, or ``{year: EstimateResult}`` with ``by_year``.
    """
    unknown = [t for t in terms if t not in TERMS or t == "intercept"]
    if unknown:
        raise InputError(f"unknown regressors {unknown}; choose from {', '.join(t for t in TERMS if t != 'intercept')}.")
    need = [y, *terms] + (["year"] if by_year else [])
    check_table(data, need, "estimation data",
                "Give one row per unit-year with nm_actual (fraction) and the regressor columns.")
    if not by_year:
        return _fit(data, terms, y, alpha, label, _centring(data))
    meta = _centring(data)
    return {int(yr): _fit(g, terms, y, alpha, f"{label} {int(yr)}", meta) for yr, g in data.groupby("year")}


def _centring(data: pd.DataFrame) -> dict:
    """The centring of the estimation rows (``data.attrs``), stored with the estimated coefficients."""
    return {k: data.attrs[k] for k in ("sentny_mean", "centring") if data.attrs.get(k) is not None}


def by_year_table(results: Mapping[int, EstimateResult]) -> pd.DataFrame:
    """Long table of by-year fits.

    Parameters
    ----------
    results : mapping
        ``{year: EstimateResult}``.

    Returns
    -------
    pandas.DataFrame
        year, term, estimate, se, t, p, ci_low, ci_high, r2, adj_r2, resid_se, n.
    """
    frames = [r.coefficients.assign(year=yr, r2=r.r2, adj_r2=r.adj_r2, resid_se=r.resid_se, n=r.n)
              for yr, r in sorted(results.items())]
    out = pd.concat(frames, ignore_index=True)
    return out[["year", *[c for c in out.columns if c != "year"]]]


def format_table(result: EstimateResult, compare: ModelParams | None = DEFAULT) -> str:
    """Plain-text coefficient table, terms as rows.

    Parameters
    ----------
    result : EstimateResult
        The fit.
    compare : ModelParams, optional
        A column to compare with (published model 4 by default; None = none).

    Returns
    -------
    str
        Estimate (SE), t, p, 95 % CI and the comparison per term, then residual SE, adj. R² and n.
    """
    rows = []
    coefs = result.coefficients.set_index("term")
    ref = compare.coefficients() if compare is not None else {}
    for term in TERMS:
        if term not in coefs.index and ref.get(term, 0.0) == 0.0:
            continue
        ref_txt = ""
        if compare is not None:
            if ref.get(term, 0.0) == 0.0 and term != "intercept":
                ref_txt = "–"
            else:
                se = compare.se.get(term)
                ref_txt = f"{ref[term]:.7f}" + (f" ({se:.7f})" if se is not None else "")
        if term in coefs.index:
            c = coefs.loc[term]
            rows.append((TERM_LABELS[term], f"{c['estimate']:.7f} ({c['se']:.7f})", f"{c['t']:.2f}",
                         f"{c['p']:.3g}", f"[{c['ci_low']:.5f}, {c['ci_high']:.5f}]", ref_txt))
        else:
            rows.append((TERM_LABELS[term], "–", "", "", "", ref_txt))
    fmt = lambda v, spec: "–" if v is None else format(v, spec)  # noqa: E731
    rows.append(("residual SE", f"{result.resid_se:.6f}", "", "", "", fmt(getattr(compare, "resid_se", None), ".6f") if compare else ""))
    rows.append(("adj. R²", f"{result.adj_r2:.4f}", "", "", "", fmt(getattr(compare, "adj_r2", None), ".4f") if compare else ""))
    rows.append(("n", f"{result.n}", "", "", "", fmt(getattr(compare, "n_obs", None), "d") if compare else ""))
    header = ("term", f"{result.label} estimate (SE)", "t", "p", "95% CI",
              (compare.name or "reference") if compare is not None else "")
    table = [header, *rows]
    widths = [max(len(str(r[i])) for r in table) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(w) for cell, w in zip(r, widths)).rstrip() for r in table]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def coefficient_table(models: Mapping[str, ModelParams | EstimateResult]) -> pd.DataFrame:
    """Side-by-side table like MODEL.md §2.3: rows = terms + residual SE + adj. R², one column per model.

    Parameters
    ----------
    models : mapping
        ``{name: ModelParams or EstimateResult}`` (e.g. ``PUBLISHED_MODELS``).

    Returns
    -------
    pandas.DataFrame
        Cells are ``estimate`` or ``estimate (SE x)`` when a standard error is known, '–' when the
        model does not use the term.
    """
    cols: dict[str, list[str]] = {}
    for name, model in models.items():
        p = model.params if isinstance(model, EstimateResult) else model
        coefs, cells = p.coefficients(), []
        for term in TERMS:
            if term != "intercept" and coefs[term] == 0.0:
                cells.append("–")
            else:
                se = p.se.get(term)
                cells.append(f"{coefs[term]:.7f}" + (f" (SE {se:.7f})" if se is not None and term != "intercept" else ""))
        cells.append("–" if p.resid_se is None else f"{p.resid_se:.6f}")
        cells.append("–" if p.adj_r2 is None else f"{p.adj_r2:.4f}")
        cols[name] = cells
    index = [TERM_LABELS[t] for t in TERMS] + ["residual SE", "adj. R²"]
    return pd.DataFrame(cols, index=pd.Index(index, name="term"))


# ------------------------------------------------------------------ estimation data from the tables
def estimation_data(tables: ModelTables | Mapping[str, pd.DataFrame], *, years: Sequence[int],
                    terms: Sequence[str] = ("vra_t", "vra_t1", "vra_t2", "sentny", "ds"), unit: str = "region",
                    region_col: str = "region", **kwargs) -> pd.DataFrame:
    """One row per unit-year with the regressors and the actual net migration.

    Built exactly as in :func:`geoproc.model.run.run_model` (same VRA, sentny, DS and actual net
    migration), so an estimate on these rows is comparable with the published coefficients.

    Parameters
    ----------
    tables : ModelTables or mapping
        The input tables.
    years : sequence of int
        Years of the observations.
    terms : sequence of str
        Regressors to build.
    unit : {"region", "kommune"}, default "region"
        Observation unit (the published model uses region-years).
    region_col : str
        Region column.
    **kwargs
        Passed to ``run_model`` (e.g. ``national_immigration_rate``).

    Returns
    -------
    pandas.DataFrame
        year, unit, the ``terms``, ``nm_actual`` (fractions), population (persons) and, when the
        net migration comes with Norway's rate per year, ``national_rate``; ``attrs`` hold the
        centring (``sentny_mean``, ``centring``, stored with estimates) and the run's ``notes``.
    """
    unknown = [t for t in terms if t not in TERMS or t == "intercept"]
    if unknown or not terms:
        raise InputError(f"unknown regressors {unknown}; choose from {', '.join(t for t in TERMS if t != 'intercept')}.")
    # unit coefficients only decide which regressors are built; their values do not matter here
    design = ModelParams.from_coefficients({t: 1.0 for t in terms}, name="design")
    result = run_model(tables, years=years, params=design, unit=unit, region_col=region_col, **kwargs)
    keep = ["year", unit, *terms]
    out = result.inputs[keep].merge(result.attractiveness[["year", unit, "nm_actual", "population"]],
                                    on=["year", unit], how="inner")
    if result.net_migration is not None and getattr(result.net_migration, "national", None) is not None:
        rates = result.net_migration.national.set_index("year")["rate"]
        out["national_rate"] = out["year"].map(rates)
    out.attrs.update(sentny_mean=result.sentny_mean, centring=result.centring, notes=list(result.notes))
    return out


def estimate_model(tables: ModelTables | Mapping[str, pd.DataFrame], *, years: Sequence[int],
                   terms: Sequence[str] = ("vra_t", "vra_t1", "vra_t2", "sentny", "ds"), unit: str = "region",
                   region_col: str = "region", by_year: bool = False, label: str = "estimate", **kwargs):
    """Re-estimate the regression by OLS (:func:`estimate`) on the tables.

    Parameters
    ----------
    tables : ModelTables or mapping
        The input tables.
    years : sequence of int
        Years of the observations.
    terms : sequence of str
        Regressors.
    unit : {"region", "kommune"}, default "region"
        Observation unit (region-years as in the published model).
    region_col : str
        Region column.
    by_year : bool
        One regression per year.
    label : str
        Name of the result.
    **kwargs
        Passed to :func:`estimation_data`.

    Returns
    -------
    EstimateResult or dict
        Pooled, or ``{year: EstimateResult}`` with ``by_year``.
    """
    data = estimation_data(tables, years=years, terms=terms, unit=unit, region_col=region_col, **kwargs)
    return estimate(data, terms=list(terms), by_year=by_year, label=label)


def comparison_table(fits: Mapping[str, EstimateResult], *, published: ModelParams | None = DEFAULT,
                     units: Mapping[str, str] | None = None, years: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Long table of several fits beside the published coefficients.

    Parameters
    ----------
    fits : mapping
        Label -> :class:`EstimateResult` (e.g. 'kommune-years 2020–2022').
    published : ModelParams, optional
        The reference set (default the published model 4), first.
    units, years : mapping, optional
        Label -> description of the units and years (columns ``unit`` and ``years``).

    Returns
    -------
    pandas.DataFrame
        model, unit, years, term, estimate, se, t, p, n, adj_r2, resid_se, sentny_mean (one row per
        model and term).
    """
    rows = []
    if published is not None:
        for term, b in published.coefficients().items():
            if term == "intercept" or b != 0.0:
                rows.append({"model": f"published {published.name}", "unit": "73 political regions",
                             "years": "2003–2021", "term": term, "estimate": b, "se": published.se.get(term, np.nan),
                             "t": np.nan, "p": np.nan, "n": published.n_obs, "adj_r2": published.adj_r2,
                             "resid_se": published.resid_se, "sentny_mean": np.nan})
    for label, r in fits.items():
        for c in r.coefficients.itertuples():
            rows.append({"model": label, "unit": (units or {}).get(label, ""), "years": (years or {}).get(label, ""),
                         "term": c.term, "estimate": c.estimate, "se": c.se, "t": c.t, "p": c.p, "n": r.n,
                         "adj_r2": r.adj_r2, "resid_se": r.resid_se,
                         "sentny_mean": np.nan if r.params.sentny_mean is None else r.params.sentny_mean})
    return pd.DataFrame(rows)
