"""``report_sweep``: a metric over the grid of a sweep directory, as a table and a figure (``neurobias sweep-report``)."""
from __future__ import annotations

import os
from pathlib import Path

import xarray as xr

from neurobias.sweep.collect import metric_over_grid, open_sweep
from neurobias.workflows.rundir import FIGURES, save_figure

__all__ = ["report_sweep"]


def report_sweep(sweep_dir: str | os.PathLike, *, metric: str, x: str | None = None, hue: str | None = None,
                 context: str | None = None, out: str | os.PathLike | None = None
                 ) -> tuple[xr.Dataset, xr.DataArray, Path]:
    """Plot ``metric`` over the grid of the sweep in ``sweep_dir`` and write the figure.

    Parameters
    ----------
    sweep_dir : path
        A directory written by :func:`neurobias.sweep.sweep`.
    metric, x, hue, context
        See :func:`neurobias.sweep.metric_over_grid`.
    out : path, optional
        Figure file (default ``SWEEP_DIR/figures/sweep_<metric>.png``).

    Returns
    -------
    tuple
        The sweep Dataset (:func:`~neurobias.sweep.open_sweep`), the metric
        over the grid, and the path of the figure written.
    """
    from neurobias.plotting.sweep import plot_sweep_metric

    ds = open_sweep(sweep_dir)
    values = metric_over_grid(ds, metric, x=x, hue=hue, context=context)
    target = Path(out) if out else Path(sweep_dir) / FIGURES / f"sweep_{metric}.png"
    path = save_figure(plot_sweep_metric(values), target)
    return ds, values, path
