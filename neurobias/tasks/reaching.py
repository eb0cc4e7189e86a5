"""Centre-out reaching: hand velocity towards one of several targets on a circle, one context per target.

After a go cue at a random time, the circuit must output the hand velocity
``(vx, vy)`` of a straight reach to the target of the context: a
minimum-jerk speed profile ``16 s^2 (1 - s)^2`` (peak 1 at mid-movement,
``s`` the fraction of the movement time ``movement_ms`` elapsed), along the
direction ``(cos theta, sin theta)`` of the target, and zero before the cue
and after the movement.  The loss covers the whole trial, so it also asks
for zero velocity at the end (the hand must stop on the target).  The
displacement at the end of a reach is ``movement_ms * 8 / 15`` speed-ms
along the target direction for every target.

Source: the centre-out reaching experiment with bias-only learning in
recurrent networks of Williams, Ryoo, Jiralerspong, Payeur, Perich,
Mazzucato & Lajoie (2024), "Expressivity of neural networks with random
weights and learned biases", arXiv:2407.00957 (targets on a circle; loss
terms bringing the velocity to zero at the end).  The minimum-jerk profile
(Flash & Hogan 1985), the go cue and the durations are this package's own
choices.

Input ``go``: 0 before the cue, 1 from the cue on (it does not depend on
the target: the target reaches the circuit only through the tonic input).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurobias.errors import InputError, check_positive
from neurobias.tasks._registry import register
from neurobias.tasks.base import WILLIAMS_2024, Task, TaskBatch

__all__ = ["ReachingTask", "speed_profile"]


def speed_profile(s: np.ndarray) -> np.ndarray:
    """Minimum-jerk speed ``16 s^2 (1 - s)^2`` for ``s`` in [0, 1] (peak 1 at 0.5), 0 outside."""
    s = np.asarray(s, dtype=np.float64)
    return np.where((s >= 0.0) & (s <= 1.0), 16.0 * s * s * (1.0 - s) ** 2, 0.0)


@register
class ReachingTask(Task):
    """Reach to the target of the context after a go cue: output the hand velocity.

    Input: ``go``.  Outputs: ``vx``, ``vy``.  Contexts: ``"target<angle>deg"``.
    Per-trial condition: ``go_ms`` (time of the cue).

    Parameters
    ----------
    params : ReachingTask.Params, optional
    dt : float
        Integration step in ms.
    """

    name = "reaching"
    citation = WILLIAMS_2024

    @dataclass(frozen=True)
    class Params:
        """Parameters of :class:`ReachingTask`.

        Attributes
        ----------
        angles_deg : tuple of float
            Target directions in degrees, one per context; distinct.
        duration_ms : float
            Trial duration in ms (a multiple of ``dt``).
        go_min_ms, go_max_ms : float
            The cue comes at a uniformly random step between these times (ms,
            multiples of ``dt``; ``go_max_ms + movement_ms <= duration_ms``).
        movement_ms : float
            Duration of a reach in ms (positive).
        """

        angles_deg: tuple[float, ...] = (0.0, 45.0, 90.0, 135.0, 180.0, 225.0, 270.0, 315.0)
        duration_ms: float = 500.0
        go_min_ms: float = 50.0
        go_max_ms: float = 150.0
        movement_ms: float = 250.0

    def _check_params(self, params: Params) -> None:
        self.n_steps(params.duration_ms, "duration_ms")
        lo = self.n_steps(params.go_min_ms, "go_min_ms", allow_zero=True)
        hi = self.n_steps(params.go_max_ms, "go_max_ms", allow_zero=True)
        if lo > hi:
            raise InputError(f"`go_min_ms` must be <= go_max_ms = {params.go_max_ms:g}; got {params.go_min_ms:g}")
        check_positive("movement_ms", params.movement_ms)
        if params.go_max_ms + params.movement_ms > params.duration_ms:
            raise InputError(
                f"`go_max_ms` + `movement_ms` must be at most duration_ms = {params.duration_ms:g}; got "
                f"{params.go_max_ms:g} + {params.movement_ms:g}"
            )
        if len(params.angles_deg) == 0 or len(set(params.angles_deg)) != len(params.angles_deg):
            raise InputError(f"`angles_deg` must hold distinct angles; got {params.angles_deg}")

    @property
    def duration_ms(self) -> float:
        return self.params.duration_ms

    @property
    def input_names(self) -> tuple[str, ...]:
        return ("go",)

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("vx", "vy")

    @property
    def contexts(self) -> tuple[str, ...]:
        return tuple(f"target{np.format_float_positional(a, trim='-')}deg" for a in self.params.angles_deg)

    def conditions_table(self) -> dict[str, tuple]:
        return {"angle_deg": self.params.angles_deg}

    def _sample(self, batch: int, context: int, rng: np.random.Generator) -> TaskBatch:
        p = self.params
        lo = self.n_steps(p.go_min_ms, "go_min_ms", allow_zero=True)
        hi = self.n_steps(p.go_max_ms, "go_max_ms", allow_zero=True)
        go_step = rng.integers(lo, hi + 1, size=batch)
        go_ms = go_step * self.dt
        t = self.time[None, :]  # state times (k + 1) dt
        inputs = (np.arange(self.n_time)[None, :] >= go_step[:, None]).astype(np.float64)[..., None]
        speed = speed_profile((t - go_ms[:, None]) / p.movement_ms)
        theta = np.deg2rad(p.angles_deg[context])
        targets = speed[..., None] * np.array([np.cos(theta), np.sin(theta)])[None, None, :]
        return TaskBatch(inputs=inputs, targets=targets, mask=np.ones_like(targets),
                         conditions={"go_ms": go_ms.astype(np.float64)})
