"""neurobias: fixed random recurrent circuits driven by learned tonic inputs.

The public API (imported lazily, so ``import neurobias`` is cheap)::

    Circuit                       fixed weights (Circuit.random, Circuit.from_arrays)
    simulate(circuit, tonic, ...) trajectories as an xarray Dataset
    make_task(name, dt=..., ...)  a registered task; available_tasks() lists them
    train(circuit, task, ...)     learn tonic inputs (and, by mode, weights)
    evaluate(circuit, tonic, task, ...)
    run(config, out=...)          what ``neurobias run`` does
    find_fixed_points(circuit, tonic, ...)      fixed and slow points per context
    continue_fixed_points(circuit, start=, end=, ...)  follow them between contexts
    fixed_points_of_run, continuation_of_run, comparison_of_run, report_of_run: the CLI's analysis commands
    load_config, default_config, apply_overrides, config_to_toml
    open_circuit, save_circuit, open_results, read_dataset, write_dataset
    load_recording, fit_recordings, TonicFit       recordings in, tonic inputs fitted per condition
    ContextFit                                    one tonic input per context, stimuli through input weights
    sweep, open_sweep                             grids of runs on Dask
"""
from __future__ import annotations

import importlib
from typing import Any

from neurobias._version import __version__
from neurobias.errors import ConfigError, InputError, NeurobiasError, SchemaError

_LAZY: dict[str, tuple[str, str]] = {
    "Circuit": ("neurobias.circuit", "Circuit"),
    "simulate": ("neurobias.circuit", "simulate"),
    "make_task": ("neurobias.tasks", "make_task"),
    "get_task": ("neurobias.tasks", "get_task"),
    "available_tasks": ("neurobias.tasks", "available"),
    "train": ("neurobias.training", "train"),
    "TrainResult": ("neurobias.training", "TrainResult"),
    "evaluate": ("neurobias.training.evaluate", "evaluate"),
    "run": ("neurobias.runner", "run"),
    "RunOutput": ("neurobias.runner", "RunOutput"),
    "RunConfig": ("neurobias.config", "RunConfig"),
    "load_config": ("neurobias.config", "load_config"),
    "default_config": ("neurobias.config", "default_config"),
    "apply_overrides": ("neurobias.config", "apply_overrides"),
    "config_to_toml": ("neurobias.config", "config_to_toml"),
    "find_fixed_points": ("neurobias.analysis.fixed_points", "find_fixed_points"),
    "continue_fixed_points": ("neurobias.analysis.continuation", "continue_fixed_points"),
    "fixed_points_of_run": ("neurobias.analysis_runs", "fixed_points_of_run"),
    "continuation_of_run": ("neurobias.analysis_runs", "continuation_of_run"),
    "report_of_run": ("neurobias.analysis_runs", "report_of_run"),
    "comparison_of_run": ("neurobias.analysis_runs", "comparison_of_run"),
    "open_circuit": ("neurobias.io", "open_circuit"),
    "save_circuit": ("neurobias.io", "save_circuit"),
    "open_results": ("neurobias.io", "open_results"),
    "read_dataset": ("neurobias.io", "read_dataset"),
    "write_dataset": ("neurobias.io", "write_dataset"),
    # recordings (neurobias.recordings, neurobias.fitting)
    "load_recording": ("neurobias.recordings", "load_recording"),
    "fit_recordings": ("neurobias.fitting", "fit_recordings"),
    "TonicFit": ("neurobias.fitting", "TonicFit"),
    "ContextFit": ("neurobias.fitting", "ContextFit"),
    # sweeps (neurobias.sweep)
    "sweep": ("neurobias.sweep", "sweep"),
    "open_sweep": ("neurobias.sweep", "open_sweep"),
}

__all__ = ["__version__", "NeurobiasError", "ConfigError", "InputError", "SchemaError", *_LAZY]


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'neurobias' has no attribute {name!r}")
    value = getattr(importlib.import_module(target[0]), target[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
