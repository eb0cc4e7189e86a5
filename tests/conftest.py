"""Shared fixtures: a tiny run config, one tiny run on disk, CLI and file-comparison helpers.

The tiny config trains a 16-unit circuit on two 50 ms sine contexts for 5
steps (dt = 5 ms), so a whole ``neurobias run`` takes about a second.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest


# The public recordings: read from $NEUROBIAS_DATA, never downloaded by the tests.  Where the variable is
# unset, the team's copy beside the repository (../shared/data) is used when it exists; tests that need a
# recording skip with a reason otherwise (:func:`recording_path`).
_SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
if not os.environ.get("NEUROBIAS_DATA", "").strip() and _SHARED_DATA.is_dir():
    os.environ["NEUROBIAS_DATA"] = str(_SHARED_DATA)


def recording_path(name: str) -> Path | None:
    """The local file of registered recording ``name`` under ``$NEUROBIAS_DATA``, or ``None`` if absent."""
    from neurobias.datasets import RECORDINGS, local_data_dir

    folder = local_data_dir()
    if folder is None or not (folder / RECORDINGS[name].path).is_file():
        return None
    return folder / RECORDINGS[name].path


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> Iterator[None]:
    """Run the suite on one torch thread, as neurobias's own loops and solves do (see neurobias/circuit/threads.py).

    Tests that change the thread count restore it; the caller's count is restored after the session.
    """
    from neurobias.circuit.threads import one_thread

    with one_thread():
        yield

TINY_TOML = """\
# tiny run for the tests: 16 units, two 50 ms sine contexts, 5 steps
seed = 7

[circuit]
n_units = 16
tau = 10.0

[task]
name = "sine"
frequencies_hz = [20.0, 40.0]
duration_ms = 50.0

[training]
steps = 5
lr = 0.02
batch_size = 1
checkpoint_every = 0

[simulation]
dt = 5.0

[output]
n_trials = 2
figures = false
"""

# --set overrides that make any config tiny (circuit and training only; tasks differ in their keys)
TINY_SETS: tuple[str, ...] = (
    "circuit.n_units=16",
    "training.steps=5",
    "training.batch_size=1",
    "output.n_trials=1",
    "output.figures=false",
)


def write_tiny_config(path: Path, text: str = TINY_TOML) -> Path:
    path = Path(path)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tiny_config(tmp_path: Path) -> Path:
    """Path of a fresh copy of the tiny TOML config (see :data:`TINY_TOML`)."""
    return write_tiny_config(tmp_path / "tiny.toml")


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[[Sequence[str]], tuple[int, str, str]]:
    """Call ``neurobias.cli.main(argv)`` in-process; returns ``(exit code, stdout, stderr)``."""
    from neurobias.cli import main

    def _run(argv: Sequence[str]) -> tuple[int, str, str]:
        capsys.readouterr()  # drop anything captured before
        rc = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return rc, out, err

    return _run


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """One tiny ``neurobias run`` with figures, shared by the tests that only read its files.

    Returns a dict with ``dir`` (the output directory), ``config`` (the TOML
    path), ``argv``, ``rc`` and ``stdout``.  Do not modify the files.
    """
    from neurobias.cli import main

    base = tmp_path_factory.mktemp("tiny_run")
    config = write_tiny_config(base / "tiny.toml")
    out = base / "out"
    argv = ["run", str(config), "--out", str(out), "--no-progress", "--set", "output.figures=true"]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(argv)
    return {"dir": out, "config": config, "argv": argv, "rc": rc, "stdout": buf.getvalue()}


def _values(var: object) -> np.ndarray:
    return np.asarray(getattr(var, "values"))


def assert_same_arrays(path_a: Path, path_b: Path, *, kind: str) -> None:
    """Every data variable and coordinate of two neurobias files: same names, dims, dtype and values."""
    from neurobias.io import read_dataset

    a = read_dataset(path_a, kind=kind)
    b = read_dataset(path_b, kind=kind)
    assert sorted(a.variables) == sorted(b.variables)
    assert dict(a.sizes) == dict(b.sizes)
    for name in a.variables:
        va, vb = a.variables[name], b.variables[name]
        assert va.dims == vb.dims, name
        assert va.dtype == vb.dtype, name
        xa, xb = _values(va), _values(vb)
        if xa.dtype.kind == "f":
            # bitwise: identical runs must give identical bytes, NaNs included
            assert xa.tobytes() == xb.tobytes(), f"variable `{name}` differs"
        else:
            assert np.array_equal(xa, xb), f"variable `{name}` differs"


@pytest.fixture
def same_arrays() -> Callable[..., None]:
    """:func:`assert_same_arrays` as a fixture (``same_arrays(a, b, kind="results")``)."""
    return assert_same_arrays


# ---------------------------------------------------------------- SIGKILL fault tests
#: a hidden temp file of an atomic write (``.<stem>.tmp-<host>-<pid>-<hex><suffix>``)
TEMP_NAME = re.compile(r"^\.[\w.-]+\.tmp-\w+-\d+-[0-9a-f]{12}\.\w+$")


def wait_for(predicate: Callable[[], bool], proc: subprocess.Popen, *, timeout: float = 120.0) -> None:
    """Poll ``predicate`` until true; fail (killing ``proc``) if the process ends first or ``timeout`` s pass."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"the process ended (rc {proc.returncode}) before it could be killed")
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise AssertionError("timed out waiting for the process")
        time.sleep(0.005)


def sigkill(proc: subprocess.Popen) -> None:
    """Kill ``proc`` with SIGKILL and check that it died of it."""
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL


# ---------------------------------------------------------------- a real browser
#: Debian's chromium (``.ci/run`` installs it with apt-get), driven by Playwright (a dev dependency)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NO_CHROMIUM = "Debian's chromium is not installed (.ci/run installs it with apt-get)"


@contextlib.contextmanager
def chromium_page(*, width: int = 1200, height: int = 900) -> Iterator[tuple[Any, list[str], list[str]]]:
    """A headless chromium page: yields ``(page, errors, requests)``.

    ``errors`` collects the console errors and uncaught page errors, ``requests``
    the URL of every request the page makes.  Skips the test where chromium or
    Playwright is missing.
    """
    if CHROMIUM is None:
        pytest.skip(NO_CHROMIUM)
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            errors: list[str] = []
            requests: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            yield page, errors, requests
        finally:
            browser.close()
