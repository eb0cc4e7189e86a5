"""Torch's intra-op thread count, scoped: :func:`one_thread` runs a block on one torch thread.

Two measured reasons (torch 2.13.0 CPU build, 2 cores):

* **Speed.** A recurrent step on a small batch is microseconds of arithmetic;
  spreading it over two threads costs more in synchronisation than it gains
  (0.11 s per demo training step with one thread, 0.57 s with two while another
  process was busy; ``make bench`` measures the ratio).
* **Correctness.** With the MKL bundled in that build, once
  ``torch.set_num_threads(n)`` has been called with ``n > 1``, batched LU
  factorisations of matrices larger than about 200 x 200 are silently wrong
  (``torch.linalg.solve`` residuals of 1e3 instead of 1e-12); setting one thread
  makes them correct again.

So the recurrent loops and the dense linear algebra of neurobias run inside
``with one_thread():``, which restores the caller's thread count on the way
out (a library call leaves global state as it found it).  Parallelism for large
batched linear algebra comes from Python threads instead
(:func:`neurobias.analysis.linalg.one_torch_thread`), sized by :data:`CPU_THREADS`.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["one_thread", "all_threads", "CPU_THREADS"]

#: torch's thread count when neurobias was imported (at most the CPUs): the worker budget
CPU_THREADS: int = max(1, min(torch.get_num_threads(), os.cpu_count() or 1))


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the block with one torch intra-op thread; restore the thread count found on entry afterwards.

    Also a decorator (``@one_thread()``).  Blocks nest: each restores what it
    found.  torch's count is one setting for the whole process, so Python
    threads running neurobias at the same time share it.
    """
    before = torch.get_num_threads()
    if before != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


@contextmanager
def all_threads() -> Iterator[None]:
    """Run the block with :data:`CPU_THREADS` torch intra-op threads; restore the count found on entry afterwards.

    For products with the weights inside a block that otherwise runs on one
    thread (no LU factorisation may run in it: see the module docstring).
    """
    before = torch.get_num_threads()
    if before != CPU_THREADS:
        torch.set_num_threads(CPU_THREADS)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
