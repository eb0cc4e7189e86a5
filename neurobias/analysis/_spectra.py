"""Eigen-decomposition of Jacobians at fixed points and the stability classification.

Conventions (shared by the fixed-point finder and the continuation):

* eigenvalues of the Jacobian ``J = dF/dx`` of the flow, in 1/ms, sorted by
  real part descending, ties (complex-conjugate pairs) by imaginary part
  descending (positive first);
* an eigenvalue is *marginal* when ``|Re| <= marginal_tol``, with
  ``marginal_tol = MARGINAL_RTOL * max(1 / tau, max |lambda|)``;
* ``index`` = number of eigenvalues with ``Re > marginal_tol`` (unstable
  directions);
* ``stability``: ``"stable"`` (index 0, none marginal), ``"marginal"`` (index
  0 and some marginal: linearisation cannot decide), ``"saddle"`` (``0 <
  index < unit``), ``"unstable"`` (``index == unit``, a source);
* ``oscillatory``: the leading eigenvalue (largest real part) is complex,
  ``|Im| > marginal_tol``;
* right eigenvectors have unit 2-norm with their largest-modulus entry real
  and positive; left eigenvectors are the rows of ``V^{-1}``, so that
  ``left_k . right_j = delta_kj`` (no conjugation) and a state deviation
  ``dx = sum_k (left_k . dx) right_k``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from neurobias.analysis._linalg import chunks, map_chunks

__all__ = ["Spectrum", "eig_sorted", "classify", "left_vectors", "MARGINAL_RTOL", "STABILITIES"]

MARGINAL_RTOL = 1e-9
STABILITIES: tuple[str, ...] = ("stable", "marginal", "saddle", "unstable")


@dataclass
class Spectrum:
    """Sorted eigenvalues (and optionally right eigenvectors) of a batch of Jacobians.

    Attributes
    ----------
    values : ndarray of shape (m, unit), complex128
    vectors : ndarray of shape (m, unit, mode), complex128, or None
        ``vectors[b, :, k]`` is the right eigenvector of ``values[b, k]``.
    """

    values: np.ndarray
    vectors: np.ndarray | None


def _sort_order(values: np.ndarray) -> np.ndarray:
    # lexsort: last key is primary
    return np.lexsort((-values.imag, -values.real), axis=-1)


def eig_sorted(J: Tensor, *, vectors: bool, n_top: int | None = None, workers: int = 1) -> Spectrum:
    """Eigenvalues (and right eigenvectors) of a batch of real matrices, sorted.

    Parameters
    ----------
    J : Tensor of shape (m, unit, unit), float64
    vectors : bool
        Also compute right eigenvectors (normalised, see the module docstring).
    n_top : int, optional
        Keep only the eigenvectors of the first ``n_top`` modes (default all).
    workers : int
        Python threads over chunks of the batch (run inside ``one_lapack_thread``).

    Returns
    -------
    Spectrum
    """
    m, n = J.shape[0], J.shape[-1]
    k = n if n_top is None else min(n, n_top)
    if m == 0:
        return Spectrum(np.zeros((0, n), np.complex128), np.zeros((0, n, k), np.complex128) if vectors else None)
    parts = chunks(m, n, min_chunks=min(workers, m))

    def run(sl: slice) -> tuple[Tensor, Tensor | None]:
        if vectors:
            w, v = torch.linalg.eig(J[sl])
            return w, v
        return torch.linalg.eigvals(J[sl]), None

    out = map_chunks(run, parts, workers)
    values = torch.cat([o[0] for o in out]).cpu().numpy().astype(np.complex128)
    order = _sort_order(values)
    values = np.take_along_axis(values, order, axis=-1)
    vecs = None
    if vectors:
        full = torch.cat([o[1] for o in out]).cpu().numpy()
        vecs = np.take_along_axis(full, order[:, None, :k], axis=-1).astype(np.complex128)
        vecs = _normalise(vecs)
    return Spectrum(values, vecs)


def _normalise(V: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(V, axis=-2, keepdims=True)
    V = V / np.where(norm > 0, norm, 1.0)
    big = np.argmax(np.abs(V), axis=-2)  # (m, mode)
    pivot = np.take_along_axis(V, big[:, None, :], axis=-2)  # (m, 1, mode)
    phase = np.where(np.abs(pivot) > 0, pivot / np.abs(pivot), 1.0)
    return V / phase


def left_vectors(V: np.ndarray, n_modes: int) -> np.ndarray:
    """Left eigenvectors of the first ``n_modes`` modes: rows of ``V^{-1}``.

    Parameters
    ----------
    V : ndarray of shape (m, unit, mode), complex
        Right eigenvectors as columns.
    n_modes : int

    Returns
    -------
    ndarray of shape (m, n_modes, unit), complex
        ``L[b, k] @ V[b, :, j] = delta_kj``; NaN where ``V`` is singular
        (defective Jacobian).
    """
    m, n = V.shape[0], V.shape[1]
    out = np.full((m, n_modes, n), np.nan + 0j)
    for b in range(m):
        try:
            inv = np.linalg.inv(V[b])
        except np.linalg.LinAlgError:
            continue
        if np.all(np.isfinite(inv)):
            out[b] = inv[:n_modes]
    return out


def marginal_tol(values: np.ndarray, tau: float) -> np.ndarray:
    """Per-point tolerance for a marginal eigenvalue, shape (m,) (from the computed eigenvalues; NaN skipped)."""
    # NaN entries (eigenvalues not computed by the matrix-free path) are left out
    mags = np.where(np.isnan(values), 0.0, np.abs(values))
    radius = mags.max(axis=-1, initial=0.0) if values.size else np.zeros(values.shape[0])
    return MARGINAL_RTOL * np.maximum(1.0 / tau, radius)


def classify(values: np.ndarray, tau: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index, stability label and oscillation flag from sorted eigenvalues.

    Parameters
    ----------
    values : ndarray of shape (m, unit), complex, sorted as by :func:`eig_sorted`
        Trailing NaN entries (not computed) are allowed: they count as stable.
    tau : float
        Time constant, ms.

    Returns
    -------
    index : ndarray of shape (m,), int64
    stability : ndarray of shape (m,), str
    oscillatory : ndarray of shape (m,), int8
    """
    m, n = values.shape
    tol = marginal_tol(values, tau)[:, None]
    index = (values.real > tol).sum(axis=-1).astype(np.int64)
    n_marg = (np.abs(values.real) <= tol).sum(axis=-1)
    stability = np.where(
        index == n, "unstable", np.where(index > 0, "saddle", np.where(n_marg > 0, "marginal", "stable"))
    ).astype(str)
    if n == 0:
        osc = np.zeros(m, dtype=np.int8)
    else:
        osc = (np.abs(values[:, 0].imag) > tol[:, 0]).astype(np.int8)
    return index, stability, osc
