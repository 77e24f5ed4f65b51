"""The one error path of the `regio` program (issue 13).

Exit statuses:

======  =====================================================================================
0       success
2       a foreseeable failure: bad input, bad option, no network connection, an unwritable output
        (:class:`centrality.errors.InputError`, argparse usage errors). One line
        ``regio: error: <problem and fix>`` on stderr, no traceback, nothing written.
3       an unexpected exception (a bug). Two short lines on stderr: what happened and the path of
        a log file holding the full traceback, the command line and the versions.
130     interrupted (Ctrl-C, SIGINT); 143 terminated (SIGTERM). Outputs are complete or absent:
        the transactional writer discards what was staged, and a commit in progress is finished
        before the signal takes effect.
======  =====================================================================================

Warnings are printed as ``WARNING: <message>`` lines (like the log), never as raw
``file:line: UserWarning: ...`` text with source lines.
Log files: ``$REGIO_LOG_DIR`` or ``<cache>/logs`` (``$REGIO_CACHE_DIR`` or ``~/.cache/regio``),
falling back to the system temporary folder when that cannot be written.
"""
from __future__ import annotations

import datetime as _dt
import os
import platform
import signal
import sys
import tempfile
import traceback
import warnings
from pathlib import Path
from typing import Callable

from centrality.errors import InputError

EXIT_INPUT = 2
EXIT_UNEXPECTED = 3
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


class Terminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM (so cleanup code runs)."""


def log_dir() -> Path:
    """Folder for the traceback logs of unexpected errors.

    Returns
    -------
    pathlib.Path
        ``$REGIO_LOG_DIR``, else ``$REGIO_CACHE_DIR/logs``, else ``~/.cache/regio/logs``.
    """
    if os.environ.get("REGIO_LOG_DIR"):
        return Path(os.environ["REGIO_LOG_DIR"]).expanduser()
    root = os.environ.get("REGIO_CACHE_DIR")
    return (Path(root).expanduser() if root else Path.home() / ".cache" / "regio") / "logs"


def write_crash_log(exc: BaseException, argv: list[str] | None) -> Path:
    """Write the traceback of an unexpected exception with the command line and versions.

    Parameters
    ----------
    exc : BaseException
        The exception (its traceback is written).
    argv : list of str or None
        The command's arguments (None: ``sys.argv[1:]``).

    Returns
    -------
    pathlib.Path
        The log file (in :func:`log_dir`, or the system temporary folder when that fails).
    """
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    text = "".join([
        f"regio crashed at {_dt.datetime.now().isoformat(timespec='seconds')}\n",
        f"command: regio {' '.join(argv if argv is not None else sys.argv[1:])}\n",
        f"python {platform.python_version()} on {platform.platform()}\n",
        _versions(), "\n",
        *traceback.format_exception(type(exc), exc, exc.__traceback__),
    ])
    for folder in (log_dir(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f"regio-crash-{stamp}-", suffix=".log", dir=folder)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            return Path(name)
        except OSError:
            continue
    raise OSError("no folder to write the crash log")  # pragma: no cover (even /tmp failed)


def _versions() -> str:
    parts = []
    for name in ("centrality", "numpy", "pandas", "geopandas", "pyogrio", "numba"):
        module = sys.modules.get(name)
        version = getattr(module, "__version__", None) if module else None
        if version:
            parts.append(f"{name} {version}")
    return "versions: " + ", ".join(parts)


def _on_sigterm(signum, frame):  # pragma: no cover (exercised by the subprocess signal tests)
    raise Terminated()


def _format_warning(message, category, filename, lineno, line=None) -> str:
    """warnings.formatwarning replacement: one ``WARNING: <message>`` line, no file name or source."""
    return f"WARNING: {message}\n"


def run(func: Callable[[], int | None], argv: list[str] | None = None) -> int:
    """Run one command with the error path of the module docstring.

    Parameters
    ----------
    func : callable
        The command, called without arguments; returns an exit status or None (= 0).
    argv : list of str or None
        The command's arguments, for the crash log.

    Returns
    -------
    int
        The exit status: 0, 2 (InputError), 3 (unexpected exception), 130 (SIGINT), 143 (SIGTERM).
    """
    previous_format, warnings.formatwarning = warnings.formatwarning, _format_warning
    previous = None
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not in the main thread (e.g. called from a worker): keep the default
        pass
    try:
        return int(func() or 0)
    except InputError as exc:
        print(f"regio: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("regio: interrupted (SIGINT); nothing is half-written: each output set is complete (old or new) or absent.",
              file=sys.stderr)
        return EXIT_SIGINT
    except Terminated:
        print("regio: terminated (SIGTERM); nothing is half-written: each output set is complete (old or new) or "
              "absent.", file=sys.stderr)
        return EXIT_SIGTERM
    except Exception as exc:  # noqa: BLE001 - the one place that turns a bug into a short report
        try:
            where = f" The traceback is in {write_crash_log(exc, argv)}."
        except OSError:
            where = " (The traceback could not be saved.)"
        print(f"regio: internal error: {type(exc).__name__}: {_one_line(exc)[:300]}", file=sys.stderr)
        print(f"regio: this is a bug, not a problem with your input.{where} Please include it in a report.",
              file=sys.stderr)
        return EXIT_UNEXPECTED
    finally:
        warnings.formatwarning = previous_format
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


__all__ = ["run", "log_dir", "write_crash_log", "Terminated", "EXIT_INPUT", "EXIT_UNEXPECTED", "EXIT_SIGINT",
           "EXIT_SIGTERM"]
