"""Provenance of the recording-fit and sweep files: each says what produced it, enough to redo it.

``fit.nc`` and ``comparison.nc`` of ``neurobias fit-recordings`` /
``compare-recordings`` carry ``neurobias_version``, the resolved fit config as
TOML, ``run_seed``, the sha256 of the fitted circuit's weights (equal to the fit
directory's ``circuit.nc``) and the sha256 of the fitted recording's ``rate``
(``recording.nc``).  A sweep's ``sweep.json`` carries the base config, the grid
and the neurobias version, and :func:`neurobias.open_sweep` passes them on;
each cell is a run directory whose files carry their own provenance.
"""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

import neurobias
from neurobias.config.fit import fit_config_to_toml, load_fit_config
from neurobias.fitting.synthetic import synthetic_recording
from neurobias.io import read_dataset, write_dataset
from neurobias.io.circuit import WEIGHT_NAMES
from neurobias.io.hashing import sha256_array

TINY_FIT = """\
seed = 5
[preprocess]
trim = true
[fit]
n_units = 12
steps = 3
holdout_block = 3
n_shuffles = 3
[compare]
n_shuffles = 3
dsa_shuffles = 0
metrics = ["r2", "cca"]
"""


@pytest.fixture(scope="module")
def fit_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny synthetic recording fitted and compared by the CLI (in process)."""
    from neurobias import Circuit
    from neurobias.cli import main

    base = tmp_path_factory.mktemp("provenance_fit")
    circuit = Circuit.random(10, n_inputs=0, n_outputs=0, g=1.2, tau=20.0, seed=1)
    rng = np.random.default_rng(1)
    rec = synthetic_recording(circuit, rng.normal(0, 0.6, (3, 10)), x0=rng.normal(0, 0.6, (3, 10)),
                              units=np.arange(4), n_time=10, bin_ms=5.0)
    write_dataset(rec, base / "rec.nc", kind="recording")
    (base / "fit.toml").write_text(TINY_FIT, encoding="utf-8")
    out = base / "fit"
    assert main(["fit-recordings", str(base / "rec.nc"), "--config", str(base / "fit.toml"), "--out", str(out),
                 "--no-progress", "--no-figures"]) == 0
    assert main(["compare-recordings", str(out), "--no-progress", "--no-figures"]) == 0
    return out


@pytest.mark.parametrize("name,kind", [("fit.nc", "fit"), ("comparison.nc", "recording_comparison")])
def test_fit_files_carry_version_config_seed_and_hashes(fit_dir: Path, name: str, kind: str) -> None:
    ds = read_dataset(fit_dir / name, kind=kind)
    circuit_file = read_dataset(fit_dir / "circuit.nc", kind="circuit")
    recording = read_dataset(fit_dir / "recording.nc", kind="recording")
    assert ds.attrs["neurobias_version"] == neurobias.__version__
    # the config is the resolved fit config: it reads back to the same config, with the seed
    config = load_fit_config(None, text=str(ds.attrs["config"]))
    assert config["seed"] == 5 and config["fit"]["n_units"] == 12 and config["fit"]["steps"] == 3
    assert fit_config_to_toml(config) == ds.attrs["config"]
    assert int(ds.attrs["run_seed"]) == config["seed"]
    assert tomllib.loads(str(circuit_file.attrs["config"])) == tomllib.loads(str(ds.attrs["config"]))
    for weight in WEIGHT_NAMES:
        digest = ds.attrs[f"circuit_sha256_{weight}"]
        assert digest == circuit_file.attrs[f"sha256_{weight}"], weight
        assert digest == sha256_array(circuit_file[weight].values), weight
    assert ds.attrs["recording_sha256"] == sha256_array(recording["rate"].values)


def test_fit_names_the_recording_it_was_given(fit_dir: Path) -> None:
    """``source_recording_sha256`` is the fingerprint of RECORDING's rate as read (before preprocessing)."""
    fit = read_dataset(fit_dir / "fit.nc", kind="fit")
    source = read_dataset(fit_dir.parent / "rec.nc", kind="recording")
    assert fit.attrs["source_recording_sha256"] == sha256_array(source["rate"].values)
    # recording.nc (what was fitted, after [preprocess]) says how it was made from it
    fitted = read_dataset(fit_dir / "recording.nc", kind="recording")
    assert fitted.attrs["source_recording_sha256"] == fit.attrs["source_recording_sha256"]
    assert fitted.attrs["config"] == fit.attrs["config"] and fitted.attrs["run_seed"] == 5
    assert fitted.attrs["neurobias_version"] == neurobias.__version__


def test_a_lone_fit_file_reproduces_its_fit(fit_dir: Path, tmp_path: Path, run_cli) -> None:
    """Only fit.nc and the recording are left: its config and seed refit the same circuit and tonic inputs."""
    fit = read_dataset(fit_dir / "fit.nc", kind="fit")
    (tmp_path / "fit.toml").write_text(str(fit.attrs["config"]), encoding="utf-8")
    again = tmp_path / "again"
    rc, _, err = run_cli(["fit-recordings", fit_dir.parent / "rec.nc", "--config", tmp_path / "fit.toml", "--out",
                          again, "--no-progress", "--no-figures", "--seed", int(fit.attrs["run_seed"])])
    assert rc == 0, err
    refit = read_dataset(again / "fit.nc", kind="fit")
    circuit = read_dataset(again / "circuit.nc", kind="circuit")
    for weight in WEIGHT_NAMES:
        assert circuit.attrs[f"sha256_{weight}"] == fit.attrs[f"circuit_sha256_{weight}"], weight
    assert refit.attrs["recording_sha256"] == fit.attrs["recording_sha256"]
    assert sha256_array(refit["tonic"].values) == sha256_array(fit["tonic"].values)


def test_the_hashes_tell_another_circuit_or_recording_apart(fit_dir: Path, tmp_path: Path, run_cli) -> None:
    fit = read_dataset(fit_dir / "fit.nc", kind="fit")
    (tmp_path / "fit.toml").write_text(str(fit.attrs["config"]), encoding="utf-8")
    other = tmp_path / "other"
    rc, _, err = run_cli(["fit-recordings", fit_dir.parent / "rec.nc", "--config", tmp_path / "fit.toml", "--out",
                          other, "--no-progress", "--no-figures", "--seed", "6", "--set",
                          "preprocess.soft_normalize=0.5"])
    assert rc == 0, err
    refit = read_dataset(other / "fit.nc", kind="fit")
    assert refit.attrs["run_seed"] == 6
    assert refit.attrs["circuit_sha256_W_rec"] != fit.attrs["circuit_sha256_W_rec"]
    assert refit.attrs["recording_sha256"] != fit.attrs["recording_sha256"]  # preprocessed otherwise
    assert refit.attrs["source_recording_sha256"] == fit.attrs["source_recording_sha256"]  # the same file


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import write_tiny_config
    from neurobias.cli import main

    base = tmp_path_factory.mktemp("provenance_sweep")
    config = write_tiny_config(base / "tiny.toml")
    out = base / "sweep"
    assert main(["sweep", str(config), "--grid", "seed=1,2", "--out", str(out), "--scheduler", "sync",
                 "--no-progress", "--set", "training.steps=2"]) == 0
    return out


def test_sweep_manifest_and_open_sweep_carry_config_grid_and_version(sweep_dir: Path) -> None:
    from neurobias.config import config_from_toml

    manifest = json.loads((sweep_dir / "sweep.json").read_text(encoding="utf-8"))
    assert manifest["neurobias_version"] == neurobias.__version__
    assert manifest["grid"] == {"seed": ["1", "2"]}
    base = config_from_toml(manifest["config"])
    assert base.seed == 7 and base.training.steps == 2  # TINY_TOML's seed; the --set is part of the base config
    ds = neurobias.open_sweep(sweep_dir)
    assert ds.attrs["config"] == manifest["config"]
    assert json.loads(ds.attrs["grid"]) == manifest["grid"]
    assert ds.attrs["sweep_neurobias_version"] == neurobias.__version__


def test_every_sweep_cell_is_a_run_with_provenance(sweep_dir: Path) -> None:
    from neurobias.config import config_from_toml

    ds = neurobias.open_sweep(sweep_dir)
    assert ds.attrs["n_ok"] == 2
    for seed, cell in zip(ds["seed"].values, ds["cell"].values):
        results = read_dataset(sweep_dir / "cells" / str(cell) / "results.nc", kind="results")
        circuit = read_dataset(sweep_dir / "cells" / str(cell) / "circuit.nc", kind="circuit")
        assert results.attrs["neurobias_version"] == neurobias.__version__
        assert config_from_toml(str(results.attrs["config"])).seed == int(seed) == int(results.attrs["run_seed"])
        for weight in WEIGHT_NAMES:
            assert results.attrs[f"circuit_sha256_{weight}"] == circuit.attrs[f"sha256_{weight}"], weight
        assert results.attrs["tonic_sha256"] == sha256_array(results["tonic"].values)


@pytest.mark.filterwarnings("ignore::neurobias.errors.ConvergenceWarning")  # 2 steps need not lower the loss
def test_fit_recordings_api_carries_the_same_provenance(fit_dir: Path) -> None:
    from neurobias import Circuit
    from neurobias.errors import InputError
    from neurobias.fitting import fit_recordings
    from neurobias.io.circuit import weight_hashes

    rec = read_dataset(fit_dir / "recording.nc", kind="recording")
    circuit = Circuit.random(8, n_inputs=0, n_outputs=0, seed=2)
    ds = fit_recordings(rec, circuit=circuit, steps=2, seed=3, n_shuffles=2, holdout_block=3, config="seed = 3\n")
    assert ds.attrs["run_seed"] == 3 and ds.attrs["config"] == "seed = 3\n"
    assert ds.attrs["recording_sha256"] == sha256_array(rec["rate"].values)
    for weight, digest in weight_hashes(circuit).items():
        if weight in ("W_rec", "W_in"):  # fixed; the readout is drawn by the fit
            assert ds.attrs[f"circuit_sha256_{weight}"] == digest, weight
    with pytest.raises(InputError, match="`config` must be a str"):
        fit_recordings(rec, circuit=circuit, steps=2, config=None)  # type: ignore[arg-type]
