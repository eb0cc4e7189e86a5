"""The fixed circuit of a recording fit with its readout onto the recorded neurons: one helper for every estimator.

:class:`~neurobias.fitting.estimator.TonicFit` (one tonic input per condition)
and :class:`~neurobias.fitting.context_fit.ContextFit` (one per context,
stimuli through input weights) map the recorded neurons onto the circuit's
units the same way: a fixed random subset of units (``readout="subset"``:
recorded cells are model cells, ``z = phi(x)[units]``) or a linear readout
started at ``N(0, 1/unit)`` (``readout="linear"``).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from neurobias.circuit.circuit import Circuit
from neurobias.errors import InputError
from neurobias.training import seeds

__all__ = ["READOUTS", "UNITS_STREAM", "readout_circuit"]

READOUTS: tuple[str, ...] = ("subset", "linear")
UNITS_STREAM = 11  # seeds.stream(seed, UNITS_STREAM) draws the recorded units or the linear readout


def readout_circuit(base: Circuit, *, neurons: tuple[str, ...], readout: str, units: Any = None, seed: int,
                    W_in: np.ndarray | None = None, inputs: tuple[str, ...] | None = None) -> tuple[Circuit, np.ndarray]:
    """``base`` with its readout replaced by one onto the recorded ``neurons``.

    Parameters
    ----------
    base : Circuit
        The fixed circuit (its ``W_rec``, ``tau``, ``phi`` are kept).
    neurons : tuple of str
        Names of the recorded neurons (the circuit's output names).
    readout : {"subset", "linear"}
        ``subset``: ``W_out`` is a one-hot selection of ``units`` (default a
        random draw of distinct units from ``seed``); ``linear``: ``W_out``
        drawn from ``N(0, 1/unit)``. ``b_out`` is zero.
    units : sequence of int of shape (neuron,), optional, keyword-only
        The units read out (``subset``).
    seed : int, keyword-only
        Seeds the draw (stream :data:`UNITS_STREAM`).
    W_in : ndarray of shape (unit, input), optional, keyword-only
        Replaces the input weights (with ``inputs``, their names); default: the base's.
    inputs : tuple of str, optional, keyword-only

    Returns
    -------
    circuit : Circuit
        With ``W_out (neuron, unit)``, ``b_out (neuron,)`` and output names ``neurons``.
    units : ndarray of int of shape (neuron,)
        The units read out (``subset``); -1 for ``linear``.

    Raises
    ------
    InputError
        ``units`` not ``neuron`` distinct indices in ``[0, unit)``, or more
        neurons than units for ``subset``.
    """
    if readout not in READOUTS:
        raise InputError(f"`readout` must be one of {', '.join(READOUTS)}; got {readout!r}")
    n, n_neurons = base.n_units, len(neurons)
    rng = seeds.stream(seed, UNITS_STREAM)
    if readout == "subset":
        if units is not None:
            chosen = np.asarray(units, dtype=np.int64).ravel()
            if chosen.size != n_neurons or len(set(chosen.tolist())) != chosen.size or chosen.min() < 0 or \
                    chosen.max() >= n:
                raise InputError(f"`units` must be {n_neurons} distinct unit indices in [0, {n}); got "
                                 f"{chosen.size} values in [{chosen.min()}, {chosen.max()}]")
        else:
            if n_neurons > n:
                raise InputError(f"`readout='subset'` needs at least as many units as neurons; the circuit has "
                                 f"{n} units and the recording {n_neurons} neurons (raise `n_units`)")
            chosen = np.sort(rng.choice(n, size=n_neurons, replace=False))
        w_out = np.zeros((n_neurons, n))
        w_out[np.arange(n_neurons), chosen] = 1.0
    else:
        chosen = np.full(n_neurons, -1, dtype=np.int64)
        w_out = rng.normal(0.0, 1.0 / np.sqrt(n), size=(n_neurons, n))
    extra: dict[str, Any] = {}
    if W_in is not None:
        extra = {"W_in": W_in, "input_names": tuple(inputs or ())}
    elif inputs is not None:
        extra = {"input_names": inputs}
    return base.replace(W_out=w_out, b_out=np.zeros(n_neurons), output_names=neurons, **extra), chosen
