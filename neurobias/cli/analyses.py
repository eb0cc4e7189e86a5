"""``neurobias fixed-points``, ``continue``, ``compare-contexts`` and ``report``: the analyses of a run directory."""
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

    c = sub.add_parser(
        "continue", help="follow fixed points from one context's tonic input to another's",
        description="Follow every fixed point of context --from as the tonic input moves along "
        "b(s) = (1 - s) b_from + s b_to (pseudo-arclength continuation), label folds, branch points and Hopf "
        "points, and report fixed points of --to that no branch reaches. Writes RUN_DIR/continuation.nc and "
        "RUN_DIR/figures/bifurcation.png. Uses RUN_DIR/fixed_points.nc for the start points when present.",
        formatter_class=formatter,
        epilog=epilog("neurobias continue runs/demo --from sine_1Hz --to sine_2Hz"),
    )
    c.add_argument("run_dir", metavar="RUN_DIR", help="directory written by `neurobias run`")
    c.add_argument("--from", dest="start", required=True, metavar="CTX", help="start context")
    c.add_argument("--to", dest="end", required=True, metavar="CTX", help="end context")
    c.add_argument("--steps", type=int, default=1000, metavar="N", help="maximum steps per branch (1000)")
    c.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the fixed-point search (0)")
    c.add_argument("--out", default=None, metavar="FILE", help="output file (default RUN_DIR/continuation.nc)")
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
        "points, continuation and context comparisons, with every figure embedded (the page makes no external "
        "request). Sections whose analysis has not been run say which command computes them.",
        formatter_class=formatter,
        epilog=epilog("neurobias report runs/demo"),
    )
    r.add_argument("run_dir", metavar="RUN_DIR", help="directory written by `neurobias run`")
    r.add_argument("--out", default=None, metavar="FILE", help="output file (default RUN_DIR/report.html)")
    r.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    return {"fixed-points": _cmd_fixed_points, "continue": _cmd_continue,
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


def _cmd_continue(args: argparse.Namespace) -> int:
    from neurobias.workflows.analyses import analyse_continuation

    check_positive("--steps", args.steps)
    output = analyse_continuation(args.run_dir, start=args.start, end=args.end, steps=args.steps, seed=args.seed,
                                  figures=not args.no_figures, out=args.out)
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
