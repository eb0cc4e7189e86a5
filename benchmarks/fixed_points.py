"""Fixed-point finder benchmark on circuits with exactly known fixed points, dense and matrix-free side by side.

Each circuit (``--circuit``) is :func:`neurobias.analysis.mirrored_multistable`
(default: ``k`` tristable core units in a dense circuit that no permutation
makes triangular) or :func:`neurobias.analysis.multistable_chain` (``k`` cores
driving the other ``N - k`` units one way); both have exactly ``3**k`` fixed
points (``2**k`` stable) with known indices.  Every case runs with each
solver of ``--solvers`` (``find_fixed_points(solver=...)``: ``dense`` LU and
full eigen-decompositions, ``krylov`` matrix-free).  For each case the
script times :func:`neurobias.analysis.find_fixed_points` (median of
``--repeats`` calls, after one warm-up call on a tiny circuit so that imports
and first-call set-up are not counted), and reports the fixed points found
(matched to the known ones within 1e-8, both ways), the recall per index,
false points and the largest residual.  Results go to
``benchmarks/results/fixed_points.json`` and ``docs/img/bench_fixed_points.png``
(time against N and against the number of fixed points).

Usage::

    python benchmarks/fixed_points.py                      # N = 64, 256, 1024 with k = 5, then k = 3..6 at N = 256
    python benchmarks/fixed_points.py --sizes 256 512 1024 2048 4096 --scaling-cores   # dense vs krylov, k = 5
    python benchmarks/fixed_points.py --quick              # N = 64 and 256 only, k = 3..5
    python benchmarks/fixed_points.py --sizes 256 --cores 5 --candidates 1024 --repeats 3
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

import neurobias as nb
from neurobias.analysis import find_fixed_points, match_fixed_points, mirrored_multistable, multistable_chain


ROOT = Path(__file__).resolve().parents[1]


def reference(circuit: str, n_units: int, n_core: int, seed: int):
    if circuit == "chain":
        return multistable_chain(n_units=n_units, n_core=n_core, seed=seed)
    # the follower spectra are not needed (the index is known without them) and cost 3^k decompositions
    return mirrored_multistable(n_units=n_units, n_core=n_core, seed=seed, spectra=False)


def run_case(n_units: int, n_core: int, n_candidates: int, seed: int, repeats: int = 1, *, solver: str = "dense",
             circuit: str = "mirrored") -> dict:
    ref = reference(circuit, n_units, n_core, seed)
    walls, cpus = [], []
    for _ in range(max(1, repeats)):
        t0, c0 = time.perf_counter(), time.process_time()
        ds = find_fixed_points(ref.circuit, ref.tonic, n_candidates=n_candidates, seed=seed, solver=solver)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    wall = statistics.median(walls)
    fixed = ds.isel(fp=np.flatnonzero(ds.kind.values == "fixed"))
    found_match, known_found = match_fixed_points(fixed.x.values, ref.x, atol=1e-8)
    by_index = [f"{int(known_found[ref.index == i].sum())}/{int((ref.index == i).sum())}" for i in range(n_core + 1)]
    index_ok = bool(np.all(fixed.index.values[found_match >= 0] == ref.index[found_match[found_match >= 0]]))
    return {
        "N": n_units, "k": n_core, "solver": ds.attrs["solver"], "circuit": circuit, "known": len(ref.x), "candidates": n_candidates, "wall_s": wall,
        "wall_all_s": walls, "cpu_s": statistics.median(cpus), "screened": int(ds.attrs["n_screened"].sum()),
        "stable_found": int(known_found[ref.index == 0].sum()), "stable_known": int((ref.index == 0).sum()),
        "index1_found": int(known_found[ref.index == 1].sum()), "index1_known": int((ref.index == 1).sum()),
        "found": int(known_found.sum()), "false": int((found_match < 0).sum()),
        "tried": int(ds.attrs["candidates_tried"].sum()),
        "max_residual": float(fixed.residual.max()) if fixed.sizes["fp"] else float("nan"),
        "by_index": " ".join(by_index), "index_ok": index_ok,
    }


def figure(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from neurobias.io.figures import save_figure

    fig = Figure(figsize=(8, 3.2), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    by_n = sorted((r for r in rows if r["k"] == 5), key=lambda r: r["N"])
    if by_n:
        for solver, mark in (("dense", "o-"), ("krylov", "s-")):
            sub = [r for r in by_n if r.get("solver", "dense") == solver]
            if sub:
                ax1.loglog([r["N"] for r in sub], [r["wall_s"] for r in sub], mark, label=f"{solver} (wall)")
        ax1.set_xlabel("units N"), ax1.set_ylabel("time (s)"), ax1.set_title("243 fixed points (k = 5)")
        ax1.legend(frameon=False)
    by_k = sorted((r for r in rows if r["N"] == 256 and r.get("solver", "dense") == "dense"), key=lambda r: r["k"])
    if by_k:
        ax2.loglog([r["known"] for r in by_k], [r["wall_s"] for r in by_k], "o-")
        for r in by_k:
            ax2.annotate(f"{r['found']}/{r['known']}", (r["known"], r["wall_s"]), fontsize=7,
                         textcoords="offset points", xytext=(4, -8))
        ax2.set_xlabel("fixed points (3^k)"), ax2.set_ylabel("wall time (s)"), ax2.set_title("N = 256")
    from matplotlib.ticker import FuncFormatter, NullFormatter

    plain = FuncFormatter(lambda v, _: f"{v:g}")
    for ax, xs in ((ax1, [r["N"] for r in by_n]), (ax2, [r["known"] for r in by_k])):
        if xs:
            ax.set_xticks(xs)
        ax.xaxis.set_major_formatter(plain), ax.yaxis.set_major_formatter(plain)
        ax.xaxis.set_minor_formatter(NullFormatter()), ax.yaxis.set_minor_formatter(NullFormatter())
    save_figure(fig, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=None, help="N values with --cores (64 256 1024)")
    parser.add_argument("--cores", type=int, nargs="*", default=[5])
    parser.add_argument("--scaling-cores", type=int, nargs="*", default=None,
                        help="k values for the growth-with-fixed-points rows at N = 256 (3 4 5 6; empty: skip)")
    parser.add_argument("--candidates", type=int, default=256, help="n_candidates (find_fixed_points' default)")
    parser.add_argument("--repeats", type=int, default=1, help="calls per case; the median is reported")
    parser.add_argument("--quick", action="store_true", help="N = 64 and 256, k = 3..5")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--solvers", nargs="+", default=["dense", "krylov"], choices=["dense", "krylov"],
                        help="find_fixed_points(solver=...) to run on every case, side by side")
    parser.add_argument("--circuit", default="mirrored", choices=["mirrored", "chain"],
                        help="reference circuit: mirrored_multistable (dense) or multistable_chain (triangular)")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "fixed_points.json"))
    parser.add_argument("--figure", default=str(ROOT / "docs" / "img" / "bench_fixed_points.png"))
    parser.add_argument("--plot-only", action="store_true", help="redraw the figure from --json, run nothing")
    args = parser.parse_args()
    if args.plot_only:
        figure(json.loads(Path(args.json).read_text(encoding="utf-8"))["rows"], Path(args.figure))
        return
    sizes = args.sizes if args.sizes is not None else ([64, 256] if args.quick else [64, 256, 1024])
    scaling = args.scaling_cores if args.scaling_cores is not None else ([3, 4] if args.quick else [3, 4, 6])
    machine = (f"{platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, torch "
               f"{torch.__version__}, neurobias {nb.__version__}")
    print(f"machine: {machine}")
    # warm-up: imports (xarray's first Dataset loads its optional array backends) and first-call set-up
    warm = multistable_chain(n_units=16, n_core=2, seed=0)
    for solver in args.solvers:
        find_fixed_points(warm.circuit, warm.tonic, n_candidates=16, seed=0, solver=solver)
    cases = [(n, k) for n in sizes for k in args.cores]
    cases += [(256, k) for k in scaling if (256, k) not in cases]
    header = f"{'N':>5} {'k':>2} {'solver':>6} {'known':>5} {'cand':>5} {'tried':>6} {'time':>8} {'cpu':>7} {'found':>6} " \
             f"{'false':>5} {'max|F|':>9}  index ok  recall by index (0..k)"
    print(header)
    rows = []
    for (n, k), solver in ((c, v) for c in cases for v in args.solvers):
        r = run_case(n, k, args.candidates, args.seed, args.repeats, solver=solver, circuit=args.circuit)
        rows.append(r)
        print(f"{r['N']:5d} {r['k']:2d} {r['solver']:>6} {r['known']:5d} {r['candidates']:5d} {r['tried']:6d} {r['wall_s']:7.1f}s "
              f"{r['cpu_s']:6.1f}s {r['found']:6d} {r['false']:5d} {r['max_residual']:9.1e}  "
              f"{str(r['index_ok']):8s}  {r['by_index']}", flush=True)
    from neurobias.io import atomic_write_text

    payload = {"machine": machine, "command": " ".join(["python benchmarks/fixed_points.py", *sys.argv[1:]]),
               "load_after": os.getloadavg()[0], "rows": rows}
    atomic_write_text(args.json, json.dumps(payload, indent=2))
    figure(rows, Path(args.figure))
    print(f"wrote {args.json} and {args.figure}")


if __name__ == "__main__":
    main()
