"""Run independent chunks of work in parallel with progress and cancellation.

The default is a thread pool: the numba kernels are compiled with ``nogil=True`` and release the
GIL, so threads scale over cores without pickling the graph. Any executor object with a
``submit(fn, *args)`` method returning ``concurrent.futures.Future``-like objects (with
``result()``, ``done()`` and ``cancel()``) can be passed instead, e.g. a
``concurrent.futures.ProcessPoolExecutor`` (then ``fn`` must be picklable).

Distributed runs (Dask)
-----------------------
:func:`make_executor` returns ``None`` (local threads) or a :class:`DaskExecutor` connected to
a ``dask.distributed`` scheduler. Large inputs that every chunk needs (the network's arrays, the
contraction hierarchy) are sent to the workers **once** with :func:`scatter` — a no-op for
local executors — and chunk functions receive them as arguments (Dask resolves the scattered
handles on the worker). :func:`centrality.paths.od_times` does this itself; other layers (e.g.
portfolio runs of road projects) use the same three calls::

    from centrality.parallel import make_executor, run_chunks, scatter

    with make_executor(dask_scheduler="tcp://10.0.0.5:8786") as ex:   # or None: threads
        big = scatter(ex, network_arrays, key=("net", id(network)))    # sent once, reused
        results = run_chunks(work, [(big, c) for c in chunks], workers=4, executor=ex)

``work`` must be a module-level (picklable) function for Dask; results come back in chunk
order, so a distributed run returns exactly what a local run returns.
"""
from __future__ import annotations

import concurrent.futures as cf
import queue
import threading
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

    Parameters
    ----------
    fn : callable
        ``fn(chunk)`` computes one chunk; module-level (picklable) for process or Dask executors.
    chunks : sequence or iterable
        The chunks (materialised into a list first).
    workers : int, default 1
        Local threads; ``workers=1`` without executor runs in the calling thread.
    executor : executor, optional
        An object with ``submit(fn, chunk)`` returning Future-like objects (``result()``,
        ``done()``, ``cancel()``), e.g. a :class:`DaskExecutor`; None uses a thread pool.
    progress : callable, optional
        ``progress(done, total)`` in chunks, called with 0 first and after each finished chunk
        (in the calling thread).
    should_stop : callable, optional
        ``should_stop()`` is polled between chunks (at least every 0.2 s); when it returns
        True, pending chunks are cancelled and ``Cancelled`` is raised.
    max_in_flight : int, optional
        Chunks submitted at once (default 2 per worker), so that cancellation is prompt.

    Returns
    -------
    list
        The results of ``fn``, in chunk order (the same for local and distributed runs).

    Raises
    ------
    InputError
        ``workers`` is not a positive integer, or ``executor`` has no ``submit`` method.
    Cancelled
        ``should_stop()`` returned True.
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


# ------------------------------------------------------------------------------ executors
class DaskExecutor:
    """``concurrent.futures``-style executor on a ``dask.distributed`` cluster.

    Parameters
    ----------
    client_or_address : distributed.Client or str
        A connected client, or a scheduler address such as ``"tcp://host:8786"``.
    timeout_s : float, default 10
        Seconds to wait for the scheduler at an address before an InputError says it cannot be
        reached.

    Notes
    -----
    ``submit(fn, *args)`` returns Dask futures (``result()``, ``done()``, ``cancel()``), which
    :func:`run_chunks` polls. :meth:`scatter` keeps the handles of scattered objects by key so
    that repeated calls (e.g. several OD runs on one network) send each object once.
    """

    def __init__(self, client_or_address, timeout_s: float = 10.0):
        try:
            from dask.distributed import Client
        except ImportError:
            raise InputError("Dask is not installed. Install the optional extra: pip install 'regio-toolkit[dask]' "
                             "(dask[distributed]).") from None
        if isinstance(client_or_address, str):
            try:
                self.client = Client(client_or_address, timeout=f"{float(timeout_s)}s")
            except (OSError, TimeoutError) as exc:
                raise InputError(f"cannot connect to the Dask scheduler at {client_or_address!r} ({exc}). Start it "
                                 "(dask scheduler) or check the address (tcp://host:8786).") from None
            self._own = True
        else:
            self.client = client_or_address
            self._own = False
        self._scattered: dict = {}

    @property
    def n_workers(self) -> int:
        """Number of worker threads in the cluster (at least 1)."""
        info = self.client.scheduler_info()
        return max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))

    def submit(self, fn, *args):
        """Run ``fn(*args)`` on the cluster.

        Parameters
        ----------
        fn : callable
            A module-level (picklable) function.
        *args
            Its arguments; scattered handles are resolved on the worker.

        Returns
        -------
        distributed.Future
        """
        return self.client.submit(fn, *args, pure=False)

    def scatter(self, obj, key=None):
        """A cluster-side handle to ``obj`` (broadcast to every worker).

        Parameters
        ----------
        obj : object
            E.g. a tuple of the network's arrays.
        key : hashable, optional
            Cache key: a second call with the same key returns the first handle (the object is
            sent once). Keys may use ``id()`` of arrays: the cache keeps ``obj`` alive.

        Returns
        -------
        distributed.Future
        """
        if key is not None and key in self._scattered:
            return self._scattered[key][1]
        handle = self.client.scatter(obj, broadcast=True, hash=False)
        if key is not None:
            self._scattered[key] = (obj, handle)   # keep obj alive: keys may use id(obj)
        return handle

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        """Forget the scattered objects and close the client if this object opened it.

        Parameters
        ----------
        wait, cancel_futures : bool
            Accepted for ``concurrent.futures`` compatibility.
        """
        self._scattered.clear()
        if self._own:
            self.client.close()

    def close(self) -> None:
        """Same as :meth:`shutdown`."""
        self.shutdown()

    def describe(self) -> str:
        """Where the tasks run, for reports (e.g. the technical section of a scenario run).

        Returns
        -------
        str
        """
        return f"Dask cluster at {self.client.scheduler.address} ({self.n_workers} worker threads)"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.shutdown()
        return False


class _LocalExecutor:
    """Context manager standing for "local threads" (``make_executor(None)``): ``executor`` is None."""

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def make_executor(dask_scheduler: str | None = None, workers: int | None = None, timeout_s: float = 10.0):
    """The executor of a run: local threads, or a Dask cluster.

    Parameters
    ----------
    dask_scheduler : str, optional
        Address of a running ``dask.distributed`` scheduler (``tcp://host:8786``), or None.
    workers : int, optional
        Unused for Dask (the cluster decides); documents the local thread count at call sites.
    timeout_s : float, default 10
        Seconds to wait for the scheduler before an InputError says it cannot be reached.

    Returns
    -------
    DaskExecutor or a context manager yielding None
        Use as ``with make_executor(addr) as ex: run_chunks(..., executor=ex)``; None means
        :func:`run_chunks` uses ``workers`` local threads. A :class:`DaskExecutor` is also
        usable without ``with`` (call ``shutdown()``).
    """
    if dask_scheduler is None or str(dask_scheduler).strip() == "":
        return _LocalExecutor()
    return DaskExecutor(str(dask_scheduler), timeout_s=timeout_s)


def scatter(executor, obj, key=None):
    """``obj`` itself for local execution, or its scattered handle on a Dask executor.

    Parameters
    ----------
    executor : executor or None
        None (local threads), a concurrent.futures executor, or one with ``scatter``.
    obj : object
        What every task needs.
    key : hashable, optional
        Cache key for executors that cache scattered objects (:class:`DaskExecutor`).

    Returns
    -------
    object
        ``obj`` or a handle to pass to the tasks.
    """
    if executor is not None and hasattr(executor, "scatter"):
        try:
            return executor.scatter(obj, key=key)
        except TypeError:                      # executors whose scatter takes no key
            return executor.scatter(obj)
    return obj


def is_distributed(executor) -> bool:
    """Whether chunk functions run in other processes (and so must be picklable).

    Parameters
    ----------
    executor : executor or None
        None (local threads), a concurrent.futures executor, or one with ``scatter``.

    Returns
    -------
    bool
        True for executors with ``scatter`` (e.g. :class:`DaskExecutor`).
    """
    return executor is not None and hasattr(executor, "scatter")


class WorkspacePool:
    """Hands one work object (e.g. a set of work arrays) to each concurrently running chunk and
    takes it back afterwards, so chunks reuse memory instead of allocating it.

    Parameters
    ----------
    make : callable
        ``make()`` returns a new work object when none is free.
    """

    def __init__(self, make: Callable[[], Any]):
        self.make = make
        self._free: queue.SimpleQueue = queue.SimpleQueue()

    def take(self):
        """A free work object (a new one if none is free).

        Returns
        -------
        object
        """
        try:
            return self._free.get_nowait()
        except queue.Empty:
            return self.make()

    def give(self, ws) -> None:
        """Return a work object for reuse.

        Parameters
        ----------
        ws : object
            An object from :meth:`take`.
        """
        self._free.put(ws)


_POOLS: dict = {}
_POOLS_LOCK = threading.Lock()


def workspace_pool(key: tuple, make: Callable[[], Any]) -> WorkspacePool:
    """The process-wide :class:`WorkspacePool` of work objects for ``key``.

    Parameters
    ----------
    key : tuple
        Kind and sizes of the work arrays (e.g. ``("dijkstra", n_nodes, n_buckets)``).
    make : callable
        Makes one work object for a new pool.

    Returns
    -------
    WorkspacePool
        Repeated runs — and chunks on a Dask worker — reuse its arrays instead of allocating
        and faulting in new ones. At most two keys are kept (least recently used dropped).
    """
    with _POOLS_LOCK:
        pool = _POOLS.pop(key, None)
        if pool is None:
            pool = WorkspacePool(make)
        _POOLS[key] = pool
        while len(_POOLS) > 2:
            _POOLS.pop(next(iter(_POOLS)))
        return pool
