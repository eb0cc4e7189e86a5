"""What a command over a directory returns."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import xarray as xr

__all__ = ["Output"]


@dataclass(frozen=True)
class Output:
    """A Dataset computed by a command, the files it wrote and a plain-language summary.

    Attributes
    ----------
    dataset : xarray.Dataset
        What the command computed (as written to its main file).
    files : dict of str to Path
        Written files by name (``figure_<name>`` for figures).
    summary : str
        Plain-language lines for the terminal.
    """

    dataset: xr.Dataset
    files: dict[str, Path] = field(default_factory=dict)
    summary: str = ""
