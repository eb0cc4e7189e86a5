"""Fixed-point continuation benchmark: :func:`neurobias.continue_fixed_points` against N, LU and GMRES side by side.

Each circuit is a dense random one (``g = 1.5``, ``tau = 10`` ms, tanh, current
form, seed = N).  The path goes from a strong tonic input (``1.0 * xi_1``,
where the circuit rests at a stable fixed point) to a weaker one
(``END_SCALE * xi_2``), so that the branch meets bifurcations on the way.  The start point comes from relaxing the circuit
(Euler, 1 ms steps) and is polished by the continuation itself.

For every N and every linear solver of ``--solvers`` (``lu``: the bordered
Newton systems factorised; ``gmres``: solved matrix-free; the choice made by
``continue_fixed_points`` itself is ``gmres`` from
``continuation.MATRIX_FREE_MIN_UNITS`` units on) the script times one call
(wall and CPU, no warm-up beyond the first size) and reports the points,
bifurcations and largest residual, and the time of one full eigen-decomposition
of the Jacobian at the start point, times the number of spectra the call
computed: the part of the call spent on spectra.

Writes ``benchmarks/results/continuation.json``, ``docs/img/bench_continuation.png``
and the ``continuation`` section of ``docs/performance.md`` (``--results``,
``--figure`` and ``--doc`` choose other files).

Usage: ``python benchmarks/continuation.py [--sizes 256 512 1024 2048] [--solvers lu gmres] [--steps 400]``
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
    publish,
    shown,
)


#: size of the end tonic input (the start's is 1): weak enough for the branch to lose stability on the way
END_SCALE = 0.3


def case(n: int):  # noqa: ANN201
    """The circuit, start and end tonic inputs, and the relaxed start state."""
    from neurobias import Circuit

    c = Circuit.random(n_units=n, g=1.5, tau=10.0, phi="tanh", form="current", seed=n)
    rng = np.random.default_rng(n + 1)
    start, end = 1.0 * rng.standard_normal(n), END_SCALE * rng.standard_normal(n)
    x = np.zeros(n)
    for _ in range(20000):
        dx = (-x + c.W_rec @ np.tanh(x) + start) / c.tau
        x += dx
        if np.max(np.abs(dx)) < 1e-9:
            break
    return c, start, end, x


def main(argv: list[str] | None = None) -> int:
    import torch

    from neurobias import continue_fixed_points
    from neurobias.analysis import continuation
    from neurobias.circuit.threads import one_thread

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    p.add_argument("--solvers", nargs="+", choices=("lu", "gmres"), default=["lu", "gmres"])
    p.add_argument("--steps", type=int, default=400, help="largest number of continuation steps (default 400)")
    add_output_options(p, "continuation")
    args = p.parse_args(argv)
    info = machine_info()
    rows = []
    default_min = continuation.MATRIX_FREE_MIN_UNITS
    n_cases = len(args.sizes) * len(args.solvers)
    payload = {"machine": info, "command": command_line(), "rows": rows,
               "matrix_free_min_units": default_min, "cases": n_cases}

    def draw(path: Path) -> None:
        from neurobias.plotting._common import new_figure

        fig = new_figure(4.5, 3.0)
        ax = fig.subplots()
        for solver in ("lu", "gmres"):
            sel = [r for r in rows if r["solver"] == solver]
            if sel:
                ax.plot([r["n_units"] for r in sel], [r["wall_s"] for r in sel], "o-", label=f"{solver}: whole call")
        lu = [r for r in rows if r["solver"] == rows[0]["solver"]]
        ax.plot([r["n_units"] for r in lu], [r["spectra"] * r["one_eigvals_s"] for r in lu], "s--",
                label="spectra alone (estimate)")
        ax.axhline(60.0, color="tab:red", ls="--", lw=0.8, label="60 s")
        ax.set_xlabel("units N")
        ax.set_ylabel("seconds")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.legend(fontsize=7, frameon=False)
        ax.grid(alpha=0.3)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=150)

    def report(payload: dict[str, object], results: Path, figure: Path) -> str:
        lines = ["### Fixed-point continuation", "",
                 "`continue_fixed_points` on dense random circuits (g = 1.5, tanh, current form) from a strong "
                 "tonic input (a stable fixed point) to a weak one, default settings (every spectrum computed, "
                 "`eig_every = 1`), with the bordered Newton systems factorised (`lu`) or solved matrix-free "
                 f"(`gmres`); the default switches to `gmres` at {payload['matrix_free_min_units']} units. "
                 f"{machine_line(payload['machine'])}. Command: `{payload['command']}`; results in "
                 f"`{shown(results)}`.", "",
                 "| N | solver | wall (s) | CPU (s) | points | spectra | one spectrum (s) | spectra, share of wall | "
                 "bifurcations | max residual |",
                 "|---|---|---|---|---|---|---|---|---|---|"]
        for r in payload["rows"]:
            lines.append(f"| {r['n_units']} | {r['solver']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['points']} | "
                         f"{r['spectra']} | {r['one_eigvals_s']:.2f} | {100 * r['spectra_share']:.0f} % | "
                         f"{', '.join(f'{v} {k}' for k, v in r['bifurcations'].items()) or 'none'} | {r['max_residual']:.1e} |")
        if len(payload["rows"]) < payload["cases"]:
            lines += ["", f"The run was stopped after {len(payload['rows'])} of its {payload['cases']} cases (the "
                          "table is published after every case); the cases not listed were not measured."]
        lines += ["", figure_link("continuation time", figure)]
        return "\n".join(lines)

    for n in args.sizes:
        c, start, end, x0 = case(n)
        J = (-np.eye(n) + c.W_rec * (1.0 - np.tanh(x0) ** 2)[None, :]) / c.tau
        with one_thread():  # as continue_fixed_points runs
            t0 = time.perf_counter()
            torch.linalg.eigvals(torch.tensor(J))
            eig_s = time.perf_counter() - t0
        for solver in args.solvers:
            continuation.MATRIX_FREE_MIN_UNITS = 0 if solver == "gmres" else 10 ** 9
            try:
                t0, c0 = time.perf_counter(), time.process_time()
                ds = continue_fixed_points(c, start=start, end=end, fixed_points=x0[None], steps=args.steps,
                                           find_end=False)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            finally:
                continuation.MATRIX_FREE_MIN_UNITS = default_min
            spectra = int((ds["index"].values >= 0).sum())
            rows.append(dict(
                n_units=n, solver=str(ds.attrs["linear_solver"]), wall_s=wall, cpu_s=cpu,
                points=int(ds["n_points"].sum()), spectra=spectra, end_reason=str(ds["end_reason"].values[0]),
                bifurcations={str(k): int(v) for k, v in zip(*np.unique(ds["bif_kind"].values, return_counts=True))},
                max_residual=float(np.nanmax(ds["residual"].values)), one_eigvals_s=eig_s,
                spectra_share=min(1.0, spectra * eig_s / wall), default_solver="gmres" if n >= default_min else "lu"))
            print(rows[-1], flush=True)
            publish("continuation", payload, args, draw=draw, report=report)  # a stopped run keeps its cases
    return 0


if __name__ == "__main__":
    sys.exit(main())
