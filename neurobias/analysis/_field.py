"""The vector field of a circuit at fixed drives, batched over candidates.

A thin wrapper around :func:`neurobias.circuit.dynamics.vector_field` and
:func:`neurobias.circuit.dynamics.jacobian` (the field is written once, there);
it adds the products ``J v`` and ``J^T v`` computed without forming ``J`` (for
the descent and the line search), with ``J`` the analytic Jacobian:

* ``form="current"``: ``J = (-I + W diag(phi'(x))) / tau``;
* ``form="rate"``: ``J = (-I + diag(phi'(W x + ext)) W) / tau``.

Each candidate ``m`` carries a context index ``ctx[m]`` selecting its drive
``ext[ctx[m]] = W_in u_c + b_c``.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from neurobias.circuit.dynamics import drive, jacobian, vector_field
from neurobias.circuit.nonlinearity import get_phi

__all__ = ["Field"]


@dataclass(frozen=True)
class Field:
    """``F(x) = (-x + A(x)) / tau`` for a batch of candidates, each in its own context.

    Attributes
    ----------
    W_rec : Tensor of shape (unit, unit)
    ext : Tensor of shape (context, unit)
        Constant drive ``W_in u_c + b_c`` of each context, state units.
    tau : float
        Time constant, ms.
    phi, form : str
    """

    W_rec: Tensor
    ext: Tensor
    tau: float
    phi: str
    form: str

    @property
    def n_units(self) -> int:
        return int(self.W_rec.shape[0])

    def F(self, x: Tensor, ctx: Tensor) -> Tensor:
        """Vector field, (..., unit) -> (..., unit), state units per ms; ``ctx`` indexes the contexts."""
        return vector_field(x, self.ext[ctx], self.W_rec, tau=self.tau, phi=self.phi, form=self.form)

    def drive(self, x: Tensor, ctx: Tensor) -> Tensor:
        """The drive ``A(x)`` (one Euler step of length ``tau``)."""
        return drive(x, self.ext[ctx], self.W_rec, phi=self.phi, form=self.form)

    def J(self, x: Tensor, ctx: Tensor) -> Tensor:
        """Analytic Jacobian, (m, unit) -> (m, unit, unit), per ms."""
        return jacobian(x, self.ext[ctx], self.W_rec, tau=self.tau, phi=self.phi, form=self.form)

    def J_scaled(self, x: Tensor, ctx: Tensor) -> Tensor:
        """``tau * J``, (m, unit) -> (m, unit, unit), dimensionless.

        The same formula as :func:`neurobias.circuit.dynamics.jacobian` times
        ``tau``, built in one pass over the (m, unit, unit) output (memory
        bandwidth, not arithmetic, dominates here); tested equal to it.
        """
        g = self._gain(x, ctx)
        if self.form == "current":
            out = self.W_rec * g.unsqueeze(-2)
        else:
            out = g.unsqueeze(-1) * self.W_rec
        out.diagonal(dim1=-2, dim2=-1).sub_(1.0)
        return out

    def _gain(self, x: Tensor, ctx: Tensor) -> Tensor:
        d = get_phi(self.phi).deriv
        if self.form == "current":
            return d(x)
        return d(x @ self.W_rec.T + self.ext[ctx])

    def Jv(self, x: Tensor, ctx: Tensor, v: Tensor) -> Tensor:
        """``J(x) v`` without forming ``J``, (m, unit)."""
        g = self._gain(x, ctx)
        if self.form == "current":
            return ((g * v) @ self.W_rec.T - v) / self.tau
        return (g * (v @ self.W_rec.T) - v) / self.tau

    def JTv(self, x: Tensor, ctx: Tensor, v: Tensor) -> Tensor:
        """``J(x)^T v`` without forming ``J``, (m, unit); with ``v = F`` the gradient of ``|F|^2 / 2``."""
        g = self._gain(x, ctx)
        if self.form == "current":
            return (g * (v @ self.W_rec) - v) / self.tau
        return ((g * v) @ self.W_rec - v) / self.tau

    def q(self, x: Tensor, ctx: Tensor) -> Tensor:
        """``q = |F|^2 / 2``, (m,), (state units / ms)^2."""
        f = self.F(x, ctx)
        return 0.5 * (f * f).sum(-1)


def as_ctx(ctx: Tensor | int, n: int, device: torch.device | str = "cpu") -> Tensor:
    """A context-index tensor of length ``n``."""
    if isinstance(ctx, Tensor):
        return ctx
    return torch.full((n,), int(ctx), dtype=torch.long, device=device)
