"""Learning-rate schedules as pure functions of the step (so a resumed run is exact)."""
from __future__ import annotations

import math

import numpy as np

from neurobias.errors import check_number

__all__ = ["SCHEDULES", "learning_rate", "geometric_schedule"]

SCHEDULES: tuple[str, ...] = ("constant", "cosine", "step")


def learning_rate(step: int, *, lr: float, lr_min: float, steps: int, schedule: str) -> float:
    """Learning rate at ``step`` (0-based) of ``steps``.

    ``constant``: ``lr``; ``cosine``: from ``lr`` at step 0 to ``lr_min`` at the
    last step along half a cosine; ``step``: ``lr`` halved at 50 % and again at
    75 % of the steps (never below ``lr_min``).
    """
    if schedule == "constant" or steps <= 1:
        return lr
    frac = min(max(step / (steps - 1), 0.0), 1.0)
    if schedule == "cosine":
        return lr_min + 0.5 * (lr - lr_min) * (1.0 + math.cos(math.pi * frac))
    if schedule == "step":
        factor = 1.0 if frac < 0.5 else (0.5 if frac < 0.75 else 0.25)
        return max(lr * factor, lr_min)
    raise ValueError(f"`schedule` must be one of {', '.join(SCHEDULES)}; got {schedule!r}")


def geometric_schedule(steps: int, *, start: float, end: float) -> np.ndarray:
    """Values falling (or rising) geometrically from ``start`` at step 0 to ``end`` at the last step.

    ``value[k] = start * (end / start) ** (k / (steps - 1))``; one step gives
    ``[start]``, none an empty array.  Used for the annealed temperature of
    sigmoid masks (:func:`neurobias.feedforward.fit`).

    Parameters
    ----------
    steps : int
        Number of steps (>= 0).
    start, end : float
        Positive values at the first and the last step.

    Returns
    -------
    ndarray of shape (steps,), float64
    """
    steps = check_number("steps", steps, ge=0, integer=True)
    start = check_number("start", start, gt=0)
    end = check_number("end", end, gt=0)
    if steps == 1:
        return np.array([start], dtype=np.float64)
    frac = np.arange(steps, dtype=np.float64) / max(steps - 1, 1)
    values = start * (end / start) ** frac
    if steps > 1:
        values[0], values[-1] = start, end  # exactly, not up to rounding
    return values
