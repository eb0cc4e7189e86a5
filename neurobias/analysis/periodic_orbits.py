"""Periodic orbits (limit cycles) of a circuit: :func:`find_periodic_orbits` and :func:`continue_periodic_orbits`.

A periodic orbit of the flow ``dx/dt = F(x)`` (:func:`neurobias.circuit.dynamics.vector_field`,
time in ms) is a state ``x0`` and a period ``T > 0`` with ``phi_T(x0) = x0``, where
``phi_t`` is the flow map, and ``x0`` is not a fixed point.  It is found by
*shooting*: Newton's method on ``(x0, T)`` for ``phi_T(x0) - x0 = 0`` plus the
phase condition ``F(x_ref) . (x0 - x_ref) = 0`` (``x0`` on the plane through the
previous iterate orthogonal to the flow), seeded from a simulated trajectory of
each context whose periodicity is read from its crossings of a Poincare section.

The flow map and its derivatives are integrated with the classical fixed-step
Runge-Kutta scheme (RK4) in float64: ``steps`` steps per period, chosen so that a
step is at most ``tau / steps_per_tau``.  Differentiating RK4 is RK4 applied to
the variational equation ``dV/dt = J(x(t)) V`` (:func:`~neurobias.circuit.dynamics.jacobian_product`),
so the Newton matrix is the exact derivative of the discrete shooting map (with
fewer tangent vectors than units, GMRES below completes it with central
differences of the same map, accurate to about 1e-8 relative).

The monodromy matrix ``M = d phi_T / d x0`` of an ``N``-unit circuit costs ``N``
integrated tangent vectors.  With ``n_multipliers = k < N`` only a block of
``k`` vectors is integrated (the *Newton-Picard* method of Lust et al. 1998,
SIAM J. Sci. Comput. 19:1188): Newton in the subspace ``V`` that the block
spans, whose basis follows the leading multipliers by subspace iteration, and
a Picard (fixed-point) correction in its complement, where ``M`` contracts
strongly.  That step serves as the preconditioner of GMRES on the whole
shooting system, whose products with ``M`` are central differences of the flow
map (two trajectories each): the complement's part of ``M`` is not small where
``M`` is far from normal (a stable cycle's phase sensitivity), and the Picard
correction alone then converges only linearly.  The Floquet multipliers
reported are the eigenvalues of ``M`` (all of them when ``k = N``) or its Ritz
values on ``V`` (the ``k`` of largest modulus).  One multiplier is 1 (the direction of the flow along the orbit); the
orbit is *stable* when all others have modulus below 1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
import xarray as xr
from torch import Tensor

from neurobias.analysis.krylov import gmres
from neurobias.circuit.circuit import Circuit
from neurobias.circuit.threads import one_thread
from neurobias.circuit.dynamics import Dynamics
from neurobias.circuit.simulate import resolve_device, resolve_tonic
from neurobias.errors import InputError, check_number, describe_shape

__all__ = ["find_periodic_orbits", "continue_periodic_orbits", "oscillation_along_path"]

_DT = torch.float64
DEFINITION = ("periodic orbit: phi_T(x0) = x0 with T > 0 and F(x0) != 0 for the flow dx/dt = F(x), "
              "F = neurobias vector_field; integrated with fixed-step RK4")


# ----------------------------------------------------------------------------- the shooting map
@dataclass
class _Shooter:
    """Flow, flow map and its derivatives for one constant drive (``ext``) on one device."""

    W: Tensor
    ext: Tensor
    tau: float
    phi: str
    form: str
    dt_max: float  # longest RK4 step (ms)
    n_phase: int  # the orbit is sampled at n_phase equally spaced phases

    def __post_init__(self) -> None:
        self.dyn = Dynamics(W_rec=self.W, tau=self.tau, phi=self.phi, form=self.form)

    def f(self, x: Tensor) -> Tensor:
        return self.dyn.vector_field(x, self.ext)

    def jv(self, x: Tensor, V: Tensor) -> Tensor:
        return self.dyn.jacobian_product(x, self.ext, V)

    def f_ext(self, x: Tensor) -> Tensor:
        """``dF/d ext`` (diagonal), per ms."""
        return self.dyn.drive_sensitivity(x, self.ext)

    def steps_for(self, T: float) -> int:
        """RK4 steps over ``T``: a multiple of ``n_phase`` with a step of at most ``dt_max``."""
        per = max(1, math.ceil(T / (self.dt_max * self.n_phase)))
        return per * self.n_phase

    def integrate(self, x0: Tensor, T: float, *, V: Tensor | None = None, forcing: Tensor | None = None,
                  record: bool = False, steps: int | None = None) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """RK4 of ``x`` (and of tangent vectors ``V`` (N, k)) over ``T`` ms.

        ``forcing`` (unit,) adds an inhomogeneous column: the last column of ``V``
        then obeys ``dv/dt = J v + dF/d ext * forcing`` (the derivative of the flow
        map along a change ``forcing`` of the drive).  Returns ``x(T)``, ``V(T)``
        and, with ``record``, the states at the ``n_phase`` phases ``0, 1/n_phase, ...``
        (n_phase, unit).
        """
        m = self.steps_for(T) if steps is None else steps
        h = T / m
        x = x0.clone()
        every = m // self.n_phase
        samples = [] if record else None
        has_v = V is not None
        # where the drive enters linearly (the state is not the rate), dF/d ext is a constant: computed once
        const_forcing = self.f_ext(x0) * forcing if forcing is not None and not self.dyn.state_is_rate else None

        def rhs(xx: Tensor, vv: Tensor | None) -> tuple[Tensor, Tensor | None]:
            if not has_v:
                return self.f(xx), None
            fx, dv = self.dyn.field_and_jacobian_product(xx, self.ext, vv)
            if const_forcing is not None:
                dv[:, -1] += const_forcing
            elif forcing is not None:
                dv[:, -1] += self.f_ext(xx) * forcing
            return fx, dv

        v = V.clone() if has_v else None
        for k in range(m):
            if record and k % every == 0:
                samples.append(x)
            k1, l1 = rhs(x, v)
            k2, l2 = rhs(x + 0.5 * h * k1, v + 0.5 * h * l1 if has_v else None)
            k3, l3 = rhs(x + 0.5 * h * k2, v + 0.5 * h * l2 if has_v else None)
            k4, l4 = rhs(x + h * k3, v + h * l3 if has_v else None)
            x = x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
            if has_v:
                v = v + (h / 6.0) * (l1 + 2.0 * l2 + 2.0 * l3 + l4)
        return x, v, (torch.stack(samples) if record else None)


def _orth(A: Tensor) -> Tensor:
    q, _ = torch.linalg.qr(A)
    return q


@dataclass
class _Block:
    """What one block integration gives at ``(x0, T)``: the basis, ``M V``, ``dphi/ds`` and the end state."""

    V: Tensor  # (N, k) orthonormal
    MV: Tensor  # (N, k)
    phis: Tensor | None  # (N,) derivative of phi_T(x0) along the path (continuation only)

    @property
    def S(self) -> Tensor:
        return self.V.T @ self.MV


def _reduced_solve(
    blk: _Block, f1: Tensor, f_ref: Tensor, r: Tensor, w: Tensor, g_phase: float,
    arc: tuple[Tensor, float, float, float] | None,
) -> tuple[Tensor, float, float]:
    """One Newton-Picard correction ``(dx, dT, ds)``.

    Solves ``(M - I) dx + f1 dT + phis ds = -r``, ``f_ref . dx = -g_phase`` (and, with ``arc = (c_x, c_T,
    c_s, g_arc)``, ``c_x . dx + c_T dT + c_s ds = -g_arc``) with ``M`` exact on the basis ``V`` and on ``Q r``
    (``w = M Q r``), and ``Q M Q`` neglected (``Q = I - V V^T``).
    """
    V, MV = blk.V, blk.MV
    k = V.shape[1]
    S = V.T @ MV
    QMV = MV - V @ S

    def Q(v: Tensor) -> Tensor:
        return v - V @ (V.T @ v)

    Qr, Qf = Q(r), Q(f1)
    cols = [V.T @ f1]
    qcols = [Qf]
    if arc is not None:
        cols.append(V.T @ blk.phis)
        qcols.append(Q(blk.phis))
    m = k + len(cols)
    A = torch.zeros(m, m, dtype=V.dtype, device=V.device)
    b = torch.zeros(m, dtype=V.dtype, device=V.device)
    A[:k, :k] = S - torch.eye(k, dtype=V.dtype, device=V.device)
    for j, c in enumerate(cols):
        A[:k, k + j] = c
    b[:k] = -(V.T @ r) - (V.T @ w)
    # dq = Qr + QMV a + sum_j qcols[j] * extra_j
    rows = [(f_ref, 0.0, 0.0, g_phase)]
    if arc is not None:
        rows.append(arc)
    for i, (c, cT, cs, g) in enumerate(rows):
        A[k + i, :k] = c @ V + c @ QMV
        A[k + i, k] = c @ qcols[0] + cT
        if arc is not None:
            A[k + i, k + 1] = c @ qcols[1] + cs
        b[k + i] = -g - c @ Qr
    sol, info = torch.linalg.solve_ex(A, b)
    if int(info) != 0 or not bool(torch.isfinite(sol).all()):
        raise _Singular()
    a = sol[:k]
    dq = Qr + QMV @ a + qcols[0] * sol[k]
    ds = 0.0
    if arc is not None:
        dq = dq + qcols[1] * sol[k + 1]
        ds = float(sol[k + 1])
    return V @ a + dq, float(sol[k]), ds


class _Singular(Exception):
    pass


#: relative residual to which GMRES solves the shooting system of a Newton step (an inexact Newton method whose
#: forcing term bounds the linear part of each step's error by this factor) and of a tangent
NEWTON_RTOL = 1e-4
TANGENT_RTOL = 1e-8
#: a Newton iteration whose period leaves [T / PERIOD_JUMP, PERIOD_JUMP T] of its start fails
PERIOD_JUMP = 4.0
#: Krylov dimension of the preconditioned GMRES; the preconditioner leaves an error of low rank (below)
GMRES_RESTART = 12
#: relative residual above which GMRES is deemed to have failed (the step or tangent is then not used)
GMRES_FAIL = 1e-2


def _correction(
    sh: _Shooter, x0: Tensor, T: float, blk: _Block, f1: Tensor, f_ref: Tensor, r: Tensor, g_phase: float,
    arc: tuple[Tensor, float, float, float] | None, db: Tensor | None, *, rtol: float,
) -> tuple[Tensor, float, float]:
    """Solve the bordered shooting system at ``(x0, T)`` for ``(dx, dT, ds)``, to ``rtol`` relative residual.

    The system is the one :func:`_reduced_solve` approximates: ``(M - I) dx + f1 dT + phis ds = -r``,
    ``f_ref . dx = -g_phase`` and, with ``arc``, the arclength row; ``db`` (unit,) is the change of the drive
    per unit of ``s`` (with ``arc``).  With a basis of all ``N`` directions the block holds ``M`` itself and
    the reduced solve is exact.  Otherwise the reduced solve neglects the part of ``M`` that the basis misses,
    and that part is not small where the monodromy matrix is far from normal: on a stable cycle ``M`` is close
    to the rank-one projection onto the flow along the isochrons, whose norm (the phase sensitivity: about 9
    on a 700 ms cycle of the demo circuit) multiplies every error in the basis's direction, so that
    Newton-Picard steps converged linearly, by 0.1-0.15 per iteration, there.  The reduced solve is therefore
    used as the right preconditioner of GMRES on the whole system, whose products are central differences of
    the flow map at ``(x0, T, s)`` (two trajectories; also in ``s``, along ``db`` at the current ``s``, where
    the block's derivative is that of the point it was integrated at); the preconditioned operator differs
    from the identity by a matrix of low rank, so a few products give the step of Newton's method.
    """
    n = x0.shape[0]
    zero = torch.zeros_like(x0)
    if arc is not None and db is None:
        raise ValueError("the arclength row needs the change of the drive along s (db)")
    if blk.V.shape[1] >= n:
        return _reduced_solve(blk, f1, f_ref, r, zero, g_phase, arc)
    m = n + (2 if arc is not None else 1)

    def precondition(v: Tensor) -> Tensor:  # an approximate solution d of A d = v
        a = None if arc is None else (arc[0], arc[1], arc[2], -float(v[n + 1]))
        dx, dT, ds = _reduced_solve(blk, f1, f_ref, -v[:n], zero, -float(v[n]), a)
        out = v.new_empty(m)
        out[:n], out[n] = dx, dT
        if arc is not None:
            out[n + 1] = ds
        return out

    def apply(d: Tensor) -> Tensor:  # A d, with M and phis at (x0, T, s)
        dx, dT = d[:n], d[n]
        out = d.new_empty(m)
        out[n] = f_ref @ dx
        if arc is None:
            top = _monodromy_times(sh, x0, T, dx)
        else:
            ds = d[n + 1]
            top = _monodromy_times(sh, x0, T, dx, drive=ds * db)
            out[n + 1] = arc[0] @ dx + arc[1] * dT + arc[2] * ds
        out[:n] = top - dx + f1 * dT
        return out

    rhs = torch.cat([-r, torch.tensor([-g_phase] + ([-arc[3]] if arc is not None else []), dtype=r.dtype,
                                     device=r.device)])
    if not bool(torch.isfinite(rhs).all()):
        raise _Singular()
    if not bool((rhs != 0).any()):
        return zero, 0.0, 0.0
    res = gmres(lambda v, _sel: apply(precondition(v[0]))[None], rhs[None], rtol=rtol, restart=GMRES_RESTART,
                max_restarts=3)
    d = precondition(res.x[0])
    # a system GMRES cannot reduce (a nearly singular one, or products lost in the differences' noise) gives
    # no usable step: the caller treats it as a failed step
    if not bool(torch.isfinite(d).all()) or float(res.relres[0]) > GMRES_FAIL:
        raise _Singular()
    return d[:n], float(d[n]), float(d[n + 1]) if arc is not None else 0.0


def _monodromy_times(sh: _Shooter, x0: Tensor, T: float, v: Tensor, drive: Tensor | None = None) -> Tensor:
    """``M v`` (plus, with ``drive``, the flow map's derivative along that change of the drive) by a central
    difference of the flow map: two trajectories in one batch (cheaper than a tangent column); the step is
    1e-4 of the state scale, so the error is about 1e-8 of the result."""
    norm = math.sqrt(float(v.pow(2).sum()) + (0.0 if drive is None else float(drive.pow(2).sum())))
    if norm == 0.0:
        return torch.zeros_like(v)
    eps = 1e-4 * (1.0 + float(x0.abs().max()))
    d = (eps / norm) * v
    if drive is None:
        ends, _, _ = sh.integrate(torch.stack([x0 + d, x0 - d]), T)
    else:
        ext = sh.ext
        e = (eps / norm) * drive
        sh.ext = torch.stack([ext + e, ext - e])
        try:
            ends, _, _ = sh.integrate(torch.stack([x0 + d, x0 - d]), T)
        finally:
            sh.ext = ext
    return (ends[0] - ends[1]) * (norm / (2.0 * eps))


def _multipliers(blk: _Block) -> np.ndarray:
    """Eigenvalues (full ``M``) or Ritz values (on ``V``) of the monodromy, by decreasing modulus."""
    mu = torch.linalg.eigvals(blk.S).cpu().numpy()
    return mu[np.argsort(-np.abs(mu), kind="stable")]


def _rms_amplitude(samples: Tensor) -> float:
    """Root mean square over units of half the peak-to-peak excursion along the orbit (state units)."""
    half = 0.5 * (samples.amax(0) - samples.amin(0))
    return float(half.pow(2).mean().sqrt())


def _amplitude(samples: Tensor) -> float:
    """Half the largest peak-to-peak excursion over units along the orbit (state units)."""
    return float(0.5 * (samples.amax(0) - samples.amin(0)).max())


@dataclass
class _Solution:
    x0: Tensor
    T: float
    samples: Tensor
    multipliers: np.ndarray
    residual: float
    iterations: int
    blk: _Block


def _newton(
    sh: _Shooter, x0: Tensor, T: float, V0: Tensor, *, tol: float, max_newton: int,
    path: tuple[Callable[[float], Tensor], Callable[[float], Tensor], float] | None = None,
    arc: tuple[Tensor, float, float, Tensor] | None = None,
    final_block: bool = True,
) -> _Solution:
    """Newton-Picard shooting from ``(x0, T)``; with ``path``/``arc`` also the path parameter ``s`` moves.

    ``path = (ext_of_s, db_ds_of_s, s)``: the drive ``ext(s)``, its derivative (unit,) and the starting ``s``;
    ``arc = (c_x, c_T, c_s, y_pred)``: the pseudo-arclength row and the predicted ``(x0, T, s)``.
    Raises :class:`_NoConvergence` with a reason.
    """
    s = path[2] if path is not None else 0.0
    T_start = T
    blk: _Block | None = None
    V = V0
    prev_norm = math.inf
    for it in range(max_newton):
        if path is not None:
            sh.ext = path[0](s)
        fresh = blk is None
        if fresh:
            end, MV, _ = sh.integrate(x0, T, V=torch.cat([V, torch.zeros_like(x0)[:, None]], 1) if path else V,
                                      forcing=path[1](s) if path else None)
            phis = MV[:, -1].clone() if path else None
            MV = MV[:, :-1] if path else MV
            blk = _Block(V, MV, phis)
        else:
            end, _, _ = sh.integrate(x0, T)
        r = end - x0
        scale = 1.0 + float(x0.abs().max())
        g_arc = None
        if arc is not None:
            c_x, c_T, c_s, y_pred = arc
            g_arc = float(c_x @ (x0 - y_pred[:-2]) + c_T * (T - float(y_pred[-2])) + c_s * (s - float(y_pred[-1])))
        rnorm = float(r.abs().max())
        if rnorm <= tol * scale and (g_arc is None or abs(g_arc) <= 1e-12):
            break
        if not math.isfinite(rnorm) or rnorm > 1e6 * scale:
            raise _NoConvergence("the shooting residual diverged")
        f1 = sh.f(end)
        f_ref = sh.f(x0)
        try:
            dx, dT, ds = _correction(sh, x0, T, blk, f1, f_ref, r, 0.0,
                                     None if arc is None else (arc[0], arc[1], arc[2], g_arc),
                                     None if path is None else path[1](s), rtol=NEWTON_RTOL)
        except _Singular:
            raise _NoConvergence("the Newton system is singular") from None
        x0 = x0 + dx
        T = T + dT
        s = s + ds
        if not (T > 0 and math.isfinite(T)):
            raise _NoConvergence(f"the period left the positive numbers (T = {T:.3g} ms)")
        if not T_start / PERIOD_JUMP <= T <= PERIOD_JUMP * T_start:
            # Newton is lost (near a Hopf point the period is free on the fixed point); the next integration
            # would cost T / T_start times a normal one
            raise _NoConvergence(f"the period jumped from {T_start:.4g} ms to {T:.4g} ms")
        step = float(dx.abs().max()) + abs(dT) / max(T, 1e-12) * scale
        if step <= tol * scale and final_block:
            break  # the residual after so small a correction is measured by the final block integration
        # a slow contraction means the block is stale (chord steps): integrate a fresh one next time; on small
        # circuits a block costs about what a single trajectory does, so Newton always gets a fresh one
        if step > 0.25 * prev_norm or x0.shape[0] <= 64:
            V = _orth(blk.MV)
            blk = None
        prev_norm = step
    else:
        raise _NoConvergence(f"Newton did not reach max|phi_T(x0) - x0| <= {tol:g} (1 + max|x0|) "
                             f"in {max_newton} iterations (last {rnorm:.2e})")
    if path is not None:
        sh.ext = path[0](s)
    if final_block:
        V = _orth(blk.MV) if blk is not None else V
        if V.shape[1] < V.shape[0]:
            # keep the flow direction in the basis: it is an eigenvector of M (multiplier 1), so the Ritz values
            # contain the trivial multiplier exactly (up to the integration error)
            V = _orth(torch.cat([sh.f(x0)[:, None], V[:, :-1]], dim=1))
        if path is not None:
            end, MV, samples = sh.integrate(x0, T, V=torch.cat([V, torch.zeros_like(x0)[:, None]], 1),
                                            forcing=path[1](s), record=True)
            blk = _Block(V, MV[:, :-1], MV[:, -1].clone())
        else:
            end, MV, samples = sh.integrate(x0, T, V=V, record=True)
            blk = _Block(V, MV, None)
    else:
        end, _, samples = sh.integrate(x0, T, record=True)
    res = float((end - x0).abs().max())
    if res > 100 * tol * (1.0 + float(x0.abs().max())):
        raise _NoConvergence(f"Newton stalled: max|phi_T(x0) - x0| = {res:.2e} after the last correction")
    sol = _Solution(x0, T, samples, _multipliers(blk), res, it, blk)
    sol.s = s  # type: ignore[attr-defined]
    return sol


class _NoConvergence(Exception):
    pass


# ----------------------------------------------------------------------------- seeding from a simulation
def _seed(sh: _Shooter, x_init: Tensor, *, transient: float, duration: float, min_amplitude: float,
          period_guess: float | None) -> tuple[Tensor, float]:
    """A point near the cycle and its period, from a simulated trajectory (raises :class:`_NoConvergence`)."""
    dt = sh.tau / 2.0  # RK4 at tau / 2 is stable for the circuit's time scales; the seed only starts Newton
    x = x_init.clone()
    n_tr = max(1, math.ceil(transient / dt))
    x, _, _ = _run(sh, x, dt, n_tr, keep=False)
    n_rec = max(4, math.ceil(duration / dt))
    _, _, traj = _run(sh, x, dt, n_rec, keep=True)
    centred_t = traj - traj.mean(0)
    _, vecs = torch.linalg.eigh(centred_t.T @ centred_t)  # principal axes (torch: one thread, no BLAS pool)
    X = traj.cpu().numpy()
    centred = centred_t.cpu().numpy()
    proj = centred @ vecs[:, -1].cpu().numpy()
    p2p = float(proj.max() - proj.min())
    excursion = float((X.max(0) - X.min(0)).max())
    if excursion < min_amplitude * (1.0 + float(np.abs(X).max())):
        raise _FixedPoint(f"the simulated trajectory settles at a fixed point (largest excursion "
                          f"{excursion:.2e} over the last {duration:g} ms): no oscillation to follow",
                          traj[-1])
    level = 0.5 * (proj.max() + proj.min())
    up = np.nonzero((proj[:-1] < level) & (proj[1:] >= level))[0]
    if len(up) < 3:
        raise _NoConvergence(f"fewer than two full cycles in the last {duration:g} ms of simulation "
                             f"({len(up)} section crossings): not periodic, or a period longer than "
                             f"{duration / 2:g} ms (give a longer `duration`)")
    frac = (level - proj[up]) / (proj[up + 1] - proj[up])
    times = (up + frac) * dt
    periods = np.diff(times)
    T0 = float(np.median(periods))
    spread = float(np.max(np.abs(periods - T0)) / T0)
    k = up[-1]
    x_cross = X[k] + frac[-1] * (X[k + 1] - X[k])
    k_prev = up[-2]
    x_prev = X[k_prev] + frac[-2] * (X[k_prev + 1] - X[k_prev])
    miss = float(np.abs(x_cross - x_prev).max()) / max(excursion, 1e-300)
    if spread > 0.05 or miss > 0.1:
        raise _NoConvergence(f"the simulated trajectory is not periodic (section crossing intervals vary by "
                             f"{100 * spread:.1f} %, successive crossings differ by {100 * miss:.1f} % of the "
                             f"excursion): chaotic, quasi-periodic or not yet settled (longer `transient`?)")
    if period_guess is not None:
        T0 = float(period_guess)
    return torch.tensor(x_cross, dtype=_DT, device=x_init.device), T0


def _seed_or_nudge(sh: _Shooter, x_init: Tensor, *, transient: float, duration: float, min_amplitude: float,
                   period_guess: float | None, seed: int) -> tuple[Tensor, float]:
    """:func:`_seed`; when the trajectory rests at a point (e.g. it starts on an unstable fixed point), once more
    from that point moved by a small seeded random step (1e-3 of the state scale)."""
    try:
        return _seed(sh, x_init, transient=transient, duration=duration, min_amplitude=min_amplitude,
                     period_guess=period_guess)
    except _FixedPoint as exc:
        gen = torch.Generator().manual_seed(seed)
        kick = torch.randn(x_init.shape, generator=gen, dtype=_DT).to(x_init.device)
        x1 = exc.state + 1e-3 * (1.0 + float(exc.state.abs().max())) * kick / float(kick.abs().max())
        return _seed(sh, x1, transient=transient, duration=duration, min_amplitude=min_amplitude,
                     period_guess=period_guess)


class _FixedPoint(_NoConvergence):
    def __init__(self, message: str, state: Tensor) -> None:
        super().__init__(message)
        self.state = state


def _run(sh: _Shooter, x: Tensor, dt: float, n: int, *, keep: bool) -> tuple[Tensor, None, Tensor | None]:
    out = [] if keep else None
    for _ in range(n):
        k1 = sh.f(x)
        k2 = sh.f(x + 0.5 * dt * k1)
        k3 = sh.f(x + 0.5 * dt * k2)
        k4 = sh.f(x + dt * k3)
        x = x + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        if keep:
            out.append(x)
    return x, None, (torch.stack(out) if keep else None)


def _initial_basis(f0: Tensor, k: int, seed: int) -> Tensor:
    n = f0.shape[0]
    if k >= n:
        return torch.eye(n, dtype=f0.dtype, device=f0.device)
    gen = torch.Generator().manual_seed(seed)
    R = torch.randn(n, k, generator=gen, dtype=f0.dtype).to(f0.device)
    R[:, 0] = f0
    return _orth(R)


# ----------------------------------------------------------------------------- find
@one_thread()
def find_periodic_orbits(
    circuit: Circuit,
    tonic: Any,
    *,
    contexts: Any = None,
    inputs: Any = None,
    initial_states: Any = None,
    transient: float = 3000.0,
    duration: float = 4000.0,
    period_guess: Any = None,
    steps_per_tau: float = 5.0,
    n_phase: int = 100,
    n_multipliers: int | None = None,
    tol: float = 1e-10,
    max_newton: int = 20,
    min_amplitude: float = 1e-6,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = False,
) -> xr.Dataset:
    """Find the limit cycle of each context by Newton shooting, seeded from a simulated trajectory.

    For each context the circuit is simulated from ``initial_states`` (RK4,
    step ``tau / 4``) for ``transient`` ms, then ``duration`` ms more are
    recorded.  The periodicity is read from upward crossings of the mid level
    of the trajectory's first principal component (a Poincare section); the
    last crossing and the median crossing interval seed Newton-Picard shooting
    on ``(x0, T)`` with a phase condition (see the module notes).  A context
    whose trajectory settles at a fixed point, is not periodic, or whose Newton
    iteration fails is reported as not converged with a one-line ``reason``;
    no orbit is returned for it.

    Parameters
    ----------
    circuit : Circuit
    tonic : array_like of shape (context, unit) or (unit,), DataArray or Dataset
        Tonic inputs (a ``results.nc`` Dataset is accepted).
    contexts : sequence of str, optional
        Context names (selects from a labelled bank).
    inputs : array_like of shape (input,), optional
        Constant external input (default zero).
    initial_states : array_like of shape (unit,) or (context, unit), optional
        Where the seeding simulation starts (default: the zero state).
    transient, duration : float
        Simulated time discarded, then recorded, for the seed (ms).
    period_guess : float or array_like of shape (context,), optional
        Period (ms) to start Newton from instead of the simulated one.
    steps_per_tau : float
        RK4 steps per time constant at least (the step is ``<= tau / steps_per_tau``);
        the error of period and multipliers falls as the fourth power of the step.
    n_phase : int
        The orbit is returned at this many equally spaced phases.
    n_multipliers : int, optional
        Tangent vectors integrated (``k``): all ``N`` multipliers when ``k = N``
        (exact Newton), else the ``k`` of largest modulus (Newton-Picard steps,
        completed by GMRES; see the module notes).
        Default: ``N`` up to 64 units, 16 above.
    tol : float
        Newton tolerance: ``max |phi_T(x0) - x0| <= tol (1 + max |x0|)``.
    max_newton : int
        Newton iterations at most.
    min_amplitude : float
        A trajectory or orbit whose largest excursion is below
        ``min_amplitude (1 + max |x|)`` is a fixed point, not a cycle.
    seed : int
        Seed of the random start of the tangent basis (Newton-Picard).
    device : str or torch.device
        Where the integration runs; always float64.
    progress : bool
        Show a progress bar over contexts.

    Returns
    -------
    xarray.Dataset
        Dim ``orbit`` (one per context), ``phase``, ``unit``, ``multiplier``
        (and ``output`` when the circuit has a readout): ``context (orbit)``,
        ``converged (orbit)``, ``reason (orbit)`` (empty when converged),
        ``period (orbit)`` (ms), ``frequency (orbit)`` (Hz), ``amplitude (orbit)``
        (half the largest peak-to-peak excursion of a unit, state units),
        ``x (orbit, phase, unit)`` (the orbit at phases ``0, 1/n_phase, ...``,
        starting on the section), ``z (orbit, phase, output)`` (readout),
        ``multiplier_real``, ``multiplier_imag (orbit, multiplier)`` (Floquet
        multipliers by decreasing modulus, NaN-padded), ``trivial_multiplier_error
        (orbit)`` (distance of the nearest multiplier to 1), ``n_unstable (orbit)``
        (multipliers of modulus above 1, the trivial one excluded),
        ``stability (orbit)`` (``stable``, ``unstable`` or ``not converged``),
        ``residual (orbit)`` (``max |phi_T(x0) - x0|``), ``newton_iterations
        (orbit)``, ``tonic (orbit, unit)``.  Attributes: the settings,
        ``definition`` and ``integrator``.
    """
    if not isinstance(circuit, Circuit):
        raise InputError(f"`circuit` must be a neurobias Circuit; got {type(circuit).__name__}")
    n = circuit.n_units
    bank, names = resolve_tonic(tonic, n, contexts)
    n_ctx = bank.shape[0]
    transient = check_number("transient", transient, ge=0, units="ms")
    duration = check_number("duration", duration, gt=0, units="ms")
    steps_per_tau = check_number("steps_per_tau", steps_per_tau, gt=0)
    n_phase = check_number("n_phase", n_phase, gt=1, integer=True)
    tol = check_number("tol", tol, gt=0)
    max_newton = check_number("max_newton", max_newton, gt=0, integer=True)
    min_amplitude = check_number("min_amplitude", min_amplitude, gt=0)
    k = min(n, 64) if n <= 64 else 16
    if n_multipliers is not None:
        k = check_number("n_multipliers", n_multipliers, gt=0, integer=True)
        if k > n:
            raise InputError(f"`n_multipliers` must be at most the number of units ({n}); got {k}")
    guesses = _as_per_context("period_guess", period_guess, n_ctx)
    u = _resolve_input(circuit, inputs)
    x_init = _as_initial(initial_states, n_ctx, n)
    dev = resolve_device(device)
    W = torch.tensor(circuit.W_rec, dtype=_DT, device=dev)
    base = torch.tensor(circuit.W_in @ u, dtype=_DT, device=dev)
    results = []
    it = range(n_ctx)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc="periodic orbits", unit="context")
    for c in it:
        sh = _Shooter(W, base + torch.tensor(bank[c], dtype=_DT, device=dev), circuit.tau, circuit.phi,
                      circuit.form, circuit.tau / steps_per_tau, n_phase)
        try:
            x0, T0 = _seed_or_nudge(sh, torch.tensor(x_init[c], dtype=_DT, device=dev), transient=transient,
                                    duration=duration, min_amplitude=min_amplitude,
                                    period_guess=None if guesses is None else guesses[c], seed=seed + c)
            sol = _newton(sh, x0, T0, _initial_basis(sh.f(x0), k, seed), tol=tol, max_newton=max_newton)
            amp = _amplitude(sol.samples)
            if amp < min_amplitude * (1.0 + float(sol.samples.abs().max())):
                raise _NoConvergence("Newton converged onto a fixed point (the orbit has no extent), not a cycle")
            _check_minimal(sol)
            results.append((sol, ""))
        except _NoConvergence as exc:
            results.append((None, str(exc)))
    return _orbits_dataset(circuit, names, bank, results, k=k, n_phase=n_phase,
                           attrs=dict(transient=transient, duration=duration, steps_per_tau=steps_per_tau,
                                      tol=tol, n_multipliers=int(k), tau=circuit.tau, phi=circuit.phi,
                                      form=circuit.form, definition=DEFINITION,
                                      integrator="RK4, fixed step <= tau / steps_per_tau, float64",
                                      method="shooting with a Poincare phase condition: Newton steps solved by "
                                             "GMRES preconditioned by the Newton-Picard step (exact Newton with "
                                             "every tangent vector)"))


def _check_minimal(sol: _Solution) -> None:
    """Refuse a solution whose ``T`` is a multiple of the orbit's period (it closes earlier on the phase grid)."""
    X = sol.samples
    d = (X[1:] - X[0]).abs().amax(-1)
    extent = float((X.amax(0) - X.amin(0)).max())
    close = torch.nonzero(d <= 1e-6 * extent).flatten()
    if close.numel():
        frac = float(close[0] + 1) / X.shape[0]
        raise _NoConvergence(f"Newton converged to {1 / frac:.0f} turns of a cycle of period {sol.T * frac:.6g} ms "
                             f"(the period guess was far off); give a guess near the period")


def _as_per_context(name: str, value: Any, n_ctx: int) -> np.ndarray | None:
    if value is None:
        return None
    arr = np.broadcast_to(np.asarray(value, dtype=np.float64), (n_ctx,)) if np.ndim(value) == 0 else \
        np.asarray(value, dtype=np.float64)
    if arr.shape != (n_ctx,) or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise InputError(f"`{name}` must be a positive number or an array of shape (context,) = ({n_ctx},) of "
                         f"positive numbers (ms); got {value!r}")
    return arr


def _resolve_input(circuit: Circuit, inputs: Any) -> np.ndarray:
    u = np.zeros(circuit.n_inputs) if inputs is None else np.asarray(inputs, dtype=np.float64)
    if u.shape != (circuit.n_inputs,) or not np.all(np.isfinite(u)):
        raise InputError(f"`inputs` must be a finite array of shape (input,) = ({circuit.n_inputs},); "
                         f"got shape {describe_shape(np.shape(inputs))}")
    return u


def _as_initial(value: Any, n_ctx: int, n: int) -> np.ndarray:
    if value is None:
        return np.zeros((n_ctx, n))
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape == (n,):
        arr = np.broadcast_to(arr, (n_ctx, n))
    if arr.shape != (n_ctx, n) or not np.all(np.isfinite(arr)):
        raise InputError(f"`initial_states` must be finite, of shape (unit,) = ({n},) or (context, unit) = "
                         f"({n_ctx}, {n}); got {describe_shape(np.shape(value))}")
    return np.array(arr)


def _orbits_dataset(circuit: Circuit, names, bank, results, *, k: int, n_phase: int, attrs: dict) -> xr.Dataset:
    n = circuit.n_units
    n_orb = len(results)
    x = np.full((n_orb, n_phase, n), np.nan)
    period = np.full(n_orb, np.nan)
    amp = np.full(n_orb, np.nan)
    res = np.full(n_orb, np.nan)
    mre = np.full((n_orb, k), np.nan)
    mim = np.full((n_orb, k), np.nan)
    triv = np.full(n_orb, np.nan)
    n_unst = np.full(n_orb, -1, dtype=np.int64)
    iters = np.full(n_orb, -1, dtype=np.int64)
    stab = np.full(n_orb, "not converged", dtype=object)
    reasons = []
    for i, (sol, why) in enumerate(results):
        reasons.append(why)
        if sol is None:
            continue
        x[i] = sol.samples.cpu().numpy()
        period[i] = sol.T
        amp[i] = _amplitude(sol.samples)
        res[i] = sol.residual
        mu = sol.multipliers
        mre[i, : len(mu)], mim[i, : len(mu)] = mu.real, mu.imag
        j = int(np.argmin(np.abs(mu - 1.0)))
        triv[i] = abs(mu[j] - 1.0)
        others = np.delete(mu, j)
        n_unst[i] = int(np.sum(np.abs(others) > 1.0))
        stab[i] = "stable" if n_unst[i] == 0 else "unstable"
        iters[i] = sol.iterations
    data = {
        "context": (("orbit",), np.array(names, dtype=str).reshape(n_orb), {"long_name": "context of the orbit"}),
        "converged": (("orbit",), np.array([r[0] is not None for r in results], dtype=bool).reshape(n_orb),
                      {"long_name": "a periodic orbit was found"}),
        "reason": (("orbit",), np.array(reasons, dtype=str).reshape(n_orb),
                   {"long_name": "why no orbit was found (empty when converged)"}),
        "period": (("orbit",), period, {"long_name": "period of the orbit", "units": "ms"}),
        "frequency": (("orbit",), 1000.0 / period, {"long_name": "frequency of the orbit", "units": "Hz"}),
        "amplitude": (("orbit",), amp, {"long_name": "half the largest peak-to-peak excursion of a unit",
                                        "units": "state units"}),
        "x": (("orbit", "phase", "unit"), x, {"long_name": "state along the orbit at equally spaced phases",
                                             "units": "state units"}),
        "multiplier_real": (("orbit", "multiplier"), mre,
                            {"long_name": "Floquet multipliers by decreasing modulus, real part"}),
        "multiplier_imag": (("orbit", "multiplier"), mim,
                            {"long_name": "Floquet multipliers by decreasing modulus, imaginary part"}),
        "trivial_multiplier_error": (("orbit",), triv, {"long_name": "distance of the multiplier nearest 1 to 1"}),
        "n_unstable": (("orbit",), n_unst, {"long_name": "multipliers of modulus above 1, the trivial one "
                                                         "excluded (-1: no orbit)"}),
        "stability": (("orbit",), stab.astype(str), {"long_name": "stable, unstable or not converged"}),
        "residual": (("orbit",), res, {"long_name": "max |phi_T(x0) - x0|", "units": "state units"}),
        "newton_iterations": (("orbit",), iters, {"long_name": "Newton iterations used (-1: no orbit)"}),
        "tonic": (("orbit", "unit"), np.asarray(bank, dtype=np.float64), {"long_name": "tonic input of the context",
                                                                         "units": "state units"}),
    }
    if circuit.n_outputs:
        r = circuit.rates(x)
        z = r @ circuit.W_out.T + circuit.b_out
        data["z"] = (("orbit", "phase", "output"), z, {"long_name": "readout along the orbit"})
    coords = {"orbit": np.arange(n_orb), "phase": np.arange(n_phase) / n_phase, "unit": np.arange(n),
              "multiplier": np.arange(k)}
    if circuit.n_outputs:
        coords["output"] = list(circuit.output_names)
    ds = xr.Dataset(data, coords=coords, attrs=attrs)
    ds["phase"].attrs.update(long_name="phase of the orbit (fraction of the period from the section)")
    return ds


# ----------------------------------------------------------------------------- continuation
@one_thread()
def continue_periodic_orbits(
    circuit: Circuit,
    periodic_orbits: xr.Dataset,
    *,
    start: Any = None,
    end: Any = None,
    tonic: Any = None,
    path: Any = None,
    inputs: Any = None,
    steps: int = 400,
    h_init: float = 0.02,
    h_max: float = 0.25,
    h_min: float = 1e-7,
    tol: float = 1e-10,
    max_newton: int = 8,
    min_amplitude: float = 1e-2,
    steps_per_tau: float | None = None,
    n_multipliers: int | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = False,
) -> xr.Dataset:
    """Follow limit cycles along the path of tonic inputs between two contexts.

    The orbit of the start context (if one was found) is followed from ``s = 0``
    towards ``s = 1``, and the orbit of the end context from ``s = 1`` back
    towards ``s = 0``, by pseudo-arclength continuation in ``(x0, T, s)``
    (tangent predictor, shooting corrector as in :func:`find_periodic_orbits`
    with the phase condition and the arclength condition; the ``x0`` part of the arclength is the RMS change over
    units and the ``T`` part relative to the first period).  A branch ends when
    it reaches the other end of the path, or when the cycle shrinks onto a
    fixed point (amplitude below ``min_amplitude`` times its first amplitude):
    the cycle is born or dies there in a Hopf bifurcation, whose ``s`` is
    extrapolated from the last points (the squared amplitude is linear in ``s``
    near a Hopf point).  It also ends where its period diverges (grown to
    ``PERIOD_DIVERGES = 5`` times the first, still growing, and the
    extrapolation of where ``1 / T^2`` vanishes moving by less than
    ``DIVERGENCE_AGREE = 0.1`` times the branch's step in ``s``): the cycle meets a
    saddle-node of fixed points on itself (SNIC) or a saddle (homoclinic
    orbit); ``end_s`` is that extrapolation.
    Folds of cycles (``s`` turning back) and period doubling
    or torus (Neimark-Sacker) bifurcations of cycles (a multiplier leaving the
    unit circle at -1 or as a complex pair) are seen between two points and
    located by regula falsi on the arclength within the step (the tangent's
    ``s``-component, ``Re mu + 1`` or ``|mu| - 1`` brought below ``LOCATE_TOL``);
    the located point joins the branch with its label.  Where the location fails,
    the event keeps an ``s`` interpolated in the step and the step's end point
    carries the label.  A step whose tangent turns by more than about 26 degrees
    (``MIN_TURN_COSINE``) is halved: near a Hopf point the shooting system nears
    the fixed point, on which any period solves it.

    Parameters
    ----------
    circuit : Circuit
    periodic_orbits : xarray.Dataset
        Output of :func:`find_periodic_orbits` holding the start and/or end context.
    start, end, tonic, path, inputs
        The path of tonic inputs, as in :func:`neurobias.analysis.continue_fixed_points`.
        With ``start``/``end`` given as context names, the orbits of those contexts
        are followed; with vectors or a ``path``, orbits whose ``tonic`` equals the
        path's ends are.
    steps : int
        Continuation steps per branch at most (rejected steps count; located
        bifurcation points are added to the branch besides).
    h_init, h_max, h_min : float
        Initial, largest and smallest arclength step.
    tol : float
        Newton tolerance (as in :func:`find_periodic_orbits`).
    max_newton : int
        Newton iterations per step; a step that needs more is halved.
    min_amplitude : float
        Relative amplitude under which the cycle has shrunk onto a fixed point.
    steps_per_tau, n_multipliers : optional
        Default: the values ``periodic_orbits`` was found with.
    seed : int
        Seed of the random start of the tangent basis.
    device : str or torch.device
    progress : bool
        Show a progress bar over steps.

    Returns
    -------
    xarray.Dataset
        Dims ``(branch, step)``, NaN-padded after a branch ends: ``s``,
        ``period`` (ms), ``frequency`` (Hz), ``amplitude`` (state units),
        ``x0 (branch, step, unit)`` (the orbit's point on its section),
        ``n_unstable (branch, step)`` (non-trivial multipliers of modulus above 1
        among the leading ones), ``multiplier_real``, ``multiplier_imag
        (branch, step, multiplier)`` (leading multipliers, from the tangent block
        of the step), ``label (branch, step)`` (``start``, ``fold``,
        ``period_doubling``, ``torus``, ``end``, or empty); per branch:
        ``branch_context`` (whose orbit it follows), ``direction`` (+1: from
        ``s = 0``; -1: from ``s = 1``), ``n_points``, ``end_reason``
        (``reached_end``, ``hopf``, ``period_diverges``, ``max_steps``,
        ``step_too_small``), ``end_s`` (the path parameter where the branch
        ends: the extrapolated Hopf point for ``hopf``, where the period is
        extrapolated to diverge for ``period_diverges``, the last point followed
        for ``max_steps`` and ``step_too_small``), ``end_period`` (the period
        there, ms; for ``period_diverges`` the last period followed); per event
        (dim ``event``): ``event_branch``, ``event_kind``, ``event_s``,
        ``event_located`` (False: interpolated in its step, or extrapolated for
        ``hopf`` and ``period_diverges``).
        Attributes: ``start_label``, ``end_label`` and the settings.
    """
    from neurobias.analysis.continuation import _resolve_path  # same package: the path is resolved one way

    if not isinstance(circuit, Circuit):
        raise InputError(f"`circuit` must be a neurobias Circuit; got {type(circuit).__name__}")
    if not isinstance(periodic_orbits, xr.Dataset) or "x" not in periodic_orbits or "period" not in periodic_orbits:
        raise InputError("`periodic_orbits` must be the Dataset of find_periodic_orbits (variables x, period, "
                         "converged, tonic)")
    n = circuit.n_units
    for name, value in (("steps", steps), ("max_newton", max_newton)):
        check_number(name, value, gt=0, integer=True)
    for name, value in (("h_init", h_init), ("h_max", h_max), ("h_min", h_min), ("tol", tol),
                        ("min_amplitude", min_amplitude)):
        check_number(name, value, gt=0)
    knots, start_label, end_label = _resolve_path(circuit, start=start, end=end, tonic=tonic, path=path)
    u = _resolve_input(circuit, inputs)
    spt = float(periodic_orbits.attrs.get("steps_per_tau", 5.0)) if steps_per_tau is None else \
        check_number("steps_per_tau", steps_per_tau, gt=0)
    k = int(periodic_orbits.attrs.get("n_multipliers", min(n, 16))) if n_multipliers is None else \
        check_number("n_multipliers", n_multipliers, gt=0, integer=True)
    k = min(k, n)
    n_phase = periodic_orbits.sizes["phase"]
    dev = resolve_device(device)
    W = torch.tensor(circuit.W_rec, dtype=_DT, device=dev)
    base = torch.tensor(circuit.W_in @ u, dtype=_DT, device=dev)
    kn = torch.tensor(knots, dtype=_DT, device=dev)
    m = kn.shape[0] - 1

    def ext_of(s: float) -> Tensor:
        j = min(max(int(math.floor(s * m)), 0), m - 1)
        frac = s * m - j
        return base + kn[j] + frac * (kn[j + 1] - kn[j])

    def db_of(s: float) -> Tensor:
        j = min(max(int(math.floor(s * m)), 0), m - 1)
        return m * (kn[j + 1] - kn[j])

    conv = periodic_orbits["converged"].values.astype(bool)
    orb_tonic = periodic_orbits["tonic"].values
    ctx = periodic_orbits["context"].values.astype(str)
    seeds = []
    for s_end, label, direction in ((0.0, start_label, 1.0), (1.0, end_label, -1.0)):
        b = knots[0] if s_end == 0.0 else knots[-1]
        cand = [i for i in range(len(conv)) if conv[i] and (ctx[i] == label or np.allclose(orb_tonic[i], b,
                                                                                            rtol=0, atol=1e-12))]
        if cand:
            seeds.append((cand[0], s_end, direction, str(ctx[cand[0]])))
    branches = []
    for oi, s0, direction, cname in seeds:
        sh = _Shooter(W, ext_of(s0), circuit.tau, circuit.phi, circuit.form, circuit.tau / spt, n_phase)
        x0 = torch.tensor(periodic_orbits["x"].values[oi, 0], dtype=_DT, device=dev)
        T0 = float(periodic_orbits["period"].values[oi])
        branches.append(_follow(sh, x0, T0, s0, direction, ext_of, db_of, k=k, steps=steps, h_init=h_init,
                                h_max=h_max, h_min=h_min, tol=tol, max_newton=max_newton,
                                min_amplitude=min_amplitude, seed=seed, progress=progress, context=cname))
    return _branches_dataset(branches, n=n, k=k, attrs=dict(
        start_label=start_label, end_label=end_label, steps=int(steps), h_max=float(h_max), tol=float(tol),
        min_amplitude=float(min_amplitude), steps_per_tau=spt, n_multipliers=int(k), tau=circuit.tau,
        phi=circuit.phi, form=circuit.form, definition=DEFINITION,
        method="pseudo-arclength continuation in (x0, T, s), shooting corrector: Newton steps solved by GMRES "
               "preconditioned by the Newton-Picard step"))


def _follow(sh: _Shooter, x0: Tensor, T0: float, s0: float, direction: float, ext_of, db_of, *, k: int,
            steps: int, h_init: float, h_max: float, h_min: float, tol: float, max_newton: int,
            min_amplitude: float, seed: int, progress: bool, context: str) -> dict[str, Any]:
    n = x0.shape[0]
    rn = math.sqrt(n)
    sh.ext = ext_of(s0)
    sol = _newton(sh, x0, T0, _initial_basis(sh.f(x0), k, seed), tol=tol, max_newton=max_newton,
                  path=(ext_of, db_of, s0), final_block=True)
    T_scale = sol.T
    pts = [dict(x0=sol.x0, T=sol.T, s=s0, amp=_amplitude(sol.samples), mu=sol.multipliers)]
    labels = ["start"]
    amp0 = pts[0]["amp"]
    V = sol.blk.V
    # first tangent: direction of increasing (direction = +1) or decreasing s
    tan = _orbit_tangent(sh, sol, None, direction, rn, T_scale, db_of(s0))
    h = h_init
    diverging = _DivergingPeriod(T_scale)
    reason = "max_steps"
    events: list[tuple[str, float, bool]] = []  # (kind, s, located by the corrector)
    end_s, end_T = math.nan, math.nan
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc=f"cycles from {context}", unit="step")

    def corrected(cur: dict[str, Any], tan, h: float, V: Tensor, goal: float | None = None):
        """The point a predictor step of arclength ``h`` from ``cur`` along ``tan`` corrects to (to ``s = goal``
        exactly when given), and its tangent; raises :class:`_NoConvergence`."""
        tx, tT, ts = tan
        frac = 1.0 if goal is None else (goal - cur["s"]) / (h * ts)
        pred_x = cur["x0"] + frac * h * rn * tx
        pred_T = cur["T"] + frac * h * T_scale * tT
        pred_s = cur["s"] + frac * h * ts if goal is None else goal
        arc = (tx / rn, tT / T_scale, ts) if goal is None else (torch.zeros_like(tx), 0.0, 1.0)
        y_pred = torch.cat([pred_x, torch.tensor([pred_T, pred_s], dtype=_DT, device=pred_x.device)])
        new = _newton(sh, pred_x, pred_T, V, tol=tol, max_newton=max_newton, path=(ext_of, db_of, pred_s),
                      arc=(arc[0], arc[1], arc[2], y_pred), final_block=True)
        jump = math.sqrt(float(((new.x0 - pred_x) ** 2).sum()) / n + ((new.T - pred_T) / T_scale) ** 2
                         + (new.s - pred_s) ** 2)
        if jump > max(2 * h, 1e-3) or not (new.T > 0):
            raise _NoConvergence("jumped")
        tan_new = _orbit_tangent(sh, new, tan, direction, rn, T_scale, db_of(new.s))
        if _cosine(tan_new, tan) < MIN_TURN_COSINE:
            raise _NoConvergence("the tangent turned too far")
        return new, tan_new

    stepped = [pts[0]]  # the continuation's own points (located bifurcations left out): what extrapolations read
    rejected = False
    for _ in range(steps):
        cur = pts[-1]
        pred_s = cur["s"] + h * tan[2]
        landing = pred_s > 1.0 or pred_s < 0.0
        goal = (1.0 if pred_s > 1.0 else 0.0) if landing else None
        try:
            new, tan_new = corrected(cur, tan, h, V, goal=goal)
        except _NoConvergence:
            h *= 0.5
            rejected = True
            if h < h_min:
                reason = "step_too_small"
                break
            continue
        amp = _amplitude(new.samples)
        pt = dict(x0=new.x0, T=new.T, s=new.s, amp=amp, mu=new.multipliers)
        label = ""
        ts = tan[2]
        located: list[tuple[float, str, _Solution]] = []  # bifurcation points inside the step, by arclength

        # the arclength of the step (a step landing on s = 0 or 1 was shortened to land there)
        h_step = h if goal is None else (goal - cur["s"]) / tan[2]

        def locate(kind: str, f_a: float, f_b: float, test) -> float | None:
            found = _locate(lambda sig: corrected(cur, tan, sig, V), h_step, f_a, f_b, test)
            if found is None:
                return None
            located.append((found[0], kind, found[1]))
            return found[1].s

        if (tan_new[2] > 0) != (ts > 0):
            # a fold: where the tangent's s-component vanishes, between this point and the last
            s_ev = locate("fold", ts, tan_new[2], lambda sol, t: t[2])
            events.append(("fold", 0.5 * (cur["s"] + new.s) if s_ev is None else s_ev, s_ev is not None))
            label = label or ("fold" if s_ev is None else "")
        for kind, crossed, i, mu_new in _cycle_events(cur["mu"], new.multipliers):
            s_ev = locate(kind, _event_test(kind, cur["mu"][i]), _event_test(kind, mu_new),
                          lambda sol, t, i=i, kind=kind: _event_test(kind, _matched(cur["mu"], sol.multipliers)[i]))
            events.append((kind, cur["s"] + crossed * (new.s - cur["s"]) if s_ev is None else s_ev,
                           s_ev is not None))
            label = label or (kind if s_ev is None else "")
        # located bifurcation points join the branch (labelled), in their order along it
        for _sig, kind, sol in sorted(located, key=lambda t: t[0]):
            pts.append(dict(x0=sol.x0, T=sol.T, s=sol.s, amp=_amplitude(sol.samples), mu=sol.multipliers))
            labels.append(kind)
        V = new.blk.V
        pts.append(pt)
        stepped.append(pt)
        labels.append(label)
        tan = tan_new
        if bar is not None:
            bar.update(1)
        if landing:
            labels[-1] = "end"
            reason = "reached_end"
            end_s, end_T = new.s, new.T
            break
        if amp < min_amplitude * amp0:
            reason = "hopf"
            end_s, end_T = _extrapolate_hopf(stepped)
            labels[-1] = "end"
            events.append(("hopf", end_s, False))
            break
        s_inf = diverging.add(stepped)
        if s_inf is not None:
            reason = "period_diverges"
            end_s, end_T = s_inf, new.T
            labels[-1] = "end"
            events.append(("period_diverges", end_s, False))
            break
        # a step right after a rejected one is not lengthened (a step halved by the turn guard would otherwise
        # be doubled into the same rejection again)
        h = min(h * (2.0 if new.iterations <= 3 and not rejected else 1.0), h_max)
        rejected = False
        # approach a collapsing cycle in steps that shrink with the amplitude
        # (the step is an RMS change over units: a fraction of the RMS amplitude per step, so that the cycle
        # shrinks geometrically in a few steps, not by a fixed fraction of its largest unit's amplitude)
        h = min(h, max(h_min, 0.3 * _rms_amplitude(new.samples)))
    if bar is not None:
        bar.close()
    if reason in ("max_steps", "step_too_small"):  # the branch ends at its last point
        end_s, end_T = float(pts[-1]["s"]), float(pts[-1]["T"])
    return dict(points=pts, labels=labels, reason=reason, end_s=end_s, end_T=end_T, events=events,
                context=context, direction=direction)


def _orbit_tangent(sh: _Shooter, sol: _Solution, prev, direction: float, rn: float, T_scale: float,
                   db: Tensor):
    """Unit tangent ``(tx, tT, ts)`` of the cycle branch at ``sol``, in scaled coordinates (``x / sqrt(N)``, ``T / T_scale``).

    Solved by :func:`_correction` preconditioned by the solution's final block; ``db`` is the change of the drive
    per unit of ``s`` there; ``prev`` orients it (or, for the first point, ``direction``: the sign of ``ds``).
    """
    x0 = sol.x0
    f_ref = sh.f(x0)
    zero = torch.zeros_like(x0)
    if prev is None:
        c = (torch.zeros_like(x0), 0.0, 1.0)
        rhs = direction
    else:
        c = (prev[0] / rn, prev[1] / T_scale, prev[2])
        rhs = 1.0
    try:
        dx, dT, ds = _correction(sh, x0, sol.T, sol.blk, f_ref, f_ref, zero, 0.0, (c[0], c[1], c[2], -rhs),
                                 db, rtol=TANGENT_RTOL)
    except _Singular:
        raise _NoConvergence("singular tangent system") from None
    t = (dx / rn, dT / T_scale, ds)
    norm = math.sqrt(float((t[0] ** 2).sum()) + t[1] ** 2 + t[2] ** 2)
    return (t[0] / norm, t[1] / norm, t[2] / norm)


def _matched(mu_a: np.ndarray, mu_b: np.ndarray) -> np.ndarray:
    """The multipliers ``mu_b`` in the order of ``mu_a`` (matched by continuity; as many as both have)."""
    from neurobias.analysis.eigen_tracking import match_eigenvalues

    m = min(len(mu_a), len(mu_b))
    return match_eigenvalues(mu_a[:m], mu_b[:m])


def _cycle_events(mu_a: np.ndarray, mu_b: np.ndarray) -> list[tuple[str, float, int, complex]]:
    """Period doubling / torus bifurcations of a cycle between two steps: (kind, fraction of the step by linear
    interpolation of the test function, index of the multiplier in ``mu_a``, the multiplier it became)."""
    from neurobias.analysis.eigen_tracking import is_complex

    m = min(len(mu_a), len(mu_b))
    a = mu_a[:m]
    b = _matched(mu_a, mu_b)
    out = []
    ca, cb = is_complex(a, 1e-6), is_complex(b, 1e-6)
    for i in range(m):
        if abs(a[i] - 1) < 1e-4 or abs(b[i] - 1) < 1e-4:
            continue  # the trivial multiplier
        if not ca[i] and not cb[i] and (a[i].real < -1) != (b[i].real < -1):
            out.append(("period_doubling", float((-1 - a[i].real) / (b[i].real - a[i].real)), i, b[i]))
        elif ca[i] and cb[i] and a[i].imag > 0 and (abs(a[i]) > 1) != (abs(b[i]) > 1):
            out.append(("torus", float((1 - abs(a[i])) / (abs(b[i]) - abs(a[i]))), i, b[i]))
    return out


def _event_test(kind: str, mu: complex) -> float:
    """The test function of a bifurcation of cycles at one multiplier: ``Re mu + 1`` (period doubling, a real
    multiplier through -1) or ``|mu| - 1`` (torus, a complex pair through the unit circle)."""
    return float(mu.real + 1.0) if kind == "period_doubling" else float(abs(mu) - 1.0)


def _cosine(t1, t2) -> float:
    """Cosine of the angle between two unit tangents ``(tx, tT, ts)``."""
    return float((t1[0] * t2[0]).sum()) + t1[1] * t2[1] + t1[2] * t2[2]


#: a continuation step whose tangent turns by more than arccos(MIN_TURN_COSINE) (about 26 degrees) from the
#: last one is halved.  Near a Hopf point the shooting system approaches the fixed point, on which every period
#: solves it: there the computed tangent can swing onto that spurious family (seen on a cycle shrinking onto a
#: subcritical Hopf point, whose branch turned back through its own cycles and ended far from the Hopf point)
MIN_TURN_COSINE = 0.9
#: bifurcations of cycles are located by regula falsi (Illinois) on the arclength of the step they occur in,
#: each evaluation a corrector from the last point: at most this many evaluations, until the test function is
#: below LOCATE_TOL (the tangent's s-component for a fold; Re mu + 1 or |mu| - 1 for the others)
LOCATE_ITERATIONS = 12
LOCATE_TOL = 1e-10
#: a location is accepted when its test function is below LOCATE_ACCEPT times the larger of its values at the
#: step's two ends (on large circuits the tangent and the multipliers are only as accurate as their Krylov
#: solves, about 1e-8, so LOCATE_TOL may not be reached); otherwise the event keeps its interpolated s
LOCATE_ACCEPT = 1e-6


def _locate(correct: Callable[[float], Any], h: float, f_a: float, f_b: float,
            test: Callable[[Any, Any], float]) -> Any:
    """The corrected point where ``test`` changes sign within a continuation step of arclength ``h``.

    ``correct(sigma)`` gives ``(solution, tangent)`` at arclength ``sigma`` from the step's first point;
    ``f_a`` and ``f_b`` are the test at ``sigma = 0`` and ``h`` (opposite signs).  Regula falsi with the
    Illinois modification; returns ``(sigma, solution)`` of the evaluation with the smallest test value once it
    is below ``LOCATE_TOL``, or below ``LOCATE_ACCEPT`` times the larger end value when the evaluations run
    out or the bracket closes; None when a corrector fails, a test value is not finite, the signs do not
    differ or the location does not converge (the caller then keeps its interpolated estimate).
    """
    a, b, fa, fb = 0.0, h, f_a, f_b
    if not (math.isfinite(fa) and math.isfinite(fb)) or (fa > 0) == (fb > 0):
        return None
    accept = LOCATE_ACCEPT * max(abs(f_a), abs(f_b))
    side, best, f_best = 0, None, math.inf
    for _ in range(LOCATE_ITERATIONS):
        c = (a * fb - b * fa) / (fb - fa)
        try:
            sol, tan = correct(c)
            fc = test(sol, tan)
        except (_NoConvergence, IndexError):
            return None
        if not math.isfinite(fc):
            return None
        if abs(fc) < f_best:
            best, f_best = (c, sol), abs(fc)
        if abs(fc) <= LOCATE_TOL or b - a <= 1e-12 * h:
            break
        if (fc > 0) == (fb > 0):
            b, fb = c, fc
            if side == 1:
                fa *= 0.5
            side = 1
        else:
            a, fa = c, fc
            if side == -1:
                fb *= 0.5
            side = -1
    return best if f_best <= max(LOCATE_TOL, accept) else None


#: a branch whose period has grown to this multiple of its first one, and keeps growing, is watched for a
#: divergence of its period (a saddle-node on the invariant circle, or a homoclinic orbit)
PERIOD_DIVERGES = 5.0
#: the branch ends where the period diverges once the estimate of that s moves by less than this fraction of
#: the branch's own step in s (a period that grows fast without diverging, exponentially for instance, keeps
#: its estimate a fixed distance ahead, so that the estimate moves with the branch: a fraction near 1)
DIVERGENCE_AGREE = 0.1
#: on this many successive points
DIVERGENCE_SETTLED = 3


class _DivergingPeriod:
    """Where the period of a cycle branch diverges, once the branch has shown it (see :meth:`add`).

    Near a saddle-node on the invariant circle the period grows as ``A (s_c - s)^(-1/2) + B``, so that
    ``1 / T^2`` is, once ``T`` is large against ``B``, linear in ``s`` and vanishes at ``s_c``: a quadratic in
    ``1 / T^2`` through the last three points estimates ``s_c``.  The estimate is good to about 1e-5 in ``s``
    on 2-unit circuits, and to a few 1e-3 where the branch ends while ``B`` is still a third of ``T``; for a
    homoclinic orbit, where the period grows only logarithmically, it is rougher.  A period that grows fast
    without diverging also extrapolates to some ``s_c``, but its estimate moves on with the branch; a true
    divergence is accepted only when the estimate moves by less than :data:`DIVERGENCE_AGREE` times the
    branch's last step in ``s``, on :data:`DIVERGENCE_SETTLED` successive points.
    """

    def __init__(self, T_first: float) -> None:
        self.T_first = T_first
        self.previous: float | None = None
        self.settled = 0  # successive points whose estimate moved by less than the bound

    def add(self, pts: list[dict[str, Any]]) -> float | None:
        """The estimate of ``s_c`` after the newest point of ``pts``, or None while the divergence is not shown.

        It is shown when the last period is at least :data:`PERIOD_DIVERGES` times the first, the last three
        periods grow with ``s`` moving one way, ``s_c`` lies ahead of the last point within the path
        ``[0, 1]``, and it has moved from the previous point's estimate by less than
        :data:`DIVERGENCE_AGREE` times the last step in ``s`` on :data:`DIVERGENCE_SETTLED` successive points.
        """
        estimate = self._estimate(pts)
        previous, self.previous = self.previous, estimate
        if estimate is None or previous is None:
            self.settled = 0
            return None
        step = abs(float(pts[-1]["s"]) - float(pts[-2]["s"]))
        self.settled = self.settled + 1 if abs(estimate - previous) <= DIVERGENCE_AGREE * step else 0
        return estimate if self.settled >= DIVERGENCE_SETTLED else None

    def _estimate(self, pts: list[dict[str, Any]]) -> float | None:
        if len(pts) < 4 or pts[-1]["T"] < PERIOD_DIVERGES * self.T_first:
            return None
        last = pts[-3:]
        T = np.array([p["T"] for p in last])
        s = np.array([p["s"] for p in last])
        if not (np.all(np.diff(T) > 0) and (np.all(np.diff(s) > 0) or np.all(np.diff(s) < 0))):
            return None
        s_c = float(np.polyval(np.polyfit(1.0 / T ** 2, s, 2), 0.0))
        ahead = (s_c - s[-1]) * (s[-1] - s[0])
        return s_c if ahead > 0 and 0.0 <= s_c <= 1.0 else None


def _extrapolate_hopf(pts: list[dict[str, Any]]) -> tuple[float, float]:
    """Where the squared amplitude reaches zero, and the period there, from the last three points.

    Near a Hopf point ``A^2`` and ``T`` are smooth functions of ``s`` (the cycle
    branch is a parabola ``s - s_H ~ A^2``); a quadratic in ``A^2`` through the
    last three points gives ``s`` and ``T`` at ``A = 0``.
    """
    last = pts[-3:]
    a2 = np.array([p["amp"] ** 2 for p in last])
    s = np.array([p["s"] for p in last])
    T = np.array([p["T"] for p in last])
    deg = len(last) - 1
    return float(np.polyval(np.polyfit(a2, s, deg), 0.0)), float(np.polyval(np.polyfit(a2, T, deg), 0.0))


def _branches_dataset(branches: list[dict[str, Any]], *, n: int, k: int, attrs: dict) -> xr.Dataset:
    nb = len(branches)
    n_step = max((len(b["points"]) for b in branches), default=0)
    s = np.full((nb, n_step), np.nan)
    T = np.full((nb, n_step), np.nan)
    amp = np.full((nb, n_step), np.nan)
    x0 = np.full((nb, n_step, n), np.nan)
    mre = np.full((nb, n_step, k), np.nan)
    mim = np.full((nb, n_step, k), np.nan)
    n_unst = np.full((nb, n_step), -1, dtype=np.int64)
    lab = np.full((nb, n_step), "", dtype=object)
    ev_b, ev_k, ev_s, ev_loc = [], [], [], []
    for i, b in enumerate(branches):
        for j, p in enumerate(b["points"]):
            s[i, j], T[i, j], amp[i, j] = p["s"], p["T"], p["amp"]
            x0[i, j] = p["x0"].cpu().numpy()
            mu = p["mu"][:k]
            mre[i, j, : len(mu)], mim[i, j, : len(mu)] = mu.real, mu.imag
            jt = int(np.argmin(np.abs(mu - 1.0)))
            n_unst[i, j] = int(np.sum(np.abs(np.delete(mu, jt)) > 1.0))
            lab[i, j] = b["labels"][j]
        for kind, s_ev, located in b["events"]:
            ev_b.append(i)
            ev_k.append(kind)
            ev_s.append(s_ev)
            ev_loc.append(located)
    ne = len(ev_b)
    ds = xr.Dataset(
        {
            "s": (("branch", "step"), s, {"long_name": "path parameter: b(s) = tonic input at s"}),
            "period": (("branch", "step"), T, {"long_name": "period of the cycle", "units": "ms"}),
            "frequency": (("branch", "step"), 1000.0 / T, {"long_name": "frequency of the cycle", "units": "Hz"}),
            "amplitude": (("branch", "step"), amp, {"long_name": "half the largest peak-to-peak excursion of a unit",
                                                    "units": "state units"}),
            "x0": (("branch", "step", "unit"), x0, {"long_name": "point of the cycle on its section",
                                                   "units": "state units"}),
            "multiplier_real": (("branch", "step", "multiplier"), mre,
                                {"long_name": "leading Floquet multipliers, real part"}),
            "multiplier_imag": (("branch", "step", "multiplier"), mim,
                                {"long_name": "leading Floquet multipliers, imaginary part"}),
            "n_unstable": (("branch", "step"), n_unst,
                           {"long_name": "non-trivial multipliers of modulus above 1 (-1: no point)"}),
            "label": (("branch", "step"), lab.astype(str),
                      {"long_name": "start, fold, period_doubling, torus, end or empty"}),
            "branch_context": (("branch",), np.array([b["context"] for b in branches], dtype=str).reshape(nb),
                               {"long_name": "context whose cycle the branch starts from"}),
            "direction": (("branch",), np.array([b["direction"] for b in branches], dtype=np.float64).reshape(nb),
                          {"long_name": "+1: followed from s = 0; -1: from s = 1"}),
            "n_points": (("branch",), np.array([len(b["points"]) for b in branches], dtype=np.int64).reshape(nb),
                         {"long_name": "points on the branch"}),
            "end_reason": (("branch",), np.array([b["reason"] for b in branches], dtype=str).reshape(nb),
                           {"long_name": "reached_end, hopf, period_diverges, max_steps or step_too_small"}),
            "end_s": (("branch",), np.array([b["end_s"] for b in branches], dtype=np.float64).reshape(nb),
                      {"long_name": "path parameter where the branch ends (extrapolated Hopf point for hopf, "
                                    "where the period diverges for period_diverges)"}),
            "end_period": (("branch",), np.array([b["end_T"] for b in branches], dtype=np.float64).reshape(nb),
                           {"long_name": "period where the branch ends", "units": "ms"}),
            "event_branch": (("event",), np.array(ev_b, dtype=np.int64).reshape(ne), {"long_name": "branch"}),
            "event_kind": (("event",), np.array(ev_k, dtype=str).reshape(ne),
                           {"long_name": "fold, period_doubling, torus, hopf or period_diverges"}),
            "event_s": (("event",), np.array(ev_s, dtype=np.float64).reshape(ne),
                        {"long_name": "path parameter of the event"}),
            "event_located": (("event",), np.array(ev_loc, dtype=bool).reshape(ne),
                              {"long_name": "whether event_s was located by the corrector (fold: the tangent's "
                                            "s-component vanishes; period_doubling, torus: the multiplier on the "
                                            "unit circle) rather than interpolated or extrapolated"}),
        },
        coords={"branch": np.arange(nb), "step": np.arange(n_step), "unit": np.arange(n),
                "multiplier": np.arange(k), "event": ("event", np.arange(ne), {"long_name": "event index"})},
        attrs=attrs,
    )
    return ds


# ----------------------------------------------------------------------------- what the path means
#: two bifurcations of cycles of one kind (or two stretches of coexistence) this close in s, met by the branches
#: from the two ends, are one
SAME_EVENT = 1e-6


def _columns(rows: list[tuple], dim: str, specs: dict[str, tuple[int, Any, dict[str, str]]]) -> dict[str, Any]:
    """Dataset variables along ``dim`` from the fields of ``rows``: ``name -> (field index, dtype, attrs)``."""
    n = len(rows)
    return {name: ((dim,), np.array([r[i] for r in rows], dtype=dtype).reshape(n), attrs)
            for name, (i, dtype, attrs) in specs.items()}


def _stable_runs(S: np.ndarray, stable: np.ndarray, edges: np.ndarray) -> list[tuple[float, float]]:
    """The intervals of ``s`` covered by runs of stable points of continuation branches.

    ``S`` and ``stable`` are (branch, step) (NaN-padded ``S``); a run is a maximal sequence of consecutive
    stable points, and its interval reaches on to the next point on either side when that point is a
    bifurcation (its ``s`` in ``edges``, located there), where stability is lost exactly.
    """
    out = []
    for b in range(S.shape[0]):
        ok = np.isfinite(S[b])
        s_b, st = S[b][ok], stable[b][ok]
        j = 0
        while j < len(s_b):
            if not st[j]:
                j += 1
                continue
            k = j
            while k + 1 < len(s_b) and st[k + 1]:
                k += 1
            run = list(s_b[j:k + 1])
            for nb_j in (j - 1, k + 1):
                if 0 <= nb_j < len(s_b) and len(edges) and np.min(np.abs(edges - s_b[nb_j])) <= 1e-12:
                    run.append(s_b[nb_j])
            out.append((float(min(run)), float(max(run))))
            j = k + 1
    return out


def oscillation_along_path(continuation: xr.Dataset, cycles: xr.Dataset | None, circuit: Circuit | None = None,
                           *, n_settle: int = 4) -> xr.Dataset:
    """Where along a path of tonic inputs the circuit oscillates, and where it settles, from two continuations.

    The cycle branches of :func:`continue_periodic_orbits` cover intervals of the
    path parameter ``s`` (from the end context they start at to where they end);
    where no branch covers ``s`` the circuit has no cycle that was followed, and
    the stable fixed points of :func:`neurobias.analysis.continue_fixed_points`
    there are where it settles.  Each cycle branch that ends in a Hopf point is
    paired with the nearest Hopf point of the fixed-point continuation.

    Parameters
    ----------
    continuation : xarray.Dataset
        Output of :func:`neurobias.analysis.continue_fixed_points` (flow stability).
    cycles : xarray.Dataset or None
        Output of :func:`continue_periodic_orbits` on the same path, or None when
        no end of the path has a cycle.
    circuit : Circuit, optional
        Gives the readout of the stable fixed points (variable ``settle_z``).
    n_settle : int
        Stable fixed points counted per interval without oscillation at most
        (one per branch, those nearest the middle of the interval first).

    Returns
    -------
    xarray.Dataset
        Per interval of ``s`` (dim ``interval``, ordered by ``s``): ``interval_kind``
        (``oscillates`` or ``settles``), ``s_low``, ``s_high``, ``interval_context``
        (the context whose cycle covers it; empty for ``settles``),
        ``frequency_low``, ``frequency_high`` (Hz; the frequency range of the
        cycle over the interval, NaN for ``settles``), ``settle_s`` (the middle of
        a ``settles`` interval, moved to the nearest continuation step with a
        stable fixed point), ``settle_n_stable`` (stable fixed points found there,
        one per branch, at most ``n_settle``), ``settle_x (interval, unit)`` (the
        one nearest the middle), ``settle_z
        (interval, output)`` (its readout, with ``circuit``).  Per cycle branch
        (dim ``branch``): ``cycle_context``, ``cycle_end_s`` (where the branch ends; Hopf points are
        extrapolated), ``cycle_end_reason``, ``hopf_s`` (for a branch that ends at a
        Hopf point, the nearest Hopf point of the fixed-point continuation; NaN otherwise) and ``hopf_difference``
        (``cycle_end_s - hopf_s``), ``fold_s`` and ``fold_difference`` (the same with the nearest fold of the
        fixed points, for a branch whose period diverges: at a saddle-node on the invariant circle the two
        meet).  Per bifurcation of cycles on a branch (dim ``cycle_event``; folds of cycles, period doubling,
        torus): ``cycle_event_branch``, ``cycle_event_kind``, ``cycle_event_s``, ``cycle_event_located``.  Per
        stretch of ``s`` where a stable cycle of a branch and a stable fixed point of the fixed-point
        continuation coexist (dim ``coexistence``; bistability, so that where the circuit settles depends on
        where it starts): ``coexist_branch``, ``coexist_low``, ``coexist_high``; the stretches end at points
        of the branches (located bifurcations included), so they are as precise as the continuations.
        Attributes ``start_label``, ``end_label``.
    """
    if not isinstance(continuation, xr.Dataset) or "s" not in continuation or "index" not in continuation:
        raise InputError("`continuation` must be the Dataset of continue_fixed_points (variables s, x, index)")
    if cycles is not None and (not isinstance(cycles, xr.Dataset) or "end_s" not in cycles):
        raise InputError("`cycles` must be the Dataset of continue_periodic_orbits (variables s, frequency, end_s) "
                         "or None")
    n_settle = check_number("n_settle", n_settle, gt=0, integer=True)
    kinds = continuation["bif_kind"].values.astype(str) if "bif_kind" in continuation else np.array([], str)
    hopf = np.sort(continuation["bif_s"].values[kinds == "hopf"]) if len(kinds) else np.array([])
    folds = np.sort(continuation["bif_s"].values[kinds == "fold"]) if len(kinds) else np.array([])
    covered: list[tuple[float, float, str, float, float]] = []
    br_end, br_reason, br_hopf, br_fold, br_ctx = [], [], [], [], []
    nb = cycles.sizes["branch"] if cycles is not None else 0
    for b in range(nb):
        s = cycles["s"].values[b]
        ok = np.isfinite(s)
        f = cycles["frequency"].values[b][ok]
        s = s[ok]
        end_s = float(cycles["end_s"].values[b])
        reason = str(cycles["end_reason"].values[b])
        lo, hi = float(np.min(s)), float(np.max(s))
        if reason in ("hopf", "period_diverges") and np.isfinite(end_s):
            lo, hi = min(lo, end_s), max(hi, end_s)
        ctx = str(cycles["branch_context"].values[b]) if "branch_context" in cycles else f"branch {b}"
        covered.append((lo, hi, ctx, float(np.min(f)), float(np.max(f))))
        br_ctx.append(ctx)
        br_end.append(end_s)
        br_reason.append(reason)
        br_hopf.append(float(hopf[np.argmin(np.abs(hopf - end_s))])
                       if reason == "hopf" and len(hopf) and np.isfinite(end_s) else math.nan)
        br_fold.append(float(folds[np.argmin(np.abs(folds - end_s))])
                       if reason == "period_diverges" and len(folds) and np.isfinite(end_s) else math.nan)
    covered.sort(key=lambda t: t[0])
    # bifurcations of the cycles on the way, and where a stable cycle and a stable fixed point coexist
    ev_rows: list[tuple[int, str, float, bool]] = []
    coexist: list[tuple[int, float, float]] = []
    if nb:
        ev_kind = cycles["event_kind"].values.astype(str)
        ev_located = (cycles["event_located"].values.astype(bool) if "event_located" in cycles
                      else np.zeros(len(ev_kind), dtype=bool))
        # located events first, so that the same bifurcation met by the branches from both ends (they follow
        # one family of cycles) is listed once, located where it was
        for e in sorted(range(len(ev_kind)), key=lambda e: (not ev_located[e], float(cycles["event_s"].values[e]))):
            s_e = float(cycles["event_s"].values[e])
            if ev_kind[e] in ("fold", "period_doubling", "torus") and not any(
                    r[1] == ev_kind[e] and abs(r[2] - s_e) <= SAME_EVENT for r in ev_rows):
                ev_rows.append((int(cycles["event_branch"].values[e]), str(ev_kind[e]), s_e, bool(ev_located[e])))
        ev_rows.sort(key=lambda r: r[2])
        fp_bif = continuation["bif_s"].values if "bif_s" in continuation else np.array([])
        fp_runs = _stable_runs(continuation["s"].values, continuation["index"].values == 0, fp_bif)
        for b in range(nb):
            located_s = [r[2] for r in ev_rows if r[0] == b and r[3]]
            s_b = cycles["s"].values[b:b + 1]
            cyc_runs = _stable_runs(s_b, cycles["n_unstable"].values[b:b + 1] == 0, np.array(located_s))
            both = sorted((max(lo_c, lo_f), min(hi_c, hi_f)) for lo_c, hi_c in cyc_runs for lo_f, hi_f in fp_runs
                          if min(hi_c, hi_f) > max(lo_c, lo_f))
            merged: list[list[float]] = []
            for lo, hi in both:  # several stable fixed points may overlap one stable stretch of the cycle
                if merged and lo <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], hi)
                else:
                    merged.append([lo, hi])
            coexist += [(b, lo, hi) for lo, hi in merged
                        if not any(abs(lo - c[1]) <= SAME_EVENT and abs(hi - c[2]) <= SAME_EVENT for c in coexist)]
    # the complement of the covered intervals in [0, 1]
    gaps, edge = [], 0.0
    for lo, hi, *_ in covered:
        if lo > edge:
            gaps.append((edge, lo))
        edge = max(edge, hi)
    if edge < 1.0:
        gaps.append((edge, 1.0))
    rows = [("oscillates", lo, hi, ctx, f0, f1) for lo, hi, ctx, f0, f1 in covered]
    rows += [("settles", lo, hi, "", math.nan, math.nan) for lo, hi in gaps]
    rows.sort(key=lambda r: (r[1], r[2]))
    n = continuation.sizes["unit"]
    n_out = circuit.n_outputs if circuit is not None else 0
    settle_s = np.full(len(rows), np.nan)
    settle_n = np.zeros(len(rows), dtype=np.int64)
    settle_x = np.full((len(rows), n), np.nan)
    settle_z = np.full((len(rows), n_out), np.nan)
    S, X, index = continuation["s"].values, continuation["x"].values, continuation["index"].values
    for i, (kind, lo, hi, *_) in enumerate(rows):
        if kind != "settles":
            continue
        mid = 0.5 * (lo + hi)
        settle_s[i] = mid
        found = []
        for b in range(S.shape[0]):
            ok = np.isfinite(S[b]) & (S[b] >= lo) & (S[b] <= hi) & (index[b] == 0)
            if ok.any():
                j = np.nonzero(ok)[0][np.argmin(np.abs(S[b][ok] - mid))]
                found.append((S[b, j], X[b, j]))
        found.sort(key=lambda t: abs(t[0] - mid))
        found = found[:n_settle] if found else found
        settle_n[i] = len(found)
        if found:
            settle_s[i] = found[0][0]
            found = [x for _, x in found]
            settle_x[i] = found[0]
            if circuit is not None and n_out:
                settle_z[i] = circuit.rates(found[0]) @ circuit.W_out.T + circuit.b_out
    n_int = len(rows)
    data = _columns(rows, "interval", {
        "interval_kind": (0, str, {"long_name": "oscillates (a followed cycle exists) or settles (no cycle followed)"}),
        "s_low": (1, np.float64, {"long_name": "path parameter where the interval starts"}),
        "s_high": (2, np.float64, {"long_name": "path parameter where the interval ends"}),
        "interval_context": (3, str, {"long_name": "context whose cycle covers the interval (empty: none)"}),
        "frequency_low": (4, np.float64, {"long_name": "lowest frequency of the cycle over the interval",
                                          "units": "Hz"}),
        "frequency_high": (5, np.float64, {"long_name": "highest frequency of the cycle over the interval",
                                           "units": "Hz"}),
    })
    data.update({
        "settle_s": (("interval",), settle_s, {"long_name": "continuation step nearest the middle of an interval "
                                                           "without oscillation"}),
        "settle_n_stable": (("interval",), settle_n,
                            {"long_name": "stable fixed points on the followed branches at settle_s"}),
        "settle_x": (("interval", "unit"), settle_x, {"long_name": "a stable fixed point at settle_s",
                                                       "units": "state units"}),
        "settle_z": (("interval", "output"), settle_z, {"long_name": "readout of the stable fixed point"}),
        "cycle_context": (("branch",), np.array(br_ctx, dtype=str).reshape(nb),
                          {"long_name": "context whose cycle the branch follows"}),
        "cycle_end_s": (("branch",), np.array(br_end, dtype=np.float64).reshape(nb),
                        {"long_name": "path parameter where the cycle branch ends"}),
        "cycle_end_reason": (("branch",), np.array(br_reason, dtype=str).reshape(nb),
                             {"long_name": "why the cycle branch ends"}),
        "hopf_s": (("branch",), np.array(br_hopf, dtype=np.float64).reshape(nb),
                   {"long_name": "nearest Hopf point of the fixed-point continuation to a cycle branch's end at one "
                                 "(NaN for other ends)"}),
        "hopf_difference": (("branch",), np.array(br_end, dtype=np.float64).reshape(nb)
                            - np.array(br_hopf, dtype=np.float64).reshape(nb),
                            {"long_name": "cycle_end_s - hopf_s"}),
        "fold_s": (("branch",), np.array(br_fold, dtype=np.float64).reshape(nb),
                   {"long_name": "nearest fold of the fixed-point continuation to where a cycle branch's period "
                                 "diverges (NaN for other ends)"}),
        "fold_difference": (("branch",), np.array(br_end, dtype=np.float64).reshape(nb)
                            - np.array(br_fold, dtype=np.float64).reshape(nb),
                            {"long_name": "cycle_end_s - fold_s"}),
    })
    data.update(_columns(ev_rows, "cycle_event", {
        "cycle_event_branch": (0, np.int64, {"long_name": "cycle branch of a bifurcation of cycles"}),
        "cycle_event_kind": (1, str, {"long_name": "fold (of cycles), period_doubling or torus"}),
        "cycle_event_s": (2, np.float64, {"long_name": "path parameter of the bifurcation of cycles"}),
        "cycle_event_located": (3, bool, {"long_name": "whether cycle_event_s was located (else interpolated in its "
                                                       "step)"}),
    }))
    data.update(_columns(coexist, "coexistence", {
        "coexist_branch": (0, np.int64, {"long_name": "cycle branch whose stable cycle coexists with a stable fixed "
                                                      "point"}),
        "coexist_low": (1, np.float64, {"long_name": "path parameter where the coexistence starts"}),
        "coexist_high": (2, np.float64, {"long_name": "path parameter where the coexistence ends"}),
    }))
    ne, nc = len(ev_rows), len(coexist)
    coords: dict[str, Any] = {"interval": np.arange(n_int), "branch": np.arange(nb), "unit": np.arange(n),
                              "cycle_event": np.arange(ne), "coexistence": np.arange(nc)}
    if circuit is not None and n_out:
        coords["output"] = list(circuit.output_names)
    else:
        data["settle_z"] = (("interval", "output"), settle_z, data["settle_z"][2])
        coords["output"] = np.arange(0)
    return xr.Dataset(data, coords=coords, attrs={
        "start_label": str(continuation.attrs.get("start_label", "start")),
        "end_label": str(continuation.attrs.get("end_label", "end"))})
