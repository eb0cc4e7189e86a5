"""The ``neurobias`` command line: parses, and calls :mod:`neurobias.workflows`. Holds no science.

One module per command group, each with
``register(sub, *, formatter, epilog) -> dict[str, Callable[[argparse.Namespace], int]]``
which adds its parsers to ``sub`` and returns its handlers; a new group is one
new module listed in :data:`COMMAND_MODULES`.

A user error prints one line ``neurobias: error: ...`` to stderr and exits with
code 2 (``--debug`` shows the traceback instead); a bug keeps its traceback.
A warning (e.g. :class:`~neurobias.errors.ConvergenceWarning`, an optimisation
that ended worse than it began) prints one line ``neurobias: warning: ...`` to
stderr; the warning filters in force (``python -W``, ``PYTHONWARNINGS``) still
decide which warnings are shown.
"""
from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Callable, Sequence

from neurobias._version import __version__
from neurobias.cli.common import epilog, formatter
from neurobias.errors import NeurobiasError

__all__ = ["main", "build_parser", "COMMAND_MODULES", "EXIT_USER_ERROR"]

EXIT_USER_ERROR = 2

#: the command groups, in the order of ``neurobias --help``
COMMAND_MODULES: tuple[str, ...] = (
    "neurobias.cli.run", "neurobias.cli.analyses", "neurobias.cli.recordings", "neurobias.cli.reproduce",
    "neurobias.cli.sweep", "neurobias.cli.info", "neurobias.cli.data",
)


class _UserError(Exception):
    """An argparse error, reported like any other user error."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        command = self.prog.removeprefix("neurobias").strip()  # the error line already starts with "neurobias:"
        raise _UserError(f"{command + ': ' if command else ''}{message} (see `{self.prog} --help`)")


def _build() -> tuple[argparse.ArgumentParser, dict[str, Callable[[argparse.Namespace], int]]]:
    parser = _Parser(
        prog="neurobias",
        description="Fixed random recurrent circuits driven by learned tonic inputs.",
        formatter_class=formatter,
        epilog=epilog("neurobias run models/demo.toml --out runs/demo"),
    )
    parser.add_argument("--version", action="version", version=f"neurobias {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for user errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {}
    for name in COMMAND_MODULES:
        handlers.update(importlib.import_module(name).register(sub, formatter=formatter, epilog=epilog))
    return parser, handlers


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``neurobias`` (one sub-command per public verb)."""
    return _build()[0]


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    """Print a warning as one line, ``neurobias: warning: <category>: <message>``, to stderr."""
    text = " ".join(str(message).split())
    print(f"neurobias: warning: {category.__name__}: {text}", file=sys.stderr if file is None else file)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``neurobias``; returns the exit code."""
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    parser, handlers = _build()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_USER_ERROR
        return handlers[args.command](args)
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
