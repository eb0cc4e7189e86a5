"""TonicFit: one fixed random circuit, one learned tonic input per recorded condition.

The condition is the context: every condition gets its own tonic input ``b_c``
(and, optionally, its own initial state ``x0_c``); the recurrent weights stay
fixed in ``bias`` mode. The recorded neurons are read out either from a fixed
random subset of units (``readout="subset"``: recorded cells are model cells,
``z = phi(x)[units]``) or through a linear readout ``z = W_out phi(x) + b_out``
(``readout="linear"``; fixed random in ``bias`` mode, learned in
``bias+readout``, ``readout`` and ``full``). The modes are those of
:mod:`neurobias.training` and the same :class:`~neurobias.training.model.CircuitModel`
and :class:`~neurobias.training.tonic.TonicBank` run the circuit.

Time: the recording's bins ``t_0 + k Δ`` are read out every ``substeps``
integration steps of ``dt = Δ / substeps``; the initial state sits at ``t_0 - Δ``.

Follows scikit-learn's conventions: hyperparameters in ``__init__`` (no
logic), data in :meth:`TonicFit.fit`, learned state with a trailing underscore.
"""
from __future__ import annotations

import math
import time as _time
from typing import Any

import numpy as np

from neurobias.circuit import DTYPES
import torch
import xarray as xr
from torch import nn

from neurobias.circuit.threads import one_thread
from neurobias.circuit.circuit import Circuit
from neurobias.circuit.simulate import resolve_device
from neurobias.errors import InputError
from neurobias.fitting.params import Hyperparameters
from neurobias.fitting.readout import READOUTS, UNITS_STREAM, readout_circuit
from neurobias.fitting.splits import Split, make_split
from neurobias.recordings.dataset import condition_names, is_single_trial, validate
from neurobias.recordings.metrics import shuffle_conditions
from neurobias.recordings.metrics.r2 import r2_arrays
from neurobias.training import seeds
from neurobias.training.losses import masked_mse
from neurobias.training.model import CircuitModel
from neurobias.training.optimise import OptimResult, ParamGroup, optimise
from neurobias.training.tonic import TonicBank

__all__ = ["TonicFit", "READOUTS", "UNITS_STREAM", "SUBSTEPS_PER_TAU"]

#: default Euler steps per time constant: ``substeps = ceil(SUBSTEPS_PER_TAU * bin_width / tau)``
SUBSTEPS_PER_TAU = 10


class TonicFit(Hyperparameters):
    """Fit tonic inputs of a fixed random circuit to recorded condition averages.

    Parameters
    ----------
    circuit : Circuit, optional
        The fixed circuit (its readout is replaced by the one ``readout`` asks
        for). Default: ``Circuit.random(n_units, g=g, tau=tau, phi=phi, seed=seed)``.
    n_units : int
        Units of the default circuit (ignored with ``circuit``).
    conditions : sequence of str, optional
        Conditions to fit (default all; at least 2).
    mode : {"bias", "bias+readout", "readout", "full"}
        What learns (see :mod:`neurobias.training.model`); ``bias`` keeps every
        weight fixed.
    readout : {"subset", "linear"}
        How recorded neurons map onto units: ``subset`` starts ``W_out`` at a
        one-hot selection of units, ``linear`` at ``N(0, 1/unit)``. Either is
        fixed in ``bias`` mode and learns in the modes that train the readout.
    units : sequence of int, optional
        The units read out as the recorded neurons (``subset``; default a
        random draw from ``seed``).
    learn_x0 : bool
        Learn one initial state per condition (else start at zero).
    learn_tonic : bool
        Learn the tonic inputs (else they stay zero). With ``learn_x0`` this
        gives the controls for what carries a fit: tonic inputs only
        (``learn_x0=False``), initial states only (``learn_tonic=False``), both.
    g, tau, phi : float, float, str
        Gain, time constant (ms) and transfer function of the default circuit.
    substeps : int, optional
        Euler steps per recorded bin.  Default: the fewest that keep the step
        at most a tenth of the time constant,
        ``ceil(SUBSTEPS_PER_TAU * bin_width / tau)`` with
        :data:`SUBSTEPS_PER_TAU` = 10 (e.g. 20 ms bins and ``tau = 50`` ms give 4).
    steps, lr, lr_min, schedule, clip_grad
        Adam steps on the full batch of conditions, learning rate of the tonic
        inputs and initial states and its schedule
        (:func:`neurobias.training.schedule.learning_rate`), gradient clipping
        (0: off), run by :func:`neurobias.training.optimise.optimise`.  The fit
        keeps the parameters with the lowest training loss it saw (never worse
        than its start) and warns with
        :class:`~neurobias.errors.ConvergenceWarning` when the loss ended above
        its start.
    weight_lr : float, optional
        Learning rate of the weights a mode trains (``W_out``, ``b_out``,
        ``W_rec``), scaled by the same schedule; default ``lr``. Recurrent
        weights of size ~``g / sqrt(unit)`` need a much smaller rate than tonic
        inputs of size ~1 (``full`` diverges at ``lr = 0.05`` with 512 units).
    holdout : {"auto", "trials", "time", "none"}
        ``trials``: fit the average of one random half of each condition's
        trials, score on the other half (split-half noise ceiling);
        ``time``: hold out every second block of ``holdout_block`` bins (the
        first block is always fitted); ``auto``: ``trials`` for single trials,
        else ``time``.
    holdout_block : int
        Bins per time block.
    n_shuffles : int
        Shuffled-condition null of the held-out R².
    dtype : {"float64", "float32"}
    seed : int
        Seeds the circuit, the recorded units, the tonic bank and the split.
    device : {"cpu", "cuda", "cuda:N"}
        Where the fit runs (predictions and scores are computed on the CPU in
        float64).
    progress : bool
        Show a progress bar with the loss.

    Attributes
    ----------
    circuit_ : Circuit
        The fitted circuit (fixed weights unless ``mode`` trains them), with its readout.
    tonic_ : ndarray of shape (condition, unit)
    x0_ : ndarray of shape (condition, unit)
    units_ : ndarray of shape (neuron,)
        Units read out (``subset``; -1 for ``linear``).
    conditions_, neurons_ : tuple of str
    time_ : ndarray of shape (time,), ms
    split_ : Split
    substeps_ : int
        Euler steps per recorded bin used.
    loss_ : ndarray of shape (step,)
        Training loss (masked MSE) of the parameters of each step.
    best_step_ : int
        Step whose parameters were kept (``steps`` for the final ones).
    r2_train_, r2_test_ : float
        R² on the fitted entries and on the held-out ones.
    r2_test_neuron_ : ndarray of shape (neuron,)
    r2_null_ : ndarray of shape (n_shuffles,)
        Held-out R² with the model's conditions permuted.
    noise_ceiling_ : float
        Split-half R² (NaN without single trials).
    wall_time_s_ : float
    """

    def __init__(
        self, *, circuit: Circuit | None = None, n_units: int = 256, conditions: Any = None, mode: str = "bias",
        readout: str = "subset", units: Any = None, learn_x0: bool = True, learn_tonic: bool = True, g: float = 1.5,
        tau: float = 50.0,
        phi: str = "tanh", substeps: int | None = None, steps: int = 1000, lr: float = 0.05,
        weight_lr: float | None = None, lr_min: float = 0.0,
        schedule: str = "cosine", clip_grad: float = 1.0, holdout: str = "auto", holdout_block: int = 5,
        n_shuffles: int = 100, dtype: str = "float64", seed: int = 0, device: str = "cpu", progress: bool = True,
    ) -> None:
        self.circuit = circuit
        self.n_units = n_units
        self.conditions = conditions
        self.mode = mode
        self.readout = readout
        self.units = units
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
        self.holdout = holdout
        self.holdout_block = holdout_block
        self.n_shuffles = n_shuffles
        self.dtype = dtype
        self.seed = seed
        self.device = device
        self.progress = progress

    def _check_params(self) -> None:
        self.check_params()
        if not self.learn_tonic and not self.learn_x0 and self.mode == "bias":
            raise InputError("`learn_tonic=False` and `learn_x0=False` in `mode='bias'` leave nothing to learn")
        if self.circuit is not None and not isinstance(self.circuit, Circuit):
            raise InputError(f"`circuit` must be a neurobias Circuit or None; got {type(self.circuit).__name__}")

    # --------------------------------------------------------------------- fit
    def _select(self, recording: xr.Dataset) -> xr.Dataset:
        validate(recording, min_conditions=2)
        if self.conditions is None:
            return recording
        wanted = [str(c) for c in self.conditions]
        have = condition_names(recording)
        missing = [c for c in wanted if c not in have]
        if missing:
            raise InputError(f"`conditions` {missing} are not in the recording; it has {list(have)}")
        if len(set(wanted)) < 2:
            raise InputError(f"`conditions` must name at least 2 distinct conditions; got {wanted}")
        if is_single_trial(recording):
            keep = np.isin(np.asarray(recording["condition"].values).astype(str), wanted)
            return recording.isel(trial=np.flatnonzero(keep))
        return recording.sel(condition=wanted)

    def _circuit(self, n_neurons: int, neurons: tuple[str, ...]) -> tuple[Circuit, np.ndarray]:
        base = self.circuit if self.circuit is not None else Circuit.random(
            int(self.n_units), n_inputs=0, n_outputs=n_neurons, g=self.g, tau=self.tau, phi=self.phi, seed=self.seed)
        return readout_circuit(base, neurons=neurons, readout=self.readout, units=self.units, seed=self.seed,
                               W_in=np.zeros((base.n_units, 0)), inputs=())

    @one_thread()
    def fit(self, recording: xr.Dataset) -> "TonicFit":
        """Fit tonic inputs (and, by ``mode``, weights) to ``recording``.

        Parameters
        ----------
        recording : xarray.Dataset
            Canonical recording without NaN (condition averages or single
            trials), with at least 2 conditions.

        Returns
        -------
        TonicFit
            ``self``, with the learned attributes set.
        """
        t_start = _time.perf_counter()
        self._check_params()
        rec = self._select(recording)
        split = make_split(rec, holdout=self.holdout, block=self.holdout_block, seed=self.seed)
        time = np.asarray(rec["time"].values, dtype=np.float64)
        neurons = tuple(str(n) for n in rec["neuron"].values)
        circuit, units = self._circuit(len(neurons), neurons)
        self.conditions_ = condition_names(rec)
        self.neurons_, self.time_, self.split_, self.units_ = neurons, time, split, units
        bin_width = float(time[1] - time[0])
        self.substeps_ = int(self.substeps) if self.substeps is not None else \
            max(1, math.ceil(SUBSTEPS_PER_TAU * bin_width / float(circuit.tau) - 1e-9))
        tdtype = DTYPES[self.dtype]
        dev = resolve_device(self.device)
        bank = TonicBank(len(self.conditions_), circuit.n_units, rng=seeds.stream(self.seed, seeds.BANK), dtype=tdtype)
        model = CircuitModel(circuit, bank, mode=self.mode, dtype=tdtype).to(dev)
        if not self.learn_tonic:
            bank.requires_grad_(False)  # the tonic inputs stay at their start (zero)
        x0 = nn.Parameter(torch.zeros(len(self.conditions_), 1, circuit.n_units, dtype=tdtype, device=dev),
                          requires_grad=bool(self.learn_x0))
        before = model.frozen_hashes()
        result = self._optimise(model, x0, split, tdtype, dev)
        if model.frozen_hashes() != before:
            raise RuntimeError(f"frozen weights changed during {self.mode!r} fitting (a neurobias bug)")
        self.circuit_ = model.trained_circuit(circuit)
        self.tonic_ = bank().detach().cpu().double().numpy()
        self.x0_ = x0.detach().cpu().double().numpy()[:, 0]
        self.loss_ = result.loss
        self.best_step_ = result.best_step
        pred = self._simulate(self.tonic_, self.x0_)[1]
        self.r2_train_, _ = r2_arrays(split.train, pred, mask=split.train_time)
        self.r2_test_, self.r2_test_neuron_ = r2_arrays(split.test, pred, mask=split.test_time)
        rng = np.random.default_rng(self.seed)
        self.r2_null_ = np.array([r2_arrays(split.test, shuffle_conditions(pred, rng), mask=split.test_time)[0]
                                  for _ in range(int(self.n_shuffles))])
        self.noise_ceiling_ = split.noise_ceiling
        self.wall_time_s_ = _time.perf_counter() - t_start
        return self

    def _n_steps(self, n_time: int) -> tuple[float, np.ndarray]:
        dt = float(self.time_[1] - self.time_[0]) / self.substeps_
        idx = self.substeps_ * (np.arange(n_time) + 1) - 1
        return dt, idx

    def _optimise(self, model: CircuitModel, x0: nn.Parameter, split: Split, tdtype: torch.dtype,
                  dev: torch.device) -> OptimResult:
        n_cond, n_time, n_neuron = split.train.shape
        dt, idx = self._n_steps(n_time)
        inputs = torch.zeros(n_cond, 1, n_time * self.substeps_, 0, dtype=tdtype, device=dev)
        target = torch.tensor(split.train[:, None], dtype=tdtype, device=dev)
        mask = torch.tensor(np.broadcast_to(split.train_time[None, None, :, None], target.shape).copy(), dtype=tdtype,
                            device=dev)
        weight_lr = self.weight_lr if self.weight_lr is not None else self.lr
        # tonic inputs, initial states, then weights: Adam's state and the clipping norm follow this order
        groups = [
            ParamGroup("tonic", [p for p in model.bank.parameters() if p.requires_grad], lr=self.lr,
                       lr_min=self.lr_min),
            ParamGroup("x0", [x0] if x0.requires_grad else [], lr=self.lr, lr_min=self.lr_min),
            ParamGroup("weights", [p for n, p in model.named_parameters() if p.requires_grad and
                                   not n.startswith("bank.")], lr=weight_lr, lr_min=self.lr_min * weight_lr / self.lr),
        ]
        idx_t = torch.as_tensor(idx, device=dev)

        def objective(step: int) -> torch.Tensor:
            _, z = model(inputs, x0, dt=dt, method="euler")
            return masked_mse(z[:, :, idx_t], target, mask)

        return optimise(objective, groups, steps=self.steps, schedule=self.schedule, clip_grad=self.clip_grad,
                        progress=self.progress, desc=f"fitting ({self.mode})", log_every=20,
                        divergence_hint=f"lower `lr` (now {self.lr})")

    @one_thread()
    def _simulate(self, tonic: np.ndarray, x0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """States (condition, time, unit) and read-out rates (condition, time, neuron) at the recorded bins."""
        c = self.circuit_
        bank_vals = torch.tensor(tonic, dtype=torch.float64)
        n_time = self.time_.size
        dt, idx = self._n_steps(n_time)
        from neurobias.circuit.simulate import integrate

        ext = bank_vals[:, None, None, :].expand(tonic.shape[0], 1, n_time * self.substeps_, tonic.shape[1])
        with torch.no_grad():
            x = integrate(torch.tensor(x0[:, None], dtype=torch.float64), ext, c.dynamics(),
                          dt=dt, method="euler")[:, 0, idx]
            z = c.dynamics().readout(x, torch.tensor(c.W_out), torch.tensor(c.b_out))
        return x.numpy(), z.numpy()

    # ----------------------------------------------------------------- predict
    def _check_fitted(self) -> None:
        if not hasattr(self, "tonic_"):
            raise InputError("this TonicFit is not fitted yet; call fit(recording) first")

    def predict(self) -> xr.Dataset:
        """Model trajectories of every fitted condition.

        Returns
        -------
        xarray.Dataset
            ``rate (condition, time, neuron)``: read-out rates at the recorded
            bins (the recording's units); ``x (condition, time, unit)``: states.
        """
        self._check_fitted()
        x, z = self._simulate(self.tonic_, self.x0_)
        return xr.Dataset(
            {"rate": (("condition", "time", "neuron"), z), "x": (("condition", "time", "unit"), x)},
            coords={"condition": np.array(self.conditions_, dtype=object), "time": ("time", self.time_, {"units": "ms"}),
                    "neuron": np.array(self.neurons_, dtype=object), "unit": np.arange(x.shape[2])},
        )

    def score(self, recording: xr.Dataset) -> float:
        """Held-out R² of the model on ``recording`` (the one fitted, or another with its conditions and neurons).

        The score uses the same split as :meth:`fit` (same ``seed``): the
        held-out half of the trials, or the held-out time blocks.

        Returns
        -------
        float
        """
        self._check_fitted()
        rec = self._select(recording)
        if condition_names(rec) != self.conditions_ or tuple(map(str, rec["neuron"].values)) != self.neurons_ or \
                not np.array_equal(rec["time"].values, self.time_):
            raise InputError("`recording` must have the fitted conditions, neurons and time bins")
        split = make_split(rec, holdout=self.split_.holdout, block=self.holdout_block, seed=self.seed)
        return r2_arrays(split.test, self._simulate(self.tonic_, self.x0_)[1], mask=split.test_time)[0]
