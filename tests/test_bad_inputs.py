"""The bad-input corpus: every case gets one clear line, a non-zero exit, and leaves no partial file.

CLI cases run ``neurobias.cli.main`` in-process and check: exit code 2, an
empty stdout, exactly one stderr line ``neurobias: error: ...`` containing
the expected words (so it names the problem), no traceback, and no file
created or changed anywhere under the test's directory.  API cases check that
the public function raises a :class:`neurobias.NeurobiasError` whose message
contains the expected words (the argument's name and what was wrong).
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from conftest import TINY_TOML

# -- fixtures of the corpus: files that are wrong in one way each -----------------------------------------------


@pytest.fixture(scope="module")
def base(tiny_run: dict[str, object], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with a good tiny run (``run/``) and bad files made from it."""
    import h5py

    assert tiny_run["rc"] == 0
    root = tmp_path_factory.mktemp("bad_inputs")
    run = root / "run"
    shutil.copytree(Path(str(tiny_run["dir"])), run)
    (root / "good.toml").write_text(TINY_TOML, encoding="utf-8")
    data = (run / "circuit.nc").read_bytes()
    (root / "truncated.nc").write_bytes(data[: len(data) // 2])
    (root / "empty.nc").write_bytes(b"")
    (root / "text.nc").write_text("this is not netCDF\n", encoding="utf-8")
    shutil.copy(run / "circuit.nc", root / "future.nc")
    with h5py.File(root / "future.nc", "a") as f:
        f.attrs["schema_version"] = 99
    shutil.copy(run / "circuit.nc", root / "nokind.nc")
    with h5py.File(root / "nokind.nc", "a") as f:
        del f.attrs["kind"]
    (root / "a_file").write_text("x", encoding="utf-8")
    (root / "no_results").mkdir()
    shutil.copy(run / "circuit.nc", root / "no_results" / "circuit.nc")
    # recordings: condition averages (condition, time, neuron) in .npz, each wrong in one way
    rng = np.random.default_rng(0)
    rate = rng.standard_normal((3, 20, 8))
    t = np.arange(20) * 10.0
    np.savez(root / "rec_good.npz", rate=rate, t=t)
    nan = rate.copy()
    nan[1, 15:] = np.nan
    np.savez(root / "rec_nan.npz", rate=nan, t=t)
    np.savez(root / "rec_one.npz", rate=rate[:1], t=t)
    np.savez(root / "rec_time.npz", rate=rate, t=t[:-3])
    fit_toml = ('seed = 0\n[recording]\nrate = "rate"\naxes = ["condition", "time", "neuron"]\ntime = "t"\n'
                '[fit]\nn_units = 16\nsteps = 3\n')
    (root / "fit.toml").write_text(fit_toml, encoding="utf-8")
    (root / "fit_axes.toml").write_text(fit_toml.replace('["condition", "time", "neuron"]',
                                                         '["condition", "neuron", "time"]'), encoding="utf-8")
    (root / "fit_var.toml").write_text(fit_toml.replace('rate = "rate"', 'rate = "rates"'), encoding="utf-8")
    (root / "fit_nwb.toml").write_text('seed = 0\n[recording]\nbin_ms = 10.0\nwindow_ms = [0.0, 200.0]\n'
                                       '[fit]\nn_units = 16\nsteps = 3\n', encoding="utf-8")
    try:
        import pynwb  # noqa: F401 - an NWB file without a units table
        from datetime import datetime, timezone

        from pynwb import NWBHDF5IO, NWBFile

        nwb = NWBFile(session_description="no units", identifier="bad", session_start_time=datetime.now(timezone.utc))
        with NWBHDF5IO(str(root / "no_units.nwb"), "w") as io_:
            io_.write(nwb)
    except ImportError:
        pass
    one = root / "one_context"
    from neurobias.cli import main

    assert main(["run", str(root / "good.toml"), "--out", str(one), "--no-progress",
                 "--set", "task.frequencies_hz=[20.0]"]) == 0
    return root


def _toml(base: Path, name: str, text: str) -> Path:
    path = base / "configs" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _replace(old: str, new: str) -> str:
    assert old in TINY_TOML, old
    return TINY_TOML.replace(old, new)


@dataclass(frozen=True)
class Cli:
    argv: Callable[[Path], list[object]]
    needle: str  # words the error line must contain (case-insensitive)


def _fit_cli(recording: str, config: str, needle: str) -> Cli:
    """``neurobias fit-recordings base/recording --config base/config --out base/fit_out``, refused with ``needle``."""
    return Cli(lambda b: ["fit-recordings", b / recording, "--config", b / config, "--out", b / "fit_out"], needle)


R = "run"  # the good run directory, relative to base
CLI_CASES: dict[str, Cli] = {
    # configs
    "config-missing": Cli(lambda b: ["run", b / "nope.toml", "--out", b / "o"], "nope.toml"),
    "config-not-toml": Cli(lambda b: ["run", _toml(b, "bad.toml", "seed = = 3\n"), "--out", b / "o"], "toml"),
    "config-unknown-section": Cli(
        lambda b: ["run", _toml(b, "s.toml", TINY_TOML + "\n[circuitt]\nn_units = 3\n"), "--out", b / "o"],
        "circuitt"),
    "config-unknown-key": Cli(
        lambda b: ["run", _toml(b, "k.toml", _replace("n_units = 16", "n_unit = 16")), "--out", b / "o"],
        "n_unit"),
    "config-wrong-type": Cli(
        lambda b: ["run", _toml(b, "t.toml", _replace("n_units = 16", 'n_units = "many"')), "--out", b / "o"],
        "n_units"),
    "config-negative-units": Cli(
        lambda b: ["run", _toml(b, "n.toml", _replace("n_units = 16", "n_units = -4")), "--out", b / "o"],
        "n_units"),
    "config-zero-dt": Cli(lambda b: ["run", _toml(b, "dt.toml", _replace("dt = 5.0", "dt = 0.0")), "--out", b / "o"],
                          "dt"),
    "config-nan-tau": Cli(lambda b: ["run", _toml(b, "tau.toml", _replace("tau = 10.0", "tau = nan")),
                                     "--out", b / "o"], "tau"),
    "config-negative-lr": Cli(lambda b: ["run", _toml(b, "lr.toml", _replace("lr = 0.02", "lr = -1.0")),
                                         "--out", b / "o"], "lr"),
    "config-negative-steps": Cli(lambda b: ["run", _toml(b, "st.toml", _replace("steps = 5", "steps = -3")),
                                        "--out", b / "o"], "steps"),
    "config-unknown-task": Cli(lambda b: ["run", _toml(b, "task.toml", _replace('name = "sine"', 'name = "sinus"')),
                                          "--out", b / "o"], "sinus"),
    "task-above-nyquist": Cli(lambda b: ["run", _toml(b, "ny.toml", _replace("[20.0, 40.0]", "[20.0, 400.0]")),
                                         "--out", b / "o"], "frequencies_hz"),
    "task-no-contexts": Cli(lambda b: ["run", _toml(b, "nc.toml", _replace("[20.0, 40.0]", "[]")),
                                       "--out", b / "o"], "frequencies_hz"),
    "task-duplicate-contexts": Cli(lambda b: ["run", _toml(b, "dup.toml", _replace("[20.0, 40.0]", "[20.0, 20.0]")),
                                              "--out", b / "o"], "distinct"),
    # overrides
    "set-without-equals": Cli(lambda b: ["run", b / "good.toml", "--out", b / "o", "--set", "training.steps"],
                              "key=value"),
    "set-unknown-key": Cli(lambda b: ["run", b / "good.toml", "--out", b / "o", "--set", "training.stepz=3"],
                           "stepz"),
    "set-bad-value": Cli(lambda b: ["run", b / "good.toml", "--out", b / "o", "--set", "training.lr=fast"], "lr"),
    "set-unknown-phi": Cli(lambda b: ["run", b / "good.toml", "--out", b / "o", "--set", "circuit.phi=\"sin\""],
                           "phi"),
    "set-unknown-connectivity": Cli(
        lambda b: ["run", b / "good.toml", "--out", b / "o", "--set", "circuit.connectivity=\"ring\""],
        "connectivity"),
    "set-unknown-mode": Cli(lambda b: ["run", b / "good.toml", "--out", b / "o", "--set", "training.mode=\"all\""],
                            "mode"),
    "seed-negative": Cli(lambda b: ["run", b / "good.toml", "--out", b / "o", "--seed", "-1"], "seed"),
    # output locations
    "out-is-a-file": Cli(lambda b: ["run", b / "good.toml", "--out", b / "a_file"], "a_file"),
    "out-under-a-file": Cli(lambda b: ["run", b / "good.toml", "--out", b / "a_file" / "sub"], "a_file"),
    "resume-other-config": Cli(lambda b: ["run", b / "good.toml", "--out", b / R, "--resume", "--set",
                                          "training.lr=0.5", "--no-progress"], "another config"),
    # files of the wrong kind, truncated, from a newer schema
    "simulate-circuit-missing": Cli(lambda b: ["simulate", b / "nope.nc", b / R / "results.nc", "--out", b / "t.nc"],
                                    "nope.nc"),
    "simulate-results-is-circuit": Cli(lambda b: ["simulate", b / R / "circuit.nc", b / R / "circuit.nc",
                                                  "--out", b / "t.nc"], "expected a 'results' file"),
    "simulate-truncated-circuit": Cli(lambda b: ["simulate", b / "truncated.nc", b / R / "results.nc",
                                                 "--out", b / "t.nc"], "truncated.nc"),
    "simulate-empty-file": Cli(lambda b: ["simulate", b / "empty.nc", b / R / "results.nc", "--out", b / "t.nc"],
                               "empty.nc"),
    "simulate-text-file": Cli(lambda b: ["simulate", b / "text.nc", b / R / "results.nc", "--out", b / "t.nc"],
                              "text.nc"),
    "simulate-newer-schema": Cli(lambda b: ["simulate", b / "future.nc", b / R / "results.nc", "--out", b / "t.nc"],
                                 "99"),
    "simulate-no-kind": Cli(lambda b: ["simulate", b / "nokind.nc", b / R / "results.nc", "--out", b / "t.nc"],
                            "kind"),
    "simulate-unknown-context": Cli(lambda b: ["simulate", b / R / "circuit.nc", b / R / "results.nc",
                                               "--context", "sine_7Hz", "--out", b / "t.nc"], "sine_7Hz"),
    "simulate-negative-duration": Cli(lambda b: ["simulate", b / R / "circuit.nc", b / R / "results.nc",
                                                 "--duration", "-5", "--out", b / "t.nc"], "duration"),
    "simulate-zero-trials": Cli(lambda b: ["simulate", b / R / "circuit.nc", b / R / "results.nc",
                                           "--trials", "0", "--out", b / "t.nc"], "trials"),
    # analysis commands
    "fixed-points-missing-dir": Cli(lambda b: ["fixed-points", b / "nowhere"], "nowhere"),
    "fixed-points-no-results": Cli(lambda b: ["fixed-points", b / "no_results"], "results.nc"),
    "fixed-points-zero-candidates": Cli(lambda b: ["fixed-points", b / R, "--candidates", "0"], "candidates"),
    "fixed-points-text-candidates": Cli(lambda b: ["fixed-points", b / R, "--candidates", "many"], "candidates"),
    "continue-unknown-context": Cli(lambda b: ["continue", b / R, "--from", "sine_20Hz", "--to", "sine_99Hz"],
                                    "sine_99Hz"),
    "continue-missing-to": Cli(lambda b: ["continue", b / R, "--from", "sine_20Hz"], "--to"),
    "compare-one-context": Cli(lambda b: ["compare-contexts", b / "one_context"], "context"),
    "report-missing-dir": Cli(lambda b: ["report", b / "nowhere"], "nowhere"),
    "info-truncated": Cli(lambda b: ["info", b / "truncated.nc"], "truncated.nc"),
    # recordings
    "recording-nan-padding": _fit_cli("rec_nan.npz", "fit.toml", "nan"),
    "recording-one-condition": _fit_cli("rec_one.npz", "fit.toml", "condition"),
    "recording-time-axis-disagrees": _fit_cli("rec_time.npz", "fit.toml", "time"),
    "recording-wrong-axis-order": _fit_cli("rec_good.npz", "fit_axes.toml", "time"),
    "recording-missing-variable": _fit_cli("rec_good.npz", "fit_var.toml", "rates"),
    "recording-nwb-without-units": _fit_cli("no_units.nwb", "fit_nwb.toml", "units"),
    "recording-missing-file": _fit_cli("nope.npz", "fit.toml", "nope.npz"),
    "compare-recordings-not-a-fit": Cli(lambda b: ["compare-recordings", b / R], "fit"),
    "unknown-command": Cli(lambda b: ["trian", b / "good.toml"], "trian"),
}


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            st = p.stat()
            out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.mark.parametrize("case", sorted(CLI_CASES), ids=sorted(CLI_CASES))
def test_cli_bad_input(case: str, base: Path, run_cli) -> None:
    spec = CLI_CASES[case]
    argv = spec.argv(base)
    before = _snapshot(base)
    rc, out, err = run_cli(argv)
    after = _snapshot(base)
    assert rc == 2, (rc, out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("neurobias: error: ") and "Traceback" not in err
    assert spec.needle.lower() in lines[0].lower(), lines[0]
    if os.environ.get("NEUROBIAS_SHOW_ERRORS"):
        print(f"\n[{case}] {lines[0]}")
    # nothing written, nothing half-written (new files are only the configs this case made)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k) and not k.startswith("configs/")}
    assert not changed, f"files created or changed: {sorted(changed)}"


# -- the Python API ---------------------------------------------------------------------------------------------


def _circuit(n: int = 8):  # noqa: ANN202
    import neurobias as nb

    return nb.Circuit.random(n, n_inputs=1, n_outputs=1, seed=0)


def _api_cases(base: Path) -> dict[str, tuple[Callable[[], object], str]]:
    import neurobias as nb

    c = _circuit()
    tonic = np.zeros((2, 8))
    return {
        "circuit-zero-units": (lambda: nb.Circuit.random(0), "n_units"),
        "circuit-non-square": (lambda: nb.Circuit.from_arrays(W_rec=np.zeros((3, 4))), "W_rec"),
        "circuit-nan-weights": (lambda: nb.Circuit.from_arrays(W_rec=np.full((3, 3), np.nan)), "W_rec"),
        "circuit-bad-phi": (lambda: nb.Circuit.random(4, phi="sin"), "phi"),
        "simulate-tonic-shape": (lambda: nb.simulate(c, np.zeros((2, 5)), duration=10.0, dt=1.0), "(context, unit)"),
        "simulate-negative-dt": (lambda: nb.simulate(c, tonic, duration=10.0, dt=-1.0), "dt"),
        "fixed-points-nan-start": (lambda: nb.find_fixed_points(c, tonic, initial_states=np.full((1, 8), np.nan)),
                                   "initial_states"),
        "fixed-points-tonic-shape": (lambda: nb.find_fixed_points(c, np.zeros((2, 3))), "tonic"),
        "fixed-points-unknown-context": (lambda: nb.find_fixed_points(c, tonic, contexts=["a", "b", "c"]), "context"),
        "fixed-points-bad-tol": (lambda: nb.find_fixed_points(c, tonic, tol=-1.0), "tol"),
        "continue-unknown-start": (lambda: nb.continue_fixed_points(nb.open_circuit(base / R / "circuit.nc"),
                                                                    tonic=nb.open_results(base / R / "results.nc"),
                                                                    start="nope", end="sine_20Hz"), "nope"),
        "task-unknown": (lambda: nb.make_task("sinus", dt=1.0), "sinus"),
        "simulate-contexts-string": (lambda: nb.simulate(c, tonic, duration=10.0, dt=1.0, contexts="ab"),
                                     "sequence of context names"),
        "train-lr-text": (lambda: nb.train(c, nb.make_task("sine", dt=5.0), steps=1, lr="fast"), "`lr`"),
        "train-noise-nan": (lambda: nb.train(c, nb.make_task("sine", dt=5.0), steps=1, noise_std=float("nan")),
                            "noise_std"),
        "task-bad-dt": (lambda: nb.make_task("sine", dt=0.0), "dt"),
        "train-unknown-mode": (lambda: nb.train(c, nb.make_task("sine", dt=5.0), mode="everything", steps=1), "mode"),
        "config-missing": (lambda: nb.load_config(base / "nope.toml"), "nope.toml"),
        "override-unknown": (lambda: nb.apply_overrides(nb.default_config(), ["circuit.n_unitz=3"]), "n_unitz"),
        "read-truncated": (lambda: nb.read_dataset(base / "truncated.nc"), "truncated.nc"),
        "open-circuit-of-results": (lambda: nb.open_circuit(base / R / "results.nc"), "expected a 'circuit' file"),
        "open-newer-schema": (lambda: nb.open_circuit(base / "future.nc"), "99"),
    }


API_NAMES = sorted(_api_cases(Path("unused")))


@pytest.mark.parametrize("case", API_NAMES, ids=API_NAMES)
def test_api_bad_input(case: str, base: Path) -> None:
    from neurobias.errors import NeurobiasError

    call, needle = _api_cases(base)[case]
    before = _snapshot(base)
    with pytest.raises(NeurobiasError) as info:
        call()
    message = str(info.value)
    assert needle.lower() in message.lower(), message
    assert "\n" not in message.strip(), "one line"
    assert _snapshot(base) == before


def test_corpus_is_large_enough() -> None:
    assert len(CLI_CASES) + len(API_NAMES) >= 40
