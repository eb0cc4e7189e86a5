"""neurobias's fixed-point finder against BrainPy's ``SlowPointFinder``, from the same starting candidates.

Circuits: :func:`neurobias.analysis.multistable_chain` (``k`` tristable core
units driving the other ``N - k`` one way: exactly ``3**k`` fixed points,
``2**k`` stable, known indices).  For each case the candidates are made
once, by :func:`neurobias.analysis.initial_candidates` (the
first-round generator of ``find_fixed_points``: trajectories plus random
states, seed 0), and given to three runs:

* ``neurobias``: ``find_fixed_points(circuit, tonic, n_candidates=C, seed=0)``,
  whose first round is exactly these ``C`` candidates, followed by its own
  exploration rounds (the ``tried`` column counts every candidate);
* ``neurobias (same starts only)``: ``find_fixed_points(..., initial_states=cands,
  n_candidates=0, explore_rounds=0)``: Newton from the same ``C`` states and nothing else;
* ``brainpy``: ``slow_point_finder(..., initial_states=cands)``: BrainPy's
  ``SlowPointFinder.find_fps_with_gd_method`` (Adam, lr 0.2 decaying by
  0.9999 per step, BrainPy's defaults), float64, up to ``--brainpy-iters``
  steps, stopping early when BrainPy's mean loss falls below ``tol**2``
  (checked every ``--num-batch`` steps);
* ``brainpy, float32`` (rows with k = 5): the same in BrainPy's default
  precision, ``--float32-iters`` steps (its residuals stop near 1e-8, so it
  returns slow points; the last column counts known points within 1e-6 of
  any returned point, fixed or slow).

Every engine's points are judged the same way (neurobias's float64 vector
field): a fixed point has ``max|F| <= 1e-10``; found points are matched to
the known ones within 1e-8 (max-norm, both ways); "false" counts fixed points
matching no known one.

Usage::

    python benchmarks/brainpy_fixed_points.py            # N = 64, 256 (k = 5), then k = 1..5 at N = 256
    python benchmarks/brainpy_fixed_points.py --quick    # N = 64 only, small budgets (about a minute)
    python benchmarks/brainpy_fixed_points.py --sizes 64 256 1024 --json out.json
    python benchmarks/brainpy_fixed_points.py --plot-only benchmarks/results/brainpy_fixed_points_*.json

Writes the rows to ``benchmarks/results/brainpy_fixed_points[_quick].json`` and
a figure (wall time and fixed points found, per engine and case) to
``docs/img/bench_brainpy_fixed_points[_quick].png`` unless told otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

import neurobias as nb
from neurobias.analysis import find_fixed_points, initial_candidates, match_fixed_points, multistable_chain
from neurobias.backends.brainpy import slow_point_finder

ATOL = 1e-8  # matching tolerance (max-norm, state units)
NEAR = 1e-6  # looser matching of every returned point, fixed or slow (for float32 descents)
TOL = 1e-10  # max|F| of a fixed point


def score(ds, ref, wall: float, engine: str, n_start: int, iterations: int | str) -> dict:
    """Match a fixed-point Dataset against the known points; one table row."""
    fixed = ds.isel(fp=np.flatnonzero(ds.kind.values == "fixed"))
    found_match, known_found = match_fixed_points(fixed.x.values, ref.x, atol=ATOL)
    k = int(ref.index.max())
    recall = [f"{int(known_found[ref.index == i].sum())}/{int((ref.index == i).sum())}" for i in range(k + 1)]
    ok = found_match >= 0
    index_ok = bool(np.all(fixed.index.values[ok] == ref.index[found_match[ok]]))
    _, near = match_fixed_points(ds.x.values, ref.x, atol=NEAR)
    return {
        "engine": engine, "N": ref.circuit.n_units, "k": k, "known": int(len(ref.x)), "starts": n_start,
        "tried": int(np.sum(ds.attrs["candidates_tried"])), "iterations": iterations, "wall_s": wall,
        "found": int(known_found.sum()), "near": int(near.sum()), "false": int((~ok).sum()), "slow": int((ds.kind.values == "slow").sum()),
        "max_residual": float(fixed.residual.max()) if fixed.sizes["fp"] else float("nan"),
        "recall_by_index": recall, "index_ok": index_ok,
        "stable_found": int(known_found[ref.index == 0].sum()), "stable_known": int((ref.index == 0).sum()),
    }


def run_case(n_units: int, n_core: int, n_candidates: int, brainpy_iters: int, num_batch: int, seed: int,
             float32_iters: int = 0) -> list[dict]:
    ref = multistable_chain(n_units=n_units, n_core=n_core, seed=seed)
    cands = initial_candidates(ref.circuit, ref.tonic, n_candidates=n_candidates, seed=seed)
    rows = []
    t0 = time.perf_counter()
    ds = find_fixed_points(ref.circuit, ref.tonic, n_candidates=n_candidates, seed=seed, tol=TOL)
    rows.append(score(ds, ref, time.perf_counter() - t0, "neurobias", n_candidates, "-"))
    t0 = time.perf_counter()
    ds = find_fixed_points(ref.circuit, ref.tonic, initial_states=cands, n_candidates=0, explore_rounds=0,
                           seed=seed, tol=TOL)
    rows.append(score(ds, ref, time.perf_counter() - t0, "neurobias (same starts only)", n_candidates, "-"))
    t0 = time.perf_counter()
    ds = slow_point_finder(ref.circuit, ref.tonic, initial_states=cands, n_iter=brainpy_iters,
                           num_batch=num_batch, tol=TOL)
    rows.append(score(ds, ref, time.perf_counter() - t0, "brainpy SlowPointFinder", n_candidates,
                      int(ds.attrs["iterations_run"][0])))
    if float32_iters:
        t0 = time.perf_counter()
        ds = slow_point_finder(ref.circuit, ref.tonic, initial_states=cands, n_iter=float32_iters,
                               num_batch=min(num_batch, float32_iters), tol=TOL, dtype="float32")
        rows.append(score(ds, ref, time.perf_counter() - t0, "brainpy SlowPointFinder, float32", n_candidates,
                          int(ds.attrs["iterations_run"][0])))
    return rows


sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import IMG, RESULTS, command_line, write_json  # noqa: E402 - the shared helpers of the benchmarks


def figure(rows: list[dict], path: Path) -> None:
    """Wall time (left) and the fraction of the known fixed points found (right), per case and engine."""
    from matplotlib.figure import Figure

    from neurobias.io.figures import save_figure

    cases = sorted({(r["N"], r["k"]) for r in rows})
    engines = list(dict.fromkeys(r["engine"] for r in rows))
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax_t, ax_f = fig.subplots(1, 2)
    width = 0.8 / max(1, len(engines))
    x = np.arange(len(cases))
    for e, engine in enumerate(engines):
        by_case = {(r["N"], r["k"]): r for r in rows if r["engine"] == engine}
        wall = [by_case[c]["wall_s"] if c in by_case else np.nan for c in cases]
        found = [by_case[c]["found"] / by_case[c]["known"] if c in by_case else np.nan for c in cases]
        ax_t.bar(x + e * width, wall, width, label=engine)
        ax_f.bar(x + e * width, found, width, label=engine)
    labels = [f"N={n}\nk={k} ({3 ** k} fps)" for n, k in cases]
    for ax in (ax_t, ax_f):
        ax.set_xticks(x + width * (len(engines) - 1) / 2, labels)
    ax_t.set(ylabel="wall time (s)", title="time per call")
    ax_f.set(ylim=(0, 1.05), ylabel="known fixed points found (fraction)",
             title="recall (float32 BrainPy returns slow points only: 0)")
    fig.legend(*ax_t.get_legend_handles_labels(), loc="outside lower center", ncols=len(engines), frameon=False,
               fontsize=8)
    save_figure(fig, path, dpi=110)


def fmt(v: float) -> str:
    return "-" if not np.isfinite(v) else f"{v:.0e}"


def table(rows: list[dict]) -> str:
    head = ("| engine | N | k | known | starts | tried | Adam steps | time | found | stable found | false | slow | "
            f"max \\|F\\| | recall by index 0..k | index correct | within {NEAR:.0e} |")
    lines = [head, "|" + "---|" * 16]
    for r in rows:
        lines.append(
            f"| {r['engine']} | {r['N']} | {r['k']} | {r['known']} | {r['starts']} | {r['tried']} | {r['iterations']} "
            f"| {r['wall_s']:.1f} s | {r['found']} | {r['stable_found']}/{r['stable_known']} | {r['false']} "
            f"| {r['slow']} | {fmt(r['max_residual'])} | {' '.join(r['recall_by_index'])} | "
            f"{'yes' if r['index_ok'] else 'NO'} | {r['near']} |"
        )
    return "\n".join(lines)


def machine() -> str:
    import jax

    import brainpy

    load = os.getloadavg()
    return (f"{platform.machine()}, {os.cpu_count()} cores, load average {load[0]:.1f}, Python "
            f"{platform.python_version()}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
            f"jax {jax.__version__} (CPU, float64), brainpy {brainpy.__version__}, neurobias {nb.__version__}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 64 only, 256 candidates, k = 1..3 growth")
    parser.add_argument("--sizes", type=int, nargs="*", default=None, help="N values with k = 5 (default 64 256)")
    parser.add_argument("--cores", type=int, nargs="*", default=None,
                        help="k values for the growth rows (default 1 2 3 4; k = 5 is the size row)")
    parser.add_argument("--growth-size", type=int, default=None, help="N of the growth rows (default 256)")
    parser.add_argument("--candidates", type=int, default=None, help="starting candidates (default 1024)")
    parser.add_argument("--brainpy-iters", type=int, default=20000, help="Adam step budget of SlowPointFinder")
    parser.add_argument("--float32-iters", type=int, default=3000,
                        help="Adam steps of the extra float32 SlowPointFinder run on the k = 5 rows (0: none)")
    parser.add_argument("--num-batch", type=int, default=1000,
                        help="SlowPointFinder steps per jitted batch (BrainPy re-traces each batch)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None,
                        help="JSON file of the rows (default benchmarks/results/brainpy_fixed_points[_quick].json)")
    parser.add_argument("--figure", default=None,
                        help="figure (default docs/img/bench_brainpy_fixed_points[_quick].png)")
    parser.add_argument("--plot-only", nargs="+", default=None, metavar="JSON",
                        help="draw the figure from these result files (their rows together), run nothing")
    args = parser.parse_args()
    if args.plot_only:
        rows = [r for f in args.plot_only for r in json.loads(Path(f).read_text(encoding="utf-8"))["rows"]]
        fig_path = Path(args.figure) if args.figure else IMG / "bench_brainpy_fixed_points.png"
        figure(rows, fig_path)
        print(f"figure: {fig_path}")
        return
    sizes = args.sizes if args.sizes is not None else ([64] if args.quick else [64, 256])
    cores = args.cores if args.cores is not None else ([1, 2, 3] if args.quick else [1, 2, 3, 4])
    growth_n = args.growth_size if args.growth_size is not None else (64 if args.quick else 256)
    n_cand = args.candidates if args.candidates is not None else (256 if args.quick else 1024)
    iters = min(args.brainpy_iters, 2000) if args.quick else args.brainpy_iters
    print(f"machine: {machine()}", flush=True)
    cases = [(n, 5) for n in sizes] + [(growth_n, k) for k in cores if (growth_n, k) not in [(n, 5) for n in sizes]]
    rows: list[dict] = []
    t_all = time.perf_counter()
    f32 = min(args.float32_iters, 1000) if args.quick else args.float32_iters
    for n, k in cases:
        new = run_case(n, k, n_cand, iters, args.num_batch, args.seed, float32_iters=f32 if k == 5 else 0)
        for r in new:
            print(f"  {r['engine']:30s} N={r['N']:5d} k={r['k']} {r['wall_s']:7.1f} s found {r['found']}/{r['known']} "
                  f"false {r['false']} slow {r['slow']} max|F| {fmt(r['max_residual'])} steps {r['iterations']}",
                  flush=True)
        rows.extend(new)
    print(f"\ntotal {time.perf_counter() - t_all:.0f} s; machine at the end: {machine()}\n")
    print(table(rows))
    suffix = "_quick" if args.quick else ""
    json_path = Path(args.json) if args.json else RESULTS / f"brainpy_fixed_points{suffix}.json"
    fig_path = Path(args.figure) if args.figure else IMG / f"bench_brainpy_fixed_points{suffix}.png"
    write_json(json_path, {"machine": machine(), "command": command_line(), "rows": rows})
    figure(rows, fig_path)
    print(f"results: {json_path}\nfigure: {fig_path}")


if __name__ == "__main__":
    main()
