"""Procrustes shape distance (Williams et al. 2021, "Generalized shape metrics on neural representations").

Each side is a (sample, neuron) matrix of (condition, time) samples; columns
are centred, the matrix scaled to unit Frobenius norm, and the narrower one
zero-padded to the wider width. The angular Procrustes distance is
``arccos(max_Q <X, Y Q>) = arccos(||X^T Y||_*)`` over orthogonal ``Q`` (the
nuclear norm), in radians between 0 and pi/2; the Euclidean Procrustes
distance is ``min_Q ||X - Y Q||_F = sqrt(2 - 2 ||X^T Y||_*)``. Both are
metrics, zero for identical inputs and invariant to rotations and
reflections of either side (hence to neuron order) and to overall scale.
Written with scipy; the reference package (netrep) is not a dependency.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg
import xarray as xr

from neurobias.errors import InputError
from neurobias.recordings.metrics._common import as_trajectories, check_pair, null_dataset

__all__ = ["shape_distance", "procrustes_arrays"]


def _prepare(x: np.ndarray, width: int) -> np.ndarray:
    xc = x - x.mean(axis=0)
    norm = np.linalg.norm(xc)
    if norm == 0:
        raise InputError("a side of the shape comparison has no variance (all samples equal)")
    xc = xc / norm
    return np.pad(xc, ((0, 0), (0, width - xc.shape[1])))


def procrustes_arrays(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Angular (radians) and Euclidean Procrustes distances of two (sample, feature) matrices."""
    width = max(a.shape[1], b.shape[1])
    x, y = _prepare(a, width), _prepare(b, width)
    q, _ = scipy.linalg.orthogonal_procrustes(y, x)
    sim = float(np.clip(np.sum(x * (y @ q)), -1.0, 1.0))
    return float(np.arccos(sim)), float(np.sqrt(max(0.0, 2.0 - 2.0 * sim)))


def shape_distance(data: Any, model: Any, *, n_shuffles: int = 100, seed: int = 0) -> xr.Dataset:
    """Procrustes shape distance between data and model trajectories, with a shuffled-condition null.

    Parameters
    ----------
    data, model : recording, DataArray or array of shape (condition, time, neuron)
        Neuron counts may differ.
    n_shuffles : int
        Null: the model's conditions permuted.
    seed : int

    Returns
    -------
    xarray.Dataset
        ``angular_distance`` (radians, 0 = same shape), its ``_null (shuffle)``
        and ``_p_value`` (smaller is better), and ``procrustes_distance``
        (Euclidean, unit-norm inputs).
    """
    a, b = as_trajectories(data, "data"), as_trajectories(model, "model")
    check_pair(a, b)
    fa = a.reshape(-1, a.shape[2])
    angle, eucl = procrustes_arrays(fa, b.reshape(-1, b.shape[2]))
    out = null_dataset("angular_distance", angle, lambda bb: procrustes_arrays(fa, bb.reshape(-1, bb.shape[2]))[0], b,
                       n_shuffles=n_shuffles, seed=seed, larger_is_better=False,
                       long_name="Procrustes angular distance of data and model (0 = same shape)", units="rad")
    out["procrustes_distance"] = ((), eucl, {"long_name": "Procrustes Euclidean distance of the normalised "
                                                          "data and model", "units": "1"})
    return out
