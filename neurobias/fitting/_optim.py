"""Adam over named parameter groups with a schedule, clipping and best-parameter return (recording fits).

Same steps as :class:`~neurobias.fitting.estimator.TonicFit`'s loop (Adam,
:func:`neurobias.training.schedule.learning_rate`, gradient-norm clipping, a
loss that must stay finite), plus: the parameters of the lowest loss seen are
restored at the end, and a warning names the likely cause when the last loss
is worse than the first.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from neurobias.errors import InputError
from neurobias.training.schedule import learning_rate

__all__ = ["adam_fit"]


def adam_fit(
    groups: Sequence[tuple[Sequence[torch.nn.Parameter], float]], loss_fn: Callable[[], torch.Tensor], *,
    steps: int, lr: float, lr_min: float, schedule: str, clip_grad: float, progress: bool, desc: str,
) -> tuple[np.ndarray, int]:
    """Minimise ``loss_fn()`` over ``groups`` of (parameters, learning-rate scale).

    Parameters
    ----------
    groups : sequence of (parameters, scale)
        Each group's rate is ``scale * learning_rate(step, ...)``; empty groups are skipped.
    loss_fn : callable
        Returns the scalar loss at the current parameters.
    steps : int
        Adam steps (0: only the initial loss is evaluated).
    lr, lr_min, schedule
        See :func:`neurobias.training.schedule.learning_rate`.
    clip_grad : float
        Maximum gradient norm over all parameters (0: off).
    progress : bool
        Progress bar.
    desc : str
        Label of the progress bar and of the warnings.

    Returns
    -------
    loss : ndarray of shape (step + 1,)
        The loss before each step and after the last one.
    best : int
        Index into ``loss`` whose parameters are left in place.
    """
    groups = [(list(p), float(s)) for p, s in groups if len(list(p))]
    params = [p for g, _ in groups for p in g]
    opt = torch.optim.Adam([{"params": g, "scale": s} for g, s in groups], lr=lr) if params else None
    history: list[float] = []
    best_value, best_step = np.inf, 0
    best_state = [p.detach().clone() for p in params]

    def evaluate(step: int) -> torch.Tensor:
        nonlocal best_value, best_step
        loss = loss_fn()
        value = float(loss.detach())
        if not np.isfinite(value):
            raise InputError(f"{desc}: the loss diverged at step {step} (loss {value}); lower `lr` (now {lr}) or "
                             f"integrate more finely (raise `substeps`)")
        history.append(value)
        if value < best_value:
            best_value, best_step = value, step
            for b, p in zip(best_state, params):
                b.copy_(p.detach())
        return loss

    bar = tqdm(total=steps, disable=not progress, desc=desc, unit="step", dynamic_ncols=True)
    try:
        for step in range(steps if opt is not None else 0):
            rate = learning_rate(step, lr=lr, lr_min=lr_min, steps=steps, schedule=schedule)
            for group in opt.param_groups:
                group["lr"] = rate * group["scale"]
            loss = evaluate(step)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if clip_grad > 0:
                torch.nn.utils.clip_grad_norm_(params, clip_grad)
            opt.step()
            bar.update(1)
            if step % 20 == 0:
                bar.set_postfix(loss=f"{history[-1]:.3g}", refresh=False)
        # with autograd on: under no_grad, integrate's row-block threads (grad mode is per thread) refuse
        # parameters that require grad
        evaluate(len(history))
    finally:
        bar.close()
    with torch.no_grad():
        for b, p in zip(best_state, params):
            p.copy_(b)
    if len(history) > 1 and history[-1] > history[0]:
        warnings.warn(f"{desc}: the loss ended above its start ({history[0]:.4g} -> {history[-1]:.4g}; the "
                      f"parameters of the lowest loss, {best_value:.4g} at step {best_step}, are kept): the "
                      f"learning rate is probably too high (`lr` = {lr:g}) or the integration too coarse "
                      f"(raise `substeps`)", UserWarning, stacklevel=3)
    return np.asarray(history, dtype=np.float64), best_step
