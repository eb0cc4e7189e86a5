"""Determinism: the same config and seed give byte-identical arrays in every output file.

One tiny run with checkpoints goes through every command that writes a file
(``run``, ``fixed-points``, ``continue``, ``compare-contexts``, ``simulate``)
three times: here (A), in a fresh Python process with another hash seed (B),
and here with the training interrupted and resumed from its checkpoint (C).
Every variable and coordinate of every file must be byte-identical (floats
compared by their bytes, NaNs included), and so must every attribute, except
the ones named in :data:`ALLOWED_TO_DIFFER`.
"""
from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from neurobias.io import read_dataset

STEPS = 6
SETS = (f"training.steps={STEPS}", "training.checkpoint_every=2")
FILES = {
    "circuit.nc": "circuit",
    "results.nc": "results",
    "fixed_points.nc": "fixed_points",
    "continuation.nc": "continuation",
    "comparison.nc": "comparison",
    "trajectories.nc": "trajectories",
}
# Attributes that legitimately differ between two runs of the same config and seed; nothing else may.
ALLOWED_TO_DIFFER: dict[str, frozenset[str]] = {
    "results": frozenset({"train_wall_time_s"}),  # seconds this process spent training
    "trajectories": frozenset({"source_results"}),  # absolute path of the results file simulated
}


def commands(config: Path, out: Path) -> list[list[str]]:
    """Every command that writes a file, on one run directory ``out``."""
    return [
        ["run", str(config), "--out", str(out), "--no-progress", *[a for s in SETS for a in ("--set", s)]],
        ["fixed-points", str(out), "--candidates", "16", "--no-figures"],
        ["continue", str(out), "--from", "sine_20Hz", "--to", "sine_40Hz", "--steps", "50", "--no-figures"],
        ["compare-contexts", str(out), "--shuffles", "5", "--no-figures"],
        ["simulate", str(out / "circuit.nc"), str(out / "results.nc"), "--trials", "2", "--noise-std", "0.01",
         "--seed", "3", "--out", str(out / "trajectories.nc")],
    ]


def run_in_process(config: Path, out: Path, *, first: list[str] | None = None) -> None:
    from neurobias.cli import main

    argvs = commands(config, out)
    if first is not None:
        argvs[0] = first
    for argv in argvs:
        assert main(argv) == 0, argv


def _attr_equal(a: object, b: object) -> bool:
    xa, xb = np.asarray(a), np.asarray(b)
    if xa.dtype.kind in "fc" or xb.dtype.kind in "fc":
        return xa.shape == xb.shape and xa.dtype == xb.dtype and xa.tobytes() == xb.tobytes()
    return xa.shape == xb.shape and bool(np.all(xa == xb)) and type(a) is type(b)


@functools.lru_cache(maxsize=None)
def _read(path: Path, kind: str) -> xr.Dataset:
    """Each file is read once (reading a comparison file, ~100 variables, takes seconds); do not modify."""
    return read_dataset(path, kind=kind)


def differences(path_a: Path, path_b: Path, kind: str) -> list[str]:
    """Everything that differs between two files, except the attributes allowed to."""
    a, b = _read(Path(path_a), kind), _read(Path(path_b), kind)
    out: list[str] = []
    if sorted(a.variables) != sorted(b.variables):
        return [f"variables {sorted(a.variables)} != {sorted(b.variables)}"]
    for name in a.variables:
        va, vb = a.variables[name], b.variables[name]
        if va.dims != vb.dims or va.dtype != vb.dtype:
            out.append(f"`{name}`: dims/dtype {va.dims} {va.dtype} != {vb.dims} {vb.dtype}")
            continue
        xa, xb = np.asarray(va.values), np.asarray(vb.values)
        same = xa.tobytes() == xb.tobytes() if xa.dtype.kind in "biuf" else np.array_equal(xa, xb)
        if not same:
            out.append(f"`{name}` values differ")
        if set(va.attrs) != set(vb.attrs) or not all(_attr_equal(va.attrs[k], vb.attrs[k]) for k in va.attrs):
            out.append(f"`{name}` attributes differ")
    allowed = ALLOWED_TO_DIFFER.get(kind, frozenset())
    for key in sorted(set(a.attrs) | set(b.attrs)):
        if key in allowed:
            continue
        if key not in a.attrs or key not in b.attrs:
            out.append(f"attribute `{key}` only in one file")
        elif not _attr_equal(a.attrs[key], b.attrs[key]):
            out.append(f"attribute `{key}`: {a.attrs[key]!r} != {b.attrs[key]!r}")
    return out


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory):
    """Run directories A (here), B (a fresh process) and C (here, training interrupted then resumed)."""
    from conftest import TINY_TOML

    base = tmp_path_factory.mktemp("determinism")
    config = base / "tiny.toml"
    config.write_text(TINY_TOML, encoding="utf-8")
    dirs = {name: base / name for name in "ABC"}

    run_in_process(config, dirs["A"])

    script = ("import json, sys\nfrom neurobias.cli import main\n"
              "for argv in json.loads(sys.argv[1]):\n"
              "    assert main(argv) == 0, argv\n")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONWARNINGS": "error"}
    done = subprocess.run([sys.executable, "-c", script, json.dumps(commands(config, dirs["B"]))],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr

    interrupted = _interrupt_training(config, dirs["C"])
    resume = [*commands(config, dirs["C"])[0], "--resume"]
    run_in_process(config, dirs["C"], first=resume)
    return {**dirs, "interrupted": interrupted}


def _interrupt_training(config: Path, out: Path) -> dict[str, object]:
    """Train until a KeyboardInterrupt at step 3 (after the checkpoint of step 2); return what was left."""
    from neurobias.cli import main
    from neurobias.io.checkpoint import load_checkpoint
    from neurobias.tasks.base import Task

    original = Task.sample_all
    calls = {"n": 0}

    def interrupting(self, batch, rng):  # noqa: ANN001, ANN202
        calls["n"] += 1
        if calls["n"] == 4:  # the batch of step 3 (0-based): steps 0..2 are done, the checkpoint of step 2 written
            raise KeyboardInterrupt
        return original(self, batch, rng)

    Task.sample_all = interrupting  # type: ignore[method-assign]
    try:
        rc = main(commands(config, out)[0])
    finally:
        Task.sample_all = original  # type: ignore[method-assign]
    _, meta = load_checkpoint(out / "checkpoint.npz")
    return {"rc": rc, "step": meta["step"], "files": sorted(p.name for p in out.iterdir())}


def test_the_interruption_happened_mid_training(three_runs):
    left = three_runs["interrupted"]
    assert left["rc"] == 130
    assert left["step"] == 2  # the last checkpoint before the interruption
    assert left["files"] == ["checkpoint.npz"]  # no results yet, no partial file


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("other", ["B", "C"], ids=["second_process", "after_resume"])
def test_identical_arrays_and_attributes(three_runs, name, other):
    diff = differences(three_runs["A"] / name, three_runs[other] / name, FILES[name])
    assert diff == [], f"{name} of run A and run {other} differ: {diff}"


def test_allowed_differences_are_real_and_named(three_runs):
    """The attributes allowed to differ exist (the list is not stale) and are the only ones that do."""
    for name, kind in FILES.items():
        a = _read(three_runs["A"] / name, kind)
        for key in ALLOWED_TO_DIFFER.get(kind, ()):
            assert key in a.attrs, (name, key)
    ta = _read(three_runs["A"] / "trajectories.nc", "trajectories").attrs["source_results"]
    tb = _read(three_runs["B"] / "trajectories.nc", "trajectories").attrs["source_results"]
    assert ta != tb and Path(ta).name == Path(tb).name == "results.nc"


def test_the_comparison_is_sensitive(three_runs, tmp_path):
    """The check can fail: one changed bit of one array, or one attribute, is reported."""
    import shutil

    from neurobias.io import write_dataset

    ds = _read(three_runs["A"] / "results.nc", "results").copy(deep=True)
    x = ds["tonic"].values.copy()
    x.view(np.int64)[0, 0] ^= 1  # flip the last bit of one float
    changed = ds.copy()
    changed["tonic"] = (ds["tonic"].dims, x, ds["tonic"].attrs)
    write_dataset(changed, tmp_path / "changed.nc", kind="results")
    assert differences(three_runs["A"] / "results.nc", tmp_path / "changed.nc", "results") == ["`tonic` values differ"]
    relabelled: xr.Dataset = ds.copy()
    relabelled.attrs["eval_noise_seed"] = int(ds.attrs["eval_noise_seed"]) + 1
    write_dataset(relabelled, tmp_path / "relabelled.nc", kind="results")
    assert [d.split(":")[0] for d in differences(three_runs["A"] / "results.nc", tmp_path / "relabelled.nc",
                                                 "results")] == ["attribute `eval_noise_seed`"]
    shutil.copy(three_runs["A"] / "results.nc", tmp_path / "same.nc")
    assert differences(three_runs["A"] / "results.nc", tmp_path / "same.nc", "results") == []


def test_other_seed_changes_the_run(tmp_path, three_runs):
    """A different seed is not silently ignored: the weights and the results change."""
    from conftest import TINY_TOML

    config = tmp_path / "tiny.toml"
    config.write_text(TINY_TOML.replace("seed = 7", "seed = 8"), encoding="utf-8")
    from neurobias.cli import main

    assert main(commands(config, tmp_path / "D")[0]) == 0
    for name in ("circuit.nc", "results.nc"):
        diff = differences(three_runs["A"] / name, tmp_path / "D" / name, FILES[name])
        assert any("values differ" in d for d in diff), name
