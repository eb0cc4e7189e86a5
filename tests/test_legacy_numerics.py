"""The demo's files from one seed are numerically identical to those written by the code before the redesign.

The reference files in ``tests/fixtures/legacy_demo`` were written by neurobias
0.1 (see the README there). Variables may gain attributes and files may gain
variables; every number the old files hold must come back bit for bit. The one
allowed difference: a continuation may insert located bifurcation points into a
branch, so the old steps must appear in the new branch in order, and a located
bifurcation must sit at the same place to within the old locator's tolerance, and the
residual max|F| of a continuation step may differ by rounding (it is recomputed).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from neurobias.cli import main

FIXTURE = Path(__file__).parent / "fixtures" / "legacy_demo"
DEMO = Path(__file__).resolve().parents[1] / "models" / "demo.toml"
# the reference files were written with the recipe of that time: one restart from zero tonic inputs
RUN_ARGS = ["--set", "circuit.n_units=48", "--set", "training.steps=150", "--set", "output.n_trials=1",
            "--set", "output.figures=false", "--set", "training.restarts=1", "--set", "tonic.init_std=0.0",
            "--no-progress"]


@pytest.fixture(scope="module")
def rerun(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("legacy") / "demo"
    assert main(["run", str(DEMO), "--out", str(out), *RUN_ARGS]) == 0
    assert main(["fixed-points", str(out), "--candidates", "32"]) == 0
    assert main(["continue", str(out), "--from", "sine_1Hz", "--to", "sine_3Hz"]) == 0
    return out


def _open(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def _assert_same_values(old: xr.DataArray, new: xr.DataArray, name: str) -> None:
    assert old.dims == new.dims, f"{name}: dims {new.dims} != {old.dims}"
    assert old.shape == new.shape, f"{name}: shape {new.shape} != {old.shape}"
    if old.dtype.kind in "fc":
        np.testing.assert_array_equal(new.values, old.values, err_msg=name)
    else:
        assert np.array_equal(new.values, old.values), name


@pytest.mark.parametrize("name", ["results.nc", "fixed_points.nc"])
def test_same_numbers_as_before(rerun: Path, name: str) -> None:
    old, new = _open(FIXTURE / name), _open(rerun / name)
    assert old.sizes and dict(new.sizes).items() >= dict(old.sizes).items()
    for var in old.data_vars:
        assert var in new.data_vars, f"{name}: {var} is gone"
        _assert_same_values(old[var], new[var], f"{name}:{var}")
    for coord in old.coords:
        _assert_same_values(old[coord], new[coord], f"{name}:coord {coord}")


def test_continuation_same_branch_as_before(rerun: Path) -> None:
    old, new = _open(FIXTURE / "continuation.nc"), _open(rerun / "continuation.nc")
    assert new.sizes["branch"] == old.sizes["branch"]
    for b in range(old.sizes["branch"]):
        n_old = int(old["n_points"][b])
        s_old = old["s"].values[b, :n_old]
        s_new = new["s"].values[b, : int(new["n_points"][b])]
        # the old steps, in order, among the new ones (located points may be inserted between them)
        rows = np.searchsorted(s_new, s_old) if np.all(np.diff(s_new) >= 0) else None
        if rows is None:
            rows = np.array([int(np.flatnonzero(s_new == s)[0]) for s in s_old])
        assert np.all(np.diff(rows) > 0)
        np.testing.assert_array_equal(s_new[rows], s_old)
        # the residual max|F| is recomputed by the pair-tracking continuation in another order of
        # operations: equal to rounding (1e-15 state units per ms), not bit for bit
        np.testing.assert_allclose(new["residual"].values[b, rows], old["residual"].values[b, :n_old],
                                   rtol=0, atol=1e-15, err_msg=f"continuation residual, branch {b}")
        # eigenvalues are now tracked by continuity along the branch instead of sorted: the same
        # spectrum per step, in another order
        def spectrum(ds, sel):
            # (a pair cut by the number of stored modes may keep either member: compare |imag|)
            ev = ds["eig_real"].values[sel] + 1j * np.abs(ds["eig_imag"].values[sel])
            return np.sort_complex(ev)

        np.testing.assert_array_equal(spectrum(new, (b, rows)), spectrum(old, (b, slice(0, n_old))),
                                      err_msg=f"continuation spectrum, branch {b}")
        for var in ("x", "index"):
            if var in old.data_vars:
                np.testing.assert_array_equal(new[var].values[b, rows], old[var].values[b, :n_old],
                                              err_msg=f"continuation {var}, branch {b}")
        for key in ("end_reason", "returns_to", "start_index"):
            assert new[key].values[b] == old[key].values[b], key
    old_kinds = sorted(str(k) for k in old["bif_kind"].values)
    new_kinds = sorted(str(k) for k in new["bif_kind"].values)
    assert new_kinds == old_kinds
    np.testing.assert_allclose(np.sort(new["bif_s"].values), np.sort(old["bif_s"].values), atol=1e-6)
