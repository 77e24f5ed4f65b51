"""Output preflight: before any computation, make sure no output destroys an input and every
output location can be written.

Checked by :func:`check_outputs` (every command calls it right after parsing its arguments):

1. **No output is an input.** An output file that resolves to an input file – the same path,
   a symbolic link to it (or from it), a hard link, or the GeoPackage that holds an input layer
   (writing replaces the whole file, so a layer inside an input GeoPackage counts) – is refused.
   So is an output folder that is, or holds, an input (the writer replaces the run's files in
   it and removes stale ones from earlier runs).
2. **No two outputs collide** (two options naming the same file).
3. **Every output location is writable**: the nearest existing folder of each output is probed
   by creating (and removing) a temporary file in it – this also catches read-only mounts and
   immutable folders, which permission bits alone miss (e.g. for root) – an existing output
   must be a file (not a folder), a folder output must not be a file, and a parent that exists
   as a file is named.

Messages name the option, the path, the input it would destroy and the fix. Paths are compared
after resolving symbolic links and ``..``; ``os.path.samefile`` catches hard links.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from centrality.errors import InputError

PathLike = str | os.PathLike


def _real(path: PathLike) -> Path:
    return Path(os.path.realpath(os.path.abspath(os.path.expanduser(str(path)))))


def _same(a: Path, b: Path) -> bool:
    if _real(a) == _real(b):
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _inside(child: Path, folder: Path) -> bool:
    c, f = _real(child), _real(folder)
    return c == f or f in c.parents


def _how(out: Path, inp: Path) -> str:
    if Path(os.path.abspath(out)) == Path(os.path.abspath(inp)):
        return "same file"
    if out.is_symlink() or inp.is_symlink():
        return "a symbolic link to the same file"
    if _real(out) == _real(inp):
        return "the same file by another path"
    return "a hard link to the same file"


def _clean(mapping: Mapping[str, PathLike | None] | None) -> dict[str, Path]:
    return {k: Path(os.path.expanduser(str(v))) for k, v in (mapping or {}).items() if v not in (None, "")}


def check_outputs(files: Mapping[str, PathLike | None] | None = None, *,
                  folders: Mapping[str, PathLike | None] | None = None,
                  inputs: Mapping[str, PathLike | None] | None = None,
                  folder_files: Mapping[str, Iterable[str]] | None = None) -> None:
    """Refuse outputs that would overwrite an input or cannot be written (see the module docstring).

    ``files``: option -> output file (e.g. ``{"--out": "result.gpkg", "--od": "od.parquet"}``);
    ``folders``: option -> output folder (``{"--tables": "tables/"}``); ``inputs``: option ->
    input path (a layer's file: pass the GeoPackage path, whatever layer is read);
    ``folder_files``: option of a folder -> names of the files the run writes into it (checked
    against the inputs too). None values are ignored. Raises InputError at the first problem.
    """
    files, folders, inputs = _clean(files), _clean(folders), _clean(inputs)
    listed = {opt: [folders[opt] / name for name in names] for opt, names in (folder_files or {}).items()
              if opt in folders}
    for opt, out in [*files.items(), *((o, p) for o, ps in listed.items() for p in ps)]:
        for in_opt, inp in inputs.items():
            if _same(out, inp):
                raise InputError(f"{opt} '{out}' is the input {in_opt} '{inp}' ({_how(out, inp)}): writing it "
                                 f"would destroy the input. Give {opt} another {'file name' if opt in files else 'folder'}.")
    for opt, folder in folders.items():
        for in_opt, inp in inputs.items():
            if _inside(inp, folder):
                raise InputError(f"{opt} '{folder}' holds the input {in_opt} '{inp}': the run replaces its files in "
                                 f"that folder, which could destroy the input. Give {opt} a folder that holds no "
                                 "input of this run (e.g. a new folder).")
    seen: dict[Path, str] = {}
    for opt, path in [*files.items(), *folders.items(), *((o, p) for o, ps in listed.items() for p in ps)]:
        key = _real(path)
        if key in seen and seen[key] != opt:
            raise InputError(f"{opt} '{path}' is also the output of {seen[key]}. Give each output its own path.")
        seen.setdefault(key, opt)
    probed: set[Path] = set()
    for opt, out in files.items():
        if out.is_dir():
            raise InputError(f"{opt} '{out}' is a folder. Give a file name (e.g. {out / 'result.gpkg'}).")
        _check_writable(opt, out, out.parent, probed)
        if out.exists() and not os.access(out, os.W_OK):
            raise InputError(f"{opt} '{out}' exists and is read-only. Make it writable or choose another name.")
    for opt, folder in folders.items():
        if folder.exists() and not folder.is_dir():
            raise InputError(f"{opt} '{folder}' is a file, not a folder. Give a folder for the outputs.")
        _check_writable(opt, folder, folder, probed)


def _check_writable(opt: str, out: Path, folder: Path, probed: set[Path]) -> None:
    """Probe the nearest existing ancestor of ``folder`` by creating a temporary file in it."""
    existing = Path(os.path.abspath(folder))
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise InputError(f"{opt} '{out}': '{existing}' is a file, so no folder can be made there. Choose another "
                         "output location.")
    if existing in probed:
        return
    try:
        fd, name = tempfile.mkstemp(prefix=".regio-write-test-", dir=existing)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"{opt} '{out}' cannot be written: the folder '{existing}' is not writable ({reason}). "
                         "Choose a folder you can write to, or fix its permissions. Nothing was computed.") from None
    os.close(fd)
    os.unlink(name)
    probed.add(existing)


__all__ = ["check_outputs"]
