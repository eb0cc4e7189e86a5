"""Batched dense linear algebra that is safe and parallel on CPU.

Why this module exists
----------------------
With the MKL bundled in torch 2.13 (CPU), once ``torch.set_num_threads(n)`` has
been called with ``n > 1`` (by anyone), batched
LU factorisations of matrices larger than about 200 x 200 are silently wrong
(MKL prints ``Parameter 6 was incorrect on entry to DLASWP`` and
``torch.linalg.solve`` returns garbage or raises).  With one torch thread they
are correct.  So every factorisation here runs with one torch (MKL) thread and
the parallelism comes from a small pool of Python threads, each handling a
chunk of the batch (LAPACK releases the GIL).  Each solve is also verified by
its residual, so that a wrong factorisation can never pass silently.

All functions take and return float64 (or complex128) torch tensors.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import torch
from torch import Tensor

from neurobias.circuit.threads import CPU_THREADS, one_thread

__all__ = [
    "one_lapack_thread", "n_workers", "chunks", "map_chunks", "lu_checked", "lu_apply", "solve_checked",
    "residual_ok",
]

T = TypeVar("T")

# doubles per chunk of (chunk, unit, unit) matrices: 2**22 doubles = 32 MiB
CHUNK_DOUBLES = 1 << 22


@contextlib.contextmanager
def one_lapack_thread() -> Iterator[int]:
    """Run the block with one torch thread; yields the worker budget :data:`neurobias.circuit.threads.CPU_THREADS`.

    Every factorisation runs inside such a block (see :mod:`neurobias.circuit.threads`);
    the caller's thread count is restored on exit.
    """
    with one_thread():
        yield CPU_THREADS


def n_workers(threads_before: int) -> int:
    """Python worker threads to use: the given budget, capped by the CPUs and 8."""
    return max(1, min(int(threads_before), os.cpu_count() or 1, 8))


def chunks(n_items: int, n_units: int, *, min_chunks: int = 1) -> list[slice]:
    """Split ``range(n_items)`` into slices of at most ``CHUNK_DOUBLES / n_units**2`` items."""
    if n_items == 0:
        return []
    size = max(1, CHUNK_DOUBLES // max(1, n_units * n_units))
    n = max(min_chunks, -(-n_items // size))
    n = min(n, n_items)
    bounds = [round(i * n_items / n) for i in range(n + 1)]
    return [slice(bounds[i], bounds[i + 1]) for i in range(n) if bounds[i + 1] > bounds[i]]


def map_chunks(fn: Callable[[slice], T], parts: Sequence[slice], workers: int) -> list[T]:
    """``[fn(s) for s in parts]``, run on ``workers`` Python threads (in order)."""
    if workers <= 1 or len(parts) <= 1:
        return [fn(s) for s in parts]
    with ThreadPoolExecutor(max_workers=min(workers, len(parts))) as pool:
        return list(pool.map(fn, parts))


def lu_checked(A: Tensor, b: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """LU-factorise a batch and solve ``A x = b``; returns ``x``, a trust mask and the factors.

    Parameters
    ----------
    A : Tensor of shape (batch, n, n)
    b : Tensor of shape (batch, n)

    Returns
    -------
    x : Tensor of shape (batch, n)
        NaN where the solve failed.
    ok : Tensor of shape (batch,), bool
        False where ``A`` is singular to working precision, the result is not
        finite, or the relative residual ``|A x - b| / (|A| |x| + |b|)`` exceeds
        ``1e-8`` (which also catches a wrong factorisation).
    LU, pivots : Tensor
        The factors, for :func:`lu_apply` (chord steps).
    """
    LU, pivots, info = torch.linalg.lu_factor_ex(A)
    try:
        x = torch.linalg.lu_solve(LU, pivots, b.unsqueeze(-1)).squeeze(-1)
    except RuntimeError:  # invalid pivots from a wrong factorisation (see the module docstring)
        x = torch.full_like(b, float("nan"))
    ok = (info == 0) & residual_ok(A, x, b)
    x = torch.where(ok.unsqueeze(-1), x, torch.full_like(x, float("nan")))
    return x, ok, LU, pivots


def lu_apply(LU: Tensor, pivots: Tensor, b: Tensor) -> Tensor:
    """Solve with factors from :func:`lu_checked`; ``b`` of shape (batch, n)."""
    return torch.linalg.lu_solve(LU, pivots, b.unsqueeze(-1)).squeeze(-1)


def solve_checked(A: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Solve ``A x = b`` for a batch; like :func:`lu_checked` without the factors."""
    try:
        x, info = torch.linalg.solve_ex(A, b.unsqueeze(-1))
    except RuntimeError:  # invalid pivots from a wrong factorisation (see the module docstring)
        x, info = torch.full_like(b, float("nan")).unsqueeze(-1), torch.ones(b.shape[0], dtype=torch.int32)
    x = x.squeeze(-1)
    ok = (info == 0) & residual_ok(A, x, b)
    x = torch.where(ok.unsqueeze(-1), x, torch.full_like(x, float("nan")))
    return x, ok


def residual_ok(A: Tensor, x: Tensor, b: Tensor) -> Tensor:
    """Whether ``x`` solves ``A x = b`` with backward error ``<= 1e-8``, per batch item."""
    r = (A @ x.unsqueeze(-1)).squeeze(-1) - b
    a_max = torch.maximum(A.amax(dim=(-2, -1)), -A.amin(dim=(-2, -1)))  # no |A| temporary
    scale = a_max * x.abs().amax(-1) + b.abs().amax(-1)
    finite = torch.isfinite(x).all(-1)
    return finite & (r.abs().amax(-1) <= 1e-8 * scale + 1e-300)
