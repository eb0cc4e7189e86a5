"""ContextFit: one fixed circuit; the context enters only as a tonic input shared by all of its conditions.

The test of the claim that one circuit produces context-dependent dynamics
through a tonic input per context. Each condition ``c`` of context ``k(c)``
drives the circuit with

``dx/dt = (-x + W_rec phi(x) + W_in u_c(t) + b_k(c)) / tau``

where ``u_c(t)`` are its stimulus inputs (see
:mod:`neurobias.recordings.design`), ``W_in`` maps them onto the units (fixed
random in ``bias`` mode, learned in ``full``), and ``b_k`` is the tonic input
of its context, shared by every condition of that context. The initial state
is shared by all conditions (``initial_state="shared"``) or by those of one
context (``"context"``). Nothing is learned per condition, so the fitted model
predicts conditions it never saw from their context label and stimulus values
(:meth:`ContextFit.predict`).

Time follows :class:`~neurobias.fitting.estimator.TonicFit`: the recording's
bins ``t_0 + k Δ`` are read out every ``substeps`` Euler steps of ``dt = Δ /
substeps`` from the initial state at ``t_0 - Δ``; the input of bin ``k`` drives
the steps that end at bin ``k``. By default ``substeps`` is the smallest
integer with ``dt <= tau / SUBSTEP_RATIO``.

:class:`LowRankContextFit` is the same model with a trained low-rank recurrent
matrix ``W_rec = m n^T / unit`` (rank 1 to 3: the latent-circuit / low-rank
inference family), trained inputs and readout.
"""
from __future__ import annotations

import math
import time as _time
from typing import Any

import numpy as np

from neurobias.circuit import DTYPES
import torch
import xarray as xr
from torch import Tensor, nn

from neurobias.circuit.circuit import Circuit
from neurobias.circuit.dynamics import Dynamics
from neurobias.circuit.threads import one_thread
from neurobias.circuit.simulate import integrate
from neurobias.errors import InputError, is_int, require
from neurobias.fitting.params import Hyperparameters
from neurobias.fitting.readout import readout_circuit
from neurobias.training.optimise import ParamGroup, optimise
from neurobias.recordings.dataset import is_single_trial, validate
from neurobias.recordings.design import Design, read_design
from neurobias.recordings.metrics.r2 import r2_arrays
from neurobias.recordings.preprocess import condition_average
from neurobias.training import seeds
from neurobias.training.losses import masked_mse
from neurobias.training.model import CircuitModel
from neurobias.training.tonic import TonicBank

__all__ = ["ContextFit", "LowRankContextFit", "TONICS", "INITIAL_STATES", "SUBSTEP_RATIO", "auto_substeps",
           "condition_targets"]

TONICS: tuple[str, ...] = ("context", "shared")
INITIAL_STATES: tuple[str, ...] = ("context", "shared", "zero")
SUBSTEP_RATIO = 5.0  # default substeps: dt <= tau / SUBSTEP_RATIO
LOWRANK_STREAM = 12


def auto_substeps(bin_ms: float, tau: float) -> int:
    """Smallest number of Euler steps per bin with ``dt = bin_ms / substeps <= tau / SUBSTEP_RATIO``."""
    return max(1, math.ceil(SUBSTEP_RATIO * float(bin_ms) / float(tau) - 1e-9))


def condition_targets(recording: xr.Dataset, conditions: tuple[str, ...]) -> np.ndarray:
    """Condition-average rates of shape (condition, time, neuron) in the order of ``conditions``."""
    avg = condition_average(recording) if is_single_trial(recording) else recording
    return np.asarray(avg["rate"].sel(condition=list(conditions)).values, dtype=np.float64)

class _LowRankModel(nn.Module):
    """Trained rank-``r`` recurrence ``m n^T / unit``, trained ``W_in``, ``W_out``, ``b_out``, and the tonic bank."""

    def __init__(self, circuit: Circuit, bank: TonicBank, *, rank: int, rng: np.random.Generator,
                 dtype: torch.dtype) -> None:
        super().__init__()
        n = circuit.n_units
        self.tau, self.phi, self.form, self.mode = circuit.tau, circuit.phi, circuit.form, "lowrank"
        self.m = nn.Parameter(torch.tensor(rng.normal(size=(n, rank)), dtype=dtype))
        self.n = nn.Parameter(torch.tensor(rng.normal(size=(n, rank)), dtype=dtype))
        self.W_in = nn.Parameter(torch.tensor(circuit.W_in, dtype=dtype))
        self.W_out = nn.Parameter(torch.tensor(circuit.W_out, dtype=dtype))
        self.b_out = nn.Parameter(torch.tensor(circuit.b_out, dtype=dtype))
        self.bank = bank

    def W_rec(self) -> Tensor:
        return self.m @ self.n.T / self.m.shape[0]

    def forward(self, inputs: Tensor, x0: Tensor, *, dt: float, method: str) -> tuple[Tensor, Tensor]:
        ext = inputs @ self.W_in.T + self.bank()[:, None, None, :]
        dyn = Dynamics(W_rec=self.W_rec(), tau=self.tau, phi=self.phi, form=self.form)
        x = integrate(x0, ext, dyn, dt=dt, method=method)
        return x, dyn.readout(x, self.W_out, self.b_out)

    def frozen_hashes(self) -> dict[str, str]:
        return {}

    def trained_circuit(self, circuit: Circuit) -> Circuit:
        w = {k: getattr(self, k).detach().cpu().double().numpy() for k in ("W_in", "W_out", "b_out")}
        return circuit.replace(W_rec=self.W_rec().detach().cpu().double().numpy(), **w,
                               connectivity=f"rank {self.m.shape[1]}, trained with W_in, W_out and b_out")


class ContextFit(Hyperparameters):
    """Fit one tonic input per context, shared by all of its conditions, to recorded condition averages.

    Parameters
    ----------
    circuit : Circuit, optional
        The fixed circuit, with one input channel per stimulus input of the
        recordings it will fit (its readout is replaced by the one ``readout``
        asks for). Default: ``Circuit.random(n_units, n_inputs=<inputs>, g=g,
        tau=tau, phi=phi, input_scale=input_scale, seed=seed)``.
    n_units : int
        Units of the default circuit (ignored with ``circuit``).
    mode : {"bias", "bias+readout", "readout", "full"}
        What learns besides the tonic inputs and initial states (see
        :mod:`neurobias.training.model`): ``bias`` keeps ``W_rec``, ``W_in``
        and the readout fixed; ``full`` trains them all.
    tonic : {"context", "shared"}
        ``context``: one tonic input per context; ``shared``: one tonic input
        for every condition of every context (the baseline without a context
        input: contexts can then differ only through ``initial_state``).
    initial_state : {"context", "shared", "zero"}
        One learned initial state per context, one shared by all conditions, or zero.
    readout : {"subset", "linear"}
        Recorded neurons are a fixed random subset of the units (``subset``,
        ``z = phi(x)[units]``) or a linear readout starting at ``N(0, 1/unit)``
        (``linear``); learned only in the modes that train the readout.
    units : sequence of int, optional
        The units read out as the recorded neurons (``subset``; default a random draw from ``seed``).
    g, tau, phi : float, float, str
        Gain, time constant (ms) and transfer function of the default circuit.
    input_scale : float
        Standard deviation of the default circuit's input weights ``W_in`` (state units per stimulus unit).
    substeps : int, optional
        Euler steps per recorded bin (default :func:`auto_substeps` of the bin
        width and the circuit's ``tau``: ``dt <= tau / 5``).
    steps, lr, lr_min, schedule, clip_grad
        Adam steps on all conditions at once, learning rate of the tonic inputs
        and initial states and its schedule, gradient-norm clipping (0: off).
    weight_lr : float, optional
        Learning rate of the weights a mode trains (default ``lr``).
    dtype : {"float64", "float32"}
    seed : int
        Seeds the circuit, the recorded units and the tonic bank.
    device : str
        Torch device of the fit (``"cpu"``, ``"cuda"``).
    progress : bool
        Progress bar.

    Attributes
    ----------
    circuit_ : Circuit
        The fitted circuit (input channels named after the stimulus inputs).
    tonic_ : ndarray of shape (context, unit)
        Tonic input of each context (identical rows for ``tonic="shared"``).
    initial_state_ : ndarray of shape (context, unit)
    contexts_, inputs_, conditions_, neurons_ : tuple of str
        What was fitted (``conditions_`` in the recording's order).
    units_ : ndarray of int of shape (neuron,)
        Units read out (``subset``; -1 for ``linear``).
    time_ : ndarray of shape (time,), ms
    substeps_ : int
    loss_ : ndarray of shape (step + 1,)
        Loss before every step and after the last.
    best_step_ : int
        The step whose parameters were kept (the lowest loss seen).
    r2_train_ : float
        R² on the fitted entries.
    wall_time_s_ : float
    """

    def __init__(
        self, *, circuit: Circuit | None = None, n_units: int = 256, mode: str = "bias", tonic: str = "context",
        initial_state: str = "shared", readout: str = "subset", units: Any = None, g: float = 1.5,
        tau: float = 100.0, phi: str = "tanh", input_scale: float = 1.0, substeps: int | None = None,
        steps: int = 500, lr: float = 0.05, weight_lr: float | None = None, lr_min: float = 0.0,
        schedule: str = "cosine", clip_grad: float = 1.0, dtype: str = "float64", seed: int = 0,
        device: str = "cpu", progress: bool = False,
    ) -> None:
        self.circuit = circuit
        self.n_units = n_units
        self.mode = mode
        self.tonic = tonic
        self.initial_state = initial_state
        self.readout = readout
        self.units = units
        self.g = g
        self.tau = tau
        self.phi = phi
        self.input_scale = input_scale
        self.substeps = substeps
        self.steps = steps
        self.lr = lr
        self.weight_lr = weight_lr
        self.lr_min = lr_min
        self.schedule = schedule
        self.clip_grad = clip_grad
        self.dtype = dtype
        self.seed = seed
        self.device = device
        self.progress = progress

    def _check_params(self) -> None:
        self.check_params()
        require("tonic", self.tonic in TONICS, f"one of {', '.join(TONICS)}", self.tonic)
        require("initial_state", self.initial_state in INITIAL_STATES, f"one of {', '.join(INITIAL_STATES)}",
                self.initial_state)
        if self.circuit is not None and not isinstance(self.circuit, Circuit):
            raise InputError(f"`circuit` must be a neurobias Circuit or None; got {type(self.circuit).__name__}")

    # --------------------------------------------------------------- building
    def _make_circuit(self, inputs: tuple[str, ...], neurons: tuple[str, ...]) -> tuple[Circuit, np.ndarray]:
        n_in, n_neurons = len(inputs), len(neurons)
        if self.circuit is not None:
            base = self.circuit
            if base.n_inputs != n_in:
                raise InputError(f"`circuit` must have one input channel per stimulus input {list(inputs)} "
                                 f"({n_in}); it has {base.n_inputs}")
        else:
            base = Circuit.random(int(self.n_units), n_inputs=n_in, n_outputs=n_neurons, g=self.g, tau=self.tau,
                                  phi=self.phi, input_scale=self.input_scale, seed=self.seed)
        return readout_circuit(base, neurons=neurons, readout=self.readout, units=self.units, seed=self.seed,
                               inputs=inputs)

    def _make_model(self, circuit: Circuit, bank: TonicBank, tdtype: torch.dtype) -> nn.Module:
        return CircuitModel(circuit, bank, mode=self.mode, dtype=tdtype)

    # -------------------------------------------------------------------- fit
    @one_thread()
    def fit(self, recording: xr.Dataset, *, time_mask: Any = None) -> "ContextFit":
        """Fit the tonic inputs (and, by ``mode``, weights) to every condition of ``recording``.

        Parameters
        ----------
        recording : xarray.Dataset
            Canonical recording with a design (:func:`neurobias.recordings.design.set_design`),
            condition averages or single trials (averaged), at least 2 conditions.
        time_mask : array_like of bool of shape (time,), optional
            Bins that enter the loss (default all): held-out time blocks are left out here.

        Returns
        -------
        ContextFit
            ``self``, fitted.
        """
        t_start = _time.perf_counter()
        self._check_params()
        validate(recording, min_conditions=2)
        design = read_design(recording)
        target = condition_targets(recording, design.conditions)
        n_time = target.shape[1]
        mask_t = np.ones(n_time, bool) if time_mask is None else np.asarray(time_mask, dtype=bool).ravel()
        if mask_t.shape != (n_time,) or not mask_t.any():
            raise InputError(f"`time_mask` must be {n_time} booleans with at least one True; got "
                             f"{mask_t.size} values, {int(mask_t.sum())} True")
        neurons = tuple(str(v) for v in recording["neuron"].values)
        circuit, units = self._make_circuit(design.inputs, neurons)
        bin_ms = float(design.time[1] - design.time[0])
        self.substeps_ = int(self.substeps) if self.substeps is not None else auto_substeps(bin_ms, circuit.tau)
        self.contexts_, self.inputs_, self.conditions_ = design.contexts, design.inputs, design.conditions
        self.neurons_, self.units_, self.time_ = neurons, units, design.time
        tdtype, dev = DTYPES[self.dtype], torch.device(self.device)
        n_ctx, n = len(design.contexts), circuit.n_units
        bank = TonicBank(n_ctx if self.tonic == "context" else 1, n, rng=seeds.stream(self.seed, seeds.BANK),
                         dtype=tdtype)
        model = self._make_model(circuit, bank, tdtype).to(dev)
        x0 = nn.Parameter(torch.zeros(n_ctx if self.initial_state == "context" else 1, 1, n, dtype=tdtype,
                                      device=dev), requires_grad=self.initial_state != "zero")
        # layout (context, slot): the conditions of each context, padded to the largest context
        slots = [np.flatnonzero(design.context_index == k) for k in range(n_ctx)]
        width = max(len(s) for s in slots)
        u = design.inputs_array()
        inputs = np.zeros((n_ctx, width, n_time, len(design.inputs)))
        tgt = np.zeros((n_ctx, width, n_time, len(neurons)))
        msk = np.zeros((n_ctx, width, n_time, 1))
        for k, s in enumerate(slots):
            inputs[k, :len(s)], tgt[k, :len(s)] = u[s], target[s]
            msk[k, :len(s)] = mask_t[None, :, None]
        inputs_t = torch.tensor(np.repeat(inputs, self.substeps_, axis=2), dtype=tdtype, device=dev)
        tgt_t = torch.tensor(tgt, dtype=tdtype, device=dev)
        msk_t = torch.tensor(np.broadcast_to(msk, tgt.shape).copy(), dtype=tdtype, device=dev)
        idx = torch.as_tensor(self.substeps_ * (np.arange(n_time) + 1) - 1, device=dev)
        dt = bin_ms / self.substeps_

        def loss_fn() -> Tensor:
            _, z = model(inputs_t, x0.expand(n_ctx, width, n), dt=dt, method="euler")
            return masked_mse(z[:, :, idx], tgt_t, msk_t)

        own = [p for p in bank.parameters() if p.requires_grad] + ([x0] if x0.requires_grad else [])
        weights = [p for name, p in model.named_parameters() if p.requires_grad and not name.startswith("bank.")]
        ratio = (self.weight_lr if self.weight_lr is not None else self.lr) / self.lr
        before = model.frozen_hashes()
        groups = [ParamGroup("own", own, lr=self.lr, lr_min=self.lr_min),
                  ParamGroup("weights", weights, lr=self.lr * ratio, lr_min=self.lr_min * ratio)]
        result = optimise(lambda step: loss_fn(), groups, steps=int(self.steps), schedule=self.schedule,
                          clip_grad=self.clip_grad, progress=self.progress,
                          desc=f"{type(self).__name__} ({self._label()})", log_every=20,
                          divergence_hint=f"lower `lr` (now {self.lr}) or integrate more finely (raise `substeps`)")
        # the loss before each step, then at the returned parameters' final state
        self.loss_ = np.append(result.loss, result.final_loss) if result.steps_done else result.loss
        self.best_step_ = int(result.best_step)
        if model.frozen_hashes() != before:
            raise RuntimeError(f"frozen weights changed during {self.mode!r} fitting (a neurobias bug)")
        self.circuit_ = model.trained_circuit(circuit)
        tonic = bank().detach().cpu().double().numpy()
        self.tonic_ = np.repeat(tonic, n_ctx, axis=0) if tonic.shape[0] == 1 else tonic
        x0v = x0.detach().cpu().double().numpy()[:, 0]
        self.initial_state_ = np.repeat(x0v, n_ctx, axis=0) if x0v.shape[0] == 1 else x0v
        pred = self._simulate(design)[1]
        self.r2_train_ = r2_arrays(target, pred, mask=mask_t)[0]
        self.wall_time_s_ = _time.perf_counter() - t_start
        return self

    def _label(self) -> str:
        return f"{self.mode}, tonic={self.tonic}, initial_state={self.initial_state}"

    # ---------------------------------------------------------------- predict
    def _check_fitted(self) -> None:
        if not hasattr(self, "tonic_"):
            raise InputError(f"this {type(self).__name__} is not fitted yet; call fit(recording) first")

    def _design_for(self, design: xr.Dataset) -> Design:
        d = read_design(design)
        if d.inputs != self.inputs_:
            raise InputError(f"`design` must have the fitted inputs {list(self.inputs_)}; got {list(d.inputs)}")
        unknown = sorted(set(d.contexts) - set(self.contexts_))
        if unknown:
            raise InputError(f"`design` has contexts {unknown} the model was not fitted on; it knows "
                             f"{list(self.contexts_)}")
        if d.time.shape != self.time_.shape or not np.allclose(d.time, self.time_):
            raise InputError(f"`design` must have the fitted time bins ({self.time_.size} bins from "
                             f"{self.time_[0]:g} ms, every {self.time_[1] - self.time_[0]:g} ms)")
        return d

    def _simulate(self, d: Design) -> tuple[np.ndarray, np.ndarray]:
        """States (condition, time, unit) and read-out rates (condition, time, neuron) at the recorded bins."""
        c = self.circuit_
        ctx = np.array([self.contexts_.index(d.contexts[k]) for k in d.context_index])
        u = np.repeat(d.inputs_array(), self.substeps_, axis=1)
        n_time = d.time.size
        dt = float(d.time[1] - d.time[0]) / self.substeps_
        idx = self.substeps_ * (np.arange(n_time) + 1) - 1
        with one_thread(), torch.no_grad():
            ext = torch.tensor(u @ c.W_in.T + self.tonic_[ctx][:, None, :])
            dyn = c.dynamics()
            x = integrate(torch.tensor(self.initial_state_[ctx]), ext, dyn, dt=dt, method="euler")[:, idx]
            z = dyn.readout(x, torch.tensor(c.W_out), torch.tensor(c.b_out))
        return x.numpy(), z.numpy()

    def predict(self, design: xr.Dataset) -> xr.Dataset:
        """Model trajectories of the conditions of ``design`` (seen in fitting or not).

        Parameters
        ----------
        design : xarray.Dataset
            A recording with a design, or a design from
            :func:`neurobias.recordings.design.make_design`: its contexts must
            be among the fitted ones, its inputs and time bins the fitted ones.

        Returns
        -------
        xarray.Dataset
            ``rate (condition, time, neuron)``: read-out rates; ``x (condition,
            time, unit)``: states; ``context (condition)`` labels.
        """
        self._check_fitted()
        d = self._design_for(design)
        x, z = self._simulate(d)
        return xr.Dataset(
            {"rate": (("condition", "time", "neuron"), z, {"long_name": "model rate of each recorded neuron"}),
             "x": (("condition", "time", "unit"), x, {"long_name": "model state"})},
            coords={"condition": np.array(d.conditions, dtype=object),
                    "context": ("condition", np.array([d.contexts[k] for k in d.context_index], dtype=object)),
                    "time": ("time", d.time, {"units": "ms"}), "neuron": np.array(self.neurons_, dtype=object),
                    "unit": np.arange(x.shape[2])},
        )

    def score(self, recording: xr.Dataset, *, time_mask: Any = None) -> float:
        """R² of the model's predictions of the conditions of ``recording`` (seen or not) over ``time_mask``.

        Returns
        -------
        float
        """
        self._check_fitted()
        d = self._design_for(recording)
        if tuple(map(str, recording["neuron"].values)) != self.neurons_:
            raise InputError("`recording` must have the fitted neurons")
        return r2_arrays(condition_targets(recording, d.conditions), self._simulate(d)[1], mask=time_mask)[0]

    def tonic_dataarray(self) -> xr.DataArray:
        """The fitted tonic inputs as ``tonic (context, unit)`` (for the fixed-point analyses)."""
        self._check_fitted()
        return xr.DataArray(self.tonic_, dims=("context", "unit"), name="tonic",
                            coords={"context": np.array(self.contexts_, dtype=object)},
                            attrs={"long_name": "tonic input of each context"})


class LowRankContextFit(ContextFit):
    """:class:`ContextFit` with a trained rank-``rank`` recurrent matrix, trained inputs and readout.

    ``W_rec = m n^T / unit`` with ``m, n`` of shape (unit, rank) started at
    ``N(0, 1)``; ``W_in``, ``W_out`` and ``b_out`` train too (at
    ``weight_lr``), the tonic inputs and initial states at ``lr``. The context
    still enters only as a tonic input shared by its conditions. ``mode`` is
    ignored.

    Parameters
    ----------
    rank : int
        Rank of the recurrence (>= 1).
    **params
        Those of :class:`ContextFit` (``readout`` defaults to ``linear``).
    """

    def __init__(
        self, *, rank: int = 1, circuit: Circuit | None = None, n_units: int = 256, mode: str = "bias",
        tonic: str = "context", initial_state: str = "shared", readout: str = "linear", units: Any = None,
        g: float = 1.5, tau: float = 100.0, phi: str = "tanh", input_scale: float = 1.0,
        substeps: int | None = None, steps: int = 500, lr: float = 0.05, weight_lr: float | None = None,
        lr_min: float = 0.0, schedule: str = "cosine", clip_grad: float = 1.0, dtype: str = "float64",
        seed: int = 0, device: str = "cpu", progress: bool = False,
    ) -> None:
        super().__init__(circuit=circuit, n_units=n_units, mode=mode, tonic=tonic, initial_state=initial_state,
                         readout=readout, units=units, g=g, tau=tau, phi=phi, input_scale=input_scale,
                         substeps=substeps, steps=steps, lr=lr, weight_lr=weight_lr, lr_min=lr_min,
                         schedule=schedule, clip_grad=clip_grad, dtype=dtype, seed=seed, device=device,
                         progress=progress)
        self.rank = rank

    def _check_params(self) -> None:
        super()._check_params()
        n = self.circuit.n_units if self.circuit is not None else self.n_units
        require("rank", is_int(self.rank) and 1 <= self.rank <= n, f"an integer in [1, {n}]", self.rank)

    def _make_model(self, circuit: Circuit, bank: TonicBank, tdtype: torch.dtype) -> nn.Module:
        return _LowRankModel(circuit, bank, rank=int(self.rank), rng=seeds.stream(self.seed, LOWRANK_STREAM),
                             dtype=tdtype)

    def _label(self) -> str:
        return f"rank {self.rank}, tonic={self.tonic}, initial_state={self.initial_state}"
