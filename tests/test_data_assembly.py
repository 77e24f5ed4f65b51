"""geoproc.data.assembly: every data policy applied to the model's input tables is reported in the
result (model notes, the data_assembly table, the run manifest), not only logged."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from geoproc.cli import main
from geoproc.data.assembly import (AssemblyReport, TableFiles, keep_complete_kommuner, tables_from_data_dir,
                                   tables_from_files)
from geoproc.model.inputs import ModelTables
from geoproc.model.run import run_model
from tests.conftest import shared_path
from tests.test_model_cli import files, input_args, synthetic_tables, tables  # noqa: F401  (fixtures)


def test_incomplete_kommuner_are_dropped_and_named():
    jobs = pd.DataFrame({"year": [2020, 2021, 2020], "kommune": ["0301", "0301", "5001"], "jobs": [10.0, 11.0, 5.0]})
    commuting = pd.DataFrame({"year": 2020, "home_kommune": ["0301", "5001", "0301"],
                              "work_kommune": ["0301", "0301", "5001"], "employed": [9.0, 1.0, 1.0]})
    j, c, dropped = keep_complete_kommuner(jobs, commuting)
    assert dropped == ["5001"] and j["kommune"].tolist() == ["0301", "0301"]
    assert c[["home_kommune", "work_kommune"]].values.tolist() == [["0301", "0301"]]
    assert keep_complete_kommuner(j, c)[2] == []


def test_report_reaches_the_model_result():
    tables = synthetic_tables()
    report = AssemblyReport(source="test")
    report.add("incomplete_kommuner", "kommuner 9999 lack jobs in some years and are left out.", ["9999"])
    result = run_model(ModelTables.from_mapping({**{k: v for k, v in tables.items() if k not in ("births", "deaths")},
                                                 "assembly": report}), years=[2020, 2021])
    assert result.assembly is report
    assert result.notes[0] == "data assembly (incomplete_kommuner): kommuner 9999 lack jobs in some years and are left out."
    assert report.frame().to_dict("records") == [{"source": "test", "rule": "incomplete_kommuner", "codes": "9999",
                                                  "detail": "kommuner 9999 lack jobs in some years and are left out."}]


def test_tables_from_files_apply_no_policy(tmp_path):
    tables = synthetic_tables()
    for name in ("jobs", "commuting", "regions"):
        tables[name].to_csv(tmp_path / f"{name}.csv", index=False)
    got = tables_from_files(TableFiles(jobs=str(tmp_path / "jobs.csv"), commuting=str(tmp_path / "commuting.csv"),
                                       regions=str(tmp_path / "regions.csv")))
    assert got.report.steps == [] and got.report.source == "tables: jobs.csv, commuting.csv, regions.csv"
    assert got.names["3001"] == "Kommune 0" and set(got.tables) == {"jobs", "commuting", "regions"}
    assert got.tables["jobs"]["kommune"].tolist()[:2] == ["3001", "3002"]      # codes stay text


@pytest.mark.shared
def test_data_folder_policies_are_reported():
    data = shared_path()
    got = tables_from_data_dir(data, [2020, 2021])
    rules = {s.rule: s for s in got.report.steps}
    # every table on the 2020 structure with the code table (own-year commuting matrices, so no
    # nearest-year rule); the 2005 population lacks two kommuner
    assert set(rules) == {"code_conversion", "interpolated", "missing_kommuner", "own_region"}
    # Snillfjord (5012) went to 5055 Heim, 5056 Hitra and 5059 Orkland; Tysfjord (1850) to 1806 and 1875
    splits = [s for s in got.report.steps if s.rule == "code_conversion" and "split" in s.detail]
    assert splits and {"5055", "5056", "5059", "1806", "1875"} <= set(splits[0].codes)
    assert rules["interpolated"].codes == ("5061",) and "2019" in rules["interpolated"].detail
    assert set(rules["own_region"].codes) == {"3053", "3054", "5061"}
    assert len(got.tables["regions"]) == 356


def test_cli_writes_the_policies_with_the_results(files, tmp_path, capsys):
    """The model's notes are printed and written (data_assembly table when there are policies;
    the manifest's rests_on holds the source and the notes)."""
    out = tmp_path / "out"
    assert main(["model", "attractiveness", *input_args(files), "--no-figures", "-o", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "note: DS uses ILLUSTRATIVE national employment rates" in stdout
    manifest = json.loads((out / "run_manifest.json").read_text())
    assert manifest["command"] == "regio model attractiveness"
    assert manifest["rests_on"]["model"]["data"]["source"].startswith("tables: jobs.csv, commuting.csv")
    assert any("ILLUSTRATIVE" in n for n in manifest["rests_on"]["notes"])
    assert not (out / "data_assembly.csv").exists()          # files from the user: no policy applied
    assert {f["path"] for f in manifest["files"]} >= {"attractiveness.csv", "rankings.csv"}


@pytest.mark.shared
def test_cli_data_dir_run_writes_the_data_assembly_table(tmp_path, capsys):
    out = tmp_path / "est"
    assert main(["model", "estimate", "--data-dir", str(shared_path()), "--years", "2020", "2021", "--terms", "vra_t",
                 "vra_t1", "vra_t2", "-o", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "note: data assembly (interpolated)" in stdout
    policy = pd.read_csv(out / "data_assembly.csv", dtype=str)
    assert set(policy["rule"]) == {"code_conversion", "interpolated", "missing_kommuner", "own_region"}
    manifest = json.loads((out / "run_manifest.json").read_text())
    assert [s["rule"] for s in manifest["rests_on"]["data"]["steps"]] == policy["rule"].tolist()
    assert manifest["inputs"][0]["path"].endswith("data") and manifest["inputs"][0]["folder"] is True
