"""The vector field of a circuit at fixed drives, batched over candidates.

A thin wrapper around :class:`neurobias.circuit.Dynamics` (the field, its
Jacobian and the products ``J v`` and ``J^T v`` are written once, there): each
candidate ``m`` carries a context index ``ctx[m]`` selecting its drive
``ext[ctx[m]] = W_in u_c + b_c``.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
from torch import Tensor

from neurobias.circuit.dynamics import Dynamics

__all__ = ["Field"]


@dataclass(frozen=True)
class Field:
    """``F(x) = (-x + A(x)) / tau`` for a batch of candidates, each in its own context.

    Attributes
    ----------
    dyn : Dynamics
        The circuit's vector field (tensors).
    ext : Tensor of shape (context, unit)
        Constant drive ``W_in u_c + b_c`` of each context, state units.
    """

    dyn: Dynamics
    ext: Tensor

    @functools.cached_property
    def single(self) -> Field:
        """The same field in float32 (weights and drives rounded once): for scans that only rank states."""
        if self.ext.dtype == torch.float32:
            return self
        d = self.dyn
        return Field(dyn=Dynamics(W_rec=d.W_rec.float(), tau=d.tau, phi=d.phi, form=d.form), ext=self.ext.float())

    @property
    def n_units(self) -> int:
        return int(self.dyn.W_rec.shape[0])

    @property
    def tau(self) -> float:
        """Time constant, ms."""
        return self.dyn.tau

    def F(self, x: Tensor, ctx: Tensor) -> Tensor:
        """Vector field, (..., unit) -> (..., unit), state units per ms; ``ctx`` indexes the contexts."""
        return self.dyn.vector_field(x, self.ext[ctx])

    def drive(self, x: Tensor, ctx: Tensor) -> Tensor:
        """The drive ``A(x)`` (one Euler step of length ``tau``)."""
        return self.dyn.drive(x, self.ext[ctx])

    def J(self, x: Tensor, ctx: Tensor) -> Tensor:
        """Analytic Jacobian, (m, unit) -> (m, unit, unit), per ms."""
        return self.dyn.jacobian(x, self.ext[ctx])

    def J_scaled(self, x: Tensor, ctx: Tensor) -> Tensor:
        """``tau * J``, (m, unit) -> (m, unit, unit), dimensionless."""
        return self.dyn.jacobian_scaled(x, self.ext[ctx])

    def Jv(self, x: Tensor, ctx: Tensor, v: Tensor) -> Tensor:
        """``J(x) v`` without forming ``J``, (m, unit)."""
        return self.dyn.jvp(x, self.ext[ctx], v)

    def JTv(self, x: Tensor, ctx: Tensor, v: Tensor) -> Tensor:
        """``J(x)^T v`` without forming ``J``, (m, unit); with ``v = F`` the gradient of ``|F|^2 / 2``."""
        return self.dyn.vjp(x, self.ext[ctx], v)

    def gain(self, x: Tensor, ctx: Tensor) -> Tensor:
        """``phi'`` at the argument of ``phi`` (:meth:`neurobias.circuit.Dynamics.gain`), (m, unit)."""
        return self.dyn.gain(x, self.ext[ctx])

    def Jv_at(self, gain: Tensor, v: Tensor) -> Tensor:
        """``J v`` from a precomputed gain (:meth:`gain`), (m, unit), per ms."""
        return self.dyn.jvp_at(gain, v)

    def JTv_at(self, gain: Tensor, v: Tensor) -> Tensor:
        """``J^T v`` from a precomputed gain (:meth:`gain`), (m, unit), per ms."""
        return self.dyn.vjp_at(gain, v)

    def q(self, x: Tensor, ctx: Tensor) -> Tensor:
        """``q = |F|^2 / 2``, (m,), (state units / ms)^2."""
        f = self.F(x, ctx)
        return 0.5 * (f * f).sum(-1)

