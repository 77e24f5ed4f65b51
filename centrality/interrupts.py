"""Signals and the write phase: outputs are complete or absent, whatever arrives when.

- :func:`deferred_signals` holds SIGINT and SIGTERM back while the outputs of a run are moved
  into place (a few renames), so an interrupt during the commit takes effect right after it: the
  new outputs are then complete (and the process still stops with the signal's exit status). Before the commit, an interrupt raises in the main thread
  (KeyboardInterrupt, or :class:`geoproc.cli.errorpath.Terminated` for SIGTERM) and the
  transactional writer discards what was staged: the old outputs stay complete.
- :func:`pause_point` makes these phases observable for the signal tests without racing: when
  ``$REGIO_PAUSE_AT`` names the phase (``search``, ``write`` or ``commit``), the process creates
  the file ``$REGIO_PAUSE_FILE`` and waits (up to ``$REGIO_PAUSE_MAX_S``, default 60 s) until
  the test removes it. Unset, it costs one dictionary lookup.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path
from typing import Iterator

DEFERRED = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGINT/SIGTERM back for the duration of the block; a signal that arrived meanwhile is
    raised again right after it (with the handlers that were in place before).

    Python runs signal handlers in the main thread whichever thread the OS delivered the signal
    to, so the handlers are swapped for one that only records the signal (blocking the signal
    with ``pthread_sigmask`` would only cover the main thread, not the worker threads). No-op
    outside the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: pending.append(signum)) for sig in DEFERRED}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if pending:
            signal.raise_signal(pending[0])


def pause_point(phase: str) -> None:
    """Wait here while the test that set ``$REGIO_PAUSE_AT=phase`` holds the pause.

    Parameters
    ----------
    phase : str
        Name of this point: ``"search"``, ``"write"`` or ``"commit"`` (see the module docstring).
        Without ``$REGIO_PAUSE_AT`` naming it, the call returns at once.
    """
    if os.environ.get("REGIO_PAUSE_AT") != phase:
        return
    marker = os.environ.get("REGIO_PAUSE_FILE")
    if not marker:
        return
    os.environ.pop("REGIO_PAUSE_AT", None)  # pause once per process
    path = Path(marker)
    path.write_text(f"{os.getpid()} {phase}\n", encoding="utf-8")
    deadline = time.monotonic() + float(os.environ.get("REGIO_PAUSE_MAX_S", "60"))
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)


__all__ = ["deferred_signals", "pause_point"]
