"""All the standard figures of one ``results`` Dataset at once."""
from __future__ import annotations

import xarray as xr
from matplotlib.figure import Figure

from neurobias.plotting._common import root_figure
from neurobias.plotting.outputs import plot_outputs
from neurobias.plotting.tonic import plot_tonic
from neurobias.plotting.training import plot_loss
from neurobias.plotting.trajectories import plot_rates

__all__ = ["figure_set"]


def figure_set(results: xr.Dataset) -> dict[str, Figure]:
    """Make the four standard figures of a ``results`` Dataset.

    Parameters
    ----------
    results : xarray.Dataset
        A ``results`` Dataset.

    Returns
    -------
    dict of str to matplotlib.figure.Figure
        ``{"loss": ..., "outputs": ..., "tonic": ..., "rates": ...}``, each a
        new Figure (trial 0 where a trial is chosen).  Nothing is saved: the
        caller writes them (e.g. ``fig.savefig(path, dpi=150)``).
    """
    return {
        "loss": root_figure(plot_loss(results)),
        "outputs": plot_outputs(results),
        "tonic": root_figure(plot_tonic(results)),
        "rates": plot_rates(results),
    }
