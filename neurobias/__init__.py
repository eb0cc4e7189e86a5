"""neurobias: fixed random recurrent circuits driven by learned tonic inputs.

The public API (imported lazily, so ``import neurobias`` is cheap)::

    Circuit                       fixed weights (Circuit.random, Circuit.from_arrays)
    simulate(circuit, tonic, ...) trajectories as an xarray Dataset
    make_task(name, dt=..., ...)  a registered task; available_tasks() lists them
    train(circuit, task, ...)     learn tonic inputs (and, by mode, weights)
    evaluate(circuit, tonic, task, ...)
    find_fixed_points(circuit, tonic, ...)      fixed and slow points per context
    continue_fixed_points(circuit, start=, end=, ...)  follow them between contexts
    compare_contexts(circuit, results, fixed_points)   everything that tells the contexts apart
    find_periodic_orbits(circuit, tonic, ...)   limit cycles per context, with Floquet multipliers
    continue_periodic_orbits(circuit, orbits, start=, end=, ...)  follow cycles between contexts
    load_config, default_config, apply_overrides, config_to_toml
    open_circuit, save_circuit, open_results, read_dataset, write_dataset
    load_recording, fit_recordings, TonicFit       recordings in, tonic inputs fitted per condition
    ContextFit                                    one tonic input per context, stimuli through input weights

  Commands over directories (neurobias.workflows; what the CLI runs):
    run(config, out=...)          train and write a run directory (``neurobias run``)
    RunDir(path)                  the files of a run directory
    analyse_fixed_points, analyse_periodic_orbits, analyse_continuation, analyse_contexts, write_report:
        analyses of a run directory
    fit_recording_file, compare_fit_dir          a fit directory from a recording file, and its comparison
    run_sweep, open_sweep                         grids of runs on Dask
"""
from __future__ import annotations

import importlib
from typing import Any

from neurobias._version import __version__
from neurobias.errors import ConfigError, ConvergenceWarning, InputError, NeurobiasError, SchemaError

_LAZY: dict[str, tuple[str, str]] = {
    "Circuit": ("neurobias.circuit", "Circuit"),
    "simulate": ("neurobias.circuit", "simulate"),
    "make_task": ("neurobias.tasks", "make_task"),
    "get_task": ("neurobias.tasks", "get_task"),
    "available_tasks": ("neurobias.tasks", "available"),
    "train": ("neurobias.training", "train"),
    "TrainResult": ("neurobias.training", "TrainResult"),
    "evaluate": ("neurobias.training.evaluate", "evaluate"),
    "run": ("neurobias.workflows.run", "run"),
    "RunOutput": ("neurobias.workflows.run", "RunOutput"),
    "RunDir": ("neurobias.workflows.rundir", "RunDir"),
    "RunConfig": ("neurobias.config", "RunConfig"),
    "load_config": ("neurobias.config", "load_config"),
    "default_config": ("neurobias.config", "default_config"),
    "apply_overrides": ("neurobias.config", "apply_overrides"),
    "config_to_toml": ("neurobias.config", "config_to_toml"),
    "find_fixed_points": ("neurobias.analysis.fixed_points", "find_fixed_points"),
    "continue_fixed_points": ("neurobias.analysis.continuation", "continue_fixed_points"),
    "compare_contexts": ("neurobias.analysis.context_comparison", "compare_contexts"),
    "analyse_fixed_points": ("neurobias.workflows.analyses", "analyse_fixed_points"),
    "analyse_periodic_orbits": ("neurobias.workflows.analyses", "analyse_periodic_orbits"),
    "analyse_continuation": ("neurobias.workflows.analyses", "analyse_continuation"),
    "analyse_contexts": ("neurobias.workflows.analyses", "analyse_contexts"),
    "write_report": ("neurobias.workflows.analyses", "write_report"),
    "find_periodic_orbits": ("neurobias.analysis.periodic_orbits", "find_periodic_orbits"),
    "continue_periodic_orbits": ("neurobias.analysis.periodic_orbits", "continue_periodic_orbits"),
    "open_circuit": ("neurobias.io", "open_circuit"),
    "save_circuit": ("neurobias.io", "save_circuit"),
    "open_results": ("neurobias.io", "open_results"),
    "read_dataset": ("neurobias.io", "read_dataset"),
    "write_dataset": ("neurobias.io", "write_dataset"),
    # recordings (neurobias.recordings, neurobias.fitting)
    "load_recording": ("neurobias.recordings", "load_recording"),
    "fit_recordings": ("neurobias.fitting", "fit_recordings"),
    "TonicFit": ("neurobias.fitting", "TonicFit"),
    "fit_recording_file": ("neurobias.workflows.recording_fit", "fit_recording_file"),
    "compare_fit_dir": ("neurobias.workflows.recording_fit", "compare_fit_dir"),
    "ContextFit": ("neurobias.fitting", "ContextFit"),
    # sweeps (neurobias.sweep)
    "run_sweep": ("neurobias.sweep", "run_sweep"),
    "open_sweep": ("neurobias.sweep", "open_sweep"),
}

__all__ = ["__version__", "NeurobiasError", "ConfigError", "InputError", "SchemaError", "ConvergenceWarning",
           *_LAZY]


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'neurobias' has no attribute {name!r}")
    value = getattr(importlib.import_module(target[0]), target[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
