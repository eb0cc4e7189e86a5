"""`train(..., restarts=k)`: tonic banks trained side by side, each context keeping its best restart."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import neurobias as nb
from neurobias.config.run import RunConfig, TonicConfig, TrainingConfig
from neurobias.errors import ConfigError, InputError
from neurobias.training.train import _clip_each


@pytest.fixture(scope="module")
def setup() -> tuple[nb.Task, nb.Circuit]:
    task = nb.make_task("sine", dt=5.0, frequencies_hz=[1.0, 2.0, 3.0], duration_ms=300.0)
    circuit = nb.Circuit.random(24, n_inputs=task.n_inputs, n_outputs=task.n_outputs, g=1.3, seed=4)
    return task, circuit


KW = dict(mode="bias", steps=25, lr=0.05, batch_size=1, init_std=0.2, dtype="float64", progress=False, seed=7,
          schedule="constant")


def test_restart_zero_takes_the_steps_of_a_single_run(setup):
    task, circuit = setup
    multi = nb.train(circuit, task, restarts=3, **KW)
    kept = multi.best_step
    assert kept > 0
    # a single run stopped at the kept step holds restart 0's parameters of that step (its loss still falls there)
    single = nb.train(circuit, task, **{**KW, "steps": kept})
    assert single.best_step == kept
    assert single.restart_loss.shape == (1, 3) and multi.restart_loss.shape == (3, 3)
    np.testing.assert_allclose(multi.restart_loss[0], single.restart_loss[0], rtol=1e-9, atol=0)
    for c in np.flatnonzero(multi.kept_restart == 0):
        np.testing.assert_allclose(multi.tonic[c], single.tonic[c], rtol=1e-9, atol=1e-12)


def test_each_context_keeps_its_best_restart_and_the_kept_tonic_scores_as_recorded(setup):
    task, circuit = setup
    result = nb.train(circuit, task, restarts=4, **KW)
    np.testing.assert_array_equal(result.kept_restart, np.argmin(result.restart_loss, axis=0))
    assert set(result.kept_restart.tolist()) <= set(range(4)) and result.kept_restart.dtype.kind == "i"
    # ground truth outside train(): simulate the kept tonic inputs and score them by hand (the task is deterministic)
    batch = task.sample_all(1, np.random.default_rng(0))
    ds = nb.simulate(circuit, result.tonic, inputs=batch.inputs, dt=task.dt, contexts=task.contexts,
                     dtype="float64", engine="torch")
    mse = ((batch.mask * (ds["z"].values - batch.targets) ** 2).sum(axis=(1, 2, 3))
           / batch.mask.sum(axis=(1, 2, 3)))
    np.testing.assert_allclose(mse, result.restart_loss.min(axis=0), rtol=1e-8)


def test_a_finished_run_resumed_scores_its_restarts_as_the_run_did(setup, tmp_path):
    """Resuming a finished checkpoint takes no step: the kept step's errors are measured again, and agree."""
    task, circuit = setup
    path = tmp_path / "ck.npz"
    first = nb.train(circuit, task, restarts=3, checkpoint_path=path, **KW)
    again = nb.train(circuit, task, restarts=3, checkpoint_path=path, resume=True, **KW)
    assert again.best_step == first.best_step
    np.testing.assert_allclose(again.restart_loss, first.restart_loss, rtol=1e-12)
    np.testing.assert_array_equal(again.kept_restart, first.kept_restart)
    np.testing.assert_array_equal(again.tonic, first.tonic)


def test_more_restarts_never_score_worse_at_the_first_step(setup):
    task, circuit = setup
    one = nb.train(circuit, task, **{**KW, "steps": 1})
    four = nb.train(circuit, task, restarts=4, **{**KW, "steps": 1})
    # step 0: restart 0 is the single run's start; the combination takes the best of four in each context
    assert four.loss[0] <= one.loss[0] + 1e-15


def test_clipping_acts_on_each_restart_alone():
    rng = np.random.default_rng(1)
    grad = torch.tensor(rng.normal(size=(3 * 2, 5)) * np.array([[10.0], [10.0], [0.01], [0.01], [3.0], [3.0]]))
    clipped = _clip_each(grad, 3, 1.0)
    for r in range(3):
        block = grad[2 * r:2 * r + 2].clone().requires_grad_(False)
        p = torch.nn.Parameter(torch.zeros_like(block))
        p.grad = block.clone()
        torch.nn.utils.clip_grad_norm_([p], 1.0)  # torch's own clipping of that restart alone
        np.testing.assert_allclose(clipped[2 * r:2 * r + 2].numpy(), p.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("options, name", [
    (dict(restarts=0), "restarts"),
    (dict(restarts=2, mode="full"), "mode"),
    (dict(restarts=2, init_std=0.0), "init_std"),
    (dict(restarts=2, shared_baseline=True), "shared_baseline"),
])
def test_bad_restarts_name_the_argument(setup, options, name):
    task, circuit = setup
    with pytest.raises(InputError, match=f"`{name}`"):
        nb.train(circuit, task, **{**KW, "steps": 1, **options})


def test_config_checks_restarts_against_the_other_sections():
    with pytest.raises(ConfigError, match="`tonic.init_std`.*training.restarts"):
        RunConfig(training=TrainingConfig(restarts=2))
    with pytest.raises(ConfigError, match="`training.mode`"):
        RunConfig(training=TrainingConfig(restarts=2, mode="full"), tonic=TonicConfig(init_std=0.1))
    assert RunConfig(training=TrainingConfig(restarts=2), tonic=TonicConfig(init_std=0.1)).training.restarts == 2


def test_a_run_with_restarts_writes_which_restart_each_context_kept(tmp_path, run_cli):
    demo = Path(__file__).resolve().parents[1] / "models" / "demo.toml"
    rc, _, err = run_cli(["run", demo, "--out", tmp_path / "r", "--no-progress", "--set", "circuit.n_units=32",
                          "--set", "training.steps=3", "--set", "training.restarts=2", "--set", "tonic.init_std=0.1",
                          "--set", "output.figures=false"])
    assert rc == 0, err
    res = nb.open_results(tmp_path / "r" / "results.nc")
    assert res["restart_loss"].dims == ("restart", "context") and res["restart_loss"].shape == (2, 3)
    np.testing.assert_array_equal(res["kept_restart"].values, res["restart_loss"].argmin("restart").values)
    rc, _, err = run_cli(["run", demo, "--out", tmp_path / "bad", "--no-progress", "--set", "training.restarts=2",
                          "--set", "tonic.init_std=0"])
    assert rc == 2 and "tonic.init_std" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bad").exists()
