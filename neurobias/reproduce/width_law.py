"""How the width bias-only training needs grows with the accuracy asked: the width to come within ``epsilon`` of full training.

For one data set, with test accuracies of bias-only networks at several
hidden widths and of fully trained networks (:func:`width_needed`):

* the reference is full training's accuracy at the largest width (per seed);
* for every ``epsilon`` (accuracy points below the reference) the width
  needed is the smallest width at which the bias-only curve reaches the
  reference minus ``epsilon``, read between measured widths by linear
  interpolation of accuracy in ``log(width)``; a curve that never gets there
  is *censored* (NaN: more than the largest width measured);
* :func:`fit_width_law` fits ``log(width) = a + k log(1 / epsilon)`` by least
  squares over the uncensored ``epsilon`` of each seed, so that the width
  grows as ``epsilon^(-k)``.

Pure: numbers in, an xarray Dataset out.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from neurobias.errors import InputError, check_number, describe_shape

__all__ = ["width_needed", "fit_width_law", "width_law", "matched_accuracy_time"]


def _increasing_widths(widths: Sequence[float]) -> np.ndarray:
    w = np.asarray(widths, dtype=np.float64)
    if w.ndim != 1 or w.size < 2 or not np.all(np.isfinite(w)) or np.any(w <= 0) or np.any(np.diff(w) <= 0):
        raise InputError(f"`widths` must be at least 2 positive, strictly increasing numbers; got {list(widths)!r}")
    return w


def width_needed(widths: Sequence[float], accuracy: Sequence[float], target: float) -> float:
    """The smallest width at which ``accuracy`` reaches ``target`` (interpolated in log width); NaN if it never does.

    Parameters
    ----------
    widths : sequence of float, shape (width,)
        Hidden widths, strictly increasing.
    accuracy : sequence of float, shape (width,)
        Test accuracy (fraction) at each width.
    target : float
        Accuracy to reach (fraction).

    Returns
    -------
    float
        The width (units), the first measured width where the curve already
        reaches ``target`` at the smallest width, NaN (censored) where it
        never reaches it within the measured widths.
    """
    w = _increasing_widths(widths)
    a = np.asarray(accuracy, dtype=np.float64)
    if a.shape != w.shape or not np.all(np.isfinite(a)):
        raise InputError(f"`accuracy` must hold one finite value per width, shape {describe_shape(w.shape)}; "
                         f"got shape {describe_shape(a.shape)}")
    target = check_number("target", target)
    reached = np.flatnonzero(a >= target)
    if reached.size == 0:
        return float("nan")
    j = int(reached[0])
    if j == 0:
        return float(w[0])
    lo, hi = np.log(w[j - 1]), np.log(w[j])
    frac = (target - a[j - 1]) / (a[j] - a[j - 1])
    return float(np.exp(lo + frac * (hi - lo)))


def fit_width_law(epsilons: Sequence[float], widths: Sequence[float]) -> tuple[float, float, int]:
    """Least-squares fit of ``log(width) = a + k log(1 / epsilon)`` over the finite widths.

    Parameters
    ----------
    epsilons : sequence of float, shape (epsilon,)
        Distances to the reference accuracy (fractions), positive.
    widths : sequence of float, shape (epsilon,)
        Width needed for each; NaN (censored) entries are left out.

    Returns
    -------
    (k, a, n) : tuple of float, float, int
        The exponent ``k`` (width grows as ``epsilon^(-k)``), the intercept
        ``a`` and the number of points fitted; ``k`` and ``a`` are NaN with
        fewer than 2 points.
    """
    e = np.asarray(epsilons, dtype=np.float64)
    w = np.asarray(widths, dtype=np.float64)
    if e.ndim != 1 or e.shape != w.shape:
        raise InputError(f"`epsilons` and `widths` must be 1-d of the same length; got shapes "
                         f"{describe_shape(e.shape)} and {describe_shape(w.shape)}")
    if not np.all(np.isfinite(e)) or np.any(e <= 0):
        raise InputError(f"`epsilons` must be positive finite numbers; got {e.tolist()!r}")
    ok = np.isfinite(w)
    if np.any(w[ok] <= 0):
        raise InputError(f"`widths` must be positive (or NaN for censored); got {w.tolist()!r}")
    n = int(ok.sum())
    if n < 2 or np.ptp(np.log(e[ok])) == 0:
        return float("nan"), float("nan"), n
    k, a = np.polyfit(np.log(1.0 / e[ok]), np.log(w[ok]), 1)
    return float(k), float(a), n


def width_law(widths: Sequence[float], bias_accuracy: np.ndarray, full_accuracy: np.ndarray, *,
              epsilons: Sequence[float] = (0.2, 0.1, 0.05, 0.02, 0.01),
              seeds: Sequence[int] | None = None) -> xr.Dataset:
    """Width needed by bias-only training to come within each ``epsilon`` of full training, per seed, and its law.

    Parameters
    ----------
    widths : sequence of float, shape (width,)
        Hidden widths, strictly increasing.
    bias_accuracy, full_accuracy : ndarray of shape (seed, width)
        Test accuracies (fractions) of bias-only and full training.
    epsilons : sequence of float, keyword-only
        Distances below the reference (fractions of accuracy, e.g. 0.05 = 5 points).
    seeds : sequence of int, keyword-only, optional
        Labels of the seed axis (default 0, 1, ...).

    Returns
    -------
    xarray.Dataset
        ``reference (seed)``: full training's accuracy at the largest width;
        ``width_needed (seed, epsilon)`` (NaN: beyond the largest width);
        ``exponent (seed)`` and ``intercept (seed)`` of the fitted law
        ``log(width) = intercept + exponent log(1 / epsilon)`` and
        ``n_fitted (seed)`` (uncensored points); ``exponent_pooled``: the law
        fitted to the points of every seed together; ``n_censored
        (epsilon)``: seeds whose width needed is beyond the largest width.
    """
    w = _increasing_widths(widths)
    b, f = np.asarray(bias_accuracy, dtype=np.float64), np.asarray(full_accuracy, dtype=np.float64)
    if b.ndim != 2 or b.shape[1] != w.size or f.shape != b.shape:
        raise InputError(f"`bias_accuracy` and `full_accuracy` must both have shape (seed, width = {w.size}); got "
                         f"{describe_shape(b.shape)} and {describe_shape(f.shape)}")
    eps = np.asarray([check_number("epsilons", e, gt=0, lt=1) for e in epsilons], dtype=np.float64)
    if eps.size < 2:
        raise InputError(f"`epsilons` must hold at least 2 values to fit a law; got {list(epsilons)!r}")
    if seeds is not None and len(seeds) != b.shape[0]:
        raise InputError(f"`seeds` must hold one label per row of `bias_accuracy` ({b.shape[0]}); got "
                         f"{list(seeds)!r}")
    ref = f[:, -1]
    need = np.array([[width_needed(w, b[s], ref[s] - e) for e in eps] for s in range(b.shape[0])])
    fits = [fit_width_law(eps, need[s]) for s in range(b.shape[0])]
    pooled = fit_width_law(np.tile(eps, b.shape[0]), need.ravel())
    return xr.Dataset(
        {
            "reference": (("seed",), ref, {"long_name": "full training's test accuracy at the largest width",
                                            "units": "1"}),
            "width_needed": (("seed", "epsilon"), need,
                             {"long_name": "smallest width at which bias-only training comes within epsilon of the "
                                           "reference (NaN: beyond the largest width measured)", "units": "units"}),
            "exponent": (("seed",), np.array([x[0] for x in fits]),
                         {"long_name": "k of width ~ epsilon^(-k), fitted per seed", "units": "1"}),
            "intercept": (("seed",), np.array([x[1] for x in fits]),
                          {"long_name": "a of log(width) = a + k log(1/epsilon)", "units": "1"}),
            "n_fitted": (("seed",), np.array([x[2] for x in fits]),
                         {"long_name": "epsilons within the measured widths (fitted)", "units": "1"}),
            "exponent_pooled": ((), pooled[0], {"long_name": "k fitted to the points of every seed together",
                                                 "units": "1"}),
            "n_censored": (("epsilon",), np.isnan(need).sum(axis=0),
                           {"long_name": "seeds for which the width needed is beyond the largest width",
                            "units": "1"}),
        },
        coords={"epsilon": ("epsilon", eps, {"long_name": "distance below the reference accuracy", "units": "1"}),
                "seed": ("seed", np.arange(b.shape[0]) if seeds is None else np.asarray(seeds),
                         {"long_name": "seed of network and training"})},
        attrs={"widths": w.tolist()},
    )


def _at_width(widths: np.ndarray, values: np.ndarray, width: float) -> float:
    """``values`` read at ``width`` by linear interpolation of log(value) in log(width); NaN for a NaN width."""
    if not np.isfinite(width):
        return float("nan")
    return float(np.exp(np.interp(np.log(width), np.log(widths), np.log(values))))


def matched_accuracy_time(widths: Sequence[float], bias_accuracy: np.ndarray, full_accuracy: np.ndarray,
                          bias_seconds: np.ndarray, full_seconds: np.ndarray, *, epsilons: Sequence[float] = (0.2, 0.1, 0.05, 0.02, 0.01),
                          seeds: Sequence[int] | None = None) -> xr.Dataset:
    """Training time of bias-only and of full training to come within each ``epsilon`` of the reference accuracy.

    Both modes train the same number of steps at every width, so what differs at a matched accuracy is the width
    each needs and the cost of a step at that width.  For each seed and ``epsilon``: the width each mode needs
    (:func:`width_needed`, reference: full training's accuracy at the largest width) and its training time read
    there from the measured times (log time interpolated in log width).

    Parameters
    ----------
    widths : sequence of float, shape (width,)
    bias_accuracy, full_accuracy : ndarray of shape (seed, width)
        Test accuracies (fractions).
    bias_seconds, full_seconds : ndarray of shape (seed, width)
        Wall time of each training run, in s (positive).
    epsilons, seeds
        As in :func:`width_law`.

    Returns
    -------
    xarray.Dataset
        ``bias_width``, ``full_width``, ``bias_seconds``, ``full_seconds`` and ``time_ratio`` (bias / full), all
        (seed, epsilon), NaN where bias-only does not get there within the measured widths.
    """
    law = width_law(widths, bias_accuracy, full_accuracy, epsilons=epsilons, seeds=seeds)
    w = np.asarray(law.attrs["widths"], dtype=np.float64)
    f = np.asarray(full_accuracy, dtype=np.float64)
    ts = [np.asarray(t, dtype=np.float64) for t in (bias_seconds, full_seconds)]
    for name, t in zip(("bias_seconds", "full_seconds"), ts):
        if t.shape != f.shape or not np.all(np.isfinite(t)) or np.any(t <= 0):
            raise InputError(f"`{name}` must be positive finite times of shape (seed, width) = "
                             f"{describe_shape(f.shape)}; got shape {describe_shape(t.shape)}")
    eps = law["epsilon"].values
    ref = law["reference"].values
    bw = law["width_needed"].values
    fw = np.array([[width_needed(w, f[s], ref[s] - e) for e in eps] for s in range(f.shape[0])])
    bs = np.array([[_at_width(w, ts[0][s], x) for x in bw[s]] for s in range(f.shape[0])])
    fs = np.array([[_at_width(w, ts[1][s], x) for x in fw[s]] for s in range(f.shape[0])])
    dims = ("seed", "epsilon")
    return xr.Dataset(
        {
            "bias_width": (dims, bw, {"long_name": "width bias-only training needs", "units": "units"}),
            "full_width": (dims, fw, {"long_name": "width full training needs", "units": "units"}),
            "bias_seconds": (dims, bs, {"long_name": "bias-only training time at the width it needs", "units": "s"}),
            "full_seconds": (dims, fs, {"long_name": "full training time at the width it needs", "units": "s"}),
            "time_ratio": (dims, bs / fs, {"long_name": "bias-only / full training time at matched accuracy",
                                           "units": "1"}),
        },
        coords={"epsilon": law["epsilon"], "seed": law["seed"]},
    )
