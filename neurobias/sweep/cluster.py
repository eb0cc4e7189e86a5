"""Where the cells of a sweep run: a Dask client for ``local``, ``tcp://HOST:PORT`` or ``slurm``, or none (``sync``)."""
from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Mapping
from typing import Any

from neurobias.errors import InputError, check_number
from neurobias.sweep.grid import SCHEDULER_HELP

__all__ = ["connect", "check_scheduler"]


def check_scheduler(scheduler: str, workers: int | None) -> None:
    """Raise InputError for a scheduler or worker count that cannot work."""
    if not isinstance(scheduler, str) or not (
        scheduler in ("local", "slurm", "sync") or (scheduler.startswith("tcp://") and len(scheduler) > 6)
    ):
        raise InputError(f"`scheduler` must be {SCHEDULER_HELP}; got {scheduler!r}")
    if workers is not None:
        check_number("workers", workers, ge=1, integer=True)


@contextlib.contextmanager
def connect(scheduler: str, *, workers: int | None = None, slurm: Mapping[str, Any] | None = None,
            timeout_s: float = 30.0) -> Iterator[Any]:
    """Yield a ``distributed.Client`` for ``scheduler`` (None for ``sync``) and close what was started.

    Parameters
    ----------
    scheduler : str
        ``local``: a :class:`distributed.LocalCluster` of ``workers`` processes
        with one thread each (default: one per CPU); ``tcp://HOST:PORT``: an
        existing scheduler and its workers (``workers`` is ignored);
        ``slurm``: a ``dask_jobqueue.SLURMCluster`` built from ``slurm``
        scaled to ``workers`` jobs (default 1); ``sync``: no Dask, cells run
        one after another in this process.
    workers : int, optional
    slurm : mapping, optional
        Keyword arguments of ``SLURMCluster``.
    timeout_s : float
        Seconds to wait for a ``tcp://`` scheduler.
    """
    check_scheduler(scheduler, workers)
    if scheduler == "sync":
        yield None
        return
    from distributed import Client

    if scheduler.startswith("tcp://"):
        try:
            client = Client(scheduler, timeout=f"{timeout_s}s")
        except OSError as exc:
            raise InputError(f"cannot connect to the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            yield client
        return
    if scheduler == "local":
        from distributed import LocalCluster

        n = workers or max(1, os.cpu_count() or 1)
        # the scheduler always serves HTTP (health, metrics; the dashboard when bokeh is installed), on port 8787
        # unless told otherwise: a free local port lets two sweeps run on one machine without a port clash
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                               silence_logs=logging.ERROR)
    else:
        try:
            from dask_jobqueue import SLURMCluster
        except ImportError:
            raise InputError("--scheduler slurm needs dask-jobqueue: pip install 'neurobias[slurm]'") from None
        try:
            cluster = SLURMCluster(**dict(slurm or {}))
        except (TypeError, ValueError) as exc:
            raise InputError(f"invalid [sweep.slurm] options for dask_jobqueue.SLURMCluster: {exc}") from None
        cluster.scale(jobs=workers or 1)
    with cluster, Client(cluster) as client:
        yield client
