"""Van der Pol oscillator: reproduce its trajectory from a cued initial condition, one damping per context.

The circuit receives the initial condition ``(x0, y0)`` on two input
channels during the first ``cue_ms`` of a trial (zero afterwards) and must
output the trajectory of the Van der Pol oscillator

    dx/ds = y,    dy/ds = mu (1 - x^2) y - x

started there at the end of the cue, with ``s = time_scale * t`` (t in
ms), scaled by ``output_scale``.  The damping ``mu`` differs between contexts, so each
context's tonic input must turn the same weights into a different
oscillator.  Trajectories are integrated with classical Runge-Kutta (RK4),
``substeps`` steps per ``dt``.

Source: the Van der Pol experiments with bias-only learning in recurrent
networks of Williams, Ryoo, Jiralerspong, Payeur, Perich, Mazzucato &
Lajoie (2024), "Expressivity of neural networks with random weights and
learned biases", arXiv:2407.00957 (they report bias-only learning failing
for small recurrent gain g).  Initial-condition cue, ranges, durations and
scales here are this package's own choices.

Mask: 0 during the cue (the circuit cannot know the initial condition
before it), 1 afterwards.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurobias.errors import InputError, check_number, check_positive
from neurobias.tasks._registry import register
from neurobias.tasks.base import WILLIAMS_2024, Task, TaskBatch, rk4_samples

__all__ = ["VanDerPolTask", "van_der_pol"]


def van_der_pol(x0: np.ndarray, y0: np.ndarray, *, mu: float, ds: float, n_steps: int, substeps: int) -> np.ndarray:
    """Integrate the Van der Pol oscillator with RK4.

    Parameters
    ----------
    x0, y0 : ndarray of shape (trial,)
        Initial condition.
    mu : float
        Damping parameter (>= 0).
    ds : float
        Oscillator time between samples (dimensionless).
    n_steps : int
        Number of samples after the initial condition.
    substeps : int
        RK4 steps per sample.

    Returns
    -------
    ndarray of shape (trial, n_steps, 2)
        ``(x, y)`` at oscillator times ``ds, 2 ds, ..., n_steps ds``.
    """
    state = np.stack([np.asarray(x0, dtype=np.float64), np.asarray(y0, dtype=np.float64)], axis=-1)
    h = ds / substeps

    def f(s: np.ndarray) -> np.ndarray:
        x, y = s[..., 0], s[..., 1]
        return np.stack([y, mu * (1.0 - x * x) * y - x], axis=-1)

    return rk4_samples(f, state, h=h, n_samples=n_steps, substeps=substeps)


@register
class VanDerPolTask(Task):
    """Generate Van der Pol trajectories from a cued initial condition; one damping ``mu`` per context.

    Inputs: ``x0``, ``y0`` (the scaled initial condition, during the cue).
    Outputs: ``x``, ``y`` (scaled by ``output_scale``).  Contexts:
    ``"vdp_mu<mu>"``.  Per-trial conditions: ``x0``, ``y0`` (unscaled).

    Parameters
    ----------
    params : VanDerPolTask.Params, optional
    dt : float
        Integration step in ms.
    """

    name = "vanderpol"
    citation = WILLIAMS_2024

    @dataclass(frozen=True)
    class Params:
        """Parameters of :class:`VanDerPolTask`.

        Attributes
        ----------
        mus : tuple of float
            Damping of each context; distinct, >= 0.
        duration_ms : float
            Trial duration in ms (a multiple of ``dt``).
        cue_ms : float
            Duration of the initial-condition cue in ms (a multiple of ``dt``,
            shorter than the trial).
        time_scale : float
            Oscillator time per ms (positive); the oscillator runs for
            ``time_scale * (duration_ms - cue_ms)`` units after the cue.
        init_range : float
            Initial conditions are drawn uniformly in ``[-init_range, init_range]^2``.
        output_scale : float
            Factor applied to ``(x, y)`` in targets and cue (positive).
        substeps : int
            RK4 steps per ``dt`` (>= 1).
        """

        mus: tuple[float, ...] = (0.5, 1.5)
        duration_ms: float = 400.0
        cue_ms: float = 20.0
        time_scale: float = 0.04
        init_range: float = 2.0
        output_scale: float = 0.4
        substeps: int = 4

    def _check_params(self, params: Params) -> None:
        self.n_steps(params.duration_ms, "duration_ms")
        cue = self.n_steps(params.cue_ms, "cue_ms")
        if cue >= self.n_steps(params.duration_ms, "duration_ms"):
            raise InputError(f"`cue_ms` must be shorter than duration_ms = {params.duration_ms:g}; got {params.cue_ms:g}")
        if len(params.mus) == 0:
            raise InputError("`mus` must hold at least one damping value; got ()")
        if len(set(params.mus)) != len(params.mus) or min(params.mus) < 0:
            raise InputError(f"`mus` must be distinct numbers >= 0; got {params.mus}")
        for field in ("time_scale", "init_range", "output_scale"):
            check_positive(field, getattr(params, field))
        check_number("substeps", params.substeps, ge=1, integer=True)

    @property
    def duration_ms(self) -> float:
        return self.params.duration_ms

    @property
    def input_names(self) -> tuple[str, ...]:
        return ("x0", "y0")

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("x", "y")

    @property
    def contexts(self) -> tuple[str, ...]:
        return tuple(f"vdp_mu{np.format_float_positional(m, trim='-')}" for m in self.params.mus)

    def conditions_table(self) -> dict[str, tuple]:
        return {"mu": self.params.mus}

    def _sample(self, batch: int, context: int, rng: np.random.Generator) -> TaskBatch:
        p = self.params
        n_cue = self.n_steps(p.cue_ms, "cue_ms")
        ic = rng.uniform(-p.init_range, p.init_range, size=(batch, 2))
        inputs = np.zeros((batch, self.n_time, 2))
        inputs[:, :n_cue] = p.output_scale * ic[:, None, :]
        traj = van_der_pol(ic[:, 0], ic[:, 1], mu=p.mus[context], ds=p.time_scale * self.dt,
                           n_steps=self.n_time - n_cue, substeps=p.substeps)
        targets = np.zeros((batch, self.n_time, 2))
        targets[:, n_cue:] = p.output_scale * traj
        mask = np.zeros_like(targets)
        mask[:, n_cue:] = 1.0
        return TaskBatch(inputs=inputs, targets=targets, mask=mask, conditions={"x0": ic[:, 0], "y0": ic[:, 1]})
