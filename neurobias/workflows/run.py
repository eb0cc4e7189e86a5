"""``run``: one config in, a trained circuit and its results in a run directory out (what ``neurobias run`` does)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from neurobias.circuit.circuit import Circuit
from neurobias.config import RunConfig, config_to_toml
from neurobias.errors import InputError, NeurobiasError
from neurobias.tasks import Task, make_task
from neurobias.training.evaluate import evaluate
from neurobias.training.train import TrainResult, train
from neurobias.workflows.rundir import RunDir, first_missing, remove_created

__all__ = ["RunOutput", "run", "build_circuit", "build_task", "results_dataset"]


@dataclass(frozen=True)
class RunOutput:
    """What :func:`run` returns.

    Attributes
    ----------
    circuit : Circuit
        The trained circuit (the initial one in ``bias`` mode).
    results : xarray.Dataset
        The ``results`` Dataset (as written to ``results.nc``).
    train_result : TrainResult
    out : Path or None
        Output directory (None when nothing was written).
    files : dict of str to Path
        Written files by name (``circuit``, ``results``, ``figure_<name>``).
    kept : list of str
        With ``overwrite``: the entries of ``out`` that are not a run's files,
        left in place (paths relative to ``out``); empty otherwise.
    """

    circuit: Circuit
    results: xr.Dataset
    train_result: TrainResult
    out: Path | None = None
    files: dict[str, Path] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)


def build_task(config: RunConfig) -> Task:
    """The task of ``config`` with the simulation step ``config.simulation.dt``."""
    return make_task(config.task.name, dt=config.simulation.dt, **dict(config.task.params))


def build_circuit(config: RunConfig, task: Task) -> Circuit:
    """The random circuit of ``config``, with the task's input and output channels."""
    c = config.circuit
    return Circuit.random(
        c.n_units, n_inputs=task.n_inputs, n_outputs=task.n_outputs, connectivity=c.connectivity, g=c.g, p=c.p,
        exc_fraction=c.exc_fraction, gamma=c.gamma, input_init=c.input_init, input_scale=c.input_scale,
        readout_init=c.readout_init, readout_scale=c.readout_scale, tau=c.tau, phi=c.phi, form=c.form,
        input_names=task.input_names, output_names=task.output_names, seed=config.seed,
    )


def results_dataset(evaluation: xr.Dataset, result: TrainResult, *, config: RunConfig, task: Task,
                    initial: Circuit) -> xr.Dataset:
    """Assemble the ``results`` Dataset from an evaluation and a training result.

    Parameters
    ----------
    evaluation : xarray.Dataset
        :func:`neurobias.evaluate` of the trained circuit and tonic inputs.
    result : TrainResult
        What :func:`neurobias.train` returned.
    config : RunConfig
    task : Task
    initial : Circuit
        The circuit training started from: its weight fingerprints are the
        ``weights_sha256_before_<name>`` attributes, those of ``result.circuit``
        (the circuit written to ``circuit.nc``) the ``weights_sha256_after_<name>``
        ones, each :func:`neurobias.io.hashing.sha256_array` of the float64
        weight as ``circuit.nc`` stores it.

    Returns
    -------
    xarray.Dataset
        Of kind ``results`` (docs/schema.md).
    """
    ds = evaluation.copy()
    n_steps = len(result.loss)
    ds = ds.assign_coords(step=("step", np.arange(n_steps), {"long_name": "optimiser step"}))
    ds["loss"] = (("step",), result.loss, {"long_name": "masked mean squared error of the training batch"})
    ds["lr"] = (("step",), result.lr, {"long_name": "learning rate", "units": "1"})
    ds["tonic"] = ds["tonic"].assign_attrs(long_name="learned tonic input", units="state units")
    ds["tonic_mask"] = (("unit",), result.tonic_mask, {"long_name": "1 where the unit receives tonic input"})
    ds["tonic_basis"] = (("unit", "rank"), result.tonic_basis, {"long_name": "fixed basis B of a lowrank bank"})
    ds = ds.assign_coords(rank=("rank", np.arange(ds.sizes["rank"]), {"long_name": "basis vector of the tonic bank"}))
    ds["kept_restart"] = (("context",), result.kept_restart,
                          {"long_name": "restart whose tonic input the context kept (training.restarts)"})
    ds["restart_loss"] = (("restart", "context"), result.restart_loss,
                          {"long_name": "masked mean squared error of each restart at the kept step's batch",
                           "units": "1"})
    ds = ds.assign_coords(restart=("restart", np.arange(ds.sizes["restart"]),
                                   {"long_name": "tonic banks trained side by side from independent draws"}))
    eval_seed = ds.attrs.pop("seed")
    attrs: dict[str, Any] = dict(ds.attrs)
    attrs.update(
        config=config_to_toml(config),
        seed=int(config.seed),
        eval_noise_seed=int(eval_seed),
        training_mode=result.mode,
        task=task.name,
        task_citation=task.citation,
        steps_done=int(result.steps_done),
        tonic_parametrization=config.tonic.parametrization,
        frozen_weights=",".join(result.hashes_before),
        train_wall_time_s=float(result.wall_time_s),
    )
    from neurobias.io.circuit import weight_hashes

    # one fingerprint per weight: of the float64 values circuit.nc stores (the training copy's own check,
    # in the training dtype, stays inside train())
    after = weight_hashes(result.circuit)
    for name, digest in weight_hashes(initial).items():
        attrs[f"weights_sha256_before_{name}"] = digest
        attrs[f"weights_sha256_after_{name}"] = after[name]
    ds.attrs = attrs
    return ds


def run(
    config: RunConfig,
    *,
    out: str | os.PathLike | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    device: str = "cpu",
) -> RunOutput:
    """Build the circuit and task of ``config``, train, evaluate and (with ``out``) write files.

    Writes the run directory ``out`` (:class:`~neurobias.workflows.rundir.RunDir`):
    ``circuit.nc``, ``results.nc`` (see docs/schema.md), ``figures/*.png``
    (when ``config.output.figures``) and keeps the training checkpoint
    ``checkpoint.npz`` for ``resume``.  The output
    directory is checked for writability before any work starts.

    A directory that already holds a run (any file of
    :data:`~neurobias.workflows.rundir.RUN_PRODUCTS`, or figures) is refused,
    and nothing in it changes, unless ``resume`` continues that run or
    ``overwrite`` replaces it: then every file of the old run goes, its
    analyses (``fixed_points.nc``, ``continuation.nc``, ``comparison.nc``)
    and ``report.html`` included, so that nothing left describes the old run;
    files that are not a run's are left in place (``RunOutput.kept`` names them).

    Parameters
    ----------
    config : RunConfig
        Resolved config (see :func:`neurobias.config.load_config`).
    out : path, optional
        Output directory; nothing is written when None.
    resume : bool
        Continue the run in ``out`` from its ``checkpoint.npz`` (same final
        result as an uninterrupted run); starts afresh in a directory that
        holds no run yet.  Refused when ``out`` holds a run but no checkpoint
        (nothing to continue from).
    overwrite : bool
        Replace the run in ``out``: remove every file of it and of its
        analyses first.  Excludes ``resume``.
    progress : bool
        Show a training progress bar.
    device : {"cpu", "cuda", "cuda:N"}
        Where training (in ``training.dtype``) and the float64 evaluation run;
        recorded in the ``device`` attribute of ``results.nc``.

    Returns
    -------
    RunOutput
    """
    if not isinstance(config, RunConfig):
        raise InputError(f"`config` must be a neurobias RunConfig; got {type(config).__name__}")
    from neurobias.io import check_writable_dir

    if resume and overwrite:
        raise InputError("`resume` and `overwrite` exclude each other: resume continues the run in `out`, "
                         "overwrite replaces it; got both True")
    if resume and out is None:
        raise InputError("`resume=True` needs an output directory `out`")
    if overwrite and out is None:
        raise InputError("`overwrite=True` needs an output directory `out`")
    from neurobias.circuit.simulate import resolve_device

    dev = str(resolve_device(device))
    task = build_task(config)
    circuit = build_circuit(config, task)
    existing = _check_existing(RunDir(out), resume=resume, overwrite=overwrite) if out is not None else []
    created = first_missing(out) if out is not None else None
    out_dir = check_writable_dir(out) if out is not None else None
    kept: list[str] = []
    if out_dir is not None and overwrite and existing:
        old = RunDir(out_dir)
        old.clear()
        kept = old.others()
    try:
        output = _run(config, task, circuit, out_dir, resume=resume, progress=progress, device=dev)
        return replace(output, kept=kept)
    except NeurobiasError:
        # a user error (e.g. divergence): leave nothing behind that this call created,
        # including new parent directories of `out`
        remove_created(created)
        raise


def _check_existing(run_dir: RunDir, *, resume: bool, overwrite: bool) -> list[Path]:
    """The run files already in ``run_dir``; refuses them unless ``resume`` or ``overwrite`` says what to do."""
    existing = run_dir.present()
    if not existing or overwrite:
        return existing
    listed = [str(p.relative_to(run_dir.path)) for p in existing]
    # a handful named, the rest counted: an analysed run holds a score of files and the error is one line
    names = ", ".join(listed) if len(listed) <= 4 else f"{', '.join(listed[:3])} and {len(listed) - 3} more files"
    if not resume:
        raise InputError(
            f"{run_dir.path} already holds a run ({names}); continue it with --resume (resume=True) or replace it "
            "and its analyses with --overwrite (overwrite=True); nothing was changed")
    if not run_dir.has("checkpoint"):
        raise InputError(
            f"cannot resume the run in {run_dir.path}: it has no {run_dir.products['checkpoint'].filename} to "
            f"continue from (it holds {names}); replace it with --overwrite (overwrite=True)")
    return existing


def _run(config: RunConfig, task: Task, circuit: Circuit, out_dir: Path | None, *, resume: bool,
         progress: bool, device: str = "cpu") -> RunOutput:
    from neurobias.io import circuit_to_dataset

    run_dir = None if out_dir is None else RunDir(out_dir)
    toml = config_to_toml(config)
    tr, sim, tonic = config.training, config.simulation, config.tonic
    result = train(
        circuit, task, mode=tr.mode, steps=tr.steps, lr=tr.lr, batch_size=tr.batch_size, clip_grad=tr.clip_grad,
        schedule=tr.schedule, lr_min=tr.lr_min, target_loss=tr.target_loss, checkpoint_every=tr.checkpoint_every,
        log_every=tr.log_every, dtype=tr.dtype, parametrization=tonic.parametrization, fraction=tonic.fraction,
        rank=tonic.rank, shared_baseline=tonic.shared_baseline, init_std=tonic.init_std, noise_std=sim.noise_std,
        method=sim.method, x0_std=sim.x0_std, seed=config.seed,
        checkpoint_path=None if run_dir is None else run_dir.file("checkpoint"), resume=resume, fingerprint=toml,
        progress=progress, device=device, checkpoint_chunk=tr.checkpoint_chunk, restarts=tr.restarts,
    )
    evaluation = evaluate(result.circuit, result.tonic, task, n_trials=config.output.n_trials, method=sim.method,
                          noise_std=sim.noise_std, x0_std=sim.x0_std, seed=config.seed, device=device)
    results = results_dataset(evaluation, result, config=config, task=task, initial=circuit)
    results.attrs["device"] = device
    from neurobias.io.circuit import provenance_attrs  # config, run_seed, circuit_sha256_* (as in circuit.nc)

    results.attrs.update(provenance_attrs(result.circuit, config_toml=toml, seed=config.seed, tonic=result.tonic))
    files: dict[str, Path] = {}
    if run_dir is not None:
        files["circuit"] = run_dir.write("circuit", circuit_to_dataset(result.circuit, config_toml=toml))
        files["results"] = run_dir.write("results", results)
        if config.output.figures:
            from neurobias.plotting import figure_set

            files.update(run_dir.write_figures(figure_set(results)))
    return RunOutput(circuit=result.circuit, results=results, train_result=result, out=out_dir, files=files)

