"""``neurobias info FILE``: what a neurobias file (or run directory) holds."""
from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

__all__ = ["register"]


def register(sub: Any, *, formatter: Callable[..., Any], epilog: Callable[[str], str]
             ) -> dict[str, Callable[[argparse.Namespace], int]]:
    """Add the ``info`` sub-command to ``sub``; returns its handler."""
    p = sub.add_parser(
        "info", help="describe a neurobias file: kind, dims, variables, config, seed, weight hashes, version",
        description="Describe FILE: a netCDF file written by neurobias (circuit, results, trajectories, fixed "
        "points, continuation, comparison, ...; validated against its schema), a training checkpoint (.npz), or "
        "a run directory (one line per neurobias file in it).",
        formatter_class=formatter,
        epilog=epilog("""
            neurobias info runs/demo/results.nc
            neurobias info runs/demo                      # every file of a run
            neurobias info runs/demo/results.nc --config  # the config that produced it (TOML)
            neurobias info runs/demo/circuit.nc --json"""),
    )
    p.add_argument("path", metavar="FILE", help="a neurobias .nc file, a checkpoint .npz or a directory")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--config", action="store_true", help="print only the embedded config (TOML)")
    group.add_argument("--json", action="store_true", help="print the description as JSON")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    return {"info": _cmd_info}


def _cmd_info(args: argparse.Namespace) -> int:
    from neurobias.workflows.info import file_info, format_info

    info = file_info(args.path)
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=True))
    else:
        print(format_info(info, config=args.config))
    return 0
