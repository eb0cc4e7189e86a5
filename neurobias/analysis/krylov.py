"""Matrix-free linear algebra for large circuits: batched GMRES and CG, leading eigenvalues.

Newton's method for ``F(x) = 0`` needs ``J(x)^{-1} F(x)``; the dense path
(:mod:`neurobias.analysis._newton`) factorises ``J``, which costs ``O(unit^3)``
per step and per candidate.  Here the same steps are solved with Krylov
methods that only need products ``J v`` (:meth:`neurobias.circuit.Dynamics.jvp`,
one product with the weights, ``O(unit^2)``), for a whole batch of
candidates at once, each with its own operator:

* :func:`gmres`: restarted GMRES (Saad and Schultz 1986) for ``A_b x_b = r_b``,
  ``b = 1..B``, with Arnoldi by classical Gram-Schmidt applied twice (CGS2,
  as accurate as modified Gram-Schmidt and one batched product per pass),
  Givens rotations for the running residual, and a relative tolerance per
  system.  A system leaves the batch as soon as its residual estimate is
  below ``rtol |r_b|``; after each cycle the true residual is recomputed.
* :func:`cg`: conjugate gradients for symmetric positive definite systems
  (the Levenberg-Marquardt normal equations ``(J^T J + mu I) d = -J^T F``).
* :func:`leading_eigenvalues`: the eigenvalues of largest real part (and
  their right eigenvectors) of one operator by implicitly restarted Arnoldi
  (ARPACK through :func:`scipy.sparse.linalg.eigs` and a
  :class:`scipy.sparse.linalg.LinearOperator`), with a count of the
  eigenvalues of positive real part that is exact: the number of modes
  computed doubles until the last one computed has a negative real part.

The preconditioning of the fixed-point problem is done by the caller: the
Jacobian of the flow is ``J = (-I + W_eff) / tau`` and its part ``-I / tau`` is
exactly invertible, so the systems solved are ``(I - W_eff) d = tau F``, whose
operator is the identity plus the effective connectivity (well conditioned
wherever ``J`` is).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from neurobias.errors import check_number, check_shape

__all__ = ["KrylovResult", "gmres", "cg", "leading_eigenvalues", "Leading"]

#: ``matvec(v, sel)``: the operators of the systems ``sel`` (long, (k,)) applied to ``v`` (k, n)
BatchedMatvec = Callable[[Tensor, Tensor], Tensor]


@dataclass
class KrylovResult:
    """Solutions of a batch of linear systems.

    Attributes
    ----------
    x : Tensor of shape (batch, n)
        The approximate solutions.
    converged : Tensor of shape (batch,), bool
        ``|r_b - A_b x_b| <= rtol |r_b|`` (2-norm).
    relres : Tensor of shape (batch,)
        ``|r_b - A_b x_b| / |r_b|`` (0 where ``r_b = 0``).
    n_matvec : int
        Products with the operators, summed over the batch.
    """

    x: Tensor
    converged: Tensor
    relres: Tensor
    n_matvec: int


def _check(b: Tensor, rtol: float | Tensor) -> None:
    check_shape("b", b, (None, None), dims=("batch", "n"))
    if isinstance(rtol, Tensor):
        for r in rtol.reshape(-1).tolist():
            check_number("rtol", r, gt=0, lt=1)
    else:
        check_number("rtol", rtol, gt=0, lt=1)


def gmres(
    matvec: BatchedMatvec,
    b: Tensor,
    *,
    rtol: float | Tensor,
    restart: int = 40,
    max_restarts: int = 10,
    x0: Tensor | None = None,
) -> KrylovResult:
    """Restarted GMRES for a batch of systems ``A_b x_b = b_b``, each with its own operator.

    Parameters
    ----------
    matvec : callable ``(v, sel) -> A_sel v``
        ``v`` of shape (k, n), ``sel`` the indices (long, (k,)) of the systems
        into the batch; returns shape (k, n).
    b : Tensor of shape (batch, n)
        Right-hand sides.
    rtol : float or Tensor of shape (batch,)
        Relative tolerance on the 2-norm of the residual, in (0, 1), for all
        systems or per system.
    restart : int
        Krylov dimension of one cycle.
    max_restarts : int
        Cycles at most.
    x0 : Tensor of shape (batch, n), optional
        Starting guesses (default zero).

    Returns
    -------
    KrylovResult
    """
    _check(b, rtol)
    B, n = b.shape
    restart = max(1, min(int(restart), n))
    x = torch.zeros_like(b) if x0 is None else x0.clone()
    b_norm = b.norm(dim=-1)
    rtol = torch.as_tensor(rtol, dtype=b.dtype, device=b.device)
    target = rtol * b_norm
    n_mv = 0
    all_idx = torch.arange(B, device=b.device)
    r = b - matvec(x, all_idx) if x0 is not None else b.clone()
    n_mv += B if x0 is not None else 0
    r_norm = r.norm(dim=-1)
    done = r_norm <= target
    for _ in range(max_restarts):
        act = torch.nonzero(~done).squeeze(-1)
        if act.numel() == 0:
            break
        x[act], used = _cycle(matvec, act, r[act], r_norm[act], target[act], x[act], restart)
        n_mv += used
        # the true residual after the cycle
        r[act] = b[act] - matvec(x[act], act)
        n_mv += act.numel()
        r_norm[act] = r[act].norm(dim=-1)
        done[act] = r_norm[act] <= target[act]
    relres = torch.where(b_norm > 0, r_norm / b_norm.clamp_min(1e-300), torch.zeros_like(r_norm))
    return KrylovResult(x=x, converged=done, relres=relres, n_matvec=n_mv)



def _cycle(
    matvec: BatchedMatvec, sel: Tensor, r: Tensor, beta: Tensor, target: Tensor, x: Tensor, m: int
) -> tuple[Tensor, int]:
    """One GMRES(m) cycle from residuals ``r`` (k, n); returns the updated ``x`` and the products used.

    The Givens rotations are accumulated in an orthogonal matrix ``Q`` per
    system (``Q H = R`` upper triangular), so a new Hessenberg column is
    rotated by one batched product; the residual norm is ``beta |Q[j+1, 0]|``.
    Systems whose residual estimate reaches ``target`` leave the cycle at once
    (their update is applied then); the rest are updated after ``m`` steps.
    """
    k, n = r.shape
    dev = r.device
    x = x.clone()
    V = r.new_zeros((k, m + 1, n))
    V[:, 0] = r / beta.clamp_min(1e-300)[:, None]
    R = r.new_zeros((k, m + 1, m))
    Q = torch.eye(m + 1, dtype=r.dtype, device=dev).repeat(k, 1, 1)
    live = torch.arange(k, device=dev)  # rows of this cycle still iterating
    used = 0
    for j in range(m):
        w = matvec(V[live, j], sel[live])
        used += live.numel()
        Vj = V[live, : j + 1]  # (l, j+1, n)
        h = torch.bmm(Vj, w.unsqueeze(-1)).squeeze(-1)  # CGS, first pass
        w = w - torch.bmm(h.unsqueeze(1), Vj).squeeze(1)
        h2 = torch.bmm(Vj, w.unsqueeze(-1)).squeeze(-1)  # second pass
        w = w - torch.bmm(h2.unsqueeze(1), Vj).squeeze(1)
        h = h + h2
        h_next = w.norm(dim=-1)
        V[live, j + 1] = w / torch.where(h_next > 0, h_next, torch.ones_like(h_next))[:, None]
        Ql = Q[live]
        col = torch.bmm(Ql[:, : j + 1, : j + 1], h.unsqueeze(-1)).squeeze(-1)  # earlier rotations
        a, bb = col[:, j], h_next
        rho = torch.hypot(a, bb)
        c = torch.where(rho > 0, a / rho.clamp_min(1e-300), torch.ones_like(rho))
        s = torch.where(rho > 0, bb / rho.clamp_min(1e-300), torch.zeros_like(rho))
        qa, qb = Ql[:, j].clone(), Ql[:, j + 1].clone()
        Ql[:, j] = c[:, None] * qa + s[:, None] * qb
        Ql[:, j + 1] = -s[:, None] * qa + c[:, None] * qb
        Q[live] = Ql
        col[:, j] = rho
        R[live, : j + 1, j] = col
        res = beta[live] * Ql[:, j + 1, 0].abs()
        stop = (res <= target[live]) | (rho <= 1e-14 * beta[live])  # converged, or (lucky) breakdown
        if j == m - 1:
            stop = torch.ones_like(stop)
        if bool(stop.any()):
            fin = live[stop]
            g = beta[fin, None] * Q[fin, : j + 1, 0]
            y = _back_substitute(R[fin, : j + 1, : j + 1], g)
            x[fin] = x[fin] + torch.bmm(y.unsqueeze(1), V[fin, : j + 1]).squeeze(1)
            live = live[~stop]
            if live.numel() == 0:
                break
    return x, used


def _back_substitute(R: Tensor, g: Tensor) -> Tensor:
    """Solve the upper triangular ``R y = g`` (batch), with zero pivots (breakdown) giving zero components."""
    diag = torch.diagonal(R, dim1=-2, dim2=-1)
    safe = diag.abs() > 1e-300
    Rs = R.clone()
    Rs.diagonal(dim1=-2, dim2=-1).copy_(torch.where(safe, diag, torch.ones_like(diag)))
    rhs = torch.where(safe, g, torch.zeros_like(g))
    return torch.linalg.solve_triangular(Rs, rhs.unsqueeze(-1), upper=True).squeeze(-1)


def cg(matvec: BatchedMatvec, b: Tensor, *, rtol: float, maxiter: int = 200) -> KrylovResult:
    """Conjugate gradients for a batch of symmetric positive definite systems ``A_b x_b = b_b``.

    Parameters
    ----------
    matvec : callable ``(v, sel) -> A_sel v``
        As in :func:`gmres`.
    b : Tensor of shape (batch, n)
    rtol : float
        Relative tolerance on the 2-norm of the residual, in (0, 1).
    maxiter : int
        Iterations at most.

    Returns
    -------
    KrylovResult
    """
    _check(b, rtol)
    B = b.shape[0]
    x = torch.zeros_like(b)
    r = b.clone()
    p = r.clone()
    rr = (r * r).sum(-1)
    b_norm = b.norm(dim=-1)
    target2 = (rtol * b_norm) ** 2
    done = rr <= target2
    n_mv = 0
    for _ in range(int(maxiter)):
        act = torch.nonzero(~done).squeeze(-1)
        if act.numel() == 0:
            break
        Ap = matvec(p[act], act)
        n_mv += act.numel()
        pAp = (p[act] * Ap).sum(-1)
        ok = pAp > 0
        alpha = torch.where(ok, rr[act] / pAp.where(ok, torch.ones_like(pAp)), torch.zeros_like(pAp))
        x[act] += alpha[:, None] * p[act]
        r_new = r[act] - alpha[:, None] * Ap
        rr_new = (r_new * r_new).sum(-1)
        beta = rr_new / rr[act].clamp_min(1e-300)
        p[act] = r_new + beta[:, None] * p[act]
        r[act] = r_new
        rr[act] = rr_new
        done[act] = (rr_new <= target2[act]) | ~ok
    relres = torch.where(b_norm > 0, rr.sqrt() / b_norm.clamp_min(1e-300), torch.zeros_like(rr))
    return KrylovResult(x=x, converged=relres <= rtol, relres=relres, n_matvec=n_mv)


@dataclass
class Leading:
    """Leading eigenvalues of one operator.

    Attributes
    ----------
    values : ndarray of shape (k,), complex128
        By real part descending (ties: imaginary part descending).
    vectors : ndarray of shape (n, k), complex128 or None
        Right eigenvectors as columns (unit 2-norm, largest-modulus entry real and positive).
    complete : bool
        The last value has a negative real part below ``-margin``, so every
        eigenvalue with real part ``>= -margin`` is among ``values``.
    """

    values: np.ndarray
    vectors: np.ndarray | None
    complete: bool


def leading_eigenvalues(
    matvec: Callable[[np.ndarray], np.ndarray],
    n: int,
    *,
    k: int = 8,
    margin: float = 0.0,
    vectors: bool = False,
    tol: float = 1e-12,
    dense: Callable[[], np.ndarray] | None = None,
    seed: int = 0,
) -> Leading:
    """The eigenvalues of largest real part of an ``n x n`` real operator, with an exact count of the unstable ones.

    ARPACK's implicitly restarted Arnoldi (``which="LR"``) computes ``k``
    modes; while the smallest real part among them is ``>= -margin`` (so an
    eigenvalue with real part above ``-margin`` might be missing), ``k``
    doubles.  When ``k`` would reach ``n - 2`` (ARPACK's limit) or ARPACK does
    not converge, ``dense()`` (the full matrix) is decomposed instead.

    Parameters
    ----------
    matvec : callable ndarray (n,) -> ndarray (n,)
    n : int
    k : int
        Modes to start with.
    margin : float
        Eigenvalues with real part above ``-margin`` are all returned (``>= 0``).
    vectors : bool
        Return right eigenvectors.
    tol : float
        ARPACK's relative accuracy.
    dense : callable () -> ndarray (n, n), optional
        The operator as a matrix, for the fall-back.
    seed : int
        Seed of ARPACK's starting vector (a deterministic result).

    Returns
    -------
    Leading
    """
    from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, LinearOperator, eigs

    op = LinearOperator((n, n), matvec=matvec, dtype=np.float64)
    v0 = np.random.default_rng(seed).standard_normal(n)
    k = max(1, int(k))
    while True:
        if k >= n - 2:
            break
        try:
            w, v = eigs(op, k=k, which="LR", tol=tol, v0=v0, ncv=min(n, max(2 * k + 1, k + 24)),
                        maxiter=max(1000, 10 * n), return_eigenvectors=True)
        except (ArpackNoConvergence, ArpackError):
            break
        order = np.lexsort((-w.imag, -w.real))
        w, v = w[order], v[:, order]
        if w.real[-1] < -margin or k >= n - 2:
            return Leading(values=w.astype(np.complex128), vectors=_normalise(v) if vectors else None,
                           complete=bool(w.real[-1] < -margin))
        k *= 2
    if dense is None:
        raise np.linalg.LinAlgError("leading eigenvalues: Arnoldi did not converge and no dense fall-back was given")
    A = dense()
    if vectors:
        w, v = np.linalg.eig(A)
    else:
        w, v = np.linalg.eigvals(A), None
    order = np.lexsort((-w.imag, -w.real))
    return Leading(values=w[order].astype(np.complex128),
                   vectors=_normalise(v[:, order]) if v is not None else None, complete=True)


def _normalise(V: np.ndarray) -> np.ndarray:
    V = V / np.where((nrm := np.linalg.norm(V, axis=0)) > 0, nrm, 1.0)
    big = np.argmax(np.abs(V), axis=0)
    pivot = V[big, np.arange(V.shape[1])]
    return V / np.where(np.abs(pivot) > 0, pivot / np.abs(pivot), 1.0)
