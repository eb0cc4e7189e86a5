"""Why bias-only learning cannot make the Van der Pol oscillator at small g, measured on the experiment's circuits.

For every gain g and seed of the full-size Van der Pol experiment (200 tanh
units, alpha = 0.5, the circuits ``circuit_for`` builds for it), measures
``||W||_2``, the spectral radius of ``W`` and, with ``find_fixed_points``, the
largest real part of the eigenvalues of ``tau J`` over the fixed points found
under random tonic inputs (none, and ``--n-tonic`` each of ``N(0, s^2)`` for
s = 0.5, 1, 2, 4), and the fraction of tonic inputs past a Hopf point
(:func:`neurobias.reproduce.gain_stability.gain_stability`). Writes
``docs/outcomes/vanderpol_stability.json``, ``docs/img/williams_vanderpol_stability.png``
and the table in the ``vanderpol_stability`` section of ``docs/williams.md``.
Run from the repository root::

    python analyses/vanderpol_stability.py      # about 5 minutes on one core
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GAINS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
TONIC_SCALES = (0.0, 0.5, 1.0, 2.0, 4.0)


def crossing(g: np.ndarray, y: np.ndarray, level: float) -> str:
    """Where ``y`` (increasing in g on the whole) first reaches ``level``, in words between measured gains."""
    above = np.flatnonzero(y >= level)
    if above.size == 0:
        return f"above g = {g[-1]:g} (not reached)"
    j = int(above[0])
    return f"at or below g = {g[0]:g}" if j == 0 else f"between g = {g[j - 1]:g} and {g[j]:g}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=None,
                   help="circuit seeds (default: the full-size Van der Pol experiment's)")
    p.add_argument("--n-tonic", type=int, default=6, help="random tonic inputs per nonzero scale (6)")
    p.add_argument("--no-doc", action="store_true", help="write neither the JSON, the figure nor docs/williams.md")
    a = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from neurobias.io.figures import save_figure
    from neurobias.io.files import atomic_write_text
    from neurobias.io.results_doc import write_section
    from neurobias.reproduce import figures, get_settings
    from neurobias.reproduce.gain_stability import gain_stability
    from neurobias.reproduce.recurrent_experiments import VDP_ALPHA, vanderpol_task, circuit_for

    settings = get_settings("full")
    seeds = tuple(a.seeds) if a.seeds is not None else tuple(settings.rnn_seeds)
    task = vanderpol_task()
    t0 = time.perf_counter()
    circuits = [[circuit_for(task, n_units=settings.rnn_units, g=g, alpha=VDP_ALPHA, seed=s) for g in GAINS]
                for s in seeds]
    stab = gain_stability(circuits, GAINS, tonic_scales=TONIC_SCALES, n_tonic=a.n_tonic, seed=0)
    stab = stab.assign_coords(seed=("seed", np.asarray(seeds), {"long_name": "circuit seed"}))
    wall = time.perf_counter() - t0
    g = stab["g"].values
    norm, radius = stab["spectral_norm"].values, stab["spectral_radius"].values
    absc, hopf = stab["abscissa"].values, stab["oscillatory_unstable"].values
    n_bank = 1 + a.n_tonic * (len(TONIC_SCALES) - 1)
    per_seed = lambda v, fmt: " / ".join(format(x, fmt) for x in v)  # noqa: E731
    who = " / ".join(str(s) for s in seeds)
    lines = [
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d} by `python analyses/vanderpol_stability.py` "
        f"({wall:.0f} s on {platform.machine()}, one torch thread): {settings.rnn_units} units, alpha = "
        f"{VDP_ALPHA}, the Van der Pol experiment's circuits for seeds {', '.join(map(str, seeds))}; {n_bank} "
        f"tonic inputs per circuit (none, and {a.n_tonic} each of N(0, s²) for s = "
        f"{', '.join(f'{x:g}' for x in TONIC_SCALES[1:])}). Stored in `docs/outcomes/vanderpol_stability.json`.",
        "",
        "| g | " + " | ".join(f"{x:g}" for x in g) + " |",
        "|---|" + "---|" * len(g),
        f"| `||W||_2`, seeds {who} | " + " | ".join(per_seed(norm[:, j], ".2f") for j in range(len(g))) + " |",
        f"| spectral radius of `W`, seeds {who} | " + " | ".join(per_seed(radius[:, j], ".2f")
                                                             for j in range(len(g))) + " |",
        f"| largest Re eig(`tau J`), seeds {who} | " + " | ".join(per_seed(absc[:, j], ".2f")
                                                              for j in range(len(g))) + " |",
        f"| tonic inputs past a Hopf point (of {n_bank}), seeds {who} | "
        + " | ".join(per_seed(np.rint(hopf[:, j] * n_bank).astype(int), "d") for j in range(len(g))) + " |",
        "",
        f"Measured crossings (seed by seed): `||W||_2` reaches 1 "
        + "; ".join(f"seed {s}: {crossing(g, norm[i], 1.0)}" for i, s in enumerate(seeds))
        + ". The largest real part reaches 0 "
        + "; ".join(f"seed {s}: {crossing(g, absc[i], 0.0)}" for i, s in enumerate(seeds))
        + ". Below the first, the contraction bound forbids any oscillation for every tonic input; below the "
        "second, no tonic input tried gives an unstable fixed point.",
    ]
    text = "\n".join(lines)
    print(text)
    if not a.no_doc:
        record = {
            "name": "vanderpol_stability", "measured": f"{datetime.now(timezone.utc):%Y-%m-%d}",
            "n_units": settings.rnn_units, "alpha": VDP_ALPHA, "seeds": list(seeds),
            "tonic_scales": list(TONIC_SCALES), "n_tonic_per_scale": a.n_tonic,
            "command": "python analyses/vanderpol_stability.py" + "".join(f" {x}" for x in (argv or sys.argv[1:])),
            "wall_s": wall, "g": g.tolist(), "spectral_norm": norm.tolist(), "spectral_radius": radius.tolist(),
            "abscissa": absc.tolist(), "oscillatory_unstable": hopf.tolist(),
        }
        atomic_write_text(ROOT / "docs" / "outcomes" / "vanderpol_stability.json", json.dumps(record, indent=2) + "\n")
        save_figure(figures.stability_figure(stab), ROOT / "docs" / "img" / "williams_vanderpol_stability.png")
        write_section(ROOT / "docs" / "williams.md", "vanderpol_stability", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
