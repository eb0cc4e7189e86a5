"""Task variance per unit and context, clusters of units, and the link with tonic input.

* :func:`task_variance`: Yang et al. (2019, Nature Neuroscience 22:297): the
  variance of a unit's activity across trials (conditions) within a context,
  averaged over time, normalised per unit across contexts;
* :func:`cluster_units`: k-means on the normalised task-variance profiles of
  the active units, the number of clusters chosen by silhouette or the gap
  statistic;
* :func:`tonic_variance_correlation`: Pearson and Spearman correlation between
  a unit's tonic input and its task variance, per context, overall and per
  cluster (the link Williams et al. 2024 report for bias-learned networks).

Pure functions: xarray in, xarray out.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from neurobias.analysis._stats import choose_k_gap, correlation, gap_statistic, kmeans, silhouette_samples
from neurobias.analysis.tonic_patterns import as_bank
from neurobias.errors import InputError, check_choice, check_number

__all__ = ["task_variance", "cluster_units", "tonic_variance_correlation", "NORMALIZATIONS", "CRITERIA"]

NORMALIZATIONS: tuple[str, ...] = ("max", "sum")
CRITERIA: tuple[str, ...] = ("silhouette", "gap")
_ACTIVITY_DIMS = ("context", "trial", "time", "unit")


def _activity(trajectories: Any, variable: str) -> xr.DataArray:
    if isinstance(trajectories, xr.Dataset):
        if variable not in trajectories.data_vars:
            raise InputError(
                f"`trajectories` must contain the variable `variable` = {variable!r} of dims "
                f"(context, trial, time, unit); got variables {sorted(map(str, trajectories.data_vars))}"
            )
        da = trajectories[variable]
    elif isinstance(trajectories, xr.DataArray):
        da = trajectories
    else:
        raise InputError(
            f"`trajectories` must be an xarray Dataset (e.g. from simulate) or DataArray of dims "
            f"(context, trial, time, unit); got {type(trajectories).__name__}"
        )
    if set(da.dims) != set(_ACTIVITY_DIMS) or da.ndim != 4:
        raise InputError(
            f"`trajectories` activity must have dims (context, trial, time, unit); got {tuple(map(str, da.dims))}"
        )
    da = da.transpose(*_ACTIVITY_DIMS)
    if da.sizes["trial"] < 2:
        raise InputError(
            f"`trajectories` must have at least 2 trials per context to measure variance across trials; "
            f"got {da.sizes['trial']}"
        )
    if da.sizes["time"] < 1 or da.sizes["context"] < 1 or da.sizes["unit"] < 1:
        raise InputError(f"`trajectories` must not be empty; got sizes {dict(da.sizes)}")
    if not np.issubdtype(da.dtype, np.number) or not np.all(np.isfinite(da.values)):
        raise InputError("`trajectories` activity must be finite numbers; it has NaN or infinite entries")
    return da


def task_variance(
    trajectories: Any, *, variable: str = "r", normalize: str = "max", min_variance: float = 1e-10
) -> xr.Dataset:
    """Task variance of every unit in every context (Yang et al. 2019).

    ``TV[c, i] = mean_t var_trial r[c, trial, t, i]``: the variance (``ddof = 0``,
    as Yang et al.) across the trials of context ``c`` at each time, averaged
    over time.  Select the time window first (``ds.sel(time=slice(...))``) to
    restrict it, e.g. to the response period.

    Normalised per unit across contexts:
    ``normalize="max"`` (Yang et al.): ``TV[c, i] / max_c TV[c, i]``, in [0, 1]
    with 1 in the unit's preferred context; ``"sum"``: ``TV[c, i] / sum_c TV[c, i]``
    (a profile that sums to 1).  A unit is *active* when ``sum_c TV[c, i] >
    min_variance``; inactive units get NaN in ``tv_norm`` (Yang et al. drop units
    with summed variance below 1e-3).

    Parameters
    ----------
    trajectories : Dataset with ``variable`` of dims (context, trial, time, unit), or that DataArray
        E.g. the output of :func:`neurobias.simulate` or ``results.nc``. At least 2 trials.
    variable : str
        Which variable of a Dataset: ``"r"`` (rates, default) or ``"x"`` (state).
    normalize : {"max", "sum"}
    min_variance : float
        Activity threshold on the summed variance, in (variable units)^2, >= 0.

    Returns
    -------
    xarray.Dataset
        * ``tv (context, unit)``: task variance, (variable units)^2;
        * ``tv_norm (context, unit)``: normalised task variance (NaN for inactive units);
        * ``tv_total (unit,)``: ``sum_c TV``;
        * ``active (unit,)``: bool.

        Attributes ``variable``, ``normalize``, ``min_variance``.
    """
    if not isinstance(variable, str):
        raise InputError(f"`variable` must be a variable name such as 'r' or 'x'; got {variable!r}")
    check_choice("normalize", normalize, NORMALIZATIONS)
    check_number("min_variance", min_variance, ge=0)
    da = _activity(trajectories, variable)
    r = np.asarray(da.values, dtype=np.float64)
    tv = np.var(r, axis=1).mean(axis=1)  # (context, unit)
    total = tv.sum(axis=0)
    active = total > min_variance
    ref = tv.max(axis=0) if normalize == "max" else total
    with np.errstate(invalid="ignore", divide="ignore"):
        tv_norm = np.where(active[None, :], tv / np.where(ref > 0, ref, 1.0)[None, :], np.nan)
    coords = {"context": da["context"].values if "context" in da.coords else np.arange(tv.shape[0]),
              "unit": da["unit"].values if "unit" in da.coords else np.arange(tv.shape[1])}
    return xr.Dataset(
        {
            "tv": (("context", "unit"), tv, {"long_name": f"task variance: mean over time of the variance of "
                                             f"{variable} across trials"}),
            "tv_norm": (("context", "unit"), tv_norm, {"long_name": f"task variance / its {normalize} over "
                                                       "contexts (NaN: inactive unit)"}),
            "tv_total": (("unit",), total, {"long_name": "task variance summed over contexts"}),
            "active": (("unit",), active, {"long_name": "summed task variance > min_variance"}),
        },
        coords=coords,
        attrs={"variable": variable, "normalize": normalize, "min_variance": float(min_variance)},
    )


def _profiles(tv: Any) -> tuple[xr.DataArray, np.ndarray]:
    """Normalised profiles (context, unit) and the active mask (unit,)."""
    if isinstance(tv, xr.Dataset):
        if "tv_norm" not in tv.data_vars:
            raise InputError(
                "`tv` Dataset must contain `tv_norm` (context, unit), as returned by task_variance; "
                f"got variables {sorted(map(str, tv.data_vars))}"
            )
        prof = tv["tv_norm"]
    elif isinstance(tv, xr.DataArray):
        prof = tv
    else:
        raise InputError(
            f"`tv` must be the Dataset of task_variance or a DataArray (context, unit); got {type(tv).__name__}"
        )
    if set(prof.dims) != {"context", "unit"} or prof.ndim != 2:
        raise InputError(f"`tv` profiles must have dims (context, unit); got {tuple(map(str, prof.dims))}")
    prof = prof.transpose("context", "unit")
    values = np.asarray(prof.values, dtype=np.float64)
    active = np.all(np.isfinite(values), axis=0)
    if isinstance(tv, xr.Dataset) and "active" in tv.data_vars:
        active &= np.asarray(tv["active"].values, dtype=bool)
    return prof, active


def cluster_units(
    tv: Any,
    *,
    k: int | None = None,
    k_range: tuple[int, int] = (2, 8),
    criterion: str = "silhouette",
    seed: int = 0,
    n_init: int = 10,
    n_refs: int = 10,
) -> xr.Dataset:
    """Cluster units by their normalised task-variance profile across contexts.

    Each active unit is the point ``tv_norm[:, i]`` in context space; k-means
    (:func:`neurobias.analysis._stats.kmeans`, seeded k-means++, ``n_init``
    restarts) groups them.  Without ``k``, every ``k`` in ``k_range`` (inclusive,
    capped at ``n_active - 1``) is tried and the one chosen is

    * ``criterion="silhouette"``: the largest mean silhouette (the smallest
      ``k`` among ties); needs ``k >= 2``;
    * ``criterion="gap"``: Tibshirani et al. (2001): the smallest ``k`` with
      ``gap(k) >= gap(k+1) - s_{k+1}``, uniform reference sets in the profiles'
      bounding box (``n_refs`` of them); ``k = 1`` is allowed.

    The active units are clustered in lexicographic order of their profiles and
    clusters are numbered by decreasing size (ties: lexicographic centroid),
    so the result does not depend on the order of the units at all.

    Parameters
    ----------
    tv : Dataset from :func:`task_variance`, or DataArray (context, unit)
        Normalised profiles; units with any NaN (or ``active`` false) are left out.
    k : int, optional
        Fixed number of clusters (then ``k_range`` is ignored).
    k_range : (int, int)
        Smallest and largest ``k`` to try.
    criterion : {"silhouette", "gap"}
    seed : int
        Seed of k-means (and of the gap reference sets).
    n_init : int
        k-means++ restarts per ``k``.
    n_refs : int
        Reference sets of the gap statistic.

    Returns
    -------
    xarray.Dataset
        * ``cluster (unit,)``: int label, ``-1`` for inactive units;
        * ``centroids (cluster_id, context)``: mean normalised profile of each
          cluster (the dimension is ``cluster_id`` because ``cluster`` names the labels);
        * ``cluster_size (cluster_id,)``;
        * ``silhouette_unit (unit,)``: silhouette of each unit at the chosen ``k``
          (NaN for inactive units, or when ``k = 1``);
        * ``silhouette (k,)`` and ``inertia (k,)`` for every ``k`` tried
          (silhouette NaN for ``k = 1``); with ``criterion="gap"`` also
          ``gap (k,)`` and ``gap_se (k,)``.

        Attributes ``k`` (the chosen number of clusters), ``criterion``,
        ``seed``, ``n_init``, ``n_active``.

    Raises
    ------
    InputError
        Fewer than 3 active units, or bad options.
    """
    check_choice("criterion", criterion, CRITERIA)
    seed = check_number("seed", seed, ge=0, integer=True)
    n_init = check_number("n_init", n_init, ge=1, integer=True)
    n_refs = check_number("n_refs", n_refs, ge=1, integer=True)
    prof, active = _profiles(tv)
    X = np.asarray(prof.values, dtype=np.float64)[:, active].T  # (active unit, context)
    # Cluster the points in a canonical (lexicographic) order so that the result does not depend on the
    # order of the units at all (k-means++ draws sample indices).
    canon = np.lexsort(X.T[::-1])
    X = X[canon]
    n_act = X.shape[0]
    if n_act < 3:
        raise InputError(f"`tv` must have at least 3 active units to cluster; got {n_act}")
    low_k = 2 if criterion == "silhouette" else 1
    if k is not None:
        k = check_number("k", k, ge=low_k, integer=True)
        if k > n_act - 1:
            raise InputError(f"`k` must be at most n_active - 1 = {n_act - 1}; got {k}")
        ks = [k]
    else:
        if (not isinstance(k_range, (tuple, list)) or len(k_range) != 2
                or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in k_range)
                or not (low_k <= k_range[0] <= k_range[1])):
            raise InputError(
                f"`k_range` must be (k_min, k_max) integers with {low_k} <= k_min <= k_max for "
                f"criterion {criterion!r}; got {k_range!r}"
            )
        ks = list(range(int(k_range[0]), min(int(k_range[1]), n_act - 1) + 1))
        if not ks:
            raise InputError(
                f"`k_range` = {tuple(k_range)} leaves no k below n_active = {n_act} active units"
            )
    fits, sil, inertia = [], np.full(len(ks), np.nan), np.empty(len(ks))
    for i, kk in enumerate(ks):
        labels, centers, w = kmeans(X, kk, n_init=n_init, seed=seed)
        fits.append((labels, centers))
        inertia[i] = w
        if 2 <= kk <= n_act - 1:
            sil[i] = float(np.mean(silhouette_samples(X, labels)))
    data_k: dict[str, Any] = {}
    if criterion == "silhouette":
        chosen = ks[int(np.nanargmax(sil))] if np.any(np.isfinite(sil)) else ks[0]
    else:
        gap, gap_se, _ = gap_statistic(X, ks, n_refs=n_refs, n_init=n_init, seed=seed)
        chosen = choose_k_gap(ks, gap, gap_se)
        data_k = {"gap": (("k",), gap, {"long_name": "gap statistic"}),
                  "gap_se": (("k",), gap_se, {"long_name": "standard error s_k of the gap statistic"})}
    labels, centers = fits[ks.index(chosen)]

    # canonical numbering: by size (descending), then centroid
    sizes = np.bincount(labels, minlength=chosen)
    order = sorted(range(chosen), key=lambda j: (-sizes[j], tuple(centers[j])))
    relabel = np.empty(chosen, dtype=np.int64)
    relabel[order] = np.arange(chosen)
    labels = relabel[labels]
    centers = centers[order]
    sizes = sizes[order]

    n_unit = prof.sizes["unit"]
    cluster = np.full(n_unit, -1, dtype=np.int64)
    back = np.empty_like(canon)
    back[canon] = np.arange(canon.size)
    cluster[active] = labels[back]
    sil_unit = np.full(n_unit, np.nan)
    if chosen >= 2:
        sil_unit[active] = silhouette_samples(X, labels)[back]
    coords = {
        "unit": prof["unit"].values if "unit" in prof.coords else np.arange(n_unit),
        "context": prof["context"].values if "context" in prof.coords else np.arange(prof.sizes["context"]),
        "cluster_id": np.arange(chosen),
        "k": np.asarray(ks, dtype=np.int64),
    }
    return xr.Dataset(
        {
            "cluster": (("unit",), cluster, {"long_name": "cluster of each unit (-1: inactive)"}),
            "centroids": (("cluster_id", "context"), centers, {"long_name": "mean normalised task variance"}),
            "cluster_size": (("cluster_id",), sizes.astype(np.int64), {"long_name": "units in the cluster"}),
            "silhouette_unit": (("unit",), sil_unit, {"long_name": "silhouette of each unit at the chosen k"}),
            "silhouette": (("k",), sil, {"long_name": "mean silhouette per k"}),
            "inertia": (("k",), inertia, {"long_name": "k-means within-cluster sum of squares"}),
            **data_k,
        },
        coords=coords,
        attrs={"k": int(chosen), "criterion": criterion, "seed": seed, "n_init": n_init, "n_active": int(n_act)},
    )


def _cluster_labels(clusters: Any, units: np.ndarray) -> np.ndarray:
    if isinstance(clusters, xr.Dataset):
        if "cluster" not in clusters.data_vars:
            raise InputError("`clusters` Dataset must contain `cluster (unit,)`, as returned by cluster_units")
        clusters = clusters["cluster"]
    if isinstance(clusters, xr.DataArray):
        if clusters.dims != ("unit",):
            raise InputError(f"`clusters` must have dims (unit,); got {tuple(map(str, clusters.dims))}")
        if "unit" in clusters.coords and not np.array_equal(clusters["unit"].values, units):
            raise InputError("`clusters` has different units from `tv` (unit coordinates differ)")
        clusters = clusters.values
    arr = np.asarray(clusters)
    if arr.shape != (units.size,) or not np.issubdtype(arr.dtype, np.integer):
        raise InputError(
            f"`clusters` must be integer labels of shape (unit,) = ({units.size},); got {arr.dtype} {arr.shape}"
        )
    return arr.astype(np.int64)


def tonic_variance_correlation(
    tonic: Any, tv: Any, *, clusters: Any = None, variable: str = "tv"
) -> xr.Dataset:
    """Correlation between a unit's tonic input and its task variance.

    For each context ``c`` and each group of units (``all``, every cluster
    ``cluster<j>``, and ``inactive`` for label ``-1`` if present), the Pearson
    and Spearman correlation across units between ``b[c, i]`` and
    ``TV[c, i]``, with two-sided p-values (:func:`neurobias.analysis._stats.correlation`)
    and the number of units used (pairs with a NaN, such as inactive units in
    ``tv_norm``, are left out).  ``*_pooled`` variables pool the
    ``(context, unit)`` pairs of all contexts.

    Parameters
    ----------
    tonic : DataArray (context, unit), Dataset with ``tonic``, or array
        Tonic inputs; contexts are matched to ``tv`` by name (same set required).
    tv : Dataset from :func:`task_variance`, or DataArray (context, unit)
    clusters : Dataset from :func:`cluster_units`, or int DataArray/array (unit,), optional
    variable : {"tv", "tv_norm"}
        Which task variance of a Dataset ``tv`` to correlate with.

    Returns
    -------
    xarray.Dataset
        ``pearson``, ``pearson_p``, ``spearman``, ``spearman_p`` and ``n`` of dims
        (context, group); the same with suffix ``_pooled`` of dims (group,);
        coordinate ``group`` (str).

    Raises
    ------
    InputError
        Mismatched contexts or units, or bad arguments.
    """
    check_choice("variable", variable, ("tv", "tv_norm"))
    if isinstance(tv, xr.Dataset):
        if variable not in tv.data_vars:
            raise InputError(f"`tv` Dataset must contain `{variable}` (context, unit), as from task_variance")
        tv_da = tv[variable]
    elif isinstance(tv, xr.DataArray):
        tv_da = tv
    else:
        raise InputError(f"`tv` must be the Dataset of task_variance or a DataArray; got {type(tv).__name__}")
    if set(tv_da.dims) != {"context", "unit"} or tv_da.ndim != 2:
        raise InputError(f"`tv` must have dims (context, unit); got {tuple(map(str, tv_da.dims))}")
    tv_da = tv_da.transpose("context", "unit")
    bank = as_bank(tonic)
    tv_ctx = np.array([str(c) for c in tv_da["context"].values]) if "context" in tv_da.coords \
        else bank.contexts
    tv_units = tv_da["unit"].values if "unit" in tv_da.coords else np.arange(tv_da.sizes["unit"])
    if sorted(tv_ctx.tolist()) != sorted(bank.contexts.tolist()):
        raise InputError(
            f"`tonic` and `tv` must have the same contexts; got {bank.contexts.tolist()} and {tv_ctx.tolist()}"
        )
    if bank.units.shape != tv_units.shape or not np.array_equal(bank.units, tv_units):
        raise InputError(
            f"`tonic` and `tv` must have the same units; got {bank.units.size} and {tv_units.size} units "
            "(or different unit coordinates)"
        )
    index = {c: i for i, c in enumerate(bank.contexts.tolist())}
    B = bank.values[[index[c] for c in tv_ctx.tolist()]]
    T = np.asarray(tv_da.values, dtype=np.float64)

    groups: list[tuple[str, np.ndarray]] = [("all", np.ones(T.shape[1], dtype=bool))]
    if clusters is not None:
        lab = _cluster_labels(clusters, tv_units)
        groups += [(f"cluster{j}", lab == j) for j in np.unique(lab) if j >= 0]
        if np.any(lab < 0):
            groups.append(("inactive", lab < 0))
    C, G = T.shape[0], len(groups)
    out = {key: np.full((C, G), np.nan) for key in ("pearson", "pearson_p", "spearman", "spearman_p")}
    n = np.zeros((C, G), dtype=np.int64)
    pooled = {key: np.full(G, np.nan) for key in out}
    n_pooled = np.zeros(G, dtype=np.int64)
    for g, (_, m) in enumerate(groups):
        for method in ("pearson", "spearman"):
            for c in range(C):
                r, p, nn = correlation(B[c, m], T[c, m], method=method)
                out[method][c, g], out[f"{method}_p"][c, g], n[c, g] = r, p, nn
            r, p, nn = correlation(B[:, m], T[:, m], method=method)
            pooled[method][g], pooled[f"{method}_p"][g], n_pooled[g] = r, p, nn
    data: dict[str, Any] = {}
    described = {"pearson": "Pearson correlation of tonic input and task variance across the group's units",
                 "pearson_p": "p-value of the Pearson correlation",
                 "spearman": "Spearman correlation of tonic input and task variance across the group's units",
                 "spearman_p": "p-value of the Spearman correlation"}
    for key in out:
        data[key] = (("context", "group"), out[key], {"long_name": described[key], "units": "1"})
        data[f"{key}_pooled"] = (("group",), pooled[key],
                                 {"long_name": f"{described[key]}, all contexts pooled", "units": "1"})
    data["n"] = (("context", "group"), n, {"long_name": "units with finite values"})
    data["n_pooled"] = (("group",), n_pooled, {"long_name": "(context, unit) pairs with finite values"})
    return xr.Dataset(
        data,
        coords={"context": tv_ctx, "group": np.array([g for g, _ in groups], dtype=str)},
        attrs={"variable": variable},
    )
