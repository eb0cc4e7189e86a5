"""The analysis commands of a run directory: fixed-points, continue, report (with a real headless browser)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import CHROMIUM, NO_CHROMIUM, chromium_page
from neurobias.io import read_dataset
from neurobias.workflows.report import SECTIONS


@pytest.fixture(scope="module")
def analysed_run(tmp_path_factory, tiny_run):
    """A copy of the tiny run with fixed points, a continuation and a report."""
    from neurobias.cli import main

    run_dir = tmp_path_factory.mktemp("analysed") / "run"
    shutil.copytree(tiny_run["dir"], run_dir)
    assert main(["fixed-points", str(run_dir), "--candidates", "32"]) == 0
    assert main(["continue", str(run_dir), "--from", "sine_20Hz", "--to", "sine_40Hz", "--steps", "200"]) == 0
    assert main(["report", str(run_dir)]) == 0
    return run_dir


def test_fixed_points_file_and_figures(analysed_run):
    fp = read_dataset(analysed_run / "fixed_points.nc", kind="fixed_points")
    assert set(fp["context"].values.astype(str)) <= {"sine_20Hz", "sine_40Hz"}
    fixed = fp["kind"].values.astype(str) == "fixed"
    assert fixed.any()
    assert np.all(fp["residual"].values[fixed] <= 1e-10)
    assert fp.attrs["config"]  # provenance travels with the analysis
    for name in ("fixed_points.png", "spectra.png", "bifurcation.png"):
        assert (analysed_run / "figures" / name).stat().st_size > 1000


def test_continuation_file_starts_at_the_fixed_points(analysed_run):
    fp = read_dataset(analysed_run / "fixed_points.nc", kind="fixed_points")
    cont = read_dataset(analysed_run / "continuation.nc", kind="continuation")
    start = fp["x"].values[(fp["context"].values.astype(str) == "sine_20Hz") & (fp["kind"].values.astype(str) == "fixed")]
    assert cont.sizes["branch"] == len(start)
    np.testing.assert_allclose(cont["x"].values[:, 0, :], start, atol=1e-8)
    assert np.all(cont["s"].values[:, 0] == 0.0)
    assert np.nanmax(cont["residual"].values) <= 1e-10


def test_report_is_self_contained_with_every_section(analysed_run):
    text = (analysed_run / "report.html").read_text()
    for sid in SECTIONS:
        assert f'<section id="{sid}">' in text
    srcs = re.findall(r'src="([^"]+)"', text)
    assert len(srcs) >= 7  # loss, outputs, rates, tonic, fixed points, spectra, bifurcation
    assert all(s.startswith("data:image/png;base64,") for s in srcs)
    assert not re.search(r'(href|src)="(https?:)?//', text)  # no external requests
    assert "Not computed yet: run <code>neurobias compare-contexts" in text


def test_report_without_analyses_says_what_to_run(tiny_run, tmp_path):
    from neurobias.cli import main

    run_dir = tmp_path / "run"
    shutil.copytree(tiny_run["dir"], run_dir)
    assert main(["report", str(run_dir), "--out", str(tmp_path / "r.html")]) == 0
    text = (tmp_path / "r.html").read_text()
    assert "neurobias fixed-points" in text and "neurobias continue" in text


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (["fixed-points", "{missing}"], r"run directory not found"),
        (["fixed-points", "{run}", "--candidates", "0"], r"`--candidates` must be a positive int; got 0"),
        (["continue", "{run}", "--from", "nope", "--to", "sine_40Hz"], r"--from 'nope' is not a context .* choose from sine_20Hz, sine_40Hz"),
        (["continue", "{run}", "--from", "sine_20Hz", "--to", "sine_20Hz"], r"two different contexts"),
        (["report", "{empty}"], r"is not a run directory: circuit.nc is missing"),
    ],
)
def test_user_errors_one_line_exit_2(run_cli, tiny_run, tmp_path, argv, pattern):
    (tmp_path / "empty").mkdir()
    argv = [a.format(missing=tmp_path / "missing", run=tiny_run["dir"], empty=tmp_path / "empty") for a in argv]
    rc, out, err = run_cli(argv)
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("neurobias: error:")
    assert re.search(pattern, lines[0]), lines[0]
    assert out == ""


@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_report_in_a_real_headless_browser(analysed_run, tmp_path):
    with chromium_page() as (page, errors, requests):
        page.goto((analysed_run / "report.html").resolve().as_uri())
        page.wait_for_load_state("load")
        assert errors == []
        assert all(u.startswith(("file:", "data:")) for u in requests), requests
        for sid in SECTIONS:
            assert page.locator(f"section#{sid}").is_visible()
        widths = page.eval_on_selector_all("img", "els => els.map(e => e.complete ? e.naturalWidth : 0)")
        assert len(widths) >= 7 and min(widths) > 100
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        assert (tmp_path / "report.png").stat().st_size > 10_000


def test_fixed_points_killed_then_rerun_writes_a_complete_file(tiny_run, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    run_dir = tmp_path / "run"
    shutil.copytree(tiny_run["dir"], run_dir)
    cmd = [sys.executable, "-m", "neurobias.cli", "fixed-points", str(run_dir), "--candidates", "64", "--no-figures"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(3.0)  # inside the import or the search: either way no file may be half-written
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if (run_dir / "fixed_points.nc").exists():  # the target is never partial: absent or complete
        read_dataset(run_dir / "fixed_points.nc", kind="fixed_points")
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "error"})
    assert done.returncode == 0, done.stderr
    fp = read_dataset(run_dir / "fixed_points.nc", kind="fixed_points")
    assert fp.sizes["fp"] >= 1
