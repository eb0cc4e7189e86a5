"""Tests of the ``neurobias`` command line: user errors, help, version, ``simulate``.

Most tests call :func:`neurobias.cli.main` in-process (``run_cli`` fixture);
two run the installed ``neurobias`` script to check the real exit code and
that stderr holds exactly one line and no traceback.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

import neurobias
from neurobias.cli import main
from neurobias.errors import ConfigError
from neurobias.io import read_dataset, sha256_array, write_dataset

PREFIX = "neurobias: error: "


def assert_one_line_error(rc: int, err: str, *needles: str) -> str:
    """Exit code 2 and exactly one stderr line ``neurobias: error: ...`` containing every needle."""
    assert rc == 2, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert err.endswith("\n")
    line = lines[0]
    assert line.startswith(PREFIX), line
    assert "Traceback" not in err
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    return line


def tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


# --------------------------------------------------------------------------- run: user errors
BAD_TOML = "seed = 1\n[circuit\nn_units = 16\n"
UNKNOWN_KEY_TOML = "[circuit]\nn_unit = 16\n"
UNKNOWN_TASK_TOML = '[task]\nname = "flip_flop"\n'

RUN_ERRORS = {
    # name: (config text or None for a missing file, extra argv, needles in the message)
    "missing config file": (None, [], ["config file not found", "missing.toml"]),
    "malformed TOML": (BAD_TOML, [], ["malformed TOML", "line 2"]),
    "unknown key in file": (UNKNOWN_KEY_TOML, [], ["`circuit.n_unit`", "did you mean `circuit.n_units`"]),
    "unknown key via --set": ("", ["--set", "training.step=3"], ["`training.step`", "did you mean `training.steps`"]),
    "unknown section via --set": ("", ["--set", "trainin.steps=3"], ["`trainin`", "training"]),
    "wrong type via --set": ("", ["--set", "training.steps=abc"], ["training.steps", "must be an int", "'abc'"]),
    "float for int via --set": ("", ["--set", "training.steps=1.5"], ["training.steps", "must be an int"]),
    "bool for float via --set": ("", ["--set", "circuit.g=true"], ["circuit.g", "must be a float"]),
    "negative tau via --set": ("", ["--set", "circuit.tau=-1"], ["circuit.tau", "positive", "-1"]),
    "zero dt via --set": ("", ["--set", "simulation.dt=0"], ["simulation.dt", "positive"]),
    "unknown task via --set": ("", ["--set", "task.name=sinus"], ["task.name", "'sinus'", "did you mean 'sine'"]),
    "unknown task in file": (UNKNOWN_TASK_TOML, [], ["task.name", "'flip_flop'", "'flipflop'"]),
    "unknown choice via --set": ("", ["--set", "circuit.phi=tanhh"], ["circuit.phi", "'tanh'"]),
    "malformed --set (no =)": ("", ["--set", "training.steps"], ["malformed override", "'training.steps'"]),
    "malformed --set (no section)": ("", ["--set", "steps=3"], ["malformed override", "section.key"]),
    "negative --seed": ("", ["--seed", "-1"], ["seed", ">= 0"]),
    "non-integer --seed": ("", ["--seed", "x"], ["--seed", "invalid int value"]),
    "duration not a multiple of dt": ("", ["--set", "task.duration_ms=52.0"], ["duration_ms", "multiple"]),
    "unknown option": ("", ["--frobnicate"], ["unrecognized arguments", "--frobnicate"]),
}


@pytest.mark.parametrize("case", list(RUN_ERRORS))
def test_run_user_errors_one_line_exit_2_nothing_created(case, tmp_path, tiny_config, run_cli):
    text, extra, needles = RUN_ERRORS[case]
    if text is None:
        config = tmp_path / "missing.toml"
    elif text == "":
        config = tiny_config
    else:
        config = tmp_path / "bad.toml"
        config.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    before = tree(tmp_path)
    rc, stdout, err = run_cli(["run", config, "--out", out, "--no-progress", *extra])
    assert_one_line_error(rc, err, *needles)
    assert stdout == ""
    assert not out.exists()
    assert tree(tmp_path) == before


def test_run_missing_out_option_is_a_user_error(tiny_config, run_cli):
    rc, _, err = run_cli(["run", tiny_config])
    assert_one_line_error(rc, err, "--out", "required")


@pytest.mark.parametrize("sub", ["sub", "sub/deeper"])
def test_run_output_dir_under_a_regular_file(sub, tmp_path, tiny_config, run_cli):
    afile = tmp_path / "somefile"
    afile.write_text("not a directory\n")
    rc, _, err = run_cli(["run", tiny_config, "--out", afile / sub, "--no-progress"])
    assert_one_line_error(rc, err, "somefile")
    assert afile.is_file() and afile.read_text() == "not a directory\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["somefile", "tiny.toml"]


def test_run_output_dir_is_a_regular_file(tmp_path, tiny_config, run_cli):
    afile = tmp_path / "somefile"
    afile.write_text("x")
    rc, _, err = run_cli(["run", tiny_config, "--out", afile, "--no-progress"])
    assert_one_line_error(rc, err, "somefile", "not a directory")
    assert afile.read_text() == "x"


@pytest.mark.parametrize("out_rel", ["out", "new/nested/out"])
def test_run_divergence_is_a_user_error_and_leaves_nothing(out_rel, tmp_path, tiny_config, run_cli):
    # a linear circuit with gain 1e4 overflows float32 in the first step
    out = tmp_path / out_rel
    rc, stdout, err = run_cli(["run", tiny_config, "--out", out, "--no-progress", "--set", "circuit.phi=linear",
                               "--set", "circuit.g=1e4", "--set", "simulation.x0_std=1.0"])
    assert_one_line_error(rc, err, "training diverged", "training.lr")
    assert stdout == ""
    # neither the output directory nor any parent this call created is left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml"]


def test_run_error_keeps_an_existing_output_dir_and_its_files(tmp_path, tiny_config, run_cli):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    rc, _, err = run_cli(["run", tiny_config, "--out", out, "--no-progress", "--set", "circuit.phi=linear",
                          "--set", "circuit.g=1e4", "--set", "simulation.x0_std=1.0"])
    assert_one_line_error(rc, err, "training diverged")
    assert tree(out) == ["keep.txt"]


def test_debug_shows_the_traceback(tmp_path, tiny_config):
    with pytest.raises(ConfigError, match="config file not found"):
        main(["--debug", "run", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "out")])
    with pytest.raises(ConfigError, match="training.step"):
        main(["run", str(tiny_config), "--out", str(tmp_path / "out"), "--set", "training.step=3", "--debug"])
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- version and help
def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"neurobias {neurobias.__version__}"


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["simulate", "--help"]])
def test_help_exits_0_with_an_example(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "example" in out
    assert out.startswith("usage: neurobias")


def test_no_command_prints_help_and_exits_2(run_cli):
    rc, out, _ = run_cli([])
    assert rc == 2
    assert "run" in out and "simulate" in out


def test_argument_errors_name_the_program_once_and_the_subcommand(run_cli):
    rc, _, err = run_cli(["bogus"])
    line = assert_one_line_error(rc, err, "argument COMMAND", "invalid choice", "'bogus'", "`neurobias --help`")
    assert line.count("neurobias:") == 1
    rc, _, err = run_cli(["fixed-points"])
    line = assert_one_line_error(rc, err, "RUN_DIR", "`neurobias fixed-points --help`")
    assert line.startswith(PREFIX + "fixed-points: ")


@pytest.mark.parametrize(("extra", "progress"), [([], True), (["--no-progress"], False)])
def test_continue_shows_progress_unless_asked_not_to(monkeypatch, run_cli, tmp_path, extra, progress):
    import neurobias.workflows.analyses as analyses

    seen = {}

    def fake(run_dir, **kwargs):
        seen.update(kwargs)
        raise ConfigError("stop here")  # the options reached the workflow; nothing to compute

    monkeypatch.setattr(analyses, "analyse_continuation", fake)
    rc, _, err = run_cli(["continue", tmp_path, "--from", "a", "--to", "b", *extra])
    assert_one_line_error(rc, err, "stop here")
    assert seen["progress"] is progress


# --------------------------------------------------------------------------- simulate
def test_simulate_one_context_matches_the_results(tiny_run, tmp_path, run_cli):
    d = tiny_run["dir"]
    res = read_dataset(d / "results.nc", kind="results")
    n_trials = res.sizes["trial"]
    out = tmp_path / "sims" / "sim.nc"
    # same seed and number of trials as the run's evaluation: the same trials
    rc, stdout, err = run_cli(["simulate", d / "circuit.nc", d / "results.nc", "--context", "sine_40Hz",
                               "--out", out, "--seed", res.attrs["seed"], "--trials", n_trials])
    assert rc == 0, err
    assert err == ""
    assert f"trajectories: {out}" in stdout and "1 context(s)" in stdout
    sim = neurobias.read_dataset(out, kind="trajectories")
    assert list(sim["context"].values) == ["sine_40Hz"]
    assert sim["z"].dims == ("context", "trial", "time", "output")
    assert sim["x"].dims == ("context", "trial", "time", "unit")
    assert sim.sizes["trial"] == n_trials
    np.testing.assert_array_equal(sim["time"].values, res["time"].values)
    ref = res.sel(context=["sine_40Hz"])
    np.testing.assert_allclose(sim["z"].values, ref["z"].values, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sim["x"].values, ref["x"].values, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(sim["target"].values, ref["target"].values)
    assert sim.attrs["config"] == res.attrs["config"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["sim.nc"]  # no temporary files


def test_simulate_all_contexts_by_default(tiny_run, tmp_path, run_cli):
    d = tiny_run["dir"]
    rc, _, err = run_cli(["simulate", d / "circuit.nc", d / "results.nc", "--out", tmp_path / "all.nc",
                          "--method", "exp_euler", "--noise-std", "0.01", "--seed", "3"])
    assert rc == 0, err
    sim = neurobias.read_dataset(tmp_path / "all.nc", kind="trajectories")
    assert list(sim["context"].values) == ["sine_20Hz", "sine_40Hz"]
    assert sim.attrs["method"] == "exp_euler"
    assert np.all(np.isfinite(sim["z"].values))


def test_simulate_duration_without_input(tiny_run, tmp_path, run_cli):
    d = tiny_run["dir"]
    out = tmp_path / "long.nc"
    rc, stdout, err = run_cli(["simulate", d / "circuit.nc", d / "results.nc", "--duration", "100",
                               "--context", "sine_20Hz", "--trials", "2", "--out", out])
    assert rc == 0, err
    sim = neurobias.read_dataset(out, kind="trajectories")
    dt = float(sim.attrs["dt"])
    assert dt == 5.0
    assert sim["z"].dims == ("context", "trial", "time", "output")
    assert sim.sizes["context"] == 1 and sim.sizes["trial"] == 2
    assert sim.sizes["time"] == round(100 / dt)
    assert sim["time"].values[-1] == pytest.approx(100.0)
    assert np.all(np.diff(sim["time"].values) == pytest.approx(dt))
    assert np.all(np.isfinite(sim["z"].values)) and np.all(np.isfinite(sim["x"].values))


# --------------------------------------------------------------------------- simulate: user errors
@pytest.fixture
def bad_circuit_files(tiny_run, tmp_path) -> dict[str, Path]:
    d = tiny_run["dir"]
    files: dict[str, Path] = {}
    raw = (d / "circuit.nc").read_bytes()
    files["truncated"] = tmp_path / "truncated.nc"
    files["truncated"].write_bytes(raw[: len(raw) // 2])
    files["empty"] = tmp_path / "empty.nc"
    files["empty"].write_bytes(b"")
    files["text"] = tmp_path / "text.nc"
    files["text"].write_text("seed = 1\n")
    # NaN weights with a matching fingerprint: the schema accepts the file, the circuit does not
    ds = read_dataset(d / "circuit.nc", kind="circuit")
    w = ds["W_rec"].values.copy()
    w[0, 1] = np.nan
    ds["W_rec"] = (ds["W_rec"].dims, w)
    ds.attrs["sha256_W_rec"] = sha256_array(w)
    files["nan"] = write_dataset(ds, tmp_path / "nan.nc", kind="circuit")
    # NaN written behind neurobias' back (h5py): the fingerprint no longer matches
    files["nan_h5py"] = tmp_path / "nan_h5py.nc"
    shutil.copyfile(d / "circuit.nc", files["nan_h5py"])
    with h5py.File(files["nan_h5py"], "r+") as f:
        arr = f["W_rec"][...]
        arr[2, 3] = np.nan
        f["W_rec"][...] = arr
    return files


SIM_ERRORS = {
    # name: (circuit, results, extra argv, needles); "C"/"R" are the tiny run's files
    "missing circuit file": ("missing", "R", [], ["not found", "missing.nc"]),
    "missing results file": ("C", "missing", [], ["not found", "missing.nc"]),
    "truncated circuit file": ("truncated", "R", [], ["truncated.nc", "not a readable netCDF4/HDF5 file"]),
    "empty circuit file": ("empty", "R", [], ["empty.nc", "not a readable"]),
    "text as circuit file": ("text", "R", [], ["text.nc", "not a readable"]),
    "results given as circuit": ("R", "R", [], ["results.nc", "'results' file", "expected a 'circuit' file"]),
    "circuit given as results": ("C", "C", [], ["circuit.nc", "expected a 'results' file"]),
    "NaN weights": ("nan", "R", [], ["W_rec", "finite"]),
    "NaN weights edited with h5py": ("nan_h5py", "R", [], ["W_rec", "sha256_W_rec", "modified or corrupted"]),
    "unknown context": ("C", "R", ["--context", "sine_30Hz"], ["'sine_30Hz'", "sine_20Hz, sine_40Hz"]),
    "zero trials": ("C", "R", ["--trials", "0"], ["--trials", ">= 1"]),
    "negative duration": ("C", "R", ["--duration", "-5"], ["duration", "-5"]),
    "dt not dividing the task": ("C", "R", ["--dt", "3"], ["dt", "multiple"]),
    "negative noise": ("C", "R", ["--noise-std", "-1"], ["noise_std"]),
    "unknown method": ("C", "R", ["--method", "rk4"], ["--method", "invalid choice", "'rk4'"]),
}


@pytest.mark.parametrize("case", list(SIM_ERRORS))
def test_simulate_user_errors_one_line_exit_2_nothing_created(case, tiny_run, bad_circuit_files, tmp_path,
                                                               run_cli):
    circuit_key, results_key, extra, needles = SIM_ERRORS[case]

    def path(key: str) -> Path:
        return {"C": tiny_run["dir"] / "circuit.nc", "R": tiny_run["dir"] / "results.nc",
                "missing": tmp_path / "missing.nc"}.get(key) or bad_circuit_files[key]

    out = tmp_path / "simdir" / "sim.nc"
    before = tree(tmp_path)
    rc, stdout, err = run_cli(["simulate", path(circuit_key), path(results_key), "--out", out, *extra])
    assert_one_line_error(rc, err, *needles)
    assert stdout == ""
    assert not out.parent.exists()  # the output's directory is not created (or is removed again)
    assert tree(tmp_path) == before


def test_simulate_out_under_a_regular_file(tiny_run, tmp_path, run_cli):
    d = tiny_run["dir"]
    afile = tmp_path / "somefile"
    afile.write_text("x")
    rc, _, err = run_cli(["simulate", d / "circuit.nc", d / "results.nc", "--out", afile / "sim.nc"])
    assert_one_line_error(rc, err, "somefile")
    assert afile.read_text() == "x"


def test_simulate_debug_raises(tmp_path):
    with pytest.raises(neurobias.InputError, match="not found"):
        main(["simulate", str(tmp_path / "c.nc"), str(tmp_path / "r.nc"), "--out", str(tmp_path / "s.nc"), "--debug"])


# --------------------------------------------------------------------------- the real executable
def _neurobias_command() -> list[str]:
    script = Path(sys.executable).with_name("neurobias")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "neurobias.cli"]


def _run_process(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run([*_neurobias_command(), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_executable_config_error_is_one_line_exit_2(tmp_path, tiny_config):
    proc = _run_process(["run", str(tiny_config), "--out", "out", "--set", "circuit.n_unit=8"], tmp_path)
    assert proc.stdout == ""
    assert_one_line_error(proc.returncode, proc.stderr, "`circuit.n_unit`", "did you mean `circuit.n_units`")
    assert not (tmp_path / "out").exists()


def test_executable_nan_circuit_is_one_line_exit_2(tiny_run, bad_circuit_files, tmp_path):
    d = tiny_run["dir"]
    proc = _run_process(["simulate", str(bad_circuit_files["nan"]), str(d / "results.nc"), "--out", "sim/s.nc"],
                        tmp_path)
    assert proc.stdout == ""
    assert_one_line_error(proc.returncode, proc.stderr, "W_rec", "finite")
    assert not (tmp_path / "sim").exists()


def test_a_warning_prints_one_line_and_the_command_still_succeeds(monkeypatch, capsys):
    """A ConvergenceWarning raised by a command reaches the user as one line on stderr."""
    import argparse
    import warnings

    import neurobias.cli as cli
    from neurobias.errors import ConvergenceWarning

    def handler(args):
        warnings.warn("fitting (bias) ended with a loss of 0.0125,\n above its start 0.0111", ConvergenceWarning)
        return 0

    def build():
        parser = argparse.ArgumentParser(prog="neurobias")
        sub = parser.add_subparsers(dest="command")
        sub.add_parser("warns")
        return parser, {"warns": handler}

    monkeypatch.setattr(cli, "_build", build)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        shown_before = warnings.showwarning
        assert cli.main(["warns"]) == 0
        assert warnings.showwarning is shown_before  # the one-line display is scoped to the command
    err = capsys.readouterr().err
    assert err == ("neurobias: warning: ConvergenceWarning: fitting (bias) ended with a loss of 0.0125, above its "
                   "start 0.0111\n")
