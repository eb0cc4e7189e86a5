"""The same computations on CUDA as on CPU: simulation, training (with checkpointing), run and sweep.

Runs only where torch sees a CUDA device; everywhere else every test here is
skipped with the reason.  float64 on both devices, so agreement is to
round-off (different BLAS kernels sum in different orders).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import neurobias as nb

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason=f"no CUDA device visible to torch {torch.__version__} (CPU build or no GPU): GPU tests skipped",
)


@pytest.fixture
def circuit():
    return nb.Circuit.random(64, n_inputs=2, n_outputs=2, g=1.5, seed=0)


@pytest.mark.parametrize("form", ["current", "rate"])
@pytest.mark.parametrize("method", ["euler", "exp_euler"])
def test_simulate_on_cuda_matches_cpu(circuit, form, method):
    c = circuit.replace(form=form)
    rng = np.random.default_rng(1)
    tonic = rng.normal(0, 0.5, size=(3, 64))
    inputs = rng.normal(size=(4, 200, 2))
    cpu = nb.simulate(c, tonic, inputs=inputs, method=method)
    gpu = nb.simulate(c, tonic, inputs=inputs, method=method, device="cuda")
    np.testing.assert_allclose(gpu["x"].values, cpu["x"].values, rtol=0, atol=1e-10)
    np.testing.assert_allclose(gpu["z"].values, cpu["z"].values, rtol=0, atol=1e-10)


def test_float32_simulation_on_cuda_is_close(circuit):
    tonic = np.full((2, 64), 0.1)
    cpu = nb.simulate(circuit, tonic, duration=500.0, n_trials=8)
    gpu = nb.simulate(circuit, tonic, duration=500.0, n_trials=8, device="cuda", dtype="float32")
    assert gpu["x"].dtype == np.float32
    np.testing.assert_allclose(gpu["x"].values, cpu["x"].values, rtol=0, atol=1e-3)


def test_training_on_cuda_matches_cpu_with_and_without_checkpointing():
    task = nb.make_task("sine", dt=5.0, frequencies_hz=(5.0, 10.0), duration_ms=200.0)
    c = nb.Circuit.random(64, n_outputs=1, g=1.3, seed=2)
    kw = dict(steps=5, lr=0.05, batch_size=2, dtype="float64", progress=False)
    cpu = nb.train(c, task, **kw)
    gpu = nb.train(c, task, **kw, device="cuda")
    gpu_ck = nb.train(c, task, **kw, device="cuda", checkpoint_chunk=8)
    np.testing.assert_allclose(gpu.tonic, cpu.tonic, rtol=0, atol=1e-9)
    np.testing.assert_allclose(gpu.loss, cpu.loss, rtol=1e-9)
    np.testing.assert_allclose(gpu_ck.tonic, gpu.tonic, rtol=0, atol=1e-12)
    assert gpu.hashes_before == gpu.hashes_after


def test_run_and_sweep_on_cuda(tiny_config, tmp_path):
    config = nb.load_config(tiny_config)
    out = nb.run(config, out=tmp_path / "r", progress=False, device="cuda")
    assert out.results.attrs["device"].startswith("cuda")
    cpu = nb.run(config, progress=False)
    np.testing.assert_allclose(out.results["tonic"].values, cpu.results["tonic"].values, rtol=0, atol=1e-5)
    s = nb.run_sweep(config, {"seed": [1, 2]}, out=tmp_path / "s", scheduler="sync", device="cuda", progress=False)
    assert s.failed == ()
    assert nb.open_sweep(tmp_path / "s").attrs["n_ok"] == 2


def test_analyses_on_cuda_match_cpu():
    from neurobias.analysis import classify_states, find_fixed_points, multistable_chain
    from neurobias.analysis.attractors import selection_vectors
    from neurobias.analysis.fixed_point_comparison import compare_fixed_point_structure
    from neurobias.analysis.gain import effective_gain

    ref = multistable_chain(n_units=8, n_core=2, seed=0, form="rate")
    bank = np.stack([ref.tonic, ref.tonic + 0.05])
    c = ref.circuit.replace(W_in=np.random.default_rng(0).normal(size=(8, 1)), input_names=["u"])
    fp = find_fixed_points(c, bank, n_candidates=32, explore_rounds=0)  # no eigenvectors: they are recomputed
    for name, call in {
        "gain": lambda dev: effective_gain(c, bank, states=nb.simulate(c, bank, duration=50.0), device=dev),
        "structure": lambda dev: compare_fixed_point_structure(fp, circuit=c, tonic=bank, device=dev),
        "selection": lambda dev: selection_vectors(c, bank, fp, device=dev),
        "classify": lambda dev: classify_states(c, bank, np.stack([ref.x, ref.x]), device=dev),
    }.items():
        cpu, gpu = call("cpu"), call("cuda")
        for v in cpu.data_vars:
            if np.issubdtype(cpu[v].dtype, np.floating):
                np.testing.assert_allclose(gpu[v].values, cpu[v].values, rtol=1e-9, atol=1e-10, err_msg=name)
            else:
                np.testing.assert_array_equal(gpu[v].values, cpu[v].values, err_msg=name)
def test_tonic_fit_on_cuda_matches_cpu():
    from neurobias.fitting.synthetic import synthetic_recording

    c = nb.Circuit.random(24, n_inputs=0, n_outputs=0, g=1.2, tau=20.0, seed=3)
    rng = np.random.default_rng(4)
    rec = synthetic_recording(c, rng.normal(0, 0.6, size=(3, 24)), x0=rng.normal(0, 0.6, size=(3, 24)),
                              units=np.arange(8), n_time=12, bin_ms=5.0)
    kw = dict(circuit=c, units=np.arange(8), steps=40, lr=0.05, n_shuffles=0, progress=False)
    cpu = nb.TonicFit(**kw).fit(rec)
    gpu = nb.TonicFit(device="cuda", **kw).fit(rec)
    np.testing.assert_allclose(gpu.loss_, cpu.loss_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gpu.tonic_, cpu.tonic_, rtol=0, atol=1e-9)
    np.testing.assert_allclose(gpu.x0_, cpu.x0_, rtol=0, atol=1e-9)
    assert gpu.best_step_ == cpu.best_step_
