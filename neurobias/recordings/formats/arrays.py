"""Arrays named in a file to a canonical recording: the mapping shared by the .mat and .npz loaders."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from neurobias.errors import InputError, describe_shape
from neurobias.recordings.dataset import make_recording

__all__ = ["recording_from_arrays"]

_LEADS = ("condition", "trial")


def _get(arrays: Mapping[str, Any], name: str, what: str, source: str) -> np.ndarray:
    if name not in arrays:
        have = sorted(k for k in arrays if not k.startswith("__"))
        raise InputError(f"{source}: no variable {name!r} (for {what}); the file has {have}")
    return np.asarray(arrays[name])


def recording_from_arrays(
    arrays: Mapping[str, Any],
    *,
    source: str,
    rate: str,
    axes: Sequence[str],
    time: str | None = None,
    bin_ms: float | None = None,
    t0_ms: float = 0.0,
    time_scale: float = 1.0,
    conditions: str | Sequence[Any] | None = None,
    neurons: str | None = None,
    lengths: str | None = None,
    units: str = "Hz",
    citation: str = "",
    licence: str = "",
    behaviour: Mapping[str, str] | None = None,
    allow_nan: bool = False,
) -> xr.Dataset:
    """Build a recording from named arrays (see :func:`neurobias.recordings.load_recording`)."""
    axes = tuple(axes)
    leads = [a for a in axes if a in _LEADS]
    if len(axes) != 3 or len(leads) != 1 or sorted(a for a in axes if a not in _LEADS) != ["neuron", "time"]:
        raise InputError(
            f"`axes` must name the 3 axes of {rate!r} as a permutation of (condition or trial, time, neuron); got {axes}"
        )
    lead = leads[0]
    raw = _get(arrays, rate, "`rate`", source)
    if raw.ndim != 3:
        raise InputError(f"{source}: variable {rate!r} must be 3-d {axes}; got shape {describe_shape(raw.shape)}")
    if raw.dtype.kind not in "fiu":
        raise InputError(f"{source}: variable {rate!r} must hold numbers; got dtype {raw.dtype}")
    arr = np.transpose(raw.astype(np.float64), [axes.index(a) for a in (lead, "time", "neuron")])
    n_lead, n_time, n_neuron = arr.shape
    if time is not None:
        t = _get(arrays, time, "`time`", source).astype(np.float64).ravel() * time_scale
        if t.size != n_time:
            sizes = dict(zip(axes, raw.shape))
            raise InputError(
                f"{source}: {time!r} has {t.size} entries but the `time` axis of {rate!r} has {n_time} "
                f"(axis sizes {sizes}); is `axes` the right order?"
            )
    elif bin_ms is not None:
        t = t0_ms + bin_ms * np.arange(n_time)
    else:
        raise InputError("give `time` (a variable name) or `bin_ms` to define the time axis")
    if conditions is None:
        if lead == "trial":
            raise InputError("single trials need `conditions`: the variable holding each trial's condition")
        labels: list[Any] = [f"c{i}" for i in range(n_lead)]
    elif isinstance(conditions, str):
        labels = list(_get(arrays, conditions, "`conditions`", source).ravel())
    else:
        labels = list(conditions)
    if len(labels) != n_lead:
        raise InputError(
            f"{source}: `conditions` has {len(labels)} entries but {rate!r} has {n_lead} along `{lead}`"
        )
    names = None
    if neurons is not None:
        names = list(_get(arrays, neurons, "`neurons`", source).ravel())
    if lengths is not None:
        n_valid = _get(arrays, lengths, "`lengths`", source).astype(np.int64).ravel()
        if n_valid.size != n_lead:
            raise InputError(f"{source}: {lengths!r} has {n_valid.size} entries but {rate!r} has {n_lead} {lead}s")
        if np.any(n_valid < 1) or np.any(n_valid > n_time):
            raise InputError(f"{source}: {lengths!r} must lie in [1, {n_time}]; got {n_valid.min()}..{n_valid.max()}")
        pad = np.arange(n_time)[None, :] >= n_valid[:, None]
        data_nan = np.isnan(arr).any(axis=2)
        if np.any(data_nan & ~pad):
            raise InputError(f"{source}: {rate!r} has NaN inside trials (before {lengths!r})")
        arr[pad] = np.nan
    beh: dict[str, np.ndarray] = {}
    for key, var in (behaviour or {}).items():
        b = _get(arrays, var, f"behaviour {key!r}", source).astype(np.float64)
        if b.ndim < 2:
            raise InputError(f"{source}: behaviour {var!r} must be ({lead}, time, ...); got {describe_shape(b.shape)}")
        beh[key] = b
    return make_recording(arr, time=t, conditions=labels, layout=lead, neurons=names, units=units, source=source,
                          citation=citation, licence=licence, behaviour=beh, allow_nan=allow_nan)
