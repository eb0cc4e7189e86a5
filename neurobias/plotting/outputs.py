"""Readout against target, one row per context."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from neurobias.plotting._common import (
    FULL_WIDTH,
    as_axes_list,
    colours,
    context_title,
    names,
    new_figure,
    optional_nmse,
    require,
    root_figure,
    trial_position,
)

__all__ = ["plot_outputs"]

_OFF_LOSS_GREY = "0.5"
_OFF_LOSS_ALPHA = 0.15


def _off_runs(off: np.ndarray) -> list[tuple[int, int]]:
    """Contiguous runs ``[start, stop)`` where the boolean array ``off`` is True."""
    padded = np.concatenate(([False], off, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist()))


def _shade(ax: Axes, time: np.ndarray, off: np.ndarray, colour: object, alpha: float) -> None:
    """Shade the time spans where ``off`` is True, from sample midpoint to midpoint."""
    if time.size == 0:
        return
    bounds = np.concatenate(([time[0]], (time[1:] + time[:-1]) / 2.0, [time[-1]]))
    for start, stop in _off_runs(off):
        ax.axvspan(bounds[start], bounds[stop], color=colour, alpha=alpha, linewidth=0, zorder=0)


def plot_outputs(
    results: xr.Dataset, *, trial: int = 0, axes: Sequence[Axes] | None = None
) -> Figure:
    """Plot each context's readout ``z`` (solid) over its ``target`` (dashed).

    One row per context, titled with the context's name and its ``nmse``;
    one colour per output channel, named in the legend.  Times where the
    ``mask`` is 0 (not counted in the loss) are shaded lightly: in grey when
    all outputs share the mask, otherwise in each output's colour.

    Parameters
    ----------
    results : xarray.Dataset
        A ``results`` Dataset with ``z``, ``target`` and ``mask`` of shape
        (context, trial, time, output) and a ``time`` coordinate in ms;
        ``nmse`` of shape (context,) is shown when present.
    trial : int, default 0
        Position along the ``trial`` dimension to show.
    axes : sequence of matplotlib.axes.Axes, optional
        One Axes per context to draw on; a new Figure is created when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The Figure holding the axes.  Each Axes holds exactly two lines per
        output: the target first, then ``z``.
    """
    dims = ("context", "trial", "time", "output")
    require(results, {"z": dims, "target": dims, "mask": dims}, "plot_outputs")
    position = trial_position(results, trial, "plot_outputs")
    n_context = results.sizes["context"]

    if axes is None:
        per_row = 1.7 if n_context <= 3 else 1.3
        fig = new_figure(FULL_WIDTH, 0.7 + per_row * max(n_context, 1))
        axes_list = list(np.atleast_1d(fig.subplots(n_context, 1, sharex=True, squeeze=False)[:, 0]))
    else:
        axes_list = as_axes_list(axes, n_context, "plot_outputs")
        fig = root_figure(axes_list[0])

    one = results[["z", "target", "mask"]].isel(trial=position)
    time = np.asarray(results["time"].values, dtype=float)
    out_names = names(results["output"]) if "output" in results.coords else [
        str(i) for i in range(results.sizes["output"])
    ]
    context_names = names(results["context"]) if "context" in results.coords else [
        str(i) for i in range(n_context)
    ]
    nmse = optional_nmse(results)
    cols = colours(len(out_names))
    any_shaded = False
    shared_mask = True

    for c, ax in enumerate(axes_list):
        sel = one.isel(context=c)
        z = np.asarray(sel["z"].transpose("time", "output").values, dtype=float)
        target = np.asarray(sel["target"].transpose("time", "output").values, dtype=float)
        off = np.asarray(sel["mask"].transpose("time", "output").values) == 0

        if off.size and np.all(off == off[:, :1]):
            if off[:, 0].any():
                _shade(ax, time, off[:, 0], _OFF_LOSS_GREY, _OFF_LOSS_ALPHA)
                any_shaded = True
        else:
            shared_mask = False
            for o in range(off.shape[1]):
                if off[:, o].any():
                    _shade(ax, time, off[:, o], cols[o], _OFF_LOSS_ALPHA * 0.6)
                    any_shaded = True

        for o in range(len(out_names)):
            ax.plot(time, target[:, o], color=cols[o], linestyle="--", linewidth=1.2, alpha=0.9)
            ax.plot(time, z[:, o], color=cols[o], linestyle="-", linewidth=1.3)

        ax.set_title(context_title(context_names[c], nmse[c]), loc="left", fontsize="medium")
        ax.set_ylabel("output")
        if time.size > 1:
            ax.set_xlim(time[0], time[-1])
        ax.grid(True, alpha=0.25)

    if axes_list:
        axes_list[-1].set_xlabel("time (ms)")
        handles: list[Artist] = [
            Line2D([], [], color=cols[o], linewidth=1.6, label=name)
            for o, name in enumerate(out_names)
        ]
        handles += [
            Line2D([], [], color="0.2", linestyle="-", linewidth=1.3, label="readout"),
            Line2D([], [], color="0.2", linestyle="--", linewidth=1.2, label="target"),
        ]
        if any_shaded:
            shade_colour = _OFF_LOSS_GREY if shared_mask else "0.7"
            handles.append(
                Patch(color=shade_colour, alpha=_OFF_LOSS_ALPHA * 1.5, linewidth=0, label="not in loss")
            )
        if axes is None:
            # beside all rows, so a long legend does not stretch the first row
            fig.legend(handles=handles, loc="outside right upper", fontsize="small", frameon=False)
        else:
            axes_list[0].legend(
                handles=handles,
                loc="upper left",
                bbox_to_anchor=(1.01, 1.0),
                fontsize="small",
                frameon=False,
                borderaxespad=0.0,
            )
    return fig
