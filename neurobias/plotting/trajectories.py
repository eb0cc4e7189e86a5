"""Rates of a few units over time, one panel per context."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from neurobias.errors import check_number
from neurobias.plotting._common import (
    FULL_WIDTH,
    as_axes_list,
    colours,
    grid_shape,
    names,
    new_figure,
    require,
    root_figure,
    trial_position,
)

__all__ = ["plot_rates"]

_MAX_COLUMNS = 3


def plot_rates(
    results: xr.Dataset,
    *,
    trial: int = 0,
    n_units: int = 8,
    axes: Sequence[Axes] | None = None,
) -> Figure:
    """Plot the rates ``r`` of the first few units over time, one panel per context.

    A unit has the same colour in every panel, so a unit's activity can be
    compared across contexts; the panels share their axes.

    Parameters
    ----------
    results : xarray.Dataset
        A ``results`` Dataset with ``r`` of shape (context, trial, time, unit)
        and a ``time`` coordinate in ms.
    trial : int, default 0
        Position along the ``trial`` dimension to show.
    n_units : int, default 8
        How many units to show: the first ``n_units`` along ``unit`` (all
        units when there are fewer).
    axes : sequence of matplotlib.axes.Axes, optional
        One Axes per context to draw on; a new Figure is created when
        omitted, its panels in a grid of at most three columns (fewer when
        context names are long, so titles do not collide).

    Returns
    -------
    matplotlib.figure.Figure
        The Figure holding the axes; each Axes holds one line per shown unit.
    """
    require(results, {"r": ("context", "trial", "time", "unit")}, "plot_rates")
    position = trial_position(results, trial, "plot_rates")
    n_units = check_number("n_units", n_units, ge=1, integer=True)
    n_context = results.sizes["context"]
    shown = min(n_units, results.sizes["unit"])

    context_names = names(results["context"]) if "context" in results.coords else [
        str(i) for i in range(n_context)
    ]

    own = axes is None
    if own:
        longest = max((len(name) for name in context_names), default=0)
        max_cols = _MAX_COLUMNS if longest <= 20 else 2 if longest <= 36 else 1
        rows, cols = grid_shape(n_context, max_cols)
        fig = new_figure(FULL_WIDTH, 0.7 + 1.9 * rows)
        fig.get_layout_engine().set(wspace=0.06)
        grid = fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)
        flat = list(grid.ravel())
        for extra in flat[n_context:]:
            fig.delaxes(extra)
        axes_list = flat[:n_context]
    else:
        axes_list = as_axes_list(axes, n_context, "plot_rates")
        fig = root_figure(axes_list[0])

    rates = results["r"].isel(trial=position, unit=slice(0, shown))
    time = np.asarray(results["time"].values, dtype=float)
    unit_labels = (
        [f"unit {u}" for u in np.asarray(results["unit"].values)[:shown]]
        if "unit" in results.coords
        else [f"unit {u}" for u in range(shown)]
    )
    cols_rgba = colours(shown)

    for c, ax in enumerate(axes_list):
        r = np.asarray(rates.isel(context=c).transpose("time", "unit").values, dtype=float)
        for u in range(shown):
            ax.plot(time, r[:, u], color=cols_rgba[u], linewidth=1.0)
        ax.set_title(context_names[c], fontsize="medium")
        if time.size > 1:
            ax.set_xlim(time[0], time[-1])
        ax.grid(True, alpha=0.25)
        if not own:
            ax.set_xlabel("time (ms)")
            ax.set_ylabel("rate r")

    if axes_list and shown:
        handles = [
            Line2D([], [], color=cols_rgba[u], linewidth=1.6, label=label)
            for u, label in enumerate(unit_labels)
        ]
        if own:
            for ax in axes_list:
                # tick labels on every panel at the bottom of its column
                ax.xaxis.set_tick_params(labelbottom=True)
            fig.supxlabel("time (ms)", fontsize="medium")
            fig.supylabel("rate r", fontsize="medium")
            fig.legend(handles=handles, loc="outside right upper", fontsize="small", frameon=False)
            fig.suptitle(f"rates of {shown} units (trial {position})", fontsize="medium")
        else:
            axes_list[0].legend(handles=handles, loc="best", fontsize="small", frameon=False)
    return fig
