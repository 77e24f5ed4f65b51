"""Output preflight (issue 13): outputs that are inputs, collisions, unwritable locations."""
from __future__ import annotations

import os

import pytest

from centrality.errors import InputError
from centrality.preflight import check_outputs
from hostile import unwritable_folder


@pytest.fixture
def inputs(tmp_path):
    (tmp_path / "roads.gpkg").write_bytes(b"GPKG")
    (tmp_path / "zones.gpkg").write_bytes(b"GPKG")
    return {"--network": tmp_path / "roads.gpkg", "--zones": tmp_path / "zones.gpkg"}


def test_output_is_an_input(tmp_path, inputs):
    with pytest.raises(InputError, match=r"--out '.*roads.gpkg' is the input --network '.*roads.gpkg' \(same file\): "
                                         r"writing it would destroy the input"):
        check_outputs({"--out": tmp_path / "roads.gpkg"}, inputs=inputs)
    with pytest.raises(InputError, match=r"is the input --zones .*\(same file\)"):
        check_outputs({"--out": tmp_path / "sub" / ".." / "zones.gpkg"}, inputs=inputs)
    (tmp_path / "link.gpkg").symlink_to(tmp_path / "roads.gpkg")
    with pytest.raises(InputError, match=r"--out '.*link.gpkg' is the input --network .*symbolic link"):
        check_outputs({"--out": tmp_path / "link.gpkg"}, inputs=inputs)
    os.link(tmp_path / "zones.gpkg", tmp_path / "hard.gpkg")
    with pytest.raises(InputError, match=r"hard link"):
        check_outputs({"--out": tmp_path / "hard.gpkg"}, inputs=inputs)
    check_outputs({"--out": tmp_path / "result.gpkg", "--od": tmp_path / "od.parquet"}, inputs=inputs)


def test_output_folders(tmp_path, inputs):
    with pytest.raises(InputError, match=r"--out-dir '.*' holds the input --network .*roads.gpkg.: the run replaces"):
        check_outputs(folders={"--out-dir": tmp_path}, inputs=inputs)
    with pytest.raises(InputError, match=r"--tables '.*zones.gpkg' is a file, not a folder"):
        check_outputs(folders={"--tables": tmp_path / "zones.gpkg"})
    with pytest.raises(InputError, match=r"--tables '.*/zones.gpkg' is the input --zones"):
        check_outputs(folders={"--tables": tmp_path}, folder_files={"--tables": ["zones.gpkg"]},
                      inputs={"--zones": tmp_path / "zones.gpkg"})
    check_outputs(folders={"--out-dir": tmp_path / "new" / "deeper"}, inputs=inputs)
    assert not (tmp_path / "new").exists()  # the probe creates nothing


def test_collisions_and_wrong_kinds(tmp_path):
    with pytest.raises(InputError, match=r"--map '.*a.png' is also the output of --out"):
        check_outputs({"--out": tmp_path / "a.png", "--map": tmp_path / "a.png"})
    (tmp_path / "adir.gpkg").mkdir()
    with pytest.raises(InputError, match=r"--out '.*adir.gpkg' is a folder\. Give a file name"):
        check_outputs({"--out": tmp_path / "adir.gpkg"})
    (tmp_path / "plain").write_text("x")
    with pytest.raises(InputError, match=r"'.*plain' is a file, so no folder can be made there"):
        check_outputs({"--out": tmp_path / "plain" / "sub" / "r.gpkg"})


def test_unwritable_locations_before_any_work(tmp_path):
    with unwritable_folder(tmp_path / "locked") as locked:
        if locked is None:
            pytest.skip("cannot make an unwritable folder on this machine (not root, no chattr)")
        with pytest.raises(InputError, match=r"--out '.*locked/r.gpkg' cannot be written: the folder '.*locked' is "
                                             r"not writable \(.*\)\. Choose a folder you can write to"):
            check_outputs({"--out": locked / "r.gpkg"})
        with pytest.raises(InputError, match=r"--tables '.*locked/t/u' cannot be written"):
            check_outputs({"--out": tmp_path / "ok.gpkg"}, folders={"--tables": locked / "t" / "u"})
    with pytest.raises(InputError, match=r"'/sys' is not writable"):
        check_outputs({"--out": "/sys/result.gpkg"})
