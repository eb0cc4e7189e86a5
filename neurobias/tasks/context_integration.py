"""Context-dependent integration of noisy evidence.

Mante, Sussillo, Shenoy & Newsome (2013), "Context-dependent computation by
recurrent dynamics in prefrontal cortex", Nature 503:78-84.  Two noisy
evidence streams, ``motion`` and ``color``, arrive on two input channels.  In
context ``"motion"`` the circuit must report the sign of the motion coherence
and ignore color; in context ``"color"`` the reverse.  Unlike the original
model, the context is *not* a cue input: it reaches the circuit only through
its tonic input, so the inputs of a trial do not depend on the context.

Trial structure (epochs in ms, each a multiple of ``dt``)::

    | fixation | stimulus             | decision |
      inputs 0   coherence + noise      inputs 0
      target 0   (not in the loss)      target = sign of the relevant coherence

Noise: white Gaussian noise with per-step standard deviation
``input_noise / sqrt(dt / 1 ms)``, so the evidence integrated over the
stimulus has a dt-independent variance (``input_noise**2 * stimulus_ms``);
``input_noise`` is the per-step standard deviation at dt = 1 ms.

Mask: 1 in the decision epoch; 1 in the fixation epoch (target 0) when
``mask_fixation`` is true; 0 during the stimulus.  A trial whose relevant
coherence is 0 has no correct choice: its target is 0 and its decision-epoch
mask is 0 (its ``choice`` condition is 0).  The default coherences exclude 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurobias.errors import InputError, check_number
from neurobias.tasks._registry import register
from neurobias.tasks.base import Task, TaskBatch

__all__ = ["ContextIntegrationTask"]

_STREAMS = ("motion", "color")


@register
class ContextIntegrationTask(Task):
    """Report the sign of the context-relevant of two noisy evidence streams.

    Inputs: ``motion``, ``color``.  Output: ``choice``.  Contexts:
    ``"motion"``, ``"color"`` (the relevant stream).  Per-trial conditions:
    ``motion_coherence``, ``color_coherence`` and ``choice`` (+1, -1, or 0
    when the relevant coherence is 0).

    Parameters
    ----------
    params : ContextIntegrationTask.Params, optional
    dt : float
        Integration step in ms.
    """

    name = "context_integration"
    citation = (
        "Mante V, Sussillo D, Shenoy KV, Newsome WT (2013). Context-dependent "
        "computation by recurrent dynamics in prefrontal cortex. Nature 503:78-84."
    )

    @dataclass(frozen=True)
    class Params:
        """Parameters of :class:`ContextIntegrationTask`.

        Attributes
        ----------
        coherences : tuple of float
            Signed coherences; each trial draws one per stream, uniformly and
            independently.  At least one must be nonzero.
        input_noise : float
            Noise standard deviation per step at dt = 1 ms (non-negative);
            scaled by ``sqrt(1 ms / dt)`` for other steps.
        fixation_ms, stimulus_ms, decision_ms : float
            Epoch durations in ms, multiples of ``dt``; fixation may be 0.
        mask_fixation : bool
            Whether the fixation epoch (target 0) counts in the loss.
        """

        coherences: tuple[float, ...] = (-0.5, -0.15, -0.05, 0.05, 0.15, 0.5)
        input_noise: float = 0.5
        fixation_ms: float = 100.0
        stimulus_ms: float = 750.0
        decision_ms: float = 150.0
        mask_fixation: bool = True

    def _check_params(self, params: Params) -> None:
        if not any(c != 0 for c in params.coherences):
            raise InputError(f"`coherences` must hold at least one nonzero value; got {params.coherences}")
        check_number("input_noise", params.input_noise, ge=0)
        self._epochs()  # each epoch a multiple of dt

    def _epochs(self) -> tuple[int, int, int]:
        p = self.params
        return (
            self.n_steps(p.fixation_ms, "fixation_ms", allow_zero=True),
            self.n_steps(p.stimulus_ms, "stimulus_ms"),
            self.n_steps(p.decision_ms, "decision_ms"),
        )

    @property
    def duration_ms(self) -> float:
        p = self.params
        return p.fixation_ms + p.stimulus_ms + p.decision_ms

    @property
    def input_names(self) -> tuple[str, ...]:
        return _STREAMS

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("choice",)

    @property
    def contexts(self) -> tuple[str, ...]:
        return _STREAMS

    def conditions_table(self) -> dict[str, tuple]:
        return {"relevant_input": _STREAMS}

    def _sample(self, batch: int, context: int, rng: np.random.Generator) -> TaskBatch:
        p = self.params
        n_fix, n_stim, n_dec = self._epochs()
        stimulus = slice(n_fix, n_fix + n_stim)
        decision = slice(n_fix + n_stim, None)

        # All draws are context-independent: coherences first, then noise.
        coherence_bs = rng.choice(np.asarray(p.coherences), size=(batch, 2))
        noise_std = p.input_noise / np.sqrt(self.dt)
        noise_bts = noise_std * rng.standard_normal((batch, n_stim, 2))

        inputs = np.zeros((batch, self.n_time, 2))
        inputs[:, stimulus, :] = coherence_bs[:, None, :] + noise_bts

        choice_b = np.sign(coherence_bs[:, context])
        targets = np.zeros((batch, self.n_time, 1))
        targets[:, decision, 0] = choice_b[:, None]
        mask = np.zeros((batch, self.n_time, 1))
        mask[:, decision, 0] = (choice_b != 0)[:, None]
        if p.mask_fixation:
            mask[:, :n_fix, 0] = 1.0
        return TaskBatch(
            inputs=inputs,
            targets=targets,
            mask=mask,
            conditions={
                "motion_coherence": coherence_bs[:, 0],
                "color_coherence": coherence_bs[:, 1],
                "choice": choice_b,
            },
        )
