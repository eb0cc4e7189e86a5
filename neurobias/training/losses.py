"""Masked losses and the normalised mean squared error (NMSE)."""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = ["masked_mse", "nmse"]


def masked_mse(z: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean squared error over the entries where ``mask`` is 1.

    Parameters
    ----------
    z, target, mask : Tensor of the same shape (..., time, output)

    Returns
    -------
    Tensor, scalar
    """
    err = mask * (z - target) ** 2
    return err.sum() / mask.sum().clamp_min(1.0)


def nmse(z: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Normalised mean squared error per context.

    ``NMSE_c = sum(mask (z - y)^2) / sum(mask (y - mean_c(y))^2)``, where the mean
    is taken per output channel over the masked entries of context ``c``.  A
    target that is constant within a context has no variance; the denominator
    then falls back to ``sum(mask y^2)`` and, if that is zero too, to the mask
    count (plain MSE).

    Parameters
    ----------
    z, target, mask : ndarray of shape (context, trial, time, output)

    Returns
    -------
    ndarray of shape (context,)
    """
    out = np.empty(z.shape[0])
    for c in range(z.shape[0]):
        m, y, zz = mask[c], target[c], z[c]
        count = m.sum(axis=(0, 1))
        mean = np.divide((m * y).sum(axis=(0, 1)), count, out=np.zeros_like(count), where=count > 0)
        num = (m * (zz - y) ** 2).sum()
        den = (m * (y - mean) ** 2).sum()
        if den <= 1e-12 * max(1.0, m.sum()):
            den = (m * y * y).sum()
        if den <= 0:
            den = max(m.sum(), 1.0)
        out[c] = num / den
    return out
