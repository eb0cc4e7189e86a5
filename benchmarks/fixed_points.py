"""Fixed-point finder benchmark on circuits with exactly known fixed points.

Each circuit is :func:`neurobias.analysis.multistable_chain`: ``k`` tristable
core units driving the other ``N - k`` units one way, so it has exactly
``3**k`` fixed points (``2**k`` stable) with known indices.  For each case the
script prints the wall time of one :func:`neurobias.analysis.find_fixed_points`
call, the fixed points found (matched to the known ones within 1e-8, both
ways), the recall per index, false points and the largest residual.

Usage::

    python benchmarks/fixed_points.py                      # N = 64, 256, 1024 with k = 5, then k = 3..6 at N = 256
    python benchmarks/fixed_points.py --sizes 256 --cores 5 --candidates 1024
"""
from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

import neurobias as nb
from neurobias.analysis import find_fixed_points, match_fixed_points, multistable_chain


def run_case(n_units: int, n_core: int, n_candidates: int, seed: int) -> dict:
    ref = multistable_chain(n_units=n_units, n_core=n_core, seed=seed)
    t0 = time.perf_counter()
    ds = find_fixed_points(ref.circuit, ref.tonic, n_candidates=n_candidates, seed=seed)
    wall = time.perf_counter() - t0
    fixed = ds.isel(fp=np.flatnonzero(ds.kind.values == "fixed"))
    found_match, known_found = match_fixed_points(fixed.x.values, ref.x, atol=1e-8)
    by_index = [f"{int(known_found[ref.index == i].sum())}/{int((ref.index == i).sum())}" for i in range(n_core + 1)]
    index_ok = bool(np.all(fixed.index.values[found_match >= 0] == ref.index[found_match[found_match >= 0]]))
    return {
        "N": n_units, "k": n_core, "known": len(ref.x), "candidates": n_candidates, "wall_s": wall,
        "found": int(known_found.sum()), "false": int((found_match < 0).sum()),
        "tried": int(ds.attrs["candidates_tried"].sum()),
        "max_residual": float(fixed.residual.max()) if fixed.sizes["fp"] else float("nan"),
        "by_index": " ".join(by_index), "index_ok": index_ok,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[64, 256, 1024])
    parser.add_argument("--cores", type=int, nargs="*", default=[5])
    parser.add_argument("--scaling-cores", type=int, nargs="*", default=[3, 4, 5, 6],
                        help="k values for the growth-with-fixed-points rows at N = 256 (empty: skip)")
    parser.add_argument("--candidates", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
          f"torch {torch.__version__}, neurobias {nb.__version__}")
    cases = [(n, k) for n in args.sizes for k in args.cores]
    cases += [(256, k) for k in args.scaling_cores if (256, k) not in cases]
    header = f"{'N':>5} {'k':>2} {'known':>5} {'cand':>5} {'tried':>6} {'time':>8} {'found':>6} {'false':>5} " \
             f"{'max|F|':>9}  index ok  recall by index (0..k)"
    print(header)
    for n, k in cases:
        r = run_case(n, k, args.candidates, args.seed)
        print(f"{r['N']:5d} {r['k']:2d} {r['known']:5d} {r['candidates']:5d} {r['tried']:6d} {r['wall_s']:7.1f}s "
              f"{r['found']:6d} {r['false']:5d} {r['max_residual']:9.1e}  {str(r['index_ok']):8s}  {r['by_index']}",
              flush=True)


if __name__ == "__main__":
    main()
