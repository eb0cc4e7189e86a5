"""Provenance: every file a run and its analyses write says what produced it, and that is enough to redo it.

Each public result file carries ``neurobias_version``, the resolved config as
TOML text, the run's seed and the sha256 fingerprints of the circuit's weights
(equal to those of ``circuit.nc``) and of the tonic-input bank.  The last test
throws the run away, keeps one analysis file and reproduces the circuit and the
tonic inputs from its attributes alone.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest

import neurobias
from neurobias.config import config_from_toml
from neurobias.io import read_dataset
from neurobias.io.circuit import WEIGHT_NAMES, provenance_attrs, weight_hashes
from neurobias.io.hashing import sha256_array
from neurobias.errors import InputError

# every kind a run, its analyses and `simulate` write; a new writer must be added here and carry provenance
RESULT_FILES = {
    "results.nc": "results",
    "trajectories.nc": "trajectories",
    "fixed_points.nc": "fixed_points",
    "continuation.nc": "continuation",
    "comparison.nc": "comparison",
}


@pytest.fixture(scope="module")
def analysed(tmp_path_factory, tiny_run):
    """A copy of the tiny run with every analysis and a simulation written by the CLI."""
    from neurobias.cli import main

    d = tmp_path_factory.mktemp("provenance") / "run"
    shutil.copytree(tiny_run["dir"], d)
    for argv in (
        ["fixed-points", d, "--candidates", "16", "--no-figures"],
        ["continue", d, "--from", "sine_20Hz", "--to", "sine_40Hz", "--steps", "50", "--no-figures"],
        ["compare-contexts", d, "--shuffles", "5", "--no-figures"],
        ["simulate", d / "circuit.nc", d / "results.nc", "--out", d / "trajectories.nc"],
    ):
        assert main([str(a) for a in argv]) == 0, argv
    return d


@pytest.fixture(scope="module")
def files(analysed):
    """Every netCDF file of the analysed run, read once (some files have ~100 variables): name -> Dataset."""
    return {p.name: read_dataset(p) for p in sorted(analysed.glob("*.nc"))}


def test_every_result_kind_is_written(files):
    kinds = {ds.attrs["kind"] for ds in files.values()}
    assert kinds == {"circuit", *RESULT_FILES.values()}


@pytest.mark.parametrize("name", ["circuit.nc", *RESULT_FILES])
def test_file_names_version_config_and_seed(files, name):
    ds = files[name]
    assert ds.attrs["neurobias_version"] == neurobias.__version__
    config = config_from_toml(str(ds.attrs["config"]), source=f"{name} config attribute")
    run_config = config_from_toml(str(files["results.nc"].attrs["config"]))
    assert config == run_config
    assert config.seed == 7  # TINY_TOML's seed
    seed_attr = "seed" if name in ("circuit.nc", "results.nc") else "run_seed"
    assert int(ds.attrs[seed_attr]) == config.seed
    if name != "circuit.nc":
        assert int(ds.attrs["run_seed"]) == config.seed


@pytest.mark.parametrize("name", RESULT_FILES)
def test_weight_and_tonic_hashes_match_the_run_files(files, name):
    circuit_file, results, ds = files["circuit.nc"], files["results.nc"], files[name]
    assert ds.attrs["kind"] == RESULT_FILES[name]
    for weight in WEIGHT_NAMES:
        digest = ds.attrs[f"circuit_sha256_{weight}"]
        assert digest == circuit_file.attrs[f"sha256_{weight}"], weight
        # ... and the circuit file's fingerprint is that of its values
        assert digest == sha256_array(circuit_file[weight].values), weight
    assert ds.attrs["tonic_sha256"] == sha256_array(results["tonic"].values)


def test_hashes_tell_circuits_and_tonic_banks_apart(analysed, files):
    circuit = neurobias.open_circuit(analysed / "circuit.nc")
    other = circuit.replace(W_rec=circuit.W_rec * (1 + 1e-15) + 1e-300)
    assert weight_hashes(other)["W_rec"] != weight_hashes(circuit)["W_rec"]
    assert weight_hashes(other)["W_in"] == weight_hashes(circuit)["W_in"]
    tonic = files["results.nc"]["tonic"].values
    a = provenance_attrs(circuit, config_toml="seed = 1", seed=1, tonic=tonic)
    b = provenance_attrs(circuit, config_toml="seed = 1", seed=1, tonic=np.nextafter(tonic, np.inf))
    assert a["tonic_sha256"] != b["tonic_sha256"]
    assert {k for k in a if k != "tonic_sha256"} == {k for k in provenance_attrs(circuit, config_toml="", seed=0)}


def test_provenance_attrs_rejects_bad_arguments(analysed):
    circuit = neurobias.open_circuit(analysed / "circuit.nc")
    with pytest.raises(InputError, match="`config_toml` must be a str"):
        provenance_attrs(circuit, config_toml=None, seed=1)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="`seed` must be an int"):
        provenance_attrs(circuit, config_toml="", seed=True)
    with pytest.raises(InputError, match="`circuit` must be a Circuit"):
        weight_hashes("circuit.nc")  # type: ignore[arg-type]


def test_a_lone_analysis_file_reproduces_its_run(analysed, tmp_path, run_cli):
    """Months later, only continuation.nc is left: its config and seed rebuild the same circuit and tonic inputs."""
    lone = tmp_path / "found" / "continuation.nc"
    lone.parent.mkdir()
    shutil.copy(analysed / "continuation.nc", lone)
    ds = read_dataset(lone, kind="continuation")
    (tmp_path / "config.toml").write_text(str(ds.attrs["config"]), encoding="utf-8")
    rc, _, err = run_cli(["run", tmp_path / "config.toml", "--out", tmp_path / "again", "--no-progress",
                          "--seed", int(ds.attrs["run_seed"])])
    assert rc == 0, err
    again = read_dataset(tmp_path / "again" / "circuit.nc", kind="circuit")
    for weight in WEIGHT_NAMES:
        assert again.attrs[f"sha256_{weight}"] == ds.attrs[f"circuit_sha256_{weight}"], weight
    results = read_dataset(tmp_path / "again" / "results.nc", kind="results")
    assert sha256_array(results["tonic"].values) == ds.attrs["tonic_sha256"]


def test_trained_readout_is_what_the_hashes_fingerprint(tmp_path, tiny_config, run_cli):
    """In bias+readout mode the readout changes: results.nc fingerprints the trained circuit of circuit.nc."""
    out = tmp_path / "out"
    rc, _, err = run_cli(["run", tiny_config, "--out", out, "--no-progress", "--set", "training.mode=bias+readout",
                          "--set", "training.steps=2"])
    assert rc == 0, err
    circuit_file = read_dataset(out / "circuit.nc", kind="circuit")
    results = read_dataset(out / "results.nc", kind="results")
    from neurobias.workflows.run import build_circuit, build_task

    config = config_from_toml(str(results.attrs["config"]))
    initial = build_circuit(config, build_task(config))
    assert circuit_file.attrs["sha256_W_rec"] == weight_hashes(initial)["W_rec"]
    assert circuit_file.attrs["sha256_W_out"] != weight_hashes(initial)["W_out"]  # the readout did learn
    for weight in WEIGHT_NAMES:
        assert results.attrs[f"circuit_sha256_{weight}"] == circuit_file.attrs[f"sha256_{weight}"]


def test_analysis_files_of_an_earlier_run_are_refused_not_mixed_in(analysed, tmp_path, run_cli):
    """A run's files replaced by another run's leave the old analysis files; nothing may silently combine them."""
    d = tmp_path / "run"
    shutil.copytree(analysed, d)
    config = d / "config.toml"
    config.write_text(str(read_dataset(d / "results.nc", kind="results").attrs["config"]), encoding="utf-8")
    # `neurobias run` refuses to write over a run (see tests/test_run_directory.py); stale analysis files still
    # arise when a run's files are replaced by hand: another run's circuit.nc and results.nc copied in
    rc, _, err = run_cli(["run", config, "--out", d, "--no-progress", "--seed", "12345"])
    assert rc == 2 and "--overwrite" in err, err

    def redo(*extra: str) -> None:
        other = tmp_path / ("other" + "".join(extra).replace("=", "_"))
        rc, _, err = run_cli(["run", config, "--out", other, "--no-progress", *extra])
        assert rc == 0, err
        for name in ("circuit.nc", "results.nc"):
            shutil.copyfile(other / name, d / name)

    redo("--seed", "12345")
    for argv, stale in (
        (["report", d], "fixed_points.nc"),
        (["compare-contexts", d, "--shuffles", "5", "--no-figures"], "fixed_points.nc"),
        (["continue", d, "--from", "sine_20Hz", "--to", "sine_40Hz", "--steps", "20", "--no-figures"],
         "fixed_points.nc"),
    ):
        rc, out, err = run_cli(argv)
        assert rc == 2, (argv, out, err)
        assert err.count("\n") == 1 and f"{d / stale} was computed from another circuit" in err, err
        assert "neurobias fixed-points" in err, err
    # the fixed points found again fit the new run; the next stale file named is the continuation
    assert run_cli(["fixed-points", d, "--candidates", "16", "--no-figures"])[0] == 0
    rc, _, err = run_cli(["report", d])
    assert rc == 2 and f"{d / 'continuation.nc'} was computed from another circuit" in err, err
    assert "neurobias continue" in err
    # only the tonic inputs differ (same circuit, another bank): named as such
    redo("--seed", "12345", "--set", "training.steps=1")
    rc, _, err = run_cli(["compare-contexts", d, "--shuffles", "5", "--no-figures"])
    assert rc == 2 and f"{d / 'fixed_points.nc'} was computed from other tonic inputs than" in err, err
