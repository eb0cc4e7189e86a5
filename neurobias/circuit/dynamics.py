"""The vector field, written once, and everything derived from it.

Notation (all tensors are torch tensors; leading batch dimensions ``...`` are
free, e.g. ``(context, trial)``):

* ``x`` of shape (..., unit): the state (currents for ``form="current"``, rates
  for ``form="rate"``);
* ``ext`` of shape (..., unit): the external drive ``W_in u + b`` (input plus
  tonic input) in the same units as ``x``;
* ``W_rec`` of shape (unit, unit).

:func:`drive` is the term ``A(x)`` in ``tau dx/dt = -x + A(x)``; the vector field
is ``F(x) = (-x + A(x)) / tau`` in state units per ms.  A *fixed point* is
``F(x) = 0`` (for the flow); for the rate form stepped with Euler at ``dt = tau``
this is the same as ``x = step(x)`` of the discrete map, so both definitions
agree.  The Euler step, the exponential-Euler step and the Jacobian all derive
from :func:`vector_field` / :func:`drive`.

Both integrators are one interpolation: ``x + h tau F(x) = x + h (A(x) - x)``,
i.e. ``lerp(x, A(x), h)``, with the step fraction ``h = dt / tau`` (Euler) or
``1 - exp(-dt / tau)`` (exponential Euler), see :func:`step_fraction`.  That is
one matrix product (fused with the external drive), one ``phi`` and one
``lerp`` per step: the whole cost of a step in :func:`neurobias.circuit.integrate`.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from neurobias.circuit.nonlinearity import get_phi

__all__ = [
    "drive",
    "vector_field",
    "euler_step",
    "exp_euler_step",
    "jacobian",
    "step",
    "step_fraction",
    "noise_scale",
    "METHODS",
    "drive_sensitivity",
    "jacobian_product",
    "field_and_jacobian_product",
]

METHODS: tuple[str, ...] = ("euler", "exp_euler")


def drive(x: Tensor, ext: Tensor, W_rec: Tensor, *, phi: str, form: str, rates: Tensor | None = None) -> Tensor:
    """The recurrent-plus-external drive ``A(x)`` in ``tau dx/dt = -x + A(x)``.

    ``form="current"``: ``A = W_rec phi(x) + ext``;
    ``form="rate"``: ``A = phi(W_rec x + ext)``.

    Parameters
    ----------
    x : Tensor of shape (..., unit)
    ext : Tensor of shape (..., unit), broadcastable to ``x``
    W_rec : Tensor of shape (unit, unit)
    phi : str
    form : {"current", "rate"}
    rates : Tensor of shape (..., unit), optional
        ``phi(x)`` when the caller has it already (``form="current"`` only; an
        integrator that records rates computes them once).

    Returns
    -------
    Tensor of shape (..., unit)
    """
    f = get_phi(phi).fn
    if form == "current":
        return _affine(f(x) if rates is None else rates, W_rec, ext)
    return f(_affine(x, W_rec, ext))


def _affine(v: Tensor, W: Tensor, ext: Tensor) -> Tensor:
    """``v @ W.T + ext``, as one fused ``addmm`` when ``v`` is a matrix (batch, unit)."""
    if v.dim() == 2 and ext.dim() <= 2:
        return torch.addmm(ext, v, W.T)
    return v @ W.T + ext


def vector_field(x: Tensor, ext: Tensor, W_rec: Tensor, *, tau: float, phi: str, form: str) -> Tensor:
    """``F(x) = dx/dt = (-x + A(x)) / tau``, in state units per ms.

    Parameters
    ----------
    x : Tensor of shape (..., unit)
    ext : Tensor of shape (..., unit)
        External drive ``W_in u + b``.
    W_rec : Tensor of shape (unit, unit)
    tau : float
        Time constant in ms.
    phi, form : str

    Returns
    -------
    Tensor of shape (..., unit)
    """
    return (drive(x, ext, W_rec, phi=phi, form=form) - x) / tau


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


def _lerp_step(x: Tensor, ext: Tensor, W_rec: Tensor, h: float, *, phi: str, form: str) -> Tensor:
    # x + h tau F(x) = x + h (A(x) - x): tau F(x) = A(x) - x is the vector field (see vector_field)
    return torch.lerp(x, drive(x, ext, W_rec, phi=phi, form=form), h)


def euler_step(x: Tensor, ext: Tensor, W_rec: Tensor, *, dt: float, tau: float, phi: str, form: str) -> Tensor:
    """One forward-Euler step ``x + dt F(x)`` (deterministic part).

    For ``form="rate"`` and ``dt = tau`` this is exactly the discrete map
    ``h_t = phi(W h_{t-1} + U u_t + b)`` of Williams et al. (2024) (``h = 1``:
    the step returns ``A(x)`` bit for bit).
    """
    return _lerp_step(x, ext, W_rec, step_fraction(dt=dt, tau=tau, method="euler"), phi=phi, form=form)


def exp_euler_step(x: Tensor, ext: Tensor, W_rec: Tensor, *, dt: float, tau: float, phi: str, form: str) -> Tensor:
    """One exponential-Euler step, exact for the leak ``-x / tau``.

    Holding ``A(x)`` constant over the step, the exact solution of
    ``tau dx/dt = -x + A`` is ``x + (1 - exp(-dt/tau)) tau F(x)``; it is exact when
    ``A`` does not depend on ``x`` (e.g. ``W_rec = 0`` with constant input).
    """
    return _lerp_step(x, ext, W_rec, step_fraction(dt=dt, tau=tau, method="exp_euler"), phi=phi, form=form)


def step(
    x: Tensor, ext: Tensor, W_rec: Tensor, *, dt: float, tau: float, phi: str, form: str, method: str
) -> Tensor:
    """Dispatch to :func:`euler_step` or :func:`exp_euler_step` by ``method``."""
    if method == "euler":
        return euler_step(x, ext, W_rec, dt=dt, tau=tau, phi=phi, form=form)
    if method == "exp_euler":
        return exp_euler_step(x, ext, W_rec, dt=dt, tau=tau, phi=phi, form=form)
    raise ValueError(f"`method` must be one of {', '.join(METHODS)}; got {method!r}")


def jacobian(x: Tensor, ext: Tensor, W_rec: Tensor, *, tau: float, phi: str, form: str) -> Tensor:
    """Analytic Jacobian ``dF/dx`` of :func:`vector_field`, per ms.

    ``form="current"``: ``(-I + W_rec diag(phi'(x))) / tau``;
    ``form="rate"``: ``(-I + diag(phi'(W_rec x + ext)) W_rec) / tau``.

    Parameters
    ----------
    x : Tensor of shape (..., unit)
    ext : Tensor of shape (..., unit)
    W_rec : Tensor of shape (unit, unit)

    Returns
    -------
    Tensor of shape (..., unit, unit)
        ``J[..., i, j] = dF_i / dx_j``.
    """
    d = get_phi(phi).deriv
    n = x.shape[-1]
    eye = torch.eye(n, dtype=x.dtype, device=x.device)
    if form == "current":
        gain = d(x)
        lin = W_rec * gain.unsqueeze(-2)
    else:
        gain = d(x @ W_rec.T + ext)
        lin = gain.unsqueeze(-1) * W_rec
    return (lin - eye) / tau


def drive_sensitivity(x: Tensor, ext: Tensor, W_rec: Tensor, *, tau: float, phi: str, form: str) -> Tensor:
    """Diagonal of ``dF/d ext``: how the vector field responds to the external drive, per ms.

    ``form="current"``: ``1 / tau`` for every unit; ``form="rate"``:
    ``phi'(W_rec x + ext) / tau``.  The derivative of ``F`` along a path of tonic
    inputs ``b(s)`` is ``drive_sensitivity * db/ds``.

    Returns
    -------
    Tensor of shape (..., unit)
    """
    if form == "current":
        return torch.full(torch.broadcast_shapes(x.shape, ext.shape), 1.0 / tau, dtype=x.dtype, device=x.device)
    return get_phi(phi).deriv(x @ W_rec.T + ext) / tau


def jacobian_product(
    x: Tensor, ext: Tensor, W_rec: Tensor, V: Tensor, *, tau: float, phi: str, form: str
) -> Tensor:
    """``J(x) V``: the Jacobian of :func:`vector_field` applied to a block of tangent vectors, per ms.

    The same matrix as :func:`jacobian` without forming it:
    ``form="current"``: ``(-V + W_rec (phi'(x) * V)) / tau``;
    ``form="rate"``: ``(-V + phi'(W_rec x + ext) * (W_rec V)) / tau``.

    Parameters
    ----------
    x : Tensor of shape (unit,)
    ext : Tensor of shape (unit,)
    W_rec : Tensor of shape (unit, unit)
    V : Tensor of shape (unit, k)
        Tangent vectors as columns.

    Returns
    -------
    Tensor of shape (unit, k)
    """
    d = get_phi(phi).deriv
    if form == "current":
        return (W_rec @ (d(x).unsqueeze(-1) * V) - V) / tau
    return (d(W_rec @ x + ext).unsqueeze(-1) * (W_rec @ V) - V) / tau


def field_and_jacobian_product(
    x: Tensor, ext: Tensor, W_rec: Tensor, V: Tensor, *, tau: float, phi: str, form: str
) -> tuple[Tensor, Tensor]:
    """:func:`vector_field` and :func:`jacobian_product` at one state, with one matrix product.

    Parameters
    ----------
    x, ext : Tensor of shape (unit,)
    W_rec : Tensor of shape (unit, unit)
    V : Tensor of shape (unit, k)

    Returns
    -------
    F : Tensor of shape (unit,)
        State units per ms.
    JV : Tensor of shape (unit, k)
        Per ms.
    """
    nl = get_phi(phi)
    if form == "current":
        Y = W_rec @ torch.cat([nl.fn(x).unsqueeze(-1), nl.deriv(x).unsqueeze(-1) * V], dim=-1)
        return (Y[:, 0] + ext - x) / tau, (Y[:, 1:] - V) / tau
    Y = W_rec @ torch.cat([x.unsqueeze(-1), V], dim=-1)
    a = Y[:, 0] + ext
    return (nl.fn(a) - x) / tau, (nl.deriv(a).unsqueeze(-1) * Y[:, 1:] - V) / tau
