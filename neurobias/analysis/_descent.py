"""Cheap batched descent on ``q = |F|^2 / 2`` before the Newton corrector.

Adam steps on every candidate at once, with the analytic gradient
``grad q = J^T F`` computed without forming ``J`` (two products with ``W``
per step, ``O(unit^2)`` per candidate against ``O(unit^3)`` for a Newton
step).  The step size of each unit is ``lr`` times that unit's visited
half-range, so the descent is scale-free.  Optional: Newton with a line search
converges from most starting states by itself; the descent moves candidates
out of regions where the Jacobian is nearly singular.
"""
from __future__ import annotations

from torch import Tensor

from neurobias.analysis._field import Field

__all__ = ["adam_descent"]


def adam_descent(
    field: Field, x: Tensor, ctx: Tensor, *, steps: int, scale: Tensor, lr: float = 0.02,
    betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-30,
) -> Tensor:
    """``steps`` Adam steps on ``q``; returns the new states (the input is not modified).

    Parameters
    ----------
    field : Field
    x : Tensor of shape (m, unit)
    ctx : Tensor of shape (m,), long
    steps : int
    scale : Tensor of shape (m, unit)
        Per-unit step scale (state units); the step is at most about ``lr * scale``.
    lr : float
    """
    x = x.clone()
    m1 = x.new_zeros(x.shape)
    m2 = x.new_zeros(x.shape)
    b1, b2 = betas
    for t in range(1, steps + 1):
        F = field.F(x, ctx)
        g = field.JTv(x, ctx, F)
        m1.mul_(b1).add_(g, alpha=1 - b1)
        m2.mul_(b2).addcmul_(g, g, value=1 - b2)
        mhat = m1 / (1 - b1**t)
        vhat = m2 / (1 - b2**t)
        x = x - lr * scale * mhat / (vhat.sqrt() + eps)
    return x
