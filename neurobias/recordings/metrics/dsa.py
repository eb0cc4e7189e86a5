"""Dynamical Similarity Analysis (Ostrow et al. 2023) through the ``dsa-metric`` package.

DSA fits a delay-embedded linear (DMD) model to each side's trajectories and
compares the two dynamics matrices up to an orthogonal change of basis
(angular distance: 0 = the same dynamics). DSA pools all conditions into one
dynamical system, so permuting whole conditions leaves it unchanged; its null
permutes conditions independently at every time bin instead, which keeps the
visited states and breaks the flow.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from neurobias.errors import InputError, check_number
from neurobias.recordings.metrics._common import as_trajectories, check_pair, null_dataset, shuffle_per_time, top_pcs

__all__ = ["dsa_distance"]


def _dsa(a: np.ndarray, b: np.ndarray, *, n_delays: int, rank: int, iters: int, lr: float) -> float:
    # dsa-metric (checked with the installed version) emits no warnings on import or fit, so none are filtered
    try:
        from DSA import DSA
    except ImportError:
        raise InputError(
            "the DSA metric needs the dsa-metric package: pip install 'neurobias[dsa]' (with torch==2.13.0 "
            "installed first), or leave \"dsa\" out of the metrics (compare.metrics)"
        ) from None

    model = DSA(a, b, n_delays=n_delays, rank=rank, score_method="angular", iters=iters, lr=lr, device="cpu",
                verbose=False)
    return float(model.fit_score())


def _reduce(x: np.ndarray, k: int) -> np.ndarray:
    flat = top_pcs(x.reshape(-1, x.shape[2]), k)
    return flat.reshape(x.shape[0], x.shape[1], -1)


def dsa_distance(data: Any, model: Any, *, n_components: int = 6, n_delays: int = 2, rank: int = 8,
                 iters: int = 300, lr: float = 1e-2, n_shuffles: int = 100, seed: int = 0) -> xr.Dataset:
    """DSA angular distance between data and model trajectories.

    Parameters
    ----------
    data, model : recording, DataArray or array of shape (condition, time, neuron)
        Each side is reduced to its top ``n_components`` PCs first.
    n_delays, rank : int
        Delay embedding and DMD rank.
    iters, lr : int, float
        The package's optimisation of the orthogonal alignment.
    n_shuffles : int
        Null: the model's conditions permuted at every time bin.  The same
        default as every metric; each null value is a full DSA fit (seconds),
        so pass fewer when time matters (the recording comparison passes its
        ``dsa_shuffles``).
    seed : int

    Returns
    -------
    xarray.Dataset
        ``dsa`` (angular distance, 0 = same dynamics), ``dsa_null (shuffle)``,
        ``dsa_p_value`` (smaller is better).
    """
    a, b = as_trajectories(data, "data"), as_trajectories(model, "model")
    check_pair(a, b)
    for name, v in (("n_components", n_components), ("n_delays", n_delays), ("rank", rank), ("iters", iters)):
        check_number(name, v, ge=1, integer=True)
    import torch

    from neurobias.circuit.threads import one_thread

    ra = _reduce(a, n_components)

    def score(bb: np.ndarray) -> float:
        with torch.random.fork_rng(devices=[]):  # the package draws its initial alignment from torch's global RNG
            torch.manual_seed(seed)
            return _dsa(ra, _reduce(bb, n_components), n_delays=n_delays, rank=rank, iters=iters, lr=lr)

    with one_thread():
        out = null_dataset("dsa", score(b), score, b, n_shuffles=n_shuffles, seed=seed, larger_is_better=False,
                           shuffle=shuffle_per_time, null_kind="conditions permuted at every time bin",
                           long_name="dynamical similarity analysis angular distance (0 = same dynamics)",
                           units="rad")
    out.attrs.update(n_components=int(n_components), n_delays=int(n_delays), rank=int(rank))
    return out
