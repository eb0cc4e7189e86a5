"""Periodic-orbit benchmark: one limit cycle of an N-unit circuit with :func:`neurobias.find_periodic_orbits`.

Each circuit has a 2-unit oscillating block (``[[1.05, -0.1], [0.1, 1.05]]``, a
cycle of about 0.9 s like the demo's 1 Hz context) driving ``N - 2`` units that
are densely coupled among themselves (``N(0, 0.5^2 / N)``), so that every
multiplier is non-trivial.  The time of one call (seeding simulation, Newton
shooting and the Floquet multipliers, default settings) is the median of
``--repeats`` calls after one warm-up call; the period is checked against a
call with four times finer RK4 steps.  With ``--run RUN_DIR`` each context of a
trained run (e.g. the demo) is timed as well.

Writes ``benchmarks/results/periodic_orbits.json``, ``docs/img/bench_periodic_orbits.png``
and the ``periodic_orbits`` section of ``docs/performance.md`` (``--results``,
``--figure`` and ``--doc`` choose other files).

Usage: ``python benchmarks/periodic_orbits.py [--sizes 64 256 512] [--repeats 3] [--run RUN_DIR]``
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402 - the shared helpers of the benchmarks
    add_output_options,
    command_line,
    figure_link,
    machine_info,
    machine_line,
    median,
    publish,
    shown,
)


def circuit(n: int):  # noqa: ANN201
    from neurobias import Circuit

    rng = np.random.default_rng(n)
    W = np.zeros((n, n))
    W[:2, :2] = [[1.05, -0.1], [0.1, 1.05]]
    W[2:, :2] = rng.standard_normal((n - 2, 2))
    W[2:, 2:] = 0.5 * rng.standard_normal((n - 2, n - 2)) / np.sqrt(n)
    tonic = np.zeros(n)
    tonic[2:] = 0.1 * rng.standard_normal(n - 2)
    return Circuit.from_arrays(W_rec=W, tau=10.0), tonic[None]


def timed(fn, repeats: int) -> tuple[float, object]:  # noqa: ANN001
    fn()
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return median(times), out


def main(argv: list[str] | None = None) -> int:
    from neurobias import find_periodic_orbits

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 512])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--run", type=Path, default=None, metavar="RUN_DIR", help="also time each context of this run")
    add_output_options(p, "periodic_orbits")
    args = p.parse_args(argv)
    info = machine_info()
    rows = []
    for n in args.sizes:
        c, tonic = circuit(n)
        seconds, ds = timed(lambda: find_periodic_orbits(c, tonic), args.repeats)  # noqa: B023
        fine = find_periodic_orbits(c, tonic, steps_per_tau=20.0)
        T, T_fine = float(ds["period"][0]), float(fine["period"][0])
        rows.append(dict(case=f"synthetic N = {n}", n_units=n, seconds=seconds, period_ms=T,
                         relative_error_vs_4x_finer=abs(T - T_fine) / T_fine,
                         trivial_multiplier_error=float(ds["trivial_multiplier_error"][0]),
                         newton_iterations=int(ds["newton_iterations"][0]),
                         n_multipliers=int(ds.sizes["multiplier"])))
        print(rows[-1])
    if args.run is not None:
        import xarray as xr

        from neurobias.io.circuit import circuit_from_dataset

        c = circuit_from_dataset(xr.load_dataset(args.run / "circuit.nc"))
        res = xr.load_dataset(args.run / "results.nc")
        for ctx in res["context"].values.astype(str):
            seconds, ds = timed(lambda: find_periodic_orbits(c, res, contexts=[ctx]), args.repeats)  # noqa: B023
            rows.append(dict(case=f"{args.run.name}: {ctx}", n_units=c.n_units, seconds=seconds,
                             period_ms=float(ds["period"][0]), relative_error_vs_4x_finer=None,
                             trivial_multiplier_error=float(ds["trivial_multiplier_error"][0]),
                             newton_iterations=int(ds["newton_iterations"][0]),
                             n_multipliers=int(ds.sizes["multiplier"])))
            print(rows[-1])
    payload = {"machine": info, "command": command_line(), "rows": rows}

    def draw(path: Path) -> None:
        from neurobias.plotting._common import new_figure

        fig = new_figure(4.5, 3.0)
        ax = fig.subplots()
        syn = [r for r in rows if r["case"].startswith("synthetic")]
        ax.plot([r["n_units"] for r in syn], [r["seconds"] for r in syn], "o-", label="synthetic cycle (~0.9 s)")
        ax.axhline(5.0, color="tab:red", ls="--", lw=0.8, label="5 s")
        ax.set_xlabel("units N")
        ax.set_ylabel("seconds per orbit")
        ax.set_xscale("log", base=2)
        ax.legend(fontsize=8, frameon=False)
        ax.grid(alpha=0.3)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=150)

    def report(payload: dict[str, object], results: Path, figure: Path) -> str:
        lines = ["### Periodic orbits", "",
                 "One limit cycle found by `find_periodic_orbits` (seeding simulation, Newton-Picard shooting, "
                 "Floquet multipliers; default settings: RK4 step <= tau / 5, 16 tangent vectors above 64 units). "
                 f"{machine_line(info)}. Command: `{payload['command']}`; results in `{shown(results)}`.", "",
                 "| case | N | seconds | period (ms) | period error vs 4x finer steps | abs(mu_trivial - 1) | "
                 "Newton iterations |",
                 "|---|---|---|---|---|---|---|"]
        for r in rows:
            err = "" if r["relative_error_vs_4x_finer"] is None else f"{r['relative_error_vs_4x_finer']:.1e}"
            lines.append(f"| {r['case']} | {r['n_units']} | {r['seconds']:.2f} | {r['period_ms']:.3f} | {err} | "
                         f"{r['trivial_multiplier_error']:.1e} | {r['newton_iterations']} |")
        lines += ["", figure_link("time per orbit", figure)]
        return "\n".join(lines)

    publish("periodic_orbits", payload, args, draw=draw, report=report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
