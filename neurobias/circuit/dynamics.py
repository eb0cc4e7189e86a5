"""The vector field, written once, and everything derived from it: :class:`Dynamics`.

This module is the only place in neurobias that knows the *form* of the
dynamics (``current`` or ``rate``); every other module asks a
:class:`Dynamics` (made by :meth:`neurobias.Circuit.dynamics`) for the drive,
the flow, the rates, the gain, the Jacobian and its products, and the steps.

Notation (tensors are torch tensors, or arrays of another library with the same
operators, such as JAX's; leading batch dimensions ``...`` are free, e.g.
``(context, trial)``):

* ``x`` of shape (..., unit): the state (currents for ``form="current"``, rates
  for ``form="rate"``);
* ``ext`` of shape (..., unit): the external drive ``W_in u + b`` (input plus
  tonic input) in the same units as ``x``;
* ``W_rec`` of shape (unit, unit).

:meth:`Dynamics.drive` is the term ``A(x)`` in ``tau dx/dt = -x + A(x)``; the vector field
is ``F(x) = (-x + A(x)) / tau`` in state units per ms.  A *fixed point* is
``F(x) = 0`` (for the flow); for the rate form stepped with Euler at ``dt = tau``
this is the same as ``x = step(x)`` of the discrete map, so both definitions
agree.  The Euler step, the exponential-Euler step and the Jacobian all derive
from :meth:`Dynamics.vector_field` / :meth:`Dynamics.drive`.

Both integrators are one interpolation: ``x + h tau F(x) = x + h (A(x) - x)``,
i.e. ``lerp(x, A(x), h)``, with the step fraction ``h = dt / tau`` (Euler) or
``1 - exp(-dt / tau)`` (exponential Euler), see :func:`step_fraction`.  That is
one matrix product (fused with the external drive), one ``phi`` and one
``lerp`` per step: the whole cost of a step in :func:`neurobias.circuit.integrate`.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from neurobias.circuit.nonlinearity import Nonlinearity, get_phi
from neurobias.errors import check_choice, check_number

__all__ = ["Dynamics", "FORMS", "step_fraction", "noise_scale", "METHODS", "SPARSE_DENSITY", "LOW_RANK_FRACTION",
           "STRUCTURE_MIN_UNITS"]

#: the forms of the dynamics (see :class:`Dynamics`)
FORMS: tuple[str, ...] = ("current", "rate")


METHODS: tuple[str, ...] = ("euler", "exp_euler")

#: ``W_rec`` with at most this fraction of non-zero entries is applied as a sparse (COO) matrix in
#: :meth:`Dynamics.jvp_at` / :meth:`Dynamics.vjp_at`
SPARSE_DENSITY = 0.1
#: the largest off-diagonal rank (as a fraction of the units) applied as a low-rank factorisation
LOW_RANK_FRACTION = 1 / 16
STRUCTURE_MIN_UNITS = 256  # below this the dense product is as fast as any structure


def _affine(v: Any, W: Any, ext: Any) -> Any:
    """``v @ W.T + ext``, as one fused ``addmm`` when ``v`` is a torch matrix (batch, unit)."""
    if isinstance(v, Tensor) and v.dim() == 2 and ext.dim() <= 2:
        return torch.addmm(ext, v, W.T)
    return v @ W.T + ext


@dataclass(frozen=True, eq=False)
class Dynamics:
    """The parameters of the vector field as arrays, and everything computed from them.

    For context drive ``ext = W_in u + b`` (input plus tonic input, state units):

    * ``form="current"``: ``tau dx/dt = -x + W_rec phi(x) + ext``; rates ``r = phi(x)``;
      gain ``g = phi'(x)``; Jacobian ``J = (-I + W_rec diag(g)) / tau``;
    * ``form="rate"``: ``tau dx/dt = -x + phi(W_rec x + ext)``; the state is the
      rate, ``r = x``; gain ``g = phi'(W_rec x + ext)``; ``J = (-I + diag(g) W_rec) / tau``.

    Make one with :meth:`neurobias.Circuit.dynamics` (tensors of a chosen dtype and
    device), or directly with a ``W_rec`` that autograd tracks (training).
    Every method accepts leading batch dimensions ``...``.

    Parameters
    ----------
    W_rec : Tensor of shape (unit, unit)
        Recurrent weights (a JAX array works as well for :meth:`drive`,
        :meth:`vector_field`, :meth:`rates` and :meth:`readout`, with a
        :class:`Nonlinearity` written in JAX; these methods, and :meth:`gain`,
        read ``W_rec`` only as ``W_rec.T``).
    tau : float
        Time constant, ms (> 0).
    phi : str or Nonlinearity
        Transfer function (a name is looked up with :func:`get_phi`).
    form : {"current", "rate"}
    """

    W_rec: Any
    tau: float
    phi: Nonlinearity | str
    form: str

    def __post_init__(self) -> None:
        check_choice("form", self.form, FORMS)
        check_number("tau", self.tau, gt=0, units="ms")
        if not isinstance(self.phi, Nonlinearity):
            object.__setattr__(self, "phi", get_phi(self.phi))
        object.__setattr__(self, "tau", float(self.tau))

    # ----------------------------------------------------------------- the form
    @property
    def state_is_rate(self) -> bool:
        """True when the state is the rate (``form="rate"``); then the gain depends on the drive."""
        return self.form == "rate"

    def rates(self, x: Any) -> Any:
        """The rates ``r`` of state ``x`` (..., unit): ``phi(x)`` (current) or ``x`` itself (rate)."""
        return x if self.state_is_rate else self.phi.fn(x)

    def readout(self, x: Any, W_out: Any, b_out: Any) -> Any:
        """The output ``z = W_out r + b_out`` of state ``x`` (..., unit) -> (..., output)."""
        return self.rates(x) @ W_out.T + b_out

    def gain(self, x: Tensor, ext: Tensor) -> Tensor:
        """``phi'`` at the argument of ``phi``: ``phi'(x)`` (current) or ``phi'(W_rec x + ext)`` (rate), (..., unit)."""
        if self.state_is_rate:
            return self.phi.deriv(x @ self.W_rec.T + ext)
        return self.phi.deriv(x)

    def effective_connectivity(self, gain: Any) -> Any:
        """``W_eff`` with ``J = (-I + W_eff) / tau``: ``W_rec diag(g)`` (current) or ``diag(g) W_rec`` (rate).

        Parameters
        ----------
        gain : Tensor or ndarray of shape (..., unit)
            ``phi'`` at the operating point (:meth:`gain`).

        Returns
        -------
        Tensor or ndarray of shape (..., unit, unit)
            ``W_eff[..., i, j]`` is the effective weight from unit ``j`` onto unit ``i``.
        """
        if self.state_is_rate:
            return gain[..., :, None] * self.W_rec
        return self.W_rec * gain[..., None, :]

    # ----------------------------------------------------------------- the field
    def drive(self, x: Any, ext: Any, *, rates: Any = None) -> Any:
        """The recurrent-plus-external drive ``A(x)`` in ``tau dx/dt = -x + A(x)``, (..., unit).

        ``A = W_rec phi(x) + ext`` (current) or ``phi(W_rec x + ext)`` (rate).

        Parameters
        ----------
        x : Tensor of shape (..., unit)
        ext : Tensor of shape (..., unit), broadcastable to ``x``
            External drive ``W_in u + b``.
        rates : Tensor of shape (..., unit), optional
            ``phi(x)`` when the caller has it already (``form="current"``; an
            integrator that records rates computes them once).
        """
        if self.state_is_rate:
            return self.phi.fn(_affine(x, self.W_rec, ext))
        return _affine(self.phi.fn(x) if rates is None else rates, self.W_rec, ext)

    def vector_field(self, x: Any, ext: Any) -> Any:
        """``F(x) = dx/dt = (-x + A(x)) / tau`` of shape (..., unit), state units per ms."""
        return (self.drive(x, ext) - x) / self.tau

    def step(self, x: Tensor, ext: Tensor, *, dt: float, method: str = "euler") -> Tensor:
        """One integrator step ``x + h tau F(x)`` (deterministic part), (..., unit).

        ``h = dt / tau`` (``method="euler"``) or ``1 - exp(-dt / tau)``
        (``"exp_euler"``, exact for the leak); see :func:`step_fraction`.  For
        ``form="rate"``, Euler and ``dt = tau`` this is exactly the discrete map
        ``h_t = phi(W h_{t-1} + U u_t + b)`` of Williams et al. (2024) (the step
        returns ``A(x)`` bit for bit).

        Parameters
        ----------
        x, ext : Tensor of shape (..., unit)
        dt : float
            Step, ms.
        method : {"euler", "exp_euler"}
        """
        return torch.lerp(x, self.drive(x, ext), step_fraction(dt=dt, tau=self.tau, method=method))

    # -------------------------------------------------------------- derivatives
    def jacobian(self, x: Tensor, ext: Tensor) -> Tensor:
        """Analytic Jacobian ``dF/dx`` of shape (..., unit, unit), per ms: ``J[..., i, j] = dF_i / dx_j``."""
        eye = torch.eye(x.shape[-1], dtype=x.dtype, device=x.device)
        return (self.effective_connectivity(self.gain(x, ext)) - eye) / self.tau

    def jacobian_scaled(self, x: Tensor, ext: Tensor) -> Tensor:
        """``tau J`` of shape (..., unit, unit), dimensionless.

        The same formula as :meth:`jacobian` times ``tau``, built in one pass
        over the output (memory bandwidth, not arithmetic, dominates here).
        """
        out = self.effective_connectivity(self.gain(x, ext))
        out.diagonal(dim1=-2, dim2=-1).sub_(1.0)
        return out

    def jvp(self, x: Tensor, ext: Tensor, v: Tensor) -> Tensor:
        """``J(x) v`` of shape (..., unit) without forming ``J``, per ms times the units of ``v``."""
        g = self.gain(x, ext)
        if self.state_is_rate:
            return (g * (v @ self.W_rec.T) - v) / self.tau
        return ((g * v) @ self.W_rec.T - v) / self.tau

    # ------------------------------------------------------------- structure
    @functools.cached_property
    def structure(self) -> str:
        """How :meth:`jvp_at` and :meth:`vjp_at` apply ``W_rec``: ``"dense"``, ``"sparse"`` or ``"low_rank"``.

        Detected once, without being asked: ``"sparse"`` when at most
        :data:`SPARSE_DENSITY` of the entries are non-zero (a sparse product,
        ``O(nnz)``); ``"low_rank"`` when ``W_rec`` itself (a low-rank network), or its
        off-diagonal part ``W_rec - diag(W_rec)`` (self-connections plus a
        low-rank coupling with zero diagonal), has rank
        ``r <= LOW_RANK_FRACTION * unit``, found by a randomised range finder
        (a sketch ``M Omega`` with ``unit / 16 + 8`` columns, ``O(unit^2 r)``)
        and accepted only when the factorisation reproduces ``W_rec`` to
        ``1e-12`` relative (Frobenius); then a product costs ``O(unit r)``.
        A diagonal plus a low-rank part with a non-zero diagonal is not
        detected (neither matrix tested is then low rank).
        Otherwise, below :data:`STRUCTURE_MIN_UNITS` units, or when autograd
        tracks ``W_rec``: ``"dense"``.
        """
        return self._structured[0]

    @functools.cached_property
    def _structured(self) -> tuple[str, Any]:
        W = self.W_rec
        if not isinstance(W, Tensor) or W.requires_grad or W.dim() != 2 or W.shape[0] < STRUCTURE_MIN_UNITS:
            return "dense", None
        n = W.shape[0]
        if float((W != 0).sum()) <= SPARSE_DENSITY * n * n:
            return "sparse", (W.to_sparse().coalesce(), W.T.contiguous().to_sparse().coalesce())
        r_max = max(1, int(LOW_RANK_FRACTION * n))
        g = torch.Generator(device=W.device).manual_seed(0)
        omega = torch.randn((n, r_max + 8), generator=g, dtype=W.dtype, device=W.device)
        d = torch.diagonal(W).clone()
        for diag in (torch.zeros_like(d), d):  # W itself low rank, or its off-diagonal part
            factors = _low_rank(W - torch.diag(diag), omega, r_max, float(torch.linalg.matrix_norm(W)))
            if factors is not None:
                return "low_rank", (diag, *factors)
        return "dense", None

    def _times_WT(self, v: Tensor) -> Tensor:
        """``v @ W_rec.T`` (..., unit), with the structure of ``W_rec`` (:attr:`structure`)."""
        kind, data = self._structured
        if kind == "dense":
            return v @ self.W_rec.T
        flat = v.reshape(-1, v.shape[-1])
        if kind == "sparse":
            out = torch.sparse.mm(data[0], flat.T).T
        else:
            d, Q, B = data
            out = flat * d + (flat @ B.T) @ Q.T
        return out.reshape(v.shape)

    def _times_W(self, v: Tensor) -> Tensor:
        """``v @ W_rec`` (..., unit), with the structure of ``W_rec``."""
        kind, data = self._structured
        if kind == "dense":
            return v @ self.W_rec
        flat = v.reshape(-1, v.shape[-1])
        if kind == "sparse":
            out = torch.sparse.mm(data[1], flat.T).T
        else:
            d, Q, B = data
            out = flat * d + (flat @ Q) @ B
        return out.reshape(v.shape)

    def jvp_at(self, gain: Tensor, v: Tensor) -> Tensor:
        """``J v`` of shape (..., unit) from the gain at the operating point (:meth:`gain`), per ms.

        The same product as :meth:`jvp` without recomputing the gain: a Krylov
        solver applies ``J`` many times at one state.

        Parameters
        ----------
        gain : Tensor of shape (..., unit)
        v : Tensor of shape (..., unit)
        """
        if self.state_is_rate:
            return (gain * self._times_WT(v) - v) / self.tau
        return (self._times_WT(gain * v) - v) / self.tau

    def vjp_at(self, gain: Tensor, v: Tensor) -> Tensor:
        """``J^T v`` of shape (..., unit) from the gain at the operating point (:meth:`gain`), per ms."""
        if self.state_is_rate:
            return (self._times_W(gain * v) - v) / self.tau
        return (gain * self._times_W(v) - v) / self.tau

    def vjp(self, x: Tensor, ext: Tensor, v: Tensor) -> Tensor:
        """``J(x)^T v`` of shape (..., unit) without forming ``J``; with ``v = F`` the gradient of ``|F|^2 / 2``."""
        g = self.gain(x, ext)
        if self.state_is_rate:
            return ((g * v) @ self.W_rec - v) / self.tau
        return (g * (v @ self.W_rec) - v) / self.tau

    def drive_sensitivity(self, x: Tensor, ext: Tensor) -> Tensor:
        """Diagonal of ``dF/d ext`` of shape (..., unit), per ms.

        ``1 / tau`` for every unit (current) or ``phi'(W_rec x + ext) / tau``
        (rate).  The derivative of ``F`` along a path of tonic inputs ``b(s)``
        is ``drive_sensitivity * db/ds``.
        """
        if self.state_is_rate:
            return self.gain(x, ext) / self.tau
        return torch.full(torch.broadcast_shapes(x.shape, ext.shape), 1.0 / self.tau, dtype=x.dtype,
                          device=x.device)

    def jacobian_product(self, x: Tensor, ext: Tensor, V: Tensor) -> Tensor:
        """``J(x) V`` for a block of tangent vectors as columns, without forming ``J``, per ms.

        Parameters
        ----------
        x, ext : Tensor of shape (unit,)
        V : Tensor of shape (unit, k)

        Returns
        -------
        Tensor of shape (unit, k)
        """
        if self.state_is_rate:
            return (self.phi.deriv(self.W_rec @ x + ext).unsqueeze(-1) * (self.W_rec @ V) - V) / self.tau
        return (self.W_rec @ (self.phi.deriv(x).unsqueeze(-1) * V) - V) / self.tau

    def field_and_jacobian_product(self, x: Tensor, ext: Tensor, V: Tensor) -> tuple[Tensor, Tensor]:
        """:meth:`vector_field` and :meth:`jacobian_product` at one state, with one matrix product.

        Parameters
        ----------
        x, ext : Tensor of shape (unit,)
        V : Tensor of shape (unit, k)

        Returns
        -------
        F : Tensor of shape (unit,)
            State units per ms.
        JV : Tensor of shape (unit, k)
            Per ms.
        """
        nl = self.phi
        if self.state_is_rate:
            Y = self.W_rec @ torch.cat([x.unsqueeze(-1), V], dim=-1)
            a = Y[:, 0] + ext
            return (nl.fn(a) - x) / self.tau, (nl.deriv(a).unsqueeze(-1) * Y[:, 1:] - V) / self.tau
        Y = self.W_rec @ torch.cat([nl.fn(x).unsqueeze(-1), nl.deriv(x).unsqueeze(-1) * V], dim=-1)
        return (Y[:, 0] + ext - x) / self.tau, (Y[:, 1:] - V) / self.tau


def _low_rank(M: Tensor, omega: Tensor, r_max: int, scale: float) -> tuple[Tensor, Tensor] | None:
    """``(Q, B)`` with ``M = Q B`` (``Q`` orthonormal, rank at most ``r_max``) to ``1e-12 * scale``, or None."""
    Y = M @ omega
    sv = torch.linalg.svdvals(Y)
    if float(sv[0]) == 0.0:
        return M.new_zeros((M.shape[0], 0)), M.new_zeros((0, M.shape[1]))
    rank = int((sv > 1e-10 * sv[0]).sum())
    if rank > r_max:
        return None
    Q = torch.linalg.qr(Y)[0][:, :rank]
    B = Q.T @ M
    if float(torch.linalg.matrix_norm(M - Q @ B)) > 1e-12 * scale:
        return None
    return Q, B


def noise_scale(*, dt: float, tau: float, noise_std: float, method: str) -> float:
    """Standard deviation of the state increment due to process noise over one step.

    The noise enters as ``dx = F(x) dt + noise_std dW`` with ``W`` a standard
    Wiener process (time in ms), so ``noise_std`` is in state units per sqrt(ms).
    Euler-Maruyama adds ``noise_std sqrt(dt) xi``; exponential Euler adds the exact
    increment of the leak's Ornstein-Uhlenbeck process,
    ``noise_std sqrt(tau (1 - exp(-2 dt / tau)) / 2) xi``.
    """
    if noise_std == 0.0:
        return 0.0
    if method == "euler":
        return noise_std * math.sqrt(dt)
    return noise_std * math.sqrt(tau * (1.0 - math.exp(-2.0 * dt / tau)) / 2.0)


def step_fraction(*, dt: float, tau: float, method: str) -> float:
    """The fraction ``h`` of the way from ``x`` to ``A(x)`` one step goes: ``x_next = x + h tau F(x)``.

    ``h = dt / tau`` for ``euler`` and ``1 - exp(-dt / tau)`` for ``exp_euler``.
    """
    if method == "euler":
        return dt / tau
    if method == "exp_euler":
        return -math.expm1(-dt / tau)
    raise ValueError(f"`method` must be one of {', '.join(METHODS)}; got {method!r}")
