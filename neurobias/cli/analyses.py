"""``neurobias fixed-points``, ``periodic-orbits``, ``continue``, ``compare-contexts`` and ``report``: the analyses of
a run directory."""
from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from neurobias.cli.common import check_positive, print_output

__all__ = ["register"]


def register(sub: Any, *, formatter: Callable[..., Any], epilog: Callable[[str], str]
             ) -> dict[str, Callable[[argparse.Namespace], int]]:
    """Add the parsers of the run-directory analyses to ``sub``; return their handlers."""
    f = sub.add_parser(
        "fixed-points", help="find the fixed and slow points of every context of a run",
        description="Find the fixed points (F(x) = 0 for the flow) and slow points of every context of RUN_DIR, "
        "with their eigenvalues and stability; write RUN_DIR/fixed_points.nc, RUN_DIR/figures/fixed_points.png "
        "and RUN_DIR/figures/spectra.png.",
        formatter_class=formatter,
        epilog=epilog("neurobias fixed-points runs/demo --candidates 512"),
    )
    f.add_argument("run_dir", metavar="RUN_DIR", help="directory written by `neurobias run`")
    f.add_argument("--candidates", type=int, default=256, metavar="N", help="starting candidates per context (256)")
    f.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the candidates (0)")
    f.add_argument("--tol", type=float, default=1e-10, metavar="T", help="Newton tolerance on max|F| (1e-10)")
    f.add_argument("--out", default=None, metavar="FILE", help="output file (default RUN_DIR/fixed_points.nc)")
    f.add_argument("--no-figures", action="store_true", help="do not write figures")
    f.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    o = sub.add_parser(
        "periodic-orbits", help="find the limit cycle of every context of a run, with its period and stability",
        description="Find the limit cycle of each context of RUN_DIR (or of each --context): the circuit is "
        "simulated from rest with the context's tonic input, the periodicity of the trajectory seeds Newton "
        "shooting on the initial state and the period, and the cycle's Floquet multipliers give its stability. "
        "A context that does not oscillate (it settles at a fixed point, or is not periodic, or Newton does not "
        "converge) is recorded as not converged with a one-line reason, never with a wrong orbit. Prints one "
        "line per context (the free frequency next to the trained one when the task trained a frequency) and "
        "writes RUN_DIR/periodic_orbits.nc and RUN_DIR/figures/orbits.png (the cycles in principal-component "
        "space).",
        formatter_class=formatter,
        epilog=epilog("""
            neurobias periodic-orbits runs/demo
            neurobias periodic-orbits runs/demo --context sine_1Hz --context sine_3Hz"""),
    )
    o.add_argument("run_dir", metavar="RUN_DIR", help="directory written by `neurobias run`")
    o.add_argument("--context", dest="contexts", action="append", default=None, metavar="CTX",
                   help="a context to analyse (repeat for several; default: every context)")
    o.add_argument("--transient", type=float, default=3000.0, metavar="MS",
                   help="simulated time discarded before the cycle is read (3000 ms)")
    o.add_argument("--duration", type=float, default=4000.0, metavar="MS",
                   help="simulated time in which the period is read; at least two periods (4000 ms)")
    o.add_argument("--steps-per-tau", type=float, default=5.0, metavar="K",
                   help="RK4 steps per time constant at least (5)")
    o.add_argument("--tol", type=float, default=1e-10, metavar="T",
                   help="Newton tolerance on max|phi_T(x0) - x0| relative to 1 + max|x0| (1e-10)")
    o.add_argument("--seed", type=int, default=0, metavar="N",
                   help="seed of the tangent basis and of the nudge off an unstable fixed point (0)")
    o.add_argument("--out", default=None, metavar="FILE", help="output file (default RUN_DIR/periodic_orbits.nc)")
    o.add_argument("--no-figures", action="store_true", help="do not write figures")
    o.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    c = sub.add_parser(
        "continue", help="follow fixed points and limit cycles from one context's tonic input to another's",
        description="Follow every fixed point of context --from as the tonic input moves along "
        "b(s) = (1 - s) b_from + s b_to (pseudo-arclength continuation), label folds, branch points and Hopf "
        "points (super- or subcritical), and report fixed points of --to that no branch reaches. When --from or "
        "--to oscillates, also follow its limit cycle along the same path (period, frequency and amplitude against "
        "s), up to where it shrinks onto a fixed point (a Hopf point, compared with the fixed points' Hopf point), "
        "its period diverges (compared with the fixed points' folds: a saddle-node on the invariant circle) or it "
        "reaches the other end, locating folds of cycles, period doubling and torus bifurcations on the way; then "
        "print where along the path the circuit oscillates, at what frequency, where it settles, and where a "
        "stable cycle and a stable fixed point coexist. Writes RUN_DIR/continuation.nc, RUN_DIR/orbit_continuation.nc (with cycles) and "
        "RUN_DIR/figures/bifurcation.png. Uses RUN_DIR/fixed_points.nc for the fixed points of both contexts and "
        "RUN_DIR/periodic_orbits.nc for the cycles when present. Without cycles, an older "
        "RUN_DIR/orbit_continuation.nc is removed.",
        formatter_class=formatter,
        epilog=epilog("""
            neurobias continue runs/demo --from sine_1Hz --to sine_3Hz
            neurobias continue runs/demo --from sine_1Hz --to sine_2Hz --no-orbits"""),
    )
    c.add_argument("run_dir", metavar="RUN_DIR", help="directory written by `neurobias run`")
    c.add_argument("--from", dest="start", required=True, metavar="CTX", help="start context")
    c.add_argument("--to", dest="end", required=True, metavar="CTX", help="end context")
    c.add_argument("--steps", type=int, default=1000, metavar="N", help="maximum steps per branch (1000)")
    c.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the fixed-point search (0)")
    c.add_argument("--no-orbits", action="store_true", help="do not follow limit cycles")
    c.add_argument("--no-progress", action="store_true", help="hide the progress bars (shown on stderr)")
    c.add_argument("--out", default=None, metavar="FILE", help="output file (default RUN_DIR/continuation.nc)")
    c.add_argument("--orbits-out", default=None, metavar="FILE",
                   help="output file of the cycles (default RUN_DIR/orbit_continuation.nc)")
    c.add_argument("--no-figures", action="store_true", help="do not write figures")
    c.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    k = sub.add_parser(
        "compare-contexts", help="compare the contexts of a run: tonic inputs, task variance, gain, fixed points",
        description="Compare the contexts of RUN_DIR: similarity and PCA of the learned tonic inputs (with a "
        "unit-shuffle null), task variance per unit and its clusters, effective gain, alignment with the weights, "
        "and, when RUN_DIR/fixed_points.nc exists, matched fixed points, their displacement and spectra, "
        "line attractors and selection vectors. Writes RUN_DIR/comparison.nc and RUN_DIR/figures/{similarity,pca,"
        "task_variance,matched,spectra}.png and prints a plain-language summary. Needs at least two contexts.",
        formatter_class=formatter,
        epilog=epilog("""
            neurobias fixed-points runs/demo        # optional: enables the fixed-point comparison
            neurobias compare-contexts runs/demo"""),
    )
    k.add_argument("run_dir", metavar="RUN_DIR", help="directory written by `neurobias run`")
    k.add_argument("--out", default=None, metavar="FILE", help="output file (default RUN_DIR/comparison.nc)")
    k.add_argument("--no-figures", action="store_true", help="do not write figures")
    k.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the shuffles and of k-means (0)")
    k.add_argument("--shuffles", type=int, default=200, metavar="N",
                   help="unit shuffles of the null distributions (200; 0 for none)")
    k.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    r = sub.add_parser(
        "report", help="write a self-contained HTML report of a run",
        description="Write RUN_DIR/report.html: config, training, performance per context, tonic inputs, fixed "
        "points, continuation, oscillations (limit cycles and where along the path the circuit oscillates) and "
        "context comparisons, with every figure embedded (the page makes no external "
        "request). Sections whose analysis has not been run say which command computes them.",
        formatter_class=formatter,
        epilog=epilog("neurobias report runs/demo"),
    )
    r.add_argument("run_dir", metavar="RUN_DIR", help="directory written by `neurobias run`")
    r.add_argument("--out", default=None, metavar="FILE", help="output file (default RUN_DIR/report.html)")
    r.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    return {"fixed-points": _cmd_fixed_points, "periodic-orbits": _cmd_periodic_orbits, "continue": _cmd_continue,
            "compare-contexts": _cmd_compare_contexts, "report": _cmd_report}


def _cmd_report(args: argparse.Namespace) -> int:
    from neurobias.workflows.analyses import write_report

    print(write_report(args.run_dir, out=args.out).summary)
    return 0


def _cmd_fixed_points(args: argparse.Namespace) -> int:
    from neurobias.workflows.analyses import analyse_fixed_points

    check_positive("--candidates", args.candidates)
    check_positive("--tol", args.tol)
    output = analyse_fixed_points(args.run_dir, n_candidates=args.candidates, seed=args.seed, tol=args.tol,
                                  figures=not args.no_figures, out=args.out)
    return print_output(output)


def _cmd_periodic_orbits(args: argparse.Namespace) -> int:
    from neurobias.workflows.analyses import analyse_periodic_orbits

    for flag, value in (("--duration", args.duration), ("--steps-per-tau", args.steps_per_tau), ("--tol", args.tol)):
        check_positive(flag, value)
    if not args.transient >= 0:
        from neurobias.errors import InputError

        raise InputError(f"--transient must be >= 0; got {args.transient}")
    output = analyse_periodic_orbits(args.run_dir, contexts=args.contexts, transient=args.transient,
                                     duration=args.duration, steps_per_tau=args.steps_per_tau, tol=args.tol,
                                     seed=args.seed, figures=not args.no_figures, out=args.out)
    return print_output(output)


def _cmd_continue(args: argparse.Namespace) -> int:
    from neurobias.workflows.analyses import analyse_continuation

    check_positive("--steps", args.steps)
    output = analyse_continuation(args.run_dir, start=args.start, end=args.end, steps=args.steps, seed=args.seed,
                                  orbits=not args.no_orbits, figures=not args.no_figures, out=args.out,
                                  orbits_out=args.orbits_out, progress=not args.no_progress)
    return print_output(output)


def _cmd_compare_contexts(args: argparse.Namespace) -> int:
    from neurobias.errors import InputError
    from neurobias.workflows.analyses import analyse_contexts

    if args.shuffles < 0:
        raise InputError(f"--shuffles must be >= 0; got {args.shuffles}")
    if args.seed < 0:
        raise InputError(f"--seed must be >= 0; got {args.seed}")
    output = analyse_contexts(args.run_dir, figures=not args.no_figures, out=args.out, n_shuffles=args.shuffles,
                              seed=args.seed)
    return print_output(output)
