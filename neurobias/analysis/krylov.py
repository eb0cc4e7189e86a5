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
* :func:`leading_eigenvalues_batched`: the eigenvalues of largest real part
  (and their right eigenvectors) of a batch of operators by Krylov-Schur
  (thick-restarted Arnoldi, Stewart 2001) in real arithmetic, one batched
  product per step, with a count of the eigenvalues of positive real part
  that is exact unless Arnoldi misses an eigenvalue (see
  :func:`leading_eigenvalues_batched`): the number of modes computed doubles until the last one
  computed has a negative real part; :func:`leading_eigenvalues` is the same
  for one operator given as a function of a vector.

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

from neurobias.circuit.circuit import torch_dtype
from neurobias.errors import check_number, check_shape

__all__ = ["KrylovResult", "gmres", "cg", "leading_eigenvalues", "Leading", "leading_eigenvalues_batched", "LeadingBatch"]

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
        into the batch; returns shape (k, n), a new tensor (``v`` may be a
        view of the Krylov basis and must not be modified).
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


def _coefficients(Vj: Tensor, w: Tensor) -> Tensor:
    """The products ``Vj[b] @ w[b]`` (b, j) of vectors ``w`` (b, n) with the rows of bases ``Vj`` (b, j, n).

    Formed as ``w[b]^T Vj[b]^T`` (one row times a transposed factor): the same sums, but torch's CPU
    ``bmm`` takes 2.3x less time this way than as ``Vj @ w[:, :, None]``, measured on a Krylov basis of
    the fixed-point finder's shape (b, j, n) = (243, 45, 512), float64, 2 threads, median of 50: 1.55 ms
    against 3.54 ms (an elementwise product and sum, ``(Vj * w[:, None]).sum(-1)``, took 16.8 ms and NumPy's
    ``matmul`` 2.35 ms).
    """
    return torch.bmm(w.unsqueeze(1), Vj.transpose(1, 2)).squeeze(1)


def _orthogonalise(Vj: Tensor, w: Tensor) -> tuple[Tensor, Tensor]:
    """Classical Gram-Schmidt twice: ``w`` (b, n) against the orthonormal rows of ``Vj`` (b, j, n).

    Returns the coefficients ``h`` (b, j) of ``w`` on the rows and the remainder ``w - Vj^T h`` (b, n).  The
    second pass is subtracted from the first pass's remainder (not the summed coefficients from ``w``), so
    that it removes the rounding that the first subtraction left along the rows.
    """
    h = _coefficients(Vj, w)
    w = w - torch.bmm(h.unsqueeze(1), Vj).squeeze(1)
    h2 = _coefficients(Vj, w)
    return h + h2, w - torch.bmm(h2.unsqueeze(1), Vj).squeeze(1)


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
    # V, R, Q and the per-row quantities are compacted to the rows still iterating once a quarter of them has
    # left (a copy of the bases per departure cost more than the steps); until then the rows that left stay in
    # place with a zero new vector (their products are not formed and they cannot leave twice)
    rows = torch.arange(k, device=dev)  # positions in the inputs of the rows of V, R, Q
    alive = torch.ones(k, dtype=torch.bool, device=dev)
    beta_l, target_l, sel_l = beta, target, sel
    used = 0
    for j in range(m):
        act = torch.nonzero(alive).squeeze(-1)
        if act.numel() == alive.numel():
            w = matvec(V[:, j].contiguous(), sel_l)
        else:
            w = torch.zeros_like(V[:, j])
            w[act] = matvec(V[act, j], sel_l[act])
        used += act.numel()
        Vj = V[:, : j + 1]  # (l, j+1, n)
        h, w = _orthogonalise(Vj, w)
        h_next = w.norm(dim=-1)
        V[:, j + 1] = w / torch.where(h_next > 0, h_next, torch.ones_like(h_next))[:, None]
        col = torch.bmm(Q[:, : j + 1, : j + 1], h.unsqueeze(-1)).squeeze(-1)  # earlier rotations
        a, bb = col[:, j], h_next
        rho = torch.hypot(a, bb)
        c = torch.where(rho > 0, a / rho.clamp_min(1e-300), torch.ones_like(rho))
        s = torch.where(rho > 0, bb / rho.clamp_min(1e-300), torch.zeros_like(rho))
        qa, qb = Q[:, j].clone(), Q[:, j + 1].clone()
        Q[:, j] = c[:, None] * qa + s[:, None] * qb
        Q[:, j + 1] = -s[:, None] * qa + c[:, None] * qb
        col[:, j] = rho
        R[:, : j + 1, j] = col
        res = beta_l * Q[:, j + 1, 0].abs()
        stop = (res <= target_l) | (rho <= 1e-14 * beta_l)  # converged, or (lucky) breakdown
        if j == m - 1:
            stop = torch.ones_like(stop)
        stop &= alive
        if bool(stop.any()):
            fin = torch.nonzero(stop).squeeze(-1)
            g = beta_l[fin, None] * Q[fin, : j + 1, 0]
            y = _back_substitute(R[fin, : j + 1, : j + 1], g)
            x[rows[fin]] = x[rows[fin]] + torch.bmm(y.unsqueeze(1), V[fin, : j + 1]).squeeze(1)
            alive &= ~stop
            n_alive = int(alive.sum())
            if n_alive == 0:
                break
            if 4 * n_alive <= 3 * alive.numel():
                keep = torch.nonzero(alive).squeeze(-1)
                V, R, Q = V[keep], R[keep], Q[keep]
                beta_l, target_l, sel_l, rows = beta_l[keep], target_l[keep], sel_l[keep], rows[keep]
                alive = alive[keep]
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
    """The eigenvalues of largest real part of one ``n x n`` real operator, with a count of the unstable ones.

    :func:`leading_eigenvalues_batched` for a batch of one: ``k`` modes by
    Krylov-Schur; while the smallest real part among them is ``>= -margin``
    (so an eigenvalue with real part above ``-margin`` might be missing),
    ``k`` doubles; ``dense()`` (the full matrix) is decomposed instead when
    ``k`` would reach ``n - 2`` or Arnoldi does not settle.

    Parameters
    ----------
    matvec : callable ndarray (n,) -> ndarray (n,)
    n : int
    k : int
        Modes to start with.
    margin : float
        Eigenvalues with real part above ``-margin`` are all returned (``>= 0``).
    vectors : bool
        Return right eigenvectors (of every value returned).
    tol : float
        Relative residual of a converged Ritz pair.
    dense : callable () -> ndarray (n, n), optional
        The operator as a matrix, for the fall-back (default: built from
        ``n`` products).
    seed : int
        Seed of the starting vector (a deterministic result).

    Returns
    -------
    Leading
    """
    def mv(v: Tensor, sel: Tensor) -> Tensor:
        return torch.stack([torch.as_tensor(np.asarray(matvec(row.numpy()), dtype=np.float64)) for row in v])

    def mats(sel: Tensor) -> Tensor:
        return torch.as_tensor(np.asarray(dense(), dtype=np.float64))[None]

    mats_or_none = None if dense is None else mats
    k = max(1, min(int(k), n))
    lead = leading_eigenvalues_batched(mv, 1, n, k=k, margin=margin, n_vectors=k if vectors else 0, tol=tol,
                                       dense=mats_or_none, seed=seed)
    count = int(lead.n_values[0])
    if vectors and count > k:  # k doubled: the vectors of every value returned, now that their number is known
        lead = leading_eigenvalues_batched(mv, 1, n, k=count, margin=margin, n_vectors=count, tol=tol,
                                           dense=mats_or_none, seed=seed)
        count = int(lead.n_values[0])
    values = lead.values[0, :count]
    vecs = None if lead.vectors is None else lead.vectors[0][:, :count]
    return Leading(values=values, vectors=vecs, complete=bool(values.real[-1] < -margin or count == n))


def _normalise(V: np.ndarray) -> np.ndarray:
    V = V / np.where((nrm := np.linalg.norm(V, axis=0)) > 0, nrm, 1.0)
    big = np.argmax(np.abs(V), axis=0)
    pivot = V[big, np.arange(V.shape[1])]
    return V / np.where(np.abs(pivot) > 0, pivot / np.abs(pivot), 1.0)


@dataclass
class LeadingBatch:
    """Leading eigenvalues of a batch of operators (:func:`leading_eigenvalues_batched`).

    Attributes
    ----------
    values : ndarray of shape (batch, k_max), complex128
        Per operator by real part descending (ties: imaginary part
        descending); NaN beyond ``n_values[b]``.
    vectors : ndarray of shape (batch, n, n_vectors), complex128 or None
        Right eigenvectors of the first ``n_vectors`` values as columns (unit
        2-norm, largest-modulus entry real and positive).
    n_values : ndarray of shape (batch,), int
        Values computed per operator: the last has a real part below
        ``-margin``, or all ``n`` were computed (dense).
    n_matvec : int
        Products with the operators (one per operator and Arnoldi step).
    n_dense : int
        Operators decomposed densely (``dense``) because Arnoldi did not settle.
    """

    values: np.ndarray
    vectors: np.ndarray | None
    n_values: np.ndarray
    n_matvec: int
    n_dense: int


def leading_eigenvalues_batched(
    matvec: BatchedMatvec,
    batch: int,
    n: int,
    *,
    k: int = 8,
    margin: float = 0.0,
    n_vectors: int = 0,
    tol: float = 1e-12,
    dense: Callable[[Tensor], Tensor] | None = None,
    seed: int = 0,
    dtype: str = "float64",
    device: torch.device | str = "cpu",
    max_restarts: int = 200,
    max_bytes: int = 1 << 28,
    restart: int = 0,
) -> LeadingBatch:
    """The eigenvalues of largest real part of a batch of real ``n x n`` operators, with counts of the unstable ones.

    Krylov-Schur (Stewart 2001) run on the whole batch at once: one batched
    product per Arnoldi step for all operators (a matrix-matrix product when
    the operators share a weight matrix), classical Gram-Schmidt applied
    twice (a breakdown, i.e. an invariant Krylov space, continues from a
    fresh random direction), and after every cycle of ``m`` steps a thick
    restart that keeps the ``(m + k) / 2`` leading Schur vectors of the
    projected matrix (real Schur form, reordered by LAPACK's ``dtrsen``, so
    the kept subspace is invariant to rounding and everything stays in real
    arithmetic; keeping only the ``k`` wanted ones converged several times
    slower on random spectra).  The leading Schur vectors of the ``k`` wanted
    values have converged when the residual row of the Krylov-Schur relation
    on them has a 2-norm of at most ``tol`` times the largest modulus among
    those values (at least 1); the operator then leaves the batch.  ``k``
    doubles for the operators whose ``k``-th value has a real part
    ``>= -margin``, so that every eigenvalue with real part above
    ``-margin`` that Arnoldi sees is returned.  (A single starting vector can
    miss members of a repeated eigenvalue, as ARPACK can; on the random and
    reference circuits tested, the counts of unstable eigenvalues agree with
    LAPACK's.)  An operator that would need ``k >= n - 2``, a Krylov space of
    more than half the space, or more than ``max_restarts`` cycles is
    decomposed densely.

    Parameters
    ----------
    matvec : callable ``(v, sel) -> A_sel v``
        ``v`` real of shape (j, n), ``sel`` (long, (j,)) the operators' indices.
    batch, n : int
        Operators and their size.
    k : int
        Values wanted at first.
    margin : float
        Every eigenvalue with real part above ``-margin`` is returned (``>= 0``).
    n_vectors : int
        Right eigenvectors returned per operator (of the first values).
    tol : float
        Relative residual of a converged Ritz pair.
    dense : callable ``sel -> Tensor (j, n, n)``, optional
        The operators as matrices, for the fall-back (default: built from
        ``n`` products with the unit vectors).
    seed : int
        Seed of the (shared, real) starting vector: a deterministic result.
    dtype : {"float64", "float32"}
        Of the vectors given to ``matvec``.
    device : str or torch.device
        Of the vectors given to ``matvec``.
    max_restarts : int
        Cycles at most before the dense fall-back.
    max_bytes : int
        Memory for the Krylov bases; larger batches run in chunks.
    restart : int
        Krylov dimension of one cycle, at least (default: ``max(2 k + 1,
        k + 24)``, which it never goes below; ``restart`` itself is capped at
        ``n // 2``).  Crowded spectra (the edge of a random circuit's bulk)
        converge in fewer products with a larger one.

    Returns
    -------
    LeadingBatch
    """
    check_number("k", k, ge=1, integer=True)
    check_number("margin", margin, ge=0)
    check_number("n_vectors", n_vectors, ge=0, integer=True)
    check_number("restart", restart, ge=0, integer=True)
    n_vectors = int(n_vectors)
    k = max(int(k), n_vectors)  # the vectors belong to computed values
    want = np.full(batch, k)
    results: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}
    n_mv = 0
    n_dense = 0
    todo = np.arange(batch)
    tdtype = torch_dtype(dtype)
    v0 = torch.as_tensor(np.random.default_rng(seed).standard_normal(n), dtype=tdtype, device=device)
    while todo.size:
        kk = int(want[todo[0]])
        group = todo[want[todo] == kk]
        rest = todo[want[todo] != kk]
        # ``restart`` is capped at half the space, so that asking for long cycles never sends a small operator
        # to the dense fall-back below by itself
        m = min(n - 1, max(2 * kk + 1, kk + 24, min(int(restart), n // 2)))
        if kk >= n - 2 or 2 * m > n:  # a Krylov space of more than half the space: the dense decomposition is cheaper
            fallback = group
        else:
            per = max(1, int(max_bytes // (v0.element_size() * (m + 1) * n)))
            fallback = []
            for s in range(0, group.size, per):
                sel = group[s:s + per]
                vals, vecs, ok, used = _krylov_schur(matvec, torch.as_tensor(sel, device=device), n, kk, m,
                                                     n_vectors, tol, v0, max_restarts)
                n_mv += used
                for i, b in enumerate(sel):
                    if not ok[i]:
                        fallback.append(b)
                    elif vals[i, -1].real < -margin:
                        results[int(b)] = (vals[i], None if vecs is None else vecs[i])
                    else:
                        want[b] = 2 * kk
                        rest = np.append(rest, b)
            fallback = np.asarray(fallback, dtype=np.int64)
        if fallback.size:
            n_dense += fallback.size
            fb = torch.as_tensor(fallback, device=device)
            if dense is not None:
                mats = dense(fb).detach().cpu().numpy()
            else:  # the matrices from n products each: A e_i is the column i
                eye = torch.eye(n, dtype=tdtype, device=device)
                mats = np.stack([matvec(eye, fb[i].repeat(n)).detach().cpu().numpy().T
                                 for i in range(fallback.size)])
            for b, A in zip(fallback, mats):
                w, v = (np.linalg.eig(A) if n_vectors else (np.linalg.eigvals(A), None))
                order = np.lexsort((-w.imag, -w.real))
                results[int(b)] = (w[order], None if v is None else _normalise(v[:, order])[:, :n_vectors])
        todo = np.sort(rest)
    k_max = max((len(v) for v, _ in results.values()), default=0)
    values = np.full((batch, k_max), np.nan + 0j)
    vectors = np.zeros((batch, n, n_vectors), np.complex128) if n_vectors else None
    n_values = np.zeros(batch, dtype=np.int64)
    for b, (w, v) in results.items():
        values[b, :len(w)] = w
        n_values[b] = len(w)
        if vectors is not None and v is not None:
            vectors[b, :, :min(n_vectors, v.shape[1])] = v[:, :n_vectors]
    return LeadingBatch(values=values, vectors=vectors, n_values=n_values, n_matvec=n_mv, n_dense=n_dense)


def _keep_order(re: float, im: float) -> int:
    """The selection callback of ``dgees`` when nothing is sorted."""
    return 0


class _Unordered(Exception):
    """No usable ordered Schur form: LAPACK's ``dgees`` did not converge, or ``dtrsen`` could not reorder."""


#: a new Arnoldi vector smaller than this fraction of ``A v_j`` means breakdown (an invariant subspace)
BREAKDOWN_RTOL = 1e-10


def _krylov_schur(
    matvec: BatchedMatvec, sel: Tensor, n: int, k: int, m: int, n_vectors: int, tol: float, v0: Tensor,
    max_restarts: int,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, int]:
    """Krylov-Schur in real arithmetic for the operators ``sel``.

    Returns the ``k`` leading values (j, k), Ritz vectors (j, n, n_vectors),
    settled (j,) and the number of products.  After each cycle the projected
    matrix ``H_m`` of every operator is brought to real Schur form with its
    wanted eigenvalues first and the next ones after them (``dtrsen`` twice;
    it keeps the order of the selected ones and never splits a complex pair,
    so a selection of ``s`` values may hold ``s + 1``).  The leading Schur
    vectors of the wanted values have converged when the residual row
    ``b = h_{m+1,m} e_m^T Z`` is below ``tol`` times the largest wanted
    eigenvalue modulus (at least 1) on them; that operator then leaves the
    batch with its values and Ritz vectors.  The others restart from their
    ``keep`` (or ``keep + 1``) leading Schur vectors; those that kept
    ``keep`` take one Arnoldi step alone, so that every operator of the
    batch goes on from the same column.
    """
    from scipy.linalg.lapack import dgees, dtrsen

    total = sel.numel()
    dev, dt = v0.device, v0.dtype
    out_vals = np.full((total, k), np.nan + 0j)
    out_vecs = np.zeros((total, n, n_vectors), np.complex128) if n_vectors else None
    settled_all = np.zeros(total, dtype=bool)
    live = np.arange(total)  # positions (into sel) still iterating
    V = torch.zeros((total, m + 1, n), dtype=dt, device=dev)
    V[:, 0] = v0 / v0.norm()
    H = np.zeros((total, m + 1, m))
    used = 0
    keep = min((m + k) // 2, m - 2)  # at least one Arnoldi step per cycle, even for a row that keeps keep + 1
    lwork = max(3 * m, int(dgees(_keep_order, np.eye(m), lwork=-1)[5][0]))  # LAPACK's optimal workspace

    def expand(j: int, rows: Tensor | None, idx: Tensor) -> None:
        """One Arnoldi step from column ``j`` (CGS2) for all live rows, or for ``rows`` only."""
        Vr = V if rows is None else V[rows]
        w = matvec(Vr[:, j].contiguous(), idx if rows is None else idx[rows])
        Vj = Vr[:, : j + 1]
        size = w.norm(dim=-1)
        h, w = _orthogonalise(Vj, w)
        hn = w.norm(dim=-1)
        broke = hn <= BREAKDOWN_RTOL * size
        if bool(broke.any()):
            # the Krylov space is invariant (e.g. a low-rank effective connectivity): the relation holds with
            # h_{j+1,j} = 0, and Arnoldi goes on from a fresh random direction orthogonal to the basis (as
            # ARPACK's dgetv0 does)
            hn = torch.where(broke, torch.zeros_like(hn), hn)
            gen = torch.Generator(device="cpu").manual_seed(7919 * (j + 1) + int(broke.sum()))
            fresh = torch.randn(w.shape, generator=gen, dtype=w.dtype).to(w.device)
            fresh = _orthogonalise(Vj, fresh)[1]
            w = torch.where(broke[:, None], fresh, w)
        w = w / w.norm(dim=-1).clamp_min(1e-300)[:, None]
        r = slice(None) if rows is None else rows.cpu().numpy()
        if rows is None:
            V[:, j + 1] = w
        else:
            V[rows, j + 1] = w
        H[r, : j + 1, j] = h.cpu().numpy()
        H[r, j + 1, j] = hn.cpu().numpy()

    def ordered(Hb: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int, float]:
        """Real Schur form of one projected matrix, wanted values first.

        Returns the form, its Schur vectors, the sizes of the two leading sets and the largest modulus
        among the wanted values (at least 1), the scale of the convergence test.  LAPACK's ``dgees`` and
        ``dtrsen`` are called directly: both return the eigenvalues in the order of the diagonal, which
        the selections read (0.55 ms per 48 x 48 matrix against 0.63 ms through ``scipy.linalg.schur``
        and the eigenvalues read off its diagonal blocks, the same forms to 1e-10).

        Raises
        ------
        _Unordered
            ``dgees`` did not converge, ``dtrsen`` could not reorder, or a selection grew by more than the
            partner of one split complex pair (equal real parts of two pairs); the operator then goes dense.
        """
        T, _, wr, wi, Q, _, info = dgees(_keep_order, Hb, compute_v=1, sort_t=0, lwork=lwork)
        if info != 0:  # the QR algorithm did not converge: this operator goes dense
            raise _Unordered
        d = wr + 1j * wi
        sizes = []
        scale = 1.0
        for size in (keep, k):  # the larger set first, then its leading part (order kept among selected)
            select = np.zeros(m, dtype=np.int32)
            select[np.lexsort((-d.imag, -d.real))[:size]] = 1
            T, Q, wr, wi, got, _, _, info = dtrsen(select, T, Q, job="N", overwrite_t=1, overwrite_q=1)
            if info != 0 or got > size + 1:  # an ill-conditioned swap, or two pairs split: this operator goes dense
                raise _Unordered
            sizes.append(int(got))
            # the wanted values (the partner of a complex pair that dtrsen adds has the same modulus)
            scale = max(float(np.abs(d[select == 1]).max()), 1.0)
            d = wr + 1j * wi
        return T, Q, sizes[0], sizes[1], scale

    def finish(rows: np.ndarray, Z: np.ndarray, T: np.ndarray, kb: np.ndarray) -> None:
        """Values and Ritz vectors of the leading Schur vectors of ``rows`` (of the live batch)."""
        for r in rows:
            theta, S = np.linalg.eig(T[r, :kb[r], :kb[r]])
            order = np.lexsort((-theta.imag, -theta.real))[:k]
            theta, S = theta[order], S[:, order]
            b = live[r]
            out_vals[b] = theta
            if out_vecs is not None:
                coef = Z[r, :, :kb[r]] @ S[:, :n_vectors]  # (m, n_vectors), complex
                Vm = V[r, :m].cpu().numpy()
                out_vecs[b] = _normalise(Vm.T @ coef)

    start = 0
    for cycle in range(max_restarts):
        idx = sel[torch.as_tensor(live, device=dev)]
        for j in range(start, m):
            expand(j, None, idx)
            used += live.size
        j_n = live.size
        Z = np.zeros((j_n, m, m))
        T = np.zeros((j_n, m, m))
        pb = np.zeros(j_n, dtype=np.int64)
        kb = np.zeros(j_n, dtype=np.int64)
        failed = np.zeros(j_n, dtype=bool)
        scale = np.ones(j_n)
        np.asarray_chkfinite(H[:, : m + 1, :m])  # a non-finite product is an error, not a Schur form
        for b in range(j_n):
            try:
                T[b], Z[b], pb[b], kb[b], scale[b] = ordered(H[b, :m, :m])
            except _Unordered:
                failed[b] = True
                T[b], Z[b], pb[b], kb[b] = np.eye(m), np.eye(m), keep, k
        bottom = np.einsum("bi,bik->bk", H[:, m, :m], Z)  # (j, m): the residual row in the Schur basis
        lead = np.arange(m)[None, :] < kb[:, None]  # the wanted values' Schur vectors
        done = np.sqrt((np.where(lead, bottom, 0.0) ** 2).sum(-1)) <= tol * scale
        done &= ~failed
        last = cycle == max_restarts - 1
        rows = np.flatnonzero(~failed) if last else np.flatnonzero(done)
        if rows.size:
            finish(rows, Z, T, kb)
            settled_all[live[np.flatnonzero(done)]] = True
        if (done | failed).all() or last:
            break
        stay = np.flatnonzero(~done & ~failed)  # failed rows leave unsettled: the caller decomposes them densely
        if stay.size < live.size:
            st = torch.as_tensor(stay, device=dev)
            V, H, live, Z, T, bottom, pb = V[st], H[stay], live[stay], Z[stay], T[stay], bottom[stay], pb[stay]
        # thick restart from the leading Schur vectors (keeping only the k wanted ones converged several
        # times slower on random spectra); rows that kept ``keep`` of them take one step alone
        Zt = torch.as_tensor(Z[:, :, :keep + 1], dtype=dt, device=dev)
        U = torch.bmm(Zt.transpose(1, 2), V[:, :m])
        vm = V[:, m].clone()
        V[:, : keep + 1] = U
        V[:, keep + 1:] = 0
        short = pb == keep
        H[:] = 0
        kp = keep + 1
        first = np.arange(kp)[None, :] < pb[:, None]  # (j, keep + 1): the kept positions of each row
        H[:, :kp, :kp] = np.where(first[:, :, None] & first[:, None, :], T[:, :kp, :kp], 0.0)
        H[np.arange(live.size), pb, :kp] = np.where(first, bottom[:, :kp], 0.0)
        st_short = torch.as_tensor(np.flatnonzero(short), device=dev)
        st_long = torch.as_tensor(np.flatnonzero(~short), device=dev)
        V[st_short, keep] = vm[st_short]
        V[st_long, keep + 1] = vm[st_long]
        idx = sel[torch.as_tensor(live, device=dev)]
        if st_short.numel():
            expand(keep, st_short, idx)
            used += int(st_short.numel())
        start = keep + 1
    return out_vals, out_vecs, settled_all, used
