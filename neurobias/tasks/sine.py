"""Sine-wave generation: one frequency per context, no inputs.

From a fixed initial state and without any external input, the circuit must
produce ``amplitude * sin(2 pi f_c t / 1000 + phase_rad)`` (t in ms) on its
single output ``z``, where ``f_c`` is the frequency of context ``c``.  Only
the tonic input tells the contexts apart, so each context's tonic input must
turn the same fixed weights into an oscillator of its own frequency.

Source: the sine-wave generation experiments with bias-only learning in
recurrent networks of Williams, Ryoo, Jiralerspong, Payeur, Perich, Mazzucato
& Lajoie (2024), "Expressivity of neural networks with random weights and
learned biases", arXiv:2407.00957.  Durations, frequencies and the masking
convention here are this package's own defaults.

Mask: 1 for every time after ``mask_start_ms`` (the state at time t counts
when ``t > mask_start_ms``), 0 before, to let the initial transient go.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurobias.errors import InputError, check_positive
from neurobias.tasks._registry import register
from neurobias.tasks.base import WILLIAMS_2024, Task, TaskBatch

__all__ = ["SineTask"]


@register
class SineTask(Task):
    """Generate a sine wave whose frequency depends on the context.

    Inputs: none (shape (trial, time, 0)).  Output: ``z``.  Contexts:
    ``"sine_<f>Hz"`` for each frequency, e.g. ``"sine_2Hz"``, ``"sine_2.5Hz"``.
    The task has no randomness: every trial of a context is the same.

    Parameters
    ----------
    params : SineTask.Params, optional
    dt : float
        Integration step in ms.
    """

    name = "sine"
    citation = WILLIAMS_2024

    @dataclass(frozen=True)
    class Params:
        """Parameters of :class:`SineTask`.

        Attributes
        ----------
        frequencies_hz : tuple of float
            One frequency per context, in Hz; distinct, positive and below the
            Nyquist frequency ``500 / dt``.
        duration_ms : float
            Trial duration in ms (a multiple of ``dt``).
        amplitude : float
            Peak target value (positive).
        phase_rad : float
            Phase of the target at t = 0, in radians (shared by all contexts).
        mask_start_ms : float
            Initial transient excluded from the loss, in ms (in
            ``[0, duration_ms)``; need not be a multiple of ``dt``).
        """

        frequencies_hz: tuple[float, ...] = (2.0, 3.0, 4.0)
        duration_ms: float = 1000.0
        amplitude: float = 1.0
        phase_rad: float = 0.0
        mask_start_ms: float = 0.0

    def _check_params(self, params: Params) -> None:
        self.n_steps(params.duration_ms, "duration_ms")
        freqs = params.frequencies_hz
        if len(freqs) == 0:
            raise InputError("`frequencies_hz` must hold at least one frequency; got ()")
        nyquist = 500.0 / self.dt
        for f in freqs:
            if not 0.0 < f < nyquist:
                raise InputError(
                    f"`frequencies_hz` must lie in (0, {nyquist:g}) Hz (the Nyquist "
                    f"frequency for dt = {self.dt:g} ms); got {f:g}"
                )
        if len(set(freqs)) != len(freqs):
            raise InputError(f"`frequencies_hz` must be distinct; got {freqs}")
        check_positive("amplitude", params.amplitude)
        if not 0.0 <= params.mask_start_ms < params.duration_ms:
            raise InputError(
                f"`mask_start_ms` must lie in [0, duration_ms = {params.duration_ms:g}); "
                f"got {params.mask_start_ms:g}"
            )

    @property
    def duration_ms(self) -> float:
        return self.params.duration_ms

    @property
    def input_names(self) -> tuple[str, ...]:
        return ()

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("z",)

    @property
    def contexts(self) -> tuple[str, ...]:
        # Shortest round-trip decimal: distinct floats give distinct names.
        return tuple(
            f"sine_{np.format_float_positional(f, trim='-')}Hz" for f in self.params.frequencies_hz
        )

    def conditions_table(self) -> dict[str, tuple]:
        return {"frequency_hz": self.params.frequencies_hz}

    def target(self, context: int | str) -> np.ndarray:
        """The noise-free target of one context, of shape (time,)."""
        p = self.params
        f = p.frequencies_hz[self.context_index(context)]
        return p.amplitude * np.sin(2.0 * np.pi * f * self.time / 1000.0 + p.phase_rad)

    def _sample(self, batch: int, context: int, rng: np.random.Generator) -> TaskBatch:
        n_time = self.n_time
        targets = np.broadcast_to(self.target(context)[None, :, None], (batch, n_time, 1))
        mask = np.broadcast_to((self.time > self.params.mask_start_ms)[None, :, None], (batch, n_time, 1))
        frequency = np.full(batch, self.params.frequencies_hz[context])
        return TaskBatch(
            inputs=np.zeros((batch, n_time, 0)),
            targets=targets,
            mask=mask,
            conditions={"frequency_hz": frequency},
        )
