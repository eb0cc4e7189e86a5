"""The one optimisation loop of neurobias: Adam over named parameter groups.

Circuit training (:func:`neurobias.training.train`), the recording fits
(:class:`neurobias.fitting.TonicFit`) and the feed-forward fits
(:func:`neurobias.feedforward.fit`) all run :func:`optimise`.  A caller gives

* an *objective*: a closure ``objective(step) -> loss`` (a scalar tensor that
  depends on the parameters), or ``-> (loss, value)`` when the number that
  scores the parameters (recorded, compared with the target, selecting the
  best step) is not the tensor that is differentiated (e.g. several restarts
  trained side by side and scored by the best of them).  ``step`` is the
  0-based step index; a closure that draws random batches seeds them from it,
  so a resumed run sees the same data.  After the last step the loop calls
  ``objective(steps_done)`` once more, without gradients, to score the final
  parameters;
* named :class:`ParamGroup` s, each with its own learning rate and floor;
* options: the schedule, gradient-norm clipping over all groups together,
  a target loss, an optional validation closure, a checkpoint hook, progress.

Step ``k`` evaluates the loss of the parameters ``θ_k``, records it, and (unless
the target loss is reached) takes one Adam step to ``θ_{k+1}``.  The loop keeps
the parameters with the lowest loss it saw (ties go to the later step), or with
the lowest validation loss when ``validation`` is given, and leaves *those* in
the parameter tensors when it returns.  When the final loss is above the first
one it warns with :class:`~neurobias.errors.ConvergenceWarning`.

The learning rate of every group is a pure function of the step
(:func:`neurobias.training.schedule.learning_rate`), so a run resumed from a
checkpoint is bit-identical to an uninterrupted one.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from neurobias.errors import ConvergenceWarning, InputError, is_int, is_real, require
from neurobias.training.schedule import SCHEDULES, learning_rate

__all__ = ["ParamGroup", "OptimResult", "optimise", "clip_gradient_norm"]

#: ``checkpoint(arrays, meta)``: the loop's whole state as named arrays and JSON-serialisable metadata
CheckpointHook = Callable[[dict[str, np.ndarray], dict[str, Any]], None]


@dataclass(frozen=True)
class ParamGroup:
    """A named set of parameters that share a learning rate.

    Parameters
    ----------
    name : str
        Name of the group (``"tonic"``, ``"weights"``, ...); names the group's
        learning-rate history and its arrays in a checkpoint.
    params : sequence of torch.Tensor
        Leaf tensors with ``requires_grad``; may be empty (the group then only
        records its learning rate).
    lr : float
        Learning rate at step 0.
    lr_min : float
        Floor of the schedule (``0 <= lr_min <= lr``).
    """

    name: str
    params: Sequence[torch.Tensor]
    lr: float
    lr_min: float = 0.0


@dataclass(frozen=True)
class OptimResult:
    """What :func:`optimise` returns (the parameters themselves are updated in place).

    Attributes
    ----------
    loss : ndarray of shape (step,)
        Objective at the parameters of each step, before that step's update.
    lr : dict of str to ndarray of shape (step,)
        Learning rate of each group at each step.
    steps_done : int
        Updates taken (fewer than ``steps`` when ``target_loss`` was reached).
    reached_target : bool
        Whether the target loss was reached.
    final_loss : float
        Objective at the parameters after the last update (NaN when no step ran).
    best_step : int
        Step whose parameters are returned (0 ... ``steps_done``; ``steps_done``
        is the final parameters).
    best_loss : float
        The loss that selected them: the objective, or the validation loss when
        ``validation`` was given.
    validation : ndarray of shape (check,)
        Validation losses (empty without ``validation``).
    validation_step : ndarray of shape (check,)
        Steps at which they were measured.
    """

    loss: np.ndarray
    lr: dict[str, np.ndarray]
    steps_done: int
    reached_target: bool
    final_loss: float
    best_step: int
    best_loss: float
    validation: np.ndarray = field(default_factory=lambda: np.zeros(0))
    validation_step: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))








def _check_groups(groups: Sequence[ParamGroup]) -> list[torch.Tensor]:
    if isinstance(groups, ParamGroup) or not isinstance(groups, Sequence) or not groups:
        raise InputError(f"`groups` must be a non-empty sequence of ParamGroup; got {groups!r}")
    names: list[str] = []
    params: list[torch.Tensor] = []
    for g in groups:
        if not isinstance(g, ParamGroup):
            raise InputError(f"`groups` must hold ParamGroup objects; got {type(g).__name__}")
        require(f"groups[{g.name!r}].lr", is_real(g.lr) and g.lr > 0, "a positive number", g.lr)
        require(f"groups[{g.name!r}].lr_min", is_real(g.lr_min) and 0 <= g.lr_min <= g.lr,
               f"a number in [0, lr = {g.lr}]", g.lr_min)
        for i, p in enumerate(g.params):
            if not (isinstance(p, torch.Tensor) and p.is_leaf and p.requires_grad):
                raise InputError(f"`groups[{g.name!r}].params[{i}]` must be a leaf tensor with requires_grad")
        names.append(g.name)
        params.extend(g.params)
    if len(set(names)) != len(names):
        raise InputError(f"`groups` must have distinct names; got {names}")
    if len({id(p) for p in params}) != len(params):
        raise InputError("`groups` must not share a parameter")
    return params


def clip_gradient_norm(params: Sequence[torch.Tensor], max_norm: float) -> torch.Tensor:
    """Scale the gradients of ``params`` in place so that their joint 2-norm is at most ``max_norm``.

    As :func:`torch.nn.utils.clip_grad_norm_`, whose result it equals whenever
    the norm is representable, except that finite gradients whose sum of
    squares overflows the gradients' dtype (a float32 norm above about
    1.8e19, e.g. the gradient through an unstable state over a long trial)
    are still scaled to ``max_norm``: the norm is then recomputed in float64.
    Without this the overflowing norm is ``inf``, the gradients are scaled by
    ``max_norm / inf = 0`` and no step ever moves the parameters.

    Parameters
    ----------
    params : sequence of torch.Tensor
        Parameters whose ``.grad`` is scaled (those without a gradient are skipped).
    max_norm : float
        Largest joint 2-norm of the gradients after the call.

    Returns
    -------
    torch.Tensor
        The joint 2-norm before clipping (0-dimensional).
    """
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    total = torch.nn.utils.get_total_norm(grads)
    if not torch.isfinite(total) and all(bool(torch.isfinite(g).all()) for g in grads):
        total64 = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.double()) for g in grads]))
        total = total64.to(total.dtype) if torch.isfinite(total64.to(total.dtype)) else total64
        coef = min(1.0, float(max_norm) / (float(total64) + 1e-6))
        for g in grads:
            g.mul_(coef)
        return total
    torch.nn.utils.clip_grads_with_norm_(params, max_norm, total)
    return total


def optimise(
    objective: Callable[[int], torch.Tensor | tuple[torch.Tensor, float]],
    groups: Sequence[ParamGroup],
    *,
    steps: int,
    schedule: str = "constant",
    clip_grad: float = 0.0,
    target_loss: float = 0.0,
    validation: Callable[[], float] | None = None,
    validate_every: int = 1,
    checkpoint: CheckpointHook | None = None,
    checkpoint_every: int = 0,
    resume: tuple[Mapping[str, np.ndarray], Mapping[str, Any]] | None = None,
    progress: bool = True,
    desc: str = "optimising",
    log_every: int = 10,
    divergence_hint: str = "lower the learning rate",
) -> OptimResult:
    """Minimise ``objective`` over the parameters of ``groups`` with Adam.

    Parameters
    ----------
    objective : callable
        ``objective(step)`` returns the loss (scalar tensor) at the current
        parameters for 0-based ``step``, or a pair ``(loss, value)``: the
        tensor to differentiate and the float that scores the parameters (the
        recorded loss, compared with ``target_loss`` and selecting the best
        step).  Called once per step with gradients, and once more as
        ``objective(steps_done)`` under ``torch.no_grad()`` to score the final
        parameters.
    groups : sequence of ParamGroup
        Named parameter groups with their learning rates.  Adam's state is
        indexed by the parameters in this order.
    steps : int
        Maximum number of updates.
    schedule : {"constant", "cosine", "step"}
        Learning-rate schedule of every group from its ``lr`` to its ``lr_min``
        (:func:`neurobias.training.schedule.learning_rate`).
    clip_grad : float
        Maximum norm of the gradient of all parameters together (0: no clipping).
    target_loss : float
        Stop at the first step whose loss is <= this (0: never); its parameters
        are the final ones.
    validation : callable, optional
        ``validation()`` returns a loss (float) at the current parameters; it is
        measured at the start, every ``validate_every`` updates and at the end,
        and selects the returned parameters instead of ``objective``.
    validate_every : int
        Updates between validations.
    checkpoint : callable, optional
        ``checkpoint(arrays, meta)`` receives the loop's state (parameters,
        best parameters, Adam's moments, histories as named numpy arrays;
        ``step``, ``finished`` and the best step in ``meta``) every
        ``checkpoint_every`` updates and once at the end.  Pass them back as
        ``resume`` to continue.
    checkpoint_every : int
        Updates between checkpoints (0: only the final one).
    resume : (arrays, meta), optional
        A state given to ``checkpoint``; the loop continues from it and its
        result equals an uninterrupted run's.
    progress : bool
        Show a progress bar with the loss.
    desc : str
        Label of the progress bar and of error and warning messages.
    log_every : int
        Update the bar's loss every this many steps.
    divergence_hint : str
        Advice appended to the error raised when the loss is not finite.

    Returns
    -------
    OptimResult
        The parameters of ``groups`` hold the selected (best) parameters.

    Raises
    ------
    InputError
        Invalid options, a ``resume`` state that does not match the
        parameters, or a loss that is not finite.

    Warns
    -----
    ConvergenceWarning
        When the final loss (or validation loss) is above the first one.
    """
    params = _check_groups(groups)
    require("steps", is_int(steps) and steps >= 0, "an integer >= 0", steps)
    require("schedule", schedule in SCHEDULES, f"one of {', '.join(SCHEDULES)}", schedule)
    require("clip_grad", is_real(clip_grad) and clip_grad >= 0, "a number >= 0", clip_grad)
    require("target_loss", is_real(target_loss) and target_loss >= 0, "a number >= 0", target_loss)
    require("validate_every", is_int(validate_every) and validate_every >= 1, "an integer >= 1", validate_every)
    require("checkpoint_every", is_int(checkpoint_every) and checkpoint_every >= 0, "an integer >= 0",
           checkpoint_every)
    require("log_every", is_int(log_every) and log_every >= 1, "an integer >= 1", log_every)
    live = [g for g in groups if len(g.params)]
    optimizer = torch.optim.Adam([{"params": list(g.params), "lr": g.lr} for g in live], lr=live[0].lr) \
        if live else None
    st = _State(groups, params)
    if resume is not None:
        st.restore(resume, optimizer)
    elif validation is not None:
        st.validate(validation, 0)

    def fail(step: int, value: float) -> None:
        raise InputError(f"{desc} diverged at step {step} (loss is {value}); {divergence_hint}")

    bar = tqdm(total=steps, initial=min(st.step, steps), disable=not progress, desc=desc, unit="step",
               leave=True, dynamic_ncols=True)
    try:
        while st.step < steps and not st.finished:
            step = st.step
            rates = {g.name: learning_rate(step, lr=g.lr, lr_min=g.lr_min, steps=steps, schedule=schedule)
                     for g in groups}
            if optimizer is not None:
                for group, spec in zip(optimizer.param_groups, live):
                    group["lr"] = rates[spec.name]
            loss, value = _score(objective(step))
            if not math.isfinite(value):
                fail(step, value)
            st.record(value, rates)
            if validation is None:
                st.offer(value, step)
            if target_loss > 0 and value <= target_loss:
                st.finished = st.reached = True
                st.final_loss = value
                # say why the bar stops short of 100 %
                bar.set_postfix_str(f"loss={value:.3g} <= target {target_loss:.3g}: stopped early at step {step}",
                                    refresh=True)
                break
            st.snapshot_if_current()
            if optimizer is not None:
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if clip_grad > 0:
                    clip_gradient_norm(params, clip_grad)
                optimizer.step()
            st.step += 1
            bar.update(1)
            if st.step % log_every == 0 or st.step == steps:
                bar.set_postfix(loss=f"{value:.3g}", refresh=False)
            if validation is not None and st.step % validate_every == 0 and st.step < steps:
                st.validate(validation, st.step)
            if checkpoint is not None and checkpoint_every and st.step % checkpoint_every == 0 and st.step < steps:
                checkpoint(*st.arrays(optimizer))
    finally:
        bar.close()
    if not st.finished and st.step > 0 and math.isnan(st.final_loss):
        with torch.no_grad():
            value = _score(objective(st.step))[1]
        if not math.isfinite(value):
            fail(st.step, value)
        st.final_loss = value
        if validation is None:
            st.offer(value, st.step)
    st.finished = True
    if st.best_step < 0:  # no step ran: the parameters are those given
        st.best_step = st.step
    if validation is not None and (not st.val_step or st.val_step[-1] != st.step):
        st.validate(validation, st.step)
    if checkpoint is not None:
        checkpoint(*st.arrays(optimizer))
    st.select_best()
    first = st.val[0] if validation is not None else (st.loss[0] if st.loss else math.nan)
    last = st.val[-1] if validation is not None else st.final_loss
    if last > first:
        what = "validation loss" if validation is not None else "loss"
        warnings.warn(
            f"{desc} ended with a {what} of {last:.4g}, above its start ({first:.4g}); returning the parameters "
            f"of step {st.best_step} ({what} {st.best_loss:.4g})", ConvergenceWarning, stacklevel=2)
    return OptimResult(
        loss=np.asarray(st.loss, dtype=np.float64),
        lr={g.name: np.asarray(st.lr[g.name], dtype=np.float64) for g in groups},
        steps_done=st.step, reached_target=bool(st.reached), final_loss=float(st.final_loss),
        best_step=int(st.best_step), best_loss=float(st.best_loss),
        validation=np.asarray(st.val, dtype=np.float64), validation_step=np.asarray(st.val_step, dtype=np.int64),
    )


def _score(out: torch.Tensor | tuple[torch.Tensor, float]) -> tuple[torch.Tensor, float]:
    """An objective's result as (tensor to differentiate, float that scores the parameters)."""
    if isinstance(out, tuple):
        loss, value = out
        return loss, float(value)
    return out, float(out.detach())


class _State:
    """Everything the loop needs to continue: histories, step, best parameters."""

    def __init__(self, groups: Sequence[ParamGroup], params: list[torch.Tensor]) -> None:
        self.groups, self.params = groups, params
        self.keys = [f"{g.name}/{i}" for g in groups for i in range(len(g.params))]
        self.loss: list[float] = []
        self.lr: dict[str, list[float]] = {g.name: [] for g in groups}
        self.val: list[float] = []
        self.val_step: list[int] = []
        self.step = 0
        self.finished = False  # no step left (the last step ran or the target was reached)
        self.reached = False  # the target loss was reached
        self.final_loss = math.nan
        self.best_loss = math.inf
        self.best_step = -1
        self.best: list[torch.Tensor] | None = None  # None: the best are the current parameters

    def record(self, value: float, rates: Mapping[str, float]) -> None:
        self.loss.append(value)
        for name, rate in rates.items():
            self.lr[name].append(rate)

    def offer(self, value: float, step: int) -> None:
        """Keep the current parameters (those of ``step``) if ``value`` is not above the best so far."""
        if value <= self.best_loss:
            self.best_loss, self.best_step, self.best = value, step, None

    def validate(self, validation: Callable[[], float], step: int) -> None:
        with torch.no_grad():
            value = float(validation())
        self.val.append(value)
        self.val_step.append(step)
        self.offer(value if math.isfinite(value) else math.inf, step)

    def snapshot_if_current(self) -> None:
        """Copy the parameters before an update when they are the best so far."""
        if self.best is None and self.best_step == self.step:
            self.best = [p.detach().clone() for p in self.params]

    def select_best(self) -> None:
        if self.best is not None and self.best_step != self.step:
            with torch.no_grad():
                for p, b in zip(self.params, self.best):
                    p.copy_(b)

    def arrays(self, optimizer: torch.optim.Optimizer | None) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        # copies: a hook may keep the arrays while the parameters move on
        out: dict[str, np.ndarray] = {f"param/{k}": p.detach().cpu().numpy().copy()
                                      for k, p in zip(self.keys, self.params)}
        if self.best is not None and self.best_step != self.step:
            out.update({f"best/{k}": b.cpu().numpy().copy() for k, b in zip(self.keys, self.best)})
        if optimizer is not None:
            for idx, state in optimizer.state_dict()["state"].items():
                for key, value in state.items():
                    out[f"optim/{idx}/{key}"] = value.detach().cpu().numpy().copy() if torch.is_tensor(value) \
                        else np.asarray(value)
        out["loss"] = np.asarray(self.loss, dtype=np.float64)
        out.update({f"lr/{name}": np.asarray(v, dtype=np.float64) for name, v in self.lr.items()})
        out["validation"] = np.asarray(self.val, dtype=np.float64)
        out["validation_step"] = np.asarray(self.val_step, dtype=np.int64)
        meta = {"step": int(self.step), "finished": bool(self.finished), "reached": bool(self.reached),
                "best_step": int(self.best_step),
                "best_loss": float(self.best_loss), "final_loss": float(self.final_loss)}
        return out, meta

    def restore(self, resume: tuple[Mapping[str, np.ndarray], Mapping[str, Any]],
                optimizer: torch.optim.Optimizer | None) -> None:
        try:
            arrays, meta = resume
            with torch.no_grad():
                for k, p in zip(self.keys, self.params):
                    saved = np.asarray(arrays[f"param/{k}"])
                    if saved.shape != tuple(p.shape):
                        raise InputError(f"parameter {k!r} has shape {tuple(p.shape)}; the state {saved.shape}")
                    p.copy_(torch.from_numpy(saved.copy()))
            if self.keys and f"best/{self.keys[0]}" in arrays:
                self.best = [torch.from_numpy(np.asarray(arrays[f"best/{k}"]).copy()).to(p.device, p.dtype)
                             for k, p in zip(self.keys, self.params)]
            if optimizer is not None:
                state = optimizer.state_dict()
                restored: dict[int, dict[str, torch.Tensor]] = {}
                for k, v in arrays.items():
                    if k.startswith("optim/"):
                        _, idx, key = k.split("/", 2)
                        restored.setdefault(int(idx), {})[key] = torch.from_numpy(np.asarray(v).copy())
                state["state"] = restored
                optimizer.load_state_dict(state)
            self.loss = np.asarray(arrays["loss"], dtype=np.float64).tolist()
            self.lr = {g.name: np.asarray(arrays[f"lr/{g.name}"], dtype=np.float64).tolist() for g in self.groups}
            self.val = np.asarray(arrays["validation"], dtype=np.float64).tolist()
            self.val_step = np.asarray(arrays["validation_step"], dtype=np.int64).tolist()
            self.step, self.finished = int(meta["step"]), bool(meta["finished"])
            self.reached = bool(meta["reached"])
            self.best_step, self.best_loss = int(meta["best_step"]), float(meta["best_loss"])
            self.final_loss = float(meta["final_loss"])
        except (KeyError, ValueError, TypeError, RuntimeError) as exc:
            raise InputError(f"`resume` is not a state of these parameter groups ({exc!r})") from None
