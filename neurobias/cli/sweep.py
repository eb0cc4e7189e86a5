"""``neurobias sweep`` and ``neurobias sweep-report``: grids of runs on Dask, and a metric over the grid."""
from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["register"]


def register(sub: argparse._SubParsersAction, *, formatter, epilog) -> dict[str, Callable[[argparse.Namespace], int]]:  # type: ignore[type-arg]  # noqa: ANN001
    """Add the ``sweep`` and ``sweep-report`` parsers to ``sub``; return their handlers."""
    p = sub.add_parser(
        "sweep", help="run every cell of a grid of configs (one `run` each) on Dask",
        description="Run CONFIG once for every combination of the --grid values (and of the [sweep.grid] table of "
        "CONFIG), each cell writing DIR/cells/<cell>/ atomically. Started again with the same config and grid, a "
        "sweep skips finished cells and redoes unfinished ones (also after SIGKILL); a failing cell is recorded "
        "with its error and the others go on. Read the results with neurobias.open_sweep(DIR) or "
        "`neurobias sweep-report DIR`. See docs/sweeps.md.",
        formatter_class=formatter,
        epilog=epilog("""
            neurobias sweep models/demo.toml --grid circuit.g=1.0,1.5,2.0 --grid seed=0,1 --out runs/g_sweep
            neurobias sweep models/demo.toml --grid circuit.g=1.0,1.5 --out runs/g --scheduler tcp://10.0.0.5:8786
            neurobias sweep models/demo.toml --grid training.mode=bias,full --out runs/modes --workers 2"""),
    )
    p.add_argument("config", metavar="CONFIG", help="TOML run config, optionally with a [sweep] table")
    p.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="a config key and the values it takes, e.g. circuit.g=1.0,1.5 (repeatable; values are TOML "
                   "literals or bare strings; commas inside [...] do not split)")
    p.add_argument("--out", required=True, metavar="DIR", help="sweep directory (created if needed)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="override a value of the base config (repeatable)")
    p.add_argument("--scheduler", default=None, metavar="WHERE",
                   help="local (default: a Dask LocalCluster), tcp://HOST:PORT (a running Dask scheduler), "
                   "slurm (dask-jobqueue with [sweep.slurm] options) or sync (no Dask)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="workers to start (local: default one per CPU; slurm: jobs, default 1)")
    p.add_argument("--retry-failed", action="store_true", help="run cells that failed before again")
    p.add_argument("--device", default="cpu", metavar="DEV", help="cpu (default), cuda or cuda:N for every cell")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    r = sub.add_parser(
        "sweep-report", help="plot a metric over the grid of a sweep",
        description="Read the sweep in DIR and plot METRIC over one or two grid keys (the others are averaged over, "
        "failed cells left out); write DIR/figures/sweep_<METRIC>.png and print the values.",
        formatter_class=formatter,
        epilog=epilog("""
            neurobias sweep-report runs/g_sweep --metric nmse
            neurobias sweep-report runs/g_sweep --metric final_loss --x seed --hue circuit.g"""),
    )
    r.add_argument("sweep_dir", metavar="DIR", help="directory written by `neurobias sweep`")
    r.add_argument("--metric", default="nmse", metavar="NAME",
                   help="nmse (default; mean over contexts), final_loss, steps_done, train_wall_time_s or wall_time_s")
    r.add_argument("--x", default=None, metavar="KEY", help="grid key across (default: the first)")
    r.add_argument("--hue", default=None, metavar="KEY", help="second grid key (default: the second, if any)")
    r.add_argument("--context", default=None, metavar="NAME", help="nmse of this context only")
    r.add_argument("--out", default=None, metavar="FILE", help="figure file (default DIR/figures/sweep_METRIC.png)")
    r.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    return {"sweep": _cmd_sweep, "sweep-report": _cmd_sweep_report}


def _cmd_sweep(args: argparse.Namespace) -> int:
    from neurobias.config import apply_overrides
    from neurobias.errors import InputError
    from neurobias.sweep import load_sweep_config, merge_grids, parse_grid_option, run_sweep

    config, settings = load_sweep_config(args.config)
    config = apply_overrides(config, list(args.overrides))
    cli_grid: dict[str, tuple] = {}
    for option in args.grid:
        key, values = parse_grid_option(option)
        if key in cli_grid:
            raise InputError(f"--grid {key}=... is given twice; list all its values in one option")
        cli_grid[key] = values
    grid = merge_grids(settings.grid, cli_grid)
    if not grid:
        raise InputError("give at least one --grid KEY=V1,V2,... (or a [sweep.grid] table in the config)")
    output = run_sweep(config, grid, out=args.out, scheduler=args.scheduler or settings.scheduler,
                   workers=args.workers if args.workers is not None else settings.workers, slurm=settings.slurm,
                   retry_failed=args.retry_failed, device=args.device, progress=not args.no_progress)
    n = len(output.records)
    print(f"sweep {output.out}: {n} cells; {len(output.ran)} run now, {len(output.skipped)} finished before; "
          f"{n - len(output.failed)} ok, {len(output.failed)} failed")
    for name in output.failed:
        record = output.records[name]
        print(f"  {name} ({', '.join(record.overrides)}): {record.error}")
    print(f"read it with neurobias.open_sweep({str(output.out)!r}) or `neurobias sweep-report {output.out}`")
    return 0


def _cmd_sweep_report(args: argparse.Namespace) -> int:
    from neurobias.sweep import report_sweep

    ds, metric, out = report_sweep(args.sweep_dir, metric=args.metric, x=args.x, hue=args.hue, context=args.context,
                                   out=args.out)
    note = f" (mean over {metric.attrs['averaged_over']})" if metric.attrs["averaged_over"] else ""
    print(f"{args.metric}{note}; {ds.attrs['n_ok']} ok, {ds.attrs['n_failed']} failed, "
          f"{ds.attrs['n_pending']} not finished:")
    print(metric.to_pandas().to_string(float_format=lambda v: f"{v:.4g}"))
    print(f"figure: {out}")
    return 0
