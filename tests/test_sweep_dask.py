"""Sweeps on real Dask processes: a ``dask scheduler`` and two ``dask worker`` on localhost via tcp://,
one worker SIGKILLed mid-sweep; a sweep (LocalCluster) SIGKILLed and started again.

Every process is started by the test and stopped by its id.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from neurobias.sweep import open_sweep
from neurobias.sweep.store import cells_dir, read_record

BIN = Path(sys.executable).parent
DASK = str(BIN / "dask")
NEUROBIAS = str(BIN / "neurobias")
# cells of about a second each, so that a sweep is still running when a process is killed
SLOW = ["--set", "training.steps=300", "--set", "output.n_trials=1"]


def _start(argv: list[str], log: Path, **kwargs) -> subprocess.Popen:
    fh = open(log, "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True, **kwargs)
    proc._log = fh  # type: ignore[attr-defined]
    return proc


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)  # the process group this test started (start_new_session)
        proc.wait(timeout=30)
    proc._log.close()  # type: ignore[attr-defined]


def _wait_for(condition, timeout: float, what: str, procs=()) -> None:
    t0 = time.monotonic()
    while not condition():
        for p in procs:
            if p.poll() is not None:
                raise AssertionError(f"{what}: {p.args[:2]} exited with {p.returncode}")
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def _finished(out: Path) -> list[str]:
    d = cells_dir(out)
    return sorted(p.name for p in d.iterdir() if not p.name.startswith(".")) if d.is_dir() else []


def _in_flight(out: Path) -> list[str]:
    d = cells_dir(out)
    return [p.name for p in d.iterdir() if p.name.startswith(".")] if d.is_dir() else []


def _n_workers(scheduler_file: Path) -> int:
    info = json.loads(scheduler_file.read_text())
    return len(info.get("workers", {}))


@pytest.mark.slow
def test_sweep_on_a_tcp_scheduler_survives_a_worker_killed_mid_sweep(tiny_config, tmp_path):
    scheduler_file = tmp_path / "scheduler.json"
    env = dict(os.environ)
    scheduler = _start([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                        "--scheduler-file", str(scheduler_file)], tmp_path / "scheduler.log", env=env)
    procs = [scheduler]
    try:
        _wait_for(scheduler_file.exists, 60, "the scheduler file", procs)
        address = json.loads(scheduler_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        workers = [_start([DASK, "worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1",
                           "--no-nanny", "--no-dashboard", "--name", f"w{i}", "--local-directory",
                           str(tmp_path / f"w{i}")], tmp_path / f"worker{i}.log", env=env) for i in range(2)]
        procs += workers
        from distributed import Client

        out = tmp_path / "sweep"
        sweep = _start([NEUROBIAS, "sweep", str(tiny_config), "--grid", "seed=1,2,3,4", "--out", str(out),
                        "--scheduler", address, "--no-progress", *SLOW], tmp_path / "sweep.log", env=env)
        procs.append(sweep)
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
            assert len(client.scheduler_info()["workers"]) == 2
            # kill worker 0 while it runs a cell: at least one cell done, two in flight
            _wait_for(lambda: len(_finished(out)) >= 1 and len(_in_flight(out)) >= 2, 180,
                      "a finished cell and two cells in flight", procs)
            os.killpg(workers[0].pid, signal.SIGKILL)
            workers[0].wait(timeout=30)
            killed_at = time.time_ns()
            _wait_for(lambda: len(client.scheduler_info()["workers"]) == 1, 60, "the scheduler to lose a worker")
        assert sweep.wait(timeout=300) == 0, (tmp_path / "sweep.log").read_text()[-3000:]
        log = (tmp_path / "sweep.log").read_text()
        assert "4 cells; 4 run now, 0 finished before; 4 ok, 0 failed" in log
        ds = open_sweep(out)
        assert ds.attrs["n_ok"] == 4 and (ds["status"] == "ok").all()
        assert np.isfinite(ds["nmse"]).all() and (ds["steps_done"] == 300).all()
        assert _in_flight(out) == []  # the killed attempt's temporary directory is gone
        # both workers ran cells; every cell finished after the kill (the one that lost its worker
        # included) ran on the surviving worker
        after = {}
        for name in _finished(out):
            record = read_record(out, name)
            after[name] = (cells_dir(out) / name / "cell.json").stat().st_mtime_ns > killed_at
            assert record.worker in ("w0", "w1")
            if after[name]:
                assert record.worker == "w1", name
        assert sum(after.values()) >= 2  # the two cells in flight at the kill, at least
        # a cell's results are those of a clean run of its config
        from neurobias.config import config_from_toml
        from neurobias.io import open_results
        from neurobias.workflows.run import run

        results = open_results(cells_dir(out) / "c0000" / "results.nc")
        again = run(config_from_toml(results.attrs["config"]), progress=False)
        np.testing.assert_array_equal(again.results["tonic"].values, results["tonic"].values)
    finally:
        for p in reversed(procs):
            _stop(p)


@pytest.mark.slow
def test_a_sweep_killed_with_sigkill_restarts_where_it_was(tiny_config, tmp_path):
    out = tmp_path / "sweep"
    argv = [NEUROBIAS, "sweep", str(tiny_config), "--grid", "seed=1,2,3,4", "--out", str(out), "--workers", "1",
            "--no-progress", *SLOW]
    first = _start(argv, tmp_path / "first.log")
    try:
        _wait_for(lambda: len(_finished(out)) >= 2 and len(_in_flight(out)) >= 1, 240,
                  "two finished cells and one in flight", [first])
        os.killpg(first.pid, signal.SIGKILL)  # the sweep, its LocalCluster and its worker, at once
        first.wait(timeout=30)
    finally:
        _stop(first)
    done = _finished(out)
    assert 2 <= len(done) < 4 and _in_flight(out)  # stopped mid-sweep, a half-written attempt left behind
    stamps = {n: (cells_dir(out) / n / "cell.json").stat().st_mtime_ns for n in done}
    for name in done:
        assert read_record(out, name).status == "ok"
    # started again (in process: `sync`, to save starting another cluster; the cells are the same)
    second = subprocess.run([*argv, "--scheduler", "sync"], capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-3000:]
    assert f"4 cells; {4 - len(done)} run now, {len(done)} finished before; 4 ok, 0 failed" in second.stdout
    for name in done:  # finished cells were not touched
        assert (cells_dir(out) / name / "cell.json").stat().st_mtime_ns == stamps[name]
    assert _finished(out) == [f"c{i:04d}" for i in range(4)] and _in_flight(out) == []
    ds = open_sweep(out)
    assert ds.attrs["n_ok"] == 4 and np.isfinite(ds["final_loss"]).all()
    # every cell's files equal those of an uninterrupted sweep
    clean = tmp_path / "clean"
    third = subprocess.run([NEUROBIAS, "sweep", str(tiny_config), "--grid", "seed=1,2,3,4", "--out", str(clean),
                            "--scheduler", "sync", "--no-progress", *SLOW], capture_output=True, text=True, timeout=300)
    assert third.returncode == 0, third.stderr[-3000:]
    from conftest import assert_same_arrays

    for i in range(4):
        for name, kind in (("circuit.nc", "circuit"), ("results.nc", "results")):
            assert_same_arrays(cells_dir(out) / f"c{i:04d}" / name, cells_dir(clean) / f"c{i:04d}" / name, kind=kind)


def test_a_local_cluster_starts_while_another_holds_port_8787():
    """Two sweeps on one machine: the second's scheduler must not fall back to 8787 and warn about it."""
    import socket

    from neurobias.sweep.cluster import connect

    holder = socket.socket()
    try:
        try:
            holder.bind(("0.0.0.0", 8787))
        except OSError:
            pass  # already taken by something else: the situation this test builds
        else:
            holder.listen()
        with connect("local", workers=1) as client:  # warnings are errors in the test suite
            assert client.submit(lambda v: v + 1, 41).result(timeout=60) == 42
            port = client.cluster.scheduler.http_server.port
            assert port != 8787
    finally:
        holder.close()
