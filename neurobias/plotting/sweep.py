"""A metric over the grid of a sweep: a line over one grid key, or an annotated heat map over two."""
from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib import colormaps
from matplotlib.axes import Axes

from neurobias.errors import InputError
from neurobias.plotting._common import FULL_WIDTH, names, new_figure, root_figure

__all__ = ["plot_sweep_metric"]


def _labels(coord: xr.DataArray) -> list[str]:
    values = coord.values
    if values.dtype.kind == "f":
        return [f"{v:g}" for v in values]
    return names(coord)


def plot_sweep_metric(metric: xr.DataArray, *, ax: Axes | None = None) -> Axes:
    """Plot a metric over one or two grid keys of a sweep.

    One key: the metric against the key's values (one point per cell, evenly
    spaced, labelled by value).  Two keys: a heat map with the first key
    across and the second down, each cell annotated with its value; cells
    without a value (failed or not run) are grey and marked "failed".

    Parameters
    ----------
    metric : xarray.DataArray of dims (x,) or (x, hue)
        From :func:`neurobias.sweep.metric_over_grid` (its attrs ``metric``,
        ``averaged_over`` and ``context`` title the plot).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new Figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if not isinstance(metric, xr.DataArray) or metric.ndim not in (1, 2):
        got = type(metric).__name__ if not isinstance(metric, xr.DataArray) else f"{metric.ndim} dims"
        raise InputError(f"plot_sweep_metric: `metric` must be a DataArray over one or two grid keys; got {got}")
    name = str(metric.attrs.get("metric", metric.name or "metric"))
    if ax is None:
        fig = new_figure(min(FULL_WIDTH, 2.0 + 0.9 * metric.shape[0]) if metric.ndim == 2 else 5.0,
                         3.2 if metric.ndim == 1 else 1.4 + 0.45 * metric.shape[1])
        ax = fig.add_subplot()
    x_key = metric.dims[0]
    x_labels = _labels(metric[x_key])
    values = np.asarray(metric.values, dtype=float)
    if metric.ndim == 1:
        pos = np.arange(len(x_labels))
        ax.plot(pos, values, "o-", color="C0")
        for p in pos[~np.isfinite(values)]:
            ax.annotate("failed", (p, 0.0), xycoords=("data", "axes fraction"), xytext=(0, 4),
                        textcoords="offset points", ha="center", color="0.4", fontsize=8)
        ax.set_xticks(pos, x_labels)
        ax.set_ylabel(name)
    else:
        hue_key = metric.dims[1]
        grid = values.T  # rows: hue, columns: x
        masked = np.ma.masked_invalid(grid)
        cmap = colormaps["viridis"].with_extremes(bad="0.85")
        image = ax.imshow(masked, cmap=cmap, aspect="auto", origin="lower")
        finite = grid[np.isfinite(grid)]
        mid = 0.5 * (finite.min() + finite.max()) if finite.size else 0.0
        for (i, j), v in np.ndenumerate(grid):
            text = f"{v:.3g}" if np.isfinite(v) else "failed"
            colour = "0.3" if not np.isfinite(v) else ("white" if v < mid else "black")
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color=colour)
        ax.set_xticks(np.arange(len(x_labels)), x_labels)
        ax.set_yticks(np.arange(grid.shape[0]), _labels(metric[hue_key]))
        ax.set_ylabel(str(hue_key))
        root_figure(ax).colorbar(image, ax=ax, label=name)
    ax.set_xlabel(str(x_key))
    notes = []
    if metric.attrs.get("context"):
        notes.append(f"context {metric.attrs['context']}")
    if metric.attrs.get("averaged_over"):
        notes.append(f"mean over {metric.attrs['averaged_over']}")
    ax.set_title(name + (f" ({'; '.join(notes)})" if notes else ""), fontsize=10)
    return ax
