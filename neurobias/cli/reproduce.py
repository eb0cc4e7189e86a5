"""The ``neurobias reproduce`` sub-command: the Williams et al. (2024) reproduction."""
from __future__ import annotations

import argparse
import os
import shlex
from typing import Callable

__all__ = ["register"]


def _reproduce(args: argparse.Namespace) -> int:
    from neurobias.errors import InputError, check_number
    from neurobias.reproduce import reproduce

    if args.quick and args.size not in (None, "quick"):
        raise InputError(f"`--quick` and `--size {args.size}` contradict each other; give one of them")
    size = "quick" if args.quick else (args.size or "full")
    # the command that measures the whole section: options that change no number (--jobs, --only, progress,
    # --render-only) are left out, the paths are kept
    command = "neurobias reproduce" + {"full": "", "quick": " --quick"}.get(size, f" --size {size}") + "".join(
        f" {flag} {shlex.quote(str(value))}" for flag, value in (("--out", args.out), ("--doc", args.doc)) if value)
    jobs = check_number("--jobs", args.jobs, ge=1, integer=True) if args.jobs is not None else \
        max(1, os.cpu_count() or 1)
    outcomes = reproduce(size=size, out=args.out, doc=args.doc, only=args.only or None, jobs=jobs, command=command,
                         progress=not args.no_progress, render_only=args.render_only)
    for o in outcomes:
        for c in o.claims:
            print(f"{o.name}: {c.verdict}: {c.claim}: {c.ours}")
    if args.render_only:
        print("section `williams` rewritten from the stored outcomes")
    return 0


def register(sub: argparse._SubParsersAction, *, formatter, epilog) -> dict[str, Callable[[argparse.Namespace], int]]:
    """Add the ``reproduce`` parser to ``sub``; return its handler by name."""
    from neurobias.reproduce.settings import EXPERIMENT_NAMES

    p = sub.add_parser(
        "reproduce", help="reproduce Williams et al. 2024 (bias-only learning); writes figures and docs/results.md",
        description="Run the feed-forward (width scaling, multi-task) and recurrent (sine, Van der Pol, Lorenz, "
        "reaching, 3-bit flip-flop) experiments of Williams et al. 2024 and write figures and the `williams` section "
        "of a results document. Full size takes hours on 2 cores and writes docs/img and docs/results.md; --quick takes minutes "
        "and writes under runs/reproduce-quick/.",
        formatter_class=formatter,
        epilog=epilog("""
            neurobias reproduce --quick
            neurobias reproduce --quick --only width sine --out runs/try
            neurobias reproduce --only lorenz        # redo one; the section keeps the others' stored results
            neurobias reproduce                      # full size: docs/img/williams_*.png, docs/results.md"""),
    )
    p.add_argument("--quick", action="store_true", help="small sizes (minutes); default: full size (hours)")
    p.add_argument("--size", default=None, choices=("tiny", "quick", "medium", "full"),
                   help="sizes of neurobias/reproduce/settings.py (--quick = --size quick; default full)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="figure directory (default docs/img, or runs/reproduce-SIZE below full size)")
    p.add_argument("--doc", default=None, metavar="FILE",
                   help="results document whose `williams` section is replaced (default docs/results.md, or "
                        "DIR/results.md below full size)")
    p.add_argument("--only", nargs="+", default=[], metavar="NAME", choices=list(EXPERIMENT_NAMES),
                   help=f"run only these experiments ({', '.join(EXPERIMENT_NAMES)})")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="experiments run in parallel in N worker processes (default: the number of CPUs); with more "
                        "jobs than experiments, the multi-task and Van der Pol experiments spread their seeds over "
                        "the spare ones")
    p.add_argument("--render-only", action="store_true",
                   help="run nothing: rewrite the section from the outcomes stored by earlier calls")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    return {"reproduce": _reproduce}
