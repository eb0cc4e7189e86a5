"""Learning-rate schedules as pure functions of the step (so a resumed run is exact)."""
from __future__ import annotations

import math

__all__ = ["SCHEDULES", "learning_rate"]

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
