"""Output preflight (issue 13) through OutputSet.check: outputs that are inputs (paths, links,
input GeoPackages), collisions, and unwritable locations, all before any work."""
from __future__ import annotations

import os

import pytest

from centrality.errors import InputError
from centrality.fileio import OutputSet
from centrality.preflight import check_writable
from hostile import unwritable_folder


@pytest.fixture
def inputs(tmp_path):
    (tmp_path / "roads.gpkg").write_bytes(b"GPKG")
    (tmp_path / "zones.gpkg").write_bytes(b"GPKG")
    return [tmp_path / "roads.gpkg", tmp_path / "zones.gpkg"]


def check(inputs=(), files=(), folders=()):
    out = OutputSet(inputs=inputs)
    for path, what in files:
        out.declare(path, what)
    for path, what in folders:
        out.declare_folder(path, what=what)
    out.check()


def test_output_is_an_input(tmp_path, inputs):
    with pytest.raises(InputError, match=r"--out '.*roads.gpkg' is an input of this run \(an input GeoPackage; "
                                         r"writing any layer rewrites the whole file\)\. Give the output"):
        check(inputs, [(tmp_path / "roads.gpkg", "--out")])
    with pytest.raises(InputError, match=r"--out '.*/zones.gpkg' is an input of this run \(an input GeoPackage"):
        check(inputs, [(tmp_path / "sub" / ".." / "zones.gpkg", "--out")])
    (tmp_path / "link.gpkg").symlink_to(tmp_path / "roads.gpkg")
    with pytest.raises(InputError, match=r"--out '.*link.gpkg' is an input of this run .*; it is a symbolic link to the same "
                                         r"file as the input '.*roads.gpkg'"):
        check(inputs, [(tmp_path / "link.gpkg", "--out")])
    os.link(tmp_path / "zones.gpkg", tmp_path / "hard.gpkg")
    with pytest.raises(InputError, match=r"it is a hard link to the same file as the input"):
        check(inputs, [(tmp_path / "hard.gpkg", "--out")])
    check(inputs, [(tmp_path / "result.gpkg", "--out"), (tmp_path / "od.parquet", "--od")])


def test_collisions_and_wrong_kinds(tmp_path):
    with pytest.raises(InputError, match=r"--map '.*a.png' is also the output --out"):
        check(files=[(tmp_path / "a.png", "--out"), (tmp_path / "a.png", "--map")])
    (tmp_path / "adir.gpkg").mkdir()
    with pytest.raises(InputError, match=r"--out '.*adir.gpkg' is a folder\. Give a file name"):
        check(files=[(tmp_path / "adir.gpkg", "--out")])
    (tmp_path / "plain").write_text("x")
    with pytest.raises(InputError, match=r"'.*plain' is a file, so no folder can be made there"):
        check(files=[(tmp_path / "plain" / "sub" / "r.gpkg", "--out")])
    check(folders=[(tmp_path / "new" / "deeper", "--out-dir")])
    assert not (tmp_path / "new").exists()  # the probe creates nothing


def test_unwritable_locations_before_any_work(tmp_path):
    with unwritable_folder(tmp_path / "locked") as locked:
        if locked is None:
            pytest.skip("cannot make an unwritable folder on this machine (not root, no chattr)")
        with pytest.raises(InputError, match=r"--out '.*locked/r.gpkg' cannot be written: the folder '.*locked' is "
                                             r"not writable \(.*\)\. Choose a folder you can write to"):
            check(files=[(locked / "r.gpkg", "--out")])
        with pytest.raises(InputError, match=r"--tables '.*locked/t/u' cannot be written"):
            check(files=[(tmp_path / "ok.gpkg", "--out")], folders=[(locked / "t" / "u", "--tables")])
        assert sorted(p.name for p in locked.iterdir()) == []
    with pytest.raises(InputError, match=r"'/sys' is not writable"):
        check_writable({"/sys/result.gpkg": "--out"})
