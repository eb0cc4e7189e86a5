"""Preprocessing of recordings: pure functions, recording in, recording out.

Binning and smoothing spikes, alignment to an event, trial-length handling
(NaN-padded trials are cut or masked, never silently averaged over padding),
soft normalisation (Churchland et al. 2012), mean-centring, PCA denoising and
the split of trials into halves.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from neurobias.errors import InputError, check_choice, check_number
from neurobias.recordings.dataset import condition_names, is_single_trial, validate

__all__ = [
    "bin_spikes", "smooth", "align_to_event", "trim_trials", "condition_average", "soft_normalize",
    "mean_center", "pca_denoise", "split_halves", "prepare_recording", "MEAN_CENTER_OVER",
]

#: what :func:`mean_center` can subtract: the cross-condition mean or each neuron's overall mean
MEAN_CENTER_OVER: tuple[str, ...] = ("condition", "all")


def bin_spikes(
    spike_times: Sequence[Any], *, event_times: Any, window_ms: tuple[float, float], bin_ms: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Bin spike times around trial events into firing rates.

    Parameters
    ----------
    spike_times : sequence of array_like
        One array of spike times per neuron, in ms.
    event_times : array_like of shape (trial,)
        Time of the aligning event in each trial, ms.
    window_ms : (float, float)
        Start and stop of the window relative to the event, ms; ``stop - start``
        must be a whole number of bins.
    bin_ms : float
        Bin width, ms.

    Returns
    -------
    rate : ndarray of shape (trial, time, neuron)
        Spike count per bin divided by the bin width, Hz.
    time : ndarray of shape (time,)
        Bin centres relative to the event, ms.
    """
    start, stop = (float(v) for v in window_ms)
    if not bin_ms > 0:
        raise InputError(f"`bin_ms` must be positive; got {bin_ms!r}")
    n_bins = (stop - start) / bin_ms
    if stop <= start or abs(n_bins - round(n_bins)) > 1e-9:
        raise InputError(f"`window_ms` must span a positive whole number of bins of {bin_ms} ms; got {window_ms!r}")
    n_bins = int(round(n_bins))
    events = np.asarray(event_times, dtype=np.float64).ravel()
    if not np.all(np.isfinite(events)):
        raise InputError("`event_times` must be finite")
    edges = start + bin_ms * np.arange(n_bins + 1)
    rate = np.zeros((events.size, n_bins, len(spike_times)))
    for j, spikes in enumerate(spike_times):
        s = np.sort(np.asarray(spikes, dtype=np.float64).ravel())
        for i, ev in enumerate(events):
            rate[i, :, j] = np.histogram(s - ev, bins=edges)[0]
    return rate / (bin_ms / 1000.0), edges[:-1] + bin_ms / 2


def _with_rate(recording: xr.Dataset, rate: np.ndarray, **attrs: Any) -> xr.Dataset:
    out = recording.copy()
    out["rate"] = (recording["rate"].dims, rate, {**recording["rate"].attrs, **attrs})
    if "units" in attrs:
        out.attrs["units"] = attrs["units"]
    return out


def smooth(recording: xr.Dataset, *, sigma_ms: float) -> xr.Dataset:
    """Smooth ``rate`` along time with a Gaussian kernel of width ``sigma_ms`` (ms).

    The kernel is truncated at 3 sigma and renormalised at the edges, so a
    constant rate stays constant. NaN padding is refused (trim first).
    """
    validate(recording)
    if not sigma_ms > 0:
        raise InputError(f"`sigma_ms` must be positive; got {sigma_ms!r}")
    t = recording["time"].values
    dt = float(t[1] - t[0])
    half = int(np.ceil(3 * sigma_ms / dt))
    lags = dt * np.arange(-half, half + 1)
    k = np.exp(-0.5 * (lags / sigma_ms) ** 2)
    rate = recording["rate"].values
    n = rate.shape[1]
    w = np.zeros((n, n))
    for i in range(n):
        lo, hi = max(0, i - half), min(n, i + half + 1)
        w[i, lo:hi] = k[lo - i + half: hi - i + half]
    w /= w.sum(axis=1, keepdims=True)
    return _with_rate(recording, np.einsum("st,ctn->csn", w, rate))


def align_to_event(recording: xr.Dataset, *, event_ms: Any, window_ms: tuple[float, float]) -> xr.Dataset:
    """Re-align single trials to a per-trial event, shifting by whole bins.

    Parameters
    ----------
    recording : single-trial recording
    event_ms : array_like of shape (trial,)
        Event time of each trial on the recording's time axis, ms.
    window_ms : (float, float)
        Window kept around the event, ms (inclusive of bins whose centre lies
        in ``[start, stop]``).

    Returns
    -------
    xarray.Dataset
        Single-trial recording on the new time axis (0 = event); bins outside a
        trial's data are NaN (padding: trim or mask them next).
    """
    validate(recording, allow_nan=True)
    if not is_single_trial(recording):
        raise InputError("`align_to_event` needs a single-trial recording (rate (trial, time, neuron))")
    ev = np.asarray(event_ms, dtype=np.float64).ravel()
    n_trial = recording.sizes["trial"]
    if ev.size != n_trial:
        raise InputError(f"`event_ms` must have one entry per trial ({n_trial}); got {ev.size}")
    t = recording["time"].values
    dt = float(t[1] - t[0])
    lags = np.arange(np.ceil(window_ms[0] / dt - 1e-9), np.floor(window_ms[1] / dt + 1e-9) + 1) * dt
    if lags.size < 2:
        raise InputError(f"`window_ms` must cover at least 2 bins of {dt:g} ms; got {window_ms!r}")
    rate = recording["rate"].values
    out = np.full((n_trial, lags.size, rate.shape[2]), np.nan)
    for i in range(n_trial):
        idx = np.rint((ev[i] + lags - t[0]) / dt).astype(int)
        ok = (idx >= 0) & (idx < t.size)
        out[i, ok] = rate[i, idx[ok]]
    res = recording.drop_dims("time").assign_coords(time=("time", lags, {"long_name": "time from the event",
                                                                       "units": "ms"}))
    res["rate"] = (("trial", "time", "neuron"), out, recording["rate"].attrs)
    return res


def _valid_lengths(rate: np.ndarray) -> np.ndarray:
    """Number of leading NaN-free bins per trial; raises if NaN is not only trailing padding."""
    bad = np.isnan(rate).any(axis=2)
    lengths = np.where(bad.any(axis=1), bad.argmax(axis=1), rate.shape[1])
    for i, n in enumerate(lengths):
        if bad[i, n:].sum() != rate.shape[1] - n:
            raise InputError(f"trial {i} has NaN inside its data (not only trailing padding); clean it first")
    return lengths


def trim_trials(recording: xr.Dataset, *, min_length: int = 2) -> xr.Dataset:
    """Cut NaN-padded single trials (or conditions) to the longest common NaN-free length.

    Parameters
    ----------
    recording : xarray.Dataset
        Padding must be trailing (NaN after each trial's last valid bin).
    min_length : int
        Fewest bins to keep; fewer raises.

    Returns
    -------
    xarray.Dataset
        The recording on its first ``min(lengths)`` time bins, without NaN.
    """
    validate(recording, allow_nan=True)
    lengths = _valid_lengths(recording["rate"].values)
    keep = int(lengths.min())
    if keep < min_length:
        raise InputError(f"the shortest trial has {keep} valid bins; `min_length` is {min_length}")
    return recording.isel(time=slice(0, keep))


def condition_average(recording: xr.Dataset, *, nan: str = "error", min_trials: int = 1) -> xr.Dataset:
    """Average single trials per condition.

    Parameters
    ----------
    recording : single-trial recording
    nan : {"error", "mask"}
        ``error``: NaN padding raises; ``mask``: each bin averages only the
        trials that have data there, and the time axis is cut after the last
        bin where every condition still has ``min_trials`` trials (never an
        average over padding).
    min_trials : int
        Fewest trials a bin needs (``mask``).

    Returns
    -------
    xarray.Dataset
        Condition-average recording ``rate (condition, time, neuron)`` plus
        ``n_trials (condition, time)``.
    """
    if nan not in ("error", "mask"):
        raise InputError(f"`nan` must be 'error' or 'mask'; got {nan!r}")
    validate(recording, allow_nan=nan == "mask")
    if not is_single_trial(recording):
        raise InputError("`condition_average` needs a single-trial recording (rate (trial, time, neuron))")
    conds = condition_names(recording)
    labels = np.asarray(recording["condition"].values).astype(str)
    rate = recording["rate"].values
    if nan == "mask":
        _valid_lengths(rate)
    mean = np.empty((len(conds), rate.shape[1], rate.shape[2]))
    count = np.empty((len(conds), rate.shape[1]))
    for c, name in enumerate(conds):
        sub = rate[labels == name]
        ok = ~np.isnan(sub).any(axis=2)
        count[c] = ok.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean[c] = np.where(count[c][:, None] > 0, np.nansum(sub, axis=0) / count[c][:, None], np.nan)
    enough = (count >= min_trials).all(axis=0)
    keep = int(np.argmin(enough)) if not enough.all() else rate.shape[1]
    if keep < 2:
        raise InputError(f"fewer than 2 time bins have at least {min_trials} trials in every condition")
    out = xr.Dataset(
        {"rate": (("condition", "time", "neuron"), mean[:, :keep], recording["rate"].attrs),
         "n_trials": (("condition", "time"), count[:, :keep], {"long_name": "trials averaged in each bin",
                                                              "units": "1"})},
        coords={"condition": ("condition", np.array(conds, dtype=object)),
                "time": recording["time"].isel(time=slice(0, keep)),
                "neuron": recording["neuron"]},
        attrs=dict(recording.attrs),
    )
    for name, var in recording.data_vars.items():
        if str(name).startswith("behaviour_"):
            vals = var.values[:, :keep]
            avg = np.stack([np.nanmean(vals[labels == c], axis=0) if np.isfinite(vals[labels == c]).any() else
                            np.full(vals.shape[1:], np.nan) for c in conds])
            described = str(var.attrs.get("long_name", name))
            out[name] = (("condition", *var.dims[1:]), avg,
                         {**var.attrs, "long_name": f"{described}, averaged over the condition's trials"})
    validate(out)
    return out


def soft_normalize(recording: xr.Dataset, *, soft: float = 5.0) -> xr.Dataset:
    """Soft normalisation (Churchland et al. 2012): ``rate / (range + soft)`` per neuron.

    The range of each neuron is taken over all conditions (or trials) and
    times; ``soft`` (in the recording's units, 5 Hz in the paper) keeps
    weakly firing neurons from being inflated. The result has units
    ``"normalised"``.
    """
    validate(recording, allow_nan=True)
    if not soft >= 0:
        raise InputError(f"`soft` must be >= 0; got {soft!r}")
    rate = recording["rate"].values
    span = np.nanmax(rate, axis=(0, 1)) - np.nanmin(rate, axis=(0, 1))
    denom = span + soft
    if np.any(denom <= 0):
        raise InputError("a neuron has zero range and `soft` is 0: normalisation would divide by zero")
    return _with_rate(recording, rate / denom, units="normalised")


def mean_center(recording: xr.Dataset, *, over: str = "condition") -> xr.Dataset:
    """Subtract a mean from ``rate``.

    Parameters
    ----------
    over : {"condition", "all"}
        ``condition``: the cross-condition mean at each time and neuron (as in
        jPCA; condition-average layout only); ``all``: each neuron's mean over
        everything.
    """
    validate(recording, allow_nan=True)
    check_choice("over", over, MEAN_CENTER_OVER)
    rate = recording["rate"].values
    if over == "condition":
        if is_single_trial(recording):
            raise InputError("`over='condition'` needs condition averages; use over='all' for single trials")
        return _with_rate(recording, rate - rate.mean(axis=0, keepdims=True))
    return _with_rate(recording, rate - np.nanmean(rate, axis=(0, 1), keepdims=True))


def pca_denoise(recording: xr.Dataset, *, n_components: int) -> xr.Dataset:
    """Project ``rate`` onto its top ``n_components`` principal components and back.

    The PCs are those of the (condition x time, neuron) matrix centred per
    neuron; the neuron means are added back.
    """
    validate(recording)
    rate = recording["rate"].values
    n_neuron = rate.shape[2]
    n_components = check_number("n_components", n_components, ge=1, le=n_neuron, integer=True)
    flat = rate.reshape(-1, n_neuron)
    mu = flat.mean(axis=0)
    _, _, vt = np.linalg.svd(flat - mu, full_matrices=False)
    v = vt[:n_components].T
    return _with_rate(recording, (((flat - mu) @ v) @ v.T + mu).reshape(rate.shape))


def split_halves(recording: xr.Dataset, *, seed: int = 0) -> tuple[xr.Dataset, xr.Dataset]:
    """Split the trials of every condition at random into two halves.

    Parameters
    ----------
    recording : single-trial recording with >= 2 trials per condition
    seed : int

    Returns
    -------
    (xarray.Dataset, xarray.Dataset)
        Single-trial recordings; with an odd count the first half gets the
        extra trial.
    """
    validate(recording, allow_nan=True)
    if not is_single_trial(recording):
        raise InputError("`split_halves` needs single trials (rate (trial, time, neuron)); condition averages have none")
    rng = np.random.default_rng(seed)
    labels = np.asarray(recording["condition"].values).astype(str)
    first, second = [], []
    for name in condition_names(recording):
        idx = np.flatnonzero(labels == name)
        if idx.size < 2:
            raise InputError(f"condition {name!r} has {idx.size} trial; split halves need >= 2 per condition")
        idx = rng.permutation(idx)
        half = (idx.size + 1) // 2
        first.extend(idx[:half])
        second.extend(idx[half:])
    return recording.isel(trial=np.sort(first)), recording.isel(trial=np.sort(second))


def prepare_recording(recording: xr.Dataset, *, trim: bool = True, smooth_ms: float = 0.0,
                      condition_average: bool = False, soft_normalize: float = 0.0, mean_center: str = "none",
                      pca_components: int = 0) -> xr.Dataset:
    """Apply the ``[preprocess]`` steps of a fit config in a fixed order: trim, smooth, average, normalise, centre, PCA.

    Parameters
    ----------
    recording : xarray.Dataset
        A canonical recording (NaN padding allowed when ``trim``).
    trim : bool
        Cut NaN-padded trials to their common length (:func:`trim_trials`).
    smooth_ms : float
        Gaussian smoothing width in ms (0: none).
    condition_average : bool
        Average single trials per condition.
    soft_normalize : float
        Soft-normalisation constant (0: none).
    mean_center : {"none", ...}
        See :func:`mean_center`.
    pca_components : int
        PCA denoising to this many components (0: none).

    Returns
    -------
    xarray.Dataset
        A NaN-free recording ready to fit.
    """
    steps = sys.modules[__name__]  # the options shadow the functions of the same names
    validate(recording, allow_nan=True)
    rec = trim_trials(recording) if trim else recording
    validate(rec)  # NaN padding left without `trim` is an error here
    if smooth_ms > 0:
        rec = smooth(rec, sigma_ms=smooth_ms)
    if condition_average and is_single_trial(rec):
        rec = steps.condition_average(rec)
    if soft_normalize > 0:
        rec = steps.soft_normalize(rec, soft=soft_normalize)
    if mean_center != "none":
        rec = steps.mean_center(rec, over=mean_center)
    if pca_components > 0:
        rec = pca_denoise(rec, n_components=pca_components)
    return rec
