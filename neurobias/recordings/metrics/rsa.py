"""Representational similarity analysis over conditions."""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.spatial.distance
import scipy.stats
import xarray as xr

from neurobias.recordings.metrics._common import as_trajectories, check_pair, null_dataset

__all__ = ["rsa", "condition_rdm"]


def condition_rdm(x: np.ndarray) -> np.ndarray:
    """Representational dissimilarity matrix of shape (condition, condition).

    Each condition's pattern is its (time x neuron) trajectory flattened; the
    dissimilarity is the correlation distance ``1 - r`` (invariant to neuron
    order, to a common scale and offset).
    """
    return scipy.spatial.distance.squareform(scipy.spatial.distance.pdist(x.reshape(x.shape[0], -1), "correlation"))


def _compare(ra: np.ndarray, rb: np.ndarray) -> float:
    iu = np.triu_indices(ra.shape[0], 1)
    if ra.shape[0] < 3:
        return float(np.sign(ra[iu][0]) == np.sign(rb[iu][0]))
    return float(scipy.stats.spearmanr(ra[iu], rb[iu])[0])


def rsa(data: Any, model: Any, *, n_shuffles: int = 100, seed: int = 0) -> xr.Dataset:
    """Spearman correlation between the data's and the model's condition RDMs.

    Parameters
    ----------
    data, model : recording, DataArray or array of shape (condition, time, neuron)
        At least 3 conditions for a meaningful rank correlation.
    n_shuffles : int
        Null: the model's conditions permuted (rows and columns of its RDM).
    seed : int

    Returns
    -------
    xarray.Dataset
        ``rsa`` (1 = same ordering of condition dissimilarities), ``rsa_null
        (shuffle)``, ``rsa_p_value``, ``rdm_data``, ``rdm_model (condition, condition_b)``.
    """
    a, b = as_trajectories(data, "data"), as_trajectories(model, "model")
    check_pair(a, b)
    ra, rb = condition_rdm(a), condition_rdm(b)
    out = null_dataset("rsa", _compare(ra, rb), lambda bb: _compare(ra, condition_rdm(bb)), b, n_shuffles=n_shuffles,
                       seed=seed, larger_is_better=True,
                       long_name="Spearman correlation of the data's and the model's condition dissimilarities")
    out["rdm_data"] = (("condition", "condition_b"), ra,
                       {"long_name": "correlation distance between conditions, data", "units": "1"})
    out["rdm_model"] = (("condition", "condition_b"), rb,
                        {"long_name": "correlation distance between conditions, model", "units": "1"})
    return out
