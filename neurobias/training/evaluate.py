"""Evaluate a trained circuit on its task: simulate, compare with targets, per-context NMSE."""
from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from neurobias.circuit.circuit import Circuit
from neurobias.circuit.simulate import simulate
from neurobias.tasks import Task
from neurobias.training import seeds
from neurobias.training.losses import nmse
from neurobias.training.train import initial_states

__all__ = ["evaluate"]


def evaluate(
    circuit: Circuit,
    tonic: Any,
    task: Task,
    *,
    n_trials: int = 4,
    method: str = "euler",
    noise_std: float = 0.0,
    x0_std: float = 0.0,
    seed: int = 0,
    device: str = "cpu",
) -> xr.Dataset:
    """Simulate every context of ``task`` in float64 and score it.

    Trials come from the evaluation stream of ``seed`` (independent of the
    training batches).

    Parameters
    ----------
    circuit : Circuit
    tonic : array_like of shape (context, unit)
        One tonic input per context of ``task``, in the task's context order.
    task : Task
    n_trials : int
        Trials per context.
    method, noise_std, x0_std, seed
        As in :func:`neurobias.train`.
    device : {"cpu", "cuda", "cuda:N"}
        Where the simulation runs (always float64).

    Returns
    -------
    xarray.Dataset
        The :func:`neurobias.simulate` variables plus ``target`` and ``mask``
        (context, trial, time, output), ``nmse (context,)``, per-trial
        conditions ``trial_<name> (context, trial)`` and the task's conditions
        table as ``condition_<name> (context,)``.
    """
    rng = seeds.stream(seed, seeds.EVAL)
    batch = task.sample_all(n_trials, rng)
    x0 = initial_states(task, circuit.n_units, n_trials, x0_std, rng)
    noise_seed = int(rng.integers(2**62))
    ds = simulate(circuit, tonic, inputs=batch.inputs, x0=x0, dt=task.dt, method=method, noise_std=noise_std,
                  seed=noise_seed, contexts=task.contexts, device=device)
    dims = ("context", "trial", "time", "output")
    ds["target"] = (dims, batch.targets, {"long_name": "task target of the readout z"})
    ds["mask"] = (dims, batch.mask, {"long_name": "loss weight of each target value (0 or 1)", "units": "1"})
    ds["nmse"] = (("context",), nmse(ds["z"].values, batch.targets, batch.mask),
                  {"long_name": "normalised mean squared error of z against target over the mask"})
    for name, values in batch.conditions.items():
        ds[f"trial_{name}"] = (("context", "trial"), np.asarray(values),
                               _condition_attrs(name, f"task condition {name} of each trial"))
    for name, values in task.conditions_table().items():
        ds[f"condition_{name}"] = (("context",), np.asarray(values),
                                   _condition_attrs(name, f"task condition {name} of each context"))
    return ds


#: units of a task condition, read from the suffix of its name (``frequency_hz``, ``go_ms``, ``angle_deg``)
_CONDITION_UNITS = {"_hz": "Hz", "_ms": "ms", "_deg": "degrees"}


def _condition_attrs(name: str, long_name: str) -> dict[str, str]:
    """``long_name`` and, when the condition's name ends with a unit suffix (``_hz``, ``_ms``, ``_deg``), ``units``.

    Parameters
    ----------
    name : str
        The condition's name in the task (e.g. ``frequency_hz``).
    long_name : str
        Its description.

    Returns
    -------
    dict of str to str
        Attributes of the variable holding the condition.
    """
    attrs = {"long_name": long_name}
    for suffix, units in _CONDITION_UNITS.items():
        if name.endswith(suffix):
            attrs["units"] = units
    return attrs
