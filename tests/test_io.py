"""Tests of neurobias.io: schema validation, atomic netCDF I/O, circuits, helpers."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import neurobias.io as nio
import neurobias.io.netcdf as nc_mod
from neurobias._version import __version__
from neurobias.circuit.circuit import Circuit
from neurobias.config import config_to_toml, default_config
from neurobias.errors import InputError, SchemaError
from neurobias.io import (
    SCHEMA_VERSION,
    atomic_write_bytes,
    atomic_write_text,
    check_writable_dir,
    circuit_from_dataset,
    circuit_to_dataset,
    open_circuit,
    open_results,
    read_dataset,
    save_circuit,
    sha256_array,
    validate,
    write_dataset,
)

SHA_EMPTY = hashlib.sha256(b"").hexdigest()


# --------------------------------------------------------------------------- builders
def make_circuit(n=5, n_in=2, n_out=1, seed=3, **kw):
    rng = np.random.default_rng(seed)
    return Circuit.from_arrays(
        W_rec=rng.normal(size=(n, n)),
        W_in=rng.normal(size=(n, n_in)),
        W_out=rng.normal(size=(n_out, n)),
        b_out=rng.normal(size=n_out),
        tau=12.5,
        phi="relu",
        form="rate",
        seed=seed,
        connectivity="gaussian",
        **kw,
    )


def make_results(n_ctx=2, n_trial=3, n_time=4, n_unit=5, n_in=0, n_out=2, n_step=6):
    rng = np.random.default_rng(0)
    shape = (n_ctx, n_trial, n_time)
    dims = ("context", "trial", "time")
    return xr.Dataset(
        data_vars={
            "tonic": (("context", "unit"), rng.normal(size=(n_ctx, n_unit))),
            "loss": (("step",), rng.random(n_step)),
            "lr": (("step",), np.linspace(0.01, 0.0, n_step)),
            "x": ((*dims, "unit"), rng.normal(size=(*shape, n_unit))),
            "r": ((*dims, "unit"), np.tanh(rng.normal(size=(*shape, n_unit)))),
            "z": ((*dims, "output"), rng.normal(size=(*shape, n_out))),
            "target": ((*dims, "output"), rng.normal(size=(*shape, n_out))),
            "mask": ((*dims, "output"), rng.random((*shape, n_out)) > 0.5),
            "inputs": ((*dims, "input"), rng.normal(size=(*shape, n_in))),
            "nmse": (("context",), rng.random(n_ctx)),
            "condition_frequency_hz": (("context",), np.arange(n_ctx, dtype=float) + 2.0),
            "condition_rule": (("context",), np.array([f"rule{i}" for i in range(n_ctx)])),
        },
        coords={
            "context": np.array([f"ctx_{i}" for i in range(n_ctx)]),
            "trial": np.arange(n_trial),
            "time": ("time", np.arange(1, n_time + 1) * 1.0, {"units": "ms"}),
            "step": np.arange(n_step),
            "unit": np.arange(n_unit),
            "output": np.array([f"out{i}" for i in range(n_out)]),
            "input": np.array([f"in{i}" for i in range(n_in)], dtype=str),
        },
        attrs={
            "config": config_to_toml(default_config()),
            "seed": 0,
            "training_mode": "bias",
            "task": "sine",
            "steps_done": n_step,
            "weights_sha256_before_W_rec": SHA_EMPTY,
            "weights_sha256_after_W_rec": SHA_EMPTY,
        },
    )


def make_trajectories():
    rng = np.random.default_rng(1)
    shape = (2, 1, 3)
    dims = ("context", "trial", "time")
    return xr.Dataset(
        {
            "x": ((*dims, "unit"), rng.normal(size=(*shape, 4))),
            "r": ((*dims, "unit"), rng.normal(size=(*shape, 4))),
            "z": ((*dims, "output"), rng.normal(size=(*shape, 1))),
        },
        coords={"context": ["a", "b"], "time": [1.0, 2.0, 3.0]},
        attrs={"dt": 1.0, "method": "euler", "noise_std": 0.0, "seed": -1, "engine": "torch"},
    )


def assert_circuits_equal(a: Circuit, b: Circuit):
    for name in ("W_rec", "W_in", "W_out", "b_out"):
        got, want = getattr(b, name), getattr(a, name)
        assert got.shape == want.shape, name
        np.testing.assert_array_equal(got, want)
    for name in ("tau", "phi", "form", "input_names", "output_names", "seed", "connectivity"):
        assert getattr(b, name) == getattr(a, name), name


def listing(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir())


# --------------------------------------------------------------------------- circuits
@pytest.mark.parametrize(("n_in", "n_out"), [(2, 1), (0, 1), (0, 0), (3, 0)])
def test_circuit_round_trip_with_and_without_inputs(tmp_path, n_in, n_out):
    c = make_circuit(n_in=n_in, n_out=n_out)
    path = save_circuit(c, tmp_path / "circuit.nc", config_toml="seed = 0\n")
    assert listing(tmp_path) == ["circuit.nc"]
    back = open_circuit(path)
    assert_circuits_equal(c, back)
    ds = read_dataset(path)
    assert ds.sizes["input"] == n_in and ds.sizes["output"] == n_out
    assert ds.attrs["kind"] == "circuit"
    assert ds.attrs["schema_version"] == SCHEMA_VERSION
    assert ds.attrs["neurobias_version"] == __version__
    assert ds.attrs["config"] == "seed = 0\n"
    assert ds.attrs["sha256_W_rec"] == sha256_array(c.W_rec)
    assert list(ds["input"].values) == list(c.input_names)


def test_zero_length_input_raw_h5netcdf_round_trip(tmp_path):
    # The raw behaviour write_dataset relies on: zero-length dims, compressed.
    ds = xr.Dataset(
        {"W_in": (("unit", "input"), np.zeros((3, 0)))},
        coords={"input": np.array([], dtype=str), "unit": np.arange(3)},
    )
    path = tmp_path / "raw.nc"
    ds.to_netcdf(path, engine="h5netcdf", encoding={"W_in": {"zlib": True, "complevel": 4}})
    with xr.open_dataset(path, engine="h5netcdf") as f:
        back = f.load()
    assert back["W_in"].shape == (3, 0)
    assert back.sizes["input"] == 0


def test_circuit_seed_none_is_minus_one(tmp_path):
    c = Circuit.from_arrays(W_rec=np.eye(2) * 0.5)
    ds = circuit_to_dataset(c)
    assert ds.attrs["seed"] == -1 and ds.attrs["config"] == ""
    back = open_circuit(save_circuit(c, tmp_path / "c.nc"))
    assert back.seed is None
    assert_circuits_equal(c, back)


def test_circuit_from_dataset_detects_modified_weights():
    ds = circuit_to_dataset(make_circuit())
    ds["W_rec"] = ds["W_rec"] + 1e-12
    with pytest.raises(SchemaError, match=r"`W_rec` does not match its attribute `sha256_W_rec`"):
        circuit_from_dataset(ds)


def test_circuit_from_dataset_rejects_invalid_circuit():
    ds = circuit_to_dataset(make_circuit())
    ds.attrs["form"] = "bogus"
    with pytest.raises(SchemaError, match="does not describe a valid circuit: .*form"):
        circuit_from_dataset(ds)


def test_circuit_to_dataset_rejects_non_circuit():
    with pytest.raises(InputError, match="`circuit` must be a Circuit; got dict"):
        circuit_to_dataset({})  # type: ignore[arg-type]


_names = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=8)


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(1, 6),
    n_in=st.integers(0, 3),
    n_out=st.integers(0, 3),
    data=st.data(),
)
def test_circuit_round_trip_property(n, n_in, n_out, data):
    floats = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
    arr = lambda shape: np.array(data.draw(st.lists(floats, min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))).reshape(shape)  # noqa: E731
    in_names = data.draw(st.lists(_names, min_size=n_in, max_size=n_in, unique=True))
    out_names = data.draw(st.lists(_names, min_size=n_out, max_size=n_out, unique=True))
    c = Circuit.from_arrays(
        W_rec=arr((n, n)), W_in=arr((n, n_in)), W_out=arr((n_out, n)), b_out=arr((n_out,)),
        tau=data.draw(st.floats(1e-3, 1e3)), phi=data.draw(st.sampled_from(["tanh", "relu", "linear"])),
        form=data.draw(st.sampled_from(["current", "rate"])), input_names=in_names,
        output_names=out_names, seed=data.draw(st.none() | st.integers(0, 2**62)),
        connectivity=data.draw(_names),
    )
    assert_circuits_equal(c, circuit_from_dataset(circuit_to_dataset(c)))
    with tempfile.TemporaryDirectory() as d:
        back = open_circuit(save_circuit(c, Path(d) / "c.nc"))
        assert_circuits_equal(c, back)
        assert listing(Path(d)) == ["c.nc"]


# --------------------------------------------------------------------------- sha256
def test_sha256_array_definition():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    expected = hashlib.sha256(np.arange(6, dtype="<f8").tobytes()).hexdigest()
    assert sha256_array(a) == expected
    assert sha256_array(a.astype(">f8")) == expected  # byte order does not matter
    assert sha256_array(np.asfortranarray(a.astype(float))) == expected  # layout does not matter
    assert sha256_array(a.T.T) == expected
    assert sha256_array(a.ravel()) == expected  # shape is not included (documented)
    assert sha256_array(np.zeros((3, 0))) == SHA_EMPTY
    assert sha256_array(a) != sha256_array(a + 1)
    with pytest.raises(InputError, match="`a` must be real"):
        sha256_array(np.ones(2, dtype=complex))
    with pytest.raises(InputError, match="`a` must be a numeric array"):
        sha256_array(np.array(["x"]))
    import torch

    # a tensor (what training fingerprints) hashes as its float64 values, like the array in circuit.nc
    assert sha256_array(torch.arange(6, dtype=torch.float32).reshape(2, 3)) == expected
    assert sha256_array(torch.arange(6, dtype=torch.float64, requires_grad=True)) == expected
    # a text hashes as its UTF-8 bytes
    assert sha256_array("tiny é") == hashlib.sha256("tiny é".encode("utf-8")).hexdigest()
    assert sha256_array(b"\x00\x01") == hashlib.sha256(b"\x00\x01").hexdigest()


# --------------------------------------------------------------------------- results & co
@pytest.mark.parametrize(("n_in", "n_step"), [(0, 6), (2, 6), (0, 0)])
def test_results_round_trip(tmp_path, n_in, n_step):
    ds = make_results(n_in=n_in, n_step=n_step)
    before_attrs = dict(ds.attrs)
    path = write_dataset(ds, tmp_path / "results.nc", kind="results")
    assert dict(ds.attrs) == before_attrs  # input untouched
    back = open_results(path)
    xr.testing.assert_equal(back, ds)
    for key, value in ds.attrs.items():
        assert back.attrs[key] == value
    assert back["mask"].dtype == bool
    assert back["condition_rule"].values.tolist() == ["rule0", "rule1"]
    assert back["context"].values.tolist() == ["ctx_0", "ctx_1"]
    assert back.sizes["input"] == n_in and back.sizes["step"] == n_step
    assert back["input"].values.tolist() == [f"in{i}" for i in range(n_in)]
    assert back["time"].attrs["units"] == "ms"
    assert back["x"].dtype == np.float64
    # the read dataset is in memory and the file closed: it can be rewritten
    write_dataset(back, path, kind="results")
    xr.testing.assert_equal(read_dataset(path, kind="results"), ds)


def test_float_variables_are_compressed(tmp_path):
    path = write_dataset(make_results(), tmp_path / "r.nc", kind="results")
    with h5py.File(path, "r") as f:
        assert f["x"].compression == "gzip"
        assert f["tonic"].compression == "gzip"


def test_trajectories_round_trip(tmp_path):
    t = make_trajectories()
    back = read_dataset(write_dataset(t, tmp_path / "t.nc", kind="trajectories"))
    xr.testing.assert_equal(back, t)
    assert back.attrs["kind"] == "trajectories"


def test_attribute_encoding(tmp_path):
    ds = make_trajectories()
    ds.attrs.update(
        flag=True,
        off=np.bool_(False),
        nothing=None,
        meta={"b": 1, "a": [1, 2], "c": True, "n": np.int64(3)},
        names=["a", "bc"],
        values=(1.0, 2.5),
        ints=[1, 2, 3],
        empty=[],
        mixed=[1, "a", True],
        text="héllo ☃",
        arr=np.array([True, False]),
    )
    ds["x"].attrs["is_state"] = True
    back = read_dataset(write_dataset(ds, tmp_path / "t.nc", kind="trajectories"))
    a = back.attrs
    assert a["flag"] == 1 and a["off"] == 0
    assert a["nothing"] == ""
    assert json.loads(a["meta"]) == {"a": [1, 2], "b": 1, "c": True, "n": 3}
    assert a["meta"] == '{"a": [1, 2], "b": 1, "c": true, "n": 3}'
    assert list(a["names"]) == ["a", "bc"]
    np.testing.assert_array_equal(a["values"], [1.0, 2.5])
    np.testing.assert_array_equal(a["ints"], [1, 2, 3])
    assert a["empty"] == "[]"
    assert json.loads(a["mixed"]) == [1, "a", True]
    assert a["text"] == "héllo ☃"
    np.testing.assert_array_equal(a["arr"], [1, 0])
    assert back["x"].attrs["is_state"] == 1


def test_complex_data_and_attributes_are_rejected(tmp_path):
    ds = make_trajectories()
    ds["eig"] = ("mode", np.array([1 + 2j, 3j]))
    with pytest.raises(SchemaError, match=r"variable `eig` is complex .* store `eig_real` and `eig_imag`"):
        write_dataset(ds, tmp_path / "t.nc", kind="trajectories")
    ds = make_trajectories()
    ds.attrs["lam"] = 1 + 1j
    with pytest.raises(SchemaError, match="attribute `lam` is complex"):
        write_dataset(ds, tmp_path / "t.nc", kind="trajectories")
    assert listing(tmp_path) == []


def test_unstorable_attribute_is_rejected(tmp_path):
    ds = make_trajectories()
    ds.attrs["obj"] = object()
    with pytest.raises(SchemaError, match="attribute `obj` has type object"):
        write_dataset(ds, tmp_path / "t.nc", kind="trajectories")


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("kind", "breakage", "pattern"),
    [
        ("results", lambda d: d.drop_vars("nmse"), r"missing the variable `nmse` with dims \('context',\)"),
        ("results", lambda d: d.drop_vars("step"), r"missing the coordinate `step`"),
        ("results", lambda d: d.assign(tonic=d["tonic"].T), r"variable `tonic` must have dims \('context', 'unit'\); got \('unit', 'context'\)"),
        ("results", lambda d: d.assign(loss=(("context",), np.zeros(2))), r"variable `loss` must have dims \('step',\)"),
        ("results", lambda d: d.assign(condition_bad=(("unit",), np.zeros(5))), r"variable `condition_bad` must have dims \('context',\)"),
        ("results", lambda d: d.assign(x=d["x"].astype(np.int64)), r"variable `x` must have dtype class 'float'"),
        ("results", lambda d: d.assign_coords(context=[1, 2]), r"coordinate `context` must have dtype class 'str'"),
        ("results", lambda d: d.drop_attrs(deep=False), r"missing the attribute `config`"),
        ("results", lambda d: d.assign_attrs(seed="0"), r"attribute `seed` must be an int; got '0'"),
        ("results", lambda d: d.assign_attrs(steps_done=True), r"attribute `steps_done` must be an int; got True"),
        ("results", lambda d: d.assign_attrs(weights_sha256_before_W_in=SHA_EMPTY), r"has attribute `weights_sha256_before_W_in` but not `weights_sha256_after_W_in`"),
        ("results", lambda d: d.assign_attrs(weights_sha256_after_W_rec="abc"), r"attribute `weights_sha256_after_W_rec` must be a sha256 hex digest"),
        ("results", lambda d: d.assign_attrs(kind="circuit"), r"is a 'circuit' file; expected a 'results' file"),
        ("results", lambda d: d.assign_attrs(schema_version=SCHEMA_VERSION + 1), r"schema_version 2, newer than the 1 this version of neurobias reads"),
        ("trajectories", lambda d: d.drop_vars("z"), r"missing the variable `z`"),
        ("trajectories", lambda d: d.assign_attrs(dt="1"), r"attribute `dt` must be a number; got '1'"),
        ("circuit", lambda d: d.rename_vars(W_rec="W"), r"missing the variable `W_rec` with dims \('unit', 'unit_pre'\)"),
        ("circuit", lambda d: d.assign_attrs(tau=None), r"attribute `tau` must be a number; got None"),
    ],
)
def test_validation_errors_name_the_problem(tmp_path, kind, breakage, pattern):
    base = {
        "results": make_results,
        "trajectories": make_trajectories,
        "circuit": lambda: circuit_to_dataset(make_circuit()),
    }[kind]()
    validate(base, kind)  # the unbroken dataset is valid
    broken = breakage(base)
    with pytest.raises(SchemaError, match=pattern):
        validate(broken, kind)
    with pytest.raises(SchemaError, match=pattern):
        write_dataset(broken, tmp_path / "x.nc", kind=kind)
    assert listing(tmp_path) == []


def test_validate_argument_errors():
    with pytest.raises(InputError, match=r"`kind` must be one of circuit, results, trajectories, fixed_points, continuation.*; got 'foo'"):
        validate(make_trajectories(), "foo")
    with pytest.raises(InputError, match="`ds` must be an xarray.Dataset"):
        validate({}, "results")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="`kind` must be one of"):
        write_dataset(make_trajectories(), "x.nc", kind="foo")


def test_optional_variables_are_allowed():
    ds = make_trajectories().assign(extra=(("anything",), np.arange(3)))
    validate(ds, "trajectories")


# --------------------------------------------------------------------------- read errors
def test_read_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"file not found: .*none\.nc"):
        read_dataset(tmp_path / "none.nc")
    with pytest.raises(InputError, match="is a directory"):
        read_dataset(tmp_path)


def test_read_wrong_kind(tmp_path):
    path = write_dataset(make_trajectories(), tmp_path / "t.nc", kind="trajectories")
    with pytest.raises(SchemaError, match=r"t\.nc is a 'trajectories' file; expected a 'results' file"):
        read_dataset(path, kind="results")
    with pytest.raises(SchemaError, match="expected a 'circuit' file"):
        open_circuit(path)


def test_read_newer_schema_version(tmp_path):
    path = write_dataset(make_trajectories(), tmp_path / "t.nc", kind="trajectories")
    with h5py.File(path, "r+") as f:
        f.attrs["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(SchemaError, match=r"schema_version 2, newer than the 1 .*upgrade neurobias"):
        read_dataset(path)


def test_read_unknown_kind_and_foreign_netcdf(tmp_path):
    path = write_dataset(make_trajectories(), tmp_path / "t.nc", kind="trajectories")
    with h5py.File(path, "r+") as f:
        f.attrs["kind"] = "spectrum"
    with pytest.raises(SchemaError, match="has unknown kind 'spectrum'"):
        read_dataset(path)
    foreign = tmp_path / "foreign.nc"
    xr.Dataset({"a": ("x", [1.0])}).to_netcdf(foreign, engine="h5netcdf")
    with pytest.raises(SchemaError, match="is not a neurobias file: it has no `kind` attribute"):
        read_dataset(foreign)


def test_read_file_missing_a_variable(tmp_path):
    ds = make_results()
    ds.attrs.update(kind="results", schema_version=1, neurobias_version="0")
    path = tmp_path / "r.nc"
    ds.drop_vars("loss").to_netcdf(path, engine="h5netcdf")
    with pytest.raises(SchemaError, match=r"r\.nc is missing the variable `loss`"):
        read_dataset(path)


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.1])
def test_read_truncated_file(tmp_path, keep):
    path = write_dataset(make_results(n_unit=40), tmp_path / "r.nc", kind="results")
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(SchemaError, match=r"r\.nc is not a readable netCDF4/HDF5 file"):
        read_dataset(path)


def test_read_garbage_and_empty_file(tmp_path):
    for name, data in [("text.nc", b"not a netcdf file\n" * 10), ("empty.nc", b"")]:
        p = tmp_path / name
        p.write_bytes(data)
        with pytest.raises(SchemaError, match="is not a readable netCDF4/HDF5 file"):
            read_dataset(p)


# --------------------------------------------------------------------------- atomicity
def _failing_writer(partial: bool):
    def writer(ds, path, encoding):
        if partial:
            Path(path).write_bytes(b"\x89HDF\r\n\x1a\n" + b"half a file")
        raise RuntimeError("disk on fire")

    return writer


@pytest.mark.parametrize("partial", [True, False])
def test_failed_write_leaves_no_file(tmp_path, monkeypatch, partial):
    monkeypatch.setattr(nc_mod, "_to_netcdf", _failing_writer(partial))
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_dataset(make_trajectories(), tmp_path / "t.nc", kind="trajectories")
    assert listing(tmp_path) == []


def test_failed_write_leaves_existing_file_untouched(tmp_path, monkeypatch):
    path = write_dataset(make_trajectories(), tmp_path / "t.nc", kind="trajectories")
    before = path.read_bytes()
    real = xr.Dataset.to_netcdf

    def to_netcdf_then_fail(self, *args, **kwargs):
        real(self, *args, **kwargs)  # writes the whole temp file ...
        raise KeyboardInterrupt  # ... then dies before the rename

    monkeypatch.setattr(xr.Dataset, "to_netcdf", to_netcdf_then_fail)
    with pytest.raises(KeyboardInterrupt):
        write_dataset(make_results(), path, kind="results")
    assert listing(tmp_path) == ["t.nc"]
    assert path.read_bytes() == before


def test_failed_rename_cleans_up(tmp_path, monkeypatch):
    def bad_replace(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", bad_replace)
    with pytest.raises(InputError, match=r"cannot write .*t\.nc: Permission denied"):
        write_dataset(make_trajectories(), tmp_path / "t.nc", kind="trajectories")
    with pytest.raises(InputError, match=r"cannot write .*a\.txt"):
        atomic_write_text(tmp_path / "a.txt", "hi")
    assert listing(tmp_path) == []


def test_write_creates_parent_dirs_and_rejects_directory_target(tmp_path):
    path = write_dataset(make_trajectories(), tmp_path / "a" / "b" / "t.nc", kind="trajectories")
    assert path.exists()
    with pytest.raises(InputError, match="it is a directory"):
        write_dataset(make_trajectories(), tmp_path / "a", kind="trajectories")


# --------------------------------------------------------------------------- file helpers
def test_atomic_write_text_and_bytes(tmp_path):
    p = atomic_write_text(tmp_path / "sub" / "cfg.toml", "seed = 1\n")
    assert p.read_text(encoding="utf-8") == "seed = 1\n"
    atomic_write_text(p, "seed = 2\n")
    assert p.read_text(encoding="utf-8") == "seed = 2\n"
    atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert listing(tmp_path) == ["b.bin", "sub"]
    assert listing(tmp_path / "sub") == ["cfg.toml"]
    with pytest.raises(InputError, match="`data` must be bytes; got str"):
        atomic_write_bytes(tmp_path / "c", "text")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="`text` must be a str; got bytes"):
        atomic_write_text(tmp_path / "c", b"x")  # type: ignore[arg-type]


def test_atomic_path_keeps_suffix_and_cleans_up_on_error(tmp_path):
    with pytest.raises(ValueError, match="boom"):
        with nio.atomic_path(tmp_path / "fig.png") as tmp:
            assert tmp.parent == tmp_path and tmp.suffix == ".png" and tmp.name.startswith(".fig.tmp-")
            tmp.write_bytes(b"partial")
            raise ValueError("boom")
    assert listing(tmp_path) == []
    with pytest.raises(InputError, match="did not create the temporary file"):
        with nio.atomic_path(tmp_path / "fig.png"):
            pass
    assert listing(tmp_path) == []


def test_atomic_text_round_trips_config(tmp_path):
    from neurobias.config import load_config

    cfg = default_config()
    p = atomic_write_text(tmp_path / "config.toml", config_to_toml(cfg))
    assert load_config(p) == cfg


def test_check_writable_dir(tmp_path):
    d = check_writable_dir(tmp_path / "x" / "y")
    assert d.is_dir() and listing(d) == []
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(InputError, match=r"output directory .*file exists and is not a directory"):
        check_writable_dir(f)
    with pytest.raises(InputError, match=r"cannot create output directory .*file/sub"):
        check_writable_dir(f / "sub")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can write anywhere")
def test_check_writable_dir_read_only(tmp_path):
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o500)
    try:
        with pytest.raises(InputError, match=r"output directory .*ro is not writable"):
            check_writable_dir(d)
    finally:
        d.chmod(0o700)


def test_read_text_errors(tmp_path):
    with pytest.raises(InputError, match=r"config file not found: .*x\.toml"):
        nio.read_text(tmp_path / "x.toml", what="config file")
    (tmp_path / "bad.txt").write_bytes(b"\xff")
    with pytest.raises(InputError, match="is not valid utf-8 text"):
        nio.read_text(tmp_path / "bad.txt")


def test_importing_io_files_does_not_import_xarray():
    code = "import sys, neurobias.io, neurobias.io.files, neurobias.config; print('xarray' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert out.stdout.strip() == "False"


def test_io_public_names_resolve():
    for name in nio.__all__:
        assert getattr(nio, name) is not None
    with pytest.raises(AttributeError):
        nio.does_not_exist  # noqa: B018


def test_docs_describe_every_kind_variable_and_attribute():
    from neurobias.io.schema import SPECS

    text = (Path(__file__).resolve().parents[1] / "docs" / "schema.md").read_text(encoding="utf-8")
    for kind, spec in SPECS.items():
        assert f"## kind = `{kind}`" in text
        for name in (*spec.variables, *spec.coords, *spec.attrs, *spec.optional_variables):
            assert f"`{name}" in text, f"{kind}.{name} missing from docs/schema.md"


def test_stale_temp_of_a_killed_writer_is_removed_by_the_next_write(tmp_path):
    """A writer SIGKILLed mid-write leaves its hidden temp file; the next write of that target removes it."""
    import signal
    import subprocess
    import sys
    import textwrap

    from neurobias.io.files import atomic_write_bytes

    target = tmp_path / "out.nc"
    code = textwrap.dedent(f"""
        import sys, time
        from neurobias.io.files import atomic_path
        with atomic_path({str(target)!r}) as tmp:
            tmp.write_bytes(b"partial")
            print("writing", flush=True)
            time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].startswith(".out.tmp-") and not target.exists()
    # a live writer's temp file (this process's pid) must survive another write
    live = tmp_path / f".out.tmp-{left[0].split('-')[1]}-{os.getpid()}-abc.nc"
    live.write_bytes(b"in progress")
    atomic_write_bytes(target, b"complete")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, "out.nc"])
    assert target.read_bytes() == b"complete"


def test_stale_write_probe_of_a_killed_command_is_removed(tmp_path):
    """check_writable_dir's probe file, left by a command killed between creating and deleting it, goes away."""
    import subprocess
    import sys

    from neurobias.io.files import _HOST, check_writable_dir

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    pid = int(dead.stdout)
    stale = tmp_path / f".neurobias-write-test-{_HOST}-{pid}-abcd"
    live = tmp_path / f".neurobias-write-test-{_HOST}-{os.getpid()}-efgh"
    other_host = tmp_path / f".neurobias-write-test-elsewhere-{pid}-ijkl"
    for p in (stale, live, other_host):
        p.write_bytes(b"")
    check_writable_dir(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other_host.name])


def test_sha256_file_matches_hashlib_of_the_bytes_and_names_a_missing_file(tmp_path):
    import hashlib

    from neurobias.io.hashing import sha256_file

    data = bytes(range(256)) * 5000  # more than one 1 MiB block
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
    with pytest.raises(InputError, match="idx file not found: "):
        sha256_file(tmp_path / "nope", what="idx file")
    with pytest.raises(InputError, match="is a directory, not a file"):
        sha256_file(tmp_path)
