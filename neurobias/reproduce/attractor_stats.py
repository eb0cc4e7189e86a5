"""Statistics of a chaotic attractor from a scalar time series, to compare a closed-loop forecast with the truth.

Every function takes numpy arrays of one observed coordinate, either one
series of shape ``(sample,)`` or several independent runs of shape
``(run, sample)`` (runs are never joined end to end: maxima, spectra and
neighbours' futures are taken within a run), sampled at a fixed interval.
Values are in the units of the series (standardised units in the
reproduction) and times in samples; converting to physical time is the
caller's business.

* :func:`local_maxima`, :func:`return_map`, :func:`maxima_distance`: the
  successive local maxima ``m_k`` of the series (Lorenz's own return map is
  ``m_{k+1}`` against ``m_k`` of ``z``), and the Wasserstein-1 distance between
  two distributions of maxima;
* :func:`welch_spectrum`, :func:`spectrum_distance`: the Welch power
  spectrum normalised to unit sum, and the total-variation distance between
  two of them;
* :func:`divergence_curve`, :func:`largest_lyapunov`: the largest Lyapunov
  exponent by the method of Rosenstein, Collins & De Luca (1993), "A
  practical method for calculating largest Lyapunov exponents from small
  data sets", Physica D 65:117-134: delay embedding, each reference point's
  nearest neighbour at least ``theiler`` samples away in time, the mean
  logarithm of their distance ``j`` samples later, and its slope;
* :func:`lobe_fraction`: the fraction of samples above a centre (for the
  Lorenz ``x``, the time spent in the lobe around ``x > 0``).
"""
from __future__ import annotations

import numpy as np
from scipy.signal import welch
from scipy.stats import wasserstein_distance

from neurobias.errors import InputError, check_number, describe_shape

__all__ = ["local_maxima", "return_map", "maxima_distance", "welch_spectrum", "spectrum_distance",
           "divergence_curve", "largest_lyapunov", "lobe_fraction"]


def _runs(name: str, series: object, *, min_samples: int = 3) -> np.ndarray:
    """``series`` as a finite float64 array of shape (run, sample)."""
    x = np.asarray(series, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] < min_samples:
        raise InputError(f"`{name}` must have shape (sample,) or (run, sample) with at least {min_samples} "
                         f"samples per run; got {describe_shape(np.shape(series))}")
    bad = ~np.isfinite(x)
    if bad.any():
        raise InputError(f"`{name}` must be finite; it has {int(bad.sum())} NaN or infinite entries")
    return x


def _maxima_of_run(x: np.ndarray) -> np.ndarray:
    # strict rise into the sample, no rise out of it; a flat top counts once (at its first sample)
    up = x[1:-1] > x[:-2]
    down = x[1:-1] >= x[2:]
    return x[1:-1][up & down]


def local_maxima(series: np.ndarray) -> np.ndarray:
    """The local maxima of every run, in time order, runs one after the other.

    Parameters
    ----------
    series : ndarray of shape (sample,) or (run, sample)
        At least 3 samples per run; finite.

    Returns
    -------
    ndarray of shape (maximum,)
        Values (units of ``series``) of the samples higher than the one
        before and at least as high as the one after.
    """
    x = _runs("series", series)
    return np.concatenate([_maxima_of_run(row) for row in x])


def return_map(series: np.ndarray) -> np.ndarray:
    """Pairs of successive local maxima ``(m_k, m_{k+1})`` within each run.

    Parameters
    ----------
    series : ndarray of shape (sample,) or (run, sample)

    Returns
    -------
    ndarray of shape (pair, 2)
        Column 0: a maximum; column 1: the next maximum of the same run
        (units of ``series``).
    """
    x = _runs("series", series)
    pairs = []
    for row in x:
        m = _maxima_of_run(row)
        pairs.append(np.stack([m[:-1], m[1:]], axis=1) if m.size > 1 else np.empty((0, 2)))
    return np.concatenate(pairs, axis=0)


def maxima_distance(series: np.ndarray, reference: np.ndarray, *, scale: float = 1.0) -> float:
    """Wasserstein-1 distance between the local maxima of ``series`` and those of ``reference``, over ``scale``.

    Parameters
    ----------
    series, reference : ndarray of shape (sample,) or (run, sample)
    scale : float
        Divisor (e.g. the standard deviation of the true series, for a
        distance in standard deviations); positive.

    Returns
    -------
    float
        NaN when either has no local maximum (a constant or monotone series).
    """
    scale = check_number("scale", scale, gt=0)
    a = local_maxima(_runs("series", series))
    b = local_maxima(_runs("reference", reference))
    if a.size == 0 or b.size == 0:
        return float("nan")
    return float(wasserstein_distance(a, b) / scale)


def welch_spectrum(series: np.ndarray, *, nperseg: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Welch power spectrum averaged over runs and normalised to unit sum.

    Parameters
    ----------
    series : ndarray of shape (sample,) or (run, sample)
        At least ``nperseg`` samples per run.
    nperseg : int
        Samples per Welch segment (Hann window, half overlap, mean removed per segment).

    Returns
    -------
    frequency : ndarray of shape (nperseg // 2 + 1,)
        Cycles per sample.
    power : ndarray of shape (nperseg // 2 + 1,)
        Fraction of the power in each frequency bin (sums to 1); all NaN if
        the series has no power (a constant).
    """
    nperseg = check_number("nperseg", nperseg, ge=4, integer=True)
    x = _runs("series", series, min_samples=nperseg)
    f, p = welch(x, fs=1.0, nperseg=nperseg, axis=-1)
    p = p.mean(axis=0)
    total = float(p.sum())
    if not total > 0:
        return f, np.full_like(p, np.nan)
    return f, p / total


def spectrum_distance(series: np.ndarray, reference: np.ndarray, *, nperseg: int = 256) -> float:
    """Total-variation distance between the normalised Welch spectra of ``series`` and ``reference``.

    Parameters
    ----------
    series, reference : ndarray of shape (sample,) or (run, sample)
    nperseg : int
        See :func:`welch_spectrum`.

    Returns
    -------
    float
        ``0.5 * sum |p - q|`` in [0, 1]: 0 for the same distribution of
        power over frequencies, 1 for disjoint ones; NaN if either has no power.
    """
    _, p = welch_spectrum(_runs("series", series, min_samples=1), nperseg=nperseg)
    _, q = welch_spectrum(_runs("reference", reference, min_samples=1), nperseg=nperseg)
    return float(0.5 * np.sum(np.abs(p - q)))


def _embed(x: np.ndarray, dim: int, delay: int) -> np.ndarray:
    n = x.shape[0] - (dim - 1) * delay
    return np.stack([x[i * delay:i * delay + n] for i in range(dim)], axis=1)


def divergence_curve(series: np.ndarray, *, dim: int, delay: int, theiler: int, horizon: int,
                     n_references: int = 1000, seed: int = 0) -> np.ndarray:
    """Mean logarithm of the distance between nearest neighbours, ``j = 0 .. horizon`` samples after they meet.

    Each run is embedded with ``dim`` delays of ``delay`` samples; for
    ``n_references`` reference points drawn at random (every point if there
    are fewer), the nearest embedded point of any run that is not within
    ``theiler`` samples of it in the same run is its neighbour (Euclidean
    distance; both must have ``horizon`` samples after them in their run).
    Entry ``j`` averages ``log |y_{i+j} - y_{n(i)+j}|`` over the pairs whose
    distance is positive at both 0 and ``j``.

    Parameters
    ----------
    series : ndarray of shape (sample,) or (run, sample)
    dim : int
        Embedding dimension (>= 1).
    delay : int
        Embedding delay in samples (>= 1).
    theiler : int
        Temporal neighbours excluded, in samples (>= 0): points of the same
        run closer than this in time are never neighbours.
    horizon : int
        Last step of the curve, in samples (>= 1).
    n_references : int
        Reference points averaged (>= 1).
    seed : int
        Seed of the draw of the reference points.

    Returns
    -------
    ndarray of shape (horizon + 1,)
        Mean log distance (log of units of ``series``); NaN where no pair qualifies.
    """
    dim = check_number("dim", dim, ge=1, integer=True)
    delay = check_number("delay", delay, ge=1, integer=True)
    theiler = check_number("theiler", theiler, ge=0, integer=True)
    horizon = check_number("horizon", horizon, ge=1, integer=True)
    n_references = check_number("n_references", n_references, ge=1, integer=True)
    x = _runs("series", series, min_samples=(dim - 1) * delay + horizon + 2)
    points, run_of, time_of = [], [], []
    for r, row in enumerate(x):
        e = _embed(row, dim, delay)
        usable = e.shape[0] - horizon  # points with `horizon` samples after them
        points.append(e)
        run_of.append(np.full(usable, r))
        time_of.append(np.arange(usable))
    starts = np.cumsum([0] + [p.shape[0] for p in points])[:-1]
    flat = np.concatenate(points, axis=0)
    cand_run, cand_time = np.concatenate(run_of), np.concatenate(time_of)
    cand_index = np.concatenate([s + t for s, t in zip(starts, time_of)])
    cand = flat[cand_index]
    rng = np.random.default_rng(seed)
    n_cand = cand_index.size
    refs = np.sort(rng.choice(n_cand, size=min(n_references, n_cand), replace=False))
    neighbour = np.full(refs.size, -1)
    sq = np.einsum("ij,ij->i", cand, cand)
    for lo in range(0, refs.size, 128):
        block = refs[lo:lo + 128]
        d2 = sq[block, None] + sq[None, :] - 2.0 * cand[block] @ cand.T
        near = (cand_run[block, None] == cand_run[None, :]) & \
            (np.abs(cand_time[block, None] - cand_time[None, :]) <= theiler)
        d2[near] = np.inf
        best = np.argmin(d2, axis=1)
        ok = np.isfinite(d2[np.arange(block.size), best])
        neighbour[lo:lo + block.size] = np.where(ok, best, -1)
    keep = neighbour >= 0
    a, b = cand_index[refs[keep]], cand_index[neighbour[keep]]
    steps = np.arange(horizon + 1)
    dist = np.linalg.norm(flat[a[:, None] + steps] - flat[b[:, None] + steps], axis=2)  # (pair, step)
    curve = np.full(horizon + 1, np.nan)
    start_ok = dist[:, 0] > 0
    for j in steps:
        use = start_ok & (dist[:, j] > 0)
        if use.any():
            curve[j] = float(np.mean(np.log(dist[use, j])))
    return curve


def largest_lyapunov(series: np.ndarray, *, dim: int, delay: int, theiler: int, fit: tuple[int, int],
                     n_references: int = 1000, seed: int = 0) -> float:
    """Largest Lyapunov exponent per sample: least-squares slope of :func:`divergence_curve` over ``fit``.

    Parameters
    ----------
    series : ndarray of shape (sample,) or (run, sample)
    dim, delay, theiler, n_references, seed
        See :func:`divergence_curve`.
    fit : tuple of int
        First and last step ``(j0, j1)`` of the fitted range, in samples,
        ``0 <= j0 < j1``: the linear part of the curve, after the
        neighbours have aligned with the unstable direction and before
        their distance saturates at the size of the attractor.

    Returns
    -------
    float
        Exponent per sample (divide by the sampling interval for one per
        unit of time); NaN if the curve is undefined on part of ``fit``
        (e.g. a constant series).
    """
    if not (isinstance(fit, tuple | list) and len(fit) == 2):
        raise InputError(f"`fit` must be a pair (j0, j1) of steps; got {fit!r}")
    j0 = check_number("fit[0]", fit[0], ge=0, integer=True)
    j1 = check_number("fit[1]", fit[1], gt=j0, integer=True)
    curve = divergence_curve(series, dim=dim, delay=delay, theiler=theiler, horizon=j1, n_references=n_references,
                             seed=seed)
    y = curve[j0:j1 + 1]
    if not np.all(np.isfinite(y)):
        return float("nan")
    return float(np.polyfit(np.arange(j0, j1 + 1, dtype=np.float64), y, 1)[0])


def lobe_fraction(series: np.ndarray, *, centre: float = 0.0) -> float:
    """Fraction of samples above ``centre`` (for the Lorenz ``x``, the time in the lobe ``x > centre``).

    Parameters
    ----------
    series : ndarray of shape (sample,) or (run, sample)
    centre : float
        In units of the series (e.g. the mean of the true series).

    Returns
    -------
    float
        In [0, 1]; the other lobe holds the rest.
    """
    centre = check_number("centre", centre)
    x = _runs("series", series, min_samples=1)
    return float(np.mean(x > centre))
