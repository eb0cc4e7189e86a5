"""A sweep on a real SLURM cluster: a one-node cluster on localhost, started by the test (root only).

The test writes a ``slurm.conf`` for one node (this machine) into ``tmp_path``,
starts ``munged``, ``slurmctld`` and ``slurmd`` in the foreground (each
stopped by its id at the end), and runs ``neurobias sweep --scheduler slurm``:
dask-jobqueue submits the Dask workers as SLURM jobs with ``sbatch``, the cells
run in them, and ``open_sweep`` reads the finished grid.

It skips where SLURM cannot be started: not root, SLURM or munge not
installed (Debian: ``apt-get install slurm-wlm``), or dask-jobqueue missing
(``pip install 'neurobias[slurm]'``).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import write_tiny_config

DAEMONS = ("munged", "slurmctld", "slurmd", "sinfo", "sbatch")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                       reason="starting SLURM's daemons needs root"),
    pytest.mark.skipif(any(shutil.which(d) is None and not Path(f"/usr/sbin/{d}").is_file() for d in DAEMONS),
                       reason="SLURM is not installed (Debian: apt-get install slurm-wlm)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _exe(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


@pytest.fixture
def slurm(tmp_path: Path):  # noqa: ANN201 - yields the environment of the cluster's clients
    """A one-node SLURM cluster on localhost; yields the environment that points SLURM's commands at it."""
    pytest.importorskip("dask_jobqueue", reason="dask-jobqueue is the `slurm` extra")
    root = tmp_path / "slurm"
    for sub in ("state", "spool", "log"):
        (root / sub).mkdir(parents=True)
    munge_socket = root / "munge.socket"
    cpus = os.cpu_count() or 1
    conf = root / "slurm.conf"
    conf.write_text(f"""\
ClusterName=neurobiastest
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={munge_socket}
CredType=cred/munge
StateSaveLocation={root / "state"}
SlurmdSpoolDir={root / "spool"}
SlurmctldPidFile={root / "slurmctld.pid"}
SlurmdPidFile={root / "slurmd.pid"}
SlurmctldLogFile={root / "log" / "slurmctld.log"}
SlurmdLogFile={root / "log" / "slurmd.log"}
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
NodeName=localhost CPUs={cpus} RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
""")
    env = {**os.environ, "SLURM_CONF": str(conf)}
    procs: list[subprocess.Popen] = []
    logs = []
    try:
        for argv in (
            [_exe("munged"), "--foreground", "--force", f"--socket={munge_socket}",
             f"--pid-file={root / 'munged.pid'}", f"--log-file={root / 'log' / 'munged.log'}",
             f"--seed-file={root / 'munged.seed'}"],
            [_exe("slurmctld"), "-D", "-f", str(conf)],
            [_exe("slurmd"), "-D", "-f", str(conf)],
        ):
            log = open(root / "log" / f"{Path(argv[0]).name}.out", "wb")  # noqa: SIM115 - closed below
            logs.append(log)
            procs.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env))
            time.sleep(1.0)
        deadline = time.monotonic() + 60
        while True:
            out = subprocess.run([_exe("sinfo"), "-h", "-o", "%T"], capture_output=True, text=True, env=env)
            if out.returncode == 0 and out.stdout.strip() == "idle":
                break
            dead = [p.args[0] for p in procs if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                text = "\n".join(f.read_text(errors="replace")[-1500:] for f in (root / "log").iterdir())
                pytest.fail(f"the SLURM cluster did not start (ended: {dead}; sinfo: {out.stdout!r} "
                            f"{out.stderr!r})\n{text}")
            time.sleep(0.5)
        yield env
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=30)
        for log in logs:
            log.close()


def test_sweep_on_a_one_node_slurm_cluster(slurm, tmp_path: Path) -> None:
    from neurobias.sweep import open_sweep
    from neurobias.sweep.store import cells_dir, read_record

    config = write_tiny_config(tmp_path / "tiny.toml")
    # dask-jobqueue's options: one core per job, the workers run this interpreter (our environment)
    config.write_text(config.read_text() + f"""
[sweep.slurm]
cores = 1
processes = 1
memory = "1GB"
queue = "debug"
walltime = "00:10:00"
python = "{sys.executable}"
log_directory = "{tmp_path / 'jobs'}"
""")
    out = tmp_path / "sweep"
    cmd = [str(Path(sys.executable).with_name("neurobias")), "sweep", str(config), "--grid", "circuit.g=1.0,1.5",
           "--out", str(out), "--scheduler", "slurm", "--workers", "1", "--no-progress"]
    if not Path(cmd[0]).is_file():
        cmd = [sys.executable, "-m", "neurobias.cli", *cmd[1:]]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=slurm, timeout=600)
    jobs = "\n".join(p.read_text(errors="replace")[-1500:] for p in sorted((tmp_path / "jobs").glob("*")))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:] + jobs
    assert "2 cells; 2 run now, 0 finished before; 2 ok, 0 failed" in proc.stdout + proc.stderr
    ds = open_sweep(out)
    assert ds.attrs["n_ok"] == 2 and (ds["status"] == "ok").all()
    assert np.isfinite(ds["nmse"]).all()
    # the cells ran in the worker that SLURM started: its job wrote its log, and the cells name that worker
    job_logs = sorted((tmp_path / "jobs").glob("*"))
    assert job_logs, "no SLURM job log"
    workers = {read_record(out, name).worker for name in sorted(p.name for p in cells_dir(out).iterdir())}
    assert len(workers) == 1 and all(w.startswith("SLURMCluster") for w in workers), workers
    assert any(next(iter(workers)) in p.read_text(errors="replace") for p in job_logs), jobs
