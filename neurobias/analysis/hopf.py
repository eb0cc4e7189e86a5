"""Whether a Hopf point is supercritical or subcritical: its first Lyapunov coefficient.

At a Hopf point the Jacobian ``A = dF/dx`` of the flow has eigenvalues ``+-i omega``; on the centre manifold
the flow reduces to ``dz/dt = (mu + i omega) z + c1 z |z|^2 + ...``, and the sign of the *first Lyapunov
coefficient* ``l1 = Re c1 / omega`` decides what happens to the cycle born there.  ``l1 < 0``
(supercritical): a cycle that attracts within the centre manifold grows from the point, with amplitude
``sqrt(mu)``, on the side where the pair is unstable; when the fixed point has no other unstable direction
the cycle is stable and oscillation starts gently.  ``l1 > 0`` (subcritical): the small cycles repel within
the centre manifold and surround the fixed point on the side where it is stable; past the point the circuit
leaves for whatever else attracts it (often a large cycle, which may coexist with the stable fixed point).

Kuznetsov's formula (Elements of Applied Bifurcation Theory, 3rd ed. 2004, eq. 3.20), for ``A q = i omega q``,
``A^T p = -i omega p``, ``<q, q> = 1``, ``<p, q> = 1`` (``<u, v> = conj(u) . v``)::

    l1 = Re[<p, C(q, q, qbar)> - 2 <p, B(q, A^-1 B(q, qbar))> + <p, B(qbar, (2 i omega - A)^-1 B(q, q))>] / (2 omega)

``B`` and ``C`` are the second and third derivatives of the vector field at the Hopf point, taken here by
central differences of the circuit's own Jacobian-vector products (``Dynamics.jvp``), Richardson-
extrapolated (about 1e-8 relative against closed-form derivatives), so every form and
transfer function of a circuit is covered by the code that defines it.  ``l1`` is in 1 / (state units)^2 for
the eigenvector normalised to unit length; it does not depend on ``tau``.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from neurobias.circuit.dynamics import Dynamics
from neurobias.circuit.threads import one_thread

__all__ = ["first_lyapunov_coefficient"]

_DT = torch.float64
_CT = torch.complex128
#: transfer functions without continuous third derivatives: no Lyapunov coefficient (NaN)
NOT_SMOOTH = ("relu",)
#: relative residual above which a critical vector or a solve is not trusted (the coefficient is then NaN)
RESIDUAL_MAX = 1e-8


def _relres(M: Tensor, v: Tensor, rhs: Tensor) -> float:
    """``|M v - rhs| / (|M| |v| + |rhs|)`` (Frobenius and Euclidean norms)."""
    den = float(torch.linalg.matrix_norm(M)) * float(torch.linalg.vector_norm(v)) + float(torch.linalg.vector_norm(rhs))
    return float(torch.linalg.vector_norm(M @ v - rhs)) / den if den > 0 else math.inf


def _critical_vectors(A: Tensor, omega: float, seed: int = 0) -> tuple[Tensor, Tensor, float]:
    """``q`` (``A q = i omega q``, unit length), ``p`` (``A^T p = -i omega p``, ``<p, q> = 1``) and the refined
    ``omega``, by inverse iteration on the (nearly singular) shifted matrix; ``A^T + i omega`` is its
    adjoint, so one LU factorisation serves both."""
    n = A.shape[0]
    gen = torch.Generator().manual_seed(seed)
    # the shift is moved off the eigenvalue by a relative 1e-10 so that the factors stay finite
    M = A.to(_CT) - (1j * omega * (1.0 + 1e-10)) * torch.eye(n, dtype=_CT, device=A.device)
    LU, piv = torch.linalg.lu_factor(M)

    def inverse_iteration(adjoint: bool) -> Tensor:
        v = torch.complex(torch.randn(n, 1, generator=gen, dtype=_DT),
                          torch.randn(n, 1, generator=gen, dtype=_DT)).to(A.device)
        for _ in range(3):
            v = torch.linalg.lu_solve(LU, piv, v, adjoint=adjoint)
            v = v / torch.linalg.vector_norm(v)
        return v[:, 0]

    q = inverse_iteration(False)
    omega = float((q.conj() @ (A.to(_CT) @ q)).imag)
    p = inverse_iteration(True)  # (A - i omega)^H = A^T + i omega
    p = p / torch.conj(torch.vdot(p, q))
    return q, p, omega


@one_thread()  # dense LU factorisations: the one-thread rule of neurobias.circuit.threads, scoped
def first_lyapunov_coefficient(dyn: Dynamics, x: Tensor, ext: Tensor, omega: float) -> float:
    """The first Lyapunov coefficient of a Hopf point.

    Parameters
    ----------
    dyn : Dynamics
        The circuit's vector field ``F`` (per ms).
    x : Tensor of shape (unit,)
        The fixed point at the Hopf point, state units.
    ext : Tensor of shape (unit,)
        The drive there (tonic input plus ``W_in u``), state units.
    omega : float
        The imaginary part of the critical pair of ``dF/dx`` (1/ms, positive).

    Returns
    -------
    float
        ``l1`` in 1 / (state units)^2: negative for a supercritical Hopf point (its small cycles attract
        within the centre manifold), positive for a subcritical one.  NaN for a transfer function without a
        third derivative (``relu``), or when the critical vectors or the solves leave a relative residual
        above ``RESIDUAL_MAX`` (for instance when ``omega`` is not an eigenvalue of ``dF/dx``).
    """
    if dyn.phi.name in NOT_SMOOTH or not (omega > 0 and math.isfinite(omega)):
        return math.nan
    x = x.to(_DT).reshape(-1)
    ext = ext.to(_DT).reshape(-1).to(x.device)
    n = x.shape[0]
    A = dyn.jacobian(x[None], ext[None])[0]
    try:
        q, p, omega = _critical_vectors(A, omega)
    except RuntimeError:  # a singular solve: the shift hit the eigenvalue exactly in floating point
        return math.nan
    scale = 1.0 + float(x.abs().max())
    e2, e3 = 1e-4 * scale, 1e-3 * scale  # Richardson-extrapolated below: errors O(e^4) and rounding

    def J(y: Tensor, v: Tensor) -> Tensor:  # dF/dx at states y (B, unit) times v (B, unit)
        return dyn.jvp(y, ext.expand_as(y), v)

    def B(u: Tensor, v: Tensor) -> Tensor:  # real directions: central differences at e2 and e2 / 2
        d = torch.tensor([e2, -e2, e2 / 2, -e2 / 2], dtype=_DT, device=x.device)[:, None]
        out = J(x + d * u, v.expand(4, n))
        return (4 * (out[2] - out[3]) / e2 - (out[0] - out[1]) / (2 * e2)) / 3

    def C(u: Tensor, v: Tensor, w: Tensor) -> Tensor:
        def at(e: float) -> Tensor:
            y = torch.stack([x + e * (u + v), x + e * (u - v), x - e * (u - v), x - e * (u + v)])
            out = J(y, w.expand(4, n))
            return (out[0] - out[1] - out[2] + out[3]) / (4 * e * e)
        return (4 * at(e3 / 2) - at(e3)) / 3

    def Bc(u: Tensor, v: Tensor) -> Tensor:  # complex bilinear extension
        ur, ui, vr, vi = u.real, u.imag, v.real, v.imag
        return torch.complex(B(ur, vr) - B(ui, vi), B(ur, vi) + B(ui, vr))

    a, b = q.real.contiguous(), q.imag.contiguous()
    c_qqqb = torch.complex(C(a, a, a) + C(a, b, b), C(a, a, b) + C(b, b, b))
    b_qqb = (B(a, a) + B(b, b)).to(_CT)
    b_qq = torch.complex(B(a, a) - B(b, b), 2 * B(a, b))
    Ac = A.to(_CT)
    eye = torch.eye(n, dtype=_CT, device=A.device)
    h11 = torch.linalg.solve(Ac, b_qqb)
    h20 = torch.linalg.solve(2j * omega * eye - Ac, b_qq)
    zero = torch.zeros_like(q)
    checks = (_relres(Ac - 1j * omega * eye, q, zero), _relres(Ac.T + 1j * omega * eye, p, zero),
              _relres(Ac, h11, b_qqb), _relres(2j * omega * eye - Ac, h20, b_qq))
    if not max(checks) <= RESIDUAL_MAX:
        return math.nan
    total = torch.vdot(p, c_qqqb) - 2 * torch.vdot(p, Bc(q, h11)) + torch.vdot(p, Bc(q.conj(), h20))
    value = float(total.real) / (2 * omega)
    return value if math.isfinite(value) else math.nan
