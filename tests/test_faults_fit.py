"""Faults and determinism of ``neurobias fit-recordings`` (and ``compare-recordings``).

* SIGKILL while the circuit is being fitted, and again while the outputs are
  being written: nothing partial is visible under a final name, what is there
  reads back, and running the same command again finishes with files whose
  arrays equal those of an uninterrupted run into another directory.
* The same fit (and comparison) run twice: every array of every output file is
  byte-identical, every figure too, and the attributes are equal except the
  ones named in :data:`MAY_DIFFER` (wall times).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import TEMP_NAME, sigkill, wait_for
from neurobias.fitting.synthetic import synthetic_recording
from neurobias.io import read_dataset, write_dataset

# what the atomic writes of neurobias.io leave if killed between creating and renaming their temporary file
KINDS = {"recording.nc": "recording", "circuit.nc": "circuit", "fit.nc": "fit",
         "comparison.nc": "recording_comparison"}
# the only attributes two runs of the same command may disagree on: seconds the fit / the comparison took
MAY_DIFFER = {"fit.nc": {"wall_time_s"}, "comparison.nc": {"wall_time_s"}}
STEPS = 1000  # ~1.5-2 s of fitting on a busy 2-core machine: long enough to be killed in

FIT_TOML = f"""\
seed = 4
[fit]
n_units = 12
steps = {STEPS}
holdout_block = 3
n_shuffles = 3
[compare]
n_shuffles = 3
dsa_shuffles = 0
metrics = ["r2", "cca", "shape", "rsa", "rotation", "fixed_points"]
fp_candidates = 4
"""


def _neurobias() -> list[str]:
    exe = Path(sys.executable).with_name("neurobias")
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "neurobias.cli"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny synthetic recording (3 conditions x 4 neurons x 10 bins) and the fit config."""
    from neurobias import Circuit

    base = tmp_path_factory.mktemp("faults_fit")
    circuit = Circuit.random(10, n_inputs=0, n_outputs=0, g=1.2, tau=20.0, seed=2)
    rng = np.random.default_rng(2)
    rec = synthetic_recording(circuit, rng.normal(0, 0.6, (3, 10)), x0=rng.normal(0, 0.6, (3, 10)),
                              units=np.arange(4), n_time=10, bin_ms=5.0, noise_std=0.01, seed=2)
    write_dataset(rec, base / "rec.nc", kind="recording")
    (base / "fit.toml").write_text(FIT_TOML, encoding="utf-8")
    return {"recording": base / "rec.nc", "config": base / "fit.toml"}


def _fit_argv(inputs: dict[str, Path], out: Path, *extra: str) -> list[str]:
    return ["fit-recordings", str(inputs["recording"]), "--config", str(inputs["config"]), "--out", str(out), *extra]


def _visible_files(d: Path) -> list[str]:
    """Every visible file under ``d`` (relative paths); hidden names must be temporary files of neurobias.io."""
    if not d.exists():
        return []
    names = []
    for p in sorted(d.rglob("*")):
        if any(part.startswith(".") for part in p.relative_to(d).parts):
            assert TEMP_NAME.match(p.name), f"hidden file that is not a temporary file: {p}"
            continue
        if p.is_file():
            names.append(str(p.relative_to(d)))
    return names


def _hidden(d: Path) -> list[str]:
    return sorted(str(p.relative_to(d)) for p in d.rglob(".*")) if d.exists() else []


def _assert_valid(d: Path) -> None:
    """Every visible file under ``d`` is complete: netCDF files read back with their kind, PNGs are whole."""
    for name in _visible_files(d):
        if name.endswith(".nc"):
            read_dataset(d / name, kind=KINDS[name])
        elif name.endswith(".png"):
            data = (d / name).read_bytes()
            assert data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(b"IEND\xaeB`\x82"), name


def _assert_same_files(a: Path, b: Path, *, attrs: bool) -> None:
    """Same visible files; netCDF arrays byte-identical (and, with ``attrs``, attributes equal but MAY_DIFFER)."""
    files = _visible_files(a)
    assert files == _visible_files(b)
    for name in files:
        if name.endswith(".nc"):
            x, y = read_dataset(a / name, kind=KINDS[name]), read_dataset(b / name, kind=KINDS[name])
            assert sorted(x.variables) == sorted(y.variables), name
            for var in x.variables:
                vx, vy = x[var], y[var]
                assert vx.dims == vy.dims and vx.dtype == vy.dtype, (name, var)
                if vx.dtype.kind in "fc":
                    assert vx.values.tobytes() == vy.values.tobytes(), f"{name}: `{var}` differs"
                else:
                    assert np.array_equal(vx.values, vy.values), f"{name}: `{var}` differs"
                if attrs:
                    assert vx.attrs == vy.attrs, (name, var)
            if attrs:
                skip = MAY_DIFFER.get(name, set())
                assert skip <= set(x.attrs), f"{name}: MAY_DIFFER names attributes it lacks"
                kx = {k: v for k, v in x.attrs.items() if k not in skip}
                ky = {k: v for k, v in y.attrs.items() if k not in skip}
                assert kx.keys() == ky.keys(), name
                for k in kx:
                    assert np.array_equal(kx[k], ky[k]) or (kx[k] != kx[k] and ky[k] != ky[k]), f"{name}: .{k}"
        elif attrs:
            assert (a / name).read_bytes() == (b / name).read_bytes(), f"{name} differs"


def test_sigkill_while_fitting_and_while_writing_then_rerun_equals_an_uninterrupted_run(inputs, tmp_path, run_cli):
    killed = tmp_path / "killed"
    argv = _neurobias() + _fit_argv(inputs, killed)
    log = tmp_path / "stderr.txt"

    # 1. killed while fitting: detected by the progress bar having counted some steps
    with open(log, "wb") as err:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)

        def fitting() -> bool:
            done = [int(n) for n in re.findall(rf"(\d+)/{STEPS}\b", log.read_text(errors="replace"))]
            return "fitting (bias)" in log.read_text(errors="replace") and any(0 < n < STEPS // 2 for n in done)

        wait_for(fitting, proc)
        sigkill(proc)
    text = log.read_text(errors="replace")
    assert "fitting (bias)" in text and not re.search(rf"\b{STEPS}/{STEPS}\b", text)  # killed mid-fit
    final = {"recording.nc", "circuit.nc", "fit.nc", "figures/r2_neurons.png", "figures/fit_loss.png"}
    assert set(_visible_files(killed)) <= final
    _assert_valid(killed)

    # 2. killed again while writing: as soon as the temporary file of an output appears (or, failing that,
    # once fit.nc is there), so that a half-written temporary file is left behind
    def writing() -> bool:
        temps = killed.exists() and any(TEMP_NAME.match(p.name) for p in killed.rglob(".*"))
        return temps or (killed / "fit.nc").exists()

    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(writing, proc)
    sigkill(proc)
    assert set(_visible_files(killed)) <= final
    _assert_valid(killed)

    # 3. the same command again (another process than the uninterrupted run below) finishes; then compare
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    rc, _, err = run_cli(["compare-recordings", killed, "--no-progress", "--no-figures"])
    assert rc == 0, err
    assert _hidden(killed) == []  # what the killed writers left is gone
    reference = tmp_path / "reference"
    rc, _, err = run_cli(_fit_argv(inputs, reference, "--no-progress"))
    assert rc == 0, err
    rc, _, err = run_cli(["compare-recordings", reference, "--no-progress", "--no-figures"])
    assert rc == 0, err
    assert set(_visible_files(killed)) == final | {"comparison.nc", "report.html"}
    _assert_valid(killed)
    _assert_same_files(reference, killed, attrs=False)


def test_the_same_fit_twice_gives_identical_files(inputs, tmp_path, run_cli):
    """Every array byte-identical, figures too; only the attributes in MAY_DIFFER may differ.

    One run in another process (another PYTHONHASHSEED), one in this one.
    """
    a, b = tmp_path / "a", tmp_path / "b"
    fit_a = _fit_argv(inputs, a, "--no-progress", "--set", "fit.steps=40")
    script = ("import sys; from neurobias.cli import main; "
              f"sys.exit(main({fit_a!r}) or main(['compare-recordings', {str(a)!r}, '--no-progress']))")
    done = subprocess.run([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          timeout=300, env={**os.environ, "PYTHONHASHSEED": "1"})
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    rc, _, err = run_cli(_fit_argv(inputs, b, "--no-progress", "--set", "fit.steps=40"))
    assert rc == 0, err
    rc, _, err = run_cli(["compare-recordings", b, "--no-progress"])
    assert rc == 0, err
    dirs = [a, b]
    assert {"recording.nc", "circuit.nc", "fit.nc", "comparison.nc", "figures/pcs.png"} <= set(_visible_files(a))
    # report.html embeds the figures and the wall times; its arrays are those of the files compared here
    for d in dirs:
        (d / "report.html").unlink()
    _assert_same_files(a, b, attrs=True)
    assert read_dataset(a / "fit.nc").attrs["wall_time_s"] > 0
