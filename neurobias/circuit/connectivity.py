"""Connectivity generators.

All generators take a :class:`numpy.random.Generator` and return plain float64
numpy arrays; a circuit built from one seed draws every array from one
generator, in a fixed order, so the same seed always gives the same circuit.
"""
from __future__ import annotations

import numpy as np

from neurobias.errors import InputError, check_choice, check_number

__all__ = [
    "gaussian",
    "sparse",
    "dale",
    "uniform",
    "input_weights",
    "readout_weights",
    "CONNECTIVITIES",
    "WEIGHT_INITS",
]

CONNECTIVITIES: tuple[str, ...] = ("gaussian", "sparse", "dale", "uniform")
#: distributions of the input and readout weights
WEIGHT_INITS: tuple[str, ...] = ("gaussian", "uniform")


def gaussian(n_units: int, *, g: float, rng: np.random.Generator) -> np.ndarray:
    """Dense Gaussian connectivity, entries ``N(0, g**2 / n_units)``.

    The eigenvalues fill a disc of radius ~``g`` (circular law).

    Returns
    -------
    ndarray of shape (unit, unit)
        ``W[i, j]`` is the weight from unit ``j`` onto unit ``i``.
    """
    n = check_number("n_units", n_units, gt=0, integer=True)
    g = check_number("g", g, ge=0)
    return rng.normal(0.0, g / np.sqrt(n), size=(n, n))


def sparse(n_units: int, *, g: float, p: float, rng: np.random.Generator) -> np.ndarray:
    """Sparse Gaussian connectivity with connection probability ``p``.

    Each connection exists independently with probability ``p``; existing
    weights are ``N(0, g**2 / (p * n_units))`` so that the spectral radius
    stays ~``g`` whatever ``p``.

    Returns
    -------
    ndarray of shape (unit, unit)
    """
    n = check_number("n_units", n_units, gt=0, integer=True)
    g = check_number("g", g, ge=0)
    if not (0.0 < p <= 1.0):
        raise InputError(f"`p` (connection probability) must be in (0, 1]; got {p!r}")
    mask = rng.random((n, n)) < p
    weights = rng.normal(0.0, g / np.sqrt(p * n), size=(n, n))
    return np.where(mask, weights, 0.0)


def dale(
    n_units: int, *, g: float, exc_fraction: float, rng: np.random.Generator
) -> np.ndarray:
    """Dale's-law connectivity with balanced rows.

    The first ``round(exc_fraction * n_units)`` units are excitatory (all their
    outgoing weights, i.e. their columns, are >= 0); the rest are inhibitory
    (columns <= 0).  Magnitudes are half-normal; in every row the inhibitory
    weights are rescaled so that the row sums to zero (excitation and inhibition
    balance for every unit), there are no self-connections, and the matrix is
    scaled so that the entries' spread about their column means (the
    per-column variances, averaged) is ``g**2 / n_units``, which puts the bulk
    of the spectrum in a disc of radius ~``g`` (Rajan & Abbott 2006; the mean
    structure adds no eigenvalue because the rows are balanced).  The raw RMS of
    the entries is larger than ``g / sqrt(n_units)``.

    Returns
    -------
    ndarray of shape (unit, unit)
    """
    n = check_number("n_units", n_units, gt=0, integer=True)
    g = check_number("g", g, ge=0)
    if not (0.0 < exc_fraction < 1.0):
        raise InputError(f"`exc_fraction` must be in (0, 1); got {exc_fraction!r}")
    n_exc = int(round(exc_fraction * n))
    if n_exc < 1 or n_exc > n - 1:
        raise InputError(
            f"`exc_fraction` = {exc_fraction} leaves no excitatory or no inhibitory unit "
            f"among n_units = {n}; need at least one of each"
        )
    mag = np.abs(rng.normal(size=(n, n)))
    np.fill_diagonal(mag, 0.0)
    exc = mag[:, :n_exc]
    inh = mag[:, n_exc:]
    exc_sum = exc.sum(axis=1, keepdims=True)
    inh_sum = inh.sum(axis=1, keepdims=True)
    inh = inh * np.divide(exc_sum, inh_sum, out=np.ones_like(inh_sum), where=inh_sum > 0)
    w = np.concatenate([exc, -inh], axis=1)
    # The bulk radius is set by the variances about the column means, not by the
    # raw second moment (half-normal magnitudes have a large mean).
    spread = np.sqrt(np.mean((w - w.mean(axis=0, keepdims=True)) ** 2))
    if spread > 0:
        w *= g / (np.sqrt(n) * spread)
    return w


def uniform(shape: tuple[int, ...], *, gamma: float, rng: np.random.Generator) -> np.ndarray:
    """Uniform weights on ``[-gamma, gamma]`` (Williams et al. 2024 feed-forward init).

    Returns
    -------
    ndarray of shape ``shape``
    """
    gamma = check_number("gamma", gamma, ge=0)
    return rng.uniform(-gamma, gamma, size=shape)


def input_weights(
    n_units: int, n_inputs: int, *, init: str = "gaussian", scale: float = 1.0,
    rng: np.random.Generator,
) -> np.ndarray:
    """Input weights of shape (unit, input).

    ``gaussian``: ``N(0, scale**2)``; ``uniform``: ``U[-scale, scale]``.
    """
    check_choice("input_init", init, WEIGHT_INITS)
    scale = check_number("input_scale", scale, ge=0)
    if init == "gaussian":
        return rng.normal(0.0, scale, size=(n_units, n_inputs))
    return rng.uniform(-scale, scale, size=(n_units, n_inputs))


def readout_weights(
    n_outputs: int, n_units: int, *, init: str = "gaussian", scale: float = 1.0,
    rng: np.random.Generator,
) -> np.ndarray:
    """Readout weights of shape (output, unit).

    ``gaussian``: ``N(0, scale**2 / n_units)``; ``uniform``: uniform with the same
    variance, on ``[-a, a]`` with ``a = scale * sqrt(3 / n_units)``.
    """
    check_choice("readout_init", init, WEIGHT_INITS)
    scale = check_number("readout_scale", scale, ge=0)
    std = scale / np.sqrt(n_units)
    if init == "gaussian":
        return rng.normal(0.0, std, size=(n_outputs, n_units))
    a = std * np.sqrt(3.0)
    return rng.uniform(-a, a, size=(n_outputs, n_units))
