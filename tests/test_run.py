"""End-to-end tests of ``neurobias.run`` and the files a run writes.

Every run here is tiny (16 units, a few 5-10 ms steps of 50-100 ms trials,
5-12 optimiser steps); see ``tests/conftest.py``.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import neurobias
from neurobias.config import apply_overrides, config_from_toml, load_config
from neurobias.io import read_dataset, sha256_array
from neurobias.io.checkpoint import load_checkpoint
from neurobias.io.circuit import WEIGHT_NAMES
from neurobias.tasks import Task

REPO = Path(__file__).resolve().parents[1]
FIGURES = ("loss", "outputs", "tonic", "rates")


# --------------------------------------------------------------------------- files of one run
def test_run_writes_circuit_results_and_figures(tiny_run):
    out = tiny_run["dir"]
    assert tiny_run["rc"] == 0
    assert (out / "circuit.nc").is_file()
    assert (out / "results.nc").is_file()
    for name in FIGURES:
        png = out / "figures" / f"{name}.png"
        assert png.is_file(), png
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # no temporary files of the atomic writes left behind
    leftovers = [p.name for p in out.rglob(".*")]
    assert leftovers == []


def test_run_stdout_names_results_and_figures(tiny_run):
    stdout = tiny_run["stdout"]
    out = tiny_run["dir"]
    assert f"results: {out / 'results.nc'}" in stdout
    assert f"circuit: {out / 'circuit.nc'}" in stdout
    assert f"figures: {out / 'figures'}" in stdout
    for name in FIGURES:
        assert f"{name}.png" in stdout
    for ctx in ("sine_20Hz", "sine_40Hz"):
        assert ctx in stdout  # NMSE per context


@pytest.mark.parametrize("name", ["circuit.nc", "results.nc"])
def test_files_open_with_plain_xarray(tiny_run, name):
    with xr.open_dataset(tiny_run["dir"] / name, engine="h5netcdf") as ds:
        ds.load()
        assert ds.attrs["kind"] == name.removesuffix(".nc")
        assert ds.attrs["neurobias_version"] == neurobias.__version__
        assert int(ds.attrs["schema_version"]) >= 1
        assert int(ds.attrs["seed"]) == 7
        assert isinstance(ds.attrs["config"], str)


def test_files_open_with_neurobias(tiny_run):
    out = tiny_run["dir"]
    circuit = neurobias.open_circuit(out / "circuit.nc")
    assert isinstance(circuit, neurobias.Circuit)
    assert circuit.n_units == 16
    assert circuit.tau == 10.0
    assert circuit.seed == 7
    res = neurobias.open_results(out / "results.nc")
    assert list(res["context"].values) == ["sine_20Hz", "sine_40Hz"]
    assert res["tonic"].dims == ("context", "unit")
    assert res["tonic"].shape == (2, 16)
    assert res["loss"].dims == ("step",) and res.sizes["step"] == 5
    assert res["x"].dims == ("context", "trial", "time", "unit")
    assert res["z"].dims == ("context", "trial", "time", "output")
    assert res.sizes["trial"] == 2
    assert res["nmse"].dims == ("context",)
    assert np.all(np.isfinite(res["nmse"].values))
    assert res["time"].values[-1] == pytest.approx(50.0)
    assert res.attrs["training_mode"] == "bias"
    assert int(res.attrs["steps_done"]) == 5
    assert res.attrs["task"] == "sine"
    assert res.attrs["neurobias_version"] == neurobias.__version__
    assert int(res.attrs["schema_version"]) == neurobias.io.SCHEMA_VERSION


def test_results_config_round_trips_to_the_resolved_config(tiny_run):
    expected = apply_overrides(load_config(tiny_run["config"]), ["output.figures=true"])
    for name in ("results.nc", "circuit.nc"):
        ds = read_dataset(tiny_run["dir"] / name)
        cfg = config_from_toml(str(ds.attrs["config"]))
        assert cfg == expected, name
        assert int(ds.attrs["seed"]) == cfg.seed == 7


def test_bias_mode_weight_hashes_unchanged_and_match_circuit_file(tiny_run):
    """One fingerprint per weight: results.nc's before/after = circuit.nc's = sha256 of the float64 values."""
    res = read_dataset(tiny_run["dir"] / "results.nc", kind="results")
    circ = read_dataset(tiny_run["dir"] / "circuit.nc", kind="circuit")
    frozen = str(res.attrs["frozen_weights"]).split(",")
    assert sorted(frozen) == sorted(WEIGHT_NAMES)  # bias mode: every weight is frozen
    for name in WEIGHT_NAMES:
        before = res.attrs[f"weights_sha256_before_{name}"]
        assert before == res.attrs[f"weights_sha256_after_{name}"], name
        # independent of the code under test: hashlib over the little-endian float64 bytes of the stored array
        w = circ[name].values
        digest = hashlib.sha256(np.ascontiguousarray(w, dtype="<f8").tobytes()).hexdigest()
        assert before == circ.attrs[f"sha256_{name}"] == res.attrs[f"circuit_sha256_{name}"] == digest, name
    # the training copy's (float32) fingerprint is internal: no other sha256 of the weights is written
    assert not [k for k in res.attrs if str(k).startswith(("sha256_before_", "sha256_after_"))]


def test_float64_training_hashes_equal_circuit_file_hashes(tiny_config, tmp_path):
    cfg = apply_overrides(load_config(tiny_config), ["training.dtype=float64", "training.steps=3"])
    out = neurobias.run(cfg, out=tmp_path / "out", progress=False)
    res = read_dataset(out.files["results"], kind="results")
    circ = read_dataset(out.files["circuit"], kind="circuit")
    for name in WEIGHT_NAMES:
        assert res.attrs[f"weights_sha256_before_{name}"] == res.attrs[f"weights_sha256_after_{name}"]
        assert res.attrs[f"weights_sha256_after_{name}"] == circ.attrs[f"sha256_{name}"], name
    # the trained circuit is the initial one, byte for byte
    assert np.array_equal(out.circuit.W_rec, circ["W_rec"].values)


def test_full_mode_fingerprints_differ_before_and_after_training(tiny_config, tmp_path):
    """Trained weights: the before fingerprint is the initial circuit's, the after one circuit.nc's."""
    cfg = apply_overrides(load_config(tiny_config), ["training.mode=full", "training.steps=2"])
    out = neurobias.run(cfg, out=tmp_path / "out", progress=False)
    res = read_dataset(out.files["results"], kind="results")
    circ = read_dataset(out.files["circuit"], kind="circuit")
    from neurobias.workflows.run import build_circuit, build_task

    initial = build_circuit(cfg, build_task(cfg))
    for name in WEIGHT_NAMES:
        w0 = getattr(initial, name)
        assert res.attrs[f"weights_sha256_before_{name}"] == hashlib.sha256(
            np.ascontiguousarray(w0, dtype="<f8").tobytes()).hexdigest(), name
        assert res.attrs[f"weights_sha256_after_{name}"] == circ.attrs[f"sha256_{name}"], name
    assert res.attrs["weights_sha256_before_W_rec"] != res.attrs["weights_sha256_after_W_rec"]


def test_checkpoint_chunk_from_the_config_changes_memory_not_results(tiny_config, tmp_path, run_cli):
    """`training.checkpoint_chunk` reaches `train`: in float64 the tonic inputs and losses equal those without."""
    sets = ["--set", "training.dtype=\"float64\"", "--set", "training.steps=4", "--set", "output.figures=false"]
    rc, _, err = run_cli(["run", tiny_config, "--out", tmp_path / "plain", "--no-progress", *sets])
    assert rc == 0, err
    rc, _, err = run_cli(["run", tiny_config, "--out", tmp_path / "chunked", "--no-progress", *sets,
                          "--set", "training.checkpoint_chunk=3"])
    assert rc == 0, err
    plain = read_dataset(tmp_path / "plain" / "results.nc", kind="results")
    chunked = read_dataset(tmp_path / "chunked" / "results.nc", kind="results")
    assert "checkpoint_chunk = 3" in chunked.attrs["config"]
    np.testing.assert_allclose(chunked["tonic"].values, plain["tonic"].values, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(chunked["loss"].values, plain["loss"].values, rtol=1e-12, atol=0)
    assert not np.array_equal(plain["tonic"].values, 0 * plain["tonic"].values)  # training did move them
    rc, _, err = run_cli(["run", tiny_config, "--out", tmp_path / "bad", "--no-progress",
                          "--set", "training.checkpoint_chunk=-1"])
    assert rc == 2 and "training.checkpoint_chunk" in err and err.count("\n") == 1, err


# --------------------------------------------------------------------------- determinism
def test_same_seed_identical_files_and_other_seed_differs(tiny_config, tmp_path, run_cli, same_arrays):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for out in (a, b):
        rc, _, err = run_cli(["run", tiny_config, "--out", out, "--no-progress"])
        assert rc == 0, err
    for name, kind in (("results.nc", "results"), ("circuit.nc", "circuit")):
        same_arrays(a / name, b / name, kind=kind)
    ra, rb = read_dataset(a / "results.nc"), read_dataset(b / "results.nc")
    assert ra.attrs["config"] == rb.attrs["config"]
    assert ra.attrs["weights_sha256_before_W_rec"] == rb.attrs["weights_sha256_before_W_rec"]

    rc, _, err = run_cli(["run", tiny_config, "--out", c, "--no-progress", "--seed", "8"])
    assert rc == 0, err
    wa = read_dataset(a / "circuit.nc")["W_rec"].values
    wc = read_dataset(c / "circuit.nc")["W_rec"].values
    assert wa.shape == wc.shape
    assert not np.array_equal(wa, wc)
    assert int(read_dataset(c / "results.nc").attrs["seed"]) == 8


def test_api_run_matches_cli(tiny_config, tmp_path, run_cli, same_arrays):
    rc, _, err = run_cli(["run", tiny_config, "--out", tmp_path / "cli", "--no-progress",
                          "--set", "training.steps=4", "--seed", "3"])
    assert rc == 0, err
    cfg = apply_overrides(load_config(tiny_config), ["training.steps=4", "seed=3"])
    output = neurobias.run(cfg, out=tmp_path / "api", progress=False)
    assert output.out == tmp_path / "api"
    assert output.files["results"] == tmp_path / "api" / "results.nc"
    assert not any(k.startswith("figure_") for k in output.files)  # figures = false
    same_arrays(tmp_path / "cli" / "results.nc", tmp_path / "api" / "results.nc", kind="results")
    same_arrays(tmp_path / "cli" / "circuit.nc", tmp_path / "api" / "circuit.nc", kind="circuit")
    # the returned Dataset is what was written
    on_disk = read_dataset(tmp_path / "api" / "results.nc")
    np.testing.assert_array_equal(output.results["tonic"].values, on_disk["tonic"].values)
    np.testing.assert_array_equal(output.results["loss"].values, on_disk["loss"].values)


def test_neurobias_run_is_callable_after_importing_the_run_workflow(tmp_path):
    # the CLI imports the implementation module; the public verb `neurobias.run` must stay the function
    import neurobias.workflows.run  # noqa: F401

    assert callable(neurobias.run)
    with pytest.raises(neurobias.InputError, match="RunConfig"):
        neurobias.run("not a config", out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_api_run_without_out_writes_nothing(tiny_config, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = apply_overrides(load_config(tiny_config), ["training.steps=2"])
    output = neurobias.run(cfg, progress=False)
    assert output.out is None and output.files == {}
    assert output.results.sizes["step"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml"]


def test_api_run_rejects_non_config(tmp_path):
    with pytest.raises(neurobias.InputError, match="RunConfig"):
        neurobias.run({"seed": 0}, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- resume
def test_resume_after_interruption_equals_uninterrupted_run(tiny_config, tmp_path, run_cli, monkeypatch, same_arrays):
    sets = ["--set", "training.steps=12", "--set", "training.checkpoint_every=4", "--no-progress"]
    rc, _, err = run_cli(["run", tiny_config, "--out", tmp_path / "A", *sets])
    assert rc == 0, err

    # B: interrupted (as by Ctrl-C) while drawing the batch of step 6, i.e. after the step-4 checkpoint
    original = Task.sample_all
    calls = {"n": 0}

    def interrupting(self, batch, rng):
        calls["n"] += 1
        if calls["n"] == 7:
            raise KeyboardInterrupt
        return original(self, batch, rng)

    monkeypatch.setattr(Task, "sample_all", interrupting)
    b = tmp_path / "B"
    rc, out, err = run_cli(["run", tiny_config, "--out", b, *sets])
    assert rc == 130
    assert "--resume" in err and "Traceback" not in err
    assert calls["n"] == 7
    assert (b / "checkpoint.npz").is_file()
    assert not (b / "results.nc").exists() and not (b / "circuit.nc").exists()
    arrays, meta = load_checkpoint(b / "checkpoint.npz")
    assert meta["step"] == 4 and not meta["finished"]
    assert arrays["loss"].shape == (4,)

    # resume: continues from step 4 (8 training batches + 1 evaluation), not from scratch
    resumed_calls = {"n": 0}

    def counting(self, batch, rng):
        resumed_calls["n"] += 1
        return original(self, batch, rng)

    monkeypatch.setattr(Task, "sample_all", counting)
    rc, out, err = run_cli(["run", tiny_config, "--out", b, "--resume", *sets])
    assert rc == 0, err
    assert resumed_calls["n"] == (12 - 4) + 1 + 1  # and one batch scoring the final parameters
    same_arrays(tmp_path / "A" / "results.nc", b / "results.nc", kind="results")
    same_arrays(tmp_path / "A" / "circuit.nc", b / "circuit.nc", kind="circuit")
    ra, rb = read_dataset(tmp_path / "A" / "results.nc"), read_dataset(b / "results.nc")
    assert rb.sizes["step"] == 12 and int(rb.attrs["steps_done"]) == 12
    np.testing.assert_array_equal(ra["loss"].values, rb["loss"].values)
    np.testing.assert_array_equal(ra["tonic"].values, rb["tonic"].values)
    np.testing.assert_array_equal(ra["z"].values, rb["z"].values)


def test_resume_refuses_checkpoint_of_another_config(tiny_config, tmp_path, run_cli):
    out = tmp_path / "out"
    rc, _, err = run_cli(["run", tiny_config, "--out", out, "--no-progress", "--set", "training.steps=2"])
    assert rc == 0, err
    rc, _, err = run_cli(["run", tiny_config, "--out", out, "--no-progress", "--set", "training.steps=3", "--resume"])
    assert rc == 2
    assert err.startswith("neurobias: error: checkpoint") and "another config" in err
    assert len(err.splitlines()) == 1


# --------------------------------------------------------------------------- every task
TASK_SETTINGS: dict[str, list[str]] = {
    "sine": ["simulation.dt=5.0", "task.frequencies_hz=[20.0, 40.0]", "task.duration_ms=50.0"],
    "context_integration": ["simulation.dt=10.0", "task.fixation_ms=20.0", "task.stimulus_ms=50.0",
                            "task.decision_ms=20.0", "task.coherences=[-0.5, 0.5]"],
    "flipflop": ["simulation.dt=10.0", "task.n_bits=2", "task.duration_ms=100.0", "task.pulse_ms=10.0"],
}


@pytest.mark.parametrize("task_name", neurobias.available_tasks())
@pytest.mark.filterwarnings("ignore::neurobias.errors.ConvergenceWarning")  # 3 steps need not lower the loss
def test_every_registered_task_runs_end_to_end(task_name, tmp_path):
    from neurobias.config import default_config

    sets = [f"task.name={task_name}", *TASK_SETTINGS.get(task_name, []), "circuit.n_units=16", "training.steps=3",
            "training.batch_size=2", "output.n_trials=2", "output.figures=false"]
    cfg = apply_overrides(default_config(), sets)
    task = cfg.make_task()
    output = neurobias.run(cfg, out=tmp_path / "out", progress=False)
    res = neurobias.open_results(output.files["results"])
    assert tuple(str(c) for c in res["context"].values) == tuple(task.contexts)
    assert res.attrs["task"] == task_name
    assert res.sizes["input"] == task.n_inputs and res.sizes["output"] == task.n_outputs
    assert res["tonic"].shape == (task.n_contexts, 16)
    assert res.sizes["step"] == 3
    assert np.all(np.isfinite(res["loss"].values))
    assert np.all(np.isfinite(res["z"].values))
    for var in ("target", "mask", "inputs"):
        assert res[var].sizes["context"] == task.n_contexts
    # the conditions table travels with the results
    for name, values in task.conditions_table().items():
        assert list(res[f"condition_{name}"].values) == list(values)
    circuit = neurobias.open_circuit(output.files["circuit"])
    assert circuit.n_inputs == task.n_inputs and circuit.n_outputs == task.n_outputs


# --------------------------------------------------------------------------- the demo config
def test_demo_config_loads_and_validates():
    cfg = load_config(REPO / "models" / "demo.toml")
    assert cfg.training.mode == "bias"
    assert cfg.circuit.n_units >= 256
    assert cfg.make_task().n_contexts >= 3
    # its resolved form round-trips
    assert config_from_toml(neurobias.config_to_toml(cfg)) == cfg


# three steps at the demo's learning rate from random tonic inputs may end above the start: the run then warns and
# keeps the best step's parameters (tested in test_optimise.py); here only that the config runs end to end matters
@pytest.mark.filterwarnings("ignore::neurobias.errors.ConvergenceWarning")
def test_demo_config_runs_a_few_steps(tmp_path, run_cli):
    rc, out, err = run_cli(["run", REPO / "models" / "demo.toml", "--out", tmp_path / "demo", "--no-progress",
                            "--set", "training.steps=3", "--set", "output.figures=false"])
    assert rc == 0, err
    res = neurobias.open_results(tmp_path / "demo" / "results.nc")
    assert res.sizes["context"] >= 3 and res.sizes["unit"] >= 256
    assert int(res.attrs["steps_done"]) == 3
    assert all(res.attrs[f"weights_sha256_before_{n}"] == res.attrs[f"weights_sha256_after_{n}"]
               for n in WEIGHT_NAMES)
    assert not (tmp_path / "demo" / "figures").exists()
