"""``simulate``: a trained circuit and its tonic inputs from files, a trajectories file out."""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from neurobias.errors import InputError, NeurobiasError
from neurobias.workflows.output import Output
from neurobias.workflows.rundir import first_missing, remove_created

__all__ = ["simulate_to_file"]


def simulate_to_file(
    circuit: str | os.PathLike,
    results: str | os.PathLike,
    *,
    out: str | os.PathLike,
    contexts: list[str] | None = None,
    duration: float | None = None,
    n_trials: int = 1,
    dt: float | None = None,
    method: str | None = None,
    noise_std: float = 0.0,
    seed: int = 0,
    device: str = "cpu",
) -> Output:
    """Simulate the circuit file ``circuit`` with the tonic inputs of ``results``; write a trajectories file.

    Parameters
    ----------
    circuit : path
        ``circuit.nc`` of a run.
    results : path
        ``results.nc`` with the tonic inputs (and the run's config).
    out : path
        Output netCDF file (kind ``trajectories``).
    contexts : list of str, optional
        Contexts to simulate (default: all).
    duration : float, optional
        Simulate this long (ms) with zero input instead of fresh trials of the run's task.
    n_trials : int
        Trials per context.
    dt : float, optional
        Time step in ms (default: the run's).
    method : {"euler", "exp_euler"}, optional
        Integrator (default: the run's).
    noise_std : float
        Process noise per sqrt(ms).
    seed : int
        Seed of the trials and the noise.
    device : str
        ``cpu``, ``cuda`` or ``cuda:N``.

    Returns
    -------
    Output
        The trajectories Dataset, ``{"trajectories": path}`` and a one-line summary.
    """
    from neurobias.config import config_from_toml
    from neurobias.io import check_writable_dir, open_circuit, open_results

    if n_trials < 1:
        raise InputError(f"--trials must be >= 1; got {n_trials}")
    circ = open_circuit(circuit)
    res = open_results(results)
    if res.sizes["unit"] != circ.n_units:
        raise InputError(f"{results} has {res.sizes['unit']} units but {circuit} has {circ.n_units}")
    names = [str(c) for c in res["context"].values]
    contexts = list(contexts) if contexts else names
    unknown = [c for c in contexts if c not in names]
    if unknown:
        raise InputError(f"--context {unknown[0]!r} is not a context of {results}; choose from {', '.join(names)}")
    config = config_from_toml(str(res.attrs["config"]), source=f"{results} (config attribute)")
    dt = dt if dt is not None else config.simulation.dt
    method = method or config.simulation.method
    out_parent = Path(out).resolve().parent
    created = first_missing(out_parent)
    check_writable_dir(out_parent)
    try:
        ds = _simulate(circ, res, config, contexts, dt=dt, method=method, duration=duration, n_trials=n_trials,
                       noise_std=noise_std, seed=seed, device=device)
        ds.attrs["source_results"] = str(Path(results).resolve())
        from neurobias.io import write_dataset

        path = write_dataset(ds, out, kind="trajectories")
    except NeurobiasError:
        # e.g. a bad duration or dt: leave no directory behind that this call created
        remove_created(created)
        raise
    summary = (f"trajectories: {path} ({len(contexts)} context(s), {ds.sizes['trial']} trial(s), "
               f"{ds.sizes['time']} steps of {dt} ms)")
    return Output(ds, {"trajectories": path}, summary)


def _simulate(circuit: Any, results: xr.Dataset, config: Any, contexts: list[str], *, dt: float, method: str,
              duration: float | None, n_trials: int, noise_std: float, seed: int, device: str) -> xr.Dataset:
    from neurobias.circuit import simulate
    from neurobias.io.circuit import provenance_attrs
    from neurobias.training import seeds
    from neurobias.training.train import initial_states
    from neurobias.workflows.run import build_task

    if duration is not None:
        ds = simulate(circuit, results["tonic"], duration=duration, dt=dt, method=method, noise_std=noise_std,
                      seed=seed, contexts=contexts, n_trials=n_trials, device=device)
    else:
        task = build_task(replace(config, simulation=replace(config.simulation, dt=dt)))
        rng = seeds.stream(seed, seeds.EVAL)
        batch = task.sample_all(n_trials, rng)
        idx = [task.contexts.index(c) for c in contexts]
        x0 = initial_states(task, circuit.n_units, n_trials, config.simulation.x0_std, rng)
        ds = simulate(circuit, results["tonic"], inputs=batch.inputs[idx], x0=x0[idx], dt=dt, method=method,
                      noise_std=noise_std, seed=seed, contexts=contexts, device=device)
        ds["target"] = (("context", "trial", "time", "output"), np.ascontiguousarray(batch.targets[idx]),
                        {"long_name": "task target of the readout z"})
        ds["mask"] = (("context", "trial", "time", "output"), np.ascontiguousarray(batch.mask[idx]),
                      {"long_name": "loss weight of each target value (0 or 1)", "units": "1"})
    ds.attrs["config"] = str(results.attrs["config"])
    # run_seed and the circuit's and tonic inputs' fingerprints
    ds.attrs.update(provenance_attrs(circuit, config_toml=str(results.attrs["config"]),
                                     seed=int(results.attrs["seed"]), tonic=results["tonic"].values))
    return ds
