"""Cross-validation splits for fitting recordings: trial halves, held-out time blocks, held-out conditions."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from neurobias.errors import InputError, check_choice, check_number
from neurobias.recordings.dataset import condition_names, is_single_trial
from neurobias.recordings.metrics.r2 import r2_arrays
from neurobias.recordings.preprocess import condition_average, split_halves

__all__ = ["Split", "make_split", "HOLDOUTS", "ConditionFold", "condition_folds", "check_fold", "time_blocks"]

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
    check_choice("holdout", holdout, HOLDOUTS)
    block = check_number("holdout_block", block, ge=1, integer=True)
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


@dataclass(frozen=True)
class ConditionFold:
    """One fold of held-out-condition cross-validation.

    Attributes
    ----------
    name : str
        What is held out (e.g. ``"motion = 0.5"``).
    train, test : tuple of str
        Fitted and held-out condition names.
    """

    name: str
    train: tuple[str, ...]
    test: tuple[str, ...]


def check_fold(design: Any, fold: ConditionFold) -> None:
    """Refuse a fold that leaves a context with no training condition, or holds out nothing / everything.

    Parameters
    ----------
    design : neurobias.recordings.design.Design
    fold : ConditionFold
    """
    known = set(design.conditions)
    unknown = sorted((set(fold.train) | set(fold.test)) - known)
    if unknown:
        raise InputError(f"fold {fold.name!r} names conditions {unknown} that are not in the recording")
    if not fold.test:
        raise InputError(f"fold {fold.name!r} holds out no condition")
    if set(fold.train) & set(fold.test):
        raise InputError(f"fold {fold.name!r} both fits and holds out {sorted(set(fold.train) & set(fold.test))}")
    for k, ctx in enumerate(design.contexts):
        members = [c for c, i in zip(design.conditions, design.context_index) if i == k]
        if not any(c in fold.train for c in members):
            raise InputError(f"held-out fold {fold.name!r} leaves context {ctx!r} with no training condition "
                             f"(its {len(members)} condition(s) are all held out)")


def condition_folds(design: Any, *, by: str | None = None, held_out: Any = None) -> list[ConditionFold]:
    """Folds that hold out whole stimulus conditions.

    Parameters
    ----------
    design : neurobias.recordings.design.Design
        From :func:`neurobias.recordings.design.read_design`.
    by : str, optional
        An input name: one fold per distinct value of that input, holding out
        every condition (in every context) with that value (e.g. one
        coherence level, or one target direction per context).
    held_out : sequence of sequences of str, optional
        Explicit folds instead: the condition names each fold holds out.

    Returns
    -------
    list of ConditionFold

    Raises
    ------
    InputError
        Unknown input or condition, or a fold that leaves a context with no training condition.
    """
    if (by is None) == (held_out is None):
        raise InputError("give exactly one of `by` (an input name) and `held_out` (condition names per fold)")
    conds = design.conditions
    folds: list[ConditionFold] = []
    if by is not None:
        if by not in design.inputs:
            raise InputError(f"`by` must be one of the inputs {list(design.inputs)}; got {by!r}")
        col = design.stimulus[:, design.inputs.index(by)]
        for v in np.unique(col):
            test = tuple(c for c, x in zip(conds, col) if x == v)
            folds.append(ConditionFold(f"{by} = {v:g}", tuple(c for c in conds if c not in test), test))
    else:
        if isinstance(held_out, str):
            raise InputError("`held_out` must be a sequence of condition-name sequences, one per fold")
        for k, names in enumerate(held_out):
            test = tuple(str(c) for c in ([names] if isinstance(names, str) else names))
            folds.append(ConditionFold(f"fold {k}: {', '.join(test)}", tuple(c for c in conds if c not in test),
                                       test))
    if len(folds) < 1:
        raise InputError("the folds hold out nothing")
    for fold in folds:
        check_fold(design, fold)
    return folds
