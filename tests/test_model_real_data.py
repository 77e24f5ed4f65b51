"""The model on real SSB data from ../shared/data (skipped with a message when it is absent).

Spot checks recompute VRA by hand from the raw CSV rows (csv module, plain dicts), independent of
pandas and of geoproc.model.
"""
from __future__ import annotations

import csv
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from centrality.errors import InputError
from geoproc.data import loaders
from geoproc.model import centrality_term, ds, expected, vra
from geoproc.model.params import DEFAULT
from tests.conftest import shared_path

JOBS = "employed_by_workplace"  # jobs by place of work (persons 15–74, 4th quarter)


@pytest.fixture(scope="module")
def data_dir():
    shared_path("ssb", "commuting_03321_2020_2022.csv")
    return shared_path()


@pytest.fixture(scope="module")
def commuting(data_dir):
    return loaders.load_commuting(data_dir)


@pytest.fixture(scope="module")
def employment(data_dir):
    return loaders.load_employment(data_dir)


@pytest.fixture(scope="module")
def regions(data_dir):
    """BA regions; 3053 Jevnaker, 3054 Lunner and 5061 Rindal have no BA region in the source file,
    so each is kept as its own one-kommune region ('k3053', …): load_regions(fill_missing='own')."""
    reg = loaders.load_regions(data_dir, fill_missing="own")
    assert reg.attrs["filled_regions"] == ["3053", "3054", "5061"]
    return reg.rename(columns={"ba_region_code": "region"})[["kommune", "region"]]


def _raw_rows(name: str):
    with open(shared_path("ssb", name), newline="", encoding="utf-8") as fh:
        yield from csv.DictReader(fh)


def _hand_vra(year: int, groups: dict[str, str], home_group: str) -> float:
    """VRA of ``home_group`` from the raw CSV rows: shares by work group × (group growth − national)."""
    jobs = defaultdict(float)
    for r in _raw_rows("employment_11618_2017_2022.csv"):
        if int(r["year"]) in (year - 1, year):
            jobs[(int(r["year"]), groups[r["kommune"]])] += float(r[JOBS])
    national = sum(v for (y, _), v in jobs.items() if y == year) / sum(v for (y, _), v in jobs.items() if y == year - 1) - 1
    flows = defaultdict(float)
    for r in _raw_rows("commuting_03321_2020_2022.csv"):
        if int(r["year"]) == year and groups[r["home_kommune"]] == home_group:
            flows[groups[r["work_kommune"]]] += float(r["employed"])
    total = sum(flows.values())
    return sum(e / total * (jobs[(year, w)] / jobs[(year - 1, w)] - 1 - national) for w, e in flows.items())


def _proxy_index(data_dir, employment) -> pd.DataFrame:
    """Centrality index, a documented PROXY computed for every kommune (no published value is
    substituted):
    A_i = Σ_j jobs_j · exp(−β·t_ij), t_ij = 1.3 × straight-line km between kommune centroids at
    60 km/h (minutes, 10 min inside a kommune), β = ln(10)/45 (a job 45 min away counts 10 %),
    index = 1000·ln(1+A)/ln(1+A_Oslo). Only for exercising the sentny term on all 356 kommuner."""
    pts = pd.read_csv(shared_path("ssb", "kommune_centroids_2020.csv"), dtype={"kommune": str})
    jobs = employment[employment["year"] == 2020].set_index("kommune")[JOBS].reindex(pts["kommune"]).to_numpy(float)
    lat, lon = np.radians(pts["lat"].to_numpy()), np.radians(pts["lon"].to_numpy())
    dlat, dlon = lat[:, None] - lat[None, :], lon[:, None] - lon[None, :]
    km = 2 * 6371 * np.arcsin(np.sqrt(np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2))
    minutes = np.maximum(1.3 * km / 60 * 60, 10.0)
    access = (jobs[None, :] * np.exp(-np.log(10) / 45 * minutes)).sum(axis=1)
    oslo = int(np.flatnonzero(pts["kommune"].to_numpy() == "0301")[0])
    index = 1000 * np.log1p(access) / np.log1p(access[oslo])
    out = pd.DataFrame({"kommune": pts["kommune"], "index": np.clip(index, 0, 1000)})
    return out


def test_commuting_shares_sum_to_one_per_home(commuting):
    shares = vra.commuting_shares(commuting)
    sums = shares.groupby(["year", "home_kommune"])["share"].sum()
    assert sorted(shares["year"].unique()) == [2020, 2021, 2022]
    assert sums.groupby("year").size().tolist() == [356, 356, 356]
    assert np.allclose(sums.to_numpy(), 1.0, atol=1e-12)
    # spot value from the README: 2020 Stjørdal -> Trondheim 2 524 persons
    row = shares[(shares["year"] == 2020) & (shares["home_kommune"] == "5035") & (shares["work_kommune"] == "5001")]
    assert row["employed"].iloc[0] == 2524
    home_total = commuting[(commuting["year"] == 2020) & (commuting["home_kommune"] == "5035")]["employed"].sum()
    assert row["share"].iloc[0] == pytest.approx(2524 / home_total)


def test_relative_job_growth_and_vra_every_kommune(commuting, employment):
    rel = vra.relative_job_growth(employment, years=[2021, 2022], value=JOBS)
    assert rel.groupby("year").size().tolist() == [356, 356]
    # README totals: 2 673 248 (2020), 2 753 966 (2021), 2 809 789 (2022)
    nat = rel.groupby("year")["national_growth"].first()
    assert nat[2021] == pytest.approx(2_753_966 / 2_673_248 - 1, abs=1e-15)
    assert nat[2022] == pytest.approx(2_809_789 / 2_753_966 - 1, abs=1e-15)
    # relative growth is zero on average when weighted by last year's jobs
    weighted = (rel["relative_growth"] * rel["jobs_prev"]).groupby(rel["year"]).sum()
    assert np.allclose(weighted.to_numpy(), 0.0, atol=1e-6)
    for year in (2021, 2022):
        v = vra.vra(commuting, employment, year, value=JOBS).set_index("kommune")
        assert len(v) == 356 and v["vra"].notna().all()
        assert v["vra"].abs().max() < 0.15  # plausible: no kommune's weighted relative growth beyond ±15 %
        identity = {k: k for k in v.index}
        for k in ("5035", "5037"):  # Stjørdal, Levanger
            assert v.loc[k, "vra"] == pytest.approx(_hand_vra(year, identity, k), abs=1e-13)


def test_vra_lags_on_real_data(commuting, employment):
    lagged = vra.vra_with_lags(commuting, employment, [2022], lags=1, value=JOBS, split=True)
    assert len(lagged) == 356 and not lagged.isna().any().any()
    assert lagged.attrs["commuting_year_used"] == {(2022, 2022): 2022, (2022, 2021): 2021}
    same = vra.vra(commuting, employment, 2021, value=JOBS).set_index("kommune")["vra"]
    assert lagged.set_index("kommune")["vra_t1"].to_numpy() == pytest.approx(same.reindex(lagged["kommune"]).to_numpy())
    assert np.allclose(lagged["vra_t_own"] + lagged["vra_t_neighbour"], lagged["vra_t"], atol=1e-15)
    # two lags need jobs for 2019, which the 2020-code tables do not have
    with pytest.raises(InputError, match="2019"):
        vra.vra_with_lags(commuting, employment, [2022], lags=2, value=JOBS)


def test_mixed_code_systems_rejected(data_dir, commuting, employment):
    old = loaders.load_employment(data_dir, years=[2019])  # 2018 codes
    mixed = pd.concat([old, employment], ignore_index=True)
    with pytest.raises(InputError, match="code system"):
        vra.relative_job_growth(mixed, years=[2020], value=JOBS)


def test_region_vra_with_ba_regions(commuting, employment, regions):
    out = vra.region_vra(commuting, employment, regions, [2021, 2022], lags=0, value=JOBS)
    n_regions = regions["region"].nunique()
    assert n_regions == 159 + 3
    assert out.groupby("year").size().tolist() == [n_regions, n_regions]
    assert out["vra_t"].notna().all() and out["vra_t"].abs().max() < 0.15  # many BA regions are one kommune
    groups = dict(zip(regions["kommune"], regions["region"]))
    for reg in ("090", "097"):  # Trondheim, Levanger
        got = out[(out["year"] == 2022) & (out["region"] == reg)]["vra_t"].iloc[0]
        assert got == pytest.approx(_hand_vra(2022, groups, reg), abs=1e-13)


def test_expected_contributions_vra_and_centrality(data_dir, commuting, employment):
    index = _proxy_index(data_dir, employment)
    sent = centrality_term.sentny(index)
    assert len(sent) == 356 and abs(sent["sentny"].mean()) < 1e-12
    lagged = vra.vra_with_lags(commuting, employment, [2022], lags=1, value=JOBS)
    inputs = expected.model_inputs(lagged, sent)
    contrib = expected.term_contributions(inputs, DEFAULT, terms=["intercept", "vra_t", "vra_t1", "sentny"])
    assert len(contrib) == 356 and not contrib.isna().any().any()
    oslo = contrib.set_index("kommune").loc["0301"]
    assert oslo["sentny"] == pytest.approx(0.0272193 * (1.0 - index["index"].mean() / 1000), abs=1e-12)
    lev = inputs.set_index("kommune").loc["5037"]
    assert contrib.set_index("kommune").loc["5037", "vra_t"] == pytest.approx(0.1360559 * lev["vra_t"], abs=1e-15)
    # plausible sizes: centrality ±2 % of population; VRA terms bounded by |VRA| < 15 %
    assert contrib["sentny"].abs().max() < 0.02
    assert contrib[["vra_t", "vra_t1"]].abs().max().max() < 0.15 * DEFAULT.vra[0]  # |VRA| < 15 %
    # most central kommuner get the largest centrality contribution
    assert contrib.set_index("kommune")["sentny"].idxmax() == "0301"


def test_demographic_supply_from_population_by_age_sex(data_dir, employment):
    pop = loaders.load_population_by_age_sex(data_dir)
    rates, q = ds.illustrative_employment_rates(), ds.illustrative_death_probabilities()
    out = ds.demographic_supply(pop, employment, rates, q, value=JOBS)
    assert out.groupby("year").size().to_dict() == {2020: 356, 2021: 356}
    assert not out.isna().any().any()
    assert np.allclose(out.groupby("year")["ds"].mean().to_numpy(), 0.0, atol=1e-15)
    assert out["ds"].abs().max() < 0.05  # centred DS within ±5 % of jobs
    # national net addition: same order of magnitude as the published 1 190–14 636 persons/year
    national = out.groupby("year")["ds_abs"].sum()
    assert (national.abs() < 40_000).all()
    # spec oracles (2004–2021 averages): Hvaler has the largest net loss, Gjesdal the largest addition;
    # with the illustrative schedule Hvaler is last and Gjesdal in the top 10 in both years
    rank = out.assign(rank=out.groupby("year")["ds"].rank(ascending=False)).set_index(["year", "kommune"])["rank"]
    for year in (2020, 2021):
        assert rank[(year, "3011")] == 356
        assert rank[(year, "1122")] <= 10
    # hand check for 1151 Utsira 2021 with the same schedules (death term × e)
    e = rates.set_index(["sex", "age"])["rate"]
    qq = q.set_index(["sex", "age"])["q"]
    rows = pop[(pop["kommune"] == "1151") & (pop["year"] == 2021) & pop["age"].between(14, 74)]
    by_hand = sum(r.population * (e.get((r.sex, r.age + 1), 0.0) - e.get((r.sex, r.age), 0.0))
                  - r.population * qq[(r.sex, r.age)] * e.get((r.sex, r.age), 0.0) for r in rows.itertuples())
    got = out[(out["kommune"] == "1151") & (out["year"] == 2021)].iloc[0]
    assert got["ds_abs"] == pytest.approx(by_hand, abs=1e-9)
    jobs_2021 = employment[(employment["kommune"] == "1151") & (employment["year"] == 2021)][JOBS].iloc[0]
    assert got["ds_raw"] == pytest.approx(by_hand / jobs_2021)


def test_region_expected_contributions(data_dir, commuting, employment, regions):
    """Region level end to end: region VRA (aggregated matrix) + population-weighted region sentny."""
    pop = loaders.load_kommune_population_2020(data_dir)[["kommune", "population"]]
    sent = centrality_term.sentny(_proxy_index(data_dir, employment), pop, regions)
    assert len(sent) == 162 and abs(sent["sentny"].mean()) < 1e-12
    oslo = sent.set_index("region").loc["005"]  # Oslo/Bærum: weighted mean of its kommuner
    members = regions[regions["region"] == "005"].merge(pop, on="kommune").merge(_proxy_index(data_dir, employment), on="kommune")
    assert oslo["index"] == pytest.approx((members["index"] * members["population"]).sum() / members["population"].sum())
    lagged = vra.region_vra(commuting, employment, regions, [2022], lags=1, value=JOBS)
    contrib = expected.term_contributions(expected.model_inputs(lagged, sent), DEFAULT,
                                          terms=["intercept", "vra_t", "vra_t1", "sentny"])
    assert len(contrib) == 162 and not contrib.isna().any().any()
    assert contrib.set_index("region")["sentny"].idxmax() == "005"
