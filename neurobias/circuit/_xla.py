"""The XLA simulation kernel: :func:`neurobias.simulate`'s loop compiled by JAX (``engine="jax"``).

JAX is optional (``pip install 'neurobias[jax]'``; BrainPy brings it): it is
imported inside the functions here, and this module is imported only by
:mod:`neurobias.circuit.simulate` when the JAX engine runs.

The vector field is not written here: each step asks a
:class:`neurobias.circuit.Dynamics` whose ``W_rec`` is held transposed (a JAX
array of ``W_rec.T``, :class:`_HeldTransposed`) and whose ``phi`` is written in
JAX (:func:`neurobias.circuit.nonlinearity.jax_phi`) for the drive ``A(x)`` and
the rates, exactly as the torch loop does, and takes the same step
``x <- lerp(x, A(x), h)`` (torch's ``lerp`` formula).  The whole trajectory
loop is one ``jax.lax.scan`` under ``jax.jit``; a compiled kernel is kept per
(shapes, dtype, ``phi``, form, ``tau``, ``h``) for the process, so the first
call with new shapes pays the compilation (about 0.3 s measured on 2 cores,
``benchmarks/engine_choice.py``) and later ones do not.  No noise: the torch
engine draws it from a torch generator, whose stream JAX cannot reproduce.
"""
from __future__ import annotations

import contextlib
import functools
import importlib.util
from collections.abc import Iterator
from typing import Any

import numpy as np

from neurobias.circuit.dynamics import Dynamics
from neurobias.circuit.nonlinearity import jax_phi

__all__ = ["available", "simulate_rows"]


def available() -> bool:
    """True when ``jax`` can be imported (checked without importing it)."""
    try:
        return importlib.util.find_spec("jax") is not None
    except (ImportError, ValueError):
        return False


@contextlib.contextmanager
def _precision(dtype: str) -> Iterator[None]:
    """64-bit JAX inside the block when ``dtype`` is float64, scoped: the global config is left as found."""
    import jax

    if dtype != "float64":
        yield
        return
    scope = getattr(jax, "enable_x64", None)
    if scope is None or not callable(scope):  # older JAX: the experimental context manager
        from jax.experimental import enable_x64 as scope
    with scope(True):
        yield


class _HeldTransposed:
    """A weight matrix ``W`` held as its transpose: ``W.T`` is the array given, with nothing to transpose.

    The loop's products are ``v @ W.T`` (:class:`Dynamics` forms them so, and its ``drive``, ``rates`` and
    ``gain`` read ``W_rec`` only that way).  Traced on ``W`` itself, the optimised HLO of XLA's CPU backend
    contracts ``W`` over its second dimension (a product with a transposed factor); with ``W.T`` transposed
    on the host and passed as it is, the product contracts over the first dimension, which is faster.
    Measured on 2 cores in one process (tanh, batch 64, 1000 steps, ``x``, ``r`` and ``z`` recorded,
    float32, the two kernels alternated, 2026-12-07): N = 2048, median 3.76 s against 4.08 s, faster in all
    8 pairs; N = 512, 0.324 s against 0.336 s, faster in 13 of 16 pairs.
    """

    __slots__ = ("T",)

    def __init__(self, transposed: Any) -> None:
        self.T = transposed


@functools.lru_cache(maxsize=None)
def _kernel() -> Any:
    """The jitted trajectory kernel (made once; JAX caches one compilation per shapes and static arguments).

    Its weights arrive transposed (:class:`_HeldTransposed`): ``W_rec_t = W_rec.T`` (unit, unit),
    ``W_in_t = W_in.T`` (input, unit), ``W_out_t = W_out.T`` (unit, output).
    """
    import jax

    @functools.partial(jax.jit, static_argnames=("phi", "form", "tau", "h", "n_time", "keep_rates"))
    def run(x0: Any, bias: Any, u_t: Any, W_rec_t: Any, W_in_t: Any, W_out_t: Any, b_out: Any, *, phi: str,
            form: str, tau: float, h: float, n_time: int, keep_rates: bool) -> tuple[Any, Any, Any]:
        dyn = Dynamics(W_rec=_HeldTransposed(W_rec_t), tau=tau, phi=jax_phi(phi), form=form)

        def lerp(x: Any, a: Any) -> Any:  # torch.lerp's formula, so both engines round alike
            return x + h * (a - x) if h < 0.5 else a - (a - x) * (1.0 - h)

        def step(carry: tuple[Any, Any], u_k: Any) -> tuple[tuple[Any, Any], tuple[Any, ...]]:
            x, r = carry  # r = phi(x) (current form) or x itself: the rates each step computes once
            e = bias if u_k is None else u_k @ W_in_t + bias
            x = lerp(x, dyn.drive(x, e, rates=r))
            r = dyn.rates(x)
            z = r @ W_out_t + b_out
            return (x, r), ((x, r, z) if keep_rates else (x, z))

        # everything recorded from inside the loop: a second pass over the trajectory for the rates or the
        # readout was slower in an interleaved comparison at N = 512, batch 64 (2 cores)
        out = jax.lax.scan(step, (x0, dyn.rates(x0)), u_t, length=n_time)[1]
        xs, rs, z = out if keep_rates else (out[0], None, out[1])
        return xs, rs, z  # time first: (time, row, unit)

    return run


def _host(a: Any) -> np.ndarray:
    """A JAX array as a writeable NumPy array without a copy where possible (JAX's own view is read-only)."""
    arr = np.asarray(a)
    if arr.flags.writeable:
        return arr
    try:
        import torch

        return torch.from_dlpack(a).numpy()  # shares the buffer; the JAX array is not used again
    except Exception:  # pragma: no cover - a JAX without DLPack export: copy
        return np.array(arr)


def simulate_rows(
    dyn: Dynamics, *, x0: np.ndarray, bias: np.ndarray, inputs: np.ndarray | None, W_in: np.ndarray,
    W_out: np.ndarray, b_out: np.ndarray, n_time: int, h: float, dtype: str,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Integrate independent rows of trials with XLA; no noise.

    Parameters
    ----------
    dyn : Dynamics
        The circuit's vector field (its ``tau``, ``phi`` and ``form`` are used;
        ``W_rec`` may be a torch tensor or an array).
    x0 : ndarray of shape (row, unit)
        Initial states, state units.
    bias : ndarray of shape (row, unit)
        Tonic input of each row, state units.
    inputs : ndarray of shape (row, time, input), optional
        External input; the drive of step ``k`` is ``W_in inputs[:, k] + bias``.
        None: the drive is ``bias`` at every step.
    W_in, W_out, b_out : ndarray of shapes (unit, input), (output, unit), (output,)
    n_time : int
        Steps.
    h : float
        Step fraction (:func:`neurobias.circuit.step_fraction`).
    dtype : {"float64", "float32"}

    Returns
    -------
    x : ndarray of shape (row, time, unit)
        States at ``dt, ..., T dt`` (like ``r`` and ``z``, a view of a
        time-major array, as the loop wrote it: no copy).
    r : ndarray of shape (row, time, unit) or None
        Rates ``phi(x)``; None when the state is the rate.
    z : ndarray of shape (row, time, output)
        Readout of the rates.
    """
    import jax.numpy as jnp

    with _precision(dtype):
        jdt = jnp.float64 if dtype == "float64" else jnp.float32

        def j(a: Any) -> Any:
            return jnp.asarray(np.asarray(a, dtype=np.float64), dtype=jdt)

        def jt(a: Any) -> Any:  # transposed on the host (see _HeldTransposed)
            return j(np.asarray(a).T)

        W_rec = dyn.W_rec.detach().cpu().numpy() if hasattr(dyn.W_rec, "detach") else dyn.W_rec
        u_t = None if inputs is None else j(np.moveaxis(inputs, 1, 0))
        keep_rates = not dyn.state_is_rate
        xs, rs, z = _kernel()(j(x0), j(bias), u_t, jt(W_rec), jt(W_in), jt(W_out), j(b_out), phi=dyn.phi.name,
                              form=dyn.form, tau=dyn.tau, h=float(h), n_time=int(n_time), keep_rates=keep_rates)
        # time-major as scanned; the (row, time, unit) views cost no copy
        return tuple(None if a is None else np.moveaxis(_host(a), 0, 1) for a in (xs, rs, z))
