"""Where scenario variants and portfolio projects are evaluated: this process or a Dask cluster.

A small executor protocol (the three calls the scenario runner needs):

- ``scatter(obj)`` -> a handle to pass to tasks instead of ``obj`` (sent to the workers once);
- ``submit(fn, *args)`` -> a future with ``result()``, ``done()``, ``cancel()``;
- ``close()``.

``submit`` has the signature :func:`centrality.parallel.run_chunks` expects of an executor, so
the tasks go through the engine's executor layer (progress, cancellation, bounded in-flight).
:class:`LocalExecutor` runs them in a thread pool in this process (the numba kernels release the
GIL; scatter returns the object itself). :class:`DaskExecutor` runs them on a Dask distributed
cluster: ``scatter`` broadcasts the object to every worker once (network, zones, baseline OD
table) and tasks receive the worker's copy; results are gathered back. Task functions must be
module-level (picklable) and deterministic: the same inputs give bit-for-bit the same outputs on
either executor (tested with ``LocalCluster(processes=True)``).
"""
from __future__ import annotations

import concurrent.futures as cf

from centrality.errors import InputError


class LocalExecutor:
    """Thread pool in this process; ``scatter`` is the identity."""

    def __init__(self, workers: int = 1):
        self.workers = max(1, int(workers))
        self._pool = cf.ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="scenario")

    def scatter(self, obj):
        """A handle for ``obj`` to pass to tasks (sent to the workers once).

        Parameters
        ----------
        obj : object
            Network, zones, baselines, ...

        Returns
        -------
        object
            ``obj`` itself here; a Dask future on a cluster.
        """
        return obj

    def submit(self, fn, *args):
        """Run ``fn(*args)`` as a task.

        Parameters
        ----------
        fn : callable
            A module-level (picklable) function.
        *args
            Its arguments (handles from :meth:`scatter` are resolved on the worker).

        Returns
        -------
        Future
            With ``result()``, ``done()``, ``cancel()``.
        """
        return self._pool.submit(fn, *args)

    def close(self) -> None:
        """Release the threads (or the client this object opened).
        """
        self._pool.shutdown(wait=True, cancel_futures=True)

    def describe(self) -> str:
        """Where the tasks run, for reports.

        Returns
        -------
        str
        """
        return f"local ({self.workers} thread{'s' if self.workers != 1 else ''})"


class DaskExecutor:
    """Tasks on a Dask distributed cluster.

    Parameters
    ----------
    address : str, optional
        Scheduler address (``tcp://host:8786``); or
    client : distributed.Client, optional
        An existing client (e.g. of a ``LocalCluster``); it is not closed by :meth:`close`.
    """

    def __init__(self, address: str | None = None, client=None, timeout_s: float = 30.0):
        try:
            from dask.distributed import Client
        except ImportError:
            raise InputError("--dask-scheduler needs Dask distributed: pip install 'regio-toolkit[dask]' "
                             "(or run without it: the projects then run in this process).") from None
        if client is None:
            if not address:
                raise InputError("a Dask scheduler address is needed, e.g. --dask-scheduler tcp://127.0.0.1:8786.")
            try:
                client = Client(address, timeout=timeout_s)
            except (OSError, TimeoutError) as exc:
                raise InputError(f"cannot reach the Dask scheduler at {address}: {exc}. Start it (dask scheduler; "
                                 "dask worker ADDRESS) or run without --dask-scheduler.") from None
            self._own = True
        else:
            self._own = False
        self.client = client

    def scatter(self, obj):
        """A handle for ``obj`` to pass to tasks (sent to the workers once).

        Parameters
        ----------
        obj : object
            Network, zones, baselines, ...

        Returns
        -------
        object
            ``obj`` itself here; a Dask future on a cluster.
        """
        return self.client.scatter(obj, broadcast=True, hash=False)

    def submit(self, fn, *args):
        """Run ``fn(*args)`` as a task.

        Parameters
        ----------
        fn : callable
            A module-level (picklable) function.
        *args
            Its arguments (handles from :meth:`scatter` are resolved on the worker).

        Returns
        -------
        Future
            With ``result()``, ``done()``, ``cancel()``.
        """
        return self.client.submit(fn, *args, pure=False)

    def close(self) -> None:
        """Release the threads (or the client this object opened).
        """
        if self._own:
            self.client.close()

    def describe(self) -> str:
        """Where the tasks run, for reports.

        Returns
        -------
        str
        """
        info = self.client.scheduler_info()
        n = len(info.get("workers", {}))
        return f"Dask cluster at {info.get('address', '?')} ({n} worker{'s' if n != 1 else ''})"


def make_executor(dask_scheduler: str | None = None, workers: int = 1, client=None):
    """:class:`DaskExecutor` for a scheduler address or client, else :class:`LocalExecutor`.

    Parameters
    ----------
    dask_scheduler : str, optional
        Scheduler address (``tcp://host:8786``).
    workers : int
        Threads of the local executor.
    client : distributed.Client, optional
        An existing Dask client.

    Returns
    -------
    LocalExecutor or DaskExecutor
    """
    if client is not None or dask_scheduler:
        return DaskExecutor(dask_scheduler, client=client)
    return LocalExecutor(workers)
