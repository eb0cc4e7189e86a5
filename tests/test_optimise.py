"""Tests of the one optimisation loop (neurobias.training.optimise): best-parameter return, the
worse-than-start warning, parameter groups' learning rates, clipping, schedules, validation,
checkpoint/resume equality, and argument checks.

Ground truths are closed forms: Adam's first step moves a parameter by ``lr * g / (|g| + eps)``; the
schedules are written out here from their definitions; the parameters the loop should keep are read
from values the objective itself recorded, step by step.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from neurobias.errors import ConvergenceWarning, InputError
from neurobias.io.checkpoint import load_checkpoint, save_checkpoint
from neurobias.training.optimise import ParamGroup, clip_gradient_norm, optimise

EPS = 1e-8  # Adam's default eps


def _param(value: float = 0.0) -> torch.nn.Parameter:
    return torch.nn.Parameter(torch.tensor([value], dtype=torch.float64))


def _pushed_up(theta: torch.Tensor, value, seen: list[tuple[int, float, float]]):
    """An objective whose gradient is always -1 (Adam raises ``theta`` by about ``lr`` per step)
    and whose value is ``value(theta)``; it records (step, theta, loss) at every call."""
    def objective(step: int) -> torch.Tensor:
        t = float(theta.detach()[0])
        v = float(value(t))
        seen.append((step, t, v))
        return v - (theta - theta.detach()).sum()  # value v exactly (the difference is 0), gradient -1
    return objective


# ---------------------------------------------------------------- best parameters
def test_a_loss_that_worsens_after_step_k_returns_step_k_parameters():
    theta, seen = _param(), []
    c = 0.5  # the loss (theta - c)^2 is lowest at step 5 (theta ~ 5 * 0.1), then grows again
    res = optimise(_pushed_up(theta, lambda t: (t - c) ** 2, seen), [ParamGroup("theta", [theta], lr=0.1)],
                   steps=8, progress=False)
    steps, thetas, losses = map(np.array, zip(*seen))
    np.testing.assert_array_equal(steps, np.arange(9))  # 8 steps and one evaluation of the final parameters
    k = int(np.argmin(losses))
    assert k == 5 and res.best_step == 5 and res.steps_done == 8
    assert float(theta.detach()[0]) == thetas[5]  # exactly the parameters evaluated at step 5
    assert res.best_loss == losses[5] and res.final_loss == losses[8]
    np.testing.assert_array_equal(res.loss, losses[:8])


def test_ties_keep_the_later_parameters_so_a_flat_loss_keeps_the_last():
    theta, seen = _param(), []
    res = optimise(_pushed_up(theta, lambda t: 1.0, seen), [ParamGroup("theta", [theta], lr=0.1)], steps=4,
                   progress=False)
    assert res.best_step == 4 and float(theta.detach()[0]) == seen[-1][1]


def test_ending_worse_than_the_start_warns_and_returns_the_best():
    theta, seen = _param(), []
    with pytest.warns(ConvergenceWarning, match=r"above its start.*step 2"):
        res = optimise(_pushed_up(theta, lambda t: (t - 0.2) ** 2, seen), [ParamGroup("theta", [theta], lr=0.1)],
                       steps=10, progress=False)
    losses = [v for _, _, v in seen]
    assert losses[-1] > losses[0]
    assert res.best_step == 2 and float(theta.detach()[0]) == seen[2][1]


def test_validation_selects_the_parameters_instead_of_the_objective():
    theta, seen, checks = _param(), [], []

    def validation() -> float:
        t = float(theta.detach()[0])
        checks.append(t)
        return (t - 0.3) ** 2

    res = optimise(_pushed_up(theta, lambda t: -t, seen), [ParamGroup("theta", [theta], lr=0.1)], steps=6,
                   validation=validation, validate_every=1, progress=False)
    # the objective keeps falling; the validation loss is lowest at step 3
    np.testing.assert_array_equal(res.validation_step, np.arange(7))
    assert res.best_step == 3 and float(theta.detach()[0]) == checks[3]
    np.testing.assert_array_equal(res.validation, [(t - 0.3) ** 2 for t in checks])


# ---------------------------------------------------------------- groups, clipping, schedules
def test_each_group_steps_with_its_own_learning_rate():
    a, b = _param(), _param()
    res = optimise(lambda step: (a + b).sum(), [ParamGroup("tonic", [a], lr=0.05), ParamGroup("weights", [b], lr=1e-3)],
                   steps=1, progress=False)
    # Adam's first step with gradient 1: -lr * 1 / (1 + eps)
    np.testing.assert_allclose(a.detach().numpy(), [-0.05 / (1 + EPS)], rtol=1e-12)
    np.testing.assert_allclose(b.detach().numpy(), [-1e-3 / (1 + EPS)], rtol=1e-12)
    assert res.lr["tonic"].tolist() == [0.05] and res.lr["weights"].tolist() == [1e-3]


@pytest.mark.parametrize("clip, expected", [(1.0, [0.6, 0.8]), (0.0, [3.0, 4.0]), (10.0, [3.0, 4.0])])
def test_clipping_bounds_the_norm_of_all_groups_together(clip, expected):
    a, b = _param(), _param()
    optimise(lambda step: (3 * a + 4 * b).sum(), [ParamGroup("a", [a], lr=0.1), ParamGroup("b", [b], lr=0.1)],
             steps=1, clip_grad=clip, progress=False)
    np.testing.assert_allclose([float(a.grad[0]), float(b.grad[0])], expected, rtol=1e-6)  # norm 5 -> clip


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_clip_gradient_norm_equals_torch_whenever_the_norm_is_representable(dtype):
    gen = torch.Generator().manual_seed(3)
    grads = [torch.randn(7, generator=gen, dtype=dtype) * 10, torch.randn(3, 2, generator=gen, dtype=dtype)]
    ours = [torch.zeros_like(g, requires_grad=True) for g in grads]
    ref = [torch.zeros_like(g, requires_grad=True) for g in grads]
    for p, q, g in zip(ours, ref, grads):
        p.grad, q.grad = g.clone(), g.clone()
    n_ours = clip_gradient_norm(ours, 1.5)
    n_ref = torch.nn.utils.clip_grad_norm_(ref, 1.5)
    assert torch.equal(n_ours, n_ref)
    for p, q in zip(ours, ref):
        assert torch.equal(p.grad, q.grad)


def test_clip_gradient_norm_scales_finite_gradients_whose_float32_norm_overflows():
    """Entries near 6e19 are finite in float32, but their sum of squares (> 3.4e38) is not."""
    g = torch.tensor([5.8e19, -3.0e19, 1.0], dtype=torch.float32)
    p = torch.zeros(3, requires_grad=True)
    p.grad = g.clone()
    assert not torch.isfinite(torch.linalg.vector_norm(g))  # the overflow this guards against
    norm = clip_gradient_norm([p], 2.0)
    expected = np.linalg.norm(g.double().numpy())  # 6.53e19, computed independently in float64
    np.testing.assert_allclose(float(norm), expected, rtol=1e-6)
    np.testing.assert_allclose(p.grad.double().numpy(), g.double().numpy() * 2.0 / expected, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(p.grad.double().numpy()), 2.0, rtol=1e-6)


def test_an_overflowing_gradient_norm_still_moves_the_parameters():
    """A float32 loss whose gradient is 4e19: with clipping, Adam's first step still moves the parameter."""
    theta = torch.nn.Parameter(torch.tensor([0.0], dtype=torch.float32))
    optimise(lambda step: (4e19 * theta).sum(), [ParamGroup("tonic", [theta], lr=0.1)], steps=1, clip_grad=1.0,
             progress=False)
    np.testing.assert_allclose(theta.detach().numpy(), [-0.1], rtol=1e-6)  # Adam: -lr * g / |g|


def test_schedules_follow_their_closed_forms_per_group():
    n = 11
    a, b = _param(), _param()
    groups = [ParamGroup("a", [a], lr=0.2, lr_min=0.02), ParamGroup("b", [b], lr=0.01)]
    res = optimise(lambda step: (a + b).sum(), groups, steps=n, schedule="cosine", progress=False)
    k = np.arange(n)
    np.testing.assert_allclose(res.lr["a"], 0.02 + 0.09 * (1 + np.cos(np.pi * k / 10)), rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(res.lr["b"], 0.005 * (1 + np.cos(np.pi * k / 10)), rtol=1e-14, atol=1e-16)
    assert res.lr["a"][5] == pytest.approx(0.11) and res.lr["a"][-1] == pytest.approx(0.02)
    a2, b2 = _param(), _param()
    res = optimise(lambda step: (a2 + b2).sum(), [ParamGroup("a", [a2], lr=0.2, lr_min=0.08),
                                                  ParamGroup("b", [b2], lr=0.01)],
                   steps=n, schedule="step", progress=False)
    frac = k / 10
    np.testing.assert_array_equal(res.lr["b"], np.where(frac < 0.5, 0.01, np.where(frac < 0.75, 0.005, 0.0025)))
    np.testing.assert_array_equal(res.lr["a"], np.where(frac < 0.5, 0.2, np.where(frac < 0.75, 0.1, 0.08)))


def test_target_loss_stops_at_the_first_step_reaching_it_and_keeps_those_parameters():
    theta, seen = _param(), []
    res = optimise(_pushed_up(theta, lambda t: 1.0 - t, seen), [ParamGroup("theta", [theta], lr=0.1)], steps=50,
                   target_loss=0.65, progress=False)
    losses = [v for _, _, v in seen]
    first = next(i for i, v in enumerate(losses) if v <= 0.65)
    assert len(seen) == first + 1 and res.steps_done == first and res.reached_target
    assert res.best_step == first and float(theta.detach()[0]) == seen[first][1]


# ---------------------------------------------------------------- checkpoint and resume
class _Crash(Exception):
    pass


def _quadratic_run(checkpoint=None, resume=None, crash_at=None):
    """Adam pulls theta (3 entries) towards 2 (momentum matters); the loss it reports is lowest near 0.25."""
    theta = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    w = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))

    def objective(step: int) -> torch.Tensor:
        if step == crash_at:
            raise _Crash
        pull = ((theta - 2.0) ** 2).sum() + ((w - 3.0) ** 2).sum()
        value = float(((theta.detach() - 0.25) ** 2).sum())
        return value + (pull - pull.detach())  # value exactly, gradient of pull

    groups = [ParamGroup("tonic", [theta], lr=0.1), ParamGroup("weights", [w], lr=0.02, lr_min=0.002)]
    if crash_at is not None and (resume is None or resume[1]["step"] < crash_at):
        optimise(objective, groups, steps=12, schedule="cosine", clip_grad=0.5, checkpoint=checkpoint,
                 checkpoint_every=4, resume=resume, progress=False)
        raise AssertionError("the run did not reach the crash")
    with pytest.warns(ConvergenceWarning):  # the loss ends above its start
        res = optimise(objective, groups, steps=12, schedule="cosine", clip_grad=0.5, checkpoint=checkpoint,
                       checkpoint_every=4, resume=resume, progress=False)
    return res, theta.detach().numpy().copy(), w.detach().numpy().copy()


def test_resume_from_the_checkpoint_hook_equals_an_uninterrupted_run(tmp_path):
    whole, theta, w = _quadratic_run()
    assert 0 < whole.best_step < 8  # the best parameters lie before the checkpoint the resumed run starts from
    path = tmp_path / "state.npz"
    written = []

    def hook(arrays, meta):
        save_checkpoint(path, arrays, meta)  # JSON and npz: the state must survive a file
        written.append(meta["step"])

    with pytest.raises(_Crash):
        _quadratic_run(checkpoint=hook, crash_at=10)
    assert written == [4, 8]
    state = load_checkpoint(path)
    assert any(k.startswith("best/") for k in state[0]) and any(k.startswith("optim/") for k in state[0])
    resumed, theta2, w2 = _quadratic_run(checkpoint=hook, resume=state)
    np.testing.assert_array_equal(theta2, theta)
    np.testing.assert_array_equal(w2, w)
    np.testing.assert_array_equal(resumed.loss, whole.loss)
    for name in ("tonic", "weights"):
        np.testing.assert_array_equal(resumed.lr[name], whole.lr[name])
    assert (resumed.best_step, resumed.best_loss, resumed.final_loss) == (whole.best_step, whole.best_loss,
                                                                          whole.final_loss)
    # the finished state resumes to the same result without a step
    again, theta3, _ = _quadratic_run(resume=load_checkpoint(path), crash_at=0)
    np.testing.assert_array_equal(theta3, theta)
    assert again.steps_done == 12


def test_a_state_of_other_parameters_is_refused():
    theta = _param()
    saved = {}
    optimise(lambda step: theta.sum(), [ParamGroup("theta", [theta], lr=0.1)], steps=2, progress=False,
             checkpoint=lambda arrays, meta: saved.update(arrays=arrays, meta=meta))
    other = torch.nn.Parameter(torch.zeros(4, dtype=torch.float64))
    with pytest.raises(InputError, match="`resume`.*shape"):
        optimise(lambda step: other.sum(), [ParamGroup("theta", [other], lr=0.1)], steps=2, progress=False,
                 resume=(saved["arrays"], saved["meta"]))


# ---------------------------------------------------------------- errors
def test_a_non_finite_loss_raises_naming_the_step_and_the_advice():
    theta = _param()
    with pytest.raises(InputError, match=r"fitting diverged at step 3 \(loss is nan\); lower it"):
        optimise(lambda step: theta.sum() * (math.nan if step == 3 else 1.0), [ParamGroup("theta", [theta], lr=0.1)],
                 steps=5, progress=False, desc="fitting", divergence_hint="lower it")


@pytest.mark.parametrize("kwargs, match", [
    (dict(steps=-1), "`steps` must be an integer >= 0"),
    (dict(steps=2, schedule="exp"), "`schedule` must be one of constant, cosine, step"),
    (dict(steps=2, clip_grad=-1.0), "`clip_grad` must be a number >= 0"),
    (dict(steps=2, validate_every=0), "`validate_every` must be an integer >= 1"),
])
def test_bad_options_raise_naming_them(kwargs, match):
    theta = _param()
    with pytest.raises(InputError, match=match):
        optimise(lambda step: theta.sum(), [ParamGroup("theta", [theta], lr=0.1)], progress=False, **kwargs)


def test_bad_groups_raise_naming_them():
    theta = _param()
    with pytest.raises(InputError, match=r"`groups\['a'\].lr` must be a positive number"):
        optimise(lambda step: theta.sum(), [ParamGroup("a", [theta], lr=0.0)], steps=1, progress=False)
    with pytest.raises(InputError, match=r"`groups\['a'\].lr_min` must be a number in \[0, lr = 0.1\]"):
        optimise(lambda step: theta.sum(), [ParamGroup("a", [theta], lr=0.1, lr_min=0.2)], steps=1, progress=False)
    with pytest.raises(InputError, match="distinct names"):
        optimise(lambda step: theta.sum(), [ParamGroup("a", [theta], lr=0.1), ParamGroup("a", [], lr=0.1)], steps=1,
                 progress=False)
    with pytest.raises(InputError, match="share a parameter"):
        optimise(lambda step: theta.sum(), [ParamGroup("a", [theta], lr=0.1), ParamGroup("b", [theta], lr=0.1)],
                 steps=1, progress=False)
    with pytest.raises(InputError, match="non-empty sequence of ParamGroup"):
        optimise(lambda step: theta.sum(), ParamGroup("a", [theta], lr=0.1), steps=1, progress=False)
