"""``neurobias data list`` and ``neurobias data fetch NAME``: the public recordings, checked against their sha256."""
from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

__all__ = ["register"]


def register(sub: Any, *, formatter: Callable[..., Any], epilog: Callable[[str], str]
             ) -> dict[str, Callable[[argparse.Namespace], int]]:
    """Add the ``data`` sub-command (actions ``list`` and ``fetch``) to ``sub``; returns its handler."""
    p = sub.add_parser(
        "data", help="list the registered public recordings, or fetch one (download once, check its sha256)",
        description="The public recordings the examples use, each with a URL and a sha256 checksum. `fetch` "
        "prints the path of the checked file: downloaded once into the user cache directory, or read from the "
        "folder named by the environment variable NEUROBIAS_DATA (nothing is downloaded then).",
        formatter_class=formatter,
        epilog=epilog("""
            neurobias data list
            neurobias data fetch churchland2012
            NEUROBIAS_DATA=/path/to/data neurobias data fetch churchland2012   # a local copy, no download"""),
    )
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    actions = p.add_subparsers(dest="data_action", metavar="ACTION", required=True)
    actions.add_parser("list", help="the registered recordings: name, file, source, licence, where it is")
    fetch = actions.add_parser("fetch", help="print the path of a recording's checked file (download once)")
    fetch.add_argument("name", metavar="NAME", help="a registered recording (see `neurobias data list`)")
    fetch.add_argument("--no-progress", dest="progress", action="store_false", help="no download progress bar")
    return {"data": _cmd_data}


def _cmd_data(args: argparse.Namespace) -> int:
    from neurobias.datasets import fetch

    if args.data_action == "fetch":
        print(fetch(args.name, progress=args.progress))
        return 0
    _print_list()
    return 0


def _print_list() -> None:
    from neurobias.datasets.recordings import DATA_ENV, RECORDINGS, cache_dir, local_data_dir

    local = local_data_dir()
    folder = local if local is not None else cache_dir()
    print(f"recordings are read from {folder} "
          f"({'$' + DATA_ENV if local is not None else 'the user cache directory; set ' + DATA_ENV + ' for a local folder'})")
    for entry in RECORDINGS.values():
        here = "present" if (folder / entry.path).is_file() else "absent"
        how = entry.url if entry.url else f"no public download: {entry.source}"
        print(f"\n{entry.name}: {entry.description}")
        print(f"  file     {entry.path} ({here})")
        print(f"  sha256   {entry.sha256}")
        print(f"  url      {how}")
        print(f"  cite     {entry.citation}")
        print(f"  licence  {entry.licence}")
