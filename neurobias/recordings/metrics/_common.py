"""Shared helpers of the model-vs-data metrics: input checks, shuffled-condition nulls, PCA."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr

from neurobias.errors import InputError, check_number, describe_shape

__all__ = ["as_trajectories", "null_dataset", "top_pcs", "shuffle_conditions", "shuffle_per_time"]


def as_trajectories(x: Any, name: str) -> np.ndarray:
    """Condition-average rates as float64 of shape (condition, time, neuron).

    Accepts a recording (its ``rate``), a DataArray with those dims, or an
    array. NaN is refused.
    """
    if isinstance(x, xr.Dataset):
        if "rate" not in x:
            raise InputError(f"`{name}` must have a variable `rate`; it has {sorted(map(str, x.data_vars))}")
        x = x["rate"]
    if isinstance(x, xr.DataArray):
        if x.dims[0] == "trial":
            raise InputError(f"`{name}` must be condition averages (condition, time, neuron); got single trials")
        lead = [d for d in x.dims if d not in ("time", "neuron")]
        if set(x.dims) != {"condition", "time", "neuron"} and len(lead) == 1:
            x = x.rename({lead[0]: "condition"})
        if "neuron" not in x.dims and "unit" in x.dims:
            x = x.rename({"unit": "neuron"})
        try:
            x = x.transpose("condition", "time", "neuron")
        except ValueError:
            raise InputError(f"`{name}` must have dims (condition, time, neuron); got {x.dims}") from None
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 3:
        raise InputError(f"`{name}` must have shape (condition, time, neuron); got {describe_shape(arr.shape)}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"`{name}` holds NaN or infinite values; trim or mask padding first")
    return arr


def check_pair(a: np.ndarray, b: np.ndarray, *, same_neurons: bool = False) -> None:
    """Check that two trajectory arrays share conditions and time (and neurons when asked)."""
    if a.shape[:2] != b.shape[:2]:
        raise InputError(
            f"`data` and `model` must have the same (condition, time) shape; got {describe_shape(a.shape[:2])} "
            f"and {describe_shape(b.shape[:2])}"
        )
    if a.shape[0] < 2:
        raise InputError(f"comparisons need at least 2 conditions; got {a.shape[0]}")
    if same_neurons and a.shape[2] != b.shape[2]:
        raise InputError(f"`data` and `model` must have the same neurons; got {a.shape[2]} and {b.shape[2]}")


def shuffle_conditions(b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``b`` with its conditions permuted (a derangement when possible)."""
    n = b.shape[0]
    perm = rng.permutation(n)
    for _ in range(100):
        if not np.any(perm == np.arange(n)):
            break
        perm = rng.permutation(n)
    return b[perm]


def shuffle_per_time(b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``b`` with its conditions permuted independently at every time bin (breaks the dynamics)."""
    out = np.empty_like(b)
    for t in range(b.shape[1]):
        out[:, t] = b[rng.permutation(b.shape[0]), t]
    return out


def null_dataset(
    name: str, observed: float, fn: Callable[[np.ndarray], float], b: np.ndarray, *, n_shuffles: int, seed: int,
    larger_is_better: bool, shuffle: Callable[[np.ndarray, np.random.Generator], np.ndarray] = shuffle_conditions,
    null_kind: str = "conditions permuted", long_name: str, units: str = "1",
) -> xr.Dataset:
    """A Dataset with ``<name>``, ``<name>_null (shuffle)`` and ``<name>_p_value``.

    The p-value is ``(1 + #{null at least as good as observed}) / (1 + n_shuffles)``.
    ``long_name`` and ``units`` describe the metric (its null shares them); the
    ``shuffle`` coordinate numbers the shuffles.
    """
    n_shuffles = check_number("n_shuffles", n_shuffles, ge=0, integer=True)
    rng = np.random.default_rng(seed)
    null = np.array([fn(shuffle(b, rng)) for _ in range(n_shuffles)], dtype=np.float64)
    better = null >= observed if larger_is_better else null <= observed
    p = (1 + int(better.sum())) / (1 + n_shuffles)
    return xr.Dataset(
        {name: ((), float(observed), {"long_name": long_name, "units": units}),
         f"{name}_null": (("shuffle",), null, {"null": null_kind, "long_name": f"{long_name}, {null_kind}",
                                                "units": units}),
         f"{name}_p_value": ((), p, {"long_name": f"p-value of the {name} against its null ({null_kind}): "
                                                  f"(1 + #{{null at least as good}}) / (1 + n_shuffles)",
                                     "units": "1"})},
        coords={"shuffle": ("shuffle", np.arange(n_shuffles), {"long_name": "shuffle index"})},
        attrs={"n_shuffles": int(n_shuffles), "seed": int(seed)},
    )


def top_pcs(x: np.ndarray, k: int) -> np.ndarray:
    """Scores on the top ``k`` PCs of ``x`` of shape (sample, feature), centred; shape (sample, k)."""
    xc = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(xc, full_matrices=False)
    k = min(k, int(np.sum(s > 1e-12 * max(s[0], 1e-300))) if s.size else 0)
    return u[:, :k] * s[:k]
