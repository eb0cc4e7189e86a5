"""Coefficient of determination between recorded and model rates, per neuron and overall."""
from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from neurobias.recordings.metrics._common import as_trajectories, check_pair, null_dataset

__all__ = ["r2", "r2_arrays"]


def r2_arrays(data: np.ndarray, pred: np.ndarray, *, mask: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """R² of ``pred`` against ``data`` (both (condition, time, neuron)) over the time bins in ``mask``.

    ``R² = 1 - SS_res / SS_tot`` with ``SS_tot`` about each neuron's mean over
    the included (condition, time) entries; overall R² pools the sums over
    neurons (variance-weighted). A neuron without variance gets NaN.

    Returns
    -------
    (float, ndarray of shape (neuron,))
    """
    sel = np.ones(data.shape[1], bool) if mask is None else np.asarray(mask, bool)
    d, p = data[:, sel], pred[:, sel]
    res = ((d - p) ** 2).sum(axis=(0, 1))
    tot = ((d - d.mean(axis=(0, 1))) ** 2).sum(axis=(0, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        per = np.where(tot > 0, 1.0 - res / np.where(tot > 0, tot, 1.0), np.nan)
    overall = 1.0 - res.sum() / tot.sum() if tot.sum() > 0 else float("nan")
    return float(overall), per


def r2(data: Any, model: Any, *, mask: Any = None, n_shuffles: int = 100, seed: int = 0) -> xr.Dataset:
    """R² of model rates against recorded rates, with a shuffled-condition null.

    Parameters
    ----------
    data, model : recording, DataArray or array of shape (condition, time, neuron)
        Condition averages with the same neurons (model units read out as the
        recorded neurons).
    mask : array_like of bool of shape (time,), optional
        Time bins scored (e.g. the held-out ones).
    n_shuffles : int
        Null: the model's conditions permuted (no condition matched to itself).
    seed : int

    Returns
    -------
    xarray.Dataset
        ``r2`` (overall), ``r2_neuron (neuron)``, ``r2_null (shuffle)``,
        ``r2_p_value``.
    """
    a, b = as_trajectories(data, "data"), as_trajectories(model, "model")
    check_pair(a, b, same_neurons=True)
    overall, per = r2_arrays(a, b, mask=mask)
    out = null_dataset("r2", overall, lambda bb: r2_arrays(a, bb, mask=mask)[0], b, n_shuffles=n_shuffles, seed=seed,
                       larger_is_better=True,
                       long_name="coefficient of determination R² of the model's rates for the data, all neurons")
    out["r2_neuron"] = (("neuron",), per, {"long_name": "coefficient of determination R² per neuron", "units": "1"})
    return out
