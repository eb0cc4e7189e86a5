"""The canonical recording Dataset: build one and check it.

A recording is an :class:`xarray.Dataset` in one of two layouts:

* **condition averages**: ``rate (condition, time, neuron)``;
* **single trials**: ``rate (trial, time, neuron)`` with a coordinate
  ``condition (trial)`` naming each trial's condition.

Coordinates: ``time (time)`` in ms, evenly spaced and increasing; ``neuron
(neuron)`` (names or ids, unique); ``condition`` (str). Global attributes:
``units`` (``"Hz"``, ``"normalised"``, ...), ``source``, ``citation``,
``licence``. Optional behavioural variables are named ``behaviour_<name>``
with dimensions ``(trial, time, ...)`` or ``(condition, time, ...)``. NaN in
``rate`` marks padding of short trials; :func:`validate` refuses it unless
``allow_nan=True`` (see :mod:`neurobias.recordings.preprocess` to cut or mask
it).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from neurobias.errors import InputError, check_instance, describe_shape

__all__ = ["make_recording", "validate", "is_single_trial", "condition_names", "PROVENANCE_ATTRS"]

#: global attributes every recording carries (strings; "" when unknown)
PROVENANCE_ATTRS: tuple[str, ...] = ("units", "source", "citation", "licence")


def make_recording(
    rate: Any,
    *,
    time: Any,
    conditions: Sequence[Any],
    layout: str = "condition",
    neurons: Sequence[Any] | None = None,
    units: str = "Hz",
    source: str = "",
    citation: str = "",
    licence: str = "",
    behaviour: Mapping[str, Any] | None = None,
    allow_nan: bool = False,
) -> xr.Dataset:
    """Build a validated canonical recording from arrays.

    Parameters
    ----------
    rate : array_like of shape (condition, time, neuron) or (trial, time, neuron)
        Firing rates (``units``); NaN only as padding when ``allow_nan``.
    time : array_like of shape (time,)
        Bin centres in ms, evenly spaced, increasing.
    conditions : sequence
        For ``layout="condition"``: one name per condition (length ``condition``);
        for ``layout="trial"``: the condition of each trial (length ``trial``).
        Converted to str.
    layout : {"condition", "trial"}
    neurons : sequence, optional
        Neuron names or ids (default ``0..neuron-1``), converted to str.
    units : str
        Units of ``rate`` (``"Hz"``, ``"normalised"``, ...).
    source, citation, licence : str
        Provenance.
    behaviour : mapping of str to array_like, optional
        Behavioural variables of shape (trial or condition, time, ...); stored as
        ``behaviour_<name>`` with extra dimensions ``<name>_dim<k>``.
    allow_nan : bool
        Accept NaN padding in ``rate``.

    Returns
    -------
    xarray.Dataset
        The canonical recording.

    Raises
    ------
    InputError
        Naming the argument, the expected shape and what came.
    """
    if layout not in ("condition", "trial"):
        raise InputError(f"`layout` must be 'condition' or 'trial'; got {layout!r}")
    arr = np.asarray(rate, dtype=np.float64)
    if arr.ndim != 3:
        lead = "condition" if layout == "condition" else "trial"
        raise InputError(f"`rate` must have shape ({lead}, time, neuron); got {describe_shape(arr.shape)}")
    t = np.asarray(time, dtype=np.float64).ravel()
    if t.shape[0] != arr.shape[1]:
        raise InputError(
            f"`time` must have one entry per time bin of `rate` ({arr.shape[1]}); got {t.shape[0]} "
            f"(is the axis order of `rate` (…, time, neuron)?)"
        )
    conds = [str(c) for c in conditions]
    if len(conds) != arr.shape[0]:
        what = "condition" if layout == "condition" else "trial"
        raise InputError(f"`conditions` must have one entry per {what} of `rate` ({arr.shape[0]}); got {len(conds)}")
    names = [str(n) for n in (neurons if neurons is not None else range(arr.shape[2]))]
    if len(names) != arr.shape[2]:
        raise InputError(f"`neurons` must have one entry per neuron of `rate` ({arr.shape[2]}); got {len(names)}")
    lead = layout if layout == "condition" else "trial"
    coords: dict[str, Any] = {"time": ("time", t, {"long_name": "bin centre", "units": "ms"}),
                              "neuron": ("neuron", np.array(names, dtype=object), {"long_name": "recorded neuron"})}
    if layout == "condition":
        coords["condition"] = ("condition", np.array(conds, dtype=object), {"long_name": "condition"})
    else:
        coords["trial"] = ("trial", np.arange(arr.shape[0]), {"long_name": "trial index"})
        coords["condition"] = ("trial", np.array(conds, dtype=object), {"long_name": "condition of the trial"})
    rate_name = "firing rate, condition average" if layout == "condition" else "firing rate per trial"
    data: dict[str, Any] = {"rate": ((lead, "time", "neuron"), arr, {"long_name": rate_name, "units": units})}
    for key, value in (behaviour or {}).items():
        b = np.asarray(value, dtype=np.float64)
        if b.ndim < 2 or b.shape[:2] != arr.shape[:2]:
            raise InputError(
                f"behaviour `{key}` must have shape ({lead}, time, ...) = {describe_shape(arr.shape[:2])} + (...); "
                f"got {describe_shape(b.shape)}"
            )
        dims = (lead, "time", *(f"{key}_dim{k}" for k in range(b.ndim - 2)))
        data[f"behaviour_{key}"] = (dims, b, {"long_name": f"behavioural variable {key}"})
        for k in range(b.ndim - 2):
            coords[f"{key}_dim{k}"] = (f"{key}_dim{k}", np.arange(b.shape[2 + k]),
                                       {"long_name": f"component of behavioural variable {key}"})
    ds = xr.Dataset(data, coords=coords, attrs={"units": units, "source": source, "citation": citation,
                                                  "licence": licence})
    validate(ds, allow_nan=allow_nan)
    return ds


def is_single_trial(recording: xr.Dataset) -> bool:
    """True for the single-trial layout ``rate (trial, time, neuron)``."""
    return "trial" in recording["rate"].dims


def condition_names(recording: xr.Dataset) -> tuple[str, ...]:
    """Condition names in order of first appearance."""
    values = [str(c) for c in np.asarray(recording["condition"].values).ravel()]
    return tuple(dict.fromkeys(values))


def validate(recording: Any, *, allow_nan: bool = False, min_conditions: int = 1) -> None:
    """Check that ``recording`` is a canonical recording Dataset.

    Parameters
    ----------
    recording : xarray.Dataset
    allow_nan : bool
        Accept NaN in ``rate`` (padding of short trials).
    min_conditions : int
        Fewest distinct conditions accepted (fitting needs 2).

    Raises
    ------
    InputError
        One message naming what is wrong: not a Dataset, no ``rate``, wrong
        dimensions, time axis not in ms / not evenly spaced / not increasing,
        conditions missing, duplicated neurons, NaN padding, infinite values,
        missing provenance attributes.
    """
    check_instance("recording", recording, xr.Dataset, what="an xarray.Dataset")
    if "rate" not in recording.data_vars:
        raise InputError(f"`recording` must have a variable `rate`; it has {sorted(map(str, recording.data_vars))}")
    dims = tuple(recording["rate"].dims)
    if dims not in (("condition", "time", "neuron"), ("trial", "time", "neuron")):
        raise InputError(
            f"`rate` must have dimensions (condition, time, neuron) or (trial, time, neuron); got {dims}"
        )
    for name in ("time", "neuron", "condition"):
        if name not in recording.coords:
            raise InputError(f"`recording` must have a coordinate `{name}`")
    if dims[0] == "trial" and recording["condition"].dims != ("trial",):
        raise InputError(
            f"a single-trial recording must have `condition` along `trial`; got dims {recording['condition'].dims}"
        )
    if recording["rate"].dtype.kind not in "fiu":
        raise InputError(f"`rate` must be real numbers; got dtype {recording['rate'].dtype}")
    t = np.asarray(recording["time"].values, dtype=np.float64)
    if t.size < 2:
        raise InputError(f"`time` must have at least 2 bins; got {t.size}")
    step = np.diff(t)
    if not np.all(np.isfinite(t)) or np.any(step <= 0):
        raise InputError("`time` must be finite and strictly increasing (ms)")
    if np.max(np.abs(step - step[0])) > 1e-6 * max(1.0, abs(step[0])):
        raise InputError(f"`time` must be evenly spaced; steps range from {step.min():g} to {step.max():g} ms")
    neurons = np.asarray(recording["neuron"].values).ravel()
    if len(set(map(str, neurons))) != neurons.size:
        raise InputError("`neuron` names must be unique")
    n_cond = len(condition_names(recording))
    if n_cond < min_conditions:
        raise InputError(f"the recording must have at least {min_conditions} conditions; got {n_cond}")
    rate = np.asarray(recording["rate"].values, dtype=np.float64)
    if np.isinf(rate).any():
        raise InputError("`rate` holds infinite values")
    if not allow_nan and np.isnan(rate).any():
        bad = np.isnan(rate).any(axis=(1, 2))
        lead = dims[0]
        raise InputError(
            f"`rate` holds NaN (padding of short trials?) in {int(bad.sum())} {lead}(s), first at {lead} "
            f"{int(np.flatnonzero(bad)[0])}; cut the trials to a common length with "
            f"neurobias.recordings.preprocess.trim_trials or average with condition_average(..., nan='mask')"
        )
    for key in PROVENANCE_ATTRS:
        if not isinstance(recording.attrs.get(key), str):
            raise InputError(f"`recording` must have a string attribute `{key}` (\"\" when unknown)")
