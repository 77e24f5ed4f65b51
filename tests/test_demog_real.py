"""The model on the real data folder (issue 10): harmonised population, national net migration,
Rælingen's commuting shares and job growth, DS, decomposition, re-estimation, attractiveness and
the neutral projection 2022–2040 against the published figures (MODEL.md §2.1, §4).

Oracles are computed here from the raw files with the csv module or plain pandas (not through the
code under test), or they are published figures the inputs were not derived from. Tests named
``identity`` check that parts add up. Needs ../shared/data: skipped when absent, failed under CI.
"""
from __future__ import annotations

import csv
import gzip
import json
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from tests.conftest import shared_path

pytestmark = pytest.mark.shared

# Published neutral-scenario growth 2022–2040 (MODEL.md §4) and the tolerances
PUBLISHED_GROWTH = {"0301": 32.07, "3027": 23.01, "3029": 22.91, "5442": -24.94, "5413": -24.98}
GROWTH_TOLERANCE_PP = 4.0
PUBLISHED_DECLINING, DECLINING_TOLERANCE = 244, 25


@pytest.fixture(scope="module")
def data_dir():
    shared_path("ssb", "population_by_age_sex_2005_2026.csv.gz")
    shared_path("national", "mortality_norway_1900_2023.csv")
    return shared_path()


@pytest.fixture(scope="module")
def dataset(data_dir):
    from geoproc.data.dataset import load_dataset

    return load_dataset(data_dir)


@pytest.fixture(scope="module")
def net_migration(dataset):
    from geoproc.model.netmigration import estimate_net_migration

    return estimate_net_migration(dataset.population_age_sex, dataset.national)


def _raw_population_totals() -> dict[tuple[int, str], int]:
    """(year, 2024 code) -> persons, straight from the gzip CSV."""
    out: dict[tuple[int, str], int] = defaultdict(int)
    with gzip.open(shared_path("ssb", "population_by_age_sex_2005_2026.csv.gz"), "rt", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            out[(int(r["year"]), r["kommune"])] += int(r["population"])
    return out


@pytest.fixture(scope="module")
def raw_population():
    return _raw_population_totals()


# --------------------------------------------------------------------------- harmonised population
def test_harmonised_population_spot_values(dataset, raw_population):
    p = dataset.population.set_index(["year", "kommune"])["population"]
    assert p[(2020, "0301")] == 693_494       # Oslo (README spot value)
    assert p[(2020, "5037")] == 20_164        # Levanger
    assert p[(2020, "3033")] == 39_625        # Ullensaker (2024 code 3209)
    # 2024-structure Ålesund 1508 + Haram 1580 are the 2020 kommune 1507, every year
    for year in (2005, 2020, 2026):
        assert p[(year, "1507")] == raw_population[(year, "1508")] + raw_population[(year, "1580")]
    counts = dataset.population.groupby("year")["kommune"].nunique()
    assert counts[2005] == 354 and (counts.loc[2006:] == 356).all()
    assert set(dataset.kommuner) == set(pd.read_csv(shared_path("ssb", "kommune_regions_2020.csv"),
                                                    dtype={"kommune": str})["kommune"])
    totals = dataset.population.groupby("year")["population"].sum()
    raw_totals = pd.Series(raw_population).groupby(level=0).sum()
    assert (totals == raw_totals.reindex(totals.index)).all()   # harmonisation keeps every person


def test_harmonisation_report_names_merges_splits_and_imputations(dataset):
    report = dataset.report.table
    emp17 = report[(report["table"] == "employment (SSB 11618)") & (report["year"] == 2017)]
    splits = emp17[emp17["change"] == "split"]
    assert set(splits["code_from"]) == {"1613", "1850"}                 # Snillfjord, Tysfjord
    assert splits.groupby("code_from")["weight"].sum().round(12).eq(1.0).all()
    assert emp17[(emp17["code_from"] == "1601")]["code_to"].tolist() == ["5001"]   # Trondheim merged
    merged_to_trondheim = emp17[emp17["code_to"] == "5001"]["code_from"]
    assert set(merged_to_trondheim) == {"1601", "1662"}  # Trondheim and Klæbu (2017 codes) form 2020's 5001
    assert emp17[emp17["code_from"] == "1534"]["code_to"].tolist() == ["1507"]    # Haram -> Ålesund 2020
    text = "\n".join(dataset.summary_lines())
    assert "split (approximate): 1613 → 5055 0.35/5056 0.35/5059 0.30" in text
    assert "imputed: employment (SSB 11618) 2019 kommune 5061" in text
    assert "population 2005 lacks kommuner 1160, 1576" in text
    # jobs: every kommune every year, totals kept by merges and splits (README totals)
    jobs = dataset.jobs.groupby("year")["jobs"].sum()
    assert jobs[2017] == pytest.approx(2_609_737) and jobs[2022] == pytest.approx(2_809_789)
    assert dataset.jobs.groupby("year")["kommune"].nunique().eq(356).all()


# --------------------------------------------------------------------------- national net migration
def _raw_births_deaths() -> tuple[dict[int, float], dict[int, float]]:
    births, deaths = {}, defaultdict(float)
    with open(shared_path("national", "births_norway_1900_2023.csv"), newline="") as fh:
        for r in csv.DictReader(fh):
            if r["sex"] == "Total":
                births[int(r["year"])] = float(r["births"])
    with open(shared_path("national", "mortality_norway_1900_2023.csv"), newline="") as fh:
        for r in csv.DictReader(fh):
            if r["sex"] == "Total":
                deaths[int(r["year"])] += float(r["deaths"])
    return births, dict(deaths)


def test_national_net_migration_identity_to_the_person(net_migration, raw_population):
    """Σ over kommuner of the estimate = P(t+1) − P(t) − births + deaths from the raw files, 2006–2023."""
    births, deaths = _raw_births_deaths()
    totals = pd.Series(raw_population).groupby(level=0).sum()
    kommune_sum = net_migration.table.groupby("year")["net_migration"].sum()
    for year in range(2006, 2024):
        identity = totals[year + 1] - totals[year] - births[year] + deaths[year]
        assert abs(kommune_sum[year] - identity) < 0.5, year
    # 2020: 5 391 371 − 5 367 602 − 52 979 + 40 611 = 11 401 (SSB's own figure is 11 331)
    assert round(kommune_sum[2020]) == 11_401
    nat = net_migration.national.set_index("year")
    assert nat.loc[2024, "births_source"].startswith("estimated")
    assert "carried forward" in " ".join(net_migration.notes)


def test_net_migration_estimate_is_plausible(net_migration):
    t = net_migration.table.set_index(["year", "kommune"])
    assert t["fertility_level"].between(0.5, 1.6).all()
    assert (t["rate"].abs() < 0.3).all()   # the largest: 3450 Etnedal 2025, +27.7 % (+348 persons)
    # Oslo's net migration rate 2006–2019 stays between −0.5 % and +2 % a year
    oslo = t.xs("0301", level="kommune").loc[2006:2019, "rate"]
    assert oslo.between(-0.005, 0.02).all()
    # by-age cells add up to the totals (identity)
    wide = net_migration.table.pivot(index="year", columns="kommune", values="net_migration").fillna(0.0)
    by_age = net_migration.by_age.sum(axis=(2, 3))
    assert np.allclose(by_age, wide.reindex(index=net_migration.years, columns=net_migration.kommuner).to_numpy(),
                       atol=1e-6)


# --------------------------------------------------------------------------- Rælingen (MODEL.md §2.1)
RAELINGEN = {"0301": (37.0, 1.4), "3030": (20.8, 1.2), "3027": (15.2, -1.2), "3029": (13.0, 0.1),
             "3024": (2.6, -1.3), "3033": (2.4, 5.7), "3031": (1.2, 0.0)}


def _matches_published(value: float, published: float, slack: float = 0.01) -> bool:
    """``value`` rounds to ``published`` (0.1 %), or lies within ``slack`` pp of the rounding boundary."""
    return abs(value - published) <= 0.05 + slack


def test_raelingen_2021_shares_and_relative_growth_from_real_files(dataset):
    from geoproc.model import vra

    shares = vra.commuting_shares(dataset.commuting, years=[2021])
    s = shares[shares["home_kommune"] == "3027"].set_index("work_kommune")["share"] * 100
    ra = vra.relative_job_growth(dataset.jobs[["year", "kommune", "jobs"]], years=[2021]).set_index("kommune")
    exact_rounding = 0
    for work, (share, growth) in RAELINGEN.items():
        got_share, got_ra = s[work], ra.loc[work, "relative_growth"] * 100
        assert _matches_published(got_share, share), (work, got_share)
        assert _matches_published(got_ra, growth), (work, got_ra)
        exact_rounding += int(round(float(got_share), 1) == share) + int(round(float(got_ra), 1) == growth)
    # 12 of the 14 published numbers are reproduced to the rounding; Oslo's share (37.05 %, published
    # 37.0) and Ullensaker's growth (5.64 %, published 5.7) lie within 0.01 pp of the rounding boundary
    assert exact_rounding >= 12
    # hand check from the raw commuting rows: Rælingen residents working in Oslo, 2021
    rows = [r for r in csv.DictReader(open(shared_path("ssb", "commuting_03321_2020_2022.csv"), newline=""))
            if r["year"] == "2021" and r["home_kommune"] == "3027"]
    total = sum(int(r["employed"]) for r in rows)
    oslo = sum(int(r["employed"]) for r in rows if r["work_kommune"] == "0301")
    assert s["0301"] == pytest.approx(100 * oslo / total, abs=1e-12)


# --------------------------------------------------------------------------- DS
def test_ds_by_hand_for_utsira_2021(dataset):
    from geoproc.model import ds as dsm

    out = dsm.national_demographic_supply(dataset.population_age_sex, dataset.employment, dataset.jobs,
                                          dataset.national, [2021], unit="kommune")
    got = out.set_index("kommune").loc["1151"]
    rates = dsm.calibrated_employment_rates(dataset.population_age_sex, dataset.employment, years=[2021])
    e = {(r.sex, r.age): r.rate for r in rates.itertuples()}
    q = dataset.national.death_probabilities(2021).set_index(["sex", "age"])["q"]
    pop = dataset.population_age_sex
    rows = pop[(pop["kommune"] == "1151") & (pop["year"] == 2021) & pop["age"].between(14, 74)]
    by_hand = sum(r.population * (e.get((r.sex, r.age + 1), 0.0) - e.get((r.sex, r.age), 0.0))
                  - r.population * q[(r.sex, r.age)] * e.get((r.sex, r.age), 0.0) for r in rows.itertuples())
    employed = dataset.employment.set_index(["year", "kommune"]).loc[(2021, "1151"), "employed_by_residence"]
    assert got["ds_abs"] == pytest.approx(by_hand, rel=1e-10)
    assert got["ds_raw"] == pytest.approx(by_hand / employed, rel=1e-10)
    assert out["ds"].mean() == pytest.approx(0.0, abs=1e-15)          # centred over kommuner
    # calibration: national Σ P(1 Jan 2022)·e = employed persons of 2021 (SSB 11618)
    p22 = pop[pop["year"] == 2022].groupby(["sex", "age"])["population"].sum()
    implied = sum(p22.get((s, a), 0) * r for (s, a), r in e.items())
    assert implied == pytest.approx(dataset.employment[dataset.employment["year"] == 2021]["employed_by_residence"].sum())


# --------------------------------------------------------------------------- attractiveness and decomposition
@pytest.fixture(scope="module")
def real_tables(data_dir):
    from dataclasses import replace

    from geoproc.data.assembly import tables_from_data_dir
    from geoproc.model.default_centrality import proxy_centrality
    from geoproc.model.inputs import ModelTables

    tables = ModelTables.from_assembled(tables_from_data_dir(data_dir, [2020, 2021, 2022]))
    return replace(tables, centrality=proxy_centrality(data_dir))


@pytest.fixture(scope="module")
def published_run(real_tables):
    from geoproc.model.inputs import available_years
    from geoproc.model.run import run_model

    assert available_years(real_tables) == [2020, 2021, 2022]
    return run_model(real_tables, years=[2020, 2021, 2022], params="model4")


def test_decomposition_of_ullensaker_adds_up_to_its_population_change_identity(published_run, raw_population):
    dec = published_run.decomposition.set_index(["year", "kommune"])
    for year in published_run.years:
        row = dec.loc[(year, "3033")]
        actual_change = raw_population[(year + 1, "3209")] - raw_population[(year, "3209")]
        assert row["total_change"] == pytest.approx(actual_change, abs=1e-6)
        assert row["births_surplus"] + row["net_migration"] == pytest.approx(actual_change, abs=1e-6)
        parts = row[["immigration", "centrality", "own_jobs", "neighbour_jobs", "ds", "attractiveness"]].sum()
        assert parts == pytest.approx(row["net_migration"], abs=1e-6)
    # the immigration baseline is Norway's net migration rate of the year (2020: 11 401 / 5 367 602)
    assert dec.loc[(2020, "3033"), "immigration"] == pytest.approx(dec.loc[(2020, "3033"), "population"] * 11_401 / 5_367_602)


def test_attractiveness_with_published_coefficients_reports_its_national_mean(published_run):
    a = published_run.attractiveness
    assert published_run.years == [2020, 2021, 2022]
    assert len(a) == 356 * 3 and a["attractiveness"].notna().all()
    nat = published_run.national_mean.set_index("year")
    assert nat.loc["all", "mean"] == pytest.approx(a["attractiveness"].mean(), abs=1e-15)
    assert abs(nat.loc["all", "mean"]) > 1e-4   # not zero: published coefficients, other years and units
    assert any("national mean of the attractiveness" in n for n in published_run.notes)
    assert published_run.centring == "regions" and published_run.sentny_mean == pytest.approx(0.6441, abs=5e-4)
    assert published_run.rankings.groupby("group").size().to_dict() == {"bottom": 10, "top": 10}


@pytest.mark.parametrize("unit", ["kommune", "region"])
def test_attractiveness_with_reestimated_ols_averages_zero(real_tables, unit):
    from geoproc.model import estimate as est
    from geoproc.model.run import run_model

    data = est.estimation_data(real_tables, years=[2020, 2021, 2022], unit=unit)
    fit = est.estimate(data)
    assert fit.params.sentny_mean == pytest.approx(data.attrs["sentny_mean"])
    assert fit.params.centring == ("kommuner" if unit == "kommune" else "regions")
    run = run_model(real_tables, years=[2020, 2021, 2022], params=fit.params, unit=unit)
    assert abs(run.attractiveness["attractiveness"].mean()) < 1e-12
    assert len(run.attractiveness) == fit.n
    if unit == "region":
        assert run.attractiveness["region"].nunique() == 162   # 159 BA regions + 3 own regions


@pytest.fixture(scope="module")
def estimate_out(data_dir, tmp_path_factory):
    from geoproc.cli import main

    out = tmp_path_factory.mktemp("estimate") / "out"
    assert main(["model", "estimate", "--data-dir", str(data_dir), "--by-year", "--unit", "kommune", "-o", str(out)]) == 0
    return out


def test_reestimation_table_beside_published_model4(estimate_out):
    table = pd.read_csv(estimate_out / "coefficients_comparison.csv")
    models = set(table["model"])
    assert {"published model4", "kommune-years 2020–2022", "region-years 2020–2022",
            "kommune-years 2020–2022, NM − national rate", "kommune 2020", "region 2022"} <= models
    kom = table[table["model"] == "kommune-years 2020–2022"].set_index("term")
    assert kom["n"].iloc[0] == 1068
    assert table[table["model"] == "region-years 2020–2022"]["n"].iloc[0] == 486
    # sentny and VRA_t are positive and significant on the real kommune-years, as in the published model
    assert kom.loc["sentny", "estimate"] > 0 and kom.loc["sentny", "p"] < 0.01
    assert kom.loc["vra_t", "estimate"] > 0 and kom.loc["vra_t", "p"] < 0.01
    assert 0.0 < kom["adj_r2"].iloc[0] < 0.5422
    params = json.loads((estimate_out / "params.json").read_text())
    assert params["centring"] == "kommuner" and 0.6 < params["sentny_mean"] < 0.7   # stored with the coefficients
    assert "PROXY" in (estimate_out / "notes.txt").read_text()


# --------------------------------------------------------------------------- projection (MODEL.md §4)
@pytest.fixture(scope="module")
def projection_out(data_dir, tmp_path_factory):
    """The documented command: regio model project --data-dir ../shared/data --base-year 2022 --horizon 2040 -o OUT"""
    from geoproc.cli import main

    out = tmp_path_factory.mktemp("projection") / "out"
    assert main(["model", "project", "--data-dir", str(data_dir), "--base-year", "2022", "--horizon", "2040",
                 "--no-figures", "-o", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def projection(projection_out):
    summary = pd.read_csv(projection_out / "projection_summary.csv", dtype={"kommune": str})
    return summary[summary["scenario"] == "neutral"].set_index("kommune")


REACHED = ["0301", "3027", "3029", "5413"]


@pytest.mark.parametrize("kommune", REACHED)
def test_neutral_projection_reproduces_published_growth(projection, kommune):
    assert len(projection) == 356 and projection["start_year"].eq(2022).all() and projection["end_year"].eq(2040).all()
    got = projection.loc[kommune, "growth_pct"]
    assert abs(got - PUBLISHED_GROWTH[kommune]) <= GROWTH_TOLERANCE_PP, (kommune, got)


def test_neutral_projection_number_of_declining_kommuner(projection):
    declining = int((projection["growth_pct"] < 0).sum())
    assert abs(declining - PUBLISHED_DECLINING) <= DECLINING_TOLERANCE, declining


@pytest.mark.xfail(strict=True, reason="Nesseby: published −24.94 %, achieved −20.77 % (0.17 pp outside ±4 pp). "
                   "No branch table in the data, so primary-industry job decline (MODEL.md §4 branch mix) is "
                   "missing, and the proxy network makes remote kommuner too central (docs/usage-model.md)")
def test_neutral_projection_reproduces_published_growth_nesseby(projection):
    assert abs(projection.loc["5442", "growth_pct"] - PUBLISHED_GROWTH["5442"]) <= GROWTH_TOLERANCE_PP


def test_neutral_projection_nesseby_achieved_value(projection):
    """Regression guard for the documented miss above: Nesseby declines, between −22 % and −20 %."""
    assert -22.0 < projection.loc["5442", "growth_pct"] < -20.0


def test_projection_outputs_identity_scenarios_and_labels(projection_out):
    c = pd.read_csv(projection_out / "projection_components.csv", dtype={"kommune": str})
    assert np.allclose(c["population_end"], c["population_start"] - c["deaths"] + c["births"] + c["migration"])
    totals = pd.read_csv(projection_out / "projection.csv", dtype={"kommune": str})
    neutral = totals[totals["scenario"] == "neutral"].groupby("year")["population"].sum()
    assert neutral[2022] == pytest.approx(5_425_278)        # 1 January 2022, all kommuner
    first = c[(c["year"] == 2022) & (c["scenario"] == "neutral")]
    # births and deaths of 2022 come out near the national file's 51 480 and 45 774
    assert abs(first["births"].sum() / 51_480 - 1) < 0.05 and abs(first["deaths"].sum() / 45_774 - 1) < 0.1
    summary = pd.read_csv(projection_out / "projection_summary.csv", dtype={"kommune": str})
    assert set(summary["scenario"]) == {"neutral", "historical", "high", "low"}
    end = summary.pivot(index="kommune", columns="scenario", values="population_end")
    assert (end["high"] > end["low"]).all()
    nat = pd.read_csv(projection_out / "national_attractiveness.csv").groupby("scenario")["persons"].mean()
    assert nat["neutral"] == 0 and nat["high"] > 0 > nat["low"]   # zero-sum cannot hold for 'high'
    notes = (projection_out / "notes.txt").read_text()
    assert "PROXY" in notes and "zero-sum" in notes and "ILLUSTRATIVE" not in notes
    manifest = json.loads((projection_out / "run_manifest.json").read_text())
    assert manifest["rests_on"]["projection"]["base_year"] == 2022
