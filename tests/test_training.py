"""Tests of training: bias-only learning, frozen weights, modes, tonic parametrisations,
determinism, exact resume, early stopping, argument checks, schedules and losses."""
from __future__ import annotations

import hashlib
import importlib
import re

import numpy as np
import pytest
import torch

from neurobias.circuit import Circuit, simulate
from neurobias.errors import InputError
from neurobias.io.checkpoint import load_checkpoint
from neurobias.tasks import make_task
from neurobias.testing import assert_allclose, assert_identical
from neurobias.training import TrainResult, learning_rate, masked_mse, nmse, train

optimise_module = importlib.import_module("neurobias.training.optimise")

WEIGHTS = ("W_rec", "W_in", "W_out", "b_out")




def _sha(a: np.ndarray) -> str:
    """The package's fingerprint, written out: sha256 of the values as little-endian float64 in C order."""
    return hashlib.sha256(np.ascontiguousarray(a, dtype="<f8").tobytes()).hexdigest()


def _masked_mse_np(z: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    return float((mask * (z - target) ** 2).sum() / mask.sum())


def _evaluate(circuit: Circuit, tonic: np.ndarray, task) -> np.ndarray:
    """Independent evaluation with `simulate`: z of shape (context, trial, time, output) and the batch."""
    batch = task.sample_all(1, np.random.default_rng(0))
    ds = simulate(circuit, tonic, inputs=batch.inputs, dt=task.dt)
    return ds["z"].values, batch


# --------------------------------------------------------- bias-only learning
SINE = make_task("sine", dt=5.0, frequencies_hz=(2.0, 4.0), duration_ms=500.0)
SINE_KW = dict(steps=300, lr=0.03, batch_size=1, dtype="float64", seed=0, progress=False)


@pytest.fixture(scope="module")
def sine_circuit() -> Circuit:
    # g = 1.8, tau = 20 ms: the loss drops 37-500x over seeds 0-5 with these settings.
    return Circuit.random(64, n_outputs=1, g=1.8, tau=20.0, seed=0)


@pytest.fixture(scope="module")
def sine_result(sine_circuit) -> TrainResult:
    return train(sine_circuit, SINE, **SINE_KW)


def test_bias_training_reduces_loss_tenfold(sine_circuit, sine_result):
    r = sine_result
    assert r.steps_done == 300 and r.loss.shape == (300,) and r.lr.shape == (300,)
    assert r.tonic.shape == (2, 64) and r.tonic.dtype == np.float64
    assert r.contexts == SINE.contexts and r.mode == "bias"
    # the first loss is the untrained circuit's (zero tonic), evaluated independently
    z0, batch = _evaluate(sine_circuit, np.zeros((2, 64)), SINE)
    assert_allclose(r.loss[0], _masked_mse_np(z0, batch.targets, batch.mask), rtol=1e-12)
    # the learned tonic inputs, simulated independently, do the task 10x better
    z, batch = _evaluate(sine_circuit, r.tonic, SINE)
    final = _masked_mse_np(z, batch.targets, batch.mask)
    assert final <= r.loss[0] / 10.0, (final, r.loss[0])
    assert r.loss[-1] <= r.loss[0] / 10.0
    assert np.all(nmse(z, batch.targets, batch.mask) < 0.2)
    # both contexts differ only by their tonic input, and both were learned
    assert np.max(np.abs(r.tonic[0] - r.tonic[1])) > 1e-2


def test_bias_training_leaves_weights_byte_identical(sine_circuit, sine_result):
    r = sine_result
    assert r.hashes_before == r.hashes_after
    assert set(r.hashes_before) == set(WEIGHTS)
    for name in WEIGHTS:  # float64 training: the hashes are those of the circuit's own bytes
        assert r.hashes_before[name] == _sha(getattr(sine_circuit, name)), name
        assert_identical(getattr(r.circuit, name), getattr(sine_circuit, name), err_msg=name)
    assert (r.circuit.tau, r.circuit.phi, r.circuit.form) == (sine_circuit.tau, sine_circuit.phi, sine_circuit.form)


def test_learning_rate_history_follows_the_schedule(sine_result):
    expected = [learning_rate(k, lr=0.03, lr_min=0.0, steps=300, schedule="cosine") for k in range(300)]
    assert_identical(sine_result.lr, np.array(expected))
    assert sine_result.lr[0] == 0.03 and sine_result.lr[-1] == 0.0


# ----------------------------------------------------------------- tiny task
TINY = make_task("sine", dt=10.0, frequencies_hz=(5.0, 10.0, 20.0), duration_ms=100.0)


@pytest.fixture(scope="module")
def tiny_circuit() -> Circuit:
    return Circuit.random(16, n_outputs=1, g=1.5, tau=20.0, seed=1)


def _tiny(circuit, **kw) -> TrainResult:
    base = dict(steps=6, lr=0.02, batch_size=1, dtype="float64", seed=0, progress=False)
    base.update(kw)
    return train(circuit, TINY, **base)


def test_bias_training_in_float32_keeps_weights(tiny_circuit):
    r = _tiny(tiny_circuit, dtype="float32")
    assert r.hashes_before == r.hashes_after
    assert r.hashes_before["W_rec"] == _sha(tiny_circuit.W_rec.astype(np.float32))
    assert r.circuit is tiny_circuit
    assert r.tonic.dtype == np.float64


def test_full_mode_trains_the_weights(tiny_circuit):
    r = _tiny(tiny_circuit, mode="full")
    assert r.hashes_before == {} == r.hashes_after  # nothing frozen
    assert np.max(np.abs(r.circuit.W_rec - tiny_circuit.W_rec)) > 1e-4
    assert np.max(np.abs(r.circuit.W_out - tiny_circuit.W_out)) > 1e-4
    assert np.max(np.abs(r.tonic)) > 1e-4
    assert r.circuit.W_rec.dtype == np.float64 and not r.circuit.W_rec.flags.writeable
    assert r.circuit.seed == tiny_circuit.seed  # the seed of the initial draw
    assert r.circuit.connectivity == f"{tiny_circuit.connectivity}, then W_rec, W_in, W_out, b_out trained (full mode)"


def test_readout_mode_keeps_tonic_at_init_and_recurrence_fixed(tiny_circuit):
    init = _tiny(tiny_circuit, steps=0, init_std=0.1)
    assert init.steps_done == 0 and init.loss.shape == (0,)
    assert np.max(np.abs(init.tonic)) > 1e-3  # a non-trivial initial bank
    r = _tiny(tiny_circuit, mode="readout", init_std=0.1)
    assert_identical(r.tonic, init.tonic)
    assert set(r.hashes_before) == {"W_rec", "W_in"} and r.hashes_before == r.hashes_after
    assert_identical(r.circuit.W_rec, tiny_circuit.W_rec)
    assert_identical(r.circuit.W_in, tiny_circuit.W_in)
    assert np.max(np.abs(r.circuit.W_out - tiny_circuit.W_out)) > 1e-4
    assert r.loss[-1] < r.loss[0]
    assert r.circuit.connectivity == f"{tiny_circuit.connectivity}, then W_out, b_out trained (readout mode)"


def test_bias_plus_readout_mode(tiny_circuit):
    r = _tiny(tiny_circuit, mode="bias+readout", init_std=0.1)
    init = _tiny(tiny_circuit, steps=0, init_std=0.1)
    assert set(r.hashes_before) == {"W_rec", "W_in"} and r.hashes_before == r.hashes_after
    assert_identical(r.circuit.W_rec, tiny_circuit.W_rec)
    assert np.max(np.abs(r.circuit.W_out - tiny_circuit.W_out)) > 1e-4
    assert np.max(np.abs(r.tonic - init.tonic)) > 1e-4


# ------------------------------------------------------- tonic parametrisations
@pytest.mark.parametrize("shared_baseline", [False, True])
def test_subset_tonic_is_exactly_zero_outside_the_mask(tiny_circuit, shared_baseline):
    r = _tiny(tiny_circuit, parametrization="subset", fraction=0.25, init_std=0.1, shared_baseline=shared_baseline)
    mask = r.tonic_mask
    assert mask.shape == (16,) and set(np.unique(mask)) == {0.0, 1.0}
    assert int(mask.sum()) == 4  # round(0.25 * 16)
    assert np.all(r.tonic[:, mask == 0] == 0.0)
    assert np.all(r.tonic[:, mask == 1] != 0.0)
    assert r.loss[-1] < r.loss[0]


@pytest.mark.parametrize("rank", [1, 2])
@pytest.mark.parametrize("shared_baseline", [False, True])
def test_lowrank_tonic_lies_in_the_fixed_basis(tiny_circuit, rank, shared_baseline):
    r = _tiny(tiny_circuit, parametrization="lowrank", rank=rank, init_std=0.1, shared_baseline=shared_baseline)
    basis = r.tonic_basis
    assert basis.shape == (16, rank)
    assert TINY.n_contexts == 3 > rank  # so the rank bound is a real constraint
    assert np.linalg.matrix_rank(r.tonic, tol=1e-9) <= rank
    coef, *_ = np.linalg.lstsq(basis, r.tonic.T, rcond=None)
    assert_allclose(basis @ coef, r.tonic.T, rtol=0, atol=1e-12)
    assert r.loss[-1] < r.loss[0]


def test_full_parametrization_reports_trivial_mask_and_basis(tiny_circuit):
    r = _tiny(tiny_circuit, steps=1)
    assert_identical(r.tonic_mask, np.ones(16))
    assert r.tonic_basis.shape == (16, 0)


def test_shared_baseline_is_one_vector_shared_by_all_contexts(tiny_circuit):
    # From a zero bank, Adam's first step moves every parameter by -lr * sign(grad).  Without a
    # baseline: b_c = -lr sign(g_c).  With one: b_c = -lr sign(g_c) - lr sign(sum_c g_c), so the
    # difference is the same vector (entries +-lr) in every context.
    lr = 0.01
    alone = _tiny(tiny_circuit, steps=1, lr=lr, clip_grad=0.0)
    shared = _tiny(tiny_circuit, steps=1, lr=lr, clip_grad=0.0, shared_baseline=True)
    # (|step| = lr |g| / (|g| + eps) with Adam's eps = 1e-8: within 1e-3 of lr for |g| > 1e-5)
    assert_allclose(np.abs(alone.tonic), lr, rtol=1e-3, atol=0)
    diff = shared.tonic - alone.tonic
    assert_allclose(np.abs(diff), lr, rtol=1e-3, atol=0)
    for c in range(1, TINY.n_contexts):
        assert_allclose(diff[c], diff[0], rtol=0, atol=1e-12)
    # and training with a baseline works
    longer = _tiny(tiny_circuit, steps=30, lr=0.05, shared_baseline=True)
    assert longer.loss[-1] < 0.6 * longer.loss[0]


# ------------------------------------------------------------------ determinism
def test_same_seed_gives_identical_results_other_seed_differs(tiny_circuit):
    kw = dict(parametrization="subset", fraction=0.5, init_std=0.1, x0_std=0.2, noise_std=0.05, mode="full")
    a, b = _tiny(tiny_circuit, seed=4, **kw), _tiny(tiny_circuit, seed=4, **kw)
    c = _tiny(tiny_circuit, seed=5, **kw)
    for name in ("tonic", "loss", "lr", "tonic_mask", "tonic_basis"):
        assert_identical(getattr(a, name), getattr(b, name), err_msg=name)
    for name in WEIGHTS:
        assert_identical(getattr(a.circuit, name), getattr(b.circuit, name), err_msg=name)
    assert (a.steps_done, a.hashes_before) == (b.steps_done, b.hashes_before)
    assert not np.array_equal(a.tonic, c.tonic)
    assert not np.array_equal(a.loss, c.loss)


# ----------------------------------------------------------------------- resume
RESUME_KW = dict(steps=12, lr=0.02, checkpoint_every=4, init_std=0.1, x0_std=0.2, noise_std=0.05,
                 shared_baseline=True, mode="bias+readout", seed=3, fingerprint="config-A")


class _Crash(Exception):
    pass


def _assert_same_run(a: TrainResult, b: TrainResult) -> None:
    for name in ("tonic", "loss", "lr", "tonic_mask", "tonic_basis"):
        assert_identical(getattr(a, name), getattr(b, name), err_msg=name)
    for name in WEIGHTS:
        assert_identical(getattr(a.circuit, name), getattr(b.circuit, name), err_msg=name)
    assert a.steps_done == b.steps_done and a.best_step == b.best_step


def test_resume_after_interruption_equals_uninterrupted_run(tiny_circuit, tmp_path, monkeypatch):
    whole = _tiny(tiny_circuit, checkpoint_path=tmp_path / "whole.npz", **RESUME_KW)
    assert whole.steps_done == 12
    _, meta = load_checkpoint(tmp_path / "whole.npz")
    assert meta["step"] == 12 and meta["finished"] and meta["fingerprint"] == "config-A"

    # Interrupt the run during step 10 (after the checkpoint of step 8).
    def crashing(step, **kw):
        if step == 10:
            raise _Crash
        return learning_rate(step, **kw)

    path = tmp_path / "ckpt.npz"
    monkeypatch.setattr(optimise_module, "learning_rate", crashing)
    with pytest.raises(_Crash):
        _tiny(tiny_circuit, checkpoint_path=path, **RESUME_KW)
    monkeypatch.undo()
    arrays, meta = load_checkpoint(path)
    assert meta["step"] == 8 and not meta["finished"] and arrays["loss"].shape == (8,)

    resumed = _tiny(tiny_circuit, checkpoint_path=path, resume=True, **RESUME_KW)
    _assert_same_run(resumed, whole)
    # resuming a finished run takes no step and returns the same result
    again = _tiny(tiny_circuit, checkpoint_path=path, resume=True, **RESUME_KW)
    _assert_same_run(again, whole)
    # resume=True without an existing checkpoint starts afresh
    fresh = _tiny(tiny_circuit, checkpoint_path=tmp_path / "new.npz", resume=True, **RESUME_KW)
    _assert_same_run(fresh, whole)


def test_resume_refuses_another_fingerprint(tiny_circuit, tmp_path):
    path = tmp_path / "ckpt.npz"
    _tiny(tiny_circuit, steps=2, checkpoint_path=path, fingerprint="config-A")
    with pytest.raises(InputError, match="another config"):
        _tiny(tiny_circuit, steps=4, checkpoint_path=path, resume=True, fingerprint="config-B")
    with pytest.raises(InputError, match="`resume=True`.*`checkpoint_path`"):
        _tiny(tiny_circuit, resume=True)


# ---------------------------------------------------------------- early stop
def test_target_loss_stops_at_the_first_step_reaching_it(tiny_circuit):
    kw = dict(steps=25, lr=0.05, schedule="constant")
    whole = _tiny(tiny_circuit, **kw)
    records = [k for k in range(1, 20) if whole.loss[k] < whole.loss[:k].min()]
    assert records, whole.loss
    k = records[-1]
    early = _tiny(tiny_circuit, target_loss=float(whole.loss[k]), **kw)
    assert early.steps_done == k
    assert_identical(early.loss, whole.loss[: k + 1])
    assert early.loss[-1] <= whole.loss[k]


# ------------------------------------------------------------------ arguments
@pytest.mark.parametrize(
    "kwargs, parts",
    [
        (dict(mode="bias_only"), ["`mode`", "'bias_only'", "bias+readout"]),
        (dict(lr=0.0), ["`lr`", "positive", "0.0"]),
        (dict(lr=-1e-3), ["`lr`", "-0.001"]),
        (dict(lr=float("nan")), ["`lr`", "nan"]),
        (dict(batch_size=0), ["`batch_size`", ">= 1", "0"]),
        (dict(batch_size=2.5), ["`batch_size`", "2.5"]),
        (dict(batch_size=True), ["`batch_size`", "True"]),
        (dict(steps=-1), ["`steps`", "-1"]),
        (dict(schedule="linear"), ["`schedule`", "'linear'", "cosine"]),
        (dict(dtype="float16"), ["`dtype`", "'float16'"]),
        (dict(method="rk4"), ["`method`", "'rk4'"]),
        (dict(seed=-2), ["`seed`", "-2"]),
        (dict(checkpoint_every=-1), ["`checkpoint_every`", "-1"]),
        (dict(parametrization="diagonal"), ["`parametrization`", "'diagonal'", "lowrank"]),
        (dict(parametrization="subset", fraction=0.0), ["`fraction`", "(0, 1]"]),
        (dict(parametrization="lowrank", rank=0), ["`rank`", "n_units = 16", "0"]),
        (dict(parametrization="lowrank", rank=17), ["`rank`", "17"]),
    ],
)
def test_bad_arguments_raise_input_error_naming_them(tiny_circuit, kwargs, parts):
    pattern = "(?s)" + "".join(f"(?=.*{re.escape(p)})" for p in parts)
    with pytest.raises(InputError, match=pattern):
        _tiny(tiny_circuit, **kwargs)


def test_circuit_and_task_channels_must_match(tiny_circuit):
    two_outputs = Circuit.random(16, n_outputs=2, seed=0)
    with pytest.raises(InputError, match=r"`circuit` has 2 outputs but task 'sine' has 1 \(z\)"):
        _tiny(two_outputs)
    with_input = Circuit.random(16, n_inputs=1, n_outputs=1, seed=0)
    with pytest.raises(InputError, match=r"`circuit` has 1 input channels but task 'sine' has 0"):
        _tiny(with_input)
    with pytest.raises(InputError, match="`task`"):
        train(tiny_circuit, "sine", steps=1, progress=False)
    with pytest.raises(InputError, match="`circuit`"):
        train(tiny_circuit.weights(), TINY, steps=1, progress=False)


# ------------------------------------------------------------------ schedules
def test_cosine_schedule_endpoints_and_midpoint():
    kw = dict(lr=0.1, lr_min=0.01, steps=101, schedule="cosine")
    values = np.array([learning_rate(k, **kw) for k in range(101)])
    assert values[0] == 0.1 and values[-1] == 0.01
    assert_allclose(values[50], 0.055)
    assert np.all(np.diff(values) <= 0)
    assert learning_rate(500, **kw) == 0.01  # clamped past the end


def test_step_schedule_halves_at_half_and_three_quarters():
    kw = dict(lr=0.08, lr_min=0.0, steps=101, schedule="step")
    assert [learning_rate(k, **kw) for k in (0, 49, 50, 74, 75, 100)] == [0.08, 0.08, 0.04, 0.04, 0.02, 0.02]
    assert learning_rate(100, lr=0.08, lr_min=0.03, steps=101, schedule="step") == 0.03  # floor
    assert learning_rate(7, lr=0.08, lr_min=0.0, steps=101, schedule="constant") == 0.08
    assert learning_rate(0, lr=0.08, lr_min=0.0, steps=1, schedule="cosine") == 0.08
    with pytest.raises(ValueError, match="`schedule`"):
        learning_rate(0, lr=0.1, lr_min=0.0, steps=10, schedule="exp")


# --------------------------------------------------------------------- losses
def _targets(seed=0):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(2, 3, 7, 2)) * np.array([1.0, 5.0])[:, None, None, None]  # contexts of different scale
    mask = (rng.random(size=y.shape) < 0.7).astype(float)
    return y, mask


def test_nmse_ground_truths():
    y, mask = _targets()
    assert_identical(nmse(y, y, mask), np.zeros(2))
    # predicting the per-context, per-channel mean of the masked target gives exactly 1
    mean = (mask * y).sum(axis=(1, 2), keepdims=True) / mask.sum(axis=(1, 2), keepdims=True)
    assert_allclose(nmse(np.broadcast_to(mean, y.shape), y, mask), np.ones(2))
    # entries outside the mask do not count
    garbage = np.where(mask > 0, y, 1e6)
    assert_identical(nmse(garbage, y, mask), np.zeros(2))
    # scale invariance: scaling prediction error and target together leaves NMSE unchanged
    z = y + 0.3
    assert_allclose(nmse(3.0 * z, 3.0 * y, mask), nmse(z, y, mask))
    # a constant target (no variance) falls back to sum(mask y^2): predicting 0 gives 1
    const = np.full((1, 2, 5, 1), 2.0)
    assert_allclose(nmse(np.zeros_like(const), const, np.ones_like(const)), np.ones(1))


def test_masked_mse_matches_numpy():
    y, mask = _targets(1)
    z = y + np.random.default_rng(2).normal(size=y.shape)
    t = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    assert_allclose(masked_mse(t(z), t(y), t(mask)).item(), _masked_mse_np(z, y, mask))
    assert masked_mse(t(z), t(y), t(np.zeros_like(mask))).item() == 0.0
