"""`regio model business` and `regio model attractiveness --data-dir --params estimate` (issue 10)."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from geoproc.cli import main
from tests.business_support import jobs_by_branch, population
from tests.conftest import shared_path

@pytest.fixture
def business_files(tmp_path):
    jobs = tmp_path / "jobs_by_branch.csv"
    jobs_by_branch().to_csv(jobs, index=False)
    pop = tmp_path / "population.csv"
    population().to_csv(pop, index=False)
    return jobs, pop


def test_cli_business_by_hand(business_files, tmp_path, capsys):
    """The hand-computed case of tests/test_model_business.py::test_shift_share_by_hand via the CLI."""
    jobs, pop = business_files
    out = tmp_path / "out"
    assert main(["model", "business", "--jobs-by-branch", str(jobs), "--population", str(pop), "--elasticity", "0.5",
                 "--no-figures", "-o", str(out)]) == 0
    summary = pd.read_csv(out / "business_summary.csv", dtype={"kommune": str}).set_index("kommune")
    a = summary.loc["1001"]
    assert (a["national"], a["branch"], a["population"], a["attractiveness"]) == pytest.approx((0.2, 1.3, 2.5, 1.0))
    assert a["private"] == pytest.approx(5.0) and a["total"] == pytest.approx(7.0)
    assert a["attractiveness_pct"] == pytest.approx(100 * 1.0 / 200)   # of the private jobs at the start
    assert "population elasticity k = 0.500, as given" in (out / "notes.txt").read_text()
    assert json.loads((out / "run_manifest.json").read_text())["command"] == "regio model business"
    capsys.readouterr()


def test_cli_business_template_and_bad_branch(business_files, tmp_path, capsys):
    jobs, pop = business_files
    template = tmp_path / "branches.csv"
    assert main(["model", "business", "--template", str(template)]) == 0
    branches = pd.read_csv(template)
    assert (branches["sector"] == "private").sum() == 25 and set(branches.loc[branches["sector"] == "public", "branch"]) \
        == {"municipal", "county", "state"}
    bad = tmp_path / "bad.csv"
    pd.read_csv(jobs).replace({"retail": "shops"}).to_csv(bad, index=False)
    assert main(["model", "business", "--jobs-by-branch", str(bad), "--population", str(pop), "-o",
                 str(tmp_path / "b")]) == 2
    assert "unknown branches ['shops']" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


@pytest.mark.shared
def test_cli_attractiveness_real_data_reestimated_averages_zero(tmp_path, capsys):
    out = tmp_path / "attr"
    assert main(["model", "attractiveness", "--data-dir", str(shared_path()), "--params", "estimate", "--no-figures",
                 "-o", str(out)]) == 0
    a = pd.read_csv(out / "attractiveness.csv", dtype={"kommune": str})
    assert sorted(a["year"].unique()) == [2020, 2021, 2022] and a["kommune"].nunique() == 356
    assert abs(a["attractiveness"].mean()) < 1e-12
    nat = pd.read_csv(out / "national_mean.csv").set_index("year")
    assert abs(float(nat.loc["all", "mean"])) < 1e-12
    notes = (out / "notes.txt").read_text()
    assert "PROXY" in notes and "re-estimated by OLS" in notes and "cohort-component" in notes
    policy = pd.read_csv(out / "data_assembly.csv", dtype=str)
    assert "proxy_centrality" in set(policy["rule"])
    capsys.readouterr()
