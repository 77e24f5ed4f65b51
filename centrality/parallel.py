"""Run independent chunks of work in parallel with progress and cancellation.

The default is a thread pool: the numba kernels are compiled with ``nogil=True`` and release the
GIL, so threads scale over cores without pickling the graph. Any executor object with a
``submit(fn, *args)`` method returning ``concurrent.futures.Future``-like objects (with
``result()``, ``done()`` and ``cancel()``) can be passed instead, e.g. a
``concurrent.futures.ProcessPoolExecutor`` or ``dask.distributed.Client.get_executor()``
(then ``fn`` must be picklable).
"""
from __future__ import annotations

import concurrent.futures as cf
import time
from typing import Any, Callable, Iterable, Sequence

from centrality.errors import Cancelled, InputError

Progress = Callable[[int, int], None]
ShouldStop = Callable[[], bool]


def _check_stop(should_stop: ShouldStop | None) -> None:
    if should_stop is not None and should_stop():
        raise Cancelled("computation cancelled by the user")


def run_chunks(fn: Callable[[Any], Any], chunks: Sequence | Iterable, workers: int = 1, executor=None,
               progress: Progress | None = None, should_stop: ShouldStop | None = None,
               max_in_flight: int | None = None) -> list:
    """Return ``[fn(c) for c in chunks]`` (in chunk order), computed by ``workers`` threads or by
    ``executor``.

    ``progress(done, total)`` is called after each finished chunk (in the calling thread);
    ``should_stop()`` is polled between chunks and, when it returns True, pending chunks are
    cancelled and ``Cancelled`` is raised. ``workers=1`` without executor runs in the calling
    thread. At most ``max_in_flight`` chunks (default 2 per worker) are submitted at once so
    that cancellation is prompt.
    """
    chunks = list(chunks)
    total = len(chunks)
    if workers is None or int(workers) < 1:
        raise InputError(f"workers must be a positive integer, got {workers!r}. Use 1 for a single core.")
    workers = int(workers)
    if progress is not None:
        progress(0, total)
    if executor is None and workers == 1:
        results = []
        for i, chunk in enumerate(chunks):
            _check_stop(should_stop)
            results.append(fn(chunk))
            if progress is not None:
                progress(i + 1, total)
        return results
    if executor is not None and not hasattr(executor, "submit"):
        raise InputError(f"executor {executor!r} has no submit() method. Pass a concurrent.futures "
                         "Executor (or compatible, e.g. dask Client.get_executor()).")
    own = executor is None
    pool = cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="centrality") if own else executor
    limit = max_in_flight or 2 * workers
    results: list = [None] * total
    pending: dict = {}
    next_i = done = 0
    try:
        while done < total:
            _check_stop(should_stop)
            while next_i < total and len(pending) < limit:
                pending[pool.submit(fn, chunks[next_i])] = next_i
                next_i += 1
            finished = _wait_some(list(pending))
            for fut in finished:
                results[pending.pop(fut)] = fut.result()
                done += 1
                if progress is not None:
                    progress(done, total)
    except BaseException:
        for fut in pending:
            fut.cancel()
        raise
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
    return results


def _wait_some(futures: list, poll_s: float = 0.2) -> list:
    """Futures that are done; waits up to ``poll_s`` so ``should_stop`` is polled regularly."""
    if all(isinstance(f, cf.Future) for f in futures):
        done, _ = cf.wait(futures, timeout=poll_s, return_when=cf.FIRST_COMPLETED)
        return list(done)
    deadline = time.monotonic() + poll_s  # foreign future type: poll .done()
    while True:
        done = [f for f in futures if f.done()]
        if done or time.monotonic() > deadline:
            return done
        time.sleep(0.005)
