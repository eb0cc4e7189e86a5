"""jPCA-style rotation strength (Churchland et al. 2012).

On the top ``n_components`` PCs of the condition-averaged, cross-condition
mean-centred trajectories, fit ``dX/dt = X M^T`` by least squares twice: with
a general ``M`` and with a skew-symmetric ``M_skew`` (pure rotation). The
rotation strength is ``R²_skew / R²_full`` (fraction of the linear dynamics
that is rotational); the leading rotation frequency is the largest ``|Im
λ(M_skew)| / 2π`` in Hz. The statistic tested against the null is ``R²_skew``
(how well a pure rotation predicts the flow; the ratio alone cannot tell a
rotation from noise, where both fits are poor).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from neurobias.errors import InputError
from neurobias.recordings.metrics._common import as_trajectories, null_dataset, shuffle_per_time

__all__ = ["rotation_strength", "rotation_arrays"]


def _skew_basis(k: int) -> list[np.ndarray]:
    basis = []
    for i in range(k):
        for j in range(i + 1, k):
            h = np.zeros((k, k))
            h[i, j], h[j, i] = 1.0, -1.0
            basis.append(h)
    return basis


def rotation_arrays(x: np.ndarray, *, dt_ms: float, n_components: int) -> dict[str, float]:
    """Rotation statistics of trajectories ``x`` of shape (condition, time, neuron), bins ``dt_ms`` apart."""
    xc = x - x.mean(axis=0, keepdims=True)
    flat = xc.reshape(-1, xc.shape[2])
    _, s, vt = np.linalg.svd(flat - flat.mean(axis=0), full_matrices=False)
    k = int(min(n_components, np.sum(s > 1e-10 * s[0])))
    if k < 2:
        raise InputError("rotation strength needs trajectories spanning at least 2 dimensions")
    pcs = xc @ vt[:k].T
    xs = 0.5 * (pcs[:, 1:] + pcs[:, :-1])
    dx = (pcs[:, 1:] - pcs[:, :-1]) / (dt_ms / 1000.0)
    X, dX = xs.reshape(-1, k), dx.reshape(-1, k)
    tot = float(np.sum((dX - dX.mean(axis=0)) ** 2))
    m_full = np.linalg.lstsq(X, dX, rcond=None)[0]
    r2_full = 1.0 - float(np.sum((dX - X @ m_full) ** 2)) / tot
    basis = _skew_basis(k)
    design = np.stack([(X @ h).ravel() for h in basis], axis=1)
    coef = np.linalg.lstsq(design, dX.ravel(), rcond=None)[0]
    m_skew = sum(c * h for c, h in zip(coef, basis))
    r2_skew = 1.0 - float(np.sum((dX - X @ m_skew) ** 2)) / tot
    freq = float(np.max(np.abs(np.linalg.eigvals(m_skew).imag)) / (2 * np.pi))
    return {"r2_skew": r2_skew, "r2_full": r2_full, "rotation_ratio": r2_skew / r2_full if r2_full > 0 else 0.0,
            "frequency_hz": freq, "n_components": k}


def rotation_strength(trajectories: Any, *, n_components: int = 6, n_shuffles: int = 100,
                      seed: int = 0) -> xr.Dataset:
    """Rotation strength of condition-averaged trajectories, with a null.

    Parameters
    ----------
    trajectories : recording or DataArray with dims (condition, time, neuron)
        Needs a ``time`` coordinate in ms (evenly spaced).
    n_components : int
        PCs kept (6 in Churchland et al. 2012).
    n_shuffles : int
        Null: conditions permuted independently at every time bin (keeps the
        states visited, breaks the flow).
    seed : int

    Returns
    -------
    xarray.Dataset
        ``r2_skew`` (R² of the rotational fit), its ``_null (shuffle)`` and
        ``_p_value``; ``r2_full``; ``rotation_ratio`` (``R²_skew / R²_full``);
        ``frequency_hz``.
    """
    da = trajectories["rate"] if isinstance(trajectories, xr.Dataset) else trajectories
    if not isinstance(da, xr.DataArray) or "time" not in da.coords:
        raise InputError("`trajectories` must be a recording or DataArray with a `time` coordinate (ms)")
    t = np.asarray(da["time"].values, dtype=np.float64)
    x = as_trajectories(da, "trajectories")
    dt = float(t[1] - t[0])
    stats = rotation_arrays(x, dt_ms=dt, n_components=n_components)
    out = null_dataset(
        "r2_skew", stats["r2_skew"],
        lambda xx: rotation_arrays(xx, dt_ms=dt, n_components=n_components)["r2_skew"], x,
        n_shuffles=n_shuffles, seed=seed, larger_is_better=True, shuffle=shuffle_per_time,
        null_kind="conditions permuted at every time bin",
        long_name="R² of the best rotational (skew-symmetric) linear fit of the derivative on the top PCs")
    described = {"r2_full": ("R² of the best unconstrained linear fit of the derivative on the top PCs", "1"),
                 "rotation_ratio": ("R² of the rotational fit / R² of the unconstrained fit", "1"),
                 "frequency_hz": ("frequency of the rotational fit's leading plane", "Hz")}
    for key, (long_name, units) in described.items():
        out[key] = ((), stats[key], {"long_name": long_name, "units": units})
    out.attrs["n_components"] = int(stats["n_components"])
    return out
