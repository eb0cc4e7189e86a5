"""The ``neurobias`` command line: parses, loads config, calls the public API. Holds no science.

A user error prints one line ``neurobias: error: ...`` to stderr and exits with
code 2 (``--debug`` shows the traceback instead); a bug keeps its traceback.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Sequence

from neurobias._version import __version__
from neurobias.errors import NeurobiasError

__all__ = ["main", "build_parser"]

EXIT_USER_ERROR = 2


class _UserError(Exception):
    """An argparse error, reported like any other user error."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UserError(f"{self.prog}: {message} (see `{self.prog} --help`)")


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def _epilog(text: str) -> str:
    return "example:\n" + textwrap.indent(textwrap.dedent(text).strip(), "  ")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``neurobias`` (one sub-command per public verb)."""
    parser = _Parser(
        prog="neurobias",
        description="Fixed random recurrent circuits driven by learned tonic inputs.",
        formatter_class=_formatter,
        epilog=_epilog("neurobias run models/demo.toml --out runs/demo"),
    )
    parser.add_argument("--version", action="version", version=f"neurobias {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for user errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser(
        "run", help="train a circuit's tonic inputs from a TOML config and write its files",
        description="Build the circuit and task of CONFIG, train, evaluate, and write DIR/circuit.nc, "
        "DIR/results.nc and DIR/figures/*.png.",
        formatter_class=_formatter,
        epilog=_epilog("""
            neurobias run models/demo.toml --out runs/demo
            neurobias run models/demo.toml --out runs/quick --set training.steps=50 --seed 3
            neurobias run models/demo.toml --out runs/demo --resume   # after an interruption"""),
    )
    p.add_argument("config", metavar="CONFIG", help="TOML config file (see docs/config.md)")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory (created if needed)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="override a config value, e.g. training.steps=200 (repeatable)")
    p.add_argument("--seed", type=int, default=None, metavar="N", help="override the config's seed")
    p.add_argument("--resume", action="store_true",
                   help="continue from DIR/checkpoint.npz (same result as an uninterrupted run)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--device", default="cpu", metavar="DEV",
                   help="where to train and evaluate: cpu (default), cuda or cuda:N (see docs/devices.md)")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    s = sub.add_parser(
        "simulate", help="simulate a trained circuit in one or more contexts",
        description="Simulate CIRCUIT with the tonic inputs of RESULTS and write a trajectories file. By default "
        "the inputs are fresh trials of the task in the run's config; --duration simulates without input.",
        formatter_class=_formatter,
        epilog=_epilog("""
            neurobias simulate runs/demo/circuit.nc runs/demo/results.nc --context sine_1Hz --out sim.nc
            neurobias simulate runs/demo/circuit.nc runs/demo/results.nc --duration 3000 --out long.nc"""),
    )
    s.add_argument("circuit", metavar="CIRCUIT", help="circuit.nc written by `neurobias run`")
    s.add_argument("results", metavar="RESULTS", help="results.nc with the tonic inputs")
    s.add_argument("--context", action="append", default=None, metavar="NAME",
                   help="context to simulate (repeatable; default: all)")
    s.add_argument("--out", required=True, metavar="FILE", help="output netCDF file (trajectories)")
    s.add_argument("--duration", type=float, default=None, metavar="MS",
                   help="simulate this long with zero input instead of task trials")
    s.add_argument("--trials", type=int, default=1, metavar="N", help="trials per context (default 1)")
    s.add_argument("--dt", type=float, default=None, metavar="MS", help="time step (default: the run's)")
    s.add_argument("--method", choices=("euler", "exp_euler"), default=None, help="integrator (default: the run's)")
    s.add_argument("--noise-std", type=float, default=0.0, metavar="S", help="process noise per sqrt(ms)")
    s.add_argument("--seed", type=int, default=0, metavar="N", help="seed of trials and noise (default 0)")
    s.add_argument("--device", default="cpu", metavar="DEV", help="cpu (default), cuda or cuda:N")
    s.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    f = sub.add_parser(
        "fixed-points", help="find the fixed and slow points of every context of a run",
        description="Find the fixed points (F(x) = 0 for the flow) and slow points of every context of RUN_DIR, "
        "with their eigenvalues and stability; write RUN_DIR/fixed_points.nc, RUN_DIR/figures/fixed_points.png "
        "and RUN_DIR/figures/spectra.png.",
        formatter_class=_formatter,
        epilog=_epilog("neurobias fixed-points runs/demo --candidates 512"),
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
        formatter_class=_formatter,
        epilog=_epilog("neurobias continue runs/demo --from sine_1Hz --to sine_2Hz"),
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
        formatter_class=_formatter,
        epilog=_epilog("""
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
        formatter_class=_formatter,
        epilog=_epilog("neurobias report runs/demo"),
    )
    r.add_argument("run_dir", metavar="RUN_DIR", help="directory written by `neurobias run`")
    r.add_argument("--out", default=None, metavar="FILE", help="output file (default RUN_DIR/report.html)")
    r.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    _register_modules(sub)
    return parser


def _cmd_report(args: argparse.Namespace) -> int:
    from neurobias.analysis_runs import report_of_run

    print(report_of_run(args.run_dir, out=args.out).summary)
    return 0


def _check_positive(flag: str, value: float) -> None:
    from neurobias.errors import InputError

    if not value > 0:
        raise InputError(f"{flag} must be positive; got {value}")


def _print_analysis(output) -> int:  # noqa: ANN001 - an AnalysisOutput
    """Print an analysis' summary, then every file it wrote (one per line)."""
    print(output.summary)
    for name, path in output.files.items():
        print(f"figure: {name[len('figure_'):]}: {path}" if name.startswith("figure_") else f"{name}: {path}")
    return 0


def _cmd_fixed_points(args: argparse.Namespace) -> int:
    from neurobias.analysis_runs import fixed_points_of_run

    _check_positive("--candidates", args.candidates)
    _check_positive("--tol", args.tol)
    output = fixed_points_of_run(args.run_dir, n_candidates=args.candidates, seed=args.seed, tol=args.tol,
                                 figures=not args.no_figures, out=args.out)
    return _print_analysis(output)


def _cmd_continue(args: argparse.Namespace) -> int:
    from neurobias.analysis_runs import continuation_of_run

    _check_positive("--steps", args.steps)
    output = continuation_of_run(args.run_dir, start=args.start, end=args.end, steps=args.steps, seed=args.seed,
                                 figures=not args.no_figures, out=args.out)
    return _print_analysis(output)


def _cmd_compare_contexts(args: argparse.Namespace) -> int:
    from neurobias.analysis_runs import comparison_of_run
    from neurobias.errors import InputError

    if args.shuffles < 0:
        raise InputError(f"--shuffles must be >= 0; got {args.shuffles}")
    if args.seed < 0:
        raise InputError(f"--seed must be >= 0; got {args.seed}")
    output = comparison_of_run(args.run_dir, figures=not args.no_figures, out=args.out, n_shuffles=args.shuffles,
                               seed=args.seed)
    return _print_analysis(output)


def _cmd_run(args: argparse.Namespace) -> int:
    from neurobias.config import apply_overrides, load_config

    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    config = apply_overrides(load_config(args.config), overrides)
    from neurobias.runner import run  # after the config checks: config errors need no torch import

    output = run(config, out=args.out, resume=args.resume, progress=not args.no_progress, device=args.device)
    res = output.results
    print(f"trained {res.attrs['steps_done']} steps in {res.attrs['training_mode']!r} mode; NMSE per context:")
    for ctx, value in zip(res["context"].values, res["nmse"].values):
        print(f"  {ctx}: {value:.4g}")
    print(f"results: {output.files['results']}")
    print(f"circuit: {output.files['circuit']}")
    figs = [str(p) for k, p in output.files.items() if k.startswith("figure_")]
    if figs:
        print(f"figures: {Path(figs[0]).parent}/ ({', '.join(Path(f).name for f in figs)})")
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from neurobias.config import config_from_toml
    from neurobias.errors import InputError
    from neurobias.io import check_writable_dir, open_circuit, open_results
    from neurobias.runner import _first_missing

    if args.trials < 1:
        raise InputError(f"--trials must be >= 1; got {args.trials}")
    circuit = open_circuit(args.circuit)
    results = open_results(args.results)
    if results.sizes["unit"] != circuit.n_units:
        raise InputError(f"{args.results} has {results.sizes['unit']} units but {args.circuit} has {circuit.n_units}")
    names = [str(c) for c in results["context"].values]
    contexts = args.context or names
    unknown = [c for c in contexts if c not in names]
    if unknown:
        raise InputError(f"--context {unknown[0]!r} is not a context of {args.results}; choose from {', '.join(names)}")
    config = config_from_toml(str(results.attrs["config"]), source=f"{args.results} (config attribute)")
    dt = args.dt if args.dt is not None else config.simulation.dt
    method = args.method or config.simulation.method
    out_parent = Path(args.out).resolve().parent
    created = _first_missing(out_parent)
    check_writable_dir(out_parent)
    try:
        path, ds = _simulate_and_write(args, circuit, results, config, contexts, dt, method)
    except NeurobiasError:
        # e.g. a bad --duration or --dt: leave no directory behind that this call created
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise
    print(f"trajectories: {path} ({len(contexts)} context(s), {ds.sizes['trial']} trial(s), "
          f"{ds.sizes['time']} steps of {dt} ms)")
    return 0


def _simulate_and_write(args, circuit, results, config, contexts, dt, method):  # noqa: ANN001, ANN202
    import numpy as np

    from neurobias.circuit import simulate
    from neurobias.io import write_dataset
    from neurobias.runner import build_task
    from neurobias.training import seeds
    from neurobias.training.train import initial_states

    if args.duration is not None:
        ds = simulate(circuit, results["tonic"], duration=args.duration, dt=dt, method=method,
                      noise_std=args.noise_std, seed=args.seed, contexts=contexts, n_trials=args.trials,
                      device=args.device)
    else:
        task = build_task(_with_dt(config, dt))
        rng = seeds.stream(args.seed, seeds.EVAL)
        batch = task.sample_all(args.trials, rng)
        idx = [task.contexts.index(c) for c in contexts]
        x0 = initial_states(task, circuit.n_units, args.trials, config.simulation.x0_std, rng)
        ds = simulate(circuit, results["tonic"], inputs=batch.inputs[idx], x0=x0[idx], dt=dt, method=method,
                      noise_std=args.noise_std, seed=args.seed, contexts=contexts, device=args.device)
        ds["target"] = (("context", "trial", "time", "output"), np.ascontiguousarray(batch.targets[idx]))
        ds["mask"] = (("context", "trial", "time", "output"), np.ascontiguousarray(batch.mask[idx]))
    ds.attrs["config"] = str(results.attrs["config"])
    ds.attrs["source_results"] = str(Path(args.results).resolve())
    from neurobias.io.circuit import provenance_attrs  # run_seed and the circuit's and tonic inputs' fingerprints

    ds.attrs.update(provenance_attrs(circuit, config_toml=str(results.attrs["config"]),
                                     seed=int(results.attrs["seed"]), tonic=results["tonic"].values))
    path = write_dataset(ds, args.out, kind="trajectories")
    return path, ds


def _with_dt(config, dt):  # noqa: ANN001, ANN202 - small helper
    from dataclasses import replace

    return replace(config, simulation=replace(config.simulation, dt=dt))


_COMMANDS = {"run": _cmd_run, "simulate": _cmd_simulate, "fixed-points": _cmd_fixed_points,
             "continue": _cmd_continue, "compare-contexts": _cmd_compare_contexts, "report": _cmd_report}

# Further sub-commands live in their own modules, each with
# ``register(sub, *, formatter, epilog) -> dict[str, Callable[[argparse.Namespace], int]]``
# which adds its parsers to ``sub`` and returns its handlers (one module per topic).
_COMMAND_MODULES = ("neurobias.cli_recordings", "neurobias.cli_reproduce", "neurobias.cli_sweep",
                    "neurobias.cli_info", "neurobias.cli_data")


def _register_modules(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    import importlib
    import importlib.util

    for name in _COMMAND_MODULES:
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        _COMMANDS.update(module.register(sub, formatter=_formatter, epilog=_epilog))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``neurobias``; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_USER_ERROR
        return _COMMANDS[args.command](args)
    except (NeurobiasError, _UserError) as exc:
        if debug:
            raise
        msg = " ".join(str(exc).split())
        print(f"neurobias: error: {msg}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("neurobias: interrupted (use --resume to continue a run)", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
