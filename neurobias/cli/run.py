"""``neurobias run`` and ``neurobias simulate``: train a circuit into a run directory, simulate a trained one."""
from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(sub: Any, *, formatter: Callable[..., Any], epilog: Callable[[str], str]
             ) -> dict[str, Callable[[argparse.Namespace], int]]:
    """Add the ``run`` and ``simulate`` parsers to ``sub``; return their handlers."""
    p = sub.add_parser(
        "run", help="train a circuit's tonic inputs from a TOML config and write its files",
        description="Build the circuit and task of CONFIG, train, evaluate, and write DIR/circuit.nc, "
        "DIR/results.nc and DIR/figures/*.png. A DIR that already holds a run is refused unless --resume "
        "continues it or --overwrite replaces it (with its analyses and report).",
        formatter_class=formatter,
        epilog=epilog("""
            neurobias run models/demo.toml --out runs/demo
            neurobias run models/demo.toml --out runs/quick --set training.steps=50 --seed 3
            neurobias run models/demo.toml --out runs/demo --resume      # after an interruption
            neurobias run models/demo.toml --out runs/demo --overwrite   # replace the run in runs/demo"""),
    )
    p.add_argument("config", metavar="CONFIG", help="TOML config file (see docs/config.md)")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory (created if needed)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="override a config value, e.g. training.steps=200 (repeatable)")
    p.add_argument("--seed", type=int, default=None, metavar="N", help="override the config's seed")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="continue the run in DIR from DIR/checkpoint.npz (same result as an uninterrupted run)")
    again.add_argument("--overwrite", action="store_true",
                       help="replace the run in DIR: remove its files, analyses and report first (files that are "
                       "not a run's stay)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--device", default="cpu", metavar="DEV",
                   help="where to train and evaluate: cpu (default), cuda or cuda:N (see docs/devices.md)")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    s = sub.add_parser(
        "simulate", help="simulate a trained circuit in one or more contexts",
        description="Simulate CIRCUIT with the tonic inputs of RESULTS and write a trajectories file. By default "
        "the inputs are fresh trials of the task in the run's config; --duration simulates without input.",
        formatter_class=formatter,
        epilog=epilog("""
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

    return {"run": _cmd_run, "simulate": _cmd_simulate}


def _cmd_run(args: argparse.Namespace) -> int:
    from neurobias.config import apply_overrides, load_config

    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    config = apply_overrides(load_config(args.config), overrides)
    from neurobias.workflows.run import run  # after the config checks: config errors need no torch import

    output = run(config, out=args.out, resume=args.resume, overwrite=args.overwrite, progress=not args.no_progress,
                 device=args.device)
    res = output.results
    if output.kept:
        print(f"kept in {output.out} (not files of a run): {', '.join(output.kept)}")
    tr = config.training
    done = int(res.attrs["steps_done"])
    if done < tr.steps and tr.target_loss > 0:
        how = (f"trained {done} of {tr.steps} steps in {res.attrs['training_mode']!r} mode (stopped early: the loss "
               f"reached training.target_loss = {tr.target_loss:g})")
    else:
        how = f"trained {done} steps in {res.attrs['training_mode']!r} mode"
    print(f"{how}; NMSE per context:")
    for ctx, value in zip(res["context"].values, res["nmse"].values):
        print(f"  {ctx}: {value:.4g}")
    print(f"results: {output.files['results']}")
    print(f"circuit: {output.files['circuit']}")
    figs = [str(p) for k, p in output.files.items() if k.startswith("figure_")]
    if figs:
        print(f"figures: {Path(figs[0]).parent}/ ({', '.join(Path(f).name for f in figs)})")
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from neurobias.workflows.simulate import simulate_to_file

    output = simulate_to_file(args.circuit, args.results, out=args.out, contexts=args.context,
                              duration=args.duration, n_trials=args.trials, dt=args.dt, method=args.method,
                              noise_std=args.noise_std, seed=args.seed, device=args.device)
    print(output.summary)
    return 0
