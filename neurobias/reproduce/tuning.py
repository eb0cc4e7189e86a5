"""Learning rates chosen on a grid before a comparison: the same grid and budget for every mode."""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np

from neurobias.errors import ConvergenceWarning, InputError

__all__ = ["SMOOTH", "lowest_final_loss"]

SMOOTH = 20  # final loss of a tuning run: mean of its last this many steps


def lowest_final_loss(train_at: Callable[[float], object], grid: Sequence[float], *,
                      smooth: int = SMOOTH) -> tuple[float, dict[float, float]]:
    """The rate of ``grid`` whose training ends with the lowest loss, and every rate's final loss.

    Parameters
    ----------
    train_at : callable
        ``train_at(lr)`` trains once at learning rate ``lr`` and returns an
        object with a ``loss`` array of shape (step,) (a
        :class:`neurobias.training.TrainResult`).
    grid : sequence of float
        Candidate learning rates.
    smooth : int, keyword-only
        The final loss is the mean of the last ``smooth`` steps' losses.

    Returns
    -------
    best : float
        The rate with the lowest final loss (the first of a tie, in grid order).
    final : dict of float to float
        Final loss per rate; ``inf`` for a rate whose training diverged or
        whose loss is not finite (it loses).  A run whose loss ends above its
        start is a candidate like any other: its convergence warning is
        silenced here.
    """
    final: dict[float, float] = {}
    for lr in grid:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                res = train_at(lr)
        except InputError as exc:
            if "diverged" not in str(exc):
                raise
            final[lr] = float("inf")
            continue
        value = float(np.mean(np.asarray(res.loss)[-smooth:]))  # type: ignore[attr-defined]
        final[lr] = value if np.isfinite(value) else float("inf")
    return min(final, key=final.get), final
