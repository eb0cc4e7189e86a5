"""The application layer: the only code that touches directories.

:class:`RunDir` and :class:`FitDir` (in :mod:`neurobias.workflows.rundir`) know
the files of a run directory and of a fit directory, their staleness checks,
provenance and atomic commits; the commands are composed over them::

    run(config, out=...)                   train and write a run directory      (workflows.run)
    simulate_to_file(circuit, results, out=...)  a trajectories file             (workflows.simulate)
    analyse_fixed_points(run_dir)          fixed_points.nc                      (workflows.analyses)
    analyse_periodic_orbits(run_dir)       periodic_orbits.nc
    analyse_continuation(run_dir, start=, end=)  continuation.nc (and orbit_continuation.nc)
    analyse_contexts(run_dir)              comparison.nc
    write_report(run_dir)                  report.html
    fit_recording_file(recording, config=, out=)  a recording file in, a fit directory out (workflows.recording_fit)
    compare_fit_dir(fit_dir)               its comparison.nc and report.html
    file_info(path)                        what a file or directory holds       (workflows.info)

Prose (HTML reports and summaries) is rendered in :mod:`neurobias.workflows.report`.
Sweeps and the reproduction live in the application-layer packages
:mod:`neurobias.sweep` and :mod:`neurobias.reproduce`.
"""
from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, tuple[str, str]] = {
    "RunDir": ("neurobias.workflows.rundir", "RunDir"),
    "FitDir": ("neurobias.workflows.rundir", "FitDir"),
    "Output": ("neurobias.workflows.output", "Output"),
    "run": ("neurobias.workflows.run", "run"),
    "RunOutput": ("neurobias.workflows.run", "RunOutput"),
    "simulate_to_file": ("neurobias.workflows.simulate", "simulate_to_file"),
    "analyse_fixed_points": ("neurobias.workflows.analyses", "analyse_fixed_points"),
    "analyse_periodic_orbits": ("neurobias.workflows.analyses", "analyse_periodic_orbits"),
    "analyse_continuation": ("neurobias.workflows.analyses", "analyse_continuation"),
    "analyse_contexts": ("neurobias.workflows.analyses", "analyse_contexts"),
    "write_report": ("neurobias.workflows.analyses", "write_report"),
    "fit_recording_file": ("neurobias.workflows.recording_fit", "fit_recording_file"),
    "compare_fit_dir": ("neurobias.workflows.recording_fit", "compare_fit_dir"),
    "file_info": ("neurobias.workflows.info", "file_info"),
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'neurobias.workflows' has no attribute {name!r}")
    value = getattr(importlib.import_module(target[0]), target[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
