"""The one exception type for bad user input.

Every message names the problem *and* the fix, e.g.
``InputError("zones layer has no column 'jobs'; available: id, pop. Pass --jobs-field NAME")``.
The CLI prints it without a traceback; the QGIS plugin turns it into a QgsProcessingException.
"""
from __future__ import annotations

import difflib


class InputError(ValueError):
    """Bad input from the user (file, column, CRS, value, configuration)."""


def require_columns(columns, required, what: str, hint: str = "") -> None:
    """Raise InputError if any of ``required`` is missing from ``columns``.

    Parameters
    ----------
    columns : iterable
        The available column names.
    required : iterable
        The needed names.
    what : str
        The table, for the message (e.g. "zones layer").
    hint : str, optional
        The fix, appended to the message.

    Raises
    ------
    InputError
        Naming the missing columns with close matches (misspellings) and the available ones.
    """
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


def check_keys(given, allowed, where: str) -> None:
    """Raise InputError for a key of ``given`` that is not in ``allowed`` (e.g. a TOML table).

    Parameters
    ----------
    given : iterable of str
        The keys found.
    allowed : iterable of str
        The valid keys.
    where : str
        Where the keys are (e.g. "[impact]"), for the message.

    Raises
    ------
    InputError
        Naming the first unknown key, the closest allowed key and all allowed keys.
    """
    allowed = list(allowed)
    for key in given:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise InputError(f"{where}: unknown key '{key}'.{hint} Allowed keys: {', '.join(sorted(allowed))}.")


def listing(values, limit: int = 10) -> str:
    """Comma-separated listing of at most ``limit`` values for error messages, with '(+N more)'.

    Parameters
    ----------
    values : iterable
        The values (shown with ``str``).
    limit : int, default 10
        How many to show.

    Returns
    -------
    str
        E.g. ``"0301, 5001 (+3 more)"``.
    """
    values = list(values)
    text = ", ".join(str(v) for v in values[:limit])
    if len(values) > limit:
        text += f" (+{len(values) - limit} more)"
    return text


def thousands(value: float) -> str:
    """A count with a space as thousands separator.

    Parameters
    ----------
    value : float
        The count (rounded to whole units).

    Returns
    -------
    str
        E.g. ``"1 234 567"``.
    """
    return f"{value:,.0f}".replace(",", " ")


class Cancelled(RuntimeError):
    """Raised when the caller's ``should_stop()`` callback asks a long computation to stop."""
