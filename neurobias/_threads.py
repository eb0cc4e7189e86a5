"""Choosing torch's intra-op thread count for small recurrent workloads.

A recurrent step on a small batch is a few hundred microseconds of work; on a
shared CPU, spreading it over several threads costs more in synchronisation
than it gains (measured on 2 cores: 0.11 s per training step with one thread,
0.57 s with two while another process was busy).  Below a work threshold,
neurobias runs such loops on one thread and restores the setting afterwards.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

__all__ = ["threads_for"]

# multiply-adds per recurrent step below which one thread is used
SMALL_STEP_MACS = 1 << 24


@contextlib.contextmanager
def threads_for(batch: int, n_units: int) -> Iterator[None]:
    """Use one torch thread while a step costs < ``SMALL_STEP_MACS`` (``batch * n_units**2``)."""
    before = torch.get_num_threads()
    small = batch * n_units * n_units < SMALL_STEP_MACS
    if small and before != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if small and before != 1:
            torch.set_num_threads(before)
