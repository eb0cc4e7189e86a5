"""Sweep scaling: the same sweep (8 cells by default) on a Dask LocalCluster of 1 worker and of 2 workers.

Each cell is one ``neurobias run`` of the tiny config below (a 64-unit circuit,
two sine contexts, ``--steps`` training steps: 400, 150 with ``--quick``),
about two seconds of one core at 400 steps.
The wall time of the whole ``neurobias.sweep`` call is measured, cluster
start included, into a fresh directory each time; the rounds alternate
1 worker / 2 workers so that a shared machine's drift hits both alike.

Writes ``benchmarks/results/sweep.json``, ``docs/img/bench_sweep.png`` and the
``sweep`` section of ``docs/performance.md`` (``--results``, ``--figure`` and
``--doc`` choose other files).

Usage: ``python benchmarks/sweep.py [--quick] [--rounds 2] [--cells 8] [--steps 400] [--results FILE] [--figure FILE]
[--doc FILE]``
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402 - the shared helpers of the benchmarks
    add_output_options,
    command_line,
    machine_info,
    machine_line,
    median,
    shown,
    publish,
)

CONFIG = """
seed = 0
[circuit]
n_units = 64
[task]
name = "sine"
frequencies_hz = [5.0, 10.0]
duration_ms = 500.0
[training]
steps = {steps}
lr = 0.02
batch_size = 2
checkpoint_every = 0
[simulation]
dt = 5.0
[output]
n_trials = 1
figures = false
"""


def one_sweep(config, workers: int, base: Path, cells: int = 8) -> tuple[float, list[float]]:  # noqa: ANN001
    from neurobias.sweep import run_sweep

    out = Path(tempfile.mkdtemp(dir=base))
    t0 = time.perf_counter()
    result = run_sweep(config, {"seed": list(range(cells))}, out=out, scheduler="local", workers=workers, progress=False)
    wall = time.perf_counter() - t0
    if result.failed:
        raise RuntimeError(f"cells failed: {[result.records[n].error for n in result.failed]}")
    cells = [r.wall_time_s for r in result.records.values()]
    shutil.rmtree(out)
    return wall, cells


def figure(p: dict[str, object], path: Path) -> None:
    from matplotlib.figure import Figure

    from neurobias.io.figures import save_figure

    fig = Figure(figsize=(4.5, 3.0), layout="constrained")
    ax = fig.add_subplot()
    for i, w in enumerate(("1", "2")):
        ts = p["wall_s"][w]
        ax.scatter([i] * len(ts), ts, color="0.5", zorder=3, s=12)
        ax.bar(i, median(ts), color=f"C{i}", width=0.6)
    ax.set_xticks([0, 1], ["1 worker", "2 workers"])
    ax.set_ylabel(f"seconds for {p['cells']} cells")
    ax.set_title(f"speed-up {p['speedup']:.2f}x (goal 1.8x)", fontsize=9)
    save_figure(fig, path)


def report(p: dict[str, object], results: Path, figure_path: Path) -> str:
    s = p["speedup"]
    return "\n".join([
        "## Sweep scaling",
        "",
        f"Command: `{p['command']}`. Machine: {machine_line(p['machine'])}. A sweep of {p['cells']} cells (one "
        f"`neurobias run` each: N = 64, two sine contexts, {p['steps']} training steps, median "
        f"{p['median_cell_s']:.2f} s per cell) on a Dask LocalCluster (`neurobias.run_sweep(..., scheduler='local')`), "
        f"wall time of the whole call including the cluster's start, {p['rounds']} alternating round(s). Raw "
        f"numbers: `{shown(results)}`; figure: `{shown(figure_path)}`.",
        "",
        "| workers | median wall time (s) |",
        "|---|---|",
        f"| 1 | {median(p['wall_s']['1']):.1f} |",
        f"| 2 | {median(p['wall_s']['2']):.1f} |",
        "",
        f"Speed-up with 2 workers: **{s:.2f}x** (goal >= 1.8x: {'met' if s >= 1.8 else 'NOT met'}). "
        + ("" if s >= 1.8 else
           "Two workers can only halve the time when two cores are free and nothing else runs: the Dask "
           "scheduler, the client with its progress bar and the cluster's start (about 2-4 s, paid in both "
           "cases) share the same cores with the workers, the two workers' cells compete for the memory "
           f"bandwidth, and the load average was {p['machine']['load_average_at_start'][0]} on "
           f"{p['machine']['cpus']} CPUs at the start (under `make bench` it includes the benchmark that ran "
           "just before). "),
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter cells, one round")
    parser.add_argument("--rounds", type=int, default=None,
                        help="alternating rounds of 1 and 2 workers (default 2; --quick: 1)")
    parser.add_argument("--cells", type=int, default=8, help="cells of the sweep (seeds 0..cells-1; default 8)")
    parser.add_argument("--steps", type=int, default=None,
                        help="training steps of each cell (default 400; --quick: 150)")
    add_output_options(parser, "sweep")
    args = parser.parse_args()
    from neurobias.config import config_from_toml

    steps = args.steps if args.steps is not None else (150 if args.quick else 400)
    rounds = args.rounds or (1 if args.quick else 2)
    config = config_from_toml(CONFIG.format(steps=steps))
    info = machine_info()
    wall: dict[str, list[float]] = {"1": [], "2": []}
    cells: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            for w in (1, 2):
                t, c = one_sweep(config, w, Path(tmp), args.cells)
                wall[str(w)].append(t)
                cells += c
                print(f"{w} worker(s): {t:.1f} s", flush=True)
    payload = {"machine": info, "command": command_line(), "rounds": rounds, "steps": steps, "cells": args.cells,
               "wall_s": wall, "median_cell_s": float(np.median(cells)),
               "speedup": median(wall["1"]) / median(wall["2"])}
    print(publish("sweep", payload, args, draw=lambda path: figure(payload, path), report=report))


if __name__ == "__main__":
    main()
