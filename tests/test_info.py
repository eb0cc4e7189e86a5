"""``neurobias info``: describes every kind of neurobias file, a checkpoint and a run directory."""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

from neurobias.io import read_dataset
from neurobias.workflows.info import file_info, format_info


@pytest.fixture(scope="module")
def run_dir(tiny_run: dict[str, object]) -> Path:
    assert tiny_run["rc"] == 0
    return Path(str(tiny_run["dir"]))


def test_results_file_described(run_dir: Path, run_cli) -> None:
    rc, out, err = run_cli(["info", run_dir / "results.nc"])
    assert rc == 0 and err == ""
    ds = read_dataset(run_dir / "results.nc")
    first = out.splitlines()[0]
    assert "neurobias results file" in first and "schema 1" in first and ds.attrs["neurobias_version"] in first
    for name, size in ds.sizes.items():
        assert f"{name}={size}" in out
    for name, var in ds.data_vars.items():
        assert f"{name} " in out and f"({', '.join(var.dims)})" in out
    assert f"seed:      {int(ds.attrs['seed'])}" in out
    for ctx in ds["context"].values:
        assert str(ctx) in out
    # every weight's fingerprint (of circuit.nc's float64 values, after training) is shown in full
    shown = [key for key in ds.attrs if key.startswith("weights_sha256_after_")]
    assert shown
    for key in shown:
        assert str(ds.attrs[key]) in out


def test_config_flag_prints_the_resolved_config(run_dir: Path, run_cli) -> None:
    rc, out, _ = run_cli(["info", run_dir / "circuit.nc", "--config"])
    assert rc == 0
    ds = read_dataset(run_dir / "circuit.nc")
    assert out.strip() == str(ds.attrs["config"]).strip()
    assert tomllib.loads(out)["seed"] == 7  # the tiny config's seed


def test_json_is_machine_readable(run_dir: Path, run_cli) -> None:
    rc, out, _ = run_cli(["info", run_dir / "circuit.nc", "--json"])
    assert rc == 0
    info = json.loads(out)
    ds = read_dataset(run_dir / "circuit.nc")
    assert info["kind"] == "circuit" and info["schema_version"] == 1 and info["seed"] == 7
    assert info["dims"] == {k: int(v) for k, v in ds.sizes.items()}
    assert info["hashes"]["W_rec"] == ds.attrs["sha256_W_rec"]
    assert info["variables"]["W_rec"]["shape"] == list(ds["W_rec"].shape)


def test_directory_lists_each_file(run_dir: Path, run_cli) -> None:
    rc, out, _ = run_cli(["info", run_dir])
    assert rc == 0
    kinds = {p.name: read_dataset(p).attrs["kind"] for p in run_dir.glob("*.nc")}
    assert kinds, "the tiny run wrote no netCDF file"
    for name, kind in kinds.items():
        assert any(line.strip().startswith(f"{name}: {kind} ") for line in out.splitlines()), name


def test_analysis_files(run_dir: Path, tmp_path: Path, run_cli) -> None:
    import shutil

    work = tmp_path / "run"
    shutil.copytree(run_dir, work)
    assert run_cli(["fixed-points", work, "--candidates", "8", "--no-figures"])[0] == 0
    info = file_info(work / "fixed_points.nc")
    assert info["kind"] == "fixed_points"
    assert info["seed"] == 0 and info["run_seed"] == 7  # the search's own seed, and the run's
    assert "x" in info["variables"] and info["variables"]["x"]["dims"] == ["fp", "unit"]
    text = format_info(info)
    assert text.splitlines()[0].endswith(f"written by neurobias {info['neurobias_version']})")
    assert "run seed:  7" in text


def test_checkpoint(tmp_path: Path, tiny_config: Path, run_cli) -> None:
    out = tmp_path / "ck"
    rc, _, _ = run_cli(["run", tiny_config, "--out", out, "--no-progress", "--set", "training.checkpoint_every=2"])
    assert rc == 0
    ck = next(out.glob("*.npz"))
    info = file_info(ck)
    assert info["format"] == "checkpoint" and info["seed"] == 7
    assert tomllib.loads(info["config"])["training"]["steps"] == 5
    assert info["attrs"]["step"] == "5"
    text = format_info(info)
    assert "training checkpoint" in text and "loss" in text


@pytest.mark.parametrize("content, needle", [
    (b"not a netcdf file at all", "not a readable netCDF4/HDF5 file: it is not netCDF4/HDF5 at all"),
    (b"", "not a readable netCDF4/HDF5 file: it is not netCDF4/HDF5 at all"),
])
def test_not_a_neurobias_file(tmp_path: Path, run_cli, content: bytes, needle: str) -> None:
    path = tmp_path / "x.nc"
    path.write_bytes(content)
    rc, out, err = run_cli(["info", path])
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and needle in err


def test_foreign_netcdf_and_missing(tmp_path: Path, run_cli) -> None:
    import xarray as xr

    path = tmp_path / "foreign.nc"
    xr.Dataset({"a": ("t", np.arange(3.0))}).to_netcdf(path, engine="h5netcdf")
    rc, _, err = run_cli(["info", path])
    assert rc == 2 and "not a neurobias file" in err and len(err.strip().splitlines()) == 1
    rc, _, err = run_cli(["info", tmp_path / "missing.nc"])
    assert rc == 2 and "file not found" in err


def test_newer_schema_is_refused(run_dir: Path, tmp_path: Path, run_cli) -> None:
    import h5py
    import shutil

    path = tmp_path / "future.nc"
    shutil.copy(run_dir / "circuit.nc", path)
    with h5py.File(path, "a") as f:
        f.attrs["schema_version"] = 99
    rc, _, err = run_cli(["info", path])
    assert rc == 2 and "99" in err and len(err.strip().splitlines()) == 1
