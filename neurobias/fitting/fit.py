""":func:`fit_recordings`: fit a recording and return everything as one ``fit`` Dataset."""
from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from neurobias.circuit.circuit import Circuit
from neurobias.fitting.estimator import TonicFit

__all__ = ["fit_recordings", "fit_to_dataset"]


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
