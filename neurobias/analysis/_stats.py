"""Shared numerics of the analyses: plain numpy in, plain numpy out.

* :func:`participation_ratio` - effective dimensionality of a spectrum;
* :func:`kmeans` - seeded k-means++ with restarts (Lloyd iterations);
* :func:`silhouette_samples` and :func:`silhouette_score` - Rousseeuw (1987);
* :func:`gap_statistic` - Tibshirani, Walther & Hastie (2001);
* :func:`principal_angles` - angles between two subspaces (QR + SVD, accurate
  for small and large angles alike);
* :func:`correlation` - Pearson or Spearman correlation with a two-sided
  p-value, over the finite pairs;
* :func:`permuted_correlations` - Pearson r of ``x`` with permutations of ``y``
  (a permutation null);
* :func:`expected_abs_cos` - ``E|cos|`` between a fixed direction and an
  isotropic random vector in ``n`` dimensions.

Nothing here knows xarray, circuits or files; the xarray-facing analyses build
on these.  Everything is deterministic given its ``seed``.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.special
import scipy.stats

from neurobias.errors import InputError, check_finite, check_number, describe_shape

__all__ = [
    "participation_ratio",
    "kmeans",
    "silhouette_samples",
    "silhouette_score",
    "gap_statistic",
    "principal_angles",
    "correlation",
    "permuted_correlations",
    "expected_abs_cos",
]


def _int_arg(name: str, value: Any, *, low: int) -> int:
    return check_number(name, value, ge=low, integer=True)


def _matrix(name: str, value: Any, dims: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"`{name}` must be a numeric array of shape {dims}; could not convert: {exc}") from None
    if arr.ndim != 2:
        raise InputError(f"`{name}` must have shape {dims}; got {describe_shape(arr.shape)}")
    check_finite(name, arr)
    return arr


# ----------------------------------------------------------- dimensionality
def participation_ratio(eigenvalues: Any) -> float:
    """Participation ratio ``(sum_k l_k)^2 / sum_k l_k^2`` of a spectrum.

    Between 1 (one component carries all the variance) and the number of
    components (all equal).  Gao et al. (2017); Recanatesi et al. (2019).

    Parameters
    ----------
    eigenvalues : array_like of shape (component,)
        Non-negative variances (eigenvalues of a covariance matrix).

    Returns
    -------
    float
        NaN when every eigenvalue is zero.
    """
    lam = np.asarray(eigenvalues, dtype=np.float64).ravel()
    if lam.size and (not np.all(np.isfinite(lam)) or np.any(lam < 0)):
        raise InputError("`eigenvalues` must be finite and non-negative")
    sq = float(np.sum(lam * lam))
    if sq == 0.0:
        return float("nan")
    return float(np.sum(lam)) ** 2 / sq


def gram_participation_ratio(gram: np.ndarray) -> np.ndarray:
    """Participation ratio from Gram matrices: ``tr(G)^2 / ||G||_F^2``.

    Equal to :func:`participation_ratio` of the eigenvalues of the symmetric
    positive semi-definite ``G`` without diagonalising it.

    Parameters
    ----------
    gram : ndarray of shape (..., n, n)

    Returns
    -------
    ndarray of shape (...)
        NaN where ``G = 0``.
    """
    tr = np.trace(gram, axis1=-2, axis2=-1)
    fro2 = np.sum(gram * gram, axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(fro2 > 0, tr * tr / np.where(fro2 > 0, fro2, 1.0), np.nan)


# ------------------------------------------------------------------ k-means
def _sq_dist(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances, shape (n, k), computed from differences (exact zeros)."""
    return np.sum((X[:, None, :] - C[None, :, :]) ** 2, axis=-1)


def _kmeans_pp(X: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    n = X.shape[0]
    centers = np.empty((k, X.shape[1]))
    centers[0] = X[rng.integers(n)]
    d2 = np.sum((X - centers[0]) ** 2, axis=1)
    for j in range(1, k):
        total = d2.sum()
        idx = int(rng.integers(n)) if total <= 0 else int(rng.choice(n, p=d2 / total))
        centers[j] = X[idx]
        d2 = np.minimum(d2, np.sum((X - centers[j]) ** 2, axis=1))
    return centers


def _lloyd(X: np.ndarray, centers: np.ndarray, max_iter: int, tol: float) -> tuple[np.ndarray, np.ndarray, float]:
    k = centers.shape[0]
    labels = np.full(X.shape[0], -1)
    for _ in range(max_iter):
        d2 = _sq_dist(X, centers)
        new = np.argmin(d2, axis=1)
        # Empty clusters take the point farthest from its own centre, among points whose
        # cluster keeps another member (so the repair never empties a cluster).
        for j in range(k):
            if not np.any(new == j):
                counts = np.bincount(new, minlength=k)
                own = d2[np.arange(X.shape[0]), new]
                own = np.where(counts[new] > 1, own, -np.inf)
                far = int(np.argmax(own))
                if not np.isfinite(own[far]):
                    break  # fewer points than clusters: nothing can move
                new[far] = j
                d2[far, :] = np.inf
                d2[far, j] = 0.0
        moved = np.zeros(k)
        for j in range(k):
            members = X[new == j]
            if len(members) == 0:
                continue  # keep the old centre
            c = members.mean(axis=0)
            moved[j] = np.sum((c - centers[j]) ** 2)
            centers[j] = c
        converged = np.array_equal(new, labels) or float(moved.max()) <= tol
        labels = new
        if converged:
            break
    inertia = float(np.sum((X - centers[labels]) ** 2))
    return labels, centers, inertia


def kmeans(
    X: Any, k: int, *, n_init: int = 10, seed: int = 0, max_iter: int = 300, tol: float = 1e-12
) -> tuple[np.ndarray, np.ndarray, float]:
    """k-means clustering (Lloyd) from ``n_init`` seeded k-means++ starts; the best is kept.

    Parameters
    ----------
    X : array_like of shape (sample, feature)
    k : int
        Number of clusters, ``1 <= k <= sample``.
    n_init : int
        Number of k-means++ initialisations (Arthur & Vassilvitskii 2007); the
        run with the smallest inertia wins (the first among equals).
    seed : int
        Seed of :func:`numpy.random.default_rng`; same seed, same result.
    max_iter : int
        Lloyd iterations per start.
    tol : float
        Stop when no centre moves by more than ``sqrt(tol)`` (or labels repeat).

    Returns
    -------
    labels : ndarray of int of shape (sample,)
        Cluster of each sample, in ``0..k-1``; no cluster is empty.
    centers : ndarray of shape (k, feature)
    inertia : float
        Sum of squared distances of the samples to their centre.
    """
    X = _matrix("X", X, "(sample, feature)")
    k = _int_arg("k", k, low=1)
    n_init = _int_arg("n_init", n_init, low=1)
    max_iter = _int_arg("max_iter", max_iter, low=1)
    if k > X.shape[0]:
        raise InputError(f"`k` must be <= the number of samples ({X.shape[0]}); got {k}")
    rng = np.random.default_rng(seed)
    best: tuple[np.ndarray, np.ndarray, float] | None = None
    for _ in range(n_init):
        labels, centers, inertia = _lloyd(X, _kmeans_pp(X, k, rng), max_iter, tol)
        if best is None or inertia < best[2]:
            best = (labels, centers, inertia)
    assert best is not None
    return best[0].astype(np.int64), best[1], best[2]


# --------------------------------------------------------------- silhouette
def silhouette_samples(X: Any, labels: Any) -> np.ndarray:
    """Silhouette ``s_i = (b_i - a_i) / max(a_i, b_i)`` of every sample (Euclidean distances).

    ``a_i`` is the mean distance of sample ``i`` to the other members of its
    cluster, ``b_i`` the smallest mean distance to the members of another
    cluster (Rousseeuw 1987).  Members of singleton clusters get 0, as do
    samples with ``a_i = b_i = 0``.

    Parameters
    ----------
    X : array_like of shape (sample, feature)
    labels : array_like of int of shape (sample,)
        At least two distinct labels.

    Returns
    -------
    ndarray of shape (sample,)
    """
    X = _matrix("X", X, "(sample, feature)")
    labels = np.asarray(labels)
    if labels.shape != (X.shape[0],):
        raise InputError(f"`labels` must have shape (sample,) = ({X.shape[0]},); got {describe_shape(labels.shape)}")
    uniq, lab = np.unique(labels, return_inverse=True)
    k = uniq.size
    if k < 2:
        raise InputError(f"`labels` must hold at least 2 distinct clusters for a silhouette; got {k}")
    n = X.shape[0]
    onehot = np.zeros((n, k))
    onehot[np.arange(n), lab] = 1.0
    sizes = onehot.sum(axis=0)
    sums = np.empty((n, k))
    chunk = max(1, 2**22 // max(1, n * X.shape[1]))
    for start in range(0, n, chunk):
        d = np.sqrt(np.sum((X[start:start + chunk, None, :] - X[None, :, :]) ** 2, axis=-1))
        sums[start:start + chunk] = d @ onehot
    own = sizes[lab]
    with np.errstate(invalid="ignore", divide="ignore"):
        a = sums[np.arange(n), lab] / (own - 1)
        mean_other = sums / sizes[None, :]
    mean_other[np.arange(n), lab] = np.inf
    b = mean_other.min(axis=1)
    denom = np.maximum(a, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(denom > 0, (b - a) / np.where(denom > 0, denom, 1.0), 0.0)
    s[own == 1] = 0.0
    return s


def silhouette_score(X: Any, labels: Any) -> float:
    """Mean silhouette over samples (see :func:`silhouette_samples`), in [-1, 1]."""
    return float(np.mean(silhouette_samples(X, labels)))


# ------------------------------------------------------------ gap statistic
def gap_statistic(
    X: Any, ks: Any, *, n_refs: int = 10, n_init: int = 10, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gap statistic of Tibshirani, Walther & Hastie (2001).

    ``gap(k) = mean_b log W*_kb - log W_k`` with ``W_k`` the k-means inertia of
    the data and ``W*_kb`` that of reference data sets drawn uniformly in the
    bounding box of ``X``; ``s_k = sd_b(log W*_kb) sqrt(1 + 1/B)``.

    Parameters
    ----------
    X : array_like of shape (sample, feature)
    ks : sequence of int
        Numbers of clusters to evaluate.
    n_refs : int
        Number ``B`` of reference data sets.
    n_init, seed
        As in :func:`kmeans`.

    Returns
    -------
    gap, gap_se, log_w : ndarray of shape (k,)
        ``gap`` is ``+inf`` where the data fit exactly (``W_k = 0``).
    """
    X = _matrix("X", X, "(sample, feature)")
    ks = [int(k) for k in ks]
    n_refs = _int_arg("n_refs", n_refs, low=1)
    rng = np.random.default_rng(seed)
    lo, hi = X.min(axis=0), X.max(axis=0)
    refs = [lo + (hi - lo) * rng.random(X.shape) for _ in range(n_refs)]
    gap, se, log_w = (np.empty(len(ks)) for _ in range(3))
    for i, k in enumerate(ks):
        w = kmeans(X, k, n_init=n_init, seed=seed)[2]
        ref_w = np.array([kmeans(r, k, n_init=n_init, seed=seed + 1 + b)[2] for b, r in enumerate(refs)])
        with np.errstate(divide="ignore"):
            log_ref = np.log(ref_w)
            log_w[i] = np.log(w)
        gap[i] = np.inf if w == 0 else float(np.mean(log_ref) - log_w[i])
        se[i] = float(np.std(log_ref) * math.sqrt(1.0 + 1.0 / n_refs))
    return gap, se, log_w


def choose_k_gap(ks: Any, gap: np.ndarray, gap_se: np.ndarray) -> int:
    """Smallest ``k`` with ``gap(k) >= gap(k+1) - s_{k+1}`` (the last ``k`` if none)."""
    ks = list(ks)
    for i in range(len(ks) - 1):
        if gap[i] >= gap[i + 1] - gap_se[i + 1]:
            return int(ks[i])
    return int(ks[-1])


# --------------------------------------------------------- principal angles
def _orthonormal_basis(name: str, M: np.ndarray, rank_tol: float) -> np.ndarray:
    Q, R = np.linalg.qr(M)
    diag = np.abs(np.diag(R))
    scale = max(float(np.linalg.norm(M, 2)), np.finfo(float).tiny)
    if diag.size == 0 or np.any(diag <= rank_tol * scale):
        raise InputError(
            f"`{name}` must have full column rank (linearly independent columns spanning the subspace); "
            f"its {M.shape[1]} columns span fewer dimensions"
        )
    return Q


def principal_angles(A: Any, B: Any, *, rank_tol: float = 1e-10) -> np.ndarray:
    """Principal angles between the column spans of ``A`` and ``B``, in radians, ascending.

    Both bases are orthonormalised by QR; the cosines are the singular values
    of ``Q_A^H Q_B`` and the sines those of ``Q_B - Q_A Q_A^H Q_B``.  Each
    angle is taken from its sine when it is small (``sin^2 < 1/2``) and from
    its cosine otherwise, which keeps both tiny and near-right angles accurate
    (Knyazev & Argentati 2002; as :func:`scipy.linalg.subspace_angles`).

    Parameters
    ----------
    A : array_like of shape (unit, p)
        Columns spanning the first subspace (real or complex), full column rank.
    B : array_like of shape (unit, q)
        Columns spanning the second subspace, full column rank.
    rank_tol : float
        A column whose QR diagonal is below ``rank_tol * ||M||_2`` makes the
        basis rank-deficient: :class:`~neurobias.errors.InputError`.

    Returns
    -------
    ndarray of shape (min(p, q),)
        Angles in ``[0, pi/2]``, smallest first.  0 for a shared direction,
        ``pi/2`` for orthogonal subspaces.
    """
    mats = []
    for name, M in (("A", A), ("B", B)):
        arr = np.asarray(M)
        if not np.issubdtype(arr.dtype, np.number):
            raise InputError(f"`{name}` must be a numeric array of shape (unit, n_vectors); got dtype {arr.dtype}")
        arr = arr.astype(np.complex128 if np.iscomplexobj(arr) else np.float64)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[1] < 1:
            raise InputError(
                f"`{name}` must have shape (unit, n_vectors) with n_vectors >= 1; got {describe_shape(arr.shape)}"
            )
        check_finite(name, arr)
        mats.append(arr)
    A_, B_ = mats
    if A_.shape[0] != B_.shape[0]:
        raise InputError(
            f"`A` and `B` must have the same number of rows (units); got {A_.shape[0]} and {B_.shape[0]}"
        )
    Qa = _orthonormal_basis("A", A_, rank_tol)
    Qb = _orthonormal_basis("B", B_, rank_tol)
    if Qa.shape[1] < Qb.shape[1]:
        Qa, Qb = Qb, Qa
    C = Qa.conj().T @ Qb
    cos = np.clip(np.linalg.svd(C, compute_uv=False), 0.0, 1.0)  # descending: angles ascending
    sin = np.clip(np.sort(np.linalg.svd(Qb - Qa @ C, compute_uv=False)), 0.0, 1.0)  # ascending
    return np.where(sin * sin < 0.5, np.arcsin(sin), np.arccos(cos))


# --------------------------------------------------------------- correlation
def correlation(x: Any, y: Any, *, method: str = "pearson") -> tuple[float, float, int]:
    """Pearson or Spearman correlation over the pairs where both values are finite.

    The p-value is two-sided, from Student's t with ``n - 2`` degrees of
    freedom, ``t = r sqrt((n - 2) / (1 - r^2))`` (exact for Pearson under
    normality; the usual approximation for Spearman, as in
    :func:`scipy.stats.spearmanr`).  Spearman is Pearson of the ranks
    (average ranks for ties).

    Parameters
    ----------
    x, y : array_like of shape (n,)
    method : {"pearson", "spearman"}

    Returns
    -------
    r : float
        NaN when fewer than 3 pairs or either variable is constant.
    p : float
        NaN when ``r`` is.
    n : int
        Number of finite pairs used.
    """
    if method not in ("pearson", "spearman"):
        raise InputError(f"`method` must be 'pearson' or 'spearman'; got {method!r}")
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise InputError(f"`x` and `y` must have the same length; got {x.size} and {y.size}")
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    n = int(x.size)
    if n < 3:
        return float("nan"), float("nan"), n
    if method == "spearman":
        x, y = scipy.stats.rankdata(x), scipy.stats.rankdata(y)
    if np.ptp(x) == 0 or np.ptp(y) == 0:  # a constant variable
        return float("nan"), float("nan"), n
    xc, yc = x - x.mean(), y - y.mean()
    r = float(np.clip(np.sum(xc * yc) / math.sqrt(float(np.sum(xc * xc)) * float(np.sum(yc * yc))), -1.0, 1.0))
    if abs(r) == 1.0:
        return r, 0.0, n
    t = r * math.sqrt((n - 2) / (1.0 - r * r))
    p = float(2.0 * scipy.stats.t.sf(abs(t), n - 2))
    return r, p, n


# --------------------------------------------------------------------- nulls
def permuted_correlations(x: Any, y: Any, *, n_shuffles: int, seed: int, batch: int = 256) -> np.ndarray:
    """Pearson r of ``x`` with ``n_shuffles`` random permutations of ``y`` (a permutation null).

    Parameters
    ----------
    x, y : array_like of shape (n,)
        Finite values, neither constant.
    n_shuffles : int
    seed : int
        Seed of :func:`numpy.random.default_rng` drawing the permutations.
    batch : int
        Permutations computed at once (memory only; the result does not depend on it).

    Returns
    -------
    ndarray of shape (n_shuffles,), float64
    """
    n_shuffles = _int_arg("n_shuffles", n_shuffles, low=0)
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape or x.size < 2:
        raise InputError(f"`x` and `y` must have the same length >= 2; got {x.size} and {y.size}")
    check_finite("x", x)
    check_finite("y", y)
    xc, yc = x - x.mean(), y - y.mean()
    sx, sy = math.sqrt(float(xc @ xc)), math.sqrt(float(yc @ yc))
    if sx == 0 or sy == 0:
        raise InputError("`x` and `y` must not be constant (their correlation is undefined)")
    rng = np.random.default_rng(seed)
    out = np.empty(n_shuffles)
    for start in range(0, n_shuffles, batch):
        m = min(batch, n_shuffles - start)
        perm = np.stack([rng.permutation(yc) for _ in range(m)])  # (shuffle, n)
        out[start:start + m] = perm @ xc / (sx * sy)
    return np.clip(out, -1.0, 1.0)


def expected_abs_cos(n: int) -> float:
    """``E|cos angle(u, v)|`` for a fixed ``u`` and ``v`` uniform on the sphere in ``n`` dims.

    ``Gamma(n/2) / (sqrt(pi) Gamma((n+1)/2))``, about ``sqrt(2 / (pi n))`` for
    large ``n`` (1 for ``n = 1``, ``2/pi`` for ``n = 2``).
    """
    n = _int_arg("n", n, low=1)
    return float(np.exp(scipy.special.gammaln(n / 2) - scipy.special.gammaln((n + 1) / 2)) / math.sqrt(math.pi))
