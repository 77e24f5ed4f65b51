"""`regio model ...` and geoproc.model.pipeline on small synthetic tables (and ../shared data)."""
from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from centrality.errors import InputError
from geoproc.cli import main
from geoproc.model import pipeline
from geoproc.model.params import DEFAULT, PUBLISHED_MODELS, load_params
from tests.conftest import shared_path

KOMMUNER = ["3001", "3002", "3003", "3004", "3005", "3006", "3007", "3011"]  # 2020 codes: unknown codes are refused
YEARS = list(range(2014, 2023))
MODEL_YEARS = [2019, 2020, 2021, 2022]


def synthetic_tables(seed: int = 1) -> dict[str, pd.DataFrame]:
    """8 kommuner in 4 regions, 2014–2022: jobs, commuting, population by age/sex, net migration."""
    rng = np.random.default_rng(seed)
    n = len(KOMMUNER)
    base_jobs = rng.uniform(2000, 20000, n)
    growth = rng.normal(0.01, 0.02, (len(YEARS), n))
    jobs_arr = np.round(base_jobs * np.cumprod(1 + growth, axis=0))
    jobs = pd.DataFrame([(y, k, jobs_arr[t, i]) for t, y in enumerate(YEARS) for i, k in enumerate(KOMMUNER)],
                        columns=["year", "kommune", "jobs"])
    flows = rng.uniform(100, 1000, (n, n)) + np.eye(n) * 5000
    commuting = pd.DataFrame([(y, h, w, float(round(flows[i, j] * (1 + 0.01 * t)))) for t, y in enumerate(YEARS)
                              for i, h in enumerate(KOMMUNER) for j, w in enumerate(KOMMUNER)],
                             columns=["year", "home_kommune", "work_kommune", "employed"])
    ages = np.arange(106)
    rows = []
    for t, y in enumerate(YEARS):
        for i, k in enumerate(KOMMUNER):
            for s in ("female", "male"):
                cell = np.round(base_jobs[i] * 2 / 106 * np.exp(-ages / 80) * (1 + 0.01 * t * (i % 3 - 1)))
                rows += [(y, k, s, int(a), float(cell[a])) for a in ages]
    pas = pd.DataFrame(rows, columns=["year", "kommune", "sex", "age", "population"])
    population = pas.groupby(["year", "kommune"], as_index=False)["population"].sum()
    net_migration = population.assign(net_migration=np.round(population["population"] * rng.normal(0.003, 0.006, len(population))))
    centrality = pd.DataFrame({"kommune": KOMMUNER, "index": np.round(rng.uniform(400, 1000, n), 1)})
    regions = pd.DataFrame({"kommune": KOMMUNER, "region": [f"R{i // 2}" for i in range(n)],
                            "name": [f"Kommune {i}" for i in range(n)]})
    births = population.assign(births=np.round(0.011 * population["population"]))[["year", "kommune", "births"]]
    deaths = population.assign(deaths=np.round(0.008 * population["population"]))[["year", "kommune", "deaths"]]
    return {"jobs": jobs, "commuting": commuting, "population": population, "births": births, "deaths": deaths,
            "net_migration": net_migration[["year", "kommune", "net_migration"]],
            "population_by_age_sex": pas, "centrality": centrality, "regions": regions}


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return synthetic_tables()


@pytest.fixture
def files(tmp_path, tables):
    import geopandas as gpd
    from shapely.geometry import box

    folder = tmp_path / "in"
    folder.mkdir()
    paths = {}
    for name, df in tables.items():
        paths[name] = folder / f"{name}.csv"
        df.to_csv(paths[name], index=False)
    polys = gpd.GeoDataFrame({"kommune": KOMMUNER}, geometry=[box(i * 1000, 0, i * 1000 + 900, 900) for i in range(len(KOMMUNER))],
                             crs="EPSG:25833")
    paths["polygons"] = folder / "kommuner.gpkg"
    polys.to_file(paths["polygons"], driver="GPKG")
    return paths


def input_args(files, *extra) -> list[str]:
    return ["--jobs", str(files["jobs"]), "--commuting", str(files["commuting"]), "--population", str(files["population"]),
            "--net-migration", str(files["net_migration"]), "--population-age-sex", str(files["population_by_age_sex"]),
            "--centrality", str(files["centrality"]), "--regions", str(files["regions"]),
            "--years", "2019-2022", *extra]


def model_tables(tables, natural: bool = False) -> dict:
    """The tables run_model gets from the CLI's input_args (births/deaths only when asked)."""
    return {k: v for k, v in tables.items() if natural or k not in ("births", "deaths")}


# ------------------------------------------------------------------------------------------------
# pipeline
# ------------------------------------------------------------------------------------------------
def test_run_model_identities_by_hand(tables):
    res = pipeline.run_model(model_tables(tables), years=MODEL_YEARS)
    a = res.attractiveness.set_index(["year", "kommune"])
    inp = res.inputs.set_index(["year", "kommune"])
    # expected = published model 4 applied to the regressors
    c = DEFAULT.coefficients()
    by_hand = c["intercept"] + sum(c[t] * inp[t] for t in ("vra_t", "vra_t1", "vra_t2", "sentny", "ds"))
    assert np.allclose(a["nm_expected"], by_hand.reindex(a.index))
    # sentny = index/1000 − mean; actual = net migration / population; residual
    cen = tables["centrality"].set_index("kommune")["index"] / 1000
    assert np.allclose(inp.xs(2020, level="year")["sentny"], (cen - cen.mean()).reindex(inp.xs(2020, level="year").index))
    nm = tables["net_migration"].set_index(["year", "kommune"])["net_migration"]
    pop = tables["population"].set_index(["year", "kommune"])["population"]
    assert np.allclose(a["nm_actual"], (nm / pop).reindex(a.index))
    assert np.allclose(a["attractiveness"], a["nm_actual"] - a["nm_expected"])
    # cumulative % = 100 · Σ BA·P / P(2019); rank 1 = highest
    cum = res.cumulative.set_index("kommune")
    persons = (a["attractiveness"] * a["population"]).groupby("kommune").sum()
    p0 = pop.xs(2019, level="year")
    assert np.allclose(cum["attractiveness_pct"], (100 * persons / p0).reindex(cum.index))
    assert list(cum.sort_values("attractiveness_pct", ascending=False)["rank"]) == list(range(1, 9))
    # decomposition: components add up; immigration = 0.2 % of population
    d = res.decomposition
    comp = d[["immigration", "centrality", "own_jobs", "neighbour_jobs", "ds"]].sum(axis=1)
    assert np.allclose(comp, d["expected"]) and np.allclose(d["expected"] + d["attractiveness"], d["net_migration"])
    assert np.allclose(d["immigration"], 0.002 * d["population"])
    vra_split = inp[["vra_t_own", "vra_t_neighbour"]].sum(axis=1)
    assert np.allclose(vra_split, inp["vra_t"])


def test_decomposition_with_births_and_deaths(tables):
    from geoproc.model import project as pj

    res = pipeline.run_model(model_tables(tables, natural=True), years=MODEL_YEARS)
    d = res.decomposition.set_index(["year", "kommune"])
    assert np.allclose(d["total_change"], d["births"] - d["deaths"] + d["net_migration"])
    pas = tables["population_by_age_sex"].query("year == 2020 and kommune == '3002'")
    women = pas[pas["sex"] == "female"].set_index("age")["population"].reindex(pj.AGES).to_numpy()
    assert d.loc[(2020, "3002"), "expected_births"] == pytest.approx((women * pj.illustrative_fertility()).sum())
    assert d.loc[(2020, "3002"), "excess_births"] == pytest.approx(d.loc[(2020, "3002"), "births"] - (women * pj.illustrative_fertility()).sum())
    assert any("ILLUSTRATIVE national fertility" in n for n in res.notes)


def test_run_model_regions_aggregate_kommuner(tables):
    res = pipeline.run_model(model_tables(tables), years=MODEL_YEARS, unit="region", params="model3")
    a = res.attractiveness.set_index(["year", "region"])
    assert sorted(res.cumulative["region"]) == ["R0", "R1", "R2", "R3"]
    nm = tables["net_migration"].merge(tables["regions"], on="kommune").groupby(["year", "region"])["net_migration"].sum()
    pop = tables["population"].merge(tables["regions"], on="kommune").groupby(["year", "region"])["population"].sum()
    assert np.allclose(a["nm_actual"], (nm / pop).reindex(a.index))
    assert "ds" not in res.inputs.columns   # model 3 has no DS term, so no age/sex table is needed


def test_missing_inputs_name_the_fix(tables):
    t = model_tables(tables)
    with pytest.raises(InputError, match="--centrality"):
        pipeline.run_model({**t, "centrality": None}, years=MODEL_YEARS)
    with pytest.raises(InputError, match="model3"):
        pipeline.run_model({**t, "population_by_age_sex": None}, years=MODEL_YEARS)
    assert pipeline.run_model({**t, "centrality": None}, years=MODEL_YEARS, params="model1").params.name == "model1"
    # centrality= / regions= keyword arguments replace the tables' ones (the QGIS/scenario entry point)
    via_kw = pipeline.run_model({**t, "centrality": None, "regions": None}, years=MODEL_YEARS, unit="region",
                                centrality=t["centrality"], regions=t["regions"])
    direct = pipeline.run_model(t, years=MODEL_YEARS, unit="region")
    pd.testing.assert_frame_equal(via_kw.cumulative, direct.cumulative)


def test_net_migration_residual_by_hand():
    pop = pd.DataFrame({"year": [2020, 2020, 2020, 2021, 2021, 2021], "kommune": ["0301"] * 6,
                        "sex": ["female"] * 6, "age": [0, 1, 105, 0, 1, 2], "population": [10.0, 20.0, 4.0, 12.0, 11.0, 25.0]})
    q = pd.DataFrame({"sex": ["female"] * 106, "age": range(106), "q": [0.1] * 105 + [0.5]})
    nm = pipeline.net_migration_residual(pop, q)
    # aged ≥ 1 in 2021: 11 + 25 = 36; survivors of 2020: 10·0.9 + 20·0.9 + 4·0.5 = 29
    assert nm.to_dict("records") == [{"year": 2020, "kommune": "0301", "net_migration": pytest.approx(7.0)}]


def test_projection_expected_fn_balances_domestic_moves():
    kommuner = ["0001", "0002", "0003"]
    fn = pipeline.projection_expected_fn(PUBLISHED_MODELS["model3"], kommuner,
                                         sentny=pd.Series({"0001": 0.2, "0002": 0.0, "0003": -0.1}))
    pop = np.zeros((3, 2, 106))
    pop[:, 0, 30] = [100.0, 300.0, 600.0]
    rate = fn(2022, pop)
    raw = 0.0257613 * np.array([0.2, 0.0, -0.1])
    assert np.allclose(rate, raw - (raw * [100, 300, 600]).sum() / 1000)
    assert (rate * [100, 300, 600]).sum() == pytest.approx(0.0, abs=1e-12)


# ------------------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------------------
def test_cli_attractiveness_outputs_equal_library(files, tables, tmp_path, capsys):
    import geopandas as gpd

    out = tmp_path / "out"
    rc = main(["model", "attractiveness", *input_args(files), "--kommuner", str(files["polygons"]), "-o", str(out)])
    assert rc == 0
    res = pipeline.run_model(model_tables(tables), years=MODEL_YEARS)
    got = pd.read_csv(out / "attractiveness.csv", dtype={"kommune": str})
    assert list(got.columns) == ["year", "kommune", "population", "net_migration", "nm_actual", "nm_expected",
                                 "attractiveness", "attractiveness_persons"]
    assert len(got) == 8 * 4
    pd.testing.assert_frame_equal(got, res.attractiveness.reset_index(drop=True), check_dtype=False)
    summary = pd.read_csv(out / "attractiveness_summary.csv", dtype={"kommune": str})
    assert summary["name"].tolist() == [f"Kommune {KOMMUNER.index(k)}" for k in summary["kommune"]]
    assert np.allclose(summary["attractiveness_pct"], res.cumulative["attractiveness_pct"])
    gpkg = gpd.read_file(out / "attractiveness.gpkg")
    assert len(gpkg) == 8 and np.allclose(gpkg.set_index("kommune")["attractiveness_pct"],
                                          res.cumulative.set_index("kommune")["attractiveness_pct"].reindex(gpkg["kommune"]))
    for fig in ("expectation_line", "ranking", "attractiveness_map", "attractiveness_series", "actual_vs_expected"):
        assert (out / "figures" / f"{fig}.png").stat().st_size > 5000 and (out / "figures" / f"{fig}.svg").exists()
    # the expectation line printed in the scatter equals numpy's fit of the unit means
    means = res.inputs.groupby("kommune")["vra_t"].mean() * 100
    nm = res.attractiveness.groupby("kommune")["nm_actual"].mean() * 100
    r2 = np.corrcoef(means, nm.reindex(means.index))[0, 1] ** 2
    assert f"R² = {r2:.4f}" in (out / "figures" / "expectation_line.svg").read_text(encoding="utf-8")
    assert "attractiveness.gpkg" in capsys.readouterr().out


def test_cli_decompose(files, tables, tmp_path, capsys):
    from centrality.fileio import parquet_available

    fmt = "parquet" if parquet_available() else "csv"
    out = tmp_path / "dec"
    rc = main(["model", "decompose", *input_args(files), "--format", fmt, "--units", "3001", "3003",
               "--births", str(files["births"]), "--deaths", str(files["deaths"]),
               "--kommuner", str(files["polygons"]), "-o", str(out)])
    assert rc == 0
    res = pipeline.run_model(model_tables(tables, natural=True), years=MODEL_YEARS)
    path = out / f"decomposition_mean.{fmt}"
    got = pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path, dtype={"kommune": str})
    pd.testing.assert_frame_equal(got, res.decomposition_mean.reset_index(drop=True), check_dtype=False)
    svg = (out / "figures" / "decomposition.svg").read_text(encoding="utf-8")
    total_3003 = res.decomposition_mean.set_index("kommune").loc["3003", "total_change"]
    assert "Kommune 2" in svg and f"{total_3003:+,.0f}".replace(",", " ") in svg and "births_surplus" in svg
    assert (out / "figures" / "decomposition.png").exists() and (out / "decomposition.gpkg").exists()
    if fmt == "csv":  # Parquet requested without a usable pyarrow: clear error, nothing written
        assert main(["model", "decompose", *input_args(files), "--format", "parquet", "-o", str(tmp_path / "pq")]) == 2
        assert "use --format csv" in capsys.readouterr().err and not (tmp_path / "pq").exists()


def test_cli_estimate_equals_least_squares(files, tmp_path, capsys):
    out = tmp_path / "est"
    rc = main(["model", "estimate", *input_args(files), "--unit", "kommune", "-o", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "VRA_t-1" in printed and "model4" in printed and "adj. R²" in printed
    data = pd.read_csv(out / "estimation_data.csv", dtype={"kommune": str})
    assert len(data) == 8 * 4
    terms = ["vra_t", "vra_t1", "vra_t2", "sentny", "ds"]
    X = np.column_stack([np.ones(len(data)), data[terms].to_numpy()])
    beta = np.linalg.lstsq(X, data["nm_actual"].to_numpy(), rcond=None)[0]
    coefs = pd.read_csv(out / "coefficients.csv").set_index("term")["estimate"]
    assert np.allclose(coefs[["intercept", *terms]].to_numpy(), beta, rtol=1e-8, atol=1e-12)
    assert f"{beta[1]:.7f}" in printed
    params = load_params(out / "params.json")
    assert params.vra[0] == pytest.approx(beta[1]) and params.ds == pytest.approx(beta[5])


def test_cli_project_synthetic_with_attractiveness(files, tables, tmp_path):
    import geopandas as gpd

    attr = pipeline.run_model(model_tables(tables), years=MODEL_YEARS).attractiveness
    attr_path = tmp_path / "attr.csv"
    attr.to_csv(attr_path, index=False)
    pas2022 = tables["population_by_age_sex"].query("year == 2022")
    pas_path = tmp_path / "pas.csv"
    pas2022.to_csv(pas_path, index=False)
    out = tmp_path / "proj"
    rc = main(["model", "project", "--population-age-sex", str(pas_path), "--attractiveness", str(attr_path),
               "--centrality", str(files["centrality"]), "--jobs", str(files["jobs"]), "--horizon", "2030",
               "--kommuner", str(files["polygons"]), "--units", "3001", "-o", str(out)])
    assert rc == 0
    lib = pipeline.run_projection(pas2022, horizon=2030, centrality=tables["centrality"], jobs=tables["jobs"],
                                  attractiveness=attr)
    summary = pd.read_csv(out / "projection_summary.csv", dtype={"kommune": str})
    pd.testing.assert_frame_equal(summary, lib.summary(), check_dtype=False)
    assert set(summary["scenario"]) == {"neutral", "historical", "high", "low"}
    proj = pd.read_csv(out / "projection.csv", dtype={"kommune": str})
    assert len(proj) == 8 * 9 * 4 and proj["population"].min() >= 0   # 2022..2030 incl. base, 4 scenarios
    nat = pd.read_csv(out / "national_attractiveness.csv")
    hist = attr.groupby("kommune")["attractiveness"].mean()
    start = pas2022.groupby("kommune")["population"].sum()
    first = nat.query("scenario == 'historical' and year == 2022")["persons"].item()
    assert first == pytest.approx(float((hist * start.reindex(hist.index)).sum()))
    gpkg = gpd.read_file(out / "projection.gpkg")
    assert {"growth_pct_neutral", "growth_pct_high"} <= set(gpkg.columns) and len(gpkg) == 8
    for fig in ("fan_chart_national", "fan_chart_3001", "projection_map"):
        assert (out / "figures" / f"{fig}.png").exists()


def test_cli_ssb_uses_client_and_fails_clearly_offline(files, tables, tmp_path, monkeypatch, capsys):
    from geoproc.data import ssb_client

    emp = tables["jobs"].rename(columns={"jobs": "employed_by_workplace"})
    monkeypatch.setattr(ssb_client, "fetch_employment", lambda years: emp[emp["year"].isin(years)])
    monkeypatch.setattr(ssb_client, "fetch_commuting", lambda years: tables["commuting"][tables["commuting"]["year"].isin(years)])
    pas = tables["population_by_age_sex"]
    monkeypatch.setattr(ssb_client, "fetch_population_by_age_sex", lambda years: pas[pas["year"].isin(years)])
    out = tmp_path / "ssb"
    rc = main(["model", "attractiveness", "--ssb", "--net-migration", str(files["net_migration"]), "--centrality",
               str(files["centrality"]), "--years", "2019-2021", "--no-figures", "-o", str(out)])
    assert rc == 0
    lib = pipeline.run_model(model_tables(tables), years=[2019, 2020, 2021])
    got = pd.read_csv(out / "attractiveness_summary.csv", dtype={"kommune": str})
    assert np.allclose(got["attractiveness_pct"], lib.cumulative["attractiveness_pct"])

    def offline(*args, **kwargs):
        raise InputError(ssb_client.OFFLINE_HINT.format(detail="no network"))

    monkeypatch.setattr(ssb_client, "fetch_employment", offline)
    rc = main(["model", "attractiveness", "--ssb", "--years", "2021", "-o", str(tmp_path / "offline")])
    assert rc == 2 and "cannot reach data.ssb.no" in capsys.readouterr().err
    assert not (tmp_path / "offline").exists()


@pytest.mark.parametrize("mutate, message", [
    (lambda t: {**t, "jobs": t["jobs"].rename(columns={"jobs": "job"})}, "did you mean 'job'"),
    (lambda t: {**t, "population": t["population"].assign(population=np.nan)}, "missing (NaN/NULL) values"),
    (lambda t: {**t, "centrality": t["centrality"].assign(index=5000.0)}, "0–1000"),
])
def test_cli_bad_input_exit_2_and_no_outputs(files, tables, tmp_path, capsys, mutate, message):
    bad = mutate(dict(tables))
    for name, df in bad.items():
        df.to_csv(files[name], index=False)
    out = tmp_path / "bad"
    rc = main(["model", "attractiveness", *input_args(files), "--kommuner", str(files["polygons"]), "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("regio: error:") and message in err and "Traceback" not in err
    assert not out.exists()


def test_cli_usage_errors(files, tmp_path, capsys):
    assert main(["model", "attractiveness", *input_args(files)[:-2], "--years", "20x9", "-o", str(tmp_path / "a")]) == 2
    assert "cannot read the year '20x9'" in capsys.readouterr().err
    assert main(["model", "project", "-o", str(tmp_path / "p")]) == 2
    assert "--population-age-sex" in capsys.readouterr().err
    assert main(["model", "attractiveness", "--jobs", str(tmp_path / "nope.csv"), "--commuting", str(files["commuting"]),
                 "--years", "2020", "-o", str(tmp_path / "b")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not any((tmp_path / d).exists() for d in ("a", "b", "p"))


@pytest.mark.shared
def test_cli_project_real_data_with_an_attractiveness_table(tmp_path):
    data = shared_path()
    pas = pd.read_csv(shared_path("ssb", "population_by_age_sex_2020_2021.csv"), dtype={"kommune": str})
    kommuner = sorted(pas["kommune"].unique())
    attr = pd.DataFrame({"year": 2020, "kommune": kommuner, "attractiveness": np.linspace(-0.004, 0.004, len(kommuner))})
    attr.to_csv(tmp_path / "attr.csv", index=False)
    out = tmp_path / "proj"
    rc = main(["model", "project", "--data-dir", str(data), "--attractiveness", str(tmp_path / "attr.csv"),
               "--horizon", "2040", "--no-figures", "-o", str(out)])
    assert rc == 0
    proj = pd.read_csv(out / "projection.csv", dtype={"kommune": str})
    # base year 2022 (the default with --data-dir), 1 January 2022..2040
    assert len(proj) == 356 * 19 * 4 and proj["population"].notna().all() and (proj["population"] >= 0).all()
    national = proj.query("scenario == 'neutral'").groupby("year")["population"].sum()
    assert national[2022] == 5_425_278 and 5.4e6 < national[2040] < 6.2e6
    summary = pd.read_csv(out / "projection_summary.csv", dtype={"kommune": str})
    assert summary.query("kommune == '0301'")["name"].iloc[0] == "Oslo"


def test_projection_expected_fn_ds_term_follows_projected_population():
    from geoproc.model import ds as dsm

    kommuner = ["0001", "0002"]
    pop = np.zeros((2, 2, 106))
    pop[0, 0, 14] = 500.0      # young: entering the labour force -> positive DS
    pop[1, 1, 73] = 500.0      # old: leaving it -> negative DS
    pop[:, :, 40] += 1000.0
    jobs = pd.Series({"0001": 800.0, "0002": 1200.0})
    fn = pipeline.projection_expected_fn(DEFAULT, kommuner, jobs=jobs, balance=False)
    tidy = pd.DataFrame([(2022, k, s, a, pop[i, si, a]) for i, k in enumerate(kommuner) for si, s in enumerate(("female", "male"))
                         for a in range(106)], columns=["year", "kommune", "sex", "age", "population"])
    ds = dsm.demographic_supply(tidy, pd.DataFrame({"year": 2022, "kommune": kommuner, "jobs": jobs.to_numpy()}),
                                dsm.illustrative_employment_rates(), dsm.illustrative_death_probabilities())
    first = fn(2022, pop)
    assert np.allclose(first, DEFAULT.ds * ds["ds"].to_numpy())
    assert first[0] < 0 < first[1]            # b_ds < 0: more labour supply -> less in-migration
    # doubling everybody doubles DS_abs and (through national employment) the jobs: same DS
    assert np.allclose(fn(2023, 2 * pop), first)


def test_cli_failure_while_writing_leaves_no_outputs(files, tmp_path, monkeypatch, capsys):
    from geoproc.plots import charts

    def broken(*args, **kwargs):
        raise InputError("figure failed on purpose")

    monkeypatch.setattr(charts, "ranking_bars", broken)
    out = tmp_path / "half"
    rc = main(["model", "attractiveness", *input_args(files), "-o", str(out)])
    assert rc == 2 and "figure failed on purpose" in capsys.readouterr().err
    assert not out.exists()   # tables and figures written before the failure were removed


def test_cli_project_factors_and_profile(tmp_path, tables):
    pas = tables["population_by_age_sex"].query("year == 2022")
    pas.to_csv(tmp_path / "pas.csv", index=False)
    pd.DataFrame({"kommune": KOMMUNER, "fertility_factor": 1.2, "mortality_factor": 0.0}).to_csv(tmp_path / "f.csv", index=False)
    profile = pd.DataFrame({"kommune": "3001", "sex": ["female", "male"], "age": [25, 25], "weight": [1.0, 3.0]})
    profile.to_csv(tmp_path / "prof.csv", index=False)
    out = tmp_path / "proj"
    rc = main(["model", "project", "--population-age-sex", str(tmp_path / "pas.csv"), "--factors", str(tmp_path / "f.csv"),
               "--migration-profile", str(tmp_path / "prof.csv"), "--horizon", "2023", "--immigration-rate", "0.01",
               "--by-age", "--no-figures", "-o", str(out)])
    assert rc == 0
    comp = pd.read_csv(out / "projection_components.csv", dtype={"kommune": str}).set_index("kommune")
    assert (comp["deaths"] == 0).all()                       # mortality factor 0
    from geoproc.model import project as pj
    women = pas.query("kommune == '3001' and sex == 'female'").set_index("age")["population"].reindex(pj.AGES).to_numpy()
    assert comp.loc["3001", "births"] == pytest.approx(1.2 * (women * pj.illustrative_fertility()).sum())
    proj = pd.read_csv(out / "projection.csv", dtype={"kommune": str})
    k0 = proj.query("kommune == '3001' and year == 2023").set_index(["sex", "age"])["population"]
    k0_base = pas.query("kommune == '3001'").set_index(["sex", "age"])["population"]
    migrants = comp.loc["3001", "immigration"]               # 1 % of the population, all aged 25: 1/4 women
    assert k0[("female", 25)] == pytest.approx(k0_base[("female", 24)] + migrants / 4)
    assert k0[("male", 25)] == pytest.approx(k0_base[("male", 24)] + 3 * migrants / 4)
    assert k0[("male", 40)] == pytest.approx(k0_base[("male", 39)])
