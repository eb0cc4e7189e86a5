"""Batched damped Newton / Levenberg-Marquardt corrector for ``F(x) = 0``.

One iteration, for every active candidate independently (chunks of the batch
run on a few Python threads, see :mod:`neurobias.analysis._linalg`):

1. ``F = F(x)``; a candidate with ``max|F| <= tol`` has converged and stops.
2. The analytic Jacobian ``J`` is LU-factorised and the Newton step
   ``d = -J^{-1} F`` computed.  Where ``J`` is singular (or the candidate is in
   Levenberg-Marquardt mode, ``lam > 0``) the LM step
   ``d = -(J^T J + mu I)^{-1} J^T F`` with ``mu = lam * mean(diag(J^T J))`` is
   used instead.
3. The step is capped at ``max_step`` (max-norm, state units) and a
   backtracking line search on ``q = |F|^2 / 2`` tries ``x + a d`` for
   ``a = 1, 1/2, ..., 2^-(n_backtrack-1)`` at once (cheap: no factorisation)
   and takes the largest ``a`` with Armijo decrease
   ``q(x + a d) <= q(x) + 1e-4 a (J^T F) . d`` (``a = 1`` is tried first,
   the shorter steps only where it fails).  The Newton direction is always
   a descent direction of ``q`` (``(J^T F) . d = -|F|^2``), so this globalises
   Newton; when no ``a`` works, ``lam`` grows tenfold (towards gradient
   descent) and the candidate stays put; after a success ``lam`` shrinks
   tenfold and returns to pure Newton below ``LAM_MIN``.
4. After a full Newton step (``a = 1``), up to ``chord_steps`` chord steps
   reuse the same LU factors (``d = -J(x_old)^{-1} F(x_new)``, cost ``O(n^2)``),
   each kept only if it at least halves ``|F|``.

A candidate stops when it converges, when ``lam`` exceeds ``LAM_MAX`` (it sits
in a local minimum of ``q`` that is not a zero: a slow point or a failure), or
after ``max_iter`` iterations.  Everything is float64; the dense iteration
runs inside :func:`neurobias.analysis._linalg.one_lapack_thread` (the
caller's scope), the matrix-free one on the caller's threads, scoping one
thread around its own factorisations (:func:`_lu_steps`).

With ``solver="krylov"`` step 2 is solved matrix-free (GMRES on products
``J v``, see :func:`_iterate_krylov` and :mod:`neurobias.analysis.krylov`;
LU near a fixed point where GMRES stalls) and step 4 is skipped; the line
search and damping are the same.

This module is shared by the fixed-point finder and the continuation.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from neurobias.analysis._dedup import match
from neurobias.analysis._field import Field
from neurobias.analysis._linalg import chunks, lu_apply, lu_checked, map_chunks, one_lapack_thread, solve_checked
from neurobias.analysis.krylov import cg, gmres

__all__ = ["NewtonResult", "newton_solve", "LAM_MIN", "LAM_MAX", "SOLVERS"]

#: how the Newton steps are solved: LU factorisation of ``J``, or GMRES with products ``J v`` only
SOLVERS: tuple[str, ...] = ("dense", "krylov")
KRYLOV_RESTART = 40  # Krylov dimension of one GMRES cycle
KRYLOV_RESTARTS = 6  # GMRES cycles per Newton step at most
#: A Newton step near a fixed point (``max|F| <=`` this, state units per ms) whose system GMRES has not solved in
#: :data:`KRYLOV_RESTARTS` cycles of :data:`KRYLOV_RESTART` products is solved by an LU factorisation of ``tau J``
#: instead.  GMRES preconditioned by the ``-I / tau`` part converges in a few products where ``W_eff = W
#: diag(phi')`` is small or low-dimensional (the reference circuits: 3-18 products per Newton step), but hardly at
#: all where its spectrum reaches past 1, as about the fixed points of random circuits with a gain above 1 (g = 1.3,
#: 512 units: 150-180 products per step on average, half the systems unsolved after 240).  The last inexact steps
#: then stopped just under ``tol`` with the point still 1e-8 to 6e-7 from the true one (max-norm, ill-conditioned
#: saddles of random gain-1.5 circuits of 160 units, 2026-12-07), and the one-iteration polish could not improve it;
#: the exact step converges quadratically, as on the dense path (residuals near 1e-16, the points within 1e-12 of
#: the dense path's).  Only near a fixed point: the factorisations cost about as much as 3, 8, 15 and 20 GMRES
#: cycles at 256, 512, 1024 and 2048 units (per candidate, batches of 16-64; the LU on one thread, the products on 2
#: cores), and an LU for every hard system made the bias-trained 1024-unit circuit of the benchmark, where most
#: candidates never converge, 2.6 times slower (188 s against 74 s, the same 3 points); with this threshold it took
#: 74 s.
LU_NEAR_RESIDUAL = 1e-6

LAM0 = 1e-3
LAM_MIN = 1e-7
LAM_MAX = 1e12
ARMIJO = 1e-4


@dataclass
class NewtonResult:
    """Outcome of :func:`newton_solve` for a batch of candidates.

    Attributes
    ----------
    x : Tensor of shape (m, unit)
        Final states.
    residual : Tensor of shape (m,)
        ``max|F(x)|``, state units per ms.
    q : Tensor of shape (m,)
        ``|F(x)|^2 / 2``.
    converged : Tensor of shape (m,), bool
        ``residual <= tol``.
    n_iter : Tensor of shape (m,), int
        Iterations (factorisations) used.
    snapped : Tensor of shape (m,), bool
        Stopped on reaching a fixed point found before (see ``snap_rtol``).
    """

    x: Tensor
    residual: Tensor
    q: Tensor
    converged: Tensor
    n_iter: Tensor
    snapped: Tensor


def _iterate(
    field: Field, x: Tensor, ctx: Tensor, lam: Tensor, *, max_step: Tensor, n_backtrack: int, chord_steps: int
) -> tuple[Tensor, Tensor]:
    """One damped Newton / LM iteration on a chunk; returns the new ``x`` and ``lam``.

    Works with ``tau J`` and ``tau F`` (same steps, one pass less over the
    matrices); every (m, unit, unit) tensor is touched as few times as possible
    because memory bandwidth, not arithmetic, limits this loop on CPUs.
    """
    m, n = x.shape
    tau = field.tau
    F = field.F(x, ctx)
    q0 = 0.5 * (F * F).sum(-1)
    g = field.JTv(x, ctx, F)  # J^T F, the gradient of q
    Js = field.J_scaled(x, ctx)  # tau J
    rhs = -tau * F
    newton = lam == 0
    d = torch.full_like(x, float("nan"))
    have_lu = torch.zeros(m, dtype=torch.bool, device=x.device)
    LU = piv = None
    if bool(newton.all()):
        d, ok, LU, piv = lu_checked(Js, rhs)
        have_lu = ok
    elif bool(newton.any()):
        idx = torch.nonzero(newton).squeeze(-1)
        dn, ok, LU, piv = lu_checked(Js[idx], rhs[idx])
        d[idx] = dn
        have_lu[idx] = ok
        # factors of the Newton subset only: chord steps use them by position
        LU_full = torch.zeros((m, n, n), dtype=x.dtype, device=x.device)
        piv_full = torch.ones((m, n), dtype=piv.dtype, device=x.device)
        LU_full[idx], piv_full[idx] = LU, piv
        LU, piv = LU_full, piv_full
    else:
        ok = torch.zeros(0, dtype=torch.bool, device=x.device)
    lam = torch.where(newton & ~have_lu, torch.full_like(lam, LAM0), lam)
    lm = lam > 0
    if bool(lm.any()):
        idx = torch.nonzero(lm).squeeze(-1)
        Jl = Js[idx]
        JtJ = Jl.transpose(-1, -2) @ Jl
        diag_mean = torch.diagonal(JtJ, dim1=-2, dim2=-1).mean(-1).clamp_min(1e-300)
        mu = lam[idx] * diag_mean
        JtJ.diagonal(dim1=-2, dim2=-1).add_(mu.unsqueeze(-1))
        gs = (tau * tau) * g[idx]  # (tau J)^T (tau F)
        dl, ok_l = solve_checked(JtJ, -gs)
        # a failed LM solve (absurd scales only) falls back to a scaled gradient step
        grad_step = -gs / (diag_mean + mu)[:, None]
        d[idx] = torch.where(ok_l.unsqueeze(-1), dl, grad_step)
    x_new, lam_new, any_ok, first, F_full = _line_search(field, x, ctx, d, g, q0, lam, max_step=max_step,
                                                         n_backtrack=n_backtrack)
    # chord steps after a full Newton step, reusing the LU factors
    chord = any_ok & (first == 0) & have_lu
    if chord_steps > 0 and LU is not None and bool(chord.any()):
        Fc = F_full
        for _ in range(chord_steps):
            dc = lu_apply(LU, piv, -tau * Fc)
            dc = dc * torch.clamp(max_step / dc.abs().amax(-1).clamp_min(1e-300), max=1.0).unsqueeze(-1)
            x2 = x_new + dc
            F2 = field.F(x2, ctx)
            better = chord & torch.isfinite(F2).all(-1) & ((F2 * F2).sum(-1) <= 0.25 * (Fc * Fc).sum(-1))
            if not bool(better.any()):
                break
            x_new = torch.where(better.unsqueeze(-1), x2, x_new)
            Fc = torch.where(better.unsqueeze(-1), F2, Fc)
            chord = better
    return x_new, lam_new


def _lu_steps(field: Field, x: Tensor, ctx: Tensor, rhs: Tensor, *, workers: int = 1) -> tuple[Tensor, Tensor]:
    """Newton steps solving ``tau J d = -rhs`` by LU, as the dense iteration factorises.

    The candidates' ``tau J`` are formed in memory chunks, factorised with one torch thread each (the scope
    of :func:`neurobias.analysis._linalg.one_lapack_thread`, whatever the caller's thread count) on
    ``workers`` Python threads.  Returns the steps (NaN where ``tau J`` is singular) and where they were
    solved, (m, unit) and (m,).
    """
    d = torch.full_like(x, float("nan"))
    ok = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)

    def run(sl: slice) -> tuple[Tensor, Tensor]:
        step, solved, _, _ = lu_checked(field.J_scaled(x[sl], ctx[sl]), -rhs[sl])
        return step, solved

    parts = chunks(x.shape[0], x.shape[1], min_chunks=workers)
    with one_lapack_thread():
        for sl, (step, solved) in zip(parts, map_chunks(run, parts, workers)):
            d[sl], ok[sl] = step, solved
    return d, ok


def _iterate_krylov(
    field: Field, x: Tensor, ctx: Tensor, lam: Tensor, *, max_step: Tensor, n_backtrack: int, workers: int = 1
) -> tuple[Tensor, Tensor]:
    """One damped Newton-Krylov / LM iteration on a batch; returns the new ``x`` and ``lam``.

    The Newton step solves ``(I - W_eff) d = tau F`` (``tau J = -I + W_eff``:
    the exact ``-I / tau`` part of ``J`` preconditions it) by batched GMRES
    with the inexact-Newton forcing term ``eta = min(0.1, |tau F|_2)`` (so the
    convergence stays quadratic); only products ``J v`` are formed, except
    near a fixed point (``max|F| <= LU_NEAR_RESIDUAL``), where a system that
    GMRES has not solved is solved by LU.  A GMRES
    solution that does not reach ``eta`` still reduces ``|F + J d|`` below
    ``|F|`` and is a descent direction of ``q``; one that does not reduce it at
    all switches the candidate to Levenberg-Marquardt, whose normal equations
    ``((tau J)^T (tau J) + mu I) d = -(tau J)^T (tau F)`` are solved by CG,
    with ``mu = lam |tau J F|^2 / |F|^2`` (the Rayleigh quotient of
    ``J^T J`` along ``F`` sets the scale).  The line search and the damping
    rules are those of the dense iteration.
    """
    tau = field.tau
    F = field.F(x, ctx)
    q0 = 0.5 * (F * F).sum(-1)
    gain = field.gain(x, ctx)
    g = field.JTv_at(gain, F)  # J^T F, the gradient of q
    rhs = tau * F
    d = torch.zeros_like(x)
    newton = lam == 0
    if bool(newton.any()):
        idx = torch.nonzero(newton).squeeze(-1)
        gi = gain[idx]

        def op(v: Tensor, sel: Tensor) -> Tensor:  # (I - W_eff) v = -tau J v
            return -tau * field.Jv_at(gi[sel], v)

        eta = rhs[idx].norm(dim=-1).clamp(min=1e-12, max=0.1)
        sol = gmres(op, rhs[idx], rtol=eta, restart=min(KRYLOV_RESTART, x.shape[1]), max_restarts=KRYLOV_RESTARTS)
        step = sol.x
        useful = torch.isfinite(step).all(-1) & (sol.relres < 1.0 - 1e-6)
        near = torch.nonzero(~sol.converged & (F[idx].abs().amax(-1) <= LU_NEAR_RESIDUAL)).squeeze(-1)
        if near.numel():  # GMRES stalls near a fixed point: the exact Newton step (see LU_NEAR_RESIDUAL)
            exact, ok = _lu_steps(field, x[idx[near]], ctx[idx[near]], rhs[idx[near]], workers=workers)
            step = step.clone()
            step[near] = torch.where(ok.unsqueeze(-1), exact, step[near])
            useful[near] |= ok
        d[idx] = torch.where(useful.unsqueeze(-1), step, torch.zeros_like(step))
        lam = lam.clone()
        lam[idx] = torch.where(useful, lam[idx], torch.full_like(lam[idx], LAM0))
    lm = lam > 0
    if bool(lm.any()):
        idx = torch.nonzero(lm).squeeze(-1)
        gi = gain[idx]
        Fi = F[idx]
        JF = tau * field.Jv_at(gi, Fi)
        scale = ((JF * JF).sum(-1) / (Fi * Fi).sum(-1).clamp_min(1e-300)).clamp_min(1e-300)
        mu = lam[idx] * scale

        def normal(v: Tensor, sel: Tensor) -> Tensor:
            Jv = tau * field.Jv_at(gi[sel], v)
            return tau * field.JTv_at(gi[sel], Jv) + mu[sel, None] * v

        gs = (tau * tau) * g[idx]  # (tau J)^T (tau F)
        sol = cg(normal, -gs, rtol=1e-10, maxiter=min(4 * x.shape[1], 1000))
        grad_step = -gs / (scale + mu)[:, None]
        ok = torch.isfinite(sol.x).all(-1) & ((sol.x * gs).sum(-1) < 0)
        d[idx] = torch.where(ok.unsqueeze(-1), sol.x, grad_step)
    x_new, lam_new, _, _, _ = _line_search(field, x, ctx, d, g, q0, lam, max_step=max_step, n_backtrack=n_backtrack)
    return x_new, lam_new


def _line_search(
    field: Field, x: Tensor, ctx: Tensor, d: Tensor, g: Tensor, q0: Tensor, lam: Tensor, *, max_step: Tensor,
    n_backtrack: int,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Cap the steps ``d``, backtrack on ``q`` (Armijo) and update the damping.

    Returns the new ``x``, the new ``lam``, whether a step was taken, which
    step length (0: the full step) and ``F`` at the full step.
    """
    m = x.shape[0]
    # cap the step (max-norm) at max_step
    size = d.abs().amax(-1)
    d = d * torch.clamp(max_step / size.clamp_min(1e-300), max=1.0).unsqueeze(-1)
    slope = (g * d).sum(-1)
    # the full step first (it is taken almost always); the shorter ones only where it fails
    x_full = x + d
    F_full = field.F(x_full, ctx)
    q_full = 0.5 * (F_full * F_full).sum(-1)
    full_ok = (q_full <= q0 + ARMIJO * slope) & torch.isfinite(q_full) & (slope < 0)
    x_new = torch.where(full_ok.unsqueeze(-1), x_full, x)
    any_ok = full_ok.clone()
    first = torch.zeros(m, dtype=torch.long, device=x.device)
    retry = torch.nonzero(~full_ok & (slope < 0)).squeeze(-1)
    if n_backtrack > 1 and retry.numel():
        r = retry.numel()
        alphas = 0.5 ** torch.arange(1, n_backtrack, dtype=x.dtype, device=x.device)  # (k-1,)
        x_try = x[retry].unsqueeze(0) + alphas[:, None, None] * d[retry].unsqueeze(0)  # (k-1, r, n)
        F_try = field.F(x_try, ctx[retry].unsqueeze(0).expand(n_backtrack - 1, r))
        q_try = 0.5 * (F_try * F_try).sum(-1)  # (k-1, r)
        ok_try = (q_try <= q0[retry] + ARMIJO * alphas[:, None] * slope[retry]) & torch.isfinite(q_try)
        hit = ok_try.any(0)
        pick = torch.argmax(ok_try.to(torch.int8), dim=0)  # first True (0 if none)
        x_new[retry] = torch.where(hit.unsqueeze(-1), x_try[pick, torch.arange(r, device=x.device)], x[retry])
        any_ok[retry] = hit
        first[retry] = pick + 1
    # damping update: grow on failure, shrink on success, back to Newton below LAM_MIN
    lam_new = torch.where(any_ok, lam / 10.0, torch.clamp(lam * 10.0, min=LAM0))
    lam_new = torch.where(lam_new < LAM_MIN, torch.zeros_like(lam_new), lam_new)
    return x_new, lam_new, any_ok, first, F_full


def newton_solve(
    field: Field,
    x0: Tensor,
    ctx: Tensor,
    *,
    tol: float,
    max_iter: int,
    max_step: Tensor | float,
    workers: int = 1,
    n_backtrack: int = 12,
    chord_steps: int = 2,
    known_x: Tensor | None = None,
    known_ctx: Tensor | None = None,
    snap_rtol: float = 0.0,
    patience: int = 8,
    solver: str = "dense",
) -> NewtonResult:
    """Damped Newton / LM from each row of ``x0`` until ``max|F| <= tol``.

    Parameters
    ----------
    field : Field
    x0 : Tensor of shape (m, unit)
        Starting states, float64.
    ctx : Tensor of shape (m,), long
        Context index of each candidate.
    tol : float
        Convergence threshold on ``max|F|``, state units per ms.
    max_iter : int
        Maximum iterations (factorisations) per candidate.
    max_step : Tensor of shape (m,) or float
        Largest step (max-norm), state units.
    workers : int
        Python threads for the chunks.
    n_backtrack : int
        Step lengths tried by the line search.
    chord_steps : int
        Chord steps after each full Newton step.
    known_x, known_ctx : Tensor of shape (k, unit) and (k,), optional
        Fixed points already found (converged to ``tol``).
    snap_rtol : float
        When > 0, a candidate that comes within ``snap_rtol * (1 + |x|_max)``
        (max-norm) of a known fixed point of its context, or of one that
        converged earlier in this call, is taken to converge to it: it stops
        and is reported at that point (this saves the last iterations of
        the many candidates that lead to the same fixed point).
    patience : int
        A candidate whose ``q`` has not fallen below half its value of
        ``patience`` iterations before stops (it is stuck near a local minimum
        of ``q``: a slow point or a failure).

    Returns
    -------
    NewtonResult
    """
    m, n = x0.shape
    x = x0.clone()
    ctx = ctx.to(torch.long)
    if not isinstance(max_step, Tensor):
        max_step = torch.full((m,), float(max_step), dtype=x.dtype, device=x.device)
    lam = torch.zeros(m, dtype=x.dtype, device=x.device)
    active = torch.ones(m, dtype=torch.bool, device=x.device)
    n_iter = torch.zeros(m, dtype=torch.long, device=x.device)
    snapped = torch.zeros(m, dtype=torch.bool, device=x.device)
    q_ref = torch.full((m,), float("inf"), dtype=x.dtype, device=x.device)
    it_ref = torch.zeros(m, dtype=torch.long, device=x.device)
    ref_x = x.new_zeros((0, n)) if known_x is None else known_x
    ref_c = ctx.new_zeros(0) if known_ctx is None else known_ctx.to(torch.long)
    for _ in range(max_iter + 1):
        idx = torch.nonzero(active).squeeze(-1)
        if idx.numel() == 0:
            break
        F = field.F(x[idx], ctx[idx])
        res = F.abs().amax(-1)
        conv = res <= tol
        if snap_rtol > 0:
            if bool(conv.any()):
                ref_x = torch.cat([ref_x, x[idx[conv]]])
                ref_c = torch.cat([ref_c, ctx[idx[conv]]])
            if ref_x.shape[0] and bool((~conv).any()):
                open_ = idx[~conv]
                near = match(x[open_], ctx[open_], ref_x, ref_c, rtol=snap_rtol)
                hit = near >= 0
                x[open_[hit]] = ref_x[near[hit]]
                snapped[open_[hit]] = True
                conv[torch.nonzero(~conv).squeeze(-1)[hit]] = True
        q_now = 0.5 * (F * F).sum(-1)
        progress = q_now < 0.5 * q_ref[idx]
        q_ref[idx[progress]] = q_now[progress]
        it_ref[idx[progress]] = n_iter[idx[progress]]
        stuck = n_iter[idx] - it_ref[idx] >= patience
        done = conv | ~torch.isfinite(res) | (lam[idx] > LAM_MAX) | (n_iter[idx] >= max_iter) | stuck
        active[idx[done]] = False
        idx = idx[~done]
        if idx.numel() == 0:
            break
        if solver == "krylov":
            x[idx], lam[idx] = _iterate_krylov(field, x[idx], ctx[idx], lam[idx], max_step=max_step[idx],
                                               n_backtrack=n_backtrack, workers=workers)
            n_iter[idx] += 1
            continue
        # contiguous chunks, independent candidates
        parts = chunks(idx.numel(), n, min_chunks=workers)

        def run(sl: slice, idx: Tensor = idx) -> tuple[Tensor, Tensor]:
            sub = idx[sl]
            return _iterate(field, x[sub], ctx[sub], lam[sub], max_step=max_step[sub],
                            n_backtrack=n_backtrack, chord_steps=chord_steps)

        results = map_chunks(run, parts, workers)
        for sl, (xs, ls) in zip(parts, results):
            sub = idx[sl]
            x[sub] = xs
            lam[sub] = ls
        n_iter[idx] += 1
    F = field.F(x, ctx)
    residual = F.abs().amax(-1)
    q = 0.5 * (F * F).sum(-1)
    converged = residual <= tol
    return NewtonResult(x=x, residual=residual, q=q, converged=converged, n_iter=n_iter, snapped=snapped)
