"""SIGINT and SIGTERM during the search and during writing (issue 13): the outputs afterwards are
either the complete old ones or the complete new ones, never a mix, and no staging files remain.

A real `regio centrality` process (61 zones of the synthetic demo region, with --tables and
--map) is paused at a phase by ``$REGIO_PAUSE_AT`` (:func:`centrality.interrupts.pause_point`; it
creates a marker file and waits until the test removes it), so the signal arrives exactly there:

- ``search``: the travel-time search has started  -> the old outputs, unchanged;
- ``write``: every output staged, nothing moved    -> the old outputs, unchanged;
- ``commit``: one file moved into place            -> the commit finishes, the new outputs complete.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
NET = ["--time-fw-field", "time_min", "--time-unit", "min", "--class-field", "highway", "--direction-field", "oneway"]
NEW_OPTIONS = ["--cutoff", "60", "--limits", "30,60", "--decay", "linear:60"]


def _argv(inputs: Path, out: Path, *extra: str) -> list[str]:
    return ["centrality", "--network", str(inputs / "roads.gpkg"), *NET, "--zones", str(inputs / "small.gpkg"),
            "--zones-layer", "zones", "--group-field", "kommune", "--out", str(out / "result.gpkg"),
            "--tables", str(out / "tables"), "--map", str(out / "index.png"), *extra]


def _start(argv: list[str], env: dict | None = None) -> subprocess.Popen:
    code = "import sys; from geoproc.cli import main; sys.exit(main(sys.argv[1:]))"
    full_env = {**os.environ, "MPLBACKEND": "Agg", **(env or {})}
    return subprocess.Popen([sys.executable, "-c", code, *argv], cwd=REPO, env=full_env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _run(argv: list[str]) -> None:
    proc = _start(argv)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err


def snapshot(folder: Path) -> dict[str, str]:
    """{relative path: sha256} of every file below ``folder`` (hidden staging files included)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Inputs, the old outputs (default options) and a reference of the new outputs (NEW_OPTIONS)."""
    from centrality.synthetic import demo_region, write_demo_data

    base = tmp_path_factory.mktemp("signals")
    inputs = base / "inputs"
    region = demo_region()
    write_demo_data(inputs, region=region)
    region.zones.iloc[::13].to_file(inputs / "small.gpkg", layer="zones", driver="GPKG")
    old, new = base / "old", base / "new"
    _run(_argv(inputs, old))
    _run(_argv(inputs, new, *NEW_OPTIONS))
    return inputs, old, new


def _zones_table(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "tables" / "zones.csv")


@pytest.mark.parametrize("phase", ["search", "write", "commit"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_leaves_old_or_new_outputs_complete(runs, tmp_path, phase, sig):
    inputs, old, new = runs
    out = tmp_path / "out"
    shutil.copytree(old, out, copy_function=shutil.copy2)
    before = snapshot(out)
    marker = tmp_path / "paused"
    proc = _start(_argv(inputs, out, *NEW_OPTIONS),
                  env={"REGIO_PAUSE_AT": phase, "REGIO_PAUSE_FILE": str(marker), "REGIO_PAUSE_MAX_S": "120"})
    deadline = time.monotonic() + 180
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "the run never reached the pause point"
        time.sleep(0.05)
    proc.send_signal(sig)
    time.sleep(0.3)            # the signal is pending (commit) or has raised (search/write)
    marker.unlink(missing_ok=True)
    stdout, stderr = proc.communicate(timeout=180)
    assert proc.returncode == (130 if sig == signal.SIGINT else 143), stderr
    assert "Traceback" not in stderr
    assert "nothing is half-written" in stderr
    after = snapshot(out)
    assert not [p for p in after if ".regio-staging-" in p or ".tmp" in p], "staging files left behind"
    if phase in ("search", "write"):
        assert after == before, "the old outputs changed"
        return
    # commit: the signal waited for the commit, so the new outputs are complete and consistent
    assert set(after) == set(snapshot(new)), "not the same set of files as an uninterrupted new run"
    pd.testing.assert_frame_equal(_zones_table(out), _zones_table(new))
    assert not _zones_table(out).equals(_zones_table(old))
    manifests = [p for p in after if p.endswith("manifest.json")]
    assert manifests
    for name in manifests:
        listed = json.loads((out / name).read_text(encoding="utf-8"))["files"]
        for entry in listed:
            path = (out / name).parent / entry["path"]
            assert path.is_file() and path.stat().st_size == entry["bytes"], entry
