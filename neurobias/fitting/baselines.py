"""Baselines for :class:`~neurobias.fitting.context_fit.ContextFit`, with the same ``fit`` / ``predict`` protocol.

* :class:`ConditionTonicFit`: one tonic input (and initial state) per
  condition, i.e. :class:`~neurobias.fitting.estimator.TonicFit`. It has no
  input for a condition it never saw, so it cannot predict held-out
  conditions (``predicts_unseen_conditions = False``; :meth:`predict` says so).
* :class:`LinearDynamicalFit`: a linear dynamical system in the top principal
  components, ``x_{t+1} = A x_t + B u_{t+1} + c_k`` with one offset ``c_k`` per
  context, fitted by (ridge) least squares on one-step transitions.

The other baselines are :class:`ContextFit` settings: ``tonic="shared"`` (no
context input), ``mode="full"`` (every weight trained) and
:class:`~neurobias.fitting.context_fit.LowRankContextFit` (a trained rank-1..3
recurrence).

:data:`BASELINES` names them all (the names a fit config's
``[crossval] baselines`` takes) and :func:`make_baseline` builds one with the
hyperparameters it shares with the fitted model. ``condition_tonic_only``
and ``condition_initial_state_only`` are the controls for what a fit with one
tonic input and one initial state per condition learned: the same fit with
the initial states fixed at zero, or the tonic inputs.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from neurobias.errors import InputError
from neurobias.fitting.params import Hyperparameters
from neurobias.fitting.context_fit import ContextFit, LowRankContextFit, auto_substeps, condition_targets
from neurobias.fitting.estimator import TonicFit
from neurobias.fitting.splits import time_blocks
from neurobias.recordings.dataset import validate
from neurobias.recordings.design import read_design

__all__ = ["ConditionTonicFit", "LinearDynamicalFit", "BASELINES", "make_baseline"]

#: the baselines by name, with what each one is (the rows of a cross-validation table)
BASELINES: dict[str, str] = {
    "condition_tonic": "one tonic input and one initial state per condition (cannot predict unseen conditions)",
    "condition_tonic_only": "one tonic input per condition, initial states fixed at zero",
    "condition_initial_state_only": "one initial state per condition, tonic inputs fixed at zero",
    "shared_tonic": "no context tonic input: one tonic input shared by every context",
    "full": "context tonic input, every weight trained",
    "lowrank1": "low-rank trained recurrence (rank 1), context tonic input",
    "lowrank2": "low-rank trained recurrence (rank 2), context tonic input",
    "lowrank3": "low-rank trained recurrence (rank 3), context tonic input",
    "linear": "linear dynamical system in the top principal components, least squares",
}
#: hyperparameters every recurrent baseline takes from the fitted model
SHARED_PARAMS: tuple[str, ...] = ("n_units", "readout", "g", "tau", "phi", "substeps", "steps", "lr", "lr_min",
                                  "schedule", "clip_grad", "dtype", "seed", "progress")


def _rate_dataset(d: Any, z: np.ndarray, neurons: tuple[str, ...]) -> xr.Dataset:
    return xr.Dataset(
        {"rate": (("condition", "time", "neuron"), z, {"long_name": "model rate of each recorded neuron"})},
        coords={"condition": np.array(d.conditions, dtype=object),
                "context": ("condition", np.array([d.contexts[k] for k in d.context_index], dtype=object)),
                "time": ("time", d.time, {"units": "ms"}), "neuron": np.array(neurons, dtype=object)})


class ConditionTonicFit(Hyperparameters):
    """One tonic input and one initial state per condition (:class:`TonicFit`), in the ``fit``/``predict`` protocol.

    Parameters
    ----------
    n_units, mode, readout, learn_x0, learn_tonic, g, tau, phi, steps, lr, weight_lr, lr_min, schedule, clip_grad, dtype, seed, progress
        As in :class:`~neurobias.fitting.estimator.TonicFit`.
    substeps : int, optional
        Default :func:`~neurobias.fitting.context_fit.auto_substeps` of the bin width and ``tau``.
    holdout_block : int
        Bins per time block: :meth:`fit`'s ``time_mask`` must be the fitted
        blocks of :func:`~neurobias.fitting.splits.time_blocks` with this block.

    Attributes
    ----------
    fit_ : TonicFit
        The fitted estimator.
    """

    predicts_unseen_conditions = False

    def __init__(
        self, *, n_units: int = 256, mode: str = "bias", readout: str = "subset", learn_x0: bool = True,
        learn_tonic: bool = True, g: float = 1.5,
        tau: float = 100.0, phi: str = "tanh", substeps: int | None = None, steps: int = 500, lr: float = 0.05,
        weight_lr: float | None = None, lr_min: float = 0.0, schedule: str = "cosine", clip_grad: float = 1.0,
        holdout_block: int = 5, dtype: str = "float64", seed: int = 0, progress: bool = False,
    ) -> None:
        self.n_units = n_units
        self.mode = mode
        self.readout = readout
        self.learn_x0 = learn_x0
        self.learn_tonic = learn_tonic
        self.g = g
        self.tau = tau
        self.phi = phi
        self.substeps = substeps
        self.steps = steps
        self.lr = lr
        self.weight_lr = weight_lr
        self.lr_min = lr_min
        self.schedule = schedule
        self.clip_grad = clip_grad
        self.holdout_block = holdout_block
        self.dtype = dtype
        self.seed = seed
        self.progress = progress

    def fit(self, recording: xr.Dataset, *, time_mask: Any = None) -> "ConditionTonicFit":
        """Fit every condition of ``recording`` (condition averages) on all bins or on the fitted time blocks."""
        validate(recording, min_conditions=2)
        n_time = recording.sizes["time"]
        holdout = "none"
        if time_mask is not None:
            mask = np.asarray(time_mask, dtype=bool).ravel()
            if not np.array_equal(mask, ~time_blocks(n_time, self.holdout_block)):
                raise InputError(f"`time_mask` of {type(self).__name__} must be the fitted blocks of "
                                 f"{self.holdout_block} bins (the first block fitted, then every second)")
            holdout = "time"
        bin_ms = float(recording["time"].values[1] - recording["time"].values[0])
        sub = self.substeps if self.substeps is not None else auto_substeps(bin_ms, self.tau)
        self.fit_ = TonicFit(n_units=self.n_units, mode=self.mode, readout=self.readout, learn_x0=self.learn_x0,
                             learn_tonic=self.learn_tonic, g=self.g, tau=self.tau,
                             phi=self.phi, substeps=sub, steps=self.steps, lr=self.lr, weight_lr=self.weight_lr,
                             lr_min=self.lr_min, schedule=self.schedule, clip_grad=self.clip_grad, holdout=holdout,
                             holdout_block=self.holdout_block, n_shuffles=0, dtype=self.dtype, seed=self.seed,
                             progress=self.progress).fit(recording)
        return self

    def predict(self, design: xr.Dataset) -> xr.Dataset:
        """Trajectories of fitted conditions; an unseen condition raises (it has no tonic input)."""
        if not hasattr(self, "fit_"):
            raise InputError(f"this {type(self).__name__} is not fitted yet; call fit(recording) first")
        d = read_design(design)
        unseen = [c for c in d.conditions if c not in self.fit_.conditions_]
        if unseen:
            raise InputError(f"one tonic input per condition cannot predict a condition it never saw: {unseen} "
                             f"have no tonic input")
        pred = self.fit_.predict()["rate"].sel(condition=list(d.conditions)).values
        return _rate_dataset(d, pred, self.fit_.neurons_)


class LinearDynamicalFit(Hyperparameters):
    """Linear dynamics in the top principal components, fitted by least squares.

    ``y_t = V x_t + mu`` with ``V`` the top ``n_latents`` principal axes of the
    fitted rates (about their neuron means ``mu``), and
    ``x_{t+1} = A x_t + B u_{t+1} + c_k`` for a condition of context ``k`` with
    inputs ``u`` (see :mod:`neurobias.recordings.design`), fitted by ridge
    least squares on the one-step transitions between fitted bins. A
    condition starts at its context's mean first latent state and is rolled
    out open loop.

    Parameters
    ----------
    n_latents : int, optional
        Principal components kept (default ``min(neuron, 10)``).
    ridge : float
        Ridge penalty relative to the mean squared regressor (>= 0).

    Attributes
    ----------
    A_ : ndarray of shape (latent, latent)
    B_ : ndarray of shape (latent, input)
    c_ : ndarray of shape (context, latent)
    x_first_ : ndarray of shape (context, latent)
    axes_ : ndarray of shape (neuron, latent)
    mean_ : ndarray of shape (neuron,)
    contexts_, inputs_, neurons_ : tuple of str
    time_ : ndarray of shape (time,), ms
    """

    predicts_unseen_conditions = True

    def __init__(self, *, n_latents: int | None = None, ridge: float = 1e-3) -> None:
        self.n_latents = n_latents
        self.ridge = ridge

    def fit(self, recording: xr.Dataset, *, time_mask: Any = None) -> "LinearDynamicalFit":
        """Fit to every condition of ``recording`` over the bins of ``time_mask`` (default all)."""
        validate(recording, min_conditions=2)
        d = read_design(recording)
        y = condition_targets(recording, d.conditions)
        n_c, n_t, n_n = y.shape
        mask = np.ones(n_t, bool) if time_mask is None else np.asarray(time_mask, dtype=bool).ravel()
        if mask.shape != (n_t,) or not mask[0]:
            raise InputError(f"`time_mask` must be {n_t} booleans with the first bin fitted")
        self.check_params()
        k = self.n_latents if self.n_latents is not None else min(n_n, 10)
        if not 1 <= k <= n_n:
            raise InputError(f"`n_latents` must be an integer in [1, {n_n}]; got {k!r}")
        flat = y[:, mask].reshape(-1, n_n)
        self.mean_ = flat.mean(axis=0)
        _, _, vt = np.linalg.svd(flat - self.mean_, full_matrices=False)
        self.axes_ = vt[:k].T
        x = (y - self.mean_) @ self.axes_
        u = d.inputs_array()
        n_ctx = len(d.contexts)
        onehot = np.eye(n_ctx)[d.context_index]
        pairs = np.flatnonzero(mask[:-1] & mask[1:])
        if pairs.size == 0:
            raise InputError("`time_mask` leaves no pair of consecutive fitted bins")
        reg = np.concatenate([x[:, pairs], u[:, pairs + 1], np.repeat(onehot[:, None], pairs.size, axis=1)], axis=2)
        reg = reg.reshape(-1, reg.shape[2])
        out = x[:, pairs + 1].reshape(-1, k)
        gram = reg.T @ reg
        gram += self.ridge * np.trace(gram) / gram.shape[0] * np.eye(gram.shape[0])
        w = np.linalg.solve(gram, reg.T @ out).T
        n_in = u.shape[2]
        self.A_, self.B_, self.c_ = w[:, :k], w[:, k:k + n_in], w[:, k + n_in:].T
        self.x_first_ = np.stack([x[d.context_index == j, 0].mean(axis=0) for j in range(n_ctx)])
        self.contexts_, self.inputs_, self.time_ = d.contexts, d.inputs, d.time
        self.neurons_ = tuple(str(v) for v in recording["neuron"].values)
        return self

    def predict(self, design: xr.Dataset) -> xr.Dataset:
        """Open-loop trajectories of the conditions of ``design`` (seen or not)."""
        if not hasattr(self, "A_"):
            raise InputError(f"this {type(self).__name__} is not fitted yet; call fit(recording) first")
        d = read_design(design)
        if d.inputs != self.inputs_ or set(d.contexts) - set(self.contexts_) or d.time.shape != self.time_.shape:
            raise InputError(f"`design` must have the fitted inputs {list(self.inputs_)}, contexts among "
                             f"{list(self.contexts_)} and {self.time_.size} time bins")
        ctx = np.array([self.contexts_.index(d.contexts[j]) for j in d.context_index])
        u = d.inputs_array()
        x = np.empty((len(d.conditions), d.time.size, self.A_.shape[0]))
        x[:, 0] = self.x_first_[ctx]
        for t in range(1, d.time.size):
            x[:, t] = x[:, t - 1] @ self.A_.T + u[:, t] @ self.B_.T + self.c_[ctx]
        return _rate_dataset(d, x @ self.axes_.T + self.mean_, self.neurons_)


def make_baseline(name: str, *, params: dict[str, Any], holdout_block: int = 5) -> Any:
    """The baseline ``name`` (a key of :data:`BASELINES`), unfitted, sharing the fitted model's hyperparameters.

    Parameters
    ----------
    name : str
        A key of :data:`BASELINES`.
    params : dict, keyword-only
        The fitted model's hyperparameters (``get_params()`` of a
        :class:`ContextFit` or :class:`ConditionTonicFit`, or a fit config's
        ``[fit]`` table); the baseline takes those of :data:`SHARED_PARAMS`
        it has, ``input_scale`` and ``device`` for the context models, and
        ``mode`` for the tonic-only baselines. ``full`` trains its weights at
        ``weight_lr`` (default 1e-3), the low-rank models at ``weight_lr``
        (default 0.01) with a linear readout.
    holdout_block : int, keyword-only
        Bins per held-out time block (``condition_*``; see :class:`ConditionTonicFit`).

    Returns
    -------
    estimator
        With ``get_params``, ``fit(recording, time_mask=)`` and ``predict(design)``.

    Raises
    ------
    InputError
        An unknown name.
    """
    if name not in BASELINES:
        raise InputError(f"unknown baseline {name!r}; valid: {', '.join(BASELINES)}")
    shared = {k: params[k] for k in SHARED_PARAMS if k in params}
    context = {**shared, **{k: params[k] for k in ("input_scale", "device") if k in params}}
    weight_lr = params.get("weight_lr")
    if name.startswith("condition_"):
        learn = {"condition_tonic": (True, True), "condition_tonic_only": (False, True),
                 "condition_initial_state_only": (True, False)}[name]
        mode = params.get("mode", "bias")
        return ConditionTonicFit(**shared, mode=mode if mode in ("bias", "bias+readout") else "bias",
                                 learn_x0=learn[0], learn_tonic=learn[1], weight_lr=weight_lr,
                                 holdout_block=holdout_block)
    if name == "shared_tonic":
        return ContextFit(**context, mode=params.get("mode", "bias"), weight_lr=weight_lr, tonic="shared",
                          initial_state=params.get("initial_state", "shared"))
    if name == "full":
        return ContextFit(**context, mode="full", weight_lr=weight_lr if weight_lr is not None else 1e-3,
                          initial_state=params.get("initial_state", "shared"))
    if name.startswith("lowrank"):
        return LowRankContextFit(**{**context, "readout": "linear"}, rank=int(name[len("lowrank"):]),
                                 weight_lr=weight_lr if weight_lr is not None else 0.01,
                                 initial_state=params.get("initial_state", "shared"))
    return LinearDynamicalFit()
