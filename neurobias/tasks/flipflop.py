"""N-bit flip-flop memory, with a context-dependent readout convention.

Sussillo & Barak (2013), "Opening the black box: low-dimensional dynamics in
high-dimensional recurrent neural networks", Neural Computation 25:626-649.
Each of ``n_bits`` input channels receives occasional +1/-1 pulses; output
``i`` must hold the sign of the last pulse on input ``i``.  The contexts
change the convention (the context reaches the circuit only through its
tonic input; the inputs of a trial do not depend on it):

- ``"normal"``: output i = sign of the last pulse on input i;
- ``"inverted"``: output i = minus that sign;
- ``"only_bit<i>"`` (e.g. ``"only_bit0"``): only output i is trained, with
  the normal sign; every other output has mask 0 and target 0.

Pulses: time is cut into slots of ``pulse_ms``; in each slot and channel a
pulse occurs with probability ``1 - exp(-pulse_rate_hz * pulse_ms / 1000)``
(a Poisson process of rate ``pulse_rate_hz`` seen at slot resolution), with a
random sign, and lasts the whole slot.  The draws are per slot, not per step,
so the same generator state gives the same pulse train in ms for every ``dt``
that divides ``pulse_ms``.  The target switches at the first step of a pulse.

Mask: before the first pulse on a channel there is nothing to remember: the
target is 0 and the mask is 0 there.  Afterwards the mask is 1 on the
outputs the context trains.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from neurobias.errors import InputError, check_number, check_positive
from neurobias.tasks._registry import register
from neurobias.tasks.base import Task, TaskBatch

__all__ = ["FlipFlopTask"]

_ONLY_BIT = re.compile(r"only_bit(\d+)")


@register
class FlipFlopTask(Task):
    """Remember the sign of the last pulse on each of ``n_bits`` channels.

    Inputs: ``bit0``, ``bit1``, ....  Outputs: ``out0``, ``out1``, ....
    Contexts: ``params.conventions``.  Per-trial condition: ``n_pulses``
    (pulses over all channels).

    Parameters
    ----------
    params : FlipFlopTask.Params, optional
    dt : float
        Integration step in ms.
    """

    name = "flipflop"
    citation = (
        "Sussillo D, Barak O (2013). Opening the black box: low-dimensional dynamics "
        "in high-dimensional recurrent neural networks. Neural Computation 25(3):626-649."
    )

    @dataclass(frozen=True)
    class Params:
        """Parameters of :class:`FlipFlopTask`.

        Attributes
        ----------
        n_bits : int
            Number of input and output channels (positive).
        duration_ms : float
            Trial duration in ms (a multiple of ``dt``).
        pulse_ms : float
            Duration of a pulse and of a pulse slot, in ms (a multiple of
            ``dt``, at most ``duration_ms``).
        pulse_rate_hz : float
            Mean pulse rate per channel, in Hz (positive).
        conventions : tuple of str
            One per context, distinct: ``"normal"``, ``"inverted"`` or
            ``"only_bit<i>"`` with ``i < n_bits``.
        """

        n_bits: int = 3
        duration_ms: float = 1000.0
        pulse_ms: float = 10.0
        pulse_rate_hz: float = 4.0
        conventions: tuple[str, ...] = ("normal", "inverted")

    def _check_params(self, params: Params) -> None:
        self.n_steps(params.duration_ms, "duration_ms")
        check_number("n_bits", params.n_bits, gt=0, integer=True)
        check_positive("pulse_rate_hz", params.pulse_rate_hz)
        if not 0 < params.pulse_ms <= params.duration_ms:
            raise InputError(
                f"`pulse_ms` must lie in (0, duration_ms = {params.duration_ms:g}]; got {params.pulse_ms:g}"
            )
        self.n_steps(params.pulse_ms, "pulse_ms")
        if len(params.conventions) == 0:
            raise InputError("`conventions` must hold at least one convention; got ()")
        if len(set(params.conventions)) != len(params.conventions):
            raise InputError(f"`conventions` must be distinct; got {params.conventions}")
        for convention in params.conventions:
            self._convention(convention, params.n_bits)

    @staticmethod
    def _convention(convention: str, n_bits: int) -> tuple[float, tuple[int, ...]]:
        """(sign, trained bits) of a convention name."""
        if convention == "normal":
            return 1.0, tuple(range(n_bits))
        if convention == "inverted":
            return -1.0, tuple(range(n_bits))
        match = _ONLY_BIT.fullmatch(convention)
        if match and int(match.group(1)) < n_bits:
            return 1.0, (int(match.group(1)),)
        valid = "'normal', 'inverted' or 'only_bit<i>' with i < n_bits = " + str(n_bits)
        raise InputError(f"`conventions` entries must be {valid}; got {convention!r}")

    @property
    def duration_ms(self) -> float:
        return self.params.duration_ms

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(f"bit{i}" for i in range(self.params.n_bits))

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(f"out{i}" for i in range(self.params.n_bits))

    @property
    def contexts(self) -> tuple[str, ...]:
        return self.params.conventions

    def conditions_table(self) -> dict[str, tuple]:
        p = self.params
        rules = [self._convention(c, p.n_bits) for c in p.conventions]
        table: dict[str, tuple] = {"convention": p.conventions, "sign": tuple(s for s, _ in rules)}
        for i in range(p.n_bits):
            table[f"bit{i}_trained"] = tuple(i in bits for _, bits in rules)
        return table

    def _sample(self, batch: int, context: int, rng: np.random.Generator) -> TaskBatch:
        p = self.params
        steps_per_slot = self.n_steps(p.pulse_ms, "pulse_ms")
        n_slots = math.ceil(p.duration_ms / p.pulse_ms - 1e-9)

        # Context-independent draws, per slot: occurrence, then sign.
        prob = -math.expm1(-p.pulse_rate_hz * p.pulse_ms / 1000.0)
        occurs = rng.random((batch, n_slots, p.n_bits)) < prob
        signs = 2.0 * rng.integers(0, 2, size=(batch, n_slots, p.n_bits)) - 1.0
        pulses = np.where(occurs, signs, 0.0)

        # Sign of the last pulse so far (0 before the first), per slot.
        slot_index = np.arange(n_slots)[None, :, None]
        last = np.maximum.accumulate(np.where(occurs, slot_index, -1), axis=1)
        held = np.where(last >= 0, np.take_along_axis(pulses, np.maximum(last, 0), axis=1), 0.0)

        def to_steps(per_slot: np.ndarray) -> np.ndarray:
            return np.repeat(per_slot, steps_per_slot, axis=1)[:, : self.n_time]

        sign, bits = self._convention(p.conventions[context], p.n_bits)
        trained = np.zeros(p.n_bits, dtype=bool)
        trained[list(bits)] = True
        held_steps = to_steps(held)
        mask = (held_steps != 0) & trained
        return TaskBatch(
            inputs=to_steps(pulses),
            targets=np.where(mask, sign * held_steps, 0.0),
            mask=mask,
            conditions={"n_pulses": occurs.sum(axis=(1, 2))},
        )
