""":func:`fit_recordings`: fit a recording and return everything as one ``fit`` Dataset."""
from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from neurobias.circuit.circuit import Circuit
from neurobias.fitting.estimator import TonicFit

__all__ = ["fit_recordings", "fit_to_dataset", "context_fit_to_dataset"]


def fit_to_dataset(fit: TonicFit, *, config: str = "") -> xr.Dataset:
    """The learned state of a fitted :class:`TonicFit` as a Dataset of kind ``fit``.

    Returns
    -------
    xarray.Dataset
        ``tonic``, ``x0 (condition, unit)``; ``units (neuron)``; ``W_out (neuron,
        unit)``, ``b_out (neuron)``; ``train``, ``test``, ``model (condition, time,
        neuron)``: fitted and held-out targets and the model's rates;
        ``x (condition, time, unit)``; ``train_time``, ``test_time (time)`` (0/1);
        ``loss (step)``; ``r2_neuron (neuron)`` (held-out); ``r2_null (shuffle)``;
        attributes ``r2_train``, ``r2_test``, ``noise_ceiling`` (NaN without
        single trials), ``holdout``, ``mode``, ``readout``, ``seed``,
        ``wall_time_s``, ``config`` and the recording's provenance.
    """
    fit._check_fitted()
    pred = fit.predict()
    s = fit.split_
    ds = xr.Dataset(
        {
            "tonic": (("condition", "unit"), fit.tonic_, {"long_name": "fitted tonic input per condition",
                                                          "units": "state units"}),
            "x0": (("condition", "unit"), fit.x0_, {"long_name": "initial state per condition", "units": "state units"}),
            "units": (("neuron",), fit.units_, {"long_name": "unit read out as the neuron (-1: linear readout)"}),
            "W_out": (("neuron", "unit"), fit.circuit_.W_out, {"long_name": "readout weights, from unit onto neuron"}),
            "b_out": (("neuron",), fit.circuit_.b_out, {"long_name": "readout offset per neuron"}),
            "train": (("condition", "time", "neuron"), s.train, {"long_name": "fitted target"}),
            "test": (("condition", "time", "neuron"), s.test, {"long_name": "held-out target"}),
            "model": (("condition", "time", "neuron"), pred["rate"].values, {"long_name": "model rates"}),
            "x": (("condition", "time", "unit"), pred["x"].values, {"long_name": "state of the fitted circuit",
                                                                    "units": "state units"}),
            "train_time": (("time",), s.train_time.astype(np.int8), {"long_name": "1 where the bin is fitted",
                                                                     "units": "1"}),
            "test_time": (("time",), s.test_time.astype(np.int8), {"long_name": "1 where the bin is held out",
                                                                   "units": "1"}),
            "loss": (("step",), fit.loss_, {"long_name": "fitting loss (mean squared error of the fitted bins)"}),
            "r2_neuron": (("neuron",), fit.r2_test_neuron_, {"long_name": "held-out R² per neuron", "units": "1"}),
            "r2_null": (("shuffle",), fit.r2_null_, {"null": "model conditions permuted", "units": "1",
                                                     "long_name": "held-out R² with the model's conditions permuted"}),
        },
        coords={"condition": ("condition", np.array(fit.conditions_, dtype=object), {"long_name": "condition"}),
                "time": ("time", fit.time_, {"long_name": "bin centre", "units": "ms"}),
                "neuron": ("neuron", np.array(fit.neurons_, dtype=object), {"long_name": "recorded neuron"}),
                "unit": ("unit", np.arange(fit.tonic_.shape[1]), {"long_name": "unit index"}),
                "step": ("step", np.arange(len(fit.loss_)), {"long_name": "optimiser step"}),
                "shuffle": ("shuffle", np.arange(len(fit.r2_null_)), {"long_name": "shuffle index"})},
        attrs={"r2_train": float(fit.r2_train_), "r2_test": float(fit.r2_test_),
               "noise_ceiling": float(fit.noise_ceiling_), "holdout": s.holdout, "mode": fit.mode,
               "readout": fit.readout, "learn_x0": int(bool(fit.learn_x0)), "n_units": int(fit.circuit_.n_units),
               "seed": int(fit.seed), "steps": int(fit.steps), "wall_time_s": float(fit.wall_time_s_),
               "config": config},
    )
    return ds


def fit_recordings(
    recording: xr.Dataset, *, circuit: Circuit | None = None, n_units: int = 256, conditions: Any = None,
    mode: str = "bias", config: str = "", **options: Any,
) -> xr.Dataset:
    """Fit one fixed random circuit, with one tonic input per condition, to a recording.

    Parameters
    ----------
    recording : xarray.Dataset
        Canonical recording without NaN, at least 2 conditions.
    circuit : Circuit, optional
        The fixed circuit (default: a random one of ``n_units`` units).
    n_units : int
    conditions : sequence of str, optional
        Conditions to fit (default all).
    mode : {"bias", "bias+readout", "readout", "full"}
        ``bias`` keeps every weight fixed; the others are baselines that
        measure the cost of fixed synapses.
    config : str
        TOML text stored with the result.
    **options
        Other :class:`~neurobias.fitting.estimator.TonicFit` hyperparameters
        (``readout``, ``learn_x0``, ``steps``, ``lr``, ``holdout``, ``seed``, ...).

    Returns
    -------
    xarray.Dataset
        See :func:`fit_to_dataset`; with the provenance attributes ``run_seed``,
        ``circuit_sha256_<weight>`` of the fitted circuit and ``recording_sha256``
        (sha256 of ``recording``'s ``rate``), as in ``fit.nc``.
    """
    from neurobias.errors import InputError
    from neurobias.io.circuit import provenance_attrs

    if not isinstance(config, str):
        raise InputError(f"`config` must be a str of TOML text; got {type(config).__name__}")
    est = TonicFit(circuit=circuit, n_units=n_units, conditions=conditions, mode=mode, **options).fit(recording)
    ds = fit_to_dataset(est, config=config)
    for key in ("units", "source", "citation", "licence"):
        ds.attrs[f"recording_{key}"] = str(recording.attrs.get(key, ""))
    ds.attrs.update(provenance_attrs(est.circuit_, config_toml=config, seed=int(est.seed), recording=recording))
    return ds


def context_fit_to_dataset(fit: Any, recording: xr.Dataset, *, config: str = "") -> xr.Dataset:
    """A fitted :class:`~neurobias.fitting.context_fit.ContextFit` (or low-rank one) as a Dataset of kind ``fit``.

    The per-condition variables of kind ``fit`` hold each condition's share:
    ``tonic (condition, unit)`` is the tonic input of its context and ``x0``
    its context's initial state, so ``compare-recordings`` reads it like a
    :class:`TonicFit`. Nothing is held out here (``holdout = "none"``:
    ``r2_test`` is the R² on the fitted data; held-out numbers come from
    :func:`neurobias.fitting.cross_validate`).

    Parameters
    ----------
    fit : ContextFit
        Fitted.
    recording : xarray.Dataset
        The recording it was fitted to (with its design).
    config : str, keyword-only
        TOML text stored with the result.

    Returns
    -------
    xarray.Dataset
        The variables of :func:`fit_to_dataset`, plus ``tonic_context``,
        ``initial_state (context, unit)``, the coordinates ``context
        (condition)``, ``stimulus (condition, input)`` and the variable
        ``stimulus_course (input, time)``; attributes ``model``, ``tonic``,
        ``initial_state_kind``, ``substeps``.
    """
    from neurobias.fitting.context_fit import condition_targets
    from neurobias.recordings.design import read_design
    from neurobias.recordings.metrics.r2 import r2_arrays

    fit._check_fitted()
    d = read_design(recording)
    target = condition_targets(recording, d.conditions)
    pred = fit.predict(recording)
    ctx = np.array([fit.contexts_.index(d.contexts[k]) for k in d.context_index])
    r2, r2_neuron = r2_arrays(target, pred["rate"].values)
    every = np.ones(d.time.size, np.int8)
    return xr.Dataset(
        {
            "tonic": (("condition", "unit"), fit.tonic_[ctx], {"units": "state units",
                                                                "long_name": "tonic input of each condition's context"}),
            "x0": (("condition", "unit"), fit.initial_state_[ctx],
                   {"units": "state units", "long_name": "initial state of each condition (its context's)"}),
            "tonic_context": (("context", "unit"), fit.tonic_, {"units": "state units",
                                                                 "long_name": "fitted tonic input of each context"}),
            "initial_state": (("context", "unit"), fit.initial_state_,
                              {"units": "state units", "long_name": "fitted initial state of each context"}),
            "units": (("neuron",), fit.units_, {"long_name": "unit read out as the neuron (-1: linear readout)"}),
            "W_out": (("neuron", "unit"), fit.circuit_.W_out, {"long_name": "readout weights"}),
            "b_out": (("neuron",), fit.circuit_.b_out, {"long_name": "readout offsets"}),
            "train": (("condition", "time", "neuron"), target, {"long_name": "fitted target"}),
            "test": (("condition", "time", "neuron"), target,
                     {"long_name": "held-out target (none held out: the fitted target)"}),
            "model": (("condition", "time", "neuron"), pred["rate"].values, {"long_name": "model rates"}),
            "x": (("condition", "time", "unit"), pred["x"].values, {"units": "state units", "long_name": "model state"}),
            "train_time": (("time",), every, {"long_name": "1 for the fitted bins"}),
            "test_time": (("time",), every, {"long_name": "1 for the scored bins"}),
            "loss": (("step",), fit.loss_, {"long_name": "fitting loss (masked mean squared error)"}),
            "r2_neuron": (("neuron",), r2_neuron, {"long_name": "R² of each neuron on the fitted data", "units": "1"}),
            "r2_null": (("shuffle",), np.zeros(0), {"long_name": "no null here (see crossval.nc)"}),
            "stimulus_course": (("input", "time"), d.course,
                                {"long_name": "stimulus time course (multiplies the value)"}),
        },
        coords={"condition": np.array(d.conditions, dtype=object), "time": ("time", d.time, {"units": "ms"}),
                "neuron": np.array(fit.neurons_, dtype=object), "unit": np.arange(fit.tonic_.shape[1]),
                "context": ("context", np.array(fit.contexts_, dtype=object), {"long_name": "context label"}),
                "condition_context": ("condition", np.array([d.contexts[k] for k in d.context_index], dtype=object),
                                      {"long_name": "context of each condition"}),
                "input": ("input", np.array(d.inputs, dtype=object), {"long_name": "stimulus input"}),
                "stimulus": (("condition", "input"), d.stimulus, {"long_name": "stimulus value of each input"}),
                "step": ("step", np.arange(len(fit.loss_)), {"long_name": "optimiser step"}),
                "shuffle": ("shuffle", np.arange(0), {"long_name": "shuffle index"})},
        attrs={"r2_train": float(fit.r2_train_), "r2_test": float(r2), "noise_ceiling": float("nan"),
               "holdout": "none", "mode": str(getattr(fit, "mode", "")), "readout": str(fit.readout),
               "model": type(fit).__name__, "tonic": str(fit.tonic), "initial_state_kind": str(fit.initial_state),
               "substeps": int(fit.substeps_), "n_units": int(fit.circuit_.n_units), "seed": int(fit.seed),
               "steps": int(fit.steps), "wall_time_s": float(fit.wall_time_s_), "config": config},
    )
