"""What the command modules share: help formatting, printing a command's output, option checks."""
from __future__ import annotations

import argparse
import textwrap
from typing import Any

__all__ = ["formatter", "epilog", "print_output", "print_files", "check_positive"]


def formatter(prog: str) -> argparse.HelpFormatter:
    """The help formatter of every parser (descriptions kept as written)."""
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def epilog(text: str) -> str:
    """An ``example:`` block for the end of a command's help."""
    return "example:\n" + textwrap.indent(textwrap.dedent(text).strip(), "  ")


def print_files(files: dict[str, Any]) -> None:
    """Print every file a command wrote, one per line (``figure: NAME: PATH`` for figures)."""
    for name, path in files.items():
        print(f"figure: {name[len('figure_'):]}: {path}" if name.startswith("figure_") else f"{name}: {path}")


def print_output(output: Any) -> int:
    """Print a command's summary, then every file it wrote; returns exit code 0."""
    print(output.summary)
    print_files(output.files)
    return 0


def check_positive(flag: str, value: float) -> None:
    """Raise InputError naming ``flag`` unless ``value`` > 0 (an int flag stays an int in the message)."""
    from neurobias.errors import check_number, is_int

    check_number(flag, value, gt=0, integer=is_int(value))
