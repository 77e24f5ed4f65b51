"""Attractiveness model per kommune from plain tables (QGIS-free; the Processing algorithm and
the tests call this). Every formula lives in ``geoproc.model``; this only chains the calls.

Units: net migration, expected net migration and attractiveness are fractions of the
start-of-year population per year (``*_pct`` in percent); ``*_persons_per_year`` in persons.
"""
from __future__ import annotations

import pandas as pd

STAT_COLUMNS = ("year", "kommune", "net_migration", "population", "vra_t", "vra_t1", "vra_t2")


def kommune_code(values: pd.Series) -> pd.Series:
    """Kommune codes as 4-character strings (integers such as 301 become '0301')."""
    def one(v):
        if v is None or (isinstance(v, float) and pd.isna(v)):
            return None
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return str(v).strip().zfill(4)

    return values.map(one)


def kommune_attractiveness(stats: pd.DataFrame, centrality: pd.DataFrame, params="model4",
                           start: int | None = None, end: int | None = None) -> pd.DataFrame:
    """One row per kommune: mean yearly ``nm_actual``, ``nm_expected``, ``attractiveness`` (fractions),
    ``net_migration_persons_per_year``, ``expected_persons_per_year``, ``attractiveness_persons_per_year``,
    cumulative ``attractiveness_pct`` (percent of the population at the start of the period),
    ``rank`` (1 = most attractive), ``index`` and ``sentny``.

    ``stats``: year, kommune, net_migration (persons), population (start of year), vra_t, vra_t1,
    vra_t2 [, ds]. ``centrality``: kommune, index (0–1000); sentny = index/1000 centred over these
    kommuner. ``params``: published model name or ModelParams.
    """
    from centrality.errors import InputError
    from geoproc.model.attractiveness import attractiveness, cumulative_attractiveness, net_migration_rate
    from geoproc.model.centrality_term import sentny
    from geoproc.model.expected import expected_net_migration, model_inputs
    from geoproc.model.params import get_params

    params = get_params(params)
    stats = stats.copy()
    stats["kommune"] = kommune_code(stats["kommune"])
    stats["year"] = pd.to_numeric(stats["year"], errors="raise").astype(int)
    if start is not None or end is not None:
        lo, hi = start if start is not None else stats["year"].min(), end if end is not None else stats["year"].max()
        stats = stats[(stats["year"] >= lo) & (stats["year"] <= hi)]
        if stats.empty:
            raise InputError(f"the statistics table has no rows in the years {lo}–{hi}. Choose years it covers.")
    index = centrality[["kommune", "index"]].copy()
    index["kommune"] = kommune_code(index["kommune"])
    index = index[index["kommune"].isin(stats["kommune"])]
    centr = sentny(index)
    vra_cols = ["year", "kommune", "vra_t", "vra_t1", "vra_t2"]
    ds_table = stats[["year", "kommune", "ds"]] if "ds" in stats.columns else None
    if params.ds != 0.0 and ds_table is None:
        raise InputError(f"model '{params.name}' uses demographic supply (DS) but the statistics table has no DS "
                         "field. Choose the DS field, or a model without DS (model1–model3).")
    inputs = model_inputs(stats[vra_cols], centr[["kommune", "sentny"]] if params.sentny else None,
                          ds_table if params.ds else None)
    expected = expected_net_migration(inputs, params)
    actual = net_migration_rate(stats[["year", "kommune", "net_migration"]], stats[["year", "kommune", "population"]])
    ba = attractiveness(actual, expected)
    pop = stats[["year", "kommune", "population"]]
    cum = cumulative_attractiveness(ba, pop)
    yearly = ba.merge(pop, on=["year", "kommune"])
    yearly["net_migration_persons"] = yearly["nm_actual"] * yearly["population"]
    yearly["expected_persons"] = yearly["nm_expected"] * yearly["population"]
    means = yearly.groupby("kommune").agg(
        nm_actual=("nm_actual", "mean"), nm_expected=("nm_expected", "mean"),
        attractiveness=("attractiveness", "mean"),
        net_migration_persons_per_year=("net_migration_persons", "mean"),
        expected_persons_per_year=("expected_persons", "mean")).reset_index()
    out = means.merge(cum.rename(columns={"persons_per_year": "attractiveness_persons_per_year",
                                          "persons": "attractiveness_persons"}), on="kommune")
    out = out.merge(centr[["kommune", "index", "sentny"]], on="kommune", how="left")
    out["rank"] = out["attractiveness_pct"].rank(ascending=False, method="min").astype(int)
    return out.sort_values("rank", kind="stable").reset_index(drop=True)
