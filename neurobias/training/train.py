"""Circuit training: all contexts of a task in one batch, run by the loop of :mod:`neurobias.training.optimise`."""
from __future__ import annotations

import time as _time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from neurobias.circuit.threads import one_thread
from neurobias.circuit.circuit import Circuit, torch_dtype
from neurobias.circuit.dynamics import METHODS
from neurobias.circuit.simulate import resolve_device
from neurobias.errors import InputError, check_instance, is_int, is_real, require
from neurobias.io.checkpoint import load_checkpoint, save_checkpoint
from neurobias.tasks import Task
from neurobias.training import seeds
from neurobias.training.losses import masked_mse
from neurobias.training.model import MODES, CircuitModel
from neurobias.training.optimise import ParamGroup, optimise
from neurobias.training.tonic import TonicBank

__all__ = ["TrainResult", "train"]


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train` returns.

    Attributes
    ----------
    circuit : Circuit
        The circuit after training (the input circuit itself unless the mode
        trains weights), with the weights of the same step as ``tonic``.
    tonic : ndarray of shape (context, unit)
        Learned tonic inputs, float64: those of the step with the lowest loss
        (the final ones unless the loss rose at the end).
    contexts : tuple of str
        Context names (from the task).
    loss, lr : ndarray of shape (step,)
        Training loss (masked MSE) and learning rate at each step.
    steps_done : int
        Number of optimiser steps taken (< ``steps`` when ``target_loss`` was reached).
    best_step : int
        Step whose parameters the result holds (``steps_done`` for the final ones).
    mode : str
    hashes_before, hashes_after : dict of str to str
        sha256 of every frozen weight's bytes before and after training (equal).
    tonic_mask : ndarray of shape (unit,)
        1 where a unit receives tonic input (``subset``), else all ones.
    tonic_basis : ndarray of shape (unit, rank)
        Fixed basis of a ``lowrank`` bank (rank 0 otherwise).
    kept_restart : ndarray of shape (context,)
        Index of the restart whose tonic input each context kept (all 0 when
        ``restarts`` is 1).
    restart_loss : ndarray of shape (restart, context)
        Masked mean squared error of every restart in every context at the
        kept parameters, on the batch of the kept step (one row when
        ``restarts`` is 1).
    wall_time_s : float
        Seconds spent in this call (not comparable across a resume).
    """

    circuit: Circuit
    tonic: np.ndarray
    contexts: tuple[str, ...]
    loss: np.ndarray
    lr: np.ndarray
    steps_done: int
    best_step: int
    mode: str
    hashes_before: dict[str, str]
    hashes_after: dict[str, str]
    tonic_mask: np.ndarray
    tonic_basis: np.ndarray
    kept_restart: np.ndarray
    restart_loss: np.ndarray
    wall_time_s: float = field(default=0.0, compare=False)


def initial_states(task: Task, n_units: int, batch: int, x0_std: float, rng: np.random.Generator) -> np.ndarray:
    """Initial states of shape (context, trial, unit): zeros, or ``N(0, x0_std^2)`` per trial shared by contexts."""
    if x0_std <= 0:
        return np.zeros((task.n_contexts, batch, n_units))
    x0 = rng.normal(0.0, x0_std, size=(batch, n_units))
    return np.broadcast_to(x0, (task.n_contexts, batch, n_units)).copy()


@one_thread()
def train(
    circuit: Circuit,
    task: Task,
    *,
    mode: str = "bias",
    steps: int = 1000,
    lr: float = 0.01,
    batch_size: int = 8,
    clip_grad: float = 1.0,
    schedule: str = "cosine",
    lr_min: float = 0.0,
    target_loss: float = 0.0,
    checkpoint_every: int = 100,
    log_every: int = 10,
    dtype: str = "float32",
    parametrization: str = "full",
    fraction: float = 0.5,
    rank: int = 4,
    shared_baseline: bool = False,
    init_std: float = 0.0,
    noise_std: float = 0.0,
    method: str = "euler",
    x0_std: float = 0.0,
    seed: int = 0,
    checkpoint_path: str | Path | None = None,
    resume: bool = False,
    fingerprint: str = "",
    progress: bool = True,
    checkpoint_chunk: int = 0,
    restarts: int = 1,
    device: str = "cpu",
) -> TrainResult:
    """Train a circuit's tonic inputs (and, by ``mode``, some weights) on a task.

    All contexts of ``task`` train in one batch of shape (context, trial). Each
    step draws ``batch_size`` trials per context from an independent random
    stream of ``seed`` (so a resumed run sees the same batches), runs the circuit
    with the task's ``dt``, and takes an Adam step on the masked mean squared
    error, with gradient-norm clipping and a learning-rate schedule
    (:func:`neurobias.training.optimise.optimise`).  After the last step the
    loss of the final parameters is measured once more (on the batch of step
    ``steps_done``), and the result holds the parameters with the lowest loss
    seen (ties go to the later step): the final ones whenever the loss still
    decreased at the end or ``target_loss`` was reached.  A run whose final loss
    is above its first warns with :class:`~neurobias.errors.ConvergenceWarning`.

    Parameters
    ----------
    circuit : Circuit
        Must have ``task.n_inputs`` inputs and ``task.n_outputs`` outputs.
    task : Task
        The task; its contexts name the tonic inputs.
    mode : {"bias", "bias+readout", "readout", "full"}
        ``bias``: only tonic inputs learn; ``bias+readout``: plus ``W_out``,
        ``b_out``; ``readout``: only ``W_out``, ``b_out`` (tonic inputs stay at
        their initial value); ``full``: every weight and the tonic inputs.
        Weights a mode does not train are buffers; their bytes are hashed before
        and after training, and a difference raises RuntimeError.
    steps : int
        Maximum number of optimiser steps.  Every step's loss is that of the
        parameters before its update.
    lr, lr_min : float
        Learning rate and floor of the schedule.
    batch_size : int
        Trials per context per step.
    clip_grad : float
        Maximum gradient norm (0 disables clipping).
    schedule : {"constant", "cosine", "step"}
        See :func:`neurobias.training.schedule.learning_rate`.
    target_loss : float
        Stop as soon as the loss is <= this (0: never stop early).
    checkpoint_every : int
        Write a checkpoint every this many steps (0: never) when
        ``checkpoint_path`` is given; a final one is always written then.
    log_every : int
        Update the progress bar's loss every this many steps.
    dtype : {"float32", "float64"}
    parametrization, fraction, rank, shared_baseline, init_std
        The tonic bank, see :class:`~neurobias.training.tonic.TonicBank`.
    noise_std : float
        Process noise during training, state units per sqrt(ms).
    method : {"euler", "exp_euler"}
    x0_std : float
        Standard deviation of random initial states (0: start at zero).
    seed : int
        Seed of every random stream of the run.
    checkpoint_path : path, optional
        Checkpoint file.
    resume : bool
        Continue from ``checkpoint_path`` if it exists; the result equals an
        uninterrupted run's.
    fingerprint : str
        Text identifying the run (the resolved config); a checkpoint written with
        another fingerprint is refused on resume.
    progress : bool
        Show a progress bar with the loss.
    checkpoint_chunk : int
        Gradient checkpointing over time: when > 0, backpropagation through
        time keeps one state every ``checkpoint_chunk`` steps and integrates
        each chunk again during the backward pass (memory ~ ``T / chunk +
        chunk`` states instead of ``T``; about one more forward pass of time).
        Losses, gradients and the result are identical to ``0`` (no
        checkpointing, the default).
    restarts : int
        Tonic banks trained side by side from independent initial draws
        (``bias`` mode only, where each context's tonic input trains
        independently of the others, and not with ``shared_baseline``; needs
        ``init_std > 0``).  Restart 0 starts from the draw a run with
        ``restarts=1`` starts from and takes the same steps; every restart has
        its own gradient-norm clipping.  The loss of a step is that of the
        best restart in each context (the masked mean squared error of the
        combination), so ``target_loss``, the recorded loss and the best step
        refer to it; each context keeps the tonic input of its best restart at
        the best step (``TrainResult.kept_restart``).  Each step costs about as
        much as a batch ``restarts`` times larger.
    device : {"cpu", "cuda", "cuda:N"}
        Where the model trains.  Batches and initial states come from the same
        numpy streams on every device; training noise comes from a torch
        generator on ``device``, so noisy runs differ between devices.

    Returns
    -------
    TrainResult
    """
    t_start = _time.perf_counter()
    check_instance("circuit", circuit, Circuit, what="a neurobias Circuit")
    check_instance("task", task, Task, what="a neurobias Task")
    require("mode", mode in MODES, f"one of {', '.join(MODES)}", mode)
    require("lr", is_real(lr) and lr > 0 and np.isfinite(lr), "a positive number", lr)
    require("batch_size", is_int(batch_size) and batch_size >= 1, "an integer >= 1", batch_size)
    require("method", method in METHODS, f"one of {', '.join(METHODS)}", method)
    require("noise_std", is_real(noise_std) and noise_std >= 0, "a number >= 0", noise_std)
    require("x0_std", is_real(x0_std) and x0_std >= 0, "a number >= 0", x0_std)
    require("seed", is_int(seed) and seed >= 0, "an integer >= 0", seed)
    require("checkpoint_chunk", is_int(checkpoint_chunk) and checkpoint_chunk >= 0, "an integer >= 0",
           checkpoint_chunk)
    require("restarts", is_int(restarts) and restarts >= 1, "an integer >= 1", restarts)
    if restarts > 1:
        require("mode", mode == "bias", "'bias' when `restarts` > 1 (only then does each context's tonic input "
                "train independently of the others)", mode)
        require("shared_baseline", not shared_baseline, "False when `restarts` > 1 (a shared baseline couples "
                "the contexts)", shared_baseline)
        require("init_std", is_real(init_std) and init_std > 0, "a number > 0 when `restarts` > 1 (restarts from "
                "the same zero start would be identical)", init_std)
    tdtype = torch_dtype(dtype)
    dev = resolve_device(device)
    if circuit.n_inputs != task.n_inputs:
        raise InputError(
            f"`circuit` has {circuit.n_inputs} input channels but task {task.name!r} has {task.n_inputs} "
            f"({', '.join(task.input_names) or 'none'})"
        )
    if circuit.n_outputs != task.n_outputs:
        raise InputError(
            f"`circuit` has {circuit.n_outputs} outputs but task {task.name!r} has {task.n_outputs} "
            f"({', '.join(task.output_names)})"
        )
    if resume and checkpoint_path is None:
        raise InputError("`resume=True` needs a `checkpoint_path`")
    n_ctx = task.n_contexts
    # restart-major rows: rows 0 .. n_ctx - 1 are restart 0, drawn exactly as a bank of n_ctx rows would be
    bank = TonicBank(restarts * n_ctx, circuit.n_units, parametrization=parametrization, fraction=fraction,
                     rank=rank, shared_baseline=shared_baseline, init_std=init_std,
                     rng=seeds.stream(seed, seeds.BANK), dtype=tdtype)
    model = CircuitModel(circuit, bank, mode=mode, dtype=tdtype).to(dev)
    hashes_before = model.frozen_hashes()
    # weights before tonic inputs: the order of model.parameters(), which fixes Adam's state and the clipping norm
    groups = [
        ParamGroup("weights", [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("bank.")],
                   lr=lr, lr_min=lr_min),
        ParamGroup("tonic", [p for p in bank.parameters() if p.requires_grad], lr=lr, lr_min=lr_min),
    ]
    joint_clip = clip_grad
    if restarts > 1 and clip_grad > 0:  # each restart clipped as a run of its own would be
        bank.offsets.register_hook(lambda g: _clip_each(g, restarts, clip_grad))
        joint_clip = 0.0
    state = None
    if resume and checkpoint_path is not None and Path(checkpoint_path).exists():
        state = _restore(checkpoint_path, fingerprint)

    per_step: dict[int, np.ndarray] = {}  # masked MSE of every restart in every context, by step scored

    def forward(step: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Readout, target and mask of step ``step``'s batch, every restart on the same trials, (row, trial, ...)."""
        rng = seeds.stream(seed, seeds.BATCH, step)
        batch = task.sample_all(batch_size, rng)
        x0 = initial_states(task, circuit.n_units, batch_size, x0_std, rng)
        gen = torch.Generator(device=dev).manual_seed(int(rng.integers(2**62)))

        def t(a: np.ndarray) -> torch.Tensor:
            return torch.tensor(np.concatenate([a] * restarts) if restarts > 1 else a, dtype=tdtype, device=dev)

        _, z = model(t(batch.inputs), t(x0), dt=task.dt, method=method, noise_std=noise_std, generator=gen,
                     checkpoint_chunk=checkpoint_chunk)
        return z, t(batch.targets), t(batch.mask)

    def errors(z: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Summed squared error and mask count, each of shape (restart, context)."""
        err = (mask * (z - target) ** 2).sum(dim=(1, 2, 3))
        return err.reshape(restarts, n_ctx), mask.sum(dim=(1, 2, 3)).reshape(restarts, n_ctx)

    def objective(step: int) -> torch.Tensor | tuple[torch.Tensor, float]:
        z, target, mask = forward(step)
        err, count = errors(z, target, mask)
        per_step[step] = (err.detach() / count.clamp_min(1.0)).cpu().double().numpy()
        if restarts == 1:
            return masked_mse(z, target, mask)
        total = count.sum(dim=1).clamp_min(1.0)  # (restart,): the same for every restart
        # each restart's own masked MSE is differentiated; the combination of the best restarts scores the step
        best = err.detach().min(dim=0).values.sum() / total[0]
        return (err.sum(dim=1) / total).sum(), float(best)

    def save(arrays: dict[str, np.ndarray], meta: dict) -> None:
        save_checkpoint(checkpoint_path, arrays, {**meta, "fingerprint": fingerprint})  # type: ignore[arg-type]

    opt = optimise(objective, groups, steps=steps, schedule=schedule, clip_grad=joint_clip, target_loss=target_loss,
                   checkpoint=save if checkpoint_path is not None else None, checkpoint_every=checkpoint_every,
                   resume=state, progress=progress, desc="training", log_every=log_every,
                   divergence_hint=f"lower `training.lr` (now {lr}) or the circuit gain, or enable "
                                   f"`training.clip_grad`")
    hashes_after = model.frozen_hashes()
    if hashes_after != hashes_before:
        changed = [k for k in hashes_before if hashes_before[k] != hashes_after.get(k)]
        raise RuntimeError(f"frozen weights changed during {mode!r} training: {changed} (a neurobias bug)")
    tonic_rows = bank().detach().cpu().double().numpy().reshape(restarts, n_ctx, circuit.n_units)
    restart_loss = per_step.get(opt.best_step)
    if restart_loss is None:  # the kept step was scored before a resume: its batch again, at the kept parameters
        with torch.no_grad():
            err, count = errors(*forward(opt.best_step))
        restart_loss = (err / count.clamp_min(1.0)).cpu().double().numpy()
    chosen = np.argmin(restart_loss, axis=0)
    return TrainResult(
        circuit=model.trained_circuit(circuit),
        tonic=tonic_rows[chosen, np.arange(n_ctx)],
        contexts=task.contexts,
        loss=opt.loss,
        lr=opt.lr["tonic"],
        steps_done=opt.steps_done,
        best_step=opt.best_step,
        mode=mode,
        hashes_before=hashes_before,
        hashes_after=hashes_after,
        tonic_mask=bank.mask.detach().cpu().double().numpy(),
        tonic_basis=bank.basis.detach().cpu().double().numpy(),
        kept_restart=chosen.astype(np.int64),
        restart_loss=restart_loss,
        wall_time_s=_time.perf_counter() - t_start,
    )


def _clip_each(grad: torch.Tensor, restarts: int, max_norm: float) -> torch.Tensor:
    """``grad`` of restart-major rows with each restart's block scaled to a 2-norm of at most ``max_norm``.

    The coefficient is torch's (``max_norm / (norm + 1e-6)``, at most 1); the
    norm is taken in float64 so that finite gradients never overflow it.
    """
    blocks = grad.reshape(restarts, -1)
    norms = torch.linalg.vector_norm(blocks.double(), dim=1)
    coef = (max_norm / (norms + 1e-6)).clamp(max=1.0).to(grad.dtype)
    return (blocks * coef[:, None]).reshape(grad.shape)


def _restore(path: str | Path, fingerprint: str) -> tuple[dict[str, np.ndarray], dict]:
    """The loop state of checkpoint ``path``, refused when another config (``fingerprint``) wrote it."""
    arrays, meta = load_checkpoint(path)
    if meta.get("fingerprint", "") != fingerprint:
        raise InputError(
            f"checkpoint {path} was written by a run with another config; remove it or run without --resume"
        )
    return arrays, meta
