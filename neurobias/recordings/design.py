"""The context x stimulus design of a recording: which context each condition belongs to, and what it saw.

A recording (see :mod:`neurobias.recordings.dataset`) carries its design as
coordinates and one variable:

* ``context (condition)``: the context label of each condition (str, e.g.
  ``"motion"`` / ``"color"`` in Mante et al. 2013, a rule in a reaching task);
* ``stimulus (condition, input)``: the stimulus value of each input in each
  condition (e.g. motion and colour coherence, a target direction's cosine);
* ``input (input)``: the input names;
* ``stimulus_course (input, time)``: the time course of each input, a
  multiplier of its stimulus value at each bin (1 while the stimulus is on, 0
  otherwise, or any given time series).

The input of condition ``c`` at bin ``t`` is ``u[c, t, i] = stimulus[c, i] *
stimulus_course[i, t]``. In the single-trial layout the labels run along
``trial`` (``context (trial)``, ``stimulus (trial, input)``) and must agree
within each condition.

A *design* without ``rate`` (from :func:`make_design`) names conditions a model
can be asked to predict (e.g. conditions it never saw).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from neurobias.errors import InputError, check_instance, describe_shape

__all__ = ["Design", "make_design", "set_design", "read_design", "has_design"]


@dataclass(frozen=True)
class Design:
    """The design of a recording, one row per condition.

    Attributes
    ----------
    conditions : tuple of str
        Condition names, in order of first appearance.
    contexts : tuple of str
        Context labels, in order of first appearance.
    context_index : ndarray of int of shape (condition,)
        Index into ``contexts`` of each condition.
    stimulus : ndarray of shape (condition, input)
        Stimulus values.
    inputs : tuple of str
        Input names.
    course : ndarray of shape (input, time)
        Time course multiplying each input's stimulus value.
    time : ndarray of shape (time,), ms
    """

    conditions: tuple[str, ...]
    contexts: tuple[str, ...]
    context_index: np.ndarray
    stimulus: np.ndarray
    inputs: tuple[str, ...]
    course: np.ndarray
    time: np.ndarray

    def inputs_array(self) -> np.ndarray:
        """The inputs ``u`` of shape (condition, time, input): ``stimulus[c, i] * course[i, t]``."""
        return self.stimulus[:, None, :] * self.course.T[None, :, :]


def _course(time: np.ndarray, inputs: tuple[str, ...], window: Any, course: Any) -> np.ndarray:
    n_in, n_time = len(inputs), time.size
    if (window is None) == (course is None):
        raise InputError("give exactly one of `window` (on/off times in ms) and `course` (a time series per input)")
    if course is not None:
        arr = np.asarray(course, dtype=np.float64)
        if arr.ndim == 1 and n_in == 1:
            arr = arr[None]
        if arr.shape != (n_in, n_time):
            raise InputError(f"`course` must have shape (input, time) = {describe_shape((n_in, n_time))}; got "
                             f"{describe_shape(arr.shape)}")
        if not np.all(np.isfinite(arr)):
            raise InputError("`course` holds NaN or infinite values")
        return arr
    windows = dict(window) if isinstance(window, Mapping) else {name: window for name in inputs}
    unknown = sorted(set(windows) - set(inputs))
    if unknown:
        raise InputError(f"`window` names inputs {unknown} that are not in `inputs` {list(inputs)}")
    out = np.zeros((n_in, n_time))
    for i, name in enumerate(inputs):
        if name not in windows:
            raise InputError(f"`window` gives no on/off times for input {name!r}")
        w = windows[name]
        try:
            on, off = (float(v) for v in w)
        except (TypeError, ValueError):
            raise InputError(f"`window` of input {name!r} must be (on_ms, off_ms); got {w!r}") from None
        if not off > on:
            raise InputError(f"`window` of input {name!r} must end after it starts; got ({on:g}, {off:g}) ms")
        out[i] = (time >= on) & (time < off)
    return out


def _labels(context: Any, n: int, lead: str) -> np.ndarray:
    if isinstance(context, str) or not isinstance(context, (Sequence, np.ndarray, xr.DataArray)):
        raise InputError(f"`context` must be a sequence of labels, one per {lead}; got {type(context).__name__}")
    vals = list(np.asarray(context, dtype=object).ravel())
    if len(vals) != n:
        raise InputError(f"`context` must have one label per {lead} ({n}); got {len(vals)}")
    out = []
    for k, v in enumerate(vals):
        if v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == "":
            raise InputError(f"`context` must label every {lead}; {lead} {k} has no label ({v!r})")
        out.append(str(v))
    return np.array(out, dtype=object)


def _stimulus(stimulus: Any, n: int, n_in: int, lead: str) -> np.ndarray:
    arr = np.asarray(stimulus, dtype=np.float64)
    if arr.ndim == 1 and n_in == 1:
        arr = arr[:, None]
    if arr.shape != (n, n_in):
        raise InputError(f"`stimulus` must have shape ({lead}, input) = {describe_shape((n, n_in))}; got "
                         f"{describe_shape(arr.shape)}")
    if not np.all(np.isfinite(arr)):
        raise InputError("`stimulus` holds NaN or infinite values")
    return arr


def _input_names(inputs: Any) -> tuple[str, ...]:
    if isinstance(inputs, str) or not isinstance(inputs, (Sequence, np.ndarray)):
        raise InputError(f"`inputs` must be a sequence of input names; got {inputs!r}")
    names = tuple(str(v) for v in inputs)
    if not names:
        raise InputError("`inputs` must name at least one input")
    if len(set(names)) != len(names):
        raise InputError(f"`inputs` must be unique; got {list(names)}")
    return names


def make_design(
    *, conditions: Sequence[Any], context: Sequence[Any], stimulus: Any, inputs: Sequence[str], time: Any,
    window: Any = None, course: Any = None,
) -> xr.Dataset:
    """A design Dataset (no ``rate``): conditions, their context labels, stimuli and the stimulus time course.

    Parameters
    ----------
    conditions : sequence
        Condition names (converted to str, unique).
    context : sequence
        Context label of each condition (length ``condition``; no empty label).
    stimulus : array_like of shape (condition, input)
        Stimulus value of each input in each condition.
    inputs : sequence of str
        Input names.
    time : array_like of shape (time,)
        Bin times, ms.
    window : (float, float) or mapping of str to (float, float), optional
        On and off times (ms) of the stimulus, the same for every input or one
        per input name: the course is 1 for ``on <= time < off``, else 0.
    course : array_like of shape (input, time), optional
        The time course of each input instead of ``window``.

    Returns
    -------
    xarray.Dataset
        Coordinates ``condition``, ``context (condition)``, ``input``,
        ``stimulus (condition, input)``, ``time``; variable ``stimulus_course (input, time)``.
    """
    names = [str(c) for c in conditions]
    if len(set(names)) != len(names):
        raise InputError("`conditions` must be unique names")
    t = np.asarray(time, dtype=np.float64).ravel()
    ds = xr.Dataset(coords={"condition": ("condition", np.array(names, dtype=object)),
                            "time": ("time", t, {"units": "ms", "long_name": "time"})})
    return _attach(ds, "condition", context=context, stimulus=stimulus, inputs=inputs, window=window, course=course)


def _attach(ds: xr.Dataset, lead: str, *, context: Any, stimulus: Any, inputs: Any, window: Any,
            course: Any) -> xr.Dataset:
    n = ds.sizes[lead]
    names = _input_names(inputs)
    labels = _labels(context, n, lead)
    stim = _stimulus(stimulus, n, len(names), lead)
    time = np.asarray(ds["time"].values, dtype=np.float64)
    crs = _course(time, names, window, course)
    ds = ds.drop_vars([v for v in ("context", "stimulus", "input", "stimulus_course") if v in ds.variables])
    ds = ds.assign_coords(
        context=(lead, labels, {"long_name": "context label"}),
        input=("input", np.array(names, dtype=object), {"long_name": "stimulus input"}),
        stimulus=((lead, "input"), stim, {"long_name": "stimulus value of each input"}),
    )
    ds["stimulus_course"] = (("input", "time"), crs, {"long_name": "stimulus time course (multiplies the value)"})
    return ds


def set_design(
    recording: xr.Dataset, *, context: Sequence[Any], stimulus: Any, inputs: Sequence[str], window: Any = None,
    course: Any = None,
) -> xr.Dataset:
    """``recording`` with its context x stimulus design attached.

    Parameters
    ----------
    recording : xarray.Dataset
        A canonical recording (condition averages or single trials).
    context : sequence
        Context label per condition (condition averages) or per trial (single trials).
    stimulus : array_like of shape (condition, input) or (trial, input)
    inputs, window, course
        As in :func:`make_design`.

    Returns
    -------
    xarray.Dataset
        A new recording; :func:`read_design` reads the design back.
    """
    from neurobias.recordings.dataset import validate

    validate(recording, allow_nan=True)
    lead = recording["rate"].dims[0]
    out = _attach(recording, lead, context=context, stimulus=stimulus, inputs=inputs, window=window, course=course)
    read_design(out)  # labels must agree within each condition of a single-trial recording
    return out


def has_design(recording: xr.Dataset) -> bool:
    """True when ``recording`` carries ``context``, ``stimulus`` and ``stimulus_course``."""
    return all(k in recording.variables for k in ("context", "stimulus", "stimulus_course"))


def read_design(recording: xr.Dataset) -> Design:
    """The :class:`Design` of a recording or of a design Dataset from :func:`make_design`.

    Raises
    ------
    InputError
        When the design is missing, a condition has no context label, the
        stimulus has the wrong shape, or the labels of one condition's trials
        disagree.
    """
    check_instance("recording", recording, xr.Dataset, what="an xarray.Dataset")
    for key in ("context", "stimulus", "stimulus_course"):
        if key not in recording.variables:
            raise InputError(f"the recording has no `{key}`: give each condition a context label and its stimulus "
                             f"values with neurobias.recordings.design.set_design")
    if "condition" not in recording.coords:
        raise InputError("the recording must have a coordinate `condition`")
    lead = recording["condition"].dims[0]
    if recording["context"].dims != (lead,):
        raise InputError(f"`context` must run along `{lead}`; got dims {recording['context'].dims}")
    n = recording.sizes[lead]
    labels = _labels(recording["context"].values, n, lead)
    if "input" not in recording.coords:
        raise InputError("the recording must have a coordinate `input` naming the stimulus inputs")
    names = _input_names(list(recording["input"].values))
    if recording["stimulus"].dims != (lead, "input"):
        raise InputError(f"`stimulus` must have dims ({lead}, input); got {recording['stimulus'].dims}")
    stim = _stimulus(recording["stimulus"].values, n, len(names), lead)
    time = np.asarray(recording["time"].values, dtype=np.float64)
    crs = recording["stimulus_course"]
    if crs.dims != ("input", "time"):
        raise InputError(f"`stimulus_course` must have dims (input, time); got {crs.dims}")
    crs = _course(time, names, None, crs.values)
    conds = [str(c) for c in np.asarray(recording["condition"].values).ravel()]
    order = tuple(dict.fromkeys(conds))
    first = {c: conds.index(c) for c in order}
    conds_arr = np.array(conds, dtype=object)
    for c in order:
        rows = np.flatnonzero(conds_arr == c)
        if len(set(labels[rows])) > 1 or np.any(stim[rows] != stim[rows[0]]):
            raise InputError(f"the trials of condition {c!r} disagree on their context label or stimulus values")
    lab = [str(labels[first[c]]) for c in order]
    contexts = tuple(dict.fromkeys(lab))
    return Design(conditions=order, contexts=contexts, context_index=np.array([contexts.index(v) for v in lab]),
                  stimulus=np.stack([stim[first[c]] for c in order]), inputs=names, course=crs, time=time)
