"""Run one experiment's per-seed measurement for every seed, in worker processes when there are spare cores."""
from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

import matplotlib

from neurobias.circuit.threads import one_thread
from neurobias.errors import check_number
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

    Every seed's measurement seeds its own generators, so the results do not
    depend on ``workers``.  Above one worker, the seeds run in spawned
    processes on one torch thread each (``progress`` is then off), and the
    size parameters they read are added to ``settings.read`` when
    ``settings`` is a :class:`~neurobias.reproduce.settings.SettingsReader`.

    Parameters
    ----------
    fn : callable
        A module-level function ``fn(settings, *, seed, progress=...)``.
    settings : Settings or SettingsReader
    seeds : sequence of int
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
    if workers == 1 or len(seeds) == 1:
        return {s: fn(settings, seed=s, progress=progress) for s in seeds}
    reader = settings if isinstance(settings, SettingsReader) else None
    plain = object.__getattribute__(settings, "_settings") if reader is not None else settings
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(seeds)), mp_context=context) as pool:
        futures: dict[int, Any] = {s: pool.submit(_one_seed, fn, plain, s) for s in seeds}
        out: dict[int, T] = {}
        for s, fut in futures.items():
            result, read = fut.result()
            out[s] = result
            if reader is not None:
                object.__getattribute__(reader, "read").update(read)
    return out
