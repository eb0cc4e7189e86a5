"""The training curve: loss per step on a log axis, learning rate on a twin axis."""
from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.ticker import FormatStrFormatter

from neurobias.plotting._common import FULL_WIDTH, new_figure, require

__all__ = ["plot_loss"]

_LOSS_COLOUR = "C0"
_LR_COLOUR = "0.55"


def plot_loss(results: xr.Dataset, *, ax: Axes | None = None) -> Axes:
    """Plot the training loss against the optimiser step, with the learning rate.

    The loss is drawn on a logarithmic y-axis; the learning rate ``lr`` is
    drawn thin and grey on a twin y-axis at the right.  The title gives the
    training mode (attribute ``training_mode``) and the final loss.

    Parameters
    ----------
    results : xarray.Dataset
        A ``results`` Dataset with ``loss`` of shape (step,) and ``lr`` of
        shape (step,).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new 6 x 3.2 inch Figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes holding the loss curve (the learning-rate twin axis is
        ``ax.figure.axes[-1]`` on a new figure).
    """
    require(results, {"loss": ("step",), "lr": ("step",)}, "plot_loss")
    if ax is None:
        ax = new_figure(FULL_WIDTH * 0.8, 3.2).add_subplot()

    loss = np.asarray(results["loss"].values, dtype=float)
    lr = np.asarray(results["lr"].values, dtype=float)
    step = (
        np.asarray(results["step"].values)
        if "step" in results.coords
        else np.arange(loss.size)
    )

    ax_lr = ax.twinx()
    ax_lr.plot(step, lr, color=_LR_COLOUR, linewidth=0.8, label="learning rate")
    ax_lr.set_ylabel("learning rate", color=_LR_COLOUR)
    ax_lr.tick_params(axis="y", colors=_LR_COLOUR, labelsize="small")
    ax_lr.yaxis.set_major_formatter(FormatStrFormatter("%.2g"))
    ax_lr.spines["right"].set_color(_LR_COLOUR)
    if lr.size and np.all(np.isfinite(lr)) and lr.min() >= 0:
        ax_lr.set_ylim(bottom=0, top=max(float(lr.max()) * 1.08, np.finfo(float).tiny))

    # keep the loss above its twin: draw the loss axes last, with a clear background
    ax.set_zorder(ax_lr.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.plot(step, loss, color=_LOSS_COLOUR, linewidth=1.4, label="loss")
    if np.any(loss > 0):
        ax.set_yscale("log")
    ax.set_xlabel("optimiser step")
    ax.set_ylabel("loss", color=_LOSS_COLOUR)
    ax.tick_params(axis="y", which="both", colors=_LOSS_COLOUR)
    ax.grid(True, which="major", alpha=0.3)
    if step.size > 1:
        ax.set_xlim(step[0], step[-1])

    mode = str(results.attrs.get("training_mode", "?"))
    final = f"final loss {loss[-1]:.3g}" if loss.size else "no steps"
    task = results.attrs.get("task")
    prefix = f"{task}: " if task else ""
    ax.set_title(f"{prefix}training ({mode} mode), {final}", fontsize="medium")
    return ax
