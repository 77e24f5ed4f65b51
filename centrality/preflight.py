"""Output preflight: every output location is writable before any computation starts.

:meth:`centrality.fileio.OutputSet.check` (which every command calls right after declaring its
outputs, before reading networks or computing) refuses outputs that resolve to inputs; this
module adds what permission bits and path names cannot tell:

- :func:`check_writable` probes the nearest existing folder of every output by creating (and
  removing) a temporary file in it. This catches read-only mounts, immutable folders and
  folders of other users alike — ``os.access`` alone is wrong for root — and it names a parent
  that exists as a *file*. Nothing is created: missing folders are made only at commit.
- :func:`how_same` says how an output and an input are the same file (same path, a symbolic
  link, another path to it, a hard link), for the messages.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from centrality.errors import InputError


def how_same(out: Path, inp: Path) -> str:
    """How an output and an input that are one file are related, for messages.

    Parameters
    ----------
    out, inp : pathlib.Path
        The output and the input path (known to be the same file).

    Returns
    -------
    str
        "the same path", "a symbolic link to the same file", "the same file by another path"
        or "a hard link to the same file".
    """
    if Path(os.path.abspath(out)) == Path(os.path.abspath(inp)):
        return "the same path"
    if Path(out).is_symlink() or Path(inp).is_symlink():
        return "a symbolic link to the same file"
    if os.path.realpath(out) == os.path.realpath(inp):
        return "the same file by another path"
    return "a hard link to the same file"


def _nearest_existing(folder: Path) -> Path:
    existing = Path(os.path.abspath(folder))
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    return existing


def check_writable(files: Mapping[Path, str] | Iterable[tuple[Path, str]] = (),
                   folders: Mapping[Path, str] | Iterable[tuple[Path, str]] = ()) -> None:
    """InputError unless every output file and folder can be written (see the module docstring).

    Parameters
    ----------
    files, folders : mapping or iterable of (path, what)
        Output files and folders with the option that names them (e.g. ``"--out"``).
    """
    probed: set[Path] = set()
    items = [(Path(p), w, False) for p, w in (files.items() if isinstance(files, Mapping) else files)]
    items += [(Path(p), w, True) for p, w in (folders.items() if isinstance(folders, Mapping) else folders)]
    for path, what, is_folder in items:
        existing = _nearest_existing(path if is_folder else path.parent)
        if existing.exists() and not existing.is_dir():
            raise InputError(f"{what} '{path}': '{existing}' is a file, so no folder can be made there. Choose another "
                             "output location.")
        if existing not in probed:
            _probe(existing, what, path)
            probed.add(existing)
        if not is_folder and path.exists() and path.is_file() and os.geteuid() != 0 and not os.access(path, os.W_OK):
            raise InputError(f"{what} '{path}' exists and is read-only. Make it writable or choose another name.")


def _probe(folder: Path, what: str, path: Path) -> None:
    try:
        fd, name = tempfile.mkstemp(prefix=".regio-write-test-", dir=folder)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"{what} '{path}' cannot be written: the folder '{folder}' is not writable ({reason}). "
                         "Choose a folder you can write to, or fix its permissions; nothing was computed.") from None
    os.close(fd)
    os.unlink(name)


__all__ = ["check_writable", "how_same"]
