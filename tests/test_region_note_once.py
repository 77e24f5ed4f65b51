"""The kommuner without a BA region (3053 Jevnaker, 3054 Lunner, 5061 Rindal; each its own region)
are reported exactly once per run: one line of the printed output (a note, not also a log
warning), and in the run's notes.txt and run_manifest.json."""
from __future__ import annotations

import json

import pytest

from geoproc.cli import main
from geoproc.data import dataset as dataset_module
from tests.conftest import shared_path

MESSAGE = "have no BA region"
RUNS = {
    "project": ["model", "project", "--base-year", "2022", "--horizon", "2030", "--scenarios", "neutral",
                "--no-figures"],
    "attractiveness": ["model", "attractiveness", "--no-figures"],
}


@pytest.mark.shared
@pytest.mark.parametrize("command", sorted(RUNS))
def test_missing_ba_regions_are_reported_once_per_run(command, tmp_path, capsys, caplog):
    dataset_module._cached.cache_clear()   # the data are read inside this run (a cached load would not log)
    out = tmp_path / command
    assert main([*RUNS[command], "--data-dir", str(shared_path()), "-o", str(out)]) == 0
    printed = capsys.readouterr()
    text = printed.out + printed.err
    logged = [r for r in caplog.records if MESSAGE in r.getMessage()]
    assert text.count(MESSAGE) + len(logged) == 1, (text, [r.getMessage() for r in logged])
    line = next(x for x in text.splitlines() if MESSAGE in x)
    assert line.startswith("note:") and "3053, 3054, 5061" in line
    assert (out / "notes.txt").read_text().count(MESSAGE) == 1
    manifest = json.loads((out / "run_manifest.json").read_text())
    assert any(MESSAGE in n and "3053, 3054, 5061" in n for n in manifest["rests_on"]["notes"]), manifest["rests_on"]
