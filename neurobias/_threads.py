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

import os

import torch

__all__ = ["one_thread", "CPU_THREADS"]

#: torch's thread count when neurobias was imported (at most the CPUs): the worker budget
CPU_THREADS: int = max(1, min(torch.get_num_threads(), os.cpu_count() or 1))


def one_thread() -> None:
    """Switch torch to one intra-op thread (and leave it there; see the module docstring)."""
    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)
