"""Check the demo's limit cycles and their continuation against independent computations.

Needs a trained demo run (``neurobias run models/demo.toml --out RUN_DIR``)::

    python analyses/demo_oscillations.py RUN_DIR [--from sine_1Hz --to sine_3Hz] [--json out.json]

For every context it finds the limit cycle with :func:`neurobias.find_periodic_orbits`
and compares its period with the one a long free simulation shows: SciPy's
DOP853 at ``rtol = 1e-10`` over 10 s after a 3 s transient, the period being the
mean interval between upward crossings of a Poincare section (located on the
dense output with :func:`scipy.optimize.brentq`).  Then it follows the fixed
points (:func:`neurobias.continue_fixed_points`) and the cycles
(:func:`neurobias.continue_periodic_orbits`) between two contexts and compares
where each cycle branch ends with the Hopf points of the fixed-point branch.
Exit status 1 when a check fails (period to 1e-4 relative; cycle end and Hopf
point to 1e-3 in ``s``).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import xarray as xr
from scipy.integrate import solve_ivp
from scipy.optimize import brentq


def simulated_period(circuit, tonic: np.ndarray, *, transient: float = 3000.0, window: float = 10000.0) -> float:
    """Mean interval between upward section crossings of a high-accuracy free simulation (ms)."""
    W, tau = circuit.W_rec, circuit.tau
    if circuit.form != "current" or circuit.phi != "tanh":
        raise SystemExit("this check integrates the current form with tanh (the demo)")

    def f(_t, x):
        return (-x + W @ np.tanh(x) + tonic) / tau

    x0 = np.zeros(len(tonic))
    warm = solve_ivp(f, (0.0, transient), x0, method="DOP853", rtol=1e-10, atol=1e-12)
    sol = solve_ivp(f, (0.0, window), warm.y[:, -1], method="DOP853", rtol=1e-10, atol=1e-12, dense_output=True)
    X = sol.y.T
    centred = X - X.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    axis, level = vt[0], float(X.mean(0) @ vt[0])
    proj = X @ axis - level
    times = []
    for i in np.nonzero((proj[:-1] < 0) & (proj[1:] >= 0))[0]:
        g = lambda t: float(sol.sol(t) @ axis - level)  # noqa: E731
        times.append(brentq(g, sol.t[i], sol.t[i + 1], xtol=1e-12))
    times = np.array(times)
    return float((times[-1] - times[0]) / (len(times) - 1))


def main(argv: list[str] | None = None) -> int:
    from neurobias.analysis.continuation import continue_fixed_points
    from neurobias.analysis.periodic_orbits import continue_periodic_orbits, find_periodic_orbits
    from neurobias.io.circuit import circuit_from_dataset

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run_dir", type=Path)
    p.add_argument("--from", dest="start", default="sine_1Hz")
    p.add_argument("--to", dest="end", default="sine_3Hz")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    circuit = circuit_from_dataset(xr.load_dataset(args.run_dir / "circuit.nc"))
    results = xr.load_dataset(args.run_dir / "results.nc")
    out: dict[str, object] = {"contexts": {}}
    ok = True
    t0 = time.perf_counter()
    orbits = find_periodic_orbits(circuit, results)
    out["find_seconds_all_contexts"] = round(time.perf_counter() - t0, 2)
    print(f"find_periodic_orbits: {out['find_seconds_all_contexts']} s for {orbits.sizes['orbit']} contexts")
    for i, ctx in enumerate(orbits["context"].values.astype(str)):
        T = float(orbits["period"][i])
        T_sim = simulated_period(circuit, results["tonic"].sel(context=ctx).values)
        rel = abs(T - T_sim) / T_sim
        mu = orbits["multiplier_real"].values[i] + 1j * orbits["multiplier_imag"].values[i]
        mu = mu[np.isfinite(mu)]
        nontrivial = np.delete(mu, np.argmin(np.abs(mu - 1)))
        row = dict(period_ms=T, simulated_period_ms=T_sim, relative_difference=rel,
                   frequency_hz=1000.0 / T, stability=str(orbits["stability"][i].values),
                   trivial_multiplier_error=float(orbits["trivial_multiplier_error"][i]),
                   largest_other_multiplier=float(np.abs(nontrivial).max()))
        out["contexts"][ctx] = row
        good = rel <= 1e-4
        ok &= good
        print(f"{ctx}: period {T:.6f} ms ({1000 / T:.4f} Hz), free simulation {T_sim:.6f} ms, relative "
              f"difference {rel:.1e} [{'ok' if good else 'FAIL'}]; {row['stability']}, |mu - 1| = "
              f"{row['trivial_multiplier_error']:.1e}, next |mu| = {row['largest_other_multiplier']:.2e}")
    t0 = time.perf_counter()
    fp = continue_fixed_points(circuit, tonic=results, start=args.start, end=args.end)
    hopf = fp["bif_s"].values[fp["bif_kind"].values == "hopf"]
    out["hopf_s"] = hopf.tolist()
    out["fixed_point_continuation_seconds"] = round(time.perf_counter() - t0, 2)
    print(f"fixed points {args.start} -> {args.end}: Hopf points at s = {', '.join(f'{h:.6f}' for h in hopf)} "
          f"({out['fixed_point_continuation_seconds']} s); bifurcations: "
          + ", ".join(f"{k} {s:.4f}" for k, s in zip(fp["bif_kind"].values, fp["bif_s"].values)))
    t0 = time.perf_counter()
    cyc = continue_periodic_orbits(circuit, orbits, tonic=results, start=args.start, end=args.end)
    out["cycle_continuation_seconds"] = round(time.perf_counter() - t0, 2)
    out["cycle_branches"] = []
    for b in range(cyc.sizes["branch"]):
        why, s_end = str(cyc["end_reason"][b].values), float(cyc["end_s"][b])
        n_pts = int(cyc["n_points"][b])
        near = float(np.min(np.abs(hopf - s_end))) if len(hopf) else float("nan")
        good = why == "hopf" and near <= 1e-3
        ok &= good
        out["cycle_branches"].append(dict(context=str(cyc["branch_context"][b].values), end_reason=why, end_s=s_end,
                                          end_period_ms=float(cyc["end_period"][b]), distance_to_hopf=near,
                                          points=n_pts,
                                          s=cyc["s"].values[b, :n_pts].tolist(),
                                          frequency_hz=cyc["frequency"].values[b, :n_pts].tolist()))
        print(f"cycle of {cyc['branch_context'][b].values}: ends ({why}) at s = {s_end:.6f}, period there "
              f"{float(cyc['end_period'][b]):.3f} ms, nearest Hopf point {near:.1e} away "
              f"[{'ok' if good else 'FAIL'}]; {n_pts} points")
    print(f"cycle continuation: {out['cycle_continuation_seconds']} s")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
