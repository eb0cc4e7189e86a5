"""Cross-validation splits for fitting recordings: trial halves, or held-out time blocks."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from neurobias.errors import InputError
from neurobias.recordings.dataset import condition_names, is_single_trial
from neurobias.recordings.metrics.r2 import r2_arrays
from neurobias.recordings.preprocess import condition_average, split_halves

__all__ = ["Split", "make_split", "HOLDOUTS"]

HOLDOUTS: tuple[str, ...] = ("auto", "trials", "time", "none")


@dataclass(frozen=True)
class Split:
    """Training and test targets of one fit.

    Attributes
    ----------
    train, test : ndarray of shape (condition, time, neuron)
        Condition-average targets (the same array for ``time`` and ``none``).
    train_time, test_time : ndarray of bool of shape (time,)
        Time bins that enter the loss / the held-out score.
    holdout : str
        ``trials`` (split-half), ``time`` (held-out time blocks) or ``none``.
    noise_ceiling : float
        R² of the training average predicting the test average (``trials``
        only; NaN otherwise).
    """

    train: np.ndarray
    test: np.ndarray
    train_time: np.ndarray
    test_time: np.ndarray
    holdout: str
    noise_ceiling: float


def time_blocks(n_time: int, block: int) -> np.ndarray:
    """Boolean (time,) mask of held-out bins: every second block of ``block`` bins, the first block kept."""
    return (np.arange(n_time) // block) % 2 == 1


def make_split(recording: xr.Dataset, *, holdout: str, block: int, seed: int) -> Split:
    """Targets and masks for ``holdout`` (``auto``: ``trials`` for single trials, else ``time``).

    Condition holdout is not offered: a model with one learned tonic input per
    condition has no input for a condition it never saw.
    """
    if holdout not in HOLDOUTS:
        raise InputError(f"`holdout` must be one of {', '.join(HOLDOUTS)}; got {holdout!r}")
    if isinstance(block, bool) or not isinstance(block, (int, np.integer)) or block < 1:
        raise InputError(f"`holdout_block` must be an integer >= 1; got {block!r}")
    single = is_single_trial(recording)
    if holdout == "auto":
        holdout = "trials" if single else "time"
    if holdout == "trials":
        if not single:
            raise InputError("`holdout='trials'` needs single trials; condition averages can hold out 'time'")
        a, b = split_halves(recording, seed=seed)
        order = list(condition_names(recording))  # each half lists conditions in its own order of appearance
        train = condition_average(a)["rate"].sel(condition=order).values
        test = condition_average(b)["rate"].sel(condition=order).values
        every = np.ones(train.shape[1], bool)
        ceiling, _ = r2_arrays(test, train)
        return Split(train, test, every, every, "trials", ceiling)
    avg = condition_average(recording)["rate"].sel(condition=list(condition_names(recording))).values if single \
        else recording["rate"].values
    n_time = avg.shape[1]
    if holdout == "time":
        test_time = time_blocks(n_time, block)
        if not test_time.any():
            raise InputError(f"`holdout_block` = {block} leaves no held-out time in {n_time} bins; use a smaller block")
        return Split(avg, avg, ~test_time, test_time, "time", float("nan"))
    every = np.ones(n_time, bool)
    return Split(avg, avg, every, every, "none", float("nan"))
