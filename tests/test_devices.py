"""Devices and the fast paths, on CPU: ``device=`` checks, the preallocated integrator, gradient
checkpointing over time (identical results), and bias mode computing no weight gradients.

The same computations on CUDA are in ``tests/test_gpu.py`` (skipped without CUDA).
"""
from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import neurobias as nb
from neurobias.circuit.dynamics import Dynamics
from neurobias.circuit.simulate import integrate, resolve_device
from neurobias.errors import InputError
from neurobias.training.model import CircuitModel
from neurobias.training.tonic import TonicBank

NO_CUDA = not torch.cuda.is_available()


@pytest.fixture
def circuit():
    return nb.Circuit.random(12, n_inputs=2, n_outputs=1, g=1.4, seed=3)


# --------------------------------------------------------------------------- device arguments
def test_resolve_device_accepts_cpu_and_refuses_other_names():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    for bad in ("tpu", "gpu", "", 3):
        with pytest.raises(InputError, match="`device` must be 'cpu', 'cuda' or 'cuda:N'"):
            resolve_device(bad)


@pytest.mark.skipif(not NO_CUDA, reason="CUDA is available here: the no-CUDA message is not reachable")
def test_cuda_without_cuda_is_a_clear_error(circuit, tmp_path, tiny_config, run_cli):
    with pytest.raises(InputError, match="CUDA is not available"):
        resolve_device("cuda")
    with pytest.raises(InputError, match="CUDA is not available"):
        nb.simulate(circuit, np.zeros(12), duration=10.0, device="cuda")
    rc, _, stderr = run_cli(["run", tiny_config, "--out", tmp_path / "r", "--device", "cuda", "--no-progress"])
    assert rc == 2 and "CUDA is not available" in stderr and stderr.count("\n") == 1
    assert not (tmp_path / "r").exists()  # refused before anything was written


def test_device_cpu_gives_the_default_results(circuit, tiny_config):
    a = nb.simulate(circuit, np.ones((2, 12)) * 0.1, duration=20.0, n_trials=2)
    b = nb.simulate(circuit, np.ones((2, 12)) * 0.1, duration=20.0, n_trials=2, device="cpu")
    np.testing.assert_array_equal(a["x"].values, b["x"].values)
    config = nb.load_config(tiny_config)
    r = nb.run(config, progress=False, device="cpu")
    assert r.results.attrs["device"] == "cpu"


def test_simulate_keeps_the_dtype_of_the_computation(circuit):
    ds32 = nb.simulate(circuit, np.zeros(12), duration=10.0, dtype="float32")
    ds64 = nb.simulate(circuit, np.zeros(12), duration=10.0)
    assert ds32["x"].dtype == np.float32 and ds64["x"].dtype == np.float64
    for bad in ("int32", torch.float32):  # options take the name of the dtype
        with pytest.raises(InputError, match="`dtype` must be one of 'float32', 'float64'"):
            nb.simulate(circuit, np.zeros(12), duration=10.0, dtype=bad)


# --------------------------------------------------------------------------- the integrator's paths
@pytest.mark.parametrize("form", ["current", "rate"])
@pytest.mark.parametrize("method", ["euler", "exp_euler"])
def test_integrate_equals_repeated_steps_with_and_without_autograd(form, method):
    gen = torch.Generator().manual_seed(0)
    n, T = 9, 15
    W = torch.randn(n, n, generator=gen, dtype=torch.float64) * 0.5
    ext = torch.randn(3, 2, T, n, generator=gen, dtype=torch.float64)
    x0 = torch.randn(2, n, generator=gen, dtype=torch.float64)
    dyn = Dynamics(W_rec=W, tau=10.0, phi="tanh", form=form)
    kw = dict(dt=1.0, method=method)
    x, ref = x0.expand(3, 2, n), []
    for k in range(T):
        x = dyn.step(x, ext[..., k, :], **kw)
        ref.append(x)
    ref = torch.stack(ref, dim=-2)
    with torch.no_grad():
        fast = integrate(x0, ext, dyn, **kw)
    assert fast.shape == (3, 2, T, n) and fast.is_contiguous()
    torch.testing.assert_close(fast, ref, rtol=0, atol=1e-14)
    tracked = integrate(x0, ext.clone().requires_grad_(True), dyn, **kw)
    assert tracked.requires_grad
    # the same operations (a strided or a contiguous state may take different BLAS kernels)
    torch.testing.assert_close(tracked.detach(), fast, rtol=0, atol=1e-14)


def test_a_constant_drive_is_not_copied_and_gives_the_same_trajectory():
    gen = torch.Generator().manual_seed(1)
    n, T = 7, 12
    W = torch.randn(n, n, generator=gen, dtype=torch.float64)
    b = torch.randn(2, 1, 1, n, generator=gen, dtype=torch.float64)
    x0 = torch.randn(2, 3, n, generator=gen, dtype=torch.float64)
    dyn = Dynamics(W_rec=W, tau=10.0, phi="tanh", form="current")
    view = b.expand(2, 3, T, n)
    assert view.stride(-2) == 0
    torch.testing.assert_close(integrate(x0, view, dyn, dt=2.0), integrate(x0, view.contiguous(), dyn, dt=2.0),
                               rtol=0, atol=0)


def test_noise_is_reproducible_from_the_generator():
    W = torch.zeros(4, 4, dtype=torch.float64)
    ext = torch.zeros(5000, 4, dtype=torch.float64)
    x0 = torch.zeros(4, dtype=torch.float64)
    dyn = Dynamics(W_rec=W, tau=1e9, phi="linear", form="current")
    kw = dict(dt=1.0, noise_std=0.5)
    a = integrate(x0, ext, dyn, **kw, generator=torch.Generator().manual_seed(5))
    b = integrate(x0, ext, dyn, **kw, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
    # with no leak (tau huge) the state is a random walk: increments have std noise_std sqrt(dt)
    steps = torch.diff(a, dim=0)
    assert abs(float(steps.std()) - 0.5) < 0.02


# --------------------------------------------------------------------------- training
def _model(circuit, mode, *, contexts=2):
    bank = TonicBank(contexts, circuit.n_units, init_std=0.3, rng=np.random.default_rng(0), dtype=torch.float64)
    return CircuitModel(circuit, bank, mode=mode, dtype=torch.float64)


def _loss_and_grads(model, chunk, *, noise_std):
    gen = torch.Generator().manual_seed(11)
    inputs = torch.randn(2, 3, 40, 2, generator=gen, dtype=torch.float64)
    x0 = torch.randn(2, 3, 12, generator=gen, dtype=torch.float64)
    model.zero_grad(set_to_none=True)
    _, z = model(inputs, x0, dt=1.0, method="euler", noise_std=noise_std, generator=torch.Generator().manual_seed(3),
                 checkpoint_chunk=chunk)
    loss = (z ** 2).mean()
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("mode", ["bias", "full"])
@pytest.mark.parametrize("chunk", [1, 7, 40, 100])
def test_gradient_checkpointing_gives_identical_loss_and_gradients(circuit, mode, chunk):
    model = _model(circuit, mode)
    loss0, grads0 = _loss_and_grads(model, 0, noise_std=0.05)
    loss1, grads1 = _loss_and_grads(model, chunk, noise_std=0.05)
    assert torch.equal(loss0, loss1)
    assert grads0.keys() == grads1.keys() and grads0
    for name in grads0:
        torch.testing.assert_close(grads1[name], grads0[name], rtol=0, atol=1e-15, msg=name)


def test_train_with_checkpointing_gives_the_same_result(circuit):
    task = nb.make_task("sine", dt=5.0, frequencies_hz=(20.0, 40.0), duration_ms=100.0)
    c = nb.Circuit.random(12, n_outputs=1, g=1.4, seed=3)
    kw = dict(steps=4, lr=0.01, batch_size=2, dtype="float64", noise_std=0.02, progress=False)
    a = nb.train(c, task, **kw)
    b = nb.train(c, task, **kw, checkpoint_chunk=3)
    assert a.best_step == b.best_step == 4  # the trained parameters are compared, not the initial ones
    np.testing.assert_allclose(b.tonic, a.tonic, rtol=0, atol=1e-14)
    np.testing.assert_allclose(b.loss, a.loss, rtol=0, atol=1e-14)
    with pytest.raises(InputError, match="`checkpoint_chunk` must be an integer >= 0"):
        nb.train(c, task, **kw, checkpoint_chunk=-1)


class _CountMatmuls(TorchDispatchMode):
    """Counts the matrix products dispatched while active."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        if func.overloadpacket in (torch.ops.aten.mm, torch.ops.aten.addmm, torch.ops.aten.bmm):
            self.count += 1
        return func(*args, **(kwargs or {}))


def test_bias_mode_computes_no_weight_gradient(circuit):
    """Backward through T steps: one matrix product per step in bias mode (dL/dr), two in full mode (+ dL/dW)."""
    counts = {}
    for mode in ("bias", "full"):
        model = _model(circuit, mode)
        inputs = torch.zeros(2, 3, 30, 2, dtype=torch.float64)
        _, z = model(inputs, torch.zeros(2, 3, 12, dtype=torch.float64), dt=1.0, method="euler")
        loss = (z ** 2).mean()
        with _CountMatmuls() as counter:
            loss.backward()
        counts[mode] = counter.count
        weights = [getattr(model, n) for n in ("W_rec", "W_in", "W_out", "b_out")]
        if mode == "bias":
            assert not any(w.requires_grad for w in weights)
            assert [n for n, p in model.named_parameters() if p.grad is not None] == ["bank.offsets"]
    assert 30 <= counts["bias"] <= 30 + 2
    assert counts["full"] >= 2 * 30


@pytest.mark.parametrize("noise_std", [0.0, 0.05])
def test_simulate_rates_are_phi_of_the_states(noise_std):
    c = nb.Circuit.random(10, n_outputs=2, g=1.8, seed=4, phi="tanh", form="current")
    ds = nb.simulate(c, np.random.default_rng(0).normal(size=(2, 10)), duration=30.0, n_trials=3,
                     noise_std=noise_std, seed=1)
    np.testing.assert_allclose(ds["r"].values, np.tanh(ds["x"].values), rtol=0, atol=4e-16)
    np.testing.assert_allclose(ds["z"].values, ds["r"].values @ c.W_out.T + c.b_out, rtol=0, atol=1e-14)


@pytest.mark.parametrize("form", ["current", "rate"])
def test_rows_integrated_in_parallel_threads_match_one_thread(form, monkeypatch):
    sim = importlib.import_module("neurobias.circuit.simulate")  # the package exports a function of that name

    c = nb.Circuit.random(64, n_inputs=1, n_outputs=1, g=1.5, seed=5, form=form)
    rng = np.random.default_rng(2)
    kw = dict(inputs=rng.normal(size=(2, 6, 40, 1)), dt=1.0)
    tonic = rng.normal(size=(2, 64))
    monkeypatch.setattr(sim, "CPU_THREADS", 1)
    one = nb.simulate(c, tonic, **kw)
    monkeypatch.setattr(sim, "CPU_THREADS", 3)
    monkeypatch.setattr(sim, "_MIN_BLOCK_WORK", 1)
    assert len(sim._row_blocks(12, 64, torch.device("cpu"), 0.0)) == 3
    assert len(sim._row_blocks(12, 64, torch.device("cpu"), 0.1)) == 1  # noise: one stream, one thread
    many = nb.simulate(c, tonic, **kw)
    np.testing.assert_allclose(many["x"].values, one["x"].values, rtol=0, atol=1e-13)
    np.testing.assert_allclose(many["r"].values, one["r"].values, rtol=0, atol=1e-13)
