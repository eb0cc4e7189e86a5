"""Faults: SIGKILL mid-work, unwritable outputs, a full disk.

* SIGKILL during training (``neurobias run`` with checkpoints) and during a
  fixed-point search: nothing partial is left under a final name, and after a
  restart (``--resume``; a plain rerun) the files are identical to those of an
  uninterrupted run.
* An output under a regular file, a name too long for the file system, a
  read-only directory (a real one when not root; a simulated read-only file
  system, EROFS, otherwise) are reported by every writing command before its
  work starts: one line, exit 2, nothing created.
* A disk that fills up while writing: one line, exit 2, no partial file.
"""
from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import TEMP_NAME, sigkill, wait_for
from neurobias.io import read_dataset
from test_determinism import differences

# what the atomic writes leave if killed between creating and renaming their temporary file
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
TRAIN_SETS = ("training.steps=80", "training.checkpoint_every=5", "task.duration_ms=100.0")


def _sets(sets: tuple[str, ...]) -> list[str]:
    return [a for s in sets for a in ("--set", s)]


def _visible(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir() if not p.name.startswith("."))


def _hidden_are_temporary(d: Path) -> None:
    hidden = [p.name for p in d.iterdir() if p.name.startswith(".")]
    assert all(TEMP_NAME.match(name) for name in hidden), hidden


# --------------------------------------------------------------------------- SIGKILL during training
def test_sigkill_during_training_then_resume_equals_an_uninterrupted_run(tiny_config, tmp_path, run_cli):
    from neurobias.io.checkpoint import load_checkpoint

    killed = tmp_path / "killed"
    cmd = [sys.executable, "-m", "neurobias.cli", "run", str(tiny_config), "--out", str(killed), "--no-progress",
           *_sets(TRAIN_SETS)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: (killed / "checkpoint.npz").exists(), proc)
    sigkill(proc)

    # killed mid-training: a complete checkpoint, nothing else under a final name
    assert _visible(killed) == ["checkpoint.npz"]
    _hidden_are_temporary(killed)
    _, meta = load_checkpoint(killed / "checkpoint.npz")
    assert 5 <= meta["step"] < 80 and meta["step"] % 5 == 0 and not meta["finished"]

    from neurobias.tasks.base import Task

    sample_all, calls = Task.sample_all, []

    def counting(self, batch, rng):  # noqa: ANN001, ANN202
        calls.append(batch)
        return sample_all(self, batch, rng)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Task, "sample_all", counting)
        rc, _, err = run_cli(["run", tiny_config, "--out", killed, "--no-progress", "--resume", *_sets(TRAIN_SETS)])
    assert rc == 0, err
    # the remaining training batches, the batch scoring the final parameters, and the evaluation: resumed
    assert len(calls) == (80 - meta["step"]) + 1 + 1
    reference = tmp_path / "reference"
    rc, _, err = run_cli(["run", tiny_config, "--out", reference, "--no-progress", *_sets(TRAIN_SETS)])
    assert rc == 0, err
    assert _visible(killed) == _visible(reference) == ["checkpoint.npz", "circuit.nc", "results.nc"]
    for name, kind in (("circuit.nc", "circuit"), ("results.nc", "results")):
        assert differences(reference / name, killed / name, kind) == [], name
    assert int(read_dataset(killed / "results.nc").attrs["steps_done"]) == 80


# --------------------------------------------------------------------------- SIGKILL during a fixed-point search
# Runs `neurobias fixed-points` with a marker file written as the search starts, so that the kill lands in it.
_HOOKED_FIXED_POINTS = """
import sys
from pathlib import Path

import neurobias.analysis as analysis
from neurobias.cli import main

marker, argv = Path(sys.argv[1]), sys.argv[2:]
search = analysis.find_fixed_points


def started(*args, **kwargs):
    marker.write_text("searching")
    return search(*args, **kwargs)


analysis.find_fixed_points = started
sys.exit(main(argv))
"""


def test_sigkill_during_fixed_point_search_then_rerun_equals_an_uninterrupted_run(tiny_run, tmp_path, run_cli):
    killed, reference = tmp_path / "killed", tmp_path / "reference"
    shutil.copytree(tiny_run["dir"], killed)
    shutil.copytree(tiny_run["dir"], reference)
    before = _visible(killed)
    args = ["--candidates", "64", "--no-figures"]
    marker = tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, "-c", _HOOKED_FIXED_POINTS, str(marker), "fixed-points", str(killed),
                             *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(marker.exists, proc)
    time.sleep(0.02)
    sigkill(proc)
    assert _visible(killed) == before  # no fixed_points.nc, partial or not
    _hidden_are_temporary(killed)

    rc, _, err = run_cli(["fixed-points", killed, *args])
    assert rc == 0, err
    rc, _, err = run_cli(["fixed-points", reference, *args])
    assert rc == 0, err
    assert _visible(killed) == _visible(reference) == sorted([*before, "fixed_points.nc"])
    assert differences(reference / "fixed_points.nc", killed / "fixed_points.nc", "fixed_points") == []


# --------------------------------------------------------------------------- unwritable outputs
class WorkStarted(Exception):
    """Raised by the stand-ins of the expensive work: the output check came too late."""


def _no_work(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
    raise WorkStarted("the command started its work before finding that its output cannot be written")


# the work each command does before it writes, replaced by _no_work
WORK = {
    "run": ("neurobias.workflows.run", "train"),
    "simulate": ("neurobias.circuit", "simulate"),
    "fixed-points": ("neurobias.analysis", "find_fixed_points"),
    "continue": ("neurobias.analysis.continuation", "continue_fixed_points"),
    "compare-contexts": ("neurobias.analysis.context_comparison", "compare_contexts"),
    "report": ("neurobias.workflows.report", "render_report"),
}


def _argv(command: str, run_dir: Path, config: Path, out: Path | None) -> list[str]:
    """``command`` writing to ``out`` (a directory for run, a file otherwise; None: the default in run_dir)."""
    o = [] if out is None else ["--out", str(out)]
    return {
        "run": ["run", str(config), "--no-progress", *o],
        "simulate": ["simulate", str(run_dir / "circuit.nc"), str(run_dir / "results.nc"), *o],
        "fixed-points": ["fixed-points", str(run_dir), "--no-figures", *o],
        "continue": ["continue", str(run_dir), "--from", "sine_20Hz", "--to", "sine_40Hz", "--no-figures", *o],
        "compare-contexts": ["compare-contexts", str(run_dir), "--no-figures", *o],
        "report": ["report", str(run_dir), *o],
    }[command]


def _tree(d: Path) -> list[str]:
    return sorted(str(p.relative_to(d)) for p in d.rglob("*"))


@pytest.fixture
def no_work(tiny_run, tiny_config, tmp_path, monkeypatch):
    """A copy of the tiny run in ``tmp_path/run`` and the expensive work of every command disabled."""
    import importlib

    run_dir = tmp_path / "run"
    shutil.copytree(tiny_run["dir"], run_dir)
    for module, name in WORK.values():
        monkeypatch.setattr(importlib.import_module(module), name, _no_work)
    return run_dir, tiny_config


def _check_one_line_nothing_created(rc: int, err: str, tmp_path: Path, before: list[str], *patterns: str) -> None:
    assert rc == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("neurobias: error: "), err
    for pattern in patterns:
        assert re.search(pattern, err), (pattern, err)
    assert _tree(tmp_path) == before


@pytest.mark.parametrize("command", WORK)
def test_output_under_a_regular_file_is_reported_before_work(command, no_work, tmp_path, run_cli):
    run_dir, config = no_work
    blocker = tmp_path / "blocker.txt"
    blocker.write_text("a file, not a directory\n")
    before = _tree(tmp_path)
    out = blocker / "sub" / ("o" if command == "run" else "out.nc")
    rc, _, err = run_cli(_argv(command, run_dir, config, out))
    _check_one_line_nothing_created(rc, err, tmp_path, before, re.escape(str(blocker)),
                                    r"not a directory|is a file|Not a directory")


@pytest.mark.parametrize("command", WORK)
def test_output_name_too_long_is_reported_before_work(command, no_work, tmp_path, run_cli):
    run_dir, config = no_work
    before = _tree(tmp_path)
    long_name = "x" * 300  # longer than any file system's NAME_MAX (255)
    out = tmp_path / long_name / ("o" if command == "run" else "out.nc")
    rc, _, err = run_cli(_argv(command, run_dir, config, out))
    _check_one_line_nothing_created(rc, err, tmp_path, before, "File name too long")


@pytest.fixture
def read_only(no_work, tmp_path, monkeypatch):
    """``tmp_path/ro`` and the run directory, read-only: chmod when not root, else a simulated read-only mount.

    Root ignores permission bits, so as root (as in CI) the directories behave as on a file system mounted
    read-only: creating anything in them fails with EROFS, as the kernel would report it.
    """
    run_dir, config = no_work
    ro = tmp_path / "ro"
    ro.mkdir()
    dirs = (ro, run_dir, run_dir / "figures")
    if not IS_ROOT:
        for d in dirs:
            if d.exists():
                d.chmod(0o555)
        yield run_dir, config, ro
        for d in dirs:
            if d.exists():
                d.chmod(0o755)
        return
    real_open, real_mkdir = os.open, os.mkdir

    def refuse(path) -> bool:  # noqa: ANN001
        p = Path(os.fsdecode(path)).absolute()
        return any(p.parent == d or d in p.parents for d in dirs)

    def ro_open(path, flags, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if flags & (os.O_CREAT | os.O_WRONLY | os.O_RDWR) and refuse(path):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)

    def ro_mkdir(path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if refuse(path):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", ro_open)
    monkeypatch.setattr(os, "mkdir", ro_mkdir)
    yield run_dir, config, ro


@pytest.mark.parametrize("command", WORK)
def test_read_only_output_directory_is_reported_before_work(command, read_only, tmp_path, run_cli):
    run_dir, config, ro = read_only
    before = _tree(tmp_path)
    # run and simulate write into ro/; the analyses write into the read-only run directory by default
    out = {"run": ro / "o", "simulate": ro / "sim.nc"}.get(command)
    rc, _, err = run_cli(_argv(command, run_dir, config, out))
    reason = "Read-only file system" if IS_ROOT else "Permission denied"
    where = ro if out is not None else run_dir
    _check_one_line_nothing_created(rc, err, tmp_path, before, reason, re.escape(str(where)))


def test_read_only_stand_in_refuses_what_the_checks_try(read_only):
    """The stand-in read-only directories refuse creating files (os.open, tempfile) and directories, and no more.

    (As root it intercepts ``os.open`` and ``os.mkdir``, through which the checks and :mod:`tempfile` create
    things; without root the directories are really read-only.)
    """
    import tempfile

    run_dir, _, ro = read_only
    attempts = (
        lambda: os.open(ro / "f", os.O_WRONLY | os.O_CREAT | os.O_EXCL),
        lambda: tempfile.mkstemp(dir=run_dir),
        lambda: (ro / "d").mkdir(),
        lambda: (run_dir / "figures" / "sub").mkdir(parents=True),
    )
    for attempt in attempts:
        with pytest.raises(OSError) as info:
            attempt()
        assert info.value.errno in (errno.EROFS, errno.EACCES)
    assert _visible(ro) == []
    fd = os.open(run_dir / "results.nc", os.O_RDONLY)  # reading still works
    assert os.read(fd, 4) == b"\x89HDF"
    os.close(fd)
    fd, name = tempfile.mkstemp(dir=ro.parent)  # and so does writing elsewhere
    os.close(fd)
    os.unlink(name)


@pytest.mark.skipif(IS_ROOT, reason="root ignores permission bits; the simulated read-only mount tests this as root")
def test_real_read_only_directory_is_refused_by_the_kernel(tmp_path):
    from neurobias.errors import InputError
    from neurobias.io.files import check_writable_dir, check_writable_file

    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(InputError, match="not writable"):
            check_writable_dir(ro)
        with pytest.raises(InputError, match="Permission denied"):
            check_writable_file(ro / "a" / "b.nc")
    finally:
        ro.chmod(0o755)


# --------------------------------------------------------------------------- disk full while writing
def test_disk_full_while_writing_is_one_line_and_leaves_no_partial_file(tiny_run, tmp_path, run_cli, monkeypatch):
    import neurobias.io.netcdf as netcdf

    run_dir = tmp_path / "run"
    shutil.copytree(tiny_run["dir"], run_dir)
    before = _tree(tmp_path)
    real = netcdf._to_netcdf

    def fills_the_disk(ds, path, encoding):  # noqa: ANN001, ANN202
        real(ds, path, encoding)  # the temporary file is there, complete or not ...
        with open(path, "r+b") as fh:
            fh.truncate(100)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))  # ... when the disk fills up

    monkeypatch.setattr(netcdf, "_to_netcdf", fills_the_disk)
    rc, _, err = run_cli(["fixed-points", run_dir, "--candidates", "8", "--no-figures"])
    _check_one_line_nothing_created(rc, err, tmp_path, before, "No space left on device",
                                    re.escape(str(run_dir / "fixed_points.nc")))


def test_temporary_name_pattern_matches_the_atomic_writer(tmp_path):
    """TEMP_NAME recognises exactly what neurobias.io.files names its temporary files."""
    from neurobias.io.files import _temp_name

    for name in ("results.nc", "checkpoint.npz", "fixed_points.nc", "report.html"):
        assert TEMP_NAME.match(_temp_name(tmp_path / name).name), name
    assert not TEMP_NAME.match("results.nc") and not TEMP_NAME.match(".hidden")
