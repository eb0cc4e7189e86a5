"""Public test helpers: one tolerance helper and tiny reference circuits with known answers.

Everything here is small and exact so that tests (ours and users') compare
against ground truth rather than snapshots.

Helpers
-------
* :func:`assert_allclose`: *the* tolerance check (shapes must match exactly;
  accepts numpy, torch and xarray); float64 exactness (``1e-12``) by default.
* :func:`assert_identical`: byte-for-byte equality (dtype, shape, bytes).
* :func:`assert_fixed_points_match`: two sets of fixed points matched both ways.

Reference circuits
------------------
* :func:`linear_circuit` and :func:`linear_solution`: ``phi = "linear"``, whose
  flow is solved exactly with the matrix exponential.
* :func:`leak_circuit` and :func:`leak_solution`: ``W_rec = 0`` (any ``phi``),
  solved exactly by an exponential relaxation.
* :func:`bistable_unit` and :func:`two_unit_tanh`: tanh circuits whose fixed
  points (zeros of the flow ``F(x) = 0``) and their stability are known in
  closed form.
* :func:`multistable_chain`: ``k`` self-exciting (tristable) core units driving
  the other units one way, at any size: exactly ``3**k`` fixed points, ``2**k``
  stable, with known indices; :func:`mirrored_multistable`: the same count in a
  dense circuit that no permutation makes triangular; :func:`saddle_node_ghost`, :func:`fold_point`,
  :func:`fold_bias`: a unit at and past its saddle-node; :func:`match_fixed_points`:
  found vs known, both ways (re-exported from :mod:`neurobias.analysis.references`).

Reference data
--------------
* :func:`blobs_split`: a small classification split of Gaussian blobs, for
  feed-forward training tests.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg
import torch

from neurobias.analysis.references import (
    KnownFixedPoints,
    fold_bias,
    fold_point,
    match_fixed_points,
    mirrored_multistable,
    multistable_chain,
    saddle_node_ghost,
)
from neurobias.circuit.circuit import Circuit
from neurobias.circuit.dynamics import FORMS
from neurobias.circuit.nonlinearity import get_phi
from neurobias.errors import InputError, check_choice, describe_shape

__all__ = [
    "as_numpy",
    "assert_allclose",
    "assert_identical",
    "assert_fixed_points_match",
    "ReferenceCircuit",
    "linear_circuit",
    "linear_solution",
    "leak_circuit",
    "leak_solution",
    "bistable_unit",
    "two_unit_tanh",
    "KnownFixedPoints",
    "multistable_chain",
    "mirrored_multistable",
    "saddle_node_ghost",
    "fold_bias",
    "fold_point",
    "match_fixed_points",
    "blobs_split",
]


# ---------------------------------------------------------------- assertions
def as_numpy(value: Any) -> np.ndarray:
    """``value`` (numpy, torch tensor, xarray object, scalar or nested list) as a numpy array."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if hasattr(value, "values") and hasattr(value, "dims"):  # xarray DataArray / Variable
        return np.asarray(value.values)
    return np.asarray(value)


def assert_allclose(
    actual: Any,
    desired: Any,
    *,
    rtol: float = 1e-12,
    atol: float = 1e-12,
    equal_nan: bool = False,
    err_msg: str = "",
) -> None:
    """Assert ``|actual - desired| <= atol + rtol |desired|`` elementwise.

    The one tolerance helper of the test suite.  Unlike
    :func:`numpy.testing.assert_allclose` the shapes must be *equal* (no
    broadcasting), except that a scalar ``desired`` is compared with every
    entry.  Values are compared in float64 (or complex128).

    Parameters
    ----------
    actual, desired : array_like, torch.Tensor or xarray.DataArray
    rtol, atol : float
        Relative and absolute tolerance; the defaults mean "float64 exact".
    equal_nan : bool
        Whether NaN matches NaN (default: a NaN is always a failure).
    err_msg : str
        Prefix of the failure message.

    Raises
    ------
    AssertionError
    """
    a, d = as_numpy(actual), as_numpy(desired)
    if d.ndim != 0 and a.shape != d.shape:
        raise AssertionError(
            f"{err_msg + ': ' if err_msg else ''}shape mismatch: actual {describe_shape(a.shape)}, "
            f"desired {describe_shape(d.shape)}"
        )
    ctype = np.complex128 if (np.iscomplexobj(a) or np.iscomplexobj(d)) else np.float64
    np.testing.assert_allclose(
        a.astype(ctype), np.broadcast_to(d.astype(ctype), a.shape), rtol=rtol, atol=atol,
        equal_nan=equal_nan, err_msg=err_msg,
    )


def assert_identical(actual: Any, desired: Any, *, err_msg: str = "") -> None:
    """Assert two arrays are byte-for-byte identical: same dtype, same shape, same bytes.

    Raises
    ------
    AssertionError
    """
    a, d = as_numpy(actual), as_numpy(desired)
    prefix = f"{err_msg}: " if err_msg else ""
    if a.dtype != d.dtype:
        raise AssertionError(f"{prefix}dtype mismatch: {a.dtype} vs {d.dtype}")
    if a.shape != d.shape:
        raise AssertionError(f"{prefix}shape mismatch: {describe_shape(a.shape)} vs {describe_shape(d.shape)}")
    if np.ascontiguousarray(a).tobytes() != np.ascontiguousarray(d).tobytes():
        with np.errstate(invalid="ignore"):
            n_diff = int(np.count_nonzero(~((a == d) | (np.isnan(a) & np.isnan(d)))))
        raise AssertionError(f"{prefix}arrays differ in {n_diff} of {a.size} entries (bytes differ)")


def assert_fixed_points_match(found: Any, expected: Any, *, atol: float = 1e-6) -> None:
    """Assert two sets of fixed points are the same set, matched both ways.

    Every expected point must lie within ``atol`` (max-norm) of some found point
    and every found point within ``atol`` of some expected point, so that both a
    missed and a spurious fixed point fail.  Order and duplicates do not matter.

    Parameters
    ----------
    found, expected : array_like of shape (fp, unit)
    atol : float

    Raises
    ------
    AssertionError
    """
    f, e = np.atleast_2d(as_numpy(found).astype(np.float64)), np.atleast_2d(as_numpy(expected).astype(np.float64))
    if f.size == 0 or e.size == 0:
        if f.size or e.size:
            raise AssertionError(f"found {len(f) if f.size else 0} fixed points, expected {len(e) if e.size else 0}")
        return
    if f.shape[1] != e.shape[1]:
        raise AssertionError(f"fixed points have {f.shape[1]} units, expected {e.shape[1]}")
    found_match, expected_found = match_fixed_points(f, e, atol=atol)
    missed = np.flatnonzero(~expected_found)
    spurious = np.flatnonzero(found_match < 0)
    if missed.size or spurious.size:
        raise AssertionError(
            f"fixed points differ (atol={atol}): expected but not found {e[missed].tolist()}; "
            f"found but not expected {f[spurious].tolist()}"
        )


# -------------------------------------------------------- reference circuits
@dataclass(frozen=True)
class ReferenceCircuit:
    """A tiny circuit with analytically known fixed points.

    Attributes
    ----------
    circuit : Circuit
    tonic : ndarray of shape (unit,)
        Tonic input under which the fixed points hold.
    fixed_points : ndarray of shape (fp, unit)
        Every zero of the flow ``F(x) = 0`` (the complete set).
    stable : ndarray of shape (fp,)
        True where every eigenvalue of the Jacobian has a negative real part.
    """

    circuit: Circuit
    tonic: np.ndarray
    fixed_points: np.ndarray
    stable: np.ndarray


def linear_circuit(
    n_units: int = 4, *, g: float = 0.5, n_inputs: int = 1, tau: float = 10.0, form: str = "current",
    seed: int = 0,
) -> Circuit:
    """A small linear (``phi = "linear"``) circuit with random ``W_rec`` of spectral radius exactly ``g``.

    Both forms then obey ``tau dx/dt = -x + W_rec x + ext``; ``g < 1`` makes the
    circuit stable and ``I - W_rec`` invertible.
    """
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(n_units, n_units))
    w *= g / np.max(np.abs(np.linalg.eigvals(w)))
    return Circuit.from_arrays(
        W_rec=w, W_in=rng.normal(size=(n_units, n_inputs)), W_out=rng.normal(size=(1, n_units)) / np.sqrt(n_units),
        tau=tau, phi="linear", form=form, seed=seed,
    )


def linear_solution(circuit: Circuit, ext: Any, x0: Any, times: Any) -> np.ndarray:
    """Exact solution of a linear circuit under a constant drive.

    ``x(t) = x* + expm(A t) (x0 - x*)`` with ``A = (-I + W_rec) / tau`` and
    ``x* = (I - W_rec)^{-1} ext``.

    Parameters
    ----------
    circuit : Circuit
        With ``phi = "linear"`` (either form).
    ext : array_like of shape (unit,)
        Constant drive ``W_in u + b``.
    x0 : array_like of shape (unit,)
    times : array_like of shape (time,)
        In ms.

    Returns
    -------
    ndarray of shape (time, unit)
    """
    if circuit.phi != "linear":
        raise InputError(f"`circuit` must have phi='linear'; got {circuit.phi!r}")
    n = circuit.n_units
    eye = np.eye(n)
    x_star = np.linalg.solve(eye - circuit.W_rec, np.asarray(ext, dtype=np.float64))
    a = (circuit.W_rec - eye) / circuit.tau
    dev = np.asarray(x0, dtype=np.float64) - x_star
    return np.stack([x_star + scipy.linalg.expm(a * float(t)) @ dev for t in np.asarray(times, dtype=np.float64)])


def leak_circuit(
    n_units: int = 3, *, phi: str = "tanh", form: str = "current", n_inputs: int = 1, tau: float = 10.0,
    seed: int = 0,
) -> Circuit:
    """A circuit without recurrence (``W_rec = 0``) and Gaussian ``W_in``; any ``phi``."""
    rng = np.random.default_rng(seed)
    return Circuit.from_arrays(
        W_rec=np.zeros((n_units, n_units)), W_in=rng.normal(size=(n_units, n_inputs)),
        W_out=rng.normal(size=(1, n_units)) / np.sqrt(n_units), tau=tau, phi=phi, form=form,
    )


def leak_solution(circuit: Circuit, ext: Any, x0: Any, times: Any) -> np.ndarray:
    """Exact solution of a circuit with ``W_rec = 0`` under a constant drive.

    ``x(t) = a + exp(-t / tau) (x0 - a)`` with ``a = ext`` (``form="current"``) or
    ``a = phi(ext)`` (``form="rate"``).

    Parameters
    ----------
    circuit : Circuit
        With ``W_rec == 0``.
    ext : array_like of shape (unit,)
    x0 : array_like of shape (unit,)
    times : array_like of shape (time,), ms

    Returns
    -------
    ndarray of shape (time, unit)
    """
    if np.any(circuit.W_rec != 0):
        raise InputError("`circuit` must have W_rec = 0")
    ext = np.asarray(ext, dtype=np.float64)
    if circuit.state_is_rate:  # the state relaxes to the rate phi(ext)
        target = get_phi(circuit.phi).fn(torch.tensor(ext, dtype=torch.float64)).numpy()
    else:  # the current relaxes to the drive itself
        target = ext
    decay = np.exp(-np.asarray(times, dtype=np.float64) / circuit.tau)[:, None]
    return target + decay * (np.asarray(x0, dtype=np.float64) - target)


# The self-weight ``w`` that puts a fixed point of one tanh unit at ``x_star``, in closed form for each form
# (the ground truth of the reference circuits, written independently of neurobias.circuit): the fixed-point
# equation, the solution for w, and the range of x_star where it holds.
_SELF_GAIN = {
    "current": ("x* = w tanh(x*)", lambda x: x / np.tanh(x), 0.0, np.inf, "> 0"),
    "rate": ("r* = tanh(w r*)", lambda r: np.arctanh(r) / r, 0.0, 1.0, "in (0, 1) for form='rate' (a tanh rate)"),
}


def _self_gain(x_star: float, form: str) -> float:
    check_choice("form", form, FORMS)
    _, solve, lo, hi, expected = _SELF_GAIN[form]
    if not lo < x_star < hi:
        raise InputError(f"`x_star` must be {expected}; got {x_star!r}")
    return float(solve(x_star))


def bistable_unit(x_star: float = 1.0, *, tau: float = 10.0, form: str = "current") -> ReferenceCircuit:
    """One self-exciting tanh unit with fixed points ``-x_star``, ``0``, ``x_star``.

    The self-weight is ``w = x_star / tanh(x_star)`` (``form="current"``, where
    ``x = w tanh(x)``) or ``w = artanh(x_star) / x_star`` (``form="rate"``, where
    ``r = tanh(w r)``); ``w > 1``, so these three are the only fixed points, the
    outer two stable and the origin unstable.  No tonic input.
    """
    w = _self_gain(float(x_star), form)
    circuit = Circuit.from_arrays(W_rec=[[w]], W_out=[[1.0]], tau=tau, phi="tanh", form=form)
    fps = np.array([[-x_star], [0.0], [x_star]])
    return ReferenceCircuit(circuit, np.zeros(1), fps, np.array([True, False, True]))


def two_unit_tanh(
    x_star: float = 1.0, *, inhibitory: bool = False, tau: float = 10.0, form: str = "current"
) -> ReferenceCircuit:
    """Two tanh units coupled to each other (no self-coupling), with known fixed points.

    ``W_rec = [[0, s w], [s w, 0]]`` with ``s = +1`` (mutual excitation) or ``-1``
    (mutual inhibition) and ``w`` as in :func:`bistable_unit`.  For ``s = +1`` the
    fixed points satisfy ``x1 = w tanh(x2)`` and ``x2 = w tanh(x1)``, so
    ``x1 = g(g(x1))`` with ``g`` increasing, hence ``x1 = g(x1) = x2``: the fixed
    points are exactly ``(0, 0)`` (a saddle, eigenvalues ``(-1 +- w) / tau``) and
    ``+-(x_star, x_star)`` (stable).  For ``s = -1`` the same holds for
    ``(x1, -x2)``: ``(0, 0)`` and ``+-(x_star, -x_star)`` (winner-take-all).
    The same argument holds for ``form="rate"`` with ``g(r) = tanh(w r)``.
    """
    w = _self_gain(float(x_star), form)
    s = -1.0 if inhibitory else 1.0
    circuit = Circuit.from_arrays(
        W_rec=[[0.0, s * w], [s * w, 0.0]], W_out=[[1.0, -1.0]], tau=tau, phi="tanh", form=form,
    )
    fps = np.array([[0.0, 0.0], [x_star, s * x_star], [-x_star, -s * x_star]])
    return ReferenceCircuit(circuit, np.zeros(2), fps, np.array([False, True, True]))


# ---------------------------------------------------------------- reference data
def blobs_split(*, n: int = 120, d: int = 6, classes: int = 3, seed: int = 0, spread: float = 0.3) -> Any:
    """A classification split of Gaussian blobs: half the samples for training, half for testing.

    Parameters
    ----------
    n : int
        Samples in all (the first ``n // 2`` train, the rest test).
    d : int
        Features.
    classes : int
        Classes; centre of each drawn from N(0, 1) per feature.
    seed : int
        Seeds centres, labels and noise.
    spread : float
        Standard deviation of each sample around its class centre.

    Returns
    -------
    neurobias.datasets.Split
        ``x_train`` of shape (n // 2, d), ``y_train`` (n // 2,), ``x_test`` and ``y_test`` the rest.
    """
    from neurobias.datasets import Split

    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 1, size=(classes, d))
    y = rng.integers(0, classes, size=n)
    x = centers[y] + spread * rng.normal(size=(n, d))
    return Split.make(name="blobs", x_train=x[: n // 2], y_train=y[: n // 2], x_test=x[n // 2:], y_test=y[n // 2:],
                      n_classes=classes)
