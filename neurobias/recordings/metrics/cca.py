"""Mean canonical correlation between recorded and model trajectories on their top PCs."""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg
import xarray as xr

from neurobias.errors import check_number
from neurobias.recordings.metrics._common import as_trajectories, check_pair, null_dataset, top_pcs

__all__ = ["cca_similarity", "canonical_correlations"]


def canonical_correlations(a: np.ndarray, b: np.ndarray, *, n_components: int) -> np.ndarray:
    """Canonical correlations of two (sample, feature) matrices after reduction to their top PCs.

    Returns
    -------
    ndarray of shape (k,)
        Sorted decreasingly, ``k = min(n_components, ranks)``.
    """
    pa, pb = top_pcs(a, n_components), top_pcs(b, n_components)
    k = min(pa.shape[1], pb.shape[1])
    if k == 0:
        return np.zeros(0)
    qa, _ = np.linalg.qr(pa[:, :k])
    qb, _ = np.linalg.qr(pb[:, :k])
    return np.clip(scipy.linalg.svdvals(qa.T @ qb), 0.0, 1.0)


def cca_similarity(data: Any, model: Any, *, n_components: int = 10, n_shuffles: int = 100,
                   seed: int = 0) -> xr.Dataset:
    """Mean canonical correlation between data and model on the top PCs of each.

    Samples are (condition, time) pairs; each side is reduced to its top
    ``n_components`` principal components (centred), then CCA. Invariant to
    any invertible linear map of either side (rotations, scalings, neuron order).

    Parameters
    ----------
    data, model : recording, DataArray or array of shape (condition, time, neuron)
        Neuron counts may differ (e.g. recorded neurons vs all model units).
    n_components : int
    n_shuffles : int
        Null: the model's conditions permuted.
    seed : int

    Returns
    -------
    xarray.Dataset
        ``cca`` (mean canonical correlation, 1 = identical up to a linear map),
        ``cca_null (shuffle)``, ``cca_p_value``, ``canonical_correlation (cc)``.
    """
    a, b = as_trajectories(data, "data"), as_trajectories(model, "model")
    check_pair(a, b)
    n_components = check_number("n_components", n_components, ge=1, integer=True)
    fa = a.reshape(-1, a.shape[2])

    def mean_cc(bb: np.ndarray) -> float:
        cc = canonical_correlations(fa, bb.reshape(-1, bb.shape[2]), n_components=n_components)
        return float(cc.mean()) if cc.size else 0.0

    cc = canonical_correlations(fa, b.reshape(-1, b.shape[2]), n_components=n_components)
    out = null_dataset("cca", float(cc.mean()) if cc.size else 0.0, mean_cc, b, n_shuffles=n_shuffles, seed=seed,
                       larger_is_better=True,
                       long_name="mean canonical correlation of data and model on their top principal components")
    out["canonical_correlation"] = (("cc",), cc, {"long_name": "canonical correlations, descending", "units": "1"})
    out = out.assign_coords(cc=("cc", np.arange(cc.size), {"long_name": "canonical pair index"}))
    out.attrs["n_components"] = int(n_components)
    return out
