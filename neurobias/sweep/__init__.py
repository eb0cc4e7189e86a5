"""Sweeps: grids of runs on Dask, from a laptop to a cluster.

* :func:`run_sweep` runs every cell of a grid of configs as one :func:`neurobias.run`
  (:mod:`neurobias.sweep.execute`), on a Dask LocalCluster, an existing
  scheduler (``tcp://``), SLURM (dask-jobqueue) or in process (``sync``)
  (:mod:`neurobias.sweep.cluster`);
* each cell is a directory committed atomically, so a stopped sweep restarts
  where it was (:mod:`neurobias.sweep.store`);
* :func:`open_sweep` reads a sweep directory into one Dataset with the grid's
  keys as dimensions (:mod:`neurobias.sweep.collect`);
* :func:`report_sweep` plots a metric over the grid (:mod:`neurobias.sweep.report`);
* :func:`parse_grid_option` and :func:`load_sweep_config` read ``--grid`` and
  the ``[sweep]`` table of a config file (:mod:`neurobias.sweep.grid`).
"""
from neurobias.sweep.collect import METRICS, metric_over_grid, open_sweep
from neurobias.sweep.execute import SweepOutput, run_cell, run_sweep
from neurobias.sweep.grid import SweepSettings, expand_grid, load_sweep_config, merge_grids, parse_grid_option
from neurobias.sweep.report import report_sweep
from neurobias.sweep.store import CellRecord

__all__ = [
    "run_sweep",
    "open_sweep",
    "SweepOutput",
    "CellRecord",
    "SweepSettings",
    "parse_grid_option",
    "merge_grids",
    "load_sweep_config",
    "expand_grid",
    "metric_over_grid",
    "report_sweep",
    "run_cell",
    "METRICS",
]
