"""Where the data files are: the data folder (``--data-dir`` or ``$REGIO_DATA_DIR``) and its files.

One place for resolving paths, used by every reader of the data folder (:mod:`geoproc.data.loaders`,
:mod:`geoproc.data.harmonise`, :mod:`geoproc.data.national`, :mod:`geoproc.data.dataset`).
"""
from __future__ import annotations

import os
from pathlib import Path

from centrality.errors import InputError

ENV_VAR = "REGIO_DATA_DIR"


def default_data_dir() -> Path:
    """The data folder from ``$REGIO_DATA_DIR``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputError
        When the variable is unset or not a folder.
    """
    value = os.environ.get(ENV_VAR, "").strip()
    if not value:
        raise InputError(f"no data folder given: pass --data-dir FOLDER (the folder with kommuner_2020.geojson "
                         f"and ssb/) or set the environment variable {ENV_VAR}=FOLDER.")
    path = Path(value).expanduser()
    if not path.is_dir():
        raise InputError(f"{ENV_VAR}={value!r} is not an existing folder. Point it (or --data-dir) at the folder "
                         "holding kommuner_2020.geojson and ssb/.")
    return path


def data_folder(data_dir: str | os.PathLike | None) -> Path:
    """The data folder: ``data_dir`` or ``$REGIO_DATA_DIR``.

    Parameters
    ----------
    data_dir : path-like, optional
        The folder (default ``$REGIO_DATA_DIR``).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputError
        When it is not an existing folder.
    """
    if data_dir is None:
        return default_data_dir()
    path = Path(data_dir).expanduser()
    if not path.is_dir():
        raise InputError(f"data folder '{path}' does not exist. Pass --data-dir (or set {ENV_VAR}) to the folder "
                         "holding kommuner_2020.geojson and ssb/.")
    return path


def data_file(data_dir: str | os.PathLike | None, name: str) -> Path:
    """Path of ``name`` in ``data_dir/ssb``, ``data_dir`` or (for the ssb folder itself) its parent.

    Parameters
    ----------
    data_dir : path-like, optional
        The data folder (``../shared/data``-style; default ``$REGIO_DATA_DIR``).
    name : str
        File name.

    Returns
    -------
    pathlib.Path
    """
    base = data_folder(data_dir)
    for candidate in (base / "ssb" / name, base / name, base.parent / name):
        if candidate.is_file():
            return candidate
    raise InputError(f"data file '{name}' not found in '{base}' (nor in '{base / 'ssb'}'). Pass --data-dir "
                     f"(or set {ENV_VAR}) to the folder that holds it; see ../shared/data/ssb/README.md for "
                     "the expected files.")
