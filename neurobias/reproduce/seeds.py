"""Run one experiment's per-seed measurement for every seed, in worker processes when there are spare cores."""
from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

import matplotlib

from neurobias.circuit.threads import one_thread
from neurobias.errors import InputError, check_number
from neurobias.reproduce.settings import Settings, SettingsReader

__all__ = ["map_seeds"]

T = TypeVar("T")


@one_thread()
def _one_seed(fn: Callable[..., T], settings: Settings, seed: int) -> tuple[T, set[str]]:
    """``fn(settings, seed=seed)`` in a worker process, with the size parameters it read."""
    matplotlib.use("Agg")
    reader = SettingsReader(settings)
    return fn(reader, seed=seed), set(reader.read)


def map_seeds(fn: Callable[..., T], settings: Settings | SettingsReader, seeds: Sequence[int], *,
              workers: int = 1, progress: bool = False) -> dict[int, T]:
    """``fn(settings, seed=s)`` for every seed ``s``, in order, or spread over ``workers`` processes.

    Every seed's measurement seeds its own generators and runs on one torch
    thread, so the results do not depend on ``workers``.  Above one worker,
    the seeds run in spawned processes (``progress`` is then off; a seed that
    fails cancels the seeds not yet started), and the size parameters they
    read are added to ``settings.read`` when ``settings`` is a
    :class:`~neurobias.reproduce.settings.SettingsReader`.

    Parameters
    ----------
    fn : callable
        A module-level function ``fn(settings, *, seed, progress=...)``.
    settings : Settings or SettingsReader
    seeds : sequence of int
        Distinct seeds, at least one.
    workers : int
        Worker processes (at most one per seed is used); 1 runs the seeds
        here, one after the other.
    progress : bool
        Passed to ``fn`` when the seeds run here.

    Returns
    -------
    dict of int to the return type of ``fn``
        In the order of ``seeds``.
    """
    workers = check_number("workers", workers, ge=1, integer=True)
    seeds = tuple(int(s) for s in seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise InputError(f"`seeds` must be distinct integers, at least one; got {list(seeds)}")
    if workers == 1 or len(seeds) == 1:
        with one_thread():  # as in a worker process: the numbers do not depend on where a seed runs
            return {s: fn(settings, seed=s, progress=progress) for s in seeds}
    reader = settings if isinstance(settings, SettingsReader) else None
    plain = object.__getattribute__(settings, "_settings") if reader is not None else settings
    context = multiprocessing.get_context("spawn")
    out: dict[int, T] = {}
    pool = ProcessPoolExecutor(max_workers=min(workers, len(seeds)), mp_context=context)
    try:
        futures: dict[int, Any] = {s: pool.submit(_one_seed, fn, plain, s) for s in seeds}
        for s, fut in futures.items():
            result, read = fut.result()
            out[s] = result
            if reader is not None:
                object.__getattribute__(reader, "read").update(read)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)  # a failed seed stops the seeds not yet started
        raise
    pool.shutdown(wait=True)
    return out
