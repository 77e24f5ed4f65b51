"""Running the pyproj-based core on QGIS worker threads.

pyproj (3.7) keeps each OS thread's PROJ context pointer in C thread-specific storage, but the
object that owns (and on deletion destroys) that context lives in a Python ``threading.local``.
QGIS runs tasks and background Processing algorithms on QThreadPool threads whose Python thread
state is created and deleted around every call into Python, so after the first task the
``threading.local`` is gone, the context destroyed, and the next task on that OS thread crashes
in PROJ with a dangling pointer (reproduced with 40 QgsTasks creating a CRS each).
:func:`pin_pyproj_context` keeps the owner alive for the life of the process (one small PROJ
context per pool thread), which makes later tasks on the same thread safe.
"""
from __future__ import annotations

import threading

_PINNED: dict[int, object] = {}
_LOCK = threading.Lock()


def pin_pyproj_context() -> None:
    """Create this thread's pyproj PROJ context (if needed) and keep it alive for good.

    pyproj < 3.7 (e.g. Debian 12's 3.4) gives every CRS object its own context: nothing to pin.
    """
    import pyproj

    try:
        from pyproj import _context
    except ImportError:
        return

    pyproj.CRS.from_epsg(4326).is_geographic  # forces the thread's context into existence
    manager = getattr(getattr(_context, "_CONTEXT_MANAGER_LOCAL", None), "context_manager", None)
    if manager is not None:
        with _LOCK:
            _PINNED.setdefault(id(manager), manager)
