"""``neurobias fit-recordings`` and ``neurobias compare-recordings``: fit a circuit to recordings, compare them."""
from __future__ import annotations

import argparse
from collections.abc import Callable

from neurobias.cli.common import print_output

__all__ = ["register"]


def register(sub: argparse._SubParsersAction, *, formatter, epilog) -> dict[str, Callable[[argparse.Namespace], int]]:  # type: ignore[type-arg]  # noqa: ANN001
    """Add the ``fit-recordings`` and ``compare-recordings`` parsers to ``sub``; return their handlers."""
    p = sub.add_parser(
        "fit-recordings", help="fit one fixed random circuit, tonic inputs per condition or per context, to a recording",
        description="Read RECORDING (NWB, .mat, .npz or netCDF, how is said in the [recording] table of CONFIG; or "
        "the name of a public recording such as mante2013), attach its context x stimulus design "
        "([recording.design]), preprocess it ([preprocess]), fit the tonic inputs of a fixed random circuit ([fit]: "
        "model = condition, one per condition; context, one per context shared by its conditions; lowrank) and, "
        "with a [crossval] table, score it and its baselines on held-out conditions, time or trials; write "
        "DIR/recording.nc, DIR/circuit.nc, DIR/fit.nc, DIR/crossval.nc and DIR/figures/. See docs/recordings.md.",
        formatter_class=formatter,
        epilog=epilog("""
            neurobias fit-recordings ../shared/data/churchland2012_reach/exampleData.mat \\
                --config models/fit_reach.toml --out runs/reach
            neurobias fit-recordings ../shared/data/chewie_m1_centerout/chewie_10032013_bin100ms.npz \\
                --config models/fit_chewie.toml --out runs/chewie --set fit.mode=full --set fit.weight_lr=0.001
            neurobias fit-recordings mante2013 --config models/fit_mante.toml --out runs/mante"""),
    )
    p.add_argument("recording", metavar="RECORDING", help="recording file (.nwb, .mat, .npz, .nc)")
    p.add_argument("--config", default=None, metavar="CONFIG", help="TOML fit config (see docs/recordings.md)")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory (created if needed)")
    p.add_argument("--set", action="append", default=[], metavar="TABLE.KEY=VALUE", dest="overrides",
                   help="override a config value, e.g. fit.steps=200 (repeatable)")
    p.add_argument("--seed", type=int, default=None, metavar="N", help="override the config's seed")
    p.add_argument("--no-figures", action="store_true", help="write no figures")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    c = sub.add_parser(
        "compare-recordings", help="compare a fitted circuit with its recording: metrics with nulls, figures, report",
        description="Read DIR (written by fit-recordings), compute R², CCA, Procrustes shape distance, RSA, DSA, "
        "rotation strength and the fitted circuit's fixed points per condition, each with a shuffled-condition "
        "null, and write DIR/comparison.nc, DIR/figures/{pcs,r2_neurons,metrics_null,fit_loss}.png and "
        "DIR/report.html.",
        formatter_class=formatter,
        epilog=epilog("""
            neurobias compare-recordings runs/reach
            neurobias compare-recordings runs/reach --set compare.n_shuffles=20 --set compare.metrics='["r2","cca"]'"""),
    )
    c.add_argument("fit_dir", metavar="DIR", help="directory written by `neurobias fit-recordings`")
    c.add_argument("--set", action="append", default=[], metavar="compare.KEY=VALUE", dest="overrides",
                   help="override a [compare] value, e.g. compare.n_shuffles=20 (repeatable)")
    c.add_argument("--no-figures", action="store_true", help="write no figures")
    c.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    c.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    return {"fit-recordings": _cmd_fit, "compare-recordings": _cmd_compare}


def _cmd_fit(args: argparse.Namespace) -> int:
    from neurobias.config.fit import load_fit_config
    from neurobias.workflows.recording_fit import fit_recording_file

    config = load_fit_config(args.config, overrides=args.overrides, seed=args.seed)
    output = fit_recording_file(args.recording, config=config, out=args.out, progress=not args.no_progress,
                           figures=not args.no_figures)
    return print_output(output)


def _cmd_compare(args: argparse.Namespace) -> int:
    from neurobias.config.fit import compare_overrides
    from neurobias.workflows.recording_fit import compare_fit_dir

    output = compare_fit_dir(args.fit_dir, compare=compare_overrides(args.overrides), progress=not args.no_progress,
                             figures=not args.no_figures)
    return print_output(output)
