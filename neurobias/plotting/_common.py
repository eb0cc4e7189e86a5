"""Shared helpers of the plotting layer: argument checks, figure creation, colours.

Nothing here computes results; the helpers only check what a plotting
function was given, select what it shows and set up matplotlib objects.
Figures are created as :class:`matplotlib.figure.Figure` objects, never
through pyplot, so no GUI backend is needed and no state leaks between calls.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.colors import Colormap
from matplotlib.figure import Figure

from neurobias.errors import InputError

__all__ = [
    "require",
    "new_figure",
    "root_figure",
    "as_axes_list",
    "names",
    "trial_position",
    "colours",
    "grid_shape",
    "context_title",
    "optional_nmse",
]

#: width in inches of a full-width figure (looks right at 150 dpi)
FULL_WIDTH = 7.5


def require(results: object, variables: dict[str, Iterable[str]], func: str) -> xr.Dataset:
    """Check that ``results`` is a Dataset holding ``variables`` with the given dims.

    Parameters
    ----------
    results : object
        What the caller passed as ``results``.
    variables : dict of str to iterable of str
        Variable name to the dimensions it must have (in any order).
    func : str
        Name of the calling function, for error messages.

    Returns
    -------
    xarray.Dataset
        ``results`` itself.

    Raises
    ------
    InputError
        If ``results`` is not a Dataset, lacks a variable or a variable lacks a dimension.
    """
    if not isinstance(results, xr.Dataset):
        raise InputError(
            f"{func}: `results` must be an xarray.Dataset of kind 'results'; "
            f"got {type(results).__name__}"
        )
    missing = [name for name in variables if name not in results.variables]
    if missing:
        raise InputError(
            f"{func}: `results` must hold the variables {sorted(variables)}; "
            f"missing {missing}"
        )
    for name, dims in variables.items():
        want = tuple(dims)
        have = results[name].dims
        if set(want) != set(have):
            raise InputError(
                f"{func}: `results['{name}']` must have the dimensions {want}; got {have}"
            )
    return results


def new_figure(width: float, height: float) -> Figure:
    """A fresh, constrained-layout Figure of the given size in inches (not pyplot-managed)."""
    return Figure(figsize=(width, height), layout="constrained")


def root_figure(ax: Axes) -> Figure:
    """The top-level Figure holding ``ax`` (also when ``ax`` sits in a SubFigure)."""
    try:
        return ax.get_figure(root=True)  # matplotlib >= 3.10
    except TypeError:  # pragma: no cover - older matplotlib
        fig = ax.figure
        while not isinstance(fig, Figure):
            fig = fig.figure
        return fig


def as_axes_list(axes: object, n: int, func: str) -> list[Axes]:
    """Check that ``axes`` is a sequence (or array) of ``n`` Axes and return it as a list."""
    if isinstance(axes, Axes):
        flat = [axes]
    else:
        try:
            flat = list(np.asarray(axes, dtype=object).ravel())
        except TypeError:  # pragma: no cover - np.asarray accepts nearly anything
            flat = []
    if len(flat) != n or not all(isinstance(a, Axes) for a in flat):
        raise InputError(
            f"{func}: `axes` must be a sequence of {n} matplotlib Axes (one per context); "
            f"got {type(axes).__name__} of {len(flat)} item(s)"
        )
    return flat


def names(coord: xr.DataArray) -> list[str]:
    """The values of a (string) coordinate as a list of str (bytes decoded)."""
    out = []
    for value in np.asarray(coord.values).ravel():
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        out.append(str(value))
    return out


def trial_position(results: xr.Dataset, trial: int, func: str) -> int:
    """Check that ``trial`` is a valid position along the ``trial`` dimension."""
    n = results.sizes.get("trial", 0)
    if isinstance(trial, bool) or not isinstance(trial, (int, np.integer)):
        raise InputError(f"{func}: `trial` must be an int (a position along 'trial'); got {trial!r}")
    if not -n <= int(trial) < n:
        raise InputError(
            f"{func}: `trial` must be a position in [0, {n}) along the 'trial' dimension; got {trial}"
        )
    return int(trial) % n


def colours(n: int) -> list[tuple[float, float, float, float]]:
    """``n`` distinct colours: tab10 up to 10, evenly spaced viridis beyond."""
    from matplotlib import colormaps

    cmap: Colormap
    if n <= 10:
        cmap = colormaps["tab10"]
        return [cmap(i) for i in range(n)]
    cmap = colormaps["viridis"]
    return [cmap(v) for v in np.linspace(0.0, 0.9, n)]


def grid_shape(n: int, max_cols: int) -> tuple[int, int]:
    """(rows, cols) of a grid holding ``n`` panels with at most ``max_cols`` columns."""
    cols = max(1, min(n, max_cols))
    rows = max(1, -(-n // cols))
    return rows, cols


def context_title(name: str, nmse: float | None) -> str:
    """``name`` followed by its NMSE when known."""
    if nmse is None:
        return name
    return f"{name}   (NMSE {nmse:.3g})"


def optional_nmse(results: xr.Dataset) -> list[float | None]:
    """Each context's ``nmse`` value, or None for every context when absent."""
    n = results.sizes["context"]
    if "nmse" not in results.variables or results["nmse"].dims != ("context",):
        return [None] * n
    return [float(v) for v in np.asarray(results["nmse"].values, dtype=float)]

