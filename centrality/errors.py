"""The one exception type for bad user input.

Every message names the problem *and* the fix, e.g.
``InputError("zones layer has no column 'jobs'; available: id, pop. Pass --jobs-field NAME")``.
The CLI prints it without a traceback; the QGIS plugin turns it into a QgsProcessingException.
"""
from __future__ import annotations


class InputError(ValueError):
    """Bad input from the user (file, column, CRS, value, configuration)."""


def require_columns(columns, required, what: str, hint: str = "") -> None:
    """Raise InputError if any of ``required`` is missing from ``columns``.

    Suggests close matches (misspellings) from the available columns.
    """
    import difflib

    available = [str(c) for c in columns]
    missing = [c for c in required if c not in available]
    if not missing:
        return
    parts = []
    for name in missing:
        close = difflib.get_close_matches(str(name), available, n=1)
        parts.append(f"'{name}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
    msg = f"{what} has no column {', '.join(parts)}; available columns: {', '.join(available) or '(none)'}."
    if hint:
        msg += " " + hint
    raise InputError(msg)


class Cancelled(RuntimeError):
    """Raised when the caller's ``should_stop()`` callback asks a long computation to stop."""
