"""Training a :class:`BiasNet` on one or several classification tasks, and scoring it.

Every step draws one minibatch from each task (without replacement within
the batch, from :func:`numpy.random.default_rng` seeded by ``seed`` and the
step) and takes one Adam step on the sum of the tasks' cross-entropies, with
a cosine learning-rate schedule (:func:`neurobias.training.optimise.optimise`).
The network keeps the parameters of the step with the lowest minibatch loss
(after the last step, the final parameters are scored on one more minibatch).
Masks learned by annealed sigmoids (``mask_method="sigmoid"``, the paper's
method) train with soft gates ``sigmoid(s / T)`` whose temperature falls
geometrically from ``T0`` to ``T1`` (``mask_temperature``); since the soft
losses of different temperatures are not comparable, their parameters are
selected by the loss of the binary evaluation mask on one fixed minibatch
per task, measured at the start, every 5 % of the steps and at the end.  Task ``t`` only reaches its own biases,
scores and readout, so the tasks train independently inside one network.
"""
from __future__ import annotations

import time as _time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from neurobias.circuit.simulate import resolve_device
from neurobias.circuit.threads import one_thread
from neurobias.datasets.base import Split
from neurobias.errors import check_instance, check_number, is_real, require
from neurobias.feedforward.model import BiasNet
from neurobias.training.optimise import ParamGroup, optimise
from neurobias.training.schedule import geometric_schedule

__all__ = ["FitResult", "fit", "accuracy", "hidden_activity"]


@dataclass(frozen=True)
class FitResult:
    """What :func:`fit` returns.

    Attributes
    ----------
    loss : ndarray of shape (step,)
        Summed cross-entropy of each step's minibatches at that step's
        parameters (before its update), nats.
    best_step : int
        Step whose parameters ``net`` holds after :func:`fit` (``steps`` for
        the final ones).
    train_accuracy, test_accuracy : ndarray of shape (task,)
        Fraction of correctly classified samples after training.
    epochs : ndarray of shape (task,)
        Passes over each task's training set (steps x batch / samples).
    hashes_before, hashes_after : dict of str to str
        sha256 of every fixed tensor's bytes before and after training (equal).
    mode : str
    wall_time_s : float
    mask_temperature : ndarray of shape (step,)
        Temperature of the soft masks at each step (sigmoid masks; empty otherwise).
    """

    loss: np.ndarray
    best_step: int
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    epochs: np.ndarray
    hashes_before: dict[str, str]
    hashes_after: dict[str, str]
    mode: str
    wall_time_s: float = field(default=0.0, compare=False)
    mask_temperature: np.ndarray = field(default_factory=lambda: np.zeros(0), compare=False)


def _tensor(x: np.ndarray, net: BiasNet) -> torch.Tensor:
    """``x`` as a tensor of ``net``'s dtype on ``net``'s device."""
    return torch.tensor(x, dtype=net.W_out.dtype, device=net.W_out.device)


def _check_tasks(net: BiasNet, tasks: Sequence[Split]) -> list[Split]:
    tasks = list(tasks) if not isinstance(tasks, Split) else [tasks]
    require("tasks", len(tasks) == net.n_tasks, f"{net.n_tasks} Splits (one per task of the network)", len(tasks))
    for t, split in enumerate(tasks):
        check_instance(f"tasks[{t}]", split, Split, what="a neurobias.datasets.Split")
        name = f"tasks[{t}]` ({split.name!r}) `n_features"
        require(name, split.n_features == net.n_inputs,
                f"the network's {net.n_inputs} inputs (pad with neurobias.datasets.pad_features)", split.n_features)
        require(f"tasks[{t}]` ({split.name!r}) `n_classes", split.n_classes == net.n_outputs[t],
                f"the {net.n_outputs[t]} outputs of the network's task {t}", split.n_classes)
    return tasks


def accuracy(net: BiasNet, x: np.ndarray, y: np.ndarray, *, task: int = 0, chunk: int = 2048) -> float:
    """Fraction of samples ``x`` of shape (sample, input) whose arg-max logit is the label ``y`` (sample,)."""
    correct = 0
    with torch.no_grad():
        for i in range(0, len(y), chunk):
            logits = net(_tensor(x[i:i + chunk], net), task)
            correct += int((logits.argmax(dim=1).cpu().numpy() == np.asarray(y[i:i + chunk])).sum())
    return correct / max(len(y), 1)


def hidden_activity(net: BiasNet, x: np.ndarray, *, task: int = 0, layer: int = -1) -> np.ndarray:
    """Hidden activity (after ReLU and mask) of one layer, float64 of shape (sample, unit)."""
    with torch.no_grad():
        return net.hidden(_tensor(x, net), task)[layer].double().cpu().numpy()


@one_thread()
def fit(
    net: BiasNet, tasks: Split | Sequence[Split], *, steps: int = 1000, batch_size: int = 128, lr: float = 0.01,
    lr_min_ratio: float = 0.01, mask_temperature: tuple[float, float] = (1.0, 0.01), seed: int = 0,
    progress: bool = True, device: str | torch.device = "cpu",
) -> FitResult:
    """Train the parameters of ``net``'s mode on ``tasks`` (in place) and score the result.

    Parameters
    ----------
    net : BiasNet
        Trained in place and left at the parameters of ``best_step``; its
        fixed tensors are hashed before and after and a change raises
        RuntimeError.
    tasks : Split or sequence of Split
        One per task of ``net``, in order.
    steps : int
        Adam steps (each sees one minibatch of every task).
    batch_size : int
        Samples per task per step (capped at the training-set size).
    lr : float
        Initial learning rate; a cosine schedule lowers it to ``lr * lr_min_ratio``.
    lr_min_ratio : float
    mask_temperature : (float, float)
        ``(T0, T1)``, ``T0 >= T1 > 0``: temperature of the soft masks of a
        ``mask`` network with ``mask_method="sigmoid"`` at the first and the
        last step, geometric in between
        (:func:`neurobias.training.schedule.geometric_schedule`); checked
        always, used only by such networks.  After training the masks are
        binary (``net.temperature`` is None).
    seed : int
        Seed of the minibatch draws.
    progress : bool
        Show a progress bar.
    device : {"cpu", "cuda", "cuda:N"} or torch.device
        Where to train: ``net`` is moved there in place (as
        :meth:`torch.nn.Module.to` does) and stays there; the data follow.
        The minibatches are drawn by numpy on every device, so a run on a GPU
        sees the same samples as on the CPU (its float results differ by
        rounding).

    Returns
    -------
    FitResult
    """
    t0 = _time.perf_counter()
    check_instance("net", net, BiasNet)
    splits = _check_tasks(net, tasks)
    for name, value, low in (("steps", steps, 0), ("batch_size", batch_size, 1), ("seed", seed, 0)):
        check_number(name, value, ge=low, integer=True)
    check_number("lr", lr, gt=0)
    temps = _check_temperature(mask_temperature)
    dev = resolve_device(device)
    before = net.frozen_hashes()
    net.to(dev)
    data = [(_tensor(s.x_train, net), torch.tensor(s.y_train, device=dev)) for s in splits]

    soft = net.mode == "mask" and net.mask_method == "sigmoid"
    schedule = geometric_schedule(steps, start=temps[0], end=temps[1]) if soft else np.zeros(0)

    def batch_loss(step: int) -> torch.Tensor:
        rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(step,)))
        loss = torch.zeros((), dtype=net.W_out.dtype, device=dev)
        for t, (x, y) in enumerate(data):
            idx = torch.as_tensor(rng.choice(len(y), size=min(batch_size, len(y)), replace=False), device=dev)
            loss = loss + torch.nn.functional.cross_entropy(net(x[idx], t), y[idx])
        return loss

    def objective(step: int) -> torch.Tensor:
        if soft:  # the step's temperature (the last one for the final scoring)
            net.temperature = float(schedule[min(step, steps - 1)])
        return batch_loss(step)

    def binary_loss() -> float:
        net.temperature = None
        with torch.no_grad():
            return float(batch_loss(steps + 1))  # one fixed minibatch, never a training step's

    group = ParamGroup(net.mode, [p for p in net.parameters() if p.requires_grad], lr=lr, lr_min=lr * lr_min_ratio)
    try:
        result = optimise(objective, [group], steps=steps, schedule="cosine", progress=progress,
                          desc=f"fit {net.mode}", divergence_hint=f"lower `lr` (now {lr})",
                          validation=binary_loss if soft else None, validate_every=max(1, steps // 20))
    finally:
        net.temperature = None  # binary masks outside training
    after = net.frozen_hashes()
    if after != before:
        changed = sorted(k for k in before if before[k] != after.get(k))
        raise RuntimeError(f"fixed tensors changed during {net.mode!r} training: {changed} (a neurobias bug)")
    train_acc = np.array([accuracy(net, s.x_train, s.y_train, task=t) for t, s in enumerate(splits)])
    test_acc = np.array([accuracy(net, s.x_test, s.y_test, task=t) for t, s in enumerate(splits)])
    epochs = np.array([steps * min(batch_size, len(s.y_train)) / len(s.y_train) for s in splits])
    return FitResult(loss=result.loss, best_step=result.best_step, train_accuracy=train_acc, test_accuracy=test_acc,
                     epochs=epochs, hashes_before=before, hashes_after=after, mode=net.mode,
                     wall_time_s=_time.perf_counter() - t0, mask_temperature=schedule)


def _check_temperature(value: object) -> tuple[float, float]:
    """``mask_temperature`` as ``(T0, T1)`` with ``T0 >= T1 > 0``, or InputError naming it."""
    expected = "a pair (T0, T1) of numbers with T0 >= T1 > 0"
    ok = (isinstance(value, (tuple, list)) and len(value) == 2 and all(is_real(v) for v in value)
          and all(np.isfinite(float(v)) and float(v) > 0 for v in value) and float(value[0]) >= float(value[1]))
    require("mask_temperature", ok, expected, value)
    return float(value[0]), float(value[1])
