"""Continuation of fixed points along a path of tonic inputs.

Each fixed point of the start context is followed as the tonic input moves
along ``b(s)``, ``s`` from 0 to 1: by default the straight line
``b(s) = (1 - s) b_A + s b_B``, or any piecewise-linear path through user-given
tonic inputs.  The curve ``{(x, s): F(x, b(s)) = 0}`` is traced by
pseudo-arclength continuation (a tangent predictor and a Newton corrector on
the system ``F(x, s) = 0``, ``t . (y - y_pred) = 0`` with ``y = (x, s)``), so that
branches pass through folds, where ``s`` turns back.  All branches are
continued together in one batch, in float64.

Bifurcations along a branch are detected between consecutive points and then
located by bisection along the arc:

* ``fold`` (saddle-node): the ``s`` component of the tangent changes sign; a
  real eigenvalue of the Jacobian crosses zero there;
* ``branch_point``: a real eigenvalue crosses zero (the sign of ``det J``
  flips) but ``s`` keeps its direction (transcritical or pitchfork points of
  symmetric circuits);
* ``hopf``: one complex-conjugate pair crosses the imaginary axis with nonzero
  imaginary part; eigenvalues are matched between steps
  (:mod:`neurobias.analysis.eigen_tracking`) and the crossing is located on that
  pair's real part, so other unstable pairs do not move it;
* ``collision``: an unstable pair meets the real axis (not a bifurcation);
* with ``dt``, the map ``x -> x + h tau F(x)``: ``period_doubling`` (multiplier
  -1) and ``neimark_sacker`` (complex multipliers of modulus 1).

Every located point is inserted as a row of its branch, carrying its label.

Everything derives from :func:`neurobias.circuit.dynamics.vector_field`: the
Jacobian in ``x`` is :func:`~neurobias.circuit.dynamics.jacobian` and the
derivative in ``s`` is :func:`~neurobias.circuit.dynamics.drive_sensitivity`
times ``db/ds``.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import xarray as xr
from scipy.optimize import linear_sum_assignment
from torch import Tensor

from neurobias.analysis.eigen_tracking import TrackedEvent, is_complex, match_eigenvalues, pair_events
from neurobias.analysis.hopf import first_lyapunov_coefficient
from neurobias.analysis.krylov import gmres, leading_eigenvalues_batched
from neurobias.circuit.circuit import Circuit
from neurobias.circuit.dynamics import Dynamics
from neurobias.circuit.threads import all_threads, one_thread
from neurobias.circuit.simulate import resolve_tonic
from neurobias.errors import InputError, check_finite, check_number, describe_shape

__all__ = ["continue_fixed_points"]

_DT = torch.float64
#: the first Lyapunov coefficient of a Hopf point (bif_lyapunov) needs two complex and one real dense LU
#: factorisations of the Jacobian: computed up to this many units
LYAPUNOV_MAX_UNITS = 2048
#: from this many units on, the spectra along a branch of the flow are its leading eigenvalues (Krylov-Schur on
#: products J v for a batch of points) instead of every eigenvalue (LAPACK), and the bordered systems are solved
#: with reused LU factors (RECYCLE_MIN_UNITS).  Measured with both together against the dense path on random
#: circuits (python benchmarks/continuation.py, 2026-12-07, idle 2-core machine): 2.4 s against 1.6 s at N = 256,
#: 2.7 s against 9.2 s at 512, 163 s against 443 s at 1024, the same points and bifurcations
LEADING_SPECTRA_MIN_UNITS = 512
#: choices of ``spectra``
SPECTRA = ("auto", "all", "leading")
#: continuation points whose spectra are computed in one batched call: the demo recipe's continuation at 2048 units
#: (sine_1Hz -> sine_3Hz, fixed points given) took 53.2 and 50.3 s with 8, 46.7 and 45.6 s with 16 (2026-12-07,
#: alternating runs on the idle 2-core machine)
SPECTRA_BATCH = 16
#: the leading window reaches below -LEADING_MARGIN / tau (dimensionless: a fraction of the leak rate)
LEADING_MARGIN = 0.05
#: relative residual of the leading Ritz pairs (of tau J)
LEADING_TOL = 1e-10
#: Krylov dimension of one Krylov-Schur cycle: on two batches of 8 points of the demo recipe's continuation at 2048
#: units (sine_1Hz -> sine_3Hz), the batches took 17,820 products and 20.0 s with 32 (the default of
#: leading_eigenvalues_batched; two points gave up after 200 cycles and went dense), 8,839 and 6.9 s with 48, 7,484
#: and 5.9 s with 64 (2026-12-07, 2 threads, idle machine)
LEADING_RESTART = 64
#: from this many units on, the Newton corrections solve their bordered systems matrix-free (GMRES on
#: products ``J v``, preconditioned by the exact ``-I / tau`` part) instead of factorising them (the spectra are
#: chosen apart: ``spectra=``).  Measured at stable fixed points of random circuits (g = 1.5, one
#: torch thread, 2026-12-06): one bordered solve took 0.42 s by GMRES and 0.13 s by LU at N = 1024, 1.05 s
#: and 0.64 s at N = 2048, 3.0 s and 3.8 s at N = 4096 (GMRES needs about 200 products per solve)
MATRIX_FREE_MIN_UNITS = 4096
#: from this many units on (below MATRIX_FREE_MIN_UNITS), the bordered systems are solved by GMRES preconditioned
#: with the LU factors of a nearby point's bordered matrix, refactorised only when GMRES needs more than
#: RECYCLE_ITERATIONS products: one factorisation serves many Newton steps, tangents and event locations
RECYCLE_MIN_UNITS = 512
RECYCLE_ITERATIONS = 20
#: factorisations kept for reuse (the nearest one to a point preconditions its solves)
RECYCLE_FACTORS = 4


class _Factors:
    """LU factors of bordered matrices at reference points, reused as preconditioners (most recently used last)."""

    def __init__(self) -> None:
        self.refs: list[Tensor] = []
        self.lus: list[tuple[Tensor, Tensor]] = []
        self.n_factorisations = 0
        self.n_products = 0

    def nearest(self, y: Tensor) -> int | None:
        """Index of the factor whose reference point is nearest ``y`` (N + 1,)."""
        if not self.refs:
            return None
        return int(torch.argmin(torch.stack([torch.linalg.vector_norm(r - y) for r in self.refs])))

    def use(self, lu: tuple[Tensor, Tensor]) -> None:
        """Mark the factors ``lu`` (an entry of ``lus``) as the most recently used."""
        i = next(j for j, entry in enumerate(self.lus) if entry is lu)
        self.refs.append(self.refs.pop(i))
        self.lus.append(self.lus.pop(i))

    def add(self, y: Tensor, lu: Tensor, pivots: Tensor) -> None:
        self.refs.append(y.clone())
        self.lus.append((lu, pivots))
        self.n_factorisations += 1
        while len(self.refs) > RECYCLE_FACTORS:
            self.refs.pop(0)
            self.lus.pop(0)


@dataclass(frozen=True)
class _System:
    """The continuation system ``F(x, b(s)) = 0`` with a piecewise-linear path ``b(s)``."""

    W_rec: Tensor
    ext0: Tensor  # (unit,) W_in u, the constant input drive
    knots: Tensor  # (M + 1, unit) tonic inputs at s = 0, 1/M, ..., 1
    tau: float
    phi: str
    form: str
    scale: float  # y holds x / scale: arclength measures the RMS change of x over units
    factors: _Factors = field(default_factory=_Factors, compare=False, repr=False)

    @property
    def n(self) -> int:
        return self.W_rec.shape[0]

    @functools.cached_property
    def dyn(self) -> Dynamics:
        return Dynamics(W_rec=self.W_rec, tau=self.tau, phi=self.phi, form=self.form)

    def _segment(self, s: Tensor) -> tuple[Tensor, Tensor]:
        m = self.knots.shape[0] - 1
        k = torch.clamp(torch.floor(s * m), 0, m - 1).long()
        frac = s * m - k.to(s.dtype)
        lo, hi = self.knots[k], self.knots[k + 1]
        return lo + frac[:, None] * (hi - lo), m * (hi - lo)

    def ext(self, s: Tensor) -> tuple[Tensor, Tensor]:
        """External drive (B, unit) at ``s`` (B,) and its derivative in ``s``."""
        b, db = self._segment(s)
        return self.ext0 + b, db

    def residual(self, y: Tensor) -> Tensor:
        x, s = y[:, :-1] * self.scale, y[:, -1]
        ext, _ = self.ext(s)
        return self.dyn.vector_field(x, ext)

    def jac(self, y: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``F`` (B, N), ``dF/dy_x`` (B, N, N) and ``dF/ds`` (B, N) at ``y`` (B, N + 1)."""
        x, s = y[:, :-1] * self.scale, y[:, -1]
        ext, db = self.ext(s)
        F = self.dyn.vector_field(x, ext)
        J = self.dyn.jacobian(x, ext) * self.scale
        Fs = self.dyn.drive_sensitivity(x, ext) * db
        return F, J, Fs

    def jx(self, y: Tensor) -> Tensor:
        """The Jacobian ``dF/dx`` (B, N, N) at ``y``, per ms (unscaled)."""
        x, s = y[:, :-1] * self.scale, y[:, -1]
        ext, _ = self.ext(s)
        return self.dyn.jacobian(x, ext)


def _bordered_krylov(system: _System, y: Tensor, row: Tensor, rhs: Tensor) -> tuple[Tensor, Tensor]:
    """Solve the bordered systems ``[dF/dy; row] d = rhs`` (B, N + 1) matrix-free; returns ``d`` and a trust mask.

    The operator is applied as ``(scale J v + dF/ds v_s, row . d)`` with ``J v``
    from :meth:`neurobias.circuit.Dynamics.jvp_at`; its ``F`` rows are scaled
    by ``-tau / scale``, the inverse of the exact ``-I / tau`` part of ``J``
    (a row scaling: the solution is unchanged), so that GMRES sees
    ``I - W_eff`` in the state block.  The trust mask requires a relative
    residual ``<= 1e-10`` (checked on the unscaled system).
    """
    x, s = y[:, :-1] * system.scale, y[:, -1]
    ext, db = system.ext(s)
    dyn = system.dyn
    gain = dyn.gain(x, ext)
    Fs = dyn.drive_sensitivity(x, ext) * db
    pre = -system.tau / system.scale

    def op(d: Tensor, sel: Tensor) -> Tensor:
        top = system.scale * dyn.jvp_at(gain[sel], d[:, :-1]) + Fs[sel] * d[:, -1:]
        return torch.cat([pre * top, (row[sel] * d).sum(-1, keepdim=True)], dim=-1)

    b = torch.cat([pre * rhs[:, :-1], rhs[:, -1:]], dim=-1)
    sol = gmres(op, b, rtol=1e-12, restart=min(60, y.shape[1]), max_restarts=20)
    idx = torch.arange(y.shape[0], device=y.device)
    r = op(sol.x, idx) - b
    ok = torch.isfinite(sol.x).all(-1) & (r.norm(dim=-1) <= 1e-10 * b.norm(dim=-1).clamp_min(1e-300))
    return sol.x, ok


def _bordered_recycled(system: _System, y: Tensor, row: Tensor, rhs: Tensor) -> tuple[Tensor, Tensor]:
    """Solve ``[dF/dy; row] d = rhs`` (B, N + 1) by GMRES preconditioned with a reused LU factorisation.

    Each row is preconditioned (on the right) by the factors of the bordered
    matrix at the nearest reference point in ``system.factors``; a row whose
    GMRES (asked for a relative residual of ``1e-12``) does not reach a true
    relative residual of ``1e-10`` with the exact operator within
    :data:`RECYCLE_ITERATIONS` products (or that has no factors yet) is
    factorised at its own point, solved directly, and its factors kept (the
    oldest of more than :data:`RECYCLE_FACTORS` dropped).  The trust mask is
    that residual test or a successful direct solve.
    """
    B = y.shape[0]
    x, s = y[:, :-1] * system.scale, y[:, -1]
    ext, db = system.ext(s)
    dyn = system.dyn
    gain = dyn.gain(x, ext)
    Fs = dyn.drive_sensitivity(x, ext) * db
    factors = system.factors
    out = torch.full_like(rhs, float("nan"))
    ok = torch.zeros(B, dtype=torch.bool, device=y.device)

    def apply(d: Tensor, sel: Tensor) -> Tensor:  # the exact bordered operator
        top = system.scale * dyn.jvp_at(gain[sel], d[:, :-1]) + Fs[sel] * d[:, -1:]
        return torch.cat([top, (row[sel] * d).sum(-1, keepdim=True)], dim=-1)

    picks = [factors.nearest(y[b]) for b in range(B)]
    have = [b for b in range(B) if picks[b] is not None]
    if have:
        lus = [factors.lus[picks[b]] for b in have]

        def precondition(z: Tensor, sel: Tensor) -> Tensor:
            return torch.cat([torch.linalg.lu_solve(lus[i][0], lus[i][1], z[j:j + 1].unsqueeze(-1)).squeeze(-1)
                              for j, i in enumerate(sel.tolist())])

        rows = torch.as_tensor(have, device=y.device)

        def op(z: Tensor, sel: Tensor) -> Tensor:
            return apply(precondition(z, sel), rows[sel])

        sol = gmres(op, rhs[rows], rtol=1e-12, restart=RECYCLE_ITERATIONS, max_restarts=1)
        factors.n_products += sol.n_matvec
        idx = torch.arange(len(have), device=y.device)
        d = precondition(sol.x, idx)
        r = apply(d, rows) - rhs[rows]
        good = torch.isfinite(d).all(-1) & (r.norm(dim=-1) <= 1e-10 * rhs[rows].norm(dim=-1).clamp_min(1e-300))
        for j, b in enumerate(have):
            if bool(good[j]):
                out[b], ok[b] = d[j], True
        for lu in {id(entry): entry for j, entry in enumerate(lus) if bool(good[j])}.values():
            factors.use(lu)
    rest = [b for b in range(B) if not bool(ok[b])]
    for b in rest:
        F, J, Fs_b = system.jac(y[b:b + 1])
        M = _augmented(J, Fs_b, row[b:b + 1])
        lu, pivots, info = torch.linalg.lu_factor_ex(M)
        if int(info[0]) != 0:
            continue
        d = torch.linalg.lu_solve(lu, pivots, rhs[b:b + 1].unsqueeze(-1)).squeeze(-1)
        if bool(torch.isfinite(d).all()):
            out[b], ok[b] = d[0], True
            factors.add(y[b], lu, pivots)
    return out, ok


def _linear_solver(system: _System) -> str:
    """``"gmres"`` (matrix-free), ``"recycled"`` (GMRES with reused LU factors) or ``"lu"``, by size."""
    if system.n >= MATRIX_FREE_MIN_UNITS:
        return "gmres"
    return "recycled" if system.n >= RECYCLE_MIN_UNITS else "lu"


def _matrix_free(system: _System) -> bool:
    return _linear_solver(system) != "lu"


def _augmented(J: Tensor, Fs: Tensor, row: Tensor) -> Tensor:
    top = torch.cat([J, Fs[..., None]], dim=-1)
    return torch.cat([top, row[:, None, :]], dim=-2)


def _correct(
    system: _System, y: Tensor, row: Tensor, target: Tensor, *, tol: float, max_newton: int
) -> tuple[Tensor, Tensor, Tensor]:
    """Newton on ``F(y) = 0, row . y = target``; returns (y, converged (B,), iterations (B,)).

    A branch whose bordered system is singular (or gives non-finite values) stops moving and is reported as
    not converged.
    """
    y = y.clone()
    B = y.shape[0]
    done = torch.zeros(B, dtype=torch.bool, device=y.device)
    failed = torch.zeros(B, dtype=torch.bool, device=y.device)
    iters = torch.full((B,), max_newton + 1, device=y.device)
    how = _linear_solver(system)
    free = how != "lu"
    for it in range(max_newton):
        if free:
            F = system.residual(y)
        else:
            F, J, Fs = system.jac(y)
        g = torch.cat([F, ((row * y).sum(-1) - target)[:, None]], dim=-1)
        ok = (F.abs().amax(-1) <= tol) & (g[:, -1].abs() <= 1e-12 * (1 + target.abs())) & ~failed
        iters[ok & ~done] = it
        done |= ok
        if bool((done | failed).all()):
            break
        if free:
            solve = _bordered_krylov if how == "gmres" else _bordered_recycled
            dy, trust = solve(system, y, row, -g)
            bad = ~trust
        else:
            dy, info = torch.linalg.solve_ex(_augmented(J, Fs, row), -g)
            bad = (info != 0) | ~torch.isfinite(dy).all(-1)
        failed |= bad & ~done
        step = torch.where((done | failed)[:, None], torch.zeros_like(dy), torch.nan_to_num(dy))
        y = y + step
    F = system.residual(y)
    ok = (F.abs().amax(-1) <= tol) & torch.isfinite(y).all(-1) & ~failed
    iters[ok & ~done] = max_newton
    return y, ok, iters


def _tangent(system: _System, y: Tensor, orient: Tensor) -> Tensor:
    """Unit tangent of the solution curve at ``y`` with ``orient . t > 0``.

    The bordered system ``[dF/dy; orient] t = e`` is singular where ``orient`` is
    orthogonal to the curve or at a branch point; such rows fall back on the null
    vector of ``dF/dy`` (smallest right singular vector), oriented by ``orient``.
    """
    rhs = torch.zeros_like(y)
    rhs[:, -1] = 1.0
    how = _linear_solver(system)
    if how != "lu":
        t, trust = (_bordered_krylov if how == "gmres" else _bordered_recycled)(system, y, orient, rhs)
        bad = ~trust
    else:
        _, J, Fs = system.jac(y)
        t, info = torch.linalg.solve_ex(_augmented(J, Fs, orient), rhs)
        bad = (info != 0) | ~torch.isfinite(t).all(-1)
    if bool(bad.any()):
        _, J, Fs = system.jac(y)
        top = torch.cat([J, Fs[..., None]], dim=-1)[bad]
        _, _, vh = torch.linalg.svd(top)
        null = vh[:, -1, :]
        sign = torch.where((null * orient[bad]).sum(-1) < 0, -1.0, 1.0).to(null.dtype)
        t = t.clone()
        t[bad] = null * sign[:, None]
    return t / torch.linalg.vector_norm(t, dim=-1, keepdim=True)


def _eigvals(system: _System, y: Tensor) -> np.ndarray:
    """All eigenvalues (B, N) of ``dF/dx`` at ``y`` (B, N + 1), complex numpy, 1/ms."""
    return torch.linalg.eigvals(system.jx(y)).cpu().numpy()


class _Spectra:
    """The eigenvalues of ``dF/dx`` at continuation points: every one, or the leading ones only.

    ``leading=False``: every eigenvalue (LAPACK), matched from point to point
    by :func:`match_eigenvalues` (one assignment over the whole spectrum).

    ``leading=True``: the eigenvalues of largest real part, by Krylov-Schur on
    products ``J v`` for a batch of points at once
    (:func:`neurobias.analysis.krylov.leading_eigenvalues_batched`): at least
    ``n_modes + 2`` of them and, doubling, until the last has a real part
    below ``-LEADING_MARGIN / tau``, so that every eigenvalue that can cross
    the imaginary axis within a step is among them.  Two windows are matched
    by :meth:`pair`: the least-distance assignment in which a value may also
    stay alone; when an eigenvalue within ``LEADING_MARGIN / (2 tau)`` of the
    imaginary axis (or right of it) finds no partner, or one no nearer than
    the other window's floor (its partner might lie below it), both points
    are decomposed densely.  Only the flow's events live at the right of the spectrum: with a map
    (period doubling at multiplier -1) every eigenvalue is computed.
    """

    def __init__(self, system: _System, *, leading: bool, n_modes: int) -> None:
        self.system = system
        self.leading = leading
        self.n_modes = n_modes
        self.n_krylov = 0  # points whose spectra came from Krylov-Schur
        self.n_dense = 0  # points decomposed densely
        self.n_matvec = 0
        self.n_inverse = 0  # eigenvalues found by inverse iteration (event locations)

    @property
    def margin(self) -> float:
        """Real part (1/ms) below which the leading window may stop."""
        return LEADING_MARGIN / self.system.tau

    def dense(self, y: Tensor) -> list[np.ndarray]:
        """Every eigenvalue (1/ms) at each row of ``y`` (B, N + 1)."""
        self.n_dense += y.shape[0]
        return list(_eigvals(self.system, y))

    def __call__(self, y: Tensor) -> list[np.ndarray]:
        """The spectrum (1/ms) at each row of ``y`` (B, N + 1): all values, or the leading window."""
        if not self.leading or y.shape[0] == 0:
            return self.dense(y)
        system = self.system
        tau = system.tau
        x, s = y[:, :-1] * system.scale, y[:, -1]
        ext, _ = system.ext(s)
        dyn = system.dyn
        gain = dyn.gain(x, ext)

        def mv(v: Tensor, sel: Tensor) -> Tensor:  # tau J v: dimensionless, as the tolerance is relative
            return tau * dyn.jvp_at(gain[sel], v)

        def dense(sel: Tensor) -> Tensor:
            return tau * dyn.jacobian(x[sel], ext[sel])

        with all_threads():  # products and Gram-Schmidt only: no LU factorisation in here
            out = leading_eigenvalues_batched(mv, y.shape[0], system.n, k=self.n_modes + 2, margin=LEADING_MARGIN,
                                              tol=LEADING_TOL, dense=dense, dtype="float64", device=y.device,
                                              restart=LEADING_RESTART)
        self.n_krylov += y.shape[0] - out.n_dense
        self.n_dense += out.n_dense
        self.n_matvec += out.n_matvec
        return [out.values[b, :out.n_values[b]] / tau for b in range(y.shape[0])]

    def nearest(self, y: Tensor, guess: complex, *, upper: bool) -> complex:
        """The eigenvalue (1/ms) of ``dF/dx`` at ``y`` (1, N + 1) nearest ``guess`` (with imaginary part ``>= 0``
        when ``upper``).

        Every value: picked from the whole spectrum.  Leading windows: inverse
        iteration with the shift ``guess`` (one complex LU factorisation),
        which converges to the eigenvalue nearest the shift, until the residual
        of the Rayleigh quotient is below ``LEADING_TOL / tau``; the window's
        nearest value when it does not converge in 60 iterations.
        """
        if self.leading:
            lam = self._inverse_iteration(y, complex(guess))
            if lam is not None:
                return complex(lam.real, abs(lam.imag)) if upper and lam.imag < 0 else lam
        return _nearest(self(y)[0], guess, upper=upper)

    def _inverse_iteration(self, y: Tensor, shift: complex) -> complex | None:
        J = self.system.jx(y)[0]
        n = J.shape[0]
        tol = LEADING_TOL / self.system.tau
        A = J.to(torch.complex128)
        A.diagonal().sub_(shift)
        lu, pivots, info = torch.linalg.lu_factor_ex(A)
        if int(info) != 0:  # the shift is an eigenvalue to working precision
            return shift
        gen = torch.Generator(device="cpu").manual_seed(0)
        v = torch.complex(torch.randn(n, generator=gen, dtype=_DT), torch.randn(n, generator=gen, dtype=_DT))
        v = (v / torch.linalg.vector_norm(v)).to(J.device)
        self.n_inverse += 1
        extra = None  # iterations still to take after the residual test first passed (each costs one solve)
        for _ in range(60):
            w = torch.linalg.lu_solve(lu, pivots, v[:, None])[:, 0]
            v = w / torch.linalg.vector_norm(w)
            Jv = torch.complex(J @ v.real, J @ v.imag)
            lam = torch.vdot(v, Jv)
            if not bool(torch.isfinite(lam)):
                return None
            if extra is None and float(torch.linalg.vector_norm(Jv - lam * v)) <= tol:
                extra = 2
            if extra is not None:
                if extra == 0:
                    return complex(lam)
                extra -= 1
        return complex(lam) if extra is not None else None

    def align(self, previous: np.ndarray, current: np.ndarray) -> np.ndarray:
        """``current`` as stored after ``previous``: matched to it (every value), as computed (leading)."""
        if self.leading:
            return current
        return match_eigenvalues(previous, current)

    def pair(self, before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Matched arrays ``(before[i], after[i])`` of the same eigenvalues, or None when the windows cannot be trusted.

        Every value: ``after`` is already matched (:meth:`align`).  Leading
        windows: each window holds every eigenvalue above its lowest real
        part (its floor).  The values are matched by the assignment of least
        summed distance in which a value may also stay alone at the cost of
        half the shallower window's depth (so a value at a window's edge whose
        partner lies below the other floor is not forced onto a wrong one).
        An eigenvalue within ``LEADING_MARGIN / (2 tau)`` of the imaginary
        axis or right of it must find a partner nearer than either floor
        (else its partner may lie outside a window): otherwise None.
        """
        if not self.leading:
            return before, after
        na, nb = before.shape[0], after.shape[0]
        floor_a, floor_b = float(before.real.min()), float(after.real.min())
        alone = 0.5 * max(min(-floor_a, -floor_b), 0.0) + 1e-300
        big = 1e300
        cost = np.full((na + nb, nb + na), big)
        cost[:na, :nb] = np.abs(before[:, None] - after[None, :])
        cost[:na, nb:] = np.where(np.eye(na, dtype=bool), alone, big)
        cost[na:, :nb] = np.where(np.eye(nb, dtype=bool), alone, big)
        cost[na:, nb:] = 0.0
        rows, cols = linear_sum_assignment(cost)
        real = (rows < na) & (cols < nb)
        i, j = rows[real], cols[real]
        a, b = before[i], after[j]
        half = 0.5 * self.margin
        near = np.maximum(a.real, b.real) > -half
        dist = np.abs(a - b)
        if np.any(near & ((dist >= a.real - floor_b) | (dist >= b.real - floor_a))):
            return None
        lone_a = np.ones(na, dtype=bool)
        lone_a[i] = False
        lone_b = np.ones(nb, dtype=bool)
        lone_b[j] = False
        if np.any(before.real[lone_a] > -half) or np.any(after.real[lone_b] > -half):
            return None
        return a, b

    def sign(self, values: np.ndarray) -> float:
        """``sign det J`` from a spectrum that holds every eigenvalue of non-negative real part."""
        real_pos = int(np.sum((values.real > 0) & ~is_complex(values)))
        return float((-1) ** (self.system.n + real_pos))


def _arc_point(system: _System, y0: Tensor, t0: Tensor, sigma: float, *, tol: float,
               max_newton: int) -> tuple[Tensor, bool]:
    """The curve point on the hyperplane ``t0 . (y - y0) = sigma`` (Newton from ``y0 + sigma t0``)."""
    target = (t0 * y0).sum(-1) + sigma
    y, ok, _ = _correct(system, y0 + sigma * t0, t0, target, tol=tol, max_newton=max_newton)
    return y, bool(ok.all())


def _bisect(
    system: _System, y0: Tensor, t0: Tensor, y1: Tensor | None, indicator, *, tol: float, max_newton: int,
    iterations: int = 60, lo: float = 0.0, hi: float | None = None,
) -> tuple[Tensor, float, bool]:
    """Bisection along the arc from ``y0`` (tangent ``t0``) to ``y1`` on the sign of ``indicator(y)``.

    With ``hi`` (and ``lo``), between the arclengths ``lo`` and ``hi`` from ``y0`` instead (``y1`` unused),
    failing at once when ``indicator`` has one sign at both ends.  Returns the point, its arclength ``sigma`` from ``y0`` and whether the location succeeded (every
    correction converged and the bracket closed); on failure the last good bracket end is returned.
    """
    if hi is None:
        sigma_hi = float((t0 * (y1 - y0)).sum())
        y_lo, best = y0, y1
    else:
        sigma_hi = float(hi)
        y_lo, ok_lo = _arc_point(system, y0, t0, lo, tol=tol, max_newton=max_newton) if lo else (y0, True)
        best, ok_hi = _arc_point(system, y0, t0, sigma_hi, tol=tol, max_newton=max_newton)
        if not (ok_lo and ok_hi):
            return best, sigma_hi, False
    lo, hi = float(lo), sigma_hi
    f_lo = indicator(y_lo)
    if y1 is None and (indicator(best) > 0) == (f_lo > 0):
        return best, sigma_hi, False
    best_sigma = sigma_hi
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        y, ok = _arc_point(system, y0, t0, mid, tol=tol, max_newton=max_newton)
        if not ok:
            return best, best_sigma, False
        f_mid = indicator(y)
        if (f_mid > 0) == (f_lo > 0):
            lo, f_lo = mid, f_mid
        else:
            hi, best, best_sigma = mid, y, mid
        if abs(hi - lo) <= 1e-13 * (1.0 + abs(sigma_hi)):
            break
    return best, best_sigma, True


def _nearest(values: np.ndarray, guess: complex, *, upper: bool) -> complex:
    """The eigenvalue nearest ``guess`` (among those with imaginary part >= 0 when ``upper``)."""
    cand = values[values.imag >= 0] if upper and np.any(values.imag >= 0) else values
    return complex(cand[np.argmin(np.abs(cand - guess))])


def _root_on_arc(
    system: _System, y0: Tensor, t0: Tensor, lo: float, hi: float, lam_lo: complex, lam_hi: complex,
    test, *, upper: bool, tol: float, max_newton: int, spectra: _Spectra, iterations: int = 80,
) -> tuple[Tensor, float, complex, bool]:
    """Root of ``test(lambda(sigma))`` for one tracked eigenvalue on ``[lo, hi]`` of the arc from ``y0``.

    The eigenvalue at ``sigma`` is the one nearest the linear interpolation of its values at the bracket ends
    (tracking by continuity); the root is found by the Illinois variant of regula falsi, safeguarded by the
    bracket.  Returns the point, its ``sigma``, the eigenvalue there and whether it converged.
    """
    f_lo, f_hi = test(lam_lo), test(lam_hi)
    y_best, s_best, l_best = None, hi, lam_hi
    side = 0
    for _ in range(iterations):
        if f_hi != f_lo:
            mid = hi - f_hi * (hi - lo) / (f_hi - f_lo)
        else:
            mid = 0.5 * (lo + hi)
        if not (lo < mid < hi) or (hi - lo) < 1e-3 * abs(mid - 0.5 * (lo + hi)):
            mid = 0.5 * (lo + hi)
        y, ok = _arc_point(system, y0, t0, mid, tol=tol, max_newton=max_newton)
        if not ok:
            return (y_best if y_best is not None else y), s_best, l_best, False
        w = (mid - lo) / (hi - lo) if hi > lo else 0.5
        lam = spectra.nearest(y, lam_lo + w * (lam_hi - lam_lo), upper=upper)
        f_mid = test(lam)
        y_best, s_best, l_best = y, mid, lam
        if f_mid == 0.0:
            return y, mid, lam, True
        if (f_mid > 0) == (f_lo > 0):
            lo, f_lo, lam_lo = mid, f_mid, lam
            if side == -1:
                f_hi *= 0.5
            side = -1
        else:
            hi, f_hi, lam_hi = mid, f_mid, lam
            if side == 1:
                f_lo *= 0.5
            side = 1
        if hi - lo <= 1e-14 * (1.0 + abs(hi)) or abs(f_mid) <= 1e-15:
            return y, mid, lam, True
    return y_best, s_best, l_best, True


def _checked_end(system: _System, x: np.ndarray, *, tol: float, max_newton: int) -> np.ndarray:
    """The given fixed points of the end tonic input (s = 1), polished by Newton; an error for any that is not one."""
    if not x.shape[0]:
        return x
    dev = system.W_rec.device
    m = x.shape[0]
    y = torch.cat([torch.tensor(x, dtype=_DT, device=dev) / system.scale, torch.ones(m, 1, dtype=_DT, device=dev)],
                  dim=-1)
    e_s = torch.zeros_like(y)
    e_s[:, -1] = 1.0
    out, ok, _ = _correct(system, y, e_s, torch.ones(m, dtype=_DT, device=dev), tol=tol, max_newton=max_newton)
    moved = torch.linalg.vector_norm(out - y, dim=-1) > 1e-4 * (1 + torch.linalg.vector_norm(y, dim=-1))
    bad = int((~ok | moved).sum())
    if bad:
        raise InputError(f"{bad} of the given `end_fixed_points` are not fixed points of the end tonic input (Newton "
                         f"did not reach max|F| <= {tol} near them); pass fixed points of the end context")
    return (out[:, :-1] * system.scale).cpu().numpy()


def _as_states(name: str, value: Any, n: int) -> np.ndarray:
    if isinstance(value, xr.Dataset):
        ds = value
        if "x" not in ds:
            raise InputError(f"`{name}` Dataset must have a variable 'x' of dims (fp, unit)")
        if "kind" in ds:
            ds = ds.where(ds["kind"] == "fixed", drop=True) if ds.sizes.get("fp", 0) else ds
        value = ds["x"].values
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != n:
        raise InputError(f"`{name}` must have shape (fp, unit) = (n, {n}); got {describe_shape(np.shape(value))}")
    check_finite(name, arr)
    return arr


def _resolve_path(
    circuit: Circuit, *, start: Any, end: Any, tonic: Any, path: Any
) -> tuple[np.ndarray, str, str]:
    n = circuit.n_units
    if path is not None:
        if start is not None or end is not None:
            raise InputError("give either `path` or `start` and `end`, not both")
        knots = np.asarray(path, dtype=np.float64)
        if knots.ndim != 2 or knots.shape[1] != n or knots.shape[0] < 2:
            raise InputError(
                f"`path` must have shape (point, unit) = (>= 2, {n}); got {describe_shape(np.shape(path))}"
            )
        check_finite("path", knots)
        return knots, "path[0]", "path[-1]"
    if start is None or end is None:
        raise InputError("give `start` and `end` (context names with `tonic`, or tonic vectors of shape (unit,)), "
                         "or a `path` of shape (point, unit)")
    ends = []
    labels = []
    for name, value in (("start", start), ("end", end)):
        if isinstance(value, str):
            if tonic is None:
                raise InputError(f"`{name}` = {value!r} is a context name; give the tonic bank as `tonic`")
            bank, names = resolve_tonic(tonic, n)
            if value not in names:
                raise InputError(f"`{name}` = {value!r} is not a context; choose from {', '.join(names)}")
            ends.append(bank[names.index(value)])
            labels.append(value)
        else:
            vec = np.asarray(value, dtype=np.float64)
            if vec.shape != (n,):
                raise InputError(f"`{name}` must be a context name or a tonic input of shape (unit,) = ({n},); "
                                 f"got shape {describe_shape(vec.shape)}")
            check_finite(name, vec)
            ends.append(vec)
            labels.append(name)
    return np.stack(ends), labels[0], labels[1]


@one_thread()
def continue_fixed_points(
    circuit: Circuit,
    *,
    start: Any = None,
    end: Any = None,
    tonic: Any = None,
    path: Any = None,
    inputs: Any = None,
    fixed_points: Any = None,
    steps: int = 1000,
    h_init: float = 0.01,
    h_max: float = 0.1,
    h_min: float = 1e-7,
    tol: float = 1e-10,
    max_newton: int = 12,
    n_modes: int = 6,
    eig_every: int = 1,
    find_end: bool = True,
    end_fixed_points: Any = None,
    match_tol: float = 1e-6,
    dt: float | None = None,
    method: str = "euler",
    spectra: str = "auto",
    seed: int = 0,
    n_candidates: int = 256,
    device: str | torch.device = "cpu",
    progress: bool = False,
) -> xr.Dataset:
    """Follow fixed points as the tonic input moves from one context to another.

    Parameters
    ----------
    circuit : Circuit
    start, end : str or array_like of shape (unit,)
        Tonic inputs at ``s = 0`` and ``s = 1``: context names of ``tonic`` or
        vectors.  The path is ``b(s) = (1 - s) b_start + s b_end``.
    tonic : array_like of shape (context, unit), DataArray or Dataset, optional
        Tonic bank in which ``start`` and ``end`` are looked up.
    path : array_like of shape (point, unit), optional
        Instead of ``start``/``end``: tonic inputs at ``s = 0, 1/M, ..., 1``
        (``M + 1`` points), joined by straight segments.
    inputs : array_like of shape (input,), optional
        Constant external input (default zero).
    fixed_points : array_like of shape (fp, unit) or Dataset, optional
        Fixed points at ``s = 0`` to follow (a :func:`find_fixed_points` Dataset
        of the start context is accepted; only ``kind == "fixed"`` rows are
        used).  Default: found with :func:`find_fixed_points`.
    steps : int
        Maximum number of continuation steps per branch.
    h_init, h_max, h_min : float
        Initial, largest and smallest arclength step in the ``(x, s)`` space, where
        the ``x`` part is measured as the RMS change over units
        (``|dx|^2 / N + ds^2``), so that steps mean the same at any size.
    tol : float
        Newton tolerance on ``max |F|`` (state units per ms).
    max_newton : int
        Newton iterations per corrector; a step that needs more is halved.
    n_modes : int
        Eigenvalues (largest real part first) kept per point in ``eig_real`` and ``eig_imag``.
    eig_every : int
        Compute the spectrum every this many steps (and at both ends).  When two
        computed spectra differ by an event (a pair crossing, a changed count of
        unstable eigenvalues), the spectra in between are computed and the event
        is located exactly as with ``eig_every=1``; an event that happens and is
        undone between two computed spectra is missed.
    find_end : bool
        Also find the fixed points at ``s = 1`` and report those no branch reaches.
    end_fixed_points : array_like of shape (fp, unit) or Dataset, optional
        With ``find_end``: the fixed points at ``s = 1`` (as for
        ``fixed_points``; e.g. those a :func:`find_fixed_points` call already
        found for the end context), checked by Newton's method instead of
        searched for again.  Default: found with :func:`find_fixed_points`.
    match_tol : float
        Relative distance under which a branch end and a fixed point at ``s = 1``
        are the same point (``|x - y| <= match_tol (1 + |y|)``).
    dt : float, optional
        Time step in ms of a discrete map ``x -> step(x) = x + h tau F(x)`` (see
        :func:`neurobias.circuit.dynamics.step_fraction`) whose fixed points are
        also judged: by their multipliers ``mu = 1 + h tau lambda`` (stable when
        every ``|mu| < 1``), with period-doubling (``mu = -1``) and Neimark-Sacker
        (complex ``|mu| = 1``) points located along the branches.  The rate form
        with ``dt = tau`` and ``method="euler"`` is the map of Williams et al.
        (2024).  Default: the flow only.
    method : {"euler", "exp_euler"}
        Integrator of the map when ``dt`` is given.
    spectra : {"auto", "all", "leading"}
        ``"all"``: every eigenvalue of the Jacobian at every point (LAPACK),
        matched from point to point.  ``"leading"``: only the eigenvalues of
        largest real part (at least ``n_modes + 2``, and every one with a real
        part above ``-LEADING_MARGIN / tau``), by Krylov-Schur on products
        ``J v`` for batches of :data:`SPECTRA_BATCH` points, matched over the
        values two windows hold; two points whose windows do not pair (an
        eigenvalue near or right of the imaginary axis without a partner nearer
        than the other window's floor) are decomposed densely.  This follows every event of the flow (Hopf
        points, folds, branch points, collisions of unstable pairs), not those
        of a map, so it needs ``dt=None``.  ``"auto"``: ``"leading"`` for the
        flow from :data:`LEADING_SPECTRA_MIN_UNITS` units on, ``"all"``
        otherwise.
    seed, n_candidates : int
        Passed to :func:`find_fixed_points` when it is called.
    device : str or torch.device
        Where the continuation runs (``"cpu"``, ``"cuda"``); always float64.
    progress : bool
        Show a progress bar over continuation steps.

    Returns
    -------
    xarray.Dataset
        Dims ``(branch, step, unit)``, padded with NaN after a branch ends:
        ``x (branch, step, unit)``, ``s (branch, step)``, ``residual (branch, step)``
        (``max |F|``), ``index (branch, step)`` (number of eigenvalues with positive
        real part; -1 where not computed), ``eig_real``, ``eig_imag (branch, step,
        mode)`` (1/ms), ``label (branch, step)`` (``""``, ``start``, ``fold``,
        ``branch_point``, ``hopf``, ``collision``, ``period_doubling``,
        ``neimark_sacker``, ``end``).  Every located bifurcation is a row of its
        branch, labelled there.  Per branch ``n_points``, ``end_reason``
        (``reached_end``, ``returned_to_start``, ``max_steps``, ``step_too_small``),
        ``start_index``, ``returns_to`` (the branch whose start this branch comes
        back to after a fold, -1 if none).  Per bifurcation (dim ``bifurcation``):
        ``bif_branch``, ``bif_step`` (its row), ``bif_kind``, ``bif_s``,
        ``bif_x (bifurcation, unit)``, ``bif_residual``, ``bif_eig_real``,
        ``bif_eig_imag`` (the critical eigenvalue: the crossing pair's member with
        positive imaginary part, or the real eigenvalue nearest zero at a fold or
        branch point), ``bif_located`` (False where a correction failed during the
        location: the row is then the nearest point that was found).  With ``dt``:
        ``map_index (branch, step)`` (multipliers of modulus above 1) and
        ``bif_multiplier_real``, ``bif_multiplier_imag``.  The fixed points at
        ``s = 1`` that no branch reaches: ``unreached_x (unreached, unit)``,
        ``unreached_index (unreached,)``.  Attributes give the settings,
        ``start_label``, ``end_label``, ``stability`` (``"flow"`` or
        ``"flow and map"``), ``linear_solver`` (``"lu"``: the bordered Newton
        systems factorised; ``"gmres with reused lu"``: GMRES preconditioned
        by the LU factors of a nearby point, from :data:`RECYCLE_MIN_UNITS`
        units on; ``"gmres"``: solved matrix-free, from
        :data:`MATRIX_FREE_MIN_UNITS` units on), ``n_factorisations`` (LU
        factorisations made for reuse, at most :data:`RECYCLE_FACTORS` kept at a time), ``spectra`` (what was computed)
        and ``n_spectra_krylov``, ``n_spectra_dense`` (points whose spectra came
        from Krylov-Schur and from LAPACK).

    Warns
    -----
    RuntimeWarning
        When a bifurcation could not be located because a Newton correction failed.
    """
    from neurobias.circuit.dynamics import METHODS, step_fraction
    from neurobias.circuit.simulate import resolve_device

    if not isinstance(circuit, Circuit):
        raise InputError(f"`circuit` must be a neurobias Circuit; got {type(circuit).__name__}")
    steps, max_newton, n_modes, eig_every = (check_number(name, value, ge=1, integer=True) for name, value in (
        ("steps", steps), ("max_newton", max_newton), ("n_modes", n_modes), ("eig_every", eig_every)))
    h_init, h_max, h_min, tol, match_tol = (check_number(name, value, gt=0) for name, value in (
        ("h_init", h_init), ("h_max", h_max), ("h_min", h_min), ("tol", tol), ("match_tol", match_tol)))
    map_scale = None
    if dt is not None:
        dt = check_number("dt", dt, gt=0, units="ms")
        if method not in METHODS:
            raise InputError(f"`method` must be one of {', '.join(METHODS)}; got {method!r}")
        map_scale = step_fraction(dt=float(dt), tau=circuit.tau, method=method) * circuit.tau
    if spectra not in SPECTRA:
        raise InputError(f"`spectra` must be one of {', '.join(repr(v) for v in SPECTRA)}; got {spectra!r}")
    if spectra == "leading" and dt is not None:
        raise InputError("`spectra='leading'` follows the events of the flow only; with `dt` (a map, whose period "
                         "doubling sits at the far left of the spectrum) use spectra='all' or 'auto'")
    dev = resolve_device(device)
    n = circuit.n_units
    knots_np, start_label, end_label = _resolve_path(circuit, start=start, end=end, tonic=tonic, path=path)
    u = np.zeros(circuit.n_inputs) if inputs is None else np.asarray(inputs, dtype=np.float64)
    if u.shape != (circuit.n_inputs,) or not np.all(np.isfinite(u)):
        raise InputError(f"`inputs` must be a finite array of shape (input,) = ({circuit.n_inputs},); "
                         f"got shape {describe_shape(np.shape(inputs))}")
    system = _System(
        W_rec=torch.tensor(circuit.W_rec, dtype=_DT, device=dev),
        ext0=torch.tensor(circuit.W_in @ u, dtype=_DT, device=dev),
        knots=torch.tensor(knots_np, dtype=_DT, device=dev),
        tau=circuit.tau, phi=circuit.phi, form=circuit.form, scale=math.sqrt(n),
    )

    def find(b: np.ndarray) -> np.ndarray:
        from neurobias.analysis.fixed_points import find_fixed_points

        ds = find_fixed_points(circuit, b[None], inputs=u if circuit.n_inputs else None,
                               n_candidates=n_candidates, seed=seed, tol=tol)
        return ds["x"].values[ds["kind"].values == "fixed"]

    x0 = find(knots_np[0]) if fixed_points is None else _as_states("fixed_points", fixed_points, n)
    end_x = np.empty((0, n))
    if find_end and end_fixed_points is not None:  # checked before any work is done
        end_x = _checked_end(system, _as_states("end_fixed_points", end_fixed_points, n), tol=tol,
                             max_newton=max_newton)
    n_branch = x0.shape[0]
    # polish the starting points at s = 0 (natural parameter)
    y = torch.cat([torch.tensor(x0, dtype=_DT, device=dev) / system.scale,
                   torch.zeros(n_branch, 1, dtype=_DT, device=dev)], dim=-1)
    e_s = torch.zeros(n_branch, n + 1, dtype=_DT, device=dev)
    e_s[:, -1] = 1.0
    if n_branch:
        y_given = y
        y, ok, _ = _correct(system, y, e_s, torch.zeros(n_branch, dtype=_DT, device=dev), tol=tol,
                            max_newton=max_newton)
        moved = torch.linalg.vector_norm(y - y_given, dim=-1) > 1e-4 * (1 + torch.linalg.vector_norm(y_given, dim=-1))
        ok = ok & ~moved
        if not bool(ok.all()):
            bad = int((~ok).sum())
            raise InputError(f"{bad} of the given `fixed_points` are not fixed points of the start tonic input "
                             f"(Newton did not reach max|F| <= {tol}); pass fixed points of the start context")
    t = _tangent(system, y, e_s) if n_branch else y.clone()
    h = torch.full((n_branch,), float(h_init), dtype=_DT, device=dev)
    alive = torch.ones(n_branch, dtype=torch.bool, device=dev)
    leading = spectra == "leading" or (spectra == "auto" and map_scale is None and n >= LEADING_SPECTRA_MIN_UNITS)
    spectra_of = _Spectra(system, leading=leading, n_modes=n_modes)
    tracker = _Tracker(system, n_branch, map_scale=map_scale, tol=tol, max_newton=max_newton, spectra=spectra_of)
    labels: list[list[str]] = [["start"] for _ in range(n_branch)]
    end_reason = ["max_steps"] * n_branch
    if n_branch:
        signs = tracker.det_signs(y)
        for i in range(n_branch):
            tracker.add_point(i, y[i], t[i], signs[i])
            tracker.compute(i, 0)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc="continuation", unit="step")
    for _ in range(steps):
        idx = torch.nonzero(alive).flatten()
        if idx.numel() == 0:
            break
        yb, tb, hb = y[idx], t[idx], h[idx]
        pred = yb + hb[:, None] * tb
        row = tb.clone()
        target = (tb * pred).sum(-1)
        s_pred = pred[:, -1]
        land_hi = s_pred > 1.0
        land_lo = (s_pred < 0.0) & (tb[:, -1] < 0)
        land = land_hi | land_lo
        if bool(land.any()):
            s_goal = torch.where(land_hi, torch.ones_like(s_pred), torch.zeros_like(s_pred))
            frac = ((s_goal - yb[:, -1]) / tb[:, -1]).clamp_min(0.0)
            pred = torch.where(land[:, None], yb + frac[:, None] * tb, pred)
            pred[land, -1] = s_goal[land]
            row = torch.where(land[:, None], torch.zeros_like(row), row)
            row[land, -1] = 1.0
            target = torch.where(land, s_goal, target)
        y_new, ok, iters = _correct(system, pred, row, target, tol=tol, max_newton=max_newton)
        jump = torch.linalg.vector_norm(y_new - pred, dim=-1)
        ok = ok & (jump <= torch.maximum(hb, torch.full_like(hb, 1e-3)))
        if bool(ok.any()):
            acc = torch.nonzero(ok).flatten()
            t_new = _tangent(system, y_new[acc], tb[acc])
            # a step may land on another part of the curve (near a point where two folds nearly meet, the
            # curve's sheets lie close together): the chord from the old point to the new one must point along
            # the tangents at both ends, as it does on one smooth arc, or the step is taken again, shorter
            chord = y_new[acc] - yb[acc]
            chord = chord / torch.linalg.vector_norm(chord, dim=-1, keepdim=True).clamp_min(1e-300)
            ok[acc[((chord * tb[acc]).sum(-1) < MIN_TURN_COSINE)
                   | ((chord * t_new).sum(-1) < MIN_TURN_COSINE)]] = False
            signs = tracker.det_signs(y_new[acc])
        for j, bi in enumerate(idx.tolist()):
            if not bool(ok[j]):
                h[bi] = h[bi] * 0.5
                if float(h[bi]) < h_min:
                    alive[bi] = False
                    end_reason[bi] = "step_too_small"
                continue
            a = int((acc == j).nonzero()[0, 0])
            y[bi] = y_new[j]
            t_old = t[bi].clone()
            t[bi] = t_new[a]
            k = tracker.add_point(bi, y_new[j], t_new[a], signs[a])
            labels[bi].append("")
            if (float(t_old[-1]) > 0) != (float(t_new[a][-1]) > 0):
                tracker.folds[bi].add(k)
                tracker.locate_zero_crossing(bi, k, "fold")
            elif not spectra_of.leading and tracker.signs[bi][k] != tracker.signs[bi][k - 1]:
                tracker.locate_zero_crossing(bi, k, "branch_point")
            finished = bool(land[j])
            if finished:
                alive[bi] = False
                end_reason[bi] = "reached_end" if bool(land_hi[j]) else "returned_to_start"
                labels[bi][k] = "end"
            if finished or k % eig_every == 0:
                tracker.queue(bi, k)
            if int(iters[j]) <= 3:
                h[bi] = min(float(h[bi]) * 1.5, h_max)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    for i in range(n_branch):  # a branch stopped early still gets its last spectrum and events
        tracker.flush(i)
        last = len(tracker.ys[i]) - 1
        if last not in tracker.spec[i]:
            tracker.scan(i, last)
    failed = [e for e in tracker.events if not e["located"]]
    if failed:
        import warnings

        where = ", ".join(f"{e['kind']} near s = {float(e['y'][-1]):.4g} (branch {e['branch']})" for e in failed)
        warnings.warn(f"could not locate {len(failed)} bifurcation(s) exactly (a Newton correction failed): {where}; "
                      f"they are marked bif_located = False", RuntimeWarning, stacklevel=2)
    if find_end and end_fixed_points is None:
        end_x = find(knots_np[-1])
    attrs = dict(start_label=start_label, end_label=end_label, steps=int(steps), h_init=float(h_init),
                 h_max=float(h_max), tol=float(tol), eig_every=int(eig_every),
                 n_path_points=int(knots_np.shape[0]), tau=circuit.tau, phi=circuit.phi, form=circuit.form,
                 stability="flow" if map_scale is None else "flow and map",
                 linear_solver={"gmres": "gmres", "recycled": "gmres with reused lu",
                                "lu": "lu"}[_linear_solver(system)],
                 n_factorisations=int(system.factors.n_factorisations),
                 spectra=(f"leading: the eigenvalues of dF/dx of largest real part, every one above "
                          f"-{spectra_of.margin:.3g} 1/ms (Krylov-Schur), windows matched between neighbouring "
                          f"points"
                          if leading else "all: every eigenvalue of dF/dx, matched from point to point"),
                 n_spectra_krylov=int(spectra_of.n_krylov), n_spectra_dense=int(spectra_of.n_dense),
                 definition="fixed point: F(x) = 0 for the flow, F = neurobias vector_field"
                            + ("" if map_scale is None else "; the same points are the fixed points of the map "
                               "x -> x + h tau F(x), judged by its multipliers 1 + h tau lambda"))
    if map_scale is not None:
        attrs.update(map_dt=float(dt), map_method=str(method), map_step_fraction=float(map_scale / circuit.tau))
    return _assemble(circuit, tracker, labels, end_reason, end_x, n_modes=n_modes, match_tol=match_tol,
                     system=system, map_scale=map_scale, attrs=attrs)


def _index(values: np.ndarray, tau: float) -> int:
    """Eigenvalues with real part above a round-off margin (1/ms)."""
    return int(np.sum(_unstable(values, tau)))


def _unstable(values: np.ndarray, tau: float) -> np.ndarray:
    """Which eigenvalues (1/ms) have a real part above the round-off margin of :func:`_index`."""
    return values.real > 1e-9 * (1.0 / tau + np.abs(values))


def _unexplained_index_change(before: np.ndarray, after: np.ndarray, events, tau: float) -> bool:
    """Whether the events between two matched spectra fail to account for the change of the index.

    A real eigenvalue through zero at both ends (a fold or a branch point) changes the index by one and a
    Hopf event by two; a pair that meets the real axis changes nothing.
    """
    ua, ub = _unstable(before, tau), _unstable(after, tau)
    real = ~is_complex(before) & ~is_complex(after)
    explained = int(np.sum(real & ub & ~ua)) - int(np.sum(real & ua & ~ub))
    for e in events:  # judged with the index's own margin: a pair within it at one end changes no count
        if e.kind == "hopf":
            u = _unstable(np.array([e.before, e.after]), tau)
            explained += 2 * (int(u[1]) - int(u[0]))
    return int(ub.sum()) - int(ua.sum()) != explained


def _real_crossings(before: np.ndarray, after: np.ndarray, tau: float) -> np.ndarray:
    """Indices of the matched eigenvalues that are real at both ends and cross zero in between.

    Each is a fold or a branch point of the branch.  The signs are read exactly (not with the index's
    margin), so that a crossing is a sign change that a root finder can bracket; a value exactly zero at
    either end is no crossing.
    """
    real = ~is_complex(before) & ~is_complex(after)
    return np.nonzero(real & (before.real * after.real < 0))[0]


#: a step whose chord turns by more than arccos(MIN_TURN_COSINE) (about 26 degrees) from the tangent at either
#: end is taken again at half its length
MIN_TURN_COSINE = 0.9

#: deepest halving of a step's arclength when its events are located (2**-40 of the step)
MAX_SPLIT = 40

#: a branch point located by tracking its eigenvalue counts as located where that eigenvalue is below this (in
#: units of 1 / tau): the round-off of eigenvalues near a multiple zero
ZERO_EIGENVALUE = 1e-7

#: nodes on both sides of a located fold, this fraction of the step's arclength away from it
FOLD_NODE = 1e-4

#: two real eigenvalues are matched ambiguously when matching them the other way round costs less than this
#: many times the summed distance of the chosen matching
SWAP_COST_RATIO = 2.0


def _ambiguous_crossings(before: np.ndarray, after: np.ndarray, tau: float) -> bool:
    """Whether two real eigenvalues, matched the other way round at little more cost, would cross zero a different
    number of times.

    Matching by distance assumes eigenvalues move little against their gaps.  Near a fold one real eigenvalue
    moves fast through zero while another may move slowly through it the other way: the nearest matching can
    then pair each with the other's end, and neither seems to cross.  Such an interval must be split.
    """
    real = ~is_complex(before) & ~is_complex(after)
    real &= np.maximum(np.abs(before.real), np.abs(after.real)) > ZERO_EIGENVALUE / tau  # not round-off zeros
    a, b = before[real].real, after[real].real
    if a.size < 2:
        return False
    moved = np.abs(b - a)
    # a swap of i and j that changes a sign pairs values of opposite signs no farther apart than
    # SWAP_COST_RATIO (moved_i + moved_j): each eigenvalue taking part has an end that near zero
    near = np.nonzero(np.minimum(np.abs(a), np.abs(b)) <= 2.0 * SWAP_COST_RATIO * moved.max())[0]
    if near.size < 2:
        return False
    a, b, moved = a[near], b[near], moved[near]
    ua, ub = a > 0, b > 0
    chosen = moved[:, None] + moved[None, :]
    swapped = np.abs(b[None, :] - a[:, None]) + np.abs(b[:, None] - a[None, :])
    count = (ua != ub).astype(int)
    count_chosen = count[:, None] + count[None, :]
    count_swapped = (ua[:, None] != ub[None, :]).astype(int) + (ua[None, :] != ub[:, None]).astype(int)
    off = ~np.eye(a.size, dtype=bool)
    return bool(np.any(off & (count_swapped != count_chosen) & (swapped <= SWAP_COST_RATIO * chosen)))


def _map_index(values: np.ndarray, map_scale: float) -> int:
    """Multipliers ``1 + h tau lambda`` of modulus above ``1`` (plus a round-off margin)."""
    return int(np.sum(np.abs(1.0 + map_scale * values) > 1.0 + 1e-9))


class _Tracker:
    """Points, tangents and matched spectra of every branch, and the bifurcations located on them."""

    def __init__(self, system: _System, n_branch: int, *, map_scale: float | None, tol: float,
                 max_newton: int, spectra: _Spectra) -> None:
        self.system = system
        self.spectra = spectra
        self.batch = SPECTRA_BATCH if spectra.leading else 1
        self.pending: list[list[int]] = [[] for _ in range(n_branch)]
        self.fetched: list[dict[int, np.ndarray]] = [dict() for _ in range(n_branch)]
        self.map_scale = map_scale
        self.tol = tol
        self.max_newton = max_newton
        self.ys: list[list[Tensor]] = [[] for _ in range(n_branch)]
        self.ts: list[list[Tensor]] = [[] for _ in range(n_branch)]
        self.signs: list[list[float]] = [[] for _ in range(n_branch)]
        self.folds: list[set[int]] = [set() for _ in range(n_branch)]  # points reached through a fold
        self.spec: list[dict[int, np.ndarray]] = [dict() for _ in range(n_branch)]
        self.events: list[dict[str, Any]] = []

    def det_signs(self, y: Tensor) -> list[float]:
        """``sign det dF/dx`` at the rows of ``y`` (LU); NaN with leading windows, where the spectra give it."""
        if self.spectra.leading:
            return [float("nan")] * y.shape[0]
        return torch.linalg.slogdet(self.system.jx(y))[0].tolist()

    def add_point(self, bi: int, y: Tensor, t: Tensor, sign: float) -> int:
        self.ys[bi].append(y.clone())
        self.ts[bi].append(t.clone())
        self.signs[bi].append(float(sign))
        return len(self.ys[bi]) - 1

    def _raw(self, bi: int, k: int) -> np.ndarray:
        if k in self.fetched[bi]:
            return self.fetched[bi].pop(k)
        return self.spectra(self.ys[bi][k][None])[0]

    def prefetch(self, bi: int, ks) -> None:
        """Compute the spectra of the points ``ks`` of branch ``bi`` in one batched call (leading windows)."""
        ks = [k for k in ks if k not in self.spec[bi] and k not in self.fetched[bi]]
        if len(ks) > 1 and self.spectra.leading:
            for k, values in zip(ks, self.spectra(torch.stack([self.ys[bi][k] for k in ks]))):
                self.fetched[bi][k] = values

    def compute(self, bi: int, k: int) -> np.ndarray:
        """The spectrum at point ``k``, matched to the nearest computed one before it (every eigenvalue)."""
        if k not in self.spec[bi]:
            raw = self._raw(bi, k)
            prev = [j for j in self.spec[bi] if j < k]
            self.spec[bi][k] = self.spectra.align(self.spec[bi][max(prev)], raw) if prev else raw
        return self.spec[bi][k]

    def queue(self, bi: int, k: int) -> None:
        """Scan point ``k`` now, or with the next batch of points of its branch (leading windows)."""
        self.pending[bi].append(k)
        if len(self.pending[bi]) >= self.batch:
            self.flush(bi)

    def flush(self, bi: int) -> None:
        """Scan the queued points of branch ``bi``, their spectra computed together."""
        ks, self.pending[bi] = self.pending[bi], []
        self.prefetch(bi, ks)
        for k in ks:
            self.scan(bi, k)

    def _counts(self, values: np.ndarray) -> tuple[int, ...]:
        cplx = is_complex(values)
        out = (_index(values, self.system.tau), int(np.sum(cplx & (values.real > 0))))
        if self.map_scale is not None:
            out += (_map_index(values, self.map_scale),)
        return out

    def scan(self, bi: int, k: int) -> None:
        """Compute the spectrum at ``k`` and locate the events since the last computed spectrum."""
        prev = [j for j in self.spec[bi] if j < k]
        self.compute(bi, k)
        if not prev:
            return
        j0 = max(prev)
        if k - j0 > 1:
            pair = self.spectra.pair(self.spec[bi][j0], self.spec[bi][k])
            # a fold in between (one real eigenvalue through zero) may hide a branch point (another one back)
            # from the counts, whether the spectra are whole or leading windows
            fold_between = any(j0 < f <= k for f in self.folds[bi])
            if pair is not None and not fold_between and not pair_events(*pair, map_scale=self.map_scale) \
                    and not len(_real_crossings(*pair, self.system.tau)) \
                    and self._counts(self.spec[bi][j0]) == self._counts(self.spec[bi][k]):
                return
            raw_k = self.spec[bi].pop(k)
            if self.spectra.leading:  # stored as computed: reused, not computed again
                self.fetched[bi][k] = raw_k
            self.prefetch(bi, range(j0 + 1, k + 1))
            for j in range(j0 + 1, k + 1):  # fill in: every point matched to its neighbour
                self.compute(bi, j)
        for j in range(j0, k):
            if self.spectra.leading:  # a real eigenvalue through zero without a fold: a branch point
                sign_lo, sign_hi = self.spectra.sign(self.spec[bi][j]), self.spectra.sign(self.spec[bi][j + 1])
                self.signs[bi][j], self.signs[bi][j + 1] = sign_lo, sign_hi
                if sign_lo != sign_hi and j + 1 not in self.folds[bi]:
                    exact = torch.linalg.slogdet(self.system.jx(torch.stack([self.ys[bi][j], self.ys[bi][j + 1]])))[0]
                    if float(exact[0]) != float(exact[1]):
                        self.locate_zero_crossing(bi, j + 1, "branch_point")
                    else:  # the windows missed a real eigenvalue (LU says no sign change): decompose both densely
                        d = self.spectra.dense(torch.stack([self.ys[bi][j], self.ys[bi][j + 1]]))
                        self.spec[bi][j], self.spec[bi][j + 1] = d[0], match_eigenvalues(d[0], d[1])
                        self.signs[bi][j], self.signs[bi][j + 1] = float(exact[0]), float(exact[1])
            self._step_events(bi, j)

    def _step_events(self, bi: int, j: int) -> None:
        """Locate the events of step ``j`` (from point ``j`` to ``j + 1``), with nodes inside it where its ends
        can hide what happens in between.

        At a fold ``s`` turns back, so an eigenvalue that depends on ``s`` alone (a part of the circuit that
        the fold does not involve) may cross zero on the way in and again on the way out, within one step.
        Spectra just before and just after each located fold (``FOLD_NODE`` times the step's arclength away)
        split the step, so that the fold's own eigenvalue, near zero at the fold, is clearly signed at every
        node; inside that short interval real eigenvalues through zero are not split apart (there they are
        within their round-off of each other).  Then nodes go where a tracked eigenvalue's real part may peak
        across zero and come back (:meth:`_hidden_peaks`).
        """
        hi = self._sigma(bi, j)
        delta = FOLD_NODE * abs(hi)
        wanted: list[tuple[float, bool]] = []  # (arclength, whether to isolate crossings in the interval after it)
        for sigma in sorted(e["sigma"] for e in self.events if e["branch"] == bi and e["k"] == j + 1
                            and e["kind"] == "fold" and e["located"] and 0.0 < e["sigma"] < hi):
            if (wanted[-1][0] if wanted else 0.0) < sigma - delta and sigma + delta < hi:
                wanted += [(sigma - delta, False), (sigma + delta, True)]
        # the chain of samples: arclength, point, spectrum (each matched to the one before), isolate flag
        chain = [(0.0, self.ys[bi][j][None], self.spec[bi][j], True)]
        for sigma, isolate in wanted:
            chain = self._add_sample(bi, j, chain, sigma, isolate)
        end = self.spec[bi][j + 1] if len(chain) == 1 else self.spectra.align(chain[-1][2], self.spec[bi][j + 1])
        chain.append((hi, self.ys[bi][j + 1][None], end, True))
        before = None
        if j > 0 and (j - 1) in self.spec[bi]:
            before = (-self._sigma(bi, j - 1), self.spec[bi][j - 1], self.spec[bi][j])
        for sigma in self._hidden_peaks(chain, before):
            chain = self._add_sample(bi, j, chain, sigma, True)
        for (lo, y_lo, spec_lo, isolate), (up, y_up, spec_up, _) in zip(chain, chain[1:]):
            self._split(bi, j, lo, up, spec_lo, spec_up, 0, y_lo, y_up, isolate=isolate)

    def _add_sample(self, bi: int, j: int, chain: list, sigma: float, isolate: bool) -> list:
        """``chain`` with the sample at arclength ``sigma`` of step ``j`` inserted in order, the spectrum after it
        matched to it again (unchanged when the point's correction fails)."""
        at = next((i for i, c in enumerate(chain) if c[0] > sigma), len(chain))
        y, ok = self._point(bi, j, sigma)
        if not ok or at == 0:
            return chain
        spec = self.spectra.align(chain[at - 1][2], self.spectra(y)[0])
        out = chain[:at] + [(sigma, y, spec, isolate if at == len(chain) else chain[at - 1][3])]
        if at < len(chain):
            nxt = chain[at]
            out.append((nxt[0], nxt[1], self.spectra.align(spec, nxt[2]), nxt[3]))
            out += chain[at + 1:]
        return out

    def _hidden_peaks(self, chain: list, before: tuple | None) -> list[float]:
        """Arclengths inside the intervals of ``chain`` where a tracked eigenvalue's real part may turn back
        across zero.

        An eigenvalue whose real part crosses zero and returns between two samples leaves both on one side.
        Three consecutive samples (the step's point before, ``before = (arclength, spectrum there, spectrum at
        the step's start)``, when there is one) give each matched eigenvalue a parabola in arclength; where its
        vertex lies inside an interval whose isolate flag is set and rises at least halfway from the nearer
        end to zero (or beyond), by more than a zero eigenvalue's round-off, a node goes there.  For the flow only (a map's critical set is the unit
        circle of its multipliers).
        """
        if self.map_scale is not None:
            return []
        xs = [c[0] for c in chain]
        pairs = [self.spectra.pair(a[2], b[2]) for a, b in zip(chain, chain[1:])]
        if before is not None:
            xs = [before[0]] + xs
            pairs = [self.spectra.pair(before[1], before[2])] + pairs
        flags = ([False] if before is not None else []) + [c[3] for c in chain]
        peaks: list[float] = []
        for q in range(len(pairs)):  # interval q (from xs[q] to xs[q + 1]); its triple starts at q - 1 or q
            t = q - 1 if q > 0 else 0 if len(pairs) > 1 else None
            if t is None or not flags[q] or pairs[t] is None or pairs[t + 1] is None:
                continue
            first, second = pairs[t], pairs[t + 1]
            # one eigenvalue in both pairs: its values at the shared sample come from one array, so they compare
            # exactly
            at_mid = {complex(v): i for i, v in enumerate(first[1])}
            triples = [(first[0][at_mid[complex(v)]].real, v.real, second[1][i].real)
                       for i, v in enumerate(second[0]) if complex(v) in at_mid]
            if not triples:
                continue
            r = np.array(triples)
            x0, x1, x2 = xs[t], xs[t + 1], xs[t + 2]
            slope = (r[:, 1] - r[:, 0]) / (x1 - x0)
            curve = ((r[:, 2] - r[:, 1]) / (x2 - x1) - slope) / (x2 - x0)
            with np.errstate(divide="ignore", invalid="ignore"):
                vertex = 0.5 * (x0 + x1) - slope / (2.0 * curve)
                peak = r[:, 0] + slope * (vertex - x0) + curve * (vertex - x0) * (vertex - x1)
            lo, up = xs[q], xs[q + 1]
            ends = r[:, [q - t, q - t + 1]]  # the values at the interval's two ends
            floor = ZERO_EIGENVALUE / self.system.tau  # a rise within a zero eigenvalue's round-off is no peak
            below = (ends < 0).all(1) & (curve < 0) & (peak >= 0.5 * ends.max(1)) & (peak - ends.max(1) > floor)
            above = (ends > 0).all(1) & (curve > 0) & (peak <= 0.5 * ends.min(1)) & (ends.min(1) - peak > floor)
            inside = np.isfinite(vertex) & (vertex > lo) & (vertex < up)
            peaks += [float(v) for v in vertex[(below | above) & inside]]
        return sorted(set(peaks))

    def _sigma(self, bi: int, j: int) -> float:
        return float((self.ts[bi][j] * (self.ys[bi][j + 1] - self.ys[bi][j])).sum())

    def _point(self, bi: int, j: int, sigma: float) -> tuple[Tensor, bool]:
        return _arc_point(self.system, self.ys[bi][j][None], self.ts[bi][j][None], sigma, tol=self.tol,
                          max_newton=self.max_newton)

    def _split(self, bi: int, j: int, lo: float, hi: float, spec_lo: np.ndarray, spec_hi: np.ndarray,
               depth: int, y_lo: Tensor, y_hi: Tensor, *, isolate: bool = True) -> None:
        """Locate the events between arclengths ``lo`` and ``hi`` of step ``j``, splitting the interval where an
        event is ambiguous, where the events do not account for the change of the index and, with ``isolate``,
        where two real eigenvalues may be matched the wrong way round and until each event (and each real
        eigenvalue through zero that no located fold or branch point accounts for) is alone in its interval."""
        pair = self.spectra.pair(spec_lo, spec_hi)
        if pair is None:  # leading windows that do not pair: both ends decomposed densely
            d = self.spectra.dense(torch.cat([y_lo, y_hi]))
            spec_lo, spec_hi = d[0], match_eigenvalues(d[0], d[1])
            pair = spec_lo, spec_hi
        events = pair_events(*pair, map_scale=self.map_scale)
        crossing = _real_crossings(*pair, self.system.tau)
        known = [e for e in self.events if e["branch"] == bi and e["k"] == j + 1
                 and e["kind"] in ("fold", "branch_point") and lo <= e["sigma"] <= hi]
        # a fold, a collision and a Hopf point close together (near a Bogdanov-Takens point) can leave the two
        # ends looking like one harmless event (an unstable real eigenvalue at one end, an unstable pair at the
        # other): the change of the index that the events do not account for says the interval must be split.
        # Events, and real eigenvalues through zero that no located event accounts for, are split apart until
        # each is alone in its interval, where tracking one eigenvalue (or the sign of det J) cannot confuse it
        # with another: two pairs of nearly one frequency crossing close together were both tracked onto one.
        unseen = len(crossing) > len(known)
        n_events = len(events) + (len(crossing) - len(known) if unseen else 0)
        apart = isolate and (len(crossing) < len(known) or _ambiguous_crossings(*pair, self.system.tau)
                             or n_events > 1)
        if (any(e.ambiguous for e in events) or _unexplained_index_change(*pair, events, self.system.tau) or apart) \
                and depth < MAX_SPLIT:
            mid = 0.5 * (lo + hi)
            y_mid, ok = self._point(bi, j, mid)
            if ok:
                spec_mid = self.spectra.align(spec_lo, self.spectra(y_mid)[0])
                spec_hi = self.spectra.align(spec_mid, spec_hi)
                self._split(bi, j, lo, mid, spec_lo, spec_mid, depth + 1, y_lo, y_mid, isolate=isolate)
                self._split(bi, j, mid, hi, spec_mid, spec_hi, depth + 1, y_mid, y_hi, isolate=isolate)
                return
        for e in events:
            self._locate_event(bi, j, lo, hi, e)
        if unseen:
            self._branch_points(bi, j, lo, hi, [(complex(pair[0][i]), complex(pair[1][i])) for i in crossing], known)

    def _branch_points(self, bi: int, j: int, lo: float, hi: float, crossing: list[tuple[complex, complex]],
                       known: list[dict[str, Any]]) -> None:
        """Locate the branch points between arclengths ``lo`` and ``hi`` of step ``j`` that the fold and
        ``det J`` tests of the stepping cannot see.

        Every real eigenvalue through zero is a fold or a branch point.  The tangent's ``s`` component sees a
        fold and the sign of ``det J`` an odd number of crossings, so two crossings in one step (two branch
        points, a fold and a branch point, two eigenvalues through zero at once) leave one or both unseen.
        ``crossing`` holds each crossing's eigenvalue at ``lo`` and at ``hi``.  One crossing alone is located
        by bisection on the sign of ``det J``; crossings that splitting could not separate (eigenvalues
        through zero at the same point) each as the root of its tracked real part, where each event in
        ``known`` claims the crossing nearest it in arclength.
        """
        system = self.system
        y0, t0 = self.ys[bi][j][None], self.ts[bi][j][None]
        if len(crossing) == 1 and not known:
            yb, sigma, ok = _bisect(system, y0, t0, None, lambda yy: float(torch.linalg.slogdet(system.jx(yy))[0][0]),
                                    tol=self.tol, max_newton=self.max_newton, lo=lo, hi=hi)
            if ok:  # else det J kept its sign (another real eigenvalue crossed unseen): tracked below
                self._record(bi, j + 1, "branch_point", yb, sigma, self.spectra.nearest(yb, 0j, upper=False), ok)
                return
        found = [_root_on_arc(system, y0, t0, lo, hi, before, after, lambda lam: lam.real, upper=False,
                              tol=self.tol, max_newton=self.max_newton, spectra=self.spectra)
                 for before, after in crossing]
        for e in known:
            found.pop(min(range(len(found)), key=lambda q: abs(found[q][1] - e["sigma"])))
        for yy, sigma, lam, ok in sorted(found, key=lambda f: f[1]):
            # tracking by continuity can jump between two eigenvalues near zero: a root is kept as located only
            # where its eigenvalue is zero to within its round-off
            self._record(bi, j + 1, "branch_point", yy, sigma, lam, ok and abs(lam) <= ZERO_EIGENVALUE / system.tau)

    def _locate_event(self, bi: int, j: int, lo: float, hi: float, e: TrackedEvent) -> None:
        m = self.map_scale
        if e.kind == "hopf":
            def test(lam: complex) -> float:
                return lam.real
        elif e.kind == "neimark_sacker":
            def test(lam: complex) -> float:
                return abs(1.0 + m * lam) - 1.0
        elif e.kind == "period_doubling":
            def test(lam: complex) -> float:
                return (1.0 + m * lam).real + 1.0
        else:  # collision: the tracked eigenvalue is complex on one side, real on the other
            def test(lam: complex) -> float:
                return 1.0 if bool(is_complex(np.array([lam]))[0]) else -1.0
        y0, t0 = self.ys[bi][j][None], self.ts[bi][j][None]
        yy, sigma, lam, ok = _root_on_arc(self.system, y0, t0, lo, hi, e.before, e.after, test,
                                          upper=e.kind in ("hopf", "neimark_sacker"), tol=self.tol,
                                          max_newton=self.max_newton, spectra=self.spectra)
        self._record(bi, j + 1, e.kind, yy, sigma, lam, ok)

    def _polish(self, bi: int, j: int, yy: Tensor, sigma: float) -> Tensor:
        """One more Newton step for a located point ``yy`` (1, N + 1) on its hyperplane, at arclength ``sigma`` of
        step ``j``, kept where it lowers ``max |F|``.

        The corrector stops as soon as ``max |F| <= tol``; near a fold that leaves ``s`` off by about ``tol``
        over ``|dF/ds|``, and a located bifurcation is worth the extra step.
        """
        y0, t0 = self.ys[bi][j][None], self.ts[bi][j][None]
        y1, _, _ = _correct(self.system, yy, t0, (t0 * y0).sum(-1) + sigma, tol=0.0, max_newton=1)
        before, after = (float(self.system.residual(v).abs().amax()) for v in (yy, y1))
        return y1 if after < before else yy

    def locate_zero_crossing(self, bi: int, k: int, kind: str) -> None:
        """Locate a fold (tangent's ``s`` component) or branch point (sign of ``det J``) between ``k - 1`` and ``k``."""
        system = self.system
        y0, y1, t0 = self.ys[bi][k - 1][None], self.ys[bi][k][None], self.ts[bi][k - 1][None]
        if kind == "fold":
            def indicator(yy: Tensor) -> float:
                return float(_tangent(system, yy, t0)[0, -1])
        else:
            def indicator(yy: Tensor) -> float:
                return float(torch.linalg.slogdet(system.jx(yy))[0][0])
        yb, sigma, ok = _bisect(system, y0, t0, y1, indicator, tol=self.tol, max_newton=self.max_newton)
        lam = self.spectra.nearest(yb, 0j, upper=False)
        self._record(bi, k, kind, yb, sigma, lam, ok)

    def _record(self, bi: int, k: int, kind: str, yy: Tensor, sigma: float, lam: complex, ok: bool) -> None:
        if ok:
            yy = self._polish(bi, k - 1, yy, sigma)
        self.events.append(dict(branch=bi, k=k, kind=kind, y=yy[0].detach().cpu().numpy().copy(), sigma=float(sigma),
                                eig=complex(lam), located=bool(ok)))


def _assemble(circuit, tracker: _Tracker, labels, end_reason, end_x, *, n_modes, match_tol, system, map_scale,
              attrs) -> xr.Dataset:
    n = circuit.n_units
    n_branch = len(tracker.ys)
    # rows of each branch: the continuation points with the located bifurcations inserted in arclength order
    rows: list[list[tuple[np.ndarray, str, np.ndarray | None, int]]] = []
    event_row: dict[int, tuple[int, int]] = {}
    for i in range(n_branch):
        evs = sorted([(e["k"], e["sigma"], q) for q, e in enumerate(tracker.events) if e["branch"] == i])
        out: list[tuple[np.ndarray, str, np.ndarray | None, int]] = []
        ei = 0
        for k, yk in enumerate(tracker.ys[i]):
            while ei < len(evs) and evs[ei][0] == k:
                q = evs[ei][2]
                event_row[q] = (i, len(out))
                out.append((tracker.events[q]["y"], tracker.events[q]["kind"], None, q))
                ei += 1
            out.append((yk.detach().cpu().numpy(), labels[i][k], tracker.spec[i].get(k), -1))
        rows.append(out)
    # spectra at the located points
    ev_y = np.array([e["y"] for e in tracker.events]).reshape(len(tracker.events), n + 1)
    ev_spec = tracker.spectra(torch.tensor(ev_y, dtype=_DT, device=system.W_rec.device)) if len(ev_y) else None
    n_step = max((len(r) for r in rows), default=0)
    k_modes = min(n_modes, n)
    x = np.full((n_branch, n_step, n), np.nan)
    s = np.full((n_branch, n_step), np.nan)
    res = np.full((n_branch, n_step), np.nan)
    index = np.full((n_branch, n_step), -1, dtype=np.int64)
    map_index = np.full((n_branch, n_step), -1, dtype=np.int64)
    er = np.full((n_branch, n_step, k_modes), np.nan)
    ei_ = np.full((n_branch, n_step, k_modes), np.nan)
    lab = np.full((n_branch, n_step), "", dtype=object)
    for i, out in enumerate(rows):
        if not out:
            continue
        arr = np.array([r[0] for r in out])
        m = len(out)
        x[i, :m] = arr[:, :-1] * system.scale
        s[i, :m] = arr[:, -1]
        res[i, :m] = system.residual(torch.tensor(arr, dtype=_DT, device=system.W_rec.device)).abs().amax(-1).cpu().numpy()
        for r, (_, label, spec, q) in enumerate(out):
            lab[i, r] = label
            values = ev_spec[q] if q >= 0 else spec
            if values is None:
                continue
            top = values[np.argsort(-values.real, kind="stable")][:k_modes]
            er[i, r], ei_[i, r] = top.real, top.imag
            index[i, r] = _index(values, circuit.tau)
            if map_scale is not None:
                map_index[i, r] = _map_index(values, map_scale)
    # the same bifurcation met by two branches (e.g. both sides of a fold) is listed once; two events of one
    # step at one point (two eigenvalues through zero at once, two pairs crossing at once) are both kept
    unique: list[int] = []
    for q, e in enumerate(tracker.events):
        if not any(e["kind"] == tracker.events[u]["kind"]
                   and (e["branch"], e["k"]) != (tracker.events[u]["branch"], tracker.events[u]["k"])
                   and np.linalg.norm(e["y"] - tracker.events[u]["y"]) <= match_tol * (1 + np.linalg.norm(tracker.events[u]["y"]))
                   for u in unique):
            unique.append(q)
    unique.sort(key=lambda q: (tracker.events[q]["branch"], event_row[q][1]))
    evs = [tracker.events[q] for q in unique]
    nb = len(evs)
    bif_x = np.array([e["y"][:-1] * system.scale for e in evs]).reshape(nb, n)
    bif_res = system.residual(torch.tensor(np.array([e["y"] for e in evs]).reshape(nb, n + 1), dtype=_DT,
                                           device=system.W_rec.device)).abs().amax(-1).cpu().numpy() if nb else np.zeros(0)
    eig = np.array([e["eig"] for e in evs], dtype=np.complex128).reshape(nb)
    # whether each Hopf point of the flow is supercritical or subcritical (dense solves: up to
    # LYAPUNOV_MAX_UNITS units)
    lyapunov = np.full(nb, np.nan)
    if map_scale is None and n <= LYAPUNOV_MAX_UNITS:
        for q, e in enumerate(evs):
            if e["kind"] == "hopf":
                y_h = torch.tensor(e["y"], dtype=_DT, device=system.W_rec.device)
                ext_h, _ = system.ext(y_h[-1:])
                lyapunov[q] = first_lyapunov_coefficient(system.dyn, y_h[:-1] * system.scale, ext_h[0],
                                                         abs(float(e["eig"].imag)))
    starts = np.array([r[0][0][:-1] * system.scale for r in rows]).reshape(n_branch, n)
    returns_to = np.full(n_branch, -1, dtype=np.int64)
    for i, (out, why) in enumerate(zip(rows, end_reason)):
        if why == "returned_to_start":
            d = np.linalg.norm(starts - out[-1][0][:-1] * system.scale, axis=1)
            j = int(np.argmin(d))
            if d[j] <= match_tol * (1 + np.linalg.norm(starts[j])):
                returns_to[i] = j
    data = {
        "x": (("branch", "step", "unit"), x, {"long_name": "fixed point along the branch",
                                                      "units": "state units"}),
        "s": (("branch", "step"), s, {"long_name": "path parameter: b(s) = tonic input at s"}),
        "residual": (("branch", "step"), res, {"long_name": "max |F(x)|", "units": "state units per ms"}),
        "index": (("branch", "step"), index, {"long_name": "number of eigenvalues of dF/dx with positive real part "
                                                             "(-1: spectrum not computed)"}),
        "eig_real": (("branch", "step", "mode"), er, {"long_name": "leading eigenvalues of dF/dx, real parts",
                                                      "units": "1/ms"}),
        "eig_imag": (("branch", "step", "mode"), ei_, {"long_name": "leading eigenvalues of dF/dx, imaginary parts",
                                                       "units": "1/ms"}),
        "label": (("branch", "step"), lab.astype(str), {"long_name": "start, end, or the bifurcation located at this "
                                                                      "row"}),
        "n_points": (("branch",), np.array([len(r) for r in rows], dtype=np.int64),
                     {"long_name": "rows of the branch (continuation points and located bifurcations)"}),
        "end_reason": (("branch",), np.array(end_reason, dtype=str).reshape(n_branch),
                       {"long_name": "why the branch ended"}),
        "returns_to": (("branch",), returns_to, {"long_name": "branch whose start point this branch returns to "
                                                           "(-1: none)"}),
        "start_index": (("branch",), index[:, 0] if n_step else np.zeros(n_branch, dtype=np.int64),
                        {"long_name": "index of the start fixed point"}),
        "bif_branch": (("bifurcation",), np.array([e["branch"] for e in evs], dtype=np.int64),
                       {"long_name": "branch of the bifurcation"}),
        "bif_kind": (("bifurcation",), np.array([e["kind"] for e in evs], dtype=str).reshape(nb),
                     {"long_name": "fold, branch_point, hopf, collision, period_doubling or neimark_sacker"}),
        "bif_step": (("bifurcation",), np.array([event_row[q][1] for q in unique], dtype=np.int64),
                     {"long_name": "row of the bifurcation in its branch"}),
        "bif_s": (("bifurcation",), np.array([e["y"][-1] for e in evs], dtype=np.float64).reshape(nb),
                  {"long_name": "path parameter of the bifurcation"}),
        "bif_x": (("bifurcation", "unit"), bif_x, {"long_name": "state at the bifurcation",
                                                     "units": "state units"}),
        "bif_residual": (("bifurcation",), bif_res, {"long_name": "max |F(x)| at the bifurcation",
                                                     "units": "state units per ms"}),
        "bif_eig_real": (("bifurcation",), eig.real.copy(), {"long_name": "critical eigenvalue of dF/dx, real part",
                                                             "units": "1/ms"}),
        "bif_eig_imag": (("bifurcation",), eig.imag.copy(), {"long_name": "critical eigenvalue of dF/dx, imaginary "
                                                                          "part", "units": "1/ms"}),
        "bif_located": (("bifurcation",), np.array([e["located"] for e in evs], dtype=bool).reshape(nb),
                        {"long_name": "the location converged (False: nearest point found)"}),
        "bif_lyapunov": (("bifurcation",), lyapunov,
                         {"long_name": "first Lyapunov coefficient of a Hopf point of the flow (negative: "
                                       "supercritical, the small cycles attract within the centre manifold; "
                                       "positive: subcritical, they repel); NaN for other bifurcations, a relu "
                                       "circuit, or more than "
                                       f"{LYAPUNOV_MAX_UNITS} units", "units": "1 / state units^2"}),
    }
    if map_scale is not None:
        mu = 1.0 + map_scale * eig
        data["map_index"] = (("branch", "step"), map_index,
                             {"long_name": "number of multipliers of the map with modulus above 1 "
                                           "(-1: spectrum not computed)"})
        data["bif_multiplier_real"] = (("bifurcation",), mu.real.copy(),
                                       {"long_name": "critical multiplier of the map, real part"})
        data["bif_multiplier_imag"] = (("bifurcation",), mu.imag.copy(),
                                       {"long_name": "critical multiplier of the map, imaginary part"})
    ds = xr.Dataset(data, coords={"branch": np.arange(n_branch), "step": np.arange(n_step), "unit": np.arange(n),
                                  "mode": np.arange(k_modes)}, attrs=attrs)
    # fixed points at s = 1 that no branch reaches
    ends = [out[-1][0][:-1] * system.scale for out, why in zip(rows, end_reason) if why == "reached_end"]
    unreached = [p for p in end_x
                 if not any(np.linalg.norm(p - q) <= match_tol * (1 + np.linalg.norm(p)) for q in ends)]
    un = np.asarray(unreached).reshape(len(unreached), n)
    un_index = np.zeros(len(unreached), dtype=np.int64)
    if len(unreached):
        yy = torch.cat([torch.tensor(un, dtype=_DT) / system.scale, torch.ones(len(unreached), 1, dtype=_DT)], dim=-1)
        un_index = np.array([_index(v, circuit.tau) for v in tracker.spectra(yy.to(system.W_rec.device))],
                            dtype=np.int64)
    ds["unreached_x"] = (("unreached", "unit"), un, {"long_name": "fixed points at s = 1 that no branch reaches",
                                                      "units": "state units"})
    ds["unreached_index"] = (("unreached",), un_index,
                             {"long_name": "index (eigenvalues with positive real part) of each unreached fixed point"})
    ds = ds.assign_coords(
        bifurcation=("bifurcation", np.arange(ds.sizes["bifurcation"]), {"long_name": "bifurcation index"}),
        unreached=("unreached", np.arange(len(unreached)), {"long_name": "index of an unreached end fixed point"}))
    ds.attrs["n_end_fixed_points"] = int(len(end_x))
    return ds
