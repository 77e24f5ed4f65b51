"""Headline figures of a road project: Δ migrants a year and Δ population over the horizon,
gross and net, for the focus kommuner, the served area and the nation, with 95 % intervals.

Scopes:
- each **focus** unit named in ``[report] focus`` (e.g. Levanger "5037");
- the **served area**: every unit whose centrality rises (Δindex > 0);
- **Norway**: every unit of the run plus the population outside it (net only differs).

Measures: ``gross`` (centring held fixed) and ``net`` (centring re-evaluated, see
:mod:`geoproc.scenario.effects`). Units: persons a year (mean over the full-effect years) and
persons by the end of the horizon. Intervals: ``coef_low/high`` from the coefficient only;
``low/high`` combined with the decay and cutoff sensitivity when it was run
(:mod:`geoproc.scenario.sensitivity`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

MEASURE_COLUMNS = {
    "gross": ("delta_migrants_per_year", "delta_migrants_low", "delta_migrants_high",
              "delta_population", "delta_population_low", "delta_population_high"),
    "net": ("delta_migrants_net_per_year", "delta_migrants_net_low", "delta_migrants_net_high",
            "delta_population_net", "delta_population_net_low", "delta_population_net_high"),
}
HEADLINE_COLUMNS = ["scope", "label", "measure", "n_units", "per_year", "per_year_coef_low", "per_year_coef_high",
                    "population", "population_coef_low", "population_coef_high"]


def scopes(units: pd.DataFrame, key: str, focus=()) -> list[tuple[str, str, np.ndarray]]:
    """(scope id, label, boolean mask over ``units``) for each focus unit and the served area.

    Parameters
    ----------
    units : pandas.DataFrame
        One row per unit with ``key``, ``delta_index`` and optionally ``name``.
    key : str
        The unit id column (``kommune`` or ``zone_id``).
    focus : sequence of str
        Unit ids to report on their own.

    Returns
    -------
    list of tuple
        ``("focus:<id>", label, mask)`` per focus unit found, then ``("served", label, mask)``.
    """
    codes = units[key].astype(str).to_numpy()
    names = units["name"].astype(str).to_numpy() if "name" in units.columns else codes
    out = []
    for f in focus or ():
        hit = codes == str(f)
        if hit.any():
            name = names[hit][0]
            out.append((f"focus:{f}", f"{name} ({f})" if name != str(f) else str(f), hit))
    served = units["delta_index"].to_numpy(dtype=float) > 0
    n = int(served.sum())
    unit_word = "kommuner" if key == "kommune" else "units"
    out.append(("served", f"served area ({n} {unit_word} with higher centrality)", served))
    return out


def headline_table(units: pd.DataFrame, key: str, totals: dict, focus=()) -> pd.DataFrame:
    """Rows scope × measure (gross, net) with central values and coefficient intervals.

    Parameters
    ----------
    units : pandas.DataFrame
        Per unit: the columns of :data:`MEASURE_COLUMNS` (persons).
    key : str
        The unit id column.
    totals : dict
        National totals of :func:`geoproc.scenario.effects.unit_effects`.
    focus : sequence of str
        Focus unit ids.

    Returns
    -------
    pandas.DataFrame
        :data:`HEADLINE_COLUMNS` (persons a year, persons by the horizon end).
    """
    rows = []
    for scope, label, mask in scopes(units, key, focus):
        for measure, cols in MEASURE_COLUMNS.items():
            vals = [float(units.loc[mask, c].sum()) for c in cols]
            rows.append([scope, label, measure, int(mask.sum()), *vals])
    n_all = len(units)
    nat = {"gross": ("national_gross_per_year", "national_gross_population"),
           "net": ("national_net_per_year", "national_net_population")}
    for measure, (py, pop) in nat.items():
        rows.append(["national", "Norway (national total)", measure, n_all, totals[py], totals[f"{py}_low"],
                     totals[f"{py}_high"], totals[pop], totals[f"{pop}_low"], totals[f"{pop}_high"]])
    out = pd.DataFrame(rows, columns=HEADLINE_COLUMNS)
    for c in ("per_year", "population"):
        lo, hi = out[f"{c}_coef_low"].to_numpy(), out[f"{c}_coef_high"].to_numpy()
        out[f"{c}_coef_low"], out[f"{c}_coef_high"] = np.minimum(lo, hi), np.maximum(lo, hi)
    return out


def figure_names(table: pd.DataFrame) -> list[str]:
    """The figure names of a headline table.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`headline_table`.

    Returns
    -------
    list of str
        ``scope|measure|per_year`` and ``scope|measure|population`` for every row.
    """
    return [f"{s}|{m}|{k}" for s, m in zip(table["scope"], table["measure"]) for k in ("per_year", "population")]


def figures(table: pd.DataFrame, suffix: str = "") -> dict[str, float]:
    """{figure name: value} of a headline table.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`headline_table`.
    suffix : str
        "" = central, "_coef_low", "_coef_high".

    Returns
    -------
    dict
        Persons a year or persons.
    """
    out = {}
    for r in table.itertuples(index=False):
        for k in ("per_year", "population"):
            out[f"{r.scope}|{r.measure}|{k}"] = float(getattr(r, k + suffix))
    return out


def attach_uncertainty(table: pd.DataFrame, unc) -> pd.DataFrame:
    """Add the combined intervals to a headline table.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`headline_table`.
    unc : geoproc.scenario.sensitivity.UncertaintyTable or None
        None = the coefficient interval only.

    Returns
    -------
    pandas.DataFrame
        With ``per_year_low/high``, ``population_low/high`` and ``*_dominant`` (the component with
        the largest deviation).
    """
    out = table.copy()
    for k in ("per_year", "population"):
        if unc is None:
            out[f"{k}_low"], out[f"{k}_high"] = out[f"{k}_coef_low"], out[f"{k}_coef_high"]
            out[f"{k}_dominant"] = "coefficient"
            continue
        t = unc.table.set_index("figure")
        names = [f"{s}|{m}|{k}" for s, m in zip(out["scope"], out["measure"])]
        out[f"{k}_low"] = t.loc[names, "low"].to_numpy()
        out[f"{k}_high"] = t.loc[names, "high"].to_numpy()
        out[f"{k}_dominant"] = t.loc[names, "dominant"].to_numpy()
    return out
