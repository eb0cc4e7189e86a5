"""Torch's intra-op thread count: neurobias runs its work on one torch thread.

Two measured reasons (torch 2.13.0 CPU build, 2 cores):

* **Speed.** A recurrent step on a small batch is microseconds of arithmetic;
  spreading it over two threads costs more in synchronisation than it gains
  (0.11 s per demo training step with one thread, 0.57 s with two while another
  process was busy; ``make bench`` measures the ratio).
* **Correctness.** With the MKL bundled in that build, once
  ``torch.set_num_threads(n)`` has been called with ``n > 1``, batched LU
  factorisations of matrices larger than about 200 x 200 are silently wrong
  (``torch.linalg.solve`` residuals of 1e3 instead of 1e-12); setting one thread
  makes them correct again.  So neurobias never *raises* the thread count: it
  switches to one thread where it runs recurrent loops or dense linear algebra,
  and does not switch back.  Parallelism for large batched linear algebra comes
  from Python threads instead (:mod:`neurobias.analysis._linalg`), sized by
  :data:`CPU_THREADS`.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch

__all__ = ["threads_for", "one_thread", "CPU_THREADS"]

#: torch's thread count when neurobias was imported (at most the CPUs): the worker budget
CPU_THREADS: int = max(1, min(torch.get_num_threads(), os.cpu_count() or 1))


def one_thread() -> None:
    """Switch torch to one intra-op thread (and leave it there; see the module docstring)."""
    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)


@contextlib.contextmanager
def threads_for(batch: int, n_units: int) -> Iterator[None]:
    """Run a recurrent loop of ``batch`` trajectories of ``n_units`` units on one torch thread.

    Kept as a context manager so callers mark the region it applies to; the
    thread count is not restored afterwards (see the module docstring).
    """
    del batch, n_units  # every size measured so far is faster, and safe, on one thread
    one_thread()
    yield
