"""Where ``simulate(engine="auto")`` should pick JAX: torch and the XLA kernel over a grid of sizes.

For each (N units, rows = trials, T steps) of the grid, on the circuit of
``benchmarks/simulation.py`` (tanh, current form, g = 1.5, tau = 10 ms,
dt = 1 ms, Euler, float32, no input): ``neurobias.simulate`` with
``engine="torch"`` (after a warm-up), with ``engine="jax"`` called the first
time for these shapes (XLA compiles then: what one call with new shapes
costs) and again (the compiled kernel reused), medians of ``--repeats``
interleaved rounds.  The table shows, next to each row, what
:func:`neurobias.circuit.choose_engine` picks; the thresholds
``JAX_MIN_UNITS`` and ``JAX_MIN_WORK`` are set from these measurements.

Writes ``benchmarks/results/engine_choice.json``, ``docs/img/bench_engine_choice.png`` and the
``engine_choice`` section of ``docs/performance.md`` (``--results``, ``--figure`` and ``--doc`` choose other
files).

Usage: ``python benchmarks/engine_choice.py [--report-only] [--grid N,ROWS,T ...] [--repeats 3]
[--results FILE] [--figure FILE] [--doc FILE]``
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (add_output_options, command_line, machine_info, machine_line, median, publish,  # noqa: E402
                     rerender, shown)

G, TAU, DT = 1.5, 10.0, 1.0
GRID = ["64,8,1000", "64,1024,1000", "128,64,1000", "128,256,1000", "256,8,1000", "256,16,1000", "256,64,1000",
        "512,1,1000", "512,4,1000", "512,64,1000", "1024,1,300", "1024,64,300"]


def measure(n: int, rows: int, steps: int, repeats: int) -> dict[str, object]:
    import neurobias as nb
    from neurobias.circuit import choose_engine

    rng = np.random.default_rng(0)
    circuit = nb.Circuit.from_arrays(W_rec=rng.normal(0.0, G / np.sqrt(n), size=(n, n)), W_out=np.zeros((1, n)),
                                     tau=TAU, phi="tanh", form="current")
    tonic = rng.normal(0.0, 0.5, size=(1, n))

    def run(engine: str) -> None:
        nb.simulate(circuit, tonic, duration=steps * DT, dt=DT, n_trials=rows, dtype="float32", engine=engine)

    t0 = time.perf_counter()
    run("jax")
    first = time.perf_counter() - t0
    run("torch")
    times: dict[str, list[float]] = {"torch": [], "jax": []}
    for _ in range(repeats):
        for engine in times:
            t0 = time.perf_counter()
            run(engine)
            times[engine].append(time.perf_counter() - t0)
    return {"N": n, "rows": rows, "T": steps, "work": rows * n * n * steps, "torch_s": median(times["torch"]),
            "jax_s": median(times["jax"]), "jax_first_s": first, "times_s": times,
            "auto": choose_engine(n_units=n, n_rows=rows, n_steps=steps)}


def figure(rows: list[dict[str, object]], path: Path) -> None:
    from matplotlib.figure import Figure

    from neurobias.io.figures import save_figure

    fig = Figure(figsize=(6.0, 3.6), layout="constrained")
    ax = fig.add_subplot()
    work = np.array([r["work"] for r in rows], dtype=float)
    for key, label, marker in (("jax_s", "JAX, compiled", "o"), ("jax_first_s", "JAX, first call", "^")):
        ax.scatter(work, [r[key] / r["torch_s"] for r in rows], label=label, marker=marker)
    ax.axhline(1.0, color="0.5", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("work: rows x units^2 x steps")
    ax.set_ylabel("time / torch's time")
    ax.legend(fontsize=8)
    save_figure(fig, path)


def report(payload: dict[str, object], results: Path, figure_path: Path) -> str:
    from neurobias.circuit import JAX_MIN_UNITS, JAX_MIN_WORK

    lines = [
        "## Which engine: torch or JAX",
        "",
        f"Command: `{payload['command']}`. Machine: {machine_line(payload['machine'])}. "
        f"`neurobias.simulate` on the circuit of the throughput benchmark (tanh, float32, no input), medians of "
        f"{payload['repeats']} interleaved rounds; `JAX, first call` is the first call with these shapes in the "
        "process (XLA compiles the loop then). Raw numbers: "
        f"`{shown(results)}`; figure: `{shown(figure_path)}`.",
        "",
        "| N | rows | T | work | torch (s) | JAX, compiled (s) | JAX, first call (s) | JAX / torch | "
        "first call / torch | auto picks |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in payload["rows"]:
        lines.append(f"| {r['N']} | {r['rows']} | {r['T']} | {r['work']:.1e} | {r['torch_s']:.3f} | "
                     f"{r['jax_s']:.3f} | {r['jax_first_s']:.3f} | {r['jax_s'] / r['torch_s']:.2f} | "
                     f"{r['jax_first_s'] / r['torch_s']:.2f} | {r['auto']} |")
    lines += ["", f"The rule (`neurobias.circuit.choose_engine`): JAX on the CPU, without noise, with jax "
              f"installed, from `JAX_MIN_UNITS` = {JAX_MIN_UNITS} units and `JAX_MIN_WORK` = {JAX_MIN_WORK:.2e} "
              "multiply-adds (rows x units^2 x steps); torch otherwise. It depends on the arguments only, so the "
              "same call picks the same engine every time (the engines agree to rounding, not bit for bit). "
              "A first call with new shapes pays XLA's compilation (the difference of the two JAX columns); the "
              "work threshold is where the compiled loop wins and a first call costs a few tenths of a second "
              "more than torch; below it torch's whole run is a fraction of a second and compiling would cost a "
              "first call several times that. The units threshold is the smallest circuit measured here at which "
              "the compiled loop won."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", nargs="+", default=GRID, metavar="N,ROWS,T",
                        help="sizes to measure (default: twelve from 64 to 1024 units)")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds (default 3)")
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite the --doc section and the --figure from the --results JSON, run nothing")
    add_output_options(parser, "engine_choice")
    args = parser.parse_args()
    if args.report_only:
        rerender("engine_choice", args, figure=figure, report=report)
        return
    info = machine_info()
    import neurobias as nb

    tiny = nb.Circuit.from_arrays(W_rec=np.zeros((3, 3)), W_out=np.zeros((1, 3)))
    nb.simulate(tiny, np.zeros(3), duration=2.0, engine="jax")  # JAX's start-up, not counted as a compilation
    rows = []
    for item in args.grid:
        n, r, t = (int(v) for v in item.split(","))
        row = measure(n, r, t, args.repeats)
        rows.append(row)
        print(f"N={n:5d} rows={r:5d} T={t:5d} torch {row['torch_s']:.4f} s  jax {row['jax_s']:.4f} s  "
              f"jax first {row['jax_first_s']:.4f} s  auto={row['auto']}", flush=True)
    payload = {"machine": info, "command": command_line(), "repeats": args.repeats, "rows": rows}
    publish("engine_choice", payload, args, draw=lambda path: figure(rows, path), report=report)


if __name__ == "__main__":
    main()
