"""Geometry of a tonic-input bank: similarity between contexts and PCA with a shuffle null.

Both functions take the bank ``b`` of shape (context, unit) (tonic input of
each context, in state units) as an :class:`xarray.DataArray`, a Dataset with a
``tonic`` variable (such as ``results.nc``) or a plain 2-d array, and return
xarray objects labelled by the bank's ``context`` and ``unit`` coordinates.
Pure functions: no file I/O, no plotting.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from neurobias.analysis._stats import gram_participation_ratio
from neurobias.errors import InputError, check_choice, check_finite, check_number, describe_shape

__all__ = ["tonic_similarity", "tonic_pca", "SIMILARITY_METRICS"]

SIMILARITY_METRICS: tuple[str, ...] = ("cosine", "correlation", "euclidean")


# --------------------------------------------------------- shared input checks
@dataclass(frozen=True)
class Bank:
    """A validated tonic bank: values (context, unit) and its labels."""

    values: np.ndarray
    contexts: np.ndarray
    units: np.ndarray

    def pair_coords(self) -> dict[str, Any]:
        return {"context": self.contexts, "context_b": ("context_b", self.contexts.copy())}


def as_bank(tonic: Any, *, name: str = "tonic", min_contexts: int = 1) -> Bank:
    """Validate a tonic bank and return it as float64 (context, unit) with its labels.

    Accepts a DataArray with dims ``(context, unit)`` (any order), a Dataset
    with a variable ``tonic`` of those dims, or a 2-d array (contexts named
    ``context0, ...``, units ``0..N-1``).
    """
    if isinstance(tonic, xr.Dataset):
        if "tonic" not in tonic.data_vars:
            raise InputError(
                f"`{name}` Dataset must contain a variable 'tonic' of dims (context, unit); "
                f"got variables {sorted(map(str, tonic.data_vars))}"
            )
        tonic = tonic["tonic"]
    if isinstance(tonic, xr.DataArray):
        if set(tonic.dims) != {"context", "unit"} or tonic.ndim != 2:
            raise InputError(f"`{name}` must have dims (context, unit); got {tuple(map(str, tonic.dims))}")
        tonic = tonic.transpose("context", "unit")
        n_ctx, n_unit = tonic.shape
        contexts = (np.array([str(c) for c in tonic["context"].values], dtype=str) if "context" in tonic.coords
                    else np.array([f"context{i}" for i in range(n_ctx)], dtype=str))
        units = tonic["unit"].values.copy() if "unit" in tonic.coords else np.arange(n_unit)
        raw = tonic.values
    else:
        raw = tonic
        contexts = units = None  # type: ignore[assignment]
    try:
        arr = np.array(raw, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise InputError(f"`{name}` must be numeric of shape (context, unit); could not convert: {exc}") from None
    if arr.ndim != 2:
        raise InputError(f"`{name}` must have shape (context, unit); got {describe_shape(arr.shape)}")
    if arr.shape[1] < 1:
        raise InputError(f"`{name}` must have at least one unit; got shape {describe_shape(arr.shape)}")
    if arr.shape[0] < min_contexts:
        raise InputError(
            f"`{name}` must have at least {min_contexts} contexts for this analysis; got {arr.shape[0]}"
        )
    check_finite(name, arr)
    if contexts is None:
        contexts = np.array([f"context{i}" for i in range(arr.shape[0])], dtype=str)
        units = np.arange(arr.shape[1])
    if len(set(contexts.tolist())) != contexts.size:
        raise InputError(f"`{name}` context names must be unique; got {contexts.tolist()}")
    return Bank(arr, contexts, units)


# ------------------------------------------------------------------ similarity
def tonic_similarity(tonic: Any, *, metric: str = "cosine") -> xr.DataArray:
    """Pairwise similarity (or distance) between the contexts' tonic-input vectors.

    Parameters
    ----------
    tonic : DataArray of dims (context, unit), Dataset with ``tonic``, or array of shape (context, unit)
        Tonic input per context, state units.
    metric : {"cosine", "correlation", "euclidean"}
        * ``cosine``: ``b_c . b_d / (|b_c| |b_d|)``, in [-1, 1]; NaN for a zero vector;
        * ``correlation``: Pearson correlation across units, i.e. the cosine of
          the vectors centred on their mean over units; NaN for a constant vector;
        * ``euclidean``: ``|b_c - b_d|``, in state units (a distance: 0 on the diagonal).

    Returns
    -------
    DataArray of dims (context, context_b)
        Symmetric; ``context_b`` carries the same names as ``context``.
        ``attrs["metric"]`` names the metric.

    Raises
    ------
    InputError
        Bad bank or unknown ``metric``.
    """
    check_choice("metric", metric, SIMILARITY_METRICS)
    bank = as_bank(tonic)
    B = bank.values
    if metric == "euclidean":
        out = np.stack([np.sqrt(np.sum((B - b) ** 2, axis=1)) for b in B])
        long_name = "Euclidean distance between tonic inputs"
    else:
        if metric == "correlation":
            B = B - B.mean(axis=1, keepdims=True)
            const = np.ptp(bank.values, axis=1) == 0
        else:
            const = np.zeros(B.shape[0], dtype=bool)
        norm = np.sqrt(np.sum(B * B, axis=1))
        bad = const | (norm == 0)
        unit = B / np.where(bad, 1.0, norm)[:, None]
        out = np.clip(unit @ unit.T, -1.0, 1.0)
        out[bad, :] = np.nan
        out[:, bad] = np.nan
        long_name = ("cosine similarity" if metric == "cosine" else "Pearson correlation across units") + \
            " between tonic inputs"
    return xr.DataArray(
        out, dims=("context", "context_b"), coords=bank.pair_coords(), name=f"tonic_{metric}",
        attrs={"metric": metric, "long_name": long_name},
    )


# ------------------------------------------------------------------------- PCA
def tonic_pca(tonic: Any, *, n_shuffles: int = 100, seed: int = 0, center: bool = True) -> xr.Dataset:
    """PCA of the tonic bank, its participation ratio and a unit-shuffle null.

    Contexts are the samples and units the features: component ``k`` is a
    direction in unit space (``loadings``), and each context has a score on it.
    With ``C`` contexts the bank spans at most ``C`` dimensions (``C - 1`` once
    centred), so there are ``K = min(C - center, N)`` components.

    * ``center=True`` (default): ``X = b - mean_c b`` (how the contexts differ
      from their mean input), variances with ``ddof = 1``: ``lambda_k = s_k^2 / (C - 1)``;
    * ``center=False``: ``X = b``, second moments ``lambda_k = s_k^2 / C`` (a
      shared baseline then counts as a dimension).

    ``s_k`` are the singular values of ``X``; ``sum_k lambda_k`` equals the total
    variance ``sum_units var_c(b)`` (or ``mean_c |b_c|^2`` uncentred).  The
    participation ratio is ``PR = (sum lambda)^2 / sum lambda^2``, between 1
    (all contexts' deviations along one direction) and ``K``.

    Null: each context's vector has its unit labels permuted independently
    (``rng.permuted`` along units), which keeps every context's distribution of
    values (hence its norm and mean) but destroys alignment between contexts;
    the PR of each shuffled bank (centred the same way) forms the null.
    ``p_value = (1 + #{PR_null <= PR}) / (1 + n_shuffles)``: small when the
    bank is lower-dimensional (more aligned across contexts) than chance.

    Parameters
    ----------
    tonic : DataArray (context, unit), Dataset with ``tonic``, or array (context, unit)
        At least 2 contexts when ``center`` is true.
    n_shuffles : int
        Number of shuffled banks (0: no null, ``p_value`` NaN).
    seed : int
        Seed of the shuffles (:func:`numpy.random.default_rng`); same seed, same result.
    center : bool
        Subtract the mean over contexts first.

    Returns
    -------
    xarray.Dataset
        * ``explained_variance (component,)``: ``lambda_k``, state units squared;
        * ``explained_variance_ratio (component,)``: ``lambda_k / sum lambda``;
        * ``loadings (component, unit)``: unit-norm principal axes; the sign of
          each is fixed so that its largest-magnitude entry is positive;
        * ``scores (context, component)``: ``X @ loadings.T``, state units;
        * ``mean (unit,)``: the subtracted mean (zeros when not centred);
        * ``total_variance ()``, ``participation_ratio ()``;
        * ``null_participation_ratio (shuffle,)``, ``p_value ()``.

        Attributes ``center`` (0/1), ``n_shuffles``, ``seed``.
    """
    if not isinstance(center, (bool, np.bool_)):
        raise InputError(f"`center` must be True or False; got {center!r}")
    n_shuffles = check_number("n_shuffles", n_shuffles, ge=0, integer=True)
    seed = check_number("seed", seed, ge=0, integer=True)
    bank = as_bank(tonic, min_contexts=2 if center else 1)
    B = bank.values
    C, N = B.shape
    mean = B.mean(axis=0) if center else np.zeros(N)
    X = B - mean
    denom = C - 1 if center else C
    K = min(C - 1 if center else C, N)
    _, s, vt = np.linalg.svd(X, full_matrices=False)
    s, vt = s[:K], vt[:K]
    signs = np.sign(vt[np.arange(K), np.argmax(np.abs(vt), axis=1)])
    vt = vt * np.where(signs == 0, 1.0, signs)[:, None]
    ev = s * s / denom
    total = float(np.sum(X * X) / denom)
    ev_sum = float(ev.sum())
    ratio = ev / ev_sum if ev_sum > 0 else np.full(K, np.nan)
    scores = X @ vt.T
    pr = float(gram_participation_ratio(X @ X.T))

    null = np.empty(n_shuffles)
    rng = np.random.default_rng(seed)
    batch = max(1, 2**22 // max(1, C * N))
    for start in range(0, n_shuffles, batch):
        m = min(batch, n_shuffles - start)
        Bs = np.stack([rng.permuted(B, axis=1) for _ in range(m)])  # (shuffle, context, unit)
        if center:
            Bs = Bs - Bs.mean(axis=1, keepdims=True)
        null[start:start + m] = gram_participation_ratio(np.einsum("scn,sdn->scd", Bs, Bs))
    if n_shuffles and np.isfinite(pr):
        p = float((1 + np.count_nonzero(null <= pr)) / (1 + n_shuffles))
    else:
        p = float("nan")

    comp = np.arange(K)
    return xr.Dataset(
        {
            "explained_variance": (("component",), ev, {"long_name": "variance along each principal axis",
                                                       "units": "state units squared"}),
            "explained_variance_ratio": (("component",), ratio, {"long_name": "fraction of the total variance"}),
            "loadings": (("component", "unit"), vt, {"long_name": "principal axes in unit space (unit norm)"}),
            "scores": (("context", "component"), scores, {"long_name": "projection of each context's "
                                                          "(centred) tonic input on each axis",
                                                          "units": "state units"}),
            "mean": (("unit",), mean, {"long_name": "mean tonic input over contexts (subtracted when centred)"}),
            "total_variance": ((), total, {"long_name": "total variance of the bank"}),
            "participation_ratio": ((), pr, {"long_name": "(sum lambda)^2 / sum lambda^2"}),
            "null_participation_ratio": (("shuffle",), null, {"long_name": "participation ratio of banks with "
                                                               "units shuffled independently per context"}),
            "p_value": ((), p, {"long_name": "(1 + #{null PR <= PR}) / (1 + n_shuffles)"}),
        },
        coords={"context": bank.contexts, "unit": bank.units, "component": comp, "shuffle": np.arange(n_shuffles)},
        attrs={"center": int(bool(center)), "n_shuffles": n_shuffles, "seed": seed},
    )
