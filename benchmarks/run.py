"""Benchmarks of the core kernels (``make bench``); results go to docs/performance.md by hand.

Reports medians over repeats, measured in one run, so ratios between rows are
meaningful on a noisy machine:

* simulate: 3 contexts x 1 trial, N units, 1000 Euler steps, float64;
* one training step (forward + backward + Adam) of the demo task, float32;
* the same training step with 2 torch threads vs 1 (why neurobias uses one
  thread for small recurrent loops, see neurobias/_threads.py).

Usage: ``python benchmarks/run.py [--repeats 5]``
"""
from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
import torch

import neurobias as nb


def _median_time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
          f"torch {torch.__version__}, neurobias {nb.__version__}")
    print(f"{'benchmark':58s} {'median':>10s}")
    for n in (64, 256, 512):
        circuit = nb.Circuit.random(n, n_outputs=1, seed=0)
        t = _median_time(lambda: nb.simulate(circuit, np.zeros((3, n)), duration=1000.0, dt=1.0), args.repeats)
        print(f"{f'simulate N={n}, 3 contexts, 1000 steps':58s} {t * 1e3:8.1f} ms")
    task = nb.make_task("sine", dt=5.0, frequencies_hz=(1.0, 2.0, 3.0), duration_ms=1000.0)
    circuit = nb.Circuit.random(256, n_outputs=1, seed=0)

    def one_step() -> None:
        nb.train(circuit, task, steps=1, lr=0.05, batch_size=1, progress=False)

    t_auto = _median_time(one_step, args.repeats)
    print(f"{'train step, demo task (N=256, 3 contexts, 200 steps)':58s} {t_auto * 1e3:8.1f} ms")
    # the same step with neurobias's one-thread rule disabled and two torch threads
    import neurobias._threads as th

    saved = th.one_thread
    th.one_thread = lambda: None
    torch.set_num_threads(2)
    try:
        t_two = _median_time(one_step, args.repeats)
    finally:
        th.one_thread = saved
        th.one_thread()  # back to one thread: >1 breaks MKL's batched LU (neurobias/_threads.py)
    print(f"{'train step, same, forced 2 threads':58s} {t_two * 1e3:8.1f} ms  (x{t_two / t_auto:.2f})")


if __name__ == "__main__":
    main()
