"""Comparing sets of units against chance.

* :func:`expected_jaccard`: the exact expected Jaccard index of two sets of
  ``k1`` and ``k2`` units drawn uniformly at random from ``n`` units (the
  size of their intersection is hypergeometric);
* :func:`set_overlap`: the Jaccard index of two sets of units, its chance
  expectation given their sizes, and the chance-corrected overlap
  ``(J - E[J]) / (1 - E[J])`` (0 at chance, 1 for identical sets);
* :func:`shuffled_correlation`: Pearson r across units with a permutation
  null (the values of one variable shuffled across units).

Why a chance level matters: two large sets overlap much even when unrelated.
If nearly every unit is in one set, ``J`` equals the other set's fraction of
the units whatever the relation between them, and the corrected overlap is
near 0.

Pure functions: numbers and numpy arrays in, numbers out.
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import scipy.stats

from neurobias.analysis._stats import correlation, permuted_correlations
from neurobias.errors import InputError, check_number

__all__ = ["expected_jaccard", "set_overlap", "SetOverlap", "shuffled_correlation", "ShuffledCorrelation"]


def _jaccard_from_sizes(n_both: np.ndarray | int, k1: int, k2: int) -> Any:
    union = k1 + k2 - n_both
    return np.where(union > 0, n_both / np.maximum(union, 1), 1.0)


def expected_jaccard(n: int, k1: int, k2: int) -> float:
    """Expected Jaccard index of two independent uniformly random sets of ``k1`` and ``k2`` of ``n`` units.

    The intersection ``I`` of the two sets is hypergeometric (``n`` units,
    ``k1`` marked, ``k2`` drawn), and ``J = I / (k1 + k2 - I)``, so
    ``E[J] = sum_i P(I = i) i / (k1 + k2 - i)``, summed exactly over the
    support ``max(0, k1 + k2 - n) <= i <= min(k1, k2)`` (no sampling).  Two
    empty sets count as identical (``J = 1``).

    Parameters
    ----------
    n : int
        Number of units (>= 1).
    k1, k2 : int
        Sizes of the two sets (``0 <= k <= n``).

    Returns
    -------
    float
        In [0, 1].
    """
    n = check_number("n", n, ge=1, integer=True)
    k1 = check_number("k1", k1, ge=0, le=n, integer=True)
    k2 = check_number("k2", k2, ge=0, le=n, integer=True)
    if k1 == 0 and k2 == 0:
        return 1.0
    if k1 == 0 or k2 == 0:
        return 0.0
    support = np.arange(max(0, k1 + k2 - n), min(k1, k2) + 1)
    pmf = scipy.stats.hypergeom.pmf(support, n, k1, k2)
    pmf = pmf / pmf.sum()  # rounding only: the support is complete
    return float(np.clip(np.sum(pmf * support / (k1 + k2 - support)), 0.0, 1.0))


class SetOverlap(NamedTuple):
    """What :func:`set_overlap` returns.

    Attributes
    ----------
    jaccard : float
        ``|A and B| / |A or B|`` (1 for two empty sets).
    expected : float
        :func:`expected_jaccard` of random sets of the same sizes.
    corrected : float
        ``(jaccard - expected) / (1 - expected)``: 0 at chance, 1 for identical
        sets, negative below chance; NaN when ``expected`` is 1 (both sets
        empty or both complete: every pair of sets of those sizes is identical,
        so the sizes alone explain the overlap).
    n_units, size_a, size_b, n_both : int
        Units, the sizes of the two sets and of their intersection.
    """

    jaccard: float
    expected: float
    corrected: float
    n_units: int
    size_a: int
    size_b: int
    n_both: int


def _boolean(name: str, value: Any) -> np.ndarray:
    arr = np.asarray(value)
    if arr.ndim != 1 or arr.dtype != np.bool_:
        raise InputError(f"`{name}` must be a boolean array of shape (unit,); got dtype {arr.dtype} and shape "
                         f"{arr.shape}")
    return arr


def set_overlap(a: Any, b: Any) -> SetOverlap:
    """The Jaccard index of two sets of units, its chance level and the chance-corrected overlap.

    Parameters
    ----------
    a, b : array_like of bool, of shape (unit,)
        Membership of every unit in each set (same units, same order).

    Returns
    -------
    SetOverlap
        ``corrected = (J - E[J]) / (1 - E[J])`` with ``E[J]`` =
        :func:`expected_jaccard` ``(unit, |a|, |b|)``; NaN when ``E[J] = 1``
        (both sets empty, or both all units).
    """
    a, b = _boolean("a", a), _boolean("b", b)
    if a.shape != b.shape:
        raise InputError(f"`a` and `b` must have the same number of units; got {a.size} and {b.size}")
    n = int(a.size)
    if n == 0:
        raise InputError("`a` and `b` must hold at least one unit; got empty arrays")
    k1, k2, both = int(a.sum()), int(b.sum()), int((a & b).sum())
    j = float(_jaccard_from_sizes(both, k1, k2))
    e = expected_jaccard(n, k1, k2)
    corrected = math.nan if e >= 1.0 else (j - e) / (1.0 - e)
    return SetOverlap(j, e, corrected, n, k1, k2, both)


class ShuffledCorrelation(NamedTuple):
    """What :func:`shuffled_correlation` returns.

    Attributes
    ----------
    r : float
        Pearson r over the finite pairs (NaN below 3 pairs or for a constant variable).
    p : float
        One-sided permutation p-value ``(1 + #{null >= r}) / (1 + n_shuffles)``.
    null_quantile : float
        The ``quantile`` of the null correlations.
    null_mean, null_sd : float
        Mean and standard deviation of the null correlations.
    n : int
        Pairs used.
    n_shuffles : int
    """

    r: float
    p: float
    null_quantile: float
    null_mean: float
    null_sd: float
    n: int
    n_shuffles: int


def shuffled_correlation(x: Any, y: Any, *, n_shuffles: int = 1000, seed: int = 0,
                         quantile: float = 0.95) -> ShuffledCorrelation:
    """Pearson r between ``x`` and ``y`` across units, against ``y`` shuffled across units.

    The null keeps both sets of values and breaks their pairing: each of
    ``n_shuffles`` permutations of ``y`` (from
    :func:`numpy.random.default_rng` ``(seed)``) gives one null r.  Pairs
    where either value is not finite are left out first.

    Parameters
    ----------
    x, y : array_like of shape (unit,)
    n_shuffles : int
        Permutations (>= 1).
    seed : int
    quantile : float
        Quantile of the null reported as ``null_quantile``, in (0, 1).

    Returns
    -------
    ShuffledCorrelation
    """
    n_shuffles = check_number("n_shuffles", n_shuffles, ge=1, integer=True)
    seed = check_number("seed", seed, ge=0, integer=True)
    quantile = check_number("quantile", quantile, gt=0, lt=1)
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise InputError(f"`x` and `y` must have the same length; got {x.size} and {y.size}")
    r, _, n = correlation(x, y)
    if not math.isfinite(r):
        return ShuffledCorrelation(r, math.nan, math.nan, math.nan, math.nan, n, n_shuffles)
    ok = np.isfinite(x) & np.isfinite(y)
    null = permuted_correlations(x[ok], y[ok], n_shuffles=n_shuffles, seed=seed)
    p = (1.0 + float(np.sum(null >= r))) / (1.0 + n_shuffles)
    return ShuffledCorrelation(r, p, float(np.quantile(null, quantile)), float(null.mean()), float(null.std()), n,
                               n_shuffles)
